#!/usr/bin/env bash
# bench-specs.sh: how fast `opsconform mock` starts and answers its first
# request on a small, a 4 MB and GitHub's 13 MB description, and its peak
# memory. Downloads @octokit/openapi@23.0.2 with npm (not part of make test).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/opsconform}
WORK=${BENCH_DIR:-.bench}
PORT=${BENCH_PORT:-18790}
mkdir -p "$WORK"
if [ ! -f "$WORK/package/generated/api.github.com.json" ]; then
  command -v npm >/dev/null || { echo "bench-specs needs npm (Debian: apt-get install npm)"; exit 1; }
  (cd "$WORK" && npm pack --silent @octokit/openapi@23.0.2 >/dev/null && tar xzf octokit-openapi-23.0.2.tgz)
fi
GITHUB="$WORK/package/generated/api.github.com.json"
[ -f "$WORK/github-4mb.json" ] || node scripts/subset-spec.js "$GITHUB" "$WORK/github-4mb.json" 4194304 >/dev/null

# measure SPEC URLPATH: seconds to listen, seconds to the first answer, peak RSS
measure() {
  local spec=$1 path=$2
  local start end listen first status
  start=$(date +%s.%N)
  "$BIN" mock --spec "$spec" --addr "127.0.0.1:$PORT" --quiet >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 3000); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/__opsconform/health" && break
    kill -0 "$pid" 2>/dev/null || { echo "the mock exited on $spec"; return 1; }
    sleep 0.01
  done
  listen=$(date +%s.%N)
  status=$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$PORT$path")
  first=$(date +%s.%N)
  local rss
  rss=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  printf "%-48s %8s %6.2f s %6.2f s %6s MiB  (GET %s: %s)\n" "$(basename "$spec")" "$(du -h "$spec" | cut -f1)" \
    "$(echo "$listen - $start" | bc)" "$(echo "$first - $start" | bc)" "$rss" "$path" "$status"
}

printf "%-48s %8s %8s %8s %10s\n" spec size listen "1st answer" "peak RSS"
measure specs/testdata/corpus/recursion-30.json /deep
measure "$WORK/github-4mb.json" /repos/octocat/hello-world
measure "$GITHUB" /repos/octocat/hello-world
