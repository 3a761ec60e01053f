// DOM helpers. Everything from job data reaches the page as text nodes or
// attribute values set through the DOM, never as HTML: a payload holding
// "<img src=x onerror=...>" shows as those characters.

// h('div', {class: 'x', onclick: fn}, 'text', child, [more]) -> Element
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// Appends children (strings as text; arrays flattened; null skipped).
export function add(el, ...children) {
  append(el, children);
  return el;
}

// Replaces el's children.
export function fill(el, ...children) {
  return add(clear(el), ...children);
}

// Only http(s) links and images from job data; anything else (javascript:,
// data: pages) is dropped.
export function safeUrl(url) {
  if (typeof url !== 'string' || url === '') return null;
  try {
    const u = new URL(url, location.href);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

export function fmtTime(t) {
  if (!t) return '—';
  const d = new Date(t);
  return isNaN(d) ? String(t) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function relTime(t) {
  if (!t) return '—';
  const s = Math.round((Date.parse(t) - Date.now()) / 1000);
  const a = Math.abs(s);
  const [n, unit] = a < 60 ? [a, 's'] : a < 3600 ? [Math.round(a / 60), 'min'] :
    a < 86400 ? [Math.round(a / 3600), 'h'] : [Math.round(a / 86400), 'd'];
  return s <= 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`;
}

export function duration(ms) {
  if (ms === null || ms === undefined || isNaN(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3600000) return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
  return `${Math.floor(ms / 3600000)} h ${Math.round((ms % 3600000) / 60000)} min`;
}

export function badge(status) {
  return h('span', {class: `badge badge-${status}`}, status);
}

export function jsonBlock(value, open = false) {
  const text = value === undefined ? 'null' : JSON.stringify(value, null, 2);
  return h('details', {class: 'json', open}, h('summary', {}, open ? 'JSON' : 'show JSON'),
           h('pre', {}, text));
}

export function toast(message, kind = 'ok') {
  const box = document.getElementById('toasts');
  const t = h('div', {class: `toast toast-${kind}`}, message);
  box.appendChild(t);
  setTimeout(() => t.remove(), 6000);
}

// A confirmation dialog; resolves true when confirmed.
export function confirmDialog(text, yes = 'Confirm') {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-yes').textContent = yes;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), {once: true});
    dialog.showModal();
  });
}
