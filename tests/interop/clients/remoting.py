#!/usr/bin/env python3
"""A minimal RocketMQ remoting client of ours (JSON headers), for the interop suite.

  remoting.py createTopic --broker 127.0.0.1:10911 --topic T [--queues 4]
      UPDATE_AND_CREATE_TOPIC (17) to a broker, as `mqadmin updateTopic -b` sends it: the broker
      creates the topic and announces it to its NameServers.

Exit 0 on a SUCCESS reply; prints the reply's code and remark otherwise.
"""
import argparse
import json
import socket
import struct
import sys


def invoke(addr, code, ext, body=b"", timeout=10.0, opaque=1):
    host, port = addr.rsplit(":", 1)
    header = json.dumps({"code": code, "language": "JAVA", "version": 401, "opaque": opaque,
                         "flag": 0, "extFields": ext, "serializeTypeCurrentRPC": "JSON"}).encode()
    frame = struct.pack(">II", 4 + len(header) + len(body), len(header)) + header + body
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.settimeout(timeout)
        s.sendall(frame)
        total = struct.unpack(">I", _read(s, 4))[0]
        rest = _read(s, total)
    hlen = struct.unpack(">I", rest[:4])[0] & 0xFFFFFF
    reply = json.loads(rest[4:4 + hlen])
    return reply, rest[4 + hlen:]


def _read(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["createTopic"])
    ap.add_argument("--broker", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--queues", type=int, default=4)
    a = ap.parse_args()
    ext = {"topic": a.topic, "defaultTopic": "TBW102", "readQueueNums": str(a.queues),
           "writeQueueNums": str(a.queues), "perm": "6", "topicFilterType": "SINGLE_TAG",
           "topicSysFlag": "0", "order": "false", "force": "false"}
    reply, _ = invoke(a.broker, 17, ext)
    print("REPLY code=%s remark=%s" % (reply.get("code"), reply.get("remark")))
    sys.exit(0 if reply.get("code") == 0 else 1)


if __name__ == "__main__":
    main()
