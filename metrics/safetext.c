/*
 * safetext.c - the one sanitiser of text from outside (safetext.h).
 *
 * The invariant: every string from data is decoded as UTF-8 here, one code
 * point at a time, and every output that shows it (the screen, the command
 * line, the log, JSON) decides with sr_text_is_control() and
 * sr_text_escape_len() what is a control, so no byte from a source can
 * move the cursor or change the terminal, and a column count is a column
 * count. sr_text_walk() is the one loop over text; the screen's writers
 * (tui/text.c) and the plain copies here are its callbacks.
 */
#include "safetext.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

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

bool sr_text_is_control(uint32_t cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

size_t sr_text_escape_len(const unsigned char *s, size_t len)
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

int sr_text_walk(const char *text, int max_cols, sr_text_emit_fn emit, void *ctx, bool *cut)
{
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    size_t len = strlen((const char *)s);
    int cols = 0;
    *cut = false;
    for (size_t i = 0; i < len;) {
        if (s[i] == 0x1b) {
            i += sr_text_escape_len(s + i, len - i);
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
            if (sr_text_is_control(cp))
                continue;
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

int sr_text_width(const char *text)
{
    bool cut;
    return sr_text_walk(text, -1, count_only, NULL, &cut);
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

char *sr_text_clean(const char *text, char *out, size_t outlen)
{
    if (outlen == 0)
        return out;
    out[0] = 0;
    buf_ctx b = {out, outlen, 0, false};
    bool cut;
    sr_text_walk(text, -1, to_buf, &b, &cut);
    return out;
}

char *sr_text_fit(const char *text, int max_cols, const char *ellipsis, char *out, size_t outlen)
{
    if (outlen == 0)
        return out;
    out[0] = 0;
    bool cut;
    int ell = sr_text_width(ellipsis);
    sr_text_walk(text, max_cols, count_only, NULL, &cut);
    buf_ctx b = {out, outlen, 0, false};
    sr_text_walk(text, cut ? (max_cols > ell ? max_cols - ell : 0) : max_cols, to_buf, &b, &cut);
    if (cut && max_cols >= ell)
        to_buf(&b, ellipsis, strlen(ellipsis), ell);
    return out;
}

/* Appends s to out when it fits whole; false when it does not. */
static bool put(char *out, size_t outlen, size_t *used, const char *s, size_t n)
{
    if (*used + n + 1 > outlen)
        return false;
    memcpy(out + *used, s, n);
    *used += n;
    out[*used] = 0;
    return true;
}

char *sr_text_escape(const char *text, char *out, size_t outlen)
{
    if (outlen == 0)
        return out;
    out[0] = 0;
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    size_t len = strlen((const char *)s), used = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = sr_utf8_decode(s + i, len - i, &cp);
        char esc[16];
        bool ok;
        if (n == 0) {
            snprintf(esc, sizeof esc, "\\x%02x", s[i]);
            n = 1;
            ok = put(out, outlen, &used, esc, strlen(esc));
        } else if (cp < 0x20 || cp == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", (unsigned)cp);
            ok = put(out, outlen, &used, esc, strlen(esc));
        } else if (sr_text_is_control(cp)) {
            snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp);
            ok = put(out, outlen, &used, esc, strlen(esc));
        } else {
            ok = put(out, outlen, &used, (const char *)s + i, n);
        }
        if (!ok)
            break;
        i += n;
    }
    return out;
}

char *sr_text_quote(const char *text, char *out, size_t outlen)
{
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    size_t n = strlen((const char *)s), i = 0;
    for (int chars = 0; i < n && chars < SR_QUOTE_MAX; chars++) {
        uint32_t cp;
        size_t k = sr_utf8_decode(s + i, n - i, &cp);
        i += k ? k : 1;
    }
    char head[4 * SR_QUOTE_MAX + 1], esc[6 * SR_QUOTE_MAX + 1]; /* \u202e: 6 bytes for one */
    snprintf(head, sizeof head, "%.*s", (int)i, (const char *)s);
    sr_text_escape(head, esc, sizeof esc);
    bool more = i < n;
    if (strlen(esc) + 4 > outlen) {
        sr_text_escape(head, out, outlen - 3);
        more = true;
    } else {
        snprintf(out, outlen, "%s", esc);
    }
    if (more)
        strcat(out, "...");
    return out;
}
