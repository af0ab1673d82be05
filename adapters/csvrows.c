/*
 * csvrows.c - a CSV byte stream as mapped rows (see csvrows.h).
 *
 * Bytes are cut into pieces that end after a LF and each piece goes to
 * csv_parse(), so that a row, which can only end at a line terminator,
 * ends at the end of a piece: the reader always knows the line it is on,
 * and a row starts on the line after the one where the previous row ended
 * (blank lines, which libcsv skips, are skipped here too). libcsv keeps an
 * unfinished row (a file still being written, a pipe read in chunks)
 * across feeds, so bytes can be handed over in any slices.
 *
 * libcsv runs in its lenient mode: a quote inside an unquoted field is
 * kept as text, as spreadsheet exports expect. What it cannot limit, a
 * quoted field that never closes and swallows the rest of the file, is
 * bounded by SR_CSVROWS_ROW_MAX: past it the row is rejected and reading
 * resumes at the next line.
 *
 * Fields of the row in progress are copied into one buffer that only
 * grows (libcsv reuses its own), so a row costs no allocation once the
 * buffer fits the longest row.
 */
#include "csvrows.h"

#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPTIONS (CSV_APPEND_NULL)
/* libcsv's parser state (csv.c) while a field is being read. */
#define LIBCSV_FIELD_BEGUN 2
/* Bytes of a row quoted in a reject. */
#define RAW_MAX 4096

struct sr_csvrows {
    const sr_map *m;
    char delim;
    struct csv_parser p;

    /* the stream */
    int bom_seen;   /* bytes of a leading BOM matched so far (3 = done or none) */
    int in_row;     /* a row has begun and not ended */
    uint64_t line;  /* the line being fed, from 1 */
    uint64_t start; /* line where the current row starts */

    /* the current row's fields */
    char *buf;
    size_t len, cap;
    size_t *off;
    size_t nf, offcap;
    int too_long;

    /* the header */
    int have_header;
    size_t n_cols;
    size_t *col;       /* per map field: its column */
    const char **vals; /* per map field: its value in the current row */
    char header_err[512];

    /* a feed in progress */
    int64_t now_ms;
    sr_sink *sink;
    int rc; /* < 0: the sink refused or the header is bad */

    sr_csvrows_stats st;
};

/* libcsv grows its field buffer without limit; this bounds it. */
static void *bounded_realloc(void *p, size_t n)
{
    return n > 2 * (size_t)SR_CSVROWS_ROW_MAX ? NULL : realloc(p, n);
}

static int parser_init(sr_csvrows *r)
{
    if (csv_init(&r->p, OPTIONS) != 0)
        return -1;
    csv_set_delim(&r->p, (unsigned char)r->delim);
    csv_set_realloc_func(&r->p, bounded_realloc);
    csv_set_blk_size(&r->p, 4096);
    return 0;
}

int sr_csvrows_create(const sr_map *m, char delim, sr_csvrows **out, char *err, size_t errlen)
{
    sr_csvrows *r = calloc(1, sizeof *r);
    size_t nf = sr_map_field_count(m);
    if (!r || !(r->col = calloc(nf + 1, sizeof *r->col)) ||
        !(r->vals = calloc(nf + 1, sizeof *r->vals))) {
        if (r) {
            free(r->col);
            free(r);
        }
        sr_map_errf(err, errlen, "out of memory");
        return -1;
    }
    r->m = m;
    r->delim = delim;
    r->line = 1;
    r->start = 1;
    if (parser_init(r)) {
        free(r->col);
        free(r->vals);
        free(r);
        sr_map_errf(err, errlen, "out of memory");
        return -1;
    }
    *out = r;
    return 0;
}

void sr_csvrows_destroy(sr_csvrows *r)
{
    if (!r)
        return;
    csv_free(&r->p);
    free(r->buf);
    free(r->off);
    free(r->col);
    free(r->vals);
    free(r);
}

/* ---- the row in progress ---- */

static void on_field(void *s, size_t n, void *data)
{
    sr_csvrows *r = data;
    r->in_row = 1;
    if (r->too_long || r->rc)
        return;
    if (r->len + n + 1 > SR_CSVROWS_ROW_MAX) {
        r->too_long = 1;
        return;
    }
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 1024;
        while (cap < r->len + n + 1)
            cap *= 2;
        char *b = realloc(r->buf, cap);
        if (!b) {
            r->too_long = 1;
            return;
        }
        r->buf = b;
        r->cap = cap;
    }
    if (r->nf == r->offcap) {
        size_t cap = r->offcap ? 2 * r->offcap : 32;
        size_t *o = realloc(r->off, cap * sizeof *o);
        if (!o) {
            r->too_long = 1;
            return;
        }
        r->off = o;
        r->offcap = cap;
    }
    r->off[r->nf++] = r->len;
    if (n)
        memcpy(r->buf + r->len, s, n);
    r->len += n;
    r->buf[r->len++] = '\0';
}

/* Bytes in field i of the row in progress (a NUL in it included). */
static size_t field_len(const sr_csvrows *r, size_t i)
{
    return (i + 1 < r->nf ? r->off[i + 1] : r->len) - r->off[i] - 1;
}

/* The row as CSV text again, for a reject (cut at len - 1 bytes); a NUL
 * byte reads \0, as in sitrep ingest's rejects. */
static void row_raw(const sr_csvrows *r, char *out, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < r->nf && o + 1 < len; i++) {
        const char *f = r->buf + r->off[i];
        size_t n = field_len(r, i);
        if (i)
            out[o++] = r->delim;
        int q = 0;
        for (size_t k = 0; k < n && !q; k++)
            q = f[k] == r->delim || f[k] == '"' || f[k] == '\r' || f[k] == '\n';
        if (q && o + 1 < len)
            out[o++] = '"';
        for (size_t k = 0; k < n && o + 2 < len; k++) {
            if (f[k] == '"' || f[k] == '\0')
                out[o++] = f[k] ? '"' : '\\';
            out[o++] = f[k] ? f[k] : '0';
        }
        if (q && o + 1 < len)
            out[o++] = '"';
    }
    out[o < len ? o : len - 1] = '\0';
}

static void row_done(sr_csvrows *r)
{
    r->len = 0;
    r->nf = 0;
    r->too_long = 0;
    r->in_row = 0;
    /* a row that follows on the same line (after a CR) starts on it */
    r->start = r->line;
}

static void reject_row(sr_csvrows *r, const char *why)
{
    char where[48], raw[RAW_MAX];
    snprintf(where, sizeof where, "line %llu", (unsigned long long)r->start);
    row_raw(r, raw, sizeof raw);
    r->st.rejected++;
    if (r->sink->reject(r->sink, where, raw, why) < 0)
        r->rc = -1;
}

/* The name of the first mapped field of the row that holds a NUL byte,
 * or NULL. */
static const char *nul_field(const sr_csvrows *r)
{
    for (size_t i = 0; i < sr_map_field_count(r->m); i++)
        if (memchr(r->buf + r->off[r->col[i]], '\0', field_len(r, r->col[i])))
            return sr_map_field_name(r->m, i);
    return NULL;
}

/* A header that names a column the map reads twice: said once per stream,
 * as a reject of the header line (the rows are still read; the sources
 * view and `sitrep rejects` show it). */
static void header_warn(sr_csvrows *r, const char *const *names, size_t n)
{
    char msg[512], raw[RAW_MAX];
    if (!sr_map_header_warning(r->m, names, n, msg, sizeof msg))
        return;
    row_raw(r, raw, sizeof raw);
    r->st.notes++;
    if (r->sink->reject(r->sink, "line 1", raw, msg) < 0)
        r->rc = -1;
}

static void on_row(int c, void *data)
{
    sr_csvrows *r = data;
    (void)c;
    if (r->rc) {
        row_done(r);
        return;
    }
    if (!r->have_header) {
        const char *names[512];
        size_t n = r->nf < 512 ? r->nf : 512;
        for (size_t i = 0; i < n; i++)
            names[i] = r->buf + r->off[i];
        if (r->too_long) {
            sr_map_errf(r->header_err, sizeof r->header_err,
                        "the header line is longer than %u bytes", SR_CSVROWS_ROW_MAX);
            r->rc = SR_CSVROWS_EHEADER;
        } else if (sr_map_bind(r->m, names, n, r->col, r->header_err, sizeof r->header_err)) {
            r->rc = SR_CSVROWS_EHEADER;
        } else {
            r->have_header = 1;
            r->n_cols = r->nf;
            header_warn(r, names, n);
        }
        row_done(r);
        return;
    }
    r->st.rows++;
    char why[160];
    const char *nul;
    if (r->too_long) {
        snprintf(why, sizeof why, "row longer than %u bytes", SR_CSVROWS_ROW_MAX);
        reject_row(r, why);
    } else if (r->nf != r->n_cols) {
        snprintf(why, sizeof why, "row has %zu fields, the header has %zu", r->nf, r->n_cols);
        reject_row(r, why);
    } else if ((nul = nul_field(r)) != NULL) {
        /* a C string would end there: the text after it would be lost */
        snprintf(why, sizeof why, "NUL byte in field %.120s", nul);
        reject_row(r, why);
    } else {
        size_t nmf = sr_map_field_count(r->m);
        for (size_t i = 0; i < nmf; i++)
            r->vals[i] = r->buf + r->off[r->col[i]];
        char where[48], raw[RAW_MAX];
        snprintf(where, sizeof where, "line %llu", (unsigned long long)r->start);
        row_raw(r, raw, sizeof raw);
        int rc = sr_map_row(r->m, r->vals, r->now_ms, where, raw, r->sink);
        if (rc < 0)
            r->rc = -1;
        else if (rc == SR_MAP_EMITTED)
            r->st.emitted++;
        else if (rc == SR_MAP_FILTERED)
            r->st.filtered++;
        else
            r->st.rejected++;
    }
    row_done(r);
}

/* ---- feeding ---- */

static const unsigned char BOM[3] = {0xEF, 0xBB, 0xBF};

/* Parses one piece (ending with its LF, or the end of the input). */
static int parse_piece(sr_csvrows *r, const char *p, size_t n)
{
    if (!r->in_row && r->p.pstate == 0) {
        /* no row begun yet: one that begins in this piece is on this line */
        size_t b = 0;
        while (b < n && p[b] != r->delim && (p[b] == ' ' || p[b] == '\t' || p[b] == '\r'))
            b++;
        if (b < n && p[b] != '\n')
            r->start = r->line;
    }
    size_t k = csv_parse(&r->p, p, n, on_field, on_row, r);
    if (r->rc)
        return r->rc;
    if (k < n) {
        /* only a field past the bound gets here: reject it, resume at the next line */
        r->too_long = 1;
        if (r->have_header) {
            r->st.rows++;
            char why[160];
            snprintf(why, sizeof why, "row longer than %u bytes (a quoted field not closed?)",
                     SR_CSVROWS_ROW_MAX);
            reject_row(r, why);
        } else {
            sr_map_errf(r->header_err, sizeof r->header_err,
                        "the header line is longer than %u bytes", SR_CSVROWS_ROW_MAX);
            r->rc = SR_CSVROWS_EHEADER;
        }
        row_done(r);
        csv_free(&r->p);
        if (parser_init(r))
            r->rc = -1;
    }
    return r->rc;
}

int sr_csvrows_feed(sr_csvrows *r, const char *buf, size_t len, int64_t now_ms, sr_sink *sink,
                    char *err, size_t errlen)
{
    r->now_ms = now_ms;
    r->sink = sink;
    if (r->rc == SR_CSVROWS_EHEADER) {
        sr_map_errf(err, errlen, "%s", r->header_err);
        return r->rc;
    }
    r->rc = 0;
    while (len && r->bom_seen < 3) {
        if ((unsigned char)*buf == BOM[r->bom_seen]) {
            r->bom_seen++;
            buf++;
            len--;
            continue;
        }
        /* not a BOM after all: the bytes matched so far are data */
        int had = r->bom_seen;
        r->bom_seen = 3;
        if (had && parse_piece(r, (const char *)BOM, (size_t)had))
            break;
    }
    while (len && !r->rc) {
        const char *nl = memchr(buf, '\n', len);
        size_t n = nl ? (size_t)(nl - buf) + 1 : len;
        if (parse_piece(r, buf, n))
            break;
        if (nl) {
            r->line++;
            r->st.lines++;
        }
        buf += n;
        len -= n;
    }
    if (r->rc == SR_CSVROWS_EHEADER)
        sr_map_errf(err, errlen, "%s", r->header_err);
    else if (r->rc)
        sr_map_errf(err, errlen, "the sink refused a row (batch full)");
    return r->rc;
}

/* Ends the row in progress (csv_fini) and says how that went. */
static int end_row(sr_csvrows *r, int64_t now_ms, sr_sink *sink, char *err, size_t errlen)
{
    r->now_ms = now_ms;
    r->sink = sink;
    int rc = r->rc;
    if (rc != SR_CSVROWS_EHEADER) {
        r->rc = 0;
        csv_fini(&r->p, on_field, on_row, r);
        rc = r->rc;
    }
    if (rc == SR_CSVROWS_EHEADER)
        sr_map_errf(err, errlen, "%s", r->header_err);
    else if (rc)
        sr_map_errf(err, errlen, "the sink refused a row (batch full)");
    return rc;
}

int sr_csvrows_finish(sr_csvrows *r, int64_t now_ms, sr_sink *sink, char *err, size_t errlen)
{
    int rc = end_row(r, now_ms, sink, err, errlen);
    sr_csvrows_reset(r);
    return rc;
}

int sr_csvrows_flush(sr_csvrows *r, int64_t now_ms, sr_sink *sink, char *err, size_t errlen)
{
    if (r->rc != SR_CSVROWS_EHEADER &&
        ((r->p.pstate == LIBCSV_FIELD_BEGUN && r->p.quoted) || (r->bom_seen && r->bom_seen < 3)))
        return 0;
    return end_row(r, now_ms, sink, err, errlen);
}

void sr_csvrows_reset(sr_csvrows *r)
{
    csv_free(&r->p);
    parser_init(r);
    row_done(r);
    r->bom_seen = 0;
    r->have_header = 0;
    r->n_cols = 0;
    r->line = 1;
    r->start = 1;
    r->rc = 0;
    r->header_err[0] = '\0';
}

int sr_csvrows_pending(const sr_csvrows *r)
{
    return r->in_row || r->p.pstate != 0 || r->p.entry_pos > 0 ||
           (r->bom_seen > 0 && r->bom_seen < 3);
}

int sr_csvrows_has_header(const sr_csvrows *r)
{
    return r->have_header;
}

void sr_csvrows_stats_get(const sr_csvrows *r, sr_csvrows_stats *out)
{
    *out = r->st;
}
