// Places in words and the map's background. The pin's address comes from the address base (the
// demo's sample), an address search places the pin and the report carries the address; a tile
// server that does not answer leaves a message over the map, with the credit still shown, and
// the outlines and the pin still working.
import { createServer, type AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import { chooseCategory, expectAccessible, newPhone } from './helpers';
import { startServer, type Server } from './server';

/** 12 Rue de Paris, Rennes, in the demo's address sample. */
const PARIS_12 = { latitude: 48.113841, longitude: -1.667929 };

test('the pin reads as an address, an address search places it, the report carries it', async ({ browser }) => {
  const phone = await newPhone(browser, { ...PARIS_12, accuracy: 8 });
  const page = await phone.newPage();
  await page.goto('/');
  await chooseCategory(page, 'mobilier-urbain');

  // The GPS fix, in words.
  const where = page.locator('#place-address');
  await expect(where).toHaveText('Adresse : 12 Rue de Paris 35000 Rennes');
  await expect(page.locator('#place-chosen')).toContainText('12 Rue de Paris 35000 Rennes');

  // The search: a labelled combobox, its suggestions a listbox, chosen by keyboard.
  const box = page.getByRole('combobox', { name: 'Chercher une adresse' });
  await box.fill('place de la mairie renn');
  const list = page.getByRole('listbox', { name: 'Chercher une adresse' });
  await expect(list).toBeVisible();
  await expect(box).toHaveAttribute('aria-expanded', 'true');
  const options = list.getByRole('option');
  await expect(options.first()).toContainText('Place de la Mairie');
  await expect(page.locator('#live')).toContainText(/adresses? proposées?/);
  await expectAccessible(page, 'place with address suggestions');
  await box.press('ArrowDown');
  const first = options.first();
  await expect(first).toHaveAttribute('aria-selected', 'true');
  await expect(box).toHaveAttribute('aria-activedescendant', (await first.getAttribute('id'))!);
  const picked = (await first.textContent())!;
  await box.press('Enter');
  await expect(list).toBeHidden();
  await expect(box).toHaveValue(picked);
  await expect(page.locator('#place-chosen')).toHaveText(`Lieu retenu : l’adresse choisie. ${picked}`);
  await expect(page.locator('#live')).toContainText(`Épingle placée : ${picked}.`);
  // The pin went there: the map is centred on it.
  await expect(page.locator('.pin-icon')).toBeVisible();

  // The report sends the address with the point.
  await page.getByRole('button', { name: 'Continuer' }).tap();
  const nearby = page.getByRole('heading', { level: 1, name: 'Déjà signalé ?' });
  const details = page.getByRole('heading', { level: 1, name: 'Photos et description' });
  await expect(nearby.or(details)).toBeVisible();
  if (await nearby.isVisible()) await page.locator('#not-same').tap();
  await expect(details).toBeFocused();
  const sent = page.waitForRequest((r) => r.url().endsWith('/api/v1/reports') && r.method() === 'POST');
  await page.getByRole('button', { name: 'Envoyer le signalement' }).tap();
  const body = (await sent).postDataBuffer()!.toString('utf8');
  const report = JSON.parse(/\{"client_id".*\}/.exec(body)![0]) as { address?: string; lat: number; lon: number };
  expect(report.address).toBe(picked);
  await expect(page.getByRole('heading', { level: 1, name: /Signalement (envoyé|enregistré)/ })).toBeVisible();
  await phone.close();
});

test('no address near the pin: the place falls back to its coordinates', async ({ browser }) => {
  // A field in Rennes Métropole, far from the sample's streets.
  const phone = await newPhone(browser, { latitude: 48.1500, longitude: -1.7600, accuracy: 10 });
  const page = await phone.newPage();
  await page.goto('/');
  await chooseCategory(page, 'mobilier-urbain');
  await expect(page.locator('#place-address')).toHaveText(/^Aucune adresse connue à moins de 150 m/);
  await expect(page.locator('#place-chosen')).toContainText('48,15000, -1,76000');
  await phone.close();
});

test.describe('tiles', () => {
  let server: Server;
  let closedPort: number;

  test.beforeAll(async () => {
    // A port nobody listens on: the tile server "does not answer", and nothing leaves the machine.
    closedPort = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    server = await startServer('map_tiles', {
      GUICHET_MAP_TILES: `http://127.0.0.1:${closedPort}/tuiles/{z}/{x}/{y}.png`,
      GUICHET_MAP_TILES_ATTRIBUTION: '© Tuiles de la ville',
    });
  });
  test.afterAll(async () => {
    await server?.stop();
  });

  test('an unreachable tile server leaves a message, the credit, the outlines and the pin', async ({ browser }) => {
    const phone = await newPhone(browser, { ...PARIS_12, accuracy: 8 }, { baseURL: server.url });
    const page = await phone.newPage();
    const tileAsks: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/tuiles/')) tileAsks.push(r.url());
    });
    await page.goto('/');
    await chooseCategory(page, 'mobilier-urbain');

    const map = page.getByRole('region', { name: /Carte du lieu/ });
    await expect(map.locator('.leaflet-control-attribution')).toContainText('© Tuiles de la ville');
    const notice = map.getByRole('status');
    await expect(notice).toHaveText(/Le fond de carte ne se charge pas/);
    expect(tileAsks.length).toBeGreaterThan(0);
    expect(tileAsks.every((u) => u.startsWith(`http://127.0.0.1:${closedPort}/tuiles/`))).toBe(true);
    // The communes' outlines are drawn, and the map still takes the pin.
    await expect(map.locator('path.leaflet-interactive, svg path').first()).toBeAttached();
    await map.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    const boxOf = (await map.boundingBox())!;
    await page.mouse.click(boxOf.x + boxOf.width * 0.25, boxOf.y + boxOf.height * 0.75);
    await expect(page.locator('#place-chosen')).toContainText('l’épingle placée sur la carte');
    // The zoom buttons speak French.
    await expect(map.getByRole('button', { name: 'Zoomer', exact: true })).toBeVisible();
    await expect(map.getByRole('button', { name: 'Dézoomer', exact: true })).toBeVisible();
    await expectAccessible(page, 'place with an unreachable tile server');

    // In English, the message too.
    await page.locator('#lang-toggle').click();
    await expect(page.getByRole('region', { name: /Map of the place/ }).getByRole('status'))
      .toHaveText(/The background map is not loading/);
    await phone.close();
  });
});
