/*
 * cmd.h - what the commands share (app/main.c and app/cmd_*.c, one file a
 * command or two, as tmux has cmd-*.c): the option tables and their parser,
 * the set-up every command does (the config, the cache, the adapters, who
 * is asking), the exit codes, and each command's entry point and options
 * for the table in main.c.
 */
#ifndef SR_CMD_H
#define SR_CMD_H

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
#include "collector.h"
#include "paths.h"
#include "plugin.h"
#include "progress.h"
#include "report.h"
#include "roff.h"
#include "roles.h"
#include "trust.h"
#include "xalloc.h"

enum { SR_EXIT_OK = 0, SR_EXIT_FAIL = 1, SR_EXIT_USAGE = 2, SR_EXIT_REJECTS = 3 };

/* The most options a command may have (a table with more is refused the
 * first time the command runs: parse_opts). */
#define SR_MAX_OPTS 24

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

/* Parsed options: values by the index of their spec; the positionals are
 * argv's words that are no option (all of them after a `--`), in order. */
typedef struct {
    const char *val[SR_MAX_OPTS];
    char **pos;
    int npos;
} parsed;

/* The user, their role and its privacy policy, and the audit rows their
 * views of personal data call for (written through a writable handle of
 * its own: the command reads a read-only one). */
typedef struct {
    sr_identity id;
    const sr_cfg_role *role; /* borrowed from the config */
    sr_privacy priv;
    sr_audit_sink audit;
} viewer;

/* What to do about a damaged cache: said by every command that meets one. */
#define CACHE_DAMAGED_HELP                                                                         \
    "stop the collector, move the cache and its -wal and -shm aside, and run 'sitrep collect' "    \
    "or 'sitrep ingest' again: the sources' backfill and the files reload what they still hold"

/* The command running (main sets it), for the words of what needs the cache. */
extern const char *cmd_running;

/* ---- main.c ---- */

const command *find_command(const char *name);

void usage_command(FILE *f, const command *c);

/* ---- cmd.c ---- */

/* Prints a usage error; the caller cleans up and exits 2. */
void usage_error(const command *c, const char *fmt, ...);

/* Prints a usage error and exits 2 (only before anything is allocated). */
_Noreturn void die_usage(const command *c, const char *fmt, ...);

/*
 * Parses argv[1..] of a command by its table with getopt_long: options and
 * positionals in any order, `--opt VALUE` or `--opt=VALUE`, an unambiguous
 * prefix of an option's name, and `--` before words that are positionals
 * even when they start with `--`. At most max_pos positionals. Exits 2 on a
 * usage error, 0 after printing --help.
 */
void parse_opts(const command *c, int argc, char **argv, parsed *p, int max_pos);

/* The value of --format: one of the NULL-ended formats (the first when the
 * option is absent); any other is a usage error naming them all (exits 2). */
const char *format_opt(const command *c, const parsed *p, const char *const *formats);

/* The value of option name (as in the command's table), or NULL when not
 * given; a name the table lacks is a mistake in the program, said at once. */
const char *opt(const command *c, const parsed *p, const char *name);

/* Prints why file could not be used (every error, else rc's words) and
 * frees the errors. An elevated process only counts them: they quote the
 * system configuration's lines, which its user may not read. */
void report_config(sr_cfg_errors *errs, const char *file, int rc);

/* Exits 2 when this process runs with its group's rights: `what` (a
 * command) writes the cache, which only the collector's user does. */
void refuse_elevated(const char *what);

/* Loads the config or exits 2 with every error on stderr. With its
 * group's rights, sitrep reads the system configuration only. */
sr_config *load_config(const char *arg);

/* The adapter type of every source, plugins loaded; exits 2 with every
 * problem on stderr (cfg is freed first). */
sr_plugins *load_adapters(sr_config *cfg);

/* Opens the cache of cfg and declares its metrics; exits 1 on failure. A
 * writer first gives the cache's directory and files the modes of [sitrep]
 * cache_group (share.h). */
sr_store *open_cache(const sr_config *cfg, unsigned flags);

/*
 * Says why a command could not read the cache (rc from the store): a
 * damaged cache plainly, with what to do; others with the store's message.
 * The one place these words are, for every command that reads figures.
 */
void cache_failed(const char *cmd, const sr_config *cfg, sr_store *st, int rc);

/*
 * The --at option: a time in the config's zone, or "latest" (the newest
 * sample in the cache). def when the option is absent; a usage error when
 * it does not parse.
 */
sr_ms at_opt(const command *c, const parsed *p, const sr_config *cfg, sr_store *st, sr_ms def);

void viewer_init(viewer *v, const sr_config *cfg);

/* Closes the audit's handle; a view whose audit row could not be written
 * makes the command fail (status becomes SR_EXIT_FAIL), and the command
 * has printed none of it: no figure about a person leaves sitrep without
 * its audit row. */
void viewer_fini(viewer *v, const char *cmd, int *status);

/* ---- cmd_collect.c ---- */

/* Opens cfg's collector lock; exits 1 when it cannot be created. */
sr_lock *open_lock(const sr_config *cfg);

int cmd_collect(int argc, char **argv);

extern const opt_spec collect_opts[];

/* ---- cmd_ingest.c ---- */

int cmd_ingest(int argc, char **argv);

extern const opt_spec ingest_opts[];

/* ---- cmd_query.c ---- */

int cmd_query(int argc, char **argv);

extern const opt_spec query_opts[];

/*
 * The one rule of a query row for who's role: sr_privacy_figure() (metrics/
 * privacy.h), then under the grid (cells not NULL) the cells of entity in
 * [from, to). False when the entity is hidden (counted in rep, which may be
 * NULL); else true with *mask NULL, or the text to show instead of r's
 * value, which is then NAN.
 */
bool query_row_mask(const viewer *who, bool personal, sr_kind kind, sr_agg agg,
                    const sr_privacy_cells *cells, const char *entity, sr_ms from, sr_ms to,
                    sr_result *r, const char **mask, sr_privacy_report *rep);

/* The members every `query --format json` document opens with: metric,
 * unit, agg (its name), from and to. Caller owns the reference. */
json_t *query_json_head(const sr_metric_def *d, const char *aggname, sr_ms from, sr_ms to);

/* ---- cmd_baseline.c ---- */

/* What `query --agg baseline` needs of the query's set-up; all borrowed. */
typedef struct {
    const sr_config *cfg;
    const sr_metric_def *d;
    sr_store *st;
    viewer *who;
    sr_query q;               /* the slice (aligned to the grid when gridded), its aggregate */
    sr_agg shown;             /* q.agg as it is named (the metric's own for value) */
    bool by;                  /* --by children */
    bool personal;            /* the metric is personal */
    bool gridded;             /* the differencing grid applies to this role and metric */
    const char *fmt;          /* text, csv or json */
    sr_ms horizon_ms;         /* --agg forecast: how far ahead */
    const sr_metric_def *per; /* --agg spread --per: the denominator; NULL: none */
    bool per_personal;        /* the denominator is personal */
} query_ctx;

/* Says on stderr what c's role was not shown (pr) and writes the audit row
 * of a personal figure shown ("query: metric M, entity E, WHAT[, by
 * children]"); false when that row could not be written, and then nothing
 * may be printed. */
bool query_privacy_said(const query_ctx *c, const sr_privacy_report *pr, const char *what);

/* Sets rows (consumed) as root's "rows", prints root on stdout and drops
 * root (consumed). */
void query_json_print(json_t *root, json_t *rows);

/* Says on stderr why c's query failed with rc (an unknown entity, or the
 * cache's error); nothing for 0. */
void query_failed(const query_ctx *c, int rc);

/* Prints each row's figure against its baseline (metrics/baseline.h) in
 * c->fmt, as the role may see them; returns the exit status. */
int query_baseline(const query_ctx *c);

/* ---- cmd_forecast.c ---- */

/* Prints each row's forecast and its backtest (metrics/forecast.h) in
 * c->fmt, or why it is withheld, as the role may see them; returns the
 * exit status. */
int query_forecast(const query_ctx *c);

/* ---- cmd_spread.c ---- */

/* Prints each child's value, denominator, load and outlier mark, and the
 * spread over them (metrics/spread.h), in c->fmt, as the role may see
 * them; returns the exit status. */
int query_spread(const query_ctx *c);

/* ---- cmd_snapshot.c ---- */

int cmd_snapshot(int argc, char **argv);

extern const opt_spec snapshot_opts[];

/* ---- cmd_check.c ---- */

int cmd_check_config(int argc, char **argv);

int cmd_check_cache(int argc, char **argv);

extern const opt_spec check_opts[];
extern const opt_spec check_cache_opts[];

/* ---- cmd_sources.c ---- */

int cmd_sources(int argc, char **argv);

int cmd_rejects(int argc, char **argv);

extern const opt_spec sources_opts[];
extern const opt_spec rejects_opts[];

/* ---- cmd_audit.c ---- */

int cmd_whoami(int argc, char **argv);

int cmd_audit(int argc, char **argv);

extern const opt_spec whoami_opts[];
extern const opt_spec audit_opts[];

/* ---- cmd_alerts.c ---- */

int cmd_alerts(int argc, char **argv);

int cmd_ack(int argc, char **argv);

int cmd_silence(int argc, char **argv);

extern const opt_spec alerts_opts[];
extern const opt_spec ack_opts[];
extern const opt_spec silence_opts[];

/* ---- cmd_dashboard.c ---- */

int cmd_dashboard(int argc, char **argv);

extern const opt_spec dashboard_opts[];

#endif
