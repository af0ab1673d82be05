/*
 * rawhours.h - a reader's copy of a few hours' raw samples.
 *
 * A page's windows end now and start a whole number of days before, so
 * nearly every figure on it reads the raw samples of the same two partial
 * hours: the hour now running and the hour its windows start in (the
 * hours between come from the hour cells). Each window, each row of a
 * table, each newest point of a chart read them again, about 30 scans of
 * the same rows after every poll. This cache keeps whole hours of a metric
 * (every entity's samples, in the sample table's order), so that a scan
 * inside one hour reads memory; an hour is read from the cache file again
 * only when a commit touched it (the store feeds it the writer's `touch`
 * log as it does the stamps, metrics/stamps.h).
 *
 * The store uses it only inside a read transaction, whose snapshot the
 * cache is brought up to at its start (sr_store_read_begin).
 */
#ifndef SR_RAWHOURS_H
#define SR_RAWHOURS_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

typedef struct sr_rawhours sr_rawhours;

typedef struct {
    sr_ms ts;
    int64_t entity;
    double value;
} sr_raw_row;

/* Caller owns *out; free with sr_rawhours_destroy(). At most max_hours
 * hours are kept, their rows under max_bytes: the least recently used hours
 * go first (an hour that was the running one is not asked again once the
 * clock has moved on), and an hour larger than a quarter of max_bytes is
 * never kept (only that it is so large). SR_ENOMEM possible. */
int sr_rawhours_create(size_t max_bytes, size_t max_hours, sr_rawhours **out);
void sr_rawhours_destroy(sr_rawhours *h);

/* The kept rows of (metric, the hour starting at hour), in (ts, entity)
 * order: *rows (borrowed until the next call on h) and *n; false when that
 * hour is not kept. An hour known to be too large to keep gives true with
 * *rows NULL: read the table for it. */
bool sr_rawhours_get(sr_rawhours *h, int64_t metric, sr_ms hour, const sr_raw_row **rows,
                     size_t *n);

/* Keeps a copy of the n rows of (metric, hour), all of that hour's samples
 * in (ts, entity) order; when they are too many, only that they are (rows
 * may then be NULL). SR_ENOMEM possible. */
int sr_rawhours_put(sr_rawhours *h, int64_t metric, sr_ms hour, const sr_raw_row *rows, size_t n);

/* Samples of metric with lo <= ts <= hi changed (lo INT64_MIN: everything
 * before hi): the hours holding them are forgotten. */
void sr_rawhours_changed(sr_rawhours *h, int64_t metric, sr_ms lo, sr_ms hi);

/* Forgets everything. */
void sr_rawhours_clear(sr_rawhours *h);

#endif
