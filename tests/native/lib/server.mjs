// A real `guichet serve` for one journey file, on a database cloned from the demo template that
// scripts/lib/native.sh prepared, and a recorder in front of it: the app talks to the recorder,
// which passes every request to the server unchanged and keeps a copy of what the app filed
// (the bytes of each photo as they went over the network). The server can be stopped and
// started again on the same port, database and store, as when it goes down for a while.
//
// Needs GUICHET_NATIVE_BIN (the `guichet` binary), GUICHET_NATIVE_PG (the URL of the cluster's
// `postgres` database), GUICHET_NATIVE_TEMPLATE (the template database) and GUICHET_UI_DIR.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the journeys with scripts/lib/native.sh (run_native_tests)`);
  return v;
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = netServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function psql(url, sql) {
  return execFileSync('psql', ['-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', url, '-c', sql], {
    env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' },
    encoding: 'utf8',
  }).trim();
}

/** One request the app sent, as the server received it. */
class Recorded {
  constructor(method, path, headers, body) {
    this.method = method;
    this.path = path;
    this.headers = headers;
    this.body = body;
    this.status = 0;
  }

  /** The parts of a multipart/form-data body: `{ name, filename, type, bytes }`. */
  parts() {
    const m = /boundary=(?:"([^"]+)"|([^;]+))/.exec(this.headers['content-type'] ?? '');
    if (!m) return [];
    const boundary = Buffer.from(`--${m[1] ?? m[2]}`);
    const parts = [];
    let at = this.body.indexOf(boundary);
    while (at >= 0) {
      const start = at + boundary.length;
      const next = this.body.indexOf(boundary, start);
      if (next < 0) break;
      const chunk = this.body.subarray(start + 2, next - 2); // CRLF after the boundary and before the next
      const split = chunk.indexOf('\r\n\r\n');
      const head = chunk.subarray(0, split).toString('utf8');
      const disposition = /content-disposition:[^\r\n]*/i.exec(head)?.[0] ?? '';
      parts.push({
        name: /name="([^"]*)"/.exec(disposition)?.[1],
        filename: /filename="([^"]*)"/.exec(disposition)?.[1],
        type: /content-type:\s*([^\r\n]+)/i.exec(head)?.[1]?.trim(),
        bytes: chunk.subarray(split + 4),
      });
      at = next;
    }
    return parts;
  }
}

export async function startServer(name) {
  const pg = env('GUICHET_NATIVE_PG');
  const db = `guichet_native_${name.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}_${randomBytes(3).toString('hex')}`;
  psql(pg, `CREATE DATABASE "${db}" TEMPLATE "${env('GUICHET_NATIVE_TEMPLATE')}"`);
  const dbUrl = pg.replace(/\/[^/]*$/, `/${db}`);
  const data = mkdtempSync(join(tmpdir(), 'guichet-native-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child = null;

  async function start() {
    const proc = spawn(env('GUICHET_NATIVE_BIN'), ['serve'], {
      env: {
        ...process.env,
        DATABASE_URL: dbUrl,
        GUICHET_LISTEN: `127.0.0.1:${port}`,
        GUICHET_PUBLIC_URL: url,
        GUICHET_DATA_DIR: data,
        GUICHET_RATE_LIMITS: 'off',
        RUST_LOG: 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child = proc;
    const started = Date.now();
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`guichet serve exited with ${proc.exitCode}`);
      try {
        if ((await fetch(`${url}/readyz`)).ok) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() - started > 30_000) throw new Error('guichet serve did not become ready in 30 s');
      await sleep(200);
    }
  }

  async function stop() {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    proc.kill('SIGTERM');
    await new Promise((resolve) => (proc.exitCode !== null ? resolve() : proc.once('exit', resolve)));
  }

  // ---- the recorder the app talks to ----
  const recorded = [];
  const recorder = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const entry = new Recorded(req.method, req.url, req.headers, body);
      if (req.method === 'POST') recorded.push(entry);
      const upstream = httpRequest(`${url}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        entry.status = answer.statusCode;
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      });
      // The server is down: the app sees its connection dropped, as with no server at all.
      upstream.on('error', () => req.socket.destroy());
      upstream.end(body);
    });
  });
  const recorderPort = await freePort();
  await new Promise((resolve) => recorder.listen(recorderPort, '127.0.0.1', resolve));

  await start();
  return {
    /** The real server's own address (for the test's API calls). */
    url,
    /** The address the app is given. */
    appUrl: `http://127.0.0.1:${recorderPort}`,
    recorded,
    start,
    stop,
    /** One value of a query on the server's database. */
    sql: (query) => psql(dbUrl, query),
    async close() {
      await stop();
      const closed = new Promise((resolve) => recorder.close(resolve));
      recorder.closeAllConnections();
      await closed;
      rmSync(data, { recursive: true, force: true });
      try {
        psql(pg, `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
      } catch {
        /* the next run drops leftovers */
      }
    },
  };
}
