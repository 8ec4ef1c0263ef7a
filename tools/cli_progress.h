/* Progress of long runs on stderr, and Ctrl-C through the library's step
 * callback (strata_step_fn):
 *
 *   stderr a terminal, no option   a one-line bar redrawn with \r: step,
 *                                  percent, rate, ETA; iteration and inertia;
 *                                  a report within the step (a streamed
 *                                  pass's READ in a seeding or iteration, a
 *                                  sweep's fits in its SCORE) shown after it
 *   --progress bar                 the bar even when stderr is not a terminal
 *   --progress json                one JSON object a line per report
 *   --progress none, or no terminal nothing (the behaviour before the option)
 *   --quiet                        no bar and no summary on stdout: only
 *                                  errors (and --progress json if asked)
 *
 * Add CLI_PROGRESS_OPTIONS to the command's getopt_long() table, pass every
 * option to cli_progress_option(), call cli_progress_begin() before the work
 * and set cli_progress_step as the step callback of the handles. */
#ifndef STRATA_TOOLS_CLI_PROGRESS_H
#define STRATA_TOOLS_CLI_PROGRESS_H

#include <stdint.h>

#include "strata.h"

enum { CLI_OPT_QUIET = 1100, CLI_OPT_PROGRESS };

#define CLI_PROGRESS_OPTIONS                                    \
    {"quiet", no_argument, NULL, CLI_OPT_QUIET},                \
    {"progress", required_argument, NULL, CLI_OPT_PROGRESS}

/* The help lines of the options above. */
#define CLI_PROGRESS_HELP                                                              \
    "  --progress MODE    bar (a one-line progress bar on stderr, the default when\n"   \
    "                     stderr is a terminal), json (one JSON object a line on\n"     \
    "                     stderr per step report, and errors, for scripts) or none\n" \
    "  --quiet            print nothing but errors: no bar, no summary (with\n"    \
    "                     --progress json, its lines still)\n"

/* The exit-status line of a command's help. */
#define CLI_EXIT_HELP                                                                  \
    "exit status: 0 ok, 1 runtime error, 2 usage error, 3 OUT.h5 exists (no --force);\n" \
    "Ctrl-C (SIGINT) or SIGTERM cancels: nothing is written, the command ends by the\n"  \
    "signal (status 130 or 143 in a shell)\n"

/* 1 if opt is one of CLI_PROGRESS_OPTIONS (*rc set: CLI_OK, or CLI_USAGE
 * after printing the error for a bad --progress value), else 0. */
int cli_progress_option(int opt, const char *arg, int *rc);

/* Before the options are parsed (main): --progress json anywhere in argv
 * (a command's arguments, argv[0] its name) makes errors in the options
 * JSON lines too. The option itself is parsed as usual. */
void cli_progress_scan(int argc, char **argv);

/* Decide the display (see above) and make SIGINT/SIGTERM/SIGHUP cancel
 * through the step callback; with --quiet stdout goes to /dev/null. */
void cli_progress_begin(const char *command);

/* The step callback of every handle of the command: shows the report,
 * returns 1 once a signal asked to stop. user: NULL, or CLI_PROGRESS_LOGLIK
 * where ITERATE's value is a log-likelihood (CLV fits: shown and printed as
 * "loglik", else "inertia"). */
extern const char cli_progress_loglik[];
#define CLI_PROGRESS_LOGLIK ((void *)cli_progress_loglik)
int cli_progress_step(void *user, int step, int64_t run, int64_t done, int64_t total,
                      double value);

/* A step the program runs itself (e.g. reading a --table, assembling a
 * result file): the same display; once a signal asked to stop, the program
 * ends by it here (temporaries removed), except at the last WRITE report
 * (done = total: the file is in place). */
void cli_progress_note(int step, int64_t done, int64_t total);

/* Before strata_kmeans_sweep() over k_min..k_max: the reports of its fits
 * (SEED, ITERATE, READ, made one k after another) name the k they fit: a
 * "k" member in --progress json, "k K:" on the bar. After the sweep,
 * cli_progress_sweep(0, -1) ends it. */
void cli_progress_sweep(int64_t k_min, int64_t k_max);

/* Clear the bar (a newline-free display leaves the terminal clean). */
void cli_progress_end(void);

/* The same from a signal handler (async-signal-safe: one write(2)). */
void cli_progress_clear_now(void);

/* With --progress json: the error as one more JSON line on stderr,
 * {"step":"error","message":...,"exit_status":N[,"elapsed_s":...]}, so that
 * every line a script reads parses; returns 1. 0 in any other mode (the
 * caller prints the plain "strata: error: " line). */
int cli_progress_error(const char *message, int exit_code);

#endif
