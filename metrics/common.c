/*
 * common.c - error words, durations, points in time, numbers.
 *
 * Time zones: converting a local wall-clock time needs the C library's TZ,
 * which is process-global. sr_local_to_utc() switches TZ under a mutex and
 * restores it, so callers on any thread get a consistent answer. TZ is
 * never removed from the environment, only replaced: replacing a variable
 * swaps one pointer, whereas adding or removing one may move the whole
 * environment while another thread (libpq, libcurl, a child's exec) reads
 * it. sr_time_init() puts TZ there before any thread starts.
 */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *sr_strerror(int err)
{
    switch (err) {
    case SR_OK:
        return "success";
    case SR_ENOMEM:
        return "out of memory";
    case SR_EINVAL:
        return "invalid argument";
    case SR_ENOENT:
        return "not found";
    case SR_EIO:
        return "input/output error";
    case SR_ECORRUPT:
        return "the cache file is damaged";
    case SR_EVERSION:
        return "the cache was written by a newer sitrep";
    case SR_EBUSY:
        return "the cache is locked by another process";
    case SR_ERANGE:
        return "value out of range";
    case SR_ENODATA:
        return "no data in the window";
    case SR_ETIMEDOUT:
        return "timed out";
    case SR_EPERM:
        return "not permitted";
    case SR_ENOSPC:
        return "disk full";
    default:
        return "unknown error";
    }
}

char *sr_path_folder(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

sr_ms sr_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (sr_ms)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const struct {
    const char *suffix;
    sr_ms ms;
} duration_units[] = {
    {"ms", 1},         {"s", SR_MS_SEC}, {"m", SR_MS_MIN},
    {"h", SR_MS_HOUR}, {"d", SR_MS_DAY}, {"w", 7 * SR_MS_DAY},
};

int sr_parse_duration(const char *text, sr_ms *out_ms)
{
    if (!text)
        return SR_EINVAL;
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    if (!*p)
        return SR_EINVAL;
    sr_ms total = 0;
    while (*p && !isspace((unsigned char)*p)) {
        if (!isdigit((unsigned char)*p))
            return SR_EINVAL;
        errno = 0;
        char *end;
        unsigned long long n = strtoull(p, &end, 10);
        if (errno || n > (unsigned long long)INT64_MAX / (7 * SR_MS_DAY))
            return SR_EINVAL;
        p = end;
        size_t ulen = 0;
        while (isalpha((unsigned char)p[ulen]))
            ulen++;
        sr_ms unit = 0;
        for (size_t i = 0; i < sizeof duration_units / sizeof duration_units[0]; i++) {
            if (strlen(duration_units[i].suffix) == ulen &&
                strncmp(p, duration_units[i].suffix, ulen) == 0)
                unit = duration_units[i].ms;
        }
        if (!unit)
            return SR_EINVAL;
        p += ulen;
        if (total > INT64_MAX - (sr_ms)n * unit)
            return SR_EINVAL;
        total += (sr_ms)n * unit;
    }
    while (isspace((unsigned char)*p))
        p++;
    if (*p || total <= 0)
        return SR_EINVAL;
    *out_ms = total;
    return 0;
}

void sr_format_duration(sr_ms ms, char *buf, size_t len)
{
    static const struct {
        const char *suffix;
        sr_ms ms;
    } units[] = {{"d", SR_MS_DAY}, {"h", SR_MS_HOUR}, {"m", SR_MS_MIN}, {"s", SR_MS_SEC}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (ms >= units[i].ms && ms % units[i].ms == 0) {
            snprintf(buf, len, "%lld%s", (long long)(ms / units[i].ms), units[i].suffix);
            return;
        }
    }
    snprintf(buf, len, "%lldms", (long long)ms);
}

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int is_utc(const char *tz)
{
    return !tz || !*tz || strcmp(tz, "UTC") == 0 || strcmp(tz, "Etc/UTC") == 0 ||
           strcmp(tz, "Z") == 0;
}

int sr_tz_valid(const char *tz)
{
    if (is_utc(tz))
        return 1;
    if (strstr(tz, "..") || tz[0] == '/')
        return 0;
    char path[512];
    const char *dir = getenv("TZDIR");
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", tz);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char magic[4] = {0};
    size_t n = fread(magic, 1, 4, f);
    fclose(f);
    return n == 4 && memcmp(magic, "TZif", 4) == 0;
}

/* The C library's own default zone, written as a TZ value. */
#define TZ_DEFAULT ":/etc/localtime"

void sr_time_init(void)
{
    setenv("TZ", TZ_DEFAULT, 0);
}

/* Sets TZ to tz; the caller holds tz_lock. Returns the value to restore
 * (caller frees). */
static char *tz_enter(const char *tz)
{
    const char *old = getenv("TZ");
    char *saved = strdup(old ? old : TZ_DEFAULT);
    setenv("TZ", tz, 1);
    tzset();
    return saved;
}

static void tz_leave(char *saved)
{
    setenv("TZ", saved ? saved : TZ_DEFAULT, 1);
    free(saved);
    tzset();
}

/* Seconds east of UTC at instant u in the zone TZ names (the caller holds
 * tz_lock, with TZ set). */
static long gmtoff_at(time_t u)
{
    struct tm tm;
    if (!localtime_r(&u, &tm))
        return 0;
    return tm.tm_gmtoff;
}

/*
 * The UTC instant of the wall-clock reading `local` (seconds, as if the
 * zone were UTC) in zone tz, by one rule, Python zoneinfo's default
 * (fold = 0): a reading that occurs twice (clocks go back) is its first,
 * earlier occurrence; a reading that never occurs (clocks go forward) is
 * taken with the offset from before the change, so it lands after the gap
 * by its length (02:30 in a one-hour gap is 03:30). mktime() with
 * tm_isdst = -1 is not used: glibc's answer there depends on what it was
 * asked before. The offsets that can apply are the zone's a day either
 * side; one is right when the instant it gives has that offset. The caller
 * holds tz_lock, with TZ set to the zone (tz_enter).
 */
static time_t local_fold0(time_t local)
{
    long cand[3] = {gmtoff_at(local - 86400), gmtoff_at(local + 86400), gmtoff_at(local)};
    int found = 0;
    long most = cand[0];
    time_t best = 0;
    for (int i = 0; i < 3; i++) {
        time_t u = local - (time_t)cand[i];
        if (gmtoff_at(u) == cand[i] && (!found || u < best)) {
            best = u;
            found = 1;
        }
        most = cand[i] > most ? cand[i] : most;
    }
    /* in a gap: the offset in force just before it, which is the offset at
     * the earliest instant the reading could mean */
    if (!found)
        best = local - (time_t)gmtoff_at(local - (time_t)most);
    return best;
}

/*
 * Converting a local time costs a TZ switch and a zone-file read, far too
 * slow per row of a large file. A zone's offset is constant within a local
 * hour (transitions happen on the hour; the rare half-hour zone transition
 * is the known exception), so each thread remembers the UTC start of the
 * local hours it converted, in a table indexed by the hour (a baseline's
 * weeks and a forecast's backtest ask some thousand hours, again and again
 * on every refresh: with 8 remembered, each was a zone-file read).
 */
typedef struct {
    uint64_t tz;        /* sr_fnv1a of the zone's name; 0 = empty */
    int64_t local_hour; /* local hours since the epoch, as if the zone were UTC */
    sr_ms utc_ms;       /* UTC of that local hour's start */
} hour_memo;

#define TZ_MEMO 4096 /* entries of each thread's tables, a power of two */
#define TZ_FILL 24   /* hours around a missed one converted with it */
static _Thread_local hour_memo memo[TZ_MEMO];

int sr_local_to_utc(const char *tz, int year, int mon, int mday, int hour, int min, double sec,
                    sr_ms *out_ms)
{
    double whole = floor(sec);
    int ms = (int)llround((sec - whole) * 1000.0);
    /* the wall-clock reading as if it were UTC, normalising overflowing fields */
    int64_t y = year + (mon - 1) / 12;
    int m = (mon - 1) % 12;
    if (m < 0) {
        m += 12;
        y--;
    }
    int64_t days = days_from_civil(y, (unsigned)m + 1, 1) + (mday - 1);
    sr_ms naive = ((days * 24 + hour) * 60 + min) * SR_MS_MIN + (sr_ms)whole * 1000 + ms;
    if (is_utc(tz)) {
        *out_ms = naive;
        return 0;
    }
    uint64_t tzh = sr_fnv1a(tz, strlen(tz), SR_FNV_BASIS) | 1;
    int64_t lh = naive >= 0 ? naive / SR_MS_HOUR : -((-naive + SR_MS_HOUR - 1) / SR_MS_HOUR);
    sr_ms into_hour = naive - lh * SR_MS_HOUR;
    hour_memo *e = &memo[(uint64_t)lh & (TZ_MEMO - 1)];
    if (e->local_hour == lh && e->tz == tzh) {
        *out_ms = e->utc_ms + into_hour;
        return 0;
    }
    if (!sr_tz_valid(tz))
        return SR_EINVAL;
    /* one switch of the zone for the day around the hour: the neighbours of
     * an hour asked are asked next (a slice's other end, the next week) */
    pthread_mutex_lock(&tz_lock);
    char *saved = tz_enter(tz);
    for (int64_t h = lh - TZ_FILL / 2; h <= lh + TZ_FILL / 2; h++) {
        hour_memo *f = &memo[(uint64_t)h & (TZ_MEMO - 1)];
        f->tz = tzh;
        f->local_hour = h;
        f->utc_ms = (sr_ms)local_fold0((time_t)(h * 3600)) * 1000;
    }
    tz_leave(saved);
    pthread_mutex_unlock(&tz_lock);
    *out_ms = e->utc_ms + into_hour;
    return 0;
}

/*
 * The other way, UTC to local, is asked for the clock on every redraw of
 * every screen. Zone offsets are multiples of 15 minutes and transitions
 * happen at whole local minutes that are multiples of 15 in UTC too, so the
 * offset is constant within a UTC quarter hour: each thread remembers the
 * offsets of the quarters it converted, indexed by the quarter (and then
 * needs neither a TZ switch, nor a zone-file read, nor the lock).
 */
typedef struct {
    uint64_t tz;     /* sr_fnv1a of the zone's name; 0 = empty */
    int64_t quarter; /* UTC quarter hours since the epoch */
    long gmtoff;     /* seconds east of UTC in that quarter */
} offset_memo;

static _Thread_local offset_memo omemo[TZ_MEMO];

int sr_utc_to_local(const char *tz, sr_ms t, sr_civil *out)
{
    time_t s = (time_t)(t >= 0 ? t / 1000 : (t - 999) / 1000);
    struct tm tm;
    int64_t quarter = (int64_t)(s >= 0 ? s / 900 : (s - 899) / 900);
    offset_memo *om = &omemo[(uint64_t)quarter & (TZ_MEMO - 1)];
    if (is_utc(tz)) {
        gmtime_r(&s, &tm);
    } else if (tz && om->quarter == quarter &&
               om->tz == (sr_fnv1a(tz, strlen(tz), SR_FNV_BASIS) | 1)) {
        time_t l = s + (time_t)om->gmtoff;
        gmtime_r(&l, &tm);
    } else {
        if (!sr_tz_valid(tz))
            return SR_EINVAL;
        pthread_mutex_lock(&tz_lock);
        char *saved = tz_enter(tz);
        localtime_r(&s, &tm);
        tz_leave(saved);
        pthread_mutex_unlock(&tz_lock);
        om->tz = sr_fnv1a(tz, strlen(tz), SR_FNV_BASIS) | 1;
        om->quarter = quarter;
        om->gmtoff = tm.tm_gmtoff;
    }
    *out = (sr_civil){tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                      tm.tm_min,         tm.tm_sec,     tm.tm_wday};
    return 0;
}

void sr_format_clock(const char *tz, sr_ms now, sr_ms t, char *buf, size_t len)
{
    static const char *const mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    sr_civil c, n;
    if (t <= 0 || sr_utc_to_local(tz, t, &c) != 0) {
        snprintf(buf, len, "?");
        return;
    }
    if (sr_utc_to_local(tz, now, &n) == 0 && n.year == c.year && n.mon == c.mon && n.mday == c.mday)
        snprintf(buf, len, "%02d:%02d", c.hour, c.min);
    else
        snprintf(buf, len, "%d %s %02d:%02d", c.mday, mons[(c.mon + 11) % 12], c.hour, c.min);
}

void sr_format_time_utc(sr_ms ts, char *buf, size_t len)
{
    time_t s = (time_t)(ts >= 0 ? ts / 1000 : (ts - 999) / 1000);
    int ms = (int)(ts - (sr_ms)s * 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

/* Reads exactly n digits into *out. */
static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

static int parse_iso(const char *p, const char *tz, sr_ms *out)
{
    int y, mo, d, h = 0, mi = 0, s = 0;
    double frac = 0;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
        return SR_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return SR_EINVAL;
    int has_zone = 0, offset_min = 0;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
            return SR_EINVAL;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &s))
                return SR_EINVAL;
            if (*p == '.' || *p == ',') {
                p++;
                double scale = 0.1;
                if (!isdigit((unsigned char)*p))
                    return SR_EINVAL;
                while (isdigit((unsigned char)*p)) {
                    frac += (*p - '0') * scale;
                    scale /= 10;
                    p++;
                }
            }
        }
        if (h > 24 || mi > 59 || s > 60 || (h == 24 && (mi || s || frac > 0)))
            return SR_EINVAL;
        if (*p == 'Z' || *p == 'z') {
            has_zone = 1;
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
            if (digits(&p, 2, &oh))
                return SR_EINVAL;
            if (*p == ':')
                p++;
            if (isdigit((unsigned char)*p) && digits(&p, 2, &om))
                return SR_EINVAL;
            if (oh > 23 || om > 59)
                return SR_EINVAL;
            has_zone = 1;
            offset_min = sign * (oh * 60 + om);
        }
    }
    while (isspace((unsigned char)*p))
        p++;
    if (*p)
        return SR_EINVAL;
    if (s == 60)
        s = 59; /* a leap second is read as the second before it */
    sr_ms t;
    int rc = sr_local_to_utc(has_zone ? NULL : tz, y, mo, d, h, mi, s + frac, &t);
    if (rc)
        return rc;
    *out = t - (sr_ms)offset_min * SR_MS_MIN;
    return 0;
}

/* text after its leading blanks; NULL when there is nothing else. */
static const char *skip_blanks(const char *text)
{
    if (!text)
        return NULL;
    while (isspace((unsigned char)*text))
        text++;
    return *text ? text : NULL;
}

int sr_parse_time(const char *text, const char *tz, sr_ms *out_ms)
{
    if (!(text = skip_blanks(text)))
        return SR_EINVAL;
    /* ISO-8601 starts with four digits and a dash. */
    if (isdigit((unsigned char)text[0]) && isdigit((unsigned char)text[1]) &&
        isdigit((unsigned char)text[2]) && isdigit((unsigned char)text[3]) && text[4] == '-')
        return parse_iso(text, tz, out_ms);
    double secs;
    if (sr_parse_double(text, &secs) == 0) {
        if (fabs(secs) > 1e14) /* beyond year 3 million: not epoch seconds */
            return SR_EINVAL;
        *out_ms = (sr_ms)llround(secs * 1000.0);
        return 0;
    }
    return SR_EINVAL;
}

/*
 * A plain decimal, the common case ("-12.5", "1717243200.123"): an optional
 * sign, digits with at most one point, nothing after, and at most 2^53 once
 * the point is dropped. Then the integer and the power of ten it is divided
 * by are both exact doubles, so the one division is rounded once, from the
 * exact decimal value: the same double as strtod() gives (Clinger's fast
 * path), without its general machinery. Anything else is left to strtod().
 */
static bool plain_decimal(const char *p, double *out)
{
    static const double pow10[] = {1,    1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    bool neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    uint64_t m = 0;
    int digits = 0, frac = -1; /* digits after the point; -1: no point */
    for (;; p++) {
        if (*p >= '0' && *p <= '9') {
            if (++digits > 19)
                return false;
            m = m * 10 + (uint64_t)(*p - '0');
            frac += frac >= 0;
        } else if (*p == '.' && frac < 0) {
            frac = 0;
        } else {
            break;
        }
    }
    if (*p || !digits || m > (1ULL << 53) || frac >= (int)(sizeof pow10 / sizeof *pow10))
        return false;
    double v = (double)m;
    if (frac > 0)
        v /= pow10[frac];
    *out = neg ? -v : v;
    return true;
}

int sr_reserve(void *pp, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    if (ncap < *cap || ncap > SIZE_MAX / size)
        return SR_ENOMEM;
    void *nv = realloc(*(void **)pp, ncap * size);
    if (!nv)
        return SR_ENOMEM;
    *(void **)pp = nv;
    *cap = ncap;
    return 0;
}

void sr_format_double(double v, char *buf, size_t len)
{
    if (len == 0)
        return;
    buf[0] = 0;
    if (!isfinite(v))
        return;
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) /* both in the locale's notation */
            break;
    }
    char *comma = strchr(buf, ','); /* the C locale's point, whatever LC_NUMERIC says */
    if (comma)
        *comma = '.';
}

int sr_parse_double(const char *text, double *out)
{
    if (!(text = skip_blanks(text)))
        return SR_EINVAL;
    if (plain_decimal(text, out))
        return 0;
    /* refuse hex floats, "nan", "inf": strtod would take them */
    for (const char *c = text; *c; c++) {
        if (!(isdigit((unsigned char)*c) || *c == '.' || *c == '-' || *c == '+' || *c == 'e' ||
              *c == 'E' || isspace((unsigned char)*c)))
            return SR_EINVAL;
    }
    errno = 0;
    char *end;
    double v = strtod(text, &end);
    if (end == text || errno == ERANGE)
        return SR_EINVAL;
    while (isspace((unsigned char)*end))
        end++;
    if (*end || !isfinite(v))
        return SR_EINVAL;
    *out = v;
    return 0;
}

size_t sr_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return la > lb ? la : lb;
    /* three rows of the table: i - 2, i - 1 and i (swaps look two back) */
    size_t rows[3][65];
    size_t *pp = rows[0], *p = rows[1], *c = rows[2];
    for (size_t j = 0; j <= lb; j++)
        p[j] = j;
    for (size_t i = 1; i <= la; i++) {
        c[0] = i;
        int ai = tolower((unsigned char)a[i - 1]);
        for (size_t j = 1; j <= lb; j++) {
            int bj = tolower((unsigned char)b[j - 1]);
            size_t best = p[j - 1] + (ai != bj);
            if (p[j] + 1 < best)
                best = p[j] + 1;
            if (c[j - 1] + 1 < best)
                best = c[j - 1] + 1;
            if (i > 1 && j > 1 && ai == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == bj && pp[j - 2] + 1 < best)
                best = pp[j - 2] + 1;
            c[j] = best;
        }
        size_t *t = pp;
        pp = p;
        p = c;
        c = t;
    }
    return p[lb];
}

void sr_suggest_init(sr_suggest *s, const char *word)
{
    s->word = word;
    s->best = NULL;
    s->dist = SIZE_MAX;
}

void sr_suggest_try(sr_suggest *s, const char *cand)
{
    if (!cand)
        return;
    size_t d = sr_edit_distance(s->word, cand);
    if (d < s->dist) {
        s->dist = d;
        s->best = cand;
    }
}

const char *sr_suggest_best(const sr_suggest *s)
{
    size_t wl = strlen(s->word);
    size_t limit = wl <= 3 ? 1 : wl <= 6 ? 2 : 3;
    return s->best && s->dist <= limit ? s->best : NULL;
}

const char *sr_nearest(const char *word, const char *const *cands, size_t n)
{
    sr_suggest s;
    sr_suggest_init(&s, word);
    for (size_t i = 0; i < n; i++)
        sr_suggest_try(&s, cands[i]);
    return sr_suggest_best(&s);
}
