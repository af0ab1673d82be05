/*
 * theme.c - semantic colour roles and theme files.
 *
 * Widgets never name a colour: they draw with a role (SR_ROLES in tui.h)
 * and sr_role_attr() gives the role's attributes and colour pair under the
 * active theme. Role r always uses colour pair r + 1, so re-applying a
 * theme only redefines pairs and cells already drawn change colour with the
 * next refresh.
 *
 * Two ways to fill the roles:
 *   - sr_theme_init_default(): the compiled-in palette of SR_ROLES, eight
 *     colours, always available;
 *   - sr_theme_load() + sr_theme_apply(): a theme file, themes/NAME.ini:
 *
 *       [theme]
 *       name = default
 *       description = Dark background
 *       ok = fg=#5fd75f bg=default
 *       crit = fg=color203 bold
 *
 *     One line per role, every role present. A value is a list of words
 *     separated by blanks: fg=COLOUR, bg=COLOUR (each at most once,
 *     "default" when absent) and the attributes bold, dim, underline,
 *     reverse, italic. A COLOUR is #rrggbb, colorN (0-255, also colourN), a
 *     name (black red green yellow blue magenta cyan white, or bright-NAME)
 *     or default (the terminal's own). Case does not matter in values.
 *
 * Reading: metrics/ini.c reads the lines (the grammar of sitrep.conf(5),
 * the config's own) and hands each one over with its line number; this
 * file opens [theme], stores the keys and reports malformed lines. No key
 * of a theme takes a continued value, so an indented line after a key is
 * an error, as in the config. Errors are collected as "FILE:LINE: what was
 * wrong, expected what" and reading goes on, so one pass shows every
 * mistake.
 *
 * Applying: each colour is turned into what the terminal can show.
 *   - direct colour (more than 256 colours): the RGB value itself;
 *   - 256 colours that the terminal can redefine: exact xterm palette
 *     colours as they are, other RGB colours in palette slots redefined
 *     with init_extended_color(), taken from 255 downwards among the slots
 *     the theme does not use (ncurses restores the palette at endwin);
 *   - 256 colours: the nearest of the xterm cube and grey ramp
 *     (sr_color_nearest_256());
 *   - 16 or 8 colours: by hue and lightness (sr_color_nearest_basic()).
 * Without colour (no_color, or fewer than 8) a role keeps its attributes
 * only, and one whose background differs from normal's is drawn in
 * reverse, so that the status bar and the selection still stand out.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../metrics/common.h"
#include "../metrics/ini.h"
#include "tui.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Largest theme file read; a theme is a few hundred bytes. */
#define THEME_MAX_BYTES (64 * 1024)
/* Errors kept for the message; more are only counted. */
#define MAX_ERRORS 16

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
    bool use = color && has_colors() && start_color() == OK;
    bool defaults = use && use_default_colors() == OK;
    for (int r = 0; r < SR_ROLE_COUNT; r++) {
        /* -1 (the terminal's own colour) needs use_default_colors() */
        short fg = builtin[r].fg, bg = builtin[r].bg;
        if (!defaults && bg < 0)
            bg = COLOR_BLACK;
        role_attrs[r] = builtin[r].attr;
        if (use && init_pair((short)(r + 1), fg, bg) == OK)
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

const char *sr_theme_role_name(sr_role role)
{
    return (unsigned)role < SR_ROLE_COUNT ? builtin[role].name : NULL;
}

/* ---------------------------------------------------------------------- */
/* Colours                                                                 */

enum colour_kind { COL_DEFAULT, COL_BASIC, COL_INDEX, COL_RGB };

struct colour {
    enum colour_kind kind;
    uint32_t v; /* COL_BASIC: 0-15 (8-15 bright); COL_INDEX: 0-255; COL_RGB: 0xrrggbb */
};

/* In curses order: COLOR_BLACK is 0 ... COLOR_WHITE is 7. */
static const char *const basic_names[8] = {"black", "red",     "green", "yellow",
                                           "blue",  "magenta", "cyan",  "white"};

/* xterm's default colours 0-15, the values sr_color_* assume. */
static const uint32_t system16[16] = {
    0x000000, 0xcd0000, 0x00cd00, 0xcdcd00, 0x0000ee, 0xcd00cd, 0x00cdcd, 0xe5e5e5,
    0x7f7f7f, 0xff0000, 0x00ff00, 0xffff00, 0x5c5cff, 0xff00ff, 0x00ffff, 0xffffff,
};

/* The six levels of each channel in the 6x6x6 cube (indexes 16-231). */
static const int cube_level[6] = {0, 95, 135, 175, 215, 255};

static int red_of(uint32_t rgb)
{
    return (int)(rgb >> 16 & 0xff);
}

static int green_of(uint32_t rgb)
{
    return (int)(rgb >> 8 & 0xff);
}

static int blue_of(uint32_t rgb)
{
    return (int)(rgb & 0xff);
}

/* The RGB value of xterm colour i (0-255). */
static uint32_t xterm_rgb(int i)
{
    if (i < 16)
        return system16[i];
    if (i < 232) {
        i -= 16;
        return (uint32_t)cube_level[i / 36] << 16 | (uint32_t)cube_level[i / 6 % 6] << 8 |
               (uint32_t)cube_level[i % 6];
    }
    uint32_t g = (uint32_t)(8 + 10 * (i - 232));
    return g << 16 | g << 8 | g;
}

static long distance2(uint32_t a, uint32_t b)
{
    long dr = red_of(a) - red_of(b), dg = green_of(a) - green_of(b), db = blue_of(a) - blue_of(b);
    return dr * dr + dg * dg + db * db;
}

int sr_color_nearest_256(uint32_t rgb)
{
    int best = 16;
    long best_d = -1;
    for (int i = 16; i < 256; i++) {
        long d = distance2(rgb, xterm_rgb(i));
        if (best_d < 0 || d < best_d) {
            best_d = d;
            best = i;
        }
    }
    return best;
}

int sr_color_nearest_basic(uint32_t rgb, int n_colors)
{
    int r = red_of(rgb), g = green_of(rgb), b = blue_of(rgb);
    int max = r > g ? (r > b ? r : b) : (g > b ? g : b);
    int min = r < g ? (r < b ? r : b) : (g < b ? g : b);
    int chroma = max - min;
    bool sixteen = n_colors >= 16;
    if (chroma < 0x20 || chroma * 4 < max) {
        /* a grey: by lightness, among black, (bright black, white,) white */
        int mean = (r + g + b) / 3;
        if (!sixteen)
            return mean < 0x73 ? COLOR_BLACK : COLOR_WHITE;
        if (mean < 0x40)
            return COLOR_BLACK;
        if (mean < 0xb2)
            return COLOR_BLACK + 8;
        return mean < 0xf2 ? COLOR_WHITE : COLOR_WHITE + 8;
    }
    if (max < 0x30)
        return COLOR_BLACK;
    int h; /* hue in degrees */
    if (max == r)
        h = 60 * (g - b) / chroma;
    else if (max == g)
        h = 120 + 60 * (b - r) / chroma;
    else
        h = 240 + 60 * (r - g) / chroma;
    if (h < 0)
        h += 360;
    static const int sector[6] = {COLOR_RED,  COLOR_YELLOW, COLOR_GREEN,
                                  COLOR_CYAN, COLOR_BLUE,   COLOR_MAGENTA};
    int c = sector[(h + 30) / 60 % 6];
    return sixteen && max > 0xe6 ? c + 8 : c;
}

/* Parses one COLOUR (see the top of this file). */
static bool colour_parse(const char *s, struct colour *out)
{
    if (strcasecmp(s, "default") == 0) {
        *out = (struct colour){COL_DEFAULT, 0};
        return true;
    }
    if (s[0] == '#') {
        if (strlen(s) != 7 || strspn(s + 1, "0123456789abcdefABCDEF") != 6)
            return false;
        *out = (struct colour){COL_RGB, (uint32_t)strtoul(s + 1, NULL, 16)};
        return true;
    }
    size_t pre = strncasecmp(s, "colour", 6) == 0 ? 6 : strncasecmp(s, "color", 5) == 0 ? 5 : 0;
    if (pre) {
        const char *d = s + pre;
        size_t n = strspn(d, "0123456789");
        if (n == 0 || n > 3 || d[n])
            return false;
        unsigned long v = strtoul(d, NULL, 10);
        if (v > 255)
            return false;
        *out = (struct colour){COL_INDEX, (uint32_t)v};
        return true;
    }
    uint32_t bright = 0;
    if (strncasecmp(s, "bright-", 7) == 0) {
        bright = 8;
        s += 7;
    }
    for (uint32_t i = 0; i < COUNT(basic_names); i++) {
        if (strcasecmp(s, basic_names[i]) == 0) {
            *out = (struct colour){COL_BASIC, i + bright};
            return true;
        }
    }
    return false;
}

static bool colour_eq(struct colour a, struct colour b)
{
    return a.kind == b.kind && (a.kind == COL_DEFAULT || a.v == b.v);
}

/* ---------------------------------------------------------------------- */
/* Themes                                                                  */

struct role_spec {
    struct colour fg, bg;
    attr_t attr;
    int line; /* where it was set; 0 = not set */
};

struct sr_theme {
    char name[64];
    char description[256];
    struct role_spec role[SR_ROLE_COUNT];
};

static const struct {
    const char *name;
    attr_t attr;
} attr_words[] = {
    {"bold", A_BOLD},       {"dim", A_DIM},       {"underline", A_UNDERLINE},
    {"reverse", A_REVERSE}, {"italic", A_ITALIC},
};

void sr_theme_destroy(sr_theme *t)
{
    free(t);
}

const char *sr_theme_name(const sr_theme *t)
{
    return t ? t->name : "";
}

const char *sr_theme_description(const sr_theme *t)
{
    return t ? t->description : "";
}

struct loader {
    sr_theme *t;
    char file[256]; /* sanitised, for messages */
    int lineno;     /* of the line being read */
    bool oom;

    int section_line;                           /* of [theme]; 0 = not seen yet */
    enum { IN_NONE, IN_THEME, IN_OTHER } where; /* where keys go; IN_OTHER: ignored */
    int name_line, desc_line;

    struct {
        int line;
        char msg[640];
    } errs[MAX_ERRORS];
    int n_errors; /* also those not kept */
};

/* Records an error at line (0: about the whole file). */
static void add_error(struct loader *l, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_error(struct loader *l, int line, const char *fmt, ...)
{
    if (l->n_errors < MAX_ERRORS) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(l->errs[l->n_errors].msg, sizeof l->errs[l->n_errors].msg, fmt, ap);
        va_end(ap);
        l->errs[l->n_errors].line = line;
    }
    l->n_errors++;
}

/* Writes the errors into err, sorted by line, one "FILE:LINE: message" a
 * line, as many whole ones as fit, then how many were left out. */
static void write_errors(struct loader *l, char *err, size_t errlen)
{
    if (!err || errlen == 0)
        return;
    err[0] = '\0';
    int kept = l->n_errors < MAX_ERRORS ? l->n_errors : MAX_ERRORS;
    int order[MAX_ERRORS];
    for (int i = 0; i < kept; i++) {
        int k = i;
        while (k > 0 && l->errs[order[k - 1]].line > l->errs[i].line) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = i;
    }
    size_t used = 0;
    int shown = 0;
    for (int i = 0; i < kept; i++) {
        char one[1024];
        const int line = l->errs[order[i]].line;
        const char *msg = l->errs[order[i]].msg;
        if (line > 0)
            snprintf(one, sizeof one, "%s:%d: %s", l->file, line, msg);
        else
            snprintf(one, sizeof one, "%s: %s", l->file, msg);
        size_t n = strlen(one) + (shown ? 1 : 0);
        if (shown && used + n + 32 >= errlen)
            break; /* keep room for the count */
        used += (size_t)snprintf(err + used, errlen - used, "%s%s", shown ? "\n" : "", one);
        if (used >= errlen)
            used = errlen - 1;
        shown++;
    }
    int more = l->n_errors - shown;
    if (more > 0 && used + 32 < errlen)
        snprintf(err + used, errlen - used, "\n(%d more error%s)", more, more == 1 ? "" : "s");
}

/* Parses the words of a role's value (buf, cut up) into spec; reports the
 * first problem. */
static void role_words(struct loader *l, sr_role r, char *buf, struct role_spec *spec)
{
    const char *role = builtin[r].name;
    char q[SR_QUOTE_SIZE];
    bool have_fg = false, have_bg = false, any = false;
    char *save = NULL;
    for (char *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        any = true;
        bool is_fg = strncasecmp(w, "fg=", 3) == 0, is_bg = strncasecmp(w, "bg=", 3) == 0;
        if (is_fg || is_bg) {
            const char *which = is_fg ? "fg" : "bg";
            if (is_fg ? have_fg : have_bg) {
                add_error(l, l->lineno, "%s is set twice for role '%s', expected it at most once",
                          which, role);
                return;
            }
            struct colour c;
            if (!colour_parse(w + 3, &c)) {
                const char *cands[COUNT(basic_names) * 2 + 1];
                char bright[COUNT(basic_names)][16];
                size_t n = 0;
                for (size_t i = 0; i < COUNT(basic_names); i++) {
                    snprintf(bright[i], sizeof bright[i], "bright-%s", basic_names[i]);
                    cands[n++] = basic_names[i];
                    cands[n++] = bright[i];
                }
                cands[n++] = "default";
                const char *best = w[3] && w[3] != '#' ? sr_nearest(w + 3, cands, n) : NULL;
                char hint[64] = "";
                if (best)
                    snprintf(hint, sizeof hint, "; did you mean '%s'?", best);
                add_error(l, l->lineno,
                          "bad colour '%s' for %s in role '%s', expected #rrggbb, color0 to "
                          "color255, default, or a name: black, red, green, yellow, blue, "
                          "magenta, cyan, white, bright-NAME%s",
                          sr_text_quote(w + 3, q, sizeof q), which, role, hint);
                return;
            }
            if (is_fg) {
                spec->fg = c;
                have_fg = true;
            } else {
                spec->bg = c;
                have_bg = true;
            }
            continue;
        }
        if (strcasecmp(w, "fg") == 0 || strcasecmp(w, "bg") == 0 || strcmp(w, "=") == 0 ||
            w[0] == '=') {
            add_error(l, l->lineno,
                      "blank around '=' in role '%s', expected fg=COLOUR and bg=COLOUR as one "
                      "word each",
                      role);
            return;
        }
        size_t i = 0;
        while (i < COUNT(attr_words) && strcasecmp(w, attr_words[i].name) != 0)
            i++;
        if (i == COUNT(attr_words)) {
            const char *cands[COUNT(attr_words)];
            for (size_t k = 0; k < COUNT(attr_words); k++)
                cands[k] = attr_words[k].name;
            const char *best = sr_nearest(w, cands, COUNT(cands));
            char hint[64] = "";
            if (best)
                snprintf(hint, sizeof hint, "; did you mean '%s'?", best);
            add_error(l, l->lineno,
                      "bad attribute '%s' in role '%s', expected fg=COLOUR, bg=COLOUR or one of "
                      "bold, dim, underline, reverse, italic%s",
                      sr_text_quote(w, q, sizeof q), role, hint);
            return;
        }
        spec->attr |= attr_words[i].attr;
    }
    if (!any)
        add_error(l, l->lineno,
                  "role '%s' has no value, expected fg=COLOUR, bg=COLOUR and/or attributes "
                  "(bold, dim, underline, reverse, italic)",
                  role);
}

/* Parses a role's value into spec; reports the first problem. */
static void role_parse(struct loader *l, sr_role r, const char *value, struct role_spec *spec)
{
    char *buf = strdup(value);
    if (!buf) {
        l->oom = true;
        return;
    }
    role_words(l, r, buf, spec);
    free(buf);
}

/* Copies a text value (name, description), sanitised. */
static void set_text(struct loader *l, const char *key, const char *value, char *dst, size_t len,
                     int *line)
{
    if (*line) {
        add_error(l, l->lineno, "duplicate key '%s' in [theme], first set at line %d", key, *line);
        return;
    }
    *line = l->lineno;
    sr_text_clean(value, dst, len);
}

/* One key = value inside the file. */
static void on_key(struct loader *l, const char *key, const char *value)
{
    char q[SR_QUOTE_SIZE];
    if (l->where == IN_NONE) {
        add_error(l, l->lineno, "'%s' is outside [theme], expected the [theme] header before it",
                  sr_text_quote(key, q, sizeof q));
        return;
    }
    if (l->where == IN_OTHER)
        return; /* in a section whose header was reported */
    if (!*key) {
        add_error(l, l->lineno, "no role before '=', expected ROLE = VALUE");
        return;
    }
    if (strcmp(key, "name") == 0) {
        set_text(l, key, value, l->t->name, sizeof l->t->name, &l->name_line);
        if (!*value)
            add_error(l, l->lineno, "name is empty, expected name = NAME (such as the file's)");
        return;
    }
    if (strcmp(key, "description") == 0) {
        set_text(l, key, value, l->t->description, sizeof l->t->description, &l->desc_line);
        return;
    }
    for (int r = 0; r < SR_ROLE_COUNT; r++) {
        if (strcmp(key, builtin[r].name) != 0)
            continue;
        struct role_spec *spec = &l->t->role[r];
        if (spec->line) {
            add_error(l, l->lineno, "duplicate role '%s', first set at line %d", key, spec->line);
            return;
        }
        *spec = (struct role_spec){.fg = {COL_DEFAULT, 0}, .bg = {COL_DEFAULT, 0}};
        spec->line = l->lineno;
        role_parse(l, (sr_role)r, value, spec);
        return;
    }
    const char *cands[SR_ROLE_COUNT + 2];
    size_t n = 0;
    cands[n++] = "name";
    cands[n++] = "description";
    for (int r = 0; r < SR_ROLE_COUNT; r++)
        cands[n++] = builtin[r].name;
    const char *best = sr_nearest(key, cands, n);
    if (best) {
        add_error(l, l->lineno, "unknown role '%s', did you mean '%s'?",
                  sr_text_quote(key, q, sizeof q), best);
        return;
    }
    char list[256];
    size_t used = 0;
    list[0] = '\0';
    for (int r = 0; r < SR_ROLE_COUNT && used < sizeof list; r++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", r ? ", " : "",
                                 builtin[r].name);
    add_error(l, l->lineno, "unknown role '%s', expected name, description or a role: %s",
              sr_text_quote(key, q, sizeof q), list);
}

/* A section header: name is what stands between '[' and ']'. */
static void on_header(struct loader *l, const char *name)
{
    char q[SR_QUOTE_SIZE];
    l->where = IN_OTHER;
    if (strcmp(name, "theme") != 0) {
        add_error(l, l->lineno, "unknown section [%s], expected [theme]",
                  sr_text_quote(name, q, sizeof q));
        return;
    }
    if (l->section_line) {
        add_error(l, l->lineno, "duplicate section [theme], first at line %d", l->section_line);
        return;
    }
    l->section_line = l->lineno;
    l->where = IN_THEME;
}

/* The reader's callback (metrics/ini.h); a mistake in the file is
 * recorded, not a failure of the call. */
static int on_line(void *ctx, const sr_ini_line *il)
{
    struct loader *l = ctx;
    char q[SR_QUOTE_SIZE];
    l->lineno = il->line;
    switch (il->kind) {
    case SR_INI_SECTION:
        on_header(l, il->name);
        if (il->rest[0])
            add_error(l, l->lineno,
                      "unexpected text '%s' after the section header, expected a new line",
                      sr_text_quote(il->rest, q, sizeof q));
        break;
    case SR_INI_KEY:
        on_key(l, il->name, il->value);
        break;
    case SR_INI_CONTINUATION:
        add_error(l, l->lineno, "%s", SR_INI_CONTINUATION_ERROR);
        break;
    case SR_INI_BAD_SECTION:
        add_error(l, l->lineno, "expected a section header [theme], got '%s' (no closing ']')",
                  sr_text_quote(il->text, q, sizeof q));
        l->where = IN_OTHER;
        break;
    case SR_INI_BAD_KEY:
        add_error(l, l->lineno, "expected ROLE = VALUE, got '%s'",
                  sr_text_quote(il->text, q, sizeof q));
        break;
    case SR_INI_NUL:
        add_error(l, l->lineno, "%s", SR_INI_NUL_ERROR);
        break;
    }
    return l->oom ? SR_ENOMEM : 0;
}

int sr_theme_parse(const char *file, const char *text, size_t len, sr_theme **out, char *err,
                   size_t errlen)
{
    if (out)
        *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!file || !text || !out)
        return SR_EINVAL;
    sr_theme *t = calloc(1, sizeof *t);
    if (!t)
        return SR_ENOMEM;
    struct loader *l = calloc(1, sizeof *l);
    if (!l) {
        free(t);
        return SR_ENOMEM;
    }
    *l = (struct loader){.t = t};
    sr_text_clean(file, l->file, sizeof l->file);

    if (sr_ini_read(text, len, on_line, l) == SR_ENOMEM) {
        free(l);
        free(t);
        return SR_ENOMEM;
    }

    if (!l->section_line) {
        add_error(l, 1,
                  "no [theme] section, expected [theme] followed by name, description and "
                  "one line per role");
    } else {
        if (!l->name_line)
            add_error(l, l->section_line, "missing 'name' in [theme], expected name = NAME");
        char list[256];
        size_t used = 0;
        int missing = 0, first = 0;
        list[0] = '\0';
        for (int r = 0; r < SR_ROLE_COUNT && used < sizeof list; r++) {
            if (t->role[r].line)
                continue;
            if (!missing)
                first = r;
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", missing ? ", " : "",
                                     builtin[r].name);
            missing++;
        }
        if (missing)
            add_error(l, l->section_line,
                      "missing role%s %s in [theme], expected one line per role, such as %s = "
                      "fg=COLOUR bg=COLOUR ATTRIBUTES",
                      missing > 1 ? "s" : "", list, builtin[first].name);
    }
    int n_errors = l->n_errors;
    write_errors(l, err, errlen);
    free(l);
    if (n_errors) {
        free(t);
        return SR_EINVAL;
    }
    *out = t;
    return 0;
}

/* Reads a whole file (at most THEME_MAX_BYTES). *text: caller frees. */
static int read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    char q[512];
    sr_text_clean(path, q, sizeof q);
    /* never through a symlink: a theme named by a user is theirs to read */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        snprintf(err, errlen, "%s: cannot open: %s", q, strerror(e));
        return e == ENOENT ? SR_ENOENT : SR_EIO;
    }
    char *buf = malloc(THEME_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        return SR_ENOMEM;
    }
    size_t n = fread(buf, 1, THEME_MAX_BYTES + 1, f);
    int e = ferror(f) ? errno : 0;
    fclose(f);
    if (e) {
        snprintf(err, errlen, "%s: cannot read: %s", q, strerror(e));
        free(buf);
        return SR_EIO;
    }
    if (n > THEME_MAX_BYTES) {
        snprintf(err, errlen, "%s: too large, expected a theme file of at most %d KiB", q,
                 THEME_MAX_BYTES / 1024);
        free(buf);
        return SR_EINVAL;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Writes why name was not found in dirs: where it was looked for, and the
 * closest theme there or else the themes there, in order. */
static void not_found(const char *name, const char *const *dirs, char *err, size_t errlen)
{
    enum { MAX_LISTED = 32 };
    char q[SR_QUOTE_SIZE], where[512] = "", stems[MAX_LISTED][64];
    const char *sorted[MAX_LISTED];
    size_t wused = 0, n = 0;
    for (size_t i = 0; dirs && dirs[i]; i++) {
        char d[256];
        sr_text_clean(dirs[i], d, sizeof d);
        if (wused < sizeof where)
            wused +=
                (size_t)snprintf(where + wused, sizeof where - wused, "%s%s", i ? ", " : "", d);
        DIR *dir = opendir(dirs[i]);
        if (!dir)
            continue;
        struct dirent *e;
        while ((e = readdir(dir)) && n < MAX_LISTED) {
            size_t len = strlen(e->d_name);
            if (e->d_name[0] == '.' || !ends_with(e->d_name, ".ini") || len - 4 >= 64)
                continue;
            char stem[64];
            snprintf(stem, sizeof stem, "%.*s", (int)(len - 4), e->d_name);
            sr_text_clean(stem, stems[n], sizeof stems[n]);
            bool dup = false;
            for (size_t k = 0; k < n && !dup; k++)
                dup = strcmp(stems[k], stems[n]) == 0;
            if (!dup) {
                sorted[n] = stems[n];
                n++;
            }
        }
        closedir(dir);
    }
    qsort(sorted, n, sizeof *sorted, cmp_str);
    const char *best = sr_nearest(name, sorted, n);
    char names[512] = "";
    size_t nused = 0;
    for (size_t i = 0; i < n && nused < sizeof names; i++)
        nused +=
            (size_t)snprintf(names + nused, sizeof names - nused, "%s%s", i ? ", " : "", sorted[i]);
    sr_text_quote(name, q, sizeof q);
    if (!wused)
        snprintf(err, errlen, "theme '%s' not found: no theme directory given", q);
    else if (best)
        snprintf(err, errlen, "theme '%s' not found in %s; did you mean '%s'?", q, where, best);
    else if (n)
        snprintf(err, errlen, "theme '%s' not found in %s, expected one of %s", q, where, names);
    else
        snprintf(err, errlen, "theme '%s' not found in %s (no *.ini there)", q, where);
}

int sr_theme_load(const char *name_or_path, const char *const *dirs, sr_theme **out, char *err,
                  size_t errlen)
{
    char dummy[1];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    if (out)
        *out = NULL;
    if (!out || !name_or_path || !*name_or_path) {
        snprintf(err, errlen, "no theme given, expected a name or a path");
        return SR_EINVAL;
    }
    char *text = NULL, *path = NULL;
    size_t len = 0;
    int rc = SR_ENOENT;
    if (strchr(name_or_path, '/')) {
        path = strdup(name_or_path);
        if (!path)
            return SR_ENOMEM;
        rc = read_file(path, &text, &len, err, errlen);
    } else {
        const char *ext = ends_with(name_or_path, ".ini") ? "" : ".ini";
        for (size_t i = 0; dirs && dirs[i] && rc == SR_ENOENT; i++) {
            size_t n = strlen(dirs[i]) + 1 + strlen(name_or_path) + strlen(ext) + 1;
            free(path);
            path = malloc(n);
            if (!path)
                return SR_ENOMEM;
            snprintf(path, n, "%s/%s%s", dirs[i], name_or_path, ext);
            rc = read_file(path, &text, &len, err, errlen);
        }
        if (rc == SR_ENOENT)
            not_found(name_or_path, dirs, err, errlen);
    }
    if (rc == 0) {
        rc = sr_theme_parse(path, text, len, out, err, errlen);
        if (rc == SR_ENOMEM)
            snprintf(err, errlen, "out of memory");
    }
    free(text);
    free(path);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Applying a theme to the screen                                          */

enum mode {
    MODE_NONE,    /* attributes only */
    MODE_8,       /* by hue among the 8 basic colours */
    MODE_16,      /* by hue and lightness among 16 */
    MODE_256,     /* nearest of the xterm cube and grey ramp */
    MODE_PALETTE, /* 256, with slots redefined to the exact RGB */
    MODE_DIRECT,  /* the RGB value is the colour number */
};

/* The palette slots in use, for MODE_PALETTE. */
struct palette {
    bool taken[256];   /* used by the theme as they are */
    bool defined[256]; /* redefined by us, to rgb[i] */
    uint32_t rgb[256];
    int next; /* the next slot to try, downwards */
};

/* An RGB value as a direct colour number. Direct-colour terminfo entries
 * treat small numbers as palette indexes (below 8, 16 or 256 depending on
 * the entry), so a colour below 256 (a dark blue or black) gets a green of
 * 1, an invisible change that keeps it an RGB value. */
static int direct(uint32_t rgb)
{
    return (int)(rgb < 256 ? rgb | 0x100 : rgb);
}

/* 0-255 to ncurses' 0-1000. */
static short scale1000(int c)
{
    return (short)((c * 1000 + 127) / 255);
}

/* The palette slot showing rgb exactly, defining one if needed; the
 * nearest palette colour when that fails. */
static int palette_slot(struct palette *p, uint32_t rgb)
{
    int near = sr_color_nearest_256(rgb);
    if (xterm_rgb(near) == rgb)
        return near;
    for (int i = 16; i < 256; i++) {
        if (p->defined[i] && p->rgb[i] == rgb)
            return i;
    }
    while (p->next >= 16 && (p->taken[p->next] || p->defined[p->next]))
        p->next--;
    if (p->next < 16)
        return near;
    int slot = p->next--;
    if (init_extended_color(slot, scale1000(red_of(rgb)), scale1000(green_of(rgb)),
                            scale1000(blue_of(rgb))) != OK)
        return near;
    p->defined[slot] = true;
    p->rgb[slot] = rgb;
    return slot;
}

/* Marks what the theme uses as it is, before any slot is redefined. */
static void palette_reserve(struct palette *p, struct colour c)
{
    if (c.kind == COL_BASIC || c.kind == COL_INDEX)
        p->taken[c.v] = true;
    else if (c.kind == COL_RGB && xterm_rgb(sr_color_nearest_256(c.v)) == c.v)
        p->taken[sr_color_nearest_256(c.v)] = true;
}

/* The colour number for c in mode m; -1 is the terminal's own colour. */
static int resolve(struct colour c, bool is_bg, enum mode m, bool defaults, struct palette *p)
{
    switch (c.kind) {
    case COL_DEFAULT:
        if (defaults)
            return -1;
        return is_bg ? COLOR_BLACK : COLOR_WHITE;
    case COL_BASIC:
        if (m == MODE_8)
            return (int)(c.v & 7);
        if (m == MODE_DIRECT && c.v >= 8)
            return direct(system16[c.v]);
        return (int)c.v;
    case COL_INDEX:
        if (c.v < 8 || m == MODE_256 || m == MODE_PALETTE || (m == MODE_16 && c.v < 16))
            return (int)c.v;
        if (m == MODE_8 && c.v < 16)
            return (int)c.v - 8;
        if (m == MODE_DIRECT)
            return direct(xterm_rgb((int)c.v));
        return sr_color_nearest_basic(xterm_rgb((int)c.v), m == MODE_16 ? 16 : 8);
    case COL_RGB:
        switch (m) {
        case MODE_DIRECT:
            return direct(c.v);
        case MODE_PALETTE:
            return palette_slot(p, c.v);
        case MODE_256:
            return sr_color_nearest_256(c.v);
        case MODE_16:
            return sr_color_nearest_basic(c.v, 16);
        case MODE_8:
        case MODE_NONE:
            break;
        }
        return sr_color_nearest_basic(c.v, 8);
    }
    return -1;
}

void sr_theme_apply(const sr_theme *t, int colors, bool can_change, bool no_color)
{
    if (!t) {
        sr_theme_init_default(!no_color && (colors >= 8 || colors < 0));
        return;
    }
    enum mode m = MODE_NONE;
    bool defaults = false;
    if (!no_color && (colors >= 8 || colors < 0) && has_colors() && start_color() == OK) {
        /* COLORS is known only now, after start_color() */
        if (colors < 0 || colors > COLORS)
            colors = COLORS;
        defaults = use_default_colors() == OK;
        if (colors > 256)
            m = MODE_DIRECT;
        else if (colors >= 256)
            m = can_change ? MODE_PALETTE : MODE_256;
        else if (colors >= 16)
            m = MODE_16;
        else if (colors >= 8)
            m = MODE_8;
    }
    struct palette p = {.next = 255};
    if (m == MODE_PALETTE) {
        for (int r = 0; r < SR_ROLE_COUNT; r++) {
            palette_reserve(&p, t->role[r].fg);
            palette_reserve(&p, t->role[r].bg);
        }
    }
    const struct colour normal_bg = t->role[SR_ROLE_NORMAL].bg;
    for (int r = 0; r < SR_ROLE_COUNT; r++) {
        const struct role_spec *s = &t->role[r];
        role_attrs[r] = s->attr;
        if (m != MODE_NONE) {
            int fg = resolve(s->fg, false, m, defaults, &p);
            int bg = resolve(s->bg, true, m, defaults, &p);
            if (init_extended_pair(r + 1, fg, bg) == OK) {
                role_attrs[r] |= COLOR_PAIR(r + 1);
                continue;
            }
        }
        /* no colour: a bar or a highlight keeps standing out */
        if (s->bg.kind != COL_DEFAULT && !colour_eq(s->bg, normal_bg))
            role_attrs[r] |= A_REVERSE;
    }
}
