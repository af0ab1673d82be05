/*
 * bench_query.c - query timings for `make bench`, through the same code the
 * commands and the screen use (metrics/query.c on a real cache).
 *
 *   bench_query p90 CONFIG METRIC END_EPOCH_S   p90 over 30 days and 24 h, first and again
 *   bench_query frame CONFIG                    every panel of CONFIG as the screen computes
 *                                               it: value, comparisons, a 30-point sparkline
 *   bench_query page CONFIG END_EPOCH_S RUNS [STEP_S]
 *                                               the first page of CONFIG at 160x48 with the
 *                                               windows ending at END, through the screen's
 *                                               own code (sr_screen_render_text, headless, as
 *                                               `snapshot --format text`): every panel with
 *                                               its widget's wants at its width; the first
 *                                               run, and the median of the others; with
 *                                               STEP, run i's windows end at END + i STEP
 *                                               (a live screen's refreshes: the windows move)
 *   bench_query forecast CONFIG METRIC END_EPOCH_S RUNS
 *                                               `sitrep query METRIC --agg forecast:count
 *                                               --at END` of the whole force: the forecast
 *                                               of the next 8 h and its 4 weeks' backtest
 *                                               (sr_forecast_compute); first run and median
 *   bench_query poll CONFIG END_EPOCH_S METRIC  the same page after each of 7 polls of 3 new
 *                                               samples of METRIC 5 s apart (the windows
 *                                               moving with them), written by another
 *                                               handle: the median compute of a viewer's
 *                                               refresh after a poll (no terminal, no render)
 * Figures in milliseconds: a first run (the store's memo empty) and the
 * median of the runs after it (the memo warm).
 */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../app/config.h"
#include "../app/dashboard.h"
#include "../metrics/forecast.h"
#include "../metrics/query.h"
#include "../metrics/store.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return v[n / 2];
}

typedef struct {
    double *v;
    size_t n, cap;
} vec;

static int collect(void *ctx, int64_t e, sr_ms ts, double value)
{
    (void)e;
    (void)ts;
    vec *v = ctx;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 1 << 20;
        v->v = realloc(v->v, v->cap * sizeof *v->v);
    }
    v->v[v->n++] = value;
    return 0;
}

static sr_config *load(const char *path)
{
    sr_config *cfg;
    sr_cfg_errors errs = {0};
    if (sr_config_load(path, &cfg, &errs)) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "%s:%d: %s\n", errs.v[i].file, errs.v[i].line, errs.v[i].msg);
        exit(1);
    }
    sr_cfg_errors_fini(&errs);
    return cfg;
}

/* The cache of cfg, read-only; exits on failure. */
static sr_store *open_cache(const sr_config *cfg)
{
    sr_store *st;
    char err[256];
    if (sr_store_open(cfg->cache, SR_STORE_READONLY, &st, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    return st;
}

/* The first run's time in *first (the store's memo cold), the median of
 * the runs after it returned (the memo warm, as a screen's next refresh). */
static double time_query(sr_store *st, const sr_catalog *cat, const sr_query *q, sr_result *r,
                         int runs, double *first)
{
    double t[64];
    for (int i = 0; i < runs; i++) {
        double t0 = now_ms();
        if (sr_query_run(st, cat, q, r)) {
            fprintf(stderr, "query failed\n");
            exit(1);
        }
        t[i] = now_ms() - t0;
    }
    *first = t[0];
    return median(t + 1, runs - 1);
}

static const char *how(const sr_result *r)
{
    return r->exact ? "exact" : "from the sketches";
}

static int bench_p90(const char *config, const char *metric, sr_ms end)
{
    sr_config *cfg = load(config);
    sr_store *st = open_cache(cfg);
    sr_query q = {.metric = metric,
                  .entity = "",
                  .agg = {SR_AGG_PCT, 90},
                  .from_ms = end - 30 * SR_MS_DAY,
                  .to_ms = end};
    sr_result r30, r24;
    double first;
    double ms30 = time_query(st, &cfg->metrics, &q, &r30, 21, &first);
    /* the answer against all raw values (not timed) */
    int64_t mid;
    sr_store_metric_id(st, metric, &mid);
    vec all = {0};
    sr_store_scan_raw(st, mid, q.from_ms, q.to_ms, collect, &all);
    qsort(all.v, all.n, sizeof *all.v, cmp);
    double exact = sr_percentile_sorted(all.v, all.n, 90, SR_PCT_NEAREST_RANK);
    printf("p90 30 days, whole force, %s: %.2f ms first, %.2f ms again  (%lld samples; %.1f vs "
           "exact %.1f, error %.3f%%)\n",
           how(&r30), first, ms30, (long long)r30.n, r30.value, exact,
           100 * fabs(r30.value - exact) / exact);
    q.from_ms = end - SR_MS_DAY;
    double ms24 = time_query(st, &cfg->metrics, &q, &r24, 11, &first);
    printf("p90 24 hours, whole force, %s: %.2f ms first, %.2f ms again  (%lld samples)\n",
           how(&r24), first, ms24, (long long)r24.n);
    q.entity = "force/north/district-2";
    q.from_ms = end - 30 * SR_MS_DAY;
    double msd = time_query(st, &cfg->metrics, &q, &r30, 21, &first);
    printf("p90 30 days, one district, %s: %.2f ms first, %.2f ms again  (%lld samples)\n",
           how(&r30), first, msd, (long long)r30.n);
    free(all.v);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return 0;
}

static int bench_frame(const char *config)
{
    sr_config *cfg = load(config);
    sr_store *st = open_cache(cfg);
    double t[15];
    sr_ms now = sr_now_ms();
    for (int run = 0; run < 15; run++) {
        double t0 = now_ms();
        for (size_t i = 0; i < cfg->n_panels; i++) {
            const sr_cfg_panel *p = &cfg->panels[i];
            sr_query q = {.metric = p->metric,
                          .entity = p->entity,
                          .agg = p->agg,
                          .from_ms = now - p->window_ms,
                          .to_ms = now};
            sr_compare c;
            double series[30];
            if (sr_query_compare(st, &cfg->metrics, &q, &c) ||
                sr_query_series(st, &cfg->metrics, &q, 30, series)) {
                fprintf(stderr, "panel %s failed\n", p->name);
                return 1;
            }
        }
        t[run] = now_ms() - t0;
    }
    printf("overview frame, %zu panels (value, previous period, last week, 30-point "
           "sparkline each): %.2f ms\n",
           cfg->n_panels, median(t, 15));
    sr_store_close(st);
    sr_config_destroy(cfg);
    return 0;
}

static int bench_page(const char *config, sr_ms end, int runs, sr_ms step)
{
    sr_config *cfg = load(config);
    sr_store *st = open_cache(cfg);
    sr_layout_data *ld;
    FILE *out = fopen("/dev/null", "w");
    if (!out || sr_layout_build(cfg, &ld)) {
        fprintf(stderr, "cannot build the layout of %s\n", config);
        return 1;
    }
    double t[64];
    if (runs < 1)
        runs = 1;
    if (runs > 64)
        runs = 64;
    for (int i = 0; i < runs; i++) {
        double t0 = now_ms();
        int rc =
            sr_screen_render_text(st, sr_layout_get(ld), NULL, 160, 48, true, end + i * step, out);
        if (rc) {
            fprintf(stderr, "the page failed: %s\n", sr_strerror(rc));
            return 1;
        }
        t[i] = now_ms() - t0;
    }
    /* two numbers on stdout, for bench/force.sh: the first run (a one-shot
     * `snapshot`: the store's memo empty) and the median of the others (a
     * screen's refresh) */
    double first = t[0];
    printf("%.2f %.2f\n", first, runs > 1 ? median(t + 1, runs - 1) : first);
    fclose(out);
    sr_layout_destroy(ld);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return 0;
}

/* The forecast of metric's count for the whole force from end, as
 * `sitrep query METRIC --agg forecast:count --at END` computes it. */
static int bench_forecast(const char *config, const char *metric, sr_ms end, int runs)
{
    sr_config *cfg = load(config);
    sr_store *st = open_cache(cfg);
    const sr_metric_def *d = sr_catalog_find(&cfg->metrics, metric);
    if (!d) {
        fprintf(stderr, "no metric %s in %s\n", metric, config);
        return 1;
    }
    sr_query q = {.metric = metric,
                  .entity = "",
                  .agg = {SR_AGG_COUNT, 0},
                  .from_ms = end - SR_MS_HOUR,
                  .to_ms = end};
    sr_forecast_opts o = {.base = {.weeks = d->baseline_weeks,
                                   .tz = cfg->timezone,
                                   .exclude = cfg->baseline_exclude,
                                   .n_exclude = cfg->n_baseline_exclude},
                          .horizon_ms = SR_FORECAST_HORIZON_DEFAULT,
                          .additive = true,
                          .max_error = d->forecast_max_error / 100.0};
    double t[64];
    runs = runs < 1 ? 1 : runs > 64 ? 64 : runs;
    sr_forecast f;
    for (int i = 0; i < runs; i++) {
        double t0 = now_ms();
        int rc = sr_forecast_compute(st, &cfg->metrics, &q, &o, &f);
        if (rc) {
            fprintf(stderr, "the forecast failed: %s\n", sr_strerror(rc));
            return 1;
        }
        t[i] = now_ms() - t0;
    }
    /* for bench/force.sh: first run, median of the others, and what it said */
    printf("%.2f %.2f %s %.0f-%.0f error %.3f\n", t[0], runs > 1 ? median(t + 1, runs - 1) : t[0],
           f.shown ? "shown" : "withheld", f.now.low, f.now.high, f.error);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return 0;
}

/* The page of config at end after each of 7 polls of 3 samples of metric
 * (CONFIG's cache must be a copy: samples are added). */
static int bench_poll(const char *config, sr_ms end, const char *metric)
{
    sr_config *cfg = load(config);
    sr_store *st = open_cache(cfg), *w;
    char err[256];
    if (sr_store_open(cfg->cache, 0, &w, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    sr_layout_data *ld;
    FILE *out = fopen("/dev/null", "w");
    if (!out || sr_layout_build(cfg, &ld)) {
        fprintf(stderr, "cannot build the layout of %s\n", config);
        return 1;
    }
    static const char *const where[3] = {"force/north/district-1/unit-1",
                                         "force/south/district-7/unit-2",
                                         "force/west/district-16/unit-4"};
    double t[7];
    sr_screen_render_text(st, sr_layout_get(ld), NULL, 160, 48, true, end, out); /* warm */
    for (int k = 0; k < 7; k++) {
        sr_ms at = end + (k + 1) * 5 * SR_MS_SEC;
        if (sr_store_begin(w))
            return 1;
        for (int i = 0; i < 3; i++) {
            char key[32];
            snprintf(key, sizeof key, "bench-poll-%d-%d", k, i);
            sr_sample smp = {metric, where[i], at - 1000 * i, 300.0 + 400 * i, key};
            bool dup;
            if (sr_store_put(w, &smp, &dup))
                return 1;
        }
        if (sr_store_commit(w))
            return 1;
        double t0 = now_ms();
        if (sr_screen_render_text(st, sr_layout_get(ld), NULL, 160, 48, true, at, out)) {
            fprintf(stderr, "the page failed\n");
            return 1;
        }
        t[k] = now_ms() - t0;
    }
    printf("%.2f\n", median(t, 7));
    fclose(out);
    sr_layout_destroy(ld);
    sr_store_close(w);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return 0;
}

int main(int argc, char **argv)
{
    /* the pages are drawn as a UTF-8 terminal's (the viewers of force.sh
     * run in C.UTF-8): glyphs then take the wide-character path they take
     * on screen, not the multibyte fallback of the C locale */
    setlocale(LC_CTYPE, "C.UTF-8");
    if (argc == 5 && strcmp(argv[1], "poll") == 0)
        return bench_poll(argv[2], (sr_ms)atoll(argv[3]) * 1000, argv[4]);
    if (argc == 5 && strcmp(argv[1], "p90") == 0)
        return bench_p90(argv[2], argv[3], (sr_ms)atoll(argv[4]) * 1000);
    if (argc == 6 && strcmp(argv[1], "forecast") == 0)
        return bench_forecast(argv[2], argv[3], (sr_ms)atoll(argv[4]) * 1000, atoi(argv[5]));
    if (argc == 3 && strcmp(argv[1], "frame") == 0)
        return bench_frame(argv[2]);
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "page") == 0)
        return bench_page(argv[2], (sr_ms)atoll(argv[3]) * 1000, atoi(argv[4]),
                          argc == 6 ? (sr_ms)atoll(argv[5]) * 1000 : 0);
    fprintf(stderr, "usage: bench_query p90 CONFIG METRIC END | frame CONFIG | page CONFIG END "
                    "RUNS [STEP] | forecast CONFIG METRIC END RUNS | poll CONFIG END METRIC\n");
    return 2;
}
