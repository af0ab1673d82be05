/*
 * fuzz_execlines.c - libFuzzer target for what the exec adapter reads
 * (adapters/execfmt.c): the input is a command's stdout, split at '\n' as
 * the adapter splits it, each line through sr_execfmt_line(); the same
 * bytes also go through sr_execfmt_words() (as a command option) and
 * sr_execfmt_stderr() (as stderr). Checked on every input:
 *   - a line is a sample (1), nothing (0) or rejected (< 0) with a reason;
 *     a rejected or skipped line is left byte for byte as it was;
 *   - whether a line is blank or a comment, and whether it has fewer than
 *     three fields or a control character, is decided here independently
 *     and must agree;
 *   - a sample's metric and entity are non-empty words without blanks or
 *     control characters, found at the start of the line's fields; its
 *     value is finite; its time is now unless the line has a fourth field;
 *   - the words of a command are non-empty in number, NULL-terminated, and
 *     equal the blank-separated tokens when the text has no quote or
 *     backslash (unless one is a shell operator, which is refused);
 *   - the stderr message fits its buffer, is NUL-terminated and holds no
 *     control character.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../adapters/execfmt.h"
#include "../metrics/common.h"
#include "fuzz.h"

#define NOW 1700000000000LL

static const sr_ad_host host = {
    .local_to_utc = sr_local_to_utc,
    .parse_time = sr_parse_time,
    .tz_valid = sr_tz_valid,
};

static int blank(char c)
{
    return c == ' ' || c == '\t';
}

static int control(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

static void check_line(const char *p, size_t n)
{
    char *line = malloc(n + 1), *copy = malloc(n + 1);
    CHECK(line && copy);
    memcpy(line, p, n);
    line[n] = '\0';
    memcpy(copy, line, n + 1);

    /* The shape of the line, read here on its own. */
    size_t len = n && p[n - 1] == '\r' ? n - 1 : n;
    int has_control = 0, fields = 0, first = -1;
    for (size_t i = 0; i < len; i++) {
        has_control |= control((unsigned char)p[i]);
        if (!blank(p[i]) && (i == 0 || blank(p[i - 1]))) {
            fields++;
            if (first < 0)
                first = (int)i;
        }
    }
    int skip = !has_control && (fields == 0 || p[first] == '#');

    sr_ad_sample s;
    char why[160] = "";
    int rc = sr_execfmt_line(line, n, &host, n % 2 ? "America/Los_Angeles" : "UTC", NOW, &s, why,
                             sizeof why);
    CHECK(rc <= 1);
    if (rc <= 0)
        CHECK(memcmp(line, copy, n + 1) == 0);
    if (rc < 0)
        CHECK(why[0] != '\0' && strlen(why) < sizeof why);
    if (has_control)
        CHECK(rc < 0);
    CHECK((rc == 0) == skip);
    if (!has_control && !skip && fields < 3)
        CHECK(rc < 0);
    if (rc == 1) {
        CHECK(fields >= 3);
        CHECK(s.key == NULL);
        CHECK(isfinite(s.value));
        size_t ml = strlen(s.metric), el = strlen(s.entity);
        CHECK(ml > 0 && el > 0);
        CHECK(s.metric == line + first);
        CHECK(memcmp(s.metric, copy + first, ml) == 0);
        CHECK(s.entity > s.metric + ml && s.entity + el < line + len);
        for (size_t i = 0; i < ml; i++)
            CHECK(!blank(s.metric[i]) && !control((unsigned char)s.metric[i]));
        for (size_t i = 0; i < el; i++)
            CHECK(!blank(s.entity[i]) && !control((unsigned char)s.entity[i]));
        if (fields == 3)
            CHECK(s.ts_ms == NOW);
    }
    free(line);
    free(copy);
}

static void check_words(const char *text, size_t n)
{
    char **argv = NULL, err[256] = "";
    size_t argc = 0;
    int rc = sr_execfmt_words(text, &argv, &argc, err, sizeof err);
    if (rc < 0) {
        CHECK(argv == NULL && err[0]);
        return;
    }
    CHECK(argc >= 1 && argv[argc] == NULL);
    size_t total = 0;
    for (size_t i = 0; i < argc; i++)
        total += strlen(argv[i]);
    CHECK(total <= n);
    if (!strpbrk(text, "'\"\\")) {
        /* Then the words are the tokens between blanks. */
        size_t k = 0;
        const char *p = text;
        for (;;) {
            while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
                p++;
            if (!*p)
                break;
            size_t w = strcspn(p, " \t\r\n");
            CHECK(k < argc);
            CHECK(strlen(argv[k]) == w && memcmp(argv[k], p, w) == 0);
            k++;
            p += w;
        }
        CHECK(k == argc);
    }
    free(argv);
}

static void check_stderr(const char *p, size_t n)
{
    char out[200];
    size_t len = 1 + n % sizeof out;
    memset(out, 'x', sizeof out);
    size_t got = sr_execfmt_stderr(p, n, out, len);
    CHECK(got < len && out[got] == '\0' && strlen(out) == got);
    for (size_t i = 0; i < got; i++)
        CHECK(!control((unsigned char)out[i]) && out[i] != '\t');
    for (size_t i = len; i < sizeof out; i++)
        CHECK(out[i] == 'x');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i == size || p[i] == '\n') {
            if (i > start || i < size)
                check_line(p + start, i - start);
            start = i + 1;
        }
    }
    char *text = malloc(size + 1);
    CHECK(text);
    memcpy(text, data, size);
    text[size] = '\0';
    check_words(text, strlen(text));
    free(text);
    check_stderr(p, size);
    return 0;
}
