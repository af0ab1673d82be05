/*
 * pg_server.h - a real PostgreSQL server that a test starts for itself.
 *
 * pgs_start() copies a fresh cluster into a new directory under /tmp and
 * starts postgres on 127.0.0.1 at a free port (found by binding port 0),
 * with its unix socket in the same directory. The cluster is made by
 * initdb once, into /tmp/sitrep-pgtemplate-* (under a lock, then renamed
 * into place, so parallel tests and later runs share it): initdb costs a
 * second or more, a copy a tenth of that. The superuser `sitrep` may connect
 * without a password (trust); the role `reader` (made by the test) must
 * give one (scram-sha-256) over TCP. Run as root, initdb and postgres run as
 * the unprivileged user nobody, which owns the directory (postgres refuses
 * to run as root). The server is our child with a parent-death signal, so
 * a test process that dies takes it along; pgs_destroy() stops it and
 * removes the directory (call it from the suite's .fini).
 *
 * The server binaries are found in $SITREP_PG_BINDIR, else the newest
 * /usr/lib/postgresql/N/bin (Debian's place, not on PATH), else
 * `pg_config --bindir`, else PATH. Header-only; needs libpq.
 */
#ifndef SR_TEST_PG_SERVER_H
#define SR_TEST_PG_SERVER_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

typedef struct {
    char dir[64]; /* the server's directory: data/, *.log, the socket */
    char bindir[256];
    int port;
    pid_t pid; /* the postmaster; 0 = not running */
    int drop;  /* run the server as uid:gid */
    uid_t uid;
    gid_t gid;
} pgs_server;

static inline int pgs_exists(const char *bindir, const char *prog)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", bindir, prog);
    return access(p, X_OK) == 0;
}

static inline void pgs_find_bindir(char *out, size_t len)
{
    const char *env = getenv("SITREP_PG_BINDIR");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        cr_assert(pgs_exists(out, "initdb") && pgs_exists(out, "postgres"),
                  "SITREP_PG_BINDIR=%s holds no initdb and postgres", env);
        return;
    }
    glob_t g;
    double best = -1;
    out[0] = '\0';
    if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            double v = atof(g.gl_pathv[i] + strlen("/usr/lib/postgresql/"));
            if (v > best) {
                best = v;
                snprintf(out, len, "%.*s", (int)(strlen(g.gl_pathv[i]) - strlen("/initdb")),
                         g.gl_pathv[i]);
            }
        }
        globfree(&g);
    }
    if (out[0])
        return;
    FILE *f = popen("pg_config --bindir 2>/dev/null", "r");
    if (f) {
        if (fgets(out, (int)len, f))
            out[strcspn(out, "\n")] = '\0';
        pclose(f);
        if (out[0] && pgs_exists(out, "initdb"))
            return;
    }
    const char *path = getenv("PATH");
    for (const char *p = path ? path : ""; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(out, len, "%.*s", (int)n, p);
        if (n && pgs_exists(out, "initdb"))
            return;
        p += n + (p[n] == ':');
    }
    cr_assert_fail("no PostgreSQL server binaries (initdb, postgres) found: apt-get install "
                   "postgresql (make test does), or set SITREP_PG_BINDIR");
}

/* The last part of a log file, for a failure message. */
static inline const char *pgs_log_tail(const pgs_server *s, const char *name)
{
    static char buf[1600];
    char path[128];
    snprintf(path, sizeof path, "%s/%s", s->dir, name);
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return "(no log)";
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0, SEEK_SET);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Starts argv[0] as the server's user, output appended to log. */
static inline pid_t pgs_spawn(const pgs_server *s, char *const argv[], const char *log)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", s->dir, log);
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int in = open("/dev/null", O_RDONLY);
        if (fd < 0 || in < 0 || dup2(in, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(126);
        if (s->drop && (setgroups(0, NULL) != 0 || setgid(s->gid) != 0 || setuid(s->uid) != 0))
            _exit(126);
        prctl(PR_SET_PDEATHSIG, SIGQUIT); /* after setuid, which clears it */
        execv(argv[0], argv);
        dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

/* Waits up to ms for pid to exit; returns its status, or -1 if it runs on. */
static inline int pgs_wait_exit(pid_t pid, int64_t ms)
{
    th_deadline d = th_deadline_in(ms);
    d.step_ms = 10;
    int status;
    do {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0)
            return 0;
    } while (th_poll(&d));
    return -1;
}

static inline int pgs_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
                  getsockname(fd, (struct sockaddr *)&a, &len) == 0,
              "cannot find a free port: %s", strerror(errno));
    close(fd);
    return ntohs(a.sin_port);
}

/* A conninfo reaching the server through its unix socket as the superuser. */
static inline void pgs_admin_conninfo(const pgs_server *s, char *buf, size_t len)
{
    snprintf(buf, len, "host=%s port=%d dbname=postgres user=sitrep connect_timeout=5", s->dir,
             s->port);
}

/* A conninfo over TCP for user (no password in it). */
static inline void pgs_conninfo(const pgs_server *s, const char *user, char *buf, size_t len)
{
    snprintf(buf, len, "host=127.0.0.1 port=%d dbname=postgres user=%s", s->port, user);
}

/* Starts postgres on s->port; returns 0 once it accepts connections, or -1
 * when it exited (a port taken meanwhile). Fails the test on a timeout. */
static inline int pgs_launch(pgs_server *s)
{
    char bin[300], data[96], port[16], conninfo[256];
    snprintf(bin, sizeof bin, "%s/postgres", s->bindir);
    snprintf(data, sizeof data, "%s/data", s->dir);
    snprintf(port, sizeof port, "%d", s->port);
    char *argv[] = {bin,
                    "-D",
                    data,
                    "-p",
                    port,
                    "-k",
                    s->dir,
                    "-h",
                    "127.0.0.1",
                    "-c",
                    "fsync=off",
                    "-c",
                    "max_connections=20",
                    "-c",
                    "shared_buffers=16MB",
                    "-c",
                    "log_min_messages=warning",
                    NULL};
    s->pid = pgs_spawn(s, argv, "postgres.log");
    pgs_admin_conninfo(s, conninfo, sizeof conninfo);
    th_deadline d = th_deadline_in(20000);
    d.step_ms = 10;
    do {
        if (PQping(conninfo) == PQPING_OK)
            return 0;
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            return -1;
        }
    } while (th_poll(&d));
    cr_assert_fail("postgres did not accept connections within 20 s:\n%s",
                   pgs_log_tail(s, "postgres.log"));
    return -1;
}

/* Runs argv as the server's user and fails the test unless it succeeds. */
static inline void pgs_run(const pgs_server *s, char *const argv[], const char *log)
{
    int status = pgs_wait_exit(pgs_spawn(s, argv, log), 120000);
    cr_assert(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s failed:\n%s",
              argv[0], pgs_log_tail(s, log));
}

/* The cluster every test copies, made by initdb on first use; its name
 * tells the server binaries and their user apart. */
static inline void pgs_template(const pgs_server *s, char *out, size_t len)
{
    unsigned long h = 5381;
    for (const char *p = s->bindir; *p; p++)
        h = h * 33 + (unsigned char)*p;
    snprintf(out, len, "/tmp/sitrep-pgtemplate-%lx-%u", h,
             (unsigned)(s->drop ? s->uid : geteuid()));
    if (access(out, F_OK) == 0)
        return;
    char lock[300], tmp[300], initdb[300];
    snprintf(lock, sizeof lock, "%s.lock", out);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    cr_assert(fd >= 0 && flock(fd, LOCK_EX) == 0, "lock %s: %s", lock, strerror(errno));
    if (access(out, F_OK) != 0) {
        snprintf(tmp, sizeof tmp, "%s.tmp-%ld", out, (long)getpid());
        snprintf(initdb, sizeof initdb, "%s/initdb", s->bindir);
        cr_assert_eq(mkdir(tmp, 0700), 0, "mkdir %s: %s", tmp, strerror(errno));
        if (s->drop)
            cr_assert_eq(chown(tmp, s->uid, s->gid), 0, "chown %s: %s", tmp, strerror(errno));
        char *argv[] = {initdb,  "-D", tmp,    "-U",         "sitrep", "-A",
                        "trust", "-E", "UTF8", "--locale=C", "-N",     "--no-instructions",
                        NULL};
        pgs_run(s, argv, "initdb.log");
        cr_assert_eq(rename(tmp, out), 0, "rename %s: %s", tmp, strerror(errno));
    }
    close(fd);
}

static inline void pgs_start(pgs_server *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/sitrep-pg-XXXXXX");
    cr_assert_not_null(mkdtemp(s->dir), "mkdtemp: %s", strerror(errno));
    pgs_find_bindir(s->bindir, sizeof s->bindir);
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("nobody");
        cr_assert_not_null(pw, "running as root, and there is no user nobody to run postgres as");
        s->drop = 1;
        s->uid = pw->pw_uid;
        s->gid = pw->pw_gid;
        cr_assert_eq(chown(s->dir, s->uid, s->gid), 0, "chown %s: %s", s->dir, strerror(errno));
    }
    char template[256], data[96];
    pgs_template(s, template, sizeof template);
    snprintf(data, sizeof data, "%s/data", s->dir);
    char *cp[] = {"/bin/cp", "-a", template, data, NULL};
    pgs_run(s, cp, "cp.log");

    char hba[128];
    snprintf(hba, sizeof hba, "%s/pg_hba.conf", data);
    th_write_file(hba, "local all all trust\n"
                       "host all reader 127.0.0.1/32 scram-sha-256\n"
                       "host all all 127.0.0.1/32 trust\n");
    for (int attempt = 0; attempt < 3; attempt++) {
        s->port = pgs_free_port();
        if (pgs_launch(s) == 0)
            return;
    }
    cr_assert_fail("postgres would not start from a copy of %s (remove it to have it made "
                   "again):\n%s",
                   template, pgs_log_tail(s, "postgres.log"));
}

/* Stops the server (a fast shutdown); its data stays for pgs_restart. */
static inline void pgs_stop(pgs_server *s)
{
    if (!s->pid)
        return;
    kill(s->pid, SIGINT);
    if (pgs_wait_exit(s->pid, 20000) < 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
}

/* Starts a stopped server again on the same port. */
static inline void pgs_restart(pgs_server *s)
{
    cr_assert_eq(s->pid, 0);
    cr_assert_eq(pgs_launch(s), 0, "postgres did not start again on port %d:\n%s", s->port,
                 pgs_log_tail(s, "postgres.log"));
}

static inline void pgs_destroy(pgs_server *s)
{
    pgs_stop(s);
    if (s->dir[0] && strncmp(s->dir, "/tmp/sitrep-pg-", 15) == 0)
        th_rmtree(s->dir);
    s->dir[0] = '\0';
}

/* Runs SQL as the superuser; fails the test on an error. Returns the first
 * column of the first row as a number (0 when there is none). */
static inline long long pgs_exec(const pgs_server *s, const char *sql)
{
    char conninfo[256];
    pgs_admin_conninfo(s, conninfo, sizeof conninfo);
    PGconn *c = PQconnectdb(conninfo);
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "connect: %s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    cr_assert(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "%s: %s", sql,
              PQresultErrorMessage(r));
    long long v = st == PGRES_TUPLES_OK && PQntuples(r) > 0 ? atoll(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    PQfinish(c);
    return v;
}

#endif
