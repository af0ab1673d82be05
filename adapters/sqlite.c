/*
 * sqlite.c - the "sqlite" adapter: a read-only query against another
 * SQLite database, each poll reading the rows past a cursor (sql.h), each
 * row mapped to a sample by the shared mapping (map.h).
 *
 *   [adapter.cad]
 *   type   = sqlite
 *   path   = /srv/cad/incidents.db
 *   query  = SELECT id, queued, unit, secs FROM incidents WHERE id > :last ORDER BY id
 *   cursor = id
 *   metric = response ...
 *
 * The database is opened lazily in poll() (a worker thread), so a missing
 * or locked file is a failing poll, retried with the collector's backoff,
 * never a blocked loop. It is opened with SQLITE_OPEN_READONLY, then
 * `PRAGMA query_only`, then an authorizer that allows reading and nothing
 * else; the query must be one statement that sqlite3_stmt_readonly()
 * accepts, with no parameters but :last and :since_ms, which are bound
 * (values never enter the SQL text). The connection and the prepared
 * statement are kept between polls; after an error other than a timeout or
 * a lock both are dropped and the next poll opens the file again.
 *
 * Time: the busy timeout and a progress handler both end at the poll's
 * budget (sr_sql_budget_ms), so a slow query is interrupted, not waited for.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "map.h"
#include "sql.h"

#define SQLITE_DEFAULT_BUSY_MS 1000
#define SQLITE_PATH_MAX 4096
#define SQLITE_PROGRESS_OPS 1000 /* VM steps between two looks at the clock */

typedef struct {
    sr_sql *q;
    char path[SQLITE_PATH_MAX];
    int64_t busy_ms;
    sqlite3 *db;
    sqlite3_stmt *stmt;
    int last_idx, since_idx; /* parameter indexes; 0 = not used */
    int64_t deadline_ms;     /* sr_sql_clock_ms() at which the query is interrupted */
} sqlite_state;

static const sr_ad_option_spec sqlite_options[] = {
    {"path", 1, "the SQLite database file, opened read-only (relative to the config's directory)"},
    SR_SQL_OPTION_SPECS,
    {"busy_timeout", 0,
     "how long to wait while a writer locks the database, a duration (default 1s, at most the "
     "poll's timeout)"},
    SR_MAP_OPTION_SPECS,
    {NULL, 0, NULL},
};

static int sqlite_open(const sr_ad_options *opts, void **state, char *err, size_t errlen)
{
    const char *path = sr_ad_opt(opts, "path"), *v;
    if (!path || !*path) {
        snprintf(err, errlen, "path: required (the SQLite database file to read)");
        return -1;
    }
    sqlite_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    st->busy_ms = SQLITE_DEFAULT_BUSY_MS;
    if (sr_map_path(opts, path, st->path, sizeof st->path) < 0) {
        snprintf(err, errlen, "path: too long: '%.200s'", path);
        free(st);
        return -1;
    }
    if ((v = sr_ad_opt(opts, "busy_timeout")) && sr_sql_duration(v, &st->busy_ms) < 0) {
        snprintf(err, errlen, "busy_timeout: expected a duration such as 500ms or 2s, got '%s'", v);
        free(st);
        return -1;
    }
    if (sr_sql_create(opts, SR_SQL_SQLITE, &st->q, err, errlen) < 0) {
        free(st);
        return -1;
    }
    *state = st;
    return 0;
}

/* Allows what a read-only query needs; everything else fails to prepare. */
static int sqlite_authorize(void *ctx, int action, const char *a, const char *b, const char *c,
                            const char *d)
{
    (void)ctx;
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    return action == SQLITE_SELECT || action == SQLITE_READ || action == SQLITE_FUNCTION ||
                   action == SQLITE_RECURSIVE
               ? SQLITE_OK
               : SQLITE_DENY;
}

static int sqlite_progress(void *ctx)
{
    const sqlite_state *st = ctx;
    return sr_sql_clock_ms() >= st->deadline_ms;
}

static void sqlite_drop(sqlite_state *st)
{
    sqlite3_finalize(st->stmt);
    sqlite3_close(st->db);
    st->stmt = NULL;
    st->db = NULL;
}

/* Checks the prepared statement: one statement, read-only, only our
 * parameters. */
static int sqlite_check(sqlite_state *st, const char *tail, char *err, size_t errlen)
{
    sqlite3_stmt *extra = NULL;
    int rc = sqlite3_prepare_v2(st->db, tail, -1, &extra, NULL);
    sqlite3_finalize(extra);
    if (rc != SQLITE_OK || extra) {
        snprintf(err, errlen, "query: one statement only; more follows the first: '%.80s'", tail);
        return -1;
    }
    if (!sqlite3_stmt_readonly(st->stmt)) {
        snprintf(err, errlen, "query: only a read-only SELECT can be run");
        return -1;
    }
    for (int i = 1; i <= sqlite3_bind_parameter_count(st->stmt); i++) {
        const char *name = sqlite3_bind_parameter_name(st->stmt, i);
        if (!name || (strcmp(name, ":last") != 0 && strcmp(name, ":since_ms") != 0)) {
            snprintf(err, errlen,
                     "query: only :last and :since_ms can be used as parameters, found '%s'",
                     name ? name : "?");
            return -1;
        }
    }
    st->last_idx = sqlite3_bind_parameter_index(st->stmt, ":last");
    st->since_idx = sqlite3_bind_parameter_index(st->stmt, ":since_ms");
    return 0;
}

/* Opens the database read-only and prepares the query. */
static int sqlite_connect(sqlite_state *st, char *err, size_t errlen)
{
    int rc = sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s read-only: %s", st->path,
                 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        sqlite_drop(st);
        return -1;
    }
    const char *tail = NULL;
    if (sqlite3_exec(st->db, "PRAGMA query_only = 1", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_set_authorizer(st->db, sqlite_authorize, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot set %s read-only: %s", st->path, sqlite3_errmsg(st->db));
        sqlite_drop(st);
        return -1;
    }
    sqlite3_progress_handler(st->db, SQLITE_PROGRESS_OPS, sqlite_progress, st);
    rc = sqlite3_prepare_v3(st->db, sr_sql_text(st->q), -1, SQLITE_PREPARE_PERSISTENT, &st->stmt,
                            &tail);
    if (rc != SQLITE_OK || !st->stmt) {
        snprintf(err, errlen, "query: %s%s", st->stmt ? "" : "no statement; ",
                 rc == SQLITE_AUTH ? "not authorized (only reading is allowed)"
                                   : sqlite3_errmsg(st->db));
        sqlite_drop(st);
        return -1;
    }
    if (sqlite_check(st, tail, err, errlen) < 0) {
        sqlite_drop(st);
        return -1;
    }
    return 0;
}

static int sqlite_bind(sqlite_state *st, const sr_poll_info *info)
{
    const sr_sql_cell *last = sr_sql_last(st->q);
    int rc = SQLITE_OK;
    if (st->last_idx) {
        switch (last->kind) {
        case SR_SQL_INT:
            rc = sqlite3_bind_int64(st->stmt, st->last_idx, last->i);
            break;
        case SR_SQL_REAL:
            rc = sqlite3_bind_double(st->stmt, st->last_idx, last->d);
            break;
        case SR_SQL_TEXT:
            rc = sqlite3_bind_text(st->stmt, st->last_idx, last->text, -1, SQLITE_TRANSIENT);
            break;
        default:
            rc = sqlite3_bind_null(st->stmt, st->last_idx);
        }
    }
    if (rc == SQLITE_OK && st->since_idx)
        rc = sqlite3_bind_int64(st->stmt, st->since_idx, info->since_ms);
    return rc;
}

/* The cells of the current row. */
static void sqlite_cells(sqlite3_stmt *stmt, sr_sql_cell *cells, int n)
{
    for (int i = 0; i < n; i++) {
        sr_sql_cell *c = &cells[i];
        int type = sqlite3_column_type(stmt, i);
        *c = (sr_sql_cell){.kind = SR_SQL_TEXT};
        if (type == SQLITE_NULL) {
            c->kind = SR_SQL_NULL;
            continue;
        }
        if (type == SQLITE_INTEGER) {
            c->kind = SR_SQL_INT;
            c->i = sqlite3_column_int64(stmt, i);
        } else if (type == SQLITE_FLOAT) {
            c->kind = SR_SQL_REAL;
            c->d = sqlite3_column_double(stmt, i);
        }
        c->text = (const char *)sqlite3_column_text(stmt, i);
        if (!c->text)
            c->kind = SR_SQL_NULL; /* out of memory converting: no value */
    }
}

/* Steps through the rows into the sink. Returns the last sqlite3_step()
 * code (SQLITE_DONE or SQLITE_ROW when the poll is full), or -1 with err
 * set when the mapping stopped the poll. */
static int sqlite_rows(sqlite_state *st, sr_sink *sink, char *err, size_t errlen)
{
    int n = sqlite3_column_count(st->stmt);
    const char **names = calloc((size_t)n + 1, sizeof *names);
    sr_sql_cell *cells = calloc((size_t)n + 1, sizeof *cells);
    int rc = -1;
    if (!names || !cells) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++)
        names[i] = sqlite3_column_name(st->stmt, i);
    if (sr_sql_columns(st->q, names, (size_t)n, err, errlen) < 0)
        goto out;
    while ((rc = sqlite3_step(st->stmt)) == SQLITE_ROW) {
        sqlite_cells(st->stmt, cells, n);
        int r = sr_sql_row(st->q, cells, sink, err, errlen);
        if (r < 0) {
            rc = -1;
            break;
        }
        if (r == SR_SQL_FULL)
            break;
    }
out:
    free(names);
    free(cells);
    return rc;
}

static int sqlite_poll(void *state, sr_poll_info *info, sr_sink *sink, char *err, size_t errlen)
{
    sqlite_state *st = state;
    int64_t budget = sr_sql_budget_ms(info);
    st->deadline_ms = sr_sql_clock_ms() + budget;
    sr_sql_begin(st->q, info);
    if (!st->db && sqlite_connect(st, err, errlen) < 0) {
        sr_sql_end(st->q, info, 0);
        return -1;
    }
    sqlite3_busy_timeout(st->db, (int)(st->busy_ms < budget ? st->busy_ms : budget));
    int rc = sqlite_bind(st, info);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "query: cannot bind :last: %s", sqlite3_errmsg(st->db));
    } else {
        rc = sqlite_rows(st, sink, err, errlen);
        if (rc == SQLITE_INTERRUPT)
            snprintf(err, errlen, "the query ran past the poll's budget of %lld ms and was stopped",
                     (long long)budget);
        else if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            snprintf(err, errlen, "%s is locked by a writer (waited %lld ms; see busy_timeout)",
                     st->path, (long long)(st->busy_ms < budget ? st->busy_ms : budget));
        else if (rc != SQLITE_DONE && rc != SQLITE_ROW && rc != -1)
            snprintf(err, errlen, "query: %s", sqlite3_errmsg(st->db));
    }
    sqlite3_reset(st->stmt);
    sqlite3_clear_bindings(st->stmt);
    int ok = rc == SQLITE_DONE || rc == SQLITE_ROW;
    if (!ok && rc != SQLITE_INTERRUPT && rc != SQLITE_BUSY && rc != SQLITE_LOCKED && rc != -1)
        sqlite_drop(st);
    sr_sql_end(st->q, info, ok);
    return ok ? 0 : -1;
}

static void sqlite_close(void *state)
{
    sqlite_state *st = state;
    if (!st)
        return;
    sqlite_drop(st);
    sr_sql_destroy(st->q);
    free(st);
}

const sr_adapter sr_adapter_sqlite = {
    .abi_version = SR_ADAPTER_ABI,
    .type = "sqlite",
    .description = "rows of a read-only query against an SQLite database, past a cursor",
    .options = sqlite_options,
    .open = sqlite_open,
    .poll = sqlite_poll,
    .close = sqlite_close,
};
