//! Media uploads: what the bytes really are, whether X will take them, and how to send them.
//!
//! The declared `Content-Type` is a claim by the client; the first bytes are the evidence. An
//! upload is accepted only when both agree, so a GIF labelled `image/png` (which X would
//! reject, or worse, categorise wrongly) is refused with 415 before anything is sent to X.

use common::error::AppError;
use common::x::api::MediaCategory;
use serde::{Deserialize, Serialize};

const MIB: u64 = 1024 * 1024;
/// X's limits per media category.
pub const MAX_IMAGE_BYTES: u64 = 5 * MIB;
pub const MAX_GIF_BYTES: u64 = 15 * MIB;
pub const MAX_VIDEO_BYTES: u64 = 512 * MIB;
/// Images above this go through the chunked INIT/APPEND/FINALIZE flow: a one-shot upload is
/// base64 JSON, and a large body is more likely to fail half-way with nothing to resume.
pub const ONE_SHOT_MAX_BYTES: u64 = MIB;
/// How many leading bytes [`sniff`] needs to recognise every supported format.
pub const SNIFF_LEN: usize = 12;

/// The formats the platform accepts, as recognised from their bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Jpeg,
    Png,
    Webp,
    Gif,
    Mp4,
    /// QuickTime (`.mov`, an ISO-BMFF file with the `qt  ` brand), as phones record it.
    Mov,
}

impl MediaKind {
    pub fn content_type(self) -> &'static str {
        match self {
            MediaKind::Jpeg => "image/jpeg",
            MediaKind::Png => "image/png",
            MediaKind::Webp => "image/webp",
            MediaKind::Gif => "image/gif",
            MediaKind::Mp4 => "video/mp4",
            MediaKind::Mov => "video/quicktime",
        }
    }

    /// The kind a `Content-Type` names; parameters and case are ignored, `image/jpg` is JPEG.
    pub fn from_content_type(content_type: &str) -> Option<MediaKind> {
        let essence = content_type.split(';').next()?.trim().to_ascii_lowercase();
        Some(match essence.as_str() {
            "image/jpeg" | "image/jpg" | "image/pjpeg" => MediaKind::Jpeg,
            "image/png" => MediaKind::Png,
            "image/webp" => MediaKind::Webp,
            "image/gif" => MediaKind::Gif,
            "video/mp4" => MediaKind::Mp4,
            "video/quicktime" => MediaKind::Mov,
            _ => return None,
        })
    }

    /// Still images; a post may carry up to four of them.
    pub fn is_image(self) -> bool {
        matches!(self, MediaKind::Jpeg | MediaKind::Png | MediaKind::Webp)
    }

    /// GIFs and videos, which must be a post's only attachment.
    pub fn is_exclusive(self) -> bool {
        !self.is_image()
    }

    pub fn category(self) -> MediaCategory {
        match self {
            MediaKind::Jpeg | MediaKind::Png | MediaKind::Webp => MediaCategory::TweetImage,
            MediaKind::Gif => MediaCategory::TweetGif,
            MediaKind::Mp4 | MediaKind::Mov => MediaCategory::TweetVideo,
        }
    }

    pub fn max_bytes(self) -> u64 {
        match self.category() {
            MediaCategory::TweetImage => MAX_IMAGE_BYTES,
            MediaCategory::TweetGif => MAX_GIF_BYTES,
            MediaCategory::TweetVideo => MAX_VIDEO_BYTES,
        }
    }

    /// X processes GIFs and videos asynchronously and only through the chunked flow.
    pub fn needs_chunked_upload(self, total_len: u64) -> bool {
        !self.is_image() || total_len > ONE_SHOT_MAX_BYTES
    }

    pub fn label(self) -> &'static str {
        match self {
            MediaKind::Jpeg => "JPEG",
            MediaKind::Png => "PNG",
            MediaKind::Webp => "WebP",
            MediaKind::Gif => "GIF",
            MediaKind::Mp4 => "MP4",
            MediaKind::Mov => "QuickTime",
        }
    }
}

/// What the upload flow needs to know about an accepted file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadPlan {
    pub kind: MediaKind,
    pub category: MediaCategory,
    pub chunked: bool,
    pub total_len: u64,
}

/// Recognises a format from its magic bytes (at least [`SNIFF_LEN`] of them for WebP and MP4).
pub fn sniff(first_bytes: &[u8]) -> Option<MediaKind> {
    let b = first_bytes;
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(MediaKind::Jpeg)
    } else if b.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(MediaKind::Png)
    } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        Some(MediaKind::Gif)
    } else if b.get(0..4) == Some(b"RIFF".as_slice()) && b.get(8..12) == Some(b"WEBP".as_slice()) {
        Some(MediaKind::Webp)
    } else if b.get(4..8) == Some(b"ftyp".as_slice()) {
        iso_brand(b.get(8..12)?)
    } else {
        None
    }
}

/// Accepts an upload when its bytes are a supported format, match the declared type, and fit
/// X's limit for that kind. 415 for unknown or spoofed types, 413 over the limit, 422 if empty.
pub fn check(
    declared_content_type: &str,
    first_bytes: &[u8],
    total_len: u64,
) -> Result<UploadPlan, AppError> {
    let declared = MediaKind::from_content_type(declared_content_type).ok_or_else(|| {
        AppError::media_rejected(format!(
            "{declared_content_type:?} is not supported: upload {SUPPORTED}"
        ))
    })?;
    if total_len == 0 {
        return Err(AppError::validation("the file is empty"));
    }
    let actual = sniff(first_bytes).ok_or_else(|| {
        AppError::media_rejected(format!(
            "the file is not a {} file (unrecognised content): upload {SUPPORTED}",
            declared.label()
        ))
    })?;
    if actual != declared {
        return Err(AppError::media_rejected(format!(
            "declared {} but the content is {}",
            declared.content_type(),
            actual.label()
        )));
    }
    if total_len > actual.max_bytes() {
        return Err(AppError::media_too_large(
            actual.label(),
            actual.max_bytes(),
        ));
    }
    Ok(UploadPlan {
        kind: actual,
        category: actual.category(),
        chunked: actual.needs_chunked_upload(total_len),
        total_len,
    })
}

const SUPPORTED: &str = "JPEG, PNG, WebP, GIF, MP4 or QuickTime";

/// ISO base media files name their major brand after `ftyp`; these are the MP4 family brands
/// X's video pipeline takes (and QuickTime's).
fn iso_brand(brand: &[u8]) -> Option<MediaKind> {
    const MP4: [&[u8; 4]; 12] = [
        b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
        b"MSNV", b"dash",
    ];
    if MP4.iter().any(|m| m.as_slice() == brand) {
        Some(MediaKind::Mp4)
    } else if brand == b"qt  " {
        Some(MediaKind::Mov)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG: &[u8] = &[
        0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0, 1,
    ];
    const PNG: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D,
    ];
    const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00";
    const WEBP: &[u8] = b"RIFF\x24\x00\x00\x00WEBPVP8 ";
    const MP4: &[u8] = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00";
    const MOV: &[u8] = b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00";

    #[test]
    fn formats_are_recognised_by_their_magic_bytes() {
        let cases = [
            (JPEG, Some(MediaKind::Jpeg)),
            (PNG, Some(MediaKind::Png)),
            (GIF, Some(MediaKind::Gif)),
            (b"GIF87a\x01\x00".as_slice(), Some(MediaKind::Gif)),
            (WEBP, Some(MediaKind::Webp)),
            (MP4, Some(MediaKind::Mp4)),
            (
                b"\x00\x00\x00\x18ftypmp42\x00\x00".as_slice(),
                Some(MediaKind::Mp4),
            ),
            (MOV, Some(MediaKind::Mov)),
            (b"RIFF\x24\x00\x00\x00WAVEfmt ".as_slice(), None),
            (b"\x00\x00\x00\x20ftypheic\x00\x00".as_slice(), None),
            (b"GIF90a".as_slice(), None),
            (b"%PDF-1.7".as_slice(), None),
            (b"\xFF\xD8".as_slice(), None),
            (b"".as_slice(), None),
        ];
        for (bytes, expected) in cases {
            assert_eq!(sniff(bytes), expected, "{bytes:?}");
        }
    }

    #[test]
    fn a_spoofed_content_type_is_refused_with_415() {
        let err = check("image/png", GIF, 1000).unwrap_err();
        assert_eq!(err.status(), 415);
        assert_eq!(err.message, "declared image/png but the content is GIF");
        assert_eq!(check("video/mp4", JPEG, 10).unwrap_err().status(), 415);
        assert_eq!(
            check("image/jpeg", b"<html>", 10).unwrap_err().status(),
            415
        );
        assert_eq!(
            check("application/pdf", b"%PDF", 10).unwrap_err().status(),
            415
        );
    }

    #[test]
    fn content_type_parameters_and_case_are_ignored() {
        assert!(check("IMAGE/PNG; charset=binary", PNG, 10).is_ok());
        assert_eq!(check("image/jpg", JPEG, 10).unwrap().kind, MediaKind::Jpeg);
    }

    #[test]
    fn size_limits_depend_on_the_kind() {
        let cases = [
            ("image/jpeg", JPEG, MAX_IMAGE_BYTES),
            ("image/gif", GIF, MAX_GIF_BYTES),
            ("video/mp4", MP4, MAX_VIDEO_BYTES),
        ];
        for (ct, bytes, limit) in cases {
            assert!(check(ct, bytes, limit).is_ok(), "{ct} at the limit");
            let err = check(ct, bytes, limit + 1).unwrap_err();
            assert_eq!(err.status(), 413, "{ct} over the limit");
            assert_eq!(err.details.as_ref().unwrap()["limitBytes"], limit);
        }
        assert_eq!(check("image/png", PNG, 0).unwrap_err().status(), 422);
    }

    #[test]
    fn category_and_chunking_follow_x() {
        let small_png = check("image/png", PNG, ONE_SHOT_MAX_BYTES).unwrap();
        assert_eq!(small_png.category, MediaCategory::TweetImage);
        assert!(!small_png.chunked);
        assert!(
            check("image/png", PNG, ONE_SHOT_MAX_BYTES + 1)
                .unwrap()
                .chunked
        );
        let gif = check("image/gif", GIF, 100).unwrap();
        assert_eq!((gif.category, gif.chunked), (MediaCategory::TweetGif, true));
        let mov = check("video/quicktime", MOV, 100).unwrap();
        assert_eq!(
            (mov.category, mov.chunked),
            (MediaCategory::TweetVideo, true)
        );
        assert_eq!(
            check("image/webp", WEBP, 5).unwrap().category,
            MediaCategory::TweetImage
        );
    }
}
