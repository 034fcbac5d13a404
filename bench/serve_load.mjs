// Bounded load test of `datamate serve` on loopback: N concurrent clients issue a mixed
// sequence of API calls for S seconds; prints requests, errors, p50 / p99 latency and the
// server's peak RSS. Usage:
//   node bench/serve_load.mjs DATAMATE DATA [CONFIG] [--clients 8] [--seconds 30]
// A request counts as an error when it gets a 5xx, a network error, or an unexpected status
// (the deliberately bad filter must get 400). Exit status 1 when any error occurred.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  if (i < 0) return def;
  const v = args[i + 1];
  args.splice(i, 2);
  return Number(v);
};
const clients = opt('--clients', 8);
const seconds = opt('--seconds', 30);
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
];
let errors = 0;
let next = 0;
const lat = [];
const end = Date.now() + seconds * 1000;
async function worker() {
  while (Date.now() < end) {
    const [p, want] = calls[next++ % calls.length];
    const t = performance.now();
    try {
      const r = await fetch(base + p);
      await r.arrayBuffer();
      if (r.status !== want) errors++;
    } catch {
      errors++;
    }
    lat.push(performance.now() - t);
  }
}
await Promise.all(Array.from({ length: clients }, worker));
const rss = readFileSync(`/proc/${srv.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/)[1];
srv.kill('SIGTERM');
lat.sort((a, b) => a - b);
const q = (f) => lat[Math.min(lat.length - 1, Math.floor(lat.length * f))].toFixed(1);
console.log(`serve load: ${meta.rows} flows, ${clients} clients, ${seconds} s: ${lat.length} requests ` +
  `(${(lat.length / seconds).toFixed(0)}/s), ${errors} errors, p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, ` +
  `server peak RSS ${(rss / 1024).toFixed(0)} MiB`);
process.exit(errors ? 1 : 0);
