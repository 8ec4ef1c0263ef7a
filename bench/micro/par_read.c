/* Reading a (page-cached) file with pread() on T threads at once, each
 * taking every T-th piece of PIECE bytes into a buffer of its own and
 * summing it: what a streamed pass's copy costs when both cores read,
 * against `cat` (one thread). docs/performance.md, "Session 19". Not built
 * by CMake:
 *
 *   gcc -O2 -mavx2 -pthread -o /tmp/par_read bench/micro/par_read.c
 *   /tmp/par_read FILE PIECE_BYTES THREADS     # three timed reads
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int fd, nthreads;
static size_t piece, size;
static volatile float sink;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *reader(void *arg)
{
    const long id = (long)arg;
    float *buf = aligned_alloc(64, piece);
    __m256 s = _mm256_setzero_ps();
    for (size_t off = (size_t)id * piece; buf && off < size; off += (size_t)nthreads * piece) {
        ssize_t got = pread(fd, buf, piece, (off_t)off);
        if (got <= 0)
            break;
        for (size_t i = 0; i + 8 <= (size_t)got / 4; i += 8)
            s = _mm256_add_ps(s, _mm256_loadu_ps(buf + i));
    }
    float o[8];
    _mm256_storeu_ps(o, s);
    sink += o[0];
    free(buf);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: par_read FILE PIECE_BYTES THREADS\n");
        return 2;
    }
    struct stat st;
    fd = open(argv[1], O_RDONLY);
    piece = (size_t)atol(argv[2]);
    nthreads = atoi(argv[3]);
    if (fd < 0 || fstat(fd, &st) != 0 || piece % 32 || nthreads < 1 || nthreads > 64) {
        fprintf(stderr, "par_read: bad file, piece (a multiple of 32) or threads (1..64)\n");
        return 2;
    }
    size = (size_t)st.st_size;
    for (int rep = 0; rep < 3; rep++) {
        pthread_t th[64];
        const double t0 = now();
        for (long i = 0; i < nthreads; i++)
            pthread_create(&th[i], NULL, reader, (void *)i);
        for (int i = 0; i < nthreads; i++)
            pthread_join(th[i], NULL);
        printf("threads %d, pieces of %zu bytes: %.3f s\n", nthreads, piece, now() - t0);
    }
    return 0;
}
