#!/usr/bin/env bash
# Issue 10's benchmarks, regenerating the figures of docs/benchmarks.md (copied from the output):
#   route lookups   namesrv (default, then two worker threads) vs the null server, and
#                   rocketmq-namesrv 1.0.0 vs the null server,
#                   each pair alternating in one run (ratios, never absolute numbers, compare)
#   registration    1,000 brokers x 100 topics at once, queries idle vs during re-registration,
#                   RSS, then every broker connection dropped at once; namesrv and the peer
#   start-up        to the first accepted connection and first reply; namesrv and the peer
#   scale           (with SCALE=1, or alone with ONLY=scale) issue 15's big cluster: 300 brokers
#                   x 10,000 topics registering at once every 20 s for 3 rounds, DataVersion
#                   bumped and kept, 8 route-query loops, RSS sampled every 100 ms; namesrv and
#                   the peer (about 4 minutes a run, 4 runs)
#
#   tests/bench/run.sh             (DURATION=10 ROUNDS=2 CONNS=1,16,128 BROKERS=1000 TOPICS=100)
#   QUICK=1 tests/bench/run.sh     (a short run, to check the script)
#   ONLY=scale tests/bench/run.sh  (the scale storm only; SCALE_ARGS=... passes loadgen flags)
#   ONLY=controller tests/bench/run.sh  (issue 18's failover times only; also part of a full run)
#
# Everything runs inside a private network namespace holding only `lo`: the peer dials the
# machine's own address every 30 s, and no benchmark traffic may leave loopback. The peer is
# used when tests/bench/install-peer.sh has installed it, and skipped (said so) otherwise.
# Results: printed, and kept as text and JSON under $OUT (default target/bench/<time>).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"

if [[ "${1:-}" != "--inner" ]]; then
  cargo build --release -p namesrv -p namesrv-tests --bin namesrv --bin namesrv-loadgen
  export OUT="${OUT:-$ROOT/target/bench/$(date +%Y%m%d-%H%M%S)}"
  mkdir -p "$OUT"
  exec unshare --net --fork --kill-child -- bash -c 'ip link set lo up && exec "$0" --inner' "$0"
fi

if [[ -n "${QUICK:-}" ]]; then
  : "${SCALE_ARGS:=--brokers 20 --topics 500 --rounds 2 --period 3 --settle 5}"
  : "${DURATION:=1}" "${ROUNDS:=1}" "${BROKERS:=200}" "${TOPICS:=20}" "${PERIOD:=2}" "${IDLE:=1}"
  : "${QUIET_WAIT:=1}" "${RETRY_NOISY:=0}"
fi
DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-2}"
CONNS="${CONNS:-1,16,128}"
BROKERS="${BROKERS:-1000}"
TOPICS="${TOPICS:-100}"
PERIOD="${PERIOD:-30}"
IDLE="${IDLE:-10}"
PEER="${NAMESRV_BENCH_CACHE:-$HOME/.cache/namesrv-bench}/peer/bin/rocketmq-namesrv-rust"
LOADGEN="$ROOT/target/release/namesrv-loadgen"
NAMESRV="$ROOT/target/release/namesrv"
ulimit -n 8192 2>/dev/null || ulimit -n 4096 || true

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

log() { echo; echo "== $*"; }
wait_port() { for _ in $(seq 1 3000); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.01; done; echo "port $1 never opened" >&2; return 1; }

# start_namesrv PORT [--set k=v]...: a fresh namesrv with its own home.
start_namesrv() {
  local port=$1; shift
  local home; home=$(mktemp -d)
  HOME="$home" "$NAMESRV" --bindAddress 127.0.0.1 --listenPort "$port" "$@" >"$OUT/namesrv-$port.log" 2>&1 &
  PIDS+=($!); wait_port "$port"
}
start_peer() {
  local port=$1 home; home=$(mktemp -d)
  HOME="$home" ROCKETMQ_HOME="$home" "$PEER" --bindAddress 127.0.0.1 --listenPort "$port" \
    >"$OUT/peer-$port.log" 2>&1 &
  PIDS+=($!); wait_port "$port"
}
stop_last() { local p=${PIDS[-1]}; kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; unset 'PIDS[-1]'; }

# Each run waits for an idle machine (up to QUIET_WAIT s) and a run other processes disturbed
# is run again (up to RETRY_NOISY times).
COMMON=(--conns "$CONNS" --duration "$DURATION" --rounds "$ROUNDS"
  --quiet-wait "${QUIET_WAIT:-120}" --retry-noisy "${RETRY_NOISY:-4}")
"$LOADGEN" null-server --listen 127.0.0.1:19877 >"$OUT/null.log" 2>&1 & PIDS+=($!)
wait_port 19877

HAVE_PEER=""
[[ -x "$PEER" ]] && HAVE_PEER=1

# The embedded controller (issue 18): master lost by a close and by a hang, to the slave's
# NOTIFY_BROKER_ROLE_CHANGED. Apache 5.3.3 measured on this kind of machine: 55-90 ms from a
# master's SIGKILL to the notification (controller-spec.md §10.5).
if [[ -z "${ONLY:-}" || "${ONLY:-}" == controller ]]; then
  log "controller failover: namesrv with enableControllerInNamesrv"
  start_namesrv 19880 --set enableControllerInNamesrv=true \
    --set controllerDLegerPeers=n0-127.0.0.1:19881 --set "controllerStorePath=$OUT/controller"
  wait_port 19881
  "$LOADGEN" failover --controller 127.0.0.1:19881 --rounds "${FAILOVER_ROUNDS:-30}" \
    | tee "$OUT/controller-failover.txt"
  stop_last
  if [[ "${ONLY:-}" == controller ]]; then echo; echo "results kept in $OUT"; exit 0; fi
fi

if [[ -n "${SCALE:-}" || "${ONLY:-}" == scale ]]; then
  # shellcheck disable=SC2206 # SCALE_ARGS is a list of loadgen flags
  SARGS=(${SCALE_ARGS:-})
  for dv in bump keep; do
    log "scale: namesrv, DataVersion $dv"
    start_namesrv 19876
    "$LOADGEN" scale --addr 127.0.0.1:19876 --pid "${PIDS[-1]}" --dv "$dv" "${SARGS[@]}" \
      | tee "$OUT/scale-namesrv-$dv.txt"
    stop_last
    if [[ -n "$HAVE_PEER" ]]; then
      log "scale: rocketmq-namesrv 1.0.0, DataVersion $dv"
      start_peer 19878
      # The peer fails part of the load (230 of 440 registrations in issue 15): report it.
      "$LOADGEN" scale --addr 127.0.0.1:19878 --pid "${PIDS[-1]}" --dv "$dv" "${SARGS[@]}" \
        | tee "$OUT/scale-peer-$dv.txt" || true
      stop_last
    else
      log "rocketmq-namesrv not installed ($PEER): run tests/bench/install-peer.sh; skipped"
    fi
  done
  log "scale: summary"
  for f in "$OUT"/scale-*.txt; do
    echo "-- $(basename "$f" .txt)"; grep -E "round|queries|left" "$f" || true
  done | tee "$OUT/scale-summary.txt"
  if [[ "${ONLY:-}" == scale ]]; then echo; echo "results kept in $OUT"; exit 0; fi
fi

log "route lookups: namesrv vs the null server"
start_namesrv 19876
"$LOADGEN" compare --a 127.0.0.1:19876 --b 127.0.0.1:19877 --label-a namesrv --label-b null \
  "${COMMON[@]}" | tee "$OUT/route-namesrv.txt"
stop_last

log "route lookups: namesrv with runtimeWorkerThreads=2 (one per core) vs the null server"
start_namesrv 19876 --set runtimeWorkerThreads=2
"$LOADGEN" compare --a 127.0.0.1:19876 --b 127.0.0.1:19877 --label-a namesrv-2t --label-b null \
  "${COMMON[@]}" | tee "$OUT/route-namesrv-2t.txt"
stop_last

if [[ -n "$HAVE_PEER" ]]; then
  log "route lookups: rocketmq-namesrv 1.0.0 vs the null server"
  start_peer 19878
  "$LOADGEN" compare --a 127.0.0.1:19878 --b 127.0.0.1:19877 --label-a rocketmq-namesrv \
    --label-b null "${COMMON[@]}" | tee "$OUT/route-peer.txt"
  stop_last
else
  log "rocketmq-namesrv not installed ($PEER): run tests/bench/install-peer.sh; skipped"
fi

REG=(--brokers "$BROKERS" --topics "$TOPICS" --period "$PERIOD" --duration "$PERIOD" --clients 128 --idle "$IDLE")
log "registration: namesrv"
start_namesrv 19876
"$LOADGEN" register --addr 127.0.0.1:19876 "${REG[@]}" | tee "$OUT/register-namesrv.txt"
stop_last
if [[ -n "$HAVE_PEER" ]]; then
  log "registration: rocketmq-namesrv 1.0.0"
  start_peer 19878
  # The peer may refuse part of the load (it did past ~936 connections): report, do not stop.
  "$LOADGEN" register --addr 127.0.0.1:19878 "${REG[@]}" | tee "$OUT/register-peer.txt" || true
  stop_last
fi

log "start-up"
"$LOADGEN" startup --addr 127.0.0.1:19886 --runs 10 \
  --cmd "$NAMESRV --bindAddress 127.0.0.1 --listenPort 19886" | tee "$OUT/startup-namesrv.txt"
if [[ -n "$HAVE_PEER" ]]; then
  home=$(mktemp -d)
  HOME="$home" ROCKETMQ_HOME="$home" "$LOADGEN" startup --addr 127.0.0.1:19888 --runs 10 \
    --cmd "$PEER --bindAddress 127.0.0.1 --listenPort 19888" | tee "$OUT/startup-peer.txt"
fi
echo; echo "results kept in $OUT"
