/*
 * chart.c - the history of the panel's aggregate as a line chart over the
 * window, with the value range on the left and the time range below, under
 * the headline (the panel's own value, unit and status: wkit_draw_headed).
 *
 *   14m02s│         ⢀⡠⠔⠊⠉⠑⠢⡀
 *   12m00s│────⢀⠔⠊⠁──────────⠈⠢⣀──
 *    9m30s│⣀⠔⠊                   ⠉
 *          09:00                13:00
 *
 * The plot is a grid of pixels: 2x4 per cell with braille dots
 * (g->braille), 1x2 with half blocks otherwise in UTF-8, 1x1 with '*' in
 * ASCII. Sample i of n stands at the centre of its slice, x = (i + 0.5) *
 * pixels / n, so any number of samples maps onto any width; consecutive
 * samples are joined by straight segments, and a NAN on either side leaves
 * the gap open (a lone sample is one dot). Per pixel column the line covers
 * one vertical span, which is all a cell needs to know.
 *
 * The vertical range is the data's minimum and maximum; the metric's target
 * is a dim horizontal line (and a label on the axis when there is room)
 * when it lies inside that range and the aggregate is in the metric's units
 * (not a count or a share within target). Times are UTC: HH:MM, or "Mon 12"
 * for windows longer than two days.
 *
 * A pooled percentile series (metrics/panel.h series_pool) says how much
 * each point covers between the time labels, when there is room.
 *
 * Narrow or low windows drop the time labels first (fewer than 3 lines),
 * then the value labels and axis (plot narrower than CHART_PLOT_MIN).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "wkit.h"

#define CHART_PLOT_MIN 4 /* columns the plot keeps before the value labels go */

typedef struct {
    const double *s;
    size_t n;
    double lo, hi; /* the value range, hi > lo */
    int px, py;    /* pixels across and up */
} chart_plot;

static double plot_x(const chart_plot *p, size_t i)
{
    return ((double)i + 0.5) * p->px / (double)p->n;
}

static double plot_y(const chart_plot *p, double v)
{
    return (v - p->lo) / (p->hi - p->lo) * (p->py - 1);
}

/*
 * The pixel rows (0 = bottom) that the line covers in pixel column c, from
 * the samples whose centre lies in it and the segments that cross it.
 * Returns false when the column is empty.
 */
static bool plot_span(const chart_plot *p, int c, int *lo, int *hi)
{
    double ymin = INFINITY, ymax = -INFINITY;
    double per = (double)p->n / p->px; /* samples per pixel column */
    long long i0 = (long long)floor(c * per - 0.5) - 1;
    long long i1 = (long long)ceil((c + 1) * per - 0.5) + 1;
    if (i0 < 0)
        i0 = 0;
    if (i1 > (long long)p->n - 1)
        i1 = (long long)p->n - 1;
    for (long long i = i0; i <= i1; i++) {
        double v = p->s[i];
        if (!isfinite(v))
            continue;
        double x = plot_x(p, (size_t)i), y = plot_y(p, v);
        if (x >= c && x < c + 1) {
            ymin = fmin(ymin, y);
            ymax = fmax(ymax, y);
        }
        if (i + 1 >= (long long)p->n || !isfinite(p->s[i + 1]))
            continue;
        double x2 = plot_x(p, (size_t)i + 1), y2 = plot_y(p, p->s[i + 1]);
        double a = fmax(x, c), b = fmin(x2, c + 1);
        if (a > b)
            continue;
        double ya = y + (y2 - y) * (a - x) / (x2 - x);
        double yb = y + (y2 - y) * (b - x) / (x2 - x);
        ymin = fmin(ymin, fmin(ya, yb));
        ymax = fmax(ymax, fmax(ya, yb));
    }
    if (!(ymin <= ymax))
        return false;
    *lo = (int)lround(ymin);
    *hi = (int)lround(ymax);
    if (*lo < 0)
        *lo = 0;
    if (*hi > p->py - 1)
        *hi = p->py - 1;
    return *lo <= *hi;
}

/* UTF-8 of a code point below U+10000 into buf (at least 4 bytes). */
static void utf8_encode(uint32_t cp, char *buf)
{
    if (cp < 0x80) {
        buf[0] = (char)cp;
        buf[1] = 0;
    } else if (cp < 0x800) {
        buf[0] = (char)(0xc0 | (cp >> 6));
        buf[1] = (char)(0x80 | (cp & 0x3f));
        buf[2] = 0;
    } else {
        buf[0] = (char)(0xe0 | (cp >> 12));
        buf[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        buf[2] = (char)(0x80 | (cp & 0x3f));
        buf[3] = 0;
    }
}

typedef enum { CHART_BRAILLE, CHART_HALF, CHART_ASCII } chart_mode;

/* Draws the line into the cells rows x cols at (y0, x0). */
static void chart_plot_cells(WINDOW *w, const chart_plot *p, chart_mode mode, int y0, int x0,
                             int rows, int cols, attr_t attr)
{
    int sx = mode == CHART_BRAILLE ? 2 : 1;
    int sy = mode == CHART_BRAILLE ? 4 : mode == CHART_HALF ? 2 : 1;
    /* braille dot bits by [column][row within the cell] */
    static const unsigned dot[2][4] = {{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}};
    for (int cx = 0; cx < cols; cx++) {
        bool has[2] = {false, false};
        int lo[2] = {0, 0}, hi[2] = {0, 0};
        for (int dx = 0; dx < sx; dx++)
            has[dx] = plot_span(p, cx * sx + dx, &lo[dx], &hi[dx]);
        if (!has[0] && !has[1])
            continue;
        for (int cy = 0; cy < rows; cy++) {
            unsigned bits = 0;
            for (int dx = 0; dx < sx; dx++) {
                for (int dy = 0; dy < sy && has[dx]; dy++) {
                    int py = p->py - 1 - (cy * sy + dy); /* bottom-up pixel row */
                    if (py >= lo[dx] && py <= hi[dx])
                        bits |= mode == CHART_BRAILLE ? dot[dx][dy] : 1u << dy;
                }
            }
            if (!bits)
                continue;
            char cell[8];
            if (mode == CHART_BRAILLE)
                utf8_encode(0x2800 + bits, cell);
            else if (mode == CHART_HALF)
                utf8_encode(bits == 1 ? 0x2580 : bits == 2 ? 0x2584 : 0x2588, cell);
            else
                utf8_encode('*', cell);
            wkit_glyph(w, y0 + cy, x0 + cx, attr, cell);
        }
    }
}

/* "09:00" for windows within a day, "Thu 09:00" up to two days, "Thu 12"
 * beyond; in the force's time zone, with English day names whatever the
 * locale. */
static void chart_time_label(sr_ms t, const char *tz, sr_ms span, char *buf, size_t len)
{
    static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    sr_civil c;
    if (sr_utc_to_local(tz, t, &c) != 0 && sr_utc_to_local(NULL, t, &c) != 0) {
        snprintf(buf, len, "?");
        return;
    }
    if (span > 2 * SR_MS_DAY)
        snprintf(buf, len, "%s %d", wday[c.wday % 7], c.mday);
    else if (span > 20 * SR_MS_HOUR)
        snprintf(buf, len, "%s %02d:%02d", wday[c.wday % 7], c.hour, c.min);
    else
        snprintf(buf, len, "%02d:%02d", c.hour, c.min);
}

/* A pooled point's span for a person: "2h", "2h30m", "45m", "1d12h". */
static void chart_span_label(sr_ms d, char *buf, size_t len)
{
    long long min = (long long)(d / SR_MS_MIN), h = min / 60, days = h / 24;
    if (days > 0)
        snprintf(buf, len, h % 24 ? "%lldd%lldh" : "%lldd", days, h % 24);
    else if (h > 0)
        snprintf(buf, len, min % 60 ? "%lldh%02lldm" : "%lldh", h, min % 60);
    else
        snprintf(buf, len, "%lldm", min > 0 ? min : 1);
}

static void chart_draw_times(WINDOW *w, const sr_view *v, int y, int x0, int width)
{
    const sr_panel_model *m = v->m;
    if (m->to_ms <= m->from_ms)
        return;
    sr_ms span = m->to_ms - m->from_ms;
    char from[32], to[32];
    chart_time_label(m->from_ms, v->timezone, span, from, sizeof from);
    chart_time_label(m->to_ms, v->timezone, span, to, sizeof to);
    attr_t a = wkit_attr(v, SR_ROLE_DIM);
    int wf = sr_tui_width(from), wt = sr_tui_width(to);
    if (wf + 1 + wt <= width - x0)
        wkit_put(w, y, x0, wf, a, from);
    if (wt <= width)
        wkit_put_right(w, y, width, wt, a, to);
    if (m->series_pool > 1 && m->series_slice_ms > 0) {
        /* a pooled percentile series: how much each point covers, centred */
        char each[32], note[64];
        sr_ms pooled = (sr_ms)m->series_pool * m->series_slice_ms;
        chart_span_label(pooled < span ? pooled : span, each, sizeof each);
        snprintf(note, sizeof note, "each point pools %s", each);
        int wn = sr_tui_width(note), room = width - x0 - wf - wt - 4;
        if (wn <= room)
            wkit_put(w, y, x0 + wf + 2 + (room - wn) / 2, wn, a, note);
    }
}

static void chart_draw_body(WINDOW *w, const sr_view *v)
{
    const sr_panel_model *m = v ? v->m : NULL;
    int height, width;
    getmaxyx(w, height, width);
    if (!m || height <= 0 || width <= 0)
        return;
    const sr_glyphs *g = sr_glyphs_get();
    size_t n = m->n_series > SR_SERIES_MAX ? SR_SERIES_MAX : m->n_series;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (isfinite(m->series[i])) {
            lo = fmin(lo, m->series[i]);
            hi = fmax(hi, m->series[i]);
        }
    }
    if (!(lo <= hi)) {
        /* suppressed by privacy is not "no data": say which */
        const char *t = sr_series_hidden_text(m, m->series, n, m->series_hidden, false);
        if (!t)
            t = sr_empty_text(v);
        int tw = sr_tui_width(t);
        wkit_put(w, height / 2, width > tw ? (width - tw) / 2 : 0, width, wkit_attr(v, SR_ROLE_DIM),
                 t);
        return;
    }
    double data_lo = lo, data_hi = hi;
    if (hi - lo < 1e-9 * fmax(1, fabs(hi))) {
        double pad = fabs(hi) > 0 ? fabs(hi) * 0.1 : 1;
        lo -= pad;
        hi += pad;
    }

    int rows = height >= 3 ? height - 1 : height; /* the last line holds the times */
    double target = m->def ? m->def->target : NAN;
    bool show_target = isfinite(target) && target >= data_lo && target <= data_hi &&
                       m->agg.kind != SR_AGG_COUNT && m->agg.kind != SR_AGG_WITHIN;

    chart_mode mode = g->braille ? CHART_BRAILLE : g->utf8 ? CHART_HALF : CHART_ASCII;
    int sy = mode == CHART_BRAILLE ? 4 : mode == CHART_HALF ? 2 : 1;
    chart_plot p = {.s = m->series, .n = n, .lo = lo, .hi = hi, .py = rows * sy};
    int target_row = -1;
    if (show_target) {
        int py = (int)lround(plot_y(&p, target));
        target_row = (p.py - 1 - py) / sy;
    }

    /* value labels: the top and bottom of the range, and the target between them */
    char top[48], bottom[48], tlabel[48] = "";
    sr_format_value(hi, m->def, m->agg, true, top, sizeof top);
    sr_format_value(lo, m->def, m->agg, true, bottom, sizeof bottom);
    bool label_target = show_target && target_row > 0 && target_row < rows - 1;
    if (label_target)
        sr_format_value(target, m->def, m->agg, true, tlabel, sizeof tlabel);
    int lw = sr_tui_width(top);
    if (sr_tui_width(bottom) > lw)
        lw = sr_tui_width(bottom);
    if (sr_tui_width(tlabel) > lw)
        lw = sr_tui_width(tlabel);
    int x0 = 0;
    if (width - (lw + 1) >= CHART_PLOT_MIN) {
        attr_t a = wkit_attr(v, SR_ROLE_DIM);
        wkit_put_right(w, 0, lw, lw, a, top);
        if (rows > 1)
            wkit_put_right(w, rows - 1, lw, lw, a, bottom);
        if (label_target)
            wkit_put_right(w, target_row, lw, lw, a, tlabel);
        for (int y = 0; y < rows; y++)
            wkit_glyph(w, y, lw, a, g->vline);
        x0 = lw + 1;
    }
    int cols = width - x0;
    p.px = cols * (mode == CHART_BRAILLE ? 2 : 1);

    if (show_target) {
        for (int x = x0; x < width; x++)
            wkit_glyph(w, target_row, x, wkit_attr(v, SR_ROLE_DIM), g->hline);
    }
    chart_plot_cells(w, &p, mode, 0, x0, rows, cols, wkit_attr(v, SR_ROLE_BAR));
    if (rows < height)
        chart_draw_times(w, v, height - 1, x0, width);
}

/* The headline (the panel's value, unit and status), the chart below it. */
static void chart_draw(WINDOW *w, const sr_view *v)
{
    wkit_draw_headed(w, v, chart_draw_body);
}

/* The chart has no keys of its own (zoom and shift belong to the screen). */
static bool chart_key(sr_view *v, int key)
{
    (void)v;
    (void)key;
    return false;
}

const sr_widget_class sr_widget_chart = {
    .name = "chart",
    .min_w = 20,
    .min_h = 4,
    .wants = SR_PANEL_SERIES,
    .draw = chart_draw,
    .key = chart_key,
};
