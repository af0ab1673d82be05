/*
 * test_ingest.c - the ingest CSV parser: good rows, every reject reason with
 * its line and raw text, header errors, strict quoting, chunk boundaries,
 * and the real Seattle fixture; and the pipelined parse (app/ingest_pipe.c):
 * the same calls, in order, on the caller's thread.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../app/ingest.h"

/* ---- a recording sink ---- */

typedef struct {
    long line;
    char *metric, *entity, *key;
    sr_ms ts;
    double value;
} rec_row;

typedef struct {
    long line;
    char *raw, *reason;
} rec_rej;

typedef struct {
    rec_row *rows;
    size_t nrows, caprows;
    rec_rej *rej;
    size_t nrej, caprej;
    long calls;      /* rows and rejects, in order */
    long stop_after; /* return -42 from the call after this many; 0 = never */
    long last_line;
    bool on_thread; /* every call must come on `thread` */
    pthread_t thread;
} rec;

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int on_row(void *ctx, long line, const sr_sample *s)
{
    rec *r = ctx;
    cr_assert_geq(line, r->last_line, "lines go forward");
    cr_assert(!r->on_thread || pthread_equal(pthread_self(), r->thread), "on the caller's thread");
    r->last_line = line;
    if (r->nrows == r->caprows) {
        r->caprows = r->caprows ? 2 * r->caprows : 16;
        r->rows = realloc(r->rows, r->caprows * sizeof *r->rows);
    }
    r->rows[r->nrows++] = (rec_row){
        line, strdup(s->metric), strdup(s->entity), dup_or_null(s->key), s->ts_ms, s->value};
    return r->stop_after && ++r->calls >= r->stop_after ? -42 : 0;
}

static int on_reject(void *ctx, long line, const char *raw, const char *reason)
{
    rec *r = ctx;
    cr_assert_geq(line, r->last_line, "lines go forward");
    cr_assert(!r->on_thread || pthread_equal(pthread_self(), r->thread), "on the caller's thread");
    r->last_line = line;
    if (r->nrej == r->caprej) {
        r->caprej = r->caprej ? 2 * r->caprej : 16;
        r->rej = realloc(r->rej, r->caprej * sizeof *r->rej);
    }
    r->rej[r->nrej++] = (rec_rej){line, strdup(raw), strdup(reason)};
    return r->stop_after && ++r->calls >= r->stop_after ? -42 : 0;
}

static void rec_free(rec *r)
{
    for (size_t i = 0; i < r->nrows; i++) {
        free(r->rows[i].metric);
        free(r->rows[i].entity);
        free(r->rows[i].key);
    }
    for (size_t i = 0; i < r->nrej; i++) {
        free(r->rej[i].raw);
        free(r->rej[i].reason);
    }
    free(r->rows);
    free(r->rej);
}

/* ---- a catalog built by hand ---- */

static sr_metric_def defs[4];
static sr_catalog cat = {defs, 4};

static void catalog_setup(void)
{
    sr_metric_def_init(&defs[0], "response_p1");
    sr_metric_def_init(&defs[1], "response_p2");
    sr_metric_def_init(&defs[2], "open_cases");
    defs[2].kind = SR_KIND_GAUGE;
    sr_metric_def_init(&defs[3], "in_service");
    defs[3].kind = SR_KIND_RATIO;
    snprintf(defs[3].numerator, sizeof defs[3].numerator, "vehicles_up");
    snprintf(defs[3].denominator, sizeof defs[3].denominator, "fleet");
}

TestSuite(ingest, .init = catalog_setup);

static int run_n(const char *csv, size_t len, const char *tz, rec *r, sr_ingest_stats *st,
                 char *err, size_t errlen)
{
    FILE *f = fmemopen((void *)csv, len, "r");
    cr_assert_not_null(f);
    sr_ingest_sink sink = {.ctx = r, .row = on_row, .reject = on_reject};
    int rc = sr_ingest_csv(f, &cat, tz, &sink, st, err, errlen);
    fclose(f);
    return rc;
}

static int run(const char *csv, const char *tz, rec *r, sr_ingest_stats *st, char *err)
{
    return run_n(csv, strlen(csv), tz, r, st, err, 512);
}

static void assert_reject(const rec *r, size_t i, long line, const char *raw, const char *reason)
{
    cr_assert_lt(i, r->nrej, "reject %zu exists (have %zu)", i, r->nrej);
    cr_expect_eq(r->rej[i].line, line, "reject %zu: line %ld, expected %ld", i, r->rej[i].line,
                 line);
    cr_expect_str_eq(r->rej[i].raw, raw, "reject %zu raw", i);
    cr_expect_str_eq(r->rej[i].reason, reason, "reject %zu reason", i);
}

static char *fixture_path(const char *name)
{
    const char *dir = getenv("SITREP_FIXTURES");
    char *p = NULL;
    cr_assert_geq(asprintf(&p, "%s/%s", dir && *dir ? dir : "tests/fixtures", name), 0);
    return p;
}

/* ---- good rows ---- */

Test(ingest, good_rows_values_and_time_forms)
{
    rec r = {0};
    sr_ingest_stats st;
    char err[512];
    const char *csv = "metric,entity,ts,value\n"
                      "response_p1,force/north,2015-03-01T10:00:00-08:00,61.5\n"
                      "response_p1,force/north,2015-03-01T18:00:00Z,-2\n"
                      "response_p2,force/south/unit-3,2015-03-01,1e3\n"
                      "response_p2,force/south/unit-3,2015-07-01,0\n"
                      "open_cases,force,1425232800.25,  4812 \n"
                      "open_cases,force,2015-03-01T10:00:00.5+05:30,7\n";
    cr_assert_eq(run(csv, "America/Los_Angeles", &r, &st, err), 0, "%s", err);
    cr_assert_eq(r.nrows, 6);
    cr_assert_eq(r.nrej, 0);
    cr_expect_eq(st.rows, 6);
    cr_expect_eq(st.rejects, 0);
    cr_expect_eq(st.lines, 7);

    cr_expect_str_eq(r.rows[0].metric, "response_p1");
    cr_expect_str_eq(r.rows[0].entity, "force/north");
    cr_expect_eq(r.rows[0].line, 2);
    cr_expect_eq(r.rows[0].ts, 1425232800000LL, "offset -08:00");
    cr_expect_eq(r.rows[0].value, 61.5);
    cr_expect_null(r.rows[0].key, "no key column");

    cr_expect_eq(r.rows[1].ts, 1425232800000LL, "Z");
    cr_expect_eq(r.rows[1].value, -2.0);
    /* a date alone is midnight in the given zone: PST in March, PDT in July */
    cr_expect_eq(r.rows[2].ts, 1425196800000LL, "2015-03-01 in Los Angeles");
    cr_expect_eq(r.rows[2].value, 1000.0);
    cr_expect_eq(r.rows[3].ts, 1435734000000LL, "2015-07-01 in Los Angeles");
    cr_expect_eq(r.rows[4].ts, 1425232800250LL, "epoch seconds with decimals");
    cr_expect_eq(r.rows[4].value, 4812.0);
    cr_expect_eq(r.rows[5].ts, 1425184200500LL, "+05:30 and fractional seconds");
    cr_expect_eq(r.rows[5].line, 7);
    rec_free(&r);
}

Test(ingest, date_alone_without_zone_is_utc)
{
    rec r = {0};
    char err[512];
    cr_assert_eq(run("metric,entity,ts,value\nresponse_p1,a,2015-03-01,1\n", NULL, &r, NULL, err),
                 0);
    cr_assert_eq(r.nrows, 1);
    cr_expect_eq(r.rows[0].ts, 1425168000000LL);
    rec_free(&r);
}

Test(ingest, key_present_absent_empty)
{
    rec r = {0};
    char err[512];
    const char *csv = "metric,entity,ts,value,key\n"
                      "response_p1,a,0,1,2015000001\n"
                      "response_p1,a,0,2,\n"
                      "response_p1,a,0,3,  \n"
                      "response_p1,a,0,4,\" k 4 \"\n";
    cr_assert_eq(run(csv, NULL, &r, NULL, err), 0, "%s", err);
    cr_assert_eq(r.nrows, 4);
    cr_expect_str_eq(r.rows[0].key, "2015000001");
    cr_expect_null(r.rows[1].key, "empty key is NULL");
    cr_expect_null(r.rows[2].key, "blank key is NULL");
    cr_expect_str_eq(r.rows[3].key, "k 4", "key trimmed");
    rec_free(&r);
}

Test(ingest, names_trimmed_inside_quotes)
{
    rec r = {0};
    char err[512];
    const char *csv = "metric,entity,ts,value\n"
                      "\" response_p1\t\",\"  force/north \",\" 2015-03-01T18:00:00Z \",\" 5 \"\n";
    cr_assert_eq(run(csv, NULL, &r, NULL, err), 0, "%s", err);
    cr_assert_eq(r.nrows, 1);
    cr_expect_str_eq(r.rows[0].metric, "response_p1");
    cr_expect_str_eq(r.rows[0].entity, "force/north");
    cr_expect_eq(r.rows[0].ts, 1425232800000LL);
    cr_expect_eq(r.rows[0].value, 5.0);
    rec_free(&r);
}

Test(ingest, header_any_order_case_and_blanks)
{
    rec r = {0};
    char err[512];
    const char *csv = " VALUE ,Key,\tTs , \"Entity\",METRIC\n"
                      "42,k1,2015-03-01T18:00:00Z,force/east,response_p2\n";
    cr_assert_eq(run(csv, NULL, &r, NULL, err), 0, "%s", err);
    cr_assert_eq(r.nrows, 1);
    cr_expect_str_eq(r.rows[0].metric, "response_p2");
    cr_expect_str_eq(r.rows[0].entity, "force/east");
    cr_expect_str_eq(r.rows[0].key, "k1");
    cr_expect_eq(r.rows[0].value, 42.0);
    cr_expect_eq(r.rows[0].ts, 1425232800000LL);
    rec_free(&r);
}

Test(ingest, blank_lines_skipped_and_counted)
{
    rec r = {0};
    sr_ingest_stats st;
    char err[512];
    const char *csv = "\n"
                      "metric,entity,ts,value\n"
                      "\n"
                      "   \t\n"
                      "response_p1,a,0,1\n"
                      "\"\"\n"
                      "response_p1,a,0,2"; /* no final newline */
    cr_assert_eq(run(csv, NULL, &r, &st, err), 0, "%s", err);
    cr_assert_eq(r.nrows, 2);
    cr_expect_eq(r.rows[0].line, 5);
    cr_expect_eq(r.rows[1].line, 7);
    cr_expect_eq(r.rows[1].value, 2.0, "last row without newline");
    cr_expect_eq(st.blank, 4);
    cr_expect_eq(st.lines, 7);
    cr_expect_eq(r.nrej, 0);
    rec_free(&r);
}

Test(ingest, blank_last_line_without_newline)
{
    rec r = {0};
    sr_ingest_stats st;
    char err[512];
    cr_assert_eq(run("metric,entity,ts,value\nresponse_p1,a,0,1\n \t", NULL, &r, &st, err), 0);
    cr_expect_eq(r.nrows, 1);
    cr_expect_eq(st.lines, 3);
    cr_expect_eq(st.blank, 1);
    rec_free(&r);
}

/* ---- rejects ---- */

Test(ingest, every_reject_reason_with_line_and_raw)
{
    rec r = {0};
    sr_ingest_stats st;
    char err[512];
    const char *csv = "metric,entity,ts,value\n"          /* 1 */
                      "nope,a,0,1\n"                      /* 2 */
                      "in_service,a,0,1\n"                /* 3 */
                      ",a,0,1\n"                          /* 4 */
                      "response_p1,,0,1\n"                /* 5 */
                      "response_p1,\"  \",0,1\n"          /* 6 */
                      "response_p1,/a/b,0,1\n"            /* 7 */
                      "response_p1,a/b/,0,1\n"            /* 8 */
                      "response_p1,a//b,0,1\n"            /* 9 */
                      "response_p1,a,yesterday,1\n"       /* 10 */
                      "response_p1,a,2015-02-30,1\n"      /* 11 */
                      "response_p1,a,,1\n"                /* 12 */
                      "response_p1,a,0,12 min\n"          /* 13 */
                      "response_p1,a,0,\"1,234\"\n"       /* 14 */
                      "response_p1,a,0,\n"                /* 15 */
                      "response_p1,a,0,nan\n"             /* 16 */
                      "response_p1,a,0\n"                 /* 17 */
                      "response_p1,a,0,1,extra,\"x,y\"\n" /* 18 */
                      "response_p1,a,0,1\n";              /* 19 */
    cr_assert_eq(run(csv, NULL, &r, &st, err), 0, "%s", err);
    cr_expect_eq(r.nrows, 1);
    cr_expect_eq(r.rows[0].line, 19);
    cr_assert_eq(r.nrej, 17);
    cr_expect_eq(st.rejects, 17);
    assert_reject(&r, 0, 2, "nope,a,0,1", "unknown metric 'nope'");
    assert_reject(&r, 1, 3, "in_service,a,0,1",
                  "metric 'in_service' is a ratio, computed from its parts");
    assert_reject(&r, 2, 4, ",a,0,1", "empty metric");
    assert_reject(&r, 3, 5, "response_p1,,0,1", "empty entity");
    assert_reject(&r, 4, 6, "response_p1,\"  \",0,1", "empty entity");
    assert_reject(&r, 5, 7, "response_p1,/a/b,0,1", "entity '/a/b' starts or ends with '/'");
    assert_reject(&r, 6, 8, "response_p1,a/b/,0,1", "entity 'a/b/' starts or ends with '/'");
    assert_reject(&r, 7, 9, "response_p1,a//b,0,1", "entity 'a//b' has an empty path segment");
    assert_reject(&r, 8, 10, "response_p1,a,yesterday,1", "unparseable ts 'yesterday'");
    assert_reject(&r, 9, 11, "response_p1,a,2015-02-30,1", "unparseable ts '2015-02-30'");
    assert_reject(&r, 10, 12, "response_p1,a,,1", "empty ts");
    assert_reject(&r, 11, 13, "response_p1,a,0,12 min", "non-numeric value '12 min'");
    assert_reject(&r, 12, 14, "response_p1,a,0,\"1,234\"", "non-numeric value '1,234'");
    assert_reject(&r, 13, 15, "response_p1,a,0,", "empty value");
    assert_reject(&r, 14, 16, "response_p1,a,0,nan", "non-numeric value 'nan'");
    assert_reject(&r, 15, 17, "response_p1,a,0", "row has 3 fields, the header has 4");
    assert_reject(&r, 16, 18, "response_p1,a,0,1,extra,\"x,y\"",
                  "row has 6 fields, the header has 4");
    rec_free(&r);
}

Test(ingest, metric_names_are_case_sensitive)
{
    rec r = {0};
    char err[512];
    cr_assert_eq(run("metric,entity,ts,value\nResponse_P1,a,0,1\n", NULL, &r, NULL, err), 0);
    cr_assert_eq(r.nrej, 1);
    assert_reject(&r, 0, 2, "Response_P1,a,0,1", "unknown metric 'Response_P1'");
    rec_free(&r);
}

Test(ingest, reject_raw_keeps_blanks_and_quotes_that_were_read)
{
    rec r = {0};
    char err[512];
    const char *csv = "metric,entity,ts,value\n"
                      "\" nope \",\"say \"\"hi\"\"\",0,1\n";
    cr_assert_eq(run(csv, NULL, &r, NULL, err), 0, "%s", err);
    assert_reject(&r, 0, 2, "\" nope \",\"say \"\"hi\"\"\",0,1", "unknown metric 'nope'");
    rec_free(&r);
}

Test(ingest, quoted_commas_and_newlines_keep_line_numbers)
{
    rec r = {0};
    sr_ingest_stats st;
    char err[512];
    const char *csv = "metric,entity,ts,value,key\n"             /* 1 */
                      "response_p1,a,0,1,\"k,1\"\n"              /* 2 */
                      "response_p1,a,0,2,\"multi\nline\nkey\"\n" /* 3-5 */
                      "response_p1,a,0,3,k3\n"                   /* 6 */
                      "\"un\nknown\",a,0,4,\"x\r\ny\"\n"         /* 7-9 */
                      "response_p1,a,0,5,k5\n";                  /* 10 */
    cr_assert_eq(run(csv, NULL, &r, &st, err), 0, "%s", err);
    cr_assert_eq(r.nrows, 4);
    cr_expect_eq(r.rows[0].line, 2);
    cr_expect_str_eq(r.rows[0].key, "k,1");
    cr_expect_eq(r.rows[1].line, 3);
    cr_expect_str_eq(r.rows[1].key, "multi\nline\nkey");
    cr_expect_eq(r.rows[2].line, 6);
    cr_expect_eq(r.rows[3].line, 10);
    cr_expect_eq(r.rows[3].value, 5.0);
    assert_reject(&r, 0, 7, "\"un\nknown\",a,0,4,\"x\r\ny\"", "unknown metric 'un\nknown'");
    cr_expect_eq(st.lines, 10);
    rec_free(&r);
}

Test(ingest, lone_cr_ends_a_row)
{
    rec r = {0};
    sr_ingest_stats st;
    char err[512];
    /* old Mac endings: a CR alone ends a row but not a line (lines are LFs) */
    const char *csv = "metric,entity,ts,value,key\r"   /* line 1 */
                      "response_p1,a,0,1,k1\r"         /* line 1 */
                      "response_p1,a,0,2,\"x\ny\"\r\n" /* lines 1-2 */
                      "response_p1,a,0,3,k3\n";        /* line 3 */
    cr_assert_eq(run(csv, NULL, &r, &st, err), 0, "%s", err);
    cr_assert_eq(r.nrows, 3);
    cr_expect_eq(r.rows[0].line, 1);
    cr_expect_eq(r.rows[1].line, 1);
    cr_expect_str_eq(r.rows[1].key, "x\ny");
    cr_expect_eq(r.rows[2].line, 3);
    cr_expect_eq(st.lines, 3);
    cr_expect_eq(st.blank, 0);
    rec_free(&r);
}

Test(ingest, nul_byte_in_a_field)
{
    rec r = {0};
    char err[512];
    static const char csv[] =
        "metric,entity,ts,value\nresponse_p1,fo\0rce,0,1\nresponse_p1,a,0,2\n";
    cr_assert_eq(run_n(csv, sizeof csv - 1, NULL, &r, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(r.nrows, 1);
    cr_expect_eq(r.rows[0].line, 3);
    assert_reject(&r, 0, 2, "response_p1,fo\\0rce,0,1", "NUL byte in field entity");
    rec_free(&r);
}

Test(ingest, raw_is_capped)
{
    rec r = {0};
    char err[512];
    size_t big = 10000;
    char *csv = malloc(big + 100);
    int n = sprintf(csv, "metric,entity,ts,value\nresponse_p1,");
    memset(csv + n, 'x', big);
    /* a 3-byte UTF-8 character right at the cut must not be split */
    for (size_t i = 4000; i + 3 <= big; i += 3)
        memcpy(csv + n + i, "\xE2\x82\xAC", 3);
    strcpy(csv + n + big, ",0\n");
    cr_assert_eq(run(csv, NULL, &r, NULL, err), 0, "%s", err);
    cr_assert_eq(r.nrej, 1);
    size_t len = strlen(r.rej[0].raw);
    cr_expect_leq(len, SR_INGEST_RAW_MAX - 1);
    cr_expect_gt(len, SR_INGEST_RAW_MAX - 16);
    cr_expect_eq(strcmp(r.rej[0].raw + len - 3, "..."), 0, "cut marked: %s",
                 r.rej[0].raw + len - 8);
    cr_expect_eq(strncmp(r.rej[0].raw, "response_p1,xxx", 15), 0);
    const char *euro = strrchr(r.rej[0].raw, '\xAC');
    cr_expect_eq(euro + 1, r.rej[0].raw + len - 3, "no partial character before the dots");
    cr_expect_str_eq(r.rej[0].reason, "row has 3 fields, the header has 4");
    free(csv);
    rec_free(&r);
}

Test(ingest, long_text_clipped_in_reason)
{
    rec r = {0};
    char err[512];
    char csv[512];
    char name[201];
    memset(name, 'm', 200);
    name[200] = '\0';
    snprintf(csv, sizeof csv, "metric,entity,ts,value\n%s,a,0,1\n", name);
    cr_assert_eq(run(csv, NULL, &r, NULL, err), 0);
    cr_assert_eq(r.nrej, 1);
    cr_expect_lt(strlen(r.rej[0].reason), 100);
    cr_expect_neq(strstr(r.rej[0].reason, "m...'"), NULL, "%s", r.rej[0].reason);
    char raw[256];
    snprintf(raw, sizeof raw, "%s,a,0,1", name);
    cr_expect_str_eq(r.rej[0].raw, raw, "raw keeps the whole field");
    rec_free(&r);
}

/* ---- strict quoting ---- */

Test(ingest, stray_quote_rejected_then_parsing_goes_on)
{
    rec r = {0};
    sr_ingest_stats st;
    char err[512];
    const char *csv = "metric,entity,ts,value\n"       /* 1 */
                      "response_p1,for\"ce,0,1\n"      /* 2: quote in an unquoted field */
                      "response_p1,a,0,2\n"            /* 3 */
                      "response_p1,\"a\"b,0,3\n"       /* 4: text after a closing quote */
                      "response_p1,\"a\nb\" x,0,4\r\n" /* 5-6: same, on the row's 2nd line */
                      "response_p1,a,0,5\n";           /* 7 */
    cr_assert_eq(run(csv, NULL, &r, &st, err), 0, "%s", err);
    cr_assert_eq(r.nrows, 2);
    cr_expect_eq(r.rows[0].line, 3);
    cr_expect_eq(r.rows[0].value, 2.0);
    cr_expect_eq(r.rows[1].line, 7);
    cr_expect_eq(r.rows[1].value, 5.0);
    cr_assert_eq(r.nrej, 3);
    assert_reject(&r, 0, 2, "response_p1,for\"ce,0,1",
                  "malformed CSV: stray quote at line 2, byte 16");
    assert_reject(&r, 1, 4, "response_p1,\"a\"b,0,3",
                  "malformed CSV: text after a closing quote at line 4, byte 16");
    assert_reject(&r, 2, 5, "response_p1,\"a\nb\" x,0,4",
                  "malformed CSV: text after a closing quote at line 6, byte 4");
    cr_expect_eq(st.lines, 7);
    rec_free(&r);
}

Test(ingest, quote_left_open_at_end_of_file)
{
    rec r = {0};
    char err[512];
    const char *csv = "metric,entity,ts,value\n"
                      "response_p1,a,0,1\n"
                      "response_p1,\"a,0,2\n"
                      "response_p1,a,0,3\n";
    cr_assert_eq(run(csv, NULL, &r, NULL, err), 0, "%s", err);
    cr_assert_eq(r.nrows, 1);
    assert_reject(&r, 0, 3, "response_p1,\"a,0,2\nresponse_p1,a,0,3",
                  "malformed CSV: quoted field not closed at the end of the file");
    rec_free(&r);
}

Test(ingest, a_row_past_the_bound_is_rejected_and_reading_goes_on)
{
    /* the bound of every CSV sitrep reads (adapters/csvin.h) */
    rec r = {0};
    sr_ingest_stats st;
    char err[512];
    size_t big = SR_CSVIN_ROW_MAX + 4096;
    char *csv = malloc(big + 200);
    int n = sprintf(csv, "metric,entity,ts,value,key\nresponse_p1,a,0,1,");
    memset(csv + n, 'k', big);
    strcpy(csv + n + big, "\nresponse_p1,a,0,2,k2\n");
    cr_assert_eq(run(csv, NULL, &r, &st, err), 0, "%s", err);
    cr_assert_eq(r.nrows, 1);
    cr_expect_eq(r.rows[0].line, 3);
    cr_expect_eq(r.rows[0].value, 2.0);
    cr_assert_eq(r.nrej, 1);
    cr_expect_eq(r.rej[0].line, 2);
    cr_expect_str_eq(r.rej[0].reason, "row longer than 1048576 bytes");
    size_t len = strlen(r.rej[0].raw);
    cr_expect_lt(len, SR_INGEST_RAW_MAX);
    cr_expect_eq(strncmp(r.rej[0].raw, "response_p1,a,0,1,kkk", 21), 0);
    cr_expect_str_eq(r.rej[0].raw + len - 3, "...");
    cr_expect_eq(st.lines, 3);
    free(csv);
    rec_free(&r);
}

/* ---- BOM, CRLF, files ---- */

Test(ingest, bom_and_crlf_fixture)
{
    rec r = {0};
    sr_ingest_stats st;
    char err[512];
    char *path = fixture_path("ingest/bom_crlf.csv");
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    unsigned char bom[3];
    cr_assert_eq(fread(bom, 1, 3, f), 3);
    cr_assert(bom[0] == 0xEF && bom[1] == 0xBB && bom[2] == 0xBF, "fixture starts with a BOM");
    rewind(f);
    sr_ingest_sink sink = {.ctx = &r, .row = on_row, .reject = on_reject};
    cr_assert_eq(sr_ingest_csv(f, &cat, "America/Los_Angeles", &sink, &st, err, sizeof err), 0,
                 "%s", err);
    fclose(f);
    free(path);
    cr_assert_eq(r.nrows, 3);
    cr_expect_str_eq(r.rows[0].metric, "response_p1", "BOM not part of the first name");
    cr_expect_str_eq(r.rows[0].entity, "seattle/east/charlie/c2", "no CR in the last field");
    cr_expect_str_eq(r.rows[0].key, "2014000063173");
    cr_expect_eq(r.rows[0].ts, 1425232800000LL);
    cr_expect_eq(r.rows[0].value, 1374.0);
    cr_expect_eq(r.rows[1].line, 3);
    cr_expect_str_eq(r.rows[1].key, "a\r\nb", "CRLF kept inside quotes");
    cr_expect_eq(r.rows[2].line, 6);
    cr_expect_eq(r.rows[2].ts, 1435734000000LL);
    cr_assert_eq(r.nrej, 1);
    assert_reject(&r, 0, 5, "response_p2,seattle/east/charlie/c3,2015-07-01,fast,",
                  "non-numeric value 'fast'");
    cr_expect_eq(st.lines, 6);
    rec_free(&r);
}

/*
 * Rows cut by the 256 KiB read boundary at every byte of a cycle of rows:
 * a plain row, a row with a quoted CRLF, a malformed row, a blank line.
 * Lines, values and counts must come out the same wherever the cut falls.
 */
Test(ingest, chunk_boundary_anywhere)
{
    static const char *cycle[] = {
        "response_p1,f/a,%ld,%ld,k%ld\r\n",
        "response_p2,f/b,%ld,%ld,\"q\r\n%ld\"\r\n",
        "response_p1,f/\"c,%ld,%ld,k%ld\r\n",
        "  \r\n",
    };
    const size_t chunk = 256 * 1024;
    for (int shift = 0; shift < 96; shift++) {
        char *buf = NULL;
        size_t size = 0;
        FILE *w = open_memstream(&buf, &size);
        fprintf(w, "metric,entity,ts,value,key%*s\r\n", shift, "");
        long line = 2, want_rows = 0, want_rej = 0;
        long i = 0;
        while (ftell(w) < (long)(chunk + 4096)) {
            int c = (int)(i % 4);
            fprintf(w, cycle[c], 1000 + i, i, i);
            if (c == 0 || c == 1)
                want_rows++;
            else if (c == 2)
                want_rej++;
            line += c == 1 ? 2 : 1;
            i++;
        }
        fclose(w);
        rec r = {0};
        sr_ingest_stats st;
        char err[512];
        cr_assert_eq(run_n(buf, size, NULL, &r, &st, err, sizeof err), 0, "%s", err);
        cr_assert_eq((long)r.nrows, want_rows, "shift %d", shift);
        cr_assert_eq((long)r.nrej, want_rej, "shift %d", shift);
        cr_assert_eq(st.lines, line - 1, "shift %d", shift);
        cr_assert_eq(st.blank, i / 4, "shift %d", shift);
        /* row k of the cycle number j sits at line 2 + 5j + (0, 1, 3, 4) */
        size_t ri = 0, ji = 0;
        for (long j = 0; j < i; j++) {
            long base = 2 + 5 * (j / 4), c = j % 4;
            if (c == 0 || c == 1) {
                cr_assert_eq(r.rows[ri].line, base + c, "shift %d row %ld", shift, j);
                cr_assert_eq(r.rows[ri].value, (double)j, "shift %d row %ld", shift, j);
                cr_assert_eq(r.rows[ri].ts, (1000 + j) * 1000LL);
                ri++;
            } else if (c == 2) {
                cr_assert_eq(r.rej[ji].line, base + 3, "shift %d row %ld", shift, j);
                char want[128];
                snprintf(want, sizeof want, "response_p1,f/\"c,%ld,%ld,k%ld", 1000 + j, j, j);
                cr_assert_str_eq(r.rej[ji].raw, want, "shift %d", shift);
                ji++;
            }
        }
        rec_free(&r);
        free(buf);
    }
}

/* ---- header errors ---- */

static void expect_header_error(const char *csv, const char *msg)
{
    rec r = {0};
    char err[512] = "unset";
    sr_ingest_stats st;
    cr_expect_eq(run(csv, NULL, &r, &st, err), SR_EINVAL, "for %s", csv);
    cr_expect_str_eq(err, msg);
    cr_expect_eq(r.nrows + r.nrej, 0, "no callback on a header error");
    cr_expect_eq(st.rows + st.rejects, 0);
    rec_free(&r);
}

#define EXP "(expected a header naming metric, entity, ts, value and optionally key)"

Test(ingest, header_errors)
{
    expect_header_error("metric,entity,ts,value,unit\nresponse_p1,a,0,1,s\n",
                        "line 1: unknown column 'unit' " EXP);
    expect_header_error("\n\nmetric,entity,when,value\n", "line 3: unknown column 'when' " EXP);
    expect_header_error("response_p1,a,0,1\n", "line 1: unknown column 'response_p1' " EXP);
    expect_header_error("metric,entity,value\nresponse_p1,a,1\n",
                        "line 1: missing column 'ts' " EXP);
    expect_header_error("key,metric\n", "line 1: missing columns 'entity', 'ts', 'value' " EXP);
    expect_header_error("metric,entity,ts,value,Metric\n",
                        "line 1: column 'metric' appears twice " EXP);
    expect_header_error("metric,entity,ts,value,\n", "line 1: column 5 has no name " EXP);
    expect_header_error("metric,entity,ts,value,key,a,b,c,d,e,f,g\n",
                        "line 1: unknown column 'a' " EXP);
    expect_header_error("metric,entity,ts,\"value\"x\n",
                        "line 1: malformed CSV in the header: text after a closing quote at "
                        "line 1, byte 25 " EXP);
    expect_header_error("", "no header: the file is empty " EXP);
    expect_header_error("\n  \r\n\"\"\n", "no header: the file is empty " EXP);
    expect_header_error("\xEF\xBB\xBF", "no header: the file is empty " EXP);
}

Test(ingest, unknown_time_zone)
{
    rec r = {0};
    char err[512];
    cr_expect_eq(run("metric,entity,ts,value\nresponse_p1,a,0,1\n", "Mars/Olympus", &r, NULL, err),
                 SR_EINVAL);
    cr_expect_str_eq(err, "unknown time zone 'Mars/Olympus'");
    cr_expect_eq(r.nrows, 0);
    rec_free(&r);
}

/* ---- sink stop ---- */

Test(ingest, sink_stop_returns_its_code)
{
    rec r = {.stop_after = 3};
    sr_ingest_stats st;
    char err[512];
    const char *csv = "metric,entity,ts,value\n"
                      "response_p1,a,0,1\n"
                      "nope,a,0,2\n"
                      "response_p1,a,0,3\n"
                      "response_p1,a,0,4\n"
                      "nope,a,0,5\n";
    cr_assert_eq(run(csv, NULL, &r, &st, err), -42);
    cr_expect_eq(r.nrows, 2);
    cr_expect_eq(r.nrej, 1);
    cr_expect_eq(r.rows[1].value, 3.0, "stopped right after the third call");
    cr_expect_eq(st.rows, 2);
    cr_expect_eq(st.rejects, 1);
    rec_free(&r);
}

Test(ingest, sink_stop_in_a_reject)
{
    rec r = {.stop_after = 1};
    char err[512];
    cr_assert_eq(
        run("metric,entity,ts,value\nnope,a,0,1\nresponse_p1,a,0,2\n", NULL, &r, NULL, err), -42);
    cr_expect_eq(r.nrej, 1);
    cr_expect_eq(r.nrows, 0);
    rec_free(&r);
}

/* ---- real data ---- */

/* Reads "metric entity agg method value n" lines for the whole file. */
static int expected(const char *metric, const char *agg, double *value, long *n)
{
    char *path = fixture_path("seattle-response.expected");
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    free(path);
    char line[256], m[64], e[64], a[32], meth[32];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        if (sscanf(line, "%63s %63s %31s %31s %lf %ld", m, e, a, meth, value, n) == 6 &&
            strcmp(m, metric) == 0 && strcmp(e, "seattle") == 0 && strcmp(a, agg) == 0) {
            found = 1;
            break;
        }
    }
    fclose(f);
    return found;
}

Test(ingest, seattle_fixture_parses_whole)
{
    sr_metric_def d[7];
    for (int p = 1; p <= 7; p++) {
        char name[16];
        snprintf(name, sizeof name, "response_p%d", p);
        sr_metric_def_init(&d[p - 1], name);
    }
    sr_catalog c = {d, 7};
    rec r = {0};
    sr_ingest_stats st;
    char err[512];
    char *path = fixture_path("seattle-response.csv");
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    free(path);
    sr_ingest_sink sink = {.ctx = &r, .row = on_row, .reject = on_reject};
    cr_assert_eq(sr_ingest_csv(f, &c, NULL, &sink, &st, err, sizeof err), 0, "%s", err);
    fclose(f);
    cr_expect_eq(r.nrej, 0);
    double want_min, want_max, want_mean;
    long n, n2, n3;
    cr_assert(expected("*", "min", &want_min, &n));
    cr_assert(expected("*", "max", &want_max, &n2));
    cr_assert(expected("*", "mean", &want_mean, &n3));
    cr_assert_eq((long)r.nrows, n);
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    for (size_t i = 0; i < r.nrows; i++) {
        lo = fmin(lo, r.rows[i].value);
        hi = fmax(hi, r.rows[i].value);
        sum += r.rows[i].value;
        cr_assert_eq(strncmp(r.rows[i].entity, "seattle/east/charlie/c", 22), 0);
        cr_assert_not_null(r.rows[i].key);
    }
    cr_expect_eq(lo, want_min);
    cr_expect_eq(hi, want_max);
    cr_expect_float_eq(sum / (double)r.nrows, want_mean, 1e-9);
    rec_free(&r);
}

/* ---- the pipelined parse (app/ingest_pipe.c) ---- */

/* A file of n data rows across several of the pipe's batches: keys on every
 * third row, an unknown metric on every fifth, a quoted newline on every
 * seventh (its row spans two lines), a blank line on every eleventh. */
static char *mixed_csv(long n, size_t *len)
{
    char *buf = NULL;
    FILE *w = open_memstream(&buf, len);
    fputs("metric,entity,ts,value,key\n", w);
    for (long i = 0; i < n; i++) {
        const char *m = i % 5 == 4 ? "nope" : i % 2 ? "response_p2" : "response_p1";
        if (i % 7 == 6)
            fprintf(w, "%s,\"f/u%ld\",%ld,%ld.5,\"k\n%ld\"\n", m, i % 13, 1000 + i, i, i);
        else if (i % 3 == 0)
            fprintf(w, "%s,f/u%ld,%ld,%ld,k%ld\n", m, i % 13, 1000 + i, i, i);
        else
            fprintf(w, "%s,f/u%ld,%ld,%ld,\n", m, i % 13, 1000 + i, i);
        if (i % 11 == 10)
            fputs("  \n", w);
    }
    fclose(w);
    return buf;
}

static int run_pipelined(const char *csv, size_t len, rec *r, sr_ingest_stats *st, char *err)
{
    FILE *f = fmemopen((void *)csv, len, "r");
    cr_assert_not_null(f);
    r->on_thread = true;
    r->thread = pthread_self();
    sr_ingest_sink sink = {.ctx = r, .row = on_row, .reject = on_reject};
    int rc = sr_ingest_csv_pipelined(f, &cat, NULL, &sink, st, err, 512);
    fclose(f);
    return rc;
}

Test(ingest, pipelined_parse_makes_the_same_calls_on_the_callers_thread)
{
    size_t len;
    char *csv = mixed_csv(30000, &len);
    rec a = {0}, b = {0};
    sr_ingest_stats sa, sb;
    char err[512];
    cr_assert_eq(run_n(csv, len, NULL, &a, &sa, err, sizeof err), 0, "%s", err);
    cr_assert_eq(run_pipelined(csv, len, &b, &sb, err), 0, "%s", err);
    cr_assert_eq(a.nrows, 24000, "the plain parse: 4 rows in 5 are samples");
    cr_assert_eq(b.nrows, a.nrows);
    cr_assert_eq(b.nrej, a.nrej);
    for (size_t i = 0; i < a.nrows; i++) {
        cr_assert_eq(b.rows[i].line, a.rows[i].line, "row %zu", i);
        cr_assert_str_eq(b.rows[i].metric, a.rows[i].metric, "row %zu", i);
        cr_assert_str_eq(b.rows[i].entity, a.rows[i].entity, "row %zu", i);
        cr_assert_eq(b.rows[i].ts, a.rows[i].ts, "row %zu", i);
        cr_assert_eq(b.rows[i].value, a.rows[i].value, "row %zu", i);
        cr_assert_eq(!b.rows[i].key, !a.rows[i].key, "row %zu: key or none", i);
        if (a.rows[i].key)
            cr_assert_str_eq(b.rows[i].key, a.rows[i].key, "row %zu", i);
    }
    for (size_t i = 0; i < a.nrej; i++)
        assert_reject(&b, i, a.rej[i].line, a.rej[i].raw, a.rej[i].reason);
    cr_expect_eq(sb.lines, sa.lines);
    cr_expect_eq(sb.blank, sa.blank);
    cr_expect_eq(sb.rows, sa.rows);
    cr_expect_eq(sb.rejects, sa.rejects);
    rec_free(&a);
    rec_free(&b);
    free(csv);
}

Test(ingest, pipelined_parse_stops_at_the_sinks_code)
{
    size_t len;
    char *csv = mixed_csv(30000, &len);
    /* a stop in the first batch, one in a later batch, one in a reject */
    const long stops[] = {3, 9001, 5};
    for (size_t k = 0; k < sizeof stops / sizeof *stops; k++) {
        rec r = {.stop_after = stops[k]};
        char err[512];
        cr_assert_eq(run_pipelined(csv, len, &r, NULL, err), -42);
        cr_expect_eq((long)(r.nrows + r.nrej), stops[k], "nothing after the stopping call");
        rec_free(&r);
    }
    free(csv);
}

Test(ingest, pipelined_parse_gives_the_header_error)
{
    const char *csv = "metric,entity,when,value\nresponse_p1,a,0,1\n";
    rec r = {0};
    char err[512] = "";
    cr_assert_eq(run_pipelined(csv, strlen(csv), &r, NULL, err), SR_EINVAL);
    cr_expect_str_eq(err, "line 1: unknown column 'when' " EXP);
    cr_expect_eq(r.nrows + r.nrej, 0);
    rec_free(&r);
}
