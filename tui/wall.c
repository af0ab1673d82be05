/*
 * wall.c - wall mode's page rotation, CRIT pinning, status text and exit
 * chord (see wall.h). Pure functions of their arguments: no curses, no
 * clock, no cache.
 *
 * Rotation: the wall cycles through the rotating pages, each for a whole
 * period from the time it was put up. Pinning overrides it: the set of
 * "CRIT pages" (pages holding a panel named by an active CRIT alert) is
 * computed afresh on every step, so an acknowledgement or a clear that
 * arrives through the cache releases the hold at the next step, and a new
 * alert takes the wall at once. While the set is not empty the wall shows
 * only its pages, taking turns when there are several.
 */
#include "wall.h"

#include <stdio.h>
#include <string.h>

/* The first panel of page pg named by an active CRIT alert, or NULL. */
static const sr_tui_panel *crit_panel(const sr_tui_layout *lay, size_t pg, const sr_alert *a,
                                      size_t n_alerts)
{
    const sr_tui_page *p = &lay->pages[pg];
    for (size_t k = 0; k < p->n_panels; k++) {
        const sr_tui_panel *tp = &lay->panels[p->panels[k]];
        for (size_t i = 0; i < n_alerts; i++) {
            if (a[i].state == SR_ALERT_ACTIVE && a[i].severity == SR_STATUS_CRIT &&
                strcmp(a[i].panel, tp->name) == 0)
                return tp;
        }
    }
    return NULL;
}

/* The position of page in v (n entries), or n. */
static size_t index_of(const size_t *v, size_t n, size_t page)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i] == page)
            return i;
    }
    return n;
}

/* The page after cur in v (n > 0 entries, in layout order): the next one
 * listed when cur is listed, else the first listed after cur, wrapping. */
static size_t next_of(const size_t *v, size_t n, size_t cur)
{
    size_t i = index_of(v, n, cur);
    if (i < n)
        return v[(i + 1) % n];
    for (size_t k = 0; k < n; k++) {
        if (v[k] > cur)
            return v[k];
    }
    return v[0];
}

void sr_wall_step(sr_wall_state *w, const sr_tui_layout *lay, const size_t *rot, size_t n_rot,
                  const sr_alert *a, size_t n_alerts, sr_ms rotate_ms, sr_ms now, sr_wall_view *out)
{
    memset(out, 0, sizeof *out);
    size_t n_pages = lay->n_pages;
    if (n_pages == 0) {
        out->next_in_ms = -1;
        return;
    }
    /* the rotating pages that exist (all of them when none is given) */
    size_t all[64], crit[64], n_all = 0, n_crit = 0;
    if (n_rot == 0) {
        for (size_t i = 0; i < n_pages && n_all < 64; i++)
            all[n_all++] = i;
    } else {
        for (size_t i = 0; i < n_rot && n_all < 64; i++) {
            if (rot[i] < n_pages && index_of(all, n_all, rot[i]) == n_all)
                all[n_all++] = rot[i];
        }
        if (n_all == 0) /* none of them is the role's: every page */
            for (size_t i = 0; i < n_pages && n_all < 64; i++)
                all[n_all++] = i;
    }
    for (size_t i = 0; i < n_pages && n_crit < 64; i++) {
        if (crit_panel(lay, i, a, n_alerts))
            crit[n_crit++] = i;
    }
    bool first = w->since_ms == 0;
    size_t cur = w->page < n_pages ? w->page : 0;
    size_t show = cur;
    const size_t *set = n_crit ? crit : all;
    size_t n_set = n_crit ? n_crit : n_all;
    bool in_set = index_of(set, n_set, cur) < n_set;
    if (first) {
        show = in_set ? cur : set[0];
        w->since_ms = now;
    } else if (!in_set) {
        /* a new CRIT page, or the shown page left the rotation */
        show = n_crit ? crit[0] : next_of(all, n_all, cur);
        w->since_ms = now;
    } else if (!n_crit && w->held) {
        w->since_ms = now; /* released: a whole period on the page shown */
    } else if (n_set > 1 && now - w->since_ms >= rotate_ms) {
        show = next_of(set, n_set, cur);
        w->since_ms = now;
    }
    w->held = n_crit > 0;
    w->page = show;

    out->page = show;
    out->changed = show != cur || first;
    out->held = n_crit > 0;
    out->held_by = n_crit ? crit_panel(lay, show, a, n_alerts)->title : NULL;
    out->n_crit_pages = n_crit;
    size_t pos = index_of(all, n_all, show);
    out->pos = pos < n_all ? pos + 1 : 0;
    out->n = n_all;
    out->next_in_ms = n_set > 1 ? w->since_ms + rotate_ms - now : -1;
    if (out->next_in_ms < -1)
        out->next_in_ms = 0;
}

void sr_wall_status_text(const sr_wall_view *v, char *buf, size_t len)
{
    long long next_s = v->next_in_ms < 0 ? -1 : (v->next_in_ms + SR_MS_SEC - 1) / SR_MS_SEC;
    if (v->held) {
        int n = snprintf(buf, len, "WALL  held: CRIT %s", v->held_by ? v->held_by : "");
        if (v->n_crit_pages > 1 && n >= 0 && (size_t)n < len)
            snprintf(buf + n, len - (size_t)n, ", %zu pages in CRIT, next in %llds",
                     v->n_crit_pages, next_s);
    } else if (v->pos == 0) {
        snprintf(buf, len, "WALL  page not in the rotation, next in %llds", next_s);
    } else if (next_s < 0) {
        snprintf(buf, len, "WALL  page %zu/%zu", v->pos, v->n);
    } else {
        snprintf(buf, len, "WALL  page %zu/%zu, next in %llds", v->pos, v->n, next_s);
    }
}

bool sr_wall_chord_key(const int *chord, size_t n, size_t *pos, int key)
{
    if (n == 0)
        return false;
    if (key == '\r')
        key = '\n';
    if (*pos < n && chord[*pos] == key) {
        if (++*pos == n) {
            *pos = 0;
            return true;
        }
        return false;
    }
    *pos = chord[0] == key ? 1 : 0;
    if (*pos == n) {
        *pos = 0;
        return true;
    }
    return false;
}
