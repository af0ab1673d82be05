/*
 * plugin.h - the adapter type behind every [adapter.NAME] of a config:
 * built in (adapters/registry.h), or a plugin loaded at run time.
 *
 * A plugin section reads
 *
 *   [adapter.feed]
 *   type = plugin
 *   path = plugins/textlog.so   ; relative to the config's directory
 *   file = feed.log             ; the plugin's own keys
 *
 * Loading opens the shared object with uv_dlopen, calls its one exported
 * function SR_ADAPTER_ENTRY, checks the ABI version of the table it returns
 * and then the section's keys against the table's options, every problem
 * reported as FILE:LINE like any config error. The shared objects stay
 * loaded until sr_plugins_destroy(), which must come after the collector
 * has closed their sources.
 */
#ifndef SR_PLUGIN_H
#define SR_PLUGIN_H

#include <stddef.h>

#include "../adapters/adapter.h"
#include "config.h"

/* The `type =` of a plugin section. */
#define SR_PLUGIN_TYPE "plugin"

/* The keys sitrep itself reads in a plugin section (path); ends with
 * {NULL}. A plugin's own keys come on top. */
extern const sr_ad_option_spec sr_plugin_keys[];

typedef struct sr_plugins sr_plugins;

/*
 * Finds the adapter type of every adapter section of cfg, loading each
 * plugin. On success returns 0 and *out (caller owns; free with
 * sr_plugins_destroy(); cfg must outlive it). Otherwise returns SR_EINVAL
 * (SR_ENOMEM) with *out NULL and every problem appended to errs, which
 * must be initialised (e.g. {0}).
 */
int sr_plugins_load(const sr_config *cfg, sr_plugins **out, sr_cfg_errors *errs);

/* The adapter of cfg->adapters[i] (borrowed; valid until
 * sr_plugins_destroy()). NULL when i is out of range. */
const sr_adapter *sr_plugins_adapter(const sr_plugins *p, size_t i);

/* How many of the sections are plugins. */
size_t sr_plugins_count(const sr_plugins *p);

/* Unloads the plugins; destroy(NULL) is a no-op. */
void sr_plugins_destroy(sr_plugins *p);

#endif
