/*
 * store.c - the SQLite cache.
 *
 * Tables (schema version in PRAGMA user_version, migrated step by step):
 *   metric(id, name, kind)            entity(id, path, parent)
 *   sample(metric, ts, entity, dedup, value, key)   PK (metric, ts, entity, dedup)
 *   rollup(metric, res, node, bucket, n, sum, min, max, last_ts, last, sketch, minutes,
 *          vals)                      vals: an event cell's observations, sorted (v9)
 *   reject(id, source, at, location, raw, reason, once)   source(name, ...health...)
 *   source_metric(source, metric)
 *   alert(key, panel, metric, entity, severity, state, raised_at, value, threshold,
 *         acked_by, acked_at, note, silenced_until, cleared_at)     (alerts.h)
 *   audit(id, at, user, role, tty, ssh, action, detail)   append-only (v7)
 *   metric.changes                    a counter per metric (v8, below)
 *   memo(a, b, c, d, e, f, n, sum, v)  figures of closed slices of time (v10, memo.h)
 *   touch(seq, metric, lo, hi)        the times each commit touched (v10, stamps.h)
 *
 * Samples arrive roughly in time order and are read by metric and time
 * range, so the sample key leads with (metric, ts): inserts append at the
 * right edge of each metric's range instead of rewriting pages all over the
 * file. `dedup` is a 64-bit hash of the source key (or of the value when
 * there is none); INSERT OR IGNORE on the primary key makes re-ingesting the
 * same rows a no-op, and sqlite3_changes() tells a duplicate apart. A sample
 * newer than its metric's newest stored one cannot be a duplicate: such
 * samples (a file or a backfill in time order) are queued and inserted 64 to
 * a statement, which keeps SQLite's cursor on the right edge of the table
 * instead of seeking from the root for each; the queue is flushed before
 * anything else touches the table.
 *
 * Rollups: for every stored event or counter sample, the hour cell of its
 * entity and of every ancestor up to the virtual root is updated, so that an
 * aggregate of any node over a long window reads a few hundred cells instead
 * of millions of rows. An hour cell carries the hour's count, sum, min, max
 * and latest value, a quantile sketch (events; sketch.h), the hour's
 * observations sorted (events; `vals`, v9: an exact percentile reads only
 * those in the sketch bucket that holds it, metrics/query.c), and the same
 * figures per minute (the `minutes` blob), so per-minute rollups cost no
 * extra row: separate minute rows for every ancestor were measured here to
 * write four to five cells per sample on sparse data and cut ingest to a
 * fifth. Gauges keep cells for their own entity only (a parent's level is
 * the sum of its children's latest values, which the query computes from
 * those cells). Cells are accumulated in memory during a batch (cells.c)
 * and written once per batch with an upsert that merges into what is stored
 * (through the SQL functions sr_sketch_merge, sr_minutes_merge and
 * sr_vals_merge), so the cost is per touched cell, not per row.
 *
 * Change counters (v8): a commit that stored samples of a metric, or a
 * retention that deleted some, adds one to that metric's `changes` in the
 * same transaction, so that a reader that sees PRAGMA data_version move can
 * tell which metrics moved with it (sr_store_changes) and recompute only
 * what shows them; a commit of nothing but a source's status row bumps none.
 *
 * The batch is one transaction: a crash loses at most the batch in flight;
 * rollups are in the same transaction as their samples, so they never
 * disagree. On rollback the in-memory entity map is reloaded, since ids
 * handed out inside the failed transaction no longer exist.
 */
#include "store.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cells.h"
#include "memo.h"
#include "sketch.h"
#include "rawhours.h"
#include "stamps.h"
#include "vals.h"

/* ---- small string -> id hash map (open addressing) ---- */

typedef struct {
    char *key;
    int64_t id;
} smap_slot;

typedef struct {
    smap_slot *slots;
    size_t cap; /* power of two */
    size_t len;
} smap;

static uint64_t hash_bytes(const void *p, size_t n, uint64_t h)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t hash_str(const char *s)
{
    return hash_bytes(s, strlen(s), 0xcbf29ce484222325ULL);
}

/* The map's own hash (hash_str's is stored: the dedup of a key), eight
 * bytes a step: an entity's path is looked up for every sample. */
static uint64_t smap_hash(const char *s)
{
    size_t n = strlen(s);
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;
    for (; n >= 8; n -= 8, s += 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
    }
    w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0x94d049bb133111ebULL;
    return h ^ h >> 29;
}

static void smap_fini(smap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static int64_t smap_get(const smap *m, const char *key)
{
    if (!m->cap)
        return -1;
    for (size_t i = smap_hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->slots[i].key)
            return -1;
        if (strcmp(m->slots[i].key, key) == 0)
            return m->slots[i].id;
    }
}

static int smap_put(smap *m, const char *key, int64_t id)
{
    if ((m->len + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        smap_slot *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return SR_ENOMEM;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slots[i].key)
                continue;
            size_t j = smap_hash(m->slots[i].key) & (ncap - 1);
            while (ns[j].key)
                j = (j + 1) & (ncap - 1);
            ns[j] = m->slots[i];
        }
        free(m->slots);
        m->slots = ns;
        m->cap = ncap;
    }
    size_t i = smap_hash(key) & (m->cap - 1);
    while (m->slots[i].key) {
        if (strcmp(m->slots[i].key, key) == 0) {
            m->slots[i].id = id;
            return 0;
        }
        i = (i + 1) & (m->cap - 1);
    }
    char *k = strdup(key);
    if (!k)
        return SR_ENOMEM;
    m->slots[i].key = k;
    m->slots[i].id = id;
    m->len++;
    return 0;
}

/* ---- the store ---- */

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
    /* prepared on first use (stmt()): what a reader runs at every refresh */
    ST_DATA_VERSION,
    ST_CHANGES,
    ST_ENTITY_ROWS,
    ST_TOUCH_MAX,
    ST_TOUCH_NEW,
    ST_SCAN_HOUR,
    ST_READ_BEGIN,
    ST_READ_END,
    ST_METRICS,
    ST_METRIC_SOURCES,
    ST_SOURCE_LIST,
    ST_ALERT_LIST,
    ST_COUNT
};

/* The source table's columns in the order read_source() and
 * sr_store_source_put() use them. */
#define SOURCE_COLUMNS                                                                             \
    "name, type, last_poll, last_ok, cursor, last_error, accepted, duplicates, rejected, polls, "  \
    "failures, next_poll, interval, timeout"

/* After SOURCE_COLUMNS when reading: the newest sample of the metrics the
 * source has written, one index probe per metric. */
#define SOURCE_NEWEST                                                                              \
    "(SELECT max((SELECT max(ts) FROM sample s WHERE s.metric = sm.metric)) "                      \
    "FROM source_metric sm WHERE sm.source = source.name)"

/* The alert table's columns in the order read_alert() uses them. */
#define ALERT_COLUMNS                                                                              \
    "key, panel, metric, entity, severity, state, raised_at, value, threshold, acked_by, "         \
    "acked_at, note, silenced_until, cleared_at"

#define INSERT_SAMPLE "INSERT OR IGNORE INTO sample(metric, ts, entity, dedup, value, key) VALUES "

static const char *const stmt_sql[ST_COUNT] = {
    [ST_INSERT] = INSERT_SAMPLE "(?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_INSERT_MANY] = NULL, /* PEND_ROWS rows of ST_INSERT, made by prepare_all() */
    [ST_MAX_TS] = "SELECT max(ts) FROM sample WHERE metric = ?1",
    [ST_ROLLUP_UPSERT] =
        "INSERT INTO rollup(metric, res, node, bucket, n, sum, min, max, last_ts, last, sketch, "
        "minutes, vals) VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
        "ON CONFLICT(metric, res, node, bucket) DO UPDATE SET "
        /* a cell without its values (too many) stays without them */
        "vals = CASE WHEN vals IS NULL OR excluded.vals IS NULL THEN NULL "
        "ELSE sr_vals_merge(vals, excluded.vals) END, "
        "n = n + excluded.n, sum = sum + excluded.sum, "
        "min = min(min, excluded.min), max = max(max, excluded.max), "
        "last = CASE WHEN excluded.last_ts >= last_ts THEN excluded.last ELSE last END, "
        "last_ts = max(last_ts, excluded.last_ts), "
        "sketch = sr_sketch_merge(sketch, excluded.sketch), "
        "minutes = sr_minutes_merge(minutes, excluded.minutes)",
    [ST_ENTITY_INSERT] = "INSERT INTO entity(path, parent) VALUES (?1, ?2)",
    [ST_REJECT] = "INSERT OR IGNORE INTO reject(source, at, location, raw, reason, once) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, 1)",
    [ST_SCAN_RAW] = "SELECT entity, ts, value FROM sample "
                    "WHERE metric = ?1 AND ts >= ?2 AND ts < ?3",
    [ST_SCAN_RAW_DESC] = "SELECT entity, ts, value, key FROM sample "
                         "WHERE metric = ?1 AND ts >= ?2 AND ts < ?3 ORDER BY ts DESC, entity DESC",
    /* without the minutes, so that their overflow pages are not read */
    [ST_SCAN_ROLLUP] = "SELECT bucket, n, sum, min, max, last_ts, last, sketch, NULL "
                       "FROM rollup WHERE metric = ?1 AND res = 1 AND node = ?2 "
                       "AND bucket >= ?3 AND bucket < ?4",
    [ST_SCAN_ROLLUP_MIN] = "SELECT bucket, n, sum, min, max, last_ts, last, sketch, minutes "
                           "FROM rollup WHERE metric = ?1 AND res = 1 AND node = ?2 "
                           "AND bucket >= ?3 AND bucket < ?4",
    [ST_SCAN_ROLLUP_VALS] = "SELECT bucket, n, sum, min, max, last_ts, last, NULL, NULL, vals "
                            "FROM rollup WHERE metric = ?1 AND res = 1 AND node = ?2 "
                            "AND bucket >= ?3 AND bucket < ?4",
    /* the cells' counts and sums alone, from the narrow index (a cell's row
     * with its sketch, minutes and values takes kilobytes at the top of the
     * tree: a month of them is a hundred pages, of the index a few) */
    [ST_SCAN_ROLLUP_STAMPS] = "SELECT bucket, n, sum FROM rollup INDEXED BY rollup_stamp "
                              "WHERE metric = ?1 AND res = 1 AND node = ?2 "
                              "AND bucket >= ?3 AND bucket < ?4",
    [ST_SCAN_VALUES] = "SELECT value FROM sample WHERE metric = ?1 AND ts >= ?2 AND ts < ?3",
    /* an hour of raw samples for the handle's copy (rawhours.h); a statement of
     * its own, since a scan of another may be under way */
    [ST_SCAN_HOUR] =
        "SELECT entity, ts, value FROM sample WHERE metric = ?1 AND ts >= ?2 AND ts < ?3",
    [ST_READ_BEGIN] = "BEGIN DEFERRED",
    [ST_READ_END] = "COMMIT",
    [ST_METRICS] = "SELECT id, name, kind FROM metric ORDER BY id",
    [ST_METRIC_SOURCES] = "SELECT source FROM source_metric WHERE metric = ?1 ORDER BY source",
    [ST_SOURCE_LIST] = "SELECT " SOURCE_COLUMNS ", " SOURCE_NEWEST " FROM source ORDER BY name",
    /* the ones nobody has taken first */
    [ST_ALERT_LIST] = "SELECT " ALERT_COLUMNS " FROM alert ORDER BY "
                      "state <> 'active', "
                      "CASE severity WHEN 'crit' THEN 0 WHEN 'warn' THEN 1 ELSE 2 END, "
                      "raised_at, key",
    /* one seek backwards on the primary key (metric, res, node, bucket) */
    [ST_ROLLUP_NEWEST] = "SELECT bucket, n, sum, min, max, last_ts, last, sketch, NULL "
                         "FROM rollup WHERE metric = ?1 AND res = 1 AND node = ?2 "
                         "AND bucket < ?3 ORDER BY bucket DESC LIMIT 1",
    [ST_ROLLUP_NEWEST_MIN] = "SELECT bucket, n, sum, min, max, last_ts, last, sketch, minutes "
                             "FROM rollup WHERE metric = ?1 AND res = 1 AND node = ?2 "
                             "AND bucket < ?3 ORDER BY bucket DESC LIMIT 1",
    [ST_SOURCE_GET] = "SELECT " SOURCE_COLUMNS ", " SOURCE_NEWEST " FROM source WHERE name = ?1",
    /* an update in place, not INSERT OR REPLACE: a replaced row takes a new
     * rowid and rewrites the name's index page too, so an empty poll would
     * write two pages instead of its status row's one */
    [ST_SOURCE_PUT] = "INSERT INTO source(" SOURCE_COLUMNS ") "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
                      "ON CONFLICT(name) DO UPDATE SET type = ?2, last_poll = ?3, last_ok = ?4, "
                      "cursor = ?5, last_error = ?6, accepted = ?7, duplicates = ?8, "
                      "rejected = ?9, polls = ?10, failures = ?11, next_poll = ?12, "
                      "interval = ?13, timeout = ?14",
    [ST_DATA_VERSION] = "PRAGMA data_version",
    [ST_CHANGES] = "SELECT id, name, changes FROM metric ORDER BY id",
    [ST_ENTITY_ROWS] = "SELECT id, path, parent FROM entity WHERE id >= ?1",
    [ST_TOUCH_MAX] = "SELECT max(seq) FROM touch",
    [ST_TOUCH_NEW] = "SELECT seq, metric, lo, hi FROM touch WHERE seq > ?1 ORDER BY seq",
    [ST_MEMO_GET] = "SELECT n, sum, v FROM memo "
                    "WHERE a = ?1 AND b = ?2 AND c = ?3 AND d = ?4 AND e = ?5 AND f = ?6",
    [ST_MEMO_PUT] = "INSERT OR REPLACE INTO memo(a, b, c, d, e, f, n, sum, v) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
};

struct sr_store {
    sqlite3 *db;
    unsigned flags;
    sr_ms accept_ahead_ms; /* how far after the clock a sample's time may be */
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
    sr_raw_row *hour_buf;  /* an hour read for it */
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

static int fail(sr_store *st, int code)
{
    snprintf(st->errmsg, sizeof st->errmsg, "%s", sqlite3_errmsg(st->db));
    return code;
}

/*
 * The one mapping of an SQLite result code to an error code of ours, with
 * the store's message (sr_store_errmsg) in words a user can act on where
 * SQLite's are not: a full disk (SQLITE_FULL, or an I/O error whose errno
 * is ENOSPC) names the cache; a damaged file is SR_ECORRUPT from any
 * statement, never a figure.
 */
static int sql_err(sr_store *st, int rc)
{
    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        return fail(st, SR_ENOMEM);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return fail(st, SR_ECORRUPT);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return fail(st, SR_EBUSY);
    case SQLITE_IOERR:
        if (sqlite3_system_errno(st->db) != ENOSPC)
            return fail(st, SR_EIO);
        /* fall through */
    case SQLITE_FULL:
        snprintf(st->errmsg, sizeof st->errmsg,
                 "disk full: the cache %.400s (or its -wal) could not grow", st->path);
        return SR_ENOSPC;
    case SQLITE_READONLY:
        return fail(st, SR_EPERM);
    default:
        return fail(st, SR_EIO);
    }
}

static int exec(sr_store *st, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        int code = sql_err(st, rc);
        if (code != SR_ENOSPC) /* its message names the cache */
            snprintf(st->errmsg, sizeof st->errmsg, "%s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return code;
    }
    return 0;
}

/* sr_sketch_merge(a, b): the encoded merge of two encoded sketches; NULL
 * arguments are empty sketches. Registered on every connection. */
static void sql_sketch_merge(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    sr_sketch *s = NULL;
    if (sr_sketch_create(SR_SKETCH_ALPHA, &s)) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    for (int i = 0; i < 2; i++) {
        if (sqlite3_value_type(argv[i]) != SQLITE_BLOB)
            continue;
        const unsigned char *b = sqlite3_value_blob(argv[i]);
        int n = sqlite3_value_bytes(argv[i]);
        if (sr_sketch_merge_encoded(s, b, (size_t)n)) {
            sr_sketch_destroy(s);
            sqlite3_result_error(ctx, "sr_sketch_merge: damaged sketch", -1);
            return;
        }
    }
    if (sr_sketch_count(s) == 0) {
        sr_sketch_destroy(s);
        sqlite3_result_null(ctx);
        return;
    }
    unsigned char *buf;
    size_t len;
    if (sr_sketch_encode(s, &buf, &len)) {
        sr_sketch_destroy(s);
        sqlite3_result_error_nomem(ctx);
        return;
    }
    sr_sketch_destroy(s);
    sqlite3_result_blob(ctx, buf, (int)len, free);
}

int sr_rollup_minutes(const sr_rollup_cell *c, sr_minute_cell out[60])
{
    if (!c->minutes)
        return 0;
    return cells_minutes_decode(c->minutes, c->minutes_len, c->bucket_ms, out);
}

/* sr_minutes_merge(a, b): the merge of two minute breakdowns (NULL = none). */
static void sql_minutes_merge(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    minute_acc m[2][60];
    int n[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        if (sqlite3_value_type(argv[i]) != SQLITE_BLOB)
            continue;
        sr_minute_cell c[60];
        n[i] = cells_minutes_decode(sqlite3_value_blob(argv[i]),
                                    (size_t)sqlite3_value_bytes(argv[i]), 0, c);
        if (n[i] < 0) {
            sqlite3_result_error(ctx, "sr_minutes_merge: damaged minute breakdown", -1);
            return;
        }
        for (int k = 0; k < n[i]; k++)
            m[i][k] = (minute_acc){(int)(c[k].bucket_ms / SR_MS_MIN), c[k].n, c[k].sum, c[k].min,
                                   c[k].max};
    }
    minute_acc out[60];
    int k = cells_minutes_merge(m[0], n[0], m[1], n[1], out);
    unsigned char *buf = sqlite3_malloc(CELLS_MINUTES_MAX);
    if (!buf) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    size_t len = cells_minutes_encode(out, k, buf);
    sqlite3_result_blob(ctx, buf, (int)len, sqlite3_free);
}

/* ---- the values of an hour cell ---- */

int sr_rollup_values(const sr_rollup_cell *c, double **v, size_t *cap, size_t *n)
{
    *n = 0;
    if (!c->values || c->n <= 0)
        return 0;
    if ((size_t)c->n > *cap) {
        double *nv = realloc(*v, (size_t)c->n * sizeof *nv);
        if (!nv)
            return SR_ENOMEM;
        *v = nv;
        *cap = (size_t)c->n;
    }
    int rc = sr_vals_decode(c->values, c->values_len, (size_t)c->n, *v);
    if (!rc)
        *n = (size_t)c->n;
    return rc;
}

/* sr_vals_merge(a, b): the merge of two encoded value lists, NULL past
 * SR_ROLLUP_VALUES_MAX values or when either is damaged. Each list's count
 * comes from its own decoding, so the cells' n are not needed here. */
static int vals_decode_any(sqlite3_value *arg, double **out, size_t *n)
{
    const unsigned char *b = sqlite3_value_blob(arg);
    size_t len = (size_t)sqlite3_value_bytes(arg), max;
    *out = NULL;
    *n = 0;
    int rc = sr_vals_count(b, len, &max);
    if (rc)
        return rc;
    if (max > SR_ROLLUP_VALUES_MAX)
        return SR_ERANGE;
    double *v = malloc((max ? max : 1) * sizeof *v);
    if (!v)
        return SR_ENOMEM;
    if ((rc = sr_vals_decode(b, len, max, v))) {
        free(v);
        return rc;
    }
    *out = v;
    *n = max;
    return 0;
}

static void sql_vals_merge(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    double *a, *b;
    size_t na, nb;
    if (vals_decode_any(argv[0], &a, &na)) {
        sqlite3_result_null(ctx);
        return;
    }
    if (vals_decode_any(argv[1], &b, &nb) || na + nb > SR_ROLLUP_VALUES_MAX) {
        free(a);
        free(b);
        sqlite3_result_null(ctx);
        return;
    }
    double *m = malloc((na + nb) * sizeof *m);
    unsigned char *out = NULL;
    size_t len = 0;
    int rc = m ? 0 : SR_ENOMEM;
    if (!rc) {
        size_t i = 0, j = 0, k = 0;
        while (i < na || j < nb)
            m[k++] = j >= nb || (i < na && a[i] <= b[j]) ? a[i++] : b[j++];
        rc = sr_vals_encode(m, k, &out, &len);
    }
    free(a);
    free(b);
    free(m);
    if (rc) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    sqlite3_result_blob64(ctx, out, (sqlite3_uint64)len, free);
}

/* ---- schema and migrations ---- */

static const char schema_v1[] =
    "CREATE TABLE metric(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
    "  kind INTEGER NOT NULL);"
    "CREATE TABLE entity(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, "
    "  parent INTEGER NOT NULL);"
    "CREATE TABLE sample(metric INTEGER NOT NULL, ts INTEGER NOT NULL, "
    "  entity INTEGER NOT NULL, dedup INTEGER NOT NULL, value REAL NOT NULL, key TEXT, "
    "  PRIMARY KEY(metric, ts, entity, dedup)) WITHOUT ROWID;"
    "CREATE TABLE reject(id INTEGER PRIMARY KEY, source TEXT NOT NULL, at INTEGER NOT NULL, "
    "  location TEXT, raw TEXT, reason TEXT NOT NULL);"
    "CREATE INDEX reject_by_source ON reject(source, id);"
    "CREATE TABLE source(name TEXT PRIMARY KEY, type TEXT, last_poll INTEGER, "
    "  last_ok INTEGER, cursor INTEGER, last_error TEXT, accepted INTEGER, "
    "  duplicates INTEGER, rejected INTEGER, polls INTEGER, failures INTEGER);";

static const char schema_v2[] =
    "CREATE TABLE rollup(metric INTEGER NOT NULL, res INTEGER NOT NULL, "
    "  node INTEGER NOT NULL, bucket INTEGER NOT NULL, n INTEGER NOT NULL, "
    "  sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL, last_ts INTEGER NOT NULL, "
    "  last REAL NOT NULL, sketch BLOB, minutes BLOB, "
    "  PRIMARY KEY(metric, res, node, bucket)) WITHOUT ROWID;";

/* v3: which source has written which metric, so that a panel can tell
 * whether the source behind its figures is late */
static const char schema_v3[] =
    "CREATE TABLE source_metric(source TEXT NOT NULL, metric INTEGER NOT NULL, "
    "  PRIMARY KEY(source, metric)) WITHOUT ROWID;";

/* v4: when the collector polls a source next and with what interval and
 * timeout, so that a viewer can tell a late source from a live one without
 * the collector's config */
static const char schema_v4[] = "ALTER TABLE source ADD COLUMN next_poll INTEGER;"
                                "ALTER TABLE source ADD COLUMN interval INTEGER;"
                                "ALTER TABLE source ADD COLUMN timeout INTEGER;";

/* v5: a row rejected again (a file re-read after a restart, a command
 * printing the same bad line at every poll) is kept once; rows from
 * before v5 (once NULL) are left as they are */
static const char schema_v5[] =
    "ALTER TABLE reject ADD COLUMN once INTEGER;"
    "CREATE UNIQUE INDEX reject_once ON reject(source, coalesce(location, ''), raw, reason) "
    "  WHERE once = 1;";

/* v6: alerts, written by the collector and acknowledged or silenced by
 * any viewer (severity "warn"/"crit", state as sr_alert_state_name; times
 * in ms, NULL when unset) */
static const char schema_v6[] =
    "CREATE TABLE alert(key TEXT PRIMARY KEY, panel TEXT NOT NULL, metric TEXT NOT NULL, "
    "  entity TEXT NOT NULL, severity TEXT, state TEXT NOT NULL, raised_at INTEGER, "
    "  value REAL, threshold REAL, acked_by TEXT, acked_at INTEGER, note TEXT, "
    "  silenced_until INTEGER, cleared_at INTEGER);";
/* v7: who saw personal-level data or acknowledged an alert, when, and from
 * where. Append-only: triggers refuse any UPDATE or DELETE of a row, and
 * retention leaves the table alone. (v6 is the alerts' step.) */
static const char schema_v7[] =
    "CREATE TABLE audit(id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, "
    "  user TEXT NOT NULL, role TEXT NOT NULL, tty TEXT NOT NULL, ssh TEXT NOT NULL, "
    "  action TEXT NOT NULL, detail TEXT NOT NULL);"
    "CREATE INDEX audit_at ON audit(at);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
    "  BEGIN SELECT RAISE(ABORT, 'the audit table is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
    "  BEGIN SELECT RAISE(ABORT, 'the audit table is append-only'); END;";

/* v8: how many commits have changed each metric's samples (see above) */
static const char schema_v8[] = "ALTER TABLE metric ADD COLUMN changes INTEGER NOT NULL DEFAULT 0;";

/* v9: an event cell's observations, sorted (above), and a narrow index of
 * the cells' counts and sums; the rollups are built again from the samples
 * so that every cell has its observations */
static const char schema_v9[] =
    "ALTER TABLE rollup ADD COLUMN vals BLOB;"
    "CREATE INDEX rollup_stamp ON rollup(metric, res, node, bucket, n, sum);";

/* The stamps a handle keeps in read transactions (stamps.h): 24 bytes an
 * hour cell, so 60 days of hours of 30 (metric, node) pairs. */
#define STAMPS_BYTES (1u << 20)

/* The raw samples a handle keeps in read transactions (rawhours.h): 24
 * bytes a sample. A page asks the hour running and the hours its windows
 * start in, a few per metric: room for those of a busy force's page, and
 * no more, so that the hours the clock has left soon make room. */
#define RAWHOURS_BYTES (256u << 10)
#define RAWHOURS_HOURS 24

/* How long a statement waits for another connection's lock. */
#define BUSY_MS 5000

/* The `touch` rows kept: a reader that has missed more forgets its stamps. */
#define TOUCH_KEEP 4096

/* v10: figures of closed slices of time (metrics/memo.h), persisted by the
 * process that writes the cache (sr_store_memo_save) and read by every
 * handle's memo on a miss. A change to what an entry holds must delete
 * them all in its migration. */
static const char schema_v10[] =
    "CREATE TABLE memo(a INTEGER NOT NULL, b INTEGER NOT NULL, c INTEGER NOT NULL, "
    "d INTEGER NOT NULL, e INTEGER NOT NULL, f INTEGER NOT NULL, n INTEGER NOT NULL, "
    "sum REAL NOT NULL, v BLOB NOT NULL, PRIMARY KEY (a, b, c, d, e, f)) WITHOUT ROWID;"
    /* which times of a metric each commit touched, the newest TOUCH_KEEP
     * rows: a reader takes in the rows it has not seen (metrics/stamps.h) */
    "CREATE TABLE touch(seq INTEGER PRIMARY KEY AUTOINCREMENT, metric INTEGER NOT NULL, "
    "lo INTEGER NOT NULL, hi INTEGER NOT NULL);";

/* Statement i, prepared on its first use and kept (reset after use, never
 * finalized but at close); NULL when it cannot be prepared. */
static sqlite3_stmt *stmt(sr_store *st, int i)
{
    if (!st->stmt[i] && sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                           &st->stmt[i], NULL) != SQLITE_OK)
        st->stmt[i] = NULL;
    return st->stmt[i];
}

/* Runs kept statement i, which returns no rows (BEGIN, COMMIT). */
static int exec_kept(sr_store *st, int i)
{
    sqlite3_stmt *q = stmt(st, i);
    if (!q)
        return fail(st, SR_EIO);
    int rc = sqlite3_step(q);
    int code = rc == SQLITE_DONE ? 0 : sql_err(st, rc);
    sqlite3_reset(q);
    return code;
}

static int load_entities(sr_store *st);
static int load_metrics(sr_store *st);
static int rebuild_rollups(sr_store *st);
static int pend_flush(sr_store *st);

/*
 * Brings the file from its version to SR_STORE_SCHEMA, one step per version,
 * all in one transaction.
 */
static int migrate(sr_store *st)
{
    sqlite3_stmt *q;
    int version = 0;
    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK)
        return fail(st, SR_EIO);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        version = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW)
        return sql_err(st, rc);
    if (version > SR_STORE_SCHEMA) {
        snprintf(st->errmsg, sizeof st->errmsg,
                 "cache schema version %d is newer than this sitrep's (%d)", version,
                 SR_STORE_SCHEMA);
        return SR_EVERSION;
    }
    if (version == SR_STORE_SCHEMA)
        return 0;
    if (st->flags & (SR_STORE_READONLY | SR_STORE_VIEWER)) {
        snprintf(st->errmsg, sizeof st->errmsg,
                 "cache schema version %d needs migrating to %d; run the collector first", version,
                 SR_STORE_SCHEMA);
        /* an empty file (version 0) is a cache its collector is creating at
         * this moment: busy, not broken; the caller may try again */
        return version == 0 ? SR_EBUSY : SR_EVERSION;
    }
    if ((rc = exec(st, "BEGIN IMMEDIATE")))
        return rc;
    if (version < 1 && (rc = exec(st, schema_v1)))
        goto out;
    /* a cache from before v2 gets its rollups at v9, below */
    if (version < 2 && (rc = exec(st, schema_v2)))
        goto out;
    if (version < 3 && (rc = exec(st, schema_v3)))
        goto out;
    if (version < 4 && (rc = exec(st, schema_v4)))
        goto out;
    if (version < 5 && (rc = exec(st, schema_v5)))
        goto out;
    if (version < 6 && (rc = exec(st, schema_v6)))
        goto out;
    if (version < 7 && (rc = exec(st, schema_v7)))
        goto out;
    if (version < 8 && (rc = exec(st, schema_v8)))
        goto out;
    if (version < 9) {
        if ((rc = exec(st, schema_v9)))
            goto out;
        if (version >= 1 && (rc = rebuild_rollups(st)))
            goto out;
    }
    if (version < 10 && (rc = exec(st, schema_v10)))
        goto out;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", SR_STORE_SCHEMA);
    if ((rc = exec(st, sql)))
        goto out;
    return exec(st, "COMMIT");
out:
    exec(st, "ROLLBACK");
    return rc;
}

static int prepare_all(sr_store *st)
{
    for (int i = 0; i < ST_COUNT; i++) {
        if (st->stmt[i] || i >= ST_DATA_VERSION) /* prepared early, or on first use */
            continue;
        if ((st->flags & (SR_STORE_READONLY | SR_STORE_VIEWER)) &&
            (i == ST_INSERT || i == ST_INSERT_MANY || i == ST_ROLLUP_UPSERT ||
             i == ST_ENTITY_INSERT || i == ST_REJECT || i == ST_SOURCE_PUT || i == ST_MEMO_PUT))
            continue;
        char many[sizeof INSERT_SAMPLE + PEND_ROWS * sizeof ",(?,?,?,?,?,?)"];
        const char *sql = stmt_sql[i];
        if (i == ST_INSERT_MANY) {
            size_t o = (size_t)snprintf(many, sizeof many, "%s", INSERT_SAMPLE);
            for (int r = 0; r < PEND_ROWS; r++)
                o += (size_t)snprintf(many + o, sizeof many - o, "%s(?,?,?,?,?,?)", r ? "," : "");
            sql = many;
        }
        if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) !=
            SQLITE_OK)
            return fail(st, SR_EIO);
    }
    return 0;
}

/*
 * The authorizer of an SR_STORE_VIEWER connection: the same rule as the API
 * above it, enforced by SQLite on every statement it prepares. Reading,
 * transactions and functions pass; of writes only rows into audit (insert:
 * its triggers refuse the rest anyway) and into alert (an acknowledgement or
 * a silence, written as INSERT OR REPLACE). No schema change, no pragma
 * that sets anything but the connection's cache size or query_only, no
 * ATTACH.
 */
static int viewer_authorizer(void *ctx, int action, const char *a, const char *b, const char *db,
                             const char *trigger)
{
    (void)ctx;
    (void)db;
    (void)trigger;
    switch (action) {
    case SQLITE_READ:
    case SQLITE_SELECT:
    case SQLITE_TRANSACTION:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_INSERT:
        return a && (strcmp(a, "audit") == 0 || strcmp(a, "alert") == 0) ? SQLITE_OK : SQLITE_DENY;
    case SQLITE_PRAGMA:
        /* reading pragmas (data_version, user_version) and per-connection settings */
        return !b || strcmp(a, "cache_size") == 0 || strcmp(a, "query_only") == 0 ? SQLITE_OK
                                                                                  : SQLITE_DENY;
    default:
        return SQLITE_DENY;
    }
}

/* path with its folder resolved to a real path (no symbolic links), the
 * last name as it is; malloc'd. NULL for a name SQLite treats specially
 * (":memory:", "", a URI) or a folder that does not resolve (SQLite then
 * says why). */
static char *real_folder_path(const char *path)
{
    if (!path[0] || path[0] == ':' || strncmp(path, "file:", 5) == 0)
        return NULL;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char *folder = sr_path_folder(path);
    char *dir = folder ? realpath(folder, NULL) : NULL;
    free(folder);
    if (!dir)
        return NULL;
    size_t n = strlen(dir) + 1 + strlen(base) + 1;
    char *r = malloc(n);
    if (r)
        snprintf(r, n, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", base);
    free(dir);
    return r;
}

/* SQLITE_TRACE_STMT: a statement starts running (sr_store_statements). */
static int count_statement(unsigned type, void *ctx, void *p, void *x)
{
    (void)type;
    (void)p;
    (void)x;
    ((sr_store *)ctx)->statements++;
    return 0;
}

int64_t sr_store_statements(const sr_store *st)
{
    return st->statements;
}

/* sr_store_temp_in_memory(): a process-wide fact, set once at start. */
static bool temp_in_memory;

void sr_store_temp_in_memory(void)
{
    temp_in_memory = true;
}

void sr_store_limit_memory(int64_t bytes)
{
    sqlite3_soft_heap_limit64(bytes);
}

/* The URI of path that opens it immutable (no locks, no -wal or -shm);
 * malloc'd, NULL when out of memory. */
static char *immutable_uri(const char *path)
{
    static const char tail[] = "?immutable=1";
    char *uri = malloc(5 + 3 * strlen(path) + sizeof tail);
    if (!uri)
        return NULL;
    char *o = uri + sprintf(uri, "file:");
    for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            strchr("/._-~", *c))
            *o++ = (char)*c;
        else
            o += sprintf(o, "%%%02X", *c);
    }
    memcpy(o, tail, sizeof tail);
    return uri;
}

/* Whether the open of a reader failed because SQLite could not make the
 * -wal or -shm of path: SQLITE_READONLY_DIRECTORY, or SQLITE_CANTOPEN
 * without a -shm. */
static bool wal_unmade(sr_store *st, const char *path)
{
    int x = sqlite3_extended_errcode(st->db);
    if (x == SQLITE_READONLY_DIRECTORY)
        return true;
    char shm[sizeof st->path + 8];
    snprintf(shm, sizeof shm, "%s-shm", path);
    struct stat sb;
    return (x & 0xff) == SQLITE_CANTOPEN && lstat(shm, &sb) != 0 && errno == ENOENT;
}

/*
 * Whether a reader that cannot make the -wal and -shm of path may read the
 * file alone: 0 when there is no -wal or an empty one (every committed row
 * is in the file, and no writer has it open: a writer makes both), else
 * SR_EPERM with the store's message saying why not.
 */
static int wal_unneeded(sr_store *st, const char *path)
{
    char wal[sizeof st->path + 8];
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct stat sb;
    if ((lstat(wal, &sb) != 0 && errno == ENOENT) || (S_ISREG(sb.st_mode) && sb.st_size == 0))
        return 0;
    snprintf(st->errmsg, sizeof st->errmsg,
             "the cache's -wal holds rows that SQLite reads only through a -shm, which is missing "
             "and cannot be made there: the collector makes it when it starts");
    return SR_EPERM;
}

/*
 * Opens st's connection to path with SQLite's open flags oflags (immutable:
 * as a file nobody changes, for a reader of a folder it may not write) and
 * sets it up as st->flags ask; reads the header. Returns 0 or an error
 * code, with st->db kept for its error code.
 */
static int open_connection(sr_store *st, const char *path, int oflags, bool immutable)
{
    /* never through a symbolic link in the cache's own folder, which may be
     * shared: SQLITE_OPEN_NOFOLLOW refuses a link anywhere in the name, so it
     * is given the folder's real path (the folders above are their owners'
     * business) and the cache's own name; SQLite opens the -wal and -shm
     * with O_NOFOLLOW too */
    char *real = real_folder_path(path);
    char *uri = immutable ? immutable_uri(real ? real : path) : NULL;
    if (immutable && !uri) {
        free(real);
        return SR_ENOMEM;
    }
    int rc = sqlite3_open_v2(uri    ? uri
                             : real ? real
                                    : path,
                             &st->db,
                             oflags | SQLITE_OPEN_NOMUTEX | (real ? SQLITE_OPEN_NOFOLLOW : 0) |
                                 (uri ? SQLITE_OPEN_URI : 0),
                             NULL);
    free(uri);
    free(real);
    int err = 0;
    if (rc != SQLITE_OK)
        return st->db ? sql_err(st, rc) : SR_ENOMEM;
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_trace_v2(st->db, SQLITE_TRACE_STMT, count_statement, st);
    sqlite3_busy_timeout(st->db, BUSY_MS);
    /* the -wal and -shm stay when the last connection closes (no checkpoint
     * deletes them): a process that may not create files in the cache's
     * folder (app/trust.h) finds them there, made by the collector */
    int persist = 1;
    sqlite3_file_control(st->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
    /* before the viewer's authorizer, which refuses pragmas that set */
    if (temp_in_memory && (err = exec(st, "PRAGMA temp_store = MEMORY")))
        return err;
    /* a damaged page whose cells' sizes do not add up is SQLITE_CORRUPT
     * instead of a b-tree scan that stops early on a garbage key and gives a
     * partial figure (a count short by a fifth, exit 0); a few percent of a
     * read's time */
    if ((err = exec(st, "PRAGMA cell_size_check = ON")))
        return err;
    if (sqlite3_create_function(st->db, "sr_sketch_merge", 2,
                                SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
                                sql_sketch_merge, NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function(st->db, "sr_minutes_merge", 2,
                                SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
                                sql_minutes_merge, NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function(st->db, "sr_vals_merge", 2,
                                SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
                                sql_vals_merge, NULL, NULL) != SQLITE_OK) {
        return fail(st, SR_EIO);
    }
    if (st->flags & SR_STORE_READONLY) {
        /* a second guard below the API: SQLite refuses any write on this connection */
        if ((err = exec(st, "PRAGMA query_only = 1")))
            return err;
    } else if (st->flags & SR_STORE_VIEWER) {
        sqlite3_set_authorizer(st->db, viewer_authorizer, NULL);
    } else {
        /* a new file gets large pages: an hour cell with its minutes (up to ~3 KB)
         * then stays inside its page instead of spilling to overflow pages */
        if ((err = exec(st, "PRAGMA page_size = 16384")) ||
            (err = exec(st, "PRAGMA journal_mode = WAL")) ||
            (err = exec(st, "PRAGMA synchronous = NORMAL")) ||
            /* the -wal persists (above): a checkpoint that resets it cuts it back
             * to this, so a backfill's large -wal does not stay on disk */
            (err = exec(st, "PRAGMA journal_size_limit = 16777216")))
            return err;
    }
    /* the screen and the collector stay small; a bulk load buys speed with memory */
    if ((err = exec(st, (st->flags & SR_STORE_BULK) ? "PRAGMA cache_size = -65536"
                                                    : "PRAGMA cache_size = -4096")))
        return err;
    /* a quick look at the header: a file that is not a database fails here */
    if ((err = exec(st, "SELECT count(*) FROM sqlite_schema")))
        return err;
    /* a writer whose file SQLite opened read-only (its mode, or a read-only
     * file system) says so now rather than at its first write */
    if (!(st->flags & SR_STORE_READONLY) && sqlite3_db_readonly(st->db, "main") == 1) {
        snprintf(st->errmsg, sizeof st->errmsg, "the cache is read-only to this process");
        return SR_EPERM;
    }
    return 0;
}

int sr_store_open(const char *path, unsigned flags, sr_store **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    sr_store *st = calloc(1, sizeof *st);
    if (!st)
        return SR_ENOMEM;
    if ((flags & SR_STORE_READONLY) && (flags & SR_STORE_VIEWER))
        flags &= ~(unsigned)SR_STORE_VIEWER; /* read-only is the stronger of the two */
    st->flags = flags;
    st->accept_ahead_ms = SR_MS_DAY;
    st->touch_seen = -1;
    snprintf(st->path, sizeof st->path, "%s", path);
    int oflags = (flags & SR_STORE_READONLY) ? SQLITE_OPEN_READONLY
                 : (flags & SR_STORE_VIEWER) ? SQLITE_OPEN_READWRITE
                                             : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int err = open_connection(st, path, oflags, false);
    /* a reader of a folder it may not write, whose cache has no -wal and
     * -shm: SQLite cannot make them (SQLITE_READONLY_DIRECTORY), and the
     * file alone holds every row; read it as it is */
    if (err && (flags & SR_STORE_READONLY) && st->db && wal_unmade(st, path) &&
        (err = wal_unneeded(st, path)) == 0) {
        sqlite3_close_v2(st->db);
        st->db = NULL;
        st->errmsg[0] = 0;
        err = open_connection(st, path, oflags, true);
    }
    if (err)
        goto fail;
    if ((err = migrate(st)) || (err = prepare_all(st)) || (err = load_metrics(st)) ||
        (err = load_entities(st)) || (err = sr_store_changes(st, NULL, NULL)))
        goto fail;
    *out = st;
    return 0;
fail:
    if (errbuf)
        snprintf(errbuf, errlen, "%s: %s", path, st->errmsg[0] ? st->errmsg : sr_strerror(err));
    sr_store_close(st);
    return err ? err : SR_EIO;
}

/*
 * Forgets the entity table. The path strings are retired, not freed: callers
 * hold paths borrowed "until the store is closed" (sr_store_entity_path),
 * and a refresh or a rolled-back batch reloads the table under them.
 */
static void free_entities(sr_store *st)
{
    for (size_t i = 0; i < st->n_entities; i++) {
        char *p = st->entities[i].path;
        if (!p)
            continue;
        char **nr = realloc(st->retired, (st->n_retired + 1) * sizeof *nr);
        if (nr) {
            st->retired = nr;
            st->retired[st->n_retired++] = p;
        }
        /* out of memory: the string is kept (leaked) rather than left dangling */
    }
    free(st->entities);
    st->entities = NULL;
    st->n_entities = 0;
    st->cap_entities = 0;
    st->same_seen = 0;
    smap_fini(&st->entity_ids);
}

void sr_store_close(sr_store *st)
{
    if (!st)
        return;
    if (st->in_batch)
        sr_store_rollback(st);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    if (st->db)
        sqlite3_close_v2(st->db);
    free_entities(st);
    for (size_t i = 0; i < st->n_retired; i++)
        free(st->retired[i]);
    free(st->retired);
    free(st->metrics);
    free(st->seen);
    free(st->pend_keys);
    cells_fini(&st->cells);
    cells_fini(&st->up);
    sr_memo_destroy(st->memo);
    sr_memo_destroy(st->memo_recent);
    sr_stamps_destroy(st->stamps);
    sr_rawhours_destroy(st->rawhours);
    free(st->hour_buf);
    free(st);
}

/* Whether the memo may be used: not in a batch that has put or deleted
 * samples, whose rollups may lag them (no stamp would hold); a batch of
 * alerts only (the alerter's step) may. */
static bool memo_usable(const sr_store *st)
{
    if (!st->in_batch)
        return true;
    for (size_t i = 0; i < st->n_metrics; i++) {
        if (st->metrics[i].touched)
            return false;
    }
    return true;
}

/* A persisted entry larger than this is not believed (a damaged cache). */
#define MEMO_ENTRY_MAX (SR_STORE_MEMO_BYTES / 8)

/* The persisted entry of key with stamp (sr_memo_load_fn). */
static int memo_load(void *ctx, const sr_memo_key *key, const sr_memo_stamp *stamp, void **data,
                     size_t *len)
{
    sr_store *st = ctx;
    sqlite3_stmt *q = st->stmt[ST_MEMO_GET];
    const int64_t k[6] = {key->a, key->b, key->c, key->d, key->e, key->f};
    for (int i = 0; i < 6; i++)
        sqlite3_bind_int64(q, i + 1, k[i]);
    int rc = SR_ENOENT;
    if (sqlite3_step(q) == SQLITE_ROW) {
        double sum = sqlite3_column_double(q, 1);
        const void *v = sqlite3_column_blob(q, 2);
        size_t n = (size_t)sqlite3_column_bytes(q, 2);
        /* the sums compared bit for bit, as the memo does */
        if (sqlite3_column_int64(q, 0) == stamp->n && memcmp(&sum, &stamp->sum, sizeof sum) == 0 &&
            v && n > 0 && n <= MEMO_ENTRY_MAX) {
            if ((*data = malloc(n))) {
                memcpy(*data, v, n);
                *len = n;
                rc = 0;
            }
        }
    }
    sqlite3_reset(q);
    return rc;
}

sr_memo *sr_store_memo(sr_store *st)
{
    if (!memo_usable(st))
        return NULL;
    if (!st->memo && sr_memo_create(SR_STORE_MEMO_BYTES, &st->memo))
        st->memo = NULL;
    if (st->memo)
        sr_memo_set_load(st->memo, memo_load, st);
    return st->memo;
}

/* Writes one fresh entry (sr_memo_each_fn); a stamp without a number for
 * its sum (NaN: SQLite would keep NULL) is not kept. */
static int memo_save_cb(void *ctx, const sr_memo_key *key, const sr_memo_stamp *stamp,
                        const void *data, size_t len)
{
    sr_store *w = ctx;
    if (isnan(stamp->sum) || len == 0)
        return 0;
    sqlite3_stmt *q = w->stmt[ST_MEMO_PUT];
    const int64_t k[6] = {key->a, key->b, key->c, key->d, key->e, key->f};
    for (int i = 0; i < 6; i++)
        sqlite3_bind_int64(q, i + 1, k[i]);
    sqlite3_bind_int64(q, 7, stamp->n);
    sqlite3_bind_double(q, 8, stamp->sum);
    sqlite3_bind_blob(q, 9, data, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : sql_err(w, rc);
}

/* Stops at the first fresh entry (sr_memo_each_fn). */
static int memo_any_cb(void *ctx, const sr_memo_key *key, const sr_memo_stamp *stamp,
                       const void *data, size_t len)
{
    (void)ctx, (void)key, (void)stamp, (void)data, (void)len;
    return 1;
}

int sr_store_memo_save(sr_store *w, sr_store *from)
{
    if (w->flags & (SR_STORE_READONLY | SR_STORE_VIEWER))
        return SR_EINVAL;
    if (w->in_batch || w->in_read)
        return SR_EBUSY;
    if (!from->memo || sr_memo_each_fresh(from->memo, memo_any_cb, NULL) == 0)
        return 0; /* nothing new: no transaction */
    /* never waiting for another writer (a dashboard saves on its loop
     * thread): busy, the entries stay fresh for the next time */
    sqlite3_busy_timeout(w->db, 0);
    int rc = exec(w, "BEGIN IMMEDIATE");
    sqlite3_busy_timeout(w->db, BUSY_MS);
    if (rc)
        return rc;
    if ((rc = sr_memo_each_fresh(from->memo, memo_save_cb, w))) {
        exec(w, "ROLLBACK");
        return rc;
    }
    return exec(w, "COMMIT");
}

sr_memo *sr_store_memo_recent(sr_store *st)
{
    if (!memo_usable(st))
        return NULL;
    if (!st->memo_recent && sr_memo_create(SR_STORE_MEMO_RECENT_BYTES, &st->memo_recent))
        st->memo_recent = NULL;
    return st->memo_recent;
}

int sr_store_check(sr_store *st, int max, void (*cb)(void *ctx, const char *finding), void *ctx,
                   int *found)
{
    *found = 0;
    char sql[48];
    snprintf(sql, sizeof sql, "PRAGMA quick_check(%d)", max > 0 ? max : 1);
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        if ((rc = sqlite3_step(q)) != SQLITE_ROW)
            break;
        const char *text = (const char *)sqlite3_column_text(q, 0);
        if (!text || strcmp(text, "ok") == 0)
            continue;
        /* a row may hold several findings, a line each */
        for (const char *at = text; *at;) {
            size_t len = strcspn(at, "\n");
            char line[512];
            snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1),
                     at);
            if (line[0] && strncmp(line, "*** in database", 15) != 0) {
                ++*found;
                cb(ctx, line);
            }
            at += len + (at[len] == '\n');
        }
    }
    sqlite3_finalize(q);
    if (rc == SQLITE_DONE)
        return 0;
    int err = sql_err(st, rc);
    if (err != SR_ECORRUPT)
        return err;
    ++*found;
    cb(ctx, st->errmsg);
    return 0;
}

const char *sr_store_errmsg(const sr_store *st)
{
    return st->errmsg;
}

int sr_store_schema_version(sr_store *st, int *out)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK)
        return fail(st, SR_EIO);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? 0 : sql_err(st, rc);
}

/* ---- metrics ---- */

static int load_metrics(sr_store *st)
{
    sqlite3_stmt *q = stmt(st, ST_METRICS);
    if (!q)
        return fail(st, SR_EIO);
    /* the old list until the new one is read: what this transaction touched carries over */
    metric_rec *old = st->metrics;
    size_t n_old = st->n_metrics;
    st->metrics = NULL;
    st->n_metrics = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        metric_rec *nm = realloc(st->metrics, (st->n_metrics + 1) * sizeof *nm);
        if (!nm) {
            sqlite3_reset(q);
            free(old);
            return SR_ENOMEM;
        }
        st->metrics = nm;
        metric_rec *m = &st->metrics[st->n_metrics++];
        memset(m, 0, sizeof *m);
        m->id = sqlite3_column_int64(q, 0);
        snprintf(m->name, sizeof m->name, "%s", (const char *)sqlite3_column_text(q, 1));
        m->kind = (sr_kind)sqlite3_column_int(q, 2);
        for (size_t i = 0; i < n_old; i++) {
            if (old[i].id == m->id)
                m->touched = old[i].touched;
            m->touch_lo = old[i].touch_lo;
            m->touch_hi = old[i].touch_hi;
        }
    }
    free(old);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : sql_err(st, rc);
}

/* Reads every metric's change counter (at open with cb NULL: the
 * baseline) and keeps them as seen. */
int sr_store_changes(sr_store *st, sr_store_changed_fn cb, void *ctx)
{
    sqlite3_stmt *q = stmt(st, ST_CHANGES);
    if (!q)
        return fail(st, SR_EIO);
    seen_rec *v = NULL;
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        seen_rec *nv = realloc(v, (n + 1) * sizeof *nv);
        if (!nv) {
            rc = SR_ENOMEM;
            break;
        }
        v = nv;
        seen_rec r = {sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 2)};
        v[n++] = r;
        bool same = false;
        for (size_t i = 0; i < st->n_seen && !same; i++)
            same = st->seen[i].id == r.id && st->seen[i].changes == r.changes;
        if (!same && cb)
            cb(ctx, (const char *)sqlite3_column_text(q, 1));
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        free(v);
        return rc == SR_ENOMEM ? rc : sql_err(st, rc);
    }
    free(st->seen);
    st->seen = v;
    st->n_seen = n;
    return 0;
}

/* Adds one to the change counter of every metric this transaction touched. */
static int bump_changes(sr_store *st)
{
    for (size_t i = 0; i < st->n_metrics; i++) {
        metric_rec *m = &st->metrics[i];
        if (!m->touched)
            continue;
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(st->db, "UPDATE metric SET changes = changes + 1 WHERE id = ?1", -1,
                               &q, NULL) != SQLITE_OK)
            return fail(st, SR_EIO);
        sqlite3_bind_int64(q, 1, m->id);
        int rc = sqlite3_step(q);
        sqlite3_finalize(q);
        if (rc != SQLITE_DONE)
            return sql_err(st, rc);
        if (sqlite3_prepare_v2(st->db, "INSERT INTO touch(metric, lo, hi) VALUES (?1, ?2, ?3)", -1,
                               &q, NULL) != SQLITE_OK)
            return fail(st, SR_EIO);
        sqlite3_bind_int64(q, 1, m->id);
        sqlite3_bind_int64(q, 2, m->touch_lo);
        sqlite3_bind_int64(q, 3, m->touch_hi);
        rc = sqlite3_step(q);
        sqlite3_finalize(q);
        if (rc != SQLITE_DONE)
            return sql_err(st, rc);
        if (sqlite3_last_insert_rowid(st->db) % 256 == 0) {
            char sql[96];
            snprintf(sql, sizeof sql, "DELETE FROM touch WHERE seq <= %lld",
                     (long long)(sqlite3_last_insert_rowid(st->db) - TOUCH_KEEP));
            if ((rc = exec(st, sql)))
                return rc;
        }
    }
    return 0;
}

/* Samples of m at the times [lo, hi] were stored or deleted. */
static void mark_touched(metric_rec *m, sr_ms lo, sr_ms hi)
{
    if (!m->touched) {
        m->touched = 1;
        m->touch_lo = lo;
        m->touch_hi = hi;
        return;
    }
    m->touch_lo = lo < m->touch_lo ? lo : m->touch_lo;
    m->touch_hi = hi > m->touch_hi ? hi : m->touch_hi;
}

/* Takes in the `touch` rows this handle has not seen: their hours are read
 * again at their next use (stamps.h); a gap (rows pruned) forgets all. */
static int take_touches(sr_store *st)
{
    bool first = st->touch_seen < 0;
    sqlite3_stmt *q = stmt(st, first ? ST_TOUCH_MAX : ST_TOUCH_NEW);
    if (!q)
        return fail(st, SR_EIO);
    if (!first)
        sqlite3_bind_int64(q, 1, st->touch_seen);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(q, 0);
        if (first) {
            st->touch_seen = seq; /* 0 when empty */
            continue;
        }
        int64_t metric = sqlite3_column_int64(q, 1);
        sr_ms lo = sqlite3_column_int64(q, 2), hi = sqlite3_column_int64(q, 3);
        if (seq != st->touch_seen + 1 && st->stamps)
            sr_stamps_clear(st->stamps);
        if (seq != st->touch_seen + 1 && st->rawhours)
            sr_rawhours_clear(st->rawhours);
        if (st->stamps)
            sr_stamps_changed(st->stamps, metric, lo, hi);
        if (st->rawhours)
            sr_rawhours_changed(st->rawhours, metric, lo, hi);
        st->touch_seen = seq;
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : sql_err(st, rc);
}

static void untouch(sr_store *st)
{
    for (size_t i = 0; i < st->n_metrics; i++)
        st->metrics[i].touched = 0;
}

static metric_rec *find_metric(sr_store *st, const char *name)
{
    for (size_t i = 0; i < st->n_metrics; i++) {
        if (strcmp(st->metrics[i].name, name) == 0)
            return &st->metrics[i];
    }
    return NULL;
}

int sr_store_define_metric(sr_store *st, const char *name, sr_kind kind)
{
    if (!name || !*name || strlen(name) >= SR_NAME_MAX)
        return SR_EINVAL;
    const metric_rec *m = find_metric(st, name);
    if (m && m->kind == kind)
        return 0;
    if (st->flags & (SR_STORE_READONLY | SR_STORE_VIEWER))
        return m ? 0 : SR_ENOENT;
    sqlite3_stmt *q;
    const char *sql = m ? "UPDATE metric SET kind = ?2 WHERE name = ?1"
                        : "INSERT INTO metric(name, kind) VALUES (?1, ?2)";
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
        return fail(st, SR_EIO);
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, (int)kind);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return sql_err(st, rc);
    return load_metrics(st);
}

int sr_store_metric_id(sr_store *st, const char *name, int64_t *id)
{
    const metric_rec *m = find_metric(st, name);
    if (!m && (st->flags & SR_STORE_READONLY)) {
        int rc = load_metrics(st);
        if (rc)
            return rc;
        m = find_metric(st, name);
    }
    if (!m)
        return SR_ENOENT;
    *id = m->id;
    return 0;
}

/* ---- entities ---- */

static int entity_slot(sr_store *st, int64_t id)
{
    if (id < 0 || id > (int64_t)1 << 40)
        return SR_ERANGE;
    size_t n = (size_t)id + 1;
    if (n > st->cap_entities) {
        size_t cap = st->cap_entities ? st->cap_entities : 16;
        while (cap < n)
            cap *= 2;
        entity_rec *ne = realloc(st->entities, cap * sizeof *ne);
        if (!ne)
            return SR_ENOMEM;
        memset(ne + st->cap_entities, 0, (cap - st->cap_entities) * sizeof *ne);
        st->entities = ne;
        st->cap_entities = cap;
    }
    if (n > st->n_entities)
        st->n_entities = n;
    return 0;
}

/* Loads the entity rows with id >= from_id into the table (entities are
 * only ever added: an id's path and parent never change). */
static int load_entity_rows(sr_store *st, int64_t from_id)
{
    sqlite3_stmt *q = stmt(st, ST_ENTITY_ROWS);
    if (!q)
        return fail(st, SR_EIO);
    sqlite3_bind_int64(q, 1, from_id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        const char *path = (const char *)sqlite3_column_text(q, 1);
        int err = entity_slot(st, id);
        if (!err && st->entities[id].path)
            continue; /* known already */
        if (!err && !(st->entities[id].path = strdup(path ? path : "")))
            err = SR_ENOMEM;
        if (!err)
            err = smap_put(&st->entity_ids, path ? path : "", id);
        if (err) {
            sqlite3_reset(q);
            return err;
        }
        st->entities[id].parent = sqlite3_column_int64(q, 2);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return sql_err(st, rc);
    return sr_store_data_version(st, &st->entity_version);
}

static int load_entities(sr_store *st)
{
    free_entities(st);
    if (entity_slot(st, 0))
        return SR_ENOMEM;
    st->entities[0].path = strdup("");
    st->entities[0].parent = -1;
    if (!st->entities[0].path)
        return SR_ENOMEM;
    return load_entity_rows(st, 1);
}

int sr_store_refresh(sr_store *st)
{
    int64_t v;
    int rc = sr_store_data_version(st, &v);
    if (rc || v == st->entity_version)
        return rc;
    if ((rc = load_metrics(st)))
        return rc;
    /* only the entities added since: a full reload would retire every path
     * (they stay valid until close) and grow with every refresh */
    return load_entity_rows(st, (int64_t)st->n_entities);
}

/* A path is non-empty segments joined by '/', at most 1 KiB. */
static int valid_path(const char *p)
{
    size_t len = strlen(p);
    if (len == 0 || len > 1024 || p[0] == '/' || p[len - 1] == '/' || strstr(p, "//"))
        return 0;
    return 1;
}

/* Id of path, creating it and its ancestors inside the current batch. */
static int entity_ensure(sr_store *st, const char *path, int64_t *out)
{
    int64_t id = smap_get(&st->entity_ids, path);
    if (id >= 0) {
        *out = id;
        return 0;
    }
    int64_t parent = SR_ENTITY_ROOT;
    const char *slash = strrchr(path, '/');
    if (slash) {
        char buf[1100];
        size_t n = (size_t)(slash - path);
        memcpy(buf, path, n);
        buf[n] = 0;
        int rc = entity_ensure(st, buf, &parent);
        if (rc)
            return rc;
    }
    sqlite3_stmt *q = st->stmt[ST_ENTITY_INSERT];
    sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, parent);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return sql_err(st, rc);
    id = sqlite3_last_insert_rowid(st->db);
    if ((rc = entity_slot(st, id)))
        return rc;
    if (!(st->entities[id].path = strdup(path)))
        return SR_ENOMEM;
    st->entities[id].parent = parent;
    *out = id;
    return smap_put(&st->entity_ids, path, id);
}

int sr_store_entity_id(sr_store *st, const char *path, int64_t *id)
{
    if (!path || !*path) {
        *id = SR_ENTITY_ROOT;
        return 0;
    }
    int64_t v = smap_get(&st->entity_ids, path);
    if (v < 0) {
        int rc = sr_store_refresh(st);
        if (rc)
            return rc;
        v = smap_get(&st->entity_ids, path);
    }
    if (v < 0)
        return SR_ENOENT;
    *id = v;
    return 0;
}

const char *sr_store_entity_path(sr_store *st, int64_t id)
{
    if (id < 0 || (size_t)id >= st->n_entities || !st->entities[id].path)
        return NULL;
    return st->entities[id].path;
}

static int cmp_entity_path(const void *a, const void *b, void *ctx)
{
    sr_store *st = ctx;
    return strcmp(st->entities[*(const int64_t *)a].path, st->entities[*(const int64_t *)b].path);
}

int sr_store_entity_children(sr_store *st, int64_t id, int64_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    size_t cap = 0;
    for (size_t i = 1; i < st->n_entities; i++) {
        if (!st->entities[i].path || st->entities[i].parent != id)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            int64_t *nv = realloc(*ids, cap * sizeof *nv);
            if (!nv) {
                free(*ids);
                *ids = NULL;
                *n = 0;
                return SR_ENOMEM;
            }
            *ids = nv;
        }
        (*ids)[(*n)++] = (int64_t)i;
    }
    if (*n > 1)
        qsort_r(*ids, *n, sizeof **ids, cmp_entity_path, st);
    return 0;
}

bool sr_store_entity_under(sr_store *st, int64_t e, int64_t node)
{
    if (node == SR_ENTITY_ROOT)
        return e >= 0 && (size_t)e < st->n_entities && st->entities[e].path;
    for (int depth = 0; e > 0 && (size_t)e < st->n_entities && depth < 512; depth++) {
        if (e == node)
            return true;
        e = st->entities[e].parent;
    }
    return false;
}

int64_t sr_store_entity_same(sr_store *st, int64_t node)
{
    if (!st->in_read || node == SR_ENTITY_ROOT || (size_t)node >= st->n_entities ||
        st->entities[node].parent != SR_ENTITY_ROOT)
        return node;
    if (st->same_seen != st->n_entities) {
        /* entities are only ever added (ids grow): look again when one is */
        st->same_root = SR_ENTITY_ROOT;
        for (size_t i = 1; i < st->n_entities; i++) {
            if (!st->entities[i].path || st->entities[i].parent != SR_ENTITY_ROOT)
                continue;
            if (st->same_root != SR_ENTITY_ROOT) {
                st->same_root = SR_ENTITY_ROOT;
                break;
            }
            st->same_root = (int64_t)i;
        }
        st->same_seen = st->n_entities;
    }
    return node == st->same_root ? SR_ENTITY_ROOT : node;
}

int sr_store_subtree_mask(sr_store *st, int64_t node, unsigned char **mask, int64_t *n)
{
    *n = (int64_t)st->n_entities;
    *mask = calloc(st->n_entities + 1, 1);
    if (!*mask)
        return SR_ENOMEM;
    unsigned char *m = *mask;
    /* one pass in id order: a parent is made before its children (and so
     * has a smaller id), so its mark is known when a child's is asked */
    for (size_t e = 1; e < st->n_entities; e++) {
        const entity_rec *r = &st->entities[e];
        if (!r->path)
            continue;
        if (node == SR_ENTITY_ROOT || (int64_t)e == node)
            m[e] = 1;
        else if (r->parent > 0 && (size_t)r->parent < e)
            m[e] = m[r->parent];
        else
            m[e] = sr_store_entity_under(st, (int64_t)e, node);
    }
    return 0;
}

bool sr_store_entity_is_leaf(sr_store *st, int64_t e)
{
    for (size_t i = 1; i < st->n_entities; i++) {
        if (st->entities[i].path && st->entities[i].parent == e)
            return false;
    }
    return true;
}

int64_t sr_store_entity_limit(sr_store *st)
{
    return (int64_t)st->n_entities;
}

/* ---- batches ---- */

int sr_store_begin(sr_store *st)
{
    /* a viewer's writer may group an acknowledgement and its audit row in
     * one transaction; what it may write inside stays limited */
    if (st->flags & SR_STORE_READONLY)
        return SR_EINVAL;
    if (st->in_batch || st->in_read)
        return SR_EINVAL;
    int rc = exec(st, "BEGIN IMMEDIATE");
    if (rc)
        return rc;
    st->in_batch = 1;
    untouch(st);
    /* other processes may have written since the last transaction */
    for (size_t i = 0; i < st->n_metrics; i++)
        st->metrics[i].max_known = 0;
    return 0;
}

/* Encodes a cell's sketch and values (NULL when it keeps none). */
static int encode_cell(const cell *c, unsigned char **sk, size_t *sk_len, unsigned char **vb,
                       size_t *vb_len)
{
    *sk = *vb = NULL;
    *sk_len = *vb_len = 0;
    if (c->sketch && sr_sketch_count(c->sketch) > 0 && sr_sketch_encode(c->sketch, sk, sk_len))
        return SR_ENOMEM;
    if (c->nvals && c->nvals <= SR_ROLLUP_VALUES_MAX &&
        sr_vals_encode(c->vals, c->nvals, vb, vb_len)) {
        free(*sk);
        *sk = NULL;
        return SR_ENOMEM;
    }
    return 0;
}

static void bind_blob(sqlite3_stmt *q, int i, unsigned char *b, size_t len, int owned)
{
    if (b)
        sqlite3_bind_blob(q, i, b, (int)len, owned ? free : SQLITE_STATIC);
    else
        sqlite3_bind_null(q, i);
}

/*
 * Upserts one cell, merging it into the stored one: its key, and the
 * figures of its twin when it has one (cells.h). A cell that is a twin
 * keeps its blobs until the flush is over; others' go with the statement.
 */
static int write_cell(sr_store *st, cell *key)
{
    cell *c = key->twin ? key->twin : key;
    sqlite3_stmt *q = st->stmt[ST_ROLLUP_UPSERT];
    unsigned char *sk, *vb;
    size_t sk_len, vb_len;
    if (c->has_twin && (c->sketch_blob || c->vals_blob)) {
        sk = c->sketch_blob;
        sk_len = c->sketch_len;
        vb = c->vals_blob;
        vb_len = c->vals_len;
    } else {
        sr_vals_sort(c->vals, c->nvals); /* the root's own cell's (cells_roll_up: the others) */
        if (encode_cell(c, &sk, &sk_len, &vb, &vb_len))
            return SR_ENOMEM;
        if (c->has_twin) {
            c->sketch_blob = sk;
            c->sketch_len = sk_len;
            c->vals_blob = vb;
            c->vals_len = vb_len;
        }
    }
    sqlite3_bind_int64(q, 1, key->metric);
    sqlite3_bind_int64(q, 2, key->node);
    sqlite3_bind_int64(q, 3, key->bucket);
    sqlite3_bind_int64(q, 4, c->n);
    sqlite3_bind_double(q, 5, c->sum);
    sqlite3_bind_double(q, 6, c->min);
    sqlite3_bind_double(q, 7, c->max);
    sqlite3_bind_int64(q, 8, c->last_ts);
    sqlite3_bind_double(q, 9, c->last);
    bind_blob(q, 10, sk, sk_len, !c->has_twin);
    unsigned char mb[CELLS_MINUTES_MAX];
    bind_blob(q, 11, c->nmins ? mb : NULL, cells_minutes_encode(c->mins, c->nmins, mb), 0);
    bind_blob(q, 12, vb, vb_len, !c->has_twin);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return rc == SQLITE_DONE ? 0 : sql_err(st, rc);
}

static int cmp_cell_key(const void *a, const void *b)
{
    const cell *x = *(const cell *const *)a, *y = *(const cell *const *)b;
    if (x->metric != y->metric)
        return x->metric < y->metric ? -1 : 1;
    if (x->node != y->node)
        return x->node < y->node ? -1 : 1;
    return x->bucket < y->bucket ? -1 : x->bucket > y->bucket;
}

/*
 * Upserts every cell of a map, then empties it. The cells go in the order
 * of the rollup's key, so that each insert lands next to the one before
 * rather than anywhere in the table.
 */
static int write_cells(sr_store *st, cellmap *m)
{
    cell **order = malloc((m->len ? m->len : 1) * sizeof *order);
    if (!order)
        return SR_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->v[i].used)
            order[n++] = &m->v[i];
    }
    qsort(order, n, sizeof *order, cmp_cell_key);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = write_cell(st, order[i]);
    free(order);
    if (!rc)
        cells_clear(m);
    return rc;
}

static int64_t entity_parent(void *ctx, int64_t node)
{
    const sr_store *st = ctx;
    return st->entities[node].parent;
}

/* Rolls the batch's cells up the tree (cells.c) and writes them all. */
static int flush_cells(sr_store *st)
{
    int rc = cells_roll_up(&st->cells, &st->up, entity_parent, st);
    if (!rc)
        rc = write_cells(st, &st->cells);
    return rc ? rc : write_cells(st, &st->up);
}

int sr_store_read_begin(sr_store *st)
{
    if (st->in_batch || st->in_read)
        return SR_EINVAL;
    int rc = exec_kept(st, ST_READ_BEGIN);
    if (rc)
        return rc;
    st->in_read = 1;
    /* the first read takes the snapshot: the entities it holds that this
     * handle has not seen yet (sr_store_entity_same answers from them), and
     * the times commits touched since the last one (stamps.h) */
    if ((rc = load_entity_rows(st, (int64_t)st->n_entities)) || (rc = take_touches(st))) {
        sr_store_read_end(st);
        return rc;
    }
    return 0;
}

void sr_store_read_end(sr_store *st)
{
    if (!st->in_read)
        return;
    exec_kept(st, ST_READ_END);
    st->in_read = 0;
}

int sr_store_commit(sr_store *st)
{
    if (!st->in_batch)
        return SR_EINVAL;
    int rc = pend_flush(st);
    if (!rc)
        rc = flush_cells(st);
    if (!rc)
        rc = bump_changes(st);
    if (!rc)
        rc = exec(st, "COMMIT");
    if (rc) {
        sr_store_rollback(st);
        return rc;
    }
    st->in_batch = 0;
    untouch(st);
    return 0;
}

void sr_store_rollback(sr_store *st)
{
    if (!st->in_batch)
        return;
    /* SQLite has rolled back already after some errors (a full disk): then
     * there is nothing to roll back, and the message of why stays */
    if (!sqlite3_get_autocommit(st->db)) {
        char why[sizeof st->errmsg];
        memcpy(why, st->errmsg, sizeof why);
        exec(st, "ROLLBACK");
        memcpy(st->errmsg, why, sizeof why);
    }
    st->in_batch = 0;
    st->n_pend = 0;
    st->keys_len = 0;
    cells_clear(&st->cells);
    cells_clear(&st->up);
    untouch(st);
    /* ids handed out in the failed transaction are gone */
    load_entities(st);
}

/*
 * Rollups of one stored sample, into its entity's hour cell: events and
 * counters with minutes (events with their values, and so a sketch), to be rolled up to the
 * ancestors at flush; gauges without, and never rolled up.
 */
static int accumulate(sr_store *st, const metric_rec *m, int64_t entity, sr_ms ts, double v)
{
    if (m->kind == SR_KIND_GAUGE)
        return cells_add(&st->cells, m->id, entity, ts, v, 0, 0);
    return cells_add(&st->cells, m->id, entity, ts, v, m->kind == SR_KIND_EVENT, 1);
}

static void bind_sample(sr_store *st, sqlite3_stmt *q, int at, const pending *p)
{
    sqlite3_bind_int64(q, at + 1, p->metric);
    sqlite3_bind_int64(q, at + 2, p->ts);
    sqlite3_bind_int64(q, at + 3, p->entity);
    sqlite3_bind_int64(q, at + 4, p->dedup);
    sqlite3_bind_double(q, at + 5, p->value);
    if (p->key)
        sqlite3_bind_text(q, at + 6, st->pend_keys + p->key - 1, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, at + 6);
}

/*
 * Inserts the pending samples: a full set with one statement, whose B-tree
 * cursor then walks along the right edge of the table instead of seeking
 * from the root for every row; a partial set row by row. Every one of them
 * is new (is_new), so each insert must store a row.
 */
static int pend_flush(sr_store *st)
{
    int n = st->n_pend, rows = n == PEND_ROWS ? PEND_ROWS : 1, rc = 0;
    sqlite3_stmt *q = st->stmt[rows == PEND_ROWS ? ST_INSERT_MANY : ST_INSERT];
    for (int i = 0; i < n && !rc; i += rows) {
        for (int r = 0; r < rows; r++)
            bind_sample(st, q, 6 * r, &st->pend[i + r]);
        int step = sqlite3_step(q);
        sqlite3_reset(q);
        if (step != SQLITE_DONE) {
            rc = sql_err(st, step);
        } else if (sqlite3_changes(st->db) != rows) {
            snprintf(st->errmsg, sizeof st->errmsg, "a sample taken for new was already stored");
            rc = SR_EIO;
        }
    }
    st->n_pend = 0;
    st->keys_len = 0;
    return rc;
}

/*
 * Whether a sample of metric m at ts (entity, dedup) cannot be stored
 * already: it is newer than every stored sample of m, or as new as the
 * newest and none of those stored at that time is it. The newest time is
 * read once per transaction (no other process writes during one), and is
 * then kept up to date by sr_store_put.
 */
static int is_new(sr_store *st, metric_rec *m, sr_ms ts, int64_t entity, int64_t dedup, bool *out)
{
    *out = false;
    if (!m->max_known) {
        int rc = pend_flush(st);
        if (rc)
            return rc;
        sqlite3_stmt *q = st->stmt[ST_MAX_TS];
        sqlite3_bind_int64(q, 1, m->id);
        rc = sqlite3_step(q);
        bool none = rc == SQLITE_ROW && sqlite3_column_type(q, 0) == SQLITE_NULL;
        sr_ms max = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
        sqlite3_reset(q);
        if (rc != SQLITE_ROW)
            return sql_err(st, rc);
        m->max_known = 1;
        m->max_ts = none ? INT64_MIN : max;
        m->at_max_all = none; /* the samples at a stored newest time are unknown */
        m->n_at_max = 0;
    }
    if (ts > m->max_ts) {
        m->max_ts = ts;
        m->at_max_all = 1;
        m->n_at_max = 0;
    } else if (ts < m->max_ts || !m->at_max_all || m->n_at_max == AT_MAX) {
        return 0;
    } else {
        for (int i = 0; i < m->n_at_max; i++) {
            if (m->at_max[i][0] == entity && m->at_max[i][1] == dedup)
                return 0;
        }
    }
    m->at_max[m->n_at_max][0] = entity;
    m->at_max[m->n_at_max][1] = dedup;
    m->n_at_max++;
    *out = true;
    return 0;
}

/* Queues a sample known to be new for the next multi-row insert. */
static int pend_add(sr_store *st, const pending *p, const char *key)
{
    pending *d = &st->pend[st->n_pend];
    *d = *p;
    if (key) {
        size_t n = strlen(key) + 1;
        if (st->keys_len + n > st->keys_cap) {
            size_t cap = st->keys_cap ? st->keys_cap : 4096;
            while (cap < st->keys_len + n)
                cap *= 2;
            char *k = realloc(st->pend_keys, cap);
            if (!k)
                return SR_ENOMEM;
            st->pend_keys = k;
            st->keys_cap = cap;
        }
        memcpy(st->pend_keys + st->keys_len, key, n);
        d->key = st->keys_len + 1;
        st->keys_len += n;
    }
    return ++st->n_pend == PEND_ROWS ? pend_flush(st) : 0;
}

void sr_store_set_accept_ahead(sr_store *st, sr_ms ahead_ms)
{
    st->accept_ahead_ms = ahead_ms < 0 ? 0 : ahead_ms;
}

const char *sr_store_sample_fault(sr_store *st, const sr_sample *s, char *buf, size_t len)
{
    const metric_rec *m = s->metric ? find_metric(st, s->metric) : NULL;
    if (m && m->kind == SR_KIND_RATIO)
        snprintf(buf, len, "metric %s is a ratio, computed from two others, never fed", s->metric);
    else if (!s->entity || !*s->entity)
        snprintf(buf, len, "empty entity");
    else if (!valid_path(s->entity))
        snprintf(buf, len, "malformed entity path");
    else if (!isfinite(s->value))
        snprintf(buf, len, "value not finite");
    else if (fabs(s->value) > SR_VALUE_MAX)
        snprintf(buf, len, "value %g beyond +-1e15, more than any count, time or amount", s->value);
    else {
        sr_ms latest = sr_now_ms() + st->accept_ahead_ms;
        if (s->ts_ms >= 0 && s->ts_ms <= latest)
            return NULL;
        /* the time as a date, whatever its year */
        time_t secs = (time_t)(s->ts_ms / 1000 - (s->ts_ms % 1000 < 0));
        struct tm tm;
        char when[64] = "?";
        if (gmtime_r(&secs, &tm))
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (s->ts_ms < 0) {
            snprintf(buf, len, "time %s is before 1970-01-01", when);
        } else {
            char ahead[32];
            sr_format_duration(st->accept_ahead_ms, ahead, sizeof ahead);
            snprintf(buf, len, "time %s is more than %s ahead of the clock ([sitrep] accept_ahead)",
                     when, ahead);
        }
    }
    return buf;
}

/*
 * A sample that may be a duplicate is inserted at once, after the pending
 * ones (one of which it may repeat), and INSERT OR IGNORE tells. A sample
 * that cannot be one (is_new: in practice every sample of a file or a
 * source read in time order) is queued and inserted PEND_ROWS at a time,
 * which is several times cheaper; its rollups are accumulated at once all
 * the same, and the queue is flushed before anything reads the table.
 */
int sr_store_put(sr_store *st, const sr_sample *s, bool *duplicate)
{
    *duplicate = false;
    if (!st->in_batch)
        return SR_EINVAL;
    metric_rec *m = s->metric ? find_metric(st, s->metric) : NULL;
    if (!m)
        return SR_ENOENT;
    char why[160];
    if (sr_store_sample_fault(st, s, why, sizeof why))
        return SR_EINVAL;
    int64_t entity;
    int rc = entity_ensure(st, s->entity, &entity);
    if (rc)
        return rc;
    uint64_t dedup;
    const char *key = s->key && *s->key ? s->key : NULL;
    if (key) {
        dedup = hash_str(key);
    } else {
        double v = s->value == 0 ? 0.0 : s->value; /* -0 and 0 are the same sample */
        dedup = hash_bytes(&v, sizeof v, 0x84222325cbf29ce4ULL);
    }
    pending p = {m->id, s->ts_ms, entity, (int64_t)dedup, s->value, 0};
    bool fresh;
    if ((rc = is_new(st, m, s->ts_ms, entity, p.dedup, &fresh)))
        return rc;
    if (fresh) {
        if ((rc = pend_add(st, &p, key)))
            return rc;
        mark_touched(m, s->ts_ms, s->ts_ms);
        return accumulate(st, m, entity, s->ts_ms, s->value);
    }
    if (s->ts_ms == m->max_ts)
        m->at_max_all = 0; /* it may be stored now, and is not remembered */
    if ((rc = pend_flush(st)))
        return rc;
    sqlite3_stmt *q = st->stmt[ST_INSERT];
    bind_sample(st, q, 0, &p);
    if (key)
        sqlite3_bind_text(q, 6, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return sql_err(st, rc);
    if (sqlite3_changes(st->db) == 0) {
        *duplicate = true;
        return 0;
    }
    mark_touched(m, s->ts_ms, s->ts_ms);
    return accumulate(st, m, entity, s->ts_ms, s->value);
}

int sr_store_reject(sr_store *st, const char *source, const char *where, const char *raw,
                    const char *reason, bool *duplicate)
{
    if (duplicate)
        *duplicate = false;
    if (!st->in_batch)
        return SR_EINVAL;
    sqlite3_stmt *q = st->stmt[ST_REJECT];
    sqlite3_bind_text(q, 1, source ? source : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, sr_now_ms());
    sqlite3_bind_text(q, 3, where, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, raw, raw ? (int)strnlen(raw, 4096) : -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, reason ? reason : "rejected", -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc == SQLITE_DONE && duplicate)
        *duplicate = sqlite3_changes(st->db) == 0;
    return rc == SQLITE_DONE ? 0 : sql_err(st, rc);
}

/* Rebuilds every rollup from raw samples (migration to v2, and repair). */
static int rebuild_rollups(sr_store *st)
{
    int rc;
    if ((rc = pend_flush(st)) || (rc = exec(st, "DELETE FROM rollup")) || (rc = load_metrics(st)) ||
        (rc = load_entities(st)))
        return rc;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "SELECT metric, ts, entity, value FROM sample", -1, &q, NULL) !=
        SQLITE_OK)
        return fail(st, SR_EIO);
    if (!st->stmt[ST_ROLLUP_UPSERT] &&
        sqlite3_prepare_v3(st->db, stmt_sql[ST_ROLLUP_UPSERT], -1, SQLITE_PREPARE_PERSISTENT,
                           &st->stmt[ST_ROLLUP_UPSERT], NULL) != SQLITE_OK) {
        sqlite3_finalize(q);
        return fail(st, SR_EIO);
    }
    int64_t rows = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t mid = sqlite3_column_int64(q, 0);
        const metric_rec *m = NULL;
        for (size_t i = 0; i < st->n_metrics; i++) {
            if (st->metrics[i].id == mid)
                m = &st->metrics[i];
        }
        int64_t e = sqlite3_column_int64(q, 2);
        if (!m || e <= 0 || (size_t)e >= st->n_entities || !st->entities[e].path)
            continue;
        int err = accumulate(st, m, e, sqlite3_column_int64(q, 1), sqlite3_column_double(q, 3));
        if (!err && ++rows % 100000 == 0)
            err = flush_cells(st);
        if (err) {
            sqlite3_finalize(q);
            return err;
        }
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return sql_err(st, rc);
    return flush_cells(st);
}

int sr_store_retain(sr_store *st, sr_ms cutoff_ms, int64_t *deleted)
{
    *deleted = 0;
    if (st->flags & (SR_STORE_READONLY | SR_STORE_VIEWER))
        return SR_EINVAL;
    int own = !st->in_batch;
    int rc;
    if (own ? (rc = sr_store_begin(st)) : (rc = pend_flush(st)))
        return rc;
    static const char *const sql[] = {
        "DELETE FROM sample WHERE metric = ?1 AND ts < ?2",
        "DELETE FROM rollup WHERE metric = ?1 AND bucket < ?2",
        /* the persisted figures of slices that start before it (memo.h) */
        "DELETE FROM memo WHERE b = ?1 AND d < ?2",
    };
    for (size_t m = 0; m < st->n_metrics; m++) {
        for (size_t i = 0; i < 3; i++) {
            sqlite3_stmt *q;
            if (sqlite3_prepare_v2(st->db, sql[i], -1, &q, NULL) != SQLITE_OK) {
                rc = fail(st, SR_EIO);
                goto out;
            }
            sqlite3_bind_int64(q, 1, st->metrics[m].id);
            /* a rollup bucket is dropped only when it ends before the cutoff */
            sqlite3_bind_int64(q, 2, i == 0 ? cutoff_ms : sr_floor_ms(cutoff_ms, SR_MS_HOUR));
            rc = sqlite3_step(q);
            sqlite3_finalize(q);
            if (rc != SQLITE_DONE) {
                rc = sql_err(st, rc);
                goto out;
            }
            if (i < 2 && sqlite3_changes(st->db) > 0)
                mark_touched(&st->metrics[m], INT64_MIN, cutoff_ms);
            if (i == 0)
                *deleted += sqlite3_changes(st->db);
        }
    }
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "DELETE FROM reject WHERE at < ?1", -1, &q, NULL) != SQLITE_OK) {
        rc = fail(st, SR_EIO);
        goto out;
    }
    sqlite3_bind_int64(q, 1, cutoff_ms);
    rc = sqlite3_step(q);
    sqlite3_finalize(q);
    rc = rc == SQLITE_DONE ? 0 : sql_err(st, rc);
out:
    if (own) {
        if (rc)
            sr_store_rollback(st);
        else
            rc = sr_store_commit(st);
    }
    return rc;
}

/* ---- sources ---- */

static void copy_col(char *dst, size_t len, sqlite3_stmt *q, int col)
{
    const unsigned char *t = sqlite3_column_text(q, col);
    snprintf(dst, len, "%s", t ? (const char *)t : "");
}

static void read_source(sqlite3_stmt *q, sr_source_health *h)
{
    memset(h, 0, sizeof *h);
    copy_col(h->name, sizeof h->name, q, 0);
    copy_col(h->type, sizeof h->type, q, 1);
    h->last_poll_ms = sqlite3_column_int64(q, 2);
    h->last_ok_ms = sqlite3_column_int64(q, 3);
    h->cursor_ms = sqlite3_column_int64(q, 4);
    copy_col(h->last_error, sizeof h->last_error, q, 5);
    h->accepted = sqlite3_column_int64(q, 6);
    h->duplicates = sqlite3_column_int64(q, 7);
    h->rejected = sqlite3_column_int64(q, 8);
    h->polls = sqlite3_column_int64(q, 9);
    h->failures = sqlite3_column_int64(q, 10);
    h->next_poll_ms = sqlite3_column_int64(q, 11);
    h->interval_ms = sqlite3_column_int64(q, 12);
    h->timeout_ms = sqlite3_column_int64(q, 13);
    h->newest_ms = sqlite3_column_int64(q, 14);
}

int sr_store_source_get(sr_store *st, const char *name, sr_source_health *out)
{
    sqlite3_stmt *q = st->stmt[ST_SOURCE_GET];
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        read_source(q, out);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? SR_ENOENT : sql_err(st, rc);
}

int sr_store_source_put(sr_store *st, const sr_source_health *h)
{
    sqlite3_stmt *q = st->stmt[ST_SOURCE_PUT];
    if (!q)
        return SR_EINVAL;
    sqlite3_bind_text(q, 1, h->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, h->type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, h->last_poll_ms);
    sqlite3_bind_int64(q, 4, h->last_ok_ms);
    sqlite3_bind_int64(q, 5, h->cursor_ms);
    sqlite3_bind_text(q, 6, h->last_error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 7, h->accepted);
    sqlite3_bind_int64(q, 8, h->duplicates);
    sqlite3_bind_int64(q, 9, h->rejected);
    sqlite3_bind_int64(q, 10, h->polls);
    sqlite3_bind_int64(q, 11, h->failures);
    sqlite3_bind_int64(q, 12, h->next_poll_ms);
    sqlite3_bind_int64(q, 13, h->interval_ms);
    sqlite3_bind_int64(q, 14, h->timeout_ms);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : sql_err(st, rc);
}

int sr_store_source_metric(sr_store *st, const char *source, const char *metric)
{
    const metric_rec *m = find_metric(st, metric);
    if (!m)
        return SR_ENOENT;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db,
                           "INSERT OR IGNORE INTO source_metric(source, metric) VALUES (?1, ?2)",
                           -1, &q, NULL) != SQLITE_OK)
        return fail(st, SR_EIO);
    sqlite3_bind_text(q, 1, source, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, m->id);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : sql_err(st, rc);
}

int sr_store_metric_sources(sr_store *st, const char *metric, char (*names)[SR_NAME_MAX],
                            size_t max, size_t *n)
{
    *n = 0;
    int64_t id;
    if (sr_store_metric_id(st, metric, &id))
        return 0;
    sqlite3_stmt *q = stmt(st, ST_METRIC_SOURCES);
    if (!q)
        return fail(st, SR_EIO);
    sqlite3_bind_int64(q, 1, id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && *n < max)
        copy_col(names[(*n)++], SR_NAME_MAX, q, 0);
    sqlite3_reset(q);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sql_err(st, rc);
}

int sr_store_source_list(sr_store *st, sr_source_health **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *q = stmt(st, ST_SOURCE_LIST);
    if (!q)
        return fail(st, SR_EIO);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        sr_source_health *nv = realloc(*out, (*n + 1) * sizeof *nv);
        if (!nv) {
            sqlite3_reset(q);
            return SR_ENOMEM;
        }
        *out = nv;
        read_source(q, &(*out)[(*n)++]);
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : sql_err(st, rc);
}

int sr_store_rejects(sr_store *st, const char *source, int limit,
                     int (*cb)(void *ctx, const sr_reject_row *row), void *ctx)
{
    sqlite3_stmt *q;
    const char *sql = "SELECT id, source, location, at, raw, reason FROM (SELECT * FROM reject "
                      "WHERE (?1 IS NULL OR source = ?1) ORDER BY id DESC LIMIT ?2) ORDER BY id";
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
        return fail(st, SR_EIO);
    if (source)
        sqlite3_bind_text(q, 1, source, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, limit > 0 ? limit : -1);
    int rc, stop = 0;
    while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        sr_reject_row r = {
            .id = sqlite3_column_int64(q, 0),
            .source = (const char *)sqlite3_column_text(q, 1),
            .where = (const char *)sqlite3_column_text(q, 2),
            .ts_ms = sqlite3_column_int64(q, 3),
            .raw = (const char *)sqlite3_column_text(q, 4),
            .reason = (const char *)sqlite3_column_text(q, 5),
        };
        stop = cb(ctx, &r);
    }
    sqlite3_finalize(q);
    if (stop)
        return stop;
    return rc == SQLITE_DONE ? 0 : sql_err(st, rc);
}

int sr_store_reject_count(sr_store *st, const char *source, int64_t *out)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM reject WHERE ?1 IS NULL OR source = ?1",
                           -1, &q, NULL) != SQLITE_OK)
        return fail(st, SR_EIO);
    if (source)
        sqlite3_bind_text(q, 1, source, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? 0 : sql_err(st, rc);
}

int sr_store_newest(sr_store *st, sr_ms *out)
{
    int flushed = pend_flush(st);
    if (flushed)
        return flushed;
    sqlite3_stmt *q;
    /* one index probe per metric: the sample key leads with (metric, ts) */
    if (sqlite3_prepare_v2(st->db,
                           "SELECT max((SELECT max(ts) FROM sample s WHERE s.metric = m.id)) "
                           "FROM metric m",
                           -1, &q, NULL) != SQLITE_OK)
        return fail(st, SR_EIO);
    int rc = sqlite3_step(q);
    int empty = rc == SQLITE_ROW && sqlite3_column_type(q, 0) == SQLITE_NULL;
    if (rc == SQLITE_ROW && !empty)
        *out = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW)
        return sql_err(st, rc);
    return empty ? SR_ENODATA : 0;
}

/* ---- reading ---- */

/* Binds (metric, from, to) of a raw-sample scan. */
static void range_bind(sqlite3_stmt *q, int64_t metric, sr_ms from, sr_ms to)
{
    sqlite3_bind_int64(q, 1, metric);
    sqlite3_bind_int64(q, 2, from);
    sqlite3_bind_int64(q, 3, to);
}

/* Ends a scan: the callback's stop value, 0 when the rows ran out, or the
 * SQLite error. */
static int scan_end(sr_store *st, sqlite3_stmt *q, int rc, int stop)
{
    sqlite3_reset(q);
    if (stop)
        return stop;
    return rc == SQLITE_DONE ? 0 : sql_err(st, rc);
}

/* A binary search's key over rows in ts order (sr_lower_bound). */
typedef struct {
    const sr_raw_row *rows;
    sr_ms ts;
} ts_key;

static bool ts_below(const void *ctx, size_t i)
{
    const ts_key *k = ctx;
    return k->rows[i].ts < k->ts;
}

/*
 * Inside a read transaction, a scan within one hour reads the handle's copy
 * of that hour (rawhours.h), which it first fills with the whole hour when
 * it lacks it. Returns 0 with [*lo, *hi) the rows of [from, to), or with
 * *lo NULL when the table must be read (outside a read transaction, a
 * range over more than an hour, an hour too large to keep); or an error.
 */
static int hour_rows(sr_store *st, int64_t metric, sr_ms from, sr_ms to, const sr_raw_row **lo,
                     const sr_raw_row **hi)
{
    *lo = *hi = NULL;
    sr_ms hour = sr_floor_ms(from, SR_MS_HOUR);
    if (!st->in_read || from >= to || sr_floor_ms(to - 1, SR_MS_HOUR) != hour)
        return 0;
    if (!st->rawhours && sr_rawhours_create(RAWHOURS_BYTES, RAWHOURS_HOURS, &st->rawhours))
        return SR_ENOMEM;
    const sr_raw_row *rows;
    size_t n;
    if (!sr_rawhours_get(st->rawhours, metric, hour, &rows, &n)) {
        sqlite3_stmt *q = stmt(st, ST_SCAN_HOUR);
        if (!q)
            return fail(st, SR_EIO);
        range_bind(q, metric, hour, hour + SR_MS_HOUR);
        int rc;
        n = 0;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            if (n == st->hour_cap) {
                size_t cap = st->hour_cap ? 2 * st->hour_cap : 1024;
                sr_raw_row *b = realloc(st->hour_buf, cap * sizeof *b);
                if (!b) {
                    sqlite3_reset(q);
                    return SR_ENOMEM;
                }
                st->hour_buf = b;
                st->hour_cap = cap;
            }
            st->hour_buf[n++] = (sr_raw_row){.entity = sqlite3_column_int64(q, 0),
                                             .ts = sqlite3_column_int64(q, 1),
                                             .value = sqlite3_column_double(q, 2)};
        }
        if ((rc = scan_end(st, q, rc, 0)) ||
            (rc = sr_rawhours_put(st->rawhours, metric, hour, st->hour_buf, n)))
            return rc;
        if (!sr_rawhours_get(st->rawhours, metric, hour, &rows, &n))
            return 0;
    }
    if (!rows)
        return 0; /* too large to keep */
    size_t a = sr_lower_bound(n, ts_below, &(ts_key){rows, from});
    size_t b = a + sr_lower_bound(n - a, ts_below, &(ts_key){rows + a, to});
    *lo = rows + a;
    *hi = rows + b;
    return 0;
}

int sr_store_scan_raw(sr_store *st, int64_t metric, sr_ms from, sr_ms to, sr_raw_cb cb, void *ctx)
{
    int flushed = pend_flush(st);
    if (flushed)
        return flushed;
    const sr_raw_row *r, *end;
    if ((flushed = hour_rows(st, metric, from, to, &r, &end)))
        return flushed;
    for (int stop; r && r < end; r++) {
        if ((stop = cb(ctx, r->entity, r->ts, r->value)))
            return stop;
    }
    if (r)
        return 0;
    sqlite3_stmt *q = st->stmt[ST_SCAN_RAW];
    range_bind(q, metric, from, to);
    int rc = SQLITE_DONE, stop = 0;
    while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW)
        stop = cb(ctx, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
                  sqlite3_column_double(q, 2));
    return scan_end(st, q, rc, stop);
}

int sr_store_scan_raw_desc(sr_store *st, int64_t metric, sr_ms from, sr_ms to, sr_raw_key_cb cb,
                           void *ctx)
{
    int flushed = pend_flush(st);
    if (flushed)
        return flushed;
    sqlite3_stmt *q = st->stmt[ST_SCAN_RAW_DESC];
    range_bind(q, metric, from, to);
    int rc = SQLITE_DONE, stop = 0;
    while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW)
        stop = cb(ctx, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
                  sqlite3_column_double(q, 2), (const char *)sqlite3_column_text(q, 3));
    return scan_end(st, q, rc, stop);
}

int sr_store_scan_values(sr_store *st, int64_t metric, sr_ms from, sr_ms to, sr_value_cb cb,
                         void *ctx)
{
    int flushed = pend_flush(st);
    if (flushed)
        return flushed;
    const sr_raw_row *r, *end;
    if ((flushed = hour_rows(st, metric, from, to, &r, &end)))
        return flushed;
    for (int stop; r && r < end; r++) {
        if ((stop = cb(ctx, r->value)))
            return stop;
    }
    if (r)
        return 0;
    sqlite3_stmt *q = st->stmt[ST_SCAN_VALUES];
    range_bind(q, metric, from, to);
    int rc = SQLITE_DONE, stop = 0;
    while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW)
        stop = cb(ctx, sqlite3_column_double(q, 0));
    return scan_end(st, q, rc, stop);
}

/* The hour cell in the current row of a rollup statement (columns as in
 * ST_SCAN_ROLLUP); its blobs are valid until the statement moves on. */
static void rollup_row(sqlite3_stmt *q, unsigned flags, sr_rollup_cell *c)
{
    if (flags & SR_SCAN_STAMPS) {
        *c = (sr_rollup_cell){.bucket_ms = sqlite3_column_int64(q, 0),
                              .n = sqlite3_column_int64(q, 1),
                              .sum = sqlite3_column_double(q, 2),
                              .min = INFINITY,
                              .max = -INFINITY,
                              .last_ts = INT64_MIN};
        return;
    }
    *c = (sr_rollup_cell){
        .bucket_ms = sqlite3_column_int64(q, 0),
        .n = sqlite3_column_int64(q, 1),
        .sum = sqlite3_column_double(q, 2),
        .min = sqlite3_column_double(q, 3),
        .max = sqlite3_column_double(q, 4),
        .last_ts = sqlite3_column_int64(q, 5),
        .last = sqlite3_column_double(q, 6),
    };
    if (!(flags & SR_SCAN_NO_SKETCH) && sqlite3_column_type(q, 7) == SQLITE_BLOB) {
        c->sketch = sqlite3_column_blob(q, 7);
        c->sketch_len = (size_t)sqlite3_column_bytes(q, 7);
    }
    if (sqlite3_column_type(q, 8) == SQLITE_BLOB) {
        c->minutes = sqlite3_column_blob(q, 8);
        c->minutes_len = (size_t)sqlite3_column_bytes(q, 8);
    }
    if ((flags & SR_SCAN_VALUES) && sqlite3_column_type(q, 9) == SQLITE_BLOB) {
        c->values = sqlite3_column_blob(q, 9);
        c->values_len = (size_t)sqlite3_column_bytes(q, 9);
    }
}

/*
 * Whether a rollup row read for [from, to) can be a cell the writer made:
 * an hour's bucket inside the range, after the row before it (*prev, then
 * moved on), a count not negative and a finite sum. SQLite keeps no
 * checksum of a page: a damaged page can give garbage rows without any
 * error, and a figure summed from them would be wrong with nothing said.
 * Sets the store's message and returns SR_ECORRUPT when it cannot.
 */
static int cell_check(sr_store *st, sr_ms *prev, sr_ms bucket, int64_t n, double sum, sr_ms from,
                      sr_ms to)
{
    if (bucket % SR_MS_HOUR == 0 && bucket >= from && bucket < to && bucket > *prev && n >= 0 &&
        isfinite(sum)) {
        *prev = bucket;
        return 0;
    }
    snprintf(st->errmsg, sizeof st->errmsg,
             "database disk image is malformed (a rollup row that no writer made)");
    return SR_ECORRUPT;
}

/* The store's read of stamps (sr_stamps_read_fn). */
static int stamps_read(void *ctx, int64_t metric, int64_t node, sr_ms from, sr_ms to, sr_stamps *s)
{
    sr_store *st = ctx;
    sqlite3_stmt *q = st->stmt[ST_SCAN_ROLLUP_STAMPS];
    sqlite3_bind_int64(q, 1, metric);
    sqlite3_bind_int64(q, 2, node);
    sqlite3_bind_int64(q, 3, from);
    sqlite3_bind_int64(q, 4, to);
    int rc, stop = 0;
    sr_ms prev = INT64_MIN;
    while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        sr_ms bucket = sqlite3_column_int64(q, 0);
        int64_t n = sqlite3_column_int64(q, 1);
        double sum = sqlite3_column_double(q, 2);
        if (!(stop = cell_check(st, &prev, bucket, n, sum, from, to)))
            stop = sr_stamps_push(s, bucket, n, sum);
    }
    return scan_end(st, q, rc, stop);
}

/* A cell's stamp onto *v (sr_store_stamps' buffer). */
typedef struct {
    sr_stamp_cell **v;
    size_t *n, *cap;
} stamps_out;

static int stamps_out_push(stamps_out *o, sr_ms bucket, int64_t n, double sum)
{
    if (n <= 0)
        return 0;
    if (*o->n == *o->cap) {
        size_t ncap = *o->cap ? 2 * *o->cap : 256;
        sr_stamp_cell *nv = realloc(*o->v, ncap * sizeof *nv);
        if (!nv)
            return SR_ENOMEM;
        *o->v = nv;
        *o->cap = ncap;
    }
    (*o->v)[(*o->n)++] = (sr_stamp_cell){bucket, n, sum};
    return 0;
}

static int stamps_out_cb(void *ctx, const sr_rollup_cell *c)
{
    return stamps_out_push(ctx, c->bucket_ms, c->n, c->sum);
}

int sr_store_stamps(sr_store *st, int64_t metric, int64_t node, sr_ms from, sr_ms to,
                    sr_stamp_cell **v, size_t *n, size_t *cap)
{
    stamps_out o = {v, n, cap};
    if (!st->in_read)
        return sr_store_scan_rollup(st, metric, node, from, to, SR_SCAN_STAMPS, stamps_out_cb, &o);
    if (!st->stamps && sr_stamps_create(STAMPS_BYTES, &st->stamps))
        return SR_ENOMEM;
    const sr_stamp_cell *c;
    size_t k;
    int rc = sr_stamps_get(st->stamps, metric, node, from, to, stamps_read, st, &c, &k);
    for (size_t i = 0; i < k && !rc; i++)
        rc = stamps_out_push(&o, c[i].bucket, c[i].n, c[i].sum);
    return rc;
}

int sr_store_scan_rollup(sr_store *st, int64_t metric, int64_t node, sr_ms from, sr_ms to,
                         unsigned flags, sr_rollup_cb cb, void *ctx)
{
    if (flags == SR_SCAN_STAMPS && st->in_read) {
        /* from the handle's copy (sr_store_stamps), copied out: cb may
         * scan again, which may move the copy's cells */
        sr_stamp_cell *v = NULL;
        size_t n = 0, cap = 0;
        int rc = sr_store_stamps(st, metric, node, from, to, &v, &n, &cap);
        for (size_t i = 0; i < n && !rc; i++) {
            sr_rollup_cell c = {.bucket_ms = v[i].bucket,
                                .n = v[i].n,
                                .sum = v[i].sum,
                                .min = INFINITY,
                                .max = -INFINITY,
                                .last_ts = INT64_MIN};
            rc = cb(ctx, &c);
        }
        free(v);
        return rc;
    }
    sqlite3_stmt *q = st->stmt[flags & SR_SCAN_STAMPS    ? ST_SCAN_ROLLUP_STAMPS
                               : flags & SR_SCAN_VALUES  ? ST_SCAN_ROLLUP_VALS
                               : flags & SR_SCAN_MINUTES ? ST_SCAN_ROLLUP_MIN
                                                         : ST_SCAN_ROLLUP];
    sqlite3_bind_int64(q, 1, metric);
    sqlite3_bind_int64(q, 2, node);
    sr_ms a = sr_floor_ms(from, SR_MS_HOUR), b = sr_floor_ms(to, SR_MS_HOUR), prev = INT64_MIN;
    sqlite3_bind_int64(q, 3, a);
    sqlite3_bind_int64(q, 4, b);
    int rc, stop = 0;
    while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        sr_rollup_cell c;
        rollup_row(q, flags, &c);
        if (!(stop = cell_check(st, &prev, c.bucket_ms, c.n, c.sum, a, b)))
            stop = cb(ctx, &c);
    }
    return scan_end(st, q, rc, stop);
}

int sr_store_rollup_newest(sr_store *st, int64_t metric, int64_t node, sr_ms before_ms,
                           unsigned flags, sr_rollup_cb cb, void *ctx)
{
    sqlite3_stmt *q = st->stmt[flags & SR_SCAN_MINUTES ? ST_ROLLUP_NEWEST_MIN : ST_ROLLUP_NEWEST];
    sqlite3_bind_int64(q, 1, metric);
    sqlite3_bind_int64(q, 2, node);
    sqlite3_bind_int64(q, 3, before_ms);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        sr_rollup_cell c;
        rollup_row(q, flags, &c);
        int r = cb(ctx, &c);
        sqlite3_reset(q);
        return r;
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? SR_ENOENT : sql_err(st, rc);
}

int sr_store_data_version(sr_store *st, int64_t *out)
{
    sqlite3_stmt *q = stmt(st, ST_DATA_VERSION);
    if (!q)
        return fail(st, SR_EIO);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? 0 : sql_err(st, rc);
}

const char *sr_store_sqlite_version(void)
{
    return sqlite3_libversion();
}

int sr_store_audit_add(sr_store *st, const sr_audit_row *row)
{
    if (st->flags & SR_STORE_READONLY)
        return SR_EINVAL;
    if (!row->user || !row->role || !row->action)
        return SR_EINVAL;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db,
                           "INSERT INTO audit(at, user, role, tty, ssh, action, detail) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                           -1, &q, NULL) != SQLITE_OK)
        return fail(st, SR_EIO);
    sqlite3_bind_int64(q, 1, row->at_ms);
    sqlite3_bind_text(q, 2, row->user, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, row->role, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, row->tty ? row->tty : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, row->ssh ? row->ssh : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, row->action, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 7, row->detail ? row->detail : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : sql_err(st, rc);
}

/* ---- alerts ---- */

static const char *const severity_names[] = {
    [SR_STATUS_NONE] = NULL,
    [SR_STATUS_OK] = "ok",
    [SR_STATUS_WARN] = "warn",
    [SR_STATUS_CRIT] = "crit",
};

static void bind_ms(sqlite3_stmt *q, int i, sr_ms v)
{
    if (v)
        sqlite3_bind_int64(q, i, v);
    else
        sqlite3_bind_null(q, i);
}

static void bind_real(sqlite3_stmt *q, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(q, i);
    else
        sqlite3_bind_double(q, i, v);
}

static double col_real(sqlite3_stmt *q, int i)
{
    return sqlite3_column_type(q, i) == SQLITE_NULL ? NAN : sqlite3_column_double(q, i);
}

/* Reads a row of ALERT_COLUMNS; SR_ECORRUPT for an unknown state. */
static int read_alert(sqlite3_stmt *q, sr_alert *a)
{
    memset(a, 0, sizeof *a);
    copy_col(a->key, sizeof a->key, q, 0);
    copy_col(a->panel, sizeof a->panel, q, 1);
    copy_col(a->metric, sizeof a->metric, q, 2);
    copy_col(a->entity, sizeof a->entity, q, 3);
    const char *sev = (const char *)sqlite3_column_text(q, 4);
    a->severity = SR_STATUS_NONE;
    for (size_t i = 0; sev && i < sizeof severity_names / sizeof severity_names[0]; i++)
        if (severity_names[i] && strcmp(sev, severity_names[i]) == 0)
            a->severity = (sr_status)i;
    const char *state = (const char *)sqlite3_column_text(q, 5);
    if (!state || sr_alert_state_parse(state, &a->state))
        return SR_ECORRUPT;
    a->raised_at_ms = sqlite3_column_int64(q, 6);
    a->value = col_real(q, 7);
    a->threshold = col_real(q, 8);
    copy_col(a->acked_by, sizeof a->acked_by, q, 9);
    a->acked_at_ms = sqlite3_column_int64(q, 10);
    copy_col(a->note, sizeof a->note, q, 11);
    a->silenced_until_ms = sqlite3_column_int64(q, 12);
    a->cleared_at_ms = sqlite3_column_int64(q, 13);
    return 0;
}

int sr_store_alert_get(sr_store *st, const char *key, sr_alert *out)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "SELECT " ALERT_COLUMNS " FROM alert WHERE key = ?1", -1, &q,
                           NULL) != SQLITE_OK)
        return fail(st, SR_EIO);
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    int err = rc == SQLITE_ROW    ? read_alert(q, out)
              : rc == SQLITE_DONE ? SR_ENOENT
                                  : sql_err(st, rc);
    sqlite3_finalize(q);
    return err;
}

/* Writes an alert row: sr_store_alert_put for the collector, and the
 * read-modify-write of an acknowledgement or a silence (any writable
 * handle, SR_STORE_VIEWER included). */
static int alert_write(sr_store *st, const sr_alert *a)
{
    if (st->flags & SR_STORE_READONLY)
        return SR_EINVAL;
    if (!a->key[0] || !a->panel[0] || !a->metric[0] || (unsigned)a->state >= SR_ALERT_STATE_COUNT)
        return SR_EINVAL;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db,
                           "INSERT OR REPLACE INTO alert(" ALERT_COLUMNS ") VALUES "
                           "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                           -1, &q, NULL) != SQLITE_OK)
        return fail(st, SR_EIO);
    sqlite3_bind_text(q, 1, a->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, a->panel, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, a->metric, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, a->entity, -1, SQLITE_STATIC);
    if ((unsigned)a->severity < sizeof severity_names / sizeof severity_names[0] &&
        severity_names[a->severity])
        sqlite3_bind_text(q, 5, severity_names[a->severity], -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, sr_alert_state_name(a->state), -1, SQLITE_STATIC);
    bind_ms(q, 7, a->raised_at_ms);
    bind_real(q, 8, a->value);
    bind_real(q, 9, a->threshold);
    if (a->acked_by[0])
        sqlite3_bind_text(q, 10, a->acked_by, -1, SQLITE_STATIC);
    bind_ms(q, 11, a->acked_at_ms);
    if (a->note[0])
        sqlite3_bind_text(q, 12, a->note, -1, SQLITE_STATIC);
    bind_ms(q, 13, a->silenced_until_ms);
    bind_ms(q, 14, a->cleared_at_ms);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : sql_err(st, rc);
}

int sr_store_alert_put(sr_store *st, const sr_alert *a)
{
    if (st->flags & SR_STORE_VIEWER)
        return SR_EINVAL;
    return alert_write(st, a);
}

/* How much a person has done about an alert: acknowledged or silenced,
 * then raised, then the rest; the row kept when two keys become one. */
static int alert_rank(const sr_alert *a)
{
    return a->state == SR_ALERT_ACKED || a->state == SR_ALERT_SILENCED ? 3
           : a->state == SR_ALERT_ACTIVE                               ? 2
           : a->state == SR_ALERT_PENDING                              ? 1
                                                                       : 0;
}

int sr_store_alert_rekey(sr_store *st, const char *old_key, const char *key)
{
    if (st->flags & (SR_STORE_VIEWER | SR_STORE_READONLY))
        return SR_EINVAL;
    sr_alert o, n;
    int rc = sr_store_alert_get(st, old_key, &o);
    if (rc)
        return rc == SR_ENOENT ? 0 : rc;
    rc = sr_store_alert_get(st, key, &n);
    if (rc && rc != SR_ENOENT)
        return rc;
    if (rc == SR_ENOENT || alert_rank(&o) > alert_rank(&n)) {
        snprintf(o.key, sizeof o.key, "%s", key);
        if ((rc = alert_write(st, &o)))
            return rc;
    }
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "DELETE FROM alert WHERE key = ?1", -1, &q, NULL) != SQLITE_OK)
        return fail(st, SR_EIO);
    sqlite3_bind_text(q, 1, old_key, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : sql_err(st, rc);
}

static const char *col_text(sqlite3_stmt *q, int i)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    return t ? (const char *)t : "";
}

int sr_store_audit_list(sr_store *st, sr_ms since_ms, int (*cb)(void *ctx, const sr_audit_row *row),
                        void *ctx)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT id, at, user, role, tty, ssh, action, detail FROM audit "
                           "WHERE at >= ?1 ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK)
        return fail(st, SR_EIO);
    sqlite3_bind_int64(q, 1, since_ms);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        sr_audit_row r = {.id = sqlite3_column_int64(q, 0),
                          .at_ms = sqlite3_column_int64(q, 1),
                          .user = col_text(q, 2),
                          .role = col_text(q, 3),
                          .tty = col_text(q, 4),
                          .ssh = col_text(q, 5),
                          .action = col_text(q, 6),
                          .detail = col_text(q, 7)};
        int r2 = cb(ctx, &r);
        if (r2) {
            sqlite3_finalize(q);
            return r2;
        }
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : sql_err(st, rc);
}

int sr_store_alert_list(sr_store *st, unsigned states, sr_alert **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *q = stmt(st, ST_ALERT_LIST);
    if (!q)
        return fail(st, SR_EIO);
    int rc, err = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        sr_alert a;
        if ((err = read_alert(q, &a)))
            break;
        if (!(states & SR_ALERT_BIT(a.state)))
            continue;
        sr_alert *nv = realloc(*out, (*n + 1) * sizeof *nv);
        if (!nv) {
            err = SR_ENOMEM;
            break;
        }
        *out = nv;
        (*out)[(*n)++] = a;
    }
    if (!err && rc != SQLITE_DONE)
        err = sql_err(st, rc);
    sqlite3_reset(q);
    if (err) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return err;
}

/* Reads the alert of key, applies fn to it and writes it back, in one
 * transaction of its own unless a batch is open. */
static int alert_update(sr_store *st, const char *key,
                        int (*fn)(sr_alert *a, const void *arg, sr_ms now), const void *arg,
                        sr_ms now)
{
    if (st->flags & SR_STORE_READONLY)
        return SR_EINVAL;
    int own = !st->in_batch, rc;
    if (own && (rc = exec(st, "BEGIN IMMEDIATE")))
        return rc;
    sr_alert a;
    if (!(rc = sr_store_alert_get(st, key, &a)) && !(rc = fn(&a, arg, now)))
        rc = alert_write(st, &a);
    if (own && !rc)
        rc = exec(st, "COMMIT");
    if (own && rc)
        exec(st, "ROLLBACK");
    return rc;
}

typedef struct {
    const char *who, *note;
} ack_arg;

static int do_ack(sr_alert *a, const void *arg, sr_ms now)
{
    const ack_arg *k = arg;
    return sr_alert_ack(a, k->who, k->note, now);
}

typedef struct {
    const char *note;
    sr_ms until;
} silence_arg;

static int do_silence(sr_alert *a, const void *arg, sr_ms now)
{
    const silence_arg *k = arg;
    return sr_alert_silence(a, k->note, k->until, now);
}

int sr_store_alert_ack(sr_store *st, const char *key, const char *who, const char *note, sr_ms now)
{
    ack_arg k = {who, note};
    return alert_update(st, key, do_ack, &k, now);
}

int sr_store_alert_silence(sr_store *st, const char *key, const char *note, sr_ms until, sr_ms now)
{
    silence_arg k = {note, until};
    return alert_update(st, key, do_silence, &k, now);
}
