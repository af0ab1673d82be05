/*
 * test_http.c - the http adapter through its ABI table against a real
 * HTTP server on 127.0.0.1 (tests/http_server.h) and, for certificate
 * checks, openssl s_server: the items path, nested fields, the kinds of
 * JSON values, rejected items with their reasons, the timeout, HTTP
 * errors, the size cap, bad JSON, redirects, bearer tokens from files and
 * the environment, headers, {since} in the url, and TLS verification.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../../adapters/adapter.h"
#include "../../adapters/httpurl.h"
#include "../../adapters/jsondoc.h"
#include "../../adapters/registry.h"
#include "../helpers.h"
#include "../http_server.h"
#include "mock.h"

extern const sr_adapter sr_adapter_http;

#define NOW_MS 1709740800000LL                                       /* 2024-03-06T16:00:00Z */
#define T(h, m) (1709683200000LL + ((h)*3600LL + (m)*60LL) * 1000LL) /* 2024-03-06 h:m UTC */

static const char incidents[] =
    "{\"meta\": {\"count\": 9},\n"
    " \"data\": {\"incidents\": [\n"
    "  {\"id\": \"E1\", \"priority\": 1, \"queued\": \"2024-03-06T10:00:00Z\",\n"
    "   \"unit\": {\"precinct\": \"East\", \"beat\": \"C1\"}, \"escalated\": false, \"seconds\": "
    "450},\n"
    "  {\"id\": \"E2\", \"priority\": 2, \"queued\": \"2024-03-06T11:00:00Z\",\n"
    "   \"unit\": {\"precinct\": \"East\", \"beat\": \"C2\"}, \"escalated\": false,\n"
    "   \"seconds\": \"1,234.5\"},\n"
    "  {\"id\": \"E3\", \"priority\": 1, \"queued\": \"2024-03-06T12:00:00Z\",\n"
    "   \"unit\": {\"precinct\": \"West\", \"beat\": \"D1\"}, \"escalated\": false, \"seconds\": "
    "null},\n"
    "  \"not an object\",\n"
    "  {\"id\": \"E5\", \"priority\": 3, \"queued\": \"2024-03-06T13:00:00Z\",\n"
    "   \"unit\": {\"precinct\": \"West\"}, \"escalated\": false, \"seconds\": 60},\n"
    "  {\"id\": \"E6\", \"priority\": 2, \"queued\": \"2024-03-06T14:00:00Z\",\n"
    "   \"unit\": {\"precinct\": \"North\", \"beat\": \"N1\"}, \"escalated\": false,\n"
    "   \"seconds\": \"soon\"},\n"
    "  {\"id\": \"E7\", \"priority\": 3, \"queued\": 1709733600,\n"
    "   \"unit\": {\"precinct\": \"North\", \"beat\": \"N2\"}, \"escalated\": false, \"seconds\": "
    "90.25},\n"
    "  {\"id\": \"E8\", \"priority\": 1, \"queued\": \"2024-03-06T15:30:00Z\",\n"
    "   \"unit\": {\"precinct\": \"South\", \"beat\": \"S1\"}, \"escalated\": true, \"seconds\": "
    "5},\n"
    "  [1, 2]\n"
    " ]}}\n";

static const char array_doc[] = "[{\"id\": \"A1\", \"v\": 7, \"t\": \"2024-03-06T09:00:00Z\"},"
                                " {\"id\": \"A2\", \"v\": -3.5, \"t\": \"2024-03-06T09:30:00Z\"}]";

static const char nested_doc[] =
    "{\"data\": [{\"rows\": [{\"id\": \"N1\", \"v\": 1, \"t\": \"2024-03-06T08:00:00Z\"}]},"
    " {\"rows\": []}]}";

static const char error_page[] =
    "<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>\n"
    "<body><h1>Internal   Server Error</h1>\n<p>database \x01 down</p></body></html>\n";

#define BIG_SIZE 300001u

static const th_http_route routes[] = {
    {.path = "/incidents", .body = incidents},
    {.path = "/array", .body = array_doc},
    {.path = "/nested", .body = nested_doc},
    {.path = "/hang", .flags = TH_HTTP_HANG},
    {.path = "/fail", .status = 500, .body = error_page},
    {.path = "/big", .flags = TH_HTTP_BIG, .size = BIG_SIZE},
    {.path = "/big-stream", .flags = TH_HTTP_BIG | TH_HTTP_NOLENGTH, .size = BIG_SIZE},
    {.path = "/bad", .body = "{\"data\": [1, 2,, 3]}"},
    {.path = "/scalar", .body = "42"},
    {.path = "/empty", .status = 204},
    {.path = "/redirect", .status = 302, .header = "Location: /array\r\n"},
    {.path = "/loop", .status = 302, .header = "Location: /loop\r\n"},
    {.path = "/auth", .body = array_doc, .auth = "Bearer s3cret-token"},
    {.path = "/auth-new", .body = array_doc, .auth = "Bearer rotated-token"},
    {.path = "/apikey", .body = array_doc, .auth = "k-123"},
    {.path = "/echo", .flags = TH_HTTP_ECHO},
    {.path = "/signed", .status = 302, .header = "Location: /fail?signature=zzz\r\n"},
};

static char dir[256];
static th_http_server srv;

/* What a test works with: the options, the sink of the last poll and its
 * message (one test per process, so file statics are the test's own). */
static mock_options mo;
static mock_sink k;
static char err[512];

static void setup(void)
{
    th_tempdir(dir, sizeof dir);
    th_http_start(&srv, routes, sizeof routes / sizeof routes[0]);
    mock_sink_init(&k);
}

static void teardown(void)
{
    mock_sink_fini(&k);
    th_http_stop(&srv);
    th_rmtree(dir);
}

TestSuite(http, .init = setup, .fini = teardown);

/* Opens the adapter expecting a failure; returns its message. */
static const char *open_fails(const sr_ad_options *o)
{
    void *st = NULL;
    err[0] = '\0';
    cr_assert_lt(sr_adapter_http.open(o, &st, err, sizeof err), 0, "open did not fail");
    cr_assert_null(st);
    cr_assert_neq(err[0], '\0', "no message");
    return err;
}

#define ARRAY_MAP "metric = m", "entity = force/a", "time = t", "value = v", "key = id"

Test(http, registered_with_its_options)
{
    const sr_adapter *a = sr_registry_find("http");
    cr_assert_eq(a, &sr_adapter_http);
    const char *want[] = {"url",     "items",    "token_env", "token_file", "tls_verify",
                          "ca_file", "max_size", "metric",    "entity",     "value"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int found = 0;
        for (const sr_ad_option_spec *s = a->options; s->key; s++)
            found |= strcmp(s->key, want[i]) == 0;
        cr_assert(found, "no option %s", want[i]);
    }
}

#ifdef SR_HAVE_CURL

static char url_buf[8][256];
static int url_next;

/* "url=http://127.0.0.1:PORT/path" (rotating static buffers). */
static const char *url_opt(const char *path)
{
    char *b = url_buf[url_next++ % 8];
    int n = snprintf(b, 256, "url=");
    th_http_url(&srv, path, b + n, 256 - (size_t)n);
    return b;
}

/* The options of a source on the test server's path. */
#define OPTS(path, ...) MOCK_OPTS(&mo, "api", dir, url_opt(path), __VA_ARGS__)

/* Opens the adapter; fails the test when open() does. */
static void *open_ok(const sr_ad_options *o)
{
    void *st = NULL;
    char e[512] = "";
    cr_assert_eq(sr_adapter_http.open(o, &st, e, sizeof e), 0, "open failed: %s", e);
    return st;
}

/* Polls st into k (emptied first); the message in err. */
static int poll_st(void *st, int64_t since_ms, int64_t timeout_ms)
{
    sr_poll_info info = {.now_ms = NOW_MS, .since_ms = since_ms, .timeout_ms = timeout_ms};
    long refuse = k.refuse_after;
    mock_sink_fini(&k);
    mock_sink_init(&k);
    k.refuse_after = refuse;
    err[0] = '\0';
    int rc = sr_adapter_http.poll(st, &info, &k.sink, err, sizeof err);
    cr_assert_eq(info.more, 0);
    return rc;
}

/* One poll of a fresh state with options o and a time budget. */
static int poll_timed(const sr_ad_options *o, int64_t timeout_ms)
{
    void *st = open_ok(o);
    int rc = poll_st(st, 0, timeout_ms);
    sr_adapter_http.close(st);
    return rc;
}

#define POLL(path, ...) poll_timed(OPTS(path, __VA_ARGS__), 5000)

static const mock_sample *find_key(const char *key)
{
    for (size_t i = 0; i < k.n; i++) {
        if (k.s[i].key && strcmp(k.s[i].key, key) == 0)
            return &k.s[i];
    }
    return NULL;
}

static const mock_reject *find_where(const char *where)
{
    for (size_t i = 0; i < k.nr; i++) {
        if (k.r[i].where && strcmp(k.r[i].where, where) == 0)
            return &k.r[i];
    }
    return NULL;
}

#define INCIDENT_MAP                                                                               \
    "items = data.incidents", "metric = response_p{priority}",                                     \
        "entity = seattle/{unit.precinct}/{unit.beat}", "time = queued", "value = seconds",        \
        "key = id", "where = escalated != true"

/* The echo route's one row: {"target": ..., "headers": {...}, "head": ...}. */
#define ECHO_MAP "metric = m", "entity = e", "value = 1"

/* A sink that counts, for bodies with many elements. */
typedef struct {
    sr_sink sink;
    size_t emits, rejects;
    int bad; /* a reject that is not of the number "1" */
} count_sink;

static int count_emit(sr_sink *sink, const sr_ad_sample *s)
{
    (void)s;
    ((count_sink *)sink)->emits++;
    return 0;
}

static int count_reject(sr_sink *sink, const char *where, const char *raw, const char *reason)
{
    count_sink *c = (count_sink *)sink;
    char w[32];
    snprintf(w, sizeof w, "item %zu", c->rejects);
    c->bad += strcmp(where, w) != 0 || strcmp(raw, "1") != 0 || !strstr(reason, "got a number");
    c->rejects++;
    return 0;
}

static void write_token(const char *name, const char *token, mode_t mode)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    th_write_file(p, token);
    cr_assert_eq(chmod(p, mode), 0);
}

Test(http, items_path_nested_fields_and_value_kinds)
{
    cr_assert_eq(POLL("/incidents", INCIDENT_MAP), 0, "%s", err);

    cr_assert_eq(k.n, 3, "emitted %zu", k.n);
    const mock_sample *s = find_key("E1");
    cr_assert_not_null(s);
    cr_assert_str_eq(s->metric, "response_p1");
    cr_assert_str_eq(s->entity, "seattle/East/C1");
    cr_assert_eq(s->ts_ms, T(10, 0));
    cr_assert_float_eq(s->value, 450.0, 1e-9);
    s = find_key("E2"); /* a number written as text, with a thousands separator */
    cr_assert_not_null(s);
    cr_assert_str_eq(s->metric, "response_p2");
    cr_assert_float_eq(s->value, 1234.5, 1e-9);
    s = find_key("E7"); /* epoch seconds as a JSON number, a fraction as the value */
    cr_assert_not_null(s);
    cr_assert_str_eq(s->entity, "seattle/North/N2");
    cr_assert_eq(s->ts_ms, T(14, 0));
    cr_assert_float_eq(s->value, 90.25, 1e-9);
    cr_assert_null(find_key("E8"), "E8 is escalated (true): where should exclude it");

    /* every other element is rejected with where = item N and its JSON */
    cr_assert_eq(k.nr, 5, "rejected %zu", k.nr);
    const mock_reject *r = find_where("item 2"); /* seconds: null */
    cr_assert_not_null(r);
    cr_assert(strstr(r->raw, "\"E3\""), "%s", r->raw);
    cr_assert(strstr(r->reason, "'seconds' has no value"), "%s", r->reason);
    r = find_where("item 3");
    cr_assert_not_null(r);
    cr_assert_str_eq(r->raw, "\"not an object\"");
    cr_assert(strstr(r->reason, "expected a JSON object, got a string"), "%s", r->reason);
    r = find_where("item 4"); /* unit.beat missing */
    cr_assert_not_null(r);
    cr_assert(strstr(r->reason, "unit.beat"), "%s", r->reason);
    r = find_where("item 5"); /* seconds: "soon" */
    cr_assert_not_null(r);
    cr_assert(strstr(r->reason, "soon"), "%s", r->reason);
    r = find_where("item 8");
    cr_assert_not_null(r);
    cr_assert_str_eq(r->raw, "[1,2]");
    cr_assert(strstr(r->reason, "got an array"), "%s", r->reason);
}

Test(http, the_document_itself_as_the_array)
{
    cr_assert_eq(POLL("/array", ARRAY_MAP), 0, "%s", err);
    cr_assert_eq(k.n, 2);
    cr_assert_float_eq(find_key("A2")->value, -3.5, 1e-9);
    cr_assert_eq(find_key("A1")->ts_ms, T(9, 0));
    cr_assert_eq(k.nr, 0);
}

Test(http, a_path_through_an_array_by_index)
{
    cr_assert_eq(POLL("/nested", "items = data.0.rows", ARRAY_MAP), 0, "%s", err);
    cr_assert_eq(k.n, 1);
    cr_assert_str_eq(k.s[0].key, "N1");

    cr_assert_lt(POLL("/nested", "items = data.2.rows", ARRAY_MAP), 0);
    cr_assert(strstr(err, "items: 'data' has 2 elements, no element 2"), "%s", err);
}

Test(http, items_that_lead_nowhere_say_where_the_walk_stopped)
{
    static const struct {
        const char *path, *url, *want;
    } cases[] = {
        {"data.nope", "/incidents", "items: no member 'nope' in 'data' (its members: incidents)"},
        {"data", "/incidents", "items: 'data' is an object, not an array (its members: incidents"},
        {"", "/incidents", "the document is an object, not an array (its members: meta, data"},
        {"meta.count.x", "/incidents", "items: 'meta.count' is a number, nothing can be picked"},
        {"data.x", "/nested", "items: 'data' is an array; expected an index such as 0"},
        {"", "/scalar", "the response is not JSON: line 1 column"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char items[80];
        snprintf(items, sizeof items, "items = %s", cases[i].path);
        cr_assert_lt(POLL(cases[i].url, items, "metric = m", "entity = e", "value = v"), 0, "%s",
                     cases[i].path);
        cr_assert(strstr(err, cases[i].want), "items = %s: %s", cases[i].path, err);
        cr_assert_eq(k.n + k.nr, 0);
    }
}

Test(http, bad_items_paths_are_refused_at_open)
{
    const char *bad[] = {"items = .data", "items = data.", "items = data..rows"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert(strstr(open_fails(OPTS("/array", bad[i], ARRAY_MAP)),
                         "items: expected names separated by single dots"),
                  "%s", bad[i]);
}

Test(http, a_hanging_server_times_out_within_the_poll_budget)
{
    int64_t t0 = th_mono_ms();
    cr_assert_lt(poll_timed(OPTS("/hang", ARRAY_MAP), 300), 0);
    int64_t ms = th_mono_ms() - t0;
    cr_assert(strstr(err, "timed out"), "%s", err);
    cr_assert(strstr(err, "/hang"), "the message names the url: %s", err);
    cr_assert(ms >= 250 && ms < 3000, "took %lld ms", (long long)ms);
}

Test(http, an_http_error_quotes_a_cleaned_piece_of_the_body)
{
    cr_assert_lt(POLL("/fail", ARRAY_MAP), 0);
    cr_assert(
        strstr(err, "HTTP 500: 500 Internal Server Error Internal Server Error database down"),
        "%s", err);
    cr_assert_null(strchr(err, '<'), "markup left in: %s", err);
    cr_assert_null(strchr(err, '\x01'), "a control character left in: %s", err);

    cr_assert_lt(POLL("/nowhere", ARRAY_MAP), 0);
    cr_assert(strstr(err, "HTTP 404: no such path"), "%s", err);
}

Test(http, a_body_over_max_size_is_an_error_with_or_without_a_length)
{
    const char *paths[] = {"/big", "/big-stream"};
    for (size_t i = 0; i < 2; i++) {
        cr_assert_lt(POLL(paths[i], "max_size = 256k", ARRAY_MAP), 0);
        cr_assert(strstr(err, "the response is larger than max_size (256k)"), "%s: %s", paths[i],
                  err);
        cr_assert_eq(k.n + k.nr, 0);
    }
    /* under the cap the same body is read whole: numbers, none of them an object */
    count_sink c = {{.emit = count_emit, .reject = count_reject}, 0, 0, 0};
    void *st =
        open_ok(OPTS("/big-stream", "max_size = 512k", "metric = m", "entity = e", "value = v"));
    sr_poll_info info = {.now_ms = NOW_MS, .timeout_ms = 10000};
    cr_assert_eq(sr_adapter_http.poll(st, &info, &c.sink, err, sizeof err), 0, "%s", err);
    cr_assert_eq(c.rejects, (BIG_SIZE - 3) / 2 + 1);
    cr_assert_eq(c.emits + c.bad, 0);
    sr_adapter_http.close(st);
}

Test(http, a_body_that_is_not_json_names_line_and_column)
{
    cr_assert_lt(POLL("/bad", "items = data", ARRAY_MAP), 0);
    cr_assert(strstr(err, "the response is not JSON: line 1 column 16:"), "%s", err);
}

Test(http, no_content_is_no_rows)
{
    cr_assert_eq(POLL("/empty", ARRAY_MAP), 0, "%s", err);
    cr_assert_eq(k.n + k.nr, 0);
}

Test(http, redirects_are_followed_up_to_a_limit)
{
    cr_assert_eq(POLL("/redirect", ARRAY_MAP), 0, "%s", err);
    cr_assert_eq(k.n, 2);
    cr_assert_lt(POLL("/loop", ARRAY_MAP), 0);
    cr_assert(strstr(err, "redirects"), "%s", err);
}

Test(http, a_bearer_token_from_a_private_file)
{
    write_token("token", "s3cret-token\n", 0600);
    cr_assert_eq(POLL("/auth", "token_file = token", ARRAY_MAP), 0, "%s", err);
    cr_assert_eq(k.n, 2);
    /* without it the server says 401, and the message says so */
    cr_assert_lt(POLL("/auth", ARRAY_MAP), 0);
    cr_assert(strstr(err, "HTTP 401"), "%s", err);
}

Test(http, a_token_file_others_can_read_is_refused)
{
    write_token("token", "s3cret-token\n", 0644);
    const char *e = open_fails(OPTS("/auth", "token_file = token", ARRAY_MAP));
    cr_assert(strstr(e, "token_file"), "%s", e);
    cr_assert(strstr(e, "chmod 600"), "%s", e);
    cr_assert_null(strstr(e, "s3cret"), "the secret is in the message: %s", e);
}

Test(http, a_literal_token_in_the_config_is_refused)
{
    const char *e = open_fails(OPTS("/auth", "token = s3cret-token", ARRAY_MAP));
    cr_assert(strstr(e, "token_env"), "%s", e);
    cr_assert_null(strstr(e, "s3cret"), "the secret is in the message: %s", e);
}

Test(http, a_rotated_token_file_is_read_again_at_the_next_poll)
{
    write_token("token", "s3cret-token\n", 0600);
    void *st = open_ok(OPTS("/auth-new", "token_file = token", ARRAY_MAP));
    cr_assert_lt(poll_st(st, 0, 5000), 0);
    cr_assert(strstr(err, "HTTP 401"), "%s", err);
    write_token("token", "rotated-token\n", 0600);
    cr_assert_eq(poll_st(st, 0, 5000), 0, "%s", err);
    cr_assert_eq(k.n, 2);
    sr_adapter_http.close(st);
}

Test(http, a_token_from_the_environment_in_a_header_of_its_own)
{
    setenv("SITREP_TEST_API_KEY", "k-123", 1);
    /* the route checks the Authorization header: token_header = Authorization sends it bare */
    cr_assert_eq(POLL("/apikey", "token_env = SITREP_TEST_API_KEY", "token_header = Authorization",
                      ARRAY_MAP),
                 0, "%s", err);
    cr_assert_eq(k.n, 2);
    unsetenv("SITREP_TEST_API_KEY");
}

Test(http, headers_and_since_in_the_url_reach_the_server)
{
    setenv("SITREP_TEST_TOKEN", "tok-9", 1);
    void *st =
        open_ok(OPTS("/echo?since={since}&ms={since_ms}",
                     "header = X-Team: blue | Accept-Language: en", "token_env = SITREP_TEST_TOKEN",
                     "key = {target} {headers.x-team} {headers.accept-language} "
                     "{headers.authorization} {headers.accept}",
                     ECHO_MAP));
    cr_assert_eq(poll_st(st, T(10, 0) + 123, 5000), 0, "%s", err);
    cr_assert_eq(k.n, 1, "%zu rejects: %s", k.nr, k.nr ? k.r[0].reason : "");
    cr_assert_str_eq(k.s[0].key, "/echo?since=2024-03-06T10:00:00Z&ms=1709719200123 blue en "
                                 "Bearer tok-9 application/json");
    /* before any successful poll: the epoch */
    cr_assert_eq(poll_st(st, 0, 5000), 0, "%s", err);
    cr_assert_eq(k.n, 1);
    cr_assert(strncmp(k.s[0].key, "/echo?since=1970-01-01T00:00:00Z&ms=0 ", 38) == 0, "%s",
              k.s[0].key);
    sr_adapter_http.close(st);
    unsetenv("SITREP_TEST_TOKEN");

    /* a header of the user's own replaces the default Accept, never joins it */
    cr_assert_eq(POLL("/echo", "header = accept: application/vnd.x+json", "key = {head}", ECHO_MAP),
                 0, "%s", err);
    cr_assert_eq(k.n, 1);
    const char *head = k.s[0].key;
    cr_assert(strstr(head, "accept: application/vnd.x+json"), "%s", head);
    cr_assert_null(strstr(head, "Accept: "), "%s", head);
    cr_assert_null(strstr(head, "application/json"), "%s", head);
}

Test(http, secrets_in_headers_or_the_url_are_refused)
{
    static const struct {
        const char *opt, *want;
    } cases[] = {
        {"header = Authorization: Bearer abc", "header: 'Authorization' looks like it carries"},
        {"header = Accept: x | X-Api-Key: abc", "token_header = X-Api-Key"},
        {"header = Cookie: s=1", "looks like it carries a secret"},
        {"header = no colon here", "header: expected Name: value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *e = open_fails(OPTS("/array", cases[i].opt, ARRAY_MAP));
        cr_assert(strstr(e, cases[i].want), "%s: %s", cases[i].opt, e);
    }
    const sr_ad_options *o =
        MOCK_OPTS(&mo, "api", dir, "url = http://me:pw@127.0.0.1/x", ARRAY_MAP);
    cr_assert(strstr(open_fails(o), "url: credentials in the url are refused"));
}

/* Each message starts with the option it is about, so that the caller
 * (collect, check-config) can put that option's FILE:LINE in front. */
Test(http, urls_and_options_are_checked_at_open)
{
    static const struct {
        const char *opt, *want;
    } cases[] = {
        {"url = ftp://127.0.0.1/x", "url: expected http://... or https://..."},
        {"url = file:///etc/passwd", "url: expected http://... or https://..."},
        {"url = http://127.0.0.1/x?a={until}", "url: unknown placeholder {until}"},
        {"url = http://127.0.0.1/a b", "url: blanks and control characters"},
        {"url = ", "url: required"},
        {"url = http://u:pw@127.0.0.1/x", "url: credentials in the url are refused"},
        {"url = http://127.0.0.1/x?api_key=v", "url: the query parameter 'api_key' looks like"},
        {"url = http://127.0.0.1:99999/x", "url: "},
        {"max_size = 0", "max_size: expected a size"},
        {"max_size = 2G", "max_size: expected a size"},
        {"tls_verify = maybe", "tls_verify: expected yes or no"},
        {"ca_file = nowhere.pem", "ca_file: cannot read"},
        {"token_header = X-Key", "token_header: set, but neither token_env nor token_file"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int url = strncmp(cases[i].opt, "url", 3) == 0;
        const sr_ad_options *o = MOCK_OPTS(&mo, "api", dir, url ? cases[i].opt : url_opt("/array"),
                                           url ? "items = " : cases[i].opt, ARRAY_MAP);
        const char *e = open_fails(o);
        cr_assert_eq(strncmp(e, cases[i].want, strlen(cases[i].want)), 0, "%s: %s", cases[i].opt,
                     e);
    }
}

Test(http, a_refusing_sink_stops_the_poll)
{
    k.refuse_after = 1;
    cr_assert_lt(POLL("/array", ARRAY_MAP), 0);
    cr_assert(strstr(err, "refused item 1"), "%s", err);
    cr_assert_eq(k.n, 1);
}

Test(http, one_state_polls_again_and_again)
{
    void *st = open_ok(OPTS("/array", ARRAY_MAP));
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(poll_st(st, 0, 5000), 0, "%s", err);
        cr_assert_eq(k.n, 2);
    }
    sr_adapter_http.close(st);
}

/* ---- credentials stay with the configured host ---- */

/* The whole of a file the second server wrote ("" when it wrote none). */
static char *slurp(const char *path)
{
    static char buf[65536];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    return buf;
}

/* A second server on 127.0.0.2 (another host to the adapter) that logs what
 * reaches it into dir/other.log; its url of path in buf. */
static th_http_server other;
static char other_log[300];

static void start_other(const th_http_route *r, size_t n)
{
    snprintf(other_log, sizeof other_log, "%s/other.log", dir);
    th_http_start_at(&other, "127.0.0.2", other_log, r, n);
}

Test(http, a_redirect_to_another_host_goes_there_without_credentials)
{
    static const th_http_route far[] = {{.path = "/data", .body = array_doc}};
    start_other(far, 1);
    char loc[128], here[128];
    snprintf(loc, sizeof loc, "Location: http://127.0.0.2:%d/data\r\n", other.port);
    snprintf(here, sizeof here, "Location: /auth\r\n");
    th_http_route near[] = {
        {.path = "/away", .status = 302, .header = loc},
        {.path = "/here", .status = 302, .header = here},
        {.path = "/auth", .body = array_doc, .auth = "Bearer s3cret-token"},
    };
    th_http_server a;
    th_http_start(&a, near, 3);
    setenv("SITREP_TEST_KEY", "s3cret-token", 1);
    char away[200], same[200];
    snprintf(away, sizeof away, "url = http://127.0.0.1:%d/away", a.port);
    snprintf(same, sizeof same, "url = http://127.0.0.1:%d/here", a.port);

    /* the token as X-Api-Key, then as Authorization: Bearer; a header of the config too */
    for (int i = 0; i < 2; i++) {
        const char *how = i == 0 ? "token_header = X-Api-Key" : "token_env = SITREP_TEST_KEY";
        cr_assert_eq(poll_timed(MOCK_OPTS(&mo, "api", dir, away, "token_env = SITREP_TEST_KEY", how,
                                          "header = X-Team: blue", ARRAY_MAP),
                                5000),
                     0, "%s", err);
        cr_assert_eq(k.n, 2, "the redirect was not followed");
    }
    const char *log = slurp(other_log);
    cr_assert(strstr(log, "GET /data HTTP/1.1"), "the other host saw no request: %s", log);
    cr_assert_null(strstr(log, "s3cret"), "the token reached the other host:\n%s", log);
    cr_assert_null(strcasestr(log, "X-Team"), "a header of the config reached it:\n%s", log);
    cr_assert_null(strcasestr(log, "Authorization"), "%s", log);
    cr_assert(strcasestr(log, "Accept: application/json"), "%s", log);

    /* a redirect on the same host keeps them: the route insists on the token */
    cr_assert_eq(
        poll_timed(MOCK_OPTS(&mo, "api", dir, same, "token_env = SITREP_TEST_KEY", ARRAY_MAP),
                   5000),
        0, "%s", err);
    cr_assert_eq(k.n, 2);
    unsetenv("SITREP_TEST_KEY");
    th_http_stop(&a);
    th_http_stop(&other);
}

/* ---- secrets in the url ---- */

Test(http, secrets_in_the_query_are_refused_and_never_quoted)
{
    static const char *const bad[] = {
        "access_token=SECRETVALUE",  "api_key=SECRETVALUE",
        "apikey=SECRETVALUE",        "key=SECRETVALUE",
        "$$app_token=SECRETVALUE",   "password=SECRETVALUE",
        "sig=SECRETVALUE",           "X-Amz-Signature=SECRETVALUE",
        "client_secret=SECRETVALUE", "Access%5FToken=SECRETVALUE",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char url[300];
        snprintf(url, sizeof url, "url = http://127.0.0.1:%d/array?$where=a&%s", srv.port, bad[i]);
        const char *e = open_fails(MOCK_OPTS(&mo, "api", dir, url, ARRAY_MAP));
        cr_assert(strstr(e, "url: the query parameter '"), "%s: %s", bad[i], e);
        cr_assert(strstr(e, "looks like it carries a secret"), "%s: %s", bad[i], e);
        cr_assert_null(strstr(e, "SECRETVALUE"), "the secret is in the message: %s", e);
    }
    /* names that only look alike pass */
    char ok[300];
    snprintf(ok, sizeof ok, "url = http://127.0.0.1:%d/array?keyword=x&author=y&monkey=z&f=json",
             srv.port);
    cr_assert_eq(poll_timed(MOCK_OPTS(&mo, "api", dir, ok, ARRAY_MAP), 5000), 0, "%s", err);
    cr_assert_eq(k.n, 2);
}

Test(http, urls_in_messages_are_shown_without_their_query)
{
    char buf[128];
    sr_httpurl_redact("https://u:p@Host.example:8443/a/b?token=x&y=2#frag", buf, sizeof buf);
    cr_assert_str_eq(buf, "https://Host.example:8443/a/b?\xe2\x80\xa6");
    sr_httpurl_redact("http://h/p#frag", buf, sizeof buf);
    cr_assert_str_eq(buf, "http://h/p?\xe2\x80\xa6");
    sr_httpurl_redact("http://h?x", buf, sizeof buf);
    cr_assert_str_eq(buf, "http://h?\xe2\x80\xa6");
    sr_httpurl_redact("http://h/plain", buf, sizeof buf);
    cr_assert_str_eq(buf, "http://h/plain");
    sr_httpurl_redact("http://h/p?q", buf, 9);
    cr_assert_str_eq(buf, "http://h");

    /* an HTTP error, a redirect the server sent with a signature in it, a timeout */
    cr_assert_lt(POLL("/fail?$where=ssn%3D1", ARRAY_MAP), 0);
    cr_assert(strstr(err, "/fail?\xe2\x80\xa6: HTTP 500"), "%s", err);
    cr_assert_null(strstr(err, "ssn"), "%s", err);
    cr_assert_lt(POLL("/signed", ARRAY_MAP), 0);
    cr_assert(strstr(err, "/fail?\xe2\x80\xa6: HTTP 500"), "%s", err);
    cr_assert_null(strstr(err, "zzz"), "the signature the server sent is shown: %s", err);
    cr_assert_lt(poll_timed(OPTS("/hang?since={since}", ARRAY_MAP), 300), 0);
    cr_assert(strstr(err, "/hang?\xe2\x80\xa6: "), "%s", err);
    cr_assert_null(strstr(err, "1970"), "%s", err);
}

/* The rules of sr_httpurl_resolve for a Location or a next link, one by one
 * (the test above drives the same rules through a real https server). */
Test(http, where_a_redirect_may_lead)
{
    char out[256], e[256];
#define RESOLVE(https, base, target)                                                               \
    sr_httpurl_resolve(https, base, target, "redirect", out, sizeof out, e, sizeof e)
    cr_assert_eq(RESOLVE(1, "https://a.example/x/y?q=1", "z?p=2"), 0, "%s", e);
    cr_assert_str_eq(out, "https://a.example/x/z?p=2");
    cr_assert_eq(RESOLVE(1, "https://a.example/x", "//b.example/w"), 0, "%s", e);
    cr_assert_str_eq(out, "https://b.example/w");
    cr_assert_eq(RESOLVE(0, "http://a.example/x", "https://b.example/w"), 0, "%s", e);
    cr_assert_eq(RESOLVE(0, "http://a.example/x", "HTTP://b.example/w"), 0, "%s", e);

    /* https never to plain http, whatever the case of the scheme */
    cr_assert_lt(RESOLVE(1, "https://a.example/x", "http://a.example/x?token=t"), 0);
    cr_assert(strstr(e, "a redirect to http://a.example/x?\xe2\x80\xa6 is refused (an https "
                        "source goes to https only)"),
              "%s", e);
    cr_assert_lt(RESOLVE(1, "https://a.example/x", "HTTP://a.example/x"), 0);
    cr_assert(strstr(e, "https only"), "%s", e);
    /* other schemes, credentials, what is not a url */
    cr_assert_lt(RESOLVE(0, "http://a.example/x", "ftp://a.example/f"), 0);
    cr_assert(strstr(e, "(http or https only)"), "%s", e);
    cr_assert_lt(RESOLVE(0, "http://a.example/x", "file:///etc/passwd"), 0);
    cr_assert_lt(RESOLVE(1, "https://a.example/x", "https://u:pw@b.example/"), 0);
    cr_assert(strstr(e, "with credentials in it is refused"), "%s", e);
    cr_assert_null(strstr(e, "pw"), "%s", e);
    cr_assert_lt(RESOLVE(0, "http://a.example/x", "http://[::1"), 0);
    cr_assert(strstr(e, "that is not a url"), "%s", e);
#undef RESOLVE
}

/* ---- pages ---- */

#define ROW(id, v) "{\"id\": \"" id "\", \"v\": " #v ", \"t\": \"2024-03-06T09:00:00Z\"}"

/* Every key of want arrived exactly once, and nothing else. */
static void assert_keys_once(const char *const *want, size_t n)
{
    cr_assert_eq(k.n, n, "%zu samples for %zu rows", k.n, n);
    for (size_t i = 0; i < n; i++) {
        size_t seen = 0;
        for (size_t j = 0; j < k.n; j++)
            seen += k.s[j].key && strcmp(k.s[j].key, want[i]) == 0;
        cr_assert_eq(seen, 1, "%s arrived %zu times", want[i], seen);
    }
}

static const char *const five[] = {"R1", "R2", "R3", "R4", "R5"};

static const th_http_route pages[] = {
    /* socrata: the document is the array; the last page is short */
    {.path = "/soc", .query = "$limit=2&$offset=0", .body = "[" ROW("R1", 1) "," ROW("R2", 2) "]"},
    {.path = "/soc", .query = "$limit=2&$offset=2", .body = "[" ROW("R3", 3) "," ROW("R4", 4) "]"},
    {.path = "/soc", .query = "$limit=2&$offset=4", .body = "[" ROW("R5", 5) "]"},
    /* the same, with page 2 failing */
    {.path = "/soc-bad", .query = "$offset=0", .body = "[" ROW("R1", 1) "," ROW("R2", 2) "]"},
    {.path = "/soc-bad", .query = "$offset=2", .status = 503, .body = "busy"},
    /* arcgis: features with attributes while exceededTransferLimit */
    {.path = "/arc",
     .query = "resultOffset=0&resultRecordCount=2",
     .body = "{\"features\": [{\"attributes\": " ROW("R1", 1) "}, {\"attributes\": " ROW(
         "R2", 2) "}], \"exceededTransferLimit\": true}"},
    {.path = "/arc",
     .query = "resultOffset=2&resultRecordCount=2",
     .body = "{\"features\": [{\"attributes\": " ROW("R3", 3) "}, \"odd\", {\"attributes\": " ROW(
         "R4", 4) "}], \"exceededTransferLimit\": true}"},
    {.path = "/arc",
     .query = "resultOffset=5&resultRecordCount=2",
     .body = "{\"features\": [{\"attributes\": " ROW("R5", 5) "}]}"},
    /* a next link in the body: relative, then with a query, then null */
    {.path = "/lb1",
     .body = "{\"data\": [" ROW("R1", 1) "," ROW("R2", 2) "], \"links\": {\"next\": \"lb2\"}}"},
    {.path = "/lb2",
     .body = "{\"data\": [" ROW("R3", 3) "," ROW(
         "R4", 4) "], \"links\": {\"next\": \"/lb3?cursor=c3\"}}"},
    {.path = "/lb3",
     .query = "cursor=c3",
     .body = "{\"data\": [" ROW("R5", 5) "], \"links\": {\"next\": null}}"},
    /* the Link header */
    {.path = "/lh1",
     .body = "[" ROW("R1", 1) "," ROW("R2", 2) "]",
     .header = "Link: </lh0>; rel=\"prev\", </lh2?page=2>; rel=\"next\", </lh9>; rel=last\r\n"},
    {.path = "/lh2",
     .query = "page=2",
     .body = "[" ROW("R3", 3) "," ROW("R4", 4) "]",
     .header = "Link: <lh3>; title=\"a, b\"; rel=\"next nofollow\"\r\n"},
    {.path = "/lh3", .body = "[" ROW("R5", 5) "]", .header = "Link: </lh1>; rel=\"first\"\r\n"},
    /* a next link that never ends */
    {.path = "/forever", .body = "[" ROW("R1", 1) "]", .header = "Link: </forever>; rel=next\r\n"},
};

static void start_pages(void)
{
    th_http_stop(&srv);
    th_http_start(&srv, pages, sizeof pages / sizeof pages[0]);
}

Test(http, socrata_pages_are_read_to_the_short_one)
{
    start_pages();
    cr_assert_eq(POLL("/soc?$order=:id", "paging = socrata", "page_size = 2", ARRAY_MAP), 0, "%s",
                 err);
    assert_keys_once(five, 5);
    cr_assert_eq(k.nr, 0);

    /* the bound: two pages, then an error saying so; the rows read are kept */
    cr_assert_lt(POLL("/soc", "paging = socrata", "page_size = 2", "max_pages = 2", ARRAY_MAP), 0);
    cr_assert(strstr(err, "stopped at max_pages = 2 with more to read: the 4 rows read are kept"),
              "%s", err);
    assert_keys_once(five, 4);

    /* a page that fails ends the poll with its error; the page before it is kept */
    cr_assert_lt(POLL("/soc-bad", "paging = socrata", "page_size = 2", ARRAY_MAP), 0);
    cr_assert(strstr(err, "page 2: GET http://127.0.0.1:"), "%s", err);
    cr_assert(strstr(err, "/soc-bad?\xe2\x80\xa6: HTTP 503: busy"), "%s", err);
    cr_assert(strstr(err, "the 2 rows of the pages before it are kept"), "%s", err);
    assert_keys_once(five, 2);
}

Test(http, arcgis_pages_are_read_while_the_transfer_limit_is_exceeded)
{
    start_pages();
    /* the url has a query of its own; page 2 has a row that is not an object, so
     * the offset moves by the three elements it gave */
    cr_assert_eq(POLL("/arc?where=1%3D1&f=json", "paging = arcgis", "page_size = 2",
                      "items = features", "metric = m", "entity = force/a", "time = attributes.t",
                      "value = attributes.v", "key = attributes.id"),
                 0, "%s", err);
    assert_keys_once(five, 5);
    cr_assert_eq(k.nr, 1);
    cr_assert_str_eq(k.r[0].where, "page 2 item 1");
    cr_assert_str_eq(k.r[0].raw, "\"odd\"");
}

Test(http, a_next_link_in_the_body_is_followed_to_null)
{
    start_pages();
    cr_assert_eq(POLL("/lb1", "paging = link", "next = links.next", "items = data", ARRAY_MAP), 0,
                 "%s", err);
    assert_keys_once(five, 5);
    /* the bound holds here too */
    cr_assert_lt(POLL("/lb1", "paging = link", "next = links.next", "items = data", "max_pages = 1",
                      ARRAY_MAP),
                 0);
    cr_assert(strstr(err, "stopped at max_pages = 1"), "%s", err);
    assert_keys_once(five, 2);
}

Test(http, the_link_header_is_followed_to_its_last_page)
{
    start_pages();
    cr_assert_eq(POLL("/lh1", "paging = link", ARRAY_MAP), 0, "%s", err);
    assert_keys_once(five, 5);
    /* a next link that never ends stops at the bound, every page's rows kept */
    cr_assert_lt(POLL("/forever", "paging = link", "max_pages = 3", ARRAY_MAP), 0);
    cr_assert(strstr(err, "stopped at max_pages = 3 with more to read: the 3 rows read are kept"),
              "%s", err);
    cr_assert_eq(k.n, 3);
    /* without paging the first page is all */
    cr_assert_eq(POLL("/lh1", ARRAY_MAP), 0, "%s", err);
    assert_keys_once(five, 2);
}

Test(http, a_next_link_to_another_host_gets_no_credentials)
{
    static const th_http_route far[] = {
        {.path = "/p2", .body = "{\"data\": [" ROW("R3", 3) "], \"next\": null}"}};
    start_other(far, 1);
    char body[256];
    snprintf(
        body, sizeof body,
        "{\"data\": [" ROW("R1", 1) "," ROW("R2", 2) "], \"next\": \"http://127.0.0.2:%d/p2\"}",
        other.port);
    th_http_route near[] = {{.path = "/p1", .body = body, .auth = "Bearer s3cret-token"}};
    th_http_server a;
    th_http_start(&a, near, 1);
    setenv("SITREP_TEST_KEY", "s3cret-token", 1);
    char url[200];
    snprintf(url, sizeof url, "url = http://127.0.0.1:%d/p1", a.port);
    cr_assert_eq(poll_timed(MOCK_OPTS(&mo, "api", dir, url, "token_env = SITREP_TEST_KEY",
                                      "paging = link", "next = next", "items = data", ARRAY_MAP),
                            5000),
                 0, "%s", err);
    assert_keys_once(five, 3);
    const char *log = slurp(other_log);
    cr_assert(strstr(log, "GET /p2 HTTP/1.1"), "%s", log);
    cr_assert_null(strstr(log, "s3cret"), "the token reached the other host:\n%s", log);
    unsetenv("SITREP_TEST_KEY");
    th_http_stop(&a);
    th_http_stop(&other);
}

Test(http, paging_options_are_checked_at_open)
{
    static const struct {
        const char *a, *b, *want;
    } cases[] = {
        {"paging = pages", "items = ", "paging: expected none, socrata, arcgis or link"},
        {"paging = link", "page_size = 10", "page_size: only with paging = socrata or arcgis"},
        {"paging = socrata", "page_size = 0", "page_size: expected a whole number from 1 to"},
        {"paging = arcgis", "max_pages = x", "max_pages: expected a whole number from 1 to"},
        {"max_pages = 5", "items = ", "max_pages: only with paging ="},
        {"paging = socrata", "next = links.next", "next: only with paging = link"},
        {"paging = link", "next = links..next", "next: expected names separated by single dots"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *e = open_fails(OPTS("/soc", cases[i].a, cases[i].b, ARRAY_MAP));
        cr_assert(strstr(e, cases[i].want), "%s, %s: %s", cases[i].a, cases[i].b, e);
    }
    cr_assert(strstr(open_fails(OPTS("/soc?$limit=5", "paging = socrata", ARRAY_MAP)),
                     "url: leave $limit out: paging = socrata sets it"),
              "%s", err);
    cr_assert(strstr(open_fails(OPTS("/arc?f=json&resultOffset=0", "paging = arcgis", ARRAY_MAP)),
                     "url: leave resultOffset out"),
              "%s", err);
}

/* ---- TLS ---- */

Test(http, tls_certificates_are_verified_by_default)
{
    th_http_server tls = {0};
    char p[512], url[300];
    snprintf(p, sizeof p, "%s/doc.json", dir);
    th_write_file(p, array_doc);
    if (th_tls_start(&tls, dir) < 0)
        cr_skip_test("openssl is not installed");
    snprintf(url, sizeof url, "url = https://127.0.0.1:%d/doc.json", tls.port);

    cr_assert_lt(poll_timed(MOCK_OPTS(&mo, "api", dir, url, ARRAY_MAP), 5000), 0,
                 "a self-signed certificate was accepted");
    cr_assert(strstr(err, "certificate"), "%s", err);
    cr_assert_eq(k.n, 0);

    /* trusting its certificate as the CA: accepted */
    cr_assert_eq(poll_timed(MOCK_OPTS(&mo, "api", dir, url, "ca_file = cert.pem", ARRAY_MAP), 5000),
                 0, "%s", err);
    cr_assert_eq(k.n, 2);

    /* tls_verify = no: accepted without a CA */
    cr_assert_eq(poll_timed(MOCK_OPTS(&mo, "api", dir, url, "tls_verify = no", ARRAY_MAP), 5000), 0,
                 "%s", err);
    cr_assert_eq(k.n, 2);
    th_http_stop(&tls);
}

Test(http, a_redirect_from_https_to_plain_http_is_refused)
{
    /* the plain server, on another address, logs what reaches it */
    static const th_http_route plain[] = {{.path = "/data", .body = array_doc}};
    start_other(plain, 1);
    th_http_server tls = {0};
    char p[512], resp[512], url[300];
    snprintf(resp, sizeof resp,
             "HTTP/1.0 302 Found\r\nLocation: http://127.0.0.2:%d/data\r\n"
             "Content-Length: 0\r\n\r\n",
             other.port);
    snprintf(p, sizeof p, "%s/down", dir);
    th_write_file(p, resp);
    snprintf(p, sizeof p, "%s/up", dir);
    th_write_file(p, "HTTP/1.0 302 Found\r\nLocation: /doc.json\r\nContent-Length: 0\r\n\r\n");
    snprintf(resp, sizeof resp, "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n%s",
             array_doc);
    snprintf(p, sizeof p, "%s/doc.json", dir);
    th_write_file(p, resp);
    if (th_tls_start_as(&tls, dir, "-HTTP") < 0)
        cr_skip_test("openssl is not installed");

    /* a redirect that stays on https is followed */
    snprintf(url, sizeof url, "url = https://127.0.0.1:%d/up", tls.port);
    cr_assert_eq(poll_timed(MOCK_OPTS(&mo, "api", dir, url, "ca_file = cert.pem", ARRAY_MAP), 5000),
                 0, "%s", err);
    cr_assert_eq(k.n, 2);

    /* one to plain http is refused, and nothing is asked of the plain server */
    snprintf(url, sizeof url, "url = https://127.0.0.1:%d/down", tls.port);
    cr_assert_lt(poll_timed(MOCK_OPTS(&mo, "api", dir, url, "ca_file = cert.pem", ARRAY_MAP), 5000),
                 0, "a redirect from https to http was followed");
    char want[128];
    snprintf(want, sizeof want, "a redirect to http://127.0.0.2:%d/data is refused", other.port);
    cr_assert(strstr(err, want), "%s", err);
    cr_assert(strstr(err, "an https source goes to https only"), "%s", err);
    cr_assert_eq(k.n, 0);
    cr_assert_null(strstr(slurp(other_log), "GET "), "the plain server was asked:\n%s",
                   slurp(other_log));
    th_http_stop(&tls);
    th_http_stop(&other);
}

Test(http, https_to_a_plain_http_server_fails)
{
    char url[300];
    snprintf(url, sizeof url, "url = https://127.0.0.1:%d/array", srv.port);
    cr_assert_lt(poll_timed(MOCK_OPTS(&mo, "api", dir, url, ARRAY_MAP), 5000), 0);
    cr_assert(strstr(err, "GET https://127.0.0.1:"), "%s", err);
    cr_assert_eq(k.n, 0);
}

#else

Test(http, without_libcurl_open_says_how_to_get_it)
{
    cr_assert(strstr(open_fails(MOCK_OPTS(&mo, "api", dir, "url = http://127.0.0.1/x", ARRAY_MAP)),
                     "libcurl4-openssl-dev"));
}

#endif
