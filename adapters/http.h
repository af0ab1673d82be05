/*
 * http.h - the half of the http adapter that needs no network: a response
 * body to samples. The adapter itself is known to app/ only by its table
 * (sr_adapter_http, in registry.c); this header is for the fuzz target and
 * the tests, which feed bodies without a server.
 */
#ifndef SR_HTTP_H
#define SR_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "map.h"

/* What one body gave. */
typedef struct {
    size_t items;    /* elements of the array */
    size_t emitted;  /* samples handed to sink->emit */
    size_t filtered; /* excluded by the map's where */
    size_t rejected; /* handed to sink->reject */
} sr_http_counts;

/*
 * 0 when path is a valid path for the option key (items, next): empty, or
 * names separated by single dots ("data.incidents", "data.0.rows").
 * Otherwise negative with a message in err naming key.
 */
int sr_http_path_check(const char *key, const char *path, char *err, size_t errlen);

/*
 * The value at path in doc (borrowed from doc). At an object, a member
 * whose name is the whole rest of the path wins, else the name up to the
 * next dot; at an array, a name of digits is an index from 0. An empty
 * path is doc itself. Returns 0, or negative with a message saying where
 * the walk stopped.
 */
int sr_http_pick(const json_t *doc, const char *path, const json_t **out, char *err, size_t errlen);

/*
 * Parses body (len bytes, not NUL-terminated) as JSON, picks the array at
 * items (NULL or "" = the document) and maps each element through m into
 * sink. Elements that are not objects or that the map cannot turn into a
 * sample are rejected as "item N" (N from 0) with their compact JSON.
 * Returns 0 with *counts filled; negative with a message in err when the
 * body is not JSON, items does not lead to an array, memory ran out or the
 * sink refused (counts then say how far it got).
 */
int sr_http_map_body(const sr_map *m, const char *items, const char *body, size_t len,
                     int64_t now_ms, sr_sink *sink, sr_http_counts *counts, char *err,
                     size_t errlen);

/*
 * As sr_http_map_body, for a document already parsed (borrowed). page 0
 * names a rejected element "item N"; page P > 0 names it "page P item N"
 * (a paged poll).
 */
int sr_http_map_doc(const sr_map *m, const char *items, const json_t *doc, size_t page,
                    int64_t now_ms, sr_sink *sink, sr_http_counts *counts, char *err,
                    size_t errlen);

/*
 * url as it may be shown (an error, the sources view, the log): the
 * scheme, host, port and path, without user information, and with the
 * query and fragment replaced by "?…" (they may carry a signature or a
 * token that a server put in a redirect or a next link). Cut to len - 1
 * bytes. The one place where a url is made fit to show.
 */
void sr_http_redact(const char *url, char *out, size_t len);

#endif
