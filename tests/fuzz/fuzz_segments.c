/* libFuzzer target: the text rule format (strata_rfm_set_segments_text, the
 * parser behind `strata rfm --segments`) on arbitrary bytes. Accepted rules
 * must then segment a small log: every customer in a rule or -1. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    strata_rfm *h;
    if (strata_rfm_create(&h) != STRATA_OK) {
        free(text);
        return 0;
    }
    int st = strata_rfm_set_segments_text(h, text);
    fuzz_status_ok(st);
    if (st == STRATA_OK) {
        int64_t id[40], day[40], seg[40], nseg = 0, nc = 0;
        double amount[40];
        for (int i = 0; i < 40; i++) {
            id[i] = i % 13;
            day[i] = 100 + (i * 7) % 30;
            amount[i] = 1.0 + (i * 11) % 17;
        }
        if (strata_rfm_set_int(h, STRATA_THREADS, 1) != STRATA_OK ||
            strata_rfm_fit(h, id, day, amount, 40) != STRATA_OK ||
            strata_rfm_result_int(h, STRATA_RFM_RESULT_SEGMENTS, &nseg) != STRATA_OK ||
            strata_rfm_result_int(h, STRATA_RFM_RESULT_CUSTOMERS, &nc) != STRATA_OK || nc != 13 ||
            strata_rfm_column_int64(h, STRATA_RFM_COL_SEGMENT, seg, nc) != STRATA_OK)
            abort();
        for (int64_t i = 0; i < nc; i++)
            if (seg[i] < -1 || seg[i] >= nseg)
                abort();
        for (int64_t s = 0; s < nseg; s++)
            if (!strata_rfm_segment_name(h, s) || !strata_rfm_segment_name(h, s)[0])
                abort();
    }
    strata_rfm_free(h);
    free(text);
    return 0;
}
