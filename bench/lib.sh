# Shared by the bench/*.sh scripts (sourced): start and stop one server, label a measurement.
PRONTO="node bin/pronto.js"

# serve CONFIG PORT [DATA_DIR] -> starts a server over DATA_DIR (default: a new temp dir), waits
# until it is ready, remembers its pid in SERVER_PID.
serve() {
  PRONTO_DATA_DIR="${3:-$(mktemp -d)}" PORT=$2 $PRONTO serve --config "$1" >/tmp/pronto-bench-$2.log 2>&1 &
  SERVER_PID=$!
  wait_ready "$2"
}
# serve_floor PORT [NODE_FLAG...] -> starts the bare Fastify floor (bench/fastify-floor.ts) like serve.
serve_floor() {
  local port=$1
  shift
  node "$@" --import tsx bench/fastify-floor.ts --port "$port" >"/tmp/pronto-bench-$port.log" 2>&1 &
  SERVER_PID=$!
  wait_ready "$port"
}
# wait_ready PORT -> returns once GET /readyz on 127.0.0.1:PORT answers 2xx; exits after 5 minutes.
wait_ready() {
  for _ in $(seq 1 600); do curl -sf "127.0.0.1:$1/readyz" >/dev/null && return 0; sleep 0.5; done
  echo "server on $1 did not become ready" >&2; exit 1
}
stop() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; }
# label TEXT -> one JSON line naming the next measurement, with the load average at that moment.
label() { echo "{\"label\":\"$1\",\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"; }
