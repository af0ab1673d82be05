/*
 * keys.c - the key table and what each key does: focus, drill-down, time, pages, the / filter, the
 * alert prompt, the mouse
 */
#include "screen_int.h"

/* ---- keys ---- */

typedef enum {
    ACT_QUIT,
    ACT_HELP,
    ACT_NEXT,
    ACT_PREV,
    ACT_LEFT,
    ACT_RIGHT,
    ACT_UP,
    ACT_DOWN,
    ACT_ENTER,
    ACT_BACK,
    ACT_ZOOM_IN,
    ACT_ZOOM_OUT,
    ACT_SHIFT_BACK,
    ACT_SHIFT_FWD,
    ACT_LIVE,
    ACT_REROOT,
    ACT_UNUSUAL,
    ACT_SOURCES,
    ACT_ALERTS,
    ACT_SILENCE,
    ACT_REPORT,
    ACT_FILTER,
    ACT_PAGE, /* keys 1-9 */
} action;

static const struct binding {
    int keys[4];
    action act;
    const char *label;
    const char *what;
} bindings[] = {
    {{'q', 'Q', KEY_F(10)}, ACT_QUIT, "q F10", "quit"},
    {{'?', KEY_F(1)}, ACT_HELP, "? F1", "this help (any key closes it)"},
    {{'1'}, ACT_PAGE, "1-9", "go to page 1 to 9"},
    {{'\t'}, ACT_NEXT, "Tab", "focus the next panel"},
    {{KEY_BTAB}, ACT_PREV, "Shift-Tab", "focus the previous panel"},
    {{KEY_LEFT, 'h'}, ACT_LEFT, "arrows hjkl", "move the focus (in a list: move the selection)"},
    {{KEY_RIGHT, 'l'}, ACT_RIGHT, NULL, NULL},
    {{KEY_UP, 'k'}, ACT_UP, NULL, NULL},
    {{KEY_DOWN, 'j'}, ACT_DOWN, NULL, NULL},
    {{'\n', '\r', KEY_ENTER},
     ACT_ENTER,
     "Enter",
     "drill down: the focused panel by child entity, "
     "then the selected child"},
    {{KEY_BACKSPACE, 127, 8, 27}, ACT_BACK, "Backspace Esc", "one level up"},
    {{'+', '='}, ACT_ZOOM_IN, "+ -", "zoom the window in / out (15m 1h 8h 24h 7d 28d 365d)"},
    {{'-', '_'}, ACT_ZOOM_OUT, NULL, NULL},
    {{'['}, ACT_SHIFT_BACK, "[ ]", "shift the window back / forward in time"},
    {{']'}, ACT_SHIFT_FWD, NULL, NULL},
    {{'0'}, ACT_LIVE, "0", "back to live, each panel's own window"},
    {{'r'}, ACT_REROOT, "r", "re-root the page at the drilled entity (r again: back)"},
    {{'u', 'U'},
     ACT_UNUSUAL,
     "u",
     "the breakdown most unusual first: each child against its normal, the farthest outside "
     "it on top (u again: worst first)"},
    {{'s', 'S'}, ACT_SOURCES, "s", "the sources and their state (Enter: rejected rows)"},
    {{'a', 'A'}, ACT_ALERTS, "a", "the open alerts (Enter: acknowledge with a note)"},
    {{'m', 'M'}, ACT_SILENCE, "m", "silence the selected alert for a time (alerts view)"},
    {{'e', 'E'}, ACT_REPORT, "e", "write the shift handover report (Markdown) to a file"},
    {{'/'},
     ACT_FILTER,
     "/",
     "filter the focused table or list: the rows whose name holds the text "
     "typed (Enter keeps it, Esc clears it)"},
};

/* The help lists the bindings that carry a label (one line per group). */
const sr_key_help *sr_screen_key_help(size_t *n)
{
    static sr_key_help help[sizeof bindings / sizeof bindings[0]];
    static size_t count;
    if (!count) {
        for (size_t i = 0; i < sizeof bindings / sizeof bindings[0]; i++) {
            if (bindings[i].label)
                help[count++] = (sr_key_help){bindings[i].label, bindings[i].what};
        }
    }
    *n = count;
    return help;
}

static const sr_ms zoom_levels[] = {15 * SR_MS_MIN, SR_MS_HOUR,     8 * SR_MS_HOUR, SR_MS_DAY,
                                    7 * SR_MS_DAY,  28 * SR_MS_DAY, 365 * SR_MS_DAY};
#define N_ZOOM (sizeof zoom_levels / sizeof zoom_levels[0])

/* The panel whose rows "/" filters: the drill view's, else the focused
 * panel's on the grid; NULL in the other views. */
panel_state *scr_filter_target(sr_screen *s)
{
    if (s->view != VIEW_PANELS || s->wall)
        return NULL;
    if (s->depth > 0)
        return &s->drill_ps;
    return scr_cur_page(s)->n_panels ? &s->ps[scr_page_panel(s, s->focus)] : NULL;
}

/* Whether name holds text, ASCII letters in either case. */
static bool name_holds(const char *name, const char *text)
{
    size_t n = strlen(text);
    for (; *name; name++) {
        if (strncasecmp(name, text, n) == 0)
            return true;
    }
    return n == 0;
}

/* Keeps the rows of m whose name (as the table shows it) holds filter,
 * in their order; the others go (a model computed again has them all). */
void scr_filter_rows(const char *filter, sr_panel_model *m)
{
    if (!filter[0])
        return;
    size_t k = 0;
    for (size_t i = 0; i < m->n_rows; i++) {
        if (name_holds(wkit_short_name(m->rows[i].entity), filter))
            m->rows[k++] = m->rows[i];
    }
    m->n_rows = k;
}

/* Whether "/" filters the view shown: the alerts or the sources list. */
bool scr_filters_view(const sr_screen *s)
{
    return s->view == VIEW_ALERTS || s->view == VIEW_SOURCES;
}

alertview scr_alerts_of(const sr_screen *s, const sr_alert *v, size_t n, int selected, int scroll)
{
    return (alertview){.v = v,
                       .n = n,
                       .selected = selected,
                       .scroll = scroll,
                       .now = s->now,
                       .lay = s->lay,
                       .may_act = s->may_act,
                       .withheld = s->al_withheld};
}

/*
 * The rows of the alerts or the sources view that the filter lets through,
 * as the view names them (an alert's panel or entity, a source's name):
 * map[k] is the k-th shown row's index in the whole list (map holds room
 * for all). Returns how many. The selection (al_sel, src_sel) stays an
 * index into the whole list, so that acting on it needs no map.
 */
size_t scr_view_rows(const sr_screen *s, size_t *map)
{
    size_t n = s->view == VIEW_ALERTS ? s->n_alerts : s->srcl.n, k = 0;
    for (size_t i = 0; i < n; i++) {
        bool shown = !s->filter[0];
        if (!shown && s->view == VIEW_ALERTS) {
            alertview v = scr_alerts_of(s, s->alerts, s->n_alerts, 0, 0);
            alertview_row r;
            alertview_format(&v, i, &r);
            shown = name_holds(r.panel, s->filter) || name_holds(r.entity, s->filter);
        } else if (!shown) {
            shown = name_holds(s->srcl.v[i].h.name, s->filter);
        }
        if (shown)
            map[k++] = i;
    }
    return k;
}

/* The position of the selection among the shown rows (0 when not shown). */
int scr_view_pos(const size_t *map, size_t k, int sel)
{
    for (size_t i = 0; i < k; i++) {
        if ((int)map[i] == sel)
            return (int)i;
    }
    return 0;
}

/* The filter of the alerts or sources view changed: the selection goes to
 * the first row shown. */
static void view_filtered(sr_screen *s)
{
    size_t n = s->view == VIEW_ALERTS ? s->n_alerts : s->srcl.n;
    size_t *map = malloc((n + 1) * sizeof *map);
    if (s->filter[0] && map && scr_view_rows(s, map)) /* cleared: the selection stays */
        *(s->view == VIEW_ALERTS ? &s->al_sel : &s->src_sel) = (int)map[0];
    free(map);
    *(s->view == VIEW_ALERTS ? &s->al_scroll : &s->src_scroll) = 0;
    s->view_dirty = true;
}

/* Sets the filter of the rows (typing goes on or not): the rows shown
 * narrow at once, and the model is computed again for the rows a shorter
 * filter lets back. */
static void filter_set(sr_screen *s, const char *text)
{
    panel_state *p = scr_filter_target(s);
    snprintf(s->filter, sizeof s->filter, "%s", text);
    if (scr_filters_view(s))
        view_filtered(s);
    if (!p)
        return;
    scr_filter_rows(s->filter, &p->m);
    p->selected = 0;
    p->scroll = 0;
    p->dirty = true;
    p->redraw = true;
}

/* Ends the filter before what it filtered changes (focus, drill-down, page,
 * view): the panel it narrowed has all its rows again. */
void scr_filter_clear(sr_screen *s)
{
    s->filtering = false;
    if (s->filter[0])
        filter_set(s, "");
}

/* A key while the filter is typed: text, Backspace, Enter keeps the
 * filter, Esc clears it; other keys (arrows, Tab) act as usual. */
static bool filter_key(sr_screen *s, int key)
{
    char text[sizeof s->filter];
    size_t n = strlen(s->filter);
    snprintf(text, sizeof text, "%s", s->filter);
    if (key == 27) {
        scr_filter_clear(s);
    } else if (key == '\n' || key == '\r' || key == KEY_ENTER) {
        s->filtering = false;
    } else if (key == KEY_BACKSPACE || key == 127 || key == 8) {
        while (n > 0 && ((unsigned char)text[--n] & 0xC0) == 0x80)
            ; /* a UTF-8 character's continuation bytes go with it */
        text[n] = 0;
        filter_set(s, text);
    } else if (key >= ' ' && key < 256 && key != 127) {
        if (n + 1 < sizeof text) {
            text[n] = (char)key;
            text[n + 1] = 0;
            filter_set(s, text);
        }
    } else {
        return false;
    }
    s->all_dirty = true; /* the hint line shows it */
    return true;
}

sr_key_result sr_screen_input(sr_screen *s)
{
    int key;
    sr_key_result r = SR_KEY_NONE, k;
    while ((key = getch()) != ERR) {
        k = sr_screen_key(s, key);
        if (k == SR_KEY_QUIT)
            return k;
        if (k > r)
            r = k;
    }
    return r;
}

sr_key_result sr_screen_input_locked(sr_screen *s, const int *chord, size_t n, size_t *pos)
{
    int key;
    while ((key = getch()) != ERR) {
        if (key == KEY_RESIZE)
            sr_screen_resize(s);
        else if (sr_wall_chord_key(chord, n, pos, key))
            return SR_KEY_QUIT;
    }
    return SR_KEY_NONE;
}

/* ---- keys ---- */

static void set_focus(sr_screen *s, int f)
{
    int n = (int)scr_cur_page(s)->n_panels;
    if (n == 0)
        return;
    f = ((f % n) + n) % n;
    if (f == s->focus)
        return;
    scr_filter_clear(s);
    s->ps[scr_page_panel(s, s->focus)].redraw = true;
    s->focus = f;
    s->ps[scr_page_panel(s, s->focus)].redraw = true;
    if (s->mode == LAYOUT_SINGLE && !s->depth && s->view == VIEW_PANELS) {
        s->layout_dirty = true; /* the next panel takes the area */
        s->all_dirty = true;
    }
}

/* Moves the focus to the panel nearest in direction (dy, dx) on the grid. */
static void move_focus(sr_screen *s, int dy, int dx)
{
    const sr_tui_page *pg = scr_cur_page(s);
    int n = (int)pg->n_panels;
    if (n == 0)
        return;
    int cols;
    if (scr_page_shape(n, pg->columns, LINES - 2, COLS, &cols) != LAYOUT_GRID) {
        /* one panel at a time, or the list: up and left go back */
        set_focus(s, s->focus + (dy + dx > 0 ? 1 : -1));
        return;
    }
    int cy, cx, ch, cw;
    scr_grid_cell(n, cols, 1, LINES - 2, COLS, s->focus, &cy, &cx, &ch, &cw);
    int best = -1;
    long best_d = 0;
    for (int i = 0; i < n; i++) {
        int y, x, h, w;
        scr_grid_cell(n, cols, 1, LINES - 2, COLS, i, &y, &x, &h, &w);
        int ddy = (y + h / 2) - (cy + ch / 2), ddx = (x + w / 2) - (cx + cw / 2);
        if ((dy && (ddy * dy <= 0)) || (dx && (ddx * dx <= 0)))
            continue;
        long d = (long)ddy * ddy * (dx ? 4 : 1) + (long)ddx * ddx * (dy ? 4 : 1);
        if (best < 0 || d < best_d) {
            best = i;
            best_d = d;
        }
    }
    if (best >= 0)
        set_focus(s, best);
}

static bool list_key(sr_screen *s, panel_state *p, int key)
{
    const sr_tui_panel *tp = scr_focused_panel(s);
    const sr_widget_class *wc = s->depth > 0 ? &sr_widget_table : (tp ? scr_widget_of(tp) : NULL);
    if (!wc || !wc->key)
        return false;
    int rows = 0;
    if (p->inner) {
        rows = getmaxy(p->inner) - 1; /* less a header line */
        if (s->depth > 0 && (int)p->m.n_rows + 2 < rows)
            rows = (int)p->m.n_rows + 1;
    }
    sr_view v = {
        .m = &p->m, .focused = true, .scroll = p->scroll, .selected = p->selected, .rows = rows};
    bool used = wc->key(&v, key);
    if (used) {
        p->scroll = v.scroll;
        p->selected = v.selected;
        if (s->depth > 0)
            s->drill_ps.redraw = true;
        else
            p->redraw = true;
    }
    return used;
}

/* How long a refused drill-down's reason stays in the hint line. */
#define REFUSED_MESSAGE_MS (5 * SR_MS_SEC)

/* Says in the hint line why the view cannot go below entity. */
static void refuse_drill(sr_screen *s, const char *entity, sr_priv_hide why)
{
    char reason[256], msg[512];
    sr_privacy_why_text(s->lay->privacy, why, sr_privacy_level(entity) + 1, reason, sizeof reason);
    snprintf(msg, sizeof msg, " cannot drill below %s: %s", *entity ? entity : "the top", reason);
    sr_screen_set_message(s, msg, s->now + REFUSED_MESSAGE_MS);
}

/* Whether the role may open entity; says why not in the hint line. */
static bool may_open(sr_screen *s, const char *entity)
{
    const sr_privacy *pol = s->lay->privacy;
    sr_priv_hide h = pol ? sr_privacy_entity(pol, entity) : SR_PRIV_SHOWN;
    if (h == SR_PRIV_SHOWN)
        return true;
    char reason[256], msg[512];
    sr_privacy_why_text(pol, h, sr_privacy_level(entity), reason, sizeof reason);
    snprintf(msg, sizeof msg, " cannot open %s: %s", entity, reason);
    sr_screen_set_message(s, msg, s->now + REFUSED_MESSAGE_MS);
    return false;
}

static void drill_to(sr_screen *s, const char *entity)
{
    if (s->depth >= SR_DRILL_MAX || !may_open(s, entity))
        return;
    scr_filter_clear(s);
    snprintf(s->drill[s->depth++], sizeof s->drill[0], "%s", entity);
    scr_drill_forget(s);
    s->layout_dirty = true;
    s->all_dirty = true;
}

static void set_view(sr_screen *s, view_kind v)
{
    scr_filter_clear(s);
    s->view = v;
    s->view_dirty = true;
    s->layout_dirty = true;
    s->all_dirty = true;
}

/* How long a refusal or a bad duration stays in the hint line. */
#define ALERT_MESSAGE_MS (6 * SR_MS_SEC)

/* Enter (a note) or m (a duration) on the selected alert: opens the hint
 * line's editor, or says why this role may not. */
static void alert_prompt(sr_screen *s, bool silence)
{
    if (s->al_sel < 0 || (size_t)s->al_sel >= s->n_alerts)
        return;
    if (!s->may_act) {
        char msg[160];
        snprintf(msg, sizeof msg, " not allowed: the role %s may not %s alerts (acknowledge = no)",
                 s->role_name[0] ? s->role_name : "default", silence ? "silence" : "acknowledge");
        sr_screen_set_message(s, msg, sr_now_ms() + ALERT_MESSAGE_MS);
        return;
    }
    s->prompt = true;
    s->prompt_silence = silence;
    s->prompt_for_ms = 0;
    snprintf(s->prompt_key, sizeof s->prompt_key, "%s", s->alerts[s->al_sel].key);
    snprintf(s->prompt_text, sizeof s->prompt_text, "%s", silence ? "1h" : "");
    s->drawn_second = -1;
}

/* A key while the hint line edits a note or a duration. */
static sr_key_result prompt_key(sr_screen *s, int key)
{
    s->drawn_second = -1; /* the hint line shows the text */
    size_t n = strlen(s->prompt_text);
    if (key == 27) {
        s->prompt = false;
        sr_screen_set_message(s, " cancelled", sr_now_ms() + ALERT_MESSAGE_MS / 2);
        return SR_KEY_HANDLED;
    }
    if (key == KEY_BACKSPACE || key == 127 || key == 8) {
        /* a whole character: its continuation bytes and its first */
        while (n > 0 && ((unsigned char)s->prompt_text[n - 1] & 0xC0) == 0x80)
            n--;
        if (n > 0)
            n--;
        s->prompt_text[n] = 0;
        return SR_KEY_HANDLED;
    }
    if (key == '\n' || key == '\r' || key == KEY_ENTER) {
        s->prompt = false;
        sr_screen_alert_request r = {.silence = s->prompt_silence, .for_ms = s->prompt_for_ms};
        snprintf(r.key, sizeof r.key, "%s", s->prompt_key);
        if (s->prompt_silence && !r.for_ms) {
            /* the duration given: the reason next, as an acknowledgement's note */
            if (sr_parse_duration(s->prompt_text, &r.for_ms) || r.for_ms <= 0) {
                char msg[SR_ALERT_NOTE_MAX + 96];
                snprintf(msg, sizeof msg,
                         " not a duration: '%s' (15m, 1h, 4h, 8h...); m to try again",
                         s->prompt_text);
                sr_screen_set_message(s, msg, sr_now_ms() + ALERT_MESSAGE_MS);
                return SR_KEY_HANDLED;
            }
            s->prompt = true;
            s->prompt_for_ms = r.for_ms;
            s->prompt_text[0] = 0;
            return SR_KEY_HANDLED;
        }
        snprintf(r.note, sizeof r.note, "%s", s->prompt_text);
        if (s->n_req == SR_ALERT_REQ_MAX)
            return SR_KEY_ALERT; /* the app has not taken the earlier ones yet */
        s->req[s->n_req++] = r;
        return SR_KEY_ALERT;
    }
    /* printable input only (bytes of UTF-8 characters included); room kept
     * for a whole character */
    if (((key >= 0x20 && key < 0x7f) || (key >= 0x80 && key <= 0xff)) &&
        n + 5 < sizeof s->prompt_text) {
        s->prompt_text[n] = (char)key;
        s->prompt_text[n + 1] = 0;
    }
    return SR_KEY_HANDLED;
}

/* A move key in the alerts or sources view: over the rows the filter lets
 * through, the selection (*sel, into the whole list) kept on one of them. */
static void view_move(sr_screen *s, int *sel, int *scroll, int rows, int key)
{
    size_t n = s->view == VIEW_ALERTS ? s->n_alerts : s->srcl.n;
    size_t *map = malloc((n + 1) * sizeof *map);
    if (!map)
        return;
    size_t k = scr_view_rows(s, map);
    sr_view v = {.selected = scr_view_pos(map, k, *sel), .scroll = *scroll, .rows = rows};
    if (k && wkit_list_key(&v, key, k)) {
        *sel = (int)map[v.selected];
        *scroll = v.scroll;
        s->view_dirty = true;
    }
    free(map);
}

/*
 * A key in the sources, rejects or alerts view; false when the panels
 * should have it too (a page key closes the view, then turns the page).
 * The arrows move the view's selection; Enter opens a source's rejected
 * rows or asks for an alert's note, m for a silence; / filters the
 * sources and alerts lists; Esc clears a filter first (as in htop), then
 * goes back a step; s and a switch between the views or close their own.
 */
static bool view_action(sr_screen *s, action a, int key)
{
    bool alerts = s->view == VIEW_ALERTS, rejects = s->view == VIEW_REJECTS;
    switch (a) {
    case ACT_UP:
    case ACT_DOWN:
    case ACT_LEFT:
    case ACT_RIGHT: {
        if (alerts) {
            view_move(s, &s->al_sel, &s->al_scroll, s->al_rows, key);
        } else if (!rejects) {
            view_move(s, &s->src_sel, &s->src_scroll, s->src_rows, key);
        } else {
            sr_view v = {.selected = s->rj_sel, .scroll = s->rj_scroll, .rows = s->rj_rows};
            if (wkit_list_key(&v, key, s->n_rj)) {
                s->rj_sel = v.selected;
                s->rj_scroll = v.scroll;
                s->view_dirty = true;
            }
        }
        return true;
    }
    case ACT_FILTER:
        if (!rejects) {
            s->filtering = true;
            s->all_dirty = true;
        }
        return true;
    case ACT_SILENCE:
        if (alerts)
            alert_prompt(s, true);
        return true;
    case ACT_ENTER:
        if (alerts) {
            alert_prompt(s, false);
        } else if (!rejects && s->src_sel >= 0 && (size_t)s->src_sel < s->srcl.n) {
            snprintf(s->rj_source, sizeof s->rj_source, "%s", s->srcl.v[s->src_sel].h.name);
            s->rj_sel = 0;
            s->rj_scroll = 0;
            scr_rejects_load(s);
            set_view(s, VIEW_REJECTS);
        }
        return true;
    case ACT_BACK:
        if (!rejects && s->filter[0]) {
            scr_filter_clear(s);
            return true;
        }
        set_view(s, rejects ? VIEW_SOURCES : VIEW_PANELS);
        return true;
    case ACT_SOURCES:
        set_view(s, alerts ? VIEW_SOURCES : VIEW_PANELS);
        return true;
    case ACT_ALERTS:
        set_view(s, alerts ? VIEW_PANELS : VIEW_ALERTS);
        return true;
    case ACT_PAGE:
        set_view(s, VIEW_PANELS);
        return false;
    default:
        return true; /* time and focus keys wait for the panels */
    }
}

static void do_action(sr_screen *s, action a, int key)
{
    if (s->view != VIEW_PANELS && view_action(s, a, key))
        return;
    const sr_tui_panel *tp = scr_focused_panel(s);
    panel_state *fp =
        s->depth > 0 ? &s->drill_ps : (tp ? &s->ps[scr_page_panel(s, s->focus)] : NULL);
    switch (a) {
    case ACT_QUIT:
    case ACT_HELP:
    case ACT_REPORT:
    case ACT_SILENCE: /* only in the alerts view */
        break;
    case ACT_FILTER:
        if (scr_filter_target(s)) {
            s->filtering = true;
            s->all_dirty = true;
        }
        break;
    case ACT_PAGE: {
        int pg = key - '1';
        if (pg >= 0 && pg < (int)s->lay->n_pages && (pg != s->page || s->depth)) {
            scr_filter_clear(s);
            s->page = pg;
            s->focus = 0;
            s->depth = 0;
            s->layout_dirty = true;
            s->all_dirty = true;
        }
        break;
    }
    case ACT_NEXT:
        if (!s->depth)
            set_focus(s, s->focus + 1);
        break;
    case ACT_PREV:
        if (!s->depth)
            set_focus(s, s->focus - 1);
        break;
    case ACT_LEFT:
    case ACT_RIGHT:
    case ACT_UP:
    case ACT_DOWN:
        if (fp && list_key(s, fp, key))
            break;
        if (!s->depth)
            move_focus(s,
                       a == ACT_UP     ? -1
                       : a == ACT_DOWN ? 1
                                       : 0,
                       a == ACT_LEFT    ? -1
                       : a == ACT_RIGHT ? 1
                                        : 0);
        break;
    case ACT_ENTER:
        if (!tp)
            break;
        if (s->depth == 0) {
            const char *e = scr_panel_entity(s, tp);
            /* the whole tree of a single force: start at the force */
            int64_t *kids = NULL;
            size_t nk = 0;
            if (!*e && sr_store_entity_children(s->st, SR_ENTITY_ROOT, &kids, &nk) == 0 && nk == 1)
                e = sr_store_entity_path(s->st, kids[0]);
            free(kids);
            drill_to(s, e ? e : "");
        } else {
            panel_state *p = &s->drill_ps;
            bool rows = p->m.n_rows > 0 && !scr_rows_empty(&p->m);
            if (rows && p->selected >= 0 && (size_t)p->selected < p->m.n_rows)
                drill_to(s, p->m.rows[p->selected].entity);
            else if (!rows && p->pr.rows_personal + p->pr.rows_deep > 0)
                refuse_drill(s, s->drill[s->depth - 1],
                             p->pr.rows_personal ? SR_PRIV_PERSONAL : SR_PRIV_TOO_DEEP);
        }
        break;
    case ACT_BACK:
        if (s->filter[0]) { /* Esc clears a filter first, as in htop */
            scr_filter_clear(s);
            break;
        }
        if (s->depth > 0) {
            scr_filter_clear(s);
            s->depth--;
            scr_drill_forget(s);
            s->layout_dirty = true;
            s->all_dirty = true;
        }
        break;
    case ACT_ZOOM_IN:
    case ACT_ZOOM_OUT: {
        sr_ms cur = s->window_ms ? s->window_ms : (tp ? tp->spec.window_ms : SR_MS_HOUR * 8);
        size_t i = 0;
        while (i + 1 < N_ZOOM && zoom_levels[i] < cur)
            i++;
        if (a == ACT_ZOOM_IN) {
            if (zoom_levels[i] >= cur && i > 0)
                i--;
        } else if (zoom_levels[i] <= cur && i + 1 < N_ZOOM) {
            i++;
        }
        s->window_ms = zoom_levels[i];
        scr_respec(s);
        break;
    }
    case ACT_SHIFT_BACK:
    case ACT_SHIFT_FWD: {
        /* the end is fixed from here on: a view of the past does not move */
        sr_ms step = s->window_ms ? s->window_ms : (tp ? tp->spec.window_ms : SR_MS_HOUR);
        if (a == ACT_SHIFT_BACK)
            s->end_ms = scr_view_end(s) - step;
        else if (s->end_ms)
            s->end_ms = s->end_ms + step >= s->now ? 0 : s->end_ms + step;
        scr_respec(s);
        break;
    }
    case ACT_LIVE:
        s->window_ms = 0;
        s->end_ms = 0;
        scr_respec(s);
        break;
    case ACT_SOURCES:
        set_view(s, VIEW_SOURCES);
        break;
    case ACT_ALERTS:
        set_view(s, VIEW_ALERTS);
        break;
    case ACT_UNUSUAL:
        s->sort_unusual = !s->sort_unusual;
        s->gen++; /* a breakdown under way was asked without (or with) its baselines */
        s->drill_ps.dirty = true;
        s->all_dirty = true;
        break;
    case ACT_REROOT:
        if (s->root[0] && s->depth == 0)
            s->root[0] = 0;
        else if (s->depth > 0)
            snprintf(s->root, sizeof s->root, "%s", s->drill[s->depth - 1]);
        s->depth = 0;
        s->layout_dirty = true;
        s->all_dirty = true;
        break;
    }
}

/* The grid panel at screen position (y, x), or -1. */
static int panel_at(sr_screen *s, int y, int x)
{
    const sr_tui_page *pg = scr_cur_page(s);
    for (size_t i = 0; i < pg->n_panels; i++) {
        const panel_state *p = &s->ps[pg->panels[i]];
        if (!p->frame)
            continue;
        int py, px, h, w;
        getbegyx(p->frame, py, px);
        getmaxyx(p->frame, h, w);
        if (y >= py && y < py + h && x >= px && x < px + w)
            return (int)i;
    }
    return -1;
}

static sr_ms monotonic_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (sr_ms)t.tv_sec * SR_MS_SEC + t.tv_nsec / 1000000;
}

/* A click focuses the panel under it (a double click drills into it), the
 * wheel moves the selection of the list under it; only on the grid, and
 * not while a prompt waits. A press closes the help like a key. */
static sr_key_result mouse_event(sr_screen *s, const sr_mouse_event *ev)
{
    if (s->help && ev->kind != SR_MOUSE_RELEASE && ev->kind != SR_MOUSE_DRAG) {
        s->help = false;
        s->all_dirty = true;
        return SR_KEY_HANDLED;
    }
    if (s->prompt || s->help || s->depth > 0 || s->view != VIEW_PANELS)
        return SR_KEY_HANDLED;
    int i = panel_at(s, ev->y, ev->x);
    if (i < 0)
        return SR_KEY_HANDLED;
    if (ev->kind == SR_MOUSE_PRESS && ev->button == 0) {
        set_focus(s, i);
        if (ev->double_click)
            do_action(s, ACT_ENTER, '\n');
    } else if (ev->kind == SR_MOUSE_WHEEL_UP || ev->kind == SR_MOUSE_WHEEL_DOWN) {
        set_focus(s, i);
        list_key(s, &s->ps[scr_page_panel(s, i)],
                 ev->kind == SR_MOUSE_WHEEL_UP ? KEY_UP : KEY_DOWN);
    }
    return SR_KEY_HANDLED;
}

sr_key_result sr_screen_key(sr_screen *s, int key)
{
    if (key == ERR)
        return SR_KEY_NONE;
    sr_mouse_event ev;
    switch (sr_mouse_feed(&s->mouse, key, monotonic_ms(), &ev)) {
    case SR_MOUSE_MORE:
        return SR_KEY_HANDLED;
    case SR_MOUSE_EVENT:
        return mouse_event(s, &ev);
    case SR_MOUSE_NOT_MINE:
        break;
    }
    if (s->filtering && !s->prompt && filter_key(s, key))
        return SR_KEY_HANDLED;
    if (s->prompt && key != KEY_RESIZE && key != KEY_MOUSE)
        return prompt_key(s, key);
    if (s->help) {
        s->help = false;
        s->all_dirty = true;
        return key == 'q' ? SR_KEY_QUIT : SR_KEY_HANDLED;
    }
    if (key == KEY_RESIZE) {
        sr_screen_resize(s);
        return SR_KEY_HANDLED;
    }
    if (key == KEY_MOUSE) {
        MEVENT unused; /* a report in a form sitrep did not ask for */
        getmouse(&unused);
        return SR_KEY_HANDLED;
    }
    for (size_t b = 0; b < sizeof bindings / sizeof bindings[0]; b++) {
        bool match = false;
        if (bindings[b].act == ACT_PAGE)
            match = key >= '1' && key <= '9';
        for (int k = 0; k < 4 && !match; k++)
            match = bindings[b].keys[k] && bindings[b].keys[k] == key;
        if (!match)
            continue;
        if (bindings[b].act == ACT_QUIT)
            return SR_KEY_QUIT;
        if (bindings[b].act == ACT_REPORT)
            return SR_KEY_REPORT;
        if (bindings[b].act == ACT_HELP) {
            s->help = true;
            s->drawn_second = -1; /* drawn at the next render, not the clock's next second */
            return SR_KEY_HANDLED;
        }
        do_action(s, bindings[b].act, key);
        return SR_KEY_HANDLED;
    }
    return SR_KEY_NONE;
}
