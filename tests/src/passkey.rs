//! A software passkey authenticator and the browser's part of the WebAuthn
//! ceremonies, small and only for tests: ES256 keys (aws-lc-rs, already
//! the workspace's crypto), "none" attestation, discoverable credentials
//! that keep the user handle, user presence and verification always set,
//! a signature counter that counts up.
//!
//! Why not a crate: webauthn-authenticator-rs's `SoftPasskey` keeps no
//! resident keys (no user handle, so no discoverable sign-in), and a
//! conforming client library refuses to say a wrong origin or RP id, which
//! the refusal tests need. Here `Ceremony` lets a test lie about either.
//!
//! Takes the `publicKey` JSON the API answers (what a storefront hands to
//! `navigator.credentials.create()` / `.get()`) and answers what the
//! browser's `PublicKeyCredential.toJSON()` gives, base64url throughout.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The demo tenant's storefront origin (see `cli::demo_passkeys`).
pub const ORIGIN: &str = "http://localhost:3000";

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const AT: u8 = 0x40;

/// What the browser puts into the ceremony: by default the page's origin
/// and the options' RP id; a test may change either.
#[derive(Debug, Clone, Default)]
pub struct Ceremony {
    pub origin: Option<String>,
    pub rp_id: Option<String>,
}

struct Credential {
    id: Vec<u8>,
    rp_id: String,
    user_handle: Vec<u8>,
    key: EcdsaKeyPair,
    counter: u32,
}

/// One authenticator holding any number of discoverable credentials.
pub struct SoftPasskey {
    origin: String,
    credentials: Vec<Credential>,
    rng: SystemRandom,
}

impl Default for SoftPasskey {
    fn default() -> Self {
        Self::new(ORIGIN)
    }
}

impl SoftPasskey {
    /// An authenticator used from pages at `origin`.
    pub fn new(origin: &str) -> Self {
        Self { origin: origin.to_owned(), credentials: Vec::new(), rng: SystemRandom::new() }
    }

    /// `navigator.credentials.create({publicKey})`: a new credential.
    pub fn create(&mut self, public_key: &Value) -> Value {
        self.create_with(public_key, &Ceremony::default())
    }

    pub fn create_with(&mut self, public_key: &Value, ceremony: &Ceremony) -> Value {
        let rp_id = ceremony.rp_id.clone().unwrap_or_else(|| text(&public_key["rp"]["id"]));
        let origin = ceremony.origin.clone().unwrap_or_else(|| self.origin.clone());
        let user_handle = URL_SAFE_NO_PAD.decode(text(&public_key["user"]["id"])).expect("user.id is base64url");
        let excluded: Vec<String> = public_key["excludeCredentials"]
            .as_array()
            .map(|list| list.iter().map(|c| text(&c["id"])).collect())
            .unwrap_or_default();
        assert!(
            !self.credentials.iter().any(|c| excluded.contains(&URL_SAFE_NO_PAD.encode(&c.id))),
            "the authenticator holds an excluded credential (a browser would refuse: InvalidStateError)"
        );
        let client_data = client_data("webauthn.create", &text(&public_key["challenge"]), &origin);
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &self.rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        let id: Vec<u8> = {
            let mut id = vec![0u8; 16];
            aws_lc_rs::rand::fill(&mut id).unwrap();
            id
        };
        let point = key.public_key().as_ref();
        assert_eq!(point.len(), 65, "an uncompressed P-256 point");
        let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01];
        cose.push(0x21);
        cose.extend(cbor_bytes(&point[1..33]));
        cose.push(0x22);
        cose.extend(cbor_bytes(&point[33..65]));

        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth_data.push(UP | UV | AT);
        auth_data.extend(0u32.to_be_bytes());
        auth_data.extend([0u8; 16]); // AAGUID: none
        auth_data.extend((id.len() as u16).to_be_bytes());
        auth_data.extend(&id);
        auth_data.extend(cose);

        let mut attestation = vec![0xa3];
        attestation.extend(cbor_text("fmt"));
        attestation.extend(cbor_text("none"));
        attestation.extend(cbor_text("attStmt"));
        attestation.push(0xa0);
        attestation.extend(cbor_text("authData"));
        attestation.extend(cbor_bytes(&auth_data));

        let encoded_id = URL_SAFE_NO_PAD.encode(&id);
        self.credentials.push(Credential { id, rp_id, user_handle, key, counter: 0 });
        json!({
            "id": encoded_id,
            "rawId": encoded_id,
            "type": "public-key",
            "response": {
                "attestationObject": URL_SAFE_NO_PAD.encode(attestation),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        })
    }

    /// `navigator.credentials.get({publicKey})` with an empty
    /// `allowCredentials`: the newest credential for the RP id.
    pub fn get(&mut self, public_key: &Value) -> Value {
        self.get_with(public_key, &Ceremony::default())
    }

    pub fn get_with(&mut self, public_key: &Value, ceremony: &Ceremony) -> Value {
        let options_rp_id = text(&public_key["rpId"]);
        let index = self.credentials.iter().rposition(|c| c.rp_id == options_rp_id).expect("a passkey for the RP id");
        self.assert_with(index, public_key, ceremony)
    }

    /// An assertion by the `index`-th credential created (oldest first).
    pub fn assert_with(&mut self, index: usize, public_key: &Value, ceremony: &Ceremony) -> Value {
        let origin = ceremony.origin.clone().unwrap_or_else(|| self.origin.clone());
        let client_data = client_data("webauthn.get", &text(&public_key["challenge"]), &origin);
        let credential = &mut self.credentials[index];
        let rp_id = ceremony.rp_id.clone().unwrap_or_else(|| credential.rp_id.clone());
        credential.counter += 1;
        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth_data.push(UP | UV);
        auth_data.extend(credential.counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature = credential.key.sign(&self.rng, &signed).unwrap();
        let encoded_id = URL_SAFE_NO_PAD.encode(&credential.id);
        json!({
            "id": encoded_id,
            "rawId": encoded_id,
            "type": "public-key",
            "response": {
                "authenticatorData": URL_SAFE_NO_PAD.encode(auth_data),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data),
                "signature": URL_SAFE_NO_PAD.encode(signature.as_ref()),
                "userHandle": URL_SAFE_NO_PAD.encode(&credential.user_handle),
            },
            "clientExtensionResults": {},
        })
    }

    /// Changes the user handle the `index`-th credential reports.
    pub fn set_user_handle(&mut self, index: usize, user_handle: &[u8]) {
        self.credentials[index].user_handle = user_handle.to_vec();
    }
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_else(|| panic!("a string, not {value}")).to_owned()
}

fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false})).unwrap()
}

fn cbor_head(major: u8, len: usize) -> Vec<u8> {
    match len {
        0..=23 => vec![major << 5 | len as u8],
        24..=255 => vec![major << 5 | 24, len as u8],
        _ => {
            let len = u16::try_from(len).expect("short CBOR items");
            vec![major << 5 | 25, (len >> 8) as u8, len as u8]
        }
    }
}

fn cbor_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut out = cbor_head(2, bytes.len());
    out.extend(bytes);
    out
}

fn cbor_text(text: &str) -> Vec<u8> {
    let mut out = cbor_head(3, text.len());
    out.extend(text.as_bytes());
    out
}
