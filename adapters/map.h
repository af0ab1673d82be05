/*
 * map.h - from a source row to a sample: the mapping keys every built-in
 * adapter that reads rows (csv, exec, sqlite, postgres, http) shares.
 *
 *   metric = response_p{Priority}          text with {Field} templates
 *   entity = seattle/{Precinct}/{Sector}/{Beat}
 *   time   = Original Time Queued          a bare field name, or a template
 *   time_format = %m/%d/%Y %I:%M:%S %p     strptime-style, iso8601, epoch,
 *                                          epoch_ms; default: ISO-8601 or epoch
 *   timezone = America/Los_Angeles         zone of naive times (default [sitrep])
 *   value  = duration(Queued, Arrived)     a field, a number, or duration(A, B)
 *   key    = CAD Event Number              a bare field name, or a template
 *   where  = Call Type != ONVIEW and Priority in (1, 2)
 *   null   = NULL, N/A                     tokens meaning "no value"
 *
 * metric and entity without braces are constant text; time, key and value
 * without braces name one field (value: unless it is a number).
 * {Field|NAME} in a template is the field's value through the value map
 * [map.NAME] of the config (sr_ad_options.maps): its entry for the value,
 * else its default, else the row is rejected. {Name#2} is the second
 * column called Name when a header has the name twice. A field
 * name is matched exactly (case and blanks included), after a UTF-8 BOM is
 * stripped from it.
 *
 * A map is built once in open() (sr_map_create), then each adapter tells it
 * which fields a row carries: sr_map_field_count()/sr_map_field_name() list
 * the fields the map reads, and the adapter passes their values for each
 * row in that order (sr_map_row). The map emits the sample or rejects the
 * row with its reason; it never drops a row silently (rows excluded by
 * `where` are the user's choice and are only counted).
 *
 * Only adapters/ includes this header. It depends on adapter.h alone.
 */
#ifndef SR_MAP_H
#define SR_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "adapter.h"

typedef struct sr_map sr_map;

/* The keys of the mapping, for an adapter type's option table: use
 * SR_MAP_OPTION_SPECS inside its sr_ad_option_spec array (before {NULL}).
 * SR_MAP_OPTION_SPECS_REQ(0) is the same list with metric, entity and value
 * optional, for a type that needs them only in some modes (exec's format =
 * lines) and checks them in its open(). */
#define SR_MAP_OPTION_SPECS SR_MAP_OPTION_SPECS_REQ(1)
#define SR_MAP_OPTION_SPECS_REQ(req)                                                               \
    {"metric", (req),                                                                              \
     "metric of each row: text with {Field} templates (response_p{Priority}); {Field|NAME} "       \
     "maps the value through [map.NAME], {Field#2} is a second column of that name"},              \
        {"entity", (req), "entity path of each row: text with {Field} templates"},                 \
        {"time", 0, "the row's time: a field name or a {Field} template (default: now)"},          \
        {"time_format", 0, "strptime format (%m/%d/%Y %I:%M:%S %p), iso8601, epoch or epoch_ms"},  \
        {"timezone", 0, "zone of times without an offset (default: [sitrep] timezone)"},           \
        {"value", (req), "a field name, a number, or duration(START, END) in seconds"},            \
        {"key", 0, "what makes a row unique (a field or template); default: the whole sample"},    \
        {"where", 0, "filter: FIELD = V, FIELD != V, FIELD in (A, B), joined by and"},             \
    {                                                                                              \
        "null", 0, "comma-separated tokens meaning no value (default: the empty cell)"             \
    }

/*
 * Reads the mapping keys of opts. On error returns negative with a message
 * naming the key in err (and *out untouched). Caller owns *out; free with
 * sr_map_destroy(). opts->host must be set when a time or timezone is used.
 */
int sr_map_create(const sr_ad_options *opts, sr_map **out, char *err, size_t errlen);
void sr_map_destroy(sr_map *m);

/* The fields the map reads, each once, in a fixed order (borrowed; valid
 * until sr_map_destroy). */
size_t sr_map_field_count(const sr_map *m);
const char *sr_map_field_name(const sr_map *m, size_t i);

/*
 * Finds every field of the map among a header's names (a BOM on the first
 * name is ignored). A field "Name#N" that is not itself a column's name is
 * the N-th column called Name (N from 2: a header with a name twice).
 * col receives, per map field, its index in names.
 * Returns 0, or negative with "field 'X' is not in the header (have: ...)"
 * in err.
 */
int sr_map_bind(const sr_map *m, const char *const *names, size_t n, size_t *col, char *err,
                size_t errlen);

/*
 * 1 when a field the map reads by its plain name is the name of more than
 * one column of the header (the map reads the first: {Name}; the second is
 * {Name#2}), with a message saying so in msg; else 0.
 */
int sr_map_header_warning(const sr_map *m, const char *const *names, size_t n, char *msg,
                          size_t len);

/* What sr_map_row did with a row. */
enum {
    SR_MAP_EMITTED = 0,
    SR_MAP_FILTERED = 1, /* excluded by where */
    SR_MAP_REJECTED = 2, /* handed to sink->reject with its reason */
};

/*
 * Maps one row. vals[i] is the value of map field i (NULL when the row does
 * not have it at all); where ("line 12") and raw (the row as read) are for
 * the reject. now_ms is used when the map has no time. Returns one of the
 * SR_MAP_* outcomes, or negative when the sink refused (stop the poll).
 */
int sr_map_row(const sr_map *m, const char *const *vals, int64_t now_ms, const char *where,
               const char *raw, sr_sink *sink);

/* Rows filtered out by where so far (for the adapter's own accounting). */
uint64_t sr_map_filtered(const sr_map *m);

/* ---- helpers for adapters ---- */

/* snprintf into an adapter's err buffer (nothing when err is NULL or len 0). */
void sr_map_errf(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Text from outside (a response body, a parser's message, a name from a
 * document) made fit to quote in a message: copies at most n bytes of src
 * (up to a NUL) into dst as one readable line, control characters and runs
 * of blanks made one space, markup between < and > dropped when markup is
 * set (an HTML error page), cut to dlen - 1 bytes without splitting a
 * UTF-8 sequence.
 */
void sr_map_oneline(const char *src, size_t n, char *dst, size_t dlen, int markup);

/*
 * Parses a number as sources write it: blanks around, a leading + or -,
 * thousands separators in groups of three ("1,234.56", "-12,000"), an
 * exponent. Returns 0, or negative when text is not a finite number.
 */
int sr_map_number(const char *text, double *out);

/*
 * Reads a secret named by the option NAME in one of two ways: NAME_env =
 * VARIABLE (the environment) or NAME_file = PATH (the file's first line,
 * refused when the file is group- or world-readable or not a regular
 * file). A literal NAME = ... in the config is refused. Returns 0 with a
 * malloc'd string in *out (caller frees; NULL when neither key is given),
 * or negative with a message naming the key in err.
 */
int sr_map_secret(const sr_ad_options *opts, const char *name, char **out, char *err,
                  size_t errlen);

/* path resolved against opts->config_dir when relative ("~/" = $HOME).
 * Returns 0, or negative when it does not fit len. */
int sr_map_path(const sr_ad_options *opts, const char *path, char *buf, size_t len);

#endif
