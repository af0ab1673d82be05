/*
 * The progress line of `sitrep ingest` and `sitrep collect --once` in a real
 * terminal (app/progress.c): rows, rate, and for a file percent and time
 * left, rewritten in place and replaced by the summary at the end; a name
 * with an escape sequence shown harmless; and nothing at all on a stderr
 * that is not a terminal.
 *
 * The ingest reads a FIFO that the test keeps feeding until the line shows,
 * so that the line's first appearance (a quarter of a second after the
 * start) never races the end of the input.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../helpers.h"
#include "tmux.h"

static char dir[256];
static char cfg[512];
static char bin[1024];
static tmux_t T;

static void setup(void)
{
    tmux_setup(&T, dir, sizeof dir, cfg, sizeof cfg, "sitrep.ini");
    char ini[2048];
    snprintf(ini, sizeof ini,
             "[sitrep]\ncache = %s/cache.db\ntimezone = UTC\nretention = 10000d\n"
             "[metric.rt]\nkind = event\nunit = s\n",
             dir);
    th_write_file(cfg, ini);
    th_sitrep_abs(bin, sizeof bin);
    signal(SIGPIPE, SIG_IGN);
}

static void teardown(void)
{
    tmux_teardown(&T, dir);
}

TestSuite(progress, .init = setup, .fini = teardown);

/* Rows [from, from + n) of the ingest format, one second apart. */
static void write_rows(FILE *f, long from, long n)
{
    for (long i = from; i < from + n; i++)
        fprintf(f, "rt,force/r%ld/u%ld,%ld,%ld.5,k%ld\n", i % 4, i % 64, 1700000000 + i, i % 900,
                i);
}

/* A file of n rows at path, with the header. */
static void write_file(const char *path, long n)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("metric,entity,ts,value,key\n", f);
    write_rows(f, 0, n);
    fclose(f);
}

/*
 * Runs the shell command line made of fmt in a 200-column pane of height
 * rows, then says "exit N"; the pane's shell stays (for capture-pane) until
 * the test's tmux server is stopped.
 */
static void start_script(int rows, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void start_script(int rows, const char *fmt, ...)
{
    char body[3072];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    tmux_script(&T, dir, 200, rows, "%s; echo \"exit $?\"; exec sleep 600\n", body);
}

/* The line of the pane holding text, or "" (for messages). */
static const char *line_with(const char *screen, const char *text, char *buf, size_t len)
{
    const char *p = strstr(screen, text);
    buf[0] = '\0';
    if (!p)
        return buf;
    const char *b = p;
    while (b > screen && b[-1] != '\n')
        b--;
    size_t n = strcspn(b, "\n");
    snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), b);
    return buf;
}

Test(progress, ingest_shows_rows_and_rate_in_place_then_the_summary)
{
    /* the name holds an OSC sequence that would set the pane's title */
    char fifo[512];
    snprintf(fifo, sizeof fifo, "%s/in\033]2;HACKED\007.csv", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0, "%s", strerror(errno));
    start_script(20,
                 "f=\"$(printf '%s/in\\033]2;HACKED\\007.csv')\"\n"
                 "'%s' ingest --config '%s' \"$f\"",
                 dir, bin, cfg);
    FILE *f = fopen(fifo, "w"); /* waits for the ingest to open it */
    cr_assert_not_null(f);
    fputs("metric,entity,ts,value,key\n", f);
    long n = 0;
    th_deadline d = th_deadline_in(120 * 1000);
    while (!strstr(tmux_capture(&T), "rows/s")) {
        cr_assert(!th_expired(&d), "no progress line after %ld rows:\n%s", n, T.capture);
        write_rows(f, n, 20000);
        fflush(f);
        n += 20000;
    }
    char line[512];
    line_with(T.capture, "rows/s", line, sizeof line);
    /* the file's name, its escape sequence dropped; rows and rate, but no
     * percent: a FIFO has no size */
    char want[600];
    snprintf(want, sizeof want, "%s/in.csv: ", dir);
    cr_assert(strstr(line, want) == line, "%s", line);
    cr_assert(strstr(line, " rows, "), "%s", line);
    cr_assert_null(strchr(line, '%'), "%s", line);
    char title[256];
    tmux_format(&T, "#{pane_title}", title, sizeof title);
    cr_assert_null(strstr(title, "HACKED"), "the name set the pane's title: %s", title);
    /* one line, rewritten: more rows, still one progress line */
    write_rows(f, n, 200000);
    n += 200000;
    fclose(f);
    /* the summary takes the progress line's place */
    tmux_expect(&T, "exit 0", 120);
    snprintf(want, sizeof want, "%s/in.csv: %ld accepted, 0 duplicates, 0 rejected", dir, n);
    cr_assert(strstr(T.capture, want), "%s", T.capture);
    cr_assert_null(strstr(T.capture, "rows/s"), "the progress line was left:\n%s", T.capture);
    cr_assert_null(strstr(T.capture, "HACKED"), "%s", T.capture);
}

/* A regular file has a size: percent and time left too. (A million rows
 * take seconds to store, the line shows after a quarter of one.) */
Test(progress, ingest_of_a_file_shows_percent_and_time_left)
{
    char csv[512];
    snprintf(csv, sizeof csv, "%s/big.csv", dir);
    write_file(csv, 1000000);
    start_script(20, "'%s' ingest --config '%s' '%s'", bin, cfg, csv);
    tmux_expect(&T, " left", 120);
    char line[512];
    line_with(T.capture, " left", line, sizeof line);
    int pct = -1;
    const char *rate = strstr(line, " rows/s, ");
    cr_assert_not_null(rate, "%s", line);
    cr_assert_eq(sscanf(rate, " rows/s, %d%%, ", &pct), 1, "%s", line);
    cr_assert(pct >= 0 && pct <= 100, "%s", line);
    tmux_expect(&T, "exit 0", 120);
    cr_assert(strstr(T.capture, "big.csv: 1000000 accepted, 0 duplicates, 0 rejected"), "%s",
              T.capture);
    cr_assert_null(strstr(T.capture, " left"), "the progress line was left:\n%s", T.capture);
}

/* stderr not a terminal: not a byte more, even with stdout on one. */
Test(progress, nothing_when_stderr_is_not_a_terminal)
{
    char csv[512], err[512];
    snprintf(csv, sizeof csv, "%s/big.csv", dir);
    snprintf(err, sizeof err, "%s/stderr", dir);
    write_file(csv, 1000000);
    start_script(20, "'%s' ingest --config '%s' '%s' 2>'%s'", bin, cfg, csv, err);
    tmux_expect(&T, "exit 0", 120);
    cr_assert(strstr(T.capture, "big.csv: 1000000 accepted, 0 duplicates, 0 rejected"), "%s",
              T.capture);
    struct stat sb;
    cr_assert_eq(stat(err, &sb), 0);
    cr_assert_eq(sb.st_size, 0, "%lld bytes on a stderr that is a file", (long long)sb.st_size);
    /* and without any terminal: the summary alone, byte for byte */
    char *argv[] = {"ingest", "--config", cfg, csv, NULL};
    char *out = NULL, *e = NULL;
    int rc = th_run(NULL, argv, &out, &e);
    cr_assert_eq(rc, 0, "exit %d: %s%s", rc, out, e);
    char want[600];
    snprintf(want, sizeof want, "%s: 0 accepted, 1000000 duplicates, 0 rejected\n", csv);
    cr_assert_str_eq(out, want);
    cr_assert_str_eq(e, "");
    free(out);
    free(e);
}

/* collect --once: rows and rate (no adapter tells how much is left), below
 * the log lines, gone at the end. */
Test(progress, collect_once_shows_rows_and_rate)
{
    char csv[512];
    snprintf(csv, sizeof csv, "%s/d.csv", dir);
    FILE *f = fopen(csv, "w");
    cr_assert_not_null(f);
    fputs("entity,ts,value\n", f);
    for (long i = 0; i < 400000; i++)
        fprintf(f, "force/r%ld/u%ld,%ld,%ld.5\n", i % 4, i % 64, 1700000000 + i, i % 900);
    fclose(f);
    f = fopen(cfg, "a");
    cr_assert_not_null(f);
    fputs("[adapter.feed]\ntype = csv\npath = d.csv\nmetric = rt\nentity = {entity}\n"
          "value = value\ntime = ts\ntimeout = 5m\n",
          f);
    fclose(f);
    start_script(40, "cd '%s' && '%s' collect --once --config '%s'", dir, bin, cfg);
    tmux_expect(&T, "rows/s", 120);
    char line[512];
    line_with(T.capture, "rows/s", line, sizeof line);
    cr_assert(strstr(line, "collect --once: ") == line, "%s", line);
    cr_assert_null(strchr(line, '%'), "%s", line);
    tmux_expect(&T, "exit 0", 120);
    cr_assert(strstr(T.capture, "sitrep collect: stopped"), "%s", T.capture);
    cr_assert_null(strstr(T.capture, "rows/s"), "the progress line was left:\n%s", T.capture);
}
