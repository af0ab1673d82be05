/*
 * modules.h - the built-in adapter types that live in shared objects of
 * their own, so that the libraries behind them are mapped only by a
 * process whose config names the type: postgres (libpq) and http (libcurl,
 * and Kerberos, LDAP and TLS behind it). The binary keeps what it must
 * know without loading them: each type's description and options (for the
 * config's checks, `sitrep help` and the manual) and what to say when the
 * object is absent. The object's own table (pg.c, http.c) is made of the
 * same declarations, so the two never differ. app/plugin.c loads the
 * object (registry.h: sr_registry_module()).
 */
#ifndef SR_MODULES_H
#define SR_MODULES_H

#include "adapter.h"

/* postgres: sitrep-postgres.so, pg.c with sql.c and map.c, and libpq */
extern const char sr_pg_description[];
extern const sr_ad_option_spec sr_pg_options[]; /* ends with {NULL} */
extern const char sr_pg_missing[];              /* why a build has no such object */

/* http: sitrep-http.so, http.c with httpurl.c, httppage.c, jsondoc.c, jsonrow.c and
 * map.c, and libcurl */
extern const char sr_http_description[];
extern const sr_ad_option_spec sr_http_options[];
extern const char sr_http_missing[];

#endif
