/*
 * tmux.h - driving sitrep in a real terminal: a tmux server on its own
 * socket per test, keys sent with send-keys, the screen read with
 * capture-pane. Waiting is always polling the pane for what a person would
 * wait for, with a deadline: never a fixed sleep.
 */
#ifndef SR_TEST_TMUX_H
#define SR_TEST_TMUX_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../helpers.h"

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

/* How often a wait looks at the pane (each look runs tmux). */
#define TMUX_STEP_MS 50

/* A deadline seconds from now, looked at every TMUX_STEP_MS. */
static inline th_deadline tmux_deadline(int seconds)
{
    th_deadline d = th_deadline_in((int64_t)seconds * 1000);
    d.step_ms = TMUX_STEP_MS;
    return d;
}

/* Polls the pane until it shows text (shown) or no longer does (!shown),
 * for at most seconds; false when it never did. */
static inline bool tmux_wait_shown(tmux_t *t, const char *text, bool shown, int seconds)
{
    th_deadline d = tmux_deadline(seconds);
    while ((strstr(tmux_capture(t), text) != NULL) != shown)
        if (!th_poll(&d))
            return false;
    return true;
}

/* Polls the pane until it contains text, for at most seconds. */
static inline bool tmux_wait_for(tmux_t *t, const char *text, int seconds)
{
    return tmux_wait_shown(t, text, true, seconds);
}

/* Fails the test unless text shows within seconds, printing the screen. */
static inline void tmux_expect(tmux_t *t, const char *text, int seconds)
{
    cr_assert(tmux_wait_for(t, text, seconds), "never saw '%s'; the screen:\n%s", text, t->capture);
}

/* Polls the pane until it no longer contains text. */
static inline bool tmux_wait_gone(tmux_t *t, const char *text, int seconds)
{
    return tmux_wait_shown(t, text, false, seconds);
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
    th_deadline d = tmux_deadline(seconds);
    char f[256];
    for (;;) {
        tmux_format(t, "#{pane_dead}", f, sizeof f);
        if (strcmp(f, "1") == 0)
            return;
        if (!th_poll(&d))
            break;
    }
    tmux_format(t, "dead=#{pane_dead} pid=#{pane_pid} running=#{pane_current_command}", f,
                sizeof f);
    cr_assert_fail("the pane's program did not exit in %d s (%s); the screen:\n%s", seconds, f,
                   tmux_capture(t));
}

/* Stops the terminal's tmux server; a terminal never started (all zero):
 * nothing. */
static inline void tmux_stop(tmux_t *t)
{
    if (!t->sock[0])
        return;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "tmux -L %s kill-server 2>/dev/null", t->sock);
    tmux_sh(cmd);
}

/* An e2e test's set-up: a fresh folder in dir (dlen bytes), cfg (clen
 * bytes) the path of its config file name in it, and the terminal t not
 * started yet (all zero, which tmux_teardown() knows). */
static inline void tmux_setup(tmux_t *t, char *dir, size_t dlen, char *cfg, size_t clen,
                              const char *name)
{
    th_tempdir_with(dir, dlen, cfg, clen, name);
    memset(t, 0, sizeof *t);
}

/* The teardown of tmux_setup(), after a failure too: the terminal's
 * server stopped if it was started, the folder removed. */
static inline void tmux_teardown(tmux_t *t, const char *dir)
{
    tmux_stop(t);
    th_rmtree(dir);
}

/* Starts the terminal, width x height, on a shell script made from fmt:
 * written into dir (a new name each call), run by sh, starting in the
 * folder the tests run in ($PWD: the repository's top). */
static inline void tmux_script(tmux_t *t, const char *dir, int width, int height, const char *fmt,
                               ...) __attribute__((format(printf, 5, 6)));

static inline void tmux_script(tmux_t *t, const char *dir, int width, int height, const char *fmt,
                               ...)
{
    static int seq;
    char script[600], body[4096], text[4700], cmd[700];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    cr_assert(n >= 0 && (size_t)n < sizeof body, "the script is too long: %s", body);
    snprintf(script, sizeof script, "%s/run-%d.sh", dir, seq++);
    snprintf(text, sizeof text, "cd '%s'\n%s", getenv("PWD") ? getenv("PWD") : ".", body);
    th_write_file(script, text);
    snprintf(cmd, sizeof cmd, "sh '%s'", script);
    tmux_start(t, width, height, cmd);
}

#endif
