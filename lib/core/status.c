#include "core/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char thread_msg[STRATA__MSG_LEN];

int strata__fail(char *msg, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const int len = vsnprintf(thread_msg, sizeof thread_msg, fmt, ap);
    va_end(ap);
    if (len >= (int)sizeof thread_msg) { /* cut short: never inside a UTF-8 character */
        const size_t last = sizeof thread_msg - 2;
        size_t lead = last;
        while (lead > 0 && ((unsigned char)thread_msg[lead] & 0xc0) == 0x80)
            lead--;
        const unsigned char c = (unsigned char)thread_msg[lead];
        const size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        if (lead + need > last + 1)
            thread_msg[lead] = '\0'; /* the character the cut went through */
    }
    if (msg != NULL && msg != thread_msg)
        memcpy(msg, thread_msg, sizeof thread_msg);
    return code;
}

int strata__fail_copy(char *msg, int code, const char *text)
{
    return strata__fail(msg, code, "%s", text ? text : "");
}

const char *strata_last_error(void)
{
    return thread_msg;
}

const char *strata_status_str(int status)
{
    switch (status) {
    case STRATA_OK: return "ok";
    case STRATA_E_NULL: return "a required pointer argument is NULL";
    case STRATA_E_ARG: return "an argument is out of range";
    case STRATA_E_PARAM: return "unknown parameter or invalid parameter value";
    case STRATA_E_NONFINITE: return "data contain NaN or Inf, or values whose sums overflow";
    case STRATA_E_WEIGHTS: return "invalid sample weights";
    case STRATA_E_TOO_FEW: return "fewer distinct points than clusters";
    case STRATA_E_UNSUPPORTED: return "not supported on this build or CPU";
    case STRATA_E_IO: return "I/O error";
    case STRATA_E_IO_OPEN: return "cannot open file";
    case STRATA_E_IO_FORMAT: return "not an HDF5 file, or file corrupt";
    case STRATA_E_IO_DATASET: return "dataset not found";
    case STRATA_E_IO_TYPE: return "dataset has an unsupported rank, shape or type";
    case STRATA_E_IO_WRITE: return "cannot write output";
    case STRATA_E_IO_EXISTS: return "output file exists";
    case STRATA_E_NOMEM: return "out of memory";
    case STRATA_E_STATE: return "invalid state for this call";
    case STRATA_E_CANCELLED: return "cancelled by the progress callback";
    case STRATA_E_INTERNAL: return "internal error";
    default: return "unknown status";
    }
}
