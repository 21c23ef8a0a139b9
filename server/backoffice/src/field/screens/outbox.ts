// "Sending": the actions waiting on this phone, with why each waits (no network, a retry at a
// given time, a login, another agent's), and the ones the server refused (the request was
// closed or merged meanwhile, the action is no longer allowed…), kept with the server's reason
// until the agent removes them. Nothing refused is ever sent again by itself.
import { announce, h, replace } from '@guichet/web/dom';
import type { FieldAction } from '../actions';
import { field, stopHref, type Screen } from '../app';
import { formatDateTime, formatTime, t } from '../i18n';
import { outbox } from '../outbox';

function what(a: FieldAction): HTMLElement {
  const name = t(`actions.kind.${a.kind}`);
  const detail = a.kind === 'close' ? ` (${a.status_label})` : a.kind === 'report' ? ` (${a.category_title})` : '';
  const photos = a.kind === 'close' || a.kind === 'report' ? a.photos.length : 0;
  return h('p', { class: 'what' },
    h('strong', null, name + detail),
    a.kind !== 'report' ? [' — ', h('a', { href: stopHref(a.request_number) }, t('outbox.target', { number: a.request_number }))] : null,
    photos ? ` — ${t('outbox.photos', { n: photos })}` : null);
}

function waitingFor(a: FieldAction): string {
  if (outbox.sendingKey() === a.id) return t('outbox.sending');
  if (a.agent_id !== field.me?.id) return t('outbox.waiting.other');
  if (outbox.paused()) return t('outbox.waiting.login');
  if (navigator.onLine === false) return t('outbox.waiting.offline');
  if (a.attempts > 0 && a.next_attempt_at > Date.now()) return t('outbox.waiting.retry', { at: formatTime(a.next_attempt_at), error: a.last_error ?? '' });
  return t('outbox.waiting.due');
}

export function outboxScreen(): Screen {
  const title = t('outbox.title');
  const pendingList = h('ul', { class: 'outbox-list', id: 'outbox-pending' });
  const conflictList = h('ul', { class: 'outbox-list', id: 'outbox-conflicts' });
  const sendNow = h('button', { type: 'button', id: 'send-now' }, t('outbox.sendNow'));
  let alive = true;

  sendNow.addEventListener('click', () => void outbox.syncNow(true));

  async function render(): Promise<void> {
    const all = await outbox.all();
    if (!alive) return;
    const pending = all.filter((a) => !a.failed);
    const refused = all.filter((a) => a.failed);
    replace(pendingList, pending.length
      ? pending.map((a) => h('li', { class: 'card', 'data-id': a.id }, what(a),
        h('p', { class: 'hint' }, t('outbox.queuedAt', { at: formatDateTime(a.created_at) }), ' — ', waitingFor(a))))
      : h('li', null, t('outbox.pending.none')));
    sendNow.hidden = !pending.length;
    replace(conflictList, refused.length
      ? refused.map((a) => {
        const discard = h('button', { type: 'button', class: 'secondary' }, t('outbox.discard'));
        discard.addEventListener('click', async () => {
          await outbox.discard(a.id);
          announce(t('outbox.discarded'));
          await render();
          (document.getElementById('screen-title') as HTMLElement | null)?.focus();
        });
        return h('li', { class: 'card conflict', 'data-id': a.id }, what(a),
          h('p', { class: 'error' }, t('outbox.refused', { message: a.failed!.message }), a.failed!.code ? ` (${a.failed!.code})` : ''),
          h('p', { class: 'hint' }, t('outbox.queuedAt', { at: formatDateTime(a.created_at) })),
          discard);
      })
      : h('li', null, t('outbox.conflicts.none')));
  }

  const off = outbox.onEvent(() => void render());
  const onNet = () => void render();
  window.addEventListener('online', onNet);
  window.addEventListener('offline', onNet);
  void render();

  return {
    title,
    el: h('section', { class: 'outbox' },
      h('h1', { id: 'screen-title', tabindex: '-1' }, title),
      h('section', { 'aria-labelledby': 'pending-title' },
        h('h2', { id: 'pending-title' }, t('outbox.pending')), pendingList, sendNow),
      h('section', { 'aria-labelledby': 'conflicts-title' },
        h('h2', { id: 'conflicts-title' }, t('outbox.conflicts')),
        h('p', { class: 'hint' }, t('outbox.conflicts.hint')),
        conflictList)),
    cleanup: () => {
      alive = false;
      off();
      window.removeEventListener('online', onNet);
      window.removeEventListener('offline', onNet);
    },
  };
}
