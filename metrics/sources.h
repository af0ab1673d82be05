/*
 * sources.h - the sources as a viewer shows them: each configured source
 * with the health the collector last wrote to the cache, and its state by
 * one rule for every view (the status bar, panel staleness, the dashboard's
 * sources view, `sitrep sources`).
 *
 * The rule, on a health row and the time now:
 *   failing  the last poll failed (last_error is set);
 *   late     no success for longer than 3 x interval + timeout (the
 *            interval and timeout the collector ran the source with), or
 *            no health row at all (never polled);
 *   live     otherwise; also a row without a known interval (written before
 *            schema 4), which cannot be judged late.
 */
#ifndef SR_SOURCES_H
#define SR_SOURCES_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"
#include "store.h"

typedef enum { SR_SOURCE_LIVE, SR_SOURCE_LATE, SR_SOURCE_FAILING } sr_source_state;

/* "live", "late", "failing". */
const char *sr_source_state_name(sr_source_state s);

/* How long after its last success a source counts as late: 3 x interval +
 * timeout; 0 when the row does not know its interval. */
sr_ms sr_source_late_after(const sr_source_health *h);

/* The state of a source with health row h (NULL: never polled) at now. */
sr_source_state sr_source_state_of(const sr_source_health *h, sr_ms now);

/* A source as configured (strings borrowed). */
typedef struct {
    const char *name; /* NAME of [adapter.NAME] */
    const char *type; /* its `type =` */
} sr_source_conf;

/* One source in a list. */
typedef struct {
    sr_source_health h; /* from the cache; when !polled only name and type are set */
    sr_source_state state;
    bool polled;     /* the cache has a health row for it */
    bool configured; /* it is one of the configured sources */
} sr_source_info;

typedef struct {
    sr_source_info *v; /* the configured sources in config order, then the
                          cache's other rows by name; owned by the list */
    size_t n;
    size_t n_configured; /* the first n_configured of v */
    size_t live;         /* configured sources that are live */
} sr_source_list;

/*
 * Reads the health of every source from st and computes states at now.
 * conf lists the configured sources (n_conf may be 0). out is overwritten;
 * the caller frees it with sr_source_list_fini(). Returns 0, SR_ENOMEM or
 * the store's error (out is then empty).
 */
int sr_sources_read(sr_store *st, const sr_source_conf *conf, size_t n_conf, sr_ms now,
                    sr_source_list *out);
void sr_source_list_fini(sr_source_list *l);

/* The states of l's sources again at now, from the health rows it holds
 * (no read): a source turns late as time passes without a new row. */
void sr_source_list_restate(sr_source_list *l, sr_ms now);

/* The start of a source's last_error when its poll's rows could not be
 * stored because the cache is damaged (SR_ECORRUPT): the collector writes
 * it (app/collector.c), the views look for it (sr_sources_cache_damaged). */
#define SR_SOURCE_CACHE_DAMAGED "the cache is damaged"

/* Whether a configured source of l last failed because the cache is damaged. */
bool sr_sources_cache_damaged(const sr_source_list *l);

/* What the status bar says when the cache is damaged (damaged: a source
 * said so, or a panel's read met SR_ECORRUPT): a short text with what to
 * run; "" when it is not. */
const char *sr_cache_damaged_note(bool damaged);

/* An age in its largest whole unit: "12s", "5m", "3h", "2d" (0s when d < 0). */
void sr_format_age(sr_ms d, char *buf, size_t len);

/* "12s ago", "5m ago", "3h ago", "2d ago"; "never" when t <= 0. */
void sr_format_ago(sr_ms now, sr_ms t, char *buf, size_t len);

/* When h's next poll comes: "in 4s"; "due" up to its timeout (and a
 * second) past it, while the poll may be running; "overdue 3m" after that
 * (the collector is stuck or gone); "-" when none is scheduled (h NULL, or
 * the collector stopped). */
void sr_format_next(sr_ms now, const sr_source_health *h, char *buf, size_t len);

#endif
