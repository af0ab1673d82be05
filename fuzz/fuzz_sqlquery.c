/*
 * fuzz_sqlquery.c - libFuzzer target for the query scanner of the SQL
 * adapters (adapters/sql.c): finding :last and :since_ms outside strings,
 * quoted names, comments and dollar quotes, and the PostgreSQL rewrite to
 * $1, $2.
 *
 * The first byte picks the dialect (bit 0) and whether a cursor is set
 * (bit 1); the rest is the query. Checked on every input that opens:
 *   - SQLite text is the query unchanged;
 *   - PostgreSQL text is never longer than the query, and equal to it when
 *     the query has no parameter;
 *   - at most two parameters, each :last or :since_ms, each once;
 *   - with a cursor the query uses :last, without one it does not.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../adapters/sql.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int dialect = data[0] & 1 ? SR_SQL_POSTGRES : SR_SQL_SQLITE;
    int cursor = (data[0] & 2) != 0;
    char *query = malloc(size);
    if (!query)
        return 0;
    memcpy(query, data + 1, size - 1);
    query[size - 1] = '\0';
    sr_ad_option v[] = {
        {"query", query, 1}, {"metric", "m", 2},  {"entity", "e", 3},
        {"value", "1", 4},   {"cursor", "id", 5},
    };
    sr_ad_options opts = {.v = v, .n = cursor ? 5 : 4, .name = "f", .config_dir = "."};
    sr_sql *q = NULL;
    char err[256];
    if (sr_sql_create(&opts, dialect, &q, err, sizeof err) == 0) {
        const char *text = sr_sql_text(q);
        size_t n = sr_sql_param_count(q);
        CHECK(strlen(text) <= strlen(query));
        if (dialect == SR_SQL_SQLITE || n == 0)
            CHECK(strcmp(text, query) == 0);
        CHECK(n <= 2);
        int seen[2] = {0, 0}, last = 0;
        for (size_t i = 0; i < n; i++) {
            int p = sr_sql_param(q, i);
            CHECK(p == SR_SQL_LAST || p == SR_SQL_SINCE);
            CHECK(!seen[p]);
            seen[p] = 1;
            last |= p == SR_SQL_LAST;
        }
        CHECK(last == cursor);
        sr_sql_destroy(q);
    } else {
        CHECK(err[0] != '\0');
    }
    free(query);
    return 0;
}
