/*
 * store.h - the SQLite cache: samples, rollups, rejects, source health.
 *
 * One writer (the collector or `sitrep ingest`), any number of readers
 * (WAL). Writes go in batches: begin, put/reject..., commit; each batch is one
 * transaction, so a crash loses at most the batch in flight.
 *
 * Alerts (schema 6): only the collector steps alerts and writes them
 * (sr_store_alert_put); a viewer's only writes are acknowledgements and
 * silences, so that every viewer sees the same alerts.
 *
 * Only metrics/store*.c include <sqlite3.h>; everything above reads the
 * cache through the scan functions here.
 */
#ifndef SR_STORE_H
#define SR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts.h"
#include "common.h"
#include "kpi.h"
#include "stamps.h"

typedef struct sr_store sr_store;

enum {
    /* never writes: SQLITE_OPEN_READONLY and PRAGMA query_only; every write
     * function returns SR_EINVAL. A viewer's screen reads through one. */
    SR_STORE_READONLY = 1 << 0,
    SR_STORE_BULK = 1 << 1, /* a bulk load: a 64 MiB page cache instead of 4 MiB */
    /* a viewer's writer: an existing, current cache only (never created or
     * migrated), and only sr_store_alert_ack, sr_store_alert_silence and
     * sr_store_audit_add write; every other write function returns
     * SR_EINVAL, and an SQLite authorizer refuses any other write on the
     * connection too. With SR_STORE_READONLY, read-only wins. */
    SR_STORE_VIEWER = 1 << 2,
};

/* The schema version this build writes; older files are migrated. */
#define SR_STORE_SCHEMA 11

/*
 * Opens (creating if needed, unless read-only) the cache at path. Caller
 * owns *out; free with sr_store_close(). On failure *out is NULL and, when
 * errbuf is given, a message is written there. A read-only or viewer
 * handle on an older schema fails with SR_EVERSION, and on an empty file
 * (schema 0: its collector is creating it at this moment) with SR_EBUSY,
 * which is worth trying again.
 */
int sr_store_open(const char *path, unsigned flags, sr_store **out, char *errbuf, size_t errlen);
void sr_store_close(sr_store *st);

/* The last SQLite error message of this handle (borrowed). */
const char *sr_store_errmsg(const sr_store *st);

/* The name of the SQLite VFS every cache is opened through, which keeps a
 * checksum on each page of a new cache (store_pagesum.c); NULL when it could
 * not be registered. Another program that opens a cache with SQLite and may
 * write to it (even a read that ends the last connection checkpoints) must
 * pass it to sqlite3_open_v2, or open the file read-only: a page it writes
 * without its checksum reads as damage. Borrowed; static. */
const char *sr_store_vfs(void);

/* Whether every page of st's file carries a checksum that each read checks:
 * a cache made by this sitrep; not one made before page checksums. */
bool sr_store_checksummed(sr_store *st);

int sr_store_schema_version(sr_store *st, int *out);

/*
 * Checks the cache file's structure with SQLite's PRAGMA quick_check (every
 * b-tree page, cell and record format; not the indexes' contents against
 * their tables), read-only. Each finding, up to max, goes to cb (its text
 * borrowed for the call): page numbers and table names, never a stored
 * value. Returns 0 with *found the number of findings (0: none), or an
 * error code when the check could not run; a check that SQLite stops
 * because the file is damaged counts as a finding.
 */
int sr_store_check(sr_store *st, int max, void (*cb)(void *ctx, const char *finding), void *ctx,
                   int *found);

/*
 * Declares a metric and its kind (the store keeps rollups by kind). A ratio
 * is never stored. Calling it again with the same kind is a no-op.
 */
int sr_store_define_metric(sr_store *st, const char *name, sr_kind kind);

/* ---- writing ---- */

typedef struct {
    const char *metric;
    const char *entity;
    sr_ms ts_ms;
    double value;
    const char *key; /* NULL: (metric, entity, ts, value) is the identity */
} sr_sample;

/*
 * A read transaction: every read until sr_store_read_end() sees one
 * snapshot of the cache and the statements share one WAL read lock instead
 * of taking and dropping it each (what a screen's render of many panels
 * costs a viewer most, after the queries themselves). SR_EINVAL inside a
 * batch or another read transaction; no batch may begin inside one.
 */
int sr_store_read_begin(sr_store *st);
void sr_store_read_end(sr_store *st);

/* A batch: SR_EINVAL on a read-only handle. On an SR_STORE_VIEWER handle a
 * batch may hold only what that handle may write (an acknowledgement or a
 * silence with its audit row). */
int sr_store_begin(sr_store *st);
int sr_store_commit(sr_store *st);
void sr_store_rollback(sr_store *st);

/* Plausible samples: a time from 1970-01-01T00:00:00Z to ahead_ms after
 * the clock at each put (default one day; [sitrep] accept_ahead), a value
 * within +-SR_VALUE_MAX. */
#define SR_VALUE_MAX 1e15
void sr_store_set_accept_ahead(sr_store *st, sr_ms ahead_ms);

/*
 * Why sr_store_put refuses s with SR_EINVAL, as words in buf ("time
 * 5138-11-16T09:46:39Z is more than 1d ahead of the clock"); NULL when it
 * does not. One place for the rule, so that ingest, the collector and
 * every adapter say the same.
 */
const char *sr_store_sample_fault(sr_store *st, const sr_sample *s, char *buf, size_t len);

/*
 * Adds one sample inside a batch. *duplicate is set when the same sample
 * (same key, or same metric/entity/ts/value) is already stored. Returns
 * SR_ENOENT for a metric not defined, SR_EINVAL for a sample that
 * sr_store_sample_fault() refuses (an empty entity, a malformed path, a
 * value not finite or beyond SR_VALUE_MAX, a time out of range). Samples that cannot be duplicates
 * may be written a few dozen at a time, so a write error (SR_EIO, ...) may
 * come from an earlier sample of the batch: roll the batch back. Reads on
 * the same handle see every sample put.
 */
int sr_store_put(sr_store *st, const sr_sample *s, bool *duplicate);

/* Keeps a rejected input row with its reason (inside a batch). The same
 * row rejected again for the same reason at the same place is kept once:
 * *duplicate (may be NULL) then says so. */
int sr_store_reject(sr_store *st, const char *source, const char *where, const char *raw,
                    const char *reason, bool *duplicate);

/* Deletes samples, rollups and rejects older than cutoff_ms. */
int sr_store_retain(sr_store *st, sr_ms cutoff_ms, int64_t *deleted);

/* ---- sources ---- */

typedef struct {
    char name[SR_NAME_MAX];
    char type[SR_NAME_MAX];
    sr_ms last_poll_ms; /* 0 = never */
    sr_ms last_ok_ms;   /* 0 = never */
    sr_ms cursor_ms;    /* the since_ms of the next poll */
    char last_error[256];
    int64_t accepted, duplicates, rejected, polls, failures;
    sr_ms next_poll_ms; /* when the collector polls next; 0 = none scheduled (stopped) */
    sr_ms interval_ms;  /* the source's interval and timeout as the collector runs it; */
    sr_ms timeout_ms;   /* 0 = unknown (a row from before schema 4) */
    sr_ms newest_ms;    /* read only: the newest sample of the metrics it has written
                           (source_metric); 0 = none */
} sr_source_health;

/* Reads the health row of a source; SR_ENOENT when it has none yet. */
int sr_store_source_get(sr_store *st, const char *name, sr_source_health *out);
/* Inserts or replaces a source's health row. */
int sr_store_source_put(sr_store *st, const sr_source_health *h);
/* Records (inside a batch) that source has written metric; SR_ENOENT for a
 * metric not defined. */
int sr_store_source_metric(sr_store *st, const char *source, const char *metric);

/* The sources that have written metric, by name, up to max of them. */
int sr_store_metric_sources(sr_store *st, const char *metric, char (*names)[SR_NAME_MAX],
                            size_t max, size_t *n);

/* Caller owns *out; free with free(). */
int sr_store_source_list(sr_store *st, sr_source_health **out, size_t *n);

typedef struct {
    int64_t id;
    const char *source;
    const char *where;
    sr_ms ts_ms; /* when it was rejected */
    const char *raw;
    const char *reason;
} sr_reject_row;

/* Calls cb for the newest `limit` rejects (of one source, or all when NULL),
 * oldest first; the row is borrowed for the call. A non-zero return from cb
 * stops the scan and is returned. */
int sr_store_rejects(sr_store *st, const char *source, int limit,
                     int (*cb)(void *ctx, const sr_reject_row *row), void *ctx);
int sr_store_reject_count(sr_store *st, const char *source, int64_t *out);

/* The time of the newest sample of any metric; SR_ENODATA when the cache
 * holds none. */
int sr_store_newest(sr_store *st, sr_ms *out);

/* ---- entities ---- */

/* Entity 0 is the virtual root above every top-level entity. */
#define SR_ENTITY_ROOT 0

/* Id of an entity path ("" or NULL = the root); SR_ENOENT when unknown. */
int sr_store_entity_id(sr_store *st, const char *path, int64_t *id);

/* Path of an entity (borrowed; valid until the store is closed). */
const char *sr_store_entity_path(sr_store *st, int64_t id);

/* Direct children of an entity, ids in path order. Caller owns *ids (free()). */
int sr_store_entity_children(sr_store *st, int64_t id, int64_t **ids, size_t *n);

/* Whether entity e is node or below it. */
bool sr_store_entity_under(sr_store *st, int64_t e, int64_t node);

/*
 * The node whose observations are node's: SR_ENTITY_ROOT for the root's
 * only child (one force under the root: the same cells, and the root's
 * queries need no entity filter), else node itself. Queries compute and
 * memoise a node's figures as its same node's, so that a page's panels on
 * the root and on the force share them. Only inside a read transaction,
 * whose snapshot the handle's entities match (sr_store_read_begin loads
 * the new ones): outside one, another process may add a second top-level
 * entity at any moment, and node itself is returned.
 */
int64_t sr_store_entity_same(sr_store *st, int64_t node);

/*
 * The entities under node (node itself included; the root: every entity)
 * as *mask[e] = 1, for e below *n (sr_store_entity_limit); the caller
 * frees *mask. SR_ENOMEM possible.
 */
int sr_store_subtree_mask(sr_store *st, int64_t node, unsigned char **mask, int64_t *n);

/* Whether an entity has no children. */
bool sr_store_entity_is_leaf(sr_store *st, int64_t e);

/* One more than the largest entity id (for masks indexed by id). */
int64_t sr_store_entity_limit(sr_store *st);

/* Re-reads entities another process may have added (viewers). */
int sr_store_refresh(sr_store *st);

/* ---- reading ---- */

/* Id of a stored metric; SR_ENOENT when it has never been defined. */
int sr_store_metric_id(sr_store *st, const char *name, int64_t *id);

typedef int (*sr_raw_cb)(void *ctx, int64_t entity, sr_ms ts_ms, double value);

/*
 * Calls cb for every raw sample of a metric with from <= ts < to, in
 * (ts, entity) order. A non-zero return from cb stops the scan and is
 * returned.
 */
int sr_store_scan_raw(sr_store *st, int64_t metric, sr_ms from, sr_ms to, sr_raw_cb cb, void *ctx);

/* Only the values of every entity (the fastest scan, for exact percentiles). */
typedef int (*sr_value_cb)(void *ctx, double value);
int sr_store_scan_values(sr_store *st, int64_t metric, sr_ms from, sr_ms to, sr_value_cb cb,
                         void *ctx);

/* Like sr_store_scan_raw, newest first, and with the key (may be NULL). */
typedef int (*sr_raw_key_cb)(void *ctx, int64_t entity, sr_ms ts_ms, double value, const char *key);
int sr_store_scan_raw_desc(sr_store *st, int64_t metric, sr_ms from, sr_ms to, sr_raw_key_cb cb,
                           void *ctx);

/*
 * Rollups: one cell per (metric, node, hour) for every entity and all its
 * ancestors (gauges: the entity only), with the same figures per minute
 * and, for events, the hour's observations sorted (schema 9).
 */
typedef struct {
    sr_ms bucket_ms; /* start of the hour */
    int64_t n;       /* observations */
    double sum, min, max;
    sr_ms last_ts; /* newest observation in the bucket */
    double last;
    const unsigned char *sketch; /* events; NULL otherwise */
    size_t sketch_len;
    const unsigned char *minutes; /* per-minute breakdown; NULL for gauges */
    size_t minutes_len;
    const unsigned char *values; /* events: the observations, sorted (SR_SCAN_VALUES) */
    size_t values_len;
} sr_rollup_cell;

/* An event cell keeps its observations when it has at most this many. */
#define SR_ROLLUP_VALUES_MAX 1000000

/*
 * The observations of a cell read with SR_SCAN_VALUES, sorted, into *v
 * (grown as needed: caller frees; *cap its size) and their number in *n:
 * 0 when the cell keeps none (too many). SR_ECORRUPT when they do not
 * decode to the cell's count, SR_ENOMEM.
 */
int sr_rollup_values(const sr_rollup_cell *c, double **v, size_t *cap, size_t *n);

/* One minute of an hour cell (its latest value is not kept: see store_rollup.c). */
typedef struct {
    sr_ms bucket_ms; /* start of the minute */
    int64_t n;
    double sum, min, max;
} sr_minute_cell;

/* Decodes the minutes of a cell into out, in minute order; returns how many
 * (0..60), or SR_ECORRUPT. */
int sr_rollup_minutes(const sr_rollup_cell *c, sr_minute_cell out[60]);

typedef int (*sr_rollup_cb)(void *ctx, const sr_rollup_cell *cell);

/* Flags of sr_store_scan_rollup. */
enum {
    SR_SCAN_MINUTES = 1 << 0,   /* also read the per-minute breakdown (costs more) */
    SR_SCAN_NO_SKETCH = 1 << 1, /* leave the sketch unread (NULL): counts and sums only */
    SR_SCAN_VALUES = 1 << 2,    /* read the observations (events) and neither sketch nor minutes */
    SR_SCAN_STAMPS = 1 << 3,    /* only bucket, n and sum (min, max, last unset), from a narrow
                                   index: the cheapest scan */
};

/*
 * The counts and sums of (metric, node)'s hour cells in [from, to) (the
 * hours as sr_store_scan_rollup reads them; cells without observations
 * left out), appended to *v (*n of them, *cap its room; grown with
 * realloc, the caller frees it): a scan with SR_SCAN_STAMPS without a
 * call per cell; inside a read transaction, from the handle's copy
 * (metrics/stamps.h).
 */
int sr_store_stamps(sr_store *st, int64_t metric, int64_t node, sr_ms from, sr_ms to,
                    sr_stamp_cell **v, size_t *n, size_t *cap);

/*
 * Calls cb for every hour cell of (metric, node) whose hour starts in
 * [from, to) (both aligned down to the hour), in time order. node is any
 * entity, SR_ENTITY_ROOT included. The cell is borrowed for the call; its
 * minutes are NULL unless flags has SR_SCAN_MINUTES.
 */
int sr_store_scan_rollup(sr_store *st, int64_t metric, int64_t node, sr_ms from, sr_ms to,
                         unsigned flags, sr_rollup_cb cb, void *ctx);

/*
 * Calls cb once with the newest hour cell of (metric, node) whose hour
 * starts before before_ms (not aligned: a cell starting exactly at
 * before_ms is not taken) and returns what cb returns; returns SR_ENOENT,
 * without calling cb, when there is none. One seek on the rollup key,
 * whatever the number of cells. Cell and flags as in sr_store_scan_rollup.
 */
int sr_store_rollup_newest(sr_store *st, int64_t metric, int64_t node, sr_ms before_ms,
                           unsigned flags, sr_rollup_cb cb, void *ctx);

/*
 * The nodes that hold hour cells of metric, ascending, in *ids (borrowed;
 * valid until the next sr_store_cell_nodes() or sr_store_read_begin() on
 * st) and *n: for a gauge, its reporting
 * entities, the only ones a query of one of its levels need read (a tree
 * has far more entities than report any one gauge). One seek per node;
 * inside a read transaction the list is kept and read again only after a
 * commit touched the metric. A node whose cells retention deleted may
 * still be listed; one that holds cells always is.
 */
int sr_store_cell_nodes(sr_store *st, int64_t metric, const int64_t **ids, size_t *n);

/* ---- alerts ---- */

/* Reads the alert of a key; SR_ENOENT when there is none. */
int sr_store_alert_get(sr_store *st, const char *key, sr_alert *out);

/*
 * Inserts or replaces an alert (inside a batch: the collector; SR_EINVAL on
 * a read-only or SR_STORE_VIEWER handle). Read the
 * alert with sr_store_alert_get, step it and put it back in the same batch:
 * the batch holds the write lock, so an acknowledgement written by a viewer
 * in the meantime is never overwritten.
 */
int sr_store_alert_put(sr_store *st, const sr_alert *a);

/*
 * Moves the alert of old_key (a key of an older sitrep: "panel@entity") to
 * key, inside the collector's batch: when key has an alert already, the one
 * a person did more about (acknowledged or silenced, then raised) is kept
 * under key; the row of old_key is gone either way. 0 when old_key has no
 * alert; SR_EINVAL on a viewer's or read-only handle.
 */
int sr_store_alert_rekey(sr_store *st, const char *old_key, const char *key);

/* Bits of sr_store_alert_list's `states`. */
#define SR_ALERT_BIT(state) (1u << (state))
#define SR_ALERTS_OPEN                                                                             \
    (SR_ALERT_BIT(SR_ALERT_ACTIVE) | SR_ALERT_BIT(SR_ALERT_ACKED) | SR_ALERT_BIT(SR_ALERT_SILENCED))

/*
 * The alerts whose state is in the mask `states`: the active ones (nobody
 * has acknowledged or silenced them) before the rest, in each crit before
 * warn, then oldest raised first. Caller owns *out; free with free().
 */
int sr_store_alert_list(sr_store *st, unsigned states, sr_alert **out, size_t *n);

/*
 * Acknowledges the raised alert of key as `who` with a note (may be NULL),
 * in its own transaction (or the current batch). SR_ENOENT when there is no
 * such alert, SR_EINVAL when it is not raised. Needs a handle opened
 * without SR_STORE_READONLY (SR_STORE_VIEWER is enough).
 */
int sr_store_alert_ack(sr_store *st, const char *key, const char *who, const char *note, sr_ms now);

/* Silences the raised alert of key until `until`, with why (note, may be
 * NULL); errors as sr_store_alert_ack. */
int sr_store_alert_silence(sr_store *st, const char *key, const char *note, sr_ms until, sr_ms now);
/* ---- the audit table (append-only) ---- */

/* One audit record. Strings are borrowed: for sr_store_audit_add, for the
 * call; in sr_store_audit_list's callback, until the callback returns. */
typedef struct {
    int64_t id;         /* assigned by the store; ignored by sr_store_audit_add */
    sr_ms at_ms;        /* when it happened */
    const char *user;   /* the Unix user */
    const char *role;   /* the role that user had */
    const char *tty;    /* the terminal, "" when none (NULL: "") */
    const char *ssh;    /* SSH_CONNECTION or SSH_CLIENT, "" when local (NULL: "") */
    const char *action; /* such as "view-personal", "acknowledge" */
    const char *detail; /* what was seen or acknowledged (NULL: "") */
} sr_audit_row;

/* Appends one record: in the open batch, if any, else in a transaction of
 * its own (SR_STORE_VIEWER handles may). SR_EINVAL on a read-only store or without user, role or
 * action. Nothing in sitrep updates or deletes audit rows; the schema's
 * triggers refuse it from any client, retention included. */
int sr_store_audit_add(sr_store *st, const sr_audit_row *row);

/* Calls cb for every record with at >= since_ms, oldest first; a non-zero
 * return from cb stops the scan and is returned. */
int sr_store_audit_list(sr_store *st, sr_ms since_ms, int (*cb)(void *ctx, const sr_audit_row *row),
                        void *ctx);

/*
 * From now on, every connection this process opens keeps its temporary
 * tables, indices and statement journals in memory (PRAGMA temp_store =
 * MEMORY) and never creates a temporary file: for a process whose files
 * would belong to another user than the cache's (app/trust.h). Call it
 * before the first sr_store_open(); it is a process-wide setting.
 */
void sr_store_temp_in_memory(void);

/*
 * Bounds the memory SQLite holds for all of this process's connections
 * together (each one's page cache, schema and statements) at about
 * `bytes`: past it, a connection's page cache reuses its own pages instead
 * of growing (sqlite3_soft_heap_limit64). A process-wide setting; call it
 * once at start, before the first sr_store_open().
 */
void sr_store_limit_memory(int64_t bytes);

/* The SQLite library's version, for --version. */
const char *sr_store_sqlite_version(void);

/* PRAGMA data_version: changes whenever another connection commits. */
int sr_store_data_version(sr_store *st, int64_t *out);

/*
 * Which metrics' samples changed (schema 8): every commit that stores
 * samples of a metric, or a retention that deletes some, bumps that
 * metric's change counter in the same transaction (a commit of a source's
 * status row alone bumps none). Calls cb with the name of each metric (borrowed
 * for the call) whose counter moved since this handle last looked (at open,
 * then at each call), and each metric defined since; none when nothing
 * moved. One small query: call it when sr_store_data_version() has moved.
 */
typedef void (*sr_store_changed_fn)(void *ctx, const char *metric);
int sr_store_changes(sr_store *st, sr_store_changed_fn cb, void *ctx);

/*
 * The memo of this handle's reads (metrics/memo.h): figures of closed
 * slices, checked against the rollups at every use, freed with the store.
 * NULL inside a batch that has put or deleted samples (the rollups may lag
 * them) or without memory: then compute without it.
 *
 * Its bound, measured: the page of bench/force.ini on 18 M samples keeps
 * 0.65 MB in it, a wall rotating three such pages (one per event metric)
 * 1.8 MB, bench/soak.sh's month 0.55 MB. A screen that runs for months
 * fills it up to the bound with entries it no longer asks for, which are
 * the first to leave.
 */
#define SR_STORE_MEMO_BYTES (2u << 20)
struct sr_memo;
struct sr_memo *sr_store_memo(sr_store *st);

/*
 * The memo's entries are persisted in the cache (schema 10) by the process
 * that writes it, so that another process's first page, a one-shot
 * snapshot or a query finds what the writer has computed: a miss in a
 * handle's memo reads the cache's entry of the same key and stamp.
 * sr_store_memo_save writes, with writer handle w, the entries computed in
 * from's memo since they were last saved (from may be w), in one
 * transaction (none when there are none). SR_EINVAL on a handle that may
 * not write; SR_EBUSY inside a batch or a read transaction (they stay to
 * be saved next time).
 */
int sr_store_memo_save(sr_store *w, sr_store *from);

/*
 * A second, small memo for figures of windows that end now (a page's
 * panels ask the same ones in one render): they are worth nothing a
 * minute later, so they live apart: making room in this one when it is
 * full pushes out nothing the other one keeps. One render of a page
 * asks about 10 KB of them.
 */
#define SR_STORE_MEMO_RECENT_BYTES (64u << 10)
struct sr_memo *sr_store_memo_recent(sr_store *st);

/* How many SQL statements this handle has run since it was opened (a
 * statement's triggers count apart): what the tests count a refresh by. */
int64_t sr_store_statements(const sr_store *st);

#endif
