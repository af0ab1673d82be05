/*
 * tile.c - the KPI tile, the main panel of the dashboard, and the pieces
 * of text every panel draws the same way: the current value
 * (sr_draw_value), the status (sr_draw_status), and both on one line
 * (sr_draw_value_status).
 *
 *   p90 13m42s       ▼6% vs prev 8h      value, change against the previous window
 *   target 15m00s            ✖ CRIT      target (or the previous value), status
 *   normal 150–205 (Fri 22-23h, 8 wk)  unusual ▲   with baseline = yes (below)
 *   next 8h: 310–380 · backtest error 11 % (4 wk)  with forecast = yes
 *   ▁▂▃▂▄▅▃▂▂▁▂▃▅▆▅▃▂▁▂▃▂▂▁▂▃▂▁▂▃▂▂▁      the window's series, every row left
 *
 * The baseline line (sr_panel_model.base_run) takes the row under the
 * status where the series keeps a row below it; in a tile of three rows
 * only when the figure is unusual, since that is what must not be missed.
 * The forecast line takes the row below, again only where the series keeps
 * a row under it: a look ahead gives way to the figure and its normal.
 *
 * The tile gives up detail in a fixed order as it shrinks, so that what is
 * left is always the most important: at height 1 only the value and the
 * status share the line; at height 2 the sparkline goes; as the width
 * shrinks, the change text goes first (" vs prev 8h", then the arrow), then
 * the value loses its aggregate name and then its unit words, and only then
 * is it cut with an ellipsis. The status is a word and a symbol in its
 * role's colour, never colour alone; when the word does not fit either, the
 * symbol stays.
 *
 * A stale panel (its data is late) draws its figures in the stale role;
 * WARN and CRIT keep their colour, as a known problem must not fade, while
 * OK loses its green: late data cannot vouch that all is well.
 *
 * The change names the period it compares with ("▼6% vs prev 8h"), and
 * says "prev partial" instead when the previous window is not fully
 * covered by data (sr_panel_model.prev_partial).
 *
 * On a wall (sr_view.big) the value is drawn in large numerals, centred,
 * five rows of blocks (█, or # in ASCII) per character from a small
 * built-in font, or three rows of half blocks (▀ ▄) where five do not fit
 * (a 80x24 wall of nine panels), whenever the tile has the room (the
 * numerals, the status line below, and the width); unit letters that have
 * no glyph stand on the baseline at normal size ("13m42s" keeps its m and
 * s), unit words follow the figure on its baseline or stand under it
 * ("5 346 cases"). Without the room, the normal tile.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tui.h"

/* The slices of a model's series, never more than the array holds. */
#define SERIES_N(m) ((m)->n_series < SR_SERIES_MAX ? (m)->n_series : (size_t)SR_SERIES_MAX)

/* Columns between the value and the change. */
#define TILE_GAP 2

static bool has_value(const sr_panel_model *m)
{
    return m && (isfinite(m->c.now.value) || m->mask[0]);
}

/*
 * Whether the aggregate's name says something the value does not: "p90",
 * "avg", "count" do; the natural value of a gauge, counter or ratio
 * ("last", "sum", "value") goes without a name.
 */
static bool shows_agg_name(const sr_panel_model *m)
{
    switch (m->agg.kind) {
    case SR_AGG_COUNT:
    case SR_AGG_AVG:
    case SR_AGG_MIN:
    case SR_AGG_MAX:
    case SR_AGG_PCT:
    case SR_AGG_WITHIN:
        return m->agg_name[0] != 0;
    case SR_AGG_SUM:
    case SR_AGG_LAST:
    case SR_AGG_VALUE:
        break;
    }
    return false;
}

/*
 * The value text at a level of detail: 2 the aggregate's name and the
 * value with its unit ("p90 13m42s"; the name ends at *name_len bytes),
 * 1 without the name, 0 compact (no unit words).
 */
static void value_text(const sr_panel_model *m, int detail, char *buf, size_t len, size_t *name_len)
{
    char num[96];
    sr_format_masked(m->mask, m->c.now.value, m->def, m->agg, detail == 0, num, sizeof num);
    *name_len = 0;
    if (detail == 2 && shows_agg_name(m)) {
        snprintf(buf, len, "%s %s", m->agg_name, num);
        *name_len = strlen(m->agg_name);
    } else {
        snprintf(buf, len, "%s", num);
    }
}

int sr_draw_value(WINDOW *w, int y, int x, int max_cols, const sr_view *v)
{
    const sr_panel_model *m = v->m;
    bool stale = v->stale;
    if (max_cols > getmaxx(w) - x)
        max_cols = getmaxx(w) - x;
    if (max_cols <= 0)
        return 0;
    if (!has_value(m))
        return sr_tui_put(w, y, x, max_cols, sr_role_attr(SR_ROLE_DIM), sr_empty_text(v));
    attr_t value = sr_role_attr(stale ? SR_ROLE_STALE : SR_ROLE_VALUE);
    attr_t name = sr_role_attr(stale ? SR_ROLE_STALE : SR_ROLE_DIM);
    char text[160];
    size_t name_len = 0;
    for (int detail = 2; detail >= 0; detail--) {
        value_text(m, detail, text, sizeof text, &name_len);
        if (sr_tui_width(text) <= max_cols || detail == 0)
            break;
    }
    if (name_len == 0)
        return sr_tui_put(w, y, x, max_cols, value, text);
    /* the name and its space, then the value, in their own roles */
    text[name_len] = 0;
    int used = sr_tui_put(w, y, x, max_cols, name, text);
    used += sr_tui_put(w, y, x + used, max_cols - used, name, " ");
    used += sr_tui_put(w, y, x + used, max_cols - used, value, text + name_len + 1);
    return used;
}

static const char *status_symbol(sr_status s)
{
    const sr_glyphs *g = sr_glyphs_get();
    return s == SR_STATUS_OK ? g->ok : s == SR_STATUS_WARN ? g->warn : g->crit;
}

int sr_draw_status(WINDOW *w, int y, int right, int max_cols, sr_status s, bool stale)
{
    right = right < getmaxx(w) ? right : getmaxx(w);
    if (s == SR_STATUS_NONE || max_cols <= 0 || right <= 0)
        return 0;
    if (max_cols > right)
        max_cols = right;
    /* "✖ CRIT", "CRIT", "✖": the first that fits */
    char forms[3][64];
    snprintf(forms[0], sizeof forms[0], "%s %s", status_symbol(s), sr_status_name(s));
    snprintf(forms[1], sizeof forms[1], "%s", sr_status_name(s));
    snprintf(forms[2], sizeof forms[2], "%s", status_symbol(s));
    for (int i = 0; i < 3; i++) {
        int cols = sr_tui_width(forms[i]);
        if (cols <= max_cols)
            return sr_tui_put(
                w, y, right - cols, cols,
                sr_role_attr(stale && s == SR_STATUS_OK ? SR_ROLE_STALE : sr_status_role(s)),
                forms[i]);
    }
    return 0;
}

void sr_format_window(sr_ms ms, char *buf, size_t len)
{
    if (ms > 0 && ms <= SR_MS_DAY && ms % SR_MS_HOUR == 0)
        snprintf(buf, len, "%lldh", (long long)(ms / SR_MS_HOUR));
    else
        sr_format_duration(ms, buf, len);
}

/*
 * The change against the previous window: the marker and the percentage
 * ("▼6%", "▲12%", "▼3.1%"; "=" when it rounds to nothing) in mark, and in
 * words the period it compares with (" vs prev 8h"). When the previous
 * window is only partly covered by data, no marker and the words "prev
 * partial". Returns false when there is nothing to say.
 */
/* pct as a change mark ("▲34%", "▼1.6%", "=" when flat); false when NAN. */
static bool change_mark(double pct, char *mark, size_t mlen)
{
    if (!isfinite(pct))
        return false;
    const sr_glyphs *g = sr_glyphs_get();
    double a = fabs(pct);
    if (a < 0.05) {
        snprintf(mark, mlen, "%s", g->flat);
        return true;
    }
    char num[32];
    if (a >= 9.95)
        snprintf(num, sizeof num, "%.0f", a);
    else
        snprintf(num, sizeof num, "%.1f", a);
    size_t n = strlen(num);
    if (n > 2 && strcmp(num + n - 2, ".0") == 0)
        num[n - 2] = 0;
    snprintf(mark, mlen, "%s%s%%", pct > 0 ? g->up : g->down, num);
    return true;
}

static bool change_text(const sr_panel_model *m, char *mark, size_t mlen, char *words, size_t wlen)
{
    if (m->prev_partial) {
        mark[0] = 0;
        snprintf(words, wlen, "prev partial");
        return true;
    }
    if (!change_mark(m->change_pct, mark, mlen))
        return false;
    char win[32] = "";
    if (m->to_ms > m->from_ms)
        sr_format_window(m->to_ms - m->from_ms, win, sizeof win);
    snprintf(words, wlen, " vs prev%s%s", win[0] ? " " : "", win);
    return true;
}

/*
 * The role of a change: OK when it goes the metric's better way, WARN when
 * it goes the other; neutral when the panel has no status (the direction
 * speaks of the metric's own aggregate, and of metrics with thresholds).
 */
static attr_t change_attr(const sr_panel_model *m, double pct, bool stale)
{
    if (stale)
        return sr_role_attr(SR_ROLE_STALE);
    if (m->status == SR_STATUS_NONE || !m->def || fabs(pct) < 0.05)
        return sr_role_attr(SR_ROLE_NORMAL);
    bool better = m->def->better == SR_BETTER_LOWER ? pct < 0 : pct > 0;
    return sr_role_attr(better ? SR_ROLE_OK : SR_ROLE_WARN);
}

/* Line 1 at height 2 and more: the value, and the change right-aligned when it fits. */
static void tile_value_line(WINDOW *w, int wd, const sr_view *v)
{
    const sr_panel_model *m = v->m;
    if (!has_value(m)) {
        sr_draw_value(w, 0, 0, wd, v);
        return;
    }
    char text[160], mark[48];
    size_t name_len;
    value_text(m, 2, text, sizeof text, &name_len);
    int vw = sr_tui_width(text);
    char words[48];
    if (change_text(m, mark, sizeof mark, words, sizeof words)) {
        int mw = sr_tui_width(mark), ww = sr_tui_width(words);
        if (vw + TILE_GAP + mw + ww > wd)
            words[0] = 0, ww = 0;
        if (vw + TILE_GAP + mw <= wd) {
            int x = wd - mw - ww;
            sr_tui_put(w, 0, x, mw, change_attr(m, m->change_pct, v->stale), mark);
            sr_tui_put(w, 0, x + mw, ww, sr_role_attr(v->stale ? SR_ROLE_STALE : SR_ROLE_DIM),
                       words);
        }
    }
    sr_draw_value(w, 0, 0, wd, v);
}

/*
 * "acked" or "silenced" (dim) left of the status, at column `right` and
 * before, when someone has taken the panel's alert: the status alone would
 * say nobody has. Returns the columns used with the gap, 0 when none or
 * when it does not fit room.
 */
static int tile_alert_mark(WINDOW *w, int y, int right, int room, const sr_view *v)
{
    const char *word = v->alert == SR_ALERT_ACKED      ? "acked"
                       : v->alert == SR_ALERT_SILENCED ? "silenced"
                                                       : NULL;
    int cols = word ? (int)strlen(word) : 0;
    if (!word || cols + 1 > room)
        return 0;
    sr_tui_put(w, y, right - cols, cols, sr_role_attr(SR_ROLE_DIM), word);
    return cols + 1;
}

/*
 * Line 2: the status on the right, and whether its alert is taken; on the left the target when the
 * metric has one (and the value is in the metric's units, not a count), else the previous window's
 * value when known: "target 50 vehicles", "tgt 50 vehicles", "target 50", "tgt 50", or nothing when
 * none fits.
 */
static void tile_target_line(WINDOW *w, int y, int wd, const sr_view *v)
{
    const sr_panel_model *m = v->m;
    if (!m)
        return;
    int st = sr_draw_status(w, y, wd, wd, m->status, v->stale);
    if (st > 0)
        st += tile_alert_mark(w, y, wd - st - 1, wd - st - 1, v);
    int room = wd - (st > 0 ? st + TILE_GAP : 0);
    const sr_agg plain = {SR_AGG_LAST, 0};
    double figure;
    sr_agg agg;
    const char *words[2];
    if (m->def && isfinite(m->def->target) && m->agg.kind != SR_AGG_COUNT) {
        figure = m->def->target;
        agg = plain;
        words[0] = "target";
        words[1] = "tgt";
    } else if (isfinite(m->c.prev.value)) {
        figure = m->c.prev.value;
        agg = m->agg;
        words[0] = words[1] = "prev";
    } else {
        return;
    }
    /* a figure is shown whole (its unit words may go) or not at all; the
     * share within target follows the target when there is room */
    char within[48] = "";
    if (isfinite(m->within_pct) && agg.kind == SR_AGG_LAST && words[0][0] == 't')
        snprintf(within, sizeof within, " %s %.0f%% within", sr_glyphs_get()->dot, m->within_pct);
    for (int i = 0; i < 6; i++) {
        char num[96], text[192];
        sr_format_value(figure, m->def, agg, i >= 2, num, sizeof num);
        snprintf(text, sizeof text, "%s %s%s", words[i % 2], num, i < 4 ? within : "");
        if (i < 4 && !within[0])
            continue; /* nothing to drop: the plain forms below */
        if (i >= 4)
            snprintf(text, sizeof text, "%s %s", words[i % 2], num);
        if (sr_tui_width(text) <= room) {
            sr_tui_put(w, y, 0, room, sr_role_attr(v->stale ? SR_ROLE_STALE : SR_ROLE_DIM), text);
            return;
        }
    }
}

/*
 * The baseline line, when the panel asks for one (sr_panel_model.base_run):
 * "normal 150–205 (Fri 22-23h, 8 wk)" on the left, or the short reason
 * there is no band ("normal: too few weeks"), or the band's privacy mask;
 * "unusual ▲" (▼ below) on the right in the warn role when the run is
 * unusual, "unusual ▲ acked" (or silenced) when someone has taken the
 * panel's unusual alert. As the width shrinks the slice's place goes, then the word
 * "normal", then the band; the mark goes last. Returns whether it drew.
 */
static bool tile_baseline_line(WINDOW *w, int y, int wd, const sr_view *v)
{
    const sr_panel_model *m = v->m;
    if (!m || !m->base_label[0])
        return false;
    const sr_glyphs *g = sr_glyphs_get();
    char mark[48] = "";
    const char *taken = v->alert_unusual == SR_ALERT_ACKED      ? " acked"
                        : v->alert_unusual == SR_ALERT_SILENCED ? " silenced"
                                                                : "";
    if (m->unusual == SR_UNUSUAL_HIGH || m->unusual == SR_UNUSUAL_LOW)
        snprintf(mark, sizeof mark, "unusual %s%s", m->unusual == SR_UNUSUAL_HIGH ? g->up : g->down,
                 taken);
    int mw = sr_tui_width(mark);
    if (mw > wd && taken[0]) {
        mark[strlen(mark) - strlen(taken)] = '\0';
        mw = sr_tui_width(mark);
    }
    if (mw > wd) {
        snprintf(mark, sizeof mark, "%s", m->unusual == SR_UNUSUAL_HIGH ? g->up : g->down);
        mw = sr_tui_width(mark);
    }
    if (mw > 0 && mw <= wd)
        sr_tui_put(w, y, wd - mw, mw, sr_role_attr(SR_ROLE_WARN), mark);
    int room = wd - (mw > 0 ? mw + TILE_GAP : 0);
    const sr_baseline *b = m->n_base_run ? &m->base_run[m->n_base_run - 1].base : NULL;
    char forms[3][192];
    if (!b) {
        snprintf(forms[0], sizeof forms[0], "normal: window over a week");
        snprintf(forms[1], sizeof forms[1], "normal: none");
        forms[2][0] = 0;
    } else if (m->base_mask[0]) {
        snprintf(forms[0], sizeof forms[0], "normal %s", m->base_mask);
        snprintf(forms[1], sizeof forms[1], "%s", m->base_mask);
        forms[2][0] = 0;
    } else if (!b->has_band) {
        char why[64];
        snprintf(why, sizeof why, "%s", b->why);
        snprintf(forms[0], sizeof forms[0], "normal: %s", why);
        char *colon = strchr(why, ':');
        if (colon)
            *colon = 0; /* "too few weeks: 2 of 8": the reason without its count */
        snprintf(forms[1], sizeof forms[1], "normal: %s", why);
        snprintf(forms[2], sizeof forms[2], "no normal");
    } else {
        char lo[64], hi[64];
        sr_format_value(b->low, m->def, m->agg, true, lo, sizeof lo);
        sr_format_value(b->high, m->def, m->agg, true, hi, sizeof hi);
        snprintf(forms[0], sizeof forms[0], "normal %s%s%s (%s, %d wk)", lo, g->range, hi,
                 m->base_label, b->used);
        snprintf(forms[1], sizeof forms[1], "normal %s%s%s", lo, g->range, hi);
        snprintf(forms[2], sizeof forms[2], "%s%s%s", lo, g->range, hi);
    }
    for (int i = 0; i < 3; i++) {
        if (forms[i][0] && sr_tui_width(forms[i]) <= room) {
            sr_tui_put(w, y, 0, room, sr_role_attr(v->stale ? SR_ROLE_STALE : SR_ROLE_DIM),
                       forms[i]);
            break;
        }
    }
    return true;
}

/*
 * The forecast line, when the panel asks for one (sr_panel_model.forecast):
 * "next 8h: 310–380 · backtest error 11 % (4 wk)", as the width shrinks
 * "next 8h: 310–380 · error 11 %", "next 8h: 310–380 · err 11%",
 * "8h: 310–380 · err 11%", then "310–380 · err 11%" cut to fit: the band
 * never goes without its backtest error, which is what earns it trust (at
 * 80x24 a tile has 24 columns); a withheld forecast "forecast withheld:
 * <reason>", cut to fit;
 * the privacy mask in place of a forecast the role may not see. Returns
 * whether it drew.
 */
static bool tile_forecast_line(WINDOW *w, int y, int wd, const sr_view *v)
{
    const sr_panel_model *m = v->m;
    if (!m || !m->has_forecast)
        return false;
    const sr_glyphs *g = sr_glyphs_get();
    const sr_forecast *f = &m->forecast;
    char dur[32], forms[5][256] = {"", "", "", "", ""};
    sr_format_duration(f->now.to_ms - f->now.from_ms, dur, sizeof dur);
    if (m->fc_mask[0]) {
        snprintf(forms[0], sizeof forms[0], "next %s: %s", dur, m->fc_mask);
        snprintf(forms[1], sizeof forms[1], "%s", m->fc_mask);
    } else if (!f->shown) {
        snprintf(forms[0], sizeof forms[0], "forecast withheld: %s", f->why);
    } else {
        char lo[48], hi[48], band[128];
        sr_format_estimate_compact(f->now.low, m->def, m->agg, lo, sizeof lo);
        sr_format_estimate_compact(f->now.high, m->def, m->agg, hi, sizeof hi);
        snprintf(band, sizeof band, "%s%s%s", lo, g->range, hi);
        snprintf(forms[0], sizeof forms[0], "next %s: %s %s backtest error %.0f %% (%d wk)", dur,
                 band, g->dot, f->error * 100.0, SR_FORECAST_BACKTEST_WEEKS);
        snprintf(forms[1], sizeof forms[1], "next %s: %s %s error %.0f %%", dur, band, g->dot,
                 f->error * 100.0);
        snprintf(forms[2], sizeof forms[2], "next %s: %s %s err %.0f%%", dur, band, g->dot,
                 f->error * 100.0);
        snprintf(forms[3], sizeof forms[3], "%s: %s %s err %.0f%%", dur, band, g->dot,
                 f->error * 100.0);
        /* never the band without its track record: the last form is cut */
        snprintf(forms[4], sizeof forms[4], "%s %s err %.0f%%", band, g->dot, f->error * 100.0);
    }
    attr_t attr = sr_role_attr(v->stale ? SR_ROLE_STALE : SR_ROLE_DIM);
    for (int i = 0; i < 5; i++) {
        if (forms[i][0] && (sr_tui_width(forms[i]) <= wd || i == 4 || !forms[i + 1][0])) {
            sr_tui_put(w, y, 0, wd, attr, forms[i]); /* the last form is cut to fit */
            break;
        }
    }
    return true;
}

int sr_draw_value_status(WINDOW *w, int y, int width, const sr_view *v)
{
    const sr_panel_model *m = v->m;
    if (width <= 0)
        return 0;
    int value_min = sr_tui_width(sr_empty_text(v));
    if (has_value(m)) {
        char text[160];
        size_t name_len;
        value_text(m, 0, text, sizeof text, &name_len);
        value_min = sr_tui_width(text);
    }
    /* the status takes what the shortest value leaves; half when that is nothing */
    int room = width - value_min - 1;
    if (room < 1)
        room = width / 2;
    int st = m ? sr_draw_status(w, y, width, room, m->status, v->stale) : 0;
    return sr_draw_value(w, y, 0, st > 0 ? width - st - 1 : width, v);
}

bool sr_format_change(double pct, char *buf, size_t len)
{
    return change_mark(pct, buf, len);
}

/* ---- large numerals ---- */

#define BIG_H 5
#define BIG_HALF_H ((BIG_H + 1) / 2)

/* One glyph: its rows, 'X' for a block; every row as wide as the first. */
static const struct big_glyph {
    char c;
    const char *rows[BIG_H];
} big_font[] = {
    {'0', {"XXX", "X X", "X X", "X X", "XXX"}}, {'1', {" X ", "XX ", " X ", " X ", "XXX"}},
    {'2', {"XXX", "  X", "XXX", "X  ", "XXX"}}, {'3', {"XXX", "  X", " XX", "  X", "XXX"}},
    {'4', {"X X", "X X", "XXX", "  X", "  X"}}, {'5', {"XXX", "X  ", "XXX", "  X", "XXX"}},
    {'6', {"XXX", "X  ", "XXX", "X X", "XXX"}}, {'7', {"XXX", "  X", "  X", " X ", " X "}},
    {'8', {"XXX", "X X", "XXX", "X X", "XXX"}}, {'9', {"XXX", "X X", "XXX", "  X", "XXX"}},
    {'.', {" ", " ", " ", " ", "X"}},           {',', {" ", " ", " ", " ", "X"}},
    {':', {" ", "X", " ", "X", " "}},           {'-', {"   ", "   ", "XXX", "   ", "   "}},
    {'+', {"   ", " X ", "XXX", " X ", "   "}}, {'%', {"X X", "  X", " X ", "X  ", "X X"}},
    {'<', {"  X", " X ", "X  ", " X ", "  X"}}, {'>', {"X  ", " X ", "  X", " X ", "X  "}},
    {' ', {" ", " ", " ", " ", " "}},
};

static const struct big_glyph *big_glyph(char c)
{
    for (size_t i = 0; i < sizeof big_font / sizeof big_font[0]; i++) {
        if (big_font[i].c == c)
            return &big_font[i];
    }
    return NULL;
}

/* Columns text takes in large numerals (a column between characters);
 * -1 when it holds a character that is neither a glyph nor plain ASCII. */
static int big_width(const char *text)
{
    int w = 0;
    for (const char *p = text; *p; p++) {
        const struct big_glyph *g = big_glyph(*p);
        if (!g && ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e))
            return -1;
        w += (g ? (int)strlen(g->rows[0]) : 1) + (p[1] ? 1 : 0);
    }
    return w;
}

/*
 * Draws text in large numerals with its top left at (y, x) of w: BIG_H
 * rows of full blocks, or, when half, two rows of the font to a row of the
 * screen in half blocks (BIG_HALF_H rows). Unit letters without a glyph
 * stand on the last row at normal size.
 */
static void big_draw(WINDOW *w, int y, int x, const char *text, bool half, attr_t attr)
{
    const sr_glyphs *g = sr_glyphs_get();
    int rows = half ? BIG_HALF_H : BIG_H;
    for (const char *p = text; *p; p++) {
        const struct big_glyph *bg = big_glyph(*p);
        if (!bg) { /* a unit letter: normal size, on the baseline */
            char one[2] = {*p, 0};
            sr_tui_put(w, y + rows - 1, x, 1, attr, one);
            x += 2;
            continue;
        }
        int gw = (int)strlen(bg->rows[0]);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < gw; c++) {
                const char *cell;
                if (!half) {
                    cell = bg->rows[r][c] == 'X' ? g->block[8] : NULL;
                } else {
                    bool top = bg->rows[2 * r][c] == 'X';
                    bool bottom = 2 * r + 1 < BIG_H && bg->rows[2 * r + 1][c] == 'X';
                    cell = top && bottom ? g->block[8]
                           : top         ? g->half_up
                           : bottom      ? g->half_down
                                         : NULL;
                }
                if (cell)
                    sr_tui_put(w, y + r, x + c, 1, attr, cell);
            }
        }
        x += gw + 1;
    }
}

int sr_draw_big_value(WINDOW *w, int y, int max_rows, const sr_view *v)
{
    const sr_panel_model *m = v->m;
    int wd = getmaxx(w);
    if (!has_value(m) || wd <= 0)
        return 0;
    /* the figure (digits and the letters of durations), and the unit
     * words that its longer form adds ("cases" of "5 346 cases") */
    char fig[160], full[160];
    size_t name_len;
    value_text(m, 0, fig, sizeof fig, &name_len);
    value_text(m, 1, full, sizeof full, &name_len);
    size_t fl = strlen(fig);
    const char *unit = strncmp(full, fig, fl) == 0 ? full + fl : "";
    while (*unit == ' ')
        unit++;
    int bw = big_width(fig), uw = sr_tui_width(unit);
    if (bw < 0 || bw > wd)
        return 0;
    attr_t attr = sr_role_attr(v->stale ? SR_ROLE_STALE : SR_ROLE_VALUE);
    bool after = uw == 0 || bw + 1 + uw <= wd;
    for (int half = 0; half < 2; half++) {
        int rows = half ? BIG_HALF_H : BIG_H;
        if (rows + (after ? 0 : 1) > max_rows)
            continue;
        int x = (wd - bw - (after && uw ? 1 + uw : 0)) / 2;
        big_draw(w, y, x, fig, half, attr);
        if (after)
            sr_tui_put(w, y + rows - 1, x + bw + 1, uw, attr, unit);
        else
            sr_tui_put(w, y + rows, (wd - uw) / 2, wd, attr, unit);
        return rows + (after ? 0 : 1);
    }
    return 0;
}

/* The value in large numerals with the target and status line below and
 * the series under that; false when the tile has no room for them (the
 * normal tile is drawn instead, unit and all). */
static bool tile_draw_big(WINDOW *w, int h, int wd, const sr_view *v)
{
    int y = sr_draw_big_value(w, 0, h - 1, v); /* the target line */
    if (y == 0)
        return false;
    tile_target_line(w, y, wd, v);
    if (h > y + 1)
        sr_draw_sparkline_rows(w, y + 1, 0, wd, h - y - 1, v->m->series, SERIES_N(v->m),
                               sr_role_attr(v->stale ? SR_ROLE_STALE : SR_ROLE_BAR));
    return true;
}

static void tile_draw(WINDOW *w, const sr_view *v)
{
    int h, wd;
    getmaxyx(w, h, wd);
    if (h <= 0 || wd <= 0)
        return;
    const sr_panel_model *m = v->m;
    if (v->big && tile_draw_big(w, h, wd, v))
        return;

    if (h == 1) {
        sr_draw_value_status(w, 0, wd, v);
        return;
    }

    tile_value_line(w, wd, v);
    tile_target_line(w, 1, wd, v);
    /* the baseline line below the status, where the series keeps a row; in
     * a tile of three rows only when the figure is unusual */
    int y = 2;
    bool unusual = m && (m->unusual == SR_UNUSUAL_HIGH || m->unusual == SR_UNUSUAL_LOW);
    if ((h > 3 || (h == 3 && unusual)) && tile_baseline_line(w, y, wd, v))
        y++;
    /* the forecast below it, where the series still keeps a row */
    if (h > y + 1 && tile_forecast_line(w, y, wd, v))
        y++;
    if (h > y && m)
        sr_draw_series_rows(w, y, 0, wd, h - y, m, m->series, SERIES_N(m), m->series_hidden,
                            sr_role_attr(v->stale ? SR_ROLE_STALE : SR_ROLE_BAR));
}

const sr_widget_class sr_widget_tile = {
    .name = "tile",
    .min_w = 12,
    .min_h = 1,
    .wants = SR_PANEL_SERIES,
    .draw = tile_draw,
    .key = NULL,
};
