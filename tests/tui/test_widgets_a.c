/*
 * Tests of tui/tile.c, tui/sparkline.c and tui/gauge.c: each widget draws a
 * hand-built panel model into a real curses window (a real SCREEN on
 * xterm-256color writing to /dev/null), and the cells are read back as
 * UTF-8 text and attributes. Covers value and unit formatting, the change
 * marker, status words and their colours, "no data", stale figures,
 * sparkline levels (UTF-8 and ASCII), resampling, gauge fill in eighths and
 * threshold markers, windows down to 1x1 (nothing written outside them),
 * and escape sequences from data never reaching the cells.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "../../tui/tui.h"
#include "term.h"

static th_term term;
static WINDOW *wins[8];
static int n_wins;

static sr_metric_def def;
static sr_panel_model model;

static void setup(void)
{
    th_term_setup(&term);
    n_wins = 0;
}

static void teardown(void)
{
    while (n_wins > 0)
        delwin(wins[--n_wins]);
    th_term_close(&term);
}

TestSuite(widgets_a, .init = setup, .fini = teardown);

/* A window freed by teardown (children are made after their parents, freed before). */
static WINDOW *win(int h, int w)
{
    WINDOW *x = newwin(h, w, 0, 0);
    cr_assert_not_null(x);
    wins[n_wins++] = x;
    return x;
}

static WINDOW *sub(WINDOW *parent, int h, int w, int y, int x)
{
    WINDOW *s = derwin(parent, h, w, y, x);
    cr_assert_not_null(s);
    wins[n_wins++] = s;
    return s;
}

/* Row y of w as UTF-8, every cell (trailing blanks included). */
static char *row(WINDOW *w, int y, char *buf, size_t len)
{
    int h, wd;
    getmaxyx(w, h, wd);
    (void)h;
    cchar_t cells[512];
    cr_assert(wd < 512);
    mvwin_wchnstr(w, y, 0, cells, wd);
    size_t o = 0;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    for (int i = 0; i < wd; i++) {
        wchar_t wch[CCHARW_MAX + 1];
        attr_t a;
        short pair;
        getcchar(&cells[i], wch, &a, &pair, NULL);
        for (int k = 0; wch[k] && k < CCHARW_MAX; k++) {
            char mb[MB_LEN_MAX];
            size_t n = wcrtomb(mb, wch[k], &st);
            if (n != (size_t)-1 && o + n < len) {
                memcpy(buf + o, mb, n);
                o += n;
            }
        }
    }
    buf[o] = 0;
    return buf;
}

/* Every row of w, joined with newlines. */
static char *content(WINDOW *w, char *buf, size_t len)
{
    int h, wd;
    getmaxyx(w, h, wd);
    (void)wd;
    size_t o = 0;
    buf[0] = 0;
    for (int y = 0; y < h; y++) {
        char line[4096];
        row(w, y, line, sizeof line);
        o += (size_t)snprintf(buf + o, len - o, "%s\n", line);
        cr_assert(o < len);
    }
    return buf;
}

/* The glyph in cell (y, x) as UTF-8. */
static const char *cell(WINDOW *w, int y, int x)
{
    static char buf[32];
    cchar_t c;
    mvwin_wch(w, y, x, &c);
    wchar_t wch[CCHARW_MAX + 1];
    attr_t a;
    short pair;
    getcchar(&c, wch, &a, &pair, NULL);
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t n = wcrtomb(buf, wch[0], &st);
    buf[n == (size_t)-1 ? 0 : n] = 0;
    return buf;
}

/* The colour pair of cell (y, x). */
static int cell_pair(WINDOW *w, int y, int x)
{
    cchar_t c;
    mvwin_wch(w, y, x, &c);
    wchar_t wch[CCHARW_MAX + 1];
    attr_t a;
    short pair;
    getcchar(&c, wch, &a, &pair, NULL);
    return pair;
}

static int role_pair(sr_role r)
{
    int p = PAIR_NUMBER(sr_role_attr(r));
    cr_assert_neq(p, 0, "role %d has no colour pair", (int)r);
    return p;
}

/* The column at which needle starts in row y, or -1 (cells count one column each). */
static int col_of(WINDOW *w, int y, const char *needle)
{
    char line[4096];
    row(w, y, line, sizeof line);
    const char *p = strstr(line, needle);
    if (!p)
        return -1;
    int col = 0;
    for (const char *q = line; q < p; q++)
        if (((unsigned char)*q & 0xc0) != 0x80)
            col++;
    return col;
}

/* How many times needle occurs in s. */
static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + strlen(needle), needle))
        n++;
    return n;
}

/*
 * A response-time metric (event, p90, seconds) valued v, with a rising
 * series of n_series slices and no previous window.
 */
static sr_panel_model *resp(double v)
{
    sr_metric_def_init(&def, "resp");
    snprintf(def.unit, sizeof def.unit, "s");
    memset(&model, 0, sizeof model);
    model.def = &def;
    model.agg = def.agg;
    sr_agg_format(model.agg, model.agg_name, sizeof model.agg_name);
    model.c.now.value = v;
    model.c.prev.value = NAN;
    model.c.week_ago.value = NAN;
    model.change_pct = NAN;
    model.within_pct = NAN;
    model.status = sr_kpi_status_for(&def, model.agg, v);
    model.n_series = 32;
    for (size_t i = 0; i < model.n_series; i++)
        model.series[i] = 600 + 10.0 * (double)i;
    return &model;
}

/* A gauge metric (vehicles in service, unit unit) valued v. */
static sr_panel_model *level(double v, const char *unit)
{
    sr_metric_def_init(&def, "in_service");
    snprintf(def.unit, sizeof def.unit, "%s", unit);
    def.kind = SR_KIND_GAUGE;
    def.agg = sr_kind_default_agg(SR_KIND_GAUGE);
    def.better = SR_BETTER_HIGHER;
    memset(&model, 0, sizeof model);
    model.def = &def;
    model.agg = def.agg;
    sr_agg_format(model.agg, model.agg_name, sizeof model.agg_name);
    model.c.now.value = v;
    model.c.prev.value = NAN;
    model.c.week_ago.value = NAN;
    model.change_pct = NAN;
    model.status = SR_STATUS_NONE;
    return &model;
}

/* Sets thresholds (better lower) and recomputes the status. */
static void thresholds(double warn, double crit)
{
    def.warn = warn;
    def.crit = crit;
    model.status = sr_kpi_status_for(&def, model.agg, model.c.now.value);
}

static void draw(const sr_widget_class *k, WINDOW *w, const sr_panel_model *m)
{
    sr_view v = {.m = m, .title = "Emergency response P1", .selected = -1};
    werase(w);
    k->draw(w, &v);
}

/* ---- tile ---- */

Test(widgets_a, tile_value_with_unit_and_aggregate)
{
    WINDOW *w = win(4, 34);
    draw(&sr_widget_tile, w, resp(822));
    char line[512];
    cr_assert_eq(col_of(w, 0, "p90 13m42s"), 0, "row 0: '%s'", row(w, 0, line, sizeof line));
    cr_assert_eq(cell_pair(w, 0, 4), role_pair(SR_ROLE_VALUE));
    cr_assert_eq(cell_pair(w, 0, 0), role_pair(SR_ROLE_DIM), "the aggregate name is dim");

    /* a gauge's natural value goes without its aggregate name, with its unit */
    draw(&sr_widget_tile, w, level(4812, "cases"));
    cr_assert_eq(col_of(w, 0, "4 812 cases"), 0, "row 0: '%s'", row(w, 0, line, sizeof line));
    cr_assert_eq(col_of(w, 0, "last"), -1);
}

Test(widgets_a, tile_change_marker_and_percent)
{
    WINDOW *w = win(3, 34);
    char line[512];
    sr_panel_model *m = resp(822);
    m->change_pct = -6.0;
    draw(&sr_widget_tile, w, m);
    int c = col_of(w, 0, "▼6% vs prev");
    cr_assert_eq(c, 34 - 11, "right-aligned: '%s'", row(w, 0, line, sizeof line));

    /* the period compared with is named */
    m->from_ms = 1000 * SR_MS_HOUR;
    m->to_ms = m->from_ms + 8 * SR_MS_HOUR;
    draw(&sr_widget_tile, w, m);
    c = col_of(w, 0, "▼6% vs prev 8h");
    cr_assert_eq(c, 34 - 14, "right-aligned: '%s'", row(w, 0, line, sizeof line));
    m->to_ms = m->from_ms + SR_MS_DAY;
    draw(&sr_widget_tile, w, m);
    cr_assert_neq(col_of(w, 0, "▼6% vs prev 24h"), -1, "'%s'", row(w, 0, line, sizeof line));
    m->to_ms = m->from_ms + 28 * SR_MS_DAY;
    draw(&sr_widget_tile, w, m);
    cr_assert_neq(col_of(w, 0, "▼6% vs prev 28d"), -1, "'%s'", row(w, 0, line, sizeof line));

    m->change_pct = 12.4;
    draw(&sr_widget_tile, w, m);
    cr_assert_neq(col_of(w, 0, "▲12% vs prev"), -1, "'%s'", row(w, 0, line, sizeof line));

    m->change_pct = 3.14;
    draw(&sr_widget_tile, w, m);
    cr_assert_neq(col_of(w, 0, "▲3.1% vs prev"), -1, "'%s'", row(w, 0, line, sizeof line));

    m->change_pct = 0.01;
    draw(&sr_widget_tile, w, m);
    cr_assert_neq(col_of(w, 0, "= vs prev"), -1, "flat: '%s'", row(w, 0, line, sizeof line));

    m->change_pct = NAN;
    draw(&sr_widget_tile, w, m);
    row(w, 0, line, sizeof line);
    cr_assert_null(strstr(line, "vs prev"), "unknown change: '%s'", line);
    cr_assert_null(strstr(line, "▲"));
    cr_assert_null(strstr(line, "▼"));
}

Test(widgets_a, tile_change_coloured_by_direction)
{
    WINDOW *w = win(3, 34);
    sr_panel_model *m = resp(500);
    thresholds(600, 900);
    m->change_pct = -6.0; /* lower is better: an improvement */
    draw(&sr_widget_tile, w, m);
    int c = col_of(w, 0, "▼");
    cr_assert_geq(c, 0);
    cr_assert_eq(cell_pair(w, 0, c), role_pair(SR_ROLE_OK));
    m->change_pct = 6.0;
    draw(&sr_widget_tile, w, m);
    c = col_of(w, 0, "▲");
    cr_assert_geq(c, 0);
    cr_assert_eq(cell_pair(w, 0, c), role_pair(SR_ROLE_WARN));
}

Test(widgets_a, tile_status_word_symbol_and_colour)
{
    WINDOW *w = win(3, 34);
    char text[4096];
    const struct {
        double v;
        const char *word, *sym;
        sr_role role;
    } cases[] = {
        {500, "OK", "●", SR_ROLE_OK},
        {700, "WARN", "◆", SR_ROLE_WARN},
        {1000, "CRIT", "✖", SR_ROLE_CRIT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        resp(cases[i].v);
        thresholds(600, 900);
        draw(&sr_widget_tile, w, &model);
        char want[32];
        snprintf(want, sizeof want, "%s %s", cases[i].sym, cases[i].word);
        int c = col_of(w, 1, want);
        cr_assert_eq(c, 34 - (int)strlen(cases[i].word) - 2, "row 1: '%s'",
                     row(w, 1, text, sizeof text));
        for (int k = 0; k < 2 + (int)strlen(cases[i].word); k++)
            cr_assert_eq(cell_pair(w, 1, c + k), role_pair(cases[i].role), "%s cell %d",
                         cases[i].word, k);
    }

    /* no thresholds: no status at all */
    draw(&sr_widget_tile, w, resp(1000));
    content(w, text, sizeof text);
    cr_assert_null(strstr(text, "OK"));
    cr_assert_null(strstr(text, "WARN"));
    cr_assert_null(strstr(text, "CRIT"), "'%s'", text);
}

Test(widgets_a, tile_target_or_previous_value)
{
    WINDOW *w = win(3, 34);
    char line[512];
    sr_panel_model *m = resp(822);
    def.target = 900;
    thresholds(600, 900);
    draw(&sr_widget_tile, w, m);
    cr_assert_eq(col_of(w, 1, "target 15m00s"), 0, "'%s'", row(w, 1, line, sizeof line));

    /* the share within target follows the target when it fits */
    m->within_pct = 91.4;
    WINDOW *wide = win(3, 50);
    draw(&sr_widget_tile, wide, m);
    cr_assert_eq(col_of(wide, 1, "target 15m00s · 91% within"), 0, "'%s'",
                 row(wide, 1, line, sizeof line));
    WINDOW *mid = win(3, 30); /* no room for the share beside the status */
    draw(&sr_widget_tile, mid, m);
    cr_assert_eq(col_of(mid, 1, "target 15m00s"), 0, "'%s'", row(mid, 1, line, sizeof line));
    cr_assert_eq(col_of(mid, 1, "within"), -1, "'%s'", row(mid, 1, line, sizeof line));
    m->within_pct = NAN;

    WINDOW *narrow = win(3, 20); /* "target 15m00s" and "◆ WARN" do not both fit */
    draw(&sr_widget_tile, narrow, m);
    cr_assert_str_eq(row(narrow, 1, line, sizeof line), "tgt 15m00s    ◆ WARN");
    WINDOW *narrower = win(3, 14); /* no figure is cut */
    draw(&sr_widget_tile, narrower, m);
    cr_assert_str_eq(row(narrower, 1, line, sizeof line), "        ◆ WARN");

    m = resp(822);
    m->c.prev.value = 870;
    draw(&sr_widget_tile, w, m);
    cr_assert_eq(col_of(w, 1, "prev 14m30s"), 0, "'%s'", row(w, 1, line, sizeof line));
}

Test(widgets_a, tile_nan_is_no_data_dim)
{
    WINDOW *w = win(3, 30);
    char text[4096];
    draw(&sr_widget_tile, w, resp(NAN));
    cr_assert_eq(col_of(w, 0, "no data"), 0, "'%s'", content(w, text, sizeof text));
    cr_assert_eq(cell_pair(w, 0, 0), role_pair(SR_ROLE_DIM));
    cr_assert_null(strstr(content(w, text, sizeof text), "nan"));

    /* and without a model at all */
    sr_view v = {.m = NULL, .selected = -1};
    werase(w);
    sr_widget_tile.draw(w, &v);
    cr_assert_eq(col_of(w, 0, "no data"), 0);
}

Test(widgets_a, tile_stale_values_are_greyed)
{
    WINDOW *w = win(3, 34);
    sr_panel_model *m = resp(822);
    m->change_pct = -6;
    sr_view v = {.m = m, .stale = true, .selected = -1};
    werase(w);
    sr_widget_tile.draw(w, &v);
    int c = col_of(w, 0, "13m42s");
    cr_assert_geq(c, 0);
    cr_assert_eq(cell_pair(w, 0, c), role_pair(SR_ROLE_STALE));
    cr_assert_eq(cell_pair(w, 0, col_of(w, 0, "▼")), role_pair(SR_ROLE_STALE));
    cr_assert_eq(cell_pair(w, 2, 0), role_pair(SR_ROLE_STALE), "the sparkline too");
}

/* A previous window only partly covered by data gives no change, and says so. */
Test(widgets_a, tile_prev_partial_instead_of_a_change)
{
    WINDOW *w = win(3, 34);
    char line[512];
    sr_panel_model *m = resp(822);
    m->from_ms = 1000 * SR_MS_HOUR;
    m->to_ms = m->from_ms + 8 * SR_MS_HOUR;
    m->change_pct = NAN;
    m->prev_partial = true;
    draw(&sr_widget_tile, w, m);
    row(w, 0, line, sizeof line);
    cr_assert_eq(col_of(w, 0, "prev partial"), 34 - 12, "right-aligned: '%s'", line);
    cr_assert_null(strstr(line, "▲"), "'%s'", line);
    cr_assert_null(strstr(line, "▼"), "'%s'", line);
}

/* OK from late data is not green; a known problem keeps its colour. */
Test(widgets_a, stale_ok_loses_its_colour_warn_keeps_it)
{
    WINDOW *w = win(3, 34);
    sr_panel_model *m = resp(822);
    m->status = SR_STATUS_OK;
    sr_view v = {.m = m, .stale = false, .selected = -1};
    werase(w);
    sr_widget_tile.draw(w, &v);
    int c = col_of(w, 1, "OK");
    cr_assert_geq(c, 0);
    cr_assert_eq(cell_pair(w, 1, c), role_pair(SR_ROLE_OK), "fresh OK is green");
    v.stale = true;
    werase(w);
    sr_widget_tile.draw(w, &v);
    cr_assert_eq(col_of(w, 1, "● OK"), c - 2, "the symbol and word stay");
    cr_assert_eq(cell_pair(w, 1, c), role_pair(SR_ROLE_STALE), "stale OK is greyed");
    m->status = SR_STATUS_WARN;
    werase(w);
    sr_widget_tile.draw(w, &v);
    c = col_of(w, 1, "WARN");
    cr_assert_geq(c, 0);
    cr_assert_eq(cell_pair(w, 1, c), role_pair(SR_ROLE_WARN), "stale WARN keeps its colour");
}

Test(widgets_a, tile_sparkline_fills_the_rows_below)
{
    WINDOW *w = win(5, 32);
    draw(&sr_widget_tile, w, resp(822)); /* rising series, one slice per column */
    cr_assert_str_eq(cell(w, 4, 0), "▁");
    cr_assert_str_eq(cell(w, 2, 31), "█", "the top of the last column");
    cr_assert_str_eq(cell(w, 2, 0), " ");
    cr_assert_eq(cell_pair(w, 4, 0), role_pair(SR_ROLE_BAR));
}

/* A series privacy emptied says so; an empty one stays blank ("no data"). */
Test(widgets_a, tile_and_sparkline_say_when_percentiles_are_hidden)
{
    WINDOW *w = win(5, 60);
    sr_panel_model *m = resp(822);
    m->agg = (sr_agg){SR_AGG_PCT, 90};
    for (size_t i = 0; i < m->n_series; i++)
        m->series[i] = NAN;
    draw(&sr_widget_tile, w, m);
    cr_assert_lt(col_of(w, 4, "hidden"), 0, "nothing hidden: blank");
    m->series_hidden = 5;
    draw(&sr_widget_tile, w, m);
    cr_assert_eq(col_of(w, 4, "percentiles hidden: <10 per point; zoom out (-)"), 0);
    cr_assert_eq(cell_pair(w, 4, 0), role_pair(SR_ROLE_DIM));
    draw(&sr_widget_sparkline, w, m);
    cr_assert_eq(col_of(w, 4, "percentiles hidden"), 0);
    /* one value left: the sparkline, not the message */
    m->series[3] = 700;
    draw(&sr_widget_tile, w, m);
    cr_assert_lt(col_of(w, 4, "hidden"), 0);
    /* not a percentile: too few people per point */
    m->series[3] = NAN;
    m->agg = (sr_agg){SR_AGG_SUM, 0};
    draw(&sr_widget_tile, w, m);
    cr_assert_eq(col_of(w, 4, "hidden: too few per point"), 0);
}

Test(widgets_a, tile_height_one_and_two)
{
    char text[4096];
    WINDOW *w1 = win(1, 20);
    sr_panel_model *m = resp(1000);
    thresholds(600, 900);
    m->change_pct = 5;
    draw(&sr_widget_tile, w1, m);
    row(w1, 0, text, sizeof text);
    cr_assert_neq(col_of(w1, 0, "16m40s"), -1, "'%s'", text);
    cr_assert_neq(col_of(w1, 0, "CRIT"), -1, "'%s'", text);
    cr_assert_null(strstr(text, "vs prev"), "no change at height 1");

    /* narrow: the value stays whole, the status drops its symbol, then its word */
    WINDOW *w12 = win(1, 12);
    draw(&sr_widget_tile, w12, m);
    cr_assert_str_eq(row(w12, 0, text, sizeof text), "16m40s  CRIT");
    WINDOW *w8 = win(1, 8);
    draw(&sr_widget_tile, w8, m);
    cr_assert_str_eq(row(w8, 0, text, sizeof text), "16m40s ✖");

    WINDOW *w2 = win(2, 30);
    draw(&sr_widget_tile, w2, m);
    content(w2, text, sizeof text);
    cr_assert_neq(col_of(w2, 0, "p90 16m40s"), -1, "'%s'", text);
    cr_assert_neq(col_of(w2, 1, "✖ CRIT"), -1, "'%s'", text);
    cr_assert_null(strstr(text, "▁"), "no sparkline at height 2");
}

Test(widgets_a, tile_narrow_drops_change_then_shortens)
{
    char line[512];
    sr_panel_model *m = level(4812, "cases");
    m->change_pct = 3.1;

    WINDOW *w = win(2, 19); /* "4 812 cases" + 2 + "▲3.1%" fits, " vs prev" not */
    draw(&sr_widget_tile, w, m);
    row(w, 0, line, sizeof line);
    cr_assert_neq(col_of(w, 0, "▲3.1%"), -1, "'%s'", line);
    cr_assert_null(strstr(line, "vs prev"), "'%s'", line);

    WINDOW *w2 = win(2, 12); /* the change goes, the value stays whole */
    draw(&sr_widget_tile, w2, m);
    row(w2, 0, line, sizeof line);
    cr_assert_eq(col_of(w2, 0, "4 812 cases"), 0, "'%s'", line);
    cr_assert_null(strstr(line, "▲"), "'%s'", line);

    WINDOW *w3 = win(2, 8); /* compact: no unit words */
    draw(&sr_widget_tile, w3, m);
    row(w3, 0, line, sizeof line);
    cr_assert_eq(col_of(w3, 0, "4 812"), 0, "'%s'", line);
    cr_assert_null(strstr(line, "cases"), "'%s'", line);
}

/* ---- tile on a wall: large numerals ---- */

/* Draws m on w as a wall does; every row of it in text. */
static void draw_big(WINDOW *w, const sr_panel_model *m, char *text, size_t len)
{
    sr_view v = {.m = m, .title = "Open cases", .selected = -1, .big = true};
    werase(w);
    sr_widget_tile.draw(w, &v);
    content(w, text, len);
}

Test(widgets_a, wall_tile_large_numerals_centred_with_their_unit)
{
    /* 5 346 is 17 columns of numerals; " cases" after it: 23, centred in 41 */
    WINDOW *w = win(8, 41);
    char text[8192];
    draw_big(w, level(5346, "cases"), text, sizeof text);
    cr_assert_eq(col_of(w, 0, "███   ███ █ █ ███"), 9, "%s", text);
    cr_assert_eq(col_of(w, 4, "███   ███   █ ███ cases"), 9, "on the baseline:\n%s", text);
    cr_assert_eq(cell_pair(w, 4, 27), role_pair(SR_ROLE_VALUE), "%s", text);

    /* no room after the figure: the unit centred under it */
    w = win(8, 18);
    draw_big(w, level(5346, "cases"), text, sizeof text);
    cr_assert_eq(col_of(w, 0, "███   ███ █ █ ███"), 0, "%s", text);
    cr_assert_eq(col_of(w, 5, "cases"), 6, "under the figure:\n%s", text);

    /* a duration keeps its letters, and the status line follows */
    w = win(8, 41);
    resp(822);
    thresholds(900, 1200);
    draw_big(w, &model, text, sizeof text);
    cr_assert_neq(col_of(w, 4, "███ ███ m   █ ███ s"), -1, "%s", text);
    cr_assert_neq(col_of(w, 5, "OK"), -1, "%s", text);
}

Test(widgets_a, wall_tile_half_height_numerals_where_five_rows_do_not_fit)
{
    /* a 80x24 wall of nine panels: five rows inside each tile */
    WINDOW *w = win(5, 24);
    char text[8192];
    draw_big(w, level(5346, "cases"), text, sizeof text);
    cr_assert_eq(col_of(w, 0, "█▀▀   ▀▀█ █ █ █▀▀"), 0, "%s", text);
    cr_assert_eq(col_of(w, 2, "▀▀▀   ▀▀▀   ▀ ▀▀▀ cases"), 0, "%s", text);

    /* in ASCII, from the glyph set */
    sr_glyphs_select(false);
    draw_big(w, level(5346, "cases"), text, sizeof text);
    cr_assert_eq(col_of(w, 0, "#\"\"   \"\"# # # #\"\""), 0, "%s", text);
    sr_glyphs_select(true);

    /* no room for numerals at all: the normal value line, unit and all */
    w = win(3, 24);
    draw_big(w, level(5346, "cases"), text, sizeof text);
    cr_assert_eq(col_of(w, 0, "5 346 cases"), 0, "%s", text);
    cr_assert_eq(count(text, "█"), 0, "%s", text);
}

Test(widgets_a, wall_gauge_value_in_large_numerals_above_the_gauge)
{
    WINDOW *w = win(8, 40);
    char text[8192];
    sr_view v = {.m = level(92, "%"), .selected = -1, .big = true};
    sr_widget_gauge.draw(w, &v);
    content(w, text, sizeof text);
    cr_assert_eq(col_of(w, 0, "███ ███ █ █"), 14, "centred:\n%s", text);
    cr_assert_eq(col_of(w, 5, "92%"), 0, "the gauge below:\n%s", text);
    cr_assert_neq(col_of(w, 6, "█"), -1, "its bar:\n%s", text);

    /* no room for the numerals and the gauge's line and bar: the gauge alone */
    w = win(6, 40);
    sr_widget_gauge.draw(w, &v);
    content(w, text, sizeof text);
    cr_assert_eq(col_of(w, 0, "█▀█ ▀▀█ ▀ █"), 14, "half height:\n%s", text);
    cr_assert_eq(col_of(w, 3, "92%"), 0, "%s", text);
    w = win(4, 40);
    sr_widget_gauge.draw(w, &v);
    content(w, text, sizeof text);
    cr_assert_eq(col_of(w, 0, "92%"), 0, "%s", text);
    cr_assert_eq(col_of(w, 0, "▀"), -1, "%s", text);
}

/* ---- sparkline ---- */

Test(widgets_a, sparkline_rising_series_rising_glyphs)
{
    WINDOW *w = win(1, 8);
    double s[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    sr_draw_sparkline(w, 0, 0, 8, s, 8, A_NORMAL);
    char line[128];
    cr_assert_str_eq(row(w, 0, line, sizeof line), "▁▂▃▄▅▆▇█");
}

Test(widgets_a, sparkline_nan_blank_and_flat_middle)
{
    WINDOW *w = win(1, 5);
    char line[128];
    double s[5] = {1, NAN, 3, NAN, 2};
    sr_draw_sparkline(w, 0, 0, 5, s, 5, A_NORMAL);
    cr_assert_str_eq(row(w, 0, line, sizeof line), "▁ █ ▅");

    double flat[5] = {4, 4, 4, 4, 4};
    werase(w);
    sr_draw_sparkline(w, 0, 0, 5, flat, 5, A_NORMAL);
    cr_assert_str_eq(row(w, 0, line, sizeof line), "▄▄▄▄▄");

    double none[3] = {NAN, NAN, NAN};
    werase(w);
    sr_draw_sparkline(w, 0, 0, 5, none, 3, A_NORMAL);
    cr_assert_str_eq(row(w, 0, line, sizeof line), "     ");
    sr_draw_sparkline(w, 0, 0, 5, NULL, 0, A_NORMAL);
    cr_assert_str_eq(row(w, 0, line, sizeof line), "     ");
}

Test(widgets_a, sparkline_resamples_by_averaging)
{
    WINDOW *w = win(1, 4);
    char line[128];
    /* 8 values into 4 cells: pairs averaged, a NAN left out of its pair */
    double s[8] = {0, 2, NAN, 10, 20, 22, 40, 42};
    sr_draw_sparkline(w, 0, 0, 4, s, 8, A_NORMAL);
    /* cells 1, 10, 21, 41 over [1, 41]: levels 1, 3, 5, 8 */
    cr_assert_str_eq(row(w, 0, line, sizeof line), "▁▃▅█");

    /* 2 values stretched over 4 cells */
    double two[2] = {0, 1};
    werase(w);
    sr_draw_sparkline(w, 0, 0, 4, two, 2, A_NORMAL);
    cr_assert_str_eq(row(w, 0, line, sizeof line), "▁▁██");
}

Test(widgets_a, sparkline_ascii_glyphs)
{
    sr_glyphs_select(false);
    WINDOW *w = win(1, 9);
    double s[9] = {0, 1, 2, 3, 4, 5, 6, 7, NAN};
    sr_draw_sparkline(w, 0, 0, 9, s, 9, A_NORMAL);
    char line[128];
    cr_assert_str_eq(row(w, 0, line, sizeof line), "_.-~=+*# ");
}

Test(widgets_a, sparkline_widget_uses_the_full_height)
{
    WINDOW *w = win(4, 16);
    char text[4096];
    sr_panel_model *m = resp(822);
    m->n_series = 16;
    for (int i = 0; i < 16; i++)
        m->series[i] = i; /* levels 1 .. 24 over three rows */
    draw(&sr_widget_sparkline, w, m);
    content(w, text, sizeof text);
    cr_assert_eq(col_of(w, 0, "p90 13m42s"), 0, "'%s'", text);
    cr_assert_str_eq(cell(w, 3, 0), "▁", "'%s'", text);
    cr_assert_str_eq(cell(w, 2, 0), " ");
    cr_assert_str_eq(cell(w, 1, 15), "█");
    cr_assert_str_eq(cell(w, 2, 15), "█");
    cr_assert_str_eq(cell(w, 3, 15), "█");
    /* the middle column: level 1 + round(7/15 * 23) = 12: one full row, half of the next */
    cr_assert_str_eq(cell(w, 3, 7), "█");
    cr_assert_str_eq(cell(w, 2, 7), "▄");
    cr_assert_str_eq(cell(w, 1, 7), " ");

    /* height 1: the value, then an inline sparkline */
    WINDOW *w1 = win(1, 24);
    draw(&sr_widget_sparkline, w1, m);
    row(w1, 0, text, sizeof text);
    cr_assert_eq(col_of(w1, 0, "p90 13m42s"), 0, "'%s'", text);
    cr_assert_str_eq(cell(w1, 0, 11), "▁", "'%s'", text);
    cr_assert_str_eq(cell(w1, 0, 23), "█", "'%s'", text);
}

Test(widgets_a, sparkline_widget_status_word)
{
    WINDOW *w = win(3, 30);
    resp(1000);
    thresholds(600, 900);
    draw(&sr_widget_sparkline, w, &model);
    int c = col_of(w, 0, "✖ CRIT");
    cr_assert_eq(c, 30 - 6);
    cr_assert_eq(cell_pair(w, 0, c + 2), role_pair(SR_ROLE_CRIT));
}

/* ---- gauge ---- */

Test(widgets_a, gauge_fill_proportion)
{
    WINDOW *w = win(2, 20);
    char line[512];
    draw(&sr_widget_gauge, w, level(50, "%"));
    cr_assert_eq(col_of(w, 0, "50%"), 0, "'%s'", row(w, 0, line, sizeof line));
    row(w, 1, line, sizeof line);
    cr_assert_eq(count(line, "█"), 10, "'%s'", line);
    cr_assert_eq(count(line, "─"), 10, "'%s'", line);
    cr_assert_eq(cell_pair(w, 1, 0), role_pair(SR_ROLE_BAR));

    /* eighths: 51.875% of 20 cells = 83 eighths = 10 cells and 3/8 */
    draw(&sr_widget_gauge, w, level(51.875, "%"));
    cr_assert_str_eq(row(w, 1, line, sizeof line), "██████████▍─────────");

    draw(&sr_widget_gauge, w, level(150, "%"));
    cr_assert_eq(count(row(w, 1, line, sizeof line), "█"), 20, "over full fills the bar");
    draw(&sr_widget_gauge, w, level(-5, "%"));
    cr_assert_eq(count(row(w, 1, line, sizeof line), "─"), 20, "below zero is empty");
}

Test(widgets_a, gauge_ascii_glyphs)
{
    sr_glyphs_select(false);
    WINDOW *w = win(2, 20);
    char line[512];
    sr_panel_model *m = level(50, "%");
    def.better = SR_BETTER_LOWER;
    thresholds(70, 90);
    draw(&sr_widget_gauge, w, m);
    cr_assert_str_eq(row(w, 1, line, sizeof line), "##########----|---|-");
    cr_assert_neq(col_of(w, 0, "o OK"), -1, "'%s'", row(w, 0, line, sizeof line));
}

Test(widgets_a, gauge_of_target_and_series_max)
{
    WINDOW *w = win(4, 40);
    char text[4096];
    sr_panel_model *m = level(37, "vehicles");
    def.target = 50;
    draw(&sr_widget_gauge, w, m);
    content(w, text, sizeof text);
    cr_assert_eq(col_of(w, 0, "37 of 50 vehicles (74%)"), 0, "'%s'", text);
    cr_assert_eq(cell_pair(w, 0, 0), role_pair(SR_ROLE_VALUE));
    cr_assert_eq(count(row(w, 1, text, sizeof text), "█"), 29, "'%s'", text); /* 29.6 */
    cr_assert_eq(col_of(w, 2, "0"), 0, "the scale");
    cr_assert_eq(col_of(w, 2, "50 vehicles"), 40 - 11, "the scale");

    /* no target: the highest value of the series */
    m = level(30, "vehicles");
    m->n_series = 3;
    m->series[0] = 20;
    m->series[1] = NAN;
    m->series[2] = 60;
    draw(&sr_widget_gauge, w, m);
    cr_assert_eq(col_of(w, 0, "30 of 60 vehicles (50%)"), 0, "'%s'", content(w, text, sizeof text));
    cr_assert_eq(count(row(w, 1, text, sizeof text), "█"), 20);

    /* nothing gives a scale: the value alone, an empty bar */
    draw(&sr_widget_gauge, w, level(30, "vehicles"));
    cr_assert_eq(col_of(w, 0, "30 vehicles"), 0, "'%s'", content(w, text, sizeof text));
    cr_assert_eq(count(row(w, 1, text, sizeof text), "─"), 40);
}

Test(widgets_a, gauge_threshold_markers_and_status_colour)
{
    WINDOW *w = win(2, 20);
    char line[512];
    sr_panel_model *m = level(90, "%");
    def.better = SR_BETTER_LOWER;
    thresholds(60, 80);
    draw(&sr_widget_gauge, w, m);
    cr_assert_neq(col_of(w, 0, "✖ CRIT"), -1, "'%s'", row(w, 0, line, sizeof line));
    row(w, 1, line, sizeof line);
    cr_assert_str_eq(cell(w, 1, 12), "│", "warn at 60%%: '%s'", line);
    cr_assert_eq(cell_pair(w, 1, 12), role_pair(SR_ROLE_WARN));
    cr_assert_str_eq(cell(w, 1, 16), "│", "crit at 80%%: '%s'", line);
    cr_assert_eq(cell_pair(w, 1, 16), role_pair(SR_ROLE_CRIT));
    cr_assert_str_eq(cell(w, 1, 0), "█");
    cr_assert_eq(cell_pair(w, 1, 0), role_pair(SR_ROLE_CRIT), "the bar in the status colour");

    /* thresholds outside the bar draw no marker */
    thresholds(0, 120);
    draw(&sr_widget_gauge, w, m);
    cr_assert_eq(count(row(w, 1, line, sizeof line), "│"), 0, "'%s'", line);
}

Test(widgets_a, gauge_height_one_and_no_data)
{
    WINDOW *w = win(1, 24);
    char line[512];
    sr_panel_model *m = level(50, "%");
    def.better = SR_BETTER_LOWER;
    thresholds(60, 80);
    draw(&sr_widget_gauge, w, m);
    row(w, 0, line, sizeof line);
    cr_assert_eq(col_of(w, 0, "50%"), 0, "'%s'", line);
    cr_assert_neq(col_of(w, 0, "● OK"), -1, "'%s'", line);
    cr_assert_geq(count(line, "█"), 3, "'%s'", line);

    WINDOW *w2 = win(2, 20);
    draw(&sr_widget_gauge, w2, level(NAN, "%"));
    cr_assert_eq(col_of(w2, 0, "no data"), 0);
    cr_assert_eq(cell_pair(w2, 0, 0), role_pair(SR_ROLE_DIM));
    cr_assert_eq(count(row(w2, 1, line, sizeof line), "─"), 20);
}

/* ---- every widget: tiny windows, escape sequences ---- */

static const sr_widget_class *const all[] = {&sr_widget_tile, &sr_widget_sparkline,
                                             &sr_widget_gauge};

/* A model with everything set: long unit, change, status, target, series. */
static sr_panel_model *busy(double v)
{
    sr_panel_model *m = resp(v);
    snprintf(def.unit, sizeof def.unit, "vehicles-in-service");
    def.target = 40;
    def.better = SR_BETTER_LOWER;
    thresholds(20, 35);
    m->change_pct = -12.5;
    m->c.prev.value = 30;
    return m;
}

/* ---- tile: the figure against its baseline ---- */

static sr_baseline_slice base_run[2];

/*
 * A count of calls, 240, whose run of two slices has the band 150-205 on 8
 * weeks (or no band: too few weeks), unusual as given.
 */
static sr_panel_model *calls_against(bool band, sr_unusual u)
{
    sr_metric_def_init(&def, "calls");
    def.agg = (sr_agg){SR_AGG_COUNT, 0};
    memset(&model, 0, sizeof model);
    model.def = &def;
    model.agg = def.agg;
    sr_agg_format(model.agg, model.agg_name, sizeof model.agg_name);
    model.c.now.value = 240;
    model.c.prev.value = model.c.week_ago.value = NAN;
    model.change_pct = model.within_pct = NAN;
    model.status = SR_STATUS_NONE;
    model.n_series = 16;
    for (size_t i = 0; i < model.n_series; i++)
        model.series[i] = 100 + 10.0 * (double)i;
    memset(base_run, 0, sizeof base_run);
    for (int i = 0; i < 2; i++) {
        sr_baseline *b = &base_run[i].base;
        b->weeks = 8;
        b->used = band ? 8 : 2;
        b->has_band = band;
        b->low = band ? 150 : NAN;
        b->high = band ? 205 : NAN;
        b->median = band ? 180 : NAN;
        snprintf(b->why, sizeof b->why, "%s", band ? "" : "too few weeks: 2 of 8");
    }
    model.base_run = base_run;
    model.n_base_run = 2;
    model.unusual = u;
    snprintf(model.base_label, sizeof model.base_label, "Fri 22-23h");
    return &model;
}

/* Asserts that text starts at column col of row y of w (ANYWHERE: at some
 * column; -1: nowhere), showing the row when not. */
#define ANYWHERE (-2)
static void expect_at(WINDOW *w, int y, const char *text, int col)
{
    char line[512];
    int c = col_of(w, y, text);
    if (col == ANYWHERE)
        cr_assert_neq(c, -1, "'%s' not in row %d: '%s'", text, y, row(w, y, line, sizeof line));
    else
        cr_assert_eq(c, col, "'%s' at %d, not %d, in row %d: '%s'", text, c, col, y,
                     row(w, y, line, sizeof line));
}

/* A parent window filled with '@' around an h x wd window at (y0, x0). */
static WINDOW *fenced(int h, int wd, int y0, int x0, WINDOW **parent)
{
    *parent = win(h + 2 * y0, wd + 2 * x0);
    for (int y = 0; y < h + 2 * y0; y++)
        for (int x = 0; x < wd + 2 * x0; x++)
            mvwaddch(*parent, y, x, '@');
    return sub(*parent, h, wd, y0, x0);
}

/* Every cell of parent outside its fenced window (h x wd at y0, x0) is
 * still '@': what was drawn stayed inside. */
static void assert_only_inside(WINDOW *parent, const char *what, int h, int wd, int y0, int x0)
{
    int ph, pw;
    getmaxyx(parent, ph, pw);
    for (int y = 0; y < ph; y++) {
        for (int x = 0; x < pw; x++) {
            bool inside = y >= y0 && y < y0 + h && x >= x0 && x < x0 + wd;
            if (!inside)
                cr_assert_str_eq(cell(parent, y, x), "@", "%s %dx%d wrote outside at (%d, %d)",
                                 what, h, wd, y, x);
        }
    }
}

Test(widgets_a, tile_baseline_line_band_and_unusual_mark)
{
    WINDOW *w = win(5, 48);
    draw(&sr_widget_tile, w, calls_against(true, SR_UNUSUAL_HIGH));
    expect_at(w, 2, "normal 150–205 (Fri 22-23h, 8 wk)", 0);
    expect_at(w, 2, "unusual ▲", 48 - 9);
    cr_assert_eq(cell_pair(w, 2, 48 - 9), role_pair(SR_ROLE_WARN), "the mark in the warn role");
    expect_at(w, 3, "▁", ANYWHERE); /* the series below */

    /* below the band: ▼; within it: no mark */
    draw(&sr_widget_tile, w, calls_against(true, SR_UNUSUAL_LOW));
    expect_at(w, 2, "unusual ▼", ANYWHERE);
    draw(&sr_widget_tile, w, calls_against(true, SR_UNUSUAL_NONE));
    expect_at(w, 2, "unusual", -1);
    expect_at(w, 2, "normal 150–205", 0);

    /* narrower: the slice's place goes, then the word; the mark stays */
    WINDOW *n = win(5, 24);
    draw(&sr_widget_tile, n, calls_against(true, SR_UNUSUAL_HIGH));
    expect_at(n, 2, "150–205", 0);
    expect_at(n, 2, "normal", -1);
    expect_at(n, 2, "unusual ▲", 24 - 9);

    /* three rows: the line only when unusual, instead of the series */
    WINDOW *t = win(3, 40);
    draw(&sr_widget_tile, t, calls_against(true, SR_UNUSUAL_HIGH));
    expect_at(t, 2, "unusual ▲", ANYWHERE);
    draw(&sr_widget_tile, t, calls_against(true, SR_UNUSUAL_NONE));
    expect_at(t, 2, "normal", -1);

    /* ASCII: ^ and a plain hyphen */
    sr_glyphs_select(false);
    draw(&sr_widget_tile, w, calls_against(true, SR_UNUSUAL_HIGH));
    expect_at(w, 2, "normal 150-205 (Fri 22-23h, 8 wk)", 0);
    expect_at(w, 2, "unusual ^", ANYWHERE);
    sr_glyphs_select(true);
}

/* Someone has taken the panel's unusual alert: the mark says so, and
 * drops the word first where it does not fit. */
Test(widgets_a, tile_baseline_mark_says_the_unusual_alert_is_taken)
{
    WINDOW *w = win(5, 48);
    sr_view v = {.m = calls_against(true, SR_UNUSUAL_HIGH),
                 .title = "Calls",
                 .selected = -1,
                 .alert_unusual = SR_ALERT_ACKED};
    werase(w);
    sr_widget_tile.draw(w, &v);
    expect_at(w, 2, "unusual ▲ acked", 48 - 15);
    expect_at(w, 2, "normal 150–205", 0);
    v.alert_unusual = SR_ALERT_SILENCED;
    werase(w);
    sr_widget_tile.draw(w, &v);
    expect_at(w, 2, "unusual ▲ silenced", 48 - 18);
    WINDOW *n = win(5, 12);
    werase(n);
    sr_widget_tile.draw(n, &v);
    expect_at(n, 2, "unusual ▲", 12 - 9);
    expect_at(n, 2, "silenced", -1);
}

Test(widgets_a, tile_baseline_line_without_a_band_says_why)
{
    WINDOW *w = win(5, 48);
    draw(&sr_widget_tile, w, calls_against(false, SR_UNUSUAL_UNKNOWN));
    expect_at(w, 2, "normal: too few weeks: 2 of 8", 0);
    WINDOW *n = win(5, 22);
    draw(&sr_widget_tile, n, calls_against(false, SR_UNUSUAL_UNKNOWN));
    expect_at(n, 2, "normal: too few weeks", 0);

    /* a band the role may not see: its mask, no figure */
    calls_against(true, SR_UNUSUAL_UNKNOWN);
    snprintf(model.base_mask, sizeof model.base_mask, "<5");
    draw(&sr_widget_tile, w, &model);
    expect_at(w, 2, "normal <5", 0);
    expect_at(w, 2, "150", -1);
}

static sr_panel_model *calls_forecast(bool baseline, const char *why);

/* The baseline line, and the forecast line below it (shown or withheld),
 * in every small tile. */
Test(widgets_a, tile_baseline_line_stays_inside_small_tiles)
{
    for (int h = 1; h <= 6; h++) {
        for (int wd = 1; wd <= 30; wd++) {
            WINDOW *parent;
            WINDOW *w = fenced(h, wd, 1, 1, &parent);
            draw(&sr_widget_tile, w, calls_against(wd % 2 == 0, SR_UNUSUAL_HIGH));
            assert_only_inside(parent, "tile", h, wd, 1, 1);
            draw(&sr_widget_tile, w, calls_forecast(wd % 2 == 0, wd % 3 ? NULL : "too few weeks"));
            assert_only_inside(parent, "tile with a forecast", h, wd, 1, 1);
            delwin(wins[--n_wins]);
            delwin(wins[--n_wins]);
        }
    }
}

/* ---- tile: the forecast ---- */

/*
 * calls_against's panel (with a band or without a baseline) and a forecast
 * of the next 8 h: 310-380 (expected 345), backtest error 11 %; withheld
 * with why when why is given.
 */
static sr_panel_model *calls_forecast(bool baseline, const char *why)
{
    calls_against(true, SR_UNUSUAL_NONE);
    if (!baseline) {
        model.base_run = NULL;
        model.n_base_run = 0;
        model.base_label[0] = 0;
    }
    model.has_forecast = true;
    sr_forecast *f = &model.forecast;
    memset(f, 0, sizeof *f);
    f->now.from_ms = 1762556400000LL;
    f->now.to_ms = f->now.from_ms + 8 * SR_MS_HOUR;
    f->now.ok = true;
    f->now.value = 345;
    f->now.low = 310;
    f->now.high = 380;
    f->error = 0.11;
    f->shown = !why;
    snprintf(f->why, sizeof f->why, "%s", why ? why : "");
    return &model;
}

Test(widgets_a, tile_forecast_line_band_and_backtest_error)
{
    /* below the baseline line, the series keeping a row under it */
    WINDOW *w = win(5, 52);
    draw(&sr_widget_tile, w, calls_forecast(true, NULL));
    expect_at(w, 2, "normal 150–205", 0);
    expect_at(w, 3, "next 8h: 310–380 · backtest error 11 % (4 wk)", 0);
    expect_at(w, 4, "▁", ANYWHERE);

    /* narrower: the weeks and the word "backtest" go, then words, never
     * the error: the band does not go without its track record */
    WINDOW *n = win(5, 30);
    draw(&sr_widget_tile, n, calls_forecast(true, NULL));
    expect_at(n, 3, "next 8h: 310–380 · error 11 %", 0);
    WINDOW *n26 = win(5, 26);
    draw(&sr_widget_tile, n26, calls_forecast(true, NULL));
    expect_at(n26, 3, "next 8h: 310–380 · err 11%", 0);
    WINDOW *n24 = win(5, 24); /* a tile at 80x24 */
    draw(&sr_widget_tile, n24, calls_forecast(true, NULL));
    expect_at(n24, 3, "8h: 310–380 · err 11%", 0);
    WINDOW *nn = win(5, 20);
    draw(&sr_widget_tile, nn, calls_forecast(true, NULL));
    expect_at(nn, 3, "310–380 · err 11%", 0);

    /* four rows: the baseline line keeps its place and the series its row */
    WINDOW *f = win(4, 52);
    draw(&sr_widget_tile, f, calls_forecast(true, NULL));
    expect_at(f, 2, "normal 150–205", 0);
    expect_at(f, 3, "next 8h", -1);
    /* without a baseline the forecast takes that row */
    draw(&sr_widget_tile, f, calls_forecast(false, NULL));
    expect_at(f, 2, "next 8h: 310–380 · backtest error 11 % (4 wk)", 0);
    expect_at(f, 3, "▁", ANYWHERE);
}

Test(widgets_a, tile_forecast_withheld_shows_only_the_reason)
{
    WINDOW *w = win(5, 60);
    draw(&sr_widget_tile, w,
         calls_forecast(true, "backtest error 41 % (4 wk) is above the limit of 25 %"));
    expect_at(w, 3, "forecast withheld: backtest error 41 % (4 wk) is above the", 0);
    expect_at(w, 3, "310", -1);
    /* cut to fit */
    WINDOW *n = win(5, 24);
    draw(&sr_widget_tile, n, calls_forecast(true, "too few weeks"));
    expect_at(n, 3, "forecast withheld: too …", 0);

    /* one the role may not see: its mask, no figure */
    calls_forecast(true, NULL);
    snprintf(model.fc_mask, sizeof model.fc_mask, "<5");
    draw(&sr_widget_tile, w, &model);
    expect_at(w, 3, "next 8h: <5", 0);
    expect_at(w, 3, "310", -1);
}

Test(widgets_a, tiny_windows_stay_inside)
{
    const int sizes[][2] = {{1, 1}, {1, 2}, {2, 5}, {3, 10}, {1, 3}, {4, 2}, {2, 1}, {5, 4}};
    const double values[] = {37.25, NAN, 1e12, -3};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
                int h = sizes[s][0], wd = sizes[s][1];
                WINDOW *parent;
                WINDOW *w = fenced(h, wd, 2, 3, &parent);
                draw(all[k], w, busy(values[i]));
                assert_only_inside(parent, all[k]->name, h, wd, 2, 3);
                /* what is inside is text, not garbage: no control characters shown */
                char text[4096];
                content(w, text, sizeof text);
                cr_assert_null(strstr(text, "^"), "%s %dx%d: '%s'", all[k]->name, h, wd, text);
                delwin(wins[--n_wins]);
                delwin(wins[--n_wins]);
            }
        }
    }
}

Test(widgets_a, escape_sequences_never_reach_the_cells)
{
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        for (int h = 1; h <= 4; h++) {
            WINDOW *w = win(h, 40);
            sr_panel_model *m = busy(30);
            snprintf(def.unit, sizeof def.unit,
                     "\x1b[2J\x1b]0;x\x07u\x9b"
                     "1m");
            snprintf(m->agg_name, sizeof m->agg_name, "\x1b[31mp90");
            sr_view v = {.m = m, .title = "\x1b]0;pwned\x07Title\x1b[31m", .selected = -1};
            werase(w);
            all[k]->draw(w, &v);
            char text[4096];
            content(w, text, sizeof text);
            cr_assert_null(strchr(text, 0x1b), "%s h=%d: raw ESC", all[k]->name, h);
            cr_assert_null(strstr(text, "^["), "%s h=%d: '%s'", all[k]->name, h, text);
            cr_assert_null(strstr(text, "[2J"), "%s h=%d: '%s'", all[k]->name, h, text);
            cr_assert_null(strstr(text, "[31m"), "%s h=%d: '%s'", all[k]->name, h, text);
            cr_assert_null(strstr(text, "0;x"), "%s h=%d: '%s'", all[k]->name, h, text);
            cr_assert_null(strstr(text, "pwned"), "%s h=%d: '%s'", all[k]->name, h, text);
            delwin(wins[--n_wins]);
        }
    }
}

Test(widgets_a, class_tables)
{
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        cr_assert_not_null(all[k]->name);
        cr_assert_not_null(all[k]->draw);
        cr_assert_null(all[k]->key, "%s takes no keys", all[k]->name);
        cr_assert_geq(all[k]->min_w, 1);
        cr_assert_geq(all[k]->min_h, 1);
        cr_assert(all[k]->wants & SR_PANEL_SERIES);
    }
    cr_assert_str_eq(sr_widget_tile.name, "tile");
    cr_assert_str_eq(sr_widget_sparkline.name, "sparkline");
    cr_assert_str_eq(sr_widget_gauge.name, "gauge");
}
