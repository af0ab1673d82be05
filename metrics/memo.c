/*
 * memo.c - an open-addressing hash table of stamped entries (memo.h).
 *
 * A slot holds an entry (one heap block: the key, the stamp, then the
 * entry's bytes), its key's hash, its length and a reference bit. Linear
 * probing; the table doubles at three quarters full while it takes at most
 * half the bound; a removal shifts the rest of its probe chain back (no
 * tombstones). The heap in use (the table, and each entry as malloc rounds
 * it) is counted in bytes.
 *
 * Eviction is CLOCK: a get that hits sets the entry's reference bit; a put
 * that needs room moves the hand over the slots, clearing the set bits it
 * passes and removing the first entry whose bit is clear. A new entry
 * starts with its bit clear, so that what was computed once and never
 * asked again leaves before what a screen reuses at every refresh. Making
 * room a few entries at a time, instead of emptying the table, lets a bound
 * smaller than a month's entries keep those in use.
 */
#include "memo.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vals.h"

typedef struct {
    sr_memo_key key;
    sr_memo_stamp stamp;
    unsigned char data[]; /* the entry's bytes */
} entry;

/* a memoised result is read in place: the bytes are aligned as malloc's */
_Static_assert(offsetof(entry, data) % _Alignof(max_align_t) == 0, "entry bytes misaligned");

typedef struct {
    entry *e;           /* NULL: the slot is free */
    uint32_t h;         /* hash of e's key */
    unsigned len : 30;  /* of e's bytes */
    unsigned ref : 1;   /* used since the hand last passed */
    unsigned fresh : 1; /* put here, not loaded, and not handed to sr_memo_each_fresh */
} slot;

#define MEMO_LEN_MAX 0x3fffffffu

struct sr_memo {
    slot *slots;
    size_t cap; /* a power of two */
    size_t used;
    size_t hand;  /* CLOCK's position in slots */
    size_t bytes; /* the table plus the entries, as malloc takes them */
    size_t max_bytes;
    int64_t hits, misses;
    sr_memo_load_fn load; /* where a miss looks next (NULL: nowhere) */
    void *load_ctx;
};

#define MEMO_CAP0 256

/* What malloc takes for n bytes (glibc: an 8-byte header, 16-byte granules,
 * 32 at least): the bound is on the heap, not on the bytes asked for. */
static size_t heap_size(size_t n)
{
    n = (n + 8 + 15) & ~(size_t)15;
    return n < 32 ? 32 : n;
}

static size_t entry_size(size_t len)
{
    return heap_size(sizeof(entry) + len);
}

int sr_memo_create(size_t max_bytes, sr_memo **out)
{
    sr_memo *m = calloc(1, sizeof *m);
    if (!m)
        return SR_ENOMEM;
    m->slots = calloc(MEMO_CAP0, sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return SR_ENOMEM;
    }
    m->cap = MEMO_CAP0;
    m->bytes = heap_size(MEMO_CAP0 * sizeof *m->slots);
    m->max_bytes = max_bytes;
    *out = m;
    return 0;
}

void sr_memo_destroy(sr_memo *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].e);
    free(m->slots);
    free(m);
}

static uint32_t hash(const sr_memo_key *k)
{
    int64_t w[] = {k->a, k->b, k->c, k->d, k->e, k->f};
    uint64_t h = sr_fnv1a(w, sizeof w, SR_FNV_BASIS);
    return (uint32_t)(h ^ (h >> 32));
}

static bool same_key(const sr_memo_key *x, const sr_memo_key *y)
{
    return x->a == y->a && x->b == y->b && x->c == y->c && x->d == y->d && x->e == y->e &&
           x->f == y->f;
}

/* The slot of key (of hash h), or the free slot where it would go. */
static slot *find(const sr_memo *m, const sr_memo_key *key, uint32_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        slot *s = &m->slots[i];
        if (!s->e || (s->h == h && same_key(&s->e->key, key)))
            return s;
    }
}

void sr_memo_set_load(sr_memo *m, sr_memo_load_fn load, void *ctx)
{
    m->load = load;
    m->load_ctx = ctx;
}

static int put(sr_memo *m, const sr_memo_key *key, const sr_memo_stamp *stamp, const void *data,
               size_t len, bool fresh);

static const void *get(sr_memo *m, const sr_memo_key *key, const sr_memo_stamp *stamp, size_t *len,
                       bool load)
{
    uint32_t h = hash(key);
    slot *s = find(m, key, h);
    /* the sums are compared bit for bit: the same cells give the same sum */
    if (!s->e || s->e->stamp.n != stamp->n ||
        memcmp(&s->e->stamp.sum, &stamp->sum, sizeof stamp->sum) != 0) {
        void *got;
        size_t n;
        if (load && m->load && m->load(m->load_ctx, key, stamp, &got, &n) == 0) {
            int rc = put(m, key, stamp, got, n, false);
            free(got);
            if (rc == 0 && (s = find(m, key, h))->e) {
                m->hits++;
                s->ref = 1;
                *len = s->len;
                return s->e->data;
            }
        }
        m->misses++;
        return NULL;
    }
    m->hits++;
    s->ref = 1;
    *len = s->len;
    return s->e->data;
}

const void *sr_memo_get(sr_memo *m, const sr_memo_key *key, const sr_memo_stamp *stamp, size_t *len)
{
    return get(m, key, stamp, len, true);
}

const void *sr_memo_get_local(sr_memo *m, const sr_memo_key *key, const sr_memo_stamp *stamp,
                              size_t *len)
{
    return get(m, key, stamp, len, false);
}

/* Frees the entry of slot i and closes the gap: each entry further along
 * the probe chain moves back into it when its home slot allows. */
static void remove_at(sr_memo *m, size_t i)
{
    size_t mask = m->cap - 1;
    m->bytes -= entry_size(m->slots[i].len);
    free(m->slots[i].e);
    m->used--;
    for (size_t j = (i + 1) & mask; m->slots[j].e; j = (j + 1) & mask) {
        size_t home = m->slots[j].h & mask;
        /* the gap lies between j's home and j: j's entry may fill it */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i] = (slot){0};
}

/* Removes one entry (the memo holds at least one): the hand's first whose
 * bit is clear, clearing the set bits it passes. The hand stays on the
 * removed slot, where an entry further along may have moved back. */
static void evict_one(sr_memo *m)
{
    size_t mask = m->cap - 1;
    for (;; m->hand = (m->hand + 1) & mask) {
        slot *s = &m->slots[m->hand];
        if (s->e && !s->ref) {
            remove_at(m, m->hand);
            return;
        }
        s->ref = 0;
    }
}

/* Another entry would fill the table past three quarters (short probe
 * chains: each slot holds its key's hash, so a probe rarely reads an
 * entry). */
static bool full(const sr_memo *m)
{
    return (m->used + 1) * 4 > m->cap * 3;
}

static int grow(sr_memo *m)
{
    size_t ncap = m->cap * 2;
    slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return SR_ENOMEM;
    slot *old = m->slots;
    size_t ocap = m->cap;
    m->slots = ns;
    m->cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        if (old[i].e)
            *find(m, &old[i].e->key, old[i].h) = old[i];
    }
    free(old);
    m->bytes += heap_size(ncap * sizeof *ns) - heap_size(ocap * sizeof *ns);
    m->hand &= ncap - 1;
    return 0;
}

int sr_memo_put(sr_memo *m, const sr_memo_key *key, const sr_memo_stamp *stamp, const void *data,
                size_t len)
{
    return put(m, key, stamp, data, len, true);
}

int sr_memo_put_local(sr_memo *m, const sr_memo_key *key, const sr_memo_stamp *stamp,
                      const void *data, size_t len)
{
    return put(m, key, stamp, data, len, false);
}

static int put(sr_memo *m, const sr_memo_key *key, const sr_memo_stamp *stamp, const void *data,
               size_t len, bool fresh)
{
    uint32_t h = hash(key);
    slot *s = find(m, key, h);
    if (s->e) /* the same key again: the old entry goes first */
        remove_at(m, (size_t)(s - m->slots));
    size_t need = entry_size(len);
    if (len > MEMO_LEN_MAX || need > m->max_bytes / 8)
        return 0;
    if (full(m)) {
        /* the table takes at most half the bound; past it, entries leave */
        if (heap_size(m->cap * 2 * sizeof *s) <= m->max_bytes / 2) {
            if (grow(m))
                return SR_ENOMEM;
        } else {
            while (full(m))
                evict_one(m);
        }
    }
    while (m->bytes + need > m->max_bytes && m->used > 0)
        evict_one(m);
    if (m->bytes + need > m->max_bytes)
        return 0; /* the table alone fills the bound */
    entry *e = malloc(sizeof *e + len);
    if (!e)
        return SR_ENOMEM;
    e->key = *key;
    e->stamp = *stamp;
    if (len)
        memcpy(e->data, data, len);
    s = find(m, key, h); /* the slots moved */
    *s = (slot){.e = e, .h = h, .len = (unsigned)len, .ref = 0, .fresh = fresh};
    m->used++;
    m->bytes += need;
    return 0;
}

int sr_memo_put_values(sr_memo *m, const sr_memo_key *key, const sr_memo_stamp *stamp,
                       const double *v, size_t n)
{
    unsigned char *b;
    size_t len;
    int rc = sr_vals_encode(v, n, &b, &len);
    if (rc)
        return rc;
    rc = sr_memo_put(m, key, stamp, b, len);
    free(b);
    return rc;
}

int sr_memo_get_values(sr_memo *m, const sr_memo_key *key, const sr_memo_stamp *stamp, double **v,
                       size_t *cap, size_t *n)
{
    *n = 0;
    size_t len, count;
    const unsigned char *b = sr_memo_get(m, key, stamp, &len);
    if (!b)
        return SR_ENOENT;
    if (sr_vals_count(b, len, &count))
        return SR_ECORRUPT;
    if (count > *cap) {
        double *nv = realloc(*v, count * sizeof *nv);
        if (!nv)
            return SR_ENOMEM;
        *v = nv;
        *cap = count;
    }
    int rc = sr_vals_decode(b, len, count, *v);
    if (!rc)
        *n = count;
    return rc;
}

int sr_memo_each_fresh(sr_memo *m, sr_memo_each_fn cb, void *ctx)
{
    for (size_t i = 0; m && i < m->cap; i++) {
        slot *s = &m->slots[i];
        if (!s->e || !s->fresh)
            continue;
        int rc = cb(ctx, &s->e->key, &s->e->stamp, s->e->data, s->len);
        if (rc)
            return rc;
        s->fresh = 0;
    }
    return 0;
}

void sr_memo_counts(const sr_memo *m, int64_t *hits, int64_t *misses)
{
    *hits = m ? m->hits : 0;
    *misses = m ? m->misses : 0;
}

size_t sr_memo_bytes(const sr_memo *m)
{
    return m ? m->bytes : 0;
}
