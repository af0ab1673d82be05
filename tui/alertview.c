/*
 * alertview.c - the alerts view (alertview.h).
 *
 *   SEVERITY  PANEL                 ENTITY       VALUE   THRESHOLD  STATE          RAISED NOTE ✖
 * crit    Urgent response P2    north/d-3    1h12m   60m        active         14:03 (12m ago) ◆
 * warn    Open cases            (all)        4 812   4 500      acked by ann   13:40 (35m ago)  on
 * it
 *
 *   ✖ crit  Urgent response P2 · force/north/d-3
 *   value         1h12m, threshold 60m
 *   ...
 *
 * One row per open alert, crit first as the cache lists them. Values and
 * thresholds are formatted as the panel's tile formats them (the metric's
 * unit, the panel's aggregate; sr_alert_format); an unusual alert's
 * threshold is its band, "normal 150–205". Severity is a symbol and a word in its
 * role's colour, never colour alone. Columns take their natural width
 * (capped); when the window is narrow the note goes first, then the raised
 * time, then the panel, entity and state shrink: the detail below the
 * table, for the selected alert, always has everything, the note wrapped.
 * Text from the cache (names, who, notes) is drawn through sr_tui_put(),
 * which drops control characters and escape sequences.
 */
#include "alertview.h"

#include <stdio.h>
#include <string.h>

#include "wkit.h"

enum { C_SEV, C_PANEL, C_ENTITY, C_VALUE, C_THR, C_STATE, C_RAISED, C_NOTE, N_COLS };

_Static_assert(N_COLS <= WKIT_COLS_MAX, "more columns than a wkit_layout holds");

static const wkit_col cols[N_COLS] = {
    [C_SEV] = {"SEVERITY", "SEV", false},     [C_PANEL] = {"PANEL", "PANEL", false},
    [C_ENTITY] = {"ENTITY", "ENTITY", false}, [C_VALUE] = {"VALUE", "VALUE", true},
    [C_THR] = {"THRESHOLD", "LIMIT", true},   [C_STATE] = {"STATE", "STATE", false},
    [C_RAISED] = {"RAISED", "RAISED", false}, [C_NOTE] = {"NOTE", "NOTE", false},
};

/* How the columns fit a narrow window. */
static const struct {
    int cap;      /* widest it grows to; 0 = no cap */
    int soft_min; /* narrowest it shrinks to while the raised time is shown */
    int min;      /* narrowest it shrinks to at all; 0 = no shrinking */
} fit[N_COLS] = {
    [C_PANEL] = {28, 16, 8},
    [C_ENTITY] = {24, 10, 6},
    [C_STATE] = {30, 16, 10},
};

#define NOTE_MIN 10

static const sr_tui_panel *panel_of(const sr_tui_layout *lay, const char *name)
{
    for (size_t i = 0; lay && i < lay->n_panels; i++)
        if (strcmp(lay->panels[i].name, name) == 0)
            return &lay->panels[i];
    return NULL;
}

void alertview_format(const alertview *v, size_t i, alertview_row *out)
{
    const sr_alert *a = &v->v[i];
    const char *tz = v->lay ? v->lay->timezone : NULL;
    memset(out, 0, sizeof *out);
    snprintf(out->severity, sizeof out->severity, "%s %s", wkit_status_glyph(a->severity),
             a->severity == SR_STATUS_CRIT ? "crit" : "warn");
    const sr_tui_panel *p = panel_of(v->lay, a->panel);
    snprintf(out->panel, sizeof out->panel, "%s", p && p->title && *p->title ? p->title : a->panel);
    snprintf(out->entity, sizeof out->entity, "%s", a->entity[0] ? a->entity : "(all)");
    const sr_metric_def *def =
        v->lay && v->lay->cat ? sr_catalog_find(v->lay->cat, a->metric) : NULL;
    _Static_assert(sizeof out->value == sizeof out->threshold, "one length for both");
    sr_alert_format(a, p ? def : NULL, p ? p->spec.agg : (sr_agg){0}, sr_glyphs_get()->range,
                    out->value, out->threshold, sizeof out->value);
    char t[48];
    switch (a->state) {
    case SR_ALERT_ACKED:
        snprintf(out->state, sizeof out->state, "acked by %s", a->acked_by);
        break;
    case SR_ALERT_SILENCED:
        sr_format_clock(tz, v->now, a->silenced_until_ms, t, sizeof t);
        snprintf(out->state, sizeof out->state, "silenced until %s", t);
        break;
    default:
        snprintf(out->state, sizeof out->state, "%s", sr_alert_state_name(a->state));
        break;
    }
    char ago[32];
    sr_format_clock(tz, v->now, a->raised_at_ms, t, sizeof t);
    sr_format_ago(v->now, a->raised_at_ms, ago, sizeof ago);
    snprintf(out->raised, sizeof out->raised, "%s (%s)", t, ago);
    snprintf(out->note, sizeof out->note, "%s", a->note);
}

static const char *cell(const alertview_row *r, int c)
{
    const char *cells[N_COLS] = {r->severity,  r->panel, r->entity, r->value,
                                 r->threshold, r->state, r->raised, r->note};
    return cells[c];
}

typedef wkit_layout layout;

static layout layout_for(const alertview *v, int width)
{
    int nat[N_COLS];
    for (int c = 0; c < N_COLS; c++)
        nat[c] = sr_tui_width(cols[c].head_short);
    for (size_t i = 0; i < v->n; i++) {
        alertview_row r;
        alertview_format(v, i, &r);
        for (int c = 0; c < N_COLS; c++) {
            int tw = sr_tui_width(cell(&r, c));
            if (tw > nat[c])
                nat[c] = tw;
        }
    }
    layout l = {0};
    for (int pass = 0; pass < 3; pass++) {
        bool shrt = pass > 0, no_raised = pass == 2;
        int gap = shrt ? 1 : 2, w[N_COLS] = {0}, used = 0;
        for (int c = 0; c < C_NOTE; c++) {
            if (c == C_RAISED && no_raised)
                continue;
            int hw = sr_tui_width(shrt ? cols[c].head_short : cols[c].head);
            w[c] = nat[c] > hw ? nat[c] : hw;
            if (fit[c].cap && w[c] > fit[c].cap)
                w[c] = fit[c].cap;
            used += w[c] + gap;
        }
        /* too wide: the panel, the entity, then the state give way, to
         * their minimum once the raised time has gone (it is in the detail) */
        static const int shrink[] = {C_PANEL, C_ENTITY, C_STATE};
        for (size_t k = 0; k < 3 && used > width; k++) {
            int c = shrink[k], give = used - width;
            int min = no_raised ? fit[c].min : fit[c].soft_min;
            int can = w[c] > min ? w[c] - min : 0;
            if (give > can)
                give = can;
            w[c] -= give;
            used -= give;
        }
        if (used > width && pass < 2)
            continue;
        l.short_heads = shrt;
        int x = 0;
        for (int c = 0; c < C_NOTE; c++) {
            l.x[c] = x;
            l.w[c] = w[c];
            if (w[c])
                x += w[c] + gap;
        }
        if (width - x >= NOTE_MIN) {
            l.x[C_NOTE] = x;
            l.w[C_NOTE] = width - x;
        }
        break;
    }
    return l;
}

static void draw_row(WINDOW *w, const alertview *v, const layout *l, int y, size_t i)
{
    const sr_alert *a = &v->v[i];
    alertview_row r;
    alertview_format(v, i, &r);
    bool sel = v->selected >= 0 && (size_t)v->selected == i;
    attr_t a_sel = sr_role_attr(SR_ROLE_SELECTED);
    if (sel)
        wkit_fill(w, y, 0, getmaxx(w), a_sel);
    bool quiet = a->state != SR_ALERT_ACTIVE; /* acknowledged or silenced: dimmed */
    for (int c = 0; c < N_COLS; c++) {
        if (l->w[c] <= 0)
            continue;
        sr_role role = c == C_SEV     ? sr_status_role(a->severity)
                       : c == C_PANEL ? SR_ROLE_VALUE
                       : quiet        ? SR_ROLE_DIM
                                      : SR_ROLE_NORMAL;
        wkit_table_cell(w, y, cols, l, c, sel ? a_sel : sr_role_attr(role), cell(&r, c));
    }
}

/* "2026-11-27 14:03:00 (12m ago)" in tz. */
static void long_time(const char *tz, sr_ms now, sr_ms t, char *buf, size_t len)
{
    sr_civil c;
    char ago[48];
    if (t <= 0 || sr_utc_to_local(tz, t, &c) != 0) {
        snprintf(buf, len, "?");
        return;
    }
    if (t > now) {
        char d[32];
        sr_ms left = t - now; /* whole minutes (seconds in the last one) read better */
        left = left >= SR_MS_MIN ? left / SR_MS_MIN * SR_MS_MIN : left / SR_MS_SEC * SR_MS_SEC;
        sr_format_duration(left > 0 ? left : SR_MS_SEC, d, sizeof d);
        snprintf(ago, sizeof ago, "in %s", d);
    } else {
        sr_format_ago(now, t, ago, sizeof ago);
    }
    snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d (%s)", c.year, c.mon, c.mday, c.hour, c.min,
             c.sec, ago);
}

#define LABEL_W 14

static void label(WINDOW *w, int y, const char *text)
{
    wkit_put(w, y, 0, LABEL_W - 1, sr_role_attr(SR_ROLE_DIM), text);
}

/* The selected alert in full, from row y to the bottom of w. */
static void draw_detail(WINDOW *w, const alertview *v, int y)
{
    int h = getmaxy(w), wd = getmaxx(w), vw = wd - LABEL_W;
    if (v->selected < 0 || (size_t)v->selected >= v->n || vw < 8)
        return;
    const sr_alert *a = &v->v[v->selected];
    const char *tz = v->lay ? v->lay->timezone : NULL;
    alertview_row r;
    alertview_format(v, (size_t)v->selected, &r);
    const sr_glyphs *g = sr_glyphs_get();
    char line[1024], t[128];
    int hint_row = 1;

    int x = wkit_put(w, y, 0, wd, sr_role_attr(sr_status_role(a->severity)), r.severity);
    snprintf(line, sizeof line, "%s %s %s", r.panel, g->dot, r.entity);
    wkit_put(w, y, x + 2, wd - x - 2, sr_role_attr(SR_ROLE_TITLE), line);
    if (++y >= h - hint_row)
        return;
    label(w, y, "value");
    snprintf(line, sizeof line, "%s, %s%s (panel %s, metric %s)", r.value, sr_alert_thr_words(a),
             r.threshold, a->panel, a->metric);
    wkit_put(w, y, LABEL_W, vw, sr_role_attr(SR_ROLE_NORMAL), line);
    if (++y >= h - hint_row)
        return;
    label(w, y, "raised");
    long_time(tz, v->now, a->raised_at_ms, t, sizeof t);
    wkit_put(w, y, LABEL_W, vw, sr_role_attr(SR_ROLE_NORMAL), t);
    if (++y >= h - hint_row)
        return;
    label(w, y, "state");
    if (a->state == SR_ALERT_SILENCED) {
        long_time(tz, v->now, a->silenced_until_ms, t, sizeof t);
        snprintf(line, sizeof line, "silenced until %s", t);
    } else if (a->acked_at_ms > 0) {
        char ago[32];
        sr_format_clock(tz, v->now, a->acked_at_ms, t, sizeof t);
        sr_format_ago(v->now, a->acked_at_ms, ago, sizeof ago);
        snprintf(line, sizeof line, "%s by %s at %s (%s)",
                 a->state == SR_ALERT_ACKED ? "acknowledged" : "active again; acknowledged",
                 a->acked_by, t, ago);
    } else {
        snprintf(line, sizeof line, "active: nobody has acknowledged it");
    }
    wkit_put(w, y, LABEL_W, vw, sr_role_attr(SR_ROLE_NORMAL), line);
    if (++y >= h - hint_row)
        return;
    label(w, y, "note");
    if (a->note[0])
        y += sr_tui_put_wrapped(w, y, LABEL_W, vw, h - y - hint_row, sr_role_attr(SR_ROLE_NORMAL),
                                a->note);
    else
        wkit_put(w, y, LABEL_W, vw, sr_role_attr(SR_ROLE_DIM), "none");
    wkit_put(w, h - 1, 0, wd, sr_role_attr(SR_ROLE_DIM),
             v->may_act ? "Enter: acknowledge with a note  m: silence for a time"
                        : "your role may not acknowledge or silence alerts");
}

/* Rows the detail below the table needs to be worth drawing. */
#define DETAIL_MIN 7

int alertview_draw(WINDOW *w, const alertview *v)
{
    int h, wd;
    getmaxyx(w, h, wd);
    if (!v || h <= 0 || wd <= 0)
        return 0;
    bool withheld = v->withheld && v->withheld[0];
    if (v->n == 0) {
        wkit_put(w, 0, 0, wd, sr_role_attr(SR_ROLE_DIM),
                 withheld ? "no open alert shown"
                          : "no open alert: every panel is within its thresholds, or nobody "
                            "collects");
        if (withheld && h > 1)
            wkit_put(w, 1, 0, wd, sr_role_attr(SR_ROLE_DIM), v->withheld);
        return 0;
    }
    if (withheld && h > 2) {
        /* the policy's line at the bottom (metrics/privacy.h) */
        wkit_put(w, h - 1, 0, wd, sr_role_attr(SR_ROLE_DIM), v->withheld);
        h--;
    }
    layout l = layout_for(v, wd);
    wkit_table_head(w, cols, N_COLS, &l);
    int rows = wkit_table_rows(h, v->n, DETAIL_MIN);
    sr_view sv = {.selected = v->selected, .scroll = v->scroll, .rows = rows};
    size_t first = wkit_list_first(&sv, v->n, rows);
    for (int r = 0; r < rows && first + (size_t)r < v->n; r++)
        draw_row(w, v, &l, 1 + r, first + (size_t)r);
    if (h - 1 - rows >= DETAIL_MIN + 1)
        draw_detail(w, v, 1 + rows + 1);
    return rows;
}
