/*
 * cmd_check.c - `sitrep check-config` and `sitrep check-cache`
 */
#include "cmd.h"

/* ---- check-config ---- */

const opt_spec check_opts[] = {
    {"--config", "FILE", "the configuration to check"},
    {NULL, NULL, NULL},
};

int cmd_check_config(int argc, char **argv)
{
    const command *self = find_command("check-config");
    parsed p;
    parse_opts(self, argc, argv, &p, 1);
    const char *arg = opt(self, &p, "--config");
    if (!arg && p.npos == 1)
        arg = p.pos[0];
    sr_config *cfg = load_config(arg); /* exits 2 with every error */
    sr_plugins *pl = load_adapters(cfg);
    /* every check a source makes of its options when the collector opens
     * it, without a poll; not with the group's rights (app/trust.c): nothing
     * an adapter reads (a secret's file) is opened then */
    sr_cfg_errors errs = {0};
    int rc = 0;
    for (size_t i = 0; i < cfg->n_adapters && !sr_trust_elevated(); i++) {
        char warn[1024] = "";
        int r = sr_cfg_open_adapter(cfg, &cfg->adapters[i], sr_plugins_adapter(pl, i), &errs, warn,
                                    sizeof warn);
        if (warn[0]) { /* a warning is said and passes (exit 0) */
            char *safe = xclean(warn);
            printf("%s:%d: [adapter.%s] warning: %s\n", cfg->path, cfg->adapters[i].line,
                   cfg->adapters[i].name, safe);
            free(safe);
        }
        rc = rc ? rc : r;
    }
    if (rc) {
        sr_plugins_destroy(pl);
        report_config(&errs, cfg->path, rc);
        sr_config_destroy(cfg);
        return SR_EXIT_USAGE;
    }
    printf("%s: ok: %zu metric%s, %zu adapter%s, %zu panel%s; cache %s\n", cfg->path,
           cfg->metrics.n, cfg->metrics.n == 1 ? "" : "s", cfg->n_adapters,
           cfg->n_adapters == 1 ? "" : "s", cfg->n_panels, cfg->n_panels == 1 ? "" : "s",
           cfg->cache);
    for (size_t i = 0; i < cfg->n_adapters; i++) {
        const sr_cfg_adapter *a = &cfg->adapters[i];
        const sr_adapter *ad = sr_plugins_adapter(pl, i);
        if (strcmp(a->type, SR_PLUGIN_TYPE) != 0)
            continue;
        /* what the plugin says of itself is text from outside: made safe */
        char type[SR_NAME_MAX], what[512];
        sr_text_clean(ad->type, type, sizeof type);
        sr_text_clean(ad->description, what, sizeof what);
        printf("%s:%d: [adapter.%s] plugin '%s' (adapter ABI %u): %s\n", cfg->path, a->line,
               a->name, type, (unsigned)ad->abi_version, what);
    }
    sr_plugins_destroy(pl);
    sr_config_destroy(cfg);
    return SR_EXIT_OK;
}

/* ---- check-cache ---- */

const opt_spec check_cache_opts[] = {
    {"--config", "FILE", "the configuration"},
    {NULL, NULL, NULL},
};

static void print_finding(void *ctx, const char *finding)
{
    (void)ctx;
    printf("  %s\n", finding);
}

/* Findings shown at most: past them the file is damaged all the same. */
#define CHECK_CACHE_MAX 100

int cmd_check_cache(int argc, char **argv)
{
    const command *self = find_command("check-cache");
    parsed p;
    parse_opts(self, argc, argv, &p, 0);
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_store *st = NULL;
    char err[600];
    int found = 0, rc = access(cfg->cache, F_OK) == 0 || errno != ENOENT
                            ? sr_store_open(cfg->cache, SR_STORE_READONLY, &st, err, sizeof err)
                            : SR_ENOENT;
    if (rc == SR_ENOENT)
        fprintf(stderr, "sitrep check-cache: there is no cache %s yet\n", cfg->cache);
    else if (rc == SR_ECORRUPT)
        printf("%s: damaged: it cannot be opened (%s)\n", cfg->cache, err);
    else if (rc)
        fprintf(stderr, "sitrep check-cache: cannot open the cache %s\n", err);
    else if ((rc = sr_store_check(st, CHECK_CACHE_MAX, print_finding, NULL, &found)))
        fprintf(stderr, "sitrep check-cache: %s: the check could not run: %s\n", cfg->cache,
                sr_store_errmsg(st));
    else if (found)
        printf("%s: damaged: quick_check found %s%d problem%s (above)\n", cfg->cache,
               found >= CHECK_CACHE_MAX ? "at least " : "", found, found == 1 ? "" : "s");
    else if (sr_store_checksummed(st))
        printf("%s: ok (quick_check found no problem, and every page it read matched its "
               "checksum)\n",
               cfg->cache);
    else
        printf("%s: ok (quick_check found no problem)\nit has no page checksums (an earlier "
               "sitrep made it): damage that SQLite cannot see would go unnoticed. To add them, "
               "rebuild it: " CACHE_DAMAGED_HELP "\n",
               cfg->cache);
    if (found || rc == SR_ECORRUPT)
        printf("to recover: " CACHE_DAMAGED_HELP "\n");
    sr_store_close(st);
    sr_config_destroy(cfg);
    return rc || found ? SR_EXIT_FAIL : SR_EXIT_OK;
}
