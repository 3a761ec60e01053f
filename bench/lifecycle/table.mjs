// Prints compare.sh's table from the reports in OUT_DIR (markdown, so it can
// go straight into bench/RESULTS-lifecycle.md) and writes OUT_DIR/summary.json.
//   node table.mjs OUT_DIR
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const read = (f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : null);
const fmt = (x, d = 0) => (x == null || Number.isNaN(x) ? 'n/a' : x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));

const bullmqReport = read('bullmq.json') && JSON.parse(read('bullmq.json'));
const bullmq = bullmqReport && bullmqReport.failed === 0 ? bullmqReport.jobs_per_s : null;
const ratio = (x) => (bullmq && x != null ? `${fmt(x / bullmq, 2)}×` : 'n/a');

const rows = [];
const summary = { bullmq: bullmqReport, jobtrail: {}, db_bench: null, http_ceiling: null };
// Server CPU per job (µs; enqueue and lifecycle) from compare.sh's .cpu files.
const cpuPerJob = (file, jobs) => {
  const text = read(file);
  const seconds = text ? Number((text.match(/server_cpu_seconds ([\d.]+)/) || [])[1]) : NaN;
  return seconds > 0 && jobs > 0 ? (seconds * 1e6) / jobs : null;
};
if (bullmqReport) {
  const redisCpu = bullmqReport.failed === 0 ? cpuPerJob('bullmq.cpu', bullmqReport.jobs) : null;
  summary.bullmq_server_cpu_us_per_job = redisCpu;
  rows.push([`BullMQ ${bullmqReport.version || ''} + Redis (AOF everysec)`, fmt(bullmq), ratio(bullmq), '—',
             fmt(bullmqReport.enqueue_jobs_per_s), 'n/a', '—', '—', redisCpu == null ? '—' : `${fmt(redisCpu)} (redis-server)`,
             bullmqReport.failed === 0 ? 'all completed' : `${bullmqReport.failed} failed`]);
}

const order = ['per-transition', 'batch', 'protocol', 'protocol-batch', 'protocol-batch-50'];
const names = [...order, ...order.map((m) => `${m}-nosync`)];
for (const name of names) {
  const text = read(`jobtrail-${name}.json`);
  if (!text) continue;
  const r = JSON.parse(text);
  const l = r.lifecycle;
  // The server's own count must hold what it acknowledged (reports from
  // before server_agrees have no such field: undefined passes).
  const clean = l.all_completed && l.errors === 0 && l.server_agrees !== false;
  const err = read(`jobtrail-${name}.err`) || '';
  // Why a run stopped early, shortened to the server's error message.
  const stopped = (err.match(/^stopped: (.*)$/m) || [])[1];
  const exited = (err.match(/the SERVER EXITED during the run \(status (\d+)/) || [])[1];
  const why = exited ? `the server exited (status ${exited})`
    : stopped && ((stopped.match(/"message":"([^"]*)"/) || [])[1] || stopped).slice(0, 100);
  const jobsPerS = clean ? l.jobs_per_s : null;
  // Latency of the requests that make up the mode (those with at least 5 %
  // of the worker requests: leaves out the few empty claims at the start).
  const latency = Object.entries(r.requests)
    .filter(([k, v]) => k !== 'enqueue' && k !== 'poll' && v.count >= 0.05 * l.requests)
    .map(([k, v]) => `${k} ${fmt(v.p50_ms, 1)} / ${fmt(v.p99_ms, 1)}`).join('; ');
  // Does the rate hold as the store fills? The first tenth of the run and
  // its slowest tenth (whole seconds), side by side.
  const ps = l.completed_per_second || [];
  const tenth = (p) => {
    const from = Math.floor((p * ps.length) / 10), to = Math.max(from + 1, Math.floor(((p + 1) * ps.length) / 10));
    return ps.slice(from, to).reduce((a, b) => a + b, 0) / (to - from);
  };
  const tenths = [...Array(10).keys()].map(tenth);
  const slowest = Math.min(...tenths);
  const trend = clean && ps.length >= 10 ? `${fmt(tenths[0])} / ${fmt(slowest)}` : '—';
  const claims = r.claim_batch && r.claim_batch !== 1 && r.claim_batch !== 10 ? ` (claims of ${r.claim_batch})` : '';
  const serverCpu = clean ? cpuPerJob(`jobtrail-${name}.cpu`, r.jobs) : null;
  rows.push([`jobtrail ${r.mode}${claims}${name.endsWith('-nosync') ? ', --no-sync' : ', synced'}`, fmt(jobsPerS), ratio(jobsPerS), trend,
             r.enqueue.jobs ? fmt(r.enqueue.jobs_per_s) : 'failed', clean ? fmt(l.events_per_s) : 'n/a', l.completed ? fmt(l.requests / l.completed, 2) : 'n/a',
             clean && latency ? latency : '—', serverCpu == null ? '—' : fmt(serverCpu),
             clean ? 'all completed'
               : l.all_completed && l.errors === 0 ? `the server counts ${l.server_completed} of ${l.completed} acknowledged completions`
               : `${l.completed}/${r.jobs} completed, ${l.errors} errors${why ? `: ${why}` : ''}`]);
  summary.jobtrail[name] = { jobs_per_s: jobsPerS, ratio_to_bullmq: bullmq && jobsPerS ? jobsPerS / bullmq : null,
                             events_per_s: l.events_per_s, requests_per_job: l.completed ? l.requests / l.completed : null,
                             first_tenth_jobs_per_s: trend === '—' ? null : tenth(0),
                             slowest_tenth_jobs_per_s: trend === '—' ? null : slowest,
                             server_cpu_us_per_job: serverCpu,
                             clean, enqueue_jobs_per_s: r.enqueue.jobs_per_s };
}

const dbBench = read('db_bench.txt');
const opsMatch = dbBench && dbBench.match(/^fillseq\s*:.*?([\d.]+) ops\/sec/m);
if (opsMatch) {
  const ops = Number(opsMatch[1]);
  const ceiling = ops / 3;  // started, progressed, completed
  rows.push(['ceiling: db_bench fillseq synced, batch 100, ÷ 3 events/job', fmt(ceiling), ratio(ceiling), '—', '—',
             `${fmt(ops)} appends/s`, '—', '—', '—', '']);
  summary.db_bench = { ops_per_s: ops, jobs_per_s_ceiling: ceiling };
}

// The HTTP stack alone (GET /healthz, no store): a two-request protocol
// cannot go faster than half of it on this machine.
const wrk = read('wrk-healthz.txt');
const rpsMatch = wrk && wrk.match(/^Requests\/sec:\s*([\d.]+)/m);
if (rpsMatch) {
  const rps = Number(rpsMatch[1]);
  rows.push(['ceiling: GET /healthz (no store), wrk, ÷ 2 requests/job', fmt(rps / 2), ratio(rps / 2), '—', '—',
             '—', '2', '—', '—', `${fmt(rps)} requests/s`]);
  summary.http_ceiling = { requests_per_s: rps, jobs_per_s_ceiling: rps / 2 };
}

const header = ['run', 'jobs/s', '÷ BullMQ', 'jobs/s first / slowest tenth', 'enqueue jobs/s', 'events/s', 'requests/job', 'p50 / p99 ms per request', 'server CPU µs/job', 'outcome'];
console.log(`| ${header.join(' | ')} |`);
console.log(`| ${header.map((h, i) => (i === 0 || i === header.length - 1 ? '---' : '---:')).join(' | ')} |`);
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
