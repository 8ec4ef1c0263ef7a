#include "cli.h"
#include "cli_progress.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int cli_error(int exit_code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_progress_end(); /* the message on a line of its own */
    /* one write for the whole line, so that the lines of processes sharing
     * a stderr (strata-mpi's ranks under mpirun) never interleave */
    char line[2048];
    int len = snprintf(line, sizeof line, "strata: error: ");
    vsnprintf(line + len, sizeof line - (size_t)len - 1, fmt, ap);
    va_end(ap);
    if (cli_progress_error(line + len, exit_code))
        return exit_code;
    strcat(line, "\n");
    fputs(line, stderr);
    return exit_code;
}

/* Bytes of the valid UTF-8 sequence at p (0: not one). */
static int utf8_length(const unsigned char *p)
{
    int len = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3
              : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (len == 2 && p[0] < 0xc2)
        return 0; /* overlong */
    for (int k = 1; k < len; k++)
        if ((p[k] & 0xc0) != 0x80)
            return 0;
    return len;
}

void cli_json_string(FILE *f, const char *text)
{
    putc('"', f);
    for (const unsigned char *p = (const unsigned char *)text; *p;) {
        int len = utf8_length(p);
        if (len == 0) {
            fputs("\\ufffd", f);
            p++;
        } else if (len > 1) {
            fwrite(p, 1, (size_t)len, f);
            p += len;
        } else {
            if (*p == '"' || *p == '\\')
                fprintf(f, "\\%c", *p);
            else if (*p < 0x20 || *p == 0x7f)
                fprintf(f, "\\u%04x", *p);
            else
                putc(*p, f);
            p++;
        }
    }
    putc('"', f);
}

int cli_library_error(int status, const char *message)
{
    if (status == STRATA_E_CANCELLED && cli_interrupted())
        cli_end_by_signal(); /* Ctrl-C: no message, the shell sees the signal */
    int code = status == STRATA_E_IO_EXISTS ? CLI_EXISTS
               : status == STRATA_E_PARAM   ? CLI_USAGE
                                            : CLI_RUNTIME;
    return cli_error(code, "%s", message && message[0] ? message : strata_status_str(status));
}

/* An integer >= min; the usage error says the option must be
 * "<before>an integer >= min<after>". */
static int parse_int_as(const char *option, const char *text, int64_t min, int64_t *out,
                        const char *before, const char *after)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end != text && *end == '\0' && errno == ERANGE && v > 0)
        return cli_error(CLI_USAGE, "%s is too large: '%s' (at most %lld)", option, text,
                         (long long)INT64_MAX);
    if (end == text || *end != '\0' || errno == ERANGE || v < min)
        return cli_error(CLI_USAGE, "%s must be %san integer >= %lld%s, got '%s'", option, before,
                         (long long)min, after, text);
    *out = v;
    return CLI_OK;
}

int cli_parse_int(const char *option, const char *text, int64_t min, int64_t *out)
{
    return parse_int_as(option, text, min, out, "", "");
}

int64_t cli_day_from_date(int64_t y, int m, int d)
{
    /* days_from_civil of H. Hinnant, "chrono-Compatible Low-Level Date
     * Algorithms": eras of 400 years (146097 days), years starting on 1 March
     * so that the leap day ends one */
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;                                  /* 0..399 */
    const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* 0..146096 */
    return era * 146097 + doe - 719468;
}

void cli_date_of_day(int64_t day, int64_t *y, int *m, int *d)
{
    day += 719468; /* days since 0000-03-01 */
    const int64_t era = (day >= 0 ? day : day - 146096) / 146097;
    const int64_t doe = day - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153; /* 0 = March .. 11 = February */
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* The value of the n digits at p, or -1 if any is no digit. */
static int digits(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

int cli_parse_day(const char *option, const char *text, int64_t min, int64_t *out)
{
    /* a date: a digit first and a '-' after it (no day number has one) */
    if (text[0] >= '0' && text[0] <= '9' && strchr(text, '-')) {
        int y = -1, m = -1, d = -1;
        if (strlen(text) == 10 && text[4] == '-' && text[7] == '-') {
            y = digits(text, 4);
            m = digits(text + 5, 2);
            d = digits(text + 8, 2);
        }
        if (y < 0 || m < 0 || d < 0)
            return cli_error(CLI_USAGE, "%s must be a day number or a date YYYY-MM-DD "
                             "(e.g. 1997-09-30, day 10134), got '%s'", option, text);
        if (y < 1)
            return cli_error(CLI_USAGE, "%s: the year of '%s' is out of range (dates of the "
                             "years 0001 to 9999)", option, text);
        static const int LAST[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        const int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (m < 1 || m > 12)
            return cli_error(CLI_USAGE, "%s: '%s' is no date: month %02d (months are 01 to "
                             "12)", option, text, m);
        const int last = LAST[m - 1] + (m == 2 && leap);
        if (d < 1 || d > last)
            return cli_error(CLI_USAGE, "%s: '%s' is no date: day %02d (%04d-%02d has %d "
                             "days)", option, text, d, y, m, last);
        const int64_t day = cli_day_from_date(y, m, d);
        if (day < min)
            return cli_error(CLI_USAGE, "%s: %s is day %lld, before the first day allowed, "
                             "%lld", option, text, (long long)day, (long long)min);
        *out = day;
        return CLI_OK;
    }
    return parse_int_as(option, text, min, out, "a day number (", ") or a date YYYY-MM-DD");
}

const char *cli_day_text(int64_t day, char buf[CLI_DAY_TEXT])
{
    if (day < CLI_DAY_FIRST_DATE || day > CLI_DAY_LAST_DATE) {
        snprintf(buf, CLI_DAY_TEXT, "%lld", (long long)day);
        return buf;
    }
    int64_t y;
    int m, d;
    cli_date_of_day(day, &y, &m, &d);
    snprintf(buf, CLI_DAY_TEXT, "%lld (%04lld-%02d-%02d)", (long long)day, (long long)y, m, d);
    return buf;
}

int cli_parse_count(const char *option, const char *text, int64_t min, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    int64_t unit = 1;
    if (end != text && *end && !end[1])
        switch (*end) {
        case 'k': case 'K': unit = 1000; end++; break;
        case 'm': case 'M': unit = 1000000; end++; break;
        case 'g': case 'G': unit = 1000000000; end++; break;
        default: break;
        }
    if (end == text || *end != '\0' || errno == ERANGE || v < 0 || v > INT64_MAX / unit ||
        (int64_t)v * unit < min)
        return cli_error(CLI_USAGE, "%s must be an integer >= %lld, plain or with a K, M or G "
                         "suffix (thousands, millions, billions), e.g. 100M; got '%s'", option,
                         (long long)min, text);
    *out = (int64_t)v * unit;
    return CLI_OK;
}

int cli_parse_size(const char *option, const char *text, int64_t *out)
{
    /* DIGITS[.DIGITS][K|M|G|T[B|iB]] or DIGITS[B], case aside, blanks around
     * ignored: no sign, exponent, hex or blank inside ("0.9" was 0 bytes,
     * "0x10M" hex, "1e9" an exponent under strtod) */
    static const char units[] = "KMGT";
    const char *p = text;
    while (*p == ' ' || *p == '\t')
        p++;
    uint64_t whole = 0, frac = 0, scale = 1;
    int digits = 0, frac_digits = 0, bad = 0, nonzero = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        nonzero |= *p != '0';
        bad |= whole > (UINT64_MAX - 9) / 10;
        whole = whole * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++, frac_digits++) {
            nonzero |= *p != '0';
            if (scale < 1000000) { /* six digits: frac << 40 stays far below 2^64 */
                frac = frac * 10 + (uint64_t)(*p - '0');
                scale *= 10;
            }
        }
    int shift = 0;
    const char *u = *p ? strchr(units, *p & ~0x20) : NULL;
    if (u) {
        shift = 10 * (int)(u - units + 1);
        p++;
        if ((*p == 'i' || *p == 'I') && (p[1] == 'B' || p[1] == 'b'))
            p++;
        if (*p == 'B' || *p == 'b')
            p++;
    } else if ((*p == 'B' || *p == 'b') && !frac_digits) {
        p++;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    /* bytes = whole << shift + frac * 2^shift / scale (rounded down) */
    bad |= !digits || *p || (frac_digits && !shift) || whole > (uint64_t)INT64_MAX >> shift;
    uint64_t bytes = bad ? 0 : (whole << shift) + ((frac << shift) / scale);
    if (bad || bytes > (uint64_t)INT64_MAX || (bytes == 0 && nonzero))
        return cli_error(CLI_USAGE, "%s must be a size in bytes >= 0: digits, or a number with a "
                         "K, M, G or T suffix (powers of 1024), e.g. 1G, 1.5G, 512M or 1000000 "
                         "(0: no limit); got '%s'", option, text);
    *out = (int64_t)bytes;
    return CLI_OK;
}

int cli_size_from_env(const char *variable, int64_t *out)
{
    const char *text = getenv(variable);
    if (!text || !*text)
        return CLI_OK;
    return cli_parse_size(variable, text, out);
}

int cli_parse_k(const char *option, const char *text, int range_only, int64_t *lo, int64_t *hi)
{
    const char *colon = strchr(text, ':');
    if (!colon && !range_only) {
        int rc = cli_parse_int(option, text, 1, lo);
        *hi = *lo;
        return rc;
    }
    char first[32];
    size_t len = colon ? (size_t)(colon - text) : 0;
    if (len == 0 || len >= sizeof first)
        return cli_error(CLI_USAGE, "%s must be %sKMIN:KMAX, got '%s'", option,
                         range_only ? "a range " : "K or ", text);
    memcpy(first, text, len);
    first[len] = '\0';
    int rc = cli_parse_int(option, first, 2, lo);
    if (!rc)
        rc = cli_parse_int(option, colon + 1, 2, hi);
    if (!rc && *hi < *lo)
        rc = cli_error(CLI_USAGE, "%s %s: KMAX is below KMIN", option, text);
    return rc;
}

int cli_init_method(const char *name)
{
    static const struct {
        const char *name;
        int code;
    } M[] = {{"k-means++", STRATA_INIT_KMEANSPP}, {"k-means||", STRATA_INIT_KMEANS_PARALLEL},
             {"afk-mc2", STRATA_INIT_AFKMC2}, {"random", STRATA_INIT_RANDOM}};
    for (size_t i = 0; name && i < sizeof M / sizeof M[0]; i++)
        if (!strcmp(name, M[i].name))
            return M[i].code;
    return -1;
}

int cli_parse_double(const char *option, const char *text, double min, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE || !isfinite(v) || v < min)
        return cli_error(CLI_USAGE, "%s must be a number >= %g, got '%s'", option, min, text);
    *out = v;
    return CLI_OK;
}

int cli_split_target(const char *text, char **file, const char **dataset)
{
    const char *sep = NULL;
    for (const char *p = strchr(text, ':'); p; p = strchr(p + 1, ':'))
        if (p[1] == '/')
            sep = p;
    if (!sep || sep == text)
        return CLI_USAGE;
    *file = strndup(text, (size_t)(sep - text));
    if (!*file)
        return cli_error(CLI_RUNTIME, "out of memory");
    *dataset = sep + 1;
    return CLI_OK;
}

int cli_one_input(int argc, char *const argv[], int first, const char *what,
                  const char *command, const char **input)
{
    if (first >= argc)
        return cli_error(CLI_USAGE, "missing input %s (see 'strata %s --help')", what, command);
    if (first + 1 < argc)
        return cli_error(CLI_USAGE, "unexpected argument '%s' (one input only)", argv[first + 1]);
    *input = argv[first];
    return CLI_OK;
}

int cli_bad_option(const char *command, int ret, char *const argv[])
{
    const char *opt = argv[optind - 1];
    if (ret == ':')
        return cli_error(CLI_USAGE, "option '%s' needs a value (see 'strata %s --help')", opt,
                         command);
    if (optopt && strncmp(opt, "--", 2) != 0)
        return cli_error(CLI_USAGE, "unknown option '-%c' (see 'strata %s --help')", optopt,
                         command);
    return cli_error(CLI_USAGE, "unknown option '%s' (see 'strata %s --help')", opt, command);
}

int cli_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* "a FIFO", "a symbolic link", ... */
static const char *kind(mode_t mode)
{
    return S_ISDIR(mode)    ? "a directory"
           : S_ISLNK(mode)  ? "a symbolic link"
           : S_ISFIFO(mode) ? "a FIFO"
           : S_ISCHR(mode)  ? "a character device"
           : S_ISBLK(mode)  ? "a block device"
           : S_ISSOCK(mode) ? "a socket"
                            : "not a regular file";
}

/* The command's output (cli_check_files) and the file at that path when its
 * write began: a signal in a write whose temporary is gone finds there
 * whether the new file is in place (output_in_place). */
static char g_out[4096];
static struct {
    int existed;
    dev_t dev;
    ino_t ino;
} g_out_was;

static void note_output(void)
{
    struct stat st;
    g_out_was.existed = g_out[0] && stat(g_out, &st) == 0;
    g_out_was.dev = g_out_was.existed ? st.st_dev : 0;
    g_out_was.ino = g_out_was.existed ? st.st_ino : 0;
}

/* Async-signal-safe (stat): is another file at the output's path than when
 * the write began, i.e. the new one renamed into place? */
static int output_in_place(void)
{
    struct stat st;
    return g_out[0] && stat(g_out, &st) == 0 &&
           (!g_out_was.existed || st.st_dev != g_out_was.dev || st.st_ino != g_out_was.ino);
}

int cli_check_files(const cli_input *inputs, int n, const char *output, int force)
{
    struct stat in, out;
    if (output && !output[0]) /* else the whole run, then "cannot rename ... to ''" */
        return cli_error(CLI_USAGE, "the output file name is empty");
    g_out[0] = '\0';
    if (output && strlen(output) < sizeof g_out)
        memcpy(g_out, output, strlen(output) + 1);
    int have_out = output && stat(output, &out) == 0; /* through links: what a write would hit */
    for (int i = 0; i < n; i++) {
        if (!inputs[i].path || stat(inputs[i].path, &in) != 0)
            continue;
        if (!S_ISREG(in.st_mode))
            return cli_error(CLI_RUNTIME, "cannot read %s '%s': it is %s, not a regular file",
                             inputs[i].what, inputs[i].path, kind(in.st_mode));
        if (have_out && in.st_dev == out.st_dev && in.st_ino == out.st_ino)
            return cli_error(CLI_USAGE, "output '%s' is the %s%s (an input is never replaced, "
                             "even with --force)", output, inputs[i].what,
                             strcmp(output, inputs[i].path) ? ", under another name" : "");
    }
    if (!output || lstat(output, &out) != 0)
        return CLI_OK;
    if (!S_ISREG(out.st_mode))
        return cli_error(CLI_USAGE, "output '%s' is %s: only a regular file is written or "
                         "replaced, even with --force", output, kind(out.st_mode));
    if (!force)
        return cli_error(CLI_EXISTS, "'%s' already exists; use --force to replace it", output);
    return CLI_OK;
}

/* Cancellation by a signal: 0, or the first signal taken while the command
 * polls it (cli_cancel_on_signals), and when (monotonic seconds). */
static volatile sig_atomic_t g_cooperative, g_signal, g_writing;
static volatile double g_signal_at;
/* A file a signal removes, then a folder it removes if empty
 * (cli_remove_file_on_signal, cli_remove_dir_on_signal; "" none). */
static char g_file[4096], g_dir[4096];

static void keep_name(char *to, size_t cap, const char *name)
{
    to[0] = '\0';
    if (name && strlen(name) < cap)
        memcpy(to, name, strlen(name) + 1);
}

void cli_remove_dir_on_signal(const char *dir)
{
    keep_name(g_dir, sizeof g_dir, dir);
}

void cli_remove_file_on_signal(const char *file)
{
    keep_name(g_file, sizeof g_file, file);
}

/* Async-signal-safe: unlink and rmdir. */
static void remove_made(void)
{
    if (g_file[0])
        (void)unlink(g_file);
    if (g_dir[0])
        (void)rmdir(g_dir); /* fails unless empty */
}

/* Async-signal-safe: no stdio, no allocation (clock_gettime is safe). While
 * a command polls (its step callback, outside a write), the first signal
 * only asks it to stop, and nothing is removed under the running fit (an
 * out-of-core RFM fit still reads its spill files): the library removes its
 * temporaries as it cancels, and the command ends by the signal
 * (cli_end_by_signal). During a write (from its first WRITE report to its
 * last), in a command that does not poll, or at a second signal a second or
 * more after the first (a run that does not reach its next report), the
 * program ends at once: temporaries removed, default action. The supervisor
 * passes the terminal's Ctrl-C on, so the same signal comes twice at once:
 * that one is not a second Ctrl-C. */
static void on_signal(int sig)
{
    double now = cli_now();
    if (g_cooperative && (!g_signal || now - g_signal_at < 1.0)) {
        if (!g_signal) {
            g_signal_at = now;
            g_signal = sig;
        }
        return;
    }
    /* A write whose temporary is gone but whose new file is in place (the
     * moment between the library's rename and its report): the run has
     * written its output, so the signal only asks it to stop, as after
     * that report; ending here would say that nothing was written. */
    if (!strata_discard_temp_file() && g_writing && output_in_place()) {
        if (!g_signal) {
            g_signal_at = now;
            g_signal = sig;
        }
        return;
    }
    remove_made();
    cli_progress_clear_now(); /* the bar's line left clean */
    signal(sig, SIG_DFL);
    raise(sig); /* blocked until the handler returns: the default action ends the program */
}

void cli_cancel_on_signals(void)
{
    g_cooperative = 1;
}

void cli_writing(int writing)
{
    if (writing && !g_writing)
        note_output(); /* the file the write will replace */
    g_writing = writing;
    g_cooperative = !writing;
}

int cli_interrupted(void)
{
    return g_signal;
}

void cli_end_by_signal(void)
{
    int sig = g_signal ? g_signal : SIGINT;
    cli_progress_end(); /* leave the terminal's line clean */
    (void)strata_discard_temp_file();
    remove_made();
    fflush(NULL);
    signal(sig, SIG_DFL);
    raise(sig);
    _exit(128 + sig); /* not reached */
}

/* The signals whose default action ends a process and that a run handles
 * (temporary removed, then the same signal): the supervisor passes each on
 * to its run. */
static const int ENDING_SIGNALS[] = {SIGINT,  SIGTERM, SIGHUP,  SIGPIPE, SIGQUIT,
                                     SIGUSR1, SIGUSR2, SIGALRM, SIGXCPU};

void cli_clean_up_on_signals(void)
{
    /* SIGPIPE too: the reader of our stdout or stderr went away (strata gen
     * ... --progress json 2>&1 | head -1) */
    /* Past the file size limit (ulimit -f) a write then fails with EFBIG,
     * reported as an error, where SIGXFSZ would end the program. */
    signal(SIGXFSZ, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = 0};
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof ENDING_SIGNALS / sizeof *ENDING_SIGNALS; i++) {
        struct sigaction old;
        if (sigaction(ENDING_SIGNALS[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(ENDING_SIGNALS[i], &sa, NULL);
    }
}

static int g_spin_limit; /* cli_supervise_spin_limit */

void cli_supervise_spin_limit(int seconds)
{
    const char *env = getenv("STRATA_SPIN_LIMIT_S"); /* tests: a shorter wait */
    g_spin_limit = env && atoi(env) > 0 ? atoi(env) : seconds;
}

/* The bytes the process pid has read (rchar) and the CPU time it has used
 * (clock ticks): 0, or -1 where /proc does not tell. */
static int child_usage(pid_t pid, unsigned long long *read_bytes, unsigned long long *cpu)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
    FILE *f = fopen(path, "r");
    int got = 0;
    if (f) {
        while (fgets(buf, sizeof buf, f))
            if (sscanf(buf, "rchar: %llu", read_bytes) == 1)
                got |= 1;
        fclose(f);
    }
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f) {
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fclose(f);
        const char *p = strrchr(buf, ')'); /* the command name may hold anything */
        unsigned long long ut, st;
        /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt
         * majflt cmajflt utime stime */
        if (p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                        &st) == 2) {
            *cpu = ut + st;
            got |= 2;
        }
    }
    return got == 3 ? 0 : -1;
}

/* cmd, then its standard output flushed: a write that failed there (a full
 * disk, /dev/full, a closed descriptor) fails the run, for stdout can be
 * the command's only output (strata info, sweep). */
static int run_flushed(int argc, char **argv, int (*cmd)(int, char **))
{
    int rc = cmd(argc, argv);
    errno = 0;
    if ((fflush(stdout) != 0 || ferror(stdout)) && rc == CLI_OK)
        rc = cli_error(CLI_RUNTIME, "cannot write the standard output: %s",
                       errno ? strerror(errno) : "write error");
    return rc;
}

int cli_supervise(int argc, char **argv, int (*cmd)(int, char **))
{
    const char *off = getenv("STRATA_NO_SUPERVISOR");
    if (off && off[0] && strcmp(off, "0"))
        return run_flushed(argc, argv, cmd);
    /* The signals to pass on are blocked here and taken with sigtimedwait
     * (no handler runs in this process: a sanitizer's runtime may hold a
     * handler back until waitpid returns); SIGCHLD says the child ended. */
    sigset_t wait_for, old_mask;
    sigemptyset(&wait_for);
    for (size_t i = 0; i < sizeof ENDING_SIGNALS / sizeof *ENDING_SIGNALS; i++)
        sigaddset(&wait_for, ENDING_SIGNALS[i]); /* passed on to the child */
    sigaddset(&wait_for, SIGCHLD);
    fflush(NULL);
    if (sigprocmask(SIG_BLOCK, &wait_for, &old_mask) != 0)
        return run_flushed(argc, argv, cmd);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid <= 0) {
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        if (pid < 0)
            return run_flushed(argc, argv, cmd);
        /* Die with the supervisor (kill -9 of it must stop the work too). */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(CLI_RUNTIME);
        exit(run_flushed(argc, argv, cmd));
    }
    int status;
    const double ticks = (double)sysconf(_SC_CLK_TCK);
    unsigned long long last_read = 0, cpu_then = 0;
    for (;;) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid)
            break;
        if (done < 0 && errno != EINTR)
            return cli_error(CLI_RUNTIME, "lost the worker process: %s", strerror(errno));
        const struct timespec tick = {1, 0}; /* SIGCHLD wakes us; the tick is a safety net */
        int sig = sigtimedwait(&wait_for, NULL, &tick);
        if (sig > 0 && sig != SIGCHLD)
            kill(pid, sig);
        /* A child that only reads metadata (strata info) and has used the
         * limit in CPU time without reading a byte is in a loop: libhdf5
         * loops on some damaged files (a global heap whose size overstates
         * it). CPU time, not wall time: one waiting on a slow disk uses none
         * and is left alone, and a busy machine only delays the verdict. */
        unsigned long long read_bytes, cpu;
        if (g_spin_limit > 0 && ticks > 0 && child_usage(pid, &read_bytes, &cpu) == 0) {
            if (read_bytes != last_read) {
                last_read = read_bytes;
                cpu_then = cpu;
            } else if ((double)(cpu - cpu_then) >= g_spin_limit * ticks) {
                kill(pid, SIGKILL);
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
                }
                return cli_error(CLI_RUNTIME, "the run computed for %d s (CPU time) without "
                                 "reading its input "
                                 "and was stopped: a damaged file that libhdf5 loops on "
                                 "(docs/reliability.md); nothing was written", g_spin_limit);
            }
        }
    }
    /* The signals stay blocked: one that comes now, the child's work done
     * (its file in place), must not end this process as if nothing had
     * been written; it is dropped at the exit. */
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    int sig = WTERMSIG(status);
    /* A signal passed on (or SIGPIPE: the reader of our output went away,
     * strata tiers ... | head), not a crash: end as the child did, as `cat |
     * head` does (its handler removed the temporary of a write in progress,
     * or cancelled the run). Only the crash signals get the message below. */
    if (sig == SIGXCPU) /* the CPU time limit, not a crash: ends as the child did */
        cli_error(CLI_RUNTIME, "the run reached the CPU time limit of this process (ulimit -t) "
                  "and was stopped; nothing was written");
    if (sig != SIGSEGV && sig != SIGBUS && sig != SIGABRT && sig != SIGFPE && sig != SIGILL &&
        sig != SIGSYS && sig != SIGTRAP) {
        signal(sig, SIG_DFL); /* end as the child did, for the shell */
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, sig);
        sigprocmask(SIG_UNBLOCK, &one, NULL);
        raise(sig);
    }
    return cli_error(CLI_RUNTIME, "the run crashed (%s) and wrote nothing: a corrupt input that "
                     "libhdf5 cannot read safely (docs/reliability.md), or a defect to report",
                     strsignal(sig));
}

long cli_next_name(const char **p, char *out, size_t cap, int *sep)
{
    if (sep)
        *sep = 0;
    if (!*p || !**p)
        return -1;
    size_t len = 0;
    const char *s = *p;
    for (; *s && *s != ','; s++) {
        if (*s == '\\' && (s[1] == ',' || s[1] == '\\')) /* other backslashes are text */
            s++;
        if (len + 1 < cap)
            out[len] = *s;
        len++;
    }
    out[len < cap ? len : cap - 1] = '\0';
    if (sep)
        *sep = *s == ',';
    *p = *s ? s + 1 : s;
    return (long)len;
}

char *cli_shell_word(const char *text)
{
    size_t len = strlen(text);
    int plain = len > 0, control = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        plain &= (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                 (*p && strchr("_@%+=:,./-", *p));
        control |= *p < 0x20 || *p == 0x7f;
    }
    char *out = malloc(4 * len + 4), *o = out; /* \xHH a byte at most, $'' */
    if (!out || plain)
        return out ? memcpy(out, text, len + 1) : NULL;
    if (control)
        *o++ = '$';
    *o++ = '\'';
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (control && (*p < 0x20 || *p == 0x7f || *p == '\\' || *p == '\''))
            o += sprintf(o, "\\x%02x", *p);
        else if (*p == '\'')
            o += sprintf(o, "'\\''");
        else
            *o++ = (char)*p;
    }
    *o++ = '\'';
    *o = '\0';
    return out;
}

char *cli_shell_join(const char *prefix, int n, char *const argv[])
{
    size_t len = strlen(prefix) + 1, at = strlen(prefix);
    char *out = malloc(len);
    if (out)
        memcpy(out, prefix, len);
    for (int i = 0; out && i < n; i++) {
        char *w = cli_shell_word(argv[i]);
        char *grown = w ? realloc(out, at + strlen(w) + 2) : NULL;
        if (!grown) {
            free(out);
            out = NULL;
        } else {
            out = grown;
            at += (size_t)sprintf(out + at, " %s", w);
        }
        free(w);
    }
    return out;
}

double cli_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
