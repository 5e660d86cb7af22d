#!/usr/bin/env bash
# The model-runtime benchmarks of docs/BENCHMARKS.md, in one run (ratios are only meaningful
# within one run on a shared machine). Prints one JSON line per measurement.
#   bash bench/model-runtime.sh [sim|use-lite|overload|chat|grpc]...   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
RUNS=${RUNS:-3}

sim() {
  label "sim offline"; $PRONTO bench offline --config bench/sim.yaml --model sim --batch-sizes 1,64 --duration 3
  serve bench/sim.yaml 8411
  for _ in $(seq 1 "$RUNS"); do
    label "sim 1 connection"; $PRONTO bench embed --url http://127.0.0.1:8411 --connections 1 --duration 10
    label "sim 64 connections"; $PRONTO bench embed --url http://127.0.0.1:8411 --connections 64 --duration 10
  done
  stop
}

use_lite() {
  serve bench/use-lite.yaml 8412
  for _ in $(seq 1 "$RUNS"); do
    label "use-lite offline"; $PRONTO bench offline --config bench/use-lite.yaml --model use-lite --batch-sizes 1,64 --duration 5
    label "use-lite 64 connections"; $PRONTO bench embed --url http://127.0.0.1:8412 --connections 64 --duration 15
    label "use-lite 1 connection"; $PRONTO bench embed --url http://127.0.0.1:8412 --connections 1 --duration 10
  done
  stop
}

overload() {
  serve bench/sim-overload.yaml 8413
  label "overload: half the saturating rate"; $PRONTO bench embed --url http://127.0.0.1:8413 --rate "${HALF_RATE:-600}" --duration 10
  label "overload: twice the saturating rate"; $PRONTO bench embed --url http://127.0.0.1:8413 --rate "${DOUBLE_RATE:-2400}" --duration 10
  echo "{\"label\":\"overload: server rss after\",\"rss_mb\":$(( $(ps -o rss= -p "$SERVER_PID") / 1024 ))}"
  stop
}

chat() {
  serve bench/llama.yaml 8414
  for c in 1 4; do label "llama chat $c connection(s)"; $PRONTO bench chat --url http://127.0.0.1:8414 --connections $c --duration 10; done
  stop
}

grpc() { # the same sim server over HTTP (/v1/embeddings) and gRPC (pronto.v1.Pronto/Embed), interleaved
  serve bench/sim-grpc.yaml 8415
  for _ in $(seq 1 "$RUNS"); do
    for c in 1 64; do
      label "sim http $c connection(s)"; $PRONTO bench embed --url http://127.0.0.1:8415 --connections $c --duration 10
      label "sim grpc $c connection(s)"; $PRONTO bench grpc --url grpc://127.0.0.1:9090 --connections $c --duration 10
    done
  done
  stop
}

for what in "${@:-sim use-lite overload chat grpc}"; do
  for w in $what; do case "$w" in sim) sim ;; use-lite) use_lite ;; overload) overload ;; chat) chat ;; grpc) grpc ;; *) echo "unknown: $w" >&2; exit 2 ;; esac; done
done
