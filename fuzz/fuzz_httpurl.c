/*
 * fuzz_httpurl.c - libFuzzer target for the http adapter's url rules
 * (adapters/httpurl.c): what a server sends (a Link header, a Location or
 * a next link) and what the config says (the url).
 *
 * Input: the first byte chooses (bit 0: the source is https; bits 1-2: the
 * size of the output buffers, down to a few bytes, to reach every cut);
 * the rest is A, a newline, and B. The rest as a whole is a Link header
 * value; A is the url of the config, the base of a resolve and the url to
 * redact; B is the target to resolve against A. Checked on every input:
 *   - a Link header's next target is NUL-terminated, fits its buffer, holds
 *     no '>' and is found in the header between < and >;
 *   - a redacted url fits its buffer, has no fragment and no user
 *     information, and nothing after a '?' but the start of its "…" mark;
 *   - a name's secrecy does not depend on its case;
 *   - {since} written out leaves no brace; an unknown placeholder is named;
 *   - a url the config check accepts is http or https as *https says, has
 *     no query parameter that sr_httpurl_secret_name calls a secret, and
 *     redacts to text that starts with its scheme; every refusal starts
 *     with "url: " (the option it names) or says memory ran out;
 *   - a resolved target is http or https (https only from an https
 *     source), fits, carries no user information, and has an origin;
 *   - an origin is lower case and ends in ":PORT".
 * The rules that parse urls with libcurl are checked when it is built in
 * (SR_HAVE_CURL), as the adapter is.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../adapters/httpurl.h"
#include "fuzz.h"

#ifdef SR_HAVE_CURL
#include <curl/curl.h>
#endif

#define TEXT_MAX 4096

/* 1 when name (n bytes) is a secret as sr_httpurl_secret_name says, with
 * its ASCII letters upper-cased first. */
static int secret_upper(const char *name, size_t n)
{
    char up[TEXT_MAX];
    for (size_t i = 0; i < n; i++)
        up[i] = name[i] >= 'a' && name[i] <= 'z' ? (char)(name[i] - 'a' + 'A') : name[i];
    return sr_httpurl_secret_name(up, n);
}

static void check_link(const char *v, size_t n, size_t len)
{
    char out[TEXT_MAX];
    memset(out, 'x', sizeof out);
    if (sr_httpurl_link_next(v, n, out, len) < 0)
        return;
    size_t k = strnlen(out, len);
    CHECK(k < len);
    CHECK(!strchr(out, '>'));
    /* out is a target that came from between < and > (unless it holds a
     * NUL, which ends it early) */
    char want[TEXT_MAX + 2];
    want[0] = '<';
    memcpy(want + 1, out, k);
    CHECK(memmem(v, n, want, k + 1));
}

static void check_redact(const char *url, size_t len)
{
    char out[TEXT_MAX];
    sr_httpurl_redact(url, out, len);
    size_t k = strlen(out);
    CHECK(k < len);
    CHECK(!strchr(out, '#'));
    const char *q = strchr(out, '?');
    if (q)
        CHECK(strncmp(q + 1, "\xe2\x80\xa6", strlen(q + 1)) == 0);
    /* no user information: no '@' in the authority (after the input's
     * "scheme://", which a cut may have left out) */
    const char *sep = strstr(url, "://");
    size_t skip = sep && (size_t)(sep - url) < strcspn(url, "/?#") ? (size_t)(sep - url) + 3 : 0;
    if (k >= skip)
        CHECK(!memchr(out + skip, '@', strcspn(out + skip, "/?#")));
}

static void check_expand(const char *tmpl, size_t len)
{
    char out[TEXT_MAX], bad[48] = "";
    int rc = sr_httpurl_expand(tmpl, 1709740800123, out, len, bad, sizeof bad);
    CHECK(rc == 0 || rc == -1 || rc == -2);
    if (rc == 0) {
        CHECK(strlen(out) < len);
        CHECK(!strpbrk(out, "{}"));
    } else if (rc == -2) {
        CHECK(bad[0] == '{' || bad[0] == '}');
    }
}

#ifdef SR_HAVE_CURL

static void check_config_url(const char *url)
{
    char err[512] = "", name[64], exp[SR_HTTPURL_MAX], bad[48];
    int https = -1;
    if (sr_httpurl_check(url, &https, err, sizeof err) < 0) {
        CHECK(strncmp(err, "url: ", 5) == 0 || strcmp(err, "out of memory") == 0);
        return;
    }
    CHECK(sr_httpurl_expand(url, 1709740800123, exp, sizeof exp, bad, sizeof bad) == 0);
    CHECK(https == 1 ? sr_httpurl_ieq(exp, "https://", 8)
                     : https == 0 && sr_httpurl_ieq(exp, "http://", 7));
    CHECK(!sr_httpurl_query_find(exp, sr_httpurl_secret_name, name, sizeof name));
    char shown[SR_HTTPURL_MAX];
    sr_httpurl_redact(exp, shown, sizeof shown);
    CHECK(sr_httpurl_ieq(shown, https ? "https://" : "http://", https ? 8 : 7));
}

static void check_origin(const char *url)
{
    char o[256];
    sr_httpurl_origin(url, o, sizeof o);
    if (!o[0])
        return;
    CHECK(strstr(o, "://"));
    for (const char *p = o; *p; p++)
        CHECK(!(*p >= 'A' && *p <= 'Z'));
    const char *c = strrchr(o, ':');
    CHECK(c && c[1] && strspn(c + 1, "0123456789") == strlen(c + 1));
}

static void check_resolve(int https, const char *base, const char *target, size_t len)
{
    char out[TEXT_MAX], err[512] = "";
    if (sr_httpurl_resolve(https, base, target, "redirect", out, len, err, sizeof err) < 0) {
        CHECK(err[0]);
        return;
    }
    CHECK(strlen(out) < len);
    CHECK(strncmp(out, "https://", 8) == 0 || (!https && strncmp(out, "http://", 7) == 0));
    CURLU *u = curl_url();
    CHECK(u);
    char *user = NULL;
    CHECK(curl_url_set(u, CURLUPART_URL, out, 0) == CURLUE_OK);
    CHECK(curl_url_get(u, CURLUPART_USER, &user, 0) != CURLUE_OK || !user);
    curl_free(user);
    curl_url_cleanup(u);
    char o[256];
    sr_httpurl_origin(out, o, sizeof o);
    CHECK(o[0] || strlen(out) > 200);
}

#else /* without libcurl only the plain-text rules exist */

static void check_config_url(const char *url)
{
    (void)url;
}

static void check_origin(const char *url)
{
    (void)url;
}

static void check_resolve(int https, const char *base, const char *target, size_t len)
{
    (void)https;
    (void)base;
    (void)target;
    (void)len;
}

#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t lens[] = {TEXT_MAX, 300, 24, 2};
    if (size < 1 || size > TEXT_MAX)
        return 0;
    int https = data[0] & 1;
    size_t len = lens[(data[0] >> 1) & 3];
    const char *rest = (const char *)data + 1;
    size_t n = size - 1;

    check_link(rest, n, len);

    char a[TEXT_MAX + 1], b[TEXT_MAX + 1];
    const char *nl = memchr(rest, '\n', n);
    size_t an = nl ? (size_t)(nl - rest) : n;
    memcpy(a, rest, an);
    a[an] = '\0';
    size_t bn = nl ? n - an - 1 : 0;
    memcpy(b, nl ? nl + 1 : "", bn);
    b[bn] = '\0';

    size_t al = strlen(a);
    CHECK(sr_httpurl_secret_name(a, al) == secret_upper(a, al));
    char name[64];
    const char *found = sr_httpurl_query_find(a, sr_httpurl_secret_name, name, sizeof name);
    CHECK(!found || (found == name && strlen(name) < sizeof name));

    check_redact(a, len);
    check_expand(a, len);
    check_config_url(a);
    check_origin(a);
    check_resolve(https, a, b, len);
    return 0;
}
