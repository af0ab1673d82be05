/*
 * store_sample.c - the store's raw samples: storing them (the queue of new
 * ones, duplicates), retention, and reading them back.
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
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_int.h"

/* The raw samples a handle keeps in read transactions (rawhours.h): 24
 * bytes a sample. A page asks the hour running and the hours its windows
 * start in, a few per metric: room for those of a busy force's page, and
 * no more, so that the hours the clock has left soon make room. */
#define RAWHOURS_BYTES (256u << 10)
#define RAWHOURS_HOURS 24

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
int store_pend_flush(sr_store *st)
{
    int n = st->n_pend, rows = n == PEND_ROWS ? PEND_ROWS : 1, rc = 0;
    sqlite3_stmt *q = st->stmt[rows == PEND_ROWS ? ST_INSERT_MANY : ST_INSERT];
    for (int i = 0; i < n && !rc; i += rows) {
        for (int r = 0; r < rows; r++)
            bind_sample(st, q, 6 * r, &st->pend[i + r]);
        if ((rc = store_step_done(st, q, false)) == 0 && sqlite3_changes(st->db) != rows) {
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
        int rc = store_pend_flush(st);
        if (rc)
            return rc;
        sqlite3_stmt *q = st->stmt[ST_MAX_TS];
        sqlite3_bind_int64(q, 1, m->id);
        sr_ms max;
        rc = store_step_int(st, q, false, &max);
        if (rc && rc != SR_ENODATA)
            return rc;
        bool none = rc == SR_ENODATA;
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
    return ++st->n_pend == PEND_ROWS ? store_pend_flush(st) : 0;
}

void sr_store_set_accept_ahead(sr_store *st, sr_ms ahead_ms)
{
    st->accept_ahead_ms = ahead_ms < 0 ? 0 : ahead_ms;
}

/*
 * The one rule for a plausible sample (sr_store_sample_fault): what is
 * wrong with s, of metric m (NULL: unknown here), in words into buf; with
 * buf NULL only whether (no formatting: sr_store_put's path, once a
 * sample). NULL when nothing is.
 */
static const char *fault(sr_store *st, const metric_rec *m, const sr_sample *s, char *buf,
                         size_t len)
{
#define SAY(...) (buf ? (snprintf(buf, len, __VA_ARGS__), buf) : "")
    if (m && m->kind == SR_KIND_RATIO)
        return SAY("metric %s is a ratio, computed from two others, never fed", s->metric);
    if (!s->entity || !*s->entity)
        return SAY("empty entity");
    if (!store_valid_path(s->entity))
        return SAY("malformed entity path");
    if (!isfinite(s->value))
        return SAY("value not finite");
    if (fabs(s->value) > SR_VALUE_MAX)
        return SAY("value %g beyond +-1e15, more than any count, time or amount", s->value);
    /* a batch reads the clock once, at its start */
    sr_ms latest = (st->in_batch ? st->batch_now : sr_now_ms()) + st->accept_ahead_ms;
    if (s->ts_ms >= 0 && s->ts_ms <= latest)
        return NULL;
    if (!buf)
        return "";
    /* the time as a date, whatever its year */
    time_t secs = (time_t)(s->ts_ms / 1000 - (s->ts_ms % 1000 < 0));
    struct tm tm;
    char when[64] = "?";
    if (gmtime_r(&secs, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (s->ts_ms < 0)
        return SAY("time %s is before 1970-01-01", when);
    char ahead[32];
    sr_format_duration(st->accept_ahead_ms, ahead, sizeof ahead);
    return SAY("time %s is more than %s ahead of the clock ([sitrep] accept_ahead)", when, ahead);
#undef SAY
}

const char *sr_store_sample_fault(sr_store *st, const sr_sample *s, char *buf, size_t len)
{
    const metric_rec *m = s->metric ? store_find_metric(st, s->metric) : NULL;
    return fault(st, m, s, buf, len);
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
    metric_rec *m = s->metric ? store_find_metric(st, s->metric) : NULL;
    if (!m)
        return SR_ENOENT;
    if (fault(st, m, s, NULL, 0))
        return SR_EINVAL;
    int64_t entity;
    int rc = store_entity_ensure(st, s->entity, &entity);
    if (rc)
        return rc;
    uint64_t dedup;
    const char *key = s->key && *s->key ? s->key : NULL;
    if (key) {
        dedup = sr_fnv1a(key, strlen(key), SR_FNV_BASIS);
    } else {
        double v = s->value == 0 ? 0.0 : s->value; /* -0 and 0 are the same sample */
        dedup = sr_fnv1a(&v, sizeof v, 0x84222325cbf29ce4ULL);
    }
    pending p = {m->id, s->ts_ms, entity, (int64_t)dedup, s->value, 0};
    bool fresh;
    if ((rc = is_new(st, m, s->ts_ms, entity, p.dedup, &fresh)))
        return rc;
    if (fresh) {
        if ((rc = pend_add(st, &p, key)))
            return rc;
        store_mark_touched(m, s->ts_ms, s->ts_ms);
        return store_accumulate(st, m, entity, s->ts_ms, s->value);
    }
    if (s->ts_ms == m->max_ts)
        m->at_max_all = 0; /* it may be stored now, and is not remembered */
    if ((rc = store_pend_flush(st)))
        return rc;
    sqlite3_stmt *q = st->stmt[ST_INSERT];
    bind_sample(st, q, 0, &p);
    if (key)
        sqlite3_bind_text(q, 6, key, -1, SQLITE_STATIC);
    if ((rc = store_step_done(st, q, false)))
        return rc;
    if (sqlite3_changes(st->db) == 0) {
        *duplicate = true;
        return 0;
    }
    store_mark_touched(m, s->ts_ms, s->ts_ms);
    return store_accumulate(st, m, entity, s->ts_ms, s->value);
}

int sr_store_retain(sr_store *st, sr_ms cutoff_ms, int64_t *deleted)
{
    *deleted = 0;
    if (st->flags & (SR_STORE_READONLY | SR_STORE_VIEWER))
        return SR_EINVAL;
    int own = !st->in_batch;
    int rc;
    if (own ? (rc = sr_store_begin(st)) : (rc = store_pend_flush(st)))
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
            if ((rc = store_prepare(st, sql[i], &q)))
                goto out;
            sqlite3_bind_int64(q, 1, st->metrics[m].id);
            /* a rollup bucket is dropped only when it ends before the cutoff */
            sqlite3_bind_int64(q, 2, i == 0 ? cutoff_ms : sr_floor_ms(cutoff_ms, SR_MS_HOUR));
            if ((rc = store_step_done(st, q, true)))
                goto out;
            if (i < 2 && sqlite3_changes(st->db) > 0)
                store_mark_touched(&st->metrics[m], INT64_MIN, cutoff_ms);
            if (i == 0)
                *deleted += sqlite3_changes(st->db);
        }
    }
    sqlite3_stmt *q;
    if ((rc = store_prepare(st, "DELETE FROM reject WHERE at < ?1", &q)))
        goto out;
    sqlite3_bind_int64(q, 1, cutoff_ms);
    rc = store_step_done(st, q, true);
out:
    if (own) {
        if (rc)
            sr_store_rollback(st);
        else
            rc = sr_store_commit(st);
    }
    return rc;
}

int sr_store_newest(sr_store *st, sr_ms *out)
{
    int flushed = store_pend_flush(st);
    if (flushed)
        return flushed;
    /* one index probe per metric: the sample key leads with (metric, ts) */
    return store_query_int(
        st, "SELECT max((SELECT max(ts) FROM sample s WHERE s.metric = m.id)) FROM metric m", out);
}

/* ---- reading ---- */

/* Binds (metric, from, to) of a raw-sample scan. */
static void range_bind(sqlite3_stmt *q, int64_t metric, sr_ms from, sr_ms to)
{
    store_bind_int64s(q, 1, (const int64_t[]){metric, from, to}, 3);
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
        sqlite3_stmt *q = store_stmt(st, ST_SCAN_HOUR);
        if (!q)
            return store_fail(st, SR_EIO);
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
        if ((rc = store_scan_end(st, q, rc, 0)) ||
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

/* The callback of a scan in time order: each row whole (raw), or only its
 * value (value: the statement then reads no other column). */
typedef struct {
    sr_raw_cb raw;
    sr_value_cb value;
    void *ctx;
} scan_cb;

/* The rows of metric in [from, to) to cb, from the handle's copy of their
 * hour when there is one (hour_rows), else from the table. */
static int scan(sr_store *st, int64_t metric, sr_ms from, sr_ms to, const scan_cb *cb)
{
    int rc = store_pend_flush(st);
    if (rc)
        return rc;
    const sr_raw_row *r, *end;
    if ((rc = hour_rows(st, metric, from, to, &r, &end)))
        return rc;
    for (int stop; r && r < end; r++) {
        if ((stop = cb->raw ? cb->raw(cb->ctx, r->entity, r->ts, r->value)
                            : cb->value(cb->ctx, r->value)))
            return stop;
    }
    if (r)
        return 0;
    sqlite3_stmt *q = st->stmt[cb->raw ? ST_SCAN_RAW : ST_SCAN_VALUES];
    range_bind(q, metric, from, to);
    int stop = 0;
    rc = SQLITE_DONE;
    while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW)
        stop = cb->raw ? cb->raw(cb->ctx, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
                                 sqlite3_column_double(q, 2))
                       : cb->value(cb->ctx, sqlite3_column_double(q, 0));
    return store_scan_end(st, q, rc, stop);
}

int sr_store_scan_raw(sr_store *st, int64_t metric, sr_ms from, sr_ms to, sr_raw_cb cb, void *ctx)
{
    return scan(st, metric, from, to, &(scan_cb){.raw = cb, .ctx = ctx});
}

int sr_store_scan_values(sr_store *st, int64_t metric, sr_ms from, sr_ms to, sr_value_cb cb,
                         void *ctx)
{
    return scan(st, metric, from, to, &(scan_cb){.value = cb, .ctx = ctx});
}

int sr_store_scan_raw_desc(sr_store *st, int64_t metric, sr_ms from, sr_ms to, sr_raw_key_cb cb,
                           void *ctx)
{
    int flushed = store_pend_flush(st);
    if (flushed)
        return flushed;
    sqlite3_stmt *q = st->stmt[ST_SCAN_RAW_DESC];
    range_bind(q, metric, from, to);
    int rc = SQLITE_DONE, stop = 0;
    while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW)
        stop = cb(ctx, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
                  sqlite3_column_double(q, 2), (const char *)sqlite3_column_text(q, 3));
    return store_scan_end(st, q, rc, stop);
}
