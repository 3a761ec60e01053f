// Jobs: filters, the search box, sorting and cursor paging over GET /v1/jobs
// (indexes only: a page costs its rows), row selection or "all N matching"
// for bulk cancel/retry (POST /v1/jobs/bulk) behind a dry-run count.
import {api, query} from './api.js';
import {add, badge, clear, fill, confirmDialog, duration, fmtTime, h, relTime, toast} from './dom.js';

const FILTERS = ['q', 'status', 'type', 'queue', 'owner', 'external_ref', 'created_after',
                 'created_before'];

export function renderJobs(main, params) {
  const state = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) || '']));
  state.sort = params.get('sort') || 'created';
  state.order = params.get('order') || 'desc';
  let cursors = [''];  // the cursor of each page seen, for "previous"
  let page = null;
  const selected = new Set();

  const input = (name, attrs = {}) => h('input', {name, id: `f-${name}`, value: state[name], ...attrs});
  const statusSelect = h('select', {name: 'status', id: 'f-status'},
    ['', 'pending', 'running', 'retrying', 'completed', 'failed', 'cancelled', 'pending,running,retrying']
      .map((s) => h('option', {value: s, selected: s === state.status}, s || 'any status')));
  const sortSelect = h('select', {name: 'sort', id: 'f-sort'},
    [['created', 'newest first', 'desc'], ['created', 'oldest first', 'asc'],
     ['updated', 'recently updated', 'desc']].map(([s, label, o]) => h('option', {
      value: `${s}:${o}`, selected: state.sort === s && state.order === o}, label)));
  const form = h('form', {class: 'filters', id: 'filters', onsubmit: (e) => {
      e.preventDefault();
      for (const k of FILTERS) state[k] = (k === 'status' ? statusSelect.value : form.elements[k].value).trim();
      [state.sort, state.order] = sortSelect.value.split(':');
      if (state.q && state.sort === 'updated') state.sort = 'created';  // a search sorts by creation
      location.hash = `#/jobs${query(Object.fromEntries([...FILTERS, 'sort', 'order'].map((k) => [k, state[k]])))}`;
    }},
  input('q', {type: 'search', placeholder: 'Search ids, refs, payloads, errors, logs…', class: 'search'}),
  statusSelect, input('type', {placeholder: 'type'}), input('queue', {placeholder: 'queue'}),
  input('owner', {placeholder: 'owner'}), input('external_ref', {placeholder: 'external ref'}),
  input('created_after', {placeholder: 'created after (RFC 3339)'}),
  input('created_before', {placeholder: 'created before'}),
  sortSelect, h('button', {type: 'submit', class: 'primary', id: 'apply'}, 'Apply'));

  const info = h('p', {class: 'muted', id: 'list-info'});
  const table = h('table', {class: 'grid jobs', id: 'jobs-table'});
  const pager = h('div', {class: 'pager'});
  const bulkBar = h('div', {class: 'bulk', id: 'bulk'});
  add(main, h('h1', {}, 'Jobs'), form, bulkBar, info, table, pager);

  function filterBody() {
    const f = {};
    for (const k of FILTERS) if (state[k]) f[k] = state[k];
    return f;
  }

  async function load(cursor) {
    const q = {...filterBody(), sort: state.sort, order: state.order, limit: 25, cursor};
    try {
      page = await api(`/v1/jobs${query(q)}`);
    } catch (e) {
      clear(table);
      fill(info, h('span', {class: 'error'}, `${e.code}: ${e.message}`));
      return;
    }
    selected.clear();
    renderTable();
    renderBulk();
    fill(info, `${page.total}${page.total_exact === false ? '+' : ''} matching`);
    fill(pager, 
      h('button', {disabled: cursors.length < 2, onclick: () => { cursors.pop(); load(cursors[cursors.length - 1]); }}, '← newer'),
      h('button', {disabled: !page.has_more, id: 'next-page',
                   onclick: () => { cursors.push(page.next_cursor); load(page.next_cursor); }}, 'older →'));
  }

  function renderTable() {
    const all = h('input', {type: 'checkbox', 'aria-label': 'select page', onchange: (e) => {
      for (const j of page.items) e.target.checked ? selected.add(j.id) : selected.delete(j.id);
      renderTable();
      renderBulk();
    }});
    all.checked = page.items.length > 0 && page.items.every((j) => selected.has(j.id));
    fill(table, 
      h('thead', {}, h('tr', {}, h('th', {}, all), ['type', 'status', 'started', 'duration', 'progress',
        'failed', 'owner', 'id'].map((c) => h('th', {}, c)))),
      h('tbody', {}, page.items.map((j) => {
        const box = h('input', {type: 'checkbox', 'aria-label': `select ${j.id}`, onchange: (e) => {
          e.target.checked ? selected.add(j.id) : selected.delete(j.id);
          renderBulk();
        }});
        box.checked = selected.has(j.id);
        const end = j.finished_at ? Date.parse(j.finished_at) : Date.now();
        const bar = h('progress', {max: 100, value: j.progress ?? 0});
        return h('tr', {dataset: {id: j.id}},
          h('td', {}, box),
          h('td', {}, h('a', {href: `#/job/${encodeURIComponent(j.id)}`, class: 'job-link'}, j.type)),
          h('td', {}, badge(j.status)),
          h('td', {title: fmtTime(j.started_at)}, j.started_at ? relTime(j.started_at) : '—'),
          h('td', {}, j.started_at ? duration(end - Date.parse(j.started_at)) : '—'),
          h('td', {}, bar, ` ${Math.round(j.progress ?? 0)}%`),
          h('td', {}, j.error_count ?? 0),
          h('td', {}, j.owner ?? ''),
          h('td', {class: 'mono'}, j.id.slice(0, 8)));
      })));
  }

  function renderBulk() {
    const total = page ? page.total : 0;
    fill(bulkBar, 
      h('span', {}, selected.size ? `${selected.size} selected` : 'No row selected'),
      ...['cancel', 'retry'].map((action) => [
        h('button', {disabled: !selected.size, onclick: () => runSelected(action)}, `${action} selected`),
        h('button', {id: `bulk-${action}-all`, disabled: !total,
                     onclick: () => runAll(action)}, `${action} all ${total}${page && page.total_exact === false ? '+' : ''} matching`)]));
  }

  async function runSelected(action) {
    const ids = [...selected];
    if (!await confirmDialog(`${action} ${ids.length} selected job(s)?`, `${action} ${ids.length}`)) return;
    let ok = 0, refused = 0;
    for (const id of ids) {
      try {
        await api(`/v1/jobs/${encodeURIComponent(id)}/${action}`, {method: 'POST', body: {}});
        ok++;
      } catch { refused++; }
    }
    toast(`${action}: ${ok} changed, ${refused} refused`, refused ? 'warn' : 'ok');
    load(cursors[cursors.length - 1]);
  }

  async function runAll(action) {
    const body = {action, filter: filterBody()};
    let dry;
    try {
      dry = await api('/v1/jobs/bulk', {method: 'POST', body: {...body, dry_run: true}});
    } catch (e) {
      toast(`${e.code}: ${e.message}`, 'error');
      return;
    }
    const skipped = dry.skipped_reasons.map((s) => `${s.count} ${s.status}`).join(', ');
    if (!dry.changed) {
      toast(`Nothing to ${action}: ${dry.matched} matching${skipped ? ` (${skipped})` : ''}`, 'warn');
      return;
    }
    const text = `${action} ${dry.changed} of ${dry.matched} matching job(s)?` +
                 (skipped ? ` ${dry.skipped} will be skipped (${skipped}).` : '');
    if (!await confirmDialog(text, `${action} ${dry.changed}`)) return;
    try {
      const done = await api('/v1/jobs/bulk', {method: 'POST', body});
      toast(`${action}: ${done.changed} changed, ${done.skipped} skipped`);
    } catch (e) {
      toast(`${e.code}: ${e.message}`, 'error');
    }
    load(cursors[cursors.length - 1]);
  }

  load('');
  return null;
}
