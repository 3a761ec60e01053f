// Overview: counts by status and type, success rate, charts of the last
// hour/day/week from /v1/stats/series, health with its alerts, schedules.
// Polls every 10 s while shown.
import {api, query} from './api.js';
import {add, badge, clear, confirmDialog, fill, fmtTime, h, relTime, duration, toast} from './dom.js';
import {barChart} from './charts.js';

const RANGES = {hour: {ms: 3600e3, step: '1m'}, day: {ms: 86400e3, step: '15m'},
                week: {ms: 7 * 86400e3, step: '2h'}};
const STATUSES = ['pending', 'running', 'retrying', 'completed', 'failed', 'cancelled'];

export function renderOverview(main) {
  let range = 'hour';
  let timer = null;
  const cards = h('section', {class: 'cards', id: 'status-cards'});
  const charts = h('section', {class: 'panel', id: 'charts'});
  const health = h('section', {class: 'panel', id: 'health'});
  const types = h('section', {class: 'panel', id: 'types'});
  const schedules = h('section', {class: 'panel', id: 'schedules'});
  const rangeButtons = Object.keys(RANGES).map((r) => h('button', {
    class: r === range ? 'tab active' : 'tab', onclick: () => { range = r; refresh(); }}, `last ${r}`));
  add(main, h('h1', {}, 'Overview'), cards,
              h('div', {class: 'tabs'}, rangeButtons), charts,
              h('div', {class: 'columns'}, health, schedules), types);

  async function refresh() {
    rangeButtons.forEach((b) => b.classList.toggle('active', b.textContent === `last ${range}`));
    await Promise.all([loadStats(), loadSeries(), loadHealth(), loadSchedules()]);
  }
  async function loadStats() {
    try {
      const s = await api('/v1/stats');
      fill(cards, 
        ...STATUSES.map((st) => h('a', {class: `card card-${st}`, href: `#/jobs?status=${st}`},
                                  h('span', {class: 'count'}, s.by_status[st] ?? 0), badge(st))),
        h('div', {class: 'card'}, h('span', {class: 'count', id: 'success-rate'},
                                    `${(s.success_rate * 100).toFixed(1)}%`), 'success rate'),
        h('div', {class: 'card'}, h('span', {class: 'count'}, duration(s.processing_time.p50_ms)),
          'median processing'));
      fill(types, h('h2', {}, 'By type'), h('table', {class: 'grid'},
        h('thead', {}, h('tr', {}, h('th', {}, 'type'), h('th', {}, 'total'),
                         STATUSES.map((st) => h('th', {}, st)), h('th', {}, 'p95'))),
        h('tbody', {}, Object.entries(s.by_type).map(([type, t]) => h('tr', {},
          h('td', {}, h('a', {href: `#/jobs?type=${encodeURIComponent(type)}`}, type)),
          h('td', {}, t.total), STATUSES.map((st) => h('td', {}, t.by_status[st] ?? 0)),
          h('td', {}, duration(t.processing_time.p95_ms)))))));
    } catch (e) {
      fill(cards, h('p', {class: 'muted'}, `Counts need an admin key (${e.code}).`));
      clear(types);
    }
  }
  async function loadSeries() {
    const r = RANGES[range];
    try {
      const s = await api(`/v1/stats/series${query({from: new Date(Date.now() - r.ms).toISOString(),
                                                    step: r.step})}`);
      const times = s.points.map((p) => p.time);
      const pick = (k) => s.points.map((p) => p[k]);
      fill(charts, 
        h('h2', {}, `Throughput, last ${range}`),
        barChart({title: 'throughput', times, series: [
          {label: 'completed', color: '#2e7d32', values: pick('completed')},
          {label: 'failed', color: '#c62828', values: pick('failed')},
          {label: 'cancelled', color: '#757575', values: pick('cancelled')}]}),
        h('h2', {}, `Enqueued and retried, last ${range}`),
        barChart({title: 'enqueued', times, series: [
          {label: 'enqueued', color: '#1565c0', values: pick('enqueued')},
          {label: 'retried', color: '#ef6c00', values: pick('retried')}]}));
    } catch (e) {
      fill(charts, h('p', {class: 'muted'}, `Charts need an admin key (${e.code}).`));
    }
  }
  async function loadHealth() {
    try {
      const r = await api('/v1/health');
      fill(health, h('h2', {}, 'Health ', h('span', {class: `health health-${r.status}`}, r.status)),
        h('ul', {}, (r.alerts || []).map((a) => h('li', {class: 'alert'}, String(a)))),
        (r.alerts || []).length ? null : h('p', {class: 'muted'}, 'No alerts.'));
    } catch (e) {
      fill(health, h('h2', {}, 'Health'), h('p', {class: 'muted'}, `Not available (${e.code}).`));
    }
  }
  async function loadSchedules() {
    try {
      const r = await api('/v1/schedules');
      const list = r.schedules || r.items || [];
      fill(schedules, h('h2', {}, 'Schedules'), list.length ? h('table', {class: 'grid'},
        h('thead', {}, h('tr', {}, h('th', {}, 'name'), h('th', {}, 'cron'), h('th', {}, 'running'),
                         h('th', {}, 'next run'), h('th', {}, ''))),
        h('tbody', {}, list.map((s) => h('tr', {},
          h('td', {}, s.name), h('td', {}, s.cron),
          h('td', {}, s.running ? h('span', {class: 'running-dot'}, 'running') : 'idle'),
          h('td', {title: fmtTime(s.next_run_at)}, relTime(s.next_run_at)),
          h('td', {}, h('button', {onclick: () => trigger(s.name)}, 'Trigger'))))))
        : h('p', {class: 'muted'}, 'No schedules.'));
    } catch (e) {
      fill(schedules, h('h2', {}, 'Schedules'), h('p', {class: 'muted'}, `Not available (${e.code}).`));
    }
  }
  async function trigger(name) {
    if (!await confirmDialog(`Run schedule ${name} now?`, 'Trigger')) return;
    try {
      const r = await api(`/v1/schedules/${encodeURIComponent(name)}/trigger`, {method: 'POST'});
      toast(`Triggered ${name}: job ${r.job_id}`);
    } catch (e) {
      toast(`${e.code}: ${e.message}`, 'error');
    }
    loadSchedules();
  }
  refresh();
  timer = setInterval(refresh, 10000);
  return () => clearInterval(timer);
}
