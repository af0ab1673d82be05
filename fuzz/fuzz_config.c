/*
 * fuzz_config.c - libFuzzer target for the config parser (app/config.c).
 *
 * Feeds arbitrary bytes to sr_config_parse() as config text (cut at the
 * first NUL, as a C string is) and frees whatever comes back, valid config
 * or error list. Seeds: fuzz/seeds/fuzz_config/ (the default config.ini and
 * broken variants of it).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../app/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    sr_config *cfg = NULL;
    sr_cfg_errors errs;
    sr_config_parse("fuzz.ini", text, &cfg, &errs);
    sr_config_destroy(cfg);
    sr_cfg_errors_fini(&errs);
    free(text);
    return 0;
}
