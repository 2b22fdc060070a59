/* net-io: the guest side of the broker's virtio-net QEMU test.
 * "echo HOST PORT IN OUT": send IN to HOST:PORT while writing what comes back to OUT;
 *   half-close after IN, stop at the peer's EOF.
 * "serve PORT IN": accept one TCP connection, send IN, close.
 * "send HOST PORT MIB": send MIB MiB to HOST:PORT, close (benchmark).
 * "sink PORT": accept one connection, read to EOF, print bytes, seconds and MB/s. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char in_buf[1 << 16], out_buf[1 << 16];

static int echo(const char* host, int port, const char* in_path, const char* out_path) {
    int in = open(in_path, O_RDONLY), out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    inet_pton(AF_INET, host, &a.sin_addr);
    if (in < 0 || out < 0 || s < 0 || connect(s, (struct sockaddr*)&a, sizeof(a)) != 0) {
        perror("net-io echo");
        return 1;
    }
    ssize_t pending = 0, off = 0;
    int sending = 1;
    for (;;) {
        if (sending && pending == off) {
            pending = read(in, in_buf, sizeof(in_buf));
            off = 0;
            if (pending <= 0) {
                shutdown(s, SHUT_WR);
                sending = 0;
            }
        }
        struct pollfd p = {s, (short)(POLLIN | (sending ? POLLOUT : 0)), 0};
        if (poll(&p, 1, 30000) <= 0) {
            fprintf(stderr, "net-io echo: timeout\n");
            return 1;
        }
        if (p.revents & POLLIN) {
            ssize_t n = read(s, out_buf, sizeof(out_buf));
            if (n == 0) {
                return sending ? 1 : 0;
            }
            if (n < 0 || write(out, out_buf, (size_t)n) != n) {
                perror("net-io echo read");
                return 1;
            }
        }
        if (sending && (p.revents & POLLOUT)) {
            ssize_t n = write(s, in_buf + off, (size_t)(pending - off));
            if (n < 0) {
                perror("net-io echo write");
                return 1;
            }
            off += n;
        }
    }
}

static int serve(int port, const char* in_path) {
    int in = open(in_path, O_RDONLY), s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    if (in < 0 || s < 0 || bind(s, (struct sockaddr*)&a, sizeof(a)) != 0 || listen(s, 1) != 0) {
        perror("net-io serve");
        return 1;
    }
    printf("SERVING %d\n", port);
    fflush(stdout);
    int c = accept(s, NULL, NULL);
    if (c < 0) {
        perror("net-io accept");
        return 1;
    }
    for (;;) {
        ssize_t n = read(in, in_buf, sizeof(in_buf));
        if (n <= 0) {
            break;
        }
        for (ssize_t o = 0; o < n;) {
            ssize_t w = write(c, in_buf + o, (size_t)(n - o));
            if (w <= 0) {
                perror("net-io serve write");
                return 1;
            }
            o += w;
        }
    }
    close(c);
    return 0;
}

static int send_mib(const char* host, int port, long mib) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    inet_pton(AF_INET, host, &a.sin_addr);
    if (s < 0 || connect(s, (struct sockaddr*)&a, sizeof(a)) != 0) {
        perror("net-io send");
        return 1;
    }
    memset(in_buf, 0x5a, sizeof(in_buf));
    for (long left = mib << 20; left > 0;) {
        ssize_t w = write(s, in_buf, left < (long)sizeof(in_buf) ? (size_t)left : sizeof(in_buf));
        if (w <= 0) {
            perror("net-io send write");
            return 1;
        }
        left -= w;
    }
    close(s);
    return 0;
}

static int sink(int port) {
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    if (s < 0 || bind(s, (struct sockaddr*)&a, sizeof(a)) != 0 || listen(s, 1) != 0) {
        perror("net-io sink");
        return 1;
    }
    int c = accept(s, NULL, NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long long total = 0;
    for (;;) {
        ssize_t n = read(c, out_buf, sizeof(out_buf));
        if (n <= 0) {
            break;
        }
        total += n;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("SINK bytes=%lld seconds=%.3f MBps=%.1f\n", total, secs, (double)total / secs / 1e6);
    return 0;
}

int main(int argc, char** argv) {
    if (argc == 5 && strcmp(argv[1], "send") == 0) {
        return send_mib(argv[2], atoi(argv[3]), atol(argv[4]));
    }
    if (argc == 3 && strcmp(argv[1], "sink") == 0) {
        return sink(atoi(argv[2]));
    }
    if (argc == 6 && strcmp(argv[1], "echo") == 0) {
        return echo(argv[2], atoi(argv[3]), argv[4], argv[5]);
    }
    if (argc == 4 && strcmp(argv[1], "serve") == 0) {
        return serve(atoi(argv[2]), argv[3]);
    }
    fprintf(stderr, "usage: net-io echo HOST PORT IN OUT | serve PORT IN | send HOST PORT MIB | "
                    "sink PORT\n");
    return 2;
}
