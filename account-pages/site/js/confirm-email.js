// Confirms an e-mail change from the mailed link (?tenant=&identifier=&key=).
import { start, bindForm, call, tenantPath, t, announce, param, endSession } from './common.js';

await start();
const form = document.getElementById('confirm');
const identifier = param('identifier');
const key = param('key');
if (!identifier || !key) {
  form.hidden = true;
  announce(t('link.incomplete'));
}

bindForm(form, async () => {
  await call('POST', tenantPath('/email/confirm'), { identifier, key });
  // The change ended every session of the account.
  endSession();
  form.hidden = true;
  document.getElementById('intro').hidden = true;
  document.getElementById('done').hidden = false;
  announce(t('confirm.done'));
}, () => ({ invalid_token: t('link.invalid'), email_taken: t('confirm.taken'), 409: t('confirm.taken') }));
