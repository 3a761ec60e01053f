// The BullMQ reference for bench/lifecycle/compare.sh: the same job
// lifecycle jobtrail_load drives (enqueue, start, progress once, complete with
// a small result), on Redis with AOF everysec.
//
//   node lifecycle.mjs --port PORT [--jobs 30000] [--concurrency 50] [--json FILE]
//
// Jobs are added before timing starts (reported separately, as jobtrail_load
// does); the timed phase is the Worker processing all of them.
import { Queue, Worker } from 'bullmq';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '6379' },
    jobs: { type: 'string', default: '30000' },
    concurrency: { type: 'string', default: '50' },
    queue: { type: 'string', default: 'bench' },
    json: { type: 'string' },
  },
});
const jobs = Number(values.jobs);
const concurrency = Number(values.concurrency);
// Workers need maxRetriesPerRequest: null (BullMQ refuses blocking commands otherwise).
const connection = { host: values.host, port: Number(values.port), maxRetriesPerRequest: null };

const queue = new Queue(values.queue, { connection });
await queue.obliterate({ force: true }).catch(() => {});

// Enqueue in chunks of 1000: addBulk is one MULTI per chunk, like jobtrail's
// POST /v1/batch pre-enqueue.
const enqueueStart = performance.now();
for (let i = 0; i < jobs; i += 1000) {
  const chunk = [];
  for (let j = i; j < Math.min(jobs, i + 1000); ++j) {
    chunk.push({ name: 'form-fill', data: { url: `https://example.com/form/${j}`, n: j } });
  }
  await queue.addBulk(chunk);
}
const enqueueSeconds = (performance.now() - enqueueStart) / 1000;

let completed = 0;
let failed = 0;
let finish;
const done = new Promise((resolve) => { finish = resolve; });
const check = () => { if (completed + failed >= jobs) finish(); };
// The processor body is the whole "work": one progress report, a small result.
const worker = new Worker(values.queue, async (job) => {
  await job.updateProgress(50);
  return { ok: true, n: job.data.n };
}, { connection, concurrency, autorun: false });
worker.on('completed', () => { ++completed; check(); });
worker.on('failed', () => { ++failed; check(); });
worker.on('error', (err) => { console.error('worker error:', err.message); });
const start = performance.now();
worker.run();
const progress = setInterval(() => {
  const s = (performance.now() - start) / 1000;
  process.stderr.write(`\rbullmq: ${completed}/${jobs} completed, ${(completed / s).toFixed(0)} jobs/s   `);
}, 1000);
await done;
const seconds = (performance.now() - start) / 1000;
clearInterval(progress);
process.stderr.write('\n');
await worker.close();
await queue.close();

const require = createRequire(import.meta.url);
const report = {
  system: 'bullmq',
  version: require('bullmq/package.json').version,
  ioredis_version: require('ioredis/package.json').version,
  jobs, concurrency, completed, failed,
  enqueue_seconds: enqueueSeconds,
  enqueue_jobs_per_s: jobs / enqueueSeconds,
  seconds,
  jobs_per_s: completed / seconds,
};
console.log(`bullmq: ${completed} jobs in ${seconds.toFixed(2)} s = ${report.jobs_per_s.toFixed(0)} jobs/s ` +
            `(enqueue ${report.enqueue_jobs_per_s.toFixed(0)} jobs/s), ${failed} failed`);
if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2) + '\n');
process.exit(failed === 0 ? 0 : 1);
