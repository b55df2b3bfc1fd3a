//! The X client (`common::x`) through the host against `xsim`: the probe component calls the
//! client on `/probe/x/...`, outbound HTTP goes through wasi:http and `allowed_outbound_hosts`,
//! budgets and breakers live in the host's key-value store (Redis), and the simulator runs in
//! this process so that tests can inject faults and read its request counters and post log.

mod budgets;
mod failures;
mod oauth;
mod posts;

use crate::helpers::{Setup, TestApp};
use serde_json::{json, Value};
use std::sync::Arc;
use xsim::{Fault, FaultKind, Profile, SimHandle, SimState};

const ME: u64 = xsim::DEFAULT_USER_ID;
const REDIRECT: &str = "http://127.0.0.1:3000/api/x/callback";

struct XTest {
    sim: SimHandle,
    app: TestApp,
}

impl XTest {
    async fn start(profile: Profile) -> XTest {
        let (sim, app) = Setup::probe().with_sim(profile).await;
        XTest { sim, app }
    }

    fn st(&self) -> &Arc<SimState> {
        self.sim.state()
    }

    /// A fresh OAuth 2.0 access token of the default user.
    fn token(&self) -> String {
        self.st()
            .issue_user_token(ME, None, None)
            .unwrap()
            .access_token
    }

    /// `POST /probe/x/call`; answers the probe's `data` (`{"ok": ..}` or the error object).
    async fn call(&self, body: Value) -> Value {
        let resp = self.app.post_json("/probe/x/call", &body).await;
        assert_eq!(resp.status, 200, "probe call failed: {}", resp.text);
        resp.json()["data"].clone()
    }

    async fn probe(&self, path: &str, body: Value) -> Value {
        let resp = self.app.post_json(path, &body).await;
        assert_eq!(resp.status, 200, "{path}: {}", resp.text);
        resp.json()["data"].clone()
    }

    async fn budget(&self, account: &str, endpoint: &str, now_ms: Option<i64>) -> Value {
        let now = now_ms.map(|ms| format!("&now_ms={ms}")).unwrap_or_default();
        let resp = self
            .app
            .get(&format!(
                "/probe/x/budget?account={account}&endpoint={endpoint}{now}"
            ))
            .await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        resp.json()["data"].clone()
    }

    async fn breaker(&self, account: &str) -> Value {
        let resp = self
            .app
            .get(&format!("/probe/x/breaker?account={account}"))
            .await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        resp.json()["data"].clone()
    }

    fn fault(&self, method: &str, path: &str, kind: FaultKind, status: u16, delay_ms: u64) {
        self.st().add_fault(Fault {
            method: Some(method.into()),
            path: path.into(),
            count: 1,
            status,
            delay_ms,
            kind,
            skip: 0,
        });
    }

    fn requests(&self, method: &str, path: &str) -> u64 {
        self.st().request_count(method, path)
    }
}

impl XTest {
    async fn post_id(&self, token: &str, text: &str) -> String {
        let created = self
            .call(json!({ "op": "create_post", "token": token, "args": { "text": text } }))
            .await;
        created["ok"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("create {text:?}: {created}"))
            .to_string()
    }

    async fn upload_png(&self, token: &str) -> Value {
        self.call(json!({ "op": "upload_media", "token": token,
                          "args": { "bytes": PNG_1X1.to_vec(), "category": "tweet_image" } }))
            .await
    }
}

fn kind(answer: &Value) -> &str {
    answer["kind"].as_str().unwrap_or("<ok>")
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

/// A complete 1x1 PNG (signature, IHDR, IDAT, IEND).
pub const PNG_1X1: [u8; 67] = [
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// A small fake MP4: a valid `ftyp` box followed by an `mdat` box of filler.
pub fn fake_mp4(len: usize) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0x18];
    v.extend_from_slice(b"ftypmp42");
    v.extend_from_slice(&[0, 0, 0, 0]);
    v.extend_from_slice(b"mp42isom");
    let mdat = (len - v.len()) as u32;
    v.extend_from_slice(&mdat.to_be_bytes());
    v.extend_from_slice(b"mdat");
    v.resize(len, 0xAB);
    v
}
