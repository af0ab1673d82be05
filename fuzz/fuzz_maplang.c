/*
 * fuzz_maplang.c - libFuzzer target for the mapping language itself
 * (adapters/map.c): the mapping options (metric, entity, time, time_format,
 * timezone, value, key, where, null), the {Field}, {Field|NAME} and
 * {Name#2} templates and the [map.NAME] value maps, as a config gives them,
 * then a few CSV rows through the map that compiled (adapters/csvrows.c).
 *
 * The input is text in three parts:
 *
 *   metric = response_{Priority|prio}     mapping options, one a line
 *   where = Type in (A, "B, C") and X != 1
 *   [map.prio]                             a value map: VALUE = RESULT
 *   1 = p1
 *   default = other
 *   --                                     the rest is the CSV stream
 *   Priority,Type,X
 *   1,A,2
 *
 * Checked on every input:
 *   - sr_map_create either succeeds or fails with a message (and no map);
 *     compiling the same options twice gives the same fields;
 *   - header warnings and bindings never read past the header;
 *   - every sample has a metric, an entity and a finite value, and while
 *     the sink holds it, sink->where is "line N" and sink->raw is set
 *     (both NULL again afterwards); every reject has a where, raw text and
 *     a reason;
 *   - the stream fed whole or byte by byte gives the same samples and
 *     rejects, in the same order (a running hash).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../adapters/csvrows.h"
#include "../adapters/map.h"
#include "../metrics/common.h"
#include "fuzz.h"

#define MAX_OPTS 32
#define MAX_MAPS 8
#define MAX_ENTRIES 32

typedef struct {
    sr_sink sink; /* first: the callbacks cast */
    uint64_t n, hash;
} tally;

static void hash_text(tally *t, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : "(null)");; p++) {
        t->hash = (t->hash ^ *p) * 1099511628211ULL;
        if (!*p)
            break;
    }
}

static int tally_emit(sr_sink *k, const sr_ad_sample *s)
{
    tally *t = (tally *)k;
    CHECK(s->metric && s->entity && isfinite(s->value));
    CHECK(k->where && strncmp(k->where, "line ", 5) == 0 && k->raw);
    hash_text(t, s->metric);
    hash_text(t, s->entity);
    hash_text(t, s->key);
    hash_text(t, k->where);
    t->hash ^= (uint64_t)s->ts_ms;
    t->n++;
    return 0;
}

static int tally_reject(sr_sink *k, const char *where, const char *raw, const char *reason)
{
    tally *t = (tally *)k;
    CHECK(where && raw && reason && reason[0]);
    hash_text(t, where);
    hash_text(t, raw);
    hash_text(t, reason);
    t->n++;
    return 0;
}

static const sr_ad_host host = {
    .local_to_utc = sr_local_to_utc,
    .parse_time = sr_parse_time,
    .tz_valid = sr_tz_valid,
};

/* The options and maps read from the first part of the input (all its
 * strings point into text, cut in place). */
typedef struct {
    sr_ad_option opt[MAX_OPTS];
    size_t n_opt;
    sr_ad_option ent[MAX_MAPS][MAX_ENTRIES];
    sr_ad_valmap maps[MAX_MAPS];
    size_t n_maps;
    sr_ad_options o;
} spec;

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Reads the lines of text (NUL-terminated, cut in place) into sp. */
static void spec_read(spec *sp, char *text)
{
    memset(sp, 0, sizeof *sp);
    sr_ad_valmap *cur = NULL;
    int line = 0;
    for (char *s = text; s && *s;) {
        char *nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        char *l = trim(s);
        line++;
        size_t ll = strlen(l);
        if (strncmp(l, "[map.", 5) == 0 && ll > 6 && l[ll - 1] == ']') {
            l[ll - 1] = '\0';
            cur = sp->n_maps < MAX_MAPS ? &sp->maps[sp->n_maps++] : NULL;
            if (cur)
                *cur = (sr_ad_valmap){.name = l + 5, .v = sp->ent[cur - sp->maps], .line = line};
        } else if (strcmp(l, "[options]") == 0) {
            cur = NULL;
        } else if (strchr(l, '=')) {
            char *eq = strchr(l, '=');
            *eq = '\0';
            sr_ad_option kv = {trim(l), trim(eq + 1), line};
            if (cur && cur->n < MAX_ENTRIES)
                sp->ent[cur - sp->maps][cur->n++] = kv;
            else if (!cur && sp->n_opt < MAX_OPTS)
                sp->opt[sp->n_opt++] = kv;
        }
        s = nl ? nl + 1 : NULL;
    }
    sp->o = (sr_ad_options){.v = sp->opt,
                            .n = sp->n_opt,
                            .name = "fuzz",
                            .config_dir = ".",
                            .host = &host,
                            .timezone = "America/Chicago",
                            .maps = sp->maps,
                            .n_maps = sp->n_maps};
}

/* Feeds csv to a fresh reader of m, whole or a byte at a time. */
static void feed(const sr_map *m, const char *csv, size_t len, int bytewise, tally *t)
{
    memset(t, 0, sizeof *t);
    t->sink.ctx = t;
    t->sink.emit = tally_emit;
    t->sink.reject = tally_reject;
    t->hash = 1469598103934665603ULL;
    sr_csvrows *r;
    char err[600];
    CHECK(sr_csvrows_create(m, ',', &r, err, sizeof err) == 0);
    int rc = 0;
    for (size_t off = 0; off < len && rc == 0;) {
        size_t n = bytewise ? 1 : len;
        rc = sr_csvrows_feed(r, csv + off, n, 0, &t->sink, err, sizeof err);
        CHECK(rc == 0 || (rc == SR_CSVROWS_EHEADER && err[0]));
        off += n;
    }
    if (rc == 0)
        CHECK(sr_csvrows_finish(r, 0, &t->sink, err, sizeof err) >= SR_CSVROWS_EHEADER);
    CHECK(t->sink.where == NULL && t->sink.raw == NULL);
    sr_csvrows_destroy(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    /* the CSV starts after a line "--" (NUL bytes stay in it: libcsv reads them) */
    const char *csv = "";
    size_t csv_len = 0;
    char *sep = strstr(text, "\n--\n");
    if (sep) {
        *sep = '\0';
        csv = sep + 4;
        csv_len = size - (size_t)(csv - text);
    }
    static spec sp;
    spec_read(&sp, text);

    sr_map *m = NULL, *again = NULL;
    char err[1024] = "", err2[1024] = "";
    int rc = sr_map_create(&sp.o, &m, err, sizeof err);
    int rc2 = sr_map_create(&sp.o, &again, err2, sizeof err2);
    CHECK((rc == 0) == (rc2 == 0));
    if (rc) {
        CHECK(rc < 0 && !m && err[0] && strlen(err) < sizeof err && strcmp(err, err2) == 0);
        free(text);
        return 0;
    }
    CHECK(m && sr_map_field_count(m) == sr_map_field_count(again));
    for (size_t f = 0; f < sr_map_field_count(m); f++)
        CHECK(strcmp(sr_map_field_name(m, f), sr_map_field_name(again, f)) == 0);
    CHECK(sr_map_field_name(m, sr_map_field_count(m)) == NULL);
    sr_map_destroy(again);

    tally whole, bytes;
    feed(m, csv, csv_len, 0, &whole);
    feed(m, csv, csv_len, 1, &bytes);
    CHECK(whole.n == bytes.n && whole.hash == bytes.hash);
    sr_map_destroy(m);
    free(text);
    return 0;
}
