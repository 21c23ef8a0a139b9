// Every screen of the app, in the states a citizen meets, checked by axe-core against WCAG 2.0 and
// 2.1 levels A and AA. Also keyboard basics: skip link, focus on the screen heading.
import { randomUUID } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { chooseCategory, expectAccessible, freeSpot, makeJpeg, newPhone } from './helpers';

test('every screen passes axe-core (WCAG 2.1 A and AA), in French and English', async ({ browser, request }) => {
  const spot = await freeSpot(request, 'tags-graffitis');
  const phone = await newPhone(browser, { latitude: spot.lat, longitude: spot.lon, accuracy: 15 });
  const page = await phone.newPage();

  // Someone already reported tags here, with a photo: the nearby screen has something to show.
  const photo = await makeJpeg(page);
  const created = await request.post('/api/v1/reports', {
    multipart: {
      report: JSON.stringify({
        client_id: randomUUID(), category: 'tags-graffitis', lat: spot.lat + 0.0001, lon: spot.lon, accuracy_m: 5,
        description: 'Tag sur le mur de l’école.',
      }),
      photo: { name: 'tag.jpg', mimeType: 'image/jpeg', buffer: photo },
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const existing = (await created.json()).request_number as string;

  // 1. Category.
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Que voulez-vous signaler ?' })).toBeVisible();
  await expectAccessible(page, '1 category');

  // The skip link is the first stop of the keyboard and leads to the content.
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Aller au contenu' });
  await expect(skip).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('main')).toBeFocused();

  // 2. Place, with the GPS fix, the map (no tiles: communes, incidents, pin).
  await chooseCategory(page, 'tags-graffitis');
  await expect(page.locator('#gps-status')).toContainText('± 15 m');
  await expect(page.locator('.leaflet-marker-icon.pin-icon')).toBeVisible();
  await expect(page.locator('.leaflet-interactive').first()).toBeVisible(); // the existing incident
  await expectAccessible(page, '2 place');

  // 2b. Place given without the map: a commune but no address → an error message.
  await page.getByLabel('Commune').selectOption({ label: 'Cesson-Sévigné' });
  await expect(page.locator('#place-chosen')).toContainText('Cesson-Sévigné');
  await page.getByRole('button', { name: 'Continuer' }).tap();
  await expect(page.locator('#place-error')).toHaveText(/Précisez l’adresse/);
  await expect(page.getByLabel('Adresse ou repère (facultatif)')).toBeFocused();
  await expectAccessible(page, '2 place, error');
  // Back to the GPS position.
  await page.getByRole('button', { name: 'Utiliser ma position' }).tap();
  await expect(page.locator('#place-chosen')).toContainText('± 15 m');
  await page.getByRole('button', { name: 'Continuer' }).tap();

  // 3. Already reported?
  await expect(page.getByRole('heading', { level: 1, name: 'Déjà signalé ?' })).toBeFocused();
  await expect(page.locator(`li.nearby-item[data-number="${existing}"] img`)).toBeVisible();
  await expectAccessible(page, '3 already reported?');
  await page.getByRole('link', { name: 'Non, c’est un autre problème' }).tap();

  // 4. Photos and description, with a photo and an invalid e-mail.
  await expect(page.getByRole('heading', { level: 1, name: 'Photos et description' })).toBeFocused();
  await page.locator('#photo-input').setInputFiles({ name: 'p.jpg', mimeType: 'image/jpeg', buffer: await makeJpeg(page) });
  await expect(page.getByRole('img', { name: 'Photo 1' })).toBeVisible();
  await page.getByLabel('Votre e-mail (facultatif)').fill('pas-un-email');
  await page.getByRole('button', { name: 'Envoyer le signalement' }).tap();
  await expect(page.getByLabel('Votre e-mail (facultatif)')).toBeFocused();
  await expect(page.locator('#email-error')).toBeVisible();
  await expectAccessible(page, '4 photos and description, error');
  await page.getByLabel('Votre e-mail (facultatif)').fill('');
  await page.getByLabel('Description (facultatif)').fill('Autre tag, sur la porte.');

  // Receipt, offline first (pending), then sent.
  await phone.setOffline(true);
  await page.getByRole('button', { name: 'Envoyer le signalement' }).tap();
  await expect(page.getByRole('heading', { level: 1, name: 'Signalement enregistré' })).toBeVisible();
  await expect(page.locator('#offline-banner')).toBeVisible();
  await expectAccessible(page, 'receipt, pending offline');
  await page.getByRole('link', { name: 'Voir mes démarches' }).tap();
  await expect(page.locator('#pending-list > li')).toHaveCount(1);
  await expectAccessible(page, 'my reports, pending offline');
  await phone.setOffline(false);
  await expect(page.locator('#sent-list > li')).not.toHaveCount(0);
  await expect(page.locator('#pending-list > li')).toHaveCount(0);
  await expect(page.locator('#sent-list ol.timeline li').first()).toBeVisible();
  await expectAccessible(page, 'my reports, sent');

  // A sent receipt ("me too" path): back to the flow and say "me too" on the existing one.
  await page.getByRole('link', { name: 'Signaler', exact: true }).tap();
  await chooseCategory(page, 'tags-graffitis');
  await expect(page.locator('#gps-status')).toContainText('± 15 m');
  await page.getByRole('button', { name: 'Continuer' }).tap();
  await page.locator(`li.nearby-item[data-number="${existing}"]`).getByRole('button').tap();
  await expect(page.locator('#receipt-number')).toHaveText(existing);
  await expectAccessible(page, 'receipt, sent');

  // English.
  await page.getByRole('button', { name: 'Switch to English' }).tap();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.getByRole('heading', { level: 1, name: 'Thank you, noted' })).toBeVisible();
  await expectAccessible(page, 'receipt, sent (English)');
  await page.getByRole('link', { name: /^My requests/ }).tap();
  await expect(page.getByRole('heading', { level: 1, name: 'My requests' })).toBeFocused();
  await expectAccessible(page, 'my reports (English)');
  await page.getByRole('link', { name: 'Report', exact: true }).tap();
  await chooseCategoryEn(page);
  await expectAccessible(page, '2 place (English)');

  await phone.close();
});

async function chooseCategoryEn(page: import('@playwright/test').Page): Promise<void> {
  await page.getByRole('button', { name: 'Tags and graffiti' }).tap();
  await expect(page.getByRole('heading', { level: 1, name: 'Where is it?' })).toBeFocused();
  await expect(page.locator('#gps-status')).toContainText('± 15 m');
}
