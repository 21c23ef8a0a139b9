// A server of its own for one journey file: a database cloned from the demo template that
// run_e2e prepared (scripts/lib/web.sh), a real `guichet serve` on a free port serving both
// web apps, and a real SMTP listener it sends its e-mails to. Starting one per file keeps the
// files independent (a queue holds only what its journey filed) at the cost of a second or
// two each.
//
// Needs GUICHET_E2E_BIN (the `guichet` binary), GUICHET_E2E_PG (the URL of the cluster's
// `postgres` database), GUICHET_E2E_TEMPLATE (the template database), GUICHET_UI_DIR and
// GUICHET_BACKOFFICE_DIR.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

export interface Mail {
  from: string;
  to: string[];
  subject: string;
  /** The body, transfer encoding undone. */
  text: string;
  raw: string;
}

/** The messages the SMTP listener accepted, and a way to wait for one. */
export class Mailbox {
  readonly mails: Mail[] = [];
  private waiters: (() => void)[] = [];

  add(m: Mail): void {
    this.mails.push(m);
    this.waiters.splice(0).forEach((w) => w());
  }

  async waitFor(pred: (m: Mail) => boolean, timeoutMs = 20_000): Promise<Mail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.mails.find(pred);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no such e-mail within ${timeoutMs} ms; received: ${this.mails.map((m) => `${m.to.join(',')} "${m.subject}"`).join('; ') || 'none'}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

function decodeQuotedPrintable(s: string): Buffer {
  const joined = s.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const c = joined[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(joined.slice(i + 1, i + 3))) {
      bytes.push(parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

/** `=?UTF-8?B?…?=` and `=?UTF-8?Q?…?=` words of a header. */
function decodeWords(s: string): string {
  return s.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=\s*/g, (_, _cs: string, enc: string, text: string) =>
    enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeQuotedPrintable(text.replace(/_/g, ' ')).toString('utf8'));
}

export function parseMail(raw: string, from: string, to: string[]): Mail {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  const enc = (headers.get('content-transfer-encoding') ?? '').toLowerCase();
  const text = enc === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
    : enc === 'quoted-printable' ? decodeQuotedPrintable(body).toString('utf8')
      : body;
  return { from, to, subject: decodeWords(headers.get('subject') ?? ''), text: text.replace(/\r\n/g, '\n'), raw };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the journeys with scripts/test (run_e2e in scripts/lib/web.sh)`);
  return v;
}

export interface Server {
  url: string;
  mailbox: Mailbox;
  stop(): Promise<void>;
}

/** `settings`: more environment of the server (e.g. its map tiles). */
export async function startServer(name: string, settings: Record<string, string> = {}): Promise<Server> {
  const pg = env('GUICHET_E2E_PG');
  const template = env('GUICHET_E2E_TEMPLATE');
  const db = `guichet_e2e_${name.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}_${randomBytes(3).toString('hex')}`;
  execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', pg, '-c', `CREATE DATABASE "${db}" TEMPLATE "${template}"`], {
    env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' },
  });
  const dbUrl = pg.replace(/\/[^/]*$/, `/${db}`);

  const mailbox = new Mailbox();
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        mailbox.add(parseMail(Buffer.concat(chunks).toString('utf8'), from, session.envelope.rcptTo.map((r) => r.address)));
        callback();
      });
    },
  });
  const smtpPort = await freePort();
  await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));

  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), 'guichet-e2e-'));
  const child: ChildProcess = spawn(env('GUICHET_E2E_BIN'), ['serve'], {
    env: {
      ...process.env,
      DATABASE_URL: dbUrl,
      GUICHET_LISTEN: `127.0.0.1:${port}`,
      GUICHET_PUBLIC_URL: `http://127.0.0.1:${port}`,
      GUICHET_DATA_DIR: data,
      GUICHET_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      GUICHET_OUTBOX_POLL_MS: '200',
      // The journeys log in and file more often than a person would.
      GUICHET_RATE_LIMITS: 'off',
      RUST_LOG: 'warn',
      ...settings,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`guichet serve exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() - started > 30_000) throw new Error('guichet serve did not become ready in 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    mailbox,
    async stop() {
      child.kill('SIGTERM');
      await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
      rmSync(data, { recursive: true, force: true });
      try {
        execFileSync('psql', ['-X', '-q', pg, '-c', `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`], { env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' } });
      } catch {
        /* the next run of run_e2e drops leftovers */
      }
    },
  };
}
