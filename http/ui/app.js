// The dashboard: a key prompt, then three views on the public API
// (overview, jobs, one job), routed by the URL's hash.
import {auth} from './api.js';
import {add, clear, h} from './dom.js';
import {renderOverview} from './views_overview.js';
import {renderJobs} from './views_jobs.js';
import {renderJob} from './views_job.js';

const main = document.getElementById('main');
let stopCurrent = null;

function login(message) {
  clear(main);
  document.getElementById('logout').hidden = true;
  const input = h('input', {type: 'password', id: 'api-key', name: 'key', autocomplete: 'off',
                            placeholder: 'jt_… or a JWT', required: true});
  const form = h('form', {class: 'login', id: 'login',
    onsubmit: (e) => {
      e.preventDefault();
      auth.set(input.value.trim());
      route();
    }},
  h('h1', {}, 'jobtrail'),
  h('p', {}, 'An API key or token. It is kept in this tab only (session storage).'),
  message ? h('p', {class: 'error'}, message) : null,
  input, h('button', {class: 'primary', type: 'submit'}, 'Open the dashboard'));
  main.appendChild(form);
  input.focus();
}

function route() {
  if (stopCurrent) stopCurrent();
  stopCurrent = null;
  if (!auth.get()) return login();
  document.getElementById('logout').hidden = false;
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, qs] = hash.split('?');
  const params = new URLSearchParams(qs || '');
  for (const a of document.querySelectorAll('[data-nav]')) {
    a.classList.toggle('active', (path === '/' && a.dataset.nav === 'overview') ||
                                 (path.startsWith('/job') && a.dataset.nav === 'jobs'));
  }
  clear(main);
  if (path.startsWith('/job/')) stopCurrent = renderJob(main, decodeURIComponent(path.slice(5)));
  else if (path === '/jobs') stopCurrent = renderJobs(main, params);
  else stopCurrent = renderOverview(main);
}

window.addEventListener('hashchange', route);
window.addEventListener('jobtrail:unauthorized', () => {
  auth.clear();
  if (stopCurrent) stopCurrent();
  stopCurrent = null;
  login('That key was refused (401). Try another.');
});
document.getElementById('logout').addEventListener('click', () => {
  auth.clear();
  route();
});
route();
