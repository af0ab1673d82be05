/*
 * common.h - error codes and small value types shared by every layer above
 * metrics/ (app/, tui/). Adapters do not include this file: they speak only
 * adapters/adapter.h.
 */
#ifndef SR_COMMON_H
#define SR_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Error codes: fallible functions return 0 or one of these (negative). */
enum {
    SR_OK = 0,
    SR_ENOMEM = -1,   /* out of memory */
    SR_EINVAL = -2,   /* invalid argument or malformed input */
    SR_ENOENT = -3,   /* no such metric, entity, file or key */
    SR_EIO = -4,      /* the operating system or SQLite failed */
    SR_ECORRUPT = -5, /* the cache file is damaged */
    SR_EVERSION = -6, /* the cache was written by a newer sitrep */
    SR_EBUSY = -7,    /* the cache is locked by another writer */
    SR_ERANGE = -8,   /* a value is out of its allowed range */
    SR_ENODATA = -9,  /* nothing to aggregate in the window */
    SR_ETIMEDOUT = -10,
    SR_EPERM = -11,  /* refused: not allowed, or a file that must not be trusted */
    SR_ENOSPC = -12, /* the disk (or the file system) holding the cache is full */
};

/* Words for an error code; never NULL. */
const char *sr_strerror(int err);

/* The folder of a file name, as its text says: "." when it has no '/', "/"
 * for a file at the root. Caller owns; free(). NULL when out of memory. */
char *sr_path_folder(const char *path);

/* Milliseconds since the Unix epoch, UTC. */
typedef int64_t sr_ms;

#define SR_MS_SEC 1000LL
#define SR_MS_MIN (60LL * SR_MS_SEC)
#define SR_MS_HOUR (60LL * SR_MS_MIN)
#define SR_MS_DAY (24LL * SR_MS_HOUR)

/* t rounded down / up to a multiple of w (w > 0), correct for negative t. */
static inline sr_ms sr_floor_ms(sr_ms t, sr_ms w)
{
    sr_ms r = t % w;
    return r < 0 ? t - r - w : t - r;
}

static inline sr_ms sr_ceil_ms(sr_ms t, sr_ms w)
{
    sr_ms f = sr_floor_ms(t, w);
    return f == t ? t : f + w;
}

/* The whole hours [*a, *b) holding the times [lo, hi] (lo INT64_MIN:
 * everything before hi): what a `touch` row of the store marks changed. */
static inline void sr_hours_holding(sr_ms lo, sr_ms hi, sr_ms *a, sr_ms *b)
{
    *a = lo == INT64_MIN ? INT64_MIN : sr_floor_ms(lo, SR_MS_HOUR);
    *b = hi > INT64_MAX - SR_MS_HOUR ? INT64_MAX : sr_floor_ms(hi, SR_MS_HOUR) + SR_MS_HOUR;
}

/* The first i in [0, n) for which below(ctx, i) is false, n when none:
 * below must be true for a prefix of [0, n) and false after it (a binary
 * search of sorted data: "element i sorts before the key"). */
static inline size_t sr_lower_bound(size_t n, bool (*below)(const void *ctx, size_t i),
                                    const void *ctx)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (below(ctx, mid))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * Makes sure TZ is in the environment (as the C library's default zone when
 * it was not), so that the time-zone switches of sr_local_to_utc() and
 * sr_utc_to_local() only ever replace it. Call once at start, before any
 * thread: other threads may read the environment at any time.
 */
void sr_time_init(void);

/* Wall-clock now in ms. */
sr_ms sr_now_ms(void);

/*
 * Parses a duration such as "500ms", "5s", "10m", "8h", "14d" (also "2w",
 * and a sum like "1h30m") into milliseconds. Returns 0, or SR_EINVAL when the
 * text is not a positive duration.
 */
int sr_parse_duration(const char *text, sr_ms *out_ms);

/* Writes the shortest exact form of a duration ("8h", "90s", "1500ms"). */
void sr_format_duration(sr_ms ms, char *buf, size_t len);

/*
 * Parses a point in time: ISO-8601 with a zone ("2015-03-01T10:00:00-08:00",
 * "...Z", fractional seconds allowed), ISO-8601 without a zone or a date
 * alone ("2015-03-01", interpreted in the time zone `tz`, NULL or "" = UTC),
 * or epoch seconds (an integer or decimal number). Returns 0 or SR_EINVAL.
 */
int sr_parse_time(const char *text, const char *tz, sr_ms *out_ms);

/*
 * Converts a broken-down local time in zone `tz` (NULL or "" = UTC) to UTC
 * ms; fields may be out of range (they carry over, as mktime's do).
 * Thread-safe. Times a DST change makes ambiguous or nonexistent follow
 * Python zoneinfo's default (fold = 0): a time that occurs twice is the
 * first, earlier one; a time in a gap is moved forward by the gap (02:30
 * where clocks go from 02:00 to 03:00 is 03:30). Returns 0, or SR_EINVAL
 * for an unknown zone.
 */
int sr_local_to_utc(const char *tz, int year, int mon, int mday, int hour, int min, double sec,
                    sr_ms *out_ms);

/*
 * The wall-clock time of UTC ms t in zone tz (NULL or "" = UTC), as
 * year, month 1-12, day, hour, minute, second, weekday 0-6 (Sunday 0).
 * Thread-safe. Returns 0, or SR_EINVAL for an unknown zone.
 */
typedef struct {
    int year, mon, mday, hour, min, sec, wday;
} sr_civil;
int sr_utc_to_local(const char *tz, sr_ms t, sr_civil *out);

/* A time of day for a person, in tz: "14:03" on the day of now, "26 Nov
 * 14:03" on another day; "?" when t <= 0 or unknown. The one form of the
 * alerts' times on the screen (the alerts view, a silence's confirmation); the
 * handover report writes full local dates and times instead. */
void sr_format_clock(const char *tz, sr_ms now, sr_ms t, char *buf, size_t len);

/* Formats ts as ISO-8601 UTC with milliseconds ("2024-01-02T03:04:05.678Z"). */
void sr_format_time_utc(sr_ms ts, char *buf, size_t len);

/* True when tz names a zone this machine knows (tzdata), or is NULL/"UTC". */
int sr_tz_valid(const char *tz);

/*
 * Parses a decimal number that must fill the whole string (leading and
 * trailing blanks allowed). Returns 0 or SR_EINVAL; NaN and infinities are
 * refused.
 */
int sr_parse_double(const char *text, double *out);

/*
 * Makes room for one more element in the array *pp of *cap elements of size
 * bytes, n of them used: when full, doubles it (64 at first) with realloc.
 * Returns 0, or SR_ENOMEM with the array unchanged. pp is the address of
 * the array's pointer (a T **).
 */
int sr_reserve(void *pp, size_t *cap, size_t n, size_t size);

/*
 * The shortest decimal text of finite v that reads back (strtod) as the same
 * double: the first of "%.15g", "%.16g" and "%.17g" that does, so 0.1 is
 * "0.1", 192793629.14 is "192793629.14" and no digit the double holds is
 * lost. "" for NaN and infinities (the caller says what they mean).
 * Always a '.' for the decimal point, whatever the locale.
 */
void sr_format_double(double v, char *buf, size_t len);

/* FNV-1a over n bytes at p, from h (SR_FNV_BASIS to start): the one hash
 * of the project (the store's sample keys, whose values the cache keeps,
 * and the memo's table). */
#define SR_FNV_BASIS 0xcbf29ce484222325ULL
static inline uint64_t sr_fnv1a(const void *p, size_t n, uint64_t h)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Edit distance, ignoring case: insertions, deletions, substitutions and
 * swaps of two neighbours ("tr" for "rt") count one each. Words longer than
 * 64 bytes: the longer length. */
size_t sr_edit_distance(const char *a, const char *b);

/*
 * "Did you mean": the one rule for which candidate a mistyped word was
 * meant to be. The nearest candidate by sr_edit_distance(), when it is a
 * slip of a key or two: at most 1 edit for a word of up to 3 characters, 2
 * up to 6, 3 beyond. Feed the candidates one by one (NULL is skipped):
 *
 *     sr_suggest s;
 *     sr_suggest_init(&s, word);
 *     for (...) sr_suggest_try(&s, name);
 *     const char *best = sr_suggest_best(&s);   // NULL: none close enough
 */
typedef struct {
    const char *word;
    const char *best;
    size_t dist;
} sr_suggest;
void sr_suggest_init(sr_suggest *s, const char *word);
void sr_suggest_try(sr_suggest *s, const char *cand);
const char *sr_suggest_best(const sr_suggest *s);
/* The same over an array of n candidates. */
const char *sr_nearest(const char *word, const char *const *cands, size_t n);

#endif
