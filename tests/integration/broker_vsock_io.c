/* vsock-io: the guest side of the broker's QEMU test (busybox has no vsock tool).
 * "listen PORT": accept one stream, copy it to stdout until EOF.
 * "connect CID PORT": copy stdin to the stream, half-close, wait for the peer's close. */
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static int copy(int from, int to) {
    static char buf[1 << 16];
    for (;;) {
        ssize_t n = read(from, buf, sizeof(buf));
        if (n == 0) return 0;
        if (n < 0) { perror("vsock-io read"); return 1; }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(to, buf + off, (size_t)(n - off));
            if (w <= 0) { perror("vsock-io write"); return 1; }
            off += w;
        }
    }
}

int main(int argc, char** argv) {
    int s = socket(AF_VSOCK, SOCK_STREAM, 0);
    if (s < 0) { perror("vsock-io socket"); return 1; }
    struct sockaddr_vm addr = {0};
    addr.svm_family = AF_VSOCK;
    if (argc == 3 && argv[1][0] == 'l') {
        addr.svm_cid = VMADDR_CID_ANY;
        addr.svm_port = (unsigned)atoi(argv[2]);
        if (bind(s, (struct sockaddr*)&addr, sizeof(addr)) < 0 || listen(s, 1) < 0) {
            perror("vsock-io listen"); return 1;
        }
        int c = accept(s, NULL, NULL);
        if (c < 0) { perror("vsock-io accept"); return 1; }
        int rc = copy(c, 1);
        close(c);
        return rc;
    }
    if (argc == 4 && argv[1][0] == 'c') {
        addr.svm_cid = (unsigned)atoi(argv[2]);
        addr.svm_port = (unsigned)atoi(argv[3]);
        if (connect(s, (struct sockaddr*)&addr, sizeof(addr)) < 0) {
            perror("vsock-io connect"); return 1;
        }
        int rc = copy(0, s);
        shutdown(s, SHUT_WR);
        char b[256];
        while (read(s, b, sizeof(b)) > 0) {}
        close(s);
        return rc;
    }
    fprintf(stderr, "usage: vsock-io listen PORT | connect CID PORT\n");
    return 2;
}
