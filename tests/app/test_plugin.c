/*
 * Tests of type = plugin (app/plugin.c) with real shared objects: the
 * example plugin adapters/examples/textlog.c (build/plugins, found through
 * SITREP_PLUGINS) loaded by the real sitrep binary, collecting, chunking
 * and rejecting; and the broken objects of tests/fixtures/plugins
 * (build/test-plugins, SITREP_TEST_PLUGINS) refused with FILE:LINE
 * messages.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../adapters/registry.h"
#include "../../app/config.h"
#include "../../app/plugin.h"
#include "../../metrics/common.h"
#include "../helpers.h"

static char dir[256];
static char cfg[512];

static void setup(void)
{
    th_tempdir(dir, sizeof dir);
    snprintf(cfg, sizeof cfg, "%s/c.ini", dir);
}

static void teardown(void)
{
    th_rmtree(dir);
}

TestSuite(plugin, .init = setup, .fini = teardown);

/* A shared object built by the Makefile: examples under SITREP_PLUGINS,
 * broken ones under SITREP_TEST_PLUGINS. */
static void so_path(char *buf, size_t len, const char *env, const char *fallback, const char *name)
{
    const char *d = getenv(env);
    snprintf(buf, len, "%s/%s", d && *d ? d : fallback, name);
}

static void example(char *buf, size_t len)
{
    so_path(buf, len, "SITREP_PLUGINS", "build/plugins", "textlog.so");
}

static void broken(char *buf, size_t len, const char *name)
{
    so_path(buf, len, "SITREP_TEST_PLUGINS", "build/test-plugins", name);
}

/* A config with two metrics and one plugin section of path, plus extra
 * lines for that section (each ending in \n). The path line is line 8. */
static void write_cfg(const char *path, const char *extra)
{
    char text[4096];
    snprintf(text, sizeof text,
             "[sitrep]\n"
             "cache = cache.db\n"
             "[metric.calls]\n"
             "kind = counter\n"
             "[metric.rt]\n"
             "kind = event\n"
             "[adapter.legacy]\n"
             "path = %s\n"
             "type = plugin\n"
             "%s",
             path, extra);
    th_write_file(cfg, text);
}

static void write_log(const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/feed.log", dir);
    th_write_file(p, text);
}

static int run(char **out, char **err, const char *cmd, const char *a1, const char *a2,
               const char *a3)
{
    char *argv[10] = {(char *)cmd, "--config", cfg, (char *)a1, (char *)a2, (char *)a3, NULL};
    return th_run(NULL, argv, out, err);
}

/* Runs cmd, asserts its exit status, returns its stdout (caller frees). */
static char *expect_run(int want, const char *cmd, const char *a1, const char *a2, const char *a3)
{
    char *out, *err;
    int rc = run(&out, &err, cmd, a1, a2, a3);
    cr_assert_eq(rc, want, "%s exited %d:\n%s%s", cmd, rc, out, err);
    free(err);
    return out;
}

/* "FILE:8: " followed by what; the path line of write_cfg's config. */
static void expect_refusal(const char *cmd, const char *what)
{
    char *out, *err;
    int rc = run(&out, &err, cmd, NULL, NULL, NULL);
    cr_assert_eq(rc, 2, "%s exited %d: %s%s", cmd, rc, out, err);
    char want[1024];
    snprintf(want, sizeof want, "%s:8: path: ", cfg);
    cr_assert(strstr(err, want), "no FILE:LINE for the path line in:\n%s", err);
    cr_assert(strstr(err, what), "no '%s' in:\n%s", what, err);
    free(out);
    free(err);
}

/* The log of the examples: times are epoch seconds an hour ago. */
static void sample_log(void)
{
    long long t = (long long)(sr_now_ms() / 1000) - 3600;
    char text[2048];
    snprintf(text, sizeof text,
             "# time metric entity value\n"
             "%lld calls force/north/d1 1\n"
             "%lld calls force/north/d2 2\n"
             "\n"
             "%lld rt force/north/d1 300.5\n"
             "only three fields\n"
             "%lld calls force/north/d1 many\n"
             "1970-13-45T00:00:00Z calls force/north/d1 1\n"
             "%lld calls force/south/d9 4\n"
             "%lld rt force/north/d1\t120\r\n",
             t, t + 1, t + 2, t + 3, t + 4, t + 5);
    write_log(text);
}

Test(plugin, the_example_collects_through_the_binary)
{
    char so[512];
    example(so, sizeof so);
    write_cfg(so, "file = feed.log\n");
    sample_log();
    char *out = expect_run(0, "check-config", NULL, NULL, NULL);
    cr_assert(strstr(out, "plugin 'textlog' (adapter ABI 3)"), "%s", out);
    free(out);

    out = expect_run(0, "collect", "--once", NULL, NULL);
    cr_assert(strstr(out, "legacy: ok"), "%s", out);
    cr_assert(strstr(out, "5 new, 0 duplicate, 3 rejected"), "%s", out);
    free(out);

    out = expect_run(0, "query", "calls", "--agg", "sum");
    cr_assert(strstr(out, " 7 "), "calls 1 + 2 + 4:\n%s", out);
    free(out);
    /* csv: the exact figure (the text table rounds as a tile does) */
    out = expect_run(0, "query", "rt", "--agg=avg", "--format=csv");
    cr_assert(strstr(out, ",210.25,"), "rt avg of 300.5 and 120 (a tab and CRLF read): %s", out);
    free(out);

    /* the three bad lines are kept with their line numbers and reasons */
    out = expect_run(0, "rejects", "--source", "legacy", NULL);
    cr_assert(strstr(out, "3 rejected rows from legacy"), "%s", out);
    cr_assert(strstr(out, "line 6: fewer than four fields"), "%s", out);
    cr_assert(strstr(out, "line 7: value 'many' is not a number"), "%s", out);
    cr_assert(strstr(out, "line 8: time '1970-13-45T00:00:00Z' is not a date and time"), "%s", out);
    free(out);

    /* a second run reads the file again and stores nothing twice */
    out = expect_run(0, "collect", "--once", NULL, NULL);
    cr_assert(strstr(out, "0 new, 8 duplicate, 0 rejected"), "%s", out);
    free(out);
    out = expect_run(0, "rejects", "--source", "legacy", NULL);
    cr_assert(strstr(out, "3 rejected rows from legacy"), "the rejects are kept once: %s", out);
    free(out);
}

Test(plugin, the_example_backfills_in_chunks)
{
    char so[512];
    example(so, sizeof so);
    write_cfg(so, "file = feed.log\nchunk = 40\n");
    char p[512];
    snprintf(p, sizeof p, "%s/feed.log", dir);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    long long t = (long long)(sr_now_ms() / 1000) - 7200;
    for (int i = 0; i < 100; i++)
        fprintf(f, "%lld calls force/n/u%d 1\n", t + i, i % 7);
    fclose(f);
    char *out = expect_run(0, "collect", "--once", NULL, NULL);
    /* 40 + 40 + 20: three polls, the first two handing over at once */
    int polls = 0;
    for (const char *s = out; (s = strstr(s, "legacy: ok")); s++)
        polls++;
    cr_assert_eq(polls, 3, "%s", out);
    cr_assert(strstr(out, "40 new, 0 duplicate, 0 rejected (total 40); next in 0s"), "%s", out);
    cr_assert(strstr(out, "20 new, 0 duplicate, 0 rejected (total 100)"), "%s", out);
    free(out);
    out = expect_run(0, "query", "calls", "--agg", "count");
    cr_assert(strstr(out, " 100 "), "%s", out);
    free(out);
}

Test(plugin, the_examples_own_checks_make_a_failing_source)
{
    char so[512];
    example(so, sizeof so);
    write_cfg(so, "file = missing.log\n");
    char *out = expect_run(1, "collect", "--once", NULL, NULL);
    cr_assert(strstr(out, "legacy: FAILED: cannot open"), "%s", out);
    cr_assert(strstr(out, "missing.log: No such file or directory"), "%s", out);
    free(out);
}

Test(plugin, a_plugin_for_another_abi_is_refused)
{
    char so[512];
    broken(so, sizeof so, "wrong_abi.so");
    write_cfg(so, "");
    /* its functions abort: a run that called one would not exit 2 */
    expect_refusal("check-config", "the plugin was built for adapter ABI version 99; this sitrep "
                                   "speaks versions 1 to 3");
    expect_refusal("collect", "wrong_abi.so refused");
}

Test(plugin, a_missing_shared_object_is_refused_with_dlerror)
{
    write_cfg("plugins/nope.so", "");
    char want[600];
    snprintf(want, sizeof want, "cannot load the plugin of [adapter.legacy]: %s/plugins/nope.so",
             dir);
    expect_refusal("check-config", want);
    expect_refusal("check-config", "No such file or directory");
}

Test(plugin, a_shared_object_without_the_entry_point_is_refused)
{
    char so[512];
    broken(so, sizeof so, "no_entry.so");
    write_cfg(so, "");
    expect_refusal("check-config", "is not a sitrep plugin: it does not export sitrep_adapter()");
}

Test(plugin, the_sections_keys_are_checked_against_the_plugins_options)
{
    char so[512];
    example(so, sizeof so);
    write_cfg(so, "fille = feed.log\n");
    char *out, *err;
    cr_assert_eq(run(&out, &err, "check-config", NULL, NULL, NULL), 2, "%s", out);
    char want[1024];
    snprintf(want, sizeof want,
             "%s:10: unknown key 'fille' in [adapter.legacy], did you mean "
             "'file'?",
             cfg);
    cr_assert(strstr(err, want), "%s", err);
    snprintf(want, sizeof want, "%s:7: missing required key 'file' in [adapter.legacy]", cfg);
    cr_assert(strstr(err, want), "%s", err);
    cr_assert(strstr(err, "(type textlog needs it)"), "%s", err);
    free(out);
    free(err);
}

Test(plugin, a_plugin_section_needs_a_path)
{
    th_write_file(cfg, "[adapter.legacy]\ntype = plugin\nfile = x\n");
    char *out, *err;
    cr_assert_eq(run(&out, &err, "check-config", NULL, NULL, NULL), 2, "%s", out);
    char want[1024];
    snprintf(want, sizeof want, "%s:1: missing required key 'path' in [adapter.legacy]", cfg);
    cr_assert(strstr(err, want), "%s", err);
    cr_assert_null(strstr(err, "'file'"), "the plugin's keys are judged only once it loads: %s",
                   err);
    free(out);
    free(err);
}

/* The loader itself: built-in types from the registry, plugins from their
 * shared objects, in the config's order. */
Test(plugin, types_of_every_section_in_order)
{
    char so[512], text[2048];
    example(so, sizeof so);
    snprintf(text, sizeof text,
             "[adapter.a]\ntype = sim\n"
             "[adapter.b]\ntype = plugin\npath = %s\nfile = x.log\n",
             so);
    sr_config *c = NULL;
    sr_cfg_errors errs = {0};
    cr_assert_eq(sr_config_parse(cfg, text, &c, &errs), 0);
    sr_cfg_errors_fini(&errs);
    sr_plugins *p = NULL;
    cr_assert_eq(sr_plugins_load(c, &p, &errs), 0, "%s", errs.n ? errs.v[0].msg : "");
    cr_assert_eq(sr_plugins_count(p), 1);
    cr_assert_eq(sr_plugins_adapter(p, 0), sr_registry_find("sim"));
    cr_assert_str_eq(sr_plugins_adapter(p, 1)->type, "textlog");
    cr_assert_eq(sr_plugins_adapter(p, 1)->abi_version, SR_ADAPTER_ABI);
    cr_assert_null(sr_plugins_adapter(p, 2));
    sr_plugins_destroy(p);
    sr_config_destroy(c);
}
