/*
 * textlog.c - an example sitrep plugin: samples from a text log that other
 * programs append to, one sample per line.
 *
 *   # time                 metric     entity                      value
 *   2024-05-01T08:00:00Z   calls      force/north/district-1       1
 *   2024-05-01T08:00:07Z   response   force/north/district-1/u12   431.5
 *
 * Fields are separated by blanks; the time is anything the host's
 * parse_time() reads (ISO-8601, naive = in the section's or the config's
 * time zone, or epoch seconds). Blank lines and lines starting with '#' are
 * skipped; any other line that does not read as those four fields is
 * rejected with its line number and the reason, and sitrep keeps it (see
 * `sitrep rejects`). A shell script, a cron job or a legacy system's export
 * can feed sitrep this way without a line of C on its side.
 *
 * Build it (the Makefile does: build/plugins/textlog.so) with nothing but
 * sitrep's adapters/adapter.h:
 *
 *   cc -std=c17 -fPIC -shared -o textlog.so textlog.c
 *
 * and use it:
 *
 *   [adapter.legacy]
 *   type = plugin
 *   path = plugins/textlog.so     ; relative to the config's directory
 *   file = /var/spool/legacy/kpi.log
 *   interval = 10s
 *
 * What a plugin author needs to know, in the order this file shows it:
 *
 *   1. One exported function, sitrep_adapter() (SR_ADAPTER_ENTRY), returns a
 *      static sr_adapter table; sitrep refuses a table whose abi_version is
 *      newer than its own SR_ADAPTER_ABI (or older than SR_ADAPTER_ABI_MIN),
 *      so always fill it from the macro.
 *   2. options lists every key the section may hold besides sitrep's own
 *      (type, interval, timeout, path): sitrep rejects unknown keys and
 *      missing required ones at FILE:LINE before open() is ever called.
 *   3. open() runs once on sitrep's main thread: check the values, copy what
 *      you keep (the options are borrowed for the call), return a state.
 *   4. poll() runs on a worker thread, never twice at once for one state,
 *      so the state needs no lock. Hand every sample to sink->emit() and
 *      every bad input to sink->reject(); both copy what they are given.
 *      Read at most a chunk per poll; set info->more when there is more to
 *      read at once, and sitrep calls poll() again straight away (a backfill
 *      in chunks instead of one huge batch); say how far it has got in
 *      info->progress_done of info->progress_total (here bytes of the file),
 *      which the dashboard shows as "loading history N %".
 *   5. close() frees the state. Nothing is ever printed: problems go into
 *      err, and sitrep shows them as the source's last error.
 *
 * Idempotence: each sample carries its line number and the line itself as
 * its source key, so reading the file again (after a restart of sitrep,
 * which forgets the read offset) stores nothing twice, while two equal
 * lines at different places both count. A file that became shorter than the offset
 * was rotated or truncated: it is read again from the start.
 */
#define _POSIX_C_SOURCE 200809L /* getline, strdup, fseeko under -std=c17 */

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "../adapter.h"

#define TEXTLOG_CHUNK_DEFAULT 10000L
#define TEXTLOG_CHUNK_MAX 1000000L

static const sr_ad_option_spec textlog_options[] = {
    {"file", 1, "the log to read, relative to the config's directory"},
    {"chunk", 0, "lines read per poll before the next chunk, default 10000"},
    {"timezone", 0, "time zone of times written without one, default the config's"},
    {NULL, 0, NULL},
};

typedef struct {
    char *file;
    char *tz; /* NULL: the config's */
    long chunk;
    const sr_ad_host *host;
    off_t offset; /* where the next poll starts reading */
    long line;    /* line number of the line at offset (1-based) */
} textlog;

static char *join(const char *dir, const char *name)
{
    if (name[0] == '/' || !dir)
        return strdup(name);
    size_t n = strlen(dir) + 1 + strlen(name) + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int textlog_open(const sr_ad_options *opts, void **state, char *err, size_t errlen)
{
    const char *file = sr_ad_opt(opts, "file");
    const char *chunk = sr_ad_opt(opts, "chunk");
    const char *tz = sr_ad_opt(opts, "timezone");
    long n = TEXTLOG_CHUNK_DEFAULT;
    if (!file || !*file) {
        snprintf(err, errlen, "file: expected the path of the log to read");
        return -1;
    }
    if (chunk) {
        char *end;
        errno = 0;
        n = strtol(chunk, &end, 10);
        if (errno || *end || n < 1 || n > TEXTLOG_CHUNK_MAX) {
            snprintf(err, errlen, "chunk: expected a whole number from 1 to %ld, got '%.40s'",
                     TEXTLOG_CHUNK_MAX, chunk);
            return -1;
        }
    }
    if (!tz || !*tz)
        tz = opts->timezone;
    if (tz && !opts->host->tz_valid(tz)) {
        snprintf(err, errlen, "timezone: '%.60s' is not a time zone this machine knows", tz);
        return -1;
    }
    textlog *t = calloc(1, sizeof *t);
    if (!t || !(t->file = join(opts->config_dir, file)) || (tz && !(t->tz = strdup(tz)))) {
        if (t)
            free(t->file);
        free(t);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    t->chunk = n;
    t->host = opts->host; /* valid for the adapter's whole life */
    t->line = 1;
    *state = t;
    return 0;
}

/* Splits line into four blank-separated fields; 0, or -1 with a reason. */
static int split4(char *line, char *f[4], const char **why)
{
    char *save = NULL;
    int n = 0;
    for (char *tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        if (n == 4) {
            *why = "more than four fields, expected: time metric entity value";
            return -1;
        }
        f[n++] = tok;
    }
    if (n < 4) {
        *why = "fewer than four fields, expected: time metric entity value";
        return -1;
    }
    return 0;
}

/*
 * One line: emits a sample or rejects the line (both return what the sink
 * said). Lines that are blank or comments return 0 without either.
 */
static int textlog_line(textlog *t, sr_sink *sink, long lineno, const char *raw, char *buf)
{
    char where[32], reason[160];
    snprintf(where, sizeof where, "line %ld", lineno);
    char *p = buf + strspn(buf, " \t");
    if (*p == '\0' || *p == '#')
        return 0;
    char *f[4];
    const char *why;
    if (split4(p, f, &why) != 0)
        return sink->reject(sink, where, raw, why);
    char key[32 + 4096];
    snprintf(key, sizeof key, "%ld:%s", lineno, raw);
    sr_ad_sample s = {.metric = f[1], .entity = f[2], .key = key};
    if (t->host->parse_time(f[0], t->tz, &s.ts_ms) != 0) {
        snprintf(reason, sizeof reason, "time '%.60s' is not a date and time", f[0]);
        return sink->reject(sink, where, raw, reason);
    }
    char *end;
    errno = 0;
    s.value = strtod(f[3], &end);
    /* v - v is 0 for every finite v, NaN for NaN and the infinities */
    if (errno == ERANGE || *end || end == f[3] || !(s.value - s.value == 0)) {
        snprintf(reason, sizeof reason, "value '%.60s' is not a number", f[3]);
        return sink->reject(sink, where, raw, reason);
    }
    return sink->emit(sink, &s);
}

static int textlog_poll(void *state, sr_poll_info *info, sr_sink *sink, char *err, size_t errlen)
{
    textlog *t = state;
    FILE *f = fopen(t->file, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", t->file, strerror(errno));
        return -1;
    }
    /* rotated or truncated: start again (the keys make re-reading harmless) */
    if (fseeko(f, 0, SEEK_END) == 0 && ftello(f) < t->offset) {
        t->offset = 0;
        t->line = 1;
    }
    if (fseeko(f, t->offset, SEEK_SET) != 0) {
        snprintf(err, errlen, "cannot seek in %s: %s", t->file, strerror(errno));
        fclose(f);
        return -1;
    }
    char *line = NULL, *copy = NULL;
    size_t cap = 0, copy_cap = 0;
    ssize_t len;
    long done = 0;
    int rc = 0;
    while (done < t->chunk && (len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] != '\n')
            break; /* a line still being written: take it whole at the next poll */
        line[--len] = '\0';
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        if ((size_t)len + 1 > copy_cap) {
            char *c = realloc(copy, (size_t)len + 1);
            if (!c) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            copy = c;
            copy_cap = (size_t)len + 1;
        }
        memcpy(copy, line, (size_t)len + 1); /* split4 cuts copy; line stays the raw text */
        if (textlog_line(t, sink, t->line, line, copy) != 0) {
            /* the sink is full: stop here, and this line is read again next time */
            snprintf(err, errlen, "sitrep took no more rows at line %ld", t->line);
            rc = -1;
            break;
        }
        t->offset = ftello(f);
        t->line++;
        done++;
    }
    /* more when the chunk ran out before the end of the file */
    info->more = rc == 0 && done == t->chunk && getc(f) != EOF;
    struct stat sb;
    if (info->more && fstat(fileno(f), &sb) == 0) {
        info->progress_done = t->offset;
        info->progress_total = sb.st_size;
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "cannot read %s: %s", t->file, strerror(errno));
        rc = -1;
    }
    free(line);
    free(copy);
    fclose(f);
    return rc;
}

static void textlog_close(void *state)
{
    textlog *t = state;
    if (!t)
        return;
    free(t->file);
    free(t->tz);
    free(t);
}

static const sr_adapter textlog_adapter = {
    .abi_version = SR_ADAPTER_ABI,
    .type = "textlog",
    .description = "samples from a text log, one 'time metric entity value' per line",
    .options = textlog_options,
    .open = textlog_open,
    .poll = textlog_poll,
    .close = textlog_close,
};

/* The one symbol sitrep looks up (SR_ADAPTER_ENTRY). */
const sr_adapter *sitrep_adapter(void);

const sr_adapter *sitrep_adapter(void)
{
    return &textlog_adapter;
}
