/*
 * registry.c - the table of built-in adapters. Adding an adapter type is
 * one line here and one file beside this one.
 */
#include "registry.h"

#include <stdio.h>
#include <string.h>

extern const sr_adapter sr_adapter_exec;
extern const sr_adapter sr_adapter_sim;
extern const sr_adapter sr_adapter_csv;
extern const sr_adapter sr_adapter_sqlite;
extern const sr_adapter sr_adapter_postgres;
extern const sr_adapter sr_adapter_http;

static const sr_adapter *const builtins[] = {
    &sr_adapter_sim,      &sr_adapter_csv,  &sr_adapter_sqlite,
    &sr_adapter_postgres, &sr_adapter_exec, &sr_adapter_http,
};

const sr_adapter *sr_registry_find(const char *type)
{
    for (size_t i = 0; type && i < sizeof builtins / sizeof builtins[0]; i++) {
        if (strcmp(builtins[i]->type, type) == 0)
            return builtins[i];
    }
    return NULL;
}

const sr_adapter *sr_registry_at(size_t i)
{
    return i < sizeof builtins / sizeof builtins[0] ? builtins[i] : NULL;
}

size_t sr_registry_count(void)
{
    return sizeof builtins / sizeof builtins[0];
}

int sr_registry_check_abi(const sr_adapter *a, char *err, size_t errlen)
{
    if (!a) {
        snprintf(err, errlen, "the plugin returned no adapter table");
        return -1;
    }
    if (a->abi_version != SR_ADAPTER_ABI) {
        snprintf(err, errlen,
                 "the plugin was built for adapter ABI version %u; this sitrep speaks version %d "
                 "(rebuild the plugin against this sitrep's adapters/adapter.h)",
                 (unsigned)a->abi_version, SR_ADAPTER_ABI);
        return -1;
    }
    if (!a->type || !a->open || !a->poll || !a->close) {
        snprintf(err, errlen, "the plugin's adapter table is incomplete (type, open, poll, close)");
        return -1;
    }
    return 0;
}
