#!/usr/bin/env bash
# Issue 18's results-cache targets beside their floor (docs/BENCHMARKS.md, "The results cache"):
# in each round a bare Fastify server (bench/fastify-floor.ts), pronto's memory tier and its Redis
# tier, each on a fresh server, warmed, then at 1 connection and at 1,000 requests/s open loop.
# One JSON line per run: the bench's own figures plus the load average, the host's CPU steal over
# the run (/proc/stat, 10 ms ticks summed over the cores) and the server's CPU per request.
#   bash bench/cache-floor.sh            # ROUNDS (default 3); REDIS_URL (default db 14 of local Redis)
# REDIS_URL must name a scratch database: the run's keys are deleted from it at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
ROUNDS=${ROUNDS:-3}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/14}

steal() { awk '/^cpu /{print $9}' /proc/stat; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# measure NAME PORT PID: a warm-up, then each load, as JSON lines.
measure() {
  local name=$1 url=http://127.0.0.1:$2 pid=$3
  $PRONTO bench infer-repeated --url "$url" --connections 1 --duration 3 >/dev/null
  for load in "--connections 1 --duration 5" "--rate 1000 --duration 10"; do
    local load_avg steal0 cpu0 result
    load_avg=$(cut -d' ' -f1 /proc/loadavg) steal0=$(steal) cpu0=$(cpu_ticks "$pid")
    # shellcheck disable=SC2086 # the load's flags are words
    result=$($PRONTO bench infer-repeated --url "$url" $load)
    node -e '
      const [name, load, steal, cpuTicks, result] = process.argv.slice(1);
      const r = JSON.parse(result);
      const cpuMsPerRequest = Math.round((Number(cpuTicks) * 10 / r.requests) * 1000) / 1000;
      console.log(JSON.stringify({ server: name, load_avg: Number(load), steal_ticks: Number(steal), cpu_ms_per_request: cpuMsPerRequest, ...r }));
    ' "$name" "$load_avg" $(($(steal) - steal0)) $(($(cpu_ticks "$pid") - cpu0)) "$result"
  done
}

for _ in $(seq 1 "$ROUNDS"); do
  serve_floor 8490
  measure fastify-floor 8490 "$SERVER_PID"; stop

  serve bench/results-cache.yaml 8491
  measure memory-tier 8491 "$SERVER_PID"; stop

  REDIS_URL=$REDIS_URL serve bench/results-cache-redis.yaml 8492
  measure redis-tier 8492 "$SERVER_PID"; stop
done

# The Redis tier's keys: the cache's, the job queues' and the feedback ledger's (one per request),
# all under prefix pronto-bench in its config.
node --input-type=module -e '
  import { Redis } from "ioredis";
  const redis = new Redis(process.argv[1]);
  const keys = await redis.keys("pronto-bench*");
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
' "$REDIS_URL"
