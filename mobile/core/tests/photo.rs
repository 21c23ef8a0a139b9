#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Photo preparation on a 12-megapixel camera JPEG: much smaller, upright, no metadata.
//! Run with `--nocapture` to see the measured ratio.

use std::time::Instant;

use guichet_mobile_core::photo::{self, MAX_SIDE};
use guichet_tests::fixtures::{
    SECRET_MARKER, camera_jpeg, encode_png, photo_like_image, two_colour_image, webp_chunks,
};
use image::{GenericImageView, ImageDecoder};

fn decode(bytes: &[u8]) -> image::DynamicImage {
    image::load_from_memory_with_format(bytes, image::ImageFormat::WebP).unwrap()
}

/// Mean red of a horizontal band of rows.
fn mean_red(img: &image::DynamicImage, rows: std::ops::Range<u32>) -> f64 {
    let rgb = img.to_rgb8();
    let mut sum = 0u64;
    let mut n = 0u64;
    for y in rows {
        for x in 0..rgb.width() {
            sum += u64::from(rgb.get_pixel(x, y)[0]);
            n += 1;
        }
    }
    sum as f64 / n as f64
}

#[test]
fn a_12_megapixel_camera_jpeg_goes_up_at_least_ten_times_smaller_upright_and_without_metadata() {
    // Landscape as stored by the sensor; EXIF orientation 6 says "turn 90° clockwise": the
    // photo was taken in portrait.
    let jpeg = camera_jpeg(&photo_like_image(4032, 3024), 6);
    let started = Instant::now();
    let prepared = photo::prepare(&jpeg).unwrap();
    let took = started.elapsed();
    let ratio = jpeg.len() as f64 / prepared.bytes.len() as f64;
    println!(
        "12 MP camera JPEG: {} bytes -> {} bytes WebP {}x{} ({ratio:.1}x smaller) in {} ms",
        jpeg.len(),
        prepared.bytes.len(),
        prepared.width,
        prepared.height,
        took.as_millis()
    );
    assert!(ratio >= 10.0, "only {ratio:.1}x smaller");

    // Upright: portrait, at most 2048 px, and the stored left edge (low red in the fixture)
    // is now at the top.
    assert_eq!((prepared.width, prepared.height), (1536, MAX_SIDE));
    let img = decode(&prepared.bytes);
    assert_eq!(img.dimensions(), (1536, 2048));
    let top = mean_red(&img, 0..64);
    let bottom = mean_red(&img, 2048 - 64..2048);
    assert!(top + 60.0 < bottom, "top red {top}, bottom red {bottom}");

    // No metadata: the WebP holds image data only, and the private text is gone.
    assert_eq!(webp_chunks(&prepared.bytes), ["VP8 "]);
    assert!(
        !prepared
            .bytes
            .windows(SECRET_MARKER.len())
            .any(|w| w == SECRET_MARKER.as_bytes())
    );
    let mut decoder =
        image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(&prepared.bytes)).unwrap();
    assert!(decoder.exif_metadata().unwrap().is_none());
    assert!(decoder.xmp_metadata().unwrap().is_none());
    assert!(decoder.icc_profile().unwrap().is_none());
}

#[test]
fn every_exif_orientation_comes_out_upright() {
    // Stored left half red, right half blue. For each orientation, where red ends up once
    // the photo is shown as the camera meant it.
    let stored = two_colour_image(64, 32);
    for (orientation, size, red_side) in [
        (1, (64, 32), "left"),
        (2, (64, 32), "right"),
        (3, (64, 32), "right"),
        (4, (64, 32), "left"),
        (5, (32, 64), "top"),
        (6, (32, 64), "top"),
        (7, (32, 64), "bottom"),
        (8, (32, 64), "bottom"),
    ] {
        let prepared = photo::prepare(&camera_jpeg(&stored, orientation)).unwrap();
        let img = decode(&prepared.bytes).to_rgb8();
        assert_eq!(img.dimensions(), size, "orientation {orientation}");
        let (w, h) = size;
        let probe = match red_side {
            "left" => (w / 8, h / 2),
            "right" => (w - w / 8, h / 2),
            "top" => (w / 2, h / 8),
            _ => (w / 2, h - h / 8),
        };
        let px = img.get_pixel(probe.0, probe.1);
        assert!(
            px[0] > 150 && px[2] < 100,
            "orientation {orientation}: {red_side} should be red, got {px:?}"
        );
    }
}

#[test]
fn small_pngs_keep_their_size_and_non_images_are_refused() {
    let png = encode_png(&photo_like_image(800, 600));
    let prepared = photo::prepare(&png).unwrap();
    assert_eq!((prepared.width, prepared.height), (800, 600));
    assert_eq!(webp_chunks(&prepared.bytes), ["VP8 "]);
    // Already prepared photos can be prepared again (the app may retry a step).
    let again = photo::prepare(&prepared.bytes).unwrap();
    assert_eq!((again.width, again.height), (800, 600));

    assert!(matches!(
        photo::prepare(b"%PDF-1.7 not a photo"),
        Err(photo::PhotoError::UnsupportedFormat)
    ));
    let mut truncated = camera_jpeg(&photo_like_image(320, 240), 1);
    truncated.truncate(200);
    assert!(photo::prepare(&truncated).is_err());
}
