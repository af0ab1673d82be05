/*
 * trust.h - the trust boundary of an installed sitrep: the binary is
 * setgid to the group that owns the cache, and its users are not members.
 *
 * sitrep runs "elevated", with its group's rights, when its effective ids
 * differ from its real ones (a setgid binary started by a user who is not
 * that group). Everything that follows from that rule is decided here, and
 * only here: which settings the environment may not make, that the process
 * writes nothing into the cache's folder, and that the files a user names
 * are opened as that user.
 */
#ifndef SR_TRUST_H
#define SR_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/*
 * Decides whether this process is elevated, once, before anything reads
 * the configuration or the environment. When it is: refuses (SR_EINVAL,
 * err naming the variable) an environment that would choose sitrep's
 * settings for it (SITREP_TEST_USER, SITREP_TEST_GROUPS, XDG_CONFIG_HOME,
 * XDG_STATE_HOME, SQLITE_TMPDIR), drops TMPDIR, and has every cache
 * connection keep its temporary tables in memory. Returns 0 otherwise.
 */
int sr_trust_init(char *err, size_t errlen);

/* Whether this process runs with its group's rights (sr_trust_init()). */
bool sr_trust_elevated(void);

/* The name of the group whose rights an elevated process has ("sitrep"),
 * for messages; its number when it has no name. Borrowed; static. */
const char *sr_trust_group(void);

/*
 * Whether an elevated process may open the cache at `cache`: the cache, its
 * -wal and its -shm must exist, be regular files, and not belong to the
 * real user (they are the collector's; an elevated process never creates
 * one, since a file it created would be the user's). 0 when so or when not
 * elevated; else SR_ENOENT ("the collector has not run yet") or SR_EINVAL,
 * with err saying which file and why.
 */
int sr_trust_cache_ready(const char *cache, char *err, size_t errlen);

/*
 * Runs as the real user: the effective ids become the real ones until
 * sr_trust_as_group() gives the group's back (the saved set-group-ID lets
 * it). No-ops when not elevated. Every file a user names is opened between
 * the two, on the loop thread, while no other thread opens a file.
 * Returns 0, or SR_EIO (the ids are then unchanged).
 */
int sr_trust_as_user(void);
void sr_trust_as_group(void);

/*
 * open(2) of a file a user names (a report, a log): as the real user,
 * never through a symlink (O_NOFOLLOW), close-on-exec, and only a regular
 * file (else -1 with errno EINVAL). `mode` for a file it creates. Returns
 * the descriptor, or -1 with errno.
 */
int sr_trust_open(const char *path, int flags, mode_t mode);

/* sr_trust_open() as a stdio stream with fdopen mode `fmode`; NULL with
 * errno on failure. Caller owns; fclose(). */
FILE *sr_trust_fopen(const char *path, int flags, mode_t mode, const char *fmode);

#endif
