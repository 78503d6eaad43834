// PouchDB baseline for run.sh: N small documents written to one on-disk
// database, then replicated to a second one (PouchDB.replicate, the same
// machinery CouchDB/PouchDB sync uses). Prints one JSON line.
//   node pouch_bench.cjs N DATA_DIR MODULES_DIR
// Uses PouchDB's default node adapter (LevelDB via leveldown, on disk); if
// that cannot load, falls back to pouchdb-adapter-memory and says so.
'use strict';
const path = require('path');
const n = Number(process.argv[2] || 100000);
const dir = process.argv[3] || '.';
const modules = process.argv[4] || '.';
const req = (m) => require(require.resolve(m, { paths: [modules, process.cwd()] }));

async function main() {
  const PouchDB = req('pouchdb');
  let adapter = 'leveldb';
  let opts = {};
  try {
    const probe = new PouchDB(path.join(dir, 'probe'));
    await probe.info();
    await probe.destroy();
  } catch (e) {
    PouchDB.plugin(req('pouchdb-adapter-memory'));
    adapter = 'memory';
    opts = { adapter: 'memory' };
  }
  const src = new PouchDB(path.join(dir, 'src'), opts);
  const dst = new PouchDB(path.join(dir, 'dst'), opts);
  let t0 = process.hrtime.bigint();
  const chunk = 1000;
  for (let i = 0; i < n; i += chunk) {
    const docs = [];
    for (let k = i; k < Math.min(n, i + chunk); ++k) {
      docs.push({ _id: 'course_' + String(k).padStart(8, '0'), title: 'forløb ' + k, status: k % 2 ? 'active' : 'completed' });
    }
    await src.bulkDocs(docs);
  }
  const writeSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const result = await PouchDB.replicate(src, dst, { batch_size: 500 });
  const replicateSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const info = await dst.info();
  console.log(JSON.stringify({
    step: 'pouchdb', adapter, docs: n, write_seconds: writeSeconds, replicate_seconds: replicateSeconds,
    docs_written: result.docs_written, dst_docs: info.doc_count,
    replicate_cpu_seconds: (cpu.user + cpu.system) / 1e6,
    peak_rss_kb: process.resourceUsage().maxRSS,
  }));
}
main().catch((e) => { console.error('pouch_bench:', e && e.stack || e); process.exit(1); });
