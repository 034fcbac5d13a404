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
  // a known mail server sending mail (SMTP) is doing its job: no volume, pcr, rarity or
  // beacon finding on it
  const c = JSON.parse(fs.readFileSync(path.join(dir, cfg)));
  const mail = Object.keys(c.known_servers || {}).filter((ip) => /mail/i.test(c.known_servers[ip]));
  const mailHits = res.findings.filter((f) => mail.includes(f.host) &&
    ['volume', 'pcr', 'rare_destination', 'beacon'].includes(f.kind));
  ok(mail.length > 0 && mailHits.length === 0,
     `${tag}: mail server(s) ${mail.join(', ')} sending SMTP get no volume/pcr/rare/beacon finding (${mailHits.map((f) => f.kind).join(', ')})`);
  // DNS to approved resolvers is routine: no volume, pcr, rarity or beacon finding whose
  // peers are all approved resolvers
  const resolvers = ((c.hunt || {}).approved_resolvers || []);
  const dnsHits = res.findings.filter((f) => ['volume', 'pcr', 'rare_destination', 'beacon'].includes(f.kind) &&
    f.peers.length > 0 && f.peers.every((ip) => resolvers.includes(ip)));
  ok(resolvers.length > 0 && dnsHits.length === 0,
     `${tag}: no volume/pcr/rare/beacon finding on approved resolvers only (${dnsHits.map((f) => `${f.kind} ${f.host}`).join(', ')})`);
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
    // a host's own daily baseline: with "material" lowered to 5 MB, a workstation whose PCR
    // jumps towards +1 for a day is a pcr finding; its numbers come back from query
    c.hunt.thresholds = { min_bytes: 5000000 };
    fs.writeFileSync(path.join(dir, 'tz.json'), JSON.stringify(c));
    const lo = JSON.parse(run(['hunt', pq, '--config', 'tz.json', '--format', 'json', '--limit', '0']));
    const shifts = lo.findings.filter((f) => f.kind === 'pcr' && f.evidence.days > 0);
    ok(shifts.length > 0, `${tag}: min_bytes 5 MB: a PCR shift finding (${shifts.length})`);
    const summ = (w) => JSON.parse(run(['query', pq, '--config', 'tz.json', '--where', w, '--summary', '--format', 'json']));
    const pcr = (o, i) => (o + i ? (o - i) / (o + i) : 0);
    const allow = ((c.hunt.allow || {}).destinations || []);
    const notAllowed = allow.length ? ` and not dst in [${allow.join(', ')}]` : '';
    for (const f of shifts.slice(0, 2)) {
      const all = summ(f.filter);
      const day = f.start.slice(0, 10);
      const days = [];
      for (let d = Date.parse(t.start); d < Date.parse(t.end); d += 86400000) {
        const a = new Date(d).toISOString().slice(0, 10), b = new Date(d + 86400000).toISOString().slice(0, 10);
        const q = summ(`src = ${f.host} and dst external and ts >= "${a}T00:00:00Z" and ts < "${b}T00:00:00Z"${notAllowed}`);
        if (q.rows) days.push([a, pcr(q.sent, q.recv)]);
      }
      const v = days.map((x) => x[1]).sort((x, y) => x - y);
      const med = v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
      const mine = days.find((x) => x[0] === day);
      ok(all.rows === f.flows && all.sent === f.bytes_out && mine && Math.abs(mine[1] - f.evidence.pcr) < 1e-5 &&
         Math.abs(med - f.evidence.baseline_pcr) < 1e-5 && f.evidence.days === days.length &&
         f.evidence.pcr - med >= 0.5,
         `${tag}: pcr shift ${f.host} on ${day}: query gives ${all.rows} flows, ${all.sent} bytes, PCR ${mine && mine[1].toFixed(3)} against a daily median of ${med.toFixed(3)} over ${days.length} days (finding: ${f.flows}, ${f.bytes_out}, ${f.evidence.pcr}, ${f.evidence.baseline_pcr}, ${f.evidence.days})`);
    }
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
