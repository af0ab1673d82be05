/*
 * wkit.c - the widget kit (see wkit.h). Every helper here checks the
 * window's size itself, so a widget may compute its layout for any size,
 * down to 1x1, and still never write outside its window or wrap a line.
 *
 * Selection and scrolling: sr_view.selected is the highlighted row and
 * sr_view.scroll a hint for the first row shown. key() moves them without
 * knowing the window's height; draw() is the one that knows it and shows
 * the rows from wkit_list_first(), which always includes the selected one.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "wkit.h"

const char *sr_empty_text(const sr_view *v)
{
    return v && v->empty ? v->empty : "no data";
}

attr_t wkit_attr(const sr_view *v, sr_role role)
{
    if (v && v->stale && role != SR_ROLE_SELECTED)
        return sr_role_attr(SR_ROLE_STALE);
    return sr_role_attr(role);
}

int wkit_headline(WINDOW *w, int y, int width, const sr_view *v)
{
    if (!w || !v || y < 0 || y >= getmaxy(w))
        return 0;
    if (width > getmaxx(w))
        width = getmaxx(w);
    int used = sr_draw_value_status(w, y, width, v);
    const sr_panel_model *m = v->m;
    if (used > 0 && m && !v->stale &&
        (m->status == SR_STATUS_WARN || m->status == SR_STATUS_CRIT) &&
        (isfinite(m->c.now.value) || m->mask[0])) {
        attr_t a = sr_role_attr(sr_status_role(m->status));
        mvwchgat(w, y, 0, used, a & ~A_COLOR, (short)PAIR_NUMBER(a), NULL);
    }
    return used;
}

const sr_panel_model *wkit_model(WINDOW *w, const sr_view *v, int *height, int *width)
{
    getmaxyx(w, *height, *width);
    const sr_panel_model *m = v ? v->m : NULL;
    return m && *height > 0 && *width > 0 ? m : NULL;
}

void wkit_draw_headed(WINDOW *w, const sr_view *v, void (*body)(WINDOW *w, const sr_view *v))
{
    int h, wd;
    getmaxyx(w, h, wd);
    if (!v || !v->m || h <= 0 || wd <= 0)
        return;
    wkit_headline(w, 0, wd, v);
    if (h < 2)
        return;
    WINDOW *rest = derwin(w, h - 1, wd, 1, 0);
    if (!rest)
        return;
    body(rest, v);
    delwin(rest);
}

int wkit_put(WINDOW *w, int y, int x, int max_cols, attr_t attr, const char *text)
{
    if (!w)
        return 0;
    int h, wd;
    getmaxyx(w, h, wd);
    if (y < 0 || y >= h || x < 0 || x >= wd)
        return 0;
    if (max_cols > wd - x)
        max_cols = wd - x;
    return sr_tui_put(w, y, x, max_cols, attr, text);
}

int wkit_put_right(WINDOW *w, int y, int end, int max_cols, attr_t attr, const char *text)
{
    int tw = sr_tui_width(text);
    if (tw > max_cols)
        tw = max_cols;
    int x = end - tw;
    if (x < 0) {
        tw += x;
        x = 0;
    }
    return wkit_put(w, y, x, tw, attr, text);
}

/*
 * A glyph as curses' wide character, converted once: a chart or sparkline
 * draws thousands of glyphs a frame from a few dozen (glyphs.c), and
 * converting the UTF-8 at each was a tenth of a viewer's refresh. Kept by
 * the glyph's bytes (up to 7); curses runs on the loop thread only.
 */
#define GLYPH_CACHE 64
#define GLYPH_BYTES 8

static bool glyph_char(const char *glyph, cchar_t *out)
{
    static struct {
        char bytes[GLYPH_BYTES]; /* "" : unused */
        cchar_t c;
    } cache[GLYPH_CACHE];
    size_t len = strnlen(glyph, GLYPH_BYTES);
    if (len >= GLYPH_BYTES)
        return false;
    unsigned h = 0;
    for (size_t i = 0; i < len; i++)
        h = h * 31 + (unsigned char)glyph[i];
    size_t slot = h % GLYPH_CACHE;
    if (strcmp(cache[slot].bytes, glyph) == 0) {
        *out = cache[slot].c;
        return true;
    }
    wchar_t wc[CCHARW_MAX + 1];
    size_t n = mbstowcs(wc, glyph, CCHARW_MAX);
    if (n == (size_t)-1 || n == 0 || n >= CCHARW_MAX || wcwidth(wc[0]) != 1)
        return false;
    wc[n] = 0;
    if (setcchar(out, wc, A_NORMAL, 0, NULL) != OK)
        return false;
    memcpy(cache[slot].bytes, glyph, len + 1);
    cache[slot].c = *out;
    return true;
}

void wkit_glyph(WINDOW *w, int y, int x, attr_t attr, const char *glyph)
{
    if (!w || !glyph || !*glyph)
        return;
    int h, wd;
    getmaxyx(w, h, wd);
    if (y < 0 || y >= h || x < 0 || x >= wd)
        return;
    wattr_on(w, attr, NULL);
    cchar_t c;
    if (glyph_char(glyph, &c))
        mvwadd_wch(w, y, x, &c);
    else
        mvwaddstr(w, y, x, glyph);
    wattr_off(w, attr, NULL);
}

void wkit_line(WINDOW *w, int y, int x, int n, bool down, attr_t attr, const char *glyph)
{
    if (!w || !glyph || !*glyph || n <= 0)
        return;
    int h, wd;
    getmaxyx(w, h, wd);
    if (y < 0 || y >= h || x < 0 || x >= wd)
        return;
    cchar_t c;
    wchar_t wc[CCHARW_MAX + 1];
    attr_t a;
    short pair;
    if (!glyph_char(glyph, &c) || getcchar(&c, wc, &a, &pair, NULL) == ERR ||
        setcchar(&c, wc, attr & ~A_COLOR, (short)PAIR_NUMBER(attr), NULL) == ERR) {
        for (int i = 0; i < n; i++)
            wkit_glyph(w, down ? y + i : y, down ? x : x + i, attr, glyph);
        return;
    }
    /* the line takes the cell's rendition, not the window's: attr is in c */
    if (down)
        mvwvline_set(w, y, x, &c, n);
    else
        mvwhline_set(w, y, x, &c, n);
}

void wkit_fill(WINDOW *w, int y, int x, int n, attr_t attr)
{
    if (!w)
        return;
    int h, wd;
    getmaxyx(w, h, wd);
    if (y < 0 || y >= h || x < 0 || x >= wd)
        return;
    if (n > wd - x)
        n = wd - x;
    if (n > 0)
        mvwhline(w, y, x, ' ' | (chtype)attr, n);
}

const char *wkit_status_glyph(sr_status s)
{
    const sr_glyphs *g = sr_glyphs_get();
    switch (s) {
    case SR_STATUS_OK:
        return g->ok;
    case SR_STATUS_WARN:
        return g->warn;
    case SR_STATUS_CRIT:
        return g->crit;
    case SR_STATUS_NONE:
        break;
    }
    return g->none;
}

const char *wkit_short_name(const char *entity)
{
    if (!entity)
        return "";
    const char *slash = strrchr(entity, '/');
    return slash && slash[1] ? slash + 1 : entity;
}

static size_t clamp_index(long long i, size_t n)
{
    if (i < 0)
        return 0;
    if ((unsigned long long)i >= n)
        return n - 1;
    return (size_t)i;
}

bool wkit_list_key(sr_view *v, int key, size_t n)
{
    if (!v || n == 0)
        return false;
    long long sel = v->selected, scroll = v->scroll;
    if (sel >= (long long)n)
        sel = (long long)n - 1;
    long long cur = sel < 0 ? -1 : sel;
    long long page = v->rows > 1 ? v->rows - 1 : WKIT_PAGE;
    switch (key) {
    case KEY_UP:
    case 'k':
        sel = cur <= 0 ? 0 : cur - 1;
        break;
    case KEY_DOWN:
    case 'j':
        sel = cur + 1;
        break;
    case KEY_PPAGE:
        sel = (cur < 0 ? 0 : cur) - page;
        scroll -= page;
        break;
    case KEY_NPAGE:
        sel = (cur < 0 ? 0 : cur) + page;
        scroll += page;
        break;
    case KEY_HOME:
        sel = 0;
        scroll = 0;
        break;
    case KEY_END:
        /* draw() clamps the scroll position to show a full last page */
        sel = (long long)n - 1;
        scroll = (long long)n - 1;
        break;
    default:
        return false;
    }
    sel = (long long)clamp_index(sel, n);
    scroll = (long long)clamp_index(scroll, n);
    if (sel < scroll)
        scroll = sel;
    if (v->rows > 0 && sel >= scroll + v->rows) /* keep the selection on screen */
        scroll = sel - v->rows + 1;
    bool changed = sel != v->selected || scroll != v->scroll;
    v->selected = (int)sel;
    v->scroll = (int)scroll;
    return changed;
}

size_t wkit_list_first(const sr_view *v, size_t n, int visible)
{
    if (!v || visible <= 0 || n == 0)
        return 0;
    size_t vis = (size_t)visible;
    size_t last_first = n > vis ? n - vis : 0;
    size_t first = v->scroll < 0 ? 0 : (size_t)v->scroll;
    if (first > last_first)
        first = last_first;
    if (v->selected >= 0 && (size_t)v->selected < n) {
        size_t sel = (size_t)v->selected;
        if (sel < first)
            first = sel;
        else if (sel >= first + vis)
            first = sel - vis + 1;
    }
    return first;
}

void wkit_table_head(WINDOW *w, const wkit_col *cols, int n, const wkit_layout *l)
{
    attr_t head = sr_role_attr(SR_ROLE_TITLE);
    for (int c = 0; c < n && c < WKIT_COLS_MAX; c++)
        wkit_table_cell(w, 0, cols, l, c, head, l->short_heads ? cols[c].head_short : cols[c].head);
}

void wkit_table_cell(WINDOW *w, int y, const wkit_col *cols, const wkit_layout *l, int c,
                     attr_t attr, const char *text)
{
    if (l->w[c] <= 0)
        return;
    if (cols[c].right)
        wkit_put_right(w, y, l->x[c] + l->w[c], l->w[c], attr, text);
    else
        wkit_put(w, y, l->x[c], l->w[c], attr, text);
}

int wkit_table_rows(int h, size_t n, int detail_min)
{
    int rows = n > (size_t)INT32_MAX ? INT32_MAX : (int)n;
    int room = h - 1 - (detail_min + 1); /* under the head, above the detail */
    if (h - 1 - rows < detail_min + 1)
        rows = room >= 3 ? room : h - 1;
    if (rows > (int)n)
        rows = (int)n;
    return rows < 0 ? 0 : rows;
}

int wkit_rows_value_width(const sr_panel_model *m, bool compact, int min_cols)
{
    int wmax = min_cols;
    char buf[64];
    for (size_t i = 0; i < m->n_rows; i++) {
        sr_format_masked(m->rows[i].mask, m->rows[i].r.value, m->def, m->agg, compact, buf,
                         sizeof buf);
        int tw = sr_tui_width(buf);
        if (tw > wmax)
            wmax = tw;
    }
    return wmax;
}

void wkit_bar(WINDOW *w, int y, int x, int width, double frac, attr_t attr)
{
    const sr_glyphs *g = sr_glyphs_get();
    if (!(frac > 0) || width <= 0)
        return;
    if (frac > 1)
        frac = 1;
    long eighths = g->utf8 ? lround(frac * width * 8) : lround(frac * width) * 8;
    int full = (int)(eighths / 8), rest = (int)(eighths % 8);
    for (int c = 0; c < full; c++)
        wkit_glyph(w, y, x + c, attr, g->block[8]);
    if (rest > 0)
        wkit_glyph(w, y, x + full, attr, g->block[rest]);
}
