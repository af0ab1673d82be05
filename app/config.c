/*
 * config.c - config.ini into a typed sr_config.
 *
 * Every section kind has one static table of options (name, type, default,
 * range, help, and where the value is stored). The tables drive parsing,
 * validation, the "did you mean" suggestions and the generated help
 * (sr_cfg_section_at(), sr_cfg_option_at()). A section's defaults are set
 * by parsing each option's default text with the option's own parser, so
 * the documented default is the one applied.
 *
 * A file is read in three passes, and no pass stops at an error:
 *
 *   1. Lines. inih (ini_parse_stream) splits each line into key and value,
 *      strips whitespace and comments, and calls on_pair(). It pulls lines
 *      through read_line(), which counts them and classifies each one by
 *      inih's own rules (classify()), because Debian's inih 55 gives the
 *      handler no line number (INI_HANDLER_LINENO 0), no call for a section
 *      header (INI_CALL_HANDLER_ON_NEW_SECTION 0, so an empty section would
 *      be invisible), truncates section names to 49 bytes, and returns only
 *      the first malformed line. So sections are opened, and malformed lines
 *      reported, from read_line(); on_pair() only stores values. Each
 *      section gets its own record (struct sect) holding its values and the
 *      line of every key seen in it.
 *   2. Sections, each on its own (finish_*()): derived defaults, required
 *      keys, checks between keys of one section (agg for the kind, ratio
 *      keys, threshold order, the adapter type's own keys).
 *   3. References between sections (check_refs()): ratio operands, panel
 *      metrics and aggregates, windows against retention. The order of the
 *      sections in the file therefore does not matter.
 *
 * Errors are collected (at most SR_CFG_MAX_ERRORS), then sorted by line.
 * A config is returned only when there is no error at all.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../adapters/execfmt.h"
#include "../adapters/registry.h"
#include "../metrics/safetext.h"
#include "paths.h"
#include "plugin.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Bytes of the user's text quoted in one message. */
#define QUOTE_MAX 60

/* ---------------------------------------------------------------------- */
/* The tables                                                              */

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

/* SR_OPT_ENUM stores the index of the choice as an int into these enums. */
_Static_assert(sizeof(sr_kind) == sizeof(int), "sr_kind is stored as an int");
_Static_assert(sizeof(sr_better) == sizeof(int), "sr_better is stored as an int");
_Static_assert(sizeof(sr_pct_method) == sizeof(int), "sr_pct_method is stored as an int");

/* Each list is in the order of the enum it is stored as (kpi.h). */
static const char *const kind_choices[] = {"event", "gauge", "counter", "ratio", NULL};
static const char *const better_choices[] = {"lower", "higher", NULL};
static const char *const pct_choices[] = {"nearest_rank", "linear", NULL};
static const char *const widget_choices[] = {"tile",  "sparkline", "gauge",     "bars",
                                             "table", "chart",     "histogram", NULL};

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
      .help = "how long a panel must stay past a threshold before its alert is raised"},
     AT(struct alert_vals, for_ms)},
    {{.name = "hysteresis",
      .type = SR_OPT_NUMBER,
      .flags = SR_OPT_HAS_MIN | SR_OPT_HAS_MAX,
      .def = "5",
      .min = 0,
      .max = 50,
      .help = "percent of the threshold the value must come back past to clear (or ease "
              "crit to warn)"},
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

enum kind_id { K_SITREP, K_METRIC, K_ADAPTER, K_MAP, K_PANEL, K_PAGE, K_ROLE, K_ALERT, K_WALL };

struct kind {
    sr_cfg_section_spec pub; /* first: sr_cfg_option_at() maps pub back to its kind */
    enum kind_id id;
    const struct opt *opts;
};

/* In enum kind_id order. */
static const struct kind kinds[] = {
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
      .help = "when panels past their metric's thresholds raise and clear alerts (at most one)",
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
    return COUNT(kinds);
}

const sr_cfg_section_spec *sr_cfg_section_at(size_t i)
{
    return i < COUNT(kinds) ? &kinds[i].pub : NULL;
}

const sr_cfg_option *sr_cfg_option_at(const sr_cfg_section_spec *s, size_t i)
{
    for (size_t k = 0; k < COUNT(kinds); k++) {
        if (s == &kinds[k].pub)
            return i < s->n_options ? &kinds[k].opts[i].pub : NULL;
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
static void describe_expected(const struct opt *o, char *buf, size_t len)
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

/* ---------------------------------------------------------------------- */
/* Small helpers                                                           */

/* Makes room for element n of the array *pv (elements of sz bytes). The
 * capacity is the next power of two, so arrays carry only their count.
 * pv is the address of a T * (all object pointers share one representation
 * on the platforms sitrep targets). Returns false when out of memory. */
static bool grow(void *pv, size_t n, size_t sz)
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

/* Writes text for a message: every control written out as
 * sr_text_escape() does (\x1b, \u009b, \u202e: metrics/safetext.h), so a
 * config cannot send escape sequences to the terminal and a reader sees
 * what the file holds; text longer than QUOTE_MAX characters is cut with
 * "...". len is at least 4 * QUOTE_MAX + 16. */
static void quote(const char *text, char *buf, size_t len)
{
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    size_t n = strlen((const char *)s), i = 0;
    for (int chars = 0; i < n && chars < QUOTE_MAX; chars++) {
        uint32_t cp;
        size_t k = sr_utf8_decode(s + i, n - i, &cp);
        i += k ? k : 1;
    }
    char head[4 * QUOTE_MAX + 1], esc[6 * QUOTE_MAX + 1]; /* \u202e: 6 bytes for one */
    snprintf(head, sizeof head, "%.*s", (int)i, (const char *)s);
    sr_text_escape(head, esc, sizeof esc);
    bool more = i < n;
    if (strlen(esc) + 4 > len) {
        sr_text_escape(head, buf, len - 3);
        more = true;
    } else {
        snprintf(buf, len, "%s", esc);
    }
    if (more)
        strcat(buf, "...");
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
static bool name_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (!(isalnum(c) || c == '_' || c == '-') || c >= 0x80)
            return false;
    }
    return n > 0 && n < SR_NAME_MAX;
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

struct errsink {
    sr_cfg_errors *errs; /* NULL: count only */
    const char *file;
    size_t count;   /* errors found, kept or not */
    size_t dropped; /* beyond SR_CFG_MAX_ERRORS */
    bool oom;
};

static void sink_add(struct errsink *k, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void sink_add(struct errsink *k, int line, const char *fmt, ...)
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
    if (!msg || !file || !grow(&k->errs->v, k->errs->n, sizeof *k->errs->v)) {
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
/* Parsing one value                                                       */

/*
 * Parses text as option o into the section struct at base. Returns 0; or
 * SR_EINVAL with the message (after "KEY: ") in why; or SR_ENOMEM.
 */
static int opt_parse(const struct opt *o, void *base, const char *text, char *why, size_t wlen)
{
    void *field = (char *)base + o->offset;
    char q[4 * QUOTE_MAX + 16], exp[320];
    const char *suggest = NULL;
    quote(text, q, sizeof q);
    describe_expected(o, exp, sizeof exp);
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
        if (!name_valid(text))
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

/* ---------------------------------------------------------------------- */
/* The parser                                                              */

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

/* How inih reads a line; classify() decides it the way inih does. */
enum line_class {
    LINE_BLANK,
    LINE_COMMENT,
    LINE_CONTINUATION, /* indented, after a key: inih appends it to that key's value */
    LINE_SECTION,
    LINE_BAD_SECTION, /* '[' without ']' */
    LINE_KEY,
    LINE_BAD_KEY, /* neither '=' nor ':' */
};

/* Where keys go: nowhere yet, into a section, or nowhere because the
 * header was wrong (one error for the header, none for each key). */
enum where { W_BEFORE, W_SECTION, W_IGNORED };

struct parser {
    struct errsink err;
    const char *text; /* the whole file */
    size_t len, pos;

    /* the current line, as read_line() saw it */
    int lineno;
    char *line; /* a copy, cut up by classify() */
    size_t line_cap;
    enum line_class cls;
    const char *key;      /* LINE_KEY: the key name, within line */
    bool too_long;        /* longer than inih's line buffer */
    char *val;            /* LINE_KEY: the value within line; LINE_CONTINUATION: the line */
    bool adapter_cont;    /* the last key stored an adapter type's own key: an indented
                             line continues its value */
    bool prev_key;        /* inih's state: a key was read since the last section header */
    const char *hdr;      /* LINE_SECTION: the text between '[' and ']' */
    const char *hdr_rest; /* LINE_SECTION: what follows ']' */

    enum where where;
    struct sect *cur;
    struct sect **sects;
    size_t n_sects;
};

static void sect_label(const struct sect *s, char *buf, size_t len)
{
    if (s->kind->pub.named)
        snprintf(buf, len, "[%s.%s]", s->kind->pub.kind, s->name);
    else
        snprintf(buf, len, "[%s]", s->kind->pub.kind);
}

static const struct opt *opt_find(const struct kind *k, const char *key)
{
    for (size_t i = 0; i < k->pub.n_options; i++) {
        if (strcmp(k->opts[i].pub.name, key) == 0)
            return &k->opts[i];
    }
    return NULL;
}

static const struct seen *seen_find(const struct sect *s, const char *key)
{
    for (size_t i = 0; i < s->n_seen; i++) {
        if (strcmp(s->seen[i].key, key) == 0)
            return &s->seen[i];
    }
    return NULL;
}

/* The line of key in s, or of the section header when the key is absent. */
static int key_line(const struct sect *s, const char *key)
{
    const struct seen *e = seen_find(s, key);
    return e ? e->line : s->line;
}

static bool key_ok(const struct sect *s, const char *key)
{
    const struct seen *e = seen_find(s, key);
    return e && e->ok;
}

static void seen_add(struct parser *p, struct sect *s, const char *key, bool ok)
{
    char *k = strdup(key);
    if (!k || !grow(&s->seen, s->n_seen, sizeof *s->seen)) {
        free(k);
        p->err.oom = true;
        return;
    }
    s->seen[s->n_seen++] = (struct seen){.key = k, .line = p->lineno, .ok = ok};
}

static void kv_free(sr_cfg_kv *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].key);
        free(v[i].value);
    }
    free(v);
}

static void sect_free(struct sect *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_seen; i++)
        free(s->seen[i].key);
    free(s->seen);
    if (s->kind->id == K_SITREP) {
        free(s->v.sitrep.cache);
        free(s->v.sitrep.reports);
    } else if (s->kind->id == K_ADAPTER) {
        for (size_t i = 0; i < s->v.adapter.n_opts; i++) {
            free(s->v.adapter.opts[i].key);
            free(s->v.adapter.opts[i].value);
        }
        free(s->v.adapter.opts);
    } else if (s->kind->id == K_MAP) {
        kv_free(s->v.map.v, s->v.map.n);
    }
    free(s);
}

/* Sets every option of the section that has a plain default, by parsing
 * its default text. */
static void apply_defaults(const struct kind *k, void *base)
{
    char why[512];
    for (size_t i = 0; i < k->pub.n_options; i++) {
        const struct opt *o = &k->opts[i];
        if (o->pub.def && !(o->pub.flags & SR_OPT_DERIVED))
            opt_parse(o, base, o->pub.def, why, sizeof why);
    }
}

/* A new section record with its defaults. */
static struct sect *sect_new(struct parser *p, const struct kind *k, const char *name)
{
    struct sect *s = calloc(1, sizeof *s);
    if (!s || !grow(&p->sects, p->n_sects, sizeof *p->sects)) {
        free(s);
        p->err.oom = true;
        return NULL;
    }
    s->kind = k;
    snprintf(s->name, sizeof s->name, "%s", name);
    s->line = p->lineno;
    switch (k->id) {
    case K_SITREP:
        break;
    case K_METRIC:
        sr_metric_def_init(&s->v.metric, name);
        break;
    case K_ADAPTER:
        snprintf(s->v.adapter.name, sizeof s->v.adapter.name, "%s", name);
        s->v.adapter.line = p->lineno;
        break;
    case K_MAP:
        snprintf(s->v.map.name, sizeof s->v.map.name, "%s", name);
        s->v.map.line = p->lineno;
        break;
    case K_PANEL:
        snprintf(s->v.panel.name, sizeof s->v.panel.name, "%s", name);
        s->v.panel.line = p->lineno;
        break;
    case K_PAGE:
        snprintf(s->v.page.name, sizeof s->v.page.name, "%s", name);
        snprintf(s->v.page.title, sizeof s->v.page.title, "%s", name);
        s->v.page.line = p->lineno;
        break;
    case K_ROLE:
    case K_ALERT:
    case K_WALL:
        break;
    }
    apply_defaults(k, &s->v);
    p->sects[p->n_sects++] = s;
    return s;
}

/* Opens the section whose header text (between '[' and ']') is hdr. */
static void open_section(struct parser *p, const char *hdr)
{
    char q[4 * QUOTE_MAX + 16];
    p->where = W_IGNORED;
    p->cur = NULL;
    quote(hdr, q, sizeof q);

    const char *dot = strchr(hdr, '.');
    size_t klen = dot ? (size_t)(dot - hdr) : strlen(hdr);
    const struct kind *k = NULL;
    for (size_t i = 0; i < COUNT(kinds); i++) {
        if (strlen(kinds[i].pub.kind) == klen && strncmp(hdr, kinds[i].pub.kind, klen) == 0)
            k = &kinds[i];
    }
    if (!k) {
        char word[SR_NAME_MAX + 1];
        snprintf(word, sizeof word, "%.*s", (int)(klen < SR_NAME_MAX ? klen : SR_NAME_MAX), hdr);
        const char *names[COUNT(kinds)];
        for (size_t i = 0; i < COUNT(kinds); i++)
            names[i] = kinds[i].pub.kind;
        const char *best = sr_nearest(word, names, COUNT(kinds));
        const struct kind *bk = NULL;
        for (size_t i = 0; best && i < COUNT(kinds); i++) {
            if (names[i] == best)
                bk = &kinds[i];
        }
        if (bk && !bk->pub.named) {
            sink_add(&p->err, p->lineno, "unknown section [%s], did you mean [%s]?", q, best);
        } else if (bk) {
            char rest[4 * QUOTE_MAX + 16];
            quote(dot ? dot + 1 : "NAME", rest, sizeof rest);
            sink_add(&p->err, p->lineno, "unknown section [%s], did you mean [%s.%s]?", q, best,
                     rest);
        } else {
            sink_add(&p->err, p->lineno,
                     "unknown section [%s], expected [sitrep], [metric.NAME], [adapter.NAME] or "
                     "[panel.NAME]",
                     q);
        }
        return;
    }
    const char *name = dot ? dot + 1 : "";
    if (!k->pub.named && dot) {
        sink_add(&p->err, p->lineno, "section [%s] takes no name, expected %s", q, k->pub.header);
        return;
    }
    if (k->pub.named && !dot) {
        sink_add(&p->err, p->lineno, "section [%s] needs a name, expected %s", q, k->pub.header);
        return;
    }
    if (k->pub.named && !name_valid(name)) {
        char qn[4 * QUOTE_MAX + 16];
        quote(name, qn, sizeof qn);
        sink_add(&p->err, p->lineno,
                 "invalid name '%s' in [%s], expected 1 to %d letters, digits, '_' or '-'", qn, q,
                 SR_NAME_MAX - 1);
        return;
    }
    const struct sect *first = NULL;
    for (size_t i = 0; i < p->n_sects && !first; i++) {
        const struct sect *o = p->sects[i];
        if (o->kind == k && !o->duplicate && strcmp(o->name, name) == 0)
            first = o;
    }
    struct sect *s = sect_new(p, k, name);
    if (!s)
        return;
    if (first) {
        s->duplicate = true;
        sink_add(&p->err, p->lineno, "duplicate section [%s], first defined at line %d", q,
                 first->line);
    }
    p->where = W_SECTION;
    p->cur = s;
}

static char *rstrip(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* The first of the bytes stops in s, or the start of an inline comment
 * (INI_INLINE_COMMENT_PREFIXES after a blank, when inih allows them), or
 * the end of s. */
static char *scan_to(char *s, const char *stops)
{
    bool after_blank = false;
    for (; *s; s++) {
        if (strchr(stops, *s))
            break;
        if (INI_ALLOW_INLINE_COMMENTS && after_blank && strchr(INI_INLINE_COMMENT_PREFIXES, *s))
            break;
        after_blank = isspace((unsigned char)*s);
    }
    return s;
}

/*
 * Classifies p->line (the current line without its newline) as inih 55
 * will, with the options this build of inih has (ini.h): a UTF-8 BOM on
 * line 1 is skipped; a line starting with INI_START_COMMENT_PREFIXES is a
 * comment; an indented line after a key continues that key's value
 * (INI_ALLOW_MULTILINE); '[' starts a section header that needs a ']';
 * anything else needs '=' or ':'. Sets p->key, p->hdr, p->hdr_rest and
 * inih's "a key came since the header" state.
 */
static enum line_class classify(struct parser *p)
{
    char *line = p->line, *s = line;
    if (INI_ALLOW_BOM && p->lineno == 1 && (unsigned char)s[0] == 0xEF &&
        (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF)
        s += 3;
    rstrip(s);
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return LINE_BLANK;
    if (strchr(INI_START_COMMENT_PREFIXES, *s))
        return LINE_COMMENT;
    if (INI_ALLOW_MULTILINE && p->prev_key && s > line) {
        p->val = s;
        return LINE_CONTINUATION;
    }
    p->adapter_cont = false;
    if (*s == '[') {
        char *end = scan_to(s + 1, "]");
        if (*end != ']')
            return LINE_BAD_SECTION;
        *end = '\0';
        p->hdr = s + 1;
        p->hdr_rest = end + 1;
        p->prev_key = false;
        return LINE_SECTION;
    }
    char *sep = scan_to(s, "=:");
    if (*sep != '=' && *sep != ':')
        return LINE_BAD_KEY;
    *sep = '\0';
    p->val = sep + 1;
    p->key = rstrip(s);
    p->prev_key = *p->key != '\0';
    return LINE_KEY;
}

/* What to hand inih instead of a line too long for its buffer: a short
 * line of the same class, so that inih's state stays what classify()
 * assumes. */
static const char *stand_in(const struct parser *p)
{
    switch (p->cls) {
    case LINE_BLANK:
        return "\n";
    case LINE_COMMENT:
        return ";\n";
    case LINE_CONTINUATION:
        return " -\n";
    case LINE_SECTION:
        return "[-]\n";
    case LINE_BAD_SECTION:
        return "[\n";
    case LINE_KEY:
        return *p->key ? "-=\n" : "=\n";
    case LINE_BAD_KEY:
        return "-\n";
    }
    return "\n";
}

/* Acts on the line just classified: opens sections, reports malformed
 * lines. Keys are stored by on_pair(), which inih calls next. */
static void on_line(struct parser *p)
{
    char q[4 * QUOTE_MAX + 16];
    switch (p->cls) {
    case LINE_BLANK:
    case LINE_COMMENT:
    case LINE_CONTINUATION:
    case LINE_KEY:
        return;
    case LINE_SECTION: {
        open_section(p, p->hdr);
        const char *r = p->hdr_rest;
        while (isspace((unsigned char)*r))
            r++;
        if (*r && *r != ';' && *r != '#') {
            quote(r, q, sizeof q);
            sink_add(&p->err, p->lineno,
                     "unexpected text '%s' after the section header, expected a new line", q);
        }
        return;
    }
    case LINE_BAD_SECTION:
        quote(p->line + strspn(p->line, " \t"), q, sizeof q);
        sink_add(&p->err, p->lineno,
                 "expected a section header such as [metric.NAME], got '%s' (no closing ']')", q);
        p->where = W_IGNORED;
        p->cur = NULL;
        return;
    case LINE_BAD_KEY:
        quote(p->line + strspn(p->line, " \t"), q, sizeof q);
        sink_add(&p->err, p->lineno, "expected key = value, got '%s'", q);
        return;
    }
}

/*
 * inih's reader (fgets-like): hands over one whole line of the text per
 * call, so that inih's line count stays ours. A line that does not fit
 * buf is replaced by a stand-in of the same class.
 */
static char *read_line(char *buf, int num, void *stream)
{
    struct parser *p = stream;
    if (p->pos >= p->len || num < 4)
        return NULL;
    const char *start = p->text + p->pos;
    const char *nl = memchr(start, '\n', p->len - p->pos);
    size_t n = nl ? (size_t)(nl - start) : p->len - p->pos;
    p->pos += n + (nl ? 1 : 0);
    p->lineno++;

    if (n + 1 > p->line_cap) {
        size_t cap = n + 1 < 256 ? 256 : n + 1;
        char *l = realloc(p->line, cap);
        if (!l) {
            p->err.oom = true;
            return NULL;
        }
        p->line = l;
        p->line_cap = cap;
    }
    memcpy(p->line, start, n);
    p->line[n] = '\0';
    p->key = NULL;
    p->cls = classify(p);
    on_line(p);

    p->too_long = n + 2 > (size_t)num;
    if (!p->too_long) {
        memcpy(buf, start, n);
        buf[n] = '\n';
        buf[n + 1] = '\0';
        return buf;
    }
    /* an adapter's values (SQL, URLs) may be long: pair() takes them from p->line */
    bool in_adapter = p->where == W_SECTION && p->cur && p->cur->kind->id == K_ADAPTER;
    if (!in_adapter && (p->cls == LINE_KEY || p->cls == LINE_CONTINUATION))
        sink_add(&p->err, p->lineno,
                 "line too long (%zu bytes), expected at most %d bytes on a key = value line", n,
                 num - 2);
    snprintf(buf, (size_t)num, "%s", stand_in(p));
    return buf;
}

/* Adds key = value of the current line to a list of free keys (an adapter
 * type's own keys, a value map's entries). */
static void kv_add(struct parser *p, sr_cfg_kv **list, size_t *n, const char *key,
                   const char *value)
{
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v || !grow(list, *n, sizeof **list)) {
        free(k);
        free(v);
        p->err.oom = true;
        return;
    }
    (*list)[(*n)++] = (sr_cfg_kv){.key = k, .value = v, .line = p->lineno};
}

/* The value of the current line as inih would give it, taken from the
 * whole line (for lines longer than inih's buffer): blanks and an inline
 * comment removed. Cuts p->line. */
static const char *full_value(struct parser *p)
{
    char *v = p->val ? p->val : (char *)"";
    while (isspace((unsigned char)*v))
        v++;
    *scan_to(v, "") = '\0';
    return rstrip(v);
}

/* Appends an indented line to the adapter key before it ("query = SELECT
 * ...", then "    FROM ..."), joined by one blank. */
static void adapter_kv_continue(struct parser *p, const char *more)
{
    sr_cfg_adapter *a = &p->cur->v.adapter;
    sr_cfg_kv *kv = &a->opts[a->n_opts - 1];
    size_t n = strlen(kv->value), m = strlen(more);
    char *v = realloc(kv->value, n + m + 2);
    if (!v) {
        p->err.oom = true;
        return;
    }
    if (n && m)
        v[n++] = ' ';
    memcpy(v + n, more, m + 1);
    kv->value = v;
}

/* One key = value of the current line. Returns 0, or SR_ENOMEM; a problem
 * with the config is recorded and is not a failure of the call. */
static int pair(struct parser *p, const char *name, const char *value)
{
    char qk[4 * QUOTE_MAX + 16], label[SR_NAME_MAX + 16];
    bool whole = false; /* a long adapter line, read from p->line */
    if (p->too_long && (p->cls == LINE_KEY || p->cls == LINE_CONTINUATION) &&
        p->where == W_SECTION && p->cur && p->cur->kind->id == K_ADAPTER) {
        value = full_value(p);
        p->too_long = false; /* handled: the value is whole */
        whole = true;
    }
    if (p->cls == LINE_CONTINUATION && p->adapter_cont && p->where == W_SECTION && p->cur &&
        p->cur->kind->id == K_ADAPTER && p->cur->v.adapter.n_opts > 0) {
        adapter_kv_continue(p, value);
        return 0;
    }
    if (p->cls == LINE_CONTINUATION) {
        sink_add(&p->err, p->lineno,
                 "indented line, expected key = value at the start of the line (an indented "
                 "line would continue the previous value)");
        return 0;
    }
    if (p->cls != LINE_KEY) {
        /* inih and classify() disagree: say so rather than lose the line */
        sink_add(&p->err, p->lineno, "cannot read this line, expected key = value");
        return 0;
    }
    if (p->where == W_IGNORED)
        return 0;
    const char *key = p->too_long || whole ? p->key : name;
    quote(key, qk, sizeof qk);
    if (p->where == W_BEFORE) {
        sink_add(&p->err, p->lineno,
                 "key '%s' is outside any section, expected a section header such as [sitrep] "
                 "before it",
                 qk);
        return 0;
    }
    struct sect *s = p->cur;
    sect_label(s, label, sizeof label);
    if (!key[0]) {
        sink_add(&p->err, p->lineno, "expected key = value, got no key before '='");
        return 0;
    }
    const struct seen *first = seen_find(s, key);
    if (first) {
        sink_add(&p->err, p->lineno, "duplicate key '%s' in %s, first set at line %d", qk, label,
                 first->line);
        return 0;
    }
    if (p->too_long) {
        seen_add(p, s, key, false); /* reported by read_line(); no "missing" error follows */
        return 0;
    }
    const struct opt *o = opt_find(s->kind, key);
    if (o) {
        char why[1024];
        int rc = opt_parse(o, &s->v, value, why, sizeof why);
        if (rc == SR_ENOMEM)
            return rc;
        if (rc)
            sink_add(&p->err, p->lineno, "%s: %s", o->pub.name, why);
        seen_add(p, s, key, rc == 0);
        return 0;
    }
    if (s->kind->id == K_ADAPTER) {
        /* the type's own keys: checked against its table once the type is known */
        kv_add(p, &s->v.adapter.opts, &s->v.adapter.n_opts, key, value);
        seen_add(p, s, key, true);
        p->adapter_cont = true;
        return 0;
    }
    if (s->kind->id == K_MAP) {
        /* VALUE = RESULT: any key is a value a source may write */
        kv_add(p, &s->v.map.v, &s->v.map.n, key, value);
        seen_add(p, s, key, true);
        return 0;
    }
    const char *names[16] = {0};
    size_t n = 0;
    for (; n < s->kind->pub.n_options && n < COUNT(names); n++)
        names[n] = s->kind->opts[n].pub.name;
    const char *best = sr_nearest(key, names, n);
    if (best) {
        sink_add(&p->err, p->lineno, "unknown key '%s' in %s, did you mean '%s'?", qk, label, best);
    } else {
        char list[256];
        size_t used = 0;
        list[0] = '\0';
        for (size_t i = 0; i < n && used < sizeof list; i++)
            used +=
                (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
        sink_add(&p->err, p->lineno, "unknown key '%s' in %s, expected one of %s", qk, label, list);
    }
    return 0;
}

/* inih's handler. inih's convention is nonzero = success; pair() follows
 * ours (0 = success), and a config error is not a failure of the call. */
static int on_pair(void *user, const char *section, const char *name, const char *value)
{
    (void)section; /* truncated by inih; read_line() tracks sections itself */
    return pair(user, name, value) == 0 ? 1 : 0;
}

/* ---------------------------------------------------------------------- */
/* Pass 2: each section on its own                                         */

/* Reports the required keys (flags & mask) that s lacks. */
static void check_required(struct parser *p, const struct sect *s, unsigned mask, const char *why)
{
    char label[SR_NAME_MAX + 16], exp[320];
    sect_label(s, label, sizeof label);
    for (size_t i = 0; i < s->kind->pub.n_options; i++) {
        const struct opt *o = &s->kind->opts[i];
        if (!(o->pub.flags & mask) || seen_find(s, o->pub.name))
            continue;
        describe_expected(o, exp, sizeof exp);
        sink_add(&p->err, s->line, "missing required key '%s' in %s, expected %s%s", o->pub.name,
                 label, exp, why);
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
    s->kind_ok = key_ok(s, "kind");
    if (!s->duplicate)
        check_required(p, s, SR_OPT_REQUIRED, "");
    if (!s->kind_ok)
        return;
    const struct seen *agg = seen_find(s, "agg");
    if (!agg) {
        d->agg = sr_kind_default_agg(d->kind);
    } else if (agg->ok && !sr_agg_valid_for(d->agg, d->kind)) {
        char name[16], list[128];
        sr_agg_format(d->agg, name, sizeof name);
        valid_aggs(d->kind, list, sizeof list);
        sink_add(&p->err, agg->line, "agg: '%s' does not suit a %s metric, expected one of %s",
                 name, sr_kind_name(d->kind), list);
    }
    for (size_t i = 0; i < s->kind->pub.n_options; i++) {
        const struct opt *o = &s->kind->opts[i];
        const struct seen *e = seen_find(s, o->pub.name);
        if (d->kind != SR_KIND_RATIO && e && (o->pub.flags & SR_OPT_RATIO))
            sink_add(&p->err, e->line, "%s: only a ratio metric has a %s, this one is kind = %s",
                     o->pub.name, o->pub.name, sr_kind_name(d->kind));
    }
    if (d->kind == SR_KIND_RATIO && !s->duplicate)
        check_required(p, s, SR_OPT_RATIO_REQUIRED,
                       " (a ratio needs a numerator and a denominator)");
    if (key_ok(s, "warn") && key_ok(s, "crit")) {
        bool lower = d->better == SR_BETTER_LOWER;
        if (lower ? d->warn > d->crit : d->warn < d->crit)
            sink_add(&p->err, key_line(s, "crit"),
                     "crit: warn = %g and crit = %g contradict better = %s, expected warn %s crit",
                     d->warn, d->crit, lower ? "lower" : "higher", lower ? "<=" : ">=");
    }
}

/* The adapter type's own keys of a against its option table. */
static void check_adapter_keys(struct errsink *k, const sr_cfg_adapter *a, const sr_adapter *type)
{
    const char *names[64];
    size_t n = 0;
    for (size_t i = 0; i < COUNT(adapter_opts); i++)
        names[n++] = adapter_opts[i].pub.name;
    for (size_t i = 0; type->options && type->options[i].key && n < COUNT(names); i++)
        names[n++] = type->options[i].key;
    for (size_t i = 0; i < a->n_opts; i++) {
        const sr_cfg_kv *kv = &a->opts[i];
        bool known = false;
        for (size_t j = COUNT(adapter_opts); j < n && !known; j++)
            known = strcmp(names[j], kv->key) == 0;
        if (known)
            continue;
        char qk[4 * QUOTE_MAX + 16];
        quote(kv->key, qk, sizeof qk);
        const char *best = sr_nearest(kv->key, names, n);
        if (best) {
            sink_add(k, kv->line, "unknown key '%s' in [adapter.%s], did you mean '%s'?", qk,
                     a->name, best);
        } else {
            char list[512];
            size_t used = 0;
            list[0] = '\0';
            for (size_t j = 0; j < n && used < sizeof list; j++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "",
                                         names[j]);
            sink_add(k, kv->line, "unknown key '%s' in [adapter.%s], expected one of %s", qk,
                     a->name, list);
        }
    }
    for (size_t i = 0; type->options && type->options[i].key; i++) {
        const sr_ad_option_spec *spec = &type->options[i];
        bool present = false;
        for (size_t j = 0; j < a->n_opts && !present; j++)
            present = strcmp(a->opts[j].key, spec->key) == 0;
        if (spec->required && !present)
            sink_add(k, a->line,
                     "missing required key '%s' in [adapter.%s], expected %s (type %s needs it)",
                     spec->key, a->name, spec->help ? spec->help : "a value", type->type);
    }
}

static void finish_adapter(struct parser *p, struct sect *s)
{
    if (!s->duplicate)
        check_required(p, s, SR_OPT_REQUIRED, "");
    if (!key_ok(s, "type"))
        return; /* the type's keys cannot be judged without the type */
    const sr_adapter *type = sr_registry_find(s->v.adapter.type);
    if (type) {
        check_adapter_keys(&p->err, &s->v.adapter, type);
        return;
    }
    /* a plugin's own keys are judged once it is loaded (plugin.c); only
     * sitrep's keys of a plugin section can be checked now */
    for (const sr_ad_option_spec *o = sr_plugin_keys; o->key; o++) {
        bool present = false;
        for (size_t j = 0; j < s->v.adapter.n_opts && !present; j++)
            present = strcmp(s->v.adapter.opts[j].key, o->key) == 0;
        if (o->required && !present)
            sink_add(&p->err, s->v.adapter.line,
                     "missing required key '%s' in [adapter.%s], expected %s (type %s needs it)",
                     o->key, s->v.adapter.name, o->help, SR_PLUGIN_TYPE);
    }
}

static void check_levels(struct parser *p, const struct sect *s);
/* The command must split into words the way it will be run. */
static void finish_alert(struct parser *p, struct sect *s)
{
    if (!s->v.alert.command[0] || !key_ok(s, "command"))
        return;
    char **argv = NULL;
    size_t argc = 0;
    char why[256];
    if (sr_execfmt_words(s->v.alert.command, &argv, &argc, why, sizeof why))
        sink_add(&p->err, key_line(s, "command"), "command: %s", why);
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
        char q[4 * QUOTE_MAX + 16];
        quote(w, q, sizeof q);
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
    if (key_ok(s, "exit") && sr_cfg_key_chord(s->v.wall.exit, keys, &n, why, sizeof why))
        sink_add(&p->err, key_line(s, "exit"), "exit: %s", why);
}

static void finish_section(struct parser *p, struct sect *s)
{
    switch (s->kind->id) {
    case K_SITREP:
        if (!s->duplicate)
            check_levels(p, s);
        return;
    case K_METRIC:
        finish_metric(p, s);
        return;
    case K_ADAPTER:
        finish_adapter(p, s);
        return;
    case K_MAP:
        if (!s->duplicate && s->v.map.n == 0)
            sink_add(&p->err, s->line,
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
            sink_add(&p->err, s->line,
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
        sink_add(&p->err, line, "%s: no metric '%s' is defined in this file, did you mean '%s'?",
                 key, name, best);
    else
        sink_add(&p->err, line,
                 "%s: no metric '%s' is defined in this file, expected the NAME of a "
                 "[metric.NAME] section",
                 key, name);
}

static void check_ratio(struct parser *p, const struct sect *s)
{
    static const char *const keys[] = {"numerator", "denominator"};
    for (size_t i = 0; i < COUNT(keys); i++) {
        if (!key_ok(s, keys[i]))
            continue;
        const char *ref = i == 0 ? s->v.metric.numerator : s->v.metric.denominator;
        const struct sect *m = metric_find(p, ref);
        if (!m)
            undefined_metric(p, key_line(s, keys[i]), keys[i], ref);
        else if (m->kind_ok && m->v.metric.kind == SR_KIND_RATIO)
            sink_add(&p->err, key_line(s, keys[i]),
                     "%s: '%s' is a ratio, expected an event, gauge or counter metric (a ratio "
                     "of ratios is not computed)",
                     keys[i], ref);
    }
}

static void check_panel(struct parser *p, struct sect *s, sr_ms retention_ms, bool retention_ok)
{
    sr_cfg_panel *pn = &s->v.panel;
    if (retention_ok && key_ok(s, "window") && pn->window_ms > retention_ms) {
        char w[32], r[32];
        sr_format_duration(pn->window_ms, w, sizeof w);
        sr_format_duration(retention_ms, r, sizeof r);
        sink_add(&p->err, key_line(s, "window"),
                 "window: %s is longer than the retention (%s), expected at most %s", w, r, r);
    }
    if (!key_ok(s, "metric"))
        return;
    const struct sect *m = metric_find(p, pn->metric);
    if (!m) {
        undefined_metric(p, key_line(s, "metric"), "metric", pn->metric);
        return;
    }
    const struct seen *agg = seen_find(s, "agg");
    if (!agg) {
        pn->agg = m->v.metric.agg;
    } else if (agg->ok && m->kind_ok && !sr_agg_valid_for(pn->agg, m->v.metric.kind)) {
        char name[16], list[128];
        sr_agg_format(pn->agg, name, sizeof name);
        valid_aggs(m->v.metric.kind, list, sizeof list);
        sink_add(&p->err, agg->line,
                 "agg: '%s' does not suit metric '%s' (a %s), expected one of %s", name, m->name,
                 sr_kind_name(m->v.metric.kind), list);
    }
    if (!seen_find(s, "title"))
        snprintf(pn->title, sizeof pn->title, "%s", m->v.metric.label);
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
static void each_listed(const char *list, bool (*fn)(void *ctx, const char *name), void *ctx)
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
        sink_add(&pc->p->err, key_line(pc->s, "panels"),
                 "panels: no panel '%s' is defined in this file, did you mean '%s'?", name, best);
    else
        sink_add(&pc->p->err, key_line(pc->s, "panels"),
                 "panels: no panel '%s' is defined in this file, expected the NAME of a "
                 "[panel.NAME] section",
                 name);
    return true;
}

static void check_page(struct parser *p, const struct sect *s)
{
    if (!key_ok(s, "panels"))
        return;
    struct page_check pc = {p, s, 0};
    each_listed(s->v.page.panels, check_listed, &pc);
    if (pc.count == 0)
        sink_add(&p->err, key_line(s, "panels"),
                 "panels: the list is empty, expected panel names separated by commas");
}

/* ---- roles ---- */

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
        each_listed(sitrep->v.sitrep.levels, names_add, out);
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
        each_listed(sitrep->v.sitrep.personal, names_add, &ps);
    int first = 0;
    for (size_t i = 0; i < ps.n; i++) {
        int k = level_index(lv, ps.v[i]);
        if (k && (!first || k < first))
            first = k;
    }
    return first;
}

/* Checks [sitrep] levels and personal (pass 2). */
static void check_levels(struct parser *p, const struct sect *s)
{
    struct names lv;
    levels_of(s, &lv);
    int line = key_line(s, "levels");
    if (lv.n > SR_CFG_MAX_LEVELS)
        sink_add(&p->err, line, "levels: more than %d levels, expected at most %d names",
                 SR_CFG_MAX_LEVELS, SR_CFG_MAX_LEVELS);
    for (size_t i = 0; i < lv.n && i < SR_CFG_MAX_LEVELS; i++) {
        char q[4 * QUOTE_MAX + 16];
        quote(lv.v[i], q, sizeof q);
        if (!name_valid(lv.v[i]))
            sink_add(&p->err, line,
                     "levels: invalid name '%s', expected 1 to %d letters, digits, '_' or '-'", q,
                     SR_NAME_MAX - 1);
        else if (level_index(&lv, lv.v[i]) != (int)i + 1)
            sink_add(&p->err, line, "levels: '%s' is named twice", q);
    }
    struct names ps;
    ps.n = 0;
    each_listed(s->v.sitrep.personal, names_add, &ps);
    for (size_t i = 0; i < ps.n && i < SR_CFG_MAX_LEVELS; i++) {
        if (level_index(&lv, ps.v[i]))
            continue;
        char q[4 * QUOTE_MAX + 16];
        quote(ps.v[i], q, sizeof q);
        if (lv.n == 0)
            sink_add(&p->err, key_line(s, "personal"),
                     "personal: no level '%s', expected names from [sitrep] levels (which is "
                     "not set)",
                     q);
        else
            sink_add(&p->err, key_line(s, "personal"),
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
    int line = key_line(rc->s, rc->key);
    char q[4 * QUOTE_MAX + 16];
    quote(name, q, sizeof q);
    rc->count++;
    if (strcmp(name, "*") == 0) {
        rc->star = true;
        return true;
    }
    if (rc->kind == K_ROLE) { /* users, groups */
        if (!unix_name_valid(name))
            sink_add(&p->err, line,
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
        sink_add(&p->err, line, "%s: no %s '%s' is defined in this file, did you mean '%s'?",
                 rc->key, what, q, best);
    else
        sink_add(&p->err, line,
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
    if (key_ok(s, "drill") && drill_parse(s->v.role.drill, &lv, &d))
        return d;
    int fp = first_personal(sitrep, &lv);
    return fp ? fp - 1 : SR_DRILL_ANY;
}

static void check_role(struct parser *p, const struct sect *s, const struct sect *sitrep)
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
        if (!key_ok(s, lists[i].key))
            continue;
        struct role_check rc = {p, s, lists[i].key, lists[i].kind, 0, false};
        each_listed((const char *)&s->v.role + lists[i].offset, check_role_name, &rc);
        if (lists[i].kind != K_ROLE && rc.star && rc.count > 1)
            sink_add(&p->err, key_line(s, lists[i].key),
                     "%s: * stands alone, expected * or a list of names", lists[i].key);
        if (lists[i].kind == K_ROLE && rc.star)
            sink_add(&p->err, key_line(s, lists[i].key),
                     "%s: * is not a Unix name, expected names separated by commas", lists[i].key);
    }
    struct names lv;
    levels_of(sitrep, &lv);
    int d;
    if (key_ok(s, "drill") && !drill_parse(s->v.role.drill, &lv, &d)) {
        char q[4 * QUOTE_MAX + 16];
        quote(s->v.role.drill, q, sizeof q);
        if (lv.n)
            sink_add(&p->err, key_line(s, "drill"),
                     "drill: '%s' is not a level, expected one of %s, a number or *", q,
                     sitrep->v.sitrep.levels);
        else
            sink_add(&p->err, key_line(s, "drill"),
                     "drill: '%s' is not a level, expected a number (1 = top level) or * "
                     "([sitrep] levels names none)",
                     q);
        return;
    }
    int fp = first_personal(sitrep, &lv);
    if (fp && key_ok(s, "drill") && d >= fp && strcmp(s->v.role.personal, "yes") != 0)
        sink_add(&p->err, key_line(s, "drill"),
                 "drill: '%s' reaches the personal level '%s' but personal = no, expected a "
                 "level above it or personal = yes",
                 s->v.role.drill, lv.v[fp - 1]);
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
        apply_defaults(&kinds[K_ROLE], &d);
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
        each_listed(v->pages, add_index, &b);
    r->n_pages = b.n;
    for (size_t i = 0; i < cfg->n_panels; i++)
        names[i] = cfg->panels[i].name;
    b = (struct index_build){names, cfg->n_panels, r->panels, 0};
    if (r->all_panels)
        for (size_t i = 0; i < cfg->n_panels; i++)
            r->panels[b.n++] = i;
    else
        each_listed(v->panels, add_index, &b);
    r->n_panels = b.n;
    free(names);
    return 0;
}

/* The roles of cfg in file order, then "default" when the file has none. */
static int build_roles(struct parser *p, const struct sect *sitrep, sr_config *cfg)
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

static void check_refs(struct parser *p, const struct sect *sitrep)
{
    bool retention_ok = !sitrep || !seen_find(sitrep, "retention") || key_ok(sitrep, "retention");
    sr_ms retention = sitrep ? sitrep->v.sitrep.retention_ms : 0;
    if (!sitrep) {
        struct sitrep_vals d = {0};
        apply_defaults(&kinds[K_SITREP], &d);
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
            check_role(p, s, sitrep);
        else if (s->kind->id == K_WALL && key_ok(s, "pages")) {
            struct role_check rc = {p, s, "pages", K_PAGE, 0, false};
            each_listed(s->v.wall.pages, check_role_name, &rc);
            if (rc.star && rc.count > 1)
                sink_add(&p->err, key_line(s, "pages"),
                         "pages: * stands alone, expected * or a list of names");
        }
    }
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
        each_listed(s->v.page.panels, add_listed, &b);
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

static bool count_listed(void *ctx, const char *name)
{
    (void)name;
    ++*(size_t *)ctx;
    return true;
}

/* [wall] (or its defaults) into cfg; the section has been checked. */
static int build_wall(sr_config *cfg, const struct sect *s)
{
    struct wall_vals d = {0};
    const struct wall_vals *v = &d;
    if (s)
        v = &s->v.wall;
    else
        apply_defaults(&kinds[K_WALL], &d);
    char why[512];
    cfg->wall_rotate_ms = v->rotate_ms;
    snprintf(cfg->wall_exit_text, sizeof cfg->wall_exit_text, "%s", v->exit);
    sr_cfg_key_chord(v->exit, cfg->wall_exit, &cfg->n_wall_exit, why, sizeof why);
    size_t listed = 0; /* a name may be listed twice: room for every one */
    each_listed(v->pages, count_listed, &listed);
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
        each_listed(v->pages, add_index, &b);
    cfg->n_wall_pages = b.n;
    free(names);
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
    if (build_pages(p, cfg) || build_roles(p, sitrep, cfg))
        return SR_ENOMEM;

    struct sitrep_vals d = {0};
    const struct sitrep_vals *v = &d;
    if (sitrep)
        v = &sitrep->v.sitrep;
    else
        apply_defaults(&kinds[K_SITREP], &d);
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
    struct names lv;
    levels_of(sitrep, &lv);
    for (size_t i = 0; i < lv.n && i < SR_CFG_MAX_LEVELS; i++)
        snprintf(cfg->levels[cfg->n_levels++], sizeof cfg->levels[0], "%.*s",
                 (int)sizeof cfg->levels[0] - 1, lv.v[i]);
    struct names ps;
    ps.n = 0;
    if (sitrep)
        each_listed(sitrep->v.sitrep.personal, names_add, &ps);
    for (size_t i = 0; i < ps.n && i < SR_CFG_MAX_LEVELS; i++)
        cfg->personal[level_index(&lv, ps.v[i])] = true;

    struct alert_vals ad = {0};
    const struct alert_vals *av = &ad;
    if (alert)
        av = &alert->v.alert;
    else
        apply_defaults(&kinds[K_ALERT], &ad);
    cfg->alert_for_ms = av->for_ms;
    cfg->alert_hysteresis = av->hysteresis / 100;
    snprintf(cfg->alert_command, sizeof cfg->alert_command, "%s", av->command);
    if (build_wall(cfg, wall))
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

/* Parses text (len bytes; stops early at a NUL). errs is set up by the caller. */
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

    int rc = ini_parse_stream(read_line, &p, on_pair, &p);
    if (rc == -2) {
        p.err.oom = true;
    } else if (rc > 0) {
        /* inih's first malformed line should be one we reported already */
        bool known = !errs && p.err.count > 0;
        for (size_t i = 0; errs && i < errs->n && !known; i++)
            known = errs->v[i].line == rc;
        if (!known)
            sink_add(&p.err, rc, "syntax error, expected key = value or [section]");
    }

    const struct sect *sitrep = NULL;
    for (size_t i = 0; i < p.n_sects; i++) {
        finish_section(&p, p.sects[i]);
        if (p.sects[i]->kind->id == K_SITREP && !p.sects[i]->duplicate && !sitrep)
            sitrep = p.sects[i];
    }
    /* duplicates leave the list now: only the first of each section counts */
    size_t kept = 0;
    for (size_t i = 0; i < p.n_sects; i++) {
        if (p.sects[i]->duplicate)
            sect_free(p.sects[i]);
        else
            p.sects[kept++] = p.sects[i];
    }
    p.n_sects = kept;
    check_refs(&p, sitrep);

    rc = 0;
    if (p.err.oom)
        rc = SR_ENOMEM;
    else if (p.err.count)
        rc = SR_EINVAL;
    else
        rc = build(&p, sitrep, cfg);

    for (size_t i = 0; i < p.n_sects; i++)
        sect_free(p.sects[i]);
    free(p.sects);
    free(p.line);

    if (errs) {
        errors_sort(errs);
        if (p.err.dropped) {
            size_t dropped = p.err.dropped;
            p.err.dropped = 0;
            errs->n--; /* make room: the last kept error gives way to the count */
            free(errs->v[errs->n].file);
            free(errs->v[errs->n].msg);
            sink_add(&p.err, 0, "%zu more errors not shown", dropped + 1);
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
        sink_add(&k, 0, "cannot open: %s", strerror(e));
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
        sink_add(&k, 0, "cannot read: %s", strerror(read_err));
        return SR_EIO;
    }
    text[len] = '\0';
    int rc;
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        /* text, not binary: parse what comes before the NUL, and say where it is */
        size_t before = (size_t)(nul - text);
        rc = parse(path, text, before, out, errs);
        int line = 1;
        for (size_t i = 0; i < before; i++)
            line += text[i] == '\n';
        sr_config_destroy(out ? *out : NULL);
        if (out)
            *out = NULL;
        sink_add(&k, line, "a NUL byte, expected text (is this a config file?)");
        if (errs)
            errors_sort(errs);
        rc = rc == SR_ENOMEM ? rc : SR_EINVAL;
    } else {
        rc = parse(path, text, len, out, errs);
    }
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
        kv_free(cfg->maps[i].v, cfg->maps[i].n);
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
    sink_add(&k, line, "%s", msg);
    if (k.oom)
        return SR_ENOMEM;
    errors_sort(errs);
    return 0;
}

int sr_cfg_check_adapter(const sr_config *cfg, const sr_cfg_adapter *a, const sr_adapter *type,
                         sr_cfg_errors *errs)
{
    struct errsink k = {.errs = errs, .file = cfg->path};
    check_adapter_keys(&k, a, type);
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
