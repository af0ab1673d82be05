/*
 * Tests of the breakdown and distribution widgets (tui/bars.c, table.c,
 * chart.c, histogram.c): each draws a hand-built panel model into a real
 * curses window (newterm on /dev/null, xterm-256color, C.UTF-8), and the
 * cells are read back with mvwin_wch: characters, columns and colour pairs.
 */
#include <criterion/criterion.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "../../metrics/kpi.h"
#include "../../tui/tui.h"
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

TestSuite(widgets_b, .init = setup, .fini = teardown);

/* ---- reading the window back ---- */

/* The character at (y, x) as UTF-8 (a wide character reads the same in both its cells). */
static void cell(WINDOW *w, int y, int x, char *out, short *pair)
{
    cchar_t c;
    wchar_t wc[CCHARW_MAX + 1] = {0};
    attr_t a;
    short p = 0;
    out[0] = 0;
    if (mvwin_wch(w, y, x, &c) == ERR)
        return;
    getcchar(&c, wc, &a, &p, NULL);
    mbstate_t st = {0};
    size_t n = wcrtomb(out, wc[0], &st);
    out[n == (size_t)-1 ? 0 : n] = 0;
    if (pair)
        *pair = p;
}

static short pair_of(sr_role r)
{
    return (short)PAIR_NUMBER(sr_role_attr(r));
}

/*
 * Line y as UTF-8, walking the cells by width so that a wide character is
 * read once; cols[k] (when given) is the column where the character holding
 * byte k starts.
 */
static void line(WINDOW *w, int y, char *out, size_t len, int *cols)
{
    int width = getmaxx(w);
    size_t o = 0;
    for (int x = 0; x < width;) {
        char c[16];
        cell(w, y, x, c, NULL);
        wchar_t wc;
        mbstate_t st = {0};
        int cw = mbrtowc(&wc, c, strlen(c), &st) > 0 ? wcwidth(wc) : 1;
        size_t n = strlen(c);
        if (o + n + 1 < len) {
            memcpy(out + o, c, n);
            for (size_t k = 0; cols && k < n; k++)
                cols[o + k] = x;
            o += n;
        }
        x += cw > 0 ? cw : 1;
    }
    out[o] = 0;
}

/* The column where needle starts on line y, or -1. */
static int col_of(WINDOW *w, int y, const char *needle)
{
    char text[2048];
    int cols[2048];
    line(w, y, text, sizeof text, cols);
    const char *hit = strstr(text, needle);
    return hit ? cols[hit - text] : -1;
}

static bool line_has(WINDOW *w, int y, const char *needle)
{
    return col_of(w, y, needle) >= 0;
}

/* Eighths of a horizontal bar on line y: full and partial blocks anywhere on the line. */
static int bar_eighths(WINDOW *w, int y)
{
    const sr_glyphs *g = sr_glyphs_get();
    int e = 0;
    for (int x = 0; x < getmaxx(w); x++) {
        char c[16];
        cell(w, y, x, c, NULL);
        for (int k = 1; k <= 8; k++) {
            if (strcmp(c, g->block[k]) == 0) {
                e += k;
                break;
            }
        }
    }
    return e;
}

/* Eighths of a vertical bar in column x between lines top and bottom (sparkline levels). */
static int column_eighths(WINDOW *w, int x, int top, int bottom)
{
    const sr_glyphs *g = sr_glyphs_get();
    int e = 0;
    for (int y = top; y <= bottom; y++) {
        char c[16];
        cell(w, y, x, c, NULL);
        for (int k = 0; k < 8; k++) {
            if (strcmp(c, g->spark[k]) == 0) {
                e += k + 1;
                break;
            }
        }
    }
    return e;
}

/* No control character anywhere in the window (ESC above all). */
static void assert_no_controls(WINDOW *w)
{
    int h, wd;
    getmaxyx(w, h, wd);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < wd; x++) {
            cchar_t c;
            wchar_t wc[CCHARW_MAX + 1] = {0};
            attr_t a;
            short p;
            mvwin_wch(w, y, x, &c);
            getcchar(&c, wc, &a, &p, NULL);
            cr_assert(wc[0] >= 0x20 && wc[0] != 0x7f && !(wc[0] >= 0x80 && wc[0] < 0xa0),
                      "control character %#x at %d,%d", (unsigned)wc[0], y, x);
        }
        char text[2048];
        line(w, y, text, sizeof text, NULL);
        cr_assert_null(strstr(text, "[2J"), "escape sequence text on line %d: %s", y, text);
    }
}

/* ---- models ---- */

typedef struct {
    sr_metric_def def;
    sr_panel_model m;
    sr_panel_row rows[64];
    sr_view v;
} fixture;

static void fx_init(fixture *f, const char *unit)
{
    memset(f, 0, sizeof *f);
    sr_metric_def_init(&f->def, "response_p1");
    snprintf(f->def.unit, sizeof f->def.unit, "%s", unit);
    f->m.def = &f->def;
    f->m.agg = f->def.agg;
    f->m.rows = f->rows;
    f->m.change_pct = NAN;
    for (size_t i = 0; i < SR_SERIES_MAX; i++)
        f->m.series[i] = NAN;
    f->v.m = &f->m;
    f->v.selected = -1;
}

static void fx_row(fixture *f, const char *entity, double value, sr_status st)
{
    sr_panel_row *r = &f->rows[f->m.n_rows++];
    snprintf(r->entity, sizeof r->entity, "%s", entity);
    r->r.value = value;
    r->r.n = isnan(value) ? 0 : 10;
    r->r.exact = true;
    r->status = st;
    r->prev.value = r->change_pct = NAN; /* no previous window unless a test sets one */
    for (size_t k = 0; k < SR_ROW_SERIES; k++)
        r->series[k] = NAN;
}

static void fx_row_series(fixture *f, size_t row, size_t n, double from, double step)
{
    for (size_t k = 0; k < n; k++)
        f->rows[row].series[k] = from + step * (double)k;
    f->rows[row].n_series = n;
}

/*
 * Chart, bars and histogram draw their headline on the top row and their
 * body below it: headed(h, wd) makes a window one row taller and returns
 * the body's part of it (h rows), so that a test reads the body from its
 * row 0; draw() draws into the whole window. The windows live until the
 * test's process ends.
 */
static struct {
    WINDOW *body, *whole;
} heads[32];
static size_t n_heads;

static WINDOW *headed(int h, int wd)
{
    cr_assert_lt(n_heads, sizeof heads / sizeof heads[0]);
    WINDOW *whole = newwin(h + 1, wd, 0, 0);
    cr_assert_not_null(whole);
    WINDOW *body = derwin(whole, h, wd, 1, 0);
    cr_assert_not_null(body);
    heads[n_heads].whole = whole;
    heads[n_heads++].body = body;
    return body;
}

static WINDOW *whole_of(WINDOW *w)
{
    for (size_t i = n_heads; i-- > 0;) { /* newest first: a freed body's address comes back */
        if (heads[i].body == w)
            return heads[i].whole;
    }
    return w;
}

static void draw(const sr_widget_class *cls, WINDOW *w, const sr_view *v)
{
    w = whole_of(w);
    werase(w);
    cls->draw(w, v);
}

/* ---- bars ---- */

Test(widgets_b, bars_order_proportional_lengths_and_status)
{
    fixture f;
    fx_init(&f, "s");
    fx_row(&f, "force/north/d-1", 800, SR_STATUS_CRIT);
    fx_row(&f, "force/north/d-2", 400, SR_STATUS_WARN);
    fx_row(&f, "force/north/d-3", 200, SR_STATUS_OK);
    fx_row(&f, "force/north/d-4", NAN, SR_STATUS_NONE);
    WINDOW *w = headed(6, 40);
    draw(&sr_widget_bars, w, &f.v);

    const sr_glyphs *g = sr_glyphs_get();
    const char *names[] = {"d-1", "d-2", "d-3", "d-4"};
    const char *syms[] = {g->crit, g->warn, g->ok, g->none};
    const sr_role roles[] = {SR_ROLE_CRIT, SR_ROLE_WARN, SR_ROLE_OK, SR_ROLE_DIM};
    for (int y = 0; y < 4; y++) {
        cr_assert_eq(col_of(w, y, names[y]), 0, "line %d does not start with %s", y, names[y]);
        cr_assert(!line_has(w, y, "force/"), "the full path is shown");
        char c[16];
        short p;
        cell(w, y, 39, c, &p);
        cr_assert_str_eq(c, syms[y], "status symbol of line %d", y);
        cr_assert_eq(p, pair_of(roles[y]), "status colour of line %d", y);
    }
    cr_assert(line_has(w, 0, "13m20s"));
    cr_assert(line_has(w, 1, "6m40s"));
    /* values right-aligned: they all end in the column before the gap and the symbol */
    cr_assert_eq(col_of(w, 0, "13m20s") + 6, 38);
    cr_assert_eq(col_of(w, 1, "6m40s") + 5, 38);
    char dash[16];
    cell(w, 3, 37, dash, NULL);
    cr_assert_str_eq(dash, "-", "a row without a value shows '-'");

    int full = bar_eighths(w, 0);
    cr_assert_gt(full, 8 * 20, "the largest value gets most of the line: %d eighths", full);
    cr_assert_eq(bar_eighths(w, 1) * 2, full, "half the value, half the bar (%d of %d)",
                 bar_eighths(w, 1), full);
    cr_assert_eq(bar_eighths(w, 2) * 4, full, "a quarter");
    cr_assert_eq(bar_eighths(w, 3), 0, "no value, no bar");
    delwin(w);
}

Test(widgets_b, bars_scale_percent_to_100)
{
    fixture f;
    fx_init(&f, "%");
    f.def.better = SR_BETTER_HIGHER;
    fx_row(&f, "a", 50, SR_STATUS_WARN);
    fx_row(&f, "b", 25, SR_STATUS_CRIT);
    /* width 40: name 1, gap, bar 32, gap, "50%", gap, symbol */
    WINDOW *w = headed(2, 40);
    draw(&sr_widget_bars, w, &f.v);
    cr_assert_eq(bar_eighths(w, 0), 32 * 8 / 2, "50%% is half of a 32-cell bar: %d",
                 bar_eighths(w, 0));
    cr_assert_eq(bar_eighths(w, 1), 32 * 8 / 4);
    cr_assert(line_has(w, 0, "50%"));
    delwin(w);
}

Test(widgets_b, bars_eighths_and_ascii)
{
    fixture f;
    fx_init(&f, "cases");
    fx_row(&f, "x", 64, SR_STATUS_NONE);
    fx_row(&f, "y", 3, SR_STATUS_NONE); /* 3/64 of 8 cells = 3 eighths */
    /* width 15: name 1, gap, bar 8, gap, value 2 ("64": "64 cases" does not fit), gap, symbol */
    WINDOW *w = headed(2, 15);
    draw(&sr_widget_bars, w, &f.v);
    cr_assert_eq(bar_eighths(w, 0), 64);
    cr_assert_eq(bar_eighths(w, 1), 3, "to the eighth: %d", bar_eighths(w, 1));
    char c[16];
    cell(w, 1, 2, c, NULL);
    cr_assert_str_eq(c, "▍");

    sr_glyphs_select(false);
    draw(&sr_widget_bars, w, &f.v);
    char text[256];
    line(w, 0, text, sizeof text, NULL);
    cr_assert_str_eq(text, "x ######## 64 .", "ASCII line: '%s'", text);
    line(w, 1, text, sizeof text, NULL);
    cr_assert_str_eq(text,
                     "y"
                     "          "
                     " 3 .",
                     "3/64 of 8 cells rounds to none: '%s'", text);
    delwin(w);
}

static int line_of_name(WINDOW *w, const char *name)
{
    for (int y = 0; y < getmaxy(w); y++) {
        if (col_of(w, y, name) == 0) {
            char rest[16];
            cell(w, y, (int)strlen(name), rest, NULL);
            if (strcmp(rest, " ") == 0)
                return y;
        }
    }
    return -1;
}

static void assert_selected_line(WINDOW *w, int y)
{
    for (int yy = 0; yy < getmaxy(w); yy++) {
        short p;
        char c[16];
        cell(w, yy, 0, c, &p);
        if (yy == y)
            cr_assert_eq(p, pair_of(SR_ROLE_SELECTED), "line %d is not highlighted", yy);
        else
            cr_assert_neq(p, pair_of(SR_ROLE_SELECTED), "line %d is highlighted", yy);
        cell(w, yy, getmaxx(w) - 1, c, &p);
        if (yy == y)
            cr_assert_eq(p, pair_of(SR_ROLE_SELECTED), "the highlight spans the line");
    }
}

static void fill_units(fixture *f, int n)
{
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "force/u%02d", i);
        fx_row(f, name, 1000 - i * 10, SR_STATUS_OK);
    }
}

static void check_selection_keys(const sr_widget_class *cls, int header)
{
    fixture f;
    fx_init(&f, "s");
    fill_units(&f, 30);
    WINDOW *w = newwin(5 + header, 30, 0, 0);
    char name[16];

    cr_assert(!cls->key(&f.v, 'x'), "an unrelated key is not used");
    cr_assert(cls->key(&f.v, KEY_DOWN));
    cr_assert_eq(f.v.selected, 0, "the first Down selects the first row");
    cr_assert(!cls->key(&f.v, KEY_UP), "Up on the first row is not used");
    for (int i = 0; i < 11; i++)
        cr_assert(cls->key(&f.v, i % 2 ? 'j' : KEY_DOWN));
    cr_assert_eq(f.v.selected, 11);
    draw(cls, w, &f.v);
    int y = line_of_name(w, "u11");
    cr_assert_eq(y, 4 + header, "the selection is kept visible on the last line: %d", y);
    assert_selected_line(w, y);
    cr_assert_eq(line_of_name(w, "u07"), header, "scrolled by as little as needed");

    cr_assert(cls->key(&f.v, KEY_END));
    cr_assert_eq(f.v.selected, 29);
    draw(cls, w, &f.v);
    cr_assert_eq(line_of_name(w, "u29"), 4 + header);
    cr_assert_eq(line_of_name(w, "u25"), header, "End shows a full last page");
    cr_assert(!cls->key(&f.v, KEY_DOWN), "Down on the last row is not used");
    cr_assert(cls->key(&f.v, 'k'));
    draw(cls, w, &f.v);
    cr_assert_eq(line_of_name(w, "u28"), 3 + header, "Up after End moves the highlight");
    assert_selected_line(w, 3 + header);

    cr_assert(cls->key(&f.v, KEY_HOME));
    cr_assert_eq(f.v.selected, 0);
    draw(cls, w, &f.v);
    assert_selected_line(w, header);
    cr_assert(cls->key(&f.v, KEY_NPAGE));
    cr_assert(cls->key(&f.v, KEY_NPAGE));
    cr_assert_eq(f.v.selected, 20);
    draw(cls, w, &f.v);
    snprintf(name, sizeof name, "u%02d", f.v.selected);
    y = line_of_name(w, name);
    cr_assert_geq(y, header, "PgDn keeps the selection visible");
    assert_selected_line(w, y);
    cr_assert(cls->key(&f.v, KEY_PPAGE));
    cr_assert_eq(f.v.selected, 10);
    draw(cls, w, &f.v);
    cr_assert_geq(line_of_name(w, "u10"), header);
    for (int i = 0; i < 5; i++)
        cls->key(&f.v, KEY_NPAGE);
    cr_assert_eq(f.v.selected, 29, "PgDn stops at the last row");

    /* the model shrank under the selection: drawing and moving stay in range */
    f.m.n_rows = 3;
    draw(cls, w, &f.v);
    cr_assert(cls->key(&f.v, KEY_UP));
    cr_assert_eq(f.v.selected, 1);
    f.m.n_rows = 0;
    cr_assert(!cls->key(&f.v, KEY_DOWN), "no rows, no key");
    draw(cls, w, &f.v);
    delwin(w);
}

Test(widgets_b, bars_selection_and_scrolling)
{
    check_selection_keys(&sr_widget_bars, 1); /* the headline above the rows */
}

Test(widgets_b, table_selection_and_scrolling)
{
    check_selection_keys(&sr_widget_table, 1);
}

/* ---- table ---- */

static void table_fixture(fixture *f)
{
    fx_init(f, "s");
    fx_row(f, "force/north/district-1", 800, SR_STATUS_CRIT);
    fx_row(f, "force/north/district-2", 425, SR_STATUS_OK);
    fx_row(f, "force/north/district-3", NAN, SR_STATUS_NONE);
    fx_row_series(f, 0, 12, 1, 1);
    fx_row_series(f, 1, 12, 12, -1);
}

Test(widgets_b, table_header_and_columns)
{
    fixture f;
    table_fixture(&f);
    WINDOW *w = newwin(5, 60, 0, 0);
    draw(&sr_widget_table, w, &f.v);

    cr_assert_eq(col_of(w, 0, "NAME"), 0);
    int value_end = col_of(w, 0, "VALUE") + 5, status = col_of(w, 0, "STATUS");
    int trend = col_of(w, 0, "TREND");
    cr_assert(value_end > 5 && status > value_end && trend > status, "header: %d %d %d", value_end,
              status, trend);
    short p;
    char c[16];
    cell(w, 0, 0, c, &p);
    cr_assert_eq(p, pair_of(SR_ROLE_TITLE), "the header is in the title role");

    const char *names[] = {"district-1", "district-2", "district-3"};
    const char *values[] = {"13m20s", "7m05s", "-"};
    const char *words[] = {"CRIT", "OK", "-"};
    const char *syms[] = {sr_glyphs_get()->crit, sr_glyphs_get()->ok, sr_glyphs_get()->none};
    for (int i = 0; i < 3; i++) {
        int y = i + 1;
        cr_assert_eq(col_of(w, y, names[i]), 0);
        int len = (int)strlen(values[i]);
        char v[16];
        cell(w, y, value_end - len, v, NULL);
        cr_assert_eq(v[0], values[i][0], "value of row %d right-aligned under VALUE", i);
        cell(w, y, value_end - 1, v, NULL);
        cr_assert_eq(v[0], values[i][len - 1], "value of row %d right-aligned under VALUE", i);
        cell(w, y, value_end, v, NULL);
        cr_assert_str_eq(v, " ");
        cell(w, y, status, c, &p);
        cr_assert_str_eq(c, syms[i]);
        char word[16];
        cell(w, y, status + 2, word, NULL);
        cr_assert_eq(word[0], words[i][0], "status word of row %d", i);
        if (strlen(words[i]) > 1)
            cr_assert_eq(col_of(w, y, words[i]), status + 2, "status word of row %d", i);
    }
    cell(w, 1, status + 2, c, &p);
    cr_assert_eq(p, pair_of(SR_ROLE_CRIT));

    /* the trend: a sparkline where a row has a series, blank where it has none */
    int sparks = 0;
    for (int x = trend; x < 60; x++) {
        cell(w, 1, x, c, NULL);
        for (int k = 0; k < 8; k++)
            sparks += strcmp(c, sr_glyphs_get()->spark[k]) == 0;
    }
    cr_assert_geq(sparks, 12, "row series drawn under TREND (%d cells)", sparks);
    char text[512];
    line(w, 3, text, sizeof text, NULL);
    for (int k = 0; k < 8; k++)
        cr_assert_null(strstr(text, sr_glyphs_get()->spark[k]), "no series, no trend: %s", text);
    cr_assert(!line_has(w, 0, "CHANGE"), "the model has no change per row");
    delwin(w);
}

Test(widgets_b, table_drops_columns_on_narrow_widths)
{
    fixture f;
    table_fixture(&f);
    static const struct {
        int width;
        bool trend, status_word, header;
    } cases[] = {
        {40, true, true, true},  {26, true, true, true},   {24, false, true, true},
        {20, false, true, true}, {16, false, false, true}, {12, false, false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        WINDOW *w = newwin(4, cases[i].width, 0, 0);
        draw(&sr_widget_table, w, &f.v);
        cr_assert_eq(line_has(w, 0, "TREND"), cases[i].trend, "width %d: trend", cases[i].width);
        cr_assert_eq(line_has(w, 0, "STATUS"), cases[i].status_word, "width %d: status",
                     cases[i].width);
        cr_assert_eq(line_has(w, 0, "NAME"), cases[i].header, "width %d: header", cases[i].width);
        int y = cases[i].header ? 1 : 0;
        cr_assert_eq(line_has(w, y, "CRIT"), cases[i].status_word, "width %d: word",
                     cases[i].width);
        /* the status symbol survives every width */
        cr_assert(line_has(w, y, sr_glyphs_get()->crit), "width %d: symbol", cases[i].width);
        cr_assert(line_has(w, y, "13m20s"), "width %d: value", cases[i].width);
        if (!cases[i].status_word && cases[i].header)
            cr_assert(line_has(w, 0, "S"), "the symbol column keeps a header");
        delwin(w);
    }
}

/* ---- hostile and wide names ---- */

Test(widgets_b, escape_and_wide_names_keep_columns_aligned)
{
    fixture f;
    fx_init(&f, "s");
    fx_row(&f, "force/\x1b[2Jevil\x1b]0;title\x07", 900, SR_STATUS_CRIT);
    fx_row(&f, "force/東京都北区", 600, SR_STATUS_WARN);
    fx_row(&f, "force/plain", 300, SR_STATUS_OK);
    fx_row(&f, "force/\x1b[31m長い名前の分署とても長い名前です", 100, SR_STATUS_OK);

    WINDOW *w = headed(5, 50);
    draw(&sr_widget_bars, w, &f.v);
    assert_no_controls(w);
    cr_assert_eq(col_of(w, 0, "evil"), 0, "the escape sequences are dropped, the text kept");
    cr_assert_eq(col_of(w, 1, "東京都北区"), 0);
    int bar_x = -1;
    for (int y = 0; y < 4; y++) {
        char c[16];
        cell(w, y, 49, c, NULL);
        cr_assert_neq(strcmp(c, " "), 0, "line %d: the status symbol stays in the last column", y);
        /* every bar starts in the same column */
        int x = col_of(w, y, sr_glyphs_get()->block[8]);
        if (bar_x < 0)
            bar_x = x;
        cr_assert_eq(x, bar_x, "line %d: the bar starts at %d, not %d", y, x, bar_x);
    }
    cr_assert_eq(col_of(w, 0, "15m00s") + 6, 48);
    cr_assert_eq(col_of(w, 1, "10m00s") + 6, 48);
    cr_assert_eq(col_of(w, 3, "1m40s") + 5, 48);
    delwin(w);

    w = newwin(5, 50, 0, 0);
    draw(&sr_widget_table, w, &f.v);
    assert_no_controls(w);
    int value_end = col_of(w, 0, "VALUE") + 5, status = col_of(w, 0, "STATUS");
    cr_assert_eq(col_of(w, 1, "15m00s") + 6, value_end);
    cr_assert_eq(col_of(w, 2, "10m00s") + 6, value_end);
    cr_assert_eq(col_of(w, 3, "5m00s") + 5, value_end);
    cr_assert_eq(col_of(w, 4, "1m40s") + 5, value_end);
    cr_assert_eq(col_of(w, 2, "WARN"), status + 2);
    cr_assert_eq(col_of(w, 4, "OK"), status + 2, "a cut wide name keeps the columns");
    delwin(w);
}

/* ---- chart ---- */

/* Monday 2024-02-12 09:00 UTC */
#define T0 ((sr_ms)1707728400000LL)

static void chart_fixture(fixture *f, size_t n)
{
    fx_init(f, "s");
    f->m.from_ms = T0;
    f->m.to_ms = T0 + 8 * SR_MS_HOUR;
    f->m.n_series = n;
    for (size_t i = 0; i < n; i++)
        f->m.series[i] = 60 + 10 * (double)i;
}

/* The top and bottom rows holding plot cells (not the axis) in column x. */
static bool plot_rows(WINDOW *w, int x, int rows, int *top, int *bottom)
{
    *top = -1;
    *bottom = -1;
    for (int y = 0; y < rows; y++) {
        char c[16];
        cell(w, y, x, c, NULL);
        if (strcmp(c, " ") != 0 && strcmp(c, sr_glyphs_get()->hline) != 0) {
            if (*top < 0)
                *top = y;
            *bottom = y;
        }
    }
    return *top >= 0;
}

static bool is_braille(const char *c)
{
    wchar_t wc;
    mbstate_t st = {0};
    return mbrtowc(&wc, c, strlen(c), &st) > 0 && wc >= 0x2800 && wc <= 0x28ff;
}

Test(widgets_b, chart_axis_labels_and_rising_line)
{
    fixture f;
    chart_fixture(&f, 60); /* 1m00s .. 10m50s */
    WINDOW *w = headed(10, 40);
    draw(&sr_widget_chart, w, &f.v);

    /* 60 .. 650 s: round steps of 5m from 0s to 15m00s, a label on every step */
    int lw = (int)strlen("15m00s");
    cr_assert_eq(col_of(w, 0, "15m00s"), 0, "the top of the range at the top left");
    cr_assert_eq(col_of(w, 3, "10m00s"), 0, "a step");
    cr_assert_eq(col_of(w, 5, "5m00s"), lw - 5, "a step, right-aligned");
    cr_assert_eq(col_of(w, 8, "0s"), lw - 2, "the bottom of the range, right-aligned");
    cr_assert_eq(col_of(w, 9, "09:00"), lw + 1, "the start time under the plot's start");
    cr_assert_eq(col_of(w, 9, "17:00"), 35, "the end time at the right edge");
    char c[16];
    cell(w, 3, lw, c, NULL);
    cr_assert_str_eq(c, sr_glyphs_get()->vline, "the axis");

    int braille = 0, other = 0;
    for (int y = 0; y < 9; y++) {
        for (int x = lw + 1; x < 40; x++) {
            cell(w, y, x, c, NULL);
            if (is_braille(c))
                braille++;
            else if (strcmp(c, " ") != 0)
                other++;
        }
    }
    cr_assert_gt(braille, 30, "braille dots: %d", braille);
    cr_assert_eq(other, 0, "nothing but braille in the plot");

    int top_l, bottom_l, top_r, bottom_r;
    cr_assert(plot_rows(w, lw + 1, 9, &top_l, &bottom_l), "data at the left edge");
    cr_assert(plot_rows(w, 39, 9, &top_r, &bottom_r), "data at the right edge");
    cr_assert_eq(bottom_l, 8, "the first value at the bottom");
    cr_assert_eq(top_r, 2, "the last value (650 of 900) near the top: line %d", top_r);
    for (int x = lw + 2; x < 40; x++) {
        int t, b, tp, bp;
        cr_assert(plot_rows(w, x, 9, &t, &b), "a continuous line: column %d", x);
        plot_rows(w, x - 1, 9, &tp, &bp);
        cr_assert_leq(t, tp, "rising: column %d is not below column %d", x, x - 1);
    }
    delwin(w);
}

Test(widgets_b, chart_day_labels_for_long_windows)
{
    fixture f;
    chart_fixture(&f, 30);
    f.m.to_ms = T0 + 7 * SR_MS_DAY;
    WINDOW *w = headed(6, 40);
    draw(&sr_widget_chart, w, &f.v);
    cr_assert(line_has(w, 5, "Mon 12"));
    cr_assert(line_has(w, 5, "Mon 19"));
    delwin(w);
}

Test(widgets_b, chart_ascii_and_half_blocks)
{
    fixture f;
    chart_fixture(&f, 40);
    WINDOW *w = headed(8, 30);
    sr_glyphs_select(false);
    draw(&sr_widget_chart, w, &f.v);
    int stars = 0;
    for (int y = 0; y < 8; y++) {
        for (int x = 0; x < 30; x++) {
            char c[16];
            cell(w, y, x, c, NULL);
            cr_assert_eq(strlen(c), 1, "ASCII only: '%s' at %d,%d", c, y, x);
            stars += strcmp(c, "*") == 0;
        }
    }
    cr_assert_gt(stars, 20, "'*' points: %d", stars);
    cr_assert(line_has(w, 3, "|"), "an ASCII axis");
    delwin(w);
}

Test(widgets_b, chart_nan_gaps_are_not_joined)
{
    fixture f;
    chart_fixture(&f, 60);
    for (size_t i = 20; i < 40; i++)
        f.m.series[i] = NAN;
    WINDOW *w = headed(10, 40);
    draw(&sr_widget_chart, w, &f.v);
    int lw = 6, cols = 40 - lw - 1;
    int t, b;
    /* samples 20..39 stand at pixel columns 22.7..45.3 of 68: cells 12..21 hold nothing */
    for (int cx = 12; cx <= 21; cx++)
        cr_assert(!plot_rows(w, lw + 1 + cx, 9, &t, &b), "cell %d of %d is in the gap", cx, cols);
    cr_assert(plot_rows(w, lw + 1 + 10, 9, &t, &b), "data before the gap");
    cr_assert(plot_rows(w, lw + 1 + 23, 9, &t, &b), "data after the gap");

    /* a lone sample between gaps is still a dot */
    for (size_t i = 0; i < 60; i++)
        f.m.series[i] = i == 30 ? 100 : NAN;
    draw(&sr_widget_chart, w, &f.v);
    int cells = 0;
    for (int x = lw + 1; x < 40; x++)
        cells += plot_rows(w, x, 9, &t, &b);
    cr_assert_eq(cells, 1, "one sample, one cell: %d", cells);
    delwin(w);
}

Test(widgets_b, chart_target_line)
{
    fixture f;
    chart_fixture(&f, 60); /* 60 .. 650: the range 0 .. 900 */
    f.def.target = 450;    /* the middle */
    WINDOW *w = headed(10, 40);
    draw(&sr_widget_chart, w, &f.v);
    int target_line = -1, dashes = 0;
    for (int y = 0; y < 9; y++) {
        for (int x = 7; x < 40; x++) {
            char c[16];
            short p;
            cell(w, y, x, c, &p);
            if (strcmp(c, sr_glyphs_get()->hline) == 0) {
                cr_assert(target_line < 0 || target_line == y, "one target line");
                target_line = y;
                cr_assert_eq(p, pair_of(SR_ROLE_DIM));
                dashes++;
            }
        }
    }
    cr_assert(target_line == 4, "the target halfway up: line %d", target_line);
    cr_assert_gt(dashes, 25);
    cr_assert(line_has(w, target_line, "7m30s"), "the target on the axis");

    f.def.target = 1000; /* above the range */
    draw(&sr_widget_chart, w, &f.v);
    for (int y = 0; y < 9; y++)
        cr_assert(!line_has(w, y, sr_glyphs_get()->hline), "no target line outside the range");
    f.def.target = 450;
    f.m.agg = (sr_agg){.kind = SR_AGG_COUNT};
    draw(&sr_widget_chart, w, &f.v);
    for (int y = 0; y < 9; y++)
        cr_assert(!line_has(w, y, sr_glyphs_get()->hline), "a count is not in seconds");
    delwin(w);
}

Test(widgets_b, chart_flat_and_empty_series)
{
    fixture f;
    chart_fixture(&f, 20);
    for (size_t i = 0; i < 20; i++)
        f.m.series[i] = 42;
    WINDOW *w = headed(6, 30);
    draw(&sr_widget_chart, w, &f.v);
    int t, b;
    cr_assert(plot_rows(w, 29, 5, &t, &b), "a flat series is drawn");
    cr_assert_eq(t, b);
    f.m.n_series = 0;
    draw(&sr_widget_chart, w, &f.v);
    cr_assert(line_has(w, 3, "no data"));
    delwin(w);
}

/* Suppressed is not "no data": the chart and the table's trend say which. */
Test(widgets_b, chart_and_trend_say_when_percentiles_are_hidden)
{
    fixture f;
    chart_fixture(&f, 20);
    f.m.agg = (sr_agg){SR_AGG_PCT, 90};
    for (size_t i = 0; i < 20; i++)
        f.m.series[i] = NAN;
    f.m.series_hidden = 20;
    WINDOW *w = headed(6, 60);
    draw(&sr_widget_chart, w, &f.v);
    cr_assert(line_has(w, 3, "percentiles hidden: <10 per point; zoom out (-)"));
    cr_assert(!line_has(w, 3, "no data"));
    f.m.series_hidden = 0;
    draw(&sr_widget_chart, w, &f.v);
    cr_assert(line_has(w, 3, "no data"), "nothing hidden: really no data");
    /* pooled: the time line says how much a point covers */
    for (size_t i = 0; i < 20; i++)
        f.m.series[i] = (double)(i / 4);
    f.m.series_slice_ms = 24 * SR_MS_MIN;
    f.m.series_pool = 4;
    draw(&sr_widget_chart, w, &f.v);
    cr_assert(line_has(w, 5, "each point pools 1h36m"));
    f.m.series_pool = 1;
    draw(&sr_widget_chart, w, &f.v);
    cr_assert(!line_has(w, 5, "pools"));
    delwin(w);

    fixture t;
    fx_init(&t, "s");
    t.m.agg = (sr_agg){SR_AGG_PCT, 90};
    fx_row(&t, "force/north", 700, SR_STATUS_OK);
    fx_row(&t, "force/south", 800, SR_STATUS_OK);
    fx_row_series(&t, 0, SR_ROW_SERIES, 1, 1);
    t.rows[1].n_series = SR_ROW_SERIES; /* all NAN */
    t.rows[1].series_hidden = 4;
    WINDOW *tw = newwin(4, 70, 0, 0);
    draw(&sr_widget_table, tw, &t.v);
    int trend = col_of(tw, 0, "TREND");
    cr_assert_geq(trend, 0);
    cr_assert_eq(col_of(tw, 2, "n<10"), trend, "the hidden trend says why");
    cr_assert(!line_has(tw, 1, "n<10"));
    delwin(tw);
}

/* ---- histogram ---- */

static void hist_fixture(fixture *f)
{
    static const uint64_t counts[] = {1, 2, 4, 8, 16, 8, 4, 2, 1, 0};
    fx_init(f, "s");
    f->def.target = 900;
    f->m.n_hist = 10;
    f->m.hist_lo = 0;
    f->m.hist_hi = 1800;
    memcpy(f->m.hist, counts, sizeof counts);
}

Test(widgets_b, histogram_heights_and_target)
{
    fixture f;
    hist_fixture(&f);
    /* 10 lines: target label, 8 lines of bars (64 eighths for the largest bin), range labels */
    WINDOW *w = headed(10, 40);
    draw(&sr_widget_histogram, w, &f.v);
    for (int b = 0; b < 10; b++) {
        for (int dx = 0; dx < 3; dx++) {
            int e = column_eighths(w, b * 4 + dx, 1, 8);
            cr_assert_eq(e, (int)f.m.hist[b] * 4, "bin %d column %d: %d eighths", b, dx, e);
        }
    }
    char c[16];
    short p;
    cell(w, 8, 3, c, &p);
    cr_assert_str_eq(c, " ", "a blank column between bins");
    cell(w, 8, 4 * 2, c, &p);
    cr_assert_eq(p, pair_of(SR_ROLE_BAR), "bins below the target");
    cell(w, 8, 4 * 6, c, &p);
    cr_assert_eq(p, pair_of(SR_ROLE_WARN), "bins beyond the target");

    /* 900 of 0..1800 over 40 columns: column 20, above the bar of bin 5 (8 of 16: 4 lines) */
    cr_assert_eq(col_of(w, 0, "target 15m"), 20);
    for (int y = 1; y <= 4; y++) {
        cell(w, y, 20, c, &p);
        cr_assert_str_eq(c, sr_glyphs_get()->vline, "the marker at line %d", y);
    }
    cell(w, 5, 20, c, NULL);
    cr_assert_str_eq(c, sr_glyphs_get()->spark[7], "the bar hides the marker");
    cr_assert_eq(col_of(w, 9, "0s"), 0);
    cr_assert_eq(col_of(w, 9, "30m00s"), 34);
    delwin(w);
}

Test(widgets_b, histogram_target_label_and_merged_bins)
{
    fixture f;
    hist_fixture(&f);
    f.def.target = 1700; /* near the right edge: the label ends at the marker */
    f.def.better = SR_BETTER_HIGHER;
    WINDOW *w = headed(6, 40);
    draw(&sr_widget_histogram, w, &f.v);
    int tx = (int)(1700.0 / 1800 * 40);
    cr_assert_eq(col_of(w, 0, "target 28m20s") + 13, tx + 1);
    char c[16];
    short p;
    cell(w, 4, 4 * 2, c, &p);
    cr_assert_eq(p, pair_of(SR_ROLE_WARN), "higher is better: bins below are beyond");

    /* 25 columns for ten bins: two each, the last five empty, the range under the bins */
    delwin(w);
    w = headed(6, 25);
    draw(&sr_widget_histogram, w, &f.v);
    for (int b = 0; b < 10; b++) {
        int e0 = column_eighths(w, 2 * b, 1, 4), e1 = column_eighths(w, 2 * b + 1, 1, 4);
        cr_assert_eq(e0, e1, "bin %d: both columns alike", b);
        cr_assert_eq(e0, (int)f.m.hist[b] * 2, "bin %d: %d eighths", b, e0);
    }
    for (int x = 20; x < 25; x++)
        cr_assert_eq(column_eighths(w, x, 0, 4), 0);
    cr_assert_eq(col_of(w, 5, "30m00s"), 14, "the upper end under the last bin");

    /* five columns for ten bins: two bins a column */
    delwin(w);
    w = headed(5, 5);
    f.def.target = NAN;
    draw(&sr_widget_histogram, w, &f.v);
    int e[5];
    for (int x = 0; x < 5; x++)
        e[x] = column_eighths(w, x, 0, 3);
    cr_assert_eq(e[2], 32, "bins 4 and 5 (24, the largest): %d", e[2]);
    cr_assert_eq(e[1], 16, "bins 2 and 3 (12): %d", e[1]);
    cr_assert_eq(e[4], 1, "bins 8 and 9 (1): %d", e[4]);

    sr_glyphs_select(false);
    draw(&sr_widget_histogram, w, &f.v);
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 5; x++) {
            cell(w, y, x, c, NULL);
            cr_assert_eq(strlen(c), 1, "ASCII only");
        }
    delwin(w);
}

/* ---- any size ---- */

static const int tiny_sizes[][2] = {{1, 1}, {1, 2}, {2, 5}, {3, 10}, {1, 40}, {12, 1}, {4, 16}};

/* Draws v with cls into an h x wd window inside a frame of '.' that must
 * stay untouched, and checks that no control character was written. */
static void draw_framed(const sr_widget_class *cls, const sr_view *v, int h, int wd)
{
    WINDOW *outer = newwin(h + 2, wd + 2, 0, 0);
    for (int y = 0; y < h + 2; y++)
        mvwhline(outer, y, 0, '.', wd + 2);
    WINDOW *inner = derwin(outer, h, wd, 1, 1);
    cr_assert_not_null(inner);
    draw(cls, inner, v);
    for (int y = 0; y < h + 2; y++) {
        for (int x = 0; x < wd + 2; x++) {
            if (y >= 1 && y <= h && x >= 1 && x <= wd)
                continue;
            char c[16];
            cell(outer, y, x, c, NULL);
            cr_assert_str_eq(c, ".", "%s at %dx%d wrote %d,%d", cls->name, h, wd, y, x);
        }
    }
    assert_no_controls(inner);
    delwin(inner);
    delwin(outer);
}

/* ---- spread ---- */

/* Districts with calls over officers on duty: loads 2, 4, 4, 6 and 12
 * (median 4), d6 with no officer on duty, d7 masked by the privacy rule. */
static void spread_fixture(fixture *f)
{
    fx_init(f, "calls");
    static sr_metric_def per;
    sr_metric_def_init(&per, "officers_on_duty");
    snprintf(per.unit, sizeof per.unit, "officers");
    f->m.per_def = &per;
    static const double calls[] = {20, 40, 12, 60, 120, 30, NAN},
                        duty[] = {10, 10, 3, 10, 10, 0, 10};
    for (int i = 0; i < 7; i++) {
        char e[32];
        snprintf(e, sizeof e, "force/north/d%d", i + 1);
        fx_row(f, e, calls[i], SR_STATUS_NONE);
        f->rows[i].denom = (sr_result){.value = duty[i], .n = 1, .exact = true};
    }
    snprintf(f->rows[6].mask, sizeof f->rows[6].mask, "<5");
}

Test(widgets_b, spread_header_order_median_and_outlier)
{
    fixture f;
    spread_fixture(&f);
    WINDOW *w = newwin(9, 60, 0, 0);
    draw(&sr_widget_spread, w, &f.v);
    const sr_glyphs *g = sr_glyphs_get();
    char head[256];
    line(w, 0, head, sizeof head, NULL);
    cr_assert(strstr(head, "max/median 3.0× · busiest quarter 64 % · outliers: d5"), "%s", head);
    /* highest load first, the rows without a load last, in the model's order */
    const char *order[] = {"d5", "d4", "d2", "d3", "d1", "d6", "d7"};
    for (int y = 1; y <= 7; y++)
        cr_assert_eq(col_of(w, y, order[y - 1]), 0, "line %d is %s", y, order[y - 1]);
    /* the outlier: its marker in the warn role, never colour alone */
    char c[16];
    short p;
    cell(w, 1, 59, c, &p);
    cr_assert_str_eq(c, g->up);
    cr_assert_eq(p, pair_of(SR_ROLE_WARN));
    for (int y = 2; y <= 7; y++) {
        cell(w, y, 59, c, NULL);
        cr_assert_str_neq(c, g->up, "line %d is no outlier", y);
    }
    /* bars to scale: 6 is half of 12 */
    cr_assert_eq(bar_eighths(w, 2) * 2, bar_eighths(w, 1), "%d of %d", bar_eighths(w, 2),
                 bar_eighths(w, 1));
    cr_assert_eq(bar_eighths(w, 6), 0, "no load, no bar");
    /* the median marked on the track of the shorter bars and the empty ones */
    int med = col_of(w, 5, g->vline);
    cr_assert_gt(med, 0, "the median is marked on d1's line");
    cr_assert_eq(col_of(w, 6, g->vline), med, "at the same column on every line");
    /* no load: '-', a masked row its mask */
    cr_assert(line_has(w, 6, " -"));
    cr_assert(line_has(w, 7, "<5"));
    delwin(w);
}

Test(widgets_b, spread_too_few_and_small_sizes)
{
    fixture f;
    spread_fixture(&f);
    f.m.n_rows = 3; /* loads 2, 4, 4 */
    WINDOW *w = newwin(5, 60, 0, 0);
    draw(&sr_widget_spread, w, &f.v);
    cr_assert(line_has(w, 0, "no spread: fewer than 4 children have a load"));
    delwin(w);
    /* narrowing: the unit words go first, then the bar; the name and the
     * load stay; any size stays inside */
    spread_fixture(&f);
    w = newwin(9, 40, 0, 0);
    draw(&sr_widget_spread, w, &f.v);
    cr_assert(line_has(w, 1, "12 calls/officers"), "a load's unit is per the denominator's");
    cr_assert_gt(bar_eighths(w, 1), 0);
    delwin(w);
    w = newwin(9, 16, 0, 0);
    draw(&sr_widget_spread, w, &f.v);
    cr_assert(line_has(w, 1, "12") && !line_has(w, 1, "calls"));
    cr_assert_gt(bar_eighths(w, 1), 0);
    delwin(w);
    w = newwin(9, 10, 0, 0);
    draw(&sr_widget_spread, w, &f.v);
    cr_assert_eq(col_of(w, 1, "d5"), 0);
    cr_assert(line_has(w, 1, "12"));
    cr_assert_eq(bar_eighths(w, 1), 0);
    delwin(w);
    for (size_t s = 0; s < sizeof tiny_sizes / sizeof tiny_sizes[0]; s++)
        draw_framed(&sr_widget_spread, &f.v, tiny_sizes[s][0], tiny_sizes[s][1]);
    cr_assert_eq(sr_widget_find("spread"), &sr_widget_spread);
    cr_assert_eq(sr_widget_spread.wants, (unsigned)SR_PANEL_ROWS);
}

/* ---- every widget, any size ---- */

static const sr_widget_class *const all[] = {&sr_widget_bars, &sr_widget_table, &sr_widget_chart,
                                             &sr_widget_histogram};

static void full_fixture(fixture *f)
{
    fx_init(f, "s");
    f->def.target = 900;
    fx_row(f, "force/\x1b[2J東京都北区", 1200, SR_STATUS_CRIT);
    fx_row(f, "force/north", 700, SR_STATUS_OK);
    fx_row(f, "force/south", NAN, SR_STATUS_NONE);
    fx_row_series(f, 0, SR_ROW_SERIES, 1, 2);
    f->m.from_ms = T0;
    f->m.to_ms = T0 + SR_MS_HOUR;
    f->m.n_series = 50;
    for (size_t i = 0; i < 50; i++)
        f->m.series[i] = i % 7 == 3 ? NAN : 600 + 300 * sin((double)i / 5);
    uint64_t counts[] = {3, 9, 20, 7, 1, 0, 2};
    memcpy(f->m.hist, counts, sizeof counts);
    f->m.n_hist = 7;
    f->m.hist_lo = 0;
    f->m.hist_hi = 1400;
    f->v.selected = 1;
}

Test(widgets_b, tiny_windows_never_write_outside)
{
    fixture f;
    full_fixture(&f);
    for (int utf8 = 1; utf8 >= 0; utf8--) {
        sr_glyphs_select(utf8);
        for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
            for (size_t s = 0; s < sizeof tiny_sizes / sizeof tiny_sizes[0]; s++)
                draw_framed(all[k], &f.v, tiny_sizes[s][0], tiny_sizes[s][1]);
        }
    }
}

Test(widgets_b, empty_model_and_class_tables)
{
    fixture f;
    fx_init(&f, "s");
    WINDOW *w = newwin(6, 30, 0, 0);
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        cr_assert_not_null(all[k]->draw);
        cr_assert_not_null(all[k]->key);
        cr_assert_gt(all[k]->min_w, 0);
        cr_assert_gt(all[k]->min_h, 0);
        draw(all[k], w, &f.v);
        bool any = false;
        for (int y = 0; y < 6; y++)
            any |= line_has(w, y, "no data");
        cr_assert(any, "%s says there is no data", all[k]->name);
        /* while a backfill runs, the screen's text instead */
        f.v.empty = "loading history 40 %";
        werase(w);
        draw(all[k], w, &f.v);
        any = false;
        for (int y = 0; y < 6; y++) {
            any |= line_has(w, y, "loading history 40 %");
            cr_assert(!line_has(w, y, "no data"), "%s: no data while loading", all[k]->name);
        }
        cr_assert(any, "%s says the history is loading", all[k]->name);
        f.v.empty = NULL;
        cr_assert(!all[k]->key(&f.v, KEY_DOWN));
        sr_view none = {.m = NULL, .selected = -1};
        draw(all[k], w, &none);
        cr_assert(!all[k]->key(&none, KEY_DOWN));
    }
    cr_assert_eq(sr_widget_bars.wants, (unsigned)SR_PANEL_ROWS);
    cr_assert_eq(sr_widget_table.wants, (unsigned)(SR_PANEL_ROWS | SR_PANEL_ROW_SERIES));
    cr_assert_eq(sr_widget_chart.wants, (unsigned)SR_PANEL_SERIES);
    cr_assert_eq(sr_widget_histogram.wants, (unsigned)SR_PANEL_HIST);
    delwin(w);
}

Test(widgets_b, stale_view_is_greyed_but_keeps_symbols)
{
    fixture f;
    fx_init(&f, "s");
    fx_row(&f, "force/a", 100, SR_STATUS_CRIT);
    f.v.stale = true;
    WINDOW *w = headed(2, 30);
    draw(&sr_widget_bars, w, &f.v);
    char c[16];
    short p;
    cell(w, 0, 29, c, &p);
    cr_assert_str_eq(c, sr_glyphs_get()->crit);
    cr_assert_eq(p, pair_of(SR_ROLE_STALE));
    delwin(w);
}

/* With the visible height known, paging moves a page and Down keeps the
 * selection on screen. */
Test(widgets_b, list_keys_page_by_the_visible_rows)
{
    sr_panel_model m;
    memset(&m, 0, sizeof m);
    m.n_rows = 20;
    sr_view v = {.m = &m, .focused = true, .selected = 0, .scroll = 0, .rows = 5};
    cr_assert(sr_widget_bars.key(&v, KEY_NPAGE));
    cr_assert_eq(v.selected, 4);
    cr_assert_eq(v.scroll, 4);
    cr_assert(sr_widget_bars.key(&v, KEY_PPAGE));
    cr_assert_eq(v.selected, 0);
    cr_assert_eq(v.scroll, 0);
    for (int i = 0; i < 5; i++)
        cr_assert(sr_widget_table.key(&v, KEY_DOWN));
    cr_assert_eq(v.selected, 5);
    cr_assert_eq(v.scroll, 1, "the selected row scrolled into view");
    cr_assert(sr_widget_table.key(&v, KEY_END));
    cr_assert_eq(v.selected, 19);
    cr_assert_not(sr_widget_table.key(&v, 'x'));
}

/* ---- the headline of chart, bars and histogram ---- */

static const sr_widget_class *const headed_widgets[] = {&sr_widget_chart, &sr_widget_bars,
                                                        &sr_widget_histogram};

Test(widgets_b, chart_bars_and_histogram_head_with_the_panels_value_unit_and_status)
{
    fixture f;
    full_fixture(&f);
    snprintf(f.def.unit, sizeof f.def.unit, "calls");
    f.def.target = NAN;
    f.m.agg = (sr_agg){.kind = SR_AGG_SUM};
    f.m.c.now.value = 3788;
    f.m.status = SR_STATUS_OK;
    for (size_t k = 0; k < 3; k++) {
        const sr_widget_class *cls = headed_widgets[k];
        WINDOW *w = newwin(8, 50, 0, 0);
        draw(cls, w, &f.v);
        cr_assert_eq(col_of(w, 0, "3 788 calls"), 0, "%s: the value and its unit first", cls->name);
        cr_assert_eq(col_of(w, 0, "OK") + 2, 50, "%s: the status at the right", cls->name);
        short p;
        char c[16];
        cell(w, 0, 0, c, &p);
        cr_assert_eq(p, pair_of(SR_ROLE_VALUE), "%s: an OK value in the value's colour", cls->name);
        /* a panel held for its status shows it in the status's colour */
        f.m.status = SR_STATUS_CRIT;
        draw(cls, w, &f.v);
        cr_assert(line_has(w, 0, "3 788 calls"));
        cr_assert(line_has(w, 0, "CRIT"));
        for (int x = 0; x < 11; x++) {
            cell(w, 0, x, c, &p);
            cr_assert_eq(p, pair_of(SR_ROLE_CRIT), "%s: column %d of the value not red", cls->name,
                         x);
        }
        cell(w, 0, 49, c, &p);
        cr_assert_eq(p, pair_of(SR_ROLE_CRIT));
        /* the body below still draws */
        bool body = false;
        for (int y = 1; y < 8; y++)
            body |= !line_has(w, y, "3 788") &&
                    (line_has(w, y, sr_glyphs_get()->block[8]) ||
                     line_has(w, y, sr_glyphs_get()->spark[7]) || line_has(w, y, "09:00"));
        cr_assert(body, "%s: the body under the headline", cls->name);
        /* one row: the figure before its detail */
        WINDOW *one = newwin(1, 50, 0, 0);
        draw(cls, one, &f.v);
        cr_assert_eq(col_of(one, 0, "3 788 calls"), 0, "%s at height 1", cls->name);
        /* stale: greyed, the status keeps its colour */
        f.v.stale = true;
        draw(cls, w, &f.v);
        cell(w, 0, 0, c, &p);
        cr_assert_eq(p, pair_of(SR_ROLE_STALE), "%s: a stale value is greyed", cls->name);
        f.v.stale = false;
        f.m.status = SR_STATUS_OK;
        delwin(one);
        delwin(w);
    }
}

/* ---- the chart's axes ---- */

/* The labels of the value axis: the text left of the axis line on each line. */
static void axis_labels(WINDOW *w, int rows, char *out, size_t len)
{
    size_t o = 0;
    out[0] = 0;
    for (int y = 0; y < rows; y++) {
        char text[2048];
        line(w, y, text, sizeof text, NULL);
        char *bar = strstr(text, sr_glyphs_get()->vline);
        if (!bar)
            continue;
        *bar = 0;
        char *p = text;
        while (*p == ' ')
            p++;
        if (*p)
            o += (size_t)snprintf(out + o, len - o, "%d:%s|", y, p);
    }
}

Test(widgets_b, chart_axis_has_units_and_round_steps_whatever_the_slices)
{
    fixture f;
    fx_init(&f, "calls");
    f.m.agg = (sr_agg){.kind = SR_AGG_SUM};
    f.m.from_ms = T0;
    f.m.to_ms = T0 + SR_MS_DAY;
    /* calls per half-hour slice from 14 to 122 (28 to 244 an hour) */
    f.m.n_series = 48;
    f.m.series_slice_ms = 30 * SR_MS_MIN;
    for (size_t i = 0; i < 48; i++)
        f.m.series[i] = 14 + 108 * (double)i / 47;
    WINDOW *w = headed(10, 60);
    draw(&sr_widget_chart, w, &f.v);
    char a[512], b[512];
    axis_labels(w, 9, a, sizeof a);
    cr_assert(strstr(a, "0:300 calls/h|"), "the top label carries the unit: %s", a);
    cr_assert(strstr(a, "|8:0|"), "round steps down to 0: %s", a);
    cr_assert(strstr(a, ":200|") && strstr(a, ":100|"), "every step of 100: %s", a);

    /* a wider terminal: twice the slices, half the calls in each, the same axis */
    f.m.n_series = 96;
    f.m.series_slice_ms = 15 * SR_MS_MIN;
    for (size_t i = 0; i < 96; i++)
        f.m.series[i] = (14 + 108 * (double)i / 95) / 2;
    WINDOW *wide = headed(10, 100);
    draw(&sr_widget_chart, wide, &f.v);
    axis_labels(wide, 9, b, sizeof b);
    cr_assert_str_eq(a, b, "the axis changed with the slices: %s, then %s", a, b);

    /* durations step by whole minutes and hours */
    fx_init(&f, "s");
    f.m.from_ms = T0;
    f.m.to_ms = T0 + 8 * SR_MS_HOUR;
    f.m.n_series = 30;
    for (size_t i = 0; i < 30; i++)
        f.m.series[i] = 700 + 40 * (double)i; /* 11m40s .. 31m00s */
    draw(&sr_widget_chart, w, &f.v);
    axis_labels(w, 9, a, sizeof a);
    cr_assert(strstr(a, "0:40m00s|"), "%s", a);
    cr_assert(strstr(a, ":20m00s|") && strstr(a, "|8:10m00s|"), "steps of 10m: %s", a);
}

Test(widgets_b, chart_of_a_year_names_months_and_joins_monthly_figures)
{
    fixture f;
    fx_init(&f, "USD");
    f.m.agg = (sr_agg){.kind = SR_AGG_SUM};
    /* 2018-01-01 .. 2019-01-01 UTC in 146 slices of 2.5 days; a figure at each month's start */
    sr_ms from = 1514764800000, span = 365 * SR_MS_DAY;
    f.m.from_ms = from;
    f.m.to_ms = from + span;
    f.m.n_series = 146;
    f.m.series_slice_ms = span / 146;
    for (int k = 0; k < 12; k++) {
        sr_ms t;
        cr_assert_eq(sr_local_to_utc(NULL, 2018, 1 + k, 1, 0, 0, 0, &t), 0);
        size_t i = (size_t)((t - from) / (span / 146));
        f.m.series[i] = 1e6 + 1e5 * (k % 3);
    }
    WINDOW *w = headed(8, 80);
    draw(&sr_widget_chart, w, &f.v);
    char text[2048];
    line(w, 7, text, sizeof text, NULL);
    cr_assert(strstr(text, "Feb 2018"), "the first month with its year: '%s'", text);
    cr_assert(strstr(text, "Jun") && strstr(text, "Dec"), "months by name: '%s'", text);
    char a[512];
    axis_labels(w, 7, a, sizeof a);
    cr_assert(strstr(a, "USD"), "the unit on the axis: %s", a);

    /* a connected line from the first figure to the last, not twelve dots */
    int x0 = col_of(w, 0, sr_glyphs_get()->vline) + 1;
    int first = -1, last = -1;
    for (int x = x0; x < 80; x++) {
        int t, b;
        if (plot_rows(w, x, 7, &t, &b)) {
            if (first < 0)
                first = x;
            last = x;
        }
    }
    cr_assert_gt(last - first, 50, "the line spans the year: %d .. %d", first, last);
    for (int x = first; x <= last; x++) {
        int t, b;
        cr_assert(plot_rows(w, x, 7, &t, &b), "a gap in the line at column %d", x);
    }

    /* a long silence (four months without a figure) stays a gap */
    for (size_t i = 40; i < 90; i++)
        f.m.series[i] = NAN;
    draw(&sr_widget_chart, w, &f.v);
    int empty = 0;
    for (int x = first; x <= last; x++) {
        int t, b;
        empty += !plot_rows(w, x, 7, &t, &b);
    }
    cr_assert_gt(empty, 10, "the silent months are not bridged: %d empty columns", empty);
}

/* ---- the table's change column ---- */

Test(widgets_b, table_change_column_says_where_it_grows)
{
    fixture f;
    table_fixture(&f);
    f.rows[0].change_pct = 12;   /* response times up: worse */
    f.rows[1].change_pct = -3.1; /* down: better */
    WINDOW *w = newwin(5, 70, 0, 0);
    draw(&sr_widget_table, w, &f.v);
    int value_end = col_of(w, 0, "VALUE") + 5, change = col_of(w, 0, "CHANGE") + 6;
    int status = col_of(w, 0, "STATUS");
    cr_assert(value_end > 0 && change > value_end && status > change, "header: %d %d %d", value_end,
              change, status);
    const sr_glyphs *g = sr_glyphs_get();
    char up[32], down[32];
    snprintf(up, sizeof up, "%s12%%", g->up);
    snprintf(down, sizeof down, "%s3.1%%", g->down);
    cr_assert_eq(col_of(w, 1, up) + sr_tui_width(up), change, "right-aligned under CHANGE");
    cr_assert_eq(col_of(w, 2, down) + sr_tui_width(down), change);
    short p;
    char c[16];
    cell(w, 1, change - 1, c, &p);
    cr_assert_eq(p, pair_of(SR_ROLE_WARN), "lower is better: a rise is a warning");
    cell(w, 2, change - 1, c, &p);
    cr_assert_eq(p, pair_of(SR_ROLE_OK));
    char text[512];
    line(w, 3, text, sizeof text, NULL);
    cr_assert_null(strstr(text, "%"), "no previous figure, no change: %s", text);
    /* the trend fills the rest of the line */
    bool spark = false;
    cell(w, 1, 69, c, NULL);
    for (int k = 0; k < 8; k++)
        spark |= strcmp(c, g->spark[k]) == 0;
    cr_assert(spark, "the trend reaches the last column: '%s'", c);

    /* the share within target: higher is better, whatever the metric */
    f.m.agg = (sr_agg){SR_AGG_WITHIN, 0};
    draw(&sr_widget_table, w, &f.v);
    change = col_of(w, 0, "CHANGE") + 6;
    cell(w, 1, change - 1, c, &p);
    cr_assert_eq(p, pair_of(SR_ROLE_OK), "more within target is better");

    /* narrow: the change goes before the values lose their units */
    WINDOW *n = newwin(5, 20, 0, 0);
    draw(&sr_widget_table, n, &f.v);
    cr_assert(!line_has(n, 0, "CHANGE"));
    cr_assert(line_has(n, 0, "VALUE"));
    delwin(n);
    delwin(w);
}
