/*
 * The leaks of issue 10 point 4, each reproduced against a real cache with
 * the real binary, under the default role (no personal data, drill to
 * unit) unless a role is named: rejected rows of officers, alerts on
 * personal panels, the audit table, and differencing two windows or a
 * parent and its children of a personal metric.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../metrics/store.h"
#include "../helpers.h"

static char dir[256], cfg[512];
static long T; /* a whole hour, three days ago (seconds) */

static void setup(void)
{
    th_config_dir(dir, sizeof dir, cfg, sizeof cfg,
                  TH_PRIVACY_SITREP "min_cell = 5\n"
                                    "[metric.officer_overtime]\n"
                                    "kind = counter\n"
                                    "unit = h\n"
                                    "warn = 1\n"
                                    "crit = 2\n"
                                    "[panel.ot_officer]\n"
                                    "metric = officer_overtime\n"
                                    "entity = force/north/d1/u1/pc_smith\n"
                                    "window = 7d\n"
                                    "[panel.ot_unit]\n"
                                    "metric = officer_overtime\n"
                                    "entity = force/north/d1/u1\n"
                                    "window = 7d\n"
                                    "[role.boss]\n"
                                    "users = boss\n"
                                    "drill = *\n"
                                    "personal = yes\n"
                                    "audit = yes\n"
                                    "[metric.dummy]\n"
                                    "kind = gauge\n"
                                    "[adapter.feed]\n"
                                    "type = csv\n"
                                    "path = d.csv\n"
                                    "metric = dummy\n"
                                    "entity = {entity}\n"
                                    "value = value\n"
                                    "time = ts\n"
                                    "[alert]\n"
                                    "for = 1s\n");
    T = ((long)time(NULL) / 3600 - 72) * 3600;
    char csv[512], text[16384];
    snprintf(csv, sizeof csv, "%s/d.csv", dir);
    snprintf(text, sizeof text, "ts,entity,value\n%ld,force,1\n", T);
    th_write_file(csv, text); /* a source, so that collect --once steps the alerts */
    size_t o = (size_t)snprintf(text, sizeof text, "metric,entity,ts,value\n");
    /* slice [T-2h, T-1h): 10 records of unit u1, 5 h each (50);
     * slice [T-1h, T): 10 of unit u2, 4 of 5 h and 6 of 4 h (44): 94, n 20 */
    for (int k = 0; k < 10; k++)
        o += (size_t)snprintf(text + o, sizeof text - o,
                              "officer_overtime,force/north/d1/u1/pc_%c,%ld,5\n", 'a' + k,
                              T - 7200 + 60 * k);
    for (int k = 0; k < 10; k++)
        o += (size_t)snprintf(text + o, sizeof text - o,
                              "officer_overtime,force/north/d1/u2/pc_%c,%ld,%d\n", 'a' + k,
                              T - 3600 + 60 * k, k < 4 ? 5 : 4);
    /* one officer's single record at T */
    o += (size_t)snprintf(text + o, sizeof text - o,
                          "officer_overtime,force/north/d1/u1/pc_smith,%ld,2\n", T);
    /* district d2: one unit with two records in the slice before T */
    for (int k = 0; k < 2; k++)
        o += (size_t)snprintf(text + o, sizeof text - o,
                              "officer_overtime,force/north/d2/u9/pc_%c,%ld,3\n", 'x' + k,
                              T - 1800 + 60 * k);
    /* a rejected row naming an officer */
    o += (size_t)snprintf(text + o, sizeof text - o,
                          "officer_overtime,force/north/d1/u1/PC Jones Secret/,%ld,3\n", T);
    th_ingest_text(cfg, text, 3);
}

static void teardown(void)
{
    th_rmtree(dir);
}

TestSuite(privacy_leaks, .init = setup, .fini = teardown);

/* The whole of file path, or NULL when it cannot be read (caller frees). */
static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *text = calloc(1, 65536);
    size_t n = fread(text, 1, 65535, f);
    text[n] = 0;
    fclose(f);
    return text;
}

/* Runs sitrep with up to 8 arguments then --config; exit status. */
static int run(char **out, char **err, const char *const *args)
{
    char *v[16];
    size_t n = 0;
    for (; args[n] && n < 12; n++)
        v[n] = (char *)args[n];
    v[n++] = "--config";
    v[n++] = cfg;
    v[n] = NULL;
    return th_run(NULL, v, out, err);
}

Test(privacy_leaks, rejects_withhold_raw_rows_of_people)
{
    char *out, *err;
    th_as("someone", NULL);
    cr_assert_eq(run(&out, &err, (const char *[]){"rejects", NULL}), 0, "%s", err);
    cr_assert_null(strstr(out, "Jones"), "an officer's name to the default role:\n%s", out);
    cr_assert(strstr(out, "1 rejected row shown without reason and raw text"), "%s", out);
    cr_assert(strstr(out, "officer is personal data, which role default may not see"), "%s", out);
    free(out);
    free(err);
    th_as("boss", NULL);
    cr_assert_eq(run(&out, &err, (const char *[]){"rejects", NULL}), 0, "%s", err);
    cr_assert(strstr(out, "PC Jones Secret"), "the role with personal sees it:\n%s", out);
    free(out);
    free(err);
}

/* Runs `sitrep collect --once --log LOG` (log may be NULL) until an alert
 * is raised ([alert] for = 1s: the second step raises it); fails at a
 * deadline. */
static void collect_until_raised(const char *log)
{
    char path[600];
    snprintf(path, sizeof path, "%s/raised.log", dir);
    if (!log)
        log = path;
    unsetenv("SITREP_TEST_USER");
    th_deadline d = th_deadline_in(20 * 1000);
    bool raised = false;
    while (!raised && !th_expired(&d)) {
        char *out, *err;
        cr_assert_eq(run(&out, &err, (const char *[]){"collect", "--once", "--log", log, NULL}), 0,
                     "%s", err);
        free(out);
        free(err);
        char *text = read_all(log);
        raised = text && strstr(text, "alert raised") != NULL;
        free(text);
    }
    cr_assert(raised, "no alert raised before the deadline");
}

Test(privacy_leaks, alerts_on_personal_panels_are_withheld)
{
    collect_until_raised(NULL);
    char *out, *err;
    th_as("boss", NULL);
    cr_assert_eq(run(&out, &err, (const char *[]){"alerts", NULL}), 0, "%s", err);
    cr_assert(strstr(out, "pc_smith"), "the alert exists:\n%s", out);
    free(out);
    free(err);

    th_as("someone", NULL);
    cr_assert_eq(run(&out, &err, (const char *[]){"alerts", NULL}), 0, "%s", err);
    cr_assert_null(strstr(out, "pc_smith"), "%s", out);
    cr_assert_null(strstr(out, "ot_unit"), "a personal metric's value:\n%s", out);
    cr_assert(strstr(out, "alerts withheld: officer is personal data, which role default"), "%s",
              out);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, (const char *[]){"alerts", "--format", "json", NULL}), 0, "%s",
                 err);
    cr_assert_null(strstr(out, "pc_smith"), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, (const char *[]){"snapshot", "--format", "markdown", NULL}), 0,
                 "%s", err);
    cr_assert_null(strstr(out, "pc\\_smith"), "%s", out);
    cr_assert_null(strstr(out, "pc_smith"), "%s", out);
    cr_assert(strstr(out, "alerts withheld"), "%s", out);
    free(out);
    free(err);
}

Test(privacy_leaks, collect_log_withholds_personal_keys)
{
    char log[600];
    snprintf(log, sizeof log, "%s/collect.log", dir);
    collect_until_raised(log);
    char *text = read_all(log);
    cr_assert_not_null(text);
    cr_assert(strstr(text, "alert raised: an alert of panel ot_officer (key and value withheld"),
              "%s", text);
    cr_assert_null(strstr(text, "pc_smith"), "%s", text);
    free(text);
}

Test(privacy_leaks, audit_is_its_own_permission)
{
    char *out, *err;
    th_as("someone", NULL);
    cr_assert_eq(run(&out, &err, (const char *[]){"audit", NULL}), 1, "%s", out);
    cr_assert(strstr(err, "refused: the role default may not read the audit table"), "%s", err);
    cr_assert_str_eq(out, "");
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, (const char *[]){"whoami", NULL}), 0, "%s", err);
    cr_assert(strstr(out, "audit        no"), "%s", out);
    free(out);
    free(err);
    th_as("boss", NULL);
    cr_assert_eq(run(&out, &err, (const char *[]){"audit", NULL}), 0, "%s", err);
    cr_assert(strstr(out, "ACTION"), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(run(&out, &err, (const char *[]){"whoami", NULL}), 0, "%s", err);
    cr_assert(strstr(out, "audit        yes"), "%s", out);
    free(out);
    free(err);
}

/* sitrep query's CSV value of officer_overtime sum at entity over [from, to). */
static void query(const char *entity, long from, long to, char *val, size_t len)
{
    char f[32], t[32];
    snprintf(f, sizeof f, "%ld", from);
    snprintf(t, sizeof t, "%ld", to);
    char *out, *err;
    cr_assert_eq(run(&out, &err,
                     (const char *[]){"query", "officer_overtime", "--agg", "sum", "--entity",
                                      entity, "--from", f, "--to", t, "--format", "csv", NULL}),
                 0, "%s", err);
    const char *line = strchr(out, '\n');
    cr_assert_not_null(line, "%s", out);
    const char *c = strstr(line, ",sum,");
    cr_assert_not_null(c, "%s", out);
    c += 5;
    snprintf(val, len, "%.*s", (int)strcspn(c, ",\n"), c);
    free(out);
    free(err);
}

Test(privacy_leaks, differencing_two_windows)
{
    th_as("someone", NULL);
    char a[64], b[64], c[64];
    query("force/north/d1", T - 86400, T, a, sizeof a);
    query("force/north/d1", T - 86400, T + 1, b, sizeof b);
    cr_assert_str_eq(a, "94");
    cr_assert_str_eq(b, a, "the two answers differ by one officer's record: %s - %s", b, a);
    /* the window reaching past the next grid line takes in a slice of one record */
    query("force/north/d1", T - 86400, T + 3600, c, sizeof c);
    cr_assert_str_eq(c, "<5", "%s", c);
    /* the role with personal data gets the exact figure */
    th_as("boss", NULL);
    query("force/north/d1", T - 86400, T + 1, b, sizeof b);
    cr_assert_str_eq(b, "96");
}

Test(privacy_leaks, nested_windows)
{
    th_as("someone", NULL);
    char outer[64], inner[64], ragged[64];
    query("force/north/d1", T - 7200, T, outer, sizeof outer);
    query("force/north/d1", T - 3600, T, inner, sizeof inner);
    cr_assert_str_eq(outer, "94");
    cr_assert_str_eq(inner, "44"); /* the difference, 50, is ten records */
    /* ends off the grid snap down to it: whole slices only, never a part of one */
    query("force/north/d1", T - 5400, T - 1, ragged, sizeof ragged);
    cr_assert_str_eq(ragged, "50", "[T-2h, T-1h): %s", ragged);
    query("force/north/d1", T - 3599, T - 1, ragged, sizeof ragged);
    cr_assert_str_eq(ragged, "", "no whole slice: no data, %s", ragged);
}

Test(privacy_leaks, parent_minus_children)
{
    th_as("someone", NULL);
    char region[64], d1[64], d2[64];
    query("force/north", T - 7200, T, region, sizeof region);
    query("force/north/d1", T - 7200, T, d1, sizeof d1);
    query("force/north/d2", T - 7200, T, d2, sizeof d2);
    cr_assert_str_eq(d1, "94");
    cr_assert_str_eq(d2, "<5");
    cr_assert_str_eq(region, "<5", "region %s - d1 %s would give d2's two records", region, d1);
}

/* The value of panel in `sitrep snapshot --format FMT --at at` (json: its
 * "value", or its mask, as text; csv: the value column); with fmt "text" or
 * "markdown", the whole output (caller frees). */
static char *snapshot_at(const char *fmt, long at, const char *panel)
{
    char a[32];
    snprintf(a, sizeof a, "%ld", at);
    char *out, *err;
    cr_assert_eq(run(&out, &err,
                     (const char *[]){"snapshot", "--format", fmt, "--at", a, "--width", "200",
                                      "--height", "50", NULL}),
                 0, "%s", err);
    free(err);
    if (strcmp(fmt, "text") == 0 || strcmp(fmt, "markdown") == 0)
        return out;
    char *val = NULL;
    if (strcmp(fmt, "json") == 0) {
        json_error_t je;
        json_t *root = json_loads(out, 0, &je);
        cr_assert_not_null(root, "%s", out);
        json_t *panels = json_object_get(root, "panels");
        for (size_t i = 0; i < json_array_size(panels) && !val; i++) {
            json_t *p = json_array_get(panels, i);
            if (strcmp(json_string_value(json_object_get(p, "panel")), panel) != 0)
                continue;
            json_t *v = json_object_get(p, "value"), *m = json_object_get(p, "suppressed");
            char buf[64];
            if (json_is_number(v))
                snprintf(buf, sizeof buf, "%g", json_number_value(v));
            else
                snprintf(buf, sizeof buf, "%s", json_is_string(m) ? json_string_value(m) : "null");
            val = strdup(buf);
        }
        json_decref(root);
    } else {
        char key[64];
        snprintf(key, sizeof key, "\n%s,", panel);
        const char *line = strstr(out, key);
        cr_assert_not_null(line, "%s", out);
        /* panel,title,metric,entity,agg,window,value */
        const char *c = line + 1;
        for (int f = 0; f < 6; f++)
            c = strchr(c, ',') + 1;
        val = strndup(c, strcspn(c, ",\n"));
    }
    cr_assert_not_null(val, "no panel %s:\n%s", panel, out);
    free(out);
    return val;
}

/* Two snapshots a second apart around one officer's single record (at T):
 * with sliding windows the unit's 7d total moved by that record (50, 52). */
Test(privacy_leaks, differencing_two_snapshots)
{
    th_as("someone", NULL);
    const char *fmts[] = {"json", "csv"};
    for (size_t f = 0; f < 2; f++) {
        char *before = snapshot_at(fmts[f], T, "ot_unit");
        char *after = snapshot_at(fmts[f], T + 1, "ot_unit");
        cr_assert_str_eq(before, "50", "%s: the unit's whole slices: %s", fmts[f], before);
        cr_assert_str_eq(after, before, "%s: %s - %s is one officer's record", fmts[f], after,
                         before);
        free(before);
        free(after);
    }
    /* the handover report and the screen: the same figure, never 52 */
    const char *screens[] = {"markdown", "text"};
    for (size_t f = 0; f < 2; f++) {
        char *a = snapshot_at(screens[f], T + 1, "ot_unit");
        cr_assert_null(strstr(a, "52"), "%s:\n%s", screens[f], a);
        cr_assert(strstr(a, "50"), "%s:\n%s", screens[f], a);
        free(a);
    }
    /* the role with personal data gets the sliding window */
    th_as("boss", NULL);
    char *exact = snapshot_at("json", T + 1, "ot_unit");
    cr_assert_str_eq(exact, "52");
    free(exact);
}

/* A source's last error may quote the input that failed (as a collector
 * records it: here an officer's name). */
Test(privacy_leaks, source_errors_withhold_input_data)
{
    char db[600];
    snprintf(db, sizeof db, "%s/cache.db", dir);
    sqlite3 *h;
    cr_assert_eq(
        sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, sr_store_vfs()),
        SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h,
                              "INSERT OR REPLACE INTO source(name, type, last_error) VALUES "
                              "('feed', 'csv', 'row 3: bad entity ''force/north/d1/u1/PC Jones "
                              "Secret/''')",
                              NULL, NULL, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(h));
    sqlite3_close(h);
    char *out, *err;
    th_as("someone", NULL);
    const char *const fmts[] = {"text", "json"};
    for (size_t f = 0; f < 2; f++) {
        cr_assert_eq(run(&out, &err, (const char *[]){"sources", "--format", fmts[f], NULL}), 0,
                     "%s", err);
        cr_assert_null(strstr(out, "Jones"), "%s:\n%s", fmts[f], out);
        cr_assert(strstr(out, "the error is withheld"), "%s:\n%s", fmts[f], out);
        free(out);
        free(err);
    }
    th_as("boss", NULL);
    cr_assert_eq(run(&out, &err, (const char *[]){"sources", "--format", "json", NULL}), 0, "%s",
                 err);
    cr_assert(strstr(out, "PC Jones Secret"), "the role with personal data sees it:\n%s", out);
    free(out);
    free(err);
}
