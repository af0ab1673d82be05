/*
 * text.c - text that reaches the terminal: sanitising, measuring, clipping,
 * and formatting values for people.
 *
 * The invariant: every string from data is decoded as UTF-8 here, one code
 * point at a time; control characters (C0, DEL, C1) and the bidirectional
 * overrides and isolates (U+202A-U+202E, U+2066-U+2069, which would reorder
 * what follows on a terminal that does bidi) end up as nothing, an ESC
 * takes the rest of its escape sequence with it, invalid bytes become '?',
 * and widths come from wcwidth (zero-width and combining characters attach
 * to the previous cell; characters wcwidth cannot place are '?'). So no
 * byte from a source can move the cursor or change the terminal, and a
 * column count is a column count. Widths follow the locale: outside a
 * UTF-8 locale every non-ASCII character is '?'.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tui.h"

size_t sr_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t n;
    uint32_t c, min;
    if ((s[0] & 0xe0) == 0xc0) {
        n = 2;
        c = s[0] & 0x1f;
        min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        n = 3;
        c = s[0] & 0x0f;
        min = 0x800;
    } else if ((s[0] & 0xf8) == 0xf0) {
        n = 4;
        c = s[0] & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

/* Skips an escape sequence starting at s[0] == ESC; returns its length.
 * An ESC followed by something that cannot continue a sequence (a control
 * character, a UTF-8 byte) is dropped alone, so the text after it stays. */
static size_t escape_len(const unsigned char *s, size_t len)
{
    if (len < 2)
        return 1;
    size_t i = 2;
    if (s[1] == '[') { /* CSI: parameters, intermediates, one final byte */
        while (i < len && s[i] >= 0x20 && s[i] <= 0x3f)
            i++;
        while (i < len && s[i] >= 0x20 && s[i] <= 0x2f)
            i++;
        return i < len && s[i] >= 0x40 && s[i] <= 0x7e ? i + 1 : i;
    }
    if (s[1] == ']' || s[1] == 'P' || s[1] == '_' || s[1] == '^' || s[1] == 'X') {
        /* OSC, DCS, APC, PM, SOS: up to BEL or ST (ESC \) */
        while (i < len) {
            if (s[i] == 0x07)
                return i + 1;
            if (s[i] == 0x1b && i + 1 < len && s[i + 1] == '\\')
                return i + 2;
            i++;
        }
        return len;
    }
    /* ESC, intermediates, one final byte: "ESC c", "ESC 7", "ESC ( B" */
    i = 1;
    while (i < len && s[i] >= 0x20 && s[i] <= 0x2f)
        i++;
    return i < len && s[i] >= 0x30 && s[i] <= 0x7e ? i + 1 : i;
}

/* Format characters that reorder text on terminals that do bidi. */
static bool is_bidi_control(uint32_t cp)
{
    return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

typedef void (*emit_fn)(void *ctx, const char *bytes, size_t n, int width);

/*
 * Walks text, calling emit for every printable character with its width,
 * until max_cols would be exceeded; returns the columns used and whether it
 * stopped early.
 */
static int walk(const char *text, int max_cols, emit_fn emit, void *ctx, bool *cut)
{
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    size_t len = strlen((const char *)s);
    int cols = 0;
    *cut = false;
    for (size_t i = 0; i < len;) {
        if (s[i] == 0x1b) {
            i += escape_len(s + i, len - i);
            continue;
        }
        uint32_t cp;
        size_t n = sr_utf8_decode(s + i, len - i, &cp);
        const char *bytes = (const char *)s + i;
        int w;
        if (n == 0) {
            bytes = "?";
            n = 1;
            w = 1;
            i += 1;
        } else {
            i += n;
            if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || is_bidi_control(cp))
                continue; /* control characters */
            w = wcwidth((wchar_t)cp);
            if (w < 0) {
                bytes = "?";
                n = 1;
                w = 1;
            }
        }
        if (max_cols >= 0 && cols + w > max_cols) {
            *cut = true;
            break;
        }
        if (w == 0 && cols == 0)
            continue; /* a combining mark with nothing to combine with */
        emit(ctx, bytes, n, w);
        cols += w;
    }
    return cols;
}

static void count_only(void *ctx, const char *bytes, size_t n, int width)
{
    (void)ctx;
    (void)bytes;
    (void)n;
    (void)width;
}

int sr_tui_width(const char *text)
{
    bool cut;
    return walk(text, -1, count_only, NULL, &cut);
}

typedef struct {
    char *out;
    size_t len, used;
    bool full; /* a character did not fit: nothing after it is taken either */
} buf_ctx;

static void to_buf(void *ctx, const char *bytes, size_t n, int width)
{
    (void)width;
    buf_ctx *b = ctx;
    if (b->full || b->used + n + 1 > b->len) {
        b->full = true;
        return;
    }
    memcpy(b->out + b->used, bytes, n);
    b->used += n;
    b->out[b->used] = 0;
}

char *sr_tui_sanitize(const char *text, char *out, size_t outlen)
{
    if (outlen == 0)
        return out;
    out[0] = 0;
    buf_ctx b = {out, outlen, 0, false};
    bool cut;
    walk(text, -1, to_buf, &b, &cut);
    return out;
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
    walk(text, max_cols, count_only, NULL, &cut);
    int limit = cut ? (max_cols > ell ? max_cols - ell : 0) : max_cols;

    attr_t old_attr;
    short old_pair;
    wattr_get(w, &old_attr, &old_pair, NULL);
    short pair = PAIR_NUMBER(attr) ? (short)PAIR_NUMBER(attr) : old_pair;
    wattr_set(w, (old_attr & ~A_COLOR) | (attr & ~A_COLOR), pair, NULL);
    wmove(w, y, x);
    win_ctx c = {.w = w};
    int cols = walk(text, limit, to_win, &c, &cut);
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
    if (outlen == 0)
        return out;
    out[0] = 0;
    const sr_glyphs *g = sr_glyphs_get();
    int ell = sr_tui_width(g->ellipsis);
    bool cut;
    walk(text, max_cols, count_only, NULL, &cut);
    buf_ctx b = {out, outlen, 0, false};
    walk(text, cut ? (max_cols > ell ? max_cols - ell : 0) : max_cols, to_buf, &b, &cut);
    if (cut && max_cols >= ell)
        to_buf(&b, g->ellipsis, strlen(g->ellipsis), ell);
    return out;
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
    sr_tui_sanitize(title, clean, sizeof clean);
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
    walk(clean, head_cols, to_prefix, &c, &cut);
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
    sr_tui_sanitize(text, clean, len);
    const char *p = clean;
    int rows = 0;
    while (*p && rows < max_rows) {
        if (rows == max_rows - 1) {
            sr_tui_put(w, y + rows++, x, max_cols, attr, p);
            break;
        }
        prefix_ctx c = {p, 0};
        bool cut;
        walk(p, max_cols, to_prefix, &c, &cut);
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
