/*
 * roles.c - the process's identity and its role.
 *
 * Matching is by name only: a [role.*] lists user and group names, and the
 * identity carries names (getpwuid/getgrouplist/getgrgid), so a config can
 * be shared by hosts whose ids differ. Names the host does not know simply
 * match nobody; they are not an error, since the same config serves hosts
 * with different accounts.
 */
#include "roles.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* Whether name appears in a list separated by commas or blanks. */
static bool listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    const char *c = list;
    while (*c) {
        c += strspn(c, ", \t");
        size_t w = strcspn(c, ", \t");
        if (w == 0)
            break;
        if (w == n && strncmp(c, name, n) == 0)
            return true;
        c += w;
    }
    return false;
}

static void add_group(sr_identity *id, const char *name)
{
    for (size_t i = 0; i < id->n_groups; i++) {
        if (strcmp(id->groups[i], name) == 0)
            return;
    }
    if (id->n_groups < SR_ID_MAX_GROUPS)
        snprintf(id->groups[id->n_groups++], sizeof id->groups[0], "%s", name);
}

static void real_groups(sr_identity *id, const struct passwd *pw)
{
    gid_t gids[SR_ID_MAX_GROUPS];
    int n = SR_ID_MAX_GROUPS;
    if (getgrouplist(pw->pw_name, pw->pw_gid, gids, &n) < 0)
        n = SR_ID_MAX_GROUPS; /* more than fit: the first ones */
    for (int i = 0; i < n; i++) {
        const struct group *g = getgrgid(gids[i]);
        char num[24];
        snprintf(num, sizeof num, "%u", (unsigned)gids[i]);
        add_group(id, g ? g->gr_name : num);
    }
}

static void where_from(sr_identity *id)
{
    for (int fd = 0; fd <= 2 && !id->tty[0]; fd++) {
        const char *t = isatty(fd) ? ttyname(fd) : NULL;
        if (t)
            snprintf(id->tty, sizeof id->tty, "%s", t);
    }
    const char *ssh = getenv("SSH_CONNECTION");
    if (!ssh || !ssh[0])
        ssh = getenv("SSH_CLIENT");
    snprintf(id->ssh, sizeof id->ssh, "%s", ssh ? ssh : "");
}

int sr_identity_init(sr_identity *id)
{
    memset(id, 0, sizeof *id);
    int rc = 0;
    const struct passwd *pw = getpwuid(geteuid());
    if (pw) {
        snprintf(id->user, sizeof id->user, "%s", pw->pw_name);
        real_groups(id, pw);
    } else {
        snprintf(id->user, sizeof id->user, "%u", (unsigned)geteuid());
        rc = SR_ENOENT;
    }
    snprintf(id->audit_user, sizeof id->audit_user, "%s", id->user);
    where_from(id);

#ifdef SR_TEST_HOOKS
    const char *tu = getenv("SITREP_TEST_USER");
    bool plain = getuid() == geteuid() && getgid() == getegid();
    if (tu && tu[0] && plain) {
        char real[64];
        snprintf(real, sizeof real, "%s", id->user);
        id->override = true;
        snprintf(id->user, sizeof id->user, "%s", tu);
        snprintf(id->audit_user, sizeof id->audit_user, "%s as %s (SITREP_TEST_USER)", real,
                 id->user);
        id->n_groups = 0;
        const char *tg = getenv("SITREP_TEST_GROUPS");
        const char *c = tg ? tg : "";
        while (*c) {
            c += strspn(c, ", \t");
            size_t w = strcspn(c, ", \t");
            if (w == 0)
                break;
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(w < 63 ? w : 63), c);
            add_group(id, name);
            c += w;
        }
    }
#endif
    return rc;
}

const sr_cfg_role *sr_role_match(const sr_config *cfg, const sr_identity *id, char *why, size_t len)
{
    for (size_t i = 0; i < cfg->n_roles; i++) {
        if (listed(cfg->roles[i].users, id->user)) {
            if (why)
                snprintf(why, len, "user %s", id->user);
            return &cfg->roles[i];
        }
    }
    for (size_t i = 0; i < cfg->n_roles; i++) {
        for (size_t g = 0; g < id->n_groups; g++) {
            if (listed(cfg->roles[i].groups, id->groups[g])) {
                if (why)
                    snprintf(why, len, "group %s", id->groups[g]);
                return &cfg->roles[i];
            }
        }
    }
    if (why)
        snprintf(why, len, "no role lists the user or its groups");
    for (size_t i = 0; i < cfg->n_roles; i++) {
        if (strcmp(cfg->roles[i].name, "default") == 0)
            return &cfg->roles[i];
    }
    return &cfg->roles[cfg->n_roles - 1];
}

void sr_role_privacy(const sr_config *cfg, const sr_cfg_role *role, sr_privacy *out)
{
    sr_privacy_init(out);
    for (size_t i = 1; i <= SR_CFG_MAX_LEVELS && i <= SR_PRIV_MAX_LEVELS; i++)
        out->personal[i] = cfg->personal[i];
    for (size_t i = 0; i < cfg->n_levels && i < SR_PRIV_MAX_LEVELS; i++)
        snprintf(out->levels[i], sizeof out->levels[i], "%s", cfg->levels[i]);
    out->n_levels = cfg->n_levels < SR_PRIV_MAX_LEVELS ? cfg->n_levels : SR_PRIV_MAX_LEVELS;
    out->see_personal = role->personal;
    out->drill = role->drill >= SR_DRILL_ANY ? SR_PRIV_ANY : role->drill;
    out->min_cell = cfg->min_cell > 0 ? cfg->min_cell : 1;
    out->grid_ms = cfg->cell_grid_ms;
    snprintf(out->role, sizeof out->role, "%s", role->name);
}

void sr_role_drill_text(const sr_config *cfg, int drill, char *buf, size_t len)
{
    if (drill >= SR_DRILL_ANY)
        snprintf(buf, len, "any depth");
    else if (drill == 0)
        snprintf(buf, len, "the whole tree only");
    else if ((size_t)drill <= cfg->n_levels)
        snprintf(buf, len, "%s (level %d)", cfg->levels[drill - 1], drill);
    else
        snprintf(buf, len, "level %d", drill);
}

int sr_audit_write(sr_store *st, const sr_identity *id, const char *role, const char *action,
                   const char *detail, sr_ms at_ms)
{
    sr_audit_row row = {.at_ms = at_ms,
                        .user = id->audit_user,
                        .role = role,
                        .tty = id->tty,
                        .ssh = id->ssh,
                        .action = action,
                        .detail = detail};
    return sr_store_audit_add(st, &row);
}
