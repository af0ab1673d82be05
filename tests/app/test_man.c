/*
 * test_man.c - the manual pages (make man): build/man/sitrep.1 and
 * sitrep.conf.5 render without a warning through groff and man, carry
 * every command of `sitrep --help` and every key of `sitrep help config`,
 * and roff's special characters in the program's help texts come out as
 * text, never as requests. Tests run from the repository's top, after
 * `make all` (which makes the pages).
 */
#include <criterion/criterion.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../../app/roff.h"
#include "../helpers.h"

static const char *const pages[] = {"build/man/sitrep.1", "build/man/sitrep.conf.5"};

/* Runs a shell command; returns its exit status and its stdout and stderr
 * together in *out (caller frees). */
static int sh(const char *cmd, char **out)
{
    char full[1024];
    snprintf(full, sizeof full, "(%s) 2>&1", cmd);
    FILE *p = popen(full, "r");
    cr_assert_not_null(p, "%s", cmd);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (n + 1 == cap)
            buf = realloc(buf, cap *= 2);
    }
    buf[n] = 0;
    int st = pclose(p);
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The page as man shows it on an 80-column terminal. */
static char *rendered(const char *page)
{
    char cmd[256], *out;
    snprintf(cmd, sizeof cmd, "MANWIDTH=80 MAN_KEEP_FORMATTING= man -l %s | col -bx", page);
    cr_assert_eq(sh(cmd, &out), 0, "%s failed:\n%s", cmd, out);
    return out;
}

Test(man, pages_render_without_warnings)
{
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        char cmd[256], *out;
        snprintf(cmd, sizeof cmd, "groff -man -ww -z %s", pages[i]);
        cr_assert_eq(sh(cmd, &out), 0, "%s: %s", cmd, out);
        cr_assert_str_empty(out, "%s warns:\n%s", cmd, out);
        free(out);
        /* man's own pipeline (preconv, tbl, the terminal device), warnings on */
        snprintf(cmd, sizeof cmd, "MANWIDTH=80 man --warnings -l %s >/dev/null", pages[i]);
        cr_assert_eq(sh(cmd, &out), 0, "%s: %s", cmd, out);
        cr_assert_str_empty(out, "%s warns:\n%s", cmd, out);
        free(out);
        snprintf(cmd, sizeof cmd, "lexgrog %s", pages[i]);
        cr_assert_eq(sh(cmd, &out), 0, "lexgrog finds no NAME in %s: %s", pages[i], out);
        cr_assert(strstr(out, " - "), "%s", out);
        free(out);
    }
}

/* Every line of `sitrep help config` that names a key ("  name  type",
 * "    key  help") names one that sitrep.conf(5) shows, in its section. */
Test(man, conf_page_has_every_key_of_help_config)
{
    char *out, *err;
    char *argv[] = {"help", "config", NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    char *page = rendered("build/man/sitrep.conf.5");
    size_t keys = 0, sections = 0;
    const char *at = page;
    char *save = NULL;
    bool section_help = false; /* the line below a header is the section's help */
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char word[128], want[160];
        if (section_help) {
            section_help = false;
            continue;
        }
        if (line[0] == '[') {
            section_help = true;
            /* a section: its header, as a subsection heading from here on */
            sscanf(line, "%127s", word);
            snprintf(want, sizeof want, "\n   %s\n", word);
            const char *h = strstr(at, want);
            cr_assert_not_null(h, "sitrep.conf(5) has no section %s after the one before", word);
            at = h;
            sections++;
        } else if (strncmp(line, "  type = ", 9) == 0) {
            sscanf(line + 9, "%127[^:]", word);
            snprintf(want, sizeof want, "type = %s\n", word);
            cr_assert_not_null(strstr(at, want), "sitrep.conf(5) lacks adapter type %s", word);
        } else if (line[0] == ' ' && line[1] == ' ' && line[2] != ' ') {
            sscanf(line, "%127s", word);
            snprintf(want, sizeof want, "\n       %s ", word);
            cr_assert_not_null(strstr(at, want), "sitrep.conf(5) lacks key %s", word);
            keys++;
        } else if (strncmp(line, "    ", 4) == 0 && line[4] != ' ') {
            sscanf(line, "%127s", word);
            snprintf(want, sizeof want, "\n              %s", word);
            cr_assert_not_null(strstr(at, want), "sitrep.conf(5) lacks adapter key %s", word);
            keys++;
        }
    }
    cr_assert_geq(sections, 8, "sections: %zu", sections);
    cr_assert_geq(keys, 100, "keys: %zu", keys);
    free(page);
    free(out);
    free(err);
}

/* Every command `sitrep --help` lists has its subsection in sitrep(1), with
 * every option of `sitrep COMMAND --help`; the keys and exit codes too. */
Test(man, sitrep_page_has_every_command_option_and_key)
{
    char *out, *err;
    char *argv[] = {"--help", NULL};
    cr_assert_eq(th_run(NULL, argv, &out, &err), 0, "%s", err);
    char *page = rendered("build/man/sitrep.1");
    const char *cmds = strstr(out, "Commands:\n");
    cr_assert_not_null(cmds);
    size_t n = 0;
    char *save = NULL;
    char *list = strdup(cmds + 10);
    for (char *line = strtok_r(list, "\n", &save); line && strncmp(line, "  ", 2) == 0;
         line = strtok_r(NULL, "\n", &save)) {
        char name[64], want[128];
        sscanf(line, "%63s", name);
        snprintf(want, sizeof want, "\n   sitrep %s\n", name);
        const char *sub = strstr(page, want);
        cr_assert_not_null(sub, "sitrep(1) has no subsection for the command %s", name);
        /* its options, within its subsection */
        char *o, *e;
        char *hargv[] = {name, "--help", NULL};
        cr_assert_eq(th_run(NULL, hargv, &o, &e), 0, "%s --help: %s", name, e);
        const char *end = strstr(sub + 1, "\n   sitrep ");
        const char *opts = strstr(o, "Options:\n");
        char *osave = NULL;
        for (char *ol = opts ? strtok_r((char *)opts + 9, "\n", &osave) : NULL; ol;
             ol = strtok_r(NULL, "\n", &osave)) {
            char opt[64], owant[96];
            sscanf(ol, "%63s", opt);
            snprintf(owant, sizeof owant, "\n       %s", opt);
            const char *found = strstr(sub, owant);
            cr_assert(found && (!end || found < end), "sitrep(1): %s lacks its option %s", name,
                      opt);
        }
        free(o);
        free(e);
        n++;
    }
    cr_assert_geq(n, 15, "commands: %zu", n);
    const char *keys = strstr(out, "Keys in the dashboard:\n");
    cr_assert_not_null(keys);
    for (char *line = strtok_r((char *)keys + 23, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char what[256];
        /* "  KEYS   what": the description, as the page fills it */
        const char *w = line + 17;
        snprintf(what, sizeof what, "%.20s", w);
        cr_assert_not_null(strstr(page, what), "sitrep(1) lacks the key line: %s", line);
    }
    cr_assert_not_null(strstr(page, "EXIT STATUS\n       0      success"), "%s", page);
    free(list);
    free(page);
    free(out);
    free(err);
}

/* roff's special characters in a help text stay text: a leading dot or
 * quote is no request, a backslash no escape, a hyphen a minus. */
Test(man, roff_text_escapes_what_roff_would_read)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sr_roff_text(f, ".TH x\n'br\na\\fB-b \"c\" \xc2\xb7 \x01");
    fclose(f);
    cr_assert_str_eq(buf, "\\&.TH x\n\\&'br\na\\efB\\-b \\(dqc\\(dq \\[u00B7] ");
    free(buf);
    /* malformed UTF-8 (an overlong '/', a lone continuation byte) is U+FFFD
     * per byte, never a character it pretends to be */
    f = open_memstream(&buf, &len);
    sr_roff_text(f, "a\xc0\xaf"
                    "b\x80");
    fclose(f);
    cr_assert_str_eq(buf, "a\\[uFFFD]\\[uFFFD]b\\[uFFFD]");
    free(buf);

    char dir[256], path[512], cmd[1024], *out;
    th_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/t.1", dir);
    f = fopen(path, "w");
    fputs(".TH T 1\n.SH NAME\nt \\- t\n", f);
    sr_roff_item(f, "--opt", "'FILE'", ".so /etc/passwd \\\" and - more");
    fclose(f);
    snprintf(cmd, sizeof cmd, "MANWIDTH=80 man -l %s | col -bx", path);
    cr_assert_eq(sh(cmd, &out), 0, "%s", out);
    cr_assert(strstr(out, "--opt 'FILE'"), "%s", out);
    cr_assert(strstr(out, ".so /etc/passwd \\\" and - more"), "%s", out);
    free(out);
    th_rmtree(dir);
}
