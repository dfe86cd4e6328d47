// A new password from the mailed reset link (?tenant=&token=).
import { start, bindForm, call, anonymousToken, tenantPath, strengthMeter, t, announce, param, localProblem, endSession } from './common.js';

await start();
const form = document.getElementById('reset');
const token = param('token');
strengthMeter(form.elements.password);
if (!token) {
  form.hidden = true;
  document.getElementById('again').hidden = false;
  announce(t('link.incomplete'));
}

bindForm(form, async (values) => {
  if ((values.password || '') !== form.elements.password_repeat.value) {
    throw localProblem([{ field: 'password_repeat', message: t('error.repeat') }]);
  }
  try {
    await call('POST', tenantPath('/password/reset/update'), { token, password: values.password }, await anonymousToken());
  } catch (err) {
    if (err.code === 'invalid_token') document.getElementById('again').hidden = false;
    throw err;
  }
  endSession();
  form.hidden = true;
  document.getElementById('done').hidden = false;
  announce(t('reset.done'));
}, () => ({ invalid_token: t('link.invalid'), weak_password: t('error.weakPassword') }));
