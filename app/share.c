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
 *
 * The cache's folder may be shared with other users, any of whom may be
 * hostile: a member who links cache.db.lock to a file of root's must not
 * get that file handed to the group when root runs `sitrep ingest`. So
 * every file sitrep opens there goes through sr_share_open(): never through
 * a symbolic link (O_NOFOLLOW), only a regular file with one link (no FIFO
 * to hang on, no hard link to someone else's file), owned by the folder's
 * owner or by this user; its mode and group are changed only through that
 * descriptor (fchmod, fchown), never by path. SQLite opens the -wal and
 * -shm itself (with O_NOFOLLOW too); sr_share_prepare() checks them first.
 */
#include "share.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
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

/* The folder of path into dir (len bytes). */
static void folder_of(const char *path, char *dir, size_t len)
{
    char *f = sr_path_folder(path);
    if (!f)
        sr_fatal("out of memory");
    snprintf(dir, len, "%s", f);
    free(f);
}

/* Whether a file of owner uid may be trusted in a folder of owner dir_uid. */
static bool owner_ok(uid_t uid, uid_t dir_uid)
{
    return uid == dir_uid || uid == geteuid();
}

static const char *user_name(uid_t uid, char *buf, size_t len)
{
    const struct passwd *pw = getpwuid(uid);
    if (pw)
        snprintf(buf, len, "%s", pw->pw_name);
    else
        snprintf(buf, len, "uid %u", (unsigned)uid);
    return buf;
}

int sr_share_open(const char *path, int flags, mode_t mode, int *fd_out, char *err, size_t errlen)
{
    *fd_out = -1;
    char dir[4096];
    folder_of(path, dir, sizeof dir);
    struct stat ds;
    if (stat(dir, &ds) != 0) {
        int e = errno;
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
        return e == ENOENT ? SR_ENOENT : SR_EIO;
    }
    /* O_NONBLOCK: a FIFO planted in the folder must not hang the open. With
     * O_CREAT, O_EXCL first tells a file made now from one that was there */
    const int safe = O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
    bool created = false;
    int fd = -1;
    if (flags & O_CREAT) {
        fd = open(path, flags | O_EXCL | safe, mode);
        created = fd >= 0;
        if (fd < 0 && errno == EEXIST && !(flags & O_EXCL))
            fd = open(path, (flags & ~O_CREAT) | safe);
    } else {
        fd = open(path, flags | safe);
    }
    if (fd < 0) {
        int e = errno;
        if (e == ELOOP)
            snprintf(err, errlen,
                     "%s is a symbolic link: refused (sitrep never follows one "
                     "in the cache's folder)",
                     path);
        else
            snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
        return e == ENOENT ? SR_ENOENT : e == ELOOP ? SR_EPERM : SR_EIO;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
        close(fd);
        return SR_EIO;
    }
    char who[64], want[64];
    if (!S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file: refused", path);
    } else if (sb.st_nlink != 1) {
        snprintf(err, errlen, "%s has %lu hard links: refused (a link to another file)", path,
                 (unsigned long)sb.st_nlink);
    } else if (!owner_ok(sb.st_uid, ds.st_uid)) {
        snprintf(err, errlen,
                 "%s belongs to %s, not to %s (the owner of its folder) nor to this user: refused",
                 path, user_name(sb.st_uid, who, sizeof who),
                 user_name(ds.st_uid, want, sizeof want));
    } else {
        /* root making a file in another user's folder gives it to that user,
         * as SQLite does with the -wal and -shm */
        if (created && geteuid() == 0 && ds.st_uid != 0 && fchown(fd, ds.st_uid, (gid_t)-1) != 0) {
            snprintf(err, errlen, "cannot give %s to its folder's owner: %s", path,
                     strerror(errno));
            close(fd);
            return SR_EIO;
        }
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
            fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        *fd_out = fd;
        return 0;
    }
    close(fd);
    return SR_EPERM;
}

/* Brings one existing path to mode (and gid, when shared) if this user owns
 * it; says what it did or, for another owner's, what is wrong. Files are
 * opened with sr_share_open(); the folder without following a link. Returns
 * 0, or an error (err says which) for a file that must not be used. */
static int fix_one(const char *path, const share_want *w, mode_t mode, bool is_dir, char *err,
                   size_t errlen)
{
    int fd;
    if (is_dir) {
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            snprintf(err, errlen, "cannot open the directory %s: %s", path, strerror(errno));
            return errno == ELOOP || errno == ENOTDIR ? SR_EPERM : SR_EIO;
        }
    } else {
        int rc = sr_share_open(path, O_RDONLY, 0, &fd, err, errlen);
        if (rc == SR_ENOENT)
            return 0;
        if (rc)
            return rc;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return 0;
    }
    mode_t have = sb.st_mode & 07777;
    bool mode_ok = have == mode;
    bool group_ok = !w->shared || sb.st_gid == w->gid;
    if (mode_ok && group_ok) {
        close(fd);
        return 0;
    }
    if (sb.st_uid != geteuid() && geteuid() != 0) {
        fprintf(stderr,
                "sitrep: warning: %s has mode %04o%s; the cache wants %04o%s (not this user's: "
                "not changed)\n",
                path, (unsigned)have, group_ok ? "" : " and another group", (unsigned)mode,
                w->shared ? " of the cache_group" : "");
        close(fd);
        return 0;
    }
    /* the group first: chown may clear the setgid bit */
    if (!group_ok && fchown(fd, (uid_t)-1, w->gid) != 0) {
        fprintf(stderr, "sitrep: warning: cannot give %s the cache_group: %s\n", path,
                strerror(errno));
    } else if (fchmod(fd, mode) != 0) {
        fprintf(stderr, "sitrep: warning: cannot set %s to mode %04o: %s\n", path, (unsigned)mode,
                strerror(errno));
    } else {
        fprintf(stderr, "sitrep: set %s%s to mode %04o%s (was %04o)\n",
                is_dir ? "the directory " : "", path, (unsigned)mode,
                w->shared ? " of the cache_group" : "", (unsigned)have);
    }
    close(fd);
    return 0;
}

/* Gives a directory just made its group and exact mode (no umask) through
 * its descriptor. */
static int set_new_dir(const char *path, gid_t gid, mode_t mode)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = 0;
    if (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) != 0)
        rc = -1;
    if (!rc && fchmod(fd, mode) != 0)
        rc = -1;
    close(fd);
    return rc;
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
            set_new_dir(buf, (gid_t)-1, w->up_mode);
        else if (errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, w->dir_mode & 0777) == 0)
        return set_new_dir(buf, w->shared ? w->gid : (gid_t)-1, w->dir_mode);
    return errno == EEXIST ? 0 : -1;
}

/* Creates path with mode (exactly) and the group when it does not exist
 * (O_EXCL through sr_share_open); an existing name, link or not, is left to
 * fix_one(). */
static int create_file(const char *path, const share_want *w, char *err, size_t errlen)
{
    int fd;
    struct stat sb;
    if (lstat(path, &sb) == 0 || errno != ENOENT)
        return 0; /* there, link or not: fix_one() judges it */
    int rc = sr_share_open(path, O_WRONLY | O_CREAT | O_EXCL, w->file_mode, &fd, err, errlen);
    if (rc)
        return rc;
    if ((w->shared && fchown(fd, (uid_t)-1, w->gid) != 0) || fchmod(fd, w->file_mode) != 0) {
        snprintf(err, errlen, "cannot set the mode of %s: %s", path, strerror(errno));
        rc = SR_EIO;
    }
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
    folder_of(cache, dir, dirlen);
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
    if (w.shared && (rc = fix_one(dir, &w, w.dir_mode, true, err, errlen)) != 0)
        return rc;
    static const char *const suffixes[] = {"", "-wal", "-shm", ".lock"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s%s", cache, suffixes[i]);
        bool create = i == 0 || i == 3; /* SQLite makes the -wal and -shm */
        if (create && (rc = create_file(path, &w, err, errlen)) != 0)
            return rc;
        if ((rc = fix_one(path, &w, w.file_mode, false, err, errlen)) != 0)
            return rc;
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

/* Writes to buf why this user may not write path (errno e of the check). */
static void not_writable(const char *what, const char *path, int e, char *buf, size_t len)
{
    char who[64];
    const struct group *g = getgrgid(getegid());
    if (e == EROFS)
        snprintf(buf, len, "the cache %s %s is on a read-only file system", what, path);
    else if (g)
        snprintf(buf, len, "the cache %s %s is not writable by user %s (group %s)", what, path,
                 user_name(geteuid(), who, sizeof who), g->gr_name);
    else
        snprintf(buf, len, "the cache %s %s is not writable by user %s (gid %u)", what, path,
                 user_name(geteuid(), who, sizeof who), (unsigned)getegid());
}

int sr_share_explain_write(const char *cache, bool lock, char *buf, size_t len)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", ".lock"};
    bool missing = false;
    char bad[4200] = ""; /* the first file there that may not be written */
    int bad_errno = 0;
    for (size_t i = 0; i < (lock ? 4u : 3u); i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s%s", cache, suffixes[i]);
        struct stat sb;
        if (lstat(path, &sb) != 0) {
            missing = missing || errno == ENOENT;
            continue;
        }
        if (!bad[0] && faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) != 0 &&
            (errno == EACCES || errno == EPERM || errno == EROFS)) {
            bad_errno = errno;
            snprintf(bad, sizeof bad, "%s", path);
        }
    }
    /* the folder first: with it writable, a file's mode is its owner's fix */
    char dir[4096];
    folder_of(cache, dir, sizeof dir);
    if ((missing || bad[0]) && faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0 &&
        (errno == EACCES || errno == EPERM || errno == EROFS)) {
        not_writable("folder", dir, errno, buf, len);
        return 0;
    }
    if (bad[0]) {
        not_writable("file", bad, bad_errno, buf, len);
        return 0;
    }
    return -1;
}
