/*
 * main.c - the command line: one table of commands, each a function with its
 * own options; `sitrep --help` and `sitrep CMD --help` are generated from the
 * same tables.
 *
 * Exit codes (SR_EXIT_*): 0 success; 1 a runtime failure (cache, file,
 * source); 2 a usage or configuration error; 3 `ingest` finished but
 * rejected rows (they are kept in the cache: `sitrep rejects`).
 *
 * app/ is the only layer that wires the others together: config -> store,
 * registry -> collector, store + catalog -> query.
 */
#include <errno.h>
#include <getopt.h>
#include <float.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "../adapters/execfmt.h"
#include "../adapters/registry.h"
#include "../metrics/format.h"
#include "../metrics/query.h"
#include "../metrics/safetext.h"
#include "../metrics/sources.h"
#include "../metrics/store.h"
#include "alerting.h"
#include "collect.h"
#include "config.h"
#include "csvout.h"
#include "dashboard.h"
#include "ingest.h"
#include "jsonout.h"
#include "lock.h"
#include "share.h"
#include "loop.h"
#include "paths.h"
#include "plugin.h"
#include "progress.h"
#include "report.h"
#include "roff.h"
#include "roles.h"
#include "trust.h"
#include "xalloc.h"

#ifndef SITREP_VERSION
#error "SITREP_VERSION comes from the VERSION file (the Makefile passes it)"
#endif

enum { SR_EXIT_OK = 0, SR_EXIT_FAIL = 1, SR_EXIT_USAGE = 2, SR_EXIT_REJECTS = 3 };

/* ---- options ---- */

typedef struct {
    const char *name; /* "--entity" */
    const char *arg;  /* "PATH", or NULL for a flag */
    const char *help;
} opt_spec;

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *args; /* usage after the command name */
    const char *summary;
    const opt_spec *opts;
} command;

/* The most options a command may have (a table with more is refused the
 * first time the command runs: parse_opts). */
#define SR_MAX_OPTS 24

/* Parsed options: values by the index of their spec; the positionals are
 * argv's words that are no option (all of them after a `--`), in order. */
typedef struct {
    const char *val[SR_MAX_OPTS];
    char **pos;
    int npos;
} parsed;

static const command *find_command(const char *name);
static void usage_command(FILE *f, const command *c);

static void usage_verror(const command *c, const char *fmt, va_list ap)
{
    fprintf(stderr, "sitrep %s: ", c->name);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'sitrep %s --help'.\n", c->name);
}

/* Prints a usage error; the caller cleans up and exits 2. */
static void usage_error(const command *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    usage_verror(c, fmt, ap);
    va_end(ap);
}

/* Prints a usage error and exits 2 (only before anything is allocated). */
static _Noreturn void die_usage(const command *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    usage_verror(c, fmt, ap);
    va_end(ap);
    exit(SR_EXIT_USAGE);
}

/* A mistake in the command tables themselves, not the user's. */
static _Noreturn void die_table(const command *c, const char *what)
{
    fprintf(stderr, "sitrep %s: internal error: %s\n", c->name, what);
    abort();
}

/* The unknown option text (`--nme` or `--nme=x`) and the closest known. */
static _Noreturn void die_unknown(const command *c, const char *a)
{
    size_t nlen = strcspn(a, "=");
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(nlen < 63 ? nlen : 63), a);
    sr_suggest sg;
    sr_suggest_init(&sg, name);
    for (int k = 0; c->opts && c->opts[k].name; k++)
        sr_suggest_try(&sg, c->opts[k].name);
    const char *best = sr_suggest_best(&sg);
    if (best)
        die_usage(c, "unknown option '%s'; did you mean '%s'?", name, best);
    die_usage(c, "unknown option '%s'", name);
}

/*
 * Parses argv[1..] of a command by its table with getopt_long: options and
 * positionals in any order, `--opt VALUE` or `--opt=VALUE`, an unambiguous
 * prefix of an option's name, and `--` before words that are positionals
 * even when they start with `--`. At most max_pos positionals. Exits 2 on a
 * usage error, 0 after printing --help.
 */
static void parse_opts(const command *c, int argc, char **argv, parsed *p, int max_pos)
{
    memset(p, 0, sizeof *p);
    struct option lo[SR_MAX_OPTS + 2];
    int n = 0;
    for (; c->opts && c->opts[n].name; n++) {
        if (n == SR_MAX_OPTS)
            die_table(c, "more options than SR_MAX_OPTS");
        lo[n] = (struct option){c->opts[n].name + 2,
                                c->opts[n].arg ? required_argument : no_argument, NULL, 256 + n};
    }
    lo[n] = (struct option){"help", no_argument, NULL, 'h'};
    lo[n + 1] = (struct option){NULL, 0, NULL, 0};
    opterr = 0;
    optind = 0; /* GNU: start afresh */
    for (;;) {
        int prev = optind ? optind : 1;
        int r = getopt_long(argc, argv, ":h", lo, NULL);
        if (r == -1)
            break;
        if (r == 'h') {
            usage_command(stdout, c);
            exit(SR_EXIT_OK);
        }
        if (r >= 256) {
            p->val[r - 256] = c->opts[r - 256].arg ? optarg : "1";
            continue;
        }
        const char *a = argv[optind - 1 >= prev ? optind - 1 : prev];
        if (r == ':')
            die_usage(c, "option '%s' needs a value (%s)", c->opts[optopt - 256].name,
                      c->opts[optopt - 256].arg);
        if (optopt >= 256) /* a flag given a value */
            die_usage(c, "option '%s' takes no value", c->opts[optopt - 256].name);
        if (strncmp(a, "--", 2) == 0) {
            for (int k = 0; k < n; k++) { /* ambiguous: a prefix of two */
                if (strncmp(c->opts[k].name, a, strcspn(a, "=")) == 0)
                    die_usage(c, "option '%.*s' is ambiguous", (int)strcspn(a, "="), a);
            }
            die_unknown(c, a);
        }
        die_usage(c, "unknown option '-%c'", optopt ? optopt : '?');
    }
    p->pos = argv + optind;
    p->npos = argc - optind;
    if (p->npos > max_pos)
        die_usage(c, "unexpected argument '%s'", p->pos[max_pos]);
}

/* The value of option name (as in the command's table), or NULL when not
 * given; a name the table lacks is a mistake in the program, said at once. */
static const char *opt(const command *c, const parsed *p, const char *name)
{
    for (int k = 0; c->opts && c->opts[k].name; k++) {
        if (strcmp(c->opts[k].name, name) == 0)
            return p->val[k];
    }
    die_table(c, "an option looked up that the command's table lacks");
}

/* ---- shared set-up ---- */

static void print_config_errors(const sr_cfg_errors *errs)
{
    for (size_t i = 0; i < errs->n; i++) {
        char line[1024];
        sr_cfg_error_format(&errs->v[i], line, sizeof line);
        fprintf(stderr, "%s\n", line);
    }
}

/* Prints why file could not be used (every error, else rc's words) and
 * frees the errors. An elevated process only counts them: they quote the
 * system configuration's lines, which its user may not read. */
static void report_config(sr_cfg_errors *errs, const char *file, int rc)
{
    if (sr_trust_elevated() && errs->n)
        fprintf(stderr,
                "sitrep: %s has %zu error%s, not shown to users outside group %s (they quote its "
                "lines); 'sitrep check-config' run by its administrator lists them\n",
                file, errs->n, errs->n == 1 ? "" : "s", sr_trust_group());
    else
        print_config_errors(errs);
    if (errs->n == 0)
        fprintf(stderr, "%s: %s\n", file, sr_strerror(rc));
    sr_cfg_errors_fini(errs);
}

/* Exits 2 when this process runs with its group's rights: `what` (a
 * command) writes the cache, which only the collector's user does. */
static void refuse_elevated(const char *what)
{
    if (!sr_trust_elevated())
        return;
    fprintf(stderr,
            "sitrep %s: refused: sitrep runs with the rights of group %s (setgid) and then never "
            "writes the cache; run it as the sitrep user (the collector's, e.g. sudo -u sitrep)\n",
            what, sr_trust_group());
    exit(SR_EXIT_USAGE);
}

/* Loads the config or exits 2 with every error on stderr. With its
 * group's rights, sitrep reads the system configuration only. */
static sr_config *load_config(const char *arg)
{
    if (sr_trust_elevated() && arg) {
        fprintf(stderr,
                "sitrep: --config is refused: sitrep runs with the rights of group %s (setgid) "
                "and reads only the system configuration %s\n",
                sr_trust_group(), SR_SYSTEM_CONFIG);
        exit(SR_EXIT_USAGE);
    }
    char *path = sr_trust_elevated() ? strdup(SR_SYSTEM_CONFIG) : sr_config_locate(arg);
    sr_config *cfg = NULL;
    sr_cfg_errors errs = {0};
    int rc = sr_config_load(path, &cfg, &errs);
    if (rc) {
        report_config(&errs, path, rc);
        free(path);
        exit(SR_EXIT_USAGE);
    }
    sr_cfg_errors_fini(&errs);
    free(path);
    return cfg;
}

/* The adapter type of every source, plugins loaded; exits 2 with every
 * problem on stderr (cfg is freed first). */
static sr_plugins *load_adapters(sr_config *cfg)
{
    sr_plugins *pl = NULL;
    sr_cfg_errors errs = {0};
    int rc = sr_plugins_load(cfg, &pl, &errs);
    if (rc) {
        report_config(&errs, cfg->path, rc);
        sr_config_destroy(cfg);
        exit(SR_EXIT_USAGE);
    }
    return pl;
}

/* With its group's rights, sitrep creates nothing in the cache's folder:
 * exits 1 unless the collector has made the cache and its -wal and -shm. */
static void cache_ready(const sr_config *cfg)
{
    char err[4400];
    if (sr_trust_cache_ready(cfg->cache, err, sizeof err) != 0) {
        fprintf(stderr, "sitrep: %s\n", err);
        exit(SR_EXIT_FAIL);
    }
}

static void cache_failed(const char *cmd, const sr_config *cfg, sr_store *st, int rc);

/* The command running (main), for the words of what needs the cache. */
static const char *running = "dashboard";

/* Says that this process may not write the cache (why, from
 * sr_share_explain_write) and what needs to; a reader's store message
 * (detail, "" for none) tells what it could not read without writing. */
static void cannot_write(const char *why, const char *detail)
{
    bool collector = strcmp(running, "collect") == 0 || strcmp(running, "dashboard") == 0;
    if (detail[0])
        fprintf(stderr, "sitrep %s: cannot read the cache: %s, and %s\n", running, why, detail);
    else
        fprintf(stderr, "sitrep %s: cannot write the cache: %s; %s%s needs it\n", running, why,
                collector ? "the collector" : "sitrep ", collector ? "" : running);
}

/* Opens the cache of cfg and declares its metrics; exits 1 on failure. A
 * writer first gives the cache's directory and files the modes of [sitrep]
 * cache_group (share.h). */
static sr_store *open_cache(const sr_config *cfg, unsigned flags)
{
    char err[512];
    /* a reader: read-only, or a viewer's own writes (acknowledgements,
     * silences, audit rows: SR_STORE_VIEWER), which never create or migrate */
    bool reader = flags & (SR_STORE_READONLY | SR_STORE_VIEWER);
    if (!reader)
        refuse_elevated("writing the cache");
    cache_ready(cfg);
    /* a reader on a fresh account: an empty cache, made as a writer makes it */
    if (reader && access(cfg->cache, F_OK) != 0 && errno == ENOENT)
        sr_store_close(open_cache(cfg, 0));
    if (!reader && sr_share_prepare(cfg->cache, cfg->cache_group, err, sizeof err) != 0) {
        char why[4400];
        if (sr_share_explain_write(cfg->cache, false, why, sizeof why) == 0)
            cannot_write(why, "");
        else
            fprintf(stderr, "sitrep: %s\n", err);
        exit(SR_EXIT_FAIL);
    }
    sr_store *st = NULL;
    int rc = sr_store_open(cfg->cache, flags, &st, err, sizeof err);
    /* an empty cache its collector is creating right now: a few seconds */
    for (int i = 0; rc == SR_EBUSY && i < 100; i++) {
        usleep(100 * 1000);
        rc = sr_store_open(cfg->cache, flags, &st, err, sizeof err);
    }
    if (rc) {
        char why[4400];
        if (sr_share_explain(cfg->cache, cfg->cache_group, why, sizeof why) == 0)
            fprintf(stderr, "sitrep: cannot open the cache %s: %s\n", cfg->cache, why);
        else if (rc == SR_ECORRUPT)
            cache_failed(running, cfg, NULL, rc);
        else if (rc == SR_EPERM && sr_share_explain_write(cfg->cache, false, why, sizeof why) == 0)
            cannot_write(why, !(flags & SR_STORE_READONLY) ? ""
                              : strncmp(err, cfg->cache, strlen(cfg->cache)) == 0
                                  ? err + strlen(cfg->cache) + 2
                                  : err);
        else
            fprintf(stderr, "sitrep: cannot open the cache %s\n", err);
        exit(SR_EXIT_FAIL);
    }
    sr_store_set_accept_ahead(st, cfg->accept_ahead_ms);
    if (!(flags & SR_STORE_VIEWER) && sr_collect_define_metrics(st, cfg, err, sizeof err)) {
        fprintf(stderr, "sitrep: %s\n", err);
        exit(SR_EXIT_FAIL);
    }
    return st;
}

/* What to do about a damaged cache: said by every command that meets one. */
#define CACHE_DAMAGED_HELP                                                                         \
    "stop the collector, move the cache and its -wal and -shm aside, and run 'sitrep collect' "    \
    "or 'sitrep ingest' again: the sources' backfill and the files reload what they still hold"

/*
 * Says why a command could not read the cache (rc from the store): a
 * damaged cache plainly, with what to do; others with the store's message.
 * The one place these words are, for every command that reads figures.
 */
static void cache_failed(const char *cmd, const sr_config *cfg, sr_store *st, int rc)
{
    const char *why = st ? sr_store_errmsg(st) : "";
    if (rc == SR_ECORRUPT)
        fprintf(stderr,
                "sitrep %s: the cache %s is damaged (%s): %s. 'sitrep check-cache' lists what is "
                "wrong; to recover, " CACHE_DAMAGED_HELP "\n",
                cmd, cfg->cache, why[0] ? why : "database disk image is malformed",
                strcmp(cmd, "ingest") == 0 ? "nothing more is written to it"
                                           : "nothing is printed from it");
    else
        fprintf(stderr, "sitrep %s: %s%s%s\n", cmd, sr_strerror(rc), why[0] ? ": " : "", why);
}

/* ---- collect ---- */

static const opt_spec collect_opts[] = {
    {"--config", "FILE",
     "the configuration (default ./config.ini, then $XDG_CONFIG_HOME/sitrep/config.ini, "
     "then " SR_SYSTEM_CONFIG "); SIGHUP reloads it"},
    {"--once", NULL,
     "read every source once (a backfill to its end) and exit; exit status 1 when a "
     "source failed"},
    {"--log", "FILE",
     "append the log to FILE, one line per event with its time (errors also on "
     "stderr); SIGHUP reopens it. Default: stdout and stderr"},
    {NULL, NULL, NULL},
};

/* Opens cfg's collector lock; exits 1 when it cannot be created. */
static sr_lock *open_lock(const sr_config *cfg)
{
    sr_lock *l;
    char err[512];
    if (sr_share_dir(cfg->cache, cfg->cache_group, err, sizeof err) != 0) {
        fprintf(stderr, "sitrep: %s\n", err);
        exit(SR_EXIT_FAIL);
    }
    int rc = sr_lock_create(cfg->cache, &l, err, sizeof err);
    if (rc) {
        char path[4200], why[300];
        snprintf(path, sizeof path, "%s.lock", cfg->cache);
        if (rc != SR_EPERM && sr_share_explain(path, cfg->cache_group, why, sizeof why) == 0)
            fprintf(stderr, "sitrep: cannot open the lock file %s: %s\n", path, why);
        else
            fprintf(stderr, "sitrep: the lock file: %s\n", err);
        exit(SR_EXIT_FAIL);
    }
    return l;
}

/* Takes cfg's collector lock for the life of the process; exits 1, naming
 * the holder, when another process collects into the same cache. */
static sr_lock *collector_lock(const sr_config *cfg)
{
    sr_lock *l = open_lock(cfg);
    long pid;
    int rc = sr_lock_try(l, &pid);
    if (rc == 0)
        return l;
    if (rc == SR_EBUSY && pid)
        fprintf(stderr, "sitrep: another sitrep (pid %ld) is already collecting into %s\n", pid,
                cfg->cache);
    else if (rc == SR_EBUSY)
        fprintf(stderr, "sitrep: another sitrep is already collecting into %s\n", cfg->cache);
    else
        fprintf(stderr, "sitrep: cannot lock %s: %s\n", sr_lock_path(l), sr_strerror(rc));
    exit(SR_EXIT_FAIL);
}

static int cmd_collect(int argc, char **argv)
{
    const command *self = find_command("collect");
    parsed p;
    parse_opts(self, argc, argv, &p, 0);
    refuse_elevated("collect");
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_plugins *pl = load_adapters(cfg);
    sr_store *st = open_cache(cfg, 0);
    sr_lock *lock = collector_lock(cfg); /* exits when another sitrep collects */
    sr_collect_opts o = {.log_path = opt(self, &p, "--log"),
                         .once = opt(self, &p, "--once") != NULL};
    int failed = 0;
    int rc = sr_collect_run(cfg, pl, st, &o, &failed); /* consumes cfg and pl */
    sr_store_close(st);
    sr_lock_destroy(lock);
    return rc || failed ? SR_EXIT_FAIL : SR_EXIT_OK;
}

/* ---- ingest ---- */

#define INGEST_BATCH 50000

typedef struct {
    const sr_config *cfg;
    sr_store *st;
    const char *source;
    long in_batch;
    int64_t accepted, duplicates, rejected;
    sr_progress *progress; /* NULL when stderr is not a terminal */
    FILE *f;               /* the file read, for the bytes read so far */
    long line;             /* the last line handed to the store */
    long kept_line;        /* the last line of the last batch committed; 0 = none */
    int64_t kept;          /* the rows accepted in the batches committed */
} ingest_ctx;

/* Every this many rows, the progress line is told how far the file is read. */
#define INGEST_PROGRESS_ROWS 4096

static void ingest_progress(ingest_ctx *c)
{
    int64_t rows = c->accepted + c->duplicates + c->rejected;
    if (c->progress && rows % INGEST_PROGRESS_ROWS == 0) {
        off_t at = ftello(c->f);
        sr_progress_update(c->progress, rows, at > 0 ? (int64_t)at : 0);
    }
}

static int ingest_flush(ingest_ctx *c)
{
    int rc = sr_store_commit(c->st);
    if (!rc) {
        c->kept_line = c->line;
        c->kept = c->accepted;
        rc = sr_store_begin(c->st);
    }
    c->in_batch = 0;
    return rc;
}

/* Says why a file's load failed, and what of it the cache kept: one
 * message a line. */
static void ingest_failed(const char *file, const ingest_ctx *c, int rc, const char *why)
{
    if (rc == SR_ECORRUPT)
        cache_failed("ingest", c->cfg, c->st, rc);
    else
        fprintf(stderr, "sitrep ingest: %s: %s%s%s\n", file, rc == SR_ENOSPC ? "" : sr_strerror(rc),
                rc == SR_ENOSPC || !why[0] ? "" : ": ", why);
    if (c->kept_line)
        fprintf(stderr,
                "sitrep ingest: %s: kept: the rows up to line %ld (%lld accepted) are committed; "
                "the batch after line %ld was rolled back\n",
                file, c->kept_line, (long long)c->kept, c->kept_line);
    else
        fprintf(stderr, "sitrep ingest: %s: nothing of it was kept (its batch was rolled back)\n",
                file);
    if (rc == SR_ENOSPC)
        fprintf(stderr,
                "sitrep ingest: %s: free some space and run the same ingest again: the rows "
                "already stored are counted as duplicates\n",
                file);
}

static int ingest_reject(void *ctx, long line, const char *raw, const char *reason)
{
    ingest_ctx *c = ctx;
    char where[32];
    c->line = line;
    snprintf(where, sizeof where, "line %ld", line);
    int rc = sr_store_reject(c->st, c->source, where, raw, reason, NULL);
    c->rejected++;
    ingest_progress(c);
    if (!rc && ++c->in_batch >= INGEST_BATCH)
        rc = ingest_flush(c);
    return rc;
}

static int ingest_row(void *ctx, long line, const sr_sample *s)
{
    ingest_ctx *c = ctx;
    bool dup;
    c->line = line;
    int rc = sr_store_put(c->st, s, &dup);
    char fault[160];
    if (rc == SR_EINVAL || rc == SR_ENOENT)
        return ingest_reject(ctx, line, s->entity,
                             rc == SR_ENOENT
                                 ? "metric not defined in the cache"
                                 : sr_store_sample_fault(c->st, s, fault, sizeof fault));
    if (rc)
        return rc;
    if (dup)
        c->duplicates++;
    else
        c->accepted++;
    ingest_progress(c);
    if (++c->in_batch >= INGEST_BATCH)
        rc = ingest_flush(c);
    return rc;
}

static const opt_spec ingest_opts[] = {
    {"--config", "FILE", "the configuration (metrics, cache, time zone)"},
    {"--source", "NAME", "the name rejects are filed under (default ingest:FILE)"},
    {NULL, NULL, NULL},
};

/*
 * After a load: the figures of every page at the snapshot's size, computed
 * once and persisted in the cache (sr_store_memo_save, metrics/store.h), so
 * that the next dashboard's first frame or snapshot reads them instead of
 * computing them. Nothing is shown and no role looks (the layout without a
 * role): nothing to audit.
 */
static void warm_pages(const sr_config *cfg, sr_store *st)
{
    sr_layout_data *ld;
    if (cfg->n_pages == 0 || sr_layout_build(cfg, &ld))
        return;
    FILE *null = fopen("/dev/null", "w");
    const sr_tui_layout *lay = sr_layout_get(ld);
    sr_ms now = sr_now_ms();
    for (size_t i = 0; null && i < lay->n_pages; i++) {
        sr_screen_render_text(st, lay, lay->pages[i].name, 160, 48, sr_locale_utf8(), now, null);
        sr_store_memo_save(st, st); /* page by page: the memo is bounded */
    }
    if (null)
        fclose(null);
    sr_layout_destroy(ld);
}

static int cmd_ingest(int argc, char **argv)
{
    const command *self = find_command("ingest");
    parsed p;
    parse_opts(self, argc, argv, &p, INT_MAX);
    if (p.npos == 0)
        die_usage(self, "which file? e.g. sitrep ingest samples.csv");
    refuse_elevated("ingest");
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_store *st = open_cache(cfg, SR_STORE_BULK);
    int status = SR_EXIT_OK;
    bool loaded = false;
    for (int i = 0; i < p.npos; i++) {
        const char *file = p.pos[i];
        FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
        if (!f) {
            fprintf(stderr, "sitrep ingest: %s: %s\n", file, strerror(errno));
            status = SR_EXIT_FAIL;
            continue;
        }
        char source[512];
        const char *named = opt(self, &p, "--source");
        snprintf(source, sizeof source, "%s%s", named ? "" : "ingest:", named ? named : file);
        /* percent and time left from the file's size, when it has one */
        struct stat sb;
        int64_t size = fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) ? sb.st_size : 0;
        ingest_ctx c = {.cfg = cfg, .st = st, .source = source, .f = f};
        c.progress = sr_progress_create(file, size);
        sr_ingest_sink sink = {&c, ingest_row, ingest_reject};
        char err[512] = "";
        int rc = sr_store_begin(st);
        if (!rc)
            rc = sr_ingest_csv_pipelined(f, &cfg->metrics, cfg->timezone, &sink, NULL, err,
                                         sizeof err);
        sr_progress_destroy(c.progress); /* the line is erased before anything else is said */
        if (f != stdin)
            fclose(f);
        if (rc) {
            sr_store_rollback(st);
            if (rc == SR_EINVAL && err[0])
                fprintf(stderr, "%s:%s\n", file, err + (strncmp(err, "line ", 5) == 0 ? 5 : 0));
            else
                ingest_failed(file, &c, rc, err[0] ? err : sr_store_errmsg(st));
            status = rc == SR_EINVAL ? SR_EXIT_USAGE : SR_EXIT_FAIL;
            continue;
        }
        if ((rc = sr_store_commit(st))) {
            ingest_failed(file, &c, rc, sr_store_errmsg(st));
            status = SR_EXIT_FAIL;
            continue;
        }
        printf("%s: %lld accepted, %lld duplicates, %lld rejected\n", file, (long long)c.accepted,
               (long long)c.duplicates, (long long)c.rejected);
        if (c.rejected && status == SR_EXIT_OK)
            status = SR_EXIT_REJECTS;
        loaded |= c.accepted > 0;
    }
    if (loaded)
        warm_pages(cfg, st);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return status;
}

/* ---- query ---- */

/*
 * The --at option: a time in the config's zone, or "latest" (the newest
 * sample in the cache). def when the option is absent; a usage error when
 * it does not parse.
 */
static sr_ms at_opt(const command *c, const parsed *p, const sr_config *cfg, sr_store *st,
                    sr_ms def)
{
    const char *v = opt(c, p, "--at");
    sr_ms t;
    if (!v)
        return def;
    if (strcmp(v, "latest") == 0) {
        int rc = sr_store_newest(st, &t);
        if (rc == SR_ENODATA)
            die_usage(c, "--at latest: the cache %s holds no samples yet", cfg->cache);
        if (rc)
            die_usage(c, "--at latest: %s", sr_strerror(rc));
        return t + 1; /* windows end before their end: keep the newest sample in */
    }
    if (sr_parse_time(v, cfg->timezone, &t))
        die_usage(c,
                  "--at: expected ISO-8601 (2023-12-31T18:00), epoch seconds or latest, got "
                  "'%s'",
                  v);
    return t;
}

/* ---- who is asking (snapshot, query) ---- */

/* The user, their role and its privacy policy, and the audit rows their
 * views of personal data call for (written through a writable handle of
 * its own: the command reads a read-only one). */
typedef struct {
    sr_identity id;
    const sr_cfg_role *role; /* borrowed from the config */
    sr_privacy priv;
    sr_audit_sink audit;
} viewer;

static void viewer_init(viewer *v, const sr_config *cfg)
{
    memset(v, 0, sizeof *v);
    sr_identity_init(&v->id);
    v->role = sr_role_match(cfg, &v->id, NULL, 0);
    sr_role_privacy(cfg, v->role, &v->priv);
    v->audit = (sr_audit_sink){.cfg = cfg, .id = &v->id, .role = v->role->name};
}

/* Closes the audit's handle; a view whose audit row could not be written
 * makes the command fail (status becomes SR_EXIT_FAIL), and the command
 * has printed none of it: no figure about a person leaves sitrep without
 * its audit row. */
static void viewer_fini(viewer *v, const char *cmd, int *status)
{
    if (v->audit.rc) {
        fprintf(stderr,
                "sitrep %s: the audit row of a view of personal data was not written, so the view "
                "is not shown: %s\n",
                cmd, v->audit.err[0] ? v->audit.err : sr_strerror(v->audit.rc));
        *status = SR_EXIT_FAIL;
    }
    sr_audit_sink_fini(&v->audit);
}

static const opt_spec query_opts[] = {
    {"--config", "FILE", "the configuration"},
    {"--entity", "PATH", "the node to aggregate (default: everything)"},
    {"--agg", "AGG", "count sum avg min max last pNN within (default: the metric's own)"},
    {"--window", "DUR", "the window ending now, e.g. 15m 8h 7d (default 8h)"},
    {"--from", "TIME", "window start: ISO-8601 or epoch seconds"},
    {"--to", "TIME", "window end, exclusive (default now)"},
    {"--at", "TIME", "the window ends at TIME instead of now (ISO-8601, epoch seconds, latest)"},
    {"--by", "children", "one row per child of the entity"},
    {"--format", "FMT", "text, csv or json (default text)"},
    {NULL, NULL, NULL},
};

static int cmd_query(int argc, char **argv)
{
    const command *self = find_command("query");
    parsed p;
    parse_opts(self, argc, argv, &p, 1);
    if (p.npos != 1)
        die_usage(self, "which metric? e.g. sitrep query response_p1 --agg p90");
    const char *fmt = opt(self, &p, "--format") ? opt(self, &p, "--format") : "text";
    if (strcmp(fmt, "text") && strcmp(fmt, "csv") && strcmp(fmt, "json"))
        die_usage(self, "--format: expected text, csv or json, got '%s'", fmt);
    const char *by = opt(self, &p, "--by");
    if (by && strcmp(by, "children") != 0)
        die_usage(self, "--by: expected 'children', got '%s'", by);
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    int status = SR_EXIT_USAGE;
    sr_store *st = NULL;
    sr_child_result *rows = NULL;
    const char **masks = NULL;      /* per row: NULL, or what to show instead of the value */
    sr_privacy_cells *cells = NULL; /* the thin cells of the grid, when it applies */
    viewer who;
    viewer_init(&who, cfg);
    const sr_metric_def *d = sr_catalog_find(&cfg->metrics, p.pos[0]);
    if (!d) {
        fprintf(stderr, "sitrep query: unknown metric '%s'", p.pos[0]);
        sr_suggest sg;
        sr_suggest_init(&sg, p.pos[0]);
        for (size_t i = 0; i < cfg->metrics.n; i++)
            sr_suggest_try(&sg, cfg->metrics.v[i].name);
        const char *best = sr_suggest_best(&sg);
        if (best)
            fprintf(stderr, "; did you mean '%s'?", best);
        fprintf(stderr, " (metrics are defined in %s)\n", cfg->path);
        goto done;
    }
    sr_query q = {.metric = d->name, .entity = opt(self, &p, "--entity")};
    if (q.entity && strcmp(q.entity, "/") == 0)
        q.entity = "";
    q.agg.kind = SR_AGG_VALUE;
    const char *agg = opt(self, &p, "--agg");
    if (agg && sr_agg_parse(agg, &q.agg)) {
        usage_error(self, "--agg: expected count sum avg min max last pNN within, got '%s'", agg);
        goto done;
    }
    if (!sr_agg_valid_for(q.agg, d->kind)) {
        fprintf(stderr, "sitrep query: %s is a %s metric; '%s' does not apply to it\n", d->name,
                sr_kind_name(d->kind), agg);
        goto done;
    }
    if (q.agg.kind == SR_AGG_WITHIN && isnan(d->target)) {
        /* the share within target of no target is not "no data" */
        fprintf(stderr, "sitrep query: %s has no target, so 'within' does not apply to it (%s)\n",
                d->name, cfg->path);
        goto done;
    }
    sr_ms now = sr_now_ms(), window = 8 * SR_MS_HOUR;
    const char *w = opt(self, &p, "--window"), *from = opt(self, &p, "--from"),
               *to = opt(self, &p, "--to");
    const char *at = opt(self, &p, "--at");
    if (w && (from || to)) {
        usage_error(self, "give either --window or --from/--to, not both");
        goto done;
    }
    if (at && (from || to)) {
        usage_error(self, "give either --at or --from/--to, not both");
        goto done;
    }
    if (w && sr_parse_duration(w, &window)) {
        usage_error(self, "--window: expected a duration such as 15m, 8h, 7d, got '%s'", w);
        goto done;
    }
    q.to_ms = now;
    if (at) { /* the dashboard's and snapshot's --at: "latest" needs the cache */
        st = open_cache(cfg, SR_STORE_READONLY);
        q.to_ms = at_opt(self, &p, cfg, st, now);
    }
    if (to && sr_parse_time(to, cfg->timezone, &q.to_ms)) {
        usage_error(
            self, "--to: expected ISO-8601 (2024-01-31T08:00:00Z) or epoch seconds, got '%s'", to);
        goto done;
    }
    q.from_ms = q.to_ms - window;
    if (from && sr_parse_time(from, cfg->timezone, &q.from_ms)) {
        usage_error(self,
                    "--from: expected ISO-8601 (2024-01-31T08:00:00Z) or epoch seconds, got '%s'",
                    from);
        goto done;
    }
    if (q.from_ms >= q.to_ms) {
        usage_error(self, "the window is empty: --from must be before --to");
        goto done;
    }
    status = SR_EXIT_FAIL;

    sr_priv_hide hide = sr_privacy_entity(&who.priv, q.entity ? q.entity : "");
    if (hide != SR_PRIV_SHOWN) {
        char why[256];
        sr_privacy_why_text(&who.priv, hide, sr_privacy_level(q.entity), why, sizeof why);
        fprintf(stderr, "sitrep query: refused: %s: %s\n", q.entity, why);
        status = SR_EXIT_FAIL;
        goto done;
    }
    if (!st)
        st = open_cache(cfg, SR_STORE_READONLY);
    bool personal = false;
    sr_privacy_metric_personal(st, &cfg->metrics, &who.priv, d->name, &personal);
    sr_ms asked_from = q.from_ms, asked_to = q.to_ms;
    bool gridded = sr_privacy_grid_window(&who.priv, personal, &q.from_ms, &q.to_ms);
    if (gridded && (q.from_ms != asked_from || q.to_ms != asked_to)) {
        char f[40], t[40], g[32];
        sr_format_time_utc(q.from_ms, f, sizeof f);
        sr_format_time_utc(q.to_ms, t, sizeof t);
        sr_format_duration(who.priv.grid_ms, g, sizeof g);
        fprintf(stderr,
                "sitrep query: %s is personal data: for role %s the window is aligned to whole "
                "%s slices: %s to %s\n",
                d->name, who.role->name, g, f, t);
    }
    size_t n = 0;
    sr_child_result one;
    bool shown_count = q.agg.kind == SR_AGG_COUNT; /* of nothing: 0 */
    int rc;
    if (q.from_ms >= q.to_ms) { /* nothing whole in the window */
        one = (sr_child_result){.entity = q.entity ? q.entity : "",
                                .r = {shown_count ? 0 : NAN, 0, true}};
        rows = by ? NULL : &one;
        n = by ? 0 : 1;
        rc = 0;
    } else if (by) {
        rc = sr_query_children(st, &cfg->metrics, &q, &rows, &n);
    } else {
        one.entity = q.entity ? q.entity : "";
        rc = sr_query_run(st, &cfg->metrics, &q, &one.r);
        rows = &one;
        n = 1;
    }
    if (rc) {
        if (rc == SR_ENOENT)
            fprintf(stderr, "sitrep query: no entity '%s' in the cache\n", q.entity);
        else
            cache_failed("query", cfg, st, rc);
        status = SR_EXIT_FAIL;
        if (!by)
            rows = NULL;
        goto done;
    }
    char aggname[32];
    sr_agg shown = q.agg;
    if (shown.kind == SR_AGG_VALUE && d->kind != SR_KIND_RATIO)
        shown = d->agg;
    sr_agg_format(shown, aggname, sizeof aggname);

    /* the role's policy (metrics/privacy.h): hidden children go, suppressed
     * values show their mask, and under the grid a figure with a thin cell */
    if (gridded && (rc = sr_privacy_cells_read(st, &cfg->metrics, &who.priv, d->name, q.from_ms,
                                               q.to_ms, &cells))) {
        cache_failed("query", cfg, st, rc);
        status = SR_EXIT_FAIL;
        goto done;
    }
    masks = xcalloc(n + 1, sizeof *masks);
    size_t kept = 0;
    sr_privacy_report pr = {0};
    for (size_t i = 0; i < n; i++) {
        if (!sr_privacy_figure(&who.priv, personal, d->kind, shown, rows[i].entity, &rows[i].r,
                               &masks[kept], &pr))
            continue;
        if (cells && !masks[kept] && rows[i].r.n > 0 &&
            !sr_privacy_cells_whole(cells, rows[i].entity, q.from_ms, q.to_ms)) {
            masks[kept] = sr_privacy_grid_mask(&who.priv);
            rows[i].r.value = NAN;
        }
        rows[kept++] = rows[i];
    }
    n = kept;
    bool personal_shown = pr.personal_shown;
    char hidden[512];
    sr_privacy_hidden_text(&who.priv, &pr, hidden, sizeof hidden);
    if (hidden[0])
        fprintf(stderr, "sitrep query: %s\n", hidden);
    if (personal_shown) {
        char detail[512];
        snprintf(detail, sizeof detail, "query: metric %s, entity %s%s", d->name,
                 q.entity && *q.entity ? q.entity : "(all)", by ? ", by children" : "");
        sr_audit_sink_hook(&who.audit, "view-personal", detail);
        if (who.audit.rc) { /* no figure about a person without its audit row */
            status = SR_EXIT_FAIL;
            goto done;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!masks[i] && isinf(rows[i].r.value))
            fprintf(stderr, "sitrep query: %s: the %s overflows (beyond %g): no figure\n",
                    *rows[i].entity ? rows[i].entity : "(all)", aggname, DBL_MAX);
    }
    if (strcmp(fmt, "csv") == 0) {
        static const char *const header[] = {"entity", "agg", "value", "n", NULL};
        sr_csv_out csv;
        sr_csv_init(&csv, stdout);
        sr_csv_header(&csv, header);
        for (size_t i = 0; i < n; i++) {
            sr_csv_field(&csv, rows[i].entity);
            sr_csv_field(&csv, aggname);
            sr_csv_figure(&csv, rows[i].r.value, masks[i]);
            if (masks[i])
                sr_csv_field(&csv, "");
            else
                sr_csv_integer(&csv, rows[i].r.n);
            sr_csv_end_row(&csv);
        }
    } else if (strcmp(fmt, "json") == 0) {
        json_t *root = json_object(), *arr = json_array();
        char f[40], t[40];
        sr_format_time_utc(q.from_ms, f, sizeof f);
        sr_format_time_utc(q.to_ms, t, sizeof t);
        json_object_set_new(root, "metric", json_string(d->name));
        json_object_set_new(root, "unit", json_string(d->unit));
        json_object_set_new(root, "agg", json_string(aggname));
        json_object_set_new(root, "from", json_string(f));
        json_object_set_new(root, "to", json_string(t));
        for (size_t i = 0; i < n; i++) {
            json_t *o = json_object();
            json_object_set_new(o, "entity", json_string(rows[i].entity));
            json_object_set_new(o, "value", sr_json_number(rows[i].r.value));
            /* every row has the same members: a suppressed one's n is null */
            json_object_set_new(o, "n", masks[i] ? json_null() : json_integer(rows[i].r.n));
            if (masks[i])
                json_object_set_new(o, "suppressed", json_string(masks[i]));
            else if (isinf(rows[i].r.value))
                json_object_set_new(o, "overflow", json_true());
            json_object_set_new(o, "exact", json_boolean(rows[i].r.exact));
            json_array_append_new(arr, o);
        }
        json_object_set_new(root, "rows", arr);
        sr_json_write(root, JSON_INDENT(2), stdout);
        json_decref(root);
    } else {
        printf("%-40s %-8s %14s %10s\n", "ENTITY", "AGG", "VALUE", "N");
        for (size_t i = 0; i < n; i++) {
            char v[64], nn[32];
            sr_format_value(rows[i].r.value, d, shown, false, v, sizeof v); /* as a tile */
            snprintf(nn, sizeof nn, "%lld", (long long)rows[i].r.n);
            if (masks[i]) {
                snprintf(v, sizeof v, "%s", masks[i]);
                snprintf(nn, sizeof nn, "-");
            }
            char *e = xclean(*rows[i].entity ? rows[i].entity : "(all)"); /* from data */
            printf("%-40s %-8s %14s %10s%s\n", e, aggname, *v ? v : "-", nn,
                   rows[i].r.exact ? "" : "  (from rollups, within 0.5%)");
            free(e);
        }
    }
    status = SR_EXIT_OK;
done:
    viewer_fini(&who, "query", &status);
    sr_privacy_cells_destroy(cells);
    free(masks);
    if (by)
        free(rows);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return status;
}

/* ---- snapshot ---- */

static const opt_spec snapshot_opts[] = {
    {"--config", "FILE", "the configuration"},
    {"--format", "FMT",
     "text (the screen as plain text), json, csv, or markdown (the shift handover report)"},
    {"--width", "COLS", "text: the screen's width (default 160)"},
    {"--height", "ROWS", "text: the screen's height (default 48)"},
    {"--page", "NAME", "text: the page to render (default the first)"},
    {"--at", "TIME", "the windows end at TIME instead of now (ISO-8601, epoch seconds, latest)"},
    {"--shift", "DUR",
     "json, csv, markdown: every panel over the last shift of DUR, against the shift before "
     "(markdown's default: [sitrep] shift; json and csv: each panel's own window)"},
    {NULL, NULL, NULL},
};

/* A whole number in [lo, hi] for option name, or a usage error. */
static int int_opt(const command *c, const char *name, const char *v, int def, int lo, int hi)
{
    if (!v)
        return def;
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < lo || n > hi)
        die_usage(c, "%s: expected a whole number from %d to %d, got '%s'", name, lo, hi, v);
    return (int)n;
}

static int snapshot_text(const command *self, const parsed *p)
{
    int w = int_opt(self, "--width", opt(self, p, "--width"), 160, 20, 1000);
    int h = int_opt(self, "--height", opt(self, p, "--height"), 48, 5, 1000);
    bool utf8 = sr_locale_utf8();
    sr_config *cfg = load_config(opt(self, p, "--config"));
    sr_store *st = open_cache(cfg, SR_STORE_READONLY);
    viewer who;
    viewer_init(&who, cfg);
    sr_layout_data *ld;
    sr_layout_build_role(cfg, who.role, &ld);
    sr_layout_set_audit(ld, sr_audit_sink_hook, &who.audit);
    const char *page = opt(self, p, "--page");
    sr_ms now = at_opt(self, p, cfg, st, sr_now_ms());
    /* into memory first: printed only once its views of personal data are
     * audited */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        sr_fatal("out of memory");
    int rc = sr_screen_render_text(st, sr_layout_get(ld), page, w, h, utf8, now, mem);
    fclose(mem);
    if (!who.audit.rc)
        fwrite(text, 1, len, stdout);
    free(text);
    if (rc == SR_ENOENT) {
        fprintf(stderr, "sitrep snapshot: no page '%s' in %s; pages:", page, cfg->path);
        const sr_tui_layout *lay = sr_layout_get(ld);
        for (size_t i = 0; i < lay->n_pages; i++)
            fprintf(stderr, " %s", lay->pages[i].name);
        fprintf(stderr, "\n");
    } else if (rc) {
        cache_failed("snapshot", cfg, st, rc);
    }
    int status = rc == SR_ENOENT ? SR_EXIT_USAGE : rc ? SR_EXIT_FAIL : SR_EXIT_OK;
    viewer_fini(&who, "snapshot", &status);
    sr_layout_destroy(ld);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return status;
}

static int cmd_snapshot(int argc, char **argv)
{
    const command *self = find_command("snapshot");
    parsed p;
    parse_opts(self, argc, argv, &p, 0);
    const char *fmt = opt(self, &p, "--format");
    if (!fmt)
        die_usage(self, "--format is required: text, json, csv or markdown");
    if (strcmp(fmt, "text") == 0)
        return snapshot_text(self, &p);
    sr_report_format f;
    if (sr_report_format_parse(fmt, &f) != 0)
        die_usage(self, "--format: expected text, json, csv or markdown, got '%s'", fmt);
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_ms shift = f == SR_REPORT_MARKDOWN ? cfg->shift_ms : 0;
    const char *sh = opt(self, &p, "--shift");
    if (sh && (sr_parse_duration(sh, &shift) || shift < SR_MS_MIN || shift > SR_MS_DAY))
        die_usage(self, "--shift: expected a duration from 1m to 24h such as 8h, got '%s'", sh);
    sr_store *st = open_cache(cfg, SR_STORE_READONLY);
    sr_ms now = sr_now_ms();
    sr_ms at = at_opt(self, &p, cfg, st, now);
    sr_report *r;
    char err[512];
    viewer who;
    viewer_init(&who, cfg);
    sr_report_viewer rv = {who.role, &who.priv, sr_audit_sink_hook, &who.audit};
    int rc = sr_report_build(cfg, st, &rv, at, shift, now, &r, err, sizeof err);
    if (rc == SR_ECORRUPT) {
        cache_failed("snapshot", cfg, st, rc);
    } else if (rc) {
        fprintf(stderr, "sitrep snapshot: %s\n", err);
    } else if (who.audit.rc) {
        sr_report_destroy(r); /* not shown: viewer_fini says why */
    } else {
        rc = sr_report_write(r, f, stdout);
        if (rc)
            fprintf(stderr, "sitrep snapshot: writing the report: %s\n", sr_strerror(rc));
        sr_report_destroy(r);
    }
    int status = rc ? SR_EXIT_FAIL : SR_EXIT_OK;
    viewer_fini(&who, "snapshot", &status);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return status;
}

/* ---- check-config ---- */

static const opt_spec check_opts[] = {
    {"--config", "FILE", "the configuration to check"},
    {NULL, NULL, NULL},
};

static int cmd_check_config(int argc, char **argv)
{
    const command *self = find_command("check-config");
    parsed p;
    parse_opts(self, argc, argv, &p, 1);
    const char *arg = opt(self, &p, "--config");
    if (!arg && p.npos == 1)
        arg = p.pos[0];
    sr_config *cfg = load_config(arg); /* exits 2 with every error */
    sr_plugins *pl = load_adapters(cfg);
    /* every check a source makes of its options when the collector opens
     * it, without a poll; not with the group's rights (app/trust.c): nothing
     * an adapter reads (a secret's file) is opened then */
    sr_cfg_errors errs = {0};
    int rc = 0;
    for (size_t i = 0; i < cfg->n_adapters && !sr_trust_elevated(); i++) {
        char warn[1024] = "";
        int r = sr_cfg_open_adapter(cfg, &cfg->adapters[i], sr_plugins_adapter(pl, i), &errs, warn,
                                    sizeof warn);
        if (warn[0]) { /* a warning is said and passes (exit 0) */
            char *safe = xclean(warn);
            printf("%s:%d: [adapter.%s] warning: %s\n", cfg->path, cfg->adapters[i].line,
                   cfg->adapters[i].name, safe);
            free(safe);
        }
        rc = rc ? rc : r;
    }
    if (rc) {
        sr_plugins_destroy(pl);
        report_config(&errs, cfg->path, rc);
        sr_config_destroy(cfg);
        return SR_EXIT_USAGE;
    }
    printf("%s: ok: %zu metric%s, %zu adapter%s, %zu panel%s; cache %s\n", cfg->path,
           cfg->metrics.n, cfg->metrics.n == 1 ? "" : "s", cfg->n_adapters,
           cfg->n_adapters == 1 ? "" : "s", cfg->n_panels, cfg->n_panels == 1 ? "" : "s",
           cfg->cache);
    for (size_t i = 0; i < cfg->n_adapters; i++) {
        const sr_cfg_adapter *a = &cfg->adapters[i];
        const sr_adapter *ad = sr_plugins_adapter(pl, i);
        if (strcmp(a->type, SR_PLUGIN_TYPE) != 0)
            continue;
        /* what the plugin says of itself is text from outside: made safe */
        char type[SR_NAME_MAX], what[512];
        sr_text_clean(ad->type, type, sizeof type);
        sr_text_clean(ad->description, what, sizeof what);
        printf("%s:%d: [adapter.%s] plugin '%s' (adapter ABI %u): %s\n", cfg->path, a->line,
               a->name, type, (unsigned)ad->abi_version, what);
    }
    sr_plugins_destroy(pl);
    sr_config_destroy(cfg);
    return SR_EXIT_OK;
}

/* ---- sources, rejects ---- */

static const opt_spec sources_opts[] = {
    {"--config", "FILE", "the configuration"},
    {"--format", "FMT", "text (a table, the default) or json"},
    {NULL, NULL, NULL},
};

/* The configured sources of cfg, for sr_sources_read (caller frees). */
static sr_source_conf *source_conf(const sr_config *cfg)
{
    sr_source_conf *c = xcalloc(cfg->n_adapters + 1, sizeof *c);
    for (size_t i = 0; i < cfg->n_adapters; i++)
        c[i] = (sr_source_conf){cfg->adapters[i].name, cfg->adapters[i].type};
    return c;
}

/* "2024-05-01 08:00:00" in tz, or "" for never. */
static void local_time(const char *tz, sr_ms t, char *buf, size_t len)
{
    sr_civil c;
    if (t <= 0 || sr_utc_to_local(tz, t, &c) != 0)
        snprintf(buf, len, "%s", "");
    else
        snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d", c.year, c.mon, c.mday, c.hour, c.min,
                 c.sec);
}

enum { S_NAME, S_TYPE, S_STATE, S_OK, S_NEXT, S_ACC, S_DUP, S_REJ, S_N };

/* Prints the list as a table; the last error is cut to the terminal's
 * width when stdout is one. */
static void sources_table(const sr_config *cfg, const sr_source_list *l, sr_ms now, bool utf8)
{
    static const char *const head[S_N] = {"SOURCE",    "TYPE",     "STATE",     "LAST SUCCESS",
                                          "NEXT POLL", "ACCEPTED", "DUPLICATE", "REJECTED"};
    enum { CELL = 160 };
    char(*cells)[S_N][CELL] = xcalloc(l->n + 1, sizeof *cells);
    int w[S_N];
    for (int c = 0; c < S_N; c++)
        w[c] = (int)strlen(head[c]);
    for (size_t i = 0; i < l->n; i++) {
        const sr_source_info *s = &l->v[i];
        char name[SR_NAME_MAX + 2], t[40], ago[32];
        snprintf(name, sizeof name, "%s%s", s->h.name, s->configured ? "" : "*");
        sr_screen_text(name, 40, utf8, cells[i][S_NAME], CELL);
        sr_screen_text(s->h.type, 24, utf8, cells[i][S_TYPE], CELL);
        snprintf(cells[i][S_STATE], CELL, "%s", sr_source_state_name(s->state));
        local_time(cfg->timezone, s->h.last_ok_ms, t, sizeof t);
        sr_format_ago(now, s->h.last_ok_ms, ago, sizeof ago);
        snprintf(cells[i][S_OK], CELL, "%s%s%s%s", ago, t[0] ? " (" : "", t, t[0] ? ")" : "");
        sr_format_next(now, s->polled ? &s->h : NULL, cells[i][S_NEXT], CELL);
        if (s->polled) {
            snprintf(cells[i][S_ACC], CELL, "%lld", (long long)s->h.accepted);
            snprintf(cells[i][S_DUP], CELL, "%lld", (long long)s->h.duplicates);
            snprintf(cells[i][S_REJ], CELL, "%lld", (long long)s->h.rejected);
        } else {
            for (int c = S_ACC; c <= S_REJ; c++)
                snprintf(cells[i][c], CELL, "-");
        }
        for (int c = 0; c < S_N; c++) {
            if (sr_text_width(cells[i][c]) > w[c])
                w[c] = sr_text_width(cells[i][c]);
        }
    }
    int cols = 0; /* the terminal's width, when stdout is one */
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
        cols = ws.ws_col;
    for (size_t i = 0; i <= l->n; i++) {
        int used = 0;
        for (int c = 0; c < S_N; c++) {
            const char *t = i == 0 ? head[c] : cells[i - 1][c];
            int width = sr_text_width(t);
            bool right = c >= S_ACC;
            printf("%s%*s%s%*s", c ? "  " : "", right ? w[c] - width : 0, "", t,
                   right ? 0 : w[c] - width, "");
            used += (c ? 2 : 0) + w[c];
        }
        /* the last error at the end of the row; on a narrow terminal, on a
         * line of its own below the row */
        const char *err = i == 0 ? "LAST ERROR" : l->v[i - 1].h.last_error;
        char e[1024];
        int room = cols > 0 ? cols - used - 2 : -1;
        if (room < 0 || room >= 20) {
            printf("%s%s\n", *err ? "  " : "", sr_screen_text(err, room, utf8, e, sizeof e));
        } else {
            printf("\n");
            if (i > 0 && *err)
                printf("    last error: %s\n",
                       sr_screen_text(err, cols > 17 ? cols - 16 : 1, utf8, e, sizeof e));
        }
    }
    bool unpolled = false;
    for (size_t i = 0; i < l->n_configured; i++)
        unpolled |= !l->v[i].polled;
    if (l->n > l->n_configured)
        printf("* not in %s: what an earlier collector recorded\n", cfg->path);
    if (l->n == 0)
        printf("(no source: %s has no [adapter.NAME] section)\n", cfg->path);
    else if (unpolled)
        printf("(a source shown without figures has not been polled yet: start `sitrep collect` "
               "or `sitrep`)\n");
    free(cells);
}

/* ISO-8601 UTC, or JSON null for never. */
static json_t *json_time(sr_ms t)
{
    if (t <= 0)
        return json_null();
    char buf[40];
    sr_format_time_utc(t, buf, sizeof buf);
    return json_string(buf);
}

static void sources_json(const sr_source_list *l, sr_ms now)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < l->n; i++) {
        const sr_source_info *s = &l->v[i];
        json_t *o = json_object();
        char next[32];
        sr_format_next(now, s->polled ? &s->h : NULL, next, sizeof next);
        json_object_set_new(o, "name", json_string(s->h.name));
        json_object_set_new(o, "type", json_string(s->h.type));
        json_object_set_new(o, "configured", json_boolean(s->configured));
        json_object_set_new(o, "state", json_string(sr_source_state_name(s->state)));
        json_object_set_new(o, "polled", json_boolean(s->polled));
        json_object_set_new(o, "last_success", json_time(s->h.last_ok_ms));
        json_object_set_new(o, "last_poll", json_time(s->h.last_poll_ms));
        json_object_set_new(o, "next_poll", json_time(s->h.next_poll_ms));
        json_object_set_new(o, "next_poll_text", json_string(next));
        json_object_set_new(o, "interval_ms", json_integer(s->h.interval_ms));
        json_object_set_new(o, "timeout_ms", json_integer(s->h.timeout_ms));
        json_object_set_new(o, "accepted", json_integer(s->h.accepted));
        json_object_set_new(o, "duplicates", json_integer(s->h.duplicates));
        json_object_set_new(o, "rejected", json_integer(s->h.rejected));
        json_object_set_new(o, "polls", json_integer(s->h.polls));
        json_object_set_new(o, "failures", json_integer(s->h.failures));
        json_object_set_new(o, "last_error",
                            s->h.last_error[0] ? json_string(s->h.last_error) : json_null());
        json_array_append_new(arr, o);
    }
    json_t *root = json_object();
    json_object_set_new(root, "as_of", json_time(now));
    json_object_set_new(root, "sources", arr);
    sr_json_write(root, JSON_INDENT(2), stdout);
    json_decref(root);
}

/* ---- check-cache ---- */

static const opt_spec check_cache_opts[] = {
    {"--config", "FILE", "the configuration"},
    {NULL, NULL, NULL},
};

static void print_finding(void *ctx, const char *finding)
{
    (void)ctx;
    printf("  %s\n", finding);
}

/* Findings shown at most: past them the file is damaged all the same. */
#define CHECK_CACHE_MAX 100

static int cmd_check_cache(int argc, char **argv)
{
    const command *self = find_command("check-cache");
    parsed p;
    parse_opts(self, argc, argv, &p, 0);
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_store *st = NULL;
    char err[600];
    int found = 0, rc = access(cfg->cache, F_OK) == 0 || errno != ENOENT
                            ? sr_store_open(cfg->cache, SR_STORE_READONLY, &st, err, sizeof err)
                            : SR_ENOENT;
    if (rc == SR_ENOENT)
        fprintf(stderr, "sitrep check-cache: there is no cache %s yet\n", cfg->cache);
    else if (rc == SR_ECORRUPT)
        printf("%s: damaged: it cannot be opened (%s)\n", cfg->cache, err);
    else if (rc)
        fprintf(stderr, "sitrep check-cache: cannot open the cache %s\n", err);
    else if ((rc = sr_store_check(st, CHECK_CACHE_MAX, print_finding, NULL, &found)))
        fprintf(stderr, "sitrep check-cache: %s: the check could not run: %s\n", cfg->cache,
                sr_store_errmsg(st));
    else if (found)
        printf("%s: damaged: quick_check found %s%d problem%s (above)\n", cfg->cache,
               found >= CHECK_CACHE_MAX ? "at least " : "", found, found == 1 ? "" : "s");
    else
        printf("%s: ok (quick_check found no problem)\n", cfg->cache);
    if (found || rc == SR_ECORRUPT)
        printf("to recover: " CACHE_DAMAGED_HELP "\n");
    sr_store_close(st);
    sr_config_destroy(cfg);
    return rc || found ? SR_EXIT_FAIL : SR_EXIT_OK;
}

static int cmd_sources(int argc, char **argv)
{
    const command *self = find_command("sources");
    parsed p;
    parse_opts(self, argc, argv, &p, 0);
    const char *fmt = opt(self, &p, "--format") ? opt(self, &p, "--format") : "text";
    if (strcmp(fmt, "text") != 0 && strcmp(fmt, "json") != 0)
        die_usage(self, "--format: expected text or json, got '%s'", fmt);
    bool utf8 = sr_locale_utf8();
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_store *st = open_cache(cfg, SR_STORE_READONLY);
    sr_source_conf *conf = source_conf(cfg);
    sr_ms now = sr_now_ms();
    sr_source_list l;
    viewer who;
    viewer_init(&who, cfg);
    int rc = sr_sources_read(st, conf, cfg->n_adapters, now, &l);
    if (!rc)
        sr_privacy_sources(&who.priv, l.v, l.n); /* errors may quote input data */
    if (rc) {
        cache_failed("sources", cfg, rc == SR_ENOMEM ? NULL : st, rc);
    } else if (strcmp(fmt, "json") == 0) {
        sources_json(&l, now);
    } else {
        sources_table(cfg, &l, now, utf8);
    }
    int status = rc ? SR_EXIT_FAIL : SR_EXIT_OK;
    viewer_fini(&who, "sources", &status);
    sr_source_list_fini(&l);
    free(conf);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return status;
}

static const opt_spec rejects_opts[] = {
    {"--config", "FILE", "the configuration"},
    {"--source", "NAME", "only this source's rejects"},
    {"--limit", "N", "the newest N (default 50)"},
    {NULL, NULL, NULL},
};

/* Whether the raw text and reason are printed, and how many were not. */
struct reject_out {
    bool raw;
    size_t withheld;
};

static int print_reject(void *ctx, const sr_reject_row *r)
{
    struct reject_out *o = ctx;
    char t[40];
    sr_format_time_utc(r->ts_ms, t, sizeof t);
    /* rows that were refused are the least trusted text there is: made safe */
    char *source = xclean(r->source), *where = xclean(r->where ? r->where : "-");
    if (!o->raw) {
        printf("%.19sZ  %s  %s: (reason and raw text withheld)\n", t, source, where);
        o->withheld++;
    } else {
        char *reason = xclean(r->reason), *raw = xclean(r->raw);
        printf("%.19sZ  %s  %s: %s\n    %s\n", t, source, where, reason, raw);
        free(reason);
        free(raw);
    }
    free(source);
    free(where);
    return 0;
}

static int cmd_rejects(int argc, char **argv)
{
    const command *self = find_command("rejects");
    parsed p;
    parse_opts(self, argc, argv, &p, 0);
    int limit = 50;
    const char *l = opt(self, &p, "--limit");
    if (l) {
        char *end;
        long v = strtol(l, &end, 10);
        if (*end || v <= 0 || v > 1000000)
            die_usage(self, "--limit: expected a positive whole number, got '%s'", l);
        limit = (int)v;
    }
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_store *st = open_cache(cfg, SR_STORE_READONLY);
    viewer who;
    viewer_init(&who, cfg);
    const char *src = opt(self, &p, "--source");
    int64_t total = 0;
    int rc = sr_store_reject_count(st, src, &total);
    if (rc) {
        cache_failed("rejects", cfg, st, rc);
        viewer_fini(&who, "rejects", &rc);
        sr_store_close(st);
        sr_config_destroy(cfg);
        return SR_EXIT_FAIL;
    }
    printf("%lld rejected row%s%s%s\n", (long long)total, total == 1 ? "" : "s",
           src ? " from " : "", src ? src : "");
    /* unparsed input cannot be shown to hold no personal data (privacy.h) */
    struct reject_out o = {.raw = sr_privacy_raw_shown(&who.priv)};
    rc = sr_store_rejects(st, src, limit, print_reject, &o);
    if (rc)
        cache_failed("rejects", cfg, st, rc);
    char line[512];
    sr_privacy_withheld_text(&who.priv, SR_PRIV_PERSONAL, o.withheld, "rejected row",
                             "shown without reason and raw text (unparsed input may hold "
                             "personal data)",
                             line, sizeof line);
    if (line[0])
        printf("%s\n", line);
    int status = rc ? SR_EXIT_FAIL : SR_EXIT_OK;
    viewer_fini(&who, "rejects", &status);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return status;
}

/* ---- whoami, audit ---- */

static const opt_spec whoami_opts[] = {
    {"--config", "FILE", "the configuration (its [role.*] sections)"},
    {NULL, NULL, NULL},
};

/* Prints "every NOUN" or the names of the listed items, comma-separated. */
static void print_names(const char *label, bool all, const size_t *idx, size_t n,
                        const char *(*name)(const sr_config *, size_t), const sr_config *cfg,
                        const char *noun)
{
    printf("%-12s ", label);
    if (all)
        printf("every %s", noun);
    else if (n == 0)
        printf("none");
    for (size_t i = 0; !all && i < n; i++)
        printf("%s%s", i ? ", " : "", name(cfg, idx[i]));
    printf("\n");
}

static const char *page_name(const sr_config *cfg, size_t i)
{
    return cfg->pages[i].name;
}

static const char *panel_name(const sr_config *cfg, size_t i)
{
    return cfg->panels[i].name;
}

static int cmd_whoami(int argc, char **argv)
{
    const command *self = find_command("whoami");
    parsed p;
    parse_opts(self, argc, argv, &p, 0);
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_identity id;
    sr_identity_init(&id);
    char why[128], drill[96];
    const sr_cfg_role *r = sr_role_match(cfg, &id, why, sizeof why);
    printf("%-12s %s%s\n", "user", id.user,
           id.override ? " (SITREP_TEST_USER: for tests only)" : "");
    printf("%-12s ", "groups");
    for (size_t i = 0; i < id.n_groups; i++)
        printf("%s%s", i ? ", " : "", id.groups[i]);
    printf("%s\n", id.n_groups ? "" : "none");
    if (r->line)
        printf("%-12s %s (%s; %s:%d)\n", "role", r->name, why, cfg->path, r->line);
    else
        printf("%-12s %s (%s; built in)\n", "role", r->name, why);
    print_names("pages", r->all_pages, r->pages, r->n_pages, page_name, cfg, "page");
    print_names("panels", r->all_panels, r->panels, r->n_panels, panel_name, cfg, "panel");
    sr_role_drill_text(cfg, r->drill, drill, sizeof drill);
    printf("%-12s %s\n", "drill", drill);
    printf("%-12s %s\n", "acknowledge", r->acknowledge ? "yes" : "no");
    printf("%-12s %s\n", "personal", r->personal ? "yes" : "no");
    printf("%-12s %s\n", "wall", r->wall ? "yes (the dashboard starts in wall mode)" : "no");
    printf("%-12s %s\n", "audit",
           r->audit ? "yes (may read the audit table: sitrep audit)"
                    : "no (sitrep audit is refused)");
    if (!r->personal) {
        char g[32];
        sr_format_duration(cfg->cell_grid_ms, g, sizeof g);
        printf("%-12s figures of people from fewer than %d observations show as <%d\n",
               "small cells", cfg->min_cell, cfg->min_cell);
        printf("%-12s figures of people over whole %s slices, each of %d observations or none\n",
               "grid", g, cfg->min_cell);
    }
    printf("%-12s no percentile over fewer than %d observations\n", "percentiles",
           SR_PRIV_MIN_PCT_N);
    if (sr_trust_elevated())
        printf("%-12s the group %s's (setgid): only %s, no --config, a viewer only\n", "rights",
               sr_trust_group(), SR_SYSTEM_CONFIG);
    else
        printf("%-12s your own\n", "rights");
    printf("%-12s %s\n", "terminal", id.tty[0] ? id.tty : "none");
    printf("%-12s %s\n", "ssh", id.ssh[0] ? id.ssh : "none");
    sr_config_destroy(cfg);
    return SR_EXIT_OK;
}

static const opt_spec audit_opts[] = {
    {"--config", "FILE", "the configuration (where the cache is)"},
    {"--since", "TIME",
     "only records from TIME on: ISO-8601, epoch seconds, or a duration ago (7d)"},
    {"--format", "FMT", "text (a table, the default) or json"},
    {NULL, NULL, NULL},
};

enum { AUDIT_COLS = 7 };

struct audit_out {
    json_t *arr; /* NULL: text */
    /* text: the rows made safe, printed once every column's width is known */
    char (*rows)[AUDIT_COLS][512];
    size_t n;
};

static int print_audit(void *ctx, const sr_audit_row *r)
{
    struct audit_out *o = ctx;
    char t[40], user[160], tty[64], ssh[128], action[64], detail[512], role[SR_NAME_MAX];
    sr_format_time_utc(r->at_ms, t, sizeof t);
    if (o->arr) {
        json_t *j = json_object();
        json_object_set_new(j, "id", json_integer(r->id));
        json_object_set_new(j, "at", json_string(t));
        json_object_set_new(j, "user", json_string(r->user));
        json_object_set_new(j, "role", json_string(r->role));
        json_object_set_new(j, "tty", json_string(r->tty));
        json_object_set_new(j, "ssh", json_string(r->ssh));
        json_object_set_new(j, "action", json_string(r->action));
        json_object_set_new(j, "detail", json_string(r->detail));
        json_array_append_new(o->arr, j);
        return 0;
    }
    /* what the table holds came from other processes: made safe */
    sr_text_clean(r->user, user, sizeof user);
    sr_text_clean(r->role, role, sizeof role);
    sr_text_clean(r->tty[0] ? r->tty : "-", tty, sizeof tty);
    sr_text_clean(r->ssh[0] ? r->ssh : "-", ssh, sizeof ssh);
    sr_text_clean(r->action, action, sizeof action);
    sr_text_clean(r->detail, detail, sizeof detail);
    o->rows = xrealloc(o->rows, (o->n + 1) * sizeof *o->rows);
    const char *cells[AUDIT_COLS] = {t, user, role, tty, ssh, action, detail};
    for (int c = 0; c < AUDIT_COLS; c++)
        snprintf(o->rows[o->n][c], sizeof o->rows[o->n][c], "%s", cells[c]);
    snprintf(o->rows[o->n][0], sizeof o->rows[o->n][0], "%.19sZ", t);
    o->n++;
    return 0;
}

/* The audit table: each column as wide as its longest value, the detail last. */
static void audit_table(const struct audit_out *o)
{
    static const char *const head[AUDIT_COLS] = {"AT (UTC)", "USER",   "ROLE",  "TTY",
                                                 "SSH",      "ACTION", "DETAIL"};
    int w[AUDIT_COLS];
    for (int c = 0; c < AUDIT_COLS; c++) {
        w[c] = sr_text_width(head[c]);
        for (size_t i = 0; i < o->n; i++)
            if (sr_text_width(o->rows[i][c]) > w[c])
                w[c] = sr_text_width(o->rows[i][c]);
    }
    for (size_t i = 0; i <= o->n; i++) {
        for (int c = 0; c < AUDIT_COLS; c++) {
            const char *s = i ? o->rows[i - 1][c] : head[c];
            if (c == AUDIT_COLS - 1)
                printf("%s\n", s);
            else
                printf("%s%*s", s, w[c] - sr_text_width(s) + 2, "");
        }
    }
}

static int cmd_audit(int argc, char **argv)
{
    const command *self = find_command("audit");
    parsed p;
    parse_opts(self, argc, argv, &p, 0);
    const char *fmt = opt(self, &p, "--format") ? opt(self, &p, "--format") : "text";
    if (strcmp(fmt, "text") && strcmp(fmt, "json"))
        die_usage(self, "--format: expected text or json, got '%s'", fmt);
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_identity id;
    sr_identity_init(&id);
    const sr_cfg_role *role = sr_role_match(cfg, &id, NULL, 0);
    if (!role->audit) {
        fprintf(stderr,
                "sitrep audit: refused: the role %s may not read the audit table (audit = no); "
                "a role with audit = yes may\n",
                role->name);
        sr_config_destroy(cfg);
        return SR_EXIT_FAIL;
    }
    sr_ms since = 0, ago;
    const char *s = opt(self, &p, "--since");
    if (s && sr_parse_duration(s, &ago) == 0) {
        since = sr_now_ms() - ago;
    } else if (s && sr_parse_time(s, cfg->timezone, &since)) {
        usage_error(self,
                    "--since: expected ISO-8601, epoch seconds or a duration such as 7d, "
                    "got '%s'",
                    s);
        sr_config_destroy(cfg);
        return SR_EXIT_USAGE;
    }
    sr_store *st = open_cache(cfg, SR_STORE_READONLY);
    struct audit_out o = {strcmp(fmt, "json") == 0 ? json_array() : NULL, NULL, 0};
    int rc = sr_store_audit_list(st, since, print_audit, &o);
    if (!o.arr && !rc)
        audit_table(&o);
    free(o.rows);
    if (o.arr) {
        sr_json_write(o.arr, JSON_INDENT(2), stdout);
        json_decref(o.arr);
    }
    if (rc)
        cache_failed("audit", cfg, st, rc);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return rc ? SR_EXIT_FAIL : SR_EXIT_OK;
}

/* ---- alerts: the list, acknowledge, silence ---- */

static const opt_spec alerts_opts[] = {
    {"--config", "FILE", "the configuration (where the cache is)"},
    {"--format", "FMT", "text (a table, the default) or json"},
    {NULL, NULL, NULL},
};

/* "2026-11-27 14:03" in tz, or "-" for none. */
static void alert_time(const char *tz, sr_ms t, char *buf, size_t len)
{
    sr_civil c;
    if (t <= 0 || sr_utc_to_local(tz, t, &c) != 0)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%04d-%02d-%02d %02d:%02d", c.year, c.mon, c.mday, c.hour, c.min);
}

static json_t *alert_json(const sr_config *cfg, const sr_alert *a)
{
    char val[64], thr[64], t[40];
    sr_alerting_format(cfg, a, val, thr, sizeof val);
    json_t *j = json_object();
    json_object_set_new(j, "key", json_string(a->key));
    json_object_set_new(j, "panel", json_string(a->panel));
    json_object_set_new(j, "metric", json_string(a->metric));
    json_object_set_new(j, "entity", json_string(a->entity));
    json_object_set_new(j, "severity", json_string(sr_status_name(a->severity)));
    json_object_set_new(j, "state", json_string(sr_alert_state_name(a->state)));
    json_object_set_new(j, "value", sr_json_number(a->value));
    json_object_set_new(j, "threshold", sr_json_number(a->threshold));
    json_object_set_new(j, "value_text", json_string(val));
    json_object_set_new(j, "threshold_text", json_string(thr));
    sr_format_time_utc(a->raised_at_ms, t, sizeof t);
    json_object_set_new(j, "raised_at", json_string(t));
    json_object_set_new(j, "acked_by", a->acked_at_ms ? json_string(a->acked_by) : json_null());
    sr_format_time_utc(a->acked_at_ms, t, sizeof t);
    json_object_set_new(j, "acked_at", a->acked_at_ms ? json_string(t) : json_null());
    json_object_set_new(j, "note", json_string(a->note));
    sr_format_time_utc(a->silenced_until_ms, t, sizeof t);
    json_object_set_new(j, "silenced_until",
                        a->state == SR_ALERT_SILENCED ? json_string(t) : json_null());
    return j;
}

static int cmd_alerts(int argc, char **argv)
{
    const command *self = find_command("alerts");
    parsed p;
    parse_opts(self, argc, argv, &p, 0);
    const char *fmt = opt(self, &p, "--format") ? opt(self, &p, "--format") : "text";
    if (strcmp(fmt, "text") && strcmp(fmt, "json"))
        die_usage(self, "--format: expected text or json, got '%s'", fmt);
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_store *st = open_cache(cfg, SR_STORE_READONLY);
    sr_alert *a = NULL;
    size_t n = 0;
    viewer me;
    viewer_init(&me, cfg);
    size_t withheld = 0;
    sr_priv_hide why;
    int rc = sr_store_alert_list(st, SR_ALERTS_OPEN, &a, &n);
    if (!rc)
        rc = sr_privacy_alerts(st, &cfg->metrics, &me.priv, a, &n, &withheld, &why);
    char withheld_line[512];
    sr_privacy_withheld_text(&me.priv, why, withheld, "alert", "withheld", withheld_line,
                             sizeof withheld_line);
    if (rc) {
        cache_failed("alerts", cfg, st, rc);
    } else if (strcmp(fmt, "json") == 0) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, alert_json(cfg, &a[i]));
        sr_json_write(arr, JSON_INDENT(2), stdout);
        json_decref(arr);
    } else if (n == 0) {
        printf("no open alert%s\n", withheld ? " shown" : "");
    } else {
        printf("%-8s %-32s %-10s %10s %10s  %-16s  %s\n", "SEVERITY", "KEY", "STATE", "VALUE",
               "THRESHOLD", "RAISED", "ACKNOWLEDGED / SILENCED");
        for (size_t i = 0; i < n; i++) {
            char key[SR_ALERT_KEY_MAX], val[64], thr[64], raised[40], extra[512], t[40];
            char who[SR_ALERT_WHO_MAX], note[SR_ALERT_NOTE_MAX];
            /* what the cache holds came from other processes: made safe */
            sr_text_clean(a[i].key, key, sizeof key);
            sr_alerting_format(cfg, &a[i], val, thr, sizeof val);
            alert_time(cfg->timezone, a[i].raised_at_ms, raised, sizeof raised);
            extra[0] = 0;
            if (a[i].state == SR_ALERT_SILENCED) {
                alert_time(cfg->timezone, a[i].silenced_until_ms, t, sizeof t);
                snprintf(extra, sizeof extra, "silenced until %s", t);
            } else if (a[i].acked_at_ms) {
                sr_text_clean(a[i].acked_by, who, sizeof who);
                sr_text_clean(a[i].note, note, sizeof note);
                snprintf(extra, sizeof extra, "by %s%s%s", who, note[0] ? ": " : "", note);
            }
            printf("%-8s %-32s %-10s %10s %10s  %-16s  %s\n", sr_status_name(a[i].severity), key,
                   sr_alert_state_name(a[i].state), val, thr, raised, extra);
        }
    }
    if (!rc && withheld_line[0])
        fprintf(strcmp(fmt, "json") == 0 ? stderr : stdout, "%s\n", withheld_line);
    int status = rc ? SR_EXIT_FAIL : SR_EXIT_OK;
    viewer_fini(&me, "alerts", &status);
    free(a);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return status;
}

static const opt_spec ack_opts[] = {
    {"--config", "FILE", "the configuration (where the cache is)"},
    {"--note", "TEXT", "why, or what is being done (recorded with who and when)"},
    {NULL, NULL, NULL},
};

static const opt_spec silence_opts[] = {
    {"--config", "FILE", "the configuration (where the cache is)"},
    {"--for", "DUR", "how long, e.g. 15m, 1h, 4h, 8h (required)"},
    {"--note", "TEXT", "why (recorded with who and when)"},
    {NULL, NULL, NULL},
};

/* sitrep ack and sitrep silence: the same role check, write and audit row
 * as the dashboard's (sr_alerting_act). */
static int alert_act_cli(const char *name, int argc, char **argv)
{
    const command *self = find_command(name);
    parsed p;
    parse_opts(self, argc, argv, &p, 1);
    if (p.npos != 1)
        die_usage(self, "which alert? its KEY as 'sitrep alerts' lists it");
    sr_alert_act act = {.key = p.pos[0]};
    if (strcmp(name, "ack") == 0) {
        act.kind = SR_ALERT_ACT_ACK;
        act.note = opt(self, &p, "--note");
    } else {
        act.kind = SR_ALERT_ACT_SILENCE;
        act.note = opt(self, &p, "--note");
        const char *d = opt(self, &p, "--for");
        if (!d)
            die_usage(self, "for how long? --for 1h");
        if (sr_parse_duration(d, &act.for_ms) || act.for_ms <= 0)
            die_usage(self, "--for: expected a duration such as 15m, 1h or 8h, got '%s'", d);
    }
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_store *st = open_cache(cfg, SR_STORE_VIEWER);
    sr_identity id;
    sr_identity_init(&id);
    char msg[SR_ALERT_KEY_MAX + SR_ALERT_NOTE_MAX + 128];
    int rc = sr_alerting_act(cfg, st, &id, &act, sr_now_ms(), msg, sizeof msg);
    if (rc)
        fprintf(stderr, "sitrep %s: %s\n", name, msg);
    else
        printf("%s\n", msg);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return rc ? SR_EXIT_FAIL : SR_EXIT_OK;
}

static int cmd_ack(int argc, char **argv)
{
    return alert_act_cli("ack", argc, argv);
}

static int cmd_silence(int argc, char **argv)
{
    return alert_act_cli("silence", argc, argv);
}

/* ---- the dashboard ---- */

static const opt_spec dashboard_opts[] = {
    {"--config", "FILE", "the configuration"},
    {"--theme", "NAME", "colour theme (overrides [sitrep] theme)"},
    {"--at", "TIME",
     "start with the windows ending at TIME (ISO-8601, epoch seconds, or 'latest': the newest "
     "sample), e.g. to look at an old export; 0 goes live"},
    {"--wall", NULL,
     "wall mode, for an unattended screen: no cursor, every key ignored but the [wall] exit "
     "chord (default ctrl-x q; or a signal), the high-contrast theme unless [sitrep] theme or "
     "--theme names another, large numerals, pages rotating every [wall] rotate and held on a "
     "page with an active CRIT alert (also for a role with wall = yes)"},
    {NULL, NULL, NULL},
};

/*
 * The dashboard's screen handle: read-only in every role (its writes go
 * through a handle of its own, see dashboard.c). When this process gets the
 * collector lock it first creates or migrates the cache with a writable
 * handle, as `sitrep collect` does; a viewer that finds the cache being
 * created waits for it (open_cache). Exits 1 on failure.
 */
static sr_store *open_screen_cache(const sr_config *cfg, sr_lock *lock)
{
    if (!lock) /* with the group's rights: a viewer, never the collector */
        return open_cache(cfg, SR_STORE_READONLY);
    if (sr_lock_try(lock, NULL) == 0)
        sr_store_close(open_cache(cfg, 0));
    return open_cache(cfg, SR_STORE_READONLY);
}

/* The SQLite memory of all the dashboard's connections together (the
 * screen's, the writer's, the pool's); past it, each page cache reuses its
 * own pages. Pages read again from the OS's cache cost no measurable
 * compute time; make bench prints the peak RSS. 1.5 MiB: with the memo and
 * the stamps kept in memory a render reads few pages, and at 3 MiB the
 * caches were still filling at the end of the wall's 30-day soak (+1.6 MiB
 * of its growth; measured, 2026-12). */
#define DASHBOARD_SQLITE_BYTES (3 << 19)

static int cmd_dashboard(int argc, char **argv)
{
    const command *self = find_command("dashboard");
    sr_xalloc_tune();
    sr_store_limit_memory(DASHBOARD_SQLITE_BYTES);
    parsed p;
    parse_opts(self, argc, argv, &p, 0);
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_plugins *pl = load_adapters(cfg);
    /* a user who may not write the cache (a read-only folder) is a viewer:
     * the collector's lock is not theirs to take */
    char why[4400];
    bool read_only =
        sr_trust_elevated() || sr_share_explain_write(cfg->cache, true, why, sizeof why) == 0;
    sr_lock *lock = read_only ? NULL : open_lock(cfg);
    sr_store *st = open_screen_cache(cfg, lock);
    sr_identity id;
    sr_identity_init(&id);
    bool wall = opt(self, &p, "--wall") || sr_role_match(cfg, &id, NULL, 0)->wall;
    const char *name = opt(self, &p, "--theme") ? opt(self, &p, "--theme") : cfg->theme;
    /* a wall is read from across the room: high-contrast unless a theme is named;
     * like "default", not asked for by name, so without its file the built-in
     * palette serves */
    bool implied = wall && !opt(self, &p, "--theme") && strcmp(cfg->theme, "default") == 0;
    if (implied)
        name = "high-contrast";
    sr_theme *theme = NULL;
    char err[2048] = "";
    /* "default" is also built in: without its file the built-in palette serves */
    if (sr_dashboard_theme(cfg, name, &theme, err, sizeof err) && strcmp(name, "default") != 0 &&
        !implied) {
        fprintf(stderr, "%s\n", err);
        sr_lock_destroy(lock);
        sr_store_close(st);
        sr_plugins_destroy(pl);
        sr_config_destroy(cfg);
        return SR_EXIT_USAGE;
    }
    err[0] = 0;
    const char *nc = getenv("NO_COLOR");
    const char *at = opt(self, &p, "--at");
    bool latest = at && strcmp(at, "latest") == 0; /* placed once the cache has a sample */
    sr_dashboard_opts o = {.no_color = nc && *nc,
                           .theme = theme,
                           .at_ms = latest ? 0 : at_opt(self, &p, cfg, st, 0),
                           .at_latest = latest,
                           .adapters = pl,
                           .lock = lock,
                           .viewer_only = read_only,
                           .wall = wall};
    int rc = sr_dashboard_run(cfg, st, &o, err, sizeof err);
    if (rc)
        fprintf(stderr, "sitrep: %s\n", err[0] ? err : sr_strerror(rc));
    sr_screen_theme_destroy(theme);
    sr_store_close(st);
    sr_lock_destroy(lock);
    sr_plugins_destroy(pl);
    sr_config_destroy(cfg);
    return rc ? SR_EXIT_FAIL : SR_EXIT_OK;
}

/* ---- the table ---- */

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);
static int cmd_completion(int argc, char **argv);

static const opt_spec no_opts[] = {{NULL, NULL, NULL}};
static const opt_spec help_opts[] = {
    {"--format", "FMT",
     "text (the default) or man: roff, the parts of the manual pages "
     "generated from these tables (make man)"},
    {NULL, NULL, NULL},
};

static const command commands[] = {
    {"dashboard", cmd_dashboard, "[--config FILE] [--theme NAME] [--at TIME] [--wall]",
     "the dashboard, collecting in the same process unless another sitrep collects into the "
     "cache (then a viewer); what plain 'sitrep' runs",
     dashboard_opts},
    {"collect", cmd_collect, "[--config FILE] [--once] [--log FILE]",
     "poll every configured source and write the cache (headless; Ctrl-C or SIGTERM "
     "stops, SIGHUP reloads the config; refused while another sitrep collects into the cache)",
     collect_opts},
    {"ingest", cmd_ingest, "[--config FILE] FILE.csv...",
     "bulk-load samples (header metric,entity,ts,value[,key]); prints "
     "'FILE: N accepted, N duplicates, N rejected'",
     ingest_opts},
    {"query", cmd_query,
     "METRIC [--entity PATH] [--agg AGG] [--window DUR] [--at TIME|latest | --from T --to T] [--by "
     "children] "
     "[--format text|csv|json]",
     "aggregate a metric over a window, for scripts", query_opts},
    {"snapshot", cmd_snapshot,
     "--format text|json|csv|markdown [--width COLS --height ROWS --page NAME] [--at TIME] "
     "[--shift DUR] [--config FILE]",
     "one frame of the screen as text; every panel's value as JSON or CSV; the shift report as "
     "Markdown",
     snapshot_opts},
    {"check-config", cmd_check_config, "[--config FILE]",
     "validate the configuration; every error as FILE:LINE: message", check_opts},
    {"check-cache", cmd_check_cache, "[--config FILE]",
     "check the cache file's structure (SQLite's quick_check, read-only); exit status 1 "
     "when it is damaged",
     check_cache_opts},
    {"sources", cmd_sources, "[--config FILE] [--format text|json]",
     "every source: type, state (live, late, failing), last success, next poll, rows "
     "accepted, duplicate, rejected, last error",
     sources_opts},
    {"rejects", cmd_rejects, "[--source NAME] [--limit N]",
     "rows that could not become samples, with their reasons", rejects_opts},
    {"whoami", cmd_whoami, "[--config FILE]",
     "your user, groups and role, and what the role allows", whoami_opts},
    {"audit", cmd_audit, "[--since TIME] [--format text|json] [--config FILE]",
     "the audit table: views of personal data and acknowledgements, who, when, from where",
     audit_opts},
    {"alerts", cmd_alerts, "[--format text|json] [--config FILE]",
     "the open alerts: severity, key, state, value and threshold, when raised, who "
     "acknowledged them and why",
     alerts_opts},
    {"ack", cmd_ack, "KEY [--note TEXT] [--config FILE]",
     "acknowledge an alert as you (roles with acknowledge = yes; audited)", ack_opts},
    {"silence", cmd_silence, "KEY --for DUR [--note TEXT] [--config FILE]",
     "silence an alert for a time (roles with acknowledge = yes; audited)", silence_opts},
    {"help", cmd_help, "[COMMAND | config | keys | exit-status] [--format text|man]",
     "this help, a command's, every configuration key ('sitrep help config'), the dashboard's "
     "keys or the exit codes",
     help_opts},
    {"version", cmd_version, "", "print the version", no_opts},
    {"completion", cmd_completion, "bash",
     "print the bash completion script, generated from these tables (make install puts it in "
     "BASHCOMPDIR)",
     no_opts},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    }
    return NULL;
}

static void usage_command(FILE *f, const command *c)
{
    fprintf(f, "Usage: sitrep %s %s\n\n%s\n", c->name, c->args, c->summary);
    if (c->opts && c->opts[0].name) {
        fprintf(f, "\nOptions:\n");
        for (int k = 0; c->opts[k].name; k++) {
            char left[64];
            snprintf(left, sizeof left, "%s%s%s", c->opts[k].name, c->opts[k].arg ? " " : "",
                     c->opts[k].arg ? c->opts[k].arg : "");
            fprintf(f, "  %-22s %s\n", left, c->opts[k].help);
        }
    }
}

/* The exit codes, for `sitrep --help` and sitrep(1). */
static const struct {
    int code;
    const char *what;
} exit_codes[] = {
    {SR_EXIT_OK, "success"},
    {SR_EXIT_FAIL, "a runtime failure (cache, file, source)"},
    {SR_EXIT_USAGE, "a usage or configuration error (messages name FILE:LINE)"},
    {SR_EXIT_REJECTS, "ingest finished but rejected some rows (see 'sitrep rejects')"},
};

static void exit_status_text(FILE *f)
{
    for (size_t i = 0; i < sizeof exit_codes / sizeof exit_codes[0]; i++)
        fprintf(f, "  %d  %s\n", exit_codes[i].code, exit_codes[i].what);
}

static void keys_text(FILE *f)
{
    size_t n;
    const sr_key_help *kh = sr_screen_key_help(&n);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-14s %s\n", kh[i].keys, kh[i].what);
}

static void usage(FILE *f)
{
    fprintf(f,
            "sitrep %s - a terminal dashboard for police operational KPIs\n\n"
            "Usage: sitrep COMMAND [OPTIONS]\n\nCommands:\n",
            SITREP_VERSION);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(
        f, "\nThe configuration is --config FILE, else the first that exists of ./config.ini,\n"
           "$XDG_CONFIG_HOME/sitrep/config.ini (~/.config/sitrep/config.ini) and\n" SR_SYSTEM_CONFIG
           ". 'sitrep COMMAND --help' shows a command's options.\n\n"
           "Exit codes:\n");
    exit_status_text(f);
    fprintf(f, "\nKeys in the dashboard:\n");
    keys_text(f);
}

/* ---- the same tables as roff, for the manual pages (`make man`) ---- */

/* A command as a subsection of sitrep(1): synopsis, summary, options. */
static void command_man(FILE *f, const command *c)
{
    char name[64];
    snprintf(name, sizeof name, "sitrep %s", c->name);
    sr_roff_heading(f, 2, name);
    fputs(".PP\n", f);
    sr_roff_line(f, name, c->args);
    sr_roff_para(f, c->summary);
    for (int k = 0; c->opts && c->opts[k].name; k++)
        sr_roff_item(f, c->opts[k].name, c->opts[k].arg, c->opts[k].help);
}

static void exit_status_man(FILE *f)
{
    for (size_t i = 0; i < sizeof exit_codes / sizeof exit_codes[0]; i++) {
        char code[16];
        snprintf(code, sizeof code, "%d", exit_codes[i].code);
        sr_roff_item(f, code, NULL, exit_codes[i].what);
    }
}

static void keys_man(FILE *f)
{
    size_t n;
    const sr_key_help *kh = sr_screen_key_help(&n);
    for (size_t i = 0; i < n; i++)
        sr_roff_item(f, kh[i].keys, NULL, kh[i].what);
}

/*
 * The configuration reference, generated from config.c's option tables and
 * the adapters' option specs, as text (`sitrep help config`) or as roff
 * (sitrep.conf(5)): one walk over the tables, two writers.
 */
typedef struct {
    void (*section)(FILE *f, const sr_cfg_section_spec *sec);
    /* takes: what the key takes and its default, "duration (default 5s)" */
    void (*option)(FILE *f, const char *name, const char *takes, const char *help);
    /* what: the type's description; opts: its own keys, NULL-terminated */
    void (*adapter_type)(FILE *f, const char *type, const char *what,
                         const sr_ad_option_spec *opts);
    void (*section_end)(FILE *f);
} config_writer;

/* The column width of an adapter type's keys: its longest, at least 10. */
static int key_width(const sr_ad_option_spec *o)
{
    size_t w = 10;
    for (; o && o->key; o++)
        w = strlen(o->key) > w ? strlen(o->key) : w;
    return (int)w;
}

static void section_text(FILE *f, const sr_cfg_section_spec *sec)
{
    fprintf(f, "%s\n    %s\n", sec->header, sec->help);
}

static void option_text(FILE *f, const char *name, const char *takes, const char *help)
{
    fprintf(f, "  %-12s %s\n", name, takes);
    fprintf(f, "  %-12s %s\n", "", help);
}

static void adapter_type_text(FILE *f, const char *type, const char *what,
                              const sr_ad_option_spec *opts)
{
    fprintf(f, "  type = %s: %s:\n", type, what);
    int w = key_width(opts);
    for (const sr_ad_option_spec *o = opts; o && o->key; o++)
        fprintf(f, "    %-*s %s%s\n", w, o->key, o->help, o->required ? " (required)" : "");
}

static void section_end_text(FILE *f)
{
    fprintf(f, "\n");
}

static const config_writer config_text = {
    .section = section_text,
    .option = option_text,
    .adapter_type = adapter_type_text,
    .section_end = section_end_text,
};

static void section_man(FILE *f, const sr_cfg_section_spec *sec)
{
    sr_roff_heading(f, 2, sec->header);
    sr_roff_para(f, sec->help);
}

static void option_man(FILE *f, const char *name, const char *takes, const char *help)
{
    sr_roff_item(f, name, takes, help);
}

static void adapter_type_man(FILE *f, const char *type, const char *what,
                             const sr_ad_option_spec *opts)
{
    char tag[64];
    snprintf(tag, sizeof tag, "type = %s", type);
    sr_roff_item(f, tag, NULL, what);
    fputs(".RS\n", f);
    for (const sr_ad_option_spec *o = opts; o && o->key; o++) {
        char help[1024];
        snprintf(help, sizeof help, "%s%s", o->help, o->required ? " (required)" : "");
        sr_roff_item(f, o->key, NULL, help);
    }
    fputs(".RE\n", f);
}

static void section_end_man(FILE *f)
{
    (void)f;
}

static const config_writer config_man = {
    .section = section_man,
    .option = option_man,
    .adapter_type = adapter_type_man,
    .section_end = section_end_man,
};

static void help_config(FILE *f, const config_writer *w)
{
    for (size_t i = 0; i < sr_cfg_section_count(); i++) {
        const sr_cfg_section_spec *sec = sr_cfg_section_at(i);
        w->section(f, sec);
        for (size_t k = 0; k < sec->n_options; k++) {
            const sr_cfg_option *o = sr_cfg_option_at(sec, k);
            char type[96], def[160] = "";
            sr_cfg_option_type_text(o, type, sizeof type);
            if (o->flags & SR_OPT_REQUIRED)
                snprintf(def, sizeof def, "required");
            else if (o->flags & SR_OPT_RATIO_REQUIRED)
                snprintf(def, sizeof def, "required for a ratio");
            else if (o->def && *o->def)
                snprintf(def, sizeof def, "default %s", o->def);
            char takes[300];
            snprintf(takes, sizeof takes, "%s%s%s%s", type, def[0] ? " (" : "", def,
                     def[0] ? ")" : "");
            w->option(f, o->name, takes, o->help);
        }
        if (strcmp(sec->kind, "adapter") == 0) {
            for (size_t a = 0; a < sr_registry_count(); a++) {
                const sr_adapter *ad = sr_registry_at(a);
                char what[512];
                snprintf(what, sizeof what, "%s; its own keys", ad->description);
                w->adapter_type(f, ad->type, what, ad->options);
            }
            w->adapter_type(f, SR_PLUGIN_TYPE,
                            "an adapter loaded at run time; its own keys, and the plugin's",
                            sr_plugin_keys);
        }
        w->section_end(f);
    }
}

static void config_help_text(FILE *f)
{
    help_config(f, &config_text);
}

static void config_help_man(FILE *f)
{
    help_config(f, &config_man);
}

/* The topics of `sitrep help TOPIC` besides the commands; the completion
 * offers the same. */
typedef struct {
    const char *name;
    void (*text)(FILE *f);
    void (*man)(FILE *f);
} help_topic;

static const help_topic help_topics[] = {
    {"config", config_help_text, config_help_man},
    {"keys", keys_text, keys_man},
    {"exit-status", exit_status_text, exit_status_man},
};

static int cmd_help(int argc, char **argv)
{
    const command *self = find_command("help");
    parsed p;
    parse_opts(self, argc, argv, &p, 1);
    const char *fmt = opt(self, &p, "--format");
    if (fmt && strcmp(fmt, "text") != 0 && strcmp(fmt, "man") != 0)
        die_usage(self, "--format: expected text or man, got '%s'", fmt);
    bool man = fmt && strcmp(fmt, "man") == 0;
    const char *topic = p.npos ? p.pos[0] : NULL;
    const help_topic *t = NULL;
    for (size_t i = 0; topic && i < sizeof help_topics / sizeof help_topics[0]; i++) {
        if (strcmp(topic, help_topics[i].name) == 0)
            t = &help_topics[i];
    }
    if (!topic) {
        for (size_t i = 0; man && i < N_COMMANDS; i++)
            command_man(stdout, &commands[i]);
        if (!man)
            usage(stdout);
    } else if (t) {
        (man ? t->man : t->text)(stdout);
    } else if (find_command(topic)) {
        if (man)
            command_man(stdout, find_command(topic));
        else
            usage_command(stdout, find_command(topic));
    } else {
        fprintf(stderr, "sitrep: no command '%s'\n", topic);
        return SR_EXIT_USAGE;
    }
    return SR_EXIT_OK;
}

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("sitrep %s (adapter ABI %d, cache schema %d, SQLite %s, libuv %s)\n", SITREP_VERSION,
           SR_ADAPTER_ABI, SR_STORE_SCHEMA, sr_store_sqlite_version(), uv_version_string());
    return SR_EXIT_OK;
}

/*
 * Bash completion, generated from the command table so that it cannot
 * drift: the commands after `sitrep`, each command's options, and an
 * option's value where the table says what it is (a FILE: file names; a
 * choice written a|b|c in the command's usage; a literal lower-case word
 * such as `--by children`). A command's positional FILE... completes file
 * names too; `help` completes the commands and `config`.
 */

/* Whether s is one lower-case word (a literal, not a placeholder). */
static bool literal_word(const char *s)
{
    return s[0] && strspn(s, "abcdefghijklmnopqrstuvwxyz") == strlen(s);
}

/* The values an option takes as blank-separated words into buf: the choices
 * its command's usage gives ("--format text|json"), or its literal value
 * ("--by children"); "" when it names a placeholder (DUR, NAME). */
static void opt_choices(const command *c, const opt_spec *o, char *buf, size_t len)
{
    buf[0] = 0;
    size_t nlen = strlen(o->name);
    for (const char *u = strstr(c->args, o->name); u; u = strstr(u + 1, o->name)) {
        if (u[nlen] != ' ')
            continue;
        const char *w = u + nlen + 1;
        size_t wl = strcspn(w, " ]");
        if (!memchr(w, '|', wl))
            continue;
        snprintf(buf, len, "%.*s", (int)wl, w);
        for (char *b = buf; *b; b++) {
            if (*b == '|')
                *b = ' ';
        }
        return;
    }
    if (literal_word(o->arg))
        snprintf(buf, len, "%s", o->arg);
}

/* One command's case arm: its options, what each option's value completes
 * to, and what its positional arguments complete to. */
static void completion_command(FILE *f, const command *c)
{
    fprintf(f, "    %s)\n        opts=\"--help", c->name);
    for (int k = 0; c->opts[k].name; k++)
        fprintf(f, " %s", c->opts[k].name);
    fprintf(f, "\"\n        case $prev in\n");
    for (int k = 0; c->opts[k].name; k++) {
        const opt_spec *o = &c->opts[k];
        if (!o->arg)
            continue;
        char choices[128];
        opt_choices(c, o, choices, sizeof choices);
        if (strcmp(o->arg, "FILE") == 0)
            fprintf(f, "        %s) _sitrep_files; return ;;\n", o->name);
        else if (choices[0])
            fprintf(f, "        %s) _sitrep_words \"%s\"; return ;;\n", o->name, choices);
        else
            fprintf(f, "        %s) return ;;\n", o->name);
    }
    fprintf(f, "        esac\n");
    if (c->run == cmd_help) {
        fprintf(f, "        words=\"");
        for (size_t i = 0; i < sizeof help_topics / sizeof help_topics[0]; i++)
            fprintf(f, "%s ", help_topics[i].name);
        for (size_t i = 0; i < N_COMMANDS; i++)
            fprintf(f, "%s%s", i ? " " : "", commands[i].name);
        fprintf(f, "\"\n");
    } else if (strncmp(c->args, "FILE", 4) == 0 || strstr(c->args, "] FILE")) {
        fprintf(f, "        files=1\n");
    } else if (literal_word(c->args)) {
        fprintf(f, "        words=\"%s\"\n", c->args);
    }
    fprintf(f, "        ;;\n");
}

static int cmd_completion(int argc, char **argv)
{
    const command *self = find_command("completion");
    parsed p;
    parse_opts(self, argc, argv, &p, 1);
    if (p.npos != 1 || strcmp(p.pos[0], "bash") != 0) {
        usage_error(self, "the one shell is bash: 'sitrep completion bash'");
        return SR_EXIT_USAGE;
    }
    FILE *f = stdout;
    fprintf(f,
            "# bash completion for sitrep %s, generated by 'sitrep completion bash'\n"
            "# from its command table: regenerate it, do not edit it.\n\n"
            "_sitrep_words() { COMPREPLY=($(compgen -W \"$1\" -- \"$cur\")); }\n"
            "_sitrep_files() {\n"
            "    compopt -o filenames 2>/dev/null\n"
            "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
            "}\n\n"
            "_sitrep()\n{\n"
            "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
            "    local cmd=${COMP_WORDS[1]} opts= words= files=\n"
            "    if ((COMP_CWORD == 1)) && [[ $cur != -* ]]; then\n"
            "        _sitrep_words \"",
            SITREP_VERSION);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "%s%s", i ? " " : "", commands[i].name);
    fprintf(f, "\"\n"
               "        return\n"
               "    fi\n"
               "    # plain 'sitrep --config FILE' is the dashboard\n"
               "    [[ $cmd == -* ]] && cmd=dashboard\n"
               "    case $cmd in\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        completion_command(f, &commands[i]);
    fprintf(f, "    *) return ;;\n"
               "    esac\n"
               "    if [[ $cur == -* ]]; then\n"
               "        _sitrep_words \"$opts\"\n"
               "    elif [[ -n $files ]]; then\n"
               "        _sitrep_files\n"
               "    elif [[ -n $words ]] && ((COMP_CWORD == 2)); then\n"
               "        _sitrep_words \"$words\"\n"
               "    fi\n"
               "}\n"
               "complete -F _sitrep sitrep\n");
    return SR_EXIT_OK;
}

int main(int argc, char **argv)
{
    char terr[512];
    if (sr_trust_init(terr, sizeof terr) != 0) {
        fprintf(stderr, "sitrep: %s\n", terr);
        return SR_EXIT_USAGE;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    sr_time_init();
    if (argc < 2 ||
        (argv[1][0] == '-' && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0 &&
         strcmp(argv[1], "--version") != 0 && strcmp(argv[1], "-V") != 0))
        return cmd_dashboard(argc, argv); /* plain `sitrep [--config F] [--theme T]` */
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        return cmd_help(1, argv);
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
        return cmd_version(1, argv);
    const command *c = find_command(name);
    if (!c) {
        fprintf(stderr, "sitrep: unknown command '%s'", name);
        sr_suggest sg;
        sr_suggest_init(&sg, name);
        for (size_t i = 0; i < N_COMMANDS; i++)
            sr_suggest_try(&sg, commands[i].name);
        const char *best = sr_suggest_best(&sg);
        if (best)
            fprintf(stderr, "; did you mean '%s'?", best);
        fprintf(stderr, "\nTry 'sitrep --help'.\n");
        return SR_EXIT_USAGE;
    }
    running = c->name;
    return c->run(argc - 1, argv + 1);
}
