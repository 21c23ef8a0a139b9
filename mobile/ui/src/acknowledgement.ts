// The acknowledgement part of a receipt (a report's or a démarche's): when it was received,
// by which service, what happens next, the usual delay, what the tracking code is for, the
// status page and the photos sent; with a button that prints it (the print style sheet keeps
// only the receipt).
import { h } from '@guichet/web/dom';
import type { Acknowledgement, PhotoLinks } from './api';
import { t } from './i18n';

export function acknowledgementSection(ack: Acknowledgement | undefined, photos: PhotoLinks[] = []): HTMLElement | null {
  if (!ack) return null;
  return h('section', { class: 'acknowledgement', id: 'acknowledgement', 'aria-labelledby': 'ack-title' },
    h('h2', { id: 'ack-title' }, t('ack.title')),
    h('dl', { class: 'receipt' },
      h('dt', null, t('ack.received')), h('dd', { id: 'ack-received' }, ack.received),
      ack.service ? [h('dt', null, t('ack.service')), h('dd', { id: 'ack-service' }, ack.service)] : null,
      h('dt', null, t('ack.delay')), h('dd', { id: 'ack-delay' }, ack.expected_delay.text)),
    h('h3', null, t('ack.next')),
    h('p', { id: 'ack-next' }, ack.next_steps),
    h('h3', null, t('ack.code')),
    h('p', { id: 'ack-code' }, ack.code_explained),
    h('p', null, h('a', { href: ack.status_page_url, id: 'ack-page', rel: 'noopener' }, t('ack.page'))),
    photos.length
      ? [h('h3', null, t('ack.photos')),
        h('ul', { class: 'ack-photos' }, photos.map((p, i) =>
          h('li', null, h('img', { src: p.thumbnail_url, alt: t('ack.photo.alt', { n: i + 1 }), width: 160, loading: 'lazy' }))))]
      : null,
    h('button', { type: 'button', class: 'button secondary no-print', id: 'print-receipt', onclick: () => window.print() }, t('ack.print')),
  );
}
