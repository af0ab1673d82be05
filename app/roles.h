/*
 * roles.h - who is running sitrep, and which [role.*] applies to them.
 *
 * The identity is the process's effective Unix user and its groups, plus
 * the terminal and SSH connection it came from (for the audit table). The
 * role is the first [role.*] listing the user by name, else the first
 * listing one of its groups, else "default".
 *
 * For tests only, SITREP_TEST_USER (and SITREP_TEST_GROUPS, names separated
 * by commas) stand in for the user and groups: only in a test build (roles.c
 * compiled with -DSR_TEST_HOOKS, which `make` and `make install` never
 * pass), and only in a process that is neither setuid nor setgid (an
 * elevated one refuses them, app/trust.h). Roles limit what a user sees of a cache the
 * user can already read with sqlite3, so the override grants no access to
 * data; but it must not forge the audit trail, so the audited user then
 * names the real user too ("ann as bob (SITREP_TEST_USER)").
 */
#ifndef SR_ROLES_H
#define SR_ROLES_H

#include <stdbool.h>
#include <stddef.h>

#include "../metrics/privacy.h"
#include "../metrics/store.h"
#include "config.h"

#define SR_ID_MAX_GROUPS 64

typedef struct {
    char user[64];                     /* the user roles are matched by */
    char groups[SR_ID_MAX_GROUPS][64]; /* its groups, primary first */
    size_t n_groups;
    bool override;        /* user and groups come from SITREP_TEST_* */
    char audit_user[160]; /* the user as the audit records it */
    char tty[64];         /* "" when no terminal */
    char ssh[128];        /* SSH_CONNECTION or SSH_CLIENT, "" when local */
} sr_identity;

/* Fills id for this process. Returns 0, or SR_ENOENT when the effective
 * uid has no passwd entry (id->user is then the uid as a number). */
int sr_identity_init(sr_identity *id);

/* The role of id in cfg (borrowed from cfg). Never NULL: cfg always has a
 * "default" role. *why (may be NULL) gets "user ann", "group ops" or
 * "no role lists the user or its groups". */
const sr_cfg_role *sr_role_match(const sr_config *cfg, const sr_identity *id, char *why,
                                 size_t len);

/* Writes the drill depth as text: "district (level 3)", "any depth",
 * "the whole tree only". */
void sr_role_drill_text(const sr_config *cfg, int drill, char *buf, size_t len);

/* The privacy policy of role (borrowed from cfg) under cfg's [sitrep]
 * levels, personal and min_cell: what every view of data applies. */
void sr_role_privacy(const sr_config *cfg, const sr_cfg_role *role, sr_privacy *out);

/*
 * Appends one audit row for id under role at at_ms (action such as
 * "view-personal" or "acknowledge", detail what was seen or done; user,
 * terminal and SSH connection from id): the one place an audit row is made.
 * st must be writable (SR_STORE_VIEWER will do). Returns 0 or the store's
 * error.
 */
int sr_audit_write(sr_store *st, const sr_identity *id, const char *role, const char *action,
                   const char *detail, sr_ms at_ms);

#endif
