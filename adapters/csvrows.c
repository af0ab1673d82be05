/*
 * csvrows.c - a CSV byte stream as mapped rows (see csvrows.h).
 *
 * csvin cuts the bytes into rows; this binds its header to the map and
 * hands each data row to sr_map_row() with its line and raw text, and
 * each row csvin rejects to the sink. A header the map cannot use is kept
 * as the reader's state: every feed says so until sr_csvrows_reset().
 */
#include "csvrows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EREFUSED (-2) /* the sink refused a row */

struct sr_csvrows {
    const sr_map *m;
    sr_csvin *in;
    sr_csvin_sink in_sink;

    size_t *col;       /* per map field: its column */
    const char **vals; /* per map field: its value in the current row */
    int have_header;
    int header_bad; /* SR_CSVROWS_EHEADER until a reset */
    char header_err[512];

    /* a feed in progress */
    int64_t now_ms;
    sr_sink *sink;

    sr_csvrows_stats st;
};

static void where_line(char *out, size_t len, uint64_t line)
{
    snprintf(out, len, "line %llu", (unsigned long long)line);
}

/* A header that names a column the map reads twice: said once per stream,
 * as a reject of the header line (the rows are still read; the sources
 * view and `sitrep rejects` show it). */
static int header_warn(sr_csvrows *r, const sr_csvin_row *row, const char *const *names, size_t n)
{
    char msg[512], where[48];
    if (!sr_map_header_warning(r->m, names, n, msg, sizeof msg))
        return 0;
    where_line(where, sizeof where, row->line);
    r->st.notes++;
    return r->sink->reject(r->sink, where, sr_csvin_raw(r->in), msg) < 0 ? EREFUSED : 0;
}

static int on_header(void *ctx, const sr_csvin_row *row)
{
    sr_csvrows *r = ctx;
    const char *names[512];
    size_t n = row->n < 512 ? row->n : 512;
    for (size_t i = 0; i < n; i++)
        names[i] = row->f[i];
    if (sr_map_bind(r->m, names, n, r->col, r->header_err, sizeof r->header_err))
        return SR_CSVROWS_EHEADER;
    r->have_header = 1;
    return header_warn(r, row, names, n);
}

static int on_row(void *ctx, const sr_csvin_row *row)
{
    sr_csvrows *r = ctx;
    char where[48];
    r->st.rows++;
    size_t nmf = sr_map_field_count(r->m);
    for (size_t i = 0; i < nmf; i++)
        r->vals[i] = row->f[r->col[i]];
    where_line(where, sizeof where, row->line);
    int rc = sr_map_row(r->m, r->vals, r->now_ms, where, sr_csvin_raw(r->in), r->sink);
    if (rc < 0)
        return EREFUSED;
    if (rc == SR_MAP_EMITTED)
        r->st.emitted++;
    else if (rc == SR_MAP_FILTERED)
        r->st.filtered++;
    else
        r->st.rejected++;
    return 0;
}

static int on_reject(void *ctx, uint64_t line, const char *raw, const char *why, int header)
{
    sr_csvrows *r = ctx;
    char where[48];
    if (header) {
        sr_map_errf(r->header_err, sizeof r->header_err, "the header (line %llu): %s",
                    (unsigned long long)line, why);
        return SR_CSVROWS_EHEADER;
    }
    where_line(where, sizeof where, line);
    r->st.rows++;
    r->st.rejected++;
    return r->sink->reject(r->sink, where, raw, why) < 0 ? EREFUSED : 0;
}

int sr_csvrows_create(const sr_map *m, char delim, sr_csvrows **out, char *err, size_t errlen)
{
    sr_csvrows *r = calloc(1, sizeof *r);
    size_t nf = sr_map_field_count(m);
    if (!r || !(r->col = calloc(nf + 1, sizeof *r->col)) ||
        !(r->vals = calloc(nf + 1, sizeof *r->vals)) || sr_csvin_create(delim, &r->in)) {
        if (r) {
            free(r->col);
            free(r->vals);
            free(r);
        }
        sr_map_errf(err, errlen, "out of memory");
        return -1;
    }
    r->m = m;
    r->in_sink = (sr_csvin_sink){.ctx = r, .header = on_header, .row = on_row, .reject = on_reject};
    *out = r;
    return 0;
}

void sr_csvrows_destroy(sr_csvrows *r)
{
    if (!r)
        return;
    sr_csvin_destroy(r->in);
    free(r->col);
    free(r->vals);
    free(r);
}

/* What a csvin call returned, as this reader's return and message. */
static int result(sr_csvrows *r, int rc, char *err, size_t errlen)
{
    if (rc == SR_CSVROWS_EHEADER)
        r->header_bad = rc;
    if (r->header_bad) {
        sr_map_errf(err, errlen, "%s", r->header_err);
        return r->header_bad;
    }
    if (rc == EREFUSED) {
        sr_map_errf(err, errlen, "the sink refused a row (batch full)");
        return -1;
    }
    if (rc) {
        sr_map_errf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int sr_csvrows_feed(sr_csvrows *r, const char *buf, size_t len, int64_t now_ms, sr_sink *sink,
                    char *err, size_t errlen)
{
    if (r->header_bad)
        return result(r, 0, err, errlen);
    r->now_ms = now_ms;
    r->sink = sink;
    return result(r, sr_csvin_feed(r->in, buf, len, &r->in_sink), err, errlen);
}

int sr_csvrows_finish(sr_csvrows *r, int64_t now_ms, sr_sink *sink, char *err, size_t errlen)
{
    int rc;
    if (r->header_bad) {
        rc = result(r, 0, err, errlen);
    } else {
        r->now_ms = now_ms;
        r->sink = sink;
        rc = result(r, sr_csvin_finish(r->in, &r->in_sink), err, errlen);
    }
    sr_csvrows_reset(r);
    return rc;
}

int sr_csvrows_flush(sr_csvrows *r, int64_t now_ms, sr_sink *sink, char *err, size_t errlen)
{
    if (r->header_bad)
        return result(r, 0, err, errlen);
    r->now_ms = now_ms;
    r->sink = sink;
    return result(r, sr_csvin_flush(r->in, &r->in_sink), err, errlen);
}

void sr_csvrows_reset(sr_csvrows *r)
{
    sr_csvin_reset(r->in);
    r->have_header = 0;
    r->header_bad = 0;
    r->header_err[0] = '\0';
}

int sr_csvrows_pending(const sr_csvrows *r)
{
    return sr_csvin_pending(r->in);
}

int sr_csvrows_has_header(const sr_csvrows *r)
{
    return r->have_header;
}

void sr_csvrows_stats_get(const sr_csvrows *r, sr_csvrows_stats *out)
{
    sr_csvin_stats in;
    sr_csvin_stats_get(r->in, &in);
    *out = r->st;
    out->blank = in.blank;
    out->lines = in.lines;
}
