/*
 * screen_int.h - what the files of the screen share (tui/screen.c, keys.c,
 * grid.c, status.c, views.c): the screen's state, the limits, and the
 * functions one of them defines for the others. Private to those files;
 * the rest of sitrep sees tui/screen.h only.
 */
#ifndef SR_SCREEN_INT_H
#define SR_SCREEN_INT_H

#include "screen.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alertview.h"
#include "mouse.h"
#include "srcview.h"
#include "tui.h"
#include "wall.h"
#include "wkit.h"

#define SR_MIN_COLS 40
#define SR_MIN_LINES 10
#define SR_PANEL_MIN_W 26
#define SR_PANEL_MIN_H 3   /* a frame and one line: the value and its status */
#define SR_SINGLE_MIN_H 10 /* one panel at a time below this: the compact list */
#define SR_DRILL_MAX 8
#define SR_LATE_MAX 16
#define SR_REJECTS_SHOWN 200

/* How the page's panels share the area (page_shape). */
typedef enum { LAYOUT_GRID, LAYOUT_SINGLE, LAYOUT_LIST } layout_mode;

/* What takes the area below the status bar. */
typedef enum { VIEW_PANELS, VIEW_SOURCES, VIEW_REJECTS, VIEW_ALERTS } view_kind;

/* Requests confirmed and not yet taken by the app. */
#define SR_ALERT_REQ_MAX 8

typedef struct {
    sr_panel_model m;
    bool computed;
    bool dirty;           /* the model must be computed again */
    bool redraw;          /* only drawn again (focus, selection, a model landed) */
    bool busy;            /* a job computes it (asynchronous screens) */
    int rc;               /* of the last compute */
    size_t computes;      /* how many times computed (sr_screen_computes) */
    sr_privacy_report pr; /* what the role's policy hid in m */
    char audited[640];    /* the personal view last audited; "" = none */
    int scroll, selected;
    const char *short_title; /* borrowed from the layout; NULL = none */
    WINDOW *frame, *inner;
} panel_state;

struct sr_screen {
    SCREEN *scr;
    FILE *in, *out; /* the terminal, or /dev/null when headless */
    bool headless;
    char filter[64];       /* "/": the focused list's rows whose name holds this; "" = all */
    bool filtering;        /* the filter is being typed */
    bool mouse_on;         /* sr_mouse_enable() ran */
    sr_mouse_parser mouse; /* a mouse report on its way in */
    sr_store *st;
    const sr_tui_layout *lay;
    unsigned flags;

    int page;
    int focus; /* index into the page's panels */
    char drill[SR_DRILL_MAX][256];
    int depth;       /* 0: the grid */
    char root[256];  /* the page re-rooted at this entity, "" = as configured */
    sr_ms window_ms; /* 0: each panel's own */
    sr_ms end_ms;    /* where the windows end, fixed (history: [ ] or --at); 0 = now (live) */
    bool help;
    bool sort_unusual; /* "u": the breakdown most unusual first, its rows against their normal */

    panel_state *ps;            /* one per layout panel */
    panel_state drill_ps;       /* the drill view's model (table + chart) */
    unsigned gen;               /* moves whenever what the panels show changes (window, shift,
                                   drill-down, root, page, size): older jobs' models are dropped */
    sr_screen_submit_fn submit; /* NULL: computes in the render */
    void *submit_ctx;
    size_t n_jobs; /* handed to submit, not yet back */
    WINDOW *status, *hints;
    layout_mode mode; /* how the page's panels share the area (build_layout) */
    WINDOW *list;     /* LAYOUT_LIST: the compact list */
    int list_scroll;  /* LAYOUT_LIST: the first panel shown */
    bool layout_dirty, all_dirty;
    char loading[32];   /* "loading history 40 %" while a backfill runs, else "" */
    sr_ms drawn_second; /* the clock's second last drawn */
    sr_tui_sources src;
    char late_names[SR_LATE_MAX][64];
    const char *late_ptrs[SR_LATE_MAX];
    size_t n_late;
    sr_ms now;
    char msg[512]; /* shown in the hint line until msg_until_ms */
    sr_ms msg_until_ms;

    view_kind view;
    bool view_dirty;      /* a key or new data changed what the view shows */
    panel_state view_win; /* only its frame and inner windows */
    sr_source_list srcl;  /* the last list handed over (a copy) */
    int src_sel, src_scroll, src_rows;
    char rj_source[SR_NAME_MAX]; /* whose rejects are shown */
    srcview_reject *rj;          /* newest first */
    size_t n_rj;
    int64_t rj_total, rj_seen; /* in the cache; the source's count when read */
    int rj_sel, rj_scroll, rj_rows;

    sr_alert *alerts; /* the open alerts (a copy), crit first */
    size_t n_alerts;
    int al_sel, al_scroll, al_rows;
    char al_withheld[512];   /* "" or the line counting the alerts the policy withheld */
    bool cache_damaged_src;  /* a source's last error says the cache is damaged */
    bool cache_damaged_read; /* a panel's read met SR_ECORRUPT */
    bool may_act;            /* the role may acknowledge and silence */
    char role_name[64];      /* for the refusal */
    bool prompt;             /* the hint line edits a note or a duration */
    bool prompt_silence;     /* a silence: its duration, then its reason (else an ack's note) */
    sr_ms prompt_for_ms;     /* a silence's duration once given; 0 while it is asked */
    char prompt_key[SR_ALERT_KEY_MAX];
    char prompt_text[SR_ALERT_NOTE_MAX];
    sr_screen_alert_request req[SR_ALERT_REQ_MAX];
    size_t n_req;

    bool wall;           /* SR_SCREEN_WALL */
    char wall_text[256]; /* the bottom line in wall mode */
};

/* ---- screen.c ---- */

const sr_tui_page *scr_cur_page(const sr_screen *s);

size_t scr_page_panel(const sr_screen *s, int i);

const sr_tui_panel *scr_focused_panel(const sr_screen *s);

const sr_widget_class *scr_widget_of(const sr_tui_panel *p);

/* The entity a panel shows now: drilled, re-rooted, or as configured. */
const char *scr_panel_entity(const sr_screen *s, const sr_tui_panel *p);

/* The state of the open alert of kind k panel p shows as drawn (its
 * metric, entity and window; an unusual alert's, its aggregate too:
 * alerts.h), SR_ALERT_OK when none. */
sr_alert_state scr_panel_alert(const sr_screen *s, const sr_tui_panel *p, sr_alert_kind k);

/* Where the windows end: the fixed end of a view of the past, or now. Ages
 * and staleness are measured from here, so that history stands still. */
sr_ms scr_view_end(const sr_screen *s);

/* What every panel shows changes (not only its data): computed again, and
 * the models of jobs made before are dropped when they land. */
void scr_respec(sr_screen *s);

/* The drill view moves to another entity: the last one's model is not
 * drawn under the new one's name (a placeholder until the new one lands). */
void scr_drill_forget(sr_screen *s);

/*
 * How a page of n panels fits an area: a grid of the page's columns, fewer
 * while a column would be narrower than SR_PANEL_MIN_W, as long as every
 * row keeps SR_PANEL_MIN_H lines; else one panel at a time (the focused
 * one, Tab pages through) while the area has SR_SINGLE_MIN_H lines; else a
 * compact list, a line per panel (title, value, status). Never an empty
 * body: every size at or above SR_MIN_COLS x SR_MIN_LINES is one of them.
 */
layout_mode scr_page_shape(int n, int cols_wanted, int area_h, int area_w, int *cols_out);

/* Where the grid lays out panel i of n in the area, in cols columns. */
void scr_grid_cell(int n, int cols, int area_y, int area_h, int area_w, int i, int *y, int *x,
                   int *h, int *w);

/* Whether the model's rows hold no data at all (the children of a unit for
 * a metric recorded at unit level): the view is then a leaf's. */
bool scr_rows_empty(const sr_panel_model *m);

/* Starts computing panel li's model (or the drill view's) unless a job
 * already does: now, or on a worker when the screen is asynchronous. */
void scr_compute(sr_screen *s, size_t li, bool drill, const char *entity, unsigned wants,
                 size_t n_series);

/* Draws the line saying what the role's policy hid, if anything, at row y
 * of w; returns whether it drew one. */
bool scr_draw_hidden(sr_screen *s, WINDOW *w, int y, const panel_state *p);

/* ---- keys.c ---- */

/* The panel whose rows "/" filters: the drill view's, else the focused
 * panel's on the grid; NULL in the other views. */
panel_state *scr_filter_target(sr_screen *s);

/* Keeps the rows of m whose name (as the table shows it) holds filter,
 * in their order; the others go (a model computed again has them all). */
void scr_filter_rows(const char *filter, sr_panel_model *m);

/* Whether "/" filters the view shown: the alerts or the sources list. */
bool scr_filters_view(const sr_screen *s);

/* The alerts view's model: the alerts the filter lets through, with the
 * selection and scroll given as indices into the whole list. */
alertview scr_alerts_of(const sr_screen *s, const sr_alert *v, size_t n, int selected, int scroll);

/*
 * The rows of the alerts or the sources view that the filter lets through,
 * as the view names them (an alert's panel or entity, a source's name):
 * map[k] is the k-th shown row's index in the whole list (map holds room
 * for all). Returns how many. The selection (al_sel, src_sel) stays an
 * index into the whole list, so that acting on it needs no map.
 */
size_t scr_view_rows(const sr_screen *s, size_t *map);

/* The position of the selection among the shown rows (0 when not shown). */
int scr_view_pos(const size_t *map, size_t k, int sel);

/* Ends the filter before what it filtered changes (focus, drill-down, page,
 * view): the panel it narrowed has all its rows again. */
void scr_filter_clear(sr_screen *s);

/* ---- grid.c ---- */

/* Draws w's frame: title, the window and its notes (stale, updating, the
 * age), the focus. */
void scr_draw_frame(sr_screen *s, WINDOW *w, const char *title, const panel_state *p, bool focused,
                    bool stale);

/*
 * A panel is stale when its newest data is late: older, where the windows
 * end, than the panel's window and its sources' late limit together (no
 * data for a whole window, and then some). Live,
 * also when one of its sources brings only data older than its late limit
 * (an old export: years-old data is not OK however healthy the file that
 * holds it), or when a source behind its figures is late or failing (or,
 * before any source has written its metric, when no source is live). A
 * view of the past is judged by its data alone, since what the sources do
 * now says nothing of then.
 */
bool scr_panel_stale(const sr_screen *s, const panel_state *p);

/* What a panel never computed yet says while its first job runs. */
void scr_draw_placeholder(sr_screen *s, WINDOW *w);

/* Draws panel li of the layout, index idx on its page, in its windows. */
void scr_draw_panel(sr_screen *s, size_t li, int idx);

/* Whether a panel of the page is on the screen: every one in the compact
 * list, else those the layout gave windows (one in LAYOUT_SINGLE). */
bool scr_panel_shown(const sr_screen *s, const panel_state *p);

/*
 * LAYOUT_LIST: a line per panel of the page, the title on the left (the
 * focused one selected), the value and status on the right; scrolled so
 * that the focused panel is on the screen.
 */
void scr_draw_list(sr_screen *s);

/* ---- status.c ---- */

/* Draws the status bar (row 0) and the hint line (the last row). */
void scr_draw_status(sr_screen *s);

/* ---- views.c ---- */

/* The drill view: breakdown of the focused panel at the drilled entity. */
void scr_draw_drill(sr_screen *s);

/* Frees the rejected rows read for the rejects view. */
void scr_rejects_clear(sr_screen *s);

/* (Re)reads the newest rejects of rj_source, newest first. */
void scr_rejects_load(sr_screen *s);

/* Draws the sources, rejects or alerts view over the whole area. */
void scr_draw_view(sr_screen *s);

/* Draws the help overlay (the keys, then the symbols). */
void scr_draw_help(sr_screen *s);

#endif
