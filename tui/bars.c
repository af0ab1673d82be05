/*
 * bars.c - the breakdown as horizontal bars: one line per child entity in
 * the model's order (worst first), each with the child's short name, a bar
 * proportional to its value, the value and the status symbol in the
 * status colour (so status is never colour alone), under the headline: the
 * panel's own value (the total of a sum), unit and status, in the status's
 * colour when it is not OK (wkit_draw_headed).
 *
 *   district-3  ███████████████████▌          13m42s ✖
 *   district-1  ██████████▏                    7m05s ●
 *   district-9                                     - ·
 *
 * Bars are scaled to the largest value among all rows (not only the rows
 * shown, so scrolling does not rescale), or to 100 for a "%" metric (to the
 * largest value when that is above 100); negative values draw no bar. With
 * UTF-8 a bar is exact to an eighth of a cell, in ASCII to a cell.
 *
 * Narrow windows give up, in this order: the name's width (down to
 * BARS_NAME_MIN, the bar keeping BARS_BAR_MIN), the value's unit words
 * (compact values), the bar, the value; the status symbol stays as long as
 * there is one column.
 */
#include <math.h>
#include <string.h>

#include "wkit.h"

#define BARS_NAME_MAX 24 /* columns a name gets at most */
#define BARS_NAME_MIN 6  /* columns a name keeps before the bar is dropped */
#define BARS_BAR_MIN 4   /* a narrower bar says nothing */

typedef struct {
    int name_w;         /* 0 = no name */
    int bar_x, bar_w;   /* bar_w 0 = no bar */
    int val_end, val_w; /* value right-aligned to end before val_end; val_w 0 = none */
    int sym_x;          /* -1 = no symbol */
    bool compact;       /* values without unit words */
} bars_layout;

static bars_layout bars_layout_for(const sr_panel_model *m, int width)
{
    bars_layout l = {.sym_x = -1};
    if (width <= 0)
        return l;
    int name_nat = 1;
    for (size_t i = 0; i < m->n_rows; i++) {
        int tw = sr_tui_width(wkit_short_name(m->rows[i].entity));
        if (tw > name_nat)
            name_nat = tw;
    }
    if (name_nat > BARS_NAME_MAX)
        name_nat = BARS_NAME_MAX;
    int sym_w = 1;
    l.sym_x = width - sym_w;

    /* name, bar, value, symbol: full values first, then compact ones */
    for (int pass = 0; pass < 2; pass++) {
        bool compact = pass == 1;
        int vw = wkit_rows_value_width(m, compact, 1);
        int avail = width - (vw + 1 + sym_w + 1); /* name, gap, bar */
        int name_w = avail - 1 - BARS_BAR_MIN;
        if (name_w > name_nat)
            name_w = name_nat;
        if (name_w >= BARS_NAME_MIN || (name_w >= 1 && name_w == name_nat)) {
            l.compact = compact;
            l.name_w = name_w;
            l.bar_x = name_w + 1;
            l.bar_w = avail - 1 - name_w;
            l.val_w = vw;
            l.val_end = l.sym_x - 1;
            return l;
        }
    }
    /* no bar: name, compact value, symbol; then name and symbol; then the symbol */
    l.compact = true;
    int vw = wkit_rows_value_width(m, true, 1);
    int name_w = width - (vw + 1 + sym_w + 1);
    if (name_w > name_nat)
        name_w = name_nat;
    if (name_w >= 1) {
        l.name_w = name_w;
        l.val_w = vw;
        l.val_end = l.sym_x - 1;
        return l;
    }
    l.name_w = width - sym_w - 1 > 0 ? width - sym_w - 1 : 0;
    return l;
}

/* The value a full bar stands for; 0 when no row has a positive value. */
static double bars_scale(const sr_panel_model *m)
{
    double top = 0;
    for (size_t i = 0; i < m->n_rows; i++) {
        double x = m->rows[i].r.value;
        if (isfinite(x) && x > top)
            top = x;
    }
    if (m->def && strcmp(m->def->unit, "%") == 0 && top < 100)
        top = 100;
    return top;
}

static void bars_draw_body(WINDOW *w, const sr_view *v)
{
    int height, width;
    const sr_panel_model *m = wkit_model(w, v, &height, &width);
    if (!m)
        return;
    if (m->n_rows == 0) {
        wkit_put(w, 0, 0, width, wkit_attr(v, SR_ROLE_DIM), sr_empty_text(v));
        return;
    }
    bars_layout l = bars_layout_for(m, width);
    double scale = bars_scale(m);
    size_t first = wkit_list_first(v, m->n_rows, height);
    for (int y = 0; y < height && first + (size_t)y < m->n_rows; y++) {
        size_t i = first + (size_t)y;
        const sr_panel_row *row = &m->rows[i];
        bool sel = v->selected >= 0 && (size_t)v->selected == i;
        attr_t a_sel = wkit_attr(v, SR_ROLE_SELECTED);
        if (sel)
            wkit_fill(w, y, 0, width, a_sel);
        attr_t a_name = sel ? a_sel : wkit_attr(v, SR_ROLE_NORMAL);
        attr_t a_bar = sel ? a_sel : wkit_attr(v, SR_ROLE_BAR);
        attr_t a_val = sel ? a_sel : wkit_attr(v, SR_ROLE_VALUE);
        attr_t a_sym = sel ? a_sel : wkit_attr(v, sr_status_role(row->status));

        if (l.name_w > 0)
            wkit_put(w, y, 0, l.name_w, a_name, wkit_short_name(row->entity));
        if (l.bar_w > 0 && scale > 0 && isfinite(row->r.value))
            wkit_bar(w, y, l.bar_x, l.bar_w, row->r.value / scale, a_bar);
        if (l.val_w > 0) {
            char buf[64];
            sr_format_masked(row->mask, row->r.value, m->def, m->agg, l.compact, buf, sizeof buf);
            wkit_put_right(w, y, l.val_end, l.val_w, a_val, buf);
        }
        if (l.sym_x >= 0)
            wkit_glyph(w, y, l.sym_x, a_sym, wkit_status_glyph(row->status));
    }
}

/* The headline (the panel's value, unit and status), the bars below it. */
static void bars_draw(WINDOW *w, const sr_view *v)
{
    wkit_draw_headed(w, v, bars_draw_body);
}

static bool bars_key(sr_view *v, int key)
{
    return v && v->m && wkit_list_key(v, key, v->m->n_rows);
}

const sr_widget_class sr_widget_bars = {
    .name = "bars",
    .min_w = 16,
    .min_h = 1,
    .wants = SR_PANEL_ROWS,
    .draw = bars_draw,
    .key = bars_key,
};
