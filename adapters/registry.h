/*
 * registry.h - the built-in adapter types, found by their `type =` name.
 * Plugins (type = plugin) are loaded by app/ through uv_dlopen and checked
 * with sr_registry_check_abi().
 *
 * Two of the types (postgres, http: modules.h) live in shared objects of
 * their own unless the program links them: for those the registry's table
 * describes the type (type, description, options) and its open() says the
 * object is missing; app/plugin.c loads the object that
 * sr_registry_module() names and runs its table instead.
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

/*
 * The file name of the shared object that holds the adapter of type
 * ("sitrep-postgres.so"), to look for in sr_module_dirs() (app/paths.h);
 * NULL when the type is in this program itself. Borrowed; static.
 */
const char *sr_registry_module(const char *type);

/* 0 when a speaks this build's ABI; else -1 with a message in err. */
int sr_registry_check_abi(const sr_adapter *a, char *err, size_t errlen);

#endif
