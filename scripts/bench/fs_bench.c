/* virtio-fs benchmark workloads, run the same way on a host directory and in the guest on
 * the share: prints "name value unit" lines. usage: fs_bench DIR SEQ_MB RAND_OPS META_FILES */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void drop_caches(void) {
    int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (fd >= 0) {
        (void)!write(fd, "3", 1);
        close(fd);
    }
}

static long walk(const char *path) {
    DIR *d = opendir(path);
    if (!d) {
        return 0;
    }
    long n = 0;
    struct dirent *e;
    char sub[4096];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            continue;
        }
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(sub, &st) == 0) {
            ++n;
            if (S_ISDIR(st.st_mode)) {
                n += walk(sub);
            }
        }
    }
    closedir(d);
    return n;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: fs_bench DIR SEQ_MB RAND_OPS META_FILES\n");
        return 2;
    }
    const char *dir = argv[1];
    const long mb = atol(argv[2]), rand_ops = atol(argv[3]), files = atol(argv[4]);
    char path[4096];
    static char buf[1 << 20];
    memset(buf, 'b', sizeof(buf));

    snprintf(path, sizeof(path), "%s/seq.bin", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    double t = now();
    for (long i = 0; i < mb; ++i) {
        if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
            perror("write");
            return 1;
        }
    }
    fsync(fd);
    close(fd);
    printf("seq_write %.1f MB/s\n", (double)mb / (now() - t));

    drop_caches(); /* the guest's page cache; the host's stays warm for both runs */
    fd = open(path, O_RDONLY);
    t = now();
    long got = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        got += n;
    }
    printf("seq_read %.1f MB/s\n", (double)got / (1 << 20) / (now() - t));

    drop_caches();
    const long blocks = mb * 256;
    unsigned seed = 1;
    t = now();
    for (long i = 0; i < rand_ops; ++i) {
        const long b = rand_r(&seed) % blocks;
        if (pread(fd, buf, 4096, b * 4096) != 4096) {
            perror("pread");
            return 1;
        }
    }
    printf("rand_read_4k %.0f IOPS\n", (double)rand_ops / (now() - t));
    close(fd);
    unlink(path);

    snprintf(path, sizeof(path), "%s/meta", dir);
    mkdir(path, 0755);
    t = now();
    for (long i = 0; i < files; ++i) {
        snprintf(path, sizeof(path), "%s/meta/f%ld", dir, i);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd < 0 || write(fd, "x", 1) != 1) {
            perror("create");
            return 1;
        }
        close(fd);
        struct stat st;
        stat(path, &st);
        unlink(path);
    }
    printf("create_stat_unlink %.0f ops/s\n", (double)files / (now() - t));

    /* A tree to walk: 20 directories of files/20 files each. */
    for (long i = 0; i < files; ++i) {
        snprintf(path, sizeof(path), "%s/meta/d%ld", dir, i % 20);
        mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/meta/d%ld/f%ld", dir, i % 20, i);
        fd = open(path, O_WRONLY | O_CREAT, 0644);
        close(fd);
    }
    drop_caches();
    snprintf(path, sizeof(path), "%s/meta", dir);
    t = now();
    const long entries = walk(path);
    printf("find_tree %.0f entries/s\n", (double)entries / (now() - t));
    return 0;
}
