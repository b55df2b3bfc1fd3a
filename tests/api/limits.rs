//! The API rate limiter under a thousand simultaneous clients of one user, on real Redis.

use crate::helpers::{assert_error_envelope, Kv, Resp, Setup};

#[tokio::test]
async fn a_thousand_simultaneous_clients_of_one_user_get_exactly_the_quota_and_only_429_beyond() {
    // Arrange: Redis; a day-long window, so the burst cannot straddle two windows; a client
    // that opens one connection per request (no pool limit), so all thousand are in flight at
    // once and the host runs them side by side (it allows 1,000 instances at a time).
    const QUOTA: usize = 300;
    const CLIENTS: usize = 1000;
    let app = Setup::app()
        .kv(Kv::Redis)
        .var("api_rate_limit", &QUOTA.to_string())
        .var("api_rate_window_seconds", "86400")
        .spawn()
        .await;
    let user = app.register("thousand@example.com", "Thousand").await;
    let token = user["accessToken"].as_str().unwrap().to_string();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .timeout(std::time::Duration::from_secs(300))
        .build()
        .unwrap();
    let url = format!("{}/api/auth/profile", app.address);
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(CLIENTS));

    // Act: every client waits at the barrier, then all send at once.
    let calls = (0..CLIENTS).map(|_| {
        let (client, url, token, start) =
            (client.clone(), url.clone(), token.clone(), start.clone());
        tokio::spawn(async move {
            start.wait().await;
            let r = client.get(url).bearer_auth(token).send().await?;
            let (status, headers) = (r.status().as_u16(), r.headers().clone());
            let text = r.text().await?;
            Ok::<_, reqwest::Error>(Resp {
                status,
                headers,
                text,
            })
        })
    });
    let answers: Vec<Resp> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|joined| joined.unwrap().expect("every request is answered"))
        .collect();

    // Assert
    let served = answers.iter().filter(|r| r.status == 200).count();
    let refused: Vec<&Resp> = answers.iter().filter(|r| r.status == 429).collect();
    let other: Vec<(u16, &str)> = answers
        .iter()
        .filter(|r| r.status != 200 && r.status != 429)
        .map(|r| (r.status, r.text.as_str()))
        .collect();
    assert!(other.is_empty(), "only 200 and 429: {other:?}");
    assert_eq!((served, refused.len()), (QUOTA, CLIENTS - QUOTA));
    for r in refused {
        let e = assert_error_envelope(r, 429, "RATE_LIMIT_ERROR");
        assert_eq!(e["code"], "RATE_001");
        assert!(r
            .header("retry-after")
            .is_some_and(|s| s.parse::<u64>().is_ok()));
    }
    // And the limiter kept counting: the next request is refused too.
    assert_eq!(app.auth_get("/api/auth/profile", &token).await.status, 429);
}
