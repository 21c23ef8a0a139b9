import AxeBuilder from '@axe-core/playwright';
import { devices, expect, type APIRequestContext, type Browser, type BrowserContext, type Page } from '@playwright/test';

export const BASE_URL = process.env.GUICHET_E2E_URL!;
export const RENNES = { latitude: 48.1113, longitude: -1.68 };

export interface Spot {
  lat: number;
  lon: number;
}

/** A phone: Pixel 7 viewport, touch, French, geolocation granted at `geo`. */
export async function newPhone(
  browser: Browser,
  geo: { latitude: number; longitude: number; accuracy?: number },
  extra: Parameters<Browser['newContext']>[0] = {},
): Promise<BrowserContext> {
  return browser.newContext({
    ...devices['Pixel 7'],
    baseURL: BASE_URL,
    locale: 'fr-FR',
    timezoneId: 'Europe/Paris',
    permissions: ['geolocation'],
    geolocation: { accuracy: 10, ...geo },
    serviceWorkers: 'allow',
    ...extra,
  });
}

export function distanceM(a: Spot, b: Spot): number {
  const R = 6371008.8;
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(h));
}

/**
 * A random point in Rennes with no open request of `category` (or its dedup group) within 200 m,
 * and far from `avoid`: the tests may run again and again on the same database.
 */
export async function freeSpot(request: APIRequestContext, category: string, avoid: Spot[] = []): Promise<Spot> {
  for (let i = 0; i < 50; i++) {
    const spot = {
      lat: Math.round((48.095 + Math.random() * 0.03) * 1e5) / 1e5,
      lon: Math.round((-1.71 + Math.random() * 0.06) * 1e5) / 1e5,
    };
    if (avoid.some((a) => distanceM(a, spot) < 400)) continue;
    const res = await request.get(`/api/v1/reports/nearby?lat=${spot.lat}&lon=${spot.lon}&category=${category}&radius_m=300`);
    expect(res.status()).toBe(200);
    if ((await res.json()).items.length === 0) return spot;
  }
  throw new Error('no free spot found in Rennes');
}

/** A small JPEG, different every time (random blocks), drawn by the browser. */
export async function makeJpeg(page: Page, w = 800, h = 600): Promise<Buffer> {
  const b64 = await page.evaluate(async ([w, h]) => {
    const c = new OffscreenCanvas(w, h);
    const ctx = c.getContext('2d')!;
    ctx.fillStyle = '#777';
    ctx.fillRect(0, 0, w, h);
    for (let i = 0; i < 60; i++) {
      ctx.fillStyle = `hsl(${Math.random() * 360} 60% ${20 + Math.random() * 60}%)`;
      ctx.fillRect(Math.random() * w, Math.random() * h, (Math.random() * w) / 3, (Math.random() * h) / 3);
    }
    const blob = await c.convertToBlob({ type: 'image/jpeg', quality: 0.85 });
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  }, [w, h] as const);
  return Buffer.from(b64, 'base64');
}

/** Runs axe-core with the WCAG 2.0/2.1 A and AA rules; fails with a readable list. */
export async function expectAccessible(page: Page, screen: string): Promise<void> {
  // Let the screen settle (fonts, map tiles-less layers, images).
  await page.waitForLoadState('domcontentloaded');
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  const lines = results.violations.map(
    (v) => `- ${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary?.replace(/\n/g, ' ')}`).join('\n')}`,
  );
  expect(lines, `axe-core violations on screen "${screen}":\n${lines.join('\n')}`).toEqual([]);
  console.log(`  axe: "${screen}" — ${results.passes.length} rules pass, 0 violations`);
}

/** The coordinates as the app shows them in French (5 decimals, comma, any minus sign). */
export function frCoord(x: number): string {
  return x.toFixed(5).replace('.', ',').replace('-', '[-−]');
}

export function gpsText(spot: Spot, accuracy: number): RegExp {
  return new RegExp(`${frCoord(spot.lat)}, ${frCoord(spot.lon)} — précision ± ${accuracy} m`);
}

export interface PublicView {
  number: string;
  report_count: number;
  photos: unknown[];
  status_label: string;
  phase: string;
  location?: unknown;
  timeline: { at: string; kind: string; label: string }[];
}

export async function publicView(request: APIRequestContext, number: string, tracking: string): Promise<PublicView> {
  const res = await request.get(`/api/v1/requests/${number}?tracking_code=${encodeURIComponent(tracking)}`);
  expect(res.status(), await res.text()).toBe(200);
  return res.json();
}

/** Waits until a service worker controls the page (so the app shell is cached). */
export async function waitForServiceWorker(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise<void>((resolve) => navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true }));
    }
  });
}

/** Screen 1 → 2: picks a category by its code. */
export async function chooseCategory(page: Page, code: string): Promise<void> {
  await page.locator(`button.choice[data-code="${code}"]`).tap();
  await expect(page.getByRole('heading', { level: 1, name: 'Où est-ce ?' })).toBeFocused();
}
