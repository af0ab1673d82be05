/*
 * status.c - the status bar (where, the clock or HISTORY, alerts, sources) and the hint line
 */
#include "screen_int.h"

/*
 * The pages by name at the left of the hint line ("1 Overview  2 Response
 * times"), the current one selected, in at most max_cols columns: when
 * they do not all fit, the current one alone ("2/3 Response times").
 * Returns the columns taken.
 */
static int draw_page_names(const sr_screen *s, WINDOW *w, int max_cols)
{
    char name[SR_LABEL_MAX + 16];
    int total = 1;
    for (size_t i = 0; i < s->lay->n_pages && i < 9; i++) {
        snprintf(name, sizeof name, " %zu %s ", i + 1, s->lay->pages[i].title);
        total += sr_tui_width(name) + 1;
    }
    if (s->lay->n_pages < 2 || max_cols < 8)
        return 0;
    attr_t sel = sr_role_attr(SR_ROLE_SELECTED), dim = sr_role_attr(SR_ROLE_DIM);
    int x = 1;
    if (total > max_cols) {
        snprintf(name, sizeof name, " %d/%zu %s ", s->page + 1, s->lay->n_pages,
                 scr_cur_page(s)->title);
        return x + sr_tui_put(w, 0, x, max_cols - x, sel, name);
    }
    for (size_t i = 0; i < s->lay->n_pages && i < 9; i++) {
        snprintf(name, sizeof name, " %zu %s ", i + 1, s->lay->pages[i].title);
        x += sr_tui_put(w, 0, x, max_cols - x, (int)i == s->page ? sel : dim, name) + 1;
    }
    return x;
}

void scr_draw_status(sr_screen *s)
{
    const sr_glyphs *g = sr_glyphs_get();
    WINDOW *w = s->status;
    int wd = getmaxx(w);
    attr_t a = sr_role_attr(SR_ROLE_STATUSBAR);
    wbkgdset(w, ' ' | a);
    werase(w);
    /* where: title › page › drill path */
    char where[768];
    snprintf(where, sizeof where, " SITREP %s %s%s%s", g->dot, s->lay->title, g->sep,
             scr_cur_page(s)->title);
    const char *base = s->root[0] ? s->root : "";
    if (s->root[0]) {
        strncat(where, g->sep, sizeof where - strlen(where) - 1);
        strncat(where, base, sizeof where - strlen(where) - 1);
    }
    for (int i = 0; s->view == VIEW_PANELS && i < s->depth; i++) {
        if (!s->drill[i][0])
            continue;
        const char *seg = strrchr(s->drill[i], '/');
        strncat(where, g->sep, sizeof where - strlen(where) - 1);
        strncat(where, seg ? seg + 1 : s->drill[i], sizeof where - strlen(where) - 1);
    }
    if (s->view != VIEW_PANELS) {
        strncat(where, g->sep, sizeof where - strlen(where) - 1);
        strncat(where, s->view == VIEW_ALERTS ? "Alerts" : "Sources",
                sizeof where - strlen(where) - 1);
    }
    if (s->view == VIEW_REJECTS) {
        strncat(where, g->sep, sizeof where - strlen(where) - 1);
        strncat(where, s->rj_source, sizeof where - strlen(where) - 1);
        strncat(where, g->sep, sizeof where - strlen(where) - 1);
        strncat(where, "rejected rows", sizeof where - strlen(where) - 1);
    }
    /* right side: the clock (or, when the windows do not end now, HISTORY
     * and where they end, with the date), a window set for all panels, the
     * alerts, the sources */
    sr_civil c;
    char clock[64] = "", clock_short[64] = "";
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    bool history = s->end_ms != 0;
    if (sr_utc_to_local(s->lay->timezone, history ? s->end_ms : s->now, &c) == 0) {
        if (history) {
            snprintf(clock, sizeof clock, " to %s %d %s %d %02d:%02d", days[c.wday % 7], c.mday,
                     mons[(c.mon + 11) % 12], c.year, c.hour, c.min);
            snprintf(clock_short, sizeof clock_short, " %d %s %d %02d:%02d", c.mday,
                     mons[(c.mon + 11) % 12], c.year, c.hour, c.min);
        } else {
            snprintf(clock, sizeof clock, "%s %02d %s %02d:%02d:%02d", days[c.wday % 7], c.mday,
                     mons[(c.mon + 11) % 12], c.hour, c.min, c.sec);
            snprintf(clock_short, sizeof clock_short, "%02d:%02d:%02d", c.hour, c.min, c.sec);
        }
    }
    char win[64] = "";
    if (s->window_ms) { /* each panel's own window is in its frame */
        char d[16];
        sr_format_window(s->window_ms, d, sizeof d);
        snprintf(win, sizeof win, "all panels: last %s   ", d);
    }
    /* alerts, before the sources: the ones nobody has taken yet by severity
     * (a symbol and a word, never colour alone), then those acknowledged or
     * silenced, so that an acknowledgement anywhere shows here at once */
    int n_sev[3] = {0, 0, 0}, n_acked = 0, n_silenced = 0; /* crit, warn, unusual (a warn) */
    for (size_t i = 0; i < s->n_alerts; i++) {
        if (s->alerts[i].state == SR_ALERT_ACKED)
            n_acked++;
        else if (s->alerts[i].state == SR_ALERT_SILENCED)
            n_silenced++;
        else
            n_sev[s->alerts[i].kind == SR_ALERT_UNUSUAL     ? 2
                  : s->alerts[i].severity == SR_STATUS_CRIT ? 0
                                                            : 1]++;
    }
    char al[128] = "";
    size_t l = 0;
    if (n_sev[0])
        l += (size_t)snprintf(al + l, sizeof al - l, "%s %d crit  ", g->crit, n_sev[0]);
    if (n_sev[1])
        l += (size_t)snprintf(al + l, sizeof al - l, "%s %d warn  ", g->warn, n_sev[1]);
    if (n_sev[2])
        l += (size_t)snprintf(al + l, sizeof al - l, "%s %d unusual  ", g->warn, n_sev[2]);
    if (n_acked)
        l += (size_t)snprintf(al + l, sizeof al - l, "%d acked  ", n_acked);
    if (n_silenced)
        snprintf(al + l, sizeof al - l, "%d silenced  ", n_silenced);
    /* the sources: the symbol and colour of the worst state among them */
    char src[128], role[64] = "";
    if (s->src.role && !s->wall) /* a wall is read from afar: not who polls */
        snprintf(role, sizeof role, " %s %s", g->dot, s->src.role);
    const char *sym = s->src.failing ? g->crit : s->src.live < s->src.total ? g->warn : g->ok;
    attr_t src_a = s->src.failing               ? sr_role_attr(SR_ROLE_CRIT) | A_REVERSE
                   : s->src.live < s->src.total ? sr_role_attr(SR_ROLE_WARN) | A_REVERSE
                                                : a;
    /* the status bar gives up, in this order: the long clock, the window,
     * the role, the place (cut), the alerts, the sources; HISTORY goes last */
    for (int level = 0; level < 6; level++) {
        bool full = level < 1, with_win = level < 2, with_role = level < 3;
        snprintf(src, sizeof src, "%s %d/%d sources%s", sym, s->src.live, s->src.total,
                 with_role ? role : "");
        struct {
            const char *text;
            attr_t attr;
        } seg[] = {
            {sr_cache_damaged_note(s->cache_damaged_src || s->cache_damaged_read),
             sr_role_attr(SR_ROLE_CRIT) | A_REVERSE | A_BOLD},
            {history ? "HISTORY" : "", sr_role_attr(SR_ROLE_WARN) | A_REVERSE | A_BOLD},
            {full ? clock : clock_short, a},
            {"   ", a},
            {with_win ? win : "", a},
            {level < 4 ? al : "", a},
            {level < 5 ? src : "", src_a},
            {" ", a},
        };
        enum { N_SEG = sizeof seg / sizeof seg[0] };
        int rw = 0;
        for (size_t i = 0; i < N_SEG; i++)
            rw += sr_tui_width(seg[i].text);
        int ww = sr_tui_width(where);
        /* the place is cut only once the window and the role are gone */
        if (level < 5 && (level < 3 ? ww + rw + 2 > wd : rw + 1 > wd))
            continue;
        if (rw < wd)
            sr_tui_put(w, 0, 0, wd - rw - 1, a | A_BOLD, where);
        int x = wd - rw > 0 ? wd - rw : 0;
        for (size_t i = 0; i < N_SEG && x < wd; i++)
            x += sr_tui_put(w, 0, x, wd - x, seg[i].attr, seg[i].text);
        break;
    }
    wnoutrefresh(w);

    WINDOW *h = s->hints;
    if (s->wall) { /* nobody presses keys here: where the rotation stands instead */
        wbkgdset(h, ' ' | a);
        werase(h);
        sr_tui_put(h, 0, 1, getmaxx(h) - 1, a | A_BOLD, s->wall_text);
        wnoutrefresh(h);
        return;
    }
    werase(h);
    bool msg = s->msg[0] && s->now < s->msg_until_ms;
    int x = 0; /* the pages by name first (the grid); the keys in what they leave */
    if (!msg && !s->prompt && s->view == VIEW_PANELS && !s->depth)
        x = draw_page_names(s, h, getmaxx(h) - 16);
    /* the keys' names from the glyph set: "↵ drill down", or "Enter drill down" */
    const char *E = g->enter, *B = g->back, *A = g->arrows;
    char keys[256];
    if (s->view == VIEW_SOURCES)
        snprintf(keys, sizeof keys,
                 " ? help  %s select  %s rejected rows  s %s Esc close  1-9 pages  q quit", A, E,
                 B);
    else if (s->view == VIEW_REJECTS)
        snprintf(keys, sizeof keys,
                 " ? help  %s scroll  %s Esc back to the sources  s close  q quit", A, B);
    else if (s->view == VIEW_ALERTS)
        snprintf(keys, sizeof keys,
                 " ? help  %s select  %s acknowledge  m silence  a Esc close  s sources  q quit", A,
                 E);
    else if (s->depth)
        snprintf(keys, sizeof keys,
                 " ? help  %s down  %s up  %s select  + - zoom  [ ] shift  0 live  r re-root  a "
                 "alerts  s sources  q quit",
                 E, B, A);
    else
        snprintf(keys, sizeof keys,
                 " ? help  %s drill down  %s up  Tab/arrows move  + - zoom  [ ] shift  0 live  a "
                 "alerts  s sources  q quit",
                 E, B);
    if (s->view == VIEW_PANELS && getmaxx(h) - x < sr_tui_width(keys))
        snprintf(keys, sizeof keys,
                 " ? help  %s drill  %s up  Tab move  +- zoom  a alerts  s sources  q quit", E, B);
    const char *hint = keys;
    if (x > 0 && getmaxx(h) - x < sr_tui_width(hint))
        hint = " ? help  q quit";
    char prompt[SR_ALERT_NOTE_MAX + SR_ALERT_KEY_MAX + 128];
    if (s->prompt) {
        char key[64];
        sr_screen_text(s->prompt_key, 40, g->utf8, key, sizeof key);
        char d[32];
        sr_format_duration(s->prompt_for_ms, d, sizeof d);
        if (s->prompt_silence && !s->prompt_for_ms)
            snprintf(prompt, sizeof prompt,
                     " silence %s for (15m 1h 4h 8h ...; Enter confirms, Esc cancels): %s_", key,
                     s->prompt_text);
        else if (s->prompt_silence)
            snprintf(prompt, sizeof prompt,
                     " silence %s for %s, reason (Enter confirms, Esc cancels): %s_", key, d,
                     s->prompt_text);
        else
            snprintf(prompt, sizeof prompt,
                     " acknowledge %s, note (Enter confirms, Esc cancels): %s_", key,
                     s->prompt_text);
        hint = prompt;
        msg = true;
    } else if (s->filtering || (s->filter[0] && !msg)) {
        /* a message (an acknowledgement's outcome) shows over a kept filter */
        snprintf(prompt, sizeof prompt, " filter: %s%s  (%s)", s->filter, s->filtering ? "_" : "",
                 s->filtering ? "Enter keeps it, Esc clears it" : "Esc clears it");
        hint = prompt;
        msg = true;
    } else if (msg) {
        hint = s->msg;
    }
    sr_tui_put(h, 0, x, getmaxx(h) - x,
               msg ? sr_role_attr(SR_ROLE_ACCENT) : sr_role_attr(SR_ROLE_DIM), hint);
    wnoutrefresh(h);
}
