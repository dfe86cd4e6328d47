// Sign up: the account is PENDING until the mailed link activates it.
import { start, bindForm, call, anonymousToken, tenantPath, strengthMeter, t, language, announce } from './common.js';

await start();
const form = document.getElementById('signup');
const language_ = form.elements['customerDetails.preferredLanguage'];
if (!language_.value) language_.value = language();
strengthMeter(form.elements.password, () => [
  form.elements.email.value,
  form.elements['customerDetails.firstName'].value,
  form.elements['customerDetails.lastName'].value,
]);

bindForm(form, async (values) => {
  values.customerDetails ??= {};
  await call('POST', tenantPath('/signup'), values, await anonymousToken());
  form.hidden = true;
  announce(t('signup.done', { email: values.email || '' }));
}, () => ({ weak_password: t('error.weakPassword'), 429: t('error.tooMany') }));
