/*
 * config_tables.c - the option tables of every section kind (name, type,
 * default, range, help, and where the value is stored), what the help and
 * the manual page are generated from (sr_cfg_section_at(),
 * sr_cfg_option_at()), and one value parsed by its option
 * (cfg_opt_parse()), with the message that says what was expected.
 */
#include "config_int.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../adapters/registry.h"
#include "../metrics/baseline.h"
#include "../metrics/safetext.h"
#include "plugin.h"

/* ---------------------------------------------------------------------- */
/* The tables                                                              */

/* SR_OPT_ENUM stores the index of the choice as an int into these enums. */
_Static_assert(sizeof(sr_kind) == sizeof(int), "sr_kind is stored as an int");
_Static_assert(sizeof(sr_better) == sizeof(int), "sr_better is stored as an int");
_Static_assert(sizeof(sr_pct_method) == sizeof(int), "sr_pct_method is stored as an int");

/* Each list is in the order of the enum it is stored as (kpi.h). */
static const char *const kind_choices[] = {"event", "gauge", "counter", "ratio", NULL};
static const char *const when_choices[] = {"threshold", "unusual", "both", NULL};
static const char *const better_choices[] = {"lower", "higher", NULL};
static const char *const pct_choices[] = {"nearest_rank", "linear", NULL};
static const char *const widget_choices[] = {"tile",  "sparkline", "gauge",  "bars", "table",
                                             "chart", "histogram", "spread", NULL};

static const struct opt sitrep_opts[] = {
    {{.name = "cache",
      .type = SR_OPT_PATH,
      .flags = SR_OPT_DERIVED,
      .def = "$XDG_STATE_HOME/sitrep/cache.db (~/.local/state/sitrep/cache.db)",
      .help = "the SQLite file where samples are kept; relative to this file's directory"},
     AT(struct sitrep_vals, cache)},
    {{.name = "cache_group",
      .type = SR_OPT_TEXT,
      .def = "",
      .help = "a Unix group whose members may run viewers of the cache: the collector makes "
              "the cache's directory 2770 and the cache, its -wal, -shm and lock 0660, all of "
              "that group; empty: private to the collector's user (0700, 0600)"},
     AT(struct sitrep_vals, cache_group)},
    {{.name = "timezone",
      .type = SR_OPT_TIMEZONE,
      .def = "UTC",
      .help = "time zone of the force, for the clock, days and shifts"},
     AT(struct sitrep_vals, timezone)},
    {{.name = "retention",
      .type = SR_OPT_DURATION,
      .flags = SR_OPT_HAS_MIN,
      .def = "400d",
      .min = (double)SR_MS_DAY,
      .help = "how long samples are kept in the cache"},
     AT(struct sitrep_vals, retention_ms)},
    {{.name = "accept_ahead",
      .type = SR_OPT_DURATION,
      .flags = SR_OPT_HAS_MAX,
      .def = "1d",
      .max = 3650.0 * SR_MS_DAY,
      .help = "how far after the clock a sample's time may be; a later one (or one before "
              "1970-01-01) is rejected with the reason, by ingest and the collector alike"},
     AT(struct sitrep_vals, accept_ahead_ms)},
    {{.name = "title",
      .type = SR_OPT_TEXT,
      .def = "sitrep",
      .help = "shown at the top left of the screen"},
     AT(struct sitrep_vals, title)},
    {{.name = "theme",
      .type = SR_OPT_TEXT,
      .def = "default",
      .help = "colour theme: default, light, high-contrast, mono, colour-blind-safe, or a "
              "file path (--theme overrides)"},
     AT(struct sitrep_vals, theme)},
    {{.name = "refresh",
      .type = SR_OPT_DURATION,
      .flags = SR_OPT_HAS_MIN | SR_OPT_HAS_MAX,
      .def = "1s",
      .min = 100,
      .max = (double)SR_MS_HOUR,
      .help = "how often the screen looks for new data (it redraws only what changed)"},
     AT(struct sitrep_vals, refresh_ms)},
    {{.name = "shift",
      .type = SR_OPT_DURATION,
      .flags = SR_OPT_HAS_MIN | SR_OPT_HAS_MAX,
      .def = "8h",
      .min = (double)SR_MS_MIN,
      .max = (double)SR_MS_DAY,
      .help = "the length of a shift: the handover report (key e, snapshot --format markdown) "
              "covers the last one against the one before"},
     AT(struct sitrep_vals, shift_ms)},
    {{.name = "reports",
      .type = SR_OPT_PATH,
      .flags = SR_OPT_DERIVED,
      .def = "$XDG_STATE_HOME/sitrep (~/.local/state/sitrep)",
      .help = "the directory where key e writes handover-YYYYmmdd-HHMM.md; relative to this "
              "file's directory"},
     AT(struct sitrep_vals, reports)},
    {{.name = "levels",
      .type = SR_OPT_TEXT,
      .def = "",
      .help = "names of the entity levels, top first, separated by commas (force, region, "
              "district, unit, officer), for [role.*] drill and personal"},
     AT(struct sitrep_vals, levels)},
    {{.name = "personal",
      .type = SR_OPT_TEXT,
      .def = "",
      .help = "the levels whose entities are people (such as officer), by name from levels"},
     AT(struct sitrep_vals, personal)},
    {{.name = "min_cell",
      .type = SR_OPT_NUMBER,
      .flags = SR_OPT_HAS_MIN | SR_OPT_HAS_MAX,
      .def = "5",
      .min = 1,
      .max = 1000,
      .help = "counts below this are shown as <N; no percentile over fewer than 10 observations"},
     AT(struct sitrep_vals, min_cell)},
    {{.name = "cell_grid",
      .type = SR_OPT_DURATION,
      .flags = SR_OPT_HAS_MIN | SR_OPT_HAS_MAX,
      .def = "1h",
      .min = (double)SR_MS_MIN,
      .max = (double)(7 * SR_MS_DAY),
      .help = "for a role without personal, figures of personal metrics are computed over whole "
              "slices of this length (aligned to the epoch, UTC) and shown only when each "
              "slice of each entity they pool holds min_cell observations or none, so that no "
              "two answers can be subtracted to single someone out"},
     AT(struct sitrep_vals, cell_grid_ms)},
    {{.name = "baseline_exclude",
      .type = SR_OPT_TEXT,
      .def = "",
      .help = "dates (YYYY-MM-DD in timezone, separated by commas) that baselines leave out, "
              "such as public holidays: a week whose slice touches one is not used"},
     AT(struct sitrep_vals, baseline_exclude)},
};

static const char *const yes_no[] = {"yes", "no", NULL};

static const struct opt metric_opts[] = {
    {{.name = "kind",
      .type = SR_OPT_ENUM,
      .flags = SR_OPT_REQUIRED,
      .choices = kind_choices,
      .help = "event (one observation per sample), gauge (a level), counter (an amount "
              "accrued) or ratio (numerator / denominator)"},
     AT(sr_metric_def, kind)},
    {{.name = "unit",
      .type = SR_OPT_TEXT,
      .def = "",
      .help = "unit of the values: s, h, EUR, %, cases, ..."},
     AT(sr_metric_def, unit)},
    {{.name = "label",
      .type = SR_OPT_TEXT,
      .flags = SR_OPT_DERIVED,
      .def = "NAME",
      .help = "the metric's name on the screen"},
     AT(sr_metric_def, label)},
    {{.name = "agg",
      .type = SR_OPT_AGG,
      .flags = SR_OPT_DERIVED,
      .def = "p90 for event, last for gauge, sum for counter, value for ratio",
      .help = "the aggregate shown by default; it must suit the kind"},
     AT(sr_metric_def, agg)},
    {{.name = "target",
      .type = SR_OPT_NUMBER,
      .help = "the goal; `within` is the share of events at or better than it"},
     AT(sr_metric_def, target)},
    {{.name = "warn",
      .type = SR_OPT_NUMBER,
      .help = "status WARN from this value on, in the direction of `better`"},
     AT(sr_metric_def, warn)},
    {{.name = "crit",
      .type = SR_OPT_NUMBER,
      .help = "status CRIT from this value on; with better = lower, warn <= crit"},
     AT(sr_metric_def, crit)},
    {{.name = "better",
      .type = SR_OPT_ENUM,
      .def = "lower",
      .choices = better_choices,
      .help = "whether lower or higher values are better"},
     AT(sr_metric_def, better)},
    {{.name = "percentile",
      .type = SR_OPT_ENUM,
      .def = "nearest_rank",
      .choices = pct_choices,
      .help = "how pNN is computed over raw events"},
     AT(sr_metric_def, percentile)},
    {{.name = "numerator",
      .type = SR_OPT_METRIC,
      .flags = SR_OPT_RATIO | SR_OPT_RATIO_REQUIRED,
      .help = "ratio only: the metric divided (not itself a ratio)"},
     AT(sr_metric_def, numerator)},
    {{.name = "denominator",
      .type = SR_OPT_METRIC,
      .flags = SR_OPT_RATIO | SR_OPT_RATIO_REQUIRED,
      .help = "ratio only: the metric divided by (not itself a ratio)"},
     AT(sr_metric_def, denominator)},
    {{.name = "scale",
      .type = SR_OPT_NUMBER,
      .flags = SR_OPT_RATIO | SR_OPT_HAS_MIN | SR_OPT_MIN_EXCLUSIVE,
      .def = "1",
      .min = 0,
      .help = "ratio only: the quotient is multiplied by this (100 for a percentage)"},
     AT(sr_metric_def, scale)},
    {{.name = "baseline_weeks",
      .type = SR_OPT_NUMBER,
      .flags = SR_OPT_HAS_MIN | SR_OPT_HAS_MAX,
      .def = SR_XSTR(SR_BASELINE_WEEKS_DEFAULT),
      .min = SR_BASELINE_MIN_WEEKS,
      .max = SR_BASELINE_MAX_WEEKS,
      .help = "how many weeks the baseline (query --agg baseline) looks back: the same slice of "
              "the week in each, a whole number"},
     AT(sr_metric_def, baseline_weeks)},
    {{.name = "unusual_slices",
      .type = SR_OPT_NUMBER,
      .flags = SR_OPT_HAS_MIN | SR_OPT_HAS_MAX,
      .def = SR_XSTR(SR_UNUSUAL_SLICES_DEFAULT),
      .min = 1,
      .max = SR_UNUSUAL_MAX_SLICES,
      .help = "how many slices running a figure must be outside its baseline's band to be "
              "unusual, a whole number"},
     AT(sr_metric_def, unusual_slices)},
    {{.name = "forecast_max_error",
      .type = SR_OPT_NUMBER,
      .flags = SR_OPT_HAS_MIN,
      .def = SR_XSTR(SR_FORECAST_MAX_ERROR_DEFAULT),
      .min = 0,
      .help = "the limit, in percent, of the backtest error (query --agg forecast, a panel's "
              "forecast = yes, the handover's expected next shift) above which "
              "the forecast is withheld and only the reason shown"},
     AT(sr_metric_def, forecast_max_error)},
};

static const struct opt adapter_opts[] = {
    {{.name = "type",
      .type = SR_OPT_ADAPTER_TYPE,
      .flags = SR_OPT_REQUIRED,
      .help = "which adapter reads this source: a built-in type, or plugin (a shared object "
              "named by path)"},
     AT(sr_cfg_adapter, type)},
    {{.name = "interval",
      .type = SR_OPT_DURATION,
      .flags = SR_OPT_HAS_MIN | SR_OPT_HAS_MAX,
      .def = "5s",
      .min = 100,
      .max = (double)SR_MS_DAY,
      .help = "time between two polls"},
     AT(sr_cfg_adapter, interval_ms)},
    {{.name = "timeout",
      .type = SR_OPT_DURATION,
      .flags = SR_OPT_HAS_MIN | SR_OPT_HAS_MAX,
      .def = "10s",
      .min = 100,
      .max = (double)SR_MS_HOUR,
      .help = "a poll running longer marks the source failing; what it reads is still kept"},
     AT(sr_cfg_adapter, timeout_ms)},
};

static const struct opt panel_opts[] = {
    {{.name = "metric",
      .type = SR_OPT_METRIC,
      .flags = SR_OPT_REQUIRED,
      .help = "the metric shown"},
     AT(sr_cfg_panel, metric)},
    {{.name = "entity",
      .type = SR_OPT_TEXT,
      .def = "",
      .help = "the entity shown, such as force/north; empty: the whole tree"},
     AT(sr_cfg_panel, entity)},
    {{.name = "agg",
      .type = SR_OPT_AGG,
      .flags = SR_OPT_DERIVED,
      .def = "the metric's agg",
      .help = "the aggregate shown; it must suit the metric's kind"},
     AT(sr_cfg_panel, agg)},
    {{.name = "window",
      .type = SR_OPT_DURATION,
      .flags = SR_OPT_HAS_MIN,
      .def = "8h",
      .min = (double)SR_MS_MIN,
      .help = "the time span aggregated; at most [sitrep] retention"},
     AT(sr_cfg_panel, window_ms)},
    {{.name = "title",
      .type = SR_OPT_TEXT,
      .flags = SR_OPT_DERIVED,
      .def = "the metric's label",
      .help = "the panel's heading"},
     AT(sr_cfg_panel, title)},
    {{.name = "short",
      .type = SR_OPT_TEXT,
      .def = "",
      .help = "a shorter heading, shown where the title does not fit (else the title loses its "
              "middle, never its last word)"},
     AT(sr_cfg_panel, short_title)},
    {{.name = "widget",
      .type = SR_OPT_WORD,
      .def = "tile",
      .choices = widget_choices,
      .help = "how the panel is drawn"},
     AT(sr_cfg_panel, widget)},
    {{.name = "baseline",
      .type = SR_OPT_WORD,
      .def = "no",
      .choices = yes_no,
      .help = "whether the panel shows its figure against its normal (the same slice of the week "
              "over the metric's baseline_weeks) and marks it unusual"},
     AT(sr_cfg_panel, baseline)},
    {{.name = "per",
      .type = SR_OPT_METRIC,
      .def = "",
      .help = "widget = spread only: the metric each child's figure is divided by, over the same "
              "window (a gauge's mean level), such as calls per officer on duty; empty: none"},
     AT(sr_cfg_panel, per)},
    {{.name = "when",
      .type = SR_OPT_WORD,
      .def = "threshold",
      .choices = when_choices,
      .help = "what raises the panel's alerts: threshold (the metric's warn and crit), unusual "
              "(its figure outside its normal band for the metric's unusual_slices slices "
              "running, a warn alert of its own) or both; unusual and both imply baseline = yes, "
              "so the tile shows the band the alert is judged by, and need a window of at most "
              "7d. An unusual alert clears when the figure is back inside the band by the "
              "[alert] hysteresis's percent of the band's width"},
     AT(sr_cfg_panel, when)},
    {{.name = "forecast",
      .type = SR_OPT_WORD,
      .def = "no",
      .choices = yes_no,
      .help = "whether the panel shows the next 8 hours' forecast of its count or level with the "
              "backtest error over the last 4 weeks, or why it is withheld (the metric's "
              "forecast_max_error); not for a percentile, a share or a ratio; the handover's "
              "'Expected next shift' lists these panels"},
     AT(sr_cfg_panel, forecast)},
};

static const struct opt page_opts[] = {
    {{.name = "title",
      .type = SR_OPT_TEXT,
      .flags = SR_OPT_DERIVED,
      .def = "NAME",
      .help = "the page's name in the status bar"},
     AT(struct page_vals, title)},
    {{.name = "panels",
      .type = SR_OPT_TEXT,
      .flags = SR_OPT_REQUIRED,
      .help = "the panels of the page in reading order, by NAME, separated by commas"},
     AT(struct page_vals, panels)},
    {{.name = "columns",
      .type = SR_OPT_NUMBER,
      .flags = SR_OPT_HAS_MIN | SR_OPT_HAS_MAX,
      .def = "3",
      .min = 1,
      .max = 12,
      .help = "panels per row on a wide terminal (fewer when it is narrow)"},
     AT(struct page_vals, columns)},
};

static const struct opt role_opts[] = {
    {{.name = "users",
      .type = SR_OPT_TEXT,
      .def = "",
      .help = "Unix user names this role is for, separated by commas"},
     AT(struct role_vals, users)},
    {{.name = "groups",
      .type = SR_OPT_TEXT,
      .def = "",
      .help = "Unix groups whose members get this role (a user listed by name wins)"},
     AT(struct role_vals, groups)},
    {{.name = "pages",
      .type = SR_OPT_TEXT,
      .def = "*",
      .help = "the pages the role may see, by NAME, separated by commas; * for every page"},
     AT(struct role_vals, pages)},
    {{.name = "panels",
      .type = SR_OPT_TEXT,
      .def = "*",
      .help = "the panels the role may see, by NAME; * for every panel"},
     AT(struct role_vals, panels)},
    {{.name = "drill",
      .type = SR_OPT_TEXT,
      .flags = SR_OPT_DERIVED,
      .def = "the level above the first personal level; * when none is personal",
      .help = "the deepest entity level the role may open: a name from [sitrep] levels, a "
              "number (1 = top level, 0 = the whole tree only), or *"},
     AT(struct role_vals, drill)},
    {{.name = "acknowledge",
      .type = SR_OPT_WORD,
      .def = "no",
      .choices = yes_no,
      .help = "whether the role may acknowledge alerts"},
     AT(struct role_vals, acknowledge)},
    {{.name = "personal",
      .type = SR_OPT_WORD,
      .def = "no",
      .choices = yes_no,
      .help = "whether the role may see personal-level data (each view is audited)"},
     AT(struct role_vals, personal)},
    {{.name = "wall",
      .type = SR_OPT_WORD,
      .def = "no",
      .choices = yes_no,
      .help = "whether the dashboard starts in wall mode for this role, as with --wall"},
     AT(struct role_vals, wall)},
    {{.name = "audit",
      .type = SR_OPT_WORD,
      .def = "no",
      .choices = yes_no,
      .help = "whether the role may read the audit table (sitrep audit): who viewed which "
              "personal data, from where"},
     AT(struct role_vals, audit)},
};

static const struct opt alert_opts[] = {
    {{.name = "for",
      .type = SR_OPT_DURATION,
      .flags = SR_OPT_HAS_MAX,
      .def = "1m",
      .max = (double)SR_MS_DAY,
      .help = "how long a panel must stay past a threshold (or unusual) before its alert is "
              "raised"},
     AT(struct alert_vals, for_ms)},
    {{.name = "hysteresis",
      .type = SR_OPT_NUMBER,
      .flags = SR_OPT_HAS_MIN | SR_OPT_HAS_MAX,
      .def = "5",
      .min = 0,
      .max = 50,
      .help = "percent of the threshold the value must come back past to clear (or ease "
              "crit to warn); for an unusual alert (when = unusual), percent of the band's width "
              "the figure must come back inside it by"},
     AT(struct alert_vals, hysteresis)},
    {{.name = "command",
      .type = SR_OPT_TEXT,
      .help = "run by the collector when an alert is raised or cleared, split into words "
              "like the exec adapter's command (no shell); the alert is in SITREP_ALERT_* "
              "variables"},
     AT(struct alert_vals, command)},
};

static const struct opt wall_opts[] = {
    {{.name = "rotate",
      .type = SR_OPT_DURATION,
      .flags = SR_OPT_HAS_MIN | SR_OPT_HAS_MAX,
      .def = "30s",
      .min = (double)SR_MS_SEC,
      .max = (double)SR_MS_HOUR,
      .help = "how long wall mode shows each page before the next (a page with an active "
              "CRIT alert is held)"},
     AT(struct wall_vals, rotate_ms)},
    {{.name = "exit",
      .type = SR_OPT_TEXT,
      .def = "ctrl-x q",
      .help = "the only keys that end wall mode, pressed in order: 1 to 4 keys separated by "
              "blanks, each ctrl-LETTER, esc, enter, tab, space or one character"},
     AT(struct wall_vals, exit)},
    {{.name = "pages",
      .type = SR_OPT_TEXT,
      .def = "*",
      .help = "the pages wall mode rotates through, by NAME, separated by commas; * for every "
              "page the role may see"},
     AT(struct wall_vals, pages)},
};

/* In enum kind_id order. */
const struct kind cfg_kinds[] = {
    {{.kind = "sitrep",
      .header = "[sitrep]",
      .named = 0,
      .help = "settings of the whole dashboard (at most one)",
      .n_options = COUNT(sitrep_opts)},
     K_SITREP,
     sitrep_opts},
    {{.kind = "metric",
      .header = "[metric.NAME]",
      .named = 1,
      .help = "a KPI: what a sample measures and when it is good or bad",
      .n_options = COUNT(metric_opts)},
     K_METRIC,
     metric_opts},
    {{.kind = "adapter",
      .header = "[adapter.NAME]",
      .named = 1,
      .help = "a data source, polled at an interval; plus the keys of its type",
      .n_options = COUNT(adapter_opts)},
     K_ADAPTER,
     adapter_opts},
    {{.kind = "map",
      .header = "[map.NAME]",
      .named = 1,
      .help = "a value map for adapter templates ({Field|NAME}): VALUE = RESULT lines, and "
              "default = RESULT for every other value",
      .n_options = 0},
     K_MAP,
     NULL},
    {{.kind = "panel",
      .header = "[panel.NAME]",
      .named = 1,
      .help = "a panel on the screen: one metric over a window",
      .n_options = COUNT(panel_opts)},
     K_PANEL,
     panel_opts},
    {{.kind = "page",
      .header = "[page.NAME]",
      .named = 1,
      .help = "a page of panels (keys 1-9 switch pages); without any, one page shows every "
              "panel",
      .n_options = COUNT(page_opts)},
     K_PAGE,
     page_opts},
    {{.kind = "role",
      .header = "[role.NAME]",
      .named = 1,
      .help = "what the Unix users and groups it lists may see and do; others get the role "
              "default (every page and panel, no personal data, no acknowledging, no audit)",
      .n_options = COUNT(role_opts)},
     K_ROLE,
     role_opts},
    {{.kind = "alert",
      .header = "[alert]",
      .named = 0,
      .help = "when panels past their metric's thresholds (or unusual: [panel.*] when) raise and "
              "clear alerts (at most one)",
      .n_options = COUNT(alert_opts)},
     K_ALERT,
     alert_opts},
    {{.kind = "wall",
      .header = "[wall]",
      .named = 0,
      .help = "wall mode (sitrep --wall, or a role with wall = yes): unattended, input locked, "
              "pages rotating (at most one)",
      .n_options = COUNT(wall_opts)},
     K_WALL,
     wall_opts},
};

size_t sr_cfg_section_count(void)
{
    return CFG_N_KINDS;
}

const sr_cfg_section_spec *sr_cfg_section_at(size_t i)
{
    return i < CFG_N_KINDS ? &cfg_kinds[i].pub : NULL;
}

const sr_cfg_option *sr_cfg_option_at(const sr_cfg_section_spec *s, size_t i)
{
    for (size_t k = 0; k < CFG_N_KINDS; k++) {
        if (s == &cfg_kinds[k].pub)
            return i < s->n_options ? &cfg_kinds[k].opts[i].pub : NULL;
    }
    return NULL;
}

/* Writes "a, b, c" from a NULL-terminated list. */
static void join_choices(const char *const *choices, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; choices[i] && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", choices[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* The types `type =` accepts: the registry's, then plugin. Returns how many
 * were written into types (at most max). */
static size_t adapter_types(const char **types, size_t max)
{
    size_t n = 0;
    for (; n < sr_registry_count() && n + 1 < max; n++)
        types[n] = sr_registry_at(n)->type;
    types[n++] = SR_PLUGIN_TYPE;
    return n;
}

/* Writes the adapter types as "sim, csv, plugin". */
static void join_adapter_types(char *buf, size_t len)
{
    const char *types[32];
    size_t n = adapter_types(types, sizeof types / sizeof types[0]), used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", types[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

void sr_cfg_option_type_text(const sr_cfg_option *o, char *buf, size_t len)
{
    switch (o->type) {
    case SR_OPT_TEXT:
        snprintf(buf, len, "text");
        return;
    case SR_OPT_PATH:
        snprintf(buf, len, "path");
        return;
    case SR_OPT_DURATION:
        snprintf(buf, len, "duration");
        return;
    case SR_OPT_NUMBER:
        snprintf(buf, len, "number");
        return;
    case SR_OPT_ENUM:
    case SR_OPT_WORD: {
        size_t used = 0;
        buf[0] = '\0';
        for (size_t i = 0; o->choices[i] && used < len; i++) {
            int w = snprintf(buf + used, len - used, "%s%s", i ? "|" : "", o->choices[i]);
            if (w < 0)
                break;
            used += (size_t)w;
        }
        return;
    }
    case SR_OPT_AGG:
        snprintf(buf, len, "aggregate");
        return;
    case SR_OPT_TIMEZONE:
        snprintf(buf, len, "Area/City");
        return;
    case SR_OPT_METRIC:
        snprintf(buf, len, "METRIC");
        return;
    case SR_OPT_ADAPTER_TYPE:
        snprintf(buf, len, "adapter type");
        return;
    }
    snprintf(buf, len, "?");
}

/* Writes a range such as " of at least 1m" or " between 100ms and 1d". */
static void describe_range(const sr_cfg_option *o, char *buf, size_t len)
{
    char lo[32], hi[32];
    buf[0] = '\0';
    if (o->type == SR_OPT_DURATION) {
        sr_format_duration((sr_ms)o->min, lo, sizeof lo);
        sr_format_duration((sr_ms)o->max, hi, sizeof hi);
    } else {
        snprintf(lo, sizeof lo, "%g", o->min);
        snprintf(hi, sizeof hi, "%g", o->max);
    }
    bool has_min = o->flags & SR_OPT_HAS_MIN, has_max = o->flags & SR_OPT_HAS_MAX;
    if (has_min && has_max)
        snprintf(buf, len, " between %s and %s", lo, hi);
    else if (has_min && (o->flags & SR_OPT_MIN_EXCLUSIVE))
        snprintf(buf, len, " greater than %s", lo);
    else if (has_min)
        snprintf(buf, len, " of at least %s", lo);
    else if (has_max)
        snprintf(buf, len, " of at most %s", hi);
}

/* Writes what an option expects, as it follows "expected " in a message.
 * Numbers and durations are described by example; their range, when one
 * applies, by range_expected(). */
void cfg_describe_expected(const struct opt *o, char *buf, size_t len)
{
    char list[256];
    switch (o->pub.type) {
    case SR_OPT_TEXT:
        snprintf(buf, len, "text of at most %zu bytes", o->size - 1);
        return;
    case SR_OPT_PATH:
        snprintf(buf, len, "a file path");
        return;
    case SR_OPT_DURATION:
        snprintf(buf, len, "a duration such as 5s, 10m, 8h");
        return;
    case SR_OPT_NUMBER:
        snprintf(buf, len, "a number such as 900 or 0.5");
        return;
    case SR_OPT_ENUM:
    case SR_OPT_WORD:
        join_choices(o->pub.choices, list, sizeof list);
        snprintf(buf, len, "one of %s", list);
        return;
    case SR_OPT_AGG:
        snprintf(buf, len,
                 "an aggregate: count, sum, avg, min, max, last, pNN (such as p90), "
                 "within or value");
        return;
    case SR_OPT_TIMEZONE:
        snprintf(buf, len, "a time zone known to tzdata, such as Europe/London or UTC");
        return;
    case SR_OPT_METRIC:
        snprintf(buf, len, "the NAME of a [metric.NAME] section");
        return;
    case SR_OPT_ADAPTER_TYPE:
        join_adapter_types(list, sizeof list);
        snprintf(buf, len, "one of %s", list);
        return;
    }
    snprintf(buf, len, "?");
}

/* Writes "a duration between 100ms and 1d", "a number greater than 0". */
static void range_expected(const sr_cfg_option *o, char *buf, size_t len)
{
    char range[96];
    describe_range(o, range, sizeof range);
    snprintf(buf, len, "%s%s", o->type == SR_OPT_DURATION ? "a duration" : "a number", range);
}

/* Whether s holds a control (sr_text_is_control(): C0, DEL, C1, a bidi
 * override or isolate), or a byte 0x80-0x9f outside UTF-8, which an 8-bit
 * terminal takes for a C1 control. */
static bool has_control(const char *s)
{
    const unsigned char *c = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = sr_utf8_decode(c + i, n - i, &cp);
        if (k ? sr_text_is_control(cp) : c[i] >= 0x80 && c[i] <= 0x9f)
            return true;
        i += k ? k : 1;
    }
    return false;
}

/* A NAME of a section header or a metric reference: [A-Za-z0-9_-]+ that
 * fits SR_NAME_MAX with its terminating NUL. */
bool cfg_name_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (!(isalnum(c) || c == '_' || c == '-') || c >= 0x80)
            return false;
    }
    return n > 0 && n < SR_NAME_MAX;
}

/* ---------------------------------------------------------------------- */
/* Parsing one value                                                       */

/*
 * Parses text as option o into the section struct at base. Returns 0; or
 * SR_EINVAL with the message (after "KEY: ") in why; or SR_ENOMEM.
 */
int cfg_opt_parse(const struct opt *o, void *base, const char *text, char *why, size_t wlen)
{
    void *field = (char *)base + o->offset;
    char q[SR_QUOTE_SIZE], exp[320];
    const char *suggest = NULL;
    sr_text_quote(text, q, sizeof q);
    cfg_describe_expected(o, exp, sizeof exp);
    switch (o->pub.type) {
    case SR_OPT_TEXT:
    case SR_OPT_WORD:
    case SR_OPT_TIMEZONE:
    case SR_OPT_METRIC:
    case SR_OPT_ADAPTER_TYPE:
        break; /* below: these are stored into a char array */
    case SR_OPT_PATH: {
        if (!text[0] || has_control(text))
            goto bad;
        char *p = strdup(text);
        if (!p)
            return SR_ENOMEM;
        char *old;
        memcpy(&old, field, sizeof old);
        free(old);
        memcpy(field, &p, sizeof p);
        return 0;
    }
    case SR_OPT_DURATION: {
        sr_ms ms;
        if (sr_parse_duration(text, &ms))
            goto bad;
        if (((o->pub.flags & SR_OPT_HAS_MIN) && (double)ms < o->pub.min) ||
            ((o->pub.flags & SR_OPT_HAS_MAX) && (double)ms > o->pub.max))
            goto out_of_range;
        memcpy(field, &ms, sizeof ms);
        return 0;
    }
    case SR_OPT_NUMBER: {
        double v;
        if (sr_parse_double(text, &v))
            goto bad;
        if ((o->pub.flags & SR_OPT_HAS_MIN) &&
            (v < o->pub.min || ((o->pub.flags & SR_OPT_MIN_EXCLUSIVE) && v == o->pub.min)))
            goto out_of_range;
        if ((o->pub.flags & SR_OPT_HAS_MAX) && v > o->pub.max)
            goto out_of_range;
        memcpy(field, &v, sizeof v);
        return 0;
    }
    case SR_OPT_ENUM: {
        for (int i = 0; o->pub.choices[i]; i++) {
            if (strcmp(text, o->pub.choices[i]) == 0) {
                memcpy(field, &i, sizeof i);
                return 0;
            }
        }
        size_t n = 0;
        while (o->pub.choices[n])
            n++;
        suggest = sr_nearest(text, o->pub.choices, n);
        goto bad;
    }
    case SR_OPT_AGG: {
        sr_agg agg;
        if (sr_agg_parse(text, &agg))
            goto bad;
        memcpy(field, &agg, sizeof agg);
        return 0;
    }
    }

    /* char array types */
    size_t len = strlen(text);
    switch (o->pub.type) {
    case SR_OPT_TEXT:
        if (has_control(text)) {
            snprintf(why, wlen, "control characters are not allowed, got '%s'", q);
            return SR_EINVAL;
        }
        break;
    case SR_OPT_WORD: {
        size_t i = 0;
        for (; o->pub.choices[i]; i++) {
            if (strcmp(text, o->pub.choices[i]) == 0)
                break;
        }
        if (!o->pub.choices[i]) {
            suggest = sr_nearest(text, o->pub.choices, i);
            goto bad;
        }
        break;
    }
    case SR_OPT_TIMEZONE:
        if (!text[0] || len >= o->size || has_control(text) || !sr_tz_valid(text)) {
            snprintf(why, wlen, "unknown time zone '%s', expected %s", q, exp);
            return SR_EINVAL;
        }
        break;
    case SR_OPT_METRIC:
        if (!cfg_name_valid(text))
            goto bad;
        break;
    case SR_OPT_ADAPTER_TYPE:
        if (!sr_registry_find(text) && strcmp(text, SR_PLUGIN_TYPE) != 0) {
            const char *types[32];
            size_t n = adapter_types(types, COUNT(types));
            suggest = sr_nearest(text, types, n);
            if (suggest)
                snprintf(why, wlen, "unknown adapter type '%s', did you mean '%s'?", q, suggest);
            else
                snprintf(why, wlen, "unknown adapter type '%s', expected %s", q, exp);
            return SR_EINVAL;
        }
        break;
    default:
        break;
    }
    if (len >= o->size) {
        snprintf(why, wlen, "too long (%zu bytes), expected at most %zu bytes", len, o->size - 1);
        return SR_EINVAL;
    }
    memcpy(field, text, len + 1);
    return 0;

out_of_range:
    range_expected(&o->pub, exp, sizeof exp);
    snprintf(why, wlen, "expected %s, got '%s'", exp, q);
    return SR_EINVAL;

bad:
    if (suggest)
        snprintf(why, wlen, "expected %s, got '%s', did you mean '%s'?", exp, q, suggest);
    else
        snprintf(why, wlen, "expected %s, got '%s'", exp, q);
    return SR_EINVAL;
}

/* Sets every option of the section that has a plain default, by parsing
 * its default text. */
void cfg_apply_defaults(const struct kind *k, void *base)
{
    char why[512];
    for (size_t i = 0; i < k->pub.n_options; i++) {
        const struct opt *o = &k->opts[i];
        if (o->pub.def && !(o->pub.flags & SR_OPT_DERIVED))
            cfg_opt_parse(o, base, o->pub.def, why, sizeof why);
    }
}
