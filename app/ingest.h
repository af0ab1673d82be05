/*
 * ingest.h - the CSV format read by `sitrep ingest FILE.csv`.
 *
 * The first non-blank row is a header naming the columns
 *
 *     metric,entity,ts,value[,key]
 *
 * in any order; names are compared without regard to case, with blanks
 * around them ignored. A column that is not one of these, a column named
 * twice or a missing required column refuses the whole file.
 *
 * Every later row becomes exactly one sample (sink->row) or one reject
 * (sink->reject, with the reason); a row is never dropped silently. The only
 * rows skipped are blank lines: nothing but spaces and tabs, or a single
 * empty field such as `""`. They are counted in sr_ingest_stats.blank.
 *
 * Fields:
 *   metric  a metric of the catalog, blanks around it trimmed; a ratio
 *           metric cannot be ingested (it is computed from its parts)
 *   entity  a path such as "seattle/east/charlie/c3", blanks around it
 *           trimmed; no empty segment, no leading or trailing '/'
 *   ts      ISO-8601 with a zone ("2015-03-01T10:00:00-08:00", "...Z"), a
 *           local date or date-time (read in the time zone given to
 *           sr_ingest_csv), or epoch seconds, decimals allowed
 *   value   a plain decimal number (no thousands separators)
 *   key     optional source key making ingest idempotent; blanks around it
 *           trimmed; empty = no key
 *
 * The file is read as CSV by adapters/csvin.h, whose rules are those of
 * every CSV sitrep reads: a UTF-8 byte order mark at the start and CRLF (or
 * lone CR) line endings are accepted; quoting follows RFC 4180 and is
 * checked strictly (a quote inside an unquoted field, text after a closing
 * quote, a quoted field left open at the end of the file reject the row,
 * with the line and byte where the problem is); a row longer than
 * SR_CSVIN_ROW_MAX, with another number of fields than the header or with
 * a NUL byte is rejected.
 */
#ifndef SR_INGEST_H
#define SR_INGEST_H

#include <stddef.h>
#include <stdio.h>

#include "../adapters/csvin.h"
#include "../metrics/common.h"
#include "../metrics/kpi.h"
#include "../metrics/store.h"

/* Longest raw text given to sink->reject, NUL included ("..." marks a cut). */
#define SR_INGEST_RAW_MAX SR_CSVIN_RAW_MAX

/*
 * Where the rows go. Both functions return 0 to go on; any other value stops
 * the parse at once and sr_ingest_csv() returns it (use negative SR_ codes).
 * Everything passed is borrowed; valid for the call only.
 */
typedef struct {
    void *ctx;
    /*
     * A good row. line: 1-based physical line where the row starts. s->key
     * is NULL when the file has no key column or the field is empty.
     */
    int (*row)(void *ctx, long line, const sr_sample *s);
    /*
     * A row that is not a sample. line: as for row. raw: the row's fields
     * written back as CSV (quoted where needed, a NUL byte shown as "\0"), or,
     * for a row libcsv could not split into fields, the text of its lines as
     * read; at most SR_INGEST_RAW_MAX - 1 bytes. reason: why, in words, e.g.
     * "unknown metric 'x'", "row has 3 fields, the header has 4".
     */
    int (*reject)(void *ctx, long line, const char *raw, const char *reason);
} sr_ingest_sink;

typedef struct {
    long lines;   /* physical lines read (a last line without newline counts) */
    long rows;    /* calls of sink->row */
    long rejects; /* calls of sink->reject */
    long blank;   /* blank lines skipped */
} sr_ingest_stats;

/*
 * Reads the CSV stream f to its end (f stays open; the caller owns it) and
 * hands each row to sink. Local times in the file are read in the time zone
 * tz (NULL or "" = UTC). stats, when not NULL, is filled in on every return.
 *
 * Returns 0 when the whole stream was read, SR_EINVAL when the header is
 * unusable, the file is empty or tz is unknown (the callbacks are then never
 * called), SR_EIO on a read error, SR_ENOMEM, or the non-zero value a
 * callback returned. On an error, a message (for a header problem starting
 * with "line N: ") is written to err when errlen > 0.
 */
int sr_ingest_csv(FILE *f, const sr_catalog *cat, const char *tz, const sr_ingest_sink *sink,
                  sr_ingest_stats *stats, char *err, size_t errlen);

/*
 * sr_ingest_csv with the parse on a thread of its own (app/ingest_pipe.c),
 * so that reading the file and the sink's work overlap on two cores. The
 * sink is called on the caller's thread only, in the file's order, with
 * exactly the calls sr_ingest_csv would make, and the same return value and
 * message. Memory: a few MiB of relayed rows at most. When the sink stops
 * the parse, stats also count the rows parsed ahead of it (at most a
 * batch of 4,096); the sink never sees them. Without a thread to be had it
 * is sr_ingest_csv.
 */
int sr_ingest_csv_pipelined(FILE *f, const sr_catalog *cat, const char *tz,
                            const sr_ingest_sink *sink, sr_ingest_stats *stats, char *err,
                            size_t errlen);

#endif
