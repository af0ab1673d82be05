/*
 * execfmt.h - the texts the exec adapter reads: the `command` option split
 * into words, one line of `format = lines`, and a command's stderr turned
 * into a short printable message. Pure functions, each testable and
 * fuzzable on its own.
 *
 * Only adapters/ includes this header. It depends on adapter.h alone.
 */
#ifndef SR_EXECFMT_H
#define SR_EXECFMT_H

#include <stddef.h>
#include <stdint.h>

#include "adapter.h"

/*
 * Splits a command into words without a shell:
 *   - blanks (space, tab, CR, LF) separate words;
 *   - '...' is literal up to the next single quote;
 *   - "..." is literal except that \" and \\ stand for " and \ (any other
 *     backslash is kept as it is);
 *   - outside quotes a backslash makes the next character literal;
 *   - pieces next to each other form one word (--title="a b" is one
 *     word), and "" or '' alone is an empty word;
 *   - nothing else is special: no $VARIABLES, ~, globs, pipes or
 *     redirections. An unquoted word that is a shell operator (| ; & && ||
 *     < > >> 2> 2>&1 ...) is refused with a hint to use /bin/sh -c.
 * On success returns 0 with *argv a NULL-terminated array of *argc >= 1
 * words (caller owns; free with free(), one block). Otherwise returns
 * negative with the reason in err (unterminated quote, trailing backslash,
 * no words, a shell operator).
 */
int sr_execfmt_words(const char *text, char ***argv, size_t *argc, char *err, size_t errlen);

/* The longest value or time text a line may carry. */
#define SR_EXECFMT_WORD_MAX 80

/*
 * Parses one line of `format = lines`: `METRIC ENTITY VALUE [TIME]`,
 * separated by blanks (spaces, tabs). line holds len bytes (no newline; a
 * trailing CR is ignored). VALUE is read by sr_map_number; TIME is the
 * rest of the line (so "2024-05-01 08:00:00" is one time), ISO-8601 or
 * epoch seconds read by host->parse_time in zone tz (for times without an
 * offset); without TIME the sample is at now_ms. A blank line, or one
 * whose first non-blank character is '#', is no sample.
 *
 * Returns 1 with *out filled (metric and entity point into line, which is
 * NUL-terminated after each of them; key is NULL), 0 for a blank or
 * comment line, or negative with the reason in why; line is left as it
 * was unless 1 is returned. A control character (other than tab) anywhere
 * in the line is refused.
 */
int sr_execfmt_line(char *line, size_t len, const sr_ad_host *host, const char *tz, int64_t now_ms,
                    sr_ad_sample *out, char *why, size_t whylen);

/*
 * A command's stderr (n bytes, as written) as one printable line for an
 * error message: its non-blank lines trimmed and joined by " / "; when
 * they do not fit, the first and the last line, cut. Control characters
 * and invalid UTF-8 become '?'. Writes at most len - 1 bytes and a NUL
 * (len > 0); returns the length written.
 */
size_t sr_execfmt_stderr(const char *text, size_t n, char *out, size_t len);

#endif
