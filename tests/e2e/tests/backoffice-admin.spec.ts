// The back office's supervisor and admin screens at 1280 px, against a server of their own
// (server.ts): a supervisor downloads the queue's CSV and ODS exports, which are opened and
// read here; the dashboard and the map of the queue (clusters zoom, a request opens); an admin
// adds a routing rule that sends the next voirie report to another team, and the report lands
// in that team's queue and not in voirie's; an agent is created, deactivated (no login) and
// reactivated; the démarche editor checks its JSON before
// sending and saves a new revision; axe-core on every screen, and in English on a tablet.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { expect, request as playwrightRequest, test, type APIRequestContext, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { expectAccessible } from './helpers';
import { startServer, type Server } from './server';

const PASSWORD = 'guichet-demo';
const SUPERVISOR = 'superviseur.voirie@guichet.example';
const ADMIN = 'admin@guichet.example';
const VOIRIE = 'agent.voirie@guichet.example';
const PROPRETE = 'agent.proprete@guichet.example';

let server: Server;
let api: APIRequestContext;

test.beforeAll(async () => {
  server = await startServer('backoffice_admin');
  api = await playwrightRequest.newContext({ baseURL: server.url });
});

test.afterAll(async () => {
  await api?.dispose();
  await server?.stop();
});

async function desk(browser: Browser, viewport = { width: 1280, height: 900 }): Promise<BrowserContext> {
  return browser.newContext({ baseURL: server.url, viewport, locale: 'fr-FR', timezoneId: 'Europe/Paris', acceptDownloads: true });
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

async function queueNumbers(email: string, query: string): Promise<string[]> {
  const token = await agentToken(email);
  const res = await api.get(`/api/v1/agent/requests?${query}&limit=200`, { headers: { Authorization: `Bearer ${token}` } });
  expect(res.status(), await res.text()).toBe(200);
  return (await res.json()).items.map((i: { number: string }) => i.number);
}

/** A random spot in Rennes, far from the others this file used (no accidental duplicates). */
const used: { lat: number; lon: number }[] = [];
function spot(central = false): { lat: number; lon: number } {
  for (;;) {
    // Central: well inside the commune of Rennes (35238), for the rule that names it.
    const s = central
      ? { lat: 48.104 + Math.random() * 0.014, lon: -1.695 + Math.random() * 0.03 }
      : { lat: 48.095 + Math.random() * 0.03, lon: -1.71 + Math.random() * 0.06 };
    if (used.every((u) => Math.hypot((u.lat - s.lat) * 111_000, (u.lon - s.lon) * 74_000) > 500)) {
      used.push(s);
      return s;
    }
  }
}

async function fileReport(description: string, central = false): Promise<string> {
  const at = spot(central);
  const res = await api.post('/api/v1/reports', {
    multipart: {
      report: JSON.stringify({ client_id: randomUUID(), category: 'voirie', lat: at.lat, lon: at.lon, accuracy_m: 5, description, contact: { email: 'awena@example.org', name: 'Awena Citoyenne' } }),
    },
  });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()).request_number;
}

/** The entries of a zip file, read from its central directory (the export streams its entries
 * with data descriptors, so the local headers do not hold the sizes). */
function unzip(buf: Buffer): Map<string, Buffer> {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  expect(eocd, 'end of central directory').toBeGreaterThanOrEqual(0);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    expect(buf.readUInt32LE(p)).toBe(0x02014b50);
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    expect(buf.readUInt32LE(local)).toBe(0x04034b50);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + size);
    out.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** RFC 4180 rows (quoted fields with "" and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

test('a supervisor downloads the filtered queue as CSV and ODS, and both hold its rows', async ({ browser }) => {
  const a = await fileReport('=SOMME(A1:A9) nid-de-poule devant l’école');
  const b = await fileReport('Trottoir affaissé.');
  const ctx = await desk(browser);
  const page = await ctx.newPage();
  await logIn(page, SUPERVISOR, '/backoffice/?demarche=voirie&sort=oldest');
  await expect(page.locator('#queue tbody tr').first()).toBeVisible();
  const expected = await queueNumbers(SUPERVISOR, 'demarche=voirie');
  expect(expected).toEqual(expect.arrayContaining([a, b]));

  const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Exporter (CSV)' }).click()]);
  expect(csvDownload.suggestedFilename()).toMatch(/\.csv$/);
  const csvBytes = readFileSync((await csvDownload.path())!);
  expect([...csvBytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const rows = parseCsv(csvBytes.subarray(3).toString('utf8'));
  expect(rows[0].slice(0, 3)).toEqual(['Numéro', 'Démarche', 'Code démarche']);
  const body = rows.slice(1).filter((r) => r.length > 1);
  // The view's filter went with the download: voirie only, every one of them, in the view's order.
  expect(body.map((r) => r[0]).sort()).toEqual([...expected].sort());
  expect(body.every((r) => r[2] === 'voirie')).toBe(true);
  const numbers = body.map((r) => r[0]);
  expect(numbers.indexOf(a)).toBeLessThan(numbers.indexOf(b));

  const [odsDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Exporter (ODS)' }).click()]);
  expect(odsDownload.suggestedFilename()).toMatch(/\.ods$/);
  const zip = unzip(readFileSync((await odsDownload.path())!));
  expect(zip.get('mimetype')?.toString()).toBe('application/vnd.oasis.opendocument.spreadsheet');
  const content = zip.get('content.xml')?.toString('utf8') ?? '';
  expect(content).toContain('<text:p>Numéro</text:p>');
  const odsRows = content.match(/<table:table-row\b/g) ?? [];
  expect(odsRows.length).toBe(expected.length + 1);
  for (const n of [a, b]) expect(content).toContain(`<text:p>${n}</text:p>`);
  await ctx.close();
});

test('the dashboard and the map of the queue: a cluster zooms in, a request opens', async ({ browser }) => {
  await fileReport('Bordure cassée.');
  const ctx = await desk(browser);
  const page = await ctx.newPage();
  await logIn(page, SUPERVISOR);
  await page.getByRole('link', { name: 'Tableau de bord' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Tableau de bord' })).toBeFocused();
  await expect(page.locator('#kpi-open')).toHaveText(/\d/);
  const open = Number((await page.locator('#kpi-open').textContent())!.replace(/\D/g, ''));
  expect(open).toBeGreaterThan(0);
  await expect(page.getByRole('img', { name: 'Demandes déposées par jour' })).toBeVisible();
  const token = await agentToken(SUPERVISOR);
  const dash = await (await api.get('/api/v1/agent/dashboard', { headers: { Authorization: `Bearer ${token}` } })).json();
  expect(open).toBe(dash.open.count);
  await expect(page.locator('#filed-table tbody tr')).toHaveCount(dash.filed_per_day.length);
  // The chart has a bar per day.
  await expect(page.locator('#filed-chart rect')).toHaveCount(dash.filed_per_day.length);
  await expect(page.locator('#open-groups tbody tr').first()).toBeVisible();
  await expectAccessible(page, 'dashboard');
  await page.getByText('Les chiffres par jour (tableau)').click();
  await expectAccessible(page, 'dashboard with the table of days');

  await page.getByRole('link', { name: 'Carte', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Carte des demandes de mes équipes' })).toBeVisible();
  await expect(page.locator('#map-status')).toHaveText(/demande\(s\) dans la zone/);
  await expect(page.locator('.cluster-icon').first()).toBeVisible();
  await expectAccessible(page, 'map of the queue');
  // The filters are the queue's: a filter goes to the URL and the list link keeps it.
  await page.locator('#f-demarche').selectOption('voirie');
  await page.getByRole('button', { name: 'Appliquer les filtres' }).click();
  await expect(page).toHaveURL(/\/backoffice\/map\?demarche=voirie/);
  await expect(page.locator('#map-list-link')).toHaveAttribute('href', /\?demarche=voirie/);
  await expect(page.locator('#map-status')).toHaveText(/demande\(s\) dans la zone/);
  // Clusters zoom in to where they split, until requests show; one opens its page.
  for (let i = 0; i < 8 && !(await page.locator('.request-icon').count()); i++) {
    const cluster = page.locator('.cluster-icon').first();
    await cluster.focus();
    const before = Number(await page.locator('#queue-map').getAttribute('data-zoom'));
    await page.keyboard.press('Enter');
    await expect.poll(async () => Number(await page.locator('#queue-map').getAttribute('data-zoom'))).toBeGreaterThan(before);
  }
  // Where the map looks is in the URL: a reload opens the same place, filters kept.
  const zoomed = (await page.locator('#queue-map').getAttribute('data-zoom'))!;
  await expect(page).toHaveURL(new RegExp(`/backoffice/map\\?demarche=voirie&at=[-\\d.]+%2C[-\\d.]+%2C${zoomed}$`));
  await page.reload();
  await expect(page.locator('#queue-map')).toHaveAttribute('data-zoom', zoomed);
  const marker = page.locator('.request-icon').first();
  await expect(marker).toBeVisible();
  const number = /Demande (\S+)/.exec((await marker.getAttribute('title'))!)![1];
  await expect(page.locator('#map-list').getByRole('link', { name: number })).toBeVisible();
  await expectAccessible(page, 'map of the queue, zoomed in');
  await marker.click();
  await expect(page.getByRole('heading', { level: 1, name: new RegExp(number) })).toBeVisible();
  await ctx.close();
});

test('an admin routing rule sends the next voirie report to another team', async ({ browser }) => {
  const ctx = await desk(browser);
  const page = await ctx.newPage();
  page.on('dialog', (d) => void d.accept());
  await logIn(page, ADMIN);
  await page.getByRole('link', { name: 'Administration' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Agents' })).toBeVisible();
  await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Règles d’aiguillage' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Règles d’aiguillage' })).toBeVisible();
  await expect(page.locator('#rules tbody tr').first()).toBeVisible();
  await expectAccessible(page, 'routing rules');
  // A priority that is not a whole number is said at its field before anything is sent.
  await page.getByLabel('Priorité').fill('-3');
  await page.getByRole('button', { name: 'Ajouter la règle' }).click();
  await expect(page.locator('#rule-priority')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#rule-errors')).toBeFocused();
  await expectAccessible(page, 'routing rules with an error');

  // For Rennes only: the rule for every commune stays, and comes back into play when this one goes.
  await page.getByLabel('Démarche').selectOption('voirie');
  await page.locator('#rule-zone').selectOption('commune:35238');
  await page.getByLabel('Équipe').selectOption('proprete');
  await page.getByLabel('Priorité').fill('1');
  await page.getByRole('button', { name: 'Ajouter la règle' }).click();
  await expect(page.locator('#rule-result')).toContainText('proprete');
  const row = page.locator('#rules tbody tr', { hasText: 'proprete' }).filter({ hasText: 'commune:35238' });
  await expect(row).toHaveCount(1);

  const number = await fileReport('Nid-de-poule après la nouvelle règle.', true);
  expect(await queueNumbers(PROPRETE, 'demarche=voirie')).toContain(number);
  expect(await queueNumbers(VOIRIE, 'demarche=voirie')).not.toContain(number);
  // And in the other team's back office.
  const other = await ctx.browser()!.newContext({ baseURL: server.url, viewport: { width: 1280, height: 900 }, locale: 'fr-FR' });
  const p2 = await other.newPage();
  await logIn(p2, PROPRETE);
  await expect(p2.locator('#queue tbody tr', { hasText: number })).toBeVisible();
  await other.close();

  // The rule goes; the next report is voirie's again.
  await row.getByRole('button', { name: /Supprimer/ }).click();
  await expect(page.locator('#rules tbody tr', { hasText: 'proprete' }).filter({ hasText: 'commune:35238' })).toHaveCount(0);
  const after = await fileReport('Nid-de-poule sans la règle.', true);
  expect(await queueNumbers(VOIRIE, 'demarche=voirie')).toContain(after);
  await ctx.close();
});

test('the other administration screens: agents, teams, webhooks, templates, démarches', async ({ browser }) => {
  const ctx = await desk(browser);
  const page = await ctx.newPage();
  page.on('dialog', (d) => void d.accept());
  await logIn(page, ADMIN);
  const sub = page.getByRole('navigation', { name: 'Administration' });

  await page.getByRole('link', { name: 'Administration' }).first().click();
  await expect(page.locator('#agents tbody tr').first()).toBeVisible();
  await expectAccessible(page, 'agents');
  const email = `agent.${randomUUID().slice(0, 8)}@guichet.example`;
  await page.locator('#agent-email').fill(email);
  await page.locator('#agent-name').fill('Loïc Test');
  await page.locator('#agent-role').selectOption('agent');
  await page.locator('#agent-team-voirie').check();
  await page.locator('#agent-password').fill('x');
  await page.getByRole('button', { name: 'Enregistrer' }).click();
  await expect(page.locator('#agent-errors')).toBeFocused();
  await expect(page.locator('#agent-password')).toHaveAttribute('aria-invalid', 'true');
  await expectAccessible(page, 'agents with an error');
  await page.locator('#agent-password').fill('un mot de passe assez long 42');
  await page.getByRole('button', { name: 'Enregistrer' }).click();
  await expect(page.locator('#agent-result')).toContainText(email);
  await expect(page.locator('#agents tbody tr', { hasText: email })).toContainText('voirie');
  const login = () => api.post('/api/v1/agent/login', { data: { email, password: 'un mot de passe assez long 42' } });
  expect((await login()).status()).toBe(200);
  // Deactivated, the agent cannot log in; active again, they can.
  const agentRow = page.locator(`#agents tbody tr[data-agent="${email}"]`);
  await agentRow.getByRole('button', { name: 'Désactiver Loïc Test' }).click();
  await expect(agentRow.locator('.agent-active')).toHaveText('non');
  expect((await login()).status()).not.toBe(200);
  await agentRow.getByRole('button', { name: 'Réactiver Loïc Test' }).click();
  await expect(agentRow.locator('.agent-active')).toHaveText('oui');
  expect((await login()).status()).toBe(200);
  // No button deactivates oneself.
  await expect(page.locator('#agents tbody tr[data-agent="admin@guichet.example"]').getByRole('button', { name: /Désactiver/ })).toBeHidden();

  await sub.getByRole('link', { name: 'Équipes' }).click();
  await expect(page.locator('#teams tbody tr').first()).toBeVisible();
  await page.locator('#team-code').fill('eclairage');
  await page.locator('#team-name').fill('Éclairage public');
  await page.getByRole('button', { name: 'Enregistrer' }).click();
  await expect(page.locator('#teams tbody tr', { hasText: 'eclairage' })).toContainText('Éclairage public');
  await expectAccessible(page, 'teams');

  await sub.getByRole('link', { name: 'Webhooks' }).click();
  // A loopback address is refused by the server, at the field.
  await page.locator('#hook-url').fill('http://127.0.0.1:9/hook');
  await page.getByRole('button', { name: 'Abonner', exact: true }).click();
  await expect(page.locator('#hook-errors')).toBeFocused();
  await expect(page.locator('#hook-url')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#hook-url-error')).toContainText('webhook-target-forbidden');
  await page.locator('#hook-url').fill('https://93.184.215.14/guichet-hook');
  await page.getByRole('button', { name: 'Abonner', exact: true }).click();
  await expect(page.locator('#hook-secret-value')).toHaveText(/^whsec_[0-9a-f]{64}$/);
  await page.getByRole('button', { name: 'Envois de https://93.184.215.14/guichet-hook' }).click();
  await expect(page.locator('#deliveries-table')).toBeVisible();
  await expectAccessible(page, 'webhooks with deliveries');

  await sub.getByRole('link', { name: 'Modèles de réponse' }).click();
  await page.locator('#tpl-demarche').selectOption('voirie');
  await page.locator('#tpl-title').fill('Réparation programmée');
  await page.locator('#tpl-body').fill('Bonjour, la réparation est programmée.');
  await page.getByRole('button', { name: 'Enregistrer' }).click();
  await expect(page.locator('#templates tbody tr', { hasText: 'Réparation programmée' })).toBeVisible();
  await expectAccessible(page, 'reply templates');

  // A démarche without a place: its form in the editor, the JSON checked before sending.
  const cat = (await (await api.get('/api/v1/catalogue')).json()).demarches as { code: string; geolocated: boolean }[];
  const code = cat.find((d) => !d.geolocated)!.code;
  await sub.getByRole('link', { name: 'Démarches' }).click();
  await page.locator('#demarches').getByRole('link', { name: code, exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: `Démarche ${code}` })).toBeVisible();
  await expect(page.locator('#f-0-label')).toBeVisible();
  await expectAccessible(page, 'démarche editor');
  const rest = await page.locator('#dem-rest').inputValue();
  await page.locator('#dem-rest').fill(`${rest.slice(0, -1)},`);
  await page.getByRole('button', { name: 'Enregistrer une nouvelle révision' }).click();
  await expect(page.locator('#dem-errors')).toBeFocused();
  await expect(page.locator('#dem-errors')).toContainText('JSON invalide');
  await expect(page.locator('#dem-rest')).toHaveAttribute('aria-invalid', 'true');
  await expectAccessible(page, 'démarche editor with an error');
  await page.locator('#dem-rest').fill(rest);
  await page.locator('#f-0-label_en').fill('Edited label');
  await page.getByRole('button', { name: 'Enregistrer une nouvelle révision' }).click();
  await expect(page.locator('#dem-result')).toContainText(/Révision \d+ enregistrée/);
  await expect(page.locator('#f-0-label_en')).toHaveValue('Edited label');
  await expect(page.locator('#revisions tbody tr')).toHaveCount(2);
  // The server's errors land at their field: an empty label.
  await page.locator('#f-0-label').fill('');
  await page.getByRole('button', { name: 'Enregistrer une nouvelle révision' }).click();
  await expect(page.locator('#dem-errors')).toBeFocused();
  await expect(page.locator('#f-0-label')).toHaveAttribute('aria-invalid', 'true');
  // The editor starts from the whole stored entry: what the public catalogue leaves out (the
  // dedup window and family) is there to keep or change.
  await sub.getByRole('link', { name: 'Démarches' }).click();
  await page.locator('#demarches').getByRole('link', { name: 'tags-graffitis', exact: true }).click();
  await expect(page.locator('#f-0-label')).toBeVisible();
  const stored = JSON.parse(await page.locator('#dem-rest').inputValue()) as { dedup: unknown; form?: unknown };
  expect(stored.dedup).toEqual({ radius_m: 20, window_days: 30, group: 'tags' });
  expect(stored.form).toBeUndefined();

  // The audit trail: the agent created above left their logins; the démarche's revisions
  // were an admin's action.
  await sub.getByRole('link', { name: 'Journal d’audit' }).click();
  await expect(page.locator('#audit tbody tr').first()).toBeVisible();
  await expect(page.locator('#audit tbody')).toContainText(`PUT /api/v1/admin/demarches/{code}`);
  await expectAccessible(page, 'audit trail');
  await page.locator('#audit-kind').selectOption('security');
  await page.locator('#audit-target').fill(email);
  await page.getByRole('button', { name: 'Afficher' }).click();
  await expect(page).toHaveURL(/admin\/audit\?kind=security&target=/);
  await expect(page.locator('#audit tbody tr').first()).toContainText('agent.authenticated');
  await expect(page.locator('#audit tbody')).toContainText('agent.authentication-failed');
  await expect(page.locator('#audit tbody')).not.toContainText('PUT /api/v1');
  const csv = await page.locator('#audit-export').getAttribute('href');
  expect(csv).toContain('format=csv');
  expect(csv).toContain('kind=security');
  await expectAccessible(page, 'audit trail, filtered');
  await ctx.close();
});

test('the new screens in English on a tablet', async ({ browser }) => {
  const ctx = await desk(browser, { width: 800, height: 1100 });
  const page = await ctx.newPage();
  await logIn(page, ADMIN);
  await page.getByRole('button', { name: 'Switch to English' }).click();
  for (const [path, heading] of [['dashboard', 'Dashboard'], ['map', 'Map of my teams’ requests'], ['admin/agents', 'Agents'], ['admin/routing', 'Routing rules'], ['admin/webhooks', 'Webhooks'], ['admin/audit', 'Audit trail'], ['templates', 'Reply templates'], ['admin/demarches', 'Démarches']]) {
    await page.goto(`/backoffice/${path}`);
    await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
    await expect(page.locator('main')).not.toContainText('Loading…');
    await expectAccessible(page, `${path} (English, tablet)`);
  }
  await ctx.close();
});
