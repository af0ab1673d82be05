/*
 * httppage.c - the pages of an http source's result (see httppage.h).
 *
 * socrata appends $limit=page_size&$offset=N and stops at a short page;
 * arcgis appends resultOffset=N&resultRecordCount=page_size and goes on
 * while the body says exceededTransferLimit: true; link follows a next
 * link, at the path next = in the body or in the Link header (rel="next"),
 * which the caller resolves against the page's url with the rules of a
 * redirect (sr_httpurl_resolve; so this file needs no libcurl). The offset
 * moves by the rows a page gave (a server may cap page_size), and an
 * empty page ends a socrata or arcgis result. Bounds: page_size at most HTTPPAGE_SIZE_MAX,
 * max_pages at most HTTPPAGE_MAX_PAGES_LIMIT; what a poll does at the
 * bound is http.c's (an error that keeps the rows read).
 */
#include "httppage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpurl.h"
#include "jsondoc.h"
#include "map.h"

#define HTTPPAGE_SIZE_DEFAULT 1000
#define HTTPPAGE_SIZE_MAX 50000
#define HTTPPAGE_MAX_PAGES_DEFAULT 100
#define HTTPPAGE_MAX_PAGES_LIMIT 100000

static int socrata_param(const char *name, size_t n)
{
    return (n == 6 && sr_httpurl_ieq(name, "$limit", 6)) ||
           (n == 7 && sr_httpurl_ieq(name, "$offset", 7));
}

static int arcgis_param(const char *name, size_t n)
{
    return (n == 12 && sr_httpurl_ieq(name, "resultOffset", 12)) ||
           (n == 17 && sr_httpurl_ieq(name, "resultRecordCount", 17));
}

/* A whole number from lo to hi. */
static int parse_count(const char *text, size_t lo, size_t hi, size_t *out)
{
    char *end;
    if (*text < '0' || *text > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* The option key, a whole number from 1 to hi, into *out when it is set;
 * refused unless allowed (only with paging = only). */
static int count_option(const sr_ad_options *opts, const char *key, int allowed, const char *only,
                        size_t hi, size_t *out, char *err, size_t errlen)
{
    const char *v = sr_ad_opt(opts, key);
    if (!v)
        return 0;
    if (!allowed) {
        sr_map_errf(err, errlen, "%s: only with paging = %s", key, only);
        return -1;
    }
    if (parse_count(v, 1, hi, out) < 0) {
        sr_map_errf(err, errlen, "%s: expected a whole number from 1 to %zu, got '%s'", key, hi, v);
        return -1;
    }
    return 0;
}

int sr_httppage_init(sr_httppage *p, const sr_ad_options *opts, char *err, size_t errlen)
{
    static const char *const names[] = {"none", "socrata", "arcgis", "link"};
    const char *v = sr_ad_opt(opts, "paging");
    char name[64];

    p->mode = SR_HTTPPAGE_NONE;
    if (v) {
        size_t i = 0;
        while (i < 4 && strcmp(v, names[i]) != 0)
            i++;
        if (i == 4) {
            sr_map_errf(err, errlen, "paging: expected none, socrata, arcgis or link, got '%s'", v);
            return -1;
        }
        p->mode = (sr_httppage_mode)i;
    }
    int offsets = p->mode == SR_HTTPPAGE_SOCRATA || p->mode == SR_HTTPPAGE_ARCGIS;
    p->page_size = HTTPPAGE_SIZE_DEFAULT;
    p->max_pages = p->mode == SR_HTTPPAGE_NONE ? 1 : HTTPPAGE_MAX_PAGES_DEFAULT;
    if (count_option(opts, "page_size", offsets, "socrata or arcgis", HTTPPAGE_SIZE_MAX,
                     &p->page_size, err, errlen) < 0 ||
        count_option(opts, "max_pages", p->mode != SR_HTTPPAGE_NONE, "socrata, arcgis or link",
                     HTTPPAGE_MAX_PAGES_LIMIT, &p->max_pages, err, errlen) < 0)
        return -1;
    if ((v = sr_ad_opt(opts, "next"))) {
        if (p->mode != SR_HTTPPAGE_LINK) {
            sr_map_errf(err, errlen, "next: only with paging = link");
            return -1;
        }
        if (sr_jsondoc_path_check("next", v, err, errlen) < 0)
            return -1;
        if (*v && !(p->next = strdup(v))) {
            sr_map_errf(err, errlen, "out of memory");
            return -1;
        }
    }
    const char *url = sr_ad_opt(opts, "url");
    if ((p->mode == SR_HTTPPAGE_SOCRATA &&
         sr_httpurl_query_find(url, socrata_param, name, sizeof name)) ||
        (p->mode == SR_HTTPPAGE_ARCGIS &&
         sr_httpurl_query_find(url, arcgis_param, name, sizeof name))) {
        sr_map_errf(err, errlen, "url: leave %s out: paging = %s sets it (see page_size)", name,
                    names[p->mode]);
        return -1;
    }
    return 0;
}

/* base with the paging parameters of page offset appended, into out. */
static int page_url(const sr_httppage *p, const char *base, size_t offset, char *out, size_t len)
{
    const char *sep = strchr(base, '?') ? "&" : "?";
    int w = p->mode == SR_HTTPPAGE_SOCRATA
                ? snprintf(out, len, "%s%s$limit=%zu&$offset=%zu", base, sep, p->page_size, offset)
                : snprintf(out, len, "%s%sresultOffset=%zu&resultRecordCount=%zu", base, sep,
                           offset, p->page_size);
    return w < 0 || (size_t)w >= len ? -1 : 0;
}

void sr_httppage_fini(sr_httppage *p)
{
    free(p->next);
    p->next = NULL;
}

int sr_httppage_first(const sr_httppage *p, const char *base, char *out, size_t len, char *err,
                      size_t errlen)
{
    if (p->mode != SR_HTTPPAGE_SOCRATA && p->mode != SR_HTTPPAGE_ARCGIS) {
        if (strlen(base) >= len) {
            sr_map_errf(err, errlen, "url: longer than %zu bytes", len - 1);
            return -1;
        }
        memcpy(out, base, strlen(base) + 1);
        return 0;
    }
    if (page_url(p, base, 0, out, len) < 0) {
        sr_map_errf(err, errlen, "url: longer than %zu bytes with the paging parameters", len - 1);
        return -1;
    }
    return 0;
}

int sr_httppage_next(const sr_httppage *p, const json_t *doc, const char *link, const char *base,
                     size_t items, size_t *offset, char *next, size_t len, const char **target,
                     char *err, size_t errlen)
{
    const json_t *v;
    const char *to = NULL;
    *offset += items;
    *target = NULL;
    switch (p->mode) {
    case SR_HTTPPAGE_NONE:
        return 0;
    case SR_HTTPPAGE_SOCRATA:
    case SR_HTTPPAGE_ARCGIS:
        if (items == 0 || (p->mode == SR_HTTPPAGE_SOCRATA && items < p->page_size) ||
            (p->mode == SR_HTTPPAGE_ARCGIS &&
             !json_is_true(json_object_get(doc, "exceededTransferLimit"))))
            return 0;
        if (page_url(p, base, *offset, next, len) < 0) {
            sr_map_errf(err, errlen, "url: longer than %zu bytes with the paging parameters",
                        len - 1);
            return -1;
        }
        return 1;
    case SR_HTTPPAGE_LINK:
        if (!p->next) {
            to = link && link[0] ? link : NULL;
        } else if (sr_jsondoc_pick(doc, p->next, &v, err, errlen) == 0 && !json_is_null(v)) {
            if (!json_is_string(v)) {
                sr_map_errf(err, errlen, "next: '%s' is %s, expected a url or null", p->next,
                            sr_jsondoc_kind(v));
                return -1;
            }
            to = json_string_value(v);
        }
        if (!to || !*to)
            return 0;
        *target = to;
        return 2;
    }
    return 0;
}
