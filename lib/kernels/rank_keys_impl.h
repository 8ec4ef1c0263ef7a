/* The rank-keys kernel (kernels.h: rank_keys), written once in plain C and
 * compiled per instruction set: the loops over a block of values are simple
 * enough for the compiler to vectorize with each file's flags. The including
 * file defines RANK_KEYS_FN, the function's name. */
#define RANK_KEYS_BLOCK 512

static void RANK_KEYS_FN(const double *v, int64_t n, int64_t first, const double *kv,
                         const int64_t *ki, int64_t m, strata__rank_map map, uint8_t *out,
                         int64_t *below)
{
    int64_t cnt[RANK_KEYS_BLOCK];
    for (int64_t s = 0; s < n; s += RANK_KEYS_BLOCK) {
        const int64_t len = n - s < RANK_KEYS_BLOCK ? n - s : RANK_KEYS_BLOCK;
        const double *x = v + s;
        const int64_t pos = first + s;
        for (int64_t i = 0; i < len; i++)
            cnt[i] = 0;
        /* key by key over the block: one compare per value and key, no
         * search, and ties with the key's value settled by position */
        for (int64_t j = 0; j < m; j++) {
            const double kvj = kv[j];
            const int64_t kij = ki[j];
            int64_t total = 0;
            for (int64_t i = 0; i < len; i++) {
                int64_t lt = (kvj < x[i]) | ((kvj == x[i]) & (kij < pos + i));
                cnt[i] += lt;
                total += lt;
            }
            below[j] += total;
        }
        for (int64_t i = 0; i < len; i++)
            out[s + i] = (uint8_t)(map.add + map.step * (cnt[i] > map.base ? cnt[i] - map.base : 0));
    }
}
#undef RANK_KEYS_BLOCK
