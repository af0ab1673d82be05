/*
 * csvin.c - CSV input, the one front end over libcsv (see csvin.h).
 *
 * Data flow. Bytes, in whatever slices they come, are cut into pieces that
 * end at a line terminator (LF, CRLF, or a lone CR, which libcsv also takes
 * as the end of a row) and each piece is handed to csv_parse(). libcsv
 * calls on_field() for every field and on_row() at the end of every row.
 * Since a row can only end at a terminator, at most one row ends per
 * piece, at its very end; this is how rows get the physical line they
 * start on although libcsv counts no lines: a row starts on the line of
 * the first piece holding anything but blanks while no row is open. A
 * quoted field with line ends keeps its row open over several pieces.
 *
 * Only libcsv's public API is used: its parser state is never read. What
 * the reader must know of it, whether a row is open, it tracks itself from
 * the bytes (libcsv begins a row at the first byte that is not a space or
 * tab, and ends it in on_row); whether a waiting row is inside a quoted
 * field (sr_csvin_flush) it asks a scratch parser given the row's text,
 * whose csv_fini() with CSV_STRICT_FINI fails exactly then.
 *
 * Strict mode. libcsv runs with CSV_STRICT | CSV_STRICT_FINI: a quote in an
 * unquoted field, text after a closing quote, or a quoted field still open
 * at the end of the stream is an error at a known byte, rather than being
 * taken literally and surfacing later as an odd value (or, for a stray
 * opening quote, as one field that quietly swallows many lines). Such a
 * row is rejected with the verbatim text of its lines (it has no fields to
 * write back), the parser is reset, and parsing resumes after the line
 * where the error was found. A row that grows past SR_CSVIN_ROW_MAX is
 * treated the same way, which also bounds libcsv's buffer.
 *
 * Memory. The text of a row that stays open past a piece is copied into
 * `text` (up to the bound); rows that end in the piece where they start,
 * nearly all of them, cost no copy. Fields of the row in progress are
 * copied (libcsv reuses its buffer) into one buffer that is emptied for
 * each row and only grows: no allocation per row once it fits the longest.
 */
#include "csvin.h"

#include <csv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPTIONS (CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL)
#define NAME_MAX_SHOWN 120 /* bytes of a header name in a reason */

struct sr_csvin {
    char delim;
    struct csv_parser p;
    const sr_csvin_sink *sink; /* of the call in progress */
    int rc;                    /* a sink's stop or -1; once set, callbacks do nothing */

    /* the stream: all zero but line and line_blank when it starts */
    struct {
        int bom_seen;      /* bytes of a leading BOM matched so far (3 = done or none) */
        uint64_t line;     /* physical line of the next byte read, from 1 */
        size_t line_pos;   /* bytes of that line already read */
        int line_blank;    /* nothing but blanks on the line so far, no row open */
        int row_open;      /* libcsv is inside a row */
        uint64_t row_line; /* line where the open row started */
        int have_header;
        size_t ncols;
        size_t hcount;   /* header fields kept in hbuf */
        size_t text_len; /* bytes in text */
        int text_cut;    /* bytes past the bound were not kept */
        int skipping;    /* after a malformed row: its text up to the end of its line */
        int discard;     /* after a row past the bound: bytes up to the end of its line */
    } s;
    char *hbuf; /* the header's fields, for reasons */
    size_t *hoff, hcap, hoffcap;

    /* the fields of the row in progress */
    char *buf;
    size_t len, cap;
    size_t *off, *flen;
    char **fp;
    size_t nf, offcap, flencap, fpcap;

    /* the text of a row open past a piece, or of a malformed one */
    char *text;
    size_t text_cap;
    char why[200];

    char raw[SR_CSVIN_RAW_MAX];
    sr_csvin_stats st;
};

static int parser_init(sr_csvin *r)
{
    if (csv_init(&r->p, OPTIONS) != 0)
        return -1;
    csv_set_delim(&r->p, (unsigned char)r->delim);
    csv_set_blk_size(&r->p, 4096);
    return 0;
}

int sr_csvin_create(char delim, sr_csvin **out)
{
    sr_csvin *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    r->delim = delim;
    if (parser_init(r)) {
        free(r);
        return -1;
    }
    sr_csvin_reset(r);
    *out = r;
    return 0;
}

void sr_csvin_destroy(sr_csvin *r)
{
    if (!r)
        return;
    csv_free(&r->p);
    free(r->hbuf);
    free(r->hoff);
    free(r->buf);
    free(r->off);
    free(r->flen);
    free(r->fp);
    free(r->text);
    free(r);
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
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

static int is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* A byte libcsv skips before a row or field begins (csv.3: spaces and tabs). */
static int is_space(const sr_csvin *r, char c)
{
    return (c == ' ' || c == '\t') && c != r->delim;
}

size_t sr_csvin_utf8_floor(const char *s, size_t n)
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

/* ---- the row in progress ---- */

static void row_clear(sr_csvin *r)
{
    r->len = 0;
    r->nf = 0;
}

static void on_field(void *s, size_t n, void *data)
{
    sr_csvin *r = data;
    if (r->rc)
        return;
    if (grow((void **)&r->buf, &r->cap, r->len + n + 1, 1) ||
        grow((void **)&r->off, &r->offcap, r->nf + 1, sizeof *r->off) ||
        grow((void **)&r->flen, &r->flencap, r->nf + 1, sizeof *r->flen)) {
        r->rc = -1;
        return;
    }
    r->off[r->nf] = r->len;
    r->flen[r->nf++] = n;
    if (n)
        memcpy(r->buf + r->len, s, n);
    r->len += n;
    r->buf[r->len++] = '\0';
}

static int put(char *out, size_t *o, size_t lim, char c)
{
    if (*o >= lim)
        return 0;
    out[(*o)++] = c;
    return 1;
}

/* Appends s[0..n) to out as a CSV field; 0 when it did not all fit. */
static int put_field(const sr_csvin *r, char *out, size_t *o, size_t lim, const char *s, size_t n)
{
    int quote = n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t');
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == r->delim || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    int ok = !quote || put(out, o, lim, '"');
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

const char *sr_csvin_raw(sr_csvin *r)
{
    const size_t lim = SR_CSVIN_RAW_MAX - 4; /* room for "..." and the NUL */
    size_t o = 0;
    int cut = 0;
    for (size_t i = 0; i < r->nf; i++) {
        if ((i && !put(r->raw, &o, lim, r->delim)) ||
            !put_field(r, r->raw, &o, lim, r->buf + r->off[i], r->flen[i])) {
            cut = 1;
            o = sr_csvin_utf8_floor(r->raw, o);
            break;
        }
    }
    memcpy(r->raw + o, cut ? "..." : "", cut ? 4 : 1);
    return r->raw;
}

static void reject(sr_csvin *r, const char *raw, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reject(sr_csvin *r, const char *raw, const char *fmt, ...)
{
    char why[sizeof r->why + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    r->st.rejected++;
    r->rc = r->sink->reject(r->sink->ctx, r->s.row_line, raw, why, !r->s.have_header);
}

/* Keeps the header's fields, to name a field in a reason. */
static int header_keep(sr_csvin *r)
{
    if (grow((void **)&r->hbuf, &r->hcap, r->len + 1, 1) ||
        grow((void **)&r->hoff, &r->hoffcap, r->nf + 1, sizeof *r->hoff))
        return -1;
    memcpy(r->hbuf, r->buf, r->len);
    memcpy(r->hoff, r->off, r->nf * sizeof *r->off);
    r->s.hcount = r->nf;
    return 0;
}

static void on_row(int c, void *data)
{
    sr_csvin *r = data;
    (void)c;
    r->s.row_open = 0;
    r->s.text_len = 0;
    if (r->rc) {
        row_clear(r);
        return;
    }
    if (r->nf == 1 && (!r->s.have_header || r->s.ncols != 1)) {
        size_t k = 0;
        while (k < r->flen[0] && is_blank((unsigned char)r->buf[k]))
            k++;
        if (k == r->flen[0]) { /* `""`, or blanks quoted: a blank line */
            r->st.blank++;
            row_clear(r);
            return;
        }
    }
    if (grow((void **)&r->fp, &r->fpcap, r->nf + 1, sizeof *r->fp)) {
        r->rc = -1;
        row_clear(r);
        return;
    }
    for (size_t i = 0; i < r->nf; i++)
        r->fp[i] = r->buf + r->off[i];
    sr_csvin_row row = {.line = r->s.row_line, .n = r->nf, .f = r->fp, .len = r->flen};
    if (!r->s.have_header) {
        if (header_keep(r)) {
            r->rc = -1;
        } else {
            r->s.have_header = 1;
            r->s.ncols = r->nf;
            r->rc = r->sink->header(r->sink->ctx, &row);
        }
    } else if (r->nf != r->s.ncols) {
        reject(r, sr_csvin_raw(r), "row has %zu fields, the header has %zu", r->nf, r->s.ncols);
    } else {
        size_t i = 0;
        while (i < r->nf && !memchr(r->fp[i], '\0', r->flen[i]))
            i++;
        if (i < r->nf) /* a C string would end there: the text after it would be lost */
            reject(r, sr_csvin_raw(r), "NUL byte in field %.*s", NAME_MAX_SHOWN,
                   i < r->s.hcount ? r->hbuf + r->hoff[i] : "?");
        else
            r->rc = r->sink->row(r->sink->ctx, &row);
    }
    row_clear(r);
}

/* ---- malformed rows ---- */

/* Adds s[0..n) to the text of the open row (bytes past the bound dropped). */
static void text_add(sr_csvin *r, const char *s, size_t n)
{
    if (r->s.text_len + n > SR_CSVIN_ROW_MAX) {
        r->s.text_cut = 1;
        n = SR_CSVIN_ROW_MAX - r->s.text_len;
    }
    if (!n)
        return;
    if (grow((void **)&r->text, &r->text_cap, r->s.text_len + n, 1)) {
        r->s.text_cut = 1;
        return;
    }
    memcpy(r->text + r->s.text_len, s, n);
    r->s.text_len += n;
}

static void parser_reset(sr_csvin *r)
{
    csv_free(&r->p);
    if (parser_init(r))
        r->rc = -1;
    row_clear(r);
    r->s.row_open = 0;
}

/* Rejects the malformed row whose text and reason are in r->text, r->why. */
static void reject_malformed(sr_csvin *r)
{
    const size_t lim = SR_CSVIN_RAW_MAX - 4;
    size_t n = r->s.text_len, o = 0;
    int cut = r->s.text_cut;
    while (n && (r->text[n - 1] == '\n' || r->text[n - 1] == '\r'))
        n--;
    for (size_t i = 0; i < n; i++) {
        if (o + (r->text[i] ? 1 : 2) > lim) {
            cut = 1;
            o = sr_csvin_utf8_floor(r->raw, o);
            break;
        }
        if (r->text[i]) {
            r->raw[o++] = r->text[i];
        } else {
            r->raw[o++] = '\\';
            r->raw[o++] = '0';
        }
    }
    memcpy(r->raw + o, cut ? "..." : "", cut ? 4 : 1);
    r->s.skipping = 0;
    r->s.text_len = 0;
    r->s.text_cut = 0;
    reject(r, r->raw, "%s", r->why);
}

/* The open row cannot be read (r->why says why): reject it with its text
 * up to the end of this line (read on in later pieces when the piece does
 * not end the line). */
static void malformed(sr_csvin *r, const char *p, size_t n, int term)
{
    text_add(r, p, n);
    parser_reset(r);
    if (term)
        reject_malformed(r);
    else
        r->s.skipping = 1;
}

/* ---- reading ---- */

/*
 * Length of the piece at p: through the first LF, CRLF or lone CR, or all.
 * has_cr: whether the rest of the slice may hold a CR at all.
 */
static size_t piece(const char *p, size_t n, int has_cr, int *term, int *lf)
{
    const char *nl = memchr(p, '\n', n);
    size_t end = nl ? (size_t)(nl - p) : n;
    const char *cr = has_cr ? memchr(p, '\r', end) : NULL;
    *term = 1;
    *lf = 0;
    if (cr && (size_t)(cr - p) + 1 < end)
        return (size_t)(cr - p) + 1; /* a lone CR inside the line */
    if (nl) {
        *lf = 1;
        return end + 1;
    }
    if (cr)
        return n; /* CR at the end of the slice */
    *term = 0;
    return n;
}

/* Parses one piece of plen bytes at p, ending with a terminator when term. */
static void parse_piece(sr_csvin *r, const char *p, size_t plen, int term)
{
    size_t begin = 0;
    if (!r->s.row_open) {
        while (begin < plen && is_space(r, p[begin]))
            begin++;
        if (begin < plen && p[begin] != '\r' && p[begin] != '\n') {
            r->s.row_open = 1;
            r->s.row_line = r->s.line;
            r->s.text_len = 0;
            r->s.text_cut = 0;
        }
    }
    if (!r->s.row_open)
        return; /* blanks and a line end, which libcsv would skip */
    r->s.line_blank = 0;
    if (r->s.text_len + (plen - begin) > SR_CSVIN_ROW_MAX) {
        /* rejected at once (its text so far is more than a reject shows);
         * the rest of its line is passed over */
        snprintf(r->why, sizeof r->why, "row longer than %u bytes", SR_CSVIN_ROW_MAX);
        malformed(r, p + begin, plen - begin, 1);
        r->s.discard = !term;
        return;
    }
    size_t k = csv_parse(&r->p, p, plen, on_field, on_row, r);
    if (r->rc)
        return;
    if (k < plen) {
        if (csv_error(&r->p) != CSV_EPARSE) {
            r->rc = -1;
            return;
        }
        snprintf(r->why, sizeof r->why, "malformed CSV: %s at line %llu, byte %zu",
                 p[k] == '"' ? "stray quote" : "text after a closing quote",
                 (unsigned long long)r->s.line, r->s.line_pos + k + 1);
        malformed(r, p + begin, plen - begin, term);
    } else if (r->s.row_open) {
        text_add(r, p + begin, plen - begin);
    }
}

static void read_bytes(sr_csvin *r, const char *s, size_t n)
{
    int has_cr = memchr(s, '\r', n) != NULL;
    size_t i = 0;
    while (i < n && !r->rc) {
        const char *p = s + i;
        int term, lf;
        size_t plen = piece(p, n - i, has_cr, &term, &lf);
        if (r->s.discard) {
            r->s.discard = !term;
        } else if (r->s.skipping) {
            text_add(r, p, plen);
            if (term)
                reject_malformed(r);
        } else {
            parse_piece(r, p, plen, term);
        }
        if (lf) {
            if (r->s.line_blank)
                r->st.blank++;
            r->s.line++;
            r->st.lines++;
            r->s.line_pos = 0;
            r->s.line_blank = !r->s.row_open;
        } else {
            r->s.line_pos += plen;
        }
        i += plen;
    }
}

static const unsigned char BOM[3] = {0xEF, 0xBB, 0xBF};

int sr_csvin_feed(sr_csvin *r, const void *buf, size_t len, const sr_csvin_sink *sink)
{
    const char *s = buf;
    r->sink = sink;
    r->rc = 0;
    while (len && r->s.bom_seen < 3) {
        if ((unsigned char)*s == BOM[r->s.bom_seen]) {
            r->s.bom_seen++;
            s++;
            len--;
            continue;
        }
        /* not a BOM after all: the bytes matched so far are data */
        int had = r->s.bom_seen;
        r->s.bom_seen = 3;
        read_bytes(r, (const char *)BOM, (size_t)had);
    }
    if (!r->rc)
        read_bytes(r, s, len);
    return r->rc;
}

/* Ends the row waiting without a line end (csv_fini); 0 or a stop. */
static int end_row(sr_csvin *r, const sr_csvin_sink *sink, const char *open_why)
{
    r->sink = sink;
    r->rc = 0;
    if (r->s.bom_seen > 0 && r->s.bom_seen < 3) {
        int had = r->s.bom_seen;
        r->s.bom_seen = 3;
        read_bytes(r, (const char *)BOM, (size_t)had);
    }
    if (r->rc)
        return r->rc;
    if (r->s.skipping) {
        reject_malformed(r);
    } else if (r->s.row_open && csv_fini(&r->p, on_field, on_row, r) != 0) {
        snprintf(r->why, sizeof r->why, "%s", open_why);
        parser_reset(r);
        reject_malformed(r);
    }
    return r->rc;
}

int sr_csvin_finish(sr_csvin *r, const sr_csvin_sink *sink)
{
    int rc = end_row(r, sink, "malformed CSV: quoted field not closed at the end of the file");
    if (r->s.line_pos > 0) {
        if (r->s.line_blank)
            r->st.blank++;
        r->st.lines++;
    }
    sr_csvin_reset(r);
    return rc;
}

/* Whether the open row ends inside a quoted field: a scratch parser given
 * its text says so through csv_fini() (CSV_STRICT_FINI). */
static int quote_open(const sr_csvin *r)
{
    struct csv_parser q;
    if (r->s.text_cut || csv_init(&q, OPTIONS) != 0)
        return 1;
    csv_set_delim(&q, (unsigned char)r->delim);
    csv_set_blk_size(&q, 4096);
    int open = csv_parse(&q, r->text, r->s.text_len, NULL, NULL, NULL) != r->s.text_len ||
               csv_fini(&q, NULL, NULL, NULL) != 0;
    csv_free(&q);
    return open;
}

int sr_csvin_flush(sr_csvin *r, const sr_csvin_sink *sink)
{
    if ((r->s.bom_seen > 0 && r->s.bom_seen < 3) ||
        (!r->s.skipping && (!r->s.row_open || quote_open(r))))
        return 0;
    return end_row(r, sink, "");
}

void sr_csvin_reset(sr_csvin *r)
{
    csv_free(&r->p);
    if (parser_init(r))
        r->rc = -1;
    row_clear(r);
    memset(&r->s, 0, sizeof r->s);
    r->s.line = 1;
    r->s.line_blank = 1;
}

int sr_csvin_pending(const sr_csvin *r)
{
    return r->s.row_open || r->s.skipping || (r->s.bom_seen > 0 && r->s.bom_seen < 3);
}

int sr_csvin_has_header(const sr_csvin *r)
{
    return r->s.have_header;
}

uint64_t sr_csvin_line(const sr_csvin *r)
{
    return r->s.line;
}

void sr_csvin_stats_get(const sr_csvin *r, sr_csvin_stats *out)
{
    *out = r->st;
    out->lines += r->s.line_pos > 0;
}
