/*
 * registry.h - the built-in adapter types, found by their `type =` name.
 * Plugins (type = plugin) are loaded by app/ through uv_dlopen and checked
 * with sr_registry_check_abi().
 */
#ifndef SR_REGISTRY_H
#define SR_REGISTRY_H

#include <stddef.h>

#include "adapter.h"

/* Borrowed; static. NULL when no built-in adapter has that type. */
const sr_adapter *sr_registry_find(const char *type);

/* The i-th built-in adapter (i < sr_registry_count()). */
const sr_adapter *sr_registry_at(size_t i);
size_t sr_registry_count(void);

/* 0 when a speaks this build's ABI; else -1 with a message in err. */
int sr_registry_check_abi(const sr_adapter *a, char *err, size_t errlen);

#endif
