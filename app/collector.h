/*
 * collector.h - the collector: polls every source on its own libuv timer, runs
 * the poll in the thread pool, writes each batch in one transaction on the
 * loop thread.
 */
#ifndef SR_COLLECTOR_H
#define SR_COLLECTOR_H

#include <uv.h>

#include "../adapters/adapter.h"
#include "../metrics/kpi.h"
#include "../metrics/store.h"

typedef struct sr_collector sr_collector;

/* What one finished poll did; passed to the report callback. */
typedef struct {
    const sr_source_health *health;         /* totals after this poll (borrowed) */
    int64_t accepted, duplicates, rejected; /* this poll */
    int ok;                                 /* the poll succeeded */
    int timed_out;                          /* it ran past its timeout (and has now returned) */
    sr_ms next_ms;                          /* delay until the next poll */
    sr_ms took_ms;                          /* how long the poll ran */
    int more;                               /* the adapter has more at once (a chunk) */
} sr_poll_report;

typedef void (*sr_report_cb)(void *ctx, const sr_poll_report *r);

/*
 * Sizes libuv's thread pool so that every source can have a poll in a
 * worker at once plus spare threads: a source stuck past its timeout then
 * never delays another source. Call before the first uv_queue_work() of
 * the process (libuv reads UV_THREADPOOL_SIZE once); a size the user set
 * in the environment is kept.
 */
void sr_collector_size_pool(size_t n_sources);

/*
 * Creates a collector on loop writing to st (borrowed; both must outlive
 * the collector). cat (borrowed) says which metrics exist: samples of other
 * metrics are rejected with a reason. Caller owns *out; free with
 * sr_collector_destroy() after the loop has closed its handles.
 */
int sr_collector_create(uv_loop_t *loop, const sr_catalog *cat, sr_store *st, sr_collector **out);

/*
 * Adds a source: opens the adapter with opts (borrowed for the call). If
 * open fails the source still exists, in failing state with the message as
 * its last error, and open is retried with backoff. interval_ms and
 * timeout_ms must be positive.
 */
int sr_collector_add(sr_collector *c, const sr_adapter *a, const sr_ad_options *opts,
                     sr_ms interval_ms, sr_ms timeout_ms);

void sr_collector_on_report(sr_collector *c, sr_report_cb cb, void *ctx);

/* Starts every source's timer (the first poll runs at once). */
int sr_collector_start(sr_collector *c);

/*
 * Stops polling. Polls in flight are waited for and their batches are
 * written; then every handle is closed and done(ctx) is called on the loop
 * thread. Calling it twice is harmless.
 */
void sr_collector_stop(sr_collector *c, void (*done)(void *ctx), void *ctx);

/*
 * How far a backfill has got, from what an adapter of table a said about
 * its last successful poll in info: the percent of progress_done over
 * progress_total, rounded down, never above 99 (the backfill is not done
 * while more is set) nor below 0. -1 when the poll is not part of a
 * backfill (more unset), the adapter gave no total, or a is of an ABI
 * version without progress.
 */
int sr_poll_percent(const sr_adapter *a, const sr_poll_info *info);

/*
 * The least advanced backfill of c's sources, as sr_poll_percent() put it
 * after each one's last successful poll; -1 when no source is in a
 * backfill. Read on the loop thread.
 */
int sr_collector_loading(const sr_collector *c);

/* Frees the collector; its handles must be closed (stop's done was called). */
void sr_collector_destroy(sr_collector *c);

/* The longest backoff between polls of a failing source. */
#define SR_BACKOFF_MAX_MS (10 * SR_MS_MIN)

#endif
