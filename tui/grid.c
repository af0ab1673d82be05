/*
 * grid.c - the panels drawn: frames with their notes, staleness, a panel in its window, the compact
 * list
 */
#include "screen_int.h"

/* ---- drawing ---- */

/* The columns of its title a frame keeps before its note's pieces
 * (frame_note's levels) */
#define FRAME_TITLE_MIN 12

/* Appends piece to buf, after the separator when buf holds something. */
static void note_add(char *buf, size_t len, const char *piece)
{
    size_t l = strlen(buf);
    if (l < len) {
        const char *dot = sr_glyphs_get()->dot;
        snprintf(buf + l, len - l, "%s%s%s%s", l ? " " : "", l ? dot : "", l ? " " : "", piece);
    }
}

/*
 * What a panel's frame says on the right of its top border (" 8h ",
 * " 8h · stale 12m ", " 24h · no data ", " 8h · updating "): the window
 * the panel shows, and the age of its newest data only when the panel is
 * stale, measured from where the windows end; not while the history loads
 * (the panel says that instead: its newest data is as old as the loading
 * has reached, which is no fault). "" without a panel. A narrow frame
 * gives up pieces for its title's sake: level 1 without "updating", level
 * 2 without the window too; staleness and "no data" always stay.
 */
static void frame_note(const sr_screen *s, const panel_state *p, bool stale, int level, char *buf,
                       size_t len)
{
    buf[0] = 0;
    if (!p)
        return;
    char piece[48];
    if (level < 2 && p->computed && p->m.to_ms > p->m.from_ms) {
        sr_format_window(p->m.to_ms - p->m.from_ms, piece, sizeof piece);
        note_add(buf, len, piece);
    }
    if (p->computed && p->m.newest_ms > 0 && stale && !s->loading[0]) {
        char a[32];
        sr_format_age(scr_view_end(s) - p->m.newest_ms, a, sizeof a);
        snprintf(piece, sizeof piece, "stale %s", a);
        note_add(buf, len, piece);
    } else if (p->computed && p->m.newest_ms <= 0 && !s->loading[0]) {
        note_add(buf, len, "no data");
    }
    if (p->busy && level < 1)
        note_add(buf, len, "updating");
    size_t l = strlen(buf);
    if (l && l + 3 <= len) { /* a space either side, off the border */
        memmove(buf + 1, buf, l);
        buf[0] = buf[l + 1] = ' ';
        buf[l + 2] = 0;
    }
}

void scr_draw_frame(sr_screen *s, WINDOW *w, const char *title, const panel_state *p, bool focused,
                    bool stale)
{
    const sr_glyphs *g = sr_glyphs_get();
    int h, wd;
    getmaxyx(w, h, wd);
    attr_t border = sr_role_attr(focused ? SR_ROLE_FOCUS : SR_ROLE_BORDER);
    wkit_line(w, 0, 1, wd - 2, false, border, g->hline);
    wkit_line(w, h - 1, 1, wd - 2, false, border, g->hline);
    wkit_line(w, 1, 0, h - 2, true, border, g->vline);
    wkit_line(w, 1, wd - 1, h - 2, true, border, g->vline);
    wkit_glyph(w, 0, 0, border, g->ul);
    wkit_glyph(w, 0, wd - 1, border, g->ur);
    wkit_glyph(w, h - 1, 0, border, g->ll);
    wkit_glyph(w, h - 1, wd - 1, border, g->lr);
    /* on the right of the top border: the window, how old the data is when
     * it is late, and while a job computes the panel again a quiet "updating" */
    char age[96] = "";
    int aw = 0, room = 0;
    int want = title ? sr_tui_width(title) : 0; /* the title's columns, up to FRAME_TITLE_MIN */
    want = want < FRAME_TITLE_MIN ? want : FRAME_TITLE_MIN;
    for (int level = 0; level <= 2; level++) {
        frame_note(s, p, stale, level, age, sizeof age);
        aw = sr_tui_width(age);
        room = wd - 4 - (aw > 0 ? aw + 1 : 0);
        if (room - 1 >= want)
            break;
    }
    if (room > 2) {
        char cut[512];
        sr_tui_fit_title(title, p ? p->short_title : NULL, room - 1, cut, sizeof cut);
        mvwaddstr(w, 0, 1, " ");
        int tw = sr_tui_put(w, 0, 2, room - 1,
                            sr_role_attr(focused ? SR_ROLE_FOCUS : SR_ROLE_TITLE), cut);
        mvwaddstr(w, 0, 2 + tw, " ");
    }
    if (aw > 0 && wd - 1 - aw > 2)
        sr_tui_put(w, 0, wd - 1 - aw, aw, sr_role_attr(stale ? SR_ROLE_STALE : SR_ROLE_DIM), age);
}

static bool sources_stale(const sr_screen *s)
{
    return s->src.total > 0 && s->src.live == 0;
}

/* How far behind now the newest data of a source that answers may be, on
 * top of its late limit, before it is called behind: events arrive after
 * the time they carry, and hourly or daily figures carry their hour or
 * day; an export that ended long ago is days, months, years behind. */
#define SR_SOURCE_BEHIND_MS SR_MS_DAY

/*
 * Over the panel's sources: the longest time their data may lag before it
 * is late (sr_source_late_after(), 0 when none is known) into *after, and
 * whether, at now, one of them answers but brings nothing new: the newest
 * sample it has ever written is more than SR_SOURCE_BEHIND_MS past that
 * (an old export).
 */
static bool panel_sources_behind(const sr_screen *s, const panel_state *p, sr_ms *after)
{
    bool behind = false;
    *after = 0;
    for (size_t i = 0; i < p->m.n_sources; i++) {
        for (size_t k = 0; k < s->srcl.n; k++) {
            const sr_source_health *h = &s->srcl.v[k].h;
            if (strcmp(p->m.sources[i], h->name) != 0)
                continue;
            sr_ms a = sr_source_late_after(h);
            if (a > *after)
                *after = a;
            if (a > 0 && h->newest_ms > 0 && s->now - h->newest_ms > a + SR_SOURCE_BEHIND_MS)
                behind = true;
        }
    }
    return behind;
}

/*
 * A panel is stale when its newest data is late: older, where the windows
 * end, than the panel's window and its sources' late limit together (no
 * data for a whole window, and then some). Live,
 * also when one of its sources brings only data older than its late limit
 * (an old export: years-old data is not OK however healthy the file that
 * holds it), or when a source behind its figures is late or failing (or,
 * before any source has written its metric, when no source is live). A
 * view of the past is judged by its data alone, since what the sources do
 * now says nothing of then.
 */
bool scr_panel_stale(const sr_screen *s, const panel_state *p)
{
    sr_ms after = 0;
    bool behind = p->computed && panel_sources_behind(s, p, &after);
    if (p->computed && p->m.newest_ms > 0) {
        if (scr_view_end(s) - p->m.newest_ms > p->m.to_ms - p->m.from_ms + after)
            return true;
    }
    if (s->end_ms)
        return false;
    if (behind)
        return true;
    if (s->end_ms)
        return false;
    if (!p->computed || p->m.n_sources == 0)
        return sources_stale(s);
    for (size_t i = 0; i < p->m.n_sources; i++) {
        for (size_t k = 0; k < s->src.n_late; k++) {
            if (s->src.late[k] && strcmp(p->m.sources[i], s->src.late[k]) == 0)
                return true;
        }
    }
    return false;
}

/* What a panel never computed yet says while its first job runs. */
void scr_draw_placeholder(sr_screen *s, WINDOW *w)
{
    sr_tui_put(w, 0, 0, getmaxx(w), sr_role_attr(SR_ROLE_DIM),
               s->loading[0] ? s->loading : "updating");
}

void scr_draw_panel(sr_screen *s, size_t li, int idx)
{
    panel_state *p = &s->ps[li];
    const sr_tui_panel *tp = &s->lay->panels[li];
    if (!p->frame)
        return;
    const sr_widget_class *wc = scr_widget_of(tp);
    int ih, iw;
    getmaxyx(p->inner, ih, iw);
    if (p->dirty || !p->computed)
        scr_compute(s, li, false, scr_panel_entity(s, tp), wc->wants | SR_PANEL_SERIES,
                    (size_t)(iw > 0 ? iw : 2));
    p->redraw = false;
    werase(p->frame);
    bool focused = !s->wall && idx == s->focus;
    bool stale = scr_panel_stale(s, p);
    char title[512];
    if (s->mode == LAYOUT_SINGLE) /* one at a time: which one of how many */
        snprintf(title, sizeof title, "%d/%zu %s", idx + 1, scr_cur_page(s)->n_panels, tp->title);
    else
        snprintf(title, sizeof title, "%s", tp->title);
    scr_draw_frame(s, p->frame, title, p, focused, stale);
    sr_view v = {.m = &p->m,
                 .title = tp->title,
                 .focused = focused,
                 .stale = stale,
                 .timezone = s->lay->timezone,
                 .scroll = p->scroll,
                 .selected = focused ? p->selected : -1,
                 .big = s->wall,
                 .empty = s->loading[0] ? s->loading : NULL,
                 .alert = scr_panel_alert(s, tp, SR_ALERT_THRESHOLD),
                 .alert_unusual = scr_panel_alert(s, tp, SR_ALERT_UNUSUAL)};
    werase(p->inner);
    if (ih > 0 && iw > 0) {
        bool hidden = p->pr.rows_personal + p->pr.rows_deep > 0;
        if (!p->computed) {
            scr_draw_placeholder(s, p->inner);
        } else if (p->rc == SR_ENOENT && !p->m.def) {
            sr_tui_put(p->inner, 0, 0, iw, sr_role_attr(SR_ROLE_DIM), "no such metric or entity");
        } else if (p->pr.entity_hidden) {
            scr_draw_hidden(s, p->inner, 0, p);
        } else if (hidden && p->m.n_rows == 0) {
            /* every row hidden: the entity's own value, and why no rows */
            sr_draw_value(p->inner, 0, 0, iw, &v);
            if (ih >= 2)
                scr_draw_hidden(s, p->inner, 1, p);
        } else if (hidden && ih >= 2) {
            /* the widget above, what was hidden and why on the last line */
            WINDOW *top = derwin(p->inner, ih - 1, iw, 0, 0);
            if (top) {
                wc->draw(top, &v);
                delwin(top);
            }
            scr_draw_hidden(s, p->inner, ih - 1, p);
        } else {
            wc->draw(p->inner, &v);
        }
    }
    wnoutrefresh(p->frame);
}

/* Whether a panel of the page is on the screen: every one in the compact
 * list, else those the layout gave windows (one in LAYOUT_SINGLE). */
bool scr_panel_shown(const sr_screen *s, const panel_state *p)
{
    return s->mode == LAYOUT_LIST || p->frame;
}

/*
 * LAYOUT_LIST: a line per panel of the page, the title on the left (the
 * focused one selected), the value and status on the right; scrolled so
 * that the focused panel is on the screen.
 */
void scr_draw_list(sr_screen *s)
{
    WINDOW *w = s->list;
    if (!w)
        return;
    const sr_tui_page *pg = scr_cur_page(s);
    int n = (int)pg->n_panels, h, wd;
    getmaxyx(w, h, wd);
    if (s->focus < s->list_scroll)
        s->list_scroll = s->focus;
    if (s->focus >= s->list_scroll + h)
        s->list_scroll = s->focus - h + 1;
    int tw = 0; /* the titles' column */
    for (int i = 0; i < n; i++) {
        int t = sr_tui_width(s->lay->panels[pg->panels[i]].title);
        tw = t > tw ? t : tw;
    }
    if (tw > wd / 2)
        tw = wd / 2;
    werase(w);
    for (int i = s->list_scroll; i < n && i - s->list_scroll < h; i++) {
        size_t li = pg->panels[i];
        panel_state *p = &s->ps[li];
        const sr_tui_panel *tp = &s->lay->panels[li];
        int y = i - s->list_scroll;
        if (p->dirty || !p->computed)
            scr_compute(s, li, false, scr_panel_entity(s, tp), scr_widget_of(tp)->wants, 2);
        p->redraw = false;
        bool focused = i == s->focus;
        char cut[512];
        sr_tui_fit_title(tp->title, tp->short_title, tw, cut, sizeof cut);
        sr_tui_put(w, y, 0, tw, sr_role_attr(focused ? SR_ROLE_SELECTED : SR_ROLE_TITLE), cut);
        WINDOW *r = derwin(w, 1, wd - tw - 1, y, tw + 1);
        if (!r)
            continue;
        sr_view v = {.m = &p->m,
                     .title = tp->title,
                     .focused = focused,
                     .stale = scr_panel_stale(s, p),
                     .timezone = s->lay->timezone,
                     .selected = -1,
                     .empty = s->loading[0] ? s->loading : NULL};
        if (!p->computed)
            scr_draw_placeholder(s, r);
        else if (p->pr.entity_hidden)
            sr_tui_put(r, 0, 0, getmaxx(r), sr_role_attr(SR_ROLE_DIM), "hidden");
        else if (p->rc == SR_ENOENT && !p->m.def)
            sr_tui_put(r, 0, 0, getmaxx(r), sr_role_attr(SR_ROLE_DIM), "no such metric");
        else
            sr_draw_value_status(r, 0, getmaxx(r), &v);
        delwin(r);
    }
    wnoutrefresh(w);
}
