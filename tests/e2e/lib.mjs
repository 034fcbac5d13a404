// Shared by the e2e suites: TAP output, the test dataset, and `datamate serve` processes.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import http from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = process.env.DM_ROOT || resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BUILD = process.env.DM_BUILD || join(ROOT, 'build');
export const BIN = process.env.DM_BIN || join(BUILD, 'datamate');
export const OUT = join(BUILD, 'e2e');

// ---- TAP ----
let n = 0;
let failed = 0;
export function ok(cond, name, detail) {
  n++;
  if (cond) console.log(`ok ${n} - ${name}`);
  else {
    failed++;
    console.log(`not ok ${n} - ${name}`);
    if (detail !== undefined) console.log(`# ${String(typeof detail === 'string' ? detail : JSON.stringify(detail)).slice(0, 600).replace(/\n/g, '\n# ')}`);
  }
  return cond;
}
export function eq(got, want, name) {
  return ok(JSON.stringify(got) === JSON.stringify(want), name, `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}
export function done() {
  console.log(`# ${n - failed} passed, ${failed} failed`);
  return failed;
}

// ---- data ----
export function dataset() {
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, 'flows.parquet');
  execFileSync(join(BUILD, 'helpers/e2e_mkdata'), [file], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { file, config: join(ROOT, 'tests/e2e/config.json'), expect: JSON.parse(readFileSync(file + '.expect.json', 'utf8')) };
}

// ---- servers ----
const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGTERM');
});

// Starts `datamate serve ARGS`, resolves {url, proc, stderr()} once the URL is printed.
export function serve(args, timeoutMs = 60000) {
  // DM_E2E_URL: use an already running server for the first call (developing the tests).
  if (process.env.DM_E2E_URL && !serve.used) {
    serve.used = true;
    const fake = { exitCode: 0, once() {}, kill() {} };
    return Promise.resolve({ url: process.env.DM_E2E_URL, proc: fake, stderr: () => '', stop: () => 0 });
  }
  return new Promise((res, rej) => {
    const proc = spawn(BIN, ['serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DISPLAY: '', WAYLAND_DISPLAY: '' } });
    children.add(proc);
    let out = '';
    let err = '';
    const timer = setTimeout(() => rej(new Error(`serve did not print a URL in time; stderr: ${err}`)), timeoutMs);
    proc.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('http'));
      if (line && out.includes('\n')) {
        clearTimeout(timer);
        res({ url: line.trim(), proc, stderr: () => err, stop: () => stop(proc) });
      }
    });
    proc.stderr.on('data', (d) => {
      err += d;
    });
    proc.on('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
    proc.on('exit', (code) => {
      children.delete(proc);
      clearTimeout(timer);
      rej(new Error(`serve exited with ${code}: ${err}`));
    });
  });
}

export function stop(proc) {
  return new Promise((res) => {
    if (proc.exitCode !== null) return res(proc.exitCode);
    proc.once('exit', (code) => res(code));
    proc.kill('SIGTERM');
  });
}

// Raw HTTP GET (headers fully controllable, e.g. Host). Resolves {status, headers, body}.
export function request(url, { headers = {}, method = 'GET' } = {}) {
  const u = new URL(url);
  return new Promise((res, rej) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers, setHost: !('Host' in headers) }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode, headers: r.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', rej);
    req.end();
  });
}

export async function getJSON(url) {
  const r = await request(url);
  let json = null;
  try {
    json = JSON.parse(r.body.toString('utf8'));
  } catch (e) {
    json = null;
  }
  return { ...r, json };
}

export function requireTool(name) {
  const require = createRequire(join(ROOT, 'tools/package.json'));
  return require(name);
}

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = () => existsSync(CHROMIUM);
