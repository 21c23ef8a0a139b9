#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Writes a camera-like JPEG for benchmarks: photo-like content with EXIF (orientation 6, GPS)
//! and XMP, as a phone produces.
//!
//!     camera_photo OUT.jpg [WIDTH HEIGHT]     (default 4032 × 3024, 12 megapixels)

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .ok_or("usage: camera_photo OUT.jpg [WIDTH HEIGHT]")?;
    let width: u32 = args.next().map_or(Ok(4032), |w| w.parse())?;
    let height: u32 = args.next().map_or(Ok(3024), |h| h.parse())?;
    let image = guichet_tests::fixtures::photo_like_image(width, height);
    std::fs::write(&out, guichet_tests::fixtures::camera_jpeg(&image, 6))?;
    Ok(())
}
