/*
 * Tests of app/collector.c: the collector on a real libuv loop with real worker
 * threads and a real cache file. Test adapters stand in for sources (in the
 * spirit of collectd's plugin_mock.c); every test ends with
 * uv_loop_close() == 0.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../app/collector.h"
#include "../helpers.h"

static char dir[256];
static sr_store *st;
static uv_loop_t loop;
static sr_collector *col;
#define N_MANY 70 /* more metrics than the collector once linked in one batch */
static sr_metric_def defs[1 + N_MANY];
static sr_catalog cat = {defs, 1};

static void setup(void)
{
    th_tempdir(dir, sizeof dir);
    char db[300];
    snprintf(db, sizeof db, "%s/loop.db", dir);
    cr_assert_eq(sr_store_open(db, 0, &st, NULL, 0), 0);
    sr_metric_def_init(&defs[0], "m");
    defs[0].kind = SR_KIND_COUNTER;
    cr_assert_eq(sr_store_define_metric(st, "m", SR_KIND_COUNTER), 0);
    cr_assert_eq(uv_loop_init(&loop), 0);
    cr_assert_eq(sr_collector_create(&loop, &cat, st, &col), 0);
}

static void teardown(void)
{
    sr_store_close(st);
    th_rmtree(dir);
}

TestSuite(collector, .init = setup, .fini = teardown);

/* ---- test adapters ---- */

typedef struct {
    int mode; /* 0 counting, 1 slow, 2 failing, 3 backfill in chunks, 4 bad rows,
                 5 one sample of each of N_MANY metrics */
    atomic_int polls;
    atomic_int running;
    atomic_int max_running;
    int fail_until; /* mode 2: fail the first N polls */
    int64_t since[16];
} tstate;

static tstate shared;

static int t_open(const sr_ad_options *o, void **state, char *err, size_t len)
{
    const char *mode = sr_ad_opt(o, "mode");
    if (mode && strcmp(mode, "refuse") == 0) {
        snprintf(err, len, "mode: refused on purpose");
        return -1;
    }
    *state = &shared;
    return 0;
}

static int t_poll(void *state, sr_poll_info *info, sr_sink *sink, char *err, size_t len)
{
    tstate *t = state;
    int n = atomic_fetch_add(&t->polls, 1);
    int r = atomic_fetch_add(&t->running, 1) + 1;
    if (r > atomic_load(&t->max_running))
        atomic_store(&t->max_running, r);
    if (n < 16)
        t->since[n] = info->since_ms;
    int rc = 0;
    char key[32];
    snprintf(key, sizeof key, "p%d", n);
    sr_ad_sample s = {"m", "force/a", 1000 * (int64_t)(n + 1), 1, key};
    switch (t->mode) {
    case 1:
        usleep(300 * 1000); /* longer than the timeout */
        sink->emit(sink, &s);
        break;
    case 2:
        if (n < t->fail_until) {
            snprintf(err, len, "source down (poll %d)", n);
            rc = -1;
        } else {
            sink->emit(sink, &s);
        }
        break;
    case 3:
        sink->emit(sink, &s);
        if (n < 3) {
            info->more = 1;
            info->cursor_ms = 100 * (n + 1);
            info->progress_done = n + 1; /* of 4 chunks */
            info->progress_total = 4;
        }
        break;
    case 4: {
        sink->emit(sink, &s);
        sr_ad_sample bad = {"nope", "force/a", 1, 1, NULL};
        sink->emit(sink, &bad);
        sr_ad_sample empty = {"m", "", 1, 1, NULL};
        sink->emit(sink, &empty);
        sink->reject(sink, "row 7", "a,b,c", "unparseable ts 'c'");
        break;
    }
    case 5:
        for (int i = 1; i <= N_MANY; i++) {
            s.metric = defs[i].name;
            s.key = NULL;
            sink->emit(sink, &s);
        }
        break;
    default:
        sink->emit(sink, &s);
    }
    atomic_fetch_sub(&t->running, 1);
    return rc;
}

static void t_close(void *state)
{
    (void)state;
}

static const sr_ad_option_spec t_spec[] = {{"mode", 0, "test mode"}, {NULL, 0, NULL}};
static const sr_adapter test_adapter = {SR_ADAPTER_ABI, "test", "test",  t_spec,
                                        t_open,         t_poll, t_close, NULL};
/* The same adapter declared for ABI version 1, which had no progress. */
static const sr_adapter test_adapter_v1 = {1,      "test", "test (ABI 1)", t_spec,
                                           t_open, t_poll, t_close,        NULL};
static const sr_adapter *adapter = &test_adapter;

/* ---- driving the loop ---- */

typedef struct {
    int reports, stop_after;
    int ok[32];
    sr_ms next[32];
    int timed_out[32];
    int64_t accepted[32], rejected[32];
    sr_ms stored_next[32]; /* next_poll_ms of the cache's health row at the report */
    sr_ms reported_at[32];
    int loading[32]; /* sr_collector_loading() at the report */
    int stopped;
} rec;

static rec R;

static void on_stopped(void *ctx)
{
    ((rec *)ctx)->stopped = 1;
}

static void on_report(void *ctx, const sr_poll_report *r)
{
    rec *x = ctx;
    if (x->reports < 32) {
        x->ok[x->reports] = r->ok;
        x->next[x->reports] = r->next_ms;
        x->timed_out[x->reports] = r->timed_out;
        x->accepted[x->reports] = r->accepted;
        x->rejected[x->reports] = r->rejected;
        sr_source_health h;
        if (sr_store_source_get(st, r->health->name, &h) == 0)
            x->stored_next[x->reports] = h.next_poll_ms;
        x->reported_at[x->reports] = sr_now_ms();
        x->loading[x->reports] = sr_collector_loading(col);
    }
    if (++x->reports == x->stop_after)
        sr_collector_stop(col, on_stopped, x);
}

static void add_source(const char *mode, sr_ms interval, sr_ms timeout)
{
    sr_ad_option o[1] = {{"mode", mode, 1}};
    sr_ad_options opts = {.v = o, .n = 1, .name = "t1", .config_dir = "."};
    cr_assert_eq(sr_collector_add(col, adapter, &opts, interval, timeout), 0);
}

static void run_until_stopped(int stop_after)
{
    memset(&R, 0, sizeof R);
    R.stop_after = stop_after;
    sr_collector_on_report(col, on_report, &R);
    cr_assert_eq(sr_collector_start(col), 0);
    cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    cr_assert(R.stopped);
    cr_assert_eq(uv_loop_close(&loop), 0);
    sr_collector_destroy(col);
}

static int64_t stored(void)
{
    int64_t n = 0;
    sr_source_health h;
    if (sr_store_source_get(st, "t1", &h) == 0)
        n = h.accepted;
    return n;
}

Test(collector, polls_on_its_timer_and_writes_batches)
{
    memset(&shared, 0, sizeof shared);
    add_source("count", 10, 1000);
    run_until_stopped(5);
    cr_assert_eq(atomic_load(&shared.polls), 5);
    cr_assert_eq(R.reports, 5);
    for (int i = 0; i < 5; i++) {
        cr_assert(R.ok[i]);
        cr_assert_eq(R.accepted[i], 1);
        cr_assert_leq(R.next[i], 10);
    }
    cr_assert_eq(stored(), 5);
    sr_source_health h;
    cr_assert_eq(sr_store_source_get(st, "t1", &h), 0);
    cr_assert_eq(h.polls, 5);
    cr_assert_str_eq(h.last_error, "");
    /* each poll is told where the previous one left off */
    cr_assert_eq(shared.since[0], 0);
    for (int i = 1; i < 5; i++)
        cr_assert_gt(shared.since[i], 0);
}

Test(collector, overrun_is_a_failure_but_never_overlaps)
{
    memset(&shared, 0, sizeof shared);
    shared.mode = 1;
    add_source("slow", 5, 50);
    run_until_stopped(2);
    cr_assert_eq(atomic_load(&shared.max_running), 1, "two polls of one source ran at once");
    cr_assert_eq(atomic_load(&shared.polls), 2);
    cr_assert_not(R.ok[0]);
    cr_assert(R.timed_out[0]);
    /* the late poll's sample is still kept */
    cr_assert_eq(R.accepted[0], 1);
    sr_source_health h;
    cr_assert_eq(sr_store_source_get(st, "t1", &h), 0);
    cr_assert(strstr(h.last_error, "timeout"), "last error: %s", h.last_error);
    cr_assert_eq(h.failures, 2);
    cr_assert_eq(h.accepted, 2);
}

Test(collector, failures_back_off_and_success_resets)
{
    memset(&shared, 0, sizeof shared);
    shared.mode = 2;
    shared.fail_until = 4;
    add_source("fail", 10, 1000);
    run_until_stopped(6);
    /* doubling: 20, 40, 80, 160; then success resets to the interval */
    cr_assert_eq(R.next[0], 20);
    cr_assert_eq(R.next[1], 40);
    cr_assert_eq(R.next[2], 80);
    cr_assert_eq(R.next[3], 160);
    cr_assert(R.ok[4]);
    cr_assert_leq(R.next[4], 10);
    sr_source_health h;
    cr_assert_eq(sr_store_source_get(st, "t1", &h), 0);
    cr_assert_eq(h.failures, 4);
    cr_assert_str_eq(h.last_error, "");
    /* the failing polls did not move the cursor */
    cr_assert_eq(shared.since[1], 0);
    cr_assert_eq(shared.since[4], 0);
    cr_assert_gt(shared.since[5], 0);
}

/* Runs a source of adapter backfilling in four polls (mode 3) to its end. */
static void run_backfill(void)
{
    memset(&shared, 0, sizeof shared);
    shared.mode = 3;
    add_source("backfill", 60000, 1000);
    run_until_stopped(4);
}

Test(collector, backfill_chunks_are_polled_at_once)
{
    run_backfill();
    cr_assert_eq(R.next[0], 0);
    cr_assert_eq(R.next[1], 0);
    cr_assert_eq(R.next[2], 0);
    cr_assert_gt(R.next[3], 1000);
    /* each chunk continues from the cursor the previous one returned */
    cr_assert_eq(shared.since[1], 100);
    cr_assert_eq(shared.since[2], 200);
    cr_assert_eq(shared.since[3], 300);
}

Test(collector, a_backfill_says_how_far_it_has_got_until_it_ends)
{
    run_backfill();
    cr_assert_eq(R.loading[0], 25);
    cr_assert_eq(R.loading[1], 50);
    cr_assert_eq(R.loading[2], 75);
    cr_assert_eq(R.loading[3], -1, "the last chunk ends the backfill");
}

Test(collector, an_adapter_of_abi_1_loads_runs_and_has_no_progress)
{
    adapter = &test_adapter_v1;
    run_backfill();
    for (int i = 0; i < 4; i++) {
        cr_assert(R.ok[i]);
        cr_assert_eq(R.loading[i], -1, "poll %d: progress read from an ABI 1 table", i);
    }
    cr_assert_eq(shared.since[3], 300, "its chunks still follow its cursor");
    cr_assert_eq(stored(), 4);
}

/* sr_poll_percent() of an adapter of version abi and a poll's out fields. */
static int percent(uint32_t abi, int more, int64_t done, int64_t total)
{
    sr_adapter a = test_adapter;
    a.abi_version = abi;
    sr_poll_info info = {.more = more, .progress_done = done, .progress_total = total};
    return sr_poll_percent(&a, &info);
}

Test(collector, the_percent_of_a_backfill)
{
    /* rounded down: 40 % until the next whole percent is reached */
    cr_assert_eq(percent(2, 1, 2, 5), 40);
    cr_assert_eq(percent(2, 1, 1, 3), 33);
    cr_assert_eq(percent(2, 1, 0, 14), 0);
    /* the sim's 14 days in chunks of a day: 1 of 14 is 7 % */
    cr_assert_eq(percent(2, 1, 86400000LL, 14 * 86400000LL), 7);
    /* never 100 while more is set, never below 0 or above 99 */
    cr_assert_eq(percent(2, 1, 999, 1000), 99);
    cr_assert_eq(percent(2, 1, 1000, 1000), 99);
    cr_assert_eq(percent(2, 1, 5000, 1000), 99);
    cr_assert_eq(percent(2, 1, -5, 1000), 0);
    /* units large enough that done * 100 would overflow */
    cr_assert_eq(percent(2, 1, INT64_MAX / 2, INT64_MAX), 50);
    /* no backfill: the poll ended it, gave no total, or cannot say */
    cr_assert_eq(percent(2, 0, 2, 5), -1);
    cr_assert_eq(percent(2, 1, 2, 0), -1);
    cr_assert_eq(percent(2, 1, 2, -5), -1);
    cr_assert_eq(percent(1, 1, 2, 5), -1);
    cr_assert_eq(sr_poll_percent(NULL, &(sr_poll_info){.more = 1, .progress_total = 1}), -1);
}

static int count_rejects(void *ctx, const sr_reject_row *r)
{
    int *n = ctx;
    cr_assert_str_eq(r->source, "t1");
    (*n)++;
    return 0;
}

Test(collector, bad_rows_are_kept_as_rejects)
{
    memset(&shared, 0, sizeof shared);
    shared.mode = 4;
    add_source("bad", 10, 1000);
    run_until_stopped(1);
    cr_assert_eq(R.accepted[0], 1);
    cr_assert_eq(R.rejected[0], 3);
    int n = 0;
    cr_assert_eq(sr_store_rejects(st, "t1", 10, count_rejects, &n), 0);
    cr_assert_eq(n, 3);
    sr_source_health h;
    cr_assert_eq(sr_store_source_get(st, "t1", &h), 0);
    cr_assert_eq(h.rejected, 3);
}

/* A templated metric name can feed any number of metrics in one poll: each
 * is linked to the source (what a panel's staleness reads), not only the
 * first 64. */
Test(collector, every_metric_of_a_batch_is_linked_to_its_source)
{
    memset(&shared, 0, sizeof shared);
    shared.mode = 5;
    for (int i = 1; i <= N_MANY; i++) {
        char name[16];
        snprintf(name, sizeof name, "t_%02d", i);
        sr_metric_def_init(&defs[i], name);
        cr_assert_eq(sr_store_define_metric(st, name, SR_KIND_EVENT), 0);
    }
    cat.n = 1 + N_MANY;
    add_source("many", 10, 1000);
    run_until_stopped(1);
    cat.n = 1;
    cr_assert_eq(R.accepted[0], N_MANY);
    for (int i = 1; i <= N_MANY; i++) {
        char names[4][SR_NAME_MAX];
        size_t n = 0;
        cr_assert_eq(sr_store_metric_sources(st, defs[i].name, names, 4, &n), 0);
        cr_assert_eq(n, 1, "%s is fed by %zu sources", defs[i].name, n);
        cr_assert_str_eq(names[0], "t1");
    }
}

Test(collector, open_failure_is_visible_and_retried)
{
    memset(&shared, 0, sizeof shared);
    add_source("refuse", 10, 1000);
    run_until_stopped(2);
    cr_assert_not(R.ok[0]);
    cr_assert_eq(R.next[0], 20);
    cr_assert_eq(R.next[1], 40);
    cr_assert_eq(atomic_load(&shared.polls), 0);
    sr_source_health h;
    cr_assert_eq(sr_store_source_get(st, "t1", &h), 0);
    cr_assert(strstr(h.last_error, "refused on purpose"), "%s", h.last_error);
}

/* Stop while a poll is in flight: its batch is written before the loop ends. */
static void stop_now(uv_timer_t *t)
{
    sr_collector_stop(col, on_stopped, &R);
    uv_close((uv_handle_t *)t, NULL);
}

Test(collector, stop_waits_for_the_poll_in_flight)
{
    memset(&shared, 0, sizeof shared);
    shared.mode = 1; /* 300 ms poll */
    add_source("slow", 10, 5000);
    memset(&R, 0, sizeof R);
    sr_collector_on_report(col, on_report, &R);
    cr_assert_eq(sr_collector_start(col), 0);
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    uv_timer_start(&t, stop_now, 20, 0);
    cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    cr_assert(R.stopped);
    cr_assert_eq(uv_loop_close(&loop), 0);
    sr_collector_destroy(col);
    cr_assert_eq(atomic_load(&shared.polls), 1);
    cr_assert_eq(stored(), 1);
}

/* ---- a stuck source does not hold up the others ---- */

static atomic_int release_stuck;
static int fast_reports;

static int stuck_poll(void *state, sr_poll_info *info, sr_sink *sink, char *err, size_t len)
{
    (void)state, (void)info, (void)sink, (void)err, (void)len;
    while (!atomic_load(&release_stuck))
        usleep(1000); /* a source that does not answer, until the test is done */
    return 0;
}

static const sr_adapter stuck_adapter = {SR_ADAPTER_ABI, "stuck",    "stuck", t_spec,
                                         t_open,         stuck_poll, t_close, NULL};

/* Without a worker for it, the fast source would never poll: give up. */
static void on_watchdog(uv_timer_t *t)
{
    atomic_store(&release_stuck, 1);
    sr_collector_stop(col, on_stopped, &R);
    uv_close((uv_handle_t *)t, NULL);
}

static void on_fast_report(void *ctx, const sr_poll_report *r)
{
    (void)ctx;
    if (strcmp(r->health->name, "fast") != 0 || ++fast_reports != 5)
        return;
    atomic_store(&release_stuck, 1);
    sr_collector_stop(col, on_stopped, &R);
    if (!uv_is_closing(ctx))
        uv_close(ctx, NULL); /* the watchdog */
}

Test(collector, sources_stuck_past_their_timeout_do_not_delay_another)
{
    memset(&shared, 0, sizeof shared);
    memset(&R, 0, sizeof R);
    enum { STUCK = 8 }; /* twice libuv's default pool of 4 */
    sr_collector_size_pool(STUCK + 1);
    for (int i = 0; i < STUCK; i++) {
        char name[16];
        snprintf(name, sizeof name, "stuck%d", i);
        sr_ad_options opts = {.v = NULL, .n = 0, .name = name, .config_dir = "."};
        cr_assert_eq(sr_collector_add(col, &stuck_adapter, &opts, 10, 1), 0);
    }
    sr_ad_options fast = {.v = NULL, .n = 0, .name = "fast", .config_dir = "."};
    cr_assert_eq(sr_collector_add(col, &test_adapter, &fast, 10, 1000), 0);
    uv_timer_t watchdog;
    uv_timer_init(&loop, &watchdog);
    uv_timer_start(&watchdog, on_watchdog, 60000, 0);
    sr_collector_on_report(col, on_fast_report, &watchdog);
    cr_assert_eq(sr_collector_start(col), 0);
    cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    cr_assert(R.stopped);
    cr_assert_eq(fast_reports, 5, "the fast source kept its pace");
    cr_assert_eq(atomic_load(&shared.polls), 5);
    cr_assert_eq(uv_loop_close(&loop), 0);
    sr_collector_destroy(col);
    sr_source_health h;
    cr_assert_eq(sr_store_source_get(st, "stuck0", &h), 0);
    cr_assert(strstr(h.last_error, "timeout"), "stuck sources are failing: %s", h.last_error);
}

/* A viewer reads when the next poll comes from the health row; once the
 * collector has stopped, none is scheduled. */
Test(collector, the_health_row_says_when_the_next_poll_comes)
{
    memset(&shared, 0, sizeof shared);
    shared.mode = 2;
    shared.fail_until = 1;
    add_source("fail", 60, 1000);
    run_until_stopped(2);
    cr_assert_not(R.ok[0]);
    cr_assert(R.ok[1]);
    for (int i = 0; i < 2; i++) {
        /* written before the report: at most the delay from now, at least a bit less */
        cr_assert_leq(R.stored_next[i], R.reported_at[i] + R.next[i], "report %d", i);
        cr_assert_geq(R.stored_next[i], R.reported_at[i] + R.next[i] - 50, "report %d", i);
    }
    cr_assert_eq(R.next[0], 120, "the backoff after a failure");
    sr_source_health h;
    cr_assert_eq(sr_store_source_get(st, "t1", &h), 0);
    cr_assert_eq(h.next_poll_ms, 0, "the collector stopped: no poll is scheduled");
    cr_assert_eq(h.interval_ms, 60);
    cr_assert_eq(h.timeout_ms, 1000);
    cr_assert_eq(h.polls, 2);
}
