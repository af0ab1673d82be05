/*
 * format.c - values as people read them (format.h).
 */
#include "format.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* "4 812", "1 204 553.25": the whole part of a plain decimal ("-1204553.25")
 * grouped in thousands with a space. */
static void group_text(const char *num, char *buf, size_t len)
{
    size_t o = 0;
    if (*num == '-' && o + 1 < len)
        buf[o++] = *num++;
    size_t nd = strcspn(num, ".");
    for (size_t i = 0; num[i] && o + 2 < len; i++) {
        if (i > 0 && i < nd && (nd - i) % 3 == 0)
            buf[o++] = ' ';
        buf[o++] = num[i];
    }
    buf[o] = 0;
}

static void group(long long v, char *buf, size_t len)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%lld", v);
    group_text(digits, buf, len);
}

/*
 * An amount in full: every digit a decimal of up to 15 significant digits
 * has (all a double carries exactly; a sum's rounding noise below them is
 * not shown), the whole part grouped: "192 793 629.14". Beyond 1e15, where
 * a double has no cents left: "%.15g".
 */
static void exact_amount(double v, char *buf, size_t len)
{
    double a = fabs(v);
    if (a >= 1e15) {
        snprintf(buf, len, "%.15g", v);
        return;
    }
    int whole = a < 1 ? 1 : (int)floor(log10(a)) + 1;
    char num[64];
    snprintf(num, sizeof num, "%.*f", whole < 15 ? 15 - whole : 0, v);
    char *point = strchr(num, '.');
    if (!point)
        point = strchr(num, ','); /* a locale's decimal comma */
    if (point) {
        *point = '.';
        size_t n = strlen(num);
        while (num[n - 1] == '0')
            num[--n] = 0;
        if (num[n - 1] == '.')
            num[--n] = 0;
    }
    group_text(strcmp(num, "-0") == 0 ? "0" : num, buf, len);
}

void sr_format_masked(const char *mask, double v, const sr_metric_def *def, sr_agg agg,
                      bool compact, char *buf, size_t len)
{
    if (mask && mask[0])
        snprintf(buf, len, "%s", mask);
    else
        sr_format_value(v, def, agg, compact, buf, len);
}

/* sr_format_value(), and sr_format_estimate() when estimate: a count or an
 * amount then rounds as an average does. */
static void format_any(double v, const sr_metric_def *def, sr_agg agg, bool compact, bool estimate,
                       char *buf, size_t len)
{
    if (isinf(v)) { /* an aggregate beyond a double's range (query.h) */
        snprintf(buf, len, "overflow");
        return;
    }
    if (isnan(v)) { /* no data */
        snprintf(buf, len, "-");
        return;
    }
    const char *unit = def ? def->unit : "";
    bool count = agg.kind == SR_AGG_COUNT;
    if (agg.kind == SR_AGG_WITHIN) {
        snprintf(buf, len, "%.0f%%", v);
        return;
    }
    if (!count && strcmp(unit, "s") == 0) {
        /* durations: 42s, 13m42s, 2h05m, 3d04h */
        double a = fabs(v);
        long long s = llround(a);
        const char *sign = v < 0 && s > 0 ? "-" : "";
        /* decided on the rounded value: 59.6 is 1m00s, not 60s */
        if (s < 60)
            snprintf(buf, len, "%s%llds", sign, s);
        else if (s < 3600)
            snprintf(buf, len, "%s%lldm%02llds", sign, s / 60, s % 60);
        else if (s < 86400)
            snprintf(buf, len, "%s%lldh%02lldm", sign, s / 3600, (s % 3600) / 60);
        else
            snprintf(buf, len, "%s%lldd%02lldh", sign, s / 86400, (s % 86400) / 3600);
        return;
    }
    if (!count && strcmp(unit, "%") == 0) {
        snprintf(buf, len, fabs(v) < 10 ? "%.1f%%" : "%.0f%%", v);
        return;
    }
    /* in full where there is room: a count's every unit, an amount's
     * (a sum, a level, a minimum, maximum or latest value) every cent;
     * averages and percentiles rounded for reading */
    bool amount = agg.kind == SR_AGG_SUM || agg.kind == SR_AGG_MIN || agg.kind == SR_AGG_MAX ||
                  agg.kind == SR_AGG_LAST ||
                  (agg.kind == SR_AGG_VALUE &&
                   (!def || def->kind == SR_KIND_GAUGE || def->kind == SR_KIND_COUNTER));
    char num[48];
    double a = fabs(v);
    if (!compact && !estimate && (count || amount)) {
        exact_amount(v, num, sizeof num);
    } else if (a >= 1e7 && compact) {
        snprintf(num, sizeof num, "%.1fM", v / 1e6);
    } else if (a >= 1e15) {
        snprintf(num, sizeof num, "%.15g", v);
    } else if (a >= 100 || v == floor(v)) {
        group(llround(v), num, sizeof num);
    } else {
        snprintf(num, sizeof num, a < 10 ? "%.2f" : "%.1f", v);
    }
    if (compact || count || !*unit)
        snprintf(buf, len, "%s", num);
    else
        snprintf(buf, len, "%s %s", num, unit);
}

void sr_format_value(double v, const sr_metric_def *def, sr_agg agg, bool compact, char *buf,
                     size_t len)
{
    format_any(v, def, agg, compact, false, buf, len);
}

void sr_format_estimate(double v, const sr_metric_def *def, sr_agg agg, char *buf, size_t len)
{
    format_any(v, def, agg, false, true, buf, len);
}

void sr_format_estimate_compact(double v, const sr_metric_def *def, sr_agg agg, char *buf,
                                size_t len)
{
    format_any(v, def, agg, true, true, buf, len);
}

/* The unit word of a formatted value: what follows its last blank when that
 * starts with no digit ("calls" of "2 082 calls"); NULL when none ("2 082"). */
static const char *unit_word(const char *v)
{
    const char *b = strrchr(v, ' ');
    return b && b[1] && !isdigit((unsigned char)b[1]) && b[1] != '-' ? b + 1 : NULL;
}

size_t sr_format_range(const char *lo, const char *hi, const char *sep, char *buf, size_t len)
{
    const char *ul = unit_word(lo), *uh = unit_word(hi);
    size_t keep = ul && uh && strcmp(ul, uh) == 0 ? (size_t)(ul - 1 - lo) : strlen(lo);
    snprintf(buf, len, "%.*s%s%s", (int)keep, lo, sep, hi);
    return keep;
}
