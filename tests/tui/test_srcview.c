/*
 * Tests of tui/srcview.c: the sources view and the rejected rows drawn into
 * real curses windows (newterm on /dev/null, xterm-256color, C.UTF-8) of the
 * inner sizes of an 80x24 and a 160x48 terminal, read back cell by cell.
 */
#include <criterion/criterion.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "../../tui/srcview.h"
#include "../../tui/wkit.h"
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

TestSuite(srcview, .init = setup, .fini = teardown);

#define NOW ((sr_ms)1700000000000LL)

/* The colour pair of the cell at (y, x). */
static short pair_at(WINDOW *w, int y, int x)
{
    cchar_t c;
    wchar_t wc[CCHARW_MAX + 1];
    attr_t a;
    short p = 0;
    mvwin_wch(w, y, x, &c);
    getcchar(&c, wc, &a, &p, NULL);
    return p;
}

static sr_source_info src(const char *name, sr_source_state state, const char *error)
{
    sr_source_info s = {.state = state, .polled = true, .configured = true};
    snprintf(s.h.name, sizeof s.h.name, "%s", name);
    snprintf(s.h.type, sizeof s.h.type, "csv");
    s.h.last_ok_ms = NOW - 12 * SR_MS_SEC;
    s.h.last_poll_ms = NOW - 2 * SR_MS_SEC;
    s.h.next_poll_ms = NOW + 3 * SR_MS_SEC;
    s.h.interval_ms = 5000;
    s.h.timeout_ms = 10000;
    s.h.accepted = 48211;
    s.h.duplicates = 7;
    s.h.rejected = 3;
    snprintf(s.h.last_error, sizeof s.h.last_error, "%s", error);
    return s;
}

static const char long_error[] =
    "cannot connect to db.example.org:5432: the server closed the connection unexpectedly; "
    "this probably means the server terminated abnormally before or while processing the "
    "request\x1b]2;pwned\x07\x1b[2J";

static sr_source_info list_v[3];
static sr_source_list list;

static void three_sources(void)
{
    list_v[0] = src("dispatch", SR_SOURCE_LIVE, "");
    list_v[1] = src("records-db", SR_SOURCE_FAILING, long_error);
    list_v[2] = src("old-feed", SR_SOURCE_LATE, "");
    list_v[2].configured = false;
    list_v[2].h.next_poll_ms = 0;
    list = (sr_source_list){list_v, 3, 2, 1};
}

Test(srcview, the_table_and_detail_at_80x24)
{
    three_sources();
    WINDOW *w = newwin(20, 78, 0, 0); /* inside the frame of an 80x24 screen */
    srcview_sources v = {&list, 1, 0, NOW, "UTC"};
    int rows = srcview_draw_sources(w, &v);
    cr_assert_eq(rows, 3);
    const char *head = th_row_text(w, 0);
    cr_assert(strstr(head, "SOURCE") && strstr(head, "STATE") && strstr(head, "NEXT"), "%s", head);
    int y = th_find_row(w, "records-db");
    cr_assert_eq(y, 2, "the rows in the list's order");
    const char *r = th_row_text(w, y);
    cr_assert(strstr(r, "✖ failing"), "state as symbol and word: %s", r);
    cr_assert(strstr(r, "12s ago") && strstr(r, "in 3s") && strstr(r, "48211"), "%s", r);
    cr_assert(strstr(th_row_text(w, 1), "● live"), "%s", th_row_text(w, 1));
    cr_assert(strstr(th_row_text(w, 3), "old-feed*") && strstr(th_row_text(w, 3), "◆ late"), "%s",
              th_row_text(w, 3));
    cr_assert(strstr(th_row_text(w, 3), " - "), "no poll scheduled: %s", th_row_text(w, 3));
    /* the state's colour is the status colour, not the normal one */
    int sx = (int)(strstr(th_row_text(w, 1), "● live") - th_row_text(w, 1));
    cr_assert_neq(pair_at(w, 1, sx + 2), pair_at(w, 1, 0), "live drawn in its role");
    /* the selected source in full below: its whole error over several rows */
    int d = th_find_row(w, "records-db  ✖ failing");
    cr_assert_gt(d, 3, "the detail is below the table");
    cr_assert_geq(th_find_row(w, "last error    cannot connect"), d);
    cr_assert_geq(th_find_row(w, "abnormally"), d, "the error wraps instead of being cut");
    cr_assert_geq(th_find_row(w, "next poll     2023-11-14 22:13:23 (in 3s)"), d);
    cr_assert_geq(th_find_row(w, "48211 accepted · 7 duplicate · 3 rejected"), d);
    cr_assert_eq(th_find_row(w, "pwned"), -1, "the OSC's text went with it");
    cr_assert_eq(th_find_row(w, "Enter: this source's latest rejected rows, with reasons"), 19);
    delwin(w);
}

Test(srcview, the_error_column_at_160x48)
{
    three_sources();
    WINDOW *w = newwin(44, 158, 0, 0);
    srcview_sources v = {&list, 0, 0, NOW, "UTC"};
    srcview_draw_sources(w, &v);
    const char *head = th_row_text(w, 0);
    cr_assert(strstr(head, "LAST SUCCESS") && strstr(head, "NEXT POLL") &&
                  strstr(head, "DUPLICATE") && strstr(head, "LAST ERROR"),
              "the long headers: %s", head);
    const char *r = th_row_text(w, 2);
    cr_assert(strstr(r, "cannot connect to db.example.org"), "%s", r);
    cr_assert(strstr(r, "…"), "cut with the ellipsis at the edge: %s", r);
    cr_assert(strstr(th_row_text(w, 5), "dispatch  ● live"), "the detail of the first: %s",
              th_row_text(w, 5));
    delwin(w);
}

Test(srcview, a_long_name_and_a_tiny_window_stay_inside)
{
    three_sources();
    snprintf(list_v[0].h.name, sizeof list_v[0].h.name, "%s",
             "a-source-name-far-longer-than-any-column-should-be");
    WINDOW *w = newwin(6, 40, 0, 0);
    srcview_sources v = {&list, 2, 0, NOW, "UTC"};
    int rows = srcview_draw_sources(w, &v);
    cr_assert_eq(rows, 3, "no room for the detail: the table takes it");
    cr_assert(strstr(th_row_text(w, 1), "…"), "%s", th_row_text(w, 1));
    cr_assert(strstr(th_row_text(w, 3), "old-f…"), "the selected row, its name cut: %s",
              th_row_text(w, 3));
    delwin(w);
    w = newwin(3, 40, 0, 0);
    v.selected = 2;
    rows = srcview_draw_sources(w, &v);
    cr_assert_eq(rows, 2);
    cr_assert(strstr(th_row_text(w, 2), "old-f"), "scrolled to the selection: %s",
              th_row_text(w, 2));
    delwin(w);
}

Test(srcview, rejected_rows_two_lines_each)
{
    srcview_reject rj[] = {
        {NOW - 1000, "line 9", "only\x1b[31m three\x1b[0m fields", "value 'x' is not a number"},
        {NOW - 60000, NULL,
         "raw row of the older reject, long enough to need cutting at the right "
         "edge of an eighty column terminal window",
         "unknown metric 'nope'"},
    };
    WINDOW *w = newwin(20, 78, 0, 0);
    srcview_rejects v = {"legacy", rj, 2, 5, 1, 0, "UTC", NULL};
    int vis = srcview_draw_rejects(w, &v);
    cr_assert_eq(vis, 9);
    cr_assert_str_eq(th_row_text(w, 0),
                     "the newest 2 of 5 rejected rows from legacy, newest first");
    const char *r = th_row_text(w, 2);
    cr_assert(strstr(r, "11-14 22:13:19") && strstr(r, "line 9") &&
                  strstr(r, "value 'x' is not a number"),
              "%s", r);
    cr_assert_str_eq(th_row_text(w, 3), "    only three fields", "the raw row, sanitised");
    cr_assert(strstr(th_row_text(w, 4), "  -  ") && strstr(th_row_text(w, 4), "unknown metric"),
              "%s", th_row_text(w, 4));
    r = th_row_text(w, 5);
    cr_assert(strstr(r, "…") && strlen(r) > 70, "cut at the edge: %s", r);
    /* the selected entry (the second) is highlighted on both its lines */
    short sel = pair_at(w, 4, 40), other = pair_at(w, 2, 40);
    cr_assert_neq(sel, other);
    cr_assert_eq(pair_at(w, 5, 2), sel);
    delwin(w);

    /* a role without personal data under a personal level: no reason, no raw text */
    sr_privacy pol;
    sr_privacy_init(&pol);
    pol.personal[5] = true;
    pol.see_personal = false;
    snprintf(pol.role, sizeof pol.role, "default");
    snprintf(pol.levels[4], sizeof pol.levels[4], "officer");
    pol.n_levels = 5;
    w = newwin(20, 78, 0, 0);
    srcview_rejects priv = {"legacy", rj, 2, 5, 1, 0, "UTC", &pol};
    srcview_draw_rejects(w, &priv);
    cr_assert(strstr(th_row_text(w, 1), "2 rejected rows shown without reason and raw text"), "%s",
              th_row_text(w, 1));
    for (int y = 2; y < 6; y++) {
        cr_assert_null(strstr(th_row_text(w, y), "only three fields"), "%s", th_row_text(w, y));
        cr_assert_null(strstr(th_row_text(w, y), "value 'x'"), "%s", th_row_text(w, y));
    }
    cr_assert(strstr(th_row_text(w, 3), "(raw text withheld)"), "%s", th_row_text(w, 3));
    delwin(w);

    w = newwin(5, 60, 0, 0);
    srcview_rejects none = {"quiet", NULL, 0, 0, 0, 0, "UTC", NULL};
    cr_assert_eq(srcview_draw_rejects(w, &none), 0);
    cr_assert_str_eq(th_row_text(w, 0), "no rejected rows from quiet");
    delwin(w);
}

/* The list tables' split between rows and the detail of the selected row
 * (wkit_table_rows, shared by the sources and alerts views). */
Test(srcview, the_detail_gives_way_to_the_rows)
{
    cr_assert_eq(wkit_table_rows(24, 3, 6), 3);   /* both fit */
    cr_assert_eq(wkit_table_rows(24, 40, 6), 16); /* 24 - head - blank - 6 */
    cr_assert_eq(wkit_table_rows(10, 40, 6), 9);  /* too short for both: all rows */
    cr_assert_eq(wkit_table_rows(10, 2, 6), 2);
    cr_assert_eq(wkit_table_rows(1, 5, 6), 0);
    cr_assert_eq(wkit_table_rows(24, 0, 6), 0);
}
