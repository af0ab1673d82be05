/*
 * table.c - the breakdown as a table: a header line, then one line per
 * child entity in the model's order (worst first).
 *
 *   NAME          VALUE  CHANGE  STATUS  TREND
 *   district-3   13m42s    ▲12%  ✖ CRIT  ▁▂▃▅▆█▇▅
 *   district-1    7m05s     ▼3%  ● OK    ▂▂▁▂▃▂▂▁
 *
 * NAME is the child's short name, VALUE the formatted value (right-aligned),
 * CHANGE the change against the previous window as the tiles write it (in
 * the WARN role when it goes the metric's worse way, OK the better way, for
 * rows with a status; only when some row has one), STATUS the symbol and
 * word, TREND the row's short series as a sparkline over the rest of the
 * line (only when the model has row series). With the breakdown sorted by
 * "u" (rows against their normal), OUTSIDE after CHANGE says how far each
 * row's figure is outside its band in band widths ("▲2.3", "▼0.8", "·"
 * within), in the WARN role when the row is unusual; it goes with CHANGE.
 *
 * Narrow windows: the name shrinks (down to TABLE_NAME_MIN) and the trend
 * narrows (down to TABLE_TREND_MIN) first, the gaps go from two columns to
 * one, then the trend is dropped, the status word becomes the symbol alone
 * (header "S"), the change goes, and values lose their unit words. Below
 * that: name, value and symbol without a header; then name and symbol;
 * then the symbol.
 * A window of one line shows rows without the header.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "wkit.h"

#define TABLE_NAME_MAX 32
#define TABLE_NAME_MIN 6
#define TABLE_TREND_MIN 5

typedef struct {
    bool header;
    int name_x, name_w; /* name_w 0 = no name column */
    int val_end, val_w; /* right-aligned, ending before val_end; 0 = none */
    int st_x, st_w;     /* st_w 0 = none, 1 = symbol, more = symbol and word */
    int tr_x, tr_w;     /* 0 = no trend */
    int ch_end, ch_w;   /* the change, right-aligned, ending before ch_end; 0 = none */
    int un_end, un_w;   /* how far outside its normal, right-aligned; 0 = none */
    bool compact;
} table_layout;

/* Columns the CHANGE column needs; 0 when no row has a change. */
static int table_change_width(const sr_panel_model *m)
{
    int wmax = 0;
    char buf[48];
    for (size_t i = 0; i < m->n_rows; i++) {
        if (sr_format_change(m->rows[i].change_pct, buf, sizeof buf) && sr_tui_width(buf) > wmax)
            wmax = sr_tui_width(buf);
    }
    return wmax > 0 && wmax < sr_tui_width("CHANGE") ? sr_tui_width("CHANGE") : wmax;
}

/*
 * How far row is outside its normal (sr_panel_row.outside), in band widths:
 * "▲2.3" above, "▼0.8" below, "·" within; false without a measure.
 */
static bool table_outside_text(const sr_panel_row *row, char *buf, size_t len)
{
    const sr_glyphs *g = sr_glyphs_get();
    if (isnan(row->outside))
        return false;
    if (row->outside == 0)
        snprintf(buf, len, "%s", g->dot);
    else
        snprintf(buf, len, "%s%.1f", row->outside > 0 ? g->up : g->down, fabs(row->outside));
    return true;
}

/* Columns the OUTSIDE column needs; 0 when the model was not computed
 * against its baseline (sr_panel_model.base_run) or no row has a measure. */
static int table_outside_width(const sr_panel_model *m)
{
    if (m->n_base_run == 0)
        return 0;
    int wmax = 0;
    char buf[48];
    for (size_t i = 0; i < m->n_rows; i++) {
        if (table_outside_text(&m->rows[i], buf, sizeof buf) && sr_tui_width(buf) > wmax)
            wmax = sr_tui_width(buf);
    }
    return wmax > 0 && wmax < sr_tui_width("OUTSIDE") ? sr_tui_width("OUTSIDE") : wmax;
}

/* Columns "● CRIT" takes: a symbol, a blank and the widest status word. */
static int table_status_width(void)
{
    static const sr_status all[] = {SR_STATUS_NONE, SR_STATUS_OK, SR_STATUS_WARN, SR_STATUS_CRIT};
    int wmax = sr_tui_width("STATUS");
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        int tw = sr_tui_width(wkit_status_glyph(all[i])) + 1 + sr_tui_width(sr_status_name(all[i]));
        if (tw > wmax)
            wmax = tw;
    }
    return wmax;
}

static table_layout table_layout_for(const sr_panel_model *m, int width, int height)
{
    table_layout l = {0};
    if (width <= 0)
        return l;
    int name_nat = sr_tui_width("NAME");
    size_t trend_max = 0;
    for (size_t i = 0; i < m->n_rows; i++) {
        int tw = sr_tui_width(wkit_short_name(m->rows[i].entity));
        if (tw > name_nat)
            name_nat = tw;
        if (m->rows[i].n_series > trend_max)
            trend_max = m->rows[i].n_series;
    }
    if (name_nat > TABLE_NAME_MAX)
        name_nat = TABLE_NAME_MAX;
    bool has_trend = trend_max > 0;
    int st_word = table_status_width();
    int vw_full = wkit_rows_value_width(m, false, sr_tui_width("VALUE")),
        vw_compact = wkit_rows_value_width(m, true, sr_tui_width("VALUE"));

    int chw = table_change_width(m);
    int unw = table_outside_width(m);
    static const struct {
        bool trend, word, compact, change;
    } tries[] = {
        {true, true, false, true},    {false, true, false, true},  {false, false, false, true},
        {false, false, false, false}, {false, false, true, false},
    };
    for (size_t t = 0; t < sizeof tries / sizeof tries[0]; t++) {
        if (tries[t].trend && !has_trend)
            continue;
        for (int gap = 2; gap >= 1; gap--) {
            int vw = tries[t].compact ? vw_compact : vw_full;
            int sw = tries[t].word ? st_word : 1;
            int cw = tries[t].change ? chw : 0;
            int uw = tries[t].change ? unw : 0;
            int ncols = 3 + tries[t].trend + (cw > 0) + (uw > 0);
            int fixed = vw + cw + uw + sw + gap * (ncols - 1);
            int trend_min = tries[t].trend ? TABLE_TREND_MIN : 0;
            int name_w = width - fixed - trend_min;
            if (name_w > name_nat)
                name_w = name_nat;
            if (name_w < TABLE_NAME_MIN && name_w < name_nat)
                continue;
            l.header = height >= 2;
            l.compact = tries[t].compact;
            l.name_x = 0;
            l.name_w = name_w;
            l.val_w = vw;
            l.val_end = name_w + gap + vw;
            l.ch_w = cw;
            l.ch_end = cw > 0 ? l.val_end + gap + cw : l.val_end;
            l.un_w = uw;
            l.un_end = uw > 0 ? l.ch_end + gap + uw : l.ch_end;
            l.st_x = l.un_end + gap;
            l.st_w = sw;
            if (tries[t].trend) {
                l.tr_x = l.st_x + sw + gap;
                l.tr_w = width - l.tr_x; /* the rest of the line: a trend fills it */
            }
            return l;
        }
    }
    /* no header: name, compact value and symbol; name and symbol; the symbol */
    l.compact = true;
    l.st_w = 1;
    l.st_x = width - 1;
    int name_w = width - (vw_compact + 1 + 1 + 1);
    if (name_w > name_nat)
        name_w = name_nat;
    if (name_w >= 1) {
        l.name_w = name_w;
        l.val_w = vw_compact;
        l.val_end = name_w + 1 + vw_compact;
        l.st_x = l.val_end + 1;
        return l;
    }
    l.name_w = width - 2 > 0 ? width - 2 : 0;
    return l;
}

static void table_draw_header(WINDOW *w, const sr_view *v, const table_layout *l)
{
    attr_t a = wkit_attr(v, SR_ROLE_TITLE);
    if (l->name_w > 0)
        wkit_put(w, 0, l->name_x, l->name_w, a, "NAME");
    if (l->val_w > 0)
        wkit_put_right(w, 0, l->val_end, l->val_w, a, "VALUE");
    if (l->ch_w > 0)
        wkit_put_right(w, 0, l->ch_end, l->ch_w, a, "CHANGE");
    if (l->un_w > 0)
        wkit_put_right(w, 0, l->un_end, l->un_w, a, "OUTSIDE");
    if (l->st_w > 0)
        wkit_put(w, 0, l->st_x, l->st_w, a, l->st_w > 1 ? "STATUS" : "S");
    if (l->tr_w > 0)
        wkit_put(w, 0, l->tr_x, l->tr_w, a, "TREND");
}

static void table_draw_row(WINDOW *w, const sr_view *v, const table_layout *l, int y, size_t i)
{
    const sr_panel_model *m = v->m;
    const sr_panel_row *row = &m->rows[i];
    int width = getmaxx(w);
    bool sel = v->selected >= 0 && (size_t)v->selected == i;
    attr_t a_sel = wkit_attr(v, SR_ROLE_SELECTED);
    if (sel)
        wkit_fill(w, y, 0, width, a_sel);
    attr_t a_name = sel ? a_sel : wkit_attr(v, SR_ROLE_NORMAL);
    attr_t a_val = sel ? a_sel : wkit_attr(v, SR_ROLE_VALUE);
    attr_t a_st = sel ? a_sel : wkit_attr(v, sr_status_role(row->status));
    attr_t a_tr = sel ? a_sel : wkit_attr(v, SR_ROLE_BAR);

    if (l->name_w > 0)
        wkit_put(w, y, l->name_x, l->name_w, a_name, wkit_short_name(row->entity));
    if (l->val_w > 0) {
        char buf[64];
        sr_format_masked(row->mask, row->r.value, m->def, m->agg, l->compact, buf, sizeof buf);
        wkit_put_right(w, y, l->val_end, l->val_w, a_val, buf);
    }
    char chg[48];
    if (l->ch_w > 0 && sr_format_change(row->change_pct, chg, sizeof chg)) {
        /* coloured by its direction where the row has a status, as a tile's change */
        sr_role role = SR_ROLE_NORMAL;
        if (row->status != SR_STATUS_NONE && strcmp(chg, sr_glyphs_get()->flat) != 0) {
            bool better = sr_kpi_higher_is_better(m->def, m->agg) == (row->change_pct > 0);
            role = better ? SR_ROLE_OK : SR_ROLE_WARN;
        }
        wkit_put_right(w, y, l->ch_end, l->ch_w, sel ? a_sel : wkit_attr(v, role), chg);
    }
    if (l->un_w > 0 && table_outside_text(row, chg, sizeof chg)) {
        bool unusual = row->unusual == SR_UNUSUAL_HIGH || row->unusual == SR_UNUSUAL_LOW;
        wkit_put_right(w, y, l->un_end, l->un_w,
                       sel ? a_sel : wkit_attr(v, unusual ? SR_ROLE_WARN : SR_ROLE_DIM), chg);
    }
    if (l->st_w > 0) {
        const char *sym = wkit_status_glyph(row->status);
        wkit_glyph(w, y, l->st_x, a_st, sym);
        if (l->st_w > 1)
            wkit_put(w, y, l->st_x + 2, l->st_w - 2, a_st, sr_status_name(row->status));
    }
    if (l->tr_w > 0 && row->n_series > 0 && l->tr_x + l->tr_w <= width) {
        size_t n = row->n_series > SR_ROW_SERIES ? SR_ROW_SERIES : row->n_series;
        const char *why = sr_series_hidden_text(m, row->series, n, row->series_hidden, true);
        if (why)
            wkit_put(w, y, l->tr_x, l->tr_w, sel ? a_sel : wkit_attr(v, SR_ROLE_DIM), why);
        else
            sr_draw_sparkline(w, y, l->tr_x, l->tr_w, row->series, n, a_tr);
    }
}

static void table_draw(WINDOW *w, const sr_view *v)
{
    int height, width;
    const sr_panel_model *m = wkit_model(w, v, &height, &width);
    if (!m)
        return;
    table_layout l = table_layout_for(m, width, height);
    if (l.header)
        table_draw_header(w, v, &l);
    int top = l.header ? 1 : 0;
    if (m->n_rows == 0) {
        wkit_put(w, top < height ? top : 0, 0, width, wkit_attr(v, SR_ROLE_DIM), sr_empty_text(v));
        return;
    }
    int visible = height - top;
    size_t first = wkit_list_first(v, m->n_rows, visible);
    for (int r = 0; r < visible && first + (size_t)r < m->n_rows; r++)
        table_draw_row(w, v, &l, top + r, first + (size_t)r);
}

static bool table_key(sr_view *v, int key)
{
    return v && v->m && wkit_list_key(v, key, v->m->n_rows);
}

const sr_widget_class sr_widget_table = {
    .name = "table",
    .min_w = 20,
    .min_h = 2,
    .wants = SR_PANEL_ROWS | SR_PANEL_ROW_SERIES,
    .draw = table_draw,
    .key = table_key,
};
