/*
 * store_int.h - what the files of the store share (metrics/store*.c, and
 * only they include it): the handle, its records, its kept statements, and
 * the functions one file of the store calls in another.
 *
 * Every store*.c includes <sqlite3.h> itself (contrib/check-layers.sh allows
 * it in those files alone); this header names SQLite's two handle types
 * without it.
 */
#ifndef SR_STORE_INT_H
#define SR_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cells.h"
#include "memo.h"
#include "rawhours.h"
#include "stamps.h"
#include "store.h"

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
typedef struct sqlite3_context sqlite3_context;
typedef struct sqlite3_value sqlite3_value;

/* A small string -> id hash map (open addressing; store_entity.c). */
typedef struct {
    char *key;
    int64_t id;
} smap_slot;

typedef struct {
    smap_slot *slots;
    size_t cap; /* power of two */
    size_t len;
} smap;

typedef struct {
    char *path;
    int64_t parent;
} entity_rec;

#define AT_MAX 16 /* samples remembered at a metric's newest time */

typedef struct {
    char name[SR_NAME_MAX];
    int64_t id;
    sr_kind kind;
    /* The newest stored time of this metric in the current transaction (read
     * at its first sample, then raised by sr_store_put) and, when at_max_all,
     * every (entity, dedup) stored at that time: a sample newer than max_ts,
     * or at max_ts but not among them, cannot be a duplicate (put_new). */
    int max_known;
    sr_ms max_ts;
    int at_max_all;
    int n_at_max;
    int64_t at_max[AT_MAX][2];
    int touched;              /* samples of it stored or deleted in this transaction */
    sr_ms touch_lo, touch_hi; /* the times they span (the `touch` log) */
} metric_rec;

/* The nodes holding a metric's hour cells, as a read transaction found
 * them (sr_store_cell_nodes); kept until a commit touches the metric. */
typedef struct {
    int64_t *ids; /* ascending */
    size_t n, cap;
    bool valid;
} nodes_rec;

/* A metric's change counter as a reader last saw it (sr_store_changes). */
typedef struct {
    int64_t id, changes;
} seen_rec;

/* A sample known to be new, waiting for the next multi-row insert. */
typedef struct {
    int64_t metric, ts, entity, dedup;
    double value;
    size_t key; /* offset of the key in pend_keys, plus one; 0: no key */
} pending;

#define PEND_ROWS 64 /* rows of one multi-row insert */

enum {
    ST_INSERT,
    ST_INSERT_MANY,
    ST_MAX_TS,
    ST_ROLLUP_UPSERT,
    ST_ENTITY_INSERT,
    ST_REJECT,
    ST_SCAN_RAW,
    ST_SCAN_RAW_DESC,
    ST_SCAN_ROLLUP,
    ST_SCAN_ROLLUP_MIN,
    ST_SCAN_ROLLUP_VALS,
    ST_SCAN_ROLLUP_STAMPS,
    ST_SCAN_VALUES,
    ST_ROLLUP_NEWEST,
    ST_ROLLUP_NEWEST_MIN,
    ST_SOURCE_GET,
    ST_SOURCE_PUT,
    ST_MEMO_GET,
    ST_MEMO_PUT,
    /* prepared on first use (store_stmt()): what a reader runs at every refresh */
    ST_DATA_VERSION,
    ST_CHANGES,
    ST_ENTITY_ROWS,
    ST_TOUCH_MAX,
    ST_TOUCH_NEW,
    ST_SCAN_HOUR,
    ST_CELL_NODE_NEXT,
    ST_READ_BEGIN,
    ST_READ_END,
    ST_METRICS,
    ST_METRIC_SOURCES,
    ST_SOURCE_LIST,
    ST_ALERT_LIST,
    ST_COUNT
};

/* The alert table's columns in the order read_alert() uses them. */
#define ALERT_COLUMNS                                                                              \
    "key, panel, metric, entity, severity, state, raised_at, value, threshold, acked_by, "         \
    "acked_at, note, silenced_until, cleared_at, kind, band_low, band_high, side"

struct sr_store {
    sqlite3 *db;
    unsigned flags;
    sr_ms accept_ahead_ms; /* how far after the clock a sample's time may be */
    sr_ms batch_now;       /* the clock when the batch began (sr_store_begin) */
    sqlite3_stmt *stmt[ST_COUNT];
    int in_batch;
    int in_read; /* inside sr_store_read_begin() */

    metric_rec *metrics;
    size_t n_metrics;

    smap entity_ids;      /* path -> id */
    entity_rec *entities; /* indexed by id; [0] is the root */
    size_t n_entities;    /* one more than the largest id */
    size_t cap_entities;
    int64_t entity_version;
    sr_stamps *stamps;     /* the cells' counts and sums, in read transactions */
    int64_t touch_seen;    /* the last `touch` row the stamps took in (-1: none yet) */
    sr_rawhours *rawhours; /* a few hours' raw samples, in read transactions */
    nodes_rec *cell_nodes; /* indexed by metric id, in read transactions */
    size_t n_cell_nodes;
    sr_raw_row *hour_buf; /* an hour read for it */
    size_t hour_cap;
    size_t same_seen;  /* n_entities when same_root was found (0: never) */
    int64_t same_root; /* the root's only child, or SR_ENTITY_ROOT */

    char **retired; /* entity paths of earlier loads, freed at close */
    size_t n_retired;
    cellmap cells;           /* per sample entity, accumulated row by row */
    cellmap up;              /* the ancestors' cells, merged from `cells` at flush */
    pending pend[PEND_ROWS]; /* new samples not yet inserted (put_new) */
    int n_pend;
    char *pend_keys; /* their keys, NUL-terminated one after the other */
    size_t keys_len, keys_cap;
    seen_rec *seen; /* the change counters at open or the last sr_store_changes() */
    size_t n_seen;
    int64_t statements;   /* statements run on the connection (sr_store_statements) */
    sr_memo *memo;        /* sr_store_memo(), made when first asked for */
    sr_memo *memo_recent; /* sr_store_memo_recent(), likewise */
    char errmsg[512];
    char path[4096]; /* as opened: what the messages name */
};

/* How long a statement waits for another connection's lock. */
#define BUSY_MS 5000

/* store.c: errors, statements, scans */
int store_fail(sr_store *st, int code);
int store_sql_err(sr_store *st, int rc);
int store_exec(sr_store *st, const char *sql);
sqlite3_stmt *store_stmt(sr_store *st, int i);
int store_scan_end(sr_store *st, sqlite3_stmt *q, int rc, int stop);
int store_prepare(sr_store *st, const char *sql, sqlite3_stmt **q);
int store_step_done(sr_store *st, sqlite3_stmt *q, bool own);
int store_step_int(sr_store *st, sqlite3_stmt *q, bool own, int64_t *out);
int store_query_int(sr_store *st, const char *sql, int64_t *out);
void store_bind_int64s(sqlite3_stmt *q, int first, const int64_t *v, int n);

/* store_metric.c */
int store_load_metrics(sr_store *st);
int store_bump_changes(sr_store *st);
void store_mark_touched(metric_rec *m, sr_ms lo, sr_ms hi);
int store_take_touches(sr_store *st);
void store_untouch(sr_store *st);
metric_rec *store_find_metric(sr_store *st, const char *name);

/* store_entity.c */
void store_free_entities(sr_store *st);
int store_load_entities(sr_store *st);
int store_load_entity_rows(sr_store *st, int64_t from_id);
int store_valid_path(const char *p);
int store_entity_ensure(sr_store *st, const char *path, int64_t *out);

/* store_sample.c */
int store_pend_flush(sr_store *st);

/* store_rollup.c */
void store_sql_sketch_merge(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void store_sql_minutes_merge(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void store_sql_vals_merge(sqlite3_context *ctx, int argc, sqlite3_value **argv);
int store_accumulate(sr_store *st, const metric_rec *m, int64_t entity, sr_ms ts, double v);
int store_flush_cells(sr_store *st);
int store_rebuild_rollups(sr_store *st);
void store_forget_cell_nodes(sr_store *st, int64_t metric);

/* store_source.c */
void store_copy_col(char *dst, size_t len, sqlite3_stmt *q, int col);

/* ---- page checksums (store_pagesum.c) ---- */

/* The bytes at the end of each page that hold its checksum. */
#define PAGESUM_BYTES 8
/* The file's application_id (header bytes 68..71) that says its pages carry
 * the checksum of store_pagesum.c, as it is now: "SRP1". Another kind of sum
 * would be another mark, so that no file is read with a sum it was not
 * written with. */
#define PAGESUM_MARK 0x53525031

/* The name of the VFS that sums and checks every page of a cache (registered
 * at the first call, thread-safe); NULL when it could not be, and the store
 * then opens files through SQLite's default. */
const char *store_pagesum_vfs(void);

/* The byte offset of the last page that failed its checksum in this thread,
 * or -1; reading it forgets it. */
int64_t store_pagesum_fault(void);

/* Whether page[0 .. len) holds the checksum of the rest in its last
 * PAGESUM_BYTES bytes. */
bool store_pagesum_ok(const unsigned char *page, size_t len);

#endif
