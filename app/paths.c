/*
 * paths.c - the folders an installed sitrep reads its shipped data from
 * (themes, example plugins): beside the executable, then the DATADIR it
 * was built for (paths.h). Nothing here creates a file or follows a name
 * a user chose: the folders come from the kernel (/proc/self/exe) and the
 * build.
 */
#include "paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sr_exe_dir(char *buf, size_t len)
{
    char exe[SR_DIR_MAX];
    buf[0] = 0;
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

size_t sr_data_dirs(const char *sub, char dirs[2][SR_DIR_MAX])
{
    size_t n = 0;
    char exe[SR_DIR_MAX];
    if (sr_exe_dir(exe, sizeof exe) == 0 &&
        snprintf(dirs[n], SR_DIR_MAX, "%s/../share/sitrep/%s", exe, sub) < SR_DIR_MAX)
        n++;
    char installed[SR_DIR_MAX];
    if (snprintf(installed, sizeof installed, "%s/sitrep/%s", SR_DATADIR, sub) >=
        (int)sizeof installed)
        return n;
    /* /usr/bin/../share is /usr/share: one folder, named once */
    char a[SR_DIR_MAX], b[SR_DIR_MAX];
    if (n && realpath(dirs[0], a) && realpath(installed, b) && strcmp(a, b) == 0)
        return n;
    snprintf(dirs[n++], SR_DIR_MAX, "%s", installed);
    return n;
}
