# Sourced by run.sh (inner phase, private network namespace): scenario 6, controller mode
# (issue 18). rocketmq-broker 1.0.0 as master and slave of one broker set, in controller mode,
# against our NameServer with its embedded controller:
#   both get ids, one is elected master and the other follows; the NameServer lists the master
#   at brokerId 0; SIGKILL the master -> the slave is promoted (NOTIFY_BROKER_ROLE_CHANGED
#   delivered; the NameServer lists it at brokerId 0); the old master restarts and rejoins as
#   a slave.
# The Rust broker never sends CONTROLLER_ALTER_SYNC_STATE_SET, so its SyncStateSet stays
# {master} and a failover needs enableElectUncleanMaster=true (docs/controller.md).

CTRL_NS=127.0.0.1:9886
CTRL=127.0.0.1:9878
CTRL_SET=ctrl-broker-a
CTRL_M=127.0.0.1:10931     # first broker: elected first
CTRL_S=127.0.0.1:10941     # second broker: the slave, then the new master

start_ctrl_namesrv() {
  mkdir -p "$WORK/nsc"
  HOME="$WORK/nsc" RUST_LOG="info,namesrv::controller=debug" NO_COLOR=1 "$NAMESRV_BIN" \
    --bindAddress 127.0.0.1 --listenPort 9886 \
    --set enableControllerInNamesrv=true --set "controllerDLegerPeers=n0-$CTRL" \
    --set controllerDLegerGroup=interop --set "controllerStorePath=$WORK/nsc/controller" \
    --set enableElectUncleanMaster=true >>"$WORK/logs/nsc.log" 2>&1 &
  PIDS[nsc]=$!
  wait_until 10 nsadmin getControllerMetaData -a "$CTRL"
}

write_ctrl_broker() { # name listenPort
  local name=$1 port=$2
  mkdir -p "$WORK/$name/store" "$WORK/$name/home"
  cat > "$WORK/$name.toml" <<EOF
[broker]
brokerIp1 = "127.0.0.1"
brokerIp2 = "127.0.0.1"
listenPort = $port
namesrvAddr = "$CTRL_NS"
storePathRootDir = "$WORK/$name/store"
registerNameServerPeriod = $REGISTER_PERIOD_MS
enableControllerMode = true
controllerAddr = "$CTRL"

[broker.brokerIdentity]
brokerName = "$CTRL_SET"
brokerClusterName = "$CLUSTER"

[broker.brokerServerConfig]
bindAddress = "127.0.0.1"

[store]
storePathRootDir = "$WORK/$name/store"
haListenAddress = "127.0.0.1"
haListenPort = $(( port + 1 ))
mappedFileSizeCommitLog = 67108864
EOF
}

start_ctrl_broker() { # name
  ROCKETMQ_HOME="$WORK/$1/home" HOME="$WORK/$1/home" RUST_LOG=info NO_COLOR=1 \
    "$BROKER_BIN" -c "$WORK/$1.toml" >>"$WORK/logs/$1.log" 2>&1 &
  PIDS[$1]=$!
}

# sync_state FIELD...: fields of the set's 1006 entry, as nsadmin --json shows it
# (masterBrokerId, or "ids" for every registered id, or "alive" for the alive ids).
sync_state() {
  nsadmin getSyncStateSet -a "$CTRL" -b "$CTRL_SET" --json 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin).get("replicasInfoTable", {}).get(sys.argv[1], {})
reps = s.get("inSyncReplicas", []) + s.get("notInSyncReplicas", [])
out = []
for f in sys.argv[2:]:
    if f == "ids": out.append(",".join(str(r["brokerId"]) for r in sorted(reps, key=lambda r: r["brokerId"])))
    elif f == "alive": out.append(",".join(str(r["brokerId"]) for r in sorted(reps, key=lambda r: r["brokerId"]) if r.get("alive")))
    else: out.append(str(s.get(f, "")))
print(" ".join(out))' "$CTRL_SET" "$@"
}
master_is() { [[ "$(sync_state masterBrokerId)" == "$1" ]]; }
# ns_id_of ADDR ID: the NameServer lists ADDR in the set at broker id ID.
ns_id_of() {
  nsadmin -n "$CTRL_NS" clusterList --json | python3 -c '
import json, sys
ci = json.load(sys.stdin); name, addr, want = sys.argv[1:4]
addrs = ci.get("brokerAddrTable", {}).get(name, {}).get("brokerAddrs", {})
sys.exit(0 if addrs.get(want) == addr else 1)' "$CTRL_SET" "$1" "$2"
}
# wait_fine SECS CMD...: as wait_until, polling every 20 ms; prints the ms it took.
wait_fine() {
  local secs=$1; shift
  local t0; t0=$(now_ms)
  local end=$(( t0 + secs * 1000 ))
  while (( $(now_ms) < end )); do
    if "$@" >/dev/null 2>&1; then echo $(( $(now_ms) - t0 )); return 0; fi
    sleep 0.02
  done
  return 1
}

controller_scenario() {
  local op
  if ! installed broker; then
    for op in "controller mode: ids, election, the slave follows" "controller mode: master SIGKILL -> slave promoted" "controller mode: old master rejoins as slave"; do
      record broker-ctrl "$op" blocked "$(status_of broker)"
    done
    return
  fi
  if ! start_ctrl_namesrv; then
    record namesrv "controller starts (enableControllerInNamesrv)" fail "$(tail -c 300 "$WORK/logs/nsc.log")"
    return
  fi
  record namesrv "controller starts (enableControllerInNamesrv)" pass "port 9878 answers getControllerMetaData"
  write_ctrl_broker cm 10931
  write_ctrl_broker cs 10941

  op="controller mode: ids, election, the slave follows"
  start_ctrl_broker cm
  if ! wait_until 60 master_is 1; then
    record broker-ctrl "$op" fail "no master: $(sync_state ids masterBrokerId); $(tail -c 300 "$WORK/logs/cm.log" | tr '\n' ' ')"
    return
  fi
  start_ctrl_broker cs
  alive_both() { [[ "$(sync_state alive)" == "1,2" ]]; }
  # Both heart-beating before the master is killed: a slave not yet heard from is not alive,
  # and could not be elected.
  if wait_until 60 ns_id_of "$CTRL_S" 2 && wait_until 30 ns_id_of "$CTRL_M" 0 \
      && wait_until 30 alive_both && [[ "$(sync_state ids masterBrokerId)" == "1,2 1" ]]; then
    record broker-ctrl "$op" pass "ids 1 and 2; 1 master (NameServer: brokerId 0), 2 its slave (brokerId 2)"
  else
    record broker-ctrl "$op" fail "controller: $(sync_state ids alive masterBrokerId); $(nsadmin -n "$CTRL_NS" clusterList 2>&1 | tr '\n' ' ' | cut -c1-200)"
    return
  fi

  op="controller mode: master SIGKILL -> slave promoted"
  local elected listed
  local killed_ms notified
  killed_ms=$(now_ms)
  kill -KILL "${PIDS[cm]}" 2>/dev/null
  elected=$(wait_fine 20 master_is 2)
  listed=$(wait_fine 40 ns_id_of "$CTRL_S" 0)
  wait "${PIDS[cm]}" 2>/dev/null; unset "PIDS[cm]"
  # When the controller finished sending NOTIFY_BROKER_ROLE_CHANGED, from its log's clock.
  notified=$(grep "broker notified of its role.*$CTRL_S" "$WORK/logs/nsc.log" | tail -1 | python3 -c '
import datetime, sys
line = sys.stdin.read().strip()
if line:
    t = datetime.datetime.strptime(line.split()[0].rstrip("Z")[:26], "%Y-%m-%dT%H:%M:%S.%f")
    t = t.replace(tzinfo=datetime.timezone.utc)
    print(int(t.timestamp() * 1000) - int(sys.argv[1]))' "$killed_ms")
  if [[ -n $elected && -n $listed && -n $notified ]]; then
    record broker-ctrl "$op" pass "NOTIFY_BROKER_ROLE_CHANGED delivered to the slave ${notified} ms after the SIGKILL; the NameServer lists it at brokerId 0 within $(( elected + listed )) ms (polled)"
  else
    record broker-ctrl "$op" fail "elected after ${elected:-never} ms, listed at 0 after ${listed:-never}; $(sync_state alive masterBrokerId masterEpoch)"
    return
  fi

  op="controller mode: old master rejoins as slave"
  start_ctrl_broker cm
  if wait_until 60 ns_id_of "$CTRL_M" 1 && wait_until 30 alive_both && master_is 2; then
    record broker-ctrl "$op" pass "restarted with its stored id 1: a slave of 2 (NameServer: brokerId 1), masterEpoch $(sync_state masterEpoch)"
  else
    record broker-ctrl "$op" fail "controller: $(sync_state alive masterBrokerId); $(tail -c 300 "$WORK/logs/cm.log" | tr '\n' ' ')"
  fi
  stop_proc cm TERM
  stop_proc cs TERM
  stop_proc nsc TERM
}
