/*
 * srcview.c - the sources view and a source's rejected rows (srcview.h).
 *
 *   SOURCE   TYPE     STATE      LAST SUCCESS  NEXT POLL  ACCEPTED  DUPLICATE  REJECTED  LAST ERROR
 *   sim      sim      ● live     2s ago        in 3s        48 211          0         0
 *   legacy   textlog  ✖ failing  5m ago        in 40s          310          2         3  cannot o…
 *
 *   legacy  ✖ failing  type textlog
 *   last success  2024-05-01 08:00:00 (5m ago)     last poll 08:05:00 (20s ago)
 *   ...
 *
 * Columns take their natural width (header or widest cell). When the
 * window is too narrow the headers shorten and the gaps narrow, then the
 * name and type shrink (cut with the ellipsis); the last error gets what is
 * left, and only when that is worth showing: it is always in the detail
 * below the table, wrapped, for the selected source. A state is a symbol
 * and a word in its role's colour, never colour alone. A source the cache
 * knows but the config no longer names carries a '*' after its name.
 *
 * The rejected rows: two lines each, when / where / why, then the raw
 * input dimmed. Everything that came from a source (names, errors, raw
 * rows, reasons) is written through sr_tui_put().
 */
#include "srcview.h"

#include <stdio.h>
#include <string.h>

#include "wkit.h"

enum { C_NAME, C_TYPE, C_STATE, C_OK, C_NEXT, C_ACC, C_DUP, C_REJ, C_ERR, N_COLS };

_Static_assert(N_COLS <= WKIT_COLS_MAX, "more columns than a wkit_layout holds");

static const wkit_col cols[N_COLS] = {
    [C_NAME] = {"SOURCE", "SOURCE", false},   [C_TYPE] = {"TYPE", "TYPE", false},
    [C_STATE] = {"STATE", "STATE", false},    [C_OK] = {"LAST SUCCESS", "LAST OK", false},
    [C_NEXT] = {"NEXT POLL", "NEXT", false},  [C_ACC] = {"ACCEPTED", "ACCEPT", true},
    [C_DUP] = {"DUPLICATE", "DUP", true},     [C_REJ] = {"REJECTED", "REJ", true},
    [C_ERR] = {"LAST ERROR", "ERROR", false},
};

/* The widest a column grows to (0: no cap). */
static const int cap[N_COLS] = {[C_NAME] = 24, [C_TYPE] = 12};

#define NAME_MIN 6
#define TYPE_MIN 4
#define ERR_MIN 12

typedef wkit_layout layout;

static sr_status state_status(sr_source_state s)
{
    return s == SR_SOURCE_LIVE   ? SR_STATUS_OK
           : s == SR_SOURCE_LATE ? SR_STATUS_WARN
                                 : SR_STATUS_CRIT;
}

/* The text of column c for source s. */
static void cell_text(const srcview_sources *v, const sr_source_info *s, int c, char *buf,
                      size_t len)
{
    buf[0] = 0;
    switch (c) {
    case C_NAME:
        snprintf(buf, len, "%s%s", s->h.name, s->configured ? "" : "*");
        break;
    case C_TYPE:
        snprintf(buf, len, "%s", s->h.type);
        break;
    case C_STATE:
        snprintf(buf, len, "%s %s", wkit_status_glyph(state_status(s->state)),
                 sr_source_state_name(s->state));
        break;
    case C_OK:
        sr_format_ago(v->now, s->h.last_ok_ms, buf, len);
        break;
    case C_NEXT:
        sr_format_next(v->now, s->polled ? &s->h : NULL, buf, len);
        break;
    case C_ACC:
    case C_DUP:
    case C_REJ: {
        int64_t n = c == C_ACC ? s->h.accepted : c == C_DUP ? s->h.duplicates : s->h.rejected;
        if (s->polled)
            snprintf(buf, len, "%lld", (long long)n);
        else
            snprintf(buf, len, "-");
        break;
    }
    case C_ERR:
        snprintf(buf, len, "%s", s->h.last_error);
        break;
    }
}

static layout layout_for(const srcview_sources *v, int width)
{
    int nat[N_COLS];
    for (int c = 0; c < N_COLS; c++) {
        nat[c] = sr_tui_width(cols[c].head_short);
        for (size_t i = 0; i < v->l->n; i++) {
            char buf[512];
            cell_text(v, &v->l->v[i], c, buf, sizeof buf);
            int tw = sr_tui_width(buf);
            if (tw > nat[c])
                nat[c] = tw;
        }
        if (cap[c] && nat[c] > cap[c])
            nat[c] = cap[c];
    }
    layout l = {0};
    for (int pass = 0; pass < 2; pass++) {
        bool shrt = pass == 1;
        int gap = shrt ? 1 : 2, w[N_COLS], used = 0;
        for (int c = 0; c < C_ERR; c++) {
            int hw = sr_tui_width(shrt ? cols[c].head_short : cols[c].head);
            w[c] = nat[c] > hw ? nat[c] : hw;
            used += w[c] + gap;
        }
        /* too wide: the name, then the type, give way down to their minimum */
        for (int c = C_NAME; c <= C_TYPE && used > width; c++) {
            int min = c == C_NAME ? NAME_MIN : TYPE_MIN, give = used - width;
            int can = w[c] > min ? w[c] - min : 0;
            if (give > can)
                give = can;
            w[c] -= give;
            used -= give;
        }
        if (used > width && !shrt)
            continue;
        l.short_heads = shrt;
        int x = 0;
        for (int c = 0; c < C_ERR; c++) {
            l.x[c] = x;
            l.w[c] = w[c];
            x += w[c] + gap;
        }
        if (width - x >= ERR_MIN) {
            l.x[C_ERR] = x;
            l.w[C_ERR] = width - x;
        }
        break;
    }
    return l;
}

static void draw_row(WINDOW *w, const srcview_sources *v, const layout *l, int y, size_t i)
{
    const sr_source_info *s = &v->l->v[i];
    bool sel = v->selected >= 0 && (size_t)v->selected == i;
    attr_t a_sel = sr_role_attr(SR_ROLE_SELECTED);
    if (sel)
        wkit_fill(w, y, 0, getmaxx(w), a_sel);
    for (int c = 0; c < N_COLS; c++) {
        if (l->w[c] <= 0)
            continue;
        char buf[512];
        cell_text(v, s, c, buf, sizeof buf);
        sr_role role = c == C_STATE  ? sr_status_role(state_status(s->state))
                       : c == C_ERR  ? SR_ROLE_CRIT
                       : c == C_NAME ? SR_ROLE_VALUE
                                     : SR_ROLE_NORMAL;
        wkit_table_cell(w, y, cols, l, c, sel ? a_sel : sr_role_attr(role), buf);
    }
}

/* "2024-05-01 08:00:00" in tz, or "never". */
static void local_time(const char *tz, sr_ms t, char *buf, size_t len)
{
    sr_civil c;
    if (t <= 0 || sr_utc_to_local(tz, t, &c) != 0)
        snprintf(buf, len, "never");
    else
        snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d", c.year, c.mon, c.mday, c.hour, c.min,
                 c.sec);
}

#define LABEL_W 14

static void label(WINDOW *w, int y, const char *text)
{
    wkit_put(w, y, 0, LABEL_W - 1, sr_role_attr(SR_ROLE_DIM), text);
}

/* The selected source in full, from row y to the bottom of w. */
static void draw_detail(WINDOW *w, const srcview_sources *v, int y)
{
    int h = getmaxy(w), wd = getmaxx(w), vw = wd - LABEL_W;
    if (v->selected < 0 || (size_t)v->selected >= v->l->n || vw < 8)
        return;
    const sr_source_info *s = &v->l->v[v->selected];
    char a[64], b[64], line[512];

    int x = wkit_put(w, y, 0, wd, sr_role_attr(SR_ROLE_TITLE), s->h.name);
    sr_status st = state_status(s->state);
    snprintf(line, sizeof line, "%s %s", wkit_status_glyph(st), sr_source_state_name(s->state));
    x += 2 + wkit_put(w, y, x + 2, wd - x - 2, sr_role_attr(sr_status_role(st)), line);
    snprintf(line, sizeof line, "type %s%s", s->h.type,
             s->configured ? "" : "  * not in the config: an earlier collector's record");
    wkit_put(w, y, x + 2, wd - x - 2, sr_role_attr(SR_ROLE_NORMAL), line);
    if (++y >= h)
        return;

    label(w, y, "last success");
    local_time(v->timezone, s->h.last_ok_ms, a, sizeof a);
    sr_format_ago(v->now, s->h.last_ok_ms, b, sizeof b);
    if (s->h.last_ok_ms > 0)
        snprintf(line, sizeof line, "%s (%s)", a, b);
    else
        snprintf(line, sizeof line, "never");
    if (s->h.last_poll_ms > 0) {
        sr_format_ago(v->now, s->h.last_poll_ms, b, sizeof b);
        size_t n = strlen(line);
        snprintf(line + n, sizeof line - n, " %s last poll %s", sr_glyphs_get()->dot, b);
    }
    wkit_put(w, y, LABEL_W, vw, sr_role_attr(SR_ROLE_NORMAL), line);
    if (++y >= h)
        return;

    label(w, y, "next poll");
    sr_format_next(v->now, s->polled ? &s->h : NULL, b, sizeof b);
    if (s->polled && s->h.next_poll_ms > 0) {
        local_time(v->timezone, s->h.next_poll_ms, a, sizeof a);
        snprintf(line, sizeof line, "%s (%s)", a, b);
    } else {
        snprintf(line, sizeof line, "%s",
                 s->polled ? "none scheduled (no collector running)" : "not polled yet");
    }
    if (s->h.interval_ms > 0) {
        char iv[32], to[32];
        sr_format_duration(s->h.interval_ms, iv, sizeof iv);
        sr_format_duration(s->h.timeout_ms, to, sizeof to);
        size_t n = strlen(line);
        snprintf(line + n, sizeof line - n, " %s every %s, timeout %s", sr_glyphs_get()->dot, iv,
                 to);
    }
    wkit_put(w, y, LABEL_W, vw, sr_role_attr(SR_ROLE_NORMAL), line);
    if (++y >= h)
        return;

    label(w, y, "rows");
    const char *d = sr_glyphs_get()->dot;
    snprintf(line, sizeof line,
             "%lld accepted %s %lld duplicate %s %lld rejected %s %lld polls, %lld failed",
             (long long)s->h.accepted, d, (long long)s->h.duplicates, d, (long long)s->h.rejected,
             d, (long long)s->h.polls, (long long)s->h.failures);
    wkit_put(w, y, LABEL_W, vw, sr_role_attr(SR_ROLE_NORMAL), line);
    if (++y >= h)
        return;

    label(w, y, "last error");
    int hint_row = h - 1 > y ? 1 : 0;
    if (s->h.last_error[0])
        y += sr_tui_put_wrapped(w, y, LABEL_W, vw, h - y - hint_row, sr_role_attr(SR_ROLE_CRIT),
                                s->h.last_error);
    else
        y += wkit_put(w, y, LABEL_W, vw, sr_role_attr(SR_ROLE_DIM), "none") > 0;
    if (hint_row && y < h)
        wkit_put(w, h - 1, 0, wd, sr_role_attr(SR_ROLE_DIM),
                 s->h.rejected > 0 ? "Enter: this source's latest rejected rows, with reasons"
                                   : "Enter: rejected rows (none so far)");
}

/* Rows the detail below the table needs to be worth drawing. */
#define DETAIL_MIN 6

int srcview_draw_sources(WINDOW *w, const srcview_sources *v)
{
    int h, wd;
    getmaxyx(w, h, wd);
    if (!v || !v->l || h <= 0 || wd <= 0)
        return 0;
    if (v->l->n == 0) {
        wkit_put(w, 0, 0, wd, sr_role_attr(SR_ROLE_DIM),
                 "no sources: the config has no [adapter.NAME] section and the cache no record");
        return 0;
    }
    layout l = layout_for(v, wd);
    wkit_table_head(w, cols, N_COLS, &l);
    int rows = wkit_table_rows(h, v->l->n, DETAIL_MIN);
    sr_view sv = {.selected = v->selected, .scroll = v->scroll, .rows = rows};
    size_t first = wkit_list_first(&sv, v->l->n, rows);
    for (int r = 0; r < rows && first + (size_t)r < v->l->n; r++)
        draw_row(w, v, &l, 1 + r, first + (size_t)r);
    if (h - 1 - rows >= DETAIL_MIN + 1)
        draw_detail(w, v, 1 + rows + 1);
    return rows;
}

int srcview_draw_rejects(WINDOW *w, const srcview_rejects *v)
{
    int h, wd;
    getmaxyx(w, h, wd);
    if (!v || h <= 0 || wd <= 0)
        return 0;
    char line[512];
    if (v->n == 0)
        snprintf(line, sizeof line, "no rejected rows from %s", v->source);
    else if ((int64_t)v->n < v->total)
        snprintf(line, sizeof line, "the newest %zu of %lld rejected rows from %s, newest first",
                 v->n, (long long)v->total, v->source);
    else
        snprintf(line, sizeof line, "%lld rejected row%s from %s, newest first",
                 (long long)v->total, v->total == 1 ? "" : "s", v->source);
    wkit_put(w, 0, 0, wd, sr_role_attr(SR_ROLE_TITLE), line);
    bool raw = !v->privacy || sr_privacy_raw_shown(v->privacy);
    if (!raw && v->n) {
        sr_privacy_withheld_text(v->privacy, SR_PRIV_PERSONAL, v->n, "rejected row",
                                 "shown without reason and raw text (unparsed input may hold "
                                 "personal data)",
                                 line, sizeof line);
        wkit_put(w, 1, 0, wd, sr_role_attr(SR_ROLE_DIM), line);
    }
    int visible = (h - 2) / 2;
    if (visible <= 0 || v->n == 0)
        return 0;
    int where_w = 5;
    for (size_t i = 0; i < v->n; i++) {
        int tw = sr_tui_width(v->v[i].where ? v->v[i].where : "-");
        if (tw > where_w)
            where_w = tw;
    }
    if (where_w > 16)
        where_w = 16;
    sr_view sv = {.selected = v->selected, .scroll = v->scroll, .rows = visible};
    size_t first = wkit_list_first(&sv, v->n, visible);
    attr_t a_sel = sr_role_attr(SR_ROLE_SELECTED);
    for (int r = 0; r < visible && first + (size_t)r < v->n; r++) {
        size_t i = first + (size_t)r;
        const srcview_reject *rj = &v->v[i];
        int y = 2 + 2 * r;
        bool sel = v->selected >= 0 && (size_t)v->selected == i;
        if (sel) {
            wkit_fill(w, y, 0, wd, a_sel);
            wkit_fill(w, y + 1, 0, wd, a_sel);
        }
        sr_civil c;
        char when[32] = "?";
        if (sr_utc_to_local(v->timezone, rj->ts_ms, &c) == 0)
            snprintf(when, sizeof when, "%02d-%02d %02d:%02d:%02d", c.mon, c.mday, c.hour, c.min,
                     c.sec);
        int x = wkit_put(w, y, 0, wd, sel ? a_sel : sr_role_attr(SR_ROLE_DIM), when) + 2;
        wkit_put(w, y, x, where_w, sel ? a_sel : sr_role_attr(SR_ROLE_NORMAL),
                 rj->where && *rj->where ? rj->where : "-");
        x += where_w + 2;
        wkit_put(w, y, x, wd - x, sel ? a_sel : sr_role_attr(SR_ROLE_CRIT),
                 !raw         ? "(reason withheld)"
                 : rj->reason ? rj->reason
                              : "");
        wkit_put(w, y + 1, 4, wd - 4, sel ? a_sel : sr_role_attr(SR_ROLE_DIM),
                 !raw      ? "(raw text withheld)"
                 : rj->raw ? rj->raw
                           : "");
    }
    return visible;
}
