/*
 * test_text.c - tui/text.c: measuring text from sources, clipping it into a real curses window, and
 * formatting values.
 *
 * Widths come from wcwidth, so every test runs under C.UTF-8 with the UTF-8
 * glyphs. The clipping tests draw into a real ncurses screen (newterm on
 * /dev/null as xterm-256color, 80x24) over a row of '#' and read the cells
 * back, so "never writes past max_cols" is checked on the screen itself.
 */
#include <criterion/criterion.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "../../tui/tui.h"
#include "term.h"

static void utf8_locale(void)
{
    cr_assert_not_null(setlocale(LC_ALL, "C.UTF-8"), "the C.UTF-8 locale is needed");
    sr_glyphs_select(true);
}

TestSuite(text, .init = utf8_locale);

/* ---- measuring ---- */

Test(text, width_counts_columns)
{
    cr_assert_eq(sr_tui_width("abc"), 3);
    cr_assert_eq(sr_tui_width("\xe4\xb8\xad\xe6\x96\x87"), 4, "CJK is two columns each");
    cr_assert_eq(sr_tui_width("\xef\xbc\xa1"), 2, "fullwidth A");
    cr_assert_eq(sr_tui_width("e\xcc\x81tude"), 5, "a combining mark takes no column");
    cr_assert_eq(sr_tui_width("\x1b[31mred\x1b[0m"), 3);
    cr_assert_eq(sr_tui_width("a\xff"
                              "b"),
                 3, "'?' for the bad byte");
    cr_assert_eq(sr_tui_width(""), 0);
    cr_assert_eq(sr_tui_width(NULL), 0);
}

/* ---- clipping into a window ---- */

struct term {
    th_term term;
    WINDOW *w;
};

/* A real screen (term.h), and a 3x20 window at the top left whose rows are
 * filled with '#'. */
static void term_open(struct term *t)
{
    th_term_open(&t->term);
    t->w = newwin(3, 20, 0, 0);
    cr_assert_not_null(t->w);
    for (int y = 0; y < 3; y++)
        mvwhline(t->w, y, 0, '#', 20);
}

static void term_close(struct term *t)
{
    delwin(t->w);
    th_term_close(&t->term);
}

/* Row y of the window as UTF-8 (wide characters once, combining marks
 * after their base). */
static void row_text(WINDOW *w, int y, char *out, size_t len)
{
    wchar_t wbuf[64];
    int n = mvwinnwstr(w, y, 0, wbuf, 63);
    cr_assert_neq(n, ERR);
    wbuf[n] = L'\0';
    size_t m = wcstombs(out, wbuf, len);
    cr_assert_neq(m, (size_t)-1);
}

/* The base character in cell (y, x). */
static wchar_t cell(WINDOW *w, int y, int x)
{
    cchar_t cc;
    cr_assert_neq(mvwin_wch(w, y, x, &cc), ERR);
    wchar_t wch[CCHARW_MAX + 1];
    attr_t a;
    short pair;
    getcchar(&cc, wch, &a, &pair, NULL);
    return wch[0];
}

/* Puts text at (0, 0) within max_cols and checks what the row shows and
 * the columns returned. */
static void expect_put(struct term *t, int max_cols, const char *text, const char *row, int cols)
{
    for (int y = 0; y < 3; y++)
        mvwhline(t->w, y, 0, '#', 20);
    int got = sr_tui_put(t->w, 0, 0, max_cols, A_NORMAL, text);
    char shown[256];
    row_text(t->w, 0, shown, sizeof shown);
    cr_assert_str_eq(shown, row, "'%s' in %d columns shows '%s'", text, max_cols, shown);
    cr_assert_eq(got, cols, "'%s' in %d columns: %d columns returned, expected %d", text, max_cols,
                 got, cols);
}

Test(text, put_clips_with_the_ellipsis)
{
    struct term t;
    term_open(&t);
    expect_put(&t, 10, "hello", "hello###############", 5);
    expect_put(&t, 8, "hello world", "hello w\xe2\x80\xa6############", 8);
    expect_put(&t, 5, "hello", "hello###############", 5);
    expect_put(&t, 1, "hello", "\xe2\x80\xa6###################", 1);
    expect_put(&t, 0, "hello", "####################", 0);
    expect_put(&t, 6, "\x1b[2J\x1b]0;x\x07ok\x01!", "ok!#################", 3);
    sr_glyphs_select(false);
    expect_put(&t, 4, "hello", "hel~################", 4);
    term_close(&t);
}

Test(text, put_never_splits_a_wide_character_at_the_limit)
{
    struct term t;
    term_open(&t);
    /* 中 fits exactly */
    expect_put(&t, 4, "ab\xe4\xb8\xad", "ab\xe4\xb8\xad################", 4);
    /* 文 would straddle column 4: cut, and 中 gives way to the ellipsis */
    expect_put(&t, 4, "ab\xe4\xb8\xad\xe6\x96\x87", "ab\xe2\x80\xa6#################", 3);
    cr_assert_eq(cell(t.w, 0, 3), L'#', "column 3 is past what was written: untouched");
    expect_put(&t, 5, "\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97",
               "\xe4\xb8\xad\xe6\x96\x87\xe2\x80\xa6###############", 5);
    expect_put(&t, 1, "\xe4\xb8\xad", "\xe2\x80\xa6###################", 1);
    /* a combining mark stays with its base */
    expect_put(&t, 3,
               "e\xcc\x81"
               "ab",
               "e\xcc\x81"
               "ab#################",
               3);
    term_close(&t);
}

Test(text, put_stops_at_the_window_edge)
{
    struct term t;
    term_open(&t);
    int got = sr_tui_put(t.w, 0, 15, 10, A_NORMAL, "abcdefghij");
    cr_assert_eq(got, 5);
    char shown[256];
    row_text(t.w, 0, shown, sizeof shown);
    cr_assert_str_eq(shown, "###############abcd\xe2\x80\xa6");
    row_text(t.w, 1, shown, sizeof shown);
    cr_assert_str_eq(shown, "####################", "nothing wraps to the next row");
    /* a wide character does not fit in the last column */
    mvwhline(t.w, 0, 0, '#', 20);
    cr_assert_eq(sr_tui_put(t.w, 0, 19, 4, A_NORMAL, "\xe4\xb8\xad"), 1);
    row_text(t.w, 1, shown, sizeof shown);
    cr_assert_str_eq(shown, "####################");
    cr_assert_eq(sr_tui_put(t.w, 0, 20, 4, A_NORMAL, "x"), 0, "outside the window");
    cr_assert_eq(sr_tui_put(t.w, 3, 0, 4, A_NORMAL, "x"), 0, "below the window");
    term_close(&t);
}

Test(text, put_writes_long_text_whole)
{
    /* 60 cells of 21 bytes each: more than any fixed buffer of 1 KiB */
    char text[60 * 21 + 1] = "";
    for (int i = 0; i < 60; i++) {
        strcat(text, "e");
        for (int k = 0; k < 10; k++)
            strcat(text, "\xcc\x81");
    }
    struct term t;
    term_open(&t);
    WINDOW *wide = newwin(1, 80, 5, 0);
    mvwhline(wide, 0, 0, '#', 80);
    cr_assert_eq(sr_tui_put(wide, 0, 0, 70, A_NORMAL, text), 60);
    cr_assert_eq(cell(wide, 0, 59), L'e');
    cr_assert_eq(cell(wide, 0, 60), L'#');
    delwin(wide);
    term_close(&t);
}

Test(text, put_restores_the_window_attributes)
{
    struct term t;
    term_open(&t);
    wattr_set(t.w, A_BOLD | A_UNDERLINE, 0, NULL);
    sr_tui_put(t.w, 1, 0, 10, A_BOLD, "x");
    attr_t a;
    short pair;
    wattr_get(t.w, &a, &pair, NULL);
    cr_assert_eq(a & ~A_COLOR, A_BOLD | A_UNDERLINE,
                 "the caller's attributes are back, also those attr shares");
    cchar_t cc;
    mvwin_wch(t.w, 1, 0, &cc);
    wchar_t wch[CCHARW_MAX + 1];
    getcchar(&cc, wch, &a, &pair, NULL);
    cr_assert_eq(a & (A_BOLD | A_UNDERLINE), A_BOLD | A_UNDERLINE, "attr adds to the window's");
    term_close(&t);
}

/* ---- formatting values ---- */

static const char *fmt(double v, const char *unit, sr_agg_kind kind, bool compact)
{
    static char buf[64];
    sr_metric_def d;
    sr_metric_def_init(&d, "m");
    snprintf(d.unit, sizeof d.unit, "%s", unit);
    sr_agg agg = {kind, kind == SR_AGG_PCT ? 90 : 0};
    sr_format_value(v, &d, agg, compact, buf, sizeof buf);
    return buf;
}

/* ---- titles ---- */

static void expect_title(const char *title, const char *short_title, int cols, const char *want)
{
    char out[256];
    sr_tui_fit_title(title, short_title, cols, out, sizeof out);
    cr_assert_str_eq(out, want, "'%s' in %d columns gave '%s', expected '%s'", title, cols, out,
                     want);
    cr_assert_leq(sr_tui_width(out), cols, "'%s' is wider than %d", out, cols);
}

Test(text, title_cut_keeps_the_last_word)
{
    expect_title("Emergency response P1", NULL, 40, "Emergency response P1");
    expect_title("Emergency response P1", NULL, 12, "Emergency…P1");
    expect_title("Emergency response P1", NULL, 16, "Emergency res…P1");
    expect_title("Urgent response P2", NULL, 16, "Urgent respon…P2");
    /* a blank before the cut is dropped, not left before the ellipsis */
    expect_title("Emergency response P1", NULL, 13, "Emergency…P1");
    /* a last word wider than a third of the room: the end is cut */
    expect_title("Overtime hours, last 4 weeks", NULL, 12, "Overtime ho…");
    expect_title("Fleetutilization", NULL, 8, "Fleetut…");
    /* sanitised as everything that reaches the terminal */
    expect_title("Bad\x1b[2J response P3", NULL, 10, "Bad res…P3");
}

Test(text, title_takes_the_short_form_when_the_full_one_does_not_fit)
{
    expect_title("Emergency response P1", "P1 response", 30, "Emergency response P1");
    expect_title("Emergency response P1", "P1 response", 16, "P1 response");
    expect_title("Emergency response P1", "", 16, "Emergency res…P1");
    /* the short form cut in turn when it does not fit either */
    expect_title("Emergency response P1", "Emergency P1", 8, "Emerg…P1");
}

Test(text, format_durations)
{
    cr_assert_str_eq(fmt(42, "s", SR_AGG_PCT, false), "42s");
    cr_assert_str_eq(fmt(822, "s", SR_AGG_PCT, false), "13m42s");
    cr_assert_str_eq(fmt(7500, "s", SR_AGG_PCT, false), "2h05m");
    cr_assert_str_eq(fmt(7559, "s", SR_AGG_PCT, false), "2h05m", "the smaller unit is cut");
    cr_assert_str_eq(fmt(3 * 86400 + 4 * 3600, "s", SR_AGG_AVG, false), "3d04h");
    cr_assert_str_eq(fmt(0, "s", SR_AGG_PCT, false), "0s");
    cr_assert_str_eq(fmt(59.6, "s", SR_AGG_PCT, false), "1m00s", "rounded before the unit");
    cr_assert_str_eq(fmt(3599.6, "s", SR_AGG_PCT, false), "1h00m");
    cr_assert_str_eq(fmt(-90, "s", SR_AGG_MIN, false), "-1m30s");
    cr_assert_str_eq(fmt(-0.2, "s", SR_AGG_MIN, false), "0s", "no minus zero");
    cr_assert_str_eq(fmt(42, "s", SR_AGG_PCT, true), "42s", "compact keeps duration units");
}

Test(text, format_percentages)
{
    cr_assert_str_eq(fmt(91, "%", SR_AGG_LAST, false), "91%");
    cr_assert_str_eq(fmt(4.26, "%", SR_AGG_LAST, false), "4.3%");
    cr_assert_str_eq(fmt(91.4, "s", SR_AGG_WITHIN, false), "91%", "within is a share");
}

Test(text, format_numbers_and_counts)
{
    cr_assert_str_eq(fmt(4812, "cases", SR_AGG_LAST, false), "4 812 cases");
    cr_assert_str_eq(fmt(4812, "cases", SR_AGG_LAST, true), "4 812");
    cr_assert_str_eq(fmt(1204553, "EUR", SR_AGG_SUM, false), "1 204 553 EUR");
    cr_assert_str_eq(fmt(-4812, "h", SR_AGG_SUM, false), "-4 812 h");
    cr_assert_str_eq(fmt(999, "", SR_AGG_LAST, false), "999");
    cr_assert_str_eq(fmt(12345678, "EUR", SR_AGG_SUM, false), "12 345 678 EUR");
    cr_assert_str_eq(fmt(12345678, "EUR", SR_AGG_SUM, true), "12.3M");
    cr_assert_str_eq(fmt(3.14159, "h", SR_AGG_AVG, false), "3.14 h");
    cr_assert_str_eq(fmt(42.26, "h", SR_AGG_AVG, false), "42.3 h");
    /* a count has no unit, and a count of seconds is not a duration */
    cr_assert_str_eq(fmt(4812, "s", SR_AGG_COUNT, false), "4 812");
    cr_assert_str_eq(fmt(7, "cases", SR_AGG_COUNT, false), "7");
    char buf[16];
    sr_format_value(4812, NULL, (sr_agg){SR_AGG_LAST, 0}, false, buf, sizeof buf);
    cr_assert_str_eq(buf, "4 812");
}

Test(text, format_no_data)
{
    cr_assert_str_eq(fmt(NAN, "s", SR_AGG_PCT, false), "-");
    cr_assert_str_eq(fmt(NAN, "cases", SR_AGG_COUNT, false), "-");
}

/* An infinity is an aggregate that overflowed (query.h): said so, never "-". */
Test(text, format_overflow)
{
    cr_assert_str_eq(fmt(INFINITY, "USD", SR_AGG_SUM, false), "overflow");
    cr_assert_str_eq(fmt(INFINITY, "s", SR_AGG_PCT, false), "overflow");
    cr_assert_str_eq(fmt(-INFINITY, "%", SR_AGG_LAST, true), "overflow");
}

/* Where there is room, amounts keep every cent and counts every unit. */
Test(text, format_amounts_and_counts_in_full)
{
    /* the Chicago 2017-18 overtime total, once "192.8M USD" */
    cr_assert_str_eq(fmt(192793629.14, "USD", SR_AGG_SUM, false), "192 793 629.14 USD");
    /* a sum's rounding noise below 15 digits is not the data's */
    cr_assert_str_eq(fmt(63378835.010000005, "USD", SR_AGG_SUM, false), "63 378 835.01 USD");
    cr_assert_str_eq(fmt(2939510.75, "h", SR_AGG_SUM, false), "2 939 510.75 h");
    cr_assert_str_eq(fmt(0.1 + 0.2, "km", SR_AGG_MAX, false), "0.3 km");
    cr_assert_str_eq(fmt(-1204553.25, "EUR", SR_AGG_MIN, false), "-1 204 553.25 EUR");
    cr_assert_str_eq(fmt(14400000, "calls", SR_AGG_COUNT, false), "14 400 000");
    cr_assert_str_eq(fmt(14400000, "calls", SR_AGG_COUNT, true), "14.4M");
    /* an average is rounded for reading */
    cr_assert_str_eq(fmt(11340801.714, "USD", SR_AGG_AVG, false), "11 340 802 USD");
    cr_assert_str_eq(fmt(11340801.714, "USD", SR_AGG_AVG, true), "11.3M");
    cr_assert_str_eq(fmt(1e300, "USD", SR_AGG_SUM, false), "1e+300 USD");
}

/* A band or a forecast says its unit word once; values without one as they are. */
Test(text, format_ranges)
{
    char buf[128];
    cr_assert_eq(sr_format_range("2 082 calls", "2 412 calls", "–", buf, sizeof buf), 5);
    cr_assert_str_eq(buf, "2 082–2 412 calls");
    sr_format_range("1 000", "2 000", "–", buf, sizeof buf); /* "000" is no unit word */
    cr_assert_str_eq(buf, "1 000–2 000");
    sr_format_range("12m09s", "13m59s", "-", buf, sizeof buf);
    cr_assert_str_eq(buf, "12m09s-13m59s");
    sr_format_range("88%", "91%", "–", buf, sizeof buf);
    cr_assert_str_eq(buf, "88%–91%");
    sr_format_range("-5 EUR", "3 USD", "–", buf, sizeof buf); /* two units: both said */
    cr_assert_str_eq(buf, "-5 EUR–3 USD");
    sr_format_range("0 h", "1 204 553.25 h", "–", buf, sizeof buf);
    cr_assert_str_eq(buf, "0–1 204 553.25 h");
}
