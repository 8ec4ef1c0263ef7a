/* Cluster 6 customers with 2 features (recency days, yearly spend) into 2 tiers. */
#include <stdio.h>
#include <strata.h>

int main(void)
{
    const float x[6][2] = {{5, 900}, {8, 1100}, {3, 1000}, {200, 40}, {250, 60}, {180, 50}};
    strata_kmeans *km;
    if (strata_kmeans_create(&km) != STRATA_OK)
        return 1;
    int rc = strata_kmeans_set_int(km, STRATA_KMEANS_K, 2);
    if (rc == STRATA_OK)
        rc = strata_kmeans_set_int(km, STRATA_KMEANS_SEED, 42);
    if (rc == STRATA_OK)
        rc = strata_kmeans_fit(km, STRATA_FLOAT32, x, 6, 2, 0, NULL);
    double centroids[2][2], inertia;
    int32_t labels[6];
    if (rc == STRATA_OK)
        rc = strata_kmeans_centroids(km, &centroids[0][0], 2, 2);
    if (rc == STRATA_OK)
        rc = strata_kmeans_labels(km, labels, 6);
    if (rc == STRATA_OK)
        rc = strata_kmeans_result_double(km, STRATA_KMEANS_RESULT_INERTIA, &inertia);
    if (rc != STRATA_OK) {
        fprintf(stderr, "strata: %s\n", strata_last_error()); /* the failing call's message */
        strata_kmeans_free(km);
        return 1;
    }
    for (int j = 0; j < 2; j++)
        printf("tier %d: recency %.1f days, spend %.1f\n", j, centroids[j][0], centroids[j][1]);
    for (int i = 0; i < 6; i++)
        printf("customer %d -> tier %d\n", i, labels[i]);
    printf("inertia %.1f\n", inertia);
    strata_kmeans_free(km);
    return 0;
}
