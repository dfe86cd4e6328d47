// My account: sessions (sign out the others), password change, two-step
// verification (an authenticator app: set up, recovery codes, turn off),
// e-mail change.
import { start, requireSession, session, bindForm, customerCall, strengthMeter, t, announce, language, localProblem, clearErrors, Problem } from './common.js';

await start();
requireSession();
const list = document.getElementById('session-list');
let sessions = [];
let email = '';

function when(value) {
  return value ? new Date(value).toLocaleString(language(), { dateStyle: 'medium', timeStyle: 'short' }) : '–';
}

/** "Chrome on Linux" from a user agent; the whole string when it is none we know. */
function device(ua) {
  if (!ua) return t('sessions.unknownDevice');
  const browser = [['Edg/', 'Edge'], ['Firefox/', 'Firefox'], ['Chrome/', 'Chrome'], ['Safari/', 'Safari']].find(([k]) => ua.includes(k));
  const os = [['Android', 'Android'], ['iPhone', 'iPhone'], ['iPad', 'iPad'], ['Windows', 'Windows'], ['Mac OS X', 'macOS'], ['Linux', 'Linux']].find(([k]) => ua.includes(k));
  return browser && os ? t('sessions.device', { browser: browser[1], os: os[1] }) : ua.slice(0, 60);
}

function render() {
  list.replaceChildren(...sessions.map((s) => {
    const li = document.createElement('li');
    li.dataset.sessionId = s.sessionId;
    const title = document.createElement('strong');
    title.textContent = device(s.userAgent);
    title.title = s.userAgent || '';
    if (s.current) {
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = t('sessions.current');
      title.append(badge);
    }
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = t('sessions.meta', { created: when(s.createdAt), used: when(s.lastUsedAt) });
    li.append(title, meta);
    if (!s.current) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'secondary';
      b.textContent = t('sessions.signOut');
      b.setAttribute('aria-label', `${t('sessions.signOut')}: ${title.textContent} (${when(s.createdAt)})`);
      b.addEventListener('click', async () => {
        await customerCall('DELETE', `/me/sessions/${encodeURIComponent(s.sessionId)}`);
        await load();
        announce(t('sessions.signedOut'));
      });
      const actions = document.createElement('div');
      actions.className = 'actions';
      actions.append(b);
      li.append(actions);
    }
    return li;
  }));
}

async function load() {
  const body = await customerCall('GET', '/me/sessions');
  sessions = Array.isArray(body) ? body : body.sessions || [];
  // This device first, then the most recently used.
  sessions.sort((a, b) => (b.current === true) - (a.current === true) || String(b.lastUsedAt).localeCompare(String(a.lastUsedAt)));
  render();
}

const who = await customerCall('GET', '/validateauthtoken');
email = who.email || '';
document.getElementById('current-email').textContent = email || '–';
document.addEventListener('languagechange', render);
await load();

const password = document.getElementById('password');
strengthMeter(password.elements.newPassword, () => [email]);
bindForm(password, async (values) => {
  await customerCall('POST', '/me/password/change', values);
  password.reset();
  await load();
  announce(t('password.done'));
}, () => ({ invalid_credentials: t('password.wrong'), weak_password: t('error.weakPassword'), 401: t('password.wrong') }), { invalid_credentials: 'currentPassword' });

// ---- two-step verification: an authenticator app (TOTP) ----
const totp = {
  off: document.getElementById('totp-off'),
  enrol: document.getElementById('totp-enrol'),
  recovery: document.getElementById('totp-recovery'),
  on: document.getElementById('totp-on'),
};
const disable = document.getElementById('totp-disable');
let recoveryCodes = [];

/** Shows one state of the section: off, enrol, recovery or on. */
function totpState(state) {
  for (const [name, el] of Object.entries(totp)) el.hidden = name !== state;
  if (state !== 'recovery') recoveryCodes = [];
}

async function loadTotp() {
  const accounts = await customerCall('GET', '/me/accounts');
  const internal = (Array.isArray(accounts) ? accounts : []).find((a) => a.type === 'internal');
  totpState(internal && internal.hasTotp ? 'on' : 'off');
}

/** The QR code of `text` as an SVG drawn from qrcode-generator's modules (no
 *  data: URL, which the pages' policy would refuse); without the vendored
 *  library the key and the link below it still do. */
async function drawQr(box, text) {
  box.replaceChildren();
  let qrcode;
  try {
    qrcode = (await import('../vendor/qrcode.js')).default;
  } catch {
    box.hidden = true;
    return;
  }
  qrcode.stringToBytes = (s) => Array.from(new TextEncoder().encode(s));
  const qr = qrcode(0, 'M');
  qr.addData(text, 'Byte');
  qr.make();
  const n = qr.getModuleCount();
  const quiet = 4;
  let d = '';
  for (let row = 0; row < n; row += 1) {
    for (let col = 0; col < n; col += 1) {
      if (qr.isDark(row, col)) d += `M${col + quiet} ${row + quiet}h1v1h-1z`;
    }
  }
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const size = n + 2 * quiet;
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('width', '200');
  svg.setAttribute('height', '200');
  svg.setAttribute('shape-rendering', 'crispEdges');
  svg.setAttribute('aria-hidden', 'true');
  const background = document.createElementNS(ns, 'rect');
  background.setAttribute('width', String(size));
  background.setAttribute('height', String(size));
  background.setAttribute('fill', '#ffffff');
  const modules = document.createElementNS(ns, 'path');
  modules.setAttribute('d', d);
  modules.setAttribute('fill', '#000000');
  svg.append(background, modules);
  box.append(svg);
  box.hidden = false;
}

const startAlert = document.getElementById('totp-start-alert');
document.getElementById('totp-start').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  if (button.getAttribute('aria-busy') === 'true') return;
  button.setAttribute('aria-busy', 'true');
  startAlert.replaceChildren();
  try {
    const enrolment = await customerCall('POST', '/me/totp');
    totp.enrol.reset();
    clearErrors(totp.enrol);
    // The key in groups of four, as authenticator apps take it (spaces are ignored).
    document.getElementById('totp-secret').textContent = enrolment.secret.replace(/(.{4})(?=.)/g, '$1 ');
    const uri = document.getElementById('totp-uri');
    uri.href = enrolment.otpauthUri;
    uri.textContent = enrolment.otpauthUri;
    await drawQr(document.getElementById('totp-qr'), enrolment.otpauthUri);
    totpState('enrol');
    totp.enrol.elements.code.focus();
  } catch (err) {
    if (err instanceof Problem && err.code === 'second_factor_enabled') return loadTotp();
    startAlert.textContent = err instanceof Problem ? t('error.generic', { detail: err.message }) : t('error.unexpected');
  } finally {
    button.removeAttribute('aria-busy');
  }
});

document.getElementById('totp-cancel').addEventListener('click', () => {
  totpState('off');
  document.getElementById('totp-start').focus();
});

bindForm(totp.enrol, async (values) => {
  let body;
  try {
    body = await customerCall('POST', '/me/totp/confirm', { code: values.code || '' });
  } catch (err) {
    if (err instanceof Problem && err.code === 'enrolment_required') {
      totpState('off');
      startAlert.textContent = t('totp.setupExpired');
      document.getElementById('totp-start').focus();
      return;
    }
    throw err;
  }
  recoveryCodes = body.recoveryCodes || [];
  document.getElementById('recovery-codes').replaceChildren(
    ...recoveryCodes.map((code) => Object.assign(document.createElement('li'), { textContent: code })),
  );
  totp.recovery.reset();
  clearErrors(totp.recovery);
  totpState('recovery');
  document.getElementById('recovery-heading').tabIndex = -1;
  document.getElementById('recovery-heading').focus();
}, () => ({ invalid_code: t('totp.wrongCode'), 429: t('error.tooMany') }), { invalid_code: 'code' });

function recoveryText() {
  const shop = document.querySelector('[data-brand-name]')?.textContent || '';
  return `${t('totp.fileTitle', { shop, email })}\n\n${recoveryCodes.join('\n')}\n`;
}

document.getElementById('recovery-copy').addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText(recoveryText());
    announce(t('totp.copied'), { focus: false });
  } catch {
    const range = document.createRange();
    range.selectNodeContents(document.getElementById('recovery-codes'));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    announce(t('totp.copyFailed'), { focus: false });
  }
});

document.getElementById('recovery-download').addEventListener('click', () => {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([recoveryText()], { type: 'text/plain' }));
  a.download = 'recovery-codes.txt';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  announce(t('totp.downloaded'), { focus: false });
});

bindForm(totp.recovery, async () => {
  if (!totp.recovery.elements.saved.checked) {
    throw localProblem([{ field: 'saved', message: t('totp.savedFirst') }]);
  }
  document.getElementById('recovery-codes').replaceChildren();
  totpState('on');
  disable.reset();
  await load();
  announce(t('totp.enabled'));
}, {});

bindForm(disable, async (values) => {
  const entered = (values.code || '').trim();
  if (!entered) throw localProblem([{ field: 'code', message: t('totp.codeMissing') }]);
  // Six digits are the app's code; anything else is taken for a recovery code.
  const body = { password: values.password || '' };
  if (/^[\d ]+$/.test(entered)) body.code = entered; else body.recoveryCode = entered;
  try {
    await customerCall('DELETE', '/me/totp', body);
  } catch (err) {
    if (err instanceof Problem && err.status === 404) return loadTotp();
    // The field the form has for either kind of code.
    if (err instanceof Problem) err.errors = err.errors.map((e) => (e.field === 'recoveryCode' ? { ...e, field: 'code' } : e));
    throw err;
  }
  disable.reset();
  totpState('off');
  await load();
  announce(t('totp.disabled'));
}, () => ({
  invalid_credentials: t('password.wrong'),
  invalid_code: t('totp.wrongDisableCode'),
  429: t('error.tooMany'),
}), { invalid_credentials: 'password', invalid_code: 'code' });

await loadTotp();

const change = document.getElementById('email-change');
bindForm(change, async (values) => {
  await customerCall('POST', '/me/accounts/internal/email/change', { email, ...values });
  announce(t('email.sent', { email: values.newEmail }));
  change.elements.password.value = '';
}, () => ({ invalid_credentials: t('password.wrong'), 429: t('error.tooMany') }), { invalid_credentials: 'password' });

// Not signed in any more (e.g. another tab confirmed a new address)?
if (!session()) location.replace('index.html');
