/*
 * test_exec.c - the exec adapter (adapters/exec.c, adapters/execfmt.c)
 * with real child processes: small shell scripts written into a temp dir
 * and run by /bin/sh, or printf, sleep and yes from PATH. Each format,
 * the quoting of the command's words, the config directory as the place
 * paths and the run start from, a command that hangs, one that floods,
 * one that fails or is killed, a missing program, the child's descriptors
 * and signals, and after every run: no child left, not even a zombie.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../adapters/execfmt.h"
#include "../helpers.h"
#include "mock.h"

extern const sr_adapter sr_adapter_exec;

#define NOW 1700000000000LL /* 2023-11-14T22:13:20Z */

/* a fresh folder for each test, dir */
TH_TEMPDIR_SUITE(exec, dir);

static void script(const char *name, const char *text, int executable)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    th_write_file(p, text);
    cr_assert_eq(chmod(p, executable ? 0700 : 0600), 0);
}

/* This test process has no child left: none running, none a zombie. */
static void assert_no_children(void)
{
    errno = 0;
    pid_t got = waitpid(-1, NULL, WNOHANG);
    cr_assert_eq(got, -1, "a child process is left (waitpid gave %d)", (int)got);
    cr_assert_eq(errno, ECHILD);
}

/* Waits (with a deadline) until pid is gone or a zombie waiting for its reaper. */
static int process_ends(pid_t pid)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    th_deadline d = th_deadline_in(5000);
    d.step_ms = 5;
    do {
        FILE *f = fopen(p, "r");
        if (!f)
            return 1;
        char state = 0;
        int ok = fscanf(f, "%*d (%*[^)]) %c", &state);
        fclose(f);
        if (ok == 1 && (state == 'Z' || state == 'X'))
            return 1;
    } while (th_poll(&d));
    return 0;
}

static pid_t read_pid(const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f, "%s was not written", name);
    int pid = 0;
    cr_assert_eq(fscanf(f, "%d", &pid), 1);
    fclose(f);
    return (pid_t)pid;
}

static void *open_ok(const char *const *kv, size_t n)
{
    mock_options o;
    const sr_ad_options *opts = mock_opts(&o, "src", dir, kv, n);
    void *st = NULL;
    char err[256] = "";
    cr_assert_eq(sr_adapter_exec.open(opts, &st, err, sizeof err), 0, "open: %s", err);
    cr_assert_not_null(st);
    return st;
}

/* Opens, polls once with timeout_ms, closes; returns the poll's result. */
static int run_kv(const char *const *kv, size_t n, int64_t timeout_ms, mock_sink *m, char *err,
                  size_t errlen)
{
    void *st = open_ok(kv, n);
    sr_poll_info info = {.now_ms = NOW, .since_ms = 0, .timeout_ms = timeout_ms};
    err[0] = '\0';
    int rc = sr_adapter_exec.poll(st, &info, &m->sink, err, errlen);
    cr_assert_eq(info.more, 0);
    sr_adapter_exec.close(st);
    assert_no_children();
    return rc;
}

#define KV(...)                                                                                    \
    (const char *const[]){__VA_ARGS__},                                                            \
        sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)
#define RUN(m, err, timeout_ms, ...) run_kv(KV(__VA_ARGS__), (timeout_ms), (m), err, sizeof err)

static void open_fails(const char *want, const char *const *kv, size_t n)
{
    mock_options o;
    const sr_ad_options *opts = mock_opts(&o, "src", dir, kv, n);
    void *st = NULL;
    char err[256] = "";
    cr_assert_lt(sr_adapter_exec.open(opts, &st, err, sizeof err), 0, "expected failure: %s", want);
    cr_assert_null(st);
    cr_assert(strstr(err, want), "error '%s' should mention '%s'", err, want);
}

#define OPEN_FAILS(want, ...) open_fails((want), KV(__VA_ARGS__))

static void assert_sample(const mock_sink *m, size_t i, const char *metric, const char *entity,
                          double value, int64_t ts_ms)
{
    cr_assert_lt(i, m->n, "only %zu samples", m->n);
    cr_assert_str_eq(m->s[i].metric, metric, "sample %zu", i);
    cr_assert_str_eq(m->s[i].entity, entity, "sample %zu", i);
    cr_assert_eq(m->s[i].value, value, "sample %zu: %g", i, m->s[i].value);
    cr_assert_eq(m->s[i].ts_ms, ts_ms, "sample %zu: %lld", i, (long long)m->s[i].ts_ms);
}

static void assert_reject(const mock_sink *m, size_t i, const char *where, const char *raw,
                          const char *reason_part)
{
    cr_assert_lt(i, m->nr, "only %zu rejects", m->nr);
    cr_assert_str_eq(m->r[i].where, where, "reject %zu", i);
    if (raw)
        cr_assert_str_eq(m->r[i].raw, raw, "reject %zu", i);
    cr_assert(strstr(m->r[i].reason, reason_part), "reject %zu: '%s' should mention '%s'", i,
              m->r[i].reason, reason_part);
}

/* ---- format = lines ---- */

Test(exec, lines_format)
{
    script("emit.sh",
           "echo 'calls force/north/unit-1 12'\n"
           "echo ''\n"
           "echo '# a comment'\n"
           "echo '   # an indented comment'\n"
           "printf 'overtime\\tforce/south/unit-2   1,234.5  1700000100\\n'\n"
           "echo 'rt force/east 90 2023-11-14 22:00:00'\n"
           "echo 'rt force/east 91 2023-11-14T23:00:00+01:00'\n"
           "echo 'calls force/west'\n"
           "echo 'calls force/west many'\n"
           "echo 'calls force/west 3 yesterday'\n"
           "printf 'calls force/west 4\\r\\n'\n"
           "printf 'last force/x -2.5e1'\n",
           0);
    mock_sink m;
    mock_sink_init(&m);
    char err[256];
    cr_assert_eq(RUN(&m, err, 5000, "command = /bin/sh emit.sh"), 0, "%s", err);
    cr_assert_eq(m.n, 6);
    cr_assert_eq(m.nr, 3);
    assert_sample(&m, 0, "calls", "force/north/unit-1", 12, NOW);
    assert_sample(&m, 1, "overtime", "force/south/unit-2", 1234.5, 1700000100000LL);
    assert_sample(&m, 2, "rt", "force/east", 90, 1700000000000LL - 13 * 60000 - 20000);
    assert_sample(&m, 3, "rt", "force/east", 91, 1700000000000LL - 13 * 60000 - 20000);
    assert_sample(&m, 4, "calls", "force/west", 4, NOW);
    assert_sample(&m, 5, "last", "force/x", -25, NOW);
    for (size_t i = 0; i < m.n; i++)
        cr_assert_null(m.s[i].key, "a lines sample has no key");
    assert_reject(&m, 0, "line 8", "calls force/west",
                  "expected METRIC ENTITY VALUE [TIME], got 2");
    assert_reject(&m, 1, "line 9", "calls force/west many", "'many' is not a number");
    assert_reject(&m, 2, "line 10", "calls force/west 3 yesterday", "'yesterday'");
    mock_sink_fini(&m);
}

Test(exec, lines_timezone_for_naive_times)
{
    script("emit.sh", "echo 'rt force 1 2023-07-01 12:00:00'\n", 0);
    mock_sink m;
    mock_sink_init(&m);
    char err[256];
    cr_assert_eq(RUN(&m, err, 5000, "command = /bin/sh emit.sh", "timezone = America/Los_Angeles"),
                 0, "%s", err);
    cr_assert_eq(m.n, 1);
    /* 12:00 PDT = 19:00 UTC */
    cr_assert_eq(m.s[0].ts_ms, 1688238000000LL);
    mock_sink_fini(&m);
}

Test(exec, lines_parser_on_its_own)
{
    struct {
        const char *line;
        int rc;
        const char *metric, *entity;
        double value;
        int64_t ts_ms;
        const char *why;
    } cases[] = {
        {"m e 1", 1, "m", "e", 1, 5, NULL},
        {"  m\te  -1.5  ", 1, "m", "e", -1.5, 5, NULL},
        {"m e 1 0", 1, "m", "e", 1, 0, NULL},
        {"m e 1 1700000000.5", 1, "m", "e", 1, 1700000000500LL, NULL},
        {"m e 1 2023-11-14T22:13:20Z", 1, "m", "e", 1, 1700000000000LL, NULL},
        {"m e 1 2023-11-14 22:13:20 ", 1, "m", "e", 1, 1700000000000LL, NULL},
        {"m e 12,000\r", 1, "m", "e", 12000, 5, NULL},
        {"", 0, NULL, NULL, 0, 0, NULL},
        {"   \t ", 0, NULL, NULL, 0, 0, NULL},
        {"#m e 1", 0, NULL, NULL, 0, 0, NULL},
        {"m", -1, NULL, NULL, 0, 0, "got 1 field"},
        {"m e", -1, NULL, NULL, 0, 0, "got 2 fields"},
        {"m e x", -1, NULL, NULL, 0, 0, "'x' is not a number"},
        {"m e nan", -1, NULL, NULL, 0, 0, "'nan' is not a number"},
        {"m e 1e999", -1, NULL, NULL, 0, 0, "not a number"},
        {"m e 1 2023-13-01", -1, NULL, NULL, 0, 0, "neither ISO-8601 nor epoch"},
        {"m e 1 12:00", -1, NULL, NULL, 0, 0, "'12:00'"},
        {"m\x1b[31m e 1", -1, NULL, NULL, 0, 0, "control character (0x1b) at column 2"},
        {"m e 1 \x7f", -1, NULL, NULL, 0, 0, "control character (0x7f)"},
        {"m e 1111111111111111111111111111111111111111111111111111111111111111111111111111111111",
         -1, NULL, NULL, 0, 0, "longer than 80"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char line[256], before[256], why[160] = "";
        size_t len = strlen(cases[i].line);
        memcpy(line, cases[i].line, len + 1);
        memcpy(before, line, len + 1);
        sr_ad_sample s;
        int rc = sr_execfmt_line(line, len, &mock_host, "UTC", 5, &s, why, sizeof why);
        cr_assert_eq(rc < 0 ? -1 : rc, cases[i].rc, "'%s': %d (%s)", cases[i].line, rc, why);
        if (rc == 1) {
            cr_assert_str_eq(s.metric, cases[i].metric, "'%s'", cases[i].line);
            cr_assert_str_eq(s.entity, cases[i].entity, "'%s'", cases[i].line);
            cr_assert_eq(s.value, cases[i].value, "'%s'", cases[i].line);
            cr_assert_eq(s.ts_ms, cases[i].ts_ms, "'%s': %lld", cases[i].line, (long long)s.ts_ms);
            cr_assert_null(s.key);
        } else {
            cr_assert_eq(memcmp(line, before, len), 0, "'%s' was modified", cases[i].line);
        }
        if (cases[i].why)
            cr_assert(strstr(why, cases[i].why), "'%s': '%s' should mention '%s'", cases[i].line,
                      why, cases[i].why);
    }
    /* A NUL inside the line is a control character, not an end. */
    char nul[] = "m e 1\0 2";
    char why[160];
    sr_ad_sample s;
    cr_assert_lt(sr_execfmt_line(nul, 8, &mock_host, "UTC", 5, &s, why, sizeof why), 0);
    cr_assert(strstr(why, "0x00"), "%s", why);
}

/* ---- format = csv ---- */

Test(exec, csv_format)
{
    script("emit.sh",
           "echo 'Unit,Queued,Seconds'\n"
           "echo 'unit-1,2023-11-14T10:00:00Z,120'\n"
           "echo '\"unit-2\",\"2023-11-14T11:00:00Z\",\"1,500\"'\n"
           "echo 'unit-3,2023-11-14T12:00:00Z'\n"
           "echo 'unit-4,2023-11-14T13:00:00Z,soon'\n"
           "printf 'unit-5,2023-11-14T14:00:00Z,60'\n",
           0);
    mock_sink m;
    mock_sink_init(&m);
    char err[256];
    cr_assert_eq(RUN(&m, err, 5000, "command = /bin/sh emit.sh", "format = csv",
                     "metric = response", "entity = force/{Unit}", "time = Queued",
                     "value = Seconds", "key = {Unit}-{Queued}"),
                 0, "%s", err);
    cr_assert_eq(m.n, 3, "%zu samples", m.n);
    assert_sample(&m, 0, "response", "force/unit-1", 120, 1699956000000LL);
    assert_sample(&m, 1, "response", "force/unit-2", 1500, 1699959600000LL);
    assert_sample(&m, 2, "response", "force/unit-5", 60, 1699970400000LL);
    cr_assert_str_eq(m.s[0].key, "unit-1-2023-11-14T10:00:00Z");
    cr_assert_eq(m.nr, 2);
    assert_reject(&m, 0, "line 4", NULL, "");
    assert_reject(&m, 1, "line 5", NULL, "soon");
    mock_sink_fini(&m);
}

Test(exec, csv_delimiter_and_missing_header_field)
{
    script("emit.sh", "printf 'a;b\\nx;7\\n'\n", 0);
    mock_sink m;
    mock_sink_init(&m);
    char err[256];
    cr_assert_eq(RUN(&m, err, 5000, "command = /bin/sh emit.sh", "format = csv", "delimiter = ;",
                     "metric = m", "entity = {a}", "value = b"),
                 0, "%s", err);
    cr_assert_eq(m.n, 1);
    assert_sample(&m, 0, "m", "x", 7, NOW);
    mock_sink_fini(&m);

    /* A header without a mapped field: the run fails and says which. */
    mock_sink_init(&m);
    cr_assert_lt(RUN(&m, err, 5000, "command = /bin/sh emit.sh", "format = csv", "delimiter = ;",
                     "metric = m", "entity = {a}", "value = Seconds"),
                 0);
    cr_assert(strstr(err, "Seconds"), "%s", err);
    cr_assert_eq(m.n, 0);
    mock_sink_fini(&m);
}

Test(exec, a_nul_byte_is_rejected_in_every_format)
{
    /* Read as C strings, "u\0x" would become u: each format rejects the
     * line or row instead, with its number and the reason. */
    mock_sink m;
    mock_sink_init(&m);
    char err[256];
    script("csv.sh", "printf 'a,b\\nx,7\\nu\\000x,8\\n'\n", 0);
    cr_assert_eq(RUN(&m, err, 5000, "command = /bin/sh csv.sh", "format = csv", "metric = m",
                     "entity = {a}", "value = b"),
                 0, "%s", err);
    cr_assert_eq(m.n, 1);
    assert_sample(&m, 0, "m", "x", 7, NOW);
    assert_reject(&m, 0, "line 3", "u\\0x,8", "NUL byte in field a");

    script("lines.sh", "printf 'm x 1\\nm u\\000x 2\\n'\n", 0);
    cr_assert_eq(RUN(&m, err, 5000, "command = /bin/sh lines.sh"), 0, "%s", err);
    cr_assert_eq(m.n, 2);
    assert_reject(&m, 1, "line 2", NULL, "0x00");

    script("jsonl.sh",
           "printf '{\"a\":\"y\",\"b\":1}\\n{\"a\":\"u\\\\u0000x\",\"b\":2}\\n"
           "{\"a\":\"u\\000x\",\"b\":3}\\n'\n",
           0);
    cr_assert_eq(RUN(&m, err, 5000, "command = /bin/sh jsonl.sh", "format = jsonl", "metric = m",
                     "entity = {a}", "value = b"),
                 0, "%s", err);
    cr_assert_eq(m.n, 3);
    assert_sample(&m, 2, "m", "y", 1, NOW);
    cr_assert_eq(m.nr, 4, "%zu rejects", m.nr);
    assert_reject(&m, 2, "line 2", NULL, "NUL");
    assert_reject(&m, 3, "line 3", NULL, "");
    mock_sink_fini(&m);
}

/* ---- format = jsonl ---- */

Test(exec, jsonl_format)
{
    script("emit.sh",
           "echo '{\"unit\": {\"id\": \"u1\"}, \"t\": \"2023-11-14T10:00:00Z\", \"v\": 3.5}'\n"
           "echo ''\n"
           "echo '{\"unit\": {\"id\": 7}, \"t\": 1699956000, \"v\": \"4\"}'\n"
           "echo '{\"unit\": {\"id\": \"u3\"}, \"t\": 1699956000}'\n"
           "echo '[1, 2]'\n"
           "echo '{\"unit\": '\n"
           "echo '{\"unit\": {\"id\": \"u6\"}, \"t\": 1699956000, \"v\": null}'\n"
           "printf '{\"unit\": {\"id\": \"u7\"}, \"t\": 1699956000, \"v\": 1e2}'\n",
           0);
    mock_sink m;
    mock_sink_init(&m);
    char err[256];
    cr_assert_eq(RUN(&m, err, 5000, "command = /bin/sh emit.sh", "format = jsonl", "metric = load",
                     "entity = force/{unit.id}", "time = t", "value = v"),
                 0, "%s", err);
    cr_assert_eq(m.n, 3, "%zu samples", m.n);
    assert_sample(&m, 0, "load", "force/u1", 3.5, 1699956000000LL);
    assert_sample(&m, 1, "load", "force/7", 4, 1699956000000LL);
    assert_sample(&m, 2, "load", "force/u7", 100, 1699956000000LL);
    cr_assert_eq(m.nr, 4, "%zu rejects", m.nr);
    assert_reject(&m, 0, "line 4", "{\"unit\": {\"id\": \"u3\"}, \"t\": 1699956000}", "v");
    assert_reject(&m, 1, "line 5", "[1, 2]", "not a JSON object");
    assert_reject(&m, 2, "line 6", "{\"unit\": ", "not JSON");
    assert_reject(&m, 3, "line 7", NULL, "");
    mock_sink_fini(&m);
}

/* ---- the command ---- */

Test(exec, words_on_their_own)
{
    struct {
        const char *text;
        const char *words[6];
    } ok[] = {
        {"a b  c", {"a", "b", "c"}},
        {"  \ta\t", {"a"}},
        {"'a b' \"c d\"", {"a b", "c d"}},
        {"--title=\"a b\"x 'it''s'", {"--title=a bx", "its"}},
        {"a\\ b \\'c\\\"", {"a b", "'c\""}},
        {"\"a \\\"q\\\" \\\\ \\n $HOME\"", {"a \"q\" \\ \\n $HOME"}},
        {"'a \\ b' \"\" ''", {"a \\ b", "", ""}},
        {"printf '%s\\n' ~ * $x", {"printf", "%s\\n", "~", "*", "$x"}},
        {"a '|' \\| \">\"", {"a", "|", "|", ">"}},
        {"x|y a>b", {"x|y", "a>b"}},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char **argv = NULL, err[256] = "";
        size_t argc = 0;
        cr_assert_eq(sr_execfmt_words(ok[i].text, &argv, &argc, err, sizeof err), 0, "%s: %s",
                     ok[i].text, err);
        size_t want = 0;
        while (ok[i].words[want])
            want++;
        cr_assert_eq(argc, want, "%s: %zu words", ok[i].text, argc);
        for (size_t k = 0; k < want; k++)
            cr_assert_str_eq(argv[k], ok[i].words[k], "%s: word %zu", ok[i].text, k);
        cr_assert_null(argv[argc]);
        free(argv);
    }
    struct {
        const char *text, *why;
    } bad[] = {
        {"", "no program"},
        {"  \t ", "no program"},
        {"a 'b", "single quote at character 3 is never closed"},
        {"a \"b\\\"", "double quote at character 3"},
        {"a b\\", "backslash at the end"},
        {"a | b", "'|' is a shell operator"},
        {"a > out", "'>' is a shell operator"},
        {"a 2>&1", "'2>&1'"},
        {"a ; b", "/bin/sh -c"},
        {"a && b", "'&&'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char **argv = NULL, err[256] = "";
        size_t argc = 0;
        cr_assert_lt(sr_execfmt_words(bad[i].text, &argv, &argc, err, sizeof err), 0, "%s",
                     bad[i].text);
        cr_assert_null(argv);
        cr_assert(strstr(err, bad[i].why), "%s: '%s' should mention '%s'", bad[i].text, err,
                  bad[i].why);
    }
}

Test(exec, quoted_words_reach_the_program_as_written)
{
    /* The script writes each argument it gets on a line of its own. */
    script("args.sh",
           "#!/bin/sh\n"
           "for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done > args.txt\n"
           "echo \"argc e $#\"\n",
           1);
    mock_sink m;
    mock_sink_init(&m);
    char err[256];
    cr_assert_eq(RUN(&m, err, 5000,
                     "command = ./args.sh plain 'two words' \"say \\\"hi\\\"\" a\\ b '' $HOME "
                     "'*' ~ x';'y"),
                 0, "%s", err);
    cr_assert_eq(m.n, 1);
    cr_assert_eq(m.s[0].value, 9);
    char p[512], got[1024] = "";
    snprintf(p, sizeof p, "%s/args.txt", dir);
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f);
    size_t n = fread(got, 1, sizeof got - 1, f);
    got[n] = '\0';
    fclose(f);
    cr_assert_str_eq(got, "[plain]\n[two words]\n[say \"hi\"]\n[a b]\n[]\n[$HOME]\n[*]\n[~]\n"
                          "[x;y]\n");
    mock_sink_fini(&m);
}

Test(exec, paths_start_from_the_config_directory)
{
    /* ./bin/emit.sh is found from the config directory although this test
     * runs elsewhere, runs there (pwd), and workdir moves it. */
    char p[512];
    snprintf(p, sizeof p, "%s/bin", dir);
    cr_assert_eq(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/work", dir);
    cr_assert_eq(mkdir(p, 0700), 0);
    script("bin/emit.sh", "#!/bin/sh\necho \"m e 1\"\npwd > where.txt\n", 1);
    cr_assert_neq(strcmp(getcwd(p, sizeof p), dir), 0);
    mock_sink m;
    mock_sink_init(&m);
    char err[256];
    cr_assert_eq(RUN(&m, err, 5000, "command = bin/emit.sh"), 0, "%s", err);
    cr_assert_eq(m.n, 1);
    snprintf(p, sizeof p, "%s/where.txt", dir);
    cr_assert_eq(access(p, F_OK), 0, "the command did not run in the config directory");
    cr_assert_eq(RUN(&m, err, 5000, "command = ./bin/emit.sh", "workdir = work"), 0, "%s", err);
    cr_assert_eq(m.n, 2);
    snprintf(p, sizeof p, "%s/work/where.txt", dir);
    cr_assert_eq(access(p, F_OK), 0, "workdir was not used");
    /* A bare name is looked up in PATH. */
    cr_assert_eq(RUN(&m, err, 5000, "command = printf 'm e %d\\n' 42"), 0, "%s", err);
    cr_assert_eq(m.n, 3);
    cr_assert_eq(m.s[2].value, 42);
    mock_sink_fini(&m);
}

Test(exec, missing_or_unrunnable_program)
{
    mock_sink m;
    mock_sink_init(&m);
    char err[256];
    cr_assert_lt(RUN(&m, err, 5000, "command = ./no-such-script.sh"), 0);
    cr_assert(strstr(err, "cannot run './no-such-script.sh'"), "%s", err);
    cr_assert(strstr(err, "No such file"), "%s", err);
    cr_assert_lt(RUN(&m, err, 5000, "command = sitrep-no-such-program --x"), 0);
    cr_assert(strstr(err, "cannot run 'sitrep-no-such-program': no such program in PATH"), "%s",
              err);
    script("plain.txt", "echo m e 1\n", 0);
    cr_assert_lt(RUN(&m, err, 5000, "command = ./plain.txt"), 0);
    cr_assert(strstr(err, "Permission denied"), "%s", err);
    script("nohashbang.sh", "echo m e 1\n", 1);
    cr_assert_lt(RUN(&m, err, 5000, "command = ./nohashbang.sh"), 0);
    cr_assert(strstr(err, "not an executable (a script needs a #! line"), "%s", err);
    cr_assert_eq(m.n, 0);
    mock_sink_fini(&m);
}

/* ---- how runs end ---- */

Test(exec, a_command_that_hangs_is_killed_at_the_timeout)
{
    script("hang.sh", "echo 'm e 1'\nexec sleep 30\n", 0);
    mock_sink m;
    mock_sink_init(&m);
    char err[256];
    int64_t t0 = th_mono_ms();
    cr_assert_lt(RUN(&m, err, 300, "command = /bin/sh hang.sh"), 0);
    int64_t took = th_mono_ms() - t0;
    cr_assert(strstr(err, "timed out after 300 ms"), "%s", err);
    cr_assert_geq(took, 290);
    cr_assert_lt(took, 3000, "took %lld ms", (long long)took);
    cr_assert_eq(m.n, 1, "what came before the timeout is kept");
    mock_sink_fini(&m);
}

Test(exec, the_whole_process_group_is_killed)
{
    /* The command exits but leaves a child holding its stdout. */
    script("leave.sh", "sleep 30 &\necho $! > bg.pid\necho 'm e 1'\nexit 0\n", 0);
    mock_sink m;
    mock_sink_init(&m);
    char err[256];
    cr_assert_lt(RUN(&m, err, 300, "command = /bin/sh leave.sh"), 0);
    cr_assert(strstr(err, "timed out after 300 ms"), "%s", err);
    cr_assert(strstr(err, "kept its output open"), "%s", err);
    cr_assert_eq(m.n, 1);
    cr_assert(process_ends(read_pid("bg.pid")), "the background sleep survived");

    /* One that succeeds but leaves something running without its output. */
    script("bg.sh", "sleep 30 >/dev/null 2>&1 &\necho $! > bg2.pid\necho 'm e 2'\n", 0);
    cr_assert_eq(RUN(&m, err, 5000, "command = /bin/sh bg.sh"), 0, "%s", err);
    cr_assert_eq(m.n, 2);
    cr_assert(process_ends(read_pid("bg2.pid")), "the background sleep survived");
    mock_sink_fini(&m);
}

/* The live processes (not zombies) whose environment holds mark, killed
 * once counted (so that a failure leaves nothing running for 300 s). */
static int marked_alive(const char *mark)
{
    DIR *d = opendir("/proc");
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        int pid = atoi(e->d_name);
        if (pid <= 0 || pid == getpid())
            continue;
        char p[64], env[65536], state = 0;
        snprintf(p, sizeof p, "/proc/%d/stat", pid);
        FILE *f = fopen(p, "r");
        if (!f)
            continue;
        int ok = fscanf(f, "%*d (%*[^)]) %c", &state);
        fclose(f);
        snprintf(p, sizeof p, "/proc/%d/environ", pid);
        if (ok != 1 || state == 'Z' || !(f = fopen(p, "r")))
            continue;
        size_t len = fread(env, 1, sizeof env, f);
        fclose(f);
        for (size_t i = 0; i < len; i += strlen(env + i) + 1) {
            if (memchr(env + i, '\0', len - i) && strcmp(env + i, mark) == 0) {
                n++;
                kill(pid, SIGKILL);
                break;
            }
        }
    }
    closedir(d);
    return n;
}

Test(exec, nothing_outlives_a_run_not_even_what_calls_setsid)
{
    /* Two leftovers leave the command's session and group: one with
     * setsid itself, one whose setsid parent exits at once (an orphan).
     * The command waits until both are on their own, then ends: by
     * itself, at the timeout, or cut at max_output. */
    char mark[96];
    snprintf(mark, sizeof mark, "SR_PROCS_LEFTOVER=%d-%lld", (int)getpid(),
             (long long)th_mono_ms());
    cr_assert_eq(putenv(mark), 0);
    static const char start[] = "rm -f a.pid b.pid\n"
                                "setsid sh -c 'echo $$ > a.pid; exec sleep 300' >/dev/null 2>&1 &\n"
                                "setsid sh -c 'sleep 300 & echo $! > b.pid' >/dev/null 2>&1 &\n"
                                "while [ ! -s a.pid ] || [ ! -s b.pid ]; do sleep 0.01; done\n"
                                "echo 'm e 1'\n";
    char text[512];
    snprintf(text, sizeof text, "%s%s", start, "exit 0\n");
    script("exits.sh", text, 0);
    snprintf(text, sizeof text, "%s%s", start, "exec sleep 300\n");
    script("hangs.sh", text, 0);
    snprintf(text, sizeof text, "%s%s", start, "exec yes 'm e 2'\n");
    script("floods.sh", text, 0);
    mock_sink m;
    mock_sink_init(&m);
    char err[256];

    cr_assert_eq(RUN(&m, err, 20000, "command = /bin/sh exits.sh"), 0, "%s", err);
    cr_assert_eq(m.n, 1);
    cr_assert_eq(marked_alive(mark), 0, "a leftover of a command that exits 0 is alive");

    cr_assert_lt(RUN(&m, err, 3000, "command = /bin/sh hangs.sh"), 0);
    cr_assert(strstr(err, "timed out"), "%s", err);
    cr_assert_eq(m.n, 2, "the leftovers had not started before the timeout");
    cr_assert_eq(marked_alive(mark), 0, "a leftover of a command that timed out is alive");

    cr_assert_lt(RUN(&m, err, 20000, "command = /bin/sh floods.sh", "max_output = 64K"), 0);
    cr_assert(strstr(err, "more than max_output"), "%s", err);
    cr_assert_eq(marked_alive(mark), 0, "a leftover of a command cut at max_output is alive");
    mock_sink_fini(&m);
}

Test(exec, output_beyond_max_output_is_cut)
{
    mock_sink m;
    mock_sink_init(&m);
    char err[256];
    int64_t t0 = th_mono_ms();
    cr_assert_lt(RUN(&m, err, 10000, "command = yes 'm e 1'", "max_output = 1K"), 0);
    cr_assert_lt(th_mono_ms() - t0, 5000);
    cr_assert(strstr(err, "more than max_output = 1K"), "%s", err);
    /* 1024 bytes hold 170 whole lines of 6 bytes; the cut 171st is not read. */
    cr_assert_eq(m.n, 170, "%zu samples", m.n);
    cr_assert_eq(m.nr, 0);
    mock_sink_fini(&m);

    /* Exactly max_output is allowed. */
    mock_sink_init(&m);
    cr_assert_eq(RUN(&m, err, 5000, "command = printf 'm e 1\\nm e 2\\n'", "max_output = 12"), 0,
                 "%s", err);
    cr_assert_eq(m.n, 2);
    mock_sink_fini(&m);
}

Test(exec, a_failing_command_reports_its_stderr)
{
    script("fail.sh",
           "echo 'm e 1'\n"
           "echo '' >&2\n"
           "echo 'fetch: cannot reach records.example: connection refused' >&2\n"
           "printf 'giving up\\033[2J\\n' >&2\n"
           "exit 3\n",
           0);
    mock_sink m;
    mock_sink_init(&m);
    char err[256];
    cr_assert_lt(RUN(&m, err, 5000, "command = /bin/sh fail.sh"), 0);
    cr_assert(strstr(err, "'/bin/sh' exited with status 3: fetch: cannot reach "
                          "records.example: connection refused / giving up?[2J"),
              "%s", err);
    cr_assert_null(strchr(err, '\033'));
    cr_assert_eq(m.n, 1, "what came before the failure is kept");

    script("quiet.sh", "exit 1\n", 0);
    cr_assert_lt(RUN(&m, err, 5000, "command = /bin/sh quiet.sh"), 0);
    cr_assert(strstr(err, "exited with status 1 (nothing on stderr)"), "%s", err);

    /* stderr of a command that succeeds is not an error. */
    script("warn.sh", "echo 'warning: slow' >&2\necho 'm e 2'\n", 0);
    cr_assert_eq(RUN(&m, err, 5000, "command = /bin/sh warn.sh"), 0, "%s", err);
    cr_assert_eq(m.n, 2);
    mock_sink_fini(&m);
}

Test(exec, a_command_killed_by_a_signal)
{
    script("die.sh", "echo 'm e 1'\necho 'about to die' >&2\nkill -TERM $$\necho 'm e 2'\n", 0);
    mock_sink m;
    mock_sink_init(&m);
    char err[256];
    cr_assert_lt(RUN(&m, err, 5000, "command = /bin/sh die.sh"), 0);
    cr_assert(strstr(err, "was killed by signal 15 (SIGTERM): about to die"), "%s", err);
    cr_assert_eq(m.n, 1);
    mock_sink_fini(&m);
}

Test(exec, a_refusing_sink_stops_the_command)
{
    mock_sink m;
    mock_sink_init(&m);
    m.refuse_after = 5;
    char err[256];
    int64_t t0 = th_mono_ms();
    cr_assert_lt(RUN(&m, err, 10000, "command = yes 'm e 1'"), 0);
    cr_assert_lt(th_mono_ms() - t0, 5000);
    cr_assert(strstr(err, "took no more samples (stopped at line 6)"), "%s", err);
    cr_assert_eq(m.n, 5);
    mock_sink_fini(&m);
}

Test(exec, the_child_gets_no_descriptor_signal_mask_or_ignored_signal_of_ours)
{
    /* A descriptor without O_CLOEXEC, an ignored SIGPIPE and a blocked
     * SIGUSR1 in this process: the command sees none of them. It leads a
     * session of its own, without a terminal. (glibc's
     * posix_spawn leaves its internal signals 32 and 33 ignored; SIGPIPE
     * is the one that matters to a pipeline.) */
    int fd = open("/dev/null", O_RDONLY);
    cr_assert_geq(fd, 0);
    cr_assert_eq(dup2(fd, 57), 57);
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    cr_assert_eq(sigprocmask(SIG_BLOCK, &set, NULL), 0);
    script("check.sh",
           "[ -e /proc/$$/fd/57 ] && echo 'fd57 e 1'\n"
           "[ \"$(readlink /proc/$$/fd/0)\" = /dev/null ] && echo 'stdin e 1'\n"
           "while read k v; do\n"
           "  case $k in\n"
           "  SigBlk:) [ \"$v\" = 0000000000000000 ] || echo 'blocked e 1';;\n"
           "  SigIgn:) [ $((0x$v & 0x1000)) = 0 ] || echo 'sigpipe e 1';;\n"
           "  esac\n"
           "done < /proc/$$/status\n"
           "read pid comm state ppid pgrp session rest < /proc/$$/stat\n"
           "[ \"$session\" = $$ ] && [ \"$pgrp\" = $$ ] && echo 'leader e 1'\n"
           "(exec 3</dev/tty) 2>/dev/null && echo 'tty e 1'\n"
           "echo 'done e 1'\n",
           0);
    mock_sink m;
    mock_sink_init(&m);
    char err[256];
    cr_assert_eq(RUN(&m, err, 5000, "command = /bin/sh check.sh"), 0, "%s", err);
    cr_assert_eq(m.n, 3, "%zu samples, the second '%s'", m.n, m.n > 1 ? m.s[1].metric : "");
    cr_assert_str_eq(m.s[0].metric, "stdin");
    cr_assert_str_eq(m.s[1].metric, "leader", "not in a session of its own");
    cr_assert_str_eq(m.s[2].metric, "done");
    close(57);
    close(fd);
    mock_sink_fini(&m);
}

Test(exec, no_timeout_budget_means_no_deadline)
{
    mock_sink m;
    mock_sink_init(&m);
    char err[256];
    cr_assert_eq(RUN(&m, err, 0, "command = printf 'm e 1\\n'"), 0, "%s", err);
    cr_assert_eq(m.n, 1);
    mock_sink_fini(&m);
}

/* ---- options ---- */

Test(exec, open_checks_its_options)
{
    OPEN_FAILS("command: missing", "format = lines");
    OPEN_FAILS("command: the single quote", "command = printf 'x");
    OPEN_FAILS("command: '|' is a shell operator", "command = ps | grep x");
    OPEN_FAILS("format: expected lines, csv or jsonl, got 'xml'", "command = true", "format = xml");
    OPEN_FAILS("max_output: expected a size", "command = true", "max_output = lots");
    OPEN_FAILS("max_output", "command = true", "max_output = 0");
    OPEN_FAILS("max_output", "command = true", "max_output = 2G");
    OPEN_FAILS("metric: applies to format = csv or jsonl", "command = true", "metric = m");
    OPEN_FAILS("where: applies to format = csv or jsonl", "command = true", "where = a = b");
    OPEN_FAILS("delimiter: applies to format = csv only", "command = true", "delimiter = ;");
    OPEN_FAILS("delimiter: expected one character or tab", "command = true", "format = csv",
               "delimiter = ;;", "metric = m", "entity = e", "value = v");
    OPEN_FAILS("metric: missing", "command = true", "format = csv", "entity = e", "value = v");
    OPEN_FAILS("value: missing", "command = true", "format = jsonl", "metric = m", "entity = e");
    OPEN_FAILS("workdir: ", "command = true", "workdir = no-such-dir");
    OPEN_FAILS("timezone: 'Mars/Olympus'", "command = true", "timezone = Mars/Olympus");

    const char *sizes[] = {"max_output = 512K", "max_output = 16M",   "max_output = 1G",
                           "max_output = 2048", "max_output = 4 KiB", "max_output = 8kb"};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        const char *kv[] = {"command = true", sizes[i]};
        void *st = open_ok(kv, 2);
        sr_adapter_exec.close(st);
    }
    const char *kv[] = {"command = true", "format = csv", "delimiter = tab",
                        "metric = m",     "entity = e",   "value = v"};
    sr_adapter_exec.close(open_ok(kv, 6));
    sr_adapter_exec.close(NULL);
}

Test(exec, options_table)
{
    const sr_ad_option_spec *o = sr_adapter_exec.options;
    int command = 0, metric = 0;
    for (; o->key; o++) {
        if (strcmp(o->key, "command") == 0)
            command = o->required;
        if (strcmp(o->key, "metric") == 0 || strcmp(o->key, "entity") == 0 ||
            strcmp(o->key, "value") == 0)
            metric += 1 + o->required;
    }
    cr_assert_eq(command, 1, "command is required");
    cr_assert_eq(metric, 3, "metric, entity, value are listed and not required (format = lines)");
}

/* ---- stderr as a message ---- */

Test(exec, stderr_summary)
{
    char out[64];
    const char *t = "  first line  \n\n\tsecond\r\n";
    cr_assert_eq(sr_execfmt_stderr(t, strlen(t), out, sizeof out), strlen("first line / second"));
    cr_assert_str_eq(out, "first line / second");

    t = "Traceback (most recent call last):\n  File \"x.py\", line 1\n  more\n"
        "ValueError: bad value\n";
    sr_execfmt_stderr(t, strlen(t), out, 60);
    cr_assert(strlen(out) <= 59);
    cr_assert(strstr(out, "Traceback"), "%s", out);
    cr_assert(strstr(out, " / ... / ValueError: bad value"), "%s", out);

    /* Invalid UTF-8 and C1 controls become '?', valid UTF-8 stays. */
    t = "caf\xc3\xa9 \xff \xc2\x9b \xed\xa0\x80 \xe2\x82\xac";
    sr_execfmt_stderr(t, strlen(t), out, sizeof out);
    cr_assert_str_eq(out, "caf\xc3\xa9 ? ?? ??? \xe2\x82\xac");

    /* A cut never splits a UTF-8 sequence. */
    t = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
    sr_execfmt_stderr(t, strlen(t), out, 9);
    cr_assert_str_eq(out, "\xc3\xa9\xc3\xa9...");

    cr_assert_eq(sr_execfmt_stderr(" \n \n", 4, out, sizeof out), 0);
    cr_assert_str_eq(out, "");
}

Test(exec, the_command_gets_sitreps_environment)
{
    cr_assert_eq(setenv("SITREP_EXEC_TEST", "42", 1), 0);
    mock_sink m;
    mock_sink_init(&m);
    char err[256];
    cr_assert_eq(RUN(&m, err, 5000, "command = /bin/sh -c 'echo \"m e $SITREP_EXEC_TEST\"'"), 0,
                 "%s", err);
    cr_assert_eq(m.n, 1);
    cr_assert_eq(m.s[0].value, 42);
    mock_sink_fini(&m);
}
