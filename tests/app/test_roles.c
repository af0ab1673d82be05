/*
 * Tests of [role.*] and [sitrep] levels/personal/min_cell (app/config.c),
 * of role matching by user and by group through the test override
 * (app/roles.c), and of `sitrep whoami` and `sitrep audit` as real
 * processes on real files.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../app/config.h"
#include "../../app/roles.h"
#include "../../metrics/store.h"
#include "../helpers.h"

/* a fresh folder for each test, dir */
TH_TEMPDIR_SUITE(roles, dir);

static const char base[] = "[sitrep]\n"                                        /* 1 */
                           "cache = cache.db\n"                                /* 2 */
                           "levels = force, region, district, unit, officer\n" /* 3 */
                           "personal = officer\n"                              /* 4 */
                           "[metric.rt]\n"                                     /* 5 */
                           "kind = event\n"                                    /* 6 */
                           "[panel.a]\n"                                       /* 7 */
                           "metric = rt\n"                                     /* 8 */
                           "[panel.b]\n"                                       /* 9 */
                           "metric = rt\n"                                     /* 10 */
                           "[page.main]\n"                                     /* 11 */
                           "panels = a, b\n"                                   /* 12 */
                           "[page.other]\n"                                    /* 13 */
                           "panels = b\n";                                     /* 14 */

static const char roles_ok[] = "[role.analyst]\n" /* 15 */
                               "groups = ops, analysts\n"
                               "pages = main\n"
                               "panels = a\n"
                               "drill = district\n"
                               "acknowledge = yes\n"
                               "[role.chief]\n" /* 21 */
                               "users = ann\n"
                               "groups = ops\n"
                               "drill = *\n"
                               "personal = yes\n"
                               "wall = yes\n";

static sr_config *parse(const char *a, const char *b)
{
    char text[4096];
    snprintf(text, sizeof text, "%s%s", a, b);
    sr_config *cfg = NULL;
    sr_cfg_errors errs;
    int rc = sr_config_parse("t.ini", text, &cfg, &errs);
    char first[1024] = "";
    if (errs.n)
        sr_cfg_error_format(&errs.v[0], first, sizeof first);
    sr_cfg_errors_fini(&errs);
    cr_assert_eq(rc, 0, "%s", first);
    return cfg;
}

/* Every error of base + extra, joined by '\n'. */
static void expect_errors(const char *extra, const char *want)
{
    char text[4096];
    snprintf(text, sizeof text, "%s%s", base, extra);
    sr_config *cfg = NULL;
    sr_cfg_errors errs;
    cr_assert_eq(sr_config_parse("t.ini", text, &cfg, &errs), SR_EINVAL);
    char got[4096] = "";
    for (size_t i = 0; i < errs.n; i++) {
        char line[1024];
        sr_cfg_error_format(&errs.v[i], line, sizeof line);
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? "\n" : "", line);
    }
    sr_cfg_errors_fini(&errs);
    cr_assert_str_eq(got, want);
}

static const sr_cfg_role *role(const sr_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_roles; i++) {
        if (strcmp(cfg->roles[i].name, name) == 0)
            return &cfg->roles[i];
    }
    cr_assert_fail("no role %s", name);
    return NULL;
}

Test(roles, levels_personal_and_the_default_role)
{
    sr_config *cfg = parse(base, "");
    cr_assert_eq(cfg->n_levels, 5);
    cr_assert_str_eq(cfg->levels[2], "district");
    cr_assert(cfg->personal[5]);
    cr_assert_not(cfg->personal[4]);
    cr_assert_eq(cfg->min_cell, 5);
    cr_assert_eq(cfg->n_roles, 1);
    const sr_cfg_role *d = role(cfg, "default");
    cr_assert(d->all_pages && d->all_panels);
    cr_assert_eq(d->n_pages, 2);
    cr_assert_eq(d->n_panels, 2);
    cr_assert_eq(d->drill, 4, "above the first personal level");
    cr_assert_not(d->acknowledge || d->personal || d->wall);
    cr_assert_eq(d->line, 0);
    sr_config_destroy(cfg);

    /* nothing personal: any depth */
    cfg = parse("[sitrep]\nmin_cell = 10\n", "");
    cr_assert_eq(role(cfg, "default")->drill, SR_DRILL_ANY);
    cr_assert_eq(cfg->min_cell, 10);
    sr_config_destroy(cfg);
}

Test(roles, roles_are_read_in_file_order)
{
    sr_config *cfg = parse(base, roles_ok);
    cr_assert_eq(cfg->n_roles, 3);
    cr_assert_str_eq(cfg->roles[0].name, "analyst");
    cr_assert_str_eq(cfg->roles[2].name, "default");
    const sr_cfg_role *a = role(cfg, "analyst");
    cr_assert_not(a->all_pages);
    cr_assert_eq(a->n_pages, 1);
    cr_assert_str_eq(cfg->pages[a->pages[0]].name, "main");
    cr_assert_eq(a->n_panels, 1);
    cr_assert_str_eq(cfg->panels[a->panels[0]].name, "a");
    cr_assert_eq(a->drill, 3);
    cr_assert(a->acknowledge);
    cr_assert_not(a->personal);
    cr_assert_eq(a->line, 15);
    const sr_cfg_role *c = role(cfg, "chief");
    cr_assert_eq(c->drill, SR_DRILL_ANY);
    cr_assert(c->personal && c->wall && c->all_pages);
    sr_config_destroy(cfg);

    /* a [role.default] of the file replaces the built-in one */
    cfg = parse(base, "[role.default]\npages = other\ndrill = 1\n");
    cr_assert_eq(cfg->n_roles, 1);
    cr_assert_eq(role(cfg, "default")->drill, 1);
    cr_assert_eq(role(cfg, "default")->n_pages, 1);
    sr_config_destroy(cfg);
}

Test(roles, role_errors_name_their_line)
{
    expect_errors("[role.x]\n"            /* 15 */
                  "users = ann, -bad\n"   /* 16 */
                  "pages = mian\n"        /* 17 */
                  "panels = a, zz\n"      /* 18 */
                  "drill = precinct\n"    /* 19 */
                  "acknowledge = maybe\n" /* 20 */
                  "[role.nobody]\n"       /* 21 */
                  "pages = *, main\n"     /* 22 */
                  "[role.deep]\n"         /* 23 */
                  "groups = ops\n"        /* 24 */
                  "drill = officer\n",    /* 25 */
                  "t.ini:16: users: '-bad' is not a Unix name, expected letters, digits, '.', "
                  "'_' or '-'\n"
                  "t.ini:17: pages: no page 'mian' is defined in this file, did you mean 'main'?\n"
                  "t.ini:18: panels: no panel 'zz' is defined in this file, expected the NAME "
                  "of a [panel.NAME] section or *\n"
                  "t.ini:19: drill: 'precinct' is not a level, expected one of force, region, "
                  "district, unit, officer, a number or *\n"
                  "t.ini:20: acknowledge: expected one of yes, no, got 'maybe'\n"
                  "t.ini:21: [role.nobody] matches nobody, expected users or groups (Unix names "
                  "separated by commas)\n"
                  "t.ini:22: pages: * stands alone, expected * or a list of names\n"
                  "t.ini:25: drill: 'officer' reaches the personal level 'officer' but personal "
                  "= no, expected a level above it or personal = yes");
    expect_errors("[sitrep]\npersonal = constable\n",
                  "t.ini:15: duplicate section [sitrep], first defined at line 1");
}

Test(roles, personal_must_name_a_level)
{
    sr_config *cfg = NULL;
    sr_cfg_errors errs;
    cr_assert_eq(sr_config_parse("t.ini",
                                 "[sitrep]\nlevels = force, unit\npersonal = officer\n"
                                 "min_cell = 0\n",
                                 &cfg, &errs),
                 SR_EINVAL);
    cr_assert_eq(errs.n, 2);
    char line[1024];
    sr_cfg_error_format(&errs.v[0], line, sizeof line);
    cr_assert_str_eq(line, "t.ini:3: personal: no level 'officer', expected names from [sitrep] "
                           "levels (force, unit)");
    sr_cfg_error_format(&errs.v[1], line, sizeof line);
    cr_assert(strstr(line, "t.ini:4: min_cell:"), "%s", line);
    sr_cfg_errors_fini(&errs);
}

Test(roles, matching_by_user_then_group_then_default)
{
    sr_config *cfg = parse(base, roles_ok);
    sr_identity id;
    char why[128];

    /* ann is listed by name in chief, even though her group ops is in analyst first */
    setenv("SITREP_TEST_USER", "ann", 1);
    setenv("SITREP_TEST_GROUPS", "ops", 1);
    sr_identity_init(&id);
    cr_assert(id.override);
    cr_assert_str_eq(sr_role_match(cfg, &id, why, sizeof why)->name, "chief");
    cr_assert_str_eq(why, "user ann");
    cr_assert(strstr(id.audit_user, " as ann (SITREP_TEST_USER)"), "%s", id.audit_user);

    /* bob by his groups: the first role listing one of them */
    setenv("SITREP_TEST_USER", "bob", 1);
    setenv("SITREP_TEST_GROUPS", "staff, ops", 1);
    sr_identity_init(&id);
    cr_assert_eq(id.n_groups, 2);
    cr_assert_str_eq(sr_role_match(cfg, &id, why, sizeof why)->name, "analyst");
    cr_assert_str_eq(why, "group ops");

    /* carol: nobody lists her */
    setenv("SITREP_TEST_USER", "carol", 1);
    unsetenv("SITREP_TEST_GROUPS");
    sr_identity_init(&id);
    cr_assert_eq(id.n_groups, 0);
    cr_assert_str_eq(sr_role_match(cfg, &id, why, sizeof why)->name, "default");

    /* without the override: the real user */
    unsetenv("SITREP_TEST_USER");
    sr_identity_init(&id);
    cr_assert_not(id.override);
    cr_assert_str_eq(id.audit_user, id.user);
    sr_config_destroy(cfg);
}

/* Writes base and roles_ok, and a role that may read the audit table. */
static void write_config(char *path, size_t len)
{
    snprintf(path, len, "%s/config.ini", dir);
    char text[4096];
    snprintf(text, sizeof text, "%s%s[role.auditor]\nusers = aud\naudit = yes\n", base, roles_ok);
    th_write_file(path, text);
}

/* Creates the cache of cfg with one sample. */
static void ingest_one(const char *cfg)
{
    char csv[512], *out, *err;
    snprintf(csv, sizeof csv, "%s/s.csv", dir);
    th_write_file(csv, "metric,entity,ts,value\nrt,force/a,1700000000,5\n");
    char *argv[] = {"ingest", "--config", (char *)cfg, csv, NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    free(out);
    free(err);
}

Test(roles, whoami_prints_the_role_and_what_it_allows)
{
    char cfg[512], *out, *err;
    write_config(cfg, sizeof cfg);
    setenv("SITREP_TEST_USER", "bob", 1);
    setenv("SITREP_TEST_GROUPS", "analysts", 1);
    char *argv[] = {"whoami", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    char want[2048];
    snprintf(want, sizeof want,
             "user         bob (SITREP_TEST_USER: for tests only)\n"
             "groups       analysts\n"
             "role         analyst (group analysts; %s:15)\n"
             "pages        main\n"
             "panels       a\n"
             "drill        district (level 3)\n"
             "acknowledge  yes\n"
             "personal     no\n"
             "wall         no\n",
             cfg);
    cr_assert(strncmp(out, want, strlen(want)) == 0, "got:\n%s", out);
    cr_assert(
        strstr(
            out,
            "\nsmall cells  figures of people from fewer than 5 observations show "
            "as <5\ngrid         figures of people over whole 1h slices, each of 5 "
            "observations or none\npercentiles  no percentile over fewer than 10 observations\n"),
        "%s", out);
    cr_assert(strstr(out, "\nterminal     "), "%s", out);
    free(out);
    free(err);

    setenv("SITREP_TEST_USER", "nobody-here", 1);
    unsetenv("SITREP_TEST_GROUPS");
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "role         default (no role lists the user or its groups; built "
                          "in)\npages        every page\npanels       every panel\n"
                          "drill        unit (level 4)\nacknowledge  no\npersonal     no\n"),
              "%s", out);
    free(out);
    free(err);
}

Test(roles, audit_lists_what_was_recorded)
{
    char cfg[512], db[512], *out, *err;
    write_config(cfg, sizeof cfg);
    ingest_one(cfg);
    /* rows as the dashboard will add them; the table's triggers only refuse changes */
    snprintf(db, sizeof db, "%s/cache.db", dir);
    sqlite3 *h;
    cr_assert_eq(
        sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, sr_store_vfs()),
        SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h,
                              "INSERT INTO audit(at, user, role, tty, ssh, action, detail) VALUES "
                              "(1700000000000, 'ann', 'chief', '/dev/pts/1', '', "
                              "'view-personal', 'force/a/b/c/pc1'),"
                              "(1800000000000, 'bob', 'analyst', '', '10.1.1.1 4000 10.1.1.2 22', "
                              "'acknowledge', 'alert 3: seen')",
                              NULL, NULL, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(h));
    cr_assert_neq(sqlite3_exec(h, "DELETE FROM audit", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);

    setenv("SITREP_TEST_USER", "aud", 1); /* a role with audit = yes */
    unsetenv("SITREP_TEST_GROUPS");
    char *argv[] = {"audit", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "AT (UTC)"), "%s", out);
    cr_assert(strstr(out, "2023-11-14T22:13:20Z  ann   chief    /dev/pts/1  -   "), "%s", out);
    cr_assert(strstr(out, "view-personal  force/a/b/c/pc1\n"), "%s", out);
    cr_assert(strstr(out, "bob"), "%s", out);
    free(out);
    free(err);

    char *since[] = {"audit", "--config", cfg, "--since", "2024-01-01", "--format", "json", NULL};
    cr_assert_eq(th_run(NULL, since, &out, &err), 0, "%s", err);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    cr_assert_not_null(j, "%s", out);
    cr_assert_eq(json_array_size(j), 1);
    json_t *r = json_array_get(j, 0);
    cr_assert_str_eq(json_string_value(json_object_get(r, "user")), "bob");
    cr_assert_str_eq(json_string_value(json_object_get(r, "ssh")), "10.1.1.1 4000 10.1.1.2 22");
    cr_assert_str_eq(json_string_value(json_object_get(r, "action")), "acknowledge");
    json_decref(j);
    free(out);
    free(err);

    /* a duration is that long ago: the 2023 record is out, the 2027 one in */
    char *ago[] = {"audit", "--config", cfg, "--since", "7d", NULL};
    cr_assert_eq(th_run(NULL, ago, &out, &err), 0, "%s", err);
    cr_assert(!strstr(out, "ann") && strstr(out, "bob"), "%s", out);
    free(out);
    free(err);

    char *bad[] = {"audit", "--config", cfg, "--since", "yesterday-ish", NULL};
    cr_assert_eq(th_run(NULL, bad, &out, &err), 2);
    cr_assert(strstr(err, "--since"), "%s", err);
    free(out);
    free(err);
}

Test(roles, the_screen_shows_only_the_roles_pages_and_panels)
{
    char cfg[512], *out, *err;
    write_config(cfg, sizeof cfg);
    ingest_one(cfg);

    /* analyst: page main with panel a only; page other is not there */
    setenv("SITREP_TEST_USER", "bob", 1);
    setenv("SITREP_TEST_GROUPS", "analysts", 1);
    char *snap[] = {"snapshot", "--config", cfg,        "--format", "text",
                    "--width",  "80",       "--height", "10",       NULL};
    cr_assert_eq(th_run(NULL, snap, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "› main"), "%s", out);
    cr_assert_eq(strstr(strstr(out, "┌ rt") + 1, "┌ rt"), NULL, "one panel only:\n%s", out);
    free(out);
    free(err);
    char *other[] = {"snapshot", "--config", cfg, "--format", "text", "--page", "other", NULL};
    cr_assert_eq(th_run(NULL, other, &out, &err), 2, "%s", err);
    cr_assert(strstr(err, "no page 'other'") && strstr(err, "pages: main\n"), "%s", err);
    free(out);
    free(err);

    /* chief: every page and panel */
    setenv("SITREP_TEST_USER", "ann", 1);
    unsetenv("SITREP_TEST_GROUPS");
    cr_assert_eq(th_run(NULL, snap, &out, &err), 0, "%s", err);
    cr_assert_not_null(strstr(strstr(out, "┌ rt") + 1, "┌ rt"), "two panels:\n%s", out);
    free(out);
    free(err);
    cr_assert_eq(th_run(NULL, other, &out, &err), 0, "%s", err);
    free(out);
    free(err);
}
