/* Reading a (page-cached) file with pread() into a buffer of PIECE bytes,
 * reused, optionally summing what was read: what a copy into a big buffer
 * costs against one into a buffer that stays in cache (docs/performance.md,
 * "Chunk reads and a two-vector argmin"). Not built by CMake:
 *
 *   gcc -O2 -mavx2 -o /tmp/read_touch bench/micro/read_touch.c
 *   /tmp/read_touch FILE PIECE_BYTES TOUCH(0|1)     # three timed reads each
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static float sum(const float *p, size_t n)
{
    __m256 a = _mm256_setzero_ps(), b = a;
    for (size_t i = 0; i + 16 <= n; i += 16) {
        a = _mm256_add_ps(a, _mm256_loadu_ps(p + i));
        b = _mm256_add_ps(b, _mm256_loadu_ps(p + i + 8));
    }
    float o[8];
    _mm256_storeu_ps(o, _mm256_add_ps(a, b));
    return o[0] + o[7];
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: read_touch FILE PIECE_BYTES TOUCH\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    size_t piece = strtoull(argv[2], NULL, 10);
    int touch = atoi(argv[3]);
    off_t size = lseek(fd, 0, SEEK_END);
    char *buf = mmap(NULL, piece, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fd < 0 || buf == MAP_FAILED)
        return 1;
    for (size_t i = 0; i < piece; i += 4096) /* pages touched before timing */
        buf[i] = 1;
    float s = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
        for (off_t o = 0; o < size; o += (off_t)piece) {
            ssize_t r = pread(fd, buf, piece, o);
            if (r <= 0)
                break;
            if (touch)
                s += sum((const float *)buf, (size_t)r / 4);
        }
        printf("piece %zu touch %d: %.3f s wall, %.3f s CPU\n", piece, touch,
               now(CLOCK_MONOTONIC) - t0, now(CLOCK_PROCESS_CPUTIME_ID) - c0);
    }
    return s == 1234.5f;
}
