/* The key catalogue (params.c): every parameter's type, bounds and default
 * and every result key, one table that the public strata_key_*() and
 * strata_param_*() calls report and the handles' setters, getters and
 * result readers check keys and values against. */
#ifndef STRATA_API_PARAMS_H
#define STRATA_API_PARAMS_H

#include <stdint.h>

#include "strata.h"

/* Check that `key` is a parameter of `handle` (a strata_handle_kind bit) of
 * value type `type` (a strata_value_type), for a setter (get = 0) or a
 * getter (get = 1); on
 * failure the message (into msg, which may be NULL, and the thread's slot)
 * names the key and the call to use instead. */
int strata__param_check_key(char *msg, int handle, int key, int type, int get);

/* strata__param_check_key() for a setter, then the value against the
 * table's bounds ("<name> must be in [lo, hi], got v"). The exceptions the
 * bounds cannot express (include/strata.h, strata_param_int_bounds) are
 * left to the caller. */
int strata__param_check_int(char *msg, int handle, int key, int64_t v);
int strata__param_check_double(char *msg, int handle, int key, double v);

/* Check that `key` is a result of `handle` of value type `type`. */
int strata__result_check_key(char *msg, int handle, int key, int type);

#endif
