/*
 * test_map.c - the shared row mapping (adapters/map.c), the CSV stream
 * reader (adapters/csvrows.c) and JSON rows (adapters/jsonrow.c), with the
 * mock host: templates, values, durations across DST, time formats, where,
 * null tokens, thousands separators, secrets, and CSV streams fed in
 * arbitrary slices.
 */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../adapters/csvrows.h"
#include "../../adapters/jsonrow.h"
#include "../../adapters/map.h"
#include "../helpers.h"
#include "mock.h"

static sr_map *map_of(mock_options *o, const char *const *kv, size_t n)
{
    const sr_ad_options *opts = mock_opts(o, "t", ".", kv, n);
    sr_map *m = NULL;
    char err[512] = "";
    cr_assert_eq(sr_map_create(opts, &m, err, sizeof err), 0, "create: %s", err);
    return m;
}

#define MAP(o, ...)                                                                                \
    map_of((o), (const char *const[]){__VA_ARGS__},                                                \
           sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

static void create_fails(const char *want, const char *const *kv, size_t n)
{
    mock_options o;
    const sr_ad_options *opts = mock_opts(&o, "t", ".", kv, n);
    sr_map *m = NULL;
    char err[512] = "";
    cr_assert_lt(sr_map_create(opts, &m, err, sizeof err), 0, "expected failure for %s", want);
    cr_assert_null(m);
    cr_assert(strstr(err, want), "error '%s' should mention '%s'", err, want);
}

#define FAILS(want, ...)                                                                           \
    create_fails((want), (const char *const[]){__VA_ARGS__},                                       \
                 sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* Values for a map's fields from name=value pairs (others NULL). */
static void row_of(const sr_map *m, const char **vals, const char *const *kv, size_t n,
                   char store[][128])
{
    for (size_t f = 0; f < sr_map_field_count(m); f++) {
        vals[f] = NULL;
        for (size_t i = 0; i < n; i++) {
            const char *eq = strchr(kv[i], '=');
            size_t kl = (size_t)(eq - kv[i]);
            if (strlen(sr_map_field_name(m, f)) == kl &&
                strncmp(kv[i], sr_map_field_name(m, f), kl) == 0) {
                snprintf(store[f], 128, "%s", eq + 1);
                vals[f] = store[f];
            }
        }
    }
}

static int run_row(const sr_map *m, mock_sink *s, const char *const *kv, size_t n)
{
    const char *vals[32];
    char store[32][128];
    row_of(m, vals, kv, n, store);
    return sr_map_row(m, vals, 1000, "line 2", "raw", &s->sink);
}

#define ROW(m, s, ...)                                                                             \
    run_row((m), (s), (const char *const[]){__VA_ARGS__},                                          \
            sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

Test(map, seattle_mapping_across_dst)
{
    mock_options o;
    sr_map *m = MAP(&o, "metric = response_p{Priority}",
                    "entity = seattle/{Precinct}/{Sector}/{Beat}", "time = Original Time Queued",
                    "time_format = %m/%d/%Y %I:%M:%S %p", "timezone = America/Los_Angeles",
                    "value = duration(Original Time Queued, Arrived Time)",
                    "key = CAD Event Number", "where = Call Type != ONVIEW");
    mock_sink s;
    mock_sink_init(&s);
    /* 2015-03-08: clocks jump from 02:00 PST to 03:00 PDT; 01:50 PST -> 03:10 PDT is 20 minutes */
    cr_assert_eq(ROW(m, &s, "Priority=2", "Precinct=EAST", "Sector=CHARLIE", "Beat=C3",
                     "Original Time Queued=03/08/2015 01:50:00 AM",
                     "Arrived Time=03/08/2015 03:10:00 AM", "CAD Event Number=2015000001",
                     "Call Type=911"),
                 SR_MAP_EMITTED);
    cr_assert_eq(s.n, 1);
    cr_assert_str_eq(s.s[0].metric, "response_p2");
    cr_assert_str_eq(s.s[0].entity, "seattle/EAST/CHARLIE/C3");
    cr_assert_str_eq(s.s[0].key, "2015000001");
    cr_assert_eq(s.s[0].value, 1200.0, "got %g", s.s[0].value);
    cr_assert_eq(s.s[0].ts_ms, 1425808200000LL, "01:50 PST = 09:50 UTC, got %lld",
                 (long long)s.s[0].ts_ms);
    /* PM on the 12-hour clock, summer time: 12:30:05 PM PDT = 19:30:05 UTC */
    cr_assert_eq(ROW(m, &s, "Priority=1", "Precinct=EAST", "Sector=CHARLIE", "Beat=C2",
                     "Original Time Queued=07/04/2019 12:30:05 PM",
                     "Arrived Time=07/04/2019 12:35:05 PM", "CAD Event Number=x", "Call Type=911"),
                 SR_MAP_EMITTED);
    cr_assert_eq(s.s[1].ts_ms, 1562268605000LL);
    cr_assert_eq(s.s[1].value, 300.0);
    /* filtered, not rejected */
    cr_assert_eq(ROW(m, &s, "Priority=7", "Precinct=EAST", "Sector=CHARLIE", "Beat=C2",
                     "Original Time Queued=07/04/2019 12:30:05 PM",
                     "Arrived Time=07/04/2019 12:30:05 PM", "CAD Event Number=y",
                     "Call Type=ONVIEW"),
                 SR_MAP_FILTERED);
    cr_assert_eq(sr_map_filtered(m), 1);
    /* no arrival: rejected with a reason naming the field */
    cr_assert_eq(ROW(m, &s, "Priority=1", "Precinct=EAST", "Sector=CHARLIE", "Beat=C2",
                     "Original Time Queued=07/04/2019 12:30:05 PM",
                     "Arrived Time=", "CAD Event Number=z", "Call Type=911"),
                 SR_MAP_REJECTED);
    cr_assert_eq(s.nr, 1);
    cr_assert(strstr(s.r[0].reason, "Arrived Time"), "%s", s.r[0].reason);
    cr_assert_str_eq(s.r[0].where, "line 2");
    cr_assert_str_eq(s.r[0].raw, "raw");
    /* a time that does not match the format */
    cr_assert_eq(ROW(m, &s, "Priority=1", "Precinct=EAST", "Sector=CHARLIE", "Beat=C2",
                     "Original Time Queued=2019-07-04 12:30", "Arrived Time=07/04/2019 12:35:05 PM",
                     "CAD Event Number=z", "Call Type=911"),
                 SR_MAP_REJECTED);
    cr_assert(strstr(s.r[1].reason, "does not match time_format"), "%s", s.r[1].reason);
    /* arrival before queue */
    cr_assert_eq(ROW(m, &s, "Priority=1", "Precinct=EAST", "Sector=CHARLIE", "Beat=C2",
                     "Original Time Queued=07/04/2019 12:30:05 PM",
                     "Arrived Time=07/04/2019 12:20:05 PM", "CAD Event Number=z", "Call Type=911"),
                 SR_MAP_REJECTED);
    cr_assert(strstr(s.r[2].reason, "negative duration"), "%s", s.r[2].reason);
    /* empty Beat: the entity would have an empty level */
    cr_assert_eq(ROW(m, &s, "Priority=1", "Precinct=EAST", "Sector=CHARLIE",
                     "Beat= ", "Original Time Queued=07/04/2019 12:30:05 PM",
                     "Arrived Time=07/04/2019 12:35:05 PM", "CAD Event Number=z", "Call Type=911"),
                 SR_MAP_REJECTED);
    cr_assert(strstr(s.r[3].reason, "'Beat' has no value"), "%s", s.r[3].reason);
    cr_assert_eq(s.n, 2);
    mock_sink_fini(&s);
    sr_map_destroy(m);
}

/* The options are borrowed during sr_map_create only: the map keeps its
 * own copy of every literal (an adapter may free or reuse them). */
Test(map, literals_outlive_the_options)
{
    mock_options o;
    sr_map *m =
        MAP(&o, "metric = calls_{kind}", "entity = force/{unit}/x", "value = 1", "key = id-{unit}");
    memset(&o, 0x55, sizeof o);
    mock_sink s;
    mock_sink_init(&s);
    cr_assert_eq(ROW(m, &s, "kind=p1", "unit=u1"), SR_MAP_EMITTED);
    cr_assert_str_eq(s.s[0].metric, "calls_p1");
    cr_assert_str_eq(s.s[0].entity, "force/u1/x");
    cr_assert_str_eq(s.s[0].key, "id-u1");
    sr_map_destroy(m);
    mock_sink_fini(&s);
}

Test(map, month_names_thousands_and_nulls)
{
    mock_options o;
    sr_map *m = MAP(&o, "metric = overtime_cost", "entity = chicago", "time = {year} {month}",
                    "time_format = %Y %B", "timezone = America/Chicago", "value = TOTAL AMT",
                    "null = NULL, N/A");
    mock_sink s;
    mock_sink_init(&s);
    cr_assert_eq(ROW(m, &s, "year=2017", "month=March", "TOTAL AMT=12,345,678.90"), SR_MAP_EMITTED);
    cr_assert_float_eq(s.s[0].value, 12345678.90, 1e-6);
    /* 2017-03-01 00:00 CST = 06:00 UTC */
    cr_assert_eq(s.s[0].ts_ms, 1488348000000LL, "got %lld", (long long)s.s[0].ts_ms);
    cr_assert_null(s.s[0].key);
    cr_assert_eq(ROW(m, &s, "year=2017", "month=April", "TOTAL AMT=N/A"), SR_MAP_REJECTED);
    cr_assert(strstr(s.r[0].reason, "no value"), "%s", s.r[0].reason);
    cr_assert_eq(ROW(m, &s, "year=2017", "month=April", "TOTAL AMT=12,34"), SR_MAP_REJECTED);
    cr_assert(strstr(s.r[1].reason, "not a number"), "%s", s.r[1].reason);
    cr_assert_eq(ROW(m, &s, "year=2017", "month=Smarch", "TOTAL AMT=1"), SR_MAP_REJECTED);
    cr_assert_eq(ROW(m, &s, "year=2017", "TOTAL AMT=1"), SR_MAP_REJECTED);
    cr_assert(strstr(s.r[3].reason, "no field 'month'"), "%s", s.r[3].reason);
    mock_sink_fini(&s);
    sr_map_destroy(m);
}

Test(map, numbers)
{
    double v;
    cr_assert_eq(sr_map_number(" 1,234.56 ", &v), 0);
    cr_assert_float_eq(v, 1234.56, 1e-9);
    cr_assert_eq(sr_map_number("-12,000", &v), 0);
    cr_assert_eq(v, -12000);
    cr_assert_eq(sr_map_number("169,039.75", &v), 0);
    cr_assert_eq(sr_map_number("1e3", &v), 0);
    cr_assert_eq(v, 1000);
    cr_assert_eq(sr_map_number(".5", &v), 0);
    cr_assert_eq(v, 0.5);
    const char *bad[] = {"",    "1,23", "12,3456", ",123", "1,,234", "0x10", "inf",
                         "nan", "1e",   "1.2.3",   "abc",  "1 2",    "--1",  "1,234,56"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_neq(sr_map_number(bad[i], &v), 0, "'%s' should not parse", bad[i]);
}

Test(map, where_clauses)
{
    mock_options o;
    sr_map *m = MAP(&o, "metric = m", "entity = e/{unit}", "value = 1",
                    "where = kind in (a, \"b, c\") and {zone} = north and unit != x");
    mock_sink s;
    mock_sink_init(&s);
    cr_assert_eq(ROW(m, &s, "kind=a", "zone=north", "unit=u1"), SR_MAP_EMITTED);
    cr_assert_eq(ROW(m, &s, "kind=b, c", "zone=north", "unit=u1"), SR_MAP_EMITTED);
    cr_assert_eq(ROW(m, &s, "kind=b", "zone=north", "unit=u1"), SR_MAP_FILTERED);
    cr_assert_eq(ROW(m, &s, "kind=a", "zone=south", "unit=u1"), SR_MAP_FILTERED);
    cr_assert_eq(ROW(m, &s, "kind=a", "zone=north", "unit=x"), SR_MAP_FILTERED);
    cr_assert_eq(ROW(m, &s, "kind=a", "unit=u1"), SR_MAP_REJECTED);
    cr_assert_eq(s.n, 2);
    cr_assert_eq(s.s[0].value, 1.0);
    cr_assert_eq(s.s[0].ts_ms, 1000, "no time: now");
    cr_assert_eq(sr_map_filtered(m), 3);
    mock_sink_fini(&s);
    sr_map_destroy(m);
}

Test(map, entity_slash_in_value_and_epoch_formats)
{
    mock_options o;
    sr_map *m = MAP(&o, "metric = m", "entity = f/{unit}", "value = v", "time = t",
                    "time_format = epoch_ms");
    mock_sink s;
    mock_sink_init(&s);
    cr_assert_eq(ROW(m, &s, "unit=A/B", "v=2", "t=1700000000123"), SR_MAP_EMITTED);
    cr_assert_str_eq(s.s[0].entity, "f/A-B");
    cr_assert_eq(s.s[0].ts_ms, 1700000000123LL);
    mock_sink_fini(&s);
    sr_map_destroy(m);

    sr_map *a = MAP(&o, "metric = m", "entity = e", "value = v", "time = t");
    mock_sink_init(&s);
    cr_assert_eq(ROW(a, &s, "v=1", "t=2024-01-02T03:04:05Z"), SR_MAP_EMITTED);
    cr_assert_eq(ROW(a, &s, "v=1", "t=1704164645"), SR_MAP_EMITTED);
    cr_assert_eq(s.s[0].ts_ms, 1704164645000LL);
    cr_assert_eq(s.s[1].ts_ms, 1704164645000LL);
    mock_sink_fini(&s);
    sr_map_destroy(a);
}

Test(map, bad_options_name_the_key)
{
    FAILS("metric", "entity = e", "value = 1");
    FAILS("entity", "metric = m", "value = 1");
    FAILS("value", "metric = m", "entity = e");
    FAILS("metric: '{' at column 3", "metric = a_{x", "entity = e", "value = 1");
    FAILS("metric: '}' without", "metric = a}", "entity = e", "value = 1");
    FAILS("duration(START_FIELD, END_FIELD)", "metric = m", "entity = e", "value = duration(a)");
    FAILS("time_format", "metric = m", "entity = e", "value = 1", "time = t",
          "time_format = dd/mm/yyyy");
    FAILS("time_format: given without time", "metric = m", "entity = e", "value = 1",
          "time_format = epoch");
    FAILS("timezone: unknown zone", "metric = m", "entity = e", "value = 1", "time = t",
          "timezone = Mars/Olympus");
    FAILS("where: cannot read", "metric = m", "entity = e", "value = 1", "where = a ~ b");
    FAILS("closing ')'", "metric = m", "entity = e", "value = 1", "where = a in (b, c");
}

Test(map, bind_header)
{
    mock_options o;
    sr_map *m = MAP(&o, "metric = m", "entity = e/{b}", "value = a");
    size_t col[4];
    char err[512];
    const char *h1[] = {"\xEF\xBB\xBF"
                        "a",
                        "x", " b "};
    cr_assert_eq(sr_map_bind(m, h1, 3, col, err, sizeof err), 0, "%s", err);
    cr_assert_eq(col[0] + col[1], 2); /* a at 0, b at 2, in whichever order the map lists them */
    const char *h2[] = {"a", "c"};
    cr_assert_lt(sr_map_bind(m, h2, 2, col, err, sizeof err), 0);
    cr_assert(strstr(err, "field 'b' is not in the header (have: 'a', 'c')"), "%s", err);
    sr_map_destroy(m);
}

Test(map, secrets_from_env_and_file)
{
    char dir[256], path[512], opt[600];
    th_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/pw", dir);
    th_write_file(path, "s3cret\nsecond line\n");
    chmod(path, 0600);
    mock_options o;
    char *v = NULL, err[512];
    snprintf(opt, sizeof opt, "password_file = %s", path);
    cr_assert_eq(sr_map_secret(MOCK_OPTS(&o, "t", dir, opt), "password", &v, err, sizeof err), 0,
                 "%s", err);
    cr_assert_str_eq(v, "s3cret");
    free(v);
    chmod(path, 0640);
    cr_assert_lt(sr_map_secret(MOCK_OPTS(&o, "t", dir, opt), "password", &v, err, sizeof err), 0);
    cr_assert(strstr(err, "mode 0640") && strstr(err, "chmod 600"), "%s", err);
    /* relative to the config's directory */
    chmod(path, 0400);
    cr_assert_eq(sr_map_secret(MOCK_OPTS(&o, "t", dir, "password_file = pw"), "password", &v, err,
                               sizeof err),
                 0, "%s", err);
    free(v);
    setenv("SITREP_TEST_TOKEN", "tok", 1);
    cr_assert_eq(sr_map_secret(MOCK_OPTS(&o, "t", dir, "token_env = SITREP_TEST_TOKEN"), "token",
                               &v, err, sizeof err),
                 0);
    cr_assert_str_eq(v, "tok");
    free(v);
    cr_assert_lt(sr_map_secret(MOCK_OPTS(&o, "t", dir, "token_env = SITREP_NO_SUCH_VAR"), "token",
                               &v, err, sizeof err),
                 0);
    cr_assert(strstr(err, "SITREP_NO_SUCH_VAR is not set"), "%s", err);
    cr_assert_lt(sr_map_secret(MOCK_OPTS(&o, "t", dir, "password = hunter2"), "password", &v, err,
                               sizeof err),
                 0);
    cr_assert(strstr(err, "not written in the config"), "%s", err);
    cr_assert_eq(sr_map_secret(MOCK_OPTS(&o, "t", dir, "x = y"), "password", &v, err, sizeof err),
                 0);
    cr_assert_null(v);
    th_rmtree(dir);
}

/* ---- csvrows ---- */

static const char CSV[] = "\xEF\xBB\xBF"
                          "unit,\"value\",note\r\n"
                          "a,1,plain\r\n"
                          "\r\n"
                          "b,\"1,234.5\",\"two\r\nlines\"\r\n"
                          "c,2\r\n"
                          "d,x,\"quote \"\" inside\"\r\n"
                          "e,3,last";

static void check_csv_result(const mock_sink *s, const sr_csvrows *r)
{
    cr_assert_eq(s->n, 3, "samples: %zu", s->n);
    cr_assert_str_eq(s->s[0].entity, "f/a");
    cr_assert_eq(s->s[1].value, 1234.5);
    cr_assert_str_eq(s->s[2].entity, "f/e");
    cr_assert_eq(s->nr, 2);
    cr_assert_str_eq(s->r[0].where, "line 6");
    cr_assert(strstr(s->r[0].reason, "row has 2 fields, the header has 3"), "%s", s->r[0].reason);
    cr_assert_str_eq(s->r[0].raw, "c,2");
    cr_assert_str_eq(s->r[1].where, "line 7");
    cr_assert(strstr(s->r[1].reason, "not a number: 'x'"), "%s", s->r[1].reason);
    cr_assert_str_eq(s->r[1].raw, "d,x,\"quote \"\" inside\"");
    sr_csvrows_stats st;
    sr_csvrows_stats_get(r, &st);
    cr_assert_eq(st.rows, 5);
    cr_assert_eq(st.emitted, 3);
    cr_assert_eq(st.rejected, 2);
}

Test(csvrows, whole_and_byte_by_byte)
{
    mock_options o;
    sr_map *m = MAP(&o, "metric = m", "entity = f/{unit}", "value = value");
    for (int mode = 0; mode < 2; mode++) {
        sr_csvrows *r;
        char err[512];
        cr_assert_eq(sr_csvrows_create(m, ',', &r, err, sizeof err), 0);
        mock_sink s;
        mock_sink_init(&s);
        size_t n = sizeof CSV - 1;
        if (mode == 0) {
            cr_assert_eq(sr_csvrows_feed(r, CSV, n, 5, &s.sink, err, sizeof err), 0, "%s", err);
        } else {
            for (size_t i = 0; i < n; i++)
                cr_assert_eq(sr_csvrows_feed(r, CSV + i, 1, 5, &s.sink, err, sizeof err), 0);
        }
        /* the last row has no line ending: it waits */
        cr_assert_eq(s.n, 2);
        cr_assert(sr_csvrows_pending(r));
        cr_assert_eq(sr_csvrows_finish(r, 5, &s.sink, err, sizeof err), 0);
        cr_assert_not(sr_csvrows_pending(r));
        check_csv_result(&s, r);
        mock_sink_fini(&s);
        sr_csvrows_destroy(r);
    }
    sr_map_destroy(m);
}

Test(csvrows, header_missing_a_field_and_reset)
{
    mock_options o;
    sr_map *m = MAP(&o, "metric = m", "entity = f/{unit}", "value = value");
    sr_csvrows *r;
    char err[512] = "";
    cr_assert_eq(sr_csvrows_create(m, '\t', &r, err, sizeof err), 0);
    mock_sink s;
    mock_sink_init(&s);
    const char bad[] = "unit\tamount\nA\t1\n";
    cr_assert_eq(sr_csvrows_feed(r, bad, sizeof bad - 1, 0, &s.sink, err, sizeof err),
                 SR_CSVROWS_EHEADER);
    cr_assert(strstr(err, "field 'value' is not in the header"), "%s", err);
    err[0] = 0;
    cr_assert_eq(sr_csvrows_feed(r, "B\t2\n", 4, 0, &s.sink, err, sizeof err), SR_CSVROWS_EHEADER);
    cr_assert(strstr(err, "'value'"));
    sr_csvrows_reset(r);
    const char good[] = "value\tunit\n7\tA\n";
    cr_assert_eq(sr_csvrows_feed(r, good, sizeof good - 1, 0, &s.sink, err, sizeof err), 0);
    cr_assert_eq(s.n, 1);
    cr_assert_str_eq(s.s[0].entity, "f/A");
    cr_assert_eq(s.s[0].value, 7);
    mock_sink_fini(&s);
    sr_csvrows_destroy(r);
    sr_map_destroy(m);
}

Test(csvrows, unclosed_quote_is_bounded)
{
    mock_options o;
    sr_map *m = MAP(&o, "metric = m", "entity = f/{unit}", "value = value");
    sr_csvrows *r;
    char err[512] = "";
    cr_assert_eq(sr_csvrows_create(m, ',', &r, err, sizeof err), 0);
    mock_sink s;
    mock_sink_init(&s);
    cr_assert_eq(sr_csvrows_feed(r, "unit,value\n\"a,", 13, 0, &s.sink, err, sizeof err), 0);
    char *junk = malloc(1 << 16);
    memset(junk, 'x', 1 << 16);
    for (int i = 0; i < 40; i++) /* 2.5 MiB inside one quoted field */
        cr_assert_eq(sr_csvrows_feed(r, junk, 1 << 16, 0, &s.sink, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.nr, 1, "the runaway row is rejected once");
    cr_assert(strstr(s.r[0].reason, "longer than"), "%s", s.r[0].reason);
    free(junk);
    mock_sink_fini(&s);
    sr_csvrows_destroy(r);
    sr_map_destroy(m);
}

Test(csvrows, rows_after_a_cr_have_the_line_they_start_on)
{
    mock_options o;
    sr_map *m = MAP(&o, "metric = m", "entity = f/{unit}", "value = value");
    static const struct {
        char delim;
        const char *in, *where; /* the rejects' lines */
    } cases[] = {
        /* 'a' spans lines 2-3 and ends with a CR; 'b' follows on line 3 */
        {',', "unit,value\na,\"1\nx\"\rb\n", "2 3"},
        /* a quoted first field that spans lines, after a CR */
        {',', "unit,value\na,1\r\"b\nc\",x\n", "2"},
        /* a line that starts with a lone CR, then a row */
        {',', "unit,value\r\na\r\n\r,x\r\n", "2 3"},
        /* a TSV row of empty fields */
        {'\t', "unit\tvalue\na\n\t\t\n", "2 3"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (size_t step = 1; step <= 3; step++) {
            sr_csvrows *r;
            char err[512] = "";
            cr_assert_eq(sr_csvrows_create(m, cases[c].delim, &r, err, sizeof err), 0);
            mock_sink s;
            mock_sink_init(&s);
            size_t len = strlen(cases[c].in);
            for (size_t i = 0; i < len;) {
                size_t n = step == 3 ? len : step;
                n = n < len - i ? n : len - i;
                cr_assert_eq(sr_csvrows_feed(r, cases[c].in + i, n, 0, &s.sink, err, sizeof err),
                             0);
                i += n;
            }
            char got[64] = "";
            for (size_t k = 0; k < s.nr; k++) {
                cr_assert_eq(strncmp(s.r[k].where, "line ", 5), 0);
                snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", k ? " " : "",
                         s.r[k].where + 5);
            }
            cr_assert_str_eq(got, cases[c].where, "case %zu, slices of %zu", c, step);
            mock_sink_fini(&s);
            sr_csvrows_destroy(r);
        }
    }
    sr_map_destroy(m);
}

Test(csvrows, flush_maps_a_waiting_row_and_the_stream_goes_on)
{
    mock_options o;
    sr_map *m = MAP(&o, "metric = m", "entity = f/{unit}", "value = value");
    sr_csvrows *r;
    char err[512] = "";
    cr_assert_eq(sr_csvrows_create(m, ',', &r, err, sizeof err), 0);
    mock_sink s;
    mock_sink_init(&s);
    const char a[] = "unit,value\r\na,1\r\nb,2";
    cr_assert_eq(sr_csvrows_feed(r, a, sizeof a - 1, 0, &s.sink, err, sizeof err), 0);
    cr_assert_eq(s.n, 1);
    cr_assert_eq(sr_csvrows_flush(r, 0, &s.sink, err, sizeof err), 0);
    cr_assert_eq(s.n, 2);
    cr_assert_eq(s.s[1].value, 2);
    cr_assert_not(sr_csvrows_pending(r));
    cr_assert_eq(sr_csvrows_flush(r, 0, &s.sink, err, sizeof err), 0);
    cr_assert_eq(s.n, 2, "a second flush maps nothing");
    /* the row's own line ending comes later; the header still holds */
    const char b[] = "\r\nc,3\r\nd,\"open";
    cr_assert_eq(sr_csvrows_feed(r, b, sizeof b - 1, 0, &s.sink, err, sizeof err), 0);
    cr_assert_eq(s.n, 3);
    cr_assert_str_eq(s.s[2].entity, "f/c");
    /* inside a quoted field: it keeps waiting */
    cr_assert_eq(sr_csvrows_flush(r, 0, &s.sink, err, sizeof err), 0);
    cr_assert_eq(s.n, 3);
    cr_assert(sr_csvrows_pending(r));
    const char c[] = "\",4\r\ne,x\r\n";
    cr_assert_eq(sr_csvrows_feed(r, c, sizeof c - 1, 0, &s.sink, err, sizeof err), 0);
    cr_assert_eq(s.n, 3);
    cr_assert_eq(s.nr, 2, "rejects: %zu", s.nr);
    /* line numbers count the file's lines across the flush */
    cr_assert_str_eq(s.r[0].where, "line 5");
    cr_assert(strstr(s.r[0].reason, "row has 3 fields, the header has 2"), "%s", s.r[0].reason);
    cr_assert_str_eq(s.r[0].raw, "d,open,4");
    cr_assert_str_eq(s.r[1].where, "line 6");
    mock_sink_fini(&s);
    sr_csvrows_destroy(r);
    sr_map_destroy(m);
}

/* A csvrows reader over the map of unit and value, into a mock sink. */
typedef struct {
    mock_options o;
    sr_map *m;
    sr_csvrows *r;
    mock_sink s;
    char err[512];
} unit_reader;

static void unit_reader_init(unit_reader *u)
{
    u->m = MAP(&u->o, "metric = m", "entity = f/{unit}", "value = value");
    u->err[0] = '\0';
    cr_assert_eq(sr_csvrows_create(u->m, ',', &u->r, u->err, sizeof u->err), 0);
    mock_sink_init(&u->s);
}

static void unit_reader_fini(unit_reader *u)
{
    mock_sink_fini(&u->s);
    sr_csvrows_destroy(u->r);
    sr_map_destroy(u->m);
}

Test(csvrows, quoting_is_strict_and_a_quote_open_at_the_end_is_rejected)
{
    /* the same rules as sitrep ingest (adapters/csvin.h): a stray quote
     * rejects its row, reading goes on at the next line */
    unit_reader u;
    unit_reader_init(&u);
    const char in[] = "unit,value,note\n"
                      "a,1,5\" ruler\n" /* 2: a quote in an unquoted field */
                      "b,2,\"x\"y\n"    /* 3: text after a closing quote */
                      "c,3,ok\n"        /* 4 */
                      "d,4,\"open\n"    /* 5: never closed */
                      "e,5,x\n";
    cr_assert_eq(sr_csvrows_feed(u.r, in, sizeof in - 1, 0, &u.s.sink, u.err, sizeof u.err), 0,
                 "%s", u.err);
    cr_assert_eq(sr_csvrows_flush(u.r, 0, &u.s.sink, u.err, sizeof u.err), 0);
    cr_assert(sr_csvrows_pending(u.r), "a row inside quotes waits for more");
    cr_assert_eq(sr_csvrows_finish(u.r, 0, &u.s.sink, u.err, sizeof u.err), 0, "%s", u.err);
    cr_assert_eq(u.s.n, 1, "samples: %zu", u.s.n);
    cr_assert_str_eq(u.s.s[0].entity, "f/c");
    cr_assert_eq(u.s.nr, 3, "rejects: %zu", u.s.nr);
    cr_assert_str_eq(u.s.r[0].where, "line 2");
    cr_assert_str_eq(u.s.r[0].reason, "malformed CSV: stray quote at line 2, byte 6");
    cr_assert_str_eq(u.s.r[0].raw, "a,1,5\" ruler");
    cr_assert_str_eq(u.s.r[1].where, "line 3");
    cr_assert_str_eq(u.s.r[1].reason,
                     "malformed CSV: text after a closing quote at line 3, byte 8");
    cr_assert_str_eq(u.s.r[2].where, "line 5");
    cr_assert_str_eq(u.s.r[2].reason,
                     "malformed CSV: quoted field not closed at the end of the file");
    cr_assert_str_eq(u.s.r[2].raw, "d,4,\"open\ne,5,x");
    sr_csvrows_stats st;
    sr_csvrows_stats_get(u.r, &st);
    cr_assert_eq(st.rows, 4);
    cr_assert_eq(st.rejected, 3);
    unit_reader_fini(&u);
}

Test(csvrows, a_nul_in_any_field_rejects_and_blank_rows_are_counted)
{
    /* `""` before the header and among the rows is a blank line, as for
     * sitrep ingest; a NUL byte rejects its row even in a column the map
     * does not read */
    unit_reader u;
    unit_reader_init(&u);
    static const char in[] = "\"\"\nunit,value,note\n\"\"\na,1,x\0y\nb,2,z\n";
    cr_assert_eq(sr_csvrows_feed(u.r, in, sizeof in - 1, 0, &u.s.sink, u.err, sizeof u.err), 0,
                 "%s", u.err);
    cr_assert_eq(u.s.n, 1);
    cr_assert_str_eq(u.s.s[0].entity, "f/b");
    cr_assert_eq(u.s.nr, 1);
    cr_assert_str_eq(u.s.r[0].where, "line 4");
    cr_assert_str_eq(u.s.r[0].reason, "NUL byte in field note");
    cr_assert_str_eq(u.s.r[0].raw, "a,1,x\\0y");
    sr_csvrows_stats st;
    sr_csvrows_stats_get(u.r, &st);
    cr_assert_eq(st.blank, 2);
    cr_assert_eq(st.rows, 2);
    cr_assert_eq(st.lines, 5);
    unit_reader_fini(&u);
}

/* ---- jsonrow ---- */

Test(jsonrow, values_of_every_type)
{
    mock_options o;
    sr_map *m = MAP(&o, "metric = m_{kind}", "entity = f/{unit.id}", "value = v", "key = id");
    json_error_t je;
    json_t *doc =
        json_loads("{\"kind\": true, \"unit\": {\"id\": 12}, \"v\": 0.1, \"id\": null}", 0, &je);
    cr_assert_not_null(doc);
    const char *vals[8];
    char buf[256], err[128];
    cr_assert_eq(sr_jsonrow_values(m, doc, buf, sizeof buf, vals, err, sizeof err), 0, "%s", err);
    mock_sink s;
    mock_sink_init(&s);
    /* id is null: no value for key -> rejected */
    cr_assert_eq(sr_map_row(m, vals, 0, "item 0", "{}", &s.sink), SR_MAP_REJECTED);
    json_object_set_new(doc, "id", json_integer(42));
    cr_assert_eq(sr_jsonrow_values(m, doc, buf, sizeof buf, vals, err, sizeof err), 0);
    cr_assert_eq(sr_map_row(m, vals, 0, "item 1", "{}", &s.sink), SR_MAP_EMITTED);
    cr_assert_str_eq(s.s[0].metric, "m_true");
    cr_assert_str_eq(s.s[0].entity, "f/12");
    cr_assert_str_eq(s.s[0].key, "42");
    cr_assert_eq(s.s[0].value, 0.1);
    char raw[16];
    sr_jsonrow_raw(doc, raw, sizeof raw);
    cr_assert_eq(strlen(raw), 15);
    cr_assert_str_eq(raw + 12, "...");
    json_t *arr = json_array();
    cr_assert_lt(sr_jsonrow_values(m, arr, buf, sizeof buf, vals, err, sizeof err), 0);
    json_decref(arr);
    json_decref(doc);
    mock_sink_fini(&s);
    sr_map_destroy(m);
}

/* ---- value maps ({Field|NAME}) and duplicate column names ---- */

/* [map.prio] as the config passes it: a 911 export's "Response Type" into
 * the suffixes of three metrics, one entry a path for an entity. */
static const sr_ad_option PRIO[] = {
    {"Priority 1 - Emergency", "p1", 10},
    {"Priority 2 - Urgent", "p2", 11},
    {"\"default\"", "p-default", 12},
    {"default", "other", 13},
};
static const sr_ad_option AREA[] = {{"N", "north/east", 20}};
static const sr_ad_valmap MAPS[] = {{"prio", PRIO, 4, 9}, {"area", AREA, 1, 19}};

static sr_map *vmap_of(mock_options *o, const char *const *kv, size_t n, size_t n_maps)
{
    mock_opts(o, "t", ".", kv, n);
    o->opts.maps = MAPS;
    o->opts.n_maps = n_maps;
    sr_map *m = NULL;
    char err[512] = "";
    cr_assert_eq(sr_map_create(&o->opts, &m, err, sizeof err), 0, "create: %s", err);
    return m;
}

Test(map, value_map_turns_values_into_metric_suffixes)
{
    mock_options o;
    const char *kv[] = {"metric = response_{Response Type|prio}", "entity = f/{Area|area}/{Beat}",
                        "value = 1"};
    sr_map *m = vmap_of(&o, kv, 3, 2);
    mock_sink s;
    mock_sink_init(&s);
    cr_assert_eq(ROW(m, &s, "Response Type=Priority 1 - Emergency", "Area=N", "Beat=b/1"),
                 SR_MAP_EMITTED);
    cr_assert_eq(ROW(m, &s, "Response Type= Priority 2 - Urgent ", "Area=N", "Beat=b2"),
                 SR_MAP_EMITTED);
    cr_assert_eq(ROW(m, &s, "Response Type=Welfare check", "Area=N", "Beat=b3"), SR_MAP_EMITTED);
    cr_assert_eq(ROW(m, &s, "Response Type=default", "Area=N", "Beat=b3"), SR_MAP_EMITTED);
    cr_assert_eq(s.n, 4);
    cr_assert_str_eq(s.s[0].metric, "response_p1");
    /* a mapped value is config text: its '/' separates levels; a raw one's does not */
    cr_assert_str_eq(s.s[0].entity, "f/north/east/b-1");
    cr_assert_str_eq(s.s[1].metric, "response_p2");
    cr_assert_str_eq(s.s[2].metric, "response_other");
    cr_assert_str_eq(s.s[3].metric, "response_p-default");
    /* no entry and no default: rejected with its reason */
    cr_assert_eq(ROW(m, &s, "Response Type=P1", "Area=S", "Beat=b"), SR_MAP_REJECTED);
    cr_assert_eq(s.nr, 1);
    cr_assert_str_eq(s.r[0].where, "line 2");
    cr_assert(strstr(s.r[0].reason, "no value map entry for 'S' in [map.area]"), "%s",
              s.r[0].reason);
    mock_sink_fini(&s);
    sr_map_destroy(m);
}

Test(map, an_unknown_value_map_names_the_key_and_the_maps)
{
    mock_options o;
    const char *kv[] = {"metric = m", "entity = e/{Area|zone}", "value = 1"};
    mock_opts(&o, "t", ".", kv, 3);
    o.opts.maps = MAPS;
    o.opts.n_maps = 2;
    sr_map *m = NULL;
    char err[512] = "";
    cr_assert_lt(sr_map_create(&o.opts, &m, err, sizeof err), 0);
    cr_assert(strstr(err, "entity: no value map [map.zone] in the config (have: [map.prio], "
                          "[map.area])"),
              "%s", err);
    FAILS("metric: no field name before '|'", "metric = a{|prio}", "entity = e", "value = 1");
}

/* The sink sees where the sample came from while emit runs. */
static char seen_where[64], seen_raw[64];
static int note_emit(sr_sink *k, const sr_ad_sample *smp)
{
    (void)smp;
    snprintf(seen_where, sizeof seen_where, "%s", k->where ? k->where : "(null)");
    snprintf(seen_raw, sizeof seen_raw, "%s", k->raw ? k->raw : "(null)");
    return 0;
}

Test(map, emit_is_told_the_line_and_the_raw_input)
{
    mock_options o;
    sr_map *m = MAP(&o, "metric = m", "entity = e", "value = 1");
    mock_sink s;
    mock_sink_init(&s);
    s.sink.emit = note_emit;
    cr_assert_eq(ROW(m, &s, "x=1"), SR_MAP_EMITTED);
    cr_assert_str_eq(seen_where, "line 2");
    cr_assert_str_eq(seen_raw, "raw");
    cr_assert_null(s.sink.where);
    cr_assert_null(s.sink.raw);
    mock_sink_fini(&s);
    sr_map_destroy(m);
}

Test(map, the_second_of_two_columns_with_one_name)
{
    mock_options o;
    sr_map *m = MAP(&o, "metric = m", "entity = e/{Inc Type Desc}/{Inc Type Desc#2}", "value = 1");
    size_t col[4];
    char err[512], msg[512];
    const char *h[] = {"Inc Type Desc", "Unit", "Inc Type Desc"};
    cr_assert_eq(sr_map_bind(m, h, 3, col, err, sizeof err), 0, "%s", err);
    for (size_t f = 0; f < sr_map_field_count(m); f++)
        cr_assert_eq(col[f], strcmp(sr_map_field_name(m, f), "Inc Type Desc") == 0 ? 0u : 2u);
    cr_assert_eq(sr_map_header_warning(m, h, 3, msg, sizeof msg), 1);
    cr_assert(strstr(msg, "two columns named 'Inc Type Desc' (columns 1 and 3)"), "%s", msg);
    cr_assert(strstr(msg, "{Inc Type Desc#2}"), "%s", msg);
    const char *h1[] = {"Inc Type Desc", "Unit"};
    cr_assert_lt(sr_map_bind(m, h1, 2, col, err, sizeof err), 0);
    cr_assert(strstr(err, "fewer columns named 'Inc Type Desc'"), "%s", err);
    cr_assert_eq(sr_map_header_warning(m, h1, 2, msg, sizeof msg), 0);
    /* a column really called "x#2" is itself */
    sr_map *m2 = MAP(&o, "metric = m", "entity = e/{x#2}", "value = 1");
    const char *h2[] = {"x", "x#2", "x"};
    cr_assert_eq(sr_map_bind(m2, h2, 3, col, err, sizeof err), 0, "%s", err);
    cr_assert_eq(col[0], 1);
    sr_map_destroy(m2);
    sr_map_destroy(m);
}

Test(csvrows, a_header_with_a_name_twice_is_said_once_at_line_1)
{
    mock_options o;
    sr_map *m = MAP(&o, "metric = m", "entity = f/{Desc}", "value = v");
    sr_csvrows *r;
    char err[512];
    cr_assert_eq(sr_csvrows_create(m, ',', &r, err, sizeof err), 0);
    mock_sink s;
    mock_sink_init(&s);
    const char csv[] = "Desc,v,Desc\na,1,b\n";
    cr_assert_eq(sr_csvrows_feed(r, csv, sizeof csv - 1, 5, &s.sink, err, sizeof err), 0, "%s",
                 err);
    cr_assert_eq(s.n, 1);
    cr_assert_str_eq(s.s[0].entity, "f/a");
    cr_assert_eq(s.nr, 1);
    cr_assert_str_eq(s.r[0].where, "line 1");
    cr_assert_str_eq(s.r[0].raw, "Desc,v,Desc");
    cr_assert(strstr(s.r[0].reason, "two columns named 'Desc'"), "%s", s.r[0].reason);
    mock_sink_fini(&s);
    sr_csvrows_destroy(r);
    sr_map_destroy(m);
}

/* ---- DST: one rule, zoneinfo's fold = 0 ---- */

/* America/Chicago 2017: clocks go from 02:00 CST to 03:00 CDT on March 12
 * (02:30 never happens) and from 02:00 CDT back to 01:00 CST on November 5
 * (01:30 happens twice). As Python's zoneinfo with fold = 0: 02:30 is
 * 08:30 UTC (03:30 CDT), 01:30 is its first occurrence, 06:30 UTC (CDT).
 * Asked in any order, after any other time (glibc's mktime with
 * tm_isdst = -1 answers the ambiguous one from what it was asked before). */
Test(map, dst_gaps_and_overlaps_as_zoneinfo_fold_0)
{
    mock_options o;
    sr_map *m = MAP(&o, "metric = m", "entity = e", "value = 1", "time = t",
                    "time_format = %m/%d/%Y %I:%M:%S %p", "timezone = America/Chicago");
    static const char *const before[] = {"11/05/2017 03:00:00 AM", "11/05/2017 01:30:00 AM",
                                         "03/12/2017 01:30:00 AM", "11/05/2017 02:30:00 AM"};
    for (size_t round = 0; round < 4; round++) {
        mock_sink s;
        mock_sink_init(&s);
        char t[64];
        /* another time first, and eight other hours to empty the hour memo */
        snprintf(t, sizeof t, "t=%s", before[round]);
        cr_assert_eq(ROW(m, &s, t), SR_MAP_EMITTED);
        for (int h = 0; h < 8; h++) {
            snprintf(t, sizeof t, "t=%02d/%02d/2016 0%d:00:00 %s", 5 + (int)round, 1 + h, 1 + h,
                     h % 2 ? "AM" : "PM");
            cr_assert_eq(ROW(m, &s, t), SR_MAP_EMITTED);
        }
        cr_assert_eq(
            ROW(m, &s, round % 2 ? "t=03/12/2017 02:30:00 AM" : "t=11/05/2017 01:30:00 AM"),
            SR_MAP_EMITTED);
        cr_assert_eq(
            ROW(m, &s, round % 2 ? "t=11/05/2017 01:30:00 AM" : "t=03/12/2017 02:30:00 AM"),
            SR_MAP_EMITTED);
        int64_t gap = s.s[s.n - (round % 2 ? 2 : 1)].ts_ms;
        int64_t twice = s.s[s.n - (round % 2 ? 1 : 2)].ts_ms;
        cr_assert_eq(gap, 1489307400000LL, "round %zu: 02:30 -> %lld, expected 08:30Z", round,
                     (long long)gap);
        cr_assert_eq(twice, 1509863400000LL, "round %zu: 01:30 -> %lld, expected 06:30Z", round,
                     (long long)twice);
        mock_sink_fini(&s);
    }
    /* the same rule for naive ISO times and for the host's own function */
    int64_t ms;
    cr_assert_eq(sr_parse_time("2017-11-05T01:30:00", "America/Chicago", &ms), 0);
    cr_assert_eq(ms, 1509863400000LL);
    cr_assert_eq(sr_local_to_utc("America/Chicago", 2017, 3, 12, 2, 30, 0, &ms), 0);
    cr_assert_eq(ms, 1489307400000LL);
    sr_map_destroy(m);
}
