/*
 * Tests of app/share.c: the modes and group that a collector gives the
 * cache's directory and files, private and with [sitrep] cache_group; and,
 * when run as root, viewers as other Unix users (nobody in group nogroup, a
 * third user without it) against a real collector's cache, with
 * `sitrep snapshot` and with the dashboard in tmux.
 */
#include <criterion/criterion.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../app/share.h"
#include "../../metrics/common.h"
#include "../e2e/tmux.h"
#include "../helpers.h"

static char dir[256];
static char cache[512];
static pid_t collector;
static tmux_t T;

static void setup(void)
{
    th_tempdir(dir, sizeof dir);
    snprintf(cache, sizeof cache, "%s/state/sitrep/cache.db", dir);
    collector = 0;
    memset(&T, 0, sizeof T);
}

static void teardown(void)
{
    th_reap(&collector);
    tmux_stop(&T);
    th_rmtree(dir);
}

TestSuite(share, .init = setup, .fini = teardown);

/* The permission bits (with setgid) of path; the group through *gid. */
static unsigned mode_of(const char *path, gid_t *gid)
{
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0, "%s missing", path);
    if (gid)
        *gid = sb.st_gid;
    return (unsigned)(sb.st_mode & 07777);
}

static const char *with(const char *suffix)
{
    static char buf[4][600];
    static int i;
    char *b = buf[i++ % 4];
    snprintf(b, 600, "%s%s", cache, suffix);
    return b;
}

/* The simulator's config with the cache at `cache`, a one-day backfill, and
 * cache_group = group unless NULL. */
static void write_config(const char *path, const char *group)
{
    char line[700];
    snprintf(line, sizeof line, "%s%s%s", cache, group ? "\\ncache_group = " : "",
             group ? group : "");
    th_sim_config(path, line, "-e 's/^interval = 5s/interval = 1s/'", NULL);
}

/* Starts `sitrep collect --config cfg` in the background and waits until
 * SQLite has made the cache's -shm. */
static void start_collector(const char *cfg)
{
    char *argv[] = {"collect", "--config", (char *)cfg, NULL};
    char log[600];
    snprintf(log, sizeof log, "%s/collect.out", dir);
    collector = th_spawn(argv, log);
    th_deadline d = th_deadline_in(30 * 1000);
    while (access(with("-shm"), F_OK) != 0)
        cr_assert(th_poll(&d), "no -shm");
}

Test(share, a_private_cache_is_the_collectors_alone)
{
    char cfg[600], *out, *err;
    snprintf(cfg, sizeof cfg, "%s/sim.ini", dir);
    write_config(cfg, NULL);
    char *argv[] = {"collect", "--once", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s%s", out, err);
    free(out);
    free(err);
    char d[600];
    snprintf(d, sizeof d, "%s/state/sitrep", dir);
    cr_assert_eq(mode_of(d, NULL), 0700);
    cr_assert_eq(mode_of(cache, NULL), 0600);
    cr_assert_eq(mode_of(with(".lock"), NULL), 0600);
}

Test(share, a_group_cache_is_2770_and_0660_of_the_group)
{
    struct group *g = getgrgid(getegid());
    cr_assert_not_null(g);
    char group[64];
    snprintf(group, sizeof group, "%s", g->gr_name);
    char err[512] = "";
    cr_assert_eq(sr_share_prepare(cache, group, err, sizeof err), 0, "%s", err);
    gid_t gid;
    char d[600];
    snprintf(d, sizeof d, "%s/state/sitrep", dir);
    cr_assert_eq(mode_of(d, &gid), 02770);
    cr_assert_eq(gid, g->gr_gid);
    snprintf(d, sizeof d, "%s/state", dir);
    cr_assert_eq(mode_of(d, NULL), 0711, "an ancestor the group must pass through");
    cr_assert_eq(mode_of(cache, &gid), 0660);
    cr_assert_eq(gid, g->gr_gid);
    cr_assert_eq(mode_of(with(".lock"), NULL), 0660);

    /* SQLite's -wal and -shm take the cache's mode */
    char cfg[600];
    snprintf(cfg, sizeof cfg, "%s/sim.ini", dir);
    write_config(cfg, group);
    start_collector(cfg);
    cr_assert_eq(mode_of(with("-shm"), &gid), 0660);
    cr_assert_eq(gid, g->gr_gid);
    cr_assert_eq(mode_of(with("-wal"), NULL), 0660);
}

Test(share, wrong_modes_are_fixed_and_said)
{
    char err[512] = "";
    cr_assert_eq(sr_share_prepare(cache, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(chmod(cache, 0644), 0);
    char cfg[600], *out, *e;
    snprintf(cfg, sizeof cfg, "%s/sim.ini", dir);
    write_config(cfg, NULL);
    char *argv[] = {"collect", "--once", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &e), 0, "%s%s", out, e);
    cr_assert(strstr(e, "to mode 0600") && strstr(e, "(was 0644)"), "%s", e);
    cr_assert_eq(mode_of(cache, NULL), 0600);
    free(out);
    free(e);
}

Test(share, an_unknown_group_is_refused)
{
    char err[512] = "";
    cr_assert_eq(sr_share_prepare(cache, "no-such-group-here", err, sizeof err), SR_ENOENT);
    cr_assert(strstr(err, "cache_group: no group 'no-such-group-here'"), "%s", err);
    cr_assert_neq(access(cache, F_OK), 0);
}

/* Runs the shell command cmd, its stdout and stderr to files in dir; returns
 * its exit status and the two outputs (caller frees). */
static int sh_run(const char *cmd, char **out, char **err)
{
    char full[3000], of[600], ef[600];
    snprintf(of, sizeof of, "%s/sh.out", dir);
    snprintf(ef, sizeof ef, "%s/sh.err", dir);
    snprintf(full, sizeof full, "%s > %s 2> %s", cmd, of, ef);
    int rc = system(full);
    const char *files[2] = {of, ef};
    char **bufs[2] = {out, err};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(files[i], "r");
        cr_assert_not_null(f);
        char *b = calloc(1, 1 << 16);
        size_t n = fread(b, 1, (1 << 16) - 1, f);
        b[n] = 0;
        fclose(f);
        *bufs[i] = b;
    }
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

Test(share, viewers_as_other_users_in_and_out_of_the_group)
{
    if (geteuid() != 0 || !getgrnam("nogroup") || access("/usr/bin/setpriv", X_OK) != 0)
        cr_skip_test("needs root, the group nogroup and setpriv to run as other users");
    /* the test's dir is root's 0700: others may pass through to the cache's */
    cr_assert_eq(chmod(dir, 0711), 0);
    char cfg[600];
    snprintf(cfg, sizeof cfg, "%s/sim.ini", dir);
    write_config(cfg, "nogroup");
    cr_assert_eq(chmod(cfg, 0644), 0);
    start_collector(cfg);

    const char *bin = th_sitrep_bin();
    char binp[1200], cmd[2400], *out, *err;
    snprintf(binp, sizeof binp, "%s%s%s", bin[0] == '/' ? "" : getenv("PWD"),
             bin[0] == '/' ? "" : "/", bin);
    /* a member of the group reads the cache */
    snprintf(cmd, sizeof cmd,
             "setpriv --reuid nobody --regid nogroup --clear-groups '%s' snapshot --config '%s' "
             "--format text",
             binp, cfg);
    int rc = sh_run(cmd, &out, &err);
    cr_assert_eq(rc, 0, "nobody:nogroup: %s%s", out, err);
    cr_assert(strstr(out, "Emergency response P1"), "%s", out);
    free(out);
    free(err);

    /* a user outside it is refused, and told why */
    snprintf(cmd, sizeof cmd,
             "setpriv --reuid daemon --regid daemon --clear-groups '%s' snapshot --config '%s' "
             "--format text",
             binp, cfg);
    rc = sh_run(cmd, &out, &err);
    cr_assert_eq(rc, 1, "daemon: %s%s", out, err);
    cr_assert(strstr(err, "permission denied: the cache is shared only with the members of "
                          "group nogroup"),
              "%s", err);
    free(out);
    free(err);

    /* the dashboard as nobody: a viewer */
    char script[700], text[2400];
    snprintf(script, sizeof script, "%s/dash.sh", dir);
    snprintf(text, sizeof text,
             "setpriv --reuid nobody --regid nogroup --clear-groups env HOME=/ LANG=C.UTF-8 "
             "'%s' --config '%s'\necho sitrep-exited rc=$?\nsleep 60\n",
             binp, cfg);
    th_write_file(script, text);
    snprintf(cmd, sizeof cmd, "sh %s", script);
    tmux_start(&T, 160, 30, cmd);
    cr_assert(tmux_wait_for(&T, "sources · viewer", 30), "%s", T.capture);
    cr_assert(tmux_wait_for(&T, "Emergency response P1", 30), "%s", T.capture);
}

/* What a hostile member of the folder may plant as the cache or its -wal:
 * a symbolic link to another file is refused, by the collector's
 * preparation and by a reader's open alike, and the file is left as it was;
 * a FIFO as the -wal is refused without hanging. */
Test(share, planted_links_and_fifos_are_refused)
{
    char target[600], err[512] = "";
    snprintf(target, sizeof target, "%s/victim", dir);
    /* sitrep makes its folder; then the attacker plants */
    cr_assert_eq(sr_share_dir(cache, NULL, err, sizeof err), 0, "%s", err);
    th_write_file(target, "not the cache\n");
    cr_assert_eq(chmod(target, 0600), 0);
    cr_assert_eq(symlink(target, cache), 0);
    cr_assert_eq(sr_share_prepare(cache, NULL, err, sizeof err), SR_EPERM);
    cr_assert(strstr(err, "symbolic link"), "%s", err);
    cr_assert_eq(mode_of(target, NULL), 0600);

    /* a reader does not follow it either */
    char cfg[600];
    snprintf(cfg, sizeof cfg, "%s/sim.ini", dir);
    write_config(cfg, NULL);
    char *out = NULL, *e2 = NULL;
    int rc = th_run(NULL, (char *[]){"sources", "--config", cfg, NULL}, &out, &e2);
    cr_assert_eq(rc, 1, "%s%s", out, e2);
    free(out);
    free(e2);
    FILE *f = fopen(target, "r");
    char text[64] = "";
    cr_assert(fgets(text, sizeof text, f));
    fclose(f);
    cr_assert_str_eq(text, "not the cache\n");

    cr_assert_eq(unlink(cache), 0);
    cr_assert_eq(mkfifo(with("-wal"), 0600), 0);
    cr_assert_eq(sr_share_prepare(cache, NULL, err, sizeof err), SR_EPERM);
    cr_assert(strstr(err, "not a regular file"), "%s", err);
}
