/*
 * Tests of metrics/sources.c: the state rule on crafted health rows, the
 * list of configured sources joined with a real cache's rows, and the words
 * for last success and next poll.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../metrics/sources.h"
#include "../helpers.h"

#define NOW ((sr_ms)1700000000000LL)

static sr_source_health row(const char *name, sr_ms last_ok_ago, sr_ms interval, sr_ms timeout,
                            const char *error)
{
    sr_source_health h = {0};
    snprintf(h.name, sizeof h.name, "%s", name);
    snprintf(h.type, sizeof h.type, "csv");
    h.last_ok_ms = last_ok_ago < 0 ? 0 : NOW - last_ok_ago;
    h.last_poll_ms = NOW - 1000;
    h.interval_ms = interval;
    h.timeout_ms = timeout;
    snprintf(h.last_error, sizeof h.last_error, "%s", error);
    return h;
}

Test(sources, the_state_rule)
{
    /* 5s interval, 10s timeout: late after 3 x 5s + 10s = 25s without success */
    sr_source_health h = row("a", 2 * SR_MS_SEC, 5000, 10000, "");
    cr_assert_eq(sr_source_late_after(&h), 25 * SR_MS_SEC);
    cr_assert_eq(sr_source_state_of(&h, NOW), SR_SOURCE_LIVE);
    h = row("a", 25 * SR_MS_SEC, 5000, 10000, "");
    cr_assert_eq(sr_source_state_of(&h, NOW), SR_SOURCE_LIVE, "at the limit: still live");
    h = row("a", 25 * SR_MS_SEC + 1, 5000, 10000, "");
    cr_assert_eq(sr_source_state_of(&h, NOW), SR_SOURCE_LATE);
    /* an error wins over everything: the last poll failed */
    h = row("a", 1, 5000, 10000, "connection refused");
    cr_assert_eq(sr_source_state_of(&h, NOW), SR_SOURCE_FAILING);
    h = row("a", 3 * SR_MS_DAY, 5000, 10000, "connection refused");
    cr_assert_eq(sr_source_state_of(&h, NOW), SR_SOURCE_FAILING);
    /* polled, never a success, no error (cannot come from the collector): late */
    h = row("a", -1, 5000, 10000, "");
    cr_assert_eq(sr_source_state_of(&h, NOW), SR_SOURCE_LATE);
    /* a row from before schema 4 knows no interval: judged by its error alone */
    h = row("a", 3 * SR_MS_DAY, 0, 0, "");
    cr_assert_eq(sr_source_late_after(&h), 0);
    cr_assert_eq(sr_source_state_of(&h, NOW), SR_SOURCE_LIVE);
    /* no row at all: never polled */
    cr_assert_eq(sr_source_state_of(NULL, NOW), SR_SOURCE_LATE);
    cr_assert_str_eq(sr_source_state_name(SR_SOURCE_LIVE), "live");
    cr_assert_str_eq(sr_source_state_name(SR_SOURCE_LATE), "late");
    cr_assert_str_eq(sr_source_state_name(SR_SOURCE_FAILING), "failing");
}

Test(sources, words_for_times)
{
    char b[64];
    sr_format_ago(NOW, 0, b, sizeof b);
    cr_assert_str_eq(b, "never");
    sr_format_ago(NOW, NOW - 12345, b, sizeof b);
    cr_assert_str_eq(b, "12s ago");
    sr_format_ago(NOW, NOW - 5 * SR_MS_MIN - 1, b, sizeof b);
    cr_assert_str_eq(b, "5m ago");
    sr_format_ago(NOW, NOW - 26 * SR_MS_HOUR, b, sizeof b);
    cr_assert_str_eq(b, "1d ago");
    sr_format_ago(NOW, NOW + 500, b, sizeof b); /* a clock a little ahead */
    cr_assert_str_eq(b, "0s ago");

    sr_source_health h = row("a", 0, 5000, 10000, "");
    sr_format_next(NOW, NULL, b, sizeof b);
    cr_assert_str_eq(b, "-");
    h.next_poll_ms = 0;
    sr_format_next(NOW, &h, b, sizeof b);
    cr_assert_str_eq(b, "-", "the collector stopped");
    h.next_poll_ms = NOW + 3200;
    sr_format_next(NOW, &h, b, sizeof b);
    cr_assert_str_eq(b, "in 4s", "a countdown rounds up");
    h.next_poll_ms = NOW + 90 * SR_MS_SEC;
    sr_format_next(NOW, &h, b, sizeof b);
    cr_assert_str_eq(b, "in 1m");
    h.next_poll_ms = NOW - 4000; /* within its timeout: the poll may be running */
    sr_format_next(NOW, &h, b, sizeof b);
    cr_assert_str_eq(b, "due");
    h.next_poll_ms = NOW - 3 * SR_MS_MIN;
    sr_format_next(NOW, &h, b, sizeof b);
    cr_assert_str_eq(b, "overdue 3m");
}

/* The configured sources in config order, joined with a real cache. */
Test(sources, the_list_joins_the_config_and_the_cache)
{
    char dir[256], db[300];
    th_tempdir(dir, sizeof dir);
    snprintf(db, sizeof db, "%s/c.db", dir);
    sr_store *st = NULL;
    cr_assert_eq(sr_store_open(db, 0, &st, NULL, 0), 0);
    sr_source_health rows[] = {
        row("beta", 1000, 5000, 1000, ""),                      /* live */
        row("alpha", 1000, 5000, 1000, "HTTP 503"),             /* failing */
        row("gone", SR_MS_DAY, 5000, 1000, ""),                 /* late, not configured */
        row("delta", 10 * SR_MS_MIN, 60 * SR_MS_SEC, 1000, ""), /* late */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        cr_assert_eq(sr_store_source_put(st, &rows[i]), 0);
    sr_source_conf conf[] = {{"delta", "csv"}, {"alpha", "csv"}, {"beta", "csv"}, {"new", "http"}};
    sr_source_list l;
    cr_assert_eq(sr_sources_read(st, conf, 4, NOW, &l), 0);
    cr_assert_eq(l.n, 5);
    cr_assert_eq(l.n_configured, 4);
    const char *names[] = {"delta", "alpha", "beta", "new", "gone"};
    sr_source_state states[] = {SR_SOURCE_LATE, SR_SOURCE_FAILING, SR_SOURCE_LIVE, SR_SOURCE_LATE,
                                SR_SOURCE_LATE};
    for (size_t i = 0; i < 5; i++) {
        cr_assert_str_eq(l.v[i].h.name, names[i]);
        cr_assert_eq(l.v[i].state, states[i], "%s", names[i]);
        cr_assert_eq(l.v[i].configured, i < 4, "%s", names[i]);
        cr_assert_eq(l.v[i].polled, i != 3, "%s", names[i]);
    }
    cr_assert_str_eq(l.v[3].h.type, "http", "a source never polled has its configured type");
    cr_assert_str_eq(l.v[1].h.last_error, "HTTP 503");
    cr_assert_eq(l.live, 1, "only configured sources count");
    sr_source_list_fini(&l);
    cr_assert_null(l.v);

    /* without a config, every row of the cache, by name */
    cr_assert_eq(sr_sources_read(st, NULL, 0, NOW, &l), 0);
    cr_assert_eq(l.n, 4);
    cr_assert_eq(l.n_configured, 0);
    cr_assert_str_eq(l.v[0].h.name, "alpha");
    cr_assert_eq(l.live, 0);
    sr_source_list_fini(&l);
    sr_store_close(st);
    th_rmtree(dir);
}
