/*
 * config_int.h - what the files of the config reader share (app/config.c,
 * config_tables.c, config_read.c, config_check.c, config_roles.c): the
 * option tables' types, a section as read, the parser's state, the error
 * sink, and the functions one of them defines for the others. Private to
 * those files; the rest of sitrep sees app/config.h only.
 *
 *   config_tables.c  the option tables, their help text, and one value
 *                    parsed by its option (cfg_opt_parse)
 *   config_read.c    pass 1: the lines into sections (struct sect)
 *   config_check.c   pass 2, each section on its own (cfg_finish_section),
 *                    and pass 3, references between sections (cfg_check_refs)
 *   config_roles.c   levels, roles and the wall: their checks and building
 *   config.c         load, parse, build the sr_config, destroy; the error
 *                    sink and the small helpers
 */
#ifndef SR_CONFIG_INT_H
#define SR_CONFIG_INT_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>

#include "../metrics/safetext.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* What [sitrep] holds while the file is read; copied into sr_config. */
struct sitrep_vals {
    char *cache; /* NULL: the default under $XDG_STATE_HOME */
    char cache_group[sizeof((sr_config *)0)->cache_group];
    char timezone[sizeof((sr_config *)0)->timezone];
    char title[SR_LABEL_MAX];
    sr_ms retention_ms;
    sr_ms accept_ahead_ms;
    char theme[SR_NAME_MAX];
    sr_ms refresh_ms;
    sr_ms shift_ms;
    char *reports;      /* NULL: the default under $XDG_STATE_HOME */
    char levels[512];   /* level names, separated by commas or blanks */
    char personal[512]; /* level names */
    double min_cell;
    sr_ms cell_grid_ms;
    char baseline_exclude[512]; /* dates, separated by commas */
};

/* What [role.NAME] holds while the file is read. */
struct role_vals {
    char users[512];
    char groups[512];
    char pages[512];
    char panels[512];
    char drill[SR_NAME_MAX];
    char acknowledge[4];
    char personal[4];
    char wall[4];
    char audit[4];
};

/* What [alert] holds while the file is read. */
struct alert_vals {
    sr_ms for_ms;
    double hysteresis; /* percent */
    char command[sizeof((sr_config *)0)->alert_command];
};

/* What [wall] holds while the file is read. */
struct wall_vals {
    sr_ms rotate_ms;
    char exit[sizeof((sr_config *)0)->wall_exit_text];
    char pages[512];
};

/* What [page.NAME] holds while the file is read. */
struct page_vals {
    char name[SR_NAME_MAX];
    char title[SR_LABEL_MAX];
    char panels[512]; /* panel names, separated by commas or blanks */
    double columns;
    int line;
};

/* One option and where its value goes in the section's struct. */
struct opt {
    sr_cfg_option pub;
    size_t offset; /* in the section's struct */
    size_t size;   /* of that field (the capacity of a char array) */
};

#define AT(type, member) .offset = offsetof(type, member), .size = sizeof(((type *)0)->member)

enum kind_id { K_SITREP, K_METRIC, K_ADAPTER, K_MAP, K_PANEL, K_PAGE, K_ROLE, K_ALERT, K_WALL };

struct kind {
    sr_cfg_section_spec pub; /* first: sr_cfg_option_at() maps pub back to its kind */
    enum kind_id id;
    const struct opt *opts;
};

struct errsink {
    sr_cfg_errors *errs; /* NULL: count only */
    const char *file;
    size_t count;   /* errors found, kept or not */
    size_t dropped; /* beyond SR_CFG_MAX_ERRORS */
    bool oom;
};

/* A key met in a section: for duplicates, and for the line of later checks. */
struct seen {
    char *key;
    int line;
    bool ok; /* its value was valid */
};

/* One section of the file, as read. */
struct sect {
    const struct kind *kind;
    char name[SR_NAME_MAX]; /* "" for [sitrep] */
    int line;
    bool duplicate; /* the same section came earlier; its keys are checked, then dropped */
    bool kind_ok;   /* [metric.*]: kind is set and valid */
    union {
        struct sitrep_vals sitrep;
        sr_metric_def metric;
        sr_cfg_adapter adapter;
        sr_cfg_map map;
        sr_cfg_panel panel;
        struct page_vals page;
        struct role_vals role;
        struct alert_vals alert;
        struct wall_vals wall;
    } v;
    struct seen *seen;
    size_t n_seen;
};

/* Where keys go: nowhere yet, into a section, or nowhere because the
 * header was wrong (one error for the header, none for each key). */
enum where { W_BEFORE, W_SECTION, W_IGNORED };

struct parser {
    struct errsink err;
    const char *text; /* the whole file, len bytes */
    size_t len;
    int lineno;        /* of the line being read */
    bool adapter_cont; /* the last key stored an adapter type's own key: an indented
                          line continues its value */

    enum where where;
    struct sect *cur;
    struct sect **sects;
    size_t n_sects;
};

/* The section kinds, in enum kind_id order (config_tables.c). */
#define CFG_N_KINDS 9
extern const struct kind cfg_kinds[CFG_N_KINDS];

/* ---- config.c: small helpers and the error sink ---- */

/* Makes room for element n of the array *pv (elements of sz bytes). The
 * capacity is the next power of two, so arrays carry only their count.
 * pv is the address of a T *. Returns false when out of memory. */
bool cfg_grow(void *pv, size_t n, size_t sz);

/* Records an error at line (0: about the whole file). */
void cfg_sink_add(struct errsink *k, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- config_tables.c ---- */

/* A NAME of a section header or a metric reference: [A-Za-z0-9_-]+ that
 * fits SR_NAME_MAX with its terminating NUL. */
bool cfg_name_valid(const char *s);

/* Writes what an option expects, as it follows "expected " in a message. */
void cfg_describe_expected(const struct opt *o, char *buf, size_t len);

/* Parses text as option o into the section struct at base. Returns 0; or
 * SR_EINVAL with the message (after "KEY: ") in why; or SR_ENOMEM. */
int cfg_opt_parse(const struct opt *o, void *base, const char *text, char *why, size_t wlen);

/* Sets every option of the section that has a plain default, by parsing
 * its default text. */
void cfg_apply_defaults(const struct kind *k, void *base);

/* ---- config_read.c ---- */

/* Pass 1: reads p->text into p->sects, recording what is wrong. Returns 0
 * or SR_ENOMEM. */
int cfg_read(struct parser *p);

/* "[metric.NAME]", "[sitrep]". */
void cfg_sect_label(const struct sect *s, char *buf, size_t len);

/* The key as met in s; NULL when it was not. */
const struct seen *cfg_seen_find(const struct sect *s, const char *key);

/* The line of key in s, or of the section header when the key is absent. */
int cfg_key_line(const struct sect *s, const char *key);

/* Whether key was met in s with a valid value. */
bool cfg_key_ok(const struct sect *s, const char *key);

void cfg_kv_free(sr_cfg_kv *v, size_t n);
void cfg_sect_free(struct sect *s);

/* ---- config_check.c ---- */

/* Pass 2: derived defaults, required keys, checks between keys of s. */
void cfg_finish_section(struct parser *p, struct sect *s);

/* Pass 3: references between sections (sitrep: [sitrep] or NULL). */
void cfg_check_refs(struct parser *p, const struct sect *sitrep);

/* The adapter type's own keys of a against its option table. */
void cfg_check_adapter_keys(struct errsink *k, const sr_cfg_adapter *a, const sr_adapter *type);

/* Calls fn for each name of a list (separated by commas or blanks); stops
 * when fn returns false. */
void cfg_each_listed(const char *list, bool (*fn)(void *ctx, const char *name), void *ctx);

/* ---- config_roles.c ---- */

/* [sitrep] levels and personal, on their own. */
void cfg_check_levels(struct parser *p, const struct sect *s);

/* A [role.NAME] against the file's pages, panels and levels. */
void cfg_check_role(struct parser *p, const struct sect *s, const struct sect *sitrep);

/* [wall] pages against the file's pages. */
void cfg_check_wall(struct parser *p, const struct sect *s);

/* The levels and personal levels of [sitrep] (or its defaults) into cfg. */
void cfg_build_levels(sr_config *cfg, const struct sect *sitrep);

/* The roles of the file, and the default role, into cfg. Returns 0 or
 * SR_ENOMEM. */
int cfg_build_roles(struct parser *p, const struct sect *sitrep, sr_config *cfg);

/* [wall] (or its defaults) into cfg, after the pages. Returns 0 or SR_ENOMEM. */
int cfg_build_wall(sr_config *cfg, const struct sect *s);

#endif
