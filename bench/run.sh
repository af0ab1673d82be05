#!/usr/bin/env bash
# make bench: performance figures, each against a baseline measured in the same run where
# one exists. Prints figures; asserts nothing (timings never gate the build).
#   BENCH_ROWS   rows for the ingest figure (default 2000000)
#   BENCH_QROWS  samples for the query figures (default 10000000)
# then a large force's year (bench/force.sh: BENCH_SCALE, ...), the viewers (bench/viewers.sh)
# and, last, the wall soak (bench/soak.sh: BENCH_SOAK_ROWS, BENCH_SOAK_DAYS)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${BENCH_ROWS:-2000000}
QROWS=${BENCH_QROWS:-10000000}
B=build/bench
T=$(mktemp -d "${TMPDIR:-/tmp}/sitrep-bench-XXXXXX")
trap 'rm -rf "$T"' EXIT
END=$(date +%s)

metric_ini() {
    cat <<INI
[sitrep]
cache = $1
timezone = UTC
[metric.response_p1]
kind = event
unit = s
target = 900
INI
}

secs() { date +%s.%N; }

echo "== sitrep bench ($(nproc) cores; $(date -u +%FT%TZ)) =="
echo
echo "-- start-up: sitrep --version against a C program linking only ncursesw, sqlite3, libuv --"
# wall time: the mean of 50 runs each; mapped: the sum of /proc/PID/maps at the first write
wall50() { local t0 t1; t0=$(secs); for _ in $(seq 50); do "$@" > /dev/null; done; t1=$(secs)
           awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) * 1000 / 50 }'; }
ws=$(wall50 ./sitrep --version)
wb=$(wall50 $B/version_baseline)
read -r ks ns < <($B/mapsize ./sitrep --version)
read -r kb nb < <($B/mapsize $B/version_baseline)
awk -v ws="$ws" -v wb="$wb" -v ks="$ks" -v kb="$kb" -v ns="$ns" -v nb="$nb" 'BEGIN {
    printf "sitrep --version: %.2f ms, maps %.1f MB in %d shared objects; baseline %.2f ms, %.1f MB in %d\n", ws, ks / 1024, ns, wb, kb / 1024, nb
    printf "ratios sitrep / baseline: wall %.2fx, mapped %.2fx   (libpq and libcurl are loaded only for a config naming postgres or http)\n", ws / wb, ks / kb }'
echo
echo "-- ingest: $ROWS rows --"
$B/gen_samples "$ROWS" 30 "$END" > "$T/ingest.csv"
metric_ini "$T/ingest.db" > "$T/ingest.ini"
# three rounds, sitrep and the baseline in turn, each into a new file: the
# median of each (one round moved the ratio by a fifth from run to run)
ts_all=() tb_all=()
for round in 1 2 3; do
    rm -f "$T"/ingest.db* "$T"/baseline.db*
    t0=$(secs)
    ./sitrep ingest --config "$T/ingest.ini" "$T/ingest.csv" > "$T/ingest.out"
    t1=$(secs)
    ts_all+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')")
    read -r n tb < <($B/bench_baseline "$T/ingest.csv" "$T/baseline.db")
    tb_all+=("$tb")
done
cat "$T/ingest.out"
median3() { printf "%s\n" "$@" | sort -g | sed -n 2p; }
awk -v n="$ROWS" -v ts="$(median3 "${ts_all[@]}")" -v nb="$n" -v tb="$(median3 "${tb_all[@]}")" \
    -v all_s="${ts_all[*]}" -v all_b="${tb_all[*]}" 'BEGIN {
    rs = n / ts; rb = nb / tb;
    printf "sitrep ingest (parse, dedup key, rollups, %d-row transactions): %.0f rows/s (%.2f s, the median of %s)\n", 50000, rs, ts, all_s;
    printf "raw SQLite baseline (prepared insert, no index, WAL, synchronous=NORMAL): %.0f rows/s (%.2f s, the median of %s)\n", rb, tb, all_b;
    printf "ratio sitrep / baseline: %.2fx   (target >= 0.50x)\n", rs / rb }'
printf "cache size: sitrep %s, baseline %s\n" "$(du -h "$T/ingest.db" | cut -f1)" "$(du -h "$T/baseline.db" | cut -f1)"
rm -f "$T/ingest.csv" "$T"/baseline.db*

echo
CROWS=${BENCH_CROWS:-500000}
echo "-- csv adapter: $CROWS calls of a CAD export (BOM, CRLF, quoted commas, 12-hour local times) --"
$B/gen_calls "$CROWS" "$T/calls.csv" "$T/calls-ingest.csv"
metrics3() {
    printf '[sitrep]\ncache = %s\nretention = 10000d\n' "$1"
    for p in 1 2 3; do printf '[metric.response_p%d]\nkind = event\nunit = s\n' "$p"; done
}
{ metrics3 "$T/calls.db"; cat <<INI
[adapter.calls]
type = csv
path = $T/calls.csv
timeout = 5m
metric = response_p{Priority}
entity = seattle/{Precinct}/{Sector}/{Beat}
time = Original Time Queued
time_format = %m/%d/%Y %I:%M:%S %p
timezone = America/Los_Angeles
value = duration(Original Time Queued, Arrived Time)
key = CAD Event Number
where = Call Type != ONVIEW
INI
} > "$T/calls.ini"
metrics3 "$T/calls-base.db" > "$T/calls-base.ini"
t0=$(secs)
./sitrep collect --once --config "$T/calls.ini" > "$T/calls.out"
t1=$(secs)
./sitrep ingest --config "$T/calls-base.ini" "$T/calls-ingest.csv" > /dev/null
t2=$(secs)
ns=$(($(wc -l < "$T/calls-ingest.csv") - 1))
awk -v n="$CROWS" -v ns="$ns" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
    tc = b - a; ti = c - b;
    printf "csv adapter (collect --once: follow, libcsv, where, strptime + zone, duration, key): %.0f rows/s, %.0f samples/s (%.2f s)\n", n / tc, ns / tc, tc;
    printf "baseline: sitrep ingest of the same samples already mapped: %.0f samples/s (%.2f s)\n", ns / ti, ti;
    printf "ratio csv adapter / ingest: %.2fx\n", ti / tc }'
grep -o "[0-9]* rejected" "$T/calls.out" | awk '{ r += $1 } END { printf "rows rejected and kept (blank arrival): %d\n", r }'
rm -f "$T"/calls*

echo
echo "-- queries over $QROWS samples, 30 days --"
$B/gen_samples "$QROWS" 30 "$END" > "$T/q.csv"
metric_ini "$T/q.db" > "$T/q.ini"
t0=$(secs)
./sitrep ingest --config "$T/q.ini" "$T/q.csv" >/dev/null
t1=$(secs)
awk -v n="$QROWS" -v ts="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" 'BEGIN { printf "(loaded in %.1f s, %.0f rows/s)\n", ts, n / ts }'
rm -f "$T/q.csv"
$B/bench_query p90 "$T/q.ini" response_p1 "$END"
echo "(targets: 30-day p90 under 10 ms)"

echo
echo "-- overview frame on the simulator's 14-day history --"
export XDG_STATE_HOME="$T/state"
./sitrep collect --config config.ini > "$T/collect.log" 2>&1 &
pid=$!
deadline=$((SECONDS + 300))
until grep -qsE 'next in [1-9]' "$T/collect.log"; do
    if ! kill -0 $pid 2>/dev/null || ((SECONDS > deadline)); then
        echo "the collector did not finish its backfill:"; cat "$T/collect.log"; exit 1
    fi
    sleep 0.2
done
kill -TERM $pid; wait $pid || true
grep -E 'ok in' "$T/collect.log" | awk '{ n += $7; t += $5 } END { printf "simulator backfill: %d samples in %d polls, %.1f s of poll+write time\n", n, NR, t / 1000 }' || true
$B/bench_query frame config.ini
echo "(target: under 20 ms)"

echo
SECS=${BENCH_TUI_SECONDS:-60}
echo "-- the screen in tmux at 160x48, ${SECS} s each after 5 s of start-up, 1 s refresh --"
# measure: CPU % of one core, peak RSS, bytes written to the terminal per second
tui_run() { # name command...
    local name=$1; shift
    local sock="sitrep-bench-$$-$name"
    : > "$T/$name.out"
    tmux -L "$sock" -f /dev/null new-session -d -x 160 -y 48 -s b "$*"
    # steady state: the first frame and start-up are reported apart (first full frame)
    sleep 5
    tmux -L "$sock" pipe-pane -o -t b "cat >> $T/$name.out"
    local pid
    pid=$(tmux -L "$sock" display-message -p -t b '#{pane_pid}')
    local hz; hz=$(getconf CLK_TCK)
    local t0 c0; t0=$(date +%s.%N); c0=$(awk '{print $14+$15}' "/proc/$pid/stat")
    sleep "$SECS"
    local t1 c1 rss bytes
    t1=$(date +%s.%N); c1=$(awk '{print $14+$15}' "/proc/$pid/stat")
    rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    bytes=$(wc -c < "$T/$name.out")
    tmux -L "$sock" kill-server
    awk -v c0="$c0" -v c1="$c1" -v hz="$hz" -v t0="$t0" -v t1="$t1" -v rss="$rss" -v b="$bytes" -v n="$name" \
        'BEGIN { cpu = (c1 - c0) / hz / (t1 - t0) * 100; printf "%-10s CPU %.2f%% of a core, peak RSS %.1f MB, %.0f bytes/s to the terminal\n", n, cpu, rss / 1024, b / (t1 - t0) }' \
        | tee -a "$T/tui.txt"
}
tui_run baseline "env TERM=xterm-256color LANG=C.UTF-8 $PWD/$B/tui_baseline 9"
tui_run sitrep "env TERM=xterm-256color LANG=C.UTF-8 XDG_STATE_HOME=$XDG_STATE_HOME $PWD/sitrep --config $PWD/config.ini"
awk '/^baseline/ { bc = $3; bb = $(NF-4) } /^sitrep/ { sc = $3; sb = $(NF-4) }
     END { gsub("%", "", bc); gsub("%", "", sc);
           cpu = bc > 0 ? sprintf("%.1fx", sc / bc) : "n/a (the baseline used less than the clock tick)";
           printf "ratios sitrep / baseline: bytes/s %.1fx, CPU %s   (targets: CPU under 0.5%% of a core, bytes within 2x, RSS under 16 MB)\n", (bb > 0 ? sb / bb : 0), cpu }' "$T/tui.txt"
# time to the first full frame: from launch until the frame's last text is on the pane,
# for sitrep (the last panel's title, and no panel still 'updating': its figures, not
# a placeholder) and for the baseline (its last panel), so that tmux's own start-up
# and the 5 ms polling show in both
first_frame() { # pattern command...
    local pattern=$1; shift
    local sock="sitrep-bench-$$-first" start end screen
    start=$(date +%s%N)
    tmux -L "$sock" -f /dev/null new-session -d -x 160 -y 48 -s b "$*"
    local deadline=$((SECONDS + 30))
    until screen=$(tmux -L "$sock" capture-pane -p -t b) && grep -q "$pattern" <<< "$screen" &&
        ! grep -q updating <<< "$screen"; do
        ((SECONDS < deadline)) || { echo "(never saw '$pattern')" >&2; break; }
        sleep 0.005
    done
    end=$(date +%s%N)
    tmux -L "$sock" kill-server
    echo $(( (end - start) / 1000000 ))
}
fb=$(first_frame 'panel 9' "env TERM=xterm-256color LANG=C.UTF-8 $PWD/$B/tui_baseline 9")
fs=$(first_frame 'Calls for service' "env TERM=xterm-256color LANG=C.UTF-8 XDG_STATE_HOME=$XDG_STATE_HOME $PWD/sitrep --config $PWD/config.ini")
echo "first full frame: sitrep $fs ms, baseline $fb ms after launch (tmux start-up and 5 ms polling in both; sitrep's own share about $((fs - fb)) ms)   (target under 100 ms)"

echo
bench/force.sh
echo
bench/viewers.sh
bench/soak.sh
