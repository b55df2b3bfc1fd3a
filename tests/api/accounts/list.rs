//! The accounts list: pages, filters, the active account, and items that are the account.

use super::{AccountsTest, ME, OTHER};
use crate::helpers::assert_error_envelope;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn pagination_walks_every_account_once_and_filters_by_status() {
    // Arrange
    let t = AccountsTest::start().await;
    let db = t.app.db.client().await;
    let ws = t.workspace_id().await;
    db.execute(
        "INSERT INTO x_accounts (id, workspace_id, x_user_id, username, auth_kind, credentials,
           key_id, status, created_at)
         SELECT gen_random_uuid(), $1::text::uuid, (1000 + i)::text, 'user' || i, 'oauth1',
                'sealed', 'k', CASE WHEN i % 5 = 0 THEN 'paused' ELSE 'active' END,
                now() - (i % 7) * interval '1 second'
         FROM generate_series(1, 23) i",
        &[&ws],
    )
    .await
    .unwrap();

    // Act
    let seen = walk_usernames(&t, "/api/accounts?limit=5").await;
    let paused = t
        .app
        .auth_get("/api/accounts?status=paused&limit=100", &t.token)
        .await;
    let paused_first = page(&t, "/api/accounts?status=paused&limit=2").await;
    let paused_second = page(
        &t,
        &format!(
            "/api/accounts?status=paused&limit=2&cursor={}",
            paused_first["nextCursor"].as_str().unwrap()
        ),
    )
    .await;
    let newest_first: Vec<String> = db
        .query(
            "SELECT username FROM x_accounts ORDER BY created_at DESC, id DESC",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let bad = t.app.auth_get("/api/accounts?limit=1000", &t.token).await;

    // Assert
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(seen.len(), 23, "{seen:?}");
    assert_eq!(unique.len(), 23, "no repeats");
    assert_eq!(seen, newest_first, "newest first, ties broken by id");
    assert_eq!(paused.json()["data"]["items"].as_array().unwrap().len(), 4);
    assert_eq!(paused_first["items"].as_array().unwrap().len(), 2);
    assert_eq!(paused_second["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        paused_second["nextCursor"],
        Value::Null,
        "a page that ends the list has no next cursor"
    );
    assert!(paused_second["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["status"] == "paused"));
    assert_error_envelope(&bad, 422, "VALIDATION_ERROR");
}

/// The `data` of one page of the list, as the owner.
async fn page(t: &AccountsTest, path: &str) -> Value {
    t.app.auth_get(path, &t.token).await.json()["data"].clone()
}

/// The usernames of every page from `first` on, following `nextCursor` (at most ten pages).
async fn walk_usernames(t: &AccountsTest, first: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let q = cursor
            .as_ref()
            .map(|c| format!("&cursor={c}"))
            .unwrap_or_default();
        let resp = t.app.auth_get(&format!("{first}{q}"), &t.token).await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        let data = resp.json()["data"].clone();
        for a in data["items"].as_array().unwrap() {
            seen.push(a["username"].as_str().unwrap().to_string());
        }
        cursor = data["nextCursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    seen
}

#[tokio::test]
async fn the_active_account_is_per_user_and_shown_in_the_list() {
    // Arrange
    let t = AccountsTest::start().await;
    let a = t.connected(ME).await;
    let b = t.connected(OTHER).await;
    let editor = t.member("editor@example.com", "editor").await;

    // Act
    let switched = t
        .call(
            Method::POST,
            &format!("/api/accounts/{}/switch", b["id"].as_str().unwrap()),
            &t.token,
            None,
        )
        .await;
    let owner_list = t.app.auth_get("/api/accounts", &t.token).await;
    let editor_list = t.app.auth_get("/api/accounts", &editor).await;
    let missing = t
        .call(
            Method::POST,
            &format!("/api/accounts/{}/switch", uuid::Uuid::new_v4()),
            &t.token,
            None,
        )
        .await;

    // Assert
    assert_eq!(switched.status, 200, "{}", switched.text);
    assert_eq!(owner_list.json()["data"]["activeAccountId"], b["id"]);
    assert_eq!(editor_list.json()["data"]["activeAccountId"], Value::Null);
    assert_ne!(a["id"], b["id"]);
    assert_error_envelope(&missing, 404, "NOT_FOUND");
}

#[tokio::test]
async fn the_list_shows_every_change_at_once_and_each_item_as_the_account_itself_reads() {
    // Arrange: the first page is read.
    let t = AccountsTest::start().await;
    let account = t.connected(ME).await;
    let id = account["id"].as_str().unwrap();
    let before = list_first_page(&t).await;

    // Act: a settings change (text that needs escaping, slots, a cap, paused), a second
    // account, a refresh and a deletion, each read back through the list.
    let settings = json!({
        "label": "Brand \"Zürich\"\t\\ 東京 🚀",
        "timezone": "Europe/Berlin",
        "postingSlots": [{ "day": "mon", "time": "09:30" }, { "day": "fri", "time": "17:05" }],
        "dailyPostCap": 12,
        "paused": true
    });
    let patched = t.on_account(Method::PATCH, id, "", Some(&settings)).await;
    let after_patch = list_first_page(&t).await;
    let patched_item = mine(&after_patch, id);
    let read_after_patch = t.account(id).await;
    let unpause = json!({ "paused": false });
    t.on_account(Method::PATCH, id, "", Some(&unpause)).await;
    t.connected(OTHER).await;
    let after_connect = list_first_page(&t).await;
    let refreshed = t.on_account(Method::POST, id, "/refresh", None).await;
    let after_refresh = list_first_page(&t).await;
    let mut read_after_refresh = Vec::new();
    for item in after_refresh.as_array().unwrap() {
        read_after_refresh.push(t.account(item["id"].as_str().unwrap()).await);
    }
    t.on_account(Method::DELETE, id, "", None).await;
    let after_delete = list_first_page(&t).await;

    // Assert
    assert_eq!(before[0]["label"], Value::Null);
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched_item["label"], "Brand \"Zürich\"\t\\ 東京 🚀");
    assert_eq!(patched_item["status"], "paused");
    assert_eq!(patched_item["paused"], true);
    assert_eq!(patched_item, without_active(&read_after_patch));
    assert_eq!(after_connect.as_array().unwrap().len(), 2);
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    assert_ne!(
        mine(&after_refresh, id)["lastRefreshedAt"],
        mine(&after_connect, id)["lastRefreshedAt"],
        "the refresh shows"
    );
    for (item, read) in after_refresh
        .as_array()
        .unwrap()
        .iter()
        .zip(&read_after_refresh)
    {
        assert_eq!(item, &without_active(read), "the list item is the account");
    }
    assert_eq!(after_delete.as_array().unwrap().len(), 1);
}

fn mine(items: &Value, id: &str) -> Value {
    items
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .cloned()
        .unwrap()
}

fn without_active(account: &Value) -> Value {
    let mut account = account.clone();
    account.as_object_mut().unwrap().remove("active");
    account
}

async fn list_first_page(t: &AccountsTest) -> Value {
    let resp = t.app.auth_get("/api/accounts?limit=10", &t.token).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.json()["data"]["items"].clone()
}
