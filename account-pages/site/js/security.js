// My account: sessions (sign out the others), password change, e-mail change.
import { start, requireSession, session, bindForm, customerCall, strengthMeter, t, announce, language } from './common.js';

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

const change = document.getElementById('email-change');
bindForm(change, async (values) => {
  await customerCall('POST', '/me/accounts/internal/email/change', { email, ...values });
  announce(t('email.sent', { email: values.newEmail }));
  change.elements.password.value = '';
}, () => ({ invalid_credentials: t('password.wrong'), 429: t('error.tooMany') }), { invalid_credentials: 'password' });

// Not signed in any more (e.g. another tab confirmed a new address)?
if (!session()) location.replace('index.html');
