/*
 * fuzz_csvmap.c - libFuzzer target for a CSV byte stream through csvrows
 * and a fixed row mapping (adapters/csvrows.c, adapters/map.c): what the
 * csv adapter does with a file's bytes.
 *
 * The first input byte picks one of two fixed maps (a Seattle-like one with
 * a strptime time in a DST zone, a duration, a where and null tokens; and
 * one with ISO times, a numeric value with thousands separators and a
 * template key) and how the rest is cut into feeds. Checked on every input:
 *   - every sample and reject the sink gets is NUL-terminated and read to
 *     its end (AddressSanitizer sees any overread), with the promised
 *     shape: metric and entity set, a finite value, a where of the form
 *     "line N" with N never going back, a non-empty reason;
 *   - the counters agree with the sink: emitted = samples, rejected +
 *     notes (a header with a mapped name twice) = rejects, rows = emitted +
 *     filtered + rejected;
 *   - the same bytes fed whole or in slices give the same samples and
 *     rejects, in the same order (compared by a running hash);
 *   - flushing a waiting row in the middle and going on never crashes and
 *     keeps the counters in agreement.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../adapters/csvrows.h"
#include "../adapters/map.h"
#include "../metrics/common.h"
#include "fuzz.h"

typedef struct {
    sr_sink sink; /* first: the callbacks cast */
    uint64_t samples, rejects;
    uint64_t last_line;
    uint64_t hash;
} counter;

static void mix(counter *c, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        c->hash = (c->hash ^ b[i]) * 1099511628211ULL;
}

static void mix_str(counter *c, const char *s)
{
    mix(c, s ? s : "(null)", s ? strlen(s) + 1 : 7);
}

static void check_where(counter *c, const char *where)
{
    CHECK(where && strncmp(where, "line ", 5) == 0);
    char *end;
    unsigned long long line = strtoull(where + 5, &end, 10);
    /* lines are counted by LF: after a CR-only row end, a row can share line 1 */
    CHECK(*end == '\0' && line >= 1);
    CHECK(line >= c->last_line);
    c->last_line = line;
}

static int on_emit(sr_sink *k, const sr_ad_sample *s)
{
    counter *c = (counter *)k;
    CHECK(s->metric && s->metric[0] && s->entity && s->entity[0]);
    CHECK(isfinite(s->value));
    mix_str(c, s->metric);
    mix_str(c, s->entity);
    mix_str(c, s->key);
    mix(c, &s->ts_ms, sizeof s->ts_ms);
    mix(c, &s->value, sizeof s->value);
    c->samples++;
    return 0;
}

static int on_reject(sr_sink *k, const char *where, const char *raw, const char *reason)
{
    counter *c = (counter *)k;
    check_where(c, where);
    CHECK(raw && reason && reason[0]);
    mix_str(c, where);
    mix_str(c, raw);
    mix_str(c, reason);
    c->rejects++;
    return 0;
}

static const sr_ad_host host = {
    .local_to_utc = sr_local_to_utc,
    .parse_time = sr_parse_time,
    .tz_valid = sr_tz_valid,
};

static const sr_ad_option seattle[] = {
    {"metric", "response_p{Priority}", 1},
    {"entity", "seattle/{Precinct}/{Beat}", 2},
    {"time", "Queued", 3},
    {"time_format", "%m/%d/%Y %I:%M:%S %p", 4},
    {"timezone", "America/Los_Angeles", 5},
    {"value", "duration(Queued, Arrived)", 6},
    {"key", "CAD", 7},
    {"where", "Type != ONVIEW and Priority in (1, 2, 3)", 8},
    {"null", "NULL, N/A", 9},
};

static const sr_ad_option overtime[] = {
    {"metric", "overtime", 1},           {"entity", "chicago/{unit}", 2},
    {"time", "{year}-{month}-01", 3},    {"value", "AMT", 4},
    {"key", "{year}/{month}/{unit}", 5},
};

static sr_map *maps[2];

static void maps_init(void)
{
    const sr_ad_option *v[2] = {seattle, overtime};
    size_t n[2] = {sizeof seattle / sizeof seattle[0], sizeof overtime / sizeof overtime[0]};
    for (int i = 0; i < 2; i++) {
        sr_ad_options o = {.v = v[i],
                           .n = n[i],
                           .name = "fuzz",
                           .config_dir = ".",
                           .host = &host,
                           .timezone = "UTC"};
        char err[256];
        if (sr_map_create(&o, &maps[i], err, sizeof err)) {
            fprintf(stderr, "map: %s\n", err);
            abort();
        }
    }
}

/*
 * Feeds data to a fresh reader: whole (step 0) or in slices of 1..step
 * bytes, with a flush after flush_at bytes (SIZE_MAX: none), then finish.
 */
static void run(const sr_map *m, char delim, const uint8_t *data, size_t size, size_t step,
                size_t flush_at, counter *c)
{
    memset(c, 0, sizeof *c);
    c->sink.ctx = c;
    c->sink.emit = on_emit;
    c->sink.reject = on_reject;
    c->hash = 1469598103934665603ULL;
    sr_csvrows *r;
    char err[600];
    CHECK(sr_csvrows_create(m, delim, &r, err, sizeof err) == 0);
    int header_bad = 0;
    size_t off = 0, cut = 0;
    while (off < size) {
        size_t n = step ? 1 + (size_t)data[cut++ % size] % step : size;
        if (n > size - off)
            n = size - off;
        if (flush_at < size && off < flush_at && off + n > flush_at)
            n = flush_at - off;
        int rc = sr_csvrows_feed(r, (const char *)data + off, n, 0, &c->sink, err, sizeof err);
        CHECK(rc == 0 || rc == SR_CSVROWS_EHEADER);
        if (rc == SR_CSVROWS_EHEADER) {
            CHECK(err[0]);
            header_bad = 1;
            break;
        }
        off += n;
        if (off == flush_at) {
            rc = sr_csvrows_flush(r, 0, &c->sink, err, sizeof err);
            CHECK(rc == 0 || rc == SR_CSVROWS_EHEADER);
        }
    }
    if (!header_bad) {
        int rc = sr_csvrows_finish(r, 0, &c->sink, err, sizeof err);
        CHECK(rc == 0 || rc == SR_CSVROWS_EHEADER);
    }
    sr_csvrows_stats st;
    sr_csvrows_stats_get(r, &st);
    CHECK(st.emitted == c->samples);
    CHECK(st.rejected + st.notes == c->rejects);
    CHECK(st.rows == st.emitted + st.filtered + st.rejected);
    CHECK(header_bad || !sr_csvrows_pending(r));
    sr_csvrows_destroy(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!maps[0])
        maps_init();
    if (size < 1)
        return 0;
    const sr_map *m = maps[data[0] & 1];
    char delim = (data[0] & 2) ? ';' : ',';
    size_t step = 1 + (data[0] >> 2) % 16;
    data++;
    size--;

    counter whole, sliced, flushed;
    run(m, delim, data, size, 0, SIZE_MAX, &whole);
    run(m, delim, data, size, step, SIZE_MAX, &sliced);
    CHECK(whole.samples == sliced.samples);
    CHECK(whole.rejects == sliced.rejects);
    CHECK(whole.hash == sliced.hash);
    run(m, delim, data, size, step, size / 2, &flushed);
    return 0;
}
