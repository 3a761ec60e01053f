// The dashboard (http/ui/) in a real browser: Debian's Chromium driven by
// playwright-core, against a real `jobtrail serve` on an ephemeral loopback
// port with a temporary data directory. Jobs are made over HTTP; then, in
// the page: log in with a key, see the overview, trigger a schedule,
// search and filter the table with its controls, open a failed job's
// detail (its screenshot loads, the history slider shows an older state),
// retry it, bulk-cancel a filtered set after a dry-run count (its badges
// change), and check that job data holding HTML renders as text.
// Screenshots of each view go to the artifacts directory.
//
//   node dashboard.mjs <jobtrail binary> <artifacts dir>
import assert from 'node:assert/strict';
import {spawn, execFileSync} from 'node:child_process';
import {mkdtempSync, mkdirSync, rmSync} from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import {chromium} from 'playwright-core';

const [binary, artifacts] = process.argv.slice(2);
if (!binary || !artifacts) {
  console.error('usage: node dashboard.mjs <jobtrail binary> <artifacts dir>');
  process.exit(2);
}
const CHROMIUM = process.env.JOBTRAIL_CHROMIUM || '/usr/bin/chromium';
mkdirSync(artifacts, {recursive: true});
const tmp = mkdtempSync(path.join(os.tmpdir(), 'jobtrail-ui-'));
const dataDir = path.join(tmp, 'data');
let server = null, images = null, browser = null;
let passed = 0, failed = 0;

// A 2x2 PNG: the "screenshot" an error points to, served on loopback.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==', 'base64');

function startImages() {
  return new Promise((resolve) => {
    const s = http.createServer((req, res) => {
      res.writeHead(200, {'Content-Type': 'image/png', 'Content-Length': PNG.length});
      res.end(PNG);
    });
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

// `jobtrail serve` on port 0; resolves with its base URL from the first line.
function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0',
                                 '--no-seed-001-schedules', '--no-access-log'],
                        {stdio: ['ignore', 'pipe', 'inherit']});
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`jobtrail serve exited with ${code}`)));
    const lines = readline.createInterface({input: child.stdout});
    lines.once('line', (line) => {
      const m = line.match(/listening on (http:\/\/\S+)/);
      if (!m) return reject(new Error(`unexpected first line: ${line}`));
      server = child;
      resolve(m[1]);
    });
  });
}

async function main() {
  const admin = execFileSync(binary, ['keys', 'create', '--role', 'admin', '--data-dir', dataDir])
    .toString().trim();
  images = await startImages();
  const shotUrl = `http://127.0.0.1:${images.address().port}/shot.png`;
  const base = await startServer();
  const call = async (method, p, body) => {
    const r = await fetch(base + p, {method, headers: {Authorization: `Bearer ${admin}`,
                                                       'Content-Type': 'application/json'},
                                     body: body === undefined ? undefined : JSON.stringify(body)});
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  // Ready: the read models have caught up (a bounded wait on a condition).
  for (let i = 0; ; i++) {
    const r = await fetch(`${base}/readyz`);
    if (r.status === 200) break;
    assert.ok(i < 500, 'server never became ready');
    await new Promise((res) => setTimeout(res, 20));
  }

  // Jobs in every state.
  const enqueue = (job) => call('POST', '/v1/jobs', job).then((r) => r.job_id);
  const john = await enqueue({type: 'form-fill', queue: 'forms', owner: 'alice', max_attempts: 1,
                              external_ref: 'captcha-77',
                              payload: {formData: {firstName: 'John', city: 'Lyon'}}});
  await call('POST', `/v1/jobs/${john}/events`, {events: [
    {type: 'started', data: {worker_id: 'bot-1'}},
    {type: 'logged', data: {level: 'WARN', message: 'slow page', details: {ms: 900}}},
    {type: 'errored', data: {error_type: 'FormFillError', message: 'Element not found: #btnSubmit',
                             artifacts: [{kind: 'screenshot', url: shotUrl, key: 'shots/77.png'},
                                         {kind: 'page_source', url: 'https://example.com/src/77.html'}]}},
    {type: 'failed', data: {}}]});
  const xss = '<img src=x onerror="window.__xss=1">';
  const evil = await enqueue({type: 'form-fill', owner: 'mallory', payload: {note: xss, marker: 'zebra'}});
  await call('POST', `/v1/jobs/${evil}/events`, {events: [
    {type: 'started', data: {}},
    {type: 'logged', data: {level: 'ERROR', message: xss}},
    {type: 'errored', data: {error_type: xss, message: xss,
                             artifacts: [{kind: 'screenshot', url: 'javascript:window.__xss=2'}]}}]});
  const north = [];
  for (let i = 0; i < 4; i++) north.push(await enqueue({type: 'sync', owner: 'bob', payload: {shop: 'north'}}));
  const done = await enqueue({type: 'sync', owner: 'bob', payload: {shop: 'north'}});
  await call('POST', `/v1/jobs/${done}/events`, {events: [{type: 'started', data: {}},
                                                          {type: 'completed', data: {result: {ok: true}}}]});

  // A fresh profile directory each run (Playwright passes it as
  // --user-data-dir).
  await call('PUT', '/v1/schedules/nightly-report', {cron: '0 3 * * *', job_type: 'report'});
  browser = await chromium.launchPersistentContext(path.join(tmp, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: {width: 1280, height: 900},
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  const step = async (name, fn) => {
    try {
      await fn();
      passed++;
      console.log(`ok - ${name}`);
    } catch (e) {
      failed++;
      console.log(`not ok - ${name}\n  ${String(e.stack || e).split('\n').join('\n  ')}`);
      await page.screenshot({path: path.join(artifacts, `failed-${name.replace(/\W+/g, '-')}.png`)})
        .catch(() => {});
    }
  };

  await step('asks for a key and keeps it in session storage', async () => {
    await page.goto(`${base}/ui`);
    await page.fill('#api-key', 'jt_wrong_key');
    await page.click('#login button[type=submit]');
    await page.waitForSelector('text=That key was refused');
    await page.fill('#api-key', admin);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#status-cards .card-failed');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('jobtrail.key')), admin);
    assert.equal(await page.evaluate(() => localStorage.length), 0);
  });

  await step('overview shows counts, charts and health', async () => {
    await page.waitForSelector('#charts svg.chart');
    await page.waitForSelector('#health .health');
    const failedCount = await page.textContent('#status-cards .card-failed .count');
    assert.equal(failedCount, '1');
    await page.screenshot({path: path.join(artifacts, 'overview.png'), fullPage: true});
  });

  await step('triggers a schedule and shows a toast', async () => {
    await page.waitForSelector('#schedules button:has-text("Trigger")');
    await page.click('#schedules button:has-text("Trigger")');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-yes');
    await page.waitForSelector('.toast:has-text("Triggered nightly-report")');
  });

  await step('searches the jobs table', async () => {
    await page.click('a[data-nav=jobs]');
    await page.waitForSelector('#jobs-table tbody tr');
    await page.fill('#f-q', 'lyon JOHN');
    await page.click('#apply');
    await page.waitForFunction(() => document.querySelectorAll('#jobs-table tbody tr').length === 1);
    assert.match(await page.textContent('#list-info'), /^1 matching/);
    await page.screenshot({path: path.join(artifacts, 'jobs-search.png'), fullPage: true});
  });

  await step("opens a failed job's timeline and its screenshot loads", async () => {
    await page.click('#jobs-table tbody tr a.job-link');
    await page.waitForSelector('#events li[data-version="4"]');
    const loaded = await page.waitForFunction(() => {
      const img = document.querySelector('#job-errors img.shot');
      return img && img.complete && img.naturalWidth === 2;
    });
    assert.ok(loaded);
    assert.ok(await page.$('#job-errors a[href="https://example.com/src/77.html"]'));
    await page.waitForSelector('#as-of[data-status=failed]');
    // The slider shows the job as it was: running after its start (v2).
    await page.$eval('#version-slider', (s) => {
      s.value = '2';
      s.dispatchEvent(new Event('input', {bubbles: true}));
    });
    await page.waitForSelector('#as-of[data-status=running]');
    await page.screenshot({path: path.join(artifacts, 'job-failed.png'), fullPage: true});
  });

  await step('retries the failed job behind a confirmation', async () => {
    await page.click('#retry');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-yes');
    await page.waitForSelector('.toast:has-text("Retried: now retrying")');
    await page.waitForSelector('#job-head .badge-retrying');
    await page.waitForSelector('#events li[data-version="6"]:has-text("retried by hand")');
    const job = await call('GET', `/v1/jobs/${john}`);
    assert.equal(job.status, 'retrying');
  });

  // The filter controls, as a person uses them (not the URL).
  const filterBy = async (fields) => {
    await page.goto(`${base}/ui/#/jobs`);
    await page.waitForSelector('#jobs-table tbody tr');
    for (const name of ['q', 'type', 'queue', 'owner', 'external_ref']) {
      await page.fill(`#f-${name}`, fields[name] || '');
    }
    await page.selectOption('#f-status', fields.status || '');
    await page.click('#apply');
  };
  const badges = () => page.$$eval('#jobs-table tbody .badge', (els) => els.map((e) => e.textContent));

  await step('filters the jobs table with its controls', async () => {
    await filterBy({owner: 'bob', status: 'completed'});
    await page.waitForFunction(() => location.hash.includes('owner=bob') &&
      document.querySelectorAll('#jobs-table tbody tr').length === 1);
    assert.deepEqual(await badges(), ['completed']);
    await filterBy({type: 'sync'});
    await page.waitForFunction(() => !location.hash.includes('owner=') &&
      document.querySelectorAll('#jobs-table tbody tr').length === 5);
    assert.deepEqual((await badges()).sort(), ['completed', 'pending', 'pending', 'pending', 'pending']);
  });

  await step('bulk-cancels a filtered set after a dry-run count', async () => {
    await filterBy({q: 'north', status: 'pending'});
    await page.waitForFunction(() => location.hash.includes('status=pending') &&
      document.querySelectorAll('#jobs-table tbody tr').length === 4);
    assert.deepEqual(await badges(), ['pending', 'pending', 'pending', 'pending']);
    await page.click('#bulk-cancel-all');
    await page.waitForSelector('#confirm[open]');
    assert.match(await page.textContent('#confirm-text'), /cancel 4 of 4 matching/);
    await page.click('#confirm-yes');
    await page.waitForSelector('.toast:has-text("cancel: 4 changed, 0 skipped")');
    // The same search without the status filter: the badges have changed.
    await filterBy({q: 'north'});
    await page.waitForFunction(() => !location.hash.includes('status=') &&
      document.querySelectorAll('#jobs-table tbody .badge-cancelled').length === 4);
    assert.deepEqual((await badges()).sort(), ['cancelled', 'cancelled', 'cancelled', 'cancelled', 'completed']);
    await page.screenshot({path: path.join(artifacts, 'jobs-bulk-cancelled.png'), fullPage: true});
    for (const id of north) assert.equal((await call('GET', `/v1/jobs/${id}`)).status, 'cancelled');
    assert.equal((await call('GET', `/v1/jobs/${done}`)).status, 'completed');
  });

  await step('job data holding HTML renders as text', async () => {
    await page.goto(`${base}/ui/#/job/${evil}`);
    await page.waitForSelector('#job-errors .error-message');
    await page.waitForSelector('#job-logs .log-message');
    assert.equal(await page.textContent('#job-errors .error-message'), xss);
    assert.equal(await page.textContent('#job-logs .log-message'), xss);
    assert.ok((await page.textContent('#job-head pre')).includes('<img src=x onerror='));
    assert.equal(await page.$$eval('img[src="x"]', (els) => els.length), 0);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    await page.screenshot({path: path.join(artifacts, 'job-xss-as-text.png'), fullPage: true});
  });

  await step('no script error on any page', async () => {
    assert.deepEqual(pageErrors, []);
  });
}

try {
  await main();
} catch (e) {
  failed++;
  console.log(`not ok - setup\n  ${e.stack || e}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server) {
    server.removeAllListeners('exit');
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  if (images) images.close();
  rmSync(tmp, {recursive: true, force: true});
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
