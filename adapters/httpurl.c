/*
 * httpurl.c - the http adapter's rules for urls (see httpurl.h).
 *
 * Credentials go to the configured host only, and never in the config: a
 * url with user information or with a query parameter whose name says it
 * is a secret (sr_httpurl_secret_name, the same rule as for header = lines)
 * is refused at open. Whatever a server sends back (a Location, a next
 * link in the body or the Link header) goes through sr_httpurl_resolve
 * before it is requested: http or https only, an https source never to
 * plain http, no user information. Which origin a request goes to
 * (sr_httpurl_origin) decides, in http.c, whether it carries the token and
 * the headers. Any url in a message goes through sr_httpurl_redact, which
 * drops the query and user information.
 *
 * The url parsing that must agree with what libcurl will request uses
 * libcurl's URL API (CURLU), so those functions need libcurl; the others
 * are plain text and build without it.
 */
#include "httpurl.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "map.h"

#ifdef SR_HAVE_CURL
#include <curl/curl.h>
#endif

/* Appends n bytes of s at out + o (NUL-terminated, cut to len - 1);
 * returns the new length. */
static size_t append_text(char *out, size_t o, size_t len, const char *s, size_t n)
{
    if (o + 1 >= len)
        return o;
    if (n > len - 1 - o)
        n = len - 1 - o;
    memcpy(out + o, s, n);
    out[o + n] = '\0';
    return o + n;
}

void sr_httpurl_redact(const char *url, char *out, size_t len)
{
    const char *p = url ? url : "";
    const char *sep = strstr(p, "://"), *auth = p;
    size_t o = 0;
    if (len == 0)
        return;
    out[0] = '\0';
    if (sep && (size_t)(sep - p) < strcspn(p, "/?#")) {
        auth = sep + 3;
        o = append_text(out, o, len, p, (size_t)(auth - p));
    }
    /* the authority without user information, then the path */
    size_t an = strcspn(auth, "/?#");
    const char *host = auth;
    for (size_t i = 0; i < an; i++) {
        if (auth[i] == '@')
            host = auth + i + 1;
    }
    o = append_text(out, o, len, host, (size_t)(auth + an - host));
    const char *path = auth + an;
    size_t pn = strcspn(path, "?#");
    o = append_text(out, o, len, path, pn);
    if (path[pn])
        append_text(out, o, len, "?\xe2\x80\xa6", 4);
}

int sr_httpurl_ieq(const char *a, const char *b, size_t n)
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
static int icontains(const char *text, size_t n, const char *word)
{
    size_t w = strlen(word);
    for (size_t i = 0; i + w <= n; i++) {
        if (sr_httpurl_ieq(text + i, word, w))
            return 1;
    }
    return 0;
}

int sr_httpurl_secret_name(const char *name, size_t n)
{
    static const char *const parts[] = {"token",      "secret",   "passw",  "apikey", "signature",
                                        "credential", "authoriz", "cookie", "session"};
    static const char *const words[] = {"key", "sig", "pwd", "pass", "auth"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (icontains(name, n, parts[i]))
            return 1;
    }
    for (size_t s = 0; s < n;) {
        size_t e = s;
        while (e < n && !strchr("-_. ", name[e]))
            e++;
        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
            if (e - s == strlen(words[i]) && sr_httpurl_ieq(name + s, words[i], e - s))
                return 1;
        }
        s = e + 1;
    }
    return 0;
}

/* The hex digit c as a number, or -1. */
static int hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

const char *sr_httpurl_query_find(const char *url, int (*pred)(const char *name, size_t n),
                                  char *name, size_t len)
{
    const char *q = strchr(url, '?');
    if (!q)
        return NULL;
    for (const char *p = q + 1; *p && *p != '#';) {
        size_t n = strcspn(p, "&;#"), o = 0;
        for (size_t i = 0; i < n && p[i] != '=' && o + 1 < len; i++) {
            int hi, lo;
            if (p[i] == '%' && i + 2 < n && (hi = hex(p[i + 1])) >= 0 &&
                (lo = hex(p[i + 2])) >= 0) {
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

int sr_httpurl_expand(const char *tmpl, int64_t since_ms, char *out, size_t len, char *bad,
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

int sr_httpurl_link_next(const char *v, size_t n, char *out, size_t len)
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
            if (nn == 3 && sr_httpurl_ieq(v + ns, "rel", 3)) {
                for (size_t k = 0; k < vn;) {
                    size_t w = k;
                    while (w < vn && val[w] != ' ')
                        w++;
                    next |= w - k == 4 && sr_httpurl_ieq(val + k, "next", 4);
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

#ifdef SR_HAVE_CURL

int sr_httpurl_check(const char *tmpl, int *https, char *err, size_t errlen)
{
    char url[SR_HTTPURL_MAX], bad[48], shown[160], name[64];
    int rc = sr_httpurl_expand(tmpl, 1709683200000, url, sizeof url, bad, sizeof bad);
    if (rc == -2) {
        sr_map_errf(err, errlen, "url: unknown placeholder %s (known: {since}, {since_ms})", bad);
        return -1;
    }
    if (rc < 0) {
        sr_map_errf(err, errlen, "url: longer than %d bytes", SR_HTTPURL_MAX - 1);
        return -1;
    }
    sr_httpurl_redact(url, shown, sizeof shown);
    if (sr_httpurl_ieq(url, "https://", 8)) {
        *https = 1;
    } else if (sr_httpurl_ieq(url, "http://", 7)) {
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
    if (sr_httpurl_query_find(url, sr_httpurl_secret_name, name, sizeof name)) {
        char clean[64];
        sr_map_oneline(name, strlen(name), clean, sizeof clean, 0);
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

void sr_httpurl_origin(const char *url, char *out, size_t len)
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

int sr_httpurl_resolve(int https, const char *base, const char *target, const char *what, char *out,
                       size_t len, char *err, size_t errlen)
{
    CURLU *u = curl_url();
    char *full = NULL, *scheme = NULL, *user = NULL, shown[SR_HTTPURL_MAX];
    int rc = -1;
    sr_httpurl_redact(target, shown, sizeof shown);
    if (!u) {
        sr_map_errf(err, errlen, "out of memory");
        return -1;
    }
    if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_URL, target, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        sr_map_errf(err, errlen, "a %s to '%s' that is not a url", what, shown);
    } else if (strcmp(scheme, "https") != 0 && (strcmp(scheme, "http") != 0 || https)) {
        sr_map_errf(err, errlen, "a %s to %s is refused (%s)", what, shown,
                    https ? "an https source goes to https only" : "http or https only");
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

#endif
