/*
 * sources.c - the sources list of the viewers and the one rule for a
 * source's state (see sources.h).
 *
 * The list joins two things: the sources the config names, which a viewer
 * must show even before their first poll, and the health rows the
 * collector wrote. A row whose source is no longer configured (renamed,
 * removed) is kept at the end, marked, so that nothing the cache holds is
 * hidden; it never counts towards the live total.
 */
#include "sources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sr_source_state_name(sr_source_state s)
{
    switch (s) {
    case SR_SOURCE_LIVE:
        return "live";
    case SR_SOURCE_LATE:
        return "late";
    case SR_SOURCE_FAILING:
        return "failing";
    }
    return "?";
}

sr_ms sr_source_late_after(const sr_source_health *h)
{
    if (!h || h->interval_ms <= 0)
        return 0;
    return 3 * h->interval_ms + (h->timeout_ms > 0 ? h->timeout_ms : 0);
}

sr_source_state sr_source_state_of(const sr_source_health *h, sr_ms now)
{
    if (!h)
        return SR_SOURCE_LATE;
    if (h->last_error[0])
        return SR_SOURCE_FAILING;
    sr_ms late = sr_source_late_after(h);
    if (late > 0 && (h->last_ok_ms <= 0 || now - h->last_ok_ms > late))
        return SR_SOURCE_LATE;
    return SR_SOURCE_LIVE;
}

void sr_source_list_fini(sr_source_list *l)
{
    free(l->v);
    *l = (sr_source_list){0};
}

int sr_sources_read(sr_store *st, const sr_source_conf *conf, size_t n_conf, sr_ms now,
                    sr_source_list *out)
{
    *out = (sr_source_list){0};
    sr_source_health *rows;
    size_t n_rows;
    int rc = sr_store_source_list(st, &rows, &n_rows);
    if (rc)
        return rc;
    out->v = calloc(n_conf + n_rows + 1, sizeof *out->v);
    if (!out->v) {
        free(rows);
        return SR_ENOMEM;
    }
    unsigned char *used = calloc(n_rows + 1, 1);
    if (!used) {
        free(rows);
        sr_source_list_fini(out);
        return SR_ENOMEM;
    }
    for (size_t i = 0; i < n_conf; i++) {
        sr_source_info *s = &out->v[out->n++];
        s->configured = true;
        for (size_t k = 0; k < n_rows && !s->polled; k++) {
            if (!used[k] && strcmp(rows[k].name, conf[i].name) == 0) {
                s->h = rows[k];
                s->polled = true;
                used[k] = 1;
            }
        }
        if (!s->polled) {
            snprintf(s->h.name, sizeof s->h.name, "%s", conf[i].name);
            snprintf(s->h.type, sizeof s->h.type, "%s", conf[i].type ? conf[i].type : "");
        }
    }
    out->n_configured = out->n;
    for (size_t k = 0; k < n_rows; k++) {
        if (used[k])
            continue;
        sr_source_info *s = &out->v[out->n++];
        s->h = rows[k];
        s->polled = true;
    }
    free(used);
    free(rows);
    sr_source_list_restate(out, now); /* each one's state, and how many are live */
    return 0;
}

bool sr_sources_cache_damaged(const sr_source_list *l)
{
    for (size_t i = 0; i < l->n_configured; i++) {
        if (strncmp(l->v[i].h.last_error, SR_SOURCE_CACHE_DAMAGED,
                    sizeof SR_SOURCE_CACHE_DAMAGED - 1) == 0)
            return true;
    }
    return false;
}

const char *sr_cache_damaged_note(bool damaged)
{
    return damaged ? " CACHE DAMAGED: see sitrep check-cache " : "";
}

void sr_source_list_restate(sr_source_list *l, sr_ms now)
{
    l->live = 0;
    for (size_t i = 0; i < l->n; i++) {
        sr_source_info *s = &l->v[i];
        s->state = sr_source_state_of(s->polled ? &s->h : NULL, now);
        if (i < l->n_configured)
            l->live += s->state == SR_SOURCE_LIVE;
    }
}

void sr_format_age(sr_ms d, char *buf, size_t len)
{
    if (d < 0)
        d = 0;
    if (d < SR_MS_MIN)
        snprintf(buf, len, "%llds", (long long)(d / SR_MS_SEC));
    else if (d < SR_MS_HOUR)
        snprintf(buf, len, "%lldm", (long long)(d / SR_MS_MIN));
    else if (d < SR_MS_DAY)
        snprintf(buf, len, "%lldh", (long long)(d / SR_MS_HOUR));
    else
        snprintf(buf, len, "%lldd", (long long)(d / SR_MS_DAY));
}

void sr_format_ago(sr_ms now, sr_ms t, char *buf, size_t len)
{
    if (t <= 0) {
        snprintf(buf, len, "never");
        return;
    }
    char u[32];
    sr_format_age(now > t ? now - t : 0, u, sizeof u);
    snprintf(buf, len, "%s ago", u);
}

void sr_format_next(sr_ms now, const sr_source_health *h, char *buf, size_t len)
{
    char u[32];
    sr_ms t = h ? h->next_poll_ms : 0;
    if (t <= 0) {
        snprintf(buf, len, "-");
    } else if (t > now) {
        /* a countdown: "in 1s" until it is due */
        sr_ms d = t - now;
        sr_format_age(d < SR_MS_MIN ? (d + SR_MS_SEC - 1) / SR_MS_SEC * SR_MS_SEC : d, u, sizeof u);
        snprintf(buf, len, "in %s", u);
    } else if (now - t <= (h->timeout_ms > 0 ? h->timeout_ms : 0) + SR_MS_SEC) {
        snprintf(buf, len, "due"); /* or running: a poll may take up to its timeout */
    } else {
        sr_format_age(now - t, u, sizeof u);
        snprintf(buf, len, "overdue %s", u);
    }
}
