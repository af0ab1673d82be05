/*
 * sql.c - the parts the SQL adapters share (see sql.h): reading the query
 * and finding its parameters, the cursor and its history, rows per poll,
 * and result rows handed to the map.
 *
 * The query is scanned once in sr_sql_create with a small lexer that knows
 * where text is not SQL (strings, quoted names, comments, PostgreSQL's
 * dollar quotes and E'' strings); outside those, :name is a parameter. The
 * PostgreSQL text is the query with each :name replaced by $n, n in order
 * of first use, so it is never longer than the query.
 *
 * Cursor values are kept as sql_val (kind, number, text copy). The history
 * is a ring of (mark, value): mark is the cursor_ms a successful poll
 * reported (strictly increasing), value the cursor after it. A poll whose
 * since_ms is one of the marks starts from that value; any other since_ms
 * (a restart, or a run of uncommitted polls longer than the ring) starts
 * from cursor_start.
 */
#include "sql.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SQL_DEFAULT_MAX_ROWS 10000
#define SQL_MAX_MAX_ROWS 1000000
#define SQL_HISTORY 4
#define SQL_RAW_MAX 2048
#define SQL_WHERE_MAX 160

/* A cursor value with its own copy of the text. */
typedef struct {
    int kind;
    int64_t i;
    double d;
    char *text; /* NULL for SR_SQL_NULL */
    size_t cap;
} sql_val;

struct sr_sql {
    sr_map *map;
    int dialect;
    char *text; /* the query to run */
    int params[2];
    size_t n_params;
    char *cursor;  /* column name; NULL = no cursor */
    sql_val start; /* cursor_start */
    size_t max_rows;

    /* the bound result */
    size_t n_cols;
    char **names;      /* n_cols copies, for the raw text of rejects */
    size_t *col;       /* per map field: its result column */
    const char **vals; /* per map field, for each row */
    size_t cursor_col;

    /* the current poll */
    int64_t now_ms;
    sql_val last, max, prev;
    sr_sql_cell last_cell; /* last as a cell, for binding */
    int have_prev, sorted, full;
    size_t taken;

    struct {
        int64_t mark; /* 0 = unused */
        sql_val v;
    } hist[SQL_HISTORY];
    size_t hist_next;
    int64_t last_mark;
};

/* ---- values ---- */

static int val_set(sql_val *v, const sr_sql_cell *c)
{
    v->kind = c->kind;
    v->i = c->i;
    v->d = c->d;
    if (c->kind == SR_SQL_NULL || !c->text) {
        v->kind = SR_SQL_NULL;
        if (v->text)
            v->text[0] = '\0';
        return 0;
    }
    size_t n = strlen(c->text) + 1;
    if (n > v->cap) {
        char *t = realloc(v->text, n);
        if (!t)
            return -1;
        v->text = t;
        v->cap = n;
    }
    memcpy(v->text, c->text, n);
    return 0;
}

static sr_sql_cell val_cell(const sql_val *v)
{
    return (sr_sql_cell){v->kind, v->i, v->d, v->kind == SR_SQL_NULL ? NULL : v->text};
}

static void val_free(sql_val *v)
{
    free(v->text);
    memset(v, 0, sizeof *v);
}

/* Orders cells as SQLite does: NULL, then numbers by value, then text by
 * bytes. */
static int cell_cmp(const sr_sql_cell *a, const sr_sql_cell *b)
{
    int ra = a->kind == SR_SQL_NULL ? 0 : a->kind == SR_SQL_TEXT ? 2 : 1;
    int rb = b->kind == SR_SQL_NULL ? 0 : b->kind == SR_SQL_TEXT ? 2 : 1;
    if (ra != rb)
        return ra < rb ? -1 : 1;
    if (ra == 0)
        return 0;
    if (ra == 2)
        return strcmp(a->text, b->text);
    if (a->kind == SR_SQL_INT && b->kind == SR_SQL_INT)
        return a->i < b->i ? -1 : a->i > b->i;
    double x = a->kind == SR_SQL_INT ? (double)a->i : a->d;
    double y = b->kind == SR_SQL_INT ? (double)b->i : b->d;
    return x < y ? -1 : x > y;
}

static int val_cmp(const sql_val *a, const sql_val *b)
{
    sr_sql_cell x = val_cell(a), y = val_cell(b);
    return cell_cmp(&x, &y);
}

/* A value written in the config: an integer, a number, or text. */
static int val_parse(sql_val *v, const char *text)
{
    sr_sql_cell c = {.kind = SR_SQL_TEXT, .text = text};
    char *end;
    errno = 0;
    long long i = strtoll(text, &end, 10);
    if (*text && !*end && errno == 0) {
        c.kind = SR_SQL_INT;
        c.i = i;
    } else {
        errno = 0;
        double d = strtod(text, &end);
        if (*text && !*end && errno == 0 && isfinite(d)) {
            c.kind = SR_SQL_REAL;
            c.d = d;
        }
    }
    return val_set(v, &c);
}

/* ---- the query ---- */

static int ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (unsigned char)c >= 0x80;
}

static int ident_char(char c)
{
    return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

/* Length of the text from p that is not SQL (a string, a quoted name, a
 * comment, a dollar quote), or 0 when p starts none of them. An unclosed
 * one runs to the end. */
static size_t sql_skip(const char *text, const char *p, int dialect)
{
    const char *s = p;
    int pg = dialect == SR_SQL_POSTGRES;
    char close = 0;
    if (*p == '\'' || *p == '"' || (!pg && *p == '`'))
        close = *p;
    else if (!pg && *p == '[')
        close = ']';
    if (close) {
        int backslash = pg && *p == '\'' && p > text && (p[-1] == 'E' || p[-1] == 'e') &&
                        (p - 1 == text || !ident_char(p[-2]));
        for (p++; *p; p++) {
            if (backslash && *p == '\\' && p[1]) {
                p++;
            } else if (*p == close) {
                if (close != ']' && p[1] == close)
                    p++;
                else
                    return (size_t)(p + 1 - s);
            }
        }
        return (size_t)(p - s);
    }
    if (p[0] == '-' && p[1] == '-') {
        while (*p && *p != '\n')
            p++;
        return (size_t)(p - s);
    }
    if (p[0] == '/' && p[1] == '*') {
        int depth = 0;
        while (*p) {
            if (p[0] == '/' && p[1] == '*' && (pg || depth == 0)) {
                depth++;
                p += 2;
            } else if (p[0] == '*' && p[1] == '/') {
                p += 2;
                if (--depth == 0)
                    break;
            } else {
                p++;
            }
        }
        return (size_t)(p - s);
    }
    if (pg && *p == '$' && (p == text || !ident_char(p[-1]))) {
        const char *t = p + 1;
        if (ident_start(*t))
            while (ident_char(*t) && *t != '$')
                t++;
        if (*t != '$')
            return 0;
        size_t tag = (size_t)(t + 1 - p);
        const char *end = strstr(t + 1, "$");
        while (end && strncmp(end, p, tag) != 0)
            end = strstr(end + 1, "$");
        return end ? (size_t)(end + tag - s) : strlen(s);
    }
    return 0;
}

/*
 * The query reads, and only reads: its first word is SELECT, WITH or
 * VALUES, and no word outside strings, quoted names and comments is one
 * that writes (INSERT, UPDATE, DELETE ..., SELECT ... INTO a new table, a
 * FOR UPDATE lock). The database refuses these too at each poll (a
 * read-only connection); saying so here lets check-config say it. A
 * column with such a name is written quoted.
 */
static int sql_word(const char *w, size_t len, int first)
{
    static const char *const reads[] = {"select", "with", "values"};
    static const char *const writes[] = {
        "insert", "update", "delete", "merge",  "create", "drop",   "alter",   "truncate",
        "grant",  "revoke", "attach", "detach", "vacuum", "pragma", "reindex", "into"};
    const char *const *v = first ? reads : writes;
    size_t n = first ? sizeof reads / sizeof *reads : sizeof writes / sizeof *writes;
    for (size_t i = 0; i < n; i++) {
        if (strlen(v[i]) == len && strncasecmp(v[i], w, len) == 0)
            return first ? 0 : -1;
    }
    return first ? -1 : 0;
}

/* Finds the parameters of the query and writes the text to run. */
static int sql_scan(sr_sql *q, const char *query, char *err, size_t errlen)
{
    static const char *const names[] = {[SR_SQL_LAST] = "last", [SR_SQL_SINCE] = "since_ms"};
    int pg = q->dialect == SR_SQL_POSTGRES, words = 0;
    char *out = malloc(strlen(query) + 1), *o = out;
    if (!out) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (const char *p = query; *p;) {
        size_t skip = sql_skip(query, p, q->dialect);
        if (skip) {
            memcpy(o, p, skip);
            o += skip;
            p += skip;
            continue;
        }
        if (p[0] == ':' && p[1] == ':') {
            *o++ = *p++;
            *o++ = *p++;
            continue;
        }
        int other = pg ? (p[0] == '$' && p[1] >= '0' && p[1] <= '9')
                       : (p[0] == '?' || ((p[0] == '@' || p[0] == '$') && ident_start(p[1])));
        if (other) {
            snprintf(err, errlen,
                     "query: only the named parameters :last and :since_ms can be used, found "
                     "'%.*s'",
                     p[0] == '?' ? 1 : 2, p);
            free(out);
            return -1;
        }
        if (ident_start(p[0]) && (p == query || !ident_char(p[-1]))) {
            size_t len = 1;
            while (ident_char(p[len]))
                len++;
            if (sql_word(p, len, words++ == 0) < 0) {
                snprintf(err, errlen,
                         words == 1 ? "query: must be one SELECT (or WITH ... SELECT), not '%.*s'"
                                    : "query: '%.*s' writes to the database, and sitrep only "
                                      "reads (a column of that name is written in quotes)",
                         (int)(len > 32 ? 32 : len), p);
                free(out);
                return -1;
            }
            memcpy(o, p, len);
            o += len;
            p += len;
            continue;
        }
        if (p[0] != ':' || !ident_start(p[1])) {
            *o++ = *p++;
            continue;
        }
        size_t len = 1;
        while (ident_char(p[1 + len]) && p[1 + len] != '$')
            len++;
        int which = -1;
        for (int k = 0; k < 2; k++)
            if (strlen(names[k]) == len && strncmp(p + 1, names[k], len) == 0)
                which = k;
        if (which < 0) {
            snprintf(err, errlen,
                     "query: unknown parameter ':%.*s' (only :last and :since_ms are bound)",
                     (int)(len > 64 ? 64 : len), p + 1);
            free(out);
            return -1;
        }
        size_t n;
        for (n = 0; n < q->n_params && q->params[n] != which; n++)
            ;
        if (n == q->n_params)
            q->params[q->n_params++] = which;
        if (pg)
            o += sprintf(o, "$%zu", n + 1);
        else
            o += sprintf(o, ":%s", names[which]);
        p += 1 + len;
    }
    *o = '\0';
    q->text = out;
    return 0;
}

static int sql_uses(const sr_sql *q, int param)
{
    for (size_t i = 0; i < q->n_params; i++)
        if (q->params[i] == param)
            return 1;
    return 0;
}

/* ---- create, destroy ---- */

static int sql_options(sr_sql *q, const sr_ad_options *opts, char *err, size_t errlen)
{
    const char *query = sr_ad_opt(opts, "query"), *v;
    if (!query || !*query) {
        snprintf(err, errlen, "query: required (one SELECT, such as SELECT ... WHERE id > :last)");
        return -1;
    }
    if (sql_scan(q, query, err, errlen) < 0)
        return -1;
    if ((v = sr_ad_opt(opts, "cursor")) && *v && !(q->cursor = strdup(v))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (q->cursor && !sql_uses(q, SR_SQL_LAST)) {
        snprintf(err, errlen,
                 "cursor: the query does not use :last, so every poll would read the same rows "
                 "(add WHERE %s > :last ORDER BY %s)",
                 q->cursor, q->cursor);
        return -1;
    }
    if (!q->cursor && sql_uses(q, SR_SQL_LAST)) {
        snprintf(err, errlen,
                 "query: uses :last but no cursor = COLUMN names the result column it follows");
        return -1;
    }
    if (val_parse(&q->start, (v = sr_ad_opt(opts, "cursor_start")) ? v : "0") < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    q->max_rows = SQL_DEFAULT_MAX_ROWS;
    if ((v = sr_ad_opt(opts, "max_rows"))) {
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (!*v || *end || errno || n < 1 || n > SQL_MAX_MAX_ROWS) {
            snprintf(err, errlen, "max_rows: expected a whole number from 1 to %d, got '%s'",
                     SQL_MAX_MAX_ROWS, v);
            return -1;
        }
        q->max_rows = (size_t)n;
    }
    return 0;
}

int sr_sql_create(const sr_ad_options *opts, int dialect, sr_sql **out, char *err, size_t errlen)
{
    sr_sql *q = calloc(1, sizeof *q);
    if (!q) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    q->dialect = dialect;
    if (sql_options(q, opts, err, errlen) < 0 || sr_map_create(opts, &q->map, err, errlen) < 0) {
        sr_sql_destroy(q);
        return -1;
    }
    size_t nf = sr_map_field_count(q->map);
    q->col = calloc(nf ? nf : 1, sizeof *q->col);
    q->vals = calloc(nf ? nf : 1, sizeof *q->vals);
    if (!q->col || !q->vals) {
        snprintf(err, errlen, "out of memory");
        sr_sql_destroy(q);
        return -1;
    }
    *out = q;
    return 0;
}

static void sql_free_names(sr_sql *q)
{
    for (size_t i = 0; i < q->n_cols; i++)
        free(q->names[i]);
    free(q->names);
    q->names = NULL;
    q->n_cols = 0;
}

void sr_sql_destroy(sr_sql *q)
{
    if (!q)
        return;
    sr_map_destroy(q->map);
    sql_free_names(q);
    free(q->col);
    free(q->vals);
    free(q->text);
    free(q->cursor);
    val_free(&q->start);
    val_free(&q->last);
    val_free(&q->max);
    val_free(&q->prev);
    for (size_t i = 0; i < SQL_HISTORY; i++)
        val_free(&q->hist[i].v);
    free(q);
}

const char *sr_sql_text(const sr_sql *q)
{
    return q->text;
}

size_t sr_sql_param_count(const sr_sql *q)
{
    return q->n_params;
}

int sr_sql_param(const sr_sql *q, size_t i)
{
    return q->params[i];
}

/* ---- a poll ---- */

void sr_sql_begin(sr_sql *q, const sr_poll_info *info)
{
    const sql_val *from = &q->start;
    for (size_t i = 0; i < SQL_HISTORY; i++)
        if (q->hist[i].mark && q->hist[i].mark == info->since_ms)
            from = &q->hist[i].v;
    sr_sql_cell c = val_cell(from);
    /* on a failed copy :last keeps its previous value: rows are read again */
    if (val_set(&q->last, &c) == 0)
        val_set(&q->max, &c);
    q->last_cell = val_cell(&q->last);
    q->now_ms = info->now_ms;
    q->have_prev = 0;
    q->sorted = 1;
    q->full = 0;
    q->taken = 0;
}

const sr_sql_cell *sr_sql_last(const sr_sql *q)
{
    return &q->last_cell;
}

int sr_sql_columns(sr_sql *q, const char *const *names, size_t n, char *err, size_t errlen)
{
    sql_free_names(q);
    q->names = calloc(n ? n : 1, sizeof *q->names);
    if (!q->names) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(q->names[i] = strdup(names[i] ? names[i] : ""))) {
            q->n_cols = i;
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    q->n_cols = n;
    if (sr_map_bind(q->map, names, n, q->col, err, errlen) < 0)
        return -1;
    if (!q->cursor)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(q->names[i], q->cursor) == 0) {
            q->cursor_col = i;
            return 0;
        }
    }
    int used = snprintf(err, errlen, "cursor: column '%s' is not in the result (have:", q->cursor);
    for (size_t i = 0; i < n && used > 0 && (size_t)used < errlen; i++)
        used += snprintf(err + used, errlen - (size_t)used, "%s %s", i ? "," : "", q->names[i]);
    if (used > 0 && (size_t)used < errlen)
        snprintf(err + used, errlen - (size_t)used, ")");
    return -1;
}

/* Appends text to buf (len bytes, used so far *used), cut before a UTF-8
 * sequence that would not fit whole. */
static void raw_add(char *buf, size_t len, size_t *used, const char *text)
{
    size_t n = strlen(text), room = len - 1 - *used;
    if (n > room) {
        n = room;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(buf + *used, text, n);
    *used += n;
    buf[*used] = '\0';
}

/* The row as "name=value, name=value" (SQL NULL as NULL) for a reject. */
static void sql_raw(const sr_sql *q, const sr_sql_cell *cells, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < q->n_cols; i++) {
        if (i)
            raw_add(buf, len, &used, ", ");
        raw_add(buf, len, &used, q->names[i]);
        raw_add(buf, len, &used, "=");
        raw_add(buf, len, &used, cells[i].kind == SR_SQL_NULL ? "NULL" : cells[i].text);
    }
}

/* Whether the poll stops before this row; sets err when it cannot. */
static int sql_stop_here(sr_sql *q, const sr_sql_cell *cur, char *err, size_t errlen)
{
    if (!q->cursor) {
        snprintf(err, errlen,
                 "the query returned more than max_rows (%zu) rows and has no cursor to go on "
                 "from: set cursor = COLUMN (with :last in the query) or raise max_rows",
                 q->max_rows);
        return -1;
    }
    sr_sql_cell prev = val_cell(&q->prev);
    if (cur->kind != SR_SQL_NULL && q->have_prev && cell_cmp(cur, &prev) == 0)
        return 0; /* rows sharing a cursor value are never split */
    if (!q->sorted) {
        snprintf(err, errlen,
                 "the rows are not in the order of the cursor column '%s', so the poll cannot "
                 "stop after max_rows (%zu) rows and go on: add ORDER BY %s to the query",
                 q->cursor, q->max_rows, q->cursor);
        return -1;
    }
    if (val_cmp(&q->max, &q->last) <= 0) {
        snprintf(err, errlen,
                 "the cursor column '%s' did not advance in %zu rows (NULL or not above :last); "
                 "the query must return rows WHERE %s > :last",
                 q->cursor, q->taken, q->cursor);
        return -1;
    }
    return 1;
}

int sr_sql_row(sr_sql *q, const sr_sql_cell *cells, sr_sink *sink, char *err, size_t errlen)
{
    const sr_sql_cell *cur = q->cursor ? &cells[q->cursor_col] : NULL;
    if (q->taken >= q->max_rows) {
        int stop = sql_stop_here(q, cur, err, errlen);
        if (stop)
            return stop < 0 ? -1 : (q->full = 1, SR_SQL_FULL);
    }
    if (cur && cur->kind != SR_SQL_NULL) {
        sr_sql_cell prev = val_cell(&q->prev), max = val_cell(&q->max);
        if (q->have_prev && cell_cmp(cur, &prev) < 0)
            q->sorted = 0;
        if ((cell_cmp(cur, &max) > 0 && val_set(&q->max, cur) < 0) || val_set(&q->prev, cur) < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        q->have_prev = 1;
    }
    size_t nf = sr_map_field_count(q->map);
    for (size_t i = 0; i < nf; i++) {
        const sr_sql_cell *c = &cells[q->col[i]];
        q->vals[i] = c->kind == SR_SQL_NULL || !c->text ? "" : c->text;
    }
    char raw[SQL_RAW_MAX], where[SQL_WHERE_MAX];
    sql_raw(q, cells, raw, sizeof raw);
    if (cur)
        snprintf(where, sizeof where, "row %zu (%s=%.64s)", q->taken + 1, q->cursor,
                 cur->kind == SR_SQL_NULL ? "NULL" : cur->text);
    else
        snprintf(where, sizeof where, "row %zu", q->taken + 1);
    q->taken++;
    if (sr_map_row(q->map, q->vals, q->now_ms, where, raw, sink) < 0) {
        snprintf(err, errlen, "the sink refused a sample at %s; stopping this poll", where);
        return -1;
    }
    return SR_SQL_TAKEN;
}

void sr_sql_end(sr_sql *q, sr_poll_info *info, int ok)
{
    info->more = 0;
    if (!ok)
        return;
    sr_sql_cell max = val_cell(&q->max);
    int64_t mark = info->now_ms > q->last_mark ? info->now_ms : q->last_mark + 1;
    if (val_set(&q->hist[q->hist_next].v, &max) < 0) {
        q->hist[q->hist_next].mark = 0; /* forgotten: that poll's rows are read again */
    } else {
        q->hist[q->hist_next].mark = mark;
    }
    q->hist_next = (q->hist_next + 1) % SQL_HISTORY;
    q->last_mark = mark;
    info->cursor_ms = mark;
    info->more = q->full;
}

size_t sr_sql_rows(const sr_sql *q)
{
    return q->taken;
}

/* ---- small helpers ---- */

int sr_sql_duration(const char *text, int64_t *out_ms)
{
    static const struct {
        const char *name;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    int64_t total = 0;
    const char *p = text;
    if (!*p)
        return -1;
    while (*p) {
        if (*p < '0' || *p > '9')
            return -1;
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        char unit[3] = "";
        size_t n = 0;
        for (; n < 2 && end[n] >= 'a' && end[n] <= 'z'; n++)
            unit[n] = end[n];
        size_t k = 0, nu = sizeof units / sizeof units[0];
        while (k < nu && strcmp(units[k].name, unit) != 0)
            k++;
        if (errno || k == nu || v > (INT64_MAX - total) / units[k].ms)
            return -1;
        total += v * units[k].ms;
        p = end + n;
    }
    *out_ms = total;
    return 0;
}

int64_t sr_sql_budget_ms(const sr_poll_info *info)
{
    return info->timeout_ms > 0 ? info->timeout_ms - info->timeout_ms / 10 : 30000;
}

int64_t sr_sql_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
