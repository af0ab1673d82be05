/*
 * bench_baseline.c - the raw SQLite baseline for `make bench`: the same rows
 * as the ingest file, read into memory first (not timed), then inserted with
 * one prepared statement into a plain table with no index, in batched
 * transactions, WAL, synchronous=NORMAL. Prints rows per second.
 *
 *   bench_baseline FILE.csv DB
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    char *metric, *entity, *key;
    double ts, value;
} row;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_baseline FILE.csv DB\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    size_t cap = 1 << 20, n = 0;
    row *rows = malloc(cap * sizeof *rows);
    char line[1024];
    if (!fgets(line, sizeof line, f)) /* header */
        return 1;
    while (fgets(line, sizeof line, f)) {
        char *fld[5], *p = line;
        for (int i = 0; i < 5; i++) {
            fld[i] = p;
            p = strpbrk(p, ",\n");
            if (p)
                *p++ = 0;
            else
                p = "";
        }
        if (n == cap)
            rows = realloc(rows, (cap *= 2) * sizeof *rows);
        rows[n].metric = strdup(fld[0]);
        rows[n].entity = strdup(fld[1]);
        rows[n].ts = atof(fld[2]);
        rows[n].value = atof(fld[3]);
        rows[n].key = strdup(fld[4]);
        n++;
    }
    fclose(f);
    sqlite3 *db;
    if (sqlite3_open(argv[2], &db) != SQLITE_OK)
        return 1;
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                 "CREATE TABLE raw(metric TEXT, entity TEXT, ts INTEGER, value REAL, key TEXT)",
                 NULL, NULL, NULL);
    sqlite3_stmt *q;
    sqlite3_prepare_v2(db, "INSERT INTO raw VALUES (?1, ?2, ?3, ?4, ?5)", -1, &q, NULL);
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        if (i % 50000 == 0)
            sqlite3_exec(db, i ? "COMMIT; BEGIN" : "BEGIN", NULL, NULL, NULL);
        sqlite3_bind_text(q, 1, rows[i].metric, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, rows[i].entity, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, (sqlite3_int64)(rows[i].ts * 1000));
        sqlite3_bind_double(q, 4, rows[i].value);
        sqlite3_bind_text(q, 5, rows[i].key, -1, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_DONE) {
            fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
            return 1;
        }
        sqlite3_reset(q);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    double t = now_s() - t0;
    sqlite3_finalize(q);
    sqlite3_close(db);
    printf("%zu %.3f\n", n, t);
    return 0;
}
