#!/usr/bin/env node
// Files written by DuckDB (its defaults, PARQUET_VERSION V2, and each codec) read back by
// `datamate inspect --rows N --json` with the same values DuckDB reads, and the dictionary
// API in use on DuckDB's dictionary-encoded chunks (inspect --json lists RLE_DICTIONARY).
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');
const { setBin, run, readRows, diffRows, duckdbExpr, goldenValue } = require('./pqcompare.js');

const root = process.env.DM_ROOT || path.resolve(__dirname, '..', '..');
const build = process.env.DM_BUILD || path.join(root, 'build');
setBin(process.env.DM_BIN || path.join(build, 'datamate'));
const { DuckDBInstance } = createRequire(path.join(root, 'tools', 'package.json'))('@duckdb/node-api');

let n = 0;
let failed = 0;
function ok(cond, name, diag) {
  n++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!cond) {
    failed++;
    if (diag) console.log('# ' + String(diag).split('\n').join('\n# '));
  }
}

const ROWS = 6000;
const TABLE = `
  SELECT
    TIMESTAMPTZ '2024-03-01 00:00:00+00' + to_microseconds(i * 1000003) AS ts,
    TIMESTAMP '2024-03-01 12:00:00' + to_microseconds(i * 7) AS ts_local,
    ('10.' || (i % 7) || '.' || (i % 251) || '.' || (i % 13)) AS src_ip,
    CASE WHEN i % 11 = 0 THEN NULL ELSE ('2001:db8::' || (i % 97)) END AS dst_ip,
    CASE WHEN i % 9 = 0 THEN NULL ELSE (i * 37 % 65536)::USMALLINT END AS dst_port,
    (i % 256)::UTINYINT AS proto,
    CASE WHEN i % 5 = 0 THEN NULL ELSE (i::BIGINT * 1000003 - 5000000) END AS bytes_sent,
    (i::BIGINT * 3)::UBIGINT AS bytes_recv,
    i::INTEGER AS n32, (i - 3000)::SMALLINT AS n16, (i % 100 - 50)::TINYINT AS n8,
    (i * 977)::UINTEGER AS u32,
    CASE WHEN i % 3 = 0 THEN NULL ELSE ['allow', 'deny', 'drop'][i % 3 + 1] END AS action,
    i % 2 = 0 AS flag,
    (i / 7.0)::DOUBLE AS ratio, (i / 3.0)::FLOAT AS ratio32,
    (i * 0.01)::DECIMAL(9,2) AS dec9, (i * 1.001)::DECIMAL(18,3) AS dec18,
    DATE '2020-01-01' + i::INTEGER AS day,
    CASE WHEN i % 17 = 0 THEN '' ELSE repeat('x', i % 50) || 'é' END AS text
  FROM range(${ROWS}) t(i)`;

async function main() {
  const dir = path.join(build, 'interop-pqread');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const inst = await DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  await con.run(`CREATE TABLE flows AS ${TABLE}`);
  const variants = [
    ['defaults', ''],
    ['v2', ', PARQUET_VERSION V2'],
    ['v2-zstd', ', PARQUET_VERSION V2, COMPRESSION zstd'],
    ['uncompressed', ', COMPRESSION uncompressed'],
    ['snappy', ', COMPRESSION snappy'],
    ['gzip', ', COMPRESSION gzip'],
    ['zstd', ', COMPRESSION zstd'],
    ['lz4', ', COMPRESSION lz4'],
    ['small-row-groups', ', ROW_GROUP_SIZE 1000'],
  ];
  const desc = (await con.runAndReadAll('DESCRIBE flows')).getRowObjectsJson()
    .map((r) => ({ name: r.column_name, type: r.column_type }));
  for (const [name, opts] of variants) {
    const file = path.join(dir, `${name}.parquet`);
    await con.run(`COPY flows TO '${file}' (FORMAT parquet${opts})`);
    const lit = `'${file}'`;
    const cols = (await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${lit})`))
      .getRowObjectsJson().map((r) => ({ name: r.column_name, type: r.column_type }));
    const sel = cols.map((c, i) => `${duckdbExpr(c.name, c.type)} AS c${i}`).join(', ');
    const gold = (await con.runAndReadAll(`SELECT ${sel} FROM read_parquet(${lit})`))
      .getRowsJS().map((r) => r.map(goldenValue));
    const got = readRows(file, ROWS + 1);
    if (got.err) {
      ok(false, `duckdb ${name}: read`, got.err);
      continue;
    }
    ok(!diffRows(cols, got.rows, gold), `duckdb ${name}: ${ROWS} rows equal DuckDB's reading`, diffRows(cols, got.rows, gold));
    // DuckDB's types survive: UTC timestamps, unsigned integers, strings
    const meta = JSON.parse(run(['inspect', '--json', file]).stdout);
    const lt = Object.fromEntries(meta.schema.map((s) => [s.name, s.logical_type]));
    ok(lt.ts === 'TIMESTAMP(MICROS,UTC)' && lt.dst_port === 'INTEGER(16,unsigned)' && /STRING/.test(lt.src_ip) && lt.ts_local === 'TIMESTAMP(MICROS,local)',
      `duckdb ${name}: logical types`, JSON.stringify(lt));
    const encs = new Set(meta.row_groups.flatMap((g) => g.columns.flatMap((c) => c.encodings)));
    const codecs = new Set(meta.row_groups.flatMap((g) => g.columns.map((c) => c.codec)));
    const wantCodec = { defaults: 'snappy', v2: 'snappy', 'v2-zstd': 'zstd', uncompressed: 'none', snappy: 'snappy', gzip: 'gzip', zstd: 'zstd', lz4: 'lz4_raw', 'small-row-groups': 'snappy' }[name];
    ok(codecs.size === 1 && codecs.has(wantCodec), `duckdb ${name}: codec ${wantCodec}`, [...codecs].join(','));
    if (name.startsWith('v2'))
      ok(encs.has('DELTA_BINARY_PACKED') || encs.has('DELTA_LENGTH_BYTE_ARRAY') || encs.has('BYTE_STREAM_SPLIT'),
        `duckdb ${name}: V2 encodings present (${[...encs].join(',')})`);
    if (name === 'small-row-groups')
      ok(meta.row_groups.length === Math.ceil(ROWS / 1000) || meta.row_groups.length > 1, `duckdb ${name}: ${meta.row_groups.length} row groups`);
  }
  console.log(`1..${n}`);
  process.exit(failed ? 1 : 0);
}
main().catch((e) => { console.log(`not ok ${n + 1} - duckdb interop: ${e.message}`); process.exit(1); });
