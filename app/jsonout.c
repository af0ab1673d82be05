/*
 * jsonout.c - JSON with every control escaped and every number exact
 * (jsonout.h).
 *
 * The dump is rewritten token by token. Outside strings JSON is ASCII, so a
 * multibyte sequence or DEL can only be inside a string, where \uXXXX
 * means the same character; sequences jansson wrote are valid UTF-8 (it
 * refuses anything else), so nothing is lost. A number outside strings
 * with a '.' or an exponent is a real: written again in its shortest form.
 * Integers are left as they are.
 */
#include "jsonout.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../metrics/common.h"
#include "../metrics/safetext.h"

/* The string token starting at s[0] == '"' (quotes included), its
 * controls escaped; returns its length. */
static size_t put_string(const char *text, size_t len, FILE *out)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 1, from = 0;
    while (s[i] && s[i] != '"') {
        if (s[i] == '\\') {
            i += s[i + 1] ? 2 : 1;
            continue;
        }
        uint32_t cp;
        size_t n = s[i] < 0x7f ? 1 : sr_utf8_decode(s + i, len - i, &cp);
        if (n == 0) {
            n = 1;
        } else if (s[i] >= 0x7f && sr_text_is_control(cp)) {
            fwrite(text + from, 1, i - from, out);
            fprintf(out, "\\u%04X", (unsigned)cp); /* as jansson writes C0 */
            from = i + n;
        }
        i += n;
    }
    if (s[i])
        i++;
    fwrite(text + from, 1, i - from, out);
    return i;
}

int sr_json_write(const json_t *root, size_t flags, FILE *out)
{
    char *text = json_dumps(root, flags | JSON_REAL_PRECISION(17));
    if (!text)
        return SR_ENOMEM;
    const char *end = text + strlen(text);
    for (const char *p = text; *p;) {
        if (*p == '"') {
            p += put_string(p, (size_t)(end - p), out);
            continue;
        }
        size_t n = 1;
        if (*p == '-' || (*p >= '0' && *p <= '9')) {
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
        }
        fwrite(p, 1, n, out);
        p += n;
    }
    fputc('\n', out);
    free(text);
    return ferror(out) ? SR_EIO : 0;
}

json_t *sr_json_number(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}
