/*
 * test_reference.c - the three public reference files of tests/fixtures/
 * end to end, through the real sitrep binary and the csv adapter: each
 * example config of adapters/examples/ (its paths pointed at the fixtures,
 * its cache at a temporary directory, nothing else changed) is read with
 * `collect --once`, then checked with `query --format json`, `rejects` and
 * `sources --format json` against the figures computed without sitrep in
 * the .expected files of tests/fixtures/ (see its README.md).
 */
#include <criterion/criterion.h>

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../helpers.h"

typedef struct {
    char dir[256];
    char config[512];
} ref;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = calloc((size_t)n + 1, 1);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return s;
}

/*
 * Writes adapters/examples/NAME.ini into a temporary directory with its
 * fixture paths made absolute and its cache line pointing there, then
 * reads every source once.
 */
static void ref_collect(ref *r, const char *name, const char *expect_line)
{
    th_tempdir(r->dir, sizeof r->dir);
    char fixtures[PATH_MAX], p[PATH_MAX + 64];
    th_fixture(p, sizeof p, ".");
    cr_assert_not_null(realpath(p, fixtures), "no fixtures at %s", p);
    snprintf(p, sizeof p, "%s/../../adapters/examples/%s.ini", fixtures, name);
    char *text = slurp(p);
    snprintf(r->config, sizeof r->config, "%s/%s.ini", r->dir, name);
    FILE *out = fopen(r->config, "w");
    cr_assert_not_null(out);
    int paths = 0, caches = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        const char *rel = "../../tests/fixtures/";
        char *at = strstr(line, rel);
        if (strncmp(line, "path = ", 7) == 0 && at) {
            fprintf(out, "path = %s/%s\n", fixtures, at + strlen(rel));
            paths++;
        } else if (strncmp(line, "cache = ", 8) == 0) {
            fprintf(out, "cache = %s/cache.db\n", r->dir);
            caches++;
        } else {
            fprintf(out, "%s\n", line);
        }
    }
    fclose(out);
    free(text);
    cr_assert_geq(paths, 1, "%s: no path into tests/fixtures", name);
    cr_assert_eq(caches, 1, "%s: no cache line", name);

    char *o, *e;
    char *argv[] = {"collect", "--once", "--config", r->config, NULL};
    int rc = th_run(NULL, argv, &o, &e);
    cr_assert_eq(rc, 0, "collect --once failed (%d):\n%s%s", rc, o, e);
    cr_assert(strstr(o, expect_line), "expected '%s' in:\n%s", expect_line, o);
    free(o);
    free(e);
}

static void ref_fini(ref *r)
{
    th_rmtree(r->dir);
}

/* One row of `sitrep query --format json`. */
typedef struct {
    char entity[128];
    double value; /* NAN for null */
    long long n;
} qrow;

/* Runs `query METRIC --agg AGG --from FROM --to TO [--entity E] [--by children]`;
 * returns the number of rows (at most max). */
static size_t ref_query(const ref *r, const char *metric, const char *entity, const char *agg,
                        const char *from, const char *to, int by_children, qrow *rows, size_t max)
{
    char *argv[20] = {"query", (char *)metric, "--config", (char *)r->config,
                      "--agg", (char *)agg,    "--from",   (char *)from,
                      "--to",  (char *)to,     "--format", "json"};
    int n = 12;
    if (entity) {
        argv[n++] = "--entity";
        argv[n++] = (char *)entity;
    }
    if (by_children) {
        argv[n++] = "--by";
        argv[n++] = "children";
    }
    argv[n] = NULL;
    char *o, *e;
    int rc = th_run(NULL, argv, &o, &e);
    cr_assert_eq(rc, 0, "query %s %s failed: %s", metric, agg, e);
    json_error_t jerr;
    json_t *root = json_loads(o, 0, &jerr);
    cr_assert_not_null(root, "not JSON (%s): %s", jerr.text, o);
    json_t *arr = json_object_get(root, "rows");
    cr_assert(json_is_array(arr), "%s", o);
    size_t k = 0;
    for (; k < json_array_size(arr) && k < max; k++) {
        json_t *row = json_array_get(arr, k), *v = json_object_get(row, "value");
        snprintf(rows[k].entity, sizeof rows[k].entity, "%s",
                 json_string_value(json_object_get(row, "entity")));
        rows[k].value = json_is_number(v) ? json_number_value(v) : NAN;
        rows[k].n = (long long)json_integer_value(json_object_get(row, "n"));
    }
    json_decref(root);
    free(o);
    free(e);
    return k;
}

/* The same value as written in an .expected file (exact, or the nearest
 * double of an exact rational: within a few ulps after sitrep's sums). */
static int same(double got, double want)
{
    return fabs(got - want) <= 1e-9 * fmax(1, fabs(want));
}

typedef struct {
    char metric[64], entity[64], agg[32], method[32];
    double value;
    long long n;
} expect;

/* The figures of an .expected file, comments skipped; returns how many. */
static size_t read_expected(const char *name, expect *out, size_t max)
{
    char path[PATH_MAX];
    th_fixture(path, sizeof path, name);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot read %s", path);
    char line[512];
    size_t k = 0;
    while (fgets(line, sizeof line, f) && k < max) {
        if (line[0] == '#')
            continue;
        expect *x = &out[k];
        cr_assert_eq(sscanf(line, "%63s %63s %31s %31s %lf %lld", x->metric, x->entity, x->agg,
                            x->method, &x->value, &x->n),
                     6, "%s: %s", name, line);
        k++;
    }
    fclose(f);
    return k;
}

/* The agg a figure is queried with: mean is avg; pNN by the metric's own
 * method (nearest_rank in the example configs). */
static const char *agg_of(const expect *x)
{
    if (strcmp(x->agg, "mean") == 0)
        return "avg";
    if (strcmp(x->agg, "count") == 0 || strcmp(x->method, "linear") == 0)
        return NULL;
    return x->agg;
}

/* `sitrep rejects --source NAME`: the total, and how many give reason. */
static void ref_rejects(const ref *r, const char *source, long long *total, long long *with,
                        const char *reason)
{
    char *o, *e;
    char *argv[] = {"rejects",      "--config", (char *)r->config, "--source",
                    (char *)source, "--limit",  "100000",          NULL};
    cr_assert_eq(th_run(NULL, argv, &o, &e), 0, "%s", e);
    cr_assert_eq(sscanf(o, "%lld rejected row", total), 1, "%s", o);
    *with = 0;
    for (const char *p = o; (p = strstr(p, reason)); p++) {
        /* "... SOURCE  line N: REASON" */
        const char *ls = p;
        while (ls > o && ls[-1] != '\n')
            ls--;
        cr_assert(strstr(ls, "  line ") && strstr(ls, "  line ") < p, "no line in: %.200s", ls);
        (*with)++;
    }
    free(o);
    free(e);
}

/* `sitrep sources --format json`: the counters of one source, which is live. */
static void ref_source(const ref *r, const char *source, long long *acc, long long *dup,
                       long long *rej)
{
    char *o, *e;
    char *argv[] = {"sources", "--config", (char *)r->config, "--format", "json", NULL};
    cr_assert_eq(th_run(NULL, argv, &o, &e), 0, "%s", e);
    json_error_t jerr;
    json_t *root = json_loads(o, 0, &jerr), *found = NULL, *v;
    cr_assert_not_null(root, "not JSON (%s): %s", jerr.text, o);
    size_t i;
    json_array_foreach(json_object_get(root, "sources"), i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "name")), source) == 0)
            found = v;
    }
    cr_assert_not_null(found, "%s is not in: %s", source, o);
    cr_assert_str_eq(json_string_value(json_object_get(found, "type")), "csv");
    cr_assert_str_eq(json_string_value(json_object_get(found, "state")), "live", "%s", o);
    cr_assert(json_is_null(json_object_get(found, "last_error")), "%s", o);
    *acc = (long long)json_integer_value(json_object_get(found, "accepted"));
    *dup = (long long)json_integer_value(json_object_get(found, "duplicates"));
    *rej = (long long)json_integer_value(json_object_get(found, "rejected"));
    json_decref(root);
    free(o);
    free(e);
}

/* ---- Seattle calls for service (East/Charlie 2010-2023) ---- */

Test(reference, seattle_calls)
{
    ref r;
    ref_collect(&r, "seattle-calls", "seattle-calls: ok");
    long long acc, dup, rej, total, with;
    ref_source(&r, "seattle-calls", &acc, &dup, &rej);
    /* 275 calls: 51 ONVIEW filtered out, 66 without an arrival rejected */
    cr_assert_eq(acc, 158);
    cr_assert_eq(dup, 0);
    cr_assert_eq(rej, 66);
    ref_rejects(&r, "seattle-calls", &total, &with, "'Arrived Time' has no value");
    cr_assert_eq(total, 66);
    cr_assert_eq(with, 66, "every reject names the blank Arrived Time");

    expect x[200];
    size_t n = read_expected("seattle-response.expected", x, 200), checked = 0;
    for (size_t i = 0; i < n; i++) {
        const char *agg = agg_of(&x[i]);
        if (strcmp(x[i].metric, "*") == 0 || strcmp(x[i].agg, "within") == 0 || !agg)
            continue;
        qrow q;
        cr_assert_eq(
            ref_query(&r, x[i].metric, "seattle", agg, "2010-01-01", "2024-01-01", 0, &q, 1), 1);
        if (agg[0] == 'p' && x[i].n < 10) {
            /* no percentile over fewer than 10 observations (privacy.h) */
            cr_assert(isnan(q.value) && q.n == 0, "%s %s over %lld: %g", x[i].metric, agg, x[i].n,
                      q.value);
            checked++;
            continue;
        }
        cr_assert_eq(q.n, x[i].n, "%s %s: n %lld, expected %lld", x[i].metric, agg, q.n, x[i].n);
        cr_assert(same(q.value, x[i].value), "%s %s: %.17g, expected %.17g", x[i].metric, agg,
                  q.value, x[i].value);
        checked++;
    }
    cr_assert_eq(checked, 6 * 6, "figures checked: %zu", checked);
    ref_fini(&r);
}

/* ---- Seattle dispatch (January 2024, citywide) ---- */

Test(reference, seattle_dispatch)
{
    ref r;
    ref_collect(&r, "seattle-dispatch", "seattle-dispatch: ok");
    expect x[200];
    size_t n = read_expected("seattle-dispatch.expected", x, 200), checked = 0;

    long long acc, dup, rej, total, with;
    ref_source(&r, "seattle-dispatch", &acc, &dup, &rej);
    cr_assert_eq(x[0].n, 131);
    cr_assert_str_eq(x[0].agg, "rejected");
    cr_assert_eq(acc, 1000 - x[0].n);
    cr_assert_eq(dup, 0);
    cr_assert_eq(rej, x[0].n);
    ref_rejects(&r, "seattle-dispatch", &total, &with, "'first_response_time' has no value");
    cr_assert_eq(total, x[0].n);
    cr_assert_eq(with, x[0].n);

    /* the whole city, then every precinct at once (--by children) */
    static const char *const aggs[] = {"p50", "p90", "p95", "min", "max", "avg"};
    for (size_t a = 0; a < sizeof aggs / sizeof aggs[0]; a++) {
        qrow all, kids[8];
        cr_assert_eq(ref_query(&r, "first_response", "seattle", aggs[a], "2024-01-01", "2024-01-05",
                               0, &all, 1),
                     1);
        size_t nk = ref_query(&r, "first_response", "seattle", aggs[a], "2024-01-01", "2024-01-05",
                              1, kids, 8);
        cr_assert_eq(nk, 5, "precincts: %zu", nk);
        for (size_t i = 0; i < n; i++) {
            const char *agg = agg_of(&x[i]);
            if (!agg || strcmp(agg, aggs[a]) != 0)
                continue;
            const qrow *q = NULL;
            if (strcmp(x[i].entity, "seattle") == 0)
                q = &all;
            for (size_t k = 0; k < nk && !q; k++) {
                if (strcmp(kids[k].entity, x[i].entity) == 0)
                    q = &kids[k];
            }
            cr_assert_not_null(q, "%s not in the query's rows", x[i].entity);
            cr_assert_eq(q->n, x[i].n, "%s %s: n %lld, expected %lld", x[i].entity, agg, q->n,
                         x[i].n);
            cr_assert(same(q->value, x[i].value), "%s %s: %.17g, expected %.17g", x[i].entity, agg,
                      q->value, x[i].value);
            checked++;
        }
    }
    cr_assert_eq(checked, 6 * 6, "figures checked: %zu", checked);

    /* calls per day in Seattle time: the queue time is read in its zone */
    size_t days = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(x[i].method, "day:", 4) != 0)
            continue;
        int y, m, d;
        cr_assert_eq(sscanf(x[i].method + 4, "%d-%d-%d", &y, &m, &d), 3);
        char from[48], to[48];
        snprintf(from, sizeof from, "%04d-%02d-%02d", y, m, d);
        snprintf(to, sizeof to, "%04d-%02d-%02d", y, m, d + 1);
        qrow q;
        cr_assert_eq(ref_query(&r, "first_response", "seattle", "count", from, to, 0, &q, 1), 1);
        cr_assert_eq(q.n, x[i].n, "%s: %lld calls, expected %lld", from, q.n, x[i].n);
        days++;
    }
    cr_assert_eq(days, 4);
    ref_fini(&r);
}

/* ---- Chicago overtime (monthly, 2017 - May 2018) ---- */

Test(reference, chicago_overtime)
{
    ref r;
    ref_collect(&r, "chicago-overtime", "chicago-overtime-cost: ok");
    long long acc, dup, rej;
    ref_source(&r, "chicago-overtime-cost", &acc, &dup, &rej);
    cr_assert_eq(acc, 17);
    cr_assert_eq(rej, 0);
    ref_source(&r, "chicago-overtime-hours", &acc, &dup, &rej);
    cr_assert_eq(acc, 17);
    cr_assert_eq(rej, 0);

    expect x[32];
    size_t n = read_expected("chicago-overtime.expected", x, 32), checked = 0;
    for (size_t i = 0; i < n; i++) {
        const char *w = x[i].method;
        char from[48], to[48];
        int y, m;
        if (strcmp(w, "all") == 0) {
            snprintf(from, sizeof from, "2017-01-01");
            snprintf(to, sizeof to, "2019-01-01");
        } else if (sscanf(w, "year:%d", &y) == 1 && !strchr(w, '-')) {
            snprintf(from, sizeof from, "%04d-01-01", y);
            snprintf(to, sizeof to, "%04d-01-01", y + 1);
        } else {
            cr_assert_eq(sscanf(w, "month:%d-%d", &y, &m), 2, "%s", w);
            snprintf(from, sizeof from, "%04d-%02d-01", y, m);
            snprintf(to, sizeof to, "%04d-%02d-01", m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1);
        }
        qrow q;
        cr_assert_eq(ref_query(&r, x[i].metric, "chicago", x[i].agg, from, to, 0, &q, 1), 1);
        cr_assert_eq(q.n, x[i].n, "%s %s: n %lld, expected %lld", x[i].metric, w, q.n, x[i].n);
        if (strcmp(x[i].agg, "sum") == 0)
            cr_assert(fabs(q.value - x[i].value) < 0.005, "%s %s: %.2f, expected %.2f", x[i].metric,
                      w, q.value, x[i].value);
        checked++;
    }
    cr_assert_eq(checked, 8);

    /* the 2017-18 total to the cent, in JSON as in text (it once lost its
     * cents to a 10-digit precision: 192793629.1, 192.8M USD) */
    char *o, *e;
    char *total[] = {"query",    "overtime_cost", "--config",   r.config, "--agg",
                     "sum",      "--from",        "2017-01-01", "--to",   "2019-01-01",
                     "--format", "json",          NULL};
    cr_assert_eq(th_run(NULL, total, &o, &e), 0, "%s", e);
    cr_assert(strstr(o, "\"value\": 192793629.14,"), "%s", o);
    free(o);
    free(e);
    total[10] = NULL;
    cr_assert_eq(th_run(NULL, total, &o, &e), 0, "%s", e);
    cr_assert(strstr(o, "192 793 629.14 USD"), "%s", o);
    free(o);
    free(e);

    /* Σ 2017 is the publicly reported figure */
    qrow q;
    ref_query(&r, "overtime_cost", "chicago", "sum", "2017-01-01", "2018-01-01", 0, &q, 1);
    cr_assert(fabs(q.value - 159154805.20) < 0.005, "%.2f", q.value);
    /* a month starts at midnight in Chicago: 06:00Z in winter, 05:00Z in summer */
    ref_query(&r, "overtime_cost", "chicago", "count", "2017-01-01T06:00:00Z",
              "2017-01-01T06:00:01Z", 0, &q, 1);
    cr_assert_eq(q.n, 1, "January 2017 is not at 2017-01-01T06:00Z");
    ref_query(&r, "overtime_cost", "chicago", "count", "2017-07-01T05:00:00Z",
              "2017-07-01T05:00:01Z", 0, &q, 1);
    cr_assert_eq(q.n, 1, "July 2017 is not at 2017-07-01T05:00Z");
    ref_fini(&r);
}

/* Collecting again reads the file again: nothing new, nothing counted twice. */
Test(reference, collecting_again_adds_nothing)
{
    ref r;
    ref_collect(&r, "chicago-overtime", "chicago-overtime-cost: ok in");
    char *o, *e;
    char *argv[] = {"collect", "--once", "--config", r.config, NULL};
    cr_assert_eq(th_run(NULL, argv, &o, &e), 0, "%s", e);
    cr_assert(strstr(o, "chicago-overtime-cost: ok in") && strstr(o, ": 0 new, 17 duplicate"), "%s",
              o);
    free(o);
    free(e);
    qrow q;
    ref_query(&r, "overtime_cost", "chicago", "sum", "2017-01-01", "2018-01-01", 0, &q, 1);
    cr_assert_eq(q.n, 12);
    cr_assert(fabs(q.value - 159154805.20) < 0.005, "%.2f", q.value);
    ref_fini(&r);
}
