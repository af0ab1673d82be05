/*
 * End-to-end tests of the command line: the real sitrep binary as a child
 * process on real files. check-config, ingest (counts, idempotency,
 * rejects), query on real public data against an independent computation,
 * a collector on the simulator stopped by a signal, snapshot, sources, and
 * an ingest killed with SIGKILL half-way.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../metrics/common.h"
#include "../../metrics/store.h"
#include "../helpers.h"

/* a fresh folder for each test, dir */
TH_TEMPDIR_SUITE(cli, dir);

static void path_in(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

static void write_in(const char *name, const char *text)
{
    char p[512];
    path_in(p, sizeof p, name);
    th_write_file(p, text);
}

/* sitrep ingest of file with cfg: exit 0, and says `says` (NULL: anything). */
static void ingest_ok(char *cfg, char *file, const char *says)
{
    char *out, *err;
    char *argv[] = {"ingest", "--config", cfg, file, NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    cr_assert(!says || strstr(out, says), "%s", out);
    free(out);
    free(err);
}

static const char small_ini[] = "[sitrep]\n"
                                "cache = cache.db\n"
                                "timezone = UTC\n"
                                "[metric.rt]\n"
                                "kind = event\n"
                                "unit = s\n"
                                "target = 10\n"
                                "[metric.ot]\n"
                                "kind = counter\n"
                                "[metric.nt]\n"
                                "kind = event\n";

Test(cli, check_config_names_every_error_with_its_line)
{
    write_in("bad.ini", "[sitrep]\n"
                        "timezone = Mars/Olympus\n"
                        "[metric.rt]\n"
                        "kind = event\n"
                        "taget = 900\n"
                        "[panel.p]\n"
                        "metric = nope\n");
    char cfg[512], *out, *err;
    path_in(cfg, sizeof cfg, "bad.ini");
    char *argv[] = {"check-config", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 2);
    char want[600];
    snprintf(want, sizeof want, "%s:2: ", cfg);
    cr_assert(strstr(err, want), "no error for line 2 in:\n%s", err);
    snprintf(want, sizeof want, "%s:5: ", cfg);
    cr_assert(strstr(err, want), "no error for line 5 in:\n%s", err);
    cr_assert(strstr(err, "did you mean 'target'"), "no suggestion in:\n%s", err);
    snprintf(want, sizeof want, "%s:7: ", cfg);
    cr_assert(strstr(err, want), "no error for line 7 in:\n%s", err);
    free(out);
    free(err);
}

Test(cli, check_config_runs_every_check_a_source_makes_of_its_options)
{
    /* What the collector's open() of each source refuses, check-config
     * refuses too, at the line of the option; without polling. */
    static const struct {
        int line;
        const char *says;
    } want[] = {
        {9, "[adapter.sh] command: '|' is a shell operator"},
        {12, "[adapter.web] url: "},
        {18, "[adapter.db] conninfo: holds a password"},
        {26, "[adapter.hdr] header: 'X-Auth-Token'"},
        {33, "[adapter.lite] query: must be one SELECT"},
        {40, "[adapter.file] delimiter: expected one character"},
        {47, "[adapter.cte] query: 'DELETE' writes to the database"},
    };
    write_in("bad.ini",
             "[sitrep]\ncache = c.db\n[metric.rt]\nkind = event\n"
             "[panel.p]\nmetric = rt\n"
             "[adapter.sh]\ntype = exec\ncommand = ls | grep x\n"               /* 9 */
             "[adapter.web]\ntype = http\nurl = http://u:pw@127.0.0.1/x.json\n" /* 12 */
             "metric = rt\nentity = force/{a}\nvalue = v\n"
             "[adapter.db]\ntype = postgres\n"
             "conninfo = host=127.0.0.1 dbname=x password=secret\n" /* 18 */
             "query = SELECT 1 AS v\nmetric = rt\nentity = force/a\nvalue = v\n"
             "[adapter.hdr]\ntype = http\nurl = http://127.0.0.1/x.json\n"
             "header = X-Auth-Token: abc\n" /* 26 */
             "metric = rt\nentity = force/{a}\nvalue = v\n"
             "[adapter.lite]\ntype = sqlite\npath = x.db\n"
             "query = DELETE FROM t\n" /* 33 */
             "metric = rt\nentity = force/a\nvalue = v\n"
             "[adapter.file]\ntype = csv\npath = x.csv\n"
             "delimiter = ab\n" /* 40 */
             "metric = rt\nentity = force/{a}\nvalue = v\n"
             "[adapter.cte]\ntype = sqlite\npath = x.db\n"
             "query = WITH d AS (SELECT 1 AS v) SELECT v FROM d; DELETE FROM t\n" /* 47 */
             "metric = rt\nentity = force/a\nvalue = v\n");
    char cfg[512], *out, *err;
    path_in(cfg, sizeof cfg, "bad.ini");
    char *argv[] = {"check-config", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 2, "%s", out);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char line[900];
        snprintf(line, sizeof line, "%s:%d: %s", cfg, want[i].line, want[i].says);
        cr_assert(strstr(err, line), "no '%s' in:\n%s", line, err);
    }
    free(out);
    free(err);

    /* A good config passes, and nothing is polled: the command would
     * leave a file, the csv file and the database do not exist yet. */
    write_in("good.ini", "[sitrep]\ncache = c.db\n[metric.rt]\nkind = event\n"
                         "[panel.p]\nmetric = rt\n"
                         "[adapter.sh]\ntype = exec\ncommand = touch polled\n"
                         "[adapter.file]\ntype = csv\npath = x.csv\ndelimiter = tab\n"
                         "metric = rt\nentity = force/{a}\nvalue = v\n"
                         "[adapter.lite]\ntype = sqlite\npath = x.db\n"
                         "query = SELECT v FROM t\nmetric = rt\nentity = force/a\nvalue = v\n");
    path_in(cfg, sizeof cfg, "good.ini");
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, ": ok: 1 metric, 3 adapters"), "%s", out);
    char polled[512];
    path_in(polled, sizeof polled, "polled");
    cr_assert_neq(access(polled, F_OK), 0, "check-config ran the command");
    free(out);
    free(err);
}

Test(cli, default_config_is_valid)
{
    char *out, *err;
    char *argv[] = {"check-config", "--config", "config.ini", NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "ok"), "%s", out);
    free(out);
    free(err);
}

/* One of a thing is not "1 things"; help has its own --help. */
Test(cli, check_config_counts_in_words_and_help_has_help)
{
    write_in("one.ini", "[sitrep]\ncache = c.db\n[metric.rt]\nkind = event\n"
                        "[adapter.cad]\ntype = sim\n[panel.p]\nmetric = rt\n");
    char cfg[512], *out, *err;
    path_in(cfg, sizeof cfg, "one.ini");
    char *argv[] = {"check-config", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, ": ok: 1 metric, 1 adapter, 1 panel; cache "), "%s", out);
    free(out);
    free(err);
    char *help[] = {"help", "--help", NULL};
    cr_assert_eq(th_run(NULL, help, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "Usage: sitrep help "), "%s", out);
    free(out);
    free(err);
}

Test(cli, implausible_times_and_values_are_rejected_with_the_reason)
{
    /* year 3 million, year 0, 1.7e308; accept_ahead lets a config take
     * times a little ahead of the clock (a source whose clock runs fast) */
    write_in("c.ini", "[sitrep]\ncache = cache.db\ntimezone = UTC\naccept_ahead = 30d\n"
                      "[metric.rt]\nkind = event\n");
    char ahead[32];
    snprintf(ahead, sizeof ahead, "%lld", (long long)(time(NULL) + 10 * 86400));
    char csv[600];
    snprintf(csv, sizeof csv,
             "metric,entity,ts,value,key\n"
             "rt,force/a,99999999999999,1,k1\n"
             "rt,force/a,0000-01-01T00:00:00Z,1,k2\n"
             "rt,force/a,1700000000,1.7e308,k3\n"
             "rt,force/a,1700000000,5,k4\n"
             "rt,force/a,%s,6,k5\n",
             ahead);
    write_in("s.csv", csv);
    char cfg[512], file[512], *out, *err;
    path_in(cfg, sizeof cfg, "c.ini");
    path_in(file, sizeof file, "s.csv");
    char *argv[] = {"ingest", "--config", cfg, file, NULL};
    th_run(NULL, argv, &out, &err);
    cr_assert(strstr(out, "2 accepted, 0 duplicates, 3 rejected"), "%s%s", out, err);
    free(out);
    free(err);
    char *rj[] = {"rejects", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, rj, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "line 2: time 3170843-11-07T09:46:39Z is more than 30d ahead of the "
                          "clock ([sitrep] accept_ahead)"),
              "%s", out);
    cr_assert(strstr(out, "line 3: time 0-01-01T00:00:00Z is before 1970-01-01"), "%s", out);
    cr_assert(strstr(out, "line 4: value 1.7e+308 beyond +-1e15"), "%s", out);
    free(out);
    free(err);
}

Test(cli, ingest_counts_keeps_rejects_and_is_idempotent)
{
    write_in("c.ini", small_ini);
    write_in("s.csv", "metric,entity,ts,value,key\n"
                      "rt,force/a/u1,2024-01-01T10:00:00Z,5,e1\n"
                      "rt,force/a/u2,2024-01-01T10:01:00Z,15,e2\n"
                      "rt,,2024-01-01T10:02:00Z,15,e3\n"
                      "nope,force/a/u2,2024-01-01T10:03:00Z,1,e4\n"
                      "ot,force/b,1704103200,2.5,\n"
                      "rt,force/b/u3,yesterday,1,e6\n");
    char cfg[512], csv[512], *out, *err;
    path_in(cfg, sizeof cfg, "c.ini");
    path_in(csv, sizeof csv, "s.csv");
    char *argv[] = {"ingest", "--config", cfg, csv, NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 3, "%s", err);
    char want[600];
    snprintf(want, sizeof want, "%s: 3 accepted, 0 duplicates, 3 rejected\n", csv);
    cr_assert_str_eq(out, want);
    free(out);
    free(err);
    /* again: nothing new */
    cr_assert_eq(th_run(NULL, argv, &out, &err), 3);
    snprintf(want, sizeof want, "%s: 0 accepted, 3 duplicates, 3 rejected\n", csv);
    cr_assert_str_eq(out, want);
    free(out);
    free(err);
    /* the rejects are kept, with line numbers and reasons, each row once */
    char *rargv[] = {"rejects", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, rargv, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "3 rejected rows"), "%s", out);
    cr_assert(strstr(out, "line 4: empty entity"), "%s", out);
    cr_assert(strstr(out, "line 5: unknown metric 'nope'"), "%s", out);
    cr_assert(strstr(out, "line 7: unparseable ts 'yesterday'"), "%s", out);
    free(out);
    free(err);
    /* and the data is there */
    char *qargv[] = {"query",      "rt",    "--config", cfg,        "--from", "2024-01-01", "--to",
                     "2024-01-02", "--agg", "sum",      "--format", "csv",    NULL};
    cr_assert_eq(th_run(NULL, qargv, &out, &err), 0, "%s", err);
    cr_assert_str_eq(out, "entity,agg,value,n\n,sum,20,2\n");
    free(out);
    free(err);
}

/* Options are read with getopt_long: after `--` every word is a file, even
 * one that starts with `--`; any number of files; options after files;
 * an unknown option is named with the closest known one. */
Test(cli, ingest_reads_every_file_after_a_double_dash)
{
    write_in("c.ini", small_ini);
    char name[32];
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "--f%d.csv", i);
        char row[128];
        snprintf(row, sizeof row,
                 "metric,entity,ts,value,key\nrt,force/a,2024-01-01T10:%02d:00Z,1,k%d\n", i, i);
        write_in(name, row);
    }
    char *out, *err;
    char *files[] = {"ingest",   "--",       "--f0.csv", "--f1.csv", "--f2.csv",
                     "--f3.csv", "--f4.csv", "--f5.csv", "--f6.csv", "--f7.csv",
                     "--f8.csv", "--f9.csv", NULL};
    /* the config after the files would be a file too: it comes first, as
     * an abbreviation of --config */
    char *with_cfg[16] = {"ingest", "--conf", "c.ini"};
    for (int i = 1; files[i]; i++)
        with_cfg[i + 2] = files[i];
    cr_assert_eq(th_run(dir, with_cfg, &out, &err), 0, "%s%s", out, err);
    for (int i = 0; i < 10; i++) {
        char want[64];
        snprintf(want, sizeof want, "--f%d.csv: 1 accepted", i);
        cr_assert(strstr(out, want), "no '%s' in:\n%s", want, out);
    }
    free(out);
    free(err);
    /* without `--` such a word is an option, and a wrong one is named */
    char *bad[] = {"ingest", "--config", "c.ini", "--f0.csv", NULL};
    cr_assert_eq(th_run(dir, bad, &out, &err), 2, "%s%s", out, err);
    cr_assert(strstr(err, "unknown option '--f0.csv'"), "%s", err);
    free(out);
    free(err);
    char *typo[] = {"query", "rt", "--config", "c.ini", "--agg=sum", "--fromm", "2024-01-01", NULL};
    cr_assert_eq(th_run(dir, typo, &out, &err), 2, "%s%s", out, err);
    cr_assert(strstr(err, "unknown option '--fromm'; did you mean '--from'?"), "%s", err);
    free(out);
    free(err);
    char *flagval[] = {"collect", "--once=yes", NULL};
    cr_assert_eq(th_run(dir, flagval, &out, &err), 2, "%s%s", out, err);
    cr_assert(strstr(err, "option '--once' takes no value"), "%s", err);
    free(out);
    free(err);
    char *noval[] = {"query", "rt", "--config", NULL};
    cr_assert_eq(th_run(dir, noval, &out, &err), 2, "%s%s", out, err);
    cr_assert(strstr(err, "option '--config' needs a value (FILE)"), "%s", err);
    free(out);
    free(err);
}

Test(cli, query_by_children_and_formats)
{
    write_in("c.ini", small_ini);
    write_in("s.csv", "metric,entity,ts,value\n"
                      "rt,force/a/u1,2024-01-01T10:00:00Z,5\n"
                      "rt,force/a/u2,2024-01-01T10:01:00Z,15\n"
                      "rt,force/b/u3,2024-01-01T10:02:00Z,30\n");
    char cfg[512], csv[512], *out, *err;
    path_in(cfg, sizeof cfg, "c.ini");
    path_in(csv, sizeof csv, "s.csv");
    ingest_ok(cfg, csv, NULL);
    char *q1[] = {"query",    "rt",
                  "--config", cfg,
                  "--entity", "force",
                  "--by",     "children",
                  "--agg",    "max",
                  "--from",   "2024-01-01T00:00:00Z",
                  "--to",     "2024-01-02T00:00:00Z",
                  "--format", "csv",
                  NULL};
    cr_assert_eq(th_run(NULL, q1, &out, &err), 0, "%s", err);
    cr_assert_str_eq(out, "entity,agg,value,n\nforce/a,max,15,2\nforce/b,max,30,1\n");
    free(out);
    free(err);
    char *q2[] = {"query",      "rt",    "--config", cfg,        "--from", "2024-01-01", "--to",
                  "2024-01-02", "--agg", "within",   "--format", "json",   NULL};
    cr_assert_eq(th_run(NULL, q2, &out, &err), 0, "%s", err);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    cr_assert_not_null(j, "not JSON: %s\n%s", je.text, out);
    json_t *row = json_array_get(json_object_get(j, "rows"), 0);
    cr_assert_float_eq(json_real_value(json_object_get(row, "value")), 100.0 / 3, 1e-6);
    cr_assert_eq(json_integer_value(json_object_get(row, "n")), 3);
    json_decref(j);
    free(out);
    free(err);
    /* text: the values with their unit, as a tile shows them */
    char *q4[] = {"query",  "rt",         "--config", cfg,          "--entity",
                  "force",  "--by",       "children", "--agg",      "max",
                  "--from", "2024-01-01", "--to",     "2024-01-02", NULL};
    cr_assert_eq(th_run(NULL, q4, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, " 15s ") && strstr(out, " 30s "), "%s", out);
    free(out);
    free(err);
    /* within on a metric without a target is refused, not answered "-" */
    char *q5[] = {"query", "nt", "--agg", "within", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, q5, &out, &err), 2, "%s", out);
    cr_assert(strstr(err, "nt has no target"), "%s", err);
    free(out);
    free(err);
    /* an unknown metric is a usage error that suggests the nearest */
    char *q3[] = {"query", "tr", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, q3, &out, &err), 2);
    cr_assert(strstr(err, "did you mean 'rt'"), "%s", err);
    free(out);
    free(err);
}

/*
 * The Seattle calls (tests/fixtures/README.md): percentiles from sitrep
 * ingest + sitrep query against the values computed independently by
 * make_seattle_ingest.py (exact fractions, in Python).
 */
static double query_value(const char *cfg, const char *metric, const char *agg)
{
    char *out, *err;
    char *argv[] = {"query",    (char *)metric,
                    "--config", (char *)cfg,
                    "--agg",    (char *)agg,
                    "--from",   "2010-01-01T00:00:00Z",
                    "--to",     "2024-01-01T00:00:00Z",
                    "--format", "csv",
                    NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s %s: %s", metric, agg, err);
    char *line = strchr(out, '\n');
    cr_assert_not_null(line);
    /* entity (empty: the whole tree), agg, value, n */
    const char *rest = strchr(line + 1, ',');
    cr_assert_not_null(rest, "bad output: %s", out);
    char aggname[16];
    double v;
    long long n;
    if (strstr(rest, ",n<10,")) { /* no percentile over fewer than 10 observations */
        free(out);
        free(err);
        return NAN;
    }
    cr_assert_eq(sscanf(rest + 1, "%15[^,],%lf,%lld", aggname, &v, &n), 3, "bad output: %s", out);
    free(out);
    free(err);
    return v;
}

Test(cli, seattle_percentiles_match_an_independent_computation)
{
    char fixture[512], expected[512];
    th_fixture(fixture, sizeof fixture, "seattle-response.csv");
    th_fixture(expected, sizeof expected, "seattle-response.expected");
    char nr[4096] = "[sitrep]\ncache = seattle.db\n";
    char lin[4096] = "[sitrep]\ncache = seattle.db\n";
    for (int p = 1; p <= 9; p++) {
        char m[200];
        snprintf(m, sizeof m, "[metric.response_p%d]\nkind = event\nunit = s\ntarget = 900\n", p);
        strcat(nr, m);
        strcat(lin, m);
        strcat(lin, "percentile = linear\n");
    }
    write_in("nr.ini", nr);
    write_in("lin.ini", lin);
    char cfg_nr[512], cfg_lin[512];
    path_in(cfg_nr, sizeof cfg_nr, "nr.ini");
    path_in(cfg_lin, sizeof cfg_lin, "lin.ini");
    ingest_ok(cfg_nr, fixture, "158 accepted, 0 duplicates, 0 rejected");

    FILE *f = fopen(expected, "r");
    cr_assert_not_null(f);
    char line[256];
    int checked = 0;
    while (fgets(line, sizeof line, f)) {
        char metric[64], entity[64], agg[32], method[32];
        double want;
        long long n;
        if (line[0] == '#' || line[0] == '*')
            continue;
        cr_assert_eq(
            sscanf(line, "%63s %63s %31s %31s %lf %lld", metric, entity, agg, method, &want, &n), 6,
            "bad expected line: %s", line);
        const char *cfg = strcmp(method, "linear") == 0 ? cfg_lin : cfg_nr;
        const char *a = strcmp(agg, "mean") == 0 ? "avg" : agg;
        double got = query_value(cfg, metric, a);
        if (a[0] == 'p' && n < 10) {
            cr_assert(isnan(got), "%s %s over %lld observations: %g shown", metric, agg, n, got);
            checked++;
            continue;
        }
        cr_assert_float_eq(got, want, 1e-6 * fabs(want) + 1e-9,
                           "%s %s %s: sitrep %.10g, expected %.10g", metric, agg, method, got,
                           want);
        checked++;
    }
    fclose(f);
    cr_assert_geq(checked, 60, "only %d figures checked", checked);
}

/* --at: snapshots of an old export, at a given time and at its newest sample. */
Test(cli, snapshot_at_a_time_in_the_past)
{
    char fixture[512], cfg[512], *out, *err;
    th_fixture(fixture, sizeof fixture, "seattle-response.csv");
    write_in("at.ini", "[sitrep]\ncache = at.db\ntimezone = America/Los_Angeles\n"
                       "[metric.response_p3]\nkind = event\nunit = s\n"
                       "[panel.p3]\nmetric = response_p3\nagg = count\nwindow = 365d\n");
    path_in(cfg, sizeof cfg, "at.ini");
    char *ingest[] = {"ingest", "--config", cfg, fixture, NULL};
    cr_assert_eq(th_run(NULL, ingest, &out, &err), 3, "%s", err); /* rejects: other metrics */
    free(out);
    free(err);

    char *now[] = {"snapshot", "--format", "csv", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, now, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "p3,") && !strstr(out, ",count,1"), "nothing in the last year: %s", out);
    free(out);
    free(err);

    char *at[] = {"snapshot", "--format", "json", "--config", cfg, "--at", "latest", NULL};
    cr_assert_eq(th_run(NULL, at, &out, &err), 0, "%s", err);
    /* the newest P3 call in the fixture was queued 2023-01-13 22:22:37 PST; 3 P3 calls in the year
     * before it */
    cr_assert(strstr(out, "\"as_of\": \"2023-01-14T06:22:37.001Z\""), "%s", out);
    cr_assert(strstr(out, "\"n\": 3,"), "%s", out);
    free(out);
    free(err);

    char *bad[] = {"snapshot", "--format", "json", "--config", cfg, "--at", "yesterday", NULL};
    cr_assert_eq(th_run(NULL, bad, &out, &err), 2);
    cr_assert(strstr(err, "--at: expected ISO-8601"), "%s", err);
    free(out);
    free(err);
}

/* Waits (polling, with a deadline) until file contains text. */
static bool wait_for_text(const char *file, const char *text, int seconds)
{
    th_deadline d = th_deadline_in(seconds * 1000);
    for (;;) {
        FILE *f = fopen(file, "r");
        if (f) {
            char buf[65536];
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            buf[n] = 0;
            fclose(f);
            if (strstr(buf, text))
                return true;
        }
        if (!th_poll(&d))
            return false;
    }
}

Test(cli, collector_on_the_simulator_then_snapshot)
{
    /* the default config's metrics and panels, with a short backfill */
    char cfg[512];
    path_in(cfg, sizeof cfg, "sim.ini");
    char db[600];
    snprintf(db, sizeof db, "%s/sim.db", dir);
    th_sim_config(cfg, db, NULL, NULL);
    char log[512];
    path_in(log, sizeof log, "collect.log");
    char *argv[] = {"collect", "--config", cfg, NULL};
    pid_t pid = th_spawn(argv, log);
    bool ready = wait_for_text(log, "next in 5s", 60);
    kill(pid, SIGTERM);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(ready, "the collector never finished its backfill");
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "collect exit status %d", status);
    cr_assert(wait_for_text(log, "sitrep collect: stopped", 1));

    char *out, *err;
    char *sargv[] = {"snapshot", "--config", cfg, "--format", "json", NULL};
    cr_assert_eq(th_run(NULL, sargv, &out, &err), 0, "%s", err);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    cr_assert_not_null(j, "not JSON: %s", je.text);
    json_t *panels = json_object_get(j, "panels");
    cr_assert_gt(json_array_size(panels), 5);
    size_t i;
    json_t *p;
    json_array_foreach(panels, i, p)
    {
        const char *name = json_string_value(json_object_get(p, "panel"));
        /* the officers' panel is personal data: for this role (default, no
         * personal) its unit's grid cells (an hour each) may be under
         * min_cell, and then its value is suppressed, never absent */
        bool masked = strcmp(name, "overtime_officers") == 0 &&
                      json_is_string(json_object_get(p, "suppressed"));
        cr_assert(json_is_number(json_object_get(p, "value")) || masked, "panel %s has no value",
                  name);
        const char *st = json_string_value(json_object_get(p, "status"));
        cr_assert(st && *st, "panel %s has no status", name);
    }
    json_decref(j);
    free(out);
    free(err);

    char *cargv[] = {"snapshot", "--config", cfg, "--format", "csv", NULL};
    cr_assert_eq(th_run(NULL, cargv, &out, &err), 0, "%s", err);
    const char *head = "panel,title,metric,entity,agg,window,value,unit,status,n,";
    cr_assert(strncmp(out, head, strlen(head)) == 0, "%s", out);
    free(out);
    free(err);

    char *vargv[] = {"sources", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, vargv, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "sim ") && strstr(out, "live"), "%s", out);
    free(out);
    free(err);
}

/* How many samples the cache db holds; 0 while it cannot be read. */
static int64_t samples_in(const char *db)
{
    int64_t n = 0;
    return th_sql_try(db, "SELECT count(*) FROM sample", &n, NULL, 0) ? n : 0;
}

Test(cli, ingest_killed_mid_file_loses_no_committed_batch)
{
    write_in("c.ini", small_ini);
    char csv[512], cfg[512], db[512];
    path_in(csv, sizeof csv, "big.csv");
    path_in(cfg, sizeof cfg, "c.ini");
    path_in(db, sizeof db, "cache.db");
    enum { ROWS = 400000 };
    FILE *f = fopen(csv, "w");
    fprintf(f, "metric,entity,ts,value,key\n");
    for (int i = 0; i < ROWS; i++)
        fprintf(f, "rt,force/r%d/u%d,%d,%d.5,k%d\n", i % 4, i % 32, 1700000000 + i, i % 1000, i);
    fclose(f);
    char log[512];
    path_in(log, sizeof log, "ingest.log");
    char *argv[] = {"ingest", "--config", cfg, csv, NULL};
    pid_t pid = th_spawn(argv, log);
    /* wait until at least one batch is committed, then kill it */
    th_deadline d = th_deadline_in(60 * 1000);
    d.step_ms = 5;
    while (samples_in(db) == 0)
        cr_assert(th_poll(&d), "no batch committed within 60 s");
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    sqlite3 *h;
    cr_assert_eq(
        sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, sr_store_vfs()),
        SQLITE_OK);
    sqlite3_stmt *q;
    sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &q, NULL);
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    sqlite3_prepare_v2(h,
                       "SELECT (SELECT count(*) FROM sample), "
                       "(SELECT sum(n) FROM rollup WHERE node = 0)",
                       -1, &q, NULL);
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    int64_t rows = sqlite3_column_int64(q, 0), rolled = sqlite3_column_int64(q, 1);
    sqlite3_finalize(q);
    sqlite3_close(h);
    /* whole batches only, and the rollups agree with them */
    cr_assert_eq(rows % 50000, 0, "a torn batch: %lld rows", (long long)rows);
    cr_assert_eq(rolled, rows);
    /* the same file again completes the job without double counting */
    char *out, *err;
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    char want[600];
    snprintf(want, sizeof want, "%s: %lld accepted, %lld duplicates, 0 rejected\n", csv,
             (long long)(ROWS - rows), (long long)rows);
    cr_assert_str_eq(out, want);
    free(out);
    free(err);
}

/* `snapshot --format text` is the screen as text, through the same widgets. */
Test(cli, snapshot_text_is_the_screen_at_the_asked_size)
{
    write_in("c.ini", "[sitrep]\ncache = cache.db\ntitle = Test Force\n"
                      "[metric.rt]\nkind = event\nunit = s\nlabel = Response\ntarget = 10\n"
                      "warn = 10\ncrit = 20\n"
                      "[panel.a]\nmetric = rt\nwindow = 1d\n"
                      "[panel.b]\nmetric = rt\nwidget = bars\nentity = force\n"
                      "[page.main]\npanels = a, b\ncolumns = 2\n");
    char csv[512], cfgp[512];
    path_in(csv, sizeof csv, "s.csv");
    path_in(cfgp, sizeof cfgp, "c.ini");
    FILE *f = fopen(csv, "w");
    fprintf(f, "metric,entity,ts,value\n");
    long long now = (long long)(sr_now_ms() / 1000);
    for (int i = 0; i < 20; i++)
        fprintf(f, "rt,force/%s/u%d,%lld,%d\n", i % 2 ? "north" : "south", i, now - 600 * i, 5 + i);
    fclose(f);
    char *out, *err;
    char *ia[] = {"ingest", "--config", cfgp, csv, NULL};
    cr_assert_eq(th_run(NULL, ia, &out, &err), 0, "%s", err);
    free(out);
    free(err);
    setenv("LANG", "C.UTF-8", 1);
    char *sa[] = {"snapshot", "--config", cfgp,       "--format", "text",
                  "--width",  "80",       "--height", "24",       NULL};
    cr_assert_eq(th_run(NULL, sa, &out, &err), 0, "%s", err);
    int lines = 0;
    for (char *c = out; *c; c++)
        lines += *c == '\n';
    cr_assert_eq(lines, 23, "the screen less its key hints: %s", out);
    cr_assert_null(strstr(out, "q quit"), "the interactive key hints: %s", out);
    cr_assert_null(strstr(out, "? help"), "%s", out);
    cr_assert(strstr(out, "SITREP"), "%s", out);
    cr_assert(strstr(out, "Test Force"), "%s", out);
    cr_assert(strstr(out, "Response"), "%s", out);
    cr_assert(strstr(out, "north") && strstr(out, "south"), "the bars panel: %s", out);
    cr_assert(strstr(out, "CRIT") || strstr(out, "WARN"), "no status: %s", out);
    cr_assert_null(strchr(out, '\x1b'), "escape codes in text output");
    free(out);
    free(err);
    char *bad[] = {"snapshot", "--config", cfgp, "--format", "text", "--page", "nope", NULL};
    cr_assert_eq(th_run(NULL, bad, &out, &err), 2);
    cr_assert(strstr(err, "main"), "%s", err);
    free(out);
    free(err);
}

/* A panel greys out when the source behind its metric is late, and only then. */
Test(cli, only_the_panels_of_a_late_source_are_stale)
{
    write_in("c.ini", "[sitrep]\ncache = cache.db\n"
                      "[metric.ma]\nkind = counter\nlabel = Alpha\n"
                      "[metric.mb]\nkind = counter\nlabel = Bravo\n"
                      "[panel.pa]\nmetric = ma\n[panel.pb]\nmetric = mb\n"
                      "[page.main]\npanels = pa, pb\ncolumns = 2\n"
                      "[adapter.feeda]\ntype = sim\n[adapter.feedb]\ntype = sim\n");
    char csv[512], cfgp[512], db[512];
    path_in(csv, sizeof csv, "s.csv");
    path_in(cfgp, sizeof cfgp, "c.ini");
    path_in(db, sizeof db, "cache.db");
    FILE *f = fopen(csv, "w");
    long long now = (long long)(sr_now_ms() / 1000);
    fprintf(f, "metric,entity,ts,value\nma,force/x,%lld,1\nmb,force/x,%lld,2\n", now - 120,
            now - 120);
    fclose(f);
    char *out, *err;
    char *ia[] = {"ingest", "--config", cfgp, csv, NULL};
    cr_assert_eq(th_run(NULL, ia, &out, &err), 0, "%s", err);
    free(out);
    free(err);
    /* the two sources as a collector would have recorded them (rows without an
     * interval, as before schema 4: they are judged by their error alone) */
    sqlite3 *h;
    cr_assert_eq(
        sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, sr_store_vfs()),
        SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h,
                              "INSERT INTO source(name, type, last_error) VALUES "
                              "('feeda', 'csv', 'connection refused'), ('feedb', 'csv', '');"
                              "INSERT INTO source_metric SELECT 'feeda', id FROM metric "
                              "WHERE name = 'ma';"
                              "INSERT INTO source_metric SELECT 'feedb', id FROM metric "
                              "WHERE name = 'mb';",
                              NULL, NULL, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(h));
    sqlite3_close(h);
    setenv("LANG", "C.UTF-8", 1);
    char *sa[] = {"snapshot", "--config", cfgp,       "--format", "text",
                  "--width",  "100",      "--height", "12",       NULL};
    cr_assert_eq(th_run(NULL, sa, &out, &err), 0, "%s", err);
    /* the frames' top line: "┌ Alpha ─── stale 2m ┐┌ Bravo ─── 2m ┐" */
    char *line = strstr(out, "Alpha");
    cr_assert_not_null(line, "%s", out);
    char *eol = strchr(line, '\n');
    cr_assert_not_null(eol);
    *eol = 0;
    char *bravo = strstr(line, "Bravo");
    cr_assert_not_null(bravo, "%s", line);
    *bravo = 0;
    cr_assert(strstr(line, "stale"), "Alpha's source is failing: %s", line);
    cr_assert_null(strstr(bravo + 1, "stale"), "Bravo's source is fine: %s", bravo + 1);
    *bravo = 'B';
    *eol = '\n';
    cr_assert(strstr(out, "1/2 sources"), "%s", out);
    free(out);
    free(err);
}

/* A snapshot's text of cfg at epoch second at. */
static char *snapshot_at(char *cfg, char *at)
{
    char *out, *err;
    char *argv[] = {"snapshot", "--format", "text", "--config", cfg, "--at", at, NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    free(err);
    return out;
}

Test(cli, ingest_keeps_the_pages_figures_for_the_next_process)
{
    /* ten days of response times ending now, every 5 minutes in 4 units */
    time_t now = time(NULL);
    size_t cap = 1 << 20, used = 0;
    char *csv = malloc(cap);
    cr_assert_not_null(csv);
    used += (size_t)snprintf(csv, cap, "metric,entity,ts,value\n");
    for (long i = 0; i < 10 * 288; i++) {
        used +=
            (size_t)snprintf(csv + used, cap - used, "rt,force/r%ld/u%ld,%lld,%ld\n", i % 2, i % 4,
                             (long long)(now - 10 * 86400 + i * 300), 60 + (i * 37) % 900);
        cr_assert_lt(used, cap - 100);
    }
    write_in("load.csv", csv);
    free(csv);
    write_in("warm.ini", "[sitrep]\ncache = warm.db\ntimezone = UTC\n"
                         "[metric.rt]\nkind = event\nunit = s\ntarget = 600\n"
                         "[panel.tile]\nmetric = rt\nagg = p90\nwindow = 7d\n"
                         "[panel.trend]\nmetric = rt\nagg = p90\nwindow = 7d\nwidget = chart\n"
                         "[panel.regions]\nmetric = rt\nagg = p90\nwindow = 7d\nwidget = table\n"
                         "entity = force\n"
                         "[page.main]\npanels = tile, trend, regions\n");
    char cfg[512], csvp[512], db[512];
    path_in(cfg, sizeof cfg, "warm.ini");
    path_in(csvp, sizeof csvp, "load.csv");
    path_in(db, sizeof db, "warm.db");
    ingest_ok(cfg, csvp, "2880 accepted");

    /* the figures of the page's closed slices are in the cache */
    sqlite3 *h;
    cr_assert_eq(
        sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, sr_store_vfs()),
        SQLITE_OK);
    sqlite3_stmt *q;
    cr_assert_eq(sqlite3_prepare_v2(h, "SELECT count(*) FROM memo", -1, &q, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    int64_t rows = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    cr_assert_gt(rows, 10, "persisted entries: %lld", (long long)rows);

    /* read from them or computed anew, a page is the same */
    char at[32];
    snprintf(at, sizeof at, "%lld", (long long)now);
    char *warm = snapshot_at(cfg, at);
    cr_assert_eq(sqlite3_exec(h, "DELETE FROM memo", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    char *cold = snapshot_at(cfg, at);
    cr_assert_str_eq(warm, cold);
    cr_assert(strstr(warm, "p90"), "%s", warm);
    free(warm);
    free(cold);
}

/* The Chicago example (monthly, 2017 - May 2018): a snapshot --at latest is a
 * view of the past (HISTORY and its end with the date), its 365-day panels
 * say their window and, as their previous 12 months hold 5 months of data,
 * prev partial instead of a change; now, the same panels are stale. */
Test(cli, snapshot_of_an_old_export_history_and_prev_partial)
{
    char cfgp[512], fixtures[512], cmd[2048];
    path_in(cfgp, sizeof cfgp, "c.ini");
    th_fixture(fixtures, sizeof fixtures, "");
    snprintf(cmd, sizeof cmd,
             "sed -e 's|^cache = .*|cache = %s/c.db|' -e 's|^path = .*/|path = %s/|' "
             "adapters/examples/chicago-overtime.ini > '%s'",
             dir, fixtures, cfgp);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    char *out, *err;
    char *ca[] = {"collect", "--once", "--config", cfgp, NULL};
    cr_assert_eq(th_run(NULL, ca, &out, &err), 0, "%s", err);
    free(out);
    free(err);
    setenv("LANG", "C.UTF-8", 1);
    char *at[] = {"snapshot", "--config", cfgp,  "--format", "text", "--at",
                  "latest",   "--width",  "120", "--height", "30",   NULL};
    cr_assert_eq(th_run(NULL, at, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "HISTORY to Tue 1 May 2018 00:00"), "%s", out);
    cr_assert(strstr(out, "─ 365d ┐"), "%s", out);
    cr_assert(strstr(out, "prev partial"), "%s", out);
    cr_assert_null(strstr(out, "vs prev"), "no change against 5 months of 12:\n%s", out);
    cr_assert_null(strstr(out, "stale"), "%s", out);
    free(out);
    free(err);
    char *live[] = {"snapshot", "--config", cfgp,       "--format", "text",
                    "--width",  "120",      "--height", "30",       NULL};
    cr_assert_eq(th_run(NULL, live, &out, &err), 0, "%s", err);
    cr_assert_null(strstr(out, "HISTORY"), "%s", out);
    cr_assert(strstr(out, "─ 365d · stale "), "years-old data is stale now:\n%s", out);
    free(out);
    free(err);
}
