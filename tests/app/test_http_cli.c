/*
 * End-to-end test of the http adapter through the sitrep binary: a real
 * HTTP server on 127.0.0.1 (tests/http_server.h) answers with a JSON
 * document of incidents behind a bearer token; `sitrep collect --once`
 * reads it into a fresh cache, `sitrep query` aggregates what was stored,
 * `sitrep rejects` shows the item that could not be a sample, and a second
 * collect stores nothing twice.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../helpers.h"
#include "../http_server.h"

/* a fresh folder for each test, dir */
TH_TEMPDIR_SUITE(http_cli, dir);

#ifdef SR_HAVE_CURL

/* ISO-8601 UTC of now minus ago seconds. */
static void iso_ago(char *buf, size_t len, long ago)
{
    time_t t = time(NULL) - ago;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

Test(http_cli, collect_once_then_query_and_rejects)
{
    /* three incidents an hour or two ago (two P1, one P2) and one without an arrival */
    char q[4][32], a[4][32], doc[2048];
    long ago[4] = {7200, 5400, 3600, 1800};
    long resp[4] = {300, 600, 1200, 0};
    for (int i = 0; i < 4; i++) {
        iso_ago(q[i], sizeof q[i], ago[i]);
        iso_ago(a[i], sizeof a[i], ago[i] - resp[i]);
    }
    snprintf(doc, sizeof doc,
             "{\"data\": {\"incidents\": ["
             "{\"id\": \"E1\", \"priority\": 1, \"queued\": \"%s\", \"arrived\": \"%s\","
             " \"unit\": {\"precinct\": \"East\", \"beat\": \"C1\"}},"
             "{\"id\": \"E2\", \"priority\": 1, \"queued\": \"%s\", \"arrived\": \"%s\","
             " \"unit\": {\"precinct\": \"West\", \"beat\": \"D1\"}},"
             "{\"id\": \"E3\", \"priority\": 2, \"queued\": \"%s\", \"arrived\": \"%s\","
             " \"unit\": {\"precinct\": \"East\", \"beat\": \"C2\"}},"
             "{\"id\": \"E4\", \"priority\": 1, \"queued\": \"%s\", \"arrived\": null,"
             " \"unit\": {\"precinct\": \"East\", \"beat\": \"C1\"}}"
             "]}}",
             q[0], a[0], q[1], a[1], q[2], a[2], q[3]);
    th_http_route routes[] = {
        {.path = "/api/incidents", .body = doc, .auth = "Bearer e2e-token"},
    };
    th_http_server srv;
    th_http_start(&srv, routes, 1);

    char path[512], cfg[512], ini[2048];
    snprintf(path, sizeof path, "%s/api.token", dir);
    th_write_file(path, "e2e-token\n");
    cr_assert_eq(chmod(path, 0600), 0);
    snprintf(ini, sizeof ini,
             "[sitrep]\n"
             "cache = cache.db\n"
             "timezone = UTC\n"
             "[metric.response_p1]\n"
             "kind = event\n"
             "unit = s\n"
             "[metric.response_p2]\n"
             "kind = event\n"
             "unit = s\n"
             "[adapter.api]\n"
             "type = http\n"
             "url = http://127.0.0.1:%d/api/incidents?since={since}\n"
             "items = data.incidents\n"
             "token_file = api.token\n"
             "metric = response_p{priority}\n"
             "entity = seattle/{unit.precinct}/{unit.beat}\n"
             "time = queued\n"
             "value = duration(queued, arrived)\n"
             "key = id\n"
             "timeout = 5s\n",
             srv.port);
    snprintf(cfg, sizeof cfg, "%s/c.ini", dir);
    th_write_file(cfg, ini);

    char *out, *err;
    char *check[] = {"check-config", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, check, &out, &err), 0, "%s%s", out, err);
    free(out);
    free(err);

    char *collect[] = {"collect", "--once", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, collect, &out, &err), 0, "%s%s", out, err);
    cr_assert(strstr(out, "api: ok"), "%s", out);
    cr_assert(strstr(out, "3 new, 0 duplicate, 1 rejected"), "%s", out);
    free(out);
    free(err);

    char *query[] = {"query", "response_p1", "--config", cfg,    "--window", "1d",
                     "--agg", "avg",         "--format", "json", NULL};
    cr_assert_eq(th_run(NULL, query, &out, &err), 0, "%s", err);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    cr_assert_not_null(j, "not JSON: %s", out);
    json_t *row = json_array_get(json_object_get(j, "rows"), 0);
    cr_assert_not_null(row, "no row in: %s", out);
    cr_assert_float_eq(json_number_value(json_object_get(row, "value")), 450.0, 1e-6,
                       "avg of 300 and 600 s in: %s", out);
    cr_assert_eq(json_integer_value(json_object_get(row, "n")), 2, "two P1 incidents in: %s", out);
    json_decref(j);
    free(out);
    free(err);

    char *rejects[] = {"rejects", "--config", cfg, "--source", "api", NULL};
    cr_assert_eq(th_run(NULL, rejects, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "item 3"), "%s", out);
    cr_assert(strstr(out, "arrived"), "the reason names the field: %s", out);
    cr_assert(strstr(out, "\"id\":\"E4\""), "the item's JSON is kept: %s", out);
    free(out);
    free(err);

    /* again: the keys make it idempotent */
    cr_assert_eq(th_run(NULL, collect, &out, &err), 0, "%s%s", out, err);
    cr_assert(strstr(out, "0 new, 4 duplicate, 0 rejected"), "the rejected item too: %s", out);
    free(out);
    free(err);
    th_http_stop(&srv);

    /* the server gone: the source fails, and collect --once says so */
    cr_assert_eq(th_run(NULL, collect, &out, &err), 1, "%s%s", out, err);
    cr_assert(strstr(out, "api: FAILED: GET http://127.0.0.1:"), "%s", out);
    free(out);
    free(err);
}

Test(http_cli, secrets_in_the_url_are_refused_and_queries_never_shown)
{
    th_http_route routes[] = {{.path = "/api/x", .status = 500, .body = "down"}};
    th_http_server srv;
    th_http_start(&srv, routes, 1);
    char cfg[512], ini[2048];
    snprintf(ini, sizeof ini,
             "[sitrep]\ncache = cache.db\ntimezone = UTC\n"
             "[metric.m]\nkind = gauge\n"
             "[adapter.api]\ntype = http\n"
             "url = http://127.0.0.1:%d/api/x?since={since}&$where=ssn%%3D1\n"
             "metric = m\nentity = e\nvalue = 1\ntimeout = 5s\n"
             "[adapter.leak]\ntype = http\n"
             "url = http://127.0.0.1:%d/api/x?access_token=SECRETVALUE\n"
             "metric = m\nentity = e\nvalue = 1\ntimeout = 5s\n",
             srv.port, srv.port);
    snprintf(cfg, sizeof cfg, "%s/c.ini", dir);
    th_write_file(cfg, ini);

    char *out, *err;
    char *collect[] = {"collect", "--once", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, collect, &out, &err), 1, "%s%s", out, err);
    char want[768];
    snprintf(want, sizeof want, "api: FAILED: GET http://127.0.0.1:%d/api/x?\xe2\x80\xa6: HTTP 500",
             srv.port);
    cr_assert(strstr(out, want), "%s", out);
    cr_assert(strstr(out, "url: the query parameter 'access_token' looks like it carries a secret"),
              "%s", out);
    cr_assert_null(strstr(out, "SECRETVALUE"), "%s", out);
    cr_assert_null(strstr(err, "SECRETVALUE"), "%s", err);
    cr_assert_null(strstr(out, "ssn"), "%s", out);
    free(out);
    free(err);

    char *sources[] = {"sources", "--config", cfg, "--format", "json", NULL};
    cr_assert_eq(th_run(NULL, sources, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "/api/x?\xe2\x80\xa6: HTTP 500"), "%s", out);
    cr_assert(strstr(out, "access_token"), "the refusal is shown: %s", out);
    cr_assert_null(strstr(out, "SECRETVALUE"), "%s", out);
    cr_assert_null(strstr(out, "ssn"), "%s", out);
    free(out);
    free(err);

    /* check-config refuses the secret at the url's line, without quoting it */
    char *check[] = {"check-config", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, check, &out, &err), 2, "%s%s", out, err);
    snprintf(want, sizeof want, "%s:15: [adapter.leak] url: the query parameter 'access_token'",
             cfg);
    cr_assert(strstr(err, want), "no '%s' in:\n%s", want, err);
    cr_assert_null(strstr(out, "SECRETVALUE"), "%s", out);
    cr_assert_null(strstr(err, "SECRETVALUE"), "%s", err);
    free(out);
    free(err);
    th_http_stop(&srv);
}

#else

Test(http_cli, without_libcurl_the_source_fails_saying_why)
{
    char cfg[512];
    snprintf(cfg, sizeof cfg, "%s/c.ini", dir);
    th_write_file(cfg, "[sitrep]\ncache = cache.db\n[metric.m]\nkind = gauge\n"
                       "[adapter.api]\ntype = http\nurl = http://127.0.0.1:1/x\n"
                       "metric = m\nentity = e\nvalue = 1\n");
    char *out, *err;
    char *collect[] = {"collect", "--once", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, collect, &out, &err), 1, "%s%s", out, err);
    cr_assert(strstr(out, "apt-get install libcurl4-openssl-dev"), "%s", out);
    free(out);
    free(err);
}

#endif
