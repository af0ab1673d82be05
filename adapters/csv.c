/*
 * csv.c - the csv adapter (type "csv"): follows a CSV file as it grows,
 * like `tail -F`, and maps each row with the shared mapping (map.h)
 * through csvrows (csvrows.h).
 *
 * The file stays open between polls; the state remembers its device,
 * inode, how many bytes were handed to the row reader and the last of
 * those bytes, so each poll reads only what was appended. A poll first
 * checks the file it follows: smaller than what was read, or with other
 * bytes before that offset than were read there (rewritten in place, as
 * `export > file.csv` does, even when it is longer now): it is read again
 * from the start, as a new stream with its own header. At the end of
 * what it could read, a poll looks at the path again:
 *   - another file (rotation) or none (removed): the old file, already
 *     read to its end, is kept open as "old" and drained on every poll
 *     until it has not changed for `settle` (a writer may still append to
 *     it after the rename); the new file is read from its start, with its
 *     own header; no file at all is the source's error until one appears.
 *
 * A last row without a line end is mapped once the file has not been
 * modified (by its mtime) for `settle`: an export written in one go gets
 * its last row as soon as it is that old, a row still being written does
 * not. If the file grows afterwards, a line end that closes that row is
 * only its end (sr_csvrows_flush), anything else starts a new row (which
 * is then most likely rejected, with its line).
 *
 * Rows reach the cache only when the poll's batch is committed. Each
 * successful poll hands out a cursor_ms of its own (now_ms, made strictly
 * increasing) and the next poll checks that its since_ms is that cursor:
 * when it is not (the batch was not written), or when the last poll
 * stopped at a refusal of the sink or at a header the map cannot use,
 * every open file is read again from its start (the store is idempotent
 * by key, so this costs duplicates, never lost rows). A rotated file is
 * closed only once the poll that finished it is known to be committed.
 * After a restart the file is read from the start too (the offset is not
 * persisted).
 *
 * Work per poll is bounded: at most CSV_POLL_BYTES, and half the poll's
 * timeout; a poll that stops early sets info->more.
 */
#include "adapter.h"
#include "csvrows.h"
#include "map.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CSV_READ_BYTES (64 * 1024)       /* one read() */
#define CSV_POLL_BYTES (4 * 1024 * 1024) /* at most this much per poll */
#define CSV_SETTLE_MS 5000               /* default `settle` */
#define CSV_MARK_BYTES 64                /* bytes before the offset checked each poll */

/* Failures of the file itself, not of the rows read from it. */
#define CSV_ENOFILE (-200)
#define CSV_EREAD (-201)

/* One file being read: the current one, or a rotated one being drained. */
typedef struct {
    int fd; /* -1 = none */
    dev_t dev;
    ino_t ino;
    off_t off;                 /* bytes handed to rows */
    char mark[CSV_MARK_BYTES]; /* the last bytes before off, as read */
    size_t mark_len;
    sr_csvrows *rows; /* its own stream: BOM, header, line numbers */
    int done;         /* rotated away, read to its end and finished */
} csv_file;

typedef struct {
    char path[4096];
    char delim;
    int64_t settle_ms;
    sr_map *map;
    csv_file cur, old;
    int64_t cursor_ms;      /* handed out by the last poll if it succeeded, else 0 */
    int64_t last_cursor_ms; /* the last one ever handed out */
    int reread;             /* the last poll stopped at a refusal: read all again */
    char check[CSV_MARK_BYTES];
    char buf[CSV_READ_BYTES];
} csv_state;

/* What one poll may still do. */
typedef struct {
    const sr_poll_info *info;
    sr_sink *sink;
    char *err;
    size_t errlen;
    size_t bytes_left;
    int timed;                /* the poll has a deadline */
    struct timespec deadline; /* CLOCK_MONOTONIC */
    int stopped;              /* budget spent: more to read at once */
} csv_pass;

static const sr_ad_option_spec csv_options[] = {
    {"path", 1, "the CSV file, followed as it grows (relative to the config file's directory)"},
    {"delimiter", 0,
     "the field separator: one character, or tab (also \\t), comma, semicolon, pipe "
     "(default ,)"},
    {"settle", 0,
     "a last row without a line end is read once the file has not changed for this long; "
     "also how long a rotated file is still followed (default 5s)"},
    SR_MAP_OPTION_SPECS,
    {NULL, 0, NULL},
};

/* ---- options ---- */

static int csv_parse_delim(const char *text, char *out)
{
    static const struct {
        const char *word;
        char c;
    } words[] = {{"tab", '\t'}, {"\\t", '\t'}, {"comma", ','}, {"semicolon", ';'}, {"pipe", '|'}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strcmp(text, words[i].word) == 0) {
            *out = words[i].c;
            return 0;
        }
    }
    unsigned char c = (unsigned char)text[0];
    if (!c || text[1] || c == '"' || c == '\r' || c == '\n' || c >= 0x80)
        return -1;
    *out = (char)c;
    return 0;
}

/* A duration: a whole number and one unit (ms, s, m, h), or 0. */
static int csv_parse_settle(const char *text, int64_t *out_ms)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"", 0}};
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end == text || text[0] == '-' || text[0] == '+' || errno || v > 24LL * 3600000)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].unit) == 0 && (units[i].ms || v == 0)) {
            *out_ms = v * units[i].ms;
            return 0;
        }
    }
    return -1;
}

static void csv_file_init(csv_file *f)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
}

static void csv_file_close(csv_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    sr_csvrows_destroy(f->rows);
    csv_file_init(f);
}

static void csv_close(void *state)
{
    csv_state *st = state;
    if (!st)
        return;
    csv_file_close(&st->cur);
    csv_file_close(&st->old);
    sr_map_destroy(st->map);
    free(st);
}

static int csv_open(const sr_ad_options *opts, void **state, char *err, size_t errlen)
{
    const char *path = sr_ad_opt(opts, "path"), *v;
    char delim = ',';
    int64_t settle_ms = CSV_SETTLE_MS;
    if (!path || !*path) {
        snprintf(err, errlen, "path: expected the CSV file to read (relative to the config file)");
        return -1;
    }
    if ((v = sr_ad_opt(opts, "delimiter")) && csv_parse_delim(v, &delim)) {
        snprintf(err, errlen,
                 "delimiter: expected one character, tab, comma, semicolon or pipe, got '%.40s'",
                 v);
        return -1;
    }
    if ((v = sr_ad_opt(opts, "settle")) && csv_parse_settle(v, &settle_ms)) {
        snprintf(err, errlen,
                 "settle: expected a duration such as 5s, 500ms or 2m (at most 24h), got '%.40s'",
                 v);
        return -1;
    }
    csv_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    csv_file_init(&st->cur);
    csv_file_init(&st->old);
    st->delim = delim;
    st->settle_ms = settle_ms;
    if (sr_map_path(opts, path, st->path, sizeof st->path)) {
        snprintf(err, errlen, "path: too long: '%.80s'", path);
        free(st);
        return -1;
    }
    if (sr_map_create(opts, &st->map, err, errlen)) {
        free(st);
        return -1;
    }
    *state = st;
    return 0;
}

/* ---- reading ---- */

/* 1 when the poll has read enough (it always reads something). */
static int csv_spent(csv_pass *p)
{
    if (p->bytes_left == 0)
        return p->stopped = 1;
    if (p->timed && p->bytes_left < CSV_POLL_BYTES) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > p->deadline.tv_sec ||
            (now.tv_sec == p->deadline.tv_sec && now.tv_nsec >= p->deadline.tv_nsec))
            return p->stopped = 1;
    }
    return 0;
}

/* Starts f over at its first byte (a truncation, or rows not kept). */
static void csv_file_rewind(csv_file *f)
{
    f->off = 0;
    f->mark_len = 0;
    f->done = 0;
    sr_csvrows_reset(f->rows);
}

/* Keeps the last CSV_MARK_BYTES of what was read, with n more bytes. */
static void csv_mark(csv_file *f, const char *buf, size_t n)
{
    if (n >= CSV_MARK_BYTES) {
        memcpy(f->mark, buf + n - CSV_MARK_BYTES, CSV_MARK_BYTES);
        f->mark_len = CSV_MARK_BYTES;
        return;
    }
    size_t keep = f->mark_len + n > CSV_MARK_BYTES ? CSV_MARK_BYTES - n : f->mark_len;
    memmove(f->mark, f->mark + f->mark_len - keep, keep);
    memcpy(f->mark + keep, buf, n);
    f->mark_len = keep + n;
}

/* 1 when f no longer holds what was read from it: shorter than the
 * offset, or other bytes just before it (rewritten in place). */
static int csv_rewritten(csv_state *st, const csv_file *f)
{
    struct stat sb;
    if (fstat(f->fd, &sb) == 0 && sb.st_size < f->off)
        return 1;
    if (!f->mark_len)
        return 0;
    ssize_t n = pread(f->fd, st->check, f->mark_len, f->off - (off_t)f->mark_len);
    return n != (ssize_t)f->mark_len || memcmp(st->check, f->mark, f->mark_len) != 0;
}

/*
 * Opens the path as f, from its start. Returns 0; 1 when there is no such
 * file; or negative; both with the reason in err.
 */
static int csv_file_open(csv_state *st, csv_file *f, csv_pass *p)
{
    int fd = open(st->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat sb;
    if (fd < 0) {
        int missing = errno == ENOENT;
        snprintf(p->err, p->errlen, "cannot open %.300s: %s%s", st->path, strerror(errno),
                 missing ? " (waiting for it to appear)" : "");
        return missing ? 1 : CSV_ENOFILE;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(p->err, p->errlen, "%.300s is not a regular file", st->path);
        close(fd);
        return CSV_ENOFILE;
    }
    if (sr_csvrows_create(st->map, st->delim, &f->rows, p->err, p->errlen)) {
        close(fd);
        return CSV_ENOFILE;
    }
    f->fd = fd;
    f->dev = sb.st_dev;
    f->ino = sb.st_ino;
    f->off = 0;
    f->done = 0;
    return 0;
}

/*
 * Hands f's bytes from its offset to its end (as it is now) to the row
 * reader, within the poll's budget. Returns 1 at the end of the file, 0
 * when the budget stopped it, negative on a read error or a refusal.
 */
static int csv_drain(csv_state *st, csv_file *f, csv_pass *p)
{
    while (!csv_spent(p)) {
        size_t want = sizeof st->buf < p->bytes_left ? sizeof st->buf : p->bytes_left;
        ssize_t n = pread(f->fd, st->buf, want, f->off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(p->err, p->errlen, "cannot read %.300s: %s", st->path, strerror(errno));
            return CSV_EREAD;
        }
        if (n == 0)
            return 1;
        f->off += n;
        p->bytes_left -= (size_t)n;
        csv_mark(f, st->buf, (size_t)n);
        int rc = sr_csvrows_feed(f->rows, st->buf, (size_t)n, p->info->now_ms, p->sink, p->err,
                                 p->errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* 1 when f has not been modified for the settle time. */
static int csv_settled(const csv_state *st, const csv_file *f, const csv_pass *p)
{
    struct stat sb;
    if (fstat(f->fd, &sb) != 0)
        return 1;
    int64_t mtime_ms = (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
    return p->info->now_ms - mtime_ms >= st->settle_ms;
}

/* The rotated file: read what was appended to it; finish it once it has
 * settled. Returns 0 or negative (a read error or a refusal). */
static int csv_drain_old(csv_state *st, csv_pass *p)
{
    csv_file *f = &st->old;
    if (f->fd < 0 || f->done)
        return 0;
    int rc = csv_drain(st, f, p);
    if (rc <= 0)
        return rc;
    if (!csv_settled(st, f, p))
        return 0;
    f->done = 1;
    return sr_csvrows_finish(f->rows, p->info->now_ms, p->sink, p->err, p->errlen);
}

/* The path names another file than cur, or none: cur becomes the old one
 * (finishing an older one still draining; when the budget does not allow
 * that, nothing changes and the poll stops). */
static int csv_rotate(csv_state *st, csv_pass *p)
{
    if (st->old.fd >= 0 && !st->old.done) {
        int rc = csv_drain(st, &st->old, p);
        if (rc <= 0)
            return rc;
        rc = sr_csvrows_finish(st->old.rows, p->info->now_ms, p->sink, p->err, p->errlen);
        if (rc < 0)
            return rc;
    }
    csv_file_close(&st->old);
    st->old = st->cur;
    csv_file_init(&st->cur);
    return 0;
}

/*
 * The current file: opened when needed, read from where the last poll
 * stopped, then checked against the path (truncation, rotation) and for a
 * settled last row. Returns 0, or negative with err set.
 */
static int csv_follow(csv_state *st, csv_pass *p)
{
    for (int turn = 0; turn < 2; turn++) {
        csv_file *f = &st->cur;
        int rc = f->fd < 0 ? csv_file_open(st, f, p) : 0;
        if (rc == 1 && st->old.fd >= 0 && !st->old.done) {
            /* just rotated away, the new file not there yet: not an error */
            p->err[0] = '\0';
            return 0;
        }
        if (rc)
            return CSV_ENOFILE;
        if (csv_rewritten(st, f)) {
            rc = sr_csvrows_finish(f->rows, p->info->now_ms, p->sink, p->err, p->errlen);
            if (rc < 0 && rc != SR_CSVROWS_EHEADER)
                return rc;
            csv_file_rewind(f);
        }
        rc = csv_drain(st, f, p);
        struct stat now;
        int same = stat(st->path, &now) == 0 && now.st_dev == f->dev && now.st_ino == f->ino;
        if (rc == SR_CSVROWS_EHEADER && !same) {
            /* a file the map cannot read, replaced: forget it */
            csv_file_close(f);
            continue;
        }
        if (rc <= 0)
            return rc;
        if (same) {
            if (sr_csvrows_pending(f->rows) && csv_settled(st, f, p))
                return sr_csvrows_flush(f->rows, p->info->now_ms, p->sink, p->err, p->errlen);
            return 0;
        }
        if ((rc = csv_rotate(st, p)) || p->stopped)
            return rc;
    }
    return 0;
}

/*
 * Reads what was appended since the last poll (see the top of the file).
 * cursor_ms is now_ms (or just after the last one handed out); more = 1
 * when the budget stopped the poll.
 */
static int csv_poll(void *state, sr_poll_info *info, sr_sink *sink, char *err, size_t errlen)
{
    csv_state *st = state;
    csv_pass p = {
        .info = info, .sink = sink, .err = err, .errlen = errlen, .bytes_left = CSV_POLL_BYTES};
    if (info->timeout_ms > 0) {
        p.timed = 1;
        clock_gettime(CLOCK_MONOTONIC, &p.deadline);
        int64_t ns = p.deadline.tv_nsec + (info->timeout_ms / 2) * 1000000;
        p.deadline.tv_sec += ns / 1000000000;
        p.deadline.tv_nsec = ns % 1000000000;
    }
    if (st->reread || (st->cursor_ms && info->since_ms != st->cursor_ms)) {
        if (st->old.fd >= 0)
            csv_file_rewind(&st->old);
        if (st->cur.fd >= 0)
            csv_file_rewind(&st->cur);
    } else if (st->old.done) {
        csv_file_close(&st->old);
    }
    st->reread = 0;
    st->cursor_ms = 0;
    info->more = 0;
    info->cursor_ms = 0;

    int rc = csv_drain_old(st, &p);
    if (rc == 0 && !p.stopped)
        rc = csv_follow(st, &p);
    if (rc < 0) {
        /* a refusal or a header the map cannot use: read it all again next time */
        st->reread = rc != CSV_ENOFILE && rc != CSV_EREAD;
        return -1;
    }
    info->more = p.stopped;
    /* a token unique to this poll, even for two polls in one millisecond */
    st->cursor_ms = info->now_ms > st->last_cursor_ms ? info->now_ms : st->last_cursor_ms + 1;
    st->last_cursor_ms = info->cursor_ms = st->cursor_ms;
    return 0;
}

/* A header note from the sink: only the reject of line 1 that says a
 * mapped name is there twice (rows are not read). */
typedef struct {
    sr_sink sink; /* first: the callbacks cast */
    char *msg;
    size_t len;
    int found;
} header_note;

static int note_emit(sr_sink *k, const sr_ad_sample *s)
{
    (void)k;
    (void)s;
    return 0;
}

static int note_reject(sr_sink *k, const char *where, const char *raw, const char *reason)
{
    header_note *n = (header_note *)k;
    (void)raw;
    if (!n->found && where && strcmp(where, "line 1") == 0) {
        snprintf(n->msg, n->len, "%s", reason);
        n->found = 1;
    }
    return 0;
}

/* check-config: reads the file's header when the file is there (its first
 * line, up to 64 KiB) and says what the csvrows reader would say of it. */
static int csv_check(void *state, char *msg, size_t len)
{
    csv_state *st = state;
    int fd = open(st->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return 0;
    struct stat sb;
    char buf[65536];
    ssize_t n = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? read(fd, buf, sizeof buf) : -1;
    close(fd);
    char *nl = n > 0 ? memchr(buf, '\n', (size_t)n) : NULL;
    if (!nl)
        return 0;
    header_note note = {.sink = {.emit = note_emit, .reject = note_reject}, .msg = msg, .len = len};
    note.sink.ctx = &note;
    sr_csvrows *r;
    char err[600];
    if (sr_csvrows_create(st->map, st->delim, &r, err, sizeof err))
        return 0;
    sr_csvrows_feed(r, buf, (size_t)(nl - buf) + 1, 0, &note.sink, err, sizeof err);
    sr_csvrows_destroy(r);
    return note.found;
}

const sr_adapter sr_adapter_csv = {
    .abi_version = SR_ADAPTER_ABI,
    .type = "csv",
    .description = "a CSV file, followed as it grows (appends, truncation, rotation)",
    .options = csv_options,
    .open = csv_open,
    .poll = csv_poll,
    .close = csv_close,
    .check = csv_check,
};
