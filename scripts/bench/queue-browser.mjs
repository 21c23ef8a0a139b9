// Time from navigation to a usable queue in the back office, in Debian's Chromium driven by
// playwright-core (from tests/e2e): logged in once with the session cookie, then N loads of
// /backoffice/ each timed from the navigation until the first row of the queue is on screen.
// Prints one Markdown table row. Run by scripts/bench/queue against its seeded server.
// Usage: node scripts/bench/queue-browser.mjs BASE_URL EMAIL [RUNS]
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.resolve('tests/e2e/package.json'));
const { chromium } = require('playwright-core');

const [base, email, runsText] = process.argv.slice(2);
const runs = Number(runsText ?? 20);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' });
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'fr-FR' });
const page = await context.newPage();
await page.goto(`${base}/backoffice/`);
await page.getByLabel('Adresse e-mail').fill(email);
await page.getByLabel('Mot de passe').fill('guichet-demo');
await page.getByRole('button', { name: 'Se connecter' }).click();
const firstRow = page.locator('#queue tbody tr[data-number]').first();
await firstRow.waitFor();

const times = [];
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  await page.goto(`${base}/backoffice/`, { waitUntil: 'commit' });
  await firstRow.waitFor();
  times.push(performance.now() - started);
}
await browser.close();
times.sort((a, b) => a - b);
const at = (q) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)];
console.log(`| navigation to a usable queue (first row on screen), ${runs} loads | ${at(0.5).toFixed(0)} | ${at(0.95).toFixed(0)} | ${times[times.length - 1].toFixed(0)} |`);
