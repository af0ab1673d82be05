/*
 * roff.h - text for the manual pages: the one place where sitrep's words
 * become roff (man(7)) source. `sitrep help ... --format man` writes the
 * parts of sitrep(1) and sitrep.conf(5) that are generated from the
 * program's own tables (commands, options, keys, configuration keys)
 * through these functions; `make man` puts them into the hand-written
 * templates of man/.
 */
#ifndef SR_ROFF_H
#define SR_ROFF_H

#include <stdio.h>

/*
 * Writes s escaped for roff, starting at the beginning of an output line:
 * a backslash as \e, every '-' as \- (so that options and paths copy as
 * typed), '"' as \(dq, characters outside ASCII as \[uXXXX], other
 * control characters left out; a line that would begin with '.' or '\''
 * (a request) is protected with \&. A '\n' in s starts a new line. Writes
 * no line end of its own.
 */
void sr_roff_text(FILE *f, const char *s);

/* Writes ".SH TITLE" or ".SS TITLE" (level 1 or 2), the title escaped. */
void sr_roff_heading(FILE *f, int level, const char *title);

/* Writes a paragraph: ".PP", then s escaped, then a line end. */
void sr_roff_para(FILE *f, const char *s);

/* Writes one line of text: bold in bold, then rest in roman (either may be
 * NULL or empty), then a line end. */
void sr_roff_line(FILE *f, const char *bold, const char *rest);

/*
 * Writes a tagged paragraph (".TP"): the tag is bold in bold, then rest in
 * roman (either may be NULL or empty), and body below it, indented.
 */
void sr_roff_item(FILE *f, const char *bold, const char *rest, const char *body);

#endif
