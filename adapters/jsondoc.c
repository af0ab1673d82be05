/*
 * jsondoc.c - a JSON document as rows (see jsondoc.h): the http adapter's
 * body, or any JSON that holds an array of objects.
 *
 * The walk to the array (sr_jsondoc_pick) says where it stopped and what
 * was there (the members of an object, the size of an array), so that a
 * wrong items = is put right from the message alone. Each element is then
 * one row: jsonrow.c reads the map's fields out of it into a buffer of
 * JSONDOC_VALUES_MAX bytes, and map.c makes the sample or the reject; a
 * reject carries the element as compact JSON, cut to JSONDOC_RAW_MAX.
 * Every element is accounted for once: emitted, filtered or rejected.
 * Text from the document (member names, jansson's message, which quotes
 * the input) reaches a message only through sr_map_oneline.
 */
#include "jsondoc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonrow.h"

#define JSONDOC_VALUES_MAX 65536 /* bytes of non-string field text per item */
#define JSONDOC_RAW_MAX 4096     /* bytes of an item kept in a reject */
#define JSONDOC_NAMES_MAX 120    /* bytes of member names listed in an error */

/* The member names of obj, cleaned, comma-separated, cut to len - 1. */
static void member_names(const json_t *obj, char *buf, size_t len)
{
    const char *key;
    json_t *v;
    size_t o = 0;
    buf[0] = '\0';
    json_object_foreach((json_t *)obj, key, v)
    {
        char name[48];
        sr_map_oneline(key, strlen(key), name, sizeof name, 0);
        int w = snprintf(buf + o, len - o, "%s%s", o ? ", " : "", name);
        if (w < 0 || (size_t)w >= len - o) {
            if (len > 4)
                snprintf(buf + (o < len - 4 ? o : len - 4), 4, "...");
            return;
        }
        o += (size_t)w;
    }
}

const char *sr_jsondoc_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "a value";
}

/* ---- the body to samples ---- */

int sr_jsondoc_path_check(const char *key, const char *path, char *err, size_t errlen)
{
    if (!path || !*path)
        return 0;
    size_t n = strlen(path);
    if (path[0] == '.' || path[n - 1] == '.' || strstr(path, "..")) {
        sr_map_errf(err, errlen,
                    "%s: expected names separated by single dots (data.incidents), got '%s'", key,
                    path);
        return -1;
    }
    for (const char *p = path; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            sr_map_errf(err, errlen, "%s: a control character in the path", key);
            return -1;
        }
    }
    return 0;
}

/* 0 and the index when seg (n bytes) is a decimal number without sign. */
static int path_index(const char *seg, size_t n, size_t *out)
{
    size_t v = 0;
    if (n == 0 || n > 9)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (seg[i] < '0' || seg[i] > '9')
            return -1;
        v = v * 10 + (size_t)(seg[i] - '0');
    }
    *out = v;
    return 0;
}

int sr_jsondoc_pick(const json_t *doc, const char *path, const json_t **out, char *err,
                    size_t errlen)
{
    const json_t *cur = doc;
    const char *p = path ? path : "";
    char at[128] = "the document", names[JSONDOC_NAMES_MAX];

    while (*p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        const json_t *next = NULL;
        if (json_is_object(cur)) {
            next = json_object_get(cur, p);
            if (next) {
                n = strlen(p);
            } else {
                next = json_object_getn(cur, p, n);
            }
            if (!next) {
                member_names(cur, names, sizeof names);
                sr_map_errf(err, errlen, "items: no member '%.*s' in %s (its members: %s)",
                            (int)(n > 64 ? 64 : n), p, at, names[0] ? names : "none");
                return -1;
            }
        } else if (json_is_array(cur)) {
            size_t i;
            if (path_index(p, n, &i) < 0) {
                sr_map_errf(err, errlen,
                            "items: %s is an array; expected an index such as 0 instead of '%.*s'",
                            at, (int)(n > 64 ? 64 : n), p);
                return -1;
            }
            next = json_array_get(cur, i);
            if (!next) {
                sr_map_errf(err, errlen, "items: %s has %zu elements, no element %zu", at,
                            json_array_size(cur), i);
                return -1;
            }
        } else {
            sr_map_errf(err, errlen, "items: %s is %s, nothing can be picked in it", at,
                        sr_jsondoc_kind(cur));
            return -1;
        }
        size_t done = (size_t)(p - (path ? path : "")) + n;
        snprintf(at, sizeof at, "'%.*s'", (int)(done > 100 ? 100 : done), path);
        cur = next;
        p += n;
        if (*p == '.')
            p++;
    }
    *out = cur;
    return 0;
}

/* The body as JSON, with jansson's line:column message when it is not. */
json_t *sr_jsondoc_parse(const char *body, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *doc = json_loadb(body, len, 0, &je);
    if (!doc) {
        char text[sizeof je.text];
        sr_map_oneline(je.text, sizeof je.text, text, sizeof text, 0);
        if (len == 0)
            sr_map_errf(err, errlen, "the response is empty, expected a JSON document");
        else
            sr_map_errf(err, errlen, "the response is not JSON: line %d column %d: %s", je.line,
                        je.column, text);
    }
    return doc;
}

/* One element: rejected when it is not an object or its fields cannot be
 * read; otherwise the map decides. Returns the SR_MAP_* outcome or
 * negative when the sink refused. */
static int map_item(const sr_map *m, const json_t *item, size_t page, size_t i, int64_t now_ms,
                    sr_sink *sink, const char **vals, char *vbuf, char *raw)
{
    char where[64], reason[256];
    if (page)
        snprintf(where, sizeof where, "page %zu item %zu", page, i);
    else
        snprintf(where, sizeof where, "item %zu", i);
    sr_jsonrow_raw(item, raw, JSONDOC_RAW_MAX);
    if (!json_is_object(item)) {
        snprintf(reason, sizeof reason, "expected a JSON object, got %s", sr_jsondoc_kind(item));
    } else if (sr_jsonrow_values(m, item, vbuf, JSONDOC_VALUES_MAX, vals, reason, sizeof reason) <
               0) {
        /* the reason is jsonrow's */
    } else {
        return sr_map_row(m, vals, now_ms, where, raw, sink);
    }
    return sink->reject(sink, where, raw, reason) < 0 ? -1 : SR_MAP_REJECTED;
}

int sr_jsondoc_map(const sr_map *m, const char *items, const json_t *doc, size_t page,
                   int64_t now_ms, sr_sink *sink, sr_jsondoc_counts *counts, char *err,
                   size_t errlen)
{
    const json_t *arr;
    int rc = -1;

    memset(counts, 0, sizeof *counts);
    if (sr_jsondoc_pick(doc, items, &arr, err, errlen) < 0)
        return -1;
    if (!json_is_array(arr)) {
        char names[JSONDOC_NAMES_MAX] = "";
        if (json_is_object(arr))
            member_names(arr, names, sizeof names);
        sr_map_errf(err, errlen, "items: %s%s%s is %s, not an array%s%s%s",
                    items && *items ? "'" : "the document", items && *items ? items : "",
                    items && *items ? "'" : "", sr_jsondoc_kind(arr),
                    names[0] ? " (its members: " : "", names, names[0] ? "; set items)" : "");
        return -1;
    }

    size_t nf = sr_map_field_count(m);
    const char **vals = calloc(nf ? nf : 1, sizeof *vals);
    char *vbuf = malloc(JSONDOC_VALUES_MAX), *raw = malloc(JSONDOC_RAW_MAX);
    if (!vals || !vbuf || !raw) {
        sr_map_errf(err, errlen, "out of memory");
    } else {
        counts->items = json_array_size(arr);
        rc = 0;
        for (size_t i = 0; i < counts->items; i++) {
            int r = map_item(m, json_array_get(arr, i), page, i, now_ms, sink, vals, vbuf, raw);
            if (r < 0) {
                sr_map_errf(err, errlen, "the cache refused item %zu; stopped", i);
                rc = -1;
                break;
            }
            counts->emitted += r == SR_MAP_EMITTED;
            counts->filtered += r == SR_MAP_FILTERED;
            counts->rejected += r == SR_MAP_REJECTED;
        }
    }
    free(vals);
    free(vbuf);
    free(raw);
    return rc;
}

int sr_jsondoc_map_body(const sr_map *m, const char *items, const char *body, size_t len,
                        int64_t now_ms, sr_sink *sink, sr_jsondoc_counts *counts, char *err,
                        size_t errlen)
{
    memset(counts, 0, sizeof *counts);
    json_t *doc = sr_jsondoc_parse(body, len, err, errlen);
    if (!doc)
        return -1;
    int rc = sr_jsondoc_map(m, items, doc, 0, now_ms, sink, counts, err, errlen);
    json_decref(doc);
    return rc;
}
