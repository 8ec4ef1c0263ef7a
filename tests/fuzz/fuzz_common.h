/* Shared by the libFuzzer targets: the input bytes become a file that the
 * library opens by path (HDF5 reads files, not buffers), in a folder private
 * to this process. Only the public header is used, as a caller would. */
#ifndef STRATA_FUZZ_COMMON_H
#define STRATA_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "strata.h"

/* A status the API documents: anything else is a defect worth a crash report. */
static inline void fuzz_status_ok(int st)
{
    if (st != STRATA_OK && strata_status_str(st) == NULL)
        abort();
    if (st != STRATA_OK) {
        const char *m = strata_last_error();
        if (!m || !m[0]) /* every failure explains itself */
            abort();
    }
}

/* Writes data to file number `which` (0 or 1) of this process and returns
 * its path (static). */
static inline const char *fuzz_file_n(int which, const uint8_t *data, size_t size)
{
    static char paths[2][512];
    char *path = paths[which != 0];
    if (!path[0]) {
        const char *dir = getenv("TMPDIR");
        if (!dir || !dir[0])
            dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(path, sizeof paths[0], "%s/strata-fuzz-%ld%s.h5", dir, (long)getpid(),
                 which ? "-2" : "");
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    return path;
}

/* The one file most targets need. */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
    return fuzz_file_n(0, data, size);
}

#endif
