/*
 * test_escapes.c - issue 13: escape sequences and controls from data never
 * reach a terminal through any output of the real sitrep binary, on a
 * terminal or not. Payloads (OSC 52, OSC 0, CSI 2J, C1 CSI as U+009B,
 * U+202E) come in entity names and a rejected row (`ingest`), a failing
 * source's error (`collect`), an alert's entity and note, and an audited
 * query. Plain outputs hold no ESC, BEL, C1 or bidi byte; JSON holds them
 * escaped (\u001b, \u009b, \u202e), so nothing the data said is lost; the
 * collect log writes them escaped.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../metrics/store.h"
#include "../helpers.h"

static char dir[256], cfg[300], db[300], logf_[300];

#define OSC52 "\x1b]52;c;UkVK\x07"
#define OSC0 "\x1b]0;owned\x07"
#define CSI2J "\x1b[2J"
#define C1CSI "\xc2\x9b"
#define RLO "\xe2\x80\xae"

static void setup(void)
{
    th_tempdir(dir, sizeof dir);
    snprintf(cfg, sizeof cfg, "%s/c.ini", dir);
    snprintf(db, sizeof db, "%s/cache.db", dir);
    snprintf(logf_, sizeof logf_, "%s/collect.log", dir);
    char path[300], text[2048];
    snprintf(path, sizeof path, "%s/emit.sh", dir);
    th_write_file(path,
                  "printf 'fetch \\033]0;owned\\007 \\302\\233 2J \\342\\200\\256 fail\\n' >&2\n"
                  "exit 2\n");
    snprintf(text, sizeof text,
             "[sitrep]\nlevels = force, region, district, unit, officer\npersonal = officer\n"
             "cache = %s\n"
             "[metric.rt]\nkind = event\nunit = s\nagg = max\nwarn = 100\ncrit = 200\n"
             "[adapter.bad]\ntype = exec\ncommand = /bin/sh %s\n"
             "[panel.rt]\nmetric = rt\nentity = force\nwindow = 7d\n"
             "[role.srclean]\nusers = srclean\npersonal = yes\ndrill = *\naudit = yes\n"
             "acknowledge = yes\n",
             db, path);
    th_write_file(cfg, text);
    long now = (long)time(NULL);
    snprintf(path, sizeof path, "%s/r.csv", dir);
    snprintf(text, sizeof text,
             "metric,entity,ts,value\n"
             "rt,force/n/d/u/a" OSC0 "b,%ld,500\n"
             "rt,force/n/d/u/c" C1CSI "2J" RLO "d,%ld,300\n"
             "rt,force/n/d/u/e" CSI2J "f,%ld,250\n"
             "rt,force/n/d/u/g,%ld," OSC52 "\n",
             now, now, now, now);
    th_write_file(path, text);
    th_ingest(cfg, path, 3);
    th_as("srclean", NULL);
}

static void teardown(void)
{
    th_as(NULL, NULL);
    th_rmtree(dir);
}

TestSuite(escapes, .init = setup, .fini = teardown);

/* Plain text: no byte that a terminal could take for a control. */
static void assert_plain(const char *what, const char *out)
{
    for (const unsigned char *p = (const unsigned char *)out; *p; p++) {
        cr_assert(*p >= 0x20 || *p == '\n', "%s: control byte 0x%02x at %zu in:\n%s", what, *p,
                  (size_t)(p - (const unsigned char *)out), out);
        cr_assert(*p != 0x7f && *p != 0x9b, "%s: byte 0x%02x in:\n%s", what, *p, out);
    }
    cr_assert_null(strstr(out, C1CSI), "%s: U+009B in:\n%s", what, out);
    cr_assert_null(strstr(out, RLO), "%s: U+202E in:\n%s", what, out);
}

/* JSON: no raw control either, and each payload there as \uXXXX. */
static void assert_json(const char *what, const char *out, const char *const *want)
{
    assert_plain(what, out);
    for (; *want; want++)
        cr_assert_not_null(strstr(out, *want), "%s: no %s in:\n%s", what, *want, out);
}

static char *run_ok(char **argv)
{
    char *out, *err;
    int rc = th_run(NULL, argv, &out, &err);
    cr_assert_eq(rc, 0, "%s exited %d: %s%s", argv[0], rc, out, err);
    assert_plain("stderr", err);
    free(err);
    return out;
}

Test(escapes, rejects_print_the_raw_row_without_its_escapes)
{
    char *out = run_ok((char *[]){"rejects", "--config", cfg, NULL});
    assert_plain("rejects", out);
    cr_assert_not_null(strstr(out, "rt,force/n/d/u/g,"), "the raw row is shown:\n%s", out);
    free(out);
}

Test(escapes, query_by_children_in_text_csv_and_json)
{
    char *text = run_ok((char *[]){"query", "rt", "--config", cfg, "--entity", "force/n/d/u",
                                   "--by", "children", NULL});
    assert_plain("query text", text);
    cr_assert_not_null(strstr(text, "force/n/d/u/c2Jd"), "%s", text);
    cr_assert_not_null(strstr(text, "force/n/d/u/ab"), "%s", text);
    free(text);
    char *csv = run_ok((char *[]){"query", "rt", "--config", cfg, "--entity", "force/n/d/u", "--by",
                                  "children", "--format", "csv", NULL});
    assert_plain("query csv", csv);
    cr_assert_not_null(strstr(csv, "force/n/d/u/ef,"), "%s", csv);
    free(csv);
    char *json = run_ok((char *[]){"query", "rt", "--config", cfg, "--entity", "force/n/d/u",
                                   "--by", "children", "--format", "json", NULL});
    assert_json(
        "query json", json,
        (const char *[]){"a\\u001B]0;owned\\u0007b", "c\\u009B2J\\u202Ed", "e\\u001B[2Jf", NULL});
    free(json);
}

Test(escapes, a_failing_sources_error_in_sources_snapshot_and_the_log)
{
    char *argv[] = {"collect", "--once", "--config", cfg, "--log", logf_, NULL};
    char *out, *err;
    th_run(NULL, argv, &out, &err); /* fails: the source does */
    assert_plain("collect stdout", out);
    assert_plain("collect stderr", err);
    free(out);
    free(err);
    FILE *f = fopen(logf_, "rb");
    cr_assert_not_null(f);
    char log[8192];
    size_t n = fread(log, 1, sizeof log - 1, f);
    log[n] = '\0';
    fclose(f);
    assert_json("collect log", log, (const char *[]){"\\u202e fail", NULL});

    char *text = run_ok((char *[]){"sources", "--config", cfg, NULL});
    assert_plain("sources", text);
    cr_assert_not_null(strstr(text, "fail"), "%s", text);
    free(text);
    char *json = run_ok((char *[]){"sources", "--config", cfg, "--format", "json", NULL});
    assert_json("sources json", json, (const char *[]){"\\u202E fail", NULL});
    free(json);
    json = run_ok((char *[]){"snapshot", "--config", cfg, "--format", "json", NULL});
    assert_json("snapshot json", json, (const char *[]){"\\u202E fail", NULL});
    free(json);
    char *md = run_ok((char *[]){"snapshot", "--config", cfg, "--format", "markdown", NULL});
    assert_plain("snapshot markdown", md);
    cr_assert_not_null(strstr(md, "fail"), "%s", md);
    free(md);
}

Test(escapes, alerts_in_text_and_json)
{
    sr_store *st;
    cr_assert_eq(sr_store_open(db, 0, &st, NULL, 0), 0);
    sr_alert a = {.key = "rt:7d@force/x" OSC0,
                  .panel = "rt",
                  .metric = "rt",
                  .entity = "force/x" OSC0,
                  .state = SR_ALERT_ACKED,
                  .severity = SR_STATUS_CRIT,
                  .raised_at_ms = 1700000000000,
                  .value = 300,
                  .threshold = 200,
                  .acked_by = "ann" CSI2J,
                  .acked_at_ms = 1700000060000,
                  .note = "on it " C1CSI "2J" RLO " x"};
    cr_assert_eq(sr_store_alert_put(st, &a), 0);
    sr_store_close(st);
    char *text = run_ok((char *[]){"alerts", "--config", cfg, NULL});
    assert_plain("alerts", text);
    cr_assert_not_null(strstr(text, "on it 2J x"), "%s", text);
    free(text);
    char *json = run_ok((char *[]){"alerts", "--config", cfg, "--format", "json", NULL});
    assert_json("alerts json", json,
                (const char *[]){"force/x\\u001B]0;owned\\u0007", "ann\\u001B[2J",
                                 "on it \\u009B2J\\u202E x", NULL});
    free(json);
    char *md = run_ok((char *[]){"snapshot", "--config", cfg, "--format", "markdown", NULL});
    assert_plain("snapshot markdown", md);
    free(md);
}

Test(escapes, the_audit_of_a_query_in_text_and_json)
{
    char *out = run_ok((char *[]){"query", "rt", "--config", cfg, "--entity",
                                  "force/n/d/u/c" C1CSI "2J" RLO "d", NULL});
    free(out);
    char *text = run_ok((char *[]){"audit", "--config", cfg, NULL});
    assert_plain("audit", text);
    cr_assert_not_null(strstr(text, "force/n/d/u/c2Jd"), "%s", text);
    free(text);
    char *json = run_ok((char *[]){"audit", "--config", cfg, "--format", "json", NULL});
    assert_json("audit json", json, (const char *[]){"force/n/d/u/c\\u009B2J\\u202Ed", NULL});
    free(json);
}

Test(escapes, check_config_echoes_controls_escaped_and_refuses_them_in_label_and_unit)
{
    char bad[300], text[1024];
    snprintf(bad, sizeof bad, "%s/bad.ini", dir);
    snprintf(text, sizeof text,
             "[sitrep]\ntitle = Demo \x9b"
             "2J\ncache = %s\n"
             "[metric.rt]\nkind = event\nunit = s" RLO "\nlabel = Resp" C1CSI "onse\n"
             "[metric.ok]\nkind = event\nunit = \xc3\xa9t\xc3\xa9\nlabel = Z\xc3\xbcrich\n",
             db);
    th_write_file(bad, text);
    char *argv[] = {"check-config", "--config", bad, NULL};
    char *out, *err;
    int rc = th_run(NULL, argv, &out, &err);
    cr_assert_eq(rc, 2, "check-config exited %d: %s%s", rc, out, err);
    assert_plain("check-config", out);
    assert_plain("check-config errors", err);
    char want[400];
    snprintf(want, sizeof want,
             "%s:2: title: control characters are not allowed, got 'Demo \\x9b2J'", bad);
    cr_assert_not_null(strstr(err, want), "no '%s' in:\n%s", want, err);
    snprintf(want, sizeof want, "%s:6: unit: control characters are not allowed, got 's\\u202e'",
             bad);
    cr_assert_not_null(strstr(err, want), "no '%s' in:\n%s", want, err);
    snprintf(want, sizeof want, "%s:7: label:", bad);
    cr_assert_not_null(strstr(err, want), "no '%s' in:\n%s", want, err);
    cr_assert_null(strstr(err, ":10:"), "é and ü are not controls:\n%s", err);
    cr_assert_null(strstr(err, ":11:"), "é and ü are not controls:\n%s", err);
    free(out);
    free(err);
}
