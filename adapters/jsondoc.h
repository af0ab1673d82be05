/*
 * jsondoc.h - a JSON document as rows: the array at a dotted path, each
 * element through jsonrow.h and the shared map (map.h). The half of the
 * http adapter that needs no network; the fuzz target and the tests feed
 * it bodies without a server.
 */
#ifndef SR_JSONDOC_H
#define SR_JSONDOC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "map.h"

/* What one document gave. */
typedef struct {
    size_t items;    /* elements of the array */
    size_t emitted;  /* samples handed to sink->emit */
    size_t filtered; /* excluded by the map's where */
    size_t rejected; /* handed to sink->reject */
} sr_jsondoc_counts;

/*
 * 0 when path is a valid path for the option key (items, next): empty, or
 * names separated by single dots ("data.incidents", "data.0.rows").
 * Otherwise negative with a message in err naming key.
 */
int sr_jsondoc_path_check(const char *key, const char *path, char *err, size_t errlen);

/*
 * The value at path in doc (borrowed from doc). At an object, a member
 * whose name is the whole rest of the path wins, else the name up to the
 * next dot; at an array, a name of digits is an index from 0. An empty
 * path is doc itself. Returns 0, or negative with a message saying where
 * the walk stopped.
 */
int sr_jsondoc_pick(const json_t *doc, const char *path, const json_t **out, char *err,
                    size_t errlen);

/* "an object", "a number", "null", ... for a message about v. */
const char *sr_jsondoc_kind(const json_t *v);

/*
 * body (len bytes, not NUL-terminated) parsed as JSON: the document
 * (caller owns; free with json_decref()), or NULL with jansson's line and
 * column in err.
 */
json_t *sr_jsondoc_parse(const char *body, size_t len, char *err, size_t errlen);

/*
 * Picks the array at items (NULL or "" = the document) in doc (borrowed)
 * and maps each element through m into sink. Elements that are not objects
 * or that the map cannot turn into a sample are rejected as "item N" (N
 * from 0) with their compact JSON; page P > 0 names them "page P item N"
 * (a paged poll). Returns 0 with *counts filled; negative with a message
 * in err when items does not lead to an array, memory ran out or the sink
 * refused (counts then say how far it got).
 */
int sr_jsondoc_map(const sr_map *m, const char *items, const json_t *doc, size_t page,
                   int64_t now_ms, sr_sink *sink, sr_jsondoc_counts *counts, char *err,
                   size_t errlen);

/* As sr_jsondoc_map with page 0, for a body not yet parsed; an error too
 * when the body is not JSON. */
int sr_jsondoc_map_body(const sr_map *m, const char *items, const char *body, size_t len,
                        int64_t now_ms, sr_sink *sink, sr_jsondoc_counts *counts, char *err,
                        size_t errlen);

#endif
