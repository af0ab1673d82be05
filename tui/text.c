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
