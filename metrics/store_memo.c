/*
 * store_memo.c - the handle's memos (memo.h) and the `memo` table: the
 * writer persists fresh entries (sr_store_memo_save), and a miss of any
 * handle's memo reads them from there.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

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

/* Binds key to ?1 to ?6 of ST_MEMO_GET or ST_MEMO_PUT. */
static void bind_key(sqlite3_stmt *q, const sr_memo_key *key)
{
    const int64_t k[6] = {key->a, key->b, key->c, key->d, key->e, key->f};
    store_bind_int64s(q, 1, k, 6);
}

/* The persisted entry of key with stamp (sr_memo_load_fn). */
static int memo_load(void *ctx, const sr_memo_key *key, const sr_memo_stamp *stamp, void **data,
                     size_t *len)
{
    sr_store *st = ctx;
    sqlite3_stmt *q = st->stmt[ST_MEMO_GET];
    bind_key(q, key);
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
    bind_key(q, key);
    sqlite3_bind_int64(q, 7, stamp->n);
    sqlite3_bind_double(q, 8, stamp->sum);
    sqlite3_bind_blob(q, 9, data, (int)len, SQLITE_STATIC);
    return store_step_done(w, q, false);
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
    int rc = store_exec(w, "BEGIN IMMEDIATE");
    sqlite3_busy_timeout(w->db, BUSY_MS);
    if (rc)
        return rc;
    if ((rc = sr_memo_each_fresh(from->memo, memo_save_cb, w))) {
        store_exec(w, "ROLLBACK");
        return rc;
    }
    return store_exec(w, "COMMIT");
}

sr_memo *sr_store_memo_recent(sr_store *st)
{
    if (!memo_usable(st))
        return NULL;
    if (!st->memo_recent && sr_memo_create(SR_STORE_MEMO_RECENT_BYTES, &st->memo_recent))
        st->memo_recent = NULL;
    return st->memo_recent;
}
