/*
 * gen_force.c - a large force's year for `make bench`, in the ingest format
 * (metric,entity,ts,value,key) on standard output, in time order, so that
 * `gen_force ... | sitrep ingest -` fills a cache through the real ingest.
 *
 *   gen_force N DAYS END_EPOCH_SECONDS   N event samples over DAYS days ending at END
 *   gen_force --version                  the generator's version (part of the bench's
 *                                        cache key: change it when the output changes)
 *
 * The force: 4 regions x 16 districts x 4 units (force/north/district-1/unit-1
 * ... force/west/district-16/unit-4, 256 units). The events are the response
 * times of config.ini's three event metrics (response_p1 20 %, response_p2
 * 45 %, response_p3 35 %, each lognormal around its own median), spread
 * evenly over the span on units drawn at random. The gauges: every district's
 * cases_open, vehicles_in_service and fleet_size once a day at midnight UTC
 * (64 x 3 a day, whatever N). Deterministic.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

#define GEN_FORCE_VERSION 1
#define REGIONS 4
#define DISTRICTS 16 /* per region */
#define UNITS 4      /* per district */
#define DAY_MS 86400000LL

static uint64_t state = 0x9e3779b97f4a7c15ULL;

static double uniform(void)
{
    return rng_uniform(&state);
}

static double normal(void)
{
    return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform());
}

static const char *const regions[REGIONS] = {"north", "south", "east", "west"};

/* The gauges of every district at day's start ts (ms). */
static void gauges(long long ts, long long day)
{
    for (int d = 0; d < REGIONS * DISTRICTS; d++) {
        const char *r = regions[d / DISTRICTS];
        int dn = d % DISTRICTS + 1;
        double open = floor(120 + 40 * sin((double)day / 29.0 + d) + 10 * normal());
        double fleet = 12 + d % 5;
        double in_service = floor(fleet * (0.7 + 0.2 * uniform()));
        printf("cases_open,force/%s/district-%d,%lld,%.0f,g%lld-%d-o\n", r, dn, ts / 1000,
               open < 0 ? 0 : open, day, d);
        printf("vehicles_in_service,force/%s/district-%d,%lld,%.0f,g%lld-%d-v\n", r, dn, ts / 1000,
               in_service, day, d);
        printf("fleet_size,force/%s/district-%d,%lld,%.0f,g%lld-%d-f\n", r, dn, ts / 1000, fleet,
               day, d);
    }
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("%d\n", GEN_FORCE_VERSION);
        return 0;
    }
    if (argc != 4) {
        fprintf(stderr, "usage: gen_force N DAYS END_EPOCH_SECONDS | gen_force --version\n");
        return 2;
    }
    long long n = atoll(argv[1]);
    double days = atof(argv[2]);
    long long end_ms = atoll(argv[3]) * 1000LL;
    long long span = (long long)(days * (double)DAY_MS);
    long long start = end_ms - span;
    static const struct {
        const char *name;
        double share, median; /* of the events; seconds */
    } ev[] = {{"response_p1", 0.20, 600}, {"response_p2", 0.45, 2400}, {"response_p3", 0.35, 9000}};
    static char buf[1 << 20];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    printf("metric,entity,ts,value,key\n");
    long long next_day = (start + DAY_MS - 1) / DAY_MS * DAY_MS;
    for (long long i = 0; i < n; i++) {
        long long ts = start + (long long)((double)span * (double)i / (double)n);
        while (next_day <= ts) {
            gauges(next_day, next_day / DAY_MS);
            next_day += DAY_MS;
        }
        double u = uniform();
        int k = u < ev[0].share ? 0 : u < ev[0].share + ev[1].share ? 1 : 2;
        int unit = (int)(uniform() * REGIONS * DISTRICTS * UNITS);
        int district = unit / UNITS;
        double v = ev[k].median * exp(0.5 * normal());
        printf("%s,force/%s/district-%d/unit-%d,%lld.%03lld,%.1f,f%lld\n", ev[k].name,
               regions[district / DISTRICTS], district % DISTRICTS + 1, unit % UNITS + 1, ts / 1000,
               ts % 1000, v, i);
    }
    return 0;
}
