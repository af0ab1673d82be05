/*
 * Tests of tui/alertview.c: an alert's cells formatted as the panel shows
 * its value (the metric's unit, the panel's aggregate), its state in words,
 * times in the layout's time zone; and the table drawn into real curses
 * windows (newterm on /dev/null) of the inner sizes of an 80x24 and a
 * 160x48 terminal, UTF-8 and ASCII, read back cell by cell.
 */
#include <criterion/criterion.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "../../tui/alertview.h"
#include "term.h"

static th_term term;

static void setup(void)
{
    th_term_setup(&term);
}

static void teardown(void)
{
    th_term_close(&term);
}

TestSuite(alertview, .init = setup, .fini = teardown);

/* 2023-11-14 22:13:20 UTC */
#define NOW ((sr_ms)1700000000000LL)

static sr_metric_def defs[1];
static sr_catalog cat = {defs, 1};
static const sr_tui_panel panels[] = {
    {.name = "p1",
     .title = "Emergency response P1",
     .spec = {.metric = "rt", .agg = {SR_AGG_PCT, 90}, .window_ms = SR_MS_HOUR}},
};
static const sr_tui_layout lay = {
    .title = "T", .timezone = "UTC", .cat = &cat, .panels = panels, .n_panels = 1};

static void alerts(sr_alert a[3])
{
    sr_metric_def_init(&defs[0], "rt");
    snprintf(defs[0].unit, sizeof defs[0].unit, "s");
    defs[0].warn = 900;
    defs[0].crit = 1200;
    cr_assert_eq(sr_alert_init(&a[0], "p1", "rt", 8 * SR_MS_HOUR, "force/north/d3"), 0);
    a[0].state = SR_ALERT_ACTIVE;
    a[0].severity = SR_STATUS_CRIT;
    a[0].raised_at_ms = NOW - 12 * SR_MS_MIN;
    a[0].value = 1330;
    a[0].threshold = 1200;
    cr_assert_eq(sr_alert_init(&a[1], "p1", "rt", 8 * SR_MS_HOUR, ""), 0);
    a[1].state = SR_ALERT_ACKED;
    a[1].severity = SR_STATUS_WARN;
    a[1].raised_at_ms = NOW - 26 * SR_MS_HOUR;
    a[1].value = 950;
    a[1].threshold = 900;
    snprintf(a[1].acked_by, sizeof a[1].acked_by, "ann");
    a[1].acked_at_ms = NOW - SR_MS_HOUR;
    snprintf(a[1].note, sizeof a[1].note, "unit 7 \x1b[31mon scene");
    cr_assert_eq(sr_alert_init(&a[2], "gone", "nometric", 8 * SR_MS_HOUR, "x"), 0);
    a[2].state = SR_ALERT_SILENCED;
    a[2].severity = SR_STATUS_WARN;
    a[2].raised_at_ms = NOW - SR_MS_MIN;
    a[2].value = 0.5;
    a[2].threshold = 0.25;
    a[2].silenced_until_ms = NOW + 4 * SR_MS_HOUR;
}

Test(alertview, cells_as_the_panel_shows_them)
{
    sr_alert a[3];
    alerts(a);
    alertview v = {.v = a, .n = 3, .now = NOW, .lay = &lay, .may_act = true};
    alertview_row r;
    alertview_format(&v, 0, &r);
    cr_assert_str_eq(r.severity, "✖ crit");
    cr_assert_str_eq(r.panel, "Emergency response P1");
    cr_assert_str_eq(r.entity, "force/north/d3");
    cr_assert_str_eq(r.value, "22m10s");
    cr_assert_str_eq(r.threshold, "20m00s");
    cr_assert_str_eq(r.state, "active");
    cr_assert_str_eq(r.raised, "22:01 (12m ago)");

    alertview_format(&v, 1, &r);
    cr_assert_str_eq(r.severity, "◆ warn");
    cr_assert_str_eq(r.entity, "(all)");
    cr_assert_str_eq(r.state, "acked by ann");
    cr_assert_str_eq(r.raised, "13 Nov 20:13 (1d ago)", "another day: the date");

    /* a panel the layout no longer has: its name, plain numbers */
    alertview_format(&v, 2, &r);
    cr_assert_str_eq(r.panel, "gone");
    cr_assert_str_eq(r.value, "0.5");
    cr_assert_str_eq(r.state, "silenced until 15 Nov 02:13", "%s", r.state);

    sr_glyphs_select(false);
    alertview_format(&v, 0, &r);
    cr_assert_str_eq(r.severity, "X crit");
}

static bool window_has(WINDOW *w, const char *text)
{
    return th_find_row(w, text) >= 0;
}

Test(alertview, table_and_detail_at_80x24_and_160x48)
{
    sr_alert a[3];
    alerts(a);
    alertview v = {.v = a, .n = 3, .selected = 1, .now = NOW, .lay = &lay, .may_act = true};
    /* the inner window of the view at 80x24: less the bars and the frame */
    WINDOW *w = newwin(20, 78, 0, 0);
    cr_assert_eq(alertview_draw(w, &v), 3);
    cr_assert(strstr(th_row_text(w, 0), "SEV"), "%s", th_row_text(w, 0));
    cr_assert(strstr(th_row_text(w, 1), "✖ crit"), "%s", th_row_text(w, 1));
    cr_assert(strstr(th_row_text(w, 1), "22m10s"), "%s", th_row_text(w, 1));
    cr_assert(strstr(th_row_text(w, 2), "acked by ann"), "%s", th_row_text(w, 2));
    /* the detail: the selected alert in full, the note made safe */
    cr_assert(window_has(w, "acknowledged by ann at 21:13 (1h ago)"));
    cr_assert(window_has(w, "unit 7 on scene"));
    cr_assert(window_has(w, "Enter: acknowledge with a note  m: silence for a time"));
    delwin(w);

    w = newwin(44, 158, 0, 0);
    v.may_act = false;
    cr_assert_eq(alertview_draw(w, &v), 3);
    cr_assert(strstr(th_row_text(w, 0), "THRESHOLD"), "%s", th_row_text(w, 0));
    cr_assert(strstr(th_row_text(w, 0), "NOTE"), "%s", th_row_text(w, 0));
    cr_assert(strstr(th_row_text(w, 1), "Emergency response P1"), "%s", th_row_text(w, 1));
    cr_assert(strstr(th_row_text(w, 2), "unit 7 on scene"), "the note column: %s",
              th_row_text(w, 2));
    cr_assert(window_has(w, "your role may not acknowledge or silence alerts"));
    delwin(w);

    sr_glyphs_select(false);
    w = newwin(20, 78, 0, 0);
    alertview_draw(w, &v);
    cr_assert(strstr(th_row_text(w, 1), "X crit"), "%s", th_row_text(w, 1));
    delwin(w);

    w = newwin(20, 78, 0, 0);
    v.n = 0;
    alertview_draw(w, &v);
    cr_assert(strstr(th_row_text(w, 0), "no open alert"), "%s", th_row_text(w, 0));
    delwin(w);
}

/* An unusual alert reads as one: its band where a threshold would be, in
 * the table and in the detail, with the ASCII range under ASCII glyphs. */
Test(alertview, an_unusual_alert_shows_its_band)
{
    sr_alert a[3];
    alerts(a);
    cr_assert_eq(sr_alert_init_unusual(&a[0], "p1", &defs[0], (sr_agg){SR_AGG_PCT, 90}, SR_MS_HOUR,
                                       "force/north"),
                 0);
    sr_alert_params p = {.for_ms = 0, .hysteresis = 0.05};
    cr_assert_eq(sr_alert_step_unusual(&a[0], &p, SR_UNUSUAL_HIGH, 1330, 600, 900, NOW - SR_MS_MIN),
                 SR_ALERT_EV_RAISED);
    alertview v = {.v = a, .n = 1, .now = NOW, .lay = &lay, .may_act = true};
    alertview_row r;
    alertview_format(&v, 0, &r);
    cr_assert_str_eq(r.severity, "◆ warn");
    cr_assert_str_eq(r.value, "22m10s");
    cr_assert_str_eq(r.threshold, "normal 10m00s–15m00s");
    WINDOW *w = newwin(44, 158, 0, 0);
    cr_assert_eq(alertview_draw(w, &v), 1);
    cr_assert(strstr(th_row_text(w, 1), "normal 10m00s–15m00s"), "%s", th_row_text(w, 1));
    cr_assert(window_has(w, "22m10s, normal 10m00s–15m00s (panel p1, metric rt)"));
    delwin(w);
    sr_glyphs_select(false);
    alertview_format(&v, 0, &r);
    cr_assert_str_eq(r.threshold, "normal 10m00s-15m00s");
}
