/*
 * dashboard.h - `sitrep` itself: the screen with the collector in the same
 * process; and the screen's layout built from the config (also used by
 * `sitrep snapshot --format text`).
 */
#ifndef SR_DASHBOARD_H
#define SR_DASHBOARD_H

#include <stdbool.h>
#include <stddef.h>

#include "../metrics/store.h"
#include "../tui/screen.h"
#include "config.h"
#include "lock.h"
#include "plugin.h"
#include "roles.h"

typedef struct sr_layout_data sr_layout_data;

/* The screen's view of cfg (borrowing cfg's strings; cfg must outlive it).
 * Caller owns *out; free with sr_layout_destroy(). */
int sr_layout_build(const sr_config *cfg, sr_layout_data **out);
/* The same, with only the pages and panels role may see (role borrowed from
 * cfg; NULL: everything). A page left without panels stays, empty; when
 * the role may see no page, the layout has one empty page. */
int sr_layout_build_role(const sr_config *cfg, const sr_cfg_role *role, sr_layout_data **out);
const sr_tui_layout *sr_layout_get(const sr_layout_data *d);
/* Audits the views of personal data the layout's screen shows through fn
 * (called with ctx, which must outlive the layout); NULL: none. */
void sr_layout_set_audit(sr_layout_data *d, sr_tui_audit_fn fn, void *ctx);

/*
 * Audit rows for a command whose cache handle is read-only (snapshot,
 * query): sr_audit_sink_hook (an sr_tui_audit_fn with the sink as ctx)
 * opens the cache for writing on the first row and writes every row
 * through sr_audit_write(). Zero-initialise, set cfg, id and role.
 */
typedef struct {
    const sr_config *cfg;  /* borrowed */
    const sr_identity *id; /* borrowed */
    const char *role;      /* borrowed */
    sr_store *rw;          /* opened on the first row; closed by sr_audit_sink_fini() */
    int rc;                /* the first failure, 0 when none */
    char err[600];         /* its message */
    int rows;              /* rows written */
} sr_audit_sink;
void sr_audit_sink_hook(void *ctx, const char *action, const char *detail);
void sr_audit_sink_fini(sr_audit_sink *a);
void sr_layout_destroy(sr_layout_data *d);

/* Sets the locale from the environment, but for numbers (always read and
 * written the C way); true when it is UTF-8. */
bool sr_locale_utf8(void);

typedef struct {
    bool no_color;              /* NO_COLOR */
    const sr_theme *theme;      /* NULL: the built-in colours */
    sr_ms at_ms;                /* the window ends here at start (--at); 0 = now, live */
    bool at_latest;             /* --at latest: at the newest sample, once there is one */
    const sr_plugins *adapters; /* the type of every source (borrowed) */
    sr_lock *lock;              /* the cache's collector lock, not yet taken (borrowed) */
    bool viewer_only;           /* never collects, even with the lock free (app/trust.h) */
    bool wall;                  /* wall mode: input locked but for [wall] exit, pages rotating
                                   every [wall] rotate, held on a page with an active CRIT alert */
} sr_dashboard_opts;

/*
 * Loads the theme name_or_path from (in order) the config's directory's
 * themes/, the themes/ beside the executable, /usr/local/share/sitrep/themes
 * and /usr/share/sitrep/themes. Same contract as sr_screen_theme_load().
 * A theme is a file the user names: it is read as the real user
 * (sr_trust_as_user()), so that its error messages, which quote its
 * lines, show nothing the user could not read.
 */
int sr_dashboard_theme(const sr_config *cfg, const char *name_or_path, sr_theme **out, char *err,
                       size_t errlen);

/*
 * Runs the dashboard until the user quits (q; in wall mode the [wall] exit
 * chord) or SIGINT/SIGTERM/SIGHUP and shows
 * cfg's pages. When it gets o->lock it is the collector and polls the
 * configured sources into st; otherwise it is a viewer that only reads st,
 * tries the lock again on every refresh and becomes the collector when it
 * gets it (the collector has gone). Returns 0, or an error
 * with a message in err (no terminal, the terminal cannot be set up).
 */
int sr_dashboard_run(const sr_config *cfg, sr_store *st, const sr_dashboard_opts *o, char *err,
                     size_t errlen);

#endif
