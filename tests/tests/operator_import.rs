//! The operator import: a bad file writes nothing and names every bad line;
//! imported legacy hashes log in and are upgraded to argon2id on first login.

use argon2::password_hash::PasswordHasher;
use http::StatusCode;
use shared::services::import;
use shared::table_keys::ItemKey;
use tests::TestApp;

const PASSWORD: &str = "imported passphrase 2019";

#[tokio::test]
async fn a_bad_file_names_each_line_and_field_and_imports_nothing() {
    let text = [
        r#"{"email":"ok@example.com","passwordHash":"$2b$04$abcdefghijklmnopqrstuu5Cz0dKSZRPk1vYQ3Y5wVb6SRKxkMhVK"}"#,
        r#"{"email":"not-an-email","passwordHash":"plain"}"#,
        "this is not json",
        r#"{"email":"OK@example.com ","passwordHash":"$2b$04$abcdefghijklmnopqrstuu5Cz0dKSZRPk1vYQ3Y5wVb6SRKxkMhVK","preferredCurrency":"euro"}"#,
    ]
    .join("\n");
    let errors = import::parse(&text).unwrap_err();
    let joined = errors.join("\n");
    assert!(joined.contains("line 2: email"), "{joined}");
    assert!(joined.contains("line 2: passwordHash"), "{joined}");
    assert!(joined.contains("line 3: line: is not valid JSON"), "{joined}");
    assert!(joined.contains("line 4: preferredCurrency"), "{joined}");
    assert!(joined.contains("line 4: email: appears already on line 1"), "{joined}");
    assert!(!errors.iter().any(|e| e.starts_with("line 1:")), "line 1 is fine: {joined}");
}

#[tokio::test]
async fn legacy_hashes_log_in_and_are_upgraded_to_argon2id() {
    let app = TestApp::new().await;
    let bcrypt = bcrypt::hash(PASSWORD, 4).unwrap();
    let scrypt = scrypt::Scrypt::new_with_params(scrypt::Params::new(10, 8, 1).unwrap())
        .hash_password(PASSWORD.as_bytes())
        .unwrap()
        .to_string();
    let pbkdf2 = pbkdf2::Pbkdf2::new(pbkdf2::Algorithm::Pbkdf2Sha256, pbkdf2::Params::new(1000).unwrap())
        .hash_password(PASSWORD.as_bytes())
        .unwrap()
        .to_string();
    let lines: Vec<String> = [("b@example.com", &bcrypt), ("s@example.com", &scrypt), ("p@example.com", &pbkdf2)]
        .iter()
        .map(|(email, hash)| {
            serde_json::json!({"email": email, "passwordHash": hash, "firstName": "Imported"}).to_string()
        })
        .collect();
    let records = import::parse(&lines.join("\n")).unwrap();
    assert_eq!(import::import(&app.state.store, &app.tenant, &records).await.unwrap(), 3);
    // A second import of the same people is refused as a whole.
    assert!(import::import(&app.state.store, &app.tenant, &records).await.is_err());

    for email in ["b@example.com", "s@example.com", "p@example.com"] {
        assert_eq!(app.login(email, "wrong password").await.status, StatusCode::UNAUTHORIZED, "{email}");
        assert_eq!(app.login(email, PASSWORD).await.status, StatusCode::OK, "{email}");
        let guard: serde_json::Value =
            app.store().get(&ItemKey::email_guard(&app.tenant, email)).await.unwrap().unwrap();
        let hash = guard["passwordHash"].as_str().unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{email}: {hash}");
        assert_eq!(app.login(email, PASSWORD).await.status, StatusCode::OK, "{email} after the upgrade");
    }
}

#[tokio::test]
async fn the_migration_check_lists_identities_the_rules_now_see_differently() {
    use shared::services::provisioning::{IdentityFinding, check_identities};
    let app = TestApp::with_customer("fine@example.com", "correct horse battery staple").await;
    // Guards as an older release stored them: the identity was the lowercased input.
    let old = |key: &str, email: &str, id: &str| {
        // Raw: a refused address cannot be an `EmailGuard` any more.
        let guard = serde_json::json!({"customerId": id, "email": email, "status": "ACTIVE", "epoch": 0});
        let item = shared::store::to_item(&shared::table_keys::ItemKey::email_guard(&app.tenant, key), &guard).unwrap();
        let (client, table) = (app.store().client().clone(), app.store().table().to_owned());
        async move { client.put_item().table_name(table).set_item(Some(item)).send().await.unwrap() }
    };
    old("demo <demo@example.com>", "Demo <demo@example.com>", "c1").await;
    old("demo@ｅｘａｍｐｌｅ.net", "demo@ｅｘａｍｐｌｅ.net", "c2").await;
    let mut findings = check_identities(&app.state.store, &app.tenant).await.unwrap();
    findings.sort_by_key(|f| format!("{f:?}"));
    assert_eq!(
        findings,
        [
            IdentityFinding::Refused { customer_id: "c1".into(), stored: "demo <demo@example.com>".into() },
            IdentityFinding::Renormalises {
                customer_id: "c2".into(),
                stored: "demo@ｅｘａｍｐｌｅ.net".into(),
                now: "demo@example.net".into()
            },
        ]
    );
}
