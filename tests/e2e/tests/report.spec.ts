// A citizen files a report with a photo from a phone; a second phone at the same spot is told it
// is already reported and taps "me too"; the first follows the status in "My reports".
import { expect, test } from '@playwright/test';
import { chooseCategory, expectAccessible, freeSpot, gpsText, makeJpeg, newPhone, publicView, RENNES } from './helpers';

test('file a report with a photo, "me too" from a second phone, follow it', async ({ browser, request }) => {
  const spot = await freeSpot(request, 'voirie');

  // ---- phone A: GPS granted at Rennes (25 m), then moved to the spot (8 m) ----
  const phoneA = await newPhone(browser, { ...RENNES, accuracy: 25 });
  const a = await phoneA.newPage();
  // Counts the app's requests for the position: none before the place step.
  await a.addInitScript(() => {
    const w = window as unknown as { positionAsks: number };
    w.positionAsks = 0;
    const watch = navigator.geolocation.watchPosition.bind(navigator.geolocation);
    navigator.geolocation.watchPosition = (...args: Parameters<Geolocation['watchPosition']>) => {
      w.positionAsks += 1;
      return watch(...args);
    };
  });
  const jpeg = await makeJpeg(a);

  const t0 = Date.now();
  await a.goto('/');
  await expect(a.getByRole('heading', { level: 1, name: 'Que voulez-vous signaler ?' })).toBeVisible();
  await expect(a.locator('html')).toHaveAttribute('lang', 'fr');
  const asks = () => a.evaluate(() => (window as unknown as { positionAsks: number }).positionAsks);
  expect(await asks()).toBe(0);
  await chooseCategory(a, 'voirie');
  await expect.poll(asks).toBeGreaterThan(0);

  const gps = a.locator('#gps-status');
  await expect(gps).toHaveText(gpsText({ lat: RENNES.latitude, lon: RENNES.longitude }, 25));
  await phoneA.setGeolocation({ latitude: spot.lat, longitude: spot.lon, accuracy: 8 });
  await expect(gps).toHaveText(gpsText(spot, 8));
  await expect(a.locator('#place-chosen')).toContainText('± 8 m');
  await a.getByRole('button', { name: 'Continuer' }).tap();

  // Nothing open nearby: straight to photos and description.
  await expect(a.getByRole('heading', { level: 1, name: 'Photos et description' })).toBeFocused();
  // Two doors: the camera, and a photo taken earlier (no `capture`, which would force the camera).
  await expect(a.getByLabel('Prendre une photo')).toHaveAttribute('capture', 'environment');
  await expect(a.getByLabel('Choisir une photo')).not.toHaveAttribute('capture', /.*/);
  await a.locator('#photo-input').setInputFiles({ name: 'nid-de-poule.jpg', mimeType: 'image/jpeg', buffer: jpeg });
  await expect(a.getByRole('img', { name: 'Photo 1' })).toBeVisible();
  await a.getByLabel('Description (facultatif)').fill('Nid-de-poule profond devant l’arrêt de bus.');
  await a.getByRole('button', { name: 'Envoyer le signalement' }).tap();

  await expect(a.getByRole('heading', { level: 1, name: 'Signalement envoyé' })).toBeVisible();
  const numberEl = a.locator('#receipt-number');
  await expect(numberEl).toHaveText(/^\d{4}-[A-Z]+-\d{6}$/);
  const elapsed = Date.now() - t0;
  const number = (await numberEl.textContent())!;
  const tracking = (await a.locator('dl.receipt .tracking').textContent())!;
  console.log(`  time from opening the app to a sent report: ${elapsed} ms (${number})`);
  test.info().annotations.push({ type: 'time-to-sent-report-ms', description: String(elapsed) });

  // The acknowledgement, in words: received when, by whom, next, the usual delay, the code
  // explained, the status page, the photo sent; printable.
  const ack = a.locator('#acknowledgement');
  await expect(ack.getByRole('heading', { name: 'Accusé de réception' })).toBeVisible();
  await expect(a.locator('#ack-received')).toContainText('heure de Paris');
  await expect(a.locator('#ack-delay')).not.toBeEmpty();
  await expect(a.locator('#ack-code')).toContainText(tracking);
  await expect(a.locator('#ack-page')).toHaveAttribute('href', new RegExp(`/suivi/${number}$`));
  await expect(ack.getByRole('img', { name: 'Photo envoyée 1' })).toBeVisible();
  await expect(a.getByRole('button', { name: 'Imprimer l’accusé' })).toBeVisible();
  // On a 320 px phone, the number and the code stay whole, each on one line.
  await a.setViewportSize({ width: 320, height: 640 });
  for (const sel of ['#receipt-number', 'dl.receipt .tracking']) {
    const box = (await a.locator(sel).boundingBox())!;
    const lineHeight = await a.locator(sel).evaluate((el) => parseFloat(getComputedStyle(el).lineHeight) || 24);
    expect(box.height, `${sel} on one line`).toBeLessThan(lineHeight * 1.6);
    expect(box.x + box.width, `${sel} inside the screen`).toBeLessThanOrEqual(320);
  }
  await a.setViewportSize({ width: 412, height: 839 });

  // The server has it, with the photo, where the GPS said.
  const viewA = await publicView(request, number, tracking);
  expect(viewA.report_count).toBe(1);
  expect(viewA.photos).toHaveLength(1);

  // ---- phone B, at the same spot: "already reported?" → "me too" ----
  const phoneB = await newPhone(browser, { latitude: spot.lat, longitude: spot.lon, accuracy: 12 });
  const b = await phoneB.newPage();
  await b.goto('/');
  await chooseCategory(b, 'voirie');
  await expect(b.locator('#gps-status')).toHaveText(gpsText(spot, 12));
  await b.getByRole('button', { name: 'Continuer' }).tap();
  await expect(b.getByRole('heading', { level: 1, name: 'Déjà signalé ?' })).toBeFocused();
  const item = b.locator(`li.nearby-item[data-number="${number}"]`);
  await expect(item).toBeVisible();
  await expect(item.locator('.count')).toHaveText('1 signalement');
  await expect(item.locator('.distance')).toHaveText(/^à \d+ m$/);
  await expect(item.getByRole('img', { name: `Photo du signalement ${number}` })).toBeVisible();
  await item.getByRole('button', { name: `Moi aussi : même problème que le signalement ${number}` }).tap();
  await expect(b.getByRole('heading', { level: 1, name: 'Merci, c’est noté' })).toBeVisible();
  await expect(b.locator('#receipt-number')).toHaveText(number);
  await expect(b.locator('#receipt-count')).toHaveText('2');
  await expect(b.locator('#receipt-joined')).toHaveText(`Votre « moi aussi » a rejoint le signalement existant n° ${number} : vous serez informé de son avancement.`);
  expect((await publicView(request, number, tracking)).report_count).toBe(2);

  // ---- phone A follows its report ----
  await a.getByRole('link', { name: 'Mes démarches', exact: true }).tap();
  await expect(a.getByRole('heading', { level: 1, name: 'Mes démarches' })).toBeFocused();
  const card = a.locator(`li.card.sent[data-number="${number}"]`);
  await expect(card.locator('.count')).toHaveText('2');
  await expect(card.locator('.status')).toHaveText(viewA.status_label);
  await expect(card.locator('ol.timeline li').first()).toBeVisible();
  await expect(card.locator('.tracking')).toHaveText(tracking);

  // Phone B sees its "me too" in its own list too.
  await b.getByRole('link', { name: 'Voir mes démarches' }).tap();
  await expect(b.locator(`li.card.sent[data-number="${number}"] .count`)).toHaveText('2');

  await phoneA.close();
  await phoneB.close();
});

test('the app speaks English when asked, and on an English phone', async ({ browser }) => {
  const phone = await newPhone(browser, RENNES, { locale: 'en-GB' });
  const page = await phone.newPage();
  await page.goto('/');
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.getByRole('heading', { level: 1, name: 'What do you want to report?' })).toBeVisible();
  await page.getByRole('button', { name: 'Passer en français' }).tap();
  await expect(page.locator('html')).toHaveAttribute('lang', 'fr');
  await expect(page.getByRole('heading', { level: 1, name: 'Que voulez-vous signaler ?' })).toBeVisible();
  await page.getByRole('button', { name: 'Switch to English' }).tap();
  await expect(page.getByRole('button', { name: 'Road, pavement or pothole' })).toBeVisible();
  await expectAccessible(page, 'category (English)');
  await phone.close();
});
