/*
 * ingest_pipe.c - sr_ingest_csv with the parse on a thread of its own.
 *
 * A bulk load spends about a quarter of its time reading and splitting the
 * CSV (libcsv, times, decimals) and the rest in the store. On two cores the
 * two can overlap: a parse thread runs sr_ingest_csv() into a relay sink,
 * and the caller's thread replays what it relays into the real sink. The
 * real sink thus runs where it always did (the store's connection never
 * changes thread), its calls come in the file's order, and it sees exactly
 * the rows and rejects sr_ingest_csv would have given it, with their lines.
 *
 * Data flow. The relay copies each call (the sample's strings, or a
 * reject's text and reason) into a batch: an array of events and one text
 * arena. A full batch goes onto the queue; at most QUEUE_MAX batches wait
 * there, so memory stays bounded (a few MiB) however large the file: the
 * parse thread waits for a free batch when it runs ahead. Batches are reused,
 * never freed before the end.
 *
 * Stopping. When the real sink returns non-zero the caller's thread stops
 * replaying, sets `stop` and wakes the parse thread, whose next relayed
 * call that ships a batch returns that code: sr_ingest_csv() then ends as
 * with the real sink, having parsed at most a batch further (its stats
 * count those rows too). The code is returned; nothing after the row that
 * stopped it is replayed.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"

#define BATCH_EVENTS 4096
#define QUEUE_MAX 2 /* full batches waiting; one more is being filled, one replayed */
#define NONE SIZE_MAX

typedef struct {
    bool reject;
    long line;
    const char *metric; /* the catalog's name: lives as long as the catalog */
    sr_ms ts_ms;
    double value;
    size_t entity, key; /* row: offsets into the text arena; key NONE = NULL */
    size_t raw, reason; /* reject: offsets into the text arena */
} event;

typedef struct batch {
    event *ev;
    size_t n;
    char *text;
    size_t len, cap;
    struct batch *next;
} batch;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch *head, *tail; /* full batches, oldest first */
    size_t queued;
    batch *spare; /* empty batches */
    bool done;    /* the parse has returned */
    int stop;     /* set by the replaying side: the real sink's code */

    batch *cur; /* parse thread only: the batch being filled */
    int parse_rc;

    FILE *f;
    const sr_catalog *cat;
    const char *tz;
    sr_ingest_stats *stats;
    char *err;
    size_t errlen;
} relay;

static batch *batch_new(void)
{
    batch *b = calloc(1, sizeof *b);
    if (b && !(b->ev = malloc(BATCH_EVENTS * sizeof *b->ev))) {
        free(b);
        b = NULL;
    }
    return b;
}

static void batch_free(batch *b)
{
    if (b) {
        free(b->ev);
        free(b->text);
        free(b);
    }
}

/* Copies s (NUL included) into b's arena; NONE when out of memory. */
static size_t keep(batch *b, const char *s)
{
    size_t n = strlen(s) + 1;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64 * 1024;
        while (cap < b->len + n)
            cap *= 2;
        char *t = realloc(b->text, cap);
        if (!t)
            return NONE;
        b->text = t;
        b->cap = cap;
    }
    memcpy(b->text + b->len, s, n);
    b->len += n;
    return b->len - n;
}

/* Parse thread: hands the batch being filled over to the replaying side and
 * takes an empty one, waiting while QUEUE_MAX batches are queued. Returns
 * the replaying side's stop code, or SR_ENOMEM. */
static int ship(relay *r)
{
    pthread_mutex_lock(&r->mu);
    while (r->queued >= QUEUE_MAX && !r->stop)
        pthread_cond_wait(&r->cv, &r->mu);
    int rc = r->stop;
    if (!rc) {
        r->cur->next = NULL;
        if (r->tail)
            r->tail->next = r->cur;
        else
            r->head = r->cur;
        r->tail = r->cur;
        r->queued++;
        r->cur = r->spare;
        if (r->cur)
            r->spare = r->cur->next;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    if (!rc && !r->cur && !(r->cur = batch_new()))
        rc = SR_ENOMEM;
    if (r->cur)
        r->cur->n = r->cur->len = 0;
    return rc;
}

/* Parse thread: the next event of the batch being filled. A stop is seen
 * when a batch is shipped: the parse runs at most a batch past it. */
static int next_event(relay *r, event **out)
{
    if (r->cur->n == BATCH_EVENTS) {
        int rc = ship(r);
        if (rc)
            return rc;
    }
    *out = &r->cur->ev[r->cur->n];
    return 0;
}

static int relay_row(void *ctx, long line, const sr_sample *s)
{
    relay *r = ctx;
    event *e;
    int rc = next_event(r, &e);
    if (rc)
        return rc;
    *e = (event){.line = line, .metric = s->metric, .ts_ms = s->ts_ms, .value = s->value};
    e->entity = keep(r->cur, s->entity);
    e->key = s->key ? keep(r->cur, s->key) : NONE;
    if (e->entity == NONE || (s->key && e->key == NONE))
        return SR_ENOMEM;
    r->cur->n++;
    return 0;
}

static int relay_reject(void *ctx, long line, const char *raw, const char *reason)
{
    relay *r = ctx;
    event *e;
    int rc = next_event(r, &e);
    if (rc)
        return rc;
    *e = (event){.reject = true, .line = line};
    e->raw = keep(r->cur, raw);
    e->reason = keep(r->cur, reason);
    if (e->raw == NONE || e->reason == NONE)
        return SR_ENOMEM;
    r->cur->n++;
    return 0;
}

static void *parse_main(void *arg)
{
    relay *r = arg;
    sr_ingest_sink sink = {r, relay_row, relay_reject};
    int rc = sr_ingest_csv(r->f, r->cat, r->tz, &sink, r->stats, r->err, r->errlen);
    if (r->cur && r->cur->n) {
        /* the last, part-filled batch: also before a read error, as the
         * plain parse would have given those rows before failing */
        int last = ship(r);
        if (!rc)
            rc = last;
    }
    pthread_mutex_lock(&r->mu);
    r->parse_rc = rc;
    r->done = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* Caller's thread: every event of b, in order, to the real sink. */
static int replay(const batch *b, const sr_ingest_sink *sink)
{
    for (size_t i = 0; i < b->n; i++) {
        const event *e = &b->ev[i];
        int rc;
        if (e->reject) {
            rc = sink->reject(sink->ctx, e->line, b->text + e->raw, b->text + e->reason);
        } else {
            sr_sample s = {.metric = e->metric,
                           .entity = b->text + e->entity,
                           .ts_ms = e->ts_ms,
                           .value = e->value,
                           .key = e->key == NONE ? NULL : b->text + e->key};
            rc = sink->row(sink->ctx, e->line, &s);
        }
        if (rc)
            return rc;
    }
    return 0;
}

int sr_ingest_csv_pipelined(FILE *f, const sr_catalog *cat, const char *tz,
                            const sr_ingest_sink *sink, sr_ingest_stats *stats, char *err,
                            size_t errlen)
{
    if (!sink || !sink->row || !sink->reject)
        return sr_ingest_csv(f, cat, tz, sink, stats, err, errlen); /* its own message */
    relay r = {.f = f, .cat = cat, .tz = tz, .stats = stats, .err = err, .errlen = errlen};
    if (!(r.cur = batch_new()))
        return SR_ENOMEM;
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    pthread_t th;
    if (pthread_create(&th, NULL, parse_main, &r) != 0) {
        /* no second thread to be had: the same parse, on this one */
        pthread_mutex_destroy(&r.mu);
        pthread_cond_destroy(&r.cv);
        batch_free(r.cur);
        return sr_ingest_csv(f, cat, tz, sink, stats, err, errlen);
    }
    int rc = 0;
    pthread_mutex_lock(&r.mu);
    for (;;) {
        while (!r.head && !r.done)
            pthread_cond_wait(&r.cv, &r.mu);
        batch *b = r.head;
        if (!b)
            break; /* done, and everything replayed */
        r.head = b->next;
        if (!r.head)
            r.tail = NULL;
        r.queued--;
        pthread_cond_broadcast(&r.cv);
        pthread_mutex_unlock(&r.mu);
        rc = replay(b, sink);
        pthread_mutex_lock(&r.mu);
        b->next = r.spare;
        r.spare = b;
        if (rc) {
            r.stop = rc;
            pthread_cond_broadcast(&r.cv);
            break;
        }
    }
    pthread_mutex_unlock(&r.mu);
    pthread_join(th, NULL);
    if (!rc)
        rc = r.parse_rc;
    batch_free(r.cur);
    for (batch *b = r.head; b;) {
        batch *next = b->next;
        batch_free(b);
        b = next;
    }
    for (batch *b = r.spare; b;) {
        batch *next = b->next;
        batch_free(b);
        b = next;
    }
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.cv);
    return rc;
}
