/*
 * End-to-end tests of time on the dashboard, in a real terminal (tmux on its
 * own socket): every panel's frame says its window; a view of the past says
 * HISTORY and where it ends, with the date, in the status bar at every size
 * down to 40x10 (after [ and with --at); --at latest stands still for 70 s
 * of wall time; after 0 (live) an old export's panels are stale; a failing
 * source shows the failing symbol and colour in the status bar.
 * Every wait polls the pane with a deadline; the 70 s are the clock polled.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../helpers.h"
#include "tmux.h"

static char dir[256];
static char cfg[512];
static tmux_t T;

static void setup(void)
{
    tmux_setup(&T, dir, sizeof dir, cfg, sizeof cfg, "c.ini");
}

static void teardown(void)
{
    tmux_teardown(&T, dir);
}

TestSuite(e2e_time, .init = setup, .fini = teardown);

/* The simulator's config (the default one, a day of backfill). */
static void sim_config(void)
{
    th_sim_config(cfg, "sim.db", NULL, NULL);
}

/*
 * The Seattle example (calls 2010-2023, one CSV source) with its cache in
 * the test's dir, the CSV at csv (NULL: the fixture), and a 28-day panel
 * of P3 responses beside its all-years panels.
 */
static void seattle_config(const char *csv)
{
    char fixture[512], cmd[4096];
    th_fixture(fixture, sizeof fixture, "seattle-calls-east-charlie-2010-2023.csv");
    snprintf(cmd, sizeof cmd,
             "sed -e 's|^cache = .*|cache = %s/seattle.db|' -e 's|^path = .*|path = %s|' "
             "adapters/examples/seattle-calls.ini > '%s' && printf '%%s\\n' '' '[panel.recent]' "
             "'metric = response_p3' 'entity = seattle' 'window = 28d' "
             "'title = P3 response, 28 days' >> '%s'",
             dir, csv ? csv : fixture, cfg, cfg);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* Starts sitrep in tmux at w x h with args after --config. */
static void start(int w, int h, const char *args)
{
    char bin[1024];
    th_sitrep_abs(bin, sizeof bin);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "env LANG=C.UTF-8 '%s' --config '%s' %s", bin, cfg, args ? args : "");
    tmux_start(&T, w, h, cmd);
}

static void wait_for(const char *text, int seconds)
{
    tmux_expect(&T, text, seconds);
}

/* Line y of the last capture (cut at its end) into buf. */
static const char *line_of(int y, char *buf, size_t len)
{
    const char *p = T.capture;
    for (int i = 0; i < y && p; i++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    buf[0] = 0;
    if (!p)
        return buf;
    size_t n = strcspn(p, "\n");
    if (n >= len)
        n = len - 1;
    memcpy(buf, p, n);
    buf[n] = 0;
    return buf;
}

/* The status bar (line 0) and every frame's top line of the last capture. */
static void frame_lines(char *buf, size_t len)
{
    char line[2048];
    buf[0] = 0;
    for (int y = 0; y < 200; y++) {
        line_of(y, line, sizeof line);
        if (y == 0 || strstr(line, "┌")) {
            strncat(buf, line, len - strlen(buf) - 2);
            strncat(buf, "\n", len - strlen(buf) - 1);
        }
    }
}

/* Waits until the pane says HISTORY and, when date is set, that date, then
 * checks that the status bar (line 0) says both. */
static void expect_history(const char *date, int w, int h)
{
    char line[2048];
    tmux_expect(&T, "HISTORY", 30);
    if (date)
        tmux_expect(&T, date, 30);
    line_of(0, line, sizeof line);
    cr_assert(strstr(line, "HISTORY") && (!date || strstr(line, date)),
              "at %dx%d the status bar does not say HISTORY %s:\n%s", w, h, date ? date : "",
              T.capture);
}

static const struct {
    int w, h;
} sizes[] = {{160, 48}, {80, 24}, {60, 20}, {50, 14}, {40, 10}};

Test(e2e_time, every_frame_says_its_window)
{
    sim_config();
    start(160, 48, NULL);
    wait_for("1/1 sources", 30);
    cr_assert(tmux_wait_gone(&T, "updating", 30), "%s", T.capture);
    /* the overview mixes 1h, 8h, 7d and 28d */
    wait_for("─ 8h ┐", 30);
    const char *s = tmux_capture(&T);
    cr_assert(strstr(s, "Emergency response P1 ─"), "%s", s);
    cr_assert(strstr(s, "─ 1h ┐"), "%s", s);
    cr_assert(strstr(s, "─ 7d ┐"), "%s", s);
    cr_assert(strstr(s, "─ 28d ┐"), "%s", s);
    cr_assert(strstr(s, "vs prev 8h"), "a change names its period:\n%s", s);
    cr_assert_null(strstr(s, "own windows"), "%s", s);
    cr_assert_null(strstr(s, "stale"), "the simulator is live:\n%s", s);
    /* a window for all panels is said in words, and every frame follows */
    tmux_keys(&T, "-");
    wait_for("all panels: last 24h", 30);
    cr_assert(tmux_wait_gone(&T, "─ 8h ┐", 30), "%s", T.capture);
    wait_for("─ 24h ┐", 30);
}

/* After [ twice, at every size down to 40x10 (a sitrep started at each). */
Test(e2e_time, history_after_shift_at_every_size)
{
    sim_config();
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char year[16], prev[16]; /* a new year may begin between the two clocks */
    snprintf(year, sizeof year, " %d ", tm.tm_year + 1900);
    snprintf(prev, sizeof prev, " %d ", tm.tm_year + 1899);
    char line[2048];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        start(sizes[i].w, sizes[i].h, NULL);
        wait_for("sources", 30);
        cr_assert_null(strstr(line_of(0, line, sizeof line), "HISTORY"), "live: %s", line);
        tmux_keys(&T, "[");
        tmux_keys(&T, "[");
        expect_history(NULL, sizes[i].w, sizes[i].h);
        /* the end with its date: "HISTORY to Thu 3 Dec 2026 05:24" */
        line_of(0, line, sizeof line);
        cr_assert(strstr(line, year) || strstr(line, prev), "at %dx%d no date: %s", sizes[i].w,
                  sizes[i].h, line);
        /* 0: live again */
        tmux_keys(&T, "0");
        cr_assert(tmux_wait_gone(&T, "HISTORY", 30), "%s", T.capture);
        tmux_stop(&T);
    }
}

/* --at TIME at every size down to 40x10. */
Test(e2e_time, history_with_at_at_every_size)
{
    sim_config();
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        start(sizes[i].w, sizes[i].h, "--at 2024-06-15T12:00");
        expect_history("15 Jun 2024 12:00", sizes[i].w, sizes[i].h);
        tmux_stop(&T);
    }
}

/* --at latest on Seattle: neither the end nor the frames move across a minute. */
Test(e2e_time, at_latest_is_frozen, .timeout = 180)
{
    seattle_config(NULL);
    start(120, 30, "--at latest");
    expect_history("2023", 120, 30);
    wait_for("─ 10000d ┐", 60);
    wait_for("─ 28d ┐", 60);
    cr_assert(tmux_wait_gone(&T, "updating", 30), "%s", T.capture);
    char before[8192], after[8192];
    tmux_capture(&T);
    frame_lines(before, sizeof before);
    cr_assert_null(strstr(before, "stale"), "the as-of time is the newest data:\n%s", before);
    /* past the next minute boundary of the wall clock, with 5 s to spare
     * (the windows of a live view move at it) */
    th_deadline d = th_deadline_in((65 - (int)(time(NULL) % 60)) * 1000);
    d.step_ms = 250;
    while (th_poll(&d))
        continue;
    cr_assert(tmux_wait_gone(&T, "updating", 30), "%s", T.capture);
    tmux_capture(&T);
    frame_lines(after, sizeof after);
    cr_assert_str_eq(after, before, "the view of the past moved");

    /* 0: live; the export's data is years old, and its panels say so */
    tmux_keys(&T, "0");
    cr_assert(tmux_wait_gone(&T, "HISTORY", 30), "%s", T.capture);
    wait_for("28d · stale ", 30);
    /* the all-years panels too: the source answers, but with 2023's data */
    wait_for("10000d · stale ", 30);
    cr_assert_null(strstr(T.capture, "─ 10000d ┐"), "%s", T.capture);
}

/* A source that fails: its symbol and colour in the status bar. */
Test(e2e_time, failing_source_in_the_status_bar)
{
    char missing[600];
    snprintf(missing, sizeof missing, "%s/no-such.csv", dir);
    seattle_config(missing);
    start(120, 30, NULL);
    wait_for("✖ 0/1 sources", 30);
    /* in the crit role's colour (red), where the sources were plain before */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tmux -L %s capture-pane -e -p -t t", T.sock);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char esc[64 * 1024];
    size_t n = fread(esc, 1, sizeof esc - 1, p);
    esc[n] = 0;
    pclose(p);
    char *x = strstr(esc, "✖ 0/1 sources");
    cr_assert_not_null(x, "%s", esc);
    /* the escape sequences right before it ("\e[1;7m\e[31m\e[49m") set red */
    char *e = x;
    while (e > esc && e[-1] == 'm') {
        char *b = e - 1;
        while (b > esc && *b != '\033')
            b--;
        if (*b != '\033')
            break;
        e = b;
    }
    char seq[256];
    snprintf(seq, sizeof seq, "%.*s", (int)(x - e), e);
    cr_assert(strstr(seq, "[31m") || strstr(seq, ";31m") || strstr(seq, "[31;"),
              "the failing sources are not red: '%s'", seq + (seq[0] ? 1 : 0));
}
