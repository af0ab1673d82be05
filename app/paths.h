/*
 * paths.h - where an installed sitrep finds its files: the directories
 * `make install` was given (PREFIX, SYSCONFDIR, LOCALSTATEDIR, DATADIR),
 * compiled in by the Makefile as -D flags. The defaults below are
 * make's defaults, for a build without them (a fuzz target, an editor).
 *
 *   SR_SYSCONFDIR      $(SYSCONFDIR)     /usr/local/etc: sitrep/config.ini
 *   SR_LOCALSTATEDIR   $(LOCALSTATEDIR)  /var: lib/sitrep/cache.db
 *   SR_DATADIR         $(DATADIR)        /usr/local/share: sitrep/themes, sitrep/plugins
 */
#ifndef SR_PATHS_H
#define SR_PATHS_H

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

#endif
