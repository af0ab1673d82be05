/*
 * paths.h - where an installed sitrep finds its files: the directories
 * `make install` was given (PREFIX, SYSCONFDIR, LOCALSTATEDIR, DATADIR),
 * compiled in by the Makefile as -D flags (build/paths.stamp rebuilds the
 * files that include this header when they change). The defaults below are
 * make's defaults, for a build without them (a fuzz target, an editor).
 *
 *   SR_SYSCONFDIR      $(SYSCONFDIR)     /usr/local/etc: sitrep/config.ini
 *   SR_LOCALSTATEDIR   $(LOCALSTATEDIR)  /var: lib/sitrep/cache.db
 *   SR_DATADIR         $(DATADIR)        /usr/local/share: sitrep/themes, sitrep/plugins
 *
 * A .c file that uses these names includes this header itself (the
 * Makefile finds such files by that #include).
 */
#ifndef SR_PATHS_H
#define SR_PATHS_H

#include <stddef.h>

#ifndef SR_SYSCONFDIR
#define SR_SYSCONFDIR "/usr/local/etc"
#endif
#ifndef SR_LOCALSTATEDIR
#define SR_LOCALSTATEDIR "/var"
#endif
#ifndef SR_DATADIR
#define SR_DATADIR "/usr/local/share"
#endif

/* The system configuration: read alone when sitrep runs with its group's
 * rights (setgid), and last in the search without --config. */
#define SR_SYSTEM_CONFIG SR_SYSCONFDIR "/sitrep/config.ini"

/* The longest folder name sr_exe_dir() and sr_data_dirs() write. */
#define SR_DIR_MAX 4096

/* The folder of the running executable (/proc/self/exe without its last
 * component) into buf. Returns 0, or -1 (buf "") when it cannot be read. */
int sr_exe_dir(char *buf, size_t len);

/*
 * The folders of an installed sitrep's data of one kind, sub ("themes",
 * "plugins"), most particular first: beside the executable,
 * BINDIR/../share/sitrep/SUB, so that a staged (DESTDIR) or moved tree
 * finds its own; then SR_DATADIR/sitrep/SUB, where `make install` put
 * them. Writes up to 2 names into dirs (one when both are the same) and
 * returns how many.
 */
size_t sr_data_dirs(const char *sub, char dirs[2][SR_DIR_MAX]);

#endif
