/* Tier models (issue 11): scaling by hand, value ranking and tier mapping on
 * a hand-made case, save / load round trips predicting bitwise the same,
 * batch-independent predict, and bad inputs. numpy references: tests/python/
 * test_tiers.py. */
#define _GNU_SOURCE
#include "test.h"
#include "tmpdir.h"

static strata_model *new_model(int64_t k)
{
    strata_model *m;
    ASSERT_OK(strata_model_create(&m));
    ASSERT_OK(strata_kmeans_set_int(strata_model_kmeans(m), STRATA_KMEANS_K, k));
    ASSERT_OK(strata_kmeans_set_int(strata_model_kmeans(m), STRATA_KMEANS_SEED, 3));
    return m;
}

/* Three well-separated groups of customers: recency (days; small is good),
 * frequency, spend. Group A recent/frequent/big, B middling, C lapsed. */
static double *three_groups(int64_t per, double *x)
{
    for (int64_t i = 0; i < 3 * per; i++) {
        int g = (int)(i % 3);
        double jitter = (double)(i / 3 % 5);
        x[i * 3 + 0] = g == 0 ? 5 + jitter : g == 1 ? 60 + jitter : 300 + jitter;
        x[i * 3 + 1] = g == 0 ? 40 + jitter : g == 1 ? 8 + jitter : 1 + jitter;
        x[i * 3 + 2] = g == 0 ? 5000 + 10 * jitter : g == 1 ? 700 + jitter : 40 + jitter;
    }
    return x;
}

static void test_ranking_and_tiers(void)
{
    enum { PER = 20, N = 3 * PER };
    double x[N * 3];
    three_groups(PER, x);
    const char *names[3] = {"recency", "frequency", "monetary"};
    strata_model *m = new_model(3);
    ASSERT_OK(strata_model_fit(m, x, N, 3, 0, names, NULL));
    double w[3];
    ASSERT_OK(strata_model_value_weights(m, w, 3));
    ASSERT_TRUE(w[0] == -1.0 && w[1] == 1.0 && w[2] == 1.0);
    ASSERT_EQ_INT(strata_model_tier_count(m), 3);
    ASSERT_TRUE(!strcmp(strata_model_tier_name(m, 0), "high"));
    ASSERT_TRUE(!strcmp(strata_model_tier_name(m, 2), "low"));
    ASSERT_TRUE(!strcmp(strata_model_feature_name(m, 2), "monetary"));
    int32_t tiers[N], labels[N];
    ASSERT_OK(strata_model_tiers(m, tiers, N));
    ASSERT_OK(strata_model_labels(m, labels, N));
    for (int64_t i = 0; i < N; i++)
        ASSERT_EQ_INT(tiers[i], i % 3); /* group A high, B mid, C low */
    /* score = sum w_f * scaled centroid_f, by hand from the scaled centroids */
    double c[9], score[3];
    int32_t ct[3];
    ASSERT_OK(strata_model_centroids(m, STRATA_MODEL_SCALED, c, 3, 3));
    ASSERT_OK(strata_model_value_score(m, score, 3));
    ASSERT_OK(strata_model_cluster_tier(m, ct, 3));
    for (int j = 0; j < 3; j++) {
        ASSERT_TRUE(score[j] == -c[j * 3] + c[j * 3 + 1] + c[j * 3 + 2]);
        ASSERT_EQ_INT(ct[labels[j]], j % 3 == 0 ? 0 : j % 3);
    }
    /* two tiers over three clusters: 1 + 2 (the extra cluster goes low) */
    ASSERT_OK(strata_model_set_tier_names(m, " best , rest "));
    ASSERT_OK(strata_model_fit(m, x, N, 3, 0, names, NULL));
    ASSERT_OK(strata_model_tiers(m, tiers, N));
    for (int64_t i = 0; i < N; i++)
        ASSERT_EQ_INT(tiers[i], i % 3 == 0 ? 0 : 1);
    ASSERT_TRUE(!strcmp(strata_model_tier_name(m, 1), "rest"));
    /* weights reversed: the lapsed group becomes the "best" */
    const double rev[3] = {1, -1, -1};
    ASSERT_OK(strata_model_set_value_weights(m, rev, 3));
    ASSERT_OK(strata_model_fit(m, x, N, 3, 0, names, NULL));
    ASSERT_OK(strata_model_tiers(m, tiers, N));
    for (int64_t i = 0; i < N; i++)
        ASSERT_EQ_INT(tiers[i], i % 3 == 2 ? 0 : 1);
    /* more tiers than clusters */
    ASSERT_OK(strata_model_set_tier_names(m, "a,b,c,d"));
    ASSERT_STATUS(strata_model_fit(m, x, N, 3, 0, names, NULL), STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_model_last_error(m), "4 tier names");
    strata_model_free(m);
}

/* Ties of the score go to the lower cluster index; 5 clusters in 3 tiers
 * split 1, 2, 2; one tier "all" for k = 1. Uses given initial centroids on
 * points that are their own clusters. */
static void test_tie_and_split_rules(void)
{
    const double x[5] = {0, 10, 10.5, 20, 30}; /* one feature */
    const double init[5] = {0, 10, 10.5, 20, 30};
    strata_model *m = new_model(5);
    ASSERT_OK(strata_model_set_transform(m, -1, STRATA_TRANSFORM_NONE));
    ASSERT_OK(strata_kmeans_set_init_centroids(strata_model_kmeans(m), init, 5, 1));
    ASSERT_OK(strata_model_fit(m, x, 5, 1, 0, NULL, NULL));
    int32_t ct[5];
    ASSERT_OK(strata_model_cluster_tier(m, ct, 5));
    /* scores 0, 10, 10.5, 20, 30: ranking 4, 3, 2, 1, 0 -> tiers 0 | 1 1 | 2 2 */
    const int32_t want[5] = {2, 2, 1, 1, 0};
    for (int j = 0; j < 5; j++)
        ASSERT_EQ_INT(ct[j], want[j]);
    /* equal scores: weights 0 on... a second feature equal to minus the first */
    const double x2[10] = {0, 0, 10, -10, 10.5, -10.5, 20, -20, 30, -30};
    const double init2[10] = {0, 0, 10, -10, 10.5, -10.5, 20, -20, 30, -30};
    ASSERT_OK(strata_kmeans_set_init_centroids(strata_model_kmeans(m), init2, 5, 2));
    ASSERT_OK(strata_model_fit(m, x2, 5, 2, 0, NULL, NULL)); /* all scores 0 */
    ASSERT_OK(strata_model_cluster_tier(m, ct, 5));
    const int32_t by_index[5] = {0, 1, 1, 2, 2};
    for (int j = 0; j < 5; j++)
        ASSERT_EQ_INT(ct[j], by_index[j]);
    strata_model_free(m);
    m = new_model(1);
    ASSERT_OK(strata_model_fit(m, x, 5, 1, 0, NULL, NULL));
    ASSERT_EQ_INT(strata_model_tier_count(m), 1);
    ASSERT_TRUE(!strcmp(strata_model_tier_name(m, 0), "all"));
    strata_model_free(m);
}

/* Hand-computed parameters on 4 values. */
static void test_scaling_by_hand(void)
{
    /* feature 0: 1 2 3 10; feature 1 constant 7; feature 2: 0 0 0 1e6 (skewed) */
    const double x[12] = {1, 7, 0, 2, 7, 0, 3, 7, 0, 10, 7, 1e6};
    int tf[3];
    double c[3], s[3];
    strata_model *m = new_model(2);
    ASSERT_OK(strata_model_set_transform(m, 0, STRATA_TRANSFORM_ROBUST));
    ASSERT_OK(strata_model_fit(m, x, 4, 3, 0, NULL, NULL));
    ASSERT_OK(strata_model_transform_params(m, tf, c, s));
    /* robust: median 2.5, p25 = 1.75, p75 = 4.75 -> IQR 3 */
    ASSERT_EQ_INT(tf[0], STRATA_TRANSFORM_ROBUST);
    ASSERT_TRUE(c[0] == 2.5 && s[0] == 3.0);
    /* constant: z-score with scale 1 */
    ASSERT_EQ_INT(tf[1], STRATA_TRANSFORM_ZSCORE);
    ASSERT_TRUE(c[1] == 7.0 && s[1] == 1.0);
    /* AUTO: >= 0 and skewness 1.1547 > 1: log1p then z-score */
    ASSERT_EQ_INT(tf[2], STRATA_TRANSFORM_ZSCORE | STRATA_TRANSFORM_LOG1P);
    ASSERT_REL(c[2], log1p(1e6) / 4, 1e-15);
    /* min-max with log1p; none */
    ASSERT_OK(strata_model_set_transform(m, -1, STRATA_TRANSFORM_MINMAX | STRATA_TRANSFORM_LOG1P));
    ASSERT_OK(strata_model_set_transform(m, 1, STRATA_TRANSFORM_NONE));
    ASSERT_OK(strata_model_fit(m, x, 4, 3, 0, NULL, NULL));
    ASSERT_OK(strata_model_transform_params(m, tf, c, s));
    ASSERT_TRUE(c[0] == log1p(1.0) && s[0] == log1p(10.0) - log1p(1.0));
    ASSERT_TRUE(tf[1] == STRATA_TRANSFORM_NONE && c[1] == 0.0 && s[1] == 1.0);
    double z[12];
    ASSERT_OK(strata_model_scale(m, x, 4, 3, 0, z));
    ASSERT_TRUE(z[0] == 0.0 && z[9] == 1.0 && z[1] == 7.0);
    /* original-unit centroids are the inverse transform of the scaled ones */
    double cs[6], co[6];
    ASSERT_OK(strata_model_centroids(m, STRATA_MODEL_SCALED, cs, 2, 3));
    ASSERT_OK(strata_model_centroids(m, STRATA_MODEL_ORIGINAL, co, 2, 3));
    for (int j = 0; j < 2; j++)
        ASSERT_TRUE(co[j * 3] == expm1(cs[j * 3] * s[0] + c[0]));
    strata_model_free(m);
}

/* Skewness is scale-free: 0 0 0 1e110 is as skewed as 0 0 0 1e6 (1.1547),
 * though its cubes overflow (they gave inf / inf = NaN: no log1p). */
static void test_auto_transform_beyond_cubes(void)
{
    const double x[4] = {0, 0, 0, 1e110};
    int tf[1];
    double c[1], s[1];
    strata_model *m = new_model(2);
    ASSERT_OK(strata_model_fit(m, x, 4, 1, 0, NULL, NULL));
    ASSERT_OK(strata_model_transform_params(m, tf, c, s));
    ASSERT_EQ_INT(tf[0], STRATA_TRANSFORM_ZSCORE | STRATA_TRANSFORM_LOG1P);
    ASSERT_REL(c[0], log1p(1e110) / 4, 1e-15);
    strata_model_free(m);
}

static void test_save_load_bitwise(void)
{
    enum { N = 400, D = 4 };
    static double x[N * D];
    uint64_t st = 12345;
    for (int i = 0; i < N * D; i++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(st >> 11) * 0x1p-53;
        x[i] = i % D == 3 ? floor(u * 8) - 2 : exp(6 * u) - 1; /* skewed; small ints */
    }
    const char *names[D] = {"days_since_last", "orders", "spend", "score"};
    strata_model *m = new_model(5);
    ASSERT_OK(strata_model_set_source(m, "test:/x"));
    ASSERT_OK(strata_model_set_tier_names(m, "gold,silver,bronze"));
    ASSERT_OK(strata_model_fit(m, x, N, D, 0, names, NULL));
    const char *path = path_of("model.h5");
    ASSERT_OK(strata_model_write_h5(m, path, 0));
    ASSERT_STATUS(strata_model_write_h5(m, path, 0), STRATA_E_IO_EXISTS);
    strata_model *l;
    ASSERT_OK(strata_model_read_h5(&l, path, NULL));
    static int32_t a[N], b[N], ta[N], tb[N], one;
    ASSERT_OK(strata_model_predict(m, x, N, D, 0, a, ta));
    ASSERT_OK(strata_model_predict(l, x, N, D, 0, b, tb));
    ASSERT_TRUE(!memcmp(a, b, sizeof a) && !memcmp(ta, tb, sizeof ta));
    for (int i = 0; i < N; i += 7) { /* one by one */
        ASSERT_OK(strata_model_predict(l, x + i * D, 1, D, 0, &one, NULL));
        ASSERT_EQ_INT(one, a[i]);
    }
    int32_t fit_tiers[N];
    ASSERT_OK(strata_model_tiers(m, fit_tiers, N));
    int agree = 0;
    for (int i = 0; i < N; i++)
        agree += fit_tiers[i] == ta[i];
    ASSERT_TRUE(agree >= N - 2); /* fit vs predict: ties only */
    double c1[5 * D], c2[5 * D];
    ASSERT_OK(strata_model_centroids(m, STRATA_MODEL_ORIGINAL, c1, 5, D));
    ASSERT_OK(strata_model_centroids(l, STRATA_MODEL_ORIGINAL, c2, 5, D));
    ASSERT_TRUE(!memcmp(c1, c2, sizeof c1));
    ASSERT_TRUE(!strcmp(strata_model_tier_name(l, 1), "silver"));
    ASSERT_TRUE(!strcmp(strata_model_feature_name(l, 0), "days_since_last"));
    ASSERT_STATUS(strata_model_labels(l, a, N), STRATA_E_STATE);
    int64_t nt;
    ASSERT_OK(strata_model_result_int(l, STRATA_MODEL_RESULT_N_TRAIN, &nt));
    ASSERT_EQ_INT(nt, N);
    /* a loaded model saves again */
    ASSERT_OK(strata_model_write_h5(l, path_of("again.h5"), 0));
    strata_model_free(l);
    /* not a model */
    double mat[4] = {1, 2, 3, 4};
    ASSERT_OK(strata_h5_write_matrix(path_of("matrix.h5"), "/model", STRATA_FLOAT64, mat, 2, 2, 0));
    l = (strata_model *)&one; /* untouched on failure */
    ASSERT_STATUS(strata_model_read_h5(&l, path_of("matrix.h5"), NULL), STRATA_E_IO_TYPE);
    ASSERT_STR_CONTAINS(strata_last_error(), "not a model group");
    ASSERT_STATUS(strata_model_read_h5(&l, path_of("matrix.h5"), "/elsewhere"), STRATA_E_IO_DATASET);
    ASSERT_STATUS(strata_model_read_h5(&l, path_of("missing.h5"), NULL), STRATA_E_IO_OPEN);
    ASSERT_TRUE(l == (strata_model *)&one);
    strata_model_free(m);
}

static void test_bad_inputs(void)
{
    double x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    strata_model *m = new_model(2);
    int32_t lab[4];
    ASSERT_STATUS(strata_model_predict(m, x, 4, 2, 0, lab, NULL), STRATA_E_STATE);
    ASSERT_STATUS(strata_model_set_transform(m, 0, 5), STRATA_E_PARAM);
    ASSERT_STATUS(strata_model_set_transform(m, 0, STRATA_TRANSFORM_AUTO | STRATA_TRANSFORM_LOG1P),
                  STRATA_E_PARAM);
    ASSERT_STATUS(strata_model_set_transform(m, -2, 0), STRATA_E_PARAM);
    ASSERT_STATUS(strata_model_set_tier_names(m, "a,,b"), STRATA_E_PARAM);
    ASSERT_STATUS(strata_model_set_tier_names(m, "a,b,a"), STRATA_E_PARAM);
    ASSERT_STR_CONTAINS(strata_model_last_error(m), "repeated");
    const double zero[2] = {0, 0}, nan2[2] = {NAN, 1};
    ASSERT_STATUS(strata_model_set_value_weights(m, zero, 2), STRATA_E_PARAM);
    ASSERT_STATUS(strata_model_set_value_weights(m, nan2, 2), STRATA_E_PARAM);
    ASSERT_STATUS(strata_model_fit(m, NULL, 4, 2, 0, NULL, NULL), STRATA_E_NULL);
    ASSERT_STATUS(strata_model_fit(m, x, 0, 2, 0, NULL, NULL), STRATA_E_ARG);
    ASSERT_STATUS(strata_model_fit(m, x, 4, 2, 1, NULL, NULL), STRATA_E_ARG);
    const char *dup[2] = {"a", "a"};
    ASSERT_STATUS(strata_model_fit(m, x, 4, 2, 0, dup, NULL), STRATA_E_ARG);
    ASSERT_OK(strata_model_set_transform(m, 5, STRATA_TRANSFORM_NONE));
    ASSERT_STATUS(strata_model_fit(m, x, 4, 2, 0, NULL, NULL), STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_model_last_error(m), "feature 5");
    ASSERT_OK(strata_model_set_transform(m, -1, STRATA_TRANSFORM_AUTO));
    const double w3[3] = {1, 1, 1};
    ASSERT_OK(strata_model_set_value_weights(m, w3, 3));
    ASSERT_STATUS(strata_model_fit(m, x, 4, 2, 0, NULL, NULL), STRATA_E_ARG);
    ASSERT_OK(strata_model_set_value_weights(m, NULL, 0));
    /* log1p domain, non-finite */
    double neg[8] = {1, 2, -1, 4, 5, 6, 7, 8};
    const char *names[2] = {"spend", "orders"};
    ASSERT_OK(strata_model_set_transform(m, 0, STRATA_TRANSFORM_ZSCORE | STRATA_TRANSFORM_LOG1P));
    ASSERT_STATUS(strata_model_fit(m, neg, 4, 2, 0, names, NULL), STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_model_last_error(m), "'spend'");
    ASSERT_STR_CONTAINS(strata_model_last_error(m), "row 1");
    neg[2] = NAN;
    ASSERT_STATUS(strata_model_fit(m, neg, 4, 2, 0, names, NULL), STRATA_E_NONFINITE);
    ASSERT_OK(strata_model_fit(m, x, 4, 2, 0, names, NULL));
    /* the failed fits left nothing; predict checks the domain too */
    neg[2] = -3;
    ASSERT_STATUS(strata_model_predict(m, neg, 4, 2, 0, lab, NULL), STRATA_E_ARG);
    ASSERT_STR_CONTAINS(strata_last_error(), "'spend'"); /* predict is const: the thread's slot */
    ASSERT_STATUS(strata_model_predict(m, x, 2, 4, 0, lab, NULL), STRATA_E_ARG);
    ASSERT_STATUS(strata_model_predict(m, x, 4, 2, 0, NULL, NULL), STRATA_E_NULL);
    double out[8];
    ASSERT_STATUS(strata_model_centroids(m, 7, out, 2, 2), STRATA_E_ARG);
    ASSERT_STATUS(strata_model_centroids(m, 0, out, 3, 2), STRATA_E_ARG);
    ASSERT_STATUS(strata_model_labels(m, lab, 3), STRATA_E_ARG);
    ASSERT_STATUS(strata_model_write_h5(m, path_of("x.h5"), 4), STRATA_E_PARAM);
    ASSERT_STATUS(strata_model_fit(NULL, x, 4, 2, 0, NULL, NULL), STRATA_E_NULL);
    ASSERT_TRUE(strata_model_kmeans(NULL) == NULL);
    strata_model_free(m);
    strata_model_free(NULL);
}

int main(void)
{
    if (tmpdir_make("strata_test_model"))
        return 1;
    RUN_TEST(test_ranking_and_tiers);
    RUN_TEST(test_tie_and_split_rules);
    RUN_TEST(test_scaling_by_hand);
    RUN_TEST(test_auto_transform_beyond_cubes);
    RUN_TEST(test_save_load_bitwise);
    RUN_TEST(test_bad_inputs);
    remove_all();
    rmdir(g_dir);
    return test_summary();
}
