// The public API, with the key the operator typed (session storage only).
const KEY = 'jobtrail.key';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const auth = {
  get: () => sessionStorage.getItem(KEY),
  set: (k) => sessionStorage.setItem(KEY, k),
  clear: () => sessionStorage.removeItem(KEY),
};

export async function api(path, {method = 'GET', body} = {}) {
  const headers = {Accept: 'application/json'};
  const key = auth.get();
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                               cache: 'no-store'});
  const text = await r.text();
  let doc = null;
  try { doc = text ? JSON.parse(text) : null; } catch { doc = null; }
  if (!r.ok) {
    const err = doc && doc.error ? doc.error : {code: `HTTP_${r.status}`, message: text || r.statusText};
    if (r.status === 401) window.dispatchEvent(new CustomEvent('jobtrail:unauthorized'));
    throw new ApiError(r.status, err.code, err.message);
  }
  return doc;
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
