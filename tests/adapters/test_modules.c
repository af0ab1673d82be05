/*
 * test_modules.c - the adapters built as shared objects of their own
 * (adapters/modules.h): sitrep maps libpq and libcurl only when a config
 * names a postgres or http source.
 *
 * What a process maps is read from /proc/PID/maps while it is alive. A
 * command that prints and exits (--version, check-config, sources) is
 * caught at its first write: its stdout is a pipe filled beforehand, so
 * the write blocks (seen in /proc/PID/syscall) with everything the
 * command loaded still mapped; the pipe is drained after. The dashboard
 * is read in a tmux pane while it draws.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "../e2e/tmux.h"
#include "../helpers.h"

/* a fresh folder for each test, dir */
TH_TEMPDIR_SUITE(modules, dir);

/* Copies the text file path (at most len - 1 bytes) into buf; false when
 * it cannot be read. */
static bool read_text(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = 0;
    fclose(f);
    return true;
}

/*
 * Runs bin with argv (without argv[0]) in cwd, its stdout a full pipe, and
 * copies its /proc/PID/maps into maps once it blocks writing there; then
 * drains the pipe and returns its exit status. Its stderr goes to errfile.
 */
static int maps_at_first_write(const char *bin, const char *cwd, char *const argv[],
                               const char *errfile, char *maps, size_t len)
{
    int fd[2];
    cr_assert_eq(pipe(fd), 0);
    cr_assert_eq(fcntl(fd[1], F_SETFL, O_NONBLOCK), 0);
    static char junk[4096];
    while (write(fd[1], junk, sizeof junk) > 0)
        ;
    while (write(fd[1], junk, 1) == 1)
        ;
    cr_assert_eq(errno, EAGAIN);
    cr_assert_eq(fcntl(fd[1], F_SETFL, 0), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        int efd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd[1], 1);
        dup2(efd, 2);
        close(fd[0]);
        if (chdir(cwd) != 0)
            _exit(127);
        alarm(TH_RUN_DEADLINE);
        th_exec(bin, argv);
    }
    close(fd[1]);
    char path[64], text[256];
    snprintf(path, sizeof path, "/proc/%d/syscall", (int)pid);
    bool blocked = false;
    th_deadline d = th_deadline_in(120 * 1000);
    d.step_ms = 2;
    do
        blocked = read_text(path, text, sizeof text) && atol(text) == SYS_write &&
                  text[0] != 'r'; /* "running" */
    while (!blocked && th_poll(&d));
    maps[0] = 0;
    if (blocked) {
        snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
        read_text(path, maps, len);
    } else {
        kill(pid, SIGKILL);
    }
    char buf[4096];
    while (read(fd[0], buf, sizeof buf) > 0)
        ;
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(blocked, "%s never wrote to its stdout", bin);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Whether maps has a mapping of a file whose name starts with lib (a
 * library: "libpq.so", "libcurl"). */
static bool mapped(const char *maps, const char *lib)
{
    char want[64];
    snprintf(want, sizeof want, "/%s", lib);
    return strstr(maps, want) != NULL;
}

static char maps[1 << 20];

/* --version of bin maps the libraries it links (libuv) and neither libpq
 * nor libcurl. */
static void version_is_lean(const char *bin)
{
    char err[512];
    snprintf(err, sizeof err, "%s/err", dir);
    char *argv[] = {"--version", NULL};
    cr_assert_eq(maps_at_first_write(bin, dir, argv, err, maps, sizeof maps), 0);
    cr_assert(mapped(maps, "libuv"), "the maps were read too early or too late:\n%s", maps);
    cr_assert(!mapped(maps, "libpq"), "%s --version maps libpq:\n%s", bin, maps);
    cr_assert(!mapped(maps, "libcurl"), "%s --version maps libcurl:\n%s", bin, maps);
}

Test(modules, version_maps_neither_libpq_nor_libcurl)
{
    version_is_lean(th_sitrep_bin());
    const char *rel = getenv("SITREP_RELEASE_BIN");
    if (rel && *rel)
        version_is_lean(rel);
}

/* A sim config with the sections `append` in dir/c.ini. */
static void config(const char *append)
{
    char cfg[512], cache[512];
    snprintf(cfg, sizeof cfg, "%s/c.ini", dir);
    snprintf(cache, sizeof cache, "%s/c.db", dir);
    th_sim_config(cfg, cache, NULL, append);
}

#define PG_SECTION                                                                                 \
    "[adapter.rms]\ntype = postgres\nconninfo = host=/nonexistent dbname=rms\n"                    \
    "query = SELECT 1 AS id, now() AS t\nmetric = p1_response\nentity = force/north\n"             \
    "time = t\nvalue = 1\n"
#define HTTP_SECTION                                                                               \
    "[adapter.api]\ntype = http\nurl = http://127.0.0.1:9/x\nmetric = p1_response\n"               \
    "entity = force/north\nvalue = 1\n"

Test(modules, only_a_config_naming_the_type_loads_its_library)
{
    char err[512], cfg[512];
    snprintf(err, sizeof err, "%s/err", dir);
    snprintf(cfg, sizeof cfg, "%s/c.ini", dir);
    char *check[] = {"check-config", "--config", cfg, NULL};
    char *sources[] = {"sources", "--config", cfg, NULL};

    config(NULL); /* the simulator alone */
    cr_assert_eq(maps_at_first_write(th_sitrep_bin(), dir, check, err, maps, sizeof maps), 0);
    cr_assert(!mapped(maps, "libpq") && !mapped(maps, "libcurl"), "%s", maps);
    cr_assert_eq(maps_at_first_write(th_sitrep_bin(), dir, sources, err, maps, sizeof maps), 0);
    cr_assert(mapped(maps, "libuv"), "%s", maps);
    cr_assert(!mapped(maps, "libpq") && !mapped(maps, "libcurl"), "%s", maps);

    config(PG_SECTION); /* postgres: libpq, still no libcurl */
    cr_assert_eq(maps_at_first_write(th_sitrep_bin(), dir, check, err, maps, sizeof maps), 0);
    cr_assert(mapped(maps, "libpq"), "%s", maps);
    cr_assert(!mapped(maps, "libcurl"), "%s", maps);

    config(HTTP_SECTION); /* http: libcurl, no libpq */
    cr_assert_eq(maps_at_first_write(th_sitrep_bin(), dir, check, err, maps, sizeof maps), 0);
    cr_assert(mapped(maps, "libcurl"), "%s", maps);
    cr_assert(!mapped(maps, "libpq"), "%s", maps);
}

/* The pid of the process running the sitrep binary at or under pid (a
 * shell may stand between tmux and it), or 0. */
static pid_t find_sitrep(pid_t pid, const char *exe)
{
    char path[64], target[4096];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n > 0) {
        target[n] = 0;
        if (strcmp(target, exe) == 0)
            return pid;
    }
    char kids[4096];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    if (!read_text(path, kids, sizeof kids))
        return 0;
    for (char *s = strtok(kids, " \n"); s; s = strtok(NULL, " \n")) {
        pid_t found = find_sitrep((pid_t)atol(s), exe);
        if (found)
            return found;
    }
    return 0;
}

Test(modules, dashboard_on_the_simulator_maps_neither)
{
    config(NULL);
    char bin[1024], exe[4096], line[2048];
    th_sitrep_abs(bin, sizeof bin);
    cr_assert_not_null(realpath(bin, exe));
    snprintf(line, sizeof line, "%s --config %s/c.ini", bin, dir);
    tmux_t t;
    tmux_start(&t, 160, 48, line);
    tmux_expect(&t, "Emergency response P1", 60);
    char pane[32];
    tmux_format(&t, "#{pane_pid}", pane, sizeof pane);
    pid_t pid = find_sitrep((pid_t)atol(pane), exe);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    bool read = pid && read_text(path, maps, sizeof maps);
    tmux_stop(&t);
    cr_assert(read, "no sitrep process under the pane's %s", pane);
    cr_assert(mapped(maps, "libncursesw"), "%s", maps);
    cr_assert(!mapped(maps, "libpq") && !mapped(maps, "libcurl"), "%s", maps);
}

/* A copy of the binary at dir/bin/sitrep, far from the build tree: it
 * finds adapters only in dir/lib/sitrep (and the LIBDIR it was built for). */
static void lone_binary(char *bin, size_t len)
{
    char cmd[2048];
    snprintf(bin, len, "%s/bin/sitrep", dir);
    snprintf(cmd, sizeof cmd, "mkdir -p %s/bin %s/lib/sitrep && cp %s %s", dir, dir,
             th_sitrep_bin(), bin);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

Test(modules, an_absent_module_says_what_the_build_lacked)
{
    char bin[512], cfg[512];
    lone_binary(bin, sizeof bin);
    snprintf(cfg, sizeof cfg, "%s/c.ini", dir);
    th_write_file(cfg, "[sitrep]\ncache = c.db\n\n[metric.m]\nlabel = M\nunit = count\n"
                       "kind = event\n\n[adapter.rms]\ntype = postgres\n"
                       "conninfo = host=/nonexistent dbname=rms\nquery = SELECT 1 AS id\n"
                       "metric = m\nentity = force/a\nvalue = 1\n");
    char *argv[] = {"collect", "--once", "--config", cfg, NULL};
    char *out = NULL, *err = NULL;
    th_run_with(dir, bin, NULL, NULL, argv, &out, &err);
    char all[8192];
    snprintf(all, sizeof all, "%s%s", out, err);
    cr_assert(strstr(all, "this sitrep was built without libpq (apt-get install libpq-dev"), "%s",
              all);
    cr_assert(strstr(all, "no sitrep-postgres.so"), "%s", all);
    free(out);
    free(err);
}

Test(modules, a_broken_module_is_a_config_error_naming_the_section)
{
    char bin[512], cfg[512], so[512];
    lone_binary(bin, sizeof bin);
    snprintf(so, sizeof so, "%s/lib/sitrep/sitrep-http.so", dir);
    th_write_file(so, "not an ELF object\n");
    config(HTTP_SECTION);
    snprintf(cfg, sizeof cfg, "%s/c.ini", dir);
    char *argv[] = {"check-config", "--config", cfg, NULL};
    char *out = NULL, *err = NULL;
    cr_assert_eq(th_run_with(dir, bin, NULL, NULL, argv, &out, &err), 2, "%s%s", out, err);
    cr_assert(strstr(err, "/c.ini:"), "FILE:LINE: %s", err);
    cr_assert(strstr(err, "cannot load the http adapter of [adapter.api]"), "%s", err);
    cr_assert(strstr(err, "/lib/sitrep/sitrep-http.so: "), "%s", err);
    free(out);
    free(err);
}
