/*
 * config.h - config.ini as typed values.
 *
 * The file is read by metrics/ini.c (its grammar: sitrep.conf(5), FORMAT);
 * every key is checked against a table (name, type, default, range, help)
 * and every error is reported as "FILE:LINE: what is wrong, what was
 * expected", all of them, not just the first. The same tables are readable through
 * sr_cfg_section_at() and sr_cfg_option_at(), so that `sitrep --help`, the README and `sitrep
 * check-config` can be generated from them.
 *
 * Sections: [sitrep] (once), [metric.NAME], [adapter.NAME], [map.NAME],
 * [panel.NAME], [page.NAME], [role.NAME], [alert] (once), [wall] (once);
 * NAME is 1 to SR_NAME_MAX - 1 letters, digits, '_' or '-'. Comments start
 * with ';' or '#' at the beginning of a line; after a value, only ';'
 * preceded by a blank starts a comment. Quotes are not special.
 */
#ifndef SR_CONFIG_H
#define SR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "../adapters/adapter.h"
#include "../metrics/baseline.h"
#include "../metrics/common.h"
#include "../metrics/kpi.h"

/* One `key = value` of an adapter section (the type's own keys). */
typedef struct {
    char *key;   /* owned by the config */
    char *value; /* owned by the config */
    int line;
} sr_cfg_kv;

typedef struct {
    char name[SR_NAME_MAX]; /* NAME of [adapter.NAME] */
    char type[SR_NAME_MAX];
    sr_ms interval_ms; /* default 5s */
    sr_ms timeout_ms;  /* default 10s */
    int line;          /* line of the section header */
    sr_cfg_kv *opts;   /* the type's own keys, in file order; owned by the config */
    size_t n_opts;
} sr_cfg_adapter;

/* A [map.NAME] section: a value map for {Field|NAME} in adapter templates. */
typedef struct {
    char name[SR_NAME_MAX];
    int line;     /* line of the section header */
    sr_cfg_kv *v; /* VALUE = RESULT entries in file order (key default: the rest); owned */
    size_t n;
} sr_cfg_map;

typedef struct {
    char name[SR_NAME_MAX];
    char metric[SR_NAME_MAX];
    char entity[256];               /* "" = the whole tree */
    sr_agg agg;                     /* when not given: the metric's own agg */
    sr_ms window_ms;                /* default 8h */
    char title[SR_LABEL_MAX];       /* when not given: the metric's label */
    char short_title[SR_LABEL_MAX]; /* `short =`: where title does not fit; "" = none */
    char widget[SR_NAME_MAX];       /* "tile" by default */
    char baseline[4];               /* "yes": the figure against its seasonal baseline; "no" */
    char per[SR_NAME_MAX];          /* widget = spread: the denominator metric; "" = none */
    char when[12];    /* what raises its alerts: "threshold" (default), "unusual" or "both";
                         unusual and both imply baseline "yes" */
    char forecast[4]; /* "yes": the next hours' forecast and its backtest; "no" */
    int line;
} sr_cfg_panel;

typedef struct {
    char name[SR_NAME_MAX]; /* NAME of [page.NAME] */
    char title[SR_LABEL_MAX];
    int columns;    /* panels per row, default 3 */
    size_t *panels; /* indices into sr_config.panels, in the order listed */
    size_t n_panels;
    int line;
} sr_cfg_page;

/* The most entity levels [sitrep] levels can name. */
#define SR_CFG_MAX_LEVELS 16

/* The most keys of a [wall] exit chord. */
#define SR_WALL_CHORD_MAX 4

/* A drill depth without limit. */
#define SR_DRILL_ANY 1000

/*
 * One role: what the users it matches may see and do. Entity levels are
 * counted from 1 (a top-level entity such as "force"); drill 0 is the whole
 * tree only.
 */
typedef struct {
    char name[SR_NAME_MAX]; /* NAME of [role.NAME], or "default" */
    char users[512];        /* Unix user names, separated by commas or blanks */
    char groups[512];       /* Unix group names, separated by commas or blanks */
    bool all_pages;         /* pages = * */
    size_t *pages;          /* indices into sr_config.pages; owned by the config */
    size_t n_pages;
    bool all_panels; /* panels = * */
    size_t *panels;  /* indices into sr_config.panels; owned by the config */
    size_t n_panels;
    int drill;        /* the deepest level that may be opened; SR_DRILL_ANY */
    bool acknowledge; /* may acknowledge alerts */
    bool personal;    /* may see personal-level data */
    bool wall;        /* the dashboard starts in wall mode (as --wall) */
    bool audit;       /* may read the audit table */
    int line;         /* line of the section header; 0 for a default not in the file */
} sr_cfg_role;

typedef struct sr_config {
    char *path;               /* the file read, as given; owned */
    char *dir;                /* its directory, absolute when it exists; owned */
    char *cache;              /* [sitrep] cache, absolute (resolved against dir); owned */
    char cache_group[64];     /* [sitrep] cache_group: "" = private to the collector's user */
    char timezone[64];        /* [sitrep] timezone, default UTC */
    char title[SR_LABEL_MAX]; /* [sitrep] title */
    sr_ms retention_ms;       /* [sitrep] retention, default 400d */
    sr_ms accept_ahead_ms;    /* [sitrep] accept_ahead, default 1d */
    sr_catalog metrics;       /* [metric.NAME]; owns metrics.v */
    sr_cfg_adapter *adapters;
    size_t n_adapters;
    sr_cfg_panel *panels;
    size_t n_panels;
    sr_cfg_page *pages; /* at least one: without [page.*], "overview" with every panel */
    size_t n_pages;
    char theme[SR_NAME_MAX]; /* [sitrep] theme, default "default" */
    sr_ms refresh_ms;        /* [sitrep] refresh, default 1s */
    sr_ms shift_ms;          /* [sitrep] shift, default 8h */
    char *reports;           /* [sitrep] reports: where key e writes, absolute; owned */
    char levels[SR_CFG_MAX_LEVELS][SR_NAME_MAX]; /* [sitrep] levels, level 1 first */
    size_t n_levels;
    bool personal[SR_CFG_MAX_LEVELS + 1]; /* [sitrep] personal, by level (index 1 = level 1) */
    int min_cell;                         /* [sitrep] min_cell, default 5 */
    sr_ms cell_grid_ms;                   /* [sitrep] cell_grid, default 1h */
    int32_t baseline_exclude[SR_BASELINE_EXCLUDE_MAX]; /* [sitrep] baseline_exclude: YYYYMMDD */
    size_t n_baseline_exclude;
    sr_cfg_role *roles; /* [role.*] in file order, then "default" when the file has none */
    size_t n_roles;
    sr_ms alert_for_ms;      /* [alert] for, default 1m */
    double alert_hysteresis; /* [alert] hysteresis as a fraction (5% = 0.05) */
    char alert_command[512]; /* [alert] command as written ("" = none); splits into words */
    sr_ms wall_rotate_ms;    /* [wall] rotate, default 30s */
    int wall_exit[SR_WALL_CHORD_MAX]; /* [wall] exit: the key codes of the chord, in order */
    size_t n_wall_exit;
    char wall_exit_text[64]; /* [wall] exit as written */
    size_t *wall_pages;      /* [wall] pages: indices into pages, in order; owned by the config */
    size_t n_wall_pages;     /* every page when pages = * */
    sr_cfg_map *maps;        /* [map.NAME] in file order; owned by the config */
    size_t n_maps;
    sr_ad_valmap *ad_maps; /* the same as the adapter ABI passes them; owned by the config */
} sr_config;

/*
 * Parses a key chord as [wall] exit takes it: 1 to SR_WALL_CHORD_MAX keys
 * separated by blanks, each ctrl-LETTER (also C-x or ^X), esc, enter, tab,
 * space, or one printable character ("ctrl-x q"). keys gets the codes a
 * terminal sends (ctrl-x is 24; enter is '\n'). Returns 0, or SR_EINVAL with
 * what was wrong in why.
 */
int sr_cfg_key_chord(const char *text, int *keys, size_t *n, char *why, size_t whylen);

/* One problem found in a config file. */
typedef struct {
    char *file;
    int line; /* 0 when the problem is about the file as a whole */
    char *msg;
} sr_cfg_error;

/* Sorted by line; problems of the file as a whole (line 0) come first,
 * except the count of errors not shown, which comes last. */
typedef struct {
    sr_cfg_error *v;
    size_t n;
} sr_cfg_errors;

/* At most this many errors are kept; one more line says how many were not. */
#define SR_CFG_MAX_ERRORS 200

/*
 * Reads and validates path. On success returns 0 and *out (caller owns;
 * free with sr_config_destroy()). On any error returns SR_EINVAL (SR_ENOENT
 * when the file does not exist, SR_EIO when it cannot be read, SR_ENOMEM),
 * *out is NULL and errs holds every problem found. errs is (re)initialised
 * by the call, whatever it held before; the caller owns it and frees it with
 * sr_cfg_errors_fini(). errs may be NULL.
 */
int sr_config_load(const char *path, sr_config **out, sr_cfg_errors *errs);

/* Parses config text held in memory (for tests and fuzzing); name is used
 * in messages and its directory resolves relative paths. Same contract as
 * sr_config_load. */
int sr_config_parse(const char *name, const char *text, sr_config **out, sr_cfg_errors *errs);

/* destroy(NULL) is a no-op. */
void sr_config_destroy(sr_config *cfg);
/* Frees every error and leaves errs empty ({NULL, 0}). */
void sr_cfg_errors_fini(sr_cfg_errors *errs);

/* Appends one problem to errs (kept sorted by line); for checks made
 * outside config.c, such as loading a plugin. Returns 0 or SR_ENOMEM. */
int sr_cfg_errors_add(sr_cfg_errors *errs, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes "FILE:LINE: msg" for one error ("FILE: msg" when line is 0). */
void sr_cfg_error_format(const sr_cfg_error *e, char *buf, size_t len);

/*
 * Where the config is: the --config argument when given, else the first
 * that exists of ./config.ini, the user's $XDG_CONFIG_HOME/sitrep/config.ini
 * (~/.config/sitrep/config.ini) and the system's SR_SYSTEM_CONFIG
 * ($(SYSCONFDIR)/sitrep/config.ini, paths.h); when none does, the user's
 * (the file to create, named by the error). Caller owns the result (free()).
 */
char *sr_config_locate(const char *arg);

/* path as a config value means it: absolute as it is, "~/" under $HOME,
 * else relative to the config's directory. Caller owns the result (free());
 * NULL when out of memory. */
char *sr_cfg_path(const sr_config *cfg, const char *path);

/* The options of one adapter section as the adapter ABI passes them, with
 * every [map.NAME] of cfg. v must have room for a->n_opts entries. Everything in *out is borrowed
 * from cfg and a; valid until sr_config_destroy(cfg). */
void sr_cfg_adapter_options(const sr_config *cfg, const sr_cfg_adapter *a, sr_ad_option *v,
                            sr_ad_options *out);

/*
 * Checks the type's own keys of adapter section a against type->options: a
 * key the type does not know is an error naming the nearest valid key, a
 * key with required = 1 that is missing is an error at the section header.
 * Loading a config does this for every built-in type; app/ calls it for a
 * plugin once the plugin is loaded. Appends to errs (which must be
 * initialised, e.g. {0}); returns 0, SR_EINVAL when it appended errors, or
 * SR_ENOMEM.
 */
int sr_cfg_check_adapter(const sr_config *cfg, const sr_cfg_adapter *a, const sr_adapter *type,
                         sr_cfg_errors *errs);

/*
 * Runs type's open() on section a's options, as the collector does when it
 * starts, and closes at once what it opened, without a poll: every check
 * an adapter makes of its options (a shell operator in a command, a secret
 * in a URL, a bad delimiter...) then fails check-config too. A refusal is
 * appended to errs at the line of the option it names (the adapter's
 * message starts "key: "), else at the section's header. What the type
 * warns of once open (sr_adapter.check, version 3) goes into warn ("" for
 * nothing). Returns 0, SR_EINVAL when it appended an error, or SR_ENOMEM.
 */
int sr_cfg_open_adapter(const sr_config *cfg, const sr_cfg_adapter *a, const sr_adapter *type,
                        sr_cfg_errors *errs, char *warn, size_t warnlen);

/* ---- the option tables, for --help, the README and check-config ---- */

typedef enum {
    SR_OPT_TEXT,     /* free text without control characters, of limited size */
    SR_OPT_PATH,     /* a file path; relative = relative to the config's directory; ~/ = $HOME */
    SR_OPT_DURATION, /* "500ms", "5s", "10m", "8h", "14d", "2w", "1h30m"; min/max in ms */
    SR_OPT_NUMBER,   /* a decimal number */
    SR_OPT_ENUM,     /* one of choices, stored as its index (an enum of kpi.h) */
    SR_OPT_WORD,     /* one of choices, stored as text */
    SR_OPT_AGG,      /* an aggregate: count sum avg min max last pNN within value */
    SR_OPT_TIMEZONE, /* a tzdata zone name such as Europe/London */
    SR_OPT_METRIC,   /* the NAME of a [metric.NAME] section of the same file */
    SR_OPT_ADAPTER_TYPE, /* a type known to the adapter registry */
} sr_opt_type;

enum {
    SR_OPT_REQUIRED = 1u << 0,       /* the section is incomplete without it */
    SR_OPT_RATIO = 1u << 1,          /* [metric.*]: only for kind = ratio */
    SR_OPT_RATIO_REQUIRED = 1u << 2, /* [metric.*]: required when kind = ratio (implies RATIO) */
    SR_OPT_DERIVED = 1u << 3,        /* def is words for a default computed from other values */
    SR_OPT_HAS_MIN = 1u << 4,        /* min applies */
    SR_OPT_HAS_MAX = 1u << 5,        /* max applies */
    SR_OPT_MIN_EXCLUSIVE = 1u << 6,  /* the value must be greater than min, not equal */
};

/* One option of a section kind. All pointers are static. */
typedef struct {
    const char *name;
    sr_opt_type type;
    unsigned flags;
    /* The default as one would write it in config.ini ("5s", "lower"); the
     * loader applies it by parsing this text, so the documented default is
     * the default. NULL: no default (unset; numbers are NaN). With
     * SR_OPT_DERIVED: words describing the computed default ("NAME"). */
    const char *def;
    double min, max;            /* NUMBER, and DURATION in ms; see the flags */
    const char *const *choices; /* ENUM and WORD: the allowed values, NULL-terminated */
    const char *help;           /* one line, no trailing period */
} sr_cfg_option;

/* One kind of section. All pointers are static. */
typedef struct {
    const char *kind;   /* "sitrep", "metric", "adapter", "panel" */
    const char *header; /* as written: "[sitrep]", "[metric.NAME]" */
    int named;          /* 1 when the header carries a NAME */
    const char *help;   /* one line */
    size_t n_options;
} sr_cfg_section_spec;

/* The section kinds in the order the documentation lists them; NULL when
 * i >= the count. Borrowed; static. */
size_t sr_cfg_section_count(void);
const sr_cfg_section_spec *sr_cfg_section_at(size_t i);

/* The i-th option of a section kind, in documentation order; NULL when
 * i >= s->n_options. Borrowed; static. An adapter type's own keys are not
 * here: they are in its sr_adapter.options (see sr_registry_at()). */
const sr_cfg_option *sr_cfg_option_at(const sr_cfg_section_spec *s, size_t i);

/* Writes a short name of what the option takes, for help listings:
 * "duration", "number", "lower|higher", "aggregate", "METRIC", ... */
void sr_cfg_option_type_text(const sr_cfg_option *o, char *buf, size_t len);

#endif
