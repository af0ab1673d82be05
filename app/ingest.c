/*
 * ingest.c - the ingest CSV format (see ingest.h), parsed with libcsv.
 *
 * Data flow. The stream is read in 256 KiB chunks. Each chunk is cut into
 * pieces that end at a line terminator (LF, CRLF, or a lone CR, which libcsv
 * also takes as the end of a row) and each piece is handed to csv_parse().
 * libcsv calls on_field() for every field and on_row() at the end of every
 * row. Since a row can only end at a terminator, at most one row ends per
 * piece, at its very end; this is how rows get the physical line they start
 * on although libcsv counts no lines: a row starts on the line of the first
 * piece holding anything but blanks while no row is open. A quoted field
 * with newlines keeps its row open over several pieces.
 *
 * Strict mode. libcsv runs with CSV_STRICT | CSV_STRICT_FINI: a quote in an
 * unquoted field, text after a closing quote, or a quoted field still open
 * at the end of the file is an error at a known byte, rather than being
 * taken literally and surfacing later as an odd "unknown metric" (or, for a
 * stray opening quote, as one field that quietly swallows many lines). Such
 * a row is rejected with the verbatim text of its lines (it has no fields
 * to write back), the parser is reset, and parsing resumes after the line
 * where the error was found. To have that text, the pieces of a row that
 * stays open past a piece are copied into `text` (capped); rows that end
 * in the piece where they start, nearly all of them, cost no copy.
 *
 * Memory. Fields of the row in progress are copied (libcsv reuses its
 * buffer) into one buffer that is emptied for each row and only grows, so
 * there is no allocation per row once it has the size of the longest row.
 * Fields beyond the header's column count are kept only as far as the raw
 * text of the reject needs them.
 */
#include "ingest.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE (256 * 1024)
#define RAW_MAX SR_INGEST_RAW_MAX
#define QUOTE_MAX 64 /* bytes of a field quoted in a reason or message */
#define CSV_OPTIONS (CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL)

enum { COL_METRIC, COL_ENTITY, COL_TS, COL_VALUE, COL_KEY, COL_N };

static const char *const col_names[COL_N] = {
    [COL_METRIC] = "metric", [COL_ENTITY] = "entity", [COL_TS] = "ts",
    [COL_VALUE] = "value",   [COL_KEY] = "key",
};

#define EXPECTED "expected a header naming metric, entity, ts, value and optionally key"

typedef struct {
    size_t off, len; /* in ingest.buf; buf[off + len] is NUL */
} span;

typedef struct {
    const sr_catalog *cat;
    const char *tz;
    const sr_ingest_sink *sink;
    char *err;
    size_t errlen;
    struct csv_parser csv;
    int rc; /* first error or sink stop; once set, callbacks do nothing */

    bool have_header;
    size_t ncols;
    int col[COL_N]; /* field index of each column, -1 when absent */

    long line;       /* physical line of the next byte fed, 1-based */
    size_t line_pos; /* bytes of that line already fed */
    bool line_blank; /* nothing but blanks on the line so far, no row open */
    bool row_open;   /* libcsv is inside a row */
    long row_line;   /* line where the open row started */

    char *buf; /* fields of the row in progress */
    size_t len, cap;
    span *f;
    size_t kept, fcap;          /* fields kept in buf */
    size_t nfields;             /* fields seen in the row */
    bool cut;                   /* some field was not kept, or kept in part */
    size_t patch_at[COL_N + 1]; /* where field() wrote a NUL to trim... */
    char patch_was[COL_N + 1];  /* ...and the byte it replaced */
    size_t npatch;

    char text[RAW_MAX]; /* verbatim text of a row open past a piece */
    size_t text_len;
    bool text_cut;
    bool skipping; /* after a malformed row: up to the end of its line */
    char why[160]; /* the reason of that row */

    const sr_metric_def *last;   /* last metric found: rows come in runs */
    const sr_metric_def **index; /* the catalog hashed by name (open addressing) */
    size_t index_mask;
    sr_ingest_stats st;
    char raw[RAW_MAX];
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

/* The longest prefix of s[0..n) that does not end inside a UTF-8 sequence. */
static size_t utf8_floor(const char *s, size_t n)
{
    size_t i = n, back = 0;
    while (i > 0 && back < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
        i--;
        back++;
    }
    if (i == 0)
        return n;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return want > back + 1 ? i - 1 : n;
}

/* s cut to QUOTE_MAX bytes, with "..." when cut, for a message. */
static const char *clip(const char *s, char out[QUOTE_MAX + 4])
{
    size_t n = strlen(s);
    if (n <= QUOTE_MAX)
        return s;
    n = utf8_floor(s, QUOTE_MAX);
    memcpy(out, s, n);
    memcpy(out + n, "...", 4);
    return out;
}

/*
 * Trims blanks around the kept field i and returns its text. A trailing
 * blank is cut by writing a NUL over it, noted so that raw_fields() can
 * write the field back as it was read. Called at most once per field.
 */
static char *field(ingest *g, size_t i, size_t *len)
{
    char *s = g->buf + g->f[i].off;
    size_t n = g->f[i].len;
    while (n && is_blank((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && is_blank((unsigned char)s[n - 1]))
        n--;
    if (s[n] != '\0' && g->npatch < COL_N + 1) {
        g->patch_at[g->npatch] = (size_t)(s + n - g->buf);
        g->patch_was[g->npatch++] = s[n];
        s[n] = '\0';
    }
    if (len)
        *len = n;
    return s;
}

static void row_reset(ingest *g)
{
    g->len = 0;
    g->kept = 0;
    g->nfields = 0;
    g->cut = false;
    g->npatch = 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (!q)
        return SR_ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

static void on_field(void *s, size_t len, void *data)
{
    ingest *g = data;
    if (g->rc)
        return;
    size_t i = g->nfields++;
    if (g->kept != i) {
        g->cut = true;
        return;
    }
    /* the header keeps one field more than it may have, to name the excess */
    size_t whole = g->have_header ? g->ncols : COL_N + 1;
    if (i >= whole) {
        if (g->len >= RAW_MAX) {
            g->cut = true;
            return;
        }
        if (len > RAW_MAX) {
            len = RAW_MAX;
            g->cut = true;
        }
    }
    if (grow((void **)&g->buf, &g->cap, g->len + len + 1, 1) ||
        grow((void **)&g->f, &g->fcap, g->kept + 1, sizeof *g->f)) {
        g->rc = SR_ENOMEM;
        set_err(g->err, g->errlen, "out of memory");
        return;
    }
    memcpy(g->buf + g->len, s, len);
    g->buf[g->len + len] = '\0';
    g->f[g->kept++] = (span){g->len, len};
    g->len += len + 1;
}

static bool put(char *out, size_t *o, size_t lim, char c)
{
    if (*o >= lim)
        return false;
    out[(*o)++] = c;
    return true;
}

/* Appends s[0..n) to out as a CSV field; false when it did not all fit. */
static bool put_field(char *out, size_t *o, size_t lim, const char *s, size_t n)
{
    bool quote = n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t');
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    bool ok = !quote || put(out, o, lim, '"');
    for (size_t i = 0; i < n && ok; i++) {
        if (s[i] == '"')
            ok = put(out, o, lim, '"') && put(out, o, lim, '"');
        else if (s[i] == '\0')
            ok = put(out, o, lim, '\\') && put(out, o, lim, '0');
        else
            ok = put(out, o, lim, s[i]);
    }
    return ok && (!quote || put(out, o, lim, '"'));
}

/* The kept fields of the row, as read, written back as CSV into g->raw. */
static const char *raw_fields(ingest *g)
{
    const size_t lim = RAW_MAX - 4; /* room for "..." and the NUL */
    for (size_t i = 0; i < g->npatch; i++)
        g->buf[g->patch_at[i]] = g->patch_was[i];
    size_t o = 0;
    bool cut = g->cut || g->kept < g->nfields;
    for (size_t i = 0; i < g->kept; i++) {
        if ((i && !put(g->raw, &o, lim, ',')) ||
            !put_field(g->raw, &o, lim, g->buf + g->f[i].off, g->f[i].len)) {
            cut = true;
            o = utf8_floor(g->raw, o);
            break;
        }
    }
    memcpy(g->raw + o, cut ? "..." : "", cut ? 4 : 1);
    for (size_t i = 0; i < g->npatch; i++)
        g->buf[g->patch_at[i]] = '\0';
    return g->raw;
}

/* Adds s[0..n) to the verbatim text of the open row (NUL shown as "\0"). */
static void text_add(ingest *g, const char *s, size_t n)
{
    const size_t lim = RAW_MAX - 4;
    for (size_t i = 0; i < n; i++) {
        if (g->text_len + (s[i] ? 1 : 2) > lim) {
            g->text_cut = true;
            g->text_len = utf8_floor(g->text, g->text_len);
            return;
        }
        if (s[i]) {
            g->text[g->text_len++] = s[i];
        } else {
            g->text[g->text_len++] = '\\';
            g->text[g->text_len++] = '0';
        }
    }
}

static void reject(ingest *g, const char *raw, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reject(ingest *g, const char *raw, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->reason, sizeof g->reason, fmt, ap);
    va_end(ap);
    g->st.rejects++;
    int r = g->sink->reject(g->sink->ctx, g->row_line, raw, g->reason);
    if (r)
        g->rc = r;
}

/* Rejects the malformed row whose text and reason are in g->text, g->why. */
static void reject_malformed(ingest *g)
{
    g->skipping = false;
    while (g->text_len && (g->text[g->text_len - 1] == '\n' || g->text[g->text_len - 1] == '\r'))
        g->text_len--;
    memcpy(g->text + g->text_len, g->text_cut ? "..." : "", g->text_cut ? 4 : 1);
    if (!g->have_header) {
        g->rc = SR_EINVAL;
        set_err(g->err, g->errlen, "line %ld: malformed CSV in the header: %s (%s)", g->row_line,
                g->why, EXPECTED);
        return;
    }
    reject(g, g->text, "malformed CSV: %s", g->why);
}

static void header(ingest *g)
{
    char q[QUOTE_MAX + 4];
    int col[COL_N];
    for (int c = 0; c < COL_N; c++)
        col[c] = -1;
    for (size_t i = 0; i < g->nfields; i++) {
        if (i >= g->kept) { /* cannot happen: see on_field */
            g->rc = SR_EINVAL;
            set_err(g->err, g->errlen, "line %ld: header too long", g->row_line);
            return;
        }
        const char *name = field(g, i, NULL);
        int c = 0;
        while (c < COL_N && strcasecmp(name, col_names[c]) != 0)
            c++;
        if (c == COL_N && !*name) {
            set_err(g->err, g->errlen, "line %ld: column %zu has no name (%s)", g->row_line, i + 1,
                    EXPECTED);
        } else if (c == COL_N) {
            set_err(g->err, g->errlen, "line %ld: unknown column '%s' (%s)", g->row_line,
                    clip(name, q), EXPECTED);
        } else if (col[c] >= 0) {
            set_err(g->err, g->errlen, "line %ld: column '%s' appears twice (%s)", g->row_line,
                    col_names[c], EXPECTED);
        } else {
            col[c] = (int)i;
            continue;
        }
        g->rc = SR_EINVAL;
        return;
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
        set_err(g->err, g->errlen, "line %ld: missing column%s %s (%s)", g->row_line,
                nmissing > 1 ? "s" : "", missing, EXPECTED);
        g->rc = SR_EINVAL;
        return;
    }
    memcpy(g->col, col, sizeof col);
    g->ncols = g->nfields;
    g->have_header = true;
}

static size_t name_hash(const char *s)
{
    size_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
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
        size_t h = name_hash(d->name) & g->index_mask;
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
    for (size_t h = name_hash(name) & g->index_mask; g->index[h]; h = (h + 1) & g->index_mask) {
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

/* A complete data row: one sample or one reject. */
static void data_row(ingest *g)
{
    char q[QUOTE_MAX + 4];
    if (g->nfields != g->ncols) {
        reject(g, raw_fields(g), "wrong number of fields: %zu, expected %zu", g->nfields, g->ncols);
        return;
    }
    char *v[COL_N] = {NULL};
    size_t n[COL_N] = {0};
    for (int c = 0; c < COL_N; c++) {
        if (g->col[c] < 0)
            continue;
        size_t i = (size_t)g->col[c];
        if (memchr(g->buf + g->f[i].off, '\0', g->f[i].len)) {
            reject(g, raw_fields(g), "NUL byte in %s", col_names[c]);
            return;
        }
    }
    for (int c = 0; c < COL_N; c++) {
        if (g->col[c] >= 0)
            v[c] = field(g, (size_t)g->col[c], &n[c]);
    }
    if (!n[COL_METRIC]) {
        reject(g, raw_fields(g), "empty metric");
        return;
    }
    const sr_metric_def *d = find_metric(g, v[COL_METRIC]);
    if (!d) {
        reject(g, raw_fields(g), "unknown metric '%s'", clip(v[COL_METRIC], q));
        return;
    }
    if (d->kind == SR_KIND_RATIO) {
        reject(g, raw_fields(g), "metric '%s' is a ratio, computed from its parts", d->name);
        return;
    }
    const char *e = v[COL_ENTITY];
    if (!n[COL_ENTITY]) {
        reject(g, raw_fields(g), "empty entity");
        return;
    }
    if (e[0] == '/' || e[n[COL_ENTITY] - 1] == '/') {
        reject(g, raw_fields(g), "entity '%s' starts or ends with '/'", clip(e, q));
        return;
    }
    if (empty_segment(e, n[COL_ENTITY])) {
        reject(g, raw_fields(g), "entity '%s' has an empty path segment", clip(e, q));
        return;
    }
    sr_sample s = {.metric = d->name, .entity = e, .key = NULL};
    if (!n[COL_TS]) {
        reject(g, raw_fields(g), "empty ts");
        return;
    }
    if (sr_parse_time(v[COL_TS], g->tz, &s.ts_ms)) {
        reject(g, raw_fields(g), "unparseable ts '%s'", clip(v[COL_TS], q));
        return;
    }
    if (!n[COL_VALUE]) {
        reject(g, raw_fields(g), "empty value");
        return;
    }
    if (sr_parse_double(v[COL_VALUE], &s.value)) {
        reject(g, raw_fields(g), "non-numeric value '%s'", clip(v[COL_VALUE], q));
        return;
    }
    if (v[COL_KEY] && n[COL_KEY])
        s.key = v[COL_KEY];
    g->st.rows++;
    int r = g->sink->row(g->sink->ctx, g->row_line, &s);
    if (r)
        g->rc = r;
}

static void on_row(int c, void *data)
{
    (void)c;
    ingest *g = data;
    g->row_open = false;
    if (!g->rc) {
        if (g->nfields == 1 && g->kept == 1) {
            size_t n;
            field(g, 0, &n);
            if (!n) {
                g->st.blank++;
                row_reset(g);
                return;
            }
        }
        if (g->have_header)
            data_row(g);
        else
            header(g);
    }
    row_reset(g);
}

static void parser_reset(ingest *g)
{
    csv_free(&g->csv);
    csv_init(&g->csv, CSV_OPTIONS);
    csv_set_blk_size(&g->csv, 4096);
    row_reset(g);
    g->row_open = false;
}

/*
 * libcsv stopped at p[k]: reject the open row with its text up to the end
 * of this line (read on in later pieces when the chunk ends first).
 */
static void malformed(ingest *g, const char *p, size_t begin, size_t k, size_t plen, bool term)
{
    if (p[k] == '"')
        snprintf(g->why, sizeof g->why, "stray quote at line %ld, byte %zu", g->line,
                 g->line_pos + k + 1);
    else
        snprintf(g->why, sizeof g->why, "text after a closing quote at line %ld, byte %zu", g->line,
                 g->line_pos + k + 1);
    text_add(g, p + begin, plen - begin);
    parser_reset(g);
    if (term)
        reject_malformed(g);
    else
        g->skipping = true;
}

/*
 * Length of the piece at p: through the first LF, CRLF or lone CR, or all.
 * has_cr: whether the rest of the chunk may hold a CR at all.
 */
static size_t piece(const char *p, size_t n, bool has_cr, bool *term, bool *lf)
{
    const char *nl = memchr(p, '\n', n);
    size_t end = nl ? (size_t)(nl - p) : n;
    const char *cr = has_cr ? memchr(p, '\r', end) : NULL;
    *term = true;
    *lf = false;
    if (cr && (size_t)(cr - p) + 1 < end)
        return (size_t)(cr - p) + 1; /* a lone CR inside the line */
    if (nl) {
        *lf = true;
        return end + 1;
    }
    if (cr)
        return n; /* CR at the end of the chunk */
    *term = false;
    return n;
}

static void feed(ingest *g, const char *s, size_t n)
{
    bool has_cr = memchr(s, '\r', n) != NULL;
    size_t i = 0;
    while (i < n && !g->rc) {
        const char *p = s + i;
        bool term, lf;
        size_t plen = piece(p, n - i, has_cr, &term, &lf);
        if (g->skipping) {
            text_add(g, p, plen);
            if (term)
                reject_malformed(g);
        } else {
            size_t begin = 0;
            if (!g->row_open) {
                while (begin < plen && (p[begin] == ' ' || p[begin] == '\t'))
                    begin++;
                if (begin < plen && p[begin] != '\r' && p[begin] != '\n') {
                    g->row_open = true;
                    g->row_line = g->line;
                    g->text_len = 0;
                    g->text_cut = false;
                }
            }
            if (g->row_open)
                g->line_blank = false;
            size_t k = csv_parse(&g->csv, p, plen, on_field, on_row, g);
            if (g->rc)
                return;
            if (k < plen) {
                if (csv_error(&g->csv) != CSV_EPARSE) {
                    g->rc = SR_ENOMEM;
                    set_err(g->err, g->errlen, "out of memory");
                    return;
                }
                malformed(g, p, begin, k, plen, term);
            } else if (g->row_open) {
                text_add(g, p + begin, plen - begin);
            }
        }
        if (lf) {
            if (g->line_blank)
                g->st.blank++;
            g->line++;
            g->line_pos = 0;
            g->line_blank = !g->row_open;
        } else {
            g->line_pos += plen;
        }
        i += plen;
    }
}

/* End of the stream: the last row when it has no line terminator. */
static void finish(ingest *g)
{
    if (g->line_pos > 0 && g->line_blank)
        g->st.blank++;
    if (g->skipping) {
        reject_malformed(g);
    } else if (g->row_open && csv_fini(&g->csv, on_field, on_row, g) != 0) {
        snprintf(g->why, sizeof g->why, "quoted field not closed at the end of the file");
        parser_reset(g);
        reject_malformed(g);
    }
    if (!g->rc && !g->have_header) {
        g->rc = SR_EINVAL;
        set_err(g->err, g->errlen, "no header: the file is empty (%s)", EXPECTED);
    }
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
    if (!g || !chunk) {
        free(g);
        free(chunk);
        set_err(err, errlen, "out of memory");
        return SR_ENOMEM;
    }
    *g = (ingest){.cat = cat,
                  .tz = tz,
                  .sink = sink,
                  .err = err,
                  .errlen = errlen,
                  .line = 1,
                  .line_blank = true};
    if (index_build(g)) {
        free(g);
        free(chunk);
        set_err(err, errlen, "out of memory");
        return SR_ENOMEM;
    }
    csv_init(&g->csv, CSV_OPTIONS);
    csv_set_blk_size(&g->csv, 4096);

    bool first = true;
    while (!g->rc) {
        size_t n = fread(chunk, 1, CHUNK_SIZE, f);
        if (n == 0) {
            if (ferror(f)) {
                g->rc = SR_EIO;
                set_err(err, errlen, "read error: %s", strerror(errno));
            }
            break;
        }
        size_t skip = 0;
        if (first && n >= 3 && memcmp(chunk, "\xEF\xBB\xBF", 3) == 0)
            skip = 3; /* UTF-8 byte order mark */
        first = false;
        feed(g, chunk + skip, n - skip);
    }
    if (!g->rc)
        finish(g);

    g->st.lines = g->line - 1 + (g->line_pos > 0);
    if (stats)
        *stats = g->st;
    int rc = g->rc;
    csv_free(&g->csv);
    free(g->buf);
    free(g->f);
    free(g->index);
    free(g);
    free(chunk);
    return rc;
}
