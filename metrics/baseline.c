/*
 * baseline.c - the seasonal baseline of a slice and the unusual verdict
 * (baseline.h says what they mean).
 *
 * Data flow: sr_baseline_run() cuts the run of slices; for each,
 * sr_query_run() gives its figure and sr_baseline_compute() its baseline:
 * the week slices from the local wall clock (sr_baseline_week_slice(),
 * through common.c's time-zone helpers, the one place for time rules),
 * each week judged (excluded date, the cache's history, a figure) and its
 * figure computed by sr_query_run() like any other; then
 * sr_baseline_band() sorts the used weeks' figures and reads the band off
 * them. sr_baseline_unusual() only compares numbers. Nothing here keeps
 * state between calls.
 */
#include "baseline.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "privacy.h"
#include "safetext.h"

static const char *const wdays[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

int sr_baseline_week_slice(const char *tz, sr_ms from, sr_ms to, int k, sr_ms *from_k, sr_ms *to_k)
{
    sr_civil a, b;
    int rc = sr_utc_to_local(tz, from, &a);
    if (!rc)
        rc = sr_utc_to_local(tz, to, &b);
    if (!rc)
        rc =
            sr_local_to_utc(tz, a.year, a.mon, a.mday - 7 * k, a.hour, a.min,
                            a.sec + (double)(from - sr_floor_ms(from, SR_MS_SEC)) / 1000.0, from_k);
    if (!rc)
        rc = sr_local_to_utc(tz, b.year, b.mon, b.mday - 7 * k, b.hour, b.min,
                             b.sec + (double)(to - sr_floor_ms(to, SR_MS_SEC)) / 1000.0, to_k);
    return rc;
}

/* The local date of t in tz as YYYYMMDD; 0 when the zone is unknown. */
static int32_t local_day(const char *tz, sr_ms t)
{
    sr_civil c;
    if (sr_utc_to_local(tz, t, &c))
        return 0;
    return (int32_t)(c.year * 10000 + c.mon * 100 + c.mday);
}

/* Whether [from, to) touches one of o's excluded dates. */
static bool touches_excluded(const sr_baseline_opts *o, sr_ms from, sr_ms to)
{
    if (!o->n_exclude)
        return false;
    int32_t first = local_day(o->tz, from), last = local_day(o->tz, to - 1);
    for (size_t i = 0; i < o->n_exclude; i++) {
        if (o->exclude[i] >= first && o->exclude[i] <= last)
            return true;
    }
    return false;
}

void sr_baseline_band(sr_baseline *b)
{
    double v[SR_BASELINE_MAX_WEEKS];
    size_t n = 0;
    int64_t obs = 0;
    int weeks = b->weeks < SR_BASELINE_MAX_WEEKS ? b->weeks : SR_BASELINE_MAX_WEEKS;
    b->excluded = 0;
    for (int k = 0; k < weeks; k++) {
        if (b->week[k].state == SR_WEEK_EXCLUDED)
            b->excluded++;
        if (b->week[k].state != SR_WEEK_USED)
            continue;
        /* insertion sort: at most 52 figures */
        obs += b->week[k].r.n;
        double x = b->week[k].r.value;
        size_t i = n++;
        for (; i > 0 && v[i - 1] > x; i--)
            v[i] = v[i - 1];
        v[i] = x;
    }
    b->used = (int)n;
    b->n = obs;
    b->has_band = n >= SR_BASELINE_MIN_WEEKS && obs >= SR_PRIV_MIN_PCT_N;
    b->low = b->high = b->median = NAN;
    b->why[0] = '\0';
    if (n < SR_BASELINE_MIN_WEEKS) {
        snprintf(b->why, sizeof b->why, "too few weeks: %zu of %d", n, b->weeks);
        return;
    }
    if (!b->has_band) {
        snprintf(b->why, sizeof b->why, "too few observations: %lld in %zu weeks", (long long)obs,
                 n);
        return;
    }
    size_t cut = n / 10; /* the 10th and 90th percentiles, symmetric by rank */
    b->low = v[cut];
    b->high = v[n - 1 - cut];
    b->median = sr_percentile_sorted(v, n, 50, SR_PCT_LINEAR);
}

/* Stops a scan at its first sample, keeping its time. */
static int first_cb(void *ctx, int64_t entity, sr_ms ts_ms, double value)
{
    (void)entity;
    (void)value;
    *(sr_ms *)ctx = ts_ms;
    return 1;
}

/* The time of the oldest sample of metric d (INT64_MAX: none before
 * `before`); of a ratio, the later of its parts' oldest. */
static int history_start(sr_store *st, const sr_catalog *cat, const sr_metric_def *d, sr_ms before,
                         sr_ms *out)
{
    *out = INT64_MAX;
    const char *names[2] = {d->name, NULL};
    if (d->kind == SR_KIND_RATIO) {
        names[0] = d->numerator;
        names[1] = d->denominator;
    }
    sr_ms start = INT64_MIN;
    for (size_t i = 0; i < 2 && names[i]; i++) {
        const sr_metric_def *part = sr_catalog_find(cat, names[i]);
        int64_t id;
        if (!part)
            return SR_EINVAL;
        int rc = sr_store_metric_id(st, part->name, &id);
        if (rc == SR_ENOENT)
            return 0; /* never stored: no history */
        if (rc)
            return rc;
        sr_ms first = INT64_MAX;
        rc = sr_store_scan_raw(st, id, 0, before, first_cb, &first);
        if (rc < 0)
            return rc;
        if (first == INT64_MAX)
            return 0;
        if (first > start)
            start = first;
    }
    *out = start;
    return 0;
}

int sr_baseline_compute(sr_store *st, const sr_catalog *cat, const sr_query *q,
                        const sr_baseline_opts *o, sr_baseline *out)
{
    memset(out, 0, sizeof *out);
    out->weeks = o->weeks;
    out->low = out->high = out->median = NAN;
    if (o->weeks < SR_BASELINE_MIN_WEEKS || o->weeks > SR_BASELINE_MAX_WEEKS ||
        q->from_ms >= q->to_ms)
        return SR_EINVAL;
    if (q->to_ms - q->from_ms > SR_BASELINE_SLICE_MAX)
        return SR_ERANGE;
    const sr_metric_def *d = sr_catalog_find(cat, q->metric);
    if (!d)
        return SR_ENOENT;
    sr_ms start;
    int rc = history_start(st, cat, d, q->to_ms, &start);
    if (rc)
        return rc;
    sr_ms end;
    if ((rc = sr_query_data_end(st, cat, q, &end)))
        return rc;
    for (int k = 1; k <= o->weeks; k++) {
        sr_baseline_week *w = &out->week[k - 1];
        w->r = (sr_result){NAN, 0, true};
        if ((rc = sr_baseline_week_slice(o->tz, q->from_ms, end, k, &w->from_ms, &w->to_ms)))
            return rc;
        /* on whole minutes, the ends moved later by less than one: a screen that
         * refreshes every few seconds asks the same weeks again (the memo answers) */
        w->from_ms = sr_ceil_ms(w->from_ms, SR_MS_MIN);
        w->to_ms = sr_ceil_ms(w->to_ms, SR_MS_MIN);
        if (touches_excluded(o, w->from_ms, w->to_ms)) {
            w->state = SR_WEEK_EXCLUDED;
            continue;
        }
        if (w->from_ms < start) {
            w->state = SR_WEEK_NO_HISTORY;
            continue;
        }
        if (w->to_ms <= w->from_ms) { /* an hour the clocks skipped that week */
            w->state = SR_WEEK_NO_DATA;
            continue;
        }
        sr_query wq = *q;
        wq.from_ms = w->from_ms;
        wq.to_ms = w->to_ms;
        wq.closed = true; /* a past week: asked again unchanged */
        if ((rc = sr_query_run(st, cat, &wq, &w->r)))
            return rc;
        w->state = isfinite(w->r.value) ? SR_WEEK_USED : SR_WEEK_NO_DATA;
    }
    sr_baseline_band(out);
    return 0;
}

int sr_baseline_run(sr_store *st, const sr_catalog *cat, const sr_query *q,
                    const sr_baseline_opts *o, size_t m, sr_baseline_slice *out)
{
    if (m < 1 || m > SR_UNUSUAL_MAX_SLICES || q->from_ms >= q->to_ms)
        return SR_EINVAL;
    sr_ms len = q->to_ms - q->from_ms;
    for (size_t i = 0; i < m; i++) {
        sr_baseline_slice *s = &out[i];
        sr_query sq = *q;
        sq.to_ms = q->to_ms - (sr_ms)(m - 1 - i) * len;
        sq.from_ms = sq.to_ms - len;
        sq.closed = q->closed || i + 1 < m; /* the earlier slices are over */
        if (i + 1 < m) {                    /* on whole minutes too, as their weeks are */
            sq.from_ms = sr_ceil_ms(sq.from_ms, SR_MS_MIN);
            sq.to_ms = sr_ceil_ms(sq.to_ms, SR_MS_MIN);
        }
        s->from_ms = sq.from_ms;
        s->to_ms = sq.to_ms;
        int rc = sr_query_run(st, cat, &sq, &s->figure);
        if (!rc)
            rc = sr_baseline_compute(st, cat, &sq, o, &s->base);
        if (rc)
            return rc;
    }
    return 0;
}

sr_unusual sr_baseline_unusual(const sr_baseline_slice *s, size_t m)
{
    if (m == 0)
        return SR_UNUSUAL_UNKNOWN;
    bool high = true, low = true;
    for (size_t i = 0; i < m; i++) {
        double v = s[i].figure.value;
        if (!s[i].base.has_band || !isfinite(v))
            return SR_UNUSUAL_UNKNOWN;
        high = high && v > s[i].base.high;
        low = low && v < s[i].base.low;
    }
    return high ? SR_UNUSUAL_HIGH : low ? SR_UNUSUAL_LOW : SR_UNUSUAL_NONE;
}

const char *sr_week_state_name(sr_week_state s)
{
    switch (s) {
    case SR_WEEK_USED:
        return "used";
    case SR_WEEK_EXCLUDED:
        return "excluded";
    case SR_WEEK_NO_HISTORY:
        return "no history";
    case SR_WEEK_NO_DATA:
        break;
    }
    return "no data";
}

const char *sr_unusual_name(sr_unusual u)
{
    switch (u) {
    case SR_UNUSUAL_NONE:
        return "none";
    case SR_UNUSUAL_HIGH:
        return "high";
    case SR_UNUSUAL_LOW:
        return "low";
    case SR_UNUSUAL_UNKNOWN:
        break;
    }
    return "unknown";
}

void sr_baseline_label(const char *tz, sr_ms from, sr_ms to, char *buf, size_t len)
{
    sr_civil a, b;
    if (sr_utc_to_local(tz, from, &a) || sr_utc_to_local(tz, to, &b) || to <= from) {
        snprintf(buf, len, "?");
        return;
    }
    bool whole = a.min == 0 && b.min == 0;
    bool one_day = local_day(tz, from) == local_day(tz, to - 1);
    int end_hour = b.hour;
    if (one_day && local_day(tz, to) != local_day(tz, from))
        end_hour = 24; /* up to midnight */
    const char *wa = wdays[a.wday % 7], *wb = wdays[b.wday % 7];
    if (one_day && whole)
        snprintf(buf, len, "%s %02d-%02dh", wa, a.hour, end_hour);
    else if (one_day)
        snprintf(buf, len, "%s %02d:%02d-%02d:%02d", wa, a.hour, a.min, end_hour, b.min);
    else if (whole)
        snprintf(buf, len, "%s %02dh-%s %02dh", wa, a.hour, wb, b.hour);
    else
        snprintf(buf, len, "%s %02d:%02d-%s %02d:%02d", wa, a.hour, a.min, wb, b.hour, b.min);
}

/* Parses one YYYY-MM-DD of exactly ten characters at w; 0 when it is not
 * a date that exists. */
static int32_t parse_date(const char *w, size_t n)
{
    if (n != 10 || w[4] != '-' || w[7] != '-')
        return 0;
    int f[3] = {0, 0, 0}, at[3] = {0, 5, 8}, width[3] = {4, 2, 2};
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < width[i]; j++) {
            char c = w[at[i] + j];
            if (c < '0' || c > '9')
                return 0;
            f[i] = f[i] * 10 + (c - '0');
        }
    }
    sr_ms t;
    sr_civil c;
    if (f[0] < 1970 || f[1] < 1 || f[1] > 12 || f[2] < 1 ||
        sr_local_to_utc(NULL, f[0], f[1], f[2], 12, 0, 0, &t) || sr_utc_to_local(NULL, t, &c) ||
        c.mday != f[2])
        return 0; /* 2026-02-30 carries over to March */
    return (int32_t)(f[0] * 10000 + f[1] * 100 + f[2]);
}

int sr_baseline_parse_dates(const char *text, int32_t *days, size_t max, size_t *n, char *why,
                            size_t len)
{
    *n = 0;
    for (const char *p = text; *p;) {
        if (*p == ',' || *p == ' ' || *p == '\t') {
            p++;
            continue;
        }
        size_t w = strcspn(p, ", \t");
        int32_t day = parse_date(p, w);
        if (!day) {
            char word[64], q[SR_QUOTE_SIZE];
            snprintf(word, sizeof word, "%.*s", (int)(w < 60 ? w : 60), p);
            sr_text_quote(word, q, sizeof q);
            snprintf(why, len, "expected dates such as 2026-12-25 separated by commas, got '%s'",
                     q);
            return SR_EINVAL;
        }
        if (*n >= max) {
            snprintf(why, len, "at most %zu dates, got more", max);
            return SR_ERANGE;
        }
        days[(*n)++] = day;
        p += w;
    }
    return 0;
}
