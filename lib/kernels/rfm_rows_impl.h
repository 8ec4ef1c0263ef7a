/* The row check of RFM aggregation (kernels.h: check_rows), written once in
 * branch-free C and compiled per instruction set. With AVX-512 the compiler
 * vectorizes the loop over each 64 rows (times in days; Unix seconds need an
 * integer division per row and stay scalar); with AVX2 (no 64-bit min/max)
 * it stays scalar but branch-free. The including file defines CHECK_ROWS_FN,
 * the function's name. */

/* Rows [begin, end), at most 64 of them: the counts, ranges and kept bits
 * (bit i - begin of the returned word). Fresh reductions per block keep the
 * loop in the shape the vectorizer knows. */
static inline __attribute__((always_inline)) uint64_t
check_block(const int64_t *id, const int64_t *time, const double *amount, int64_t begin,
            int64_t end, const strata__row_check *chk, strata__row_stats *st, const int seconds)
{
    const int64_t min_id = chk->min_id, min_day = chk->min_day, max_day = chk->max_day;
    const int64_t keep_negative = chk->keep_negative, keep_zero = chk->keep_zero;
    int64_t bad_id = 0, bad_time = 0, bad_amount = 0, negative = 0, zero = 0, kept = 0;
    int64_t lo_id = INT64_MAX, hi_id = INT64_MIN, lo_t = INT64_MAX, hi_t = INT64_MIN;
    int64_t lo_c = INT64_MAX, hi_c = INT64_MIN, not_cents = 0;
    uint64_t word = 0;
    for (int64_t i = begin; i < end; i++) {
        const int64_t x = id[i], t = time[i];
        const double a = amount[i];
        const int64_t d = seconds ? t / 86400 - (t % 86400 < 0) : t;
        /* the first problem of the row counts: id, day, amount */
        const int64_t b_id = (x == INT64_MIN) | (x < min_id);
        const int64_t b_time = (!b_id) & ((d < min_day) | (d > max_day));
        int64_t ok = (!b_id) & (!b_time);
        const int64_t b_amount = ok & (!(fabs(a) <= DBL_MAX));
        ok &= !b_amount;
        const int64_t neg = ok & (a < 0), nil = ok & (a == 0);
        const int64_t keep = ok & (!(neg & !keep_negative)) & (!(nil & !keep_zero));
        bad_id += b_id;
        bad_time += b_time;
        bad_amount += b_amount;
        negative += neg;
        zero += nil;
        kept += keep;
        word |= (uint64_t)keep << (i - begin);
        /* ranges of the kept rows: min/max of values masked to a neutral one
         * (by bits: with ternaries the compiler rebuilds a conditional
         * reduction it then cannot vectorize) */
        const int64_t on = -keep;
        const int64_t x_lo = (x & on) | (INT64_MAX & ~on), x_hi = (x & on) | (INT64_MIN & ~on);
        const int64_t t_lo = (t & on) | (INT64_MAX & ~on), t_hi = (t & on) | (INT64_MIN & ~on);
        lo_id = x_lo < lo_id ? x_lo : lo_id;
        hi_id = x_hi > hi_id ? x_hi : hi_id;
        lo_t = t_lo < lo_t ? t_lo : lo_t;
        hi_t = t_hi > hi_t ? t_hi : hi_t;
        /* whole cents: cents / 100.0 gives the amount back exactly */
        const double c = rint(a * 100.0);
        const int64_t cents_ok = (fabs(c) <= 0x1p52) & (c / 100.0 == a);
        not_cents += keep & !cents_ok;
        const int64_t ci = (int64_t)(cents_ok ? c : 0.0);
        const int64_t c_lo = (ci & on) | (INT64_MAX & ~on), c_hi = (ci & on) | (INT64_MIN & ~on);
        lo_c = c_lo < lo_c ? c_lo : lo_c;
        hi_c = c_hi > hi_c ? c_hi : hi_c;
    }
    st->count[STRATA__ROW_BAD_ID] += bad_id;
    st->count[STRATA__ROW_BAD_TIME] += bad_time;
    st->count[STRATA__ROW_BAD_AMOUNT] += bad_amount;
    st->count[STRATA__ROW_NEGATIVE] += negative;
    st->count[STRATA__ROW_ZERO] += zero;
    st->count[STRATA__ROW_KEPT] += (end - begin) - bad_id - bad_time - bad_amount - negative - zero;
    st->kept += kept;
    st->min_id = lo_id < st->min_id ? lo_id : st->min_id;
    st->max_id = hi_id > st->max_id ? hi_id : st->max_id;
    st->min_time = lo_t < st->min_time ? lo_t : st->min_time;
    st->max_time = hi_t > st->max_time ? hi_t : st->max_time;
    st->min_cents = lo_c < st->min_cents ? lo_c : st->min_cents;
    st->max_cents = hi_c > st->max_cents ? hi_c : st->max_cents;
    st->all_cents &= not_cents == 0;
    return word;
}

static void CHECK_ROWS_FN(const int64_t *id, const int64_t *time, const double *amount, int64_t n,
                          const strata__row_check *chk, uint64_t *kept_bits,
                          strata__row_stats *st)
{
    *st = (strata__row_stats){.min_id = INT64_MAX, .max_id = INT64_MIN, .min_time = INT64_MAX,
                              .max_time = INT64_MIN, .min_cents = INT64_MAX,
                              .max_cents = INT64_MIN, .all_cents = 1};
    for (int64_t w = 0; w < (n + 63) / 64; w++) {
        int64_t begin = w * 64, end = begin + 64 < n ? begin + 64 : n;
        kept_bits[w] = chk->seconds ? check_block(id, time, amount, begin, end, chk, st, 1)
                                    : check_block(id, time, amount, begin, end, chk, st, 0);
    }
}
