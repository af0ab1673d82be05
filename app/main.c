/*
 * main.c - the command line: one table of commands, each a function with its
 * own options (app/cmd_*.c, what they share in cmd.h); `sitrep --help`,
 * `sitrep CMD --help`, the completion and the manual pages' tables are
 * generated from the same tables.
 *
 * Exit codes (SR_EXIT_*): 0 success; 1 a runtime failure (cache, file,
 * source); 2 a usage or configuration error; 3 `ingest` finished but
 * rejected rows (they are kept in the cache: `sitrep rejects`).
 *
 * app/ is the only layer that wires the others together: config -> store,
 * registry -> collector, store + catalog -> query.
 */
#include "cmd.h"

#ifndef SITREP_VERSION
#error "SITREP_VERSION comes from the VERSION file (the Makefile passes it)"
#endif

/* ---- the table ---- */

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);
static int cmd_completion(int argc, char **argv);

static const opt_spec no_opts[] = {{NULL, NULL, NULL}};
static const opt_spec help_opts[] = {
    {"--format", "FMT",
     "text (the default) or man: roff, the parts of the manual pages "
     "generated from these tables (make man)"},
    {NULL, NULL, NULL},
};

static const command commands[] = {
    {"dashboard", cmd_dashboard, "[--config FILE] [--theme NAME] [--at TIME] [--wall]",
     "the dashboard, collecting in the same process unless another sitrep collects into the "
     "cache (then a viewer); what plain 'sitrep' runs",
     dashboard_opts},
    {"collect", cmd_collect, "[--config FILE] [--once] [--log FILE]",
     "poll every configured source and write the cache (headless; Ctrl-C or SIGTERM "
     "stops, SIGHUP reloads the config; refused while another sitrep collects into the cache)",
     collect_opts},
    {"ingest", cmd_ingest, "[--config FILE] FILE.csv...",
     "bulk-load samples (header metric,entity,ts,value[,key]); prints "
     "'FILE: N accepted, N duplicates, N rejected'",
     ingest_opts},
    {"query", cmd_query,
     "METRIC [--entity PATH] [--agg AGG] [--window DUR] [--at TIME|latest | --from T --to T] [--by "
     "children] "
     "[--format text|csv|json]",
     "aggregate a metric over a window, for scripts", query_opts},
    {"snapshot", cmd_snapshot,
     "--format text|json|csv|markdown [--width COLS --height ROWS --page NAME] [--at TIME] "
     "[--shift DUR] [--config FILE]",
     "one frame of the screen as text; every panel's value as JSON or CSV; the shift report as "
     "Markdown",
     snapshot_opts},
    {"check-config", cmd_check_config, "[--config FILE]",
     "validate the configuration; every error as FILE:LINE: message", check_opts},
    {"check-cache", cmd_check_cache, "[--config FILE]",
     "check the cache file's structure (SQLite's quick_check, read-only); exit status 1 "
     "when it is damaged",
     check_cache_opts},
    {"sources", cmd_sources, "[--config FILE] [--format text|json]",
     "every source: type, state (live, late, failing), last success, next poll, rows "
     "accepted, duplicate, rejected, last error",
     sources_opts},
    {"rejects", cmd_rejects, "[--source NAME] [--limit N]",
     "rows that could not become samples, with their reasons", rejects_opts},
    {"whoami", cmd_whoami, "[--config FILE]",
     "your user, groups and role, and what the role allows", whoami_opts},
    {"audit", cmd_audit, "[--since TIME] [--format text|json] [--config FILE]",
     "the audit table: views of personal data and acknowledgements, who, when, from where",
     audit_opts},
    {"alerts", cmd_alerts, "[--format text|json] [--config FILE]",
     "the open alerts: severity, key, state, value and threshold, when raised, who "
     "acknowledged them and why",
     alerts_opts},
    {"ack", cmd_ack, "KEY [--note TEXT] [--config FILE]",
     "acknowledge an alert as you (roles with acknowledge = yes; audited)", ack_opts},
    {"silence", cmd_silence, "KEY --for DUR [--note TEXT] [--config FILE]",
     "silence an alert for a time (roles with acknowledge = yes; audited)", silence_opts},
    {"help", cmd_help, "[COMMAND | config | keys | exit-status] [--format text|man]",
     "this help, a command's, every configuration key ('sitrep help config'), the dashboard's "
     "keys or the exit codes",
     help_opts},
    {"version", cmd_version, "", "print the version", no_opts},
    {"completion", cmd_completion, "bash",
     "print the bash completion script, generated from these tables (make install puts it in "
     "BASHCOMPDIR)",
     no_opts},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

const command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    }
    return NULL;
}

void usage_command(FILE *f, const command *c)
{
    fprintf(f, "Usage: sitrep %s %s\n\n%s\n", c->name, c->args, c->summary);
    if (c->opts && c->opts[0].name) {
        fprintf(f, "\nOptions:\n");
        for (int k = 0; c->opts[k].name; k++) {
            char left[64];
            snprintf(left, sizeof left, "%s%s%s", c->opts[k].name, c->opts[k].arg ? " " : "",
                     c->opts[k].arg ? c->opts[k].arg : "");
            fprintf(f, "  %-22s %s\n", left, c->opts[k].help);
        }
    }
}

/* The exit codes, for `sitrep --help` and sitrep(1). */
static const struct {
    int code;
    const char *what;
} exit_codes[] = {
    {SR_EXIT_OK, "success"},
    {SR_EXIT_FAIL, "a runtime failure (cache, file, source)"},
    {SR_EXIT_USAGE, "a usage or configuration error (messages name FILE:LINE)"},
    {SR_EXIT_REJECTS, "ingest finished but rejected some rows (see 'sitrep rejects')"},
};

static void exit_status_text(FILE *f)
{
    for (size_t i = 0; i < sizeof exit_codes / sizeof exit_codes[0]; i++)
        fprintf(f, "  %d  %s\n", exit_codes[i].code, exit_codes[i].what);
}

static void keys_text(FILE *f)
{
    size_t n;
    const sr_key_help *kh = sr_screen_key_help(&n);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-14s %s\n", kh[i].keys, kh[i].what);
}

static void usage(FILE *f)
{
    fprintf(f,
            "sitrep %s - a terminal dashboard for police operational KPIs\n\n"
            "Usage: sitrep COMMAND [OPTIONS]\n\nCommands:\n",
            SITREP_VERSION);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(
        f, "\nThe configuration is --config FILE, else the first that exists of ./config.ini,\n"
           "$XDG_CONFIG_HOME/sitrep/config.ini (~/.config/sitrep/config.ini) and\n" SR_SYSTEM_CONFIG
           ". 'sitrep COMMAND --help' shows a command's options.\n\n"
           "Exit codes:\n");
    exit_status_text(f);
    fprintf(f, "\nKeys in the dashboard:\n");
    keys_text(f);
}

/* ---- the same tables as roff, for the manual pages (`make man`) ---- */

/* A command as a subsection of sitrep(1): synopsis, summary, options. */
static void command_man(FILE *f, const command *c)
{
    char name[64];
    snprintf(name, sizeof name, "sitrep %s", c->name);
    sr_roff_heading(f, 2, name);
    fputs(".PP\n", f);
    sr_roff_line(f, name, c->args);
    sr_roff_para(f, c->summary);
    for (int k = 0; c->opts && c->opts[k].name; k++)
        sr_roff_item(f, c->opts[k].name, c->opts[k].arg, c->opts[k].help);
}

static void exit_status_man(FILE *f)
{
    for (size_t i = 0; i < sizeof exit_codes / sizeof exit_codes[0]; i++) {
        char code[16];
        snprintf(code, sizeof code, "%d", exit_codes[i].code);
        sr_roff_item(f, code, NULL, exit_codes[i].what);
    }
}

static void keys_man(FILE *f)
{
    size_t n;
    const sr_key_help *kh = sr_screen_key_help(&n);
    for (size_t i = 0; i < n; i++)
        sr_roff_item(f, kh[i].keys, NULL, kh[i].what);
}

/*
 * The configuration reference, generated from config.c's option tables and
 * the adapters' option specs, as text (`sitrep help config`) or as roff
 * (sitrep.conf(5)): one walk over the tables, two writers.
 */
typedef struct {
    void (*section)(FILE *f, const sr_cfg_section_spec *sec);
    /* takes: what the key takes and its default, "duration (default 5s)" */
    void (*option)(FILE *f, const char *name, const char *takes, const char *help);
    /* what: the type's description; opts: its own keys, NULL-terminated */
    void (*adapter_type)(FILE *f, const char *type, const char *what,
                         const sr_ad_option_spec *opts);
    void (*section_end)(FILE *f);
} config_writer;

/* The column width of an adapter type's keys: its longest, at least 10. */
static int key_width(const sr_ad_option_spec *o)
{
    size_t w = 10;
    for (; o && o->key; o++)
        w = strlen(o->key) > w ? strlen(o->key) : w;
    return (int)w;
}

static void section_text(FILE *f, const sr_cfg_section_spec *sec)
{
    fprintf(f, "%s\n    %s\n", sec->header, sec->help);
}

static void option_text(FILE *f, const char *name, const char *takes, const char *help)
{
    fprintf(f, "  %-12s %s\n", name, takes);
    fprintf(f, "  %-12s %s\n", "", help);
}

static void adapter_type_text(FILE *f, const char *type, const char *what,
                              const sr_ad_option_spec *opts)
{
    fprintf(f, "  type = %s: %s:\n", type, what);
    int w = key_width(opts);
    for (const sr_ad_option_spec *o = opts; o && o->key; o++)
        fprintf(f, "    %-*s %s%s\n", w, o->key, o->help, o->required ? " (required)" : "");
}

static void section_end_text(FILE *f)
{
    fprintf(f, "\n");
}

static const config_writer config_text = {
    .section = section_text,
    .option = option_text,
    .adapter_type = adapter_type_text,
    .section_end = section_end_text,
};

static void section_man(FILE *f, const sr_cfg_section_spec *sec)
{
    sr_roff_heading(f, 2, sec->header);
    sr_roff_para(f, sec->help);
}

static void option_man(FILE *f, const char *name, const char *takes, const char *help)
{
    sr_roff_item(f, name, takes, help);
}

static void adapter_type_man(FILE *f, const char *type, const char *what,
                             const sr_ad_option_spec *opts)
{
    char tag[64];
    snprintf(tag, sizeof tag, "type = %s", type);
    sr_roff_item(f, tag, NULL, what);
    fputs(".RS\n", f);
    for (const sr_ad_option_spec *o = opts; o && o->key; o++) {
        char help[1024];
        snprintf(help, sizeof help, "%s%s", o->help, o->required ? " (required)" : "");
        sr_roff_item(f, o->key, NULL, help);
    }
    fputs(".RE\n", f);
}

static void section_end_man(FILE *f)
{
    (void)f;
}

static const config_writer config_man = {
    .section = section_man,
    .option = option_man,
    .adapter_type = adapter_type_man,
    .section_end = section_end_man,
};

static void help_config(FILE *f, const config_writer *w)
{
    for (size_t i = 0; i < sr_cfg_section_count(); i++) {
        const sr_cfg_section_spec *sec = sr_cfg_section_at(i);
        w->section(f, sec);
        for (size_t k = 0; k < sec->n_options; k++) {
            const sr_cfg_option *o = sr_cfg_option_at(sec, k);
            char type[96], def[160] = "";
            sr_cfg_option_type_text(o, type, sizeof type);
            if (o->flags & SR_OPT_REQUIRED)
                snprintf(def, sizeof def, "required");
            else if (o->flags & SR_OPT_RATIO_REQUIRED)
                snprintf(def, sizeof def, "required for a ratio");
            else if (o->def && *o->def)
                snprintf(def, sizeof def, "default %s", o->def);
            char takes[300];
            snprintf(takes, sizeof takes, "%s%s%s%s", type, def[0] ? " (" : "", def,
                     def[0] ? ")" : "");
            w->option(f, o->name, takes, o->help);
        }
        if (strcmp(sec->kind, "adapter") == 0) {
            for (size_t a = 0; a < sr_registry_count(); a++) {
                const sr_adapter *ad = sr_registry_at(a);
                char what[512];
                snprintf(what, sizeof what, "%s; its own keys", ad->description);
                w->adapter_type(f, ad->type, what, ad->options);
            }
            w->adapter_type(f, SR_PLUGIN_TYPE,
                            "an adapter loaded at run time; its own keys, and the plugin's",
                            sr_plugin_keys);
        }
        w->section_end(f);
    }
}

static void config_help_text(FILE *f)
{
    help_config(f, &config_text);
}

static void config_help_man(FILE *f)
{
    help_config(f, &config_man);
}

/* The topics of `sitrep help TOPIC` besides the commands; the completion
 * offers the same. */
typedef struct {
    const char *name;
    void (*text)(FILE *f);
    void (*man)(FILE *f);
} help_topic;

static const help_topic help_topics[] = {
    {"config", config_help_text, config_help_man},
    {"keys", keys_text, keys_man},
    {"exit-status", exit_status_text, exit_status_man},
};

static int cmd_help(int argc, char **argv)
{
    const command *self = find_command("help");
    parsed p;
    parse_opts(self, argc, argv, &p, 1);
    static const char *const formats[] = {"text", "man", NULL};
    bool man = strcmp(format_opt(self, &p, formats), "man") == 0;
    const char *topic = p.npos ? p.pos[0] : NULL;
    const help_topic *t = NULL;
    for (size_t i = 0; topic && i < sizeof help_topics / sizeof help_topics[0]; i++) {
        if (strcmp(topic, help_topics[i].name) == 0)
            t = &help_topics[i];
    }
    if (!topic) {
        for (size_t i = 0; man && i < N_COMMANDS; i++)
            command_man(stdout, &commands[i]);
        if (!man)
            usage(stdout);
    } else if (t) {
        (man ? t->man : t->text)(stdout);
    } else if (find_command(topic)) {
        if (man)
            command_man(stdout, find_command(topic));
        else
            usage_command(stdout, find_command(topic));
    } else {
        fprintf(stderr, "sitrep: no command '%s'\n", topic);
        return SR_EXIT_USAGE;
    }
    return SR_EXIT_OK;
}

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("sitrep %s (adapter ABI %d, cache schema %d, SQLite %s, libuv %s)\n", SITREP_VERSION,
           SR_ADAPTER_ABI, SR_STORE_SCHEMA, sr_store_sqlite_version(), uv_version_string());
    return SR_EXIT_OK;
}

/*
 * Bash completion, generated from the command table so that it cannot
 * drift: the commands after `sitrep`, each command's options, and an
 * option's value where the table says what it is (a FILE: file names; a
 * choice written a|b|c in the command's usage; a literal lower-case word
 * such as `--by children`). A command's positional FILE... completes file
 * names too; `help` completes the commands and `config`.
 */

/* Whether s is one lower-case word (a literal, not a placeholder). */
static bool literal_word(const char *s)
{
    return s[0] && strspn(s, "abcdefghijklmnopqrstuvwxyz") == strlen(s);
}

/* The values an option takes as blank-separated words into buf: the choices
 * its command's usage gives ("--format text|json"), or its literal value
 * ("--by children"); "" when it names a placeholder (DUR, NAME). */
static void opt_choices(const command *c, const opt_spec *o, char *buf, size_t len)
{
    buf[0] = 0;
    size_t nlen = strlen(o->name);
    for (const char *u = strstr(c->args, o->name); u; u = strstr(u + 1, o->name)) {
        if (u[nlen] != ' ')
            continue;
        const char *w = u + nlen + 1;
        size_t wl = strcspn(w, " ]");
        if (!memchr(w, '|', wl))
            continue;
        snprintf(buf, len, "%.*s", (int)wl, w);
        for (char *b = buf; *b; b++) {
            if (*b == '|')
                *b = ' ';
        }
        return;
    }
    if (literal_word(o->arg))
        snprintf(buf, len, "%s", o->arg);
}

/* One command's case arm: its options, what each option's value completes
 * to, and what its positional arguments complete to. */
static void completion_command(FILE *f, const command *c)
{
    fprintf(f, "    %s)\n        opts=\"--help", c->name);
    for (int k = 0; c->opts[k].name; k++)
        fprintf(f, " %s", c->opts[k].name);
    fprintf(f, "\"\n        case $prev in\n");
    for (int k = 0; c->opts[k].name; k++) {
        const opt_spec *o = &c->opts[k];
        if (!o->arg)
            continue;
        char choices[128];
        opt_choices(c, o, choices, sizeof choices);
        if (strcmp(o->arg, "FILE") == 0)
            fprintf(f, "        %s) _sitrep_files; return ;;\n", o->name);
        else if (choices[0])
            fprintf(f, "        %s) _sitrep_words \"%s\"; return ;;\n", o->name, choices);
        else
            fprintf(f, "        %s) return ;;\n", o->name);
    }
    fprintf(f, "        esac\n");
    if (c->run == cmd_help) {
        fprintf(f, "        words=\"");
        for (size_t i = 0; i < sizeof help_topics / sizeof help_topics[0]; i++)
            fprintf(f, "%s ", help_topics[i].name);
        for (size_t i = 0; i < N_COMMANDS; i++)
            fprintf(f, "%s%s", i ? " " : "", commands[i].name);
        fprintf(f, "\"\n");
    } else if (strncmp(c->args, "FILE", 4) == 0 || strstr(c->args, "] FILE")) {
        fprintf(f, "        files=1\n");
    } else if (literal_word(c->args)) {
        fprintf(f, "        words=\"%s\"\n", c->args);
    }
    fprintf(f, "        ;;\n");
}

static int cmd_completion(int argc, char **argv)
{
    const command *self = find_command("completion");
    parsed p;
    parse_opts(self, argc, argv, &p, 1);
    if (p.npos != 1 || strcmp(p.pos[0], "bash") != 0) {
        usage_error(self, "the one shell is bash: 'sitrep completion bash'");
        return SR_EXIT_USAGE;
    }
    FILE *f = stdout;
    fprintf(f,
            "# bash completion for sitrep %s, generated by 'sitrep completion bash'\n"
            "# from its command table: regenerate it, do not edit it.\n\n"
            "_sitrep_words() { COMPREPLY=($(compgen -W \"$1\" -- \"$cur\")); }\n"
            "_sitrep_files() {\n"
            "    compopt -o filenames 2>/dev/null\n"
            "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
            "}\n\n"
            "_sitrep()\n{\n"
            "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
            "    local cmd=${COMP_WORDS[1]} opts= words= files=\n"
            "    if ((COMP_CWORD == 1)) && [[ $cur != -* ]]; then\n"
            "        _sitrep_words \"",
            SITREP_VERSION);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "%s%s", i ? " " : "", commands[i].name);
    fprintf(f, "\"\n"
               "        return\n"
               "    fi\n"
               "    # plain 'sitrep --config FILE' is the dashboard\n"
               "    [[ $cmd == -* ]] && cmd=dashboard\n"
               "    case $cmd in\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        completion_command(f, &commands[i]);
    fprintf(f, "    *) return ;;\n"
               "    esac\n"
               "    if [[ $cur == -* ]]; then\n"
               "        _sitrep_words \"$opts\"\n"
               "    elif [[ -n $files ]]; then\n"
               "        _sitrep_files\n"
               "    elif [[ -n $words ]] && ((COMP_CWORD == 2)); then\n"
               "        _sitrep_words \"$words\"\n"
               "    fi\n"
               "}\n"
               "complete -F _sitrep sitrep\n");
    return SR_EXIT_OK;
}

int main(int argc, char **argv)
{
    char terr[512];
    if (sr_trust_init(terr, sizeof terr) != 0) {
        fprintf(stderr, "sitrep: %s\n", terr);
        return SR_EXIT_USAGE;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    sr_time_init();
    if (argc < 2 ||
        (argv[1][0] == '-' && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0 &&
         strcmp(argv[1], "--version") != 0 && strcmp(argv[1], "-V") != 0))
        return cmd_dashboard(argc, argv); /* plain `sitrep [--config F] [--theme T]` */
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        return cmd_help(1, argv);
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
        return cmd_version(1, argv);
    const command *c = find_command(name);
    if (!c) {
        fprintf(stderr, "sitrep: unknown command '%s'", name);
        sr_suggest sg;
        sr_suggest_init(&sg, name);
        for (size_t i = 0; i < N_COMMANDS; i++)
            sr_suggest_try(&sg, commands[i].name);
        const char *best = sr_suggest_best(&sg);
        if (best)
            fprintf(stderr, "; did you mean '%s'?", best);
        fprintf(stderr, "\nTry 'sitrep --help'.\n");
        return SR_EXIT_USAGE;
    }
    cmd_running = c->name;
    return c->run(argc - 1, argv + 1);
}
