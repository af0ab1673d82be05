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

/* The paths of a config (with the cache at cache.db) and of a CSV of n
 * samples in dir, both written, and of the cache. */
static void prepare(char cfg[static 512], char csv[static 512], char db[static 512], long n)
{
    snprintf(cfg, 512, "%s/c.ini", dir);
    snprintf(csv, 512, "%s/s.csv", dir);
    snprintf(db, 512, "%s/cache.db", dir);
    write_config(cfg, "cache.db");
    write_samples(csv, n);
}

/* Overwrites 4 KiB at byte at of a file with bytes of a sequence from seed. */
static void scribble(const char *path, long at, unsigned seed)
{
    FILE *f = fopen(path, "r+b");
    cr_assert_not_null(f);
    unsigned char b[4096];
    for (size_t i = 0; i < sizeof b; i++) {
        seed = seed * 1664525u + 1013904223u;
        b[i] = (unsigned char)(seed >> 24);
    }
    cr_assert_eq(fseek(f, at, SEEK_SET), 0);
    cr_assert_eq(fwrite(b, 1, sizeof b, f), sizeof b);
    fclose(f);
}

/* Overwrites 4 KiB at byte `at` of a file with bytes of a fixed sequence. */
static void damage(const char *path, long at)
{
    scribble(path, at, 777);
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
    prepare(cfg, csv, db, 200000);
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

/* Copies file from to to (both whole). */
static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    cr_assert(a && b);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0)
        cr_assert_eq(fwrite(buf, 1, n, b), n);
    fclose(a);
    fclose(b);
}

/*
 * The issue's own reproduction: blocks of 4 KiB at random places of the
 * file overwritten with garbage, again and again from the same cache. SQLite
 * keeps no checksum of its pages, and a garbage key that still parses made
 * a scan stop early: a count short by 90 %, exit 0. Every page now carries
 * a checksum (store_pagesum.c): each read either says the cache is damaged
 * or prints exactly what it printed before the damage (the damage missed
 * every page it reads).
 */
Test(faults, random_damage_is_an_error_or_the_true_figure, .timeout = 300)
{
    char cfg[512], csv[512], db[512], pristine[512];
    prepare(cfg, csv, db, 200000);
    snprintf(pristine, sizeof pristine, "%s/pristine.db", dir);
    th_ingest(cfg, csv, 0);
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", db);
    struct stat sb;
    cr_assert(stat(wal, &sb) != 0 || sb.st_size == 0,
              "everything is in the file itself (the -wal is empty): %lld bytes",
              (long long)sb.st_size);
    cr_assert_eq(stat(db, &sb), 0);
    long blocks = (long)(sb.st_size / 4096);
    copy_file(db, pristine);

    /* reads of the whole tree, of a branch and of leaves: rollups of each
     * level, and the samples themselves (max, p90) */
    static const char *const reads[][4] = {
        {"--agg", "count", NULL},
        {"--agg", "sum", "--by", "children"},
        {"--agg", "p90", NULL},
        {"--agg", "count", "--entity", "force/a3"},
        {"--agg", "max", "--entity", "force/a3/b5"},
        {"--agg", "count", "--entity", "force/a6/b12"},
        {"--agg", "min", "--entity", "force/a1/b1"},
        {"--agg", "count", "--entity", "force/a2/b7"},
        {"--agg", "sum", "--entity", "force/a5"},
    };
    enum { N_READS = sizeof reads / sizeof *reads, PASSES = 40 };
    char *truth[N_READS];
    char *qv[16];
    for (int pass = -1, caught = 0, exact = 0; pass < PASSES; pass++) {
        if (pass >= 0) {
            copy_file(pristine, db);
            unsigned x = 4242u + (unsigned)pass;
            for (int i = 0; i < 20; i++) {
                x = x * 1103515245u + 12345u;
                scribble(db, (long)((x >> 4) % (unsigned)blocks) * 4096, x);
            }
        }
        for (int r = 0; r < N_READS; r++) {
            int k = 0;
            qv[k++] = "query";
            qv[k++] = "rt";
            qv[k++] = "--config";
            qv[k++] = cfg;
            qv[k++] = "--from";
            qv[k++] = "2023-01-01";
            qv[k++] = "--to";
            qv[k++] = "2025-01-01";
            qv[k++] = "--format";
            qv[k++] = "csv";
            for (int j = 0; j < 4 && reads[r][j]; j++)
                qv[k++] = (char *)reads[r][j];
            qv[k] = NULL;
            char *out, *err;
            int rc = th_run(NULL, qv, &out, &err);
            if (pass < 0) {
                cr_assert_eq(rc, 0, "%s", err);
                truth[r] = out;
                free(err);
                continue;
            }
            if (rc == 0) {
                cr_assert_str_eq(out, truth[r], "pass %d, read %d: a wrong figure, exit 0", pass,
                                 r);
                exact++;
            } else {
                cr_assert_eq(rc, 1, "pass %d, read %d: %s%s", pass, r, out, err);
                cr_assert(strstr(err, "is damaged") || strstr(err, "cannot open the cache"),
                          "pass %d, read %d: says what is wrong: %s", pass, r, err);
                cr_assert_str_eq(out, "", "pass %d, read %d: nothing printed", pass, r);
                caught++;
            }
            free(out);
            free(err);
        }
        if (pass == PASSES - 1) {
            cr_log_info("random damage: %d reads refused, %d true figures", caught, exact);
            cr_assert_gt(caught, 0, "the damage was never seen (%d exact)", exact);
        }
    }
    for (int r = 0; r < N_READS; r++)
        free(truth[r]);
}

/*
 * A cache made before page checksums (no bytes reserved at the end of its
 * pages) reads and grows as before, unchecked, and check-cache says so with
 * what to do; a new cache has them, and check-cache says they matched.
 */
Test(faults, a_cache_without_page_checksums_still_works_and_says_so)
{
    char cfg[512], csv[512], db[512];
    prepare(cfg, csv, db, 1000);
    /* the file as an earlier sitrep left it before its first table: a page
     * 1 with no reserve, made by SQLite alone */
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h, "PRAGMA journal_mode = WAL", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    th_ingest(cfg, csv, 0);
    char *cv[] = {"check-cache", "--config", cfg, NULL};
    char *qv[] = {"query",      "rt",   "--config",   cfg,        "--agg", "count", "--from",
                  "2023-01-01", "--to", "2025-01-01", "--format", "csv",   NULL};
    char *out, *err;
    cr_assert_eq(th_run(NULL, qv, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, ",count,1000,"), "%s", out);
    free(out);
    free(err);
    cr_assert_eq(th_run(NULL, cv, &out, &err), 0, "%s%s", out, err);
    cr_assert(strstr(out, ": ok (quick_check found no problem)\nit has no page checksums"), "%s",
              out);
    cr_assert(strstr(out, "To add them, rebuild it: stop the collector"), "%s", out);
    free(out);
    free(err);

    /* a new cache has them */
    th_rmtree(dir);
    th_tempdir(dir, sizeof dir);
    prepare(cfg, csv, db, 1000);
    th_ingest(cfg, csv, 0);
    cv[2] = cfg;
    cr_assert_eq(th_run(NULL, cv, &out, &err), 0, "%s%s", out, err);
    cr_assert(strstr(out, "every page it read matched its checksum"), "%s", out);
    cr_assert(!strstr(out, "no page checksums"), "%s", out);
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
