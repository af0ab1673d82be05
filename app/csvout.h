/*
 * csvout.h - the one CSV writer of every CSV output (`query --format csv`,
 * `snapshot --format csv`): RFC 4180 fields through libcsv, numbers exact.
 */
#ifndef SR_CSVOUT_H
#define SR_CSVOUT_H

#include <stdbool.h>
#include <stdio.h>

/* One CSV document being written; the caller's storage (sr_csv_init). */
typedef struct {
    FILE *out;  /* borrowed; valid while rows are written */
    bool first; /* the next field is the first of its row */
} sr_csv_out;

void sr_csv_init(sr_csv_out *w, FILE *out);

/*
 * One field. The one place where a string goes out into CSV: made safe
 * (sr_text_clean: no control character or escape sequence), then quoted
 * (libcsv's csv_fwrite, quotes doubled) when it holds a comma, a quote, CR
 * or LF, as it is otherwise, so a row has as many fields as its header
 * whatever the data.
 */
void sr_csv_field(sr_csv_out *w, const char *text);

/* A number: the shortest text that reads back as the same double
 * (sr_format_double), "" for no data (NAN). The caller says what an
 * infinity means (sr_csv_field). */
void sr_csv_number(sr_csv_out *w, double v);

/* A figure in its value column: mask (a privacy mask, "<5") when set,
 * "overflow" for an infinity (an aggregate that overflowed, query.h), else
 * the number (sr_csv_number). */
void sr_csv_figure(sr_csv_out *w, double v, const char *mask);

/* A whole number as it is. */
void sr_csv_integer(sr_csv_out *w, long long v);

/* Ends the row (LF). */
void sr_csv_end_row(sr_csv_out *w);

/* A header row: the names up to the first NULL. */
void sr_csv_header(sr_csv_out *w, const char *const *names);

#endif
