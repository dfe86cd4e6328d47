// Activation from the mailed link (?tenant=&identifier=&secret=): one click,
// or a password and its repetition when the link needs one.
import { start, bindForm, call, tenantPath, strengthMeter, t, announce, param, Problem } from './common.js';

await start();
const form = document.getElementById('activate');
const choose = document.getElementById('choose-password');
const identifier = param('identifier');
const secret = param('secret');
strengthMeter(form.elements.password);
if (!identifier || !secret) {
  form.hidden = true;
  announce(t('link.incomplete'));
}

bindForm(form, async (values) => {
  try {
    await call('POST', tenantPath('/activate'), { identifier, secret, ...values });
  } catch (err) {
    // The link needs a password: ask for it, then show what the API said.
    if (err instanceof Problem && choose.hidden && err.errors.some((e) => e.field === 'password')) {
      choose.hidden = false;
      throw new Problem(err.status, { ...err.body, code: 'password_needed' });
    }
    throw err;
  }
  form.hidden = true;
  document.getElementById('intro').hidden = true;
  document.getElementById('done').hidden = false;
  announce(t('activate.done'));
}, () => ({ password_needed: t('activate.needsPassword'), invalid_token: t('link.invalid'), weak_password: t('error.weakPassword') }));
