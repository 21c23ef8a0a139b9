// The desktop build of the app, as a citizen uses it: the first screen in French, a report with
// a photo picked from disk (prepared by the Rust core: the server receives the phone-sized WebP,
// not the camera's JPEG), the position from the webview when no geolocation plugin answers,
// "me too" on it, and "My requests". Every screen passes axe-core (WCAG 2.1 AA).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { By, click, expectAccessible, waitForCount, invoke, launchApp, setPosition, waitForScreen, waitForText } from '../lib/app.mjs';
import { filedReports, freeSpot, frCoord, publicView, webpInfo } from '../lib/helpers.mjs';
import { env, startServer } from '../lib/server.mjs';

let server;
let app;
let spot;
const filed = {};

before(async () => {
  server = await startServer('report');
  spot = await freeSpot(server.url, 'voirie');
  app = await launchApp({ serverUrl: server.appUrl });
  console.log(`  app start to first screen: ${app.firstScreenMs} ms`);
});

after(async () => {
  await app?.quit();
  await server?.close();
});

test('the first screen, in French, with the catalogue from the server', async () => {
  const d = app.driver;
  await waitForScreen(d, 'Que voulez-vous signaler ?');
  assert.equal(await d.executeScript(() => document.documentElement.lang), 'fr');
  // The native platform, not the browser's: the shell's commands answer.
  const entries = await invoke(d, 'outbox_entries');
  assert.deepEqual(entries, { ok: true, value: [] });
  // The server answers: no first-run message.
  assert.equal(await d.findElement(By.id('server-banner')).isDisplayed(), false);
  await d.wait(async () => (await d.findElements(By.css('button.choice[data-code="voirie"]'))).length > 0, 10_000);
  await expectAccessible(d, 'catégories');
});

test('the position comes from the webview when no geolocation plugin answers', async () => {
  const d = app.driver;
  // The desktop shell registers no geolocation plugin (phones do): its commands fail…
  const plugin = await invoke(d, 'plugin:geolocation|check_permissions');
  assert.equal(plugin.ok, false, 'the geolocation plugin is not there on the desktop');
  // …and the app falls back to the webview's navigator.geolocation, here the device's position.
  await setPosition(d, spot, 9);
  await click(d, By.css('button.choice[data-code="voirie"]'));
  await waitForScreen(d, 'Où est-ce ?');
  await waitForText(d, '#gps-status', new RegExp(`${frCoord(spot.lat)}, ${frCoord(spot.lon)} — précision ± 9 m`));
  assert.ok((await d.executeScript(() => window.__positionAsks)) >= 1);
  await expectAccessible(d, 'où est-ce');
});

test('a report with a photo picked from disk: the server receives the phone-sized WebP', async () => {
  const d = app.driver;
  await click(d, By.xpath('//button[normalize-space()="Continuer"]'));
  await waitForScreen(d, 'Photos et description');
  // A 12-megapixel camera JPEG (4032×3024 as the sensor stores it, EXIF orientation 6: taken
  // in portrait), picked from disk through the file input.
  const photo = { path: env('GUICHET_NATIVE_PHOTO'), bytes: readFileSync(env('GUICHET_NATIVE_PHOTO')) };
  await d.findElement(By.id('photo-input')).sendKeys(photo.path);
  await d.wait(async () => (await d.findElements(By.css('img[alt="Photo 1"]'))).length > 0, 10_000, 'the photo in the draft');
  await d.findElement(By.css('textarea')).sendKeys('Trottoir défoncé devant l’école.');
  await expectAccessible(d, 'photos et description');
  await click(d, By.xpath('//button[normalize-space()="Envoyer le signalement"]'));

  await waitForScreen(d, 'Signalement envoyé', 60_000);
  const number = await waitForText(d, '#receipt-number', /^\d{4}-[A-Z]+-\d{6}$/);
  const tracking = await d.findElement(By.css('dl.receipt .tracking')).getText();
  await expectAccessible(d, 'signalement envoyé');
  Object.assign(filed, { number, tracking });

  // What went over the network: one multipart report with one photo, a WebP of at most
  // 2048 px (the core's preparation), far smaller than the picked JPEG.
  const sent = filedReports(server.recorded);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].status, 201);
  assert.equal(sent[0].photos.length, 1);
  const webp = sent[0].photos[0];
  assert.equal(webp.type, 'image/webp');
  const info = webpInfo(webp.bytes);
  assert.ok(info, 'the uploaded photo is a WebP');
  // Upright (portrait) and at most 2048 px: the core's preparation, not the server's.
  assert.deepEqual([info.width, info.height], [1536, 2048]);
  assert.ok(webp.bytes.length < photo.bytes.length / 5, `${webp.bytes.length} bytes sent for a ${photo.bytes.length}-byte JPEG`);
  // No trace of the camera's metadata (EXIF with GPS, XMP) in what was sent.
  for (const marker of ['Exif', 'GPS', 'xmpmeta']) assert.equal(webp.bytes.indexOf(marker), -1, marker);
  console.log(`  photo: ${photo.bytes.length} bytes picked (4032×3024 JPEG), ${webp.bytes.length} bytes uploaded (${info.width}×${info.height} WebP), request body ${sent[0].bytes} bytes`);

  // The server has it, with the photo, where the position said.
  const view = await publicView(server.url, number, tracking);
  assert.equal(view.report_count, 1);
  assert.equal(view.photos.length, 1);
  assert.ok(Math.max(view.photos[0].width, view.photos[0].height) <= 2048);
});

test('"me too" on the report, from the same spot', async () => {
  const d = app.driver;
  await click(d, By.id('nav-report'));
  await waitForScreen(d, 'Que voulez-vous signaler ?');
  await click(d, By.css('button.choice[data-code="voirie"]'));
  await waitForScreen(d, 'Où est-ce ?');
  await waitForText(d, '#gps-status', /précision ± 9 m/);
  await click(d, By.xpath('//button[normalize-space()="Continuer"]'));
  await waitForScreen(d, 'Déjà signalé ?');
  const item = await d.findElement(By.css(`li.nearby-item[data-number="${filed.number}"]`));
  await expectAccessible(d, 'déjà signalé');
  const metoo = await item.findElement(By.css('button.metoo'));
  assert.equal(await metoo.getAttribute('aria-label'), `Moi aussi : même problème que le signalement ${filed.number}`);
  await metoo.click();
  await waitForScreen(d, 'Merci, c’est noté', 60_000);
  await waitForText(d, '#receipt-count', /^2$/);
  assert.equal((await publicView(server.url, filed.number, filed.tracking)).report_count, 2);
  const supports = server.recorded.filter((r) => r.path === `/api/v1/requests/${filed.number}/support`);
  assert.equal(supports.length, 1);
});

test('"My requests" lists what was sent, from the core\'s outbox', async () => {
  const d = app.driver;
  await click(d, By.id('nav-mine'));
  await waitForScreen(d, 'Mes démarches');
  await d.wait(async () => (await d.findElements(By.css(`li.card.sent[data-number="${filed.number}"]`))).length > 0, 20_000, 'the request filed');
  const entries = await invoke(d, 'outbox_entries');
  assert.equal(entries.ok, true);
  assert.deepEqual(entries.value.map((e) => [e.kind, e.state]).sort(), [['report', 'sent'], ['support', 'sent']]);
  await expectAccessible(d, 'mes démarches');
});
