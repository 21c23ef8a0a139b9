//! Photo preparation on the phone, before a photo enters the outbox.
//!
//! A camera JPEG is 3–8 MB; over a weak mobile link that is the difference between a report that
//! leaves in seconds and one that never does. The server resizes to 1600 px anyway, so sending
//! more than 2048 px buys nothing. Encoding from raw pixels is also what drops every metadata
//! block (EXIF with the GPS of the citizen's home, XMP, comments) before it leaves the phone.

use std::io::Cursor;

use guichet_shared::pixels;
pub use guichet_shared::pixels::fit_within;
use guichet_shared::pixels::flatten_to_rgb;
use guichet_shared::sniff::{self, Format};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Longest side of a prepared photo, in pixels.
pub const MAX_SIDE: u32 = 2048;
/// libwebp quality; 75 keeps potholes and graffiti legible at a fraction of the bytes.
pub const WEBP_QUALITY: f32 = 75.0;
/// libwebp effort (0–6): its default, a good size for the time on a phone.
pub const WEBP_METHOD: i32 = 4;
/// Pixels decoded at most. A decoded 100 MP photo already takes 300 MB; beyond that a phone
/// risks being killed for memory, which is worse than a clear refusal.
pub const MAX_PIXELS: u64 = 100_000_000;

/// How to prepare a photo; `Default` gives the values above.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrepareOptions {
    pub max_side: u32,
    pub quality: f32,
    pub method: i32,
    pub max_pixels: u64,
}

impl Default for PrepareOptions {
    fn default() -> Self {
        Self {
            max_side: MAX_SIDE,
            quality: WEBP_QUALITY,
            method: WEBP_METHOD,
            max_pixels: MAX_PIXELS,
        }
    }
}

/// A photo ready to be queued: lossy WebP, upright, without metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedPhoto {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoFormat {
    Jpeg,
    Png,
    Webp,
}

impl PhotoFormat {
    pub fn mime(self) -> &'static str {
        let sniffed = match self {
            PhotoFormat::Jpeg => Format::Jpeg,
            PhotoFormat::Png => Format::Png,
            PhotoFormat::Webp => Format::Webp,
        };
        sniffed.mime()
    }

    fn image_format(self) -> ImageFormat {
        match self {
            PhotoFormat::Jpeg => ImageFormat::Jpeg,
            PhotoFormat::Png => ImageFormat::Png,
            PhotoFormat::Webp => ImageFormat::WebP,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("the file is not a JPEG, PNG or WebP image")]
    UnsupportedFormat,
    #[error("HEIC/HEIF photos cannot be read here: choose JPEG in the camera settings")]
    Heic,
    #[error("the photo is {width}×{height} pixels; at most {max} pixels can be prepared")]
    TooManyPixels { width: u32, height: u32, max: u64 },
    #[error("the image data is damaged or truncated: {0}")]
    Corrupt(String),
    #[error("encoding failed: {0}")]
    Encode(String),
}

/// Recognises the container from its magic bytes ([`guichet_shared::sniff`]); file names and
/// MIME types from the picker are not trusted.
pub fn sniff(bytes: &[u8]) -> Result<PhotoFormat, PhotoError> {
    match sniff::sniff(bytes) {
        Some(Format::Jpeg) => Ok(PhotoFormat::Jpeg),
        Some(Format::Png) => Ok(PhotoFormat::Png),
        Some(Format::Webp) => Ok(PhotoFormat::Webp),
        Some(Format::Heic | Format::Heif) => Err(PhotoError::Heic),
        _ => Err(PhotoError::UnsupportedFormat),
    }
}

/// [`prepare_with`] and the default options.
pub fn prepare(bytes: &[u8]) -> Result<PreparedPhoto, PhotoError> {
    prepare_with(bytes, &PrepareOptions::default())
}

/// Decodes, turns upright, shrinks and re-encodes one photo. CPU-heavy (up to a second or two
/// for 12 MP on a phone): call it off the UI and async threads.
pub fn prepare_with(bytes: &[u8], options: &PrepareOptions) -> Result<PreparedPhoto, PhotoError> {
    let format = sniff(bytes)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    let mut limits = Limits::default();
    // Worst case 16-bit RGBA; the pixel check below is the real guard.
    limits.max_alloc = Some(options.max_pixels.saturating_mul(8));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels == 0 || pixels > options.max_pixels {
        return Err(PhotoError::TooManyPixels {
            width,
            height,
            max: options.max_pixels,
        });
    }
    // A broken EXIF block should not cost the citizen their photo: keep it as shot.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let image = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    let rgb = flatten_to_rgb(image);

    // Resize first, then turn upright: rotating 2048 px costs a fraction of rotating 12 MP.
    // The box is square, so the size fits whichever way the photo ends up.
    let (nw, nh) = fit_within(width, height, options.max_side);
    let resized = resize_rgb(rgb, width, height, nw, nh)?;
    let (upright, w, h) = orient(resized, nw, nh, orientation)?;
    let bytes = encode_webp(&upright, w, h, options)?;
    Ok(PreparedPhoto {
        bytes,
        width: w,
        height: h,
    })
}

fn corrupt(e: image::ImageError) -> PhotoError {
    PhotoError::Corrupt(e.to_string())
}

/// Resizes RGB pixels, as a preparation error.
fn resize_rgb(pixels: Vec<u8>, w: u32, h: u32, nw: u32, nh: u32) -> Result<Vec<u8>, PhotoError> {
    pixels::resize_rgb(pixels, w, h, nw, nh).map_err(PhotoError::Encode)
}

/// Turns pixels upright, as a pipeline error.
fn orient(
    rgb: Vec<u8>,
    w: u32,
    h: u32,
    orientation: Orientation,
) -> Result<(Vec<u8>, u32, u32), PhotoError> {
    pixels::orient(rgb, w, h, orientation).map_err(PhotoError::Encode)
}

/// Lossy WebP through libwebp (the `image` crate only writes lossless WebP, megabytes again).
fn encode_webp(
    rgb: &[u8],
    w: u32,
    h: u32,
    options: &PrepareOptions,
) -> Result<Vec<u8>, PhotoError> {
    let mut config =
        webp::WebPConfig::new().map_err(|()| PhotoError::Encode("libwebp config".into()))?;
    config.quality = options.quality;
    config.method = options.method;
    let encoded = webp::Encoder::from_rgb(rgb, w, h)
        .encode_advanced(&config)
        .map_err(|e| PhotoError::Encode(format!("webp: {e:?}")))?;
    Ok(encoded.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_reads_magic_bytes() {
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0]).ok(),
            Some(PhotoFormat::Jpeg)
        );
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n....").ok(), Some(PhotoFormat::Png));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").ok(), Some(PhotoFormat::Webp));
        assert!(matches!(
            sniff(b"\0\0\0\x18ftypheic\0\0"),
            Err(PhotoError::Heic)
        ));
        assert!(matches!(
            sniff(b"GIF89a"),
            Err(PhotoError::UnsupportedFormat)
        ));
        assert!(matches!(sniff(b""), Err(PhotoError::UnsupportedFormat)));
        for brand in ["heic", "heix", "hevc", "heim", "heis", "mif1", "msf1"] {
            let bytes = format!("\0\0\0\x18ftyp{brand}\0\0\0\0");
            assert!(
                matches!(sniff(bytes.as_bytes()), Err(PhotoError::Heic)),
                "{brand}"
            );
        }
        assert!(matches!(
            sniff(b"%PDF-1.7\n"),
            Err(PhotoError::UnsupportedFormat)
        ));
        assert_eq!(PhotoFormat::Webp.mime(), "image/webp");
    }

    #[test]
    fn garbage_with_a_jpeg_signature_is_corrupt_not_a_panic() {
        let bytes = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 1, 2, 3];
        assert!(matches!(prepare(&bytes), Err(PhotoError::Corrupt(_))));
    }
}
