#!/usr/bin/env bash
# bench/force.sh: a large force's year (issue 11), part of make bench; runs alone too.
#
# Two caches filled by `bench/gen_force | sitrep ingest -` (config bench/force.ini:
# three event metrics and three gauges on 4 regions x 16 districts x 4 units, 365 days):
# the big one with 18 M x BENCH_SCALE event samples, the small one, its baseline, with a
# hundredth of them. Each is kept in build/bench/ under a name made of its size, the
# generator's version and a digest of the code that writes a cache (every metrics/store*.c
# and store_int.h, cells.c, vals.c, sketch.c, app/ingest.c), and reused while younger than
# BENCH_FORCE_MAX_AGE hours (its data end when it was built, and the live windows end now).
# The figures are taken on a copy, so the kept caches stay as the generator made them.
# On the big cache, the page of bench/force_base.ini (tiles each against its normal) against
# the same page without baselines, and the cost of a forecast query.
# For each cache, on the page of bench/force.ini (every panel over 30 days):
#   - the page's compute: the page at 160x48 through the screen's own code, headless
#     (build/bench/bench_query page), median of runs;
#   - the dashboard's first full frame in tmux, as run.sh measures it, and its peak RSS
#     until then (no collector runs: the dashboard is its own, with a writer's handle);
#   - a viewer's CPU (refresh 1 s) while `sitrep collect` polls an exec source every
#     5 s: per refresh with no new data (20 s, the empty polls' status rows among them),
#     and for one poll that adds 3 samples (from that poll's commit until the viewer has
#     been quiet for 2 s: its refresh of the new data, less what its idle refreshes cost
#     over that time at the rate just measured); CPU is the sum over the process's
#     threads of /proc/PID/task/TID/schedstat, in ns;
#   - the viewer's peak RSS (VmHWM), and what is resident at the end: anonymous memory
#     (the heap, SQLite's page caches among it) and file-backed (the libraries);
#   - p90 over 24 h (exact, from raw) and over 30 days (build/bench/bench_query p90);
#   - the page's compute after one poll of 3 new samples, written by another handle
#     (build/bench/bench_query poll): what a viewer computes per poll, without its
#     terminal.
# Then, on the big cache: bytes written per empty poll (/proc/PID/io of a `sitrep
# collect` whose exec source prints nothing), and the WAL's size after an hour of polls
# (720 polls of 3 samples, the 5 s interval replayed at 100 ms).
#   BENCH_SCALE            the big cache's share of 18 M event samples (default 1)
#   BENCH_FORCE_MAX_AGE    hours a kept cache is reused (default 12)
#   BENCH_FORCE_POLLS      polls of new data measured, the median printed (default 3)
#   BENCH_WAL_POLLS        polls of the WAL figure (default 720)
# Prints figures; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
B=build/bench
SCALE=${BENCH_SCALE:-1}
MAXAGE=${BENCH_FORCE_MAX_AGE:-12}
NPOLLS=${BENCH_FORCE_POLLS:-3}
WALPOLLS=${BENCH_WAL_POLLS:-720}
BIG=$(awk -v s="$SCALE" 'BEGIN { printf "%d", 18000000 * s }')
SMALL=$((BIG / 100))
HZ=$(getconf CLK_TCK)
T=$(mktemp -d "${TMPDIR:-/tmp}/sitrep-force-XXXXXX")
SOCK="sitrep-force-$$"
cpid=
cleanup() {
    tmux -L "$SOCK" kill-server 2>/dev/null || true
    if [[ -n $cpid ]]; then kill -TERM "$cpid" 2>/dev/null || true; wait "$cpid" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT

secs() { date +%s.%N; }
# lines of file $2 holding text $1 (0 before the file exists)
count() { if [[ -f $2 ]]; then awk -v t="$1" 'index($0, t) { n++ } END { print n + 0 }' "$2"; else echo 0; fi; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# CPU time of process $1 in ns, all its threads (the pool's computes among them)
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2> /dev/null | awk '{ s += $1 } END { printf "%d\n", s }'; }
# the config of bench/force.ini on cache $1, with lines $2 (sources) appended
force_ini() {
    sed -e "s|^cache = .*|cache = $1|" bench/force.ini
    printf '%s' "${2:-}"
}

# Starts `sitrep collect` (pid in cpid) on cache $1 with one exec source named $2,
# polled every $3, running $4; its config is $T/$2.ini, its log $T/$2.log.
collector() {
    force_ini "$1" "
[adapter.$2]
type = exec
interval = $3
command = $4
" > "$T/$2.ini"
    rm -f "$T/$2.log"
    ./sitrep collect --config "$T/$2.ini" --log "$T/$2.log" > /dev/null 2>&1 &
    cpid=$!
}

# Prints the path of a kept cache of $1 event samples, building it first if needed.
cache_of() {
    local n=$1 digest key db
    digest=$(cat metrics/store*.c metrics/store_int.h metrics/cells.c metrics/vals.c metrics/sketch.c app/ingest.c |
        sha1sum | cut -c1-12)
    key="force-$n-g$($B/gen_force --version)-$digest"
    db="$PWD/$B/$key.db"
    if [[ -f $db && -f $B/$key.end ]] && (($(date +%s) - $(cat "$B/$key.end") < MAXAGE * 3600)); then
        echo "  (reused $B/$key.db, data to $(date -u -d "@$(cat "$B/$key.end")" +%FT%TZ))" >&2
        echo "$db"
        return
    fi
    rm -f "$B"/force-"$n"-*
    local end t0 t1
    end=$(date +%s)
    force_ini "$db" > "$T/build.ini"
    t0=$(secs)
    $B/gen_force "$n" 365 "$end" | ./sitrep ingest --config "$T/build.ini" - > /dev/null
    t1=$(secs)
    echo "$end" > "$B/$key.end"
    awk -v n="$n" -v a="$t0" -v b="$t1" -v sz="$(du -m "$db" | cut -f1)" 'BEGIN {
        printf "  (built %d event samples and the gauges through sitrep ingest in %.0f s, %.0f rows/s; %d MB)\n",
               n, b - a, n / (b - a), sz }' >&2
    echo "$db"
}

# Time (ms) from launch to a full first frame of the dashboard on config $1: the last
# panel's title and the table's rows on the pane, and no panel still 'updating' (data,
# not a placeholder); then its peak RSS (KiB) by then.
first_frame() {
    local sock="$SOCK-first" start end
    start=$(date +%s%N)
    tmux -L "$sock" -f /dev/null new-session -d -x 160 -y 48 -s b \
        "exec env TERM=xterm-256color LANG=C.UTF-8 XDG_STATE_HOME=$T/state $PWD/sitrep --config $1"
    local deadline=$((SECONDS + 600)) screen
    while :; do
        screen=$(tmux -L "$sock" capture-pane -p -t b)
        if grep -q 'P1 trend, 30 days' <<< "$screen" && grep -q '^│west ' <<< "$screen" &&
            ! grep -q updating <<< "$screen"; then break; fi
        ((SECONDS < deadline)) || { echo "(never saw the full first frame)" >&2; break; }
        sleep 0.005
    done
    end=$(date +%s%N)
    local pid rss
    pid=$(tmux -L "$sock" display-message -p -t b '#{pane_pid}')
    rss=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status" 2> /dev/null || echo 0)
    tmux -L "$sock" kill-server
    echo $(((end - start) / 1000000)) "$rss"
}

# Waits until process $1 has used no more than $2 ticks in each of two 1 s intervals.
quiet() {
    local p=$1 slack=$2 a b n=0 deadline=$((SECONDS + 900))
    a=$(cpu_ticks "$p")
    while ((n < 2 && SECONDS < deadline)); do
        sleep 1
        b=$(cpu_ticks "$p")
        if ((b - a <= slack)); then n=$((n + 1)); else n=0; fi
        a=$b
    done
}

# The viewer figures on copy $1 of a cache, labelled $2: prints one line
# "LABEL idle_ms_per_refresh data_ms_per_poll peak_rss_kib anon_kib file_kib".
viewer() {
    local db=$1 label=$2
    cat > "$T/emit.sh" <<SH
if [ -e "$T/trigger" ]; then
    rm -f "$T/trigger"
    echo "response_p1 force/north/district-1/unit-1 700"
    echo "response_p1 force/south/district-7/unit-2 1300"
    echo "response_p1 force/west/district-16/unit-4 450"
fi
SH
    collector "$db" cad 5s "/bin/sh $T/emit.sh"
    local deadline=$((SECONDS + 60))
    until grep -qs 'cad: ok' "$T/cad.log"; do
        ((SECONDS < deadline)) || { echo "the collector did not poll" >&2; exit 1; }
        sleep 0.1
    done
    tmux -L "$SOCK" -f /dev/null new-session -d -x 160 -y 48 -s v \
        "exec env TERM=xterm-256color LANG=C.UTF-8 XDG_STATE_HOME=$T/state $PWD/sitrep --config $T/cad.ini"
    local pid
    pid=$(tmux -L "$SOCK" display-message -p -t v '#{pane_pid}')
    deadline=$((SECONDS + 600))
    until tmux -L "$SOCK" capture-pane -p -t v | grep -q '^│west '; do
        ((SECONDS < deadline)) || { echo "the viewer never drew its page" >&2; exit 1; }
        sleep 0.05
    done
    quiet "$pid" 1
    # idle: 20 refreshes, the collector's empty polls (status rows only) among them
    local c0 c1 t0 t1 idle
    c0=$(cpu_ns "$pid"); t0=$(secs)
    sleep 20
    c1=$(cpu_ns "$pid"); t1=$(secs)
    idle=$(awk -v c="$((c1 - c0))" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", c / 1e9 / (b - a) }')
    # one poll of new data at a time: from the trigger until the viewer is quiet again
    local k costs=() new
    for ((k = 0; k < NPOLLS; k++)); do
        new=$(grep -c '[1-9][0-9]* new' "$T/cad.log" || true)
        touch "$T/trigger"
        deadline=$((SECONDS + 30))
        # from the poll's commit (seen in the log within 20 ms; the viewer looks once a second)
        until (($(grep -c '[1-9][0-9]* new' "$T/cad.log" || true) > new)); do
            ((SECONDS < deadline)) || { echo "the poll of new data never came" >&2; exit 1; }
            sleep 0.02
        done
        c0=$(cpu_ns "$pid"); t0=$(secs)
        sleep 1.5 # the viewer's next refresh sees the commit
        quiet "$pid" 1
        c1=$(cpu_ns "$pid"); t1=$(secs)
        # less what its idle refreshes over the same time cost (measured above)
        costs+=("$(awk -v c="$((c1 - c0))" -v i="$idle" -v a="$t0" -v b="$t1" \
            'BEGIN { x = c / 1e6 - i * 1000 * (b - a); printf "%.1f", x < 0 ? 0 : x }')")
    done
    local rss
    rss=$(awk '$1 == "VmHWM:" { h = $2 } $1 == "RssAnon:" { a = $2 } $1 == "RssFile:" { f = $2 }
               END { print h, a, f }' "/proc/$pid/status")
    tmux -L "$SOCK" kill-server
    kill -TERM "$cpid"; wait "$cpid" || true; cpid=
    printf '%s %s %s %s\n' "$label" "$(awk -v i="$idle" 'BEGIN { printf "%.2f", i * 1000 }')" \
        "$(printf '%s\n' "${costs[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')" "$rss"
}

echo "-- a large force's year: ${BIG} event samples over 365 days (BENCH_SCALE=$SCALE), against ${SMALL} --"
big_kept=$(cache_of "$BIG")
small_kept=$(cache_of "$SMALL")
t0=$(secs)
cp --sparse=always "$big_kept" "$T/big.db"
cp --sparse=always "$small_kept" "$T/small.db"
force_ini "$T/big.db" > "$T/big.ini"
force_ini "$T/small.db" > "$T/small.ini"
END=$(cat "${big_kept%.db}.end")
SEND=$(cat "${small_kept%.db}.end")
awk -v a="$t0" -v b="$(secs)" -v sz="$(du -m "$T/big.db" | cut -f1)" 'BEGIN { printf "(copied for the run in %.1f s: %d MB)\n", b - a, sz }'

runs=$(awk -v s="$SCALE" 'BEGIN { print (s >= 0.5 ? 3 : 7) }')
read -r pb1 pb < <($B/bench_query page "$T/big.ini" "$END" "$runs")
read -r ps1 ps < <($B/bench_query page "$T/small.ini" "$SEND" 15)
awk -v b="$pb" -v s="$ps" -v b1="$pb1" -v s1="$ps1" -v nb="$BIG" -v ns="$SMALL" 'BEGIN {
    printf "page compute (5 panels of 30 days, 160x48, the screen'"'"'s code headless), a refresh (median of the runs after the first): %.1f ms on %d samples, %.1f ms on %d   ratio %.1fx   (target <= 2x)\n",
           b, nb, s, ns, b / s;
    printf "page compute, first run in a process (a one-shot snapshot: nothing memoised yet): %.1f ms on %d samples, %.1f ms on %d   ratio %.1fx\n",
           b1, nb, s1, ns, b1 / s1 }'

# the page of bench/force_base.ini (tiles of 1 h to 7 d, each against its normal) on the big
# cache, and the same page with every `baseline = yes` taken out, in the same run
force_ini "$T/big.db" | sed '/^\[panel\./,$d' | cat - bench/force_base.ini > "$T/base.ini"
grep -v '^baseline = yes' "$T/base.ini" > "$T/nobase.ini"
read -r pn1 pn < <($B/bench_query page "$T/nobase.ini" "$END" 9)
read -r pw1 pw < <($B/bench_query page "$T/base.ini" "$END" 9)
# as a live screen refreshes: the windows move 1 s each time, so no window of the last
# refresh is asked again (the memo, keyed by a window's exact ends, answers none of them)
read -r _ mn < <($B/bench_query page "$T/nobase.ini" "$END" 9 1)
read -r _ mw < <($B/bench_query page "$T/base.ini" "$END" 9 1)
awk -v n="$pn" -v w="$pw" -v n1="$pn1" -v w1="$pw1" -v mn="$mn" -v mw="$mw" -v nb="$BIG" 'BEGIN {
    printf "page with baselines (6 tiles of 1 h to 7 d, each against its normal: 8 weeks, 2 slices running) on %d samples, a refresh as a live screen makes it (the windows 1 s later each time; median of 8 after the first): %.1f ms, the same page without baselines %.1f ms   ratio %.2fx   (target <= 2x)\n",
           nb, mw, mn, mw / mn;
    printf "the same, the windows unchanged (a refresh with nothing new, every figure asked again): %.1f ms with baselines, %.1f ms without   ratio %.2fx\n",
           w, n, w / n;
    printf "the same, first run in a process (a one-shot snapshot): %.1f ms with baselines, %.1f ms without   ratio %.2fx\n",
           w1, n1, w1 / n1 }'
read -r fc1 fc fcs < <($B/bench_query forecast "$T/base.ini" response_p1 "$END" 5)
echo "forecast (sitrep query response_p1 --agg forecast:count, the whole force, next 8 h and its 4 weeks' backtest: 684 hourly slices, each with its 8-week baseline) on $BIG samples: $fc1 ms first in a process, $fc ms again (median of 4)   ($fcs)"

read -r fb fbr < <(first_frame "$T/big.ini")
read -r fs fsr < <(first_frame "$T/small.ini")
echo "dashboard first full frame (tmux 160x48, from launch): $fb ms on $BIG samples, $fs ms on $SMALL   ratio $(awk -v a="$fb" -v b="$fs" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }')   (target < 100 ms, ratio <= 2x)"

read -r _ bi bd br ba bf < <(viewer "$T/big.db" big)
read -r _ si sd sr _ _ < <(viewer "$T/small.db" small)
echo "viewer CPU per refresh (1 s), no new data (the collector's empty polls every 5 s): $bi ms on $BIG samples, $si ms on $SMALL"
echo "viewer CPU for one poll of 3 new samples (from its commit until quiet, less its idle refreshes over that time; median of $NPOLLS): $bd ms on $BIG samples, $sd ms on $SMALL   (target < 5 ms)"
awk -v b="$br" -v s="$sr" -v a="$ba" -v f="$bf" 'BEGIN {
    printf "viewer peak RSS: %.1f MB on the big cache (resident at the end: %.1f MB anonymous, %.1f MB file-backed), %.1f MB on the small   (target < 16 MB)\n",
           b / 1024, a / 1024, f / 1024, s / 1024 }'
awk -v b="$fbr" -v s="$fsr" 'BEGIN {
    printf "dashboard as its own collector (no other running), peak RSS by its first frame: %.1f MB on the big cache, %.1f MB on the small   (target < 16 MB)\n",
           b / 1024, s / 1024 }'

echo "p90 on the big cache:"
$B/bench_query p90 "$T/big.ini" response_p1 "$END" | sed 's/^/  /'
echo "p90 on the small cache:"
$B/bench_query p90 "$T/small.ini" response_p1 "$SEND" | sed 's/^/  /'
# (adds 21 samples to each copy, after END: nothing above reads them)
pp=$($B/bench_query poll "$T/big.ini" "$END" response_p1)
sp=$($B/bench_query poll "$T/small.ini" "$SEND" response_p1)
echo "page compute after one poll of 3 new samples (the screen's code headless, no terminal; median of 7 polls 5 s apart): $pp ms on $BIG samples, $sp ms on $SMALL   ratio $(awk -v a="$pp" -v b="$sp" 'BEGIN { printf "%.1fx", a / b }')"

# bytes written per empty poll: a collector whose source prints nothing, every 100 ms
collector "$T/big.db" quiet 100ms /bin/true
polls() { count 'quiet: ok' "$T/quiet.log"; }
io() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/io"; }
deadline=$((SECONDS + 60))
until (($(polls) >= 5)); do
    ((SECONDS < deadline)) || { echo "the quiet collector did not poll"; exit 1; }
    sleep 0.1
done
p0=$(polls); w0=$(io "$cpid" wchar); b0=$(io "$cpid" write_bytes); l0=$(stat -c %s "$T/quiet.log")
until (($(polls) >= p0 + 50)); do sleep 0.1; done
p1=$(polls); w1=$(io "$cpid" wchar); b1=$(io "$cpid" write_bytes); l1=$(stat -c %s "$T/quiet.log")
kill -TERM "$cpid"; wait "$cpid" || true; cpid=
pagesize=$(sqlite3 "file:$T/big.db?mode=ro" 'PRAGMA page_size' 2>/dev/null || echo 16384)
awk -v n="$((p1 - p0))" -v w="$((w1 - w0))" -v b="$((b1 - b0))" -v l="$((l1 - l0))" -v ps="$pagesize" 'BEGIN {
    printf "bytes written per empty poll (%d polls): %.0f to the cache (wchar less the log'"'"'s %.0f), %.0f reaching the disk (write_bytes)   baseline: the status row alone, one page in the WAL = %d bytes\n",
           n, (w - l) / n, l / n, b / n, ps + 24 }'

# the WAL after an hour of polls at the 5 s interval, each adding 3 samples
cat > "$T/hour.sh" <<'SH'
echo "response_p1 force/north/district-1/unit-1 700"
echo "response_p2 force/east/district-3/unit-2 2000"
echo "response_p3 force/west/district-9/unit-3 8000"
SH
t0=$(secs)
collector "$T/big.db" hour 100ms "/bin/sh $T/hour.sh"
hw0=$(io "$cpid" wchar)
maxwal=0
until (($(count 'hour: ok' "$T/hour.log") >= WALPOLLS)); do
    kill -0 "$cpid" 2>/dev/null || { echo "the collector died"; exit 1; }
    w=$(stat -c %s "$T/big.db-wal" 2>/dev/null || echo 0)
    ((w > maxwal)) && maxwal=$w
    sleep 0.2
done
wal=$(stat -c %s "$T/big.db-wal" 2>/dev/null || echo 0)
((wal > maxwal)) && maxwal=$wal
hw1=$(io "$cpid" wchar)
hp=$(count 'hour: ok' "$T/hour.log")
kill -TERM "$cpid"; wait "$cpid" || true; cpid=
awk -v n="$WALPOLLS" -v hb="$((hw1 - hw0))" -v hp="$hp" -v w="$wal" -v m="$maxwal" -v a="$t0" -v b="$(secs)" 'BEGIN {
    printf "WAL after an hour of polls (%d polls of 3 samples, the 5 s interval replayed at 100 ms in %.0f s): %.2f MB, at most %.2f MB   (bound: journal_size_limit 16 MB)\n",
           n, b - a, w / 1048576, m / 1048576;
    printf "bytes written per poll of 3 samples: %.0f (wchar, the log included)\n", hb / hp }'
