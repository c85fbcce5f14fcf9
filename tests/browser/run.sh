#!/usr/bin/env bash
# The status page in a real browser: installs Debian's headless Chromium if it is missing,
# starts a release namesrv with the status page on, registers two stand-in brokers with it (one
# named `<script>x</script>` in cluster `C&<b>`; two topics each, as a one-topic first
# registration is refused, apache/rocketmq#4522), loads `/` and a topic's page, checks the DOM
# Chromium built (the brokers, roles and heartbeats are there; the hostile names are text, no
# script element exists), and saves screenshots (phone and desktop) under target/browser/.
#
# When Chromium cannot be installed (no root, no package), it says so plainly and exits 0:
# the check is SKIPPED, not passed. Loopback only. Run from anywhere:  bash tests/browser/run.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT="$ROOT/target/browser"
mkdir -p "$OUT"
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

skip() {
  echo "SKIPPED: the status page was NOT checked in a browser: $*"
  exit 0
}

# --- Chromium (Debian's package: /usr/bin/chromium) -------------------------------------------
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
if [[ -z "$CHROMIUM" ]]; then
  echo "== installing Debian's chromium"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null && sudo -n true 2>/dev/null && SUDO="sudo -n" \
      || skip "Chromium is not installed and this user cannot install packages (not root, no sudo)"
  fi
  if ! { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >"$OUT/apt.log" 2>&1 \
         || { $SUDO apt-get update -q >>"$OUT/apt.log" 2>&1 \
              && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >>"$OUT/apt.log" 2>&1; }; }; then
    tail -5 "$OUT/apt.log" || true
    skip "apt-get could not install chromium (log: $OUT/apt.log)"
  fi
  CHROMIUM=$(command -v chromium || true)
  [[ -n "$CHROMIUM" ]] || skip "the chromium package installed no chromium binary"
fi
echo "== $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"

# As root Chromium needs --no-sandbox; the network flags keep it from dialling Google's hosts,
# which this machine's closed network refuses.
chrome() {
  timeout -k 5 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --hide-scrollbars --user-data-dir="$WORK/profile-$RANDOM" "$@" 2>>"$OUT/chromium.log"
}

# --- namesrv and two stand-in brokers ---------------------------------------------------------
echo "== building namesrv"
(cd "$ROOT" && cargo build --release -q -p namesrv --bin namesrv)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port); HTTP=$(free_port)
"$ROOT/target/release/namesrv" --bindAddress 127.0.0.1 --listenPort "$PORT" \
  --set "httpListenPort=$HTTP" --set httpBindAddress=127.0.0.1 --set httpStatusPageEnable=true \
  --set "rocketmqHome=$WORK" --set "kvConfigPath=$WORK/kvConfig.json" \
  --set "configStorePath=$WORK/namesrv.properties" >"$OUT/namesrv.log" 2>&1 &
PIDS+=($!)
URL="http://127.0.0.1:$HTTP"
fetch() { python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1"; }
for _ in $(seq 100); do fetch "$URL/health" >/dev/null 2>&1 && break; sleep 0.1; done
fetch "$URL/health" >/dev/null || { cat "$OUT/namesrv.log"; echo "FAIL: namesrv did not start"; exit 1; }

STANDIN="$ROOT/tests/interop/clients/standin_broker.py"
python3 "$STANDIN" --listen "127.0.0.1:$(free_port)" --namesrv "127.0.0.1:$PORT" --name broker-a \
  --cluster DefaultCluster --topics TopicTest,Orders --period-ms 5000 >"$OUT/broker-a.log" 2>&1 &
PIDS+=($!)
python3 "$STANDIN" --listen "127.0.0.1:$(free_port)" --namesrv "127.0.0.1:$PORT" \
  --name '<script>x</script>' --cluster 'C&<b>' --topics Plain,Other --period-ms 5000 >"$OUT/broker-x.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
  page=$(fetch "$URL/" 2>/dev/null || true)
  [[ $page == *"broker-a"* && $page == *"&lt;script&gt;"* ]] && break
  sleep 0.1
done

# --- the browser ------------------------------------------------------------------------------
fail=0
check() { # check FILE WHAT NEEDLE [absent]
  if [[ ${4:-} == absent ]]; then
    if grep -qF -- "$3" "$1"; then echo "FAIL: $2 (found ${3@Q})"; fail=1; else echo "ok: $2"; fi
  else
    if grep -qF -- "$3" "$1"; then echo "ok: $2"; else echo "FAIL: $2 (no ${3@Q})"; fail=1; fi
  fi
}
echo "== loading $URL/ in Chromium"
chrome --dump-dom "$URL/" >"$OUT/overview.html" || { echo "FAIL: Chromium could not load the page"; exit 1; }
check "$OUT/overview.html" "the page rendered" "RocketMQ NameServer</h1>"
check "$OUT/overview.html" "broker-a is listed" "<code>broker-a</code>"
check "$OUT/overview.html" "its cluster" "Cluster <code>DefaultCluster</code>"
check "$OUT/overview.html" "its role" "<td>master</td>"
check "$OUT/overview.html" "its heartbeat" " ago</td>"
check "$OUT/overview.html" "the hostile broker name is text" "<code>&lt;script&gt;x&lt;/script&gt;</code>"
check "$OUT/overview.html" "the hostile cluster name is text" "Cluster <code>C&amp;&lt;b&gt;</code>"
check "$OUT/overview.html" "no script element was made" "<script" absent
check "$OUT/overview.html" "no bold element was made from a name" "<b>&lt;" absent
check "$OUT/overview.html" "the topic counts" "topics</li>"
chrome --dump-dom "$URL/topic/TopicTest" >"$OUT/topic.html"
check "$OUT/topic.html" "the topic page rendered" "Topic <code>TopicTest</code>"
check "$OUT/topic.html" "its queues" "<td><code>broker-a</code></td>"
check "$OUT/topic.html" "its brokers, linked to the overview" "href=\"/#group-broker-a\""
chrome --window-size=412,915 --screenshot="$OUT/status-page.png" "$URL/" >/dev/null
chrome --window-size=1280,900 --screenshot="$OUT/status-page-desktop.png" "$URL/" >/dev/null
chrome --window-size=412,915 --screenshot="$OUT/topic-page.png" "$URL/topic/TopicTest" >/dev/null
for png in status-page status-page-desktop topic-page; do
  if [[ -s "$OUT/$png.png" ]]; then echo "ok: screenshot $OUT/$png.png"; else echo "FAIL: no screenshot $png.png"; fail=1; fi
done
if (( fail )); then echo "FAIL: the status page in Chromium (DOMs in $OUT)"; exit 1; fi
echo "PASS: the status page in Chromium ($OUT)"
