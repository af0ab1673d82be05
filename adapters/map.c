/*
 * map.c - from a source row to a sample (see map.h for the keys).
 *
 * sr_map_create() compiles the mapping keys once: every template becomes a
 * list of parts (literal text or a field), every field named anywhere is
 * entered once in the map's field list, and the where clauses, null
 * tokens, time format and zone are checked. sr_map_row() then needs no
 * parsing of the config, only of the row: it tests the filters, expands
 * the templates into one buffer on the stack, parses the value and the
 * time, and emits or rejects. A row is never dropped without a trace:
 * filtered rows are counted, every other row becomes a sample or a reject
 * whose reason names the field and quotes the value.
 *
 * Times with a strptime format are parsed in the C locale (month names in
 * English whatever the user's locale), then converted from the source's
 * zone by the host, which handles DST; a %z in the format wins over the
 * zone.
 *
 * The language itself (templates, value maps, where clauses) is maplang.c;
 * what the two share is map_int.h.
 */
#include "map_int.h"

/* ---- small text helpers ---- */

void sr_map_errf(char *err, size_t len, const char *fmt, ...)
{
    if (!err || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

void sr_map_oneline(const char *src, size_t n, char *dst, size_t dlen, int markup)
{
    size_t o = 0;
    int in_tag = 0, space = 1;
    if (dlen == 0)
        return;
    for (size_t i = 0; i < n && src[i] && o + 1 < dlen; i++) {
        unsigned char c = (unsigned char)src[i];
        if (in_tag) {
            in_tag = c != '>';
            continue;
        }
        if (c == '<' && markup) {
            in_tag = 1;
            c = ' ';
        }
        if (c < 0x20 || c == 0x7f || c == ' ') {
            if (!space)
                dst[o++] = ' ';
            space = 1;
            continue;
        }
        dst[o++] = (char)c;
        space = 0;
    }
    while (o > 0 && dst[o - 1] == ' ')
        o--;
    /* drop a UTF-8 sequence the cut left unfinished */
    size_t k = o;
    while (k > 0 && ((unsigned char)dst[k - 1] & 0xc0) == 0x80)
        k--;
    if (k > 0 && (unsigned char)dst[k - 1] >= 0xc0) {
        unsigned char lead = (unsigned char)dst[k - 1];
        size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
        if (o - (k - 1) < need)
            o = k - 1;
    }
    dst[o] = '\0';
}

/* A copy of s[0..n) without blanks around it; NULL when out of memory. */
char *map_dup_trim(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* A value for a message: printable ASCII, cut at QUOTE_MAX bytes. */
void map_quote(const char *s, char *buf, size_t len)
{
    size_t o = 0;
    for (; *s && o + 4 < len && o < QUOTE_MAX; s++) {
        unsigned char c = (unsigned char)*s;
        buf[o++] = (c >= 0x20 && c != 0x7f) ? (char)c : '?';
    }
    if (*s && o + 4 < len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
}

static const char *skip_bom(const char *s)
{
    return (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF
               ? s + 3
               : s;
}

/* ---- numbers ---- */

int sr_map_number(const char *text, double *out)
{
    if (!text)
        return -1;
    while (isspace((unsigned char)*text))
        text++;
    size_t n = strlen(text);
    while (n && isspace((unsigned char)text[n - 1]))
        n--;
    if (n == 0 || n > 64)
        return -1;
    char buf[80];
    size_t o = 0, i = 0;
    if (text[i] == '+' || text[i] == '-')
        buf[o++] = text[i++];
    /* the integer part: plain digits, or groups of three after a comma */
    size_t digits = 0, group = 0;
    int grouped = 0;
    for (; i < n && (isdigit((unsigned char)text[i]) || text[i] == ','); i++) {
        if (text[i] == ',') {
            if (digits == 0 || (grouped && group != 3) || (!grouped && group > 3))
                return -1;
            grouped = 1;
            group = 0;
            continue;
        }
        buf[o++] = text[i];
        digits++;
        group++;
    }
    if (grouped && group != 3)
        return -1;
    if (i < n && text[i] == '.') {
        buf[o++] = text[i++];
        for (; i < n && isdigit((unsigned char)text[i]); i++, digits++)
            buf[o++] = text[i];
    }
    if (digits == 0)
        return -1;
    if (i < n && (text[i] == 'e' || text[i] == 'E')) {
        buf[o++] = text[i++];
        if (i < n && (text[i] == '+' || text[i] == '-'))
            buf[o++] = text[i++];
        size_t ed = 0;
        for (; i < n && isdigit((unsigned char)text[i]); i++, ed++)
            buf[o++] = text[i];
        if (ed == 0)
            return -1;
    }
    if (i != n)
        return -1;
    buf[o] = '\0';
    errno = 0;
    char *end;
    double v = strtod(buf, &end);
    if (*end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* ---- times ---- */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* Says that text is not a time of the kind expected; returns -1. */
static int bad_time(const char *text, const char *expected, char *why, size_t wlen)
{
    char q[QUOTE_MAX * 2];
    map_quote(text, q, sizeof q);
    sr_map_errf(why, wlen, "time '%s' is not %s", q, expected);
    return -1;
}

/* Parses text by the map's time format. Returns 0, or -1 with why. */
static int time_parse(const sr_map *m, const char *text, int64_t *out, char *why, size_t wlen)
{
    char q[QUOTE_MAX * 2];
    double v;
    switch (m->tkind) {
    case TIME_EPOCH:
    case TIME_EPOCH_MS:
        if (sr_map_number(text, &v) || fabs(v) > 1e15)
            return bad_time(text, m->tkind == TIME_EPOCH ? "epoch seconds" : "epoch milliseconds",
                            why, wlen);
        *out = (int64_t)llround(m->tkind == TIME_EPOCH ? v * 1000.0 : v);
        return 0;
    case TIME_AUTO:
    case TIME_ISO:
        if (m->host->parse_time(text, m->tz, out))
            return bad_time(text, m->tkind == TIME_ISO ? "ISO-8601" : "ISO-8601 or epoch seconds",
                            why, wlen);
        return 0;
    case TIME_STRPTIME:
        break;
    }
    pthread_once(&c_locale_once, c_locale_init);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = 70;
    tm.tm_mday = 1;
    tm.tm_gmtoff = LONG_MIN;
    const char *end =
        c_locale ? strptime_l(text, m->tformat, &tm, c_locale) : strptime(text, m->tformat, &tm);
    while (end && isspace((unsigned char)*end))
        end++;
    if (!end || *end) {
        map_quote(text, q, sizeof q);
        char f[QUOTE_MAX * 2];
        map_quote(m->tformat, f, sizeof f);
        sr_map_errf(why, wlen, "time '%s' does not match time_format '%s'", q, f);
        return -1;
    }
    int aware = tm.tm_gmtoff != LONG_MIN;
    int64_t t;
    if (m->host->local_to_utc(aware ? NULL : m->tz, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                              tm.tm_hour, tm.tm_min, tm.tm_sec, &t)) {
        map_quote(text, q, sizeof q);
        sr_map_errf(why, wlen, "time '%s' cannot be placed in zone %s", q, m->tz);
        return -1;
    }
    *out = aware ? t - (int64_t)tm.tm_gmtoff * 1000 : t;
    return 0;
}

/* ---- create / destroy ---- */

static const char *opt(const sr_ad_options *o, const char *key)
{
    const char *v = sr_ad_opt(o, key);
    return v && *v ? v : NULL;
}

/* value = duration(A, B): fills the two fields. */
static int value_compile(sr_map *m, const char *text, char *err, size_t errlen)
{
    if (strncasecmp(text, "duration(", 9) == 0) {
        const char *a = text + 9, *close = strrchr(text, ')');
        const char *comma = close ? memchr(a, ',', (size_t)(close - a)) : NULL;
        if (!close || !comma || close[1 + strspn(close + 1, " \t")] != '\0') {
            sr_map_errf(err, errlen, "value: expected duration(START_FIELD, END_FIELD)");
            return -1;
        }
        const char *b = comma + 1;
        size_t al = (size_t)(comma - a), bl = (size_t)(close - b);
        /* {Field} is allowed inside duration() too */
        while (al && isspace((unsigned char)*a)) {
            a++;
            al--;
        }
        while (bl && isspace((unsigned char)*b)) {
            b++;
            bl--;
        }
        while (al && isspace((unsigned char)a[al - 1]))
            al--;
        while (bl && isspace((unsigned char)b[bl - 1]))
            bl--;
        if (al >= 2 && a[0] == '{' && a[al - 1] == '}') {
            a++;
            al -= 2;
        }
        if (bl >= 2 && b[0] == '{' && b[bl - 1] == '}') {
            b++;
            bl -= 2;
        }
        if (!al || !bl) {
            sr_map_errf(err, errlen, "value: duration() needs two field names, START and END");
            return -1;
        }
        m->vkind = VAL_DURATION;
        m->vfield = map_field_add(m, a, al);
        m->vend = map_field_add(m, b, bl);
        return m->vfield == SIZE_MAX || m->vend == SIZE_MAX ? -1 : 0;
    }
    if (sr_map_number(text, &m->vconst) == 0) {
        m->vkind = VAL_CONST;
        return 0;
    }
    size_t l = strlen(text);
    if (l >= 2 && text[0] == '{' && text[l - 1] == '}') {
        text++;
        l -= 2;
    }
    if (memchr(text, '{', l) || memchr(text, '}', l)) {
        sr_map_errf(err, errlen, "value: expected a field name, a number or duration(START, END)");
        return -1;
    }
    m->vkind = VAL_FIELD;
    m->vfield = map_field_add(m, text, l);
    return m->vfield == SIZE_MAX ? -1 : 0;
}

static int nulls_compile(sr_map *m, const char *text)
{
    const char *s = text;
    while (*s) {
        size_t n = map_piece_len(s, 0);
        char *v = map_where_value(s, n);
        if (!v)
            return -1;
        if (*v) {
            char **nn = realloc(m->nulls, (m->n_nulls + 1) * sizeof *nn);
            if (!nn) {
                free(v);
                return -1;
            }
            m->nulls = nn;
            m->nulls[m->n_nulls++] = v;
        } else {
            free(v);
        }
        s += n;
        if (*s == ',')
            s++;
    }
    return 0;
}

int sr_map_create(const sr_ad_options *opts, sr_map **out, char *err, size_t errlen)
{
    sr_map *m = calloc(1, sizeof *m);
    if (!m || !(m->count = calloc(1, sizeof *m->count))) {
        free(m);
        sr_map_errf(err, errlen, "out of memory");
        return -1;
    }
    m->host = opts->host;
    m->opts = opts;
    char oom[] = "out of memory";
    const char *v;
    int rc = -1;
    err[0] = '\0';

    if (!(v = opt(opts, "metric"))) {
        sr_map_errf(err, errlen, "metric: missing, expected a metric name or a {Field} template");
        goto fail;
    }
    if (map_tmpl_compile(m, &m->metric, "metric", v, 0, err, errlen))
        goto fail;
    if (!(v = opt(opts, "entity"))) {
        sr_map_errf(err, errlen, "entity: missing, expected an entity path or a {Field} template");
        goto fail;
    }
    if (map_tmpl_compile(m, &m->entity, "entity", v, 0, err, errlen))
        goto fail;
    if (!(v = opt(opts, "value"))) {
        sr_map_errf(err, errlen,
                    "value: missing, expected a field name, a number or duration(A, B)");
        goto fail;
    }
    if (value_compile(m, v, err, errlen))
        goto fail;
    if ((v = opt(opts, "time")) && map_tmpl_compile(m, &m->time, "time", v, 1, err, errlen))
        goto fail;
    if ((v = opt(opts, "key")) && map_tmpl_compile(m, &m->key, "key", v, 1, err, errlen))
        goto fail;
    if ((v = opt(opts, "where")) && map_where_compile(m, v, err, errlen))
        goto fail;
    if ((v = opt(opts, "null")) && nulls_compile(m, v))
        goto fail;

    const char *tf = opt(opts, "time_format");
    if (!tf || strcmp(tf, "auto") == 0)
        m->tkind = TIME_AUTO;
    else if (strcmp(tf, "iso8601") == 0)
        m->tkind = TIME_ISO;
    else if (strcmp(tf, "epoch") == 0)
        m->tkind = TIME_EPOCH;
    else if (strcmp(tf, "epoch_ms") == 0)
        m->tkind = TIME_EPOCH_MS;
    else if (strchr(tf, '%')) {
        m->tkind = TIME_STRPTIME;
        if (!(m->tformat = strdup(tf)))
            goto fail;
    } else {
        sr_map_errf(err, errlen,
                    "time_format: '%.60s' is not a format, expected a strptime format such as "
                    "%%m/%%d/%%Y %%I:%%M:%%S %%p, or iso8601, epoch, epoch_ms",
                    tf);
        goto fail;
    }
    if (tf && !m->time.set) {
        sr_map_errf(err, errlen, "time_format: given without time = FIELD");
        goto fail;
    }
    const char *tz = opt(opts, "timezone");
    if (!tz)
        tz = opts->timezone && *opts->timezone ? opts->timezone : "UTC";
    if (strlen(tz) >= sizeof m->tz) {
        sr_map_errf(err, errlen, "timezone: too long");
        goto fail;
    }
    snprintf(m->tz, sizeof m->tz, "%s", tz);
    if (m->time.set || m->vkind == VAL_DURATION) {
        if (!m->host || !m->host->parse_time || !m->host->local_to_utc) {
            sr_map_errf(err, errlen, "the host gave no time functions (adapter ABI misuse)");
            goto fail;
        }
        if (m->host->tz_valid && !m->host->tz_valid(m->tz)) {
            sr_map_errf(err, errlen,
                        "timezone: unknown zone '%.60s', expected a tzdata name such as "
                        "America/Los_Angeles",
                        m->tz);
            goto fail;
        }
    }
    m->opts = NULL;
    *out = m;
    return 0;
fail:
    if (!err[0])
        sr_map_errf(err, errlen, "%s", oom);
    sr_map_destroy(m);
    return rc;
}

static void tmpl_free(tmpl *t)
{
    for (size_t i = 0; i < t->n; i++)
        free((void *)t->p[i].lit);
    free(t->p);
}

void sr_map_destroy(sr_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_fields; i++)
        free(m->fields[i]);
    free(m->fields);
    for (size_t i = 0; i < m->n_vmaps; i++) {
        for (size_t k = 0; k < m->vmaps[i].n; k++) {
            free(m->vmaps[i].from[k]);
            free(m->vmaps[i].to[k]);
        }
        free(m->vmaps[i].from);
        free(m->vmaps[i].to);
        free(m->vmaps[i].name);
        free(m->vmaps[i].dflt);
    }
    free(m->vmaps);
    tmpl_free(&m->metric);
    tmpl_free(&m->entity);
    tmpl_free(&m->time);
    tmpl_free(&m->key);
    free(m->tformat);
    for (size_t i = 0; i < m->n_where; i++) {
        for (size_t k = 0; k < m->where[i].n; k++)
            free(m->where[i].vals[k]);
        free(m->where[i].vals);
    }
    free(m->where);
    for (size_t i = 0; i < m->n_nulls; i++)
        free(m->nulls[i]);
    free(m->nulls);
    free(m->count);
    free(m);
}

size_t sr_map_field_count(const sr_map *m)
{
    return m->n_fields;
}

const char *sr_map_field_name(const sr_map *m, size_t i)
{
    return i < m->n_fields ? m->fields[i] : NULL;
}

uint64_t sr_map_filtered(const sr_map *m)
{
    return m->count->filtered;
}

/* Header name i as a field name: a BOM on the first and blanks around it
 * left out. Sets *len. */
static const char *header_name(const char *const *names, size_t i, size_t *len)
{
    const char *h = names[i] ? (i == 0 ? skip_bom(names[i]) : names[i]) : "";
    while (isspace((unsigned char)*h))
        h++;
    size_t hl = strlen(h);
    while (hl && isspace((unsigned char)h[hl - 1]))
        hl--;
    *len = hl;
    return h;
}

/* The column of the occurrence-th (from 1) header name equal to
 * name[0..len); n when there is none. */
static size_t header_find(const char *const *names, size_t n, const char *name, size_t len,
                          unsigned long occurrence)
{
    for (size_t i = 0; i < n; i++) {
        size_t hl;
        const char *h = header_name(names, i, &hl);
        if (hl == len && memcmp(h, name, len) == 0 && --occurrence == 0)
            return i;
    }
    return n;
}

/* "Name#N" (N from 2): the length of Name and N; 0 when name is not so. */
static size_t occurrence_split(const char *name, unsigned long *nth)
{
    const char *hash = strrchr(name, '#');
    if (!hash || hash == name || !isdigit((unsigned char)hash[1]) || hash[1] == '0')
        return 0;
    char *end;
    errno = 0;
    unsigned long v = strtoul(hash + 1, &end, 10);
    if (*end || errno || v < 2)
        return 0;
    *nth = v;
    return (size_t)(hash - name);
}

int sr_map_bind(const sr_map *m, const char *const *names, size_t n, size_t *col, char *err,
                size_t errlen)
{
    for (size_t f = 0; f < m->n_fields; f++) {
        const char *name = m->fields[f];
        size_t i = header_find(names, n, name, strlen(name), 1);
        unsigned long nth;
        size_t base = occurrence_split(name, &nth);
        /* a name as it is first; then Name#N, the N-th column called Name */
        if (i == n && base)
            i = header_find(names, n, name, base, nth);
        if (i < n) {
            col[f] = i;
            continue;
        }
        char q[QUOTE_MAX * 2];
        map_quote(name, q, sizeof q);
        size_t o;
        if (base && header_find(names, n, name, base, 1) < n) {
            char b[QUOTE_MAX + 1];
            snprintf(b, sizeof b, "%.*s", (int)(base < QUOTE_MAX ? base : QUOTE_MAX), name);
            map_quote(b, q, sizeof q);
            o = (size_t)snprintf(err, errlen,
                                 "field '%s#%lu': the header has fewer columns named "
                                 "'%s' (have:",
                                 b, nth, q);
        } else {
            o = (size_t)snprintf(err, errlen, "field '%s' is not in the header (have:", q);
        }
        for (size_t k = 0; k < n && o < errlen; k++) {
            map_quote(names[k] ? (k == 0 ? skip_bom(names[k]) : names[k]) : "", q, sizeof q);
            o += (size_t)snprintf(err + o, errlen - o, "%s '%s'", k ? "," : "", q);
        }
        if (o < errlen)
            snprintf(err + o, errlen - o, ")");
        return -1;
    }
    return 0;
}

int sr_map_header_warning(const sr_map *m, const char *const *names, size_t n, char *msg,
                          size_t len)
{
    for (size_t f = 0; f < m->n_fields; f++) {
        const char *name = m->fields[f];
        size_t first = header_find(names, n, name, strlen(name), 1);
        size_t second = first < n ? header_find(names, n, name, strlen(name), 2) : n;
        if (second == n)
            continue;
        char q[QUOTE_MAX * 2];
        map_quote(name, q, sizeof q);
        sr_map_errf(msg, len,
                    "the header has two columns named '%s' (columns %zu and %zu): {%s} reads "
                    "column %zu; write {%s#2} for column %zu",
                    q, first + 1, second + 1, q, first + 1, q, second + 1);
        return 1;
    }
    if (len)
        msg[0] = '\0';
    return 0;
}

/* ---- one row ---- */

static int reject(sr_sink *sink, const char *where, const char *raw, const char *why)
{
    int rc = sink->reject(sink, where, raw ? raw : "", why);
    return rc < 0 ? rc : SR_MAP_REJECTED;
}

int sr_map_row(const sr_map *m, const char *const *vals, int64_t now_ms, const char *where,
               const char *raw, sr_sink *sink)
{
    char why[512], q[QUOTE_MAX * 2];
    int pass = map_where_pass(m, vals, why, sizeof why);
    if (pass < 0)
        return reject(sink, where, raw, why);
    if (pass == 0) {
        m->count->filtered++;
        return SR_MAP_FILTERED;
    }
    char metric[TEXT_MAX], entity[TEXT_MAX], key[TEXT_MAX], tbuf[TEXT_MAX];
    if (map_tmpl_expand(m, &m->metric, "metric", 0, vals, metric, sizeof metric, why, sizeof why) ||
        map_tmpl_expand(m, &m->entity, "entity", 1, vals, entity, sizeof entity, why, sizeof why))
        return reject(sink, where, raw, why);
    if (m->key.set && map_tmpl_expand(m, &m->key, "key", 0, vals, key, sizeof key, why, sizeof why))
        return reject(sink, where, raw, why);

    int64_t ts = now_ms;
    if (m->time.set) {
        if (map_tmpl_expand(m, &m->time, "time", 0, vals, tbuf, sizeof tbuf, why, sizeof why) ||
            time_parse(m, tbuf, &ts, why, sizeof why))
            return reject(sink, where, raw, why);
    }

    double value = m->vconst;
    char vb[TEXT_MAX];
    if (m->vkind == VAL_FIELD) {
        const char *v = map_field_val(m, vals, m->vfield, vb, sizeof vb);
        map_quote(m->fields[m->vfield], q, sizeof q);
        if (!v)
            sr_map_errf(why, sizeof why, "no field '%s' in the row (needed for value)", q);
        else if (!*v)
            sr_map_errf(why, sizeof why, "'%s' has no value", q);
        else if (sr_map_number(v, &value)) {
            char qv[QUOTE_MAX * 2];
            map_quote(v, qv, sizeof qv);
            sr_map_errf(why, sizeof why, "'%s' is not a number: '%s'", q, qv);
            v = NULL;
        }
        if (!v || !*v)
            return reject(sink, where, raw, why);
    } else if (m->vkind == VAL_DURATION) {
        size_t fs[2] = {m->vfield, m->vend};
        int64_t t[2];
        for (int k = 0; k < 2; k++) {
            const char *v = map_field_val(m, vals, fs[k], vb, sizeof vb);
            map_quote(m->fields[fs[k]], q, sizeof q);
            if (!v || !*v) {
                sr_map_errf(why, sizeof why,
                            v ? "'%s' has no value: no duration"
                              : "no field '%s' in the row (needed for duration)",
                            q);
                return reject(sink, where, raw, why);
            }
            char tw[400];
            if (time_parse(m, v, &t[k], tw, sizeof tw)) {
                sr_map_errf(why, sizeof why, "%s: %s", q, tw);
                return reject(sink, where, raw, why);
            }
        }
        if (t[1] < t[0]) {
            char qb[QUOTE_MAX * 2];
            map_quote(m->fields[fs[0]], q, sizeof q);
            map_quote(m->fields[fs[1]], qb, sizeof qb);
            sr_map_errf(why, sizeof why, "negative duration: '%s' is before '%s'", qb, q);
            return reject(sink, where, raw, why);
        }
        value = (double)(t[1] - t[0]) / 1000.0;
    }
    sr_ad_sample s = {metric, entity, ts, value, m->key.set ? key : NULL};
    /* so that a sample the sink refuses (a metric the config does not
     * define) is rejected at its line with the input as read */
    sink->where = where;
    sink->raw = raw ? raw : "";
    int rc = sink->emit(sink, &s);
    sink->where = sink->raw = NULL;
    return rc < 0 ? rc : SR_MAP_EMITTED;
}

/* ---- helpers for adapters ---- */

int sr_map_path(const sr_ad_options *opts, const char *path, char *buf, size_t len)
{
    int n;
    if (path[0] == '/')
        n = snprintf(buf, len, "%s", path);
    else if (path[0] == '~' && path[1] == '/' && getenv("HOME"))
        n = snprintf(buf, len, "%s/%s", getenv("HOME"), path + 2);
    else
        n = snprintf(buf, len, "%s/%s",
                     opts->config_dir && *opts->config_dir ? opts->config_dir : ".", path);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

int sr_map_secret(const sr_ad_options *opts, const char *name, char **out, char *err, size_t errlen)
{
    char k[64];
    *out = NULL;
    if (sr_ad_opt(opts, name)) {
        sr_map_errf(err, errlen,
                    "%s: secrets are not written in the config; use %s_env = VARIABLE or %s_file = "
                    "PATH (a file only its owner can read)",
                    name, name, name);
        return -1;
    }
    snprintf(k, sizeof k, "%s_env", name);
    const char *env = opt(opts, k);
    snprintf(k, sizeof k, "%s_file", name);
    const char *file = opt(opts, k);
    if (env && file) {
        sr_map_errf(err, errlen, "%s_env and %s_file are both given, expected one of them", name,
                    name);
        return -1;
    }
    if (env) {
        const char *v = getenv(env);
        if (!v) {
            sr_map_errf(err, errlen, "%s_env: the environment variable %.60s is not set", name,
                        env);
            return -1;
        }
        if (!(*out = strdup(v))) {
            sr_map_errf(err, errlen, "out of memory");
            return -1;
        }
        return 0;
    }
    if (!file)
        return 0;
    char path[4096];
    if (sr_map_path(opts, file, path, sizeof path)) {
        sr_map_errf(err, errlen, "%s_file: path too long", name);
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        sr_map_errf(err, errlen, "%s_file: cannot open %.200s: %s", name, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        sr_map_errf(err, errlen, "%s_file: %.200s is not a regular file", name, path);
        return -1;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        close(fd);
        sr_map_errf(err, errlen,
                    "%s_file: %.200s can be read by group or others (mode %04o), refused; "
                    "chmod 600 it",
                    name, path, (unsigned)(st.st_mode & 07777));
        return -1;
    }
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) {
        sr_map_errf(err, errlen, "%s_file: cannot read %.200s: %s", name, path, strerror(errno));
        return -1;
    }
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!buf[0]) {
        sr_map_errf(err, errlen, "%s_file: %.200s is empty", name, path);
        return -1;
    }
    if (!(*out = strdup(buf))) {
        sr_map_errf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}
