// The server is down when the app starts: the app says so at once (which address, from where,
// how to change it), keeps a report in the core's SQLite outbox, and sends it by itself when
// the server is back, exactly once. A "me too" the server refuses stays listed as refused until
// the citizen deletes it. The server's address comes from the app's settings file here.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { By, click, expectAccessible, waitForCount, invoke, launchApp, setPosition, waitForScreen, waitForText } from '../lib/app.mjs';
import { filedReports, freeSpot } from '../lib/helpers.mjs';
import { startServer } from '../lib/server.mjs';

let server;
let app;
let spot;
let clientId;
const refusedId = randomUUID();

before(async () => {
  server = await startServer('offline');
  spot = await freeSpot(server.url, 'eclairage-public');
  await server.stop();
  app = await launchApp({ settings: `# The Guichet server this app files to.\nserver_url = "${server.appUrl}"\n` });
});

after(async () => {
  await app?.quit();
  await server?.close();
});

test('the first screen says the server does not answer, and how to change its address', async () => {
  const d = app.driver;
  await waitForScreen(d, 'Que voulez-vous signaler ?');
  const banner = await d.findElement(By.id('server-banner'));
  await d.wait(() => banner.isDisplayed(), 20_000, 'the server message');
  assert.equal(await banner.getAttribute('role'), 'alert');
  const text = await banner.getText();
  assert.match(text, new RegExp(`Le serveur ${server.appUrl} ne répond pas`));
  assert.ok(text.includes(`Cette adresse vient du fichier ${app.settingsFile}.`), text);
  assert.ok(text.includes('server_url = "https://…"'), text);
  await expectAccessible(d, 'serveur injoignable');
});

test('a report filed while the server is down waits in the outbox', async () => {
  const d = app.driver;
  await setPosition(d, spot, 7);
  // The categories the app knows without the server.
  await click(d, By.css('button.choice[data-code="eclairage-public"]'));
  await waitForScreen(d, 'Où est-ce ?');
  await waitForText(d, '#gps-status', /précision ± 7 m/);
  await click(d, By.xpath('//button[normalize-space()="Continuer"]'));
  await waitForScreen(d, 'Photos et description');
  await d.findElement(By.css('textarea')).sendKeys('Lampadaire éteint depuis trois jours.');
  await click(d, By.xpath('//button[normalize-space()="Envoyer le signalement"]'));
  await waitForScreen(d, 'Signalement enregistré');
  await expectAccessible(d, 'signalement enregistré');
  await waitForText(d, '#pending-badge', /^1 en attente$/);

  // A "me too" on a request the server does not have (it was merged away meanwhile, say).
  const queued = await invoke(d, 'enqueue_support', { number: '2026-VOI-999999', clientId: refusedId, email: null });
  assert.equal(queued.ok, true, queued.error);

  await click(d, By.id('nav-mine'));
  await waitForScreen(d, 'Mes démarches');
  await waitForCount(d, 'li.card.pending', 2);
  const cards = await d.findElements(By.css('li.card.pending'));
  clientId = (await Promise.all(cards.map((c) => c.getAttribute('data-client-id')))).find((id) => id !== refusedId);
  assert.ok(clientId);
  await expectAccessible(d, 'mes démarches, en attente');
  const entries = (await invoke(d, 'outbox_entries')).value;
  assert.deepEqual(entries.map((e) => e.state), ['pending', 'pending']);
  assert.equal(filedReports(server.recorded).filter((r) => r.status).length, 0, 'nothing reached the server');
});

test('the server comes back: the report leaves by itself, exactly once', async () => {
  const d = app.driver;
  await server.start();
  // No tap: the shell's background loop retries on its own (back-off from 5 s, doubling).
  await d.wait(async () => (await d.findElements(By.css('li.card.sent'))).length === 1, 150_000, 'the report sent');
  const sent = filedReports(server.recorded).filter((r) => r.report?.client_id === clientId && r.status >= 200 && r.status < 300);
  assert.equal(sent.length, 1, 'one successful upload of the report');
  assert.equal(server.sql(`SELECT count(*) FROM reports WHERE client_id = '${clientId}'`), '1');
  // The message about the server goes once something got through.
  await d.wait(async () => !(await d.findElement(By.id('server-banner')).isDisplayed()), 20_000, 'the server message gone');
});

test('the refused "me too" is listed as refused, and deleting it removes it from the outbox', async () => {
  const d = app.driver;
  const card = By.css(`li.card.pending.failed[data-client-id="${refusedId}"]`);
  await d.wait(async () => (await d.findElements(card)).length === 1, 150_000, 'the refused "me too"');
  assert.match(await d.findElement(card).getText(), /Refusé par le serveur/);
  await expectAccessible(d, 'mes démarches, refusé');
  await click(d, By.xpath(`//li[@data-client-id="${refusedId}"]//button[normalize-space()="Supprimer"]`));
  await d.wait(async () => (await d.findElements(card)).length === 0, 10_000, 'the card gone');
  const entries = (await invoke(d, 'outbox_entries')).value;
  assert.deepEqual(entries.map((e) => [e.kind, e.state]), [['report', 'sent']]);
});
