/*
 * sql.h - what the SQL adapters (sqlite, postgres) share: the query and
 * its parameters, the cursor that makes each poll read only new rows, rows
 * per poll, and result rows handed to the shared mapping (map.h).
 *
 *   query        = SELECT id, ts, unit, secs FROM incidents
 *                  WHERE id > :last ORDER BY id
 *   cursor       = id          result column whose largest value becomes :last
 *   cursor_start = 0           :last before any row was read (default 0)
 *   max_rows     = 10000       rows per poll; the rest follows at once
 *
 * Values reach the database only as bound parameters: :last (the cursor)
 * and :since_ms (the collector's cursor, epoch ms of the last successful
 * poll the cache remembers, 0 at first). Any other :name in the query is
 * refused. For PostgreSQL the query is rewritten with $1, $2 in place of
 * the names (outside strings, quoted names, comments and dollar quotes).
 *
 * The cursor lives in memory and follows the collector's commits: each
 * successful poll reports a fresh cursor_ms, and the next poll's since_ms
 * says which of the recent polls the cache committed, so a batch that was
 * not written is read again. After a restart it starts at cursor_start
 * (the store is idempotent; bound the query with :since_ms to read less).
 *
 * Rows are bounded per poll: after max_rows rows the poll stops where the
 * cursor value changes (rows sharing a value are never split), sets
 * info->more, and the next poll continues from the cursor. That needs rows
 * in cursor order: a cut in unordered rows fails with a message asking for
 * ORDER BY. Cursor values compare as numbers when the column gives numbers,
 * else as text, byte by byte (ISO timestamps in one zone sort right).
 *
 * A cell that is SQL NULL is handed to the map as the empty text, which the
 * map reads as no value. Only adapters/ includes this header.
 */
#ifndef SR_SQL_H
#define SR_SQL_H

#include <stddef.h>
#include <stdint.h>

#include "adapter.h"
#include "map.h"

/* The keys every SQL adapter type takes (before SR_MAP_OPTION_SPECS). */
/* clang-format off */
#define SR_SQL_OPTION_SPECS                                                                      \
    {"query", 1, "one read-only SELECT; :last is the cursor, :since_ms the last poll (epoch ms)"}, \
    {"cursor", 0, "result column whose largest value becomes :last (needs :last in query)"},     \
    {"cursor_start", 0, "the value of :last before any row was read (default 0)"},               \
    {"max_rows", 0, "rows per poll (default 10000, at most 1000000); the rest follows"}
/* clang-format on */

enum { SR_SQL_SQLITE, SR_SQL_POSTGRES }; /* dialects */

/* What a cell holds. */
enum { SR_SQL_NULL, SR_SQL_INT, SR_SQL_REAL, SR_SQL_TEXT };

/* The parameters a query may use. */
enum { SR_SQL_LAST, SR_SQL_SINCE };

/* One value of a result row (all borrowed for the call). */
typedef struct {
    int kind;         /* SR_SQL_*; a number kind makes the cursor compare as a number */
    int64_t i;        /* SR_SQL_INT */
    double d;         /* SR_SQL_REAL */
    const char *text; /* the value as text; NULL only for SR_SQL_NULL */
} sr_sql_cell;

typedef struct sr_sql sr_sql;

/*
 * Reads query, cursor, cursor_start, max_rows and the mapping keys of opts
 * for a dialect. On error returns negative with a message naming the key
 * in err. Caller owns *out; free with sr_sql_destroy().
 */
int sr_sql_create(const sr_ad_options *opts, int dialect, sr_sql **out, char *err, size_t errlen);
void sr_sql_destroy(sr_sql *q);

/* The query to run (borrowed; valid until sr_sql_destroy): for PostgreSQL
 * with $1.. in place of the parameter names; for SQLite as written. */
const char *sr_sql_text(const sr_sql *q);

/* The parameters of the PostgreSQL text in $ order: param i is $(i+1) and
 * is SR_SQL_LAST or SR_SQL_SINCE. */
size_t sr_sql_param_count(const sr_sql *q);
int sr_sql_param(const sr_sql *q, size_t i);

/*
 * Starts a poll: chooses :last from info->since_ms (see the top of this
 * file) and resets the row counts.
 */
void sr_sql_begin(sr_sql *q, const sr_poll_info *info);

/* The value to bind to :last in this poll (borrowed; valid until the next
 * sr_sql_begin). */
const sr_sql_cell *sr_sql_last(const sr_sql *q);

/* Finds the map's fields and the cursor among the result's column names.
 * Returns 0, or negative with a message in err. */
int sr_sql_columns(sr_sql *q, const char *const *names, size_t n, char *err, size_t errlen);

/* What sr_sql_row did with a row. */
enum {
    SR_SQL_TAKEN = 0, /* mapped: emitted, filtered or rejected */
    SR_SQL_FULL = 1,  /* not taken: the poll has its rows; stop reading */
};

/*
 * Maps one row whose cells are in result column order (as many as the
 * names given to sr_sql_columns). Returns SR_SQL_TAKEN or SR_SQL_FULL, or
 * negative with a message in err (the sink refused, or a cut is not
 * possible): stop the poll.
 */
int sr_sql_row(sr_sql *q, const sr_sql_cell *cells, sr_sink *sink, char *err, size_t errlen);

/*
 * Ends a poll. ok = 1 when every row was read (or the poll stopped at
 * SR_SQL_FULL): the cursor moves on, info->cursor_ms and info->more are
 * set. ok = 0 leaves the cursor where it was.
 */
void sr_sql_end(sr_sql *q, sr_poll_info *info, int ok);

/* Rows taken in the current poll. */
size_t sr_sql_rows(const sr_sql *q);

/*
 * Parses a duration as the config writes it: <digits><unit> with unit ms,
 * s, m or h, summed ("1m30s"). Returns 0, or negative for other text.
 */
int sr_sql_duration(const char *text, int64_t *out_ms);

/* The time a poll may take: info->timeout_ms less a tenth kept for the
 * collector to write what was read (30 s when the poll has no timeout). */
int64_t sr_sql_budget_ms(const sr_poll_info *info);

/* Milliseconds of a monotonic clock, for deadlines. */
int64_t sr_sql_clock_ms(void);

#endif
