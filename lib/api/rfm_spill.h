/* RFM aggregation of an HDF5 transaction log within a memory budget
 * (internal to lib/api): the composition of the log's column source and the
 * temporary files of lib/io with the id-range parts of lib/rfm. */
#ifndef STRATA_API_RFM_SPILL_H
#define STRATA_API_RFM_SPILL_H

#include <stdint.h>

#include "core/steps.h"
#include "rfm/rfm.h"

/* Aggregate the log (strata__h5_read_transactions()'s arguments) with cfg
 * in about `budget` bytes, STRATA__RFM_FIXED_BYTES of them set aside. When
 * the whole log fits (rows x STRATA__RFM_ROW_BYTES + STRATA__RFM_FIXED_BYTES
 * <= budget) nothing is done and *in_memory is set: the
 * caller reads it whole. Otherwise the log is read in blocks, cleaned, and
 * its kept rows are spilled by id range into files of a private directory
 * under tmpdir (NULL: strata__spill_default_dir()), each part then
 * aggregated in memory; the directory is removed before return, whatever
 * happens. Fills *out (in *spare when it fits; the caller releases it) and
 * *rep exactly as strata__rfm_aggregate() on the whole log would. Reports
 * READ and AGGREGATE to steps (may be NULL) as the file's head says; a
 * report that cancels returns STRATA_E_CANCELLED, the directory removed. */
int strata__rfm_aggregate_h5(const char *path, const char *table, const char *const names[3],
                             const strata__rfm_agg_cfg *cfg, uint64_t budget, const char *tmpdir,
                             strata__scratch *spare, strata__rfm_customers *out,
                             strata__rfm_report *rep, int *in_memory,
                             const strata__steps *steps, char *msg);

#endif
