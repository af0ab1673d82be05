/*
 * test_sim.c - the simulator adapter through its ABI table, with a mock
 * sink that collects what it is given (in the spirit of collectd's
 * plugin_mock.c): open() option checks, determinism, split invariance,
 * backfill in day chunks, the shape of the force, and the plausibility of
 * the numbers it makes up.
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../adapters/adapter.h"

extern const sr_adapter sr_adapter_sim;

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define SLOT (15 * MIN)
#define GAUGE (30 * MIN)

/* Wednesday 2024-03-06 00:00:00 UTC. */
#define WED (1709683200LL * SEC)

/* Every metric the simulator must emit, in family order. */
static const char *const metric_names[] = {
    "response_p1",       "response_p2",         "response_p3",         "calls",
    "overtime_hours",    "regular_hours",       "budget_spent",        "budget_plan",
    "cases_open",        "cases_age_0_30",      "cases_age_31_90",     "cases_age_91_180",
    "cases_age_181_365", "cases_age_over_365",  "vehicles_in_service", "fleet_size",
    "equipment_in_use",  "equipment_available", "officer_overtime",
};
#define N_METRICS (int)(sizeof metric_names / sizeof metric_names[0])
enum {
    M_P1,
    M_P2,
    M_P3,
    M_CALLS,
    M_OVERTIME,
    M_REGULAR,
    M_SPENT,
    M_PLAN,
    M_CASES,
    M_AGE0,
    M_AGE4 = M_AGE0 + 4,
    M_IN_SERVICE,
    M_FLEET,
    M_IN_USE,
    M_AVAILABLE,
    M_OFFICER_OT,
};

/* ---- the mock sink ---- */

typedef struct {
    int metric; /* index into metric_names */
    int entity; /* index into mock_sink.entities */
    int64_t ts_ms;
    double value;
    char key[48];
} sample;

#define MAX_ENTITIES 1024

typedef struct {
    sr_sink sink; /* first, so the callbacks can cast */
    sample *v;
    size_t n, cap;
    char *entities[MAX_ENTITIES];
    int n_entities, last_entity;
    const char *only; /* keep only metrics starting with this; NULL = all */
    size_t emits;     /* calls to emit, kept or not */
    long fail_at;     /* emit number (0-based) that returns -1; < 0 = never */
    int bad;          /* unknown metric, NULL field, key too long, too many entities */
    size_t rejects;
} mock_sink;

static int mock_entity(mock_sink *m, const char *entity)
{
    if (m->n_entities > 0 && strcmp(m->entities[m->last_entity], entity) == 0)
        return m->last_entity;
    for (int i = 0; i < m->n_entities; i++) {
        if (strcmp(m->entities[i], entity) == 0)
            return m->last_entity = i;
    }
    if (m->n_entities == MAX_ENTITIES)
        return -1;
    m->entities[m->n_entities] = strdup(entity);
    return m->last_entity = m->n_entities++;
}

static int mock_emit(sr_sink *sink, const sr_ad_sample *s)
{
    mock_sink *m = (mock_sink *)sink;
    if (m->fail_at >= 0 && (long)m->emits == m->fail_at) {
        m->emits++;
        return -1;
    }
    m->emits++;
    if (!s->metric || !s->entity || !s->key || strlen(s->key) >= sizeof m->v[0].key) {
        m->bad++;
        return 0;
    }
    if (m->only && strncmp(s->metric, m->only, strlen(m->only)) != 0)
        return 0;
    int metric = -1;
    for (int i = 0; i < N_METRICS; i++) {
        if (strcmp(metric_names[i], s->metric) == 0)
            metric = i;
    }
    int entity = mock_entity(m, s->entity);
    if (metric < 0 || entity < 0) {
        m->bad++;
        return 0;
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 4096;
        m->v = realloc(m->v, m->cap * sizeof *m->v);
        cr_assert(m->v != NULL);
    }
    sample *d = &m->v[m->n++];
    d->metric = metric;
    d->entity = entity;
    d->ts_ms = s->ts_ms;
    d->value = s->value;
    strcpy(d->key, s->key);
    return 0;
}

static int mock_reject(sr_sink *sink, const char *where, const char *raw, const char *reason)
{
    (void)where;
    (void)raw;
    (void)reason;
    ((mock_sink *)sink)->rejects++;
    return 0;
}

static void mock_init(mock_sink *m, const char *only)
{
    memset(m, 0, sizeof *m);
    m->sink.ctx = m;
    m->sink.emit = mock_emit;
    m->sink.reject = mock_reject;
    m->only = only;
    m->fail_at = -1;
}

static void mock_fini(mock_sink *m)
{
    for (int i = 0; i < m->n_entities; i++)
        free(m->entities[i]);
    free(m->v);
}

/* ---- helpers ---- */

static void *open_sim(const char *seed, const char *backfill, const char *root)
{
    sr_ad_option v[3];
    size_t n = 0;
    if (seed)
        v[n++] = (sr_ad_option){"seed", seed, 1};
    if (backfill)
        v[n++] = (sr_ad_option){"backfill", backfill, 2};
    if (root)
        v[n++] = (sr_ad_option){"root", root, 3};
    sr_ad_options opts = {.v = v, .n = n, .name = "sim", .config_dir = "."};
    void *st = NULL;
    char err[256] = "";
    int rc = sr_adapter_sim.open(&opts, &st, err, sizeof err);
    cr_assert_eq(rc, 0, "open failed: %s", err);
    cr_assert_not_null(st);
    return st;
}

/* One poll; returns its rc and fills *info. */
static int poll_once(void *st, int64_t since, int64_t now, int64_t timeout_ms, mock_sink *m,
                     sr_poll_info *info)
{
    char err[256] = "";
    *info = (sr_poll_info){.now_ms = now, .since_ms = since, .timeout_ms = timeout_ms};
    return sr_adapter_sim.poll(st, info, &m->sink, err, sizeof err);
}

/* Polls (since, now] to the end, following more/cursor_ms; returns the number of polls. */
static int poll_all(void *st, int64_t since, int64_t now, int64_t timeout_ms, mock_sink *m)
{
    sr_poll_info info;
    int polls = 0;
    do {
        cr_assert_eq(poll_once(st, since, now, timeout_ms, m, &info), 0);
        polls++;
        cr_assert_leq(polls, 10000, "poll never finishes");
        if (info.more) {
            cr_assert_gt(info.cursor_ms, since, "cursor did not advance");
            cr_assert_lt(info.cursor_ms, now);
        } else {
            cr_assert_eq(info.cursor_ms, now);
        }
        since = info.cursor_ms;
    } while (info.more);
    return polls;
}

/* Collects (since, now] from a fresh state. */
static void collect(const char *seed, const char *backfill, int64_t since, int64_t now,
                    const char *only, mock_sink *m)
{
    void *st = open_sim(seed, backfill, NULL);
    mock_init(m, only);
    poll_all(st, since, now, 0, m);
    sr_adapter_sim.close(st);
    cr_assert_eq(m->bad, 0, "the sink saw %d malformed samples", m->bad);
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const sample *)a)->key, ((const sample *)b)->key);
}

/* Same samples, compared as sets by key (sorts both). */
static void assert_same_set(mock_sink *x, mock_sink *y)
{
    cr_assert_eq(x->n, y->n, "%zu samples vs %zu", x->n, y->n);
    qsort(x->v, x->n, sizeof *x->v, by_key);
    qsort(y->v, y->n, sizeof *y->v, by_key);
    for (size_t i = 0; i < x->n; i++) {
        const sample *a = &x->v[i], *b = &y->v[i];
        cr_assert_str_eq(a->key, b->key);
        cr_assert_eq(a->metric, b->metric, "%s", a->key);
        cr_assert_str_eq(x->entities[a->entity], y->entities[b->entity], "%s", a->key);
        cr_assert_eq(a->ts_ms, b->ts_ms, "%s", a->key);
        cr_assert_eq(a->value, b->value, "%s", a->key);
    }
}

/* When a sample became available: what the poll contract is about. */
static int64_t available_at(const sample *s)
{
    if (s->metric <= M_P3)
        return s->ts_ms + (int64_t)s->value * SEC;
    if (s->metric <= M_PLAN || s->metric == M_OFFICER_OT)
        return s->ts_ms + SLOT;
    return s->ts_ms + GAUGE;
}

static int hour_of(int64_t ts_ms)
{
    return (int)((ts_ms % DAY) / HOUR);
}

/* 0 = Sunday. */
static int weekday_of(int64_t ts_ms)
{
    return (int)((ts_ms / DAY + 4) % 7);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Exact percentile, linear between closest ranks (sorts v). */
static double percentile(double *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, cmp_double);
    double r = p / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(r), hi = lo + 1 < n ? lo + 1 : lo;
    return v[lo] + (v[hi] - v[lo]) * (r - (double)lo);
}

/* Values of one metric, optionally only hours [h0, h1). */
static double *values_of(const mock_sink *m, int metric, int h0, int h1, size_t *n)
{
    double *v = malloc((m->n + 1) * sizeof *v);
    cr_assert_not_null(v);
    *n = 0;
    for (size_t i = 0; i < m->n; i++) {
        int h = hour_of(m->v[i].ts_ms);
        if (m->v[i].metric == metric && h >= h0 && h < h1)
            v[(*n)++] = m->v[i].value;
    }
    return v;
}

/* ---- the table and open() ---- */

Test(sim, table_and_option_spec)
{
    cr_assert_eq(sr_adapter_sim.abi_version, SR_ADAPTER_ABI);
    cr_assert_str_eq(sr_adapter_sim.type, "sim");
    cr_assert(sr_adapter_sim.open && sr_adapter_sim.poll && sr_adapter_sim.close);
    const char *want[] = {"seed", "backfill", "root", "surge"};
    for (size_t w = 0; w < 4; w++) {
        int found = 0;
        for (const sr_ad_option_spec *o = sr_adapter_sim.options; o->key; o++) {
            if (strcmp(o->key, want[w]) == 0) {
                found = 1;
                cr_assert_eq(o->required, 0, "%s should be optional", o->key);
                cr_assert(o->help && strlen(o->help) > 10, "%s has no help", o->key);
            }
        }
        cr_assert(found, "option %s is not declared", want[w]);
    }
}

Test(sim, open_good_options)
{
    const char *backfills[] = {"14d", "12h", "30m", "1d12h", "500ms", "90s", "0s"};
    for (size_t i = 0; i < sizeof backfills / sizeof backfills[0]; i++)
        sr_adapter_sim.close(open_sim("42", backfills[i], "met"));
    const char *seeds[] = {"0", "-7", "+3", "18446744073709551615", "-9223372036854775808"};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        sr_adapter_sim.close(open_sim(seeds[i], NULL, NULL));
    sr_adapter_sim.close(open_sim(NULL, NULL, NULL));

    /* Keys of other adapter types are config validation's business. */
    sr_ad_option v[] = {{"type", "sim", 1}, {"interval", "5s", 2}, {"colour", "blue", 3}};
    sr_ad_options opts = {.v = v, .n = 3, .name = "demo", .config_dir = "."};
    void *st = NULL;
    char err[256] = "";
    cr_assert_eq(sr_adapter_sim.open(&opts, &st, err, sizeof err), 0, "%s", err);
    cr_assert_not_null(st);
    sr_adapter_sim.close(st);
}

/* open() with one bad option must fail, leave *state alone, and name the
 * option and the offending text. */
static void assert_open_fails(const char *key, const char *value)
{
    sr_ad_option v[] = {{key, value, 7}};
    sr_ad_options opts = {.v = v, .n = 1, .name = "sim", .config_dir = "."};
    void *sentinel = (void *)&opts, *st = sentinel;
    char err[256] = "";
    int rc = sr_adapter_sim.open(&opts, &st, err, sizeof err);
    cr_assert_lt(rc, 0, "%s = '%s' was accepted", key, value);
    cr_assert_eq(st, sentinel, "state touched on failure");
    cr_assert(strncmp(err, key, strlen(key)) == 0, "message does not start with %s: %s", key, err);
    char quoted[128];
    snprintf(quoted, sizeof quoted, "'%s'", value);
    cr_assert(strstr(err, quoted), "message does not quote the value: %s", err);
}

Test(sim, open_bad_seed)
{
    const char *bad[] = {
        "x", "", "1.5", "12abc", " 1", "99999999999999999999", "-", "-9223372036854775809"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_open_fails("seed", bad[i]);
}

Test(sim, open_bad_backfill)
{
    const char *bad[] = {"x",   "",     "14",   "14w", "-1d",  "d",
                         "1d2", "1.5d", "14 d", "14D", "367d", "99999999999999999999d",
                         "1mss"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_open_fails("backfill", bad[i]);
}

Test(sim, open_bad_root)
{
    char long_root[80];
    memset(long_root, 'a', 65);
    long_root[65] = '\0';
    const char *bad[] = {"", "a/b", "x y", "..", "bad\x1b[31m", long_root};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_open_fails("root", bad[i]);
}

Test(sim, open_bad_surge)
{
    const char *bad[] = {"",
                         "district-0",
                         "district-17",
                         "district-07",
                         "district-",
                         "district-1x",
                         "district- 7",
                         "7",
                         "force/north/district-3",
                         "district-99999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_open_fails("surge", bad[i]);
}

Test(sim, root_option_names_the_top)
{
    void *st = open_sim("1", "1h", "met_police");
    mock_sink m;
    mock_init(&m, NULL);
    poll_all(st, 0, WED, 0, &m);
    cr_assert_gt(m.n_entities, 0);
    for (int i = 0; i < m.n_entities; i++)
        cr_assert(strncmp(m.entities[i], "met_police/", 11) == 0, "%s", m.entities[i]);
    sr_adapter_sim.close(st);
    mock_fini(&m);
}

/* ---- the poll contract ---- */

Test(sim, deterministic_by_seed)
{
    mock_sink a, b, c;
    collect("7", NULL, WED, WED + DAY, NULL, &a);
    collect("7", NULL, WED, WED + DAY, NULL, &b);
    collect("8", NULL, WED, WED + DAY, NULL, &c);
    cr_assert_gt(a.n, 10000);
    /* Same seed: the very same samples in the very same order. */
    cr_assert_eq(a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
        cr_assert_str_eq(a.v[i].key, b.v[i].key);
        cr_assert_eq(a.v[i].value, b.v[i].value, "%s", a.v[i].key);
        cr_assert_eq(a.v[i].ts_ms, b.v[i].ts_ms, "%s", a.v[i].key);
    }
    /* Another seed: another force. Compare the calls counters by key. */
    size_t differ = 0, same_key = 0;
    qsort(a.v, a.n, sizeof *a.v, by_key);
    qsort(c.v, c.n, sizeof *c.v, by_key);
    for (size_t i = 0, j = 0; i < a.n && j < c.n;) {
        int k = strcmp(a.v[i].key, c.v[j].key);
        if (k == 0) {
            same_key++;
            differ += a.v[i].value != c.v[j].value;
            i++;
            j++;
        } else if (k < 0) {
            i++;
        } else {
            j++;
        }
    }
    cr_assert_gt(same_key, 10000);
    cr_assert_gt(differ, same_key / 4, "seed 8 differs from seed 7 in only %zu of %zu", differ,
                 same_key);
    mock_fini(&a);
    mock_fini(&b);
    mock_fini(&c);
}

Test(sim, split_invariance)
{
    int64_t t0 = WED + 3 * HOUR + 17 * SEC + 250;
    int64_t t2 = t0 + 20 * HOUR;
    int64_t t1 = t0 + 7 * HOUR + 13 * MIN + 27 * SEC + 123;

    mock_sink whole, halves, crumbs;
    collect("3", NULL, t0, t2, NULL, &whole);
    cr_assert_gt(whole.n, 10000);

    void *st = open_sim("3", NULL, NULL);
    mock_init(&halves, NULL);
    poll_all(st, t0, t1, 0, &halves);
    poll_all(st, t1, t2, 0, &halves);
    assert_same_set(&whole, &halves);

    /* Many small polls of odd lengths, as a live collector makes them. */
    mock_init(&crumbs, NULL);
    int64_t step = 4 * MIN + 37 * SEC + 501;
    for (int64_t a = t0; a < t2; a += step)
        poll_all(st, a, a + step < t2 ? a + step : t2, 0, &crumbs);
    assert_same_set(&whole, &crumbs);

    /* Polls on whole minutes, where some incidents arrive exactly on a
     * boundary (arrivals are whole seconds): each is emitted once. */
    mock_sink minutes;
    mock_init(&minutes, NULL);
    int64_t a = t0, next = (t0 / MIN + 1) * MIN;
    for (; a < t2; a = next, next += 2 * MIN)
        poll_all(st, a, next < t2 ? next : t2, 0, &minutes);
    assert_same_set(&whole, &minutes);
    sr_adapter_sim.close(st);
    mock_fini(&whole);
    mock_fini(&halves);
    mock_fini(&crumbs);
    mock_fini(&minutes);
}

Test(sim, backfill_in_day_chunks)
{
    int64_t now = WED + 14 * DAY + 10 * HOUR + 7 * MIN + 33 * SEC + 250;
    void *st = open_sim("1", NULL, NULL);
    mock_sink m;
    mock_init(&m, NULL);

    /* The first poll (since 0) emits one day and asks to be called again. */
    int64_t since = 0;
    int polls = 0;
    size_t per_poll_max = 0, before = 0;
    sr_poll_info info;
    do {
        cr_assert_eq(poll_once(st, since, now, 10000, &m, &info), 0);
        polls++;
        if (polls < 14) {
            cr_assert_eq(info.more, 1, "poll %d", polls);
            cr_assert_eq(info.cursor_ms, now - 14 * DAY + polls * DAY, "poll %d", polls);
        }
        per_poll_max = m.n - before > per_poll_max ? m.n - before : per_poll_max;
        before = m.n;
        since = info.cursor_ms;
    } while (info.more && polls < 100);
    cr_assert_eq(polls, 14);
    cr_assert_eq(info.more, 0);
    cr_assert_eq(info.cursor_ms, now);
    cr_assert_eq(m.bad, 0);
    cr_assert_eq(m.rejects, 0);

    /* It covers exactly (now - 14d, now]. */
    size_t count[N_METRICS] = {0};
    for (size_t i = 0; i < m.n; i++) {
        int64_t t = available_at(&m.v[i]);
        cr_assert(t > now - 14 * DAY && t <= now, "%s available at %" PRId64, m.v[i].key, t);
        count[m.v[i].metric]++;
    }
    cr_assert_eq(count[M_CALLS], 64 * 14 * 96);
    cr_assert_eq(count[M_PLAN], 64 * 14 * 96);
    cr_assert_eq(count[M_CASES], 64 * 14 * 48);
    cr_assert_eq(count[M_AVAILABLE], 64 * 14 * 48);

    /* Size: 0.7 to 1 million samples, at most about a day's worth per poll. */
    cr_assert(m.n >= 700000 && m.n <= 1000000, "%zu samples in 14 days", m.n);
    cr_assert_lt(per_poll_max, m.n / 10);
    size_t events = count[M_P1] + count[M_P2] + count[M_P3];
    cr_log_info("14-day backfill: %zu samples (%zu events, %zu counters, %zu gauges), %d polls",
                m.n, events, 5 * count[M_CALLS], 10 * count[M_CASES], polls);

    /* Keys are unique. */
    qsort(m.v, m.n, sizeof *m.v, by_key);
    for (size_t i = 1; i < m.n; i++)
        cr_assert_str_neq(m.v[i - 1].key, m.v[i].key);

    /* A cursor older than the backfill starts at now - backfill too. */
    mock_sink old;
    mock_init(&old, "calls");
    cr_assert_eq(poll_once(st, now - 30 * DAY, now, 0, &old, &info), 0);
    cr_assert_eq(info.more, 1);
    cr_assert_eq(info.cursor_ms, now - 13 * DAY);
    cr_assert_eq(old.n, 64 * 96);

    /* And live polls afterwards are small and complete. */
    mock_sink live;
    mock_init(&live, NULL);
    cr_assert_eq(poll_once(st, now, now + 5 * SEC, 0, &live, &info), 0);
    cr_assert_eq(info.more, 0);
    cr_assert_eq(info.cursor_ms, now + 5 * SEC);
    cr_assert_lt(live.n, 2000);
    sr_adapter_sim.close(st);
    mock_fini(&m);
    mock_fini(&old);
    mock_fini(&live);
}

/*
 * Each chunk says how far the backfill has got: the time covered since it
 * began of the span from there to the poll's now, which moves on between
 * polls as it does in the collector. A catch-up after a pause begins at
 * its own start; a poll that reaches now says nothing.
 */
Test(sim, backfill_reports_its_progress)
{
    int64_t now = WED + 14 * DAY + 3 * HOUR;
    int64_t origin = now + SEC - 14 * DAY; /* the first poll's now - backfill */
    void *st = open_sim("1", NULL, NULL);
    mock_sink m;
    mock_init(&m, "calls");
    sr_poll_info info;
    int64_t since = 0;
    /* 14 days and the 14 seconds that passed meanwhile: 15 polls */
    for (int poll = 1; poll <= 14; poll++) {
        int64_t t = now + poll * SEC;
        cr_assert_eq(poll_once(st, since, t, 0, &m, &info), 0);
        cr_assert_eq(info.more, 1, "poll %d", poll);
        cr_assert_eq(info.progress_done, poll * DAY, "poll %d", poll);
        cr_assert_eq(info.progress_total, t - origin, "poll %d", poll);
        since = info.cursor_ms;
    }
    cr_assert_eq(poll_once(st, since, now + 15 * SEC, 0, &m, &info), 0);
    cr_assert_eq(info.more, 0);
    cr_assert_eq(info.progress_total, 0, "a poll that reaches now has no progress");
    cr_assert_eq(info.progress_done, 0);

    /* three days later: a catch-up of 3 days, in chunks of its own */
    int64_t later = now + 15 * SEC + 3 * DAY;
    cr_assert_eq(poll_once(st, now + 15 * SEC, later, 0, &m, &info), 0);
    cr_assert_eq(info.more, 1);
    cr_assert_eq(info.progress_done, DAY);
    cr_assert_eq(info.progress_total, 3 * DAY);
    sr_adapter_sim.close(st);
    mock_fini(&m);
}

Test(sim, short_backfill_is_one_poll)
{
    void *st = open_sim("1", "12h", NULL);
    mock_sink m;
    mock_init(&m, "calls");
    sr_poll_info info;
    cr_assert_eq(poll_once(st, 0, WED, 0, &m, &info), 0);
    cr_assert_eq(info.more, 0);
    cr_assert_eq(info.cursor_ms, WED);
    cr_assert_eq(m.n, 64 * 48);
    sr_adapter_sim.close(st);
    mock_fini(&m);
}

Test(sim, timeout_resumes_where_it_stopped)
{
    int64_t now = WED + 2 * DAY + 5 * HOUR;
    mock_sink plain, hurried;
    collect("5", "2d", 0, now, NULL, &plain);

    /* A 1 ms budget: the poll may stop after any hour; the union is the same. */
    void *st = open_sim("5", "2d", NULL);
    mock_init(&hurried, NULL);
    int polls = poll_all(st, 0, now, 1, &hurried);
    cr_assert_geq(polls, 2);
    assert_same_set(&plain, &hurried);
    sr_adapter_sim.close(st);
    mock_fini(&plain);
    mock_fini(&hurried);
}

Test(sim, sink_refusal_stops_the_poll)
{
    void *st = open_sim("1", "1d", NULL);
    mock_sink m;
    mock_init(&m, NULL);
    m.fail_at = 100;
    sr_poll_info info;
    char err[256] = "";
    info = (sr_poll_info){.now_ms = WED, .since_ms = 0, .timeout_ms = 0};
    int rc = sr_adapter_sim.poll(st, &info, &m.sink, err, sizeof err);
    cr_assert_lt(rc, 0);
    cr_assert_eq(m.emits, 101, "kept emitting after a refusal: %zu", m.emits);
    cr_assert_eq(m.n, 100);
    cr_assert_gt(strlen(err), 0);
    sr_adapter_sim.close(st);
    mock_fini(&m);
}

/* ---- the shape of the force ---- */

Test(sim, every_metric_and_path_shape)
{
    mock_sink m;
    collect("1", NULL, WED, WED + DAY, NULL, &m);
    size_t count[N_METRICS] = {0};
    for (size_t i = 0; i < m.n; i++)
        count[m.v[i].metric]++;
    for (int i = 0; i < N_METRICS; i++)
        cr_assert_gt(count[i], 0, "%s never emitted", metric_names[i]);
    cr_log_info("one day: events p1 %zu p2 %zu p3 %zu, counters %zu, gauges %zu, total %zu",
                count[M_P1], count[M_P2], count[M_P3], 5 * count[M_CALLS], 10 * count[M_CASES],
                m.n);

    static const char *const regions[] = {"north", "south", "east", "west"};
    int seen_unit[65] = {0}, n_units = 0;
    for (int i = 0; i < m.n_entities; i++) {
        const char *e = m.entities[i];
        const char *o = strstr(e, "/officer-");
        if (o) {
            /* officer-NNNN under its unit: the unit's number times 100 plus 1..12 */
            int unit = 0, officer = 0, end = 0;
            cr_assert_eq(
                sscanf(strstr(e, "/unit-"), "/unit-%d/officer-%d%n", &unit, &officer, &end), 2,
                "%s", e);
            cr_assert_eq(strstr(e, "/unit-")[end], '\0', "%s", e);
            cr_assert(officer / 100 == unit && officer % 100 >= 1 && officer % 100 <= 12, "%s", e);
            continue;
        }
        n_units++;
        char root[64], region[16];
        int district = 0, unit = 0, end = 0;
        int got = sscanf(e, "%63[^/]/%15[^/]/district-%d/unit-%d%n", root, region, &district, &unit,
                         &end);
        cr_assert_eq(got, 4, "%s", e);
        cr_assert_eq(e[end], '\0', "%s", e);
        cr_assert_str_eq(root, "force");
        int r = -1;
        for (int k = 0; k < 4; k++) {
            if (strcmp(region, regions[k]) == 0)
                r = k;
        }
        cr_assert_geq(r, 0, "%s", e);
        cr_assert(district >= 4 * r + 1 && district <= 4 * r + 4, "%s", e);
        cr_assert(unit >= 4 * (district - 1) + 1 && unit <= 4 * district, "%s", e);
        seen_unit[unit]++;
    }
    cr_assert_eq(n_units, 64);
    for (int u = 1; u <= 64; u++)
        cr_assert_eq(seen_unit[u], 1, "unit-%d", u);
    mock_fini(&m);
}

/* The officers' overtime adds up to their unit's, slot by slot. */
Test(sim, officer_overtime_adds_up_to_the_units)
{
    mock_sink m;
    collect("1", NULL, WED, WED + DAY, NULL, &m);
    double unit_ot[65] = {0}, officer_ot[65] = {0};
    size_t officers = 0;
    for (size_t i = 0; i < m.n; i++) {
        const sample *s = &m.v[i];
        if (s->metric != M_OVERTIME && s->metric != M_OFFICER_OT)
            continue;
        int unit = 0;
        cr_assert_eq(sscanf(strstr(m.entities[s->entity], "/unit-"), "/unit-%d", &unit), 1);
        if (s->metric == M_OVERTIME) {
            unit_ot[unit] += s->value;
        } else {
            cr_assert_gt(s->value, 0, "%s", s->key);
            cr_assert_eq(s->value * 4, floor(s->value * 4), "%s: whole quarter hours", s->key);
            officer_ot[unit] += s->value;
            officers++;
        }
    }
    cr_assert_gt(officers, 64, "officer samples: %zu", officers);
    for (int u = 1; u <= 64; u++)
        cr_assert_float_eq(officer_ot[u], unit_ot[u], 1e-9, "unit-%d", u);
    mock_fini(&m);
}

static int by_entity_ts_metric(const void *pa, const void *pb)
{
    const sample *a = pa, *b = pb;
    if (a->entity != b->entity)
        return a->entity - b->entity;
    if (a->ts_ms != b->ts_ms)
        return (a->ts_ms > b->ts_ms) - (a->ts_ms < b->ts_ms);
    return a->metric - b->metric;
}

Test(sim, gauges_are_consistent)
{
    mock_sink m;
    collect("1", NULL, WED, WED + 2 * DAY, NULL, &m);
    /* Keep the gauges, grouped by unit and time. */
    size_t n = 0;
    for (size_t i = 0; i < m.n; i++) {
        if (m.v[i].metric >= M_CASES && m.v[i].metric <= M_AVAILABLE)
            m.v[n++] = m.v[i];
    }
    qsort(m.v, n, sizeof *m.v, by_entity_ts_metric);
    cr_assert_eq(n, (size_t)64 * 96 * 10);
    size_t groups = 0;
    double prev_open = -1;
    int prev_entity = -1;
    for (size_t i = 0; i < n; i += 10) {
        const sample *g = &m.v[i];
        for (int k = 0; k < 10; k++) {
            cr_assert_eq(g[k].metric, M_CASES + k, "missing gauge at %s", g[0].key);
            cr_assert_eq(g[k].entity, g[0].entity);
            cr_assert_eq(g[k].ts_ms, g[0].ts_ms);
            cr_assert_geq(g[k].value, 0, "%s", g[k].key);
            cr_assert_eq(g[k].value, floor(g[k].value), "%s is not whole", g[k].key);
        }
        double sum = 0;
        for (int k = 1; k <= 5; k++)
            sum += g[k].value;
        cr_assert_eq(sum, g[0].value, "buckets %g != cases_open %g at %s", sum, g[0].value,
                     g[0].key);
        cr_assert(g[0].value >= 40 && g[0].value <= 150, "%s = %g", g[0].key, g[0].value);
        if (g[0].entity == prev_entity)
            cr_assert_leq(fabs(g[0].value - prev_open), 4, "cases jump at %s", g[0].key);
        prev_open = g[0].value;
        prev_entity = g[0].entity;
        double in_service = g[M_IN_SERVICE - M_CASES].value, fleet = g[M_FLEET - M_CASES].value;
        double in_use = g[M_IN_USE - M_CASES].value, avail = g[M_AVAILABLE - M_CASES].value;
        cr_assert(fleet >= 3 && fleet <= 6, "fleet %g at %s", fleet, g[0].key);
        cr_assert_leq(in_service, fleet, "%s", g[0].key);
        cr_assert_leq(in_use, avail, "%s", g[0].key);
        cr_assert_gt(avail, 0, "%s", g[0].key);
        groups++;
    }
    cr_assert_eq(groups, (size_t)64 * 96);
    mock_fini(&m);
}

/* ---- plausibility ---- */

Test(sim, response_times)
{
    mock_sink m;
    collect("1", NULL, WED, WED + 7 * DAY, "response_", &m);
    for (size_t i = 0; i < m.n; i++)
        cr_assert_gt(m.v[i].value, 0, "%s", m.v[i].key);

    /* P1, day by day: a normal day's p90 is near the 15-minute target and
     * mostly under it; a day with a spike may be worse. */
    double *v = malloc(m.n * sizeof *v), p90s[7];
    cr_assert_not_null(v);
    size_t all = 0, over = 0, under_days = 0;
    for (int d = 0; d < 7; d++) {
        size_t n = 0;
        for (size_t i = 0; i < m.n; i++) {
            const sample *s = &m.v[i];
            if (s->metric == M_P1 && available_at(s) > WED + d * DAY &&
                available_at(s) <= WED + (d + 1) * DAY) {
                v[n++] = s->value;
                over += s->value > 15 * 60;
            }
        }
        cr_assert_gt(n, 150, "day %d: only %zu P1 incidents", d, n);
        all += n;
        p90s[d] = percentile(v, n, 90);
        cr_log_info("P1 day %d: n %zu, p50 %.0f s, p90 %.0f s", d, n, percentile(v, n, 50),
                    p90s[d]);
        cr_assert(p90s[d] >= 10 * 60 && p90s[d] <= 25 * 60, "day %d: P1 p90 %.0f s", d, p90s[d]);
        under_days += p90s[d] <= 15 * 60;
    }
    double typical = percentile(p90s, 7, 50);
    cr_assert(typical >= 13 * 60 && typical <= 15 * 60, "a normal day's P1 p90 is %.0f s", typical);
    cr_assert_geq(under_days, 4, "P1 p90 under target on only %zu of 7 days", under_days);
    cr_assert(over * 20 >= all && over * 100 <= all * 15, "%zu of %zu P1 over target", over, all);
    free(v);

    size_t n;
    double *p2 = values_of(&m, M_P2, 0, 24, &n);
    double med2 = percentile(p2, n, 50), p90_2 = percentile(p2, n, 90);
    cr_assert(med2 >= 20 * 60 && med2 <= 50 * 60, "P2 median %.0f s", med2);
    cr_assert_lt(p90_2, 60 * 60, "P2 p90 %.0f s", p90_2);
    free(p2);

    double *p3 = values_of(&m, M_P3, 0, 24, &n);
    double med3 = percentile(p3, n, 50), p90_3 = percentile(p3, n, 90);
    cr_assert(med3 >= 3600 && med3 <= 4 * 3600, "P3 median %.0f s", med3);
    cr_assert_lt(p90_3, 4 * 3600, "P3 p90 %.0f s", p90_3);
    free(p3);

    /* Busy hours are slower than quiet ones. */
    size_t nq, nb;
    double *quiet = values_of(&m, M_P1, 2, 7, &nq);
    double *busy = values_of(&m, M_P1, 15, 20, &nb);
    double mq = percentile(quiet, nq, 50), mb = percentile(busy, nb, 50);
    cr_assert_gt(mb, mq * 1.1, "busy median %.0f s vs quiet %.0f s", mb, mq);
    free(quiet);
    free(busy);
    mock_fini(&m);
}

Test(sim, daily_and_weekly_rhythm)
{
    mock_sink m;
    collect("1", NULL, WED, WED + 7 * DAY, NULL, &m);
    double night = 0, afternoon = 0, weekday_late = 0, weekend_late = 0;
    double staff_night = 0, staff_day = 0;
    for (size_t i = 0; i < m.n; i++) {
        const sample *s = &m.v[i];
        int h = hour_of(s->ts_ms), wd = weekday_of(s->ts_ms);
        if (s->metric == M_CALLS) {
            cr_assert_eq(s->value, floor(s->value));
            if (h >= 2 && h < 6)
                night += s->value;
            if (h >= 14 && h < 18)
                afternoon += s->value;
            /* Late evening, 20-24: Friday and Saturday against Mon-Thu. */
            if (h >= 20 && (wd == 5 || wd == 6))
                weekend_late += s->value / 2;
            if (h >= 20 && wd >= 1 && wd <= 4)
                weekday_late += s->value / 4;
        } else if (s->metric == M_REGULAR) {
            double officers = s->value / 0.25;
            cr_assert(officers >= 7 && officers <= 13, "%s: %g officers", s->key, officers);
            if (h >= 1 && h < 5)
                staff_night += s->value;
            if (h >= 10 && h < 14)
                staff_day += s->value;
        } else if (s->metric == M_OVERTIME) {
            cr_assert_geq(s->value, 0);
        }
    }
    cr_assert_lt(night * 1.5, afternoon, "night %g, afternoon %g calls", night, afternoon);
    cr_assert_gt(weekend_late, weekday_late * 1.3, "Fri/Sat evenings %g, Mon-Thu %g", weekend_late,
                 weekday_late);
    cr_assert_gt(staff_day, staff_night * 1.1, "day %g h, night %g h", staff_day, staff_night);
    mock_fini(&m);
}

Test(sim, budget_runs_near_plan)
{
    mock_sink m;
    collect("1", NULL, WED, WED + 14 * DAY, "budget_", &m);
    /* Per day, force-wide: spent / plan within 95-105%. */
    double spent[14] = {0}, plan[14] = {0};
    for (size_t i = 0; i < m.n; i++) {
        int d = (int)((m.v[i].ts_ms - WED) / DAY);
        cr_assert(d >= 0 && d < 14);
        cr_assert_gt(m.v[i].value, 0, "%s", m.v[i].key);
        if (m.v[i].metric == M_SPENT)
            spent[d] += m.v[i].value;
        else
            plan[d] += m.v[i].value;
    }
    double lo = 10, hi = 0;
    for (int d = 0; d < 14; d++) {
        double r = spent[d] / plan[d];
        lo = r < lo ? r : lo;
        hi = r > hi ? r : hi;
        cr_assert(r >= 0.95 && r <= 1.05, "day %d: spent %.0f of plan %.0f", d, spent[d], plan[d]);
    }
    cr_assert_gt(hi - lo, 0.002, "spending does not drift (%.4f..%.4f)", lo, hi);
    mock_fini(&m);
}

Test(sim, a_spike_in_fourteen_days)
{
    mock_sink m;
    collect("1", NULL, WED, WED + 14 * DAY, "calls", &m);
    /* Calls per district, day and hour. */
    static double calls[16][14][24];
    memset(calls, 0, sizeof calls);
    for (size_t i = 0; i < m.n; i++) {
        int district = 0, unit = 0;
        cr_assert_eq(sscanf(strstr(m.entities[m.v[i].entity], "/district-"), "/district-%d/unit-%d",
                            &district, &unit),
                     2);
        int d = (int)((m.v[i].ts_ms - WED) / DAY);
        calls[district - 1][d][hour_of(m.v[i].ts_ms)] += m.v[i].value;
    }
    /*
     * A spike: two hours in which a district has at least twice its usual
     * calls (the median of the same district and hour over the fortnight)
     * relative to the force as a whole at that time (so that Friday nights,
     * busy everywhere, do not count), and at least 15 calls more.
     */
    static double usual[16][24];
    for (int di = 0; di < 16; di++) {
        for (int h = 0; h < 24; h++) {
            double v[14];
            for (int d = 0; d < 14; d++)
                v[d] = calls[di][d][h];
            usual[di][h] = percentile(v, 14, 50);
        }
    }
    int spikes = 0;
    static int spiked[16][14];
    memset(spiked, 0, sizeof spiked);
    for (int d = 0; d < 14; d++) {
        for (int h = 0; h + 2 <= 24; h++) {
            double got[16], want[16], ratio[16], sorted[16];
            for (int di = 0; di < 16; di++) {
                got[di] = calls[di][d][h] + calls[di][d][h + 1];
                want[di] = usual[di][h] + usual[di][h + 1];
                sorted[di] = ratio[di] = got[di] / want[di];
            }
            double force = percentile(sorted, 16, 50);
            for (int di = 0; di < 16; di++) {
                if (ratio[di] >= 2 * force && got[di] - want[di] * force >= 15 && !spiked[di][d]) {
                    spiked[di][d] = 1;
                    spikes++;
                }
            }
        }
    }
    cr_log_info("spikes found in 14 days: %d of 224 district-days", spikes);
    cr_assert_geq(spikes, 1, "no spike in 14 days");
    cr_assert_leq(spikes, 224 / 10, "spikes are not occasional: %d", spikes);
    mock_fini(&m);
}

/* Calls of district d (1..16) in the slots starting in [a, b) among m's samples. */
static double district_calls(const mock_sink *m, int d, int64_t a, int64_t b)
{
    char want[32];
    snprintf(want, sizeof want, "/district-%d/", d);
    double n = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (m->v[i].ts_ms >= a && m->v[i].ts_ms < b && strstr(m->entities[m->v[i].entity], want))
            n += m->v[i].value;
    }
    return n;
}

Test(sim, a_surge_when_asked_around_the_first_poll)
{
    const int64_t now = WED + 2 * DAY + 20 * HOUR;
    mock_sink plain, surged, plain2, surged2;
    sr_ad_option v[] = {{"seed", "1", 1}, {"backfill", "2d", 2}, {"surge", "district-7", 3}};
    sr_ad_options with = {.v = v, .n = 3, .name = "sim", .config_dir = "."};
    sr_ad_options without = {.v = v, .n = 2, .name = "sim", .config_dir = "."};
    void *a = NULL, *b = NULL;
    char err[256] = "";
    cr_assert_eq(sr_adapter_sim.open(&without, &a, err, sizeof err), 0, "%s", err);
    cr_assert_eq(sr_adapter_sim.open(&with, &b, err, sizeof err), 0, "%s", err);
    mock_init(&plain, "calls");
    mock_init(&surged, "calls");
    poll_all(a, 0, now, 0, &plain);
    poll_all(b, 0, now, 0, &surged);
    /* before the surge's window nothing differs, in any district */
    for (int d = 1; d <= 16; d++)
        cr_assert_eq(district_calls(&surged, d, 0, now - 3 * HOUR),
                     district_calls(&plain, d, 0, now - 3 * HOUR), "district-%d", d);
    /* in its last 3 hours district-7 has about eight times its calls, the others the same */
    double want = district_calls(&plain, 7, now - 3 * HOUR, now);
    double got = district_calls(&surged, 7, now - 3 * HOUR, now);
    cr_log_info("district-7, the 3 hours before the first poll: %.0f calls, %.0f without", got,
                want);
    cr_assert_gt(want, 10);
    cr_assert_gt(got, 5.5 * want, "%.0f calls against %.0f", got, want);
    for (int d = 1; d <= 16; d++) {
        if (d != 7)
            cr_assert_eq(district_calls(&surged, d, now - 3 * HOUR, now),
                         district_calls(&plain, d, now - 3 * HOUR, now), "district-%d", d);
    }
    /* later polls keep the window of the first: up to 3 hours on, then normal */
    mock_init(&plain2, "calls");
    mock_init(&surged2, "calls");
    poll_all(a, now, now + 5 * HOUR, 0, &plain2);
    poll_all(b, now, now + 5 * HOUR, 0, &surged2);
    cr_assert_gt(district_calls(&surged2, 7, now, now + 3 * HOUR),
                 5.5 * district_calls(&plain2, 7, now, now + 3 * HOUR));
    cr_assert_eq(district_calls(&surged2, 7, now + 3 * HOUR, now + 5 * HOUR),
                 district_calls(&plain2, 7, now + 3 * HOUR, now + 5 * HOUR));
    sr_adapter_sim.close(a);
    sr_adapter_sim.close(b);
    mock_fini(&plain);
    mock_fini(&surged);
    mock_fini(&plain2);
    mock_fini(&surged2);
}
