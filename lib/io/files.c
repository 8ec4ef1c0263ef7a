#include "io/files.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "core/status.h"

void strata__file_id_of(const char *path, const char *role, strata__file_id *id)
{
    struct stat st;
    *id = (strata__file_id){0};
    if (path && stat(path, &st) == 0)
        *id = (strata__file_id){st.st_dev, st.st_ino, 1, role};
}

const char *strata__file_kind(mode_t mode)
{
    return S_ISREG(mode)    ? "regular file"
           : S_ISDIR(mode)  ? "directory"
           : S_ISLNK(mode)  ? "symbolic link"
           : S_ISFIFO(mode) ? "FIFO"
           : S_ISCHR(mode)  ? "character device"
           : S_ISBLK(mode)  ? "block device"
           : S_ISSOCK(mode) ? "socket"
                            : "special file";
}

int strata__refuse_irregular_input(const char *path, const struct stat *st, char *msg)
{
    if (S_ISREG(st->st_mode))
        return STRATA_OK;
    return strata__fail(msg, STRATA_E_IO_OPEN, "cannot open '%s': it is a %s, not a regular file",
                        path, strata__file_kind(st->st_mode));
}

int strata__refuse_input_as_output(const char *path, const strata__file_id *inputs, int n,
                                   char *msg)
{
    struct stat st;
    if (n < 1 || stat(path, &st) != 0)
        return STRATA_OK;
    for (int i = 0; i < n; i++)
        if (inputs[i].known && inputs[i].dev == st.st_dev && inputs[i].ino == st.st_ino)
            return strata__fail(msg, STRATA_E_IO_WRITE,
                                "cannot write '%s': it is %s, and an input is never replaced",
                                path, inputs[i].role ? inputs[i].role : "an input file");
    return STRATA_OK;
}

int strata__file_size_allowed(unsigned long long end)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_FSIZE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY ||
        end <= (unsigned long long)lim.rlim_cur)
        return 0;
    return EFBIG;
}

const char *strata__write_error_text(int e)
{
    return e == EFBIG ? "File too large: beyond the file size limit of this process (ulimit -f)"
                      : strerror(e);
}
