/*
 * config_roles.c - levels, roles and the wall: [sitrep] levels and
 * personal, [role.NAME] and [wall], checked against the rest of the file
 * (pass 3) and built into the sr_config.
 *
 * A role lists Unix users and groups, the pages and panels it may see (by
 * NAME, or *), how deep it may drill (*, a number, or a level name) and
 * yes/no switches. Without a role for a user, sitrep applies the default
 * role, built here too: every page and panel, no personal data, no
 * acknowledging, no audit.
 */
#include "config_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The level names of [sitrep] levels (defaults when the file has no
 * [sitrep]); returns how many, at most SR_CFG_MAX_LEVELS + 1 (one more than
 * allowed, so that the caller can tell too many). */
struct names {
    char v[SR_CFG_MAX_LEVELS + 1][SR_NAME_MAX + 8];
    size_t n;
};

static bool names_add(void *ctx, const char *name)
{
    struct names *ns = ctx;
    if (ns->n > SR_CFG_MAX_LEVELS)
        return false;
    snprintf(ns->v[ns->n++], sizeof ns->v[0], "%s", name);
    return true;
}

static void levels_of(const struct sect *sitrep, struct names *out)
{
    out->n = 0;
    if (sitrep)
        cfg_each_listed(sitrep->v.sitrep.levels, names_add, out);
}

/* 1-based level of name, 0 when it is not one. */
static int level_index(const struct names *lv, const char *name)
{
    for (size_t i = 0; i < lv->n && i < SR_CFG_MAX_LEVELS; i++) {
        if (strcmp(lv->v[i], name) == 0)
            return (int)i + 1;
    }
    return 0;
}

/* The first personal level of [sitrep], 0 when none. */
static int first_personal(const struct sect *sitrep, const struct names *lv)
{
    struct names ps;
    ps.n = 0;
    if (sitrep)
        cfg_each_listed(sitrep->v.sitrep.personal, names_add, &ps);
    int first = 0;
    for (size_t i = 0; i < ps.n; i++) {
        int k = level_index(lv, ps.v[i]);
        if (k && (!first || k < first))
            first = k;
    }
    return first;
}

/* Checks [sitrep] levels and personal (pass 2). */
void cfg_check_levels(struct parser *p, const struct sect *s)
{
    struct names lv;
    levels_of(s, &lv);
    int line = cfg_key_line(s, "levels");
    if (lv.n > SR_CFG_MAX_LEVELS)
        cfg_sink_add(&p->err, line, "levels: more than %d levels, expected at most %d names",
                     SR_CFG_MAX_LEVELS, SR_CFG_MAX_LEVELS);
    for (size_t i = 0; i < lv.n && i < SR_CFG_MAX_LEVELS; i++) {
        char q[SR_QUOTE_SIZE];
        sr_text_quote(lv.v[i], q, sizeof q);
        if (!cfg_name_valid(lv.v[i]))
            cfg_sink_add(&p->err, line,
                         "levels: invalid name '%s', expected 1 to %d letters, digits, '_' or '-'",
                         q, SR_NAME_MAX - 1);
        else if (level_index(&lv, lv.v[i]) != (int)i + 1)
            cfg_sink_add(&p->err, line, "levels: '%s' is named twice", q);
    }
    struct names ps;
    ps.n = 0;
    cfg_each_listed(s->v.sitrep.personal, names_add, &ps);
    for (size_t i = 0; i < ps.n && i < SR_CFG_MAX_LEVELS; i++) {
        if (level_index(&lv, ps.v[i]))
            continue;
        char q[SR_QUOTE_SIZE];
        sr_text_quote(ps.v[i], q, sizeof q);
        if (lv.n == 0)
            cfg_sink_add(&p->err, cfg_key_line(s, "personal"),
                         "personal: no level '%s', expected names from [sitrep] levels (which is "
                         "not set)",
                         q);
        else
            cfg_sink_add(&p->err, cfg_key_line(s, "personal"),
                         "personal: no level '%s', expected names from [sitrep] levels (%s)", q,
                         s->v.sitrep.levels);
    }
}

/* A Unix user or group name as useradd accepts it: [A-Za-z0-9._-], not
 * starting with '-'; at most 32 bytes. */
static bool unix_name_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (!(isalnum(c) || c == '_' || c == '-' || c == '.') || c >= 0x80)
            return false;
    }
    return n > 0 && n <= 32 && s[0] != '-';
}

struct role_check {
    struct parser *p;
    const struct sect *s;
    const char *key;   /* "users", "groups", "pages", "panels" */
    enum kind_id kind; /* of the sections named, for pages and panels */
    int count;
    bool star;
};

static bool check_role_name(void *ctx, const char *name)
{
    struct role_check *rc = ctx;
    struct parser *p = rc->p;
    int line = cfg_key_line(rc->s, rc->key);
    char q[SR_QUOTE_SIZE];
    sr_text_quote(name, q, sizeof q);
    rc->count++;
    if (strcmp(name, "*") == 0) {
        rc->star = true;
        return true;
    }
    if (rc->kind == K_ROLE) { /* users, groups */
        if (!unix_name_valid(name))
            cfg_sink_add(&p->err, line,
                         "%s: '%s' is not a Unix name, expected letters, digits, '.', '_' or '-'",
                         rc->key, q);
        return true;
    }
    const char *names[64];
    size_t n = 0;
    bool any = false;
    for (size_t i = 0; i < p->n_sects; i++) {
        const struct sect *o = p->sects[i];
        if (o->kind->id != rc->kind || o->duplicate)
            continue;
        any = true;
        if (strcmp(o->name, name) == 0)
            return true;
        if (n < COUNT(names))
            names[n++] = o->name;
    }
    if (rc->kind == K_PAGE && !any) {
        if (strcmp(name, "overview") == 0)
            return true;
        names[n++] = "overview";
    }
    const char *what = rc->kind == K_PAGE ? "page" : "panel";
    const char *best = sr_nearest(name, names, n);
    if (best)
        cfg_sink_add(&p->err, line, "%s: no %s '%s' is defined in this file, did you mean '%s'?",
                     rc->key, what, q, best);
    else
        cfg_sink_add(&p->err, line,
                     "%s: no %s '%s' is defined in this file, expected the NAME of a [%s.NAME] "
                     "section or *",
                     rc->key, what, q, what);
    return true;
}

/* Parses drill: *, a whole number, or a level name. Returns false when it
 * is none of these. */
static bool drill_parse(const char *text, const struct names *lv, int *out)
{
    if (strcmp(text, "*") == 0) {
        *out = SR_DRILL_ANY;
        return true;
    }
    int k = level_index(lv, text);
    if (k) {
        *out = k;
        return true;
    }
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (!text[0] || *end || errno || v < 0 || v >= SR_DRILL_ANY)
        return false;
    *out = (int)v;
    return true;
}

/* The drill depth of a role (its own, or the derived default). */
static int role_drill(const struct sect *s, const struct sect *sitrep)
{
    struct names lv;
    levels_of(sitrep, &lv);
    int d;
    if (cfg_key_ok(s, "drill") && drill_parse(s->v.role.drill, &lv, &d))
        return d;
    int fp = first_personal(sitrep, &lv);
    return fp ? fp - 1 : SR_DRILL_ANY;
}

void cfg_check_role(struct parser *p, const struct sect *s, const struct sect *sitrep)
{
    static const struct {
        const char *key;
        enum kind_id kind;
        size_t offset;
    } lists[] = {
        {"users", K_ROLE, offsetof(struct role_vals, users)},
        {"groups", K_ROLE, offsetof(struct role_vals, groups)},
        {"pages", K_PAGE, offsetof(struct role_vals, pages)},
        {"panels", K_PANEL, offsetof(struct role_vals, panels)},
    };
    for (size_t i = 0; i < COUNT(lists); i++) {
        if (!cfg_key_ok(s, lists[i].key))
            continue;
        struct role_check rc = {p, s, lists[i].key, lists[i].kind, 0, false};
        cfg_each_listed((const char *)&s->v.role + lists[i].offset, check_role_name, &rc);
        if (lists[i].kind != K_ROLE && rc.star && rc.count > 1)
            cfg_sink_add(&p->err, cfg_key_line(s, lists[i].key),
                         "%s: * stands alone, expected * or a list of names", lists[i].key);
        if (lists[i].kind == K_ROLE && rc.star)
            cfg_sink_add(&p->err, cfg_key_line(s, lists[i].key),
                         "%s: * is not a Unix name, expected names separated by commas",
                         lists[i].key);
    }
    struct names lv;
    levels_of(sitrep, &lv);
    int d;
    if (cfg_key_ok(s, "drill") && !drill_parse(s->v.role.drill, &lv, &d)) {
        char q[SR_QUOTE_SIZE];
        sr_text_quote(s->v.role.drill, q, sizeof q);
        if (lv.n)
            cfg_sink_add(&p->err, cfg_key_line(s, "drill"),
                         "drill: '%s' is not a level, expected one of %s, a number or *", q,
                         sitrep->v.sitrep.levels);
        else
            cfg_sink_add(&p->err, cfg_key_line(s, "drill"),
                         "drill: '%s' is not a level, expected a number (1 = top level) or * "
                         "([sitrep] levels names none)",
                         q);
        return;
    }
    int fp = first_personal(sitrep, &lv);
    if (fp && cfg_key_ok(s, "drill") && d >= fp && strcmp(s->v.role.personal, "yes") != 0)
        cfg_sink_add(&p->err, cfg_key_line(s, "drill"),
                     "drill: '%s' reaches the personal level '%s' but personal = no, expected a "
                     "level above it or personal = yes",
                     s->v.role.drill, lv.v[fp - 1]);
}

void cfg_check_wall(struct parser *p, const struct sect *s)
{
    if (!cfg_key_ok(s, "pages"))
        return;
    struct role_check rc = {p, s, "pages", K_PAGE, 0, false};
    cfg_each_listed(s->v.wall.pages, check_role_name, &rc);
    if (rc.star && rc.count > 1)
        cfg_sink_add(&p->err, cfg_key_line(s, "pages"),
                     "pages: * stands alone, expected * or a list of names");
}

void cfg_build_levels(sr_config *cfg, const struct sect *sitrep)
{
    struct names lv;
    levels_of(sitrep, &lv);
    for (size_t i = 0; i < lv.n && i < SR_CFG_MAX_LEVELS; i++)
        snprintf(cfg->levels[cfg->n_levels++], sizeof cfg->levels[0], "%.*s",
                 (int)sizeof cfg->levels[0] - 1, lv.v[i]);
    struct names ps;
    ps.n = 0;
    if (sitrep)
        cfg_each_listed(sitrep->v.sitrep.personal, names_add, &ps);
    for (size_t i = 0; i < ps.n && i < SR_CFG_MAX_LEVELS; i++)
        cfg->personal[level_index(&lv, ps.v[i])] = true;
}

struct index_build {
    const char *const *names; /* borrowed */
    size_t n_names;
    size_t *out;
    size_t n;
};

static bool add_index(void *ctx, const char *name)
{
    struct index_build *b = ctx;
    for (size_t i = 0; i < b->n_names; i++) {
        if (strcmp(b->names[i], name) == 0) {
            b->out[b->n++] = i;
            break;
        }
    }
    return true;
}

/* Builds one role of cfg from its section (NULL: the default role). */
static int build_role(sr_config *cfg, sr_cfg_role *r, const struct sect *s,
                      const struct sect *sitrep)
{
    struct role_vals d;
    const struct role_vals *v = &d;
    if (s) {
        v = &s->v.role;
    } else {
        memset(&d, 0, sizeof d);
        cfg_apply_defaults(&cfg_kinds[K_ROLE], &d);
    }
    snprintf(r->name, sizeof r->name, "%s", s ? s->name : "default");
    snprintf(r->users, sizeof r->users, "%s", v->users);
    snprintf(r->groups, sizeof r->groups, "%s", v->groups);
    r->line = s ? s->line : 0;
    r->acknowledge = strcmp(v->acknowledge, "yes") == 0;
    r->personal = strcmp(v->personal, "yes") == 0;
    r->wall = strcmp(v->wall, "yes") == 0;
    r->audit = strcmp(v->audit, "yes") == 0;
    if (s) {
        r->drill = role_drill(s, sitrep);
    } else {
        struct names lv;
        levels_of(sitrep, &lv);
        int fp = first_personal(sitrep, &lv);
        r->drill = fp ? fp - 1 : SR_DRILL_ANY;
    }
    r->all_pages = strcmp(v->pages, "*") == 0;
    r->all_panels = strcmp(v->panels, "*") == 0;
    r->pages = calloc(cfg->n_pages + 1, sizeof *r->pages);
    r->panels = calloc(cfg->n_panels + 1, sizeof *r->panels);
    if (!r->pages || !r->panels)
        return SR_ENOMEM;
    const char **names = calloc(cfg->n_pages + cfg->n_panels + 1, sizeof *names);
    if (!names)
        return SR_ENOMEM;
    for (size_t i = 0; i < cfg->n_pages; i++)
        names[i] = cfg->pages[i].name;
    struct index_build b = {names, cfg->n_pages, r->pages, 0};
    if (r->all_pages)
        for (size_t i = 0; i < cfg->n_pages; i++)
            r->pages[b.n++] = i;
    else
        cfg_each_listed(v->pages, add_index, &b);
    r->n_pages = b.n;
    for (size_t i = 0; i < cfg->n_panels; i++)
        names[i] = cfg->panels[i].name;
    b = (struct index_build){names, cfg->n_panels, r->panels, 0};
    if (r->all_panels)
        for (size_t i = 0; i < cfg->n_panels; i++)
            r->panels[b.n++] = i;
    else
        cfg_each_listed(v->panels, add_index, &b);
    r->n_panels = b.n;
    free(names);
    return 0;
}

/* The roles of cfg in file order, then "default" when the file has none. */
int cfg_build_roles(struct parser *p, const struct sect *sitrep, sr_config *cfg)
{
    size_t n = 0;
    bool has_default = false;
    for (size_t i = 0; i < p->n_sects; i++) {
        if (p->sects[i]->kind->id == K_ROLE) {
            n++;
            has_default |= strcmp(p->sects[i]->name, "default") == 0;
        }
    }
    cfg->roles = calloc(n + 1, sizeof *cfg->roles);
    if (!cfg->roles)
        return SR_ENOMEM;
    for (size_t i = 0; i < p->n_sects; i++) {
        if (p->sects[i]->kind->id != K_ROLE)
            continue;
        if (build_role(cfg, &cfg->roles[cfg->n_roles++], p->sects[i], sitrep))
            return SR_ENOMEM;
    }
    if (!has_default && build_role(cfg, &cfg->roles[cfg->n_roles++], NULL, sitrep))
        return SR_ENOMEM;
    return 0;
}

static bool count_listed(void *ctx, const char *name)
{
    (void)name;
    ++*(size_t *)ctx;
    return true;
}

/* [wall] (or its defaults) into cfg; the section has been checked. */
int cfg_build_wall(sr_config *cfg, const struct sect *s)
{
    struct wall_vals d = {0};
    const struct wall_vals *v = &d;
    if (s)
        v = &s->v.wall;
    else
        cfg_apply_defaults(&cfg_kinds[K_WALL], &d);
    char why[512];
    cfg->wall_rotate_ms = v->rotate_ms;
    snprintf(cfg->wall_exit_text, sizeof cfg->wall_exit_text, "%s", v->exit);
    sr_cfg_key_chord(v->exit, cfg->wall_exit, &cfg->n_wall_exit, why, sizeof why);
    size_t listed = 0; /* a name may be listed twice: room for every one */
    cfg_each_listed(v->pages, count_listed, &listed);
    cfg->wall_pages = calloc(cfg->n_pages + listed + 1, sizeof *cfg->wall_pages);
    if (!cfg->wall_pages)
        return SR_ENOMEM;
    const char **names = calloc(cfg->n_pages + 1, sizeof *names);
    if (!names)
        return SR_ENOMEM;
    for (size_t i = 0; i < cfg->n_pages; i++)
        names[i] = cfg->pages[i].name;
    struct index_build b = {names, cfg->n_pages, cfg->wall_pages, 0};
    if (strcmp(v->pages, "*") == 0)
        for (size_t i = 0; i < cfg->n_pages; i++)
            cfg->wall_pages[b.n++] = i;
    else
        cfg_each_listed(v->pages, add_index, &b);
    cfg->n_wall_pages = b.n;
    free(names);
    return 0;
}
