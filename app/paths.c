/*
 * paths.c - the folders an installed sitrep reads its shipped data from
 * (themes, example plugins) and loads its adapter modules from: beside the
 * executable (never with the group's rights, trust.h), then the DATADIR or
 * LIBDIR it was built for (paths.h). Nothing here creates a file or
 * follows a name a user chose: the folders come from the kernel (/proc/self/exe) and the build.
 */
#include "paths.h"

#include "trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sr_exe_dir(char *buf, size_t len)
{
    char exe[SR_DIR_MAX];
    buf[0] = 0;
    /* with the group's rights the executable's folder may be a user's: a
     * setgid binary hard-linked into one would load that user's modules
     * with the group's rights; only the compiled-in folders then */
    if (sr_trust_elevated())
        return -1;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = 0;
    if (snprintf(buf, len, "%s", exe[0] ? exe : "/") >= (int)len) {
        buf[0] = 0;
        return -1;
    }
    return 0;
}

/* Appends dir to dirs (n of them, at most max) unless it names a folder
 * already there, or does not fit. */
static void add_dir(char (*dirs)[SR_DIR_MAX], size_t *n, size_t max, const char *dir)
{
    if (*n >= max || strlen(dir) >= SR_DIR_MAX)
        return;
    /* /usr/bin/../share is /usr/share: one folder, named once */
    char a[SR_DIR_MAX], b[SR_DIR_MAX];
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(dirs[i], dir) == 0 ||
            (realpath(dirs[i], a) && realpath(dir, b) && strcmp(a, b) == 0))
            return;
    }
    snprintf(dirs[(*n)++], SR_DIR_MAX, "%s", dir);
}

size_t sr_data_dirs(const char *sub, char dirs[2][SR_DIR_MAX])
{
    size_t n = 0;
    char exe[SR_DIR_MAX], cand[SR_DIR_MAX + 64];
    if (sr_exe_dir(exe, sizeof exe) == 0 &&
        snprintf(cand, sizeof cand, "%s/../share/sitrep/%s", exe, sub) < (int)sizeof cand)
        add_dir(dirs, &n, 2, cand);
    if (snprintf(cand, sizeof cand, "%s/sitrep/%s", SR_DATADIR, sub) < (int)sizeof cand)
        add_dir(dirs, &n, 2, cand);
    return n;
}

size_t sr_module_dirs(char dirs[3][SR_DIR_MAX])
{
    size_t n = 0;
    char exe[SR_DIR_MAX], cand[SR_DIR_MAX + 64];
    if (sr_exe_dir(exe, sizeof exe) == 0) {
        snprintf(cand, sizeof cand, "%s/../lib/sitrep", exe);
        add_dir(dirs, &n, 3, cand);
        snprintf(cand, sizeof cand, "%s/build/lib/sitrep", exe);
        add_dir(dirs, &n, 3, cand);
    }
    add_dir(dirs, &n, 3, SR_LIBDIR "/sitrep");
    return n;
}
