/*
 * store_alert.c - the alert table (alerts.h: the collector writes alerts, a
 * viewer acknowledges or silences them) and the append-only audit log.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "store_int.h"

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

/* Reads a row of ALERT_COLUMNS; SR_ECORRUPT for an unknown state or kind. */
static int read_alert(sqlite3_stmt *q, sr_alert *a)
{
    memset(a, 0, sizeof *a);
    store_copy_col(a->key, sizeof a->key, q, 0);
    store_copy_col(a->panel, sizeof a->panel, q, 1);
    store_copy_col(a->metric, sizeof a->metric, q, 2);
    store_copy_col(a->entity, sizeof a->entity, q, 3);
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
    store_copy_col(a->acked_by, sizeof a->acked_by, q, 9);
    a->acked_at_ms = sqlite3_column_int64(q, 10);
    store_copy_col(a->note, sizeof a->note, q, 11);
    a->silenced_until_ms = sqlite3_column_int64(q, 12);
    a->cleared_at_ms = sqlite3_column_int64(q, 13);
    const char *kind = (const char *)sqlite3_column_text(q, 14);
    if (!kind || sr_alert_kind_parse(kind, &a->kind))
        return SR_ECORRUPT;
    a->band_low = col_real(q, 15);
    a->band_high = col_real(q, 16);
    const char *side = (const char *)sqlite3_column_text(q, 17);
    a->side = SR_UNUSUAL_NONE;
    for (sr_unusual u = SR_UNUSUAL_HIGH; side && u <= SR_UNUSUAL_LOW; u++)
        if (strcmp(side, sr_unusual_name(u)) == 0)
            a->side = u;
    return 0;
}

int sr_store_alert_get(sr_store *st, const char *key, sr_alert *out)
{
    sqlite3_stmt *q;
    int rc = store_prepare(st, "SELECT " ALERT_COLUMNS " FROM alert WHERE key = ?1", &q);
    if (rc)
        return rc;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    int err = rc == SQLITE_ROW    ? read_alert(q, out)
              : rc == SQLITE_DONE ? SR_ENOENT
                                  : store_sql_err(st, rc);
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
    if (!a->key[0] || !a->panel[0] || !a->metric[0] || (unsigned)a->state >= SR_ALERT_STATE_COUNT ||
        (unsigned)a->kind >= SR_ALERT_KIND_COUNT)
        return SR_EINVAL;
    sqlite3_stmt *q;
    int rc = store_prepare(
        st,
        "INSERT OR REPLACE INTO alert(" ALERT_COLUMNS ") VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
        "?18)",
        &q);
    if (rc)
        return rc;
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
    sqlite3_bind_text(q, 15, sr_alert_kind_name(a->kind), -1, SQLITE_STATIC);
    bind_real(q, 16, a->band_low);
    bind_real(q, 17, a->band_high);
    if (a->side == SR_UNUSUAL_HIGH || a->side == SR_UNUSUAL_LOW)
        sqlite3_bind_text(q, 18, sr_unusual_name(a->side), -1, SQLITE_STATIC);
    return store_step_done(st, q, true);
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
    if ((rc = store_prepare(st, "DELETE FROM alert WHERE key = ?1", &q)))
        return rc;
    sqlite3_bind_text(q, 1, old_key, -1, SQLITE_STATIC);
    return store_step_done(st, q, true);
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
    int rc = store_prepare(st,
                           "SELECT id, at, user, role, tty, ssh, action, detail FROM audit "
                           "WHERE at >= ?1 ORDER BY id",
                           &q);
    if (rc)
        return rc;
    sqlite3_bind_int64(q, 1, since_ms);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        sr_audit_row r = {.id = sqlite3_column_int64(q, 0), .at_ms = sqlite3_column_int64(q, 1)};
        const char **text[] = {&r.user, &r.role, &r.tty, &r.ssh, &r.action, &r.detail};
        for (int i = 0; i < 6; i++)
            *text[i] = col_text(q, 2 + i);
        int r2 = cb(ctx, &r);
        if (r2) {
            sqlite3_finalize(q);
            return r2;
        }
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? 0 : store_sql_err(st, rc);
}

int sr_store_alert_list(sr_store *st, unsigned states, sr_alert **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *q = store_stmt(st, ST_ALERT_LIST);
    if (!q)
        return store_fail(st, SR_EIO);
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
        err = store_sql_err(st, rc);
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
    if (own && (rc = store_exec(st, "BEGIN IMMEDIATE")))
        return rc;
    sr_alert a;
    if (!(rc = sr_store_alert_get(st, key, &a)) && !(rc = fn(&a, arg, now)))
        rc = alert_write(st, &a);
    if (own && !rc)
        rc = store_exec(st, "COMMIT");
    if (own && rc)
        store_exec(st, "ROLLBACK");
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

int sr_store_audit_add(sr_store *st, const sr_audit_row *row)
{
    if (st->flags & SR_STORE_READONLY)
        return SR_EINVAL;
    if (!row->user || !row->role || !row->action)
        return SR_EINVAL;
    sqlite3_stmt *q;
    int rc = store_prepare(st,
                           "INSERT INTO audit(at, user, role, tty, ssh, action, detail) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                           &q);
    if (rc)
        return rc;
    sqlite3_bind_int64(q, 1, row->at_ms);
    sqlite3_bind_text(q, 2, row->user, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, row->role, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, row->tty ? row->tty : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, row->ssh ? row->ssh : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, row->action, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 7, row->detail ? row->detail : "", -1, SQLITE_STATIC);
    return store_step_done(st, q, true);
}
