// A démarche's form, drawn by the shared renderer from its definition. The answers are kept
// as a draft on the device while typed; an account is asked for when the citizen sends, not
// before (the draft carries the answers through the login); the filing goes through the
// outbox like a report, so that offline it waits and leaves on reconnection, and the
// server's refusals come back to the fields they name.
import { announce, h, replace } from '@guichet/web/dom';
import type { FieldError } from '@guichet/web/api';
import { renderForm, type FormHandle } from '@guichet/web/forms/render';
import { uuid } from '@guichet/web/geo';
import { formatDateTime } from '@guichet/web/i18n';
import type { DemarcheDefinition, QueuedFile } from '../api';
import { dropSession, session } from '../account';
import { getWallet, type WalletDocument } from '../wallet';
import { t as appT } from '../i18n';
import { platform } from '../platform';
import type { Navigate, Screen } from '../screens';
import { channel, titleOf, withDefinition } from './catalogue-screens';
import { dropDraft, readDraft, readDraftFiles, saveDraft, saveDraftFiles } from './drafts';
import { t } from './i18n';
import { heading } from './ui';

/** What became of a filing put in the outbox, once the sender has tried it. */
type Outcome = { kind: 'sent' } | { kind: 'refused'; code: string; errors: FieldError[]; message: string } | { kind: 'waiting' };

async function outcomeOf(clientId: string, timeoutMs = 30_000): Promise<Outcome> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await platform().sentRequest(clientId)) return { kind: 'sent' };
    const p = await platform().pendingEntry(clientId);
    if (!p) return { kind: 'sent' };
    if (p.failed) return { kind: 'refused', code: p.failed.code, errors: p.field_errors ?? [], message: p.failed.message };
    // Offline, tried and failed, or put off behind an earlier entry that failed: it waits.
    const putOff = p.next_attempt_at > Date.now() + 1000;
    if (navigator.onLine === false || p.attempts > 0 || putOff || Date.now() > deadline) return { kind: 'waiting' };
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The wallet's documents, for a form with file fields of a verified account (none offline). */
async function walletFor(def: DemarcheDefinition): Promise<WalletDocument[]> {
  if (!session()?.email_verified || !def.form.fields.some((f) => f.kind === 'file')) return [];
  try {
    return (await getWallet()).documents;
  } catch {
    return [];
  }
}

function filesOf(files: Record<string, File[]>): QueuedFile[] {
  return Object.entries(files).flatMap(([field, list]) => list.map((f) => ({ field, blob: f as Blob, name: f.name })));
}

export function formScreen(code: string, go: Navigate): Screen {
  const body = h('div');
  const title = heading(t('page.loading'));
  const el = h('section', { class: 'screen demarche-form', 'aria-labelledby': 'screen-title' }, title, body);
  let form: FormHandle | null = null;
  let saveTimer: ReturnType<typeof setTimeout> | null = null;
  const cancelSave = () => {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = null;
  };

  const show = (def: DemarcheDefinition, wallet: WalletDocument[], keptFiles: Record<string, File[]>) => {
    title.textContent = titleOf(def);
    document.title = `${titleOf(def)} — Guichet`;
    const kept = readDraft(code);
    form = renderForm(def.form, { idPrefix: 'df', initial: kept?.data, wallet, initialFiles: keptFiles });
    const f = form;
    const keep = (e: Event) => {
      if (saveTimer) clearTimeout(saveTimer);
      saveTimer = setTimeout(() => saveDraft(code, f.value().data), 300);
      if ((e.target as HTMLInputElement | null)?.type === 'file') void saveDraftFiles(code, f.value().files);
    };
    f.el.addEventListener('input', keep);
    f.el.addEventListener('change', keep);

    const failure = h('p', { class: 'error', id: 'form-failure', role: 'alert', hidden: true });
    const resumed = kept
      ? h('div', { class: 'notice', id: 'draft-resumed' },
        h('p', null, t('form.resumed', { date: formatDateTime(kept.saved_at) })),
        h('button', {
          type: 'button', class: 'button small secondary', id: 'discard-draft',
          onclick: () => {
            cancelSave();
            dropDraft(code);
            announce(t('form.discarded'));
            go(`#/demarche/${encodeURIComponent(code)}/form`);
          },
        }, t('form.discard')))
      : null;
    const send = h('button', { type: 'submit', class: 'button primary', id: 'send-request' }, t('form.send'));
    const outer = h('form', { novalidate: true, 'aria-labelledby': 'screen-title' },
      f.el,
      failure,
      h('div', { class: 'actions sticky' },
        h('a', { href: `#/demarche/${encodeURIComponent(code)}`, class: 'button secondary' }, appT('back')),
        send));

    outer.addEventListener('submit', async (e) => {
      e.preventDefault();
      failure.hidden = true;
      if (f.check().length) return;
      const { data, files, documents } = f.value();
      cancelSave();
      saveDraft(code, data);
      await saveDraftFiles(code, files);
      if (def.auth === 'account') {
        const s = session();
        // The right moment to ask for the account: the answers are complete and kept.
        if (!s) return go(`#/account?next=${encodeURIComponent(`#/demarche/${code}/form`)}&why=login`);
        if (!s.email_verified) return go(`#/account?next=${encodeURIComponent(`#/demarche/${code}/form`)}&why=verify`);
      }
      const clientId = uuid();
      send.disabled = true;
      send.setAttribute('aria-busy', 'true');
      announce(t('form.sending'));
      try {
        await platform().enqueueRequest({
          request: { client_id: clientId, demarche: code, channel: channel(), data, ...(documents.length ? { documents } : {}) },
          files: filesOf(files),
          title: def.title,
        });
      } catch (err) {
        send.disabled = false;
        send.removeAttribute('aria-busy');
        failure.textContent = appT('error.storage', { error: String(err) });
        failure.hidden = false;
        return;
      }
      void platform().syncNow(true);
      const outcome = await outcomeOf(clientId);
      send.disabled = false;
      send.removeAttribute('aria-busy');
      if (outcome.kind === 'refused') {
        // Nothing was stored by the server: the citizen corrects and sends again.
        await platform().discard(clientId);
        const back = encodeURIComponent(`#/demarche/${code}/form`);
        // A session the server no longer knows, or an address not verified after all.
        if (outcome.code === 'account-required' || outcome.code === 'unauthenticated') {
          dropSession();
          return go(`#/account?next=${back}&why=login`);
        }
        if (outcome.code === 'email-not-verified') return go(`#/account?next=${back}&why=verify`);
        if (outcome.errors.length) f.showErrors(outcome.errors);
        else {
          failure.textContent = t('form.refused', { error: outcome.message });
          failure.hidden = false;
          failure.focus();
        }
        return;
      }
      dropDraft(code);
      go(`#/filed/${clientId}`);
    });

    replace(body,
      def.auth === 'account' && !session()?.email_verified ? h('p', { class: 'notice', id: 'account-needed' }, t('form.accountNeeded')) : null,
      resumed,
      h('p', null, t('form.intro')),
      h('p', { class: 'hint' }, t('form.draftKept')),
      outer);
  };

  let alive = true;
  const stopLoading = withDefinition(code, body, (def) => {
    void Promise.all([walletFor(def), readDraftFiles(code)]).then(([docs, files]) => {
      if (alive) show(def, docs, files);
    });
  });
  const stop = () => {
    alive = false;
    stopLoading();
  };
  return {
    title: t('page.loading'),
    el,
    cleanup: () => {
      stop();
      // What was typed last is kept even when the screen is left before the pause.
      if (saveTimer && form) saveDraft(code, form.value().data);
      cancelSave();
      form?.destroy();
    },
  };
}
