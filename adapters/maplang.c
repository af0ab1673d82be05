/*
 * maplang.c - the mapping language, compiled once and applied to each row:
 * templates (literal text and {fields}, a field through a value map as
 * {Field|NAME}, the second of two columns of one name as {Name#2}) and
 * where clauses (map_int.h).
 */
#include "map_int.h"

/* ---- fields and templates ---- */

/* Index of field name (adding it); SIZE_MAX when out of memory. */
size_t map_field_add(sr_map *m, const char *name, size_t len)
{
    char *d = map_dup_trim(name, len);
    if (!d)
        return SIZE_MAX;
    for (size_t i = 0; i < m->n_fields; i++) {
        if (strcmp(m->fields[i], d) == 0) {
            free(d);
            return i;
        }
    }
    char **nf = realloc(m->fields, (m->n_fields + 1) * sizeof *nf);
    if (!nf) {
        free(d);
        return SIZE_MAX;
    }
    m->fields = nf;
    m->fields[m->n_fields] = d;
    return m->n_fields++;
}

/* A copy of [map.NAME] for the map (once, however often it is used). */
static int vmap_add(sr_map *m, const sr_ad_valmap *src, size_t *out)
{
    vmap *nv = realloc(m->vmaps, (m->n_vmaps + 1) * sizeof *nv);
    if (!nv)
        return -1;
    m->vmaps = nv;
    vmap *v = &m->vmaps[m->n_vmaps];
    *v = (vmap){0};
    v->name = strdup(src->name);
    v->from = calloc(src->n + 1, sizeof *v->from);
    v->to = calloc(src->n + 1, sizeof *v->to);
    m->n_vmaps++; /* freed with the map whatever happens next */
    if (!v->name || !v->from || !v->to)
        return -1;
    for (size_t i = 0; i < src->n; i++) {
        const char *k = src->v[i].key, *val = src->v[i].value ? src->v[i].value : "";
        if (strcmp(k, "default") == 0) {
            free(v->dflt);
            if (!(v->dflt = strdup(val)))
                return -1;
            continue;
        }
        /* "VALUE" in quotes: the text inside, taken as it is (a value
         * "default", or one with blanks around it) */
        size_t kl = strlen(k);
        if (kl >= 2 && k[0] == '"' && k[kl - 1] == '"') {
            k++;
            kl -= 2;
        }
        if (!(v->from[v->n] = strndup(k, kl)) || !(v->to[v->n] = strdup(val)))
            return -1;
        v->n++;
    }
    *out = m->n_vmaps - 1;
    return 0;
}

/* The value map NAME (name[0..len)) of a template of key, copied into m
 * on first use. Returns 0 with its index, or -1 with a message in err. */
static int vmap_find(sr_map *m, const char *key, const char *name, size_t len, size_t *out,
                     char *err, size_t errlen)
{
    while (len && isspace((unsigned char)*name)) {
        name++;
        len--;
    }
    while (len && isspace((unsigned char)name[len - 1]))
        len--;
    for (size_t i = 0; i < m->n_vmaps; i++) {
        if (strlen(m->vmaps[i].name) == len && memcmp(m->vmaps[i].name, name, len) == 0) {
            *out = i;
            return 0;
        }
    }
    const sr_ad_options *o = m->opts;
    for (size_t i = 0; o && i < o->n_maps; i++) {
        const sr_ad_valmap *src = &o->maps[i];
        if (src->name && strlen(src->name) == len && memcmp(src->name, name, len) == 0) {
            if (vmap_add(m, src, out) == 0)
                return 0;
            sr_map_errf(err, errlen, "out of memory");
            return -1;
        }
    }
    char q[QUOTE_MAX * 2], nm[QUOTE_MAX + 1];
    snprintf(nm, sizeof nm, "%.*s", (int)(len < QUOTE_MAX ? len : QUOTE_MAX), name);
    map_quote(nm, q, sizeof q);
    size_t w = (size_t)snprintf(err, errlen, "%s: no value map [map.%s] in the config", key, q);
    for (size_t i = 0; o && i < o->n_maps && w < errlen; i++)
        w += (size_t)snprintf(err + w, errlen - w, "%s [map.%.60s]",
                              i ? "," : " (have:", o->maps[i].name ? o->maps[i].name : "");
    if (o && o->n_maps && w < errlen)
        snprintf(err + w, errlen - w, ")");
    return -1;
}

/* Appends p; a literal is copied (the option text is only borrowed during
 * sr_map_create). */
static int part_add(tmpl *t, part p)
{
    if (p.lit) {
        char *copy = malloc(p.len + 1);
        if (!copy)
            return -1;
        memcpy(copy, p.lit, p.len);
        copy[p.len] = '\0';
        p.lit = copy;
    }
    part *np = realloc(t->p, (t->n + 1) * sizeof *np);
    if (!np) {
        free((void *)p.lit);
        return -1;
    }
    t->p = np;
    t->p[t->n++] = p;
    return 0;
}

/*
 * Compiles text into t. With braces, "{Field}" parts are fields and the
 * rest literal; without, the whole text is one field when bare_is_field,
 * else a literal.
 */
int map_tmpl_compile(sr_map *m, tmpl *t, const char *key, const char *text, int bare_is_field,
                     char *err, size_t errlen)
{
    t->set = 1;
    if (!strchr(text, '{') && !strchr(text, '}')) {
        if (!*text) {
            sr_map_errf(err, errlen, "%s: empty, expected %s", key,
                        bare_is_field ? "a field name or a {Field} template"
                                      : "text or a {Field} template");
            return -1;
        }
        if (bare_is_field) {
            size_t f = map_field_add(m, text, strlen(text));
            return f == SIZE_MAX ? -1 : part_add(t, (part){NULL, 0, f, NO_VMAP});
        }
        return part_add(t, (part){text, strlen(text), 0, NO_VMAP});
    }
    const char *s = text;
    while (*s) {
        const char *open = strchr(s, '{'), *close = strchr(s, '}');
        if (close && (!open || close < open)) {
            sr_map_errf(err, errlen, "%s: '}' without '{' at column %d, expected {Field}", key,
                        (int)(close - text) + 1);
            return -1;
        }
        if (!open)
            return part_add(t, (part){s, strlen(s), 0, NO_VMAP});
        if (open > s && part_add(t, (part){s, (size_t)(open - s), 0, NO_VMAP}))
            return -1;
        close = strchr(open + 1, '}');
        if (!close) {
            sr_map_errf(err, errlen, "%s: '{' at column %d is not closed, expected {Field}", key,
                        (int)(open - text) + 1);
            return -1;
        }
        const char *inner = open + 1;
        size_t n = (size_t)(close - inner);
        while (n && isspace((unsigned char)*inner)) {
            inner++;
            n--;
        }
        if (!n || memchr(inner, '{', n)) {
            sr_map_errf(err, errlen, "%s: empty or nested {} at column %d, expected {Field}", key,
                        (int)(open - text) + 1);
            return -1;
        }
        /* {Field|NAME}: the field's value through [map.NAME] */
        size_t vm = NO_VMAP;
        const char *bar = NULL;
        for (const char *c = inner; c < inner + n; c++)
            bar = *c == '|' ? c : bar;
        if (bar) {
            size_t fl = (size_t)(bar - inner);
            while (fl && isspace((unsigned char)inner[fl - 1]))
                fl--;
            if (!fl) {
                sr_map_errf(err, errlen, "%s: no field name before '|' at column %d", key,
                            (int)(open - text) + 2);
                return -1;
            }
            if (vmap_find(m, key, bar + 1, (size_t)(inner + n - bar - 1), &vm, err, errlen))
                return -1;
            n = fl;
        }
        size_t f = map_field_add(m, inner, n);
        if (f == SIZE_MAX || part_add(t, (part){NULL, 0, f, vm}))
            return -1;
        s = close + 1;
    }
    return 0;
}

/* A field's value as the map sees it: trimmed, NULL when the row lacks it.
 * Empty text and the null tokens are "no value" (returns "" then). */
const char *map_field_val(const sr_map *m, const char *const *vals, size_t f, char *buf, size_t len)
{
    const char *v = vals[f];
    if (!v)
        return NULL;
    while (isspace((unsigned char)*v))
        v++;
    size_t n = strlen(v);
    while (n && isspace((unsigned char)v[n - 1]))
        n--;
    for (size_t i = 0; i < m->n_nulls; i++) {
        if (strlen(m->nulls[i]) == n && memcmp(m->nulls[i], v, n) == 0)
            return "";
    }
    if (n >= len)
        n = len - 1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    return buf;
}

/* What value v becomes through map vm: its entry, else the default; NULL
 * when it has neither. */
static const char *vmap_apply(const vmap *vm, const char *v)
{
    for (size_t i = 0; i < vm->n; i++) {
        if (strcmp(vm->from[i], v) == 0)
            return vm->to[i];
    }
    return vm->dflt;
}

/*
 * Expands t for a row into out. Returns 0, or -1 with a reject reason in
 * why (a field missing or without a value, or the result too long).
 * In an entity ('/' separates levels), a '/' inside a value becomes '-'.
 */
int map_tmpl_expand(const sr_map *m, const tmpl *t, const char *what, int entity,
                    const char *const *vals, char *out, size_t len, char *why, size_t wlen)
{
    size_t o = 0;
    char vb[TEXT_MAX], q[QUOTE_MAX * 2];
    for (size_t i = 0; i < t->n; i++) {
        const part *p = &t->p[i];
        const char *s = p->lit;
        size_t n = p->len;
        if (!s) {
            s = map_field_val(m, vals, p->field, vb, sizeof vb);
            if (!s) {
                map_quote(m->fields[p->field], q, sizeof q);
                sr_map_errf(why, wlen, "no field '%s' in the row (needed for %s)", q, what);
                return -1;
            }
            if (!*s) {
                map_quote(m->fields[p->field], q, sizeof q);
                sr_map_errf(why, wlen, "'%s' has no value (needed for %s)", q, what);
                return -1;
            }
            if (p->vmap != NO_VMAP && !(s = vmap_apply(&m->vmaps[p->vmap], s))) {
                char qv[QUOTE_MAX * 2];
                map_quote(vb, qv, sizeof qv);
                map_quote(m->vmaps[p->vmap].name, q, sizeof q);
                sr_map_errf(why, wlen, "no value map entry for '%s' in [map.%s] (needed for %s)",
                            qv, q, what);
                return -1;
            }
            n = strlen(s);
        }
        if (o + n >= len) {
            sr_map_errf(why, wlen, "%s is longer than %zu bytes", what, len - 1);
            return -1;
        }
        for (size_t k = 0; k < n; k++)
            out[o++] = (entity && !p->lit && p->vmap == NO_VMAP && s[k] == '/') ? '-' : s[k];
    }
    out[o] = '\0';
    return 0;
}

/* ---- where ---- */

/* The next piece of s up to a separator outside double quotes: for
 * " and " (sep_and) or ',' ; returns its length. */
size_t map_piece_len(const char *s, int sep_and)
{
    int inq = 0;
    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '"')
            inq = !inq;
        if (inq)
            continue;
        if (!sep_and && s[i] == ',')
            return i;
        if (sep_and && isspace((unsigned char)s[i]) && strncasecmp(s + i + 1, "and", 3) == 0 &&
            isspace((unsigned char)s[i + 4]))
            return i;
    }
    return strlen(s);
}

/* A where value: trimmed, surrounding double quotes removed. */
char *map_where_value(const char *s, size_t n)
{
    char *v = map_dup_trim(s, n);
    size_t l = v ? strlen(v) : 0;
    if (l >= 2 && v[0] == '"' && v[l - 1] == '"') {
        memmove(v, v + 1, l - 2);
        v[l - 2] = '\0';
    }
    return v;
}

static int clause_val(clause *c, char *v)
{
    if (!v)
        return -1;
    char **nv = realloc(c->vals, (c->n + 1) * sizeof *nv);
    if (!nv) {
        free(v);
        return -1;
    }
    c->vals = nv;
    c->vals[c->n++] = v;
    return 0;
}

/* Finds an operator outside quotes: returns its offset or -1. */
static long find_op(const char *s, size_t n, const char *op)
{
    int inq = 0;
    size_t ol = strlen(op);
    for (size_t i = 0; i + ol <= n; i++) {
        if (s[i] == '"')
            inq = !inq;
        if (!inq && strncasecmp(s + i, op, ol) == 0)
            return (long)i;
    }
    return -1;
}

int map_where_compile(sr_map *m, const char *text, char *err, size_t errlen)
{
    const char *s = text;
    for (;;) {
        size_t n = map_piece_len(s, 1);
        clause c = {0};
        long at;
        size_t oplen;
        char fname[256];
        if ((at = find_op(s, n, "!=")) >= 0) {
            c.op = OP_NE;
            oplen = 2;
        } else if ((at = find_op(s, n, " in (")) >= 0) {
            c.op = OP_IN;
            oplen = 5;
        } else if ((at = find_op(s, n, "=")) >= 0) {
            c.op = OP_EQ;
            oplen = 1;
        } else {
            char q[QUOTE_MAX * 2];
            char *piece = map_dup_trim(s, n);
            map_quote(piece ? piece : "", q, sizeof q);
            free(piece);
            sr_map_errf(
                err, errlen,
                "where: cannot read '%s', expected FIELD = VALUE, FIELD != VALUE or FIELD in "
                "(A, B), joined by and",
                q);
            return -1;
        }
        snprintf(fname, sizeof fname, "%.*s", (int)at, s);
        char *fn = map_dup_trim(fname, strlen(fname));
        if (!fn)
            return -1;
        size_t fl = strlen(fn);
        const char *fs = fn;
        if (fl >= 2 && fn[0] == '{' && fn[fl - 1] == '}') {
            fs = fn + 1;
            fl -= 2;
        }
        if (fl == 0) {
            free(fn);
            sr_map_errf(err, errlen, "where: a condition has no field name before its operator");
            return -1;
        }
        c.field = map_field_add(m, fs, fl);
        free(fn);
        if (c.field == SIZE_MAX)
            return -1;
        const char *rhs = s + at + oplen;
        size_t rl = n - (size_t)at - oplen;
        if (c.op == OP_IN) {
            const char *close = NULL;
            for (size_t i = rl; i-- > 0;) {
                if (rhs[i] == ')') {
                    close = rhs + i;
                    break;
                }
                if (!isspace((unsigned char)rhs[i]))
                    break;
            }
            if (!close) {
                sr_map_errf(err, errlen, "where: 'in (' without its closing ')'");
                return -1;
            }
            const char *v = rhs;
            while (v < close) {
                size_t vl = map_piece_len(v, 0);
                if (v + vl > close)
                    vl = (size_t)(close - v);
                if (clause_val(&c, map_where_value(v, vl)))
                    return -1;
                v += vl + 1;
            }
        } else if (clause_val(&c, map_where_value(rhs, rl))) {
            return -1;
        }
        clause *nw = realloc(m->where, (m->n_where + 1) * sizeof *nw);
        if (!nw) {
            for (size_t i = 0; i < c.n; i++)
                free(c.vals[i]);
            free(c.vals);
            return -1;
        }
        m->where = nw;
        m->where[m->n_where++] = c;
        s += n;
        if (!*s)
            return 0;
        s += 5; /* " and " */
    }
}

/* 1 when the row passes every clause; -1 when it lacks a field (why). */
int map_where_pass(const sr_map *m, const char *const *vals, char *why, size_t wlen)
{
    char vb[TEXT_MAX], q[QUOTE_MAX * 2];
    for (size_t i = 0; i < m->n_where; i++) {
        const clause *c = &m->where[i];
        const char *v = map_field_val(m, vals, c->field, vb, sizeof vb);
        if (!v) {
            map_quote(m->fields[c->field], q, sizeof q);
            sr_map_errf(why, wlen, "no field '%s' in the row (needed for where)", q);
            return -1;
        }
        int hit = 0;
        for (size_t k = 0; k < c->n && !hit; k++)
            hit = strcmp(v, c->vals[k]) == 0;
        if (c->op == OP_NE ? hit : !hit)
            return 0;
    }
    return 1;
}
