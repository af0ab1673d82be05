/*
 * fuzz_jsonmap.c - libFuzzer target for what the http adapter does with a
 * response body (sr_jsondoc_map_body in adapters/jsondoc.c): JSON parsing,
 * picking the array by an items path, jsonrow.c and the shared map.c.
 *
 * Input: the first line is the items path (at most 64 bytes), the rest is
 * the body. Odd sizes use a map with a duration and local times in a real
 * zone, even sizes one with a plain value in UTC. Checked on every input:
 *   - a path sr_jsondoc_path_check refuses is not mapped (open() refuses it);
 *   - a body jansson cannot parse is an error, with a message, and calls
 *     the sink never;
 *   - on success every element is accounted for exactly once: items =
 *     emitted + filtered + rejected, and the counts agree with the sink;
 *   - rejects come in item order, each with where "item N", a non-empty
 *     reason and a raw text shorter than the adapter's cap;
 *   - samples have the promised shape: a metric "m" + something, an entity
 *     under "e/", a finite value;
 *   - on error nothing was emitted or rejected (only a refusing sink may
 *     stop half-way, and this one never refuses).
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../adapters/jsondoc.h"
#include "../metrics/common.h"
#include "fuzz.h"

#define RAW_CAP 4096 /* JSONDOC_RAW_MAX in jsondoc.c */

typedef struct {
    sr_sink sink;
    size_t emits, rejects;
} counter;

static int on_emit(sr_sink *k, const sr_ad_sample *s)
{
    counter *c = (counter *)k;
    CHECK(s->metric && s->metric[0] == 'm' && s->metric[1]);
    CHECK(s->entity && strncmp(s->entity, "e/", 2) == 0);
    CHECK(isfinite(s->value));
    CHECK(!s->key || strlen(s->key) < (1u << 20));
    c->emits++;
    return 0;
}

static int on_reject(sr_sink *k, const char *where, const char *raw, const char *reason)
{
    counter *c = (counter *)k;
    char want[32];
    snprintf(want, sizeof want, "item %zu", c->emits + c->rejects);
    CHECK(where);
    /* items are numbered from 0 and met in order; filtered ones are
     * counted by the map, so an item's number is at least this */
    unsigned long n;
    CHECK(sscanf(where, "item %lu", &n) == 1);
    CHECK(n >= c->emits + c->rejects);
    CHECK(raw && strlen(raw) < RAW_CAP);
    CHECK(reason && reason[0]);
    c->rejects++;
    return 0;
}

static const sr_ad_host host = {
    .local_to_utc = sr_local_to_utc,
    .parse_time = sr_parse_time,
    .tz_valid = sr_tz_valid,
};

static sr_map *make_map(int variant)
{
    static const sr_ad_option plain[] = {
        {"metric", "m{kind}", 1}, {"entity", "e/{unit.precinct}/{unit.beat}", 2},
        {"time", "t", 3},         {"value", "v", 4},
        {"key", "{id}", 5},       {"where", "kind != skip", 6},
        {"null", "NULL, N/A", 7},
    };
    static const sr_ad_option local[] = {
        {"metric", "m_{kind}", 1},
        {"entity", "e/{unit}", 2},
        {"time", "t", 3},
        {"time_format", "%m/%d/%Y %I:%M:%S %p", 4},
        {"timezone", "America/Los_Angeles", 5},
        {"value", "duration(t, u)", 6},
        {"key", "id", 7},
        {"where", "kind in (a, b, \"c,d\")", 8},
    };
    sr_ad_options o = {.name = "fuzz", .config_dir = ".", .host = &host, .timezone = "UTC"};
    o.v = variant ? local : plain;
    o.n = variant ? sizeof local / sizeof local[0] : sizeof plain / sizeof plain[0];
    sr_map *m = NULL;
    char err[256];
    CHECK(sr_map_create(&o, &m, err, sizeof err) == 0);
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sr_map *maps[2];
    if (!maps[0]) {
        maps[0] = make_map(0);
        maps[1] = make_map(1);
    }
    const char *text = (const char *)data;
    const char *nl = memchr(text, '\n', size < 65 ? size : 65);
    if (!nl)
        return 0;
    char path[65];
    size_t plen = (size_t)(nl - text);
    memcpy(path, text, plen);
    path[plen] = '\0';
    if (strlen(path) != plen)
        return 0; /* a NUL in the path: a config value cannot hold one */
    char err[512] = "";
    if (sr_jsondoc_path_check("items", path, err, sizeof err) < 0) {
        CHECK(err[0]);
        return 0;
    }
    const char *body = nl + 1;
    size_t blen = size - plen - 1;

    counter c = {.sink = {.emit = on_emit, .reject = on_reject}};
    sr_jsondoc_counts n;
    const sr_map *m = maps[size % 2];
    uint64_t filtered0 = sr_map_filtered(m);
    int rc = sr_jsondoc_map_body(m, path, body, blen, 1709740800000, &c.sink, &n, err, sizeof err);

    json_error_t je;
    json_t *doc = json_loadb(body, blen, 0, &je);
    if (!doc)
        CHECK(rc < 0);
    json_decref(doc);
    if (rc < 0) {
        CHECK(err[0]);
        CHECK(c.emits + c.rejects == 0);
        return 0;
    }
    CHECK(n.items == n.emitted + n.filtered + n.rejected);
    CHECK(n.emitted == c.emits && n.rejected == c.rejects);
    CHECK(sr_map_filtered(m) - filtered0 == n.filtered);
    return 0;
}
