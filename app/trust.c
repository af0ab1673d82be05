/*
 * trust.c - the one place that knows sitrep may run with its group's
 * rights (a setgid install, as plocate and crontab are), and what follows.
 *
 * The rule: elevated when the effective uid or gid differs from the real
 * one. Decided once at start (sr_trust_init) and then only read. An
 * elevated process:
 *
 *   - takes no setting from the user: the configuration is the system one
 *     alone (main.c's load_config asks sr_trust_elevated()), and the
 *     variables that would choose a setting are refused by name below;
 *     variables sitrep does not honour (XDG_RUNTIME_DIR, XDG_SESSION_*,
 *     which every SSH login has) are left alone. TMPDIR is not refused:
 *     pam_tmpdir sets it on every login, glibc's loader already removes it
 *     from a setgid process, and it is dropped here too for any other libc;
 *     SQLite, the only reader, keeps its temporary files in memory anyway.
 *   - writes nothing into the cache's folder but rows through SQLite: it
 *     never creates the cache, its -wal or -shm (sr_trust_cache_ready), and
 *     never takes the collector's lock.
 *   - opens every file a user names with the real ids (sr_trust_open).
 *
 * The ids are switched with setegid/seteuid: glibc applies them to every
 * thread of the process at once.
 */
#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../metrics/common.h"
#include "../metrics/store.h"

/* Process-wide facts, set by sr_trust_init() before anything else runs. */
static bool elevated;
static uid_t group_uid; /* the effective ids an elevated process started with */
static gid_t group_gid;
static char group_name[64];

/* Variables that would make a setting of an elevated process, and why. */
static const struct {
    const char *name;
    const char *what;
} refused[] = {
    {"SITREP_TEST_USER", "it stands in for the user in tests"},
    {"SITREP_TEST_GROUPS", "it stands in for the user's groups in tests"},
    {"XDG_CONFIG_HOME", "it would choose the configuration"},
    {"XDG_STATE_HOME", "it would choose the cache and the reports' folder"},
    {"SQLITE_TMPDIR", "it would choose where SQLite writes temporary files"},
};

int sr_trust_init(char *err, size_t errlen)
{
    group_uid = geteuid();
    group_gid = getegid();
    elevated = group_uid != getuid() || group_gid != getgid();
    const struct group *g = getgrgid(group_gid);
    if (g)
        snprintf(group_name, sizeof group_name, "%s", g->gr_name);
    else
        snprintf(group_name, sizeof group_name, "%u", (unsigned)group_gid);
    if (!elevated)
        return 0;
    unsetenv("TMPDIR");
    sr_store_temp_in_memory();
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        const char *v = getenv(refused[i].name);
        if (v && *v) {
            snprintf(err, errlen,
                     "%s is set, refused: sitrep runs with the rights of group %s (setgid) and "
                     "takes no setting from the environment (%s); unset it",
                     refused[i].name, group_name, refused[i].what);
            return SR_EINVAL;
        }
    }
    return 0;
}

bool sr_trust_elevated(void)
{
    return elevated;
}

const char *sr_trust_group(void)
{
    return group_name;
}

int sr_trust_cache_ready(const char *cache, char *err, size_t errlen)
{
    if (!elevated)
        return 0;
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char path[4200];
        struct stat sb;
        snprintf(path, sizeof path, "%s%s", cache, suffixes[i]);
        if (lstat(path, &sb) != 0) {
            int e = errno;
            if (e == ENOENT)
                snprintf(err, errlen,
                         "the collector has not run yet: %s is missing (start it: sitrep collect "
                         "as the user that collects, or its service)",
                         path);
            else
                snprintf(err, errlen, "cannot reach %s: %s", path, strerror(e));
            return SR_ENOENT;
        }
        if (!S_ISREG(sb.st_mode)) {
            snprintf(err, errlen, "%s is not a regular file: refused", path);
            return SR_EINVAL;
        }
        if (sb.st_uid == getuid() && getuid() != 0) {
            snprintf(err, errlen, "%s belongs to you, not to the collector: refused", path);
            return SR_EINVAL;
        }
    }
    return 0;
}

int sr_trust_as_user(void)
{
    if (!elevated)
        return 0;
    if (setegid(getgid()) != 0)
        return SR_EIO;
    if (group_uid != getuid() && seteuid(getuid()) != 0) {
        /* back to the group's gid; should that fail too, the process keeps
         * the user's gid only, which is safe: it can reach less, not more */
        (void)!setegid(group_gid);
        return SR_EIO;
    }
    return 0;
}

void sr_trust_as_group(void)
{
    if (!elevated)
        return;
    /* a failure leaves the process with the user's rights only: safe */
    if (group_uid != getuid())
        (void)!seteuid(group_uid);
    (void)!setegid(group_gid);
}

int sr_trust_open(const char *path, int flags, mode_t mode)
{
    if (sr_trust_as_user() != 0) {
        errno = EPERM;
        return -1;
    }
    /* non-blocking: a FIFO put in the file's place must not hang the open */
    int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, mode);
    int e = errno;
    sr_trust_as_group();
    struct stat sb;
    if (fd >= 0 && (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
                    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0)) {
        close(fd);
        fd = -1;
        e = EINVAL;
    }
    errno = e;
    return fd;
}

FILE *sr_trust_fopen(const char *path, int flags, mode_t mode, const char *fmode)
{
    int fd = sr_trust_open(path, flags, mode);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, fmode);
    if (!f) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return f;
}

#ifdef __SANITIZE_ADDRESS__
/*
 * The ASan test build only: LeakSanitizer stops the process's threads with
 * ptrace at exit, which the kernel refuses in a process that changed its
 * ids at exec (not dumpable), and such a process cannot read its own
 * /proc/self/environ either, so ASAN_OPTIONS never reaches it. An elevated
 * process therefore runs without the leak check (the same code is checked
 * for leaks by every run that is not elevated); the rule is this module's.
 */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
    return getegid() != getgid() || geteuid() != getuid() ? "detect_leaks=0" : "";
}
#endif
