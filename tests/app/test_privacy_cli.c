/*
 * The role's privacy policy as the commands apply it: `sitrep snapshot`
 * in every format and `sitrep query`, run as real processes against a
 * real cache, under three roles given by SITREP_TEST_USER (a commander who
 * may see officers, a manager who may drill to district only, and the
 * default role); the audit rows the commander's views write, read back
 * with `sitrep audit`.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../helpers.h"

static char dir[256], cfg[512];

/*
 * Unit u1 has three officers with six overtime records each (18: shown);
 * unit u2 two officers with one each (a count of 2: <5 for those who may
 * not see officers); the response times have 7 observations (no p90).
 */
static void setup(void)
{
    th_config_dir(dir, sizeof dir, cfg, sizeof cfg,
                  TH_PRIVACY_SITREP "min_cell = 5\n"
                                    "[metric.ot]\n"
                                    "kind = counter\n"
                                    "unit = h\n"
                                    "[metric.rt]\n"
                                    "kind = event\n"
                                    "unit = s\n"
                                    "agg = p90\n"
                                    "[panel.ot_unit]\n"
                                    "metric = ot\n"
                                    "entity = force/north/d1/u1\n"
                                    "widget = table\n"
                                    "window = 7d\n"
                                    "[panel.ot_count]\n"
                                    "metric = ot\n"
                                    "agg = count\n"
                                    "entity = force/north/d1/u2\n"
                                    "window = 7d\n"
                                    "[panel.rt]\n"
                                    "metric = rt\n"
                                    "window = 7d\n"
                                    "[page.main]\n"
                                    "panels = ot_unit, ot_count, rt\n" TH_PRIVACY_ROLES
                                    "[role.manager]\n"
                                    "groups = managers\n"
                                    "drill = district\n");
    char text[8192];
    long now = (long)time(NULL);
    size_t o = (size_t)snprintf(text, sizeof text, "metric,entity,ts,value\n");
    /* unit u1: every cell of the grid (an hour of a unit) holds min_cell */
    o = th_privacy_officers(text, sizeof text, o);
    for (int off = 1; off <= 2; off++)
        o += (size_t)snprintf(text + o, sizeof text - o, "ot,force/north/d1/u2/o%d,%ld,2\n", off,
                              now - 7200);
    for (int k = 1; k <= 7; k++)
        o += (size_t)snprintf(text + o, sizeof text - o, "rt,force/north/d1/u1,%ld,%d\n",
                              now - 600L * k, k * 60);
    th_ingest_text(cfg, text, 0);
}

static void teardown(void)
{
    th_rmtree(dir);
}

TestSuite(privacy_cli, .init = setup, .fini = teardown);

/* Runs sitrep with args; returns its exit status, stdout in *out. */
static int run(char **out, char **err, const char *a, const char *b, const char *c, const char *d,
               const char *e, const char *f)
{
    char *argv[] = {(char *)a, (char *)b,  (char *)c, (char *)d, (char *)e,
                    (char *)f, "--config", cfg,       NULL};
    /* drop the NULLs before --config */
    size_t n = 0;
    char *v[10];
    for (size_t i = 0; i < 8; i++) {
        if (argv[i])
            v[n++] = argv[i];
    }
    v[n] = NULL;
    return th_run(NULL, v, out, err);
}

/* Runs sitrep audit as a role that may read it (audit = yes), then goes
 * back to the user before. */
static int audit_as_auditor(char **out, char **err, const char *fmt)
{
    char *was = getenv("SITREP_TEST_USER") ? strdup(getenv("SITREP_TEST_USER")) : NULL;
    setenv("SITREP_TEST_USER", "auditor", 1);
    int rc = fmt ? run(out, err, "audit", "--format", fmt, NULL, NULL, NULL)
                 : run(out, err, "audit", NULL, NULL, NULL, NULL, NULL);
    if (was)
        setenv("SITREP_TEST_USER", was, 1);
    else
        unsetenv("SITREP_TEST_USER");
    free(was);
    return rc;
}

static int audit_rows(const char *action)
{
    char *out, *err;
    cr_assert_eq(audit_as_auditor(&out, &err, "json"), 0, "%s", err);
    json_error_t je;
    json_t *a = json_loads(out, 0, &je);
    cr_assert_not_null(a, "%s", out);
    int n = 0;
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *act = json_string_value(json_object_get(json_array_get(a, i), "action"));
        n += act && strcmp(act, action) == 0;
    }
    json_decref(a);
    free(out);
    free(err);
    return n;
}

Test(privacy_cli, csv_per_role)
{
    char *out, *err;
    th_as("someone", NULL); /* the default role: drill to unit, no officers */
    cr_assert_eq(run(&out, &err, "snapshot", "--format", "csv", NULL, NULL, NULL), 0, "%s", err);
    cr_assert(strstr(out, "ot_unit,\"Overtime by officer\"") || strstr(out, "ot_unit,"), "%s", out);
    cr_assert(strstr(out, ",force/north/d1/u1,sum,7d,27,h,-,18,"), "the unit's total:\n%s", out);
    cr_assert(strstr(out, ",force/north/d1/u2,count,7d,<5,h,-,,"), "two officers:\n%s", out);
    cr_assert(strstr(out, ",rt,,p90,7d,n<10,s,-,,"), "seven observations:\n%s", out);
    free(out);
    free(err);

    th_as("mgr", "staff,managers"); /* drill = district: the units' panels are hidden */
    cr_assert_eq(run(&out, &err, "snapshot", "--format", "csv", NULL, NULL, NULL), 0, "%s", err);
    cr_assert(strstr(out, ",force/north/d1/u1,sum,7d,hidden,h,-,,"), "%s", out);
    cr_assert(strstr(out, ",force/north/d1/u2,count,7d,hidden,h,-,,"), "%s", out);
    free(out);
    free(err);

    th_as("cmd", NULL); /* the commander sees the count, but never a p90 of 7 */
    cr_assert_eq(run(&out, &err, "snapshot", "--format", "csv", NULL, NULL, NULL), 0, "%s", err);
    cr_assert(strstr(out, ",force/north/d1/u2,count,7d,2,h,-,2,"), "%s", out);
    cr_assert(strstr(out, ",rt,,p90,7d,n<10,s,-,,"), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(audit_rows("view-personal"), 0, "totals of units are not personal data");
}

Test(privacy_cli, json_and_markdown)
{
    char *out, *err;
    th_as("someone", NULL);
    cr_assert_eq(run(&out, &err, "snapshot", "--format", "json", NULL, NULL, NULL), 0, "%s", err);
    json_error_t je;
    json_t *root = json_loads(out, 0, &je);
    cr_assert_not_null(root, "%s", out);
    json_t *panels = json_object_get(root, "panels");
    int seen = 0;
    for (size_t i = 0; i < json_array_size(panels); i++) {
        json_t *p = json_array_get(panels, i);
        const char *name = json_string_value(json_object_get(p, "panel"));
        if (strcmp(name, "ot_count") == 0 || strcmp(name, "rt") == 0) {
            cr_assert(json_is_null(json_object_get(p, "value")), "%s", name);
            cr_assert(json_is_null(json_object_get(p, "n")), "%s", name);
            cr_assert_str_eq(json_string_value(json_object_get(p, "suppressed")),
                             strcmp(name, "rt") == 0 ? "n<10" : "<5");
            seen++;
        }
    }
    cr_assert_eq(seen, 2);
    json_decref(root);
    free(out);
    free(err);

    cr_assert_eq(run(&out, &err, "snapshot", "--format", "markdown", NULL, NULL, NULL), 0, "%s",
                 err);
    cr_assert(strstr(out, "| <5 |"), "%s", out);
    cr_assert(strstr(out, "| n<10 |"), "%s", out);
    free(out);
    free(err);
}

Test(privacy_cli, text_hides_officers_and_audits_the_commander)
{
    char *out, *err;
    th_as("someone", NULL);
    cr_assert_eq(run(&out, &err, "snapshot", "--format", "text", "--width", "150", NULL), 0, "%s",
                 err);
    cr_assert(strstr(out, "3 rows hidden: officer is personal data"), "%s", out);
    cr_assert_null(strstr(out, "o1 "), "%s", out);
    cr_assert(strstr(out, "count <5"), "%s", out);
    cr_assert(strstr(out, "p90 n<10"), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(audit_rows("view-personal"), 0);

    th_as("cmd", NULL);
    cr_assert_eq(run(&out, &err, "snapshot", "--format", "text", "--width", "150", NULL), 0, "%s",
                 err);
    cr_assert(strstr(out, "o1 "), "%s", out);
    cr_assert_null(strstr(out, "rows hidden"), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(audit_rows("view-personal"), 1);

    cr_assert_eq(audit_as_auditor(&out, &err, NULL), 0, "%s", err);
    cr_assert(strstr(out, "as cmd (SITREP_TEST_USER)"), "%s", out);
    cr_assert(strstr(out, "commander"), "%s", out);
    cr_assert(strstr(out, "panel ot_unit, metric ot, entity force/north/d1/u1"), "%s", out);
    free(out);
    free(err);
}

Test(privacy_cli, query_refuses_and_hides)
{
    char *out, *err;
    th_as("mgr", "managers");
    cr_assert_eq(run(&out, &err, "query", "ot", "--entity", "force/north/d1/u1/o1", NULL, NULL), 1);
    cr_assert(strstr(err, "refused: force/north/d1/u1/o1: officer is personal data, which role "
                          "manager may not see"),
              "%s", err);
    cr_assert_str_eq(out, "");
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "query", "ot", "--entity", "force/north/d1/u1", NULL, NULL), 1);
    cr_assert(strstr(err, "role manager may drill down to district (level 3)"), "%s", err);
    free(out);
    free(err);

    th_as("someone", NULL);
    cr_assert_eq(
        run(&out, &err, "query", "ot", "--entity", "force/north/d1/u1", "--by", "children"), 0,
        "%s", err);
    cr_assert_null(strstr(out, "/o1"), "%s", out);
    cr_assert(strstr(err, "3 rows hidden: officer is personal data, which role default may not "
                          "see"),
              "%s", err);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, "query", "ot", "--entity", "force/north/d1/u2", "--agg", "count"),
                 0, "%s", err);
    cr_assert(strstr(out, "<5"), "%s", out);
    cr_assert_null(strstr(out, " 2\n"), "the count is not given away in N:\n%s", out);
    free(out);
    free(err);
    cr_assert_eq(audit_rows("view-personal"), 0);

    th_as("cmd", NULL);
    cr_assert_eq(
        run(&out, &err, "query", "ot", "--entity", "force/north/d1/u1/o1", "--format", "json"), 0,
        "%s", err);
    cr_assert(strstr(out, "\"entity\": \"force/north/d1/u1/o1\""), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(audit_rows("view-personal"), 1);
    cr_assert_eq(run(&out, &err, "query", "rt", "--format", "csv", NULL, NULL), 0, "%s", err);
    cr_assert(strstr(out, ",p90,n<10,\n"), "%s", out);
    free(out);
    free(err);
}

/* Hidden rows without data for the metric are not counted: the response
 * times are recorded at the unit, its officers have none. */
Test(privacy_cli, hidden_rows_without_data_are_not_counted)
{
    char *out, *err;
    th_as("someone", NULL);
    cr_assert_eq(
        run(&out, &err, "query", "rt", "--entity", "force/north/d1/u1", "--by", "children"), 0,
        "%s", err);
    cr_assert_null(strstr(err, "rows hidden"), "%s", err);
    cr_assert_null(strstr(out, "/o1"), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(
        run(&out, &err, "query", "ot", "--entity", "force/north/d1/u1", "--by", "children"), 0,
        "%s", err);
    cr_assert(strstr(err, "3 rows hidden"), "officers with overtime: %s", err);
    free(out);
    free(err);
}
