// One job: status, timings, progress; payload and result; each attempt's
// error with its screenshot and page source; log lines; the audit timeline
// page by page with a version slider (the job as of any version) and the
// history as NDJSON; retry and cancel behind a confirmation.
import {api, query} from './api.js';
import {add, badge, clear, fill, confirmDialog, duration, fmtTime, h, jsonBlock, safeUrl, toast} from './dom.js';

const PAGE = 50;

export function renderJob(main, id) {
  const path = `/v1/jobs/${encodeURIComponent(id)}`;
  const head = h('section', {class: 'panel', id: 'job-head'});
  const errors = h('section', {class: 'panel', id: 'job-errors'});
  const logs = h('section', {class: 'panel', id: 'job-logs'});
  const timeline = h('section', {class: 'panel', id: 'timeline'});
  add(main, h('p', {}, h('a', {href: '#/jobs'}, '← jobs')), head, errors, logs, timeline);
  let events = [];
  let hasMore = true;

  async function loadJob() {
    let job;
    try {
      job = await api(path);
    } catch (e) {
      fill(head, h('p', {class: 'error'}, `${e.code}: ${e.message}`));
      return;
    }
    renderHead(job);
    renderErrors(job);
  }

  function renderHead(job) {
    const actions = [];
    if (job.status === 'failed' || job.status === 'cancelled') {
      actions.push(h('button', {class: 'primary', id: 'retry', onclick: () => act('retry', job)}, 'Retry'));
    }
    if (!['completed', 'failed', 'cancelled'].includes(job.status)) {
      actions.push(h('button', {class: 'danger', id: 'cancel', onclick: () => act('cancel', job)}, 'Cancel'));
    }
    const started = job.started_at ? Date.parse(job.started_at) : null;
    const ended = job.finished_at ? Date.parse(job.finished_at) : Date.now();
    const rows = [
      ['id', h('span', {class: 'mono'}, job.id)], ['type', job.type], ['queue', job.queue],
      ['owner', job.owner || '—'], ['external ref', job.external_ref || '—'],
      ['attempts', `${job.attempts} of ${job.max_attempts} (${job.retries_left} left)`],
      ['message', job.message || '—'], ['step', job.current_step || '—'],
      ['created', fmtTime(job.created_at)], ['started', fmtTime(job.started_at)],
      ['finished', fmtTime(job.finished_at)], ['next retry', fmtTime(job.next_retry_at)],
      ['running time', started ? duration(ended - started) : '—'], ['version', job.version]];
    fill(head, 
      h('h1', {}, job.type, ' ', badge(job.status)),
      h('div', {class: 'actions'}, actions),
      h('progress', {max: 100, value: job.progress ?? 0, id: 'job-progress'}),
      h('dl', {class: 'facts'}, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      h('h2', {}, 'Payload'), jsonBlock(job.payload, true),
      job.result !== null && job.result !== undefined ? [h('h2', {}, 'Result'), jsonBlock(job.result, true)] : null,
      job.final_error ? [h('h2', {}, 'Final error'),
        h('p', {class: 'error'}, `${job.final_error.type || ''} ${job.final_error.reason || ''}`)] : null);
  }

  function artifactView(a) {
    const url = safeUrl(a.url);
    if (a.kind === 'screenshot' && url) {
      return h('figure', {}, h('img', {src: url, alt: `screenshot ${a.key || ''}`, class: 'shot',
                                       loading: 'lazy', referrerpolicy: 'no-referrer'}),
               h('figcaption', {}, h('a', {href: url, target: '_blank', rel: 'noopener noreferrer'}, a.key || url)));
    }
    if (url) {
      return h('p', {}, h('a', {href: url, target: '_blank', rel: 'noopener noreferrer'},
                          a.kind === 'page_source' ? 'page source' : a.kind || 'artifact'), ` ${a.key || ''}`);
    }
    return h('p', {class: 'muted'}, `${a.kind || 'artifact'} (${a.size ?? 0} bytes inline)`);
  }

  function renderErrors(job) {
    fill(errors, h('h2', {}, `Errors (${job.errors.length})`),
      job.errors.length ? null : h('p', {class: 'muted'}, 'None.'),
      job.errors.map((e) => h('article', {class: 'error-entry'},
        h('h3', {}, `Attempt ${e.attempt}: `, e.type || 'Error'),
        h('p', {class: 'error-message'}, e.message),
        e.stage ? h('p', {class: 'muted'}, `stage ${e.stage} · ${fmtTime(e.timestamp)}`) : null,
        e.stack ? h('details', {}, h('summary', {}, 'stack'), h('pre', {}, e.stack)) : null,
        (e.artifacts || []).map(artifactView))));
  }

  async function loadLogs() {
    try {
      const r = await api(`${path}/logs`);
      fill(logs, h('h2', {}, `Log (${r.logs.length})`), h('ol', {class: 'log'},
        r.logs.map((l) => h('li', {class: `level-${l.level}`},
          h('span', {class: 'mono'}, fmtTime(l.timestamp)), ' ', h('span', {class: 'level'}, l.level), ' ',
          h('span', {class: 'log-message'}, l.message),
          l.details ? h('details', {}, h('summary', {}, 'details'), h('pre', {}, JSON.stringify(l.details, null, 2))) : null))));
    } catch (e) {
      fill(logs, h('h2', {}, 'Log'), h('p', {class: 'muted'}, `${e.code}`));
    }
  }

  // The audit timeline: events page by page, a slider over versions that
  // shows the job as it was, and the history as NDJSON.
  const list = h('ol', {class: 'timeline', id: 'events'});
  const more = h('button', {id: 'more-events', onclick: () => loadEvents()}, 'more events');
  const slider = h('input', {type: 'range', min: 1, max: 1, value: 1, id: 'version-slider',
                             'aria-label': 'version', oninput: () => showVersion()});
  const asOf = h('div', {id: 'as-of', class: 'as-of'});
  const download = h('button', {id: 'download', onclick: () => downloadNdjson()}, 'download history (NDJSON)');
  add(timeline, h('h2', {}, 'Audit timeline'), h('div', {class: 'slider'}, 'version ', slider), asOf, list, more, download);

  function describe(e) {
    const d = e.data || {};
    switch (e.type) {
      case 'enqueued': return `type ${d.type} on ${d.queue}`;
      case 'started': return `attempt ${d.attempt} on ${d.worker_id || '?'}`;
      case 'progressed': return `${d.percent ?? ''}% ${d.message || d.step || ''}`;
      case 'logged': return `[${d.level}] ${d.message}`;
      case 'errored': return `${d.error_type || 'error'}: ${d.message}`;
      case 'retried': return d.manual ? `retried by hand, attempt ${d.attempt} next` : `retry at ${fmtTime(d.next_run_at)}`;
      case 'completed': return 'completed';
      case 'failed': return `failed: ${d.reason || d.error_type || ''}`;
      case 'cancelled': return `cancelled: ${d.reason || ''}`;
      default: return '';
    }
  }

  async function loadEvents() {
    const after = events.length ? events[events.length - 1].version : 0;
    let r;
    try {
      r = await api(`${path}/events${query({after_version: after, limit: PAGE})}`);
    } catch (e) {
      toast(`${e.code}: ${e.message}`, 'error');
      return;
    }
    events = events.concat(r.events);
    hasMore = r.has_more;
    more.hidden = !hasMore;
    for (const e of r.events) {
      add(list, h('li', {class: `event event-${e.type}`, dataset: {version: e.version}},
        h('span', {class: 'mono'}, `v${e.version}`), ' ', h('span', {class: 'mono'}, fmtTime(e.timestamp)), ' ',
        h('strong', {}, e.type), ' by ', h('span', {class: 'actor'}, e.actor), ' — ', h('span', {}, describe(e))));
    }
    slider.max = String(r.version);
    if (!slider.dataset.moved) slider.value = String(r.version);
    showVersion(false);
  }

  let asOfTimer = null;
  function showVersion(moved = true) {
    if (moved) slider.dataset.moved = '1';
    clearTimeout(asOfTimer);
    asOfTimer = setTimeout(async () => {
      const v = slider.value;
      try {
        const j = await api(`${path}${query({at_version: v})}`);
        fill(asOf, `as of version ${v}: `, badge(j.status),
          ` attempt ${j.attempts} of ${j.max_attempts}, ${j.error_count} error(s)` +
          (j.message ? `, "${j.message}"` : ''));
        asOf.dataset.status = j.status;
      } catch (e) {
        fill(asOf, `${e.code}`);
      }
    }, 120);
  }

  async function downloadNdjson() {
    const lines = [];
    let after = 0;
    for (;;) {
      const r = await api(`${path}/events${query({after_version: after, limit: 1000})}`);
      for (const e of r.events) lines.push(JSON.stringify(e));
      if (!r.has_more || !r.events.length) break;
      after = r.events[r.events.length - 1].version;
    }
    const url = URL.createObjectURL(new Blob([lines.join('\n') + '\n'], {type: 'application/x-ndjson'}));
    const a = h('a', {href: url, download: `job-${id}.ndjson`});
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  async function act(action, job) {
    const text = action === 'retry' ? `Retry this ${job.status} job? A new attempt starts; its history stays.`
                                    : `Cancel this ${job.status} job?`;
    if (!await confirmDialog(text, action === 'retry' ? 'Retry' : 'Cancel job')) return;
    try {
      const r = await api(`${path}/${action}`, {method: 'POST', body: {}});
      toast(`${action === 'retry' ? 'Retried' : 'Cancelled'}: now ${r.status}`);
    } catch (e) {
      toast(`${e.code}: ${e.message}`, 'error');
    }
    events = [];
    clear(list);
    delete slider.dataset.moved;
    await Promise.all([loadJob(), loadEvents()]);
  }

  loadJob();
  loadLogs();
  loadEvents();
  return null;
}
