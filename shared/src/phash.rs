//! Perceptual photo hashes for dedup: two photos of the same pothole taken a minute apart give
//! hashes a few bits apart, whereas cryptographic hashes of their bytes share nothing.
//!
//! The hash is a difference hash (dHash): it compares neighbouring pixels rather than absolute
//! levels, so it survives re-encoding, resizing and exposure changes, but not mirroring,
//! rotation or a very different viewpoint.

/// Width of the image `dhash` expects: one more column than bits per row, because each bit
/// compares a pixel with its right-hand neighbour.
pub const DHASH_WIDTH: usize = 9;
/// Height of the image `dhash` expects.
pub const DHASH_HEIGHT: usize = 8;
/// Number of bits in a hash.
pub const HASH_BITS: u32 = 64;

/// Difference hash of a 9-wide × 8-high grayscale image, row-major (72 bytes, 0 = black).
///
/// The caller downsamples the processed photo to exactly 9×8 luminance pixels (ignoring the
/// aspect ratio) before hashing; this module stays free of image decoding.
///
/// Bit `i = r * 8 + c` is set when pixel `(r, c)` is strictly brighter than pixel `(r, c + 1)`.
pub fn dhash(gray9x8: &[u8; DHASH_WIDTH * DHASH_HEIGHT]) -> u64 {
    let mut hash = 0u64;
    for (r, row) in gray9x8.chunks_exact(DHASH_WIDTH).enumerate() {
        for (c, pair) in row.windows(2).enumerate() {
            if pair[0] > pair[1] {
                hash |= 1 << (r * (DHASH_WIDTH - 1) + c);
            }
        }
    }
    hash
}

/// Number of differing bits between two hashes (0 = same picture, 64 = opposite).
pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// Similarity in [0, 1]: 1 for identical hashes, 0 when every bit differs.
pub fn similarity(a: u64, b: u64) -> f64 {
    1.0 - f64::from(hamming(a, b)) / f64::from(HASH_BITS)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Image = [u8; DHASH_WIDTH * DHASH_HEIGHT];

    fn image(f: impl Fn(usize, usize) -> u8) -> Image {
        let mut img = [0u8; DHASH_WIDTH * DHASH_HEIGHT];
        for r in 0..DHASH_HEIGHT {
            for c in 0..DHASH_WIDTH {
                img[r * DHASH_WIDTH + c] = f(r, c);
            }
        }
        img
    }

    /// Brightness falling from left to right, with a row-dependent slope so that rows differ.
    fn gradient(r: usize, c: usize) -> u8 {
        let v = 230 - c * (20 + r);
        u8::try_from(v).unwrap()
    }

    #[test]
    fn bit_layout_is_row_major_over_8_comparisons_per_row() {
        let mut img = [100u8; 72];
        img[2 * DHASH_WIDTH + 3] = 200;
        // Pixel (2, 3) is brighter than (2, 4) → bit 19; (2, 2) is darker than (2, 3) → no bit.
        assert_eq!(dhash(&img), 1 << 19);
        assert_eq!(dhash(&[7u8; 72]), 0);
    }

    #[test]
    fn identical_images_have_distance_zero() {
        let a = dhash(&image(gradient));
        let b = dhash(&image(gradient));
        assert_eq!(hamming(a, b), 0);
        assert_eq!(similarity(a, b), 1.0);
    }

    #[test]
    fn mirrored_gradient_is_far() {
        let a = dhash(&image(gradient));
        let mirrored = dhash(&image(|r, c| gradient(r, DHASH_WIDTH - 1 - c)));
        assert_eq!(a, u64::MAX);
        assert_eq!(hamming(a, mirrored), 64);
        assert_eq!(similarity(a, mirrored), 0.0);
    }

    #[test]
    fn small_noise_keeps_the_distance_small() {
        // A gentle slope (3 levels per column) so that ±2 of noise can actually flip a few bits.
        let base = |r: usize, c: usize| 100 + u8::try_from(3 * c + r).unwrap();
        let mut seed = 0x2545_f491_u32;
        let mut noisy = image(base);
        for px in &mut noisy {
            // xorshift: deterministic noise without a dependency.
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let delta = i16::try_from(seed % 5).unwrap() - 2;
            *px = u8::try_from(i16::from(*px) + delta).unwrap();
        }
        assert_ne!(noisy, image(base));
        let d = hamming(dhash(&image(base)), dhash(&noisy));
        assert!(d <= 10, "distance {d}");
        assert!(similarity(dhash(&image(base)), dhash(&noisy)) > 0.8);
    }

    #[test]
    fn hamming_is_symmetric_and_counts_bits() {
        assert_eq!(hamming(0, u64::MAX), 64);
        assert_eq!(hamming(0b1011, 0b0001), 2);
        assert_eq!(hamming(0b1011, 0b0001), hamming(0b0001, 0b1011));
    }
}
