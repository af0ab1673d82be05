/*
 * Tests of tui/screen.c through its public API: a real cache in a temp dir,
 * a headless screen (curses on /dev/null, xterm-256color, C.UTF-8) driven
 * key by key with sr_screen_key() and read back as text after each render.
 * What the tmux tests see end to end, here without a terminal: focus,
 * drill-down, pages, zoom and time keys, the filter prompt, help and the
 * views.
 */
#include <criterion/criterion.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tui/screen.h"
#include "../../tui/tui.h"
#include "../helpers.h"

#define NOW ((sr_ms)1704070800000LL) /* 2024-01-01T01:00:00Z */
#define MIN SR_MS_MIN

static char dir[256];
static sr_store *st;
static sr_metric_def defs[2];
static sr_catalog cat = {defs, 2};
static sr_tui_panel panels[3];
static const size_t page1[] = {0, 1}, page2[] = {2};
static sr_tui_page pages[2];
static sr_tui_layout lay;
static sr_screen *scr;
static char *shot_text;

static void put(const char *metric, const char *entity, sr_ms ts, double v)
{
    sr_sample s = {metric, entity, ts, v, NULL};
    bool dup;
    cr_assert_eq(sr_store_put(st, &s, &dup), 0);
}

static void setup(void)
{
    setlocale(LC_ALL, "C.UTF-8");
    th_tempdir(dir, sizeof dir);
    char db[300];
    snprintf(db, sizeof db, "%s/s.db", dir);
    cr_assert_eq(sr_store_open(db, 0, &st, NULL, 0), 0);
    sr_metric_def_init(&defs[0], "rt");
    snprintf(defs[0].unit, sizeof defs[0].unit, "s");
    defs[0].warn = 20;
    defs[0].crit = 50;
    sr_metric_def_init(&defs[1], "ot");
    defs[1].kind = SR_KIND_COUNTER;
    defs[1].agg = sr_kind_default_agg(SR_KIND_COUNTER);
    cr_assert_eq(sr_store_define_metric(st, "rt", SR_KIND_EVENT), 0);
    cr_assert_eq(sr_store_define_metric(st, "ot", SR_KIND_COUNTER), 0);
    cr_assert_eq(sr_store_begin(st), 0);
    static const char *const units[] = {"force/alpha/u1", "force/alpha/u2", "force/bravo/u3",
                                        "force/charlie/u4"};
    for (int i = 0; i < 40; i++) {
        put("rt", units[i % 4], NOW - 50 * MIN + i * MIN, 5 + (i % 4) * 10 + i % 3);
        put("ot", units[i % 4], NOW - 50 * MIN + i * MIN, 1);
    }
    cr_assert_eq(sr_store_commit(st), 0);

    sr_agg own = {.kind = SR_AGG_VALUE};
    panels[0] = (sr_tui_panel){
        "p1", "Response P1", NULL, "tile", {.metric = "rt", .agg = own, .window_ms = SR_MS_HOUR}};
    panels[1] = (sr_tui_panel){
        "units", "By unit", NULL, "table", {.metric = "rt", .agg = own, .window_ms = SR_MS_HOUR}};
    panels[2] = (sr_tui_panel){"ot",
                               "Overtime hours",
                               NULL,
                               "tile",
                               {.metric = "ot", .agg = own, .window_ms = SR_MS_HOUR}};
    pages[0] = (sr_tui_page){"overview", "Overview", 2, page1, 2};
    pages[1] = (sr_tui_page){"costs", "Costs", 1, page2, 1};
    lay = (sr_tui_layout){.title = "Test Police",
                          .timezone = "UTC",
                          .cat = &cat,
                          .panels = panels,
                          .n_panels = 3,
                          .pages = pages,
                          .n_pages = 2};
    cr_assert_eq(
        sr_screen_create_headless(st, &lay, SR_SCREEN_UTF8 | SR_SCREEN_COLOR, 120, 30, &scr), 0);
}

static void teardown(void)
{
    sr_screen_destroy(scr);
    free(shot_text);
    sr_store_close(st);
    th_rmtree(dir);
}

TestSuite(screen, .init = setup, .fini = teardown);

/* Renders and reads the whole screen back (the hint line too). */
static const char *shot(void)
{
    sr_screen_render(scr, NOW);
    free(shot_text);
    size_t len;
    FILE *f = open_memstream(&shot_text, &len);
    cr_assert_not_null(f);
    sr_screen_write_text(scr, true, f);
    fclose(f);
    return shot_text;
}

static sr_key_result key(int k)
{
    return sr_screen_key(scr, k);
}

static void keys(const char *ks)
{
    for (const char *k = ks; *k; k++)
        key(*k);
}

/* Line y of the last shot (cut at its end). */
static const char *line(int y)
{
    static char buf[4096];
    const char *p = shot_text;
    for (int i = 0; i < y && p; i++) {
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    size_t n = p ? strcspn(p, "\n") : 0;
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    memcpy(buf, p ? p : "", n);
    buf[n] = 0;
    return buf;
}

/* The hint line: the last line of the last shot. */
static const char *hints(void)
{
    return line(29);
}

#define SEES(text) cr_assert(strstr(shot_text, text), "no '%s' on the screen:\n%s", text, shot_text)
#define LACKS(text)                                                                                \
    cr_assert_null(strstr(shot_text, text), "'%s' on the screen:\n%s", text, shot_text)

Test(screen, quit_keys_and_only_they_quit)
{
    shot();
    cr_assert_eq(key('x'), SR_KEY_NONE); /* no binding */
    cr_assert_eq(key(KEY_F(10)), SR_KEY_QUIT);
    cr_assert_eq(key('Q'), SR_KEY_QUIT);
    cr_assert_eq(key('q'), SR_KEY_QUIT);
    cr_assert_eq(key('e'), SR_KEY_REPORT);
}

Test(screen, enter_drills_the_focused_panel_and_tab_moves_the_focus)
{
    shot();
    SEES("Response P1");
    SEES("By unit");
    key('\n');
    shot();
    cr_assert(strstr(line(1), "Response P1 · force"), "%s", shot_text);
    cr_assert(strstr(line(0), "Overview › force"), "%s", line(0));
    /* the children worst first: charlie (p90 37s) then bravo, then alpha */
    const char *c = strstr(shot_text, "charlie"), *b = strstr(shot_text, "bravo"),
               *a = strstr(shot_text, "alpha");
    cr_assert(c && b && a && c < b && b < a, "%s", shot_text);
    key(KEY_BACKSPACE);
    shot();
    SEES("By unit");
    LACKS("charlie");
    key('\t');
    key('\n');
    shot();
    cr_assert(strstr(line(1), "By unit · force"), "%s", shot_text);
    key(27);
    key(KEY_BTAB); /* back to the first panel */
    key('\n');
    shot();
    cr_assert(strstr(line(1), "Response P1 · force"), "%s", shot_text);
}

Test(screen, enter_on_a_row_goes_down_one_level_and_backspace_up)
{
    key('\n');
    shot();        /* the drill-down's rows come with its first render */
    key(KEY_DOWN); /* charlie, then bravo */
    key('\n');
    shot();
    cr_assert(strstr(line(0), "Overview › force › bravo"), "%s", line(0));
    SEES("u3");
    LACKS("charlie");
    key(KEY_BACKSPACE);
    shot();
    SEES("charlie");
}

Test(screen, digits_turn_the_page_and_the_hint_line_names_the_pages)
{
    shot();
    cr_assert(strstr(hints(), "1 Overview") && strstr(hints(), "2 Costs"), "%s", hints());
    key('2');
    shot();
    cr_assert(strstr(line(0), "› Costs"), "%s", line(0));
    SEES("Overtime hours");
    LACKS("Response P1");
    key('9'); /* no such page: nothing changes */
    shot();
    SEES("Overtime hours");
    key('1');
    shot();
    SEES("Response P1");
}

Test(screen, zoom_keys_step_through_the_windows)
{
    shot();
    cr_assert(strstr(line(1), " 1h "), "%s", line(1));
    key('+');
    shot();
    cr_assert(strstr(line(1), " 15m "), "%s", line(1));
    key('+'); /* the shortest: stays */
    shot();
    cr_assert(strstr(line(1), " 15m "), "%s", line(1));
    keys("--");
    shot();
    cr_assert(strstr(line(1), " 8h "), "%s", line(1));
    key('0'); /* each panel's own window again */
    shot();
    cr_assert(strstr(line(1), " 1h "), "%s", line(1));
}

Test(screen, shift_back_is_history_and_zero_is_live_again)
{
    shot();
    LACKS("HISTORY");
    cr_assert_eq(sr_screen_window_end(scr, NOW), NOW);
    key('[');
    shot();
    cr_assert(strstr(line(0), "HISTORY to Mon 1 Jan 2024 00:00"), "%s", line(0));
    cr_assert_eq(sr_screen_window_end(scr, NOW), NOW - SR_MS_HOUR);
    key(']');
    cr_assert_eq(sr_screen_window_end(scr, NOW), NOW);
    keys("[[");
    cr_assert_eq(sr_screen_window_end(scr, NOW), NOW - 2 * SR_MS_HOUR);
    key('0');
    shot();
    LACKS("HISTORY");
    cr_assert_eq(sr_screen_window_end(scr, NOW), NOW);
}

Test(screen, slash_filters_the_rows_enter_keeps_it_escape_clears_it)
{
    key('\n');
    keys("/br");
    shot();
    cr_assert(strstr(hints(), "filter: br"), "%s", hints());
    SEES("bravo");
    LACKS("charlie");
    LACKS("alpha");
    key('\n'); /* kept */
    shot();
    cr_assert(strstr(hints(), "filter: br  (Esc clears it)"), "%s", hints());
    LACKS("charlie");
    key(27); /* clears the filter, stays in the drill-down */
    shot();
    SEES("charlie");
    SEES("alpha");
    cr_assert(strstr(line(1), "Response P1 · force"), "%s", shot_text);
    keys("/zz");
    key(KEY_BACKSPACE);
    key(KEY_BACKSPACE);
    key('a');
    shot();
    cr_assert(strstr(hints(), "filter: a"), "%s", hints());
    SEES("alpha");
    SEES("charlie"); /* "a" is in charlie and bravo too */
    LACKS("u3");
}

Test(screen, help_opens_on_question_mark_and_any_key_closes_it)
{
    key('?');
    shot();
    SEES("Help");
    SEES("drill down: the focused panel by child entity");
    cr_assert_eq(key('x'), SR_KEY_HANDLED); /* closes, does nothing else */
    shot();
    LACKS("drill down: the focused");
    key(KEY_F(1));
    shot();
    SEES("Help");
}

Test(screen, s_and_a_open_the_views_escape_closes_them)
{
    key('s');
    shot();
    cr_assert(strstr(line(0), "› Sources"), "%s", line(0));
    SEES("Sources · 0/0 live");
    key('a');
    shot();
    SEES("Alerts · 0 open");
    key(27);
    shot();
    SEES("Response P1");
    LACKS("Alerts · 0 open");
    key('a');
    key('2'); /* a page key closes the view and turns the page */
    shot();
    SEES("Overtime hours");
}

/* A source whose last poll could not be stored because the cache is
 * damaged (the collector's error, app/collector.c): the status bar says so in
 * every view, and stops saying it once the source is well again. */
Test(screen, status_bar_says_a_damaged_cache)
{
    cr_assert(!strstr(shot(), "CACHE DAMAGED"), "%s", shot_text);
    sr_source_info v = {.state = SR_SOURCE_FAILING, .polled = true, .configured = true};
    snprintf(v.h.name, sizeof v.h.name, "cad");
    snprintf(v.h.type, sizeof v.h.type, "csv");
    v.h.last_poll_ms = NOW - MIN;
    snprintf(v.h.last_error, sizeof v.h.last_error,
             SR_SOURCE_CACHE_DAMAGED " (database disk image is malformed): the poll's rows were "
                                     "not stored; see sitrep check-cache");
    sr_source_list l = {.v = &v, .n = 1, .n_configured = 1, .live = 0};
    sr_screen_set_source_list(scr, &l, "collector");
    const char *t = shot();
    const char *bar = strstr(t, "CACHE DAMAGED: see sitrep check-cache");
    cr_assert_not_null(bar, "%s", t);
    cr_assert(bar < strchr(t, '\n'), "on the status bar (the first line): %s", t);
    key('s'); /* the sources view too */
    cr_assert(strstr(shot(), "CACHE DAMAGED"), "%s", shot_text);
    v.h.last_error[0] = 0;
    v.state = SR_SOURCE_LIVE;
    l.live = 1;
    sr_screen_set_source_list(scr, &l, "collector");
    cr_assert(!strstr(shot(), "CACHE DAMAGED"), "%s", shot_text);
}

/* The status bar counts unusual alerts apart from threshold warnings: an
 * unusual alert is a warn that reads as such. */
Test(screen, status_bar_counts_unusual_alerts_apart)
{
    sr_metric_def d;
    sr_metric_def_init(&d, "calls");
    sr_alert a[2];
    cr_assert_eq(sr_alert_init(&a[0], "p1", "calls", SR_MS_HOUR, ""), 0);
    a[0].state = SR_ALERT_ACTIVE;
    a[0].severity = SR_STATUS_WARN;
    cr_assert_eq(sr_alert_init_unusual(&a[1], "p1", &d, (sr_agg){SR_AGG_COUNT, 0}, SR_MS_HOUR, ""),
                 0);
    a[1].state = SR_ALERT_ACTIVE;
    a[1].severity = SR_STATUS_WARN;
    sr_screen_set_alerts(scr, a, 2);
    const char *t = shot();
    const char *w = strstr(t, "1 warn"), *u = strstr(t, "1 unusual");
    cr_assert(w && u, "%s", t);
    cr_assert(u < strchr(t, '\n'), "on the status bar (the first line): %s", t);
}

/*
 * "u" in the breakdown: each child against its normal (the same hour in
 * each of the last 8 weeks), the farthest outside it first, with the
 * OUTSIDE column. Overtime by region now: alpha 20, bravo 10, charlie 10;
 * week k (1..8) held, in two records each, alpha 25 + k (band 26-33: 20 is 6/7 = 0.9 band widths
 * below), bravo k / 4 (band 0.25-2: 10 is 8/1.75 = 4.6 above), charlie 2k
 * (band 2-16: within). Worst first: alpha, bravo, charlie; most unusual
 * first: bravo, alpha, charlie.
 */
Test(screen, u_sorts_the_breakdown_most_unusual_first)
{
    const sr_ms week = 7 * SR_MS_DAY;
    cr_assert_eq(sr_store_begin(st), 0);
    for (int k = 1; k <= 8; k++) {
        sr_ms at = NOW - SR_MS_HOUR - k * week;
        for (int half = 0; half < 2; half++) { /* two records: a band rests on >= 10 */
            put("ot", "force/alpha/u1", at + half * MIN, (25 + k) / 2.0);
            put("ot", "force/bravo/u3", at + half * MIN, k / 8.0);
            put("ot", "force/charlie/u4", at + half * MIN, k);
        }
    }
    cr_assert_eq(sr_store_commit(st), 0);
    key('2');
    key('\n');
    shot();
    const char *a = strstr(shot_text, "alpha"), *b = strstr(shot_text, "bravo"),
               *c = strstr(shot_text, "charlie");
    cr_assert(a && b && c && a < b && b < c, "worst first:\n%s", shot_text);
    LACKS("OUTSIDE");
    key('u');
    shot(); /* computed again with the rows' baselines */
    shot();
    a = strstr(shot_text, "alpha"), b = strstr(shot_text, "bravo"),
    c = strstr(shot_text, "charlie");
    cr_assert(a && b && c && b < a && a < c, "most unusual first:\n%s", shot_text);
    SEES("OUTSIDE");
    SEES("▲4.6");
    SEES("▼0.9");
    key('u');
    shot();
    shot();
    a = strstr(shot_text, "alpha"), b = strstr(shot_text, "bravo");
    cr_assert(a && b && a < b, "u again: worst first:\n%s", shot_text);
    LACKS("OUTSIDE");
}
