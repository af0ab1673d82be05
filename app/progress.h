/*
 * progress.h - one line of progress on stderr for long commands (`sitrep
 * ingest`, `collect --once`), rewritten in place while they run:
 *
 *     ingest.csv: 1 240 000 rows, 380 000 rows/s, 42%, 3s left
 *
 * Only when stderr is a terminal: otherwise sr_progress_create() returns
 * NULL and every call below does nothing, so that piped output is the same
 * with or without it.
 */
#ifndef SR_PROGRESS_H
#define SR_PROGRESS_H

#include <stdint.h>

typedef struct sr_progress sr_progress;

/*
 * A progress line for the work called name (a file name from the command
 * line: shown through the terminal sanitiser), whose size is total units
 * (bytes read, for a file; <= 0 when unknown: then rows and rate only).
 * Returns NULL when stderr is not a terminal. Caller owns the result; free
 * with sr_progress_destroy().
 */
sr_progress *sr_progress_create(const char *name, int64_t total);

/*
 * Tells how far the work is: rows handled and units of total done so far.
 * Draws the line at most four times a second, the first time a quarter of
 * a second after the start (quick work shows none); cheap to call often.
 */
void sr_progress_update(sr_progress *p, int64_t rows, int64_t done);

/* Erases the line (before other output on the terminal); an update draws
 * it again. */
void sr_progress_clear(sr_progress *p);

/* Erases the line and frees p; NULL is a no-op. */
void sr_progress_destroy(sr_progress *p);

#endif
