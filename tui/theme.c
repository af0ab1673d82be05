/*
 * theme.c - semantic colour roles. The built-in roles (SR_ROLES in tui.h)
 * give every role an 8-colour foreground, background and attributes; a
 * theme file (themes/NAME.ini) may override them. Without colour (NO_COLOR,
 * or a terminal without colours) roles keep only their attributes, and
 * status is still carried by words and symbols.
 */
#include "tui.h"

static attr_t role_attrs[SR_ROLE_COUNT];

static const struct {
    const char *name;
    short fg, bg;
    attr_t attr;
} builtin[SR_ROLE_COUNT] = {
#define SR_ROLE_ROW(id, name, fg, bg, attr) [SR_ROLE_##id] = {name, fg, bg, attr},
    SR_ROLES(SR_ROLE_ROW)
#undef SR_ROLE_ROW
};

void sr_theme_init_default(bool color)
{
    bool use = color && has_colors();
    if (use) {
        start_color();
        use_default_colors();
    }
    for (int r = 0; r < SR_ROLE_COUNT; r++) {
        role_attrs[r] = builtin[r].attr;
        if (use && init_pair((short)(r + 1), builtin[r].fg, builtin[r].bg) == OK)
            role_attrs[r] |= COLOR_PAIR(r + 1);
        else if (r == SR_ROLE_STATUSBAR || r == SR_ROLE_SELECTED)
            role_attrs[r] |= A_REVERSE;
    }
}

attr_t sr_role_attr(sr_role role)
{
    return (unsigned)role < SR_ROLE_COUNT ? role_attrs[role] : A_NORMAL;
}

sr_role sr_status_role(sr_status s)
{
    switch (s) {
    case SR_STATUS_OK:
        return SR_ROLE_OK;
    case SR_STATUS_WARN:
        return SR_ROLE_WARN;
    case SR_STATUS_CRIT:
        return SR_ROLE_CRIT;
    case SR_STATUS_NONE:
        break;
    }
    return SR_ROLE_DIM;
}
