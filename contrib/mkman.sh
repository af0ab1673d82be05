#!/bin/bash
# mkman.sh - assembles a manual page from its template in man/ (make man).
#
#   contrib/mkman.sh SITREP TEMPLATE [NAME=VALUE...] > PAGE
#
# The template is roff written by hand (the prose). A line
#   .\" @sitrep ARGS...
# is replaced by what `SITREP ARGS...` prints: the parts generated from the
# program's own tables (`sitrep help COMMAND --format man`, `help config`,
# `help keys`, `help exit-status`), escaped for roff by app/roff.c. Every
# @NAME@ is replaced by its VALUE (the install directories), @VERSION@ by
# the program's version and @DATE@ by the date of the last commit of the
# template (or SOURCE_DATE_EPOCH), so that a page is the same on every
# build of the same tree. Fails when a command fails or a @NAME@ is left.
set -euo pipefail
sitrep=$1 template=$2
shift 2
version=$("$sitrep" version | awk '{ print $2 }')
when=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct -- "$template" 2>/dev/null || true)}
date=$(date -u -d "@${when:-$(stat -c %Y "$template")}" +%Y-%m-%d)
subst=(-e "s|@VERSION@|$version|g" -e "s|@DATE@|$date|g")
for kv in "$@"; do
  subst+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
done
out=$(mktemp)
trap 'rm -f "$out" "$out.in"' EXIT
# the placeholders of the template first, so that generated text is left as it is
sed "${subst[@]}" "$template" > "$out.in"
if grep -n '@[A-Z_]*@' "$out.in" >&2; then
  echo "mkman.sh: $template: a placeholder above has no value" >&2
  exit 1
fi
while IFS= read -r line || [[ -n $line ]]; do
  if [[ $line == '.\" @sitrep '* ]]; then
    read -r -a args <<< "${line#'.\" @sitrep '}"
    "$sitrep" "${args[@]}"
  else
    printf '%s\n' "$line"
  fi
done < "$out.in" > "$out"
cat "$out"
