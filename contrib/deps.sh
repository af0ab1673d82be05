#!/usr/bin/env bash
# Installs the Debian packages named as arguments that are not installed yet.
# Uses apt-get, through sudo when not root. Prints nothing when all are there.
set -euo pipefail
missing=()
for p in "$@"; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$st" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "sitrep: installing missing Debian packages: ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "sitrep: apt-get not found; install these packages by hand: ${missing[*]}" >&2
    exit 1
fi
SUDO=
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "sitrep: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
