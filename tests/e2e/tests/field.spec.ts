// The field teams' view on a phone, against a server of its own (server.ts) with a real SMTP
// listener: a field agent logs in at /backoffice/field/, loads the round (list and map, the
// stops' details and photos kept on the phone), goes offline, closes three stops with
// after-photos (reopening the app offline in between), and comes back online: the outbox
// sends each closing once (one status change each, checked through the API), and every
// reporter gets the notice with a link to the after-photo. An ended session holds the outbox
// until the agent logs in again. A closing refused because the office closed the request meanwhile is shown in
// the conflicts and never sent again; a closing whose answer was lost is sent again and
// applied once. The other actions on site (note, could not act, relocate, a new report seen on
// site) go through the same outbox. axe-core on every field screen, in French and English,
// and the layout at 360 px. The field view's service worker controls the field view only.
import { randomUUID } from 'node:crypto';
import { devices, expect, request as playwrightRequest, test, type APIRequestContext, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { expectAccessible, makeJpeg, waitForServiceWorker } from './helpers';
import { startServer, type Server } from './server';

const PASSWORD = 'guichet-demo';
const VOIRIE = 'agent.voirie@guichet.example';
const FIELD = 'terrain.voirie@guichet.example';

let server: Server;
let api: APIRequestContext;
let office: string;

test.beforeAll(async () => {
  server = await startServer('field');
  api = await playwrightRequest.newContext({ baseURL: server.url });
  office = await agentToken(VOIRIE);
});

test.afterAll(async () => {
  await api?.dispose();
  await server?.stop();
});

async function agentToken(email: string): Promise<string> {
  const res = await api.post('/api/v1/agent/login', { data: { email, password: PASSWORD } });
  expect(res.status(), await res.text()).toBe(200);
  return (await res.json()).token;
}

type Detail = {
  status: string;
  phase: string;
  after_photos: { url: string; thumbnail_url: string }[];
  location: { lat: number; lon: number } | null;
  timeline: { kind: string; data: Record<string, unknown> }[];
};

async function detail(number: string): Promise<Detail> {
  const res = await api.get(`/api/v1/agent/requests/${number}`, { headers: { Authorization: `Bearer ${office}` } });
  expect(res.status(), await res.text()).toBe(200);
  return res.json();
}

async function setStatus(number: string, status: string): Promise<void> {
  const res = await api.post(`/api/v1/agent/requests/${number}/status`, { headers: { Authorization: `Bearer ${office}` }, data: { status } });
  expect(res.status(), await res.text()).toBeLessThan(300);
}

const statusChanges = (d: Detail) => d.timeline.filter((e) => e.kind === 'status_changed');

/** Random spots in Rennes, far from the others this file used (no accidental duplicates). */
const used: { lat: number; lon: number }[] = [];
function spot(): { lat: number; lon: number } {
  for (;;) {
    const s = { lat: 48.095 + Math.random() * 0.03, lon: -1.71 + Math.random() * 0.06 };
    if (used.every((u) => Math.hypot((u.lat - s.lat) * 111_000, (u.lon - s.lon) * 74_000) > 800)) {
      used.push(s);
      return s;
    }
  }
}

/** A citizen's report with a photo: work a field agent may close. */
async function work(at: { lat: number; lon: number }, description: string, email: string, photo: Buffer): Promise<string> {
  const res = await api.post('/api/v1/reports', {
    multipart: {
      report: JSON.stringify({ client_id: randomUUID(), category: 'voirie', lat: at.lat, lon: at.lon, accuracy_m: 5, description, contact: { email, name: 'Awena Citoyenne' } }),
      photo: { name: 'avant.jpg', mimeType: 'image/jpeg', buffer: photo },
    },
  });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()).request_number as string;
}

async function phone(browser: Browser, at: { lat: number; lon: number }, viewport?: { width: number; height: number }): Promise<BrowserContext> {
  const ctx = await browser.newContext({
    ...devices['Pixel 7'],
    ...(viewport ? { viewport } : {}),
    baseURL: server.url,
    locale: 'fr-FR',
    timezoneId: 'Europe/Paris',
    permissions: ['geolocation'],
    serviceWorkers: 'allow',
  });
  await ctx.setGeolocation({ latitude: at.lat, longitude: at.lon, accuracy: 8 });
  return ctx;
}

async function logIn(page: Page): Promise<void> {
  await page.goto('/backoffice/field/');
  await expect(page.getByRole('heading', { level: 1, name: 'Connexion des agents' })).toBeVisible();
  await expectAccessible(page, 'field: log in');
  await page.getByLabel('Adresse e-mail').fill(FIELD);
  await page.getByLabel('Mot de passe').fill(PASSWORD);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Ma tournée' })).toBeVisible();
}

/**
 * Waits until the round, loaded from where the phone is when the view first opens, is kept
 * offline: `n` stops, or any number (the work of earlier tests of this file may still be open).
 */
async function loadRound(page: Page, n: number | null): Promise<void> {
  await expect(page.locator('#offline-ready')).toHaveText(n === null ? /^Disponible hors ligne : les \d+ fiches et leurs photos\.$/ : `Disponible hors ligne : les ${n} fiches et leurs photos.`);
  await expect(page.getByRole('button', { name: 'Partir d’ici' })).toBeEnabled();
}

async function closeStop(page: Page, number: string, photo: Buffer, message: string): Promise<void> {
  await page.locator(`#stops li[data-number="${number}"]`).getByRole('link', { name: new RegExp(number) }).click();
  await expect(page.getByRole('heading', { level: 1, name: new RegExp(number) })).toBeFocused();
  await page.getByRole('radio', { name: 'Résolue' }).check();
  await page.locator('#close-photos').setInputFiles({ name: 'apres.jpg', mimeType: 'image/jpeg', buffer: photo });
  await expect(page.locator('#close-photos-previews img')).toHaveCount(1);
  await page.getByLabel('Message aux demandeurs (facultatif)').fill(message);
  await page.getByRole('button', { name: 'Clôturer', exact: true }).click();
}

test('offline, three stops closed with after-photos; back online each closes once and the reporters get the after-photo', async ({ browser }) => {
  const here = spot();
  const setup = await browser.newContext();
  const photoPage = await setup.newPage();
  const before = await makeJpeg(photoPage);
  // Three pieces of work 150 to 300 m apart, and reporters to notify.
  const emails = [0, 1, 2].map((i) => `riverain.${i}.${randomUUID().slice(0, 8)}@example.org`);
  const numbers: string[] = [];
  for (let i = 0; i < 3; i++) {
    numbers.push(await work({ lat: here.lat + 0.0012 * (i + 1), lon: here.lon + 0.0008 * i }, `Nid-de-poule n°${i + 1} sur la chaussée.`, emails[i], before));
  }
  const afters = [await makeJpeg(photoPage), await makeJpeg(photoPage), await makeJpeg(photoPage)];
  await setup.close();

  const ctx = await phone(browser, here);
  let page = await ctx.newPage();
  await logIn(page);
  await loadRound(page, 3);
  // The round from the phone's position: the nearest first, each with its distance and direction.
  await expect(page.locator('#stops > li')).toHaveCount(3);
  await expect(page.locator('#stops > li').nth(0)).toHaveAttribute('data-number', numbers[0]);
  await expect(page.locator('#stops > li').nth(0).locator('.leg')).toContainText(/m depuis le départ, direction (nord|nord-est)/);
  await expect(page.locator('#stops > li').nth(1).locator('.leg')).toContainText('depuis l’arrêt précédent');
  await expect(page.locator('#stops > li').nth(0).locator('img.thumb')).toHaveJSProperty('complete', true);
  await expect(page.locator('#stops > li').nth(0).getByRole('link', { name: /Y aller/ })).toHaveAttribute('href', /^geo:/);
  await expect(page.locator('#round-status')).toContainText('Ordre calculé depuis votre position');
  // "Start from here": from beyond the last stop, the order turns round.
  await ctx.setGeolocation({ latitude: here.lat + 0.0048, longitude: here.lon + 0.0016, accuracy: 8 });
  await page.getByRole('button', { name: 'Partir d’ici' }).click();
  await expect(page.locator('#stops > li').nth(0)).toHaveAttribute('data-number', numbers[2]);
  await expect(page.locator('#stops > li').nth(2)).toHaveAttribute('data-number', numbers[0]);
  await expect(page.locator('#stops > li').nth(0).locator('.leg')).toContainText(/direction (sud|sud-ouest)/);
  await ctx.setGeolocation({ latitude: here.lat, longitude: here.lon, accuracy: 8 });
  await page.getByRole('button', { name: 'Partir d’ici' }).click();
  await expect(page.locator('#stops > li').nth(0)).toHaveAttribute('data-number', numbers[0]);
  await loadRound(page, 3);
  await expectAccessible(page, 'field: round (list)');
  // The round sheet on paper: the list only, titled.
  await page.emulateMedia({ media: 'print' });
  await expect(page.locator('header.top')).toBeHidden();
  await expect(page.locator('.sheet-title')).toContainText('Feuille de route du');
  await expect(page.locator('#stops > li').nth(2)).toBeVisible();
  await expect(page.locator('#stops .nav-links').first()).toBeHidden();
  await page.emulateMedia({ media: 'screen' });
  await expect(page.getByRole('button', { name: 'Imprimer la feuille de route' })).toBeEnabled();

  // The map: numbered stops, the path; a marker is a button reached from the keyboard.
  await page.getByRole('link', { name: 'Voir sur la carte' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Tournée sur la carte' })).toBeFocused();
  await expect(page.locator('.stop-icon')).toHaveCount(3);
  await expect(page.locator('#round-map path.round-path')).toHaveCount(1);
  await expect(page.locator('#map-list li')).toHaveCount(3);
  await expectAccessible(page, 'field: round (map)');
  await page.locator('.stop-icon').first().focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: `Arrêt 1 — ${numbers[0]}` })).toBeFocused();
  await expect(page.locator('#photos-before img')).toHaveCount(1);
  await expectAccessible(page, 'field: stop');
  await page.getByRole('link', { name: 'Retour à la tournée' }).click();

  // The field view works offline under its own service worker.
  await waitForServiceWorker(page);
  const scope = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.scope);
  expect(scope).toBe(`${server.url}/backoffice/field/`);

  await ctx.setOffline(true);
  await expect(page.locator('#offline-banner')).toBeVisible();
  for (let i = 0; i < 2; i++) {
    await page.getByRole('link', { name: 'Tournée', exact: true }).click();
    await closeStop(page, numbers[i], afters[i], `Rebouché ce matin (${i + 1}).`);
    await expect(page.locator('#action-result')).toHaveText('Clôture (Résolue) : enregistré sur le téléphone, envoi dès le retour du réseau.');
    await expect(page.locator('#stop-pending')).toContainText('Clôture (Résolue)');
    if (i === 0) await expectAccessible(page, 'field: stop with a closing waiting (offline)');
  }

  // The page is killed and the app reopened without any network: the service worker serves
  // it, and the round, its thumbnails, the details and the two closings are on the phone.
  await ctx.route('**/*', (route) => route.abort('internetdisconnected'));
  await page.close();
  page = await ctx.newPage();
  await page.goto('/backoffice/field/');
  await expect(page.getByRole('heading', { level: 1, name: 'Ma tournée' })).toBeVisible();
  expect(await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).workerStart)).toBeGreaterThan(0);
  // Chromium drops the emulated offline state of a page whose navigation a service worker
  // answered; set it again. The routes kept the network away meanwhile.
  await ctx.setOffline(false);
  await ctx.setOffline(true);
  await expect(page.locator('#offline-banner')).toBeVisible();
  await expect(page.locator('#stops > li')).toHaveCount(3);
  await expect(page.locator('#stops .mark.pending')).toHaveCount(2);
  await expect(page.locator('#round-status')).toContainText('Hors ligne : voici la dernière tournée chargée.');
  for (let i = 0; i < 3; i++) {
    await expect.poll(() => page.locator('#stops > li').nth(i).locator('img.thumb').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
  }
  await closeStop(page, numbers[2], afters[2], 'Rebouché ce matin (3).');
  await expect(page.locator('#stop-kept')).toContainText('Fiche gardée hors ligne');
  await expect.poll(() => page.locator('#photos-before img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
  await expect(page.locator('#action-result')).toHaveText('Clôture (Résolue) : enregistré sur le téléphone, envoi dès le retour du réseau.');
  await page.getByRole('link', { name: 'Tournée', exact: true }).click();
  await expect(page.locator('#stops .mark.pending')).toHaveCount(3);
  await page.getByRole('link', { name: /Envois/ }).click();
  await expect(page.locator('#outbox-pending > li')).toHaveCount(3);
  await expect(page.locator('#outbox-pending')).toContainText('attend le réseau');
  await expect(page.locator('#outbox-badge')).toHaveText('3 en attente');
  await expectAccessible(page, 'field: sending (offline)');
  // Nothing reached the server while offline.
  for (const n of numbers) expect((await detail(n)).status).toBe('new');

  // Back online: sent by themselves, in order, each once.
  await ctx.unrouteAll({ behavior: 'ignoreErrors' });
  await ctx.setOffline(false);
  await expect(page.locator('#outbox-pending')).toHaveText('Rien en attente : tout est envoyé.', { timeout: 30_000 });
  await expect(page.locator('#outbox-badge')).toHaveCount(0);
  for (let i = 0; i < 3; i++) {
    const d = await detail(numbers[i]);
    expect(d.status).toBe('resolved');
    expect(d.phase).toBe('closed');
    expect(statusChanges(d), `one status change of ${numbers[i]}`).toHaveLength(1);
    const after = d.after_photos;
    expect(after).toHaveLength(1);
    const mail = await server.mailbox.waitFor((m) => m.to.includes(emails[i]) && m.text.includes(numbers[i]) && m.text.includes('/media/'));
    const link = after[0].url.replace(/^https?:\/\/[^/]+/, '');
    expect(mail.text, `the notice to ${emails[i]} links to the after-photo`).toContain(link);
  }
  // The closed stops left the round.
  await page.getByRole('link', { name: 'Tournée', exact: true }).click();
  await expect(page.locator('#stops > li')).toHaveCount(0);
  await ctx.close();
});

test('a closing refused because the office closed the request meanwhile is kept as a conflict and never sent again; a lost answer is sent again and applied once', async ({ browser }) => {
  const here = spot();
  const setup = await browser.newContext();
  const photoPage = await setup.newPage();
  const before = await makeJpeg(photoPage);
  const taken = await work({ lat: here.lat + 0.001, lon: here.lon }, 'Regard descellé.', `a.${randomUUID().slice(0, 8)}@example.org`, before);
  const lost = await work({ lat: here.lat + 0.002, lon: here.lon + 0.001 }, 'Bordure cassée.', `b.${randomUUID().slice(0, 8)}@example.org`, before);
  const after = await makeJpeg(photoPage);
  await setup.close();

  const ctx = await phone(browser, here);
  const page = await ctx.newPage();
  await logIn(page);
  await loadRound(page, 2);
  await ctx.setOffline(true);
  await closeStop(page, taken, after, 'Remis en place.');
  await expect(page.locator('#stop-pending')).toBeVisible();
  // Meanwhile the office closes it another way.
  await setStatus(taken, 'rejected');

  // The second closing reaches the server, but its answer is lost on the way back.
  let cut = 0;
  await ctx.route('**/api/v1/agent/requests/*/status', async (route) => {
    if (cut === 0 && route.request().url().includes(lost)) {
      cut += 1;
      await route.fetch();
      await route.abort('connectionreset');
    } else {
      await route.continue();
    }
  });
  await page.getByRole('link', { name: 'Tournée', exact: true }).click();
  await closeStop(page, lost, after, 'Bordure changée.');
  await ctx.setOffline(false);

  await page.getByRole('link', { name: /Envois/ }).click();
  const conflict = page.locator('#outbox-conflicts > li.conflict');
  await expect(conflict).toHaveCount(1);
  await expect(conflict).toContainText(taken);
  await expect(conflict).toContainText('Refusé');
  // The lost answer: tried again after the back-off (5 s ± 25 %), answered as a replay.
  await expect(page.locator('#outbox-pending')).toHaveText('Rien en attente : tout est envoyé.', { timeout: 30_000 });
  expect(cut).toBe(1);
  await expect(page.locator('#outbox-badge')).toHaveText('1 en conflit');
  await expectAccessible(page, 'field: sending with a conflict');
  const resolved = await detail(lost);
  expect(resolved.status).toBe('resolved');
  expect(statusChanges(resolved)).toHaveLength(1);
  expect(resolved.after_photos).toHaveLength(1);
  const rejected = await detail(taken);
  expect(rejected.status).toBe('rejected');
  expect(statusChanges(rejected)).toHaveLength(1);
  expect(rejected.after_photos).toHaveLength(0);

  // Not sent again by itself; the agent removes it.
  await expect(page.getByRole('button', { name: 'Envoyer maintenant' })).toBeHidden();
  await conflict.getByRole('button', { name: 'Retirer' }).click();
  await expect(page.locator('#outbox-conflicts')).toHaveText('Aucun conflit.');
  await ctx.close();
});

test('on site: a note, could not act, a new place, and a new problem seen on site, in English too, at 360 px', async ({ browser }) => {
  const here = spot();
  const setup = await browser.newContext();
  const photoPage = await setup.newPage();
  const before = await makeJpeg(photoPage);
  const a = await work({ lat: here.lat + 0.001, lon: here.lon }, 'Potelet arraché.', `c.${randomUUID().slice(0, 8)}@example.org`, before);
  const b = await work({ lat: here.lat + 0.002, lon: here.lon }, 'Affaissement du trottoir.', `d.${randomUUID().slice(0, 8)}@example.org`, before);
  const seen = await makeJpeg(photoPage);
  await setup.close();

  const ctx = await phone(browser, here, { width: 360, height: 740 });
  const page = await ctx.newPage();
  await logIn(page);
  await loadRound(page, 2);
  // Nothing wider than the phone.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);

  // A note and a new place on the first stop.
  await page.locator(`#stops li[data-number="${a}"]`).getByRole('link', { name: new RegExp(a) }).click();
  await page.getByLabel('Note', { exact: true }).fill('Potelet à commander.');
  await page.getByRole('button', { name: 'Ajouter la note' }).click();
  await expect(page.locator('#action-result')).toHaveText('Note : envoyé.');
  const moved = { lat: here.lat + 0.0011, lon: here.lon + 0.0002 };
  await ctx.setGeolocation({ latitude: moved.lat, longitude: moved.lon, accuracy: 6 });
  await page.getByRole('button', { name: 'Utiliser ma position' }).click();
  await page.getByRole('button', { name: 'Déplacer la demande ici' }).click();
  await expect(page.locator('#action-result')).toHaveText('Nouveau lieu : envoyé.');
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
  const da = await detail(a);
  expect(da.timeline.some((e) => e.kind === 'note' && e.data.text === 'Potelet à commander.')).toBe(true);
  expect(da.location!.lat).toBeCloseTo(moved.lat, 5);
  expect(da.location!.lon).toBeCloseTo(moved.lon, 5);

  // Could not act on the second: it stays open and leaves my round.
  await page.getByRole('link', { name: 'Tournée', exact: true }).click();
  await page.locator(`#stops li[data-number="${b}"]`).getByRole('link', { name: new RegExp(b) }).click();
  await page.getByLabel('Raison').fill('Accès bloqué par un chantier.');
  await page.getByRole('button', { name: 'Signaler l’impossibilité' }).click();
  await expect(page.locator('#action-result')).toHaveText('Intervention impossible : envoyé.');
  expect((await detail(b)).phase).not.toBe('closed');
  await page.getByRole('link', { name: 'Tournée', exact: true }).click();
  await expect(page.locator(`#stops li[data-number="${b}"]`)).toHaveCount(0);
  await expect(page.locator(`#stops li[data-number="${a}"]`)).toHaveCount(1);

  // Narrowed to what is assigned to me: nobody has the first stop yet, so the round empties;
  // the filter stays with the round kept on the phone; cleared, the stop is back.
  const mineOnly = page.getByLabel('Seulement celles qui me sont attribuées');
  const asked = page.waitForRequest((r) => r.url().includes('/agent/round?') && r.url().includes('assignee=me'));
  await mineOnly.check();
  await asked;
  await expect(page.locator('#round-status')).toContainText('Aucune intervention ouverte ne répond à ces filtres.');
  await expect(page.locator('#stops > li')).toHaveCount(0);
  await expectAccessible(page, 'field: round filtered');
  await page.reload();
  await expect(mineOnly).toBeChecked();
  await expect(page.locator('#stops > li')).toHaveCount(0);
  await mineOnly.uncheck();
  await expect(page.locator(`#stops li[data-number="${a}"]`)).toHaveCount(1);
  await expect(page.getByLabel('Nombre d’arrêts au plus')).toHaveValue('50');

  // A new problem seen on site, filed from here.
  await ctx.setGeolocation({ latitude: here.lat - 0.002, longitude: here.lon, accuracy: 7 });
  await page.getByRole('link', { name: 'Signaler', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Signaler un nouveau problème' })).toBeFocused();
  await expect(page.locator('#new-position')).toContainText('± 7 m');
  await expectAccessible(page, 'field: new report');
  await page.getByLabel('Type de problème').selectOption('voirie');
  await page.locator('#new-photos').setInputFiles({ name: 'vu.jpg', mimeType: 'image/jpeg', buffer: seen });
  await expect(page.locator('#new-photos-previews img')).toHaveCount(1);
  await page.getByLabel('Description').fill('Panneau tombé au carrefour.');
  await page.getByRole('button', { name: 'Envoyer le signalement' }).click();
  await expect(page.locator('#action-result')).toContainText(/Signalement déposé : demande \S+\./);
  const filed = (await page.locator('#action-result').textContent())!.match(/demande (\S+)\./)![1];
  const res = await api.get(`/api/v1/agent/requests/${filed}`, { headers: { Authorization: `Bearer ${office}` } });
  expect(res.status()).toBe(200);
  expect((await res.json()).channel).toBe('field');

  // English, on every field screen.
  await page.getByRole('button', { name: 'Switch to English' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Report a new problem' })).toBeVisible();
  await expectAccessible(page, 'field: new report (English)');
  await page.getByRole('link', { name: 'Round', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'My round' })).toBeFocused();
  await expectAccessible(page, 'field: round (English, 360 px)');
  await page.locator(`#stops li[data-number="${a}"]`).getByRole('link', { name: new RegExp(a) }).click();
  await expect(page.getByRole('heading', { level: 1, name: `Stop 1 — ${a}` })).toBeFocused();
  await expect(page.getByRole('button', { name: 'Close', exact: true })).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
  await expectAccessible(page, 'field: stop (English, 360 px)');
  await page.getByRole('link', { name: 'Map', exact: true }).click();
  await expect(page.locator('.leaflet-control-zoom-in')).toHaveAttribute('title', 'Zoom in');
  await expectAccessible(page, 'field: map (English, 360 px)');
  await page.getByRole('link', { name: /Sending/ }).click();
  await expectAccessible(page, 'field: sending (English)');
  await page.getByRole('button', { name: 'Français' }).click();
  await ctx.close();
});

test('the back office is not under the field view\'s service worker', async ({ browser }) => {
  const ctx = await phone(browser, spot());
  const page = await ctx.newPage();
  await logIn(page);
  await waitForServiceWorker(page);
  await page.goto('/backoffice/');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? null)).toBeNull();
  // Installable on its own: its manifest is scoped to the field view.
  const manifest = await (await api.get('/backoffice/field/manifest.webmanifest')).json();
  expect([manifest.scope, manifest.start_url, manifest.display]).toEqual(['./', './', 'standalone']);
  await page.goto('/backoffice/field/');
  await expect(page.locator('link[rel="manifest"]')).toHaveAttribute('href', './manifest.webmanifest');
  await ctx.close();
});

test('an ended session holds the waiting actions until the agent logs in again, then they go once', async ({ browser }) => {
  const here = spot();
  const setup = await browser.newContext();
  const number = await work({ lat: here.lat + 0.001, lon: here.lon }, 'Trou dans le trottoir.', `e.${randomUUID().slice(0, 8)}@example.org`, await makeJpeg(await setup.newPage()));
  await setup.close();
  const ctx = await phone(browser, here);
  const page = await ctx.newPage();
  await logIn(page);
  await loadRound(page, null);
  // The session ends (as after half an hour without a call): the cookie is gone.
  await ctx.clearCookies();
  await page.locator(`#stops li[data-number="${number}"]`).getByRole('link', { name: new RegExp(number) }).click();
  await page.getByLabel('Note', { exact: true }).fill('Trou balisé, à reboucher demain.');
  await page.getByRole('button', { name: 'Ajouter la note' }).click();
  await expect(page.locator('#session-banner')).toContainText('Votre session a expiré');
  await page.getByRole('link', { name: /Envois/ }).click();
  await expect(page.locator('#outbox-pending > li')).toContainText('attend votre reconnexion');
  await expectAccessible(page, 'field: sending, session ended');
  const notes = async () => (await detail(number)).timeline.filter((e) => e.kind === 'note').length;
  expect(await notes()).toBe(0);

  await page.getByRole('link', { name: 'Se reconnecter' }).click();
  await page.getByLabel('Adresse e-mail').fill(FIELD);
  await page.getByLabel('Mot de passe').fill(PASSWORD);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Ma tournée' })).toBeVisible();
  await expect(page.locator('#session-banner')).toBeHidden();
  await expect.poll(notes).toBe(1);
  await page.getByRole('link', { name: /Envois/ }).click();
  await expect(page.locator('#outbox-pending')).toHaveText('Rien en attente : tout est envoyé.');
  await ctx.close();
});
