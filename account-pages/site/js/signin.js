// Sign in: an anonymous storefront session, then the customer login on it —
// with the password or with a code mailed to the address; either may be
// answered "second factor required", completed here with a code from the
// authenticator app, a recovery code or (when the tenant asks every login
// for one) a mailed code. Or with a passkey, nothing typed and no second
// factor after it.
import { start, bindForm, call, api, anonymousToken, tenantPath, saveSession, session, t, announce, param, Problem, clearErrors, showProblem, tenant } from './common.js';
import { passkeysSupported, getPasskey, cancelled, autofillSupported } from './passkeys.js';

await start();
const reasons = { 'signed-out': 'signin.signedOut', deleted: 'signin.deleted', 'email-changed': 'signin.emailChanged', 'password-reset': 'signin.passwordReset' };
if (reasons[param('reason')]) announce(t(reasons[param('reason')]), { focus: false });
else if (session()) location.replace('account.html');

const form = document.getElementById('signin');
const resend = document.getElementById('resend');
const codeRequest = document.getElementById('code-request');
const codeVerify = document.getElementById('code-verify');
const factor = document.getElementById('second-factor');
const more = document.getElementById('more');
const steps = [form, codeRequest, codeVerify, factor];

/** Shows one step (the others hidden) and focuses `focus`. */
function show(step, focus) {
  for (const s of steps) s.hidden = s !== step;
  resend.hidden = true;
  more.hidden = step === factor;
  (focus || step.querySelector('input:not([disabled])')).focus();
}

function signedIn(tokens) {
  saveSession(tokens);
  location.assign('account.html');
}

// ---- the second factor ----
/** The challenge of a login answered "second factor required": the anonymous
 *  session it is bound to, what completes it, and the step it came from. */
let pending = null;
let recovery = false;
const factorFields = { invalid_code: 'code' };
const factorIntro = document.getElementById('factor-intro');
const factorToggle = document.getElementById('factor-toggle');

function renderFactor() {
  if (!pending) return;
  const methods = pending.methods;
  const app = methods.includes('totp');
  factorIntro.textContent = t(recovery ? 'factor.recoveryIntro' : app ? 'factor.totpIntro' : 'factor.emailIntro');
  factorToggle.hidden = !(app && methods.includes('recovery_code'));
  factorToggle.textContent = t(recovery ? 'factor.useApp' : 'factor.useRecovery');
}

function useRecovery(on) {
  recovery = on;
  const code = factor.elements.code;
  const rc = factor.elements.recoveryCode;
  code.disabled = on;
  rc.disabled = !on;
  document.getElementById('factor-code-field').hidden = on;
  document.getElementById('factor-recovery-field').hidden = !on;
  factorFields.invalid_code = on ? 'recoveryCode' : 'code';
  clearErrors(factor);
  renderFactor();
}

/** A login (password or e-mail code) on a fresh anonymous session; on
 *  "second factor required" the factor step takes over. */
async function login(path, values, from) {
  const anonymous = await anonymousToken();
  const r = await api('POST', tenantPath(path), values, anonymous);
  if (r.ok) return signedIn(r.body);
  const problem = new Problem(r.status, r.body);
  if (problem.code !== 'second_factor_required') throw problem;
  pending = {
    anonymous,
    from,
    challenge: problem.body.challenge,
    methods: problem.body.secondFactorMethods || ['totp', 'recovery_code'],
    expiresAt: Date.now() + (problem.body.challengeExpiresIn || 300) * 1000,
  };
  factor.reset();
  useRecovery(false);
  announce('', { focus: false });
  show(factor, factor.elements.code);
}

/** The challenge is dead (expired, spent, or the credentials changed): back
 *  to the step the sign-in started from, saying why. */
function challengeExpired() {
  const back = pending && pending.from === 'code' ? codeRequest : form;
  pending = null;
  form.elements.password.value = '';
  show(back);
  showProblem(back, new Problem(401, { code: 'invalid_challenge' }), { invalid_challenge: t('factor.expired') });
  (back === form ? form.elements.password : codeRequest.elements.email).focus();
}

bindForm(factor, async (values) => {
  if (!pending || Date.now() > pending.expiresAt) return challengeExpired();
  const r = await api('POST', tenantPath('/login/secondFactor'), { challenge: pending.challenge, ...values }, pending.anonymous);
  if (r.ok) return signedIn(r.body);
  const problem = new Problem(r.status, r.body);
  if (problem.code === 'invalid_challenge') return challengeExpired();
  throw problem;
}, () => ({
  invalid_code: t(recovery ? 'factor.wrongRecovery' : pending?.methods.includes('totp') ? 'factor.wrong' : 'factor.wrongEmail'),
  account_locked: t('error.locked'),
  429: t('error.tooMany'),
}), factorFields);

factorToggle.addEventListener('click', () => {
  useRecovery(!recovery);
  (recovery ? factor.elements.recoveryCode : factor.elements.code).focus();
});
document.getElementById('factor-cancel').addEventListener('click', () => {
  pending = null;
  show(form);
});
document.addEventListener('languagechange', renderFactor);

// ---- the password ----
bindForm(form, async (values) => {
  resend.hidden = true;
  try {
    await login('/login', values, 'password');
  } catch (err) {
    if (err instanceof Problem && err.code === 'account_not_activated') resend.hidden = false;
    throw err;
  }
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

// ---- a code by mail ----
let codeEmail = '';

async function sendCode(email) {
  await call('POST', tenantPath('/login/emailCode'), { email }, await anonymousToken());
  codeEmail = email;
  // Always 202: the same words whether or not the address has an account.
  announce(t('code.sent', { email }), { focus: false });
}

document.getElementById('use-code').addEventListener('click', () => {
  clearErrors(codeRequest);
  codeRequest.elements.email.value = form.elements.email.value;
  announce('', { focus: false });
  show(codeRequest);
});
for (const button of document.querySelectorAll('[data-use-password]')) {
  button.addEventListener('click', () => {
    clearErrors(form);
    form.elements.email.value = codeEmail || codeRequest.elements.email.value;
    announce('', { focus: false });
    show(form);
  });
}

bindForm(codeRequest, async (values) => {
  await sendCode(values.email || '');
  codeVerify.reset();
  clearErrors(codeVerify);
  show(codeVerify);
}, () => ({ 429: t('error.tooMany') }));

bindForm(codeVerify, async (values) => {
  await login('/login/emailCode/verify', { email: codeEmail, code: values.code || '' }, 'code');
}, () => ({
  invalid_code: t('code.wrong'),
  account_locked: t('error.locked'),
  429: t('error.tooMany'),
}), { invalid_code: 'code' });

document.getElementById('code-again').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  if (button.getAttribute('aria-busy') === 'true') return;
  button.setAttribute('aria-busy', 'true');
  clearErrors(codeVerify);
  try {
    await sendCode(codeEmail);
    codeVerify.elements.code.value = '';
    codeVerify.elements.code.focus();
  } catch (err) {
    showProblem(codeVerify, err instanceof Problem ? err : new Problem(0, { title: t('error.unexpected') }), { 429: t('error.tooMany') });
  } finally {
    button.removeAttribute('aria-busy');
  }
});

// ---- a passkey ----
// Shown where the browser has WebAuthn; hidden for the rest of the visit once
// the API says the shop offers none (this tab remembers it per tenant).
const passkeyOption = document.getElementById('passkey-option');
const passkeyButton = document.getElementById('use-passkey');
const noPasskeys = () => sessionStorage.getItem('ca.noPasskeys') === tenant();
passkeyOption.hidden = !passkeysSupported() || noPasskeys();

/** The API said the shop offers no passkeys: the button goes for the rest of the tab's visit. */
function noPasskeysHere() {
  sessionStorage.setItem('ca.noPasskeys', tenant());
  passkeyOption.hidden = true;
}

/** The authenticator's answer to `options`, sent on the anonymous session that asked. */
async function signInWithPasskey(options, credential, anonymous) {
  const r = await api('POST', tenantPath('/login/passkey'), { challengeId: options.body.challengeId, credential }, anonymous);
  if (!r.ok) throw new Problem(r.status, r.body);
  signedIn(r.body);
}

const passkeyMessages = () => ({
  invalid_passkey: t('passkey.invalid'),
  passkeys_not_configured: t('passkey.notOffered'),
  account_not_activated: t('signin.notActivated'),
  429: t('error.tooMany'),
  wrong_site: t('passkey.wrongSite'),
  passkey_failed: t('passkey.failed'),
});

// The shop's passkeys offered in the e-mail field's autofill (conditional
// mediation), from the page's start: picking one signs in as the button
// does. Only one WebAuthn request may be pending, so the button, and every
// step's submit, end this one first (and wait until it has ended); the
// e-mail field's focus offers them again. A request the browser ended by
// itself (a host that is not the shop's passkey domain, say) is not made
// again on this page.
let autofill = null;
let autofillEnded = false;

async function offerPasskeysInAutofill() {
  if (autofill || autofillEnded || passkeyOption.hidden || form.hidden) return;
  const controller = new AbortController();
  // Claimed before the first await: the page's start and the field's focus may both ask.
  const offered = (async () => {
    if (await autofillSupported()) await autofillSignIn(controller.signal);
  })().finally(() => {
    delete document.body.dataset.passkeyAutofill;
    if (!controller.signal.aborted) autofillEnded = true;
  });
  autofill = { controller, offered };
  await offered;
  if (autofill && autofill.controller === controller) autofill = null;
}

/** The autofill's request; until a passkey is picked nobody asked for
 *  anything, so nothing before that shows an error (a host that is not the
 *  shop's passkey domain, a browser that declines, the network). */
async function autofillSignIn(signal) {
  let anonymous;
  let options;
  let credential;
  try {
    anonymous = await anonymousToken();
    options = await api('POST', tenantPath('/login/passkey/options'), {}, anonymous);
    if (!options.ok) {
      // A shop without passkeys: the button goes, quietly.
      if (options.body && options.body.code === 'passkeys_not_configured') noPasskeysHere();
      return;
    }
    if (signal.aborted) return;
    document.body.dataset.passkeyAutofill = 'offered';
    // The challenge dies after `expiresIn` seconds: ask again a little before.
    const renewal = setTimeout(renewAutofill, Math.max(10, (options.body.expiresIn || 300) - 15) * 1000, signal);
    try {
      credential = await getPasskey(options.body.publicKey, signal, 'conditional');
    } finally {
      clearTimeout(renewal);
    }
  } catch (err) {
    if (!signal.aborted && !cancelled(err)) console.warn('passkey autofill:', err && (err.name || err.message));
    return;
  }
  // A passkey was picked: from here on, as the button does it.
  try {
    await signInWithPasskey(options, credential, anonymous);
  } catch (err) {
    showProblem(form, err instanceof Problem ? err : new Problem(0, { code: 'passkey_failed' }), passkeyMessages());
  }
}

/** The autofill's request still pending as its challenge nears its end: a fresh one. */
async function renewAutofill(signal) {
  if (!autofill || autofill.controller.signal !== signal) return;
  await withdrawAutofill();
  await offerPasskeysInAutofill();
}

/** Ends the autofill's request, if one is pending, and waits until it has. */
async function withdrawAutofill() {
  const pendingOffer = autofill;
  autofill = null;
  if (!pendingOffer) return;
  pendingOffer.controller.abort();
  await pendingOffer.offered;
}

for (const step of steps) step.addEventListener('submit', () => { withdrawAutofill(); }, { capture: true });
form.elements.email.addEventListener('focus', () => { offerPasskeysInAutofill(); });
offerPasskeysInAutofill();

async function passkeySignIn() {
  await withdrawAutofill();
  const anonymous = await anonymousToken();
  const options = await api('POST', tenantPath('/login/passkey/options'), {}, anonymous);
  if (!options.ok) throw new Problem(options.status, options.body);
  let credential;
  try {
    credential = await getPasskey(options.body.publicKey);
  } catch (err) {
    // Closed or cancelled: back to where the person was, nothing to alarm them.
    if (cancelled(err)) return false;
    // The page's host is not the shop's passkey domain (e.g. 127.0.0.1 for localhost).
    if (err && err.name === 'SecurityError') throw new Problem(0, { code: 'wrong_site' });
    console.error(err);
    throw new Problem(0, { code: 'passkey_failed' });
  }
  await signInWithPasskey(options, credential, anonymous);
  return true;
}

passkeyButton.addEventListener('click', async () => {
  if (passkeyButton.getAttribute('aria-busy') === 'true') return;
  passkeyButton.setAttribute('aria-busy', 'true');
  clearErrors(form);
  resend.hidden = true;
  announce('', { focus: false });
  try {
    if (!(await passkeySignIn())) passkeyButton.focus();
  } catch (err) {
    const problem = err instanceof Problem ? err : new Problem(0, { title: t('error.unexpected') });
    showProblem(form, problem, passkeyMessages());
    if (problem.code === 'passkeys_not_configured') {
      noPasskeysHere();
      form.elements.email.focus();
    }
  } finally {
    passkeyButton.removeAttribute('aria-busy');
  }
});
