/*
 * gen_calls.c - writes N synthetic calls for service as a CAD system
 * exports them (the columns and quirks of the Seattle calls in
 * tests/fixtures: 12-hour local times in America/Los_Angeles, quoted
 * fields with commas, an ONVIEW call type for officer-initiated events, a
 * blank arrival now and then), and the same calls already mapped, in the
 * ingest format, as the baseline for the csv adapter's figure.
 *
 *   gen_calls N CALLS.csv SAMPLES.csv
 *
 * Times are written as if Pacific standard time all year (UTC-8): the
 * ingest file's offsets then agree with the adapter's zone conversion
 * except in summer, where both files still carry one sample per call.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rng.h"

static uint64_t state = 0x2545f4914f6cdd1dULL;

static double uniform(void)
{
    return rng_uniform(&state);
}

static void when(char *buf, size_t len, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%m/%d/%Y %I:%M:%S %p", &tm);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: gen_calls N CALLS.csv SAMPLES.csv\n");
        return 2;
    }
    long long n = atoll(argv[1]);
    FILE *calls = fopen(argv[2], "w"), *samples = fopen(argv[3], "w");
    if (!calls || !samples) {
        perror("gen_calls");
        return 1;
    }
    static char b1[1 << 20], b2[1 << 20];
    setvbuf(calls, b1, _IOFBF, sizeof b1);
    setvbuf(samples, b2, _IOFBF, sizeof b2);
    static const char *const precincts[] = {"EAST", "NORTH", "SOUTH", "WEST"};
    static const char *const types[] = {"911", "\"TELEPHONE OTHER, NOT 911\"", "ONVIEW"};
    fprintf(calls, "\xEF\xBB\xBF"
                   "CAD Event Number,Call Type,Priority,Initial Call Type,Original Time "
                   "Queued,Arrived Time,Precinct,Sector,Beat\r\n");
    fprintf(samples, "metric,entity,ts,value,key\n");
    time_t t0 = 1672531200; /* 2023-01-01 00:00 in the export's clock */
    for (long long i = 0; i < n; i++) {
        time_t q = t0 + (time_t)(i * 31 % (365 * 86400LL));
        int type = uniform() < 0.1 ? 2 : uniform() < 0.7 ? 0 : 1;
        int prio = 1 + (int)(uniform() * 3);
        double z = sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform());
        long secs = type == 2 ? 0 : (long)(300 * prio * exp(0.6 * z));
        int blank = type != 2 && uniform() < 0.03;
        int p = (int)(uniform() * 4), s = (int)(uniform() * 4), b = (int)(uniform() * 3);
        char qs[40], as[40] = "";
        when(qs, sizeof qs, q);
        if (!blank)
            when(as, sizeof as, q + secs);
        fprintf(calls, "%lld,%s,%d,\"SUSPICIOUS PERSON, VEHICLE OR INCIDENT\",%s,%s,%s,%c,%c%d\r\n",
                2023000000000LL + i, types[type], prio, qs, as, precincts[p], 'A' + s, 'A' + s,
                b + 1);
        if (type != 2 && !blank)
            fprintf(samples, "response_p%d,seattle/%s/%c/%c%d,%lld,%ld,%lld\n", prio, precincts[p],
                    'A' + s, 'A' + s, b + 1, (long long)q + 8 * 3600, secs, 2023000000000LL + i);
    }
    return fclose(calls) || fclose(samples) ? 1 : 0;
}
