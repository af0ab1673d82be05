/*
 * map_int.h - what adapters/map.c and maplang.c share: the compiled map
 * (fields, templates, value maps, where clauses) and the functions one
 * file defines for the other. Private to those two files.
 */
#ifndef SR_MAP_INT_H
#define SR_MAP_INT_H

#include "map.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Bytes of an expanded template (metric, entity, time, key). */
#define TEXT_MAX 1024
/* Bytes of a value quoted in a reject reason. */
#define QUOTE_MAX 60

/* No value map on a part. */
#define NO_VMAP SIZE_MAX

typedef struct {
    const char *lit; /* literal text (owned by the map), or NULL for a field */
    size_t len;
    size_t field; /* index into fields when lit is NULL */
    size_t vmap;  /* index into vmaps ({Field|NAME}), or NO_VMAP */
} part;

/* A value map a template uses, copied from its [map.NAME]. */
typedef struct {
    char *name;
    char **from, **to; /* n entries: a value and what it becomes */
    size_t n;
    char *dflt; /* what any other value becomes; NULL = such a value is rejected */
} vmap;

typedef struct {
    part *p;
    size_t n;
    int set;
} tmpl;

enum value_kind { VAL_FIELD, VAL_CONST, VAL_DURATION };
enum time_kind { TIME_AUTO, TIME_ISO, TIME_EPOCH, TIME_EPOCH_MS, TIME_STRPTIME };
enum where_op { OP_EQ, OP_NE, OP_IN };

typedef struct {
    size_t field;
    enum where_op op;
    char **vals;
    size_t n;
} clause;

struct counters {
    uint64_t filtered;
};

struct sr_map {
    char **fields;
    size_t n_fields;
    vmap *vmaps;
    size_t n_vmaps;
    const sr_ad_options *opts; /* borrowed during sr_map_create only */

    tmpl metric, entity, time, key;
    enum value_kind vkind;
    double vconst;
    size_t vfield, vend; /* VAL_FIELD: vfield; VAL_DURATION: vfield .. vend */

    enum time_kind tkind;
    char *tformat;
    char tz[64];
    const sr_ad_host *host;

    clause *where;
    size_t n_where;
    char **nulls;
    size_t n_nulls;

    struct counters *count; /* mutable through a const map */
};

/* ---- map.c ---- */

/* A copy of s[0..n) without blanks around it; NULL when out of memory. */
char *map_dup_trim(const char *s, size_t n);

/* A value for a message: printable ASCII, cut at QUOTE_MAX bytes. */
void map_quote(const char *s, char *buf, size_t len);

/* ---- maplang.c ---- */

/* Index of field name (adding it); SIZE_MAX when out of memory. */
size_t map_field_add(sr_map *m, const char *name, size_t len);

/*
 * Compiles text into t. With braces, "{Field}" parts are fields and the
 * rest literal; without, the whole text is one field when bare_is_field,
 * else a literal.
 */
int map_tmpl_compile(sr_map *m, tmpl *t, const char *key, const char *text, int bare_is_field,
                     char *err, size_t errlen);

/* A field's value as the map sees it: trimmed, NULL when the row lacks it.
 * Empty text and the null tokens are "no value" (returns "" then). */
const char *map_field_val(const sr_map *m, const char *const *vals, size_t f, char *buf,
                          size_t len);

/*
 * Expands t for a row into out. Returns 0, or -1 with a reject reason in
 * why (a field missing or without a value, or the result too long).
 * In an entity ('/' separates levels), a '/' inside a value becomes '-'.
 */
int map_tmpl_expand(const sr_map *m, const tmpl *t, const char *what, int entity,
                    const char *const *vals, char *out, size_t len, char *why, size_t wlen);

/* The next piece of s up to a separator outside double quotes: for
 * " and " (sep_and) or ',' ; returns its length. */
size_t map_piece_len(const char *s, int sep_and);

/* A where value: trimmed, surrounding double quotes removed. */
char *map_where_value(const char *s, size_t n);

/* Compiles the where option (clauses joined by " and ") into m. */
int map_where_compile(sr_map *m, const char *text, char *err, size_t errlen);

/* 1 when the row passes every clause; -1 when it lacks a field (why). */
int map_where_pass(const sr_map *m, const char *const *vals, char *why, size_t wlen);

#endif
