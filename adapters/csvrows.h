/*
 * csvrows.h - a CSV byte stream as mapped rows (csv and exec adapters).
 *
 * Bytes go in as they arrive (a file growing, a pipe) and are cut into
 * rows by csvin.h, which says how (BOM, line ends, strict RFC 4180
 * quoting, blank lines, the row bound, rows of the wrong width or with a
 * NUL byte rejected). The header is bound to the map's fields; every
 * following row goes through sr_map_row() into the sink, and every row
 * csvin rejects goes to sink->reject with its reason and "line N" (the
 * line on which the row starts).
 */
#ifndef SR_CSVROWS_H
#define SR_CSVROWS_H

#include <stddef.h>
#include <stdint.h>

#include "csvin.h"
#include "map.h"

typedef struct sr_csvrows sr_csvrows;

typedef struct {
    uint64_t rows;     /* data rows seen (not the header) */
    uint64_t emitted;  /* rows that became a sample */
    uint64_t filtered; /* rows excluded by where */
    uint64_t rejected; /* rows handed to sink->reject */
    uint64_t notes;    /* header lines handed to sink->reject (a column name twice) */
    uint64_t blank;    /* blank lines and rows skipped */
    uint64_t lines;    /* lines begun (csvin.h) */
} sr_csvrows_stats;

/*
 * A reader for one stream mapped by m (borrowed; must outlive the reader),
 * fields separated by delim. Caller owns *out; free with
 * sr_csvrows_destroy(). Returns 0 or negative with a message in err.
 */
int sr_csvrows_create(const sr_map *m, char delim, sr_csvrows **out, char *err, size_t errlen);
void sr_csvrows_destroy(sr_csvrows *r);

/*
 * Feeds len bytes. Complete rows are mapped into sink at once (now_ms for
 * rows without a time). Returns 0; SR_CSVROWS_EHEADER when the header
 * lacks a field the map needs (err says which; every later feed returns
 * the same until sr_csvrows_reset()); or another negative value when the
 * sink refused a row (stop; the rows after it in buf are not read).
 */
int sr_csvrows_feed(sr_csvrows *r, const char *buf, size_t len, int64_t now_ms, sr_sink *sink,
                    char *err, size_t errlen);

/* End of the stream: maps a last row that has no line ending. Same
 * returns as sr_csvrows_feed(). The reader then waits for a new stream
 * (a header first), as after sr_csvrows_reset(). */
int sr_csvrows_finish(sr_csvrows *r, int64_t now_ms, sr_sink *sink, char *err, size_t errlen);

/*
 * The stream has stopped for now in the middle of a line (a file that is
 * not growing, its last row without a line ending): maps that row now,
 * as if its line had ended, unless it is inside a quoted field (then it
 * keeps waiting, and 0 is returned). Unlike sr_csvrows_finish() the stream
 * goes on: the header and the line count are kept, and a line ending fed
 * next only ends the row already mapped (libcsv skips the empty line).
 * Same returns as sr_csvrows_feed().
 */
int sr_csvrows_flush(sr_csvrows *r, int64_t now_ms, sr_sink *sink, char *err, size_t errlen);

/* Forgets the stream (a truncated or rotated file): the next byte fed
 * starts a new stream with its own BOM and header. Counters are kept. */
void sr_csvrows_reset(sr_csvrows *r);

/* 1 when bytes of an unfinished row are waiting for more input. */
int sr_csvrows_pending(const sr_csvrows *r);

/* 1 once the header of the current stream has been read and bound. */
int sr_csvrows_has_header(const sr_csvrows *r);

void sr_csvrows_stats_get(const sr_csvrows *r, sr_csvrows_stats *out);

#define SR_CSVROWS_EHEADER (-100)

#endif
