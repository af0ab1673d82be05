/*
 * End-to-end tests of what a viewer recomputes: `sitrep collect` polls a
 * log every second into a cache of two metrics, and a dashboard (a viewer,
 * in tmux) shows one panel of each. The test build's SITREP_TEST_COUNTS
 * file has one line per refresh tick: the statements run on the screen's
 * handle and each panel's computes so far. A refresh with no new data (the
 * collector's empty polls among them) computes no panel, and one without
 * any commit runs one statement (PRAGMA data_version); a new sample of one
 * metric recomputes its panel, shows on it, and leaves the other's alone.
 * Every wait polls with a deadline.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "../../metrics/common.h"
#include "../helpers.h"
#include "tmux.h"

static char dir[256];
static char cfg[512];
static char counts[512];
static char feedlog[512];
static tmux_t T;
static pid_t collector;

static void setup(void)
{
    tmux_setup(&T, dir, sizeof dir, cfg, sizeof cfg, "r.ini");
    snprintf(counts, sizeof counts, "%s/counts.txt", dir);
    snprintf(feedlog, sizeof feedlog, "%s/feed.log", dir);
    collector = 0;
}

static void teardown(void)
{
    th_reap(&collector);
    tmux_teardown(&T, dir);
}

TestSuite(refresh_e2e, .init = setup, .fini = teardown);

/* One refresh tick's line of the counts file. */
typedef struct {
    long long statements, calls, arrests;
} tick;

/* The ticks written so far (at most max). */
static size_t read_ticks(tick *v, size_t max)
{
    FILE *f = fopen(counts, "r");
    if (!f)
        return 0;
    size_t n = 0;
    char line[256];
    while (n < max && fgets(line, sizeof line, f)) {
        if (sscanf(line, "statements=%lld calls=%lld arrests=%lld", &v[n].statements, &v[n].calls,
                   &v[n].arrests) == 3)
            n++;
    }
    fclose(f);
    return n;
}

/* Waits until the counts file has at least n ticks; returns how many. */
static size_t wait_ticks(tick *v, size_t max, size_t n)
{
    th_deadline d = tmux_deadline(60);
    size_t got;
    while ((got = read_ticks(v, max)) < n)
        cr_assert(th_poll(&d), "only %zu refresh ticks in %s", got, counts);
    return got;
}

static void append_log(const char *text)
{
    FILE *f = fopen(feedlog, "a");
    cr_assert(f, "%s", feedlog);
    fputs(text, f);
    fclose(f);
}

Test(refresh_e2e, a_viewer_recomputes_only_the_panels_of_new_data)
{
    const char *pd = getenv("SITREP_PLUGINS");
    char plugins[700], text[2400], line[200];
    if (pd && *pd)
        snprintf(plugins, sizeof plugins, "%s", pd);
    else
        snprintf(plugins, sizeof plugins, "%s/build/plugins", getenv("PWD") ? getenv("PWD") : ".");
    snprintf(text, sizeof text,
             "[sitrep]\ncache = %s/r.db\ntitle = Refresh test\nrefresh = 1s\n"
             "[metric.calls]\nkind = counter\nlabel = Calls\n"
             "[metric.arrests]\nkind = counter\nlabel = Arrests\n"
             "[panel.calls]\nmetric = calls\ntitle = Calls panel\nwindow = 1h\n"
             "[panel.arrests]\nmetric = arrests\ntitle = Arrests panel\nwindow = 1h\n"
             "[adapter.feed]\ntype = plugin\npath = %s/textlog.so\nfile = %s\ninterval = 3s\n",
             dir, plugins, feedlog);
    th_write_file(cfg, text);
    long long t = (long long)(sr_now_ms() / 1000) - 120;
    snprintf(text, sizeof text, "%lld calls force/a 1200\n%lld arrests force/a 17\n", t, t);
    th_write_file(feedlog, text);

    /* the collector holds the lock: the dashboard is a viewer */
    char out[600];
    snprintf(out, sizeof out, "%s/collect.out", dir);
    char *argv[] = {"collect", "--config", cfg, NULL};
    collector = th_spawn(argv, out);
    /* the collector has created the cache and stored the log's two samples */
    th_deadline d = tmux_deadline(30);
    bool polled = false;
    do {
        FILE *f = fopen(out, "r");
        char l[512];
        while (f && !polled && fgets(l, sizeof l, f))
            polled = strstr(l, "feed: ok") && strstr(l, "2 new");
        if (f)
            fclose(f);
    } while (!polled && th_poll(&d));
    cr_assert(polled, "the collector never stored the log's samples");

    char bin[1024];
    th_sitrep_abs(bin, sizeof bin);
    tmux_script(&T, dir, 120, 30,
                "LANG=C.UTF-8 SITREP_TEST_COUNTS='%s' '%s' --config '%s'\nsleep 60\n", counts, bin,
                cfg);
    tmux_expect(&T, "viewer", 30);
    tmux_expect(&T, "1 200", 30);
    tmux_expect(&T, "17", 30);

    /* idle: some seconds of refreshes, the collector's empty polls among them */
    tick v[400];
    size_t n0 = wait_ticks(v, 400, 1);
    size_t n = wait_ticks(v, 400, n0 + 6);
    bool quiet = false;
    char deltas[400] = "";
    for (size_t i = n0; i + 1 < n; i++) {
        size_t used = strlen(deltas);
        snprintf(deltas + used, sizeof deltas - used, " %lld",
                 v[i + 1].statements - v[i].statements);
        cr_assert_eq(v[i + 1].calls, v[i].calls, "a refresh without new calls computed them");
        cr_assert_eq(v[i + 1].arrests, v[i].arrests, "a refresh without new arrests computed them");
        /* no commit since the last look: the data_version check alone */
        quiet |= v[i + 1].statements - v[i].statements == 1;
    }
    cr_assert(quiet, "no refresh ran the data_version check alone (statements:%s)", deltas);

    /* one new sample of calls: its panel shows it, the arrests panel is not computed */
    snprintf(line, sizeof line, "%lld calls force/b 34\n", t + 60);
    append_log(line);
    tmux_expect(&T, "1 234", 30);
    /* the next tick counts the render that drew it */
    n = wait_ticks(v, 400, read_ticks(v, 400) + 1);
    cr_assert_gt(v[n - 1].calls, v[n0].calls, "the calls panel was not computed again");
    cr_assert_eq(v[n - 1].arrests, v[n0].arrests, "new calls computed the arrests panel");
    const char *s = tmux_capture(&T);
    cr_assert(strstr(s, "17"), "the arrests panel kept its figure:\n%s", s);
}
