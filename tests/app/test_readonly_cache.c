/*
 * test_readonly_cache.c - a cache whose folder and files a user may read
 * but not write (issue 13): every viewer command reads it, and what needs
 * to write says which folder or file this user may not write, through the
 * real binary run as a real unprivileged user (root only: useradd).
 */
#include <criterion/criterion.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../helpers.h"

static char dir[256]; /* 0755: the config and the cache's folder */
static char user[32]; /* the reader: "" until made */
static char cache[400];
static char folder[300];
static char cfg[300];

static void setup(void)
{
    th_tempdir(dir, sizeof dir);
    user[0] = 0;
}

static void teardown(void)
{
    if (user[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "userdel %s 2>/dev/null", user);
        if (system(cmd) != 0)
            fprintf(stderr, "test_readonly_cache: could not remove user %s\n", user);
    }
    /* the owner's 0555 folder: root removes it all the same */
    th_rmtree(dir);
}

TestSuite(rocache, .init = setup, .fini = teardown);

/* In the child: the reader's ids, no supplementary groups. */
static void become(void *ctx)
{
    (void)ctx;
    struct passwd *pw = getpwnam(user);
    if (!pw || setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
        _exit(126);
    setenv("HOME", dir, 1);
}

/* sitrep argv as the reader; its exit status, out and err (caller frees). */
static int run_as(char *const argv[], char **out, char **err)
{
    return th_run_with(NULL, th_sitrep_bin(), become, NULL, argv, out, err);
}

/* Writes dir/name: n response times, entity `prefix%d` (i % fanout), from
 * epoch second t0 every step seconds, values 1 + i % 9; returns its path. */
static const char *write_rt(const char *name, int n, const char *prefix, int fanout, long t0,
                            int step)
{
    static char csv[300];
    snprintf(csv, sizeof csv, "%s/%s", dir, name);
    FILE *f = fopen(csv, "w");
    cr_assert_not_null(f);
    fputs("metric,entity,ts,value\n", f);
    for (int i = 0; i < n; i++)
        fprintf(f, "rt,%s%d,%ld,%d\n", prefix, i % fanout, t0 + (long)i * step, 1 + i % 9);
    fclose(f);
    return csv;
}

/* Root only: a user, a config and a cache of 1000 samples made by root in
 * dir/c, with the -wal and -shm gone (a copy, or a cache the sqlite3 tool
 * checkpointed and closed) so that a reader would have to make them. */
static void make_cache(void)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to create a user (useradd); the CI runs the tests as root");
    snprintf(user, sizeof user, "srfa2r%d", (int)(getpid() % 100000));
    th_sh("useradd -M -N -g nogroup -s /usr/sbin/nologin %s", user);
    cr_assert_eq(chmod(dir, 0755), 0);
    snprintf(folder, sizeof folder, "%s/c", dir);
    snprintf(cache, sizeof cache, "%s/cache.db", folder);
    snprintf(cfg, sizeof cfg, "%s/c.ini", dir);
    char text[600];
    snprintf(text, sizeof text,
             "[sitrep]\ncache = %s\ntimezone = UTC\n[metric.rt]\nkind = event\nunit = s\n", cache);
    th_write_file(cfg, text);
    const char *csv = write_rt("s.csv", 1000, "force/a", 5, 1700000000, 7);
    th_ingest(cfg, csv, 0);
    th_sh("chmod 0644 %s %s", cfg, csv);
    th_sh("rm -f %s-wal %s-shm", cache, cache);
}

/* Every viewer command as the reader: exit 0, no word of SQLite's about a
 * read-only database, and query's count whole. */
static void viewers_read(void)
{
    char *out, *err;
    char *qv[] = {"query",      "rt",   "--config",   cfg,        "--agg", "count", "--from",
                  "2023-01-01", "--to", "2024-01-01", "--format", "csv",   NULL};
    cr_assert_eq(run_as(qv, &out, &err), 0, "query: %s%s", out, err);
    cr_assert(strstr(out, ",count,1000,1000"), "%s", out);
    free(out);
    free(err);
    char *cmds[][6] = {
        {"snapshot", "--format", "json", "--config", cfg, NULL},
        {"snapshot", "--format", "text", "--config", cfg, NULL},
        {"sources", "--config", cfg, NULL},
        {"rejects", "--config", cfg, NULL},
        {"alerts", "--config", cfg, NULL},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        int rc = run_as(cmds[i], &out, &err);
        cr_assert_eq(rc, 0, "%s: %s%s", cmds[i][0], out, err);
        cr_assert(!strstr(err, "readonly"), "%s: %s", cmds[i][0], err);
        free(out);
        free(err);
    }
}

/* What needs to write, as the reader: it says which folder this user may
 * not write, and who needs it; the cache is left as it was. */
static void writers_told(void)
{
    char group[64];
    struct passwd *pw = getpwnam(user);
    cr_assert_not_null(pw);
    snprintf(group, sizeof group, "%s", getgrgid(pw->pw_gid)->gr_name);
    char want[600];
    snprintf(want, sizeof want, "the cache folder %s is not writable by user %s (group %s)", folder,
             user, group);
    char csv[300];
    snprintf(csv, sizeof csv, "%s/s.csv", dir);
    char *iv[] = {"ingest", "--config", cfg, csv, NULL};
    char *cv[] = {"collect", "--once", "--config", cfg, NULL};
    char *out, *err;
    cr_assert_eq(run_as(iv, &out, &err), 1, "%s%s", out, err);
    cr_assert(strstr(err, want), "ingest: %s", err);
    cr_assert(strstr(err, "sitrep ingest needs it"), "%s", err);
    cr_assert(!strstr(err, "readonly database"), "%s", err);
    free(out);
    free(err);
    cr_assert_eq(run_as(cv, &out, &err), 1, "%s%s", out, err);
    cr_assert(strstr(err, want), "collect: %s", err);
    cr_assert(strstr(err, "the collector needs it"), "%s", err);
    free(out);
    free(err);
}

Test(rocache, another_user_reads_a_folder_it_may_not_write)
{
    make_cache();
    th_sh("chmod 0755 %s && chmod 0644 %s", folder, cache);
    viewers_read();
    writers_told();
    /* nothing was made in the folder */
    struct stat sb;
    char p[500];
    snprintf(p, sizeof p, "%s-wal", cache);
    cr_assert_neq(lstat(p, &sb), 0, "a -wal was made");
}

Test(rocache, the_owner_reads_a_folder_made_0555)
{
    make_cache();
    th_sh("chown -R %s %s && chmod 0555 %s", user, folder, folder);
    viewers_read();
    writers_told();
}

Test(rocache, a_wal_without_shm_is_said_plainly)
{
    make_cache();
    /* a -wal with rows (a copy that left the -shm behind): the file alone
     * would miss them, and SQLite reads them only through a -shm */
    char p[500];
    snprintf(p, sizeof p, "%s-wal", cache);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 4096; i++)
        fputc(i & 0xff, f);
    fclose(f);
    th_sh("chmod 0644 %s %s && chmod 0755 %s", p, cache, folder);
    char *qv[] = {"query", "rt", "--config", cfg, "--agg", "count", NULL};
    char *out, *err;
    cr_assert_eq(run_as(qv, &out, &err), 1, "%s%s", out, err);
    cr_assert_str_eq(out, "");
    cr_assert(strstr(err, "is not writable by user"), "%s", err);
    cr_assert(strstr(err, "-shm"), "%s", err);
    free(out);
    free(err);
}

/* A role that may see officers, on a cache it may not write: the audit row
 * of a personal view cannot be written, so the view is not shown at all
 * (query, snapshot text and json print nothing), and the command says why;
 * a view of no one (the force) is shown. */
Test(rocache, no_personal_figure_without_its_audit_row)
{
    make_cache();
    char text[800];
    snprintf(text, sizeof text,
             "[sitrep]\ncache = %s\ntimezone = UTC\nlevels = force, unit, officer\n"
             "personal = officer\n[metric.rt]\nkind = event\nunit = s\n"
             "[panel.officers]\nmetric = rt\nentity = force/a1\nwidget = table\nwindow = 365d\n"
             "[page.main]\npanels = officers\n"
             "[role.chief]\nusers = %s\ndrill = *\npersonal = yes\n",
             cache, user);
    th_write_file(cfg, text);
    /* officers under unit a1, and the unit's figures, as the owner */
    th_ingest(cfg, write_rt("o.csv", 60, "force/a1/o", 3, 1700100000, 11), 0);
    th_sh("rm -f %s-wal %s-shm && chmod 0644 %s %s && chmod 0755 %s", cache, cache, cache, cfg,
          folder);
    unsetenv("SITREP_TEST_USER");
    char *out, *err;
    char *qv[] = {"query",    "rt",         "--config", cfg,          "--entity",
                  "force/a1", "--by",       "children", "--agg",      "count",
                  "--from",   "2023-01-01", "--to",     "2024-01-01", NULL};
    cr_assert_eq(run_as(qv, &out, &err), 1, "%s%s", out, err);
    cr_assert_str_eq(out, "", "a personal figure without its audit row");
    cr_assert(strstr(err, "audit row of a view of personal data was not written, so the view is "
                          "not shown"),
              "%s", err);
    free(out);
    free(err);
    char *st[] = {"snapshot", "--format", "text", "--config", cfg, "--at", "2023-11-20", NULL};
    cr_assert_eq(run_as(st, &out, &err), 1, "%s%s", out, err);
    cr_assert_str_eq(out, "");
    free(out);
    free(err);
    /* the JSON report gives each panel's own figure (the unit's), no row
     * of an officer: nobody's, shown */
    char *sj[] = {"snapshot", "--format", "json", "--config", cfg, "--at", "2023-11-20", NULL};
    cr_assert_eq(run_as(sj, &out, &err), 0, "%s%s", out, err);
    cr_assert(strstr(out, "\"entity\": \"force/a1\""), "%s", out);
    cr_assert_null(strstr(out, "force/a1/o"), "%s", out);
    free(out);
    free(err);
    /* the force as a whole is nobody's: shown, no audit needed */
    char *qf[] = {"query",      "rt",   "--config",   cfg,        "--agg", "count", "--from",
                  "2023-01-01", "--to", "2024-01-01", "--format", "csv",   NULL};
    cr_assert_eq(run_as(qf, &out, &err), 0, "%s%s", out, err);
    cr_assert(strstr(out, ",count,1060,1060"), "%s", out);
    free(out);
    free(err);
}
