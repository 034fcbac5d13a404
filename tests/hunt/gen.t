#!/usr/bin/env node
// End to end: datamate gen (planted scenarios + ground truth + config) -> convert -> hunt.
// Each malicious scenario's (host, peer) must be in the top 10 findings with its kind; the
// benign look-alikes' hosts must not be in the top 10; two runs (different thread counts)
// must print the same bytes; and each top finding's filter, run through `datamate query`,
// must give back the finding's flow count and outbound bytes.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const bin = process.env.DM_BIN || path.join(__dirname, '../../build/datamate');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dm-hunt-'));
let n = 0;
const ok = (cond, name) => console.log(`${cond ? 'ok' : 'not ok'} ${++n} - ${name}`);
const run = (args) => execFileSync(bin, args, { cwd: dir, maxBuffer: 1 << 28 }).toString();

const expected = {
  night_upload: 'off_hours', db_exfil: 'role_violation', beacon: 'beacon',
  dns_tunnel: 'tunnel', slow_leak: 'rare_destination',
};

function dataset(seed, schema, rows) {
  const tag = `seed ${seed} ${schema}`;
  const jsonl = `f${seed}.jsonl`, pq = `f${seed}.parquet`, truth = `t${seed}.json`;
  const cfg = `c${seed}.json`;
  run(['gen', '-q', '-o', jsonl, '--rows', String(rows), '--seed', String(seed), '--schema',
       schema, '--truth', truth, '--config', cfg]);
  run(['convert', '-q', jsonl, '-o', pq]);
  const out1 = run(['hunt', pq, '--config', cfg, '--format', 'json', '--limit', '0']);
  const out2 = run(['hunt', pq, '--config', cfg, '--format', 'json', '--limit', '0',
                    '--threads', '1']);
  ok(out1 === out2, `${tag}: same findings with 1 thread and with all`);
  const res = JSON.parse(out1);
  const top = res.findings.slice(0, 10);
  const t = JSON.parse(fs.readFileSync(path.join(dir, truth)));
  for (const s of t.scenarios) {
    if (s.malicious) {
      const kind = expected[s.kind];
      const hit = top.find((f) => f.host === s.host && f.peers.includes(s.peer) && f.kind === kind);
      ok(!!hit, `${tag}: ${s.kind} ${s.host} -> ${s.peer} is a top-10 ${kind} finding`);
    } else {
      const hit = top.find((f) => f.host === s.host);
      ok(!hit, `${tag}: benign ${s.kind} (${s.host}) is not in the top 10`);
    }
  }
  // every top finding's numbers come back from its filter
  for (const f of top) {
    const q = (w) => JSON.parse(run(['query', pq, '--config', cfg, '--where', w, '--summary',
                                     '--format', 'json']));
    const all = q(f.filter);
    const out = q(`(${f.filter}) and src = ${f.host}`).sent + q(`(${f.filter}) and dst = ${f.host}`).recv;
    ok(all.rows === f.flows && out === f.bytes_out,
       `${tag}: ${f.kind} ${f.host}: query --where filter gives ${all.rows} flows / ${out} bytes, finding says ${f.flows} / ${f.bytes_out}`);
  }
  // scores in range and ranked; hosts roll-up present
  ok(res.findings.every((f, i) => f.score >= 0 && f.score <= 100 &&
                         (i === 0 || res.findings[i - 1].score >= f.score)),
     `${tag}: scores in 0..100 and ranked`);
  if (seed === 1) {
    // a named time zone (DST rules from tzdata): the night upload stays off hours in Berlin
    // (01:33 UTC = 02:33 CET); an unknown zone is an error naming it
    const c = JSON.parse(fs.readFileSync(path.join(dir, cfg)));
    c.hunt = { ...(c.hunt || {}), timezone: 'Europe/Berlin' };
    fs.writeFileSync(path.join(dir, 'tz.json'), JSON.stringify(c));
    const tz = JSON.parse(run(['hunt', pq, '--config', 'tz.json', '--format', 'json', '--limit', '10']));
    const night = t.scenarios.find((s) => s.kind === 'night_upload');
    ok(tz.findings.some((f) => f.kind === 'off_hours' && f.host === night.host && f.peers.includes(night.peer)),
       `${tag}: timezone Europe/Berlin: the night upload is still a top-10 off_hours finding`);
    c.hunt.timezone = 'Europe/Atlantis';
    fs.writeFileSync(path.join(dir, 'tz.json'), JSON.stringify(c));
    let msg = '', code = 0;
    try {
      execFileSync(bin, ['hunt', pq, '--config', 'tz.json'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      code = e.status;
      msg = e.stderr.toString();
    }
    ok(code !== 0 && msg.includes("unknown time zone 'Europe/Atlantis'"),
       `${tag}: an unknown time zone is an error naming it (exit ${code}: ${msg.trim()})`);
  }
  ok(Array.isArray(res.hosts) && res.hosts.length > 0 &&
     res.hosts.every((h) => typeof h.host === 'string' && Array.isArray(h.kinds)),
     `${tag}: hosts roll-up`);
}

try {
  dataset(1, 'datamate', 300000);
  dataset(7, 'zeek', 200000);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
