//! The `accounts` operator commands as an operator runs them: the built
//! binary against DynamoDB Local (`DYNAMODB_ENDPOINT`), a table of its own.
//! Results on stdout (JSON where it is data), logs on stderr, secrets
//! redacted unless asked for, and read commands that create nothing.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::{Value, json};

struct Operator {
    table: String,
    dir: PathBuf,
}

impl Operator {
    fn new(name: &str) -> Self {
        let unique = format!("{name}-{}-{}", std::process::id(), uuid_ish());
        let dir = std::env::temp_dir().join(format!("operator-cli-{unique}"));
        std::fs::create_dir_all(&dir).unwrap();
        Self { table: format!("cli-{unique}"), dir }
    }

    fn keys_file(&self) -> PathBuf {
        self.dir.join("keys/signing-keys.json")
    }

    fn run(&self, args: &[&str]) -> Output {
        let endpoint = std::env::var("DYNAMODB_ENDPOINT").expect("DYNAMODB_ENDPOINT names a DynamoDB Local");
        Command::new(env!("CARGO_BIN_EXE_accounts"))
            .args(args)
            .current_dir(&self.dir)
            .env("DYNAMODB_ENDPOINT", endpoint)
            .env("TABLE_NAME", &self.table)
            .env("SIGNING_KEYS_FILE", self.keys_file())
            .env("RUST_LOG", "info")
            .env("LOG_FORMAT", "json")
            .output()
            .expect("accounts runs")
    }

    /// Runs a command that must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let stdout = self.ok(args);
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: stdout is not only JSON ({e}): {stdout}"))
    }
}

fn uuid_ish() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

const SECRET: &str = "provider-client-secret-4711";

fn provider() -> Value {
    json!({"name": "acme", "issuer": "https://id.example", "clientId": "shop", "clientSecret": SECRET,
        "redirectUris": ["https://shop.example/cb"], "scopes": ["openid", "email"]})
}

#[test]
fn tenant_patch_merges_show_redacts_and_stdout_holds_only_the_result() {
    let op = Operator::new("patch");
    assert!(op.ok(&["table", "create"]).contains("created"));
    let settings = json!({"displayName": "Shop", "resetUri": "https://shop.example/reset",
        "activationUri": "https://shop.example/activate", "socialProviders": [provider()]});
    op.ok(&["tenant", "put", "--tenant", "shop", "--settings", &settings.to_string()]);

    // A patch changes what it names; the link bases and the provider stay.
    let patched = op.json(&[
        "tenant",
        "patch",
        "--tenant",
        "shop",
        "--settings",
        r#"{"lockoutThreshold": 10, "resetUri": null, "limits": {"perIpSignups": 5}}"#,
    ]);
    assert_eq!(patched["lockoutThreshold"], 10);
    assert_eq!(patched["displayName"], "Shop");
    assert_eq!(patched["activationUri"], "https://shop.example/activate", "not named, kept");
    assert!(patched.get("resetUri").is_none_or(Value::is_null), "null resets it: {patched}");
    assert_eq!(patched["limits"]["perIpSignups"], 5);
    assert_eq!(patched["limits"]["perIpMailRequests"], 30, "nested objects merge too");
    assert_eq!(patched["socialProviders"][0]["clientId"], "shop");
    assert_eq!(patched["socialProviders"][0]["clientSecret"], "[redacted]");

    // Show: redacted by default, in clear when asked; logs never on stdout.
    let out = op.run(&["tenant", "show", "--tenant", "shop"]);
    let shown: Value = serde_json::from_slice(&out.stdout).expect("stdout is the settings only");
    assert_eq!(shown["socialProviders"][0]["clientSecret"], "[redacted]");
    assert_eq!(shown["lockoutThreshold"], 10, "the patch was stored");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(SECRET));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(SECRET));
    let clear = op.json(&["tenant", "show", "--tenant", "shop", "--show-secrets"]);
    assert_eq!(clear["socialProviders"][0]["clientSecret"], SECRET);

    // A misspelt setting is refused, and nothing is stored.
    let typo = op.run(&["tenant", "patch", "--tenant", "shop", "--settings", r#"{"lockoutTreshold": 3}"#]);
    assert!(!typo.status.success());
    assert!(String::from_utf8_lossy(&typo.stderr).contains("lockoutTreshold"), "the error names it");
    assert!(typo.stdout.is_empty());
    let typo = op.run(&["tenant", "put", "--tenant", "shop", "--settings", r#"{"socialProviders": [{"nam": "x"}]}"#]);
    assert!(!typo.status.success(), "unknown nested names too");
    assert_eq!(op.json(&["tenant", "show", "--tenant", "shop"])["lockoutThreshold"], 10);

    // Patch needs an existing tenant.
    let missing = op.run(&["tenant", "patch", "--tenant", "nosuch", "--settings", "{}"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no such tenant"));
}

#[test]
fn operator_commands_create_no_signing_keys() {
    let op = Operator::new("readonly");
    op.ok(&["table", "create"]);
    op.ok(&["tenant", "put", "--tenant", "shop"]);
    op.json(&["tenant", "show", "--tenant", "shop"]);
    op.ok(&["client", "put", "--tenant", "shop", "--client-id", "web"]);
    op.ok(&["customer", "check-emails", "--tenant", "shop"]);
    let list = op.run(&["keys", "list", "--file", op.keys_file().to_str().unwrap()]);
    assert!(!list.status.success(), "no key set to list");
    assert!(!op.keys_file().exists(), "no command made a key file as a side effect");
    assert!(!op.dir.join(".local").exists(), "nor anything in the working directory");
}
