/*
 * tmux.h - driving sitrep in a real terminal: a tmux server on its own
 * socket per test, keys sent with send-keys, the screen read with
 * capture-pane. Waiting is always polling the pane for what a person would
 * wait for, with a deadline: never a fixed sleep.
 */
#ifndef SR_TEST_TMUX_H
#define SR_TEST_TMUX_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char sock[64];
    char capture[64 * 1024];
} tmux_t;

/* Runs a shell command line; returns its exit status. */
static inline int tmux_sh(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Starts a detached session of width x height running shell command cmd. */
static inline void tmux_start(tmux_t *t, int width, int height, const char *cmd)
{
    static int seq;
    snprintf(t->sock, sizeof t->sock, "sitrep-test-%d-%d", (int)getpid(), seq++);
    char line[4096];
    /* a fixed TERM inside, no user config, and the pane stays after exit */
    snprintf(line, sizeof line,
             "tmux -L %s -f /dev/null new-session -d -x %d -y %d -s t "
             "\"env TERM=xterm-256color %s\" && tmux -L %s set -g remain-on-exit on",
             t->sock, width, height, cmd, t->sock);
    cr_assert_eq(tmux_sh(line), 0, "tmux did not start: %s", line);
}

static inline const char *tmux_capture(tmux_t *t)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tmux -L %s capture-pane -p -t t", t->sock);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(t->capture, 1, sizeof t->capture - 1, p);
    t->capture[n] = 0;
    pclose(p);
    return t->capture;
}

/* Polls the pane until it contains text, for at most seconds. */
static inline bool tmux_wait_for(tmux_t *t, const char *text, int seconds)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        if (strstr(tmux_capture(t), text))
            return true;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= seconds)
            return false;
        struct timespec d = {0, 50 * 1000 * 1000};
        nanosleep(&d, NULL);
    }
}

/* Fails the test unless text shows within seconds, printing the screen. */
static inline void tmux_expect(tmux_t *t, const char *text, int seconds)
{
    cr_assert(tmux_wait_for(t, text, seconds), "never saw '%s'; the screen:\n%s", text, t->capture);
}

/* Polls the pane until it no longer contains text. */
static inline bool tmux_wait_gone(tmux_t *t, const char *text, int seconds)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        if (!strstr(tmux_capture(t), text))
            return true;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= seconds)
            return false;
        struct timespec d = {0, 50 * 1000 * 1000};
        nanosleep(&d, NULL);
    }
}

/* Sends keys as tmux send-keys words ("Enter", "q", "BSpace", "+"). */
static inline void tmux_keys(tmux_t *t, const char *keys)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "tmux -L %s send-keys -t t -- %s", t->sock, keys);
    cr_assert_eq(tmux_sh(cmd), 0, "%s", cmd);
}

static inline void tmux_resize(tmux_t *t, int width, int height)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tmux -L %s resize-window -t t -x %d -y %d", t->sock, width, height);
    cr_assert_eq(tmux_sh(cmd), 0, "%s", cmd);
}

/* A tmux format of the pane, e.g. "#{pane_title}". */
static inline void tmux_format(tmux_t *t, const char *fmt, char *buf, size_t len)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tmux -L %s display-message -p -t t '%s'", t->sock, fmt);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(buf, 1, len - 1, p);
    buf[n] = 0;
    pclose(p);
    if (n && buf[n - 1] == '\n')
        buf[n - 1] = 0;
}

/* Fails the test unless the pane's program has exited within seconds (tmux's
 * pane_dead, polled), saying what the pane still runs and shows. */
static inline void tmux_expect_dead(tmux_t *t, int seconds)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    char f[256];
    for (;;) {
        tmux_format(t, "#{pane_dead}", f, sizeof f);
        if (strcmp(f, "1") == 0)
            return;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= seconds)
            break;
        struct timespec d = {0, 50 * 1000 * 1000};
        nanosleep(&d, NULL);
    }
    tmux_format(t, "dead=#{pane_dead} pid=#{pane_pid} running=#{pane_current_command}", f,
                sizeof f);
    cr_assert_fail("the pane's program did not exit in %d s (%s); the screen:\n%s", seconds, f,
                   tmux_capture(t));
}

static inline void tmux_stop(tmux_t *t)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "tmux -L %s kill-server 2>/dev/null", t->sock);
    tmux_sh(cmd);
}

#endif
