// Replays one sequential editing trace with Yjs or Automerge and prints one
// JSON line like tandem-trace does:
//   {"lib":..,"file":..,"ok":..,"ms":..,"cpu_ms":..,"ops":..,"final_len":..,"encoded_bytes":..,
//    "peak_rss_kb":..}
// ms times only the replay (not reading or parsing the trace), cpu_ms is the
// process CPU time of the replay (user + system; includes V8's GC threads).
// Automerge gets one change() per trace transaction. encoded_bytes is Y.encodeStateAsUpdate / Automerge.save.
// peak_rss_kb is the process' peak (node runtime + parsed trace + document).
// Usage: TEXT_JS_PREFIX=DIR node replay.mjs yjs|automerge FILE.json.gz  where DIR/node_modules
// holds the packages (run.sh installs them).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';

const [lib, file] = process.argv.slice(2);
const require = createRequire(process.env.TEXT_JS_PREFIX + '/node_modules/');
const trace = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8'));
if (trace.kind === 'concurrent') {
  console.log(JSON.stringify({ lib, file, ok: false, error: 'concurrent traces not supported' }));
  process.exit(1);
}
// Both libraries index strings in UTF-16 units; the traces count code points.
// They agree unless a text contains astral characters, which the shipped traces
// do not (the final-text check below would catch it).
let ops = 0;
let text;
let encoded;
let ms;
let c0;
let cpu;
if (lib === 'yjs') {
  const Y = require('yjs');
  const doc = new Y.Doc();
  const ytext = doc.getText('text');
  const t0 = performance.now();
  c0 = process.cpuUsage();
  if (trace.startContent) ytext.insert(0, trace.startContent);
  for (const txn of trace.txns) {
    for (const [pos, del, ins] of txn.patches) {
      if (del > 0) ytext.delete(pos, del);
      if (ins) ytext.insert(pos, ins);
      ops++;
    }
  }
  ms = performance.now() - t0;
  cpu = process.cpuUsage(c0);
  text = ytext.toString();
  encoded = Y.encodeStateAsUpdate(doc).length;
  globalThis.keep = doc;
} else if (lib === 'automerge') {
  const A = require('@automerge/automerge');
  let doc = A.change(A.init(), (d) => { d.text = ''; });
  const t0 = performance.now();
  c0 = process.cpuUsage();
  if (trace.startContent) doc = A.change(doc, (d) => { A.splice(d, ['text'], 0, 0, trace.startContent); });
  for (const txn of trace.txns) {
    doc = A.change(doc, (d) => {
      for (const [pos, del, ins] of txn.patches) {
        A.splice(d, ['text'], pos, del, ins);
        ops++;
      }
    });
  }
  ms = performance.now() - t0;
  cpu = process.cpuUsage(c0);
  text = doc.text;
  encoded = A.save(doc).length;
  globalThis.keep = doc;
} else {
  console.error('usage: replay.mjs yjs|automerge FILE.json.gz');
  process.exit(2);
}
const ok = text === trace.endContent;
console.log(JSON.stringify({
  lib, file, ok, ms: Math.round(ms * 10) / 10,
  cpu_ms: Math.round((cpu.user + cpu.system) / 100) / 10, ops, final_len: [...text].length,
  encoded_bytes: encoded, peak_rss_kb: process.resourceUsage().maxRSS,
}));
process.exit(ok ? 0 : 1);
