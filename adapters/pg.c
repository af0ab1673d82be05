/*
 * pg.c - the "postgres" adapter: a parameterized query against PostgreSQL
 * through libpq, each poll reading the rows past a cursor (sql.h), each
 * row mapped to a sample by the shared mapping (map.h).
 *
 *   [adapter.rms]
 *   type          = postgres
 *   conninfo      = host=db.example port=5432 dbname=rms user=sitrep sslmode=verify-full
 *   password_file = /etc/sitrep/rms.pass
 *   query         = SELECT id, opened, unit FROM cases WHERE id > :last ORDER BY id
 *   cursor        = id
 *
 * conninfo is libpq's own (key=value or a postgresql:// URI), passed as it
 * is, so every TLS setting works (sslmode, sslrootcert, sslcert, sslkey,
 * sslcrl); one holding a password is refused: the password comes from
 * sr_map_secret (password_env, password_file), or from libpq's own
 * PGPASSWORD and ~/.pgpass.
 *
 * The connection is made lazily in poll() (a worker thread) and kept; when
 * it breaks, the poll fails and the next one connects anew (the collector
 * backs off failing sources). The connection is non-blocking and every
 * wait is a poll() on its socket with a deadline, so a poll never outlasts
 * its budget: connecting stops at connect_timeout; before each statement
 * the transaction's statement_timeout is set to fit in what is left of the
 * budget, so the server stops a slow statement itself; a server that still
 * has not answered at the deadline (frozen, or the network gone) loses the
 * connection.
 *
 * Each poll is one read-only transaction:
 *   BEGIN READ ONLY; SET LOCAL statement_timeout = N
 *   DECLARE sitrep_rows NO SCROLL CURSOR FOR <query with $1, $2>   (bound)
 *   SET LOCAL statement_timeout = N; FETCH FORWARD 1000 FROM sitrep_rows
 *   ...                                        until done or max_rows
 *   COMMIT
 * so the rows are streamed in batches and a poll that has its max_rows
 * stops without reading the rest. The session runs with TimeZone UTC,
 * DateStyle ISO and exact floats, so times arrive in one form (ISO with an
 * offset, which the map reads) and text cursors of timestamps sort right.
 * Values arrive as text; numeric columns (int2/4/8, oid, float4/8, numeric)
 * make the cursor compare as a number.
 *
 * Nothing of libpq reaches the terminal: a notice the server sends (a
 * WARNING of a function the query calls) is kept by a notice processor and
 * told with the poll's error, never printed; and libpq's own warning of a
 * password file that others may read, which it writes with fprintf(stderr)
 * from inside PQconnectStart (before a notice processor can exist), is
 * forestalled: the file is checked here first, and one libpq would warn of
 * and ignore is kept from libpq, the reason going into the error of a
 * connection that fails.
 *
 * Built without libpq (pkg-config libpq absent), the type still exists so
 * that a config naming it is understood, but open() says how to get it.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapter.h"
#include "map.h"
#include "modules.h"
#include "sql.h"

#ifdef SR_HAVE_LIBPQ
#include <libpq-fe.h>
#endif

#ifdef SR_HAVE_LIBPQ

#define PG_CONNECT_MS 5000
#define PG_FETCH_ROWS 1000
#define PG_ROLLBACK_MS 100 /* for a ROLLBACK after a failure, when the poll has no timeout */
#define PG_CURSOR "sitrep_rows"

/* Type OIDs of pg_type.h (stable across releases). */
#define PG_INT8 20
#define PG_INT2 21
#define PG_INT4 23
#define PG_OID 26
#define PG_FLOAT4 700
#define PG_FLOAT8 701
#define PG_NUMERIC 1700

typedef struct {
    sr_sql *q;
    char *conninfo;
    char *password;       /* NULL: none given here */
    char *declare;        /* DECLARE ... FOR <query> */
    int64_t statement_ms; /* 0 = the poll's budget */
    int64_t connect_ms;
    PGconn *conn;
    int64_t deadline_ms; /* sr_sql_clock_ms() at which a silent server is left */
    int64_t hard_ms;     /* ... and at which the clean-up after a failure stops */
    char notice[256];    /* the server's last notice in this poll, for its error */
} pg_state;

/* libpq's message on one line, without the trailing newline. */
static void pg_message(const char *m, char *out, size_t len)
{
    size_t n = 0;
    for (const char *p = m ? m : ""; *p && n + 1 < len; p++) {
        char c = *p == '\n' || *p == '\t' ? ' ' : *p;
        if (c == ' ' && (n == 0 || out[n - 1] == ' '))
            continue;
        out[n++] = c;
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

static int pg_check_conninfo(const char *conninfo, char *err, size_t errlen)
{
    char *msg = NULL;
    PQconninfoOption *o = PQconninfoParse(conninfo, &msg);
    if (!o) {
        char m[256];
        pg_message(msg ? msg : "out of memory", m, sizeof m);
        snprintf(err, errlen, "conninfo: %s", m);
        PQfreemem(msg);
        return -1;
    }
    int has_password = 0;
    for (PQconninfoOption *p = o; p->keyword; p++)
        if (strcmp(p->keyword, "password") == 0 && p->val && *p->val)
            has_password = 1;
    PQconninfoFree(o);
    if (has_password) {
        snprintf(err, errlen,
                 "conninfo: holds a password; secrets are not written in the config: use "
                 "password_env = VARIABLE or password_file = PATH");
        return -1;
    }
    return 0;
}

static void pg_free(pg_state *st)
{
    if (!st)
        return;
    if (st->conn)
        PQfinish(st->conn);
    sr_sql_destroy(st->q);
    free(st->conninfo);
    if (st->password)
        memset(st->password, 0, strlen(st->password));
    free(st->password);
    free(st->declare);
    free(st);
}

static int pg_duration(const sr_ad_options *opts, const char *key, int64_t *ms, char *err,
                       size_t errlen)
{
    const char *v = sr_ad_opt(opts, key);
    if (v && (sr_sql_duration(v, ms) < 0 || *ms <= 0)) {
        snprintf(err, errlen, "%s: expected a duration such as 500ms, 5s or 1m, got '%s'", key, v);
        return -1;
    }
    return 0;
}

static int pg_open(const sr_ad_options *opts, void **state, char *err, size_t errlen)
{
    const char *conninfo = sr_ad_opt(opts, "conninfo");
    if (!conninfo || !*conninfo) {
        snprintf(err, errlen, "conninfo: required, such as host=127.0.0.1 dbname=x user=y");
        return -1;
    }
    if (pg_check_conninfo(conninfo, err, errlen) < 0)
        return -1;
    pg_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    st->connect_ms = PG_CONNECT_MS;
    if (pg_duration(opts, "statement_timeout", &st->statement_ms, err, errlen) < 0 ||
        pg_duration(opts, "connect_timeout", &st->connect_ms, err, errlen) < 0 ||
        sr_map_secret(opts, "password", &st->password, err, errlen) < 0 ||
        sr_sql_create(opts, SR_SQL_POSTGRES, &st->q, err, errlen) < 0) {
        pg_free(st);
        return -1;
    }
    static const char head[] = "DECLARE " PG_CURSOR " NO SCROLL CURSOR FOR ";
    const char *text = sr_sql_text(st->q);
    st->conninfo = strdup(conninfo);
    st->declare = malloc(sizeof head + strlen(text));
    if (!st->conninfo || !st->declare) {
        snprintf(err, errlen, "out of memory");
        pg_free(st);
        return -1;
    }
    snprintf(st->declare, sizeof head + strlen(text), "%s%s", head, text);
    *state = st;
    return 0;
}

static void pg_drop(pg_state *st)
{
    if (st->conn)
        PQfinish(st->conn);
    st->conn = NULL;
}

/* Waits until the socket can be read (or also written, when write is 1) or
 * the deadline comes. Returns 1 when ready, 0 at the deadline, -1 on an
 * error. */
static int pg_wait(PGconn *c, int write, int64_t deadline_ms)
{
    int fd = PQsocket(c);
    if (fd < 0)
        return -1;
    for (;;) {
        int64_t left = deadline_ms - sr_sql_clock_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = write ? POLLOUT | POLLIN : POLLIN};
        int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

static int pg_command(pg_state *st, const char *sql, char *err, size_t errlen);

/* libpq's notice processor: the notice is kept, never printed. */
static void pg_notice(void *arg, const char *message)
{
    pg_state *st = arg;
    pg_message(message, st->notice, sizeof st->notice);
}

/* The password file libpq would read (fe-connect.c): the conninfo's
 * passfile, else PGPASSFILE, else ~/.pgpass; "" when it reads none. */
static void pg_passfile(const pg_state *st, char *path, size_t len)
{
    path[0] = '\0';
    const char *env = getenv("PGPASSWORD");
    if (st->password || (env && *env))
        return; /* a password is given: libpq reads no file */
    PQconninfoOption *o = PQconninfoParse(st->conninfo, NULL);
    for (PQconninfoOption *p = o; p && p->keyword; p++)
        if (strcmp(p->keyword, "passfile") == 0 && p->val && *p->val)
            snprintf(path, len, "%s", p->val);
    PQconninfoFree(o);
    if (path[0])
        return;
    if ((env = getenv("PGPASSFILE")) && *env) {
        snprintf(path, len, "%s", env);
        return;
    }
    const char *home = getenv("HOME");
    struct passwd pw, *found = NULL;
    char buf[1024];
    if ((!home || !*home) && getpwuid_r(geteuid(), &pw, buf, sizeof buf, &found) == 0 && found)
        home = pw.pw_dir;
    if (home && *home)
        snprintf(path, len, "%s/.pgpass", home);
}

/*
 * Whether libpq would warn of the password file (not a plain file, or open
 * to group or others) on stderr and ignore it: then why says so.
 */
static int pg_passfile_unsafe(const pg_state *st, char *why, size_t len)
{
    char path[PATH_MAX];
    struct stat sb;
    pg_passfile(st, path, sizeof path);
    if (!path[0] || stat(path, &sb) != 0)
        return 0;
    if (!S_ISREG(sb.st_mode))
        snprintf(why, len, "the password file %s is not read: it is not a plain file", path);
    else if (sb.st_mode & (S_IRWXG | S_IRWXO))
        snprintf(why, len,
                 "the password file %s is not read: it has group or world access; permissions "
                 "should be u=rw (0600) or less",
                 path);
    else
        return 0;
    return 1;
}

/* Connects within deadline_ms and sets up the session. */
static int pg_connect(pg_state *st, int64_t deadline_ms, char *err, size_t errlen)
{
    const char *kw[5] = {"dbname", "fallback_application_name", NULL, NULL, NULL};
    const char *val[5] = {st->conninfo, "sitrep", NULL, NULL, NULL};
    size_t k = 2;
    if (st->password) {
        kw[k] = "password";
        val[k++] = st->password;
    }
    char passfile[PATH_MAX + 128] = "";
    if (pg_passfile_unsafe(st, passfile, sizeof passfile)) {
        /* a path that cannot exist (/dev/null is no directory): libpq
         * finds no file and says nothing, as it would have read nothing */
        kw[k] = "passfile";
        val[k++] = "/dev/null/sitrep";
    }
    PGconn *c = PQconnectStartParams(kw, val, 1);
    if (!c) {
        snprintf(err, errlen, "cannot connect: out of memory");
        return -1;
    }
    PQsetNoticeProcessor(c, pg_notice, st);
    PostgresPollingStatusType ps =
        PQstatus(c) == CONNECTION_BAD ? PGRES_POLLING_FAILED : PGRES_POLLING_WRITING;
    while (ps != PGRES_POLLING_OK && ps != PGRES_POLLING_FAILED) {
        int w = pg_wait(c, ps == PGRES_POLLING_WRITING, deadline_ms);
        if (w <= 0) {
            snprintf(err, errlen, "cannot connect: %s",
                     w == 0 ? "no answer within connect_timeout" : strerror(errno));
            PQfinish(c);
            return -1;
        }
        ps = PQconnectPoll(c);
    }
    if (ps == PGRES_POLLING_FAILED) {
        char m[400];
        pg_message(PQerrorMessage(c), m, sizeof m);
        snprintf(err, errlen, "cannot connect: %s%s%s", m, passfile[0] ? "; " : "", passfile);
        PQfinish(c);
        return -1;
    }
    st->conn = c;
    if (PQsetnonblocking(c, 1) != 0) {
        snprintf(err, errlen, "cannot make the connection non-blocking");
        pg_drop(st);
        return -1;
    }
    if (pg_command(st, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET extra_float_digits = 3",
                   err, errlen) < 0) {
        pg_drop(st);
        return -1;
    }
    return 0;
}

static int pg_failed(const PGresult *r)
{
    ExecStatusType s = PQresultStatus(r);
    return s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK;
}

/* The connection gave up on: err says why, and the next poll connects anew. */
static PGresult *pg_lost(pg_state *st, PGresult *keep, const char *why, char *err, size_t errlen)
{
    char m[400];
    pg_message(why, m, sizeof m);
    snprintf(err, errlen, "%s; the connection is dropped", m);
    PQclear(keep);
    pg_drop(st);
    return NULL;
}

/*
 * Runs sql (with n text parameters) and returns its last result, or NULL
 * with err set (the first error). Waits until st->deadline_ms: a server
 * that has not answered by then loses the connection. There is no
 * PQcancel: before libpq 17 it connects without a timeout and could block
 * on a dead network; the server's statement_timeout, always set within the
 * poll's budget, is what stops a slow statement.
 */
static PGresult *pg_exec(pg_state *st, const char *sql, int n, const Oid *types,
                         const char *const *params, char *err, size_t errlen)
{
    PGconn *c = st->conn;
    PGresult *keep = NULL;
    int sent = n ? PQsendQueryParams(c, sql, n, types, params, NULL, NULL, 0) : PQsendQuery(c, sql);
    int flushed = sent ? PQflush(c) : -1;
    while (flushed == 1) {
        int w = pg_wait(c, 1, st->deadline_ms);
        if (w <= 0 || !PQconsumeInput(c))
            return pg_lost(st, NULL,
                           w == 0 ? "the server took no query within the poll's budget"
                                  : PQerrorMessage(c),
                           err, errlen);
        flushed = PQflush(c);
    }
    if (flushed < 0) {
        char m[400];
        pg_message(PQerrorMessage(c), m, sizeof m);
        snprintf(err, errlen, "%s", m);
        return NULL;
    }
    for (;;) {
        while (PQisBusy(c)) {
            int w = pg_wait(c, 0, st->deadline_ms);
            if (w <= 0 || !PQconsumeInput(c))
                return pg_lost(st, keep,
                               w == 0 ? "no answer from the server within the poll's budget"
                                      : PQerrorMessage(c),
                               err, errlen);
        }
        PGresult *r = PQgetResult(c);
        if (!r)
            break;
        if (keep && pg_failed(keep)) {
            PQclear(r);
        } else {
            PQclear(keep);
            keep = r;
        }
    }
    if (!keep || pg_failed(keep)) {
        char m[400];
        pg_message(keep ? PQresultErrorMessage(keep) : PQerrorMessage(c), m, sizeof m);
        snprintf(err, errlen, "%s", m);
        PQclear(keep);
        return NULL;
    }
    return keep;
}

/* Runs a command whose result is not needed. */
static int pg_command(pg_state *st, const char *sql, char *err, size_t errlen)
{
    PGresult *r = pg_exec(st, sql, 0, NULL, NULL, err, errlen);
    PQclear(r);
    return r ? 0 : -1;
}

/* The cell kinds of a result's columns. */
static int pg_kind(Oid type)
{
    switch (type) {
    case PG_INT2:
    case PG_INT4:
    case PG_INT8:
    case PG_OID:
        return SR_SQL_INT;
    case PG_FLOAT4:
    case PG_FLOAT8:
    case PG_NUMERIC:
        return SR_SQL_REAL;
    default:
        return SR_SQL_TEXT;
    }
}

static void pg_cell(sr_sql_cell *c, int kind, const char *text)
{
    char *end;
    *c = (sr_sql_cell){.kind = SR_SQL_TEXT, .text = text};
    errno = 0;
    if (kind == SR_SQL_INT) {
        long long i = strtoll(text, &end, 10);
        if (!*end && errno == 0) {
            c->kind = SR_SQL_INT;
            c->i = i;
            return;
        }
    }
    if (kind != SR_SQL_TEXT) {
        double d = strtod(text, &end);
        if (!*end && errno == 0 && d == d && d - d == 0) {
            c->kind = SR_SQL_REAL;
            c->d = d;
        }
    }
}

/* Binds the columns of the first FETCH: names to the map, types to kinds. */
static int pg_columns(pg_state *st, const PGresult *r, int *kinds, char *err, size_t errlen)
{
    int n = PQnfields(r);
    const char **names = calloc((size_t)n + 1, sizeof *names);
    if (!names) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        names[i] = PQfname(r, i);
        kinds[i] = pg_kind(PQftype(r, i));
    }
    int rc = sr_sql_columns(st->q, names, (size_t)n, err, errlen);
    free(names);
    return rc;
}

/* Hands the rows of one FETCH to the sink. Returns 1 when the poll is
 * full, 0 when more may follow, -1 on an error. */
static int pg_rows(pg_state *st, const PGresult *r, const int *kinds, sr_sink *sink, char *err,
                   size_t errlen)
{
    int n = PQnfields(r), rows = PQntuples(r);
    sr_sql_cell *cells = calloc((size_t)n + 1, sizeof *cells);
    if (!cells) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    for (int row = 0; row < rows && rc == 0; row++) {
        for (int i = 0; i < n; i++) {
            if (PQgetisnull(r, row, i))
                cells[i] = (sr_sql_cell){.kind = SR_SQL_NULL};
            else
                pg_cell(&cells[i], kinds[i], PQgetvalue(r, row, i));
        }
        int m = sr_sql_row(st->q, cells, sink, err, errlen);
        rc = m < 0 ? -1 : m == SR_SQL_FULL;
    }
    free(cells);
    return rc;
}

/*
 * "<before>SET LOCAL statement_timeout = N<; after>" into sql: N is
 * statement_timeout or, when less, nine tenths of what is left of the
 * poll's budget, so that the server stops a statement before the poll
 * gives up on the server.
 */
static void pg_limited(const pg_state *st, const char *before, const char *after, char *sql,
                       size_t len)
{
    int64_t left = (st->deadline_ms - sr_sql_clock_ms()) * 9 / 10;
    int64_t ms = st->statement_ms && st->statement_ms < left ? st->statement_ms : left;
    snprintf(sql, len, "%sSET LOCAL statement_timeout = %lld%s%s", before,
             (long long)(ms > 0 ? ms : 1), after ? "; " : "", after ? after : "");
}

/* The transaction of one poll. */
static int pg_read(pg_state *st, const sr_poll_info *info, sr_sink *sink, char *err, size_t errlen)
{
    char sql[160];
    pg_limited(st, "BEGIN READ ONLY; ", NULL, sql, sizeof sql);
    if (pg_command(st, sql, err, errlen) < 0)
        return -1;

    const sr_sql_cell *last = sr_sql_last(st->q);
    char since[24];
    const char *params[2] = {NULL, NULL};
    Oid types[2] = {0, 0}; /* :last takes the type its context gives it */
    size_t np = sr_sql_param_count(st->q);
    snprintf(since, sizeof since, "%lld", (long long)info->since_ms);
    for (size_t i = 0; i < np; i++) {
        int since_ms = sr_sql_param(st->q, i) == SR_SQL_SINCE;
        params[i] = since_ms ? since : last->text;
        types[i] = since_ms ? PG_INT8 : 0;
    }
    PGresult *r = pg_exec(st, st->declare, (int)np, types, params, err, errlen);
    if (!r)
        return -1;
    PQclear(r);

    char fetch[64];
    snprintf(fetch, sizeof fetch, "FETCH FORWARD %d FROM " PG_CURSOR, PG_FETCH_ROWS);
    int *kinds = NULL, rc = 0;
    for (int first = 1; rc == 0; first = 0) {
        pg_limited(st, "", fetch, sql, sizeof sql);
        if (!(r = pg_exec(st, sql, 0, NULL, NULL, err, errlen))) {
            rc = -1;
            break;
        }
        if (first) {
            kinds = calloc((size_t)PQnfields(r) + 1, sizeof *kinds);
            if (!kinds)
                snprintf(err, errlen, "out of memory");
            if (!kinds || pg_columns(st, r, kinds, err, errlen) < 0)
                rc = -1;
        }
        if (rc == 0)
            rc = pg_rows(st, r, kinds, sink, err, errlen);
        if (rc == 0 && PQntuples(r) < PG_FETCH_ROWS)
            rc = 2; /* the last batch */
        PQclear(r);
    }
    free(kinds);
    if (rc < 0)
        return -1;
    return pg_command(st, "COMMIT", err, errlen);
}

/* After a failed poll: a broken connection is dropped, an open transaction
 * rolled back (or, with no time left for that, the connection dropped), so
 * that the next poll starts clean. */
static void pg_recover(pg_state *st)
{
    if (!st->conn)
        return;
    if (PQstatus(st->conn) != CONNECTION_OK) {
        pg_drop(st);
        return;
    }
    if (PQtransactionStatus(st->conn) != PQTRANS_IDLE) {
        char err[64];
        st->deadline_ms = st->hard_ms;
        if (sr_sql_clock_ms() >= st->hard_ms || pg_command(st, "ROLLBACK", err, sizeof err) < 0)
            pg_drop(st);
    }
}

static int pg_poll(void *state, sr_poll_info *info, sr_sink *sink, char *err, size_t errlen)
{
    pg_state *st = state;
    int64_t start = sr_sql_clock_ms(), budget = sr_sql_budget_ms(info);
    int ok = 0;
    st->deadline_ms = start + budget;
    st->hard_ms = start + (info->timeout_ms > 0 ? info->timeout_ms - info->timeout_ms / 20
                                                : budget + PG_ROLLBACK_MS);
    sr_sql_begin(st->q, info);
    st->notice[0] = '\0';
    if (!st->conn) {
        int64_t limit = st->connect_ms < budget ? st->connect_ms : budget;
        if (pg_connect(st, start + limit, err, errlen) < 0)
            goto out;
    }
    ok = pg_read(st, info, sink, err, errlen) == 0;
out:
    if (!ok && st->notice[0]) {
        size_t n = strlen(err);
        snprintf(err + n, errlen - n, "; the server said: %s", st->notice);
    }
    if (!ok)
        pg_recover(st);
    sr_sql_end(st->q, info, ok);
    return ok ? 0 : -1;
}

static void pg_close(void *state)
{
    pg_free(state);
}

#else /* !SR_HAVE_LIBPQ */

static int pg_open(const sr_ad_options *opts, void **state, char *err, size_t errlen)
{
    (void)opts;
    (void)state;
    snprintf(err, errlen, "%s", sr_pg_missing);
    return -1;
}

static int pg_poll(void *state, sr_poll_info *info, sr_sink *sink, char *err, size_t errlen)
{
    (void)state;
    (void)info;
    (void)sink;
    snprintf(err, errlen, "this sitrep was built without libpq");
    return -1;
}

static void pg_close(void *state)
{
    (void)state;
}

#endif

const sr_adapter sr_adapter_postgres = {
    .abi_version = SR_ADAPTER_ABI,
    .type = "postgres",
    .description = sr_pg_description,
    .options = sr_pg_options,
    .open = pg_open,
    .poll = pg_poll,
    .close = pg_close,
};
