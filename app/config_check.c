/*
 * config_check.c - passes 2 and 3 of reading a config: each section on
 * its own once the file is read (cfg_finish_section(): derived defaults,
 * required keys, checks between keys of one section), then references
 * between sections (cfg_check_refs(): ratio operands, panel metrics and
 * aggregates, windows against retention, page lists; roles and the wall in
 * config_roles.c). Both only record errors; nothing here stops reading.
 */
#include "config_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../adapters/execfmt.h"
#include "../adapters/registry.h"
#include "../metrics/forecast.h"
#include "plugin.h"

/* ---------------------------------------------------------------------- */
/* Pass 2: each section on its own                                         */

/* Reports the required keys (flags & mask) that s lacks. */
static void check_required(struct parser *p, const struct sect *s, unsigned mask, const char *why)
{
    char label[SR_NAME_MAX + 16], exp[320];
    cfg_sect_label(s, label, sizeof label);
    for (size_t i = 0; i < s->kind->pub.n_options; i++) {
        const struct opt *o = &s->kind->opts[i];
        if (!(o->pub.flags & mask) || cfg_seen_find(s, o->pub.name))
            continue;
        cfg_describe_expected(o, exp, sizeof exp);
        cfg_sink_add(&p->err, s->line, "missing required key '%s' in %s, expected %s%s",
                     o->pub.name, label, exp, why);
    }
}

/* Writes the aggregates valid for a kind: "count, sum, ..., pNN, ...". */
static void valid_aggs(sr_kind kind, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int k = SR_AGG_COUNT; k <= SR_AGG_VALUE && used < len; k++) {
        sr_agg a = {(sr_agg_kind)k, k == SR_AGG_PCT ? 90 : 0};
        if (!sr_agg_valid_for(a, kind))
            continue;
        char name[16];
        if (k == SR_AGG_PCT)
            snprintf(name, sizeof name, "pNN");
        else
            sr_agg_format(a, name, sizeof name);
        used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "", name);
    }
}

static void finish_metric(struct parser *p, struct sect *s)
{
    sr_metric_def *d = &s->v.metric;
    s->kind_ok = cfg_key_ok(s, "kind");
    if (!s->duplicate)
        check_required(p, s, SR_OPT_REQUIRED, "");
    if (!s->kind_ok)
        return;
    const struct seen *agg = cfg_seen_find(s, "agg");
    if (!agg) {
        d->agg = sr_kind_default_agg(d->kind);
    } else if (agg->ok && !sr_agg_valid_for(d->agg, d->kind)) {
        char name[16], list[128];
        sr_agg_format(d->agg, name, sizeof name);
        valid_aggs(d->kind, list, sizeof list);
        cfg_sink_add(&p->err, agg->line, "agg: '%s' does not suit a %s metric, expected one of %s",
                     name, sr_kind_name(d->kind), list);
    }
    for (size_t i = 0; i < s->kind->pub.n_options; i++) {
        const struct opt *o = &s->kind->opts[i];
        const struct seen *e = cfg_seen_find(s, o->pub.name);
        if (d->kind != SR_KIND_RATIO && e && (o->pub.flags & SR_OPT_RATIO))
            cfg_sink_add(&p->err, e->line,
                         "%s: only a ratio metric has a %s, this one is kind = %s", o->pub.name,
                         o->pub.name, sr_kind_name(d->kind));
    }
    if (d->kind == SR_KIND_RATIO && !s->duplicate)
        check_required(p, s, SR_OPT_RATIO_REQUIRED,
                       " (a ratio needs a numerator and a denominator)");
    static const char *const whole[] = {"baseline_weeks", "unusual_slices"};
    const double vals[] = {d->baseline_weeks, d->unusual_slices};
    for (size_t i = 0; i < COUNT(whole); i++) {
        if (cfg_key_ok(s, whole[i]) && vals[i] != floor(vals[i]))
            cfg_sink_add(&p->err, cfg_key_line(s, whole[i]), "%s: expected a whole number, got %g",
                         whole[i], vals[i]);
    }
    if (cfg_key_ok(s, "warn") && cfg_key_ok(s, "crit")) {
        bool lower = d->better == SR_BETTER_LOWER;
        if (lower ? d->warn > d->crit : d->warn < d->crit)
            cfg_sink_add(
                &p->err, cfg_key_line(s, "crit"),
                "crit: warn = %g and crit = %g contradict better = %s, expected warn %s crit",
                d->warn, d->crit, lower ? "lower" : "higher", lower ? "<=" : ">=");
    }
}

/* [sitrep] baseline_exclude: dates by metrics/baseline.c's rule. */
static void check_exclude(struct parser *p, const struct sect *s)
{
    int32_t days[SR_BASELINE_EXCLUDE_MAX];
    size_t n;
    char why[512];
    if (cfg_key_ok(s, "baseline_exclude") &&
        sr_baseline_parse_dates(s->v.sitrep.baseline_exclude, days, SR_BASELINE_EXCLUDE_MAX, &n,
                                why, sizeof why))
        cfg_sink_add(&p->err, cfg_key_line(s, "baseline_exclude"), "baseline_exclude: %s", why);
}

/* The adapter type's own keys of a against its option table. */
void cfg_check_adapter_keys(struct errsink *k, const sr_cfg_adapter *a, const sr_adapter *type)
{
    const char *names[64];
    size_t n = 0;
    const struct kind *ak = &cfg_kinds[K_ADAPTER];
    for (size_t i = 0; i < ak->pub.n_options; i++)
        names[n++] = ak->opts[i].pub.name;
    for (size_t i = 0; type->options && type->options[i].key && n < COUNT(names); i++)
        names[n++] = type->options[i].key;
    for (size_t i = 0; i < a->n_opts; i++) {
        const sr_cfg_kv *kv = &a->opts[i];
        bool known = false;
        for (size_t j = ak->pub.n_options; j < n && !known; j++)
            known = strcmp(names[j], kv->key) == 0;
        if (known)
            continue;
        char qk[SR_QUOTE_SIZE];
        sr_text_quote(kv->key, qk, sizeof qk);
        const char *best = sr_nearest(kv->key, names, n);
        if (best) {
            cfg_sink_add(k, kv->line, "unknown key '%s' in [adapter.%s], did you mean '%s'?", qk,
                         a->name, best);
        } else {
            char list[512];
            size_t used = 0;
            list[0] = '\0';
            for (size_t j = 0; j < n && used < sizeof list; j++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "",
                                         names[j]);
            cfg_sink_add(k, kv->line, "unknown key '%s' in [adapter.%s], expected one of %s", qk,
                         a->name, list);
        }
    }
    for (size_t i = 0; type->options && type->options[i].key; i++) {
        const sr_ad_option_spec *spec = &type->options[i];
        bool present = false;
        for (size_t j = 0; j < a->n_opts && !present; j++)
            present = strcmp(a->opts[j].key, spec->key) == 0;
        if (spec->required && !present)
            cfg_sink_add(
                k, a->line,
                "missing required key '%s' in [adapter.%s], expected %s (type %s needs it)",
                spec->key, a->name, spec->help ? spec->help : "a value", type->type);
    }
}

static void finish_adapter(struct parser *p, struct sect *s)
{
    if (!s->duplicate)
        check_required(p, s, SR_OPT_REQUIRED, "");
    if (!cfg_key_ok(s, "type"))
        return; /* the type's keys cannot be judged without the type */
    const sr_adapter *type = sr_registry_find(s->v.adapter.type);
    if (type) {
        cfg_check_adapter_keys(&p->err, &s->v.adapter, type);
        return;
    }
    /* a plugin's own keys are judged once it is loaded (plugin.c); only
     * sitrep's keys of a plugin section can be checked now */
    for (const sr_ad_option_spec *o = sr_plugin_keys; o->key; o++) {
        bool present = false;
        for (size_t j = 0; j < s->v.adapter.n_opts && !present; j++)
            present = strcmp(s->v.adapter.opts[j].key, o->key) == 0;
        if (o->required && !present)
            cfg_sink_add(
                &p->err, s->v.adapter.line,
                "missing required key '%s' in [adapter.%s], expected %s (type %s needs it)", o->key,
                s->v.adapter.name, o->help, SR_PLUGIN_TYPE);
    }
}

/* The command must split into words the way it will be run. */
static void finish_alert(struct parser *p, struct sect *s)
{
    if (!s->v.alert.command[0] || !cfg_key_ok(s, "command"))
        return;
    char **argv = NULL;
    size_t argc = 0;
    char why[256];
    if (sr_execfmt_words(s->v.alert.command, &argv, &argc, why, sizeof why))
        cfg_sink_add(&p->err, cfg_key_line(s, "command"), "command: %s", why);
    free(argv);
}

static const struct {
    const char *name;
    int code;
} key_names[] = {{"esc", 27}, {"enter", '\n'}, {"tab", '\t'}, {"space", ' '}};

/* One key of a chord: its code, or -1. */
static int chord_key(const char *w)
{
    for (size_t i = 0; i < COUNT(key_names); i++) {
        if (strcasecmp(w, key_names[i].name) == 0)
            return key_names[i].code;
    }
    const char *c = NULL;
    if (strncasecmp(w, "ctrl-", 5) == 0)
        c = w + 5;
    else if (strncmp(w, "C-", 2) == 0 || (w[0] == '^' && w[1]))
        c = w + (w[0] == '^' ? 1 : 2);
    if (c) {
        if (!c[0] || c[1])
            return -1;
        int u = toupper((unsigned char)c[0]);
        return u >= '@' && u <= '_' ? u - '@' : -1;
    }
    if (w[0] && !w[1] && isgraph((unsigned char)w[0]))
        return (unsigned char)w[0];
    return -1;
}

int sr_cfg_key_chord(const char *text, int *keys, size_t *n, char *why, size_t whylen)
{
    *n = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    char *save = NULL;
    for (char *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        char q[SR_QUOTE_SIZE];
        sr_text_quote(w, q, sizeof q);
        int code = chord_key(w);
        if (code < 0) {
            snprintf(why, whylen,
                     "'%s' is not a key, expected ctrl-LETTER, esc, enter, tab, space or one "
                     "character, separated by blanks (such as ctrl-x q)",
                     q);
            return SR_EINVAL;
        }
        if (*n == SR_WALL_CHORD_MAX) {
            snprintf(why, whylen, "more than %d keys, expected 1 to %d keys", SR_WALL_CHORD_MAX,
                     SR_WALL_CHORD_MAX);
            return SR_EINVAL;
        }
        keys[(*n)++] = code;
    }
    if (*n == 0) {
        snprintf(why, whylen, "no key, expected 1 to %d keys such as ctrl-x q", SR_WALL_CHORD_MAX);
        return SR_EINVAL;
    }
    return 0;
}

/* The exit chord must parse. */
static void finish_wall(struct parser *p, struct sect *s)
{
    int keys[SR_WALL_CHORD_MAX];
    size_t n;
    char why[512];
    if (cfg_key_ok(s, "exit") && sr_cfg_key_chord(s->v.wall.exit, keys, &n, why, sizeof why))
        cfg_sink_add(&p->err, cfg_key_line(s, "exit"), "exit: %s", why);
}

void cfg_finish_section(struct parser *p, struct sect *s)
{
    switch (s->kind->id) {
    case K_SITREP:
        if (!s->duplicate)
            cfg_check_levels(p, s);
        check_exclude(p, s);
        return;
    case K_METRIC:
        finish_metric(p, s);
        return;
    case K_ADAPTER:
        finish_adapter(p, s);
        return;
    case K_MAP:
        if (!s->duplicate && s->v.map.n == 0)
            cfg_sink_add(&p->err, s->line,
                         "[map.%s] has no entries, expected VALUE = RESULT lines (and default = "
                         "RESULT for every other value)",
                         s->name);
        return;
    case K_PANEL:
    case K_PAGE:
        if (!s->duplicate)
            check_required(p, s, SR_OPT_REQUIRED, "");
        return;
    case K_ROLE:
        if (!s->duplicate && strcmp(s->name, "default") != 0 && !s->v.role.users[0] &&
            !s->v.role.groups[0])
            cfg_sink_add(&p->err, s->line,
                         "[role.%s] matches nobody, expected users or groups (Unix names separated "
                         "by commas)",
                         s->name);
        return;
    case K_ALERT:
        finish_alert(p, s);
        return;
    case K_WALL:
        finish_wall(p, s);
        return;
    }
}

/* ---------------------------------------------------------------------- */
/* Pass 3: references between sections                                     */

static const struct sect *metric_find(const struct parser *p, const char *name)
{
    for (size_t i = 0; i < p->n_sects; i++) {
        const struct sect *s = p->sects[i];
        if (s->kind->id == K_METRIC && !s->duplicate && strcmp(s->name, name) == 0)
            return s;
    }
    return NULL;
}

/* Reports a reference to a metric the file does not define. */
static void undefined_metric(struct parser *p, int line, const char *key, const char *name)
{
    sr_suggest sg;
    sr_suggest_init(&sg, name);
    for (size_t i = 0; i < p->n_sects; i++) {
        const struct sect *s = p->sects[i];
        if (s->kind->id == K_METRIC && !s->duplicate)
            sr_suggest_try(&sg, s->name);
    }
    const char *best = sr_suggest_best(&sg);
    if (best)
        cfg_sink_add(&p->err, line,
                     "%s: no metric '%s' is defined in this file, did you mean '%s'?", key, name,
                     best);
    else
        cfg_sink_add(&p->err, line,
                     "%s: no metric '%s' is defined in this file, expected the NAME of a "
                     "[metric.NAME] section",
                     key, name);
}

static void check_ratio(struct parser *p, const struct sect *s)
{
    static const char *const keys[] = {"numerator", "denominator"};
    for (size_t i = 0; i < COUNT(keys); i++) {
        if (!cfg_key_ok(s, keys[i]))
            continue;
        const char *ref = i == 0 ? s->v.metric.numerator : s->v.metric.denominator;
        const struct sect *m = metric_find(p, ref);
        if (!m)
            undefined_metric(p, cfg_key_line(s, keys[i]), keys[i], ref);
        else if (m->kind_ok && m->v.metric.kind == SR_KIND_RATIO)
            cfg_sink_add(&p->err, cfg_key_line(s, keys[i]),
                         "%s: '%s' is a ratio, expected an event, gauge or counter metric (a ratio "
                         "of ratios is not computed)",
                         keys[i], ref);
    }
}

static void check_panel(struct parser *p, struct sect *s, sr_ms retention_ms, bool retention_ok)
{
    sr_cfg_panel *pn = &s->v.panel;
    if (retention_ok && cfg_key_ok(s, "window") && pn->window_ms > retention_ms) {
        char w[32], r[32];
        sr_format_duration(pn->window_ms, w, sizeof w);
        sr_format_duration(retention_ms, r, sizeof r);
        cfg_sink_add(&p->err, cfg_key_line(s, "window"),
                     "window: %s is longer than the retention (%s), expected at most %s", w, r, r);
    }
    if (cfg_key_ok(s, "when") && strcmp(pn->when, "threshold") != 0) {
        snprintf(pn->baseline, sizeof pn->baseline, "yes"); /* the band it is judged by */
        if (cfg_key_ok(s, "window") && pn->window_ms > SR_BASELINE_SLICE_MAX) {
            char w[32], max[32];
            sr_format_duration(pn->window_ms, w, sizeof w);
            sr_format_duration(SR_BASELINE_SLICE_MAX, max, sizeof max);
            cfg_sink_add(&p->err, cfg_key_line(s, "when"),
                         "when: %s needs a window of at most %s (a baseline's slice of the week), "
                         "the panel's is %s; expected when = threshold or a shorter window",
                         pn->when, max, w);
        }
    }
    if (!cfg_key_ok(s, "metric"))
        return;
    const struct sect *m = metric_find(p, pn->metric);
    if (!m) {
        undefined_metric(p, cfg_key_line(s, "metric"), "metric", pn->metric);
        return;
    }
    const struct seen *agg = cfg_seen_find(s, "agg");
    if (!agg) {
        pn->agg = m->v.metric.agg;
    } else if (agg->ok && m->kind_ok && !sr_agg_valid_for(pn->agg, m->v.metric.kind)) {
        char name[16], list[128];
        sr_agg_format(pn->agg, name, sizeof name);
        valid_aggs(m->v.metric.kind, list, sizeof list);
        cfg_sink_add(&p->err, agg->line,
                     "agg: '%s' does not suit metric '%s' (a %s), expected one of %s", name,
                     m->name, sr_kind_name(m->v.metric.kind), list);
    }
    const struct seen *fc = cfg_seen_find(s, "forecast");
    sr_agg own = pn->agg.kind == SR_AGG_VALUE ? sr_kind_default_agg(m->v.metric.kind) : pn->agg;
    if (fc && fc->ok && m->kind_ok && strcmp(pn->forecast, "yes") == 0 &&
        !sr_forecast_suits(m->v.metric.kind, own)) {
        char name[16];
        sr_agg_format(own, name, sizeof name);
        cfg_sink_add(
            &p->err, fc->line,
            "forecast: the %s of metric '%s' (kind %s) has no forecast, expected a count, a "
            "sum or a level (count sum avg min max last), not a percentile, a share or a "
            "ratio",
            name, m->name, sr_kind_name(m->v.metric.kind));
    }
    if (!cfg_seen_find(s, "title"))
        snprintf(pn->title, sizeof pn->title, "%s", m->v.metric.label);
    if (cfg_key_ok(s, "per") && pn->per[0]) {
        if (strcmp(pn->widget, "spread") != 0)
            cfg_sink_add(&p->err, cfg_key_line(s, "per"),
                         "per: only a spread widget divides by a metric, this panel's widget is "
                         "'%s'",
                         pn->widget[0] ? pn->widget : "tile");
        else if (!metric_find(p, pn->per))
            undefined_metric(p, cfg_key_line(s, "per"), "per", pn->per);
    }
}

static const struct sect *panel_find(const struct parser *p, const char *name)
{
    for (size_t i = 0; i < p->n_sects; i++) {
        const struct sect *s = p->sects[i];
        if (s->kind->id == K_PANEL && !s->duplicate && strcmp(s->name, name) == 0)
            return s;
    }
    return NULL;
}

/* Calls fn for each name of a page's panel list; stops when fn returns false. */
void cfg_each_listed(const char *list, bool (*fn)(void *ctx, const char *name), void *ctx)
{
    const char *c = list;
    while (*c) {
        while (*c == ',' || *c == ' ' || *c == '\t')
            c++;
        size_t n = strcspn(c, ", \t");
        if (n == 0)
            break;
        char name[SR_NAME_MAX + 8];
        snprintf(name, sizeof name, "%.*s", (int)(n < SR_NAME_MAX + 4 ? n : SR_NAME_MAX + 4), c);
        if (!fn(ctx, name))
            return;
        c += n;
    }
}

struct page_check {
    struct parser *p;
    const struct sect *s;
    int count;
};

static bool check_listed(void *ctx, const char *name)
{
    struct page_check *pc = ctx;
    pc->count++;
    if (panel_find(pc->p, name))
        return true;
    const char *names[64];
    size_t n = 0;
    for (size_t i = 0; i < pc->p->n_sects && n < COUNT(names); i++) {
        if (pc->p->sects[i]->kind->id == K_PANEL && !pc->p->sects[i]->duplicate)
            names[n++] = pc->p->sects[i]->name;
    }
    const char *best = sr_nearest(name, names, n);
    if (best)
        cfg_sink_add(&pc->p->err, cfg_key_line(pc->s, "panels"),
                     "panels: no panel '%s' is defined in this file, did you mean '%s'?", name,
                     best);
    else
        cfg_sink_add(&pc->p->err, cfg_key_line(pc->s, "panels"),
                     "panels: no panel '%s' is defined in this file, expected the NAME of a "
                     "[panel.NAME] section",
                     name);
    return true;
}

static void check_page(struct parser *p, const struct sect *s)
{
    if (!cfg_key_ok(s, "panels"))
        return;
    struct page_check pc = {p, s, 0};
    cfg_each_listed(s->v.page.panels, check_listed, &pc);
    if (pc.count == 0)
        cfg_sink_add(&p->err, cfg_key_line(s, "panels"),
                     "panels: the list is empty, expected panel names separated by commas");
}

void cfg_check_refs(struct parser *p, const struct sect *sitrep)
{
    bool retention_ok =
        !sitrep || !cfg_seen_find(sitrep, "retention") || cfg_key_ok(sitrep, "retention");
    sr_ms retention = sitrep ? sitrep->v.sitrep.retention_ms : 0;
    if (!sitrep) {
        struct sitrep_vals d = {0};
        cfg_apply_defaults(&cfg_kinds[K_SITREP], &d);
        retention = d.retention_ms;
    }
    for (size_t i = 0; i < p->n_sects; i++) {
        struct sect *s = p->sects[i];
        if (s->duplicate)
            continue;
        if (s->kind->id == K_METRIC && s->kind_ok && s->v.metric.kind == SR_KIND_RATIO)
            check_ratio(p, s);
        else if (s->kind->id == K_PANEL)
            check_panel(p, s, retention, retention_ok);
        else if (s->kind->id == K_PAGE)
            check_page(p, s);
        else if (s->kind->id == K_ROLE)
            cfg_check_role(p, s, sitrep);
        else if (s->kind->id == K_WALL)
            cfg_check_wall(p, s);
    }
}
