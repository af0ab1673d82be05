/*
 * xalloc.h - allocation for application code: on failure the terminal is
 * restored (when the screen owns it) and the process aborts with a message.
 * Library-like code (metrics/, adapters/) returns SR_ENOMEM instead.
 */
#ifndef SR_XALLOC_H
#define SR_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* A copy of text from data (NULL: "") for plain output, sanitised by
 * sr_text_clean() (metrics/safetext.h); the caller frees it. */
char *xclean(const char *s);

/* The dashboard's malloc settings (glibc; elsewhere a no-op): process-wide,
 * called once at start, before any thread. */
void sr_xalloc_tune(void);

/* Called before aborting (the screen sets it to restore the terminal). */
void sr_set_fatal_hook(void (*hook)(void));

/* Restores the terminal, prints "sitrep: msg" on stderr and aborts. */
_Noreturn void sr_fatal(const char *msg);

#endif
