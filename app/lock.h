/*
 * lock.h - who collects: an advisory lock on a file beside the cache
 * (CACHE.lock). The process that holds it is the collector; every other
 * process on the same cache is a viewer.
 */
#ifndef SR_LOCK_H
#define SR_LOCK_H

#include <stddef.h>

typedef struct sr_lock sr_lock;

/*
 * Opens (creating if needed) the lock file for the cache at cache_path,
 * without taking the lock, through sr_share_open(): a symbolic link, a
 * FIFO or another user's file there is refused (SR_EPERM) and left
 * untouched. Caller owns *out; free with sr_lock_destroy(), which also
 * releases the lock. On failure err (errlen bytes) says why.
 */
int sr_lock_create(const char *cache_path, sr_lock **out, char *err, size_t errlen);

/*
 * Tries to take the lock without waiting. 0: this process holds it now (or
 * already did) and its pid is in the file. SR_EBUSY: another process holds
 * it; *holder_pid is its pid, or 0 when unknown. The kernel releases the
 * lock when the holder dies, however it dies.
 */
int sr_lock_try(sr_lock *l, long *holder_pid);

/* Gives the lock up (a no-op when not held): another process may take it. */
void sr_lock_release(sr_lock *l);

/* True when this process holds the lock. */
int sr_lock_held(const sr_lock *l);

/* The lock file's path (borrowed; valid until sr_lock_destroy()). */
const char *sr_lock_path(const sr_lock *l);

void sr_lock_destroy(sr_lock *l);

#endif
