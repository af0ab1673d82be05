/*
 * safetext.h - the one sanitiser of text from outside (sources, the cache,
 * plugins), below every layer that prints: the screen (tui/text.c), the
 * command line's tables and lists, the collector's log and the JSON writer
 * all walk text through it.
 *
 * Text is decoded as UTF-8 one code point at a time. Control characters
 * (C0, DEL, C1) and the bidirectional overrides and isolates (U+202A to
 * U+202E, U+2066 to U+2069, which reorder what follows on a terminal that
 * does bidi) are controls; an ESC takes the rest of its escape sequence
 * with it; an invalid byte is one byte that decodes to nothing. Plain text
 * (sr_text_clean) drops the controls and shows invalid bytes as '?';
 * escaped text (sr_text_escape, for logs) writes them as \xNN and \uXXXX so
 * that a reader sees what came. Widths come from wcwidth(), so they follow
 * the locale: outside a UTF-8 locale every non-ASCII character is '?'.
 */
#ifndef SR_SAFETEXT_H
#define SR_SAFETEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes one UTF-8 code point from s (len bytes left, len >= 1): returns
 * its length, or 0 for an invalid sequence (overlong, surrogate, beyond
 * U+10FFFF, cut short: the caller skips one byte). The one decoder of
 * outside text; the manual pages' escaping uses it too. */
size_t sr_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/* Whether cp is a control: C0, DEL, C1, or a bidi override or isolate. */
bool sr_text_is_control(uint32_t cp);

/* The length of the escape sequence at s[0] == ESC (len >= 1 bytes left):
 * CSI, OSC/DCS/APC/PM/SOS up to BEL or ST, or ESC with intermediates and a
 * final byte. An ESC that cannot start a sequence is 1 byte alone. */
size_t sr_text_escape_len(const unsigned char *s, size_t len);

/* Called for every character that is shown: its bytes (borrowed, valid
 * during the call) and columns (0 for a combining mark). */
typedef void (*sr_text_emit_fn)(void *ctx, const char *bytes, size_t n, int width);

/*
 * Walks text (NULL: "") calling emit for every printable character, until
 * the next one would take more than max_cols columns (< 0: no limit);
 * returns the columns used and in *cut whether it stopped early. Controls
 * and escape sequences are skipped, invalid bytes and characters wcwidth()
 * cannot place are "?", and a combining mark at the start is dropped.
 */
int sr_text_walk(const char *text, int max_cols, sr_text_emit_fn emit, void *ctx, bool *cut);

/* Columns the text takes once sanitised. */
int sr_text_width(const char *text);

/*
 * Copies text (NULL: "") into out (size outlen), controls and escape
 * sequences dropped, invalid bytes as '?': plain text safe for any
 * terminal, never longer than text. A character that does not fit ends the
 * copy. Returns out.
 */
char *sr_text_clean(const char *text, char *out, size_t outlen);

/* As sr_text_clean(), cut to at most max_cols columns (< 0: no limit),
 * ending with ellipsis (borrowed, a clean text) when it was cut. */
char *sr_text_fit(const char *text, int max_cols, const char *ellipsis, char *out, size_t outlen);

/*
 * Copies text into out (size outlen) with every control written out, for a
 * log an administrator reads: C0 and DEL as \xNN (ESC is \x1b, a newline
 * \x0a, so a line stays a line), C1 and bidi controls as \uXXXX (\u009b,
 * \u202e), an invalid byte as \xNN; the rest of an escape sequence stays
 * as the printable text it is. Cut at a whole character or escape when out
 * is too small. Returns out.
 */
char *sr_text_escape(const char *text, char *out, size_t outlen);

/* Characters of outside text quoted in one message, and the room a quote
 * needs (a buffer of SR_QUOTE_SIZE bytes holds any). */
#define SR_QUOTE_MAX 60
#define SR_QUOTE_SIZE (4 * SR_QUOTE_MAX + 16)

/*
 * Writes text (NULL: "") for an error message that quotes it: escaped as
 * sr_text_escape() does, so that a file cannot send escape sequences to
 * the terminal and a reader sees what it holds, and cut after SR_QUOTE_MAX
 * characters with "...". out holds at least 4 bytes. Returns out.
 */
char *sr_text_quote(const char *text, char *out, size_t outlen);

#endif
