/*
 * stamps.h - a reader's copy of the hour cells' counts and sums.
 *
 * Every figure of a page starts from the counts and sums of the hour cells
 * under its window (the memo's stamps, metrics/memo.h; a percentile's
 * ranks, metrics/query.c): about 720 cells for 30 days, read again for
 * each window after every commit, because SQLite drops a reader's pages
 * when another connection commits. This cache keeps them per (metric,
 * node) over the range read so far, and reads again only the hours a
 * commit touched (the writer logs them: metrics/store_metric.c, table `touch`)
 * and the hours a window adds at its ends. One poll of new data so costs
 * a reader the hour it landed in, not the month.
 *
 * The store uses it only inside a read transaction, whose snapshot the
 * cache is brought up to at its start (sr_store_read_begin).
 */
#ifndef SR_STAMPS_H
#define SR_STAMPS_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

typedef struct sr_stamps sr_stamps;

typedef struct {
    sr_ms bucket; /* the hour */
    int64_t n;
    double sum;
} sr_stamp_cell;

/*
 * Reads the cells of (metric, node) of the hours [from, to) (whole hours),
 * in time order, appending each with sr_stamps_push(): the store's scan.
 */
typedef int (*sr_stamps_read_fn)(void *ctx, int64_t metric, int64_t node, sr_ms from, sr_ms to,
                                 sr_stamps *s);

/* Caller owns *out; free with sr_stamps_destroy(). Past max_bytes the cache
 * is emptied. SR_ENOMEM possible. */
int sr_stamps_create(size_t max_bytes, sr_stamps **out);
void sr_stamps_destroy(sr_stamps *s);

/* Appends a cell read by a sr_stamps_read_fn. */
int sr_stamps_push(sr_stamps *s, sr_ms bucket, int64_t n, double sum);

/*
 * The cells of (metric, node) of the hours [floor(from), floor(to)) (as
 * sr_store_scan_rollup reads them), in time order:
 * *cells (borrowed until the next call on s) and *n. What the cache lacks
 * (the first time, the ends a window adds, the hours marked changed) is
 * read through read.
 */
int sr_stamps_get(sr_stamps *s, int64_t metric, int64_t node, sr_ms from, sr_ms to,
                  sr_stamps_read_fn read, void *ctx, const sr_stamp_cell **cells, size_t *n);

/* The hours [lo, hi] of metric changed (lo INT64_MIN: everything before
 * hi): they are read again at their next use. */
void sr_stamps_changed(sr_stamps *s, int64_t metric, sr_ms lo, sr_ms hi);

/* Forgets everything. */
void sr_stamps_clear(sr_stamps *s);

#endif
