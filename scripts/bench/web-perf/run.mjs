// Lighthouse (mobile profile: a mid-range phone, simulated slow 4G and 4× CPU slowdown) on the
// pages named on the command line, RUNS times each with a fresh Chromium, and the median of
// each figure. Called by scripts/bench/lighthouse, which starts the server.
//
//   node run.mjs RUNS URL...      (CHROME_PATH: the browser, default /usr/bin/chromium)
import { launch } from 'chrome-launcher';
import lighthouse from 'lighthouse';

const [runsArg, ...urls] = process.argv.slice(2);
const runs = Number(runsArg);
if (!Number.isInteger(runs) || runs < 1 || urls.length === 0) {
  console.error('usage: node run.mjs RUNS URL...');
  process.exit(2);
}

// Debian's Chromium, headless, and quiet: nothing may reach outside this machine.
const flags = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const rows = [];
for (const url of urls) {
  const got = [];
  let failures = 0;
  for (let i = 0; i < runs; i++) {
    const chrome = await launch({ chromePath: process.env.CHROME_PATH ?? '/usr/bin/chromium', chromeFlags: flags });
    try {
      const result = await lighthouse(url, {
        port: chrome.port,
        output: 'json',
        logLevel: 'error',
        onlyCategories: ['performance', 'accessibility'],
      });
      const lhr = result.lhr;
      if (lhr.runtimeError) {
        // A trace lost on a busy machine (NO_NAVSTART…): that run again, a few times at most.
        console.error(`  ${url}: ${lhr.runtimeError.code}, run again`);
        if (++failures > 3) throw new Error(`${url}: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
        i--;
        continue;
      }
      const a = lhr.audits;
      const run = {
        performance: Math.round(lhr.categories.performance.score * 100),
        accessibility: Math.round(lhr.categories.accessibility.score * 100),
        lcp: a['largest-contentful-paint'].numericValue / 1000,
        fcp: a['first-contentful-paint'].numericValue / 1000,
        tbt: a['total-blocking-time'].numericValue,
        kib: a['total-byte-weight'].numericValue / 1024,
      };
      got.push(run);
      const failing = Object.values(a)
        .filter((x) => x.score !== null && x.score < 0.9 && ['binary', 'numeric', 'metricSavings'].includes(x.scoreDisplayMode) && x.details?.type !== 'debugdata')
        .map((x) => `${x.id} (${x.score})`);
      console.error(`  ${url} run ${i + 1}: perf ${run.performance}, LCP ${run.lcp.toFixed(2)} s, ${run.kib.toFixed(0)} KiB, a11y ${run.accessibility}` +
        (process.env.LIGHTHOUSE_VERBOSE ? `\n    below 0.9: ${failing.join(', ') || 'none'}` : ''));
      if (process.env.LIGHTHOUSE_VERBOSE) {
        for (const x of Object.values(a)) {
          if (x.score !== null && x.score < 1 && lhr.categories.accessibility.auditRefs.some((r) => r.id === x.id)) {
            console.error(`    a11y ${x.id}: ${x.title} ${JSON.stringify(x.details?.items?.map((it) => it.node?.snippet ?? it.node?.selector) ?? [])}`);
          }
        }
        for (const it of a['network-requests'].details.items) {
          console.error(`    ${String(Math.round(it.transferSize / 1024)).padStart(5)} KiB ${it.url}`);
        }
        console.error(`    LCP element: ${JSON.stringify(a['largest-contentful-paint-element']?.details?.items?.[0]?.items?.[0]?.node?.snippet ?? '')}`);
        for (const id of ['first-contentful-paint', 'speed-index', 'largest-contentful-paint', 'total-blocking-time', 'cumulative-layout-shift', 'interactive']) {
          console.error(`    ${id}: ${a[id].displayValue} (score ${a[id].score})`);
        }
        for (const it of (a['layout-shifts'] ?? a['layout-shift-elements'])?.details?.items ?? []) console.error(`    shift ${JSON.stringify(it.score ?? it.cumulativeLayoutShiftScore)} ${it.node?.snippet ?? ''}`);
      }
    } finally {
      await chrome.kill();
    }
  }
  rows.push({
    url,
    performance: median(got.map((r) => r.performance)),
    lcp: median(got.map((r) => r.lcp)),
    fcp: median(got.map((r) => r.fcp)),
    tbt: median(got.map((r) => r.tbt)),
    kib: median(got.map((r) => r.kib)),
    accessibility: median(got.map((r) => r.accessibility)),
  });
}

console.log(`| page | performance | LCP | FCP | TBT | total bytes | accessibility |`);
console.log(`|---|---|---|---|---|---|---|`);
for (const r of rows) {
  const path = new URL(r.url).pathname + new URL(r.url).hash;
  console.log(`| \`${path}\` | ${r.performance} | ${r.lcp.toFixed(2)} s | ${r.fcp.toFixed(2)} s | ${Math.round(r.tbt)} ms | ${Math.round(r.kib)} KiB | ${r.accessibility} |`);
}
console.log(`\nmedian of ${runs} runs per page`);
