#!/usr/bin/env python3
"""A small stand-in RocketMQ broker of ours, for clients that cannot talk to rocketmq-broker 1.0.0.

rocketmq-broker 1.0.0 closes the connection when a request's extFields hold JSON numbers or
booleans, which Apache's C++ clients and ali-ons send for SEND_MESSAGE(_V2) and PULL_MESSAGE
(Java's broker accepts them). So those clients are shown against this stand-in: it registers
with the NameServers like a real broker (REGISTER_BROKER every --period-ms, UNREGISTER_BROKER on
SIGTERM), so the NameServer half (registration, routes, unregistration) is the real thing; the
message half is a minimal in-memory store:

  SEND_MESSAGE (10) / SEND_MESSAGE_V2 (310), PULL_MESSAGE (11, messages in the standard stored
  format, long-polled up to 1 s), QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET (15),
  GET_MAX/MIN_OFFSET (30/31), SEARCH_OFFSET_BY_TIMESTAMP (29), HEART_BEAT (34, a consumer group
  gets its %RETRY% topic, announced to the NameServers at once), UNREGISTER_CLIENT (35),
  CONSUMER_SEND_MSG_BACK (36), GET_CONSUMER_LIST_BY_GROUP (38); anything else: SUCCESS, empty.

  standin_broker.py --listen 127.0.0.1:10921 --namesrv 'A;B' --name standin-a --topics T1,T2
"""
import argparse
import asyncio
import json
import re
import signal
import socket
import struct
import sys
import time
import zlib

MAGIC = 0xDAA320A7  # MessageDecoder's MESSAGE_MAGIC_CODE (v1)
QUEUES = 4


def log(*a):
    print("[standin %s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def ext_str(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class Store:
    def __init__(self):
        self.queues = {}  # (topic, qid) -> list of encoded messages
        self.phys = 0
        self.offsets = {}  # (group, topic, qid) -> offset
        self.cond = asyncio.Condition()

    def q(self, topic, qid):
        return self.queues.setdefault((topic, qid), [])


class Broker:
    def __init__(self, a):
        self.a = a
        host, port = a.listen.rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.addr = a.listen
        self.store = Store()
        self.topics = {t: self.topic_config(t) for t in a.topics.split(",") if t}
        self.groups = {}  # consumer group -> {clientID: last seen}
        self.version = 0
        self.opaque = 0
        self.conns = {}  # NameServer address -> (reader, writer)
        self.reg_lock = asyncio.Lock()

    @staticmethod
    def topic_config(t, perm=6):
        return {"topicName": t, "readQueueNums": QUEUES, "writeQueueNums": QUEUES, "perm": perm,
                "topicFilterType": "SINGLE_TAG", "topicSysFlag": 0, "order": False}

    # --- registration with the NameServers ----------------------------------------------------
    def register_body(self):
        self.version += 1
        body = {"topicConfigSerializeWrapper": {
            "topicConfigTable": self.topics,
            "dataVersion": {"timestamp": int(time.time() * 1000), "counter": self.version}},
            "filterServerList": []}
        return json.dumps(body).encode()

    async def call_namesrv(self, ns, code, ext, body=b""):
        # One long-lived connection per NameServer, as a broker keeps: a NameServer removes a
        # broker whose registering connection closes.
        self.opaque += 1
        for attempt in (1, 2):
            conn = self.conns.get(ns)
            try:
                if conn is None:
                    host, port = ns.rsplit(":", 1)
                    conn = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 3)
                    self.conns[ns] = conn
                r, w = conn
                w.write(encode(code, self.opaque, ext, body, flag=0))
                await w.drain()
                hdr, _ = await asyncio.wait_for(read_frame(r), 5)
                return hdr, None
            except Exception as e:
                self.conns.pop(ns, None)
                if conn is not None:
                    conn[1].close()
                if attempt == 2:
                    return None, repr(e)

    def reg_ext(self, body):
        return {"brokerAddr": self.addr, "brokerId": "0", "brokerName": self.a.name,
                "clusterName": self.a.cluster, "haServerAddr": "", "compressed": "false",
                "bodyCrc32": str(zlib.crc32(body) & 0x7FFFFFFF)}

    async def register_all(self):
        async with self.reg_lock:
            body = self.register_body()
            for ns in self.a.namesrv.split(";"):
                hdr, err = await self.call_namesrv(ns, 103, self.reg_ext(body), body)
                if hdr is None or hdr.get("code") != 0:
                    log("register with", ns, "failed:", err or hdr)

    async def unregister_all(self):
        ext = {"brokerAddr": self.addr, "brokerId": "0", "brokerName": self.a.name,
               "clusterName": self.a.cluster}
        async with self.reg_lock:
            for ns in self.a.namesrv.split(";"):
                hdr, err = await self.call_namesrv(ns, 104, ext)
                log("unregister from", ns, "->", err or hdr.get("code"))

    async def register_loop(self):
        while True:
            await self.register_all()
            await asyncio.sleep(self.a.period_ms / 1000)

    # --- the message half -----------------------------------------------------------------------
    async def handle(self, hdr, body):
        code = hdr.get("code")
        ext = hdr.get("extFields") or {}
        if code in (10, 310):
            return await self.send_message(ext, body, v2=(code == 310))
        if code == 11:
            return await self.pull(ext)
        if code == 14:
            off = self.store.offsets.get((ext.get("consumerGroup"), ext.get("topic"), int(ext.get("queueId", 0))), 0)
            return 0, {"offset": str(off)}, b""
        if code == 15:
            self.store.offsets[(ext.get("consumerGroup"), ext.get("topic"), int(ext.get("queueId", 0)))] = int(ext.get("commitOffset", 0))
            return 0, {}, b""
        if code == 30:
            return 0, {"offset": str(len(self.store.q(ext.get("topic"), int(ext.get("queueId", 0)))))}, b""
        if code in (31, 29):
            return 0, {"offset": "0"}, b""
        if code == 34:
            return await self.heartbeat(body)
        if code == 38:
            ids = sorted(self.groups.get(ext.get("consumerGroup"), {}))
            return 0, {}, json.dumps({"consumerIdList": ids}).encode()
        return 0, {}, b""

    async def send_message(self, ext, body, v2):
        if v2:
            ext = {"topic": ext.get("b"), "queueId": ext.get("e"), "sysFlag": ext.get("f"),
                   "bornTimestamp": ext.get("g"), "flag": ext.get("h"), "properties": ext.get("i"),
                   "reconsumeTimes": ext.get("j")}
        topic = ext_str(ext.get("topic"))
        if topic not in self.topics:
            return 17, {}, b"", "topic[%s] not exist, apply first please!" % topic
        qid = int(ext_str(ext.get("queueId") or 0)) % QUEUES
        props = ext_str(ext.get("properties") or "")
        q = self.store.q(topic, qid)
        offset = len(q)
        phys = self.store.phys
        now = int(time.time() * 1000)
        msg = encode_message(topic, qid, offset, phys, int(ext_str(ext.get("sysFlag") or 0)),
                             int(ext_str(ext.get("bornTimestamp") or now)), now,
                             int(ext_str(ext.get("flag") or 0)), int(ext_str(ext.get("reconsumeTimes") or 0)),
                             body or b"", props, self.host, self.port)
        q.append(msg)
        self.store.phys += len(msg)
        async with self.store.cond:
            self.store.cond.notify_all()
        msg_id = "%s%04X%016X" % (socket.inet_aton(self.host).hex().upper(), self.port, phys)
        return 0, {"msgId": msg_id, "queueId": str(qid), "queueOffset": str(offset)}, b""

    async def pull(self, ext):
        topic = ext_str(ext.get("topic"))
        qid = int(ext_str(ext.get("queueId") or 0))
        off = int(ext_str(ext.get("queueOffset") or 0))
        maxn = int(ext_str(ext.get("maxMsgNums") or 32))
        group = ext_str(ext.get("consumerGroup"))
        commit = ext.get("commitOffset")
        if commit is not None and int(ext_str(commit)) > 0:
            self.store.offsets[(group, topic, qid)] = int(ext_str(commit))
        q = self.store.q(topic, qid)
        if off >= len(q):  # long-poll, bounded
            try:
                async with self.store.cond:
                    await asyncio.wait_for(self.store.cond.wait_for(lambda: off < len(q)), 1.0)
            except asyncio.TimeoutError:
                pass
        hdr = {"minOffset": "0", "maxOffset": str(len(q)), "suggestWhichBrokerId": "0"}
        if off > len(q):
            hdr["nextBeginOffset"] = str(len(q))
            return 21, hdr, b""  # PULL_OFFSET_MOVED
        if off == len(q):
            hdr["nextBeginOffset"] = str(off)
            return 19, hdr, b""  # PULL_NOT_FOUND: no new message
        msgs = q[off:off + maxn]
        hdr["nextBeginOffset"] = str(off + len(msgs))
        return 0, hdr, b"".join(msgs)

    async def heartbeat(self, body):
        text = (body or b"").decode("utf-8", "replace")
        m = re.search(r'"clientID"\s*:\s*"([^"]+)"', text)
        cid = m.group(1) if m else "unknown"
        groups = re.findall(r'"groupName"\s*:\s*"([^"]+)"', text)
        new_topic = False
        if '"consumerDataSet"' in text:
            cons = text[text.index('"consumerDataSet"'):]
            if '"producerDataSet"' in cons:
                cons = cons[:cons.index('"producerDataSet"')]
            for g in re.findall(r'"groupName"\s*:\s*"([^"]+)"', cons):
                self.groups.setdefault(g, {})[cid] = time.time()
                rt = "%RETRY%" + g
                if rt not in self.topics:
                    self.topics[rt] = self.topic_config(rt)
                    new_topic = True
        if new_topic:
            asyncio.get_running_loop().create_task(self.register_all())
        return 0, {}, b""

    async def serve_conn(self, r, w):
        try:
            while True:
                hdr, body = await read_frame(r)
                code = hdr.get("code")
                oneway = (hdr.get("flag", 0) & 2) != 0
                try:
                    res = await self.handle(hdr, body)
                except Exception as e:  # a bug of ours: answer SYSTEM_ERROR, keep serving
                    log("error handling code", code, repr(e))
                    res = (1, {}, b"", "stand-in error: %r" % e)
                if oneway:
                    continue
                rcode, rext, rbody = res[:3]
                remark = res[3] if len(res) > 3 else None
                w.write(encode(rcode, hdr.get("opaque", 0), rext, rbody, flag=1, remark=remark))
                await w.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except Exception as e:
            log("connection error", repr(e))
        finally:
            w.close()


async def read_frame(r):
    total = struct.unpack(">I", await r.readexactly(4))[0]
    data = await r.readexactly(total)
    mark = struct.unpack(">I", data[:4])[0]
    stype, hlen = mark >> 24, mark & 0xFFFFFF
    if stype != 0:
        raise ConnectionError("ROCKETMQ binary headers are not supported by the stand-in")
    return json.loads(data[4:4 + hlen]), data[4 + hlen:]


def encode(code, opaque, ext, body=b"", flag=1, remark=None):
    h = {"code": code, "flag": flag, "language": "JAVA", "opaque": opaque, "version": 401,
         "extFields": {k: ext_str(v) for k, v in ext.items()}, "serializeTypeCurrentRPC": "JSON"}
    if remark:
        h["remark"] = remark
    hb = json.dumps(h).encode()
    return struct.pack(">II", 4 + len(hb) + len(body), len(hb)) + hb + body


def encode_message(topic, qid, offset, phys, sysflag, born, stored, flag, reconsume, body, props, host, port):
    ip = socket.inet_aton(host)
    tb = topic.encode()
    pb = props.encode()
    parts = [
        struct.pack(">I", MAGIC),
        struct.pack(">i", zlib.crc32(body) & 0x7FFFFFFF),
        struct.pack(">i", qid),
        struct.pack(">i", flag),
        struct.pack(">q", offset),
        struct.pack(">q", phys),
        struct.pack(">i", sysflag),
        struct.pack(">q", born), ip + struct.pack(">i", port),
        struct.pack(">q", stored), ip + struct.pack(">i", port),
        struct.pack(">i", reconsume),
        struct.pack(">q", 0),
        struct.pack(">i", len(body)), body,
        struct.pack(">B", len(tb)), tb,
        struct.pack(">h", len(pb)), pb,
    ]
    rest = b"".join(parts)
    return struct.pack(">i", 4 + len(rest)) + rest


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="127.0.0.1:10921")
    ap.add_argument("--namesrv", required=True)
    ap.add_argument("--name", default="standin-a")
    ap.add_argument("--cluster", default="DefaultCluster")
    ap.add_argument("--topics", default="")
    ap.add_argument("--period-ms", type=int, default=10000)
    a = ap.parse_args()
    b = Broker(a)
    server = await asyncio.start_server(b.serve_conn, b.host, b.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    reg = loop.create_task(b.register_loop())
    log("listening on", a.listen, "registered with", a.namesrv)
    await stop.wait()
    reg.cancel()
    server.close()
    await b.unregister_all()


if __name__ == "__main__":
    asyncio.run(main())
