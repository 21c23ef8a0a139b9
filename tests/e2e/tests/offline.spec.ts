// Offline first: two reports filed without network are kept on the phone (IndexedDB outbox),
// survive the page being killed and the app being reopened offline (service worker), and reach
// the server exactly once each when the network comes back.
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { chooseCategory, freeSpot, gpsText, makeJpeg, newPhone, publicView, waitForServiceWorker, type Spot } from './helpers';

async function fileOffline(page: Page, category: string, spot: Spot, accuracy: number, photo: Buffer, text: string) {
  await page.getByRole('link', { name: 'Signaler', exact: true }).tap();
  await chooseCategory(page, category);
  await expect(page.locator('#gps-status')).toHaveText(gpsText(spot, accuracy));
  await page.getByRole('button', { name: 'Continuer' }).tap();
  // No network, no "already reported?": straight to step 4.
  await expect(page.getByRole('heading', { level: 1, name: 'Photos et description' })).toBeFocused();
  await page.locator('#photo-input').setInputFiles({ name: 'photo.jpg', mimeType: 'image/jpeg', buffer: photo });
  await expect(page.getByRole('img', { name: 'Photo 1' })).toBeVisible();
  await page.getByLabel('Description (facultatif)').fill(text);
  await page.getByRole('button', { name: 'Envoyer le signalement' }).tap();
  await expect(page.getByRole('heading', { level: 1, name: 'Signalement enregistré' })).toBeVisible();
  await expect(page.locator('#receipt-pending')).toContainText('hors ligne');
}

test('offline: two reports wait in the outbox, survive a kill, and arrive once each', async ({ browser, request }) => {
  const spot1 = await freeSpot(request, 'eclairage-public');
  const spot2 = await freeSpot(request, 'mobilier-urbain', [spot1]);

  const phone = await newPhone(browser, { latitude: spot1.lat, longitude: spot1.lon, accuracy: 6 });
  let page = await phone.newPage();
  const [photo1, photo2] = [await makeJpeg(page), await makeJpeg(page)];
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Que voulez-vous signaler ?' })).toBeVisible();
  await waitForServiceWorker(page);

  await goOffline(phone);
  await expect(page.locator('#offline-banner')).toBeVisible();

  await fileOffline(page, 'eclairage-public', spot1, 6, photo1, 'Lampadaire éteint depuis trois jours.');
  await phone.setGeolocation({ latitude: spot2.lat, longitude: spot2.lon, accuracy: 9 });
  await fileOffline(page, 'mobilier-urbain', spot2, 9, photo2, 'Banc cassé, planche arrachée.');

  await expect(page.locator('#pending-badge')).toHaveText('2 en attente');
  await page.getByRole('link', { name: /^Mes démarches/ }).tap();
  await expect(page.locator('#pending-list > li')).toHaveCount(2);

  // Kill the page and reopen the app, still offline: the service worker serves the shell and
  // the outbox is still there.
  await page.close();
  page = await phone.newPage();
  await page.goto('/#/mine');
  await expect(page.getByRole('heading', { level: 1, name: 'Mes démarches' })).toBeVisible();
  // Every request of that navigation was aborted: the shell came from the service worker's cache.
  expect(await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).workerStart)).toBeGreaterThan(0);
  // Chromium drops the emulated offline state (navigator.onLine) of a page whose navigation a
  // service worker answered; set it again. The routes kept the network away meanwhile.
  await phone.setOffline(false);
  await phone.setOffline(true);
  await expect(page.locator('#offline-banner')).toBeVisible();
  const pending = page.locator('#pending-list > li');
  await expect(pending).toHaveCount(2);
  await expect(pending.nth(0)).toContainText('Éclairage public défaillant');
  await expect(pending.nth(1)).toContainText('Mobilier urbain dégradé');

  // Back online: both leave the outbox by themselves.
  await goOnline(phone);
  await expect(page.locator('#pending-list > li')).toHaveCount(0, { timeout: 30_000 });
  await expect(page.locator('#pending-badge')).toHaveCount(0);
  const sent = page.locator('#sent-list > li');
  await expect(sent).toHaveCount(2);

  const numbers: string[] = [];
  for (const [i, category] of ['eclairage-public', 'mobilier-urbain'].entries()) {
    const card = page.locator('#sent-list > li', { hasText: i === 0 ? 'Éclairage public défaillant' : 'Mobilier urbain dégradé' });
    const number = (await card.locator('.number').textContent())!;
    const tracking = (await card.locator('.tracking').textContent())!;
    numbers.push(number);
    // Exactly once: one report on the request, one photo...
    const view = await publicView(request, number, tracking);
    expect(view.report_count).toBe(1);
    expect(view.photos).toHaveLength(1);
    // ...and one open request of that category at that spot.
    const spot = i === 0 ? spot1 : spot2;
    const res = await request.get(`/api/v1/reports/nearby?lat=${spot.lat}&lon=${spot.lon}&category=${category}&radius_m=300`);
    const items = (await res.json()).items as { request_number: string; report_count: number }[];
    expect(items.map((x) => [x.request_number, x.report_count])).toEqual([[number, 1]]);
    // The status is followed from the list.
    await expect(card.locator('.status')).toHaveText(view.status_label);
    await expect(card.locator('ol.timeline li').first()).toBeVisible();
  }
  expect(new Set(numbers).size).toBe(2);

  // A later reload changes nothing: nothing is sent again.
  await page.reload();
  await expect(page.locator('#sent-list > li')).toHaveCount(2);
  await expect(page.locator('#pending-list > li')).toHaveCount(0);
  await phone.close();
});

test('an answer lost on the way: the automatic retry gets 200 and the same receipt, one report', async ({ browser, request }) => {
  const spot = await freeSpot(request, 'signalisation');
  const phone = await newPhone(browser, { latitude: spot.lat, longitude: spot.lon, accuracy: 7 });
  // The first upload reaches the server, but its answer is lost (connection reset).
  const statuses: number[] = [];
  await phone.route('**/api/v1/reports', async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    const res = await route.fetch();
    statuses.push(res.status());
    if (statuses.length === 1) return route.abort('connectionreset');
    return route.fulfill({ response: res });
  });
  const page = await phone.newPage();
  await page.goto('/');
  await chooseCategory(page, 'signalisation');
  await expect(page.locator('#gps-status')).toHaveText(gpsText(spot, 7));
  await page.getByRole('button', { name: 'Continuer' }).tap();
  await page.locator('#photo-input').setInputFiles({ name: 'feu.jpg', mimeType: 'image/jpeg', buffer: await makeJpeg(page) });
  await expect(page.getByRole('img', { name: 'Photo 1' })).toBeVisible();
  await page.getByRole('button', { name: 'Envoyer le signalement' }).tap();
  await expect(page.locator('#receipt-pending')).toContainText('L’envoi a échoué');
  // Retried by itself after the back-off (5 s ± 25 %, docs/sync.md).
  await expect(page.locator('#receipt-number')).toHaveText(/^\d{4}-[A-Z]+-\d{6}$/);
  expect(statuses).toEqual([201, 200]);
  const number = (await page.locator('#receipt-number').textContent())!;
  const tracking = (await page.locator('dl.receipt .tracking').textContent())!;
  const view = await publicView(request, number, tracking);
  expect(view.report_count).toBe(1);
  expect(view.photos).toHaveLength(1);
  await phone.close();
});

/**
 * No network: the browser's offline emulation (navigator.onLine, `offline` event) plus every
 * request of the context aborted as "internet disconnected", the service worker's included
 * (Chromium does not apply the offline emulation to service workers).
 */
async function goOffline(phone: BrowserContext): Promise<void> {
  await phone.setOffline(true);
  await phone.route('**/*', (route) => route.abort('internetdisconnected'));
}

async function goOnline(phone: BrowserContext): Promise<void> {
  await phone.unrouteAll({ behavior: 'ignoreErrors' });
  await phone.setOffline(false);
}
