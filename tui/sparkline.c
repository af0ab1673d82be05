/*
 * sparkline.c - the shared sparkline drawing (sr_draw_sparkline and its
 * multi-row form) and the sparkline widget: the value on the first line and
 * the window's series as a sparkline below, as tall as the panel allows.
 *
 * Drawing a series takes two passes over the columns and no memory: the
 * series is resampled to one value per column by averaging the finite
 * samples each column covers (weighted by how much of a sample falls into
 * the column, so a series shorter than the width stretches and a longer one
 * shrinks), the first pass finds the lowest and highest column, the second
 * maps every column to one of rows * 8 levels and writes the block glyphs.
 * The lowest finite column still shows the lowest glyph, so that "low" and
 * "no data" (a blank column) never look alike; a flat series sits at the
 * middle level. Every write is clipped to the window (getmaxyx).
 *
 * A series that privacy emptied (metrics/privacy.h: too few observations
 * per slice) is not drawn as blank cells, which read as "no data": the
 * reason goes in their place (sr_draw_series_rows), for the tile and the
 * sparkline alike, the short form in a table's trend cell.
 */
#include <math.h>
#include <string.h>

#include "tui.h"
#include "wkit.h"

/* The slices of a model's series, never more than the array holds. */
#define SERIES_N(m) ((m)->n_series < SR_SERIES_MAX ? (m)->n_series : (size_t)SR_SERIES_MAX)

/* The average of the finite samples that column col of width columns covers; NAN for none. */
static double column_value(const double *s, size_t n, int col, int width)
{
    double a = (double)col * (double)n / width;
    double b = (double)(col + 1) * (double)n / width;
    double sum = 0, weight = 0;
    for (size_t j = (size_t)a; j < n && (double)j < b; j++) {
        double lo = a > (double)j ? a : (double)j;
        double hi = b < (double)(j + 1) ? b : (double)(j + 1);
        if (hi > lo && isfinite(s[j])) {
            sum += s[j] * (hi - lo);
            weight += hi - lo;
        }
    }
    return weight > 0 ? sum / weight : NAN;
}

void sr_draw_sparkline_rows(WINDOW *w, int y, int x, int width, int rows, const double *series,
                            size_t n, attr_t attr)
{
    int h, wd;
    getmaxyx(w, h, wd);
    if (y < 0 || x < 0 || y >= h || x >= wd)
        return;
    if (width > wd - x)
        width = wd - x;
    if (rows > h - y)
        rows = h - y;
    if (width <= 0 || rows <= 0)
        return;
    if (!series)
        n = 0;

    double lo = INFINITY, hi = -INFINITY;
    for (int c = 0; c < width; c++) {
        double v = column_value(series, n, c, width);
        if (isfinite(v)) {
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    }

    const sr_glyphs *g = sr_glyphs_get();
    int levels = rows * 8;
    for (int c = 0; c < width; c++) {
        double v = n > 0 ? column_value(series, n, c, width) : NAN;
        int level = 0; /* 0 = blank, 1 .. levels */
        if (isfinite(v)) {
            if (hi > lo) {
                /* halves keep hi - lo finite for any pair of finite doubles */
                double t = (v / 2 - lo / 2) / (hi / 2 - lo / 2);
                t = t < 0 ? 0 : t > 1 ? 1 : t;
                level = 1 + (int)lround(t * (levels - 1));
            } else {
                level = levels / 2;
            }
        }
        for (int r = 0; r < rows; r++) {
            int fill = level - 8 * r; /* r counts rows from the bottom */
            fill = fill < 0 ? 0 : fill > 8 ? 8 : fill;
            wkit_glyph(w, y + rows - 1 - r, x + c, attr, fill ? g->spark[fill - 1] : " ");
        }
    }
}

void sr_draw_sparkline(WINDOW *w, int y, int x, int width, const double *series, size_t n,
                       attr_t attr)
{
    sr_draw_sparkline_rows(w, y, x, width, 1, series, n, attr);
}

const char *sr_series_hidden_text(const sr_panel_model *m, const double *series, size_t n,
                                  size_t hidden, bool brief)
{
    if (!m || hidden == 0)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (isfinite(series[i]))
            return NULL;
    }
    if (strcmp(m->mask, "hidden") == 0)
        return "hidden";
    if (m->agg.kind == SR_AGG_PCT)
        return brief ? "n<10" : "percentiles hidden: <10 per point; zoom out (-)";
    return brief ? "hidden" : "hidden: too few per point";
}

void sr_draw_series_rows(WINDOW *w, int y, int x, int width, int rows, const sr_panel_model *m,
                         const double *series, size_t n, size_t hidden, attr_t attr)
{
    const char *why = sr_series_hidden_text(m, series, n, hidden, false);
    if (!why) {
        sr_draw_sparkline_rows(w, y, x, width, rows, series, n, attr);
        return;
    }
    if (rows > 0 && width > 0)
        wkit_put(w, y + rows - 1, x, width, sr_role_attr(SR_ROLE_DIM), why);
}

/*
 * The widget. Height 1: the value in at most half the width (all of it
 * when narrow), then the sparkline in the columns left when at least three
 * are. Height 2 and more: the value with the status
 * on the right on the first line, the sparkline in all the rows below.
 */
static void sparkline_draw(WINDOW *w, const sr_view *v)
{
    int h, wd;
    getmaxyx(w, h, wd);
    if (h <= 0 || wd <= 0)
        return;
    const sr_panel_model *m = v->m;
    attr_t spark = sr_role_attr(v->stale ? SR_ROLE_STALE : SR_ROLE_BAR);

    if (h == 1) {
        int used = sr_draw_value(w, 0, 0, wd >= 12 ? wd / 2 : wd, v);
        int x = used + 1;
        if (m && used > 0 && wd - x >= 3)
            sr_draw_series_rows(w, 0, x, wd - x, 1, m, m->series, SERIES_N(m), m->series_hidden,
                                spark);
        return;
    }

    sr_draw_value_status(w, 0, wd, v);
    if (m)
        sr_draw_series_rows(w, 1, 0, wd, h - 1, m, m->series, SERIES_N(m), m->series_hidden, spark);
}

const sr_widget_class sr_widget_sparkline = {
    .name = "sparkline",
    .min_w = 8,
    .min_h = 1,
    .wants = SR_PANEL_SERIES,
    .draw = sparkline_draw,
    .key = NULL,
};
