/*
 * Tests of app/trust.c: a setgid install as a shared host has it, with real
 * Unix users (run as root; each test makes its own with the prefix srsg and
 * removes them in its teardown, even after a failure).
 *
 * The install: the binary under test (SITREP_BIN) copied into a temp dir
 * reachable by everyone, group srsgg<pid> and mode 2755; the cache's folder
 * collector:group 2770; the collector a user whose primary group is that
 * group, a viewer and a user with no role outside it. The system
 * configuration is compiled in (SR_SYSTEM_CONFIG, app/paths.h, the same
 * -D flags as the binary's): each test process enters a mount namespace of
 * its own (unshare) and mounts an empty tmpfs on SR_SYSCONFDIR there, so
 * the binary reads the test's system config at the very path it was built
 * with, and the host's own is neither seen nor touched.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../app/paths.h"
#include "../e2e/tmux.h"
#include "../../metrics/store.h"
#include "../helpers.h"

enum { GRP, COL, VIEW, NOROLE, N_NAMES };

static char names[N_NAMES][32]; /* "" when not made */
static char dir[256];           /* the temp root: 0755 */
static char bin[300];           /* the "installed" binary: root:group 2755 */
static char state[300];         /* the cache's folder: collector:group 2770 */
static char cache[400];
static char vhome[300], nhome[300]; /* the viewer's and the role-less user's HOME */
static char secret[400];            /* a file only the group may read */
static tmux_t T;

#define SECRET_WORD "srsgsecretline"

static void teardown(void)
{
    if (T.sock[0])
        tmux_stop(&T);
    char cmd[128];
    for (int i = COL; i < N_NAMES; i++) {
        if (names[i][0]) {
            snprintf(cmd, sizeof cmd, "userdel %s 2>/dev/null", names[i]);
            if (system(cmd) != 0)
                fprintf(stderr, "test_trust: could not remove user %s\n", names[i]);
        }
    }
    if (names[GRP][0]) {
        snprintf(cmd, sizeof cmd, "groupdel %s 2>/dev/null", names[GRP]);
        if (system(cmd) != 0)
            fprintf(stderr, "test_trust: could not remove group %s\n", names[GRP]);
    }
    th_rmtree(dir);
}

static uid_t uid_of(int who)
{
    struct passwd *pw = getpwnam(names[who]);
    cr_assert_not_null(pw, "no user %s", names[who]);
    return pw->pw_uid;
}

static gid_t gid_of(int who)
{
    struct passwd *pw = getpwnam(names[who]);
    cr_assert_not_null(pw, "no user %s", names[who]);
    return pw->pw_gid;
}

static gid_t group_gid(void)
{
    struct group *g = getgrnam(names[GRP]);
    cr_assert_not_null(g, "no group %s", names[GRP]);
    return g->gr_gid;
}

/* A private mount namespace with an empty tmpfs on SR_SYSCONFDIR, and the
 * simulator's config there as the system one: root:group 0640, the cache
 * shared with the group, a role for the viewer (panel p1 and the officers'
 * table, personal data, each view audited). */
static void system_config(void)
{
    struct stat sb;
    cr_assert(stat(SR_SYSCONFDIR, &sb) == 0 && S_ISDIR(sb.st_mode),
              "%s (SR_SYSCONFDIR) must exist: the test mounts its own tmpfs on it", SR_SYSCONFDIR);
    cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
    cr_assert_eq(mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "%s", strerror(errno));
    cr_assert_eq(mount("tmpfs", SR_SYSCONFDIR, "tmpfs", 0, "mode=0755"), 0, "%s", strerror(errno));
    cr_assert_eq(mkdir(SR_SYSCONFDIR "/sitrep", 0755), 0);
    char line[800], roles[400];
    snprintf(line, sizeof line, "%s\\ncache_group = %s", cache, names[GRP]);
    snprintf(roles, sizeof roles,
             "\n[role.watch]\nusers = %s\npages = *\npanels = p1, overtime_officers\n"
             "personal = yes\ndrill = *\naudit = yes\n",
             names[VIEW]);
    th_sim_config(SR_SYSTEM_CONFIG, line, "-e 's/^backfill = 1d/backfill = 2h/'", roles);
    cr_assert_eq(chown(SR_SYSTEM_CONFIG, 0, group_gid()), 0);
    cr_assert_eq(chmod(SR_SYSTEM_CONFIG, 0640), 0);
}

static void setup(void)
{
    memset(names, 0, sizeof names);
    memset(&T, 0, sizeof T);
    dir[0] = 0;
    if (geteuid() != 0)
        cr_skip_test("needs root: it creates Unix users");
    static const char tag[N_NAMES] = {'g', 'c', 'v', 'n'};
    for (int i = 0; i < N_NAMES; i++)
        snprintf(names[i], sizeof names[i], "srsg%c%d", tag[i], (int)getpid() % 1000000);
    char made[N_NAMES][32];
    memcpy(made, names, sizeof made);
    memset(names, 0, sizeof names);
    th_sh("groupadd %s", made[GRP]);
    memcpy(names[GRP], made[GRP], sizeof names[GRP]);
    th_sh("useradd -M -N -g %s -s /usr/sbin/nologin %s", made[GRP], made[COL]);
    memcpy(names[COL], made[COL], sizeof names[COL]);
    for (int i = VIEW; i <= NOROLE; i++) {
        th_sh("useradd -M -N -g nogroup -s /usr/sbin/nologin %s", made[i]);
        memcpy(names[i], made[i], sizeof names[i]);
    }

    th_tempdir(dir, sizeof dir);
    cr_assert_eq(chmod(dir, 0755), 0);
    char src[4096];
    th_sitrep_abs(src, sizeof src);
    snprintf(bin, sizeof bin, "%s/sitrep", dir);
    th_sh("cp '%s' '%s'", src, bin);
    /* the group first: chown clears the setgid bit */
    cr_assert_eq(chown(bin, 0, group_gid()), 0);
    cr_assert_eq(chmod(bin, 02755), 0);

    snprintf(state, sizeof state, "%s/state", dir);
    snprintf(cache, sizeof cache, "%s/cache.db", state);
    cr_assert_eq(mkdir(state, 0700), 0);
    cr_assert_eq(chown(state, uid_of(COL), group_gid()), 0);
    cr_assert_eq(chmod(state, 02770), 0);
    snprintf(vhome, sizeof vhome, "%s/home-viewer", dir);
    snprintf(nhome, sizeof nhome, "%s/home-norole", dir);
    cr_assert_eq(mkdir(vhome, 0755), 0);
    cr_assert_eq(chown(vhome, uid_of(VIEW), gid_of(VIEW)), 0);
    cr_assert_eq(mkdir(nhome, 0755), 0);
    cr_assert_eq(chown(nhome, uid_of(NOROLE), gid_of(NOROLE)), 0);

    /* a file only the group may read, holding a theme line (so that a parse
     * error would quote it) */
    snprintf(secret, sizeof secret, "%s/secret.ini", state);
    th_write_file(secret, "[theme]\n" SECRET_WORD " = nonsense\n");
    cr_assert_eq(chown(secret, uid_of(COL), group_gid()), 0);
    cr_assert_eq(chmod(secret, 0640), 0);

    system_config();
}

TestSuite(trust, .init = setup, .fini = teardown);

/* Who runs a child: a user by name, its HOME, extra VAR=VALUE settings. */
typedef struct {
    const char *user;
    const char *home;
    const char *env[4];
} who;

/* In the child: that user's ids and groups, and a login's environment only. */
static void become(void *ctx)
{
    const who *w = ctx;
    char asan[512] = "", ubsan[512] = "";
    const char *a = getenv("ASAN_OPTIONS"), *u = getenv("UBSAN_OPTIONS");
    snprintf(asan, sizeof asan, "%s", a ? a : "");
    snprintf(ubsan, sizeof ubsan, "%s", u ? u : "");
    struct passwd *pw = getpwnam(w->user);
    if (!pw || initgroups(w->user, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0)
        _exit(126);
    clearenv();
    setenv("HOME", w->home, 1);
    setenv("PATH", "/usr/bin:/bin", 1);
    setenv("LANG", "C.UTF-8", 1);
    if (asan[0])
        setenv("ASAN_OPTIONS", asan, 1);
    if (ubsan[0])
        setenv("UBSAN_OPTIONS", ubsan, 1);
    for (size_t i = 0; i < 4 && w->env[i]; i++)
        putenv((char *)w->env[i]);
}

static int run_as(const who *w, char *const argv[], char **out, char **err)
{
    return th_run_with(dir, bin, become, (void *)w, argv, out, err);
}

/* The collector fills the cache once, as the service would. */
static void collect_once(void)
{
    who c = {names[COL], dir, {NULL}};
    char *argv[] = {"collect", "--once", "--config", SR_SYSTEM_CONFIG, NULL};
    char *out, *err;
    int rc = run_as(&c, argv, &out, &err);
    cr_assert_eq(rc, 0, "collect --once as %s: %d\n%s\n%s", names[COL], rc, out, err);
    free(out);
    free(err);
    struct stat sb;
    cr_assert_eq(stat(cache, &sb), 0);
    cr_assert_eq(sb.st_uid, uid_of(COL));
}

/* Every file in the cache's folder belongs to the collector (none to uid). */
static void folder_untouched_by(uid_t uid)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "test -z \"$(find '%s' -user %u)\"", state, (unsigned)uid);
    cr_assert_eq(system(cmd), 0, "a file in %s belongs to uid %u", state, (unsigned)uid);
}

static int64_t audit_rows(void)
{
    return th_sql_int(cache, "SELECT count(*) FROM audit");
}

Test(trust, a_viewer_sees_its_roles_panels_and_a_user_without_role_the_default)
{
    collect_once();
    who v = {names[VIEW], vhome, {NULL}};
    char *argv[] = {"snapshot", "--format", "text", "--width", "160", "--height", "40", NULL};
    char *out, *err;
    int rc = run_as(&v, argv, &out, &err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect(strstr(out, "Emergency response P1"), "%s", out);
    cr_expect(!strstr(out, "Urgent response P2"), "a panel outside the role:\n%s", out);
    free(out);
    free(err);

    char *whoami[] = {"whoami", NULL};
    rc = run_as(&v, whoami, &out, &err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect(strstr(out, "role         watch"), "%s", out);
    cr_expect(strstr(out, "rights       the group"), "%s", out);
    cr_expect(strstr(out, names[GRP]), "%s", out);
    free(out);
    free(err);

    who n = {names[NOROLE], nhome, {NULL}};
    rc = run_as(&n, whoami, &out, &err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect(strstr(out, "role         default (no role lists"), "%s", out);
    cr_expect(strstr(out, "personal     no"), "%s", out);
    free(out);
    free(err);
    rc = run_as(&n, argv, &out, &err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect(strstr(out, "Emergency response P1") && strstr(out, "Urgent response P2"), "%s", out);
    free(out);
    free(err);
    folder_untouched_by(uid_of(VIEW));
    folder_untouched_by(uid_of(NOROLE));
}

/* In a child as the viewer, with SQLite itself: exits 0 when every attempt
 * to read the cache or touch its audit table failed. */
static int direct_sqlite(void)
{
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        struct passwd *pw = getpwnam(names[VIEW]);
        if (!pw || setgroups(0, NULL) || setgid(pw->pw_gid) || setuid(pw->pw_uid))
            _exit(100);
        static const char *const sql[] = {
            "SELECT count(*) FROM sample",
            "INSERT INTO audit(at, user, role, tty, ssh, action, detail) "
            "VALUES (1, 'x', 'x', '', '', 'x', 'x')",
            "DELETE FROM audit",
            "DROP TRIGGER audit_no_delete",
        };
        for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
            sqlite3 *db = NULL;
            int rc = sqlite3_open_v2(cache, &db, SQLITE_OPEN_READWRITE, sr_store_vfs());
            if (rc == SQLITE_OK && sqlite3_exec(db, sql[i], NULL, NULL, NULL) == SQLITE_OK)
                _exit(1 + (int)i);
            sqlite3_close(db);
            db = NULL;
            rc = sqlite3_open_v2(cache, &db, SQLITE_OPEN_READONLY, NULL);
            if (rc == SQLITE_OK && sqlite3_exec(db, sql[i], NULL, NULL, NULL) == SQLITE_OK)
                _exit(11 + (int)i);
            sqlite3_close(db);
        }
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(trust, the_viewer_cannot_read_the_cache_nor_touch_the_audit_but_through_sitrep)
{
    collect_once();
    int64_t before = audit_rows();
    cr_assert_eq(direct_sqlite(), 0,
                 "the viewer reached the cache with SQLite (see the exit code)");
    cr_assert_eq(audit_rows(), before);

    /* sitrep's own rows: a view of the officers' table is audited, as the viewer */
    who v = {names[VIEW], vhome, {NULL}};
    char *argv[] = {"snapshot", "--format", "text", "--page", "resources", NULL};
    char *out, *err;
    int rc = run_as(&v, argv, &out, &err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect(strstr(out, "Overtime by officer"), "%s", out);
    free(out);
    free(err);
    cr_assert_gt(audit_rows(), before);
    char *audit[] = {"audit", NULL};
    rc = run_as(&v, audit, &out, &err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect(strstr(out, names[VIEW]), "%s", out);
    free(out);
    free(err);
    folder_untouched_by(uid_of(VIEW));
}

/* Runs argv as w and expects exit status want and, with it, text in the
 * error output (NULL: any). */
static void expect_exit(const who *w, char *const argv[], int want, const char *text)
{
    char *out, *err;
    int rc = run_as(w, argv, &out, &err);
    cr_expect_eq(rc, want, "sitrep %s: exit %d, expected %d\n%s%s", argv[0], rc, want, out, err);
    cr_expect(!text || strstr(err, text), "sitrep %s: expected '%s' in:\n%s", argv[0], text, err);
    free(out);
    free(err);
}

Test(trust, the_viewer_cannot_choose_its_config_role_or_files_through_the_environment)
{
    collect_once();
    char cfg[600];
    snprintf(cfg, sizeof cfg, "%s/mine.ini", vhome);
    th_write_file(cfg, "[sitrep]\ntitle = Mine\n");
    char *out, *err;
    who v = {names[VIEW], vhome, {NULL}};

    char *with_config[] = {"whoami", "--config", cfg, NULL};
    expect_exit(&v, with_config, 2, "--config is refused");
    expect_exit(&v, with_config, 2, SR_SYSTEM_CONFIG);
    char *check[] = {"check-config", cfg, NULL};
    expect_exit(&v, check, 2, "--config is refused");

    static const char *const refused[] = {"SITREP_TEST_USER", "SITREP_TEST_GROUPS",
                                          "XDG_CONFIG_HOME", "XDG_STATE_HOME", "SQLITE_TMPDIR"};
    char *whoami[] = {"whoami", NULL};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char set[700];
        snprintf(set, sizeof set, "%s=%s", refused[i], i < 2 ? names[COL] : vhome);
        who e = {names[VIEW], vhome, {set, NULL}};
        char want[80];
        snprintf(want, sizeof want, "%s is set, refused", refused[i]);
        expect_exit(&e, whoami, 2, want);
    }

    /* what every SSH login has (pam_systemd, pam_tmpdir) is not refused */
    char tmp[600];
    snprintf(tmp, sizeof tmp, "TMPDIR=%s", vhome);
    who login = {
        names[VIEW], vhome, {"XDG_RUNTIME_DIR=/run/user/12345", "XDG_SESSION_ID=7", tmp, NULL}};
    int rc = run_as(&login, whoami, &out, &err);
    cr_expect_eq(rc, 0, "%s", err);
    cr_expect(strstr(out, "role         watch"), "%s", out);
    free(out);
    free(err);

    /* the cache's writers are refused, before they open anything */
    char *collect[] = {"collect", "--once", NULL};
    expect_exit(&v, collect, 2, "run it as the sitrep user");
    char *ingest[] = {"ingest", secret, NULL};
    expect_exit(&v, ingest, 2, "run it as the sitrep user");
    folder_untouched_by(uid_of(VIEW));
}

Test(trust, a_theme_or_log_naming_a_group_file_shows_none_of_it)
{
    collect_once();
    char *out, *err;
    who v = {names[VIEW], vhome, {NULL}};
    /* the control: the same lines in a file the viewer may read are quoted */
    char open_copy[600];
    snprintf(open_copy, sizeof open_copy, "%s/open.ini", vhome);
    th_write_file(open_copy, "[theme]\n" SECRET_WORD " = nonsense\n");
    char *control[] = {"dashboard", "--theme", open_copy, NULL};
    cr_assert_eq(run_as(&v, control, &out, &err), 2, "%s", err);
    cr_assert(strstr(err, SECRET_WORD), "a theme's error no longer quotes it: %s", err);
    free(out);
    free(err);

    char *theme[] = {"dashboard", "--theme", secret, NULL};
    cr_expect_eq(run_as(&v, theme, &out, &err), 2);
    cr_expect(!strstr(out, SECRET_WORD) && !strstr(err, SECRET_WORD), "%s%s", out, err);
    cr_expect(strstr(err, "Permission denied"), "%s", err);
    free(out);
    free(err);
    char *cache_theme[] = {"dashboard", "--theme", cache, NULL};
    cr_expect_eq(run_as(&v, cache_theme, &out, &err), 2);
    cr_expect(!strstr(err, "SQLite format") && !strstr(err, "response_p1"), "%s", err);
    free(out);
    free(err);
    char *log[] = {"collect", "--log", secret, NULL};
    cr_expect_eq(run_as(&v, log, &out, &err), 2);
    cr_expect(!strstr(out, SECRET_WORD) && !strstr(err, SECRET_WORD), "%s%s", out, err);
    free(out);
    free(err);

    /* the collector's own log: created 0640, its own */
    char logfile[600];
    snprintf(logfile, sizeof logfile, "%s/collect.log", state);
    char *clog[] = {"collect", "--once", "--config", SR_SYSTEM_CONFIG, "--log", logfile, NULL};
    who c = {names[COL], dir, {NULL}};
    cr_assert_eq(run_as(&c, clog, &out, &err), 0, "%s", err);
    free(out);
    free(err);
    struct stat sb;
    cr_assert_eq(stat(logfile, &sb), 0);
    cr_expect_eq(sb.st_mode & 07777, 0640, "log mode %o", (unsigned)(sb.st_mode & 07777));
    cr_expect_eq(sb.st_uid, uid_of(COL));
}

Test(trust, before_the_collector_ran_a_viewer_creates_nothing)
{
    who v = {names[VIEW], vhome, {NULL}};
    char *argv[] = {"snapshot", "--format", "text", NULL};
    char *out, *err;
    int rc = run_as(&v, argv, &out, &err);
    cr_expect_eq(rc, 1, "%s", err);
    cr_expect(strstr(err, "the collector has not run yet"), "%s", err);
    free(out);
    free(err);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s' | grep -v secret.ini)\"", state);
    cr_expect_eq(system(cmd), 0, "the viewer created a file in %s", state);
}

/* The dashboard of a viewer, the collector not running: it stays a viewer
 * (no lock, no collecting) and its report (key e) is its own file. */
Test(trust, an_elevated_dashboard_stays_a_viewer_and_writes_its_report_as_the_user)
{
    collect_once();
    char lock[700];
    snprintf(lock, sizeof lock, "%s.lock", cache);
    unlink(lock); /* no collector left its lock behind */
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "sh -c 'cd %s && exec setpriv --reuid=%s --regid=%u --init-groups env -i HOME=%s "
             "LANG=C.UTF-8 PATH=/usr/bin:/bin TERM=xterm-256color %s'",
             dir, names[VIEW], (unsigned)gid_of(VIEW), vhome, bin);
    tmux_start(&T, 160, 45, cmd);
    tmux_expect(&T, "Emergency response P1", 30);
    tmux_keys(&T, "e");
    tmux_expect(&T, "report written to", 20);
    char find[1024];
    snprintf(find, sizeof find, "find '%s' -name 'handover-*.md' -user %s -group %u -perm 0640",
             vhome, names[VIEW], (unsigned)gid_of(VIEW));
    FILE *p = popen(find, "r");
    char line[700] = "";
    cr_assert_not_null(p);
    cr_expect_not_null(fgets(line, sizeof line, p), "no report of the viewer's in %s", vhome);
    pclose(p);
    struct stat sb;
    cr_expect_neq(stat(lock, &sb), 0, "the viewer created the collector's lock");
    folder_untouched_by(uid_of(VIEW));
}

/* Without the switch (make, make install), SITREP_TEST_USER does nothing. */
Test(trust_build, the_release_binary_ignores_sitrep_test_user)
{
    const char *rel = getenv("SITREP_RELEASE_BIN");
    rel = rel && *rel ? rel : "./sitrep";
    char *argv[] = {"whoami", "--config", "config.ini", NULL};
    char *out, *err;
    setenv("SITREP_TEST_USER", "srsgnobody", 1);
    int rc = th_run_with(NULL, rel, NULL, NULL, argv, &out, &err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect(!strstr(out, "srsgnobody") && !strstr(out, "SITREP_TEST_USER"), "%s", out);
    free(out);
    free(err);
    /* and the test build honours it (so the check above can fail) */
    rc = th_run(NULL, argv, &out, &err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_expect(strstr(out, "srsgnobody"), "SITREP_BIN is not a test build:\n%s", out);
    free(out);
    free(err);
}

/* With the group's rights sitrep looks for nothing beside its executable:
 * a user who hard-links the setgid binary into a folder of theirs and puts a
 * module next to it would otherwise run code with the group's rights. The
 * planted module proves a load by creating a marker file in its
 * constructor; the collector's user, who runs the same binary without
 * elevation, is the control (it loads it). */
Test(trust, no_module_is_loaded_from_beside_the_executable)
{
    char mdir[600], so[700], marker[600], setting[700], cmd[2000];
    snprintf(mdir, sizeof mdir, "%s/build/lib/sitrep", dir);
    snprintf(so, sizeof so, "%s/sitrep-postgres.so", mdir);
    const char *tp = getenv("SITREP_TEST_PLUGINS");
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s/ctor_marker.so' '%s'", mdir,
             tp && *tp ? tp : "build/test-plugins", so);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    FILE *f = fopen(SR_SYSTEM_CONFIG, "a");
    cr_assert_not_null(f);
    fputs("\n[adapter.rms]\ntype = postgres\nconninfo = host=/nonexistent dbname=rms\n"
          "query = SELECT 1 AS id, now() AS t\nmetric = response_p1\nentity = force/north\n"
          "time = t\nvalue = 1\n",
          f);
    fclose(f);

    snprintf(marker, sizeof marker, "%s/loaded", vhome);
    snprintf(setting, sizeof setting, "SR_TEST_MARKER=%s", marker);
    who v = {names[VIEW], vhome, {setting, NULL}};
    char *check[] = {"check-config", NULL};
    char *out, *err;
    run_as(&v, check, &out, &err);
    free(out);
    free(err);
    cr_assert_neq(access(marker, F_OK), 0,
                  "the elevated sitrep loaded the module planted beside its executable");

    /* the control: not elevated, the same binary loads what is beside it */
    snprintf(marker, sizeof marker, "%s/loaded-by-collector", dir);
    snprintf(setting, sizeof setting, "SR_TEST_MARKER=%s", marker);
    who c = {names[COL], dir, {setting, NULL}};
    char *ccheck[] = {"check-config", "--config", SR_SYSTEM_CONFIG, NULL};
    cr_assert_eq(chmod(dir, 0777), 0); /* the collector may create the marker */
    run_as(&c, ccheck, &out, &err);
    cr_assert_eq(chmod(dir, 0755), 0);
    cr_assert_eq(access(marker, F_OK), 0,
                 "the control did not load the module either: the test proves nothing\n%s%s", out,
                 err);
    free(out);
    free(err);
}
