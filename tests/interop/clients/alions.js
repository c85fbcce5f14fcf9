#!/usr/bin/env node
// Drives ali-ons 3.12.0 (pure JS RocketMQ client) for the interop suite.
//
//   alions.js produce --namesrv 'A;B' --topic T[,T2] --count N [--tag RUN] [--pause-file F]
//   alions.js consume --namesrv A --topic T --group G --count N --timeout-secs S [--tag RUN]
//
// NODE_PATH must point at the node_modules holding ali-ons (the interop cache). Prints one
// `KEY value...` line per event; exit 0 when every send was SEND_OK / every expected message
// arrived, 1 otherwise.
'use strict';

const fs = require('fs');
const { Producer, Consumer, Message } = require('ali-ons');

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}
const cmd = process.argv[2];
const namesrv = arg('--namesrv').split(';');
const topics = arg('--topic').split(',');
const count = Number(arg('--count', '10'));
const tag = arg('--tag', 'run');
const intervalMs = Number(arg('--interval-ms', '0'));
const pauseFile = arg('--pause-file');
const timeoutSecs = Number(arg('--timeout-secs', '60'));
// ali-ons only needs an httpclient to poll an address server; with nameSrv it never calls it.
const httpclient = { request: async () => { throw new Error('no address server in this test'); } };
const out = (...a) => console.log(...a);
const sleep = ms => new Promise(r => setTimeout(r, ms));
// Quiet ali-ons' own console logger: our lines are what the suite reads.
const logger = { info() {}, warn() {}, debug() {}, error: (...a) => console.error(...a) };

async function produce() {
  const producer = new Producer({ httpclient, nameSrv: namesrv, producerGroup: arg('--group', 'interop_alions_producer'), logger });
  producer.on('error', e => console.error('producer error', e && e.message));
  await producer.ready();
  out('STARTED');
  let sent = 0, failed = 0;
  for (let t = 0; t < topics.length; t++) {
    if (t > 0) {
      out('HALF');
      if (pauseFile) {
        const end = Date.now() + 60000;
        while (!fs.existsSync(pauseFile) && Date.now() < end) await sleep(100);
      }
    }
    for (let i = 0; i < count; i++) {
      const body = `${tag}-${'b'.repeat(t)}${i}`;
      try {
        const r = await producer.send(new Message(topics[t], 'interop', body));
        if (r && r.sendStatus === 'SEND_OK') {
          sent++;
          out('SENT', i, body, r.msgId);
        } else {
          failed++;
          out('SEND_FAIL', i, r && r.sendStatus);
        }
      } catch (e) {
        failed++;
        out('SEND_ERR', i, (e && (e.name + ' ' + e.message) || String(e)).replace(/\n/g, ' ').slice(0, 300));
      }
      if (intervalMs) await sleep(intervalMs);
    }
  }
  out(`PRODUCED sent=${sent} failed=${failed}`);
  process.exit(failed === 0 ? 0 : 1);
}

async function consume() {
  const want = new Set();
  for (let i = 0; i < count; i++) want.add(`${tag}-${i}`);
  const seen = new Set();
  let deliveries = 0;
  const consumer = new Consumer({
    httpclient, nameSrv: namesrv, consumerGroup: arg('--group'), logger,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', rebalanceInterval: 2000,
  });
  consumer.on('error', e => console.error('consumer error', e && e.message));
  consumer.subscribe(topics[0], '*', async msg => {
    deliveries++;
    seen.add(msg.body.toString());
  });
  await consumer.ready();
  out('READY');
  const end = Date.now() + timeoutSecs * 1000;
  while (Date.now() < end) {
    let all = true;
    for (const w of want) if (!seen.has(w)) { all = false; break; }
    if (all) break;
    await sleep(200);
  }
  let got = 0;
  for (const w of want) if (seen.has(w)) got++;
  out(`CONSUMED expected=${want.size} got=${got} deliveries=${deliveries}`);
  process.exit(got === want.size ? 0 : 1);
}

(cmd === 'produce' ? produce() : consume()).catch(e => {
  out('FATAL', (e && (e.name + ' ' + e.message) || String(e)).replace(/\n/g, ' ').slice(0, 300));
  process.exit(1);
});
