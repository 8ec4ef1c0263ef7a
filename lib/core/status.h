/* Status and messages: every failure goes through strata__fail(), which
 * formats the message into the handle's buffer (if any) and the per-thread
 * slot read by strata_last_error(). */
#ifndef STRATA_CORE_STATUS_H
#define STRATA_CORE_STATUS_H

#include <stddef.h>
#include "strata.h"

#define STRATA__MSG_LEN 512

#if defined(__GNUC__)
#define STRATA__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define STRATA__PRINTF(a, b)
#endif

/* Record `code` with a printf-style message into msg (may be NULL; at least
 * STRATA__MSG_LEN bytes) and into the thread's slot. Returns code. */
int strata__fail(char *msg, int code, const char *fmt, ...) STRATA__PRINTF(3, 4);

/* Copy an existing message (e.g. from an internal buffer) into msg and the
 * thread slot. Returns code. */
int strata__fail_copy(char *msg, int code, const char *text);

#endif
