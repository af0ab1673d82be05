#!/usr/bin/env bash
# Checks the layering of DESIGN.md: which folder may include what.
#   metrics/  -> libc + sqlite3 (sqlite3.h only in metrics/store*.c); never tui/, adapters/, app/
#   adapters/ -> adapters/*.h and their own library; sqlite3.h only in adapters/sqlite.c,
#                libpq-fe.h only in adapters/pg.c; never curses.h, uv.h
#   tui/      -> metrics/ and themes; never adapters/, app/, sqlite3.h, uv.h
#   curses.h only under tui/; uv.h never in adapter.h
set -u
cd "$(dirname "$0")/.."
bad=0
fail() { echo "layer violation: $*"; bad=1; }
while IFS= read -r hit; do fail "$hit"; done < <(
  grep -nE '#include *[<"](ncursesw?/)?n?curses\.h' -r app metrics adapters 2>/dev/null
  grep -nE '#include *<sqlite3\.h>' -r app tui adapters 2>/dev/null | grep -v '^adapters/sqlite\.c:'
  grep -nE '#include *<(postgresql/)?libpq-fe\.h>' -r app tui metrics adapters 2>/dev/null | grep -v '^adapters/pg\.c:'
  grep -nE '#include *<sqlite3\.h>' metrics/*.c metrics/*.h 2>/dev/null | grep -v '^metrics/store[^/]*\.c:'
  grep -nE '#include *"\.\./(tui|adapters|app)/' -r metrics 2>/dev/null
  grep -nE '#include *"\.\./(tui|app|metrics)/' -r adapters 2>/dev/null
  grep -nE '#include *<uv\.h>' -r adapters metrics tui 2>/dev/null
  grep -nE '#include *"\.\./(adapters|app)/' -r tui 2>/dev/null
)
[[ $bad -eq 0 ]] && echo "layers: ok"
exit $bad
