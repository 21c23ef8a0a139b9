// "Mon porte-documents": the account's documents, the room left, adding one (a label, what
// it is, the file), opening and deleting one (asked twice). Forms then offer them at their
// file fields.
import { announce, h, replace } from '@guichet/web/dom';
import { formatBytes, formatDateTime } from '@guichet/web/i18n';
import { ApiError, NetworkError } from '../api';
import { session } from '../account';
import type { Navigate, Screen } from '../screens';
import { addDocument, deleteDocument, documentBlob, getWallet, KINDS, type Kind, type Wallet, type WalletDocument } from '../wallet';
import { t } from './i18n';
import { heading, statusLine, textField } from './ui';

function failure(e: unknown): string {
  if (e instanceof NetworkError) return t('acc.network');
  if (e instanceof ApiError) {
    if (e.code === 'wallet-quota-exceeded') return t('wallet.full');
    const first = e.errors[0];
    if (first?.code === 'file-type-not-accepted') return t('wallet.type');
    return t('acc.error', { error: first?.message || e.message || e.code });
  }
  return t('acc.error', { error: String(e) });
}

export function walletScreen(go: Navigate): Screen {
  const body = h('div');
  const el = h('section', { class: 'screen wallet', 'aria-labelledby': 'screen-title' }, heading(t('wallet.title')), body);
  const result = statusLine('wallet-result');
  const opened: string[] = [];

  const item = (d: WalletDocument): HTMLElement => {
    const open = h('button', {
      type: 'button', class: 'button small secondary', 'data-open': String(d.id),
      'aria-label': t('wallet.open.named', { label: d.label }),
      onclick: async () => {
        try {
          const url = URL.createObjectURL(await documentBlob(d));
          opened.push(url);
          const a = h('a', { href: url, download: d.filename });
          a.click();
        } catch (e) {
          result.say(failure(e), true);
        }
      },
    }, t('wallet.open'));
    const remove = h('button', {
      type: 'button', class: 'button small secondary', 'data-delete': String(d.id),
      'aria-label': t('wallet.delete.named', { label: d.label }),
    }, t('wallet.delete'));
    const row = h('li', { class: 'card wallet-item', 'data-document': String(d.id) },
      h('h3', null, d.label),
      h('p', null, t(`wallet.kind.${d.kind}` as Parameters<typeof t>[0]), ' · ', d.filename, ' · ', formatBytes(d.bytes)),
      h('p', { class: 'hint' }, t('wallet.added', { date: formatDateTime(d.created_at) })),
      h('div', { class: 'actions compact' }, open, remove));
    // Deleting asks once more, in place, with the focus on the confirmation.
    remove.addEventListener('click', () => {
      const confirm = h('button', {
        type: 'button', class: 'button small danger', id: `confirm-delete-${d.id}`,
        onclick: async () => {
          try {
            await deleteDocument(d);
            await load(t('wallet.deleted', { label: d.label }));
          } catch (e) {
            result.say(failure(e), true);
          }
        },
      }, t('wallet.delete.confirm'));
      const keep = h('button', { type: 'button', class: 'button small secondary', onclick: () => void load() }, t('wallet.delete.keep'));
      const ask = h('div', { class: 'notice', role: 'group', 'aria-label': t('wallet.delete.ask', { label: d.label }) },
        h('p', null, t('wallet.delete.ask', { label: d.label })), confirm, keep);
      row.append(ask);
      remove.disabled = true;
      confirm.focus();
    });
    return row;
  };

  const addForm = (): HTMLElement => {
    const label = textField('wallet-label', t('wallet.label'), { maxlength: 120, autocomplete: 'off' }, t('wallet.label.hint'));
    const kind = h('select', { id: 'wallet-kind', name: 'kind' },
      KINDS.map((k) => h('option', { value: k }, t(`wallet.kind.${k}` as Parameters<typeof t>[0]))));
    const fileError = h('p', { class: 'error', id: 'wallet-file-error', hidden: true });
    const file = h('input', {
      type: 'file', id: 'wallet-file', name: 'file',
      accept: 'application/pdf,image/jpeg,image/png,image/webp,.docx,.odt',
      'aria-describedby': 'wallet-file-hint wallet-file-error',
    });
    const f = h('form', { novalidate: true, 'aria-labelledby': 'wallet-add-title' },
      label.row,
      h('div', { class: 'field' }, h('label', { for: 'wallet-kind' }, t('wallet.kind')), kind),
      h('div', { class: 'field' },
        h('label', { for: 'wallet-file' }, t('wallet.file')),
        h('p', { class: 'hint', id: 'wallet-file-hint' }, t('wallet.file.hint')),
        file, fileError),
      h('button', { type: 'submit', class: 'button primary', id: 'wallet-add' }, t('wallet.add')));
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      result.clear();
      fileError.hidden = true;
      file.removeAttribute('aria-invalid');
      const picked = file.files?.[0];
      if (!label.input.value.trim()) return label.error(t('acc.field.required'));
      label.error(null);
      if (!picked) {
        fileError.textContent = t('acc.field.required');
        fileError.hidden = false;
        file.setAttribute('aria-invalid', 'true');
        file.focus();
        return;
      }
      try {
        await addDocument(label.input.value.trim(), kind.value as Kind, picked);
        await load(t('wallet.added.done', { label: label.input.value.trim() }));
      } catch (err) {
        const msg = failure(err);
        fileError.textContent = msg;
        fileError.hidden = false;
        file.setAttribute('aria-invalid', 'true');
        file.focus();
        announce(msg);
      }
    });
    return h('section', { class: 'card', 'aria-labelledby': 'wallet-add-title' },
      h('h2', { id: 'wallet-add-title' }, t('wallet.add.title')), f);
  };

  const show = (w: Wallet, said?: string) => {
    const used = Math.min(w.used_bytes, w.quota_bytes);
    replace(body,
      h('p', null, t('wallet.intro')),
      result.el,
      h('p', { id: 'wallet-usage' },
        t('wallet.usage', { used: formatBytes(w.used_bytes), quota: formatBytes(w.quota_bytes) }), ' ',
        h('progress', { max: String(w.quota_bytes), value: String(used), 'aria-label': t('wallet.usage.bar') })),
      w.documents.length
        ? h('ul', { class: 'list', id: 'wallet-list', 'aria-label': t('wallet.title') }, w.documents.map(item))
        : h('p', { id: 'wallet-empty' }, t('wallet.empty')),
      addForm());
    if (said) result.say(said);
  };

  async function load(said?: string): Promise<void> {
    try {
      show(await getWallet(), said);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return go(`#/account?next=${encodeURIComponent('#/account/documents')}&why=login`);
      replace(body, h('p', { class: 'error', role: 'alert' }, failure(e)));
    }
  }

  const s = session();
  if (!s) {
    queueMicrotask(() => go(`#/account?next=${encodeURIComponent('#/account/documents')}&why=login`));
  } else if (!s.email_verified) {
    replace(body, h('p', { class: 'notice' }, t('wallet.verifyFirst')), h('a', { href: '#/account', class: 'button primary' }, t('acc.title')));
  } else {
    replace(body, h('p', null, t('wallet.loading')));
    void load();
  }
  return {
    title: t('wallet.title'),
    el,
    cleanup: () => opened.forEach((u) => URL.revokeObjectURL(u)),
  };
}
