/* Static helper for the virtio-fs POSIX suite (busybox has no xattr tools, and forking
 * 10,000 touches under TCG is too slow): xattrs, mmap writes, sparse files, many files. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static int fail(const char *what, const char *path) {
    printf("S: %s %s failed: %s\n", what, path, strerror(errno));
    return 1;
}

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: fs-helper xattr-set|xattr-rm|xattr-list|mmap-write|sparse|mkmany|count ...\n");
        return 2;
    }
    const char *cmd = argv[1], *path = argv[2];
    if (!strcmp(cmd, "xattr-set") && argc == 5) {
        return setxattr(path, argv[3], argv[4], strlen(argv[4]), 0) ? fail("setxattr", path) : 0;
    }
    if (!strcmp(cmd, "xattr-rm") && argc == 4) {
        return removexattr(path, argv[3]) ? fail("removexattr", path) : 0;
    }
    if (!strcmp(cmd, "xattr-list")) {
        char names[4096], value[256];
        ssize_t len = listxattr(path, names, sizeof(names));
        if (len < 0) {
            return fail("listxattr", path);
        }
        char *list[64];
        int n = 0;
        for (char *p = names; p < names + len && n < 64; p += strlen(p) + 1) {
            if (!strncmp(p, "user.", 5)) {
                list[n++] = p;
            }
        }
        qsort(list, (size_t)n, sizeof(list[0]), cmp);
        printf("S: xattrs %s:", strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
        for (int i = 0; i < n; ++i) {
            ssize_t v = getxattr(path, list[i], value, sizeof(value) - 1);
            value[v < 0 ? 0 : v] = 0;
            printf(" %s=%s", list[i], value);
        }
        printf("\n");
        return 0;
    }
    if (!strcmp(cmd, "mmap-write") && argc == 4) {
        size_t len = strlen(argv[3]);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || ftruncate(fd, (off_t)len) < 0) {
            return fail("open/ftruncate", path);
        }
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            return fail("mmap", path);
        }
        memcpy(p, argv[3], len);
        if (msync(p, len, MS_SYNC) < 0) {
            return fail("msync", path);
        }
        munmap(p, len);
        close(fd);
        /* Read back through a second mapping, read-only. */
        fd = open(path, O_RDONLY);
        p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            return fail("mmap read", path);
        }
        printf("S: mmap %.*s\n", (int)len, p);
        munmap(p, len);
        close(fd);
        return 0;
    }
    if (!strcmp(cmd, "sparse")) {
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || pwrite(fd, "z", 1, 8 << 20) != 1 || fsync(fd) < 0) {
            return fail("sparse write", path);
        }
        struct stat st;
        fstat(fd, &st);
        off_t data = lseek(fd, 0, SEEK_DATA);
        char c = 0;
        ssize_t got = pread(fd, &c, 1, 4096);
        printf("S: sparse size=%lld first_data_after_hole=%s zero_in_hole=%s\n",
               (long long)st.st_size, data >= 4096 ? "yes" : "no",
               got == 1 && c == 0 ? "yes" : "no");
        close(fd);
        return 0;
    }
    if (!strcmp(cmd, "mkmany") && argc == 4) {
        int n = atoi(argv[3]);
        char name[4200];
        for (int i = 0; i < n; ++i) {
            snprintf(name, sizeof(name), "%s/f%05d", path, i);
            int fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0644);
            if (fd < 0) {
                return fail("create", name);
            }
            close(fd);
        }
        return 0;
    }
    if (!strcmp(cmd, "count")) {
        DIR *d = opendir(path);
        if (d == NULL) {
            return fail("opendir", path);
        }
        long n = 0, sum = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                ++n;
                sum += atol(e->d_name + 1);
            }
        }
        closedir(d);
        printf("S: readdir entries=%ld name_sum=%ld\n", n, sum);
        return 0;
    }
    fprintf(stderr, "fs-helper: bad command %s\n", cmd);
    return 2;
}
