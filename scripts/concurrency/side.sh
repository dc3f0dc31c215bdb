#!/bin/bash
# side.sh FILE Q3M LLAMA_SERVER [ROUNDS] [NS]: aggregate tokens/s of N concurrent
# streams, q3m serve --parallel N against llama-server -np N on the same file,
# one server at a time (2 threads each), measured by bench.mjs in this
# directory (npm ci first). Prompt words: $PW (default 4). Prints bench.mjs's
# table rows per N, q3m first.
set -euo pipefail
F=$(realpath "$1"); Q=$2; L=$3; R=${4:-1}; NS=${5:-1 2 4 8}
cd "$(dirname "$0")"
up() { for _ in $(seq 120); do curl -sf "$1/health" >/dev/null && return 0; sleep 0.5; done; echo "side.sh: $1 did not come up" >&2; return 1; }
run() { # url n
	node bench.mjs --url "$1" --n "$2" --max-tokens 128 --rounds 2 --prompt-words "${PW:-4}" --api completions | grep "^| [0-9]\|#.*error" || true
}
for r in $(seq "$R"); do
	for n in $NS; do
		echo "## round $r, $n streams, $(date +%T), load $(cut -d' ' -f1 /proc/loadavg)"
		"$Q" serve -m "$F" --parallel "$n" -t 2 --port 8091 >/tmp/side-q3m.log 2>&1 & pid=$!
		up http://127.0.0.1:8091 && run http://127.0.0.1:8091 "$n"
		kill $pid; wait $pid 2>/dev/null || true
		"$L" -m "$F" -np "$n" -t 2 -c $((2048 * n)) --port 8092 >/tmp/side-llama.log 2>&1 & pid=$!
		up http://127.0.0.1:8092 && run http://127.0.0.1:8092 "$n"
		kill $pid; wait $pid 2>/dev/null || true
	done
done
