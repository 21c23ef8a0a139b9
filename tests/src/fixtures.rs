//! Image fixtures built in code, so that what each one contains is visible here: camera-like
//! JPEGs with EXIF (orientation, GPS) and XMP, bombs, truncated files.

use std::io::Cursor;

use image::{ImageEncoder, Rgb, RgbImage};

/// Text embedded in metadata blocks; it must never appear in a served file.
pub const SECRET_MARKER: &str = "PRIVATE-HOME-ADDRESS-12-RUE-DES-LILAS";

/// Left half red, right half blue: orientation mistakes are visible.
pub fn two_colour_image(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 {
            Rgb([220, 20, 20])
        } else {
            Rgb([20, 20, 220])
        }
    })
}

/// A photo-like image (smooth gradients plus deterministic noise) so that encoders work
/// as hard as on a real photo.
pub fn photo_like_image(width: u32, height: u32) -> RgbImage {
    let mut seed: u32 = 0x9E37_79B9;
    RgbImage::from_fn(width, height, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let noise = (seed % 48) as i32 - 24;
        let fx = x as f32 / width as f32;
        let fy = y as f32 / height as f32;
        let r = 90.0 + 120.0 * fx + 30.0 * (fy * 20.0).sin();
        let g = 110.0 + 80.0 * fy + 25.0 * (fx * 33.0).cos();
        let b = 140.0 - 60.0 * fx * fy;
        let c = |v: f32| (v as i32 + noise).clamp(0, 255) as u8;
        Rgb([c(r), c(g), c(b)])
    })
}

pub fn encode_jpeg(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .expect("encode jpeg");
    out
}

pub fn encode_png(image: &RgbImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

/// A lossless WebP, as a scanner app may save a document.
pub fn encode_webp(image: &RgbImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::WebP)
        .expect("encode webp");
    out.into_inner()
}

/// A JPEG as a phone writes it: EXIF with the given orientation and a GPS position, an XMP
/// packet and a comment, all carrying private data.
pub fn camera_jpeg(image: &RgbImage, orientation: u16) -> Vec<u8> {
    let jpeg = encode_jpeg(image, 90);
    let exif = exif_segment(orientation, (48.117_266, -1.677_793));
    let xmp = xmp_segment();
    let comment = marker_segment(0xFE, SECRET_MARKER.as_bytes());
    let mut out = Vec::with_capacity(jpeg.len() + exif.len() + xmp.len() + comment.len());
    out.extend_from_slice(&jpeg[..2]); // SOI
    out.extend_from_slice(&exif);
    out.extend_from_slice(&xmp);
    out.extend_from_slice(&comment);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn marker_segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len() + 2).expect("segment fits");
    let mut seg = vec![0xFF, marker];
    seg.extend_from_slice(&len.to_be_bytes());
    seg.extend_from_slice(payload);
    seg
}

/// APP1 "Exif": a little-endian TIFF with IFD0 {Orientation, GPS IFD pointer} and a GPS IFD
/// {LatitudeRef, Latitude, LongitudeRef, Longitude}.
fn exif_segment(orientation: u16, (lat, lon): (f64, f64)) -> Vec<u8> {
    let mut tiff: Vec<u8> = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    // IFD0 at 8: 2 entries (2 + 2*12 + 4 = 30 bytes) → GPS IFD at 38.
    let gps_ifd = 38u32;
    tiff.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut tiff, 0x0112, 3, 1, u32::from(orientation));
    entry(&mut tiff, 0x8825, 4, 1, gps_ifd);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(tiff.len() as u32, gps_ifd);
    // GPS IFD: 4 entries (2 + 48 + 4 = 54) → rationals at 92.
    let lat_data = gps_ifd + 54;
    let lon_data = lat_data + 24;
    tiff.extend_from_slice(&4u16.to_le_bytes());
    entry(&mut tiff, 0x0001, 2, 2, u32::from_le_bytes([b'N', 0, 0, 0]));
    entry(&mut tiff, 0x0002, 5, 3, lat_data);
    entry(&mut tiff, 0x0003, 2, 2, u32::from_le_bytes([b'W', 0, 0, 0]));
    entry(&mut tiff, 0x0004, 5, 3, lon_data);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    for value in [lat, lon.abs()] {
        let deg = value.trunc();
        let min = ((value - deg) * 60.0).trunc();
        let sec_x100 = (((value - deg) * 60.0 - min) * 60.0 * 100.0).round();
        for (num, den) in [(deg as u32, 1u32), (min as u32, 1), (sec_x100 as u32, 100)] {
            tiff.extend_from_slice(&num.to_le_bytes());
            tiff.extend_from_slice(&den.to_le_bytes());
        }
    }
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&tiff);
    marker_segment(0xE1, &payload)
}

fn entry(out: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: u32) {
    out.extend_from_slice(&tag.to_le_bytes());
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    if kind == 3 && count == 1 {
        // A SHORT value sits in the first two bytes of the value field.
        out.extend_from_slice(&(value as u16).to_le_bytes());
        out.extend_from_slice(&[0, 0]);
    } else {
        out.extend_from_slice(&value.to_le_bytes());
    }
}

fn xmp_segment() -> Vec<u8> {
    let mut payload = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    payload.extend_from_slice(
        format!(
            "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\
             <x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
             <rdf:Description xmlns:dc=\"http://purl.org/dc/elements/1.1/\" dc:description=\"{SECRET_MARKER}\"/>\
             </rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>"
        )
        .as_bytes(),
    );
    marker_segment(0xE1, &payload)
}

/// A valid PNG header claiming `width`×`height`, with a tiny body: a decompression bomb's
/// signature. Decoding it would need width × height × 3 bytes.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter, no interlace
    chunk(&mut png, b"IHDR", &ihdr);
    // A few kilobytes of zlib stream (stored blocks of zeros) standing for the pixel data.
    chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x01, 0x01, 0x00, 0x01, 0xff, 0xfe, 0x00],
    );
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).expect("chunk size").to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// CRC-32 (IEEE), as PNG chunks need.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The chunk types of a RIFF/WebP file, in order.
pub fn webp_chunks(bytes: &[u8]) -> Vec<String> {
    assert!(
        bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
        "not a WebP file"
    );
    let mut chunks = Vec::new();
    let mut at = 12;
    while at + 8 <= bytes.len() {
        chunks.push(String::from_utf8_lossy(&bytes[at..at + 4]).into_owned());
        let size = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]])
            as usize;
        at += 8 + size + (size & 1);
    }
    chunks
}
