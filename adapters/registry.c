/*
 * registry.c - the table of built-in adapters. Adding an adapter type is
 * one line here and one file beside this one.
 *
 * postgres and http are built as shared objects (modules.h) so that sitrep
 * maps libpq and libcurl only when a config names them. A program that
 * links pg.c and http.c itself (the test program does, to drive the
 * adapters in-process) gets their tables through weak references: where
 * the table is not linked, the reference is NULL and the registry's own
 * description of the type stands in, whose open() says the object is
 * missing until app/plugin.c replaces it with the loaded one.
 */
#include "registry.h"

#include <stdio.h>
#include <string.h>

#include "modules.h"

extern const sr_adapter sr_adapter_exec;
extern const sr_adapter sr_adapter_sim;
extern const sr_adapter sr_adapter_csv;
extern const sr_adapter sr_adapter_sqlite;
extern const sr_adapter sr_adapter_postgres __attribute__((weak));
extern const sr_adapter sr_adapter_http __attribute__((weak));

#define PG_FILE "sitrep-postgres.so"
#define HTTP_FILE "sitrep-http.so"

/* What a module type's open() and poll() say when its object was not
 * found (the registry's table is running in place of the object's). */
static int missing(const char *why, const char *file, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: no %s where sitrep looks for its adapters (sitrep(1), FILES)", why,
             file);
    return -1;
}

static int pg_missing_open(const sr_ad_options *opts, void **state, char *err, size_t errlen)
{
    (void)opts;
    (void)state;
    return missing(sr_pg_missing, PG_FILE, err, errlen);
}

static int http_missing_open(const sr_ad_options *opts, void **state, char *err, size_t errlen)
{
    (void)opts;
    (void)state;
    return missing(sr_http_missing, HTTP_FILE, err, errlen);
}

/* Never called: open() failed, so no state exists to poll or close. */
static int missing_poll(void *state, sr_poll_info *info, sr_sink *sink, char *err, size_t errlen)
{
    (void)state;
    (void)info;
    (void)sink;
    snprintf(err, errlen, "this adapter is not loaded");
    return -1;
}

static void missing_close(void *state)
{
    (void)state;
}

static const sr_adapter pg_described = {
    .abi_version = SR_ADAPTER_ABI,
    .type = "postgres",
    .description = sr_pg_description,
    .options = sr_pg_options,
    .open = pg_missing_open,
    .poll = missing_poll,
    .close = missing_close,
};

static const sr_adapter http_described = {
    .abi_version = SR_ADAPTER_ABI,
    .type = "http",
    .description = sr_http_description,
    .options = sr_http_options,
    .open = http_missing_open,
    .poll = missing_poll,
    .close = missing_close,
};

typedef struct {
    const sr_adapter *linked;    /* in this program; NULL = a module not linked */
    const sr_adapter *described; /* a module's stand-in; NULL = always linked */
    const char *file;            /* the module's shared object */
} builtin;

/* The order of the manual's and help's list of types. */
static const builtin builtins[] = {
    {&sr_adapter_sim, NULL, NULL},    {&sr_adapter_csv, NULL, NULL},
    {&sr_adapter_sqlite, NULL, NULL}, {&sr_adapter_postgres, &pg_described, PG_FILE},
    {&sr_adapter_exec, NULL, NULL},   {&sr_adapter_http, &http_described, HTTP_FILE},
};

#define N_BUILTINS (sizeof builtins / sizeof builtins[0])

static const sr_adapter *table(const builtin *b)
{
    return b->linked ? b->linked : b->described;
}

static const builtin *find(const char *type)
{
    for (size_t i = 0; type && i < N_BUILTINS; i++) {
        if (strcmp(table(&builtins[i])->type, type) == 0)
            return &builtins[i];
    }
    return NULL;
}

const sr_adapter *sr_registry_find(const char *type)
{
    const builtin *b = find(type);
    return b ? table(b) : NULL;
}

const sr_adapter *sr_registry_at(size_t i)
{
    return i < N_BUILTINS ? table(&builtins[i]) : NULL;
}

size_t sr_registry_count(void)
{
    return N_BUILTINS;
}

const char *sr_registry_module(const char *type)
{
    const builtin *b = find(type);
    return b && !b->linked ? b->file : NULL;
}

int sr_registry_check_abi(const sr_adapter *a, char *err, size_t errlen)
{
    if (!a) {
        snprintf(err, errlen, "the plugin returned no adapter table");
        return -1;
    }
    if (a->abi_version < SR_ADAPTER_ABI_MIN || a->abi_version > SR_ADAPTER_ABI) {
        snprintf(err, errlen,
                 "the plugin was built for adapter ABI version %u; this sitrep speaks versions "
                 "%d to %d (rebuild the plugin against this sitrep's adapters/adapter.h)",
                 (unsigned)a->abi_version, SR_ADAPTER_ABI_MIN, SR_ADAPTER_ABI);
        return -1;
    }
    if (!a->type || !a->open || !a->poll || !a->close) {
        snprintf(err, errlen, "the plugin's adapter table is incomplete (type, open, poll, close)");
        return -1;
    }
    return 0;
}
