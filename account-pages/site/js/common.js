// What every account page shares: configuration (tenant, storefront client),
// language, the tenant's theme, calls to the public API, the signed-in
// session, and forms that show the API's field errors next to the fields.
import { API_MESSAGES, STRINGS } from './i18n.js';

const params = new URLSearchParams(location.search);
const store = window.sessionStorage;

// ---- configuration: config.json, overridden by ?tenant= and ?client_id= ----
let config = { tenant: 'demo', clientId: 'storefront', apiBase: '' };

async function loadConfig() {
  try {
    const r = await fetch('config.json', { cache: 'no-cache' });
    if (r.ok) config = { ...config, ...(await r.json()) };
  } catch { /* the defaults stand */ }
  const remembered = JSON.parse(store.getItem('ca.site') || 'null');
  if (remembered) config = { ...config, ...remembered };
  if (params.get('tenant')) config.tenant = params.get('tenant');
  if (params.get('client_id')) config.clientId = params.get('client_id');
  store.setItem('ca.site', JSON.stringify({ tenant: config.tenant, clientId: config.clientId }));
}

export const tenant = () => config.tenant;

// ---- language ----
const LANGS = ['en', 'de'];
let lang = 'en';

function chooseLanguage() {
  const wanted = params.get('lang') || localStorage.getItem('ca.lang') || (navigator.language || 'en').slice(0, 2);
  lang = LANGS.includes(wanted) ? wanted : 'en';
}

export function language() { return lang; }

/** The text for `key` in the page's language, with {name} placeholders filled. */
export function t(key, vars = {}) {
  const text = (STRINGS[lang] && STRINGS[lang][key]) ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (vars[name] ?? ''));
}

/** An API field message in the page's language (the API writes English). */
export function apiMessage(message) {
  for (const [pattern, text] of API_MESSAGES[lang] || []) {
    if (pattern.test(message)) return message.replace(pattern, text);
  }
  return message;
}

function translatePage() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  for (const button of document.querySelectorAll('.lang button')) {
    button.setAttribute('aria-pressed', String(button.dataset.lang === lang));
  }
}

export function setLanguage(next) {
  lang = LANGS.includes(next) ? next : 'en';
  localStorage.setItem('ca.lang', lang);
  translatePage();
  applyBrand();
  document.dispatchEvent(new CustomEvent('languagechange'));
}

// ---- theme: the tenant's name, logo and accent colour ----
let brand = null;

function contrastText(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return luminance > 0.179 ? '#000000' : '#ffffff';
}

function applyBrand() {
  if (!brand) return;
  const name = brand.name || config.tenant;
  for (const el of document.querySelectorAll('[data-brand-name]')) el.textContent = name;
  const logo = document.querySelector('[data-brand-logo]');
  if (logo && brand.logoUrl) {
    logo.src = brand.logoUrl;
    logo.alt = '';
    logo.hidden = false;
  }
  if (brand.accentColor) {
    document.documentElement.style.setProperty('--accent', brand.accentColor);
    document.documentElement.style.setProperty('--accent-text', contrastText(brand.accentColor));
  }
  const h1 = document.querySelector('h1');
  if (h1) document.title = `${h1.textContent} – ${name}`;
}

async function loadBrand() {
  const r = await api('GET', `/customer/${encodeURIComponent(config.tenant)}/branding`);
  brand = r.ok ? r.body : { name: config.tenant };
  applyBrand();
}

export function passwordPolicy() {
  return (brand && brand.passwordPolicy) || { minLength: 8, maxLength: 128, minScore: 3 };
}

// ---- the API ----
export class Problem extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.code = this.body.code || '';
    this.errors = Array.isArray(this.body.errors) ? this.body.errors : [];
  }
}

/** One call; `{ok, status, body}`, never throws for an HTTP status. */
export async function api(method, path, body, token) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(config.apiBase + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    return { ok: false, status: 0, body: { title: t('error.network') } };
  }
  const text = await response.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
  return { ok: response.ok, status: response.status, body: parsed, response };
}

/** `api`, throwing a Problem for anything but 2xx. */
export async function call(method, path, body, token) {
  const r = await api(method, path, body, token);
  if (!r.ok) throw new Problem(r.status, r.body);
  return r.body;
}

export const tenantPath = (rest) => `/customer/${encodeURIComponent(config.tenant)}${rest}`;

/** A fresh anonymous storefront token (a login spends the one it uses). */
export async function anonymousToken() {
  const q = new URLSearchParams({ tenant: config.tenant, client_id: config.clientId });
  const body = await call('GET', `/customerlogin/auth/anonymous/login?${q}`);
  return body.access_token;
}

// ---- the signed-in session (this tab only) ----
export function session() {
  const s = JSON.parse(store.getItem('ca.session') || 'null');
  return s && s.tenant === config.tenant ? s : null;
}

export function saveSession(tokens) {
  store.setItem('ca.session', JSON.stringify({
    tenant: config.tenant,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    sessionId: tokens.session_id || tokens.sessionId,
    customerId: tokens.customerId,
  }));
}

export function endSession() { store.removeItem('ca.session'); }

/** A call as the signed-in customer; refreshes the access token once on 401. */
export async function customerCall(method, rest, body) {
  const s = session();
  if (!s) return leaveForSignIn();
  let r = await api(method, tenantPath(rest), body, s.accessToken);
  if (r.status === 401 && s.refreshToken) {
    const refreshed = await api('POST', tenantPath('/refreshauthtoken'), { refresh_token: s.refreshToken });
    if (refreshed.ok) {
      saveSession(refreshed.body);
      r = await api(method, tenantPath(rest), body, session().accessToken);
    }
  }
  // Signed out meanwhile (another device changed the credentials, or signed this one out).
  if (r.status === 401) { endSession(); return leaveForSignIn(); }
  if (!r.ok) throw new Problem(r.status, r.body);
  return r.body;
}

/** Off to sign in; the caller's promise never settles, so nothing after it
 *  runs (or reports an error) on a page that is going away. */
function leaveForSignIn() {
  toSignIn();
  return new Promise(() => {});
}

export function toSignIn(reason) {
  const q = new URLSearchParams({ tenant: config.tenant });
  if (reason) q.set('reason', reason);
  location.assign(`index.html?${q}`);
}

/** Account pages: the signed-in customer, or off to sign in. */
export function requireSession() {
  const s = session();
  if (!s) toSignIn();
  return s;
}

// ---- forms ----
/** The form's named fields as a JSON object: `a.b` names nest, checkboxes are booleans. */
export function formValues(form, { omitEmpty = true } = {}) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled || el.dataset.local !== undefined) continue;
    let value;
    if (el.type === 'checkbox') value = el.checked;
    else value = el.value;
    if (omitEmpty && value === '') continue;
    const path = el.name.split('.');
    let target = out;
    for (const part of path.slice(0, -1)) target = target[part] ??= {};
    target[path.at(-1)] = value;
  }
  return out;
}

function errorSlot(field) {
  const id = `${field.id}-error`;
  let slot = document.getElementById(id);
  if (!slot) {
    slot = document.createElement('p');
    slot.id = id;
    slot.className = 'field-error';
    (field.closest('.field') || field.parentElement).appendChild(slot);
  }
  return slot;
}

function describe(field, id, on) {
  const ids = new Set((field.getAttribute('aria-describedby') || '').split(' ').filter(Boolean));
  if (on) ids.add(id); else ids.delete(id);
  if (ids.size) field.setAttribute('aria-describedby', [...ids].join(' '));
  else field.removeAttribute('aria-describedby');
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll('[aria-invalid="true"]')) {
    el.removeAttribute('aria-invalid');
    const slot = document.getElementById(`${el.id}-error`);
    if (slot) slot.textContent = '';
  }
  const alert = form.querySelector('.alert');
  if (alert) alert.replaceChildren();
}

/** Shows a problem on the form: each named field's message next to it, the
 *  rest (and a summary) in the form's alert; focus goes to the first field. */
export function showProblem(form, problem, messages = {}, codeFields = {}) {
  clearErrors(form);
  // A rule about one field that the API reports without naming it (a wrong current password).
  if (!problem.errors.length && codeFields[problem.code]) {
    const message = messages[problem.code] || problem.message;
    problem = new Problem(problem.status, { ...problem.body, errors: [{ field: codeFields[problem.code], message }] });
  }
  const alert = form.querySelector('.alert');
  const general = [];
  let first = null;
  for (const { field, message: original } of problem.errors || []) {
    const message = original ? apiMessage(original) : original;
    const el = form.elements.namedItem(field) || form.querySelector(`[data-field="${CSS.escape(field)}"]`);
    if (el && el.id && !el.hidden && el.type !== 'hidden') {
      el.setAttribute('aria-invalid', 'true');
      const slot = errorSlot(el);
      // The API's messages read "{field} {message}": the field is the label above.
      const sentence = message ? message[0].toUpperCase() + message.slice(1) : '';
      slot.textContent = slot.textContent ? `${slot.textContent} ${sentence}` : sentence;
      describe(el, slot.id, true);
      first ??= el;
    } else {
      general.push(`${field}: ${message}`);
    }
  }
  const summary = messages[problem.code] || messages[problem.status]
    || (problem.errors.length ? t('error.fields') : (problem.status === 0 ? problem.message : t('error.generic', { detail: problem.message })));
  const heading = document.createElement('p');
  heading.textContent = summary;
  const items = general.map((text) => Object.assign(document.createElement('li'), { textContent: text }));
  if (alert) {
    alert.replaceChildren(heading);
    if (items.length) {
      const ul = document.createElement('ul');
      ul.append(...items);
      alert.append(ul);
    }
  }
  // Focus goes to the first bad field in the order the form shows them.
  first = form.querySelector('[aria-invalid="true"]') || first;
  if (first) first.focus();
  else if (alert) { alert.tabIndex = -1; alert.focus(); }
}

/** Shows a field error found before calling the API (e.g. two passwords differ). */
export function localProblem(errors) { return new Problem(400, { errors }); }

/** Submits `form` through `handler(values)`; a Problem it throws is shown on
 *  the form, whose fields keep everything typed. */
export function bindForm(form, handler, messages, codeFields = {}) {
  form.noValidate = true;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    if (button?.getAttribute('aria-busy') === 'true') return;
    button?.setAttribute('aria-busy', 'true');
    clearErrors(form);
    try {
      await handler(formValues(form), event);
    } catch (err) {
      if (err instanceof Problem) showProblem(form, err, typeof messages === 'function' ? messages() : messages, codeFields);
      else { console.error(err); showProblem(form, new Problem(0, { title: t('error.unexpected') })); }
    } finally {
      button?.removeAttribute('aria-busy');
    }
  });
}

/** Announces a success in the page's status region (and moves focus there). */
export function announce(text, { focus = true } = {}) {
  const status = document.getElementById('status');
  if (!status) return;
  status.textContent = text;
  if (focus) { status.tabIndex = -1; status.focus(); }
}

// ---- the password strength meter: the tenant's policy, zxcvbn as the API runs it ----
let zxcvbnLoading = null;
function loadZxcvbn() {
  zxcvbnLoading ??= new Promise((resolve) => {
    const script = document.createElement('script');
    script.src = 'vendor/zxcvbn.js';
    script.onload = () => resolve(window.zxcvbn || null);
    script.onerror = () => resolve(null);
    document.head.appendChild(script);
  });
  return zxcvbnLoading;
}

/** Wires a meter under `input`; `personal()` names words the password must not lean on. */
export function strengthMeter(input, personal = () => []) {
  const box = document.getElementById(`${input.id}-meter`);
  if (!box) return;
  const bar = box.querySelector('.meter-bar span');
  const text = box.querySelector('.meter-text');
  let timer = null;
  const update = async () => {
    const value = input.value;
    const policy = passwordPolicy();
    if (!value) { bar.removeAttribute('data-score'); text.textContent = t('meter.empty', { min: policy.minLength }); return; }
    const length = [...value].length;
    if (length < policy.minLength) {
      bar.dataset.score = '0';
      text.textContent = t('meter.short', { min: policy.minLength });
      return;
    }
    if (length > policy.maxLength) {
      bar.dataset.score = '0';
      text.textContent = t('meter.long', { max: policy.maxLength });
      return;
    }
    const zxcvbn = await loadZxcvbn();
    if (!zxcvbn) { text.textContent = t('meter.unknown'); return; }
    const inputs = [];
    for (const word of personal().filter(Boolean)) {
      const lower = word.toLowerCase();
      inputs.push(lower, ...lower.split(/[@._\-+ ]/).filter((w) => w.length > 2));
    }
    const score = zxcvbn(value, inputs).score;
    bar.dataset.score = String(score);
    const words = [t('meter.s0'), t('meter.s1'), t('meter.s2'), t('meter.s3'), t('meter.s4')];
    text.textContent = score >= policy.minScore
      ? t('meter.ok', { strength: words[score] })
      : t('meter.weak', { strength: words[score] });
  };
  input.addEventListener('focus', () => loadZxcvbn(), { once: true });
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(update, 150); });
  document.addEventListener('languagechange', update);
  update();
}

// ---- the page frame ----
function wireFrame() {
  for (const button of document.querySelectorAll('.lang button')) {
    button.addEventListener('click', () => setLanguage(button.dataset.lang));
  }
  for (const a of document.querySelectorAll('a[data-keep-tenant]')) {
    const url = new URL(a.getAttribute('href'), location.href);
    url.searchParams.set('tenant', config.tenant);
    a.href = url.pathname.split('/').pop() + url.search;
  }
  const signOut = document.getElementById('sign-out');
  if (signOut) {
    signOut.addEventListener('click', async () => {
      const s = session();
      if (s) await api('POST', tenantPath('/logout'), {}, s.accessToken);
      endSession();
      toSignIn('signed-out');
    });
  }
}

/** Every page starts here: configuration, language, theme, frame. */
export async function start() {
  await loadConfig();
  chooseLanguage();
  translatePage();
  wireFrame();
  await loadBrand();
  document.body.dataset.ready = 'true';
}

/** The query parameter `name` of the page's URL. */
export function param(name) { return params.get(name); }
