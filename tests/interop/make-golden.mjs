#!/usr/bin/env node
// Regenerates tests/interop/golden/<file>.jsonl: DuckDB's reading of every flat file in
// ../shared/testdata/parquet-testing/data, in a canonical form that parquet_read.t compares
// with `datamate inspect --rows N --json`. Run from the project root:
//   node tests/interop/make-golden.mjs
// First line: {"file", "num_rows", "columns": [{"name", "type"}]}; then one JSON array
// per row (the first 1000 rows) with
// every value as a string (integers, decimals, dates, booleans, UUIDs as DuckDB prints them;
// timestamps as nanoseconds since the epoch (microsecond precision unless TIMESTAMP_NS); BLOBs as hex), except FLOAT/DOUBLE as JSON
// numbers (or "NaN", "Infinity", "-Infinity"), and null for NULL.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const root = process.cwd();
const require = createRequire(path.join(root, 'tools', 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');
const { duckdbExpr: expr, goldenValue } = createRequire(import.meta.url)('./pqcompare.js');

const dataDir = path.join(root, '..', 'shared', 'testdata', 'parquet-testing', 'data');
const outDir = path.join(root, 'tests', 'interop', 'golden');
fs.mkdirSync(outDir, { recursive: true });

const LIMIT = 1000; // rows per golden file; parquet_read.t also checks every file's full row count
const lit = (s) => "'" + s.replace(/'/g, "''") + "'";


const inst = await DuckDBInstance.create(':memory:');
const conn = await inst.connect();
const files = fs.readdirSync(dataDir).filter((f) => f.endsWith('.parquet')).sort();
for (const f of files) {
  const p = path.join(dataDir, f);
  try {
    const d = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${lit(p)})`);
    const cols = d.getRowObjectsJson().map((r) => ({ name: r.column_name, type: r.column_type }));
    const exprs = cols.map((c) => expr(c.name, c.type));
    if (exprs.some((e) => e === null)) {
      console.error(`skip ${f}: nested column`);
      continue;
    }
    const res = await conn.runAndReadAll(
      `SELECT ${exprs.map((e, i) => `${e} AS c${i}`).join(', ')} FROM read_parquet(${lit(p)}, binary_as_string=false) LIMIT ${LIMIT}`);
    const cnt = await conn.runAndReadAll(`SELECT count(*)::VARCHAR AS n FROM read_parquet(${lit(p)})`);
    const lines = [JSON.stringify({ file: f, num_rows: Number(cnt.getRowsJS()[0][0]), columns: cols })];
    for (const row of res.getRowsJS()) {
      lines.push(JSON.stringify(row.map(goldenValue)));
    }
    fs.writeFileSync(path.join(outDir, f.replace(/\.parquet$/, '.jsonl')), lines.join('\n') + '\n');
    console.error(`ok ${f}: ${lines.length - 1} rows`);
  } catch (e) {
    console.error(`skip ${f}: ${e.message.split('\n')[0]}`);
  }
}
