/*
 * collector.c - the collector.
 *
 * Each source has a one-shot libuv timer. When it fires, the source's poll
 * is queued on the libuv thread pool (uv_queue_work); the adapter emits into
 * a batch owned by the source (copied strings in an arena), touched only by
 * that worker until the work completes. Completion runs on the loop thread
 * and writes the whole batch, the rejects and the source's health (with its
 * cursor) in one transaction, so data and cursor never disagree: a batch
 * that fails to commit leaves the cursor where it was and the next poll
 * reads the same rows again (the store makes that idempotent).
 *
 * The next poll is scheduled only when the previous one has completed, so a
 * poll is never started twice. A second timer per source notices a poll that
 * runs past its timeout: the source is marked failing at once (visible to
 * viewers), and the poll's samples are still written when it returns, since
 * the thread cannot be killed and the data is good. Failures back off by
 * doubling the delay up to SR_BACKOFF_MAX_MS; a success resets it.
 *
 * Every health row written says when the source is polled next, and with
 * what interval and timeout, so that a viewer in another process can show
 * the next poll and tell a late source (metrics/sources.h).
 *
 * An adapter in a backfill in chunks may say how far it has got (the
 * poll's progress, ABI version 2): each source keeps the percent of its
 * last successful poll, -1 once a poll ends the backfill, and
 * sr_collector_loading() hands the least advanced to the dashboard.
 *
 * Stopping waits for polls in flight, writes their batches, records that
 * no poll is scheduled any more (next poll 0), closes the adapters and
 * every handle, then calls the caller's done callback.
 */
#include "collector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../metrics/sources.h"
#include "xalloc.h"

/* A poll may hand over at most this many samples plus rejects. */
#define SR_BATCH_MAX 5000000

/* ---- a string arena, so that a batch costs few allocations ---- */

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    char data[];
} chunk;

typedef struct {
    chunk *head;
} arena;

static char *arena_strdup(arena *a, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        chunk *c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    char *p = a->head->data + a->head->used;
    memcpy(p, s, n);
    a->head->used += n;
    return p;
}

static void arena_clear(arena *a)
{
    while (a->head) {
        chunk *n = a->head->next;
        free(a->head);
        a->head = n;
    }
}

/* ---- batches ---- */

typedef struct {
    const sr_metric_def *def; /* the catalog's, which outlives the batch */
    const char *entity, *key;
    sr_ms ts;
    double value;
} bsample;

typedef struct {
    const char *where, *raw, *reason;
} breject;

typedef struct {
    bsample *s;
    size_t n, cap;
    breject *r;
    size_t nr, capr;
    arena mem;
    int full; /* SR_BATCH_MAX reached or out of memory */
} batch;

static void batch_clear(batch *b)
{
    free(b->s);
    free(b->r);
    arena_clear(&b->mem);
    memset(b, 0, sizeof *b);
}

static int batch_reject(batch *b, const char *where, const char *raw, const char *reason)
{
    if (b->full || b->n + b->nr >= SR_BATCH_MAX)
        return b->full = -1;
    if (sr_reserve(&b->r, &b->capr, b->nr, sizeof *b->r))
        return b->full = -1;
    breject *r = &b->r[b->nr];
    r->where = arena_strdup(&b->mem, where);
    r->raw = arena_strdup(&b->mem, raw ? raw : "");
    r->reason = arena_strdup(&b->mem, reason ? reason : "rejected");
    if ((where && !r->where) || !r->raw || !r->reason)
        return b->full = -1;
    b->nr++;
    return 0;
}

/* ---- sources ---- */

typedef struct source {
    sr_collector *c;
    const sr_adapter *a;
    void *state;
    int opened;
    sr_ad_option *optv; /* copies, for re-opening */
    sr_ad_valmap *maps; /* copies of the value maps, each with its own entries */
    sr_ad_options opts;
    char *config_dir;
    char *timezone;

    sr_ms interval_ms, timeout_ms, backoff_ms;
    uv_timer_t timer, timeout_timer;
    uv_work_t work;
    int busy, timed_out;
    uint64_t started; /* uv_now() at queueing */
    int loading;      /* sr_poll_percent() of the last successful poll, -1 = none */

    sr_poll_info info;
    int poll_rc;
    char err[256];
    batch b;
    sr_sink sink;
    sr_source_health h;
} source;

struct sr_collector {
    uv_loop_t *loop;
    const sr_catalog *cat;
    sr_store *st;
    source **src;
    size_t n;
    sr_report_cb report;
    void *report_ctx;
    int stopping;
    int open_handles;
    void (*done)(void *);
    void *done_ctx;
};

static int sink_emit(sr_sink *sink, const sr_ad_sample *s)
{
    source *src = sink->ctx;
    batch *b = &src->b;
    if (b->full || b->n + b->nr >= SR_BATCH_MAX)
        return b->full = -1;
    const sr_metric_def *def = s->metric ? sr_catalog_find(src->c->cat, s->metric) : NULL;
    if (!def) {
        /* the input as read when the adapter says where the sample came from
         * (version 3); else the sample itself */
        int told = src->a->abi_version >= 3 && sink->raw;
        char raw[512];
        snprintf(raw, sizeof raw, "%s %s %lld %.17g", s->metric ? s->metric : "(null)",
                 s->entity ? s->entity : "(null)", (long long)s->ts_ms, s->value);
        char reason[160];
        snprintf(reason, sizeof reason, "unknown metric '%.100s'", s->metric ? s->metric : "");
        return batch_reject(b, told ? sink->where : NULL, told ? sink->raw : raw, reason);
    }
    if (sr_reserve(&b->s, &b->cap, b->n, sizeof *b->s))
        return b->full = -1;
    bsample *d = &b->s[b->n];
    d->def = def;
    d->entity = arena_strdup(&b->mem, s->entity ? s->entity : "");
    d->key = s->key ? arena_strdup(&b->mem, s->key) : NULL;
    d->ts = s->ts_ms;
    d->value = s->value;
    if (!d->entity || (s->key && !d->key))
        return b->full = -1;
    b->n++;
    return 0;
}

static int sink_reject(sr_sink *sink, const char *where, const char *raw, const char *reason)
{
    source *src = sink->ctx;
    return batch_reject(&src->b, where, raw, reason);
}

void sr_collector_size_pool(size_t n_sources)
{
    if (getenv("UV_THREADPOOL_SIZE"))
        return;
    size_t n = n_sources + 4;
    char v[16];
    snprintf(v, sizeof v, "%zu", n > 1024 ? (size_t)1024 : n);
    setenv("UV_THREADPOOL_SIZE", v, 1);
}

int sr_collector_create(uv_loop_t *loop, const sr_catalog *cat, sr_store *st, sr_collector **out)
{
    sr_collector *c = calloc(1, sizeof *c);
    if (!c)
        return SR_ENOMEM;
    c->loop = loop;
    c->cat = cat;
    c->st = st;
    *out = c;
    return 0;
}

void sr_collector_on_report(sr_collector *c, sr_report_cb cb, void *ctx)
{
    c->report = cb;
    c->report_ctx = ctx;
}

static void try_open(source *s)
{
    if (s->opened)
        return;
    char err[sizeof s->h.last_error - 16] = ""; /* room for "cannot open: " */
    void *state = NULL;
    if (s->a->open(&s->opts, &state, err, sizeof err) == 0) {
        s->state = state;
        s->opened = 1;
        s->h.last_error[0] = 0;
        return;
    }
    snprintf(s->h.last_error, sizeof s->h.last_error, "cannot open: %s",
             err[0] ? err : "the adapter gave no reason");
}

/* Copies of n options, for re-opening after the config is gone. */
static sr_ad_option *options_copy(const sr_ad_option *v, size_t n)
{
    sr_ad_option *d = xcalloc(n ? n : 1, sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = (sr_ad_option){xstrdup(v[i].key), xstrdup(v[i].value), v[i].line};
    return d;
}

static void options_free(sr_ad_option *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)v[i].key);
        free((char *)v[i].value);
    }
    free(v);
}

int sr_collector_add(sr_collector *c, const sr_adapter *a, const sr_ad_options *opts,
                     sr_ms interval_ms, sr_ms timeout_ms)
{
    if (!a || !opts || !opts->name || interval_ms <= 0 || timeout_ms <= 0)
        return SR_EINVAL;
    c->src = xrealloc(c->src, (c->n + 1) * sizeof *c->src);
    source *s = xcalloc(1, sizeof *s);
    s->c = c;
    s->a = a;
    s->interval_ms = interval_ms;
    s->timeout_ms = timeout_ms;
    s->backoff_ms = interval_ms;
    s->loading = -1;
    s->optv = options_copy(opts->v, opts->n);
    s->config_dir = xstrdup(opts->config_dir ? opts->config_dir : ".");
    s->maps = xcalloc(opts->n_maps + 1, sizeof *s->maps);
    for (size_t i = 0; i < opts->n_maps; i++)
        s->maps[i] = (sr_ad_valmap){.name = xstrdup(opts->maps[i].name),
                                    .v = options_copy(opts->maps[i].v, opts->maps[i].n),
                                    .n = opts->maps[i].n,
                                    .line = opts->maps[i].line};
    snprintf(s->h.name, sizeof s->h.name, "%s", opts->name);
    snprintf(s->h.type, sizeof s->h.type, "%s", a->type);
    s->h.interval_ms = interval_ms;
    s->h.timeout_ms = timeout_ms;
    s->timezone = xstrdup(opts->timezone ? opts->timezone : "UTC");
    s->opts = (sr_ad_options){s->optv,    opts->n,     s->h.name, s->config_dir,
                              opts->host, s->timezone, s->maps,   opts->n_maps};
    s->sink = (sr_sink){.ctx = s, .emit = sink_emit, .reject = sink_reject};
    /* carry the totals and the cursor over from the last run */
    sr_source_health old;
    if (sr_store_source_get(c->st, s->h.name, &old) == 0) {
        s->h.cursor_ms = old.cursor_ms;
        s->h.last_ok_ms = old.last_ok_ms;
        s->h.last_poll_ms = old.last_poll_ms;
        s->h.accepted = old.accepted;
        s->h.duplicates = old.duplicates;
        s->h.rejected = old.rejected;
        s->h.polls = old.polls;
        s->h.failures = old.failures;
    }
    uv_timer_init(c->loop, &s->timer);
    uv_timer_init(c->loop, &s->timeout_timer);
    s->timer.data = s;
    s->timeout_timer.data = s;
    c->open_handles += 2;
    c->src[c->n++] = s;
    try_open(s);
    return 0;
}

static void schedule(source *s, sr_ms delay);
static void handle_closed(uv_handle_t *h);

static void work_cb(uv_work_t *w)
{
    source *s = w->data;
    s->poll_rc = s->a->poll(s->state, &s->info, &s->sink, s->err, sizeof s->err);
    if (s->poll_rc == 0 && s->b.full) {
        s->poll_rc = -1;
        snprintf(s->err, sizeof s->err,
                 "the poll produced more than %d rows; it was cut there and will be resumed",
                 SR_BATCH_MAX);
    }
}

/* Writes the batch and the health in one transaction. */
static int write_batch(source *s, sr_source_health *h, int64_t *acc, int64_t *dup, int64_t *rej)
{
    sr_store *st = s->c->st;
    int rc = sr_store_begin(st);
    if (rc)
        return rc;
    for (size_t i = 0; i < s->b.n; i++) {
        const bsample *b = &s->b.s[i];
        sr_sample smp = {b->def->name, b->entity, b->ts, b->value, b->key};
        bool d;
        rc = sr_store_put(st, &smp, &d);
        if (rc == SR_EINVAL || rc == SR_ENOENT) {
            char raw[600];
            snprintf(raw, sizeof raw, "%s %s %lld %.17g", b->def->name, b->entity, (long long)b->ts,
                     b->value);
            char fault[160];
            const char *why = rc == SR_ENOENT
                                  ? "metric not defined in the cache"
                                  : sr_store_sample_fault(st, &smp, fault, sizeof fault);
            bool again;
            rc = sr_store_reject(st, h->name, NULL, raw, why, &again);
            (*(again ? dup : rej))++;
        } else if (!rc) {
            (*(d ? dup : acc))++;
        }
        if (rc)
            goto fail;
    }
    /* which metrics this source feeds: each once per batch, however many
     * (a templated metric name may feed every metric of the catalog) */
    const sr_catalog *cat = s->c->cat;
    bool *fed = cat->n ? calloc(cat->n, sizeof *fed) : NULL;
    if (cat->n && !fed) {
        rc = SR_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < s->b.n; i++) {
        size_t k = (size_t)(s->b.s[i].def - cat->v);
        if (fed[k])
            continue;
        fed[k] = true;
        rc = sr_store_source_metric(st, h->name, cat->v[k].name);
        if (rc && rc != SR_ENOENT)
            break;
        rc = 0;
    }
    free(fed);
    if (rc)
        goto fail;
    for (size_t i = 0; i < s->b.nr; i++) {
        const breject *r = &s->b.r[i];
        bool again;
        if ((rc = sr_store_reject(st, h->name, r->where, r->raw, r->reason, &again)))
            goto fail;
        (*(again ? dup : rej))++; /* a row read and rejected before */
    }
    h->accepted += *acc;
    h->duplicates += *dup;
    h->rejected += *rej;
    if ((rc = sr_store_source_put(st, h)))
        goto fail;
    return sr_store_commit(st);
fail:
    sr_store_rollback(st);
    return rc;
}

/* The delay until the next poll after one that ended ok or not, after took
 * ms; moves the backoff (doubled on failure, reset on success). */
static sr_ms next_delay(source *s, int ok, sr_ms took)
{
    if (ok) {
        s->backoff_ms = s->interval_ms;
        if (s->info.more)
            return 0;
        return took >= s->interval_ms ? 0 : s->interval_ms - took;
    }
    sr_ms cap = s->interval_ms > SR_BACKOFF_MAX_MS ? s->interval_ms : SR_BACKOFF_MAX_MS;
    s->backoff_ms = s->backoff_ms * 2 > cap ? cap : s->backoff_ms * 2;
    return s->backoff_ms;
}

/* A source's error when its batch could not be stored: what is wrong with
 * the cache in words (a full disk names the cache; a damaged one says so),
 * and that nothing of the poll was kept: its cursor stays, so the next poll
 * reads the same rows again. */
static void write_failed(source *s, int rc)
{
    const char *why = sr_store_errmsg(s->c->st);
    if (rc == SR_ENOSPC)
        snprintf(s->h.last_error, sizeof s->h.last_error,
                 "%s; the poll's rows were not stored (read again at the next poll)", why);
    else if (rc == SR_ECORRUPT)
        snprintf(s->h.last_error, sizeof s->h.last_error,
                 SR_SOURCE_CACHE_DAMAGED " (%s): the poll's rows were not stored; see sitrep "
                                         "check-cache",
                 why);
    else
        snprintf(s->h.last_error, sizeof s->h.last_error, "cannot write to the cache: %s (%s)",
                 sr_strerror(rc), why);
}

static void after_work_cb(uv_work_t *w, int status)
{
    source *s = w->data;
    uv_timer_stop(&s->timeout_timer);
    sr_ms took = (sr_ms)(uv_now(s->c->loop) - s->started);
    int ok = status == 0 && s->poll_rc == 0 && !s->timed_out;

    sr_source_health h = s->h; /* becomes s->h only once committed */
    h.polls++;
    h.last_poll_ms = s->info.now_ms;
    if (ok) {
        h.last_ok_ms = s->info.now_ms;
        h.cursor_ms = s->info.cursor_ms ? s->info.cursor_ms : s->info.now_ms;
        h.last_error[0] = 0;
    } else {
        h.failures++;
        if (s->timed_out)
            snprintf(h.last_error, sizeof h.last_error,
                     "the poll ran %lld ms, longer than its timeout of %lld ms", (long long)took,
                     (long long)s->timeout_ms);
        else
            snprintf(h.last_error, sizeof h.last_error, "%s",
                     status      ? "the poll was cancelled"
                     : s->err[0] ? s->err
                                 : "the adapter failed without saying why");
        /* samples read before a failure are kept, but the cursor stays */
    }
    /* the next poll is part of the health a viewer reads: decided before the write */
    sr_ms backoff = s->backoff_ms;
    sr_ms next = next_delay(s, ok, took);
    h.next_poll_ms = sr_now_ms() + next;
    int64_t acc = 0, dup = 0, rej = 0;
    int rc = write_batch(s, &h, &acc, &dup, &rej);
    if (rc) {
        ok = 0;
        s->h.polls++;
        s->h.failures++;
        s->h.last_poll_ms = s->info.now_ms;
        write_failed(s, rc);
        acc = dup = rej = 0;
        s->backoff_ms = backoff;
        next = next_delay(s, ok, took);
        s->h.next_poll_ms = sr_now_ms() + next;
        /* for viewers and `sitrep sources`: the health row alone, which a
         * full or damaged cache may refuse too */
        sr_store_source_put(s->c->st, &s->h);
    } else {
        s->h = h;
    }
    int more = ok && s->info.more;
    if (ok)
        s->loading = sr_poll_percent(s->a, &s->info);
    batch_clear(&s->b);
    s->timed_out = 0;
    if (s->c->report) {
        sr_poll_report r = {&s->h, acc, dup, rej, ok, took > s->timeout_ms, next, took, more};
        s->c->report(s->c->report_ctx, &r);
    }
    s->busy = 0; /* only now: a stop from the report callback waits for us */
    if (s->c->stopping) {
        uv_close((uv_handle_t *)&s->timer, handle_closed);
        uv_close((uv_handle_t *)&s->timeout_timer, handle_closed);
        return;
    }
    schedule(s, next);
}

int sr_poll_percent(const sr_adapter *a, const sr_poll_info *info)
{
    if (!a || a->abi_version < 2 || !info->more || info->progress_total <= 0)
        return -1;
    if (info->progress_done <= 0)
        return 0;
    if (info->progress_done >= info->progress_total)
        return 99;
    /* in double: a plugin's units may be large enough to overflow done * 100 */
    int pct = (int)((double)info->progress_done * 100.0 / (double)info->progress_total);
    return pct > 99 ? 99 : pct;
}

int sr_collector_loading(const sr_collector *c)
{
    int least = -1;
    for (size_t i = 0; i < c->n; i++) {
        int p = c->src[i]->loading;
        if (p >= 0 && (least < 0 || p < least))
            least = p;
    }
    return least;
}

static void timeout_cb(uv_timer_t *t)
{
    source *s = t->data;
    if (!s->busy)
        return;
    s->timed_out = 1;
    /* tell viewers now, not when the stuck poll returns (which counts it) */
    sr_source_health h = s->h;
    snprintf(h.last_error, sizeof h.last_error,
             "the poll has run longer than its timeout of %lld ms", (long long)s->timeout_ms);
    sr_store_source_put(s->c->st, &h);
}

static void tick_cb(uv_timer_t *t)
{
    source *s = t->data;
    if (s->busy || s->c->stopping)
        return;
    try_open(s);
    if (!s->opened) {
        s->h.failures++;
        s->h.polls++;
        s->h.last_poll_ms = sr_now_ms();
        s->h.next_poll_ms = s->h.last_poll_ms + next_delay(s, 0, 0);
        sr_store_source_put(s->c->st, &s->h);
        if (s->c->report) {
            sr_poll_report r = {&s->h, 0, 0, 0, 0, 0, s->backoff_ms, 0, 0};
            s->c->report(s->c->report_ctx, &r);
        }
        if (!s->c->stopping)
            schedule(s, s->backoff_ms);
        return;
    }
    memset(&s->info, 0, sizeof s->info);
    s->info.now_ms = sr_now_ms();
    s->info.since_ms = s->h.cursor_ms;
    s->info.timeout_ms = s->timeout_ms;
    s->err[0] = 0;
    s->poll_rc = 0;
    s->work.data = s;
    s->started = uv_now(s->c->loop);
    if (uv_queue_work(s->c->loop, &s->work, work_cb, after_work_cb) != 0) {
        snprintf(s->h.last_error, sizeof s->h.last_error, "cannot queue the poll");
        schedule(s, s->interval_ms);
        return;
    }
    s->busy = 1;
    uv_timer_start(&s->timeout_timer, timeout_cb, (uint64_t)s->timeout_ms, 0);
}

static void schedule(source *s, sr_ms delay)
{
    uv_timer_start(&s->timer, tick_cb, (uint64_t)(delay < 0 ? 0 : delay), 0);
}

int sr_collector_start(sr_collector *c)
{
    for (size_t i = 0; i < c->n; i++)
        schedule(c->src[i], 0);
    return 0;
}

static void handle_closed(uv_handle_t *h)
{
    source *s = h->data;
    sr_collector *c = s->c;
    if (--c->open_handles == 0 && c->done) {
        for (size_t i = 0; i < c->n; i++) {
            /* no poll is coming: say so to viewers */
            c->src[i]->h.next_poll_ms = 0;
            if (c->src[i]->h.polls > 0)
                sr_store_source_put(c->st, &c->src[i]->h);
            if (c->src[i]->opened)
                c->src[i]->a->close(c->src[i]->state);
            c->src[i]->opened = 0;
        }
        void (*done)(void *) = c->done;
        c->done = NULL;
        done(c->done_ctx);
    }
}

void sr_collector_stop(sr_collector *c, void (*done)(void *ctx), void *ctx)
{
    if (c->stopping)
        return;
    c->stopping = 1;
    c->done = done;
    c->done_ctx = ctx;
    if (c->open_handles == 0) {
        if (done)
            done(ctx);
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        source *s = c->src[i];
        uv_timer_stop(&s->timer);
        if (!s->busy) {
            uv_close((uv_handle_t *)&s->timer, handle_closed);
            uv_close((uv_handle_t *)&s->timeout_timer, handle_closed);
        }
        /* a busy source closes its handles when its poll completes */
    }
}

void sr_collector_destroy(sr_collector *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        source *s = c->src[i];
        if (s->opened)
            s->a->close(s->state);
        options_free(s->optv, s->opts.n);
        for (size_t j = 0; j < s->opts.n_maps; j++) {
            free((char *)s->maps[j].name);
            options_free((sr_ad_option *)s->maps[j].v, s->maps[j].n);
        }
        free(s->maps);
        free(s->config_dir);
        free(s->timezone);
        batch_clear(&s->b);
        free(s);
    }
    free(c->src);
    free(c);
}
