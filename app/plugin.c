/*
 * plugin.c - the adapter type of each adapter section; plugins loaded with
 * uv_dlopen.
 *
 * sr_plugins holds one entry per section of the config, in the config's
 * order: the registry's table for a built-in type, or, for type = plugin,
 * the table returned by the shared object's SR_ADAPTER_ENTRY function,
 * with the uv_lib_t that keeps the object loaded. A plugin is used only
 * after three checks, each a FILE:LINE error naming the section's `path`
 * line: the object loads (the message is dlerror's), it exports the entry
 * point, and the table speaks this build's ABI (sr_registry_check_abi).
 * Then the section's keys are checked like a built-in type's, against the
 * plugin's options plus sitrep's own `path`. Nothing of the plugin is
 * called but the entry point until the collector opens the source.
 *
 * The built-in types that live in shared objects of their own (postgres,
 * http: adapters/modules.h) are loaded the same way, from the folders
 * sr_module_dirs() names and only for a config that has such a section,
 * so that every other process maps neither libpq nor libcurl. A module
 * that is there but does not load is a FILE:LINE error on the section's
 * header; one that is absent leaves the registry's table, whose
 * open() says what the build lacked.
 */
#include "plugin.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "../adapters/registry.h"
#include "paths.h"

const sr_ad_option_spec sr_plugin_keys[] = {
    {"path", 1,
     "the plugin's shared object (.so), relative to this file's directory; it exports "
     "sitrep_adapter()"},
    {NULL, 0, NULL},
};

typedef struct {
    const sr_adapter *a;
    uv_lib_t lib;
    bool loaded; /* lib holds a library to close */
} entry;

struct sr_plugins {
    entry *v;
    size_t n;
    size_t n_plugins;
};

/* The value and line of key in section a, or NULL. */
static const sr_cfg_kv *section_key(const sr_cfg_adapter *a, const char *key)
{
    for (size_t i = 0; i < a->n_opts; i++) {
        if (strcmp(a->opts[i].key, key) == 0)
            return &a->opts[i];
    }
    return NULL;
}

/* Checks a's keys against the plugin's options and sitrep's own. */
static int check_keys(const sr_config *cfg, const sr_cfg_adapter *a, const sr_adapter *plug,
                      sr_cfg_errors *errs)
{
    size_t n_own = 0, n_host = 0;
    while (plug->options && plug->options[n_own].key)
        n_own++;
    while (sr_plugin_keys[n_host].key)
        n_host++;
    sr_ad_option_spec *all = calloc(n_own + n_host + 1, sizeof *all);
    if (!all)
        return SR_ENOMEM;
    if (n_own)
        memcpy(all, plug->options, n_own * sizeof *all);
    memcpy(all + n_own, sr_plugin_keys, n_host * sizeof *all);
    sr_adapter merged = *plug;
    merged.options = all;
    int rc = sr_cfg_check_adapter(cfg, a, &merged, errs);
    free(all);
    return rc;
}

/* The first of dirs (n of them) that holds file: its path into out (len
 * bytes). Returns whether one does. */
static bool find_in_dirs(const char (*dirs)[SR_DIR_MAX], size_t n, const char *file, char *out,
                         size_t len)
{
    for (size_t i = 0; i < n; i++) {
        if (snprintf(out, len, "%s/%s", dirs[i], file) < (int)len && access(out, F_OK) == 0)
            return true;
    }
    return false;
}

/* The shared object a section's path names: relative to the config's
 * folder; a bare file name (no '/') that is not there is looked for among
 * the installed example plugins (sr_data_dirs), so that `path =
 * textlog.so` works from any config after `make install`. Caller owns;
 * free(). When nothing is found, the config-relative name (for the error). */
static char *plugin_path(const sr_config *cfg, const char *value)
{
    char *path = sr_cfg_path(cfg, value);
    if (!path || strchr(value, '/') || access(path, F_OK) == 0)
        return path;
    char dirs[2][SR_DIR_MAX], cand[SR_DIR_MAX + 256];
    size_t n = sr_data_dirs("plugins", dirs);
    char *found = find_in_dirs((const char(*)[SR_DIR_MAX])dirs, n, value, cand, sizeof cand)
                      ? strdup(cand)
                      : NULL;
    if (!found)
        return path;
    free(path);
    return found;
}

/*
 * Opens the shared object at path into e (what names it: "the plugin of
 * [adapter.feed]") and hands back its adapter table, checked for this
 * build's ABI. Returns 0, or SR_EINVAL with why in buf (e->loaded says
 * whether e->lib must be closed).
 */
static int load_object(const char *path, const char *what, entry *e, const sr_adapter **out,
                       char *buf, size_t len)
{
    if (uv_dlopen(path, &e->lib) != 0) {
        snprintf(buf, len, "cannot load %s: %s", what, uv_dlerror(&e->lib));
        uv_dlclose(&e->lib); /* frees the message */
        return SR_EINVAL;
    }
    e->loaded = true;
    sr_adapter_entry_fn fn;
    void *sym = NULL;
    if (uv_dlsym(&e->lib, SR_ADAPTER_ENTRY, &sym) != 0) {
        snprintf(buf, len, "%s is not a sitrep plugin: it does not export %s() (%s)", path,
                 SR_ADAPTER_ENTRY, uv_dlerror(&e->lib));
        return SR_EINVAL;
    }
    /* the one cast ISO C cannot express: dlsym hands functions as void * */
    memcpy(&fn, &sym, sizeof fn);
    const sr_adapter *a = fn();
    char why[512];
    if (sr_registry_check_abi(a, why, sizeof why) != 0) {
        snprintf(buf, len, "%s refused: %s", path, why);
        return SR_EINVAL;
    }
    *out = a;
    return 0;
}

/* Loads the plugin of section a into e; on failure appends why to errs. */
static int load_one(const sr_config *cfg, const sr_cfg_adapter *a, entry *e, sr_cfg_errors *errs)
{
    const sr_cfg_kv *kv = section_key(a, "path");
    if (!kv) /* config.c has reported it */
        return SR_EINVAL;
    char *path = plugin_path(cfg, kv->value);
    if (!path)
        return SR_ENOMEM;
    char what[SR_NAME_MAX + 64], why[SR_DIR_MAX + 1024];
    snprintf(what, sizeof what, "the plugin of [adapter.%s]", a->name);
    const sr_adapter *plug = NULL;
    int rc = load_object(path, what, e, &plug, why, sizeof why);
    free(path);
    if (rc) {
        rc = sr_cfg_errors_add(errs, cfg->path, kv->line, "path: %s", why);
        return rc ? rc : SR_EINVAL;
    }
    rc = check_keys(cfg, a, plug, errs);
    if (rc)
        return rc;
    e->a = plug;
    return 0;
}

/*
 * The adapter of section a, whose built-in type lives in the shared object
 * `file` (adapters/modules.h), into e: loaded from the first of
 * sr_module_dirs() that has it. Where none has it, e keeps the registry's
 * table, whose open() says so when the collector opens the source (as a
 * build without the library always did). The keys were checked by
 * config.c against the same options.
 */
static int load_module(const sr_config *cfg, const sr_cfg_adapter *a, const char *file, entry *e,
                       sr_cfg_errors *errs)
{
    char dirs[3][SR_DIR_MAX], path[SR_DIR_MAX + 256];
    size_t n = sr_module_dirs(dirs);
    if (!find_in_dirs((const char(*)[SR_DIR_MAX])dirs, n, file, path, sizeof path))
        return 0;
    char what[2 * SR_NAME_MAX + 64], why[SR_DIR_MAX + 1024];
    snprintf(what, sizeof what, "the %s adapter of [adapter.%s]", a->type, a->name);
    const sr_adapter *mod = NULL;
    int rc = load_object(path, what, e, &mod, why, sizeof why);
    if (!rc && strcmp(mod->type, a->type) != 0) {
        snprintf(why, sizeof why, "%s refused: it holds the adapter type '%.64s'", path, mod->type);
        rc = SR_EINVAL;
    }
    if (rc) {
        rc = sr_cfg_errors_add(errs, cfg->path, a->line, "%s", why);
        return rc ? rc : SR_EINVAL;
    }
    e->a = mod;
    return 0;
}

int sr_plugins_load(const sr_config *cfg, sr_plugins **out, sr_cfg_errors *errs)
{
    *out = NULL;
    sr_plugins *p = calloc(1, sizeof *p);
    if (!p || !(p->v = calloc(cfg->n_adapters + 1, sizeof *p->v))) {
        free(p);
        return SR_ENOMEM;
    }
    p->n = cfg->n_adapters;
    int rc = 0;
    for (size_t i = 0; i < cfg->n_adapters && rc != SR_ENOMEM; i++) {
        const sr_cfg_adapter *a = &cfg->adapters[i];
        const char *file;
        if (strcmp(a->type, SR_PLUGIN_TYPE) != 0) {
            p->v[i].a = sr_registry_find(a->type);
            if (!p->v[i].a && sr_cfg_errors_add(errs, cfg->path, a->line,
                                                "adapter type '%s' is not built into this sitrep",
                                                a->type) == SR_ENOMEM)
                rc = SR_ENOMEM;
            else if (!p->v[i].a)
                rc = SR_EINVAL;
            else if ((file = sr_registry_module(a->type))) {
                int r = load_module(cfg, a, file, &p->v[i], errs);
                if (r)
                    rc = r;
            }
            continue;
        }
        p->n_plugins++;
        int r = load_one(cfg, a, &p->v[i], errs);
        if (r)
            rc = r;
    }
    if (rc) {
        sr_plugins_destroy(p);
        return rc;
    }
    *out = p;
    return 0;
}

const sr_adapter *sr_plugins_adapter(const sr_plugins *p, size_t i)
{
    return p && i < p->n ? p->v[i].a : NULL;
}

size_t sr_plugins_count(const sr_plugins *p)
{
    return p ? p->n_plugins : 0;
}

void sr_plugins_destroy(sr_plugins *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        if (p->v[i].loaded)
            uv_dlclose(&p->v[i].lib);
    }
    free(p->v);
    free(p);
}
