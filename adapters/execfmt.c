/*
 * execfmt.c - the texts of the exec adapter (see execfmt.h): the command's
 * words, the `lines` format, and stderr as a message.
 *
 * Each function reads a bounded text and writes into storage it is given
 * or allocates once; none keeps state. The word splitter writes every word
 * into one block after the argv array: a word is never longer than its
 * source text (quotes and escapes only shrink it), so the block is sized
 * from the input. The line parser finds its fields first and modifies the
 * line (two NULs) only once the whole line has been accepted, so that a
 * rejected line is still the raw text as read.
 */
#include "execfmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvin.h"
#include "map.h"

/* ---- the command's words ---- */

static int word_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Words a shell would read as operators: without a shell they would reach
 * the program as arguments, which is never what was meant. */
static const char *const shell_ops[] = {
    "|", "||", "|&", "&",  "&&", ";",  ";;",  "<",    "<<",   "<<<",
    ">", ">>", ">|", "&>", ">&", "2>", "2>>", "2>&1", "1>&2", ">&2",
};

static int shell_op(const char *w)
{
    for (size_t i = 0; i < sizeof shell_ops / sizeof shell_ops[0]; i++) {
        if (strcmp(w, shell_ops[i]) == 0)
            return 1;
    }
    return 0;
}

int sr_execfmt_words(const char *text, char ***argv, size_t *argc, char *err, size_t errlen)
{
    if (!text)
        text = "";
    size_t len = strlen(text), maxw = len / 2 + 1;
    char **v = malloc((maxw + 1) * sizeof *v + len + 1);
    if (!v) {
        sr_map_errf(err, errlen, "out of memory");
        return -1;
    }
    char *o = (char *)(v + maxw + 1);
    size_t n = 0;
    const char *p = text;
    for (;;) {
        while (word_blank(*p))
            p++;
        if (!*p)
            break;
        char *w = o;
        int quoted = 0;
        while (*p && !word_blank(*p)) {
            const char *open = p;
            if (*p == '\'') {
                for (p++; *p && *p != '\'';)
                    *o++ = *p++;
            } else if (*p == '"') {
                for (p++; *p && *p != '"';) {
                    if (p[0] == '\\' && (p[1] == '"' || p[1] == '\\'))
                        p++;
                    *o++ = *p++;
                }
            } else if (*p == '\\') {
                if (!p[1]) {
                    sr_map_errf(err, errlen,
                                "a backslash at the end of the command escapes nothing");
                    free(v);
                    return -1;
                }
                p++;
                *o++ = *p++;
                quoted = 1;
                continue;
            } else {
                *o++ = *p++;
                continue;
            }
            if (!*p) {
                sr_map_errf(
                    err, errlen,
                    "the %s quote at character %zu is never closed (in the config file, ';' "
                    "after a blank starts a comment, even inside quotes)",
                    *open == '"' ? "double" : "single", (size_t)(open - text) + 1);
                free(v);
                return -1;
            }
            p++;
            quoted = 1;
        }
        *o++ = '\0';
        if (!quoted && shell_op(w)) {
            sr_map_errf(err, errlen,
                        "'%s' is a shell operator, but the command runs without a shell: write "
                        "command = /bin/sh -c '...' to use one",
                        w);
            free(v);
            return -1;
        }
        v[n++] = w;
    }
    if (n == 0) {
        sr_map_errf(err, errlen, "no program given");
        free(v);
        return -1;
    }
    v[n] = NULL;
    *argv = v;
    *argc = n;
    return 0;
}

/* ---- format = lines ---- */

static int line_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Copies the n bytes at s into a buffer of SR_EXECFMT_WORD_MAX + 1. */
static int copy_word(char *dst, const char *s, size_t n)
{
    if (n > SR_EXECFMT_WORD_MAX)
        return -1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

int sr_execfmt_line(char *line, size_t len, const sr_ad_host *host, const char *tz, int64_t now_ms,
                    sr_ad_sample *out, char *why, size_t whylen)
{
    if (len && line[len - 1] == '\r')
        len--;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            sr_map_errf(why, whylen, "a control character (0x%02x) at column %zu", c, i + 1);
            return -1;
        }
    }
    size_t i = 0;
    while (i < len && line_blank(line[i]))
        i++;
    if (i == len || line[i] == '#')
        return 0;
    size_t start[3], end[3];
    int nf = 0;
    while (nf < 3 && i < len) {
        start[nf] = i;
        while (i < len && !line_blank(line[i]))
            i++;
        end[nf++] = i;
        while (i < len && line_blank(line[i]))
            i++;
    }
    if (nf < 3) {
        sr_map_errf(why, whylen, "expected METRIC ENTITY VALUE [TIME], got %d field%s", nf,
                    nf == 1 ? "" : "s");
        return -1;
    }
    size_t rest = len;
    while (rest > i && line_blank(line[rest - 1]))
        rest--;

    char value[SR_EXECFMT_WORD_MAX + 1], when[SR_EXECFMT_WORD_MAX + 1];
    if (copy_word(value, line + start[2], end[2] - start[2])) {
        sr_map_errf(why, whylen, "the value is longer than %d characters", SR_EXECFMT_WORD_MAX);
        return -1;
    }
    double v;
    if (sr_map_number(value, &v)) {
        sr_map_errf(why, whylen, "the value '%.40s' is not a number", value);
        return -1;
    }
    int64_t ts = now_ms;
    if (rest > i) {
        if (copy_word(when, line + i, rest - i)) {
            sr_map_errf(why, whylen, "the time is longer than %d characters", SR_EXECFMT_WORD_MAX);
            return -1;
        }
        if (!host || !host->parse_time || host->parse_time(when, tz, &ts)) {
            sr_map_errf(why, whylen, "the time '%.40s' is neither ISO-8601 nor epoch seconds",
                        when);
            return -1;
        }
    }
    line[end[0]] = '\0';
    line[end[1]] = '\0';
    *out = (sr_ad_sample){
        .metric = line + start[0], .entity = line + start[1], .ts_ms = ts, .value = v, .key = NULL};
    return 1;
}

/* ---- stderr as a message ---- */

/* The stderr bytes considered: the start of it, where the cause usually is. */
#define STDERR_MAX 4096

/*
 * The length of the valid, printable UTF-8 sequence at s (n bytes left),
 * or 0 when the byte at s does not start one. C0 and C1 controls and DEL
 * are not printable.
 */
static size_t utf8_printable(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c >= 0x20 && c < 0x7f)
        return 1;
    size_t k;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        k = 2;
        if (c == 0xc2)
            lo = 0xa0; /* U+0080..U+009F are the C1 controls */
    } else if (c >= 0xe0 && c <= 0xef) {
        k = 3;
        if (c == 0xe0)
            lo = 0xa0;
        if (c == 0xed)
            hi = 0x9f; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        k = 4;
        if (c == 0xf0)
            lo = 0x90;
        if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (n < k || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t j = 2; j < k; j++) {
        if (s[j] < 0x80 || s[j] > 0xbf)
            return 0;
    }
    return k;
}

typedef struct {
    size_t at, len; /* in the sanitised text */
} span;

/* Appends s[0..n) to out (pos bytes used of len), cut with "..." to fit max. */
static size_t put_cut(char *out, size_t pos, const char *s, size_t n, size_t max)
{
    if (n > max) {
        n = max >= 3 ? sr_csvin_utf8_floor(s, max - 3) : 0;
        memcpy(out + pos, s, n);
        memcpy(out + pos + n, "...", max >= 3 ? 3 : 0);
        return pos + n + (max >= 3 ? 3 : 0);
    }
    memcpy(out + pos, s, n);
    return pos + n;
}

size_t sr_execfmt_stderr(const char *text, size_t n, char *out, size_t len)
{
    if (!out || !len)
        return 0;
    out[0] = '\0';
    if (!text)
        return 0;
    if (n > STDERR_MAX)
        n = STDERR_MAX;
    char clean[STDERR_MAX + 1];
    span lines[STDERR_MAX / 2 + 1];
    size_t nc = 0, nl = 0, start = 0;
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i <= n;) {
        if (i == n || s[i] == '\n') {
            size_t a = start, b = nc;
            while (a < b && clean[a] == ' ')
                a++;
            while (b > a && clean[b - 1] == ' ')
                b--;
            if (b > a)
                lines[nl++] = (span){a, b - a};
            start = nc;
            i++;
            continue;
        }
        size_t k = utf8_printable(s + i, n - i);
        if (k == 0) {
            clean[nc++] = s[i] == '\t' || s[i] == '\r' ? ' ' : '?';
            i++;
        } else {
            memcpy(clean + nc, s + i, k);
            nc += k;
            i += k;
        }
    }
    size_t max = len - 1, total = 0;
    for (size_t i = 0; i < nl; i++)
        total += lines[i].len + (i ? 3 : 0);
    size_t pos = 0;
    if (total <= max) {
        for (size_t i = 0; i < nl; i++) {
            if (i)
                pos = put_cut(out, pos, " / ", 3, 3);
            pos = put_cut(out, pos, clean + lines[i].at, lines[i].len, lines[i].len);
        }
    } else if (nl == 1) {
        pos = put_cut(out, pos, clean + lines[0].at, lines[0].len, max);
    } else {
        const char *sep = nl > 2 ? " / ... / " : " / ";
        size_t seplen = strlen(sep);
        if (max <= seplen + 8) {
            pos = put_cut(out, pos, clean + lines[0].at, lines[0].len, max);
        } else {
            size_t room = max - seplen, last = lines[nl - 1].len;
            size_t first_room = lines[0].len < room / 2 ? lines[0].len : room / 2;
            if (last < room - first_room)
                first_room = room - last;
            pos = put_cut(out, pos, clean + lines[0].at, lines[0].len, first_room);
            pos = put_cut(out, pos, sep, seplen, seplen);
            pos = put_cut(out, pos, clean + lines[nl - 1].at, last, max - pos);
        }
    }
    out[pos] = '\0';
    return pos;
}
