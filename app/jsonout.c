/*
 * jsonout.c - JSON numbers without lost digits. jansson writes a real with
 * one printf precision for the whole document: 10 digits lose cents of a
 * large sum, 17 write 0.1 as 0.10000000000000001. So the document is dumped
 * at 17 (every real reads back exactly), and each real number outside the
 * strings is written again as the shortest text that reads back as the
 * same double. Integers (no '.' or exponent) are left as they are.
 */
#include "jsonout.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../metrics/common.h"

/* The length of the string token starting at s[0] == '"', quotes included. */
static size_t string_len(const char *s)
{
    size_t i = 1;
    while (s[i] && s[i] != '"')
        i += s[i] == '\\' && s[i + 1] ? 2 : 1;
    return s[i] ? i + 1 : i;
}

int sr_json_write(const json_t *root, size_t flags, FILE *out)
{
    char *text = json_dumps(root, flags | JSON_REAL_PRECISION(17));
    if (!text)
        return SR_ENOMEM;
    for (const char *p = text; *p;) {
        size_t n;
        if (*p == '"') {
            n = string_len(p);
        } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
            n = strspn(p, "+-0123456789.eE");
            if (memchr(p, '.', n) || memchr(p, 'e', n) || memchr(p, 'E', n)) {
                char num[40];
                sr_format_double(strtod(p, NULL), num, sizeof num);
                fputs(num, out);
                if (!strpbrk(num, ".e"))
                    fputs(".0", out);
                p += n;
                continue;
            }
        } else {
            n = 1;
        }
        fwrite(p, 1, n, out);
        p += n;
    }
    free(text);
    return ferror(out) ? SR_EIO : 0;
}

json_t *sr_json_number(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}
