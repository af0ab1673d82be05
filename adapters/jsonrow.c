/*
 * jsonrow.c - a JSON object as a row for sr_map (see jsonrow.h).
 *
 * The map asks for fields by name; each name is looked up as a member of
 * the object, then, when there is none and the name has dots, as a path
 * through nested objects. Values that are not strings are written as text
 * into the caller's buffer, so the map sees every row as text, whatever
 * the source.
 */
#include "jsonrow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The member at a dotted path ("unit.id"), or NULL. */
static const json_t *lookup(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    if (v || !strchr(name, '.'))
        return v;
    char part[256];
    const char *s = name;
    v = obj;
    while (v && *s) {
        const char *dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        if (n >= sizeof part || !json_is_object(v))
            return NULL;
        memcpy(part, s, n);
        part[n] = '\0';
        v = json_object_get(v, part);
        s += n + (dot ? 1 : 0);
    }
    return v;
}

/* The shortest text that reads back as the same double. */
static int real_text(double d, char *buf, size_t len)
{
    for (int prec = 15; prec <= 17; prec++) {
        int n = snprintf(buf, len, "%.*g", prec, d);
        if (n < 0 || (size_t)n >= len || strtod(buf, NULL) == d)
            return n;
    }
    return snprintf(buf, len, "%.17g", d);
}

int sr_jsonrow_values(const sr_map *m, const json_t *obj, char *buf, size_t len, const char **vals,
                      char *err, size_t errlen)
{
    if (!json_is_object(obj)) {
        sr_map_errf(err, errlen, "not a JSON object");
        return -1;
    }
    size_t used = 0;
    for (size_t i = 0; i < sr_map_field_count(m); i++) {
        const json_t *v = lookup(obj, sr_map_field_name(m, i));
        if (!v) {
            vals[i] = NULL;
            continue;
        }
        if (json_is_string(v)) {
            vals[i] = json_string_value(v);
            continue;
        }
        char *dst = buf + used;
        size_t room = len - used;
        int n;
        if (json_is_null(v))
            n = snprintf(dst, room, "%s", "");
        else if (json_is_true(v) || json_is_false(v))
            n = snprintf(dst, room, "%s", json_is_true(v) ? "true" : "false");
        else if (json_is_integer(v))
            n = snprintf(dst, room, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else if (json_is_real(v))
            n = real_text(json_real_value(v), dst, room);
        else {
            size_t need = json_dumpb(v, dst, room ? room - 1 : 0, JSON_COMPACT | JSON_ENCODE_ANY);
            n = need && need < room ? (int)need : (int)room;
            if (n < (int)room)
                dst[n] = '\0';
        }
        if (n < 0 || (size_t)n >= room) {
            sr_map_errf(err, errlen, "the values of one item are longer than %zu bytes", len);
            return -1;
        }
        vals[i] = dst;
        used += (size_t)n + 1;
    }
    return 0;
}

void sr_jsonrow_raw(const json_t *obj, char *buf, size_t len)
{
    if (!len)
        return;
    size_t n = json_dumpb(obj, buf, len - 1, JSON_COMPACT | JSON_ENCODE_ANY);
    if (n > len - 1) {
        /* cut: dumpb wrote nothing useful; write a marked prefix instead */
        char *full = json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY);
        if (full) {
            snprintf(buf, len, "%s", full);
            if (len > 4)
                memcpy(buf + len - 4, "...", 4);
            free(full);
            return;
        }
        n = 0;
    }
    buf[n] = '\0';
}
