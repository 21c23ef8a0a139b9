// The field view's outbox: the shared send loop (@guichet/web/outbox/sender, docs/sync.md) over
// the actions kept in IndexedDB. Sent in the order they were made, each once (its
// Idempotency-Key makes a resend harmless); a refusal (409 the request was closed or merged
// meanwhile, 422…) is kept for the agent to see in "Sending" and never sent again; an ended
// session (401) pauses everything until the agent logs in again, with nothing lost.
import { jsonBody } from '@guichet/web/api';
import { nextSeq, type QueuedEntry } from '@guichet/web/outbox/entry';
import { createSender, type SenderEvent } from '@guichet/web/outbox/sender';
import { uuid } from '@guichet/web/geo';
import { agentCall, ApiError, NetworkError } from '../api';
import { leavesRound, requestFor, type FieldAction } from './actions';
import { t } from './i18n';
import { outboxStore, saved } from './store';

export interface Sent {
  /** The request acted on, or the one a new report was filed as (or joined). */
  request_number: string | null;
  /** A new report joined an open request of the same incident. */
  deduplicated?: boolean;
}

export type OutboxEvent = SenderEvent<FieldAction, Sent>;

/** Actions wait for the agent who made them: a shared phone never sends them as someone else. */
let agentId: number | null = null;

function describe(e: unknown): string {
  if (e instanceof NetworkError) return t('error.network');
  if (e instanceof ApiError) return e.permanent ? e.message || e.code : t('error.server', { status: e.status });
  return String(e);
}

function bodyOf(action: FieldAction): RequestInit {
  const r = requestFor(action);
  if (!r.parts) return jsonBody(r.method, r.json);
  const fd = new FormData();
  for (const [name, value, filename] of r.parts) {
    if (typeof value === 'string') fd.append(name, value);
    else fd.append(name, value, filename);
  }
  return { method: r.method, body: fd };
}

async function send(action: FieldAction): Promise<Sent> {
  const r = requestFor(action);
  const res = await agentCall<Record<string, unknown> | undefined>(r.path, bodyOf(action), r.timeoutMs, { 'Idempotency-Key': action.id });
  let sent: Sent = { request_number: action.kind === 'report' ? null : action.request_number };
  if (action.kind === 'report') {
    // A 2xx body without a receipt is not our server's (a captive portal): try again later.
    const number = res.body?.request_number;
    if (typeof number !== 'string') throw new NetworkError(`HTTP ${res.status} without a receipt`);
    sent = { request_number: number, deduplicated: res.body?.deduplicated === true };
  }
  await outboxStore.remove(action.id);
  if (leavesRound(action) && sent.request_number) await saved.dropStop(sent.request_number);
  return sent;
}

const sender = createSender<FieldAction, Sent>({
  name: 'guichet-field-outbox',
  store: outboxStore,
  send,
  describe,
  pauses: (e) => e instanceof ApiError && e.status === 401,
  ready: (a) => a.agent_id === agentId,
});

type Fresh<A> = A extends FieldAction ? Omit<A, keyof QueuedEntry | 'id' | 'agent_id'> : never;

export const outbox = {
  /** Stores the action on the phone (resolves once it is durable), then sends it when it can. */
  async add(action: Fresh<FieldAction>, id = uuid()): Promise<FieldAction> {
    if (agentId === null) throw new Error('nobody is logged in');
    const entry = { ...action, id, agent_id: agentId, created_at: new Date().toISOString(), seq: nextSeq(), attempts: 0, next_attempt_at: Date.now() } as FieldAction;
    await sender.enqueue(entry);
    return entry;
  },
  all: () => outboxStore.all(),
  /** Takes a refused action off the list, on the agent's request. */
  discard: async (id: string) => {
    await outboxStore.remove(id);
    await sender.syncNow(false);
  },
  syncNow: (force = true) => sender.syncNow(force),
  sendingKey: () => sender.sendingKey(),
  paused: () => sender.paused(),
  onEvent: (l: (e: OutboxEvent) => void) => sender.onEvent(l),
  /** The agent logged in (again): their actions may go, now. */
  async startAs(id: number): Promise<void> {
    agentId = id;
    sender.start();
    await sender.resume();
  },
  stop(): void {
    agentId = null;
    sender.stop();
  },
};

/** Counts for the header: waiting (mine) and refused. */
export async function outboxCounts(): Promise<{ pending: number; conflicts: number }> {
  const all = await outboxStore.all();
  return { pending: all.filter((a) => !a.failed).length, conflicts: all.filter((a) => a.failed).length };
}

/** The actions waiting for one request, oldest first. */
export async function pendingFor(number: string): Promise<FieldAction[]> {
  return (await pendingByRequest()).get(number) ?? [];
}

/** The actions waiting, by the request they are about, oldest first. */
export async function pendingByRequest(): Promise<Map<string, FieldAction[]>> {
  const by = new Map<string, FieldAction[]>();
  for (const a of await outboxStore.all()) {
    if (a.failed || a.kind === 'report') continue;
    by.set(a.request_number, [...(by.get(a.request_number) ?? []), a]);
  }
  return by;
}
