// The desktop build of the citizen app, launched for one journey file: its own tauri-driver
// (which starts WebKitWebDriver, which starts the app) with its own home for settings, the
// SQLite outbox and the webview's storage, so that launches never share state. The X display
// comes from Xvfb (scripts/lib/native.sh runs the journeys under xvfb-run).
//
// Needs GUICHET_NATIVE_APP (the app's binary) and TAURI_DRIVER (the tauri-driver binary).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Builder, By, until } from 'selenium-webdriver';
import { env, freePort } from './server.mjs';

export { By, until };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The app's identifier (tauri.conf.json): the name of its folders under XDG's. */
export const IDENTIFIER = 'fr.guichet.citoyen';

/**
 * Launches the app. `serverUrl` goes to GUICHET_SERVER_URL; `settings` (TOML) is written to the
 * app's settings file first. Resolves once the first screen is shown, with the time it took.
 */
export async function launchApp({ serverUrl, settings } = {}) {
  const home = mkdtempSync(join(tmpdir(), 'guichet-app-'));
  const xdg = {
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CACHE_HOME: join(home, 'cache'),
  };
  const configDir = join(xdg.XDG_CONFIG_HOME, IDENTIFIER);
  mkdirSync(configDir, { recursive: true });
  if (settings !== undefined) writeFileSync(join(configDir, 'settings.toml'), settings);

  const port = await freePort();
  const nativePort = await freePort();
  const appEnv = { ...process.env, ...xdg };
  delete appEnv.GUICHET_SERVER_URL;
  if (serverUrl) appEnv.GUICHET_SERVER_URL = serverUrl;
  // tauri-driver, the WebKit driver it starts and the app get a process group of their own, so
  // that quitting ends all three: an app left running would keep the test runner's output open,
  // and the run would wait for it forever.
  const driverProc = spawn(env('TAURI_DRIVER'), ['--port', String(port), '--native-port', String(nativePort)], {
    env: appEnv,
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  const driverUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await fetch(`${driverUrl}/status`);
      break;
    } catch {
      if (i > 100 || driverProc.exitCode !== null) throw new Error('tauri-driver did not start');
      await sleep(100);
    }
  }

  const started = performance.now();
  const driver = await new Builder()
    .usingServer(driverUrl)
    .withCapabilities({ browserName: 'wry', 'tauri:options': { application: env('GUICHET_NATIVE_APP') } })
    .build();
  const title = await driver.wait(until.elementLocated(By.css('main h1')), 30_000);
  await driver.wait(until.elementIsVisible(title), 30_000);
  const firstScreenMs = Math.round(performance.now() - started);

  return {
    driver,
    firstScreenMs,
    home,
    dataDir: join(xdg.XDG_DATA_HOME, IDENTIFIER),
    settingsFile: join(configDir, 'settings.toml'),
    async quit() {
      try {
        await driver.quit();
      } finally {
        const group = (signal) => {
          try {
            process.kill(-driverProc.pid, signal);
          } catch {
            /* the group has already gone */
          }
        };
        group('SIGTERM');
        await Promise.race([
          new Promise((resolve) => (driverProc.exitCode !== null ? resolve() : driverProc.once('exit', resolve))),
          sleep(5000),
        ]);
        // Whatever did not stop on SIGTERM (an app whose driver went first) is stopped now.
        group('SIGKILL');
        rmSync(home, { recursive: true, force: true });
      }
    },
  };
}

// ---- helpers for the screens ----

/**
 * Waits until `check` is true. The screens are redrawn as data arrives, so an element found a
 * moment ago may be gone: that is "not yet", not a failure.
 */
async function until_(driver, check, timeout, what) {
  await driver.wait(async () => {
    try {
      return await check();
    } catch (e) {
      if (e.name === 'StaleElementReferenceError' || e.name === 'NoSuchElementError') return false;
      throw e;
    }
  }, timeout, what);
}

/** Waits for the screen whose title (the `h1`) is `text`. */
export async function waitForScreen(driver, text, timeout = 20_000) {
  let last = '';
  try {
    await until_(driver, async () => {
      last = (await driver.findElement(By.css('main h1')).getText()).trim();
      return last === text;
    }, timeout);
  } catch (e) {
    throw new Error(`screen "${text}": last seen "${last}" (${e.message})`);
  }
}

export async function waitForText(driver, css, re, timeout = 20_000) {
  let last = '';
  try {
    await until_(driver, async () => {
      const els = await driver.findElements(By.css(css));
      last = els.length ? await els[0].getText() : '(absent)';
      return re.test(last);
    }, timeout);
  } catch (e) {
    throw new Error(`${css}: expected ${re}, last seen "${last}" (${e.message})`);
  }
  return last;
}

/** Waits until `count` elements match `css`. */
export async function waitForCount(driver, css, count, timeout = 20_000) {
  let last = 0;
  try {
    await until_(driver, async () => {
      last = (await driver.findElements(By.css(css))).length;
      return last === count;
    }, timeout);
  } catch (e) {
    throw new Error(`${css}: expected ${count}, last seen ${last} (${e.message})`);
  }
}

/** Clicks the element once it is there (it may be redrawn meanwhile). */
export async function click(driver, locator, timeout = 20_000) {
  await until_(driver, async () => {
    await driver.findElement(locator).click();
    return true;
  }, timeout, `click ${locator}`);
}

/** Calls one of the shell's commands from the page, as the UI does. */
export async function invoke(driver, cmd, args = {}) {
  const result = await driver.executeAsyncScript(
    (cmd, args, done) => {
      window.__TAURI_INTERNALS__.invoke(cmd, args).then(
        (value) => done({ ok: true, value }),
        (error) => done({ ok: false, error: String(error) }),
      );
    },
    cmd,
    args,
  );
  return result;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core inside the webview with the WCAG 2.0/2.1 A and AA rules; throws with a readable
 * list of the violations.
 */
export async function expectAccessible(driver, screen) {
  // The app's Content-Security-Policy forbids eval, so axe-core comes in as a WebDriver script
  // of its own (those are not the page's).
  if (!(await driver.executeScript(() => Boolean(window.axe)))) await driver.executeScript(axeSource);
  const results = await driver.executeAsyncScript((done) => {
    window.axe
      .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
      .then(
        (r) => done({ passes: r.passes.length, violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) })) }),
        (e) => done({ error: String(e) }),
      );
  });
  if (results.error) throw new Error(`axe-core failed on "${screen}": ${results.error}`);
  const lines = results.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.targets.join(', ')}`);
  if (lines.length) throw new Error(`axe-core violations on screen "${screen}":\n${lines.join('\n')}`);
  console.log(`  axe: "${screen}" — ${results.passes} rules pass, 0 violations`);
}

/**
 * Stands in for the device's position: `navigator.geolocation` of the webview answers with
 * `spot`. On the desktop no geolocation plugin is registered, so this is what the app's
 * fallback reads (the same as a phone whose plugin is missing).
 */
export async function setPosition(driver, spot, accuracy) {
  await driver.executeScript(
    (lat, lon, accuracy) => {
      const fix = () => ({ coords: { latitude: lat, longitude: lon, accuracy }, timestamp: Date.now() });
      window.__positionAsks = window.__positionAsks ?? 0;
      const geo = {
        getCurrentPosition: (ok) => setTimeout(() => ok(fix()), 10),
        watchPosition: (ok) => {
          window.__positionAsks += 1;
          const id = setInterval(() => ok(fix()), 500);
          setTimeout(() => ok(fix()), 10);
          return id;
        },
        clearWatch: (id) => clearInterval(id),
      };
      Object.defineProperty(navigator, 'geolocation', { value: geo, configurable: true });
    },
    spot.lat,
    spot.lon,
    accuracy,
  );
}
