/*
 * jsonout.h - JSON documents written with their numbers exact.
 */
#ifndef SR_JSONOUT_H
#define SR_JSONOUT_H

#include <jansson.h>
#include <stdio.h>

/*
 * Writes root as jansson dumps it with flags (JSON_INDENT...; no
 * JSON_REAL_PRECISION), each real number as the shortest text that reads
 * back as the same double (sr_format_double; ".0" kept on a whole one, as
 * jansson writes it): 0.1 stays 0.1 and 192793629.14 loses no digit.
 * Returns 0, SR_ENOMEM, or SR_EIO when the stream failed.
 */
int sr_json_write(const json_t *root, size_t flags, FILE *out);

/* A number, or null for no figure (NAN, an infinity: the caller says why,
 * e.g. "overflow": true). jansson refuses non-finite reals, and a member set
 * from its NULL would silently vanish. Caller owns the reference. */
json_t *sr_json_number(double v);

#endif
