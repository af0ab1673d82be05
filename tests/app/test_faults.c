/*
 * test_faults.c - faults said plainly (issue 13): a full file system (a
 * real tmpfs, root only), a damaged cache (real pages overwritten with a
 * fixed seed) and `sitrep check-cache`, through the real binary.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../helpers.h"

static char dir[256];
static char mnt[300]; /* the tmpfs mounted by a test; "" when none */

static void setup(void)
{
    th_tempdir(dir, sizeof dir);
    mnt[0] = 0;
}

static void teardown(void)
{
    if (mnt[0])
        umount2(mnt, MNT_DETACH);
    th_rmtree(dir);
}

TestSuite(faults, .init = setup, .fini = teardown);

/* A config with the cache at cache (relative to dir) and one event metric. */
static void write_config(const char *cfg, const char *cache)
{
    char text[512];
    snprintf(text, sizeof text,
             "[sitrep]\ncache = %s\ntimezone = UTC\n[metric.rt]\nkind = event\nunit = s\n", cache);
    th_write_file(cfg, text);
}

/* A CSV of n samples of rt over many entities and hours, values from a
 * fixed sequence. */
static void write_samples(const char *path, long n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fputs("metric,entity,ts,value\n", f);
    unsigned x = 12345;
    for (long i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        fprintf(f, "rt,force/a%ld/b%ld,%ld,%u\n", i % 7, i % 13, 1700000000L + i * 3,
                1 + (x >> 16) % 1000);
    }
    fclose(f);
}

Test(faults, full_disk_says_disk_full_and_what_was_kept)
{
    if (geteuid() != 0)
        cr_skip_test("mounting a small tmpfs needs root (the CI runs the tests as root)");
    snprintf(mnt, sizeof mnt, "%s/full", dir);
    cr_assert_eq(mkdir(mnt, 0755), 0);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=8m") != 0) {
        mnt[0] = 0;
        cr_skip_test("cannot mount a tmpfs here: %s", strerror(errno));
    }
    char cfg[512], csv[512];
    snprintf(cfg, sizeof cfg, "%s/c.ini", dir);
    snprintf(csv, sizeof csv, "%s/s.csv", dir);
    write_config(cfg, "full/cache.db");
    write_samples(csv, 300000);
    char *argv[] = {"ingest", "--config", cfg, csv, NULL};
    char *out, *err;
    int rc = th_run(NULL, argv, &out, &err);
    cr_assert_eq(rc, 1, "%s%s", out, err);
    cr_assert(strstr(err, "disk full: the cache "), "%s", err);
    cr_assert(strstr(err, "full/cache.db"), "names the cache: %s", err);
    cr_assert(strstr(err, "kept: the rows up to line 50001 (50000 accepted) are committed"), "%s",
              err);
    cr_assert(!strstr(err, "cannot rollback"), "%s", err);
    cr_assert(!strstr(err, "input/output error"), "%s", err);
    /* a message a line: none runs into the next */
    for (const char *l = err; *l; l = strchr(l, '\n') + 1) {
        cr_assert(strncmp(l, "sitrep ingest: ", 15) == 0, "a line of its own: %s", l);
        cr_assert_not_null(strchr(l, '\n'));
    }
    free(out);
    free(err);
    /* what was kept is there */
    char *qv[] = {"query",      "rt",   "--config",   cfg,        "--agg", "count", "--from",
                  "2023-01-01", "--to", "2025-01-01", "--format", "csv",   NULL};
    cr_assert_eq(th_run(NULL, qv, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, ",count,50000,"), "%s", out);
    free(out);
    free(err);
}

/* Overwrites 4 KiB at byte `at` of a file with bytes of a fixed sequence. */
static void damage(const char *path, long at)
{
    FILE *f = fopen(path, "r+b");
    cr_assert_not_null(f);
    unsigned x = 777;
    unsigned char b[4096];
    for (size_t i = 0; i < sizeof b; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (unsigned char)(x >> 16);
    }
    cr_assert_eq(fseek(f, at, SEEK_SET), 0);
    cr_assert_eq(fwrite(b, 1, sizeof b, f), sizeof b);
    fclose(f);
}

/* The byte offset of the first leaf page of index `name` (SQLite's dbstat)
 * and the page size. */
static long first_leaf(const char *db, const char *name, long *page_size)
{
    sqlite3 *h;
    cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    cr_assert_eq(sqlite3_prepare_v2(h,
                                    "SELECT pageno, (SELECT page_size FROM pragma_page_size) "
                                    "FROM dbstat WHERE name = ?1 AND pagetype = 'leaf' "
                                    "ORDER BY path LIMIT 1",
                                    -1, &q, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(h));
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    long page = (long)sqlite3_column_int64(q, 0);
    *page_size = (long)sqlite3_column_int64(q, 1);
    sqlite3_finalize(q);
    sqlite3_close(h);
    return (page - 1) * *page_size;
}

Test(faults, damaged_cache_is_never_a_figure)
{
    char cfg[512], csv[512], db[512];
    snprintf(cfg, sizeof cfg, "%s/c.ini", dir);
    snprintf(csv, sizeof csv, "%s/s.csv", dir);
    snprintf(db, sizeof db, "%s/cache.db", dir);
    write_config(cfg, "cache.db");
    write_samples(csv, 200000);
    th_ingest(cfg, csv, 0);
    char *cv[] = {"check-cache", "--config", cfg, NULL};
    char *out, *err;
    cr_assert_eq(th_run(NULL, cv, &out, &err), 0, "%s%s", out, err);
    cr_assert(strstr(out, ": ok"), "%s", out);
    free(out);
    free(err);

    /* the last 4 KiB of the first leaf of the index the counts are read
     * from (the whole tree's hours): the page's header and cell pointers
     * are whole, its cells garbage; SQLite reads them without an error
     * unless asked to check (the count came out short, with exit 0) */
    long ps, at = first_leaf(db, "rollup_stamp", &ps);
    damage(db, at + ps - 4096);
    char *qv[] = {"query",  "rt",         "--config", cfg,          "--agg", "count",
                  "--from", "2023-01-01", "--to",     "2025-01-01", NULL};
    int rc = th_run(NULL, qv, &out, &err);
    cr_assert_eq(rc, 1, "a figure from a damaged cache: %s%s", out, err);
    cr_assert_str_eq(out, "", "nothing printed: %s", out);
    cr_assert(strstr(err, "is damaged"), "%s", err);
    cr_assert(strstr(err, "sitrep check-cache"), "says what to do: %s", err);
    free(out);
    free(err);

    /* a panel that counts them: the snapshots say the damage as query
     * does, and the text's status bar says it where the figure would be */
    FILE *f = fopen(cfg, "a");
    cr_assert_not_null(f);
    fputs("[panel.count]\nmetric = rt\nagg = count\nwindow = 30d\n", f);
    fclose(f);
    char *sv[][9] = {
        {"snapshot", "--format", "json", "--at", "2023-11-20", "--config", cfg, NULL},
        {"snapshot", "--format", "text", "--at", "2023-11-20", "--config", cfg, NULL},
    };
    for (size_t i = 0; i < 2; i++) {
        rc = th_run(NULL, sv[i], &out, &err);
        cr_assert_eq(rc, 1, "snapshot %s: %s%s", sv[i][2], out, err);
        cr_assert(strstr(err, "is damaged"), "%s", err);
        cr_assert(strstr(err, "sitrep check-cache"), "%s", err);
        if (i == 1)
            cr_assert(strstr(out, "CACHE DAMAGED"), "%s", out);
        free(out);
        free(err);
    }

    rc = th_run(NULL, cv, &out, &err);
    cr_assert_eq(rc, 1, "%s%s", out, err);
    cr_assert(strstr(out, "damaged: quick_check found"), "%s", out);
    cr_assert(strstr(out, "to recover:"), "%s", out);
    free(out);
    free(err);
}

Test(faults, check_cache_of_no_cache)
{
    char cfg[512];
    snprintf(cfg, sizeof cfg, "%s/c.ini", dir);
    write_config(cfg, "none.db");
    char *cv[] = {"check-cache", "--config", cfg, NULL};
    char *out, *err;
    cr_assert_eq(th_run(NULL, cv, &out, &err), 1, "%s%s", out, err);
    cr_assert(strstr(err, "there is no cache"), "%s", err);
    free(out);
    free(err);
}
