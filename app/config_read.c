/*
 * config_read.c - pass 1 of reading a config: the lines into sections.
 *
 * metrics/ini.c reads the lines (the grammar is there and in
 * sitrep.conf(5)) and hands each one over with its line number; on_line()
 * opens sections (an empty one too), stores keys, joins the continuation
 * lines of an adapter type's own keys (SQL, URLs, commands) with one blank,
 * and reports every malformed line, reading on. Each section gets its own
 * record (struct sect) holding its values and the line of every key seen
 * in it.
 */
#include "config_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../metrics/ini.h"

void cfg_sect_label(const struct sect *s, char *buf, size_t len)
{
    if (s->kind->pub.named)
        snprintf(buf, len, "[%s.%s]", s->kind->pub.kind, s->name);
    else
        snprintf(buf, len, "[%s]", s->kind->pub.kind);
}

static const struct opt *opt_find(const struct kind *k, const char *key)
{
    for (size_t i = 0; i < k->pub.n_options; i++) {
        if (strcmp(k->opts[i].pub.name, key) == 0)
            return &k->opts[i];
    }
    return NULL;
}

const struct seen *cfg_seen_find(const struct sect *s, const char *key)
{
    for (size_t i = 0; i < s->n_seen; i++) {
        if (strcmp(s->seen[i].key, key) == 0)
            return &s->seen[i];
    }
    return NULL;
}

/* The line of key in s, or of the section header when the key is absent. */
int cfg_key_line(const struct sect *s, const char *key)
{
    const struct seen *e = cfg_seen_find(s, key);
    return e ? e->line : s->line;
}

bool cfg_key_ok(const struct sect *s, const char *key)
{
    const struct seen *e = cfg_seen_find(s, key);
    return e && e->ok;
}

static void seen_add(struct parser *p, struct sect *s, const char *key, bool ok)
{
    char *k = strdup(key);
    if (!k || !cfg_grow(&s->seen, s->n_seen, sizeof *s->seen)) {
        free(k);
        p->err.oom = true;
        return;
    }
    s->seen[s->n_seen++] = (struct seen){.key = k, .line = p->lineno, .ok = ok};
}

void cfg_kv_free(sr_cfg_kv *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].key);
        free(v[i].value);
    }
    free(v);
}

void cfg_sect_free(struct sect *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_seen; i++)
        free(s->seen[i].key);
    free(s->seen);
    if (s->kind->id == K_SITREP) {
        free(s->v.sitrep.cache);
        free(s->v.sitrep.reports);
    } else if (s->kind->id == K_ADAPTER) {
        for (size_t i = 0; i < s->v.adapter.n_opts; i++) {
            free(s->v.adapter.opts[i].key);
            free(s->v.adapter.opts[i].value);
        }
        free(s->v.adapter.opts);
    } else if (s->kind->id == K_MAP) {
        cfg_kv_free(s->v.map.v, s->v.map.n);
    }
    free(s);
}

/* A new section record with its defaults. */
static struct sect *sect_new(struct parser *p, const struct kind *k, const char *name)
{
    struct sect *s = calloc(1, sizeof *s);
    if (!s || !cfg_grow(&p->sects, p->n_sects, sizeof *p->sects)) {
        free(s);
        p->err.oom = true;
        return NULL;
    }
    s->kind = k;
    snprintf(s->name, sizeof s->name, "%s", name);
    s->line = p->lineno;
    switch (k->id) {
    case K_SITREP:
        break;
    case K_METRIC:
        sr_metric_def_init(&s->v.metric, name);
        break;
    case K_ADAPTER:
        snprintf(s->v.adapter.name, sizeof s->v.adapter.name, "%s", name);
        s->v.adapter.line = p->lineno;
        break;
    case K_MAP:
        snprintf(s->v.map.name, sizeof s->v.map.name, "%s", name);
        s->v.map.line = p->lineno;
        break;
    case K_PANEL:
        snprintf(s->v.panel.name, sizeof s->v.panel.name, "%s", name);
        s->v.panel.line = p->lineno;
        break;
    case K_PAGE:
        snprintf(s->v.page.name, sizeof s->v.page.name, "%s", name);
        snprintf(s->v.page.title, sizeof s->v.page.title, "%s", name);
        s->v.page.line = p->lineno;
        break;
    case K_ROLE:
    case K_ALERT:
    case K_WALL:
        break;
    }
    cfg_apply_defaults(k, &s->v);
    p->sects[p->n_sects++] = s;
    return s;
}

/* Opens the section whose header text (between '[' and ']') is hdr. */
static void open_section(struct parser *p, const char *hdr)
{
    char q[SR_QUOTE_SIZE];
    p->where = W_IGNORED;
    p->cur = NULL;
    sr_text_quote(hdr, q, sizeof q);

    const char *dot = strchr(hdr, '.');
    size_t klen = dot ? (size_t)(dot - hdr) : strlen(hdr);
    const struct kind *k = NULL;
    for (size_t i = 0; i < CFG_N_KINDS; i++) {
        if (strlen(cfg_kinds[i].pub.kind) == klen && strncmp(hdr, cfg_kinds[i].pub.kind, klen) == 0)
            k = &cfg_kinds[i];
    }
    if (!k) {
        char word[SR_NAME_MAX + 1];
        snprintf(word, sizeof word, "%.*s", (int)(klen < SR_NAME_MAX ? klen : SR_NAME_MAX), hdr);
        const char *names[CFG_N_KINDS];
        for (size_t i = 0; i < CFG_N_KINDS; i++)
            names[i] = cfg_kinds[i].pub.kind;
        const char *best = sr_nearest(word, names, CFG_N_KINDS);
        const struct kind *bk = NULL;
        for (size_t i = 0; best && i < CFG_N_KINDS; i++) {
            if (names[i] == best)
                bk = &cfg_kinds[i];
        }
        if (bk && !bk->pub.named) {
            cfg_sink_add(&p->err, p->lineno, "unknown section [%s], did you mean [%s]?", q, best);
        } else if (bk) {
            char rest[SR_QUOTE_SIZE];
            sr_text_quote(dot ? dot + 1 : "NAME", rest, sizeof rest);
            cfg_sink_add(&p->err, p->lineno, "unknown section [%s], did you mean [%s.%s]?", q, best,
                         rest);
        } else {
            cfg_sink_add(
                &p->err, p->lineno,
                "unknown section [%s], expected [sitrep], [metric.NAME], [adapter.NAME] or "
                "[panel.NAME]",
                q);
        }
        return;
    }
    const char *name = dot ? dot + 1 : "";
    if (!k->pub.named && dot) {
        cfg_sink_add(&p->err, p->lineno, "section [%s] takes no name, expected %s", q,
                     k->pub.header);
        return;
    }
    if (k->pub.named && !dot) {
        cfg_sink_add(&p->err, p->lineno, "section [%s] needs a name, expected %s", q,
                     k->pub.header);
        return;
    }
    if (k->pub.named && !cfg_name_valid(name)) {
        char qn[SR_QUOTE_SIZE];
        sr_text_quote(name, qn, sizeof qn);
        cfg_sink_add(&p->err, p->lineno,
                     "invalid name '%s' in [%s], expected 1 to %d letters, digits, '_' or '-'", qn,
                     q, SR_NAME_MAX - 1);
        return;
    }
    const struct sect *first = NULL;
    for (size_t i = 0; i < p->n_sects && !first; i++) {
        const struct sect *o = p->sects[i];
        if (o->kind == k && !o->duplicate && strcmp(o->name, name) == 0)
            first = o;
    }
    struct sect *s = sect_new(p, k, name);
    if (!s)
        return;
    if (first) {
        s->duplicate = true;
        cfg_sink_add(&p->err, p->lineno, "duplicate section [%s], first defined at line %d", q,
                     first->line);
    }
    p->where = W_SECTION;
    p->cur = s;
}

/* Adds key = value of the current line to a list of free keys (an adapter
 * type's own keys, a value map's entries). */
static void kv_add(struct parser *p, sr_cfg_kv **list, size_t *n, const char *key,
                   const char *value)
{
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v || !cfg_grow(list, *n, sizeof **list)) {
        free(k);
        free(v);
        p->err.oom = true;
        return;
    }
    (*list)[(*n)++] = (sr_cfg_kv){.key = k, .value = v, .line = p->lineno};
}

/* Appends an indented line to the adapter key before it ("query = SELECT
 * ...", then "    FROM ..."), joined by one blank. */
static void adapter_kv_continue(struct parser *p, const char *more)
{
    sr_cfg_adapter *a = &p->cur->v.adapter;
    sr_cfg_kv *kv = &a->opts[a->n_opts - 1];
    size_t n = strlen(kv->value), m = strlen(more);
    char *v = realloc(kv->value, n + m + 2);
    if (!v) {
        p->err.oom = true;
        return;
    }
    if (n && m)
        v[n++] = ' ';
    memcpy(v + n, more, m + 1);
    kv->value = v;
}

/* One key = value. Returns 0, or SR_ENOMEM; a problem with the config is
 * recorded and is not a failure of the call. */
static int pair(struct parser *p, const char *key, const char *value)
{
    char qk[SR_QUOTE_SIZE], label[SR_NAME_MAX + 16];
    if (p->where == W_IGNORED)
        return 0;
    sr_text_quote(key, qk, sizeof qk);
    if (p->where == W_BEFORE) {
        cfg_sink_add(&p->err, p->lineno,
                     "key '%s' is outside any section, expected a section header such as [sitrep] "
                     "before it",
                     qk);
        return 0;
    }
    struct sect *s = p->cur;
    cfg_sect_label(s, label, sizeof label);
    if (!key[0]) {
        cfg_sink_add(&p->err, p->lineno, "expected key = value, got no key before '='");
        return 0;
    }
    const struct seen *first = cfg_seen_find(s, key);
    if (first) {
        cfg_sink_add(&p->err, p->lineno, "duplicate key '%s' in %s, first set at line %d", qk,
                     label, first->line);
        return 0;
    }
    const struct opt *o = opt_find(s->kind, key);
    if (o) {
        char why[1024];
        int rc = cfg_opt_parse(o, &s->v, value, why, sizeof why);
        if (rc == SR_ENOMEM)
            return rc;
        if (rc)
            cfg_sink_add(&p->err, p->lineno, "%s: %s", o->pub.name, why);
        seen_add(p, s, key, rc == 0);
        return 0;
    }
    if (s->kind->id == K_ADAPTER) {
        /* the type's own keys: checked against its table once the type is known */
        kv_add(p, &s->v.adapter.opts, &s->v.adapter.n_opts, key, value);
        seen_add(p, s, key, true);
        p->adapter_cont = true;
        return 0;
    }
    if (s->kind->id == K_MAP) {
        /* VALUE = RESULT: any key is a value a source may write */
        kv_add(p, &s->v.map.v, &s->v.map.n, key, value);
        seen_add(p, s, key, true);
        return 0;
    }
    const char *names[16] = {0};
    size_t n = 0;
    for (; n < s->kind->pub.n_options && n < COUNT(names); n++)
        names[n] = s->kind->opts[n].pub.name;
    const char *best = sr_nearest(key, names, n);
    if (best) {
        cfg_sink_add(&p->err, p->lineno, "unknown key '%s' in %s, did you mean '%s'?", qk, label,
                     best);
    } else {
        char list[256];
        size_t used = 0;
        list[0] = '\0';
        for (size_t i = 0; i < n && used < sizeof list; i++)
            used +=
                (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
        cfg_sink_add(&p->err, p->lineno, "unknown key '%s' in %s, expected one of %s", qk, label,
                     list);
    }
    return 0;
}

/* The reader's callback (metrics/ini.h): opens sections, stores keys,
 * joins an adapter key's continuation lines, reports malformed lines. */
static int on_line(void *ctx, const sr_ini_line *l)
{
    struct parser *p = ctx;
    char q[SR_QUOTE_SIZE];
    p->lineno = l->line;
    bool adapter_cont = p->adapter_cont; /* the key above is an adapter type's own */
    p->adapter_cont = false;
    switch (l->kind) {
    case SR_INI_CONTINUATION:
        p->adapter_cont = adapter_cont;
        if (adapter_cont && p->cur && p->cur->v.adapter.n_opts > 0)
            adapter_kv_continue(p, l->value);
        else
            cfg_sink_add(&p->err, p->lineno, "%s", SR_INI_CONTINUATION_ERROR);
        break;
    case SR_INI_KEY:
        return pair(p, l->name, l->value);
    case SR_INI_SECTION:
        open_section(p, l->name);
        if (l->rest[0]) {
            sr_text_quote(l->rest, q, sizeof q);
            cfg_sink_add(&p->err, p->lineno,
                         "unexpected text '%s' after the section header, expected a new line", q);
        }
        break;
    case SR_INI_BAD_SECTION:
        sr_text_quote(l->text, q, sizeof q);
        cfg_sink_add(&p->err, p->lineno,
                     "expected a section header such as [metric.NAME], got '%s' (no closing ']')",
                     q);
        p->where = W_IGNORED;
        p->cur = NULL;
        break;
    case SR_INI_BAD_KEY:
        sr_text_quote(l->text, q, sizeof q);
        cfg_sink_add(&p->err, p->lineno, "expected key = value, got '%s'", q);
        break;
    case SR_INI_NUL:
        cfg_sink_add(&p->err, p->lineno, "%s (is this a config file?)", SR_INI_NUL_ERROR);
        break;
    }
    return p->err.oom ? SR_ENOMEM : 0;
}

int cfg_read(struct parser *p)
{
    return sr_ini_read(p->text, p->len, on_line, p);
}
