/* Shared pieces of the strata program: exit codes, error reporting, option
 * parsing. The program uses only the public header, like any other user. */
#ifndef STRATA_TOOLS_CLI_H
#define STRATA_TOOLS_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "strata.h"

/* Exit codes (documented in `strata --help`). */
enum {
    CLI_OK = 0,
    CLI_RUNTIME = 1, /* the library or the system failed: bad input file, bad data, write error */
    CLI_USAGE = 2,   /* unknown option, missing or invalid value */
    CLI_EXISTS = 3   /* the output file exists and --force was not given */
};

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

/* Print "strata: error: <message>" on stderr; returns exit_code. */
int cli_error(int exit_code, const char *fmt, ...) CLI_PRINTF(2, 3);

/* Report a failed library call (its message) and return the matching exit
 * code: CLI_EXISTS for STRATA_E_IO_EXISTS, CLI_USAGE for STRATA_E_PARAM (an
 * option value the library refused), else CLI_RUNTIME. */
int cli_library_error(int status, const char *message);

/* Run a library call on handle km; on failure report its message (the
 * thread's strata_last_error(): const calls such as getters and predict
 * leave the handle's message alone) and return the matching exit code from
 * the enclosing function. */
#define CLI_TRY(km, call)                                                        \
    do {                                                                         \
        int st_ = (call);                                                        \
        if (st_ != STRATA_OK)                                                    \
            return cli_library_error(st_, strata_last_error());                  \
    } while (0)

/* Parse an option's value as an integer >= min or a finite number >= min;
 * on failure print a usage error and return CLI_USAGE. */
int cli_parse_int(const char *option, const char *text, int64_t min, int64_t *out);
/* Calendar dates: the proleptic Gregorian calendar, UTC, a day number
 * counting days since 1970-01-01 (day 0: the day of Unix time 0 and of
 * numpy's datetime64[D] 0; --time-unit seconds makes floor(t / 86400) such a
 * day). Dates are taken and shown for the years 0001..9999 (those of ISO
 * 8601's YYYY and of Python's datetime): days CLI_DAY_FIRST_DATE
 * (0001-01-01) to CLI_DAY_LAST_DATE (9999-12-31). */
#define CLI_DAY_FIRST_DATE (-719162)
#define CLI_DAY_LAST_DATE 2932896
/* The day number of year y, month m (1..12), day d (1..31), any y within
 * +-2^40 (no check that d exists in that month: see cli_parse_day). */
int64_t cli_day_from_date(int64_t y, int m, int d);
/* The date of a day number (any |day| < 2^50) into *y, *m, *d. */
void cli_date_of_day(int64_t day, int64_t *y, int *m, int *d);
/* A day option's value into *out: a day number (an integer >= min, as
 * cli_parse_int takes it, so scripts giving day numbers run as before), or a
 * calendar date YYYY-MM-DD (exactly: four-digit year 0001..9999, two-digit
 * month and day of that month, nothing around it; 1997-09-30 = day 10134).
 * Anything else is a usage error naming option and text. */
int cli_parse_day(const char *option, const char *text, int64_t min, int64_t *out);
/* The help text of a DAY value (an option line's continuation). */
#define CLI_DAY_HELP \
    "                     DAY: a date YYYY-MM-DD (1997-09-30) or a day number,\n" \
    "                     days since 1970-01-01 (10134); a day with --time-unit\n" \
    "                     seconds too (floor(t / 86400))\n"
/* Bytes of a buffer for cli_day_text(). */
#define CLI_DAY_TEXT 48
/* day as text into buf and returned: "10288 (1998-03-03)", the number alone
 * outside the years 0001..9999. For messages and summaries. */
const char *cli_day_text(int64_t day, char buf[CLI_DAY_TEXT]);
/* A count: an integer, or one with a K, M or G suffix (x 1000, 10^6, 10^9),
 * e.g. 100M; >= min. */
int cli_parse_count(const char *option, const char *text, int64_t min, int64_t *out);
int cli_parse_double(const char *option, const char *text, double min, double *out);
/* A size in bytes into *out: digits ("1000000", "1000000B"), or a number
 * with K, M, G or T, powers of 1024, optionally followed by B or iB ("1G",
 * "1.5GiB", "512M", "100k"; rounded down to a byte); blanks around it
 * ignored. Anything else (a sign, an exponent, hex, a fraction of a byte, a
 * nonzero size below one byte, 2^63 or more) is a usage error naming
 * option. One grammar for every --memory. */
int cli_parse_size(const char *option, const char *text, int64_t *out);
/* The size in the environment variable `variable`, if set and not empty,
 * into *out (left as it is otherwise): a default for --memory. Errors as
 * cli_parse_size(), naming the variable. */
int cli_size_from_env(const char *variable, int64_t *out);

/* A number of clusters "K" (>= 1) or a range "KMIN:KMAX" (2 <= KMIN <=
 * KMAX) into *lo and *hi (equal for one K); with range_only, one K is a
 * usage error too. Usage errors name option. */
int cli_parse_k(const char *option, const char *text, int range_only, int64_t *lo, int64_t *hi);

/* The seeding of a --init method name (k-means++, k-means||, afk-mc2,
 * random) as a strata_init value, or -1 for any other text (e.g. a
 * FILE.h5:/dataset of starting centroids). */
int cli_init_method(const char *name);

/* Split "FILE.h5:/path/in/file" at the last ':' followed by '/' into *file
 * (malloc'ed) and *dataset (pointing into text). Returns CLI_OK, CLI_USAGE
 * when text has no such ':' (nothing printed), or CLI_RUNTIME (out of
 * memory, printed). */
int cli_split_target(const char *text, char **file, const char **dataset);

/* The one positional argument left after options (argv[first], first =
 * getopt's optind) into
 * *input; a usage error naming `what` (e.g. "IN.h5") and `command` when it
 * is missing or followed by more. */
int cli_one_input(int argc, char *const argv[], int first, const char *what,
                  const char *command, const char **input);

/* Report the option getopt_long() just refused (it returned '?' or ':'). */
int cli_bad_option(const char *command, int ret, char *const argv[]);

/* Is there a file at path? */
int cli_exists(const char *path);

/* A file a command reads: its path and what it is for messages ("input
 * file", "--init file"). */
typedef struct cli_input {
    const char *path;
    const char *what;
} cli_input;

/* The file checks made before any work, so that a long run does not end in
 * a refusal and no input is ever lost:
 *   - an input that is not a regular file (a FIFO would block the read, a
 *     device never ends) is refused: CLI_RUNTIME (a missing input is left to
 *     the reader, whose message says why);
 *   - the output may not be any input, under any name (same device and inode,
 *     through symbolic or hard links), even with force: CLI_USAGE;
 *   - an existing output must be a regular file (not a device, FIFO,
 *     directory or symbolic link), even with force: CLI_USAGE;
 *   - it is replaced only with force: CLI_EXISTS.
 * output NULL: the inputs only; "": a usage error (no file has that name).
 * Prints the error; returns CLI_OK or the exit code. The library checks the
 * same at write time; these checks come first for the exit codes above. */
int cli_check_files(const cli_input *inputs, int n, const char *output, int force);

/* Handlers for SIGINT, SIGTERM, SIGHUP and SIGPIPE (unless ignored) that
 * remove the temporary file of a write in progress, then end the program by
 * the signal. */
void cli_clean_up_on_signals(void);

/* From now on the first such signal only asks the command to stop: it is
 * polled by the step callbacks (cli_interrupted), which then cancel the
 * library call (STRATA_E_CANCELLED, temporaries removed); cli_library_error()
 * then ends the program by the signal, with no message: exit status 130 for
 * SIGINT in a shell (143 SIGTERM, 129 SIGHUP), as at once before. A second
 * signal a second later, or one during a write (cli_writing), still ends it
 * at once. */
void cli_cancel_on_signals(void);
/* A write starts (1) or has ended, its file in place (0): in between, a
 * signal ends the program at once, the write's temporary removed, since no
 * report comes between the start of a write and its file in place (a
 * signal there would otherwise be noticed only after the file is written). */
void cli_writing(int writing);
/* The signal that asked the command to stop, or 0. */
int cli_interrupted(void);
/* Remove any temporary and end the program by that signal (SIGINT if none). */
void cli_end_by_signal(void);
/* A folder the run made: a signal that ends the program removes it too if
 * it is empty then (NULL: none). */
void cli_remove_dir_on_signal(const char *dir);
/* A finished file the run made for its own use (strata demo's log): a signal
 * that ends the program removes it, before the folder (NULL: none). */
void cli_remove_file_on_signal(const char *file);

/* Run cmd(argc, argv) in a child process and wait for it, so that a crash
 * inside libhdf5 on a corrupt file (docs/reliability.md) ends as exit status
 * CLI_RUNTIME with a message instead of a signal. SIGINT, SIGTERM and SIGHUP
 * sent to this process are passed on; a child ended by one of them ends this
 * process the same way; the child dies with this process. Where fork()
 * fails, or STRATA_NO_SUPERVISOR is set (debuggers), cmd runs here. */
int cli_supervise(int argc, char **argv, int (*cmd)(int, char **));

/* For a command that only reads metadata (strata info): cli_supervise()
 * stops the child, exit status CLI_RUNTIME with a message, once it has
 * used `seconds` of CPU time without reading a byte (libhdf5 loops on some
 * damaged files). STRATA_SPIN_LIMIT_S in the environment overrides it. */
void cli_supervise_spin_limit(int seconds);

/* text as one shell word (malloc'ed; NULL when out of memory): as it is
 * when it holds only letters, digits and _@%+=:,./- (and is not empty);
 * else in single quotes ('\'' for a quote); with a control character
 * (a newline, an escape) as $'...' with \xHH escapes, so that printing it
 * never drives the terminal and pasting it gives text back. */
char *cli_shell_word(const char *text);

/* The next name of a list of names (comma-separated; a ',' or '\\' within a
 * name escaped by a '\\': "a\\,b,c\\\\" is "a,b" and "c\\"; a backslash before
 * any other character is itself), as strata
 * info's catalog lists and the --features and --columns options write
 * them, into out, cut to cap - 1 bytes; *p moves past it and its comma.
 * *sep (may be NULL): 1 where a comma followed the name (so another name,
 * maybe empty, is due), else 0. Returns the name's full length, or -1 at
 * the end of the list. */
long cli_next_name(const char **p, char *out, size_t cap, int *sep);

/* text as a JSON string (quoted) on f: quotes, backslashes and control
 * characters escaped; bytes that are not valid UTF-8 (any bytes a file
 * name may hold, a sequence cut short) become U+FFFD, so the line parses. */
void cli_json_string(FILE *f, const char *text);
/* prefix and the n words argv[0..n-1], each a shell word, joined by spaces
 * (malloc'ed; NULL when out of memory). */
char *cli_shell_join(const char *prefix, int n, char *const argv[]);

/* Seconds on a monotonic clock. */
double cli_now(void);

int cmd_kmeans(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_rfm(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_tiers(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_clv(int argc, char **argv);
int cmd_info(int argc, char **argv);

/* RFM summaries printed by `strata rfm` and `strata demo` (cmd_rfm.c). */
void cli_rfm_print_report(strata_rfm *h);
int cli_rfm_print_segments(strata_rfm *h);

#endif
