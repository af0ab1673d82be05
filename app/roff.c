/*
 * roff.c - escaping for roff, and the few man(7) requests the generated
 * parts of the manual pages use (.SH, .SS, .PP, .TP). Every character of
 * text that reaches a manual page passes sr_roff_text(), so that a help
 * text holding a backslash, a leading dot or a non-ASCII character can
 * never turn into a roff request or a warning.
 */
#include "roff.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../metrics/safetext.h"

void sr_roff_text(FILE *f, const char *s)
{
    bool line_start = true;
    const unsigned char *end = (const unsigned char *)s + strlen(s);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        if (line_start && (*p == '.' || *p == '\''))
            fputs("\\&", f);
        line_start = false;
        if (*p >= 0x80) {
            uint32_t cp;
            size_t n = sr_utf8_decode(p, (size_t)(end - p), &cp);
            if (n == 0) { /* malformed: one byte, shown as U+FFFD */
                n = 1;
                cp = 0xfffd;
            }
            p += n;
            fprintf(f, "\\[u%04X]", (unsigned)cp);
            continue;
        }
        switch (*p) {
        case '\\':
            fputs("\\e", f);
            break;
        case '-':
            fputs("\\-", f);
            break;
        case '"':
            fputs("\\(dq", f);
            break;
        case '\n':
            fputc('\n', f);
            line_start = true;
            break;
        case '\t':
            fputc(' ', f);
            break;
        default:
            if (*p >= 0x20 && *p != 0x7f)
                fputc(*p, f);
        }
        p++;
    }
}

void sr_roff_heading(FILE *f, int level, const char *title)
{
    fputs(level <= 1 ? ".SH " : ".SS ", f);
    sr_roff_text(f, title);
    fputc('\n', f);
}

void sr_roff_para(FILE *f, const char *s)
{
    fputs(".PP\n", f);
    sr_roff_text(f, s);
    fputc('\n', f);
}

void sr_roff_line(FILE *f, const char *bold, const char *rest)
{
    if (bold && *bold) {
        fputs("\\fB", f);
        sr_roff_text(f, bold);
        fputs("\\fR", f);
    }
    if (rest && *rest) {
        if (bold && *bold)
            fputc(' ', f);
        sr_roff_text(f, rest);
    }
    fputc('\n', f);
}

void sr_roff_item(FILE *f, const char *bold, const char *rest, const char *body)
{
    fputs(".TP\n", f);
    sr_roff_line(f, bold, rest);
    sr_roff_text(f, body ? body : "");
    fputc('\n', f);
}
