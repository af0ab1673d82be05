/*
 * store.c - the SQLite cache: opening a handle, the schema and its
 * migrations, the statements a handle keeps, and transactions.
 *
 * Tables (schema version in PRAGMA user_version, migrated step by step):
 *   metric(id, name, kind)            entity(id, path, parent)
 *   sample(metric, ts, entity, dedup, value, key)   PK (metric, ts, entity, dedup)
 *   rollup(metric, res, node, bucket, n, sum, min, max, last_ts, last, sketch, minutes,
 *          vals)                      vals: an event cell's observations, sorted (v9)
 *   reject(id, source, at, location, raw, reason, once)   source(name, ...health...)
 *   source_metric(source, metric)
 *   alert(key, panel, metric, entity, severity, state, raised_at, value, threshold,
 *         acked_by, acked_at, note, silenced_until, cleared_at,
 *         kind, band_low, band_high, side)     (alerts.h; the last four v11)
 *   audit(id, at, user, role, tty, ssh, action, detail)   append-only (v7)
 *   metric.changes                    a counter per metric (v8, store_metric.c)
 *   memo(a, b, c, d, e, f, n, sum, v)  figures of closed slices of time (v10, memo.h)
 *   touch(seq, metric, lo, hi)        the times each commit touched (v10, stamps.h)
 *
 * The batch is one transaction: a crash loses at most the batch in flight;
 * rollups are in the same transaction as their samples, so they never
 * disagree. On rollback the in-memory entity map is reloaded, since ids
 * handed out inside the failed transaction no longer exist.
 *
 * The rest of the store, one file a part, all on the handle of
 * store_int.h (which only metrics/store*.c include): store_metric.c (the
 * metrics and their change counters), store_entity.c (the entity tree),
 * store_sample.c (storing and reading raw samples), store_rollup.c (the hour
 * cells), store_memo.c (the persisted memo), store_source.c (source health,
 * rejected rows), store_alert.c (alerts and the audit log).
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store_int.h"

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
    /* the next node holding cells of a metric: one seek on the same key */
    [ST_CELL_NODE_NEXT] = "SELECT node FROM rollup WHERE metric = ?1 AND res = 1 AND node > ?2 "
                          "ORDER BY node LIMIT 1",
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

int store_fail(sr_store *st, int code)
{
    snprintf(st->errmsg, sizeof st->errmsg, "%s", sqlite3_errmsg(st->db));
    return code;
}

/*
 * The one mapping of an SQLite result code to an error code of ours, with
 * the store's message (sr_store_errmsg) in words a user can act on where
 * SQLite's are not: a full disk (SQLITE_FULL, or an I/O error whose errno
 * is ENOSPC) names the cache; a damaged file is SR_ECORRUPT from any
 * statement, never a figure: SQLite's own finding, or a page that fails
 * its checksum (store_pagesum.c).
 */
int store_sql_err(sr_store *st, int rc)
{
    if (rc == SQLITE_IOERR_DATA) {
        int64_t at = store_pagesum_fault();
        if (at >= 0)
            snprintf(st->errmsg, sizeof st->errmsg,
                     "the page at byte %lld of the file fails its checksum", (long long)at);
        else
            snprintf(st->errmsg, sizeof st->errmsg, "a page of the file fails its checksum");
        return SR_ECORRUPT;
    }
    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        return store_fail(st, SR_ENOMEM);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return store_fail(st, SR_ECORRUPT);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return store_fail(st, SR_EBUSY);
    case SQLITE_IOERR:
        if (sqlite3_system_errno(st->db) != ENOSPC)
            return store_fail(st, SR_EIO);
        /* fall through */
    case SQLITE_FULL:
        snprintf(st->errmsg, sizeof st->errmsg,
                 "disk full: the cache %.400s (or its -wal) could not grow", st->path);
        return SR_ENOSPC;
    case SQLITE_READONLY:
        return store_fail(st, SR_EPERM);
    default:
        return store_fail(st, SR_EIO);
    }
}

int store_exec(sr_store *st, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        int code = store_sql_err(st, rc);
        if (code != SR_ENOSPC) /* its message names the cache */
            snprintf(st->errmsg, sizeof st->errmsg, "%s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return code;
    }
    return 0;
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

/* v11: an alert's kind ("threshold", or "unusual": judged by its
 * baseline's band, alerts.h), the band it was last judged by and the side
 * of it crossed ("high", "low"); the alerts of older caches are threshold
 * alerts */
static const char schema_v11[] =
    "ALTER TABLE alert ADD COLUMN kind TEXT NOT NULL DEFAULT 'threshold';"
    "ALTER TABLE alert ADD COLUMN band_low REAL;"
    "ALTER TABLE alert ADD COLUMN band_high REAL;"
    "ALTER TABLE alert ADD COLUMN side TEXT;";

/* Statement i, prepared on its first use and kept (reset after use, never
 * finalized but at close); NULL when it cannot be prepared. */
sqlite3_stmt *store_stmt(sr_store *st, int i)
{
    if (!st->stmt[i] && sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                           &st->stmt[i], NULL) != SQLITE_OK)
        st->stmt[i] = NULL;
    return st->stmt[i];
}

/* Prepares sql for this use only: finalize q after (store_step_done and
 * store_step_int do, with own set). */
int store_prepare(sr_store *st, const char *sql, sqlite3_stmt **q)
{
    return sqlite3_prepare_v2(st->db, sql, -1, q, NULL) == SQLITE_OK ? 0 : store_fail(st, SR_EIO);
}

/* Steps q, which returns no rows; then finalizes it (own: prepared for this
 * use) or resets it (a kept statement). */
int store_step_done(sr_store *st, sqlite3_stmt *q, bool own)
{
    int rc = sqlite3_step(q);
    int code = rc == SQLITE_DONE ? 0 : store_sql_err(st, rc);
    if (own)
        sqlite3_finalize(q);
    else
        sqlite3_reset(q);
    return code;
}

/* Steps q for the integer its one row holds in its first column, then
 * finalizes or resets it as store_step_done(); SR_ENODATA when that is
 * NULL (max() of no rows). */
int store_step_int(sr_store *st, sqlite3_stmt *q, bool own, int64_t *out)
{
    int rc = sqlite3_step(q);
    int code = rc != SQLITE_ROW                           ? store_sql_err(st, rc)
               : sqlite3_column_type(q, 0) == SQLITE_NULL ? SR_ENODATA
                                                          : 0;
    if (!code)
        *out = sqlite3_column_int64(q, 0);
    if (own)
        sqlite3_finalize(q);
    else
        sqlite3_reset(q);
    return code;
}

/* The integer a statement of one row and one column gives (a pragma's
 * value, a count), as store_step_int(). */
int store_query_int(sr_store *st, const char *sql, int64_t *out)
{
    sqlite3_stmt *q;
    int rc = store_prepare(st, sql, &q);
    return rc ? rc : store_step_int(st, q, true, out);
}

/* Binds n integers to q's parameters first, first + 1, ... */
void store_bind_int64s(sqlite3_stmt *q, int first, const int64_t *v, int n)
{
    for (int i = 0; i < n; i++)
        sqlite3_bind_int64(q, first + i, v[i]);
}

/* Runs kept statement i, which returns no rows (BEGIN, COMMIT). */
static int exec_kept(sr_store *st, int i)
{
    sqlite3_stmt *q = store_stmt(st, i);
    return q ? store_step_done(st, q, false) : store_fail(st, SR_EIO);
}

/* Ends a scan: the callback's stop value, 0 when the rows ran out, or the
 * SQLite error. */
int store_scan_end(sr_store *st, sqlite3_stmt *q, int rc, int stop)
{
    sqlite3_reset(q);
    if (stop)
        return stop;
    return rc == SQLITE_DONE ? 0 : store_sql_err(st, rc);
}

/*
 * Brings the file from its version to SR_STORE_SCHEMA, one step per version,
 * all in one transaction.
 */
static int migrate(sr_store *st)
{
    int64_t user_version;
    int rc = store_query_int(st, "PRAGMA user_version", &user_version);
    if (rc)
        return rc;
    int version = (int)user_version;
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
    if ((rc = store_exec(st, "BEGIN IMMEDIATE")))
        return rc;
    /* schema[v - 1] takes a file from version v - 1 to v */
    static const char *const schema[] = {schema_v1, schema_v2,  schema_v3, schema_v4,
                                         schema_v5, schema_v6,  schema_v7, schema_v8,
                                         schema_v9, schema_v10, schema_v11};
    _Static_assert(sizeof schema / sizeof *schema == SR_STORE_SCHEMA, "a step per version");
    for (int v = version + 1; v <= SR_STORE_SCHEMA; v++) {
        if ((rc = store_exec(st, schema[v - 1])))
            goto out;
        /* a cache's rollups are built again at v9, so that every cell has
         * its values (one from before v2 gets its first rollups then) */
        if (v == 9 && version >= 1 && (rc = store_rebuild_rollups(st)))
            goto out;
    }
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", SR_STORE_SCHEMA);
    if ((rc = store_exec(st, sql)))
        goto out;
    return store_exec(st, "COMMIT");
out:
    store_exec(st, "ROLLBACK");
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
            return store_fail(st, SR_EIO);
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
                             store_pagesum_vfs());
    free(uri);
    free(real);
    int err = 0;
    if (rc != SQLITE_OK)
        return st->db ? store_sql_err(st, rc) : SR_ENOMEM;
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_trace_v2(st->db, SQLITE_TRACE_STMT, count_statement, st);
    sqlite3_busy_timeout(st->db, BUSY_MS);
    /* the -wal and -shm stay when the last connection closes (no checkpoint
     * deletes them): a process that may not create files in the cache's
     * folder (app/trust.h) finds them there, made by the collector */
    int persist = 1;
    sqlite3_file_control(st->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
    /* before the viewer's authorizer, which refuses pragmas that set */
    if (temp_in_memory && (err = store_exec(st, "PRAGMA temp_store = MEMORY")))
        return err;
    /* a damaged page whose cells' sizes do not add up is SQLITE_CORRUPT
     * instead of a b-tree scan that stops early on a garbage key and gives a
     * partial figure (a count short by a fifth, exit 0); a few percent of a
     * read's time */
    if ((err = store_exec(st, "PRAGMA cell_size_check = ON")))
        return err;
    if (sqlite3_create_function(st->db, "sr_sketch_merge", 2,
                                SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
                                store_sql_sketch_merge, NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function(st->db, "sr_minutes_merge", 2,
                                SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
                                store_sql_minutes_merge, NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function(st->db, "sr_vals_merge", 2,
                                SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
                                store_sql_vals_merge, NULL, NULL) != SQLITE_OK) {
        return store_fail(st, SR_EIO);
    }
    if (st->flags & SR_STORE_READONLY) {
        /* a second guard below the API: SQLite refuses any write on this connection */
        if ((err = store_exec(st, "PRAGMA query_only = 1")))
            return err;
    } else if (st->flags & SR_STORE_VIEWER) {
        sqlite3_set_authorizer(st->db, viewer_authorizer, NULL);
    } else {
        /* a new file gets large pages: an hour cell with its minutes (up to ~3 KB)
         * then stays inside its page instead of spilling to overflow pages;
         * and 8 bytes at the end of each for its checksum (store_pagesum.c),
         * with the mark of the checksum's kind, written first: the file is
         * made here, its page 1 summed from its first write */
        struct stat sb;
        bool fresh = lstat(path, &sb) != 0 || sb.st_size == 0;
        int reserve = PAGESUM_BYTES;
        char mark[48];
        snprintf(mark, sizeof mark, "PRAGMA application_id = %d", PAGESUM_MARK);
        if (fresh)
            sqlite3_file_control(st->db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
        if ((err = store_exec(st, "PRAGMA page_size = 16384")) ||
            (fresh && (err = store_exec(st, mark))) ||
            (err = store_exec(st, "PRAGMA journal_mode = WAL")) ||
            (err = store_exec(st, "PRAGMA synchronous = NORMAL")) ||
            /* the -wal persists (above): a checkpoint that resets it cuts it back
             * to this, so a backfill's large -wal does not stay on disk */
            (err = store_exec(st, "PRAGMA journal_size_limit = 16777216")))
            return err;
    }
    /* the screen and the collector stay small; a bulk load buys speed with memory */
    if ((err = store_exec(st, (st->flags & SR_STORE_BULK) ? "PRAGMA cache_size = -65536"
                                                          : "PRAGMA cache_size = -4096")))
        return err;
    /* a quick look at the header: a file that is not a database fails here */
    if ((err = store_exec(st, "SELECT count(*) FROM sqlite_schema")))
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
    if ((err = migrate(st)) || (err = prepare_all(st)) || (err = store_load_metrics(st)) ||
        (err = store_load_entities(st)) || (err = sr_store_changes(st, NULL, NULL)))
        goto fail;
    *out = st;
    return 0;
fail:
    if (errbuf)
        snprintf(errbuf, errlen, "%s: %s", path, st->errmsg[0] ? st->errmsg : sr_strerror(err));
    sr_store_close(st);
    return err ? err : SR_EIO;
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
    store_free_entities(st);
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
    for (size_t i = 0; i < st->n_cell_nodes; i++)
        free(st->cell_nodes[i].ids);
    free(st->cell_nodes);
    free(st->hour_buf);
    free(st);
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
                /* SQLite's words for a page that did not read (SQLITE_IOERR_DATA
                 * is a page that fails its checksum) */
                char *tail = strstr(line, ": unable to get the page. error code=");
                long page;
                if (tail && atoi(tail + 37) == SQLITE_IOERR_DATA &&
                    sscanf(line, "%*[^0-9]%ld", &page) == 1)
                    snprintf(line, sizeof line, "page %ld fails its checksum", page);
                cb(ctx, line);
            }
            at += len + (at[len] == '\n');
        }
    }
    sqlite3_finalize(q);
    if (rc == SQLITE_DONE)
        return 0;
    int err = store_sql_err(st, rc);
    if (err != SR_ECORRUPT)
        return err;
    ++*found;
    cb(ctx, st->errmsg);
    return 0;
}

bool sr_store_checksummed(sr_store *st)
{
    int reserve = -1;
    int64_t mark = 0;
    return store_pagesum_vfs() &&
           sqlite3_file_control(st->db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve) ==
               SQLITE_OK &&
           reserve == PAGESUM_BYTES && store_query_int(st, "PRAGMA application_id", &mark) == 0 &&
           mark == PAGESUM_MARK;
}

const char *sr_store_errmsg(const sr_store *st)
{
    return st->errmsg;
}

int sr_store_schema_version(sr_store *st, int *out)
{
    int64_t v;
    int rc = store_query_int(st, "PRAGMA user_version", &v);
    if (!rc)
        *out = (int)v;
    return rc;
}

int sr_store_data_version(sr_store *st, int64_t *out)
{
    sqlite3_stmt *q = store_stmt(st, ST_DATA_VERSION);
    return q ? store_step_int(st, q, false, out) : store_fail(st, SR_EIO);
}

const char *sr_store_sqlite_version(void)
{
    return sqlite3_libversion();
}

/* ---- transactions ---- */

int sr_store_begin(sr_store *st)
{
    /* a viewer's writer may group an acknowledgement and its audit row in
     * one transaction; what it may write inside stays limited */
    if (st->flags & SR_STORE_READONLY)
        return SR_EINVAL;
    if (st->in_batch || st->in_read)
        return SR_EINVAL;
    int rc = store_exec(st, "BEGIN IMMEDIATE");
    if (rc)
        return rc;
    st->in_batch = 1;
    st->batch_now = sr_now_ms();
    store_untouch(st);
    /* other processes may have written since the last transaction */
    for (size_t i = 0; i < st->n_metrics; i++)
        st->metrics[i].max_known = 0;
    return 0;
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
    if ((rc = store_load_entity_rows(st, (int64_t)st->n_entities)) ||
        (rc = store_take_touches(st))) {
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
    int rc = store_pend_flush(st);
    if (!rc)
        rc = store_flush_cells(st);
    if (!rc)
        rc = store_bump_changes(st);
    if (!rc)
        rc = store_exec(st, "COMMIT");
    if (rc) {
        sr_store_rollback(st);
        return rc;
    }
    st->in_batch = 0;
    store_untouch(st);
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
        store_exec(st, "ROLLBACK");
        memcpy(st->errmsg, why, sizeof why);
    }
    st->in_batch = 0;
    st->n_pend = 0;
    st->keys_len = 0;
    cells_clear(&st->cells);
    cells_clear(&st->up);
    store_untouch(st);
    /* ids handed out in the failed transaction are gone */
    store_load_entities(st);
}
