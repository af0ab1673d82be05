/*
 * config_read.c - pass 1 of reading a config: the lines into sections.
 *
 * inih (ini_parse_stream) splits each line into key and value, strips
 * whitespace and comments, and calls on_pair(). It pulls lines through
 * read_line(), which counts them and classifies each one by inih's own
 * rules (classify()), because Debian's inih 55 gives the handler no line
 * number (INI_HANDLER_LINENO 0), no call for a section header
 * (INI_CALL_HANDLER_ON_NEW_SECTION 0, so an empty section would be
 * invisible), truncates section names to 49 bytes, and returns only the
 * first malformed line. So sections are opened, and malformed lines
 * reported, from read_line(); on_pair() only stores values. Each section
 * gets its own record (struct sect) holding its values and the line of
 * every key seen in it.
 */
#include "config_int.h"

#include <ctype.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    char q[4 * QUOTE_MAX + 16];
    p->where = W_IGNORED;
    p->cur = NULL;
    cfg_quote(hdr, q, sizeof q);

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
            char rest[4 * QUOTE_MAX + 16];
            cfg_quote(dot ? dot + 1 : "NAME", rest, sizeof rest);
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
        char qn[4 * QUOTE_MAX + 16];
        cfg_quote(name, qn, sizeof qn);
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

static char *rstrip(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* The first of the bytes stops in s, or the start of an inline comment
 * (INI_INLINE_COMMENT_PREFIXES after a blank, when inih allows them), or
 * the end of s. */
static char *scan_to(char *s, const char *stops)
{
    bool after_blank = false;
    for (; *s; s++) {
        if (strchr(stops, *s))
            break;
        if (INI_ALLOW_INLINE_COMMENTS && after_blank && strchr(INI_INLINE_COMMENT_PREFIXES, *s))
            break;
        after_blank = isspace((unsigned char)*s);
    }
    return s;
}

/*
 * Classifies p->line (the current line without its newline) as inih 55
 * will, with the options this build of inih has (ini.h): a UTF-8 BOM on
 * line 1 is skipped; a line starting with INI_START_COMMENT_PREFIXES is a
 * comment; an indented line after a key continues that key's value
 * (INI_ALLOW_MULTILINE); '[' starts a section header that needs a ']';
 * anything else needs '=' or ':'. Sets p->key, p->hdr, p->hdr_rest and
 * inih's "a key came since the header" state.
 */
static enum line_class classify(struct parser *p)
{
    char *line = p->line, *s = line;
    if (INI_ALLOW_BOM && p->lineno == 1 && (unsigned char)s[0] == 0xEF &&
        (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF)
        s += 3;
    rstrip(s);
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return LINE_BLANK;
    if (strchr(INI_START_COMMENT_PREFIXES, *s))
        return LINE_COMMENT;
    if (INI_ALLOW_MULTILINE && p->prev_key && s > line) {
        p->val = s;
        return LINE_CONTINUATION;
    }
    p->adapter_cont = false;
    if (*s == '[') {
        char *end = scan_to(s + 1, "]");
        if (*end != ']')
            return LINE_BAD_SECTION;
        *end = '\0';
        p->hdr = s + 1;
        p->hdr_rest = end + 1;
        p->prev_key = false;
        return LINE_SECTION;
    }
    char *sep = scan_to(s, "=:");
    if (*sep != '=' && *sep != ':')
        return LINE_BAD_KEY;
    *sep = '\0';
    p->val = sep + 1;
    p->key = rstrip(s);
    p->prev_key = *p->key != '\0';
    return LINE_KEY;
}

/* What to hand inih instead of a line too long for its buffer: a short
 * line of the same class, so that inih's state stays what classify()
 * assumes. */
static const char *stand_in(const struct parser *p)
{
    switch (p->cls) {
    case LINE_BLANK:
        return "\n";
    case LINE_COMMENT:
        return ";\n";
    case LINE_CONTINUATION:
        return " -\n";
    case LINE_SECTION:
        return "[-]\n";
    case LINE_BAD_SECTION:
        return "[\n";
    case LINE_KEY:
        return *p->key ? "-=\n" : "=\n";
    case LINE_BAD_KEY:
        return "-\n";
    }
    return "\n";
}

/* Acts on the line just classified: opens sections, reports malformed
 * lines. Keys are stored by on_pair(), which inih calls next. */
static void on_line(struct parser *p)
{
    char q[4 * QUOTE_MAX + 16];
    switch (p->cls) {
    case LINE_BLANK:
    case LINE_COMMENT:
    case LINE_CONTINUATION:
    case LINE_KEY:
        return;
    case LINE_SECTION: {
        open_section(p, p->hdr);
        const char *r = p->hdr_rest;
        while (isspace((unsigned char)*r))
            r++;
        if (*r && *r != ';' && *r != '#') {
            cfg_quote(r, q, sizeof q);
            cfg_sink_add(&p->err, p->lineno,
                         "unexpected text '%s' after the section header, expected a new line", q);
        }
        return;
    }
    case LINE_BAD_SECTION:
        cfg_quote(p->line + strspn(p->line, " \t"), q, sizeof q);
        cfg_sink_add(&p->err, p->lineno,
                     "expected a section header such as [metric.NAME], got '%s' (no closing ']')",
                     q);
        p->where = W_IGNORED;
        p->cur = NULL;
        return;
    case LINE_BAD_KEY:
        cfg_quote(p->line + strspn(p->line, " \t"), q, sizeof q);
        cfg_sink_add(&p->err, p->lineno, "expected key = value, got '%s'", q);
        return;
    }
}

/*
 * inih's reader (fgets-like): hands over one whole line of the text per
 * call, so that inih's line count stays ours. A line that does not fit
 * buf is replaced by a stand-in of the same class.
 */
static char *read_line(char *buf, int num, void *stream)
{
    struct parser *p = stream;
    if (p->pos >= p->len || num < 4)
        return NULL;
    const char *start = p->text + p->pos;
    const char *nl = memchr(start, '\n', p->len - p->pos);
    size_t n = nl ? (size_t)(nl - start) : p->len - p->pos;
    p->pos += n + (nl ? 1 : 0);
    p->lineno++;

    if (n + 1 > p->line_cap) {
        size_t cap = n + 1 < 256 ? 256 : n + 1;
        char *l = realloc(p->line, cap);
        if (!l) {
            p->err.oom = true;
            return NULL;
        }
        p->line = l;
        p->line_cap = cap;
    }
    memcpy(p->line, start, n);
    p->line[n] = '\0';
    p->key = NULL;
    p->cls = classify(p);
    on_line(p);

    p->too_long = n + 2 > (size_t)num;
    if (!p->too_long) {
        memcpy(buf, start, n);
        buf[n] = '\n';
        buf[n + 1] = '\0';
        return buf;
    }
    /* an adapter's values (SQL, URLs) may be long: pair() takes them from p->line */
    bool in_adapter = p->where == W_SECTION && p->cur && p->cur->kind->id == K_ADAPTER;
    if (!in_adapter && (p->cls == LINE_KEY || p->cls == LINE_CONTINUATION))
        cfg_sink_add(&p->err, p->lineno,
                     "line too long (%zu bytes), expected at most %d bytes on a key = value line",
                     n, num - 2);
    snprintf(buf, (size_t)num, "%s", stand_in(p));
    return buf;
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

/* The value of the current line as inih would give it, taken from the
 * whole line (for lines longer than inih's buffer): blanks and an inline
 * comment removed. Cuts p->line. */
static const char *full_value(struct parser *p)
{
    char *v = p->val ? p->val : (char *)"";
    while (isspace((unsigned char)*v))
        v++;
    *scan_to(v, "") = '\0';
    return rstrip(v);
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

/* One key = value of the current line. Returns 0, or SR_ENOMEM; a problem
 * with the config is recorded and is not a failure of the call. */
static int pair(struct parser *p, const char *name, const char *value)
{
    char qk[4 * QUOTE_MAX + 16], label[SR_NAME_MAX + 16];
    bool whole = false; /* a long adapter line, read from p->line */
    if (p->too_long && (p->cls == LINE_KEY || p->cls == LINE_CONTINUATION) &&
        p->where == W_SECTION && p->cur && p->cur->kind->id == K_ADAPTER) {
        value = full_value(p);
        p->too_long = false; /* handled: the value is whole */
        whole = true;
    }
    if (p->cls == LINE_CONTINUATION && p->adapter_cont && p->where == W_SECTION && p->cur &&
        p->cur->kind->id == K_ADAPTER && p->cur->v.adapter.n_opts > 0) {
        adapter_kv_continue(p, value);
        return 0;
    }
    if (p->cls == LINE_CONTINUATION) {
        cfg_sink_add(&p->err, p->lineno,
                     "indented line, expected key = value at the start of the line (an indented "
                     "line would continue the previous value)");
        return 0;
    }
    if (p->cls != LINE_KEY) {
        /* inih and classify() disagree: say so rather than lose the line */
        cfg_sink_add(&p->err, p->lineno, "cannot read this line, expected key = value");
        return 0;
    }
    if (p->where == W_IGNORED)
        return 0;
    const char *key = p->too_long || whole ? p->key : name;
    cfg_quote(key, qk, sizeof qk);
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
    if (p->too_long) {
        seen_add(p, s, key, false); /* reported by read_line(); no "missing" error follows */
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

/* inih's handler. inih's convention is nonzero = success; pair() follows
 * ours (0 = success), and a config error is not a failure of the call. */
static int on_pair(void *user, const char *section, const char *name, const char *value)
{
    (void)section; /* truncated by inih; read_line() tracks sections itself */
    return pair(user, name, value) == 0 ? 1 : 0;
}

int cfg_read(struct parser *p)
{
    sr_cfg_errors *errs = p->err.errs;
    int rc = ini_parse_stream(read_line, p, on_pair, p);
    if (rc == -2) {
        p->err.oom = true;
    } else if (rc > 0) {
        /* inih's first malformed line should be one we reported already */
        bool known = !errs && p->err.count > 0;
        for (size_t i = 0; errs && i < errs->n && !known; i++)
            known = errs->v[i].line == rc;
        if (!known)
            cfg_sink_add(&p->err, rc, "syntax error, expected key = value or [section]");
    }

    free(p->line);
    p->line = NULL;
    return p->err.oom ? SR_ENOMEM : 0;
}
