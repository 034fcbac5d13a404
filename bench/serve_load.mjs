// Bounded load test of `datamate serve` on loopback: N concurrent clients issue a mixed
// sequence of API calls for S seconds (or until R requests are done), while --slow K clients
// hold half-sent requests open the whole time and an oversized request is sent now and then;
// prints requests, errors, p50 / p99 latency, the server's resident memory sampled at every
// tenth of the run and its peak. Usage:
//   node bench/serve_load.mjs DATAMATE DATA [CONFIG] [--clients 8] [--seconds 30 | --requests R]
//                             [--slow 16]
// A request counts as an error when it gets a 5xx, a network error, or an unexpected status
// (the deliberately bad filter must get 400, the oversized request 414/431). Memory is
// "stable" when resident memory grew by less than 10% between the 20% mark and the end.
// Exit status 1 when any error occurred or memory was not stable.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  if (i < 0) return def;
  const v = args[i + 1];
  args.splice(i, 2);
  return Number(v);
};
const clients = opt('--clients', 8);
const requests = opt('--requests', 0);
const seconds = opt('--seconds', requests ? 1e9 : 30);
const slow = opt('--slow', 16);
const [bin, data, config] = args;
if (!bin || !data) {
  console.error('usage: node bench/serve_load.mjs DATAMATE DATA [CONFIG] [--clients N] [--seconds S]');
  process.exit(2);
}
const srvArgs = ['serve', data, '--no-open', '--listen', '127.0.0.1:0'];
if (config) srvArgs.push('--config', config);
const srv = spawn(bin, srvArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise((resolve, reject) => {
  let out = '';
  srv.stdout.on('data', (d) => {
    out += d;
    const m = out.match(/http:\/\/[^\s]+/);
    if (m) resolve(m[0].replace(/\/$/, ''));
  });
  srv.on('exit', (c) => reject(new Error(`server exited ${c}`)));
});
const meta = await (await fetch(`${base}/api/meta`)).json();
const top = await (await fetch(`${base}/api/top?key=src&limit=1`)).json();
const ip = (top.rows && top.rows[0] && top.rows[0].src) || '10.0.0.1';
const enc = encodeURIComponent;
const calls = [
  ['/api/meta', 200],
  ['/api/flows?limit=100', 200],
  ['/api/flows?limit=100&sort=bytes_sent&order=desc', 200],
  [`/api/flows?limit=50&offset=5000&q=${enc('dst external and dport = 443')}`, 200],
  ['/api/top?key=src&by=sent', 200],
  ['/api/top?key=dport&by=flows', 200],
  [`/api/top?key=dst&q=${enc('src 10.0.0.0/8')}`, 200],
  ['/api/histogram?bucket=1h', 200],
  [`/api/graph?ips=${enc(ip)}`, 200],
  [`/api/flows?q=${enc('bad =')}`, 400],
  ['/', 200],
  [`/api/flows?q=${'x'.repeat(70000)}`, [414, 431]],
];
const rssKiB = (field) => Number(readFileSync(`/proc/${srv.pid}/status`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+)`))[1]);

const t0 = Date.now();
// slow clients: connect, send half a request line, never finish
const port = new URL(base).port;
const slowSocks = await Promise.all(Array.from({ length: slow }, () => new Promise((res) => {
  const sk = net.connect(port, '127.0.0.1', () => { sk.write('GET /api/meta HTTP/1.1\r\nHost: 127.0.0.1'); res(sk); });
  sk.on('error', () => {});
  sk.on('close', () => { sk.closedAfter = (Date.now() - t0) / 1000; });
})));
let errors = 0;
let next = 0;
const lat = [];
const samples = [];
const end = t0 + seconds * 1000;
const more = () => (requests ? next < requests : Date.now() < end);
let mark = 1;
async function worker() {
  while (more()) {
    const [p, want] = calls[next++ % calls.length];
    const t = performance.now();
    try {
      const r = await fetch(base + p);
      await r.arrayBuffer();
      if (Array.isArray(want) ? !want.includes(r.status) : r.status !== want) errors++;
    } catch {
      errors++;
    }
    lat.push(performance.now() - t);
    const frac = requests ? lat.length / requests : (Date.now() - t0) / (seconds * 1000);
    if (frac >= mark / 10 && mark <= 10) {
      samples[mark] = rssKiB('VmRSS');
      mark++;
    }
  }
}
await Promise.all(Array.from({ length: clients }, worker));
const elapsed = (Date.now() - t0) / 1000;
samples[10] ??= rssKiB('VmRSS');
samples[2] ??= samples[10];
const rss = rssKiB('VmHWM');
// the slow clients are never answered; the server drops them after its idle timeout
const slowOpen = slowSocks.filter((sk) => !sk.destroyed).length;
const closedAt = slowSocks.filter((sk) => sk.closedAfter !== undefined).map((sk) => sk.closedAfter);
const slowNote = closedAt.length
  ? `${slowOpen} still open, ${closedAt.length} dropped by the server after ${Math.min(...closedAt).toFixed(0)}-${Math.max(...closedAt).toFixed(0)} s idle`
  : `${slowOpen} still open`;
for (const sk of slowSocks) sk.destroy();
srv.kill('SIGTERM');
lat.sort((a, b) => a - b);
const q = (f) => lat[Math.min(lat.length - 1, Math.floor(lat.length * f))].toFixed(1);
const growth = (samples[10] - samples[2]) / samples[2];
const stable = growth < 0.1;
const mib = (k) => (k / 1024).toFixed(1);
console.log(`serve load: ${meta.rows} flows, ${clients} clients + ${slow} slow (${slowNote}), ` +
  `${elapsed.toFixed(0)} s: ${lat.length} requests (${(lat.length / elapsed).toFixed(0)}/s), ${errors} errors, ` +
  `p50 ${q(0.5)} ms, p99 ${q(0.99)} ms`);
console.log(`server RSS MiB at each tenth: ${samples.slice(1).map(mib).join(' ')}; peak ${mib(rss)}; ` +
  `growth from 20% to end ${(growth * 100).toFixed(1)}% (${stable ? 'stable' : 'NOT stable'})`);
process.exit(errors || !stable ? 1 : 0);
