/*
 * views.c - what takes the whole area: the drill-down, the sources view and rejected rows, the
 * alerts view, the help
 */
#include "screen_int.h"

/* The drill view: breakdown of the focused panel at the drilled entity. */
void scr_draw_drill(sr_screen *s)
{
    const sr_glyphs *g = sr_glyphs_get();
    panel_state *p = &s->drill_ps;
    const sr_tui_panel *tp = scr_focused_panel(s);
    if (!tp || !p->frame)
        return;
    const char *entity = s->drill[s->depth - 1];
    int ih, iw;
    getmaxyx(p->inner, ih, iw);
    if (p->dirty || !p->computed)
        scr_compute(s, (size_t)(tp - s->lay->panels), true, entity,
                    SR_PANEL_SERIES | SR_PANEL_ROWS | SR_PANEL_ROW_SERIES | SR_PANEL_EVENTS,
                    (size_t)(iw > 0 ? iw : 2));
    p->redraw = false;
    werase(p->frame);
    char title[512];
    char val[64];
    if (p->computed) {
        sr_format_masked(p->m.mask, p->m.c.now.value, p->m.def, p->m.agg, false, val, sizeof val);
        snprintf(title, sizeof title, "%s %s %s %s %s %s", tp->title, g->dot, entity, g->dot,
                 p->m.agg_name, val);
    } else {
        snprintf(title, sizeof title, "%s %s %s", tp->title, g->dot, entity);
    }
    scr_draw_frame(s, p->frame, title, p, true, scr_panel_stale(s, p));
    werase(p->inner);
    if (!p->computed) {
        scr_draw_placeholder(s, p->inner);
        wnoutrefresh(p->frame);
        return;
    }
    sr_view v = {.m = &p->m,
                 .title = tp->title,
                 .focused = true,
                 .stale = scr_panel_stale(s, p),
                 .timezone = s->lay->timezone,
                 .scroll = p->scroll,
                 .selected = p->selected,
                 .empty = s->loading[0] ? s->loading : NULL};
    WINDOW *area = p->inner;
    WINDOW *below = NULL;
    if (scr_draw_hidden(s, p->inner, 0, p)) {
        /* what the role's policy hid, on the first line; the view below */
        if (p->pr.entity_hidden || ih < 2) {
            wnoutrefresh(p->frame);
            return;
        }
        below = derwin(p->inner, ih - 1, iw, 1, 0);
        if (below) {
            area = below;
            ih--;
        }
    }
    if (p->m.n_rows > 0 && !scr_rows_empty(&p->m)) {
        /* the children worst first on top, the history chart below */
        int th = ih * 3 / 5;
        if (th > (int)p->m.n_rows + 2)
            th = (int)p->m.n_rows + 2;
        if (ih - th < 6 || th < 3)
            th = ih;
        WINDOW *top = derwin(area, th, iw, 0, 0);
        if (top) {
            sr_widget_table.draw(top, &v);
            delwin(top);
        }
        if (ih - th >= 4) {
            WINDOW *bot = derwin(area, ih - th, iw, th, 0);
            if (bot) {
                sr_widget_chart.draw(bot, &v);
                delwin(bot);
            }
        }
    } else {
        /* a leaf: the newest events (for events) or the history */
        int y = 0;
        if (p->m.n_events > 0) {
            sr_tui_put(area, y++, 0, iw, sr_role_attr(SR_ROLE_TITLE),
                       "latest observations (newest first)");
            for (size_t i = 0; i < p->m.n_events && y < ih; i++, y++) {
                const sr_panel_event *e = &p->m.events[i];
                sr_civil c;
                char when[40] = "";
                if (sr_utc_to_local(s->lay->timezone, e->ts_ms, &c) == 0)
                    snprintf(when, sizeof when, "%04d-%02d-%02d %02d:%02d:%02d", c.year, c.mon,
                             c.mday, c.hour, c.min, c.sec);
                char v2[64], line[512];
                sr_format_value(e->value, p->m.def, (sr_agg){SR_AGG_LAST, 0}, false, v2, sizeof v2);
                snprintf(line, sizeof line, "%s  %12s  %s", when, v2, e->key);
                sr_tui_put(area, y, 0, iw, sr_role_attr(SR_ROLE_NORMAL), line);
            }
        } else {
            sr_widget_chart.draw(area, &v);
        }
    }
    if (below)
        delwin(below);
    wnoutrefresh(p->frame);
}

/* ---- the sources view ---- */

void scr_rejects_clear(sr_screen *s)
{
    for (size_t i = 0; i < s->n_rj; i++) {
        free(s->rj[i].where);
        free(s->rj[i].raw);
        free(s->rj[i].reason);
    }
    free(s->rj);
    s->rj = NULL;
    s->n_rj = 0;
}

typedef struct {
    srcview_reject *v;
    size_t n, cap;
} reject_acc;

static char *dup_or_empty(const char *t)
{
    size_t n = t ? strlen(t) : 0;
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, t ? t : "", n);
        d[n] = 0;
    }
    return d;
}

static int take_reject(void *ctx, const sr_reject_row *r)
{
    reject_acc *a = ctx;
    if (sr_reserve(&a->v, &a->cap, a->n, sizeof *a->v))
        return SR_ENOMEM;
    srcview_reject *d = &a->v[a->n];
    d->ts_ms = r->ts_ms;
    d->where = r->where ? dup_or_empty(r->where) : NULL;
    d->raw = dup_or_empty(r->raw);
    d->reason = dup_or_empty(r->reason);
    if ((r->where && !d->where) || !d->raw || !d->reason) {
        free(d->where);
        free(d->raw);
        free(d->reason);
        return SR_ENOMEM;
    }
    a->n++;
    return 0;
}

/* The source shown in the rejects view, from the current list (NULL when gone). */
static const sr_source_info *rejects_source(const sr_screen *s)
{
    for (size_t i = 0; i < s->srcl.n; i++) {
        if (strcmp(s->srcl.v[i].h.name, s->rj_source) == 0)
            return &s->srcl.v[i];
    }
    return NULL;
}

/* (Re)reads the newest rejects of rj_source, newest first. */
void scr_rejects_load(sr_screen *s)
{
    scr_rejects_clear(s);
    reject_acc a = {0};
    sr_store_rejects(s->st, s->rj_source, SR_REJECTS_SHOWN, take_reject, &a);
    for (size_t i = 0; i < a.n / 2; i++) { /* the store gives them oldest first */
        srcview_reject t = a.v[i];
        a.v[i] = a.v[a.n - 1 - i];
        a.v[a.n - 1 - i] = t;
    }
    s->rj = a.v;
    s->n_rj = a.n;
    s->rj_total = 0;
    sr_store_reject_count(s->st, s->rj_source, &s->rj_total);
    const sr_source_info *src = rejects_source(s);
    s->rj_seen = src ? src->h.rejected : -1;
    if (s->rj_sel >= (int)s->n_rj)
        s->rj_sel = s->n_rj ? (int)s->n_rj - 1 : 0;
}

void scr_draw_view(sr_screen *s)
{
    WINDOW *f = s->view_win.frame, *in = s->view_win.inner;
    if (!f || !in)
        return;
    werase(f);
    char title[SR_NAME_MAX + 64];
    if (s->view == VIEW_SOURCES) {
        snprintf(title, sizeof title, "Sources %s %zu/%zu live", sr_glyphs_get()->dot, s->srcl.live,
                 s->srcl.n_configured);
    } else if (s->view == VIEW_ALERTS) {
        snprintf(title, sizeof title, "Alerts %s %zu open", sr_glyphs_get()->dot, s->n_alerts);
    } else {
        snprintf(title, sizeof title, "Rejected rows %s %s", sr_glyphs_get()->dot, s->rj_source);
    }
    scr_draw_frame(s, f, title, NULL, true, false);
    werase(in);
    if (scr_filters_view(s) && s->filter[0]) {
        /* "/": the rows the filter lets through, the selection among them */
        bool al = s->view == VIEW_ALERTS;
        size_t n = al ? s->n_alerts : s->srcl.n;
        size_t *map = malloc((n + 1) * sizeof *map);
        sr_alert *av = al ? malloc((n + 1) * sizeof *av) : NULL;
        sr_source_info *sv = al ? NULL : malloc((n + 1) * sizeof *sv);
        if (map && (av || sv)) {
            size_t k = scr_view_rows(s, map);
            for (size_t i = 0; i < k; i++) {
                if (al)
                    av[i] = s->alerts[map[i]];
                else
                    sv[i] = s->srcl.v[map[i]];
            }
            if (al) {
                alertview v =
                    scr_alerts_of(s, av, k, scr_view_pos(map, k, s->al_sel), s->al_scroll);
                s->al_rows = alertview_draw(in, &v);
            } else {
                sr_source_list l = s->srcl;
                l.v = sv;
                l.n = k;
                srcview_sources v = {&l, scr_view_pos(map, k, s->src_sel), s->src_scroll, s->now,
                                     s->lay->timezone};
                s->src_rows = srcview_draw_sources(in, &v);
            }
        }
        free(map);
        free(av);
        free(sv);
    } else if (s->view == VIEW_SOURCES) {
        srcview_sources v = {&s->srcl, s->src_sel, s->src_scroll, s->now, s->lay->timezone};
        s->src_rows = srcview_draw_sources(in, &v);
    } else if (s->view == VIEW_ALERTS) {
        alertview v = scr_alerts_of(s, s->alerts, s->n_alerts, s->al_sel, s->al_scroll);
        s->al_rows = alertview_draw(in, &v);
    } else {
        const sr_source_info *src = rejects_source(s);
        if (src && src->h.rejected != s->rj_seen)
            scr_rejects_load(s); /* new rejects since they were read */
        srcview_rejects v = {s->rj_source, s->rj,        s->n_rj,          s->rj_total,
                             s->rj_sel,    s->rj_scroll, s->lay->timezone, s->lay->privacy};
        s->rj_rows = srcview_draw_rejects(in, &v);
    }
    wnoutrefresh(f);
}

/*
 * The help's lines: the keys (from the bindings), what the symbols mean
 * (from the glyph set in use), the pages by name. A line is a key or a
 * symbol in the left column and what it means, wrapped in the right one.
 */
typedef struct {
    char left[64];
    char text[256];
} help_line;

static void help_add(help_line *out, size_t *n, size_t max, const char *left, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void help_add(help_line *out, size_t *n, size_t max, const char *left, const char *fmt, ...)
{
    if (*n >= max)
        return;
    snprintf(out[*n].left, sizeof out[*n].left, "%s", left);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out[*n].text, sizeof out[*n].text, fmt, ap);
    va_end(ap);
    (*n)++;
}

static size_t help_lines(const sr_screen *s, help_line *out, size_t max)
{
    const sr_glyphs *g = sr_glyphs_get();
    size_t n = 0, nk;
    const sr_key_help *kh = sr_screen_key_help(&nk);
    for (size_t i = 0; i < nk; i++)
        help_add(out, &n, max, kh[i].keys, "%s", kh[i].what);
    help_add(out, &n, max, "", "%s", "");
    char sym[64];
    snprintf(sym, sizeof sym, "%s %s %s", g->ok, g->warn, g->crit);
    help_add(out, &n, max, sym,
             "status OK, WARN, CRIT against the metric's thresholds (a symbol and a word, never "
             "colour alone)");
    snprintf(sym, sizeof sym, "%s %s %s", g->up, g->down, g->flat);
    help_add(out, &n, max, sym,
             "the change against the previous window: up, down, the same (coloured better or "
             "worse)");
    snprintf(sym, sizeof sym, "%s%s%s", g->block[8], g->vline, g->block[8]);
    help_add(out, &n, max, sym,
             "a gauge's mark where its warn and crit thresholds fall, in their colours");
    help_add(out, &n, max, "n<10", "a percentile of fewer than 10 observations, not shown");
    help_add(out, &n, max, "<5", "a count too small to show for the role's privacy policy");
    help_add(out, &n, max, "stale",
             "a source behind the panel is late or failing: its figures may be old");
    help_add(out, &n, max, "updating",
             "the panel's figures are being computed again; the last ones stay");
    help_add(out, &n, max, "", "%s", "");
    for (size_t i = 0; i < s->lay->n_pages && i < 9; i++) {
        char key[8];
        snprintf(key, sizeof key, "%zu", i + 1);
        help_add(out, &n, max, key, "page %s%s", s->lay->pages[i].title,
                 (int)i == s->page ? " (this page)" : "");
    }
    return n;
}

void scr_draw_help(sr_screen *s)
{
    help_line lines[64];
    size_t n = help_lines(s, lines, sizeof lines / sizeof lines[0]);
    int kw = 0; /* the left column */
    for (size_t i = 0; i < n; i++) {
        int w = sr_tui_width(lines[i].left);
        kw = w > kw ? w : kw;
    }
    int w = 96;
    if (w > COLS - 2)
        w = COLS - 2;
    int tx = 2 + kw + 2, tw = w - tx - 2; /* the text column: wrapped, never cut */
    if (tw < 10)
        return;
    int rows = 0;
    for (size_t i = 0; i < n; i++) {
        int r = sr_tui_put_wrapped(NULL, 0, 0, tw, 64, 0, lines[i].text);
        rows += r > 0 ? r : 1;
    }
    int h = rows + 4;
    if (h > LINES - 2)
        h = LINES - 2;
    if (h < 3)
        return;
    WINDOW *win = newwin(h, w, (LINES - h) / 2, (COLS - w) / 2);
    if (!win)
        return;
    werase(win);
    scr_draw_frame(s, win, "Help", NULL, true, false);
    int y = 2;
    for (size_t i = 0; i < n && y < h - 1; i++) {
        sr_tui_put(win, y, 2, kw, sr_role_attr(SR_ROLE_ACCENT), lines[i].left);
        int r = sr_tui_put_wrapped(win, y, tx, tw, h - 1 - y, sr_role_attr(SR_ROLE_NORMAL),
                                   lines[i].text);
        y += r > 0 ? r : 1;
    }
    wnoutrefresh(win);
    delwin(win);
}
