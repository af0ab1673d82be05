/*
 * ingest.c - the ingest CSV format (see ingest.h), read through csvin.
 *
 * The stream is read in 256 KiB chunks and fed to csvin (adapters/csvin.h),
 * which owns everything about CSV as such: the BOM, line ends and the line
 * each row starts on, strict quoting and malformed rows, blank lines, the
 * row bound, rows of the wrong width or with a NUL byte. This file checks
 * the header's columns, and makes each data row one sample or one reject
 * by the format's own rules (a catalog metric, an entity path, a time and
 * a number).
 *
 * A row's values are trimmed into `val`, a buffer that only grows, so that
 * the fields csvin hands over stay as read for the reject's raw text.
 */
#include "ingest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../adapters/csvin.h"

#define CHUNK_SIZE (256 * 1024)
#define QUOTE_MAX 64 /* bytes of a field quoted in a reason or message */

enum { COL_METRIC, COL_ENTITY, COL_TS, COL_VALUE, COL_KEY, COL_N };

static const char *const col_names[COL_N] = {
    [COL_METRIC] = "metric", [COL_ENTITY] = "entity", [COL_TS] = "ts",
    [COL_VALUE] = "value",   [COL_KEY] = "key",
};

#define EXPECTED "expected a header naming metric, entity, ts, value and optionally key"

typedef struct {
    const sr_catalog *cat;
    const char *tz;
    const sr_ingest_sink *sink;
    char *err;
    size_t errlen;
    sr_csvin *in;

    int col[COL_N]; /* field index of each column, -1 when absent */
    bool have_header;

    char *val; /* the row's values, trimmed */
    size_t val_cap;

    const sr_metric_def *last;   /* last metric found: rows come in runs */
    const sr_metric_def **index; /* the catalog hashed by name (open addressing) */
    size_t index_mask;
    sr_ingest_stats st;
    char reason[256];
} ingest;

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static bool is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* s cut to QUOTE_MAX bytes, with "..." when cut, for a message. */
static const char *clip(const char *s, char out[QUOTE_MAX + 4])
{
    size_t n = strlen(s);
    if (n <= QUOTE_MAX)
        return s;
    n = sr_csvin_utf8_floor(s, QUOTE_MAX);
    memcpy(out, s, n);
    memcpy(out + n, "...", 4);
    return out;
}

/* s[0..n) without the blanks around it: *len bytes from the result. */
static const char *trim(const char *s, size_t n, size_t *len)
{
    while (n && is_blank((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && is_blank((unsigned char)s[n - 1]))
        n--;
    *len = n;
    return s;
}

static int reject(ingest *g, long line, const char *raw, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int reject(ingest *g, long line, const char *raw, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->reason, sizeof g->reason, fmt, ap);
    va_end(ap);
    g->st.rejects++;
    return g->sink->reject(g->sink->ctx, line, raw ? raw : sr_csvin_raw(g->in), g->reason);
}

static int on_header(void *ctx, const sr_csvin_row *row)
{
    ingest *g = ctx;
    char q[QUOTE_MAX + 4];
    long line = (long)row->line;
    int col[COL_N];
    for (int c = 0; c < COL_N; c++)
        col[c] = -1;
    for (size_t i = 0; i < row->n; i++) {
        size_t n;
        const char *s = trim(row->f[i], strlen(row->f[i]), &n);
        char name[QUOTE_MAX + 1];
        snprintf(name, sizeof name, "%.*s", (int)(n < QUOTE_MAX ? n : QUOTE_MAX + 1), s);
        int c = 0;
        while (c < COL_N && (n != strlen(col_names[c]) || strncasecmp(s, col_names[c], n) != 0))
            c++;
        if (c == COL_N && !n) {
            set_err(g->err, g->errlen, "line %ld: column %zu has no name (%s)", line, i + 1,
                    EXPECTED);
        } else if (c == COL_N) {
            set_err(g->err, g->errlen, "line %ld: unknown column '%s' (%s)", line, clip(name, q),
                    EXPECTED);
        } else if (col[c] >= 0) {
            set_err(g->err, g->errlen, "line %ld: column '%s' appears twice (%s)", line,
                    col_names[c], EXPECTED);
        } else {
            col[c] = (int)i;
            continue;
        }
        return SR_EINVAL;
    }
    char missing[64] = "";
    int nmissing = 0;
    for (int c = 0; c < COL_KEY; c++) {
        if (col[c] < 0) {
            size_t o = strlen(missing);
            snprintf(missing + o, sizeof missing - o, "%s'%s'", nmissing ? ", " : "", col_names[c]);
            nmissing++;
        }
    }
    if (nmissing) {
        set_err(g->err, g->errlen, "line %ld: missing column%s %s (%s)", line,
                nmissing > 1 ? "s" : "", missing, EXPECTED);
        return SR_EINVAL;
    }
    memcpy(g->col, col, sizeof col);
    g->have_header = true;
    return 0;
}

/*
 * Hashes the catalog's names once per file, so that a lookup costs one
 * hash and about one strcmp however many metrics there are. Where a name
 * is in the catalog twice, the first wins, as with sr_catalog_find().
 */
static int index_build(ingest *g)
{
    size_t n = 8;
    while (n < 2 * g->cat->n)
        n *= 2;
    g->index = calloc(n, sizeof *g->index);
    if (!g->index)
        return SR_ENOMEM;
    g->index_mask = n - 1;
    for (size_t i = 0; i < g->cat->n; i++) {
        const sr_metric_def *d = &g->cat->v[i];
        size_t h = sr_fnv1a(d->name, strlen(d->name), SR_FNV_BASIS) & g->index_mask;
        while (g->index[h] && strcmp(g->index[h]->name, d->name) != 0)
            h = (h + 1) & g->index_mask;
        if (!g->index[h])
            g->index[h] = d;
    }
    return 0;
}

static const sr_metric_def *find_metric(ingest *g, const char *name)
{
    if (g->last && strcmp(g->last->name, name) == 0)
        return g->last;
    for (size_t h = sr_fnv1a(name, strlen(name), SR_FNV_BASIS) & g->index_mask; g->index[h];
         h = (h + 1) & g->index_mask) {
        if (strcmp(g->index[h]->name, name) == 0)
            return g->last = g->index[h];
    }
    return NULL;
}

/* Whether the path e (of n bytes) has "//" in it. */
static bool empty_segment(const char *e, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        if (e[i] == '/' && e[i - 1] == '/')
            return true;
    }
    return false;
}

/* The row's values, trimmed, into g->val: v[c] (NULL for a column the
 * file lacks) and n[c] its length. */
static int values(ingest *g, const sr_csvin_row *row, char *v[COL_N], size_t n[COL_N])
{
    size_t need = COL_N;
    for (int c = 0; c < COL_N; c++)
        need += g->col[c] >= 0 ? row->len[g->col[c]] : 0;
    if (need > g->val_cap) {
        char *b = realloc(g->val, need);
        if (!b)
            return SR_ENOMEM;
        g->val = b;
        g->val_cap = need;
    }
    size_t o = 0;
    for (int c = 0; c < COL_N; c++) {
        v[c] = NULL;
        n[c] = 0;
        if (g->col[c] < 0)
            continue;
        size_t i = (size_t)g->col[c];
        const char *s = trim(row->f[i], row->len[i], &n[c]);
        v[c] = memcpy(g->val + o, s, n[c]);
        v[c][n[c]] = '\0';
        o += n[c] + 1;
    }
    return 0;
}

/* A complete data row: one sample or one reject. */
static int on_row(void *ctx, const sr_csvin_row *row)
{
    ingest *g = ctx;
    char q[QUOTE_MAX + 4];
    long line = (long)row->line;
    char *v[COL_N];
    size_t n[COL_N];
    if (values(g, row, v, n)) {
        set_err(g->err, g->errlen, "out of memory");
        return SR_ENOMEM;
    }
    const char *raw = NULL; /* the row's, written only for a reject */
    if (!n[COL_METRIC])
        return reject(g, line, raw, "empty metric");
    const sr_metric_def *d = find_metric(g, v[COL_METRIC]);
    if (!d)
        return reject(g, line, raw, "unknown metric '%s'", clip(v[COL_METRIC], q));
    if (d->kind == SR_KIND_RATIO)
        return reject(g, line, raw, "metric '%s' is a ratio, computed from its parts", d->name);
    const char *e = v[COL_ENTITY];
    if (!n[COL_ENTITY])
        return reject(g, line, raw, "empty entity");
    if (e[0] == '/' || e[n[COL_ENTITY] - 1] == '/')
        return reject(g, line, raw, "entity '%s' starts or ends with '/'", clip(e, q));
    if (empty_segment(e, n[COL_ENTITY]))
        return reject(g, line, raw, "entity '%s' has an empty path segment", clip(e, q));
    sr_sample s = {.metric = d->name, .entity = e, .key = NULL};
    if (!n[COL_TS])
        return reject(g, line, raw, "empty ts");
    if (sr_parse_time(v[COL_TS], g->tz, &s.ts_ms))
        return reject(g, line, raw, "unparseable ts '%s'", clip(v[COL_TS], q));
    if (!n[COL_VALUE])
        return reject(g, line, raw, "empty value");
    if (sr_parse_double(v[COL_VALUE], &s.value))
        return reject(g, line, raw, "non-numeric value '%s'", clip(v[COL_VALUE], q));
    if (v[COL_KEY] && n[COL_KEY])
        s.key = v[COL_KEY];
    g->st.rows++;
    return g->sink->row(g->sink->ctx, line, &s);
}

/* A row csvin could not read, or one of the wrong shape. */
static int on_reject(void *ctx, uint64_t line, const char *raw, const char *why, int header)
{
    ingest *g = ctx;
    static const char malformed[] = "malformed CSV: ";
    if (!header)
        return reject(g, (long)line, raw, "%s", why);
    if (strncmp(why, malformed, sizeof malformed - 1) == 0)
        set_err(g->err, g->errlen, "line %ld: malformed CSV in the header: %s (%s)", (long)line,
                why + sizeof malformed - 1, EXPECTED);
    else
        set_err(g->err, g->errlen, "line %ld: the header: %s (%s)", (long)line, why, EXPECTED);
    return SR_EINVAL;
}

int sr_ingest_csv(FILE *f, const sr_catalog *cat, const char *tz, const sr_ingest_sink *sink,
                  sr_ingest_stats *stats, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (!f || !cat || !sink || !sink->row || !sink->reject) {
        set_err(err, errlen, "sr_ingest_csv: missing argument");
        return SR_EINVAL;
    }
    if (!sr_tz_valid(tz)) {
        char q[QUOTE_MAX + 4];
        set_err(err, errlen, "unknown time zone '%s'", clip(tz, q));
        return SR_EINVAL;
    }
    ingest *g = calloc(1, sizeof *g);
    char *chunk = malloc(CHUNK_SIZE);
    if (g)
        g->cat = cat;
    if (!g || !chunk || sr_csvin_create(',', &g->in) || index_build(g)) {
        if (g) {
            sr_csvin_destroy(g->in);
            free(g->index);
        }
        free(g);
        free(chunk);
        set_err(err, errlen, "out of memory");
        return SR_ENOMEM;
    }
    g->tz = tz;
    g->sink = sink;
    g->err = err;
    g->errlen = errlen;
    const sr_csvin_sink in_sink = {
        .ctx = g, .header = on_header, .row = on_row, .reject = on_reject};

    int rc = 0;
    while (!rc) {
        size_t n = fread(chunk, 1, CHUNK_SIZE, f);
        if (n == 0) {
            if (ferror(f)) {
                rc = SR_EIO;
                set_err(err, errlen, "read error: %s", strerror(errno));
            }
            break;
        }
        rc = sr_csvin_feed(g->in, chunk, n, &in_sink);
    }
    sr_csvin_stats cs;
    sr_csvin_stats_get(g->in, &cs);
    if (!rc) {
        rc = sr_csvin_finish(g->in, &in_sink);
        sr_csvin_stats_get(g->in, &cs);
    }
    if (rc == -1 && !(err && errlen && err[0])) {
        rc = SR_ENOMEM;
        set_err(err, errlen, "out of memory");
    }
    if (!rc && !g->have_header) {
        rc = SR_EINVAL;
        set_err(err, errlen, "no header: the file is empty (%s)", EXPECTED);
    }
    g->st.lines = (long)cs.lines;
    g->st.blank = (long)cs.blank;
    if (stats)
        *stats = g->st;
    sr_csvin_destroy(g->in);
    free(g->val);
    free(g->index);
    free(g);
    free(chunk);
    return rc;
}
