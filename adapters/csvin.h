/*
 * csvin.h - CSV input: a byte stream cut into rows of fields, the one
 * front end over libcsv (its public API only) for every CSV sitrep reads:
 * `sitrep ingest` (app/ingest.c) and the csv and exec adapters
 * (csvrows.c).
 *
 * The rules, the same for every reader:
 *   - a UTF-8 byte order mark at the start of the stream is skipped;
 *   - rows end at LF, CRLF or a lone CR; line numbers count LFs, so a row
 *     after a lone CR is on the line of the row before it; a row has the
 *     line it starts on, from 1;
 *   - quoting is RFC 4180, checked strictly: a quote inside an unquoted
 *     field, text after a closing quote, or a quoted field still open at
 *     the end of the stream rejects the row ("malformed CSV: ...", with
 *     the line and byte), with the text of its lines as read; reading
 *     goes on after the line where the error was found;
 *   - a row longer than SR_CSVIN_ROW_MAX bytes is rejected, and reading
 *     goes on after the line where it passed the bound;
 *   - blank lines (nothing but spaces, tabs and line ends) are skipped, and
 *     so is a row of one empty field (such as `""`) unless the header has
 *     one column; both are counted in sr_csvin_stats.blank;
 *   - the first row that is not blank is the header (sink->header);
 *   - a later row with another number of fields than the header, or with a
 *     NUL byte in a field, is rejected with its reason; any other row goes
 *     to sink->row.
 * A row is never dropped silently: it reaches sink->row or sink->reject.
 */
#ifndef SR_CSVIN_H
#define SR_CSVIN_H

#include <stddef.h>
#include <stdint.h>

/* The longest row read (its bytes as written, quotes included). */
#define SR_CSVIN_ROW_MAX (1u << 20)
/* Longest raw text given to sink->reject, NUL included ("..." marks a cut). */
#define SR_CSVIN_RAW_MAX 4096

typedef struct sr_csvin sr_csvin;

/* A row split into fields; borrowed, valid during the callback only. */
typedef struct {
    uint64_t line;     /* the line the row starts on, from 1 */
    size_t n;          /* fields */
    char *const *f;    /* field i: NUL-terminated (header fields may hold a NUL) */
    const size_t *len; /* bytes of field i */
} sr_csvin_row;

/*
 * Where rows go. Each function returns 0 to read on; any other value
 * stops reading at once and is returned by sr_csvin_feed() or
 * sr_csvin_finish() (use negative values).
 */
typedef struct {
    void *ctx;
    /* The header: the first row of the stream that is not blank. */
    int (*header)(void *ctx, const sr_csvin_row *row);
    /* A data row: as many fields as the header, no NUL byte in any. */
    int (*row)(void *ctx, const sr_csvin_row *row);
    /*
     * A row that is not one: line where it starts, raw (the row written
     * back as CSV, or for a row libcsv could not split, the text of its
     * lines as read; a NUL byte shown as "\0"; at most SR_CSVIN_RAW_MAX - 1
     * bytes) and why ("malformed CSV: stray quote at line 2, byte 16").
     * header: 1 when the row stands where the header should be.
     */
    int (*reject)(void *ctx, uint64_t line, const char *raw, const char *why, int header);
} sr_csvin_sink;

typedef struct {
    uint64_t lines;    /* lines begun: LFs read, and one more when bytes follow the last */
    uint64_t blank;    /* blank lines and rows skipped */
    uint64_t rejected; /* rows handed to sink->reject by the reader itself */
} sr_csvin_stats;

/*
 * A reader of one stream, fields separated by delim. Caller owns *out;
 * free with sr_csvin_destroy(). Returns 0, or -1 when out of memory.
 */
int sr_csvin_create(char delim, sr_csvin **out);
void sr_csvin_destroy(sr_csvin *r);

/*
 * Reads len more bytes of the stream, in any slices: a row still being
 * written waits for the bytes that end it. Returns 0; the value a sink
 * callback returned to stop (the rest of buf is not read: reset the
 * reader to go on); or -1 when out of memory.
 */
int sr_csvin_feed(sr_csvin *r, const void *buf, size_t len, const sr_csvin_sink *sink);

/*
 * End of the stream: the last row when it has no line end (rejected when
 * a quoted field is still open). Same returns as sr_csvin_feed(). The
 * reader then waits for a new stream, as after sr_csvin_reset().
 */
int sr_csvin_finish(sr_csvin *r, const sr_csvin_sink *sink);

/*
 * The stream has stopped for now in the middle of a line (a file that is
 * not growing): ends the row waiting there as if its line had ended,
 * unless it is inside a quoted field (then it keeps waiting). Unlike
 * sr_csvin_finish(), the stream goes on: the header and the line count are
 * kept, and a line end read next only ends the row already read. Same
 * returns as sr_csvin_feed().
 */
int sr_csvin_flush(sr_csvin *r, const sr_csvin_sink *sink);

/* Forgets the stream (a truncated or rotated file): the next byte read
 * starts a new one, with its own BOM, header and lines. Stats are kept. */
void sr_csvin_reset(sr_csvin *r);

/* 1 when bytes of an unfinished row (or of a BOM) wait for more input. */
int sr_csvin_pending(const sr_csvin *r);

/* 1 once the header of the current stream has been read. */
int sr_csvin_has_header(const sr_csvin *r);

/*
 * The row being handed to sink->row or sink->header written back as CSV:
 * fields quoted where needed (a delimiter, quote, line end, or blanks at
 * either end), a NUL byte shown as "\0", cut at SR_CSVIN_RAW_MAX - 1 bytes
 * with "..." (never inside a UTF-8 character). Borrowed; valid until the
 * callback returns.
 */
const char *sr_csvin_raw(sr_csvin *r);

/* The line being read, from 1 (where a reader stopped, for a message). */
uint64_t sr_csvin_line(const sr_csvin *r);

void sr_csvin_stats_get(const sr_csvin *r, sr_csvin_stats *out);

/* The longest prefix of s[0..n) that does not end inside a UTF-8 sequence
 * (where raw text and quoted fields are cut). */
size_t sr_csvin_utf8_floor(const char *s, size_t n);

#endif
