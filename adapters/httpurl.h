/*
 * httpurl.h - the http adapter's rules for urls: which query parameters
 * and header names carry a secret, how a url is shown (redacted), the
 * {since} placeholders, and where a redirect or a next link may lead
 * (resolved against the page's url, the Link header's rel="next").
 *
 * The functions that parse urls with libcurl's URL API exist only in a
 * build with libcurl (SR_HAVE_CURL). Only adapters/ includes this header;
 * the fuzz target and the tests drive it without a server.
 */
#ifndef SR_HTTPURL_H
#define SR_HTTPURL_H

#include <stddef.h>
#include <stdint.h>

#define SR_HTTPURL_MAX 4096 /* bytes of a url, its NUL included */

/* 1 when the n bytes at a and b are equal ignoring ASCII case (whatever the
 * locale) and neither holds a NUL among them. */
int sr_httpurl_ieq(const char *a, const char *b, size_t n);

/*
 * 1 when a header or query parameter named name (n bytes) looks like it
 * carries a credential: the name holds token, secret, passw, apikey,
 * signature, credential, authoriz, cookie or session, or one of its words
 * (split at - _ . and blanks) is key, sig, pwd, pass or auth. Case is
 * ignored. The one rule for both, documented in sitrep.conf(5).
 */
int sr_httpurl_secret_name(const char *name, size_t n);

/*
 * The first query parameter of url (up to a fragment) whose name,
 * %-decoded into name (cut to len - 1), pred accepts: name, or NULL when
 * none does.
 */
const char *sr_httpurl_query_find(const char *url, int (*pred)(const char *name, size_t n),
                                  char *name, size_t len);

/*
 * url as it may be shown (an error, the sources view, the log): the
 * scheme, host, port and path, without user information, and with the
 * query and fragment replaced by "?…" (they may carry a signature or a
 * token that a server put in a redirect or a next link). Cut to len - 1
 * bytes. The one place where a url is made fit to show.
 */
void sr_httpurl_redact(const char *url, char *out, size_t len);

/*
 * tmpl with {since} (since_ms as ISO-8601 UTC to the second; the epoch
 * when since_ms <= 0) and {since_ms} written out, into out. Returns 0, -1
 * when it does not fit len, -2 at an unknown placeholder or a lone brace
 * (quoted in bad, cut to badlen - 1).
 */
int sr_httpurl_expand(const char *tmpl, int64_t since_ms, char *out, size_t len, char *bad,
                      size_t badlen);

/*
 * The target of rel="next" in a Link header value of n bytes (RFC 8288:
 * <uri>; param=value, ...; rel may list several relations), copied into
 * out (cut never: a target of len bytes or more is not found). Returns 0
 * when found, -1 otherwise.
 */
int sr_httpurl_link_next(const char *v, size_t n, char *out, size_t len);

#ifdef SR_HAVE_CURL

/*
 * Checks the url template of the config as the adapter will send it:
 * placeholders known, http or https, no blanks or control characters, no
 * credentials (user information, or a query parameter that
 * sr_httpurl_secret_name calls a secret), parsed by libcurl. Sets *https.
 * Returns 0, or negative with a message that starts with "url: " and
 * quotes the url only as sr_httpurl_redact shows it.
 */
int sr_httpurl_check(const char *tmpl, int *https, char *err, size_t errlen);

/*
 * "scheme://host:port" of url, lower case, the port given even when it is
 * the scheme's default, into out; "" when url cannot be parsed (then it is
 * nobody's origin, and a request there carries no credentials).
 */
void sr_httpurl_origin(const char *url, char *out, size_t len);

/*
 * target (a Location, or a next link) resolved against base into out,
 * checked: http or https, never to plain http when the source is https
 * (https set), no user information. Returns 0, or negative with a message
 * in err saying what (what: "redirect", "next link") was refused.
 */
int sr_httpurl_resolve(int https, const char *base, const char *target, const char *what, char *out,
                       size_t len, char *err, size_t errlen);

#endif

#endif
