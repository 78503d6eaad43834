// The real tandem-server for node tests: a fresh data directory, a free
// loopback port (--listen 127.0.0.1:0, the port read from its banner), the
// admin subcommands, and a small HTTP client (node:http, one connection per
// request, so that a test controls every header and byte).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');

// Binaries: $TANDEM_SERVER_PATH / $TANDEM_CLI_PATH (set by ctest), else the
// `ci` preset's build folder.
export function binary(env, rel) {
  const p = process.env[env] || path.join(repo, 'build/ci', rel);
  if (!existsSync(p)) throw new Error(`${p} not found: build it (cmake --build --preset ci) or set ${env}`);
  return p;
}
export const serverBinary = () => binary('TANDEM_SERVER_PATH', 'server/tandem-server');
export const cliBinary = () => binary('TANDEM_CLI_PATH', 'platform/tandem');

export function tempDir(prefix) {
  return mkdtempSync(path.join(process.env.TMPDIR || tmpdir(), prefix));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Server {
  constructor(dataDir) {
    this.dataDir = dataDir;
    this.bin = serverBinary();
    this.proc = null;
    this.url = '';
  }

  // tandem-server --data DIR [--json] ARGS...: stdout, trimmed; throws on failure.
  admin(args, { json = true } = {}) {
    const r = spawnSync(this.bin, ['--data', this.dataDir, ...(json ? ['--json'] : []), ...args],
                        { encoding: 'utf8', timeout: 30000 });
    if (r.status !== 0) {
      throw new Error(`tandem-server ${args.join(' ')} failed (${r.status}): ${r.stderr.trim()}`);
    }
    return json ? JSON.parse(r.stdout) : r.stdout.trim();
  }

  async start(extra = []) {
    this.proc = spawn(this.bin, ['--data', this.dataDir, '--listen', '127.0.0.1:0', '--quiet', ...extra],
                      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    this.proc.stdout.on('data', (d) => { out += d; });
    this.proc.stderr.on('data', (d) => { err += d; });
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.exited = exited;
    const deadline = Date.now() + 10000;
    let port = 0;
    while (!port) {
      const m = /listening on [^\n]*:(\d+)\n/.exec(out);
      if (m) port = Number(m[1]);
      else if (this.proc.exitCode !== null || Date.now() > deadline) {
        throw new Error(`tandem-server did not start: ${err.trim()}`);
      } else await sleep(20);
    }
    this.url = `http://127.0.0.1:${port}`;
    while ((await request(this.url + '/healthz').catch(() => ({ status: 0 }))).status !== 200) {
      if (Date.now() > deadline) throw new Error('tandem-server: /healthz never answered 200');
      await sleep(20);
    }
    return this;
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 20000);
    await this.exited;
    clearTimeout(t);
  }
}

// One HTTP request on its own connection: {status, headers, body (string),
// json (parsed when the type is JSON, else undefined)}.
export function request(url, { method = 'GET', headers = {}, body } = {}) {
  if (body !== undefined && Buffer.byteLength(body) > (1 << 20)) return rawRequest(url, { method, headers, body });
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(answer(res.statusCode, res.headers, Buffer.concat(chunks))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(60000, () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.end(body);
  });
}

function answer(status, headers, bytes) {
  const text = bytes.toString('utf8');
  let json;
  if ((headers['content-type'] || '').startsWith('application/json')) {
    try { json = JSON.parse(text); } catch { json = undefined; }
  }
  return { status, headers, body: text, json };
}

// A large body over a plain socket, sent as a client waiting for
// `100 Continue` would: the headers first, the body only if no answer came
// within a second. A server that refuses the declared length (413) answers
// and closes before the body, which node's HTTP client would report as
// EPIPE without the answer.
function rawRequest(url, { method, headers, body }) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port), u.hostname);
    const chunks = [];
    sock.setTimeout(60000, () => sock.destroy(new Error(`timeout: ${method} ${url}`)));
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', (e) => { if (!['EPIPE', 'ECONNRESET'].includes(e.code)) reject(e); });
    sock.on('close', () => {
      const raw = Buffer.concat(chunks);
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return reject(new Error(`no HTTP answer to ${method} ${url}`));
      const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
      const h = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        h[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const len = h['content-length'] !== undefined ? Number(h['content-length']) : raw.length - end - 4;
      resolve(answer(Number(statusLine.split(' ')[1]), h, raw.subarray(end + 4, end + 4 + len)));
    });
    sock.on('connect', () => {
      const head = [`${method} ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`, 'Connection: close',
                    `Content-Length: ${Buffer.byteLength(body)}`,
                    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
      sock.write(`${head}\r\n\r\n`);
      const t = setTimeout(() => sock.end(body), 1000);
      sock.once('data', () => clearTimeout(t));
    });
  });
}

export function removeDir(dir) {
  if (process.env.KEEP !== '1') rmSync(dir, { recursive: true, force: true });
}
