#!/usr/bin/env bash
# The wall soak (part of make bench; runs alone too): 30 days of simulated
# response times replayed at high speed through a wall-mode dashboard.
#
# A `sitrep --wall` (160x48 in tmux, refresh 100 ms, pages rotating every
# second, panels of every widget over windows from 1 h to 28 d) watches a
# cache that `sitrep ingest` fills in hourly batches, oldest first, with a
# pause after each so that the wall recomputes and redraws on every commit.
# RSS (VmRSS, from /proc/PID/status, settled: see settled()) is printed
# after the first hour, the first day, every 5 days and at the end; VmHWM
# is the peak. Target (issue 11): under 1 MiB of growth once the page cache
# is full, taken from day 10 as for the heap below; the growth from day 5 is
# printed too. In the first days SQLite's page caches fill up to their bound
# (1.5 MiB for all the wall's connections together, DASHBOARD_SQLITE_BYTES in
# app/main.c) as the cache file grows past it; that growth is printed apart.
# The memo's entries (a bounded cache too, metrics/memo.h) grow with the
# days of data under the 28-day windows: about 0.2 MB from day 5 to the end.
#   BENCH_SOAK_ROWS   samples over the whole replay (default 720000, 1000 an hour)
#   BENCH_SOAK_DAYS   days replayed (default 30)
# Prints figures; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
B=build/bench
ROWS=${BENCH_SOAK_ROWS:-720000}
DAYS=${BENCH_SOAK_DAYS:-30}
T=$(mktemp -d "${TMPDIR:-/tmp}/sitrep-soak-XXXXXX")
SOCK="sitrep-soak-$$"
trap 'tmux -L "$SOCK" kill-server 2>/dev/null || true; rm -rf "$T"' EXIT
END=$(date +%s)

echo "-- wall soak: $DAYS days of samples ($ROWS) in hourly batches through sitrep --wall --"
cat > "$T/soak.ini" <<INI
[sitrep]
cache = $T/soak.db
timezone = UTC
title = Soak
refresh = 100ms
[metric.response_p1]
kind = event
unit = s
target = 900
warn = 1000
crit = 1500
[panel.p90]
metric = response_p1
window = 1h
title = P1 p90 last hour
[panel.p90_day]
metric = response_p1
window = 24h
title = P1 p90 today
[panel.count]
metric = response_p1
agg = count
window = 7d
title = P1 calls this week
[panel.within]
metric = response_p1
agg = within
window = 28d
widget = gauge
title = P1 within target, 28 days
[panel.spark]
metric = response_p1
window = 24h
widget = sparkline
title = P1 p90 sparkline
[panel.regions]
metric = response_p1
entity = force
window = 8h
widget = bars
title = P1 by region
[panel.table]
metric = response_p1
entity = force/north
window = 7d
widget = table
title = North by district
[panel.chart]
metric = response_p1
window = 28d
widget = chart
title = P1 p90 over 28 days
[panel.hist]
metric = response_p1
window = 24h
widget = histogram
title = P1 distribution
[page.one]
title = Tiles
panels = p90, p90_day, count, within
columns = 2
[page.two]
title = Breakdowns
panels = spark, regions, table
[page.three]
title = History
panels = chart, hist
columns = 2
[wall]
rotate = 1s
INI

# the samples, then one file per hour (the generator writes them in time order)
$B/gen_samples "$ROWS" "$DAYS" "$END" > "$T/all.csv"
mkdir -p "$T/batches"
awk -F, -v dir="$T/batches" 'NR == 1 { hdr = $0; next }
    { h = int($3 / 3600);
      if (h != cur) { if (f) close(f); cur = h; f = sprintf("%s/%012d.csv", dir, h); print hdr > f }
      print > f }' "$T/all.csv"
rm -f "$T/all.csv"
batches=("$T"/batches/*.csv)
nb=${#batches[@]}

# the first hour in before the wall starts, so that it has something to show
./sitrep ingest --config "$T/soak.ini" "${batches[0]}" > /dev/null
tmux -L "$SOCK" -f /dev/null new-session -d -x 160 -y 48 -s s \
    "env TERM=xterm-256color LANG=C.UTF-8 $PWD/sitrep --config $T/soak.ini --wall"
pid=$(tmux -L "$SOCK" display-message -p -t s '#{pane_pid}')
deadline=$((SECONDS + 30))
until tmux -L "$SOCK" capture-pane -p -t s | grep -q 'WALL  page'; do
    ((SECONDS < deadline)) || { echo "the wall never came up"; exit 1; }
    sleep 0.05
done
rss() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status"; }
# of the resident memory, how much is heap (anonymous) and how much maps files
# (libraries, the cache's -shm index): "anon A KiB, files F KiB"
parts() {
    awk '$1 == "Rss:" { r = $2 } $1 == "Anonymous:" { a = $2 }
        END { printf "anon %d KiB, files %d KiB", a, r - a }' "/proc/$pid/smaps_rollup" 2>/dev/null || true
}
anon() { awk '$1 == "Anonymous:" { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0; }
# the heap (and SQLite's page cache in it) between frames: the least of ten readings
settled_anon() {
    local m r k
    m=$(anon)
    for k in 1 2 3 4 5 6 7 8 9; do
        sleep 0.2
        r=$(anon)
        ((r < m)) && m=$r
    done
    echo "$m"
}
# what stays resident between frames: the least of ten readings over two
# seconds (a reading taken while a page is being computed shows the
# frame's temporary buffers; VmHWM reports those)
settled() {
    local m r k
    m=$(rss VmRSS)
    for k in 1 2 3 4 5 6 7 8 9; do
        sleep 0.2
        r=$(rss VmRSS)
        ((r < m)) && m=$r
    done
    echo "$m"
}
rss_first=$(settled)

i=1
t0=$(date +%s.%N)
for f in "${batches[@]:1}"; do
    ./sitrep ingest --config "$T/soak.ini" "$f" > /dev/null
    rm -f "$f"
    sleep 0.15 # more than a refresh: the wall sees the commit and redraws
    i=$((i + 1))
    if ((i == 24)); then rss_day=$(settled); fi
    if ((i % 120 == 0)); then
        r=$(settled)
        ((i == 120)) && rss_day5=$r
        ((i == 240)) && rss_day10=$r && anon_day10=$(settled_anon)
        printf "  day %d: RSS %s KiB (%s; WAL %s KiB)\n" $((i / 24)) "$r" "$(parts)" \
            "$(($(stat -c %s "$T/soak.db-wal" 2>/dev/null || echo 0) / 1024))"
    fi
done
t1=$(date +%s.%N)
kill -0 "$pid" 2>/dev/null || { echo "the wall died during the soak"; exit 1; }
rss_end=$(settled)
anon_end=$(settled_anon)
hwm=$(rss VmHWM)
screen=$(tmux -L "$SOCK" capture-pane -p -t s | sed -n '$p')
tmux -L "$SOCK" send-keys -t s C-x q
awk -v nb="$((nb))" -v a="$t0" -v b="$t1" -v f="$rss_first" -v d="${rss_day:-$rss_first}" \
    -v d5="${rss_day5:-$rss_first}" -v d10="${rss_day10:-$rss_first}" -v e="$rss_end" -v h="$hwm" 'BEGIN {
    printf "replayed %d hourly batches in %.0f s (%.1f commits/s), the wall redrawing after each\n", nb, b - a, nb / (b - a);
    printf "wall RSS (settled): %.2f MiB after the first hour, %.2f MiB after the first day, %.2f MiB after day 5, %.2f MiB at the end (peak %.2f MiB)\n", f / 1024, d / 1024, d5 / 1024, e / 1024, h / 1024;
    printf "growth from day 10, once the page caches have filled, to the end: %+.0f KiB   (target: under 1 MiB)\n", e - d10;
    printf "growth from day 5 to the end: %+.0f KiB\n", e - d5;
    printf "growth from the first day, the SQLite page caches (at most 1.5 MiB) filling included: %+.0f KiB\n", e - d }'
if [[ -n ${anon_day10:-} ]]; then
    printf "heap (anonymous memory, settled) from day 10, once SQLite's page cache has filled, to the end: %s KiB -> %s KiB, %+d KiB\n" \
        "$anon_day10" "$anon_end" $((anon_end - anon_day10))
fi
echo "(the wall's last line: $screen)"
