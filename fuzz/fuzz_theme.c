/*
 * fuzz_theme.c - libFuzzer target for the theme parser (tui/theme.c).
 *
 * Feeds arbitrary bytes, NULs included, to sr_theme_parse() as theme text
 * and frees whatever comes back. The error text is checked to be
 * terminated and free of control characters other than the newlines
 * between messages, since it is shown on the screen. Seeds:
 * fuzz/seeds/fuzz_theme/ (the shipped themes and a broken one).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tui/tui.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sr_theme *t = NULL;
    char err[1024];
    memset(err, 'x', sizeof err);
    sr_theme_parse("fuzz.ini", (const char *)data, size, &t, err, sizeof err);
    size_t n = strnlen(err, sizeof err);
    if (n == sizeof err)
        abort();
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)err[i];
        if ((c < 0x20 && c != '\n') || c == 0x7f)
            abort();
    }
    sr_theme_destroy(t);
    return 0;
}
