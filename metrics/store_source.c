/*
 * store_source.c - the sources' health rows, which metrics each source has
 * written, and the rows a source rejected.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

void store_copy_col(char *dst, size_t len, sqlite3_stmt *q, int col)
{
    const unsigned char *t = sqlite3_column_text(q, col);
    snprintf(dst, len, "%s", t ? (const char *)t : "");
}

static void read_source(sqlite3_stmt *q, sr_source_health *h)
{
    memset(h, 0, sizeof *h);
    store_copy_col(h->name, sizeof h->name, q, 0);
    store_copy_col(h->type, sizeof h->type, q, 1);
    h->last_poll_ms = sqlite3_column_int64(q, 2);
    h->last_ok_ms = sqlite3_column_int64(q, 3);
    h->cursor_ms = sqlite3_column_int64(q, 4);
    store_copy_col(h->last_error, sizeof h->last_error, q, 5);
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
    int rc = store_step_done(st, q, false);
    if (!rc && duplicate)
        *duplicate = sqlite3_changes(st->db) == 0;
    return rc;
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
    return rc == SQLITE_DONE ? SR_ENOENT : store_sql_err(st, rc);
}

int sr_store_source_put(sr_store *st, const sr_source_health *h)
{
    sqlite3_stmt *q = st->stmt[ST_SOURCE_PUT];
    if (!q)
        return SR_EINVAL;
    sqlite3_bind_text(q, 1, h->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, h->type, -1, SQLITE_STATIC);
    store_bind_int64s(q, 3, (const int64_t[]){h->last_poll_ms, h->last_ok_ms, h->cursor_ms}, 3);
    sqlite3_bind_text(q, 6, h->last_error, -1, SQLITE_STATIC);
    const int64_t counts[] = {h->accepted, h->duplicates,   h->rejected,    h->polls,
                              h->failures, h->next_poll_ms, h->interval_ms, h->timeout_ms};
    store_bind_int64s(q, 7, counts, 8);
    return store_step_done(st, q, false);
}

int sr_store_source_metric(sr_store *st, const char *source, const char *metric)
{
    const metric_rec *m = store_find_metric(st, metric);
    if (!m)
        return SR_ENOENT;
    sqlite3_stmt *q;
    int rc = store_prepare(
        st, "INSERT OR IGNORE INTO source_metric(source, metric) VALUES (?1, ?2)", &q);
    if (rc)
        return rc;
    sqlite3_bind_text(q, 1, source, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, m->id);
    return store_step_done(st, q, true);
}

int sr_store_metric_sources(sr_store *st, const char *metric, char (*names)[SR_NAME_MAX],
                            size_t max, size_t *n)
{
    *n = 0;
    int64_t id;
    if (sr_store_metric_id(st, metric, &id))
        return 0;
    sqlite3_stmt *q = store_stmt(st, ST_METRIC_SOURCES);
    if (!q)
        return store_fail(st, SR_EIO);
    sqlite3_bind_int64(q, 1, id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && *n < max)
        store_copy_col(names[(*n)++], SR_NAME_MAX, q, 0);
    sqlite3_reset(q);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_sql_err(st, rc);
}

int sr_store_source_list(sr_store *st, sr_source_health **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *q = store_stmt(st, ST_SOURCE_LIST);
    if (!q)
        return store_fail(st, SR_EIO);
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
    return rc == SQLITE_DONE ? 0 : store_sql_err(st, rc);
}

int sr_store_rejects(sr_store *st, const char *source, int limit,
                     int (*cb)(void *ctx, const sr_reject_row *row), void *ctx)
{
    sqlite3_stmt *q;
    const char *sql = "SELECT id, source, location, at, raw, reason FROM (SELECT * FROM reject "
                      "WHERE (?1 IS NULL OR source = ?1) ORDER BY id DESC LIMIT ?2) ORDER BY id";
    int rc = store_prepare(st, sql, &q), stop = 0;
    if (rc)
        return rc;
    if (source)
        sqlite3_bind_text(q, 1, source, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, limit > 0 ? limit : -1);
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
    return rc == SQLITE_DONE ? 0 : store_sql_err(st, rc);
}

int sr_store_reject_count(sr_store *st, const char *source, int64_t *out)
{
    sqlite3_stmt *q;
    int rc = store_prepare(st, "SELECT count(*) FROM reject WHERE ?1 IS NULL OR source = ?1", &q);
    if (rc)
        return rc;
    if (source)
        sqlite3_bind_text(q, 1, source, -1, SQLITE_STATIC);
    return store_step_int(st, q, true, out);
}
