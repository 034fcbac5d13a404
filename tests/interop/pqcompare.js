// Shared by the reader interop tests: run datamate, parse `inspect --rows N --json` lines
// keeping number text, and compare cells with DuckDB's canonical values (see
// make-golden.mjs for the canonical form, produced by duckdbExpr()).
'use strict';
const { spawnSync } = require('child_process');

let bin = null;
function setBin(b) { bin = b; }

function run(args) {
  const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  return { status: r.status, signal: r.signal, stdout: r.stdout || '', stderr: r.stderr || '' };
}
// Flat JSON object parser keeping number text: {"k": "s" | 123.4 | true | null, ...}.
function parseRow(line) {
  const out = [];
  let i = 0;
  const ws = () => { while (line[i] === ' ') i++; };
  const str = () => {
    let j = i + 1;
    while (line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
    const s = JSON.parse(line.slice(i, j + 1));
    i = j + 1;
    return s;
  };
  if (line[i++] !== '{') throw new Error('not an object: ' + line.slice(0, 80));
  ws();
  if (line[i] === '}') return out;
  for (;;) {
    ws();
    const k = str();
    ws();
    if (line[i++] !== ':') throw new Error('expected :');
    ws();
    let v;
    if (line[i] === '"') v = { s: str() };
    else {
      let j = i;
      while (j < line.length && line[j] !== ',' && line[j] !== '}') j++;
      const t = line.slice(i, j).trim();
      i = j;
      v = t === 'null' ? null : { t };
    }
    out.push([k, v]);
    ws();
    if (line[i] === ',') { i++; continue; }
    if (line[i] === '}') break;
    throw new Error('bad row syntax');
  }
  return out;
}

function readRows(file, limit) {
  const r = run(['inspect', '--rows', String(limit), '--json', file]);
  if (r.status !== 0) return { err: r.stderr || `exit ${r.status} signal ${r.signal}` };
  const lines = r.stdout.split('\n').filter((l) => l.length);
  return { rows: lines.map(parseRow) };
}

// ISO 8601 (our output) to nanoseconds since the epoch as BigInt.
function isoNs(s) {
  const m = /^(-?\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z?$/.exec(s);
  if (!m) return null;
  let y = BigInt(m[1]);
  const mo = BigInt(m[2]), d = BigInt(m[3]);
  // days from civil
  y -= mo <= 2n ? 1n : 0n;
  const era = (y >= 0n ? y : y - 399n) / 400n;
  const yoe = y - era * 400n;
  const doy = (153n * (mo + (mo > 2n ? -3n : 9n)) + 2n) / 5n + d - 1n;
  const doe = yoe * 365n + yoe / 4n - yoe / 100n + doy;
  const days = era * 146097n + doe - 719468n;
  const frac = (m[7] || '').padEnd(9, '0').slice(0, 9);
  return ((days * 86400n + BigInt(m[4]) * 3600n + BigInt(m[5]) * 60n + BigInt(m[6])) * 1000000000n) + BigInt(frac);
}

function hexOfUtf8Lossy(hex) {
  return Buffer.from(hex, 'hex').toString('utf8');
}

// Compares one of our cells with DuckDB's canonical value; returns null when equal, else text.
function cellDiff(type, ours, gold) {
  if (gold === null || ours === null) return gold === ours ? null : `ours ${JSON.stringify(ours)} duckdb ${JSON.stringify(gold)}`;
  const text = ours.s !== undefined ? ours.s : ours.t;
  if (/^TIMESTAMP/.test(type)) {
    const g = BigInt(gold);
    if (g > 9223372036854775807n || g < -9223372036854775808n) return null; // outside int64 ns: documented limit
    let v = isoNs(text);
    if (v === null) return `bad timestamp ${text}`;
    if (!/^TIMESTAMP_NS/.test(type)) v = v - (((v % 1000n) + 1000n) % 1000n);
    return v === g ? null : `ours ${text} (${v}) duckdb ${gold}`;
  }
  if (type === 'FLOAT' || type === 'DOUBLE') {
    const a = text === 'NaN' ? NaN : Number(text);
    const b = typeof gold === 'number' ? gold : Number(gold);
    if (Number.isNaN(a) && Number.isNaN(b)) return null;
    if (type === 'FLOAT') return Math.fround(a) === Math.fround(b) ? null : `ours ${text} duckdb ${gold}`;
    return a === b ? null : `ours ${text} duckdb ${gold}`;
  }
  if (type === 'BLOB') return text === hexOfUtf8Lossy(gold) ? null : `ours ${JSON.stringify(text)} duckdb hex ${gold}`;
  return text === gold ? null : `ours ${JSON.stringify(text)} duckdb ${JSON.stringify(gold)}`;
}


// DuckDB SQL that turns column `name` of type `type` into the canonical golden value.
function duckdbExpr(name, type) {
  const c = '"' + name.replace(/"/g, '""') + '"';
  if (/^TIMESTAMP_NS/.test(type)) return `epoch_ns(${c})::VARCHAR`;
  if (/^TIMESTAMP/.test(type)) return `epoch_us(${c}::TIMESTAMP)::VARCHAR || '000'`;
  if (type === 'BLOB') return `hex(${c})`;
  if (type === 'FLOAT' || type === 'DOUBLE') return `${c}::DOUBLE`;
  if (/^(STRUCT|MAP|LIST)|\[\]$/.test(type)) return null;
  return `${c}::VARCHAR`;
}

// DuckDB JS value -> golden JSON value.
function goldenValue(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v;
  return String(v);
}

// Compares our rows (readRows) with golden rows for the given columns; null or a diff text.
function diffRows(columns, rows, gold) {
  if (rows.length !== gold.length) return `ours ${rows.length} rows, duckdb ${gold.length}`;
  for (let r = 0; r < gold.length; r++) {
    const row = rows[r];
    if (row.length !== columns.length) return `row ${r}: ${row.length} columns`;
    for (let c = 0; c < columns.length; c++) {
      if (row[c][0] !== columns[c].name) return `column ${c} named ${row[c][0]}`;
      const d = cellDiff(columns[c].type, row[c][1], gold[r][c]);
      if (d) return `row ${r} column ${columns[c].name} (${columns[c].type}): ${d}`;
    }
  }
  return null;
}

module.exports = { setBin, run, parseRow, readRows, isoNs, cellDiff, diffRows, duckdbExpr, goldenValue };
