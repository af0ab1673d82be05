/*
 * execchild.c - the exec adapter's child processes: the keeper (a child
 * subreaper forked for each run) and the command it runs, and what sitrep
 * hears of them over the control socket (exec_int.h).
 */
#include "exec_int.h"

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

int exec_is_dir(const char *path)
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

int exec_child_start(const exec_state *st, child *c, char *err, size_t errlen)
{
    char ebuf[128];
    if (st->workdir && !exec_is_dir(st->workdir)) {
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
    exec_child_end(c);
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
int exec_child_heard(child *c)
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
int exec_child_end(child *c)
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
