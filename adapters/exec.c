/*
 * exec.c - the exec adapter (type "exec"): each poll runs a command and
 * reads the samples it writes to stdout.
 *
 * The command is an argv list split from the `command` option by
 * sr_execfmt_words (quotes and backslashes, never a shell). A first word
 * holding a '/' is a path, relative to the config file's directory; a
 * bare name is looked up in PATH. The command runs in `workdir` (default:
 * the config file's directory) with sitrep's environment as it was when
 * the source was opened (see copy_environ), stdin on /dev/null, every
 * other descriptor closed, default signal dispositions and an empty
 * signal mask, in a session (and so a process group) of its own, without
 * a controlling terminal: a command that asks for a password on /dev/tty
 * fails at once instead of waiting for the timeout, and none can read or
 * write the dashboard's terminal.
 *
 * One poll is one run, in the poll's worker thread: the command is
 * started (by a keeper process, below), then poll(2) on the stdout and
 * stderr pipes until both reach EOF and the command has exited, bounded
 * by info->timeout_ms. stdout is handed to
 * the format as it arrives (lines and jsonl split it at '\n'; csv feeds
 * libcsv), so memory stays bounded by the longest line. stderr is kept up
 * to its first ERR_KEEP bytes and otherwise drained, so that a chatty
 * command never blocks.
 *
 * How a run ends (the first that applies):
 *   - the sink refuses a sample or the format meets an error it cannot
 *     read past (a csv header without a mapped field): the command is
 *     killed and that is the error;
 *   - the deadline passes: the command is killed, "timed out after N ms";
 *   - stdout passes max_output: the command is killed at that byte;
 *   - the command exits by itself: the last line, even without a newline,
 *     is read; a non-zero status or death by a signal is the error, with
 *     the start of stderr. stderr of a command that exits 0 is ignored.
 * In every case what was read before is kept (adapter.h: samples emitted
 * before a failure are kept), except the line cut by a kill.
 *
 * No process outlives a run and none is left a zombie, not even one that
 * left the command's session with setsid(1) or daemon(3). Each run has a
 * keeper: a process forked for that run alone, which is a child
 * subreaper (PR_SET_CHILD_SUBREAPER) and the command's parent. Whatever
 * the command starts becomes the keeper's child once its own parent has
 * died, whatever session it is in. When the run ends (exit, timeout,
 * max_output, a refusing sink) sitrep closes its end of a socket pair it
 * shares with the keeper; the keeper then kills the command's process
 * group and every child it has, over and over (each death hands it the
 * dead one's children) until it has none, and exits; sitrep reaps it.
 * The keeper also tells sitrep when the command exited and how, so the
 * rest of the adapter is as with a plain child. Should sitrep die, the
 * socket closes all the same and the keeper cleans up.
 *
 * Why a keeper per run: making sitrep itself the subreaper would hand it
 * the orphans of every exec source at once, and of the commands that
 * libuv starts (alerts), with no way to tell whose they are while another
 * source's worker is running; a cgroup needs a delegated hierarchy that a
 * non-root collector seldom has. The keeper needs nothing but Linux >= 3.4
 * and /proc (where it finds its children by their parent pid); without
 * /proc it still kills the command's group, and leaves the rest. It is a
 * fork of a threaded process, so until it exits it makes only
 * async-signal-safe calls. Every descriptor is O_CLOEXEC, and the keeper
 * closes all but its own at once, so runs of other threads inherit none
 * of ours.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "adapter.h"
#include "csvrows.h"
#include "execfmt.h"
#include "jsonrow.h"
#include "map.h"

extern char **environ;

#define MAX_OUTPUT_DEFAULT (16u << 20)
#define MAX_OUTPUT_LIMIT (1u << 30)
#define ERR_KEEP 4096 /* bytes of stderr kept for the error message */
#define RAW_MAX 4096  /* longest raw text of a reject, "..." included */
#define READ_CHUNK 65536

typedef struct exec_run exec_run;

/* A stdout format: how the bytes of one run become samples. */
typedef struct {
    const char *name;
    int uses_map; /* the mapping keys apply (and metric, entity, value are required) */
    /* Before the command starts; may be NULL. */
    int (*start)(exec_run *r, char *err, size_t errlen);
    /* Reads n more bytes; negative = stop the run (err says why). */
    int (*feed)(exec_run *r, const char *buf, size_t n, char *err, size_t errlen);
    /* The command ended by itself: reads what is still pending. */
    int (*finish)(exec_run *r, char *err, size_t errlen);
    /* After every run; may be NULL. */
    void (*stop)(exec_run *r);
    /* For the line formats: one line (NUL at len, writable); where = "line N". */
    int (*line)(exec_run *r, char *line, size_t len, const char *where, char *err, size_t errlen);
} exec_format;

typedef struct {
    char **argv;   /* the command's words; argv[0] may point to program */
    char *program; /* argv[0] resolved against the config directory, or NULL */
    char *label;   /* argv[0] as written, for messages */
    char *workdir; /* NULL: sitrep's own */
    char **envp;   /* sitrep's environment when the source was opened (one block) */
    const exec_format *fmt;
    size_t max_output; /* bytes of stdout per run */
    char max_text[32]; /* max_output as written, for messages */
    sr_map *map;       /* csv, jsonl */
    char delim;        /* csv */
    const sr_ad_host *host;
    char *tz; /* lines: zone of times without an offset */
} exec_state;

struct exec_run {
    const exec_state *st;
    sr_sink *sink;
    int64_t now_ms;
    long lineno;
    char *line; /* the line being read (line formats) */
    size_t len, cap;
    sr_csvrows *csv;   /* csv */
    const char **vals; /* jsonl: one per map field */
    char *jbuf;        /* jsonl: the text of values that are not strings */
    size_t jcap;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- line formats ---- */

static int lines_feed(exec_run *r, const char *buf, size_t n, char *err, size_t errlen)
{
    while (n > 0) {
        const char *nl = memchr(buf, '\n', n);
        size_t k = nl ? (size_t)(nl - buf) : n;
        if (r->len + k + 1 > r->cap) {
            size_t cap = r->cap ? r->cap : 256;
            while (cap < r->len + k + 1)
                cap *= 2;
            char *p = realloc(r->line, cap);
            if (!p) {
                sr_map_errf(err, errlen, "out of memory for a line of %zu bytes", r->len + k);
                return -1;
            }
            r->line = p;
            r->cap = cap;
        }
        memcpy(r->line + r->len, buf, k);
        r->len += k;
        r->line[r->len] = '\0';
        if (!nl)
            break;
        char where[32];
        snprintf(where, sizeof where, "line %ld", ++r->lineno);
        size_t len = r->len;
        r->len = 0;
        if (r->st->fmt->line(r, r->line, len, where, err, errlen) < 0)
            return -1;
        buf += k + 1;
        n -= k + 1;
    }
    return 0;
}

static int lines_finish(exec_run *r, char *err, size_t errlen)
{
    if (r->len == 0)
        return 0;
    return lines_feed(r, "\n", 1, err, errlen);
}

static void lines_stop(exec_run *r)
{
    free(r->line);
    r->line = NULL;
    r->len = r->cap = 0;
}

/* A raw text for a reject: the line, cut to RAW_MAX - 1 bytes with "...". */
static const char *raw_text(const char *line, size_t len, char *buf)
{
    if (len < RAW_MAX)
        return line;
    memcpy(buf, line, RAW_MAX - 4);
    memcpy(buf + RAW_MAX - 4, "...", 4);
    return buf;
}

static int refused(char *err, size_t errlen, const char *where)
{
    sr_map_errf(err, errlen,
                "the collector took no more samples (stopped at %s); the command was stopped",
                where);
    return -1;
}

static int lines_line(exec_run *r, char *line, size_t len, const char *where, char *err,
                      size_t errlen)
{
    sr_ad_sample s;
    char why[160];
    int rc = sr_execfmt_line(line, len, r->st->host, r->st->tz, r->now_ms, &s, why, sizeof why);
    if (rc == 0)
        return 0;
    if (rc < 0) {
        char raw[RAW_MAX];
        if (r->sink->reject(r->sink, where, raw_text(line, len, raw), why) < 0)
            return refused(err, errlen, where);
        return 0;
    }
    if (r->sink->emit(r->sink, &s) < 0)
        return refused(err, errlen, where);
    return 0;
}

/* ---- format = jsonl ---- */

static int jsonl_start(exec_run *r, char *err, size_t errlen)
{
    r->vals = calloc(sr_map_field_count(r->st->map) + 1, sizeof *r->vals);
    if (!r->vals) {
        sr_map_errf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int jsonl_line(exec_run *r, char *line, size_t len, const char *where, char *err,
                      size_t errlen)
{
    size_t i = 0;
    while (i < len && isspace((unsigned char)line[i]))
        i++;
    if (i == len)
        return 0;
    const sr_map *m = r->st->map;
    char why[200], raw[RAW_MAX];
    const char *rawtext = raw_text(line, len, raw);
    json_error_t je;
    json_t *obj = json_loadb(line, len, 0, &je);
    int rc;
    if (!obj) {
        snprintf(why, sizeof why, "not JSON: %s (column %d)", je.text, je.column);
        rc = r->sink->reject(r->sink, where, rawtext, why);
    } else {
        /* Numbers, booleans and nested values as text: never longer than
         * the line, except a number written shorter (1e5), by a few bytes. */
        size_t need = len + 32 * sr_map_field_count(m) + 64;
        if (need > r->jcap) {
            char *p = realloc(r->jbuf, need);
            if (!p) {
                json_decref(obj);
                sr_map_errf(err, errlen, "out of memory for a line of %zu bytes", len);
                return -1;
            }
            r->jbuf = p;
            r->jcap = need;
        }
        if (sr_jsonrow_values(m, obj, r->jbuf, r->jcap, r->vals, why, sizeof why) == 0)
            rc = sr_map_row(m, r->vals, r->now_ms, where, rawtext, r->sink);
        else
            rc = r->sink->reject(r->sink, where, rawtext, why);
        json_decref(obj);
    }
    return rc < 0 ? refused(err, errlen, where) : 0;
}

static void jsonl_stop(exec_run *r)
{
    lines_stop(r);
    free(r->vals);
    free(r->jbuf);
    r->vals = NULL;
    r->jbuf = NULL;
    r->jcap = 0;
}

/* ---- format = csv ---- */

static int csv_start(exec_run *r, char *err, size_t errlen)
{
    return sr_csvrows_create(r->st->map, r->st->delim, &r->csv, err, errlen);
}

static int csv_result(exec_run *r, int rc, char *err, size_t errlen)
{
    if (rc == SR_CSVROWS_EHEADER || rc >= 0)
        return rc;
    sr_csvrows_stats stats;
    sr_csvrows_stats_get(r->csv, &stats);
    char where[40];
    snprintf(where, sizeof where, "line %llu", (unsigned long long)stats.lines);
    return refused(err, errlen, where);
}

static int csv_feed(exec_run *r, const char *buf, size_t n, char *err, size_t errlen)
{
    return csv_result(r, sr_csvrows_feed(r->csv, buf, n, r->now_ms, r->sink, err, errlen), err,
                      errlen);
}

static int csv_finish(exec_run *r, char *err, size_t errlen)
{
    return csv_result(r, sr_csvrows_finish(r->csv, r->now_ms, r->sink, err, errlen), err, errlen);
}

static void csv_stop(exec_run *r)
{
    sr_csvrows_destroy(r->csv);
    r->csv = NULL;
}

static const exec_format formats[] = {
    {.name = "lines",
     .feed = lines_feed,
     .finish = lines_finish,
     .stop = lines_stop,
     .line = lines_line},
    {.name = "csv",
     .uses_map = 1,
     .start = csv_start,
     .feed = csv_feed,
     .finish = csv_finish,
     .stop = csv_stop},
    {.name = "jsonl",
     .uses_map = 1,
     .start = jsonl_start,
     .feed = lines_feed,
     .finish = lines_finish,
     .stop = jsonl_stop,
     .line = jsonl_line},
};

/* ---- the child process ---- */

/*
 * A run is two processes: the keeper, forked by the poll's thread, and
 * the command, forked by the keeper. The keeper is a child subreaper
 * (PR_SET_CHILD_SUBREAPER), so whatever the command leaves behind, even
 * in a session of its own (setsid), becomes the keeper's child when its
 * parent dies, and the keeper can find it: by its parent pid in /proc.
 * When sitrep closes its end of the control socket (the run is over, or
 * sitrep died), the keeper kills the command's group, then, until none is
 * left, every child it has, reaping each; then it exits, and sitrep reaps
 * it. So when a poll returns, nothing it started is alive, and the
 * collector itself never becomes the reaper of anyone's orphans.
 *
 * The keeper is a fork of a threaded process: until it exits it makes
 * only async-signal-safe calls (system calls on its own stack; no malloc,
 * no stdio, no locks), on what the poll prepared before the fork (plan).
 */

/* What the keeper tells sitrep over the control socket. */
enum { MSG_STARTED, MSG_NO_DIR, MSG_NO_EXEC, MSG_EXITED };

typedef struct {
    int32_t what; /* MSG_* */
    int32_t val;  /* errno, or the command's wait status */
} keeper_msg;

/* Everything the keeper needs, made before the fork. */
typedef struct {
    char *const *argv;
    char *const *envp;
    char **paths; /* where argv[0] may be, in order (NULL-terminated) */
    const char *workdir;
    int out, err, ctl; /* the ends the keeper keeps: stdout, stderr, control */
    int max_fd;        /* the highest descriptor to close when close_range fails */
} keeper_plan;

typedef struct {
    pid_t pid;    /* the keeper */
    int out, err; /* read ends of stdout and stderr; -1 once at EOF */
    int ctl;      /* our end of the control socket; -1 once closed */
    int exited;   /* 1 once the keeper said the command ended */
    int status;   /* then its wait status */
} child;

/* fd moved above 2 (a pipe end there would be overwritten by the dup2s). */
static int lift_fd(int fd)
{
    if (fd > 2)
        return fd;
    int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return nfd;
}

static void close_pair(int p[2])
{
    if (p[0] >= 0)
        close(p[0]);
    if (p[1] >= 0)
        close(p[1]);
}

static int lift_pair(int p[2])
{
    p[0] = lift_fd(p[0]);
    p[1] = lift_fd(p[1]);
    if (p[0] < 0 || p[1] < 0) {
        close_pair(p);
        return -1;
    }
    return 0;
}

static int open_pipe(int p[2])
{
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    return lift_pair(p);
}

static int is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/*
 * Where argv[0] may be: itself when it holds a '/', otherwise each
 * directory of the PATH the command gets (as execvp, an empty entry is
 * the working directory; no PATH: /bin:/usr/bin). One block; NULL when
 * out of memory.
 */
static char **program_paths(const exec_state *st)
{
    const char *name = st->argv[0];
    const char *path = "/bin:/usr/bin";
    if (strchr(name, '/'))
        path = NULL;
    else
        for (char **e = st->envp; *e; e++)
            if (strncmp(*e, "PATH=", 5) == 0)
                path = *e + 5;
    size_t n = 1, bytes = strlen(name) + 1;
    for (const char *p = path; p; p = strchr(p + 1, ':'))
        n++;
    bytes = path ? (strlen(path) + n * (strlen(name) + 3)) : bytes;
    char **v = malloc((n + 1) * sizeof *v + bytes);
    if (!v)
        return NULL;
    char *o = (char *)(v + n + 1);
    size_t k = 0;
    if (!path)
        v[k++] = strcpy(o, name);
    for (const char *p = path; p;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        v[k++] = o;
        o += sprintf(o, "%.*s/%s", (int)(len ? len : 1), len ? p : ".", name) + 1;
        p = end ? end + 1 : NULL;
    }
    v[k] = NULL;
    return v;
}

/* Closes the descriptors from lo to hi. */
static void close_range_of(int lo, int hi, int max_fd)
{
    if (lo > hi)
        return;
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)lo, (unsigned)hi, 0u) == 0)
        return;
#endif
    for (int fd = lo; fd <= hi && fd <= max_fd; fd++)
        close(fd);
}

static void keeper_send(int ctl, int what, int val)
{
    keeper_msg m = {what, val};
    while (send(ctl, &m, sizeof m, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

/* The command, in the keeper's child: never returns. */
static _Noreturn void command_exec(const keeper_plan *p, int report)
{
    int msg[2] = {MSG_NO_DIR, 0};
    sigset_t none;
    sigemptyset(&none);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(SIGCHLD, &dfl, NULL);
    setsid();
    if (dup2(p->out, 1) < 0 || dup2(p->err, 2) < 0 || (p->workdir && chdir(p->workdir) < 0))
        goto fail;
    sigprocmask(SIG_SETMASK, &none, NULL);
    msg[0] = MSG_NO_EXEC;
    int why = ENOENT;
    for (char **path = p->paths; *path; path++) {
        execve(*path, p->argv, p->envp);
        /* as execvp: go on past a missing or unsearchable candidate */
        if (errno == EACCES)
            why = EACCES;
        else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE && errno != ELOOP &&
                 errno != ENAMETOOLONG) {
            why = errno;
            break;
        }
    }
    errno = why;
fail:
    msg[1] = errno;
    (void)!write(report, msg, sizeof msg);
    _exit(127);
}

/*
 * Kills every child of this process whose pid /proc shows (the group of
 * the command first, should /proc be unreadable). Returns how many it
 * found, or -1 when /proc cannot be read.
 */
static int kill_children(pid_t self)
{
    int dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return -1;
    int found = 0;
    char buf[4096];
    long n;
    while ((n = syscall(SYS_getdents64, dir, buf, sizeof buf)) > 0) {
        for (long off = 0; off < n;) {
            /* struct linux_dirent64: ino, off, reclen, type, name */
            unsigned short reclen;
            memcpy(&reclen, buf + off + 16, sizeof reclen);
            const char *name = buf + off + 19;
            off += reclen;
            pid_t pid = 0;
            const char *c = name;
            for (; *c >= '0' && *c <= '9' && pid < 100000000; c++)
                pid = pid * 10 + (*c - '0');
            if (*c || pid <= 0 || pid == self)
                continue;
            char path[32], stat[512];
            int len = 0;
            for (c = name; *c; c++)
                path[len++] = *c;
            memcpy(path + len, "/stat", 6);
            int fd = openat(dir, path, O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                continue;
            ssize_t got = read(fd, stat, sizeof stat - 1);
            close(fd);
            if (got <= 0)
                continue;
            stat[got] = '\0';
            /* "pid (comm) S ppid ...": comm may hold ')', so the last one */
            char *r = NULL;
            for (char *q = stat; *q; q++)
                if (*q == ')')
                    r = q;
            if (!r || r[1] != ' ' || !r[2] || r[3] != ' ')
                continue;
            pid_t ppid = 0;
            for (c = r + 4; *c >= '0' && *c <= '9'; c++)
                ppid = ppid * 10 + (*c - '0');
            if (ppid == self) {
                kill(pid, SIGKILL);
                found++;
            }
        }
    }
    close(dir);
    return n < 0 ? -1 : found;
}

/* fork() without the atfork handlers, which need not be safe here. */
static pid_t keeper_fork(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return _Fork();
#else
    return fork();
#endif
}

static void keeper_on_child(int sig)
{
    (void)sig;
}

/* The keeper, in the poll thread's child: never returns. */
static _Noreturn void keeper(const keeper_plan *p)
{
    /* Only the three ends of the plan stay open (with O_CLOEXEC), and
     * /dev/null on 0, 1 and 2. Signals stay blocked (sitrep blocked them
     * all before the fork) but while waiting for SIGCHLD: nothing but
     * SIGKILL stops the keeper before the command's leftovers are dead. */
    int lo = p->out < p->err ? p->out : p->err, hi = p->out < p->err ? p->err : p->out;
    int mid = p->ctl;
    if (mid < lo) {
        mid = lo;
        lo = p->ctl;
    } else if (mid > hi) {
        mid = hi;
        hi = p->ctl;
    }
    close_range_of(3, lo - 1, p->max_fd);
    close_range_of(lo + 1, mid - 1, p->max_fd);
    close_range_of(mid + 1, hi - 1, p->max_fd);
    close_range_of(hi + 1, INT_MAX, p->max_fd);
    int null = open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3 && null >= 0; fd++)
        if (null != fd)
            dup2(null, fd);
    if (null > 2)
        close(null);
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        sigaction(sig, &dfl, NULL);
    }
    struct sigaction on_child = {.sa_handler = keeper_on_child, .sa_flags = SA_NOCLDSTOP};
    sigaction(SIGCHLD, &on_child, NULL);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    setpgid(0, 0); /* out of sitrep's group: a Ctrl-C there is not for us */

    int report[2];
    if (pipe2(report, O_CLOEXEC) < 0) {
        keeper_send(p->ctl, MSG_NO_EXEC, errno);
        _exit(1);
    }
    pid_t self = getpid(), cmd = keeper_fork();
    int cmd_reaped = cmd < 0;
    if (cmd == 0)
        command_exec(p, report[1]);
    int why = errno;
    close(report[1]);
    close(p->out);
    close(p->err);
    int msg[2] = {MSG_STARTED, 0};
    if (cmd < 0) {
        msg[0] = MSG_NO_EXEC;
        msg[1] = why;
    } else
        while (read(report[0], msg, sizeof msg) < 0 && errno == EINTR)
            ;
    close(report[0]);
    keeper_send(p->ctl, msg[0], msg[1]);

    /* Until sitrep closes the socket: reap, and say when the command ends. */
    sigset_t wait_mask;
    sigfillset(&wait_mask);
    sigdelset(&wait_mask, SIGCHLD);
    for (;;) {
        int status;
        pid_t got;
        while ((got = waitpid(-1, &status, WNOHANG)) > 0)
            if (got == cmd) {
                cmd_reaped = 1;
                keeper_send(p->ctl, MSG_EXITED, status);
            }
        struct pollfd pf = {.fd = p->ctl, .events = POLLIN};
        if (ppoll(&pf, 1, NULL, &wait_mask) > 0)
            break;
    }
    /* Then kill what is left, until this process has no child. A child
     * dies only once killed, and its orphans are then ours: they are
     * found by the next pass. */
    if (!cmd_reaped) /* its pid names its group, and is still ours */
        kill(-cmd, SIGKILL);
    for (;;) {
        int found = kill_children(self);
        pid_t got = waitpid(-1, NULL, found > 0 ? 0 : WNOHANG);
        if (got > 0 || (got < 0 && errno == EINTR))
            continue;
        break; /* none left, or none that /proc shows us */
    }
    _exit(0);
}

static int child_end(child *c);

static int child_start(const exec_state *st, child *c, char *err, size_t errlen)
{
    char ebuf[128];
    if (st->workdir && !is_dir(st->workdir)) {
        sr_map_errf(err, errlen, "workdir %s is not a directory", st->workdir);
        return -1;
    }
    int po[2] = {-1, -1}, pe[2] = {-1, -1}, pc[2] = {-1, -1};
    char **paths = program_paths(st);
    if (!paths) {
        sr_map_errf(err, errlen, "out of memory");
        return -1;
    }
    if (open_pipe(po) < 0 || open_pipe(pe) < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pc) < 0 || lift_pair(pc) < 0) {
        sr_map_errf(err, errlen, "cannot create a pipe: %s", strerror_r(errno, ebuf, sizeof ebuf));
        close_pair(po);
        close_pair(pe);
        free(paths);
        return -1;
    }
    long max_fd = sysconf(_SC_OPEN_MAX);
    keeper_plan plan = {.argv = st->argv,
                        .envp = st->envp,
                        .paths = paths,
                        .workdir = st->workdir,
                        .out = po[1],
                        .err = pe[1],
                        .ctl = pc[1],
                        .max_fd = max_fd > 0 && max_fd < INT_MAX ? (int)max_fd : 65536};
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = fork();
    if (pid == 0)
        keeper(&plan);
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    free(paths);
    close(po[1]);
    close(pe[1]);
    close(pc[1]);
    *c = (child){.pid = pid, .out = po[0], .err = pe[0], .ctl = pc[0]};
    if (pid < 0) {
        close(po[0]);
        close(pe[0]);
        close(pc[0]);
        sr_map_errf(err, errlen, "cannot run '%.60s': %s", st->label,
                    strerror_r(fork_errno, ebuf, sizeof ebuf));
        return -1;
    }
    keeper_msg m = {MSG_NO_EXEC, ECHILD};
    ssize_t got;
    while ((got = recv(c->ctl, &m, sizeof m, MSG_WAITALL)) < 0 && errno == EINTR)
        ;
    if (got == sizeof m && m.what == MSG_STARTED)
        return 0;
    child_end(c);
    int rc = m.val;
    if (m.what == MSG_NO_DIR)
        sr_map_errf(err, errlen, "cannot run '%.60s' in %s: %s", st->label,
                    st->workdir ? st->workdir : "its directory", strerror_r(rc, ebuf, sizeof ebuf));
    else if (rc == ENOENT && !strchr(st->argv[0], '/'))
        sr_map_errf(err, errlen, "cannot run '%.60s': no such program in PATH", st->label);
    else if (rc == ENOEXEC)
        sr_map_errf(err, errlen,
                    "cannot run '%.60s': not an executable (a script needs a #! line, or write "
                    "command = /bin/sh SCRIPT)",
                    st->label);
    else
        sr_map_errf(err, errlen, "cannot run '%.60s': %s", st->label,
                    strerror_r(rc, ebuf, sizeof ebuf));
    return -1;
}

/* Reads what the keeper says; 1 once the command has ended. */
static int child_heard(child *c)
{
    keeper_msg m;
    ssize_t got = recv(c->ctl, &m, sizeof m, MSG_DONTWAIT | MSG_WAITALL);
    if (got == sizeof m && m.what == MSG_EXITED) {
        c->exited = 1;
        c->status = m.val;
    } else if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
        c->exited = 1; /* the keeper is gone: the status is lost */
        c->status = -1;
    }
    return c->exited;
}

/*
 * Ends the run: closes the pipes and the control socket, upon which the
 * keeper kills what is left of the command, then waits for the keeper.
 * Returns the command's wait status, or -1 when it was not had.
 */
static int child_end(child *c)
{
    if (c->out >= 0)
        close(c->out);
    if (c->err >= 0)
        close(c->err);
    if (c->ctl >= 0)
        close(c->ctl);
    c->out = c->err = c->ctl = -1;
    pid_t got;
    do {
        got = waitpid(c->pid, NULL, 0);
    } while (got < 0 && errno == EINTR);
    return c->exited ? c->status : -1;
}

/* ---- one run ---- */

enum outcome { RAN, TIMED_OUT, TOO_MUCH, STOPPED, FAILED };

typedef struct {
    char text[ERR_KEEP];
    size_t n;
} errtext;

/* Milliseconds left until deadline (0 = none): -1 for no limit. */
static int wait_ms(int64_t deadline, int cap)
{
    if (deadline == 0)
        return cap;
    int64_t left = deadline - mono_ms();
    if (left <= 0)
        return 0;
    if (cap >= 0 && left > cap)
        return cap;
    return left > INT_MAX ? INT_MAX : (int)left;
}

/*
 * Reads the child's stdout into the format and its stderr into e until
 * both are at EOF and the child has exited, or until the run must stop.
 */
static enum outcome run_child(exec_run *r, child *c, int64_t deadline, errtext *e, char *err,
                              size_t errlen)
{
    const exec_state *st = r->st;
    size_t out_bytes = 0;
    char buf[READ_CHUNK];
    for (;;) {
        if (c->out < 0 && c->err < 0 && c->exited)
            return RAN;
        struct pollfd pf[3];
        nfds_t n = 0;
        if (c->out >= 0)
            pf[n++] = (struct pollfd){.fd = c->out, .events = POLLIN};
        if (c->err >= 0)
            pf[n++] = (struct pollfd){.fd = c->err, .events = POLLIN};
        if (!c->exited)
            pf[n++] = (struct pollfd){.fd = c->ctl, .events = POLLIN};
        int w = wait_ms(deadline, -1);
        if (w == 0)
            return TIMED_OUT;
        int k = poll(pf, n, w);
        if (k < 0 && errno != EINTR) {
            char ebuf[128];
            sr_map_errf(err, errlen, "poll failed: %s", strerror_r(errno, ebuf, sizeof ebuf));
            return FAILED;
        }
        for (nfds_t i = 0; k > 0 && i < n; i++) {
            if (!pf[i].revents)
                continue;
            int fd = pf[i].fd;
            if (fd == c->ctl) {
                child_heard(c);
                continue;
            }
            ssize_t got = read(fd, buf, sizeof buf);
            if (got < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (got <= 0) {
                close(fd);
                if (fd == c->out)
                    c->out = -1;
                else
                    c->err = -1;
                continue;
            }
            if (fd == c->err) {
                size_t keep = sizeof e->text - e->n;
                keep = (size_t)got < keep ? (size_t)got : keep;
                memcpy(e->text + e->n, buf, keep);
                e->n += keep;
                continue;
            }
            size_t take = (size_t)got, room = st->max_output - out_bytes;
            if (take > room)
                take = room;
            out_bytes += take;
            if (take > 0 && st->fmt->feed(r, buf, take, err, errlen) < 0)
                return STOPPED;
            if (take < (size_t)got)
                return TOO_MUCH;
        }
    }
}

/* How the command ended, and the start of its stderr, as the poll's error. */
static void describe_status(const exec_state *st, int status, const errtext *e, char *err,
                            size_t errlen)
{
    char what[128], why[160];
    if (status < 0)
        snprintf(what, sizeof what, "'%.60s' ended, but its exit status was lost", st->label);
    else if (WIFSIGNALED(status)) {
        const char *abbrev = sigabbrev_np(WTERMSIG(status));
        snprintf(what, sizeof what, "'%.60s' was killed by signal %d%s%s%s", st->label,
                 WTERMSIG(status), abbrev ? " (SIG" : "", abbrev ? abbrev : "", abbrev ? ")" : "");
    } else
        snprintf(what, sizeof what, "'%.60s' exited with status %d", st->label,
                 WEXITSTATUS(status));
    if (sr_execfmt_stderr(e->text, e->n, why, sizeof why) > 0)
        sr_map_errf(err, errlen, "%s: %s", what, why);
    else
        sr_map_errf(err, errlen, "%s (nothing on stderr)", what);
}

static int exec_poll(void *state, sr_poll_info *info, sr_sink *sink, char *err, size_t errlen)
{
    exec_state *st = state;
    info->more = 0;
    info->cursor_ms = 0;
    int64_t deadline = info->timeout_ms > 0 ? mono_ms() + info->timeout_ms : 0;
    exec_run r = {.st = st, .sink = sink, .now_ms = info->now_ms};
    if (st->fmt->start && st->fmt->start(&r, err, errlen) < 0)
        return -1;
    child c;
    if (child_start(st, &c, err, errlen) < 0) {
        if (st->fmt->stop)
            st->fmt->stop(&r);
        return -1;
    }
    errtext e;
    e.n = 0;
    enum outcome how = run_child(&r, &c, deadline, &e, err, errlen);
    int exited = how == TIMED_OUT && child_heard(&c);
    int status = child_end(&c);
    int rc = 0;
    switch (how) {
    case RAN:
        rc = st->fmt->finish(&r, err, errlen);
        if (status != 0) {
            describe_status(st, status, &e, err, errlen);
            rc = -1;
        }
        break;
    case TIMED_OUT:
        sr_map_errf(err, errlen, "timed out after %lld ms; the command was killed%s",
                    (long long)info->timeout_ms,
                    exited ? " (it had exited, but something it started kept its output open)"
                           : "");
        rc = -1;
        break;
    case TOO_MUCH:
        sr_map_errf(err, errlen,
                    "the command wrote more than max_output = %s to stdout; it was stopped there "
                    "(what came before was read)",
                    st->max_text);
        rc = -1;
        break;
    case STOPPED:
    case FAILED:
        rc = -1;
        break;
    }
    if (st->fmt->stop)
        st->fmt->stop(&r);
    return rc;
}

/* ---- options ---- */

/* "16M", "512K", "1G", "4096" (bytes; K, M, G are powers of 1024; a B or
 * iB after them is allowed). */
static int parse_size(const char *text, size_t *out)
{
    const char *p = text;
    while (*p == ' ')
        p++;
    if (*p < '0' || *p > '9')
        return -1;
    unsigned long long v = 0;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (unsigned)(*p++ - '0');
        if (v > MAX_OUTPUT_LIMIT)
            return -1;
    }
    while (*p == ' ')
        p++;
    unsigned long long unit = 1;
    if (*p == 'k' || *p == 'K')
        unit = 1024;
    else if (*p == 'm' || *p == 'M')
        unit = 1024 * 1024;
    else if (*p == 'g' || *p == 'G')
        unit = 1024 * 1024 * 1024;
    if (unit > 1) {
        p++;
        if (*p == 'i')
            p++;
    }
    if (*p == 'B' || *p == 'b')
        p++;
    while (*p == ' ')
        p++;
    if (*p || v == 0 || v * unit > MAX_OUTPUT_LIMIT)
        return -1;
    *out = (size_t)(v * unit);
    return 0;
}

static char *dup_text(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

/*
 * A copy of environ in one block. The command gets this copy, not environ
 * itself: other threads replace TZ in environ for a moment to convert
 * local times (metrics/common.c), and a command started then would run in
 * that source's zone.
 */
static char **copy_environ(void)
{
    size_t n = 0, bytes = 0;
    for (char **e = environ; e && *e; e++, n++)
        bytes += strlen(*e) + 1;
    char **v = malloc((n + 1) * sizeof *v + bytes);
    if (!v)
        return NULL;
    char *o = (char *)(v + n + 1);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(environ[i]) + 1;
        v[i] = memcpy(o, environ[i], len);
        o += len;
    }
    v[n] = NULL;
    return v;
}

static void exec_close(void *state)
{
    exec_state *st = state;
    if (!st)
        return;
    sr_map_destroy(st->map);
    free(st->argv);
    free(st->program);
    free(st->label);
    free(st->workdir);
    free(st->envp);
    free(st->tz);
    free(st);
}

/* The mapping keys, by name. */
static const sr_ad_option_spec map_keys[] = {SR_MAP_OPTION_SPECS, {NULL, 0, NULL}};

/* With format = lines, the mapping keys (but timezone) have nothing to map;
 * the mapped formats' required keys are checked by sr_map_create(). */
static int check_map_keys(const sr_ad_options *opts, const exec_format *fmt, char *err,
                          size_t errlen)
{
    if (fmt->uses_map)
        return 0;
    for (const sr_ad_option_spec *k = map_keys; k->key; k++) {
        if (sr_ad_opt(opts, k->key) && strcmp(k->key, "timezone") != 0) {
            sr_map_errf(
                err, errlen,
                "%s: applies to format = csv or jsonl; with format = %s each line names its "
                "metric, entity, value and time",
                k->key, fmt->name);
            return -1;
        }
    }
    return 0;
}

static int exec_open(const sr_ad_options *opts, void **state, char *err, size_t errlen)
{
    const char *command = sr_ad_opt(opts, "command"), *v;
    if (!command || !*command) {
        sr_map_errf(err, errlen, "command: missing; the program to run and its arguments");
        return -1;
    }
    const exec_format *fmt = &formats[0];
    if ((v = sr_ad_opt(opts, "format"))) {
        fmt = NULL;
        for (size_t i = 0; i < sizeof formats / sizeof formats[0] && !fmt; i++) {
            if (strcmp(formats[i].name, v) == 0)
                fmt = &formats[i];
        }
        if (!fmt) {
            sr_map_errf(err, errlen, "format: expected lines, csv or jsonl, got '%.60s'", v);
            return -1;
        }
    }
    size_t max_output = MAX_OUTPUT_DEFAULT;
    const char *max_text = sr_ad_opt(opts, "max_output");
    if (max_text && parse_size(max_text, &max_output) < 0) {
        sr_map_errf(err, errlen,
                    "max_output: expected a size such as 512K or 16M (at most 1G), got '%.60s'",
                    max_text);
        return -1;
    }
    if (check_map_keys(opts, fmt, err, errlen) < 0)
        return -1;
    char delim = ',';
    if ((v = sr_ad_opt(opts, "delimiter"))) {
        if (strcmp(fmt->name, "csv") != 0) {
            sr_map_errf(err, errlen, "delimiter: applies to format = csv only");
            return -1;
        }
        if (strcmp(v, "tab") == 0 || strcmp(v, "\\t") == 0)
            delim = '\t';
        else if (strlen(v) == 1 && v[0] != '"' && v[0] != '\r' && v[0] != '\n')
            delim = v[0];
        else {
            sr_map_errf(err, errlen, "delimiter: expected one character or tab, got '%.20s'", v);
            return -1;
        }
    }
    const char *tz = sr_ad_opt(opts, "timezone");
    if (!tz || !*tz)
        tz = opts->timezone ? opts->timezone : "";
    if (!fmt->uses_map && opts->host && opts->host->tz_valid && !opts->host->tz_valid(tz)) {
        sr_map_errf(err, errlen, "timezone: '%.60s' is not a time zone this machine knows", tz);
        return -1;
    }

    exec_state *st = calloc(1, sizeof *st);
    if (!st) {
        sr_map_errf(err, errlen, "out of memory");
        return -1;
    }
    st->fmt = fmt;
    st->delim = delim;
    st->max_output = max_output;
    snprintf(st->max_text, sizeof st->max_text, "%.30s", max_text ? max_text : "16M");
    st->host = opts->host;
    size_t argc;
    char path[PATH_MAX], werr[200];
    if (sr_execfmt_words(command, &st->argv, &argc, werr, sizeof werr) < 0) {
        sr_map_errf(err, errlen, "command: %s", werr);
        exec_close(st);
        return -1;
    }
    st->label = dup_text(st->argv[0]);
    st->tz = dup_text(tz);
    st->envp = copy_environ();
    if (!st->label || !st->tz || !st->envp)
        goto oom;
    if (strchr(st->argv[0], '/')) {
        if (sr_map_path(opts, st->argv[0], path, sizeof path) < 0) {
            sr_map_errf(err, errlen, "command: the path '%.60s' is too long", st->argv[0]);
            exec_close(st);
            return -1;
        }
        if (!(st->program = dup_text(path)))
            goto oom;
        st->argv[0] = st->program;
    }
    const char *wd = sr_ad_opt(opts, "workdir");
    if (wd) {
        if (sr_map_path(opts, wd, path, sizeof path) < 0) {
            sr_map_errf(err, errlen, "workdir: the path is too long");
            exec_close(st);
            return -1;
        }
        if (!is_dir(path)) {
            sr_map_errf(err, errlen, "workdir: %.200s is not a directory", path);
            exec_close(st);
            return -1;
        }
        wd = path;
    } else {
        wd = opts->config_dir;
    }
    if (wd && !(st->workdir = dup_text(wd)))
        goto oom;
    if (fmt->uses_map && sr_map_create(opts, &st->map, err, errlen) < 0) {
        exec_close(st);
        return -1;
    }
    *state = st;
    return 0;
oom:
    sr_map_errf(err, errlen, "out of memory");
    exec_close(st);
    return -1;
}

static const sr_ad_option_spec exec_options[] = {
    {"command", 1,
     "the program and its arguments as words, run without a shell: 'single' and \"double\" "
     "quotes, \\ escapes; a path relative to the config file's directory, or a name in PATH"},
    {"format", 0,
     "what the command writes: lines (METRIC ENTITY VALUE [TIME] per line; default), csv (a "
     "header, then rows) or jsonl (one JSON object per line); csv and jsonl need metric, "
     "entity and value"},
    {"max_output", 0,
     "the most a run may write to stdout, such as 512K or 16M (default 16M, at most 1G); "
     "beyond it the command is stopped and the source fails"},
    {"delimiter", 0, "csv only: the field separator, one character or tab (default ,)"},
    {"workdir", 0, "the directory the command runs in (default: the config file's directory)"},
    SR_MAP_OPTION_SPECS_REQ(0),
    {NULL, 0, NULL},
};

const sr_adapter sr_adapter_exec = {
    .abi_version = SR_ADAPTER_ABI,
    .type = "exec",
    .description = "runs a command each poll and reads the samples it writes to stdout",
    .options = exec_options,
    .open = exec_open,
    .poll = exec_poll,
    .close = exec_close,
};
