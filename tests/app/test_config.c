/*
 * test_config.c - config.ini parsing and validation (app/config.c).
 *
 * Each error class is checked by its exact "FILE:LINE: message", since the
 * line and the wording are what a user acts on. Texts are parsed from
 * memory under the name "t.ini"; files are written to a temporary
 * directory. Tests run from the repository root (the Makefile does so):
 * the default config.ini is loaded from there.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../app/config.h"
#include "../../app/paths.h"
#include "../helpers.h"

/* ---- helpers ---- */

/* Every error of errs as "FILE:LINE: msg" lines joined by '\n'. */
static char *join_errors(const sr_cfg_errors *errs)
{
    size_t cap = 1, used = 0;
    char *out = calloc(1, 1);
    for (size_t i = 0; i < errs->n; i++) {
        char line[1024];
        sr_cfg_error_format(&errs->v[i], line, sizeof line);
        size_t n = strlen(line) + 1;
        out = realloc(out, cap += n);
        cr_assert_not_null(out);
        used += (size_t)sprintf(out + used, "%s%s", i ? "\n" : "", line);
    }
    return out;
}

/* Parses text and returns its errors (caller frees); *rc gets the code. */
static char *errors_of(const char *text, int *rc)
{
    sr_config *cfg = (sr_config *)1;
    sr_cfg_errors errs;
    *rc = sr_config_parse("t.ini", text, &cfg, &errs);
    if (*rc == 0)
        cr_assert_not_null(cfg);
    else
        cr_assert_null(cfg, "no config is returned on error");
    char *joined = join_errors(&errs);
    sr_config_destroy(cfg);
    sr_cfg_errors_fini(&errs);
    cr_assert_eq(errs.n, 0);
    cr_assert_null(errs.v);
    return joined;
}

/* Asserts that text is refused with exactly these errors (joined by '\n'). */
static void expect_errors(const char *text, const char *expected)
{
    int rc;
    char *got = errors_of(text, &rc);
    cr_assert_eq(rc, SR_EINVAL, "rc %d for:\n%s", rc, text);
    cr_assert_str_eq(got, expected, "\n--- text:\n%s\n--- got:\n%s\n--- expected:\n%s", text, got,
                     expected);
    free(got);
}

/* Asserts that text is refused with one error that starts with prefix and
 * names the sim type (for messages listing the registry, which grows). */
static void expect_error_prefix(const char *text, const char *prefix)
{
    int rc;
    char *got = errors_of(text, &rc);
    cr_assert_eq(rc, SR_EINVAL);
    cr_assert(strncmp(got, prefix, strlen(prefix)) == 0, "got: %s\nexpected: %s...", got, prefix);
    cr_assert(strstr(got + strlen(prefix), "sim"), "%s", got);
    cr_assert_null(strchr(got, '\n'), "one error only: %s", got);
    free(got);
}

/* Parses text that must be valid; caller destroys the result. */
static sr_config *parse_ok(const char *text)
{
    sr_config *cfg = NULL;
    sr_cfg_errors errs;
    int rc = sr_config_parse("t.ini", text, &cfg, &errs);
    char *got = join_errors(&errs);
    cr_assert_eq(rc, 0, "rc %d, errors:\n%s\n--- text:\n%s", rc, got, text);
    cr_assert_eq(errs.n, 0);
    cr_assert_not_null(cfg);
    free(got);
    sr_cfg_errors_fini(&errs);
    return cfg;
}

static const sr_metric_def *metric(const sr_config *cfg, const char *name)
{
    const sr_metric_def *d = sr_catalog_find(&cfg->metrics, name);
    cr_assert_not_null(d, "metric %s", name);
    return d;
}

static void agg_is(sr_agg agg, const char *expected)
{
    char buf[32];
    sr_agg_format(agg, buf, sizeof buf);
    cr_assert_str_eq(buf, expected);
}

/* A fresh temporary directory, its real path (caller frees). */
static char *temp_dir(void)
{
    char tmpl[] = "/tmp/sitrep-test-config-XXXXXX";
    cr_assert_not_null(mkdtemp(tmpl));
    char *real = realpath(tmpl, NULL);
    cr_assert_not_null(real);
    return real;
}

static char *write_file(const char *dir, const char *name, const char *text, size_t len)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(text, 1, len, f), len);
    fclose(f);
    return path;
}

/* ---- what is valid, and the defaults ---- */

Test(config, empty_file_is_valid_with_defaults)
{
    setenv("XDG_STATE_HOME", "/srv/state", 1);
    sr_config *cfg = parse_ok("");
    cr_assert_str_eq(cfg->title, "sitrep");
    cr_assert_str_eq(cfg->timezone, "UTC");
    cr_assert_eq(cfg->retention_ms, 400 * SR_MS_DAY);
    cr_assert_str_eq(cfg->cache, "/srv/state/sitrep/cache.db");
    cr_assert_str_eq(cfg->path, "t.ini");
    cr_assert_eq(cfg->metrics.n, 0);
    cr_assert_eq(cfg->n_adapters, 0);
    cr_assert_eq(cfg->n_panels, 0);
    sr_config_destroy(cfg);

    cfg = parse_ok("; only a comment\n\n# and another\n");
    sr_config_destroy(cfg);
}

Test(config, default_cache_under_home_when_xdg_state_home_is_unset_or_relative)
{
    setenv("HOME", "/home/duty", 1);
    unsetenv("XDG_STATE_HOME");
    sr_config *cfg = parse_ok("[sitrep]\n");
    cr_assert_str_eq(cfg->cache, "/home/duty/.local/state/sitrep/cache.db");
    sr_config_destroy(cfg);

    setenv("XDG_STATE_HOME", "relative/state", 1); /* XDG: relative paths are ignored */
    cfg = parse_ok("");
    cr_assert_str_eq(cfg->cache, "/home/duty/.local/state/sitrep/cache.db");
    sr_config_destroy(cfg);
}

Test(config, only_sitrep_and_metrics_is_valid)
{
    sr_config *cfg = parse_ok("[sitrep]\n"
                              "title = Night shift\n"
                              "timezone = Europe/London\n"
                              "retention = 30d\n"
                              "[metric.calls]\n"
                              "kind = counter\n");
    cr_assert_str_eq(cfg->title, "Night shift");
    cr_assert_str_eq(cfg->timezone, "Europe/London");
    cr_assert_eq(cfg->retention_ms, 30 * SR_MS_DAY);
    cr_assert_eq(cfg->metrics.n, 1);
    cr_assert_eq(cfg->n_adapters, 0);
    cr_assert_eq(cfg->n_panels, 0);
    sr_config_destroy(cfg);
}

Test(config, metric_defaults_follow_the_kind)
{
    sr_config *cfg = parse_ok("[metric.e]\nkind = event\n"
                              "[metric.g]\nkind = gauge\n"
                              "[metric.c]\nkind = counter\n"
                              "[metric.r]\nkind = ratio\nnumerator = c\ndenominator = g\n");
    cr_assert_eq(cfg->metrics.n, 4);
    const sr_metric_def *e = metric(cfg, "e");
    cr_assert_eq(e->kind, SR_KIND_EVENT);
    agg_is(e->agg, "p90");
    agg_is(metric(cfg, "g")->agg, "last");
    agg_is(metric(cfg, "c")->agg, "sum");
    agg_is(metric(cfg, "r")->agg, "value");
    cr_assert_str_eq(e->label, "e", "label defaults to NAME");
    cr_assert_str_eq(e->unit, "");
    cr_assert(isnan(e->target) && isnan(e->warn) && isnan(e->crit));
    cr_assert_eq(e->better, SR_BETTER_LOWER);
    cr_assert_eq(e->percentile, SR_PCT_NEAREST_RANK);
    const sr_metric_def *r = metric(cfg, "r");
    cr_assert_eq(r->kind, SR_KIND_RATIO);
    cr_assert_str_eq(r->numerator, "c");
    cr_assert_str_eq(r->denominator, "g");
    cr_assert_float_eq(r->scale, 1.0, 1e-12);
    sr_config_destroy(cfg);
}

Test(config, panel_defaults_come_from_its_metric)
{
    /* the panel comes first: references are resolved after the whole file */
    sr_config *cfg = parse_ok("[panel.p]\nmetric = resp\n"
                              "[metric.resp]\nkind = event\nagg = p95\nlabel = Response\n");
    cr_assert_eq(cfg->n_panels, 1);
    const sr_cfg_panel *p = &cfg->panels[0];
    cr_assert_str_eq(p->name, "p");
    cr_assert_str_eq(p->metric, "resp");
    agg_is(p->agg, "p95");
    cr_assert_str_eq(p->title, "Response");
    cr_assert_eq(p->window_ms, 8 * SR_MS_HOUR);
    cr_assert_str_eq(p->widget, "tile");
    cr_assert_str_eq(p->entity, "");
    cr_assert_eq(p->line, 1);
    sr_config_destroy(cfg);
}

Test(config, panel_short_title)
{
    sr_config *cfg = parse_ok("[metric.resp]\nkind = event\nlabel = Emergency response P1\n"
                              "[panel.p]\nmetric = resp\nshort = P1 response\n"
                              "[panel.q]\nmetric = resp\n");
    cr_assert_eq(cfg->n_panels, 2);
    cr_assert_str_eq(cfg->panels[0].title, "Emergency response P1");
    cr_assert_str_eq(cfg->panels[0].short_title, "P1 response");
    cr_assert_str_eq(cfg->panels[1].short_title, "", "no short title unless given");
    sr_config_destroy(cfg);
}

Test(config, adapter_defaults_and_its_own_keys_in_file_order)
{
    sr_config *cfg = parse_ok("[adapter.demo]\n"
                              "root = met\n"
                              "type = sim\n"
                              "seed = 7\n");
    cr_assert_eq(cfg->n_adapters, 1);
    const sr_cfg_adapter *a = &cfg->adapters[0];
    cr_assert_str_eq(a->name, "demo");
    cr_assert_str_eq(a->type, "sim");
    cr_assert_eq(a->interval_ms, 5 * SR_MS_SEC);
    cr_assert_eq(a->timeout_ms, 10 * SR_MS_SEC);
    cr_assert_eq(a->line, 1);
    cr_assert_eq(a->n_opts, 2, "type is not one of the type's own keys");
    cr_assert_str_eq(a->opts[0].key, "root");
    cr_assert_str_eq(a->opts[0].value, "met");
    cr_assert_eq(a->opts[0].line, 2);
    cr_assert_str_eq(a->opts[1].key, "seed");
    cr_assert_eq(a->opts[1].line, 4);

    sr_ad_option v[2];
    sr_ad_options o;
    sr_cfg_adapter_options(cfg, a, v, &o);
    cr_assert_eq(o.n, 2);
    cr_assert_eq(o.v, v);
    cr_assert_str_eq(o.name, "demo");
    cr_assert_str_eq(o.config_dir, cfg->dir);
    cr_assert_str_eq(sr_ad_opt(&o, "seed"), "7");
    cr_assert_eq(v[0].line, 2);
    cr_assert_null(sr_ad_opt(&o, "backfill"));
    sr_config_destroy(cfg);
}

Test(config, adapter_values_may_be_long_and_continue_on_indented_lines)
{
    /* a line of 5000 bytes (a long SQL query, a URL) is read whole */
    char text[6000], root[5001];
    memset(root, 'r', 5000);
    root[5000] = '\0';
    snprintf(text, sizeof text,
             "[adapter.demo]\n"
             "type = sim\n"
             "root = %s ; a comment\n"
             "seed = 1\n"
             "    2\n"
             "\n"
             "    3\n",
             root);
    sr_config *cfg = parse_ok(text);
    const sr_cfg_adapter *a = &cfg->adapters[0];
    cr_assert_eq(a->n_opts, 2);
    cr_assert_str_eq(a->opts[0].key, "root");
    cr_assert_str_eq(a->opts[0].value, root, "the whole value, the comment removed");
    cr_assert_str_eq(a->opts[1].value, "1 2 3", "continued lines joined by a blank");
    sr_config_destroy(cfg);
}

Test(config, full_config_sets_every_key)
{
    sr_config *cfg = parse_ok("[sitrep]\n"
                              "cache = /var/lib/sitrep/c.db\n"
                              "timezone = America/New_York\n"
                              "retention = 2w\n"
                              "title = Metro PD\n"
                              "[metric.resp]\n"
                              "kind = event\n"
                              "unit = s\n"
                              "label = Response\n"
                              "agg = p99.5\n"
                              "target = 600\n"
                              "warn = 700.5\n"
                              "crit = 900\n"
                              "better = lower\n"
                              "percentile = linear\n"
                              "[metric.in_service]\nkind = gauge\nagg = max\n"
                              "[metric.fleet]\nkind = gauge\n"
                              "[metric.util]\n"
                              "kind = ratio\n"
                              "numerator = in_service\n"
                              "denominator = fleet\n"
                              "scale = 100\n"
                              "better = higher\n"
                              "warn = 70\n"
                              "crit = 60\n"
                              "[adapter.s]\n"
                              "type = sim\n"
                              "interval = 1m30s\n"
                              "timeout = 500ms\n"
                              "seed = 3\n"
                              "backfill = 2d\n"
                              "root = metro\n"
                              "[panel.a]\n"
                              "metric = resp\n"
                              "entity = metro/north\n"
                              "agg = within\n"
                              "window = 24h\n"
                              "title = P1 within target\n"
                              "widget = histogram\n");
    cr_assert_str_eq(cfg->cache, "/var/lib/sitrep/c.db");
    cr_assert_str_eq(cfg->timezone, "America/New_York");
    cr_assert_eq(cfg->retention_ms, 14 * SR_MS_DAY);
    cr_assert_str_eq(cfg->title, "Metro PD");

    const sr_metric_def *r = metric(cfg, "resp");
    cr_assert_str_eq(r->unit, "s");
    cr_assert_str_eq(r->label, "Response");
    cr_assert_eq(r->agg.kind, SR_AGG_PCT);
    cr_assert_float_eq(r->agg.p, 99.5, 1e-12);
    cr_assert_float_eq(r->target, 600, 1e-12);
    cr_assert_float_eq(r->warn, 700.5, 1e-12);
    cr_assert_float_eq(r->crit, 900, 1e-12);
    cr_assert_eq(r->percentile, SR_PCT_LINEAR);
    agg_is(metric(cfg, "in_service")->agg, "max");
    const sr_metric_def *u = metric(cfg, "util");
    cr_assert_eq(u->better, SR_BETTER_HIGHER);
    cr_assert_float_eq(u->scale, 100, 1e-12);

    const sr_cfg_adapter *a = &cfg->adapters[0];
    cr_assert_eq(a->interval_ms, 90 * SR_MS_SEC);
    cr_assert_eq(a->timeout_ms, 500);
    cr_assert_eq(a->n_opts, 3);

    const sr_cfg_panel *p = &cfg->panels[0];
    cr_assert_str_eq(p->entity, "metro/north");
    agg_is(p->agg, "within");
    cr_assert_eq(p->window_ms, 24 * SR_MS_HOUR);
    cr_assert_str_eq(p->title, "P1 within target");
    cr_assert_str_eq(p->widget, "histogram");
    sr_config_destroy(cfg);
}

Test(config, values_are_read_by_the_ini_grammar)
{
    sr_config *cfg = parse_ok("\xEF\xBB\xBF[sitrep]\r\n"           /* BOM, CRLF */
                              "title = \"Quoted\" ; a comment\r\n" /* quotes kept */
                              "timezone: UTC\n"                    /* ':' separates too */
                              "[metric.m]\n"
                              "kind = event\n"
                              "label = Cases # open;x\n" /* no blank before ';': not a comment */
                              "    ; an indented comment is still a comment\n"
                              "unit=s\n");
    cr_assert_str_eq(cfg->title, "\"Quoted\"");
    cr_assert_str_eq(cfg->timezone, "UTC");
    cr_assert_str_eq(metric(cfg, "m")->label, "Cases # open;x");
    cr_assert_str_eq(metric(cfg, "m")->unit, "s");
    sr_config_destroy(cfg);
}

/* ---- files ---- */

Test(config, relative_cache_is_relative_to_the_config_directory)
{
    char *dir = temp_dir();
    static const char text[] = "[sitrep]\ncache = data/c.db\n";
    char *path = write_file(dir, "config.ini", text, sizeof text - 1);
    cr_assert_eq(chdir("/"), 0);
    sr_config *cfg = NULL;
    sr_cfg_errors errs;
    cr_assert_eq(sr_config_load(path, &cfg, &errs), 0);
    cr_assert_eq(errs.n, 0);
    char expected[4096];
    snprintf(expected, sizeof expected, "%s/data/c.db", dir);
    cr_assert_str_eq(cfg->cache, expected);
    cr_assert_str_eq(cfg->dir, dir);
    cr_assert_str_eq(cfg->path, path);
    sr_config_destroy(cfg);

    /* a relative config path gives an absolute directory */
    cr_assert_eq(chdir(dir), 0);
    cr_assert_eq(sr_config_load("config.ini", &cfg, &errs), 0);
    cr_assert_str_eq(cfg->dir, dir);
    cr_assert_str_eq(cfg->cache, expected);
    sr_config_destroy(cfg);

    static const char home[] = "[sitrep]\ncache = ~/s/c.db\n";
    free(write_file(dir, "home.ini", home, sizeof home - 1));
    setenv("HOME", "/home/duty", 1);
    cr_assert_eq(sr_config_load("home.ini", &cfg, &errs), 0);
    cr_assert_str_eq(cfg->cache, "/home/duty/s/c.db");
    sr_config_destroy(cfg);

    static const char abs[] = "[sitrep]\ncache = /abs/c.db\n";
    free(write_file(dir, "abs.ini", abs, sizeof abs - 1));
    cr_assert_eq(sr_config_load("abs.ini", &cfg, &errs), 0);
    cr_assert_str_eq(cfg->cache, "/abs/c.db");
    sr_config_destroy(cfg);
    free(path);
    free(dir);
}

Test(config, locate_prefers_argument_then_cwd_then_user_then_system)
{
    char *dir = temp_dir();
    cr_assert_eq(chdir(dir), 0);
    char xdg[600], home[600];
    snprintf(xdg, sizeof xdg, "%s/xdg", dir);
    snprintf(home, sizeof home, "%s/home", dir);
    setenv("XDG_CONFIG_HOME", xdg, 1);
    setenv("HOME", home, 1);

    /* none exists: the system's when installed, else the user's to create */
    char want[700];
    snprintf(want, sizeof want, "%s/sitrep/config.ini", xdg);
    char *p = sr_config_locate(NULL);
    cr_assert_str_eq(p, access(SR_SYSTEM_CONFIG, F_OK) == 0 ? SR_SYSTEM_CONFIG : want);
    free(p);

    /* the user's, once it exists; XDG_CONFIG_HOME unset or empty: ~/.config */
    char sub[700];
    snprintf(sub, sizeof sub, "%s/sitrep", xdg);
    cr_assert_eq(mkdir(xdg, 0700) | mkdir(sub, 0700), 0);
    free(write_file(sub, "config.ini", "", 0));
    p = sr_config_locate(NULL);
    cr_assert_str_eq(p, want);
    free(p);
    snprintf(sub, sizeof sub, "%s/.config", home);
    cr_assert_eq(mkdir(home, 0700) | mkdir(sub, 0700), 0);
    strcat(sub, "/sitrep");
    cr_assert_eq(mkdir(sub, 0700), 0);
    free(write_file(sub, "config.ini", "", 0));
    snprintf(want, sizeof want, "%s/.config/sitrep/config.ini", home);
    unsetenv("XDG_CONFIG_HOME");
    p = sr_config_locate(NULL);
    cr_assert_str_eq(p, want);
    free(p);
    setenv("XDG_CONFIG_HOME", "", 1); /* empty: as if unset */
    p = sr_config_locate(NULL);
    cr_assert_str_eq(p, want);
    free(p);

    free(write_file(dir, "config.ini", "", 0));
    setenv("XDG_CONFIG_HOME", xdg, 1);
    p = sr_config_locate(NULL);
    cr_assert_str_eq(p, "config.ini");
    free(p);

    p = sr_config_locate("/somewhere/else.ini");
    cr_assert_str_eq(p, "/somewhere/else.ini", "--config wins even over ./config.ini");
    free(p);
    free(dir);
}

Test(config, missing_file_is_enoent_with_one_error)
{
    sr_config *cfg = (sr_config *)1;
    sr_cfg_errors errs;
    int rc = sr_config_load("/nonexistent/sitrep/config.ini", &cfg, &errs);
    cr_assert_eq(rc, SR_ENOENT);
    cr_assert_null(cfg);
    char *got = join_errors(&errs);
    cr_assert_str_eq(got, "/nonexistent/sitrep/config.ini: cannot open: No such file or directory");
    free(got);
    sr_cfg_errors_fini(&errs);
}

Test(config, nul_byte_in_a_file_is_reported_at_its_line)
{
    char *dir = temp_dir();
    static const char text[] = "[sitrep]\ntitle = a\0b\n";
    char *path = write_file(dir, "nul.ini", text, sizeof text - 1);
    sr_config *cfg = NULL;
    sr_cfg_errors errs;
    cr_assert_eq(sr_config_load(path, &cfg, &errs), SR_EINVAL);
    cr_assert_null(cfg);
    cr_assert_eq(errs.n, 1);
    cr_assert_eq(errs.v[0].line, 2);
    cr_assert_str_eq(errs.v[0].msg, "a NUL byte, expected text (is this a config file?)");
    sr_cfg_errors_fini(&errs);
    free(path);
    free(dir);
}

/* The repository's config.ini: it must load, and it carries the metric
 * names the simulator writes. */
Test(config, default_config_ini_loads)
{
    FILE *f = fopen("config.ini", "r");
    cr_assert_not_null(f, "run the tests from the repository root");
    fclose(f);
    sr_config *cfg = NULL;
    sr_cfg_errors errs;
    int rc = sr_config_load("config.ini", &cfg, &errs);
    char *got = join_errors(&errs);
    cr_assert_eq(rc, 0, "%s", got);
    free(got);
    sr_cfg_errors_fini(&errs);

    cr_assert_str_eq(cfg->title, "Demo Police");
    cr_assert_str_eq(cfg->timezone, "Europe/London");
    cr_assert_eq(cfg->retention_ms, 400 * SR_MS_DAY);
    cr_assert_eq(cfg->n_adapters, 1);
    cr_assert_str_eq(cfg->adapters[0].type, "sim");
    cr_assert_eq(cfg->adapters[0].interval_ms, 5 * SR_MS_SEC);

    static const char *const names[] = {
        "response_p1",       "response_p2",        "response_p3",         "calls",
        "cases_open",        "cases_age_0_30",     "cases_age_31_90",     "cases_age_91_180",
        "cases_age_181_365", "cases_age_over_365", "overtime_hours",      "officer_overtime",
        "regular_hours",     "overtime_share",     "vehicles_in_service", "fleet_size",
        "fleet_utilization", "equipment_in_use",   "equipment_available", "equipment_utilization",
        "budget_spent",      "budget_plan",        "budget_execution"};
    cr_assert_eq(cfg->metrics.n, sizeof names / sizeof names[0]);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        metric(cfg, names[i]);

    const sr_metric_def *p1 = metric(cfg, "response_p1");
    cr_assert_eq(p1->kind, SR_KIND_EVENT);
    cr_assert_str_eq(p1->label, "Emergency response P1");
    agg_is(p1->agg, "p90");
    cr_assert_float_eq(p1->crit, 1200, 1e-9);
    const sr_metric_def *ot = metric(cfg, "overtime_share");
    cr_assert_eq(ot->kind, SR_KIND_RATIO);
    cr_assert_str_eq(ot->numerator, "overtime_hours");
    cr_assert_str_eq(ot->denominator, "regular_hours");
    cr_assert_float_eq(ot->scale, 100, 1e-9);
    cr_assert_eq(metric(cfg, "fleet_utilization")->better, SR_BETTER_HIGHER);
    cr_assert_eq(metric(cfg, "budget_execution")->better, SR_BETTER_LOWER);
    cr_assert_float_eq(metric(cfg, "budget_execution")->crit, 108, 1e-9);
    cr_assert_str_eq(metric(cfg, "budget_spent")->unit, "EUR");

    /* every widget is shown, and the windows fit the family */
    static const char *const widgets[] = {"tile",  "sparkline", "gauge",     "bars",
                                          "table", "chart",     "histogram", "spread"};
    for (size_t w = 0; w < sizeof widgets / sizeof widgets[0]; w++) {
        bool found = false;
        for (size_t i = 0; i < cfg->n_panels; i++)
            found = found || strcmp(cfg->panels[i].widget, widgets[w]) == 0;
        cr_assert(found, "no panel with widget %s", widgets[w]);
    }
    for (size_t i = 0; i < cfg->n_panels; i++) {
        const sr_cfg_panel *p = &cfg->panels[i];
        if (strncmp(p->metric, "response_", 9) == 0)
            cr_assert_eq(p->window_ms, 8 * SR_MS_HOUR, "%s", p->name);
        if (strcmp(p->metric, "calls") == 0) /* the chart of a day, the tile of the last hour,
                                                 the workload of a shift */
            cr_assert_eq(p->window_ms, strcmp(p->baseline, "yes") == 0    ? SR_MS_HOUR
                                       : strcmp(p->widget, "spread") == 0 ? 8 * SR_MS_HOUR
                                                                          : 24 * SR_MS_HOUR);
        if (strncmp(p->metric, "cases_", 6) == 0 || strcmp(p->metric, "fleet_utilization") == 0)
            cr_assert_eq(p->window_ms, SR_MS_HOUR, "%s", p->name);
        if (strncmp(p->metric, "budget", 6) == 0 || strncmp(p->metric, "overtime", 8) == 0)
            cr_assert(p->window_ms == 7 * SR_MS_DAY || p->window_ms == 28 * SR_MS_DAY);
    }
    /* the overview's tiles against their normal (the calls of the last hour, the response
     * times, open cases), the calls with the next 8 hours' forecast; every other panel as by
     * default */
    static const char *const against_normal[] = {"calls_now", "p1", "p2", "p3", "cases"};
    for (size_t i = 0; i < cfg->n_panels; i++) {
        bool want = false;
        for (size_t k = 0; k < sizeof against_normal / sizeof against_normal[0]; k++)
            want = want || strcmp(cfg->panels[i].name, against_normal[k]) == 0;
        cr_assert_str_eq(cfg->panels[i].baseline, want ? "yes" : "no", "%s", cfg->panels[i].name);
        cr_assert_str_eq(cfg->panels[i].forecast,
                         strcmp(cfg->panels[i].name, "calls_now") == 0 ? "yes" : "no", "%s",
                         cfg->panels[i].name);
    }
    sr_config_destroy(cfg);
}

/* ---- every error class, with its line ---- */

Test(config, unknown_section_suggests_the_nearest_kind)
{
    expect_errors("[metrc.x]\nkind = event\n",
                  "t.ini:1: unknown section [metrc.x], did you mean [metric.x]?");
    expect_errors("\n[sitrp]\n", "t.ini:2: unknown section [sitrp], did you mean [sitrep]?");
    expect_errors("[panels]\n", "t.ini:1: unknown section [panels], did you mean [panel.NAME]?");
    expect_errors("[source.x]\n", "t.ini:1: unknown section [source.x], expected [sitrep], "
                                  "[metric.NAME], [adapter.NAME] or [panel.NAME]");
}

Test(config, section_names_are_checked)
{
    expect_errors("[metric]\n", "t.ini:1: section [metric] needs a name, expected [metric.NAME]");
    expect_errors("[sitrep.main]\n",
                  "t.ini:1: section [sitrep.main] takes no name, expected [sitrep]");
    expect_errors("[metric.response p1]\nkind = event\n",
                  "t.ini:1: invalid name 'response p1' in [metric.response p1], expected 1 to "
                  "63 letters, digits, '_' or '-'");
    expect_errors("[panel.]\n", "t.ini:1: invalid name '' in [panel.], expected 1 to 63 "
                                "letters, digits, '_' or '-'");
    /* 63 characters fit SR_NAME_MAX, 64 do not */
    char text[256];
    const char *n63 = "a23456789012345678901234567890123456789012345678901234567890123";
    cr_assert_eq(strlen(n63), SR_NAME_MAX - 1);
    snprintf(text, sizeof text, "[metric.%s]\nkind = gauge\n", n63);
    sr_config *cfg = parse_ok(text);
    cr_assert_str_eq(cfg->metrics.v[0].name, n63);
    sr_config_destroy(cfg);
    snprintf(text, sizeof text, "[metric.%s4]\nkind = gauge\n", n63);
    int rc;
    char *got = errors_of(text, &rc);
    cr_assert_eq(rc, SR_EINVAL);
    cr_assert(strstr(got, "t.ini:1: invalid name 'a2345"), "%s", got);
    free(got);
}

Test(config, unknown_key_names_the_nearest_valid_key)
{
    expect_errors("[metric.response_p1]\nkind = event\ntaget = 900\n",
                  "t.ini:3: unknown key 'taget' in [metric.response_p1], did you mean 'target'?");
    expect_errors(
        "[sitrep]\ntimezone = UTC\ncolour = red\n",
        "t.ini:3: unknown key 'colour' in [sitrep], expected one of cache, cache_group, timezone, "
        "retention, accept_ahead, title, theme, refresh, shift, reports, levels, personal, "
        "min_cell, cell_grid, baseline_exclude");
    expect_errors("[panel.p]\nmetric = m\nWindow = 1h\n[metric.m]\nkind = gauge\n",
                  "t.ini:3: unknown key 'Window' in [panel.p], did you mean 'window'?");
}

Test(config, bad_values_say_what_was_expected)
{
    expect_errors("[adapter.a]\ntype = sim\ninterval = fast\n",
                  "t.ini:3: interval: expected a duration such as 5s, 10m, 8h, got 'fast'");
    expect_errors("[adapter.a]\ntype = sim\ntimeout = 10ms\n",
                  "t.ini:3: timeout: expected a duration between 100ms and 1h, got '10ms'");
    expect_errors("[metric.m]\nkind = event\ntarget = 15min\n",
                  "t.ini:3: target: expected a number such as 900 or 0.5, got '15min'");
    expect_errors("[metric.m]\nkind = event\nwarn = nan\n",
                  "t.ini:3: warn: expected a number such as 900 or 0.5, got 'nan'");
    expect_errors("[metric.m]\nkind = events\n",
                  "t.ini:2: kind: expected one of event, gauge, counter, ratio, got 'events', "
                  "did you mean 'event'?");
    expect_errors("[metric.m]\nkind = gauge\nbetter = up\n",
                  "t.ini:3: better: expected one of lower, higher, got 'up'");
    expect_errors("[metric.m]\nkind = event\npercentile = exact\n",
                  "t.ini:3: percentile: expected one of nearest_rank, linear, got 'exact'");
    expect_errors("[sitrep]\ntimezone = Europe/Lodnon\n",
                  "t.ini:2: timezone: unknown time zone 'Europe/Lodnon', expected a time zone "
                  "known to tzdata, such as Europe/London or UTC");
    expect_errors("[metric.m]\nkind = event\nagg = p900\n",
                  "t.ini:3: agg: expected an aggregate: count, sum, avg, min, max, last, pNN "
                  "(such as p90), within or value, got 'p900'");
    expect_errors("[panel.p]\nmetric = m\nwidget = pie\n[metric.m]\nkind = gauge\n",
                  "t.ini:3: widget: expected one of tile, sparkline, gauge, bars, table, chart, "
                  "histogram, spread, got 'pie'");
    expect_errors("[metric.r]\nkind = ratio\nnumerator = a\ndenominator = b\nscale = 0\n"
                  "[metric.a]\nkind = counter\n[metric.b]\nkind = counter\n",
                  "t.ini:5: scale: expected a number greater than 0, got '0'");
    expect_errors("[sitrep]\nretention = 2h\n",
                  "t.ini:2: retention: expected a duration of at least 1d, got '2h'");
    expect_errors("[panel.p]\nmetric = bad name\n",
                  "t.ini:2: metric: expected the NAME of a [metric.NAME] section, got 'bad name'");
    expect_errors("[sitrep]\ntitle = "
                  "0123456789012345678901234567890123456789012345678901234567890123456789"
                  "0123456789012345678901234567890\n",
                  "t.ini:2: title: too long (101 bytes), expected at most 95 bytes");
    expect_errors("[metric.m]\nkind = gauge\n[panel.p]\nmetric = m\nshort = "
                  "0123456789012345678901234567890123456789012345678901234567890123456789"
                  "0123456789012345678901234567890\n",
                  "t.ini:5: short: too long (101 bytes), expected at most 95 bytes");
}

Test(config, aggregates_must_suit_the_kind)
{
    expect_errors("[metric.g]\nkind = gauge\nagg = p90\n",
                  "t.ini:3: agg: 'p90' does not suit a gauge metric, expected one of count, "
                  "sum, avg, min, max, last, value");
    expect_errors("[metric.r]\nagg = sum\nkind = ratio\nnumerator = a\ndenominator = b\n"
                  "[metric.a]\nkind = counter\n[metric.b]\nkind = counter\n",
                  "t.ini:2: agg: 'sum' does not suit a ratio metric, expected one of value");
    expect_errors("[panel.p]\nmetric = c\nagg = within\n[metric.c]\nkind = counter\n",
                  "t.ini:3: agg: 'within' does not suit metric 'c' (a counter), expected one of "
                  "count, sum, avg, min, max, last, value");
}

/* forecast = yes only where cmd_forecast makes one: a count, a sum or a
 * level; an event's own aggregate (a percentile) has none. */
Test(config, forecast_only_for_counts_and_levels)
{
    expect_errors(
        "[panel.p]\nmetric = e\nforecast = yes\n[metric.e]\nkind = event\n",
        "t.ini:3: forecast: the p90 of metric 'e' (kind event) has no forecast, expected a "
        "count, a sum or a level (count sum avg min max last), not a percentile, a share "
        "or a ratio");
    sr_config *cfg = parse_ok("[panel.p]\nmetric = e\nagg = count\nforecast = yes\nbaseline = "
                              "yes\n[metric.e]\nkind = event\n");
    cr_assert_str_eq(cfg->panels[0].forecast, "yes");
    sr_config_destroy(cfg);
}

Test(config, missing_required_keys_are_reported_at_the_section_header)
{
    expect_errors("; metrics\n\n[metric.m]\nunit = s\n",
                  "t.ini:3: missing required key 'kind' in [metric.m], expected one of event, "
                  "gauge, counter, ratio");
    expect_error_prefix("[adapter.a]\ninterval = 5s\n",
                        "t.ini:1: missing required key 'type' in [adapter.a], expected one of ");
    expect_errors("[metric.m]\nkind = gauge\n[panel.p]\n",
                  "t.ini:3: missing required key 'metric' in [panel.p], expected the NAME of a "
                  "[metric.NAME] section");
    expect_errors("[metric.r]\nkind = ratio\n",
                  "t.ini:1: missing required key 'numerator' in [metric.r], expected the NAME "
                  "of a [metric.NAME] section (a ratio needs a numerator and a denominator)\n"
                  "t.ini:1: missing required key 'denominator' in [metric.r], expected the NAME "
                  "of a [metric.NAME] section (a ratio needs a numerator and a denominator)");
}

Test(config, a_key_with_a_bad_value_is_not_also_missing)
{
    expect_errors("[metric.m]\nkind = ?\n",
                  "t.ini:2: kind: expected one of event, gauge, counter, ratio, got '?'");
}

Test(config, duplicate_keys_and_sections)
{
    expect_errors("[metric.m]\nkind = event\ntarget = 1\n\ntarget = 2\n",
                  "t.ini:5: duplicate key 'target' in [metric.m], first set at line 3");
    expect_errors("[adapter.a]\ntype = sim\nseed = 1\nseed = 2\n",
                  "t.ini:4: duplicate key 'seed' in [adapter.a], first set at line 3");
    expect_errors("[metric.m]\nkind = event\n[sitrep]\n[metric.m]\nkind = gauge\n",
                  "t.ini:4: duplicate section [metric.m], first defined at line 1");
    expect_errors("[sitrep]\n[sitrep]\n",
                  "t.ini:2: duplicate section [sitrep], first defined at line 1");
    /* the keys of a duplicate are still checked */
    expect_errors("[metric.m]\nkind = event\n[metric.m]\nknd = gauge\n",
                  "t.ini:3: duplicate section [metric.m], first defined at line 1\n"
                  "t.ini:4: unknown key 'knd' in [metric.m], did you mean 'kind'?");
}

Test(config, references_to_undefined_metrics)
{
    expect_errors("[panel.p]\nmetric = respnse_p1\n[metric.response_p1]\nkind = event\n",
                  "t.ini:2: metric: no metric 'respnse_p1' is defined in this file, did you mean "
                  "'response_p1'?");
    expect_errors("[metric.r]\nkind = ratio\nnumerator = a\ndenominator = zzz\n"
                  "[metric.a]\nkind = gauge\n",
                  "t.ini:4: denominator: no metric 'zzz' is defined in this file, expected the "
                  "NAME of a [metric.NAME] section");
}

Test(config, per_is_a_spread_widgets_metric)
{
    expect_errors("[metric.calls]\nkind = event\n[metric.on_duty]\nkind = gauge\n"
                  "[panel.p]\nmetric = calls\nwidget = spread\nper = on_dty\n",
                  "t.ini:8: per: no metric 'on_dty' is defined in this file, did you mean "
                  "'on_duty'?");
    expect_errors("[metric.calls]\nkind = event\n[metric.on_duty]\nkind = gauge\n"
                  "[panel.p]\nmetric = calls\nwidget = bars\nper = on_duty\n",
                  "t.ini:8: per: only a spread widget divides by a metric, this panel's widget "
                  "is 'bars'");
}

Test(config, a_ratio_cannot_refer_to_a_ratio)
{
    expect_errors("[metric.a]\nkind = counter\n"
                  "[metric.r1]\nkind = ratio\nnumerator = a\ndenominator = a\n"
                  "[metric.r2]\nkind = ratio\nnumerator = a\ndenominator = r1\n",
                  "t.ini:10: denominator: 'r1' is a ratio, expected an event, gauge or counter "
                  "metric (a ratio of ratios is not computed)");
    expect_errors("[metric.r]\nkind = ratio\nnumerator = r\ndenominator = r\n",
                  "t.ini:3: numerator: 'r' is a ratio, expected an event, gauge or counter metric "
                  "(a ratio of ratios is not computed)\n"
                  "t.ini:4: denominator: 'r' is a ratio, expected an event, gauge or counter "
                  "metric (a ratio of ratios is not computed)");
}

Test(config, ratio_keys_only_in_a_ratio)
{
    expect_errors("[metric.g]\nkind = gauge\nnumerator = x\nscale = 100\n",
                  "t.ini:3: numerator: only a ratio metric has a numerator, this one is kind = "
                  "gauge\n"
                  "t.ini:4: scale: only a ratio metric has a scale, this one is kind = gauge");
}

Test(config, thresholds_must_agree_with_better)
{
    expect_errors("[metric.m]\nkind = event\nwarn = 1200\ncrit = 900\n",
                  "t.ini:4: crit: warn = 1200 and crit = 900 contradict better = lower, "
                  "expected warn <= crit");
    expect_errors("[metric.m]\nkind = gauge\ncrit = 70\nbetter = higher\nwarn = 60\n",
                  "t.ini:3: crit: warn = 60 and crit = 70 contradict better = higher, expected "
                  "warn >= crit");
    sr_config *cfg = parse_ok("[metric.a]\nkind = event\nwarn = 900\ncrit = 900\n"
                              "[metric.b]\nkind = gauge\nbetter = higher\nwarn = 70\ncrit = 60\n"
                              "[metric.c]\nkind = gauge\nwarn = 70\n");
    sr_config_destroy(cfg);
}

Test(config, panel_window_must_fit_the_retention)
{
    expect_errors("[sitrep]\nretention = 30d\n[metric.m]\nkind = gauge\n"
                  "[panel.p]\nmetric = m\nwindow = 60d\n",
                  "t.ini:7: window: 60d is longer than the retention (30d), expected at most 30d");
    expect_errors("[metric.m]\nkind = gauge\n[panel.p]\nmetric = m\nwindow = 30s\n",
                  "t.ini:5: window: expected a duration of at least 1m, got '30s'");
}

Test(config, adapter_type_and_its_keys)
{
    expect_errors("[adapter.a]\ntype = simm\n",
                  "t.ini:2: type: unknown adapter type 'simm', did you mean 'sim'?");
    expect_error_prefix("[adapter.a]\ntype = oracle\n",
                        "t.ini:2: type: unknown adapter type 'oracle', expected one of ");
    expect_errors("[adapter.a]\nsed = 1\ntype = sim\n",
                  "t.ini:2: unknown key 'sed' in [adapter.a], did you mean 'seed'?");
    expect_errors("[adapter.a]\ntype = sim\nintervall = 5s\n",
                  "t.ini:3: unknown key 'intervall' in [adapter.a], did you mean 'interval'?");
    /* without a known type its own keys are not judged: one error, not two */
    expect_error_prefix("[adapter.a]\ntype = nosuch\nsed = 1\n",
                        "t.ini:2: type: unknown adapter type 'nosuch', expected one of ");
}

/* A type with a required key, as a plugin would bring. */
static const sr_ad_option_spec csvlike_opts[] = {
    {.key = "path", .required = 1, .help = "the CSV file to read"},
    {.key = "delimiter", .required = 0, .help = "field separator, default ,"},
    {NULL, 0, NULL},
};
static const sr_adapter csvlike = {
    .abi_version = SR_ADAPTER_ABI, .type = "csvlike", .options = csvlike_opts};

Test(config, check_adapter_against_another_type)
{
    sr_config *cfg = parse_ok("[adapter.f]\ntype = sim\nroot = x\n");
    sr_cfg_errors errs = {0};
    cr_assert_eq(sr_cfg_check_adapter(cfg, &cfg->adapters[0], &csvlike, &errs), SR_EINVAL);
    char *got = join_errors(&errs);
    cr_assert_str_eq(got,
                     "t.ini:1: missing required key 'path' in [adapter.f], expected the CSV file "
                     "to read (type csvlike needs it)\n"
                     "t.ini:3: unknown key 'root' in [adapter.f], expected one of type, interval, "
                     "timeout, path, delimiter");
    free(got);
    sr_cfg_errors_fini(&errs);
    sr_config_destroy(cfg);

    cfg = parse_ok("[adapter.f]\ntype = sim\nseed = 2\n");
    free(cfg->adapters[0].opts[0].key);
    cfg->adapters[0].opts[0].key = strdup("pth"); /* as a plugin's section would hold it */
    cr_assert_eq(sr_cfg_check_adapter(cfg, &cfg->adapters[0], &csvlike, &errs), SR_EINVAL);
    got = join_errors(&errs);
    cr_assert_str_eq(got, "t.ini:1: missing required key 'path' in [adapter.f], expected the CSV "
                          "file to read (type csvlike needs it)\n"
                          "t.ini:3: unknown key 'pth' in [adapter.f], did you mean 'path'?");
    free(got);
    sr_cfg_errors_fini(&errs);
    free(cfg->adapters[0].opts[0].key);
    cfg->adapters[0].opts[0].key = strdup("path");
    cr_assert_eq(sr_cfg_check_adapter(cfg, &cfg->adapters[0], &csvlike, &errs), 0);
    cr_assert_eq(errs.n, 0);
    sr_config_destroy(cfg);
}

Test(config, syntax_errors_are_all_reported)
{
    /* every one is reported; keys under a broken header are ignored */
    expect_errors("[sitrep]\n"
                  "title\n"
                  "[metric.a\n"
                  "kind = event\n"
                  "[metric.b]\n"
                  "kind = gauge\n"
                  "oops\n",
                  "t.ini:2: expected key = value, got 'title'\n"
                  "t.ini:3: expected a section header such as [metric.NAME], got '[metric.a' (no "
                  "closing ']')\n"
                  "t.ini:7: expected key = value, got 'oops'");
    expect_errors("[metric.b] kind = gauge\nkind = gauge\n",
                  "t.ini:1: unexpected text 'kind = gauge' after the section header, expected a "
                  "new line");
    expect_errors("[metric.b]\n= gauge\nkind = gauge\n",
                  "t.ini:2: expected key = value, got no key before '='");
}

Test(config, indented_lines_do_not_silently_continue_a_value)
{
    expect_errors("[metric.m]\nkind = event\n  unit = s\n",
                  "t.ini:3: indented line, expected key = value at the start of the line (an "
                  "indented line would continue the previous value)");
    /* right after a header an indented key is an ordinary key (metrics/ini.h) */
    sr_config *cfg = parse_ok("[metric.m]\n  kind = event\n");
    sr_config_destroy(cfg);
}

Test(config, keys_outside_any_section)
{
    expect_errors("title = x\n\n[sitrep]\n",
                  "t.ini:1: key 'title' is outside any section, expected a section header such "
                  "as [sitrep] before it");
}

Test(config, over_long_lines)
{
    char text[1024];
    char value[301];
    memset(value, 'x', 300);
    value[300] = '\0';
    /* no line is too long for the reader: a long value is its option's to refuse */
    snprintf(text, sizeof text, "[sitrep]\n; %s\ntitle = %s\n[metric.m]\n", value, value);
    expect_errors(text, "t.ini:3: title: too long (300 bytes), expected at most 95 bytes\n"
                        "t.ini:4: missing required key 'kind' in [metric.m], expected one of "
                        "event, gauge, counter, ratio");
}

Test(config, several_errors_in_one_file_are_all_reported_in_line_order)
{
    expect_errors("[sitrep]\n"                /* 1 */
                  "timezone = Mars/Olympus\n" /* 2 */
                  "[panel.p1]\n"              /* 3 */
                  "metric = response_p1\n"    /* 4 */
                  "window = 8 hours\n"        /* 5 */
                  "[metric.response_p1]\n"    /* 6 */
                  "kind = event\n"            /* 7 */
                  "taget = 900\n"             /* 8 */
                  "warn = 1200\n"             /* 9 */
                  "crit = 900\n"              /* 10 */
                  "[metrc.calls]\n"           /* 11 */
                  "kind = counter\n"          /* 12 */
                  "[adapter.sim]\n"           /* 13 */
                  "type = sim\n"              /* 14 */
                  "[panel.p2]\n"              /* 15 */
                  "metric = calls\n",         /* 16 */
                  "t.ini:2: timezone: unknown time zone 'Mars/Olympus', expected a time zone "
                  "known to tzdata, such as Europe/London or UTC\n"
                  "t.ini:5: window: expected a duration such as 5s, 10m, 8h, got '8 hours'\n"
                  "t.ini:8: unknown key 'taget' in [metric.response_p1], did you mean 'target'?\n"
                  "t.ini:10: crit: warn = 1200 and crit = 900 contradict better = lower, "
                  "expected warn <= crit\n"
                  "t.ini:11: unknown section [metrc.calls], did you mean [metric.calls]?\n"

                  "t.ini:16: metric: no metric 'calls' is defined in this file, expected the "
                  "NAME of a [metric.NAME] section");
}

Test(config, messages_do_not_carry_control_characters)
{
    expect_errors("[sitrep]\ntitle = a\x1b[2Jb\n",
                  "t.ini:2: title: control characters are not allowed, got 'a\\x1b[2Jb'");
    expect_errors("[sitrep]\nti\x1btle = x\n",
                  "t.ini:2: unknown key 'ti\\x1btle' in [sitrep], did you mean 'title'?");
}

Test(config, errors_are_capped)
{
    size_t n = 300;
    char *text = malloc(10 + n * 4 + 1);
    strcpy(text, "[sitrep]\n");
    for (size_t i = 0; i < n; i++)
        strcat(text, "bad\n");
    sr_config *cfg = NULL;
    sr_cfg_errors errs;
    cr_assert_eq(sr_config_parse("t.ini", text, &cfg, &errs), SR_EINVAL);
    cr_assert_eq(errs.n, SR_CFG_MAX_ERRORS);
    cr_assert_eq(errs.v[0].line, 2);
    cr_assert_eq(errs.v[SR_CFG_MAX_ERRORS - 2].line, SR_CFG_MAX_ERRORS);
    cr_assert_eq(errs.v[SR_CFG_MAX_ERRORS - 1].line, 0);
    cr_assert_str_eq(errs.v[SR_CFG_MAX_ERRORS - 1].msg, "101 more errors not shown");
    sr_cfg_errors_fini(&errs);
    free(text);
}

Test(config, error_format)
{
    sr_cfg_error e = {.file = "a.ini", .line = 12, .msg = "bad"};
    char buf[64];
    sr_cfg_error_format(&e, buf, sizeof buf);
    cr_assert_str_eq(buf, "a.ini:12: bad");
    e.line = 0;
    sr_cfg_error_format(&e, buf, sizeof buf);
    cr_assert_str_eq(buf, "a.ini: bad");
}

/* ---- the tables ---- */

Test(config, option_tables_describe_every_option)
{
    cr_assert_eq(sr_cfg_section_count(), 9);
    cr_assert_null(sr_cfg_section_at(9));
    static const char *const kinds[] = {"sitrep", "metric", "adapter", "map", "panel",
                                        "page",   "role",   "alert",   "wall"};
    size_t total = 0;
    for (size_t i = 0; i < sr_cfg_section_count(); i++) {
        const sr_cfg_section_spec *s = sr_cfg_section_at(i);
        cr_assert_str_eq(s->kind, kinds[i]);
        cr_assert_eq(s->named, i != 0 && i != 7 && i != 8);
        cr_assert(s->help && *s->help);
        /* [map.NAME] has no fixed keys: each is a value */
        cr_assert_eq(s->n_options > 0, i != 3);
        cr_assert_null(sr_cfg_option_at(s, s->n_options));
        for (size_t j = 0; j < s->n_options; j++) {
            const sr_cfg_option *o = sr_cfg_option_at(s, j);
            cr_assert_not_null(o);
            cr_assert(o->help && *o->help, "%s.%s has no help", s->kind, o->name);
            char type[128];
            sr_cfg_option_type_text(o, type, sizeof type);
            cr_assert(*type && strcmp(type, "?") != 0);
            total++;
        }
    }
    cr_assert_eq(total, 15 + 15 + 3 + 11 + 3 + 9 + 3 + 3);
    cr_assert_null(sr_cfg_option_at(NULL, 0));

    const sr_cfg_option *better = sr_cfg_option_at(sr_cfg_section_at(1), 7);
    cr_assert_str_eq(better->name, "better");
    char type[64];
    sr_cfg_option_type_text(better, type, sizeof type);
    cr_assert_str_eq(type, "lower|higher");
    cr_assert_str_eq(better->def, "lower");
}

Test(config, table_choices_and_documented_defaults_match_kpi)
{
    const sr_cfg_section_spec *m = sr_cfg_section_at(1);
    const sr_cfg_option *kind = sr_cfg_option_at(m, 0);
    cr_assert_str_eq(kind->name, "kind");
    cr_assert(kind->flags & SR_OPT_REQUIRED);
    for (int i = 0; kind->choices[i]; i++) {
        sr_kind k;
        cr_assert_eq(sr_kind_parse(kind->choices[i], &k), 0);
        cr_assert_eq((int)k, i, "choice %d of kind is not sr_kind %d", i, i);
    }
    /* the words documenting agg's default are what sr_kind_default_agg does */
    const sr_cfg_option *agg = sr_cfg_option_at(m, 3);
    cr_assert_str_eq(agg->name, "agg");
    cr_assert(agg->flags & SR_OPT_DERIVED);
    char expected[128] = "";
    for (sr_kind k = SR_KIND_EVENT; k <= SR_KIND_RATIO; k++) {
        char a[16];
        sr_agg_format(sr_kind_default_agg(k), a, sizeof a);
        snprintf(expected + strlen(expected), sizeof expected - strlen(expected), "%s%s for %s",
                 k ? ", " : "", a, sr_kind_name(k));
    }
    cr_assert_str_eq(agg->def, expected);
}

/* ---- pages ---- */

static const char pages_base[] = "[metric.m]\nkind = event\n"
                                 "[panel.a]\nmetric = m\n"
                                 "[panel.b]\nmetric = m\n"
                                 "[panel.c]\nmetric = m\n";

Test(config, pages_list_panels_in_order)
{
    char text[1024];
    snprintf(
        text, sizeof text,
        "%s[page.main]\ntitle = Main\npanels = c, a\ncolumns = 2\n[page.all]\npanels = a b c\n",
        pages_base);
    sr_config *cfg = NULL;
    sr_cfg_errors errs = {0};
    cr_assert_eq(sr_config_parse("p.ini", text, &cfg, &errs), 0);
    cr_assert_eq(cfg->n_pages, 2);
    cr_assert_str_eq(cfg->pages[0].name, "main");
    cr_assert_str_eq(cfg->pages[0].title, "Main");
    cr_assert_eq(cfg->pages[0].columns, 2);
    cr_assert_eq(cfg->pages[0].n_panels, 2);
    cr_assert_str_eq(cfg->panels[cfg->pages[0].panels[0]].name, "c");
    cr_assert_str_eq(cfg->panels[cfg->pages[0].panels[1]].name, "a");
    cr_assert_str_eq(cfg->pages[1].title, "all");
    cr_assert_eq(cfg->pages[1].columns, 3);
    cr_assert_eq(cfg->pages[1].n_panels, 3);
    cr_assert_str_eq(cfg->theme, "default");
    cr_assert_eq(cfg->refresh_ms, 1000);
    sr_config_destroy(cfg);
    sr_cfg_errors_fini(&errs);
}

Test(config, without_pages_one_page_shows_every_panel)
{
    sr_config *cfg = NULL;
    sr_cfg_errors errs = {0};
    cr_assert_eq(sr_config_parse("p.ini", pages_base, &cfg, &errs), 0);
    cr_assert_eq(cfg->n_pages, 1);
    cr_assert_str_eq(cfg->pages[0].name, "overview");
    cr_assert_eq(cfg->pages[0].n_panels, 3);
    sr_config_destroy(cfg);
    sr_cfg_errors_fini(&errs);
}

Test(config, page_errors_name_their_line)
{
    char text[1024];
    snprintf(text, sizeof text, "%s[page.main]\npanels = a, bb\ncolumns = 20\n[page.empty]\n",
             pages_base);
    sr_config *cfg = NULL;
    sr_cfg_errors errs = {0};
    cr_assert_eq(sr_config_parse("p.ini", text, &cfg, &errs), SR_EINVAL);
    cr_assert_null(cfg);
    char all[2048] = "";
    for (size_t i = 0; i < errs.n; i++) {
        char line[512];
        sr_cfg_error_format(&errs.v[i], line, sizeof line);
        strcat(all, line);
        strcat(all, "\n");
    }
    cr_assert(strstr(all, "p.ini:10: panels: no panel 'bb' is defined in this file, did you "
                          "mean 'b'?"),
              "%s", all);
    cr_assert(strstr(all, "p.ini:11: columns"), "%s", all);
    cr_assert(strstr(all, "p.ini:12: ") && strstr(all, "panels"), "%s", all);
    sr_cfg_errors_fini(&errs);
}

/* [sitrep] shift and reports: the defaults, a relative reports directory
 * resolved against the file's, and a shift out of range. */
Test(config, shift_and_reports)
{
    sr_config *cfg = NULL;
    sr_cfg_errors errs = {0};
    setenv("XDG_STATE_HOME", "/var/tmp/st", 1);
    cr_assert_eq(sr_config_parse("/etc/sitrep/s.ini", "[sitrep]\n", &cfg, &errs), 0);
    cr_assert_eq(cfg->shift_ms, 8 * SR_MS_HOUR);
    cr_assert_str_eq(cfg->reports, "/var/tmp/st/sitrep");
    sr_config_destroy(cfg);
    sr_cfg_errors_fini(&errs);
    cr_assert_eq(
        sr_config_parse("/etc/sitrep/s.ini", "[sitrep]\nshift = 12h\nreports = out\n", &cfg, &errs),
        0);
    cr_assert_eq(cfg->shift_ms, 12 * SR_MS_HOUR);
    cr_assert_str_eq(cfg->reports, "/etc/sitrep/out");
    sr_config_destroy(cfg);
    sr_cfg_errors_fini(&errs);
    int rc;
    char *got = errors_of("[sitrep]\nshift = 2d\n", &rc);
    cr_assert_eq(rc, SR_EINVAL);
    cr_assert(strncmp(got, "t.ini:2: shift", 14) == 0, "%s", got);
    free(got);
}

Test(config, alert_section)
{
    sr_config *cfg = parse_ok("");
    cr_assert_eq(cfg->alert_for_ms, SR_MS_MIN);
    cr_assert_float_eq(cfg->alert_hysteresis, 0.05, 1e-12);
    cr_assert_str_eq(cfg->alert_command, "");
    sr_config_destroy(cfg);

    cfg = parse_ok("[alert]\nfor = 2m\nhysteresis = 10\ncommand = notify-send --urgency=critical "
                   "\"sitrep alert\"\n");
    cr_assert_eq(cfg->alert_for_ms, 2 * SR_MS_MIN);
    cr_assert_float_eq(cfg->alert_hysteresis, 0.10, 1e-12);
    cr_assert_str_eq(cfg->alert_command, "notify-send --urgency=critical \"sitrep alert\"");
    sr_config_destroy(cfg);

    int rc;
    char *got = errors_of("[alert]\ncommand = mail -s x ops | true\nhysteresis = 80\n", &rc);
    cr_assert_eq(rc, SR_EINVAL);
    cr_assert(strncmp(got, "t.ini:2: command: ", 18) == 0, "%s", got);
    cr_assert(strstr(got, "t.ini:3: hysteresis"), "%s", got);
    free(got);
}

/* ---- [wall] ---- */

Test(config, wall_defaults)
{
    sr_config *cfg = parse_ok(pages_base);
    cr_assert_eq(cfg->wall_rotate_ms, 30 * SR_MS_SEC);
    cr_assert_str_eq(cfg->wall_exit_text, "ctrl-x q");
    cr_assert_eq(cfg->n_wall_exit, 2);
    cr_assert_eq(cfg->wall_exit[0], 24);
    cr_assert_eq(cfg->wall_exit[1], 'q');
    cr_assert_eq(cfg->n_wall_pages, cfg->n_pages);
    sr_config_destroy(cfg);
}

Test(config, wall_rotate_exit_and_pages)
{
    char text[1024];
    snprintf(text, sizeof text,
             "%s[page.one]\npanels = a\n[page.two]\npanels = b\n[page.three]\npanels = c\n"
             "[wall]\nrotate = 2s\nexit = C-a ^B esc Enter\npages = three, one\n",
             pages_base);
    sr_config *cfg = parse_ok(text);
    cr_assert_eq(cfg->wall_rotate_ms, 2000);
    cr_assert_eq(cfg->n_wall_exit, 4);
    cr_assert_eq(cfg->wall_exit[0], 1);
    cr_assert_eq(cfg->wall_exit[1], 2);
    cr_assert_eq(cfg->wall_exit[2], 27);
    cr_assert_eq(cfg->wall_exit[3], '\n');
    cr_assert_eq(cfg->n_wall_pages, 2);
    cr_assert_str_eq(cfg->pages[cfg->wall_pages[0]].name, "three");
    cr_assert_str_eq(cfg->pages[cfg->wall_pages[1]].name, "one");
    sr_config_destroy(cfg);
}

Test(config, wall_errors_name_the_line)
{
    char text[1024];
    snprintf(text, sizeof text,
             "%s[page.one]\npanels = a\n[wall]\nrotate = 1ms\nexit = ctrl-x ctrl-%%\n"
             "pages = one, tow\n",
             pages_base);
    expect_errors(text, "t.ini:12: rotate: expected a duration between 1s and 1h, got '1ms'\n"
                        "t.ini:13: exit: 'ctrl-%' is not a key, expected ctrl-LETTER, esc, "
                        "enter, tab, space or one character, separated by blanks (such as "
                        "ctrl-x q)\n"
                        "t.ini:14: pages: no page 'tow' is defined in this file, expected the "
                        "NAME of a [page.NAME] section or *");
    expect_errors("[wall]\nexit = a b c d e\n",
                  "t.ini:2: exit: more than 4 keys, expected 1 to 4 keys");
    expect_errors("[wall]\nexit =\n",
                  "t.ini:2: exit: no key, expected 1 to 4 keys such as ctrl-x q");
}

Test(config, wall_key_chord_words)
{
    int keys[SR_WALL_CHORD_MAX];
    size_t n;
    char why[256];
    cr_assert_eq(sr_cfg_key_chord("tab space Q ~", keys, &n, why, sizeof why), 0);
    cr_assert_eq(n, 4);
    cr_assert_eq(keys[0], '\t');
    cr_assert_eq(keys[1], ' ');
    cr_assert_eq(keys[2], 'Q');
    cr_assert_eq(keys[3], '~');
    cr_assert_eq(sr_cfg_key_chord("ctrl-", keys, &n, why, sizeof why), SR_EINVAL);
    cr_assert_eq(sr_cfg_key_chord("qq", keys, &n, why, sizeof why), SR_EINVAL);
}

/* ---- value maps ---- */

Test(config, value_map_sections_reach_the_adapters)
{
    sr_config *cfg = parse_ok("[metric.response_p1]\nkind = event\n"
                              "[map.prio]\n"
                              "Priority 1 - Emergency = p1\n"
                              "\"default\" = p9\n"
                              "default = other\n"
                              "[adapter.a]\ntype = sim\n"
                              "[map.area]\nN = north\n");
    cr_assert_eq(cfg->n_maps, 2);
    sr_ad_option v[4];
    sr_ad_options o;
    sr_cfg_adapter_options(cfg, &cfg->adapters[0], v, &o);
    cr_assert_eq(o.n_maps, 2);
    cr_assert_str_eq(o.maps[0].name, "prio");
    cr_assert_eq(o.maps[0].line, 3);
    cr_assert_eq(o.maps[0].n, 3);
    cr_assert_str_eq(o.maps[0].v[0].key, "Priority 1 - Emergency");
    cr_assert_str_eq(o.maps[0].v[0].value, "p1");
    cr_assert_eq(o.maps[0].v[0].line, 4);
    cr_assert_str_eq(o.maps[0].v[2].key, "default");
    cr_assert_str_eq(o.maps[1].name, "area");
    cr_assert_str_eq(o.maps[1].v[0].value, "north");
    sr_config_destroy(cfg);
}

Test(config, value_map_errors_name_their_line)
{
    expect_errors("[map.prio]\n1 = p1\n2 = p2\n1 = p3\n",
                  "t.ini:4: duplicate key '1' in [map.prio], first set at line 2");
    expect_errors("[map.prio]\n[metric.m]\nkind = event\n",
                  "t.ini:1: [map.prio] has no entries, expected VALUE = RESULT lines (and default "
                  "= RESULT for every other value)");
    expect_errors("[map.p]\na = 1\n[map.p]\nb = 2\n",
                  "t.ini:3: duplicate section [map.p], first defined at line 1");
}

/* A template naming a map the file does not have: check-config says so at
 * the line of the key, as it does for every check a source makes when it
 * opens. */
Test(config, check_config_names_an_unknown_value_map_with_its_line)
{
    char dir[256], cfg[512];
    th_config_dir(dir, sizeof dir, cfg, sizeof cfg,
                  "[sitrep]\ncache = cache.db\n"
                  "[metric.response_p1]\nkind = event\n"
                  "[map.prio]\n1 = p1\n"
                  "[adapter.calls]\ntype = csv\npath = calls.csv\n"
                  "metric = response_{Priority|priority}\n"
                  "entity = force/{Beat}\nvalue = 1\n");
    char *out, *err;
    char *argv[] = {"check-config", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 2, "%s%s", out, err);
    char want[700];
    snprintf(want, sizeof want,
             "%s:10: [adapter.calls] metric: no value map [map.priority] in the config (have: "
             "[map.prio])",
             cfg);
    cr_assert(strstr(err, want), "%s", err);
    free(out);
    free(err);
    th_rmtree(dir);
}

/* A CSV header with a mapped name twice (Milwaukee's calls for service have
 * two "Inc Type Desc"): check-config reads the header of a file that is
 * there and warns, passing (exit 0); {Name#2} is the second. */
Test(config, check_config_warns_of_a_column_name_twice)
{
    char dir[256], cfg[512], csv[600];
    th_tempdir_with(dir, sizeof dir, cfg, sizeof cfg, "c.ini");
    snprintf(csv, sizeof csv, "%s/calls.csv", dir);
    th_write_file(csv, "Incident Number,Inc Type Desc,District,Inc Type Desc\n"
                       "173450001,TRAFFIC STOP,2,TRAFFIC STOP-I\n");
    th_write_file(cfg, "[sitrep]\ncache = cache.db\n"
                       "[metric.calls]\nkind = event\n"
                       "[adapter.calls]\ntype = csv\npath = calls.csv\nmetric = calls\n"
                       "entity = milwaukee/{District}/{Inc Type Desc}\nvalue = 1\n");
    char *out, *err;
    char *argv[] = {"check-config", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s%s", out, err);
    char want[900];
    snprintf(want, sizeof want,
             "%s:5: [adapter.calls] warning: the header has two columns named 'Inc Type Desc' "
             "(columns 2 and 4): {Inc Type Desc} reads column 2; write {Inc Type Desc#2} for "
             "column 4",
             cfg);
    cr_assert(strstr(out, want), "%s", out);
    free(out);
    free(err);
    /* naming the second: no warning */
    th_write_file(cfg, "[sitrep]\ncache = cache.db\n"
                       "[metric.calls]\nkind = event\n"
                       "[adapter.calls]\ntype = csv\npath = calls.csv\nmetric = calls\n"
                       "entity = milwaukee/{District}/{Inc Type Desc#2}\nvalue = 1\n");
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s%s", out, err);
    cr_assert_null(strstr(out, "warning"), "%s", out);
    free(out);
    free(err);
    th_rmtree(dir);
}

Test(config, baseline_keys)
{
    sr_config *cfg = parse_ok("[sitrep]\nbaseline_exclude = 2026-12-25, 2026-12-26\n"
                              "[metric.m]\nkind = event\nbaseline_weeks = 12\n"
                              "unusual_slices = 3\n[metric.d]\nkind = gauge\n");
    cr_assert_eq(cfg->n_baseline_exclude, 2);
    cr_assert_eq(cfg->baseline_exclude[0], 20261225);
    cr_assert_eq(cfg->baseline_exclude[1], 20261226);
    cr_assert_float_eq(cfg->metrics.v[0].baseline_weeks, 12, 1e-12);
    cr_assert_float_eq(cfg->metrics.v[0].unusual_slices, 3, 1e-12);
    cr_assert_float_eq(cfg->metrics.v[1].baseline_weeks, 8, 1e-12); /* the defaults */
    cr_assert_float_eq(cfg->metrics.v[1].unusual_slices, 2, 1e-12);
    sr_config_destroy(cfg);
    expect_errors("[sitrep]\nbaseline_exclude = 2026-12-25, 25/12/2026\n",
                  "t.ini:2: baseline_exclude: expected dates such as 2026-12-25 separated by "
                  "commas, got '25/12/2026'");
    expect_errors("[metric.m]\nkind = event\nbaseline_weeks = 2\n",
                  "t.ini:3: baseline_weeks: expected a number between 4 and 52, got '2'");
    expect_errors("[metric.m]\nkind = event\nbaseline_weeks = 8.5\n",
                  "t.ini:3: baseline_weeks: expected a whole number, got 8.5");
    expect_errors("[metric.m]\nkind = event\nunusual_slices = 13\n",
                  "t.ini:3: unusual_slices: expected a number between 1 and 12, got '13'");
}

/* [panel.*] when: threshold by default; unusual and both imply baseline =
 * yes; a bad word, and a window no baseline slice can be, name FILE:LINE. */
Test(config, panel_when)
{
    sr_config *cfg = parse_ok("[metric.m]\nkind = event\n"
                              "[panel.a]\nmetric = m\n"
                              "[panel.b]\nmetric = m\nwhen = unusual\n"
                              "[panel.c]\nmetric = m\nwhen = both\nbaseline = no\nwindow = 7d\n");
    cr_assert_str_eq(cfg->panels[0].when, "threshold");
    cr_assert_str_eq(cfg->panels[0].baseline, "no");
    cr_assert_str_eq(cfg->panels[1].when, "unusual");
    cr_assert_str_eq(cfg->panels[1].baseline, "yes", "the tile shows the band it is judged by");
    cr_assert_str_eq(cfg->panels[2].when, "both");
    cr_assert_str_eq(cfg->panels[2].baseline, "yes");
    sr_config_destroy(cfg);
    expect_errors("[metric.m]\nkind = event\n[panel.a]\nmetric = m\nwhen = sometimes\n",
                  "t.ini:5: when: expected one of threshold, unusual, both, got 'sometimes'");
    expect_errors("[metric.m]\nkind = event\n[panel.a]\nmetric = m\nwindow = 8d\nwhen = unusual\n",
                  "t.ini:6: when: unusual needs a window of at most 7d (a baseline's slice of "
                  "the week), the panel's is 8d; expected when = threshold or a shorter window");
    cfg = parse_ok("[metric.m]\nkind = event\n[panel.a]\nmetric = m\nwindow = 8d\n"
                   "when = threshold\n");
    sr_config_destroy(cfg);
}
