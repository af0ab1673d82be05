/*
 * collect.c - the headless collector behind `sitrep collect`.
 *
 * One collector (collector.c) polls the sources of the current config into the
 * cache. SIGHUP reopens the log file (logrotate) and reloads the config:
 * the new file is loaded and checked like `sitrep check-config` (plugins
 * included) and its metrics declared; a config with any error, or one that
 * moves the cache, is refused with every error logged and the current one
 * is kept. An accepted config replaces the running one in two steps: the
 * old collector is stopped (its polls in flight end and are written), then
 * on the next loop turn it is freed with its config and plugins and a new
 * collector starts on the same loop and store. Signals that arrive during
 * a swap are honoured when it ends.
 *
 * Under systemd (Type=notify) the collector says READY=1 once its sources
 * are started, RELOADING=1 and READY=1 around a reload (refused or not) and
 * STOPPING=1 when asked to stop, as datagrams to $NOTIFY_SOCKET: the
 * protocol is a line of text, so no libsystemd is needed.
 *
 * The log is one line per event. With --log FILE every line is appended to
 * FILE with an ISO time, line-buffered; errors also go to stderr. Without
 * it, events go to stdout and errors to stderr, which journald captures
 * under systemd.
 */
#include "collect.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <time.h>
#include <uv.h>

#include "../adapters/execfmt.h"
#include "../metrics/safetext.h"
#include "alerting.h"
#include "collector.h"
#include "progress.h"
#include "trust.h"
#include "xalloc.h"

typedef struct {
    uv_loop_t loop;
    sr_collector *col;
    sr_alerter *alerter; /* steps the alerts on its own timer */
    sr_config *cfg;      /* the running config; owned */
    sr_plugins *pl;      /* its adapters; owned */
    sr_config *next;     /* accepted by a reload, started once col has stopped; owned */
    sr_plugins *next_pl;
    sr_store *st; /* borrowed */
    uv_signal_t sigint, sigterm, sighup;
    uv_timer_t retention;
    uv_timer_t swap; /* runs the second step of a reload */
    const char *log_path;
    FILE *log; /* NULL: stdout and stderr */
    int stopping;
    int swapping;     /* the old collector is stopping for a reload */
    int reload_again; /* a SIGHUP came during a swap */
    /* --once: the sources whose first full read has ended (by index in cfg) */
    int once;
    unsigned char *done;
    size_t n_done;
    int failed;
    sr_progress *progress; /* --once on a terminal: rows read so far */
    int64_t rows;
} collect;

enum { LOG_INFO, LOG_EVENT, LOG_NOTICE, LOG_ERROR };

/*
 * One line of log. LOG_INFO lines go to stdout without a time, LOG_EVENT
 * lines with one, LOG_NOTICE and LOG_ERROR lines to stderr; with a log file
 * every line goes there with a time, and errors to stderr as well. Every
 * control a source's name or error may hold is written escaped (\x1b,
 * \u009b: metrics/safetext.h), so the log shows what came and a terminal
 * that shows the log is never driven by it.
 */
static void collect_log(collect *c, int level, const char *fmt, ...)
{
    char ts[40], raw[2048], msg[4 * sizeof raw]; /* "\x1b" is four bytes for one */
    sr_format_time_utc(sr_now_ms(), ts, sizeof ts);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    sr_text_escape(raw, msg, sizeof msg); /* names and errors from sources: shown escaped */
    sr_progress_clear(c->progress);       /* the line is drawn again by the next report */
    if (c->log)
        fprintf(c->log, "%.19sZ %s%s\n", ts, level == LOG_ERROR ? "error: " : "", msg);
    if (level == LOG_ERROR || (level == LOG_NOTICE && !c->log)) {
        fprintf(stderr, "sitrep: %s\n", msg);
        fflush(stderr);
    } else if (!c->log) {
        if (level == LOG_EVENT)
            printf("%.19sZ %s\n", ts, msg);
        else
            printf("%s\n", msg);
        fflush(stdout);
    }
}

static FILE *log_open(const char *path)
{
    FILE *f = sr_trust_fopen(path, O_WRONLY | O_APPEND | O_CREAT, 0640, "a");
    if (f)
        setvbuf(f, NULL, _IOLBF, 0);
    return f;
}

/* logrotate moved the file away: write to a new one at the same path. */
static void log_reopen(collect *c)
{
    if (!c->log_path)
        return;
    FILE *f = log_open(c->log_path);
    if (!f) {
        collect_log(c, LOG_ERROR, "cannot reopen the log %s: %s; still writing to the old file",
                    c->log_path, strerror(errno));
        return;
    }
    fclose(c->log);
    c->log = f;
}

/*
 * Tells systemd of a state change (sd_notify(3)) when it started us with
 * $NOTIFY_SOCKET; otherwise, or on any failure, does nothing: the service
 * works without it.
 */
static void notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof a.sun_path)
        return;
    memcpy(a.sun_path, path, strlen(path));
    if (path[0] == '@')
        a.sun_path[0] = 0; /* the abstract namespace */
    char msg[128];
    if (strcmp(state, "RELOADING=1") == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        snprintf(msg, sizeof msg, "%s\nMONOTONIC_USEC=%lld", state,
                 (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
    } else {
        snprintf(msg, sizeof msg, "%s", state);
    }
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
    (void)sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&a, len);
    close(fd);
}

int sr_collect_define_metrics(sr_store *st, const sr_config *cfg, char *err, size_t len)
{
    for (size_t i = 0; i < cfg->metrics.n; i++) {
        const sr_metric_def *d = &cfg->metrics.v[i];
        if (d->kind == SR_KIND_RATIO)
            continue;
        int rc = sr_store_define_metric(st, d->name, d->kind);
        if (rc && rc != SR_ENOENT) {
            snprintf(err, len, "cannot declare metric %s in %s: %s", d->name, cfg->cache,
                     sr_store_errmsg(st));
            return rc;
        }
    }
    return 0;
}

static void on_stopped(void *arg);

/* --once: a source is done when a poll ends without more to read at once. */
static void once_note(collect *c, const sr_poll_report *r)
{
    if (!c->once || c->stopping || r->more)
        return;
    for (size_t i = 0; i < c->cfg->n_adapters; i++) {
        if (strcmp(c->cfg->adapters[i].name, r->health->name) != 0 || c->done[i])
            continue;
        c->done[i] = 1;
        c->n_done++;
        if (!r->ok)
            c->failed = 1;
    }
    if (c->n_done == c->cfg->n_adapters) {
        /* a last step, on everything read: its events are what --once reports */
        sr_alerter_step_now(c->alerter);
        c->stopping = 1;
        sr_collector_stop(c->col, on_stopped, c);
    }
}

/* The alerter's lines in the collector's log. */
static void log_alert(void *ctx, bool error, const char *line)
{
    collect_log(ctx, error ? LOG_ERROR : LOG_EVENT, "%s", line);
}

static void on_report(void *ctx, const sr_poll_report *r)
{
    collect *c = ctx;
    char next[32];
    if (r->accepted)
        sr_alerter_data_changed(c->alerter);
    /* whole seconds read better than "4999ms" */
    sr_ms shown = r->next_ms >= SR_MS_SEC ? (r->next_ms + 500) / SR_MS_SEC * SR_MS_SEC : r->next_ms;
    sr_format_duration(shown > 0 ? shown : 1, next, sizeof next);
    if (r->ok)
        collect_log(
            c, LOG_EVENT,
            "%s: ok in %lld ms: %lld new, %lld duplicate, %lld rejected (total %lld); next in %s",
            r->health->name, (long long)r->took_ms, (long long)r->accepted,
            (long long)r->duplicates, (long long)r->rejected, (long long)r->health->accepted,
            r->next_ms > 0 ? next : "0s");
    else
        collect_log(c, LOG_EVENT, "%s: FAILED: %s; %lld new, %lld rejected; retry in %s",
                    r->health->name, r->health->last_error, (long long)r->accepted,
                    (long long)r->rejected, next);
    c->rows += r->accepted + r->duplicates + r->rejected;
    sr_progress_update(c->progress, c->rows, 0); /* no adapter tells how much is left */
    once_note(c, r);
}

/* A collector for the sources of cfg, started. */
static sr_collector *start_collector(collect *c, const sr_config *cfg, const sr_plugins *pl)
{
    sr_collector *col;
    if (sr_collector_create(&c->loop, &cfg->metrics, c->st, &col))
        sr_fatal("out of memory");
    sr_collector_on_report(col, on_report, c);
    for (size_t i = 0; i < cfg->n_adapters; i++) {
        const sr_cfg_adapter *a = &cfg->adapters[i];
        sr_ad_option *v = xcalloc(a->n_opts + 1, sizeof *v);
        sr_ad_options o;
        sr_cfg_adapter_options(cfg, a, v, &o);
        sr_collector_add(col, sr_plugins_adapter(pl, i), &o, a->interval_ms, a->timeout_ms);
        free(v);
    }
    sr_collector_start(col);
    return col;
}

static void close_handles(collect *c)
{
    sr_alerter_destroy(c->alerter);
    c->alerter = NULL;
    uv_close((uv_handle_t *)&c->sigint, NULL);
    uv_close((uv_handle_t *)&c->sigterm, NULL);
    uv_close((uv_handle_t *)&c->sighup, NULL);
    uv_close((uv_handle_t *)&c->retention, NULL);
    uv_close((uv_handle_t *)&c->swap, NULL);
}

static void on_stopped(void *arg)
{
    close_handles(arg);
}

static void log_errors(collect *c, const sr_cfg_errors *errs)
{
    for (size_t i = 0; i < errs->n; i++) {
        char line[1024];
        sr_cfg_error_format(&errs->v[i], line, sizeof line);
        collect_log(c, LOG_ERROR, "%s", line);
    }
}

/*
 * Loads and checks the config file again; returns 0 with *cfg and *pl
 * (caller owns) when it may replace the running one, else logs why not.
 */
static int reload_load(collect *c, sr_config **cfg, sr_plugins **pl)
{
    const char *path = c->cfg->path;
    sr_cfg_errors errs = {0};
    const char *why = NULL;
    int rc = sr_config_load(path, cfg, &errs);
    if (!rc) {
        rc = sr_plugins_load(*cfg, pl, &errs);
        if (rc) {
            sr_config_destroy(*cfg);
            *cfg = NULL;
        }
    }
    if (rc) {
        log_errors(c, &errs);
        why = errs.n ? "errors in the config" : sr_strerror(rc);
        collect_log(c, LOG_ERROR,
                    "reload refused: %s %s; still running with the previous config (%zu source%s)",
                    why, path, c->cfg->n_adapters, c->cfg->n_adapters == 1 ? "" : "s");
        sr_cfg_errors_fini(&errs);
        return rc;
    }
    sr_cfg_errors_fini(&errs);
    char err[512] = "";
    if (strcmp((*cfg)->cache, c->cfg->cache) != 0) {
        snprintf(err, sizeof err,
                 "the cache moved from %s to %s; restart sitrep collect to move it", c->cfg->cache,
                 (*cfg)->cache);
        rc = SR_EINVAL;
    } else {
        rc = sr_collect_define_metrics(c->st, *cfg, err, sizeof err);
    }
    if (rc) {
        collect_log(c, LOG_ERROR, "reload refused: %s; still running with the previous config",
                    err);
        sr_plugins_destroy(*pl);
        sr_config_destroy(*cfg);
        *pl = NULL;
        *cfg = NULL;
    }
    return rc;
}

static void on_swap(uv_timer_t *t);

static void on_old_stopped(void *arg)
{
    collect *c = arg;
    /* the collector is freed outside its own close callback */
    uv_timer_start(&c->swap, on_swap, 0, 0);
}

static void reload(collect *c)
{
    if (c->swapping) {
        c->reload_again = 1;
        return;
    }
    collect_log(c, LOG_INFO, "reloading %s", c->cfg->path);
    notify("RELOADING=1");
    if (reload_load(c, &c->next, &c->next_pl)) {
        notify("READY=1");
        return;
    }
    c->swapping = 1;
    sr_collector_stop(c->col, on_old_stopped, c);
}

static void on_swap(uv_timer_t *t)
{
    collect *c = t->data;
    sr_collector_destroy(c->col);
    sr_plugins_destroy(c->pl);
    sr_config_destroy(c->cfg);
    c->col = NULL;
    c->cfg = c->next;
    c->pl = c->next_pl;
    c->next = NULL;
    c->next_pl = NULL;
    c->swapping = 0;
    if (c->stopping) {
        close_handles(c);
        return;
    }
    c->col = start_collector(c, c->cfg, c->pl);
    sr_alerter_set_config(c->alerter, c->cfg);
    collect_log(c, LOG_EVENT, "reloaded: %zu source%s", c->cfg->n_adapters,
                c->cfg->n_adapters == 1 ? "" : "s");
    notify("READY=1");
    if (c->reload_again) {
        c->reload_again = 0;
        reload(c);
    }
}

static void on_signal(uv_signal_t *h, int signum)
{
    collect *c = h->data;
    if (signum == SIGHUP) {
        log_reopen(c);
        if (c->stopping)
            return;
        if (c->once) {
            collect_log(c, LOG_INFO, "SIGHUP: the log reopened; --once does not reload the config");
            return;
        }
        reload(c);
        return;
    }
    if (c->stopping) {
        collect_log(c, LOG_NOTICE, "second signal, leaving without waiting for polls");
        exit(1);
    }
    c->stopping = 1;
    notify("STOPPING=1");
    collect_log(c, LOG_NOTICE, "%s, stopping after the polls in flight",
                signum == SIGINT ? "interrupted" : "terminated");
    /* during a swap the old collector is already stopping: the swap ends it */
    if (!c->swapping)
        sr_collector_stop(c->col, on_stopped, c);
}

static void on_retention(uv_timer_t *t)
{
    collect *c = t->data;
    int64_t deleted = 0;
    int rc = sr_store_retain(c->st, sr_now_ms() - c->cfg->retention_ms, &deleted);
    if (rc)
        collect_log(c, LOG_ERROR, "retention failed: %s", sr_store_errmsg(c->st));
    else if (deleted)
        collect_log(c, LOG_INFO, "retention: %lld samples older than the retention period removed",
                    (long long)deleted);
}

int sr_collect_run(sr_config *cfg, sr_plugins *pl, sr_store *st, const sr_collect_opts *o,
                   int *failed)
{
    collect *c = xcalloc(1, sizeof *c);
    c->cfg = cfg;
    c->pl = pl;
    c->st = st;
    c->once = o->once;
    c->log_path = o->log_path;
    if (c->log_path && !(c->log = log_open(c->log_path))) {
        fprintf(stderr, "sitrep collect: cannot open the log %s: %s\n", c->log_path,
                strerror(errno));
        sr_plugins_destroy(pl);
        sr_config_destroy(cfg);
        free(c);
        return SR_EIO;
    }
    c->done = xcalloc(cfg->n_adapters + 1, 1);
    if (c->once)
        c->progress = sr_progress_create("collect --once", 0);
    sr_collector_size_pool(cfg->n_adapters);
    uv_loop_init(&c->loop);
    c->col = start_collector(c, cfg, pl);
    int out = c->log ? fileno(c->log) : 1;
    sr_alerter_hooks ah = {.log = log_alert, .ctx = c, .out_fd = out, .err_fd = c->log ? out : 2};
    sr_alerter_create(&c->loop, cfg, st, &ah, &c->alerter);
    collect_log(c, LOG_INFO, "sitrep collect: %zu source%s, cache %s", cfg->n_adapters,
                cfg->n_adapters == 1 ? "" : "s", cfg->cache);
    if (cfg->n_adapters == 0)
        collect_log(c, LOG_INFO, "no [adapter.*] section in %s: nothing to poll", cfg->path);
    uv_signal_t *sig[] = {&c->sigint, &c->sigterm, &c->sighup};
    const int signum[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < 3; i++) {
        uv_signal_init(&c->loop, sig[i]);
        sig[i]->data = c;
        uv_signal_start(sig[i], on_signal, signum[i]);
    }
    uv_timer_init(&c->loop, &c->retention);
    c->retention.data = c;
    uv_timer_start(&c->retention, on_retention, 0, (uint64_t)SR_MS_HOUR);
    uv_timer_init(&c->loop, &c->swap);
    c->swap.data = c;
    notify("READY=1");
    if (c->once && cfg->n_adapters == 0) {
        c->stopping = 1;
        sr_collector_stop(c->col, on_stopped, c);
    }
    uv_run(&c->loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&c->loop);
    if (rc)
        collect_log(c, LOG_ERROR, "the event loop did not close cleanly");
    collect_log(c, LOG_INFO, "sitrep collect: stopped");
    sr_progress_destroy(c->progress);
    *failed = c->failed;
    sr_collector_destroy(c->col);
    sr_plugins_destroy(c->pl);
    sr_config_destroy(c->cfg);
    if (c->log)
        fclose(c->log);
    free(c->done);
    free(c);
    return 0;
}
