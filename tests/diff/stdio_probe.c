// What a container process sees of its stdio, for runc and runvm to print alike: per fd 0-2
// the file type, access mode, isatty, the /proc/self/fd link's kind and the errno of the
// common tty ioctls (tini's tcsetpgrp among them); then how many bytes stdin held to EOF.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

static const char* result(int rc) {
    if (rc == 0) {
        return "ok";
    }
    const char* name = strerrorname_np(errno);
    return name != NULL ? name : "?";
}

static const char* file_type(int fd) {
    struct stat st;
    if (fstat(fd, &st) < 0) {
        return result(-1);
    }
    switch (st.st_mode & S_IFMT) {
    case S_IFIFO:
        return "fifo";
    case S_IFSOCK:
        return "socket";
    case S_IFCHR:
        return "chr";
    case S_IFREG:
        return "reg";
    default:
        return "other";
    }
}

static const char* access_mode(int fd) {
    const int fl = fcntl(fd, F_GETFL);
    if (fl < 0) {
        return result(-1);
    }
    switch (fl & O_ACCMODE) {
    case O_RDONLY:
        return (fl & O_NONBLOCK) != 0 ? "r,nonblock" : "r";
    case O_WRONLY:
        return (fl & O_NONBLOCK) != 0 ? "w,nonblock" : "w";
    default:
        return (fl & O_NONBLOCK) != 0 ? "rw,nonblock" : "rw";
    }
}

// "pipe:[123]" -> "pipe", "socket:[..]" -> "socket", "/dev/null" stays.
static void link_kind(int fd, char* out, size_t len) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    const ssize_t n = readlink(path, out, len - 1);
    out[n < 0 ? 0 : n] = '\0';
    if (n < 0) {
        snprintf(out, len, "%s", result(-1));
    }
    char* colon = strchr(out, ':');
    if (colon != NULL) {
        *colon = '\0';
    }
}

int main(void) {
    char report[3][512];
    for (int fd = 0; fd < 3; ++fd) {
        struct termios tio;
        struct winsize ws;
        pid_t pgrp = 0;
        char link[256];
        link_kind(fd, link, sizeof link);
        const char* type = file_type(fd);
        const char* mode = access_mode(fd);
        errno = 0;
        const int tty = isatty(fd);
        const char* tty_errno = tty ? "ok" : result(-1);
        const char* tcgets = result(ioctl(fd, TCGETS, &tio));
        const char* getpgrp_rc = result(ioctl(fd, TIOCGPGRP, &pgrp));
        const char* setpgrp_rc = result(tcsetpgrp(fd, getpgrp()));
        const char* winsz = result(ioctl(fd, TIOCGWINSZ, &ws));
        snprintf(report[fd], sizeof report[fd],
                 "fd%d type=%s mode=%s link=%s isatty=%d(%s) TCGETS=%s TIOCGPGRP=%s "
                 "TIOCSPGRP=%s TIOCGWINSZ=%s",
                 fd, type, mode, link, tty, tty_errno, tcgets, getpgrp_rc, setpgrp_rc, winsz);
    }
    size_t total = 0;
    char buf[4096];
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0) {
        total += (size_t)n;
    }
    for (int fd = 0; fd < 3; ++fd) {
        printf("%s\n", report[fd]);
    }
    printf("stdin: %zu bytes, then %s\n", total, n == 0 ? "EOF" : result(-1));
    return 0;
}
