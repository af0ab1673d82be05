/*
 * http_server.h - a real HTTP server for tests, on 127.0.0.1 (test-only;
 * header-only like helpers.h).
 *
 * th_http_start() forks a child that binds port 0 on 127.0.0.1, tells the
 * parent the port through a pipe, and serves one connection after the
 * other (a test makes one request at a time; a request that hangs ends
 * when its client gives up): it reads the request head, finds the route by
 * the path (the query ignored) and answers with Connection: close. Routes
 * are given by the test: a status and a body, or a behaviour (hang until
 * the client goes, a large body, an echo of the request as JSON, a bearer
 * token to insist on); a route may also ask for a query parameter (a page
 * of a paged result: "$offset=2"), the first route that fits answering.
 * Unknown paths get 404. th_http_start_at() listens on another loopback
 * address (127.0.0.2: another host to the client) and may append every
 * request head it reads to a file, for tests of what reached it. The
 * server has no children
 * and keeps none of the test's descriptors; it dies with the test process
 * (PR_SET_PDEATHSIG) or at th_http_stop().
 *
 * th_tls_start() runs `openssl s_server -WWW` on a fresh self-signed
 * certificate for 127.0.0.1, serving the files of a directory over https,
 * for tests of certificate verification; th_tls_start_as(..., "-HTTP")
 * serves files that each hold a whole response (status line and headers
 * included), for an https server that redirects.
 */
#ifndef SR_TEST_HTTP_SERVER_H
#define SR_TEST_HTTP_SERVER_H

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum {
    TH_HTTP_HANG = 1,     /* send nothing; wait until the client closes (at most 10 s) */
    TH_HTTP_BIG = 2,      /* body: a JSON array of `size` bytes */
    TH_HTTP_NOLENGTH = 4, /* no Content-Length: the body ends when the connection does */
    TH_HTTP_ECHO = 8,     /* body: [{"target": ..., "headers": {name: value}, "head": ...}] */
};

typedef struct {
    const char *path;   /* the request path, without the query */
    int status;         /* 0 = 200 */
    const char *body;   /* NULL = "" */
    int flags;          /* TH_HTTP_* */
    size_t size;        /* TH_HTTP_BIG: body bytes */
    const char *header; /* extra header lines, each ending in \r\n ("Location: /a\r\n") */
    const char *auth;   /* when set, an Authorization header equal to it, else 401 */
    const char *query;  /* when set, a parameter the query must hold, "name=value" */
} th_http_route;

typedef struct {
    pid_t pid;
    int port;
    FILE *out; /* th_tls_start: the server's stdout, open while it runs */
} th_http_server;

static inline void th_http_die_with_parent(pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(0);
}

static inline void th_http_send(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Reads the request head into buf (NUL-terminated). Returns its length, or
 * -1 when the client sent none within 5 s. */
static inline ssize_t th_http_read_head(int fd, char *buf, size_t len)
{
    size_t n = 0;
    while (n + 1 < len) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0)
            return -1;
        ssize_t r = recv(fd, buf + n, len - 1 - n, 0);
        if (r <= 0)
            return -1;
        n += (size_t)r;
        buf[n] = '\0';
        if (buf[0] < 'A' || buf[0] > 'Z')
            return -1; /* not HTTP (a TLS hello): close at once */
        if (strstr(buf, "\r\n\r\n"))
            return (ssize_t)n;
    }
    return (ssize_t)n;
}

/* The value of header name in a request head (copied into out), or NULL. */
static inline const char *th_http_header(const char *head, const char *name, char *out, size_t len)
{
    size_t n = strlen(name);
    for (const char *l = strstr(head, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n")) {
        const char *s = l + 2;
        if (strncasecmp(s, name, n) == 0 && s[n] == ':') {
            s += n + 1;
            while (*s == ' ')
                s++;
            size_t v = strcspn(s, "\r\n");
            snprintf(out, len, "%.*s", (int)v, s);
            return out;
        }
    }
    return NULL;
}

/* Appends s to out as a JSON string. */
static inline size_t th_http_json_str(char *out, size_t o, size_t len, const char *s, size_t n)
{
    if (o + 1 < len)
        out[o++] = '"';
    for (size_t i = 0; i < n && o + 8 < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            o += (size_t)snprintf(out + o, len - o, "\\%c", c);
        else if (c < 0x20)
            o += (size_t)snprintf(out + o, len - o, "\\u%04x", c);
        else
            out[o++] = (char)c;
    }
    if (o + 1 < len)
        out[o++] = '"';
    out[o < len ? o : len - 1] = '\0';
    return o;
}

/* The request as JSON: [{"target": "/x?a=1", "headers": {"accept": "..."}, "head":
 * the request head as sent}], header names in lower case. */
static inline void th_http_echo(const char *head, char *out, size_t len)
{
    const char *t = strchr(head, ' ');
    t = t ? t + 1 : head;
    size_t o = (size_t)snprintf(out, len, "[{\"target\": ");
    o = th_http_json_str(out, o, len, t, strcspn(t, " \r\n"));
    o += (size_t)snprintf(out + o, len - o, ", \"headers\": {");
    int first = 1;
    for (const char *l = strstr(head, "\r\n"); l && l[2] != '\r' && l[2];
         l = strstr(l + 2, "\r\n")) {
        const char *s = l + 2, *colon = strchr(s, ':');
        size_t end = strcspn(s, "\r\n");
        if (!colon || (size_t)(colon - s) > end)
            continue;
        char name[64];
        size_t n = (size_t)(colon - s) < sizeof name - 1 ? (size_t)(colon - s) : sizeof name - 1;
        for (size_t i = 0; i < n; i++)
            name[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        o += (size_t)snprintf(out + o, len - o, "%s", first ? "" : ", ");
        o = th_http_json_str(out, o, len, name, n);
        o += (size_t)snprintf(out + o, len - o, ": ");
        o = th_http_json_str(out, o, len, v, (size_t)(s + end - v));
        first = 0;
    }
    o += (size_t)snprintf(out + o, len - o, "}, \"head\": ");
    o = th_http_json_str(out, o, len, head, strlen(head));
    snprintf(out + o, len - o, "}]");
}

/* 1 when the query of target t (up to a blank) holds the parameter param whole. */
static inline int th_http_has_param(const char *t, const char *param)
{
    size_t n = strlen(param), end = strcspn(t, " \r\n");
    const char *q = memchr(t, '?', end);
    for (const char *p = q; p && p < t + end; p = memchr(p + 1, '&', (size_t)(t + end - p - 1))) {
        if ((size_t)(t + end - (p + 1)) >= n && strncmp(p + 1, param, n) == 0 &&
            (p + 1 + n == t + end || p[1 + n] == '&'))
            return 1;
    }
    return 0;
}

/* Appends the request head to the file log (when set). */
static inline void th_http_log(const char *log, const char *head)
{
    if (!log)
        return;
    int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (write(fd, head, strlen(head)) < 0) {
        /* the test sees what is missing */
    }
    close(fd);
}

static inline void th_http_serve(int fd, const th_http_route *routes, size_t n, const char *log)
{
    char head[16384], buf[32768], hdr[2048], auth[512];
    if (th_http_read_head(fd, head, sizeof head) < 0)
        return;
    th_http_log(log, head);
    const char *t = strchr(head, ' ');
    t = t ? t + 1 : head;
    size_t plen = strcspn(t, "? \r\n");
    const th_http_route *r = NULL;
    for (size_t i = 0; i < n && !r; i++) {
        if (strlen(routes[i].path) == plen && strncmp(routes[i].path, t, plen) == 0 &&
            (!routes[i].query || th_http_has_param(t, routes[i].query)))
            r = &routes[i];
    }
    int status = r ? (r->status ? r->status : 200) : 404;
    const char *body = r && r->body ? r->body : r ? "" : "no such path\n";
    const char *extra = r && r->header ? r->header : "";
    size_t blen = strlen(body);
    if (r && r->auth &&
        (!th_http_header(head, "Authorization", auth, sizeof auth) || strcmp(auth, r->auth) != 0)) {
        status = 401;
        body = "{\"error\": \"unauthorized\"}";
        blen = strlen(body);
    } else if (r && (r->flags & TH_HTTP_HANG)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, 10000);
        return;
    } else if (r && (r->flags & TH_HTTP_ECHO)) {
        th_http_echo(head, buf, sizeof buf);
        body = buf;
        blen = strlen(buf);
    } else if (r && (r->flags & TH_HTTP_BIG)) {
        blen = r->size;
    }
    int h = snprintf(hdr, sizeof hdr, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%s",
                     status, extra);
    if (!(r && (r->flags & TH_HTTP_NOLENGTH)))
        h += snprintf(hdr + h, sizeof hdr - (size_t)h, "Content-Length: %zu\r\n", blen);
    h += snprintf(hdr + h, sizeof hdr - (size_t)h, "Connection: close\r\n\r\n");
    th_http_send(fd, hdr, (size_t)h);
    if (r && (r->flags & TH_HTTP_BIG) && status != 401) {
        /* [1,1,...,1]: valid JSON of exactly blen bytes (blen >= 3) */
        memset(buf, '1', sizeof buf);
        for (size_t i = 1; i < sizeof buf; i += 2)
            buf[i] = ',';
        size_t m2 = (blen - 3) / 2 * 2;
        th_http_send(fd, "[ ", blen - 3 - m2 ? 2 : 1);
        for (size_t k; m2 > 0; m2 -= k) {
            k = m2 < sizeof buf ? m2 : sizeof buf;
            th_http_send(fd, buf, k);
        }
        th_http_send(fd, "1]", 2);
    } else {
        th_http_send(fd, body, blen);
    }
    shutdown(fd, SHUT_WR);
    /* let the client read to the end before the socket goes */
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, 2000) > 0 && recv(fd, buf, sizeof buf, 0) > 0)
        ;
}

/* Forks a child that dies with this process, holds no descriptor of it
 * but pfd[1], and writes there what the parent reads from pfd[0]. Returns
 * as fork() does. */
static inline pid_t th_http_fork(int pfd[2])
{
    cr_assert_eq(pipe(pfd), 0);
    pid_t parent = getpid();
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        th_http_die_with_parent(parent);
        /* keep none of the test process's descriptors (criterion's own among them) */
        for (int fd = 3; fd < 1024; fd++) {
            if (fd != pfd[1])
                close(fd);
        }
    } else {
        close(pfd[1]);
    }
    return pid;
}

/* Starts the server on addr ("127.0.0.2"), appending each request head to
 * the file log when it is set; routes are copied by the fork (the child
 * sees them). */
static inline void th_http_start_at(th_http_server *s, const char *addr, const char *log,
                                    const th_http_route *routes, size_t n)
{
    int pfd[2];
    pid_t pid = th_http_fork(pfd);
    if (pid == 0) {
        int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1, port = -1;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
        socklen_t alen = sizeof a;
        if (inet_pton(AF_INET, addr, &a.sin_addr) != 1)
            _exit(1);
        setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ls >= 0 && bind(ls, (struct sockaddr *)&a, sizeof a) == 0 && listen(ls, 16) == 0 &&
            getsockname(ls, (struct sockaddr *)&a, &alen) == 0)
            port = ntohs(a.sin_port);
        if (write(pfd[1], &port, sizeof port) != sizeof port || port < 0)
            _exit(1);
        close(pfd[1]);
        for (;;) {
            int fd = accept(ls, NULL, NULL);
            if (fd < 0)
                continue;
            th_http_serve(fd, routes, n, log);
            close(fd);
        }
    }
    s->pid = pid;
    s->port = -1;
    s->out = NULL;
    cr_assert_eq(read(pfd[0], &s->port, sizeof s->port), (ssize_t)sizeof s->port,
                 "the test server did not start");
    close(pfd[0]);
    cr_assert_gt(s->port, 0, "the test server could not bind %s", addr);
}

/* Starts the server on 127.0.0.1. */
static inline void th_http_start(th_http_server *s, const th_http_route *routes, size_t n)
{
    th_http_start_at(s, "127.0.0.1", NULL, routes, n);
}

static inline void th_http_stop(th_http_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
    if (s->out) {
        fclose(s->out);
        s->out = NULL;
    }
}

/* url of path on the server. */
static inline void th_http_url(const th_http_server *s, const char *path, char *buf, size_t len)
{
    snprintf(buf, len, "http://127.0.0.1:%d%s", s->port, path);
}

/*
 * Serves the files of dir over https on 127.0.0.1 with a fresh self-signed
 * certificate, written to dir/cert.pem (the CA a client must trust). mode
 * is s_server's: "-WWW" (a file is the body of a 200) or "-HTTP" (a file
 * is the whole response, its status line and headers ending in \r\n).
 * Returns 0, or -1 when openssl is not installed (the test should skip).
 */
static inline int th_tls_start_as(th_http_server *s, const char *dir, const char *mode)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout key.pem -out cert.pem -days 2 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
             dir);
    if (system(cmd) != 0)
        return -1;
    int pfd[2];
    pid_t pid = th_http_fork(pfd);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(pfd[1], 1);
        dup2(null, 2);
        close(pfd[1]);
        if (chdir(dir) != 0)
            _exit(127);
        execlp("openssl", "openssl", "s_server", "-accept", "127.0.0.1:0", mode, "-cert",
               "cert.pem", "-key", "key.pem", (char *)NULL);
        _exit(127);
    }
    s->pid = pid;
    s->port = -1;
    /* it prints "ACCEPT 127.0.0.1:PORT" once listening */
    s->out = fdopen(pfd[0], "r");
    char line[256];
    while (s->port < 0 && fgets(line, sizeof line, s->out)) {
        const char *c = strncmp(line, "ACCEPT ", 7) == 0 ? strrchr(line, ':') : NULL;
        if (c)
            s->port = atoi(c + 1);
    }
    cr_assert_gt(s->port, 0, "openssl s_server did not start");
    return 0;
}

/* th_tls_start_as(s, dir, "-WWW"): the files of dir as bodies. */
static inline int th_tls_start(th_http_server *s, const char *dir)
{
    return th_tls_start_as(s, dir, "-WWW");
}

#endif
