/*
 * memo.h - figures of closed slices of time, computed once and reused
 * (metrics/query.c) until the data under them changes.
 *
 * An entry is named by a key (what was computed: metric, node, slice,
 * aggregate or bucket, as the caller packs them) and checked by a stamp:
 * the observation count and sum of the node's samples in the slice when it
 * was computed, read from the rollups at every use. Samples are never
 * changed in place, only added (late data) or deleted (retention), so a
 * slice whose count and sum are unchanged holds the same samples and the
 * entry is still true; any other stamp is a miss, and the caller computes
 * the figure again and puts it back.
 *
 * An entry is bytes (a result, an encoded sketch) or a sorted list of
 * values, kept in the compact encoding of metrics/vals.h (one to three
 * bytes a value for response times, instead of eight).
 *
 * Memory is bounded: the heap the memo holds (its table and its entries,
 * as malloc rounds them) stays within max_bytes. Past it, entries not used
 * since the eviction last passed them go first (CLOCK, second chance), so
 * what a screen reuses at every refresh stays while what it no longer asks
 * for leaves.
 *
 * A memo may stand in front of a slower one (the cache's persisted
 * entries, metrics/store_memo.c): a miss asks it (sr_memo_set_load), and the
 * entries computed here since they were last handed over can be handed to
 * it (sr_memo_each_fresh). Keys follow one convention for that: b is the
 * metric and d the start of the slice of time the entry is about
 * (persisted entries are pruned by them).
 */
#ifndef SR_MEMO_H
#define SR_MEMO_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

typedef struct sr_memo sr_memo;

typedef struct {
    int64_t a, b, c, d, e, f; /* what the caller computed, packed */
} sr_memo_key;

typedef struct {
    int64_t n;  /* observations of the slice when the entry was computed */
    double sum; /* and their sum */
} sr_memo_stamp;

/* Caller owns *out; free with sr_memo_destroy(). SR_ENOMEM possible. */
int sr_memo_create(size_t max_bytes, sr_memo **out);
void sr_memo_destroy(sr_memo *m);

/*
 * The entry of key if its stamp matches: its bytes (borrowed until the next
 * put or destroy; aligned for any type) and their length in *len; NULL on a
 * miss.
 */
const void *sr_memo_get(sr_memo *m, const sr_memo_key *key, const sr_memo_stamp *stamp,
                        size_t *len);

/*
 * Keeps (a copy of) len bytes for key and stamp, replacing any entry of
 * key, and makes room for them within the bound. An entry of more than an
 * eighth of max_bytes is not kept (it would push out too many others); nor
 * is one on SR_ENOMEM.
 */
int sr_memo_put(sr_memo *m, const sr_memo_key *key, const sr_memo_stamp *stamp, const void *data,
                size_t len);

/* sr_memo_put and sr_memo_get for entries kept here and never beyond (one
 * that a later window no longer asks for): never fresh, and a miss does not
 * look further. */
int sr_memo_put_local(sr_memo *m, const sr_memo_key *key, const sr_memo_stamp *stamp,
                      const void *data, size_t len);
const void *sr_memo_get_local(sr_memo *m, const sr_memo_key *key, const sr_memo_stamp *stamp,
                              size_t *len);

/*
 * On a miss (no entry, or another stamp), load is called: 0 and a copy of
 * an entry with exactly that stamp in *data (malloc; the memo frees it)
 * and *len, or non-zero for none. The entry is kept as if put, but not
 * fresh. NULL: no load.
 */
typedef int (*sr_memo_load_fn)(void *ctx, const sr_memo_key *key, const sr_memo_stamp *stamp,
                               void **data, size_t *len);
void sr_memo_set_load(sr_memo *m, sr_memo_load_fn load, void *ctx);

/*
 * Calls cb for each fresh entry (put here, not loaded, and not handed over
 * since), which is then no longer fresh; stops at cb's first non-zero
 * return (that entry stays fresh) and returns it.
 */
typedef int (*sr_memo_each_fn)(void *ctx, const sr_memo_key *key, const sr_memo_stamp *stamp,
                               const void *data, size_t len);
int sr_memo_each_fresh(sr_memo *m, sr_memo_each_fn cb, void *ctx);

/* Keeps sorted v[0..n) (v may be NULL when n is 0) for key and stamp, as
 * sr_memo_put() does, encoded. SR_ENOMEM possible. */
int sr_memo_put_values(sr_memo *m, const sr_memo_key *key, const sr_memo_stamp *stamp,
                       const double *v, size_t n);

/*
 * The values of key, put with sr_memo_put_values(), if its stamp matches:
 * decoded into *v (grown as needed: caller frees; *cap its size), their
 * number in *n, and 0. SR_ENOENT on a miss; SR_ECORRUPT when the entry is
 * not a list of values; SR_ENOMEM.
 */
int sr_memo_get_values(sr_memo *m, const sr_memo_key *key, const sr_memo_stamp *stamp, double **v,
                       size_t *cap, size_t *n);

/* Hits and misses since creation (the tests and the bench read them). */
void sr_memo_counts(const sr_memo *m, int64_t *hits, int64_t *misses);

/* The heap the memo holds now, at most max_bytes (0 for NULL). */
size_t sr_memo_bytes(const sr_memo *m);

#endif
