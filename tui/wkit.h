/*
 * wkit.h - the widget kit: small drawing helpers that the widgets share and
 * that stay inside tui/ (not part of tui.h): text and glyphs clipped to the
 * window, roles under a stale view, status glyphs, short entity names, and
 * the selection and scrolling of the row lists (bars, table).
 */
#ifndef SR_TUI_WKIT_H
#define SR_TUI_WKIT_H

#include "tui.h"

/*
 * Rows that PgUp/PgDn move the selection and the scroll position by. key()
 * does not know the height of the window, so the page is a fixed number;
 * draw() keeps the selected row visible whatever the scroll position says
 * (wkit_list_first).
 */
#define WKIT_PAGE 10

/* The attributes of role in view v: everything but a selection is greyed when v is stale. */
attr_t wkit_attr(const sr_view *v, sr_role role);

/*
 * sr_tui_put() clipped to the window: nothing is written when (y, x) lies
 * outside it, and at most the columns left on the line are used, so a text
 * never wraps. Returns the columns written.
 */
int wkit_put(WINDOW *w, int y, int x, int max_cols, attr_t attr, const char *text);

/* As wkit_put(), the text right-aligned so that it ends just before column `end`. */
int wkit_put_right(WINDOW *w, int y, int end, int max_cols, attr_t attr, const char *text);

/*
 * Writes one glyph (one column wide, from sr_glyphs or the chart's own
 * braille cells) at (y, x) when that cell lies inside the window.
 */
void wkit_glyph(WINDOW *w, int y, int x, attr_t attr, const char *glyph);

/* The glyph repeated over n cells from (y, x), rightwards or (down) downwards,
 * clipped to the window: one curses call for a frame's side. */
void wkit_line(WINDOW *w, int y, int x, int n, bool down, attr_t attr, const char *glyph);

/* Fills n cells from (y, x) with blanks in attr, clipped to the window. */
void wkit_fill(WINDOW *w, int y, int x, int n, attr_t attr);

/*
 * Every widget's opening: the model v shows (borrowed from v) with w's size
 * in *height and *width; NULL, and the widget draws nothing, when there is
 * no model or w has no room.
 */
const sr_panel_model *wkit_model(WINDOW *w, const sr_view *v, int *height, int *width);

/*
 * The headline of a chart, bars or histogram panel on row y: the panel's
 * own value with its unit at the left and its status at the right
 * (sr_draw_value_status(), the tile's rule), the value in the status's
 * colour when that is WARN or CRIT (not when the view is stale), so that a
 * panel held for its status shows why. Returns the columns the value took.
 */
int wkit_headline(WINDOW *w, int y, int width, const sr_view *v);

/*
 * Draws a panel as chart, bars and histogram do: the headline on the top
 * row, and body (the widget's own drawing) in the rows below it, in a
 * window of its own so that the body may draw from its row 0. A window of
 * one row holds the headline only: the figure comes before its detail.
 */
void wkit_draw_headed(WINDOW *w, const sr_view *v, void (*body)(WINDOW *w, const sr_view *v));

/*
 * A horizontal bar from (y, x) of frac (clipped to 0..1) of width cells:
 * exact to an eighth of a cell with UTF-8, to a cell in ASCII; nothing for
 * a frac that is not above 0 (NAN included).
 */
void wkit_bar(WINDOW *w, int y, int x, int width, double frac, attr_t attr);

/* The status symbol of the current glyph set (ok, warn, crit or none). */
const char *wkit_status_glyph(sr_status s);

/* The last segment of an entity path ("unit-12" of "force/north/unit-12"); borrowed from entity. */
const char *wkit_short_name(const char *entity);

/*
 * Moves the selection of a list of n rows for key: Up/Down (also k/j) by
 * one, PgUp/PgDn by WKIT_PAGE (the scroll position moves with it), Home and
 * End to the first and last row. A selection of -1 (none) starts at the
 * first row. Returns true when the selection or the scroll position
 * changed, false for other keys, an empty list or a move past either end.
 */
bool wkit_list_key(sr_view *v, int key, size_t n);

/*
 * The first row to show of n rows when `visible` fit: v->scroll clamped so
 * that the last page is full, then moved as little as needed to show the
 * selected row.
 */
size_t wkit_list_first(const sr_view *v, size_t n, int visible);

/* ---- list tables with a detail below (the sources view, the alerts view) ---- */

#define WKIT_COLS_MAX 12

/* A column: its head, a shorter head for narrow windows, and whether it
 * holds numbers (right-aligned). */
typedef struct {
    const char *head, *head_short;
    bool right;
} wkit_col;

/* Where a table's columns go: column c at x[c], w[c] wide (0: not shown). */
typedef struct {
    int x[WKIT_COLS_MAX], w[WKIT_COLS_MAX];
    bool short_heads;
} wkit_layout;

/* Draws the heads of n columns on row 0, in the layout's long or short form. */
void wkit_table_head(WINDOW *w, const wkit_col *cols, int n, const wkit_layout *l);

/* Draws text in column c of row y: left-aligned, or right-aligned for numbers. */
void wkit_table_cell(WINDOW *w, int y, const wkit_col *cols, const wkit_layout *l, int c,
                     attr_t attr, const char *text);

/*
 * How many of n rows the table shows in a window h lines high, under its
 * head and above a detail of the selected row that needs detail_min lines
 * and a blank one: the detail gives way to the table when both do not fit
 * (the table keeps at least 3 rows). The detail is drawn when
 * h - 1 - rows >= detail_min + 1.
 */
int wkit_table_rows(int h, size_t n, int detail_min);

/* The columns the widest of m's row values takes as shown (masks such as
 * "<5" included; compact: without unit words), at least min_cols. */
int wkit_rows_value_width(const sr_panel_model *m, bool compact, int min_cols);

#endif
