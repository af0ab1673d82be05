/*
 * store_entity.c - the store's entity tree, kept in memory: a table by id
 * (path and parent) and a map from path to id.
 *
 * Entities are only ever added, and an id's path and parent never change,
 * so a handle reads only the rows added since it last looked. A sample's
 * entity and its ancestors are made inside the batch that first stores it.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* ---- small string -> id hash map (open addressing) ---- */

/* The map's own hash (sr_fnv1a's is stored: the dedup of a key), eight
 * bytes a step: an entity's path is looked up for every sample. */
static uint64_t smap_hash(const char *s)
{
    size_t n = strlen(s);
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;
    for (; n >= 8; n -= 8, s += 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
    }
    w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0x94d049bb133111ebULL;
    return h ^ h >> 29;
}

static void smap_fini(smap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static int64_t smap_get(const smap *m, const char *key)
{
    if (!m->cap)
        return -1;
    for (size_t i = smap_hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->slots[i].key)
            return -1;
        if (strcmp(m->slots[i].key, key) == 0)
            return m->slots[i].id;
    }
}

static int smap_put(smap *m, const char *key, int64_t id)
{
    if ((m->len + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        smap_slot *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return SR_ENOMEM;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slots[i].key)
                continue;
            size_t j = smap_hash(m->slots[i].key) & (ncap - 1);
            while (ns[j].key)
                j = (j + 1) & (ncap - 1);
            ns[j] = m->slots[i];
        }
        free(m->slots);
        m->slots = ns;
        m->cap = ncap;
    }
    size_t i = smap_hash(key) & (m->cap - 1);
    while (m->slots[i].key) {
        if (strcmp(m->slots[i].key, key) == 0) {
            m->slots[i].id = id;
            return 0;
        }
        i = (i + 1) & (m->cap - 1);
    }
    char *k = strdup(key);
    if (!k)
        return SR_ENOMEM;
    m->slots[i].key = k;
    m->slots[i].id = id;
    m->len++;
    return 0;
}

/*
 * Forgets the entity table. The path strings are retired, not freed: callers
 * hold paths borrowed "until the store is closed" (sr_store_entity_path),
 * and a refresh or a rolled-back batch reloads the table under them.
 */
void store_free_entities(sr_store *st)
{
    for (size_t i = 0; i < st->n_entities; i++) {
        char *p = st->entities[i].path;
        if (!p)
            continue;
        char **nr = realloc(st->retired, (st->n_retired + 1) * sizeof *nr);
        if (nr) {
            st->retired = nr;
            st->retired[st->n_retired++] = p;
        }
        /* out of memory: the string is kept (leaked) rather than left dangling */
    }
    free(st->entities);
    st->entities = NULL;
    st->n_entities = 0;
    st->cap_entities = 0;
    st->same_seen = 0;
    smap_fini(&st->entity_ids);
}

/* ---- entities ---- */

static int entity_slot(sr_store *st, int64_t id)
{
    if (id < 0 || id > (int64_t)1 << 40)
        return SR_ERANGE;
    size_t n = (size_t)id + 1;
    if (n > st->cap_entities) {
        size_t cap = st->cap_entities ? st->cap_entities : 16;
        while (cap < n)
            cap *= 2;
        entity_rec *ne = realloc(st->entities, cap * sizeof *ne);
        if (!ne)
            return SR_ENOMEM;
        memset(ne + st->cap_entities, 0, (cap - st->cap_entities) * sizeof *ne);
        st->entities = ne;
        st->cap_entities = cap;
    }
    if (n > st->n_entities)
        st->n_entities = n;
    return 0;
}

/* Loads the entity rows with id >= from_id into the table (entities are
 * only ever added: an id's path and parent never change). */
int store_load_entity_rows(sr_store *st, int64_t from_id)
{
    sqlite3_stmt *q = store_stmt(st, ST_ENTITY_ROWS);
    if (!q)
        return store_fail(st, SR_EIO);
    sqlite3_bind_int64(q, 1, from_id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        const char *path = (const char *)sqlite3_column_text(q, 1);
        int err = entity_slot(st, id);
        if (!err && st->entities[id].path)
            continue; /* known already */
        if (!err && !(st->entities[id].path = strdup(path ? path : "")))
            err = SR_ENOMEM;
        if (!err)
            err = smap_put(&st->entity_ids, path ? path : "", id);
        if (err) {
            sqlite3_reset(q);
            return err;
        }
        st->entities[id].parent = sqlite3_column_int64(q, 2);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return store_sql_err(st, rc);
    return sr_store_data_version(st, &st->entity_version);
}

int store_load_entities(sr_store *st)
{
    store_free_entities(st);
    if (entity_slot(st, 0))
        return SR_ENOMEM;
    st->entities[0].path = strdup("");
    st->entities[0].parent = -1;
    if (!st->entities[0].path)
        return SR_ENOMEM;
    return store_load_entity_rows(st, 1);
}

int sr_store_refresh(sr_store *st)
{
    int64_t v;
    int rc = sr_store_data_version(st, &v);
    if (rc || v == st->entity_version)
        return rc;
    if ((rc = store_load_metrics(st)))
        return rc;
    /* only the entities added since: a full reload would retire every path
     * (they stay valid until close) and grow with every refresh */
    return store_load_entity_rows(st, (int64_t)st->n_entities);
}

/* A path is non-empty segments joined by '/', at most 1 KiB. */
int store_valid_path(const char *p)
{
    size_t len = strlen(p);
    if (len == 0 || len > 1024 || p[0] == '/' || p[len - 1] == '/' || strstr(p, "//"))
        return 0;
    return 1;
}

/* Id of path, creating it and its ancestors inside the current batch. */
int store_entity_ensure(sr_store *st, const char *path, int64_t *out)
{
    int64_t id = smap_get(&st->entity_ids, path);
    if (id >= 0) {
        *out = id;
        return 0;
    }
    int64_t parent = SR_ENTITY_ROOT;
    const char *slash = strrchr(path, '/');
    if (slash) {
        char buf[1100];
        size_t n = (size_t)(slash - path);
        memcpy(buf, path, n);
        buf[n] = 0;
        int rc = store_entity_ensure(st, buf, &parent);
        if (rc)
            return rc;
    }
    sqlite3_stmt *q = st->stmt[ST_ENTITY_INSERT];
    sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, parent);
    int rc = store_step_done(st, q, false);
    if (rc)
        return rc;
    id = sqlite3_last_insert_rowid(st->db);
    if ((rc = entity_slot(st, id)))
        return rc;
    if (!(st->entities[id].path = strdup(path)))
        return SR_ENOMEM;
    st->entities[id].parent = parent;
    *out = id;
    return smap_put(&st->entity_ids, path, id);
}

int sr_store_entity_id(sr_store *st, const char *path, int64_t *id)
{
    if (!path || !*path) {
        *id = SR_ENTITY_ROOT;
        return 0;
    }
    int64_t v = smap_get(&st->entity_ids, path);
    if (v < 0) {
        int rc = sr_store_refresh(st);
        if (rc)
            return rc;
        v = smap_get(&st->entity_ids, path);
    }
    if (v < 0)
        return SR_ENOENT;
    *id = v;
    return 0;
}

const char *sr_store_entity_path(sr_store *st, int64_t id)
{
    if (id < 0 || (size_t)id >= st->n_entities || !st->entities[id].path)
        return NULL;
    return st->entities[id].path;
}

static int cmp_entity_path(const void *a, const void *b, void *ctx)
{
    sr_store *st = ctx;
    return strcmp(st->entities[*(const int64_t *)a].path, st->entities[*(const int64_t *)b].path);
}

int sr_store_entity_children(sr_store *st, int64_t id, int64_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    size_t cap = 0;
    for (size_t i = 1; i < st->n_entities; i++) {
        if (!st->entities[i].path || st->entities[i].parent != id)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            int64_t *nv = realloc(*ids, cap * sizeof *nv);
            if (!nv) {
                free(*ids);
                *ids = NULL;
                *n = 0;
                return SR_ENOMEM;
            }
            *ids = nv;
        }
        (*ids)[(*n)++] = (int64_t)i;
    }
    if (*n > 1)
        qsort_r(*ids, *n, sizeof **ids, cmp_entity_path, st);
    return 0;
}

bool sr_store_entity_under(sr_store *st, int64_t e, int64_t node)
{
    if (node == SR_ENTITY_ROOT)
        return e >= 0 && (size_t)e < st->n_entities && st->entities[e].path;
    for (int depth = 0; e > 0 && (size_t)e < st->n_entities && depth < 512; depth++) {
        if (e == node)
            return true;
        e = st->entities[e].parent;
    }
    return false;
}

int64_t sr_store_entity_same(sr_store *st, int64_t node)
{
    if (!st->in_read || node == SR_ENTITY_ROOT || (size_t)node >= st->n_entities ||
        st->entities[node].parent != SR_ENTITY_ROOT)
        return node;
    if (st->same_seen != st->n_entities) {
        /* entities are only ever added (ids grow): look again when one is */
        st->same_root = SR_ENTITY_ROOT;
        for (size_t i = 1; i < st->n_entities; i++) {
            if (!st->entities[i].path || st->entities[i].parent != SR_ENTITY_ROOT)
                continue;
            if (st->same_root != SR_ENTITY_ROOT) {
                st->same_root = SR_ENTITY_ROOT;
                break;
            }
            st->same_root = (int64_t)i;
        }
        st->same_seen = st->n_entities;
    }
    return node == st->same_root ? SR_ENTITY_ROOT : node;
}

int sr_store_subtree_mask(sr_store *st, int64_t node, unsigned char **mask, int64_t *n)
{
    *n = (int64_t)st->n_entities;
    *mask = calloc(st->n_entities + 1, 1);
    if (!*mask)
        return SR_ENOMEM;
    unsigned char *m = *mask;
    /* one pass in id order: a parent is made before its children (and so
     * has a smaller id), so its mark is known when a child's is asked */
    for (size_t e = 1; e < st->n_entities; e++) {
        const entity_rec *r = &st->entities[e];
        if (!r->path)
            continue;
        if (node == SR_ENTITY_ROOT || (int64_t)e == node)
            m[e] = 1;
        else if (r->parent > 0 && (size_t)r->parent < e)
            m[e] = m[r->parent];
        else
            m[e] = sr_store_entity_under(st, (int64_t)e, node);
    }
    return 0;
}

bool sr_store_entity_is_leaf(sr_store *st, int64_t e)
{
    for (size_t i = 1; i < st->n_entities; i++) {
        if (st->entities[i].path && st->entities[i].parent == e)
            return false;
    }
    return true;
}

int64_t sr_store_entity_limit(sr_store *st)
{
    return (int64_t)st->n_entities;
}
