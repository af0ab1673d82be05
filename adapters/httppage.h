/*
 * httppage.h - the pages of an http source's result (paging =): which url
 * comes first, and after each page whether there is another and where.
 * Pure decisions on what a page said; the requests are http.c's. Only
 * adapters/ includes this header.
 */
#ifndef SR_HTTPPAGE_H
#define SR_HTTPPAGE_H

#include <jansson.h>
#include <stddef.h>

#include "adapter.h"

/* How a poll walks the pages of a result (paging =). */
typedef enum {
    SR_HTTPPAGE_NONE,    /* one GET */
    SR_HTTPPAGE_SOCRATA, /* $limit and $offset; a short page is the last */
    SR_HTTPPAGE_ARCGIS,  /* resultRecordCount and resultOffset while exceededTransferLimit */
    SR_HTTPPAGE_LINK,    /* a next link: in the body at next =, else the Link header */
} sr_httppage_mode;

/* The paging options of a source (caller's storage: sr_httppage_init/fini). */
typedef struct {
    sr_httppage_mode mode;
    size_t page_size; /* socrata, arcgis: rows asked for per page */
    size_t max_pages; /* a poll reads at most this many pages (1 without paging) */
    char *next;       /* link: the path of the next link in the body; NULL = the Link header */
} sr_httppage;

/*
 * Reads paging, page_size, max_pages and next from opts, checked against
 * each other and against the url (which must leave the paging parameters
 * to them). Returns 0, or negative with a message naming the option (then
 * *p needs sr_httppage_fini all the same).
 */
int sr_httppage_init(sr_httppage *p, const sr_ad_options *opts, char *err, size_t errlen);
void sr_httppage_fini(sr_httppage *p);

/*
 * The url of the first page of a poll: base (the url with {since} written
 * out) and, for socrata and arcgis, the paging parameters of offset 0.
 * Returns 0, or negative with a message when it does not fit len.
 */
int sr_httppage_first(const sr_httppage *p, const char *base, char *out, size_t len, char *err,
                      size_t errlen);

/*
 * After a page that gave items elements, whether there is another: 0 when
 * this was the last page; 1 with the next page's url in next (socrata,
 * arcgis: base with the paging parameters of the next offset); 2 with
 * *target the next link as the page gave it (borrowed from doc or link),
 * which the caller resolves against the url that answered and checks
 * (sr_httpurl_resolve); negative with a message. doc is the page's body
 * (borrowed), link the Link header's rel="next" target ("" or NULL when
 * none), base as for sr_httppage_first; *offset counts the rows read so
 * far.
 */
int sr_httppage_next(const sr_httppage *p, const json_t *doc, const char *link, const char *base,
                     size_t items, size_t *offset, char *next, size_t len, const char **target,
                     char *err, size_t errlen);

#endif
