/* Reading a (page-cached) file in windows of WIN bytes, each summed: pread()
 * into a reused buffer (MODE 0) against mapping each window with
 * MAP_POPULATE (1), with madvise(MADV_POPULATE_READ) (2), or plainly, its
 * pages faulted in by the sum (3). Whether a mapping can beat the copy on a
 * guest that traps page-table updates (docs/performance.md, "Session 14").
 * Not built by CMake:
 *
 *   gcc -O2 -mavx2 -o /tmp/mmap_populate bench/micro/mmap_populate.c
 *   /tmp/mmap_populate FILE WIN_BYTES MODE     # three timed reads each
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

static double now(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static float sum(const float *p, size_t n)
{
    __m256 a = _mm256_setzero_ps();
    for (size_t i = 0; i + 8 <= n; i += 8)
        a = _mm256_add_ps(a, _mm256_loadu_ps(p + i));
    float o[8];
    _mm256_storeu_ps(o, a);
    return o[0] + o[7];
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: mmap_populate FILE WIN_BYTES MODE(0-3)\n");
        return 2;
    }
    const int fd = open(argv[1], O_RDONLY);
    const size_t win = strtoull(argv[2], NULL, 10);
    const int mode = atoi(argv[3]);
    char *buf = aligned_alloc(4096, win);
    if (fd < 0 || !buf || win % 4096)
        return 1;
    const off_t size = lseek(fd, 0, SEEK_END);
    float s = 0;
    for (int rep = 0; rep < 3; rep++) {
        const double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
        for (off_t o = 0; o + (off_t)win <= size; o += (off_t)win) {
            if (mode == 0) {
                if (pread(fd, buf, win, o) != (ssize_t)win)
                    return 1;
                s += sum((const float *)buf, win / 4);
                continue;
            }
            char *p = mmap(NULL, win, PROT_READ, MAP_PRIVATE | (mode == 1 ? MAP_POPULATE : 0), fd, o);
            if (p == MAP_FAILED)
                return 1;
            if (mode == 2)
                madvise(p, win, MADV_POPULATE_READ);
            s += sum((const float *)p, win / 4);
            munmap(p, win);
        }
        printf("mode %d window %zu: %.3f s wall, %.3f s CPU\n", mode, win,
               now(CLOCK_MONOTONIC) - t0, now(CLOCK_PROCESS_CPUTIME_ID) - c0);
    }
    return s == 12345.0f; /* keep the sums */
}
