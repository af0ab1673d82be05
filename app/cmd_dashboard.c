/*
 * cmd_dashboard.c - plain `sitrep`: the dashboard
 */
#include "cmd.h"

/* ---- the dashboard ---- */

const opt_spec dashboard_opts[] = {
    {"--config", "FILE", "the configuration"},
    {"--theme", "NAME", "colour theme (overrides [sitrep] theme)"},
    {"--at", "TIME",
     "start with the windows ending at TIME (ISO-8601, epoch seconds, or 'latest': the newest "
     "sample), e.g. to look at an old export; 0 goes live"},
    {"--wall", NULL,
     "wall mode, for an unattended screen: no cursor, every key ignored but the [wall] exit "
     "chord (default ctrl-x q; or a signal), the high-contrast theme unless [sitrep] theme or "
     "--theme names another, large numerals, pages rotating every [wall] rotate and held on a "
     "page with an active CRIT alert (also for a role with wall = yes)"},
    {NULL, NULL, NULL},
};

/*
 * The dashboard's screen handle: read-only in every role (its writes go
 * through a handle of its own, see dashboard.c). When this process gets the
 * collector lock it first creates or migrates the cache with a writable
 * handle, as `sitrep collect` does; a viewer that finds the cache being
 * created waits for it (open_cache). Exits 1 on failure.
 */
static sr_store *open_screen_cache(const sr_config *cfg, sr_lock *lock)
{
    if (!lock) /* with the group's rights: a viewer, never the collector */
        return open_cache(cfg, SR_STORE_READONLY);
    if (sr_lock_try(lock, NULL) == 0)
        sr_store_close(open_cache(cfg, 0));
    return open_cache(cfg, SR_STORE_READONLY);
}

/* The SQLite memory of all the dashboard's connections together (the
 * screen's, the writer's, the pool's); past it, each page cache reuses its
 * own pages. Pages read again from the OS's cache cost no measurable
 * compute time; make bench prints the peak RSS. 1.5 MiB: with the memo and
 * the stamps kept in memory a render reads few pages, and at 3 MiB the
 * caches were still filling at the end of the wall's 30-day soak (+1.6 MiB
 * of its growth; measured, 2026-12). */
#define DASHBOARD_SQLITE_BYTES (3 << 19)

int cmd_dashboard(int argc, char **argv)
{
    const command *self = find_command("dashboard");
    sr_xalloc_tune();
    sr_store_limit_memory(DASHBOARD_SQLITE_BYTES);
    parsed p;
    parse_opts(self, argc, argv, &p, 0);
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_plugins *pl = load_adapters(cfg);
    /* a user who may not write the cache (a read-only folder) is a viewer:
     * the collector's lock is not theirs to take */
    char why[4400];
    bool read_only =
        sr_trust_elevated() || sr_share_explain_write(cfg->cache, true, why, sizeof why) == 0;
    sr_lock *lock = read_only ? NULL : open_lock(cfg);
    sr_store *st = open_screen_cache(cfg, lock);
    sr_identity id;
    sr_identity_init(&id);
    bool wall = opt(self, &p, "--wall") || sr_role_match(cfg, &id, NULL, 0)->wall;
    const char *name = opt(self, &p, "--theme") ? opt(self, &p, "--theme") : cfg->theme;
    /* a wall is read from across the room: high-contrast unless a theme is named;
     * like "default", not asked for by name, so without its file the built-in
     * palette serves */
    bool implied = wall && !opt(self, &p, "--theme") && strcmp(cfg->theme, "default") == 0;
    if (implied)
        name = "high-contrast";
    sr_theme *theme = NULL;
    char err[2048] = "";
    /* "default" is also built in: without its file the built-in palette serves */
    if (sr_dashboard_theme(cfg, name, &theme, err, sizeof err) && strcmp(name, "default") != 0 &&
        !implied) {
        fprintf(stderr, "%s\n", err);
        sr_lock_destroy(lock);
        sr_store_close(st);
        sr_plugins_destroy(pl);
        sr_config_destroy(cfg);
        return SR_EXIT_USAGE;
    }
    err[0] = 0;
    const char *nc = getenv("NO_COLOR");
    const char *at = opt(self, &p, "--at");
    bool latest = at && strcmp(at, "latest") == 0; /* placed once the cache has a sample */
    sr_dashboard_opts o = {.no_color = nc && *nc,
                           .theme = theme,
                           .at_ms = latest ? 0 : at_opt(self, &p, cfg, st, 0),
                           .at_latest = latest,
                           .adapters = pl,
                           .lock = lock,
                           .viewer_only = read_only,
                           .wall = wall};
    int rc = sr_dashboard_run(cfg, st, &o, err, sizeof err);
    if (rc)
        fprintf(stderr, "sitrep: %s\n", err[0] ? err : sr_strerror(rc));
    sr_screen_theme_destroy(theme);
    sr_store_close(st);
    sr_lock_destroy(lock);
    sr_plugins_destroy(pl);
    sr_config_destroy(cfg);
    return rc ? SR_EXIT_FAIL : SR_EXIT_OK;
}
