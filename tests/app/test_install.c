/*
 * test_install.c - `make install` and `make uninstall` (the Makefile's
 * install section), as a packager and a sysadmin run them.
 *
 * make install rebuilds what uses the install directories, so it never runs
 * in the tree the tests run from (that would swap ./sitrep under the other
 * tests): the first test of a run copies the repository's files (git
 * ls-files, from the repository's top where the tests run) into
 * /tmp/sitrep-install-RUNNER and builds one staged install there,
 * `make install DESTDIR=stage PREFIX=/usr`; every make in that copy holds
 * its lock (flock), and the report hook of the run removes the copy. Tests
 * that change the staged tree work on a copy of it.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../e2e/tmux.h"
#include "../helpers.h"

/* the system user and group the root test lets make install create */
#define SVC "srinsvc"

/* The folder of this run's copy: one per criterion runner (every test is
 * its child; the report hook runs in the runner itself). */
static void run_dir(char *buf, size_t len, pid_t runner)
{
    snprintf(buf, len, "/tmp/sitrep-install-%d", (int)runner);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
    (void)stats;
    char dir[64];
    run_dir(dir, sizeof dir, getpid());
    if (access(dir, F_OK) == 0)
        th_rmtree(dir);
}

/* Runs a shell command line, its stdout and stderr into *out (caller frees;
 * NULL: dropped). Returns its exit status. */
static int sh(const char *cmd, char **out)
{
    char line[8192];
    snprintf(line, sizeof line, "(%s) 2>&1", cmd);
    FILE *p = popen(line, "r");
    cr_assert_not_null(p);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (cap - n < 1024)
            buf = realloc(buf, cap *= 2);
    }
    buf[n] = 0;
    int rc = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* The run's folder, made and the staged install built on first use. */
static const char *base(void)
{
    static char dir[64];
    if (dir[0])
        return dir;
    run_dir(dir, sizeof dir, getppid());
    mkdir(dir, 0755);
    char cmd[4096], *out = NULL;
    snprintf(cmd, sizeof cmd,
             "flock %s/lock sh -c 'test -e %s/ready || { "
             "rm -rf %s/src %s/stage && mkdir -p %s/src && "
             "git ls-files -z --cached --others --exclude-standard | "
             "tar --null -T - --ignore-failed-read -cf - | tar -xf - -C %s/src && "
             "make -C %s/src -j2 install DESTDIR=%s/stage PREFIX=/usr "
             "> %s/stage.log 2>&1 && touch %s/ready; }'",
             dir, dir, dir, dir, dir, dir, dir, dir, dir, dir);
    int rc = sh(cmd, &out);
    char log[128];
    snprintf(log, sizeof log, "%s/stage.log", dir);
    char *text = NULL;
    sh((snprintf(cmd, sizeof cmd, "cat %s", log), cmd), &text);
    cr_assert_eq(rc, 0, "the staged install failed: %s\n%s", out, text);
    free(out);
    free(text);
    return dir;
}

/* Runs make TARGET ARGS in the run's copy, under its lock; the output into
 * *out (caller frees). Returns make's exit status. */
static int make_in_copy(const char *args, char **out)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "flock %s/lock make --no-print-directory -C %s/src %s", base(),
             base(), args);
    return sh(cmd, out);
}

/* A fresh folder of this test's own under the run's folder. */
static void own_dir(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s-%d", base(), name, (int)getpid());
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", buf, buf);
    cr_assert_eq(sh(cmd, NULL), 0);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot read %s", path);
    static char buf[64 * 1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Asserts that path under root exists as a regular file of mode mode. */
static void expect_file(const char *root, const char *path, mode_t mode)
{
    char full[1024];
    snprintf(full, sizeof full, "%s%s", root, path);
    struct stat sb;
    cr_assert_eq(lstat(full, &sb), 0, "%s is missing", full);
    cr_assert(S_ISREG(sb.st_mode), "%s is not a regular file", full);
    cr_assert_eq(sb.st_mode & 07777, mode, "%s has mode %04o, expected %04o", full,
                 (unsigned)(sb.st_mode & 07777), (unsigned)mode);
}

/* Whether text holds line as a whole line. */
static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = strstr(text, line); p; p = strstr(p + 1, line)) {
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0))
            return true;
    }
    return false;
}

/* The version is written once, in VERSION: the binary says it, and the
 * Debian changelog's newest entry agrees. */
Test(install, the_version_comes_from_the_version_file)
{
    char want[64];
    FILE *f = fopen("VERSION", "r");
    cr_assert_not_null(f, "no VERSION file at the top of the tree");
    cr_assert_not_null(fgets(want, sizeof want, f));
    fclose(f);
    want[strcspn(want, "\n")] = 0;
    cr_assert_gt(strlen(want), 0);
    char line[256];
    snprintf(line, sizeof line, "sitrep (%s) ", want);
    const char *log = slurp("debian/changelog");
    cr_assert_eq(strncmp(log, line, strlen(line)), 0,
                 "debian/changelog's newest entry is not %s: %.60s", want, log);
    char *argv[] = {"--version", NULL}, *out, *err;
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0);
    snprintf(line, sizeof line, "sitrep %s ", want);
    cr_assert_eq(strncmp(out, line, strlen(line)), 0, "--version says: %s", out);
    free(out);
    free(err);
}

Test(install, staged_tree_has_every_file_at_its_place_and_mode)
{
    char stage[256];
    snprintf(stage, sizeof stage, "%s/stage", base());
    expect_file(stage, "/usr/bin/sitrep", 0755);
    static const char *const themes[] = {"default", "light", "high-contrast", "mono",
                                         "colour-blind-safe"};
    for (size_t i = 0; i < sizeof themes / sizeof themes[0]; i++) {
        char p[128];
        snprintf(p, sizeof p, "/usr/share/sitrep/themes/%s.ini", themes[i]);
        expect_file(stage, p, 0644);
    }
    expect_file(stage, "/usr/share/sitrep/plugins/textlog.so", 0755);
    /* the adapters built as shared objects (this machine has libpq and libcurl) */
    expect_file(stage, "/usr/lib/sitrep/sitrep-postgres.so", 0644);
    expect_file(stage, "/usr/lib/sitrep/sitrep-http.so", 0644);
    expect_file(stage, "/usr/share/sitrep/examples/textlog.c", 0644);
    static const char *const examples[] = {"seattle-calls", "seattle-dispatch", "chicago-overtime"};
    for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++) {
        char p[128];
        snprintf(p, sizeof p, "/usr/share/sitrep/examples/%s.ini", examples[i]);
        expect_file(stage, p, 0644);
    }
    expect_file(stage, "/usr/share/sitrep/examples/data/seattle-calls-east-charlie-2010-2023.csv",
                0644);
    expect_file(stage, "/usr/share/sitrep/examples/data/README.md", 0644);
    expect_file(stage, "/usr/share/bash-completion/completions/sitrep", 0644);

    /* the system config: the shipped one, its cache in the state folder */
    expect_file(stage, "/usr/etc/sitrep/config.ini", 0640);
    char p[512];
    snprintf(p, sizeof p, "%s/usr/etc/sitrep/config.ini", stage);
    const char *cfg = slurp(p);
    cr_assert(has_line(cfg, "cache = /var/lib/sitrep/cache.db"), "%s", cfg);
    cr_assert(has_line(cfg, "cache_group = sitrep"), "%s", cfg);
    cr_assert(has_line(cfg, "type = sim"), "the simulator runs until sources are added");

    expect_file(stage, "/usr/lib/systemd/system/sitrep-collect.service", 0644);
    snprintf(p, sizeof p, "%s/usr/lib/systemd/system/sitrep-collect.service", stage);
    const char *unit = slurp(p);
    cr_assert(has_line(unit, "ExecStart=/usr/bin/sitrep collect --config "
                             "/usr/etc/sitrep/config.ini"),
              "%s", unit);
    cr_assert(strstr(unit, "Documentation=man:sitrep(1)"), "%s", unit);
    cr_assert(has_line(unit, "ReadWritePaths=/var/lib/sitrep"), "%s", unit);
    cr_assert(has_line(unit, "User=sitrep") && has_line(unit, "Group=sitrep"), "%s", unit);
    cr_assert_null(strstr(unit, "StateDirectoryMode"), "systemd would reset the 2770 folder");
    cr_assert_null(strstr(unit, "@"), "a placeholder left unfilled:\n%s", unit);

    expect_file(stage, "/usr/lib/sysusers.d/sitrep.conf", 0644);
    snprintf(p, sizeof p, "%s/usr/lib/sysusers.d/sitrep.conf", stage);
    const char *sysusers = slurp(p);
    cr_assert(has_line(sysusers, "g sitrep -"), "%s", sysusers);
    cr_assert(has_line(sysusers, "u sitrep -:sitrep \"sitrep collector\" /var/lib/sitrep"), "%s",
              sysusers);
    expect_file(stage, "/usr/lib/tmpfiles.d/sitrep.conf", 0644);
    snprintf(p, sizeof p, "%s/usr/lib/tmpfiles.d/sitrep.conf", stage);
    cr_assert(has_line(slurp(p), "d /var/lib/sitrep 2770 sitrep sitrep -"), "%s", slurp(p));

    /* staging sets up no state folder, user or owner: the package does */
    char cmd[512], *out = NULL;
    snprintf(cmd, sizeof cmd, "ls -A %s", stage);
    cr_assert_eq(sh(cmd, &out), 0);
    cr_assert_str_eq(out, "usr\n");
    free(out);
    snprintf(cmd, sizeof cmd, "cat %s/stage.log", base());
    sh(cmd, &out);
    cr_assert(strstr(out, "sitrep: staged in"), "%s", out);
    free(out);
}

/* A copy of the staged tree, to change without disturbing other tests. */
static void stage_copy(char *buf, size_t len)
{
    own_dir(buf, len, "copy");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp -a %s/stage/usr %s/", base(), buf);
    cr_assert_eq(sh(cmd, NULL), 0, "%s", cmd);
}

Test(install, staged_binary_finds_its_themes_plugins_and_adapters_with_no_source_tree)
{
    char st[256], cmd[4096], *out = NULL;
    stage_copy(st, sizeof st);
    /* themes only this staged DATADIR has: one broken, one good */
    snprintf(cmd, sizeof cmd,
             "printf '[theme]\\nbogus line\\n' > %s/usr/share/sitrep/themes/srinbad.ini && "
             "cp %s/usr/share/sitrep/themes/mono.ini %s/usr/share/sitrep/themes/srinonly.ini",
             st, st, st);
    cr_assert_eq(sh(cmd, NULL), 0);
    char cfg[512];
    snprintf(cfg, sizeof cfg, "%s/c.ini", st);
    char cache[512];
    snprintf(cache, sizeof cache, "%s/c.db", st);
    th_sim_config(cfg, cache, NULL,
                  "[adapter.legacy]\ntype = plugin\npath = textlog.so\nfile = /dev/null\n");

    /* found there: its errors name the staged file */
    snprintf(cmd, sizeof cmd, "cd / && %s/usr/bin/sitrep --config %s --theme srinbad </dev/null",
             st, cfg);
    cr_assert_eq(sh(cmd, &out), 2, "%s", out);
    char want[512];
    snprintf(want, sizeof want, "%s/usr/bin/../share/sitrep/themes/srinbad.ini:2:", st);
    cr_assert(strstr(out, want), "%s", out);
    free(out);
    /* a name it has not: not found, so the above came from the staged file */
    snprintf(cmd, sizeof cmd, "cd / && %s/usr/bin/sitrep --config %s --theme srinnone </dev/null",
             st, cfg);
    cr_assert_eq(sh(cmd, &out), 2, "%s", out);
    cr_assert(strstr(out, "theme 'srinnone' not found"), "%s", out);
    free(out);

    /* the example plugin by its bare name, from a config elsewhere */
    snprintf(cmd, sizeof cmd, "cd / && %s/usr/bin/sitrep check-config --config %s", st, cfg);
    cr_assert_eq(sh(cmd, &out), 0, "%s", out);
    cr_assert(strstr(out, "plugin 'textlog'"), "%s", out);
    free(out);

    /* a postgres source: its adapter is the staged one (a broken copy, to
     * tell it from any other) */
    char pg[512];
    snprintf(pg, sizeof pg, "%s/pg.ini", st);
    th_sim_config(pg, cache, NULL,
                  "[adapter.rms]\ntype = postgres\nconninfo = dbname=rms\nquery = SELECT 1 AS id\n"
                  "metric = p1_response\nentity = force/north\nvalue = 1\n");
    snprintf(cmd, sizeof cmd, "cd / && %s/usr/bin/sitrep check-config --config %s", st, pg);
    cr_assert_eq(sh(cmd, &out), 0, "%s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "echo broken > %s/usr/lib/sitrep/sitrep-postgres.so", st);
    cr_assert_eq(sh(cmd, NULL), 0);
    snprintf(cmd, sizeof cmd, "cd / && %s/usr/bin/sitrep check-config --config %s", st, pg);
    cr_assert_eq(sh(cmd, &out), 2, "%s", out);
    snprintf(want, sizeof want, "%s/usr/bin/../lib/sitrep/sitrep-postgres.so", st);
    cr_assert(strstr(out, want), "%s", out);
    free(out);

    /* and the dashboard draws with the theme only the staged tree has */
    tmux_t t;
    char line[1200];
    snprintf(line, sizeof line, "%s/usr/bin/sitrep --config %s --theme srinonly", st, cfg);
    tmux_start(&t, 160, 48, line);
    tmux_expect(&t, "Emergency response P1", 60);
    tmux_stop(&t);
}

Test(install, config_search_is_cwd_then_user_then_system)
{
    char st[256], cmd[4096], *out = NULL;
    stage_copy(st, sizeof st);
    /* a folder without config.ini, a HOME with none: the user's, named */
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/home %s/work && cd %s/work && env -u XDG_CONFIG_HOME HOME=%s/home "
             "%s/usr/bin/sitrep check-config",
             st, st, st, st, st);
    cr_assert_eq(sh(cmd, &out), 2, "%s", out);
    char want[600];
    snprintf(want, sizeof want, "%s/home/.config/sitrep/config.ini", st);
    cr_assert(strstr(out, want), "%s", out);
    free(out);

    /* the user's XDG config */
    char user[512];
    snprintf(user, sizeof user, "%s/home/.config/sitrep", st);
    snprintf(cmd, sizeof cmd, "mkdir -p %s", user);
    cr_assert_eq(sh(cmd, NULL), 0);
    strcat(user, "/config.ini");
    th_sim_config(user, "user.db", NULL, NULL);
    snprintf(cmd, sizeof cmd,
             "cd %s/work && env -u XDG_CONFIG_HOME HOME=%s/home %s/usr/bin/sitrep check-config", st,
             st, st);
    cr_assert_eq(sh(cmd, &out), 0, "%s", out);
    snprintf(want, sizeof want, "%s: ok", user);
    cr_assert(strstr(out, want), "%s", out);
    free(out);

    /* ./config.ini before it */
    char here[512];
    snprintf(here, sizeof here, "%s/work/config.ini", st);
    th_sim_config(here, "here.db", NULL, NULL);
    snprintf(cmd, sizeof cmd,
             "cd %s/work && env -u XDG_CONFIG_HOME HOME=%s/home %s/usr/bin/sitrep check-config", st,
             st, st);
    cr_assert_eq(sh(cmd, &out), 0, "%s", out);
    cr_assert(strstr(out, "config.ini: ok") && strstr(out, "here.db"), "%s", out);
    free(out);
}

/* What bash offers for the words given (a bash array's body) with the
 * cursor on word cword, one per line. Caller frees. */
static char *completions(const char *script, const char *words, int cword)
{
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof cmd,
             "bash --norc -c 'source %s && COMP_WORDS=(%s) && COMP_CWORD=%d && _sitrep && "
             "printf \"%%s\\n\" \"${COMPREPLY[@]}\"'",
             script, words, cword);
    cr_assert_eq(sh(cmd, &out), 0, "%s: %s", cmd, out);
    return out;
}

/* Asserts that bash offers exactly want for words. */
static void expect_offers(const char *script, const char *words, int cword, const char *want)
{
    char *out = completions(script, words, cword);
    cr_assert_str_eq(out, want, "for (%s)", words);
    free(out);
}

Test(install, completion_offers_the_commands_and_their_options)
{
    char script[512], cmd[2048], *out = NULL;
    snprintf(script, sizeof script, "%s/stage/usr/share/bash-completion/completions/sitrep",
             base());
    snprintf(cmd, sizeof cmd, "bash --norc -c 'source %s && complete -p sitrep'", script);
    cr_assert_eq(sh(cmd, &out), 0, "%s", out);
    cr_assert_str_eq(out, "complete -F _sitrep sitrep\n");
    free(out);

    expect_offers(script, "sitrep sn", 1, "snapshot\n");
    expect_offers(script, "sitrep check-co", 1, "check-config\n");
    expect_offers(script, "sitrep check", 1, "check-config\ncheck-cache\n");
    expect_offers(script, "sitrep query x --format \"\"", 4, "text\ncsv\njson\n");
    expect_offers(script, "sitrep help con", 2, "config\n");
    expect_offers(script, "sitrep help ex", 2, "exit-status\n");
    expect_offers(script, "sitrep help ke", 2, "keys\n");
    /* plain sitrep with options is the dashboard */
    expect_offers(script, "sitrep --th", 1, "--theme\n");
    out = completions(script, "sitrep collect --", 2);
    cr_assert(has_line(out, "--once") && has_line(out, "--log") && has_line(out, "--config"), "%s",
              out);
    free(out);

    /* every command of `sitrep --help` is offered after sitrep */
    char *offered = completions(script, "sitrep \"\"", 1), *help = NULL;
    snprintf(cmd, sizeof cmd, "%s/stage/usr/bin/sitrep --help", base());
    cr_assert_eq(sh(cmd, &help), 0);
    const char *c = strstr(help, "Commands:\n");
    cr_assert_not_null(c);
    int n = 0;
    for (const char *l = strchr(c, '\n') + 1; strncmp(l, "  ", 2) == 0; l = strchr(l, '\n') + 1) {
        char name[64];
        cr_assert_eq(sscanf(l, " %63s", name), 1);
        cr_assert(has_line(offered, name), "'%s' is not offered:\n%s", name, offered);
        n++;
    }
    cr_assert_geq(n, 15);
    free(help);
    free(offered);
}

Test(install, existing_config_is_never_overwritten)
{
    char st[256], cmd[1024], *out = NULL;
    own_dir(st, sizeof st, "keep");
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/usr/etc/sitrep && echo '; mine' > %s/usr/etc/sitrep/config.ini", st, st);
    cr_assert_eq(sh(cmd, NULL), 0);
    snprintf(cmd, sizeof cmd, "install DESTDIR=%s PREFIX=/usr", st);
    cr_assert_eq(make_in_copy(cmd, &out), 0, "%s", out);
    cr_assert(strstr(out, "kept the existing"), "%s", out);
    free(out);
    char p[512];
    snprintf(p, sizeof p, "%s/usr/etc/sitrep/config.ini", st);
    cr_assert_str_eq(slurp(p), "; mine\n");
    /* a second install over a full tree keeps it too */
    snprintf(cmd, sizeof cmd, "install DESTDIR=%s PREFIX=/usr", st);
    cr_assert_eq(make_in_copy(cmd, &out), 0, "%s", out);
    free(out);
    cr_assert_str_eq(slurp(p), "; mine\n");
}

Test(install, uninstall_removes_what_install_installed_but_the_config)
{
    char st[256], cmd[1024], *out = NULL;
    own_dir(st, sizeof st, "un");
    snprintf(cmd, sizeof cmd, "install DESTDIR=%s PREFIX=/usr", st);
    cr_assert_eq(make_in_copy(cmd, &out), 0, "%s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "find %s -type f | wc -l", st);
    cr_assert_eq(sh(cmd, &out), 0);
    cr_assert_gt(atoi(out), 15, "install laid out too little: %s", out);
    free(out);

    snprintf(cmd, sizeof cmd, "uninstall DESTDIR=%s PREFIX=/usr", st);
    cr_assert_eq(make_in_copy(cmd, &out), 0, "%s", out);
    cr_assert(strstr(out, "kept") && strstr(out, "/usr/etc/sitrep/config.ini"), "%s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "cd %s && find . -type f", st);
    cr_assert_eq(sh(cmd, &out), 0);
    cr_assert_str_eq(out, "./usr/etc/sitrep/config.ini\n", "left behind:\n%s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "test -e %s/usr/share/sitrep", st);
    cr_assert_neq(sh(cmd, NULL), 0, "the emptied share/sitrep is removed");
}

/* ---- as root, with no DESTDIR: the trust boundary ---- */

/* Removes the users, then the group, that a root test made (as root only:
 * elsewhere the test was skipped and made none). */
static void drop_users(const char *users, const char *group)
{
    if (geteuid() != 0)
        return;
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "for u in %s; do userdel $u 2>/dev/null; done; groupdel %s 2>/dev/null; true", users,
             group);
    sh(cmd, NULL);
}

static void root_init(void)
{
    if (geteuid() != 0)
        cr_skip_test("make install sets owners only as root");
    drop_users(SVC, SVC);
}

static void root_fini(void)
{
    drop_users(SVC, SVC);
}

static void expect_owned(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
    struct stat sb;
    cr_assert_eq(lstat(path, &sb), 0, "%s is missing", path);
    cr_assert_eq(sb.st_mode & 07777, mode, "%s has mode %04o, expected %04o", path,
                 (unsigned)(sb.st_mode & 07777), (unsigned)mode);
    cr_assert(sb.st_uid == uid && sb.st_gid == gid, "%s is %d:%d, expected %d:%d", path,
              (int)sb.st_uid, (int)sb.st_gid, (int)uid, (int)gid);
}

Test(install, as_root_makes_the_user_the_state_folder_and_the_setgid_binary, .init = root_init,
     .fini = root_fini)
{
    char pre[256], vars[1024], cmd[2048], *out = NULL;
    own_dir(pre, sizeof pre, "root");
    snprintf(vars, sizeof vars,
             "PREFIX=%s LOCALSTATEDIR=%s/var SITREP_USER=" SVC " SITREP_GROUP=" SVC, pre, pre);
    snprintf(cmd, sizeof cmd, "install %s", vars);
    cr_assert_eq(make_in_copy(cmd, &out), 0, "%s", out);
    cr_assert(strstr(out, "is setgid " SVC), "%s", out);
    free(out);

    struct passwd *pw = getpwnam(SVC);
    cr_assert_not_null(pw, "make install made no user " SVC);
    struct group *gr = getgrnam(SVC);
    cr_assert_not_null(gr, "make install made no group " SVC);
    uid_t svc_uid = pw->pw_uid;
    gid_t svc_gid = gr->gr_gid;
    char state[512];
    snprintf(state, sizeof state, "%s/var/lib/sitrep", pre);
    cr_assert_str_eq(pw->pw_dir, state);
    cr_assert(strstr(pw->pw_shell, "nologin"), "%s", pw->pw_shell);
    cr_assert_eq(pw->pw_gid, svc_gid);

    char p[512];
    expect_owned(state, 02770, svc_uid, svc_gid);
    snprintf(p, sizeof p, "%s/bin/sitrep", pre);
    expect_owned(p, 02755, 0, svc_gid);
    snprintf(p, sizeof p, "%s/etc/sitrep/config.ini", pre);
    expect_owned(p, 0640, 0, svc_gid);
    cr_assert(has_line(slurp(p), "cache_group = " SVC));

    /* with no ./config.ini and no user config, the system one */
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/home && cd %s/home && env -u XDG_CONFIG_HOME HOME=%s/home "
             "%s/bin/sitrep check-config",
             pre, pre, pre, pre);
    cr_assert_eq(sh(cmd, &out), 0, "%s", out);
    char want[600];
    snprintf(want, sizeof want, "%s/etc/sitrep/config.ini: ok", pre);
    cr_assert(strstr(out, want), "%s", out);
    snprintf(want, sizeof want, "cache %s/cache.db", state);
    cr_assert(strstr(out, want), "%s", out);
    free(out);

    /* a second install finds the user and folder and keeps the config */
    snprintf(cmd, sizeof cmd, "install %s", vars);
    cr_assert_eq(make_in_copy(cmd, &out), 0, "%s", out);
    cr_assert(strstr(out, "kept the existing"), "%s", out);
    free(out);

    snprintf(cmd, sizeof cmd, "uninstall %s", vars);
    cr_assert_eq(make_in_copy(cmd, &out), 0, "%s", out);
    cr_assert(strstr(out, "kept"), "%s", out);
    free(out);
    snprintf(p, sizeof p, "%s/bin/sitrep", pre);
    cr_assert_neq(access(p, F_OK), 0, "the binary is removed");
    snprintf(p, sizeof p, "%s/etc/sitrep/config.ini", pre);
    cr_assert_eq(access(p, F_OK), 0, "the config is kept");
    cr_assert_eq(access(state, F_OK), 0, "the state folder is kept");
}

/* ---- as root: the acceptance of the deployment, end to end ---- */

/* the service user and the viewer of the deployment test (not SVC: the
 * two root tests may run at once) */
#define DSVC "srdpsvc"
#define VIEWER "srdpview"

static void deploy_init(void)
{
    if (geteuid() != 0)
        cr_skip_test("a deployment with users and a setgid binary needs root (CI runs as root)");
    drop_users(VIEWER " " DSVC, DSVC);
}

static void deploy_fini(void)
{
    drop_users(VIEWER " " DSVC, DSVC);
}

/* Runs cmd as user (runuser, a login's clean environment with HOME); the
 * output into *out. Returns the exit status. */
static int as_user(const char *user, const char *home, const char *cmd, char **out)
{
    char line[5000];
    snprintf(line, sizeof line,
             "cd / && runuser -u %s -- env -i PATH=/usr/bin:/bin HOME=%s LANG=C.UTF-8 %s", user,
             home, cmd);
    return sh(line, out);
}

/*
 * The issue's acceptance, as a sysadmin does it: `make install PREFIX=...
 * LOCALSTATEDIR=...` as root, the collector run as the service user, and a
 * fresh user who is no member of its group: the viewer sees the panels;
 * sqlite3 cannot read nor change the cache for it; --config is refused;
 * `sitrep audit` is refused for its role (default, no audit = yes).
 */
Test(install, deployment_collector_as_service_user_viewer_outside_the_group, .init = deploy_init,
     .fini = deploy_fini)
{
    char pre[256], vars[1024], margs[1200], cmd[4096], *out = NULL;
    own_dir(pre, sizeof pre, "deploy");
    snprintf(vars, sizeof vars,
             "PREFIX=%s LOCALSTATEDIR=%s/var SITREP_USER=" DSVC " SITREP_GROUP=" DSVC, pre, pre);
    snprintf(margs, sizeof margs, "install %s", vars);
    cr_assert_eq(make_in_copy(margs, &out), 0, "%s", out);
    free(out);
    char bin[512], conf[512], cache[512], home[512];
    snprintf(bin, sizeof bin, "%s/bin/sitrep", pre);
    snprintf(conf, sizeof conf, "%s/etc/sitrep/config.ini", pre);
    snprintf(cache, sizeof cache, "%s/var/lib/sitrep/cache.db", pre);
    snprintf(home, sizeof home, "%s/home-viewer", pre);
    /* the admin's one edit: a day of history rather than thirty-six */
    snprintf(cmd, sizeof cmd, "sed -i 's/^backfill = 36d/backfill = 1d/' %s", conf);
    cr_assert_eq(sh(cmd, NULL), 0);
    /* the folders above the install must let others through */
    snprintf(cmd, sizeof cmd,
             "chmod 0755 %s %s/.. && useradd -M -N -g nogroup -s /bin/sh " VIEWER
             " && mkdir -p %s && chown " VIEWER " %s",
             pre, pre, home, home);
    cr_assert_eq(sh(cmd, &out), 0, "%s", out);
    free(out);

    /* the collector, as the service user (the unit's User=) */
    snprintf(cmd, sizeof cmd, "%s collect --once", bin);
    cr_assert_eq(as_user(DSVC, "/", cmd, &out), 0, "the collector failed: %s", out);
    free(out);

    /* the viewer sees the panels, through the system config */
    snprintf(cmd, sizeof cmd, "%s snapshot --format text --width 160 --height 48", bin);
    cr_assert_eq(as_user(VIEWER, home, cmd, &out), 0, "%s", out);
    cr_assert(strstr(out, "Emergency response P1"), "%s", out);
    cr_assert(strstr(out, "OK") || strstr(out, "WARN") || strstr(out, "CRIT"), "%s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "%s whoami", bin);
    cr_assert_eq(as_user(VIEWER, home, cmd, &out), 0, "%s", out);
    cr_assert(strstr(out, "default"), "a user no role lists gets default: %s", out);
    cr_assert(strstr(out, "(setgid)"), "%s", out);
    free(out);

    /* sqlite3 cannot read the cache, nor write its audit table */
    static const char *const sql[] = {
        "SELECT count(*) FROM audit",
        "INSERT INTO audit(at, user, role, tty, ssh, action, detail) "
        "VALUES (0, 'x', 'r', '', '', 'forged', '')",
        "DELETE FROM audit",
        "DROP TRIGGER IF EXISTS audit_no_delete",
    };
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        snprintf(cmd, sizeof cmd, "sqlite3 %s \"%s\"", cache, sql[i]);
        cr_assert_neq(as_user(VIEWER, home, cmd, &out), 0, "sqlite3 '%s' worked: %s", sql[i], out);
        free(out);
    }
    snprintf(cmd, sizeof cmd, "cat %s", conf);
    cr_assert_neq(as_user(VIEWER, home, cmd, &out), 0, "the system config is readable");
    free(out);

    /* no way around the system config */
    snprintf(cmd, sizeof cmd, "sh -c 'printf \"[sitrep]\\n\" > %s/mine.ini'", home);
    cr_assert_eq(as_user(VIEWER, home, cmd, NULL), 0);
    snprintf(cmd, sizeof cmd, "%s snapshot --format text --config %s/mine.ini", bin, home);
    cr_assert_eq(as_user(VIEWER, home, cmd, &out), 2, "%s", out);
    cr_assert(strstr(out, "--config is refused"), "%s", out);
    free(out);

    /* reading the audit is a permission of its own */
    snprintf(cmd, sizeof cmd, "%s audit", bin);
    cr_assert_eq(as_user(VIEWER, home, cmd, &out), 1, "%s", out);
    cr_assert(strstr(out, "default"), "the refusal names the role: %s", out);
    free(out);

    /* nothing in the state folder became the viewer's */
    snprintf(cmd, sizeof cmd, "find %s/var/lib/sitrep -user " VIEWER " | grep .", pre);
    cr_assert_neq(sh(cmd, &out), 0, "files of the viewer's: %s", out);
    free(out);
    /* the control, last (the sqlite3 shell removes the -wal it closes): the
     * same command works for the service user */
    snprintf(cmd, sizeof cmd, "sqlite3 %s \"%s\"", cache, sql[0]);
    cr_assert_eq(as_user(DSVC, "/", cmd, &out), 0, "sqlite3 as the service user: %s", out);
    free(out);
    snprintf(margs, sizeof margs, "uninstall %s", vars);
    cr_assert_eq(make_in_copy(margs, &out), 0, "%s", out);
    free(out);
}
