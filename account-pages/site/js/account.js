// My account: the profile (PATCH me with the version read; only changed fields).
import { start, requireSession, bindForm, customerCall, t, announce, language, Problem } from './common.js';

await start();
requireSession();
const form = document.getElementById('profile');
const FIELDS = ['firstName', 'lastName', 'company', 'contactPhone', 'preferredLanguage'];
let profile = null;

function showFacts(me, who) {
  document.getElementById('fact-email').textContent = who.email || '–';
  document.getElementById('fact-number').textContent = me.customerNumber || '–';
  const since = me.metadata && me.metadata.createdAt;
  document.getElementById('fact-since').textContent = since ? new Date(since).toLocaleDateString(language()) : '–';
}

async function load({ keepTyped = false } = {}) {
  const [me, who] = await Promise.all([customerCall('GET', '/me'), customerCall('GET', '/validateauthtoken')]);
  profile = me;
  showFacts(me, who);
  if (!keepTyped) for (const f of FIELDS) form.elements[f].value = me[f] ?? '';
}

await load();
document.addEventListener('languagechange', () => load({ keepTyped: true }));

bindForm(form, async () => {
  const body = { metadata: { version: profile.metadata.version } };
  for (const f of FIELDS) {
    const now = form.elements[f].value;
    if (now !== (profile[f] ?? '')) body[f] = now === '' ? null : now;
  }
  try {
    profile = await customerCall('PATCH', '/me', body);
  } catch (err) {
    // Changed elsewhere meanwhile: take the new version, keep what was typed.
    if (err instanceof Problem && err.status === 409) await load({ keepTyped: true });
    throw err;
  }
  announce(t('profile.saved'));
}, () => ({ 409: t('profile.conflict') }));
