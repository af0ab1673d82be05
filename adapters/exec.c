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

extern char **environ;

#include "exec_int.h"

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
                exec_child_heard(c);
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
    if (exec_child_start(st, &c, err, errlen) < 0) {
        if (st->fmt->stop)
            st->fmt->stop(&r);
        return -1;
    }
    errtext e;
    e.n = 0;
    enum outcome how = run_child(&r, &c, deadline, &e, err, errlen);
    int exited = how == TIMED_OUT && exec_child_heard(&c);
    int status = exec_child_end(&c);
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
        if (!exec_is_dir(path)) {
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
