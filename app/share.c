/*
 * share.c - the modes and group of the cache's directory and files.
 *
 * What SQLite in WAL mode needs from a reader under another uid: read on
 * the cache and the -wal, and read and write on the -shm (the wal-index is
 * shared memory that readers update too: their read marks); and when the
 * -shm or -wal is missing (no other connection has it open), write on the
 * directory to create it. So with a group every file is 0660 and the
 * directory 2770: the setgid bit gives every file created in it, by any
 * member, the directory's group. SQLite creates the -wal and -shm with the
 * cache file's permission bits (and, run as root, its owner), which is why
 * the cache is created here, before SQLite opens it, with the right mode
 * rather than from the umask.
 *
 * Nothing here is secret from the group by design: a member could read the
 * cache with sqlite3, or write to it. That members run sitrep and nothing
 * else is the SSH side's business (ForceCommand, see the README).
 */
#include "share.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../metrics/common.h"
#include "xalloc.h"

/* What one sharing mode wants. */
typedef struct {
    bool shared;
    gid_t gid;
    mode_t file_mode; /* the cache, -wal, -shm, lock */
    mode_t dir_mode;  /* the cache's own directory */
    mode_t up_mode;   /* ancestors created on the way */
} share_want;

/* Brings one existing path to mode (and gid, when shared) if this user owns
 * it; says what it did or, for another owner's, what is wrong. */
static void fix_one(const char *path, const share_want *w, mode_t mode, bool is_dir)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return;
    mode_t have = sb.st_mode & 07777;
    bool mode_ok = have == mode;
    bool group_ok = !w->shared || sb.st_gid == w->gid;
    if (mode_ok && group_ok)
        return;
    if (sb.st_uid != geteuid() && geteuid() != 0) {
        fprintf(stderr,
                "sitrep: warning: %s has mode %04o%s; the cache wants %04o%s (not this user's: "
                "not changed)\n",
                path, (unsigned)have, group_ok ? "" : " and another group", (unsigned)mode,
                w->shared ? " of the cache_group" : "");
        return;
    }
    /* the group first: chown may clear the setgid bit */
    if (!group_ok && chown(path, (uid_t)-1, w->gid) != 0) {
        fprintf(stderr, "sitrep: warning: cannot give %s the cache_group: %s\n", path,
                strerror(errno));
        return;
    }
    if (chmod(path, mode) != 0) {
        fprintf(stderr, "sitrep: warning: cannot set %s to mode %04o: %s\n", path, (unsigned)mode,
                strerror(errno));
        return;
    }
    fprintf(stderr, "sitrep: set %s%s to mode %04o%s (was %04o)\n", is_dir ? "the directory " : "",
            path, (unsigned)mode, w->shared ? " of the cache_group" : "", (unsigned)have);
}

/* mkdir -p of dir: ancestors up_mode, dir itself dir_mode (exactly: no umask). */
static int make_dirs(const char *dir, const share_want *w)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, w->up_mode) == 0)
            chmod(buf, w->up_mode);
        else if (errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, w->dir_mode & 0777) == 0) {
        if (w->shared && chown(buf, (uid_t)-1, w->gid) != 0)
            return -1;
        chmod(buf, w->dir_mode);
    } else if (errno != EEXIST) {
        return -1;
    }
    return 0;
}

/* Creates path with mode (exactly) and the group when it does not exist. */
static int create_file(const char *path, const share_want *w)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, w->file_mode);
    if (fd < 0)
        return errno == EEXIST ? 0 : -1;
    int rc = 0;
    if (w->shared && fchown(fd, (uid_t)-1, w->gid) != 0)
        rc = -1;
    if (fchmod(fd, w->file_mode) != 0)
        rc = -1;
    close(fd);
    return rc;
}

/* What the cache_group asks for; SR_ENOENT (err says so) for an unknown group. */
static int want_of(const char *group, share_want *w, char *err, size_t errlen)
{
    *w = (share_want){.file_mode = 0600, .dir_mode = 0700, .up_mode = 0700};
    if (!group || !*group)
        return 0;
    errno = 0;
    struct group *g = getgrnam(group);
    if (!g) {
        snprintf(err, errlen, "[sitrep] cache_group: no group '%s' on this system", group);
        return SR_ENOENT;
    }
    *w = (share_want){
        .shared = true, .gid = g->gr_gid, .file_mode = 0660, .dir_mode = 02770, .up_mode = 0711};
    return 0;
}

/* Creates the directory of cache (and its ancestors) when missing. */
static int cache_dir(const char *cache, const share_want *w, char *dir, size_t dirlen, char *err,
                     size_t errlen)
{
    char *copy = xstrdup(cache);
    snprintf(dir, dirlen, "%s", dirname(copy));
    free(copy);
    if (make_dirs(dir, w) != 0) {
        snprintf(err, errlen, "cannot create the directory of %s: %s", cache, strerror(errno));
        return SR_EIO;
    }
    return 0;
}

int sr_share_dir(const char *cache, const char *group, char *err, size_t errlen)
{
    share_want w;
    char dir[4096];
    int rc = want_of(group, &w, err, errlen);
    return rc ? rc : cache_dir(cache, &w, dir, sizeof dir, err, errlen);
}

int sr_share_prepare(const char *cache, const char *group, char *err, size_t errlen)
{
    share_want w;
    char dir[4096];
    int rc = want_of(group, &w, err, errlen);
    if (!rc)
        rc = cache_dir(cache, &w, dir, sizeof dir, err, errlen);
    if (rc)
        return rc;
    if (w.shared)
        fix_one(dir, &w, w.dir_mode, true);
    static const char *const suffixes[] = {"", "-wal", "-shm", ".lock"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s%s", cache, suffixes[i]);
        bool create = i == 0 || i == 3; /* SQLite makes the -wal and -shm */
        if (create && create_file(path, &w) != 0) {
            snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
            return SR_EIO;
        }
        fix_one(path, &w, w.file_mode, false);
    }
    return 0;
}

int sr_share_explain(const char *path, const char *group, char *buf, size_t len)
{
    if (access(path, R_OK) == 0 || (errno != EACCES && errno != EPERM))
        return -1;
    if (group && *group)
        snprintf(buf, len,
                 "permission denied: the cache is shared only with the members of group %s "
                 "([sitrep] cache_group); ask for this user to be added to it",
                 group);
    else
        snprintf(buf, len,
                 "permission denied: the cache is private to its collector's user; to share it, "
                 "set [sitrep] cache_group in the collector's config");
    return 0;
}
