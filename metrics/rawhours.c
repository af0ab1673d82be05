/*
 * rawhours.c - a reader's copy of a few hours' raw samples (rawhours.h).
 *
 * One entry per (metric, hour): the hour's rows in one array. A page uses
 * a handful of hours (the one now running and the ones its windows start
 * in), so the entries are a small array searched in order; each carries
 * the tick of its last use, and the entry used longest ago makes room.
 */
#include "rawhours.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t metric;
    sr_ms hour;
    uint64_t used;    /* tick of the last get or put */
    sr_raw_row *rows; /* NULL: the hour is too large to keep */
    size_t n;
} entry;

struct sr_rawhours {
    entry *e;
    size_t ne, cape;
    size_t bytes, max_bytes;
    uint64_t tick;
};

int sr_rawhours_create(size_t max_bytes, sr_rawhours **out)
{
    sr_rawhours *h = calloc(1, sizeof *h);
    if (!h)
        return SR_ENOMEM;
    h->max_bytes = max_bytes;
    *out = h;
    return 0;
}

static void drop(sr_rawhours *h, size_t i)
{
    h->bytes -= h->e[i].n * sizeof(sr_raw_row);
    free(h->e[i].rows);
    h->e[i] = h->e[--h->ne];
}

void sr_rawhours_clear(sr_rawhours *h)
{
    while (h->ne)
        drop(h, h->ne - 1);
}

void sr_rawhours_destroy(sr_rawhours *h)
{
    if (!h)
        return;
    sr_rawhours_clear(h);
    free(h->e);
    free(h);
}

bool sr_rawhours_get(sr_rawhours *h, int64_t metric, sr_ms hour, const sr_raw_row **rows, size_t *n)
{
    for (size_t i = 0; i < h->ne; i++) {
        entry *e = &h->e[i];
        if (e->metric == metric && e->hour == hour) {
            e->used = ++h->tick;
            *rows = e->rows;
            *n = e->n;
            return true;
        }
    }
    return false;
}

int sr_rawhours_put(sr_rawhours *h, int64_t metric, sr_ms hour, const sr_raw_row *rows, size_t n)
{
    size_t bytes = n * sizeof *rows;
    bool big = bytes > h->max_bytes / 4; /* a scan of the table costs no more than a copy */
    if (big)
        bytes = 0;
    for (size_t i = 0; i < h->ne; i++) {
        if (h->e[i].metric == metric && h->e[i].hour == hour) {
            drop(h, i);
            break;
        }
    }
    while (h->ne && h->bytes + bytes > h->max_bytes) {
        size_t old = 0;
        for (size_t i = 1; i < h->ne; i++)
            old = h->e[i].used < h->e[old].used ? i : old;
        drop(h, old);
    }
    if (h->ne == h->cape) {
        size_t cap = h->cape ? 2 * h->cape : 8;
        entry *e = realloc(h->e, cap * sizeof *e);
        if (!e)
            return SR_ENOMEM;
        h->e = e;
        h->cape = cap;
    }
    sr_raw_row *copy = NULL;
    if (!big && !(copy = malloc(bytes ? bytes : 1)))
        return SR_ENOMEM;
    if (bytes)
        memcpy(copy, rows, bytes);
    h->e[h->ne++] =
        (entry){.metric = metric, .hour = hour, .used = ++h->tick, .rows = copy, .n = big ? 0 : n};
    h->bytes += bytes;
    return 0;
}

void sr_rawhours_changed(sr_rawhours *h, int64_t metric, sr_ms lo, sr_ms hi)
{
    sr_ms end;
    sr_hours_holding(lo, hi, &lo, &end);
    for (size_t i = h->ne; i-- > 0;) {
        if (h->e[i].metric == metric && h->e[i].hour >= lo && h->e[i].hour < end)
            drop(h, i);
    }
}
