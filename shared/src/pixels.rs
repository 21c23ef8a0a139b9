//! Pixel work common to the server's photo pipeline and the phone's photo preparation:
//! fitting a size in a box, flattening alpha, resizing RGB with a SIMD resizer.
//! Behind the `imaging` feature so that clients without images need no image crates.

use fast_image_resize as fir;
use image::DynamicImage;
use image::metadata::Orientation;

/// The size that fits `(w, h)` within a `max`×`max` box, keeping the aspect ratio and never
/// enlarging. A square box fits the same whatever the photo's orientation.
pub fn fit_within(w: u32, h: u32, max: u32) -> (u32, u32) {
    let longest = w.max(h);
    if longest <= max {
        return (w, h);
    }
    let scale = f64::from(max) / f64::from(longest);
    let nw = ((f64::from(w) * scale).round() as u32).clamp(1, max);
    let nh = ((f64::from(h) * scale).round() as u32).clamp(1, max);
    (nw, nh)
}

/// 8-bit RGB pixels of an image. Alpha (PNG, WebP) is composited over white rather than
/// dropped, so transparent areas do not turn black.
pub fn flatten_to_rgb(image: DynamicImage) -> Vec<u8> {
    if !image.color().has_alpha() {
        return image.into_rgb8().into_raw();
    }
    let rgba = image.into_rgba8();
    let mut out = Vec::with_capacity(rgba.as_raw().len() / 4 * 3);
    for px in rgba.as_raw().chunks_exact(4) {
        let a = u32::from(px[3]);
        for &c in &px[..3] {
            // Integer blend over white: c*a + 255*(255-a), divided by 255 with rounding.
            out.push(((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8);
        }
    }
    out
}

/// Resizes 8-bit RGB pixels (Lanczos3); returns them unchanged when the size is the same.
pub fn resize_rgb(pixels: Vec<u8>, w: u32, h: u32, nw: u32, nh: u32) -> Result<Vec<u8>, String> {
    if (w, h) == (nw, nh) {
        return Ok(pixels);
    }
    let src = fir::images::Image::from_vec_u8(w, h, pixels, fir::PixelType::U8x3)
        .map_err(|e| format!("resize source: {e}"))?;
    let mut dst = fir::images::Image::new(nw, nh, fir::PixelType::U8x3);
    let options = fir::ResizeOptions::new()
        .resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3));
    fir::Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| format!("resize: {e}"))?;
    Ok(dst.into_vec())
}

/// Turns RGB pixels upright according to an EXIF orientation; returns the new size.
pub fn orient(
    rgb: Vec<u8>,
    w: u32,
    h: u32,
    orientation: Orientation,
) -> Result<(Vec<u8>, u32, u32), String> {
    if orientation == Orientation::NoTransforms {
        return Ok((rgb, w, h));
    }
    let buffer = image::RgbImage::from_raw(w, h, rgb)
        .ok_or_else(|| "pixel buffer size mismatch".to_owned())?;
    let mut image = DynamicImage::ImageRgb8(buffer);
    image.apply_orientation(orientation);
    let (w, h) = (image.width(), image.height());
    Ok((image.into_rgb8().into_raw(), w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_keeps_aspect_and_never_enlarges() {
        assert_eq!(fit_within(4032, 3024, 1600), (1600, 1200));
        assert_eq!(fit_within(3024, 4032, 400), (300, 400));
        assert_eq!(fit_within(4032, 3024, 2048), (2048, 1536));
        assert_eq!(fit_within(800, 600, 1600), (800, 600));
        assert_eq!(fit_within(10_000, 1, 400), (400, 1));
    }

    #[test]
    fn transparent_pixels_become_white_not_black() {
        let mut img = image::RgbaImage::new(2, 1);
        img.put_pixel(0, 0, image::Rgba([0, 0, 0, 0]));
        img.put_pixel(1, 0, image::Rgba([10, 20, 30, 255]));
        let rgb = flatten_to_rgb(DynamicImage::ImageRgba8(img));
        assert_eq!(rgb, vec![255, 255, 255, 10, 20, 30]);
    }

    #[test]
    fn orientation_6_turns_landscape_into_portrait() {
        let rgb = vec![0u8; 4 * 2 * 3];
        let out = orient(rgb, 4, 2, Orientation::Rotate90).map(|(_, w, h)| (w, h));
        assert_eq!(out, Ok((2, 4)));
        assert!(orient(vec![0u8; 5], 4, 2, Orientation::Rotate90).is_err());
    }

    #[test]
    fn resizing_gives_the_asked_size() {
        let pixels = vec![128u8; 40 * 20 * 3];
        let out = resize_rgb(pixels.clone(), 40, 20, 10, 5).unwrap_or_default();
        assert_eq!(out.len(), 10 * 5 * 3);
        assert_eq!(
            resize_rgb(pixels.clone(), 40, 20, 40, 20).ok(),
            Some(pixels)
        );
    }
}
