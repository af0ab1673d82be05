/*
 * xalloc.c - the application's allocation wrappers. A failed allocation in
 * app/ or tui/ is not recoverable in any useful way: restore the terminal so
 * the user is not left with a broken screen, say what happened, abort.
 * Also the dashboard's malloc settings (sr_xalloc_tune).
 */
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__ /* defined by the headers above */
#include <malloc.h>
#endif

#include "../metrics/safetext.h"

static void (*fatal_hook)(void);

void sr_set_fatal_hook(void (*hook)(void))
{
    fatal_hook = hook;
}

_Noreturn void sr_fatal(const char *msg)
{
    if (fatal_hook)
        fatal_hook();
    fprintf(stderr, "sitrep: %s\n", msg);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        sr_fatal("out of memory");
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        sr_fatal("out of memory");
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        sr_fatal("out of memory");
    return q;
}

char *xstrdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p)
        sr_fatal("out of memory");
    return p;
}

void sr_xalloc_tune(void)
{
#ifdef __GLIBC__
    /* the pool's threads share one arena besides the main one, instead of
     * one each (up to 8 per core), each keeping its own high-water mark */
    mallopt(M_ARENA_MAX, 2);
    /* a fixed threshold: large temporary buffers (a window's values for an
     * exact percentile) always get their own mapping and go back on free,
     * instead of glibc raising the threshold after the first one and
     * carving the next ones out of the heap, where they fragment it */
    mallopt(M_MMAP_THRESHOLD, 64 * 1024);
#endif
}

char *xclean(const char *s)
{
    size_t n = strlen(s ? s : "") + 1; /* never longer once clean */
    return sr_text_clean(s, xmalloc(n), n);
}
