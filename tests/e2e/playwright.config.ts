// Browser end-to-end tests of the citizen web app against a real `guichet serve` (demo data and
// the built UI), whose address is in GUICHET_E2E_URL. The browser is Debian's Chromium
// (`apt-get install chromium`); nothing is downloaded (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 when
// installing, and `npx playwright install` is never needed).
import { defineConfig, devices } from '@playwright/test';

const baseURL = process.env.GUICHET_E2E_URL;
if (!baseURL) {
  throw new Error('Set GUICHET_E2E_URL to the address of a running `guichet serve` (demo data loaded, UI built), e.g. http://127.0.0.1:8090');
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export default defineConfig({
  testDir: './tests',
  // The machines are small and shared: one browser at a time.
  workers: 1,
  fullyParallel: false,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  // In CI a journey that fails is run once more and reported as flaky (the list shows it), so
  // that a shared machine's hiccup does not hide the rest of the run; locally, never.
  retries: process.env.CI ? 1 : 0,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    ...devices['Pixel 7'],
    baseURL,
    browserName: 'chromium',
    locale: 'fr-FR',
    timezoneId: 'Europe/Paris',
    permissions: ['geolocation'],
    geolocation: { latitude: 48.1113, longitude: -1.68, accuracy: 25 },
    serviceWorkers: 'allow',
    actionTimeout: 20_000,
    navigationTimeout: 30_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
    },
  },
});
