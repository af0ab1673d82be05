/*
 * End-to-end tests of one collector, many viewers: `sitrep collect` and two
 * dashboards (each in its own tmux) on one cache. The dashboards are
 * viewers, a second collect is refused naming the collector's pid, and
 * when the collector is killed one dashboard takes over and the cache keeps
 * growing. Every wait polls with a deadline.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "../../metrics/common.h"
#include "../../metrics/store.h"
#include "../helpers.h"
#include "tmux.h"

static char dir[256];
static char cfg[512];
static char db[512];
static tmux_t A, B;
static pid_t collector;

/* The default config polling every second, a one-day backfill, the cache
 * in the test's dir. */
static void setup(void)
{
    tmux_setup(&A, dir, sizeof dir, cfg, sizeof cfg, "sim.ini");
    snprintf(db, sizeof db, "%s/sim.db", dir);
    th_sim_config(cfg, db, "-e 's/^interval = 5s/interval = 1s/'", NULL);
    memset(&B, 0, sizeof B);
    collector = 0;
}

static void teardown(void)
{
    th_reap(&collector);
    tmux_stop(&B);
    tmux_teardown(&A, dir);
}

TestSuite(viewers, .init = setup, .fini = teardown);

/* The pid of the sitrep that a pane's shell script runs (its first child). */
static pid_t pane_sitrep(tmux_t *t)
{
    char buf[64], path[128];
    tmux_format(t, "#{pane_pid}", buf, sizeof buf);
    long sh = strtol(buf, NULL, 10);
    cr_assert(sh > 0, "no pane pid: '%s'", buf);
    snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", sh, sh);
    FILE *f = fopen(path, "r");
    cr_assert(f, "%s", path);
    long pid = 0;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    cr_assert(pid > 0, "the pane's shell has no child");
    return (pid_t)pid;
}

/* How many descriptors of process pid are open on the cache file itself
 * (not its -wal or -shm), read-only and writable, from /proc/PID/fdinfo. */
static void cache_fds(pid_t pid, int *ro, int *rw)
{
    char real[PATH_MAX], dpath[64];
    cr_assert(realpath(db, real), "%s", db);
    *ro = *rw = 0;
    snprintf(dpath, sizeof dpath, "/proc/%ld/fd", (long)pid);
    DIR *dir_fd = opendir(dpath);
    cr_assert(dir_fd, "%s", dpath);
    struct dirent *e;
    while ((e = readdir(dir_fd))) {
        char link[PATH_MAX + 64], target[PATH_MAX] = "";
        snprintf(link, sizeof link, "%s/%s", dpath, e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = 0;
        if (strcmp(target, real) != 0)
            continue;
        char info[PATH_MAX + 64], line[128];
        snprintf(info, sizeof info, "/proc/%ld/fdinfo/%s", (long)pid, e->d_name);
        FILE *f = fopen(info, "r");
        cr_assert(f, "%s", info);
        while (fgets(line, sizeof line, f)) {
            unsigned long flags;
            if (sscanf(line, "flags: %lo", &flags) == 1)
                (flags & O_ACCMODE) == O_RDONLY ? (*ro)++ : (*rw)++;
        }
        fclose(f);
    }
    closedir(dir_fd);
}

static void start_dashboard(tmux_t *t)
{
    char bin[1024];
    th_sitrep_abs(bin, sizeof bin);
    tmux_script(t, dir, 160, 20, "'%s' --config '%s'\nsleep 60\n", bin, cfg);
}

Test(viewers, one_collector_two_viewers_and_a_takeover)
{
    char out_file[600];
    snprintf(out_file, sizeof out_file, "%s/collect.out", dir);
    th_collector(&collector, cfg, db, out_file);

    start_dashboard(&A);
    start_dashboard(&B);
    tmux_expect(&A, "sources · viewer", 30);
    tmux_expect(&B, "sources · viewer", 30);

    /* a viewer has the cache open read-only, never writable */
    int ro, rw;
    cache_fds(pane_sitrep(&A), &ro, &rw);
    cr_assert(ro >= 1 && rw == 0, "viewer A: %d read-only, %d writable descriptors", ro, rw);
    cache_fds(pane_sitrep(&B), &ro, &rw);
    cr_assert(ro >= 1 && rw == 0, "viewer B: %d read-only, %d writable descriptors", ro, rw);

    char *out, *err;
    char *cargv[] = {"collect", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, cargv, &out, &err), 1, "a second collector is refused: %s%s", out,
                 err);
    char want[128];
    snprintf(want, sizeof want, "(pid %ld) is already collecting", (long)collector);
    cr_assert(strstr(err, want), "the refusal names the collector: %s", err);
    free(out);
    free(err);

    kill(collector, SIGKILL);
    cr_assert_eq(waitpid(collector, NULL, 0), collector);
    collector = 0;

    tmux_t *winner = NULL, *other = NULL;
    th_deadline d = tmux_deadline(10);
    while (!winner) {
        if (strstr(tmux_capture(&A), "sources · collector"))
            winner = &A, other = &B;
        else if (strstr(tmux_capture(&B), "sources · collector"))
            winner = &B, other = &A;
        cr_assert(winner || th_poll(&d), "no dashboard took over:\n%s\n%s", A.capture, B.capture);
    }
    cr_assert(strstr(tmux_capture(other), "sources · viewer"), "exactly one collector:\n%s",
              other->capture);
    /* the new collector writes through a writable handle of its own */
    cache_fds(pane_sitrep(winner), &ro, &rw);
    cr_assert(ro >= 1 && rw >= 1, "the new collector: %d read-only, %d writable descriptors", ro,
              rw);

    /* the new collector writes: the cache's data_version moves */
    sr_store *st;
    cr_assert_eq(sr_store_open(db, SR_STORE_READONLY, &st, NULL, 0), 0);
    int64_t v0, v;
    cr_assert_eq(sr_store_data_version(st, &v0), 0);
    d = tmux_deadline(15);
    for (;;) {
        cr_assert_eq(sr_store_data_version(st, &v), 0);
        if (v != v0)
            break;
        cr_assert(th_poll(&d), "the cache stopped growing after the takeover");
    }
    sr_store_close(st);
    cr_assert(strstr(tmux_capture(other), "sources · viewer"), "%s", other->capture);
}

Test(viewers, a_dashboard_alone_collects_and_refuses_collect)
{
    start_dashboard(&A);
    tmux_expect(&A, "sources · collector", 30);
    char *out, *err;
    char *argv[] = {"collect", "--once", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 1, "%s%s", out, err);
    cr_assert(strstr(err, "is already collecting into"), "%s", err);
    free(out);
    free(err);
}
