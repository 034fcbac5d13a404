// The DuckDB side of bench/query.bench: CREATE TABLE AS SELECT * FROM read_parquet (load),
// then the same UI queries on the in-memory table, best of several runs, same threads.
// Usage: node query_duckdb.mjs FILE THREADS SEED_IP [CIDR16]
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'tools', 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');
const [file, threads, seed, cidr = '10.1.0.0/16'] = process.argv.slice(2);
const like16 = cidr.split('.').slice(0, 2).join('.') + '.%'; // a.b.0.0/16 -> 'a.b.%'
const inst = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const con = await inst.connect();
await con.run("SET TimeZone = 'UTC'");
const now = () => Number(process.hrtime.bigint()) / 1e9;
const path = file.replace(/'/g, "''");

let best = 1e9, rows = 0;
for (let k = 0; k < 3; k++) {
  await con.run('DROP TABLE IF EXISTS f');
  const t0 = now();
  await con.run(`CREATE TABLE f AS SELECT * FROM read_parquet('${path}')`);
  best = Math.min(best, now() - t0);
}
rows = Number((await con.runAndReadAll('SELECT count(*) AS c FROM f')).getRowObjectsJson()[0].c);
console.log(`duckdb: ${rows} rows loaded in ${best.toFixed(3)} s (best of 3)`);
console.log(`result\tload ${rows} flows\tduckdb\t${(rows / best / 1e6).toFixed(2)}\tM rows/s`);

const INTERNAL = (c) => `(${c} LIKE '10.%' OR ${c} LIKE 'fc%' OR ${c} LIKE 'fd%' OR ${c} LIKE '172.1_.%' OR ${c} LIKE '172.2_.%' OR ${c} LIKE '172.3_.%' OR ${c} LIKE '192.168.%')`;
const queries = [
  ['page by time (dport=443)', ["SELECT * FROM f WHERE dst_port = 443 ORDER BY ts LIMIT 50",
                                "SELECT count(*) FROM f WHERE dst_port = 443"]],
  ['page by bytes (src internal)', [`SELECT * FROM f WHERE ${INTERNAL('src_ip')} ORDER BY bytes_sent DESC LIMIT 50`,
                                    `SELECT count(*) FROM f WHERE ${INTERNAL('src_ip')}`]],
  ['count (3 predicates)', [`SELECT count(*) FROM f WHERE ${INTERNAL('src_ip')} AND NOT ${INTERNAL('dst_ip')} AND bytes_sent > 10000`]],
  ['top sources', ['SELECT src_ip, count(*), sum(bytes_sent), sum(bytes_recv), sum(bytes_sent + bytes_recv) AS b FROM f GROUP BY 1 ORDER BY b DESC LIMIT 10']],
  ['top pairs', ['SELECT src_ip, dst_ip, count(*), sum(bytes_sent), sum(bytes_recv), sum(bytes_sent + bytes_recv) AS b FROM f GROUP BY 1, 2 ORDER BY b DESC LIMIT 10']],
  ['hourly histogram', [`SELECT time_bucket(INTERVAL 1 hour, ts) AS h, count(*), sum(bytes_sent), sum(bytes_recv),
      sum(CASE WHEN ${INTERNAL('src_ip')} AND NOT ${INTERNAL('dst_ip')} THEN bytes_sent
               WHEN NOT ${INTERNAL('src_ip')} AND ${INTERNAL('dst_ip')} THEN bytes_recv ELSE 0 END) FROM f GROUP BY 1 ORDER BY 1`]],
  ['graph around an IP', [`SELECT src_ip, dst_ip, count(*), sum(bytes_sent + bytes_recv) FROM f WHERE src_ip = '${seed}' OR dst_ip = '${seed}' GROUP BY 1, 2`]],
  ['CIDR top destinations', [`SELECT dst_ip, count(*), sum(bytes_sent), sum(bytes_recv), sum(bytes_sent + bytes_recv) AS b FROM f WHERE src_ip LIKE '${like16}' GROUP BY 1 ORDER BY b DESC LIMIT 10`]],
];
for (const [name, sqls] of queries) {
  let b = 1e9;
  for (let k = 0; k < 5; k++) {
    const t0 = now();
    for (const s of sqls) await con.runAndReadAll(s);
    b = Math.min(b, now() - t0);
  }
  console.log(`duckdb:   ${name.padEnd(32)} ${(b * 1e3).toFixed(1).padStart(8)} ms`);
  console.log(`result\tq: ${name}\tduckdb\t${(1 / b).toFixed(1)}\tq/s`);
}
