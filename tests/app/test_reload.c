/*
 * `sitrep collect` as a service, through the real binary: SIGHUP reloads
 * the config (a second simulator appears and polls), a broken config is
 * refused with FILE:LINE and polling goes on, a moved cache is refused,
 * SIGTERM ends it with status 0; --log FILE gets one timed line per event
 * and is reopened on SIGHUP (logrotate); $NOTIFY_SOCKET gets READY=1,
 * RELOADING=1 and STOPPING=1 as systemd expects of Type=notify.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "../helpers.h"

static char dir[256];
static char cfg[512];
static char out[512];

static void setup(void)
{
    th_tempdir(dir, sizeof dir);
    snprintf(cfg, sizeof cfg, "%s/c.ini", dir);
    snprintf(out, sizeof out, "%s/out.txt", dir);
}

static void teardown(void)
{
    th_rmtree(dir);
}

TestSuite(reload, .init = setup, .fini = teardown);

#define BASE                                                                                       \
    "[sitrep]\ncache = cache.db\ntimezone = UTC\n"                                                 \
    "[metric.calls]\nkind = counter\n"                                                             \
    "[adapter.one]\ntype = sim\nbackfill = 30m\ninterval = 1s\n"

#define SECOND                                                                                     \
    "[metric.overtime_hours]\nkind = counter\n"                                                    \
    "[adapter.two]\ntype = sim\nroot = other\nseed = 2\nbackfill = 30m\ninterval = 1s\n"

/* How many times text occurs in file (0 when it cannot be read). */
static int count_in(const char *file, const char *text)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return 0;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    int k = 0;
    for (const char *p = buf; (p = strstr(p, text)); p++)
        k++;
    return k;
}

/* Waits until text occurs more than `after` times in file; false after 60 s. */
static bool wait_count(const char *file, const char *text, int after)
{
    th_deadline d = th_deadline_in(60 * 1000);
    while (count_in(file, text) <= after)
        if (!th_poll(&d))
            return false;
    return true;
}

static void expect_clean_exit(pid_t pid)
{
    kill(pid, SIGTERM);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "collect exit status %d", status);
}

/* Fails the test after stopping the child, with its output. */
#define EXPECT(pid, cond, what)                                                                    \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            kill(pid, SIGKILL);                                                                    \
            waitpid(pid, NULL, 0);                                                                 \
            char cmd[700];                                                                         \
            snprintf(cmd, sizeof cmd, "cat %s >&2", out);                                          \
            if (system(cmd)) {                                                                     \
            }                                                                                      \
            cr_assert_fail("%s", what);                                                            \
        }                                                                                          \
    } while (0)

Test(reload, sighup_adds_a_source_refuses_a_broken_config_and_sigterm_ends)
{
    th_write_file(cfg, BASE);
    char *argv[] = {"collect", "--config", cfg, NULL};
    pid_t pid = th_spawn(argv, out);
    EXPECT(pid, wait_count(out, "one: ok", 0), "no first poll");

    th_write_file(cfg, BASE SECOND);
    kill(pid, SIGHUP);
    EXPECT(pid, wait_count(out, "reloaded: 2 sources", 0), "no reload");
    EXPECT(pid, wait_count(out, "two: ok", 0), "the new source never polled");
    int one = count_in(out, "one: ok");
    EXPECT(pid, wait_count(out, "one: ok", one), "the old source stopped polling");
    /* the metric the reload added was declared: its samples were stored */
    char *qout, *qerr;
    char *qargv[] = {"query", "overtime_hours", "--config", cfg,   "--window", "1d",
                     "--agg", "count",          "--format", "csv", NULL};
    int qrc = th_run(NULL, qargv, &qout, &qerr);
    EXPECT(pid, qrc == 0 && !strstr(qout, ",0\n"), "no overtime_hours samples");
    free(qout);
    free(qerr);

    /* line 5: a key the sim does not have; line 7: an unknown kind */
    th_write_file(cfg, "[sitrep]\ncache = cache.db\n"
                       "[adapter.one]\ntype = sim\nbogus = 1\n"
                       "[metric.calls]\nkind = sideways\n");
    kill(pid, SIGHUP);
    EXPECT(pid, wait_count(out, "reload refused", 0), "no refusal");
    char where[600];
    snprintf(where, sizeof where, "%s:5:", cfg);
    EXPECT(pid, count_in(out, where) >= 1, "no FILE:LINE for line 5");
    snprintf(where, sizeof where, "%s:7:", cfg);
    EXPECT(pid, count_in(out, where) >= 1, "no FILE:LINE for line 7");
    int two = count_in(out, "two: ok");
    EXPECT(pid, wait_count(out, "two: ok", two), "polls stopped after a refused reload");
    EXPECT(pid, count_in(out, "reloaded") == 1, "a refused config was applied");

    expect_clean_exit(pid);
    cr_assert_eq(count_in(out, "sitrep collect: stopped"), 1);
}

Test(reload, a_moved_cache_is_refused)
{
    th_write_file(cfg, BASE);
    char *argv[] = {"collect", "--config", cfg, NULL};
    pid_t pid = th_spawn(argv, out);
    EXPECT(pid, wait_count(out, "one: ok", 0), "no first poll");
    th_write_file(cfg, "[sitrep]\ncache = elsewhere.db\n[metric.calls]\nkind = counter\n"
                       "[adapter.one]\ntype = sim\nbackfill = 30m\ninterval = 1s\n");
    kill(pid, SIGHUP);
    EXPECT(pid, wait_count(out, "reload refused: the cache moved", 0), "no refusal");
    int one = count_in(out, "one: ok");
    EXPECT(pid, wait_count(out, "one: ok", one), "polls stopped");
    expect_clean_exit(pid);
}

Test(reload, log_file_has_timed_lines_and_is_reopened_on_sighup)
{
    th_write_file(cfg, BASE);
    char log[600], rotated[600];
    snprintf(log, sizeof log, "%s/collect.log", dir);
    snprintf(rotated, sizeof rotated, "%s/collect.log.1", dir);
    char *argv[] = {"collect", "--config", cfg, "--log", log, NULL};
    pid_t pid = th_spawn(argv, out);
    EXPECT(pid, wait_count(log, "one: ok", 0), "no poll in the log");
    EXPECT(pid, count_in(out, "one: ok") == 0, "polls on stdout despite --log");

    FILE *f = fopen(log, "r");
    cr_assert_not_null(f);
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        /* 2026-11-27T04:12:38Z message */
        cr_assert(strlen(line) > 21 && line[4] == '-' && line[10] == 'T' && line[19] == 'Z' &&
                      line[20] == ' ',
                  "an untimed line: %s", line);
    }
    fclose(f);

    cr_assert_eq(rename(log, rotated), 0);
    th_write_file(cfg, BASE "[adapter.bad]\ntype = nosuch\n");
    kill(pid, SIGHUP);
    EXPECT(pid, wait_count(log, "reload refused", 0), "the log was not reopened");
    snprintf(line, sizeof line, "%s:11:", cfg);
    EXPECT(pid, count_in(log, line) == 1, "no FILE:LINE in the log");
    EXPECT(pid, count_in(out, line) == 1, "errors not on stderr too");
    EXPECT(pid, wait_count(log, "one: ok", 0), "no poll in the new log");
    expect_clean_exit(pid);
    cr_assert_eq(count_in(log, "sitrep collect: stopped"), 1);
}

/* The next datagram on fd, NUL-terminated in buf; false after 60 s. */
static bool recv_within(int fd, char *buf, size_t len)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 60 * 1000) != 1)
        return false;
    ssize_t n = recv(fd, buf, len - 1, 0);
    if (n < 0)
        return false;
    buf[n] = 0;
    return true;
}

Test(reload, tells_systemd_ready_reloading_and_stopping)
{
    th_write_file(cfg, BASE);
    char sock[600];
    snprintf(sock, sizeof sock, "%s/notify", dir);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    cr_assert_lt(strlen(sock), sizeof a.sun_path, "TMPDIR too long for a socket path");
    memcpy(a.sun_path, sock, strlen(sock) + 1);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    setenv("NOTIFY_SOCKET", sock, 1);
    char *argv[] = {"collect", "--config", cfg, NULL};
    pid_t pid = th_spawn(argv, out);
    char msg[256];
    EXPECT(pid, recv_within(fd, msg, sizeof msg) && strcmp(msg, "READY=1") == 0, "no READY=1");
    th_write_file(cfg, BASE SECOND);
    kill(pid, SIGHUP);
    EXPECT(pid,
           recv_within(fd, msg, sizeof msg) &&
               strncmp(msg, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0,
           "no RELOADING=1");
    EXPECT(pid, recv_within(fd, msg, sizeof msg) && strcmp(msg, "READY=1") == 0,
           "no READY=1 after the reload");
    EXPECT(pid, count_in(out, "reloaded: 2 sources") == 1, "READY=1 before the reload ended");
    kill(pid, SIGTERM);
    cr_assert(recv_within(fd, msg, sizeof msg) && strcmp(msg, "STOPPING=1") == 0, "no STOPPING=1");
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "collect exit status %d", status);
    close(fd);
}
