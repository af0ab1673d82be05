/*
 * http.c - the http adapter (type "http"): GET a JSON document, pick an
 * array in it by a dotted path, and map each element through the shared
 * row mapping (map.h) with jsonrow.h.
 *
 * A poll is one GET with libcurl (or one per page, below) on an easy
 * handle kept in the state (so a connection is reused between polls),
 * bounded by the poll's timeout (HTTP_TIMEOUT_MS without one; connecting
 * at most HTTP_CONNECT_MS of it; all pages and redirects share it),
 * limited to http and https, certificates verified unless tls_verify = no.
 * libcurl is started once (pthread_once) from open(), on the loop thread;
 * signals are off (polls run on worker threads). The body is collected up
 * to max_size bytes (more is an error, not a truncation), then handed to
 * sr_http_map_doc; sr_http_map_body, which needs no network, is what the
 * fuzz target drives. A status outside 2xx is an error quoting a short,
 * cleaned piece of the body.
 *
 * Credentials go to the configured host only. The token and the header =
 * lines are sent only on a request to the url's own origin (scheme, host
 * and port); libcurl does not follow redirects (it would repeat every
 * CURLOPT_HTTPHEADER line to wherever a Location points, and
 * CURLOPT_UNRESTRICTED_AUTH covers only Authorization): http_get follows
 * up to HTTP_REDIRECTS itself, and a redirect or a next link to another
 * origin is followed without them (an https source never to plain http).
 * No cookie engine is on, so no cookie is kept or sent. A query parameter
 * whose name says it is a secret (http_secret_name, the same rule as for
 * headers) is refused in the url at open, as user information is; and a
 * url is shown (errors, hence the sources view and the log) only through
 * sr_http_redact, without its query.
 *
 * The bearer token is never in the config: token_env or token_file name
 * where it is, and it is read again at each request (a rotated file is
 * picked up), kept only while the request is made, and wiped after.
 *
 * The url may hold {since} (the cursor, the start of the last successful
 * poll, as ISO-8601 UTC to the second, 1970-01-01T00:00:00Z before the
 * first) or {since_ms} (the same in epoch milliseconds). Rows carry keys,
 * so the overlap this gives is harmless.
 *
 * Paging (paging =): socrata appends $limit=page_size&$offset=N and stops
 * at a short page; arcgis appends resultOffset=N&resultRecordCount=
 * page_size and goes on while the body says exceededTransferLimit: true;
 * link follows a next link, at the path next = in the body or in the Link
 * header (rel="next"), resolved against the page's url. The offset moves
 * by the rows a page gave (a server may cap page_size). Every page of a
 * poll has the same {since}. A poll reads at most max_pages pages: more is
 * an error that keeps the rows read, as is a page that fails; the cursor
 * then stays, and the next poll starts again from the first page.
 *
 * Built without libcurl (pkg-config finds none, SR_HAVE_CURL unset), the
 * type still exists with its options, and open() says how to get it.
 */
#include "http.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonrow.h"
#include "modules.h"

#ifdef SR_HAVE_CURL
#include <curl/curl.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#endif

#define HTTP_VALUES_MAX 65536 /* bytes of non-string field text per item */
#define HTTP_RAW_MAX 4096     /* bytes of an item kept in a reject */
#define HTTP_EXCERPT_MAX 160  /* bytes of a body quoted in an error */
#define HTTP_NAMES_MAX 120    /* bytes of member names listed in an error */

/* ---- text for messages ---- */

/*
 * Copies at most n bytes of src (up to a NUL) into dst as one readable
 * line: control characters and runs of blanks made one space, markup
 * between < and > dropped when markup is set (an HTML error page), cut to
 * dlen - 1 bytes without splitting a UTF-8 sequence.
 */
static void http_clean(const char *src, size_t n, char *dst, size_t dlen, int markup)
{
    size_t o = 0;
    int in_tag = 0, space = 1;
    if (dlen == 0)
        return;
    for (size_t i = 0; i < n && src[i] && o + 1 < dlen; i++) {
        unsigned char c = (unsigned char)src[i];
        if (in_tag) {
            in_tag = c != '>';
            continue;
        }
        if (c == '<' && markup) {
            in_tag = 1;
            c = ' ';
        }
        if (c < 0x20 || c == 0x7f || c == ' ') {
            if (!space)
                dst[o++] = ' ';
            space = 1;
            continue;
        }
        dst[o++] = (char)c;
        space = 0;
    }
    while (o > 0 && dst[o - 1] == ' ')
        o--;
    /* drop a UTF-8 sequence the cut left unfinished */
    size_t k = o;
    while (k > 0 && ((unsigned char)dst[k - 1] & 0xc0) == 0x80)
        k--;
    if (k > 0 && (unsigned char)dst[k - 1] >= 0xc0) {
        unsigned char lead = (unsigned char)dst[k - 1];
        size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
        if (o - (k - 1) < need)
            o = k - 1;
    }
    dst[o] = '\0';
}

/* Appends n bytes of s at out + o (NUL-terminated, cut to len - 1);
 * returns the new length. */
static size_t http_append_text(char *out, size_t o, size_t len, const char *s, size_t n)
{
    if (o + 1 >= len)
        return o;
    if (n > len - 1 - o)
        n = len - 1 - o;
    memcpy(out + o, s, n);
    out[o + n] = '\0';
    return o + n;
}

void sr_http_redact(const char *url, char *out, size_t len)
{
    const char *p = url ? url : "";
    const char *sep = strstr(p, "://"), *auth = p;
    size_t o = 0;
    if (len == 0)
        return;
    out[0] = '\0';
    if (sep && (size_t)(sep - p) < strcspn(p, "/?#")) {
        auth = sep + 3;
        o = http_append_text(out, o, len, p, (size_t)(auth - p));
    }
    /* the authority without user information, then the path */
    size_t an = strcspn(auth, "/?#");
    const char *host = auth;
    for (size_t i = 0; i < an; i++) {
        if (auth[i] == '@')
            host = auth + i + 1;
    }
    o = http_append_text(out, o, len, host, (size_t)(auth + an - host));
    const char *path = auth + an;
    size_t pn = strcspn(path, "?#");
    o = http_append_text(out, o, len, path, pn);
    if (path[pn])
        http_append_text(out, o, len, "?\xe2\x80\xa6", 4);
}

/* The member names of obj, cleaned, comma-separated, cut to len - 1. */
static void http_member_names(const json_t *obj, char *buf, size_t len)
{
    const char *key;
    json_t *v;
    size_t o = 0;
    buf[0] = '\0';
    json_object_foreach((json_t *)obj, key, v)
    {
        char name[48];
        http_clean(key, strlen(key), name, sizeof name, 0);
        int w = snprintf(buf + o, len - o, "%s%s", o ? ", " : "", name);
        if (w < 0 || (size_t)w >= len - o) {
            if (len > 4)
                snprintf(buf + (o < len - 4 ? o : len - 4), 4, "...");
            return;
        }
        o += (size_t)w;
    }
}

static const char *http_json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "a value";
}

/* ---- the body to samples ---- */

int sr_http_path_check(const char *key, const char *path, char *err, size_t errlen)
{
    if (!path || !*path)
        return 0;
    size_t n = strlen(path);
    if (path[0] == '.' || path[n - 1] == '.' || strstr(path, "..")) {
        sr_map_errf(err, errlen,
                    "%s: expected names separated by single dots (data.incidents), got '%s'", key,
                    path);
        return -1;
    }
    for (const char *p = path; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            sr_map_errf(err, errlen, "%s: a control character in the path", key);
            return -1;
        }
    }
    return 0;
}

/* 0 and the index when seg (n bytes) is a decimal number without sign. */
static int http_index(const char *seg, size_t n, size_t *out)
{
    size_t v = 0;
    if (n == 0 || n > 9)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (seg[i] < '0' || seg[i] > '9')
            return -1;
        v = v * 10 + (size_t)(seg[i] - '0');
    }
    *out = v;
    return 0;
}

int sr_http_pick(const json_t *doc, const char *path, const json_t **out, char *err, size_t errlen)
{
    const json_t *cur = doc;
    const char *p = path ? path : "";
    char at[128] = "the document", names[HTTP_NAMES_MAX];

    while (*p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        const json_t *next = NULL;
        if (json_is_object(cur)) {
            next = json_object_get(cur, p);
            if (next) {
                n = strlen(p);
            } else {
                next = json_object_getn(cur, p, n);
            }
            if (!next) {
                http_member_names(cur, names, sizeof names);
                sr_map_errf(err, errlen, "items: no member '%.*s' in %s (its members: %s)",
                            (int)(n > 64 ? 64 : n), p, at, names[0] ? names : "none");
                return -1;
            }
        } else if (json_is_array(cur)) {
            size_t i;
            if (http_index(p, n, &i) < 0) {
                sr_map_errf(err, errlen,
                            "items: %s is an array; expected an index such as 0 instead of '%.*s'",
                            at, (int)(n > 64 ? 64 : n), p);
                return -1;
            }
            next = json_array_get(cur, i);
            if (!next) {
                sr_map_errf(err, errlen, "items: %s has %zu elements, no element %zu", at,
                            json_array_size(cur), i);
                return -1;
            }
        } else {
            sr_map_errf(err, errlen, "items: %s is %s, nothing can be picked in it", at,
                        http_json_kind(cur));
            return -1;
        }
        size_t done = (size_t)(p - (path ? path : "")) + n;
        snprintf(at, sizeof at, "'%.*s'", (int)(done > 100 ? 100 : done), path);
        cur = next;
        p += n;
        if (*p == '.')
            p++;
    }
    *out = cur;
    return 0;
}

/* The body as JSON, with jansson's line:column message when it is not. */
static json_t *http_parse(const char *body, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *doc = json_loadb(body, len, 0, &je);
    if (!doc) {
        char text[sizeof je.text];
        http_clean(je.text, sizeof je.text, text, sizeof text, 0);
        if (len == 0)
            sr_map_errf(err, errlen, "the response is empty, expected a JSON document");
        else
            sr_map_errf(err, errlen, "the response is not JSON: line %d column %d: %s", je.line,
                        je.column, text);
    }
    return doc;
}

/* One element: rejected when it is not an object or its fields cannot be
 * read; otherwise the map decides. Returns the SR_MAP_* outcome or
 * negative when the sink refused. */
static int http_map_item(const sr_map *m, const json_t *item, size_t page, size_t i, int64_t now_ms,
                         sr_sink *sink, const char **vals, char *vbuf, char *raw)
{
    char where[64], reason[256];
    if (page)
        snprintf(where, sizeof where, "page %zu item %zu", page, i);
    else
        snprintf(where, sizeof where, "item %zu", i);
    sr_jsonrow_raw(item, raw, HTTP_RAW_MAX);
    if (!json_is_object(item)) {
        snprintf(reason, sizeof reason, "expected a JSON object, got %s", http_json_kind(item));
    } else if (sr_jsonrow_values(m, item, vbuf, HTTP_VALUES_MAX, vals, reason, sizeof reason) < 0) {
        /* the reason is jsonrow's */
    } else {
        return sr_map_row(m, vals, now_ms, where, raw, sink);
    }
    return sink->reject(sink, where, raw, reason) < 0 ? -1 : SR_MAP_REJECTED;
}

int sr_http_map_doc(const sr_map *m, const char *items, const json_t *doc, size_t page,
                    int64_t now_ms, sr_sink *sink, sr_http_counts *counts, char *err, size_t errlen)
{
    const json_t *arr;
    int rc = -1;

    memset(counts, 0, sizeof *counts);
    if (sr_http_pick(doc, items, &arr, err, errlen) < 0)
        return -1;
    if (!json_is_array(arr)) {
        char names[HTTP_NAMES_MAX] = "";
        if (json_is_object(arr))
            http_member_names(arr, names, sizeof names);
        sr_map_errf(err, errlen, "items: %s%s%s is %s, not an array%s%s%s",
                    items && *items ? "'" : "the document", items && *items ? items : "",
                    items && *items ? "'" : "", http_json_kind(arr),
                    names[0] ? " (its members: " : "", names, names[0] ? "; set items)" : "");
        return -1;
    }

    size_t nf = sr_map_field_count(m);
    const char **vals = calloc(nf ? nf : 1, sizeof *vals);
    char *vbuf = malloc(HTTP_VALUES_MAX), *raw = malloc(HTTP_RAW_MAX);
    if (!vals || !vbuf || !raw) {
        sr_map_errf(err, errlen, "out of memory");
    } else {
        counts->items = json_array_size(arr);
        rc = 0;
        for (size_t i = 0; i < counts->items; i++) {
            int r =
                http_map_item(m, json_array_get(arr, i), page, i, now_ms, sink, vals, vbuf, raw);
            if (r < 0) {
                sr_map_errf(err, errlen, "the cache refused item %zu; stopped", i);
                rc = -1;
                break;
            }
            counts->emitted += r == SR_MAP_EMITTED;
            counts->filtered += r == SR_MAP_FILTERED;
            counts->rejected += r == SR_MAP_REJECTED;
        }
    }
    free(vals);
    free(vbuf);
    free(raw);
    return rc;
}

int sr_http_map_body(const sr_map *m, const char *items, const char *body, size_t len,
                     int64_t now_ms, sr_sink *sink, sr_http_counts *counts, char *err,
                     size_t errlen)
{
    memset(counts, 0, sizeof *counts);
    json_t *doc = http_parse(body, len, err, errlen);
    if (!doc)
        return -1;
    int rc = sr_http_map_doc(m, items, doc, 0, now_ms, sink, counts, err, errlen);
    json_decref(doc);
    return rc;
}

#ifdef SR_HAVE_CURL

/* ---- the adapter ---- */

#define HTTP_URL_MAX 4096
#define HTTP_CONNECT_MS 10000 /* at most this much of a poll's timeout to connect */
#define HTTP_TIMEOUT_MS 60000 /* when a poll comes without a budget */
#define HTTP_REDIRECTS 5
#define HTTP_MAX_SIZE_DEFAULT (16u << 20)
#define HTTP_MAX_SIZE_LIMIT (1u << 30)
#define HTTP_TOKEN_MAX 8192
#define HTTP_PAGE_SIZE_DEFAULT 1000
#define HTTP_PAGE_SIZE_MAX 50000
#define HTTP_MAX_PAGES_DEFAULT 100
#define HTTP_MAX_PAGES_LIMIT 100000

/* How a poll walks the pages of a result (paging =). */
typedef enum {
    HTTP_PAGING_NONE,    /* one GET */
    HTTP_PAGING_SOCRATA, /* $limit and $offset; a short page is the last */
    HTTP_PAGING_ARCGIS,  /* resultRecordCount and resultOffset while exceededTransferLimit */
    HTTP_PAGING_LINK,    /* a next link: in the body at next =, else the Link header */
} http_paging;

typedef struct {
    sr_map *map;
    CURL *curl;
    char *url; /* with its {since} placeholders */
    char *items;
    http_paging paging;
    size_t page_size; /* socrata, arcgis: rows asked for per page */
    size_t max_pages; /* a poll reads at most this many pages */
    char *next;       /* link: the path of the next link in the body; NULL = the Link header */
    int https;        /* the url is https: never follow a redirect or link to plain http */
    /* where the token is (copies of the options; read at each poll) */
    sr_ad_option token_opt;
    int has_token;
    char *config_dir;
    char *token_header; /* NULL = Authorization: Bearer */
    char **headers;     /* "Name: value" */
    size_t n_headers;
    size_t max_size;
    /* the body of the poll in progress */
    char *body;
    size_t len, cap;
    int too_big;
    char link[HTTP_URL_MAX]; /* the Link header's rel="next" target of this response, or "" */
    char errbuf[CURL_ERROR_SIZE];
} http_state;

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static CURLcode http_global_rc = CURLE_OK;

static void http_global_init(void)
{
    http_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *http_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

static int http_ieq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y || !x)
            return 0;
    }
    return 1;
}

/* 1 when the n-byte text contains word, ignoring case. */
static int http_icontains(const char *text, size_t n, const char *word)
{
    size_t w = strlen(word);
    for (size_t i = 0; i + w <= n; i++) {
        if (http_ieq(text + i, word, w))
            return 1;
    }
    return 0;
}

/* 1 when name (n bytes) is an HTTP header name (an RFC 9110 token). */
static int http_header_name_ok(const char *name, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("!#$%&'*+-.^_`|~", c)))
            return 0;
    }
    return 1;
}

/*
 * 1 when a header or query parameter named name (n bytes) looks like it
 * carries a credential: the name holds token, secret, passw, apikey,
 * signature, credential, authoriz, cookie or session, or one of its words
 * (split at - _ . and blanks) is key, sig, pwd, pass or auth. Case is
 * ignored. The one rule for both, documented in sitrep.conf(5).
 */
static int http_secret_name(const char *name, size_t n)
{
    static const char *const parts[] = {"token",      "secret",   "passw",  "apikey", "signature",
                                        "credential", "authoriz", "cookie", "session"};
    static const char *const words[] = {"key", "sig", "pwd", "pass", "auth"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (http_icontains(name, n, parts[i]))
            return 1;
    }
    for (size_t s = 0; s < n;) {
        size_t e = s;
        while (e < n && !strchr("-_. ", name[e]))
            e++;
        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
            if (e - s == strlen(words[i]) && http_ieq(name + s, words[i], e - s))
                return 1;
        }
        s = e + 1;
    }
    return 0;
}

/* The hex digit c as a number, or -1. */
static int http_hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/*
 * The first query parameter of url (up to a fragment) whose name, %-decoded
 * into name (cut to len - 1), pred accepts; NULL when none does.
 */
static const char *http_query_find(const char *url, int (*pred)(const char *name, size_t n),
                                   char *name, size_t len)
{
    const char *q = strchr(url, '?');
    if (!q)
        return NULL;
    for (const char *p = q + 1; *p && *p != '#';) {
        size_t n = strcspn(p, "&;#"), o = 0;
        for (size_t i = 0; i < n && p[i] != '=' && o + 1 < len; i++) {
            int hi, lo;
            if (p[i] == '%' && i + 2 < n && (hi = http_hex(p[i + 1])) >= 0 &&
                (lo = http_hex(p[i + 2])) >= 0) {
                name[o++] = (char)(hi * 16 + lo);
                i += 2;
            } else {
                name[o++] = p[i] == '+' ? ' ' : p[i];
            }
        }
        name[o] = '\0';
        if (o > 0 && pred(name, o))
            return name;
        p += n;
        if (*p == '&' || *p == ';')
            p++;
    }
    return NULL;
}

static int http_socrata_param(const char *name, size_t n)
{
    return (n == 6 && http_ieq(name, "$limit", 6)) || (n == 7 && http_ieq(name, "$offset", 7));
}

static int http_arcgis_param(const char *name, size_t n)
{
    return (n == 12 && http_ieq(name, "resultOffset", 12)) ||
           (n == 17 && http_ieq(name, "resultRecordCount", 17));
}

/* Writes {since} and {since_ms} of tmpl into out. Returns 0, -1 when it
 * does not fit, -2 at an unknown placeholder (named in bad). */
static int http_expand(const char *tmpl, int64_t since_ms, char *out, size_t len, char *bad,
                       size_t badlen)
{
    size_t o = 0;
    for (const char *p = tmpl; *p;) {
        char piece[40];
        const char *text = piece;
        size_t n;
        if (strncmp(p, "{since}", 7) == 0) {
            time_t s = since_ms > 0 ? (time_t)(since_ms / 1000) : 0;
            struct tm tm;
            if (!gmtime_r(&s, &tm)) {
                s = 0;
                gmtime_r(&s, &tm);
            }
            strftime(piece, sizeof piece, "%Y-%m-%dT%H:%M:%SZ", &tm);
            n = strlen(piece);
            p += 7;
        } else if (strncmp(p, "{since_ms}", 10) == 0) {
            snprintf(piece, sizeof piece, "%" PRId64, since_ms > 0 ? since_ms : 0);
            n = strlen(piece);
            p += 10;
        } else if (*p == '{' || *p == '}') {
            const char *close = *p == '{' ? strchr(p, '}') : NULL;
            size_t w = close ? (size_t)(close - p) + 1 : 1;
            snprintf(bad, badlen, "%.*s", (int)(w > 40 ? 40 : w), p);
            return -2;
        } else {
            text = p;
            n = strcspn(p, "{}");
            p += n;
        }
        if (o + n >= len)
            return -1;
        memcpy(out + o, text, n);
        o += n;
    }
    out[o] = '\0';
    return 0;
}

/* Checks url as the adapter will send it: http or https, no credentials
 * (user information, or a query parameter whose name says it is a secret:
 * http_secret_name), no blanks, and parsed by curl. Sets *https. The url
 * is quoted only as sr_http_redact shows it. */
static int http_check_url(const char *tmpl, int *https, char *err, size_t errlen)
{
    char url[HTTP_URL_MAX], bad[48], shown[160], name[64];
    int rc = http_expand(tmpl, 1709683200000, url, sizeof url, bad, sizeof bad);
    if (rc == -2) {
        sr_map_errf(err, errlen, "url: unknown placeholder %s (known: {since}, {since_ms})", bad);
        return -1;
    }
    if (rc < 0) {
        sr_map_errf(err, errlen, "url: longer than %d bytes", HTTP_URL_MAX - 1);
        return -1;
    }
    sr_http_redact(url, shown, sizeof shown);
    if (http_ieq(url, "https://", 8)) {
        *https = 1;
    } else if (http_ieq(url, "http://", 7)) {
        *https = 0;
    } else {
        sr_map_errf(err, errlen, "url: expected http://... or https://..., got '%s'", shown);
        return -1;
    }
    for (const char *p = url; *p; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
            sr_map_errf(err, errlen, "url: blanks and control characters must be %%-encoded");
            return -1;
        }
    }
    if (http_query_find(url, http_secret_name, name, sizeof name)) {
        char clean[64];
        http_clean(name, strlen(name), clean, sizeof clean, 0);
        sr_map_errf(err, errlen,
                    "url: the query parameter '%s' looks like it carries a secret, and secrets "
                    "never go in the config: send it in a header instead, from token_env or "
                    "token_file with token_header",
                    clean);
        return -1;
    }
    CURLU *u = curl_url();
    if (!u) {
        sr_map_errf(err, errlen, "out of memory");
        return -1;
    }
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    char *user = NULL, *host = NULL;
    if (uc == CURLUE_OK)
        curl_url_get(u, CURLUPART_USER, &user, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    rc = 0;
    if (uc != CURLUE_OK) {
        sr_map_errf(err, errlen, "url: %s: '%s'", curl_url_strerror(uc), shown);
        rc = -1;
    } else if (user) {
        sr_map_errf(err, errlen,
                    "url: credentials in the url are refused (a secret in the config); use "
                    "token_env or token_file");
        rc = -1;
    }
    curl_free(user);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

/* "16M", "512k", "1000" to bytes, 1..HTTP_MAX_SIZE_LIMIT. */
static int http_parse_size(const char *text, size_t *out)
{
    char *end;
    errno = 0;
    if (*text < '0' || *text > '9')
        return -1;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno)
        return -1;
    unsigned long long mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1ull << 10;
    else if (*end == 'M')
        mul = 1ull << 20;
    else if (*end == 'G')
        mul = 1ull << 30;
    if (mul > 1)
        end++;
    if (*end || v == 0 || v > HTTP_MAX_SIZE_LIMIT / mul)
        return -1;
    *out = (size_t)(v * mul);
    return 0;
}

/* Splits header = "A: x | B: y" into st->headers, checking each. */
static int http_parse_headers(http_state *st, const char *text, char *err, size_t errlen)
{
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, "|");
        const char *s = p, *e = p + n;
        p = *e ? e + 1 : e;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (s == e)
            continue;
        const char *colon = memchr(s, ':', (size_t)(e - s));
        size_t nlen = colon ? (size_t)(colon - s) : 0;
        if (!colon || !http_header_name_ok(s, nlen)) {
            sr_map_errf(err, errlen, "header: expected Name: value, got '%.*s'", (int)(e - s), s);
            return -1;
        }
        for (const char *c = s; c < e; c++) {
            if ((unsigned char)*c < 0x20 && *c != '\t') {
                sr_map_errf(err, errlen, "header: a control character in '%.*s'", (int)nlen, s);
                return -1;
            }
        }
        if (http_secret_name(s, nlen)) {
            sr_map_errf(err, errlen,
                        "header: '%.*s' looks like it carries a secret, and secrets never go in "
                        "the config: put the value in a file or variable named by token_file or "
                        "token_env, with token_header = %.*s",
                        (int)nlen, s, (int)nlen, s);
            return -1;
        }
        char **h = realloc(st->headers, (st->n_headers + 1) * sizeof *h);
        if (!h) {
            sr_map_errf(err, errlen, "out of memory");
            return -1;
        }
        st->headers = h;
        if (!(h[st->n_headers] = malloc((size_t)(e - s) + 1))) {
            sr_map_errf(err, errlen, "out of memory");
            return -1;
        }
        memcpy(h[st->n_headers], s, (size_t)(e - s));
        h[st->n_headers++][e - s] = '\0';
    }
    return 0;
}

static void http_wipe(char *s)
{
    if (s) {
        volatile char *v = s;
        while (*v)
            *v++ = '\0';
    }
}

/*
 * The token, read now from where the options said (malloc'd, wiped and
 * freed by the caller), or NULL without a token. Returns 0, or negative
 * with a message naming the option.
 */
static int http_token(const http_state *st, char **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!st->has_token)
        return 0;
    sr_ad_options o = {.v = &st->token_opt, .n = 1, .config_dir = st->config_dir};
    if (sr_map_secret(&o, "token", out, err, errlen) < 0)
        return -1;
    if (!*out) {
        sr_map_errf(err, errlen, "%s: no token", st->token_opt.key);
        return -1;
    }
    size_t n = strlen(*out);
    const char *bad = n == 0 ? "is empty" : n >= HTTP_TOKEN_MAX ? "is too long" : NULL;
    for (const char *p = *out; !bad && *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            bad = "contains a control character";
    }
    if (bad) {
        sr_map_errf(err, errlen, "%s: the token %s", st->token_opt.key, bad);
        http_wipe(*out);
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

static size_t http_write(char *data, size_t size, size_t nmemb, void *ctx)
{
    http_state *st = ctx;
    size_t n = size * nmemb;
    if (n > st->max_size - st->len) {
        st->too_big = 1;
        return 0;
    }
    if (st->len + n > st->cap) {
        size_t cap = st->cap ? st->cap : 16384;
        while (cap < st->len + n)
            cap *= 2;
        if (cap > st->max_size)
            cap = st->max_size;
        char *b = realloc(st->body, cap);
        if (!b)
            return 0;
        st->body = b;
        st->cap = cap;
    }
    memcpy(st->body + st->len, data, n);
    st->len += n;
    return n;
}

/*
 * The target of rel="next" in a Link header value (RFC 8288: <uri>;
 * param=value, ...; rel may list several relations), copied into out;
 * 0 when found, -1 otherwise.
 */
static int http_link_next(const char *v, size_t n, char *out, size_t len)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        if (i >= n || v[i] != '<')
            return -1;
        size_t s = ++i;
        while (i < n && v[i] != '>')
            i++;
        if (i >= n)
            return -1;
        size_t e = i++;
        int next = 0;
        /* the parameters, up to the comma that ends this link */
        while (i < n && v[i] != ',') {
            while (i < n && (v[i] == ';' || v[i] == ' ' || v[i] == '\t'))
                i++;
            size_t ns = i;
            while (i < n && v[i] != '=' && v[i] != ';' && v[i] != ',')
                i++;
            size_t nn = i - ns;
            while (nn > 0 && (v[ns + nn - 1] == ' ' || v[ns + nn - 1] == '\t'))
                nn--;
            const char *val = "";
            size_t vn = 0;
            if (i < n && v[i] == '=') {
                i++;
                while (i < n && (v[i] == ' ' || v[i] == '\t'))
                    i++;
                if (i < n && v[i] == '"') {
                    val = v + ++i;
                    while (i < n && v[i] != '"')
                        i++;
                    vn = (size_t)(v + i - val);
                    if (i < n)
                        i++;
                } else {
                    val = v + i;
                    while (i < n && v[i] != ';' && v[i] != ',')
                        i++;
                    vn = (size_t)(v + i - val);
                }
            }
            if (nn == 3 && http_ieq(v + ns, "rel", 3)) {
                for (size_t k = 0; k < vn;) {
                    size_t w = k;
                    while (w < vn && val[w] != ' ')
                        w++;
                    next |= w - k == 4 && http_ieq(val + k, "next", 4);
                    k = w + 1;
                }
            }
            while (i < n && v[i] != ';' && v[i] != ',')
                i++;
        }
        if (next) {
            if (e - s >= len)
                return -1;
            memcpy(out, v + s, e - s);
            out[e - s] = '\0';
            return 0;
        }
    }
    return -1;
}

/* libcurl's header callback: keeps the Link header's next target of the
 * response being read (a new status line forgets an earlier one). */
static size_t http_header(char *data, size_t size, size_t nmemb, void *ctx)
{
    http_state *st = ctx;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0)
        st->link[0] = '\0';
    else if (n > 5 && http_ieq(data, "link:", 5) && !st->link[0]) {
        size_t e = n;
        while (e > 5 && (data[e - 1] == '\r' || data[e - 1] == '\n'))
            e--;
        if (http_link_next(data + 5, e - 5, st->link, sizeof st->link) < 0)
            st->link[0] = '\0';
    }
    return n;
}

static void http_free(http_state *st)
{
    if (!st)
        return;
    if (st->curl)
        curl_easy_cleanup(st->curl);
    sr_map_destroy(st->map);
    free(st->url);
    free(st->items);
    free(st->next);
    free((char *)st->token_opt.key);
    free((char *)st->token_opt.value);
    free(st->config_dir);
    free(st->token_header);
    for (size_t i = 0; i < st->n_headers; i++)
        free(st->headers[i]);
    free(st->headers);
    free(st->body);
    free(st);
}

/* The handle's options that never change between polls. */
static int http_setup_curl(http_state *st, int verify, const char *ca, char *err, size_t errlen)
{
    CURL *c = st->curl;
    CURLcode rc = CURLE_OK;
#define HTTP_SET(opt, val)                                                                         \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = curl_easy_setopt(c, opt, val);                                                    \
    } while (0)
    HTTP_SET(CURLOPT_NOSIGNAL, 1L);
    HTTP_SET(CURLOPT_ERRORBUFFER, st->errbuf);
    HTTP_SET(CURLOPT_WRITEFUNCTION, http_write);
    HTTP_SET(CURLOPT_WRITEDATA, st);
    HTTP_SET(CURLOPT_HEADERFUNCTION, http_header);
    HTTP_SET(CURLOPT_HEADERDATA, st);
    /* redirects are followed by http_get, which decides what each hop carries */
    HTTP_SET(CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    HTTP_SET(CURLOPT_PROTOCOLS_STR, "http,https");
    HTTP_SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    HTTP_SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    HTTP_SET(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    HTTP_SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)st->max_size);
    HTTP_SET(CURLOPT_ACCEPT_ENCODING, "");
    HTTP_SET(CURLOPT_USERAGENT, "sitrep");
    HTTP_SET(CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
    HTTP_SET(CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
    if (ca)
        HTTP_SET(CURLOPT_CAINFO, ca);
#undef HTTP_SET
    if (rc != CURLE_OK) {
        sr_map_errf(err, errlen, "libcurl refused an option: %s", curl_easy_strerror(rc));
        return -1;
    }
    return 0;
}

/* A whole number from lo to hi. */
static int http_parse_count(const char *text, size_t lo, size_t hi, size_t *out)
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
static int http_count_option(const sr_ad_options *opts, const char *key, int allowed,
                             const char *only, size_t hi, size_t *out, char *err, size_t errlen)
{
    const char *v = sr_ad_opt(opts, key);
    if (!v)
        return 0;
    if (!allowed) {
        sr_map_errf(err, errlen, "%s: only with paging = %s", key, only);
        return -1;
    }
    if (http_parse_count(v, 1, hi, out) < 0) {
        sr_map_errf(err, errlen, "%s: expected a whole number from 1 to %zu, got '%s'", key, hi, v);
        return -1;
    }
    return 0;
}

/* paging, page_size, max_pages and next, checked against each other and
 * against the url (which must leave the paging parameters to them). */
static int http_paging_options(const sr_ad_options *opts, http_state *st, char *err, size_t errlen)
{
    static const char *const names[] = {"none", "socrata", "arcgis", "link"};
    const char *v = sr_ad_opt(opts, "paging");
    char name[64];

    st->paging = HTTP_PAGING_NONE;
    if (v) {
        size_t i = 0;
        while (i < 4 && strcmp(v, names[i]) != 0)
            i++;
        if (i == 4) {
            sr_map_errf(err, errlen, "paging: expected none, socrata, arcgis or link, got '%s'", v);
            return -1;
        }
        st->paging = (http_paging)i;
    }
    int offsets = st->paging == HTTP_PAGING_SOCRATA || st->paging == HTTP_PAGING_ARCGIS;
    st->page_size = HTTP_PAGE_SIZE_DEFAULT;
    st->max_pages = st->paging == HTTP_PAGING_NONE ? 1 : HTTP_MAX_PAGES_DEFAULT;
    if (http_count_option(opts, "page_size", offsets, "socrata or arcgis", HTTP_PAGE_SIZE_MAX,
                          &st->page_size, err, errlen) < 0 ||
        http_count_option(opts, "max_pages", st->paging != HTTP_PAGING_NONE,
                          "socrata, arcgis or link", HTTP_MAX_PAGES_LIMIT, &st->max_pages, err,
                          errlen) < 0)
        return -1;
    if ((v = sr_ad_opt(opts, "next"))) {
        if (st->paging != HTTP_PAGING_LINK) {
            sr_map_errf(err, errlen, "next: only with paging = link");
            return -1;
        }
        if (sr_http_path_check("next", v, err, errlen) < 0)
            return -1;
        if (*v && !(st->next = http_strdup(v))) {
            sr_map_errf(err, errlen, "out of memory");
            return -1;
        }
    }
    const char *url = sr_ad_opt(opts, "url");
    if ((st->paging == HTTP_PAGING_SOCRATA &&
         http_query_find(url, http_socrata_param, name, sizeof name)) ||
        (st->paging == HTTP_PAGING_ARCGIS &&
         http_query_find(url, http_arcgis_param, name, sizeof name))) {
        sr_map_errf(err, errlen, "url: leave %s out: paging = %s sets it (see page_size)", name,
                    names[st->paging]);
        return -1;
    }
    return 0;
}

static int http_open_options(const sr_ad_options *opts, http_state *st, char *err, size_t errlen)
{
    const char *v;
    int https = 0, verify = 1;
    char ca[4096];

    v = sr_ad_opt(opts, "url");
    if (!v || !*v) {
        sr_map_errf(err, errlen, "url: required, the address of a JSON document");
        return -1;
    }
    if (http_check_url(v, &https, err, errlen) < 0)
        return -1;
    if (!(st->url = http_strdup(v)))
        goto oom;
    st->https = https;
    v = sr_ad_opt(opts, "items");
    if (sr_http_path_check("items", v, err, errlen) < 0)
        return -1;
    if (!(st->items = http_strdup(v ? v : "")))
        goto oom;
    if (http_paging_options(opts, st, err, errlen) < 0)
        return -1;

    st->max_size = HTTP_MAX_SIZE_DEFAULT;
    if ((v = sr_ad_opt(opts, "max_size")) && http_parse_size(v, &st->max_size) < 0) {
        sr_map_errf(err, errlen,
                    "max_size: expected a size from 1 to 1G such as 16M or 512k, got '%s'", v);
        return -1;
    }
    if ((v = sr_ad_opt(opts, "tls_verify"))) {
        if (strcmp(v, "yes") == 0)
            verify = 1;
        else if (strcmp(v, "no") == 0)
            verify = 0;
        else {
            sr_map_errf(err, errlen, "tls_verify: expected yes or no, got '%s'", v);
            return -1;
        }
    }
    if ((v = sr_ad_opt(opts, "ca_file"))) {
        if (sr_map_path(opts, v, ca, sizeof ca) < 0) {
            sr_map_errf(err, errlen, "ca_file: path too long");
            return -1;
        }
        if (access(ca, R_OK) != 0) {
            sr_map_errf(err, errlen, "ca_file: cannot read %s: %s", ca, strerror(errno));
            return -1;
        }
    }
    if ((v = sr_ad_opt(opts, "header")) && http_parse_headers(st, v, err, errlen) < 0)
        return -1;
    if ((v = sr_ad_opt(opts, "token_header"))) {
        if (!http_header_name_ok(v, strlen(v))) {
            sr_map_errf(err, errlen,
                        "token_header: expected a header name such as X-Api-Key, got '%s'", v);
            return -1;
        }
        if (!(st->token_header = http_strdup(v)))
            goto oom;
    }

    /* the token: checked now, read again at each poll */
    char *token = NULL;
    if (sr_map_secret(opts, "token", &token, err, errlen) < 0)
        return -1;
    if (token) {
        http_wipe(token);
        free(token);
        const char *key = sr_ad_opt(opts, "token_file") ? "token_file" : "token_env";
        st->token_opt.key = http_strdup(key);
        st->token_opt.value = http_strdup(sr_ad_opt(opts, key));
        st->config_dir = http_strdup(opts->config_dir ? opts->config_dir : ".");
        if (!st->token_opt.key || !st->token_opt.value || !st->config_dir)
            goto oom;
        st->has_token = 1;
        if (http_token(st, &token, err, errlen) < 0)
            return -1;
        http_wipe(token);
        free(token);
    } else if (st->token_header) {
        sr_map_errf(err, errlen, "token_header: set, but neither token_env nor token_file is");
        return -1;
    }

    if (sr_map_create(opts, &st->map, err, errlen) < 0)
        return -1;
    if (!(st->curl = curl_easy_init()))
        goto oom;
    return http_setup_curl(st, verify, sr_ad_opt(opts, "ca_file") ? ca : NULL, err, errlen);
oom:
    sr_map_errf(err, errlen, "out of memory");
    return -1;
}

static int http_open(const sr_ad_options *opts, void **state, char *err, size_t errlen)
{
    pthread_once(&http_once, http_global_init);
    if (http_global_rc != CURLE_OK) {
        sr_map_errf(err, errlen, "libcurl could not start: %s", curl_easy_strerror(http_global_rc));
        return -1;
    }
    http_state *st = calloc(1, sizeof *st);
    if (!st) {
        sr_map_errf(err, errlen, "out of memory");
        return -1;
    }
    if (http_open_options(opts, st, err, errlen) < 0) {
        http_free(st);
        return -1;
    }
    *state = st;
    return 0;
}

/* Appends line to *list. Returns 0, or -1 when out of memory (the list
 * as it was is kept). */
static int http_append(struct curl_slist **list, const char *line)
{
    struct curl_slist *l = curl_slist_append(*list, line);
    if (!l)
        return -1;
    *list = l;
    return 0;
}

/*
 * The request headers of one request in *out (free with
 * http_free_headers). With credentials (a request to the url's own
 * origin), the headers of the config and the token among them; without
 * (another host), only the default Accept. Returns 0, or negative with a
 * message.
 */
static int http_request_headers(const http_state *st, int credentials, struct curl_slist **out,
                                char *err, size_t errlen)
{
    struct curl_slist *list = NULL;
    char *token = NULL, *line = NULL;
    int accept = 0, rc = 0;

    *out = NULL;
    if (credentials && http_token(st, &token, err, errlen) < 0)
        return -1;
    for (size_t i = 0; credentials && i < st->n_headers; i++)
        accept |= http_ieq(st->headers[i], "accept:", 7);
    if (!accept)
        rc = http_append(&list, "Accept: application/json");
    for (size_t i = 0; credentials && rc == 0 && i < st->n_headers; i++)
        rc = http_append(&list, st->headers[i]);
    if (rc == 0 && token) {
        const char *name = st->token_header ? st->token_header : "Authorization";
        size_t n = strlen(name) + strlen(token) + 16;
        if ((line = malloc(n))) {
            snprintf(line, n, "%s: %s%s", name, st->token_header ? "" : "Bearer ", token);
            rc = http_append(&list, line);
            http_wipe(line);
            free(line);
        } else {
            rc = -1;
        }
    }
    if (token) {
        http_wipe(token);
        free(token);
    }
    if (rc < 0) {
        curl_slist_free_all(list);
        sr_map_errf(err, errlen, "out of memory");
        return -1;
    }
    *out = list;
    return 0;
}

static void http_free_headers(struct curl_slist *list)
{
    for (struct curl_slist *l = list; l; l = l->next)
        http_wipe(l->data);
    curl_slist_free_all(list);
}

/* The error of a transfer that did not complete; url as it was asked. */
static void http_transfer_error(const http_state *st, CURLcode rc, const char *url, char *err,
                                size_t errlen)
{
    char size[32], shown[HTTP_URL_MAX];
    sr_http_redact(url, shown, sizeof shown);
    if (st->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        if (st->max_size % (1u << 20) == 0)
            snprintf(size, sizeof size, "%zuM", st->max_size >> 20);
        else if (st->max_size % (1u << 10) == 0)
            snprintf(size, sizeof size, "%zuk", st->max_size >> 10);
        else
            snprintf(size, sizeof size, "%zu bytes", st->max_size);
        sr_map_errf(err, errlen, "GET %s: the response is larger than max_size (%s)", shown, size);
        return;
    }
    char msg[CURL_ERROR_SIZE];
    http_clean(st->errbuf[0] ? st->errbuf : curl_easy_strerror(rc), CURL_ERROR_SIZE, msg,
               sizeof msg, 0);
    sr_map_errf(err, errlen, "GET %s: %s", shown, msg);
}

/*
 * "scheme://host:port" of url, lower case, the port given even when it is
 * the scheme's default; "" when url cannot be parsed (then it is nobody's
 * origin, and a request there carries no credentials).
 */
static void http_origin(const char *url, char *out, size_t len)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    out[0] = '\0';
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        int w = snprintf(out, len, "%s://%s:%s", scheme, host, port);
        if (w < 0 || (size_t)w >= len)
            out[0] = '\0';
        for (char *p = out; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}

/*
 * target (a Location, or a next link) resolved against base into out,
 * checked: http or https, never from an https source to plain http, no
 * user information. Returns 0, or negative with a message in err saying
 * what (a "redirect", a "next link") was refused.
 */
static int http_resolve(const http_state *st, const char *base, const char *target,
                        const char *what, char *out, size_t len, char *err, size_t errlen)
{
    CURLU *u = curl_url();
    char *full = NULL, *scheme = NULL, *user = NULL, shown[HTTP_URL_MAX];
    int rc = -1;
    sr_http_redact(target, shown, sizeof shown);
    if (!u) {
        sr_map_errf(err, errlen, "out of memory");
        return -1;
    }
    if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_URL, target, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        sr_map_errf(err, errlen, "a %s to '%s' that is not a url", what, shown);
    } else if (strcmp(scheme, "https") != 0 && (strcmp(scheme, "http") != 0 || st->https)) {
        sr_map_errf(err, errlen, "a %s to %s is refused (%s)", what, shown,
                    st->https ? "an https source goes to https only" : "http or https only");
    } else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK && user) {
        sr_map_errf(err, errlen, "a %s with credentials in it is refused", what);
    } else if (strlen(full) >= len) {
        sr_map_errf(err, errlen, "a %s longer than %zu bytes", what, len - 1);
    } else {
        memcpy(out, full, strlen(full) + 1);
        rc = 0;
    }
    curl_free(full);
    curl_free(scheme);
    curl_free(user);
    curl_url_cleanup(u);
    return rc;
}

static int64_t http_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * GETs url into st->body, following up to HTTP_REDIRECTS redirects
 * itself (libcurl's own following would send every header of the config
 * to wherever a Location points): each request carries the token and the
 * headers of the config only when it goes to origin, the scheme, host and
 * port of the configured url; elsewhere it goes without them. url is
 * updated to the url that answered. Returns 0 with the final status, or
 * negative with a message.
 */
static int http_get(http_state *st, char *url, size_t urllen, const char *origin,
                    int64_t deadline_ms, long *status, char *err, size_t errlen)
{
    CURL *c = st->curl;
    char here[256], shown[HTTP_URL_MAX];
    for (int hop = 0;; hop++) {
        int64_t left = deadline_ms - http_clock_ms();
        if (left <= 0) {
            sr_http_redact(url, shown, sizeof shown);
            sr_map_errf(err, errlen, "GET %s: the poll's time ran out", shown);
            return -1;
        }
        http_origin(url, here, sizeof here);
        struct curl_slist *headers;
        if (http_request_headers(st, here[0] && strcmp(here, origin) == 0, &headers, err, errlen) <
            0)
            return -1;
        st->len = 0;
        st->too_big = 0;
        st->errbuf[0] = '\0';
        st->link[0] = '\0';
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)left);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                         (long)(left < HTTP_CONNECT_MS ? left : HTTP_CONNECT_MS));
        CURLcode rc = curl_easy_perform(c);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
        http_free_headers(headers);
        if (rc != CURLE_OK) {
            http_transfer_error(st, rc, url, err, errlen);
            return -1;
        }
        *status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
        if (*status != 301 && *status != 302 && *status != 303 && *status != 307 && *status != 308)
            return 0;
        char *location = NULL, why[512];
        curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location);
        sr_http_redact(url, shown, sizeof shown);
        if (!location) {
            sr_map_errf(err, errlen, "GET %s: HTTP %ld without a Location to go to", shown,
                        *status);
            return -1;
        }
        if (hop == HTTP_REDIRECTS) {
            sr_map_errf(err, errlen, "GET %s: more than %d redirects", shown, HTTP_REDIRECTS);
            return -1;
        }
        char to[HTTP_URL_MAX];
        if (http_resolve(st, url, location, "redirect", to, sizeof to, why, sizeof why) < 0) {
            sr_map_errf(err, errlen, "GET %s: %s", shown, why);
            return -1;
        }
        if (strlen(to) >= urllen) {
            sr_map_errf(err, errlen, "GET %s: a redirect longer than %zu bytes", shown, urllen - 1);
            return -1;
        }
        memcpy(url, to, strlen(to) + 1);
    }
}

/* base with the paging parameters of page offset appended, into out. */
static int http_page_url(const http_state *st, const char *base, size_t offset, char *out,
                         size_t len)
{
    const char *sep = strchr(base, '?') ? "&" : "?";
    int w = st->paging == HTTP_PAGING_SOCRATA
                ? snprintf(out, len, "%s%s$limit=%zu&$offset=%zu", base, sep, st->page_size, offset)
                : snprintf(out, len, "%s%sresultOffset=%zu&resultRecordCount=%zu", base, sep,
                           offset, st->page_size);
    return w < 0 || (size_t)w >= len ? -1 : 0;
}

/*
 * After a page that gave items elements: 1 and the next page's url in
 * next when there is one, 0 when this was the last page, negative with a
 * message. cur is the url that answered (a relative next link is resolved
 * against it); *offset counts the rows read so far.
 */
static int http_next_page(http_state *st, const json_t *doc, const char *base, const char *cur,
                          size_t items, size_t *offset, char *next, size_t len, char *err,
                          size_t errlen)
{
    const json_t *v;
    const char *link = NULL;
    *offset += items;
    switch (st->paging) {
    case HTTP_PAGING_NONE:
        return 0;
    case HTTP_PAGING_SOCRATA:
    case HTTP_PAGING_ARCGIS:
        if (items == 0 || (st->paging == HTTP_PAGING_SOCRATA && items < st->page_size) ||
            (st->paging == HTTP_PAGING_ARCGIS &&
             !json_is_true(json_object_get(doc, "exceededTransferLimit"))))
            return 0;
        if (http_page_url(st, base, *offset, next, len) < 0) {
            sr_map_errf(err, errlen, "url: longer than %zu bytes with the paging parameters",
                        len - 1);
            return -1;
        }
        return 1;
    case HTTP_PAGING_LINK:
        if (!st->next) {
            link = st->link[0] ? st->link : NULL;
        } else if (sr_http_pick(doc, st->next, &v, err, errlen) == 0 && !json_is_null(v)) {
            if (!json_is_string(v)) {
                sr_map_errf(err, errlen, "next: '%s' is %s, expected a url or null", st->next,
                            http_json_kind(v));
                return -1;
            }
            link = json_string_value(v);
        }
        if (!link || !*link)
            return 0;
        return http_resolve(st, cur, link, "next link", next, len, err, errlen) < 0 ? -1 : 1;
    }
    return 0;
}

/*
 * One page: GET url (updated to the url that answered), then its rows into
 * sink. *doc is the parsed body (the caller decrefs it; NULL for 204 No
 * Content). Returns 0, or negative with a message.
 */
static int http_page(http_state *st, char *url, size_t urllen, const char *origin,
                     int64_t deadline_ms, size_t page, int64_t now_ms, sr_sink *sink, json_t **doc,
                     sr_http_counts *counts, char *err, size_t errlen)
{
    long status = 0;
    char shown[HTTP_URL_MAX], why[512];
    *doc = NULL;
    memset(counts, 0, sizeof *counts);
    if (http_get(st, url, urllen, origin, deadline_ms, &status, err, errlen) < 0)
        return -1;
    sr_http_redact(url, shown, sizeof shown);
    if (status < 200 || status >= 300) {
        char excerpt[HTTP_EXCERPT_MAX];
        http_clean(st->body ? st->body : "", st->len, excerpt, sizeof excerpt, 1);
        sr_map_errf(err, errlen, "GET %s: HTTP %ld%s%s", shown, status, excerpt[0] ? ": " : "",
                    excerpt);
        return -1;
    }
    if (status == 204)
        return 0;
    if (!(*doc = http_parse(st->body, st->len, why, sizeof why)) ||
        sr_http_map_doc(st->map, st->items, *doc, page, now_ms, sink, counts, why, sizeof why) <
            0) {
        sr_map_errf(err, errlen, "GET %s: %s", shown, why);
        return -1;
    }
    return 0;
}

/*
 * A poll reads the pages of the result one after the other, at most
 * max_pages, each with the same {since}. A page that fails ends the poll
 * with its error; the rows of the pages before it are kept (they are in
 * the sink), the cursor stays where it was (adapter.h), so the next poll
 * starts again from the first page and the rows' keys absorb the overlap.
 * More pages than max_pages is an error too, saying so: the rows read are
 * kept, and nothing is skipped silently.
 */
static int http_poll(void *state, sr_poll_info *info, sr_sink *sink, char *err, size_t errlen)
{
    http_state *st = state;
    char base[HTTP_URL_MAX], url[HTTP_URL_MAX], next[HTTP_URL_MAX], bad[48], origin[256];
    char why[1024];
    size_t offset = 0, page = 0;
    int ret = -1;

    info->more = 0;
    info->cursor_ms = 0;
    if (http_expand(st->url, info->since_ms, base, sizeof base, bad, sizeof bad) < 0) {
        sr_map_errf(err, errlen, "url: longer than %d bytes", HTTP_URL_MAX - 1);
        return -1;
    }
    http_origin(base, origin, sizeof origin);
    long timeout = info->timeout_ms > 0 && info->timeout_ms < 0x7fffffff ? (long)info->timeout_ms
                                                                         : HTTP_TIMEOUT_MS;
    int64_t deadline = http_clock_ms() + timeout;
    if (st->paging == HTTP_PAGING_SOCRATA || st->paging == HTTP_PAGING_ARCGIS) {
        if (http_page_url(st, base, 0, url, sizeof url) < 0) {
            sr_map_errf(err, errlen, "url: longer than %d bytes with the paging parameters",
                        HTTP_URL_MAX - 1);
            return -1;
        }
    } else {
        memcpy(url, base, sizeof url);
    }

    for (;;) {
        json_t *doc;
        sr_http_counts counts;
        int more = 0;
        page++;
        if (http_page(st, url, sizeof url, origin, deadline,
                      st->paging == HTTP_PAGING_NONE ? 0 : page, info->now_ms, sink, &doc, &counts,
                      why, sizeof why) < 0 ||
            (doc && (more = http_next_page(st, doc, base, url, counts.items, &offset, next,
                                           sizeof next, why, sizeof why)) < 0)) {
            json_decref(doc);
            if (page > 1)
                sr_map_errf(err, errlen,
                            "page %zu: %s (the %zu rows of the pages before it are kept)", page,
                            why, offset);
            else
                sr_map_errf(err, errlen, "%s", why);
            break;
        }
        json_decref(doc);
        if (!more) {
            ret = 0;
            break;
        }
        if (page >= st->max_pages) {
            sr_map_errf(err, errlen,
                        "stopped at max_pages = %zu with more to read: the %zu rows read are "
                        "kept; raise max_pages, or ask for less (a {since} in the url)",
                        st->max_pages, offset);
            break;
        }
        memcpy(url, next, sizeof url);
    }
    /* a large body is not kept between polls */
    if (st->cap > (1u << 20)) {
        free(st->body);
        st->body = NULL;
        st->cap = 0;
    }
    st->len = 0;
    return ret;
}

static void http_close(void *state)
{
    http_free(state);
}

#else /* no libcurl */

static int http_open(const sr_ad_options *opts, void **state, char *err, size_t errlen)
{
    (void)opts;
    (void)state;
    sr_map_errf(err, errlen, "%s", sr_http_missing);
    return -1;
}

static int http_poll(void *state, sr_poll_info *info, sr_sink *sink, char *err, size_t errlen)
{
    (void)state;
    (void)info;
    (void)sink;
    sr_map_errf(err, errlen, "this sitrep was built without libcurl");
    return -1;
}

static void http_close(void *state)
{
    (void)state;
}

#endif

const sr_adapter sr_adapter_http = {
    .abi_version = SR_ADAPTER_ABI,
    .type = "http",
    .description = sr_http_description,
    .options = sr_http_options,
    .open = http_open,
    .poll = http_poll,
    .close = http_close,
};
