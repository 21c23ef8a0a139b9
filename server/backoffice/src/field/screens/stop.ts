// One stop: what the work needs (démarche, status, place, description, the photos of the
// report and any taken after the work; never a contact: the server keeps them from field
// agents) and what the agent does there: close with an outcome and after-photos, "could not
// act" with a reason, move the request to where the phone is, add a note. Every action goes
// through the outbox: made offline, it waits on the phone and goes out with the network.
import { h, replace, type Child } from '@guichet/web/dom';
import * as api from '../../api';
import { labelled } from '../../screens/forms';
import type { FieldAction } from '../actions';
import { field, screenHref, stopHref, type Screen } from '../app';
import { formatDateTime, formatNumber, t } from '../i18n';
import { legLine } from '../leg';
import { photosOf } from '../offline';
import { outbox, pendingFor } from '../outbox';
import { photoPicker, type PhotoPicker } from '../photo-picker';
import { currentPosition, PositionError } from '../position';
import type { RoundStop } from '../round-api';
import { saved } from '../store';
import { navLinks } from './round';

type Detail = api.RequestDetail;

function dl(rows: [string, Child][]): HTMLElement {
  return h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v ?? t('stop.none'))]));
}

function actionName(a: FieldAction): string {
  const name = t(`actions.kind.${a.kind}`);
  return a.kind === 'close' ? `${name} (${a.status_label})` : name;
}

function photoList(d: Detail, after: boolean): HTMLElement | null {
  const photos = photosOf(d, after);
  if (!photos.length) return null;
  return h('div', null,
    h('h3', null, t(after ? 'stop.photos.after' : 'stop.photos.before')),
    h('ul', { class: 'photos', id: after ? 'photos-after' : 'photos-before' }, photos.map((p, i) =>
      h('li', null, h('a', { href: p.url, target: '_blank', rel: 'noopener' },
        h('img', { src: p.thumbnail_url, alt: t(after ? 'stop.photo.after' : 'stop.photo', { n: i + 1, number: d.number }), width: 160, height: 120 }))))));
}

function errorBox(id: string): HTMLElement {
  return h('p', { class: 'field-error', id, hidden: true });
}

function showError(box: HTMLElement, control: HTMLElement, message: string): void {
  box.textContent = message;
  box.hidden = false;
  control.setAttribute('aria-invalid', 'true');
  control.focus();
}

export function stopScreen(number: string): Screen {
  const heading = h('h1', { id: 'screen-title', tabindex: '-1' }, number);
  const result = h('p', { class: 'action-result', id: 'action-result', role: 'status', tabindex: '-1', hidden: true });
  const body = h('div', { class: 'stop-detail' }, h('p', { class: 'status' }, t('stop.loading')));
  const pickers: PhotoPicker[] = [];
  /** Actions queued from this screen, to say when each is sent. */
  const queued = new Map<string, string>();
  let alive = true;

  async function read(): Promise<{ detail: Detail | null; at: number | null; missing: boolean }> {
    if (navigator.onLine !== false) {
      try {
        const detail = await api.detail(number);
        if (field.me) await saved.saveDetail({ number, agent_id: field.me.id, loaded_at: Date.now(), detail });
        return { detail, at: null, missing: false };
      } catch (e) {
        if (e instanceof api.ApiError && (e.status === 404 || e.status === 403)) return { detail: null, at: null, missing: true };
        // No network, or the session ended: the detail kept on the phone (actions wait in the
        // outbox, which asks for a login when it needs one).
      }
    }
    const kept = await saved.detail(number);
    return kept && kept.agent_id === field.me?.id ? { detail: kept.detail, at: kept.loaded_at, missing: false } : { detail: null, at: null, missing: false };
  }

  async function load(focusResult = false): Promise<void> {
    const got = await read();
    const r = await saved.round();
    const stops = r && r.agent_id === field.me?.id ? r.round.stops : [];
    const index = stops.findIndex((s) => s.request_number === number);
    const pending = await pendingFor(number);
    if (!alive) return;
    pickers.splice(0).forEach((p) => p.dispose());
    heading.textContent = index >= 0 ? `${t('round.stop', { n: index + 1 })} — ${number}` : number;
    document.title = `${heading.textContent} — ${t('app.name')}`;
    if (got.missing) {
      replace(body, h('p', { class: 'error', id: 'stop-error' }, t('stop.notFound')));
      return;
    }
    replace(body, render(got.detail, got.at, index >= 0 ? stops[index] : null, index, stops, pending));
    if (focusResult) result.focus();
  }

  function render(d: Detail | null, keptAt: number | null, stop: RoundStop | null, index: number, stops: RoundStop[], pending: FieldAction[]): HTMLElement {
    const open = d ? d.phase !== 'closed' && d.phase !== 'withdrawn' : true;
    const closing = pending.some((a) => a.kind === 'close' || a.kind === 'could-not-act');
    const lat = d?.location?.lat ?? stop?.lat;
    const lon = d?.location?.lon ?? stop?.lon;
    const next = stops.slice(index + 1)[0];
    const summary = h('section', { class: 'card', 'aria-labelledby': 'summary-title' },
      h('h2', { id: 'summary-title' }, t('stop.summary')),
      dl([
        [t('stop.demarche'), d?.demarche.title ?? stop?.demarche_title ?? null],
        [t('stop.status'), h('span', { id: 'stop-status' }, d?.status_label ?? stop?.status_label ?? '')],
        [t('stop.place'), d?.address ?? stop?.address ?? t('stop.noAddress')],
        [t('stop.coords'), lat !== undefined && lon !== undefined ? `${formatNumber(lat, 5)}, ${formatNumber(lon, 5)}` : null],
        [t('stop.due'), (d?.due_at ?? stop?.due_at) ? formatDateTime((d?.due_at ?? stop?.due_at)!) : null],
        [t('stop.description'), h('span', { class: 'pre' }, d?.description ?? stop?.description ?? '')],
      ]),
      stop ? legLine(stop, index === 0) : null,
      stop ? navLinks(stop, index + 1) : null);
    const photos = d ? h('section', { class: 'card', 'aria-labelledby': 'photos-title' },
      h('h2', { id: 'photos-title' }, t('stop.photos')),
      photoList(d, false), photoList(d, true),
      photosOf(d, false).length + photosOf(d, true).length ? null : h('p', null, t('stop.photos.none'))) : null;
    const waiting = pending.length
      ? h('section', { class: 'card pending', id: 'stop-pending', 'aria-labelledby': 'pending-title' },
        h('h2', { id: 'pending-title' }, t('stop.pending')),
        h('ul', null, pending.map((a) => h('li', null, actionName(a)))))
      : null;
    const actions: HTMLElement[] = [];
    if (open && !closing) {
      actions.push(closeForm(d));
      actions.push(couldNotActForm());
      actions.push(relocateBox());
    } else if (!open) {
      actions.push(h('p', { id: 'stop-closed' }, t('stop.closed')));
    }
    actions.push(noteForm());
    return h('div', null,
      keptAt ? h('p', { class: 'status', id: 'stop-kept' }, t('stop.cachedAt', { at: formatDateTime(keptAt) })) : null,
      !d ? h('p', { class: 'status', id: 'stop-not-kept' }, t('stop.notCached')) : null,
      waiting,
      summary,
      photos,
      h('section', { class: 'stop-actions', 'aria-labelledby': 'actions-title' }, h('h2', { id: 'actions-title' }, t('actions.title')), actions),
      next ? h('p', { class: 'next-stop' }, h('a', { href: stopHref(next.request_number), class: 'button', id: 'next-stop' }, t('stop.next', { number: next.request_number }))) : null);
  }

  /** Queues an action, says so (and later that it was sent), and shows the stop again. */
  async function queue(action: Parameters<typeof outbox.add>[0]): Promise<void> {
    const entry = await outbox.add(action);
    const name = actionName(entry);
    queued.set(entry.id, name);
    // Sent already (a quick network) or not: the event handler below corrects the text.
    const stillThere = (await outbox.all()).some((a) => a.id === entry.id && !a.failed);
    say(t(!stillThere ? 'actions.sent' : navigator.onLine === false ? 'actions.queued' : 'actions.sending', { action: name }));
    await load(true);
  }

  /** The result, in a status region (said by screen readers without moving the focus). */
  function say(message: string): void {
    result.textContent = message;
    result.hidden = false;
  }

  function closeForm(d: Detail | null): HTMLElement {
    const closings = (d?.next_statuses ?? []).filter((s) => s.phase === 'closed');
    if (!closings.length) {
      return h('div', { class: 'action', id: 'action-close' }, h('h3', null, t('close.title')), h('p', null, d ? t('close.none') : t('stop.notCached')));
    }
    const outcomeError = errorBox('close-outcome-error');
    const radios = closings.map((s) => {
      const id = `close-outcome-${s.status}`;
      const input = h('input', { type: 'radio', name: 'close-outcome', id, value: s.status, checked: closings.length === 1 });
      return { input, row: h('div', { class: 'check' }, input, h('label', { for: id }, s.label)) };
    });
    const picker = photoPicker('close-photos', t('close.photos'), t('close.photos.hint'));
    pickers.push(picker);
    const message = labelled('close-message', t('close.message'), h('textarea', { rows: 3 }));
    const submit = h('button', { type: 'submit' }, t('close.submit'));
    const form = h('form', { class: 'action', id: 'action-close', 'aria-labelledby': 'close-title', novalidate: true },
      h('h3', { id: 'close-title' }, t('close.title')),
      h('fieldset', { 'aria-describedby': 'close-outcome-error' }, h('legend', null, t('close.outcome')), radios.map((r) => r.row), outcomeError),
      picker.el,
      message.el,
      submit);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      outcomeError.hidden = true;
      const chosen = radios.find((r) => r.input.checked)?.input.value;
      const target = closings.find((s) => s.status === chosen);
      if (!target) return showError(outcomeError, radios[0].input, t('close.pick'));
      submit.disabled = true;
      try {
        const photos = await picker.photos();
        if (!photos.length) return picker.fail(t('close.photos.required'));
        const text = message.control.value.trim();
        await queue({ kind: 'close', request_number: number, status: target.status, status_label: target.label, photos, ...(text ? { message: text } : {}) });
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  function couldNotActForm(): HTMLElement {
    const reason = labelled('cna-reason', t('cna.reason'), h('textarea', { rows: 3, required: true }), t('cna.hint'));
    const submit = h('button', { type: 'submit', class: 'secondary' }, t('cna.submit'));
    const form = h('form', { class: 'action', id: 'action-could-not-act', 'aria-labelledby': 'cna-title', novalidate: true },
      h('h3', { id: 'cna-title' }, t('cna.title')), reason.el, submit);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = reason.control.value.trim();
      if (!text) return showError(reason.error, reason.control, t('cna.required'));
      void queue({ kind: 'could-not-act', request_number: number, reason: text });
    });
    return form;
  }

  function relocateBox(): HTMLElement {
    const locate = h('button', { type: 'button', class: 'secondary', id: 'relocate-locate' }, t('relocate.locate'));
    const found = h('div', { id: 'relocate-found', hidden: true });
    const err = h('p', { class: 'field-error', id: 'relocate-error', role: 'alert', hidden: true });
    locate.addEventListener('click', async () => {
      err.hidden = true;
      locate.disabled = true;
      try {
        const fix = await currentPosition();
        const confirm = h('button', { type: 'button', id: 'relocate-confirm' }, t('relocate.confirm'));
        const cancel = h('button', { type: 'button', class: 'secondary' }, t('relocate.cancel'));
        confirm.addEventListener('click', () => void queue({ kind: 'relocate', request_number: number, lat: fix.lat, lon: fix.lon }));
        cancel.addEventListener('click', () => {
          found.hidden = true;
          locate.focus();
        });
        replace(found,
          h('p', null, t('relocate.found', { lat: formatNumber(fix.lat, 5), lon: formatNumber(fix.lon, 5), accuracy: formatNumber(fix.accuracy) })),
          h('div', { class: 'buttons' }, confirm, cancel));
        found.hidden = false;
        confirm.focus();
      } catch (e) {
        err.textContent = t(`gps.${e instanceof PositionError ? e.why : 'unavailable'}`);
        err.hidden = false;
      } finally {
        locate.disabled = false;
      }
    });
    return h('div', { class: 'action', id: 'action-relocate', 'aria-labelledby': 'relocate-title', role: 'group' },
      h('h3', { id: 'relocate-title' }, t('relocate.title')),
      h('p', { class: 'hint' }, t('relocate.hint')),
      locate, found, err);
  }

  function noteForm(): HTMLElement {
    const text = labelled('note-text', t('note.text'), h('textarea', { rows: 3, required: true }));
    const submit = h('button', { type: 'submit', class: 'secondary' }, t('note.submit'));
    const form = h('form', { class: 'action', id: 'action-note', 'aria-labelledby': 'note-title', novalidate: true },
      h('h3', { id: 'note-title' }, t('note.title')), text.el, submit);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const v = text.control.value.trim();
      if (!v) return showError(text.error, text.control, t('note.required'));
      void queue({ kind: 'note', request_number: number, text: v });
    });
    return form;
  }

  const off = outbox.onEvent((e) => {
    if (e.type !== 'sent') return;
    const name = queued.get(e.entry.id);
    if (name === undefined) return;
    queued.delete(e.entry.id);
    say(t('actions.sent', { action: name }));
  });

  void load();

  return {
    title: number,
    el: h('section', { class: 'stop' },
      h('p', { class: 'no-print' }, h('a', { href: screenHref('') }, t('stop.back'))),
      heading,
      result,
      body),
    cleanup: () => {
      alive = false;
      off();
      pickers.splice(0).forEach((p) => p.dispose());
    },
  };
}
