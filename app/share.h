/*
 * share.h - who may read the cache: private to the collector's user, or
 * shared with the members of one Unix group ([sitrep] cache_group), so that
 * managers logged in as their own users can run viewers.
 */
#ifndef SR_SHARE_H
#define SR_SHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Prepares the directory and files of the cache at `cache` for a process
 * that writes it (the collector, an ingest), before it opens them. `group`
 * is the cache_group ("" or NULL: private).
 *
 * Creates missing directories (the cache's own 0700, or 2770 of the group;
 * ancestors 0700, or 0711 so that the group can pass through) and the cache
 * and CACHE.lock when missing (0600, or 0660 of the group; SQLite gives the
 * -wal and -shm it creates the cache's mode). Then fixes what this user owns
 * and has wrong: the cache, its -wal, -shm and lock to 0600 / 0660 and the
 * group, and with a group the cache's directory to 2770 and the group (a
 * private cache's directory is left as it is: it may be any directory).
 * Each fix is a line on stderr; a wrong file that another user owns is a
 * warning there, and not an error.
 *
 * Returns 0, or SR_ENOENT for a group that does not exist, or SR_EIO when a
 * directory or file cannot be created; err then says which.
 */
int sr_share_prepare(const char *cache, const char *group, char *err, size_t errlen);

/*
 * Opens path, a file in the cache's folder (the cache, its -wal, -shm or
 * lock), with open(2) flags and, when O_CREAT makes it, mode; the
 * descriptor (close-on-exec, blocking) into *fd_out. Refused with SR_EPERM,
 * err saying why, unless it is a regular file with one link, reached
 * without a symbolic link, and owned by the folder's owner or this user. A
 * file root makes in another user's folder is given to that user. Change
 * its mode or group only through the descriptor. Returns 0, SR_ENOENT (no
 * such file, or no folder), SR_EPERM (refused, as above) or SR_EIO (the
 * system said no, permission denied among them); err says which.
 */
int sr_share_open(const char *path, int flags, mode_t mode, int *fd_out, char *err, size_t errlen);

/*
 * Creates the directory of the cache at `cache` (and its ancestors) when it
 * is missing, with the modes sr_share_prepare() gives them, and nothing
 * else: every command calls it before it opens the cache or its lock, so
 * that a first run on a fresh account (no ~/.local/state) works whatever the
 * command. Returns 0, or as sr_share_prepare().
 */
int sr_share_dir(const char *cache, const char *group, char *err, size_t errlen);

/*
 * Why a process cannot open the cache or its lock at path, for its error
 * message, when it is a permission matter (errno EACCES or EPERM): written
 * to buf, such as "permission denied: the cache is shared only with the
 * members of group sitrep ([sitrep] cache_group)". Returns 0, or -1 (buf
 * untouched) when the path is accessible or the reason is another.
 */
int sr_share_explain(const char *path, const char *group, char *buf, size_t len);

/*
 * Why this process cannot write the cache at `cache`, for the error message
 * of what needs to (the collector, an ingest, a viewer's acknowledgement or
 * audit row): the first of the cache, its -wal and -shm (and, with lock,
 * CACHE.lock) that exists and may not be written, as "the cache file X is
 * not writable by user Y (group Z)"; else, when one of them is missing, the
 * folder where it cannot be made: "the cache folder X is not writable by
 * user Y (group Z)" (or "is on a read-only file system"). Returns 0 with
 * the words in buf, or -1 (buf untouched) when none of that is wrong.
 */
int sr_share_explain_write(const char *cache, bool lock, char *buf, size_t len);

#endif
