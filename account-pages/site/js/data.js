// My account: download everything held on me, or delete the account.
import { start, requireSession, bindForm, customerCall, t, announce, endSession, localProblem, toSignIn, Problem } from './common.js';

await start();
requireSession();

const exportButton = document.getElementById('export');
exportButton.addEventListener('click', async () => {
  exportButton.setAttribute('aria-busy', 'true');
  try {
    const data = await customerCall('GET', '/me/export');
    const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'my-account.json';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    announce(t('export.done'));
  } catch (err) {
    const alert = document.getElementById('export-alert');
    alert.textContent = err instanceof Problem ? t('error.generic', { detail: err.message }) : t('error.unexpected');
  } finally {
    exportButton.removeAttribute('aria-busy');
  }
});

const form = document.getElementById('delete');
bindForm(form, async (values) => {
  if (!form.elements.understood.checked) {
    throw localProblem([{ field: 'understood', message: t('delete.confirmFirst') }]);
  }
  await customerCall('DELETE', '/me', values);
  endSession();
  toSignIn('deleted');
}, () => ({ invalid_credentials: t('password.wrong'), 401: t('password.wrong') }), { invalid_credentials: 'password' });
