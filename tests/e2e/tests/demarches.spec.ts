// Every démarche from the citizen app: the catalogue and a démarche's page, forms drawn from
// their definitions (blocks, files, dates, conditions), the server's refusals shown at their
// fields, an account created and verified on the way, drafts kept across a reload, a form
// filed offline, and a complement answered from the request's page. One server for the file
// (with the SMTP listener that receives the verification e-mail).
import { expect, request as playwrightRequest, test, type APIRequestContext, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { expectAccessible, newPhone, RENNES } from './helpers';
import { startServer, type Server } from './server';

let server: Server;
let api: APIRequestContext;

test.beforeAll(async () => {
  server = await startServer('demarches');
  api = await playwrightRequest.newContext({ baseURL: server.url });
});

test.afterAll(async () => {
  await api?.dispose();
  await server?.stop();
});

async function phone(browser: Browser): Promise<BrowserContext> {
  return newPhone(browser, RENNES, { baseURL: server.url });
}

/** A day counted from today, as a date input takes it (the browser's clock, Paris time). */
function day(offset: number, from = new Date()): string {
  const d = new Date(from.getTime() + offset * 86400_000);
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(d);
}

/** The form's input of a field, by its path (`data.items[0].kind`, as the renderer names ids). */
function field(page: Page, path: string) {
  return page.locator(`#df-${path.replace(/[^a-zA-Z0-9_-]+/g, '-')}`);
}

/** Picks an option of a choice: radio buttons, or a list when there are many options. */
async function choose(page: Page, path: string, value: string): Promise<void> {
  const id = `df-${path.replace(/[^a-zA-Z0-9_-]+/g, '-')}`;
  await page.locator(`select#${id}, input[name="${id}-opt"]`).first().waitFor();
  const list = page.locator(`select#${id}`);
  if (await list.count()) await list.selectOption(value);
  else await page.locator(`input[name="${id}-opt"][value="${value}"]`).check();
}

async function openDemarche(page: Page, search: string, title: string): Promise<void> {
  if (!page.url().endsWith('#/demarches')) {
    await page.getByRole('link', { name: 'Démarches', exact: true }).tap();
    await expect(page.getByRole('heading', { level: 1, name: 'Démarches en ligne' })).toBeFocused();
  }
  await page.getByLabel('Rechercher une démarche').fill(search);
  await page.getByRole('link', { name: new RegExp(`^${title}`) }).first().tap();
  await expect(page.getByRole('heading', { level: 1, name: title })).toBeFocused();
}

async function agentToken(): Promise<string> {
  const res = await api.post('/api/v1/agent/login', { data: { email: 'admin@guichet.example', password: 'guichet-demo' } });
  expect(res.status(), await res.text()).toBe(200);
  return (await res.json()).token;
}

async function agentView(number: string): Promise<Record<string, unknown>> {
  const res = await api.get(`/api/v1/agent/requests/${number}`, { headers: { Authorization: `Bearer ${await agentToken()}` } });
  expect(res.status(), await res.text()).toBe(200);
  return res.json();
}

async function fillContact(page: Page, message: string): Promise<void> {
  await choose(page, 'data.subject', 'information');
  await field(page, 'data.message').fill(message);
  await field(page, 'data.last_name').fill('Le Goff');
  await field(page, 'data.first_name').fill('Anne');
  await field(page, 'data.contact_email').fill('anne.legoff@example.org');
  await choose(page, 'data.reply_channel', 'email');
}

async function sent(page: Page): Promise<string> {
  await expect(page.getByRole('heading', { level: 1, name: 'Demande envoyée' })).toBeVisible();
  return (await page.locator('#receipt-number').textContent())!.trim();
}

const PDF = (text: string) => Buffer.from(`%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% ${text}\ntrailer << /Root 1 0 R >>\n%%EOF\n`);

test('a contact request: the catalogue, the démarche page, the form, the request page', async ({ browser }) => {
  const ctx = await phone(browser);
  const page = await ctx.newPage();
  await page.goto('/');
  // Reporting an incident stays the first thing the home screen offers.
  await expect(page.getByRole('heading', { level: 1, name: 'Que voulez-vous signaler ?' })).toBeVisible();

  await page.getByRole('link', { name: 'Démarches', exact: true }).tap();
  await expect(page.getByRole('heading', { level: 2, name: 'Relation avec les usagers' })).toBeVisible();
  await expectAccessible(page, 'catalogue');
  // Accents and case do not matter.
  await page.getByLabel('Rechercher une démarche').fill('ACTE etat CIVIL deces');
  await expect(page.locator('#search-count')).toHaveText('1 démarche trouvée.');
  await expect(page.getByRole('link', { name: /^Demande d'acte d'état civil \(naissance/ })).toBeVisible();
  await page.getByLabel('Rechercher une démarche').fill('');
  await openDemarche(page, 'demande de contact', 'Demande de contact');

  // What to prepare comes from the form: its required answers and its files.
  await expect(page.locator('#prepare-answers')).toContainText('Nom');
  await expect(page.locator('#prepare-files')).toContainText('PDF, JPEG, PNG');
  await expect(page.locator('#delay')).toContainText('5 jours');
  await expect(page.locator('#who')).toContainText('sans compte');
  const privacy = page.locator('#privacy');
  for (const term of ['Finalité', 'Base légale', 'Destinataires', 'Durée de conservation', 'Vos droits', 'CNIL']) await expect(privacy).toContainText(term);
  await expectAccessible(page, 'démarche page');

  await page.locator('#start').tap();
  await expect(field(page, 'data.message')).toBeVisible();
  // A client check first: the message is too short, said at the field.
  await choose(page, 'data.subject', 'information');
  await field(page, 'data.message').fill('Court');
  await page.locator('#send-request').tap();
  await expect(page.locator('#df-errors')).toBeFocused();
  await expect(field(page, 'data.message')).toHaveAttribute('aria-invalid', 'true');
  await expectAccessible(page, 'démarche form with errors');
  await fillContact(page, 'Quels sont les horaires de la mairie de quartier le samedi ?');
  // A condition: the phone is asked only when the answer goes by phone.
  await expect(field(page, 'data.contact_phone')).toBeHidden();
  await page.locator('#send-request').tap();
  const number = await sent(page);
  await expectAccessible(page, 'démarche receipt');

  await page.locator('#open-request').tap();
  await expect(page.locator('#request-status')).toHaveText('Reçue');
  await expect(page.locator('#timeline li').first()).toBeVisible();
  await expectAccessible(page, 'request page');
  // The filer writes to the service from the request's page.
  await page.getByLabel('Votre message').fill('Je peux aussi passer en semaine.');
  await page.getByRole('button', { name: 'Envoyer le message' }).tap();
  await expect(page.locator('#timeline')).toContainText('Je peux aussi passer en semaine.');

  await page.getByRole('link', { name: 'Mes démarches', exact: true }).tap();
  await expect(page.locator('#sent-list > li', { hasText: number })).toContainText('Demande de contact');
  await expectAccessible(page, 'my requests');
  await ctx.close();
});

test('bulky items: two repeated items, a date within its bounds', async ({ browser }) => {
  const ctx = await phone(browser);
  const page = await ctx.newPage();
  await page.goto('/');
  await openDemarche(page, 'encombrants enlevement', "Demande d'enlèvement d'objets encombrants");
  await expect(page.locator('#prepare-answers')).toContainText('pour chaque élément');
  await page.locator('#start').tap();

  await field(page, 'data.address.text').fill('12 rue de Brest');
  await field(page, 'data.address.postcode').fill('35000');
  await field(page, 'data.address.city').fill('Rennes');
  // One item is there from the start (the block needs one); a second is added.
  await choose(page, 'data.items[0].kind', 'furniture');
  await field(page, 'data.items[0].quantity').fill('1');
  await field(page, 'data.items[0].description').fill('Armoire deux portes');
  await page.getByRole('button', { name: /^Ajouter/ }).tap();
  await expect(page.locator('input[name="df-data-items-1-kind-opt"]').first()).toBeFocused();
  await choose(page, 'data.items[1].kind', 'appliance');
  // Out of bounds (1 to 10): refused before sending, at the item's field.
  await field(page, 'data.items[1].quantity').fill('12');
  await field(page, 'data.preferred_date').fill(day(7));
  await choose(page, 'data.preferred_slot', 'morning');
  await field(page, 'data.last_name').fill('Martin');
  await field(page, 'data.first_name').fill('Paul');
  await field(page, 'data.contact_phone').fill('02 99 12 34 56');
  await page.locator('#send-request').tap();
  await expect(field(page, 'data.items[1].quantity')).toHaveAttribute('aria-invalid', 'true');
  await field(page, 'data.items[1].quantity').fill('2');
  await page.locator('#send-request').tap();
  const number = await sent(page);

  const detail = await agentView(number);
  const items = (detail.data as { items: { kind: string; quantity: number }[] }).items;
  expect(items).toEqual([
    expect.objectContaining({ kind: 'furniture', quantity: 1 }),
    expect.objectContaining({ kind: 'appliance', quantity: 2 }),
  ]);

  // Plans change: the filer withdraws it from its page, in two steps.
  await page.locator('#open-request').tap();
  await expect(page.locator('#confirm-withdraw')).toBeHidden();
  await page.getByRole('button', { name: 'Retirer ma demande' }).tap();
  await expect(page.locator('#confirm-withdraw')).toBeFocused();
  await page.locator('#confirm-withdraw').tap();
  await expect(page.locator('#request-status')).toHaveText('Retirée');
  await expect(page.locator('#withdraw')).toHaveCount(0);
  await ctx.close();
});

test('a job application needs an account: register and verify on the way, answers kept, two files', async ({ browser }) => {
  const email = `candidate-${Date.now()}@example.org`;
  const ctx = await phone(browser);
  const page = await ctx.newPage();
  await page.goto('/');
  await openDemarche(page, 'candidature spontanee', 'Candidature spontanée');
  await expect(page.locator('#who')).toContainText('compte');
  await expect(page.locator('#privacy')).toContainText('6.1.b');
  await page.locator('#start').tap();
  await expect(page.locator('#account-needed')).toBeVisible();

  await choose(page, 'data.contract_type', 'permanent');
  await page.locator('input[name="df-data-work_fields-opt"][value="green_spaces"]').check();
  await field(page, 'data.last_name').fill('Durand');
  await field(page, 'data.first_name').fill('Léa');
  await field(page, 'data.contact_email').fill(email);
  await field(page, 'data.contact_phone').fill('06 12 34 56 78');
  // A file of a type the field does not take is refused before any upload.
  await field(page, 'files.cv').setInputFiles({ name: 'cv.txt', mimeType: 'text/plain', buffer: Buffer.from('mon CV') });
  await field(page, 'files.cover_letter').setInputFiles({ name: 'lettre.pdf', mimeType: 'application/pdf', buffer: PDF('lettre') });
  await page.locator('#send-request').tap();
  await expect(page.locator('#df-errors')).toContainText('cv.txt');
  await field(page, 'files.cv').setInputFiles({ name: 'cv.pdf', mimeType: 'application/pdf', buffer: PDF('cv') });
  await page.locator('#send-request').tap();

  // The account is asked for now, the answers kept.
  await expect(page.getByRole('heading', { level: 1, name: 'Mon compte' })).toBeFocused();
  await expect(page.locator('#login-result')).toContainText('vos réponses sont gardées');
  await expectAccessible(page, 'log in');
  await page.locator('#to-register').tap();
  await expect(page.getByRole('heading', { level: 1, name: 'Créer un compte' })).toBeFocused();
  await page.getByRole('button', { name: 'Créer mon compte' }).tap();
  await expect(page.locator('#register-email-error')).toBeVisible();
  await expectAccessible(page, 'register with errors');
  await page.getByLabel('Adresse e-mail').fill(email);
  await page.getByLabel('Mot de passe').fill('un mot de passe solide');
  await page.getByRole('button', { name: 'Créer mon compte' }).tap();

  await expect(page.locator('#signed-in')).toContainText(email);
  await expectAccessible(page, 'verify');
  const mail = await server.mailbox.waitFor((m) => m.to.includes(email));
  const code = /token=([A-Za-z0-9_-]+)/.exec(mail.text)![1];
  await page.getByLabel('Code de vérification').fill(code);
  await page.getByRole('button', { name: 'Vérifier', exact: true }).tap();
  await expect(page.locator('#account-result')).toContainText('Adresse vérifiée');
  await page.locator('#continue').tap();

  // Back at the form with what was typed and the files chosen (kept on the device).
  await expect(page.locator('#draft-resumed')).toBeVisible();
  await expect(field(page, 'data.last_name')).toHaveValue('Durand');
  await expect(page.locator('input[name="df-data-work_fields-opt"][value="green_spaces"]')).toBeChecked();
  const picked = (name: string) => field(page, name).evaluate((el) => [...((el as HTMLInputElement).files ?? [])].map((f) => `${f.name} ${f.type} ${f.size}`));
  expect(await picked('files.cv')).toEqual([`cv.pdf application/pdf ${PDF('cv').length}`]);
  expect(await picked('files.cover_letter')).toEqual([`lettre.pdf application/pdf ${PDF('lettre').length}`]);
  await page.locator('#send-request').tap();
  const number = await sent(page);

  const detail = await agentView(number);
  const files = detail.files as { filename: string; bytes: number }[];
  expect(files.map((f) => f.filename).sort()).toEqual(['cv.pdf', 'lettre.pdf']);
  // Sent, the draft and its files are gone from the device.
  await page.goto('/#/demarche/candidature-spontanee/form');
  await expect(field(page, 'data.last_name')).toHaveValue('');
  expect(await picked('files.cv')).toEqual([]);
  // The account holds it: "my requests" on another device after logging in.
  const other = await phone(browser);
  const p2 = await other.newPage();
  await p2.goto('/#/account');
  await p2.getByLabel('Adresse e-mail').fill(email);
  await p2.getByLabel('Mot de passe').fill('un mot de passe solide');
  await p2.getByRole('button', { name: 'Se connecter' }).tap();
  await expect(p2.locator('#signed-in')).toBeVisible();
  await p2.getByRole('link', { name: 'Mes démarches', exact: true }).tap();
  await expect(p2.locator('#account-list > li', { hasText: number })).toContainText('Candidature spontanée');
  await p2.getByRole('link', { name: `Ouvrir la demande ${number}` }).tap();
  await expect(p2.locator('#request-status')).toBeVisible();
  await other.close();
  await ctx.close();
});

test('a date the server finds out of bounds is corrected after its answer', async ({ browser }) => {
  const ctx = await phone(browser);
  const page = await ctx.newPage();
  // This phone's clock is ten days late: its own checks let through a day the server refuses.
  const serverNow = new Date();
  await page.clock.install({ time: new Date(serverNow.getTime() - 10 * 86400_000) });
  await page.goto('/#/demarche/demande-rappel/form');
  await choose(page, 'data.topic', 'waste');
  await field(page, 'data.preferred_date').fill(day(-5, serverNow));
  await choose(page, 'data.preferred_slot', 'afternoon');
  await field(page, 'data.last_name').fill('Morel');
  await field(page, 'data.first_name').fill('Jean');
  await field(page, 'data.contact_phone').fill('02 99 00 11 22');
  await page.locator('#send-request').tap();
  await expect(page.locator('#df-errors')).toBeFocused();
  await expect(page.locator('#df-data-preferred_date-error')).toContainText('hors des limites');
  await expect(field(page, 'data.preferred_date')).toHaveAttribute('aria-invalid', 'true');
  await field(page, 'data.preferred_date').fill(day(3, serverNow));
  await page.locator('#send-request').tap();
  await sent(page);
  await ctx.close();
});

test('a complement asked by the service is answered from the request page', async ({ browser }) => {
  const ctx = await phone(browser);
  const page = await ctx.newPage();
  await page.goto('/#/demarche/demande-contact/form');
  await fillContact(page, 'Ma demande porte sur le stationnement devant chez moi.');
  await page.locator('#send-request').tap();
  const number = await sent(page);

  const token = await agentToken();
  const take = await api.post(`/api/v1/agent/requests/${number}/status`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { status: 'assigned' },
  });
  expect(take.status(), await take.text()).toBeLessThan(300);
  const ask = await api.post(`/api/v1/agent/requests/${number}/complement`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { fields: ['message'], message: 'Précisez la rue, s’il vous plaît.' },
  });
  expect(ask.status(), await ask.text()).toBeLessThan(300);

  await page.locator('#open-request').tap();
  await expect(page.locator('#complement-message')).toContainText('Précisez la rue');
  await expectAccessible(page, 'complement');
  await page.locator('#cp-data-message').fill('Rue de Brest, devant le numéro 12 : le stationnement gêne la sortie.');
  await page.getByRole('button', { name: 'Envoyer le complément' }).tap();
  await expect(page.locator('#complement')).toHaveCount(0);
  const detail = await agentView(number);
  expect((detail.data as { message: string }).message).toContain('Rue de Brest');
  await ctx.close();
});

test('a draft is resumed after a reload', async ({ browser }) => {
  const ctx = await phone(browser);
  const page = await ctx.newPage();
  await page.goto('/#/demarche/demande-contact/form');
  await choose(page, 'data.subject', 'suggestion');
  await field(page, 'data.message').fill('Des bancs en plus au parc du Thabor.');
  await field(page, 'data.last_name').fill('Guillou');
  await page.waitForTimeout(500); // the draft is written after a short pause in typing
  await page.reload();
  await expect(page.locator('#draft-resumed')).toBeVisible();
  await expect(field(page, 'data.message')).toHaveValue('Des bancs en plus au parc du Thabor.');
  await expect(field(page, 'data.last_name')).toHaveValue('Guillou');
  await expect(page.locator('input[name="df-data-subject-opt"][value="suggestion"]')).toBeChecked();
  await expectAccessible(page, 'resumed draft');
  // The démarche's page offers to resume it, and it can be thrown away.
  await page.goto('/#/demarche/demande-contact');
  await expect(page.locator('#start')).toHaveText('Reprendre mon brouillon');
  await page.locator('#start').tap();
  await page.locator('#discard-draft').tap();
  await expect(page.locator('#draft-resumed')).toHaveCount(0);
  await expect(field(page, 'data.message')).toHaveValue('');
  await ctx.close();
});

test('a form filed offline waits in the outbox and leaves on reconnection', async ({ browser }) => {
  const ctx = await phone(browser);
  const page = await ctx.newPage();
  await page.goto('/#/demarche/demande-contact/form');
  await expect(field(page, 'data.message')).toBeVisible();
  await ctx.setOffline(true);
  await ctx.route('**/*', (route) => route.abort('internetdisconnected'));
  await fillContact(page, 'Envoyée sans réseau depuis le bus, merci de me répondre.');
  await page.locator('#send-request').tap();
  await expect(page.getByRole('heading', { level: 1, name: 'Demande enregistrée' })).toBeVisible();
  await expect(page.locator('#receipt-pending')).toContainText('hors ligne');
  await expectAccessible(page, 'démarche saved offline');
  await page.locator('#nav-mine').tap();
  await expect(page.locator('#pending-list > li')).toHaveCount(1);
  await expect(page.locator('#pending-list > li')).toContainText('Demande de contact');
  await expectAccessible(page, 'my requests offline');

  await ctx.unrouteAll({ behavior: 'ignoreErrors' });
  await ctx.setOffline(false);
  await expect(page.locator('#pending-list > li')).toHaveCount(0, { timeout: 30_000 });
  const card = page.locator('#sent-list > li', { hasText: 'Demande de contact' });
  await expect(card).toHaveCount(1);
  const number = (await card.locator('.number').textContent())!;
  const detail = await agentView(number);
  expect((detail.data as { message: string }).message).toContain('sans réseau');
  await ctx.close();
});

test('a forgotten password is reset with the e-mailed code, then log in and out', async ({ browser }) => {
  const email = `forgetful-${Date.now()}@example.org`;
  const reg = await api.post('/api/v1/citizen/register', { data: { email, password: 'premier mot de passe' } });
  expect(reg.status(), await reg.text()).toBe(202);
  const ctx = await phone(browser);
  const page = await ctx.newPage();
  await page.goto('/#/account');
  await page.locator('#to-forgot').tap();
  await expect(page.getByRole('heading', { level: 1, name: 'Mot de passe oublié' })).toBeFocused();
  await page.getByLabel('Adresse e-mail').fill(email);
  await page.getByRole('button', { name: 'Recevoir le code' }).tap();
  await expect(page.locator('#forgot-result')).toContainText('un e-mail vient de lui être envoyé');
  await expectAccessible(page, 'forgotten password');
  const mail = await server.mailbox.waitFor((m) => m.to.includes(email) && m.text.includes('password/reset'));
  const code = /token=([A-Za-z0-9_-]+)/.exec(mail.text)![1];
  await page.getByLabel('Code reçu par e-mail').fill(code);
  await page.getByLabel('Nouveau mot de passe', { exact: true }).fill('second mot de passe');
  await page.getByRole('button', { name: 'Enregistrer le mot de passe' }).tap();
  await expect(page.locator('#reset-result')).toContainText('Mot de passe changé');
  // The same code twice is refused.
  await page.getByRole('button', { name: 'Enregistrer le mot de passe' }).tap();
  await expect(page.locator('#reset-result')).toContainText('pas valable');

  await page.goto('/#/account');
  await page.getByLabel('Adresse e-mail').fill(email);
  await page.getByLabel('Mot de passe').fill('premier mot de passe');
  await page.getByRole('button', { name: 'Se connecter' }).tap();
  await expect(page.locator('#login-result')).toContainText('incorrect');
  await page.getByLabel('Mot de passe').fill('second mot de passe');
  await page.getByRole('button', { name: 'Se connecter' }).tap();
  await expect(page.locator('#signed-in')).toContainText(email);
  // A reset proves the address: nothing left to verify.
  await expect(page.locator('#verify-code')).toHaveCount(0);
  await page.getByRole('button', { name: 'Se déconnecter' }).tap();
  await expect(page.locator('#account-result, #login-result').first()).toContainText('Déconnecté');
  await expect(page.getByRole('button', { name: 'Se connecter' })).toBeVisible();
  await ctx.close();
});

test('the démarche screens speak English when asked', async ({ browser }) => {
  const ctx = await phone(browser);
  const page = await ctx.newPage();
  await page.goto('/#/demarche/demande-contact');
  await expect(page.getByRole('heading', { level: 1, name: 'Demande de contact' })).toBeVisible();
  await page.getByRole('button', { name: 'Switch to English' }).tap();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.getByRole('heading', { level: 1, name: 'Contact request' })).toBeVisible();
  // What it is for, and the purpose of the processing, in English too.
  const purpose = 'Send a message to the town hall or to one of its departments.';
  await expect(page.locator('#what')).toHaveText(purpose);
  await expect(page.locator('#privacy')).toContainText(purpose);
  await expect(page.locator('#privacy')).not.toContainText('Adresser un message');
  await expect(page.locator('#privacy')).toContainText('Legal basis');
  await expect(page.locator('#privacy')).toContainText('public interest');
  await expectAccessible(page, 'démarche page (English)');
  await page.locator('#start').tap();
  await page.locator('#send-request').tap();
  await expect(page.locator('#df-errors')).toContainText('This field is required.');
  await expectAccessible(page, 'démarche form with errors (English)');
  await page.getByRole('link', { name: 'Services', exact: true }).tap();
  await expect(page.getByRole('heading', { level: 1, name: 'Online services' })).toBeFocused();
  await expect(page.getByRole('heading', { level: 2, name: 'Citizen relations' })).toBeVisible();
  await page.getByLabel('Search for a service').fill('BULKY');
  await expect(page.locator('#search-count')).toContainText('found');
  await expect(page.getByRole('link', { name: /^Bulky waste collection request/ })).toBeVisible();
  // An English word that only the keywords hold.
  await page.getByLabel('Search for a service').fill('wheelie');
  await expect(page.getByRole('link', { name: /^Bin replacement request/ })).toBeVisible();
  await page.getByRole('link', { name: 'My account', exact: true }).tap();
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
  await expectAccessible(page, 'account (English)');
  await ctx.close();
});

/** A verified account made through the API (the verification e-mail's token posted back). */
async function verifiedAccount(email: string): Promise<void> {
  const reg = await api.post('/api/v1/citizen/register', { data: { email, name: 'Yann Kerhervé', password: 'un mot de passe solide' } });
  expect(reg.status(), await reg.text()).toBe(202);
  const mail = await server.mailbox.waitFor((m) => m.to.includes(email));
  const token = /token=([A-Za-z0-9_-]+)/.exec(mail.text)![1];
  const ok = await api.post('/api/v1/citizen/verify', { data: { token } });
  expect(ok.status(), await ok.text()).toBe(200);
}

test('the document wallet: kept once, attached to a registration without sending it again, deleted', async ({ browser }) => {
  const email = `wallet-${Date.now()}@example.org`;
  await verifiedAccount(email);
  const ctx = await phone(browser);
  const page = await ctx.newPage();
  await page.goto('/#/account');
  await page.getByLabel('Adresse e-mail').fill(email);
  await page.getByLabel('Mot de passe').fill('un mot de passe solide');
  await page.getByRole('button', { name: 'Se connecter' }).tap();
  await page.locator('#to-wallet').tap();
  await expect(page.getByRole('heading', { level: 1, name: 'Mon porte-documents' })).toBeFocused();
  await expect(page.locator('#wallet-empty')).toBeVisible();
  await expectAccessible(page, 'empty wallet');

  // Two documents kept; a file of a type the wallet does not take is refused at its field.
  await page.getByLabel('Nom du document').fill('Script');
  await page.locator('#wallet-file').setInputFiles({ name: 'a.sh', mimeType: 'text/plain', buffer: Buffer.from('#!/bin/sh\necho\n') });
  await page.locator('#wallet-add').tap();
  await expect(page.locator('#wallet-file-error')).toContainText('n’est pas accepté');
  await expectAccessible(page, 'wallet with an error');
  await page.getByLabel('Nom du document').fill('Carte d’identité');
  await page.getByLabel('Type de document').selectOption('identity');
  await page.locator('#wallet-file').setInputFiles({ name: 'cni.pdf', mimeType: 'application/pdf', buffer: PDF('cni') });
  await page.locator('#wallet-add').tap();
  await expect(page.locator('#wallet-result')).toContainText('a été ajouté');
  await page.getByLabel('Nom du document').fill('Facture d’électricité');
  await page.getByLabel('Type de document').selectOption('proof-of-address');
  await page.locator('#wallet-file').setInputFiles({ name: 'facture.pdf', mimeType: 'application/pdf', buffer: PDF('facture') });
  await page.locator('#wallet-add').tap();
  await expect(page.locator('#wallet-list > li')).toHaveCount(2);
  await expect(page.locator('#wallet-usage')).toContainText('50');
  await expectAccessible(page, 'wallet with documents');

  // The registration's file fields offer them; nothing is uploaded again.
  await page.goto('/#/demarche/inscription-listes-electorales/form');
  await expect(page.getByRole('heading', { level: 1, name: /listes électorales/ })).toBeVisible();
  await field(page, 'data.last_name').fill('Kerhervé');
  await field(page, 'data.first_names').fill('Yann Loïc');
  await choose(page, 'data.sex', 'male');
  await field(page, 'data.birth_date').fill('1990-05-14');
  await field(page, 'data.birth_place').fill('Quimper');
  await field(page, 'data.birth_country').fill('France');
  await choose(page, 'data.nationality', 'french');
  await choose(page, 'data.link_to_commune', 'resident');
  await page.locator('#df-data-address-text').fill('12 rue de Paris');
  await page.locator('#df-data-address-postcode').fill('35000');
  await page.locator('#df-data-address-city').fill('Rennes');
  const identity = page.locator('[data-field="identity_document"] .wallet-choices');
  await expect(identity).toContainText('Carte d’identité');
  await identity.getByLabel(/Carte d’identité/).check();
  await page.locator('[data-field="proof_of_address"] .wallet-choices').getByLabel(/Facture d’électricité/).check();
  await expectAccessible(page, 'form with wallet documents');
  await page.locator('#send-request').tap();
  const number = await sent(page);
  const detail = await agentView(number);
  const files = detail.files as { field: string; filename: string }[];
  expect(files.map((f) => `${f.field}:${f.filename}`).sort()).toEqual(['identity_document:cni.pdf', 'proof_of_address:facture.pdf']);

  // Deleted from the wallet after a confirmation; the request keeps its copy.
  await page.goto('/#/account/documents');
  await page.getByRole('button', { name: 'Supprimer Carte d’identité' }).tap();
  await expect(page.locator('#wallet-list')).toContainText('Les demandes déjà envoyées gardent leur exemplaire');
  await page.getByRole('button', { name: 'Oui, supprimer' }).tap();
  await expect(page.locator('#wallet-result')).toContainText('a été supprimé');
  await expect(page.locator('#wallet-list > li')).toHaveCount(1);
  expect(((await agentView(number)).files as unknown[]).length).toBe(2);
  await ctx.close();
});
