/* Out-of-core aggregation on arrays: the cleaning of a block of rows and the
 * id ranges that split a log into parts (lib/api/rfm_spill.c composes them
 * with the block reader and the temporary files of lib/io). A customer's
 * rows all land in one part, and parts in ascending id order give the
 * customers in ascending id order, so aggregating each part with
 * strata__rfm_aggregate() gives every customer's row bit for bit. */
#include "kernels/kernels.h"
#include "rfm/rfm.h"

int64_t strata__rfm_clean(const int64_t *id, const int64_t *time, const double *amount,
                          int64_t n, const strata__rfm_agg_cfg *cfg, uint64_t *kept_bits,
                          strata__rfm_report *rep)
{
    const strata__row_check chk = strata__rfm_row_check(cfg);
    strata__row_stats st;
    cfg->kern->check_rows(id, time, amount, n, &chk, kept_bits, &st);
    rep->rows += n;
    rep->bad_id += st.count[STRATA__ROW_BAD_ID];
    rep->bad_time += st.count[STRATA__ROW_BAD_TIME];
    rep->bad_amount += st.count[STRATA__ROW_BAD_AMOUNT];
    rep->negative += st.count[STRATA__ROW_NEGATIVE];
    rep->zero += st.count[STRATA__ROW_ZERO];
    return st.kept;
}

void strata__rfm_ranges_make(int64_t lo, int64_t hi, int64_t parts, strata__rfm_ranges *r)
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo; /* ids in range: span + 1 (may wrap to 0) */
    if (parts < 1)
        parts = 1;
    if (span < UINT64_MAX && (uint64_t)parts > span + 1)
        parts = (int64_t)(span + 1);
    /* width = ceil((span + 1) / parts), without overflow */
    uint64_t width = span / (uint64_t)parts + 1;
    *r = (strata__rfm_ranges){.lo = lo, .parts = parts, .width = width};
}

void strata__rfm_report_add_part(strata__rfm_report *total, const strata__rfm_report *part)
{
    total->used += part->used;
    total->duplicates += part->duplicates;
    total->return_only += part->return_only;
}
