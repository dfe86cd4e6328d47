//! The address book's rules against DynamoDB Local, with real parallel
//! requests: one default, at most 50 addresses, versions, and customers
//! that cannot see each other's addresses.

use std::sync::Arc;

use http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::domain::CustomerId;
use tests::{Reply, TestApp, parallel, request, tally};

const PASSWORD: &str = "flow-password-2026";
const BOOK: &str = "/customer/demo/me/addresses";

struct Customer {
    id: CustomerId,
    token: String,
}

async fn customer(app: &TestApp, email: &str) -> Customer {
    let id = app.create_customer(email, PASSWORD).await;
    let token = app.login(email, PASSWORD).await.field("access_token");
    Customer { id, token }
}

fn address(street: &str) -> Value {
    json!({"street": street, "zipCode": "10115", "city": "Berlin", "country": "DE", "tags": ["SHIPPING"]})
}

async fn create(app: &TestApp, who: &Customer, body: Value) -> Reply {
    app.post(BOOK, Some(&who.token), body).await
}

async fn add(app: &TestApp, who: &Customer, street: &str) -> String {
    let reply = create(app, who, address(street)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.field("id")
}

async fn send(app: &TestApp, method: Method, who: &Customer, id: &str, body: Option<Value>) -> Reply {
    app.send(request(method, &format!("{BOOK}/{id}"), Some(&who.token), body)).await
}

async fn list(app: &TestApp, who: &Customer) -> Vec<Value> {
    let reply = app.get(BOOK, Some(&who.token)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body.as_array().unwrap().clone()
}

fn default_ids(list: &[Value]) -> Vec<String> {
    list.iter().filter(|a| a["isDefault"] == true).map(|a| a["id"].as_str().unwrap().to_owned()).collect()
}

/// Count and default as stored on the profile.
async fn book_on_profile(app: &TestApp, who: &Customer) -> (u32, Option<String>) {
    let profile = app.store().get_customer(&app.tenant, &who.id).await.unwrap().unwrap();
    (profile.address_count, profile.default_address_id.map(String::from))
}

/// The `(method, uri, body)` requests at once, as `who`; the replies in order.
async fn send_all(app: &Arc<TestApp>, who: &Customer, requests: Vec<(Method, String, Option<Value>)>) -> Vec<Reply> {
    parallel(requests, |(method, uri, body)| {
        let (app, token) = (app.clone(), who.token.clone());
        async move { app.send(request(method, &uri, Some(&token), body)).await }
    })
    .await
}

/// `method` with `body` on each of `ids` at once, as `who`.
async fn send_each(
    app: &Arc<TestApp>,
    who: &Customer,
    method: Method,
    ids: &[String],
    body: Option<Value>,
) -> Vec<Reply> {
    send_all(app, who, ids.iter().map(|id| (method.clone(), format!("{BOOK}/{id}"), body.clone())).collect()).await
}

/// `ann` with the addresses `Street 0` to `Street {n - 1}`.
async fn book_of(app: &TestApp, n: usize) -> (Customer, Vec<String>) {
    let ann = customer(app, "ann@example.com").await;
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(add(app, &ann, &format!("Street {i}")).await);
    }
    (ann, ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_parallel_make_default_requests_leave_exactly_one_default() {
    let app = Arc::new(TestApp::new().await);
    let (ann, ids) = book_of(&app, 10).await;
    let body = json!({"isDefault": true, "metadata": {"version": 1}});
    for reply in send_each(&app, &ann, Method::PATCH, &ids, Some(body)).await {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["isDefault"], true);
    }
    let list = list(&app, &ann).await;
    let defaults = default_ids(&list);
    assert_eq!(defaults.len(), 1, "{list:?}");
    assert!(ids.contains(&defaults[0]));
    assert_eq!(book_on_profile(&app, &ann).await, (10, Some(defaults[0].clone())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_parallel_creates_store_exactly_fifty() {
    let app = Arc::new(TestApp::new().await);
    let ann = customer(&app, "ann@example.com").await;
    let creates = (0..60).map(|i| (Method::POST, BOOK.to_owned(), Some(address(&format!("Street {i}"))))).collect();
    let replies = send_all(&app, &ann, creates).await;
    let statuses: Vec<_> = replies.iter().map(|r| r.status).collect();
    assert_eq!(tally(&statuses), [(StatusCode::CREATED, 50), (StatusCode::UNPROCESSABLE_ENTITY, 10)], "{statuses:?}");
    assert!(
        replies
            .iter()
            .filter(|r| r.status == StatusCode::UNPROCESSABLE_ENTITY)
            .all(|r| r.body["code"] == "address_limit_reached")
    );
    let list = list(&app, &ann).await;
    assert_eq!(list.len(), 50);
    assert_eq!(default_ids(&list).len(), 1, "the first stored address is the one default");
    assert_eq!(book_on_profile(&app, &ann).await.0, 50);
    // Room again after a delete.
    let id = list[10]["id"].as_str().unwrap();
    assert_eq!(send(&app, Method::DELETE, &ann, id, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(create(&app, &ann, address("One more")).await.status, StatusCode::CREATED);
    assert_eq!(create(&app, &ann, address("Too many")).await.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_first_address_is_default_and_deleting_the_default_promotes_the_oldest() {
    let app = TestApp::new().await;
    let ann = customer(&app, "ann@example.com").await;
    assert!(list(&app, &ann).await.is_empty());
    assert_eq!(book_on_profile(&app, &ann).await, (0, None));

    // The first address is the default even when asked otherwise.
    let first =
        create(&app, &ann, json!({"street": "A", "zipCode": "1", "city": "X", "country": "DE", "isDefault": false}))
            .await;
    let first = first.field("id");
    let second = add(&app, &ann, "B").await;
    let third = add(&app, &ann, "C").await;
    assert_eq!(default_ids(&list(&app, &ann).await), [first.as_str()]);

    // Deleting the default: the oldest remaining (second) takes over.
    assert_eq!(send(&app, Method::DELETE, &ann, &first, None).await.status, StatusCode::NO_CONTENT);
    let remaining = list(&app, &ann).await;
    assert_eq!(remaining.iter().map(|a| a["id"].as_str().unwrap()).collect::<Vec<_>>(), [&second, &third]);
    assert_eq!(default_ids(&remaining), [second.as_str()]);

    // Creating with isDefault: true moves the default to the new address.
    let fourth =
        create(&app, &ann, json!({"street": "D", "zipCode": "1", "city": "X", "country": "AT", "isDefault": true}))
            .await;
    assert_eq!(fourth.status, StatusCode::CREATED);
    let fourth = fourth.field("id");
    assert_eq!(default_ids(&list(&app, &ann).await), [fourth.as_str()]);

    // Deleting a non-default address leaves the default alone.
    assert_eq!(send(&app, Method::DELETE, &ann, &second, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(default_ids(&list(&app, &ann).await), [fourth.as_str()]);
    // Deleting the default with one other left promotes it; then the last one empties the book.
    assert_eq!(send(&app, Method::DELETE, &ann, &fourth, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(default_ids(&list(&app, &ann).await), [third.as_str()]);
    assert_eq!(send(&app, Method::DELETE, &ann, &third, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(send(&app, Method::DELETE, &ann, &third, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(book_on_profile(&app, &ann).await, (0, None));

    // And the next first address is the default again.
    let again = add(&app, &ann, "E").await;
    assert_eq!(book_on_profile(&app, &ann).await, (1, Some(again)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_deletes_of_every_address_leave_an_empty_book() {
    let app = Arc::new(TestApp::new().await);
    let (ann, ids) = book_of(&app, 6).await;
    for reply in send_each(&app, &ann, Method::DELETE, &ids, None).await {
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    }
    assert!(list(&app, &ann).await.is_empty());
    assert_eq!(book_on_profile(&app, &ann).await, (0, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_deletes_of_the_default_and_others_keep_one_default() {
    let app = Arc::new(TestApp::new().await);
    let (ann, ids) = book_of(&app, 8).await;
    // Delete the default and the next four oldest at once: the survivors are 5..8.
    for reply in send_each(&app, &ann, Method::DELETE, &ids[..5], None).await {
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    }
    let list = list(&app, &ann).await;
    assert_eq!(list.len(), 3);
    let defaults = default_ids(&list);
    assert_eq!(defaults.len(), 1, "{list:?}");
    assert!(ids[5..].contains(&defaults[0]));
    assert_eq!(book_on_profile(&app, &ann).await, (3, Some(defaults[0].clone())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_parallel_changes_with_one_version_let_one_through() {
    let app = Arc::new(TestApp::new().await);
    let ann = customer(&app, "ann@example.com").await;
    let id = add(&app, &ann, "Main Street").await;
    let changes = ["Hamburg", "Munich"].map(|city| json!({"city": city, "metadata": {"version": 1}}));
    let uri = format!("{BOOK}/{id}");
    let replies =
        send_all(&app, &ann, changes.into_iter().map(|body| (Method::PATCH, uri.clone(), Some(body))).collect()).await;
    let mut statuses: Vec<_> = replies.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let conflict = replies.iter().find(|r| r.status == StatusCode::CONFLICT).unwrap();
    assert_eq!(conflict.body["currentVersion"], 2);
    // Without a version the change applies to the address as it is, as the
    // Emporix seed's clients expect (issue #17): last writer wins.
    let blind = send(&app, Method::PATCH, &ann, &id, Some(json!({"city": "Bremen"}))).await;
    assert_eq!((blind.status, blind.body["metadata"]["version"].clone()), (StatusCode::OK, json!(3)));
}

#[tokio::test]
async fn customer_b_cannot_read_change_or_delete_customer_a_addresses() {
    let app = TestApp::new().await;
    let ann = customer(&app, "ann@example.com").await;
    let bob = customer(&app, "bob@example.com").await;
    let id = add(&app, &ann, "Ann Street").await;
    let whole =
        json!({"street": "Bob Street", "zipCode": "1", "city": "X", "country": "DE", "metadata": {"version": 1}});
    let attempts = [
        (Method::GET, None),
        (Method::PATCH, Some(json!({"city": "Bobtown", "metadata": {"version": 1}}))),
        (Method::PATCH, Some(json!({"isDefault": true, "metadata": {"version": 1}}))),
        (Method::PUT, Some(whole)),
        (Method::DELETE, None),
    ];
    for (method, body) in attempts {
        let reply = send(&app, method.clone(), &bob, &id, body).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {}", reply.body);
        assert_eq!(reply.body["code"], "not_found");
        assert!(!reply.body.to_string().contains("Ann Street"), "no data leaks");
    }
    assert!(list(&app, &bob).await.is_empty());
    assert_eq!(book_on_profile(&app, &bob).await, (0, None));
    let mine = send(&app, Method::GET, &ann, &id, None).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(
        (mine.body["street"].clone(), mine.body["metadata"]["version"].clone()),
        (json!("Ann Street"), json!(1))
    );
    assert_eq!(book_on_profile(&app, &ann).await, (1, Some(id)));
}

#[tokio::test]
async fn a_put_replaces_the_whole_address_and_keeps_the_default() {
    let app = TestApp::new().await;
    let ann = customer(&app, "ann@example.com").await;
    let body = json!({"street": "Main", "streetNumber": "1", "state": "BE", "zipCode": "1", "city": "X", "country": "DE", "tags": ["BILLING"]});
    let id = create(&app, &ann, body).await.field("id");
    let replaced = send(
        &app,
        Method::PUT,
        &ann,
        &id,
        Some(json!({"street": "Other", "zipCode": "2", "city": "Y", "country": "ch", "metadata": {"version": 1}})),
    )
    .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    let got = send(&app, Method::GET, &ann, &id, None).await.body;
    assert_eq!(got["street"], "Other");
    assert_eq!(got["country"], "CH");
    assert!(got.get("streetNumber").is_none() && got.get("state").is_none() && got.get("tags").is_none(), "{got}");
    assert_eq!(got["isDefault"], true);
    assert_eq!(got["metadata"]["version"], 2);
    assert_eq!(got, replaced.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_creates_default_moves_and_deletes_keep_the_book_consistent() {
    let app = Arc::new(TestApp::new().await);
    let (ann, ids) = book_of(&app, 8).await;
    // Delete the default and two more, move the default to three others, and add four.
    let make_default = json!({"isDefault": true, "metadata": {"version": 1}});
    let mut requests: Vec<_> = ids[..3].iter().map(|id| (Method::DELETE, format!("{BOOK}/{id}"), None)).collect();
    requests.extend(ids[3..6].iter().map(|id| (Method::PATCH, format!("{BOOK}/{id}"), Some(make_default.clone()))));
    for i in 0..4 {
        let mut body = address(&format!("New {i}"));
        body["isDefault"] = json!(i % 2 == 0);
        requests.push((Method::POST, BOOK.to_owned(), Some(body)));
    }
    for reply in send_all(&app, &ann, requests).await {
        assert!(reply.status.is_success(), "{} {}", reply.status, reply.body);
    }
    let list = list(&app, &ann).await;
    assert_eq!(list.len(), 8 - 3 + 4);
    let defaults = default_ids(&list);
    assert_eq!(defaults.len(), 1, "{list:?}");
    assert_eq!(book_on_profile(&app, &ann).await, (9, Some(defaults[0].clone())));
}
