/*
 * sim.c - the built-in simulator adapter (type "sim"): a synthetic police
 * force that emits every KPI family sitrep knows, for demos, tests and
 * benchmarks.
 *
 * The force is a fixed tree: ROOT -> 4 regions (north south east west) ->
 * 16 districts (district-1..16, numbered across the force, 4 per region) ->
 * 64 units (unit-1..64, 4 per district) -> 12 officers per unit
 * (officer-NNNN: the unit's number times 100 plus 1..12, so officer-1203 is
 * the third of unit-12). Every sample is emitted at unit level
 * ("force/north/district-3/unit-12") except officer_overtime, the one
 * personal-level metric: the same overtime as the unit's overtime_hours,
 * slot by slot, shared out by quarter hours among its officers and emitted
 * per officer ("force/north/district-3/unit-12/officer-1203") for the slots
 * in which that officer worked overtime.
 *
 * What it models, per unit and 15-minute slot:
 *   - calls for service (Poisson, daily and weekly rhythm: quiet before
 *     dawn, busy afternoons and evenings, Friday and Saturday nights
 *     busiest); a share of the calls become P1/P2/P3 incidents whose
 *     response time is log-normal, longer when busy and in rural units;
 *   - officers on duty by shift (07-15, 15-23, 23-07), overtime that rises
 *     with load, and the euros that staff and vehicles cost against a plan
 *     (spending drifts slowly around 95-105% of plan);
 *   - open cases split into five age buckets, vehicles in service out of
 *     the fleet, equipment in use out of what is available;
 *   - occasionally (a few times a fortnight) a district has a spike of a
 *     few hours: three times the calls, response times 1.5-2x, officers
 *     called in on overtime;
 *   - on demand (option surge = district-N), a surge for demos: that
 *     district has eight times its calls, response times 1.8x and officers
 *     on overtime from 3 hours before the first poll's now to 3 hours
 *     after, so that a figure against its normal is unusual whenever the
 *     demo starts (eight times one district of sixteen is 44 % more
 *     calls for the force, nearly three times as many for its region).
 *
 * Determinism invariant: every sample is a pure function of (seed, unit,
 * slot) and, with surge, of the surge's window (fixed at the first poll); the random numbers come
 * from a counter-based generator (splitmix64 seeded by hashing seed, a stream id, the unit and the
 * slot), never from state carried between polls. Each sample has an availability time:
 *   - counters: the end of their 15-minute slot;
 *   - gauges: the end of their 30-minute period (see SIM_GAUGE_MS);
 *   - events: the arrival time of the first unit (queued + response).
 * A poll over (a, b] emits exactly the samples available in (a, b]. These
 * intervals partition the time line, so any way of cutting it into polls
 * emits the same set of samples, and the source key of each sample is
 * stable, so overlapping polls are harmless.
 *
 * Gauges are sampled every 30 minutes rather than every 15: at 15 minutes
 * a 14-day backfill would be ~1.3 million samples, at 30 it is ~0.9
 * million (counters keep their 15-minute slots, so sums stay exact).
 *
 * Time of day is UTC: the simulated force lives on UTC.
 */
#include "adapter.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SIM_SEC_MS 1000LL
#define SIM_MIN_MS (60 * SIM_SEC_MS)
#define SIM_HOUR_MS (60 * SIM_MIN_MS)
#define SIM_DAY_MS (24 * SIM_HOUR_MS)

#define SIM_SLOT_MS (15 * SIM_MIN_MS)  /* counters */
#define SIM_GAUGE_MS (2 * SIM_SLOT_MS) /* gauges: one sample per two slots */
#define SIM_SLOTS_PER_DAY 96
#define SIM_CHUNK_MS SIM_DAY_MS /* at most this much per poll */
#define SIM_STEP_MS SIM_HOUR_MS /* timeout checked between steps */
#define SIM_MAX_RESPONSE_MS (12 * SIM_HOUR_MS)
#define SIM_BACKFILL_MAX_MS (366 * SIM_DAY_MS)

#define SIM_REGIONS 4
#define SIM_UNITS 64
#define SIM_ROOT_MAX 64
#define SIM_ENTITY_MAX (SIM_ROOT_MAX + 40)
#define SIM_CALLS_MAX 64 /* per unit and slot; the mean is at most ~6 */
#define SIM_KEY_MAX 80
#define SIM_OFFICERS 12 /* per unit */

/* Model parameters. */
#define SIM_CALLS_PER_SLOT 0.6 /* mean for an average unit at demand 1 */
#define SIM_SPIKE_P 0.03       /* chance of a spike per district and day */
#define SIM_SURGE_CALLS 8.0    /* the demo surge's call multiplier */
#define SIM_SURGE_RESPONSE 1.8 /* and its response multiplier */
/* The demo surge runs this long either side of the first poll. */
#define SIM_SURGE_HALF_MS (3 * SIM_HOUR_MS)
#define SIM_DISTRICTS (SIM_UNITS / 4)
#define SIM_RATE_EUR 52.0    /* an officer-hour */
#define SIM_OT_PREMIUM 1.5   /* overtime costs this much more per hour */
#define SIM_VEHICLE_EUR 3.0  /* a vehicle of the fleet, per slot */
#define SIM_OT_PER_SLOT 0.35 /* officers on overtime at demand 1 */
#define SIM_TAU 6.283185307179586

/* Random streams: one per independent quantity, so that adding a quantity
 * never changes the others. */
enum {
    S_TRAIT = 1,
    S_CALLS,
    S_SHIFT,
    S_OVERTIME,
    S_BUDGET,
    S_DRIFT,
    S_CASES,
    S_CASES_FAST,
    S_BUCKET,
    S_MAINT,
    S_EQUIP,
    S_EQUIP_SLOT,
    S_SPIKE,
    S_OFFICER,
};

static const char *const region_names[SIM_REGIONS] = {"north", "south", "east", "west"};

/* Relative call demand by hour of day (UTC), peaking late afternoon. */
static const double hourly_demand[24] = {
    0.80, 0.70, 0.55, 0.45, 0.40, 0.40, 0.50, 0.70, 0.85, 0.95, 1.00, 1.05,
    1.10, 1.15, 1.20, 1.30, 1.40, 1.45, 1.45, 1.40, 1.30, 1.20, 1.05, 0.90,
};

/* Incident priorities: share of calls, median response, spread, bounds. */
typedef struct {
    const char *metric;
    double share;        /* of all calls */
    double median_s;     /* at demand 1, distance 1 */
    double sigma;        /* of the log-normal */
    double min_s, max_s; /* clamp; max_s <= SIM_MAX_RESPONSE_MS */
} sim_priority;

static const sim_priority priorities[] = {
    {"response_p1", 0.08, 9.5 * 60, 0.30, 60, 2 * 3600},
    {"response_p2", 0.27, 30.0 * 60, 0.35, 180, 6 * 3600},
    {"response_p3", 0.25, 110.0 * 60, 0.40, 900, 12 * 3600},
};
#define SIM_PRIORITIES (sizeof priorities / sizeof priorities[0])

static const char *const bucket_metrics[5] = {
    "cases_age_0_30",    "cases_age_31_90",    "cases_age_91_180",
    "cases_age_181_365", "cases_age_over_365",
};
static const double bucket_share[5] = {0.36, 0.27, 0.17, 0.12, 0.08};

/* What never changes for a unit (a function of seed and unit alone). */
typedef struct {
    char entity[SIM_ENTITY_MAX];
    int number;      /* 1..64, as in the path */
    int district;    /* 0..15 */
    double demand;   /* call multiplier, 0.6..1.5 (rural..urban) */
    double distance; /* response multiplier, 0.85..1.2 (urban..rural) */
    double staff;    /* planned officers on duty before the shift profile */
    int fleet;       /* vehicles, 3..6 */
    int equipment;   /* radios and body cams held, 28..32 */
    double cases;    /* typical open cases, 65..100 */
} sim_unit;

typedef struct {
    uint64_t seed;
    int64_t backfill_ms;
    int64_t origin_ms;                  /* where the backfill under way began; 0 = none */
    int surge;                          /* the district (0..15) of the demo surge; -1 = none */
    int64_t surge_from_ms, surge_to_ms; /* its window, set by the first poll; 0 = not yet */
    sim_unit units[SIM_UNITS];
} sim_state;

/* One call for service within a slot. */
typedef struct {
    int64_t queued_ms;
    int priority;      /* index into priorities, or -1: not attended */
    double response_s; /* whole seconds */
} sim_call;

/* Division rounding towards minus infinity. */
static int64_t sim_floordiv(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* ---- random numbers ---- */

typedef struct {
    uint64_t s;
} sim_rng;

/* The splitmix64 finaliser: a bijective 64-bit mix. */
static uint64_t sim_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A generator for one (seed, stream, a, b): the same inputs always give
 * the same sequence, different inputs independent-looking ones. */
static sim_rng sim_rng_at(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b)
{
    uint64_t h = sim_mix(seed + 0x9e3779b97f4a7c15u);
    h = sim_mix(h ^ (stream * 0xd1b54a32d192ed03u));
    h = sim_mix(h ^ (a + 0x632be59bd9b4e019u));
    h = sim_mix(h ^ (b * 0x8cb92ba72f3d8dd7u));
    return (sim_rng){h};
}

/* splitmix64. */
static uint64_t sim_next(sim_rng *r)
{
    r->s += 0x9e3779b97f4a7c15u;
    return sim_mix(r->s);
}

/* Uniform in (0, 1), never 0 nor 1. */
static double sim_unif(sim_rng *r)
{
    return ((double)(sim_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Standard normal (Box-Muller). */
static double sim_normal(sim_rng *r)
{
    double u1 = sim_unif(r), u2 = sim_unif(r);
    return sqrt(-2.0 * log(u1)) * cos(SIM_TAU * u2);
}

/* Poisson with mean lambda (Knuth; lambda is small here), at most cap. */
static int sim_poisson(sim_rng *r, double lambda, int cap)
{
    double limit = exp(-lambda), p = sim_unif(r);
    int k = 0;
    while (p > limit && k < cap) {
        k++;
        p *= sim_unif(r);
    }
    return k;
}

/* Smooth noise in [-1, 1] over time: random knots every period_ms, joined
 * by smoothstep. Used for slow drifts that must not depend on history. */
static double sim_smooth(uint64_t seed, uint64_t stream, uint64_t a, int64_t t_ms,
                         int64_t period_ms)
{
    int64_t k = sim_floordiv(t_ms, period_ms);
    double x = (double)(t_ms - k * period_ms) / (double)period_ms;
    sim_rng r0 = sim_rng_at(seed, stream, a, (uint64_t)k);
    sim_rng r1 = sim_rng_at(seed, stream, a, (uint64_t)(k + 1));
    double v0 = 2 * sim_unif(&r0) - 1, v1 = 2 * sim_unif(&r1) - 1;
    double f = x * x * (3 - 2 * x);
    return v0 + (v1 - v0) * f;
}

/* ---- calendar ---- */

static int sim_slot_in_day(int64_t slot)
{
    return (int)(slot - sim_floordiv(slot, SIM_SLOTS_PER_DAY) * SIM_SLOTS_PER_DAY);
}

/* 0 = Sunday ... 6 = Saturday; day 0 (1970-01-01) was a Thursday. */
static int sim_weekday(int64_t day)
{
    return (int)(day + 4 - sim_floordiv(day + 4, 7) * 7);
}

/* Friday and Saturday nights, 20:00 to 04:00. */
static int sim_weekend_night(int64_t slot)
{
    int h = sim_slot_in_day(slot) / 4;
    int wd = sim_weekday(sim_floordiv(slot, SIM_SLOTS_PER_DAY));
    return (wd == 5 && h >= 20) || (wd == 6 && (h < 4 || h >= 20)) || (wd == 0 && h < 4);
}

/* Expected call demand of a slot relative to an average hour. */
static double sim_demand(int64_t slot)
{
    double d = hourly_demand[sim_slot_in_day(slot) / 4];
    return sim_weekend_night(slot) ? d * 1.6 : d;
}

/* ---- the model: each function is pure in (state, unit, slot) ---- */

typedef struct {
    double calls;    /* call multiplier: 1, or 3 in a spike */
    double response; /* response multiplier: 1, or 1.5..2 in a spike */
} sim_spike;

/* Whether a district is in a spike during a slot. At most one spike per
 * district and day, 2 to 5 hours long, within the day; the demo surge
 * (option surge) takes precedence in its window. */
static sim_spike sim_spike_at(const sim_state *st, int district, int64_t slot)
{
    sim_spike sp = {1.0, 1.0};
    int64_t t = slot * SIM_SLOT_MS;
    if (district == st->surge && st->surge_to_ms > 0 && t >= st->surge_from_ms &&
        t < st->surge_to_ms)
        return (sim_spike){SIM_SURGE_CALLS, SIM_SURGE_RESPONSE};
    int64_t day = sim_floordiv(slot, SIM_SLOTS_PER_DAY);
    sim_rng r = sim_rng_at(st->seed, S_SPIKE, (uint64_t)district, (uint64_t)day);
    if (sim_unif(&r) >= SIM_SPIKE_P)
        return sp;
    int len = 8 + (int)(sim_next(&r) % 13);
    int start = (int)(sim_next(&r) % (uint64_t)(SIM_SLOTS_PER_DAY - len + 1));
    double resp = 1.5 + 0.5 * sim_unif(&r);
    int s = sim_slot_in_day(slot);
    if (s >= start && s < start + len) {
        sp.calls = 3.0;
        sp.response = resp;
    }
    return sp;
}

/* Planned officers on duty in a slot: by shift (day 07-15, late 15-23,
 * night 23-07), the night shift staffed up on Friday and Saturday. Sets
 * *shift to a global shift number, for noise that lasts a whole shift. */
static double sim_planned_officers(const sim_unit *u, int64_t slot, int64_t *shift)
{
    int64_t t = slot * SIM_SLOT_MS - 7 * SIM_HOUR_MS;
    int64_t id = sim_floordiv(t, 8 * SIM_HOUR_MS);
    int kind = (int)(id - sim_floordiv(id, 3) * 3); /* 0 day, 1 late, 2 night */
    double f = kind == 0 ? 1.10 : kind == 1 ? 1.15 : 0.85;
    if (kind == 2) {
        int64_t start = id * 8 * SIM_HOUR_MS + 7 * SIM_HOUR_MS;
        int wd = sim_weekday(sim_floordiv(start, SIM_DAY_MS));
        if (wd == 5 || wd == 6)
            f = 1.10;
    }
    *shift = id;
    return u->staff * f;
}

/* Officers actually on duty: the plan plus sickness and swaps, constant
 * over a shift, 7 to 13. */
static int sim_officers(const sim_state *st, int unit, int64_t slot, double *planned)
{
    int64_t shift;
    double p = sim_planned_officers(&st->units[unit], slot, &shift);
    sim_rng r = sim_rng_at(st->seed, S_SHIFT, (uint64_t)unit, (uint64_t)shift);
    long n = lround(p + 0.8 * sim_normal(&r));
    if (planned)
        *planned = p;
    return n < 7 ? 7 : n > 13 ? 13 : (int)n;
}

/*
 * The calls of one unit in one slot, in order, into out (room for
 * SIM_CALLS_MAX). Returns how many. Each call is queued at a whole second
 * within the slot; attended ones get a priority and a response time.
 */
static int sim_calls(const sim_state *st, int unit, int64_t slot, sim_call *out)
{
    const sim_unit *u = &st->units[unit];
    sim_spike sp = sim_spike_at(st, u->district, slot);
    double demand = sim_demand(slot);
    sim_rng r = sim_rng_at(st->seed, S_CALLS, (uint64_t)unit, (uint64_t)slot);
    double lambda = SIM_CALLS_PER_SLOT * u->demand * demand * sp.calls;
    int n = sim_poisson(&r, lambda, SIM_CALLS_MAX);
    double busy = 1.0 + 0.25 * (demand - 1.0);
    for (int i = 0; i < n; i++) {
        sim_call *c = &out[i];
        c->queued_ms = slot * SIM_SLOT_MS + (int64_t)(sim_next(&r) % 900) * SIM_SEC_MS;
        double pick = sim_unif(&r), z = sim_normal(&r);
        c->priority = -1;
        c->response_s = 0;
        for (size_t p = 0; p < SIM_PRIORITIES; p++) {
            if (pick < priorities[p].share) {
                const sim_priority *pr = &priorities[p];
                double s = pr->median_s * u->distance * busy * sp.response * exp(pr->sigma * z);
                s = s < pr->min_s ? pr->min_s : s > pr->max_s ? pr->max_s : s;
                c->priority = (int)p;
                c->response_s = round(s);
                break;
            }
            pick -= priorities[p].share;
        }
    }
    return n;
}

/* The counters of one unit and slot. */
typedef struct {
    int calls;
    double regular_hours, overtime_hours;
    double budget_spent, budget_plan; /* EUR, to the cent */
} sim_counters;

static sim_counters sim_counters_at(const sim_state *st, int unit, int64_t slot)
{
    const sim_unit *u = &st->units[unit];
    sim_call calls[SIM_CALLS_MAX];
    sim_counters c;
    double planned;
    int officers = sim_officers(st, unit, slot, &planned);
    double demand = sim_demand(slot);
    sim_spike sp = sim_spike_at(st, u->district, slot);

    c.calls = sim_calls(st, unit, slot, calls);
    c.regular_hours = officers * 0.25;

    sim_rng r = sim_rng_at(st->seed, S_OVERTIME, (uint64_t)unit, (uint64_t)slot);
    double ot_lambda = SIM_OT_PER_SLOT * demand + (sp.calls > 1 ? 2.5 : 0.0);
    c.overtime_hours = sim_poisson(&r, ot_lambda, 20) * 0.25;

    double plan = planned * 0.25 * SIM_RATE_EUR +
                  SIM_OT_PER_SLOT * demand * 0.25 * SIM_RATE_EUR * SIM_OT_PREMIUM +
                  u->fleet * SIM_VEHICLE_EUR;
    int64_t t = slot * SIM_SLOT_MS;
    double drift = 0.035 * sim_smooth(st->seed, S_DRIFT, (uint64_t)unit, t, 6 * SIM_DAY_MS) +
                   0.015 * sim_smooth(st->seed, S_DRIFT, SIM_UNITS, t, 11 * SIM_DAY_MS);
    sim_rng b = sim_rng_at(st->seed, S_BUDGET, (uint64_t)unit, (uint64_t)slot);
    double spent = (c.regular_hours * SIM_RATE_EUR +
                    c.overtime_hours * SIM_RATE_EUR * SIM_OT_PREMIUM + u->fleet * SIM_VEHICLE_EUR) *
                   (1.0 + drift + 0.02 * sim_normal(&b));
    c.budget_plan = round(plan * 100) / 100;
    c.budget_spent = round((spent < 0 ? 0 : spent) * 100) / 100;
    return c;
}

/* The gauges of one unit at the start of a slot (an even one). */
typedef struct {
    int cases_open, buckets[5];
    int vehicles_in_service, fleet_size;
    int equipment_in_use, equipment_available;
} sim_gauges;

/* Splits total over the bucket shares by largest remainder, so the buckets
 * sum exactly to total. */
static void sim_split(int total, const double share[5], int out[5])
{
    double rem[5];
    int given = 0;
    for (int i = 0; i < 5; i++) {
        double x = total * share[i];
        out[i] = (int)floor(x);
        rem[i] = x - out[i];
        given += out[i];
    }
    while (given < total) {
        int best = 0;
        for (int i = 1; i < 5; i++) {
            if (rem[i] > rem[best])
                best = i;
        }
        out[best]++;
        rem[best] = -1;
        given++;
    }
}

static sim_gauges sim_gauges_at(const sim_state *st, int unit, int64_t slot)
{
    const sim_unit *u = &st->units[unit];
    sim_gauges g;
    int64_t t = slot * SIM_SLOT_MS;
    int64_t day = sim_floordiv(slot, SIM_SLOTS_PER_DAY);
    int officers = sim_officers(st, unit, slot, NULL);

    double open =
        u->cases * (1.0 + 0.15 * sim_smooth(st->seed, S_CASES, (uint64_t)unit, t, 3 * SIM_DAY_MS) +
                    0.04 * sim_smooth(st->seed, S_CASES_FAST, (uint64_t)unit, t, 16 * SIM_HOUR_MS));
    long n = lround(open);
    g.cases_open = n < 40 ? 40 : n > 150 ? 150 : (int)n;
    double share[5], sum = 0;
    for (int i = 0; i < 5; i++) {
        uint64_t stream = (uint64_t)unit * 8 + (uint64_t)i;
        share[i] = bucket_share[i] *
                   (1.0 + 0.3 * sim_smooth(st->seed, S_BUCKET, stream, t, 5 * SIM_DAY_MS));
        sum += share[i];
    }
    for (int i = 0; i < 5; i++)
        share[i] /= sum;
    sim_split(g.cases_open, share, g.buckets);

    sim_rng m = sim_rng_at(st->seed, S_MAINT, (uint64_t)unit, (uint64_t)day);
    double x = sim_unif(&m);
    int maint = x < 0.03 ? 2 : x < 0.15 ? 1 : 0;
    g.fleet_size = u->fleet;
    int usable = u->fleet - maint;
    int wanted = (int)lround(officers * 0.45);
    g.vehicles_in_service = wanted < usable ? wanted : usable;

    sim_rng e = sim_rng_at(st->seed, S_EQUIP, (uint64_t)unit, (uint64_t)day);
    g.equipment_available = u->equipment - (int)(sim_next(&e) % 4);
    sim_rng es = sim_rng_at(st->seed, S_EQUIP_SLOT, (uint64_t)unit, (uint64_t)slot);
    int carried = (int)lround(officers * (1.75 + 0.2 * sim_unif(&es)));
    g.equipment_in_use = carried < g.equipment_available ? carried : g.equipment_available;
    return g;
}

/* ---- emitting ---- */

typedef struct {
    sr_sink *sink;
    char *err;
    size_t errlen;
    int failed;
} sim_out;

/* Hands one sample to the sink. Returns 0, or -1 (with the message set)
 * when the sink refuses it. */
static int sim_emit(sim_out *o, const char *metric, const sim_unit *u, int64_t ts_ms, double value,
                    const char *key)
{
    sr_ad_sample s = {
        .metric = metric, .entity = u->entity, .ts_ms = ts_ms, .value = value, .key = key};
    if (o->sink->emit(o->sink, &s) < 0) {
        snprintf(o->err, o->errlen, "the sink refused a sample (%s %s); stopping this poll", metric,
                 u->entity);
        o->failed = 1;
        return -1;
    }
    return 0;
}

/*
 * The overtime of one unit's slot shared out among its officers: each of the
 * slot's quarter hours goes to one officer, so the officers' hours add up to
 * the unit's overtime_hours exactly. Emits one officer_overtime sample per
 * officer with overtime, keyed "officer_overtime-<officer>-<slot>".
 */
static int sim_emit_officers(const sim_state *st, sim_out *o, int unit, int64_t slot,
                             double overtime_hours)
{
    const sim_unit *u = &st->units[unit];
    int quarters[SIM_OFFICERS] = {0};
    int n = (int)lround(overtime_hours / 0.25);
    sim_rng r = sim_rng_at(st->seed, S_OFFICER, (uint64_t)unit, (uint64_t)slot);
    for (int i = 0; i < n; i++)
        quarters[sim_next(&r) % SIM_OFFICERS]++;
    for (int k = 0; k < SIM_OFFICERS; k++) {
        if (!quarters[k])
            continue;
        int number = u->number * 100 + k + 1;
        char entity[SIM_ENTITY_MAX + 24], key[SIM_KEY_MAX];
        snprintf(entity, sizeof entity, "%s/officer-%04d", u->entity, number);
        snprintf(key, sizeof key, "officer_overtime-%d-%" PRId64, number, slot);
        sr_ad_sample s = {.metric = "officer_overtime",
                          .entity = entity,
                          .ts_ms = slot * SIM_SLOT_MS,
                          .value = quarters[k] * 0.25,
                          .key = key};
        if (o->sink->emit(o->sink, &s) < 0) {
            snprintf(o->err, o->errlen,
                     "the sink refused a sample (officer_overtime %s); stopping this poll", entity);
            o->failed = 1;
            return -1;
        }
    }
    return 0;
}

/* A counter or gauge sample keyed "<metric>-<unit>-<slot>". */
static int sim_emit_slot(sim_out *o, const char *metric, const sim_unit *u, int64_t slot,
                         double value)
{
    char key[SIM_KEY_MAX];
    snprintf(key, sizeof key, "%s-%d-%" PRId64, metric, u->number, slot);
    return sim_emit(o, metric, u, slot * SIM_SLOT_MS, value, key);
}

/*
 * Emits every sample of one unit available in (a, b]: the counters of the
 * slots ending in it, the gauges of the periods ending in it, and the
 * incidents whose first unit arrives in it.
 */
static int sim_emit_unit(const sim_state *st, int unit, int64_t a, int64_t b, sim_out *o)
{
    const sim_unit *u = &st->units[unit];

    for (int64_t s = sim_floordiv(a, SIM_SLOT_MS); s < sim_floordiv(b, SIM_SLOT_MS); s++) {
        sim_counters c = sim_counters_at(st, unit, s);
        if (sim_emit_slot(o, "calls", u, s, c.calls) < 0 ||
            sim_emit_slot(o, "regular_hours", u, s, c.regular_hours) < 0 ||
            sim_emit_slot(o, "overtime_hours", u, s, c.overtime_hours) < 0 ||
            sim_emit_slot(o, "budget_spent", u, s, c.budget_spent) < 0 ||
            sim_emit_slot(o, "budget_plan", u, s, c.budget_plan) < 0 ||
            sim_emit_officers(st, o, unit, s, c.overtime_hours) < 0)
            return -1;
    }

    for (int64_t p = sim_floordiv(a, SIM_GAUGE_MS); p < sim_floordiv(b, SIM_GAUGE_MS); p++) {
        int64_t s = p * (SIM_GAUGE_MS / SIM_SLOT_MS);
        sim_gauges g = sim_gauges_at(st, unit, s);
        if (sim_emit_slot(o, "cases_open", u, s, g.cases_open) < 0)
            return -1;
        for (int i = 0; i < 5; i++) {
            if (sim_emit_slot(o, bucket_metrics[i], u, s, g.buckets[i]) < 0)
                return -1;
        }
        if (sim_emit_slot(o, "vehicles_in_service", u, s, g.vehicles_in_service) < 0 ||
            sim_emit_slot(o, "fleet_size", u, s, g.fleet_size) < 0 ||
            sim_emit_slot(o, "equipment_in_use", u, s, g.equipment_in_use) < 0 ||
            sim_emit_slot(o, "equipment_available", u, s, g.equipment_available) < 0)
            return -1;
    }

    /* Incidents arriving in (a, b] were queued in [a - max response, b). */
    sim_call calls[SIM_CALLS_MAX];
    int64_t first = sim_floordiv(a - SIM_MAX_RESPONSE_MS, SIM_SLOT_MS);
    for (int64_t s = first; s <= sim_floordiv(b, SIM_SLOT_MS); s++) {
        int n = sim_calls(st, unit, s, calls);
        for (int i = 0; i < n; i++) {
            const sim_call *c = &calls[i];
            if (c->priority < 0)
                continue;
            int64_t arrived = c->queued_ms + (int64_t)c->response_s * SIM_SEC_MS;
            if (arrived <= a || arrived > b)
                continue;
            char key[SIM_KEY_MAX];
            snprintf(key, sizeof key, "sim-%d-%" PRId64 "-%d", u->number, s, i);
            if (sim_emit(o, priorities[c->priority].metric, u, c->queued_ms, c->response_s, key) <
                0)
                return -1;
        }
    }
    return 0;
}

/* ---- options ---- */

/* Parses a signed decimal integer filling the whole text. */
static int sim_parse_seed(const char *text, uint64_t *out)
{
    const char *p = text;
    int neg = 0;
    uint64_t v = 0;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (!*p)
        return -1;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return -1;
        v = (uint64_t)0 - v;
    }
    *out = v;
    return 0;
}

/* Parses a duration: one or more <digits><unit> with unit ms, s, m, h or d
 * ("14d", "12h", "1d12h"). Zero is allowed. */
static int sim_parse_duration(const char *text, int64_t *out_ms)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {
        {"ms", 1}, {"s", SIM_SEC_MS}, {"m", SIM_MIN_MS}, {"h", SIM_HOUR_MS}, {"d", SIM_DAY_MS}};
    const char *p = text;
    int64_t total = 0;
    if (!*p)
        return -1;
    while (*p) {
        int64_t v = 0;
        if (*p < '0' || *p > '9')
            return -1;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (v > (INT64_MAX - 9) / 10)
                return -1;
            v = v * 10 + (*p - '0');
        }
        size_t i, n = sizeof units / sizeof units[0];
        for (i = 0; i < n; i++) {
            size_t len = strlen(units[i].unit);
            /* "m" must not swallow the "m" of "ms" */
            if (strncmp(p, units[i].unit, len) == 0 && (p[len] < 'a' || p[len] > 'z'))
                break;
        }
        if (i == n)
            return -1;
        if (v > (INT64_MAX - total) / units[i].ms)
            return -1;
        total += v * units[i].ms;
        p += strlen(units[i].unit);
    }
    *out_ms = total;
    return 0;
}

/* A root is one path component of letters, digits, '-', '_' and '.'. */
static int sim_valid_root(const char *root)
{
    size_t n = strlen(root);
    if (n == 0 || n > SIM_ROOT_MAX || strcmp(root, ".") == 0 || strcmp(root, "..") == 0)
        return 0;
    for (const char *p = root; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

/* Fills the unit table: paths and the traits drawn from the seed. */
static void sim_build_units(sim_state *st, const char *root)
{
    for (int i = 0; i < SIM_UNITS; i++) {
        sim_unit *u = &st->units[i];
        int district = i / 4, region = district / 4;
        u->number = i + 1;
        u->district = district;
        snprintf(u->entity, sizeof u->entity, "%s/%s/district-%d/unit-%d", root,
                 region_names[region], district + 1, i + 1);
        sim_rng r = sim_rng_at(st->seed, S_TRAIT, (uint64_t)i, 0);
        double urban = sim_unif(&r);
        u->demand = 0.6 + 0.9 * urban;
        u->distance = 1.2 - 0.35 * urban;
        u->staff = 8.5 + 2.0 * sim_unif(&r);
        u->fleet = 3 + (int)(sim_next(&r) % 4);
        u->equipment = 28 + (int)(sim_next(&r) % 5);
        u->cases = 65 + 35 * sim_unif(&r);
    }
}

static const sr_ad_option_spec sim_options[] = {
    {"seed", 0, "integer; the same seed always gives the same force and data (default 1)"},
    {"backfill", 0,
     "history to generate on the first poll, a duration such as 14d, 12h or 30m "
     "(units ms s m h d; default 14d, at most 366d)"},
    {"root", 0, "name of the top of the organisation tree (default \"force\")"},
    {"surge", 0,
     "a district, district-1 to district-16, that has a surge for demos: eight times its calls "
     "from 3 hours before the first poll to 3 hours after (default none)"},
    {NULL, 0, NULL},
};

static int sim_open(const sr_ad_options *opts, void **state, char *err, size_t errlen)
{
    uint64_t seed = 1;
    int64_t backfill_ms = 14 * SIM_DAY_MS;
    const char *root = "force";
    const char *v;

    if ((v = sr_ad_opt(opts, "seed")) && sim_parse_seed(v, &seed) < 0) {
        snprintf(err, errlen, "seed: expected an integer such as 42, got '%s'", v);
        return -1;
    }
    if ((v = sr_ad_opt(opts, "backfill"))) {
        if (sim_parse_duration(v, &backfill_ms) < 0) {
            snprintf(err, errlen,
                     "backfill: expected a duration such as 14d, 12h or 30m (units ms s m h d), "
                     "got '%s'",
                     v);
            return -1;
        }
        if (backfill_ms > SIM_BACKFILL_MAX_MS) {
            snprintf(err, errlen, "backfill: at most 366d, got '%s'", v);
            return -1;
        }
    }
    if ((v = sr_ad_opt(opts, "root"))) {
        if (!sim_valid_root(v)) {
            snprintf(err, errlen,
                     "root: expected a name of at most %d letters, digits, '-', '_' or '.', "
                     "got '%s'",
                     SIM_ROOT_MAX, v);
            return -1;
        }
        root = v;
    }
    int surge = -1;
    if ((v = sr_ad_opt(opts, "surge"))) {
        const char *d = strncmp(v, "district-", 9) == 0 ? v + 9 : "";
        surge = 0;
        for (const char *c = d; *c >= '0' && *c <= '9' && surge <= SIM_DISTRICTS; c++)
            surge = surge * 10 + (*c - '0');
        if (!*d || *d == '0' || strspn(d, "0123456789") != strlen(d) || surge > SIM_DISTRICTS) {
            snprintf(err, errlen,
                     "surge: expected a district such as district-7 (district-1 to district-%d), "
                     "got '%s'",
                     SIM_DISTRICTS, v);
            return -1;
        }
        surge--;
    }

    sim_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    st->seed = seed;
    st->backfill_ms = backfill_ms;
    st->surge = surge;
    sim_build_units(st, root);
    *state = st;
    return 0;
}

/* Wall-clock milliseconds, only to keep within the poll's time budget. */
static int64_t sim_clock_ms(void)
{
    struct timespec ts;
    if (timespec_get(&ts, TIME_UTC) != TIME_UTC)
        return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Emits what became available in (start, end], where start is since_ms, or
 * now_ms - backfill on the first poll (or when since_ms is older), and end
 * is at most one day later and at most now_ms. When it stops before now_ms
 * (a chunk of a backfill, or the time budget spent) it sets more = 1,
 * cursor_ms to where it stopped and the progress: the time covered since
 * the backfill began (the start of the first of these chunks) of the span
 * from there to now_ms; otherwise more = 0, cursor_ms = now_ms.
 */
static int sim_poll(void *state, sr_poll_info *info, sr_sink *sink, char *err, size_t errlen)
{
    sim_state *st = state;
    int64_t now = info->now_ms;
    int64_t start = info->since_ms;
    int64_t clock0 = sim_clock_ms();
    sim_out o = {.sink = sink, .err = err, .errlen = errlen, .failed = 0};

    if (st->surge >= 0 && st->surge_to_ms == 0) {
        st->surge_from_ms = now - SIM_SURGE_HALF_MS;
        st->surge_to_ms = now + SIM_SURGE_HALF_MS;
    }
    if (start <= 0 || start < now - st->backfill_ms)
        start = now - st->backfill_ms;
    int64_t end = now - start > SIM_CHUNK_MS ? start + SIM_CHUNK_MS : now;

    info->more = 0;
    info->cursor_ms = now;
    for (int64_t a = start; a < end;) {
        int64_t b = end - a > SIM_STEP_MS ? a + SIM_STEP_MS : end;
        for (int unit = 0; unit < SIM_UNITS; unit++) {
            if (sim_emit_unit(st, unit, a, b, &o) < 0)
                return -1;
        }
        a = b;
        if (a < end && info->timeout_ms > 0 && sim_clock_ms() - clock0 >= info->timeout_ms) {
            end = a;
            break;
        }
    }
    if (end < now) {
        int64_t origin = st->origin_ms ? st->origin_ms : start;
        info->more = 1;
        info->cursor_ms = end;
        info->progress_done = end - origin;
        info->progress_total = now - origin;
        st->origin_ms = origin;
    } else {
        st->origin_ms = 0;
    }
    return 0;
}

static void sim_close(void *state)
{
    free(state);
}

const sr_adapter sr_adapter_sim = {
    .abi_version = SR_ADAPTER_ABI,
    .type = "sim",
    .description = "a seeded synthetic police force (64 units) emitting every KPI family",
    .options = sim_options,
    .open = sim_open,
    .poll = sim_poll,
    .close = sim_close,
};
