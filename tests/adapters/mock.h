/*
 * mock.h - a host for adapter tests (after collectd's plugin_mock.c): a
 * sink that records every sample and reject it is given, the real time
 * functions of metrics/common.c as the host table, and options built from
 * "key=value" strings. Header-only; include it in one test file per
 * adapter.
 */
#ifndef SR_TEST_MOCK_H
#define SR_TEST_MOCK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../adapters/adapter.h"
#include "../../metrics/common.h"

typedef struct {
    char *metric, *entity, *key;
    int64_t ts_ms;
    double value;
} mock_sample;

typedef struct {
    char *where, *raw, *reason;
} mock_reject;

typedef struct {
    sr_sink sink; /* first: the callbacks cast */
    mock_sample *s;
    size_t n, cap;
    mock_reject *r;
    size_t nr, rcap;
    long refuse_after; /* emits accepted before emit returns -1; < 0 = never */
} mock_sink;

static inline char *mock_dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static inline int mock_emit(sr_sink *k, const sr_ad_sample *smp)
{
    mock_sink *m = (mock_sink *)k;
    if (m->refuse_after >= 0 && (long)m->n >= m->refuse_after)
        return -1;
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 64;
        m->s = realloc(m->s, m->cap * sizeof *m->s);
    }
    m->s[m->n++] = (mock_sample){mock_dup(smp->metric), mock_dup(smp->entity), mock_dup(smp->key),
                                 smp->ts_ms, smp->value};
    return 0;
}

static inline int mock_reject_cb(sr_sink *k, const char *where, const char *raw, const char *reason)
{
    mock_sink *m = (mock_sink *)k;
    if (m->nr == m->rcap) {
        m->rcap = m->rcap ? 2 * m->rcap : 16;
        m->r = realloc(m->r, m->rcap * sizeof *m->r);
    }
    m->r[m->nr++] = (mock_reject){mock_dup(where), mock_dup(raw), mock_dup(reason)};
    return 0;
}

static inline void mock_sink_init(mock_sink *m)
{
    memset(m, 0, sizeof *m);
    m->sink.ctx = m;
    m->sink.emit = mock_emit;
    m->sink.reject = mock_reject_cb;
    m->refuse_after = -1;
}

static inline void mock_sink_fini(mock_sink *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->s[i].metric);
        free(m->s[i].entity);
        free(m->s[i].key);
    }
    for (size_t i = 0; i < m->nr; i++) {
        free(m->r[i].where);
        free(m->r[i].raw);
        free(m->r[i].reason);
    }
    free(m->s);
    free(m->r);
    memset(m, 0, sizeof *m);
}

static const sr_ad_host mock_host = {
    .local_to_utc = sr_local_to_utc,
    .parse_time = sr_parse_time,
    .tz_valid = sr_tz_valid,
};

/* Options from "key=value" strings (split at the first '='; blanks around
 * the key and value trimmed as the config reader does). Up to 32; the strings are
 * copied into o. */
typedef struct {
    sr_ad_option v[32];
    char text[32][512];
    sr_ad_options opts;
} mock_options;

static inline const sr_ad_options *mock_opts(mock_options *o, const char *name, const char *dir,
                                             const char *const *kv, size_t n)
{
    memset(o, 0, sizeof *o);
    for (size_t i = 0; i < n && i < 32; i++) {
        size_t l = strlen(kv[i]);
        if (l >= sizeof o->text[i])
            l = sizeof o->text[i] - 1;
        memcpy(o->text[i], kv[i], l);
        o->text[i][l] = '\0';
        char *eq = strchr(o->text[i], '=');
        char *val = eq ? eq + 1 : o->text[i] + strlen(o->text[i]);
        if (eq)
            *eq = '\0';
        char *k = o->text[i];
        while (*k == ' ')
            k++;
        for (char *e = k + strlen(k); e > k && e[-1] == ' ';)
            *--e = '\0';
        while (*val == ' ')
            val++;
        for (char *e = val + strlen(val); e > val && e[-1] == ' ';)
            *--e = '\0';
        o->v[i] = (sr_ad_option){.key = k, .value = val, .line = (int)i + 2};
    }
    o->opts = (sr_ad_options){.v = o->v,
                              .n = n < 32 ? n : 32,
                              .name = name,
                              .config_dir = dir,
                              .host = &mock_host,
                              .timezone = "UTC"};
    return &o->opts;
}

#define MOCK_OPTS(o, name, dir, ...)                                                               \
    mock_opts((o), (name), (dir), (const char *const[]){__VA_ARGS__},                              \
              sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

#endif
