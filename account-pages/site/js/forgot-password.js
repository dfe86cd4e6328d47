// Request a reset link: the same answer whether or not the address has an account.
import { start, bindForm, call, anonymousToken, tenantPath, t, announce } from './common.js';

await start();
const form = document.getElementById('forgot');
bindForm(form, async (values) => {
  await call('POST', tenantPath('/password/reset'), values, await anonymousToken());
  form.hidden = true;
  announce(t('forgot.done', { email: values.email || '' }));
}, () => ({ 429: t('error.tooMany') }));
