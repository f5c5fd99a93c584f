// Loads topoguard's HTML report in headless Chromium (Debian's package, driven by
// playwright-core) and checks it: no console error or page error, the SVG graphs are there,
// each filter hides exactly the rows it should, and a screenshot is written. Then renders every
// Mermaid diagram of the runbooks given with the `mermaid` package in a page, failing on a
// parse or render error.
//
// usage: node report.mjs REPORT.html SCREENSHOT.png [RUNBOOK.md ...]
// Prints one JSON line with what it saw; exits 1 on the first failed expectation.

import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [report, screenshot, ...runbooks] = process.argv.slice(2);
const here = dirname(fileURLToPath(import.meta.url));
const failures = [];
const expect = (ok, what) => { if (!ok) failures.push(what); };

// A new, empty profile directory (playwright takes it as the persistent context's directory).
const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'topoguard-chromium-')), {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1400, height: 1000 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const seen = {};
try {
  const page = await browser.newPage();
  const errors = [];
  const requests = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
  await page.goto(pathToFileURL(report).href);

  seen.svgs = await page.locator('svg.app-graph').count();
  seen.svgNodes = await page.locator('svg.app-graph g.node rect').count();
  expect(seen.svgs > 0 && seen.svgNodes > 0, 'no SVG graph with nodes');
  // Every graph draws zone, account and region frames and a legend; every node box lies inside
  // an account frame of its graph, and no two node boxes of a graph overlap (as rendered).
  seen.frames = await page.$$eval('svg.app-graph', (svgs) => svgs.map((svg) => {
    const box = (r) => r.getBBox();
    const inside = (a, b) => a.x >= b.x && a.y >= b.y && a.x + a.width <= b.x + b.width && a.y + a.height <= b.y + b.height;
    const overlap = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
    const nodes = [...svg.querySelectorAll('g.node rect')].map(box);
    const accounts = [...svg.querySelectorAll('rect.frame.account')].map(box);
    let overlaps = 0;
    nodes.forEach((a, i) => nodes.slice(i + 1).forEach((b) => { if (overlap(a, b)) overlaps++; }));
    return {
      app: svg.dataset.app,
      zones: svg.querySelectorAll('rect.frame.zone').length,
      accounts: accounts.length,
      regions: svg.querySelectorAll('rect.frame.region').length,
      legend: svg.querySelectorAll('g.legend rect').length,
      outside: nodes.filter((n) => !accounts.some((a) => inside(n, a))).length,
      overlaps,
    };
  }));
  for (const f of seen.frames) {
    expect(f.zones > 0 && f.accounts > 0 && f.regions > 0, `${f.app}: no zone/account/region frames`);
    expect(f.legend > 0, `${f.app}: no legend`);
    expect(f.outside === 0, `${f.app}: ${f.outside} node boxes outside every account frame`);
    expect(f.overlaps === 0, `${f.app}: ${f.overlaps} overlapping node boxes`);
  }

  const visible = () => page.$$eval('#findings tr.finding', (rows) => rows
    .filter((r) => r.style.display !== 'none')
    .map((r) => ({ s: r.dataset.severity, a: r.dataset.apps, c: r.dataset.check })));
  const all = await visible();
  seen.findings = all.length;
  expect(all.length > 0, 'no finding rows');
  for (const [select, key, pick] of [
    ['#f-severity', 's', (r) => r.s],
    ['#f-check', 'c', (r) => r.c],
  ]) {
    const value = pick(all[all.length - 1]);
    await page.selectOption(select, value);
    const rows = await visible();
    expect(rows.length > 0 && rows.every((r) => r[key] === value), `${select}=${value} shows other rows`);
    expect(rows.length === all.filter((r) => r[key] === value).length, `${select}=${value} hides matching rows`);
    seen[select] = { value, rows: rows.length };
    await page.selectOption(select, '');
  }
  const app = (await page.$$eval('#f-app option', (o) => o.map((x) => x.value))).filter((v) => v)[0];
  await page.selectOption('#f-app', app);
  const appRows = await visible();
  expect(appRows.every((r) => r.a.includes(` ${app} `)), `#f-app=${app} shows other rows`);
  expect(appRows.length === all.filter((r) => r.a.includes(` ${app} `)).length, `#f-app=${app} hides rows`);
  seen.app = { value: app, rows: appRows.length };
  await page.selectOption('#f-app', '');
  expect((await visible()).length === all.length, 'clearing the filters does not show every row');

  await page.screenshot({ path: screenshot, fullPage: false });
  seen.errors = errors;
  seen.requests = requests;
  expect(errors.length === 0, `console errors: ${errors.join(' | ')}`);
  expect(requests.length === 0, `network requests: ${requests.join(' ')}`);

  // Mermaid diagrams of the runbooks, rendered in a page with the npm package.
  if (runbooks.length > 0) {
    const mpage = await browser.newPage();
    const merrors = [];
    mpage.on('pageerror', (e) => merrors.push(String(e)));
    await mpage.setContent('<!DOCTYPE html><html><body><div id="out"></div></body></html>');
    await mpage.addScriptTag({ path: join(here, 'node_modules/mermaid/dist/mermaid.min.js') });
    seen.diagrams = 0;
    for (const file of runbooks) {
      const text = readFileSync(file, 'utf8');
      const blocks = [...text.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]);
      expect(blocks.length > 0, `${file}: no mermaid block`);
      for (const [i, code] of blocks.entries()) {
        const result = await mpage.evaluate(async ([code, id]) => {
          try {
            window.mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
            await window.mermaid.parse(code);
            const { svg } = await window.mermaid.render(id, code);
            return { ok: svg.includes('<svg') };
          } catch (e) {
            return { ok: false, error: String(e && e.message || e) };
          }
        }, [code, `d${seen.diagrams}`]);
        expect(result.ok, `${file} diagram ${i}: ${result.error || 'no svg'}`);
        seen.diagrams++;
      }
    }
    expect(merrors.length === 0, `mermaid page errors: ${merrors.join(' | ')}`);
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify({ seen, failures }));
process.exit(failures.length === 0 ? 0 : 1);
