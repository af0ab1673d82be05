/*
 * cmd_snapshot.c - `sitrep snapshot`
 */
#include "cmd.h"

/* ---- snapshot ---- */

const opt_spec snapshot_opts[] = {
    {"--config", "FILE", "the configuration"},
    {"--format", "FMT",
     "text (the screen as plain text), json, csv, or markdown (the shift handover report)"},
    {"--width", "COLS", "text: the screen's width (default 160)"},
    {"--height", "ROWS", "text: the screen's height (default 48)"},
    {"--page", "NAME", "text: the page to render (default the first)"},
    {"--at", "TIME", "the windows end at TIME instead of now (ISO-8601, epoch seconds, latest)"},
    {"--shift", "DUR",
     "json, csv, markdown: every panel over the last shift of DUR, against the shift before "
     "(markdown's default: [sitrep] shift; json and csv: each panel's own window)"},
    {NULL, NULL, NULL},
};

/* A whole number in [lo, hi] for option name, or a usage error. */
static int int_opt(const command *c, const char *name, const char *v, int def, int lo, int hi)
{
    if (!v)
        return def;
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < lo || n > hi)
        die_usage(c, "%s: expected a whole number from %d to %d, got '%s'", name, lo, hi, v);
    return (int)n;
}

static int snapshot_text(const command *self, const parsed *p)
{
    int w = int_opt(self, "--width", opt(self, p, "--width"), 160, 20, 1000);
    int h = int_opt(self, "--height", opt(self, p, "--height"), 48, 5, 1000);
    bool utf8 = sr_locale_utf8();
    sr_config *cfg = load_config(opt(self, p, "--config"));
    sr_store *st = open_cache(cfg, SR_STORE_READONLY);
    viewer who;
    viewer_init(&who, cfg);
    sr_layout_data *ld;
    sr_layout_build_role(cfg, who.role, &ld);
    sr_layout_set_audit(ld, sr_audit_sink_hook, &who.audit);
    const char *page = opt(self, p, "--page");
    sr_ms now = at_opt(self, p, cfg, st, sr_now_ms());
    /* into memory first: printed only once its views of personal data are
     * audited */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        sr_fatal("out of memory");
    int rc = sr_screen_render_text(st, sr_layout_get(ld), page, w, h, utf8, now, mem);
    fclose(mem);
    if (!who.audit.rc)
        fwrite(text, 1, len, stdout);
    free(text);
    if (rc == SR_ENOENT) {
        fprintf(stderr, "sitrep snapshot: no page '%s' in %s; pages:", page, cfg->path);
        const sr_tui_layout *lay = sr_layout_get(ld);
        for (size_t i = 0; i < lay->n_pages; i++)
            fprintf(stderr, " %s", lay->pages[i].name);
        fprintf(stderr, "\n");
    } else if (rc) {
        cache_failed("snapshot", cfg, st, rc);
    }
    int status = rc == SR_ENOENT ? SR_EXIT_USAGE : rc ? SR_EXIT_FAIL : SR_EXIT_OK;
    viewer_fini(&who, "snapshot", &status);
    sr_layout_destroy(ld);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return status;
}

int cmd_snapshot(int argc, char **argv)
{
    const command *self = find_command("snapshot");
    parsed p;
    parse_opts(self, argc, argv, &p, 0);
    const char *fmt = opt(self, &p, "--format");
    if (!fmt)
        die_usage(self, "--format is required: text, json, csv or markdown");
    if (strcmp(fmt, "text") == 0)
        return snapshot_text(self, &p);
    sr_report_format f;
    if (sr_report_format_parse(fmt, &f) != 0)
        die_usage(self, "--format: expected text, json, csv or markdown, got '%s'", fmt);
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_ms shift = f == SR_REPORT_MARKDOWN ? cfg->shift_ms : 0;
    const char *sh = opt(self, &p, "--shift");
    if (sh && (sr_parse_duration(sh, &shift) || shift < SR_MS_MIN || shift > SR_MS_DAY))
        die_usage(self, "--shift: expected a duration from 1m to 24h such as 8h, got '%s'", sh);
    sr_store *st = open_cache(cfg, SR_STORE_READONLY);
    sr_ms now = sr_now_ms();
    sr_ms at = at_opt(self, &p, cfg, st, now);
    sr_report *r;
    char err[512];
    viewer who;
    viewer_init(&who, cfg);
    sr_report_viewer rv = {who.role, &who.priv, sr_audit_sink_hook, &who.audit};
    int rc = sr_report_build(cfg, st, &rv, at, shift, now, &r, err, sizeof err);
    if (rc == SR_ECORRUPT) {
        cache_failed("snapshot", cfg, st, rc);
    } else if (rc) {
        fprintf(stderr, "sitrep snapshot: %s\n", err);
    } else if (who.audit.rc) {
        sr_report_destroy(r); /* not shown: viewer_fini says why */
    } else {
        rc = sr_report_write(r, f, stdout);
        if (rc)
            fprintf(stderr, "sitrep snapshot: writing the report: %s\n", sr_strerror(rc));
        sr_report_destroy(r);
    }
    int status = rc ? SR_EXIT_FAIL : SR_EXIT_OK;
    viewer_fini(&who, "snapshot", &status);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return status;
}
