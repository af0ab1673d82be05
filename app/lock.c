/*
 * lock.c - the collector's lock: an open-file-description lock
 * (F_OFD_SETLK) on the whole of CACHE.lock.
 *
 * An OFD lock belongs to the open file description, not to the process
 * (unlike POSIX fcntl locks): closing some other descriptor of the same
 * file does not drop it, and two sr_lock in one process conflict like two
 * processes do. The descriptor is close-on-exec, so the children an exec
 * adapter spawns do not keep it. The kernel drops the lock when the last
 * descriptor closes, so a collector that crashes or is killed frees it at
 * once. SQLite's own locks are on the cache and its -shm file,
 * never on CACHE.lock, so the two never meet.
 *
 * The holder writes its pid into the file so that a refused process can
 * say who holds it (F_OFD_GETLK reports no pid). The file is never
 * removed: removing it would let two processes lock two different files.
 *
 * It lives in the cache's folder, which other users may share: it is
 * opened only through sr_share_open() (no symbolic link, a regular file of
 * the folder's owner or this user), and truncated and written only through
 * that descriptor.
 */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../metrics/common.h"
#include "share.h"
#include "xalloc.h"

struct sr_lock {
    int fd;
    int held;
    char path[];
};

int sr_lock_create(const char *cache_path, sr_lock **out, char *err, size_t errlen)
{
    *out = NULL;
    size_t n = strlen(cache_path) + sizeof ".lock";
    sr_lock *l = xcalloc(1, sizeof *l + n);
    snprintf(l->path, n, "%s.lock", cache_path);
    int rc = sr_share_open(l->path, O_RDWR | O_CREAT, 0600, &l->fd, err, errlen);
    if (rc) {
        free(l);
        return rc;
    }
    *out = l;
    return 0;
}

static long read_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    long pid = strtol(buf, NULL, 10);
    return pid > 0 ? pid : 0;
}

static int write_pid(int fd)
{
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)len, 0) != len)
        return SR_EIO;
    return 0;
}

int sr_lock_try(sr_lock *l, long *holder_pid)
{
    if (holder_pid)
        *holder_pid = 0;
    if (l->held)
        return 0;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    if (fcntl(l->fd, F_OFD_SETLK, &fl) != 0) {
        if (errno != EAGAIN && errno != EACCES)
            return SR_EIO;
        if (holder_pid)
            *holder_pid = read_pid(l->fd);
        return SR_EBUSY;
    }
    l->held = 1;
    write_pid(l->fd); /* a pid not written only makes a refusal vaguer */
    return 0;
}

void sr_lock_release(sr_lock *l)
{
    if (!l->held)
        return;
    struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    fcntl(l->fd, F_OFD_SETLK, &fl);
    l->held = 0;
}

int sr_lock_held(const sr_lock *l)
{
    return l->held;
}

const char *sr_lock_path(const sr_lock *l)
{
    return l->path;
}

void sr_lock_destroy(sr_lock *l)
{
    if (!l)
        return;
    close(l->fd);
    free(l);
}
