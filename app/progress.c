/*
 * progress.c - the progress line of long commands (progress.h).
 *
 * The line is drawn on stderr as "\r" + text + "\033[K" (erase to the end
 * of the line), so that each redraw overwrites the last one, and cut to the
 * terminal's width so that it never wraps (a wrapped line could not be
 * rewritten in place). The text goes through sr_screen_text(), the one
 * sanitiser of text for a terminal outside curses: the name comes from the
 * command line and may hold escape sequences.
 */
#include "progress.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "../metrics/format.h"
#include "../metrics/kpi.h"
#include "dashboard.h"
#include "xalloc.h"

#define REDRAW_NS 250000000LL /* at most four redraws a second */

struct sr_progress {
    char *name;
    int64_t total;
    int64_t start_ns;
    int64_t drawn_ns; /* when the line was last drawn; 0: never */
    bool shown;       /* the line is on the terminal */
    bool utf8;
};

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

sr_progress *sr_progress_create(const char *name, int64_t total)
{
    if (!isatty(STDERR_FILENO))
        return NULL;
    sr_progress *p = xcalloc(1, sizeof *p);
    p->name = xstrdup(name);
    p->total = total;
    p->start_ns = now_ns();
    p->utf8 = sr_locale_utf8();
    return p;
}

/* "1 240 000" for a count, "3s" or "2m05s" for seconds. */
static void format_count(double v, char *buf, size_t len)
{
    sr_format_value(v, NULL, (sr_agg){.kind = SR_AGG_COUNT}, false, buf, len);
}

static void format_seconds(double v, char *buf, size_t len)
{
    static sr_metric_def seconds;
    if (!seconds.unit[0])
        snprintf(seconds.unit, sizeof seconds.unit, "s");
    sr_format_value(v, &seconds, (sr_agg){.kind = SR_AGG_VALUE}, false, buf, len);
}

static void draw(sr_progress *p, int64_t rows, int64_t done, int64_t now)
{
    double secs = (double)(now - p->start_ns) / 1e9;
    char n[48], rate[48], line[1024];
    format_count((double)rows, n, sizeof n);
    format_count(secs > 0 ? (double)rows / secs : 0, rate, sizeof rate);
    int o = snprintf(line, sizeof line, "%s: %s rows, %s rows/s", p->name, n, rate);
    if (p->total > 0 && done > 0 && o > 0 && (size_t)o < sizeof line) {
        if (done > p->total)
            done = p->total;
        char left[48];
        format_seconds(secs * (double)(p->total - done) / (double)done, left, sizeof left);
        snprintf(line + o, sizeof line - (size_t)o, ", %d%%, %s left", (int)(100 * done / p->total),
                 left);
    }
    int cols = 80;
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
        cols = ws.ws_col;
    char shown[1024];
    /* one column short of the width: a line that fills it would wrap on
     * some terminals */
    fprintf(stderr, "\r%s\033[K", sr_screen_text(line, cols - 1, p->utf8, shown, sizeof shown));
    fflush(stderr);
    p->drawn_ns = now;
    p->shown = true;
}

void sr_progress_update(sr_progress *p, int64_t rows, int64_t done)
{
    if (!p)
        return;
    int64_t now = now_ns();
    int64_t since = p->drawn_ns ? p->drawn_ns : p->start_ns;
    if (now - since >= REDRAW_NS)
        draw(p, rows, done, now);
}

void sr_progress_clear(sr_progress *p)
{
    if (!p || !p->shown)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    p->shown = false;
}

void sr_progress_destroy(sr_progress *p)
{
    if (!p)
        return;
    sr_progress_clear(p);
    free(p->name);
    free(p);
}
