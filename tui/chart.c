/*
 * chart.c - the history of the panel's aggregate as a line chart over the
 * window, with the value range on the left and the time range below, under
 * the headline (the panel's own value, unit and status: wkit_draw_headed).
 *
 *   3 742 calls
 *   300 calls/h│         ⢀⡠⠔⠊⠉⠑⠢⡀
 *           200│   ⢀⠔⠊⠁          ⠈⠢⣀
 *           100│⣀⠔⠊                   ⠉
 *             0│
 *               09:00                13:00
 *
 * The plot is a grid of pixels: 2x4 per cell with braille dots
 * (g->braille), 1x2 with half blocks otherwise in UTF-8, 1x1 with '*' in
 * ASCII. Sample i of n stands at the centre of its slice, x = (i + 0.5) *
 * pixels / n, so any number of samples maps onto any width; consecutive
 * samples are joined by straight segments, and a NAN on either side leaves
 * the gap open (a lone sample is one dot), unless the figures are coarser
 * than the slices (monthly figures over a year): then the usual gaps are
 * bridged and only a longer silence stays open (chart_join). Per pixel
 * column the line covers one vertical span, which is all a cell needs to
 * know.
 *
 * The vertical range is the data's minimum and maximum widened to round
 * steps (chart_step: 1, 2, 5 times a power of ten, or whole minutes and
 * hours), with a label on every step that has room, the top one with the
 * unit; sums and counts are charted per hour or per day (chart_rate), so
 * the axis does not follow the slices, which follow the terminal's width.
 * The metric's target is a dim horizontal line (and a label on the axis
 * when there is room) when it lies inside that range and the aggregate is
 * in the metric's units (not a count, a rate or a share within target).
 * Times are in the force's time zone: HH:MM, "Mon 12" for windows longer
 * than two days, month names for windows longer than two months.
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
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wkit.h"

#define CHART_PLOT_MIN 4 /* columns the plot keeps before the value labels go */
/* Sums over windows longer than this chart per day, shorter ones per hour */
#define CHART_PER_DAY_MS (7 * SR_MS_DAY)
/* Windows longer than this name months under the plot (a 365 d window) */
#define CHART_MONTHS_MS (62 * SR_MS_DAY)

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

/*
 * The step between the value axis's labels for data from lo to hi: about a
 * third of the range, rounded up to a round figure, so that the labels stay
 * the same when the window (and with it the slices of the series) changes
 * a little: 1, 2 or 5 times a power of ten; for durations whole seconds,
 * minutes, hours or days (15m, 1h, 6h).
 */
static double chart_step(const sr_panel_model *m, double lo, double hi)
{
    double want = (hi - lo) / 3;
    if (!(want > 0))
        want = fabs(hi) > 0 ? fabs(hi) / 3 : 1;
    bool duration = m->def && strcmp(m->def->unit, "s") == 0 && m->agg.kind != SR_AGG_COUNT &&
                    m->agg.kind != SR_AGG_WITHIN;
    if (duration && want >= 1) {
        static const double steps[] = {1,     2,     5,     10,    15,     30,    60,
                                       120,   300,   600,   900,   1800,   3600,  7200,
                                       10800, 21600, 43200, 86400, 172800, 604800};
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
            if (steps[i] >= want)
                return steps[i];
        }
        return ceil(want / 604800) * 604800;
    }
    double p10 = pow(10, floor(log10(want)));
    double f = want / p10;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p10;
}

/*
 * The value axis: a label at every multiple of step that has a row of its
 * own (a blank row between labels), the top one with the metric's unit
 * ("150 calls") and the others compact, the target's value on its line
 * when no label is on it, and the axis line. Returns the column where
 * the plot starts: 0 when the labels would leave it under CHART_PLOT_MIN
 * columns (then no labels and no axis).
 */
static int chart_draw_ticks(WINDOW *w, const sr_view *v, const chart_plot *p, double step,
                            const char *per, int rows, int sy, int width, int target_row)
{
    const sr_panel_model *m = v->m;
    enum { TICKS_MAX = 64 };
    char text[TICKS_MAX][48];
    int row[TICKS_MAX], n = 0, lw = 0;
    int last = -2;
    long k_max = lround((p->hi - p->lo) / step);
    for (long k = k_max; k >= 0 && n < TICKS_MAX; k--) {
        double val = p->lo + (double)k * step;
        int y = (p->py - 1 - (int)lround(plot_y(p, val))) / sy;
        if (k != 0 && k != k_max && (y - last < 2 || rows - 1 - y < 2))
            continue; /* the top and the bottom always; between them where there is room */
        if (k == 0 && y == last && rows > 1)
            continue;
        sr_format_value(val, m->def, m->agg, k != k_max, text[n], sizeof text[n]);
        if (k == k_max && *per) { /* a rate: "150 calls/h" */
            size_t len = strlen(text[n]);
            snprintf(text[n] + len, sizeof text[n] - len, "%s", per);
        }
        row[n++] = y;
        last = y;
    }
    for (int i = 0; i < n; i++) {
        if (sr_tui_width(text[i]) > lw)
            lw = sr_tui_width(text[i]);
    }
    if (width - (lw + 1) < CHART_PLOT_MIN && n > 0) {
        /* narrow: the top label without its unit words */
        sr_format_value(p->lo + (double)k_max * step, m->def, m->agg, true, text[0],
                        sizeof text[0]);
        size_t len = strlen(text[0]);
        snprintf(text[0] + len, sizeof text[0] - len, "%s", per);
        lw = 0;
        for (int i = 0; i < n; i++) {
            if (sr_tui_width(text[i]) > lw)
                lw = sr_tui_width(text[i]);
        }
    }
    char tlabel[48] = "";
    bool label_target = target_row > 0 && target_row < rows - 1;
    for (int i = 0; i < n && label_target; i++) {
        if (row[i] == target_row)
            label_target = false;
    }
    if (label_target) {
        sr_format_value(m->def->target, m->def, m->agg, true, tlabel, sizeof tlabel);
        if (sr_tui_width(tlabel) > lw)
            lw = sr_tui_width(tlabel);
    }
    if (width - (lw + 1) < CHART_PLOT_MIN)
        return 0;
    attr_t a = wkit_attr(v, SR_ROLE_DIM);
    for (int i = 0; i < n; i++) {
        if (row[i] >= 0 && row[i] < rows)
            wkit_put_right(w, row[i], lw, lw, a, text[i]);
    }
    if (label_target)
        wkit_put_right(w, target_row, lw, lw, a, tlabel);
    const sr_glyphs *g = sr_glyphs_get();
    for (int y = 0; y < rows; y++)
        wkit_glyph(w, y, lw, a, g->vline);
    return lw + 1;
}

/*
 * The series to plot: s itself, except that when its values are coarser
 * than its slices (monthly figures in a year of two-day slices: most gaps
 * between values are several slices long), the gaps up to twice the usual
 * one are filled on the straight line between their ends, so that the
 * figures read as a connected line and not as isolated dots. A gap longer
 * than that (the source was silent) stays open.
 */
static size_t chart_join(const double *s, size_t n, double *out)
{
    size_t gaps[SR_SERIES_MAX + 1] = {0}; /* how many gaps of each length */
    size_t prev = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        out[i] = s[i];
        if (!isfinite(s[i]))
            continue;
        if (prev != SIZE_MAX)
            gaps[i - prev]++;
        prev = i;
    }
    size_t usual = 1;
    for (size_t d = 1; d <= n; d++) {
        if (gaps[d] > gaps[usual])
            usual = d;
    }
    if (usual <= 1)
        return usual;
    prev = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(s[i]))
            continue;
        if (prev != SIZE_MAX && i - prev > 1 && i - prev <= 2 * usual) {
            for (size_t k = prev + 1; k < i; k++)
                out[k] = s[prev] + (s[i] - s[prev]) * (double)(k - prev) / (double)(i - prev);
        }
        prev = i;
    }
    return usual;
}

/*
 * A sum or count per slice grows with the slice, and the slices follow the
 * width of the window: so that the value axis does not change when the
 * terminal does, such a series is plotted as a rate per hour (windows up to
 * CHART_PER_DAY_MS) or per day, and its axis says so ("150 calls/h").
 * Not when the figures are coarser than the slices (each slice then holds
 * one figure, a month's, whatever its length). Returns the factor to
 * multiply the series by (1 for none) and sets *per ("/h", "/d" or "").
 */
static double chart_rate(const sr_panel_model *m, size_t usual_gap, const char **per)
{
    *per = "";
    bool additive = m->agg.kind == SR_AGG_SUM || m->agg.kind == SR_AGG_COUNT;
    if (!additive || usual_gap > 1 || m->series_slice_ms <= 0)
        return 1;
    bool days = m->to_ms - m->from_ms > CHART_PER_DAY_MS;
    *per = days ? "/d" : "/h";
    return (double)(days ? SR_MS_DAY : SR_MS_HOUR) / (double)m->series_slice_ms;
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

/*
 * The months of a long window (over CHART_MONTHS_MS) under the plot: each
 * month's name where it begins ("Mar"), January as its year ("2026"), the
 * first one shown with its year ("Nov 2025"), left out where it would run
 * into the one before. In the force's time zone.
 */
static void chart_draw_months(WINDOW *w, const sr_view *v, int y, int x0, int width)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const sr_panel_model *m = v->m;
    sr_ms span = m->to_ms - m->from_ms;
    int cols = width - x0;
    sr_civil c;
    const char *tz = v->timezone;
    if (sr_utc_to_local(tz, m->from_ms, &c) != 0) {
        tz = NULL;
        if (sr_utc_to_local(NULL, m->from_ms, &c) != 0)
            return;
    }
    attr_t a = wkit_attr(v, SR_ROLE_DIM);
    int next_x = x0; /* the first column free for a label */
    bool first = true;
    for (int k = 1; k <= 24; k++) {
        sr_ms t;
        if (sr_local_to_utc(tz, c.year, c.mon + k, 1, 0, 0, 0, &t) != 0 || t >= m->to_ms)
            break;
        int month = (c.mon - 1 + k) % 12, year = c.year + (c.mon - 1 + k) / 12;
        char label[32];
        if (first && month != 0)
            snprintf(label, sizeof label, "%s %d", mon[month], year);
        else if (month == 0)
            snprintf(label, sizeof label, "%d", year);
        else
            snprintf(label, sizeof label, "%s", mon[month]);
        int x = x0 + (int)((double)(t - m->from_ms) / (double)span * cols);
        int lw = sr_tui_width(label);
        if (x < next_x || x + lw > width)
            continue;
        wkit_put(w, y, x, lw, a, label);
        next_x = x + lw + 1;
        first = false;
    }
}

static void chart_draw_times(WINDOW *w, const sr_view *v, int y, int x0, int width)
{
    const sr_panel_model *m = v->m;
    if (m->to_ms <= m->from_ms)
        return;
    sr_ms span = m->to_ms - m->from_ms;
    if (span > CHART_MONTHS_MS) {
        chart_draw_months(w, v, y, x0, width);
        return;
    }
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
    int height, width;
    const sr_panel_model *m = wkit_model(w, v, &height, &width);
    if (!m)
        return;
    const sr_glyphs *g = sr_glyphs_get();
    size_t n = m->n_series > SR_SERIES_MAX ? SR_SERIES_MAX : m->n_series;
    double joined[SR_SERIES_MAX];
    const char *per;
    double rate = chart_rate(m, chart_join(m->series, n, joined), &per);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        joined[i] *= rate;
        if (isfinite(joined[i])) {
            lo = fmin(lo, joined[i]);
            hi = fmax(hi, joined[i]);
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
    double step = chart_step(m, lo, hi);
    lo = floor(lo / step) * step;
    hi = ceil(hi / step) * step;
    if (hi - lo < step / 2)
        hi = lo + step;

    int rows = height >= 3 ? height - 1 : height; /* the last line holds the times */
    double target = m->def ? m->def->target : NAN;
    bool show_target = isfinite(target) && target >= lo && target <= hi && !*per &&
                       m->agg.kind != SR_AGG_COUNT && m->agg.kind != SR_AGG_WITHIN;

    chart_mode mode = g->braille ? CHART_BRAILLE : g->utf8 ? CHART_HALF : CHART_ASCII;
    int sy = mode == CHART_BRAILLE ? 4 : mode == CHART_HALF ? 2 : 1;
    chart_plot p = {.s = joined, .n = n, .lo = lo, .hi = hi, .py = rows * sy};
    int target_row = -1;
    if (show_target) {
        int py = (int)lround(plot_y(&p, target));
        target_row = (p.py - 1 - py) / sy;
    }

    int x0 = chart_draw_ticks(w, v, &p, step, per, rows, sy, width, target_row);
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
