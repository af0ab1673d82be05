/*
 * cmd_sources.c - `sitrep sources` and `sitrep rejects`
 */
#include "cmd.h"

/* ---- sources, rejects ---- */

const opt_spec sources_opts[] = {
    {"--config", "FILE", "the configuration"},
    {"--format", "FMT", "text (a table, the default) or json"},
    {NULL, NULL, NULL},
};

/* The configured sources of cfg, for sr_sources_read (caller frees). */
static sr_source_conf *source_conf(const sr_config *cfg)
{
    sr_source_conf *c = xcalloc(cfg->n_adapters + 1, sizeof *c);
    for (size_t i = 0; i < cfg->n_adapters; i++)
        c[i] = (sr_source_conf){cfg->adapters[i].name, cfg->adapters[i].type};
    return c;
}

/* "2024-05-01 08:00:00" in tz, or "" for never. */
static void local_time(const char *tz, sr_ms t, char *buf, size_t len)
{
    sr_civil c;
    if (t <= 0 || sr_utc_to_local(tz, t, &c) != 0)
        snprintf(buf, len, "%s", "");
    else
        snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d", c.year, c.mon, c.mday, c.hour, c.min,
                 c.sec);
}

enum { S_NAME, S_TYPE, S_STATE, S_OK, S_NEXT, S_ACC, S_DUP, S_REJ, S_N };

/* Prints the list as a table; the last error is cut to the terminal's
 * width when stdout is one. */
static void sources_table(const sr_config *cfg, const sr_source_list *l, sr_ms now, bool utf8)
{
    static const char *const head[S_N] = {"SOURCE",    "TYPE",     "STATE",     "LAST SUCCESS",
                                          "NEXT POLL", "ACCEPTED", "DUPLICATE", "REJECTED"};
    enum { CELL = 160 };
    char(*cells)[S_N][CELL] = xcalloc(l->n + 1, sizeof *cells);
    int w[S_N];
    for (int c = 0; c < S_N; c++)
        w[c] = (int)strlen(head[c]);
    for (size_t i = 0; i < l->n; i++) {
        const sr_source_info *s = &l->v[i];
        char name[SR_NAME_MAX + 2], t[40], ago[32];
        snprintf(name, sizeof name, "%s%s", s->h.name, s->configured ? "" : "*");
        sr_screen_text(name, 40, utf8, cells[i][S_NAME], CELL);
        sr_screen_text(s->h.type, 24, utf8, cells[i][S_TYPE], CELL);
        snprintf(cells[i][S_STATE], CELL, "%s", sr_source_state_name(s->state));
        local_time(cfg->timezone, s->h.last_ok_ms, t, sizeof t);
        sr_format_ago(now, s->h.last_ok_ms, ago, sizeof ago);
        snprintf(cells[i][S_OK], CELL, "%s%s%s%s", ago, t[0] ? " (" : "", t, t[0] ? ")" : "");
        sr_format_next(now, s->polled ? &s->h : NULL, cells[i][S_NEXT], CELL);
        if (s->polled) {
            snprintf(cells[i][S_ACC], CELL, "%lld", (long long)s->h.accepted);
            snprintf(cells[i][S_DUP], CELL, "%lld", (long long)s->h.duplicates);
            snprintf(cells[i][S_REJ], CELL, "%lld", (long long)s->h.rejected);
        } else {
            for (int c = S_ACC; c <= S_REJ; c++)
                snprintf(cells[i][c], CELL, "-");
        }
        for (int c = 0; c < S_N; c++) {
            if (sr_text_width(cells[i][c]) > w[c])
                w[c] = sr_text_width(cells[i][c]);
        }
    }
    int cols = 0; /* the terminal's width, when stdout is one */
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
        cols = ws.ws_col;
    for (size_t i = 0; i <= l->n; i++) {
        int used = 0;
        for (int c = 0; c < S_N; c++) {
            const char *t = i == 0 ? head[c] : cells[i - 1][c];
            int width = sr_text_width(t);
            bool right = c >= S_ACC;
            printf("%s%*s%s%*s", c ? "  " : "", right ? w[c] - width : 0, "", t,
                   right ? 0 : w[c] - width, "");
            used += (c ? 2 : 0) + w[c];
        }
        /* the last error at the end of the row; on a narrow terminal, on a
         * line of its own below the row */
        const char *err = i == 0 ? "LAST ERROR" : l->v[i - 1].h.last_error;
        char e[1024];
        int room = cols > 0 ? cols - used - 2 : -1;
        if (room < 0 || room >= 20) {
            printf("%s%s\n", *err ? "  " : "", sr_screen_text(err, room, utf8, e, sizeof e));
        } else {
            printf("\n");
            if (i > 0 && *err)
                printf("    last error: %s\n",
                       sr_screen_text(err, cols > 17 ? cols - 16 : 1, utf8, e, sizeof e));
        }
    }
    bool unpolled = false;
    for (size_t i = 0; i < l->n_configured; i++)
        unpolled |= !l->v[i].polled;
    if (l->n > l->n_configured)
        printf("* not in %s: what an earlier collector recorded\n", cfg->path);
    if (l->n == 0)
        printf("(no source: %s has no [adapter.NAME] section)\n", cfg->path);
    else if (unpolled)
        printf("(a source shown without figures has not been polled yet: start `sitrep collect` "
               "or `sitrep`)\n");
    free(cells);
}

/* ISO-8601 UTC, or JSON null for never. */
static json_t *json_time(sr_ms t)
{
    if (t <= 0)
        return json_null();
    char buf[40];
    sr_format_time_utc(t, buf, sizeof buf);
    return json_string(buf);
}

static void sources_json(const sr_source_list *l, sr_ms now)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < l->n; i++) {
        const sr_source_info *s = &l->v[i];
        json_t *o = json_object();
        char next[32];
        sr_format_next(now, s->polled ? &s->h : NULL, next, sizeof next);
        json_object_set_new(o, "name", json_string(s->h.name));
        json_object_set_new(o, "type", json_string(s->h.type));
        json_object_set_new(o, "configured", json_boolean(s->configured));
        json_object_set_new(o, "state", json_string(sr_source_state_name(s->state)));
        json_object_set_new(o, "polled", json_boolean(s->polled));
        json_object_set_new(o, "last_success", json_time(s->h.last_ok_ms));
        json_object_set_new(o, "last_poll", json_time(s->h.last_poll_ms));
        json_object_set_new(o, "next_poll", json_time(s->h.next_poll_ms));
        json_object_set_new(o, "next_poll_text", json_string(next));
        json_object_set_new(o, "interval_ms", json_integer(s->h.interval_ms));
        json_object_set_new(o, "timeout_ms", json_integer(s->h.timeout_ms));
        json_object_set_new(o, "accepted", json_integer(s->h.accepted));
        json_object_set_new(o, "duplicates", json_integer(s->h.duplicates));
        json_object_set_new(o, "rejected", json_integer(s->h.rejected));
        json_object_set_new(o, "polls", json_integer(s->h.polls));
        json_object_set_new(o, "failures", json_integer(s->h.failures));
        json_object_set_new(o, "last_error",
                            s->h.last_error[0] ? json_string(s->h.last_error) : json_null());
        json_array_append_new(arr, o);
    }
    json_t *root = json_object();
    json_object_set_new(root, "as_of", json_time(now));
    json_object_set_new(root, "sources", arr);
    sr_json_write(root, JSON_INDENT(2), stdout);
    json_decref(root);
}

int cmd_sources(int argc, char **argv)
{
    const command *self = find_command("sources");
    parsed p;
    parse_opts(self, argc, argv, &p, 0);
    static const char *const formats[] = {"text", "json", NULL};
    const char *fmt = format_opt(self, &p, formats);
    bool utf8 = sr_locale_utf8();
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_store *st = open_cache(cfg, SR_STORE_READONLY);
    sr_source_conf *conf = source_conf(cfg);
    sr_ms now = sr_now_ms();
    sr_source_list l;
    viewer who;
    viewer_init(&who, cfg);
    int rc = sr_sources_read(st, conf, cfg->n_adapters, now, &l);
    if (!rc)
        sr_privacy_sources(&who.priv, l.v, l.n); /* errors may quote input data */
    if (rc) {
        cache_failed("sources", cfg, rc == SR_ENOMEM ? NULL : st, rc);
    } else if (strcmp(fmt, "json") == 0) {
        sources_json(&l, now);
    } else {
        sources_table(cfg, &l, now, utf8);
    }
    int status = rc ? SR_EXIT_FAIL : SR_EXIT_OK;
    viewer_fini(&who, "sources", &status);
    sr_source_list_fini(&l);
    free(conf);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return status;
}

const opt_spec rejects_opts[] = {
    {"--config", "FILE", "the configuration"},
    {"--source", "NAME", "only this source's rejects"},
    {"--limit", "N", "the newest N (default 50)"},
    {NULL, NULL, NULL},
};

/* Whether the raw text and reason are printed, and how many were not. */
struct reject_out {
    bool raw;
    size_t withheld;
};

static int print_reject(void *ctx, const sr_reject_row *r)
{
    struct reject_out *o = ctx;
    char t[40];
    sr_format_time_utc(r->ts_ms, t, sizeof t);
    /* rows that were refused are the least trusted text there is: made safe */
    char *source = xclean(r->source), *where = xclean(r->where ? r->where : "-");
    if (!o->raw) {
        printf("%.19sZ  %s  %s: (reason and raw text withheld)\n", t, source, where);
        o->withheld++;
    } else {
        char *reason = xclean(r->reason), *raw = xclean(r->raw);
        printf("%.19sZ  %s  %s: %s\n    %s\n", t, source, where, reason, raw);
        free(reason);
        free(raw);
    }
    free(source);
    free(where);
    return 0;
}

int cmd_rejects(int argc, char **argv)
{
    const command *self = find_command("rejects");
    parsed p;
    parse_opts(self, argc, argv, &p, 0);
    int limit = 50;
    const char *l = opt(self, &p, "--limit");
    if (l) {
        char *end;
        long v = strtol(l, &end, 10);
        if (*end || v <= 0 || v > 1000000)
            die_usage(self, "--limit: expected a positive whole number, got '%s'", l);
        limit = (int)v;
    }
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_store *st = open_cache(cfg, SR_STORE_READONLY);
    viewer who;
    viewer_init(&who, cfg);
    const char *src = opt(self, &p, "--source");
    int64_t total = 0;
    int rc = sr_store_reject_count(st, src, &total);
    if (rc) {
        cache_failed("rejects", cfg, st, rc);
        viewer_fini(&who, "rejects", &rc);
        sr_store_close(st);
        sr_config_destroy(cfg);
        return SR_EXIT_FAIL;
    }
    printf("%lld rejected row%s%s%s\n", (long long)total, total == 1 ? "" : "s",
           src ? " from " : "", src ? src : "");
    /* unparsed input cannot be shown to hold no personal data (privacy.h) */
    struct reject_out o = {.raw = sr_privacy_raw_shown(&who.priv)};
    rc = sr_store_rejects(st, src, limit, print_reject, &o);
    if (rc)
        cache_failed("rejects", cfg, st, rc);
    char line[512];
    sr_privacy_withheld_text(&who.priv, SR_PRIV_PERSONAL, o.withheld, "rejected row",
                             "shown without reason and raw text (unparsed input may hold "
                             "personal data)",
                             line, sizeof line);
    if (line[0])
        printf("%s\n", line);
    int status = rc ? SR_EXIT_FAIL : SR_EXIT_OK;
    viewer_fini(&who, "rejects", &status);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return status;
}
