//! Capturing every log line of a test binary in the production format
//! (`shared::telemetry::PowertoolsJson`) at the production level (info), so a
//! test can search them for secrets. Install it before anything logs; one
//! capture per test binary (it is the global subscriber).

use std::io::Write;
use std::sync::{Arc, Mutex};

use shared::secrets::hash_secret;

use crate::TestApp;

#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    /// Installs the global subscriber writing into the returned buffer.
    pub fn install() -> Self {
        let captured = Self::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
            .event_format(shared::telemetry::PowertoolsJson)
            .with_env_filter("info")
            .with_writer(move || writer.clone())
            .init();
        captured
    }

    /// Installs the capture, then makes the app (whose own logging setup then
    /// finds the capture in place).
    pub async fn with_app() -> (Self, TestApp) {
        let captured = Self::install();
        (captured, TestApp::new().await)
    }

    /// Asserts that none of `secrets`, and no argon2 hash, reached the logs.
    pub fn assert_free_of(&self, secrets: &[String]) {
        let logs = self.text();
        for secret in secrets {
            assert!(!logs.contains(secret.as_str()), "a secret reached the logs: {secret}");
        }
        assert!(!logs.contains("$argon2"), "no hash in the logs");
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("log buffer").clone()).expect("logs are UTF-8")
    }

    /// Every line, parsed.
    pub fn lines(&self) -> Vec<serde_json::Value> {
        self.text().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }
}

/// A secret and the form it is stored in (`hash_secret`).
pub fn with_hash(secret: &str) -> [String; 2] {
    [secret.to_owned(), hash_secret(secret)]
}

/// A PHC password hash, and its salt and digest parts on their own.
pub fn phc_parts(hash: &str) -> Vec<String> {
    std::iter::once(hash).chain(hash.rsplit('$').take(2)).map(str::to_owned).collect()
}
