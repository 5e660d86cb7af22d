#!/usr/bin/env bash
# What a request costs the young generation, beside the floor (docs/BENCHMARKS.md, "What a hit
# leaves to the garbage collector"): a bare Fastify server (bench/fastify-floor.ts) and pronto's
# memory tier (bench/results-cache.yaml), each under `node --trace-gc-nvp`, warmed, then at 1,000
# requests/s open loop. One JSON line per server: the bench's latencies, then, summed over the
# scavenges of the loaded run, the bytes allocated and promoted (survived twice, so copied to the
# old generation) per request, and the scavenges' pauses (ms). A scavenge's pause grows with what
# survives it, and a request arriving during one waits for it.
#   bash bench/gc-per-request.sh         # ROUNDS (default 2), DURATION (s, default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-10}

# measure NAME PORT: warm-up, then the loaded run with the server's log (its GC trace) emptied
# first; one JSON line.
measure() {
  local log=/tmp/pronto-bench-$2.log
  $PRONTO bench infer-repeated --url "http://127.0.0.1:$2" --connections 1 --duration 3 >/dev/null
  : >"$log"
  local result
  result=$($PRONTO bench infer-repeated --url "http://127.0.0.1:$2" --rate 1000 --duration "$DURATION")
  stop
  node -e '
    const [name, result, log] = process.argv.slice(1);
    const r = JSON.parse(result);
    const scavenges = require("node:fs").readFileSync(log, "latin1").split("\n").filter((l) => l.includes(" gc=s "));
    const field = (line, key) => Number(line.match(new RegExp(` ${key}=([0-9.]+)`))?.[1] ?? 0);
    const perRequestKb = (key) => Math.round(scavenges.reduce((sum, l) => sum + field(l, key), 0) / r.requests / 102.4) / 10;
    const pauses = scavenges.map((l) => field(l, "pause")).sort((a, b) => a - b);
    console.log(JSON.stringify({
      server: name, p50: r.p50, p99: r.p99, max: r.max, requests: r.requests, scavenges: scavenges.length,
      allocated_kb_per_request: perRequestKb("allocated"), promoted_kb_per_request: perRequestKb("promoted"),
      pause_ms: { p50: pauses[pauses.length >> 1] ?? null, max: pauses.at(-1) ?? null },
    }));
  ' "$1" "$result" "$log"
}

for _ in $(seq 1 "$ROUNDS"); do
  serve_floor 8490 --trace-gc-nvp
  measure fastify-floor 8490

  PRONTO="node --trace-gc-nvp bin/pronto.js" serve bench/results-cache.yaml 8491
  measure memory-tier 8491
done
