#include "cli_progress.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"

enum { MODE_AUTO, MODE_NONE, MODE_BAR, MODE_JSON };

static struct {
    int mode, quiet, shown; /* shown: a bar is on the line */
    double t0, step_t0, last_draw;
    int step; /* the step on the bar, with its last report: */
    int64_t run, done, total;
    double value;
    int sub;  /* a step reported within it (0: none), with its last report: */
    int64_t sub_done, sub_total;
    double sub_t0; /* when the sub step began (its first report) */
    const char *vname; /* what the bar's ITERATE value is: "inertia", "loglik" */
    int dumb;          /* TERM is dumb (or unset): no escape codes, spaces clear */
    char clear[400];   /* what erases the bar's line (written from a signal handler) */
    size_t clear_len;
    int64_t sweep_k_min, sweep_nk; /* a k sweep's range (nk 0: none) */
    int64_t sweep_k;               /* the k its fits report on now (0: none) */
} P = {.mode = MODE_AUTO, .clear = "\r\033[K", .clear_len = 4};

int cli_progress_option(int opt, const char *arg, int *rc)
{
    if (opt == CLI_OPT_QUIET) {
        P.quiet = 1;
        *rc = CLI_OK;
        return 1;
    }
    if (opt != CLI_OPT_PROGRESS)
        return 0;
    *rc = CLI_OK;
    if (!strcmp(arg, "bar"))
        P.mode = MODE_BAR;
    else if (!strcmp(arg, "json"))
        P.mode = MODE_JSON;
    else if (!strcmp(arg, "none"))
        P.mode = MODE_NONE;
    else
        *rc = cli_error(CLI_USAGE, "--progress must be bar, json or none, got '%s'", arg);
    return 1;
}

void cli_progress_scan(int argc, char **argv)
{
    P.t0 = cli_now(); /* every JSON line's elapsed_s, the early errors' too */
    const char *last = NULL; /* the last --progress, as the option parser takes it */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (!strncmp(argv[i], "--progress=", 11))
            last = argv[i] + 11;
        else if (!strcmp(argv[i], "--progress") && i + 1 < argc)
            last = argv[++i];
    if (last && !strcmp(last, "json"))
        P.mode = MODE_JSON;
}

void cli_progress_begin(const char *command)
{
    (void)command;
    if (P.mode == MODE_AUTO)
        P.mode = !P.quiet && isatty(STDERR_FILENO) ? MODE_BAR : MODE_NONE;
    if (P.quiet && P.mode == MODE_BAR)
        P.mode = MODE_NONE;
    const char *term = getenv("TERM");
    P.dumb = !term || !term[0] || !strcmp(term, "dumb");
    if (P.quiet) {
        fflush(stdout);
        if (!freopen("/dev/null", "w", stdout))
            P.quiet = 1; /* stdout is then closed: prints fail quietly, as asked */
    }
    const double now = cli_now();
    if (P.t0 <= 0) /* a second command of the run (strata demo's tiers) keeps the clock */
        P.t0 = now;
    P.step_t0 = now;
    P.step = 0;
    cli_cancel_on_signals();
}

/* A line on stderr in one write(2), so that a signal that ends the program
 * at once never leaves half of one (a JSON line a script cannot parse). */
static void put_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void put_line(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (len < 0)
        return;
    fflush(stderr);
    size_t left = (size_t)len < sizeof line ? (size_t)len : sizeof line - 1;
    for (const char *p = line; left > 0;) {
        ssize_t k = write(STDERR_FILENO, p, left);
        if (k <= 0)
            break; /* EPIPE and the like: the display is best effort */
        p += k;
        left -= (size_t)k;
    }
}

/* The terminal's width (stderr's), else $COLUMNS, else 80. */
static int columns(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *c = getenv("COLUMNS");
    const int n = c ? atoi(c) : 0;
    return n > 0 ? n : 80;
}

/* "1h02m", "3m05s", "12s" */
static void duration(char *buf, size_t len, double s)
{
    if (!isfinite(s) || s < 0)
        snprintf(buf, len, "?");
    else if (s >= 3600)
        snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else if (s >= 60)
        snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, len, "%.0fs", s);
}

/* Whether a report of `step` is part of the step on the bar rather than a
 * step of its own: a streamed fit's READ passes within a seeding or an
 * iteration, a sweep's fits (SEED, ITERATE, READ) and silhouettes within
 * its SCORE. */
static int nested(int step)
{
    if (step == STRATA_STEP_READ && (P.step == STRATA_STEP_SEED || P.step == STRATA_STEP_ITERATE))
        return 1;
    return P.step == STRATA_STEP_SCORE && P.done < P.total &&
           (step == STRATA_STEP_SEED || step == STRATA_STEP_ITERATE || step == STRATA_STEP_READ ||
            step == STRATA_STEP_SILHOUETTE);
}

/* The nested report after the bar: "  (read 45%)", "  (seed 3/16)". */
static int sub_text(char *buf, size_t len)
{
    if (!P.sub)
        return 0;
    if ((P.sub == STRATA_STEP_READ || P.sub == STRATA_STEP_SILHOUETTE) && P.sub_total > 0)
        return snprintf(buf, len, "  (%s %.0f%%)", strata_step_name(P.sub),
                        100.0 * (double)P.sub_done / (double)P.sub_total);
    if (P.sweep_k)
        return snprintf(buf, len, "  (k %lld: %s %lld/%lld)", (long long)P.sweep_k,
                        strata_step_name(P.sub), (long long)P.sub_done, (long long)P.sub_total);
    return snprintf(buf, len, "  (%s %lld/%lld)", strata_step_name(P.sub), (long long)P.sub_done,
                    (long long)P.sub_total);
}

static void draw_bar(int step, int64_t run, int64_t done, int64_t total, double value, double now)
{
    const char *vname = P.vname ? P.vname : "inertia";
    char line[320], eta[32];
    const double in_step = now - P.step_t0;
    const double rate = in_step > 0 ? (double)done / in_step : 0.0;
    int len;
    if (step == STRATA_STEP_ITERATE) {
        len = snprintf(line, sizeof line, "iterate  run %lld  iteration %lld/%lld  %s %.6g",
                       (long long)run, (long long)done, (long long)total, vname, value);
    } else if (total > 0) {
        const double frac = (double)done / (double)total;
        char bar[21];
        int filled = (int)(frac * 20.0 + 1e-9);
        for (int i = 0; i < 20; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[20] = '\0';
        double left = rate > 0 ? (double)(total - done) / rate : NAN;
        if (P.sub == STRATA_STEP_SILHOUETTE) /* the sweep's last unit, often most of it */
            left = P.sub_done > 0 ? (now - P.sub_t0) * (double)(P.sub_total - P.sub_done) /
                                        (double)P.sub_done
                                  : NAN;
        duration(eta, sizeof eta, left);
        len = snprintf(line, sizeof line, "%-9s [%s] %5.1f%%", strata_step_name(step), bar,
                       100.0 * frac);
        if (total > 1 && len > 0 && (size_t)len < sizeof line)
            len += snprintf(line + len, sizeof line - (size_t)len, "  %.3g%s/s  ETA %s", rate,
                            step == STRATA_STEP_AGGREGATE ? " rows" : "", /* READ: rows or values */
                            done < total ? eta : "0s");
    } else {
        len = snprintf(line, sizeof line, "%-9s %lld", strata_step_name(step), (long long)done);
    }
    if (len > 0 && (size_t)len < sizeof line)
        sub_text(line + len, sizeof line - (size_t)len);
    /* one row of the terminal: a wrapped line is not erased by \r (ASCII only) */
    const int cols = columns() - 1;
    if (cols > 0 && strlen(line) > (size_t)cols)
        line[cols] = '\0';
    const size_t shown = strlen(line);
    if (P.dumb) { /* spaces, not an escape code, clear what the last line left */
        const size_t before = P.clear_len > 2 ? P.clear_len - 2 : 0;
        P.clear_len = 0; /* as it is rebuilt, a signal handler writes nothing */
        put_line("\r%s%*s", line, before > shown ? (int)(before - shown) : 0, "");
        P.clear[0] = '\r';
        memset(P.clear + 1, ' ', shown);
        P.clear[shown + 1] = '\r';
        P.shown = 1;
        P.clear_len = shown + 2;
    } else {
        P.shown = 1; /* first: a signal during the write below still clears the line */
        put_line("\r%s\033[K", line);
    }
    P.last_draw = now;
}

static void print_json(int step, int64_t run, int64_t done, int64_t total, double value,
                       const char *vname, double now)
{
    char iterate[96] = "", k[32] = "";
    if (step == STRATA_STEP_ITERATE)
        snprintf(iterate, sizeof iterate, isfinite(value) ? ",\"iteration\":%lld,\"%s\":%.17g"
                                                          : ",\"iteration\":%lld,\"%s\":null",
                 (long long)done, vname, value);
    if (P.sweep_k && (step == STRATA_STEP_SEED || step == STRATA_STEP_ITERATE ||
                      step == STRATA_STEP_READ))
        snprintf(k, sizeof k, ",\"k\":%lld", (long long)P.sweep_k);
    put_line("{\"step\":\"%s\",\"run\":%lld,\"done\":%lld,\"total\":%lld%s%s,"
             "\"elapsed_s\":%.6f}\n",
             strata_step_name(step), (long long)run, (long long)done, (long long)total, iterate, k,
             now - P.t0);
}

int cli_progress_error(const char *message, int exit_code)
{
    if (P.mode != MODE_JSON)
        return 0;
    /* one write for the whole line, as cli_error() does */
    char line[8192];
    FILE *f = fmemopen(line, sizeof line, "w");
    if (!f)
        return 0; /* the plain line, then */
    fputs("{\"step\":\"error\",\"message\":", f);
    cli_json_string(f, message);
    fprintf(f, ",\"exit_status\":%d", exit_code);
    if (P.t0 > 0)
        fprintf(f, ",\"elapsed_s\":%.6f", cli_now() - P.t0);
    fputs("}\n", f);
    const int fits = !ferror(f) && ftell(f) < (long)sizeof line - 1;
    fclose(f);
    if (!fits)
        return 0;
    fputs(line, stderr);
    fflush(stderr);
    return 1;
}

static void show(int step, int64_t run, int64_t done, int64_t total, double value,
                 const char *vname)
{
    if (P.mode != MODE_BAR && P.mode != MODE_JSON)
        return;
    const double now = cli_now();
    if (P.mode == MODE_JSON) { /* every report, nested or not */
        print_json(step, run, done, total, value, vname, now);
        return;
    }
    if (nested(step)) { /* the bar's step stays, its line gains the report */
        if (step != P.sub)
            P.sub_t0 = now;
        P.sub = step;
        P.sub_done = done;
        P.sub_total = total;
        if (now - P.last_draw >= 0.1)
            draw_bar(P.step, P.run, P.done, P.total, P.value, now);
        return;
    }
    const int fresh = step != P.step || run != P.run;
    if (fresh) {
        P.step = step;
        P.run = run;
        P.step_t0 = now;
    }
    P.done = done;
    P.total = total;
    P.value = value;
    P.vname = vname;
    P.sub = 0;
    if (fresh || done == total || now - P.last_draw >= 0.1) /* at most 10 redraws a second */
        draw_bar(step, run, done, total, value, now);
}

const char cli_progress_loglik[] = "loglik";

int cli_progress_step(void *user, int step, int64_t run, int64_t done, int64_t total,
                      double value)
{
    /* 0 of 1: a write starts; 1 of 1: its file is in place. Before the
     * report is shown: a signal sent on seeing it meets the right mode. */
    if (step == STRATA_STEP_WRITE && (!cli_interrupted() || done >= total))
        cli_writing(done < total);
    /* a sweep's SCORE: done of nk + 1, k_min + done the k fitted next
     * (one by one; fits run in parallel report nothing) */
    if (step == STRATA_STEP_SCORE && P.sweep_nk)
        P.sweep_k = done < P.sweep_nk && total == P.sweep_nk + 1 ? P.sweep_k_min + done : 0;
    show(step, run, done, total, value, user == CLI_PROGRESS_LOGLIK ? "loglik" : "inertia");
    return cli_interrupted() ? 1 : 0;
}

void cli_progress_note(int step, int64_t done, int64_t total)
{
    /* the last WRITE: the file is in place, a signal now cancels nothing */
    if (cli_progress_step(NULL, step, 0, done, total, NAN) &&
        !(step == STRATA_STEP_WRITE && done >= total)) {
        cli_progress_end();
        cli_end_by_signal();
    }
}

void cli_progress_clear_now(void)
{
    if (P.shown && P.clear_len && write(STDERR_FILENO, P.clear, P.clear_len) > 0)
        P.shown = 0;
}

void cli_progress_sweep(int64_t k_min, int64_t k_max)
{
    P.sweep_k_min = k_min;
    P.sweep_nk = k_max >= k_min ? k_max - k_min + 1 : 0;
    P.sweep_k = 0;
}

void cli_progress_end(void)
{
    if (P.shown) {
        fwrite(P.clear, 1, P.clear_len, stderr);
        fflush(stderr);
        P.shown = 0;
    }
}
