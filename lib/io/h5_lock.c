#include "io/h5_lock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t h5_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t h5_once = PTHREAD_ONCE_INIT;

/* libhdf5's own exit handler closes the library; after some corrupted
 * files (errors inside libhdf5 that leak its internal blocks) it loops and
 * prints "HDF5: infinite loop closing library" and a long second line to
 * stderr. Where we are the first to use HDF5 in the process, we take its
 * place: at exit, close the library only if files are still open (the host
 * program's, which that close flushes); ours are always closed. Where the
 * host initialized HDF5 first, its handler stays (docs/reliability.md). */
static atomic_long unclosable; /* our files whose H5Fclose failed */

static void close_at_exit(void)
{
    if (H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE) > atomic_load(&unclosable))
        H5close();
}

void strata__h5_unclosable(void)
{
    atomic_fetch_add(&unclosable, 1);
}

static void take_exit_handler(void)
{
    if (H5dont_atexit() >= 0)
        atexit(close_at_exit);
}

void strata__h5_enter(strata__h5_guard *g)
{
    pthread_once(&h5_once, take_exit_handler);
    pthread_mutex_lock(&h5_mutex);
    if (H5Eget_auto2(H5E_DEFAULT, &g->func, &g->data) < 0) {
        g->func = NULL;
        g->data = NULL;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void strata__h5_leave(const strata__h5_guard *g)
{
    H5Eset_auto2(H5E_DEFAULT, g->func, g->data);
    pthread_mutex_unlock(&h5_mutex);
}

typedef struct cause_buf {
    char *buf;
    size_t len;
} cause_buf;

/* Walking upward, the first entry is the most specific one: keep it, stop.
 * The file drivers' system errors ("file write failed: time = <ctime>\n,
 * filename = ..., errno = 28, error message = 'No space left on device', buf
 * = ...") become "file write failed: No space left on device"; any other
 * message is cut at its first line break (one line on stderr). */
static herr_t first_entry(unsigned n, const H5E_error2_t *e, void *ctx)
{
    static const char SYS[] = "error message = '";
    const cause_buf *c = ctx;
    const char *d = e->desc, *sys = d ? strstr(d, SYS) : NULL;
    if (sys) {
        const char *text = sys + sizeof SYS - 1, *end = strchr(text, '\'');
        const char *colon = strchr(d, ':');
        int head = colon && colon < sys ? (int)(colon - d) : 0;
        snprintf(c->buf, c->len, "%.*s%s%.*s", head, d, head ? ": " : "",
                 end ? (int)(end - text) : (int)strlen(text), text);
    } else if (d && d[0]) {
        snprintf(c->buf, c->len, "%.*s", (int)strcspn(d, "\r\n"), d);
    }
    return 1;
}

const char *strata__h5_cause(char *buf, size_t len)
{
    cause_buf c = {buf, len};
    snprintf(buf, len, "unknown HDF5 error");
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_entry, &c);
    return buf;
}

hid_t strata__h5_file_access(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0)
        H5Pset_file_locking(fapl, 1, 1);
    /* the metadata cache grows to 32 MiB by default, a file's chunk index
     * in it (a file of 80,000 small chunks: beyond a memory budget); its
     * limit counts file bytes, and a chunk-index node takes ~8 times its
     * file size in memory (65 native keys of 272 bytes): a sequential read
     * needs the root and the current leaves */
    H5AC_cache_config_t mdc = {.version = H5AC__CURR_CACHE_CONFIG_VERSION};
    if (fapl >= 0 && H5Pget_mdc_config(fapl, &mdc) >= 0) {
        mdc.set_initial_size = 1;
        mdc.initial_size = (size_t)256 << 10;
        mdc.min_size = mdc.min_size < mdc.initial_size ? mdc.min_size : mdc.initial_size;
        mdc.max_size = (size_t)256 << 10;
        (void)H5Pset_mdc_config(fapl, &mdc);
    }
    return fapl;
}
