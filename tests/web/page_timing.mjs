// The leader page's first render on a running server (a benchmark tool:
// tests/bench/school_view/run.sh calls it on a school year; it asserts
// nothing). Logs in through /login with a one-time code in headless
// Chromium (Debian's), then loads /overview ROUNDS times and prints one JSON
// line: first contentful paint and full load per round, in ms.
//   node tests/web/page_timing.mjs URL LOGIN_CODE [QUERY] [ROUNDS]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [url, code, query = '', rounds = '5'] = process.argv.slice(2);
if (!url || !code) {
  console.error('usage: node tests/web/page_timing.mjs URL LOGIN_CODE [QUERY] [ROUNDS]');
  process.exit(2);
}
const profile = mkdtempSync(path.join(os.tmpdir(), 'tandem-timing-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-quic', '--disable-sync', '--no-first-run'],
});
try {
  const page = context.pages()[0] ?? await context.newPage();
  await page.goto(`${url}/login`);
  await page.locator('input[name=code]').fill(code);
  await Promise.all([page.waitForURL(/\/overview/), page.locator('form button[type=submit]').first().click()]);
  const fcp = [], load = [], bytes = [];
  for (let i = 0; i < Number(rounds); i++) {
    const res = await page.goto(`${url}/overview${query ? `?${query}` : ''}`);
    bytes.push((await res.body()).length);
    const t = await page.evaluate(() => new Promise((resolve) => {
      const nav = performance.getEntriesByType('navigation')[0];
      new PerformanceObserver((list) => {
        const e = list.getEntriesByName('first-contentful-paint')[0];
        if (e) resolve({ fcp: e.startTime, load: nav.loadEventEnd });
      }).observe({ type: 'paint', buffered: true });
      setTimeout(() => resolve({ fcp: NaN, load: nav.loadEventEnd }), 5000);
    }));
    fcp.push(Math.round(t.fcp));
    load.push(Math.round(t.load));
  }
  console.log(JSON.stringify({ first_contentful_paint_ms: fcp, load_ms: load, html_bytes: bytes[0] }));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
