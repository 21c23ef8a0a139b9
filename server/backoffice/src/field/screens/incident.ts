// A new problem seen on site: a geolocated démarche of the catalogue, photos, a description and
// the phone's position. It goes through the outbox like any action (`POST /agent/reports`,
// channel `field`, its id as the report's `client_id`), so it can be filed offline too; the
// server routes it and merges it with an open report of the same incident, as for citizens.
import { h, replace } from '@guichet/web/dom';
import { uuid } from '@guichet/web/geo';
import * as api from '../../api';
import { labelled } from '../../screens/forms';
import { type Screen } from '../app';
import { formatNumber, t } from '../i18n';
import { outbox } from '../outbox';
import { photoPicker } from '../photo-picker';
import { currentPosition, PositionError, type Fix } from '../position';
import { saved } from '../store';

async function geolocatedDemarches(): Promise<api.CatalogueEntry[] | null> {
  if (navigator.onLine !== false) {
    try {
      const list = (await api.catalogue()).filter((d) => d.geolocated);
      await saved.saveCatalogue(list);
      return list;
    } catch {
      /* the list kept on the phone */
    }
  }
  return saved.catalogue();
}

export function incidentScreen(): Screen {
  const title = t('new.title');
  const select = h('select', { required: true }, h('option', { value: '' }, t('new.demarche.choose')));
  const demarche = labelled('new-demarche', t('new.demarche'), select);
  const picker = photoPicker('new-photos', t('new.photos'), t('new.photos.hint'));
  const description = labelled('new-description', t('new.description'), h('textarea', { rows: 4, required: true }));
  const where = h('p', { id: 'new-position' }, t('new.position.none'));
  const whereError = h('p', { class: 'field-error', id: 'new-position-error', hidden: true });
  const locate = h('button', { type: 'button', class: 'secondary', id: 'new-locate', 'aria-describedby': 'new-position new-position-error' }, t('new.position.locate'));
  const submit = h('button', { type: 'submit' }, t('new.submit'));
  const result = h('p', { class: 'action-result', id: 'action-result', role: 'status', tabindex: '-1', hidden: true });
  const form = h('form', { class: 'action new-report', id: 'new-report', novalidate: true },
    demarche.el,
    picker.el,
    description.el,
    h('fieldset', null, h('legend', null, t('new.position')), where, locate, whereError),
    submit);
  let fix: Fix | null = null;
  let titles = new Map<string, string>();
  /** The id of the report being written: kept until it is queued, so a double tap files it once. */
  let clientId = uuid();
  let alive = true;

  async function locateNow(): Promise<void> {
    locate.disabled = true;
    whereError.hidden = true;
    try {
      fix = await currentPosition();
      where.textContent = `${formatNumber(fix.lat, 5)}, ${formatNumber(fix.lon, 5)} (± ${formatNumber(fix.accuracy)} m)`;
    } catch (e) {
      whereError.textContent = t(`gps.${e instanceof PositionError ? e.why : 'unavailable'}`);
      whereError.hidden = false;
    } finally {
      locate.disabled = false;
    }
  }
  locate.addEventListener('click', () => void locateNow());
  void locateNow();

  void geolocatedDemarches().then((list) => {
    if (!alive) return;
    if (!list?.length) {
      demarche.error.textContent = t('new.demarche.unavailable');
      demarche.error.hidden = false;
      return;
    }
    titles = new Map(list.map((d) => [d.code, d.title]));
    const groups = new Map<string, api.CatalogueEntry[]>();
    for (const d of list) groups.set(d.group, [...(groups.get(d.group) ?? []), d]);
    replace(select, h('option', { value: '' }, t('new.demarche.choose')),
      [...groups].map(([group, items]) => h('optgroup', { label: group }, items.map((d) => h('option', { value: d.code }, d.title)))));
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    for (const f of [demarche, description]) {
      f.error.hidden = true;
      f.control.removeAttribute('aria-invalid');
    }
    whereError.hidden = true;
    const fail = (box: HTMLElement, control: HTMLElement, message: string) => {
      box.textContent = message;
      box.hidden = false;
      control.setAttribute('aria-invalid', 'true');
      control.focus();
    };
    if (!select.value) return fail(demarche.error, select, t('new.demarche.required'));
    if (!description.control.value.trim()) return fail(description.error, description.control, t('new.description.required'));
    if (!fix) return fail(whereError, locate, t('new.position.required'));
    submit.disabled = true;
    try {
      const photos = await picker.photos();
      const report = {
        client_id: clientId,
        category: select.value,
        lat: Number(fix.lat.toFixed(6)),
        lon: Number(fix.lon.toFixed(6)),
        accuracy_m: Math.round(fix.accuracy * 10) / 10,
        description: description.control.value.trim(),
      };
      await outbox.add({ kind: 'report', report, category_title: titles.get(select.value) ?? select.value, photos }, clientId);
      clientId = uuid();
      result.textContent = t(navigator.onLine === false ? 'actions.queued' : 'actions.sending', { action: t('actions.kind.report') });
      result.hidden = false;
      form.reset();
      picker.dispose();
      result.focus();
    } finally {
      submit.disabled = false;
    }
  });

  const off = outbox.onEvent((ev) => {
    if (ev.type !== 'sent' || ev.entry.kind !== 'report' || !ev.result.request_number) return;
    result.textContent = t(ev.result.deduplicated ? 'new.merged' : 'new.filed', { number: ev.result.request_number });
    result.hidden = false;
  });

  return {
    title,
    el: h('section', { class: 'new-incident narrow' },
      h('h1', { id: 'screen-title', tabindex: '-1' }, title),
      h('p', null, t('new.intro')),
      result,
      form),
    cleanup: () => {
      alive = false;
      off();
      picker.dispose();
    },
  };
}
