// Passkeys (WebAuthn) between the API's JSON and the browser: the API sends
// the options with base64url fields and takes the authenticator's answer as
// PublicKeyCredential.toJSON() gives it. Current browsers convert both ways
// themselves (parse…OptionsFromJSON, toJSON); the small converter below
// stands in where they do not.

/** Whether this browser can use passkeys at all (a secure context with WebAuthn). */
export function passkeysSupported() {
  return typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;
}

function fromBase64url(text) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)).buffer;
}

function toBase64url(buffer) {
  let binary = '';
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const withIds = (list) => (list || []).map((c) => ({ ...c, id: fromBase64url(c.id) }));

/** `navigator.credentials.get()`'s `publicKey` from the API's JSON. */
function requestOptions(json) {
  if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function') {
    try { return PublicKeyCredential.parseRequestOptionsFromJSON(json); } catch { /* the converter below */ }
  }
  return { ...json, challenge: fromBase64url(json.challenge), allowCredentials: withIds(json.allowCredentials) };
}

/** `navigator.credentials.create()`'s `publicKey` from the API's JSON. */
function creationOptions(json) {
  if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function') {
    try { return PublicKeyCredential.parseCreationOptionsFromJSON(json); } catch { /* the converter below */ }
  }
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    user: { ...json.user, id: fromBase64url(json.user.id) },
    excludeCredentials: withIds(json.excludeCredentials),
  };
}

/** The credential as the API takes it (`PublicKeyCredential.toJSON()`). */
function credentialJSON(credential) {
  if (typeof credential.toJSON === 'function') return credential.toJSON();
  const r = credential.response;
  const response = { clientDataJSON: toBase64url(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = toBase64url(r.attestationObject);
    if (typeof r.getTransports === 'function') response.transports = r.getTransports();
  } else {
    response.authenticatorData = toBase64url(r.authenticatorData);
    response.signature = toBase64url(r.signature);
    if (r.userHandle) response.userHandle = toBase64url(r.userHandle);
  }
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response,
    clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
    authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
  };
}

/** Asks the authenticator for a passkey of the RP (a sign-in); the answer as JSON.
 *  `mediation: 'conditional'` offers the passkeys in the autofill of a field
 *  marked `autocomplete="… webauthn"` instead of a prompt. */
export async function getPasskey(publicKeyJSON, signal, mediation) {
  const request = { publicKey: requestOptions(publicKeyJSON), signal };
  if (mediation) request.mediation = mediation;
  const credential = await navigator.credentials.get(request);
  return credentialJSON(credential);
}

/** Whether the browser offers passkeys in a field's autofill (conditional mediation). */
export async function autofillSupported() {
  if (!passkeysSupported() || typeof PublicKeyCredential.isConditionalMediationAvailable !== 'function') return false;
  try {
    return await PublicKeyCredential.isConditionalMediationAvailable();
  } catch {
    return false;
  }
}

/** Has the authenticator create a passkey (a registration); the answer as JSON. */
export async function createPasskey(publicKeyJSON) {
  const credential = await navigator.credentials.create({ publicKey: creationOptions(publicKeyJSON) });
  return credentialJSON(credential);
}

/** The person closed or cancelled the prompt (or it timed out): nothing to alarm anyone about. */
export function cancelled(err) {
  return err && (err.name === 'NotAllowedError' || err.name === 'AbortError');
}
