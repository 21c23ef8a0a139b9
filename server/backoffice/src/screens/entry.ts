// Entry on a citizen's behalf (phone, desk, letter, e-mail): pick a démarche, its form is
// drawn from its definition by the renderer the citizen app uses, the server's field errors
// are shown at their fields (contact details included), and the receipt gives the number and
// the tracking code to pass on.
import { announce, h, replace } from '@guichet/web/dom';
import type { FieldError } from '@guichet/web/api';
import type { FormDefinition } from '@guichet/web/forms/definition';
import { renderForm, type FormHandle } from '@guichet/web/forms/render';
import { uuid } from '@guichet/web/geo';
import * as api from '../api';
import { href, requestHref, type Screen } from '../app';
import { formatDateTime, lang, t } from '../i18n';

const AGENT_CHANNELS = ['phone', 'desk', 'mail', 'email'] as const;

/** The requester's contact, drawn by the same renderer (its errors come as `contact.<x>`). */
function contactForm(): FormDefinition {
  return {
    fields: [
      { id: 'name', kind: 'text', label: t('entry.contact.name'), label_en: t('entry.contact.name'), validation: { max_length: 200 } },
      { id: 'email', kind: 'email', label: t('entry.contact.email'), label_en: t('entry.contact.email') },
      { id: 'phone', kind: 'phone', label: t('entry.contact.phone'), label_en: t('entry.contact.phone') },
    ],
  };
}

export function entryScreen(params: URLSearchParams): Screen {
  const title = t('entry.title');
  const demarche = h('select', { id: 'entry-demarche', name: 'demarche' }, h('option', { value: '' }, t('entry.demarche.choose')));
  const channel = h('select', { id: 'entry-channel', name: 'channel' },
    AGENT_CHANNELS.map((c) => h('option', { value: c, selected: c === (params.get('channel') ?? 'phone') }, t(`channel.${c}`))));
  const formHost = h('div', { id: 'entry-form' });
  const errorBox = h('p', { class: 'field-error', id: 'entry-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', id: 'entry-submit' }, t('entry.submit'));
  const contact = renderForm(contactForm(), { idPrefix: 'contact' });
  let form: FormHandle | null = null;
  let clientId = uuid();

  const outer = h('form', { class: 'entry', novalidate: true, 'aria-labelledby': 'screen-title' },
    h('p', null, t('entry.intro')),
    h('div', { class: 'row' },
      h('div', { class: 'form-field' }, h('label', { for: 'entry-demarche' }, t('entry.demarche')), demarche),
      h('div', { class: 'form-field' }, h('label', { for: 'entry-channel' }, t('entry.channel')), channel)),
    h('fieldset', { class: 'contact' }, h('legend', null, t('entry.contact')), contact.el),
    formHost,
    errorBox,
    submit);
  const section = h('section', { class: 'entry-screen' }, h('h1', { id: 'screen-title', tabindex: '-1' }, title), outer);

  api.catalogue().then((list) => {
    const wanted = params.get('demarche') ?? '';
    // Démarches that need an account are filed by their citizens, not on their behalf.
    const open = list.filter((d) => d.auth !== 'account' && AGENT_CHANNELS.some((c) => d.channels.includes(c)));
    const groups = new Map<string, api.CatalogueEntry[]>();
    for (const d of open) groups.set(d.group, [...(groups.get(d.group) ?? []), d]);
    replace(demarche, h('option', { value: '' }, t('entry.demarche.choose')),
      [...groups].map(([g, ds]) => h('optgroup', { label: g }, ds.map((d) => h('option', { value: d.code, selected: d.code === wanted }, d.title)))));
    if (wanted) void showForm(wanted);
  }, () => {});

  async function showForm(code: string): Promise<void> {
    form?.destroy();
    form = null;
    errorBox.hidden = true;
    if (!code) {
      replace(formHost);
      return;
    }
    replace(formHost, h('p', { role: 'status' }, t('entry.loading')));
    try {
      const def = await api.definition(code);
      if (demarche.value !== code) return;
      form = renderForm(def.form, { idPrefix: 'entry' });
      const titleText = lang() === 'en' && def.title_en ? def.title_en : def.title;
      replace(formHost, h('fieldset', { class: 'demarche-form' }, h('legend', null, t('entry.form', { title: titleText })), form.el));
      clientId = uuid();
    } catch (e) {
      replace(formHost, h('p', { class: 'field-error', role: 'alert' }, e instanceof Error ? e.message : String(e)));
    }
  }

  demarche.addEventListener('change', () => {
    history.replaceState(null, '', href(`new?${new URLSearchParams({ demarche: demarche.value, channel: channel.value })}`));
    void showForm(demarche.value);
  });

  /** Server errors: `contact.<x>` at the contact fields, the rest at the démarche's form. */
  function showServerErrors(errors: FieldError[]): void {
    const toContact = errors.filter((e) => e.field.startsWith('contact.')).map((e) => ({ ...e, field: e.field.replace(/^contact\./, 'data.') }));
    const toForm = errors.filter((e) => !e.field.startsWith('contact.'));
    contact.showErrors(toContact);
    form?.showErrors(toForm);
  }

  outer.addEventListener('submit', async (e) => {
    e.preventDefault();
    errorBox.hidden = true;
    if (!form || !demarche.value) {
      errorBox.textContent = t('entry.pickFirst');
      errorBox.hidden = false;
      demarche.focus();
      return;
    }
    const contactErrors = contact.check();
    const formErrors = form.check();
    if (contactErrors.length || formErrors.length) {
      // The first summary with errors, in the page's order, keeps the focus.
      if (contactErrors.length) contact.el.querySelector<HTMLElement>('.form-errors')?.focus();
      return;
    }
    const { data, files } = form.value();
    const c = contact.value().data;
    submit.disabled = true;
    try {
      const receipt = await api.enter({ client_id: clientId, demarche: demarche.value, channel: channel.value, data, contact: c }, files);
      announce(t('entry.done', { number: receipt.request_number }));
      showReceipt(receipt);
    } catch (err) {
      // A refusal that names one field without a list (an upload refused as it arrives) is
      // shown the same way.
      const errors = err instanceof api.ApiError
        ? (err.errors.length ? err.errors : err.field ? [{ field: err.field, code: err.code, message: err.message }] : [])
        : [];
      if (errors.length) {
        showServerErrors(errors);
      } else {
        errorBox.textContent = err instanceof api.ApiError ? t('actions.failed', { message: err.message }) : t('actions.network');
        errorBox.hidden = false;
        errorBox.focus();
      }
    } finally {
      submit.disabled = false;
    }
  });

  function showReceipt(r: api.Receipt): void {
    form?.destroy();
    const again = h('a', { href: href('new'), 'data-nav': '', class: 'button secondary' }, t('entry.another'));
    replace(section,
      h('h1', { id: 'screen-title', tabindex: '-1' }, t('entry.receipt')),
      h('dl', { class: 'facts receipt', id: 'entry-receipt' },
        h('dt', null, t('entry.receipt.number')), h('dd', { id: 'receipt-number' }, r.request_number),
        h('dt', null, t('entry.receipt.code')), h('dd', null, h('code', { id: 'receipt-code' }, r.tracking_code)),
        r.service ? [h('dt', null, t('entry.receipt.service')), h('dd', null, r.service)] : null,
        r.due_at ? [h('dt', null, t('detail.due')), h('dd', null, formatDateTime(r.due_at))] : null),
      h('p', null, h('a', { href: requestHref(r.request_number), 'data-nav': '' }, t('entry.receipt.open', { number: r.request_number }))),
      h('p', null, again));
    section.querySelector<HTMLElement>('#screen-title')?.focus();
  }

  return {
    title,
    el: section,
    cleanup: () => {
      form?.destroy();
      contact.destroy();
    },
  };
}
