/*
 * `sitrep sources` through the real binary on a real cache: two sources of
 * the example plugin (build/plugins/textlog.so), one reading a log with a
 * bad line (live, with a reject), one whose log does not exist (failing,
 * with an escape sequence in its file name, hence in its error), collected
 * with `sitrep collect --once`.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../metrics/common.h"
#include "../helpers.h"

static char dir[256];
static char cfg[512];

static void setup(void)
{
    th_tempdir(dir, sizeof dir);
    snprintf(cfg, sizeof cfg, "%s/c.ini", dir);
    const char *pd = getenv("SITREP_PLUGINS");
    char text[2048];
    snprintf(text, sizeof text,
             "[sitrep]\ncache = cache.db\n"
             "[metric.calls]\nkind = counter\n"
             "[adapter.feed]\ntype = plugin\npath = %s/textlog.so\nfile = feed.log\n"
             "interval = 1m\n"
             "[adapter.broken]\ntype = plugin\npath = %s/textlog.so\n"
             "file = gone\x1b]2;pwned\x07\x1b[2J.log\n",
             pd && *pd ? pd : "build/plugins", pd && *pd ? pd : "build/plugins");
    th_write_file(cfg, text);
    char log[400];
    snprintf(log, sizeof log, "%s/feed.log", dir);
    long long t = (long long)(sr_now_ms() / 1000) - 60;
    snprintf(text, sizeof text, "%lld calls force/a 1\nnot a sample\n%lld calls force/b 2\n", t,
             t + 1);
    th_write_file(log, text);
}

static void teardown(void)
{
    th_rmtree(dir);
}

TestSuite(sources_cmd, .init = setup, .fini = teardown);

static void collect_once(void)
{
    char *out, *err;
    char *argv[] = {"collect", "--once", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 1, "a source failed: %s%s", out, err);
    free(out);
    free(err);
}

/* The line of out that starts with name (NULL-terminated copy in buf). */
static const char *line_of(const char *out, const char *name, char *buf, size_t len)
{
    size_t n = strlen(name);
    for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, name, n) == 0 && p[n] == ' ') {
            size_t l = strcspn(p, "\n");
            snprintf(buf, len, "%.*s", (int)l, p);
            return buf;
        }
    }
    return NULL;
}

Test(sources_cmd, a_table_with_states_times_counts_and_errors)
{
    collect_once();
    char *out, *err;
    char *argv[] = {"sources", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    cr_assert(strncmp(out, "SOURCE", 6) == 0, "%s", out);
    cr_assert(strstr(out, "LAST SUCCESS") && strstr(out, "NEXT POLL") && strstr(out, "LAST ERROR"),
              "%s", out);
    char feed[512], broken[512];
    cr_assert_not_null(line_of(out, "feed", feed, sizeof feed), "%s", out);
    cr_assert_not_null(line_of(out, "broken", broken, sizeof broken), "%s", out);
    /* feed: live, two accepted, one rejected; a success seconds ago with its time */
    cr_assert(strstr(feed, " live "), "%s", feed);
    cr_assert(strstr(feed, "s ago (20"), "%s", feed);
    cr_assert(strstr(feed, "  2  ") || strstr(feed, " 2 "), "%s", feed);
    cr_assert(feed[strlen(feed) - 1] == '1', "rejected last when there is no error: %s", feed);
    /* the collector has stopped: no poll is scheduled */
    cr_assert(strstr(feed, "  -  "), "%s", feed);
    /* broken: failing, never a success, its error sanitised */
    cr_assert(strstr(broken, " failing "), "%s", broken);
    cr_assert(strstr(broken, " never "), "%s", broken);
    cr_assert(strstr(broken, "cannot open"), "%s", broken);
    cr_assert(strstr(broken, "No such file or directory"), "%s", broken);
    cr_assert_null(strchr(out, '\x1b'), "an escape reached the output: %s", out);
    cr_assert_null(strchr(out, '\x07'), "a BEL reached the output");
    cr_assert(strstr(broken, "gone.log"), "the control sequences are dropped: %s", broken);
    free(out);
    free(err);
}

Test(sources_cmd, json_for_scripts)
{
    collect_once();
    char *out, *err;
    char *argv[] = {"sources", "--config", cfg, "--format", "json", NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    cr_assert_not_null(j, "%s: %s", je.text, out);
    json_t *arr = json_object_get(j, "sources");
    cr_assert_eq(json_array_size(arr), 2);
    json_t *feed = json_array_get(arr, 0), *broken = json_array_get(arr, 1);
    cr_assert_str_eq(json_string_value(json_object_get(feed, "name")), "feed");
    cr_assert_str_eq(json_string_value(json_object_get(feed, "type")), "textlog");
    cr_assert_str_eq(json_string_value(json_object_get(feed, "state")), "live");
    cr_assert_eq(json_integer_value(json_object_get(feed, "accepted")), 2);
    cr_assert_eq(json_integer_value(json_object_get(feed, "rejected")), 1);
    cr_assert_eq(json_integer_value(json_object_get(feed, "interval_ms")), 60000);
    cr_assert(json_is_string(json_object_get(feed, "last_success")));
    cr_assert(json_is_null(json_object_get(feed, "next_poll")), "the collector stopped");
    cr_assert(json_is_null(json_object_get(feed, "last_error")));
    cr_assert_str_eq(json_string_value(json_object_get(broken, "state")), "failing");
    cr_assert(json_is_null(json_object_get(broken, "last_success")));
    /* JSON keeps the error as it is (escaped by the encoder) */
    cr_assert(strstr(json_string_value(json_object_get(broken, "last_error")), "\x1b]2;pwned"));
    json_decref(j);
    free(out);
    free(err);

    char *bad[] = {"sources", "--config", cfg, "--format", "yaml", NULL};
    cr_assert_eq(th_run(NULL, bad, &out, &err), 2);
    cr_assert(strstr(err, "expected text or json"), "%s", err);
    free(out);
    free(err);
}

Test(sources_cmd, sources_never_polled_are_listed_late)
{
    char *out, *err;
    char *argv[] = {"sources", "--config", cfg, NULL};
    /* a cache without any source's record: an ingest creates it */
    char csv[400];
    snprintf(csv, sizeof csv, "%s/none.csv", dir);
    th_write_file(csv, "metric,entity,ts,value\n");
    char *iargv[] = {"ingest", "--config", cfg, csv, NULL};
    cr_assert_eq(th_run(NULL, iargv, NULL, NULL), 0);
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    char feed[512];
    cr_assert_not_null(line_of(out, "feed", feed, sizeof feed), "%s", out);
    cr_assert(strstr(feed, " late ") && strstr(feed, " never "), "%s", feed);
    cr_assert(strstr(out, "has not been polled yet"), "%s", out);
    free(out);
    free(err);
}
