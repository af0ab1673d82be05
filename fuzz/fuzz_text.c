/*
 * fuzz_text.c - libFuzzer target for the text sanitiser (metrics/safetext.c), the
 * gate every string from a source passes before it reaches the terminal.
 *
 * Under C.UTF-8, for arbitrary bytes (cut at the first NUL, as a C string
 * is), checks what sr_text_clean() promises: no C0 control, DEL or ESC
 * byte comes out, the output is valid UTF-8 without C1 controls, it is
 * never longer than the input, sanitising it again changes nothing, and
 * sr_text_width() gives the same columns for the input and the output.
 * Seeds: fuzz/seeds/fuzz_text/.
 */
#include <locale.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../metrics/safetext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Valid UTF-8 (shortest forms, no surrogates) and no C1 control. */
static int clean_utf8(const unsigned char *s)
{
    while (*s) {
        unsigned c = *s;
        size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
        if (c >= 0x80 && ((c & 0xc0) == 0x80 || c >= 0xf8))
            return 0;
        if (n == 1 && (c < 0x20 || c == 0x7f))
            return 0;
        uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
        for (size_t i = 1; i < n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i] & 0x3f);
        }
        static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        if (cp >= 0x80 && cp < 0xa0)
            return 0;
        s += n;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (!setlocale(LC_ALL, "C.UTF-8"))
            abort();
        ready = 1;
    }
    char *in = malloc(size + 1), *out = malloc(size + 1), *again = malloc(size + 1);
    if (!in || !out || !again)
        abort();
    memcpy(in, data, size);
    in[size] = '\0';
    sr_text_clean(in, out, size + 1);
    if (strlen(out) > strlen(in) || !clean_utf8((const unsigned char *)out))
        abort();
    sr_text_clean(out, again, size + 1);
    if (strcmp(out, again) != 0)
        abort();
    if (sr_text_width(in) != sr_text_width(out))
        abort();
    free(in);
    free(out);
    free(again);
    return 0;
}
