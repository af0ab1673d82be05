/*
 * test_pg.c - the postgres adapter (adapters/pg.c) against a real
 * PostgreSQL server that each test starts for itself (tests/pg_server.h):
 * rows and the cursor, a row count, chunks of max_rows, the password from
 * a file or the environment, TLS settings passed to libpq, read-only
 * transactions, statement_timeout, a frozen server cancelled and left at
 * the poll's timeout, and a server stopped and started again. Option
 * checks and the query's parameter rewriting need no server.
 */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "../../adapters/adapter.h"
#include "../../adapters/sql.h"
#include "../helpers.h"
#include "mock.h"

extern const sr_adapter sr_adapter_postgres;

static char dir[256];

#ifdef SR_HAVE_LIBPQ

#include "../pg_server.h"

static pgs_server srv;
static pid_t frozen; /* a backend stopped by a test, woken in teardown if it fails */

static void setup(void)
{
    th_tempdir(dir, sizeof dir);
}

static void teardown(void)
{
    if (frozen)
        kill(frozen, SIGCONT);
    pgs_destroy(&srv);
    th_rmtree(dir);
}

TestSuite(pg, .init = setup, .fini = teardown);

#define T0 1709683200000LL /* 2024-03-06T00:00:00Z */

static void *open_ok(const sr_ad_options *opts)
{
    void *state = NULL;
    char err[512] = "";
    cr_assert_eq(sr_adapter_postgres.open(opts, &state, err, sizeof err), 0, "open: %s", err);
    return state;
}

static void open_fails(const char *want, const sr_ad_options *opts)
{
    void *state = NULL;
    char err[512] = "";
    cr_assert_lt(sr_adapter_postgres.open(opts, &state, err, sizeof err), 0, "expected: %s", want);
    cr_assert_null(state);
    cr_assert(strstr(err, want), "error '%s' should mention '%s'", err, want);
}

/* One poll; returns its result with the message in err, and the time it
 * took in *took_ms. */
static int poll_at(void *state, int64_t since, int64_t timeout, mock_sink *k, sr_poll_info *info,
                   char *err, size_t errlen, int64_t *took_ms)
{
    static int64_t now = T0 + 3600000;
    *info = (sr_poll_info){.now_ms = now, .since_ms = since, .timeout_ms = timeout};
    now += 1000;
    err[0] = '\0';
    int64_t t = th_mono_ms();
    int rc = sr_adapter_postgres.poll(state, info, &k->sink, err, errlen);
    if (took_ms)
        *took_ms = th_mono_ms() - t;
    return rc;
}

static int64_t poll_ok(void *state, int64_t since, mock_sink *k, int *more)
{
    sr_poll_info info;
    char err[512];
    cr_assert_eq(poll_at(state, since, 5000, k, &info, err, sizeof err, NULL), 0, "poll: %s", err);
    if (more)
        *more = info.more;
    return info.cursor_ms;
}

static void poll_fails(void *state, int64_t timeout, mock_sink *k, const char *want)
{
    sr_poll_info info;
    char err[512];
    int64_t took;
    cr_assert_lt(poll_at(state, 0, timeout, k, &info, err, sizeof err, &took), 0,
                 "the poll should fail with '%s'", want);
    cr_assert(strstr(err, want), "error '%s' should mention '%s'", err, want);
    cr_assert_leq(took, timeout, "the poll took %lld ms, more than its timeout of %lld ms",
                  (long long)took, (long long)timeout);
}

static void make_incidents(void)
{
    pgs_exec(&srv, "CREATE TABLE incidents (id bigint PRIMARY KEY, queued timestamptz, "
                   "unit text, prio int, secs double precision)");
}

/* Rows from..to: queued a minute apart, secs = 100 * id + 0.25. */
static void add_incidents(int from, int to)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO incidents SELECT i, '2024-03-06 00:00:00+00'::timestamptz + "
             "i * interval '1 minute', 'u' || (i %% 3), 1 + i %% 2, 100 * i + 0.25 "
             "FROM generate_series(%d, %d) AS i",
             from, to);
    pgs_exec(&srv, sql);
}

/* Starts the server with incidents 1..rows; conninfo receives the
 * "conninfo = ..." option for the superuser over TCP. */
static void start_with_incidents(int rows, char *conninfo, size_t len)
{
    char ci[256];
    pgs_start(&srv);
    make_incidents();
    add_incidents(1, rows);
    pgs_conninfo(&srv, "sitrep", ci, sizeof ci);
    snprintf(conninfo, len, "conninfo = %s", ci);
}

#define MAPPING                                                                                    \
    "metric = response_p{prio}", "entity = force/{unit}", "time = queued", "value = secs",         \
        "key = rms-{id}"
#define QUERY                                                                                      \
    "query = SELECT id, queued, unit, prio, secs FROM incidents WHERE id > :last ORDER BY id"

Test(pg, rows_cursor_count_chunks_password_and_tls)
{
    char conninfo[300];
    start_with_incidents(3, conninfo, sizeof conninfo);
    pgs_exec(&srv, "UPDATE incidents SET secs = NULL WHERE id = 2");

    mock_options o;
    void *st = open_ok(MOCK_OPTS(&o, "rms", dir, conninfo, QUERY, "cursor = id", MAPPING));
    mock_sink k;
    mock_sink_init(&k);
    int64_t c = poll_ok(st, 0, &k, NULL);
    cr_assert_eq(k.n, 2, "rows 1 and 3, got %zu samples", k.n);
    cr_assert_eq(k.nr, 1, "row 2 (NULL secs) rejected");
    cr_assert(strstr(k.r[0].reason, "secs") && strstr(k.r[0].raw, "secs=NULL"), "%s | %s",
              k.r[0].reason, k.r[0].raw);
    cr_assert_str_eq(k.s[0].metric, "response_p2");
    cr_assert_str_eq(k.s[0].entity, "force/u1");
    cr_assert_eq(k.s[0].ts_ms, T0 + 60000, "timestamptz read with its offset");
    cr_assert_float_eq(k.s[0].value, 100.25, 1e-9);
    cr_assert_str_eq(k.s[1].key, "rms-3");

    c = poll_ok(st, c, &k, NULL);
    cr_assert_eq(k.n + k.nr, 3, "nothing new");
    add_incidents(4, 6);
    poll_ok(st, c, &k, NULL);
    cr_assert_eq(k.n, 5, "rows 4-6 only, got %zu", k.n);
    cr_assert_eq((long long)(k.n + k.nr), pgs_exec(&srv, "SELECT count(*) FROM incidents"),
                 "every row of the table was read once");
    sr_adapter_postgres.close(st);

    /* max_rows: chunks that continue from the cursor, each row once */
    st =
        open_ok(MOCK_OPTS(&o, "rms", dir, conninfo, QUERY, "cursor = id", "max_rows = 2", MAPPING));
    mock_sink_fini(&k);
    mock_sink_init(&k);
    int more = 1, polls = 0;
    for (c = 0; more && polls < 10; polls++)
        c = poll_ok(st, c, &k, &more);
    cr_assert_eq(polls, 3, "6 rows in polls of 2");
    cr_assert_eq(k.n, 5);
    cr_assert_eq(k.nr, 1);
    for (size_t i = 1; i < k.n; i++)
        cr_assert_lt(k.s[i - 1].ts_ms, k.s[i].ts_ms, "in order, each once");
    sr_adapter_postgres.close(st);

    /* rows in several FETCH batches, a poll cut inside one */
    pgs_exec(&srv, "CREATE TABLE bulk AS SELECT i AS id, i * 0.5 AS v FROM generate_series(1, "
                   "2500) AS i");
    st = open_ok(MOCK_OPTS(
        &o, "rms", dir, conninfo, "query = SELECT id, v FROM bulk WHERE id > :last ORDER BY id",
        "cursor = id", "max_rows = 2400", "metric = m", "entity = e", "value = v", "key = {id}"));
    mock_sink_fini(&k);
    mock_sink_init(&k);
    c = poll_ok(st, 0, &k, &more);
    cr_assert_eq(k.n, 2400);
    cr_assert_eq(more, 1);
    poll_ok(st, c, &k, &more);
    cr_assert_eq(k.n, 2500);
    cr_assert_eq(more, 0);
    double sum = 0;
    for (size_t i = 0; i < k.n; i++)
        sum += k.s[i].value;
    cr_assert_float_eq(sum, 0.5 * 2500 * 2501 / 2, 1e-6, "each row once");
    sr_adapter_postgres.close(st);

    /* a timestamp cursor and :since_ms, both bound as parameters */
    st = open_ok(MOCK_OPTS(&o, "rms", dir, conninfo,
                           "query = SELECT * FROM incidents WHERE queued > :last AND "
                           "extract(epoch from queued) * 1000 > :since_ms - 86400000 ORDER BY "
                           "queued",
                           "cursor = queued", "cursor_start = 2024-03-06 00:03:30+00",
                           "max_rows = 1", MAPPING));
    mock_sink_fini(&k);
    mock_sink_init(&k);
    int64_t since = T0 + 86400000 + 4 * 60000 - 1; /* :since_ms - 1 day = just before row 4 */
    for (more = 1, polls = 0; more && polls < 10; polls++)
        since = poll_ok(st, since, &k, &more);
    cr_assert_eq(k.n + k.nr, 3, "rows 4-6 (after the cursor start and since_ms), got %zu",
                 k.n + k.nr);
    sr_adapter_postgres.close(st);

    /* the password from a file only its owner can read */
    pgs_exec(&srv, "CREATE ROLE reader LOGIN PASSWORD 'pw-Secret 1'; "
                   "GRANT SELECT ON incidents TO reader");
    char pw[300], pwopt[320], rci[256], rconninfo[300];
    snprintf(pw, sizeof pw, "%s/pg.pass", dir);
    snprintf(pwopt, sizeof pwopt, "password_file = %s", pw);
    th_write_file(pw, "pw-Secret 1\n");
    chmod(pw, 0600);
    pgs_conninfo(&srv, "reader", rci, sizeof rci);
    snprintf(rconninfo, sizeof rconninfo, "conninfo = %s", rci);
    st = open_ok(MOCK_OPTS(&o, "rms", dir, rconninfo, pwopt, QUERY, "cursor = id", MAPPING));
    mock_sink_fini(&k);
    mock_sink_init(&k);
    poll_ok(st, 0, &k, NULL);
    cr_assert_eq(k.n, 5, "read as reader");
    sr_adapter_postgres.close(st);

    chmod(pw, 0644);
    open_fails("chmod 600",
               MOCK_OPTS(&o, "rms", dir, rconninfo, pwopt, QUERY, "cursor = id", MAPPING));
    th_write_file(pw, "wrong\n");
    chmod(pw, 0600);
    st = open_ok(MOCK_OPTS(&o, "rms", dir, rconninfo, pwopt, QUERY, "cursor = id", MAPPING));
    poll_fails(st, 5000, &k, "password authentication failed");
    sr_adapter_postgres.close(st);

    setenv("SITREP_TEST_PGPASS", "pw-Secret 1", 1);
    st = open_ok(MOCK_OPTS(&o, "rms", dir, rconninfo, "password_env = SITREP_TEST_PGPASS", QUERY,
                           "cursor = id", MAPPING));
    poll_ok(st, 0, &k, NULL);
    cr_assert_eq(k.n, 10);
    sr_adapter_postgres.close(st);

    /* TLS settings reach libpq: this server has no TLS, so requiring it fails */
    char tls[340];
    snprintf(tls, sizeof tls, "%s sslmode=require", conninfo);
    st = open_ok(MOCK_OPTS(&o, "rms", dir, tls, QUERY, "cursor = id", MAPPING));
    poll_fails(st, 5000, &k, "SSL");
    sr_adapter_postgres.close(st);
    mock_sink_fini(&k);
}

Test(pg, only_reading_statement_timeout_and_a_frozen_server)
{
    char conninfo[300];
    start_with_incidents(2, conninfo, sizeof conninfo);
    pgs_exec(&srv, "CREATE SEQUENCE s");
    mock_options o;
    mock_sink k;
    mock_sink_init(&k);

    /* open() refuses what reads as a write (so check-config does) */
    static const char *const refused[] = {
        "query = DELETE FROM incidents RETURNING id",
        "query = WITH d AS (DELETE FROM incidents RETURNING id) SELECT id FROM d",
        "query = SELECT 1 AS id; DELETE FROM incidents",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        void *st = NULL;
        char err[512] = "";
        cr_assert_lt(sr_adapter_postgres.open(MOCK_OPTS(&o, "rms", dir, conninfo, refused[i],
                                                        "metric = m", "entity = e", "value = id"),
                                              &st, err, sizeof err),
                     0, "%s", refused[i]);
        cr_assert(strstr(err, "query:"), "%s: %s", refused[i], err);
    }
    /* the read-only transaction refuses the rest at the poll */
    static const char *const writes[] = {
        "query = SELECT nextval('s') AS id",
    };
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        void *st = open_ok(MOCK_OPTS(&o, "rms", dir, conninfo, writes[i], "metric = m",
                                     "entity = e", "value = id"));
        sr_poll_info info;
        char err[512];
        cr_assert_lt(poll_at(st, 0, 5000, &k, &info, err, sizeof err, NULL), 0, "%s", writes[i]);
        sr_adapter_postgres.close(st);
    }
    cr_assert_eq(k.n, 0);
    cr_assert_eq(pgs_exec(&srv, "SELECT count(*) FROM incidents"), 2, "nothing was deleted");
    cr_assert_eq(pgs_exec(&srv, "SELECT last_value FROM s WHERE is_called"), 0,
                 "the sequence did not move");

    /* the server stops a slow statement at statement_timeout */
    void *st =
        open_ok(MOCK_OPTS(&o, "rms", dir, conninfo, "query = SELECT 1 AS v FROM pg_sleep(30)",
                          "statement_timeout = 200ms", "metric = m", "entity = e", "value = v"));
    poll_fails(st, 3000, &k, "statement timeout");
    poll_fails(st, 3000, &k, "statement timeout"); /* the connection is still usable */
    sr_adapter_postgres.close(st);

    /* without one, what is left of the poll's timeout bounds it */
    char named[340];
    snprintf(named, sizeof named, "%s application_name=sitrep-frozen", conninfo);
    st = open_ok(MOCK_OPTS(&o, "rms", dir, named, "query = SELECT 1 AS v FROM pg_sleep(30)",
                           "metric = m", "entity = e", "value = v"));
    poll_fails(st, 600, &k, "statement timeout");

    /* a server that does not answer at all is left within the timeout */
    pid_t backend = frozen = (pid_t)pgs_exec(
        &srv, "SELECT pid FROM pg_stat_activity WHERE application_name = 'sitrep-frozen'");
    cr_assert_gt(backend, 0, "the adapter's session is there");
    cr_assert_eq(kill(backend, SIGSTOP), 0);
    poll_fails(st, 600, &k, "no answer from the server");
    kill(backend, SIGCONT);
    frozen = 0;
    sr_adapter_postgres.close(st);
    mock_sink_fini(&k);
}

Test(pg, a_server_that_stops_fails_the_poll_and_is_reconnected_when_back)
{
    char conninfo[300];
    start_with_incidents(2, conninfo, sizeof conninfo);
    mock_options o;
    void *st = open_ok(MOCK_OPTS(&o, "rms", dir, conninfo, QUERY, "cursor = id", MAPPING));
    mock_sink k;
    mock_sink_init(&k);
    int64_t c = poll_ok(st, 0, &k, NULL);
    cr_assert_eq(k.n, 2);

    pgs_stop(&srv);
    sr_poll_info info;
    char err[512];
    cr_assert_lt(poll_at(st, c, 3000, &k, &info, err, sizeof err, NULL), 0, "the server is gone");
    cr_assert(strstr(err, "connection") || strstr(err, "terminat"), "err: %s", err);
    poll_fails(st, 3000, &k, "cannot connect");

    pgs_restart(&srv);
    add_incidents(3, 4);
    poll_ok(st, c, &k, NULL);
    cr_assert_eq(k.n, 4, "reconnected, and the cursor went on: rows 3 and 4, got %zu", k.n);
    cr_assert_str_eq(k.s[2].key, "rms-3");
    mock_sink_fini(&k);
    sr_adapter_postgres.close(st);
}

Test(pg, bad_options_name_the_key)
{
    mock_options o;
    char pw[300], pwopt[320];
    snprintf(pw, sizeof pw, "%s/pg.pass", dir);
    snprintf(pwopt, sizeof pwopt, "password_file = %s", pw);
    th_write_file(pw, "secret\n");
    chmod(pw, 0644);
    const char *ci = "conninfo = host=127.0.0.1 dbname=x user=y";
    open_fails("conninfo:", MOCK_OPTS(&o, "rms", dir, QUERY, "cursor = id", MAPPING));
    open_fails("holds a password",
               MOCK_OPTS(&o, "rms", dir, "conninfo = host=h user=u password=secret", QUERY,
                         "cursor = id", MAPPING));
    open_fails("holds a password",
               MOCK_OPTS(&o, "rms", dir, "conninfo = postgresql://u:secret@h/db", QUERY,
                         "cursor = id", MAPPING));
    open_fails("conninfo:", MOCK_OPTS(&o, "rms", dir, "conninfo = host=h nonsense", QUERY,
                                      "cursor = id", MAPPING));
    open_fails("password:",
               MOCK_OPTS(&o, "rms", dir, ci, "password = x", QUERY, "cursor = id", MAPPING));
    open_fails("chmod 600", MOCK_OPTS(&o, "rms", dir, ci, pwopt, QUERY, "cursor = id", MAPPING));
    open_fails("statement_timeout:", MOCK_OPTS(&o, "rms", dir, ci, "statement_timeout = 5x", QUERY,
                                               "cursor = id", MAPPING));
    open_fails("connect_timeout:", MOCK_OPTS(&o, "rms", dir, ci, "connect_timeout = 0s", QUERY,
                                             "cursor = id", MAPPING));
    open_fails("'$1'", MOCK_OPTS(&o, "rms", dir, ci, "query = SELECT * FROM t WHERE id > $1",
                                 "cursor = id", MAPPING));
    open_fails(":lst", MOCK_OPTS(&o, "rms", dir, ci, "query = SELECT * FROM t WHERE id > :lst",
                                 "cursor = id", MAPPING));
    open_fails("query:", MOCK_OPTS(&o, "rms", dir, ci, "cursor = id", MAPPING));
}

/* Runs one poll with stderr (fd 2) in a file, then closes state; returns
 * what was written there. */
static char *poll_stderr(void *state, char *err, size_t errlen, int *rc)
{
    mock_sink k;
    mock_sink_init(&k);
    char path[300];
    snprintf(path, sizeof path, "%s/stderr", dir);
    fflush(stderr);
    int saved = dup(2), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    sr_poll_info info;
    *rc = poll_at(state, 0, 5000, &k, &info, err, errlen, NULL);
    sr_adapter_postgres.close(state);
    mock_sink_fini(&k);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    static char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* libpq writes its warning of a password file open to others with
 * fprintf(stderr), across the dashboard: it must go to the source's error. */
Test(pg, a_password_file_open_to_others_is_told_in_the_error_not_on_stderr)
{
    char pass[300];
    snprintf(pass, sizeof pass, "%s/pgpass", dir);
    th_write_file(pass, "*:*:*:*:secret\n");
    chmod(pass, 0644);
    setenv("PGPASSFILE", pass, 1);
    unsetenv("PGPASSWORD");
    mock_options o;
    /* port 1: nothing listens, the connection fails at once */
    void *state =
        open_ok(MOCK_OPTS(&o, "rms", dir, "conninfo = host=127.0.0.1 port=1 dbname=x user=y", QUERY,
                          "cursor = id", MAPPING));
    char err[1024] = "";
    int rc;
    const char *out = poll_stderr(state, err, sizeof err, &rc);
    cr_assert_lt(rc, 0);
    cr_assert_null(strstr(out, "WARNING"), "libpq wrote to stderr: %s", out);
    cr_assert(strstr(err, pass) && strstr(err, "group or world access"),
              "the error should name the password file: %s", err);
    unsetenv("PGPASSFILE");
}

/* A server's notice (a WARNING raised by the query) is kept from the
 * terminal, and told with the error of a poll that fails. */
Test(pg, the_servers_notices_never_reach_stderr)
{
    char conninfo[300];
    start_with_incidents(3, conninfo, sizeof conninfo);
    pgs_exec(&srv, "CREATE FUNCTION loud(i bigint) RETURNS bigint LANGUAGE plpgsql AS "
                   "$$BEGIN RAISE WARNING 'noisy row %', i; "
                   "IF i = 3 THEN RAISE EXCEPTION 'stop'; END IF; RETURN i; END$$");
    mock_options o;
    void *state = open_ok(MOCK_OPTS(&o, "rms", dir, conninfo,
                                    "query = SELECT loud(id) AS id, queued, unit, prio, secs "
                                    "FROM incidents WHERE id > :last ORDER BY id",
                                    "cursor = id", MAPPING));
    char err[1024] = "";
    int rc;
    const char *out = poll_stderr(state, err, sizeof err, &rc);
    cr_assert_lt(rc, 0, "the query raises an exception at row 3");
    cr_assert_null(strstr(out, "noisy"), "a notice was written to stderr: %s", out);
    cr_assert(strstr(err, "the server said") && strstr(err, "noisy"),
              "the error should tell the notice: %s", err);
}

#else /* built without libpq */

Test(pg, without_libpq_the_type_says_how_to_get_it)
{
    mock_options o;
    void *state = NULL;
    char err[512] = "";
    const sr_ad_options *opts = MOCK_OPTS(&o, "rms", dir, "conninfo = host=h", "query = SELECT 1",
                                          "metric = m", "entity = e", "value = 1");
    cr_assert_lt(sr_adapter_postgres.open(opts, &state, err, sizeof err), 0);
    cr_assert(strstr(err, "libpq-dev"), "err: %s", err);
}

#endif

/* The text sent to PostgreSQL: names become $n outside strings, quoted
 * names, comments, dollar quotes and casts. */
Test(pg, parameters_are_rewritten_only_in_sql)
{
    mock_options o;
    sr_sql *q = NULL;
    char err[512] = "";
    const sr_ad_options *opts = MOCK_OPTS(
        &o, "rms", dir,
        "query = SELECT id::text AS \":last\", ':last', E'\\':last', $$ :last $$, $t$:x$t$ "
        "FROM t /* :last /* :x */ :last */ WHERE id > :last AND ts > :since_ms "
        "AND id > :last -- :last",
        "cursor = id", "metric = m", "entity = e", "value = 1");
    cr_assert_eq(sr_sql_create(opts, SR_SQL_POSTGRES, &q, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(sr_sql_text(q),
                     "SELECT id::text AS \":last\", ':last', E'\\':last', $$ :last $$, $t$:x$t$ "
                     "FROM t /* :last /* :x */ :last */ WHERE id > $1 AND ts > $2 "
                     "AND id > $1 -- :last");
    cr_assert_eq(sr_sql_param_count(q), 2);
    cr_assert_eq(sr_sql_param(q, 0), SR_SQL_LAST);
    cr_assert_eq(sr_sql_param(q, 1), SR_SQL_SINCE);
    sr_sql_destroy(q);
}
