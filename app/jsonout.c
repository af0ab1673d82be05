/*
 * jsonout.c - JSON with every control escaped (jsonout.h).
 *
 * The dump is rewritten byte by byte: outside strings JSON is ASCII, so a
 * multibyte sequence or DEL can only be inside a string, where \uXXXX
 * means the same character. Sequences jansson wrote are valid UTF-8 (it
 * refuses anything else), so nothing here is lost.
 */
#include "jsonout.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../metrics/common.h"
#include "../metrics/safetext.h"

int sr_json_write(const json_t *root, size_t flags, FILE *out)
{
    char *text = json_dumps(root, flags);
    if (!text)
        return SR_ENOMEM;
    const unsigned char *s = (const unsigned char *)text;
    size_t len = strlen(text), from = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = s[i] < 0x7f ? 1 : sr_utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            n = 1;
        else if (s[i] >= 0x7f && sr_text_is_control(cp)) {
            fwrite(text + from, 1, i - from, out);
            fprintf(out, "\\u%04X", (unsigned)cp); /* as jansson writes C0 */
            from = i + n;
        }
        i += n;
    }
    fwrite(text + from, 1, len - from, out);
    fputc('\n', out);
    free(text);
    return ferror(out) ? SR_EIO : 0;
}
