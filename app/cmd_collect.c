/*
 * cmd_collect.c - `sitrep collect`
 */
#include "cmd.h"

/* ---- collect ---- */

const opt_spec collect_opts[] = {
    {"--config", "FILE",
     "the configuration (default ./config.ini, then $XDG_CONFIG_HOME/sitrep/config.ini, "
     "then " SR_SYSTEM_CONFIG "); SIGHUP reloads it"},
    {"--once", NULL,
     "read every source once (a backfill to its end) and exit; exit status 1 when a "
     "source failed"},
    {"--log", "FILE",
     "append the log to FILE, one line per event with its time (errors also on "
     "stderr); SIGHUP reopens it. Default: stdout and stderr"},
    {NULL, NULL, NULL},
};

/* Opens cfg's collector lock; exits 1 when it cannot be created. */
sr_lock *open_lock(const sr_config *cfg)
{
    sr_lock *l;
    char err[512];
    if (sr_share_dir(cfg->cache, cfg->cache_group, err, sizeof err) != 0) {
        fprintf(stderr, "sitrep: %s\n", err);
        exit(SR_EXIT_FAIL);
    }
    int rc = sr_lock_create(cfg->cache, &l, err, sizeof err);
    if (rc) {
        char path[4200], why[300];
        snprintf(path, sizeof path, "%s.lock", cfg->cache);
        if (rc != SR_EPERM && sr_share_explain(path, cfg->cache_group, why, sizeof why) == 0)
            fprintf(stderr, "sitrep: cannot open the lock file %s: %s\n", path, why);
        else
            fprintf(stderr, "sitrep: the lock file: %s\n", err);
        exit(SR_EXIT_FAIL);
    }
    return l;
}

/* Takes cfg's collector lock for the life of the process; exits 1, naming
 * the holder, when another process collects into the same cache. */
static sr_lock *collector_lock(const sr_config *cfg)
{
    sr_lock *l = open_lock(cfg);
    long pid;
    int rc = sr_lock_try(l, &pid);
    if (rc == 0)
        return l;
    if (rc == SR_EBUSY && pid)
        fprintf(stderr, "sitrep: another sitrep (pid %ld) is already collecting into %s\n", pid,
                cfg->cache);
    else if (rc == SR_EBUSY)
        fprintf(stderr, "sitrep: another sitrep is already collecting into %s\n", cfg->cache);
    else
        fprintf(stderr, "sitrep: cannot lock %s: %s\n", sr_lock_path(l), sr_strerror(rc));
    exit(SR_EXIT_FAIL);
}

int cmd_collect(int argc, char **argv)
{
    const command *self = find_command("collect");
    parsed p;
    parse_opts(self, argc, argv, &p, 0);
    refuse_elevated("collect");
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_plugins *pl = load_adapters(cfg);
    sr_store *st = open_cache(cfg, 0);
    sr_lock *lock = collector_lock(cfg); /* exits when another sitrep collects */
    sr_collect_opts o = {.log_path = opt(self, &p, "--log"),
                         .once = opt(self, &p, "--once") != NULL};
    int failed = 0;
    int rc = sr_collect_run(cfg, pl, st, &o, &failed); /* consumes cfg and pl */
    sr_store_close(st);
    sr_lock_destroy(lock);
    return rc || failed ? SR_EXIT_FAIL : SR_EXIT_OK;
}
