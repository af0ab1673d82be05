/*
 * gen_samples.c - writes N synthetic response-time samples in the ingest
 * format (metric,entity,ts,value,key) spread evenly over DAYS days ending at
 * END (epoch seconds), over 64 units of a 4-level force. Deterministic.
 *
 *   gen_samples N DAYS END > file.csv
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rng.h"

static uint64_t state = 0x9e3779b97f4a7c15ULL;

static double uniform(void)
{
    return rng_uniform(&state);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: gen_samples N DAYS END_EPOCH_SECONDS\n");
        return 2;
    }
    long long n = atoll(argv[1]);
    double days = atof(argv[2]);
    long long end_ms = atoll(argv[3]) * 1000LL;
    long long span = (long long)(days * 86400000.0);
    static const char *const regions[] = {"north", "south", "east", "west"};
    static char buf[1 << 20];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    printf("metric,entity,ts,value,key\n");
    for (long long i = 0; i < n; i++) {
        long long ts = end_ms - span + (long long)((double)span * (double)i / (double)n);
        int unit = (int)(uniform() * 64);
        int district = unit / 4;
        /* lognormal around 10 minutes */
        double z = sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform());
        double v = 600 * exp(0.5 * z);
        printf("response_p1,force/%s/district-%d/unit-%d,%lld.%03lld,%.1f,b%lld\n",
               regions[district / 4], district + 1, unit + 1, ts / 1000, ts % 1000, v, i);
    }
    return 0;
}
