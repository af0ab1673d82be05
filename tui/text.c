/*
 * text.c - text that reaches the terminal: written into windows, measured,
 * clipped with the glyph set's ellipsis, and values formatted for people.
 *
 * The invariant: every string from data passes the one sanitiser,
 * sr_text_walk() of metrics/safetext.c, which decodes it as UTF-8 and drops
 * control characters (C0, DEL, C1), bidi overrides and isolates and whole
 * escape sequences, shows invalid bytes as '?' and measures with wcwidth.
 * This file only says where the characters it lets through go (a window,
 * a buffer) and how a text that does not fit is cut.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tui.h"

int sr_tui_width(const char *text)
{
    return sr_text_width(text);
}

static void count_only(void *ctx, const char *bytes, size_t n, int width)
{
    (void)ctx;
    (void)bytes;
    (void)n;
    (void)width;
}

/* Output into a window, a few characters at a time. */
typedef struct {
    WINDOW *w;
    char buf[256];
    size_t used;
} win_ctx;

static void win_flush(win_ctx *c)
{
    if (c->used)
        waddnstr(c->w, c->buf, (int)c->used);
    c->used = 0;
}

static void to_win(void *ctx, const char *bytes, size_t n, int width)
{
    (void)width;
    win_ctx *c = ctx;
    if (c->used + n > sizeof c->buf)
        win_flush(c);
    memcpy(c->buf + c->used, bytes, n);
    c->used += n;
}

/*
 * The text is measured first and written once, straight into the window,
 * so it has no length limit; max_cols is also cut to the window's right
 * edge, so that nothing wraps to the next line. The window's own
 * attributes are restored afterwards: attr is added to them, and its
 * colour pair, if any, replaces theirs while the text is written.
 */
int sr_tui_put(WINDOW *w, int y, int x, int max_cols, attr_t attr, const char *text)
{
    if (!w || y < 0 || x < 0 || y >= getmaxy(w) || x >= getmaxx(w))
        return 0;
    if (max_cols > getmaxx(w) - x)
        max_cols = getmaxx(w) - x;
    if (max_cols <= 0)
        return 0;
    const sr_glyphs *g = sr_glyphs_get();
    int ell = sr_tui_width(g->ellipsis);
    bool cut;
    sr_text_walk(text, max_cols, count_only, NULL, &cut);
    int limit = cut ? (max_cols > ell ? max_cols - ell : 0) : max_cols;

    attr_t old_attr;
    short old_pair;
    wattr_get(w, &old_attr, &old_pair, NULL);
    short pair = PAIR_NUMBER(attr) ? (short)PAIR_NUMBER(attr) : old_pair;
    wattr_set(w, (old_attr & ~A_COLOR) | (attr & ~A_COLOR), pair, NULL);
    wmove(w, y, x);
    win_ctx c = {.w = w};
    int cols = sr_text_walk(text, limit, to_win, &c, &cut);
    if (cut && cols + ell <= max_cols) {
        to_win(&c, g->ellipsis, strlen(g->ellipsis), ell);
        cols += ell;
    }
    win_flush(&c);
    wattr_set(w, old_attr & ~A_COLOR, old_pair, NULL);
    return cols;
}

char *sr_tui_fit(const char *text, int max_cols, char *out, size_t outlen)
{
    return sr_text_fit(text, max_cols, sr_glyphs_get()->ellipsis, out, outlen);
}

/* Bytes of the longest prefix of clean (already sanitised) within max_cols. */
typedef struct {
    const char *start;
    size_t end;
} prefix_ctx;

static void to_prefix(void *ctx, const char *bytes, size_t n, int width)
{
    (void)width;
    prefix_ctx *c = ctx;
    c->end = (size_t)(bytes - c->start) + n;
}

/*
 * A title that does not fit loses its middle, not its end: the last word
 * (P1, P2, north) tells titles apart more often than the words before it.
 * The last word is kept whole when it takes at most a third of max_cols;
 * else the end is cut as sr_tui_fit() does.
 */
char *sr_tui_fit_title(const char *title, const char *short_title, int max_cols, char *out,
                       size_t outlen)
{
    if (outlen == 0)
        return out;
    out[0] = 0;
    if (short_title && *short_title && sr_tui_width(title) > max_cols)
        title = short_title;
    char clean[1024];
    sr_text_clean(title, clean, sizeof clean);
    if (max_cols < 0 || sr_tui_width(clean) <= max_cols)
        return sr_tui_fit(clean, max_cols, out, outlen);
    const sr_glyphs *g = sr_glyphs_get();
    int ell = sr_tui_width(g->ellipsis);
    const char *tail = strrchr(clean, ' ');
    int tw = tail ? sr_tui_width(tail + 1) : 0;
    int head_cols = max_cols - ell - tw;
    if (!tail || tw == 0 || tw * 3 > max_cols || head_cols < 1)
        return sr_tui_fit(clean, max_cols, out, outlen);
    prefix_ctx c = {clean, 0};
    bool cut;
    sr_text_walk(clean, head_cols, to_prefix, &c, &cut);
    while (c.end > 0 && clean[c.end - 1] == ' ')
        c.end--; /* "Emergency…P1", not "Emergency …P1" */
    snprintf(out, outlen, "%.*s%s%s", (int)c.end, clean, g->ellipsis, tail + 1);
    return out;
}

/*
 * Sanitises once, then cuts the clean text into rows of at most max_cols
 * columns, each ending after the last blank that fits when there is one
 * (words stay whole) and at the width otherwise; the last row takes what is
 * left, cut with the ellipsis by sr_tui_put().
 */
int sr_tui_put_wrapped(WINDOW *w, int y, int x, int max_cols, int max_rows, attr_t attr,
                       const char *text)
{
    if (!text || max_cols <= 0 || max_rows <= 0)
        return 0;
    size_t len = strlen(text) + 1;
    char *clean = malloc(len);
    if (!clean)
        return sr_tui_put(w, y, x, max_cols, attr, text) > 0;
    sr_text_clean(text, clean, len);
    const char *p = clean;
    int rows = 0;
    while (*p && rows < max_rows) {
        if (rows == max_rows - 1) {
            sr_tui_put(w, y + rows++, x, max_cols, attr, p);
            break;
        }
        prefix_ctx c = {p, 0};
        bool cut;
        sr_text_walk(p, max_cols, to_prefix, &c, &cut);
        size_t n = c.end;
        if (n == 0)
            break;
        if (cut) {
            size_t k = n;
            while (k > 0 && p[k - 1] != ' ')
                k--;
            if (k > 0)
                n = k;
        }
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), p);
        sr_tui_put(w, y + rows++, x, max_cols, attr, line);
        p += n;
        while (*p == ' ')
            p++;
    }
    free(clean);
    return rows;
}

/* "4 812", "1 204 553.25": the whole part of a plain decimal ("-1204553.25")
 * grouped in thousands with a space. */
static void group_text(const char *num, char *buf, size_t len)
{
    size_t o = 0;
    if (*num == '-' && o + 1 < len)
        buf[o++] = *num++;
    size_t nd = strcspn(num, ".");
    for (size_t i = 0; num[i] && o + 2 < len; i++) {
        if (i > 0 && i < nd && (nd - i) % 3 == 0)
            buf[o++] = ' ';
        buf[o++] = num[i];
    }
    buf[o] = 0;
}

static void group(long long v, char *buf, size_t len)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%lld", v);
    group_text(digits, buf, len);
}

/*
 * An amount in full: every digit a decimal of up to 15 significant digits
 * has (all a double carries exactly; a sum's rounding noise below them is
 * not shown), the whole part grouped: "192 793 629.14". Beyond 1e15, where
 * a double has no cents left: "%.15g".
 */
static void exact_amount(double v, char *buf, size_t len)
{
    double a = fabs(v);
    if (a >= 1e15) {
        snprintf(buf, len, "%.15g", v);
        return;
    }
    int whole = a < 1 ? 1 : (int)floor(log10(a)) + 1;
    char num[64];
    snprintf(num, sizeof num, "%.*f", whole < 15 ? 15 - whole : 0, v);
    char *point = strchr(num, '.');
    if (!point)
        point = strchr(num, ','); /* a locale's decimal comma */
    if (point) {
        *point = '.';
        size_t n = strlen(num);
        while (num[n - 1] == '0')
            num[--n] = 0;
        if (num[n - 1] == '.')
            num[--n] = 0;
    }
    group_text(strcmp(num, "-0") == 0 ? "0" : num, buf, len);
}

void sr_format_masked(const char *mask, double v, const sr_metric_def *def, sr_agg agg,
                      bool compact, char *buf, size_t len)
{
    if (mask && mask[0])
        snprintf(buf, len, "%s", mask);
    else
        sr_format_value(v, def, agg, compact, buf, len);
}

void sr_format_value(double v, const sr_metric_def *def, sr_agg agg, bool compact, char *buf,
                     size_t len)
{
    if (isinf(v)) { /* an aggregate beyond a double's range (query.h) */
        snprintf(buf, len, "overflow");
        return;
    }
    if (isnan(v)) { /* no data */
        snprintf(buf, len, "-");
        return;
    }
    const char *unit = def ? def->unit : "";
    bool count = agg.kind == SR_AGG_COUNT;
    if (agg.kind == SR_AGG_WITHIN) {
        snprintf(buf, len, "%.0f%%", v);
        return;
    }
    if (!count && strcmp(unit, "s") == 0) {
        /* durations: 42s, 13m42s, 2h05m, 3d04h */
        double a = fabs(v);
        long long s = llround(a);
        const char *sign = v < 0 && s > 0 ? "-" : "";
        /* decided on the rounded value: 59.6 is 1m00s, not 60s */
        if (s < 60)
            snprintf(buf, len, "%s%llds", sign, s);
        else if (s < 3600)
            snprintf(buf, len, "%s%lldm%02llds", sign, s / 60, s % 60);
        else if (s < 86400)
            snprintf(buf, len, "%s%lldh%02lldm", sign, s / 3600, (s % 3600) / 60);
        else
            snprintf(buf, len, "%s%lldd%02lldh", sign, s / 86400, (s % 86400) / 3600);
        return;
    }
    if (!count && strcmp(unit, "%") == 0) {
        snprintf(buf, len, fabs(v) < 10 ? "%.1f%%" : "%.0f%%", v);
        return;
    }
    /* in full where there is room: a count's every unit, an amount's
     * (a sum, a level, a minimum, maximum or latest value) every cent;
     * averages and percentiles rounded for reading */
    bool amount = agg.kind == SR_AGG_SUM || agg.kind == SR_AGG_MIN || agg.kind == SR_AGG_MAX ||
                  agg.kind == SR_AGG_LAST ||
                  (agg.kind == SR_AGG_VALUE &&
                   (!def || def->kind == SR_KIND_GAUGE || def->kind == SR_KIND_COUNTER));
    char num[48];
    double a = fabs(v);
    if (!compact && (count || amount)) {
        exact_amount(v, num, sizeof num);
    } else if (a >= 1e7 && compact) {
        snprintf(num, sizeof num, "%.1fM", v / 1e6);
    } else if (a >= 1e15) {
        snprintf(num, sizeof num, "%.15g", v);
    } else if (a >= 100 || v == floor(v)) {
        group(llround(v), num, sizeof num);
    } else {
        snprintf(num, sizeof num, a < 10 ? "%.2f" : "%.1f", v);
    }
    if (compact || count || !*unit)
        snprintf(buf, len, "%s", num);
    else
        snprintf(buf, len, "%s %s", num, unit);
}
