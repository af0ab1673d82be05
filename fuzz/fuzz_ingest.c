/*
 * fuzz_ingest.c - libFuzzer target for the ingest CSV parser (app/ingest.c).
 *
 * The input bytes are the CSV stream (through fmemopen). Checked on every
 * input:
 *   - every string a callback gets is NUL-terminated and read to its end
 *     (so AddressSanitizer sees any overread), with the promised shape: a
 *     catalog metric that is not a ratio, a trimmed entity without empty path
 *     segments, a trimmed non-empty key or NULL, a finite value, a raw text
 *     shorter than SR_INGEST_RAW_MAX, a non-empty reason;
 *   - lines start at 1, never go back, and stay within the input's lines;
 *   - the stats agree with the callbacks, and a header error calls none;
 *   - when the input has no quote and no CR, each line is one record, so
 *     the header + rows + rejects + blank lines must equal the lines counted
 *     here independently, and row lines strictly increase.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../app/ingest.h"
#include "fuzz.h"

static sr_metric_def defs[3];
static sr_catalog cat = {defs, 3};

typedef struct {
    long rows, rejects;
    long last_line;
    long max_line; /* lines in the input */
    int simple;    /* no quote, no CR: one record per line */
} state;

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static void check_line(state *st, long line)
{
    CHECK(line >= 1);
    CHECK(line <= st->max_line);
    CHECK(st->simple ? line > st->last_line : line >= st->last_line);
    st->last_line = line;
}

static int on_row(void *ctx, long line, const sr_sample *s)
{
    state *st = ctx;
    check_line(st, line);
    st->rows++;
    CHECK(s && s->metric && s->entity);
    const sr_metric_def *d = sr_catalog_find(&cat, s->metric);
    CHECK(d && d->kind != SR_KIND_RATIO);
    size_t n = strlen(s->entity);
    CHECK(n > 0);
    CHECK(!blank(s->entity[0]) && !blank(s->entity[n - 1]));
    CHECK(s->entity[0] != '/' && s->entity[n - 1] != '/' && !strstr(s->entity, "//"));
    CHECK(s->value == s->value && s->value - s->value == 0); /* finite */
    if (s->key) {
        size_t k = strlen(s->key);
        CHECK(k > 0 && !blank(s->key[0]) && !blank(s->key[k - 1]));
    }
    return 0;
}

static int on_reject(void *ctx, long line, const char *raw, const char *reason)
{
    state *st = ctx;
    check_line(st, line);
    st->rejects++;
    CHECK(raw && reason);
    CHECK(strlen(raw) < SR_INGEST_RAW_MAX);
    CHECK(strlen(reason) > 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!defs[0].name[0]) {
        sr_metric_def_init(&defs[0], "response_p1");
        sr_metric_def_init(&defs[1], "open_cases");
        defs[1].kind = SR_KIND_GAUGE;
        sr_metric_def_init(&defs[2], "in_service");
        defs[2].kind = SR_KIND_RATIO;
    }
    static const char empty[1];
    FILE *f = fmemopen(size ? (void *)data : (void *)empty, size ? size : 1, "r");
    if (!f)
        return 0;
    if (!size)
        fgetc(f); /* an empty stream */

    /* count lines here, independently of the parser */
    const char *p = (const char *)data;
    size_t n = size;
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        n -= 3;
    }
    state st = {0};
    st.simple = !memchr(p, '"', n) && !memchr(p, '\r', n);
    long lines = 0, blanks = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n && i == start)
            break; /* no last line without newline */
        if (i == n || p[i] == '\n') {
            lines++;
            int all_blank = 1;
            for (size_t j = start; j < i; j++)
                all_blank &= blank(p[j]);
            blanks += all_blank;
            start = i + 1;
        }
    }
    st.max_line = lines;

    /* local times in a real zone on odd sizes, in UTC otherwise */
    const char *tz = size % 2 ? "America/Los_Angeles" : NULL;
    sr_ingest_sink sink = {.ctx = &st, .row = on_row, .reject = on_reject};
    sr_ingest_stats stats;
    char err[256];
    int rc = sr_ingest_csv(f, &cat, tz, &sink, &stats, err, sizeof err);
    fclose(f);

    CHECK(stats.rows == st.rows && stats.rejects == st.rejects);
    if (rc == SR_EINVAL) {
        CHECK(st.rows + st.rejects == 0);
        CHECK(err[0] != '\0');
        return 0;
    }
    CHECK(rc == 0);
    CHECK(stats.lines == lines);
    if (st.simple) {
        CHECK(stats.blank == blanks);
        CHECK(1 + st.rows + st.rejects + blanks == lines);
    }
    return 0;
}
