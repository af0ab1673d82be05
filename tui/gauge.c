/*
 * gauge.c - utilization against capacity: a horizontal bar filled to
 * value / full, drawn in the status role's colour, with the warn and crit
 * thresholds marked where they fall inside it.
 *
 *   37 of 50 vehicles (74%)      ▲ WARN      value, capacity, share; status
 *   ███████████████████████▍──────│──────      the bar; │ marks warn, crit
 *   0                          50 vehicles    the scale (height 4 and more)
 *
 * Full is 100 for a percentage, else the metric's target when it has one,
 * else the highest value of the window's series; without any of them the
 * gauge has no scale and shows the value alone with an empty bar. The bar
 * has eighth-of-a-cell precision (the block glyphs); a value above full
 * fills it and the share says by how much. Everything is clipped to the
 * window. On a wall (sr_view.big) the value stands above it in large
 * numerals when the panel has the room (sr_draw_big_value()).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tui.h"
#include "wkit.h"

/* What 100% of the bar stands for; NAN when nothing gives a scale. */
static double gauge_full(const sr_panel_model *m)
{
    if (!m)
        return NAN;
    if (m->def && strcmp(m->def->unit, "%") == 0)
        return 100;
    if (m->def && isfinite(m->def->target) && m->def->target > 0)
        return m->def->target;
    double hi = NAN;
    for (size_t i = 0; i < m->n_series && i < SR_SERIES_MAX; i++) {
        if (isfinite(m->series[i]) && !(m->series[i] <= hi))
            hi = m->series[i];
    }
    return hi > 0 ? hi : NAN;
}

static bool is_percent(const sr_panel_model *m)
{
    return m->def && strcmp(m->def->unit, "%") == 0;
}

/*
 * Draws the bar at row y, columns [x, x + width): frac of it filled in
 * eighths, the rest a dim track, and a marker in the threshold's role at
 * each of warn and crit that lies strictly inside (0, full).
 */
static void draw_bar(WINDOW *w, int y, int x, int width, double frac, attr_t attr,
                     const sr_panel_model *m, double full)
{
    const sr_glyphs *g = sr_glyphs_get();
    attr_t track = sr_role_attr(SR_ROLE_DIM);
    if (!(frac >= 0))
        frac = 0;
    if (frac > 1)
        frac = 1;
    long eighths = lround(frac * width * 8);
    for (int c = 0; c < width; c++) {
        long fill = eighths - 8L * c;
        if (fill >= 8)
            wkit_glyph(w, y, x + c, attr, g->block[8]);
        else if (fill > 0)
            wkit_glyph(w, y, x + c, attr, g->block[fill]);
        else
            wkit_glyph(w, y, x + c, track, g->hline);
    }
    if (!m || !m->def || !isfinite(full))
        return;
    const struct {
        double t;
        sr_role role;
    } marks[] = {{m->def->warn, SR_ROLE_WARN}, {m->def->crit, SR_ROLE_CRIT}};
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
        double t = marks[i].t;
        if (!(t > 0 && t < full))
            continue;
        int c = (int)(t / full * width);
        if (c < width)
            wkit_glyph(w, y, x + c, sr_role_attr(marks[i].role), g->vline);
    }
}

/*
 * The value text at a level of detail: 2 "37 of 50 vehicles (74%)", 1
 * "37 of 50 vehicles", 0 "37" (compact). A percentage, or a gauge without
 * a scale, says "72%" or "37 vehicles" at levels 2 and 1. The value ends at
 * *value_len bytes; the rest is drawn dim.
 */
static void gauge_text(const sr_panel_model *m, double full, int detail, char *buf, size_t len,
                       size_t *value_len)
{
    char value[96], cap[96];
    bool scale = detail > 0 && !is_percent(m) && isfinite(full);
    sr_format_value(m->c.now.value, m->def, m->agg, detail == 0 || scale, value, sizeof value);
    *value_len = strlen(value);
    if (!scale) {
        snprintf(buf, len, "%s", value);
        return;
    }
    sr_format_value(full, m->def, m->agg, false, cap, sizeof cap);
    if (detail == 2)
        snprintf(buf, len, "%s of %s (%.0f%%)", value, cap, m->c.now.value / full * 100);
    else
        snprintf(buf, len, "%s of %s", value, cap);
}

/*
 * Draws the value text at row y, the most detailed (up to max_detail) that
 * fits max_cols; returns the columns used.
 */
static int draw_gauge_text(WINDOW *w, int y, int max_cols, int max_detail, const sr_view *v,
                           double full)
{
    const sr_panel_model *m = v->m;
    if (max_cols > getmaxx(w))
        max_cols = getmaxx(w);
    if (max_cols <= 0)
        return 0;
    if (m && m->mask[0])
        return sr_tui_put(w, y, 0, max_cols, sr_role_attr(SR_ROLE_VALUE), m->mask);
    if (!m || !isfinite(m->c.now.value))
        return sr_tui_put(w, y, 0, max_cols, sr_role_attr(SR_ROLE_DIM), sr_empty_text(v));
    char text[256];
    size_t value_len = 0;
    for (int detail = max_detail; detail >= 0; detail--) {
        gauge_text(m, full, detail, text, sizeof text, &value_len);
        if (sr_tui_width(text) <= max_cols)
            break;
    }
    attr_t value = sr_role_attr(v->stale ? SR_ROLE_STALE : SR_ROLE_VALUE);
    attr_t rest = sr_role_attr(v->stale ? SR_ROLE_STALE : SR_ROLE_DIM);
    char *tail = text + value_len;
    char head[sizeof text];
    memcpy(head, text, value_len);
    head[value_len] = 0;
    int used = sr_tui_put(w, y, 0, max_cols, value, head);
    if (*tail && used < max_cols)
        used += sr_tui_put(w, y, used, max_cols - used, rest, tail);
    return used;
}

static void gauge_draw(WINDOW *w, const sr_view *v)
{
    int h, wd;
    getmaxyx(w, h, wd);
    if (h <= 0 || wd <= 0)
        return;
    const sr_panel_model *m = v->m;
    double full = gauge_full(m);
    bool known = m && isfinite(m->c.now.value);
    double frac = known && isfinite(full) ? m->c.now.value / full : 0;
    if (v->big && h > 2) {
        /* on a wall: the value in large numerals, the gauge in the rows
         * below it (two at least: its line and its bar) */
        int used = sr_draw_big_value(w, 0, h - 2, v);
        WINDOW *rest = used > 0 ? derwin(w, h - used, wd, used, 0) : NULL;
        if (rest) {
            sr_view plain = *v;
            plain.big = false;
            gauge_draw(rest, &plain);
            delwin(rest);
            return;
        }
    }
    sr_status status = m ? m->status : SR_STATUS_NONE;
    sr_role role = v->stale                   ? SR_ROLE_STALE
                   : status == SR_STATUS_NONE ? SR_ROLE_BAR
                                              : sr_status_role(status);
    attr_t bar = sr_role_attr(role);

    /* the status takes what the shortest text leaves; half when that is nothing */
    int text_min = sr_tui_width(sr_empty_text(v));
    if (known) {
        char text[256];
        size_t value_len;
        gauge_text(m, full, 0, text, sizeof text, &value_len);
        text_min = sr_tui_width(text);
    }
    int room = wd - text_min - 1;
    if (room < 1)
        room = wd / 2;
    int st = sr_draw_status(w, 0, wd, room, status, v->stale);

    if (h == 1) {
        /* value, bar, status on one line; the bar only when three cells are left */
        int right = st > 0 ? wd - st - 1 : wd;
        int used = draw_gauge_text(w, 0, right, 0, v, full);
        int x = used + 1, width = right - x;
        if (width >= 3)
            draw_bar(w, 0, x, width, frac, bar, m, full);
        return;
    }

    draw_gauge_text(w, 0, st > 0 ? wd - st - 1 : wd, 2, v, full);
    /* the bar: one row, two on a tall panel; then its scale; then the history */
    int bar_rows = h >= 8 ? 2 : 1;
    for (int r = 0; r < bar_rows && 1 + r < h; r++)
        draw_bar(w, 1 + r, 0, wd, frac, bar, m, full);
    int y = 1 + bar_rows;
    if (y < h && h >= 4 && isfinite(full)) {
        char cap[96];
        sr_format_value(full, m->def, m->agg, false, cap, sizeof cap);
        int cw = sr_tui_width(cap);
        attr_t dim = sr_role_attr(SR_ROLE_DIM);
        int zero = sr_tui_put(w, y, 0, wd, dim, "0");
        if (cw <= wd - zero - 1)
            sr_tui_put(w, y, wd - cw, cw, dim, cap);
        y++;
    }
    if (m && m->n_series > 0 && h - y >= 2)
        sr_draw_sparkline_rows(w, y + 1, 0, wd, h - y - 1, m->series, m->n_series,
                               wkit_attr(v, SR_ROLE_DIM));
}

const sr_widget_class sr_widget_gauge = {
    .name = "gauge",
    .min_w = 10,
    .min_h = 1,
    .wants = SR_PANEL_SERIES,
    .draw = gauge_draw,
    .key = NULL,
};
