//! Runs the server's photo pipeline on files, the way intake does, for benchmarks:
//!
//!     photo_pipeline OUT_DIR PHOTO...
//!
//! Each photo gives `<name>-1600.webp` and `<name>-400.webp` in OUT_DIR. Measure it with
//! `/usr/bin/time -v` (CPU time, peak memory) beside `vipsthumbnail`; see docs/benchmarks.md.

use std::path::PathBuf;

use guichet_server::config::PhotoLimits;
use guichet_server::photos;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let out_dir = PathBuf::from(
        args.next()
            .ok_or("usage: photo_pipeline OUT_DIR PHOTO...")?,
    );
    std::fs::create_dir_all(&out_dir)?;
    let limits = PhotoLimits::default();
    for path in args {
        let path = PathBuf::from(path);
        let bytes = std::fs::read(&path)?;
        let processed = photos::process(&bytes, &limits)?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("photo");
        std::fs::write(
            out_dir.join(format!("{stem}-1600.webp")),
            &processed.display.bytes,
        )?;
        std::fs::write(
            out_dir.join(format!("{stem}-400.webp")),
            &processed.thumbnail.bytes,
        )?;
    }
    Ok(())
}
