/*
 * helpers.h - small helpers shared by the tests: temp dirs, files, running
 * the real sitrep binary as a child process.
 */
#ifndef SR_TEST_HELPERS_H
#define SR_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../metrics/store.h"

/* A stable sort of doubles by brute force, the reference that sorts of
 * observations are checked against: values that compare equal (0 and -0)
 * keep their order, by sorting (value, position) pairs. */
typedef struct {
    double v;
    size_t at;
} th_ranked;

static inline int th_cmp_ranked(const void *a, const void *b)
{
    const th_ranked *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

static inline void th_sort_stable(double *v, size_t n)
{
    th_ranked *r = malloc((n ? n : 1) * sizeof *r);
    cr_assert_not_null(r);
    for (size_t i = 0; i < n; i++)
        r[i] = (th_ranked){v[i], i};
    qsort(r, n, sizeof *r, th_cmp_ranked);
    for (size_t i = 0; i < n; i++)
        v[i] = r[i].v;
    free(r);
}

/* The monotonic clock in milliseconds: for deadlines and for how long
 * something took, never for the time of day. */
static inline int64_t th_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Waiting in a test is polling with a deadline, never a fixed sleep: the
 * one loop is
 *
 *     th_deadline d = th_deadline_in(30 * 1000);
 *     while (!condition())
 *         cr_assert(th_poll(&d), "what never happened");
 *
 * th_poll() says whether time is left and, if so, naps one step first.
 */
typedef struct {
    int64_t end_ms; /* on th_mono_ms()'s clock */
    int step_ms;    /* the nap between two looks */
} th_deadline;

/* The step between two looks unless a wait sets its own. */
#define TH_STEP_MS 20

/* A deadline timeout_ms from now, looked at every TH_STEP_MS. */
static inline th_deadline th_deadline_in(int64_t timeout_ms)
{
    return (th_deadline){th_mono_ms() + timeout_ms, TH_STEP_MS};
}

/* Whether the deadline has passed. */
static inline bool th_expired(const th_deadline *d)
{
    return th_mono_ms() >= d->end_ms;
}

/* False when the deadline has passed; else naps one step and is true. */
static inline bool th_poll(const th_deadline *d)
{
    if (th_expired(d))
        return false;
    struct timespec nap = {d->step_ms / 1000, (long)(d->step_ms % 1000) * 1000000L};
    nanosleep(&nap, NULL);
    return true;
}

/* Creates a fresh directory under $TMPDIR (or /tmp). */
static inline void th_tempdir(char *buf, size_t len)
{
    const char *t = getenv("TMPDIR");
    snprintf(buf, len, "%s/sitrep-test-XXXXXX", t && *t ? t : "/tmp");
    cr_assert_not_null(mkdtemp(buf), "mkdtemp failed");
}

/* A fresh folder in dir (dlen bytes), as th_tempdir(), and in path (plen
 * bytes) the path of a file name in it, not made. */
static inline void th_tempdir_with(char *dir, size_t dlen, char *path, size_t plen,
                                   const char *name)
{
    th_tempdir(dir, dlen);
    snprintf(path, plen, "%s/%s", dir, name);
}

static inline int th_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void th_rmtree(const char *dir)
{
    if (dir && *dir)
        nftw(dir, th_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void th_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/*
 * Writes the shipped config.ini (the simulator, every panel) to `out` with
 * the cache at `cache`, a one-day backfill, the extra sed expressions in
 * `sed` (NULL: none; each as -e '...') and `append` added at its end (NULL:
 * nothing). Tests run from the repository's top, where config.ini is.
 */
static inline void th_sim_config(const char *out, const char *cache, const char *sed,
                                 const char *append)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "sed -e 's/^backfill = 36d/backfill = 1d/' -e 's|^;cache = .*|cache = %s|' %s "
             "config.ini > '%s'",
             cache, sed ? sed : "", out);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    if (append) {
        FILE *f = fopen(out, "ab");
        cr_assert_not_null(f, "cannot append to %s", out);
        fputs(append, f);
        fclose(f);
    }
}

/* Reads the first column of the first row of sql from the SQLite file db,
 * opened read-only, into *n; false when it cannot (no file yet, no table
 * yet, no row), with SQLite's message in err (errlen bytes; NULL: none). */
static inline bool th_sql_try(const char *db, const char *sql, int64_t *n, char *err, size_t errlen)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *q = NULL;
    bool ok = sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
              sqlite3_prepare_v2(h, sql, -1, &q, NULL) == SQLITE_OK &&
              sqlite3_step(q) == SQLITE_ROW;
    if (ok)
        *n = sqlite3_column_int64(q, 0);
    else if (err)
        snprintf(err, errlen, "%s", h ? sqlite3_errmsg(h) : "out of memory");
    sqlite3_finalize(q);
    sqlite3_close(h);
    return ok;
}

/* th_sql_try() that fails the test, naming sql and SQLite's message, when
 * db cannot be read. */
static inline int64_t th_sql_int(const char *db, const char *sql)
{
    int64_t n = 0;
    char err[256] = "";
    cr_assert(th_sql_try(db, sql, &n, err, sizeof err), "%s on %s: %s", sql, db, err);
    return n;
}

/* Runs sql on the cache at db as another program would, through the
 * store's VFS (sr_store_vfs: a page written without it has no checksum and
 * reads as damage); asserts that it worked. */
static inline void th_cache_exec(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, sr_store_vfs()), SQLITE_OK,
                 "%s: %s", db, h ? sqlite3_errmsg(h) : "no memory");
    char *msg = NULL;
    cr_assert_eq(sqlite3_exec(h, sql, NULL, NULL, &msg), SQLITE_OK, "%s: %s", sql, msg);
    sqlite3_close(h);
}

/* Path of a file in tests/fixtures (from SITREP_FIXTURES, else ./tests/fixtures). */
static inline void th_fixture(char *buf, size_t len, const char *name)
{
    const char *d = getenv("SITREP_FIXTURES");
    snprintf(buf, len, "%s/%s", d && *d ? d : "tests/fixtures", name);
}

/* The sitrep binary under test (SITREP_BIN, else ./sitrep). */
static inline const char *th_sitrep_bin(void)
{
    const char *b = getenv("SITREP_BIN");
    return b && *b ? b : "./sitrep";
}

/* The sitrep binary as an absolute path (for a shell started elsewhere, such
 * as a tmux pane): th_sitrep_bin() resolved against $PWD. */
static inline void th_sitrep_abs(char *buf, size_t len)
{
    const char *b = th_sitrep_bin();
    if (b[0] == '/')
        snprintf(buf, len, "%s", b);
    else
        snprintf(buf, len, "%s/%s", getenv("PWD") ? getenv("PWD") : ".", b);
}

/* Runs execv of bin with argv (without argv[0]) in the child; never returns. */
static inline void th_exec(const char *bin, char *const argv[])
{
    size_t n = 0;
    while (argv[n])
        n++;
    char **full = calloc(n + 2, sizeof *full);
    full[0] = (char *)bin;
    memcpy(full + 1, argv, n * sizeof *full);
    execv(full[0], full);
    _exit(127);
}

/* Runs execv of sitrep with argv (without argv[0]) in the child; never returns. */
static inline void th_exec_sitrep(char *const argv[])
{
    th_exec(th_sitrep_bin(), argv);
}

/* Starts sitrep with argv in the background, stdout and stderr into outfile. */
static inline pid_t th_spawn(char *const argv[], const char *outfile)
{
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        int fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        th_exec_sitrep(argv);
    }
    return pid;
}

/*
 * Runs sitrep with argv (NULL-terminated, without argv[0]) in directory
 * cwd (NULL = current), capturing stdout and stderr into malloc'd strings
 * (caller frees). Returns the exit status, or -1 when killed by a signal.
 * The child has TH_RUN_DEADLINE seconds (an alarm, kept across exec), so a
 * hung command fails its test instead of hanging the suite: criterion's
 * own .timeout leaks in its runner under --jobs, which LeakSanitizer
 * reports, so the suites do without it.
 */
#define TH_RUN_DEADLINE 300

/* What th_run_with() does in the child before the exec (another user's
 * ids, an environment); it may _exit on failure. */
typedef void (*th_child_fn)(void *ctx);

/* th_run() of the binary bin, with child(ctx) run in the child first. */
static inline int th_run_with(const char *cwd, const char *bin, th_child_fn child, void *ctx,
                              char *const argv[], char **out, char **err)
{
    char ofile[] = "/tmp/sitrep-out-XXXXXX", efile[] = "/tmp/sitrep-err-XXXXXX";
    int ofd = mkstemp(ofile), efd = mkstemp(efile);
    cr_assert(ofd >= 0 && efd >= 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        dup2(ofd, 1);
        dup2(efd, 2);
        if (cwd && chdir(cwd) != 0)
            _exit(127);
        alarm(TH_RUN_DEADLINE);
        if (child)
            child(ctx);
        th_exec(bin, argv);
    }
    int status;
    waitpid(pid, &status, 0);
    char **dst[2] = {out, err};
    int fds[2] = {ofd, efd};
    for (int i = 0; i < 2; i++) {
        off_t size = lseek(fds[i], 0, SEEK_END);
        lseek(fds[i], 0, SEEK_SET);
        char *s = calloc((size_t)size + 1, 1);
        if (size > 0 && read(fds[i], s, (size_t)size) != size)
            cr_assert_fail("short read of child output");
        close(fds[i]);
        if (dst[i])
            *dst[i] = s;
        else
            free(s);
    }
    unlink(ofile);
    unlink(efile);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static inline int th_run(const char *cwd, char *const argv[], char **out, char **err)
{
    return th_run_with(cwd, th_sitrep_bin(), NULL, NULL, argv, out, err);
}

/* sitrep query METRIC --agg AGG over [from, to) with config cfg and up to 6
 * more arguments (NULL-ended): exit status, stdout and stderr. */
static inline int th_query_span(const char *cfg, const char *from, const char *to, char **out,
                                char **err, const char *metric, const char *agg,
                                const char *const more[6])
{
    char *argv[] = {"query",
                    (char *)metric,
                    "--agg",
                    (char *)agg,
                    "--from",
                    (char *)from,
                    "--to",
                    (char *)to,
                    "--config",
                    (char *)cfg,
                    (char *)more[0],
                    (char *)more[1],
                    (char *)more[2],
                    (char *)more[3],
                    (char *)more[4],
                    (char *)more[5],
                    NULL};
    return th_run(NULL, argv, out, err);
}

/* Stands in for a user (and groups; NULL: none) through the test build's
 * SITREP_TEST_USER / SITREP_TEST_GROUPS; user NULL: the real user again. */
static inline void th_as(const char *user, const char *groups)
{
    if (user)
        setenv("SITREP_TEST_USER", user, 1);
    else
        unsetenv("SITREP_TEST_USER");
    if (groups)
        setenv("SITREP_TEST_GROUPS", groups, 1);
    else
        unsetenv("SITREP_TEST_GROUPS");
}

/* `sitrep ingest --config cfg csv` as the real user; fails the test unless
 * it exits with want (0, or 3 when some rows are rejected). */
static inline void th_ingest(const char *cfg, const char *csv, int want)
{
    th_as(NULL, NULL);
    char *argv[] = {"ingest", "--config", (char *)cfg, (char *)csv, NULL};
    char *out, *err;
    int rc = th_run(NULL, argv, &out, &err);
    cr_assert_eq(rc, want, "ingest exited %d, expected %d: %s%s", rc, want, out, err);
    free(out);
    free(err);
}

/* `sitrep ingest` of the CSV text (its header line first) from a file
 * s.csv made beside cfg, as th_ingest() (want: the exit status). */
static inline void th_ingest_text(const char *cfg, const char *text, int want)
{
    char csv[1024];
    const char *slash = strrchr(cfg, '/');
    snprintf(csv, sizeof csv, "%.*ss.csv", slash ? (int)(slash - cfg + 1) : 0, cfg);
    th_write_file(csv, text);
    th_ingest(cfg, csv, want);
}

/* The set-up of most command tests: a fresh folder in dir (dlen bytes)
 * and in it the config file t.ini, its path in cfg (clen bytes), holding
 * ini. */
static inline void th_config_dir(char *dir, size_t dlen, char *cfg, size_t clen, const char *ini)
{
    th_tempdir_with(dir, dlen, cfg, clen, "t.ini");
    th_write_file(cfg, ini);
}

/*
 * The privacy fixture the privacy tests share. Its config starts with
 * TH_PRIVACY_SITREP: a force down to its officers, who are personal data,
 * the cache beside the config (more [sitrep] keys may follow); its roles
 * TH_PRIVACY_ROLES: a commander (user cmd) who may see officers and an
 * auditor (user auditor) who may read the audit.
 */
#define TH_PRIVACY_SITREP                                                                          \
    "[sitrep]\n"                                                                                   \
    "cache = cache.db\n"                                                                           \
    "levels = force, region, district, unit, officer\n"                                            \
    "personal = officer\n"
#define TH_PRIVACY_ROLES                                                                           \
    "[role.commander]\n"                                                                           \
    "users = cmd\n"                                                                                \
    "drill = *\n"                                                                                  \
    "personal = yes\n"                                                                             \
    "[role.auditor]\n"                                                                             \
    "users = auditor\n"                                                                            \
    "audit = yes\n"

/* Writes into text (len bytes, from offset o) the privacy fixture's
 * officers: o1, o2 and o3 of unit force/north/d1/u1 with six overtime
 * records each (metric ot, 1.5 h), o1's in the whole hour before now's,
 * o2's in the one before, o3's in the one before that, so that each hour
 * of the unit holds six; returns the offset after them. */
static inline size_t th_privacy_officers(char *text, size_t len, size_t o)
{
    long hour = (long)time(NULL) / 3600 * 3600;
    for (int off = 1; off <= 3; off++)
        for (int k = 1; k <= 6; k++)
            o += (size_t)snprintf(text + o, len - o, "ot,force/north/d1/u1/o%d,%ld,1.5\n", off,
                                  hour - 3600L * off + 60L * k);
    cr_assert_lt(o, len, "the officers' records do not fit");
    return o;
}

/*
 * The fixture of a suite whose every test gets a fresh folder: defines the
 * file's static dir and the suite's set-up and teardown (the folder
 * removed, after a failure too). TH_DIR_SUITE also defines path, the path
 * of a file name in dir (not made).
 */
#define TH_TEMPDIR_SUITE(suite, dir)                                                               \
    static char dir[256];                                                                          \
    static void suite##_setup(void)                                                                \
    {                                                                                              \
        th_tempdir(dir, sizeof dir);                                                               \
    }                                                                                              \
    TH_SUITE_FINI(suite, dir)
#define TH_DIR_SUITE(suite, dir, path, name)                                                       \
    static char dir[256];                                                                          \
    static char path[300];                                                                         \
    static void suite##_setup(void)                                                                \
    {                                                                                              \
        th_tempdir_with(dir, sizeof dir, path, sizeof path, name);                                 \
    }                                                                                              \
    TH_SUITE_FINI(suite, dir)
#define TH_SUITE_FINI(suite, dir)                                                                  \
    static void suite##_teardown(void)                                                             \
    {                                                                                              \
        th_rmtree(dir);                                                                            \
    }                                                                                              \
    TestSuite(suite, .init = suite##_setup, .fini = suite##_teardown)

/* Runs a shell command made from fmt (root's chores: useradd, chmod);
 * fails the test unless it exits 0. */
static inline void th_sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
}

/* The pid written into the lock of cache (CACHE.lock), or 0. */
static inline long th_lock_pid(const char *cache)
{
    char path[1024], buf[32] = "";
    snprintf(path, sizeof path, "%s.lock", cache);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    if (!fgets(buf, sizeof buf, f))
        buf[0] = 0;
    fclose(f);
    return strtol(buf, NULL, 10);
}

/* Starts `sitrep collect --config cfg` in the background, its output into
 * log and its pid into *pid (for the teardown's th_reap()), and waits (up
 * to 30 s) until it holds the lock of cache. */
static inline void th_collector(pid_t *pid, const char *cfg, const char *cache, const char *log)
{
    char *argv[] = {"collect", "--config", (char *)cfg, NULL};
    *pid = th_spawn(argv, log);
    th_deadline d = th_deadline_in(30 * 1000);
    while (th_lock_pid(cache) != (long)*pid)
        cr_assert(th_poll(&d), "the collector never took the lock");
}

/* Kills a child started by th_spawn() (SIGKILL) and reaps it; *pid 0 or
 * less: nothing. *pid is 0 after. */
static inline void th_reap(pid_t *pid)
{
    if (*pid > 0) {
        kill(*pid, SIGKILL);
        waitpid(*pid, NULL, 0);
    }
    *pid = 0;
}

#endif
