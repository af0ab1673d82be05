/*
 * test_csv.c - the csv adapter through its ABI table, on real files in a
 * temporary directory, with the mock sink of mock.h: following a file as
 * it grows (appends, a row written in two parts, truncation, rotation with
 * writes to the old file after the rename, a file missing then created),
 * the bytes of real exports (BOM, CRLF, quoting, tabs), rejects with their
 * reasons and lines, bounded polls, rows never lost when a poll's batch is
 * not kept, and option errors that name their key.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../adapters/adapter.h"
#include "../helpers.h"
#include "mock.h"

extern const sr_adapter sr_adapter_csv;

#define HEADER "id,unit,t,v\n"
#define T0 "2024-01-01T00:00:00Z"
#define T0_MS 1704067200000LL
#define LATER (60 * 1000) /* past the default settle time of 5 s */

typedef struct {
    char dir[256], path[512];
    mock_options o;
    void *st;
    mock_sink m;
    int64_t cursor;
    char err[512];
    sr_poll_info info;
} fx;

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fx_file(fx *f, const char *name, const char *mode, const char *text)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", f->dir, name);
    FILE *fp = fopen(p, mode);
    cr_assert_not_null(fp, "cannot write %s", p);
    fputs(text, fp);
    fclose(fp);
}

/* Writes (mode "w") or appends ("a") to the followed file. */
static void fx_write(fx *f, const char *mode, const char *text)
{
    fx_file(f, "calls.csv", mode, text);
}

/* Opens the adapter on calls.csv with the test map and extra options. */
static void fx_open_with(fx *f, const char *const *extra, size_t n_extra)
{
    const char *kv[32] = {"path = calls.csv", "metric = m", "entity = force/{unit}",
                          "time = t",         "value = v",  "key = id"};
    size_t n = 6;
    for (size_t i = 0; i < n_extra; i++)
        kv[n++] = extra[i];
    const sr_ad_options *opts = mock_opts(&f->o, "calls", f->dir, kv, n);
    f->err[0] = '\0';
    int rc = sr_adapter_csv.open(opts, &f->st, f->err, sizeof f->err);
    cr_assert_eq(rc, 0, "open failed: %s", f->err);
}

#define FX_OPEN(f, ...)                                                                            \
    fx_open_with((f), (const char *const[]){__VA_ARGS__},                                          \
                 sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

static void fx_init(fx *f)
{
    memset(f, 0, sizeof *f);
    th_tempdir(f->dir, sizeof f->dir);
    snprintf(f->path, sizeof f->path, "%s/calls.csv", f->dir);
    mock_sink_init(&f->m);
}

static void fx_fini(fx *f)
{
    if (f->st)
        sr_adapter_csv.close(f->st);
    mock_sink_fini(&f->m);
    th_rmtree(f->dir);
}

/* One poll at wall time + ahead_ms, carrying the cursor as the collector does. */
static int fx_poll_at(fx *f, int64_t ahead_ms, int64_t timeout_ms)
{
    f->err[0] = '\0';
    f->info = (sr_poll_info){
        .now_ms = wall_ms() + ahead_ms, .since_ms = f->cursor, .timeout_ms = timeout_ms};
    int rc = sr_adapter_csv.poll(f->st, &f->info, &f->m.sink, f->err, sizeof f->err);
    if (rc == 0) {
        cr_assert_geq(f->info.cursor_ms, f->info.now_ms);
        cr_assert_gt(f->info.cursor_ms, f->cursor);
        f->cursor = f->info.cursor_ms;
    }
    return rc;
}

/* A successful poll with nothing more to read at once. */
static void fx_poll(fx *f, int64_t ahead_ms)
{
    int rc = fx_poll_at(f, ahead_ms, 0);
    cr_assert_eq(rc, 0, "poll failed: %s", f->err);
    cr_assert_eq(f->info.more, 0);
}

/* The keys of the samples so far, joined by spaces. */
static const char *fx_keys(fx *f)
{
    static char buf[4096];
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < f->m.n && o < sizeof buf - 1; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? " " : "",
                              f->m.s[i].key ? f->m.s[i].key : "-");
    return buf;
}

static const char *fx_row(char *buf, size_t len, int id, const char *unit, double v)
{
    snprintf(buf, len, "%d,%s,2024-01-01T00:%02d:00Z,%g\n", id, unit, id % 60, v);
    return buf;
}

/* ---- reading and following ---- */

Test(csv, header_and_rows)
{
    fx f;
    fx_init(&f);
    fx_write(&f, "w", HEADER "1,north," T0 ",5\n2,south,2024-01-01T00:01:00Z,7.5\n");
    fx_open_with(&f, NULL, 0);
    fx_poll(&f, 0);
    cr_assert_eq(f.m.n, 2);
    cr_assert_eq(f.m.nr, 0);
    cr_assert_str_eq(f.m.s[0].metric, "m");
    cr_assert_str_eq(f.m.s[0].entity, "force/north");
    cr_assert_str_eq(f.m.s[0].key, "1");
    cr_assert_eq(f.m.s[0].ts_ms, T0_MS);
    cr_assert_eq(f.m.s[0].value, 5);
    cr_assert_str_eq(f.m.s[1].entity, "force/south");
    cr_assert_eq(f.m.s[1].ts_ms, T0_MS + 60000);
    cr_assert_eq(f.m.s[1].value, 7.5);
    /* nothing new: nothing emitted */
    fx_poll(&f, 0);
    fx_poll(&f, LATER);
    cr_assert_eq(f.m.n, 2);
    fx_fini(&f);
}

Test(csv, append_between_polls_reads_only_new_rows)
{
    fx f;
    fx_init(&f);
    char r[128];
    fx_write(&f, "w", HEADER);
    fx_open_with(&f, NULL, 0);
    fx_poll(&f, 0);
    cr_assert_eq(f.m.n, 0);
    for (int i = 1; i <= 30; i++) {
        fx_write(&f, "a", fx_row(r, sizeof r, i, "north", i));
        if (i % 7 == 0)
            fx_poll(&f, 0);
    }
    fx_poll(&f, 0);
    fx_poll(&f, LATER);
    cr_assert_eq(f.m.n, 30, "%zu samples: %s", f.m.n, fx_keys(&f));
    for (int i = 0; i < 30; i++)
        cr_assert_eq(f.m.s[i].value, i + 1);
    cr_assert_eq(f.m.nr, 0);
    fx_fini(&f);
}

Test(csv, a_row_written_in_two_parts)
{
    fx f;
    fx_init(&f);
    fx_write(&f, "w", HEADER "1,north," T0 ",5\n2,north," T0 ",6");
    fx_open_with(&f, NULL, 0);
    /* the file was just written: the last row may still be growing */
    fx_poll(&f, 0);
    cr_assert_eq(f.m.n, 1);
    fx_write(&f, "a", "7\n3,south,");
    fx_poll(&f, 0);
    cr_assert_eq(f.m.n, 2);
    cr_assert_eq(f.m.s[1].value, 67, "the row was cut: %g", f.m.s[1].value);
    fx_write(&f, "a", T0 ",8\n");
    fx_poll(&f, 0);
    cr_assert_eq(f.m.n, 3);
    cr_assert_str_eq(f.m.s[2].entity, "force/south");
    cr_assert_eq(f.m.nr, 0);
    fx_fini(&f);
}

Test(csv, a_last_row_without_line_end_is_read_once_the_file_settles)
{
    fx f;
    fx_init(&f);
    fx_write(&f, "w", HEADER "1,north," T0 ",5\n2,north," T0 ",6");
    FX_OPEN(&f, "settle = 2s");
    fx_poll(&f, 0);
    cr_assert_eq(f.m.n, 1);
    fx_poll(&f, 2500);
    cr_assert_eq(f.m.n, 2, "keys %s", fx_keys(&f));
    cr_assert_eq(f.m.s[1].value, 6);
    fx_poll(&f, 2500);
    cr_assert_eq(f.m.n, 2);
    /* the line end of that row comes later: it only ends it */
    fx_write(&f, "a", "\n3,north," T0 ",7\n");
    fx_poll(&f, 0);
    cr_assert_eq(f.m.n, 3, "keys %s", fx_keys(&f));
    cr_assert_str_eq(f.m.s[2].key, "3");
    cr_assert_eq(f.m.nr, 0, "%s", f.m.nr ? f.m.r[0].reason : "");
    /* line numbers still count the file's lines */
    fx_write(&f, "a", "4,north," T0 "\n");
    fx_poll(&f, 0);
    cr_assert_eq(f.m.nr, 1);
    cr_assert_str_eq(f.m.r[0].where, "line 5");
    fx_fini(&f);
}

Test(csv, settle_zero_reads_a_last_row_at_once)
{
    fx f;
    fx_init(&f);
    fx_write(&f, "w", HEADER "1,north," T0 ",5");
    FX_OPEN(&f, "settle = 0");
    fx_poll(&f, 0);
    cr_assert_eq(f.m.n, 1);
    fx_fini(&f);
}

Test(csv, truncation_reads_again_from_the_start)
{
    fx f;
    fx_init(&f);
    fx_write(&f, "w", HEADER "1,north," T0 ",5\n2,north," T0 ",6\n3,north," T0 ",7\n");
    fx_open_with(&f, NULL, 0);
    fx_poll(&f, 0);
    cr_assert_eq(f.m.n, 3);
    struct stat before, after;
    cr_assert_eq(stat(f.path, &before), 0);
    /* the same file, emptied and written again with another column order */
    fx_write(&f, "w", "v,t,unit,id\n9," T0 ",west,10\n");
    cr_assert_eq(stat(f.path, &after), 0);
    cr_assert_eq(before.st_ino, after.st_ino);
    fx_poll(&f, 0);
    cr_assert_eq(f.m.n, 4, "keys %s", fx_keys(&f));
    cr_assert_str_eq(f.m.s[3].key, "10");
    cr_assert_str_eq(f.m.s[3].entity, "force/west");
    cr_assert_eq(f.m.s[3].value, 9);
    fx_write(&f, "a", "11," T0 ",west,11\n");
    fx_poll(&f, 0);
    cr_assert_eq(f.m.n, 5);
    cr_assert_eq(f.m.nr, 0);
    fx_fini(&f);
}

Test(csv, a_file_rewritten_in_place_is_read_again)
{
    fx f;
    fx_init(&f);
    fx_write(&f, "w", HEADER "1,north," T0 ",1\n2,north," T0 ",2\n");
    fx_open_with(&f, NULL, 0);
    fx_poll(&f, 0);
    /* `export > calls.csv` again: truncated and written, longer than before */
    fx_write(&f, "w",
             HEADER "1,north," T0 ",1\n2,north," T0 ",2\n3,north," T0 ",3\n"
                    "4,north," T0 ",4\n5,north," T0 ",5\n");
    fx_poll(&f, 0);
    cr_assert_str_eq(fx_keys(&f), "1 2 3 4 5", "the same rows at the same place: only the new");
    fx_write(&f, "w",
             HEADER "10,north," T0 ",10\n11,north," T0 ",11\n12,north," T0 ",12\n"
                    "13,north," T0 ",13\n14,north," T0 ",14\n15,north," T0 ",15\n");
    fx_poll(&f, 0);
    cr_assert_str_eq(fx_keys(&f), "1 2 3 4 5 10 11 12 13 14 15");
    cr_assert_eq(f.m.nr, 0, "%s", f.m.nr ? f.m.r[0].reason : "");
    fx_fini(&f);
}

Test(csv, rotation_drains_the_old_file_then_reads_the_new_one)
{
    fx f;
    fx_init(&f);
    char old[600];
    snprintf(old, sizeof old, "%s.1", f.path);
    fx_write(&f, "w", HEADER "1,north," T0 ",1\n2,north," T0 ",2\n");
    fx_open_with(&f, NULL, 0);
    fx_poll(&f, 0);
    cr_assert_eq(f.m.n, 2);

    /* logrotate: rename; the writer still appends to the old file, then a
     * new file appears with its own header (columns in another order) */
    cr_assert_eq(rename(f.path, old), 0);
    fx_file(&f, "calls.csv.1", "a", "3,north," T0 ",3\n");
    fx_write(&f, "w", "id,v,t,unit\n10,10," T0 ",south\n");
    fx_poll(&f, 0);
    cr_assert_str_eq(fx_keys(&f), "1 2 3 10");

    /* the old file is still followed for a while */
    fx_file(&f, "calls.csv.1", "a", "4,north," T0 ",4\n");
    fx_write(&f, "a", "11,11," T0 ",south\n");
    fx_poll(&f, 0);
    cr_assert_str_eq(fx_keys(&f), "1 2 3 10 4 11");

    /* once it has settled it is closed: later writes to it are not read */
    fx_poll(&f, LATER);
    fx_poll(&f, LATER);
    fx_file(&f, "calls.csv.1", "a", "5,north," T0 ",5\n");
    fx_write(&f, "a", "12,12," T0 ",south\n");
    fx_poll(&f, 0);
    cr_assert_str_eq(fx_keys(&f), "1 2 3 10 4 11 12");
    cr_assert_str_eq(f.m.s[3].entity, "force/south");
    cr_assert_eq(f.m.s[3].value, 10);
    cr_assert_eq(f.m.nr, 0);
    fx_fini(&f);
}

Test(csv, rotation_flushes_the_old_files_last_row)
{
    fx f;
    fx_init(&f);
    char old[600];
    snprintf(old, sizeof old, "%s.1", f.path);
    fx_write(&f, "w", HEADER "1,north," T0 ",1\n2,north," T0 ",2");
    fx_open_with(&f, NULL, 0);
    fx_poll(&f, 0);
    cr_assert_str_eq(fx_keys(&f), "1");
    cr_assert_eq(rename(f.path, old), 0);
    /* the path stays missing for a moment: not an error while the old file is followed */
    fx_poll(&f, 0);
    fx_write(&f, "w", HEADER "3,north," T0 ",3\n");
    fx_poll(&f, LATER);
    cr_assert_str_eq(fx_keys(&f), "1 2 3");
    cr_assert_eq(f.m.nr, 0);
    fx_fini(&f);
}

Test(csv, a_second_rotation_before_the_first_settles)
{
    fx f;
    fx_init(&f);
    fx_write(&f, "w", HEADER "1,north," T0 ",1\n");
    fx_open_with(&f, NULL, 0);
    fx_poll(&f, 0);
    char p1[600], p2[600];
    snprintf(p1, sizeof p1, "%s.1", f.path);
    snprintf(p2, sizeof p2, "%s.2", f.path);
    cr_assert_eq(rename(f.path, p1), 0);
    fx_write(&f, "w", HEADER "10,north," T0 ",10\n");
    fx_poll(&f, 0);
    /* the file read second is rotated too while the first is still followed */
    fx_file(&f, "calls.csv.1", "a", "2,north," T0 ",2");
    cr_assert_eq(rename(f.path, p2), 0);
    fx_file(&f, "calls.csv.2", "a", "11,north," T0 ",11\n");
    fx_write(&f, "w", HEADER "20,north," T0 ",20\n");
    fx_poll(&f, 0);
    /* the first is finished then (its row without a line end with it) */
    cr_assert_str_eq(fx_keys(&f), "1 10 11 2 20");
    fx_poll(&f, LATER);
    fx_poll(&f, LATER);
    cr_assert_str_eq(fx_keys(&f), "1 10 11 2 20");
    cr_assert_eq(f.m.nr, 0);
    fx_fini(&f);
}

Test(csv, missing_file_is_an_error_until_it_appears)
{
    fx f;
    fx_init(&f);
    fx_open_with(&f, NULL, 0);
    int rc = fx_poll_at(&f, 0, 0);
    cr_assert_lt(rc, 0);
    cr_assert(strstr(f.err, f.path) && strstr(f.err, "No such file"), "%s", f.err);
    cr_assert_eq(f.m.n + f.m.nr, 0);
    fx_write(&f, "w", HEADER "1,north," T0 ",5\n");
    fx_poll(&f, 0);
    cr_assert_eq(f.m.n, 1);

    /* removed: its rows are kept; once it has settled, the path is missing again */
    cr_assert_eq(unlink(f.path), 0);
    fx_poll(&f, 0);
    rc = fx_poll_at(&f, LATER, 0);
    cr_assert_lt(rc, 0);
    cr_assert(strstr(f.err, "No such file"), "%s", f.err);
    fx_write(&f, "w", HEADER "2,north," T0 ",6\n");
    fx_poll(&f, 0);
    cr_assert_str_eq(fx_keys(&f), "1 2");
    fx_fini(&f);
}

Test(csv, a_directory_is_refused)
{
    fx f;
    fx_init(&f);
    cr_assert_eq(mkdir(f.path, 0700), 0);
    fx_open_with(&f, NULL, 0);
    cr_assert_lt(fx_poll_at(&f, 0, 0), 0);
    cr_assert(strstr(f.err, "not a regular file"), "%s", f.err);
    fx_fini(&f);
}

/* ---- the bytes of real exports ---- */

Test(csv, bom_and_crlf)
{
    fx f;
    fx_init(&f);
    fx_write(&f, "w", "\xEF\xBB\xBFid,unit,t,v\r\n1,north," T0 ",5\r\n2,north," T0 ",6\r");
    fx_open_with(&f, NULL, 0);
    fx_poll(&f, 0);
    /* the second row's CR ends it; its LF comes with the next write */
    fx_write(&f, "a", "\n3,north," T0 ",7\r\n");
    fx_poll(&f, 0);
    cr_assert_str_eq(fx_keys(&f), "1 2 3");
    cr_assert_eq(f.m.s[2].value, 7);
    cr_assert_eq(f.m.nr, 0, "%s", f.m.nr ? f.m.r[0].reason : "");
    fx_fini(&f);
}

Test(csv, quoted_fields_with_delimiters_quotes_and_newlines)
{
    fx f;
    fx_init(&f);
    fx_write(&f, "w",
             "id,unit,note,t,v\n"
             "1,\"north, east\",\"said \"\"hi\"\"\"," T0 ",5\n"
             "2,north,\"two\r\nlines\"," T0 ",\"1,234.5\"\n"
             "3,north,\"spans");
    fx_open_with(&f, NULL, 0);
    fx_poll(&f, LATER); /* an open quote at the end of a settled file still waits */
    cr_assert_str_eq(fx_keys(&f), "1 2");
    cr_assert_str_eq(f.m.s[0].entity, "force/north, east");
    cr_assert_eq(f.m.s[1].value, 1234.5);
    fx_write(&f, "a", "\ntwo polls\"," T0 ",6\n");
    fx_poll(&f, 0);
    cr_assert_str_eq(fx_keys(&f), "1 2 3");
    cr_assert_eq(f.m.s[2].value, 6);
    cr_assert_eq(f.m.nr, 0);
    fx_fini(&f);
}

Test(csv, tab_and_other_delimiters)
{
    static const struct {
        const char *opt, *text;
    } cases[] = {
        {"delimiter = tab", "id\tunit\tt\tv\n1\tnorth, east\t" T0 "\t5\n"},
        {"delimiter = \\t", "id\tunit\tt\tv\n1\tnorth, east\t" T0 "\t5\n"},
        {"delimiter = semicolon", "id;unit;t;v\n1;north, east;" T0 ";5\n"},
        {"delimiter = pipe", "id|unit|t|v\n1|north, east|" T0 "|5\n"},
        {"delimiter = ;", "id;unit;t;v\n1;north, east;" T0 ";5\n"},
        {"delimiter = comma", "id,unit,t,v\n1,\"north, east\"," T0 ",5\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx f;
        fx_init(&f);
        fx_write(&f, "w", cases[i].text);
        FX_OPEN(&f, cases[i].opt);
        fx_poll(&f, 0);
        cr_assert_eq(f.m.n, 1, "%s: %zu samples, %zu rejects", cases[i].opt, f.m.n, f.m.nr);
        cr_assert_str_eq(f.m.s[0].entity, "force/north, east", "%s", cases[i].opt);
        cr_assert_eq(f.m.s[0].value, 5);
        fx_fini(&f);
    }
}

/* ---- rejects ---- */

Test(csv, rejects_keep_their_reason_and_line)
{
    fx f;
    fx_init(&f);
    fx_write(&f, "w",
             HEADER "1,north," T0 ",5\n"
                    "2,north," T0 "\n"              /* line 3: a field short */
                    "3,north,\"a\nb\"," T0 ",x,9\n" /* line 4 (two lines): one too many */
                    "4,north," T0 ",fast\n"         /* line 6: not a number */
                    "5,north,yesterday,5\n"         /* line 7: not a time */
                    "6,gone," T0 ",5\n");           /* line 8: filtered out */
    FX_OPEN(&f, "where = unit != gone");
    fx_poll(&f, 0);
    cr_assert_str_eq(fx_keys(&f), "1");
    cr_assert_eq(f.m.nr, 4);
    static const char *const where[] = {"line 3", "line 4", "line 6", "line 7"};
    static const char *const why[] = {"has 3 fields, the header has 4", "has 6 fields",
                                      "'v' is not a number: 'fast'", "time 'yesterday'"};
    for (size_t i = 0; i < 4; i++) {
        cr_assert_str_eq(f.m.r[i].where, where[i], "reject %zu: %s", i, f.m.r[i].where);
        cr_assert(strstr(f.m.r[i].reason, why[i]), "reject %zu: %s", i, f.m.r[i].reason);
        cr_assert_gt(strlen(f.m.r[i].raw), 0);
    }
    cr_assert_str_eq(f.m.r[1].raw, "3,north,\"a\nb\"," T0 ",x,9");
    cr_assert_str_eq(f.m.r[2].raw, "4,north," T0 ",fast");
    fx_fini(&f);
}

Test(csv, a_nul_byte_in_a_field_rejects_the_row)
{
    /* "u\0x" would be stored as unit u if the field were read as a C
     * string: the row is rejected instead, with its line and raw text. */
    fx f;
    fx_init(&f);
    static const char text[] = HEADER "1,north," T0 ",5\n"
                                      "2,u\0x," T0 ",5\n"
                                      "3,south," T0 ",5\0\n";
    FILE *fp = fopen(f.path, "w");
    cr_assert_not_null(fp);
    cr_assert_eq(fwrite(text, 1, sizeof text - 1, fp), sizeof text - 1);
    fclose(fp);
    fx_open_with(&f, NULL, 0);
    fx_poll(&f, 0);
    cr_assert_str_eq(fx_keys(&f), "1");
    cr_assert_eq(f.m.nr, 2);
    cr_assert_str_eq(f.m.r[0].where, "line 3");
    cr_assert(strstr(f.m.r[0].reason, "NUL byte in field unit"), "%s", f.m.r[0].reason);
    cr_assert_str_eq(f.m.r[0].raw, "2,u\\0x," T0 ",5");
    cr_assert_str_eq(f.m.r[1].where, "line 4");
    cr_assert(strstr(f.m.r[1].reason, "NUL byte in field v"), "%s", f.m.r[1].reason);
    fx_fini(&f);
}

Test(csv, a_header_without_a_mapped_field_fails_until_the_file_is_fixed)
{
    fx f;
    fx_init(&f);
    fx_write(&f, "w", "id,unit,time,v\n1,north," T0 ",5\n");
    fx_open_with(&f, NULL, 0);
    cr_assert_lt(fx_poll_at(&f, 0, 0), 0);
    cr_assert(strstr(f.err, "'t'"), "%s", f.err);
    cr_assert_lt(fx_poll_at(&f, 0, 0), 0);
    cr_assert_eq(f.m.n, 0);
    /* rewritten in place, longer than before */
    fx_write(&f, "w", HEADER "1,north," T0 ",5\n2,north," T0 ",6\n");
    fx_poll(&f, 0);
    cr_assert_str_eq(fx_keys(&f), "1 2");
    fx_fini(&f);
}

/* ---- bounded polls, and rows never lost ---- */

Test(csv, a_big_file_is_read_in_chunks)
{
    fx f;
    fx_init(&f);
    FILE *fp = fopen(f.path, "w");
    cr_assert_not_null(fp);
    fputs("id,unit,t,v,pad\n", fp);
    char pad[201];
    memset(pad, 'x', 200);
    pad[200] = '\0';
    int rows = 20000; /* about 4.5 MB: more than one poll's 4 MiB */
    for (int i = 0; i < rows; i++)
        fprintf(fp, "%d,north,%lld,%d,%s\n", i, (long long)(1704067200 + i), i % 97, pad);
    fclose(fp);
    fx_open_with(&f, NULL, 0);
    int polls = 0;
    do {
        cr_assert_eq(fx_poll_at(&f, 0, 0), 0, "%s", f.err);
        polls++;
    } while (f.info.more && polls < 100);
    cr_assert_eq(polls, 2, "%d polls", polls);
    cr_assert_eq(f.m.n, (size_t)rows);
    cr_assert_eq(f.m.nr, 0);
    for (int i = 0; i < rows; i++) {
        char k[16];
        snprintf(k, sizeof k, "%d", i);
        cr_assert_str_eq(f.m.s[i].key, k);
    }
    fx_fini(&f);
}

Test(csv, a_short_timeout_stops_a_poll_early)
{
    fx f;
    fx_init(&f);
    FILE *fp = fopen(f.path, "w");
    cr_assert_not_null(fp);
    fputs(HEADER, fp);
    int rows = 20000;
    for (int i = 0; i < rows; i++)
        fprintf(fp, "%d,north,%lld,%d\n", i, (long long)(1704067200 + i), i);
    fclose(fp);
    fx_open_with(&f, NULL, 0);
    int polls = 0;
    do {
        cr_assert_eq(fx_poll_at(&f, 0, 1), 0, "%s", f.err);
        polls++;
    } while (f.info.more && polls < 10000);
    cr_assert_geq(polls, 2);
    cr_assert_eq(f.m.n, (size_t)rows);
    for (int i = 0; i < rows; i++)
        cr_assert_eq(f.m.s[i].value, i);
    fx_fini(&f);
}

Test(csv, a_refusing_sink_loses_nothing)
{
    fx f;
    fx_init(&f);
    fx_write(&f, "w", HEADER);
    for (int i = 1; i <= 5; i++) {
        char r[128];
        fx_write(&f, "a", fx_row(r, sizeof r, i, "north", i));
    }
    fx_open_with(&f, NULL, 0);
    f.m.refuse_after = 2;
    cr_assert_lt(fx_poll_at(&f, 0, 0), 0);
    cr_assert_eq(f.m.n, 2);
    f.m.refuse_after = -1;
    fx_poll(&f, 0);
    /* the two kept before the refusal come again (the store keeps them once) */
    cr_assert_str_eq(fx_keys(&f), "1 2 1 2 3 4 5");
    fx_fini(&f);
}

Test(csv, a_batch_not_kept_is_read_again)
{
    fx f;
    fx_init(&f);
    fx_write(&f, "w", HEADER "1,north," T0 ",1\n");
    fx_open_with(&f, NULL, 0);
    fx_poll(&f, 0);
    int64_t kept = f.cursor;
    fx_write(&f, "a", "2,north," T0 ",2\n");
    fx_poll(&f, 0);
    cr_assert_str_eq(fx_keys(&f), "1 2");
    /* the collector could not write that poll: its cursor stayed */
    f.cursor = kept;
    fx_write(&f, "a", "3,north," T0 ",3\n");
    fx_poll(&f, 0);
    cr_assert_str_eq(fx_keys(&f), "1 2 1 2 3");
    /* and with the cursor carried on, only what is new */
    fx_write(&f, "a", "4,north," T0 ",4\n");
    fx_poll(&f, 0);
    cr_assert_str_eq(fx_keys(&f), "1 2 1 2 3 4");
    fx_fini(&f);
}

/* ---- options ---- */

static void assert_open_fails(const char *const *kv, size_t n, const char *key)
{
    char dir[256];
    th_tempdir(dir, sizeof dir);
    mock_options o;
    const sr_ad_options *opts = mock_opts(&o, "calls", dir, kv, n);
    void *st = NULL;
    char err[512] = "";
    cr_assert_lt(sr_adapter_csv.open(opts, &st, err, sizeof err), 0, "accepted (%s)", key);
    cr_assert_null(st);
    cr_assert(strstr(err, key), "the message does not name %s: %s", key, err);
    th_rmtree(dir);
}

#define OPEN_FAILS(key, ...)                                                                       \
    assert_open_fails((const char *const[]){__VA_ARGS__},                                          \
                      sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *), key)

Test(csv, bad_options_name_their_key)
{
    OPEN_FAILS("path", "metric = m", "entity = e", "value = v");
    OPEN_FAILS("path", "path = ", "metric = m", "entity = e", "value = v");
    OPEN_FAILS("delimiter", "path = a.csv", "delimiter = ab", "metric = m", "entity = e",
               "value = v");
    OPEN_FAILS("delimiter", "path = a.csv", "delimiter = \"", "metric = m", "entity = e",
               "value = v");
    OPEN_FAILS("settle", "path = a.csv", "settle = soon", "metric = m", "entity = e", "value = v");
    OPEN_FAILS("settle", "path = a.csv", "settle = -5s", "metric = m", "entity = e", "value = v");
    OPEN_FAILS("settle", "path = a.csv", "settle = 5", "metric = m", "entity = e", "value = v");
    OPEN_FAILS("metric", "path = a.csv", "entity = e", "value = v");
    OPEN_FAILS("value", "path = a.csv", "metric = m", "entity = e", "value = duration(a)");
    OPEN_FAILS("timezone", "path = a.csv", "metric = m", "entity = e", "value = v", "time = t",
               "timezone = Mars/Olympus");
}

Test(csv, option_table_lists_the_mapping_keys)
{
    const char *want[] = {"path",        "delimiter", "settle", "metric", "entity", "time",
                          "time_format", "timezone",  "value",  "key",    "where",  "null"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int found = 0;
        for (const sr_ad_option_spec *s = sr_adapter_csv.options; s->key; s++)
            found |= strcmp(s->key, want[i]) == 0;
        cr_assert(found, "%s is not in the option table", want[i]);
    }
    cr_assert_str_eq(sr_adapter_csv.type, "csv");
    cr_assert_eq(sr_adapter_csv.abi_version, SR_ADAPTER_ABI);
}

/* ---- a real 911 export through the binary: value maps, rejects in place ---- */

/* Seattle's 2024 dispatch sample by priority (1 to 5, and one 7 at line
 * 256): one source maps priorities to categories through [map.prio], whose
 * entries leave 7 out; the other names a metric per priority, and the
 * config defines none for 7. Both reject that row at its line, with the CSV
 * line as read. */
Test(csv, a_911_export_by_category_and_rejects_at_their_line)
{
    char dir[256], cfg[512], text[4096];
    th_tempdir(dir, sizeof dir);
    snprintf(cfg, sizeof cfg, "%s/c.ini", dir);
    const char *fixtures = getenv("SITREP_FIXTURES");
    snprintf(text, sizeof text,
             "[sitrep]\ncache = cache.db\ntimezone = America/Los_Angeles\nretention = 10000d\n"
             "[map.prio]\n1 = emergency\n2 = urgent\n3 = prompt\n4 = routine\n5 = routine\n"
             "[adapter.bycat]\ntype = csv\npath = %s/seattle-dispatch-2024-sample.csv\n"
             "metric = response_{priority|prio}\nentity = seattle/{dispatch_precinct}\n"
             "time = CAD_Event_Original_Time_Queued\nvalue = 1\nkey = cad_id\n"
             "[adapter.byprio]\ntype = csv\npath = %s/seattle-dispatch-2024-sample.csv\n"
             "metric = p{priority}\nentity = seattle/{dispatch_precinct}\n"
             "time = CAD_Event_Original_Time_Queued\nvalue = 1\nkey = cad_id\n"
             "[metric.response_emergency]\nkind = event\n[metric.response_urgent]\nkind = event\n"
             "[metric.response_prompt]\nkind = event\n[metric.response_routine]\nkind = event\n"
             "[metric.p1]\nkind = event\n[metric.p2]\nkind = event\n[metric.p3]\nkind = event\n"
             "[metric.p4]\nkind = event\n[metric.p5]\nkind = event\n",
             fixtures ? fixtures : "tests/fixtures", fixtures ? fixtures : "tests/fixtures");
    th_write_file(cfg, text);
    char *out, *err;
    char *collect[] = {"collect", "--once", "--config", cfg, NULL};
    cr_assert_eq(th_run(NULL, collect, &out, &err), 0, "%s%s", out, err);
    free(out);
    free(err);
    const char *line256 = "2024000001505,2,7,NORTH,-122.34493682,47.71957221,2024-01-02 "
                          "15:20:59,3096,3096,3096,NORTHGATE";
    const char *src[] = {"bycat", "byprio"};
    const char *why[] = {"no value map entry for '7' in [map.prio]", "unknown metric 'p7'"};
    for (int i = 0; i < 2; i++) {
        char *rej[] = {"rejects", "--config", cfg, "--source", (char *)src[i], NULL};
        cr_assert_eq(th_run(NULL, rej, &out, &err), 0, "%s", err);
        cr_assert(strstr(out, "line 256: "), "%s: %s", src[i], out);
        cr_assert(strstr(out, why[i]), "%s: %s", src[i], out);
        cr_assert(strstr(out, line256), "%s: %s", src[i], out);
        cr_assert_null(strstr(out, " -: "), "%s: %s", src[i], out);
        free(out);
        free(err);
    }
    char *q[] = {"query",  "response_routine", "--config", cfg,          "--agg", "count",
                 "--from", "2024-01-01",       "--to",     "2024-02-01", NULL};
    cr_assert_eq(th_run(NULL, q, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "74"), "18 + 56 routine calls (priorities 4 and 5): %s", out);
    free(out);
    free(err);
    th_rmtree(dir);
}
