// The back office in a desktop browser (1280 px), against a server of its own (server.ts) with a
// real SMTP listener: an agent's day — the queue (new requests arrive without reload when the
// server streams events), assign, reply (the citizen gets the e-mail), merge two duplicates,
// a complement round trip with the citizen's answer, bulk actions with a result per request,
// keyboard triage, entry on a citizen's behalf with the server's field errors at their
// fields, another team's request out of reach, and axe-core on every screen.
import { createHmac, randomUUID } from 'node:crypto';
import { expect, request as playwrightRequest, test, type APIRequestContext, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { expectAccessible } from './helpers';
import { startServer, type Server } from './server';

const PASSWORD = 'guichet-demo';
const VOIRIE = 'agent.voirie@guichet.example';
const ACCUEIL = 'agent.accueil@guichet.example';

let server: Server;
let api: APIRequestContext;

test.beforeAll(async () => {
  server = await startServer('backoffice');
  api = await playwrightRequest.newContext({ baseURL: server.url });
});

test.afterAll(async () => {
  await api?.dispose();
  await server?.stop();
});

async function desk(browser: Browser, viewport = { width: 1280, height: 900 }): Promise<BrowserContext> {
  return browser.newContext({ baseURL: server.url, viewport, locale: 'fr-FR', timezoneId: 'Europe/Paris' });
}

async function logIn(page: Page, email: string, path = '/backoffice/'): Promise<void> {
  await page.goto(path);
  await expect(page.getByRole('heading', { level: 1, name: 'Connexion des agents' })).toBeVisible();
  await page.getByLabel('Adresse e-mail').fill(email);
  await page.getByLabel('Mot de passe').fill(PASSWORD);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await expect(page.locator('#logout')).toBeVisible();
}

async function agentToken(email: string): Promise<string> {
  const res = await api.post('/api/v1/agent/login', { data: { email, password: PASSWORD } });
  expect(res.status(), await res.text()).toBe(200);
  return (await res.json()).token;
}

async function agentGet(token: string, path: string): Promise<Record<string, any>> {
  const res = await api.get(path, { headers: { Authorization: `Bearer ${token}` } });
  expect(res.status(), await res.text()).toBe(200);
  return res.json();
}

/** A random spot in Rennes, far from the others this file used (no accidental duplicates). */
const used: { lat: number; lon: number }[] = [];
function spot(): { lat: number; lon: number } {
  for (;;) {
    const s = { lat: 48.095 + Math.random() * 0.03, lon: -1.71 + Math.random() * 0.06 };
    if (used.every((u) => Math.hypot((u.lat - s.lat) * 111_000, (u.lon - s.lon) * 74_000) > 500)) {
      used.push(s);
      return s;
    }
  }
}

async function fileReport(at: { lat: number; lon: number }, description: string, email: string): Promise<{ number: string; tracking: string }> {
  const res = await api.post('/api/v1/reports', {
    multipart: {
      report: JSON.stringify({ client_id: randomUUID(), category: 'voirie', lat: at.lat, lon: at.lon, accuracy_m: 5, description, contact: { email, name: 'Awena Citoyenne' } }),
    },
  });
  expect(res.status(), await res.text()).toBe(201);
  const b = await res.json();
  return { number: b.request_number, tracking: b.tracking_code };
}

async function hasEventStream(): Promise<boolean> {
  const token = await agentToken(VOIRIE);
  const ctl = new AbortController();
  try {
    const res = await fetch(`${server.url}/api/v1/agent/events`, { headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' }, signal: ctl.signal });
    return res.ok && (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
  } catch {
    return false;
  } finally {
    ctl.abort();
  }
}

test('a report reaches the voirie queue; the agent assigns it, replies, and the citizen gets the e-mail', async ({ browser }) => {
  const ctx = await desk(browser);
  const page = await ctx.newPage();
  await logIn(page, VOIRIE);
  await expect(page.getByRole('heading', { level: 1, name: 'File des demandes de mes équipes' })).toBeVisible();
  await expectAccessible(page, 'queue (empty)');

  const email = `awena.${randomUUID().slice(0, 8)}@example.org`;
  const report = await fileReport(spot(), 'Nid-de-poule profond devant l’école.', email);
  const row = page.locator(`#queue tr[data-number="${report.number}"]`);
  if (await hasEventStream()) {
    // Live: no reload.
    await expect(row).toBeVisible({ timeout: 5_000 });
    await expect(row.locator('.mark.new')).toBeVisible();
  } else {
    await page.reload();
    await expect(row).toBeVisible();
  }
  await expectAccessible(page, 'queue');

  // Open it, assign it to myself, reply publicly.
  await row.getByRole('link', { name: report.number }).click();
  await expect(page.getByRole('heading', { level: 1, name: new RegExp(report.number) })).toBeFocused();
  await expect(page.locator('#detail-map')).toBeVisible();
  await expect(page.locator('#timeline li').first()).toBeVisible();
  await expectAccessible(page, 'request detail');
  await page.getByRole('button', { name: 'Me l’attribuer' }).click();
  await expect(page.locator('#action-result')).toHaveText('Demande attribuée.');
  await expect(page.locator('#detail-assignee')).toContainText('Yann Morvan');
  const answer = `Équipe en route, intervention prévue demain (${randomUUID().slice(0, 6)}).`;
  await page.getByLabel('Réponse', { exact: true }).fill(answer);
  await page.getByRole('button', { name: 'Envoyer la réponse' }).click();
  await expect(page.locator('#action-result')).toHaveText('Réponse envoyée.');
  // The timeline tells public from internal events.
  await expect(page.locator('#timeline li.public[data-kind="message"]').first()).toContainText(answer);
  await expect(page.locator('#timeline li.internal[data-kind="assigned"]').first()).toContainText('Interne');

  const mail = await server.mailbox.waitFor((m) => m.to.includes(email) && m.text.includes(answer));
  expect(mail.text).toContain(report.number);

  // An internal note stays internal.
  await page.getByLabel('Note', { exact: true }).fill('Voir avec la régie pour le matériel.');
  await page.getByRole('button', { name: 'Ajouter la note' }).click();
  await expect(page.locator('#timeline li.internal[data-kind="note"]').first()).toContainText('Voir avec la régie');
  const pub = await (await api.get(`/api/v1/requests/${report.number}?tracking_code=${report.tracking}`)).json();
  expect(JSON.stringify(pub.timeline)).not.toContain('Voir avec la régie');
  await ctx.close();
});

test('merging two duplicates from the candidates near the request', async ({ browser }) => {
  const here = spot();
  const first = await fileReport(here, 'Trou dans la chaussée.', 'a@example.org');
  // 60 m north: outside the voirie radius, so a request of its own, but a nearby candidate.
  const second = await fileReport({ lat: here.lat + 0.00054, lon: here.lon }, 'Grand trou sur la route.', 'b@example.org');
  expect(second.number).not.toBe(first.number);

  const ctx = await desk(browser);
  const page = await ctx.newPage();
  await logIn(page, VOIRIE, `/backoffice/requests/${second.number}`);
  await expect(page.getByRole('heading', { level: 1, name: new RegExp(second.number) })).toBeVisible();
  const candidate = page.locator('#merge-candidates').getByRole('radio', { name: new RegExp(first.number) });
  await expect(candidate).toBeVisible();
  await expectAccessible(page, 'request detail with merge candidates');
  await candidate.check();
  await expect(page.getByLabel('Numéro de la demande à garder')).toHaveValue(first.number);
  await page.getByRole('button', { name: 'Fusionner dans la demande choisie' }).click();
  await expect(page.locator('#action-result')).toHaveText(`Fusionnée dans ${first.number}.`);
  await expect(page.locator('#detail-status')).toHaveClass(/phase-closed/);

  const token = await agentToken(VOIRIE);
  const kept = await agentGet(token, `/api/v1/agent/requests/${first.number}`);
  expect(kept.report_count).toBe(2);
  const merged = await agentGet(token, `/api/v1/agent/requests/${second.number}`);
  expect(merged.merged_into).toBe(first.number);
  await ctx.close();
});

test('a complement round trip: the agent asks, the citizen answers, the request comes back', async ({ browser }) => {
  const email = `contact.${randomUUID().slice(0, 8)}@example.org`;
  const filed = await api.post('/api/v1/requests', {
    data: {
      client_id: randomUUID(), demarche: 'demande-contact',
      data: {
        subject: 'information', message: 'Bonjour, quels sont les horaires ?', last_name: 'Le Gall', first_name: 'Riwal',
        contact_email: email, reply_channel: 'email',
      },
      contact: { email, name: 'Riwal Le Gall' },
    },
  });
  expect(filed.status(), await filed.text()).toBe(201);
  const { request_number: number, tracking_code: tracking } = await filed.json();

  const ctx = await desk(browser);
  const page = await ctx.newPage();
  await logIn(page, ACCUEIL, `/backoffice/requests/${number}`);
  await expect(page.getByRole('heading', { level: 1, name: new RegExp(number) })).toBeVisible();
  // The data under the form's labels.
  await expect(page.locator('.facts').filter({ hasText: 'Objet' }).first()).toContainText('Demande d\'information');
  // A complement is asked while the request is being handled.
  await page.getByLabel('Nouveau statut').selectOption({ label: 'En cours de traitement' });
  await page.getByRole('button', { name: 'Changer le statut' }).click();
  await expect(page.locator('#action-result')).toHaveText('Statut changé : En cours de traitement.');
  await expect(page.locator('#action-result')).toBeFocused();
  await page.locator('#action-complement').getByLabel('Message', { exact: true }).check();
  await page.locator('#action-complement').getByLabel('Message au demandeur').fill('Précisez de quel service vous voulez les horaires.');
  await page.getByRole('button', { name: 'Demander le complément' }).click();
  await expect(page.locator('#action-result')).toHaveText('Complément demandé ; l’échéance est suspendue.');
  await expect(page.locator('#detail-status')).toHaveClass(/phase-waiting_for_citizen/);
  await server.mailbox.waitFor((m) => m.to.includes(email) && m.text.includes('Précisez de quel service'));

  // The citizen answers with the tracking code.
  const answered = await api.post(`/api/v1/requests/${number}/complement`, {
    data: { tracking_code: tracking, data: { message: 'Les horaires de la médiathèque des Champs Libres.' } },
  });
  expect(answered.status(), await answered.text()).toBeLessThan(300);
  await page.reload();
  await expect(page.locator('#detail-status')).not.toHaveClass(/phase-waiting_for_citizen/);
  await expect(page.locator('#timeline li[data-kind="complement_answered"]')).toBeVisible();
  await expect(page.getByText('Les horaires de la médiathèque des Champs Libres.').first()).toBeVisible();
  await ctx.close();
});

test('queue views in the URL, bulk assign with a result per request, keyboard triage', async ({ browser }) => {
  const a = await fileReport(spot(), 'Bordure cassée.', 'c@example.org');
  const b = await fileReport(spot(), 'Plaque d’égout bruyante.', 'd@example.org');
  const ctx = await desk(browser);
  const page = await ctx.newPage();
  await logIn(page, VOIRIE);

  // Filters go to the URL; the same URL opened elsewhere shows the same view.
  await page.getByLabel('Attribution', { exact: true }).selectOption('none');
  await page.getByLabel('Tri', { exact: true }).selectOption('oldest');
  await page.getByRole('button', { name: 'Appliquer les filtres' }).click();
  await expect(page).toHaveURL(/assignee=none/);
  await expect(page).toHaveURL(/sort=oldest/);
  const shared = page.url();
  const other = await ctx.newPage();
  await other.goto(shared);
  await expect(other.getByLabel('Attribution', { exact: true })).toHaveValue('none');
  await expect(other.locator(`#queue tr[data-number="${a.number}"]`)).toBeVisible();
  await other.close();

  // Bulk: assign both to me; each gets its result.
  await page.getByRole('checkbox', { name: `Sélectionner ${a.number}` }).check();
  await page.getByRole('checkbox', { name: `Sélectionner ${b.number}` }).check();
  await expect(page.locator('#bulk-count')).toHaveText('2 demande(s) sélectionnée(s)');
  await expectAccessible(page, 'queue with a selection');
  await page.getByRole('button', { name: 'Me les attribuer' }).click();
  await expect(page.locator(`#bulk-results li.ok[data-number="${a.number}"]`)).toBeVisible();
  await expect(page.locator(`#bulk-results li.ok[data-number="${b.number}"]`)).toBeVisible();
  await expectAccessible(page, 'queue after a bulk action');

  // "For me" lists them.
  await page.getByRole('link', { name: 'Pour moi' }).click();
  await expect(page.locator(`#mine-assigned tr[data-number="${a.number}"]`)).toBeVisible();
  await expectAccessible(page, 'for me');

  // Keyboard: j moves to the first request, a assigns it to me, r opens it at the reply.
  const c = await fileReport(spot(), 'Potelet arraché.', 'e@example.org');
  await page.getByRole('link', { name: 'File des demandes' }).click();
  await expect(page.locator(`#queue tr[data-number="${c.number}"]`)).toBeVisible();
  await page.locator('#screen-title').focus();
  await page.keyboard.press('j');
  await expect(page.locator('#queue tbody tr').first().getByRole('link')).toBeFocused();
  const firstNumber = await page.locator('#queue tbody tr').first().getAttribute('data-number');
  await page.keyboard.press('a');
  await expect(page.locator('#live')).toHaveText('Demande attribuée.');
  const token = await agentToken(VOIRIE);
  const me = await agentGet(token, '/api/v1/agent/me');
  expect((await agentGet(token, `/api/v1/agent/requests/${firstNumber}`)).assignee.id).toBe(me.id);
  await page.keyboard.press('r');
  await expect(page.getByLabel('Réponse', { exact: true })).toBeFocused();
  // The shortcuts are listed in a dialog.
  await page.locator('#screen-title').focus();
  await page.keyboard.press('?');
  await expect(page.getByRole('dialog', { name: 'Raccourcis clavier' })).toBeVisible();
  await expectAccessible(page, 'shortcuts dialog');
  await page.keyboard.press('Escape');
  await ctx.close();
});

test('entry on a citizen’s behalf: the form from the definition, errors at their fields, the receipt', async ({ browser }) => {
  const ctx = await desk(browser);
  const page = await ctx.newPage();
  await logIn(page, ACCUEIL);
  await page.getByRole('link', { name: 'Saisir une demande' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Saisir une demande pour un usager' })).toBeFocused();
  await page.getByLabel('Démarche').selectOption('demande-contact');
  await page.getByLabel('Canal de réception').selectOption('mail');
  await expect(page.locator('#entry-data-message')).toBeVisible();
  await expectAccessible(page, 'entry form');

  // Nothing filled: the client's checks, with a summary that links to each field.
  await page.getByRole('button', { name: 'Enregistrer la demande' }).click();
  const summary = page.locator('#entry-errors');
  await expect(summary).toBeFocused();
  await expect(page.locator('#entry-data-message-error')).toHaveText('Ce champ est obligatoire.');
  await expect(page.locator('#entry-data-message')).toHaveAttribute('aria-invalid', 'true');
  await expectAccessible(page, 'entry form with errors');
  await summary.getByRole('link', { name: /^Message/ }).click();
  await expect(page.locator('#entry-data-message')).toBeFocused();

  await page.getByLabel('Demande d\'information').check();
  await page.locator('#entry-data-message').fill('Courrier reçu le 3 décembre : demande de rendez-vous.');
  await page.locator('#entry-data-last_name').fill('Tanguy');
  await page.locator('#entry-data-first_name').fill('Nolwenn');
  await page.locator('#entry-data-contact_email').fill('nolwenn.tanguy@example.org');
  // A condition: the postal address is asked only for an answer by post.
  await expect(page.locator('#entry-data-postal_address-text')).toBeHidden();
  await page.getByLabel('Par courrier').check();
  await expect(page.locator('#entry-data-postal_address-text')).toBeVisible();
  await page.locator('#entry-data-postal_address-text').fill('12 rue de Brest');
  await page.locator('#entry-data-postal_address-postcode').fill('3500');
  await page.locator('#contact-data-email').fill('nolwenn.tanguy@example.org');
  await page.getByRole('button', { name: 'Enregistrer la demande' }).click();
  await expect(page.locator('#entry-data-postal_address-postcode-error')).toBeVisible();
  await page.locator('#entry-data-postal_address-postcode').fill('35000');
  // A "PDF" whose bytes are not one: only the server can tell, and its error shows at the field.
  await page.locator('#entry-files-attachments').setInputFiles({ name: 'courrier.pdf', mimeType: 'application/pdf', buffer: Buffer.from('ceci n’est pas un PDF') });
  await page.getByRole('button', { name: 'Enregistrer la demande' }).click();
  await expect(page.locator('#entry-files-attachments-error')).toBeVisible();
  await expect(page.locator('#entry-files-attachments')).toHaveAttribute('aria-invalid', 'true');
  await expect(summary).toBeFocused();

  // A real PDF: saved.
  const pdf = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');
  await page.locator('#entry-files-attachments').setInputFiles({ name: 'courrier.pdf', mimeType: 'application/pdf', buffer: pdf });
  await page.getByRole('button', { name: 'Enregistrer la demande' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Demande enregistrée' })).toBeFocused();
  const number = (await page.locator('#receipt-number').textContent())!.trim();
  await expect(page.locator('#receipt-code')).not.toBeEmpty();
  await expectAccessible(page, 'entry receipt');

  const token = await agentToken(ACCUEIL);
  const d = await agentGet(token, `/api/v1/agent/requests/${number}`);
  expect(d.channel).toBe('mail');
  expect(d.entered_by.name).toBe('Maëlle Cadiou');
  expect(d.files).toHaveLength(1);
  expect(d.requester.email).toBe('nolwenn.tanguy@example.org');

  // The request's page: the file to download, the data under the form's labels.
  await page.getByRole('link', { name: `Ouvrir la demande ${number}` }).click();
  await expect(page.getByRole('link', { name: /Télécharger courrier\.pdf/ })).toBeVisible();
  await expect(page.locator('section[aria-labelledby="data-title"]')).toContainText('Tanguy');

  // Other kinds of field on screen for axe: a repeatable block with an address, then a place.
  await page.getByRole('link', { name: 'Saisir une demande' }).click();
  await page.getByLabel('Démarche').selectOption('enlevement-encombrants');
  await expect(page.locator('.block-item').first()).toBeVisible();
  await page.getByRole('button', { name: /^Ajouter/ }).click();
  await expect(page.locator('.block-item')).toHaveCount(2);
  await expectAccessible(page, 'entry form with a block and an address');
  await page.getByLabel('Démarche').selectOption('voirie');
  await expect(page.locator('.form-map.leaflet-container')).toBeVisible();
  await expectAccessible(page, 'entry form with a place on a map');
  await ctx.close();
});

test('a voirie agent cannot open another team’s request', async ({ browser }) => {
  const filed = await api.post('/api/v1/requests', {
    data: {
      client_id: randomUUID(), demarche: 'demande-contact',
      data: {
        subject: 'complaint', message: 'Une réclamation pour le service relations citoyens.', last_name: 'Morvan', first_name: 'Anne',
        contact_email: 'plainte@example.org', reply_channel: 'email',
      },
      contact: { email: 'plainte@example.org' },
    },
  });
  expect(filed.status(), await filed.text()).toBe(201);
  const number = (await filed.json()).request_number as string;
  const ctx = await desk(browser);
  const page = await ctx.newPage();
  await logIn(page, VOIRIE, `/backoffice/requests/${number}`);
  await expect(page.locator('#detail-error')).toHaveText('Cette demande appartient à une équipe dont vous n’êtes pas membre.');
  await expect(page.getByText('Une réclamation pour le service')).toHaveCount(0);
  await expectAccessible(page, 'request of another team');
  await page.getByRole('link', { name: 'File des demandes' }).click();
  await expect(page.locator('#queue-status')).not.toHaveText('Chargement…');
  await expect(page.locator(`#queue tr[data-number="${number}"]`)).toHaveCount(0);
  await ctx.close();
});

test('every screen in English and on a tablet; log out', async ({ browser }) => {
  await fileReport(spot(), 'Chaussée déformée.', 'f@example.org');
  const ctx = await desk(browser, { width: 800, height: 1100 });
  const page = await ctx.newPage();
  await page.goto('/backoffice/');
  await expectAccessible(page, 'login');
  await page.getByRole('button', { name: 'Switch to English' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Agents’ log in' })).toBeVisible();
  await page.getByLabel('E-mail address').fill(VOIRIE);
  await page.getByLabel('Password').fill('wrong password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.locator('#login-error')).toHaveText('Wrong e-mail address or password.');
  await expectAccessible(page, 'login with an error (English)');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Queue of my teams' })).toBeVisible();
  await expect(page.locator('#queue tbody tr').first()).toBeVisible();
  await expectAccessible(page, 'queue (English, tablet)');
  await page.locator('#queue tbody tr').first().getByRole('link').click();
  await expect(page.getByRole('heading', { level: 2, name: 'History' })).toBeVisible();
  await expectAccessible(page, 'request detail (English, tablet)');
  await page.getByRole('link', { name: 'For me' }).click();
  await expectAccessible(page, 'for me (English, tablet)');
  if (await page.locator('#search').isVisible()) {
    await page.getByRole('searchbox', { name: 'Search for a request' }).fill('chaussée');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(page.getByRole('heading', { level: 1, name: /Search/ })).toBeVisible();
    await expectAccessible(page, 'search (English, tablet)');
  }
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Agents’ log in' })).toBeVisible();
  // The session is gone: the API refuses the page's calls.
  expect((await page.request.get('/api/v1/agent/me')).status()).toBe(401);
  await ctx.close();
});

/** The code an authenticator app shows at `step` (RFC 6238: HMAC-SHA1, 30 s, 6 digits). */
function totp(secretBase32: string, step: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secretBase32.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, '0');
}

test('an agent with a second factor logs in with the code of their app', async ({ browser }) => {
  const admin = await agentToken('admin@guichet.example');
  const email = `agent.${randomUUID().slice(0, 8)}@ville.example`;
  const secretPassword = 'un mot de passe d’agent solide';
  const made = await api.post('/api/v1/admin/agents', {
    headers: { Authorization: `Bearer ${admin}` },
    data: { email, name: 'Gwen Le Bihan', role: 'agent', teams: ['voirie'], password: secretPassword },
  });
  expect(made.status(), await made.text()).toBe(200);
  const login = await api.post('/api/v1/agent/login', { data: { email, password: secretPassword } });
  const token = (await login.json()).token;
  const enrolled = await api.post('/api/v1/agent/totp', { headers: { Authorization: `Bearer ${token}` }, data: { password: secretPassword } });
  expect(enrolled.status(), await enrolled.text()).toBe(200);
  const { secret } = await enrolled.json();
  const now = Math.floor(Date.now() / 30_000);
  const confirmed = await api.post('/api/v1/agent/totp/confirm', { headers: { Authorization: `Bearer ${token}` }, data: { totp: totp(secret, now) } });
  expect(confirmed.status(), await confirmed.text()).toBeLessThan(300);

  const ctx = await desk(browser);
  const page = await ctx.newPage();
  await page.goto('/backoffice/');
  await page.getByLabel('Adresse e-mail').fill(email);
  await page.getByLabel('Mot de passe').fill(secretPassword);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  // The password was right: the app's code is asked for.
  const code = page.getByLabel('Code de votre application');
  await expect(code).toBeFocused();
  await expectAccessible(page, 'login, second factor');
  await code.fill('000000');
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await expect(page.locator('#login-error')).toContainText('pas le bon');
  // The next time step's code (the one just used for enrolling cannot serve twice).
  await code.fill(totp(secret, now + 1));
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await expect(page.locator('#logout')).toBeVisible();
  await ctx.close();
});
