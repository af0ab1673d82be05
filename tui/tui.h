/*
 * tui.h - what the pieces of the screen share: semantic colour roles and
 * themes, the glyph set (UTF-8 or ASCII), safe text output, and the widget
 * class table.
 *
 * Only tui/ includes <curses.h>. Widgets draw a panel model
 * (metrics/panel.h) into a curses WINDOW that the layout has sized and
 * framed; they never query the cache and never write outside their window.
 * Every string that comes from data goes through sr_tui_put(), which drops
 * control characters and escape sequences and measures width with wcwidth,
 * so that nothing from a source can reach the terminal raw or break the
 * alignment.
 */
#ifndef SR_TUI_H
#define SR_TUI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>

#include "../metrics/alerts.h"
#include "../metrics/format.h"
#include "../metrics/panel.h"
#include "../metrics/safetext.h"

/* ---- colour roles (X-macro: name in theme files, fallback 8-colour fg, bg, attrs) ---- */
#define SR_ROLES(X)                                                                                \
    X(NORMAL, "normal", COLOR_WHITE, -1, A_NORMAL)                                                 \
    X(TITLE, "title", COLOR_CYAN, -1, A_BOLD)                                                      \
    X(VALUE, "value", COLOR_WHITE, -1, A_BOLD)                                                     \
    X(OK, "ok", COLOR_GREEN, -1, A_NORMAL)                                                         \
    X(WARN, "warn", COLOR_YELLOW, -1, A_BOLD)                                                      \
    X(CRIT, "crit", COLOR_RED, -1, A_BOLD)                                                         \
    X(STALE, "stale", COLOR_WHITE, -1, A_DIM)                                                      \
    X(BORDER, "border", COLOR_BLUE, -1, A_NORMAL)                                                  \
    X(FOCUS, "focus", COLOR_CYAN, -1, A_BOLD)                                                      \
    X(DIM, "dim", COLOR_WHITE, -1, A_DIM)                                                          \
    X(ACCENT, "accent", COLOR_MAGENTA, -1, A_NORMAL)                                               \
    X(BAR, "bar", COLOR_BLUE, -1, A_NORMAL)                                                        \
    X(STATUSBAR, "statusbar", COLOR_BLACK, COLOR_CYAN, A_NORMAL)                                   \
    X(SELECTED, "selected", COLOR_BLACK, COLOR_WHITE, A_NORMAL)

typedef enum {
#define SR_ROLE_ENUM(id, name, fg, bg, attr) SR_ROLE_##id,
    SR_ROLES(SR_ROLE_ENUM)
#undef SR_ROLE_ENUM
        SR_ROLE_COUNT
} sr_role;

/*
 * Sets up the roles for the current screen from the built-in palette:
 * colour pairs when color is true and the terminal has colours, attributes
 * only otherwise (NO_COLOR).
 */
void sr_theme_init_default(bool color);

/* The attributes (colour pair and A_* flags) of a role under the active theme. */
attr_t sr_role_attr(sr_role role);

/* The role for a status: OK, WARN, CRIT, or DIM for none. */
sr_role sr_status_role(sr_status s);

/* The role's name in theme files ("normal", "ok", ...); NULL when out of range. */
const char *sr_theme_role_name(sr_role role);

/*
 * A theme read from a file (themes/NAME.ini): one [theme] section with
 * name, description and one line per role, such as
 *     ok = fg=#5fd75f bg=default bold
 * Colours: #rrggbb, color0-color255, black red green yellow blue magenta
 * cyan white (or bright-NAME), default. Attributes: bold dim underline
 * reverse italic. See theme.c for the whole format.
 */
typedef struct sr_theme sr_theme;

/*
 * Reads a theme. name_or_path is a path when it contains '/', else a name
 * looked up as NAME.ini in each of dirs (NULL-terminated) in order; the
 * first file that exists is read. On success *out is set (caller owns; free
 * with sr_theme_destroy()). On failure *out is NULL and err (size errlen)
 * gets the reasons, one per line, as "FILE:LINE: what was wrong, expected
 * what", with a suggestion for a misspelt role, colour or attribute.
 * Returns 0, SR_ENOENT (no such theme), SR_EIO (unreadable), SR_EINVAL
 * (mistakes in the file) or SR_ENOMEM. The caller falls back to
 * sr_theme_init_default() when no theme can be read.
 */
int sr_theme_load(const char *name_or_path, const char *const *dirs, sr_theme **out, char *err,
                  size_t errlen);

/* As sr_theme_load(), from text in memory (len bytes) named file in messages. */
int sr_theme_parse(const char *file, const char *text, size_t len, sr_theme **out, char *err,
                   size_t errlen);

/* Frees a theme; NULL is a no-op. */
void sr_theme_destroy(sr_theme *t);

/* Borrowed; valid until sr_theme_destroy(). "" when t is NULL. */
const char *sr_theme_name(const sr_theme *t);
const char *sr_theme_description(const sr_theme *t);

/*
 * Makes t the active theme of the current screen: role r gets colour pair
 * r + 1 with its colours turned into what the terminal shows. colors is
 * how many colours to use, capped at the terminal's COLORS; -1 uses COLORS
 * itself (which is known only after start_color(), which this calls).
 * can_change is can_change_color().
 *   > 256 colours (direct colour): RGB as it is;
 *   256 and can_change: RGB exactly, in palette slots redefined with
 *     init_extended_color() (only for colours not already in the palette);
 *   256: sr_color_nearest_256(); 16 or 8: sr_color_nearest_basic().
 * With no_color (NO_COLOR is set) or fewer than 8 colours, roles get their
 * attributes only, plus reverse when their background differs from the
 * normal role's. Attributes are always applied. A NULL t applies the
 * built-in roles (sr_theme_init_default()).
 */
void sr_theme_apply(const sr_theme *t, int colors, bool can_change, bool no_color);

/*
 * The xterm colour (16-255) nearest to rgb (0xrrggbb): the smallest
 * squared distance in RGB to the 6x6x6 cube (levels 0, 95, 135, 175, 215,
 * 255) and the grey ramp (8, 18, ..., 238); on a tie the lower index, so
 * the cube. Colours 0-15 are left out: terminals give them their own
 * values. #ff0000 -> 196, #000000 -> 16, #808080 -> 244.
 */
int sr_color_nearest_256(uint32_t rgb);

/*
 * The basic colour (COLOR_BLACK ... COLOR_WHITE, + 8 for bright when
 * n_colors >= 16) for rgb, by hue rather than RGB distance, because what a
 * terminal shows for its basic colours varies and a status colour must keep
 * its hue: a grey (chroma under 32 or under a quarter of the brightest
 * channel) goes by lightness to black or white (16 colours: black, bright
 * black, white, bright white at means < 64, < 178, < 242, above); a colour
 * whose brightest channel is under 48 is black; any other goes to the
 * nearest of the six hues (red 0, yellow 60, green 120, cyan 180, blue 240,
 * magenta 300 degrees), bright with 16 colours when its brightest channel
 * is above 230. #ff8700 -> yellow, #005f00 -> green.
 */
int sr_color_nearest_basic(uint32_t rgb, int n_colors);

/* ---- glyphs ---- */

typedef struct {
    bool utf8;
    const char *hline, *vline, *ul, *ur, *ll, *lr; /* frame */
    const char *spark[8];                          /* sparkline levels, lowest first */
    const char *block[9];                          /* horizontal bar eighths: "", ▏ ... █ */
    const char *half_up, *half_down;               /* upper and lower half blocks: ▀ ▄ */
    const char *up, *down, *flat;                  /* change markers */
    const char *ok, *warn, *crit, *none;           /* status symbols (besides the words) */
    const char *sep;                               /* breadcrumb separator " › " */
    const char *dot;                               /* between items of a line: "·" */
    const char *range;                             /* between a range's ends: "–" */
    const char *enter, *back, *arrows;             /* key names in the hint line: ↵ ⌫ ↑↓ */
    const char *ellipsis;
    bool braille; /* charts may use braille dots */
} sr_glyphs;

/* The glyph set for the current locale (UTF-8 or plain ASCII). */
const sr_glyphs *sr_glyphs_get(void);
/* Chooses the set: called once by the screen from the locale. */
void sr_glyphs_select(bool utf8);
/* The UTF-8 or the ASCII set, whichever is current (text outside curses). */
const sr_glyphs *sr_glyphs_for(bool utf8);

/* ---- text ---- */

/*
 * Writes text into w at (y, x), at most max_cols columns wide, with attr:
 * control characters (C0, DEL, C1) and escape sequences are dropped,
 * invalid UTF-8 becomes '?', wide characters count two columns, and a text
 * too long ends with the ellipsis. max_cols is also cut at the window's
 * right edge, and a wide character that would straddle the limit is left
 * out, so nothing is written past it and nothing wraps. attr is added to
 * the window's attributes for this text only (its colour pair, if any,
 * replaces the window's). Returns the columns written.
 */
int sr_tui_put(WINDOW *w, int y, int x, int max_cols, attr_t attr, const char *text);

/*
 * Writes text over at most max_rows rows from (y, x), each at most max_cols
 * wide, breaking after blanks where it can; sanitised as sr_tui_put() does,
 * and the last row ends with the ellipsis when text does not fit. Returns
 * the rows written.
 */
int sr_tui_put_wrapped(WINDOW *w, int y, int x, int max_cols, int max_rows, attr_t attr,
                       const char *text);

/* Columns the text would take once sanitised (as sr_tui_put counts them). */
int sr_tui_width(const char *text);

/*
 * As sr_text_clean() (metrics/safetext.h), and cut to at most max_cols columns, ending with
 * the ellipsis when it was cut (for text output of a known width, such as
 * a table on a terminal). Returns out.
 */
char *sr_tui_fit(const char *text, int max_cols, char *out, size_t outlen);

/*
 * A panel's title in at most max_cols columns, sanitised into out: the
 * title when it fits, else short_title (the config's `short =`, NULL or ""
 * for none) when given, cut in the middle when it still does not fit so
 * that its last word stays ("Emergency…P1"); a last word wider than a
 * third of max_cols is not kept, the end is cut instead. Returns out.
 */
char *sr_tui_fit_title(const char *title, const char *short_title, int max_cols, char *out,
                       size_t outlen);

/* ---- widgets ---- */

/* What one panel shows. */
typedef struct {
    const sr_panel_model *m;
    const char *title; /* from the config; sanitised when drawn */
    bool focused;
    bool stale;                   /* its source is late: drawn greyed */
    const char *timezone;         /* for time labels; NULL = UTC */
    int scroll;                   /* first row shown (tables, bars) */
    int rows;                     /* list rows visible, for paging keys; 0 = unknown */
    int selected;                 /* highlighted row, -1 = none */
    bool big;                     /* wall mode: the value in large numerals where it fits */
    const char *empty;            /* what a panel without data says (borrowed); NULL = "no data" */
    sr_alert_state alert;         /* the state of the alert the panel shows (ACKED, SILENCED: a
                                     tile says so); SR_ALERT_OK when none */
    sr_alert_state alert_unusual; /* the same of its unusual alert (when = unusual, both) */
} sr_view;

/*
 * What a panel without data says, the one text every widget draws there:
 * v->empty ("loading history 40 %" while the collecting dashboard's first
 * backfill runs, tui/screen.h) or "no data".
 */
const char *sr_empty_text(const sr_view *v);

/*
 * A widget class: a static const table per widget. draw() fills the whole
 * window (it may assume werase() was done); key() handles a key while the
 * panel has focus and returns true when it used it; `wants` says which
 * parts of the panel model it needs (SR_PANEL_*), `n_series` how many
 * slices (0 = the window's width).
 */
typedef struct {
    const char *name;
    int min_w, min_h; /* smallest inner size that still makes sense */
    unsigned wants;
    void (*draw)(WINDOW *w, const sr_view *v);
    bool (*key)(sr_view *v, int key);
} sr_widget_class;

/* The widget named name ("tile", "sparkline", ...), or NULL. */
const sr_widget_class *sr_widget_find(const char *name);

extern const sr_widget_class sr_widget_tile, sr_widget_sparkline, sr_widget_gauge, sr_widget_bars,
    sr_widget_table, sr_widget_chart, sr_widget_histogram, sr_widget_spread;

/*
 * Draws a series as a sparkline of `width` cells at (y, x): the series is
 * resampled to one value per cell (the average of the finite values the
 * cell covers), scaled between the lowest and highest cell, and drawn with
 * the spark[] glyphs; the lowest cell still shows the lowest glyph, a flat
 * series sits at the middle level, a cell with no finite value is blank.
 * Clipped to the window. Shared by tile, sparkline, bars and table.
 */
void sr_draw_sparkline(WINDOW *w, int y, int x, int width, const double *series, size_t n,
                       attr_t attr);

/*
 * The same, `rows` rows tall from row y down: each column has rows * 8
 * levels, filled from the bottom with full blocks and one partial block.
 */
void sr_draw_sparkline_rows(WINDOW *w, int y, int x, int width, int rows, const double *series,
                            size_t n, attr_t attr);

/*
 * Why a series of m has nothing to draw, when a privacy rule emptied it
 * (hidden > 0: m->series_hidden or a row's series_hidden) and not the
 * data: "percentiles hidden: <10 per point; zoom out (-)" for percentiles,
 * else "hidden: too few per point" or "hidden"; brief gives the short
 * forms ("n<10", "hidden") for a table cell. NULL when the series has a
 * finite value or nothing was hidden ("no data" is then the truth).
 */
const char *sr_series_hidden_text(const sr_panel_model *m, const double *series, size_t n,
                                  size_t hidden, bool brief);

/*
 * sr_draw_sparkline_rows, or, when sr_series_hidden_text() has a reason,
 * that reason (dim, cut to width) on the bottom row instead of blank cells.
 */
void sr_draw_series_rows(WINDOW *w, int y, int x, int width, int rows, const sr_panel_model *m,
                         const double *series, size_t n, size_t hidden, attr_t attr);

/*
 * Draws a panel's current value at (y, x) in at most max_cols columns, the
 * longest form that fits: "p90 13m42s" (the aggregate's name dim, for
 * aggregates that are not the metric's natural value), "13m42s", the
 * compact form, then cut with the ellipsis. sr_empty_text() (dim) when
 * v->m is NULL or the value is NAN; everything in the stale role when
 * v->stale. Returns the columns written.
 */
int sr_draw_value(WINDOW *w, int y, int x, int max_cols, const sr_view *v);

/*
 * Draws a panel's current value in large numerals for a wall, centred in
 * the width of w from row y, in at most max_rows rows: five rows of full
 * blocks, else three of half blocks; unit letters on the baseline, unit
 * words after the figure or under it. Returns the rows used; 0 (nothing
 * drawn) when there is no value or no room for either size.
 */
int sr_draw_big_value(WINDOW *w, int y, int max_rows, const sr_view *v);

/*
 * Draws a status right-aligned to end before column `right`, in its role:
 * "✖ CRIT" (symbol and word), else "CRIT", else the symbol alone, whichever
 * first fits max_cols; never colour alone. Returns the columns written, 0
 * for SR_STATUS_NONE (nothing is drawn). stale: the panel's data is late,
 * and OK is drawn in the stale role (late data cannot vouch for it); WARN
 * and CRIT keep their colour, as a known problem must not fade.
 */
int sr_draw_status(WINDOW *w, int y, int right, int max_cols, sr_status s, bool stale);

/* A window as a commander says it: "1h", "8h", "24h", "7d", "28d" (hours up
 * to a day, sr_format_duration beyond). */
void sr_format_window(sr_ms ms, char *buf, size_t len);

/*
 * A change in percent as the tiles write it: "▲12%", "▼3.1%", "=" when it
 * rounds to nothing (the glyph set's markers). Returns false, buf
 * untouched, when pct is NAN.
 */
bool sr_format_change(double pct, char *buf, size_t len);

/*
 * Draws a panel's value at the left of row y and its status at the right,
 * within width columns: the status takes what the value's compact form
 * leaves (half the width when it leaves nothing), the value the rest.
 * Returns the columns the value took.
 */
int sr_draw_value_status(WINDOW *w, int y, int width, const sr_view *v);

#endif
