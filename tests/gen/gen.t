#!/usr/bin/env node
// End-to-end checks of `datamate gen` through the binary: exact row counts, every line
// valid JSON (JSON.parse), byte-identical output for the same arguments whatever the
// thread count, truth and config documents, and every planted scenario visible in the
// output of every schema.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const bin = process.env.DM_BIN || 'build/datamate';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dm-gen-'));
let n = 0;
function ok(cond, name) {
  n++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
}
function gen(args) {
  execFileSync(bin, ['gen', '-q', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}
const read = (f) => fs.readFileSync(path.join(dir, f));

try {
  // Determinism: same arguments, 1 and 2 threads, and via stdout.
  const rows = 200000;
  gen(['-o', path.join(dir, 'a.jsonl'), '--rows', String(rows), '--seed', '5', '--threads', '1']);
  gen(['-o', path.join(dir, 'b.jsonl'), '--rows', String(rows), '--seed', '5', '--threads', '2']);
  const a = read('a.jsonl'), b = read('b.jsonl');
  ok(a.equals(b), 'identical output with --threads 1 and --threads 2');
  const c = execFileSync(bin, ['gen', '-q', '-o', '-', '--rows', String(rows), '--seed', '5'],
                         { maxBuffer: 1 << 30 });
  ok(a.equals(c), 'identical output on standard output');
  gen(['-o', path.join(dir, 'd.jsonl'), '--rows', String(rows), '--seed', '6']);
  ok(!a.equals(read('d.jsonl')), 'another seed gives other data');
  ok(fs.readdirSync(dir).every((f) => !f.includes('.tmp-')), 'no temporary files left');

  const kinds = ['night_upload', 'db_exfil', 'beacon', 'dns_tunnel', 'slow_leak', 'backup',
                 'os_update', 'dmz_web'];
  const fields = {
    datamate: (r) => [r['_SourceIP'], r['_DestinationIP'], r['_@timestamp']],
    ecs: (r) => [r.source.ip, r.destination.ip, r['@timestamp']],
    zeek: (r) => [r['id.orig_h'], r['id.resp_h'], r.ts],
    suricata: (r) => [r.src_ip, r.dest_ip, r.flow.start],
  };
  // Suricata prints IPv6 fully expanded; compare canonical forms.
  const canon = (ip) => {
    if (!ip.includes(':')) return ip;
    const g = ip.split(':').map((x) => (x === '' ? x : parseInt(x, 16).toString(16)));
    const s = g.join(':');
    const runs = s.match(/(^|:)0(:0)+(:|$)/g);
    if (!runs) return s;
    const longest = runs.reduce((m, x) => (x.length > m.length ? x : m));
    return s.replace(longest, '::');
  };
  for (const schema of Object.keys(fields)) {
    const rows2 = 30000;
    const out = path.join(dir, `${schema}.jsonl`);
    const truthFile = path.join(dir, `${schema}-truth.json`);
    const cfgFile = path.join(dir, `${schema}-config.json`);
    gen(['-o', out, '--rows', String(rows2), '--schema', schema, '--days', '7', '--seed', '11',
         '--truth', truthFile, '--config', cfgFile]);
    const lines = fs.readFileSync(out, 'utf8').split('\n');
    ok(lines.pop() === '' && lines.length === rows2, `${schema}: exactly ${rows2} lines`);
    let bad = 0, unsorted = 0, prev = -Infinity;
    const pairs = new Set();
    for (const l of lines) {
      let r;
      try { r = JSON.parse(l); } catch (e) { bad++; continue; }
      const [s, d, t] = fields[schema](r);
      const tm = typeof t === 'number' ? t * 1000 : Date.parse(t.replace('+0000', 'Z'));
      if (tm + 1 < prev) unsorted++;
      prev = Math.max(prev, tm);
      pairs.add(canon(s) + ' ' + canon(d));
    }
    ok(bad === 0, `${schema}: every line is valid JSON (${bad} bad)`);
    ok(unsorted === 0, `${schema}: rows in non-decreasing start time`);
    let truth, cfg;
    try { truth = JSON.parse(fs.readFileSync(truthFile, 'utf8')); } catch (e) { truth = null; }
    try { cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8')); } catch (e) { cfg = null; }
    ok(truth && truth.rows === rows2 && truth.seed === 11, `${schema}: truth parses`);
    ok(cfg && cfg.hunt && cfg.known_servers && cfg.template && cfg.targeted_cols.length === 7,
       `${schema}: config parses`);
    if (!truth || !cfg) continue;
    ok(JSON.stringify(truth.scenarios.map((s) => s.kind)) === JSON.stringify(kinds),
       `${schema}: every scenario kind in the truth`);
    const backup = truth.scenarios.find((s) => s.kind === 'backup');
    ok(cfg.hunt.allow.destinations[0] === backup.peer, `${schema}: backup peer allowlisted`);
    const missing = truth.scenarios.filter((s) => s.peer && !pairs.has(s.host + ' ' + s.peer))
                                   .map((s) => s.kind);
    ok(missing.length === 0, `${schema}: planted host/peer pairs in the output (${missing})`);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
