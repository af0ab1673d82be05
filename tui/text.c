/*
 * text.c - text that reaches the terminal: sanitising, measuring, clipping,
 * and formatting values for people.
 *
 * The invariant: every string from data is decoded as UTF-8 here, one code
 * point at a time; control characters (C0, DEL, C1) end up as nothing, an
 * ESC takes the rest of its escape sequence with it, invalid bytes become
 * '?', and widths come from wcwidth (zero-width and combining characters
 * attach to the previous cell; characters wcwidth cannot place are '?').
 * So no byte from a source can move the cursor or change the terminal, and
 * a column count is a column count.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "tui.h"

/* Decodes one UTF-8 code point from s (len bytes left); returns its length,
 * or 0 for an invalid sequence (the caller skips one byte). */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
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

/* Skips an escape sequence starting at s[0] == ESC; returns its length. */
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
    return 2; /* ESC and one more byte */
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
        size_t n = utf8_decode(s + i, len - i, &cp);
        const char *bytes = (const char *)s + i;
        int w;
        if (n == 0) {
            bytes = "?";
            n = 1;
            w = 1;
            i += 1;
        } else {
            i += n;
            if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
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
} buf_ctx;

static void to_buf(void *ctx, const char *bytes, size_t n, int width)
{
    (void)width;
    buf_ctx *b = ctx;
    if (b->used + n + 1 > b->len)
        return;
    memcpy(b->out + b->used, bytes, n);
    b->used += n;
    b->out[b->used] = 0;
}

char *sr_tui_sanitize(const char *text, char *out, size_t outlen)
{
    if (outlen == 0)
        return out;
    out[0] = 0;
    buf_ctx b = {out, outlen, 0};
    bool cut;
    walk(text, -1, to_buf, &b, &cut);
    return out;
}

int sr_tui_put(WINDOW *w, int y, int x, int max_cols, attr_t attr, const char *text)
{
    if (max_cols <= 0)
        return 0;
    const sr_glyphs *g = sr_glyphs_get();
    int ell = sr_tui_width(g->ellipsis);
    char buf[1024];
    buf_ctx b = {buf, sizeof buf, 0};
    buf[0] = 0;
    bool cut;
    int cols = walk(text, max_cols, to_buf, &b, &cut);
    if (cut) {
        /* make room for the ellipsis */
        b.used = 0;
        buf[0] = 0;
        cols = walk(text, max_cols - ell > 0 ? max_cols - ell : 0, to_buf, &b, &cut);
        if (cols + ell <= max_cols) {
            to_buf(&b, g->ellipsis, strlen(g->ellipsis), ell);
            cols += ell;
        }
    }
    wattr_on(w, attr, NULL);
    mvwaddstr(w, y, x, buf);
    wattr_off(w, attr, NULL);
    return cols;
}

/* "4 812", "1 204 553": thousands grouped with a thin space (or a space). */
static void group(long long v, char *buf, size_t len)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%lld", v < 0 ? -v : v);
    size_t nd = strlen(digits), o = 0;
    const char *sep = " ";
    if (v < 0 && o + 1 < len)
        buf[o++] = '-';
    for (size_t i = 0; i < nd && o + 4 < len; i++) {
        if (i > 0 && (nd - i) % 3 == 0) {
            for (const char *c = sep; *c; c++)
                buf[o++] = *c;
        }
        buf[o++] = digits[i];
    }
    buf[o] = 0;
}

void sr_format_value(double v, const sr_metric_def *def, sr_agg agg, bool compact, char *buf,
                     size_t len)
{
    if (isnan(v)) {
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
        const char *sign = v < 0 ? "-" : "";
        long long s = llround(a);
        if (a < 60)
            snprintf(buf, len, "%s%.0fs", sign, a);
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
    char num[48];
    double a = fabs(v);
    if (a >= 1e7) {
        snprintf(num, sizeof num, "%.1fM", v / 1e6);
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
