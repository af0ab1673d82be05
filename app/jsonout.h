/*
 * jsonout.h - the one way the command line writes JSON (`sources`,
 * `query`, `snapshot`, `alerts`, `audit`): what jansson dumps, with every
 * control character of a string escaped as \uXXXX.
 *
 * jansson escapes C0 itself; C1 controls (U+0080 to U+009F, which a
 * terminal may read as CSI), DEL and the bidi overrides and isolates (by
 * sr_text_is_control(), metrics/safetext.h) it writes as they came. They
 * are escaped here, not dropped, so a consumer still sees what the data
 * said; other non-ASCII text (é, ü) stays UTF-8.
 */
#ifndef SR_JSONOUT_H
#define SR_JSONOUT_H

#include <jansson.h>
#include <stdio.h>

/* Writes root (borrowed), dumped with jansson's flags, and a newline to
 * out. Returns 0, SR_ENOMEM, or SR_EIO when out fails. */
int sr_json_write(const json_t *root, size_t flags, FILE *out);

#endif
