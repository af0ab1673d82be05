/*
 * ini.c - the INI reader (the grammar is in ini.h).
 *
 * One pass over the text, a line at a time. Each line is copied twice into
 * buffers as long as the text, so that no line has a length limit: text
 * keeps the trimmed line to quote in messages, work is cut up into name,
 * value and rest. The key of the last key line is kept (in key) for the
 * continuation lines that may follow it; a header forgets it.
 */
#include "ini.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* s without the blanks at its end (cut in place). */
static char *rtrim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && is_blank(s[n - 1]))
        s[--n] = '\0';
    return s;
}

static char *ltrim(char *s)
{
    while (is_blank(*s))
        s++;
    return s;
}

/* Cuts s (trimmed, not a comment line) at its inline comment: ';' after a
 * blank. */
static void cut_comment(char *s)
{
    for (size_t i = 1; s[i]; i++) {
        if (s[i] == ';' && is_blank(s[i - 1])) {
            s[i] = '\0';
            rtrim(s);
            return;
        }
    }
}

int sr_ini_read(const char *text, size_t len, sr_ini_fn fn, void *ctx)
{
    char *mem = len < SIZE_MAX / 3 ? malloc(3 * (len + 1)) : NULL;
    if (!mem)
        return SR_ENOMEM;
    char *line = mem, *work = mem + len + 1, *key = mem + 2 * (len + 1);
    bool have_key = false; /* key holds the key a continuation continues */
    size_t pos = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    int rc = 0;
    for (int lineno = 1; pos < len && rc == 0; lineno++) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl ? 1 : 0);

        sr_ini_line l = {.line = lineno, .name = "", .value = "", .rest = "", .text = ""};
        if (memchr(start, '\0', n)) {
            l.kind = SR_INI_NUL;
            rc = fn(ctx, &l);
            break;
        }
        bool indented = n > 0 && is_blank(start[0]);
        memcpy(line, start, n);
        line[n] = '\0';
        l.text = rtrim(ltrim(line));
        if (!l.text[0] || l.text[0] == ';' || l.text[0] == '#')
            continue;
        char *s = strcpy(work, l.text);
        cut_comment(s);

        if (indented && have_key) {
            l.kind = SR_INI_CONTINUATION;
            l.name = key;
            l.value = s;
        } else if (s[0] == '[') {
            char *end = strchr(s, ']');
            if (!end) {
                l.kind = SR_INI_BAD_SECTION;
            } else {
                *end = '\0';
                l.kind = SR_INI_SECTION;
                l.name = s + 1;
                l.rest = ltrim(end + 1);
                if (l.rest[0] == ';' || l.rest[0] == '#')
                    l.rest = "";
                have_key = false;
            }
        } else {
            char *sep = s + strcspn(s, "=:");
            if (!*sep) {
                l.kind = SR_INI_BAD_KEY;
            } else {
                *sep = '\0';
                l.kind = SR_INI_KEY;
                l.name = rtrim(s);
                l.value = ltrim(sep + 1);
                have_key = l.name[0] != '\0';
                strcpy(key, l.name);
            }
        }
        rc = fn(ctx, &l);
    }
    free(mem);
    return rc;
}
