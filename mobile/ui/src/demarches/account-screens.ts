// The account screens: log in (or out), create an account and verify its address with the
// code of the e-mail, and choose a new password with the code of a reset e-mail. A `next`
// in the address brings the citizen back where they were (a form whose draft is kept).
import { h, replace } from '@guichet/web/dom';
import {
  ApiError, NetworkError,
} from '../api';
import * as account from '../account';
import type { Navigate, Screen } from '../screens';
import { t } from './i18n';
import { heading, statusLine, textField, type TextField } from './ui';

/** Only a route of this app may follow a login (never another site). */
function safeNext(next: string | null): string | null {
  return next && /^#\/[\w\-/%.]*$/.test(next) ? next : null;
}

function failure(e: unknown): string {
  if (e instanceof NetworkError) return t('acc.network');
  if (e instanceof ApiError) {
    if (e.code === 'invalid-credentials') return t('acc.login.bad');
    if (e.code === 'invalid-token') return t('acc.invalidToken');
    return t('acc.error', { error: e.message || e.code });
  }
  return t('acc.error', { error: String(e) });
}

/** Shows a server's field errors at the fields they name; true when one was shown. */
function fieldErrors(e: unknown, fields: Record<string, TextField>): boolean {
  // A used or expired code is said in words of ours, not the server's.
  if (!(e instanceof ApiError) || e.code === 'invalid-token') return false;
  const list = e.errors.length ? e.errors : e.field ? [{ field: e.field, code: e.code, message: e.message }] : [];
  let shown = false;
  for (const err of [...list].reverse()) {
    const f = fields[err.field === 'token' ? 'code' : err.field];
    if (f) {
      f.error(err.message || err.code);
      shown = true;
    }
  }
  return shown;
}

function required(fields: TextField[]): boolean {
  let ok = true;
  for (const f of [...fields].reverse()) {
    if (!f.input.value.trim()) {
      f.error(t('acc.field.required'));
      ok = false;
    } else {
      f.error(null);
    }
  }
  return ok;
}

function withNext(path: string, next: string | null): string {
  return next ? `${path}?next=${encodeURIComponent(next)}` : path;
}

export function accountScreen(params: URLSearchParams, go: Navigate): Screen {
  const next = safeNext(params.get('next'));
  const why = params.get('why');
  const body = h('div');
  const el = h('section', { class: 'screen account', 'aria-labelledby': 'screen-title' }, heading(t('acc.title')), body);

  const continueLink = () => next ? h('a', { href: next, class: 'button primary', id: 'continue' }, t('acc.continue')) : null;

  const verifyBlock = (s: account.Session): HTMLElement => {
    const code = textField('verify-code', t('acc.verify.code'), { autocomplete: 'one-time-code', spellcheck: 'false' }, t('acc.verify.intro'));
    const result = statusLine('verify-result');
    const f = h('form', { novalidate: true, 'aria-labelledby': 'verify-title' },
      code.row, result.el,
      h('div', { class: 'actions compact' },
        h('button', { type: 'submit', class: 'button primary', id: 'verify-submit' }, t('acc.verify.submit')),
        h('button', {
          type: 'button', class: 'button secondary', id: 'verify-resend',
          onclick: async () => {
            try {
              await account.resendVerification(s.email);
              result.say(t('acc.verify.resent'));
            } catch (e) {
              result.say(failure(e), true);
            }
          },
        }, t('acc.verify.resend'))));
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      result.clear();
      if (!required([code])) return;
      try {
        await account.verify(code.input.value);
        await account.refreshSession();
        render(t('acc.verify.done'));
      } catch (err) {
        if (!fieldErrors(err, { code })) result.say(failure(err), true);
      }
    });
    return h('section', { 'aria-labelledby': 'verify-title', class: 'card' },
      h('h2', { id: 'verify-title' }, t('acc.verify')),
      h('p', null, t('acc.verify.pending')),
      f);
  };

  const signedIn = (s: account.Session, said?: string): HTMLElement[] => {
    const result = statusLine('account-result');
    if (said) result.say(said);
    return [
      result.el,
      h('p', { id: 'signed-in' }, t('acc.signedIn', { email: s.email })),
      s.email_verified ? h('p', { class: 'done' }, t('acc.verified')) : verifyBlock(s),
      ...(s.email_verified ? [h('p', null, h('a', { href: '#/account/documents', id: 'to-wallet' }, t('wallet.link')))] : []),
      h('div', { class: 'actions' },
        s.email_verified ? continueLink() : null,
        h('button', {
          type: 'button', class: 'button secondary', id: 'logout',
          onclick: async () => {
            await account.logout();
            render(t('acc.logout.done'));
          },
        }, t('acc.logout'))),
    ];
  };

  const loginForm = (said?: string): HTMLElement[] => {
    const email = textField('login-email', t('acc.email'), { type: 'email', autocomplete: 'email' });
    const password = textField('login-password', t('acc.password'), { type: 'password', autocomplete: 'current-password' });
    const result = statusLine('login-result');
    if (said) result.say(said);
    if (why === 'login') result.say(t('form.loginFirst'));
    const f = h('form', { novalidate: true, 'aria-labelledby': 'login-title' },
      email.row, password.row, result.el,
      h('button', { type: 'submit', class: 'button primary', id: 'login-submit' }, t('acc.login.submit')));
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!required([email, password])) return;
      try {
        const s = await account.login(email.input.value.trim(), password.input.value);
        if (next && s.email_verified) go(next);
        else render(t('acc.login.done'));
      } catch (err) {
        if (!fieldErrors(err, { email, password })) result.say(failure(err), true);
      }
    });
    return [
      h('h2', { id: 'login-title' }, t('acc.login')),
      h('p', null, t('acc.login.intro')),
      f,
      h('p', null, t('acc.noAccount'), ' ', h('a', { href: withNext('#/account/register', next), id: 'to-register' }, t('acc.register'))),
      h('p', null, h('a', { href: '#/account/forgot', id: 'to-forgot' }, t('acc.forgot'))),
    ];
  };

  const render = (said?: string) => {
    const s = account.session();
    replace(body, s ? signedIn(s, said ?? (why === 'verify' ? t('form.verifyFirst') : undefined)) : loginForm(said));
  };
  render();
  // The address may have been verified through the e-mail's link, in another window.
  const s = account.session();
  if (s && !s.email_verified) {
    account.refreshSession().then((fresh) => {
      if (fresh?.email_verified && el.isConnected) render(t('acc.verified'));
    }, (e) => {
      if (e instanceof ApiError && e.status === 401) {
        account.dropSession();
        if (el.isConnected) render();
      }
    });
  }
  return { title: t('acc.title'), el };
}

export function registerScreen(params: URLSearchParams, go: Navigate): Screen {
  const next = safeNext(params.get('next'));
  const email = textField('register-email', t('acc.email'), { type: 'email', autocomplete: 'email' });
  const password = textField('register-password', t('acc.password'), { type: 'password', autocomplete: 'new-password', minlength: 10 }, t('acc.password.hint'));
  const name = textField('register-name', t('acc.name'), { autocomplete: 'name', maxlength: 200 });
  const result = statusLine('register-result');
  const f = h('form', { novalidate: true, 'aria-labelledby': 'screen-title' },
    h('p', null, t('acc.register.intro')),
    email.row, password.row, name.row, result.el,
    h('button', { type: 'submit', class: 'button primary', id: 'register-submit' }, t('acc.register.submit')));
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    result.clear();
    if (!required([email, password])) return;
    const address = email.input.value.trim();
    try {
      await account.register(address, password.input.value, name.input.value.trim());
      // Logged in at once: the address is verified next, on the account screen.
      await account.login(address, password.input.value);
      go(withNext('#/account', next));
    } catch (err) {
      if (!fieldErrors(err, { email, password, name })) result.say(failure(err), true);
    }
  });
  const el = h('section', { class: 'screen account', 'aria-labelledby': 'screen-title' }, heading(t('acc.register')), f);
  return { title: t('acc.register'), el };
}

export function forgotScreen(): Screen {
  const email = textField('forgot-email', t('acc.email'), { type: 'email', autocomplete: 'email' });
  const askResult = statusLine('forgot-result');
  const ask = h('form', { novalidate: true, 'aria-labelledby': 'screen-title' },
    h('p', null, t('acc.forgot.intro')), email.row, askResult.el,
    h('button', { type: 'submit', class: 'button secondary', id: 'forgot-submit' }, t('acc.forgot.submit')));
  ask.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!required([email])) return;
    try {
      await account.forgotPassword(email.input.value.trim());
      askResult.say(t('acc.forgot.done'));
      code.input.focus();
    } catch (err) {
      if (!fieldErrors(err, { email })) askResult.say(failure(err), true);
    }
  });

  const code = textField('reset-code', t('acc.reset.code'), { autocomplete: 'one-time-code', spellcheck: 'false' });
  const password = textField('reset-password', t('acc.reset.password'), { type: 'password', autocomplete: 'new-password', minlength: 10 }, t('acc.password.hint'));
  const resetResult = statusLine('reset-result');
  const reset = h('form', { novalidate: true, 'aria-labelledby': 'reset-title' },
    code.row, password.row, resetResult.el,
    h('button', { type: 'submit', class: 'button primary', id: 'reset-submit' }, t('acc.reset.submit')));
  reset.addEventListener('submit', async (e) => {
    e.preventDefault();
    resetResult.clear();
    if (!required([code, password])) return;
    try {
      await account.resetPassword(code.input.value, password.input.value);
      account.dropSession();
      resetResult.say(t('acc.reset.done'));
    } catch (err) {
      if (!fieldErrors(err, { code, password })) resetResult.say(failure(err), true);
    }
  });

  const el = h('section', { class: 'screen account', 'aria-labelledby': 'screen-title' },
    heading(t('acc.forgot')),
    ask,
    h('section', { 'aria-labelledby': 'reset-title' }, h('h2', { id: 'reset-title' }, t('acc.reset')), reset),
    h('p', null, h('a', { href: '#/account' }, t('acc.login'))));
  return { title: t('acc.forgot'), el };
}
