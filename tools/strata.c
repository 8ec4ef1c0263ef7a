/* strata: command-line front end of libstrata. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_progress.h"

#ifdef STRATA_CLI_MPI
#include <mpi.h>
#include <stdlib.h>
#else
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#endif

/* strata info reads metadata only, reading all along (20,000 datasets were
 * listed in 1.2 s): 20 s of computing without a read is a loop in libhdf5 */
#define INFO_SPIN_LIMIT_S 20

static const char HELP[] =
    "usage: strata <command> [options]\n"
    "\n"
    "Customer segmentation with k-means and RFM scores on HDF5 data.\n"
    "\n"
    "commands:\n"
    "  kmeans   cluster the rows of an HDF5 dataset and write labels and centroids\n"
    "  rfm      score customers by recency, frequency and monetary value from a\n"
    "           transaction log in HDF5, name their segments and profile them\n"
    "  sweep    fit k-means for a range of k and rate each fit (inertia, Calinski-\n"
    "           Harabasz, Davies-Bouldin, silhouette) to choose k\n"
    "  clv      customer lifetime value: BG/NBD and Gamma-Gamma fitted on a transaction\n"
    "           log in HDF5, P(alive), expected purchases and spend, CLV, holdout check\n"
    "  migrate  compare two tierings of customers: migration matrix, moves per customer\n"
    "  predict  assign new rows to the value tiers of a saved model\n"
    "  tiers    a transaction log to named value tiers in one run: RFM aggregates,\n"
    "           scaling, k-means (k chosen by a sweep), tiers, lifecycle, profiles, model\n"
    "  demo     strata tiers on a synthetic customer base of five hidden tiers\n"
    "  gen      write synthetic data of any size (customers, k-means blobs,\n"
    "           transaction logs) to HDF5, streamed, reproducible from a seed\n"
    "  info     what an HDF5 file holds (types, shapes, chunks, compression,\n"
    "           attributes) and which strata command reads each dataset\n"
    "\n"
    "options:\n"
    "  -h, --help   show this help; 'strata <command> --help' shows a command's options\n"
    "  --version    print the version and exit\n"
    "\n"
    "exit status:\n"
    "  0  success\n"
    "  1  runtime error: unreadable or invalid input (also one that is not a\n"
    "     regular file, such as a FIFO), bad data, write failure\n"
    "  2  usage error: unknown option, missing or invalid value, an output that\n"
    "     is one of the inputs (under any name) or is not a regular file\n"
    "  3  an output file exists (every command replaces it only with --force)\n"
    "  a command cancelled by Ctrl-C (SIGINT) or SIGTERM writes nothing and ends\n"
    "  by that signal (130 or 143 in a shell)\n"
    "\n"
    "Each command runs in a child process, so that a crash of libhdf5 on a corrupt\n"
    "file ends with exit status 1 and a message (STRATA_NO_SUPERVISOR=1 runs it in\n"
    "this process, for debuggers).\n"
    "Outputs are written under a temporary name and renamed when complete; on\n"
    "SIGINT, SIGTERM or SIGHUP the temporary file is removed, and one left by a\n"
    "killed run is removed by the next run writing the same output.\n";

#ifdef STRATA_CLI_MPI
/* strata-mpi: the same program linked to libstrata_mpi (docs/distributed.md).
 * Under mpirun with more than one rank only `kmeans` and `rfm` run (distributed);
 * every rank runs the command in this process (no supervising child: a
 * forked child cannot use MPI), rank 0 alone prints to stdout, and every
 * rank prints its errors and returns the same exit status. */
static int run_mpi(int argc, char **argv, int (*cmd)(int, char **), int distributed)
{
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size > 1 && !distributed)
        return cli_error(CLI_USAGE, "'%s' does not run distributed: under mpirun with %d ranks "
                         "strata-mpi runs only kmeans and rfm (run it with one rank, or use "
                         "strata)",
                         argv[0], size);
    return cmd(argc, argv);
}

static int main_mpi(int argc, char **argv);

int main(int argc, char **argv)
{
    int provided, rank = 0;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fputs("strata-mpi: error: MPI_Init_thread failed\n", stderr);
        return CLI_RUNTIME;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank > 0 && !freopen("/dev/null", "w", stdout))
        fclose(stdout);
    int rc = main_mpi(argc, argv);
    fflush(stdout);
    MPI_Finalize();
    return rc;
}
#define main main_mpi
#define cli_supervise(argc, argv, cmd) \
    run_mpi(argc, argv, cmd, cmd == cmd_kmeans || cmd == cmd_rfm)
#else
/* `mpirun -np N strata ...` (N > 1): strata-mpi, the same program linked to
 * libstrata_mpi (-DSTRATA_MPI=ON), takes over when it lies beside this one
 * (the build tree, or the same bin directory); without it N copies would each
 * run the whole job, so the run is refused instead. Open MPI's and PMI's
 * (MPICH, srun --mpi=pmi2) environment tells the process count. Returns only
 * when this process should go on (not under mpirun, or one process). */
static int mpi_hand_over(char **argv)
{
    const char *env = getenv("OMPI_COMM_WORLD_SIZE");
    if (!env || !*env)
        env = getenv("PMI_SIZE");
    long size = env && *env ? strtol(env, NULL, 10) : 1;
    if (size <= 1)
        return CLI_OK;
    char self[PATH_MAX], other[PATH_MAX + 16];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len > 0) {
        self[len] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            slash[1] = '\0';
            snprintf(other, sizeof other, "%sstrata-mpi", self);
            if (access(other, X_OK) == 0) {
                argv[0] = other;
                execv(other, argv);
                return cli_error(CLI_RUNTIME, "started by mpirun with %ld processes, but %s "
                                 "could not be run: %s", size, other, strerror(errno));
            }
        }
    }
    return cli_error(CLI_USAGE, "started by mpirun with %ld processes, but this strata has no "
                     "MPI support: build libstrata with -DSTRATA_MPI=ON and run strata-mpi "
                     "(docs/distributed.md), or run strata without mpirun",
                     size);
}
#endif

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(HELP, stderr);
        return CLI_USAGE;
    }
    cli_clean_up_on_signals();
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(HELP, stdout);
        return CLI_OK;
    }
    if (!strcmp(cmd, "--version")) {
        printf("strata %s\n", strata_version_string());
        return CLI_OK;
    }
#ifndef STRATA_CLI_MPI
    int mrc = mpi_hand_over(argv);
    if (mrc != CLI_OK)
        return mrc;
#endif
    cli_progress_scan(argc - 1, argv + 1); /* errors in the options as JSON too */
    /* Each command runs in a supervised child: a crash inside libhdf5 on a
     * corrupt file becomes an error message (cli_supervise). */
    if (!strcmp(cmd, "kmeans"))
        return cli_supervise(argc - 1, argv + 1, cmd_kmeans);
    if (!strcmp(cmd, "rfm"))
        return cli_supervise(argc - 1, argv + 1, cmd_rfm);
    if (!strcmp(cmd, "tiers"))
        return cli_supervise(argc - 1, argv + 1, cmd_tiers);
    if (!strcmp(cmd, "sweep"))
        return cli_supervise(argc - 1, argv + 1, cmd_sweep);
    if (!strcmp(cmd, "clv"))
        return cli_supervise(argc - 1, argv + 1, cmd_clv);
    if (!strcmp(cmd, "migrate"))
        return cli_supervise(argc - 1, argv + 1, cmd_migrate);
    if (!strcmp(cmd, "predict"))
        return cli_supervise(argc - 1, argv + 1, cmd_predict);
    if (!strcmp(cmd, "info")) {
        cli_supervise_spin_limit(INFO_SPIN_LIMIT_S);
        return cli_supervise(argc - 1, argv + 1, cmd_info);
    }
    if (!strcmp(cmd, "demo"))
        return cli_supervise(argc - 1, argv + 1, cmd_demo);
    if (!strcmp(cmd, "gen"))
        return cli_supervise(argc - 1, argv + 1, cmd_gen);
    return cli_error(CLI_USAGE, "unknown command '%s' (see 'strata --help')", cmd);
}
