/*
 * rawhours.c - a reader's copy of a few hours' raw samples (rawhours.h).
 *
 * A fixed array of max_hours slots, searched in order (a page uses a
 * handful of hours: the one now running and the ones its windows start in).
 * A slot holds one (metric, hour): its rows in a buffer of the slot's own,
 * and the tick of its last use. An hour that leaves (a commit touched it,
 * or another needs its slot) leaves its buffer to the next hour put there:
 * the hour running is read again after every poll, and a malloc and free
 * of its rows each time would scatter the heap of a screen that runs for
 * months. Buffers are freed only to make room within max_bytes (free
 * slots' first, then those of the hours used longest ago) and at the end.
 */
#include "rawhours.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    bool live, big; /* big: the hour is too large to keep (no rows) */
    int64_t metric;
    sr_ms hour;
    uint64_t used; /* tick of the last get or put */
    sr_raw_row *rows;
    size_t n, cap; /* cap: rows the buffer holds, kept when the hour leaves */
} slot;

struct sr_rawhours {
    slot *s; /* max_hours of them */
    size_t bytes, max_bytes, max_hours;
    uint64_t tick;
};

int sr_rawhours_create(size_t max_bytes, size_t max_hours, sr_rawhours **out)
{
    sr_rawhours *h = calloc(1, sizeof *h);
    if (!h)
        return SR_ENOMEM;
    h->max_hours = max_hours ? max_hours : 1;
    if (!(h->s = calloc(h->max_hours, sizeof *h->s))) {
        free(h);
        return SR_ENOMEM;
    }
    h->max_bytes = max_bytes;
    *out = h;
    return 0;
}

/* Frees slot i's buffer (an hour leaving for good, or room for another). */
static void release(sr_rawhours *h, size_t i)
{
    h->bytes -= h->s[i].cap * sizeof(sr_raw_row);
    free(h->s[i].rows);
    h->s[i] = (slot){0};
}

void sr_rawhours_clear(sr_rawhours *h)
{
    for (size_t i = 0; i < h->max_hours; i++)
        h->s[i].live = false;
}

void sr_rawhours_destroy(sr_rawhours *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->max_hours; i++)
        free(h->s[i].rows);
    free(h->s);
    free(h);
}

bool sr_rawhours_get(sr_rawhours *h, int64_t metric, sr_ms hour, const sr_raw_row **rows, size_t *n)
{
    for (size_t i = 0; i < h->max_hours; i++) {
        slot *e = &h->s[i];
        if (e->live && e->metric == metric && e->hour == hour) {
            static const sr_raw_row none[1]; /* an empty hour's rows: not NULL */
            e->used = ++h->tick;
            *rows = e->big ? NULL : e->rows ? e->rows : none;
            *n = e->big ? 0 : e->n;
            return true;
        }
    }
    return false;
}

/* The slot for a new hour of n rows: the hour's own, else a free one whose
 * buffer holds n rows (the smallest), else any free one, else the one used
 * longest ago. */
static size_t pick(const sr_rawhours *h, int64_t metric, sr_ms hour, size_t n)
{
    size_t best = SIZE_MAX, any = SIZE_MAX, old = 0;
    for (size_t i = 0; i < h->max_hours; i++) {
        const slot *e = &h->s[i];
        if (e->live && e->metric == metric && e->hour == hour)
            return i;
        if (!e->live && e->cap >= n && (best == SIZE_MAX || e->cap < h->s[best].cap))
            best = i;
        if (!e->live && (any == SIZE_MAX || e->cap > h->s[any].cap))
            any = i;
        if (e->live && h->s[old].live && e->used < h->s[old].used)
            old = i;
    }
    return best != SIZE_MAX ? best : any != SIZE_MAX ? any : old;
}

int sr_rawhours_put(sr_rawhours *h, int64_t metric, sr_ms hour, const sr_raw_row *rows, size_t n)
{
    /* an hour larger than this costs no more to scan in the table than to copy */
    bool big = n * sizeof *rows > h->max_bytes / 4;
    size_t i = pick(h, metric, hour, big ? 0 : n);
    slot *e = &h->s[i];
    e->live = false;
    if (!big && e->cap < n) {
        /* room: the buffers of free slots first, then the hours used longest ago */
        while (h->bytes - e->cap * sizeof *rows + n * sizeof *rows > h->max_bytes) {
            size_t v = SIZE_MAX;
            for (size_t k = 0; k < h->max_hours; k++) {
                const slot *o = &h->s[k];
                if (k == i || !o->cap)
                    continue;
                if (v == SIZE_MAX || (!o->live && h->s[v].live) ||
                    (o->live == h->s[v].live && o->used < h->s[v].used))
                    v = k;
            }
            if (v == SIZE_MAX)
                break;
            release(h, v);
        }
        sr_raw_row *b = realloc(e->rows, n * sizeof *rows);
        if (!b)
            return SR_ENOMEM;
        h->bytes += (n - e->cap) * sizeof *rows;
        e->rows = b;
        e->cap = n;
    }
    if (!big && n)
        memcpy(e->rows, rows, n * sizeof *rows);
    e->live = true;
    e->big = big;
    e->metric = metric;
    e->hour = hour;
    e->n = big ? 0 : n;
    e->used = ++h->tick;
    return 0;
}

void sr_rawhours_changed(sr_rawhours *h, int64_t metric, sr_ms lo, sr_ms hi)
{
    sr_ms end;
    sr_hours_holding(lo, hi, &lo, &end);
    for (size_t i = 0; i < h->max_hours; i++) {
        slot *e = &h->s[i];
        if (e->live && e->metric == metric && e->hour >= lo && e->hour < end)
            e->live = false;
    }
}
