// My account: sessions (sign out the others), password change, two-step
// verification (an authenticator app: set up, recovery codes, turn off),
// passkeys (list, add, remove), e-mail change.
import { start, requireSession, session, bindForm, customerCall, strengthMeter, t, announce, language, localProblem, clearErrors, Problem } from './common.js';
import { passkeysSupported, createPasskey, cancelled } from './passkeys.js';

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

/** Whether the account has a password (an internal account): passkeys ask for it. */
let hasPassword = true;

async function loadTotp() {
  const accounts = await customerCall('GET', '/me/accounts');
  const internal = (Array.isArray(accounts) ? accounts : []).find((a) => a.type === 'internal');
  hasPassword = !!internal;
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

// ---- passkeys: list, add (name, password, the browser's prompt), remove ----
const passkeyList = document.getElementById('passkey-list');
const passkeyNone = document.getElementById('passkey-none');
const passkeyListAlert = document.getElementById('passkey-list-alert');
const passkeyAdd = document.getElementById('passkey-add');
const passkeyUnavailable = document.getElementById('passkey-unavailable');
let passkeys = [];
/** The passkey whose removal waits for a yes. */
let confirming = null;

function passkeyItem(p) {
  const li = document.createElement('li');
  li.dataset.passkeyId = p.id;
  const title = document.createElement('strong');
  title.textContent = p.name;
  const meta = document.createElement('span');
  meta.className = 'meta';
  meta.textContent = t('passkeys.meta', { created: when(p.createdAt), used: p.lastUsedAt ? when(p.lastUsedAt) : t('passkeys.never') });
  li.append(title, meta);
  const actions = document.createElement('div');
  actions.className = 'actions';
  const button = (text, className, onClick) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = className;
    b.textContent = text;
    b.addEventListener('click', onClick);
    actions.append(b);
    return b;
  };
  if (confirming === p.id) {
    const question = document.createElement('p');
    question.className = 'confirm';
    question.id = `passkey-confirm-${p.id}`;
    question.textContent = t('passkeys.confirm', { name: p.name });
    li.append(question);
    const yes = button(t('passkeys.confirmRemove'), 'danger', (event) => removePasskey(p, event.currentTarget));
    yes.dataset.confirmRemove = '';
    yes.setAttribute('aria-describedby', question.id);
    button(t('common.cancel'), 'secondary', () => confirmRemoval(null, p.id));
  } else {
    const remove = button(t('passkeys.remove'), 'secondary', () => confirmRemoval(p.id));
    remove.dataset.remove = '';
    remove.setAttribute('aria-label', t('passkeys.removeLabel', { name: p.name }));
  }
  li.append(actions);
  return li;
}

function renderPasskeys() {
  passkeyNone.hidden = passkeys.length > 0;
  passkeyList.hidden = passkeys.length === 0;
  passkeyList.replaceChildren(...passkeys.map(passkeyItem));
}

/** Asks "remove?" in the passkey's own row (focus on the yes), or takes the question back. */
function confirmRemoval(id, back = null) {
  confirming = id;
  passkeyListAlert.replaceChildren();
  renderPasskeys();
  const row = passkeyList.querySelector(`li[data-passkey-id="${CSS.escape(id || back)}"]`);
  row?.querySelector(id ? '[data-confirm-remove]' : '[data-remove]')?.focus();
}

async function loadPasskeys() {
  const body = await customerCall('GET', '/me/passkeys');
  passkeys = Array.isArray(body) ? body : [];
  if (!passkeys.some((p) => p.id === confirming)) confirming = null;
  renderPasskeys();
}

async function removePasskey(p, button) {
  if (button.getAttribute('aria-busy') === 'true') return;
  button.setAttribute('aria-busy', 'true');
  passkeyListAlert.replaceChildren();
  try {
    await customerCall('DELETE', `/me/passkeys/${encodeURIComponent(p.id)}`);
  } catch (err) {
    // Gone already (another tab): the list below says so.
    if (!(err instanceof Problem && err.status === 404)) {
      button.removeAttribute('aria-busy');
      passkeyListAlert.textContent = err instanceof Problem ? t('error.generic', { detail: err.message }) : t('error.unexpected');
      return;
    }
  }
  confirming = null;
  await loadPasskeys();
  // The credential epoch moved: every other session is over.
  await load();
  announce(t('passkeys.removed', { name: p.name }));
}

/** No adding here (the browser cannot, or the shop offers none); the list stays. */
function passkeysUnavailable(text) {
  passkeyAdd.hidden = true;
  passkeyUnavailable.textContent = text;
  passkeyUnavailable.hidden = false;
}

const defaultName = () => device(navigator.userAgent).slice(0, 64);
const passwordField = document.getElementById('passkey-password-field');
// An account without a password confirms with a fresh provider sign-in instead.
passwordField.hidden = !hasPassword;
passkeyAdd.elements.password.disabled = !hasPassword;
if (!passkeyAdd.elements.name.value) passkeyAdd.elements.name.value = defaultName();
if (!passkeysSupported()) passkeysUnavailable(t('passkeys.unsupported'));

bindForm(passkeyAdd, async (values) => {
  const name = (values.name || '').trim();
  if (!name) throw localProblem([{ field: 'name', message: t('passkeys.nameMissing') }]);
  let options;
  try {
    options = await customerCall('POST', '/me/passkeys/options', hasPassword ? { password: values.password || '' } : {});
  } catch (err) {
    if (err instanceof Problem && err.code === 'passkeys_not_configured') return passkeysUnavailable(t('passkeys.notOffered'));
    throw err;
  }
  let credential;
  try {
    credential = await createPasskey(options.publicKey);
  } catch (err) {
    if (cancelled(err)) { announce(t('passkeys.cancelled'), { focus: false }); return; }
    // The authenticator holds one of the excluded credentials: this device has a passkey already.
    if (err && err.name === 'InvalidStateError') throw new Problem(0, { code: 'passkey_exists' });
    if (err && err.name === 'SecurityError') throw new Problem(0, { code: 'wrong_site' });
    console.error(err);
    throw new Problem(0, { code: 'passkey_failed' });
  }
  const added = await customerCall('POST', '/me/passkeys', { challengeId: options.challengeId, name, credential });
  passkeyAdd.reset();
  passkeyAdd.elements.name.value = defaultName();
  await loadPasskeys();
  // The credential epoch moved: every other session is over.
  await load();
  announce(t('passkeys.added', { name: added.name }));
}, () => ({
  invalid_credentials: t('password.wrong'),
  invalid_passkey: t('passkeys.rejected'),
  too_many_passkeys: t('passkeys.tooMany'),
  passkey_exists: t('passkeys.exists'),
  passkey_failed: t('passkeys.rejected'),
  wrong_site: t('passkey.wrongSite'),
  429: t('error.tooMany'),
}), { invalid_credentials: 'password' });

document.addEventListener('languagechange', renderPasskeys);
await loadPasskeys();

const change = document.getElementById('email-change');
bindForm(change, async (values) => {
  await customerCall('POST', '/me/accounts/internal/email/change', { email, ...values });
  announce(t('email.sent', { email: values.newEmail }));
  change.elements.password.value = '';
}, () => ({ invalid_credentials: t('password.wrong'), 429: t('error.tooMany') }), { invalid_credentials: 'password' });

// Not signed in any more (e.g. another tab confirmed a new address)?
if (!session()) location.replace('index.html');
