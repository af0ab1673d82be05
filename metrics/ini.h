/*
 * ini.h - the one reader of INI text, below every layer that reads it: the
 * config (app/config_read.c) and theme files (tui/theme.c). It owns the
 * grammar, which sitrep.conf(5) documents under FORMAT:
 *
 *   - Lines end with LF; a CR before it is a blank. A UTF-8 byte order
 *     mark at the very start is skipped. A line may be of any length.
 *   - Blanks (space, tab, CR, VT, FF) at the start and end of a line do not
 *     count. A line with nothing else is blank; one whose first character
 *     is ';' or '#' is a comment (indented or not).
 *   - An indented line after a key line (blank and comment lines may come
 *     between, no header may) is a continuation of that key's value.
 *   - '[' starts a section header: the name runs to the first ']'; after
 *     it only blanks and a comment may follow.
 *   - Any other line is KEY = VALUE: the key runs to the first '=' or ':'
 *     and is trimmed; the value is the rest, trimmed.
 *   - ';' after a blank starts an inline comment, in a value (but not as
 *     its first character), a continuation, a key or a header; '#' does
 *     not. Quotes are not special.
 *   - A NUL byte is not text: the reader says so at its line and stops.
 *
 * What a continuation does is the caller's (a config joins an adapter
 * key's lines with one blank); one that takes no continued value reports
 * SR_INI_CONTINUATION_ERROR, so that an indented key is never silently
 * read as part of the value above it.
 */
#ifndef SR_INI_H
#define SR_INI_H

#include <stddef.h>

/* What a continuation line is told when its key takes one line only. */
#define SR_INI_CONTINUATION_ERROR                                                                  \
    "indented line, expected key = value at the start of the line (an indented line would "        \
    "continue the previous value)"

/* What a line with a NUL byte is told. */
#define SR_INI_NUL_ERROR "a NUL byte, expected text"

typedef enum {
    SR_INI_SECTION,      /* [name]; rest: what follows ']', "" when nothing or a comment */
    SR_INI_KEY,          /* name = value */
    SR_INI_CONTINUATION, /* value continues the key name of the key line above */
    SR_INI_BAD_SECTION,  /* '[' without ']' (before an inline comment) */
    SR_INI_BAD_KEY,      /* neither a header, nor '=' or ':' (before an inline comment) */
    SR_INI_NUL,          /* a NUL byte in the line; nothing after it is read */
} sr_ini_kind;

/* One line that is neither blank nor a comment. Every string is borrowed,
 * valid during the call; unused ones are "". */
typedef struct {
    sr_ini_kind kind;
    int line;          /* 1 = the first line */
    const char *name;  /* SECTION: between '[' and ']'; KEY, CONTINUATION: the key */
    const char *value; /* KEY, CONTINUATION: trimmed, without its inline comment */
    const char *rest;  /* SECTION: the text after ']' that is not a comment */
    const char *text;  /* the whole line, trimmed (for BAD_*: to quote in a message) */
} sr_ini_line;

/* Called for each line; nonzero stops the reading and is returned. */
typedef int (*sr_ini_fn)(void *ctx, const sr_ini_line *l);

/*
 * Reads text (len bytes) and calls fn for every line that is not blank or
 * a comment, in order. Returns 0 at the end of the text (or after a NUL
 * line), SR_ENOMEM, or what fn returned to stop. Malformed lines are
 * reported to fn, never a failure of the call.
 */
int sr_ini_read(const char *text, size_t len, sr_ini_fn fn, void *ctx);

#endif
