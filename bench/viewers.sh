#!/usr/bin/env bash
# bench/viewers.sh: one `sitrep collect` on the simulator's config and N dashboards as
# viewers of its cache, each in its own window of one tmux server (own socket, COLSxROWS),
# at a 1 s refresh. After a start-up of STARTUP s, the viewers' CPU is measured over SECS s
# from /proc/PID/stat (utime + stime deltas), then each one's RSS and PSS. Prints figures;
# asserts nothing. Run by bench/run.sh; alone: bench/viewers.sh
#   BENCH_VIEWERS          how many viewers (default 50)
#   BENCH_VIEWER_SECONDS   the measured steady run (default 60)
#   BENCH_VIEWER_BACKFILL  the simulator's history (default 14d, as config.ini)
#   BENCH_VIEWER_SIZE      the windows' size (default 80x24)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_VIEWERS:-50}
SECS=${BENCH_VIEWER_SECONDS:-60}
BACKFILL=${BENCH_VIEWER_BACKFILL:-14d}
SIZE=${BENCH_VIEWER_SIZE:-80x24}
STARTUP=10
T=$(mktemp -d "${TMPDIR:-/tmp}/sitrep-viewers-XXXXXX")
SOCK="sitrep-bench-viewers-$$"
cpid=
pids=()
cleanup() {
    tmux -L "$SOCK" kill-server 2>/dev/null || true
    # the viewers end on the hangup; wait for them before removing their cache
    local p i
    for p in "${pids[@]}"; do
        i=0
        while [[ -d /proc/$p ]] && ((i++ < 50)); do sleep 0.1; done
    done
    if [[ -n $cpid ]]; then kill -TERM "$cpid" 2>/dev/null || true; wait "$cpid" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT

echo "-- $N viewers and one collector on the simulator, tmux ${SIZE}, 1 s refresh, ${SECS} s after ${STARTUP} s of start-up --"
sed -e "s|^;cache = .*|cache = $T/sim.db|" -e "s/^;backfill = .*/backfill = $BACKFILL/" \
    -e 's/^refresh = .*/refresh = 1s/' config.ini > "$T/sim.ini"
./sitrep collect --config "$T/sim.ini" --log "$T/collect.log" > /dev/null 2>&1 &
cpid=$!
deadline=$((SECONDS + 300))
until grep -qE 'next in [1-9]' "$T/collect.log" 2>/dev/null; do
    if ! kill -0 "$cpid" 2>/dev/null || ((SECONDS > deadline)); then
        echo "the collector did not finish its backfill:"; cat "$T/collect.log"; exit 1
    fi
    sleep 0.2
done

cmd="exec env TERM=xterm-256color LANG=C.UTF-8 $PWD/sitrep --config $T/sim.ini"
tmux -L "$SOCK" -f /dev/null new-session -d -x "${SIZE%x*}" -y "${SIZE#*x}" -s v "$cmd"
for ((i = 2; i <= N; i++)); do
    tmux -L "$SOCK" new-window -d -t v "$cmd"
done
sleep "$STARTUP"
mapfile -t pids < <(tmux -L "$SOCK" list-panes -s -t v -F '#{pane_pid}')
viewers=0
for ((i = 0; i < N; i++)); do
    if tmux -L "$SOCK" capture-pane -p -t "v:$i" | grep -q 'viewer'; then viewers=$((viewers + 1)); fi
done
echo "running: ${#pids[@]} dashboards, $viewers of them showing 'viewer' in the status bar"

ticks() { # sum of utime + stime of the pids given
    local s=0 p v
    for p in "$@"; do
        v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
        s=$((s + v))
    done
    echo "$s"
}
hz=$(getconf CLK_TCK)
t0=$(date +%s.%N); c0=$(ticks "${pids[@]}"); k0=$(ticks "$cpid")
sleep "$SECS"
t1=$(date +%s.%N); c1=$(ticks "${pids[@]}"); k1=$(ticks "$cpid")

: > "$T/mem"
for p in "${pids[@]}"; do
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    pss=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo -)
    echo "$rss ${pss:--}" >> "$T/mem"
done
awk -v c0="$c0" -v c1="$c1" -v k0="$k0" -v k1="$k1" -v hz="$hz" -v t0="$t0" -v t1="$t1" -v n="${#pids[@]}" 'BEGIN {
    el = t1 - t0; cpu = (c1 - c0) / hz / el * 100;
    printf "viewers together: CPU %.2f%% of a core (%.3f%% each on average)   (target: under 10%% together)\n", cpu, cpu / n;
    printf "collector: CPU %.2f%% of a core\n", (k1 - k0) / hz / el * 100 }'
mem() { # column label
    sort -n -k"$1" "$T/mem" | awk -v c="$1" -v l="$2" '$c != "-" { v[n++] = $c }
        END { if (!n) { printf "%s: not readable\n", l; exit }
              printf "%s per viewer: min %.1f MB, median %.1f MB, max %.1f MB (sum %.0f MB)\n", l,
                     v[0] / 1024, v[int(n / 2)] / 1024, v[n - 1] / 1024, s / 1024 }
        { s += ($c != "-") ? $c : 0 }'
}
mem 1 "RSS"
mem 2 "PSS"
