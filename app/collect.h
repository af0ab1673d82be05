/*
 * collect.h - `sitrep collect`: the headless collector of a config's
 * sources, with its log, its signals (SIGINT/SIGTERM stop, SIGHUP reloads
 * the config and reopens the log) and the cache's retention.
 */
#ifndef SR_COLLECT_H
#define SR_COLLECT_H

#include "../metrics/store.h"
#include "config.h"
#include "plugin.h"

typedef struct {
    const char *log_path; /* --log FILE (borrowed), or NULL: stdout and stderr */
    int once;             /* read every source once, then stop */
} sr_collect_opts;

/*
 * Declares every stored metric of cfg in st (a ratio is computed, never
 * stored). On failure returns the store's code with the metric's name and
 * the store's words in err.
 */
int sr_collect_define_metrics(sr_store *st, const sr_config *cfg, char *err, size_t len);

/*
 * Polls the sources of cfg into st until SIGINT or SIGTERM (with o->once,
 * until every source has been read to its end). Consumes cfg and pl (a
 * reload replaces them); st is borrowed and must be cfg's cache, its
 * metrics declared. Returns 0, or SR_EIO when the log cannot be opened
 * (said on stderr, nothing polled). *failed is set when, with once, a
 * source failed, or when the loop did not close cleanly.
 */
int sr_collect_run(sr_config *cfg, sr_plugins *pl, sr_store *st, const sr_collect_opts *o,
                   int *failed);

#endif
