/*
 * jsonout.h - the one way the command line writes JSON (`sources`,
 * `query`, `snapshot`, `alerts`, `audit`): what jansson dumps, with every
 * control character of a string escaped and every number exact.
 *
 * Strings: jansson escapes C0 itself; C1 controls (U+0080 to U+009F, which
 * a terminal may read as CSI), DEL and the bidi overrides and isolates (by
 * sr_text_is_control(), metrics/safetext.h) it writes as they came. They
 * are escaped here as \uXXXX, not dropped, so a consumer still sees what
 * the data said; other non-ASCII text (é, ü) stays UTF-8.
 *
 * Numbers: jansson writes a real with one printf precision for the whole
 * document: 10 digits lose cents of a large sum, 17 write 0.1 as
 * 0.10000000000000001. So the document is dumped at 17 (every real reads
 * back exactly) and each real is written again as the shortest text that
 * reads back as the same double (sr_format_double; ".0" kept on a whole
 * one, as jansson writes it): 0.1 stays 0.1 and 192793629.14 loses no digit.
 */
#ifndef SR_JSONOUT_H
#define SR_JSONOUT_H

#include <jansson.h>
#include <stdio.h>

/* Writes root (borrowed), dumped with jansson's flags (JSON_INDENT...; no
 * JSON_REAL_PRECISION), and a newline to out. Returns 0, SR_ENOMEM, or
 * SR_EIO when out fails. */
int sr_json_write(const json_t *root, size_t flags, FILE *out);

/* A number, or null for no figure (NAN, an infinity: the caller says why,
 * e.g. "overflow": true). jansson refuses non-finite reals, and a member set
 * from its NULL would silently vanish. Caller owns the reference. */
json_t *sr_json_number(double v);

#endif
