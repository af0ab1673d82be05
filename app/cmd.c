/*
 * cmd.c - the option parser over each command's table and the set-up the commands share: the
 * config, the cache, the adapters, who is asking and the audit of what they see, --at
 */
#include "cmd.h"

/* ---- options ---- */

static void usage_verror(const command *c, const char *fmt, va_list ap)
{
    fprintf(stderr, "sitrep %s: ", c->name);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'sitrep %s --help'.\n", c->name);
}

/* Prints a usage error; the caller cleans up and exits 2. */
void usage_error(const command *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    usage_verror(c, fmt, ap);
    va_end(ap);
}

/* Prints a usage error and exits 2 (only before anything is allocated). */
_Noreturn void die_usage(const command *c, const char *fmt, ...)
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
void parse_opts(const command *c, int argc, char **argv, parsed *p, int max_pos)
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
        const char *a = argv[optind - 1]; /* getopt has stepped past it */
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
const char *format_opt(const command *c, const parsed *p, const char *const *formats)
{
    const char *fmt = opt(c, p, "--format");
    if (!fmt)
        return formats[0];
    char list[128] = "";
    size_t n = 0;
    while (formats[n])
        n++;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(fmt, formats[i]) == 0)
            return formats[i];
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s",
                 i == 0       ? ""
                 : i + 1 == n ? " or "
                              : ", ",
                 formats[i]);
    }
    die_usage(c, "--format: expected %s, got '%s'", list, fmt);
}

const char *opt(const command *c, const parsed *p, const char *name)
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
void report_config(sr_cfg_errors *errs, const char *file, int rc)
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
void refuse_elevated(const char *what)
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
sr_config *load_config(const char *arg)
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
sr_plugins *load_adapters(sr_config *cfg)
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

/* The command running (main), for the words of what needs the cache. */
const char *cmd_running = "dashboard";

/* Says that this process may not write the cache (why, from
 * sr_share_explain_write) and what needs to; a reader's store message
 * (detail, "" for none) tells what it could not read without writing. */
static void cannot_write(const char *why, const char *detail)
{
    bool collector = strcmp(cmd_running, "collect") == 0 || strcmp(cmd_running, "dashboard") == 0;
    if (detail[0])
        fprintf(stderr, "sitrep %s: cannot read the cache: %s, and %s\n", cmd_running, why, detail);
    else
        fprintf(stderr, "sitrep %s: cannot write the cache: %s; %s%s needs it\n", cmd_running, why,
                collector ? "the collector" : "sitrep ", collector ? "" : cmd_running);
}

/* Opens the cache of cfg and declares its metrics; exits 1 on failure. A
 * writer first gives the cache's directory and files the modes of [sitrep]
 * cache_group (share.h). */
sr_store *open_cache(const sr_config *cfg, unsigned flags)
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
            cache_failed(cmd_running, cfg, NULL, rc);
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

/*
 * Says why a command could not read the cache (rc from the store): a
 * damaged cache plainly, with what to do; others with the store's message.
 * The one place these words are, for every command that reads figures.
 */
void cache_failed(const char *cmd, const sr_config *cfg, sr_store *st, int rc)
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

/* ---- query ---- */

/*
 * The --at option: a time in the config's zone, or "latest" (the newest
 * sample in the cache). def when the option is absent; a usage error when
 * it does not parse.
 */
sr_ms at_opt(const command *c, const parsed *p, const sr_config *cfg, sr_store *st, sr_ms def)
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

void viewer_init(viewer *v, const sr_config *cfg)
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
void viewer_fini(viewer *v, const char *cmd, int *status)
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
