#!/usr/bin/env bash
# Issue 17's benchmarks of docs/BENCHMARKS.md ("Models off the event loop..."), one JSON line per
# measurement, each labelled with the load average. In-thread and pooled configs of a backend run
# back to back, so their ratio is from one run.
#   bash bench/issue-17.sh [static|use-lite|use-lite-in-thread|use-lite-pool|cli-ingest|search-while-ingesting|sim]...
#   (default: static use-lite cli-ingest sim)
# RUNS (default 3) repeats the HTTP measurements; USE_LITE_LIMIT (default 500) caps the SciFact
# documents use-lite ingests (at a few documents/s the whole corpus takes most of an hour).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
RUNS=${RUNS:-3}
CORPUS=${CORPUS:-../shared/data/scifact/corpus.jsonl}
QUERIES=${QUERIES:-../shared/data/scifact/queries.jsonl}
# The static embedder's table, distilled once and copied into each server's fresh data dir.
TABLES=$(mktemp -d)

bench() { $PRONTO bench "$@" || echo "{\"error\":\"bench $1 failed\"}"; }
fresh_dir() { local dir; dir=$(mktemp -d); cp -r "$TABLES/models" "$dir/"; echo "$dir"; }

distill() {
  label "distill use-lite into the static table"; PRONTO_DATA_DIR=$TABLES $PRONTO distill
}

# backend NAME CONFIG MODEL PORT LIMIT: the offline limit, then over HTTP: embeddings at 64 and 1
# connections, SciFact through POST /v1/documents at batches of 16 and 64, the same with 20
# searches/s and freshness probes alongside, and /v1/infer at 64 connections.
backend() {
  local name=$1 config=$2 model=$3 port=$4 limit=$5 url=http://127.0.0.1:$4
  label "$name offline"; bench offline --config "$config" --model "$model" --batch-sizes 1,64 --duration 5
  serve "$config" "$port" "$(fresh_dir)"
  for _ in $(seq 1 "$RUNS"); do
    label "$name embed 64 connections"; bench embed --url "$url" --connections 64 --duration 10
    label "$name embed 1 connection"; bench embed --url "$url" --connections 1 --duration 10
    for batch in 16 64; do
      label "$name ingest batch $batch"; bench ingest --url "$url" --corpus "$CORPUS" --limit "$limit" --batch $batch
    done
    alongside "$name" "$url" "$limit"
    label "$name infer 64 connections"; bench infer --url "$url" --connections 64 --duration 10
  done
  stop
}

# alongside NAME URL LIMIT: ingest at batches of 64 while a second client searches 20 times a
# second and a probe document is posted every second (how soon it is found).
alongside() {
  label "$1 ingest batch 64 with 20 searches/s and freshness probes"
  bench ingest --url "$2" --corpus "$CORPUS" --limit "$3" --batch 64 --search-rate 20 --queries "$QUERIES" --freshness-every 1
}

# search-while-ingesting CONFIG NAME PORT LIMIT: only that measurement, RUNS times, on one server.
search_while_ingesting() {
  serve "$1" "$3" "$(fresh_dir)"
  for _ in $(seq 1 "$RUNS"); do alongside "$2" "http://127.0.0.1:$3" "$4"; done
  stop
}

static() {
  backend "static in-thread" bench/static.yaml use-lite-static 8421 100000
  backend "static pool" bench/static-worker.yaml use-lite-static 8422 100000
}

use_lite_in_thread() { backend "use-lite in-thread" bench/use-lite.yaml use-lite 8423 "${USE_LITE_LIMIT:-500}"; }
use_lite_pool() { backend "use-lite pool" bench/use-lite-worker.yaml use-lite 8424 "${USE_LITE_LIMIT:-500}"; }

cli_ingest() {
  for config in bench/static.yaml bench/static-worker.yaml; do
    label "pronto ingest SciFact, $config"
    /usr/bin/time -f '{"wall_s":%e,"max_rss_kb":%M}' env PRONTO_DATA_DIR="$(fresh_dir)" $PRONTO ingest "$CORPUS" --namespace scifact --config "$config" 2>&1 >/dev/null | tail -1
  done
}

distill
for what in "${@:-static use-lite cli-ingest sim}"; do
  for w in $what; do
    case "$w" in
      static) static ;;
      use-lite) use_lite_in_thread; use_lite_pool ;;
      use-lite-in-thread) use_lite_in_thread ;;
      use-lite-pool) use_lite_pool ;;
      cli-ingest) cli_ingest ;;
      search-while-ingesting)
        search_while_ingesting bench/static.yaml "static in-thread" 8421 100000
        search_while_ingesting bench/static-worker.yaml "static pool" 8422 100000
        search_while_ingesting bench/use-lite-worker.yaml "use-lite pool" 8424 "${USE_LITE_LIMIT:-500}" ;;
      sim) bash bench/model-runtime.sh sim ;;
      *) echo "unknown: $w" >&2; exit 2 ;;
    esac
  done
done
