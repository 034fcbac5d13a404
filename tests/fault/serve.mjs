// Fault injection on the HTTP path: `datamate serve` with DM_ALLOC_FAIL=N for N = 1..total
// (every DM_FAULT_STEP-th; total = the allocations an undisturbed session makes, reported by
// DM_ALLOC_COUNT=1). The undisturbed session is: start, a fixed list of requests covering
// every route, the same list again, SIGTERM; a faulted session makes two more passes (the
// worker threads make the count vary a little between runs, so N near the total can fall in
// the third pass). For each N the server must either refuse to start with a one-line
// "datamate ..." error (exit 1), or serve: every response of the first three passes equal to
// the undisturbed one or a 5xx (for /api/ with a JSON {"error": ...} body), the fourth pass
// entirely equal (the failure did not break the server), then exit 0 on SIGTERM with no
// sanitizer or leak report.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';

const BIN = process.env.DM_BIN;
const STEP = Number(process.env.DM_FAULT_STEP || 13);
const W = mkdtempSync(join(tmpdir(), 'dm-fault-serve-'));
process.on('exit', () => rmSync(W, { recursive: true, force: true }));

let n = 0;
let failed = 0;
function ok(cond, name, detail) {
  n++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!cond) {
    failed++;
    if (detail) console.log(String(detail).split('\n').slice(0, 12).map((l) => `#   ${l}`).join('\n'));
  }
}

const PATHS = [
  '/',
  '/api/meta',
  '/api/flows?limit=50&sort=bytes&order=desc',
  '/api/flows?q=dport%20%3D%20443%20and%20src%20internal&limit=20',
  '/api/flows?q=bogus%20%3D%201',
  '/api/top?key=pair&by=bytes&limit=10',
  '/api/top?key=src&by=peers&limit=10',
  '/api/histogram?bucket=1h',
  '/api/graph?ips=10.0.0.0/8&max_nodes=50',
  '/api/findings?limit=20',
  '/api/nope',
];

function get(port, path) {
  return new Promise((res) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      r.on('error', (e) => res({ status: -1, body: String(e) }));
    });
    req.on('error', (e) => res({ status: -1, body: String(e) }));
    req.setTimeout(30000, () => req.destroy(new Error('timeout')));
  });
}

// One session. Returns {started, code, stderr, passes: [[{status, body}...], ...]}.
function session(env, npass) {
  return new Promise((resolve) => {
    const args = ['serve', join(W, 'f.parquet'), '--config', join(W, 'config.json'), '--listen', '127.0.0.1:0',
      '--no-open', '--threads', '1', '--quiet'];
    const p = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DISPLAY: '', WAYLAND_DISPLAY: '', ...env } });
    let out = '', err = '', started = false;
    const passes = [];
    p.stderr.on('data', (d) => (err += d));
    p.stdout.on('data', async (d) => {
      out += d;
      const m = out.match(/^http:\/\/127\.0\.0\.1:(\d+)\//m);
      if (!m || started) return;
      started = true;
      const port = Number(m[1]);
      for (let pass = 0; pass < npass; pass++) {
        const rs = [];
        for (const path of PATHS) rs.push(await get(port, path));
        passes.push(rs);
      }
      p.kill('SIGTERM');
    });
    p.on('exit', (code, sig) => resolve({ started, code: code ?? sig, stderr: err, passes }));
  });
}

const sanitizer = /Sanitizer|runtime error|LeakSanitizer|AddressSanitizer/;

execFileSync(BIN, ['gen', '-q', '--rows', '3000', '--seed', '5', '-o', join(W, 'g.jsonl'), '--config', join(W, 'config.json')]);
execFileSync(BIN, ['convert', '-q', '--threads', '1', join(W, 'g.jsonl'), '-o', join(W, 'f.parquet')]);

const base = await session({ DM_ALLOC_COUNT: '1' }, 2);
const total = Number((base.stderr.match(/datamate: (\d+) allocations/) || [])[1] || 0);
ok(base.started && base.code === 0 && total > 0 && !sanitizer.test(base.stderr), `undisturbed session (${total} allocations)`, base.stderr);
const want = base.passes[0] || [];
ok(want.length === PATHS.length && JSON.stringify(base.passes[0]) === JSON.stringify(base.passes[1]) &&
  want.filter((r) => r.status === 200).length === PATHS.length - 2, 'undisturbed responses are stable and 200 except the two bad requests',
  JSON.stringify(want.map((r) => r.status)));

let bad = 0, runs = 0, refused = 0, failedReq = 0;
const problems = [];
for (let N = 1; N <= total && bad < 5; N += STEP) {
  runs++;
  const s = await session({ DM_ALLOC_FAIL: String(N) }, 4);
  let why = '';
  if (sanitizer.test(s.stderr)) why = 'sanitizer report';
  else if (!s.started) {
    if (s.code !== 1 || !/^datamate/m.test(s.stderr)) why = `did not start and exit ${s.code} without a datamate error`;
    else refused++;
  } else {
    if (s.code !== 0) why = `exit ${s.code} after SIGTERM`;
    s.passes.slice(0, 3).flat().forEach((r, j) => {
      const i = j % PATHS.length;
      const same = r.status === want[i].status && r.body === want[i].body;
      if (same) return;
      let json = null;
      try { json = JSON.parse(r.body); } catch { /* not JSON */ }
      if (r.status >= 500 && (!PATHS[i].startsWith('/api/') || (json && typeof json.error === 'string'))) failedReq++;
      else why ||= `${PATHS[i]}: status ${r.status} differs and is not a 5xx JSON error: ${r.body.slice(0, 200)}`;
    });
    if (JSON.stringify(s.passes[3]) !== JSON.stringify(want))
      why ||= `fourth pass differs: ${JSON.stringify(s.passes[3].map((r) => r.status))}`;
  }
  if (why) {
    bad++;
    problems.push(`DM_ALLOC_FAIL=${N}: ${why}\n${s.stderr.split('\n').slice(0, 6).join('\n')}`);
  }
}
ok(bad === 0 && runs > 0, `serve: N=1..${total} every ${STEP} (${runs} sessions: ${refused} clean start-up errors, ${failedReq} requests answered 5xx JSON, others identical)`, problems.join('\n'));
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
