/*
 * Tests of app/lock.c: the collector lock between real processes (fork),
 * on a real file: one holder at a time, the holder's pid for a refusal,
 * and a killed holder's lock free at once. And what a hostile user who
 * shares the cache's folder may plant as CACHE.lock (a symbolic link to a
 * file of root's, a FIFO, a hard link, a file of another user's): refused,
 * the planted file untouched, and `sitrep ingest` run by root says why.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <pwd.h>
#include <unistd.h>

#include "../../app/lock.h"
#include "../../metrics/common.h"
#include "../helpers.h"

/* a fresh folder for each test, dir, and the path of a cache in it */
TH_DIR_SUITE(lock, dir, cache, "cache.db");

/* In a child: tries the lock; exits 0 when refused naming want_pid, 1 when
 * refused naming another pid, 2 when it got the lock, 3 on an error. */
static int child_try(long want_pid)
{
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        sr_lock *l;
        if (sr_lock_create(cache, &l, NULL, 0) != 0)
            _exit(3);
        long holder;
        int rc = sr_lock_try(l, &holder);
        _exit(rc == 0 ? 2 : rc != SR_EBUSY ? 3 : holder == want_pid ? 0 : 1);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

Test(lock, one_holder_and_its_pid_in_the_refusal)
{
    sr_lock *l;
    cr_assert_eq(sr_lock_create(cache, &l, NULL, 0), 0);
    cr_assert_not(sr_lock_held(l));
    long holder = -1;
    cr_assert_eq(sr_lock_try(l, &holder), 0);
    cr_assert_eq(holder, 0);
    cr_assert(sr_lock_held(l));
    cr_assert_eq(sr_lock_try(l, NULL), 0, "taking it again is a no-op");
    char want[320];
    snprintf(want, sizeof want, "%s.lock", cache);
    cr_assert_str_eq(sr_lock_path(l), want);
    cr_assert_eq(child_try((long)getpid()), 0, "a second process is refused, told who holds it");
    sr_lock_destroy(l);
    cr_assert_eq(child_try(0), 2, "released on destroy");
}

Test(lock, two_handles_in_one_process_conflict)
{
    sr_lock *a, *b;
    cr_assert_eq(sr_lock_create(cache, &a, NULL, 0), 0);
    cr_assert_eq(sr_lock_create(cache, &b, NULL, 0), 0);
    cr_assert_eq(sr_lock_try(a, NULL), 0);
    long holder;
    cr_assert_eq(sr_lock_try(b, &holder), SR_EBUSY);
    cr_assert_eq(holder, (long)getpid());
    sr_lock_destroy(a);
    cr_assert_eq(sr_lock_try(b, NULL), 0);
    sr_lock_destroy(b);
}

Test(lock, a_killed_holder_frees_the_lock)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        close(fds[0]);
        sr_lock *l;
        char ok = sr_lock_create(cache, &l, NULL, 0) == 0 && sr_lock_try(l, NULL) == 0 ? 'y' : 'n';
        if (write(fds[1], &ok, 1) != 1)
            _exit(3);
        for (;;)
            pause();
    }
    close(fds[1]);
    char ok = 0;
    cr_assert_eq(read(fds[0], &ok, 1), 1);
    close(fds[0]);
    cr_assert_eq(ok, 'y');

    sr_lock *l;
    cr_assert_eq(sr_lock_create(cache, &l, NULL, 0), 0);
    long holder;
    cr_assert_eq(sr_lock_try(l, &holder), SR_EBUSY);
    cr_assert_eq(holder, (long)pid);
    kill(pid, SIGKILL);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert_eq(sr_lock_try(l, &holder), 0, "the kernel dropped the dead holder's lock");
    sr_lock_destroy(l);
}

Test(lock, a_missing_directory_is_an_error)
{
    char bad[400];
    snprintf(bad, sizeof bad, "%s/no/such/dir/cache.db", dir);
    sr_lock *l = (sr_lock *)1;
    cr_assert_eq(sr_lock_create(bad, &l, NULL, 0), SR_ENOENT);
    cr_assert_null(l);
}

/* A file of root's (or this user's) that an attacker wants overwritten:
 * mode 0600, known content; its path into target. */
static void victim(char *target, size_t len)
{
    snprintf(target, len, "%s/victim", dir);
    th_write_file(target, "root's secret\n");
    cr_assert_eq(chmod(target, 0600), 0);
}

/* The victim as it was: content, mode 0600, owner and group unchanged. */
static void expect_untouched(const char *target, const struct stat *before)
{
    struct stat sb;
    cr_assert_eq(stat(target, &sb), 0);
    cr_assert_eq(sb.st_mode & 07777, 0600, "mode changed to %04o", sb.st_mode & 07777);
    cr_assert_eq(sb.st_uid, before->st_uid);
    cr_assert_eq(sb.st_gid, before->st_gid);
    FILE *f = fopen(target, "r");
    char text[64] = "";
    cr_assert(fgets(text, sizeof text, f));
    fclose(f);
    cr_assert_str_eq(text, "root's secret\n", "the victim was overwritten");
}

/* Plants CACHE.lock as plant(victim, lock) does; sr_lock_create() must
 * refuse it saying why, and leave the victim as it was. */
static void expect_planted_refused(int (*plant)(const char *, const char *), const char *why)
{
    char target[400], lockp[400], err[512] = "";
    victim(target, sizeof target);
    struct stat before;
    cr_assert_eq(stat(target, &before), 0);
    snprintf(lockp, sizeof lockp, "%s.lock", cache);
    cr_assert_eq(plant(target, lockp), 0);
    sr_lock *l = NULL;
    cr_assert_eq(sr_lock_create(cache, &l, err, sizeof err), SR_EPERM);
    cr_assert_null(l);
    cr_assert(strstr(err, why), "%s", err);
    expect_untouched(target, &before);
}

Test(lock, a_symbolic_link_is_refused_and_its_target_untouched)
{
    expect_planted_refused(symlink, "symbolic link");
}

Test(lock, a_fifo_is_refused_without_hanging)
{
    char lockp[400], err[512] = "";
    snprintf(lockp, sizeof lockp, "%s.lock", cache);
    cr_assert_eq(mkfifo(lockp, 0600), 0);
    sr_lock *l = NULL;
    cr_assert_eq(sr_lock_create(cache, &l, err, sizeof err), SR_EPERM);
    cr_assert(strstr(err, "not a regular file"), "%s", err);
}

Test(lock, a_hard_link_to_another_file_is_refused)
{
    expect_planted_refused(link, "hard links");
}

/* Another user's file as the lock (root only: chown to nobody). */
Test(lock, another_users_file_is_refused)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to give a file to another user (CI runs as root)");
    const struct passwd *pw = getpwnam("nobody");
    cr_assert_not_null(pw);
    char lockp[400], err[512] = "";
    snprintf(lockp, sizeof lockp, "%s.lock", cache);
    th_write_file(lockp, "4242\n");
    cr_assert_eq(chown(lockp, pw->pw_uid, pw->pw_gid), 0);
    sr_lock *l = NULL;
    cr_assert_eq(sr_lock_create(cache, &l, err, sizeof err), SR_EPERM);
    cr_assert(strstr(err, "belongs to nobody"), "%s", err);
    struct stat sb;
    cr_assert_eq(stat(lockp, &sb), 0);
    cr_assert_eq(sb.st_uid, pw->pw_uid, "the file was taken over");
}

/* The attack of the issue: a member of the cache's group links the lock to
 * a file of root's; root runs `sitrep ingest`. The file keeps its mode,
 * group and content, and sitrep says why it refused; so does the
 * collector. */
Test(lock, ingest_and_collect_refuse_a_linked_lock_and_say_why)
{
    char target[400], lockp[400], cfg[400], csv[400];
    victim(target, sizeof target);
    struct stat before;
    cr_assert_eq(stat(target, &before), 0);
    snprintf(lockp, sizeof lockp, "%s.lock", cache);
    cr_assert_eq(symlink(target, lockp), 0);
    snprintf(cfg, sizeof cfg, "%s/sim.ini", dir);
    /* as root, a cache_group: what made the old code hand the file to the group */
    char line[600];
    snprintf(line, sizeof line, "%s%s", cache, geteuid() == 0 ? "\\ncache_group = daemon" : "");
    th_sim_config(cfg, line, NULL, NULL);
    snprintf(csv, sizeof csv, "%s/in.csv", dir);
    th_write_file(csv, "metric,entity,ts,value\nresponse_p1,force/north,1700000000,300\n");
    char *out = NULL, *err = NULL;
    int rc = th_run(NULL, (char *[]){"ingest", csv, "--config", cfg, NULL}, &out, &err);
    cr_assert_eq(rc, 1, "ingest went on: %s%s", out, err);
    cr_assert(strstr(err, "symbolic link: refused"), "%s", err);
    expect_untouched(target, &before);
    free(out);
    free(err);
    /* and the collector, which would write its pid into it */
    rc = th_run(NULL, (char *[]){"collect", "--once", "--config", cfg, NULL}, &out, &err);
    cr_assert_eq(rc, 1, "collect went on: %s%s", out, err);
    cr_assert(strstr(err, "symbolic link: refused"), "%s", err);
    expect_untouched(target, &before);
    free(out);
    free(err);
}
