/* uds-recv: the host end of a guest-initiated vsock stream in the nested test (busybox
 * has no Unix-socket listener): listens on PATH (the broker's `<uds>_<port>`), accepts
 * one connection within TIMEOUT seconds and copies it to stdout until EOF.
 * usage: uds-recv PATH TIMEOUT */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: uds-recv PATH TIMEOUT\n");
        return 2;
    }
    struct sockaddr_un addr = {0};
    addr.sun_family = AF_UNIX;
    if (strlen(argv[1]) >= sizeof(addr.sun_path)) {
        fprintf(stderr, "uds-recv: path too long\n");
        return 2;
    }
    strcpy(addr.sun_path, argv[1]);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    unlink(argv[1]);
    if (s < 0 || bind(s, (struct sockaddr*)&addr, sizeof(addr)) < 0 || listen(s, 1) < 0) {
        perror("uds-recv listen");
        return 1;
    }
    alarm((unsigned)atoi(argv[2])); /* SIGALRM ends a wait for a guest that never comes */
    int c = accept(s, NULL, NULL);
    if (c < 0) {
        perror("uds-recv accept");
        return 1;
    }
    char buf[4096];
    ssize_t n;
    while ((n = read(c, buf, sizeof(buf))) > 0) {
        if (write(1, buf, (size_t)n) != n) {
            perror("uds-recv write");
            return 1;
        }
    }
    close(c);
    unlink(argv[1]);
    return n < 0 ? 1 : 0;
}
