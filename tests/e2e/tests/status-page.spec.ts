// The status page a citizen reaches from an e-mail: the link of the acknowledgement opens it
// (no account, no script needed), in French with English a click away; once the incident is
// resolved, "not fixed" with a photo reopens it; the e-mail's other link stops the e-mails
// after a confirmation; and a receipt's number and code open the same page. axe-clean at
// every step. One server for the file, with the SMTP listener that receives the e-mails.
import { randomUUID } from 'node:crypto';
import { expect, request as playwrightRequest, test, type APIRequestContext } from '@playwright/test';
import { expectAccessible, makeJpeg, newPhone, RENNES } from './helpers';
import { startServer, type Server } from './server';

let server: Server;
let api: APIRequestContext;

test.beforeAll(async () => {
  server = await startServer('status');
  api = await playwrightRequest.newContext({ baseURL: server.url });
});

test.afterAll(async () => {
  await api?.dispose();
  await server?.stop();
});

function linkIn(text: string, pred: (url: string) => boolean): string {
  const found = text.split(/\s+/).find((w) => w.startsWith('http') && pred(w));
  if (!found) throw new Error(`no such link in:\n${text}`);
  return found;
}

test('the status page from the e-mail: read, English, not fixed with a photo, stop the e-mails, number and code', async ({ browser }) => {
  const phone = await newPhone(browser, RENNES, { baseURL: server.url });
  const page = await phone.newPage();

  const created = await api.post('/api/v1/reports', {
    multipart: {
      report: JSON.stringify({
        client_id: randomUUID(), category: 'voirie', lat: RENNES.latitude, lon: RENNES.longitude, accuracy_m: 6,
        description: 'Nid-de-poule devant l’arrêt de bus.', contact: { email: 'suivi@example.org' },
      }),
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const { request_number: number, tracking_code: code } = await created.json() as { request_number: string; tracking_code: string };

  // The acknowledgement's link.
  const ack = await server.mailbox.waitFor((m) => m.to.includes('suivi@example.org'));
  const follow = linkIn(ack.text, (u) => u.includes('/suivi/') && !u.includes('/arret'));
  await page.goto(follow);
  await expect(page.getByRole('heading', { level: 1, name: `Suivi de la demande ${number}` })).toBeVisible();
  await expect(page.locator('#status')).not.toBeEmpty();
  await expect(page.getByRole('heading', { name: 'Historique' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'À quoi sert ce lien ou ce code ?' })).toBeVisible();
  await expectAccessible(page, 'status page (fr)');

  await page.getByRole('link', { name: 'English version' }).click();
  await expect(page.getByRole('heading', { level: 1, name: `Request ${number}` })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'History' })).toBeVisible();
  await expectAccessible(page, 'status page (en)');

  // The service resolves it; the page now offers "not fixed".
  const login = await api.post('/api/v1/agent/login', { data: { email: 'agent.voirie@guichet.example', password: 'guichet-demo' } });
  expect(login.status(), await login.text()).toBe(200);
  const token = (await login.json()).token as string;
  for (const status of ['acknowledged', 'resolved']) {
    const moved = await api.post(`/api/v1/agent/requests/${number}/status`, {
      headers: { authorization: `Bearer ${token}` }, data: { status },
    });
    expect(moved.status(), await moved.text()).toBe(204);
  }
  await page.goto(follow);
  const notFixed = page.getByRole('heading', { name: 'Le problème n\'est pas réglé ?' });
  await expect(notFixed).toBeVisible();
  await expectAccessible(page, 'status page, resolved');

  // Sent without a photo, the browser itself refuses (required); with one, it reopens.
  await page.getByLabel('Photo du problème aujourd\'hui').setInputFiles({ name: 'encore.jpg', mimeType: 'image/jpeg', buffer: await makeJpeg(page) });
  await page.getByLabel('Ce que vous constatez (facultatif)').fill('Le trou est revenu après la pluie.');
  await page.getByRole('button', { name: 'Signaler que ce n\'est pas réglé' }).click();
  await expect(page.getByRole('status')).toContainText('la demande est rouverte');
  await expect(page.locator('#timeline img').first()).toBeVisible();
  await expectAccessible(page, 'status page, reopened');

  // The stop link of the e-mails: a page first, the button stops.
  const stop = linkIn(ack.text, (u) => u.includes('/arret?follow='));
  await page.goto(stop);
  await expect(page.getByRole('heading', { level: 1, name: 'Arrêter les e-mails' })).toBeVisible();
  await expectAccessible(page, 'stop the e-mails');
  await page.getByRole('button', { name: 'Ne plus recevoir d\'e-mails' }).click();
  await expect(page.getByRole('status')).toContainText('vous ne recevrez plus d\'e-mails');

  // The receipt's number and code, typed in (by keyboard).
  await page.goto('/suivi');
  await expect(page.getByRole('heading', { level: 1, name: 'Suivre une demande' })).toBeVisible();
  await expectAccessible(page, 'follow a request');
  await page.getByLabel('Numéro de la demande').fill(number);
  await page.getByLabel('Code de suivi').fill('AAAA-BBBB-CCCC');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('alert')).toContainText('Aucune demande ne correspond');
  await expectAccessible(page, 'follow a request, wrong code');
  await page.getByLabel('Code de suivi').fill(code);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: `Suivi de la demande ${number}` })).toBeVisible();
  await expect(page.getByText('Le code de suivi vous a été remis')).toBeVisible();
  expect(page.url()).not.toContain(code);

  // The accessibility statement, from the footer of the page and of the app.
  await page.getByRole('link', { name: 'Accessibilité : partiellement conforme' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Déclaration d\'accessibilité' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Voies de recours' })).toBeVisible();
  await expect(page.getByText('Défenseur des droits').first()).toBeVisible();
  await expectAccessible(page, 'accessibility statement');
  await page.goto('/');
  await page.getByRole('link', { name: 'Accessibilité : partiellement conforme' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Déclaration d\'accessibilité' })).toBeVisible();
  await phone.close();
});
