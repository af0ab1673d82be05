/*
 * histogram.c - the distribution of an event metric over the window: one
 * vertical bar per bin of m->hist (between hist_lo and hist_hi, the last
 * bin also holding everything above), heights proportional to the counts,
 * under the headline: the panel's own value, unit and status
 * (wkit_draw_headed).
 *
 *           │target 15m
 *        ▆█ │
 *       ▃██▇│▅
 *     ▁▅████│█▇▄▂▁
 *   0s              1h00m
 *
 * Bars are exact to an eighth of a cell (the sparkline levels of the glyph
 * set; a bin with any count shows at least the lowest level). With at least
 * as many columns as bins, every bin gets the same number, floor(W/n), the
 * last of them left blank when that is three or more, and the columns that
 * remain on the right stay empty (bins of unequal width would misstate the
 * distribution); with fewer, each column adds up the bins [c*n/W,
 * (c+1)*n/W). Bins wholly beyond the target (above it when lower is better,
 * below it otherwise) are drawn in the WARN role; the target itself is a
 * vertical marker at its position with a label on the top line, so the
 * meaning never rests on colour alone.
 *
 * Lines, from the bottom: the range labels need 3 lines, the target label 4;
 * fewer lines give everything to the bars.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "wkit.h"

/* Bins [b0, b1) of group g of n_groups, and its columns [*c0, *c1) of a plot width wide. */
static void hist_group(size_t g, size_t n_groups, size_t n_bins, int width, size_t *b0, size_t *b1,
                       int *c0, int *c1)
{
    *b0 = g * n_bins / n_groups;
    *b1 = (g + 1) * n_bins / n_groups;
    *c0 = (int)(g * (size_t)width / n_groups);
    *c1 = (int)((g + 1) * (size_t)width / n_groups);
}

static uint64_t hist_sum(const sr_panel_model *m, size_t b0, size_t b1)
{
    uint64_t sum = 0;
    for (size_t b = b0; b < b1; b++)
        sum += m->hist[b];
    return sum;
}

/*
 * "target 15m": a duration in whole minutes (or under a minute) in its
 * shortest form, as the tiles write it; anything else as a formatted value.
 */
static void hist_target_label(const sr_panel_model *m, char *buf, size_t len)
{
    double t = m->def->target;
    char val[48];
    if (strcmp(m->def->unit, "s") == 0 && t > 0 && t < 1e9 && t == floor(t) &&
        (t < 60 || fmod(t, 60) == 0))
        sr_format_duration((sr_ms)t * SR_MS_SEC, val, sizeof val);
    else
        sr_format_value(t, m->def, (sr_agg){.kind = SR_AGG_MAX}, false, val, sizeof val);
    snprintf(buf, len, "target %s", val);
}

static void hist_draw_bar(WINDOW *w, int bottom, int x, int rows, long eighths, attr_t attr)
{
    const sr_glyphs *g = sr_glyphs_get();
    int full = (int)(eighths / 8), rest = (int)(eighths % 8);
    for (int r = 0; r < full && r < rows; r++)
        wkit_glyph(w, bottom - r, x, attr, g->spark[7]);
    if (rest > 0 && full < rows)
        wkit_glyph(w, bottom - full, x, attr, g->spark[rest - 1]);
}

static void hist_draw_body(WINDOW *w, const sr_view *v)
{
    int height, width;
    const sr_panel_model *m = wkit_model(w, v, &height, &width);
    if (!m)
        return;
    size_t n = m->n_hist > SR_HIST_MAX ? SR_HIST_MAX : m->n_hist;
    double lo = m->hist_lo, hi = m->hist_hi;
    if (n == 0 || !(hi > lo) || hist_sum(m, 0, n) == 0) {
        /* suppressed (metrics/privacy.h): say so rather than "no data" */
        const char *t = m->mask[0] ? m->mask : sr_empty_text(v);
        int tw = sr_tui_width(t);
        wkit_put(w, height / 2, width > tw ? (width - tw) / 2 : 0, width, wkit_attr(v, SR_ROLE_DIM),
                 t);
        return;
    }
    const sr_glyphs *g = sr_glyphs_get();
    double target = m->def ? m->def->target : NAN;
    bool show_target = isfinite(target) && target >= lo && target <= hi;
    bool lower_better = !m->def || m->def->better == SR_BETTER_LOWER;

    bool axis = height >= 3, label = show_target && height >= 4;
    int y0 = label ? 1 : 0;
    int rows = height - y0 - (axis ? 1 : 0);
    int bottom = y0 + rows - 1;
    /* equal columns per bin when there is room for every bin, the rest left blank */
    int plot_w = (size_t)width >= n ? width / (int)n * (int)n : width;
    int tx = -1;
    if (show_target) {
        tx = (int)floor((target - lo) / (hi - lo) * plot_w);
        if (tx > plot_w - 1)
            tx = plot_w - 1;
        for (int y = y0; y <= bottom; y++)
            wkit_glyph(w, y, tx, wkit_attr(v, SR_ROLE_ACCENT), g->vline);
    }

    size_t groups = n < (size_t)plot_w ? n : (size_t)plot_w;
    uint64_t top = 0;
    for (size_t k = 0; k < groups; k++) {
        size_t b0, b1;
        int c0, c1;
        hist_group(k, groups, n, plot_w, &b0, &b1, &c0, &c1);
        uint64_t sum = hist_sum(m, b0, b1);
        if (sum > top)
            top = sum;
    }
    double bin_w = (hi - lo) / (double)n;
    bool gap = (size_t)plot_w >= 3 * n; /* bins of three columns or more: one left blank */
    for (size_t k = 0; k < groups; k++) {
        size_t b0, b1;
        int c0, c1;
        hist_group(k, groups, n, plot_w, &b0, &b1, &c0, &c1);
        uint64_t sum = hist_sum(m, b0, b1);
        if (sum == 0)
            continue;
        long eighths = lround((double)sum / (double)top * rows * 8);
        if (eighths < 1)
            eighths = 1;
        bool beyond = show_target && (lower_better ? lo + (double)b0 * bin_w >= target
                                                   : lo + (double)b1 * bin_w <= target);
        attr_t a = wkit_attr(v, beyond ? SR_ROLE_WARN : SR_ROLE_BAR);
        if (gap)
            c1--;
        for (int x = c0; x < c1; x++)
            hist_draw_bar(w, bottom, x, rows, eighths, a);
    }

    if (label) {
        char buf[64];
        hist_target_label(m, buf, sizeof buf);
        int tw = sr_tui_width(buf);
        attr_t a = wkit_attr(v, SR_ROLE_ACCENT);
        if (tx + tw <= width)
            wkit_put(w, 0, tx, tw, a, buf);
        else
            wkit_put_right(w, 0, tx + 1, width, a, buf);
    }
    if (axis) {
        char from[48], to[48];
        sr_agg raw = {.kind = SR_AGG_MAX};
        sr_format_value(lo, m->def, raw, true, from, sizeof from);
        sr_format_value(hi, m->def, raw, true, to, sizeof to);
        attr_t a = wkit_attr(v, SR_ROLE_DIM);
        int wf = sr_tui_width(from), wt = sr_tui_width(to);
        int end = wt <= plot_w ? plot_w : width;
        if (wf + 1 + wt <= end)
            wkit_put(w, height - 1, 0, wf, a, from);
        wkit_put_right(w, height - 1, end, width, a, to);
    }
}

/* The headline (the panel's value, unit and status), the histogram below it. */
static void hist_draw(WINDOW *w, const sr_view *v)
{
    wkit_draw_headed(w, v, hist_draw_body);
}

/* The histogram has no keys of its own. */
static bool hist_key(sr_view *v, int key)
{
    (void)v;
    (void)key;
    return false;
}

const sr_widget_class sr_widget_histogram = {
    .name = "histogram",
    .min_w = 16,
    .min_h = 4,
    .wants = SR_PANEL_HIST,
    .draw = hist_draw,
    .key = hist_key,
};
