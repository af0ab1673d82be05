/*
 * cmd_audit.c - `sitrep whoami` and `sitrep audit`
 */
#include "cmd.h"

/* ---- whoami, audit ---- */

const opt_spec whoami_opts[] = {
    {"--config", "FILE", "the configuration (its [role.*] sections)"},
    {NULL, NULL, NULL},
};

/* Prints "every NOUN" or the names of the listed items, comma-separated. */
static void print_names(const char *label, bool all, const size_t *idx, size_t n,
                        const char *(*name)(const sr_config *, size_t), const sr_config *cfg,
                        const char *noun)
{
    printf("%-12s ", label);
    if (all)
        printf("every %s", noun);
    else if (n == 0)
        printf("none");
    for (size_t i = 0; !all && i < n; i++)
        printf("%s%s", i ? ", " : "", name(cfg, idx[i]));
    printf("\n");
}

static const char *page_name(const sr_config *cfg, size_t i)
{
    return cfg->pages[i].name;
}

static const char *panel_name(const sr_config *cfg, size_t i)
{
    return cfg->panels[i].name;
}

int cmd_whoami(int argc, char **argv)
{
    const command *self = find_command("whoami");
    parsed p;
    parse_opts(self, argc, argv, &p, 0);
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_identity id;
    sr_identity_init(&id);
    char why[128], drill[96];
    const sr_cfg_role *r = sr_role_match(cfg, &id, why, sizeof why);
    printf("%-12s %s%s\n", "user", id.user,
           id.override ? " (SITREP_TEST_USER: for tests only)" : "");
    printf("%-12s ", "groups");
    for (size_t i = 0; i < id.n_groups; i++)
        printf("%s%s", i ? ", " : "", id.groups[i]);
    printf("%s\n", id.n_groups ? "" : "none");
    if (r->line)
        printf("%-12s %s (%s; %s:%d)\n", "role", r->name, why, cfg->path, r->line);
    else
        printf("%-12s %s (%s; built in)\n", "role", r->name, why);
    print_names("pages", r->all_pages, r->pages, r->n_pages, page_name, cfg, "page");
    print_names("panels", r->all_panels, r->panels, r->n_panels, panel_name, cfg, "panel");
    sr_role_drill_text(cfg, r->drill, drill, sizeof drill);
    printf("%-12s %s\n", "drill", drill);
    printf("%-12s %s\n", "acknowledge", r->acknowledge ? "yes" : "no");
    printf("%-12s %s\n", "personal", r->personal ? "yes" : "no");
    printf("%-12s %s\n", "wall", r->wall ? "yes (the dashboard starts in wall mode)" : "no");
    printf("%-12s %s\n", "audit",
           r->audit ? "yes (may read the audit table: sitrep audit)"
                    : "no (sitrep audit is refused)");
    if (!r->personal) {
        char g[32];
        sr_format_duration(cfg->cell_grid_ms, g, sizeof g);
        printf("%-12s figures of people from fewer than %d observations show as <%d\n",
               "small cells", cfg->min_cell, cfg->min_cell);
        printf("%-12s figures of people over whole %s slices, each of %d observations or none\n",
               "grid", g, cfg->min_cell);
    }
    printf("%-12s no percentile over fewer than %d observations\n", "percentiles",
           SR_PRIV_MIN_PCT_N);
    if (sr_trust_elevated())
        printf("%-12s the group %s's (setgid): only %s, no --config, a viewer only\n", "rights",
               sr_trust_group(), SR_SYSTEM_CONFIG);
    else
        printf("%-12s your own\n", "rights");
    printf("%-12s %s\n", "terminal", id.tty[0] ? id.tty : "none");
    printf("%-12s %s\n", "ssh", id.ssh[0] ? id.ssh : "none");
    sr_config_destroy(cfg);
    return SR_EXIT_OK;
}

const opt_spec audit_opts[] = {
    {"--config", "FILE", "the configuration (where the cache is)"},
    {"--since", "TIME",
     "only records from TIME on: ISO-8601, epoch seconds, or a duration ago (7d)"},
    {"--format", "FMT", "text (a table, the default) or json"},
    {NULL, NULL, NULL},
};

enum { AUDIT_COLS = 7 };

struct audit_out {
    json_t *arr; /* NULL: text */
    /* text: the rows made safe, printed once every column's width is known */
    char (*rows)[AUDIT_COLS][512];
    size_t n;
};

static int print_audit(void *ctx, const sr_audit_row *r)
{
    struct audit_out *o = ctx;
    char t[40], user[160], tty[64], ssh[128], action[64], detail[512], role[SR_NAME_MAX];
    sr_format_time_utc(r->at_ms, t, sizeof t);
    if (o->arr) {
        json_t *j = json_object();
        json_object_set_new(j, "id", json_integer(r->id));
        json_object_set_new(j, "at", json_string(t));
        json_object_set_new(j, "user", json_string(r->user));
        json_object_set_new(j, "role", json_string(r->role));
        json_object_set_new(j, "tty", json_string(r->tty));
        json_object_set_new(j, "ssh", json_string(r->ssh));
        json_object_set_new(j, "action", json_string(r->action));
        json_object_set_new(j, "detail", json_string(r->detail));
        json_array_append_new(o->arr, j);
        return 0;
    }
    /* what the table holds came from other processes: made safe */
    sr_text_clean(r->user, user, sizeof user);
    sr_text_clean(r->role, role, sizeof role);
    sr_text_clean(r->tty[0] ? r->tty : "-", tty, sizeof tty);
    sr_text_clean(r->ssh[0] ? r->ssh : "-", ssh, sizeof ssh);
    sr_text_clean(r->action, action, sizeof action);
    sr_text_clean(r->detail, detail, sizeof detail);
    o->rows = xrealloc(o->rows, (o->n + 1) * sizeof *o->rows);
    const char *cells[AUDIT_COLS] = {t, user, role, tty, ssh, action, detail};
    for (int c = 0; c < AUDIT_COLS; c++)
        snprintf(o->rows[o->n][c], sizeof o->rows[o->n][c], "%s", cells[c]);
    snprintf(o->rows[o->n][0], sizeof o->rows[o->n][0], "%.19sZ", t);
    o->n++;
    return 0;
}

/* The audit table: each column as wide as its longest value, the detail last. */
static void audit_table(const struct audit_out *o)
{
    static const char *const head[AUDIT_COLS] = {"AT (UTC)", "USER",   "ROLE",  "TTY",
                                                 "SSH",      "ACTION", "DETAIL"};
    int w[AUDIT_COLS];
    for (int c = 0; c < AUDIT_COLS; c++) {
        w[c] = sr_text_width(head[c]);
        for (size_t i = 0; i < o->n; i++)
            if (sr_text_width(o->rows[i][c]) > w[c])
                w[c] = sr_text_width(o->rows[i][c]);
    }
    for (size_t i = 0; i <= o->n; i++) {
        for (int c = 0; c < AUDIT_COLS; c++) {
            const char *s = i ? o->rows[i - 1][c] : head[c];
            if (c == AUDIT_COLS - 1)
                printf("%s\n", s);
            else
                printf("%s%*s", s, w[c] - sr_text_width(s) + 2, "");
        }
    }
}

int cmd_audit(int argc, char **argv)
{
    const command *self = find_command("audit");
    parsed p;
    parse_opts(self, argc, argv, &p, 0);
    static const char *const formats[] = {"text", "json", NULL};
    const char *fmt = format_opt(self, &p, formats);
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_identity id;
    sr_identity_init(&id);
    const sr_cfg_role *role = sr_role_match(cfg, &id, NULL, 0);
    if (!role->audit) {
        fprintf(stderr,
                "sitrep audit: refused: the role %s may not read the audit table (audit = no); "
                "a role with audit = yes may\n",
                role->name);
        sr_config_destroy(cfg);
        return SR_EXIT_FAIL;
    }
    sr_ms since = 0, ago;
    const char *s = opt(self, &p, "--since");
    if (s && sr_parse_duration(s, &ago) == 0) {
        since = sr_now_ms() - ago;
    } else if (s && sr_parse_time(s, cfg->timezone, &since)) {
        usage_error(self,
                    "--since: expected ISO-8601, epoch seconds or a duration such as 7d, "
                    "got '%s'",
                    s);
        sr_config_destroy(cfg);
        return SR_EXIT_USAGE;
    }
    sr_store *st = open_cache(cfg, SR_STORE_READONLY);
    struct audit_out o = {strcmp(fmt, "json") == 0 ? json_array() : NULL, NULL, 0};
    int rc = sr_store_audit_list(st, since, print_audit, &o);
    if (!o.arr && !rc)
        audit_table(&o);
    free(o.rows);
    if (o.arr) {
        sr_json_write(o.arr, JSON_INDENT(2), stdout);
        json_decref(o.arr);
    }
    if (rc)
        cache_failed("audit", cfg, st, rc);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return rc ? SR_EXIT_FAIL : SR_EXIT_OK;
}
