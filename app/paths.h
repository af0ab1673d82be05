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
 *   SR_LIBDIR          $(LIBDIR)         /usr/local/lib: sitrep/sitrep-postgres.so, ...
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
#ifndef SR_LIBDIR
#define SR_LIBDIR "/usr/local/lib"
#endif

/* The system configuration: read alone when sitrep runs with its group's
 * rights (setgid), and last in the search without --config. */
#define SR_SYSTEM_CONFIG SR_SYSCONFDIR "/sitrep/config.ini"

/* The longest folder name sr_exe_dir() and sr_data_dirs() write. */
#define SR_DIR_MAX 4096

/* The folder of the running executable (/proc/self/exe without its last
 * component) into buf. Returns 0, or -1 (buf "") when it cannot be read or
 * when sitrep runs with its group's rights (trust.h): that folder may then
 * be a user's, so nothing is looked for beside the executable. */
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

/*
 * The folders of the adapters built as shared objects of their own
 * (adapters/modules.h), most particular first: beside the executable,
 * BINDIR/../lib/sitrep (a staged or moved install; the build tree's test
 * programs, build/test/ and build/asan/, reach build/lib/sitrep so); in a
 * source tree, build/lib/sitrep under the executable's folder (./sitrep);
 * then SR_LIBDIR/sitrep, where `make install` put them. Never a name from
 * the environment or a user: sitrep may run setgid (trust.h). Writes up to
 * 3 names into dirs (a folder named once) and returns how many.
 */
size_t sr_module_dirs(char dirs[3][SR_DIR_MAX]);

#endif
