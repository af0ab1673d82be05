/*
 * The first run on an account that has never run sitrep: HOME an empty
 * folder, no XDG_* variables, the shipped config.ini without a cache line,
 * so the cache is the default ~/.local/state/sitrep/cache.db. Nothing here
 * creates a folder for sitrep: each command must make its own, and every
 * command must work as the first one (make run once failed here because the
 * dashboard opened its lock before anything had made the folder).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../helpers.h"
#include "tmux.h"

static char dir[256];  /* the test's own folder: config, HOME */
static char home[300]; /* an empty folder, HOME for sitrep */
static char cfg[512];
static tmux_t T;

static void setup(void)
{
    tmux_setup(&T, dir, sizeof dir, cfg, sizeof cfg, "config.ini");
    snprintf(home, sizeof home, "%s/home", dir);
    cr_assert_eq(mkdir(home, 0700), 0);
    /* the shipped config as it is, but for a one-day backfill: no cache
     * line; and a role that may read the audit table */
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "sed -e 's/^backfill = 36d/backfill = 1d/' config.ini > '%s' && "
             "printf '\\n[role.auditor]\\nusers = aud\\naudit = yes\\n' >> '%s'",
             cfg, cfg);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    setenv("HOME", home, 1);
    unsetenv("XDG_STATE_HOME");
    unsetenv("XDG_CONFIG_HOME");
    unsetenv("XDG_DATA_HOME");
    unsetenv("XDG_RUNTIME_DIR");
}

static void teardown(void)
{
    tmux_teardown(&T, dir);
}

TestSuite(firstrun, .init = setup, .fini = teardown);

/* The state folder sitrep made for itself: there, 0700, holding the cache. */
static void expect_state_folder(void)
{
    char state[600], cache[700];
    snprintf(state, sizeof state, "%s/.local/state/sitrep", home);
    snprintf(cache, sizeof cache, "%s/cache.db", state);
    struct stat sb;
    cr_assert_eq(stat(state, &sb), 0, "sitrep did not make %s", state);
    cr_assert(S_ISDIR(sb.st_mode));
    cr_assert_eq(sb.st_mode & 07777, 0700, "%s has mode %04o", state, sb.st_mode & 07777);
    cr_assert_eq(stat(cache, &sb), 0, "no cache at %s", cache);
}

/* Runs one command as the first on the fresh account; it must exit 0. */
static void first_command(char *const argv[])
{
    char *out = NULL, *err = NULL;
    int rc = th_run(dir, argv, &out, &err);
    cr_assert_eq(rc, 0, "sitrep %s exited %d on a fresh account:\n%s%s", argv[0], rc, out, err);
    cr_assert_null(strstr(err, "No such file"), "%s", err);
    expect_state_folder();
    free(out);
    free(err);
}

Test(firstrun, snapshot)
{
    first_command((char *[]){"snapshot", "--format", "text", "--config", cfg, NULL});
}

Test(firstrun, query)
{
    first_command((char *[]){"query", "response_p1", "--config", cfg, NULL});
}

Test(firstrun, collect_once)
{
    first_command((char *[]){"collect", "--once", "--config", cfg, NULL});
}

Test(firstrun, sources)
{
    first_command((char *[]){"sources", "--config", cfg, NULL});
}

Test(firstrun, alerts_rejects_audit_whoami)
{
    first_command((char *[]){"alerts", "--config", cfg, NULL});
    first_command((char *[]){"rejects", "--config", cfg, NULL});
    setenv("SITREP_TEST_USER", "aud", 1); /* audit = yes */
    first_command((char *[]){"audit", "--config", cfg, NULL});
    unsetenv("SITREP_TEST_USER");
    first_command((char *[]){"whoami", "--config", cfg, NULL});
}

/* make run's case: the dashboard first, in a real terminal, shows panels
 * with figures from the simulator. */
Test(firstrun, dashboard_shows_panels)
{
    char bin[1024];
    th_sitrep_abs(bin, sizeof bin);
    tmux_script(
        &T, dir, 160, 48,
        "cd '%s'\n"
        "env -i PATH=\"$PATH\" HOME='%s' LANG=C.UTF-8 TERM=xterm-256color '%s' --config '%s'\n"
        "echo sitrep-exited rc=$?\n"
        "sleep 60\n",
        dir, home, bin, cfg);
    tmux_expect(&T, "Emergency response P1", 30);
    tmux_expect(&T, "1/1 sources", 60);
    /* the figures land from the compute pool: until then panels say updating */
    cr_assert(tmux_wait_gone(&T, "updating", 30), "%s", tmux_capture(&T));
    const char *s = tmux_capture(&T);
    cr_assert_null(strstr(s, "sitrep-exited"), "the dashboard exited:\n%s", s);
    cr_assert(strstr(s, "OK") || strstr(s, "WARN") || strstr(s, "CRIT"), "no figures:\n%s", s);
    expect_state_folder();
    tmux_keys(&T, "q");
    tmux_expect(&T, "sitrep-exited rc=0", 10);
}
