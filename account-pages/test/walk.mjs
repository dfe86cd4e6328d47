// The account pages walked in headless Chromium (Debian's package, driven by
// playwright-core) against `accounts serve`: sign up, activate from the
// mailed link, sign in, profile, addresses, sessions, password and e-mail
// change, sign out, reset, sign in again, sign in with a mailed code, set up
// two-step verification (an authenticator app: QR code, first code, recovery
// codes), sign in with its codes and a recovery code, turn it off, add a
// passkey (Chromium's virtual authenticator), sign in with it, remove it,
// export, delete. Each step checks
// what the page shows and what the API holds; wrong input on every form must
// show the API's field errors next to the fields and keep what was typed;
// axe-core finds no serious or critical violation on any page; no page breaks
// its Content-Security-Policy. Screenshots of every page at desktop and phone
// width go to target/account-pages/.
//
// Run by scripts/browser-test.sh (through scripts/with-local-server.sh, which
// sets ACCOUNTS_URL and ACCOUNTS_OUTBOX, and ACCOUNTS_BIN and ACCOUNTS_TABLE
// for the operator command that gives the tenant its passkey origin).
import { readFileSync, readdirSync, mkdirSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { createHmac } from 'node:crypto';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const BASE = process.env.ACCOUNTS_URL;
const OUTBOX = process.env.ACCOUNTS_OUTBOX;
if (!BASE || !OUTBOX) throw new Error('run through scripts/browser-test.sh: ACCOUNTS_URL and ACCOUNTS_OUTBOX are unset');
const SHOTS = process.env.SCREENSHOT_DIR || join(root, 'target', 'account-pages');
mkdirSync(SHOTS, { recursive: true });
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const PAGES = `${BASE}/account`;
const TENANT = 'demo';
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };

const started = Date.now();
let step = 0;
function log(text) { console.log(`  ${String(++step).padStart(2)} ${text} (${((Date.now() - started) / 1000).toFixed(1)} s)`); }
function assert(cond, text) { if (!cond) throw new Error(`FAIL: ${text}`); }
function eq(actual, expected, text) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`FAIL: ${text}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

// ---- the API, straight (what it holds after each step) ----
async function api(method, path, body, token) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const r = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}
async function anonymous() {
  return (await api('GET', `/customerlogin/auth/anonymous/login?tenant=${TENANT}&client_id=storefront`)).body.access_token;
}
async function apiLogin(email, password) {
  return api('POST', `/customer/${TENANT}/login`, { email, password }, await anonymous());
}

/** An operator command (`accounts tenant patch ...`) on the server's table. */
function operator(...args) {
  const { ACCOUNTS_BIN, ACCOUNTS_TABLE } = process.env;
  if (!ACCOUNTS_BIN || !ACCOUNTS_TABLE) throw new Error('run through scripts/browser-test.sh: ACCOUNTS_BIN and ACCOUNTS_TABLE are unset');
  execFileSync(ACCOUNTS_BIN, args, { env: { ...process.env, TABLE_NAME: ACCOUNTS_TABLE }, stdio: ['ignore', 'ignore', 'inherit'] });
}

// ---- the outbox ----
function mails() {
  if (!existsSync(OUTBOX)) return [];
  return readdirSync(OUTBOX).filter((f) => f.endsWith('.json')).sort()
    .map((f) => JSON.parse(readFileSync(join(OUTBOX, f), 'utf8')));
}
/** The link of the newest mail to `to` whose link carries `param`, waiting a little for it. */
async function mailedLink(to, param, after = 0) {
  for (let i = 0; i < 50; i++) {
    const found = mails().slice(after).reverse().find((m) => JSON.stringify(m.to).includes(to) && m.text.includes(`${param}=`));
    if (found) return found.text.split(/\s+/).find((w) => w.startsWith('http') && w.includes(`${param}=`));
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`FAIL: no mail to ${to} with a ${param} link`);
}

/** The six-digit code in the newest mail to `to` (after the first `after` mails). */
async function mailedCode(to, after = 0) {
  for (let i = 0; i < 50; i++) {
    const found = mails().slice(after).reverse().find((m) => JSON.stringify(m.to).includes(to) && /^\d{6}$/m.test(m.text));
    if (found) return found.text.match(/^(\d{6})$/m)[1];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`FAIL: no mail to ${to} with a code`);
}

// ---- an authenticator app: RFC 6238 (HMAC-SHA1, six digits, 30 s) ----
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 255); bits -= 8; }
  }
  return Buffer.from(out);
}
function totpAt(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = h[19] & 15;
  return String((h.readUInt32BE(offset) & 0x7fffffff) % 1e6).padStart(6, '0');
}
/** A code of a time step not used yet: the API takes one step of skew either
 *  way and each step once, so three codes need no waiting. */
let lastStep = 0;
async function nextTotp(secret) {
  const now = () => Math.floor(Date.now() / 30000);
  let step = Math.max(lastStep + 1, now() - 1);
  // The step before runs out with the current one: not in its last seconds.
  if (step < now() + 0 && 30 - (Date.now() / 1000) % 30 < 5) step = now();
  while (step > now() + 1) await new Promise((r) => setTimeout(r, 500));
  lastStep = step;
  return totpAt(secret, step);
}
const wrongCode = (code) => String((Number(code) + 500000) % 1e6).padStart(6, '0');

// ---- the browser: one Chromium, one context, one page ----
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-US', acceptDownloads: true });
const page = await context.newPage();
const cspViolations = [];
const pageErrors = [];
page.on('console', (m) => { if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(`${page.url()}: ${m.text()}`); });
page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
const seenCsp = new Set();
page.on('response', (r) => {
  const url = new URL(r.url());
  if (url.pathname.startsWith('/account/') && url.pathname.endsWith('.html')) {
    const csp = r.headers()['content-security-policy'] || '';
    assert(csp.startsWith("default-src 'self'"), `${url.pathname} is served with a CSP (${csp})`);
    seenCsp.add(url.pathname);
  }
});

// Opens `url`, which sends itself on to a page matching `landing`, and waits
// until that page is ready. The page leaves while it is still loading (its
// first API call answers 401), and on a loaded machine Playwright may report
// the load it was waiting for as aborted (net::ERR_ABORTED); what counts is
// where the tab ends up.
async function settleOn(url, landing) {
  await page.goto(url).catch((e) => { if (!String(e).includes('ERR_ABORTED')) throw e; });
  await page.waitForFunction((pattern) => new RegExp(pattern).test(location.pathname) && document.body?.dataset.ready === 'true', landing.source, { polling: 100 })
    .catch(async (e) => {
      // The wait started on the page that was leaving; wait again on the one it went to.
      if (!/destroyed|navigation|ERR_ABORTED/i.test(String(e))) throw e;
      await page.waitForURL(landing, { waitUntil: 'commit' });
      await page.waitForSelector('body[data-ready="true"]');
    });
  assert(landing.test(new URL(page.url()).pathname), `landed on ${page.url()}`);
}

async function open(path) {
  await page.goto(path.startsWith('http') ? path : `${PAGES}/${path}`);
  await page.waitForSelector('body[data-ready="true"]');
}
const axeViolations = [];
async function axe(name) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  for (const v of result.violations) {
    if (v.impact === 'serious' || v.impact === 'critical') {
      axeViolations.push(`${name}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    }
  }
}
const shot = new Set();
/** axe on the page as shown, and (once per name) screenshots at desktop and phone width. */
async function check(name, { screenshot = true } = {}) {
  await axe(name);
  if (!screenshot || shot.has(name)) return;
  shot.add(name);
  await page.screenshot({ path: join(SHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: join(SHOTS, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
}
const text = (sel) => page.locator(sel).innerText();
const value = (sel) => page.locator(sel).inputValue();
async function fieldError(id) {
  await page.waitForSelector(`#${id}[aria-invalid="true"]`);
  const message = await text(`#${CSS_escape(id)}-error`);
  assert(message.trim().length > 0, `an error is shown next to #${id}`);
  const describedBy = await page.getAttribute(`#${id}`, 'aria-describedby');
  assert(describedBy.split(' ').includes(`${id}-error`), `#${id} is described by its error`);
  return message;
}
function CSS_escape(id) { return id.replace(/([.:])/g, '\\$1'); }
/** Waits until the page's status region says `words`. */
async function statusSays(words) {
  await page.waitForFunction((w) => document.querySelector('#status').textContent.includes(w), words);
}
async function alertText(form) { await page.waitForSelector(`#${form} .alert:not(:empty)`); return text(`#${form} .alert`); }
async function submit(form) { await page.click(`#${form} button[type="submit"]`); }
function session() { return page.evaluate(() => JSON.parse(sessionStorage.getItem('ca.session') || 'null')); }

const stamp = Date.now().toString(36);
const EMAIL = `ann.${stamp}@example.com`;
const NEW_EMAIL = `ann.lee.${stamp}@example.com`;
const PASSWORD = 'violet tulips under rain';
const PASSWORD_2 = 'orange lanterns over harbour';
const PASSWORD_3 = 'quiet maple rivers at dawn';

// The passkey steps' origin, given to the tenant before the server first
// reads its settings (it keeps them for a minute).
const LOCAL = BASE.replace('//127.0.0.1:', '//localhost:');
operator('tenant', 'patch', '--tenant', TENANT, '--settings', JSON.stringify({ passkeys: { rpId: 'localhost', origins: [LOCAL] } }));

try {
  console.log(`account pages: walking ${PAGES}/ in ${browser.version()}`);

  // ---- sign up ----
  await open(`signup.html?tenant=${TENANT}`);
  eq(await text('h1'), 'Create your account', 'the sign-up page');
  eq(await page.getAttribute('[data-brand-logo]', 'src'), '/account/demo-logo.svg', 'the tenant logo');
  assert((await text('header .brand')).includes('demo shop'), 'the tenant name in the header');
  const accent = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--accent').trim());
  eq(accent, '#0b6e4f', 'the tenant accent colour');
  await check('signup');
  await page.fill('#firstName', 'Ann');
  await page.fill('#lastName', 'Lee');
  await page.fill('#email', 'not-an-address');
  await page.fill('#password', 'password1');
  await page.fill('#a-street', 'Hauptstr.');
  await page.fill('#a-zipCode', '10115');
  await page.fill('#a-city', 'Berlin');
  await page.fill('#a-country', 'XX');
  await page.waitForFunction(() => document.querySelector('#password-strength').textContent.includes('Too easy'));
  await submit('signup');
  await fieldError('email');
  await fieldError('a-country');
  eq(await value('#email'), 'not-an-address', 'the typed e-mail stays after an error');
  eq(await value('#a-city'), 'Berlin', 'the typed city stays after an error');
  eq(await page.evaluate(() => document.activeElement.id), 'email', 'focus moves to the first bad field');
  await check('signup-errors', { screenshot: false });
  await page.fill('#email', EMAIL);
  await page.fill('#a-country', 'DE');
  await submit('signup');
  const weak = await fieldError('password');
  assert(/guess|weak/i.test(weak), `a weak password is refused next to the field (${weak})`);
  eq(await value('#password'), 'password1', 'the typed password stays after an error');
  await page.fill('#password', PASSWORD);
  await page.waitForFunction(() => document.querySelector('#password-strength').textContent.includes('Good to go'));
  await submit('signup');
  await statusSays(EMAIL);
  eq((await apiLogin(EMAIL, PASSWORD)).body.code, 'account_not_activated', 'API: the account waits for activation');
  log('sign up: field errors next to the fields, then PENDING');

  // ---- activate from the mailed link ----
  const activation = await mailedLink(EMAIL, 'secret');
  assert(activation.startsWith(`${PAGES}/activate.html?`), `the activation link opens the account pages (${activation})`);
  const wrong = new URL(activation);
  wrong.searchParams.set('secret', 'not-the-secret');
  await open(wrong.href);
  await submit('activate');
  assert((await alertText('activate')).includes('used already'), 'a wrong secret is refused');
  await open(activation);
  eq(await text('h1'), 'Activate your account', 'the activation page');
  await check('activate');
  await submit('activate');
  await statusSays('active');
  eq((await apiLogin(EMAIL, PASSWORD)).status, 200, 'API: the activated account signs in');
  log('activate from the outbox link');

  // ---- sign in ----
  await open(`index.html?tenant=${TENANT}`);
  eq(await text('h1'), 'Sign in', 'the sign-in page');
  await check('signin');
  await page.fill('#email', EMAIL);
  await page.fill('#password', 'wrong password here');
  await submit('signin');
  assert((await alertText('signin')).includes('wrong'), 'a wrong password is refused');
  eq(await value('#email'), EMAIL, 'the typed e-mail stays');
  await page.fill('#password', '');
  await page.fill('#email', '');
  await submit('signin');
  await fieldError('email');
  await fieldError('password');
  await page.fill('#email', EMAIL);
  await page.fill('#password', PASSWORD);
  await submit('signin');
  await page.waitForURL(/account\.html/);
  await page.waitForSelector('body[data-ready="true"]');
  await page.waitForFunction(() => document.querySelector('#fact-email').textContent.includes('@'));
  eq(await text('#fact-email'), EMAIL, 'the profile shows the e-mail');
  let me = await session();
  eq((await api('GET', `/customer/${TENANT}/validateauthtoken`, undefined, me.accessToken)).body.email, EMAIL, 'API: the page holds a customer token');
  log('sign in');

  // ---- profile ----
  await check('account');
  eq(await value('#firstName'), 'Ann', 'the profile form shows the first name');
  await page.fill('#firstName', 'A'.repeat(101));
  await page.fill('#company', 'Lee Trading');
  await submit('profile');
  await fieldError('firstName');
  eq(await value('#company'), 'Lee Trading', 'the typed company stays after an error');
  await page.fill('#firstName', 'Annika');
  await page.selectOption('#preferredLanguage', 'de');
  await submit('profile');
  await statusSays('saved');
  let profile = (await api('GET', `/customer/${TENANT}/me`, undefined, me.accessToken)).body;
  eq([profile.firstName, profile.company, profile.preferredLanguage], ['Annika', 'Lee Trading', 'de'], 'API: the profile changed');
  log('edit profile');

  // ---- addresses: add a second, make it default, edit, delete ----
  await page.click('nav.account a[href="addresses.html"]');
  await page.waitForSelector('body[data-ready="true"]');
  await page.waitForSelector('#address-list li');
  eq(await page.locator('#address-list li').count(), 1, 'the sign-up address is listed');
  assert((await text('#address-list li')).includes('Default'), 'the first address is the default');
  await check('addresses', { screenshot: false });
  await page.fill('#contactName', 'Ann at work');
  await page.fill('#city', 'Hamburg');
  await page.fill('#country', 'Germany');
  await submit('address');
  await fieldError('street');
  await fieldError('zipCode');
  await fieldError('country');
  eq(await value('#city'), 'Hamburg', 'the typed city stays after an error');
  await check('addresses-errors', { screenshot: false });
  await page.fill('#street', 'Speicherstadt');
  await page.fill('#streetNumber', '7');
  await page.fill('#zipCode', '20457');
  await page.fill('#country', 'DE');
  await submit('address');
  await statusSays('saved');
  await page.waitForFunction(() => document.querySelectorAll('#address-list li').length === 2);
  await page.click('#address-list li:has-text("Ann at work") button:has-text("Make default")');
  await page.waitForFunction(() => document.querySelector('#status').textContent.includes('default'));
  let addresses = (await api('GET', `/customer/${TENANT}/me/addresses`, undefined, me.accessToken)).body;
  eq(addresses.filter((a) => a.isDefault).map((a) => a.city), ['Hamburg'], 'API: the second address is the default');
  assert((await text('#address-list li:has-text("Ann at work")')).includes('Default'), 'the page marks the new default');
  await page.click('#address-list li:has-text("Berlin") button:has-text("Edit")');
  eq(await value('#city'), 'Berlin', 'the edit form holds the address');
  await page.fill('#city', 'Potsdam');
  await page.fill('#zipCode', '14467');
  await submit('address');
  await page.waitForSelector('#address-list li:has-text("Potsdam")');
  await check('addresses');
  await page.fill('#street', 'Old Lane');
  await page.fill('#zipCode', '1010');
  await page.fill('#city', 'Wien');
  await page.fill('#country', 'AT');
  await submit('address');
  await page.waitForFunction(() => document.querySelectorAll('#address-list li').length === 3);
  await page.click('#address-list li:has-text("Wien") button:has-text("Delete")');
  await page.waitForFunction(() => document.querySelectorAll('#address-list li').length === 2);
  addresses = (await api('GET', `/customer/${TENANT}/me/addresses`, undefined, me.accessToken)).body;
  eq(addresses.map((a) => `${a.city}${a.isDefault ? '*' : ''}`).sort(), ['Hamburg*', 'Potsdam'], 'API: edited, added and deleted');
  log('add a second address, make it default, edit one, delete one');

  // ---- sessions: see them, sign out another ----
  const other = await apiLogin(EMAIL, PASSWORD);
  await page.click('nav.account a[href="security.html"]');
  await page.waitForSelector('body[data-ready="true"]');
  const otherRow = `#session-list li[data-session-id="${other.body.session_id}"]`;
  await page.waitForSelector(otherRow);
  eq(await page.locator(`#session-list li[data-session-id="${me.sessionId}"] .badge`).innerText(), 'This device', 'the current session is marked');
  await check('security');
  await page.click(`${otherRow} button`);
  await page.waitForSelector(otherRow, { state: 'detached' });
  await statusSays('signed out');
  eq((await api('GET', `/customer/${TENANT}/validateauthtoken`, undefined, other.body.access_token)).status, 401, 'API: the other session is signed out');
  log('sessions: sign out the other one');

  // ---- change password ----
  await page.fill('#currentPassword', PASSWORD);
  await page.fill('#newPassword', 'password1');
  await submit('password');
  await fieldError('newPassword');
  eq(await value('#currentPassword'), PASSWORD, 'the typed password stays');
  await page.fill('#currentPassword', 'not my password');
  await page.fill('#newPassword', PASSWORD_2);
  await submit('password');
  await fieldError('currentPassword');
  eq(await value('#newPassword'), PASSWORD_2, 'the typed new password stays');
  await page.fill('#currentPassword', PASSWORD);
  await submit('password');
  await statusSays('changed');
  eq((await apiLogin(EMAIL, PASSWORD_2)).status, 200, 'API: the new password signs in');
  eq((await apiLogin(EMAIL, PASSWORD)).status, 401, 'API: the old one does not');
  log('change password');

  // ---- change e-mail, confirm from the mail ----
  await page.fill('#newEmail', 'nope');
  await page.fill('#email-password', PASSWORD_2);
  await submit('email-change');
  await fieldError('newEmail');
  eq(await value('#email-password'), PASSWORD_2, 'the typed password stays');
  await page.fill('#newEmail', NEW_EMAIL);
  await page.fill('#email-password', 'not my password');
  await submit('email-change');
  await fieldError('email-password');
  eq(await value('#newEmail'), NEW_EMAIL, 'the typed address stays');
  await page.fill('#email-password', PASSWORD_2);
  await submit('email-change');
  await statusSays(NEW_EMAIL);
  const confirm = await mailedLink(NEW_EMAIL, 'key');
  assert(confirm.startsWith(`${PAGES}/confirm-email.html?`), `the confirmation link opens the account pages (${confirm})`);
  await open(confirm);
  eq(await text('h1'), 'Confirm your new e-mail address', 'the confirmation page');
  await check('confirm-email');
  await submit('confirm');
  await statusSays('changed');
  eq((await apiLogin(NEW_EMAIL, PASSWORD_2)).status, 200, 'API: the new address signs in');
  eq((await apiLogin(EMAIL, PASSWORD_2)).status, 401, 'API: the old address does not');
  eq((await api('GET', `/customer/${TENANT}/validateauthtoken`, undefined, me.accessToken)).status, 401, 'API: the change ended the page\'s session');
  log('change e-mail and confirm it from the mail');

  // ---- sign in with the new address, sign out ----
  await open(`index.html?tenant=${TENANT}`);
  await page.fill('#email', NEW_EMAIL);
  await page.fill('#password', PASSWORD_2);
  await submit('signin');
  await page.waitForURL(/account\.html/);
  await page.waitForSelector('body[data-ready="true"]');
  me = await session();
  await page.click('#sign-out');
  await page.waitForURL(/index\.html/);
  await statusSays('signed out');
  eq(await session(), null, 'the page forgot the tokens');
  eq((await api('GET', `/customer/${TENANT}/validateauthtoken`, undefined, me.accessToken)).status, 401, 'API: the session is revoked');
  log('sign out');

  // ---- request a reset, open the link, set a new password ----
  await page.click('a[href^="forgot-password.html"]');
  await page.waitForSelector('body[data-ready="true"]');
  eq(await text('h1'), 'Forgot your password?', 'the reset request page');
  await check('forgot-password');
  await page.fill('#email', 'nope');
  await submit('forgot');
  await fieldError('email');
  const before = mails().length;
  await page.fill('#email', NEW_EMAIL);
  await submit('forgot');
  await statusSays(NEW_EMAIL);
  const reset = await mailedLink(NEW_EMAIL, 'token', before);
  assert(reset.startsWith(`${PAGES}/reset-password.html?`), `the reset link opens the account pages (${reset})`);
  await open(reset);
  eq(await text('h1'), 'Choose a new password', 'the new password page');
  await check('reset-password');
  await page.fill('#password', PASSWORD_3);
  await page.fill('#password_repeat', 'something else');
  await submit('reset');
  await fieldError('password_repeat');
  await page.fill('#password', 'qwertyuiop');
  await page.fill('#password_repeat', 'qwertyuiop');
  await submit('reset');
  await fieldError('password');
  eq(await value('#password_repeat'), 'qwertyuiop', 'the typed repetition stays');
  await page.fill('#password', PASSWORD_3);
  await page.fill('#password_repeat', PASSWORD_3);
  await page.waitForFunction(() => document.querySelector('#password-strength').textContent.includes('Good to go'));
  await submit('reset');
  await statusSays('saved');
  eq((await apiLogin(NEW_EMAIL, PASSWORD_2)).status, 401, 'API: the old password is gone');
  log('request a reset, open the link, set a new password');

  // ---- sign in with it ----
  await page.click('#done a');
  await page.waitForSelector('body[data-ready="true"]');
  await page.fill('#email', NEW_EMAIL);
  await page.fill('#password', PASSWORD_3);
  await submit('signin');
  await page.waitForURL(/account\.html/);
  await page.waitForSelector('body[data-ready="true"]');
  await page.waitForFunction(() => document.querySelector('#fact-email').textContent.includes('@'));
  eq(await text('#fact-email'), NEW_EMAIL, 'signed in with the new password and address');
  me = await session();
  log('sign in with the new password');

  // ---- sign in with a mailed code ----
  async function signOut() {
    await page.click('#sign-out');
    await page.waitForURL(/index\.html/);
    await page.waitForSelector('body[data-ready="true"]');
  }
  async function signedIn() {
    await page.waitForURL(/account\.html/);
    await page.waitForSelector('body[data-ready="true"]');
    return session();
  }
  await signOut();
  await page.click('#use-code');
  assert(await page.isHidden('#signin'), 'the password form gives way to the code request');
  const NOBODY = `nobody.${stamp}@example.com`;
  await page.fill('#code-email', NOBODY);
  await submit('code-request');
  await statusSays('a code is on its way');
  const neutral = await text('#status');
  eq(await page.evaluate(() => document.activeElement.id), 'code', 'focus moves to the code');
  await page.click('#code-verify [data-use-password]');
  await page.click('#use-code');
  await page.fill('#code-email', NEW_EMAIL);
  const beforeCode = mails().length;
  await submit('code-request');
  await page.waitForFunction((e) => document.querySelector('#status').textContent.includes(e), NEW_EMAIL);
  eq((await text('#status')).replace(NEW_EMAIL, NOBODY), neutral, 'the same words whether or not the address has an account');
  eq(await page.getAttribute('#code', 'autocomplete'), 'one-time-code', 'the code field is a one-time code');
  eq(await page.getAttribute('#code', 'inputmode'), 'numeric', 'the code field asks for digits');
  await check('signin-code');
  const mailed = await mailedCode(NEW_EMAIL, beforeCode);
  await page.fill('#code', '12ab');
  await submit('code-verify');
  await fieldError('code');
  await page.fill('#code', wrongCode(mailed));
  await submit('code-verify');
  assert((await alertText('code-verify')).includes('wrong or no longer valid'), 'a wrong code is refused');
  assert((await fieldError('code')).length > 0, 'next to the field');
  await page.fill('#code', mailed);
  await submit('code-verify');
  me = await signedIn();
  eq((await api('GET', `/customer/${TENANT}/validateauthtoken`, undefined, me.accessToken)).body.email, NEW_EMAIL, 'API: the code signed in');
  log('sign in with a mailed code (a neutral answer, a wrong code refused)');

  // ---- two-step verification: set up an authenticator app ----
  await page.click('nav.account a[href="security.html"]');
  await page.waitForSelector('body[data-ready="true"]');
  await page.waitForSelector('#totp-off:not([hidden])');
  await page.click('#totp-start');
  await page.waitForSelector('#totp-enrol:not([hidden]) #totp-qr svg path');
  const secret = (await text('#totp-secret')).replace(/\s/g, '');
  const uri = await page.getAttribute('#totp-uri', 'href');
  assert(uri.startsWith('otpauth://totp/') && new URL(uri).searchParams.get('secret') === secret, `the key is the QR code's (${uri})`);
  assert((await page.getAttribute('#totp-qr svg path', 'd')).length > 500, 'the QR code is drawn');
  eq(await page.getAttribute('#totp-qr', 'role'), 'img', 'the QR code is an image to assistive technology');
  await check('totp-enrol');
  const first = await nextTotp(secret);
  await page.fill('#totp-code', wrongCode(first));
  await submit('totp-enrol');
  await fieldError('totp-code');
  await page.fill('#totp-code', first);
  await submit('totp-enrol');
  await page.waitForSelector('#totp-recovery:not([hidden])');
  const recovery = await page.locator('#recovery-codes li').allInnerTexts();
  eq(recovery.length, 10, 'ten recovery codes are shown');
  await check('totp-recovery');
  const [codesFile] = await Promise.all([page.waitForEvent('download'), page.click('#recovery-download')]);
  const saved = readFileSync(await codesFile.path(), 'utf8');
  assert(recovery.every((c) => saved.includes(c)), 'the download holds every recovery code');
  await submit('totp-recovery');
  await fieldError('recovery-saved');
  await page.check('#recovery-saved');
  await submit('totp-recovery');
  await statusSays('is on');
  await page.waitForSelector('#totp-on:not([hidden])');
  eq(await page.locator('#recovery-codes li').count(), 0, 'the codes are gone from the page');
  await check('totp-on');
  eq((await api('GET', `/customer/${TENANT}/me/accounts`, undefined, me.accessToken)).body[0].hasTotp, true, 'API: an authenticator is enrolled');
  eq((await apiLogin(NEW_EMAIL, PASSWORD_3)).body.code, 'second_factor_required', 'API: the password alone does not sign in');
  log('set up an authenticator app: QR code and key, a wrong first code, recovery codes downloaded');

  // ---- sign in: password, then the app's code ----
  async function toSecondFactor() {
    await page.fill('#email', NEW_EMAIL);
    await page.fill('#password', PASSWORD_3);
    await submit('signin');
    await page.waitForSelector('#second-factor:not([hidden])');
    eq(await page.evaluate(() => document.activeElement.id), 'factor-code', 'focus moves to the code');
  }
  await signOut();
  await toSecondFactor();
  assert(await page.isHidden('#signin'), 'the password step gives way to the code');
  await check('signin-second-factor');
  const appCode = await nextTotp(secret);
  await page.fill('#factor-code', wrongCode(appCode));
  await submit('second-factor');
  assert((await alertText('second-factor')).includes('not right'), 'a wrong code is refused');
  await fieldError('factor-code');
  await page.fill('#factor-code', appCode);
  await submit('second-factor');
  me = await signedIn();
  eq((await api('GET', `/customer/${TENANT}/validateauthtoken`, undefined, me.accessToken)).status, 200, 'API: signed in with the app\'s code');
  log('sign in with the password and the app\'s code (a wrong one refused)');

  // ---- a recovery code works once ----
  await signOut();
  await toSecondFactor();
  await page.click('#factor-toggle');
  eq(await page.evaluate(() => document.activeElement.id), 'factor-recovery', 'focus moves to the recovery code');
  await page.fill('#factor-recovery', recovery[0]);
  await submit('second-factor');
  me = await signedIn();
  await signOut();
  await toSecondFactor();
  await page.click('#factor-toggle');
  await page.fill('#factor-recovery', recovery[0]);
  await submit('second-factor');
  assert((await alertText('second-factor')).includes('used already'), 'a spent recovery code is refused');
  await fieldError('factor-recovery');
  log('a recovery code signs in once');

  // ---- the challenge expires: back to the password ----
  // (Five minutes are too long to wait: the request carries a dead challenge instead.)
  await page.route('**/login/secondFactor', (route) => {
    const body = JSON.parse(route.request().postData());
    route.continue({ postData: JSON.stringify({ ...body, challenge: 'expired-challenge-0000000000000000000000000000' }) });
  });
  await page.click('#factor-toggle');
  await page.fill('#factor-code', '000000');
  await submit('second-factor');
  await page.waitForSelector('#signin:not([hidden])');
  assert((await alertText('signin')).includes('expired'), 'the password step says why');
  eq(await page.evaluate(() => document.activeElement.id), 'password', 'focus is on the password');
  eq([await value('#email'), await value('#password')], [NEW_EMAIL, ''], 'the address stays, the password is asked again');
  await page.unroute('**/login/secondFactor');
  await page.fill('#password', PASSWORD_3);
  await submit('signin');
  await page.waitForSelector('#second-factor:not([hidden])');
  await page.click('#factor-toggle');
  await page.fill('#factor-recovery', recovery[1].toUpperCase());
  await submit('second-factor');
  me = await signedIn();
  log('an expired challenge goes back to the password; a second recovery code signs in');

  // ---- turn it off: password and a code ----
  await page.click('nav.account a[href="security.html"]');
  await page.waitForSelector('body[data-ready="true"]');
  await page.waitForSelector('#totp-on:not([hidden])');
  const offCode = await nextTotp(secret);
  await page.fill('#totp-password', 'not my password');
  await page.fill('#totp-disable-code', offCode);
  await submit('totp-disable');
  await fieldError('totp-password');
  eq(await value('#totp-disable-code'), offCode, 'the typed code stays');
  await page.fill('#totp-password', PASSWORD_3);
  await submit('totp-disable');
  await statusSays('is off');
  await page.waitForSelector('#totp-off:not([hidden])');
  eq((await api('GET', `/customer/${TENANT}/me/accounts`, undefined, me.accessToken)).body[0].hasTotp, false, 'API: no authenticator');
  eq((await apiLogin(NEW_EMAIL, PASSWORD_3)).status, 200, 'API: the password alone signs in again');
  log('turn two-step verification off with the password and a code');

  // ---- passkeys, on http://localhost:PORT ----
  // WebAuthn wants an RP id the page's host matches, and no browser takes an
  // IP address for one: these steps browse the same server as localhost
  // (its own tab storage, so signed in afresh there), which the tenant
  // names as its passkey origin (set at the start). The authenticator is
  // Chromium's virtual one.
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  await open(`${LOCAL}/account/index.html?tenant=${TENANT}`);
  assert(await page.isVisible('#use-passkey'), 'the sign-in page offers a passkey');
  eq(await page.getAttribute('#email', 'autocomplete'), 'username webauthn', 'the e-mail field offers passkeys in its autofill');
  await page.fill('#email', NEW_EMAIL);
  await page.fill('#password', PASSWORD_3);
  await submit('signin');
  me = await signedIn();
  const elsewhere = (await apiLogin(NEW_EMAIL, PASSWORD_3)).body.access_token;
  await page.click('nav.account a[href="security.html"]');
  await page.waitForSelector('body[data-ready="true"]');
  await page.waitForSelector('#passkey-none:not([hidden])');
  assert((await text('#passkeys')).includes('signs you out on your other devices'), 'the page says what adding and removing do');
  await page.fill('#passkey-name', 'Laptop');
  await page.fill('#passkey-password', 'not my password');
  await submit('passkey-add');
  await fieldError('passkey-password');
  eq(await value('#passkey-name'), 'Laptop', 'the typed name stays');
  await page.fill('#passkey-password', PASSWORD_3);
  await submit('passkey-add');
  await statusSays('Laptop');
  await page.waitForSelector('#passkey-list li');
  const row = await text('#passkey-list li');
  assert(row.includes('Laptop') && row.includes('last used never'), `the passkey is listed, never used (${row})`);
  const held = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
  eq(held.map((c) => c.isResidentCredential), [true], 'the authenticator holds one discoverable passkey');
  eq((await api('GET', `/customer/${TENANT}/me/passkeys`, undefined, me.accessToken)).body.map((p) => p.name), ['Laptop'], 'API: the passkey');
  eq((await api('GET', `/customer/${TENANT}/validateauthtoken`, undefined, elsewhere)).status, 401, 'API: the other session ended');
  eq((await api('GET', `/customer/${TENANT}/validateauthtoken`, undefined, me.accessToken)).status, 200, 'API: this one goes on');
  await check('passkeys');
  log('add a passkey on the security page (a wrong password refused; the other session ends)');

  // Signed out, with the passkey on the device: the sign-in page offers it in
  // the e-mail field's autofill (conditional mediation), and Chromium's
  // virtual authenticator picks it as a person picks it from the list.
  await page.click('#sign-out');
  me = await signedIn();
  eq((await api('GET', `/customer/${TENANT}/validateauthtoken`, undefined, me.accessToken)).body.email, NEW_EMAIL, 'API: the passkey from the autofill signed in');
  log('sign in with the passkey from the e-mail field\'s autofill');

  // The button. The autofill's own request for options is answered 503 here
  // (once), so it stays quiet and the button is what signs in.
  await page.route('**/login/passkey/options', (route) => route.fulfill({ status: 503, contentType: 'application/problem+json', body: '{"status":503}' }), { times: 1 });
  await signOut();
  assert(await page.isVisible('#use-passkey'), 'the passkey button after signing out');
  await page.click('#use-passkey');
  me = await signedIn();
  eq((await api('GET', `/customer/${TENANT}/validateauthtoken`, undefined, me.accessToken)).body.email, NEW_EMAIL, 'API: the passkey signed in');
  log('sign in with the passkey button, nothing typed');

  await page.click('nav.account a[href="security.html"]');
  await page.waitForSelector('body[data-ready="true"]');
  await page.waitForSelector('#passkey-list li');
  assert(!(await text('#passkey-list li')).includes('never'), 'the passkey shows when it was last used');
  await page.click('#passkey-list [data-remove]');
  assert(await page.evaluate(() => document.activeElement.hasAttribute('data-confirm-remove')), 'focus moves to the confirmation');
  assert((await text('#passkey-list li')).includes('Remove the passkey “Laptop”?'), 'the removal asks first');
  await check('passkey-remove');
  await page.click('#passkey-list [data-confirm-remove]');
  await statusSays('removed');
  await page.waitForSelector('#passkey-none:not([hidden])');
  eq((await api('GET', `/customer/${TENANT}/me/passkeys`, undefined, me.accessToken)).body, [], 'API: no passkey');
  log('remove the passkey (asked first)');

  // The authenticator still holds it: the API refuses it, picked from the
  // autofill as from the button.
  await signOut();
  assert((await alertText('signin')).includes('not accepted'), 'a removed passkey picked from the autofill is refused with a plain message');
  eq(new URL(page.url()).pathname, '/account/index.html', 'and nobody is signed in');
  await page.click('#use-passkey');
  await page.waitForFunction(() => !document.querySelector('#use-passkey').hasAttribute('aria-busy'));
  assert((await alertText('signin')).includes('not accepted'), 'a removed passkey is refused with a plain message');
  await check('signin-passkey-refused');
  // A prompt the person cancels (here: the device cannot verify them) says nothing.
  await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
  await page.click('#use-passkey');
  await page.waitForFunction(() => !document.querySelector('#use-passkey').hasAttribute('aria-busy'));
  eq(await text('#signin .alert'), '', 'a cancelled prompt shows no error');
  eq(await page.evaluate(() => document.activeElement.id), 'use-passkey', 'focus stays on the button');
  // A shop without passkeys: the button goes. (The server keeps a tenant's
  // settings for a minute: the answer is the API's, played by the route.)
  await page.route('**/login/passkey/options', (route) => route.fulfill({
    status: 409,
    contentType: 'application/problem+json',
    body: JSON.stringify({ type: 'urn:customer-accounts:problem:passkeys_not_configured', title: 'Conflict', status: 409, detail: 'This shop does not offer passkeys.', code: 'passkeys_not_configured' }),
  }));
  await page.click('#use-passkey');
  assert((await alertText('signin')).includes('does not offer passkeys'), 'a shop without passkeys says so');
  assert(await page.isHidden('#passkey-option'), 'and the button goes');
  eq(await page.evaluate(() => document.activeElement.id), 'email', 'focus moves to the e-mail');
  await page.unroute('**/login/passkey/options');
  await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
  log('a removed passkey is refused; a cancelled prompt is quiet; without passkeys the button goes');

  // Back on 127.0.0.1: adding the passkey signed that tab's session out, so
  // its pages go to sign in (quietly) on the first call.
  await settleOn(`${PAGES}/account.html`, /index\.html/);
  eq(await session(), null, 'the signed-out session is forgotten');
  await page.fill('#email', NEW_EMAIL);
  await page.fill('#password', PASSWORD_3);
  await submit('signin');
  me = await signedIn();
  log('the other tab, signed out by the passkey, goes to sign in');

  // ---- export, delete ----
  await page.click('nav.account a[href="data.html"]');
  await page.waitForSelector('body[data-ready="true"]');
  await check('data');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert(JSON.stringify(exported).includes(NEW_EMAIL), 'the export holds the account');
  await page.fill('#delete-password', 'not my password');
  await submit('delete');
  await fieldError('understood');
  await page.check('#understood');
  await submit('delete');
  await fieldError('delete-password');
  eq(await page.isChecked('#understood'), true, 'the ticked box stays ticked');
  await page.fill('#delete-password', PASSWORD_3);
  await submit('delete');
  await page.waitForURL(/index\.html/);
  await statusSays('deleted');
  eq((await apiLogin(NEW_EMAIL, PASSWORD_3)).status, 401, 'API: the account is gone');
  eq((await api('GET', `/customer/${TENANT}/me`, undefined, me.accessToken)).status, 401, 'API: its session is revoked');
  log('export, then delete the account');

  // ---- an activation link that needs a password (sign-up without one) ----
  const BO = `bo.${stamp}@example.com`;
  const signup = await api('POST', `/customer/${TENANT}/signup`, { email: BO, customerDetails: { firstName: 'Bo' } }, await anonymous());
  eq(signup.status, 202, 'API: a sign-up without a password');
  await open(await mailedLink(BO, 'secret'));
  assert(await page.isHidden('#choose-password'), 'no password is asked for before the API says so');
  await submit('activate');
  await fieldError('password');
  await fieldError('password_check');
  assert((await alertText('activate')).includes('choose a password'), 'the page asks for a password');
  await check('activate-password');
  await page.fill('#password', PASSWORD);
  await page.fill('#password_check', 'violet tulips under snow');
  await submit('activate');
  await fieldError('password_check');
  eq(await value('#password'), PASSWORD, 'the typed password stays');
  await page.fill('#password_check', PASSWORD);
  await submit('activate');
  await statusSays('active');
  eq((await apiLogin(BO, PASSWORD)).status, 200, 'API: activated with the chosen password');
  log('an activation link that needs a password');

  // ---- German ----
  await open(`index.html?tenant=${TENANT}`);
  await page.click('.lang button[data-lang="de"]');
  eq(await text('h1'), 'Anmelden', 'the sign-in page in German');
  eq(await page.getAttribute('html', 'lang'), 'de', 'the page language follows');
  await check('signin-de');
  eq(await text('#use-code'), 'Stattdessen einen Code senden', 'the code path in German');
  eq(await text('#use-passkey'), 'Mit einem Passkey anmelden', 'the passkey button in German');
  // The API answers in English; the page shows its field messages in German.
  await open(`signup.html?tenant=${TENANT}`);
  eq(await text('h1'), 'Konto anlegen', 'the sign-up page stays German');
  await page.fill('#email', 'keine-adresse');
  await page.fill('#password', 'kurz');
  await submit('signup');
  eq(await fieldError('email'), 'Muss eine einfache E-Mail-Adresse sein (name@example.com)', 'an API field message in German');
  await page.fill('#email', 'kurz@example.com');
  await submit('signup');
  const passwordMessage = await fieldError('password');
  assert(/^(Muss|Darf|Ist) /.test(passwordMessage), `the password's message in German (${passwordMessage})`);
  await page.click('.lang button[data-lang="en"]');
  log('German');

  eq(cspViolations, [], 'no Content-Security-Policy violation');
  eq(pageErrors, [], 'no script error');
  eq(axeViolations, [], 'axe: no serious or critical violation');
  const all = ['index', 'signup', 'activate', 'forgot-password', 'reset-password', 'confirm-email', 'account', 'addresses', 'security', 'data'];
  for (const p of all) assert(seenCsp.has(`/account/${p}.html`), `${p}.html was visited with its CSP`);
  console.log(`account pages: the walk passed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${SHOTS}`);
} catch (err) {
  await page.screenshot({ path: join(SHOTS, 'failure.png'), fullPage: true }).catch(() => {});
  console.error(`account pages: ${err.message}\n  at ${page.url()}\n  screenshot: ${join(SHOTS, 'failure.png')}`);
  if (axeViolations.length) console.error(`axe:\n  ${axeViolations.join('\n  ')}`);
  if (cspViolations.length || pageErrors.length) console.error([...cspViolations, ...pageErrors].join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
}
