/*
 * module.c - the entry point of a built-in adapter type built as a shared
 * object of its own (modules.h): the one symbol such an object exports,
 * SR_ADAPTER_ENTRY, as a plugin's. Compiled once per object with
 * -DSR_MODULE_TABLE=<its table> (sr_adapter_postgres, sr_adapter_http);
 * every other symbol of the object is hidden (-fvisibility=hidden), so its
 * copies of map.c and the rest never meet the binary's.
 */
#include "adapter.h"

extern const sr_adapter SR_MODULE_TABLE;

__attribute__((visibility("default"))) const sr_adapter *sitrep_adapter(void);

const sr_adapter *sitrep_adapter(void)
{
    return &SR_MODULE_TABLE;
}
