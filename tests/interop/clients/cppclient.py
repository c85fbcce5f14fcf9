#!/usr/bin/env python3
"""Drives Apache's C++ RocketMQ client (through its Python binding) for the interop suite.

The same file serves both C++ clients: run it with the venv of `rocketmq-python-cvs==2.1.0.3`
(C++ 2.1.0) or of `rocketmq==0.4.4` (C++ 1.x); both install the module `rocketmq`.

  cppclient.py produce --namesrv 'A;B' --topic T[,T2] --count N [--tag RUN] [--pause-file F]
  cppclient.py consume --namesrv A --topic T --group G --count N --timeout-secs S [--tag RUN]

Prints one `KEY value...` line per event; exit 0 when every send was SEND_OK / every expected
message arrived, 1 otherwise. Bodies are `<tag>-<i>` (with a second topic: `<tag>-b<i>`).
"""
import argparse
import os
import sys
import threading
import time

from rocketmq.client import Message, Producer, PushConsumer


def out(*a):
    print(*a, flush=True)


def wait_for_file(path, secs):
    end = time.time() + secs
    while time.time() < end:
        if os.path.exists(path):
            return True
        time.sleep(0.1)
    return False


def produce(a):
    topics = a.topic.split(",")
    p = Producer(a.group or "interop_cpp_producer")
    p.set_namesrv_addr(a.namesrv)
    p.start()
    out("STARTED")
    sent = failed = 0
    for ti, topic in enumerate(topics):
        if ti > 0:
            out("HALF")
            if a.pause_file and not wait_for_file(a.pause_file, 60):
                out("PAUSE_TIMEOUT")
        for i in range(a.count):
            body = "%s-%s%d" % (a.tag, "b" * ti, i)
            m = Message(topic)
            m.set_tags("interop")
            m.set_keys(body)
            m.set_body(body)
            try:
                r = p.send_sync(m)
                status = getattr(r.status, "name", str(r.status))
                if status == "OK" or r.status == 0:
                    sent += 1
                    out("SENT", i, body, r.msg_id)
                else:
                    failed += 1
                    out("SEND_FAIL", i, status)
            except Exception as e:  # the binding raises on any error code
                failed += 1
                out("SEND_ERR", i, type(e).__name__, str(e).replace("\n", " ")[:300])
            if a.interval_ms:
                time.sleep(a.interval_ms / 1000.0)
    out("PRODUCED sent=%d failed=%d" % (sent, failed))
    sys.stdout.flush()
    # shutdown() of the C++ client can block on its threads; the verdict is in.
    os._exit(0 if failed == 0 else 1)


def consume(a):
    want = set("%s-%d" % (a.tag, i) for i in range(a.count))
    seen = set()
    deliveries = [0]
    lock = threading.Lock()

    def on_message(msg):
        body = msg.body.decode("utf-8", "replace") if isinstance(msg.body, bytes) else str(msg.body)
        with lock:
            deliveries[0] += 1
            seen.add(body)

    c = PushConsumer(a.group)
    c.set_namesrv_addr(a.namesrv)
    c.subscribe(a.topic, on_message)
    c.start()
    out("READY")
    end = time.time() + a.timeout_secs
    while time.time() < end:
        with lock:
            if want <= seen:
                break
        time.sleep(0.2)
    with lock:
        got = len(want & seen)
        out("CONSUMED expected=%d got=%d deliveries=%d" % (len(want), got, deliveries[0]))
    sys.stdout.flush()
    os._exit(0 if got == len(want) else 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["produce", "consume"])
    ap.add_argument("--namesrv", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--tag", default="run")
    ap.add_argument("--group", default=None)
    ap.add_argument("--interval-ms", type=int, default=0)
    ap.add_argument("--pause-file", default=None)
    ap.add_argument("--timeout-secs", type=int, default=60)
    a = ap.parse_args()
    if a.cmd == "produce":
        produce(a)
    else:
        if not a.group:
            ap.error("consume needs --group")
        consume(a)


if __name__ == "__main__":
    main()
