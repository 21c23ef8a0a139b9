// One request's page: its status and timeline, and for the one who filed it (by the tracking
// code kept on this device, or the account) a message to the service, the answer to a
// complement request (the fields asked, drawn by the shared renderer) and the withdrawal.
import { announce, h, replace } from '@guichet/web/dom';
import { renderForm, type FormHandle } from '@guichet/web/forms/render';
import { formatDateTime } from '@guichet/web/i18n';
import {
  answerComplement, ApiError, getFilerView, NetworkError, sendMessage, withdraw, type FilerKey, type PublicView,
} from '../api';
import { session } from '../account';
import { platform } from '../platform';
import type { Screen } from '../screens';
import { loadDefinition } from './catalogue';
import { t } from './i18n';
import { heading, statusLine } from './ui';

interface Access {
  key: FilerKey;
  filer: boolean;
  clientId?: string;
}

/**
 * How this device may read the request, best first: the filer's tracking code kept here, the
 * account, then a follower's code (a "me too") kept here.
 */
async function accessesOf(number: string): Promise<Access[]> {
  const kept = (await platform().sentRequests()).filter((r) => r.request_number === number && r.tracking_code);
  const out: Access[] = [];
  const own = kept.find((r) => r.kind !== 'support');
  if (own) out.push({ key: { tracking_code: own.tracking_code }, filer: true, clientId: own.client_id });
  const s = session();
  if (s) out.push({ key: { token: s.token }, filer: true });
  const follower = kept.find((r) => r.kind === 'support');
  if (follower) out.push({ key: { tracking_code: follower.tracking_code }, filer: false, clientId: follower.client_id });
  return out;
}

function failureText(e: unknown): string {
  if (e instanceof NetworkError) return t('req.network');
  return t('req.failed', { error: e instanceof ApiError ? e.message || e.code : String(e) });
}

export function requestScreen(number: string): Screen {
  const title = heading(number);
  const body = h('div', { id: 'request-body' });
  const el = h('section', { class: 'screen request-page', 'aria-labelledby': 'screen-title' }, title, body);
  let alive = true;
  let complementForm: FormHandle | null = null;

  const load = async (say?: string) => {
    replace(body, h('p', { role: 'status' }, t('req.loading')));
    let lastError: unknown = null;
    for (const access of await accessesOf(number)) {
      try {
        const view = await getFilerView(number, access.key);
        const kept = access.clientId ? await platform().sentRequest(access.clientId) : undefined;
        if (kept) await platform().saveView({ ...kept, view, view_at: new Date().toISOString() });
        if (!alive) return;
        await show(view, access.key, access.filer, false);
        if (say) announce(say);
        return;
      } catch (e) {
        const kept = access.clientId ? await platform().sentRequest(access.clientId) : undefined;
        if (e instanceof NetworkError && kept?.view) {
          // Offline: the last view fetched, to read only.
          if (alive) await show(kept.view, access.key, false, true);
          return;
        }
        lastError = e;
        // Another way may open it (an account that did not file it, a code re-issued).
        if (!(e instanceof ApiError && e.status === 404)) break;
      }
    }
    if (!alive) return;
    const notFound = lastError === null || (lastError instanceof ApiError && lastError.status === 404);
    replace(body, h('p', { class: 'error', role: 'alert' }, notFound ? t('req.notFound') : failureText(lastError)));
  };

  const show = async (v: PublicView, key: FilerKey, canAct: boolean, offline: boolean) => {
    complementForm?.destroy();
    complementForm = null;
    title.textContent = `${v.demarche.title} — ${v.number}`;
    const open = v.phase !== 'closed' && v.phase !== 'withdrawn';
    const parts: (HTMLElement | null)[] = [
      offline ? h('p', { class: 'notice' }, t('req.offline')) : null,
      h('dl', { class: 'facts' },
        h('dt', null, t('req.demarche')), h('dd', null, v.demarche.title),
        h('dt', null, t('req.status')), h('dd', { id: 'request-status' }, v.status_label),
        h('dt', null, t('req.filed')), h('dd', null, formatDateTime(v.created_at)),
        h('dt', null, t('req.updated')), h('dd', null, formatDateTime(v.updated_at))),
      v.merged_into ? h('p', null, h('a', { href: `#/request/${encodeURIComponent(v.merged_into)}` }, t('req.merged', { number: v.merged_into }))) : null,
    ];

    if (canAct && v.complement) parts.push(await complementSection(v, key));
    parts.push(
      h('section', { 'aria-labelledby': 'timeline-title' },
        h('h2', { id: 'timeline-title' }, t('req.timeline')),
        h('ol', { class: 'timeline', id: 'timeline' }, v.timeline.map((ev) => h('li', null,
          h('time', { datetime: ev.at }, formatDateTime(ev.at)), ' — ',
          h('span', { class: 'label' }, ev.label),
          ev.message ? h('p', { class: 'message' }, ev.message) : null)))));
    if (canAct && open) parts.push(messageSection(key), withdrawSection(key));
    if (!canAct && !offline) parts.push(h('p', { class: 'muted' }, t('req.follower')));
    replace(body, parts);
  };

  const complementSection = async (v: PublicView, key: FilerKey): Promise<HTMLElement> => {
    const ask = v.complement!;
    const box = h('section', { 'aria-labelledby': 'complement-title', class: 'card', id: 'complement' },
      h('h2', { id: 'complement-title' }, t('req.complement')),
      ask.message ? h('p', { id: 'complement-message' }, t('req.complement.message', { message: ask.message })) : null);
    let def;
    try {
      def = await loadDefinition(v.demarche.code);
    } catch (e) {
      box.append(h('p', { class: 'error' }, failureText(e)));
      return box;
    }
    const form = renderForm(def.form, { idPrefix: 'cp', only: ask.fields });
    complementForm = form;
    const note = h('textarea', { id: 'complement-note', name: 'note', rows: 3, maxlength: 2000 });
    const result = statusLine('complement-result');
    const send = h('button', { type: 'submit', class: 'button primary', id: 'send-complement' }, t('req.complement.send'));
    const f = h('form', { novalidate: true, 'aria-labelledby': 'complement-title' },
      form.el,
      h('div', { class: 'field' }, h('label', { for: 'complement-note' }, t('req.complement.answer')), note),
      result.el,
      send);
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      result.clear();
      if (form.check().length) return;
      const { data, files } = form.value();
      send.disabled = true;
      try {
        await answerComplement(v.number, key, data, note.value.trim(),
          Object.entries(files).flatMap(([field, list]) => list.map((x) => ({ field, blob: x as Blob, name: x.name }))));
        await load(t('req.complement.sent'));
        title.focus();
      } catch (err) {
        send.disabled = false;
        if (err instanceof ApiError && err.errors.length) form.showErrors(err.errors);
        else result.say(failureText(err), true);
      }
    });
    box.append(f);
    return box;
  };

  const messageSection = (key: FilerKey): HTMLElement => {
    const text = h('textarea', { id: 'message', name: 'message', rows: 4, maxlength: 5000, 'aria-describedby': 'message-result' });
    const result = statusLine('message-result');
    const send = h('button', { type: 'submit', class: 'button secondary', id: 'send-message' }, t('req.message.send'));
    const f = h('form', { novalidate: true, 'aria-labelledby': 'message-title' },
      h('div', { class: 'field' }, h('label', { for: 'message' }, t('req.message.label')), text),
      result.el,
      send);
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      const message = text.value.trim();
      if (!message) {
        result.say(t('req.message.empty'), true);
        text.focus();
        return;
      }
      send.disabled = true;
      try {
        await sendMessage(number, key, message);
        await load(t('req.message.sent'));
      } catch (err) {
        send.disabled = false;
        result.say(failureText(err), true);
      }
    });
    return h('section', { 'aria-labelledby': 'message-title' }, h('h2', { id: 'message-title' }, t('req.message')), f);
  };

  const withdrawSection = (key: FilerKey): HTMLElement => {
    const result = statusLine('withdraw-result');
    // Two steps rather than a dialog: the second button says what will happen.
    const confirm = h('button', {
      type: 'button', class: 'button danger', id: 'confirm-withdraw', hidden: true,
      onclick: async () => {
        confirm.disabled = true;
        try {
          await withdraw(number, key);
          await load(t('req.withdraw.done'));
        } catch (err) {
          confirm.disabled = false;
          result.say(failureText(err), true);
        }
      },
    }, t('req.withdraw.confirm'));
    const ask = h('button', {
      type: 'button', class: 'button secondary', id: 'withdraw', 'aria-expanded': 'false', 'aria-controls': 'confirm-withdraw',
      onclick: () => {
        confirm.hidden = false;
        ask.setAttribute('aria-expanded', 'true');
        confirm.focus();
      },
    }, t('req.withdraw'));
    return h('section', { class: 'withdraw' }, ask, confirm, result.el);
  };

  void load();
  return {
    title: number,
    el,
    cleanup: () => {
      alive = false;
      complementForm?.destroy();
    },
  };
}
