/*
 * dashboard.c - `sitrep` itself: the screen and the collector in one
 * process, on one libuv loop.
 *
 * The loop thread owns curses. Keys: a uv_poll on stdin wakes the loop and
 * every pending key is read with wgetch (non-blocking) and handed to the
 * screen. SIGWINCH: a uv_signal (started before curses, so that ncurses
 * does not install its own handler) reads the new size and resizes. Data:
 * the collector's report callback marks the screen's data changed when a
 * poll stored something; a refresh timer also compares PRAGMA data_version,
 * which moves when another process (an ingest) commits. One render per
 * loop turn at most, only when something is dirty; the render ends in one
 * doupdate().
 *
 * Roles: the process that holds the cache's collector lock (lock.h) runs
 * the collector; any other is a viewer, which never polls a source and
 * learns of new data only from data_version. A viewer tries the lock on
 * every refresh tick (one non-blocking fcntl) and, once it gets it (the
 * collector has exited or died), starts the collector itself. A
 * process with its group's rights (app/trust.h, o->viewer_only) has no
 * lock and stays a viewer for its whole life.
 *
 * Store handles: the screen reads through the caller's handle, opened
 * SR_STORE_READONLY in both roles (it borrows it for its whole life), for
 * what it reads itself (sources, alerts, rejects). The panels' models are
 * computed on the libuv pool (sr_screen_set_async): at most COMPUTE_SLOTS
 * jobs at a time, each slot with a read-only handle of its own, opened on
 * the loop thread like the screen's and used by one worker at a time; the
 * jobs wait in d->waiting for a free slot. On quit the waiting jobs are
 * dropped, the queued ones cancelled, and uv_run returns only once the
 * running ones have come back, before any handle is closed. Every
 * write goes through one more handle, the writer, opened on first use by
 * dashboard_writer(): while a viewer it is an SR_STORE_VIEWER handle, which
 * may write acknowledgements, silences and audit rows and nothing else
 * (the store refuses the rest); once this process collects it is a full
 * writable handle that the collector writes through too (a viewer's writer
 * is closed and reopened at the takeover). Code in this file that writes
 * (sr_store_alert_ack, sr_store_alert_silence, sr_store_audit_add) takes
 * its handle from dashboard_writer() and never writes through d->st.
 *
 * The collector also steps the alerts on their own timer (the alerter,
 * alerting.h), through the writer; a viewer never steps them.
 *
 * Wall mode (o->wall): the screen reads keys raw and ignores all but the
 * [wall] exit chord; a wall timer (and every change of the open alerts)
 * asks tui/wall.c's pure sr_wall_step() which page to show, and hands the
 * screen the page and the status text. SIGHUP ends the dashboard like
 * SIGTERM (the terminal has gone), in every mode.
 *
 * Memory stays flat over weeks: no model outlives its next compute, and
 * after a render that followed new data (or, on a wall, a new page) the
 * heap's free pages go back to the system (malloc_trim). Without that, glibc keeps the high-water
 * mark of the queries' temporary buffers (SQLite reads pages anew after every other process's
 * commit) scattered through the heap, and the RSS of a wall fed for 30 days crept up by megabytes
 * with no byte leaked (make bench, the wall soak).
 *
 * Nothing is written to stdout or stderr while curses owns the terminal;
 * a crash signal restores the terminal before the process dies.
 */
#include "dashboard.h"

#include <langinfo.h>
#include <locale.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "../tui/screen.h"
#include "alerting.h"
#include "collect.h"
#include "../tui/wall.h"
#include "collector.h"
#include "paths.h"
#include "report.h"
#include "roles.h"
#include "share.h"
#include "trust.h"
#include "xalloc.h"

struct sr_layout_data {
    sr_tui_layout lay;
    sr_tui_panel *panels;
    sr_tui_page *pages;
    size_t *page_panels; /* each page's panels as the role sees them, n_panels + 1 apiece */
    sr_source_conf *sources;
    sr_privacy priv; /* the role's policy (lay.privacy points here with a role) */
};

/* Whether index i is in a role's list (always, for "*"). */
static bool role_allows(bool all, const size_t *v, size_t n, size_t i)
{
    for (size_t k = 0; !all && k < n; k++) {
        if (v[k] == i)
            return true;
    }
    return all;
}

int sr_layout_build(const sr_config *cfg, sr_layout_data **out)
{
    return sr_layout_build_role(cfg, NULL, out);
}

int sr_layout_build_role(const sr_config *cfg, const sr_cfg_role *role, sr_layout_data **out)
{
    sr_layout_data *d = xcalloc(1, sizeof *d);
    d->panels = xcalloc(cfg->n_panels + 1, sizeof *d->panels);
    d->pages = xcalloc(cfg->n_pages + 1, sizeof *d->pages);
    d->page_panels = xcalloc((cfg->n_pages + 1) * (cfg->n_panels + 1), sizeof *d->page_panels);
    d->sources = xcalloc(cfg->n_adapters + 1, sizeof *d->sources);
    for (size_t i = 0; i < cfg->n_adapters; i++)
        d->sources[i] = (sr_source_conf){cfg->adapters[i].name, cfg->adapters[i].type};
    for (size_t i = 0; i < cfg->n_panels; i++) {
        const sr_cfg_panel *p = &cfg->panels[i];
        d->panels[i] = (sr_tui_panel){
            .name = p->name,
            .title = p->title,
            .short_title = p->short_title,
            .widget = p->widget[0] ? p->widget : "tile",
            .spec = {.metric = p->metric,
                     .entity = p->entity,
                     .agg = p->agg,
                     .window_ms = p->window_ms,
                     .baseline = strcmp(p->baseline, "yes") == 0,
                     .per = p->per,
                     .forecast = strcmp(p->forecast, "yes") == 0,
                     .baseline_opts = {.tz = cfg->timezone,
                                       .exclude = cfg->baseline_exclude,
                                       .n_exclude = cfg->n_baseline_exclude}},
        };
    }
    size_t n_pages = 0;
    for (size_t i = 0; i < cfg->n_pages; i++) {
        const sr_cfg_page *p = &cfg->pages[i];
        if (role && !role_allows(role->all_pages, role->pages, role->n_pages, i))
            continue;
        size_t *v = d->page_panels + n_pages * (cfg->n_panels + 1), n = 0;
        for (size_t k = 0; k < p->n_panels; k++) {
            if (!role || role_allows(role->all_panels, role->panels, role->n_panels, p->panels[k]))
                v[n++] = p->panels[k];
        }
        d->pages[n_pages++] = (sr_tui_page){p->name, p->title, p->columns, v, n};
    }
    if (n_pages == 0) /* the screen needs a page: an empty one */
        d->pages[n_pages++] = (sr_tui_page){"none", "No page for this role", 1, d->page_panels, 0};
    if (role)
        sr_role_privacy(cfg, role, &d->priv);
    d->lay = (sr_tui_layout){.title = cfg->title,
                             .timezone = cfg->timezone,
                             .cat = &cfg->metrics,
                             .panels = d->panels,
                             .n_panels = cfg->n_panels,
                             .pages = d->pages,
                             .n_pages = n_pages,
                             .sources = d->sources,
                             .n_sources = cfg->n_adapters,
                             .privacy = role ? &d->priv : NULL};
    *out = d;
    return 0;
}

const sr_tui_layout *sr_layout_get(const sr_layout_data *d)
{
    return &d->lay;
}

void sr_layout_set_audit(sr_layout_data *d, sr_tui_audit_fn fn, void *ctx)
{
    d->lay.audit = fn;
    d->lay.audit_ctx = ctx;
}

/* A viewer's write that the cache refused (rc from the store): err becomes
 * what this user may not write and that `needs` needs it ("audit rows");
 * other failures keep the store's words in err. */
static void write_refused(const sr_config *cfg, int rc, const char *needs, char *err, size_t len)
{
    char why[512];
    if (rc == SR_EPERM && sr_share_explain_write(cfg->cache, false, why, sizeof why) == 0)
        snprintf(err, len, "%s; %s need it", why, needs);
}

void sr_audit_sink_hook(void *ctx, const char *action, const char *detail)
{
    sr_audit_sink *a = ctx;
    if (a->rc)
        return;
    if (!a->rw &&
        (a->rc = sr_store_open(a->cfg->cache, SR_STORE_VIEWER, &a->rw, a->err, sizeof a->err))) {
        write_refused(a->cfg, a->rc, "audit rows", a->err, sizeof a->err);
        return;
    }
    if ((a->rc = sr_audit_write(a->rw, a->id, a->role, action, detail, sr_now_ms()))) {
        snprintf(a->err, sizeof a->err, "%s", sr_store_errmsg(a->rw));
        write_refused(a->cfg, a->rc, "audit rows", a->err, sizeof a->err);
    } else {
        a->rows++;
    }
}

void sr_audit_sink_fini(sr_audit_sink *a)
{
    sr_store_close(a->rw);
    a->rw = NULL;
}

void sr_layout_destroy(sr_layout_data *d)
{
    if (!d)
        return;
    free(d->panels);
    free(d->pages);
    free(d->page_panels);
    free(d->sources);
    free(d);
}

bool sr_locale_utf8(void)
{
    /* the user's locale for characters and dates; numbers stay C, which is
     * how every source, config and export writes them (strtod in a locale
     * with a decimal comma would read "1.5" as 1) */
    setlocale(LC_ALL, "");
    setlocale(LC_NUMERIC, "C");
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

int sr_dashboard_theme(const sr_config *cfg, const char *name_or_path, sr_theme **out, char *err,
                       size_t errlen)
{
    /* the config's folder, the source tree's (./sitrep beside ./themes),
     * then the installed ones (paths.h) */
    char cfg_dir[SR_DIR_MAX + 8], exe_dir[SR_DIR_MAX + 8] = "", data[2][SR_DIR_MAX];
    snprintf(cfg_dir, sizeof cfg_dir, "%s/themes", cfg->dir);
    char exe[SR_DIR_MAX];
    if (sr_exe_dir(exe, sizeof exe) == 0)
        snprintf(exe_dir, sizeof exe_dir, "%s/themes", exe);
    const char *dirs[5] = {cfg_dir};
    size_t nd = 1;
    if (exe_dir[0] && strcmp(exe_dir, cfg_dir) != 0)
        dirs[nd++] = exe_dir;
    size_t n_data = sr_data_dirs("themes", data);
    for (size_t i = 0; i < n_data; i++)
        dirs[nd++] = data[i];
    dirs[nd] = NULL;
    if (sr_trust_as_user() != 0) {
        snprintf(err, errlen, "cannot read a theme as the real user");
        return SR_EIO;
    }
    int rc = sr_screen_theme_load(name_or_path, dirs, out, err, errlen);
    sr_trust_as_group();
    return rc;
}

/* ---- the running dashboard ---- */

/* How many panels compute at once, each on a pool thread with a read-only
 * store handle of its own; the pool's other threads stay free for the
 * sources' polls (sr_collector_size_pool leaves four spare). One: on the
 * 18 M-sample bench cache two gave the page no sooner (3.3-3.5 s either
 * way) and cost 6 MiB more at peak (a second connection's page cache and
 * two computes' buffers at once). */
#define COMPUTE_SLOTS 1

typedef struct compute_job compute_job;

typedef struct {
    uv_loop_t *loop;
    const sr_config *cfg;
    const sr_tui_layout *lay;
    sr_store *st; /* the screen's, read-only (borrowed) */
    sr_store *w;  /* the writer: NULL until dashboard_writer() or a takeover opens it */
    sr_screen *scr;
    const sr_dashboard_opts *o;
    sr_collector *col;   /* NULL while a viewer */
    sr_alerter *alerter; /* with col: steps the alerts */
    sr_identity id;      /* who runs this dashboard (roles, audit) */
    uv_poll_t input;
    uv_signal_t winch, sigint, sigterm, sighup;
    uv_timer_t refresh, wall_timer;
    uv_idle_t idle;
    sr_wall_state wall; /* wall mode's rotation */
    size_t *wall_pages; /* the rotating pages, indices into lay->pages */
    size_t n_wall_pages;
    size_t chord_pos; /* keys of the exit chord typed so far */
    int64_t data_version;
    sr_source_list srcl; /* the sources as last read */
    bool srcl_read;
    bool trim;        /* new data was computed: give free heap pages back after the render */
    sr_ms trimmed_at; /* when it last did */
    bool at_latest;   /* --at latest: not yet placed (the cache had no sample) */
    bool quitting;
    const sr_cfg_role *role; /* borrowed from cfg */
    int handles;
    sr_store *cst[COMPUTE_SLOTS];        /* the computes' handles, opened on first use */
    compute_job *running[COMPUTE_SLOTS]; /* on the pool, by slot; NULL: free */
    compute_job *waiting;                /* for a free slot, oldest first */
    atomic_bool stopping;                /* quitting: read by the workers */
#ifdef SR_TEST_HOOKS
    const char *gate; /* SITREP_TEST_COMPUTE_GATE */
#endif
} dash;

/* The free heap's pages go back at most this often (after new data). */
#define TRIM_EVERY_MS (10 * SR_MS_SEC)

/* A screen's job on its way through the pool. */
struct compute_job {
    uv_work_t work;
    dash *d;
    sr_screen_job *job;
    int slot;
    compute_job *next; /* in d->waiting */
};

static void crash_handler(int sig)
{
    sr_screen_restore_terminal();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* The sources as the cache has them, to the screen: its sources view, the
 * status bar's count and which panels are stale (one rule: sources.h).
 * Read again when the cache changed (reread), else only judged again at
 * the time now from the rows read last: no query. */
static void update_sources(dash *d, bool reread)
{
    sr_ms now = sr_now_ms();
    if (reread || !d->srcl_read) {
        sr_source_list l;
        if (sr_sources_read(d->st, d->lay->sources, d->lay->n_sources, now, &l) != 0)
            return;
        sr_source_list_fini(&d->srcl);
        d->srcl = l;
        d->srcl_read = true;
    } else {
        sr_source_list_restate(&d->srcl, now);
    }
    sr_screen_set_source_list(d->scr, &d->srcl, d->col ? "collector" : "viewer");
}

/* Wall mode: the page to show now, and the bottom line saying why. */
static void wall_update(dash *d)
{
    sr_wall_view v;
    size_t n;
    const sr_alert *a = sr_screen_alerts(d->scr, &n); /* those the role may see */
    sr_wall_step(&d->wall, d->lay, d->wall_pages, d->n_wall_pages, a, n, d->cfg->wall_rotate_ms,
                 sr_now_ms(), &v);
    sr_screen_set_page(d->scr, v.page);
    if (v.changed)
        d->trim = true; /* the new page's panels are computed at the render */
    char text[256];
    sr_wall_status_text(&v, text, sizeof text);
    sr_screen_set_wall_text(d->scr, text);
}

/* The open alerts as the cache has them, to the screen: the status bar's
 * counts (read at start, when the collector reports and when another
 * process commits, so an acknowledgement anywhere shows everywhere). */
static void update_alerts(dash *d)
{
    sr_alert *a;
    size_t n;
    if (sr_store_alert_list(d->st, SR_ALERTS_OPEN, &a, &n) != 0)
        return;
    sr_screen_set_alerts(d->scr, a, n);
    free(a);
    if (d->o->wall)
        wall_update(d);
}

/* Renders when something is dirty: called once per loop turn (idle). */
static void on_idle(uv_idle_t *h)
{
    dash *d = h->data;
    if (d->quitting)
        return;
    sr_ms now = sr_now_ms();
    if (sr_screen_dirty(d->scr, now)) {
        /* one snapshot and one WAL read lock for all the panels' queries;
         * none when the render only redraws the clock */
        int rc = sr_screen_reads_cache(d->scr) ? sr_store_read_begin(d->st) : SR_EINVAL;
        sr_screen_render(d->scr, now);
        if (rc == 0)
            sr_store_read_end(d->st);
    }
    /* at most every TRIM_EVERY_MS: a trim walks the whole heap, and a poll
     * every few seconds would pay it each time */
    if (d->trim && now - d->trimmed_at >= TRIM_EVERY_MS) {
        d->trim = false;
        d->trimmed_at = now;
#ifdef __GLIBC__
        malloc_trim(0);
#endif
    }
    uv_idle_stop(h);
}

static void want_render(dash *d)
{
    if (!d->quitting)
        uv_idle_start(&d->idle, on_idle);
}

/* ---- panel computes on the thread pool ---- */

#ifdef SR_TEST_HOOKS
/*
 * Test builds, a plain process: with SITREP_TEST_COMPUTE_GATE=FILE, every
 * panel compute waits on its worker until FILE exists (or the dashboard
 * quits), so that a test sees what the screen does while computes are in
 * flight, whatever the machine's speed.
 */
static void test_compute_gate(dash *d)
{
    while (d->gate && !atomic_load(&d->stopping) && access(d->gate, F_OK) != 0) {
        struct timespec t = {0, 10 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
}
#endif

/* On a pool thread: the job, on its slot's handle (no other thread uses it
 * meanwhile), in one read transaction. */
static void compute_work(uv_work_t *w)
{
    compute_job *c = w->data;
    sr_store *st = c->d->cst[c->slot];
#ifdef SR_TEST_HOOKS
    test_compute_gate(c->d);
#endif
    if (atomic_load(&c->d->stopping))
        return;           /* not run: the screen drops it */
    sr_store_refresh(st); /* entities another process has added since */
    int rc = sr_store_read_begin(st);
    sr_screen_job_run(c->job, st);
    if (rc == 0)
        sr_store_read_end(st);
}

static void compute_pump(dash *d);

/* Back on the loop thread (also when cancelled: the job never ran and the
 * screen drops it). */
static void compute_after(uv_work_t *w, int status)
{
    (void)status;
    compute_job *c = w->data;
    dash *d = c->d;
    d->running[c->slot] = NULL;
    sr_screen_job_done(d->scr, c->job);
    /* the collector keeps the figures of closed slices its job computed for
     * the other processes' first pages (metrics/store.h); busy: next time */
    if (d->w && d->col && d->cst[c->slot])
        sr_store_memo_save(d->w, d->cst[c->slot]);
    free(c);
    d->trim = true; /* the worker's buffers, after the render */
    compute_pump(d);
    want_render(d);
}

/*
 * Slot i's handle, opened as the screen's was: read-only, the same path,
 * never creating a file (app/trust.h), on the loop thread (never while a
 * theme or report is read or written as the real user). NULL when it
 * cannot be opened.
 */
static sr_store *compute_store(dash *d, int i)
{
    if (!d->cst[i] && sr_store_open(d->cfg->cache, SR_STORE_READONLY, &d->cst[i], NULL, 0) != 0)
        d->cst[i] = NULL;
    return d->cst[i];
}

/* Starts waiting jobs on free slots. A job that cannot go to the pool is
 * computed here on the screen's handle, as a synchronous screen would. */
static void compute_pump(dash *d)
{
    for (int i = 0; i < COMPUTE_SLOTS && d->waiting; i++) {
        if (d->running[i])
            continue;
        compute_job *c = d->waiting;
        d->waiting = c->next;
        c->slot = i;
        c->work.data = c;
        d->running[i] = c;
        if (!compute_store(d, i) ||
            uv_queue_work(d->loop, &c->work, compute_work, compute_after) != 0) {
            d->running[i] = NULL;
            sr_screen_job_run(c->job, d->st);
            sr_screen_job_done(d->scr, c->job);
            free(c);
            i--; /* the slot is still free */
        }
    }
}

/* The screen's submit hook (loop thread): the job waits for a slot. */
static void compute_submit(void *ctx, sr_screen_job *job)
{
    dash *d = ctx;
    compute_job *c = xcalloc(1, sizeof *c);
    c->d = d;
    c->job = job;
    compute_job **tail = &d->waiting;
    while (*tail)
        tail = &(*tail)->next;
    *tail = c;
    compute_pump(d);
}

/* Shutting down: waiting jobs never start, queued ones are cancelled; the
 * loop runs until those already computing have come back. */
static void compute_cancel(dash *d)
{
    atomic_store(&d->stopping, true);
    while (d->waiting) {
        compute_job *c = d->waiting;
        d->waiting = c->next;
        sr_screen_job_done(d->scr, c->job);
        free(c);
    }
    for (int i = 0; i < COMPUTE_SLOTS; i++) {
        if (d->running[i])
            uv_cancel((uv_req_t *)&d->running[i]->work);
    }
}

static void on_closed(uv_handle_t *h)
{
    dash *d = h->data;
    d->handles--;
}

static void close_all(void *arg)
{
    dash *d = arg;
    uv_handle_t *hs[] = {(uv_handle_t *)&d->input,      (uv_handle_t *)&d->winch,
                         (uv_handle_t *)&d->sigint,     (uv_handle_t *)&d->sigterm,
                         (uv_handle_t *)&d->sighup,     (uv_handle_t *)&d->refresh,
                         (uv_handle_t *)&d->wall_timer, (uv_handle_t *)&d->idle};
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++) {
        d->handles++;
        uv_close(hs[i], on_closed);
    }
}

static void quit(dash *d)
{
    if (d->quitting)
        return;
    d->quitting = true;
    compute_cancel(d);
    uv_poll_stop(&d->input);
    uv_timer_stop(&d->refresh);
    sr_alerter_destroy(d->alerter);
    d->alerter = NULL;
    uv_timer_stop(&d->wall_timer);
    if (d->col)
        sr_collector_stop(d->col, close_all, d);
    else
        close_all(d);
}

/*
 * Writes one audit row: the screen's hook for views of personal data (the
 * screen never writes the cache). Every audit row of the dashboard goes
 * through here, so the handle it writes with changes in one place. A
 * failure is shown in the hint line: the view was shown, its record is
 * missing.
 */
static sr_store *dashboard_writer(dash *d);

static void dashboard_audit(void *ctx, const char *action, const char *detail)
{
    dash *d = ctx;
    sr_store *w = dashboard_writer(d);
    if (!w)
        return; /* the hint line says why the writer could not be opened */
    if (sr_audit_write(w, &d->id, d->role->name, action, detail, sr_now_ms()) != 0 && d->scr) {
        char msg[512];
        snprintf(msg, sizeof msg, " audit row not written: %s", sr_store_errmsg(w));
        sr_screen_set_message(d->scr, msg, sr_now_ms() + 5 * SR_MS_SEC);
    }
}

/* How long "report written to PATH" stays in the hint line. */
#define REPORT_MESSAGE_MS (5 * SR_MS_SEC)

/* Key e: the Markdown shift report, at the screen's window end, to a file
 * in [sitrep] reports; the outcome goes to the hint line (never stdout). */
static void write_report(dash *d)
{
    char path[4200], err[512], msg[4800];
    sr_ms now = sr_now_ms();
    sr_report_viewer who = {d->role, d->lay->privacy, dashboard_audit, d};
    int rc = sr_report_save(d->cfg, d->st, &who, sr_screen_window_end(d->scr, now), path,
                            sizeof path, err, sizeof err);
    if (rc)
        snprintf(msg, sizeof msg, " report not written: %s", err);
    else
        snprintf(msg, sizeof msg, " report written to %s", path);
    sr_screen_set_message(d->scr, msg, now + REPORT_MESSAGE_MS);
}

/* How long the outcome of an acknowledgement stays in the hint line. */
#define ALERT_MESSAGE_MS (6 * SR_MS_SEC)

/*
 * The one place where the dashboard writes to the cache on a user's
 * behalf, collector or viewer alike: an acknowledgement or a silence the
 * screen asked for (the screen never writes). The role is checked again,
 * the write and its audit row go in one transaction (sr_alerting_act), and
 * the alerts are re-read at once so the view shows the change (this
 * process's own commit does not move its data_version).
 */
static void alert_write(dash *d, const sr_screen_alert_request *r)
{
    char msg[SR_ALERT_NOTE_MAX + SR_ALERT_KEY_MAX + 128];
    sr_alert_act act = {.kind = r->silence ? SR_ALERT_ACT_SILENCE : SR_ALERT_ACT_ACK,
                        .key = r->key,
                        .note = r->note,
                        .for_ms = r->for_ms};
    sr_ms now = sr_now_ms();
    char line[sizeof msg + 1];
    sr_store *w = dashboard_writer(d);
    if (!w)
        return; /* the hint line says why the writer could not be opened */
    sr_alerting_act(d->cfg, w, &d->id, &act, now, msg, sizeof msg);
    snprintf(line, sizeof line, " %s", msg);
    sr_screen_set_message(d->scr, line, now + ALERT_MESSAGE_MS);
    update_alerts(d);
}

static void on_input(uv_poll_t *h, int status, int events)
{
    (void)events;
    dash *d = h->data;
    if (status < 0) {
        quit(d);
        return;
    }
    sr_key_result r = d->o->wall ? sr_screen_input_locked(d->scr, d->cfg->wall_exit,
                                                          d->cfg->n_wall_exit, &d->chord_pos)
                                 : sr_screen_input(d->scr);
    if (r == SR_KEY_QUIT) {
        quit(d);
        return;
    }
    if (r == SR_KEY_REPORT)
        write_report(d);
    sr_screen_alert_request req;
    while (sr_screen_take_alert_request(d->scr, &req))
        alert_write(d, &req);
    want_render(d);
}

static void on_winch(uv_signal_t *h, int sig)
{
    (void)sig;
    dash *d = h->data;
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
        sr_screen_resize_to(d->scr, ws.ws_row, ws.ws_col);
    else
        sr_screen_resize(d->scr);
    want_render(d);
}

static void on_wall_tick(uv_timer_t *t)
{
    dash *d = t->data;
    wall_update(d);
    want_render(d);
}

/* The rotating pages of [wall] pages, as indices into the role's layout
 * (matched by name: the layout has only the pages the role may see). */
static void wall_pages(dash *d)
{
    const sr_config *cfg = d->cfg;
    d->wall_pages = xcalloc(cfg->n_wall_pages + 1, sizeof *d->wall_pages);
    for (size_t i = 0; i < cfg->n_wall_pages; i++) {
        const char *name = cfg->pages[cfg->wall_pages[i]].name;
        for (size_t k = 0; k < d->lay->n_pages; k++) {
            if (strcmp(d->lay->pages[k].name, name) == 0)
                d->wall_pages[d->n_wall_pages++] = k;
        }
    }
}

static void on_quit_signal(uv_signal_t *h, int sig)
{
    (void)sig;
    quit(h->data);
}

/* --at latest: the windows end at the newest sample, once there is one
 * (on a first start the cache fills while the screen is up). */
static void place_at_latest(dash *d)
{
    sr_ms newest;
    if (!d->at_latest || sr_store_newest(d->st, &newest) != 0)
        return;
    d->at_latest = false;
    sr_screen_set_end(d->scr, newest + 1);
}

static void on_report(void *ctx, const sr_poll_report *r);
static void want_render(dash *d);

/* The alerter stepped: its writes are this process's own (no data_version). */
static void on_alerts_stepped(void *ctx)
{
    dash *d = ctx;
    update_alerts(d);
    want_render(d);
}

/* How long a failure to open the writer stays in the hint line. */
#define WRITER_MESSAGE_MS (10 * SR_MS_SEC)

/* Opens the writer: a full writable handle for the collector, else an
 * SR_STORE_VIEWER one. NULL on failure, with the reason in the hint line. */
static sr_store *open_writer(dash *d, bool collector)
{
    sr_store *w = NULL;
    char err[600], msg[700];
    int rc = sr_store_open(d->cfg->cache, collector ? 0 : SR_STORE_VIEWER, &w, err, sizeof err);
    if (!rc && collector && (rc = sr_collect_define_metrics(w, d->cfg, err, sizeof err)) != 0) {
        sr_store_close(w);
        w = NULL;
    }
    if (rc) {
        if (!collector)
            write_refused(d->cfg, rc, "acknowledgements, silences and audit rows", err, sizeof err);
        snprintf(msg, sizeof msg, " cannot write to the cache: %s", err);
        sr_screen_set_message(d->scr, msg, sr_now_ms() + WRITER_MESSAGE_MS);
        return NULL;
    }
    return w;
}

/*
 * The handle every write of the dashboard goes through (acknowledgements,
 * silences, audit rows): opened on first use, kept until the dashboard
 * ends. While a viewer, the store refuses anything else on it. NULL when
 * it cannot be opened (the hint line then says why); the caller reports
 * the write as failed. Borrowed; valid until the dashboard returns.
 */
static sr_store *dashboard_writer(dash *d)
{
    if (!d->w)
        d->w = open_writer(d, d->col != NULL);
    return d->w;
}

/* Becomes the collector when the lock is free: polls every source into the
 * store from now on, through a full writable handle (a viewer's writer is
 * closed first). A no-op while another process holds the lock; when the
 * handle cannot be opened the lock is given back and this stays a viewer. */
static void try_collect(dash *d)
{
    if (d->col || d->quitting || d->o->viewer_only ||
        (d->o->lock && sr_lock_try(d->o->lock, NULL) != 0))
        return;
    const sr_config *cfg = d->cfg;
    sr_store *w = open_writer(d, true);
    if (!w) {
        if (d->o->lock)
            sr_lock_release(d->o->lock);
        return;
    }
    sr_store_close(d->w);
    d->w = w;
    sr_collector_create(d->loop, &cfg->metrics, d->w, &d->col);
    sr_collector_on_report(d->col, on_report, d);
    for (size_t i = 0; i < cfg->n_adapters; i++) {
        const sr_cfg_adapter *a = &cfg->adapters[i];
        const sr_adapter *ad = sr_plugins_adapter(d->o->adapters, i);
        if (!ad)
            continue;
        sr_ad_option *v = xcalloc(a->n_opts + 1, sizeof *v);
        sr_ad_options opts;
        sr_cfg_adapter_options(cfg, a, v, &opts);
        sr_collector_add(d->col, ad, &opts, a->interval_ms, a->timeout_ms);
        free(v);
    }
    sr_collector_start(d->col);
    /* [alert] command's output would draw over the screen: discarded */
    sr_alerter_hooks ah = {.stepped = on_alerts_stepped, .ctx = d, .out_fd = -1, .err_fd = -1};
    sr_alerter_create(d->loop, cfg, d->w, &ah, &d->alerter);
}

/* A metric's samples changed: the panels that read it are computed again. */
static void metric_changed(void *ctx, const char *metric)
{
    dash *d = ctx;
    sr_screen_metric_changed(d->scr, metric);
    d->trim = true;
}

/*
 * Whether another connection has committed since the last look (PRAGMA
 * data_version: the only query when nothing has). The collector in this
 * process writes through another handle, so its commits count too. When
 * one has, the metrics whose change counters moved (store.h) mark their
 * panels, and only those, and the alerts are read again; a commit of
 * nothing but a source's status row (an empty poll) recomputes no panel.
 */
static bool cache_changed(dash *d)
{
    int64_t v;
    if (sr_store_data_version(d->st, &v) != 0 || v == d->data_version)
        return false;
    d->data_version = v;
    sr_store_refresh(d->st); /* entities the collector has added since */
    if (sr_store_changes(d->st, metric_changed, d) != 0) {
        sr_screen_data_changed(d->scr); /* cannot tell which: every panel */
        d->trim = true;
    }
    sr_screen_sources_changed(d->scr);
    update_alerts(d);
    return true;
}

#ifdef SR_TEST_HOOKS
/*
 * Test builds, a plain process: with SITREP_TEST_COUNTS=FILE, each refresh
 * tick first appends one line of what the dashboard has done since it
 * started, "statements=N PANEL=COMPUTES ...": the statements run on the
 * screen's handle and how often each panel's model was computed. Between
 * two lines is one refresh and the renders after it.
 */
static void test_counts(dash *d)
{
    const char *path = getenv("SITREP_TEST_COUNTS");
    if (!path || !*path || sr_trust_elevated())
        return;
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    fprintf(f, "statements=%lld", (long long)sr_store_statements(d->st));
    for (size_t i = 0; i < d->lay->n_panels; i++)
        fprintf(f, " %s=%zu", d->lay->panels[i].name, sr_screen_computes(d->scr, i));
    fprintf(f, "\n");
    fclose(f);
}
#endif

static void on_refresh(uv_timer_t *t)
{
    dash *d = t->data;
#ifdef SR_TEST_HOOKS
    test_counts(d);
#endif
    try_collect(d);
    bool moved = cache_changed(d);
    if (moved)
        place_at_latest(d);
    update_sources(d, moved);
    want_render(d);
}

static void on_report(void *ctx, const sr_poll_report *r)
{
    dash *d = ctx;
    if (r->accepted)
        sr_alerter_data_changed(d->alerter);
    bool moved = cache_changed(d);
    if (moved && r->accepted)
        place_at_latest(d);
    /* panels still empty say how far the backfill has got */
    sr_screen_set_loading(d->scr, sr_collector_loading(d->col));
    update_sources(d, moved);
    want_render(d);
}

int sr_dashboard_run(const sr_config *cfg, sr_store *st, const sr_dashboard_opts *o, char *err,
                     size_t errlen)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        snprintf(err, errlen,
                 "the dashboard needs a terminal; for text output use "
                 "'sitrep snapshot --format text'");
        return SR_EINVAL;
    }
    bool utf8 = sr_locale_utf8();
    uv_loop_t loop;
    dash d = {.loop = &loop, .cfg = cfg, .st = st, .o = o};
    sr_identity_init(&d.id);
    d.role = sr_role_match(cfg, &d.id, NULL, 0);
    sr_layout_data *ld;
    sr_layout_build_role(cfg, d.role, &ld);
    sr_layout_set_audit(ld, dashboard_audit, &d);
    d.lay = sr_layout_get(ld);
    sr_collector_size_pool(cfg->n_adapters);
    uv_loop_init(&loop);

    /* before curses: ncurses then leaves SIGWINCH to us */
    uv_signal_init(&loop, &d.winch);
    d.winch.data = &d;
    uv_signal_start(&d.winch, on_winch, SIGWINCH);

    unsigned flags = SR_SCREEN_MOUSE | (utf8 ? SR_SCREEN_UTF8 : 0) | (o->wall ? SR_SCREEN_WALL : 0);
    if (!o->no_color)
        flags |= SR_SCREEN_COLOR;
    int rc = sr_screen_create(st, sr_layout_get(ld), flags, o->theme, &d.scr);
    if (rc) {
        snprintf(err, errlen, "cannot set up the terminal (TERM=%s)",
                 getenv("TERM") ? getenv("TERM") : "");
        uv_close((uv_handle_t *)&d.winch, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        sr_layout_destroy(ld);
        return rc;
    }
    if (o->at_ms)
        sr_screen_set_end(d.scr, o->at_ms);
    d.at_latest = o->at_latest;
    sr_screen_set_alert_rights(d.scr, d.role->acknowledge, d.role->name);
    /* panel computes on the pool: keys, resizes and the clock never wait */
    sr_screen_set_async(d.scr, compute_submit, &d);
#ifdef SR_TEST_HOOKS
    d.gate = sr_trust_elevated() ? NULL : getenv("SITREP_TEST_COMPUTE_GATE");
#endif
    place_at_latest(&d);
    sr_set_fatal_hook(sr_screen_restore_terminal);
    signal(SIGSEGV, crash_handler);
    signal(SIGABRT, crash_handler);
    signal(SIGBUS, crash_handler);
    signal(SIGFPE, crash_handler);

    uv_poll_init(&loop, &d.input, STDIN_FILENO);
    d.input.data = &d;
    uv_poll_start(&d.input, UV_READABLE, on_input);
    uv_signal_init(&loop, &d.sigint);
    uv_signal_init(&loop, &d.sigterm);
    uv_signal_init(&loop, &d.sighup);
    d.sigint.data = d.sigterm.data = d.sighup.data = &d;
    uv_signal_start(&d.sigint, on_quit_signal, SIGINT);
    uv_signal_start(&d.sigterm, on_quit_signal, SIGTERM);
    uv_signal_start(&d.sighup, on_quit_signal, SIGHUP);
    uv_timer_init(&loop, &d.refresh);
    d.refresh.data = &d;
    uv_timer_start(&d.refresh, on_refresh, 0, (uint64_t)cfg->refresh_ms);
    uv_idle_init(&loop, &d.idle);
    d.idle.data = &d;
    uv_timer_init(&loop, &d.wall_timer);
    d.wall_timer.data = &d;
    if (o->wall) {
        wall_pages(&d);
        /* a quarter second: the page turns within that of its time */
        uv_timer_start(&d.wall_timer, on_wall_tick, 0, 250);
    }
    sr_store_data_version(st, &d.data_version);
    update_alerts(&d);

    try_collect(&d);
    want_render(&d);
    uv_run(&loop, UV_RUN_DEFAULT);
    rc = uv_loop_close(&loop);
    sr_collector_destroy(d.col);
    sr_store_close(d.w);
    for (int i = 0; i < COMPUTE_SLOTS; i++) /* every job has come back: uv_run waited */
        sr_store_close(d.cst[i]);
    sr_source_list_fini(&d.srcl);
    free(d.wall_pages);
    sr_set_fatal_hook(NULL);
    sr_screen_destroy(d.scr);
    sr_layout_destroy(ld);
    signal(SIGSEGV, SIG_DFL);
    signal(SIGABRT, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    signal(SIGFPE, SIG_DFL);
    return rc ? SR_EIO : 0;
}
