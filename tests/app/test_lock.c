/*
 * Tests of app/lock.c: the collector lock between real processes (fork),
 * on a real file: one holder at a time, the holder's pid for a refusal,
 * and a killed holder's lock free at once.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../app/lock.h"
#include "../../metrics/common.h"
#include "../helpers.h"

static char dir[256];
static char cache[300];

static void setup(void)
{
    th_tempdir(dir, sizeof dir);
    snprintf(cache, sizeof cache, "%s/cache.db", dir);
}

static void teardown(void)
{
    th_rmtree(dir);
}

TestSuite(lock, .init = setup, .fini = teardown);

/* In a child: tries the lock; exits 0 when refused naming want_pid, 1 when
 * refused naming another pid, 2 when it got the lock, 3 on an error. */
static int child_try(long want_pid)
{
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        sr_lock *l;
        if (sr_lock_create(cache, &l) != 0)
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
    cr_assert_eq(sr_lock_create(cache, &l), 0);
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
    cr_assert_eq(sr_lock_create(cache, &a), 0);
    cr_assert_eq(sr_lock_create(cache, &b), 0);
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
        char ok = sr_lock_create(cache, &l) == 0 && sr_lock_try(l, NULL) == 0 ? 'y' : 'n';
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
    cr_assert_eq(sr_lock_create(cache, &l), 0);
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
    cr_assert_eq(sr_lock_create(bad, &l), SR_ENOENT);
    cr_assert_null(l);
}
