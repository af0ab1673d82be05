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
#include "screen_int.h"

static sr_screen *active; /* for sr_screen_restore_terminal on a fatal path */

/* ---- helpers ---- */

const sr_tui_page *scr_cur_page(const sr_screen *s)
{
    return &s->lay->pages[s->page];
}

size_t scr_page_panel(const sr_screen *s, int i)
{
    return scr_cur_page(s)->panels[i];
}

const sr_tui_panel *scr_focused_panel(const sr_screen *s)
{
    if (scr_cur_page(s)->n_panels == 0)
        return NULL;
    return &s->lay->panels[scr_page_panel(s, s->focus)];
}

const sr_widget_class *scr_widget_of(const sr_tui_panel *p)
{
    const sr_widget_class *w = sr_widget_find(p->widget);
    return w ? w : &sr_widget_tile;
}

/* The entity a panel shows now: drilled, re-rooted, or as configured. */
const char *scr_panel_entity(const sr_screen *s, const sr_tui_panel *p)
{
    if (s->root[0])
        return s->root;
    return p->spec.entity ? p->spec.entity : "";
}

static sr_ms panel_window(const sr_screen *s, const sr_tui_panel *p)
{
    return s->window_ms ? s->window_ms : p->spec.window_ms;
}

sr_alert_state scr_panel_alert(const sr_screen *s, const sr_tui_panel *p, sr_alert_kind k)
{
    const sr_metric_def *d = s->lay->cat ? sr_catalog_find(s->lay->cat, p->spec.metric) : NULL;
    char key[SR_ALERT_KEY_MAX];
    sr_ms win = panel_window(s, p);
    const char *ent = scr_panel_entity(s, p);
    if (!d ||
        (k == SR_ALERT_UNUSUAL ? sr_alert_key_unusual(d, p->spec.agg, win, ent, key, sizeof key)
                               : sr_alert_key_for(d, p->spec.agg, win, ent, key, sizeof key)))
        return SR_ALERT_OK;
    for (size_t i = 0; i < s->n_alerts; i++)
        if (strcmp(s->alerts[i].key, key) == 0)
            return s->alerts[i].state;
    return SR_ALERT_OK;
}

/* Where the windows end: the fixed end of a view of the past, or now. Ages
 * and staleness are measured from here, so that history stands still. */
sr_ms scr_view_end(const sr_screen *s)
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
void scr_respec(sr_screen *s)
{
    s->gen++;
    mark_all(s);
}

/* The drill view moves to another entity: the last one's model is not
 * drawn under the new one's name (a placeholder until the new one lands). */
void scr_drill_forget(sr_screen *s)
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
layout_mode scr_page_shape(int n, int cols_wanted, int area_h, int area_w, int *cols_out)
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
void scr_grid_cell(int n, int cols, int area_y, int area_h, int area_w, int i, int *y, int *x,
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
bool scr_rows_empty(const sr_panel_model *m)
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
    if (drill && s->sort_unusual)
        j->spec.baseline = true; /* "u": each row against its normal */
    j->to = scr_view_end(s);
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
    /* as the role may see it: the one path of every output (metrics/privacy.h) */
    j->rc = sr_privacy_panel_compute(st, j->lay->cat, j->lay->privacy, &j->spec, j->to, j->wants,
                                     j->n_series, SR_HIST_MAX < 40 ? SR_HIST_MAX : 40, 200, &j->m,
                                     &j->pr);
    j->ran = true;
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
    if (j->drill && s->sort_unusual)
        sr_panel_sort_rows_unusual(p->m.def, p->m.agg, p->m.rows, p->m.n_rows);
    if (p == scr_filter_target(s))
        scr_filter_rows(s->filter, &p->m);
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
void scr_compute(sr_screen *s, size_t li, bool drill, const char *entity, unsigned wants,
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
bool scr_draw_hidden(sr_screen *s, WINDOW *w, int y, const panel_state *p)
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

/* Deletes the status bar's, the hint line's and the compact list's windows. */
static void del_bars(sr_screen *s)
{
    WINDOW **w[] = {&s->status, &s->hints, &s->list};
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        if (*w[i])
            delwin(*w[i]);
        *w[i] = NULL;
    }
}

/* (Re)creates the windows of the current view. */
static void build_layout(sr_screen *s)
{
    for (size_t i = 0; i < s->lay->n_panels; i++)
        free_windows(&s->ps[i]);
    free_windows(&s->drill_ps);
    free_windows(&s->view_win);
    del_bars(s);
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
        const sr_tui_page *pg = scr_cur_page(s);
        int n = (int)pg->n_panels, cols;
        s->mode = scr_page_shape(n, pg->columns, area_h, area_w, &cols);
        if (s->mode == LAYOUT_LIST) {
            s->list = newwin(area_h, area_w, area_y, 0);
            if (s->list)
                leaveok(s->list, TRUE);
        }
        for (int i = 0; i < n && s->mode != LAYOUT_LIST; i++) {
            int y = area_y, x = 0, h = area_h, w = area_w;
            if (s->mode == LAYOUT_GRID)
                scr_grid_cell(n, cols, area_y, area_h, area_w, i, &y, &x, &h, &w);
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
    scr_respec(s);
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
        scr_draw_view(s); /* every render: its times are relative to now */
        s->view_dirty = false;
    } else if (s->depth > 0) {
        if (s->drill_ps.dirty || s->drill_ps.redraw || s->all_dirty)
            scr_draw_drill(s);
    } else {
        const sr_tui_page *pg = scr_cur_page(s);
        bool list = false;
        for (size_t i = 0; i < pg->n_panels; i++) {
            panel_state *p = &s->ps[pg->panels[i]];
            if (!scr_panel_shown(s, p) || !(p->dirty || p->redraw || s->all_dirty))
                continue;
            if (s->mode == LAYOUT_LIST)
                list = true;
            else
                scr_draw_panel(s, pg->panels[i], (int)i);
        }
        if (list)
            scr_draw_list(s);
    }
    scr_draw_status(s);
    if (s->help)
        scr_draw_help(s);
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
    const sr_tui_page *pg = scr_cur_page(s);
    for (size_t i = 0; i < pg->n_panels; i++) {
        const panel_state *p = &s->ps[pg->panels[i]];
        if (scr_panel_shown(s, p) && (p->dirty || p->redraw))
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
    const sr_tui_panel *tp = s->depth > 0 ? scr_focused_panel(s) : NULL;
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
    const sr_tui_page *pg = scr_cur_page(s);
    for (size_t i = 0; i < pg->n_panels; i++) {
        const panel_state *p = &s->ps[pg->panels[i]];
        if (scr_panel_shown(s, p) && (p->dirty || !p->computed))
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
    scr_respec(s);
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

void sr_screen_set_page(sr_screen *s, size_t page)
{
    if (page >= s->lay->n_pages || (page == (size_t)s->page && !s->depth && s->view == VIEW_PANELS))
        return;
    scr_filter_clear(s);
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
    scr_rejects_clear(s);
    sr_source_list_fini(&s->srcl);
    free(s->alerts);
    if (s->scr) {
        set_term(s->scr);
        del_bars(s);
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
    return sr_text_fit(text, max_cols, sr_glyphs_for(utf8)->ellipsis, out, outlen);
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
