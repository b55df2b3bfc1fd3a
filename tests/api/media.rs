//! `POST /api/media`: images in one request, videos streamed through X's chunked upload,
//! multipart or raw bodies, types checked by their bytes, and the 4-images rule when composing.

use crate::accounts::AccountsTest;
use crate::helpers::{assert_error_envelope, Resp};
use crate::x_client::{fake_mp4, PNG_1X1};
use reqwest::Method;
use serde_json::json;

const ME: u64 = xsim::DEFAULT_USER_ID;
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";

struct MediaTest {
    t: AccountsTest,
    account: String,
}

impl MediaTest {
    async fn start() -> MediaTest {
        let t = AccountsTest::start().await;
        let account = t.connected(ME).await["id"].as_str().unwrap().to_string();
        MediaTest { t, account }
    }

    async fn upload(&self, content_type: &str, body: Vec<u8>) -> Resp {
        let bearer = format!("Bearer {}", self.t.token);
        self.t
            .app
            .request(
                Method::POST,
                &format!("/api/media?accountId={}", self.account),
                &[
                    ("authorization", bearer.as_str()),
                    ("content-type", content_type),
                ],
                Some(body),
            )
            .await
    }

    async fn uploaded(&self, content_type: &str, body: Vec<u8>) -> String {
        let resp = self.upload(content_type, body).await;
        assert_eq!(resp.status, 201, "{}", resp.text);
        resp.json()["data"]["mediaId"].as_str().unwrap().to_string()
    }
}

fn multipart(boundary: &str, filename: &str, content_type: &str, data: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"media\"; filename=\"{filename}\"\r\n\
         Content-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

#[tokio::test]
async fn images_upload_raw_or_multipart_and_compose_with_at_most_four() {
    // Arrange
    let m = MediaTest::start().await;

    // Act
    let raw = m.uploaded("image/png", PNG_1X1.to_vec()).await;
    let form = m
        .uploaded(
            "multipart/form-data; boundary=b0undary",
            multipart("b0undary", "pixel.png", "image/png", &PNG_1X1),
        )
        .await;
    let mut five = vec![raw.clone(), form.clone()];
    for _ in 0..3 {
        five.push(m.uploaded("image/png", PNG_1X1.to_vec()).await);
    }
    let four =
        m.t.call(
            Method::POST,
            "/api/tweets",
            &m.t.token,
            Some(&json!({ "content": "four pictures", "accountId": m.account,
                          "mediaIds": &five[..4] })),
        )
        .await;
    let too_many =
        m.t.call(
            Method::POST,
            "/api/tweets",
            &m.t.token,
            Some(&json!({ "content": "five pictures", "accountId": m.account, "mediaIds": five })),
        )
        .await;
    let unknown =
        m.t.call(
            Method::POST,
            "/api/tweets",
            &m.t.token,
            Some(&json!({ "content": "not ours", "accountId": m.account, "mediaIds": ["42"] })),
        )
        .await;

    // Assert
    assert_ne!(raw, form);
    assert_eq!(four.status, 201, "{}", four.text);
    assert_eq!(four.json()["data"]["mediaIds"].as_array().unwrap().len(), 4);
    let err = assert_error_envelope(&too_many, 422, "VALIDATION_ERROR");
    assert!(err.to_string().contains("at most 4"), "{err}");
    assert_error_envelope(&unknown, 422, "VALIDATION_ERROR");
    assert_eq!(m.t.st().request_count("POST", "/2/media/upload"), 5);
}

#[tokio::test]
async fn a_spoofed_or_unsupported_type_is_refused_before_anything_reaches_x() {
    // Arrange
    let m = MediaTest::start().await;
    let mut big_png = PNG_1X1.to_vec();
    big_png.resize(5 * 1024 * 1024 + 1, 0);

    // Act
    let gif_as_png = m.upload("image/png", GIF.to_vec()).await;
    let text_as_jpeg = m
        .upload("image/jpeg", b"just some text, honest".to_vec())
        .await;
    let pdf = m.upload("application/pdf", b"%PDF-1.7".to_vec()).await;
    let spoofed_part = m
        .upload(
            "multipart/form-data; boundary=zz",
            multipart("zz", "x.png", "image/png", GIF),
        )
        .await;
    // Refused from Content-Length before the body is read; the server may close the
    // connection while the client is still sending, so only the status is read.
    let too_big =
        m.t.app
            .client
            .post(format!(
                "{}/api/media?accountId={}",
                m.t.app.address, m.account
            ))
            .bearer_auth(&m.t.token)
            .header("content-type", "image/png")
            .body(big_png)
            .send()
            .await
            .expect("a response before the body is sent")
            .status()
            .as_u16();

    // Assert
    for resp in [&gif_as_png, &text_as_jpeg, &pdf, &spoofed_part] {
        assert_error_envelope(resp, 415, "UNSUPPORTED_MEDIA_TYPE");
    }
    assert_eq!(too_big, 413);
    assert_eq!(m.t.st().request_count("POST", "/2/media/upload"), 0);
    assert_eq!(
        m.t.st().request_count("POST", "/2/media/upload/initialize"),
        0
    );
}

#[tokio::test]
async fn a_video_is_streamed_to_x_in_one_megabyte_segments_and_can_be_posted() {
    // Arrange
    let m = MediaTest::start().await;
    let video = fake_mp4(2_500_000);

    // Act
    let raw = m.uploaded("video/mp4", video.clone()).await;
    let form = m
        .uploaded(
            "multipart/form-data; boundary=vid",
            multipart("vid", "clip.mp4", "video/mp4", &video),
        )
        .await;
    let posted =
        m.t.call(
            Method::POST,
            "/api/tweets",
            &m.t.token,
            Some(&json!({ "content": "a video", "accountId": m.account, "mediaIds": [raw] })),
        )
        .await;
    let with_image =
        m.t.call(
            Method::POST,
            "/api/tweets",
            &m.t.token,
            Some(
                &json!({ "content": "a video and more", "accountId": m.account,
                          "mediaIds": [form, m.uploaded("image/png", PNG_1X1.to_vec()).await] }),
            ),
        )
        .await;

    // Assert
    for id in [&raw, &form] {
        assert_eq!(
            m.t.st()
                .request_count("POST", &format!("/2/media/upload/{id}/append")),
            3,
            "2.5 MB in three segments"
        );
        assert_eq!(
            m.t.st()
                .request_count("POST", &format!("/2/media/upload/{id}/finalize")),
            1
        );
    }
    assert_eq!(posted.status, 201, "{}", posted.text);
    let err = assert_error_envelope(&with_image, 422, "VALIDATION_ERROR");
    assert!(err.to_string().contains("only attachment"), "{err}");
}
