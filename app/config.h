/*
 * config.h - config.ini as typed values.
 *
 * The file is read with inih; every key is checked against a table (name,
 * type, default, range, help) and every error is reported as
 * "FILE:LINE: what is wrong, what was expected", all of them, not just the
 * first.
 */
#ifndef SR_CONFIG_H
#define SR_CONFIG_H

#include <stddef.h>

#include "../adapters/adapter.h"
#include "../metrics/common.h"
#include "../metrics/kpi.h"

typedef struct {
    char *key;
    char *value;
    int line;
} sr_cfg_kv;

typedef struct {
    char name[SR_NAME_MAX]; /* NAME of [adapter.NAME] */
    char type[SR_NAME_MAX];
    sr_ms interval_ms; /* default 5s */
    sr_ms timeout_ms;  /* default 10s */
    int line;          /* line of the section header */
    sr_cfg_kv *opts;   /* the type's own keys, in file order */
    size_t n_opts;
} sr_cfg_adapter;

typedef struct {
    char name[SR_NAME_MAX];
    char metric[SR_NAME_MAX];
    char entity[256]; /* "" = the whole tree */
    sr_agg agg;       /* SR_AGG_VALUE when not given: the metric's default */
    sr_ms window_ms;  /* default 8h */
    char title[SR_LABEL_MAX];
    char widget[SR_NAME_MAX]; /* "tile" by default */
    int line;
} sr_cfg_panel;

typedef struct sr_config {
    char *path;          /* the file read */
    char *dir;           /* its directory */
    char *cache;         /* [sitrep] cache */
    char timezone[64];   /* [sitrep] timezone, default UTC */
    char title[SR_LABEL_MAX]; /* [sitrep] title */
    sr_ms retention_ms;  /* [sitrep] retention, default 400d */
    sr_catalog metrics;  /* [metric.NAME]; owns metrics.v */
    sr_cfg_adapter *adapters;
    size_t n_adapters;
    sr_cfg_panel *panels;
    size_t n_panels;
} sr_config;

/* One problem found in a config file. */
typedef struct {
    char *file;
    int line; /* 0 when the problem is about the file as a whole */
    char *msg;
} sr_cfg_error;

typedef struct {
    sr_cfg_error *v;
    size_t n;
} sr_cfg_errors;

/*
 * Reads and validates path. On success returns 0 and *out (caller owns;
 * free with sr_config_destroy()). On any error returns SR_EINVAL (or
 * SR_ENOENT when the file cannot be opened), *out is NULL and errs holds
 * every problem found (caller owns; free with sr_cfg_errors_fini()).
 */
int sr_config_load(const char *path, sr_config **out, sr_cfg_errors *errs);

/* Parses config text held in memory (for tests and fuzzing); name is used
 * in messages. Same contract as sr_config_load. */
int sr_config_parse(const char *name, const char *text, sr_config **out, sr_cfg_errors *errs);

void sr_config_destroy(sr_config *cfg);
void sr_cfg_errors_fini(sr_cfg_errors *errs);

/* Writes "FILE:LINE: msg" for one error. */
void sr_cfg_error_format(const sr_cfg_error *e, char *buf, size_t len);

/*
 * Where the config is: the --config argument when given, else ./config.ini
 * when it exists, else $XDG_CONFIG_HOME/sitrep/config.ini (~/.config/...).
 * Caller owns the result (free()).
 */
char *sr_config_locate(const char *arg);

/* The options of one adapter section as the adapter ABI passes them.
 * v must have room for a->n_opts entries. */
void sr_cfg_adapter_options(const sr_config *cfg, const sr_cfg_adapter *a, sr_ad_option *v,
                            sr_ad_options *out);

#endif
