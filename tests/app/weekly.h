/*
 * weekly.h - the crafted series of the forecast tests that run the binary
 * (test_query_forecast.c, test_report_forecast.c): 14 weeks of hourly
 * counts before Mon 2025-11-10T00:00:00Z, written as `sitrep ingest` rows.
 * The pattern's Mon 00-08h is 2 4 6 8 10 2 4 6 = 42, every week.
 */
#ifndef TW_WEEKLY_H
#define TW_WEEKLY_H

#include <stdio.h>

#define T0 1762732800L /* Mon 2025-11-10T00:00:00Z: the origin */
#define HOUR 3600L
#define WH 168                 /* hours in a week */
#define NH (14 * WH)           /* hours of history */
#define START (T0 - NH * HOUR) /* hour 0 */

/* The count of hour i: 2 to 10 by the hour of the week. */
static inline int pattern(int i)
{
    return 2 + 2 * ((i % WH) % 5);
}

/* Writes count rows of metric at entity in hour i to f. */
static inline void rows(FILE *f, const char *metric, const char *entity, int i, int count)
{
    for (int c = 0; c < count; c++)
        fprintf(f, "%s,%s,%ld,1\n", metric, entity, START + i * HOUR + c * (HOUR / (count + 1)));
}

#endif
