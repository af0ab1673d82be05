/*
 * Tests of metrics/common.c: durations, points in time (ISO-8601, epoch,
 * local times across daylight-saving changes), numbers, time zones.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../metrics/common.h"

static sr_ms t(const char *text, const char *tz)
{
    sr_ms ms = 0;
    int rc = sr_parse_time(text, tz, &ms);
    cr_assert_eq(rc, 0, "'%s' in %s: %s", text, tz ? tz : "UTC", sr_strerror(rc));
    return ms;
}

Test(common, durations)
{
    static const struct {
        const char *text;
        sr_ms ms;
    } ok[] = {{"500ms", 500},     {"5s", 5000},        {"10m", 600000},
              {"8h", 28800000},   {"14d", 1209600000}, {"2w", 1209600000},
              {"1h30m", 5400000}, {" 15m ", 900000},   {"1d12h", 129600000}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        sr_ms ms;
        cr_assert_eq(sr_parse_duration(ok[i].text, &ms), 0, "%s", ok[i].text);
        cr_assert_eq(ms, ok[i].ms, "%s", ok[i].text);
    }
    static const char *const bad[] = {"", "5", "fast", "5 s", "-5s", "0s", "5x", "1.5h", "h"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sr_ms ms;
        cr_assert_eq(sr_parse_duration(bad[i], &ms), SR_EINVAL, "'%s' accepted", bad[i]);
    }
    char buf[32];
    sr_format_duration(8 * SR_MS_HOUR, buf, sizeof buf);
    cr_assert_str_eq(buf, "8h");
    sr_format_duration(90 * SR_MS_SEC, buf, sizeof buf);
    cr_assert_str_eq(buf, "90s");
    sr_format_duration(1500, buf, sizeof buf);
    cr_assert_str_eq(buf, "1500ms");
}

Test(common, iso8601_and_epoch)
{
    cr_assert_eq(t("2015-03-01T10:00:00-08:00", NULL), 1425232800000LL);
    cr_assert_eq(t("2015-03-01T18:00:00Z", NULL), 1425232800000LL);
    cr_assert_eq(t("2015-03-01T18:00:00.250Z", NULL), 1425232800250LL);
    cr_assert_eq(t("2015-03-01T23:30:00+0530", NULL), 1425232800000LL);
    cr_assert_eq(t("2015-03-01", NULL), 1425168000000LL);
    cr_assert_eq(t("1425232800", NULL), 1425232800000LL);
    cr_assert_eq(t("1425232800.5", NULL), 1425232800500LL);
    sr_ms ms;
    static const char *const bad[] = {
        "yesterday", "2015-02-30", "2015-13-01", "2015-03-01T25:00", "2015-03-01T10:00:00+25:00",
        "",          "1e400",      "2015-03-01x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(sr_parse_time(bad[i], NULL, &ms), SR_EINVAL, "'%s' accepted", bad[i]);
}

Test(common, local_times_follow_daylight_saving)
{
    const char *la = "America/Los_Angeles";
    /* winter: UTC-8; summer: UTC-7 */
    cr_assert_eq(t("2024-01-15T12:00:00", la), t("2024-01-15T20:00:00Z", NULL));
    cr_assert_eq(t("2024-07-15T12:00:00", la), t("2024-07-15T19:00:00Z", NULL));
    cr_assert_eq(t("2024-07-15", la), t("2024-07-15T07:00:00Z", NULL));
    /* either side of the spring change (2024-03-10 02:00 local), read in order,
     * so that the remembered hour offsets are put to the test */
    cr_assert_eq(t("2024-03-10T01:59:59", la), t("2024-03-10T09:59:59Z", NULL));
    cr_assert_eq(t("2024-03-10T03:00:00", la), t("2024-03-10T10:00:00Z", NULL));
    cr_assert_eq(t("2024-03-10T01:30:00", la), t("2024-03-10T09:30:00Z", NULL));
    /* the autumn change (2024-11-03 02:00 local back to 01:00) */
    cr_assert_eq(t("2024-11-03T00:30:00", la), t("2024-11-03T07:30:00Z", NULL));
    cr_assert_eq(t("2024-11-03T03:00:00", la), t("2024-11-03T11:00:00Z", NULL));
    /* London, and a zone name that is not a zone */
    cr_assert_eq(t("2024-06-01T09:00:00", "Europe/London"), t("2024-06-01T08:00:00Z", NULL));
    sr_ms ms;
    cr_assert_eq(sr_parse_time("2024-06-01T09:00:00", "Mars/Olympus", &ms), SR_EINVAL);
    cr_assert(sr_tz_valid("Europe/London"));
    cr_assert(sr_tz_valid("UTC"));
    cr_assert_not(sr_tz_valid("Europe"), "a directory is not a zone");
    cr_assert_not(sr_tz_valid("../../etc/passwd"));
}

/* Plain decimals of every shape (signs, leading zeros, a point anywhere or
 * none, up to 20 digits, around 2^53) read exactly as strtod() reads them. */
Test(common, plain_decimals_read_as_strtod_reads_them)
{
    uint64_t seed = 3;
    char text[40];
    for (int i = 0; i < 200000; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t r = seed >> 20;
        size_t n = 0;
        if (r % 4 == 0)
            text[n++] = r % 8 ? '-' : '+';
        int ndig = 1 + (int)(r / 4 % 20), point = (int)(r / 80 % 24) - 1;
        uint64_t d = seed;
        for (int k = 0; k < ndig; k++) {
            if (k == point)
                text[n++] = '.';
            d = d * 6364136223846793005ULL + 1;
            text[n++] = (char)('0' + (d >> 60) % 10);
        }
        if (point == ndig)
            text[n++] = '.';
        text[n] = '\0';
        if (i % 1000 == 0) /* near 2^53 = 9007199254740992 */
            snprintf(text, sizeof text, "%.1f", 9007199254740990.0 + (double)(i / 1000 % 6));
        double got, want = strtod(text, NULL);
        cr_assert_eq(sr_parse_double(text, &got), 0, "'%s'", text);
        cr_assert(memcmp(&got, &want, sizeof got) == 0, "'%s': %.17g, want %.17g", text, got, want);
    }
    static const char *const edge[] = {"-0",
                                       "0.",
                                       ".5",
                                       "+.5",
                                       "-0.000",
                                       "007",
                                       "0.1",
                                       "0.3",
                                       "9007199254740993",
                                       "123456789012345678.9",
                                       "0.0000000000000000000001",
                                       "1e5"};
    for (size_t i = 0; i < sizeof edge / sizeof *edge; i++) {
        double got, want = strtod(edge[i], NULL);
        cr_assert_eq(sr_parse_double(edge[i], &got), 0, "'%s'", edge[i]);
        cr_assert(memcmp(&got, &want, sizeof got) == 0, "'%s': %.17g, want %.17g", edge[i], got,
                  want);
    }
    static const char *const bad[] = {"-", ".", "+-1", "1.2.3", "--5", "1-"};
    double v;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(sr_parse_double(bad[i], &v), SR_EINVAL, "'%s' accepted", bad[i]);
}

Test(common, numbers_and_words)
{
    double v;
    cr_assert_eq(sr_parse_double(" 12.5 ", &v), 0);
    cr_assert_float_eq(v, 12.5, 1e-12);
    cr_assert_eq(sr_parse_double("-3e2", &v), 0);
    cr_assert_float_eq(v, -300, 1e-12);
    static const char *const bad[] = {"", "nan", "inf", "0x10", "1,5", "12abc", "1e999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(sr_parse_double(bad[i], &v), SR_EINVAL, "'%s' accepted", bad[i]);
    cr_assert_eq(sr_edit_distance("taget", "target"), 1);
    cr_assert_eq(sr_edit_distance("metrc", "metric"), 1);
    cr_assert_eq(sr_edit_distance("abc", "abc"), 0);
    cr_assert_eq(sr_edit_distance("tr", "rt"), 1); /* a swap of neighbours is one slip */
    cr_assert_eq(sr_edit_distance("recieve", "receive"), 1);
    cr_assert_eq(sr_edit_distance("abc", "cba"), 2);
    cr_assert_eq(sr_edit_distance("", "abc"), 3);
    cr_assert_eq(sr_edit_distance("Window", "window"), 0);
    /* the one "did you mean" rule: 1 slip up to 3 letters, 2 up to 6, 3 beyond */
    static const char *const cands[] = {"rt", "window", "--from", NULL, "agg"};
    cr_assert_str_eq(sr_nearest("tr", cands, 5), "rt");
    cr_assert_null(sr_nearest("xy", cands, 5));
    cr_assert_str_eq(sr_nearest("windwo", cands, 5), "window");
    cr_assert_str_eq(sr_nearest("--fromm", cands, 5), "--from");
    cr_assert_null(sr_nearest("xyzdow", cands, 5)); /* 3 slips in 6 letters: too far */
    char buf[40];
    sr_format_time_utc(1425232800250LL, buf, sizeof buf);
    cr_assert_str_eq(buf, "2015-03-01T18:00:00.250Z");
    cr_assert_str_neq(sr_strerror(SR_ENOENT), sr_strerror(SR_EINVAL));
}

/* UTC to local against the C library's own localtime, every 2 minutes
 * across transitions of whole-hour zones and a half-hour one (Adelaide),
 * and in a 45-minute one: several times within each quarter hour, so that
 * the remembered offset serves most of them. */
Test(common, utc_to_local_remembers_offsets_exactly)
{
    static const char *const zones[] = {"Europe/Berlin", "Australia/Adelaide", "Asia/Kathmandu",
                                        "America/New_York"};
    static const sr_ms starts[] = {1711843200000LL,  /* 2024-03-31T00:00Z, Berlin's spring */
                                   1712415600000LL,  /* 2024-04-06T15:00Z, Adelaide's autumn */
                                   1730595600000LL}; /* 2024-11-03T01:00Z, around New York's */
    for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++) {
        for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
            for (sr_ms t = starts[s]; t < starts[s] + 8 * SR_MS_HOUR; t += 2 * SR_MS_MIN + 1000) {
                sr_civil c;
                cr_assert_eq(sr_utc_to_local(zones[z], t, &c), 0);
                setenv("TZ", zones[z], 1);
                tzset();
                time_t sec = (time_t)(t / 1000);
                struct tm tm;
                localtime_r(&sec, &tm);
                cr_assert(c.year == tm.tm_year + 1900 && c.mon == tm.tm_mon + 1 &&
                              c.mday == tm.tm_mday && c.hour == tm.tm_hour && c.min == tm.tm_min &&
                              c.sec == tm.tm_sec && c.wday == tm.tm_wday,
                          "%s at %lld: %04d-%02d-%02d %02d:%02d:%02d, not %02d:%02d", zones[z],
                          (long long)t, c.year, c.mon, c.mday, c.hour, c.min, c.sec, tm.tm_hour,
                          tm.tm_min);
            }
        }
    }
    unsetenv("TZ");
    tzset();
}

Test(common, the_folder_of_a_file_name)
{
    static const char *const cases[][2] = {
        {"cache.db", "."},    {"/cache.db", "/"}, {"/var/lib/sitrep/cache.db", "/var/lib/sitrep"},
        {"rel/x.ini", "rel"}, {"a//b", "a/"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *f = sr_path_folder(cases[i][0]);
        cr_assert_str_eq(f, cases[i][1], "the folder of %s", cases[i][0]);
        free(f);
    }
}

/* The shortest text that reads back as the same double (JSON, CSV). */
Test(common, a_double_as_its_shortest_exact_text)
{
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {0.1, "0.1"},
        {192793629.14, "192793629.14"}, /* %.10g: 192793629.1 */
        {0.1 + 0.2, "0.30000000000000004"},
        {63378835.010000005, "63378835.010000005"},
        {17, "17"},
        {-2.5, "-2.5"},
        {1.7e308, "1.7e+308"},
        {5e-324, "4.94065645841247e-324"},
    };
    char buf[40];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sr_format_double(cases[i].v, buf, sizeof buf);
        cr_assert_str_eq(buf, cases[i].want);
        cr_assert(strtod(buf, NULL) == cases[i].v, "%s does not read back", buf);
    }
    sr_format_double(NAN, buf, sizeof buf);
    cr_assert_str_eq(buf, "", "no data: the caller says");
    sr_format_double(INFINITY, buf, sizeof buf);
    cr_assert_str_eq(buf, "");
}
