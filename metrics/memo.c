/*
 * memo.c - an open-addressing hash table of stamped entries (memo.h).
 *
 * Slots hold the key, the stamp and a heap copy of the entry's bytes;
 * linear probing, the table doubled at half load. The bytes in use (slots
 * and entries) are counted; a put that would pass max_bytes first empties
 * the table, which is simpler than an eviction order and, for a screen that
 * reuses the same few thousand entries at every refresh, as good.
 */
#include "memo.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vals.h"

typedef struct {
    sr_memo_key key;
    sr_memo_stamp stamp;
    void *data; /* NULL: the slot is free */
    size_t len;
} slot;

struct sr_memo {
    slot *slots;
    size_t cap; /* a power of two */
    size_t used;
    size_t bytes; /* slots plus entries */
    size_t max_bytes;
    int64_t hits, misses;
};

#define MEMO_CAP0 1024

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
    m->bytes = MEMO_CAP0 * sizeof *m->slots;
    m->max_bytes = max_bytes;
    *out = m;
    return 0;
}

static void clear(sr_memo *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        free(m->slots[i].data);
        m->slots[i].data = NULL;
    }
    m->used = 0;
    m->bytes = m->cap * sizeof *m->slots;
}

void sr_memo_destroy(sr_memo *m)
{
    if (!m)
        return;
    clear(m);
    free(m->slots);
    free(m);
}

static uint64_t mix(uint64_t h, int64_t v)
{
    h ^= (uint64_t)v;
    h *= 0x100000001b3ULL;
    h ^= h >> 29;
    return h;
}

static size_t hash(const sr_memo_key *k)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    h = mix(h, k->a);
    h = mix(h, k->b);
    h = mix(h, k->c);
    h = mix(h, k->d);
    h = mix(h, k->e);
    h = mix(h, k->f);
    return (size_t)(h ^ (h >> 32));
}

static bool same_key(const sr_memo_key *x, const sr_memo_key *y)
{
    return x->a == y->a && x->b == y->b && x->c == y->c && x->d == y->d && x->e == y->e &&
           x->f == y->f;
}

/* The slot of key, or the free slot where it would go. */
static slot *find(const sr_memo *m, const sr_memo_key *key)
{
    size_t mask = m->cap - 1;
    for (size_t i = hash(key) & mask;; i = (i + 1) & mask) {
        slot *s = &m->slots[i];
        if (!s->data || same_key(&s->key, key))
            return s;
    }
}

const void *sr_memo_get(sr_memo *m, const sr_memo_key *key, const sr_memo_stamp *stamp, size_t *len)
{
    slot *s = find(m, key);
    /* the sums are compared bit for bit: the same cells give the same sum */
    if (!s->data || s->stamp.n != stamp->n ||
        memcmp(&s->stamp.sum, &stamp->sum, sizeof stamp->sum) != 0) {
        m->misses++;
        return NULL;
    }
    m->hits++;
    *len = s->len;
    return s->data;
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
        if (old[i].data)
            *find(m, &old[i].key) = old[i];
    }
    free(old);
    m->bytes += (ncap - ocap) * sizeof *ns;
    return 0;
}

int sr_memo_put(sr_memo *m, const sr_memo_key *key, const sr_memo_stamp *stamp, const void *data,
                size_t len)
{
    /* an entry's bytes are never empty, so that data != NULL marks a used slot */
    void *copy = malloc(len ? len : 1);
    if (!copy)
        return SR_ENOMEM;
    if (len)
        memcpy(copy, data, len);
    slot *s = find(m, key);
    if (s->data) {
        /* the same key again: replaced in place, its probe chain unchanged */
        m->bytes -= s->len;
        free(s->data);
    } else {
        bool full = (m->used + 1) * 2 > m->cap;
        /* the slots take at most half the budget; past it, start again */
        if (m->bytes + len > m->max_bytes || (full && m->cap * 2 * sizeof *s > m->max_bytes / 2)) {
            clear(m);
        } else if (full && grow(m)) {
            free(copy);
            return SR_ENOMEM;
        }
        s = find(m, key);
        m->used++;
    }
    s->key = *key;
    s->stamp = *stamp;
    s->data = copy;
    s->len = len;
    m->bytes += len;
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

void sr_memo_counts(const sr_memo *m, int64_t *hits, int64_t *misses)
{
    *hits = m ? m->hits : 0;
    *misses = m ? m->misses : 0;
}

size_t sr_memo_bytes(const sr_memo *m)
{
    return m ? m->bytes : 0;
}
