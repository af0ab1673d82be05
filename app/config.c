/*
 * config.c - config.ini into a typed sr_config.
 *
 * Every section kind has one static table of options (name, type, default,
 * range, help, and where the value is stored: config_tables.c). The tables
 * drive parsing, validation, the "did you mean" suggestions and the
 * generated help (sr_cfg_section_at(), sr_cfg_option_at()). A section's
 * defaults are set by parsing each option's default text with the
 * option's own parser, so the documented default is the one applied.
 *
 * A file is read in three passes, and no pass stops at an error:
 *
 *   1. Lines (config_read.c). Each section gets its own record (struct
 *      sect) holding its values and the line of every key seen in it.
 *   2. Sections, each on its own (config_check.c, cfg_finish_section()):
 *      derived defaults, required keys, checks between keys of one section
 *      (agg for the kind, ratio keys, threshold order, the adapter type's
 *      own keys).
 *   3. References between sections (cfg_check_refs()): ratio operands,
 *      panel metrics and aggregates, windows against retention, roles
 *      (config_roles.c). The order of the sections in the file therefore
 *      does not matter.
 *
 * Errors are collected (at most SR_CFG_MAX_ERRORS), then sorted by line.
 * A config is returned only when there is no error at all; this file then
 * builds it from the sections (build()).
 */
#include "config_int.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../metrics/safetext.h"
#include "paths.h"

/* ---------------------------------------------------------------------- */
/* Small helpers                                                           */

/* Makes room for element n of the array *pv (elements of sz bytes). The
 * capacity is the next power of two, so arrays carry only their count.
 * pv is the address of a T * (all object pointers share one representation
 * on the platforms sitrep targets). Returns false when out of memory. */
bool cfg_grow(void *pv, size_t n, size_t sz)
{
    if (n != 0 && (n & (n - 1)) != 0)
        return true;
    size_t cap = n ? n * 2 : 1;
    if (cap > SIZE_MAX / sz)
        return false;
    void *v;
    memcpy(&v, pv, sizeof v);
    void *nv = realloc(v, cap * sz);
    if (!nv)
        return false;
    memcpy(pv, &nv, sizeof nv);
    return true;
}

static char *dup_str(const char *s)
{
    return strdup(s ? s : "");
}

/* a + "/" + b, without doubling a trailing slash of a. */
static char *join_path(const char *a, const char *b)
{
    size_t al = strlen(a);
    while (al > 1 && a[al - 1] == '/')
        al--;
    size_t n = al + 1 + strlen(b) + 1;
    char *r = malloc(n);
    if (r)
        snprintf(r, n, "%.*s/%s", (int)al, a, b);
    return r;
}

/* $HOME, else the password database; NULL when neither is absolute. */
static const char *home_dir(void)
{
    const char *h = getenv("HOME");
    if (h && h[0] == '/')
        return h;
    struct passwd *pw = getpwuid(getuid());
    if (pw && pw->pw_dir && pw->pw_dir[0] == '/')
        return pw->pw_dir;
    return NULL;
}

/* $var/tail, or $HOME/fallback/tail when var is unset, empty or relative
 * (the XDG base directory rules). NULL when there is no home either, or
 * when out of memory. */
static char *xdg_file(const char *var, const char *fallback, const char *tail)
{
    const char *base = getenv(var);
    if (base && base[0] == '/')
        return join_path(base, tail);
    const char *home = home_dir();
    if (!home)
        return NULL;
    char *dir = join_path(home, fallback);
    if (!dir)
        return NULL;
    char *r = join_path(dir, tail);
    free(dir);
    return r;
}

/* The directory of a file name, absolute when it exists. */
static char *dir_of(const char *file)
{
    char *dir = sr_path_folder(file);
    if (!dir)
        return NULL;
    char *abs = realpath(dir, NULL);
    if (abs) {
        free(dir);
        return abs;
    }
    return dir;
}

/* ---------------------------------------------------------------------- */
/* Errors                                                                  */

void cfg_sink_add(struct errsink *k, int line, const char *fmt, ...)
{
    k->count++;
    if (!k->errs)
        return;
    if (k->errs->n >= SR_CFG_MAX_ERRORS) {
        k->dropped++;
        return;
    }
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *msg = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (msg)
        vsnprintf(msg, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    char *file = dup_str(k->file);
    if (!msg || !file || !cfg_grow(&k->errs->v, k->errs->n, sizeof *k->errs->v)) {
        free(msg);
        free(file);
        k->oom = true;
        return;
    }
    k->errs->v[k->errs->n++] = (sr_cfg_error){.file = file, .line = line, .msg = msg};
}

/* Stable sort by line: insertion sort, the list is short and mostly sorted. */
static void errors_sort(sr_cfg_errors *errs)
{
    for (size_t i = 1; i < errs->n; i++) {
        sr_cfg_error e = errs->v[i];
        size_t j = i;
        while (j > 0 && errs->v[j - 1].line > e.line) {
            errs->v[j] = errs->v[j - 1];
            j--;
        }
        errs->v[j] = e;
    }
}

void sr_cfg_errors_fini(sr_cfg_errors *errs)
{
    if (!errs)
        return;
    for (size_t i = 0; i < errs->n; i++) {
        free(errs->v[i].file);
        free(errs->v[i].msg);
    }
    free(errs->v);
    errs->v = NULL;
    errs->n = 0;
}

void sr_cfg_error_format(const sr_cfg_error *e, char *buf, size_t len)
{
    const char *file = e->file ? e->file : "?";
    if (e->line > 0)
        snprintf(buf, len, "%s:%d: %s", file, e->line, e->msg ? e->msg : "");
    else
        snprintf(buf, len, "%s: %s", file, e->msg ? e->msg : "");
}

/* ---------------------------------------------------------------------- */
/* Putting it together                                                     */

struct page_build {
    sr_config *cfg;
    sr_cfg_page *pg;
};

static bool add_listed(void *ctx, const char *name)
{
    struct page_build *b = ctx;
    for (size_t i = 0; i < b->cfg->n_panels; i++) {
        if (strcmp(b->cfg->panels[i].name, name) == 0) {
            b->pg->panels[b->pg->n_panels++] = i;
            break;
        }
    }
    return true;
}

/* The pages of cfg; without [page.*], one page "overview" of every panel. */
static int build_pages(struct parser *p, sr_config *cfg)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n_sects; i++)
        n += p->sects[i]->kind->id == K_PAGE;
    cfg->pages = calloc(n ? n : 1, sizeof *cfg->pages);
    if (!cfg->pages)
        return SR_ENOMEM;
    for (size_t i = 0; i < p->n_sects; i++) {
        const struct sect *s = p->sects[i];
        if (s->kind->id != K_PAGE)
            continue;
        sr_cfg_page *pg = &cfg->pages[cfg->n_pages++];
        snprintf(pg->name, sizeof pg->name, "%s", s->v.page.name);
        snprintf(pg->title, sizeof pg->title, "%s", s->v.page.title);
        pg->columns = (int)s->v.page.columns;
        pg->line = s->v.page.line;
        pg->panels = calloc(cfg->n_panels + 1, sizeof *pg->panels);
        if (!pg->panels)
            return SR_ENOMEM;
        struct page_build b = {cfg, pg};
        cfg_each_listed(s->v.page.panels, add_listed, &b);
    }
    if (cfg->n_pages == 0) {
        sr_cfg_page *pg = &cfg->pages[cfg->n_pages++];
        snprintf(pg->name, sizeof pg->name, "overview");
        snprintf(pg->title, sizeof pg->title, "Overview");
        pg->columns = 3;
        pg->panels = calloc(cfg->n_panels + 1, sizeof *pg->panels);
        if (!pg->panels)
            return SR_ENOMEM;
        for (size_t i = 0; i < cfg->n_panels; i++)
            pg->panels[pg->n_panels++] = i;
    }
    return 0;
}

/* Moves a value map into cfg, with its form for the adapter ABI. */
static int build_map(sr_config *cfg, const sr_cfg_map *m)
{
    sr_ad_option *v = calloc(m->n ? m->n : 1, sizeof *v);
    if (!v)
        return SR_ENOMEM;
    for (size_t i = 0; i < m->n; i++)
        v[i] = (sr_ad_option){.key = m->v[i].key, .value = m->v[i].value, .line = m->v[i].line};
    sr_cfg_map *d = &cfg->maps[cfg->n_maps];
    *d = *m;
    cfg->ad_maps[cfg->n_maps++] =
        (sr_ad_valmap){.name = d->name, .v = v, .n = m->n, .line = m->line};
    return 0;
}

/* Moves what the sections hold into cfg (which takes ownership). */
static int build(struct parser *p, const struct sect *sitrep, sr_config *cfg)
{
    size_t nm = 0, na = 0, np = 0, nv = 0;
    const struct sect *alert = NULL, *wall = NULL;
    for (size_t i = 0; i < p->n_sects; i++) {
        const struct sect *s = p->sects[i];
        nm += s->kind->id == K_METRIC;
        na += s->kind->id == K_ADAPTER;
        np += s->kind->id == K_PANEL;
        nv += s->kind->id == K_MAP;
    }
    cfg->metrics.v = nm ? calloc(nm, sizeof *cfg->metrics.v) : NULL;
    cfg->adapters = na ? calloc(na, sizeof *cfg->adapters) : NULL;
    cfg->panels = np ? calloc(np, sizeof *cfg->panels) : NULL;
    cfg->maps = nv ? calloc(nv, sizeof *cfg->maps) : NULL;
    cfg->ad_maps = nv ? calloc(nv, sizeof *cfg->ad_maps) : NULL;
    if ((nm && !cfg->metrics.v) || (na && !cfg->adapters) || (np && !cfg->panels) ||
        (nv && (!cfg->maps || !cfg->ad_maps)))
        return SR_ENOMEM;
    for (size_t i = 0; i < p->n_sects; i++) {
        struct sect *s = p->sects[i];
        switch (s->kind->id) {
        case K_SITREP:
            break;
        case K_METRIC:
            cfg->metrics.v[cfg->metrics.n++] = s->v.metric;
            break;
        case K_ADAPTER:
            cfg->adapters[cfg->n_adapters++] = s->v.adapter;
            s->v.adapter.opts = NULL;
            s->v.adapter.n_opts = 0;
            break;
        case K_MAP:
            if (build_map(cfg, &s->v.map))
                return SR_ENOMEM;
            s->v.map.v = NULL;
            s->v.map.n = 0;
            break;
        case K_PANEL:
            cfg->panels[cfg->n_panels++] = s->v.panel;
            break;
        case K_PAGE:
        case K_ROLE:
            break;
        case K_ALERT:
            alert = s;
            break;
        case K_WALL:
            wall = s;
            break;
        }
    }
    if (build_pages(p, cfg) || cfg_build_roles(p, sitrep, cfg))
        return SR_ENOMEM;

    struct sitrep_vals d = {0};
    const struct sitrep_vals *v = &d;
    if (sitrep)
        v = &sitrep->v.sitrep;
    else
        cfg_apply_defaults(&cfg_kinds[K_SITREP], &d);
    snprintf(cfg->timezone, sizeof cfg->timezone, "%s", v->timezone);
    snprintf(cfg->cache_group, sizeof cfg->cache_group, "%s", v->cache_group);
    snprintf(cfg->title, sizeof cfg->title, "%s", v->title);
    snprintf(cfg->theme, sizeof cfg->theme, "%s", v->theme);
    cfg->refresh_ms = v->refresh_ms;
    cfg->retention_ms = v->retention_ms;
    cfg->accept_ahead_ms = v->accept_ahead_ms;
    cfg->shift_ms = v->shift_ms;
    cfg->reports = v->reports ? sr_cfg_path(cfg, v->reports)
                              : xdg_file("XDG_STATE_HOME", ".local/state", "sitrep");
    if (!cfg->reports)
        cfg->reports = join_path(cfg->dir, ".");
    if (!cfg->reports)
        return SR_ENOMEM;
    cfg->min_cell = (int)v->min_cell;
    cfg->cell_grid_ms = v->cell_grid_ms;
    char why[256]; /* checked by cfg_finish_section: no error here */
    if (sr_baseline_parse_dates(v->baseline_exclude, cfg->baseline_exclude, SR_BASELINE_EXCLUDE_MAX,
                                &cfg->n_baseline_exclude, why, sizeof why))
        cfg->n_baseline_exclude = 0;
    cfg_build_levels(cfg, sitrep);

    struct alert_vals ad = {0};
    const struct alert_vals *av = &ad;
    if (alert)
        av = &alert->v.alert;
    else
        cfg_apply_defaults(&cfg_kinds[K_ALERT], &ad);
    cfg->alert_for_ms = av->for_ms;
    cfg->alert_hysteresis = av->hysteresis / 100;
    snprintf(cfg->alert_command, sizeof cfg->alert_command, "%s", av->command);
    if (cfg_build_wall(cfg, wall))
        return SR_ENOMEM;
    if (!v->cache) {
        cfg->cache = xdg_file("XDG_STATE_HOME", ".local/state", "sitrep/cache.db");
        if (!cfg->cache)
            cfg->cache = join_path(cfg->dir, "cache.db");
    } else {
        cfg->cache = sr_cfg_path(cfg, v->cache);
    }
    return cfg->cache ? 0 : SR_ENOMEM;
}

/* Parses text (len bytes). errs is set up by the caller. */
static int parse(const char *file, const char *text, size_t len, sr_config **out,
                 sr_cfg_errors *errs)
{
    struct parser p = {.err = {.errs = errs, .file = file}, .text = text, .len = len};
    sr_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return SR_ENOMEM;
    cfg->path = dup_str(file);
    cfg->dir = dir_of(file);
    if (!cfg->path || !cfg->dir) {
        sr_config_destroy(cfg);
        return SR_ENOMEM;
    }

    if (cfg_read(&p))
        p.err.oom = true;

    const struct sect *sitrep = NULL;
    for (size_t i = 0; i < p.n_sects; i++) {
        cfg_finish_section(&p, p.sects[i]);
        if (p.sects[i]->kind->id == K_SITREP && !p.sects[i]->duplicate && !sitrep)
            sitrep = p.sects[i];
    }
    /* duplicates leave the list now: only the first of each section counts */
    size_t kept = 0;
    for (size_t i = 0; i < p.n_sects; i++) {
        if (p.sects[i]->duplicate)
            cfg_sect_free(p.sects[i]);
        else
            p.sects[kept++] = p.sects[i];
    }
    p.n_sects = kept;
    cfg_check_refs(&p, sitrep);

    int rc = 0;
    if (p.err.oom)
        rc = SR_ENOMEM;
    else if (p.err.count)
        rc = SR_EINVAL;
    else
        rc = build(&p, sitrep, cfg);

    for (size_t i = 0; i < p.n_sects; i++)
        cfg_sect_free(p.sects[i]);
    free(p.sects);

    if (errs) {
        errors_sort(errs);
        if (p.err.dropped) {
            size_t dropped = p.err.dropped;
            p.err.dropped = 0;
            errs->n--; /* make room: the last kept error gives way to the count */
            free(errs->v[errs->n].file);
            free(errs->v[errs->n].msg);
            cfg_sink_add(&p.err, 0, "%zu more errors not shown", dropped + 1);
        }
    }
    if (rc) {
        sr_config_destroy(cfg);
        return rc;
    }
    if (out)
        *out = cfg;
    else
        sr_config_destroy(cfg);
    return 0;
}

int sr_config_parse(const char *name, const char *text, sr_config **out, sr_cfg_errors *errs)
{
    if (out)
        *out = NULL;
    if (errs)
        *errs = (sr_cfg_errors){0};
    if (!name || !text)
        return SR_EINVAL;
    return parse(name, text, strlen(text), out, errs);
}

int sr_config_load(const char *path, sr_config **out, sr_cfg_errors *errs)
{
    if (out)
        *out = NULL;
    if (errs)
        *errs = (sr_cfg_errors){0};
    if (!path)
        return SR_EINVAL;
    struct errsink k = {.errs = errs, .file = path};
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        cfg_sink_add(&k, 0, "cannot open: %s", strerror(e));
        return e == ENOENT ? SR_ENOENT : SR_EIO;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 8192;
            char *t = realloc(text, ncap);
            if (!t) {
                free(text);
                fclose(f);
                return SR_ENOMEM;
            }
            text = t;
            cap = ncap;
        }
        size_t got = fread(text + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    int read_err = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    if (read_err) {
        free(text);
        cfg_sink_add(&k, 0, "cannot read: %s", strerror(read_err));
        return SR_EIO;
    }
    int rc = parse(path, text, len, out, errs);
    free(text);
    return rc;
}

void sr_config_destroy(sr_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n_adapters; i++) {
        for (size_t j = 0; j < cfg->adapters[i].n_opts; j++) {
            free(cfg->adapters[i].opts[j].key);
            free(cfg->adapters[i].opts[j].value);
        }
        free(cfg->adapters[i].opts);
    }
    free(cfg->adapters);
    for (size_t i = 0; i < cfg->n_maps; i++) {
        cfg_kv_free(cfg->maps[i].v, cfg->maps[i].n);
        free((void *)cfg->ad_maps[i].v);
    }
    free(cfg->maps);
    free(cfg->ad_maps);
    for (size_t i = 0; i < cfg->n_pages; i++)
        free(cfg->pages[i].panels);
    free(cfg->pages);
    for (size_t i = 0; i < cfg->n_roles; i++) {
        free(cfg->roles[i].pages);
        free(cfg->roles[i].panels);
    }
    free(cfg->roles);
    free(cfg->wall_pages);
    free(cfg->panels);
    free(cfg->metrics.v);
    free(cfg->cache);
    free(cfg->reports);
    free(cfg->dir);
    free(cfg->path);
    free(cfg);
}

char *sr_config_locate(const char *arg)
{
    if (arg)
        return strdup(arg);
    if (access("config.ini", F_OK) == 0)
        return strdup("config.ini");
    char *user = xdg_file("XDG_CONFIG_HOME", ".config", "sitrep/config.ini");
    if (user && access(user, F_OK) == 0)
        return user;
    if (access(SR_SYSTEM_CONFIG, F_OK) == 0) {
        free(user);
        return strdup(SR_SYSTEM_CONFIG);
    }
    /* none: the user's own, the one to create (the error names it) */
    return user ? user : strdup("config.ini");
}

char *sr_cfg_path(const sr_config *cfg, const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    if (path[0] == '~' && path[1] == '/' && home_dir())
        return join_path(home_dir(), path + 2);
    return join_path(cfg->dir, path);
}

void sr_cfg_adapter_options(const sr_config *cfg, const sr_cfg_adapter *a, sr_ad_option *v,
                            sr_ad_options *out)
{
    for (size_t i = 0; i < a->n_opts; i++)
        v[i] = (sr_ad_option){
            .key = a->opts[i].key, .value = a->opts[i].value, .line = a->opts[i].line};
    static const sr_ad_host host = {
        .local_to_utc = sr_local_to_utc, .parse_time = sr_parse_time, .tz_valid = sr_tz_valid};
    *out = (sr_ad_options){.v = v,
                           .n = a->n_opts,
                           .name = a->name,
                           .config_dir = cfg->dir,
                           .host = &host,
                           .timezone = cfg->timezone,
                           .maps = cfg->ad_maps,
                           .n_maps = cfg->n_maps};
}

int sr_cfg_errors_add(sr_cfg_errors *errs, const char *file, int line, const char *fmt, ...)
{
    struct errsink k = {.errs = errs, .file = file};
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cfg_sink_add(&k, line, "%s", msg);
    if (k.oom)
        return SR_ENOMEM;
    errors_sort(errs);
    return 0;
}

int sr_cfg_check_adapter(const sr_config *cfg, const sr_cfg_adapter *a, const sr_adapter *type,
                         sr_cfg_errors *errs)
{
    struct errsink k = {.errs = errs, .file = cfg->path};
    cfg_check_adapter_keys(&k, a, type);
    if (k.oom)
        return SR_ENOMEM;
    if (errs)
        errors_sort(errs);
    return k.count ? SR_EINVAL : 0;
}

int sr_cfg_open_adapter(const sr_config *cfg, const sr_cfg_adapter *a, const sr_adapter *type,
                        sr_cfg_errors *errs, char *warn, size_t warnlen)
{
    if (warnlen)
        warn[0] = 0;
    sr_ad_option *v = calloc(a->n_opts + 1, sizeof *v);
    if (!v)
        return SR_ENOMEM;
    sr_ad_options o;
    sr_cfg_adapter_options(cfg, a, v, &o);
    char err[1024] = "";
    void *state = NULL;
    int rc = type->open(&o, &state, err, sizeof err);
    if (rc == 0) {
        /* what the type warns of (version 3: a CSV header with a name twice) */
        if (type->abi_version >= 3 && type->check && warnlen &&
            type->check(state, warn, warnlen) <= 0)
            warn[0] = 0;
        type->close(state);
        free(v);
        return 0;
    }
    free(v);
    /* "key: why" names the option: the error is at its (last) line */
    int line = a->line;
    size_t klen = strcspn(err, ": ");
    for (size_t i = 0; err[klen] == ':' && i < a->n_opts; i++) {
        if (strlen(a->opts[i].key) == klen && strncmp(a->opts[i].key, err, klen) == 0)
            line = a->opts[i].line;
    }
    rc = sr_cfg_errors_add(errs, cfg->path, line, "[adapter.%s] %s", a->name,
                           err[0] ? err : "the adapter refused its options and gave no reason");
    return rc ? rc : SR_EINVAL;
}
