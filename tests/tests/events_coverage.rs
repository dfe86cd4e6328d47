//! Every fixture in `events/` is exercised by some test, and each is a
//! well-formed API Gateway v2 event.

use tests::fixtures::{all_fixture_names, events_dir};

#[test]
fn every_event_fixture_is_used_by_a_test() {
    let tests_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let sources: String = std::fs::read_dir(&tests_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".rs"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    let unused: Vec<_> = all_fixture_names().into_iter().filter(|n| !sources.contains(&format!("\"{n}\""))).collect();
    assert!(unused.is_empty(), "fixtures no test uses: {unused:?}");
}

#[test]
fn every_event_fixture_parses_as_an_http_api_event() {
    for name in all_fixture_names() {
        let text = std::fs::read_to_string(events_dir().join(&name)).unwrap();
        let event: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(event["version"], "2.0", "{name}");
        assert!(lambda_http::request::from_str(&text).is_ok(), "{name}");
    }
}
