/*
 * http.c - the http adapter (type "http"): GET a JSON document and hand it
 * to jsondoc.c, which picks the array at items and maps each element
 * through the shared row mapping (map.h). The url rules (secrets,
 * redaction, where a redirect or a next link may lead) are httpurl.c's,
 * the walk over pages (paging =) httppage.c's; this file makes the
 * requests.
 *
 * A poll is one GET with libcurl (or one per page) on an easy handle kept
 * in the state (so a connection is reused between polls), bounded by the
 * poll's timeout (HTTP_TIMEOUT_MS without one; connecting at most
 * HTTP_CONNECT_MS of it; all pages and redirects share it), limited to
 * http and https, certificates verified unless tls_verify = no. libcurl is
 * started once (pthread_once) from open(), on the loop thread; signals are
 * off (polls run on worker threads). The body is collected up to max_size
 * bytes (more is an error, not a truncation), then handed to
 * sr_jsondoc_map. A status outside 2xx is an error quoting a short,
 * cleaned piece of the body.
 *
 * Credentials go to the configured host only. The token and the header =
 * lines are sent only on a request to the url's own origin (scheme, host
 * and port); libcurl does not follow redirects (it would repeat every
 * CURLOPT_HTTPHEADER line to wherever a Location points, and
 * CURLOPT_UNRESTRICTED_AUTH covers only Authorization): http_get follows
 * up to HTTP_REDIRECTS itself, and a redirect or a next link to another
 * origin is followed without them (an https source never to plain http:
 * sr_httpurl_resolve). No cookie engine is on, so no cookie is kept or
 * sent. A header = line whose name says it is a secret is refused at open
 * (sr_httpurl_secret_name, the rule for query parameters too), and a url
 * is shown (errors, hence the sources view and the log) only through
 * sr_httpurl_redact, without its query.
 *
 * The bearer token is never in the config: token_env or token_file name
 * where it is, and it is read again at each request (a rotated file is
 * picked up), kept only while the request is made, and wiped after.
 *
 * The url may hold {since} (the cursor, the start of the last successful
 * poll, as ISO-8601 UTC to the second, 1970-01-01T00:00:00Z before the
 * first) or {since_ms} (the same in epoch milliseconds). Rows carry keys,
 * so the overlap this gives is harmless. Every page of a poll has the same
 * {since}. A poll reads at most max_pages pages: more is an error that
 * keeps the rows read, as is a page that fails; the cursor then stays, and
 * the next poll starts again from the first page.
 *
 * Built without libcurl (pkg-config finds none, SR_HAVE_CURL unset), the
 * type still exists with its options, and open() says how to get it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "modules.h"

#ifdef SR_HAVE_CURL
#include <curl/curl.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "httppage.h"
#include "httpurl.h"
#include "jsondoc.h"

#define HTTP_URL_MAX SR_HTTPURL_MAX
#define HTTP_EXCERPT_MAX 160  /* bytes of a body quoted in an error */
#define HTTP_CONNECT_MS 10000 /* at most this much of a poll's timeout to connect */
#define HTTP_TIMEOUT_MS 60000 /* when a poll comes without a budget */
#define HTTP_REDIRECTS 5
#define HTTP_MAX_SIZE_DEFAULT (16u << 20)
#define HTTP_MAX_SIZE_LIMIT (1u << 30)
#define HTTP_TOKEN_MAX 8192

typedef struct {
    sr_map *map;
    CURL *curl;
    char *url; /* with its {since} placeholders */
    char *items;
    sr_httppage paging;
    int https; /* the url is https: never follow a redirect or link to plain http */
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
        if (sr_httpurl_secret_name(s, nlen)) {
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

/* libcurl's header callback: keeps the Link header's next target of the
 * response being read (a new status line forgets an earlier one). */
static size_t http_header(char *data, size_t size, size_t nmemb, void *ctx)
{
    http_state *st = ctx;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0)
        st->link[0] = '\0';
    else if (n > 5 && sr_httpurl_ieq(data, "link:", 5) && !st->link[0]) {
        size_t e = n;
        while (e > 5 && (data[e - 1] == '\r' || data[e - 1] == '\n'))
            e--;
        if (sr_httpurl_link_next(data + 5, e - 5, st->link, sizeof st->link) < 0)
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
    sr_httppage_fini(&st->paging);
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
    if (sr_httpurl_check(v, &https, err, errlen) < 0)
        return -1;
    if (!(st->url = http_strdup(v)))
        goto oom;
    st->https = https;
    v = sr_ad_opt(opts, "items");
    if (sr_jsondoc_path_check("items", v, err, errlen) < 0)
        return -1;
    if (!(st->items = http_strdup(v ? v : "")))
        goto oom;
    if (sr_httppage_init(&st->paging, opts, err, errlen) < 0)
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
        accept |= sr_httpurl_ieq(st->headers[i], "accept:", 7);
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
    sr_httpurl_redact(url, shown, sizeof shown);
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
    sr_map_oneline(st->errbuf[0] ? st->errbuf : curl_easy_strerror(rc), CURL_ERROR_SIZE, msg,
                   sizeof msg, 0);
    sr_map_errf(err, errlen, "GET %s: %s", shown, msg);
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
            sr_httpurl_redact(url, shown, sizeof shown);
            sr_map_errf(err, errlen, "GET %s: the poll's time ran out", shown);
            return -1;
        }
        sr_httpurl_origin(url, here, sizeof here);
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
        sr_httpurl_redact(url, shown, sizeof shown);
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
        if (sr_httpurl_resolve(st->https, url, location, "redirect", to, sizeof to, why,
                               sizeof why) < 0) {
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

/*
 * One page: GET url (updated to the url that answered), then its rows into
 * sink. *doc is the parsed body (the caller decrefs it; NULL for 204 No
 * Content). Returns 0, or negative with a message.
 */
static int http_page(http_state *st, char *url, size_t urllen, const char *origin,
                     int64_t deadline_ms, size_t page, int64_t now_ms, sr_sink *sink, json_t **doc,
                     sr_jsondoc_counts *counts, char *err, size_t errlen)
{
    long status = 0;
    char shown[HTTP_URL_MAX], why[512];
    *doc = NULL;
    memset(counts, 0, sizeof *counts);
    if (http_get(st, url, urllen, origin, deadline_ms, &status, err, errlen) < 0)
        return -1;
    sr_httpurl_redact(url, shown, sizeof shown);
    if (status < 200 || status >= 300) {
        char excerpt[HTTP_EXCERPT_MAX];
        sr_map_oneline(st->body ? st->body : "", st->len, excerpt, sizeof excerpt, 1);
        sr_map_errf(err, errlen, "GET %s: HTTP %ld%s%s", shown, status, excerpt[0] ? ": " : "",
                    excerpt);
        return -1;
    }
    if (status == 204)
        return 0;
    if (!(*doc = sr_jsondoc_parse(st->body, st->len, why, sizeof why)) ||
        sr_jsondoc_map(st->map, st->items, *doc, page, now_ms, sink, counts, why, sizeof why) < 0) {
        sr_map_errf(err, errlen, "GET %s: %s", shown, why);
        return -1;
    }
    return 0;
}

/*
 * After a page that gave items elements: 1 and the next page's url in
 * next, 0 after the last page, negative with a message. A next link is
 * resolved against cur, the url that answered, and checked as a redirect
 * is.
 */
static int http_next(http_state *st, const json_t *doc, const char *base, const char *cur,
                     size_t items, size_t *offset, char *next, size_t len, char *err, size_t errlen)
{
    const char *target;
    int more = sr_httppage_next(&st->paging, doc, st->link, base, items, offset, next, len, &target,
                                err, errlen);
    if (more == 2)
        more = sr_httpurl_resolve(st->https, cur, target, "next link", next, len, err, errlen) < 0
                   ? -1
                   : 1;
    return more;
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
    if (sr_httpurl_expand(st->url, info->since_ms, base, sizeof base, bad, sizeof bad) < 0) {
        sr_map_errf(err, errlen, "url: longer than %d bytes", HTTP_URL_MAX - 1);
        return -1;
    }
    sr_httpurl_origin(base, origin, sizeof origin);
    long timeout = info->timeout_ms > 0 && info->timeout_ms < 0x7fffffff ? (long)info->timeout_ms
                                                                         : HTTP_TIMEOUT_MS;
    int64_t deadline = http_clock_ms() + timeout;
    if (sr_httppage_first(&st->paging, base, url, sizeof url, err, errlen) < 0)
        return -1;

    for (;;) {
        json_t *doc;
        sr_jsondoc_counts counts;
        int more = 0;
        page++;
        if (http_page(st, url, sizeof url, origin, deadline,
                      st->paging.mode == SR_HTTPPAGE_NONE ? 0 : page, info->now_ms, sink, &doc,
                      &counts, why, sizeof why) < 0 ||
            (doc && (more = http_next(st, doc, base, url, counts.items, &offset, next, sizeof next,
                                      why, sizeof why)) < 0)) {
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
        if (page >= st->paging.max_pages) {
            sr_map_errf(err, errlen,
                        "stopped at max_pages = %zu with more to read: the %zu rows read are "
                        "kept; raise max_pages, or ask for less (a {since} in the url)",
                        st->paging.max_pages, offset);
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
