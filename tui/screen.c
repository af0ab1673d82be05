/*
 * screen.c - the dashboard screen.
 *
 * State: the current page, the focused panel, the drill stack (entity paths
 * below the focused panel's own), the time view (a zoomed window and where
 * the windows end: now, or a fixed time in the past after [ or --at, which
 * stays put as time passes), the help overlay. Every panel of the layout
 * has a model (metrics/panel.h) and a dirty flag: keys that change what a
 * panel shows, new data in the cache (sr_screen_data_changed) and resizes
 * mark panels dirty; sr_screen_render recomputes only dirty models, redraws
 * only the windows that changed, and ends with one doupdate(). Nothing here
 * blocks or polls a source.
 *
 * Computing: a compute is a job (struct sr_screen_job) made on the loop
 * thread with a copy of what it needs, run against a store handle, and
 * landed on the loop thread, where its model is swapped in and audited. A
 * synchronous screen (snapshot) runs it at once on its own handle; an
 * asynchronous one (the dashboard, sr_screen_set_async) hands it to the
 * app, which runs it on a worker, and meanwhile draws the panel's last
 * model with an `updating` mark in the frame. One job per panel at a time
 * (busy); dirty set again meanwhile means one more after it lands. Every
 * change of what the panels show (window, shift, drill, root, page, size)
 * moves the screen's gen, and a job made under an older gen is dropped
 * when it lands. Focus, selection and scrolling only redraw (redraw).
 *
 * Geometry: row 0 is the status bar (where; the clock, or HISTORY and the
 * end of the windows with its date, given up last; a window set for all
 * panels; alerts; sources), the last row the key hints, the rest the grid
 * of panels (columns from the page, fewer when the terminal is narrow);
 * when the rows do not fit, the focused panel alone (Tab pages through),
 * and below that a compact list, a line per panel (page_shape): never an
 * empty body. In drill mode the grid is replaced by the breakdown of the
 * focused panel: a table of the children worst first and the history chart
 * below; at a leaf, the newest events.
 * Below SR_MIN_COLS x SR_MIN_LINES a notice asks for a larger terminal.
 *
 * Privacy: with a policy in the layout (metrics/privacy.h), every model is
 * passed through sr_privacy_apply() right after it is computed, so no
 * widget ever sees a hidden row or a suppressed value; panels and the
 * drill view say how many rows were hidden and why, Enter below what the
 * role may open is refused in the hint line, and a view that shows
 * personal-level values is handed once to the layout's audit hook (the
 * screen never writes the cache).
 *
 * The sources view (key s) takes the whole area in the same way: the list
 * of sources the app hands over (sr_screen_set_source_list(), on every
 * refresh and poll), drawn by srcview.c, redrawn every second since its
 * times are relative; Enter on a source reads that source's newest rejected
 * rows from the cache, again when its count of rejects moves. Esc or
 * Backspace goes back one step, s closes the view.
 *
 * The alerts view (key a) is the same kind of view over the open alerts
 * the app hands over (sr_screen_set_alerts()), drawn by alertview.c; the
 * selection follows its alert's key when the list changes. Enter asks for
 * a note and m for a duration in the hint line (a small line editor:
 * printable input, Backspace, Enter confirms, Esc cancels); a confirmed
 * request is queued for the app (SR_KEY_ALERT), which writes it: the
 * screen reads the cache, never writes it.
 */
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

static sr_screen *active; /* for sr_screen_restore_terminal on a fatal path */

/* ---- keys ---- */

typedef enum {
    ACT_QUIT,
    ACT_HELP,
    ACT_NEXT,
    ACT_PREV,
    ACT_LEFT,
    ACT_RIGHT,
    ACT_UP,
    ACT_DOWN,
    ACT_ENTER,
    ACT_BACK,
    ACT_ZOOM_IN,
    ACT_ZOOM_OUT,
    ACT_SHIFT_BACK,
    ACT_SHIFT_FWD,
    ACT_LIVE,
    ACT_REROOT,
    ACT_SOURCES,
    ACT_ALERTS,
    ACT_SILENCE,
    ACT_REPORT,
    ACT_FILTER,
    ACT_PAGE, /* keys 1-9 */
} action;

static const struct binding {
    int keys[4];
    action act;
    const char *label;
    const char *what;
} bindings[] = {
    {{'q', 'Q', KEY_F(10)}, ACT_QUIT, "q F10", "quit"},
    {{'?', KEY_F(1)}, ACT_HELP, "? F1", "this help (any key closes it)"},
    {{'1'}, ACT_PAGE, "1-9", "go to page 1 to 9"},
    {{'\t'}, ACT_NEXT, "Tab", "focus the next panel"},
    {{KEY_BTAB}, ACT_PREV, "Shift-Tab", "focus the previous panel"},
    {{KEY_LEFT, 'h'}, ACT_LEFT, "arrows hjkl", "move the focus (in a list: move the selection)"},
    {{KEY_RIGHT, 'l'}, ACT_RIGHT, NULL, NULL},
    {{KEY_UP, 'k'}, ACT_UP, NULL, NULL},
    {{KEY_DOWN, 'j'}, ACT_DOWN, NULL, NULL},
    {{'\n', '\r', KEY_ENTER},
     ACT_ENTER,
     "Enter",
     "drill down: the focused panel by child entity, "
     "then the selected child"},
    {{KEY_BACKSPACE, 127, 8, 27}, ACT_BACK, "Backspace Esc", "one level up"},
    {{'+', '='}, ACT_ZOOM_IN, "+ -", "zoom the window in / out (15m 1h 8h 24h 7d 28d 365d)"},
    {{'-', '_'}, ACT_ZOOM_OUT, NULL, NULL},
    {{'['}, ACT_SHIFT_BACK, "[ ]", "shift the window back / forward in time"},
    {{']'}, ACT_SHIFT_FWD, NULL, NULL},
    {{'0'}, ACT_LIVE, "0", "back to live, each panel's own window"},
    {{'r'}, ACT_REROOT, "r", "re-root the page at the drilled entity (r again: back)"},
    {{'s', 'S'}, ACT_SOURCES, "s", "the sources and their state (Enter: rejected rows)"},
    {{'a', 'A'}, ACT_ALERTS, "a", "the open alerts (Enter: acknowledge with a note)"},
    {{'m', 'M'}, ACT_SILENCE, "m", "silence the selected alert for a time (alerts view)"},
    {{'e', 'E'}, ACT_REPORT, "e", "write the shift handover report (Markdown) to a file"},
    {{'/'},
     ACT_FILTER,
     "/",
     "filter the focused table or list: the rows whose name holds the text "
     "typed (Enter keeps it, Esc clears it)"},
};

/* The help lists the bindings that carry a label (one line per group). */
const sr_key_help *sr_screen_key_help(size_t *n)
{
    static sr_key_help help[sizeof bindings / sizeof bindings[0]];
    static size_t count;
    if (!count) {
        for (size_t i = 0; i < sizeof bindings / sizeof bindings[0]; i++) {
            if (bindings[i].label)
                help[count++] = (sr_key_help){bindings[i].label, bindings[i].what};
        }
    }
    *n = count;
    return help;
}

static const sr_ms zoom_levels[] = {15 * SR_MS_MIN, SR_MS_HOUR,     8 * SR_MS_HOUR, SR_MS_DAY,
                                    7 * SR_MS_DAY,  28 * SR_MS_DAY, 365 * SR_MS_DAY};
#define N_ZOOM (sizeof zoom_levels / sizeof zoom_levels[0])

/* ---- helpers ---- */

static const sr_tui_page *cur_page(const sr_screen *s)
{
    return &s->lay->pages[s->page];
}

static size_t page_panel(const sr_screen *s, int i)
{
    return cur_page(s)->panels[i];
}

static const sr_tui_panel *focused_panel(const sr_screen *s)
{
    if (cur_page(s)->n_panels == 0)
        return NULL;
    return &s->lay->panels[page_panel(s, s->focus)];
}

static const sr_widget_class *widget_of(const sr_tui_panel *p)
{
    const sr_widget_class *w = sr_widget_find(p->widget);
    return w ? w : &sr_widget_tile;
}

/* The entity a panel shows now: drilled, re-rooted, or as configured. */
static const char *panel_entity(const sr_screen *s, const sr_tui_panel *p)
{
    if (s->root[0])
        return s->root;
    return p->spec.entity ? p->spec.entity : "";
}

static sr_ms panel_window(const sr_screen *s, const sr_tui_panel *p)
{
    return s->window_ms ? s->window_ms : p->spec.window_ms;
}

/* The state of the open alert panel p shows as drawn (its metric, entity
 * and window: alerts.h), SR_ALERT_OK when none. */
static sr_alert_state panel_alert(const sr_screen *s, const sr_tui_panel *p)
{
    const sr_metric_def *d = s->lay->cat ? sr_catalog_find(s->lay->cat, p->spec.metric) : NULL;
    char key[SR_ALERT_KEY_MAX];
    if (!d ||
        sr_alert_key_for(d, p->spec.agg, panel_window(s, p), panel_entity(s, p), key, sizeof key))
        return SR_ALERT_OK;
    for (size_t i = 0; i < s->n_alerts; i++)
        if (strcmp(s->alerts[i].key, key) == 0)
            return s->alerts[i].state;
    return SR_ALERT_OK;
}

/* Where the windows end: the fixed end of a view of the past, or now. Ages
 * and staleness are measured from here, so that history stands still. */
static sr_ms view_end(const sr_screen *s)
{
    return s->end_ms ? s->end_ms : s->now;
}

static void free_windows(panel_state *p)
{
    if (p->inner)
        delwin(p->inner);
    if (p->frame)
        delwin(p->frame);
    p->inner = p->frame = NULL;
}

static void mark_all(sr_screen *s)
{
    for (size_t i = 0; i < s->lay->n_panels; i++)
        s->ps[i].dirty = true;
    s->drill_ps.dirty = true;
    s->all_dirty = true;
}

/* What every panel shows changes (not only its data): computed again, and
 * the models of jobs made before are dropped when they land. */
static void respec(sr_screen *s)
{
    s->gen++;
    mark_all(s);
}

/* The drill view moves to another entity: the last one's model is not
 * drawn under the new one's name (a placeholder until the new one lands). */
static void drill_forget(sr_screen *s)
{
    panel_state *p = &s->drill_ps;
    sr_panel_model_fini(&p->m);
    memset(&p->pr, 0, sizeof p->pr);
    p->computed = false;
    p->audited[0] = 0;
    p->selected = 0;
    p->scroll = 0;
}

/*
 * How a page of n panels fits an area: a grid of the page's columns, fewer
 * while a column would be narrower than SR_PANEL_MIN_W, as long as every
 * row keeps SR_PANEL_MIN_H lines; else one panel at a time (the focused
 * one, Tab pages through) while the area has SR_SINGLE_MIN_H lines; else a
 * compact list, a line per panel (title, value, status). Never an empty
 * body: every size at or above SR_MIN_COLS x SR_MIN_LINES is one of them.
 */
static layout_mode page_shape(int n, int cols_wanted, int area_h, int area_w, int *cols_out)
{
    int cols = cols_wanted < 1 ? 1 : cols_wanted;
    while (cols > 1 && area_w / cols < SR_PANEL_MIN_W)
        cols--;
    if (cols > n)
        cols = n > 0 ? n : 1;
    *cols_out = cols;
    int rows = (n + cols - 1) / cols;
    if (rows * SR_PANEL_MIN_H <= area_h)
        return LAYOUT_GRID;
    return area_h >= SR_SINGLE_MIN_H ? LAYOUT_SINGLE : LAYOUT_LIST;
}

/* Where the grid lays out panel i of n in the area, in cols columns. */
static void grid_cell(int n, int cols, int area_y, int area_h, int area_w, int i, int *y, int *x,
                      int *h, int *w)
{
    int rows = (n + cols - 1) / cols;
    int r = i / cols, c = i % cols;
    int in_row = (r == rows - 1) ? n - r * cols : cols; /* the last row may be short */
    *y = area_y + r * area_h / rows;
    *h = area_y + (r + 1) * area_h / rows - *y;
    *x = c * area_w / in_row;
    *w = (c + 1) * area_w / in_row - *x;
}

/* ---- computing ---- */

/*
 * Audits a view that shows personal-level values, once per view: the same
 * panel and entity computed again (new data, the clock) is the same view.
 */
static void audit_view(sr_screen *s, panel_state *p, const sr_tui_panel *tp, const char *entity)
{
    if (!p->pr.personal_shown) {
        p->audited[0] = 0;
        return;
    }
    char detail[sizeof p->audited];
    snprintf(detail, sizeof detail, "panel %s, metric %s, entity %s: %s", tp->name, tp->spec.metric,
             entity && *entity ? entity : "(all)",
             p->m.n_rows > 0 ? "personal rows" : "personal values and events");
    if (strcmp(detail, p->audited) == 0)
        return;
    snprintf(p->audited, sizeof p->audited, "%s", detail);
    if (s->lay->audit)
        s->lay->audit(s->lay->audit_ctx, "view-personal", detail);
}

/* Whether the model's rows hold no data at all (the children of a unit for
 * a metric recorded at unit level): the view is then a leaf's. */
static bool rows_empty(const sr_panel_model *m)
{
    for (size_t i = 0; i < m->n_rows; i++) {
        if (m->rows[i].r.n > 0 || isfinite(m->rows[i].r.value) || m->rows[i].mask[0])
            return false;
    }
    return true;
}

/* One compute: what it asks (copied on the loop thread), what it gives. */
struct sr_screen_job {
    size_t panel;             /* index into the layout's panels: whose spec */
    bool drill;               /* for the drill view, else the grid panel */
    unsigned gen;             /* the screen's gen when made */
    const sr_tui_layout *lay; /* the catalog and the policy: read-only config */
    sr_panel_spec spec;       /* entity points into entity[] */
    sr_ms to;                 /* the window's end */
    unsigned wants;
    size_t n_series;
    bool ran;
    int rc;
    sr_panel_model m;
    sr_privacy_report pr;
    char entity[]; /* a copy: the drill stack and the root change under a job */
};

static sr_screen_job *job_make(sr_screen *s, size_t li, bool drill, const char *entity,
                               unsigned wants, size_t n_series)
{
    const sr_tui_panel *tp = &s->lay->panels[li];
    size_t len = strlen(entity);
    sr_screen_job *j = calloc(1, sizeof *j + len + 1);
    if (!j)
        return NULL;
    memcpy(j->entity, entity, len + 1);
    j->panel = li;
    j->drill = drill;
    j->gen = s->gen;
    j->lay = s->lay;
    j->spec = tp->spec;
    j->spec.entity = j->entity;
    j->spec.window_ms = panel_window(s, tp);
    j->to = view_end(s);
    j->wants = wants;
    if (n_series > SR_SERIES_MAX)
        n_series = SR_SERIES_MAX;
    if (n_series < 2)
        n_series = 2;
    j->n_series = n_series;
    return j;
}

void sr_screen_job_run(sr_screen_job *j, sr_store *st)
{
    const sr_catalog *cat = j->lay->cat;
    const sr_privacy *pol = j->lay->privacy;
    sr_panel_spec spec = j->spec;
    unsigned wants = j->wants;
    size_t n_series = j->n_series;
    bool personal = false;
    if (pol) {
        /* percentile series pool slices rather than show mostly n<10 */
        spec.pool_min_n = pol->min_pct_n;
        sr_privacy_metric_personal(st, cat, pol, spec.metric, &personal);
        const sr_metric_def *d = sr_catalog_find(cat, spec.metric);
        bool pct = spec.agg.kind == SR_AGG_PCT ||
                   (spec.agg.kind == SR_AGG_VALUE && d && d->kind == SR_KIND_EVENT);
        if (pct || (personal && !pol->see_personal))
            wants |= SR_PANEL_SERIES_N;
    }
    /* a personal metric for a role without personal data: whole grid slices */
    sr_ms to = j->to, from;
    if (pol && sr_privacy_grid_span(pol, personal, to, spec.window_ms, &from, &to)) {
        spec.window_ms = to - from;
        n_series = sr_privacy_grid_points(pol, from, to, n_series);
    }
    j->rc = sr_panel_compute(st, cat, &spec, to, wants, n_series,
                             SR_HIST_MAX < 40 ? SR_HIST_MAX : 40, 200, &j->m);
    memset(&j->pr, 0, sizeof j->pr);
    if (pol) {
        sr_privacy_apply(pol, j->entity, personal, &j->m, &j->pr);
        int rc = sr_privacy_grid_model(st, cat, pol, j->entity, personal, &j->m, &j->pr);
        if (!j->rc)
            j->rc = rc;
    }
    j->ran = true;
}

/* The panel whose rows "/" filters: the drill view's, else the focused
 * panel's on the grid; NULL in the other views. */
static panel_state *filter_target(sr_screen *s)
{
    if (s->view != VIEW_PANELS || s->wall)
        return NULL;
    if (s->depth > 0)
        return &s->drill_ps;
    return cur_page(s)->n_panels ? &s->ps[page_panel(s, s->focus)] : NULL;
}

/* Whether name holds text, ASCII letters in either case. */
static bool name_holds(const char *name, const char *text)
{
    size_t n = strlen(text);
    for (; *name; name++) {
        if (strncasecmp(name, text, n) == 0)
            return true;
    }
    return n == 0;
}

/* Keeps the rows of m whose name (as the table shows it) holds filter,
 * in their order; the others go (a model computed again has them all). */
static void filter_rows(const char *filter, sr_panel_model *m)
{
    if (!filter[0])
        return;
    size_t k = 0;
    for (size_t i = 0; i < m->n_rows; i++) {
        if (name_holds(wkit_short_name(m->rows[i].entity), filter))
            m->rows[k++] = m->rows[i];
    }
    m->n_rows = k;
}

/* Whether "/" filters the view shown: the alerts or the sources list. */
static bool filters_view(const sr_screen *s)
{
    return s->view == VIEW_ALERTS || s->view == VIEW_SOURCES;
}

static alertview alerts_of(const sr_screen *s, const sr_alert *v, size_t n, int selected,
                           int scroll)
{
    return (alertview){.v = v,
                       .n = n,
                       .selected = selected,
                       .scroll = scroll,
                       .now = s->now,
                       .lay = s->lay,
                       .may_act = s->may_act,
                       .withheld = s->al_withheld};
}

/*
 * The rows of the alerts or the sources view that the filter lets through,
 * as the view names them (an alert's panel or entity, a source's name):
 * map[k] is the k-th shown row's index in the whole list (map holds room
 * for all). Returns how many. The selection (al_sel, src_sel) stays an
 * index into the whole list, so that acting on it needs no map.
 */
static size_t view_rows(const sr_screen *s, size_t *map)
{
    size_t n = s->view == VIEW_ALERTS ? s->n_alerts : s->srcl.n, k = 0;
    for (size_t i = 0; i < n; i++) {
        bool shown = !s->filter[0];
        if (!shown && s->view == VIEW_ALERTS) {
            alertview v = alerts_of(s, s->alerts, s->n_alerts, 0, 0);
            alertview_row r;
            alertview_format(&v, i, &r);
            shown = name_holds(r.panel, s->filter) || name_holds(r.entity, s->filter);
        } else if (!shown) {
            shown = name_holds(s->srcl.v[i].h.name, s->filter);
        }
        if (shown)
            map[k++] = i;
    }
    return k;
}

/* The position of the selection among the shown rows (0 when not shown). */
static int view_pos(const size_t *map, size_t k, int sel)
{
    for (size_t i = 0; i < k; i++) {
        if ((int)map[i] == sel)
            return (int)i;
    }
    return 0;
}

/* The filter of the alerts or sources view changed: the selection goes to
 * the first row shown. */
static void view_filtered(sr_screen *s)
{
    size_t n = s->view == VIEW_ALERTS ? s->n_alerts : s->srcl.n;
    size_t *map = malloc((n + 1) * sizeof *map);
    if (s->filter[0] && map && view_rows(s, map)) /* cleared: the selection stays */
        *(s->view == VIEW_ALERTS ? &s->al_sel : &s->src_sel) = (int)map[0];
    free(map);
    *(s->view == VIEW_ALERTS ? &s->al_scroll : &s->src_scroll) = 0;
    s->view_dirty = true;
}

/* Sets the filter of the rows (typing goes on or not): the rows shown
 * narrow at once, and the model is computed again for the rows a shorter
 * filter lets back. */
static void filter_set(sr_screen *s, const char *text)
{
    panel_state *p = filter_target(s);
    snprintf(s->filter, sizeof s->filter, "%s", text);
    if (filters_view(s))
        view_filtered(s);
    if (!p)
        return;
    filter_rows(s->filter, &p->m);
    p->selected = 0;
    p->scroll = 0;
    p->dirty = true;
    p->redraw = true;
}

/* Ends the filter before what it filtered changes (focus, drill-down, page,
 * view): the panel it narrowed has all its rows again. */
static void filter_clear(sr_screen *s)
{
    s->filtering = false;
    if (s->filter[0])
        filter_set(s, "");
}

/* A key while the filter is typed: text, Backspace, Enter keeps the
 * filter, Esc clears it; other keys (arrows, Tab) act as usual. */
static bool filter_key(sr_screen *s, int key)
{
    char text[sizeof s->filter];
    size_t n = strlen(s->filter);
    snprintf(text, sizeof text, "%s", s->filter);
    if (key == 27) {
        filter_clear(s);
    } else if (key == '\n' || key == '\r' || key == KEY_ENTER) {
        s->filtering = false;
    } else if (key == KEY_BACKSPACE || key == 127 || key == 8) {
        while (n > 0 && ((unsigned char)text[--n] & 0xC0) == 0x80)
            ; /* a UTF-8 character's continuation bytes go with it */
        text[n] = 0;
        filter_set(s, text);
    } else if (key >= ' ' && key < 256 && key != 127) {
        if (n + 1 < sizeof text) {
            text[n] = (char)key;
            text[n + 1] = 0;
            filter_set(s, text);
        }
    } else {
        return false;
    }
    s->all_dirty = true; /* the hint line shows it */
    return true;
}

void sr_screen_job_done(sr_screen *s, sr_screen_job *j)
{
    panel_state *p = j->drill ? &s->drill_ps : &s->ps[j->panel];
    s->n_jobs--;
    p->busy = false;
    p->redraw = true;
    if (!j->ran || j->gen != s->gen) {
        /* never ran, or computed for what the panel no longer shows */
        p->dirty = true;
        sr_panel_model_fini(&j->m);
        free(j);
        return;
    }
    sr_panel_model_fini(&p->m);
    p->m = j->m;
    if (p == filter_target(s))
        filter_rows(s->filter, &p->m);
    p->pr = j->pr;
    p->rc = j->rc;
    s->cache_damaged_read = s->cache_damaged_read || j->rc == SR_ECORRUPT;
    p->computed = true;
    p->computes++;
    if (s->lay->privacy)
        audit_view(s, p, &s->lay->panels[j->panel], j->entity);
    free(j);
}

void sr_screen_set_async(sr_screen *s, sr_screen_submit_fn submit, void *ctx)
{
    s->submit = submit;
    s->submit_ctx = ctx;
}

size_t sr_screen_jobs(const sr_screen *s)
{
    return s->n_jobs;
}

/* Starts computing panel li's model (or the drill view's) unless a job
 * already does: now, or on a worker when the screen is asynchronous. */
static void compute(sr_screen *s, size_t li, bool drill, const char *entity, unsigned wants,
                    size_t n_series)
{
    panel_state *p = drill ? &s->drill_ps : &s->ps[li];
    if (p->busy)
        return; /* computed again when it lands: dirty stays set */
    p->dirty = false;
    sr_screen_job *j = job_make(s, li, drill, entity, wants, n_series);
    if (!j)
        return; /* the last model stays */
    p->busy = true;
    s->n_jobs++;
    if (s->submit) {
        s->submit(s->submit_ctx, j);
        return;
    }
    sr_screen_job_run(j, s->st);
    sr_screen_job_done(s, j);
}

/* Draws the line saying what the role's policy hid, if anything, at row y
 * of w; returns whether it drew one. */
static bool draw_hidden(sr_screen *s, WINDOW *w, int y, const panel_state *p)
{
    char line[512];
    if (!s->lay->privacy)
        return false;
    if (p->pr.entity_hidden) {
        char why[256];
        sr_privacy_why_text(s->lay->privacy, p->pr.why, 0, why, sizeof why);
        snprintf(line, sizeof line, "hidden: %s", why);
    } else {
        sr_privacy_hidden_text(s->lay->privacy, &p->pr, line, sizeof line);
    }
    if (!line[0])
        return false;
    sr_tui_put(w, y, 0, getmaxx(w), sr_role_attr(SR_ROLE_DIM), line);
    return true;
}

/* ---- drawing ---- */

/* Appends piece to buf, after the separator when buf holds something. */
static void note_add(char *buf, size_t len, const char *piece)
{
    size_t l = strlen(buf);
    if (l < len) {
        const char *dot = sr_glyphs_get()->dot;
        snprintf(buf + l, len - l, "%s%s%s%s", l ? " " : "", l ? dot : "", l ? " " : "", piece);
    }
}

/*
 * What a panel's frame says on the right of its top border (" 8h ",
 * " 8h · stale 12m ", " 24h · no data ", " 8h · updating "): the window
 * the panel shows, and the age of its newest data only when the panel is
 * stale, measured from where the windows end. "" without a panel.
 */
static void frame_note(const sr_screen *s, const panel_state *p, bool stale, char *buf, size_t len)
{
    buf[0] = 0;
    if (!p)
        return;
    char piece[48];
    if (p->computed && p->m.to_ms > p->m.from_ms) {
        sr_format_window(p->m.to_ms - p->m.from_ms, piece, sizeof piece);
        note_add(buf, len, piece);
    }
    if (p->computed && p->m.newest_ms > 0 && stale) {
        char a[32];
        sr_format_age(view_end(s) - p->m.newest_ms, a, sizeof a);
        snprintf(piece, sizeof piece, "stale %s", a);
        note_add(buf, len, piece);
    } else if (p->computed && p->m.newest_ms <= 0 && !s->loading[0]) {
        note_add(buf, len, "no data");
    }
    if (p->busy)
        note_add(buf, len, "updating");
    size_t l = strlen(buf);
    if (l && l + 3 <= len) { /* a space either side, off the border */
        memmove(buf + 1, buf, l);
        buf[0] = buf[l + 1] = ' ';
        buf[l + 2] = 0;
    }
}

static void draw_frame(sr_screen *s, WINDOW *w, const char *title, const panel_state *p,
                       bool focused, bool stale)
{
    const sr_glyphs *g = sr_glyphs_get();
    int h, wd;
    getmaxyx(w, h, wd);
    attr_t border = sr_role_attr(focused ? SR_ROLE_FOCUS : SR_ROLE_BORDER);
    wkit_line(w, 0, 1, wd - 2, false, border, g->hline);
    wkit_line(w, h - 1, 1, wd - 2, false, border, g->hline);
    wkit_line(w, 1, 0, h - 2, true, border, g->vline);
    wkit_line(w, 1, wd - 1, h - 2, true, border, g->vline);
    wkit_glyph(w, 0, 0, border, g->ul);
    wkit_glyph(w, 0, wd - 1, border, g->ur);
    wkit_glyph(w, h - 1, 0, border, g->ll);
    wkit_glyph(w, h - 1, wd - 1, border, g->lr);
    /* on the right of the top border: the window, how old the data is when
     * it is late, and while a job computes the panel again a quiet "updating" */
    char age[96] = "";
    frame_note(s, p, stale, age, sizeof age);
    int aw = sr_tui_width(age);
    int room = wd - 4 - (aw > 0 ? aw + 1 : 0);
    if (room > 2) {
        char cut[512];
        sr_tui_fit_title(title, p ? p->short_title : NULL, room - 1, cut, sizeof cut);
        mvwaddstr(w, 0, 1, " ");
        int tw = sr_tui_put(w, 0, 2, room - 1,
                            sr_role_attr(focused ? SR_ROLE_FOCUS : SR_ROLE_TITLE), cut);
        mvwaddstr(w, 0, 2 + tw, " ");
    }
    if (aw > 0 && wd - 1 - aw > 2)
        sr_tui_put(w, 0, wd - 1 - aw, aw, sr_role_attr(stale ? SR_ROLE_STALE : SR_ROLE_DIM), age);
}

static bool sources_stale(const sr_screen *s)
{
    return s->src.total > 0 && s->src.live == 0;
}

/* How far behind now the newest data of a source that answers may be, on
 * top of its late limit, before it is called behind: events arrive after
 * the time they carry, and hourly or daily figures carry their hour or
 * day; an export that ended long ago is days, months, years behind. */
#define SR_SOURCE_BEHIND_MS SR_MS_DAY

/*
 * Over the panel's sources: the longest time their data may lag before it
 * is late (sr_source_late_after(), 0 when none is known) into *after, and
 * whether, at now, one of them answers but brings nothing new: the newest
 * sample it has ever written is more than SR_SOURCE_BEHIND_MS past that
 * (an old export).
 */
static bool panel_sources_behind(const sr_screen *s, const panel_state *p, sr_ms *after)
{
    bool behind = false;
    *after = 0;
    for (size_t i = 0; i < p->m.n_sources; i++) {
        for (size_t k = 0; k < s->srcl.n; k++) {
            const sr_source_health *h = &s->srcl.v[k].h;
            if (strcmp(p->m.sources[i], h->name) != 0)
                continue;
            sr_ms a = sr_source_late_after(h);
            if (a > *after)
                *after = a;
            if (a > 0 && h->newest_ms > 0 && s->now - h->newest_ms > a + SR_SOURCE_BEHIND_MS)
                behind = true;
        }
    }
    return behind;
}

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
static bool panel_stale(const sr_screen *s, const panel_state *p)
{
    sr_ms after = 0;
    bool behind = p->computed && panel_sources_behind(s, p, &after);
    if (p->computed && p->m.newest_ms > 0) {
        if (view_end(s) - p->m.newest_ms > p->m.to_ms - p->m.from_ms + after)
            return true;
    }
    if (s->end_ms)
        return false;
    if (behind)
        return true;
    if (s->end_ms)
        return false;
    if (!p->computed || p->m.n_sources == 0)
        return sources_stale(s);
    for (size_t i = 0; i < p->m.n_sources; i++) {
        for (size_t k = 0; k < s->src.n_late; k++) {
            if (s->src.late[k] && strcmp(p->m.sources[i], s->src.late[k]) == 0)
                return true;
        }
    }
    return false;
}

/* What a panel never computed yet says while its first job runs. */
static void draw_placeholder(sr_screen *s, WINDOW *w)
{
    sr_tui_put(w, 0, 0, getmaxx(w), sr_role_attr(SR_ROLE_DIM),
               s->loading[0] ? s->loading : "updating");
}

static void draw_panel(sr_screen *s, size_t li, int idx)
{
    panel_state *p = &s->ps[li];
    const sr_tui_panel *tp = &s->lay->panels[li];
    if (!p->frame)
        return;
    const sr_widget_class *wc = widget_of(tp);
    int ih, iw;
    getmaxyx(p->inner, ih, iw);
    if (p->dirty || !p->computed)
        compute(s, li, false, panel_entity(s, tp), wc->wants | SR_PANEL_SERIES,
                (size_t)(iw > 0 ? iw : 2));
    p->redraw = false;
    werase(p->frame);
    bool focused = !s->wall && idx == s->focus;
    bool stale = panel_stale(s, p);
    char title[512];
    if (s->mode == LAYOUT_SINGLE) /* one at a time: which one of how many */
        snprintf(title, sizeof title, "%d/%zu %s", idx + 1, cur_page(s)->n_panels, tp->title);
    else
        snprintf(title, sizeof title, "%s", tp->title);
    draw_frame(s, p->frame, title, p, focused, stale);
    sr_view v = {.m = &p->m,
                 .title = tp->title,
                 .focused = focused,
                 .stale = stale,
                 .timezone = s->lay->timezone,
                 .scroll = p->scroll,
                 .selected = focused ? p->selected : -1,
                 .big = s->wall,
                 .empty = s->loading[0] ? s->loading : NULL,
                 .alert = panel_alert(s, tp)};
    werase(p->inner);
    if (ih > 0 && iw > 0) {
        bool hidden = p->pr.rows_personal + p->pr.rows_deep > 0;
        if (!p->computed) {
            draw_placeholder(s, p->inner);
        } else if (p->rc == SR_ENOENT && !p->m.def) {
            sr_tui_put(p->inner, 0, 0, iw, sr_role_attr(SR_ROLE_DIM), "no such metric or entity");
        } else if (p->pr.entity_hidden) {
            draw_hidden(s, p->inner, 0, p);
        } else if (hidden && p->m.n_rows == 0) {
            /* every row hidden: the entity's own value, and why no rows */
            sr_draw_value(p->inner, 0, 0, iw, &v);
            if (ih >= 2)
                draw_hidden(s, p->inner, 1, p);
        } else if (hidden && ih >= 2) {
            /* the widget above, what was hidden and why on the last line */
            WINDOW *top = derwin(p->inner, ih - 1, iw, 0, 0);
            if (top) {
                wc->draw(top, &v);
                delwin(top);
            }
            draw_hidden(s, p->inner, ih - 1, p);
        } else {
            wc->draw(p->inner, &v);
        }
    }
    wnoutrefresh(p->frame);
}

/* Whether a panel of the page is on the screen: every one in the compact
 * list, else those the layout gave windows (one in LAYOUT_SINGLE). */
static bool panel_shown(const sr_screen *s, const panel_state *p)
{
    return s->mode == LAYOUT_LIST || p->frame;
}

/*
 * LAYOUT_LIST: a line per panel of the page, the title on the left (the
 * focused one selected), the value and status on the right; scrolled so
 * that the focused panel is on the screen.
 */
static void draw_list(sr_screen *s)
{
    WINDOW *w = s->list;
    if (!w)
        return;
    const sr_tui_page *pg = cur_page(s);
    int n = (int)pg->n_panels, h, wd;
    getmaxyx(w, h, wd);
    if (s->focus < s->list_scroll)
        s->list_scroll = s->focus;
    if (s->focus >= s->list_scroll + h)
        s->list_scroll = s->focus - h + 1;
    int tw = 0; /* the titles' column */
    for (int i = 0; i < n; i++) {
        int t = sr_tui_width(s->lay->panels[pg->panels[i]].title);
        tw = t > tw ? t : tw;
    }
    if (tw > wd / 2)
        tw = wd / 2;
    werase(w);
    for (int i = s->list_scroll; i < n && i - s->list_scroll < h; i++) {
        size_t li = pg->panels[i];
        panel_state *p = &s->ps[li];
        const sr_tui_panel *tp = &s->lay->panels[li];
        int y = i - s->list_scroll;
        if (p->dirty || !p->computed)
            compute(s, li, false, panel_entity(s, tp), widget_of(tp)->wants, 2);
        p->redraw = false;
        bool focused = i == s->focus;
        char cut[512];
        sr_tui_fit_title(tp->title, tp->short_title, tw, cut, sizeof cut);
        sr_tui_put(w, y, 0, tw, sr_role_attr(focused ? SR_ROLE_SELECTED : SR_ROLE_TITLE), cut);
        WINDOW *r = derwin(w, 1, wd - tw - 1, y, tw + 1);
        if (!r)
            continue;
        sr_view v = {.m = &p->m,
                     .title = tp->title,
                     .focused = focused,
                     .stale = panel_stale(s, p),
                     .timezone = s->lay->timezone,
                     .selected = -1,
                     .empty = s->loading[0] ? s->loading : NULL};
        if (!p->computed)
            draw_placeholder(s, r);
        else if (p->pr.entity_hidden)
            sr_tui_put(r, 0, 0, getmaxx(r), sr_role_attr(SR_ROLE_DIM), "hidden");
        else if (p->rc == SR_ENOENT && !p->m.def)
            sr_tui_put(r, 0, 0, getmaxx(r), sr_role_attr(SR_ROLE_DIM), "no such metric");
        else
            sr_draw_value_status(r, 0, getmaxx(r), &v);
        delwin(r);
    }
    wnoutrefresh(w);
}

/*
 * The pages by name at the left of the hint line ("1 Overview  2 Response
 * times"), the current one selected, in at most max_cols columns: when
 * they do not all fit, the current one alone ("2/3 Response times").
 * Returns the columns taken.
 */
static int draw_page_names(const sr_screen *s, WINDOW *w, int max_cols)
{
    char name[SR_LABEL_MAX + 16];
    int total = 1;
    for (size_t i = 0; i < s->lay->n_pages && i < 9; i++) {
        snprintf(name, sizeof name, " %zu %s ", i + 1, s->lay->pages[i].title);
        total += sr_tui_width(name) + 1;
    }
    if (s->lay->n_pages < 2 || max_cols < 8)
        return 0;
    attr_t sel = sr_role_attr(SR_ROLE_SELECTED), dim = sr_role_attr(SR_ROLE_DIM);
    int x = 1;
    if (total > max_cols) {
        snprintf(name, sizeof name, " %d/%zu %s ", s->page + 1, s->lay->n_pages,
                 cur_page(s)->title);
        return x + sr_tui_put(w, 0, x, max_cols - x, sel, name);
    }
    for (size_t i = 0; i < s->lay->n_pages && i < 9; i++) {
        snprintf(name, sizeof name, " %zu %s ", i + 1, s->lay->pages[i].title);
        x += sr_tui_put(w, 0, x, max_cols - x, (int)i == s->page ? sel : dim, name) + 1;
    }
    return x;
}

static void draw_status(sr_screen *s)
{
    const sr_glyphs *g = sr_glyphs_get();
    WINDOW *w = s->status;
    int wd = getmaxx(w);
    attr_t a = sr_role_attr(SR_ROLE_STATUSBAR);
    wbkgdset(w, ' ' | a);
    werase(w);
    /* where: title › page › drill path */
    char where[768];
    snprintf(where, sizeof where, " SITREP %s %s%s%s", g->dot, s->lay->title, g->sep,
             cur_page(s)->title);
    const char *base = s->root[0] ? s->root : "";
    if (s->root[0]) {
        strncat(where, g->sep, sizeof where - strlen(where) - 1);
        strncat(where, base, sizeof where - strlen(where) - 1);
    }
    for (int i = 0; s->view == VIEW_PANELS && i < s->depth; i++) {
        if (!s->drill[i][0])
            continue;
        const char *seg = strrchr(s->drill[i], '/');
        strncat(where, g->sep, sizeof where - strlen(where) - 1);
        strncat(where, seg ? seg + 1 : s->drill[i], sizeof where - strlen(where) - 1);
    }
    if (s->view != VIEW_PANELS) {
        strncat(where, g->sep, sizeof where - strlen(where) - 1);
        strncat(where, s->view == VIEW_ALERTS ? "Alerts" : "Sources",
                sizeof where - strlen(where) - 1);
    }
    if (s->view == VIEW_REJECTS) {
        strncat(where, g->sep, sizeof where - strlen(where) - 1);
        strncat(where, s->rj_source, sizeof where - strlen(where) - 1);
        strncat(where, g->sep, sizeof where - strlen(where) - 1);
        strncat(where, "rejected rows", sizeof where - strlen(where) - 1);
    }
    /* right side: the clock (or, when the windows do not end now, HISTORY
     * and where they end, with the date), a window set for all panels, the
     * alerts, the sources */
    sr_civil c;
    char clock[64] = "", clock_short[64] = "";
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    bool history = s->end_ms != 0;
    if (sr_utc_to_local(s->lay->timezone, history ? s->end_ms : s->now, &c) == 0) {
        if (history) {
            snprintf(clock, sizeof clock, " to %s %d %s %d %02d:%02d", days[c.wday % 7], c.mday,
                     mons[(c.mon + 11) % 12], c.year, c.hour, c.min);
            snprintf(clock_short, sizeof clock_short, " %d %s %d %02d:%02d", c.mday,
                     mons[(c.mon + 11) % 12], c.year, c.hour, c.min);
        } else {
            snprintf(clock, sizeof clock, "%s %02d %s %02d:%02d:%02d", days[c.wday % 7], c.mday,
                     mons[(c.mon + 11) % 12], c.hour, c.min, c.sec);
            snprintf(clock_short, sizeof clock_short, "%02d:%02d:%02d", c.hour, c.min, c.sec);
        }
    }
    char win[64] = "";
    if (s->window_ms) { /* each panel's own window is in its frame */
        char d[16];
        sr_format_window(s->window_ms, d, sizeof d);
        snprintf(win, sizeof win, "all panels: last %s   ", d);
    }
    /* alerts, before the sources: the ones nobody has taken yet by severity
     * (a symbol and a word, never colour alone), then those acknowledged or
     * silenced, so that an acknowledgement anywhere shows here at once */
    int n_sev[2] = {0, 0}, n_acked = 0, n_silenced = 0; /* crit, warn */
    for (size_t i = 0; i < s->n_alerts; i++) {
        if (s->alerts[i].state == SR_ALERT_ACKED)
            n_acked++;
        else if (s->alerts[i].state == SR_ALERT_SILENCED)
            n_silenced++;
        else
            n_sev[s->alerts[i].severity == SR_STATUS_CRIT ? 0 : 1]++;
    }
    char al[96] = "";
    size_t l = 0;
    if (n_sev[0])
        l += (size_t)snprintf(al + l, sizeof al - l, "%s %d crit  ", g->crit, n_sev[0]);
    if (n_sev[1])
        l += (size_t)snprintf(al + l, sizeof al - l, "%s %d warn  ", g->warn, n_sev[1]);
    if (n_acked)
        l += (size_t)snprintf(al + l, sizeof al - l, "%d acked  ", n_acked);
    if (n_silenced)
        snprintf(al + l, sizeof al - l, "%d silenced  ", n_silenced);
    /* the sources: the symbol and colour of the worst state among them */
    char src[128], role[64] = "";
    if (s->src.role && !s->wall) /* a wall is read from afar: not who polls */
        snprintf(role, sizeof role, " %s %s", g->dot, s->src.role);
    const char *sym = s->src.failing ? g->crit : s->src.live < s->src.total ? g->warn : g->ok;
    attr_t src_a = s->src.failing               ? sr_role_attr(SR_ROLE_CRIT) | A_REVERSE
                   : s->src.live < s->src.total ? sr_role_attr(SR_ROLE_WARN) | A_REVERSE
                                                : a;
    /* the status bar gives up, in this order: the long clock, the window,
     * the role, the place (cut), the alerts, the sources; HISTORY goes last */
    for (int level = 0; level < 6; level++) {
        bool full = level < 1, with_win = level < 2, with_role = level < 3;
        snprintf(src, sizeof src, "%s %d/%d sources%s", sym, s->src.live, s->src.total,
                 with_role ? role : "");
        struct {
            const char *text;
            attr_t attr;
        } seg[] = {
            {sr_cache_damaged_note(s->cache_damaged_src || s->cache_damaged_read),
             sr_role_attr(SR_ROLE_CRIT) | A_REVERSE | A_BOLD},
            {history ? "HISTORY" : "", sr_role_attr(SR_ROLE_WARN) | A_REVERSE | A_BOLD},
            {full ? clock : clock_short, a},
            {"   ", a},
            {with_win ? win : "", a},
            {level < 4 ? al : "", a},
            {level < 5 ? src : "", src_a},
            {" ", a},
        };
        enum { N_SEG = sizeof seg / sizeof seg[0] };
        int rw = 0;
        for (size_t i = 0; i < N_SEG; i++)
            rw += sr_tui_width(seg[i].text);
        int ww = sr_tui_width(where);
        /* the place is cut only once the window and the role are gone */
        if (level < 5 && (level < 3 ? ww + rw + 2 > wd : rw + 1 > wd))
            continue;
        if (rw < wd)
            sr_tui_put(w, 0, 0, wd - rw - 1, a | A_BOLD, where);
        int x = wd - rw > 0 ? wd - rw : 0;
        for (size_t i = 0; i < N_SEG && x < wd; i++)
            x += sr_tui_put(w, 0, x, wd - x, seg[i].attr, seg[i].text);
        break;
    }
    wnoutrefresh(w);

    WINDOW *h = s->hints;
    if (s->wall) { /* nobody presses keys here: where the rotation stands instead */
        wbkgdset(h, ' ' | a);
        werase(h);
        sr_tui_put(h, 0, 1, getmaxx(h) - 1, a | A_BOLD, s->wall_text);
        wnoutrefresh(h);
        return;
    }
    werase(h);
    bool msg = s->msg[0] && s->now < s->msg_until_ms;
    int x = 0; /* the pages by name first (the grid); the keys in what they leave */
    if (!msg && !s->prompt && s->view == VIEW_PANELS && !s->depth)
        x = draw_page_names(s, h, getmaxx(h) - 16);
    /* the keys' names from the glyph set: "↵ drill down", or "Enter drill down" */
    const char *E = g->enter, *B = g->back, *A = g->arrows;
    char keys[256];
    if (s->view == VIEW_SOURCES)
        snprintf(keys, sizeof keys,
                 " ? help  %s select  %s rejected rows  s %s Esc close  1-9 pages  q quit", A, E,
                 B);
    else if (s->view == VIEW_REJECTS)
        snprintf(keys, sizeof keys,
                 " ? help  %s scroll  %s Esc back to the sources  s close  q quit", A, B);
    else if (s->view == VIEW_ALERTS)
        snprintf(keys, sizeof keys,
                 " ? help  %s select  %s acknowledge  m silence  a Esc close  s sources  q quit", A,
                 E);
    else if (s->depth)
        snprintf(keys, sizeof keys,
                 " ? help  %s down  %s up  %s select  + - zoom  [ ] shift  0 live  r re-root  a "
                 "alerts  s sources  q quit",
                 E, B, A);
    else
        snprintf(keys, sizeof keys,
                 " ? help  %s drill down  %s up  Tab/arrows move  + - zoom  [ ] shift  0 live  a "
                 "alerts  s sources  q quit",
                 E, B);
    if (s->view == VIEW_PANELS && getmaxx(h) - x < sr_tui_width(keys))
        snprintf(keys, sizeof keys,
                 " ? help  %s drill  %s up  Tab move  +- zoom  a alerts  s sources  q quit", E, B);
    const char *hint = keys;
    if (x > 0 && getmaxx(h) - x < sr_tui_width(hint))
        hint = " ? help  q quit";
    char prompt[SR_ALERT_NOTE_MAX + SR_ALERT_KEY_MAX + 128];
    if (s->prompt) {
        char key[64];
        sr_screen_text(s->prompt_key, 40, g->utf8, key, sizeof key);
        char d[32];
        sr_format_duration(s->prompt_for_ms, d, sizeof d);
        if (s->prompt_silence && !s->prompt_for_ms)
            snprintf(prompt, sizeof prompt,
                     " silence %s for (15m 1h 4h 8h ...; Enter confirms, Esc cancels): %s_", key,
                     s->prompt_text);
        else if (s->prompt_silence)
            snprintf(prompt, sizeof prompt,
                     " silence %s for %s, reason (Enter confirms, Esc cancels): %s_", key, d,
                     s->prompt_text);
        else
            snprintf(prompt, sizeof prompt,
                     " acknowledge %s, note (Enter confirms, Esc cancels): %s_", key,
                     s->prompt_text);
        hint = prompt;
        msg = true;
    } else if (s->filtering || (s->filter[0] && !msg)) {
        /* a message (an acknowledgement's outcome) shows over a kept filter */
        snprintf(prompt, sizeof prompt, " filter: %s%s  (%s)", s->filter, s->filtering ? "_" : "",
                 s->filtering ? "Enter keeps it, Esc clears it" : "Esc clears it");
        hint = prompt;
        msg = true;
    } else if (msg) {
        hint = s->msg;
    }
    sr_tui_put(h, 0, x, getmaxx(h) - x,
               msg ? sr_role_attr(SR_ROLE_ACCENT) : sr_role_attr(SR_ROLE_DIM), hint);
    wnoutrefresh(h);
}

/* The drill view: breakdown of the focused panel at the drilled entity. */
static void draw_drill(sr_screen *s)
{
    const sr_glyphs *g = sr_glyphs_get();
    panel_state *p = &s->drill_ps;
    const sr_tui_panel *tp = focused_panel(s);
    if (!tp || !p->frame)
        return;
    const char *entity = s->drill[s->depth - 1];
    int ih, iw;
    getmaxyx(p->inner, ih, iw);
    if (p->dirty || !p->computed)
        compute(s, (size_t)(tp - s->lay->panels), true, entity,
                SR_PANEL_SERIES | SR_PANEL_ROWS | SR_PANEL_ROW_SERIES | SR_PANEL_EVENTS,
                (size_t)(iw > 0 ? iw : 2));
    p->redraw = false;
    werase(p->frame);
    char title[512];
    char val[64];
    if (p->computed) {
        sr_format_masked(p->m.mask, p->m.c.now.value, p->m.def, p->m.agg, false, val, sizeof val);
        snprintf(title, sizeof title, "%s %s %s %s %s %s", tp->title, g->dot, entity, g->dot,
                 p->m.agg_name, val);
    } else {
        snprintf(title, sizeof title, "%s %s %s", tp->title, g->dot, entity);
    }
    draw_frame(s, p->frame, title, p, true, panel_stale(s, p));
    werase(p->inner);
    if (!p->computed) {
        draw_placeholder(s, p->inner);
        wnoutrefresh(p->frame);
        return;
    }
    sr_view v = {.m = &p->m,
                 .title = tp->title,
                 .focused = true,
                 .stale = panel_stale(s, p),
                 .timezone = s->lay->timezone,
                 .scroll = p->scroll,
                 .selected = p->selected,
                 .empty = s->loading[0] ? s->loading : NULL};
    WINDOW *area = p->inner;
    WINDOW *below = NULL;
    if (draw_hidden(s, p->inner, 0, p)) {
        /* what the role's policy hid, on the first line; the view below */
        if (p->pr.entity_hidden || ih < 2) {
            wnoutrefresh(p->frame);
            return;
        }
        below = derwin(p->inner, ih - 1, iw, 1, 0);
        if (below) {
            area = below;
            ih--;
        }
    }
    if (p->m.n_rows > 0 && !rows_empty(&p->m)) {
        /* the children worst first on top, the history chart below */
        int th = ih * 3 / 5;
        if (th > (int)p->m.n_rows + 2)
            th = (int)p->m.n_rows + 2;
        if (ih - th < 6 || th < 3)
            th = ih;
        WINDOW *top = derwin(area, th, iw, 0, 0);
        if (top) {
            sr_widget_table.draw(top, &v);
            delwin(top);
        }
        if (ih - th >= 4) {
            WINDOW *bot = derwin(area, ih - th, iw, th, 0);
            if (bot) {
                sr_widget_chart.draw(bot, &v);
                delwin(bot);
            }
        }
    } else {
        /* a leaf: the newest events (for events) or the history */
        int y = 0;
        if (p->m.n_events > 0) {
            sr_tui_put(area, y++, 0, iw, sr_role_attr(SR_ROLE_TITLE),
                       "latest observations (newest first)");
            for (size_t i = 0; i < p->m.n_events && y < ih; i++, y++) {
                const sr_panel_event *e = &p->m.events[i];
                sr_civil c;
                char when[40] = "";
                if (sr_utc_to_local(s->lay->timezone, e->ts_ms, &c) == 0)
                    snprintf(when, sizeof when, "%04d-%02d-%02d %02d:%02d:%02d", c.year, c.mon,
                             c.mday, c.hour, c.min, c.sec);
                char v2[64], line[512];
                sr_format_value(e->value, p->m.def, (sr_agg){SR_AGG_LAST, 0}, false, v2, sizeof v2);
                snprintf(line, sizeof line, "%s  %12s  %s", when, v2, e->key);
                sr_tui_put(area, y, 0, iw, sr_role_attr(SR_ROLE_NORMAL), line);
            }
        } else {
            sr_widget_chart.draw(area, &v);
        }
    }
    if (below)
        delwin(below);
    wnoutrefresh(p->frame);
}

/* ---- the sources view ---- */

static void rejects_clear(sr_screen *s)
{
    for (size_t i = 0; i < s->n_rj; i++) {
        free(s->rj[i].where);
        free(s->rj[i].raw);
        free(s->rj[i].reason);
    }
    free(s->rj);
    s->rj = NULL;
    s->n_rj = 0;
}

typedef struct {
    srcview_reject *v;
    size_t n, cap;
} reject_acc;

static char *dup_or_empty(const char *t)
{
    size_t n = t ? strlen(t) : 0;
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, t ? t : "", n);
        d[n] = 0;
    }
    return d;
}

static int take_reject(void *ctx, const sr_reject_row *r)
{
    reject_acc *a = ctx;
    if (sr_reserve(&a->v, &a->cap, a->n, sizeof *a->v))
        return SR_ENOMEM;
    srcview_reject *d = &a->v[a->n];
    d->ts_ms = r->ts_ms;
    d->where = r->where ? dup_or_empty(r->where) : NULL;
    d->raw = dup_or_empty(r->raw);
    d->reason = dup_or_empty(r->reason);
    if ((r->where && !d->where) || !d->raw || !d->reason) {
        free(d->where);
        free(d->raw);
        free(d->reason);
        return SR_ENOMEM;
    }
    a->n++;
    return 0;
}

/* The source shown in the rejects view, from the current list (NULL when gone). */
static const sr_source_info *rejects_source(const sr_screen *s)
{
    for (size_t i = 0; i < s->srcl.n; i++) {
        if (strcmp(s->srcl.v[i].h.name, s->rj_source) == 0)
            return &s->srcl.v[i];
    }
    return NULL;
}

/* (Re)reads the newest rejects of rj_source, newest first. */
static void rejects_load(sr_screen *s)
{
    rejects_clear(s);
    reject_acc a = {0};
    sr_store_rejects(s->st, s->rj_source, SR_REJECTS_SHOWN, take_reject, &a);
    for (size_t i = 0; i < a.n / 2; i++) { /* the store gives them oldest first */
        srcview_reject t = a.v[i];
        a.v[i] = a.v[a.n - 1 - i];
        a.v[a.n - 1 - i] = t;
    }
    s->rj = a.v;
    s->n_rj = a.n;
    s->rj_total = 0;
    sr_store_reject_count(s->st, s->rj_source, &s->rj_total);
    const sr_source_info *src = rejects_source(s);
    s->rj_seen = src ? src->h.rejected : -1;
    if (s->rj_sel >= (int)s->n_rj)
        s->rj_sel = s->n_rj ? (int)s->n_rj - 1 : 0;
}

static void draw_view(sr_screen *s)
{
    WINDOW *f = s->view_win.frame, *in = s->view_win.inner;
    if (!f || !in)
        return;
    werase(f);
    char title[SR_NAME_MAX + 64];
    if (s->view == VIEW_SOURCES) {
        snprintf(title, sizeof title, "Sources %s %zu/%zu live", sr_glyphs_get()->dot, s->srcl.live,
                 s->srcl.n_configured);
    } else if (s->view == VIEW_ALERTS) {
        snprintf(title, sizeof title, "Alerts %s %zu open", sr_glyphs_get()->dot, s->n_alerts);
    } else {
        snprintf(title, sizeof title, "Rejected rows %s %s", sr_glyphs_get()->dot, s->rj_source);
    }
    draw_frame(s, f, title, NULL, true, false);
    werase(in);
    if (filters_view(s) && s->filter[0]) {
        /* "/": the rows the filter lets through, the selection among them */
        bool al = s->view == VIEW_ALERTS;
        size_t n = al ? s->n_alerts : s->srcl.n;
        size_t *map = malloc((n + 1) * sizeof *map);
        sr_alert *av = al ? malloc((n + 1) * sizeof *av) : NULL;
        sr_source_info *sv = al ? NULL : malloc((n + 1) * sizeof *sv);
        if (map && (av || sv)) {
            size_t k = view_rows(s, map);
            for (size_t i = 0; i < k; i++) {
                if (al)
                    av[i] = s->alerts[map[i]];
                else
                    sv[i] = s->srcl.v[map[i]];
            }
            if (al) {
                alertview v = alerts_of(s, av, k, view_pos(map, k, s->al_sel), s->al_scroll);
                s->al_rows = alertview_draw(in, &v);
            } else {
                sr_source_list l = s->srcl;
                l.v = sv;
                l.n = k;
                srcview_sources v = {&l, view_pos(map, k, s->src_sel), s->src_scroll, s->now,
                                     s->lay->timezone};
                s->src_rows = srcview_draw_sources(in, &v);
            }
        }
        free(map);
        free(av);
        free(sv);
    } else if (s->view == VIEW_SOURCES) {
        srcview_sources v = {&s->srcl, s->src_sel, s->src_scroll, s->now, s->lay->timezone};
        s->src_rows = srcview_draw_sources(in, &v);
    } else if (s->view == VIEW_ALERTS) {
        alertview v = alerts_of(s, s->alerts, s->n_alerts, s->al_sel, s->al_scroll);
        s->al_rows = alertview_draw(in, &v);
    } else {
        const sr_source_info *src = rejects_source(s);
        if (src && src->h.rejected != s->rj_seen)
            rejects_load(s); /* new rejects since they were read */
        srcview_rejects v = {s->rj_source, s->rj,        s->n_rj,          s->rj_total,
                             s->rj_sel,    s->rj_scroll, s->lay->timezone, s->lay->privacy};
        s->rj_rows = srcview_draw_rejects(in, &v);
    }
    wnoutrefresh(f);
}

/*
 * The help's lines: the keys (from the bindings), what the symbols mean
 * (from the glyph set in use), the pages by name. A line is a key or a
 * symbol in the left column and what it means, wrapped in the right one.
 */
typedef struct {
    char left[64];
    char text[256];
} help_line;

static void help_add(help_line *out, size_t *n, size_t max, const char *left, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void help_add(help_line *out, size_t *n, size_t max, const char *left, const char *fmt, ...)
{
    if (*n >= max)
        return;
    snprintf(out[*n].left, sizeof out[*n].left, "%s", left);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out[*n].text, sizeof out[*n].text, fmt, ap);
    va_end(ap);
    (*n)++;
}

static size_t help_lines(const sr_screen *s, help_line *out, size_t max)
{
    const sr_glyphs *g = sr_glyphs_get();
    size_t n = 0, nk;
    const sr_key_help *kh = sr_screen_key_help(&nk);
    for (size_t i = 0; i < nk; i++)
        help_add(out, &n, max, kh[i].keys, "%s", kh[i].what);
    help_add(out, &n, max, "", "%s", "");
    char sym[64];
    snprintf(sym, sizeof sym, "%s %s %s", g->ok, g->warn, g->crit);
    help_add(out, &n, max, sym,
             "status OK, WARN, CRIT against the metric's thresholds (a symbol and a word, never "
             "colour alone)");
    snprintf(sym, sizeof sym, "%s %s %s", g->up, g->down, g->flat);
    help_add(out, &n, max, sym,
             "the change against the previous window: up, down, the same (coloured better or "
             "worse)");
    snprintf(sym, sizeof sym, "%s%s%s", g->block[8], g->vline, g->block[8]);
    help_add(out, &n, max, sym,
             "a gauge's mark where its warn and crit thresholds fall, in their colours");
    help_add(out, &n, max, "n<10", "a percentile of fewer than 10 observations, not shown");
    help_add(out, &n, max, "<5", "a count too small to show for the role's privacy policy");
    help_add(out, &n, max, "stale",
             "a source behind the panel is late or failing: its figures may be old");
    help_add(out, &n, max, "updating",
             "the panel's figures are being computed again; the last ones stay");
    help_add(out, &n, max, "", "%s", "");
    for (size_t i = 0; i < s->lay->n_pages && i < 9; i++) {
        char key[8];
        snprintf(key, sizeof key, "%zu", i + 1);
        help_add(out, &n, max, key, "page %s%s", s->lay->pages[i].title,
                 (int)i == s->page ? " (this page)" : "");
    }
    return n;
}

static void draw_help(sr_screen *s)
{
    help_line lines[64];
    size_t n = help_lines(s, lines, sizeof lines / sizeof lines[0]);
    int kw = 0; /* the left column */
    for (size_t i = 0; i < n; i++) {
        int w = sr_tui_width(lines[i].left);
        kw = w > kw ? w : kw;
    }
    int w = 96;
    if (w > COLS - 2)
        w = COLS - 2;
    int tx = 2 + kw + 2, tw = w - tx - 2; /* the text column: wrapped, never cut */
    if (tw < 10)
        return;
    int rows = 0;
    for (size_t i = 0; i < n; i++) {
        int r = sr_tui_put_wrapped(NULL, 0, 0, tw, 64, 0, lines[i].text);
        rows += r > 0 ? r : 1;
    }
    int h = rows + 4;
    if (h > LINES - 2)
        h = LINES - 2;
    if (h < 3)
        return;
    WINDOW *win = newwin(h, w, (LINES - h) / 2, (COLS - w) / 2);
    if (!win)
        return;
    werase(win);
    draw_frame(s, win, "Help", NULL, true, false);
    int y = 2;
    for (size_t i = 0; i < n && y < h - 1; i++) {
        sr_tui_put(win, y, 2, kw, sr_role_attr(SR_ROLE_ACCENT), lines[i].left);
        int r = sr_tui_put_wrapped(win, y, tx, tw, h - 1 - y, sr_role_attr(SR_ROLE_NORMAL),
                                   lines[i].text);
        y += r > 0 ? r : 1;
    }
    wnoutrefresh(win);
    delwin(win);
}

/* (Re)creates the windows of the current view. */
static void build_layout(sr_screen *s)
{
    for (size_t i = 0; i < s->lay->n_panels; i++)
        free_windows(&s->ps[i]);
    free_windows(&s->drill_ps);
    free_windows(&s->view_win);
    if (s->status)
        delwin(s->status);
    if (s->hints)
        delwin(s->hints);
    if (s->list)
        delwin(s->list);
    s->list = NULL;
    s->status = newwin(1, COLS, 0, 0);
    s->hints = newwin(1, COLS, LINES - 1, 0);
    /* the cursor is hidden: never spend bytes moving it back after an update */
    leaveok(s->status, TRUE);
    leaveok(s->hints, TRUE);
    int area_y = 1, area_h = LINES - 2, area_w = COLS;
    /* a view or the drill-down takes the whole area */
    panel_state *whole = s->view != VIEW_PANELS ? &s->view_win : s->depth > 0 ? &s->drill_ps : NULL;
    if (whole) {
        whole->frame = newwin(area_h, area_w, area_y, 0);
        if (whole->frame) {
            leaveok(whole->frame, TRUE);
            whole->inner = derwin(whole->frame, area_h - 2, area_w - 2, 1, 1);
        }
    } else {
        const sr_tui_page *pg = cur_page(s);
        int n = (int)pg->n_panels, cols;
        s->mode = page_shape(n, pg->columns, area_h, area_w, &cols);
        if (s->mode == LAYOUT_LIST) {
            s->list = newwin(area_h, area_w, area_y, 0);
            if (s->list)
                leaveok(s->list, TRUE);
        }
        for (int i = 0; i < n && s->mode != LAYOUT_LIST; i++) {
            int y = area_y, x = 0, h = area_h, w = area_w;
            if (s->mode == LAYOUT_GRID)
                grid_cell(n, cols, area_y, area_h, area_w, i, &y, &x, &h, &w);
            else if (i != s->focus)
                continue; /* LAYOUT_SINGLE: the focused panel takes the area */
            panel_state *p = &s->ps[pg->panels[i]];
            if (h < 3 || w < 4)
                continue;
            p->frame = newwin(h, w, y, x);
            if (p->frame) {
                leaveok(p->frame, TRUE);
                p->inner = derwin(p->frame, h - 2, w - 2, 1, 1);
            }
        }
    }
    s->layout_dirty = false;
    respec(s);
}

static void draw_too_small(void)
{
    erase();
    char msg[128];
    snprintf(msg, sizeof msg, "enlarge the terminal to at least %dx%d (now %dx%d)", SR_MIN_COLS,
             SR_MIN_LINES, COLS, LINES);
    sr_tui_put(stdscr, LINES / 2, 0, COLS, A_BOLD, msg);
    wnoutrefresh(stdscr);
}

void sr_screen_render(sr_screen *s, sr_ms now)
{
    s->now = now;
    if (COLS < SR_MIN_COLS || LINES < SR_MIN_LINES) {
        draw_too_small();
        doupdate();
        s->layout_dirty = true;
        s->drawn_second = now / 1000;
        return;
    }
    if (s->layout_dirty || !s->status) {
        if (s->all_dirty) {
            /* the whole screen changes: clear once, not per frame */
            erase();
            wnoutrefresh(stdscr);
        }
        build_layout(s);
    }
    if (s->all_dirty) {
        erase();
        wnoutrefresh(stdscr);
    }
    if (s->view != VIEW_PANELS) {
        draw_view(s); /* every render: its times are relative to now */
        s->view_dirty = false;
    } else if (s->depth > 0) {
        if (s->drill_ps.dirty || s->drill_ps.redraw || s->all_dirty)
            draw_drill(s);
    } else {
        const sr_tui_page *pg = cur_page(s);
        bool list = false;
        for (size_t i = 0; i < pg->n_panels; i++) {
            panel_state *p = &s->ps[pg->panels[i]];
            if (!panel_shown(s, p) || !(p->dirty || p->redraw || s->all_dirty))
                continue;
            if (s->mode == LAYOUT_LIST)
                list = true;
            else
                draw_panel(s, pg->panels[i], (int)i);
        }
        if (list)
            draw_list(s);
    }
    draw_status(s);
    if (s->help)
        draw_help(s);
    s->all_dirty = false;
    s->drawn_second = now / 1000;
    doupdate();
}

bool sr_screen_dirty(const sr_screen *s, sr_ms now)
{
    if (s->layout_dirty || s->all_dirty || now / 1000 != s->drawn_second)
        return true;
    if (s->view != VIEW_PANELS)
        return s->view_dirty;
    if (s->depth > 0)
        return s->drill_ps.dirty || s->drill_ps.redraw;
    const sr_tui_page *pg = cur_page(s);
    for (size_t i = 0; i < pg->n_panels; i++) {
        const panel_state *p = &s->ps[pg->panels[i]];
        if (panel_shown(s, p) && (p->dirty || p->redraw))
            return true;
    }
    return false;
}

void sr_screen_set_loading(sr_screen *s, int pct)
{
    char text[sizeof s->loading] = "";
    if (pct >= 0)
        snprintf(text, sizeof text, "loading history %d %%", pct > 100 ? 100 : pct);
    if (strcmp(text, s->loading) == 0)
        return;
    memcpy(s->loading, text, sizeof text);
    s->all_dirty = true;
}

void sr_screen_data_changed(sr_screen *s)
{
    for (size_t i = 0; i < s->lay->n_panels; i++)
        s->ps[i].dirty = true;
    s->drill_ps.dirty = true;
    s->view_dirty = true;
}

/* Whether a panel's figures come from metric's samples: its own metric, or
 * the numerator or denominator of its ratio. */
static bool panel_reads(const sr_screen *s, const sr_tui_panel *tp, const char *metric)
{
    if (strcmp(tp->spec.metric, metric) == 0)
        return true;
    const sr_metric_def *d = sr_catalog_find(s->lay->cat, tp->spec.metric);
    return d && d->kind == SR_KIND_RATIO &&
           (strcmp(d->numerator, metric) == 0 || strcmp(d->denominator, metric) == 0);
}

void sr_screen_metric_changed(sr_screen *s, const char *metric)
{
    for (size_t i = 0; i < s->lay->n_panels; i++) {
        if (panel_reads(s, &s->lay->panels[i], metric))
            s->ps[i].dirty = true;
    }
    const sr_tui_panel *tp = s->depth > 0 ? focused_panel(s) : NULL;
    if (tp && panel_reads(s, tp, metric))
        s->drill_ps.dirty = true;
}

void sr_screen_sources_changed(sr_screen *s)
{
    s->view_dirty = true;
}

bool sr_screen_reads_cache(const sr_screen *s)
{
    if (s->view != VIEW_PANELS)
        return true;
    if (s->submit)
        return false; /* the panels' models are computed by the jobs */
    if (s->layout_dirty || !s->status)
        return true;
    if (s->depth > 0)
        return s->drill_ps.dirty || !s->drill_ps.computed;
    const sr_tui_page *pg = cur_page(s);
    for (size_t i = 0; i < pg->n_panels; i++) {
        const panel_state *p = &s->ps[pg->panels[i]];
        if (panel_shown(s, p) && (p->dirty || !p->computed))
            return true;
    }
    return false;
}

size_t sr_screen_computes(const sr_screen *s, size_t panel)
{
    return panel < s->lay->n_panels ? s->ps[panel].computes : 0;
}

void sr_screen_set_source_list(sr_screen *s, const sr_source_list *l, const char *role)
{
    sr_source_info *copy = malloc((l->n + 1) * sizeof *copy);
    if (!copy)
        return;
    if (l->n)
        memcpy(copy, l->v, l->n * sizeof *copy);
    s->cache_damaged_src = sr_sources_cache_damaged(l); /* before the policy blanks errors */
    sr_privacy_sources(s->lay->privacy, copy, l->n);    /* errors may quote input data */
    sr_source_list_fini(&s->srcl);
    s->srcl = *l;
    s->srcl.v = copy;
    if (s->src_sel >= (int)l->n)
        s->src_sel = l->n ? (int)l->n - 1 : 0;
    s->view_dirty = true;

    const char *late[SR_LATE_MAX];
    sr_tui_sources src = {
        .live = (int)l->live, .total = (int)l->n_configured, .role = role, .late = late};
    for (size_t i = 0; i < l->n_configured && src.n_late < SR_LATE_MAX; i++) {
        if (l->v[i].state != SR_SOURCE_LIVE)
            late[src.n_late++] = l->v[i].h.name;
    }
    for (size_t i = 0; i < l->n_configured; i++)
        src.failing += l->v[i].state == SR_SOURCE_FAILING;
    sr_screen_set_sources(s, &src);
}

const sr_alert *sr_screen_alerts(const sr_screen *s, size_t *n)
{
    *n = s->n_alerts;
    return s->alerts;
}

void sr_screen_set_alerts(sr_screen *s, const sr_alert *a, size_t n)
{
    sr_alert *copy = malloc((n + 1) * sizeof *copy);
    if (!copy)
        return;
    if (n)
        memcpy(copy, a, n * sizeof *copy);
    /* the role's policy: alerts it may not see are withheld, and counted */
    s->al_withheld[0] = 0;
    if (s->lay->privacy) {
        size_t gone = 0;
        sr_priv_hide why;
        if (sr_privacy_alerts(s->st, s->lay->cat, s->lay->privacy, copy, &n, &gone, &why) != 0)
            n = 0; /* cannot be judged: none shown */
        sr_privacy_withheld_text(s->lay->privacy, why, gone, "alert", "withheld", s->al_withheld,
                                 sizeof s->al_withheld);
    }
    /* the selection stays on its alert when the list reorders */
    if (s->al_sel >= 0 && (size_t)s->al_sel < s->n_alerts) {
        for (size_t i = 0; i < n; i++) {
            if (strcmp(copy[i].key, s->alerts[s->al_sel].key) == 0) {
                s->al_sel = (int)i;
                break;
            }
        }
    }
    free(s->alerts);
    s->alerts = copy;
    s->n_alerts = n;
    if (s->al_sel >= (int)n)
        s->al_sel = n ? (int)n - 1 : 0;
    s->view_dirty = true;
    s->drawn_second = -1; /* the status bar counts them */
}

void sr_screen_set_alert_rights(sr_screen *s, bool may, const char *role)
{
    s->may_act = may;
    snprintf(s->role_name, sizeof s->role_name, "%s", role ? role : "");
}

bool sr_screen_take_alert_request(sr_screen *s, sr_screen_alert_request *out)
{
    if (s->n_req == 0)
        return false;
    *out = s->req[0];
    memmove(s->req, s->req + 1, (s->n_req - 1) * sizeof s->req[0]);
    s->n_req--;
    return true;
}

void sr_screen_set_end(sr_screen *s, sr_ms end_ms)
{
    s->end_ms = end_ms > 0 ? end_ms : 0;
    respec(s);
}

void sr_screen_set_sources(sr_screen *s, const sr_tui_sources *src)
{
    /* the late list is borrowed for the call: keep a copy */
    bool changed = src->live != s->src.live || src->total != s->src.total ||
                   src->n_late != s->n_late || src->failing != s->src.failing;
    for (size_t i = 0; !changed && i < src->n_late; i++)
        changed = strcmp(src->late[i], s->late_names[i]) != 0;
    s->src = *src;
    s->n_late = src->n_late < SR_LATE_MAX ? src->n_late : SR_LATE_MAX;
    for (size_t i = 0; i < s->n_late; i++) {
        snprintf(s->late_names[i], sizeof s->late_names[i], "%s", src->late[i]);
        s->late_ptrs[i] = s->late_names[i];
    }
    s->src.late = s->late_ptrs;
    s->src.n_late = s->n_late;
    if (changed)
        s->all_dirty = true; /* the frames' staleness: drawn again, not computed */
}

void sr_screen_resize_to(sr_screen *s, int rows, int cols)
{
    if (rows > 0 && cols > 0)
        resizeterm(rows, cols);
    sr_screen_resize(s);
}

sr_key_result sr_screen_input(sr_screen *s)
{
    int key;
    sr_key_result r = SR_KEY_NONE, k;
    while ((key = getch()) != ERR) {
        k = sr_screen_key(s, key);
        if (k == SR_KEY_QUIT)
            return k;
        if (k > r)
            r = k;
    }
    return r;
}

sr_key_result sr_screen_input_locked(sr_screen *s, const int *chord, size_t n, size_t *pos)
{
    int key;
    while ((key = getch()) != ERR) {
        if (key == KEY_RESIZE)
            sr_screen_resize(s);
        else if (sr_wall_chord_key(chord, n, pos, key))
            return SR_KEY_QUIT;
    }
    return SR_KEY_NONE;
}

void sr_screen_set_page(sr_screen *s, size_t page)
{
    if (page >= s->lay->n_pages || (page == (size_t)s->page && !s->depth && s->view == VIEW_PANELS))
        return;
    filter_clear(s);
    s->page = (int)page;
    s->focus = 0;
    s->depth = 0;
    s->view = VIEW_PANELS;
    s->layout_dirty = true;
    s->all_dirty = true;
}

void sr_screen_set_wall_text(sr_screen *s, const char *text)
{
    if (strcmp(text, s->wall_text) == 0)
        return;
    snprintf(s->wall_text, sizeof s->wall_text, "%s", text);
    s->drawn_second = -1; /* the bottom line is drawn with the status bar */
}

void sr_screen_set_message(sr_screen *s, const char *text, sr_ms until_ms)
{
    sr_screen_text(text, -1, s->flags & SR_SCREEN_UTF8, s->msg, sizeof s->msg);
    s->msg_until_ms = until_ms;
    s->drawn_second = -1; /* the hint line is drawn with the status bar */
}

sr_ms sr_screen_window_end(const sr_screen *s, sr_ms now)
{
    return s->end_ms ? s->end_ms : now;
}

void sr_screen_resize(sr_screen *s)
{
    s->layout_dirty = true;
    s->all_dirty = true;
}

/* ---- keys ---- */

static void set_focus(sr_screen *s, int f)
{
    int n = (int)cur_page(s)->n_panels;
    if (n == 0)
        return;
    f = ((f % n) + n) % n;
    if (f == s->focus)
        return;
    filter_clear(s);
    s->ps[page_panel(s, s->focus)].redraw = true;
    s->focus = f;
    s->ps[page_panel(s, s->focus)].redraw = true;
    if (s->mode == LAYOUT_SINGLE && !s->depth && s->view == VIEW_PANELS) {
        s->layout_dirty = true; /* the next panel takes the area */
        s->all_dirty = true;
    }
}

/* Moves the focus to the panel nearest in direction (dy, dx) on the grid. */
static void move_focus(sr_screen *s, int dy, int dx)
{
    const sr_tui_page *pg = cur_page(s);
    int n = (int)pg->n_panels;
    if (n == 0)
        return;
    int cols;
    if (page_shape(n, pg->columns, LINES - 2, COLS, &cols) != LAYOUT_GRID) {
        /* one panel at a time, or the list: up and left go back */
        set_focus(s, s->focus + (dy + dx > 0 ? 1 : -1));
        return;
    }
    int cy, cx, ch, cw;
    grid_cell(n, cols, 1, LINES - 2, COLS, s->focus, &cy, &cx, &ch, &cw);
    int best = -1;
    long best_d = 0;
    for (int i = 0; i < n; i++) {
        int y, x, h, w;
        grid_cell(n, cols, 1, LINES - 2, COLS, i, &y, &x, &h, &w);
        int ddy = (y + h / 2) - (cy + ch / 2), ddx = (x + w / 2) - (cx + cw / 2);
        if ((dy && (ddy * dy <= 0)) || (dx && (ddx * dx <= 0)))
            continue;
        long d = (long)ddy * ddy * (dx ? 4 : 1) + (long)ddx * ddx * (dy ? 4 : 1);
        if (best < 0 || d < best_d) {
            best = i;
            best_d = d;
        }
    }
    if (best >= 0)
        set_focus(s, best);
}

static bool list_key(sr_screen *s, panel_state *p, int key)
{
    const sr_tui_panel *tp = focused_panel(s);
    const sr_widget_class *wc = s->depth > 0 ? &sr_widget_table : (tp ? widget_of(tp) : NULL);
    if (!wc || !wc->key)
        return false;
    int rows = 0;
    if (p->inner) {
        rows = getmaxy(p->inner) - 1; /* less a header line */
        if (s->depth > 0 && (int)p->m.n_rows + 2 < rows)
            rows = (int)p->m.n_rows + 1;
    }
    sr_view v = {
        .m = &p->m, .focused = true, .scroll = p->scroll, .selected = p->selected, .rows = rows};
    bool used = wc->key(&v, key);
    if (used) {
        p->scroll = v.scroll;
        p->selected = v.selected;
        if (s->depth > 0)
            s->drill_ps.redraw = true;
        else
            p->redraw = true;
    }
    return used;
}

/* How long a refused drill-down's reason stays in the hint line. */
#define REFUSED_MESSAGE_MS (5 * SR_MS_SEC)

/* Says in the hint line why the view cannot go below entity. */
static void refuse_drill(sr_screen *s, const char *entity, sr_priv_hide why)
{
    char reason[256], msg[512];
    sr_privacy_why_text(s->lay->privacy, why, sr_privacy_level(entity) + 1, reason, sizeof reason);
    snprintf(msg, sizeof msg, " cannot drill below %s: %s", *entity ? entity : "the top", reason);
    sr_screen_set_message(s, msg, s->now + REFUSED_MESSAGE_MS);
}

/* Whether the role may open entity; says why not in the hint line. */
static bool may_open(sr_screen *s, const char *entity)
{
    const sr_privacy *pol = s->lay->privacy;
    sr_priv_hide h = pol ? sr_privacy_entity(pol, entity) : SR_PRIV_SHOWN;
    if (h == SR_PRIV_SHOWN)
        return true;
    char reason[256], msg[512];
    sr_privacy_why_text(pol, h, sr_privacy_level(entity), reason, sizeof reason);
    snprintf(msg, sizeof msg, " cannot open %s: %s", entity, reason);
    sr_screen_set_message(s, msg, s->now + REFUSED_MESSAGE_MS);
    return false;
}

static void drill_to(sr_screen *s, const char *entity)
{
    if (s->depth >= SR_DRILL_MAX || !may_open(s, entity))
        return;
    filter_clear(s);
    snprintf(s->drill[s->depth++], sizeof s->drill[0], "%s", entity);
    drill_forget(s);
    s->layout_dirty = true;
    s->all_dirty = true;
}

static void set_view(sr_screen *s, view_kind v)
{
    filter_clear(s);
    s->view = v;
    s->view_dirty = true;
    s->layout_dirty = true;
    s->all_dirty = true;
}

/* How long a refusal or a bad duration stays in the hint line. */
#define ALERT_MESSAGE_MS (6 * SR_MS_SEC)

/* Enter (a note) or m (a duration) on the selected alert: opens the hint
 * line's editor, or says why this role may not. */
static void alert_prompt(sr_screen *s, bool silence)
{
    if (s->al_sel < 0 || (size_t)s->al_sel >= s->n_alerts)
        return;
    if (!s->may_act) {
        char msg[160];
        snprintf(msg, sizeof msg, " not allowed: the role %s may not %s alerts (acknowledge = no)",
                 s->role_name[0] ? s->role_name : "default", silence ? "silence" : "acknowledge");
        sr_screen_set_message(s, msg, sr_now_ms() + ALERT_MESSAGE_MS);
        return;
    }
    s->prompt = true;
    s->prompt_silence = silence;
    s->prompt_for_ms = 0;
    snprintf(s->prompt_key, sizeof s->prompt_key, "%s", s->alerts[s->al_sel].key);
    snprintf(s->prompt_text, sizeof s->prompt_text, "%s", silence ? "1h" : "");
    s->drawn_second = -1;
}

/* A key while the hint line edits a note or a duration. */
static sr_key_result prompt_key(sr_screen *s, int key)
{
    s->drawn_second = -1; /* the hint line shows the text */
    size_t n = strlen(s->prompt_text);
    if (key == 27) {
        s->prompt = false;
        sr_screen_set_message(s, " cancelled", sr_now_ms() + ALERT_MESSAGE_MS / 2);
        return SR_KEY_HANDLED;
    }
    if (key == KEY_BACKSPACE || key == 127 || key == 8) {
        /* a whole character: its continuation bytes and its first */
        while (n > 0 && ((unsigned char)s->prompt_text[n - 1] & 0xC0) == 0x80)
            n--;
        if (n > 0)
            n--;
        s->prompt_text[n] = 0;
        return SR_KEY_HANDLED;
    }
    if (key == '\n' || key == '\r' || key == KEY_ENTER) {
        s->prompt = false;
        sr_screen_alert_request r = {.silence = s->prompt_silence, .for_ms = s->prompt_for_ms};
        snprintf(r.key, sizeof r.key, "%s", s->prompt_key);
        if (s->prompt_silence && !r.for_ms) {
            /* the duration given: the reason next, as an acknowledgement's note */
            if (sr_parse_duration(s->prompt_text, &r.for_ms) || r.for_ms <= 0) {
                char msg[SR_ALERT_NOTE_MAX + 96];
                snprintf(msg, sizeof msg,
                         " not a duration: '%s' (15m, 1h, 4h, 8h...); m to try again",
                         s->prompt_text);
                sr_screen_set_message(s, msg, sr_now_ms() + ALERT_MESSAGE_MS);
                return SR_KEY_HANDLED;
            }
            s->prompt = true;
            s->prompt_for_ms = r.for_ms;
            s->prompt_text[0] = 0;
            return SR_KEY_HANDLED;
        }
        snprintf(r.note, sizeof r.note, "%s", s->prompt_text);
        if (s->n_req == SR_ALERT_REQ_MAX)
            return SR_KEY_ALERT; /* the app has not taken the earlier ones yet */
        s->req[s->n_req++] = r;
        return SR_KEY_ALERT;
    }
    /* printable input only (bytes of UTF-8 characters included); room kept
     * for a whole character */
    if (((key >= 0x20 && key < 0x7f) || (key >= 0x80 && key <= 0xff)) &&
        n + 5 < sizeof s->prompt_text) {
        s->prompt_text[n] = (char)key;
        s->prompt_text[n + 1] = 0;
    }
    return SR_KEY_HANDLED;
}

/* A move key in the alerts or sources view: over the rows the filter lets
 * through, the selection (*sel, into the whole list) kept on one of them. */
static void view_move(sr_screen *s, int *sel, int *scroll, int rows, int key)
{
    size_t n = s->view == VIEW_ALERTS ? s->n_alerts : s->srcl.n;
    size_t *map = malloc((n + 1) * sizeof *map);
    if (!map)
        return;
    size_t k = view_rows(s, map);
    sr_view v = {.selected = view_pos(map, k, *sel), .scroll = *scroll, .rows = rows};
    if (k && wkit_list_key(&v, key, k)) {
        *sel = (int)map[v.selected];
        *scroll = v.scroll;
        s->view_dirty = true;
    }
    free(map);
}

/* A key in the alerts view; false when the panels should have it too. */
static bool alerts_action(sr_screen *s, action a, int key)
{
    switch (a) {
    case ACT_UP:
    case ACT_DOWN:
    case ACT_LEFT:
    case ACT_RIGHT: {
        view_move(s, &s->al_sel, &s->al_scroll, s->al_rows, key);
        return true;
    }
    case ACT_FILTER:
        s->filtering = true;
        s->all_dirty = true;
        return true;
    case ACT_ENTER:
    case ACT_SILENCE:
        alert_prompt(s, a == ACT_SILENCE);
        return true;
    case ACT_BACK:
        if (s->filter[0]) { /* Esc clears a filter first, as in htop */
            filter_clear(s);
            return true;
        }
        set_view(s, VIEW_PANELS);
        return true;
    case ACT_ALERTS:
        set_view(s, VIEW_PANELS);
        return true;
    case ACT_SOURCES:
        set_view(s, VIEW_SOURCES);
        return true;
    case ACT_PAGE:
        set_view(s, VIEW_PANELS);
        return false;
    default:
        return true;
    }
}

/* A key in the sources view or the rejects view; false when the panels
 * should have it too (a page key closes the view, then turns the page). */
static bool view_action(sr_screen *s, action a, int key)
{
    if (s->view == VIEW_ALERTS)
        return alerts_action(s, a, key);
    bool rejects = s->view == VIEW_REJECTS;
    switch (a) {
    case ACT_UP:
    case ACT_DOWN:
    case ACT_LEFT:
    case ACT_RIGHT: {
        if (!rejects) {
            view_move(s, &s->src_sel, &s->src_scroll, s->src_rows, key);
            return true;
        }
        sr_view v = {.selected = s->rj_sel, .scroll = s->rj_scroll, .rows = s->rj_rows};
        if (wkit_list_key(&v, key, s->n_rj)) {
            s->rj_sel = v.selected;
            s->rj_scroll = v.scroll;
            s->view_dirty = true;
        }
        return true;
    }
    case ACT_FILTER:
        if (!rejects) {
            s->filtering = true;
            s->all_dirty = true;
        }
        return true;
    case ACT_ENTER:
        if (!rejects && s->src_sel >= 0 && (size_t)s->src_sel < s->srcl.n) {
            snprintf(s->rj_source, sizeof s->rj_source, "%s", s->srcl.v[s->src_sel].h.name);
            s->rj_sel = 0;
            s->rj_scroll = 0;
            rejects_load(s);
            set_view(s, VIEW_REJECTS);
        }
        return true;
    case ACT_BACK:
        if (!rejects && s->filter[0]) { /* Esc clears a filter first */
            filter_clear(s);
            return true;
        }
        set_view(s, rejects ? VIEW_SOURCES : VIEW_PANELS);
        return true;
    case ACT_SOURCES:
        set_view(s, VIEW_PANELS);
        return true;
    case ACT_ALERTS:
        set_view(s, VIEW_ALERTS);
        return true;
    case ACT_PAGE:
        set_view(s, VIEW_PANELS);
        return false;
    default:
        return true; /* time and focus keys wait for the panels */
    }
}

static void do_action(sr_screen *s, action a, int key)
{
    if (s->view != VIEW_PANELS && view_action(s, a, key))
        return;
    const sr_tui_panel *tp = focused_panel(s);
    panel_state *fp = s->depth > 0 ? &s->drill_ps : (tp ? &s->ps[page_panel(s, s->focus)] : NULL);
    switch (a) {
    case ACT_QUIT:
    case ACT_HELP:
    case ACT_REPORT:
    case ACT_SILENCE: /* only in the alerts view */
        break;
    case ACT_FILTER:
        if (filter_target(s)) {
            s->filtering = true;
            s->all_dirty = true;
        }
        break;
    case ACT_PAGE: {
        int pg = key - '1';
        if (pg >= 0 && pg < (int)s->lay->n_pages && (pg != s->page || s->depth)) {
            filter_clear(s);
            s->page = pg;
            s->focus = 0;
            s->depth = 0;
            s->layout_dirty = true;
            s->all_dirty = true;
        }
        break;
    }
    case ACT_NEXT:
        if (!s->depth)
            set_focus(s, s->focus + 1);
        break;
    case ACT_PREV:
        if (!s->depth)
            set_focus(s, s->focus - 1);
        break;
    case ACT_LEFT:
    case ACT_RIGHT:
    case ACT_UP:
    case ACT_DOWN:
        if (fp && list_key(s, fp, key))
            break;
        if (!s->depth)
            move_focus(s,
                       a == ACT_UP     ? -1
                       : a == ACT_DOWN ? 1
                                       : 0,
                       a == ACT_LEFT    ? -1
                       : a == ACT_RIGHT ? 1
                                        : 0);
        break;
    case ACT_ENTER:
        if (!tp)
            break;
        if (s->depth == 0) {
            const char *e = panel_entity(s, tp);
            /* the whole tree of a single force: start at the force */
            int64_t *kids = NULL;
            size_t nk = 0;
            if (!*e && sr_store_entity_children(s->st, SR_ENTITY_ROOT, &kids, &nk) == 0 && nk == 1)
                e = sr_store_entity_path(s->st, kids[0]);
            free(kids);
            drill_to(s, e ? e : "");
        } else {
            panel_state *p = &s->drill_ps;
            bool rows = p->m.n_rows > 0 && !rows_empty(&p->m);
            if (rows && p->selected >= 0 && (size_t)p->selected < p->m.n_rows)
                drill_to(s, p->m.rows[p->selected].entity);
            else if (!rows && p->pr.rows_personal + p->pr.rows_deep > 0)
                refuse_drill(s, s->drill[s->depth - 1],
                             p->pr.rows_personal ? SR_PRIV_PERSONAL : SR_PRIV_TOO_DEEP);
        }
        break;
    case ACT_BACK:
        if (s->filter[0]) { /* Esc clears a filter first, as in htop */
            filter_clear(s);
            break;
        }
        if (s->depth > 0) {
            filter_clear(s);
            s->depth--;
            drill_forget(s);
            s->layout_dirty = true;
            s->all_dirty = true;
        }
        break;
    case ACT_ZOOM_IN:
    case ACT_ZOOM_OUT: {
        sr_ms cur = s->window_ms ? s->window_ms : (tp ? tp->spec.window_ms : SR_MS_HOUR * 8);
        size_t i = 0;
        while (i + 1 < N_ZOOM && zoom_levels[i] < cur)
            i++;
        if (a == ACT_ZOOM_IN) {
            if (zoom_levels[i] >= cur && i > 0)
                i--;
        } else if (zoom_levels[i] <= cur && i + 1 < N_ZOOM) {
            i++;
        }
        s->window_ms = zoom_levels[i];
        respec(s);
        break;
    }
    case ACT_SHIFT_BACK:
    case ACT_SHIFT_FWD: {
        /* the end is fixed from here on: a view of the past does not move */
        sr_ms step = s->window_ms ? s->window_ms : (tp ? tp->spec.window_ms : SR_MS_HOUR);
        if (a == ACT_SHIFT_BACK)
            s->end_ms = view_end(s) - step;
        else if (s->end_ms)
            s->end_ms = s->end_ms + step >= s->now ? 0 : s->end_ms + step;
        respec(s);
        break;
    }
    case ACT_LIVE:
        s->window_ms = 0;
        s->end_ms = 0;
        respec(s);
        break;
    case ACT_SOURCES:
        set_view(s, VIEW_SOURCES);
        break;
    case ACT_ALERTS:
        set_view(s, VIEW_ALERTS);
        break;
    case ACT_REROOT:
        if (s->root[0] && s->depth == 0)
            s->root[0] = 0;
        else if (s->depth > 0)
            snprintf(s->root, sizeof s->root, "%s", s->drill[s->depth - 1]);
        s->depth = 0;
        s->layout_dirty = true;
        s->all_dirty = true;
        break;
    }
}

/* The grid panel at screen position (y, x), or -1. */
static int panel_at(sr_screen *s, int y, int x)
{
    const sr_tui_page *pg = cur_page(s);
    for (size_t i = 0; i < pg->n_panels; i++) {
        const panel_state *p = &s->ps[pg->panels[i]];
        if (!p->frame)
            continue;
        int py, px, h, w;
        getbegyx(p->frame, py, px);
        getmaxyx(p->frame, h, w);
        if (y >= py && y < py + h && x >= px && x < px + w)
            return (int)i;
    }
    return -1;
}

static sr_ms monotonic_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (sr_ms)t.tv_sec * SR_MS_SEC + t.tv_nsec / 1000000;
}

/* A click focuses the panel under it (a double click drills into it), the
 * wheel moves the selection of the list under it; only on the grid, and
 * not while a prompt waits. A press closes the help like a key. */
static sr_key_result mouse_event(sr_screen *s, const sr_mouse_event *ev)
{
    if (s->help && ev->kind != SR_MOUSE_RELEASE && ev->kind != SR_MOUSE_DRAG) {
        s->help = false;
        s->all_dirty = true;
        return SR_KEY_HANDLED;
    }
    if (s->prompt || s->help || s->depth > 0 || s->view != VIEW_PANELS)
        return SR_KEY_HANDLED;
    int i = panel_at(s, ev->y, ev->x);
    if (i < 0)
        return SR_KEY_HANDLED;
    if (ev->kind == SR_MOUSE_PRESS && ev->button == 0) {
        set_focus(s, i);
        if (ev->double_click)
            do_action(s, ACT_ENTER, '\n');
    } else if (ev->kind == SR_MOUSE_WHEEL_UP || ev->kind == SR_MOUSE_WHEEL_DOWN) {
        set_focus(s, i);
        list_key(s, &s->ps[page_panel(s, i)], ev->kind == SR_MOUSE_WHEEL_UP ? KEY_UP : KEY_DOWN);
    }
    return SR_KEY_HANDLED;
}

sr_key_result sr_screen_key(sr_screen *s, int key)
{
    if (key == ERR)
        return SR_KEY_NONE;
    sr_mouse_event ev;
    switch (sr_mouse_feed(&s->mouse, key, monotonic_ms(), &ev)) {
    case SR_MOUSE_MORE:
        return SR_KEY_HANDLED;
    case SR_MOUSE_EVENT:
        return mouse_event(s, &ev);
    case SR_MOUSE_NOT_MINE:
        break;
    }
    if (s->filtering && !s->prompt && filter_key(s, key))
        return SR_KEY_HANDLED;
    if (s->prompt && key != KEY_RESIZE && key != KEY_MOUSE)
        return prompt_key(s, key);
    if (s->help) {
        s->help = false;
        s->all_dirty = true;
        return key == 'q' ? SR_KEY_QUIT : SR_KEY_HANDLED;
    }
    if (key == KEY_RESIZE) {
        sr_screen_resize(s);
        return SR_KEY_HANDLED;
    }
    if (key == KEY_MOUSE) {
        MEVENT unused; /* a report in a form sitrep did not ask for */
        getmouse(&unused);
        return SR_KEY_HANDLED;
    }
    for (size_t b = 0; b < sizeof bindings / sizeof bindings[0]; b++) {
        bool match = false;
        if (bindings[b].act == ACT_PAGE)
            match = key >= '1' && key <= '9';
        for (int k = 0; k < 4 && !match; k++)
            match = bindings[b].keys[k] && bindings[b].keys[k] == key;
        if (!match)
            continue;
        if (bindings[b].act == ACT_QUIT)
            return SR_KEY_QUIT;
        if (bindings[b].act == ACT_REPORT)
            return SR_KEY_REPORT;
        if (bindings[b].act == ACT_HELP) {
            s->help = true;
            s->drawn_second = -1; /* drawn at the next render, not the clock's next second */
            return SR_KEY_HANDLED;
        }
        do_action(s, bindings[b].act, key);
        return SR_KEY_HANDLED;
    }
    return SR_KEY_NONE;
}

/* ---- set-up ---- */

int sr_screen_theme_load(const char *name_or_path, const char *const *dirs, sr_theme **out,
                         char *err, size_t errlen)
{
    return sr_theme_load(name_or_path, dirs, out, err, errlen);
}

void sr_screen_theme_destroy(sr_theme *t)
{
    sr_theme_destroy(t);
}

static int screen_init(sr_screen *s, sr_store *st, const sr_tui_layout *lay, unsigned flags,
                       const sr_theme *theme, FILE *in, FILE *out, const char *term)
{
    s->st = st;
    s->lay = lay;
    s->flags = flags;
    s->may_act = true;
    s->in = in;
    s->out = out;
    s->ps = calloc(lay->n_panels + 1, sizeof *s->ps);
    if (!s->ps || lay->n_pages == 0)
        return SR_ENOMEM;
    for (size_t i = 0; i < lay->n_panels; i++)
        s->ps[i].short_title = lay->panels[i].short_title;
    s->scr = newterm(term, out, in);
    if (!s->scr)
        return SR_EIO;
    set_term(s->scr);
    sr_glyphs_select(flags & SR_SCREEN_UTF8);
    if (theme)
        sr_theme_apply(theme, -1, can_change_color(), !(flags & SR_SCREEN_COLOR));
    else
        sr_theme_init_default(flags & SR_SCREEN_COLOR);
    noecho();
    if (flags & SR_SCREEN_WALL)
        raw(); /* input is locked: the interrupt and suspend keys are keys too */
    else
        cbreak();
    s->wall = flags & SR_SCREEN_WALL;
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    leaveok(stdscr, TRUE);
    if ((flags & SR_SCREEN_MOUSE) && !(flags & SR_SCREEN_WALL)) {
        sr_mouse_enable(out);
        s->mouse_on = true;
    }
    s->layout_dirty = true;
    s->all_dirty = true;
    return 0;
}

int sr_screen_create(sr_store *st, const sr_tui_layout *lay, unsigned flags, const sr_theme *theme,
                     sr_screen **out)
{
    *out = NULL;
    sr_screen *s = calloc(1, sizeof *s);
    if (!s)
        return SR_ENOMEM;
    int rc = screen_init(s, st, lay, flags, theme, stdin, stdout, NULL);
    if (rc) {
        sr_screen_destroy(s);
        return rc;
    }
    active = s;
    *out = s;
    return 0;
}

void sr_screen_restore_terminal(void)
{
    if (active && active->scr && !active->headless) {
        set_term(active->scr);
        if (active->mouse_on)
            sr_mouse_disable(active->out);
        endwin();
    }
}

void sr_screen_destroy(sr_screen *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->ps && i < s->lay->n_panels; i++) {
        free_windows(&s->ps[i]);
        sr_panel_model_fini(&s->ps[i].m);
    }
    free_windows(&s->drill_ps);
    sr_panel_model_fini(&s->drill_ps.m);
    free_windows(&s->view_win);
    rejects_clear(s);
    sr_source_list_fini(&s->srcl);
    free(s->alerts);
    if (s->scr) {
        set_term(s->scr);
        if (s->status)
            delwin(s->status);
        if (s->hints)
            delwin(s->hints);
        if (s->list)
            delwin(s->list);
        if (s->mouse_on)
            sr_mouse_disable(s->out);
        endwin();
        delscreen(s->scr);
    }
    if (s->headless) {
        if (s->in)
            fclose(s->in);
        if (s->out)
            fclose(s->out);
    }
    if (active == s)
        active = NULL;
    free(s->ps);
    free(s);
}

char *sr_screen_text(const char *text, int max_cols, bool utf8, char *out, size_t outlen)
{
    sr_glyphs_select(utf8);
    return sr_tui_fit(text, max_cols, out, outlen);
}

void sr_screen_format_value(double v, const sr_metric_def *def, sr_agg agg, char *buf, size_t len)
{
    sr_format_value(v, def, agg, false, buf, len);
}

int sr_screen_create_headless(sr_store *st, const sr_tui_layout *lay, unsigned flags, int width,
                              int height, sr_screen **out)
{
    *out = NULL;
    sr_screen *s = calloc(1, sizeof *s);
    if (!s)
        return SR_ENOMEM;
    s->headless = true;
    FILE *in = fopen("/dev/null", "r"), *devnull = fopen("/dev/null", "w");
    int rc = in && devnull ? screen_init(s, st, lay, flags & ~(unsigned)SR_SCREEN_MOUSE, NULL, in,
                                         devnull, "xterm-256color")
                           : SR_EIO;
    if (rc) {
        if (!s->in && in)
            fclose(in);
        if (!s->out && devnull)
            fclose(devnull);
        sr_screen_destroy(s);
        return rc;
    }
    resizeterm(height, width);
    *out = s;
    return 0;
}

void sr_screen_write_text(sr_screen *s, bool hints, FILE *out)
{
    set_term(s->scr);
    int rows = s->hints && !hints ? LINES - 1 : LINES;
    for (int y = 0; y < rows; y++) {
        char line[8192];
        size_t used = 0;
        for (int x = 0; x < COLS && used + 8 < sizeof line; x++) {
            cchar_t c;
            if (mvwin_wch(curscr, y, x, &c) != OK)
                break;
            wchar_t wc[CCHARW_MAX + 1];
            attr_t attr;
            short pair;
            if (getcchar(&c, wc, &attr, &pair, NULL) == ERR || wc[0] == 0)
                continue; /* the second cell of a wide character */
            for (int k = 0; wc[k] && used + 8 < sizeof line; k++) {
                char mb[8];
                int n = wctomb(mb, wc[k]);
                if (n <= 0) {
                    line[used++] = '?';
                } else {
                    memcpy(line + used, mb, (size_t)n);
                    used += (size_t)n;
                }
            }
        }
        while (used > 0 && line[used - 1] == ' ')
            used--;
        line[used] = 0;
        fprintf(out, "%s\n", line);
    }
}

int sr_screen_render_text(sr_store *st, const sr_tui_layout *lay, const char *page, int width,
                          int height, bool utf8, sr_ms now, FILE *out)
{
    int pg = 0;
    if (page) {
        pg = -1;
        for (size_t i = 0; i < lay->n_pages; i++) {
            if (strcmp(lay->pages[i].name, page) == 0)
                pg = (int)i;
        }
        if (pg < 0)
            return SR_ENOENT;
    }
    sr_screen *s;
    int rc = sr_screen_create_headless(st, lay, utf8 ? SR_SCREEN_UTF8 : 0, width, height, &s);
    if (rc)
        return rc;
    s->page = pg;
    if (now < sr_now_ms() - SR_MS_MIN)
        s->end_ms = now;
    /* one snapshot of the cache for every panel (as a screen's jobs have) */
    bool in_read = sr_store_read_begin(st) == 0;
    /* the configured sources as the cache has them, at now */
    sr_source_list l;
    if (sr_sources_read(st, lay->sources, lay->n_sources, now, &l) == 0) {
        sr_screen_set_source_list(s, &l, NULL);
        sr_source_list_fini(&l);
    }
    sr_screen_render(s, now);
    if (in_read)
        sr_store_read_end(st);
    /* the key hints of the last line are for a person at the keyboard: left out */
    sr_screen_write_text(s, false, out);
    bool damaged = s->cache_damaged_read; /* its panels show no figure, its status bar says so */
    sr_screen_destroy(s);
    return damaged ? SR_ECORRUPT : 0;
}
