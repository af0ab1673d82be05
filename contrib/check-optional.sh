#!/usr/bin/env bash
# make check-optional: sitrep built as on a machine without libpq and
# libcurl (make WITHOUT="libpq libcurl"), in a copy of the tree under
# build/optional so that nothing of the real build changes. The code that
# stands in for them (adapters/pg.c and http.c without SR_HAVE_LIBPQ and
# SR_HAVE_CURL, which no other build compiles) must build with warnings as
# errors, and a source of either type must fail saying how to get it.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
dir=$top/build/optional
rm -rf "$dir" && mkdir -p "$dir/src" "$dir/run"
{ git ls-files -z --cached --others --exclude-standard 2>/dev/null ||
  find . -path ./build -prune -o -type f -print0; } |
  tar --null -T - --ignore-failed-read -cf - | tar -xf - -C "$dir/src"
log=$dir/build.log
if ! make --no-print-directory -C "$dir/src" -j2 WITHOUT="libpq libcurl" CFLAGS="-O0" \
        sitrep build/obj/adapters/pg.o build/obj/adapters/http.o \
        build/obj/adapters/httpurl.o build/obj/adapters/httppage.o build/obj/adapters/jsondoc.o >"$log" 2>&1; then
    cat "$log"
    echo "check-optional: the build without libpq and libcurl failed" >&2
    exit 1
fi
if ls "$dir/src/build/lib/sitrep/"*.so >/dev/null 2>&1; then
    echo "check-optional: adapter modules were built although their libraries were left out" >&2
    exit 1
fi
cat >"$dir/run/c.ini" <<'INI'
[sitrep]
cache = cache.db
[metric.m]
kind = gauge
[adapter.db]
type = postgres
conninfo = host=/nonexistent dbname=x
query = SELECT 1
metric = m
entity = e
value = 1
[adapter.api]
type = http
url = http://127.0.0.1:1/x
metric = m
entity = e
value = 1
INI
set +e
out=$(cd "$dir/run" && HOME=$dir/run "$dir/src/sitrep" collect --once --config c.ini 2>&1)
rc=$?
set -e
fail=0
[[ $rc -eq 1 ]] || { echo "check-optional: collect --once exited $rc, expected 1"; fail=1; }
for want in "apt-get install libpq-dev" "apt-get install libcurl4-openssl-dev"; do
    [[ $out == *"$want"* ]] || { echo "check-optional: no '$want' in what collect said"; fail=1; }
done
if [[ $fail -ne 0 ]]; then
    printf '%s\n' "$out"
    exit 1
fi
rm -rf "$dir"
echo "optional: ok (a build without libpq and libcurl explains both types)"
