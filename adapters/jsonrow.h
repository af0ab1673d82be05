/*
 * jsonrow.h - a JSON object as a row for sr_map (exec's jsonl, http).
 *
 * A map field names a member of the object; a dotted name ("unit.id")
 * walks nested objects when no member has the whole name. Strings are
 * passed as they are, numbers in their shortest exact form, true/false as
 * words, JSON null as the empty text (a null value), objects and arrays as
 * compact JSON; a missing member is NULL (the map rejects the row naming
 * the field).
 */
#ifndef SR_JSONROW_H
#define SR_JSONROW_H

#include <jansson.h>

#include "map.h"

/*
 * Fills vals (sr_map_field_count(m) entries) from obj. Text that is not
 * a string member of obj is written into buf (len bytes); vals point into
 * obj or buf, valid while both are. Returns 0, or negative when buf is too
 * small or obj is not an object (err says which).
 */
int sr_jsonrow_values(const sr_map *m, const json_t *obj, char *buf, size_t len, const char **vals,
                      char *err, size_t errlen);

/* The row as compact JSON for a reject, cut to len - 1 bytes. */
void sr_jsonrow_raw(const json_t *obj, char *buf, size_t len);

#endif
