// Log in: the session comes back as an HttpOnly cookie (the page never sees a token). An
// account with a second factor is asked for its app's code; an admin or supervisor who must
// have one (in production) enrols it here before anything else.
import { announce, h } from '@guichet/web/dom';
import { ApiError, confirmSecondFactor, enrolSecondFactor, login, type Me } from '../api';
import type { Screen } from '../app';
import { t } from '../i18n';

export function loginScreen(onDone: (me: Me) => Promise<void> | void): Screen {
  const title = t('login.title');
  const email = h('input', { type: 'email', id: 'login-email', name: 'email', autocomplete: 'username', required: true, 'aria-describedby': 'login-error' });
  const password = h('input', { type: 'password', id: 'login-password', name: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'login-error' });
  const code = h('input', { type: 'text', id: 'login-totp', name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]*', maxlength: '8', 'aria-describedby': 'login-totp-hint login-error' });
  const codeField = h('div', { class: 'form-field', hidden: true },
    h('label', { for: 'login-totp' }, t('login.totp')),
    h('p', { class: 'hint', id: 'login-totp-hint' }, t('login.totpHint')),
    code);
  const error = h('p', { class: 'field-error', id: 'login-error', hidden: true });
  const submit = h('button', { type: 'submit' }, t('login.submit'));
  const form = h('form', { class: 'login', novalidate: true },
    h('div', { class: 'form-field' }, h('label', { for: 'login-email' }, t('login.email')), email),
    h('div', { class: 'form-field' }, h('label', { for: 'login-password' }, t('login.password')), password),
    codeField,
    error,
    submit);
  const section = h('section', { class: 'narrow' }, h('h1', { id: 'screen-title', tabindex: '-1' }, title), form);

  function fail(message: string, focus: HTMLInputElement, invalid: HTMLInputElement[]): void {
    error.textContent = message;
    error.hidden = false;
    invalid.forEach((i) => i.setAttribute('aria-invalid', 'true'));
    announce(message);
    focus.focus();
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    [email, password, code].forEach((i) => i.removeAttribute('aria-invalid'));
    if (!email.value.trim() || !password.value) {
      fail(t('login.failed'), email.value.trim() ? password : email, []);
      return;
    }
    submit.disabled = true;
    try {
      const me = await login(email.value.trim(), password.value, codeField.hidden ? undefined : code.value.trim());
      if (me.second_factor_required && !me.second_factor) {
        section.replaceChildren(...enrolment(me, password.value, onDone).children);
        section.querySelector<HTMLElement>('h1')?.focus();
        return;
      }
      await onDone(me);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'second-factor-required' && codeField.hidden) {
        codeField.hidden = false;
        error.textContent = t('login.totpNeeded');
        error.hidden = false;
        announce(error.textContent);
        code.focus();
      } else if (err instanceof ApiError && err.status === 401 && !codeField.hidden && err.field === 'totp') {
        fail(t('login.totpWrong'), code, [code]);
      } else {
        const message = err instanceof ApiError && err.status === 401 ? t('login.failed')
          : t('login.error', { message: err instanceof Error ? err.message : String(err) });
        fail(message, password, [email, password]);
      }
    } finally {
      submit.disabled = false;
    }
  });
  return { title, el: section };
}

/** Enrolment of the second factor: the secret for the app, then its first code. */
function enrolment(me: Me, password: string, onDone: (me: Me) => Promise<void> | void): HTMLElement {
  const heading = h('h1', { id: 'screen-title', tabindex: '-1' }, t('totp.title'));
  const status = h('div', { role: 'status' }, h('p', null, t('totp.loading')));
  const code = h('input', { type: 'text', id: 'totp-code', name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]*', maxlength: '8', 'aria-describedby': 'totp-error' });
  const error = h('p', { class: 'field-error', id: 'totp-error', hidden: true });
  const submit = h('button', { type: 'submit' }, t('totp.confirm'));
  const form = h('form', { class: 'login', novalidate: true, hidden: true },
    h('div', { class: 'form-field' }, h('label', { for: 'totp-code' }, t('totp.code')), code),
    error,
    submit);
  void enrolSecondFactor(password).then((en) => {
    status.replaceChildren(
      h('p', null, t('totp.intro')),
      h('p', null, h('a', { href: en.otpauth_url }, t('totp.openApp'))),
      h('p', null, t('totp.secret'), ' ', h('code', { id: 'totp-secret' }, en.secret)),
    );
    form.hidden = false;
    code.focus();
  }).catch((err) => {
    status.replaceChildren(h('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err)));
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      await confirmSecondFactor(code.value.trim());
      await onDone({ ...me, second_factor: true });
    } catch {
      error.textContent = t('login.totpWrong');
      error.hidden = false;
      code.setAttribute('aria-invalid', 'true');
      announce(error.textContent);
      code.focus();
    } finally {
      submit.disabled = false;
    }
  });
  return h('section', { class: 'narrow' }, heading, status, form);
}
