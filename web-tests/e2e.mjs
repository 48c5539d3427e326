// End-to-end test of the Renxing web one-map: real binary, real Henan units, headless Chromium.
//
//   RENXING_BIN=/path/to/renxing node e2e.mjs
//
// RENXING_SHARED_DATA (default ../../shared/data) must hold cn/admin/henan_admin_wgs84.geojson and
// cn/stats/city_macro.csv; without them the test skips (exit 0) unless RENXING_REQUIRE_SHARED_DATA=1.
// Chromium: /usr/bin/chromium (override with CHROMIUM); no browser is downloaded.
// Screenshots go to out/*.png beside this file.
// RENXING_WEB_DIR=../crates/renxing-server/web serves the front end from disk (the API proxied to
// the binary) to test front-end changes without rebuilding the binary that embeds the files.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(HERE, 'out');
const BIN = process.env.RENXING_BIN;
const SHARED = path.resolve(process.env.RENXING_SHARED_DATA || path.join(HERE, '../../shared/data'));
const UNITS = path.join(SHARED, 'cn/admin/henan_admin_wgs84.geojson');
const CITY_MACRO = path.join(SHARED, 'cn/stats/city_macro.csv');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WEB_DIR = process.env.RENXING_WEB_DIR ? path.resolve(process.env.RENXING_WEB_DIR) : null;

const COUNTY = '410102'; // 中原区, a county of Zhengzhou
const CITY = '410100'; // 郑州市
const IND = 'waterlogging_points'; // binding, at_most
const YEAR = 2025;
const USERS = {
  province: { name: 'henan-admin', unit: '410000', role: 'admin', password: 'henan-admin-pw-1' },
  city: { name: 'zz-admin', unit: CITY, role: 'admin', password: 'zz-admin-pw-1' },
  editor: { name: 'zy-editor', unit: COUNTY, role: 'editor', password: 'zy-editor-pw-1' },
};

if (!BIN) {
  console.error('e2e: set RENXING_BIN to the renxing binary');
  process.exit(1);
}
if (!fs.existsSync(UNITS) || !fs.existsSync(CITY_MACRO)) {
  const reason = `e2e: shared data missing (${UNITS} or ${CITY_MACRO})`;
  if (process.env.RENXING_REQUIRE_SHARED_DATA === '1') {
    console.error(`${reason}; RENXING_REQUIRE_SHARED_DATA=1`);
    process.exit(1);
  }
  console.log(`${reason}: skipped`);
  process.exit(0);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'renxing-e2e-'));
const DB = `sqlite://${path.join(tmp, 'm.db')}`;
const serverLog = path.join(tmp, 'server.log');
let server;
let proxy;
let browser;
let passed = 0;
let failed = 0;

// Runs one named check; the steps depend on each other, so the first failure ends the run.
async function step(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok ${passed} - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok ${passed + failed} - ${name}`);
    throw e;
  }
}

function renxing(args, env = {}) {
  return execFileSync(BIN, args, { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
const lastLine = (s) => s.trim().split('\n').pop().trim();

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startServer(port) {
  const log = fs.openSync(serverLog, 'w');
  server = spawn(BIN, ['serve', '--db', DB, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', log, log] });
  let exited = null;
  server.once('exit', (code, sig) => { exited = `exited with ${code ?? sig}`; });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`server ${exited}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/health`);
      if (res.status === 200) return;
    } catch { /* not listening yet */ }
    await sleep(200);
  }
  throw new Error('server did not answer /api/health within 30 s');
}

async function stopServer() {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const gone = new Promise((r) => server.once('exit', r));
  server.kill('SIGTERM');
  const timer = setTimeout(() => server.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}

// Static files from WEB_DIR, /api/* forwarded to the binary on apiPort.
function startWebProxy(apiPort) {
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.txt': 'text/plain; charset=utf-8' };
  proxy = http.createServer((req, res) => {
    if (req.url.startsWith('/api/')) {
      const up = http.request({ host: '127.0.0.1', port: apiPort, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      });
      up.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
      req.pipe(up);
      return;
    }
    const rel = new URL(req.url, 'http://x').pathname.replace(/^\/$/, '/index.html');
    const file = path.join(WEB_DIR, rel);
    if (!file.startsWith(WEB_DIR + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream' });
    res.end(fs.readFileSync(file));
  });
  return new Promise((resolve) => proxy.listen(0, '127.0.0.1', () => resolve(proxy.address().port)));
}

async function apiJson(base, method, p, token, body) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

// Finds an interior pixel of unit `code` on the map (the pixel and its neighbours all hit the
// unit's fill) and returns its colour from the WebGL canvas.
async function mapPixelOf(page, code) {
  return page.evaluate((code) => {
    const map = window.renxingMap;
    const canvas = map.getCanvas();
    const { width, height } = canvas.getBoundingClientRect();
    const hit = (x, y) => map.queryRenderedFeatures([x, y], { layers: ['unit-fill'] }).some((f) => String(f.properties.code) === code);
    const hits = [];
    for (let y = 8; y < height - 8; y += 6) for (let x = 8; x < width - 8; x += 6) {
      if (hit(x, y) && hit(x - 4, y) && hit(x + 4, y) && hit(x, y - 4) && hit(x, y + 4)) hits.push([x, y]);
    }
    if (!hits.length) return null;
    const [x, y] = hits[Math.floor(hits.length / 2)];
    const c2 = document.createElement('canvas');
    c2.width = canvas.width;
    c2.height = canvas.height;
    const ctx = c2.getContext('2d');
    ctx.drawImage(canvas, 0, 0);
    const k = canvas.width / width;
    const [r, g, b, a] = ctx.getImageData(Math.round(x * k), Math.round(y * k), 1, 1).data;
    return { x, y, r, g, b, a, hits: hits.length };
  }, code);
}

async function waitMap(page, unit) {
  await page.waitForSelector(`#map[data-state="ready"][data-unit="${unit}"]`);
}

async function shot(page, name) {
  const file = path.join(OUT, name);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true });
  console.log(`   screenshot ${path.relative(process.cwd(), file)}`);
}

async function login(page, user) {
  await page.getByTestId('login-name').fill(user.name);
  await page.getByTestId('login-password').fill(user.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('session').waitFor({ state: 'visible' });
  const text = await page.getByTestId('session-text').textContent();
  assert.ok(text.includes(user.name), `session text names the user: ${text}`);
}

async function logout(page) {
  await page.getByTestId('logout').click();
  await page.getByTestId('login-form').waitFor({ state: 'visible' });
}

// Waits until the table row of IND shows `value` (text) and `status` (data-status).
async function waitRow(page, value, status) {
  await page.waitForFunction(([ind, value, status]) => {
    const v = document.querySelector(`[data-testid="value-${ind}"]`);
    const s = document.querySelector(`[data-testid="status-${ind}"]`);
    return v && s && v.textContent.trim() === value && s.dataset.status === status && document.body.dataset.busy === '0';
  }, [IND, value, status]);
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const tokens = {};

  await step('monitor init loads the Henan units', () => {
    const out = renxing(['monitor', 'init', '--db', DB, '--units', UNITS]);
    assert.ok(out.length >= 0);
  });

  await step('monitor user add creates the province admin, city admin and county editor', () => {
    for (const [key, u] of Object.entries(USERS)) {
      const out = renxing(['monitor', 'user', 'add', '--db', DB, '--unit', u.unit, '--role', u.role, '--name', u.name, '--password-env', 'RENXING_E2E_PW'], { RENXING_E2E_PW: u.password });
      tokens[key] = lastLine(out);
      assert.match(tokens[key], /^\S{16,}$/, `token on the last line for ${u.name}`);
    }
  });

  await step('monitor import submits the city statistics table', () => {
    renxing(['monitor', 'import', '--db', DB, '--token', tokens.province, '--city-macro', '410000', CITY_MACRO]);
  });

  const port = await freePort();
  let base = `http://127.0.0.1:${port}`;
  await step('serve answers /api/health', () => startServer(port));
  if (WEB_DIR) {
    base = `http://127.0.0.1:${await startWebProxy(port)}`;
    console.log(`   front end from ${WEB_DIR}`);
  }

  await step('the city admin sets a target for the county through the API', async () => {
    const r = await apiJson(base, 'PUT', `/api/units/${COUNTY}/targets`, tokens.city,
      { basis: 'example target', targets: [{ indicator: IND, year: YEAR, value: 3 }] });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.accepted, 1);
  });

  const plans = {};
  await step('the county editor drafts two plans; the city admin approves one (API)', async () => {
    const plan = (name) => ({ kind: 'special', name, period_start: 2021, period_end: 2035, targets: [] });
    for (const [key, name] of [['approved', '应急避难场所专项规划（测试示例）'], ['draft', '综合防灾减灾专项规划（测试示例）']]) {
      const r = await apiJson(base, 'POST', `/api/units/${COUNTY}/plans`, tokens.editor, plan(name));
      assert.equal(r.status, 200, JSON.stringify(r.json));
      plans[key] = r.json.id;
    }
    assert.equal((await apiJson(base, 'POST', `/api/plans/${plans.approved}/submit`, tokens.editor, {})).status, 200);
    const r = await apiJson(base, 'POST', `/api/plans/${plans.approved}/review`, tokens.city, { decision: 'approve' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.status, 'approved');
  });

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
  const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1440, height: 1100 }, deviceScaleFactor: 1 });
  page.setDefaultTimeout(20_000);
  const pageErrors = [];
  const external = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) external.push(r.url()); });

  await step('the public view opens on the county from the URL hash, without edit controls', async () => {
    await page.goto(`${base}/#unit=${COUNTY}&ind=${IND}&year=${YEAR}`);
    await page.waitForSelector('body[data-ready="true"]');
    await waitMap(page, COUNTY);
    await page.getByTestId(`indicator-row-${IND}`).waitFor();
    assert.equal(await page.locator('[data-testid^="value-input-"]').count(), 0, 'no value inputs in the public view');
    assert.equal(await page.locator('[data-testid^="submit-"]').count(), 0, 'no submit buttons in the public view');
    assert.ok(await page.getByTestId('login-form').isVisible());
    assert.equal(await page.getByTestId('current-unit').textContent(), '中原区');
    assert.equal(await page.locator('#unit-tree li.selected').getAttribute('data-code'), COUNTY, 'tree reveals the county');
    assert.ok((await page.locator('h1').textContent()).includes('国土空间规划实施监测网络'));
  });

  await step('the public sees the approved plan only', async () => {
    await page.waitForSelector(`[data-testid="plan-${plans.approved}"][data-status="approved"]`);
    assert.equal(await page.locator('[data-testid="plans"] li[data-status]').count(), 1);
  });

  await step('the map draws the county (WebGL canvas shows its fill)', async () => {
    const px = await mapPixelOf(page, COUNTY);
    assert.ok(px, 'an interior pixel of the county is found on the map');
    // background is #eef1f4; any fill colour (even grey #9e9e9e) is darker than that
    assert.ok(px.r + px.g + px.b < 3 * 225, `the county is painted: ${JSON.stringify(px)}`);
    await shot(page, '01-public-county.png');
  });

  await step('the county editor logs in through the form and sees the edit controls', async () => {
    await login(page, USERS.editor);
    await page.getByTestId(`value-input-${IND}`).waitFor();
    assert.equal(await page.getByTestId('approve').isVisible(), false, 'editors do not approve');
  });

  await step('the editor also sees its draft plan', async () => {
    await page.waitForSelector(`[data-testid="plan-${plans.draft}"][data-status="draft"]`);
    assert.equal(await page.locator('[data-testid="plans"] li[data-status]').count(), 2);
  });

  await step(`submitting 2 (target ≤ 3) turns the warning dot green`, async () => {
    await page.getByTestId(`value-input-${IND}`).fill('2');
    await page.getByTestId(`submit-${IND}`).click();
    await waitRow(page, '2', 'submitted');
    await page.waitForSelector(`[data-testid="warning-dot-${IND}"][data-level="green"]`);
    await page.waitForSelector(`[data-testid="chart"] circle.obs[data-year="${YEAR}"][data-status="submitted"]`);
    await shot(page, '02-editor-green.png');
  });

  await step('submitting 5 turns it red with a warning message', async () => {
    await page.getByTestId(`value-input-${IND}`).fill('5');
    await page.getByTestId(`submit-${IND}`).click();
    await waitRow(page, '5', 'submitted');
    await page.waitForSelector(`[data-testid="warning-dot-${IND}"][data-level="red"]`);
    const msg = (await page.getByTestId(`messages-${IND}`).textContent()).trim();
    assert.ok(msg.length > 0, 'the red row carries a warning message');
    await page.waitForSelector(`[data-testid="warnings"] li[data-level="red"]`);
    await shot(page, '03-editor-red.png');
  });

  await step('an invalid value shows the error next to the form', async () => {
    await page.getByTestId(`value-input-${IND}`).fill('');
    await page.getByTestId(`submit-${IND}`).click();
    assert.ok((await page.getByTestId(`error-${IND}`).textContent()).trim().length > 0);
  });

  await step('on the city map the county is red', async () => {
    await page.getByTestId(`unit-${CITY}`).click();
    await waitMap(page, CITY);
    await page.waitForSelector(`[data-testid="feature-${COUNTY}"][data-level="red"]`);
    const feats = await page.evaluate((code) => window.renxingMap.querySourceFeatures('units')
      .filter((f) => String(f.properties.code) === code).map((f) => f.properties), COUNTY);
    assert.ok(feats.length > 0, 'the county is a feature of the map source');
    assert.equal(feats[0].warning, 'red');
    assert.equal(feats[0]._fill, '#c62828');
    const px = await mapPixelOf(page, COUNTY);
    assert.ok(px, 'an interior pixel of the county is found on the city map');
    assert.ok(px.r > 150 && px.g < 130 && px.b < 130, `the county is painted red: ${JSON.stringify(px)}`);
    await shot(page, '04-city-map-red.png');
  });

  await step('the language switch turns the page to English', async () => {
    await page.getByTestId('lang-switch').click();
    await page.waitForFunction(() => document.querySelector('h1').textContent === 'Planning implementation monitoring');
    assert.ok((await page.locator('#indicator-table th').allTextContents()).includes('Warning messages'));
    assert.equal(await page.getByTestId('lang-switch').textContent(), '中文');
    assert.ok(page.url().includes('lang=en'));
    await shot(page, '05-city-en.png');
    await page.getByTestId('lang-switch').click();
    await page.waitForFunction(() => document.querySelector('h1').textContent === '国土空间规划实施监测网络');
  });

  await step('after logout the public does not see the unpublished value', async () => {
    await logout(page);
    await page.getByTestId(`unit-${COUNTY}`).click();
    await waitMap(page, COUNTY);
    await waitRow(page, '—', 'none');
    assert.equal(await page.locator('[data-testid^="value-input-"]').count(), 0);
    const r = await apiJson(base, 'GET', `/api/units/${COUNTY}/indicators?year=${YEAR}`);
    const row = r.json.indicators.find((x) => x.indicator.code === IND);
    assert.equal(row.value, undefined, 'the API hides the submitted value from the public');
  });

  await step('the city admin approves the county year', async () => {
    await login(page, USERS.city);
    await waitRow(page, '5', 'submitted');
    const approve = page.getByTestId('approve');
    await approve.waitFor({ state: 'visible' });
    assert.ok(await approve.isEnabled());
    await approve.click();
    await waitRow(page, '5', 'published');
  });

  await step('after logout the public sees the published value 5', async () => {
    await logout(page);
    await waitRow(page, '5', 'published');
    await page.waitForSelector(`[data-testid="warning-dot-${IND}"][data-level="red"]`);
    await page.waitForSelector(`[data-testid="chart"] circle.obs[data-year="${YEAR}"][data-status="published"]`);
    const r = await apiJson(base, 'GET', `/api/units/${COUNTY}/indicators?year=${YEAR}`);
    assert.equal(r.json.indicators.find((x) => x.indicator.code === IND).value, 5);
    await shot(page, '06-public-published.png');
  });

  await step('the public CSV export carries the published value', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    const file = await download.path();
    const csv = fs.readFileSync(file, 'utf8');
    assert.match(csv.split('\n')[0], /^unit,indicator,year,value,status/);
    const row = csv.split('\n').map((l) => l.split(',')).find((f) => f[0] === COUNTY && f[1] === IND && f[2] === String(YEAR));
    assert.ok(row, `a row for ${COUNTY} ${IND} ${YEAR} in:\n${csv.slice(0, 400)}`);
    assert.equal(Number(row[3]), 5);
    assert.equal(row[4], 'published');
  });

  await step('no page errors and no requests to other hosts', () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(external, []);
  });
}

let code = 0;
try {
  await main();
} catch (e) {
  code = 1;
  if (!failed) failed = 1;
  console.error(e.stack || e);
  if (fs.existsSync(serverLog)) {
    const log = fs.readFileSync(serverLog, 'utf8').trim().split('\n').slice(-40).join('\n');
    if (log) console.error(`--- last lines of the server log ---\n${log}`);
  }
  if (e.stderr) console.error(`--- stderr ---\n${e.stderr}`);
} finally {
  await browser?.close().catch(() => {});
  proxy?.close();
  await stopServer();
  if (code === 0) fs.rmSync(tmp, { recursive: true, force: true });
  else console.error(`e2e: kept ${tmp}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(code);
