/*
 * spread.c - the spread widget: how evenly a panel's load falls across the
 * children of its entity (metrics/spread.h has the definitions). The top
 * row says the spread, one bar per child below it, highest load first,
 * scaled to the highest load, the median marked on every bar's track, and
 * each outlier's load followed by the up marker in the warn role (so it is
 * never colour alone):
 *
 *   max/median 3.0× · busiest quarter 64 % · outliers: d5
 *   d5   ██████████████████████████████        12 ▲
 *   d4   ███████████████│                        6
 *   d1   █████          │                        2
 *   d6                                           -
 *
 * The rows come from the model after metrics/privacy has been applied: a
 * child the role may not see is not there, and a masked one shows its mask
 * and has no load, so neither is in the spread nor named.
 *
 * Narrow windows give up the load's unit words first, then the bar (below
 * SPREAD_BAR_MIN columns), then the name's width; the header is clipped at
 * the window's edge.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../metrics/spread.h"
#include "wkit.h"

#define SPREAD_NAME_MAX 20 /* columns a name gets at most */
#define SPREAD_BAR_MIN 6   /* a narrower bar says nothing */
#define SPREAD_VAL_MAX 20  /* columns a load gets at most (with its unit words) */

/* Row r's load as shown ("0.93 calls/h"; compact: "0.93"), its mask, or "-". */
static void spread_load_text(const sr_spread_row *r, const sr_panel_model *m, bool compact,
                             char *buf, size_t len)
{
    if (r->mask)
        snprintf(buf, len, "%s", r->mask);
    else if (isnan(r->load))
        snprintf(buf, len, "-");
    else
        sr_spread_format_load(r->load, m->def, m->per_def, compact, buf, len);
}

/* The columns the widest load takes. */
static int spread_load_width(const sr_spread_row *rows, size_t n, const sr_panel_model *m,
                             bool compact)
{
    int wmax = 1;
    for (size_t i = 0; i < n; i++) {
        char buf[64];
        spread_load_text(&rows[i], m, compact, buf, sizeof buf);
        int tw = sr_tui_width(buf);
        wmax = tw > wmax ? tw : wmax;
    }
    return wmax;
}

/* The header line: the spread, or why there is none. */
static void spread_header(const sr_spread *s, const sr_spread_row *rows, char *buf, size_t len)
{
    const sr_glyphs *g = sr_glyphs_get();
    if (s->why) {
        snprintf(buf, len, "no spread: %s", s->why);
        return;
    }
    size_t o = 0;
    char ratio[32], share[32];
    if (isnan(s->max_median))
        snprintf(ratio, sizeof ratio, "-");
    else
        snprintf(ratio, sizeof ratio, "%.1f%s", s->max_median, g->utf8 ? "×" : "x");
    if (isnan(s->top_share))
        snprintf(share, sizeof share, "-");
    else
        snprintf(share, sizeof share, "%.0f %%", 100 * s->top_share);
    o += (size_t)snprintf(buf, len, "max/median %s %s busiest quarter %s %s outliers: %s", ratio,
                          g->dot, share, g->dot, s->outliers ? "" : "none");
    for (size_t i = 0, k = 0; i < s->n && o < len; i++)
        if (rows[i].outlier)
            o += (size_t)snprintf(buf + o, len - o, "%s%s", k++ ? ", " : "",
                                  wkit_short_name(rows[i].entity));
}

static void spread_draw(WINDOW *w, const sr_view *v)
{
    int height, width;
    const sr_panel_model *m = wkit_model(w, v, &height, &width);
    if (!m)
        return;
    if (m->n_rows == 0) {
        wkit_put(w, 0, 0, width, wkit_attr(v, SR_ROLE_DIM), sr_empty_text(v));
        return;
    }
    sr_spread_row *rows = calloc(m->n_rows, sizeof *rows);
    if (!rows)
        return;
    for (size_t i = 0; i < m->n_rows; i++)
        rows[i] = (sr_spread_row){.entity = m->rows[i].entity,
                                  .value = m->rows[i].r,
                                  .denom = m->rows[i].denom,
                                  .mask = m->rows[i].mask[0]         ? m->rows[i].mask
                                          : m->rows[i].denom_mask[0] ? m->rows[i].denom_mask
                                                                     : NULL};
    sr_spread s;
    sr_spread_compute(rows, m->n_rows, &s);
    char head[512];
    spread_header(&s, rows, head, sizeof head);
    wkit_put(w, 0, 0, width, wkit_attr(v, s.outliers ? SR_ROLE_WARN : SR_ROLE_NORMAL), head);

    /* name, bar, load, marker; the bar goes first, then the name narrows */
    int name_w = 1;
    for (size_t i = 0; i < m->n_rows; i++) {
        int tw = sr_tui_width(wkit_short_name(rows[i].entity));
        name_w = tw > name_w ? tw : name_w;
    }
    name_w = name_w > SPREAD_NAME_MAX ? SPREAD_NAME_MAX : name_w;
    /* the load with its unit words when a bar still fits beside it */
    bool compact = false;
    int val_w = spread_load_width(rows, m->n_rows, m, false);
    if (val_w > SPREAD_VAL_MAX || width - name_w - 1 - (val_w + 2) - 1 < SPREAD_BAR_MIN) {
        compact = true;
        val_w = spread_load_width(rows, m->n_rows, m, true);
        val_w = val_w > SPREAD_VAL_MAX ? SPREAD_VAL_MAX : val_w;
    }
    int fixed = val_w + 2; /* the load, a gap and the marker */
    int bar_w = width - name_w - 1 - fixed - 1;
    if (bar_w < SPREAD_BAR_MIN)
        bar_w = 0;
    if (!bar_w && name_w > width - fixed - 1)
        name_w = width - fixed - 1 > 0 ? width - fixed - 1 : 0;
    int bar_x = name_w + 1, val_end = width - 2;
    const sr_glyphs *g = sr_glyphs_get();
    int med_x = -1;
    if (bar_w > 0 && s.max > 0 && !isnan(s.median))
        med_x = bar_x + (int)lround(s.median / s.max * (bar_w - 1));
    for (int y = 1; y < height && (size_t)(y - 1) < m->n_rows; y++) {
        const sr_spread_row *r = &rows[y - 1];
        bool loaded = !isnan(r->load);
        attr_t a_name = wkit_attr(v, loaded ? SR_ROLE_NORMAL : SR_ROLE_DIM);
        if (name_w > 0)
            wkit_put(w, y, 0, name_w, a_name, wkit_short_name(r->entity));
        if (bar_w > 0 && loaded && s.max > 0)
            wkit_bar(w, y, bar_x, bar_w, r->load / s.max, wkit_attr(v, SR_ROLE_BAR));
        /* the median on the empty part of the track: past the cells the bar took */
        int taken = loaded && s.max > 0 ? (int)ceil(r->load / s.max * bar_w - 1e-9) : 0;
        if (med_x >= 0 && med_x - bar_x >= taken)
            wkit_glyph(w, y, med_x, wkit_attr(v, SR_ROLE_ACCENT), g->vline);
        char buf[64];
        spread_load_text(r, m, compact, buf, sizeof buf);
        wkit_put_right(w, y, val_end, val_w, wkit_attr(v, SR_ROLE_VALUE), buf);
        if (r->outlier)
            wkit_glyph(w, y, width - 1, wkit_attr(v, SR_ROLE_WARN), g->up);
    }
    free(rows);
}

const sr_widget_class sr_widget_spread = {
    .name = "spread",
    .min_w = 16,
    .min_h = 1,
    .wants = SR_PANEL_ROWS,
    .draw = spread_draw,
};
