// Sign in: an anonymous storefront session, then the customer login on it.
import { start, bindForm, call, anonymousToken, tenantPath, saveSession, session, t, announce, param, Problem } from './common.js';

await start();
const reasons = { 'signed-out': 'signin.signedOut', deleted: 'signin.deleted', 'email-changed': 'signin.emailChanged', 'password-reset': 'signin.passwordReset' };
if (reasons[param('reason')]) announce(t(reasons[param('reason')]), { focus: false });
else if (session()) location.replace('account.html');

const form = document.getElementById('signin');
const resend = document.getElementById('resend');
bindForm(form, async (values) => {
  resend.hidden = true;
  const anonymous = await anonymousToken();
  try {
    saveSession(await call('POST', tenantPath('/login'), values, anonymous));
  } catch (err) {
    if (err instanceof Problem && err.code === 'account_not_activated') resend.hidden = false;
    throw err;
  }
  location.assign('account.html');
}, () => ({
  invalid_credentials: t('signin.invalid'),
  account_not_activated: t('signin.notActivated'),
  account_locked: t('error.locked'),
  429: t('error.tooMany'),
}));

document.getElementById('resend-button').addEventListener('click', async () => {
  const email = form.elements.email.value;
  await call('POST', tenantPath('/activate/resend'), { email }, await anonymousToken()).catch(() => null);
  resend.hidden = true;
  announce(t('signin.resent', { email }));
});
