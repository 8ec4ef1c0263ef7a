/* The bounded algorithms' shared per-pass quantities (kmeans/bounds.h). */
#include "kmeans/bounds.h"

void strata__centroid_moves(const double *c, const double *c_prev, int64_t k, int64_t d,
                            double *shift, double *other)
{
    double m1 = 0.0, m2 = 0.0;
    int64_t jmax = 0;
    for (int64_t j = 0; j < k; j++) {
        const double s = strata__norm_up(strata__dist2(c + j * d, c_prev + j * d, d), d);
        shift[j] = s;
        if (s > m1) {
            m2 = m1;
            m1 = s;
            jmax = j;
        } else if (s > m2) {
            m2 = s;
        }
    }
    for (int64_t j = 0; j < k; j++)
        other[j] = j == jmax ? m2 : m1;
}

double strata__margin_eps(const strata__tables *t)
{
    return (double)(4 * t->d + 32) * (t->dtype == STRATA_FLOAT32 ? 0x1p-24 : 0x1p-53);
}

void strata__margin_set(strata__margin *mg, const strata__tables *t, const double *c,
                        double *half, void *half_t)
{
    const int64_t k = t->k, d = t->d;
    const int f32 = t->dtype == STRATA_FLOAT32;
    double cmax = 0.0;
    for (int64_t j = 0; j < k; j++)
        cmax = fmax(cmax, strata__norm_up(strata__dist2(c + j * d, t->mean_used, d), d));
    mg->cmax = cmax;
    mg->eps = strata__margin_eps(t);
    const double min_normal = f32 ? (double)FLT_MIN : DBL_MIN;
    mg->tiny = (double)(4 * d + 32) * min_normal * (1.0 + 2.0 * cmax) * (1.0 + 2.0 * cmax);
    mg->c2_t = f32 ? (double)strata__up_f32(2.0 * cmax * STRATA__UPF) : 2.0 * cmax * STRATA__UPF;
    mg->eps_t = f32 ? (double)strata__up_f32(mg->eps) : mg->eps;
    mg->tiny_t = f32 ? (double)strata__up_f32(mg->tiny) : mg->tiny;
    if (!half)
        return;
    for (int64_t j = 0; j < k; j++)
        half[j] = INFINITY;
    for (int64_t j = 0; j < k; j++)
        for (int64_t i = j + 1; i < k; i++) {
            double s = strata__dist2(c + j * d, c + i * d, d);
            half[j] = fmin(half[j], s);
            half[i] = fmin(half[i], s);
        }
    for (int64_t j = 0; j < k; j++) {
        half[j] = isinf(half[j]) ? INFINITY : 0.5 * strata__norm_down(half[j], d);
        if (f32)
            ((float *)half_t)[j] = strata__down_f32(half[j]);
        else
            ((double *)half_t)[j] = half[j];
    }
}
