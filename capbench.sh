#!/usr/bin/env bash
# capbench.sh — run a benchmark command under a memory cap that counts the
# page cache (a memory cgroup, v1 or v2), from a cold cache, and report what
# decides speed there: tokens/s, time to first token, peak cgroup memory,
# major faults, bytes read from disk, expert hit rate (q3m) and the bound
#   max(uncapped time, bytes read ÷ the disk's random-read bandwidth),
# the bandwidth measured with O_DIRECT reads of one expert's size
# (scripts/randread). Needs root (cgroups, drop_caches), GNU time at
# /usr/bin/time, and Go for scripts/randread unless --bw is given.
#
#   ./capbench.sh --file M.gguf --cap 50% -- q3m bench -m M.gguf -p 16 -n 32 -r 1 -t 2
#   ./capbench.sh --file M.gguf --cap 50% --label direct -- q3m bench -m M.gguf -p 16 -n 32 -r 1 -t 2 --expert-io direct
#   ./capbench.sh --file M.gguf --cap 768MiB --uncapped -- "$LLAMA_BENCH" -m M.gguf -p 16 -n 32 -r 1 -t 2
#
# The command's output is kept in the run directory (printed at the end).
# Tokens/s are read from the markdown table both q3m bench and llama-bench
# print (| ... | pp16 | 8.05 ± 0.10 |); TTFT is the prompt's tokens ÷ the
# pp rate. With q3m bench, the decode's own disk bound is also given: the
# bandwidth ÷ the expert bytes read per decoded token (its "expert hits"
# line), the bound the issue's uniform-routing target is set against.
# The script never builds anything but scripts/randread.
set -euo pipefail

usage() {
	cat >&2 <<'EOF'
usage: capbench.sh --cap SIZE [--file FILE] [options] -- COMMAND [ARGS...]
  --cap SIZE        memory cap including page cache: 1536MiB, 3G, 805306368, or P% of --file
  --file FILE       the model file (for P% caps and the bandwidth test)
  --timeout SEC     kill the command after SEC seconds (default 300)
  --uncapped        first run the command once without a cap, file in the page cache,
                    for the compute side of the bound
  --uncapped-s SEC  the uncapped time from an earlier --uncapped run, instead of one
  --bw MB/s         random-read bandwidth to use instead of measuring it
  --no-drop         do not drop the page cache before the capped run
  --label TEXT      first column of the result row
EOF
	exit 2
}

die() { echo "capbench: $*" >&2; exit 1; }

CAP="" FILE="" TIMEOUT=300 UNCAPPED=0 UNCAPPED_S="" BW="" DROP=1 LABEL=""
while [[ $# -gt 0 ]]; do
	case "$1" in
	--cap) CAP=${2:?}; shift 2 ;;
	--file) FILE=${2:?}; shift 2 ;;
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	--uncapped) UNCAPPED=1; shift ;;
	--uncapped-s) UNCAPPED_S=${2:?}; shift 2 ;;
	--bw) BW=${2:?}; shift 2 ;;
	--no-drop) DROP=0; shift ;;
	--label) LABEL=${2:?}; shift 2 ;;
	--) shift; break ;;
	*) usage ;;
	esac
done
[[ $# -gt 0 && -n "$CAP" ]] || usage
[[ $EUID -eq 0 ]] || die "needs root: memory cgroups and drop_caches"
[[ -x /usr/bin/time ]] || die "needs GNU time at /usr/bin/time (apt-get install time)"
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die "--timeout $TIMEOUT: want whole seconds"
if [[ -n "$FILE" ]]; then [[ -f "$FILE" ]] || die "--file $FILE: not a regular file"; fi
HERE=$(cd "$(dirname "$0")" && pwd)

# to_bytes SIZE: 1536MiB, 1.5G, 1536M, 805306368 → bytes; P% → P% of --file.
to_bytes() {
	local s=$1
	if [[ "$s" =~ ^([0-9]+(\.[0-9]+)?)%$ ]]; then
		[[ -n "$FILE" ]] || die "--cap $s: a percentage needs --file"
		awk -v p="${BASH_REMATCH[1]}" -v n="$(stat -c %s "$FILE")" 'BEGIN { printf "%d\n", n * p / 100 }'
		return
	fi
	s=${s%B}
	case "$s" in
	*i) numfmt --from=iec-i "$s" ;;
	*) numfmt --from=iec "$s" ;;
	esac 2>/dev/null || die "--cap $1: not a size"
}
CAP_BYTES=$(to_bytes "$CAP")
(( CAP_BYTES >= 64 * 1024 * 1024 )) || die "--cap $CAP: below 64 MiB, the command could not even start"

RUN=$(mktemp -d /tmp/capbench.XXXXXX)
echo "capbench: run directory $RUN"
echo "capbench: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# Table rows as both q3m bench and llama-bench print them: | … | tg32 | 6.35 ± 0.10 |
rate() { # rate FILE pp|tg → "N RATE" of the first such row, or nothing
	awk -F'|' -v k="$2" '{
		for (i = 2; i < NF; i++) {
			f = $i; gsub(/ /, "", f)
			if (f ~ "^" k "[0-9]+$") { n = substr(f, 3); r = $(i + 1); sub(/±.*/, "", r); gsub(/ /, "", r); print n, r; exit }
		}
	}' "$1"
}

# --- the disk's random-read bandwidth (O_DIRECT, 3 MiB reads) ---
if [[ -z "$BW" ]]; then
	[[ -n "$FILE" ]] || die "the bandwidth test needs --file (or give --bw)"
	command -v go >/dev/null || die "the bandwidth test needs Go (or give --bw)"
	(cd "$HERE" && go build -o "$RUN/randread" ./scripts/randread) || die "building scripts/randread failed"
	"$RUN/randread" -size 3145728 -n 64 -j 1 "$FILE" | tee "$RUN/randread.txt"
	BW=$(awk '{ print $(NF-1) }' "$RUN/randread.txt")
fi
[[ "$BW" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "bandwidth $BW: not a number of MB/s"

# --- optional uncapped, warm run: the compute side of the bound ---
[[ -z "$UNCAPPED_S" || "$UNCAPPED_S" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--uncapped-s $UNCAPPED_S: not a number of seconds"
if (( UNCAPPED )); then
	[[ -n "$FILE" ]] && cat "$FILE" >/dev/null
	s=$(date +%s.%N)
	timeout -s KILL "$TIMEOUT" "$@" >"$RUN/uncapped.out" 2>&1 || die "uncapped run failed, see $RUN/uncapped.out"
	UNCAPPED_S=$(awk -v a="$s" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
	echo "capbench: uncapped warm run: ${UNCAPPED_S} s; $(rate "$RUN/uncapped.out" tg | awk '{ print "tg" $1 " " $2 " t/s" }')"
fi

# --- the memory cgroup ---
CG="" CGIO="" V=""
if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
	V=2
	grep -qw memory /sys/fs/cgroup/cgroup.subtree_control || echo +memory >/sys/fs/cgroup/cgroup.subtree_control
	grep -qw io /sys/fs/cgroup/cgroup.subtree_control || echo +io >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
	CG=/sys/fs/cgroup/capbench.$$
	mkdir "$CG"
	echo "$CAP_BYTES" >"$CG/memory.max"
	[[ -f "$CG/memory.swap.max" ]] && echo 0 >"$CG/memory.swap.max"
	[[ -f "$CG/io.stat" ]] && CGIO=$CG
elif [[ -d /sys/fs/cgroup/memory ]]; then
	V=1
	CG=/sys/fs/cgroup/memory/capbench.$$
	mkdir "$CG"
	echo "$CAP_BYTES" >"$CG/memory.limit_in_bytes"
	[[ -f "$CG/memory.memsw.limit_in_bytes" ]] && echo "$CAP_BYTES" >"$CG/memory.memsw.limit_in_bytes"
	if [[ -d /sys/fs/cgroup/blkio ]]; then
		CGIO=/sys/fs/cgroup/blkio/capbench.$$
		mkdir "$CGIO"
	fi
else
	die "no memory cgroup controller under /sys/fs/cgroup"
fi
cleanup() {
	for d in "$CG" "$CGIO"; do
		[[ -n "$d" && -d "$d" ]] || continue
		# The processes left are the command's (GNU time does not pass on
		# the timeout's kill): end them by id, then remove the group.
		for i in 1 2 3 4 5 6 7 8 9 10; do
			pids=$(cat "$d/cgroup.procs" 2>/dev/null || true)
			[[ -z "$pids" ]] && break
			kill -9 $pids 2>/dev/null || true
			sleep 0.2
		done
		rmdir "$d" 2>/dev/null || true
	done
}
trap cleanup EXIT
echo "capbench: cgroup v$V, cap $(numfmt --to=iec-i --suffix=B "$CAP_BYTES") ($CAP_BYTES bytes)${FILE:+, file $(numfmt --to=iec-i --suffix=B "$(stat -c %s "$FILE")")}"

if (( DROP )); then
	sync
	echo 3 >/proc/sys/vm/drop_caches
fi

# --- the capped, cold run ---
LOAD=$(cut -d' ' -f1 /proc/loadavg)
s=$(date +%s.%N)
set +e
timeout -s KILL "$TIMEOUT" bash -c '
	for d in "$1" "$2"; do [[ -n "$d" ]] && echo $$ >"$d/cgroup.procs"; done
	shift 2
	exec /usr/bin/time -v -o "$0" "$@"' "$RUN/time.txt" "$CG" "$CGIO" "$@" >"$RUN/capped.out" 2>&1
RC=$?
set -e
WALL=$(awk -v a="$s" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
LOAD_AFTER=$(cut -d' ' -f1 /proc/loadavg)

# --- what the cgroup and time saw ---
stat_of() { awk -v k="$2" '$1 == k { print $2; exit }' "$1" 2>/dev/null; }
if [[ $V == 2 ]]; then
	PEAK=$(cat "$CG/memory.peak" 2>/dev/null || true)
	CGMAJ=$(stat_of "$CG/memory.stat" pgmajfault || true)
	OOM=$(stat_of "$CG/memory.events" oom_kill || true)
	CGREAD=$([[ -n "$CGIO" ]] && awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^rbytes=/) { sub(/rbytes=/, "", $i); n += $i } } END { print n + 0 }' "$CGIO/io.stat" || true)
else
	PEAK=$(cat "$CG/memory.max_usage_in_bytes")
	CGMAJ=$(stat_of "$CG/memory.stat" pgmajfault || true)
	OOM=$(stat_of "$CG/memory.oom_control" oom_kill || true)
	CGREAD=$([[ -n "$CGIO" ]] && awk '$2 == "Read" { n += $3 } END { print n + 0 }' "$CGIO/blkio.throttle.io_service_bytes" 2>/dev/null || true)
fi
MAJ=$(awk -F': ' '/Major \(requiring I\/O\) page faults/ { print $2 }' "$RUN/time.txt" 2>/dev/null || true)
FSIN=$(awk -F': ' '/File system inputs/ { print $2 * 512 }' "$RUN/time.txt" 2>/dev/null || true)
KILLED=$(grep -o 'terminated by signal [0-9]*' "$RUN/time.txt" 2>/dev/null || true)
READ=${CGREAD:-$FSIN}
[[ -z "$READ" || "$READ" == 0 ]] && READ=${FSIN:-0}

read -r PN PP < <(rate "$RUN/capped.out" pp || true) || true
read -r TN TG < <(rate "$RUN/capped.out" tg || true) || true
TTFT=""
[[ -n "${PP:-}" ]] && TTFT=$(awk -v n="$PN" -v r="$PP" 'BEGIN { if (r > 0) printf "%.2f", n / r }')
HITS=$(grep -o 'hits [0-9]*, misses [0-9]*' "$RUN/capped.out" | tail -1 | awk '{ h = $2 + 0; m = $4 + 0; if (h + m) printf "%.1f%%", 100 * h / (h + m) }' || true)
TOKENS=$(( ${PN:-0} + ${TN:-0} ))
DISK_S=$(awk -v b="$READ" -v bw="$BW" 'BEGIN { printf "%.2f", b / (bw * 1e6) }')
BOUND_S=$(awk -v d="$DISK_S" -v u="${UNCAPPED_S:-0}" 'BEGIN { printf "%.2f", (u > d ? u : d) }')
# q3m bench's per-test expert reads: "tg64, 2 threads: expert hits 88.1%, 116.2 MiB of experts read per token"
# → the decode's disk bound in tokens/s (bandwidth ÷ expert bytes read per token).
TGBOUND=$(awk -v bw="$BW" '/^tg[0-9]+, .*of experts read per token/ {
	for (i = 1; i <= NF; i++) if ($i == "of" && $(i + 1) == "experts") { v = $(i - 2); u = $(i - 1) }
	m = (u == "KiB") ? 1024 : (u == "MiB") ? 1048576 : (u == "GiB") ? 1073741824 : 1
	if (v * m > 0) printf "%.2f", bw * 1e6 / (v * m); exit
}' "$RUN/capped.out")
TGLINE=""
if [[ -n "$TGBOUND" ]]; then
	TGLINE="capbench: decode's disk bound: ${TGBOUND} t/s (experts read per token ÷ ${BW} MB/s); tg ${TG:-–} t/s is $(awk -v t="${TG:-0}" -v b="$TGBOUND" 'BEGIN { printf "%.0f%%", 100 * t / b }') of it"
fi
mib() { [[ -n "$1" ]] && awk -v n="$1" 'BEGIN { printf "%.0f MiB", n / 1048576 }' || echo "?"; }

STATUS=ok
if [[ -n "$KILLED" || "${OOM:-0}" != 0 ]]; then
	STATUS="killed (${KILLED:-exit $RC}; cgroup oom_kill ${OOM:-?})"
elif (( RC != 0 )); then
	STATUS="exit $RC"
fi
awk -v w="$WALL" -v t="$TIMEOUT" 'BEGIN { exit !(w + 1 >= t) }' && STATUS="did not finish in ${TIMEOUT} s"

cat <<EOF
capbench: command: $*
capbench: status: $STATUS; wall ${WALL} s; load average ${LOAD} → ${LOAD_AFTER}
capbench: pp: ${PP:-–} t/s (pp${PN:-?}), TTFT ${TTFT:-–} s; tg: ${TG:-–} t/s (tg${TN:-?})
capbench: peak cgroup memory $(mib "$PEAK") of cap $(mib "$CAP_BYTES"); major faults ${MAJ:-?} (cgroup ${CGMAJ:-?}); expert hits ${HITS:-–}
capbench: read from disk $(mib "$READ") ($( [[ $TOKENS -gt 0 ]] && awk -v b="$READ" -v n="$TOKENS" 'BEGIN { printf "%.1f MiB per token over %d tokens", b / n / 1048576, n }' || echo "tokens unknown"))
capbench: bound: disk ${DISK_S} s at ${BW} MB/s${UNCAPPED_S:+, uncapped ${UNCAPPED_S} s}; run took ${WALL} s ($(awk -v b="$BOUND_S" -v w="$WALL" 'BEGIN { if (w > 0) printf "%.0f%%", 100 * b / w }') of the bound's speed)
${TGLINE}
$(grep -E '^(expert pager|non-expert weights|(pp|tg)[0-9]+, .*(major page faults|time to first token|expert hits))' "$RUN/capped.out" | sed 's/^/capbench: q3m: /' || true)
capbench: output in $RUN/capped.out
| ${LABEL:-$(basename "$1")} | $(mib "$CAP_BYTES") | ${LOAD} | ${PP:-–} | ${TTFT:-–} | ${TG:-–} | $(mib "$PEAK") | ${MAJ:-?} | $(mib "$READ") | ${HITS:-–} | ${BOUND_S} / ${WALL} | ${TGBOUND:-–} | ${STATUS} |
EOF
