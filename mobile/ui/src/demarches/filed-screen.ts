// After a démarche is filed: its acknowledgement once the server has it, or that it waits on
// the device (offline) and will leave by itself.
import { announce, h, replace } from '@guichet/web/dom';
import { formatDateTime } from '@guichet/web/i18n';
import { acknowledgementSection } from '../acknowledgement';
import { platform } from '../platform';
import type { Screen } from '../screens';
import { t } from './i18n';
import { heading } from './ui';

export function filedScreen(clientId: string): Screen {
  const title = heading(t('filed.title.pending'));
  const body = h('div', { class: 'receipt-body' });
  const links = h('div', { class: 'actions' });
  let last = '';

  const render = async () => {
    const sent = await platform().sentRequest(clientId);
    const pending = sent ? undefined : await platform().pendingEntry(clientId);
    if (sent) {
      const r = sent.receipt;
      title.textContent = t('filed.title.sent');
      replace(body,
        h('p', null, sent.category_title),
        h('dl', { class: 'receipt' },
          h('dt', null, t('filed.number')), h('dd', { class: 'number', id: 'receipt-number' }, r.request_number),
          h('dt', null, t('filed.tracking')), h('dd', { class: 'tracking', id: 'receipt-tracking' }, r.tracking_code),
          h('dt', null, t('filed.status')), h('dd', null, r.status),
          r.service ? [h('dt', null, t('filed.service')), h('dd', null, r.service)] : null,
          r.due_at ? [h('dt', null, t('filed.due')), h('dd', null, formatDateTime(r.due_at))] : null),
        h('p', { class: 'hint' }, t('filed.tracking.hint')),
        acknowledgementSection(r.acknowledgement));
      replace(links,
        h('a', { href: `#/request/${encodeURIComponent(r.request_number)}`, class: 'button primary', id: 'open-request' }, t('filed.open')),
        h('a', { href: '#/demarches', class: 'button secondary' }, t('filed.other')));
      if (last !== 'sent') announce(t('filed.announce.sent', { number: r.request_number }));
      last = 'sent';
      return;
    }
    if (pending) {
      title.textContent = pending.failed ? t('filed.title.failed') : t('filed.title.pending');
      const msg = pending.failed
        ? t('form.refused', { error: pending.failed.message })
        : navigator.onLine === false ? t('filed.pending.offline')
          : pending.attempts > 0 ? t('filed.pending.retry', { error: pending.last_error ?? '' })
            : t('filed.pending.online');
      replace(body, h('p', null, pending.category_title), h('p', { class: pending.failed ? 'error' : 'pending-note', id: 'receipt-pending' }, msg));
      replace(links, h('a', { href: '#/mine', class: 'button secondary' }, t('filed.mine')));
      if (last === '') announce(t('filed.announce.saved'));
      last = 'pending';
    }
  };

  const off = platform().onOutbox(() => void render());
  const onNet = () => void render();
  window.addEventListener('online', onNet);
  window.addEventListener('offline', onNet);
  void render();

  const el = h('section', { class: 'screen', 'aria-labelledby': 'screen-title' }, title, body, links);
  return {
    title: t('filed.title.sent'),
    el,
    cleanup: () => {
      off();
      window.removeEventListener('online', onNet);
      window.removeEventListener('offline', onNet);
    },
  };
}
