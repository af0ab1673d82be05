/*
 * store_metric.c - the store's metrics: the handle's list of them, and
 * their change counters.
 *
 * Change counters (v8): a commit that stored samples of a metric, or a
 * retention that deleted some, adds one to that metric's `changes` in the
 * same transaction, so that a reader that sees PRAGMA data_version move can
 * tell which metrics moved with it (sr_store_changes) and recompute only
 * what shows them; a commit of nothing but a source's status row bumps none.
 * The times each commit touched go to the `touch` log, which a reader takes
 * in at the start of a read transaction (stamps.h, rawhours.h).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* The `touch` rows kept: a reader that has missed more forgets its stamps. */
#define TOUCH_KEEP 4096

int store_load_metrics(sr_store *st)
{
    sqlite3_stmt *q = store_stmt(st, ST_METRICS);
    if (!q)
        return store_fail(st, SR_EIO);
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
    return rc == SQLITE_DONE ? 0 : store_sql_err(st, rc);
}

/* Reads every metric's change counter (at open with cb NULL: the
 * baseline) and keeps them as seen. */
int sr_store_changes(sr_store *st, sr_store_changed_fn cb, void *ctx)
{
    sqlite3_stmt *q = store_stmt(st, ST_CHANGES);
    if (!q)
        return store_fail(st, SR_EIO);
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
        return rc == SR_ENOMEM ? rc : store_sql_err(st, rc);
    }
    free(st->seen);
    st->seen = v;
    st->n_seen = n;
    return 0;
}

/* Adds one to the change counter of every metric this transaction touched. */
int store_bump_changes(sr_store *st)
{
    for (size_t i = 0; i < st->n_metrics; i++) {
        metric_rec *m = &st->metrics[i];
        if (!m->touched)
            continue;
        sqlite3_stmt *q;
        int rc = store_prepare(st, "UPDATE metric SET changes = changes + 1 WHERE id = ?1", &q);
        if (rc)
            return rc;
        sqlite3_bind_int64(q, 1, m->id);
        if ((rc = store_step_done(st, q, true)) ||
            (rc = store_prepare(st, "INSERT INTO touch(metric, lo, hi) VALUES (?1, ?2, ?3)", &q)))
            return rc;
        store_bind_int64s(q, 1, (const int64_t[]){m->id, m->touch_lo, m->touch_hi}, 3);
        if ((rc = store_step_done(st, q, true)))
            return rc;
        if (sqlite3_last_insert_rowid(st->db) % 256 == 0) {
            char sql[96];
            snprintf(sql, sizeof sql, "DELETE FROM touch WHERE seq <= %lld",
                     (long long)(sqlite3_last_insert_rowid(st->db) - TOUCH_KEEP));
            if ((rc = store_exec(st, sql)))
                return rc;
        }
    }
    return 0;
}

/* Samples of m at the times [lo, hi] were stored or deleted. */
void store_mark_touched(metric_rec *m, sr_ms lo, sr_ms hi)
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
int store_take_touches(sr_store *st)
{
    bool first = st->touch_seen < 0;
    sqlite3_stmt *q = store_stmt(st, first ? ST_TOUCH_MAX : ST_TOUCH_NEW);
    if (!q)
        return store_fail(st, SR_EIO);
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
        if (seq != st->touch_seen + 1)
            store_forget_cell_nodes(st, 0);
        store_forget_cell_nodes(st, metric);
        if (st->stamps)
            sr_stamps_changed(st->stamps, metric, lo, hi);
        if (st->rawhours)
            sr_rawhours_changed(st->rawhours, metric, lo, hi);
        st->touch_seen = seq;
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : store_sql_err(st, rc);
}

void store_untouch(sr_store *st)
{
    for (size_t i = 0; i < st->n_metrics; i++)
        st->metrics[i].touched = 0;
}

metric_rec *store_find_metric(sr_store *st, const char *name)
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
    const metric_rec *m = store_find_metric(st, name);
    if (m && m->kind == kind)
        return 0;
    if (st->flags & (SR_STORE_READONLY | SR_STORE_VIEWER))
        return m ? 0 : SR_ENOENT;
    sqlite3_stmt *q;
    const char *sql = m ? "UPDATE metric SET kind = ?2 WHERE name = ?1"
                        : "INSERT INTO metric(name, kind) VALUES (?1, ?2)";
    int rc = store_prepare(st, sql, &q);
    if (rc)
        return rc;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, (int)kind);
    if ((rc = store_step_done(st, q, true)))
        return rc;
    return store_load_metrics(st);
}

int sr_store_metric_id(sr_store *st, const char *name, int64_t *id)
{
    const metric_rec *m = store_find_metric(st, name);
    if (!m && (st->flags & SR_STORE_READONLY)) {
        int rc = store_load_metrics(st);
        if (rc)
            return rc;
        m = store_find_metric(st, name);
    }
    if (!m)
        return SR_ENOENT;
    *id = m->id;
    return 0;
}
