// DuckDB side of bench/convert.bench: the same 7 columns with the same types as datamate's
// convert of a `gen --schema datamate` file. Prints "seconds N". Usage: SRC OUT THREADS
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'tools', 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');
const [src, out, threads] = process.argv.slice(2);
const q = (s) => `'${s.replace(/'/g, "''")}'`;
const inst = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const con = await inst.connect();
const t0 = process.hrtime.bigint();
await con.run(`COPY (SELECT
    "_@timestamp"::TIMESTAMPTZ AS ts,
    "_SourceIP" AS src_ip,
    "_DestinationIP" AS dst_ip,
    "_DestinationPort"::USMALLINT AS dst_port,
    "_BytesSent"::BIGINT AS bytes_sent,
    "_BytesReceived"::BIGINT AS bytes_recv,
    lower("_Action") AS action
  FROM read_json(${q(src)}, format = 'newline_delimited', columns = {
    '_@timestamp': 'VARCHAR', '_SourceIP': 'VARCHAR', '_DestinationIP': 'VARCHAR',
    '_DestinationPort': 'DOUBLE', '_BytesSent': 'DOUBLE', '_BytesReceived': 'DOUBLE',
    '_Action': 'VARCHAR'}))
  TO ${q(out)} (FORMAT parquet, COMPRESSION zstd)`);
const t1 = process.hrtime.bigint();
console.log(`seconds ${Number(t1 - t0) / 1e9}`);
