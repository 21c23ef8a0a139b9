//! The photo pipeline: untrusted bytes in, two metadata-free lossy WebP variants out.
//!
//! Order matters for safety and cost: the format is sniffed from the bytes (never trusted from
//! the file name or the part's content type), the pixel count is read from the header and
//! checked before any pixel buffer exists, and only then is the image decoded, turned upright
//! (EXIF orientation), resized with a SIMD resizer and encoded with libwebp. Encoding from raw
//! pixels is what drops every metadata block (EXIF with GPS, XMP, ICC, comments).

mod gate;
pub mod store;

pub use gate::{Effort, GateBusy, PhotoGate};
pub use store::{
    CopySummary, LocalDiskStore, PhotoStore, S3Store, StoreError, StoreLocation, copy_all,
    is_storable_key, is_valid_key, matches_key,
};

use std::io::Cursor;

use fast_image_resize as fir;
use guichet_shared::pixels::{self, fit_within, flatten_to_rgb};
use guichet_shared::sniff::{self, Format};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};

use crate::config::PhotoLimits;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoFormat {
    Jpeg,
    Png,
    Webp,
}

impl PhotoFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            PhotoFormat::Jpeg => "jpeg",
            PhotoFormat::Png => "png",
            PhotoFormat::Webp => "webp",
        }
    }

    fn image_format(self) -> ImageFormat {
        match self {
            PhotoFormat::Jpeg => ImageFormat::Jpeg,
            PhotoFormat::Png => ImageFormat::Png,
            PhotoFormat::Webp => ImageFormat::WebP,
        }
    }
}

/// Why a photo was refused. Every variant but `Encode` is the client's fault (4xx).
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("the file is not a JPEG, PNG or WebP image{}", .detected.map(|d| format!(" (it looks like {d})")).unwrap_or_default())]
    UnsupportedFormat { detected: Option<&'static str> },
    #[error("HEIC/HEIF photos are not accepted: send JPEG (phones convert when sharing)")]
    Heic,
    #[error("the photo is {width}×{height} pixels; at most {max} pixels are accepted")]
    TooManyPixels { width: u32, height: u32, max: u64 },
    #[error("the photo is {bytes} bytes; at most {max} bytes are accepted")]
    TooLarge { bytes: usize, max: usize },
    #[error("the image data is damaged or truncated: {0}")]
    Corrupt(String),
    #[error("encoding failed: {0}")]
    Encode(String),
}

/// One stored rendition of a photo.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Content address: hex SHA-256 of `bytes` plus the extension.
    pub key: String,
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone)]
pub struct ProcessedPhoto {
    pub source_sha256: String,
    pub source_format: PhotoFormat,
    pub source_bytes: usize,
    /// Size of the upright source image (after orientation).
    pub source_width: u32,
    pub source_height: u32,
    pub display: Variant,
    pub thumbnail: Variant,
    /// Difference hash of the upright image, for duplicate detection.
    pub phash: u64,
}

/// Recognises the container from its magic bytes ([`guichet_shared::sniff`]); of what it
/// recognises, only JPEG, PNG and WebP are photos this pipeline decodes.
pub fn sniff(bytes: &[u8]) -> Result<PhotoFormat, PhotoError> {
    match sniff::sniff(bytes) {
        Some(Format::Jpeg) => Ok(PhotoFormat::Jpeg),
        Some(Format::Png) => Ok(PhotoFormat::Png),
        Some(Format::Webp) => Ok(PhotoFormat::Webp),
        Some(Format::Heic | Format::Heif) => Err(PhotoError::Heic),
        other => Err(PhotoError::UnsupportedFormat {
            detected: other.map(Format::name),
        }),
    }
}

/// Runs the whole pipeline on one photo, at the thorough effort. CPU-heavy: call it off the
/// async threads.
pub fn process(bytes: &[u8], limits: &PhotoLimits) -> Result<ProcessedPhoto, PhotoError> {
    process_with(bytes, limits, Effort::Thorough)
}

/// [`process`] at the given effort (the gate says which: see [`Effort`]).
pub fn process_with(
    bytes: &[u8],
    limits: &PhotoLimits,
    effort: Effort,
) -> Result<ProcessedPhoto, PhotoError> {
    if bytes.len() > limits.max_bytes {
        return Err(PhotoError::TooLarge {
            bytes: bytes.len(),
            max: limits.max_bytes,
        });
    }
    let format = sniff(bytes)?;
    if format == PhotoFormat::Jpeg && !jpeg_has_end_marker(bytes) {
        return Err(PhotoError::Corrupt(
            "the JPEG file is truncated (no end-of-image marker)".into(),
        ));
    }
    let decoded = match format {
        PhotoFormat::Jpeg => match decode_jpeg_scaled(bytes, limits)? {
            Some(decoded) => decoded,
            // CMYK and 16-bit JPEGs are rare in photos: the general decoder handles them.
            None => decode_full(bytes, format, limits.max_pixels)?,
        },
        PhotoFormat::Png | PhotoFormat::Webp => decode_full(bytes, format, limits.max_pixels)?,
    };
    let Decoded {
        rgb,
        width,
        height,
        full_width,
        full_height,
        orientation,
    } = decoded;

    // Resize first, then turn upright: rotating 1600 px costs a fraction of rotating 12 MP.
    // Fitting within a square box gives the same size whatever the orientation.
    let (dw, dh) = fit_within(full_width, full_height, limits.display_px);
    let display = resize_rgb(rgb, width, height, dw, dh)?;
    let (display, dw, dh) = orient(display, dw, dh, orientation)?;
    let (tw, th) = fit_within(dw, dh, limits.thumbnail_px);
    let thumb_pixels = resize_rgb(display.clone(), dw, dh, tw, th)?;

    let phash = perceptual_hash(&thumb_pixels, tw, th)?;
    let display_variant = encode_variant(&display, dw, dh, limits.webp_quality, effort)?;
    let thumbnail = encode_variant(&thumb_pixels, tw, th, limits.webp_quality, effort)?;
    let (source_width, source_height) = if swaps_axes(orientation) {
        (full_height, full_width)
    } else {
        (full_width, full_height)
    };
    Ok(ProcessedPhoto {
        source_sha256: hex_sha256(bytes),
        source_format: format,
        source_bytes: bytes.len(),
        source_width,
        source_height,
        display: display_variant,
        thumbnail,
        phash,
    })
}

/// Pixels as decoded (RGB, 8 bits), before orientation.
struct Decoded {
    rgb: Vec<u8>,
    /// Size of `rgb`, which may be smaller than the image when decoded at a reduced scale.
    width: u32,
    height: u32,
    /// Size of the image as stored in the file.
    full_width: u32,
    full_height: u32,
    orientation: Orientation,
}

fn swaps_axes(o: Orientation) -> bool {
    matches!(
        o,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

fn check_pixels(width: u32, height: u32, max: u64) -> Result<(), PhotoError> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max || width == 0 || height == 0 {
        return Err(PhotoError::TooManyPixels { width, height, max });
    }
    Ok(())
}

/// JPEG at a reduced scale with libjpeg-turbo: its IDCT produces n/8 of the size directly,
/// the smallest that still covers the display size, so a 12 MP photo is decoded at 3 MP and
/// most of the pipeline's cost is saved. Returns `None` for colour spaces (CMYK, YCCK) left to
/// `decode_full`.
fn decode_jpeg_scaled(bytes: &[u8], limits: &PhotoLimits) -> Result<Option<Decoded>, PhotoError> {
    let corrupt = |e: turbojpeg::Error| PhotoError::Corrupt(e.to_string());
    let mut decoder =
        turbojpeg::Decompressor::new().map_err(|e| PhotoError::Encode(e.to_string()))?;
    let header = decoder.read_header(bytes).map_err(corrupt)?;
    let too_big = |_| PhotoError::TooManyPixels {
        width: u32::MAX,
        height: u32::MAX,
        max: limits.max_pixels,
    };
    let full_width = u32::try_from(header.width).map_err(too_big)?;
    let full_height = u32::try_from(header.height).map_err(too_big)?;
    check_pixels(full_width, full_height, limits.max_pixels)?;
    if matches!(
        header.colorspace,
        turbojpeg::Colorspace::CMYK | turbojpeg::Colorspace::YCCK
    ) {
        return Ok(None);
    }

    let (tw, th) = fit_within(full_width, full_height, limits.display_px);
    let factor = turbojpeg::Decompressor::supported_scaling_factors()
        .into_iter()
        .filter(|f| f.num() <= f.denom())
        .filter(|f| f.scale(header.width) >= tw as usize && f.scale(header.height) >= th as usize)
        .min_by(|a, b| (a.num() * b.denom()).cmp(&(b.num() * a.denom())))
        .unwrap_or(turbojpeg::ScalingFactor::ONE);
    decoder.set_scaling_factor(factor).map_err(corrupt)?;
    let scaled = header.scaled(factor);
    let mut image = turbojpeg::Image {
        pixels: vec![0u8; 3 * scaled.width * scaled.height],
        width: scaled.width,
        pitch: 3 * scaled.width,
        height: scaled.height,
        format: turbojpeg::PixelFormat::RGB,
    };
    decoder
        .decompress(bytes, image.as_deref_mut())
        .map_err(corrupt)?;
    Ok(Some(Decoded {
        rgb: image.pixels,
        width: u32::try_from(scaled.width).map_err(too_big)?,
        height: u32::try_from(scaled.height).map_err(too_big)?,
        full_width,
        full_height,
        orientation: jpeg_exif_orientation(bytes).unwrap_or(Orientation::NoTransforms),
    }))
}

/// The orientation in a JPEG's EXIF block (APP1 "Exif"), found by walking the marker
/// segments that precede the image data.
fn jpeg_exif_orientation(bytes: &[u8]) -> Option<Orientation> {
    let mut at = 2;
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return None;
        }
        let marker = bytes[at + 1];
        if marker == 0xFF {
            at += 1; // fill byte
            continue;
        }
        if marker == 0xDA || marker == 0xD9 {
            return None; // image data starts: no EXIF before it
        }
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        let payload = bytes.get(at + 4..at + 2 + len)?;
        if marker == 0xE1
            && let Some(tiff) = payload.strip_prefix(b"Exif\0\0")
        {
            return Orientation::from_exif_chunk(tiff);
        }
        at += 2 + len;
    }
    None
}

/// Any supported format at full size, through the `image` crate, with the pixel budget checked
/// from the header before decoding.
fn decode_full(bytes: &[u8], format: PhotoFormat, max_pixels: u64) -> Result<Decoded, PhotoError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    let mut decoder_limits = Limits::default();
    // Worst case of 16-bit RGBA plus slack; the pixel check below is the real guard.
    decoder_limits.max_alloc = Some(max_pixels.saturating_mul(8).max(64 * 1024 * 1024));
    reader.limits(decoder_limits);
    let mut decoder = reader.into_decoder().map_err(corrupt_or_too_big)?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, max_pixels)?;
    // A broken EXIF block should not cost the citizen their photo: keep it as shot.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let image = DynamicImage::from_decoder(decoder).map_err(corrupt_or_too_big)?;
    Ok(Decoded {
        rgb: flatten_to_rgb(image),
        width,
        height,
        full_width: width,
        full_height: height,
        orientation,
    })
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

/// JPEG decoders fill a truncated scan with grey rather than fail; a complete file has an
/// end-of-image marker (FF D9) after its first scan. Data appended after it (motion photos)
/// is allowed.
fn jpeg_has_end_marker(bytes: &[u8]) -> bool {
    let Some(scan) = bytes.windows(2).position(|w| w == [0xFF, 0xDA]) else {
        return false;
    };
    bytes[scan..].windows(2).any(|w| w == [0xFF, 0xD9])
}

fn corrupt_or_too_big(e: image::ImageError) -> PhotoError {
    match e {
        image::ImageError::Limits(l) => {
            PhotoError::Corrupt(format!("decoder limits exceeded: {l}"))
        }
        other => PhotoError::Corrupt(other.to_string()),
    }
}

/// dHash of the image: shrunk to 9×8 grey pixels, one bit per horizontal gradient.
fn perceptual_hash(rgb: &[u8], w: u32, h: u32) -> Result<u64, PhotoError> {
    let grey: Vec<u8> = rgb
        .chunks_exact(3)
        .map(|p| {
            // ITU-R BT.601 luma, integer.
            ((299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2])) / 1000) as u8
        })
        .collect();
    let src = fir::images::Image::from_vec_u8(w, h, grey, fir::PixelType::U8)
        .map_err(|e| PhotoError::Encode(format!("hash source: {e}")))?;
    let mut dst = fir::images::Image::new(9, 8, fir::PixelType::U8);
    let options =
        fir::ResizeOptions::new().resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Box));
    fir::Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| PhotoError::Encode(format!("hash resize: {e}")))?;
    let pixels: [u8; 72] = dst
        .into_vec()
        .try_into()
        .map_err(|_| PhotoError::Encode("hash buffer size".into()))?;
    Ok(guichet_shared::phash::dhash(&pixels))
}

/// Resizes RGB pixels, as a pipeline error.
fn resize_rgb(pixels: Vec<u8>, w: u32, h: u32, nw: u32, nh: u32) -> Result<Vec<u8>, PhotoError> {
    pixels::resize_rgb(pixels, w, h, nw, nh).map_err(PhotoError::Encode)
}

fn encode_variant(
    rgb: &[u8],
    w: u32,
    h: u32,
    quality: f32,
    effort: Effort,
) -> Result<Variant, PhotoError> {
    let mut config =
        webp::WebPConfig::new().map_err(|()| PhotoError::Encode("libwebp config".into()))?;
    config.quality = quality;
    // Method 2 is ~2.4× faster than libwebp's default 4 for a few percent more bytes; method 0
    // takes about 40 % less CPU than 2 again, for a few percent more (docs/benchmarks.md).
    config.method = match effort {
        Effort::Thorough => 2,
        Effort::Quick => 0,
    };
    let encoded = webp::Encoder::from_rgb(rgb, w, h)
        .encode_advanced(&config)
        .map_err(|e| PhotoError::Encode(format!("webp: {e:?}")))?;
    let bytes = encoded.to_vec();
    Ok(Variant {
        key: format!("{}.webp", hex_sha256(&bytes)),
        bytes,
        width: w,
        height: h,
    })
}

pub fn hex_sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_ignores_names_and_recognises_magic_bytes() {
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
            sniff(b"hello, I am a text file"),
            Err(PhotoError::UnsupportedFormat {
                detected: Some("text")
            })
        ));
        assert!(matches!(
            sniff(b"GIF89a"),
            Err(PhotoError::UnsupportedFormat {
                detected: Some("GIF")
            })
        ));
        assert!(matches!(
            sniff(b""),
            Err(PhotoError::UnsupportedFormat { detected: None })
        ));
        for brand in ["heic", "heix", "hevc", "heim", "heis", "mif1", "msf1"] {
            let bytes = format!("\0\0\0\x18ftyp{brand}\0\0\0\0");
            assert!(
                matches!(sniff(bytes.as_bytes()), Err(PhotoError::Heic)),
                "{brand}"
            );
        }
        for (bytes, detected) in [
            (b"\0\0\0\x1cftypavif\0\0\0\0".as_slice(), "AVIF"),
            (b"%PDF-1.7\n", "PDF"),
            (b"II*\0\x08\0\0\0", "TIFF"),
        ] {
            assert!(
                matches!(
                    sniff(bytes),
                    Err(PhotoError::UnsupportedFormat { detected: Some(d) }) if d == detected
                ),
                "{detected}"
            );
        }
    }
}
