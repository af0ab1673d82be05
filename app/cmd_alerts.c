/*
 * cmd_alerts.c - `sitrep alerts`, `ack` and `silence`
 */
#include "cmd.h"

/* ---- alerts: the list, acknowledge, silence ---- */

const opt_spec alerts_opts[] = {
    {"--config", "FILE", "the configuration (where the cache is)"},
    {"--format", "FMT", "text (a table, the default), csv or json"},
    {NULL, NULL, NULL},
};

/* "2026-11-27 14:03" in tz, or "-" for none. */
static void alert_time(const char *tz, sr_ms t, char *buf, size_t len)
{
    sr_civil c;
    if (t <= 0 || sr_utc_to_local(tz, t, &c) != 0)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%04d-%02d-%02d %02d:%02d", c.year, c.mon, c.mday, c.hour, c.min);
}

static json_t *alert_json(const sr_config *cfg, const sr_alert *a)
{
    char val[64], thr[64], t[40];
    sr_alerting_format(cfg, a, "–", val, thr, sizeof val);
    json_t *j = json_object();
    json_object_set_new(j, "key", json_string(a->key));
    json_object_set_new(j, "panel", json_string(a->panel));
    json_object_set_new(j, "metric", json_string(a->metric));
    json_object_set_new(j, "entity", json_string(a->entity));
    json_object_set_new(j, "severity", json_string(sr_status_name(a->severity)));
    json_object_set_new(j, "state", json_string(sr_alert_state_name(a->state)));
    json_object_set_new(j, "value", sr_json_number(a->value));
    json_object_set_new(j, "kind", json_string(sr_alert_kind_name(a->kind)));
    json_object_set_new(j, "threshold", sr_json_number(a->threshold));
    bool band = a->kind == SR_ALERT_UNUSUAL; /* null for a threshold alert */
    json_object_set_new(j, "band_low", band ? sr_json_number(a->band_low) : json_null());
    json_object_set_new(j, "band_high", band ? sr_json_number(a->band_high) : json_null());
    json_object_set_new(j, "value_text", json_string(val));
    json_object_set_new(j, "threshold_text", json_string(thr));
    sr_format_time_utc(a->raised_at_ms, t, sizeof t);
    json_object_set_new(j, "raised_at", json_string(t));
    json_object_set_new(j, "acked_by", a->acked_at_ms ? json_string(a->acked_by) : json_null());
    sr_format_time_utc(a->acked_at_ms, t, sizeof t);
    json_object_set_new(j, "acked_at", a->acked_at_ms ? json_string(t) : json_null());
    json_object_set_new(j, "note", json_string(a->note));
    sr_format_time_utc(a->silenced_until_ms, t, sizeof t);
    json_object_set_new(j, "silenced_until",
                        a->state == SR_ALERT_SILENCED ? json_string(t) : json_null());
    return j;
}

/* The columns of `alerts --format csv`: json's members, in its order. */
static const char *const csv_columns[] = {
    "key",       "panel",      "metric",         "entity",    "severity",
    "state",     "kind",       "value",          "threshold", "band_low",
    "band_high", "value_text", "threshold_text", "raised_at", "acked_by",
    "acked_at",  "note",       "silenced_until", NULL};

/* "2026-11-27T14:03:00.000Z", or "" for none. */
static void csv_time(sr_csv_out *w, sr_ms t, bool set)
{
    char buf[40] = "";
    if (set)
        sr_format_time_utc(t, buf, sizeof buf);
    sr_csv_field(w, buf);
}

static void alert_csv(sr_csv_out *w, const sr_config *cfg, const sr_alert *a)
{
    char val[64], thr[64];
    sr_alerting_format(cfg, a, "-", val, thr, sizeof val); /* ASCII: see alerting.h */
    const char *text[] = {a->key,
                          a->panel,
                          a->metric,
                          a->entity,
                          sr_status_name(a->severity),
                          sr_alert_state_name(a->state),
                          sr_alert_kind_name(a->kind)};
    for (size_t i = 0; i < sizeof text / sizeof *text; i++)
        sr_csv_field(w, text[i]);
    bool band = a->kind == SR_ALERT_UNUSUAL; /* empty for a threshold alert */
    sr_csv_number(w, a->value);
    sr_csv_number(w, a->threshold);
    sr_csv_number(w, band ? a->band_low : NAN);
    sr_csv_number(w, band ? a->band_high : NAN);
    sr_csv_field(w, val);
    sr_csv_field(w, thr);
    csv_time(w, a->raised_at_ms, true);
    sr_csv_field(w, a->acked_at_ms ? a->acked_by : "");
    csv_time(w, a->acked_at_ms, a->acked_at_ms != 0);
    sr_csv_field(w, a->note);
    csv_time(w, a->silenced_until_ms, a->state == SR_ALERT_SILENCED);
    sr_csv_end_row(w);
}

int cmd_alerts(int argc, char **argv)
{
    const command *self = find_command("alerts");
    parsed p;
    parse_opts(self, argc, argv, &p, 0);
    static const char *const formats[] = {"text", "csv", "json", NULL};
    const char *fmt = format_opt(self, &p, formats);
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_store *st = open_cache(cfg, SR_STORE_READONLY);
    sr_alert *a = NULL;
    size_t n = 0;
    viewer me;
    viewer_init(&me, cfg);
    size_t withheld = 0;
    sr_priv_hide why;
    int rc = sr_store_alert_list(st, SR_ALERTS_OPEN, &a, &n);
    if (!rc)
        rc = sr_privacy_alerts(st, &cfg->metrics, &me.priv, a, &n, &withheld, &why);
    char withheld_line[512];
    sr_privacy_withheld_text(&me.priv, why, withheld, "alert", "withheld", withheld_line,
                             sizeof withheld_line);
    if (rc) {
        cache_failed("alerts", cfg, st, rc);
    } else if (strcmp(fmt, "json") == 0) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, alert_json(cfg, &a[i]));
        sr_json_write(arr, JSON_INDENT(2), stdout);
        json_decref(arr);
    } else if (strcmp(fmt, "csv") == 0) {
        sr_csv_out w;
        sr_csv_init(&w, stdout);
        sr_csv_header(&w, csv_columns);
        for (size_t i = 0; i < n; i++)
            alert_csv(&w, cfg, &a[i]);
    } else if (n == 0) {
        printf("no open alert%s\n", withheld ? " shown" : "");
    } else {
        printf("%-8s %-32s %-10s %10s %14s  %-16s  %s\n", "SEVERITY", "KEY", "STATE", "VALUE",
               "THRESHOLD", "RAISED", "ACKNOWLEDGED / SILENCED");
        for (size_t i = 0; i < n; i++) {
            char key[SR_ALERT_KEY_MAX], val[64], thr[64], raised[40], extra[512], t[40];
            char who[SR_ALERT_WHO_MAX], note[SR_ALERT_NOTE_MAX];
            /* what the cache holds came from other processes: made safe */
            sr_text_clean(a[i].key, key, sizeof key);
            sr_alerting_format(cfg, &a[i], "–", val, thr, sizeof val);
            alert_time(cfg->timezone, a[i].raised_at_ms, raised, sizeof raised);
            extra[0] = 0;
            if (a[i].state == SR_ALERT_SILENCED) {
                alert_time(cfg->timezone, a[i].silenced_until_ms, t, sizeof t);
                snprintf(extra, sizeof extra, "silenced until %s", t);
            } else if (a[i].acked_at_ms) {
                sr_text_clean(a[i].acked_by, who, sizeof who);
                sr_text_clean(a[i].note, note, sizeof note);
                snprintf(extra, sizeof extra, "by %s%s%s", who, note[0] ? ": " : "", note);
            }
            /* the threshold column by its width on screen ("normal 10–12": 12 of 14 bytes) */
            int thr_w = 14 + (int)strlen(thr) - sr_text_width(thr);
            printf("%-8s %-32s %-10s %10s %*s  %-16s  %s\n", sr_status_name(a[i].severity), key,
                   sr_alert_state_name(a[i].state), val, thr_w, thr, raised, extra);
        }
    }
    if (!rc && withheld_line[0])
        fprintf(strcmp(fmt, "text") != 0 ? stderr : stdout, "%s\n", withheld_line);
    int status = rc ? SR_EXIT_FAIL : SR_EXIT_OK;
    viewer_fini(&me, "alerts", &status);
    free(a);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return status;
}

const opt_spec ack_opts[] = {
    {"--config", "FILE", "the configuration (where the cache is)"},
    {"--note", "TEXT", "why, or what is being done (recorded with who and when)"},
    {NULL, NULL, NULL},
};

const opt_spec silence_opts[] = {
    {"--config", "FILE", "the configuration (where the cache is)"},
    {"--for", "DUR", "how long, e.g. 15m, 1h, 4h, 8h (required)"},
    {"--note", "TEXT", "why (recorded with who and when)"},
    {NULL, NULL, NULL},
};

/* sitrep ack and sitrep silence: the same role check, write and audit row
 * as the dashboard's (sr_alerting_act). */
static int alert_act_cli(const char *name, int argc, char **argv)
{
    const command *self = find_command(name);
    parsed p;
    parse_opts(self, argc, argv, &p, 1);
    if (p.npos != 1)
        die_usage(self, "which alert? its KEY as 'sitrep alerts' lists it");
    sr_alert_act act = {.key = p.pos[0]};
    if (strcmp(name, "ack") == 0) {
        act.kind = SR_ALERT_ACT_ACK;
        act.note = opt(self, &p, "--note");
    } else {
        act.kind = SR_ALERT_ACT_SILENCE;
        act.note = opt(self, &p, "--note");
        const char *d = opt(self, &p, "--for");
        if (!d)
            die_usage(self, "for how long? --for 1h");
        if (sr_parse_duration(d, &act.for_ms) || act.for_ms <= 0)
            die_usage(self, "--for: expected a duration such as 15m, 1h or 8h, got '%s'", d);
    }
    sr_config *cfg = load_config(opt(self, &p, "--config"));
    sr_store *st = open_cache(cfg, SR_STORE_VIEWER);
    sr_identity id;
    sr_identity_init(&id);
    char msg[SR_ALERT_KEY_MAX + SR_ALERT_NOTE_MAX + 128];
    int rc = sr_alerting_act(cfg, st, &id, &act, sr_now_ms(), msg, sizeof msg);
    if (rc)
        fprintf(stderr, "sitrep %s: %s\n", name, msg);
    else
        printf("%s\n", msg);
    sr_store_close(st);
    sr_config_destroy(cfg);
    return rc ? SR_EXIT_FAIL : SR_EXIT_OK;
}

int cmd_ack(int argc, char **argv)
{
    return alert_act_cli("ack", argc, argv);
}

int cmd_silence(int argc, char **argv)
{
    return alert_act_cli("silence", argc, argv);
}
