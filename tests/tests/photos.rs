#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Photos through `POST /api/v1/reports`: orientation, metadata stripping, variants, storage
//! and serving, limits, and clean-up when a submission fails.

use std::time::Duration;

use guichet_tests::fixtures::{self, SECRET_MARKER};
use guichet_tests::{RENNES, TestServer, expect_problem, multipart, report_at};

async fn post(server: &TestServer, photos: &[(&str, Vec<u8>)]) -> reqwest::Response {
    let report = report_at("voirie", RENNES.0, RENNES.1);
    server
        .client
        .post(server.url("/api/v1/reports"))
        .multipart(multipart(&report, photos))
        .send()
        .await
        .unwrap()
}

async fn fetch(server: &TestServer, url: &str) -> reqwest::Response {
    let r = server.client.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    r
}

fn is_reddish(p: image::Rgb<u8>) -> bool {
    p[0] > 150 && p[2] < 90
}

fn is_blueish(p: image::Rgb<u8>) -> bool {
    p[2] > 150 && p[0] < 90
}

#[tokio::test]
async fn a_camera_jpeg_is_turned_upright_and_served_without_any_metadata() {
    let server = TestServer::start().await;
    // 600×300 as stored, left red / right blue, EXIF says "rotate 90° clockwise to view".
    let jpeg = fixtures::camera_jpeg(&fixtures::two_colour_image(600, 300), 6);
    assert!(jpeg.windows(4).any(|w| w == b"Exif"));
    let response = post(&server, &[("IMG_0001.jpg", jpeg)]).await;
    assert_eq!(response.status(), 201);
    let receipt: serde_json::Value = response.json().await.unwrap();
    let photo = &receipt["photos"][0];
    assert_eq!(
        (photo["width"].as_i64(), photo["height"].as_i64()),
        (Some(300), Some(600))
    );

    for url in [
        photo["url"].as_str().unwrap(),
        photo["thumbnail_url"].as_str().unwrap(),
    ] {
        let served = fetch(&server, url).await;
        assert_eq!(served.headers()["content-type"], "image/webp");
        let bytes = served.bytes().await.unwrap().to_vec();
        let chunks = fixtures::webp_chunks(&bytes);
        assert!(
            chunks
                .iter()
                .all(|c| c == "VP8 " || c == "VP8L" || c == "VP8X" || c == "ALPH"),
            "only image chunks, no EXIF/XMP/ICCP: {chunks:?}"
        );
        for needle in [
            b"Exif".as_slice(),
            b"xmpmeta",
            b"http://ns.adobe.com",
            SECRET_MARKER.as_bytes(),
        ] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{needle:?} leaked"
            );
        }
        let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::WebP)
            .unwrap()
            .to_rgb8();
        // Upright: portrait, red on top, blue at the bottom.
        assert!(img.height() > img.width());
        let (w, h) = (img.width(), img.height());
        assert!(is_reddish(*img.get_pixel(w / 2, h / 5)), "top is red");
        assert!(
            is_blueish(*img.get_pixel(w / 2, h * 4 / 5)),
            "bottom is blue"
        );
    }
    // The database keeps no trace of the original either: only hashes and sizes.
    let (format, w, h): (String, i32, i32) =
        sqlx::query_as("SELECT source_format, source_width, source_height FROM photos")
            .fetch_one(&server.db.pool)
            .await
            .unwrap();
    assert_eq!((format.as_str(), w, h), ("jpeg", 300, 600));
}

#[tokio::test]
async fn large_photos_get_a_1600_px_display_and_a_400_px_thumbnail_with_long_caching() {
    let server = TestServer::start().await;
    let jpeg = fixtures::encode_jpeg(&fixtures::photo_like_image(2400, 1800), 85);
    let png = fixtures::encode_png(&fixtures::photo_like_image(500, 900));
    let response = post(&server, &[("a.jpg", jpeg.clone()), ("b.png", png)]).await;
    assert_eq!(response.status(), 201);
    let receipt: serde_json::Value = response.json().await.unwrap();
    let photos = receipt["photos"].as_array().unwrap();
    assert_eq!(photos.len(), 2);

    let display = fetch(&server, photos[0]["url"].as_str().unwrap()).await;
    assert_eq!(
        display.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let etag = display.headers()["etag"].to_str().unwrap().to_owned();
    let bytes = display.bytes().await.unwrap();
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (1600, 1200));
    assert!(
        bytes.len() < jpeg.len(),
        "lossy WebP is smaller than the source"
    );
    assert!(
        bytes.len() < 400_000,
        "not a lossless encoding: {} bytes",
        bytes.len()
    );

    let thumb = fetch(&server, photos[0]["thumbnail_url"].as_str().unwrap()).await;
    let img = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((img.width(), img.height()), (400, 300));

    // A small photo is never enlarged; its thumbnail fits in 400 px.
    assert_eq!(
        (photos[1]["width"].as_i64(), photos[1]["height"].as_i64()),
        (Some(500), Some(900))
    );
    let thumb = fetch(&server, photos[1]["thumbnail_url"].as_str().unwrap()).await;
    let img = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((img.width(), img.height()), (222, 400));

    // Revalidation costs nothing.
    let again = server
        .client
        .get(photos[0]["url"].as_str().unwrap())
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // Content addressing: the same photo again is stored once.
    let files_before = server.stored_files().len();
    let response = post(&server, &[("again.jpg", jpeg)]).await;
    assert_eq!(response.status(), 201);
    assert_eq!(server.stored_files().len(), files_before);
    assert_eq!(server.db.count("photos").await, 3);
}

#[tokio::test]
async fn unknown_photo_addresses_are_404() {
    let server = TestServer::start().await;
    let missing = format!("/media/{}.webp", "ab".repeat(32));
    let r = server
        .client
        .get(server.url(&missing))
        .send()
        .await
        .unwrap();
    expect_problem(r, 404, "photo-not-found").await;
    let r = server
        .client
        .get(server.url("/media/..%2F..%2Fetc%2Fpasswd"))
        .send()
        .await
        .unwrap();
    expect_problem(r, 404, "photo-not-found").await;
}

/// After a refused submission nothing is stored: no request, report, photo or event row and
/// no file.
async fn assert_nothing_stored(server: &TestServer) {
    for table in ["requests", "reports", "photos", "events"] {
        assert_eq!(server.db.count(table).await, 0, "{table}");
    }
    assert_eq!(server.stored_files(), Vec::<std::path::PathBuf>::new());
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_from_its_header() {
    let server = TestServer::start().await;
    let bomb = fixtures::png_claiming(100_000, 100_000);
    assert!(bomb.len() < 100);
    let started = std::time::Instant::now();
    let r = post(&server, &[("bomb.png", bomb)]).await;
    let body = expect_problem(r, 422, "photo-too-many-pixels").await;
    assert_eq!(body["field"], "photo[0]");
    assert!(
        body["detail"].as_str().unwrap().contains("100000×100000"),
        "{body}"
    );
    // Decoding 30 GB of pixels would take minutes; the header check takes milliseconds.
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn a_truncated_jpeg_is_refused_and_leaves_nothing_behind() {
    let server = TestServer::start().await;
    let good = fixtures::encode_jpeg(&fixtures::photo_like_image(800, 600), 85);
    let truncated = good[..good.len() / 2].to_vec();
    // The good photo comes first and is processed; the whole submission still fails.
    let r = post(&server, &[("good.jpg", good), ("cut.jpg", truncated)]).await;
    let body = expect_problem(r, 422, "photo-corrupt").await;
    assert_eq!(body["field"], "photo[1]");
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn a_text_file_named_jpg_is_refused() {
    let server = TestServer::start().await;
    let r = post(
        &server,
        &[("holiday.jpg", b"Dear city, this is not a photo.".to_vec())],
    )
    .await;
    let body = expect_problem(r, 415, "photo-unsupported-format").await;
    assert_eq!(body["field"], "photo[0]");
    assert!(body["detail"].as_str().unwrap().contains("text"));
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn heic_photos_get_a_clear_415() {
    let server = TestServer::start().await;
    let mut heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    heic.resize(4096, 0);
    let r = post(&server, &[("IMG_0002.HEIC", heic)]).await;
    let body = expect_problem(r, 415, "photo-heic-unsupported").await;
    assert!(body["detail"].as_str().unwrap().contains("JPEG"));
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn too_many_photos_are_refused() {
    let server = TestServer::start().await;
    let jpeg = fixtures::encode_jpeg(&fixtures::two_colour_image(64, 64), 80);
    let photos: Vec<_> = (0..6).map(|_| ("p.jpg", jpeg.clone())).collect();
    let r = post(&server, &photos).await;
    let body = expect_problem(r, 422, "too-many-photos").await;
    assert_eq!(body["field"], "photo");
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn a_photo_over_the_byte_limit_is_refused() {
    let server = TestServer::start_with(|c| c.photos.max_bytes = 200_000).await;
    let big = fixtures::encode_jpeg(&fixtures::photo_like_image(1600, 1200), 95);
    assert!(big.len() > 200_000);
    let r = post(&server, &[("big.jpg", big)]).await;
    let body = expect_problem(r, 413, "photo-too-large").await;
    assert_eq!(body["field"], "photo[0]");
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn a_body_over_the_route_limit_is_refused() {
    // 2 photos of 100 kB + 1 MiB for the JSON: about 1.2 MB accepted in all.
    let server = TestServer::start_with(|c| {
        c.photos.max_bytes = 100_000;
        c.photos.max_count = 2;
    })
    .await;
    let blob = vec![0xAB; 3_000_000];
    let r = post(&server, &[("huge.jpg", blob)]).await;
    expect_problem(r, 413, "body-too-large").await;

    // Without a Content-Length (chunked upload), the limit holds while reading.
    let report = report_at("voirie", RENNES.0, RENNES.1);
    let stream =
        futures::stream::iter((0..40).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 50_000])));
    let part =
        reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(stream)).file_name("x.jpg");
    let form = reqwest::multipart::Form::new()
        .text("report", report.to_string())
        .part("photo", part);
    let r = server
        .client
        .post(server.url("/api/v1/reports"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let code = r.status().as_u16();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(code, 413, "{body}");
    assert!(
        body["code"] == "body-too-large" || body["code"] == "photo-too-large",
        "{body}"
    );
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn photo_files_of_a_failed_transaction_are_removed_by_the_cleanup_job() {
    let server = TestServer::start().await;
    // Make the last statement of the intake transaction fail, after the files are written.
    sqlx::query(
        "CREATE FUNCTION fail_receipt() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'disk full (simulated)'; END $$;
         ",
    )
    .execute(&server.db.pool)
    .await
    .unwrap();
    sqlx::query(
        "CREATE TRIGGER fail_receipt BEFORE UPDATE OF receipt ON reports
         FOR EACH ROW EXECUTE FUNCTION fail_receipt()",
    )
    .execute(&server.db.pool)
    .await
    .unwrap();
    let jpeg = fixtures::encode_jpeg(&fixtures::photo_like_image(900, 700), 85);
    let r = post(&server, &[("a.jpg", jpeg)]).await;
    expect_problem(r, 500, "internal-error").await;
    for table in ["requests", "reports", "photos", "events"] {
        assert_eq!(server.db.count(table).await, 0, "{table}");
    }
    // The written files wait for the clean-up job the submission queued before writing them
    // (another submission of the same bytes may be about to use them); once due, it removes them.
    assert_eq!(server.stored_files().len(), 2, "display and thumbnail");
    sqlx::query("UPDATE outbox_jobs SET run_at = now() WHERE kind = 'photos.cleanup'")
        .execute(&server.db.pool)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    while !server.stored_files().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "files not removed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn saturated_photo_processing_answers_503_with_retry_after() {
    let server = TestServer::start_with(|c| {
        c.photos.workers = 1;
        c.photos.queue = 0;
    })
    .await;
    let jpeg = fixtures::encode_jpeg(&fixtures::photo_like_image(3000, 2000), 90);
    let photos = [("p.jpg", jpeg)];
    let attempts = (0..6).map(|_| post(&server, &photos));
    let responses = futures::future::join_all(attempts).await;
    let mut created = 0;
    let mut busy = 0;
    for r in responses {
        match r.status().as_u16() {
            201 => created += 1,
            503 => {
                assert!(r.headers().contains_key("retry-after"));
                expect_problem(r, 503, "server-busy").await;
                busy += 1;
            }
            other => panic!("unexpected {other}: {}", r.text().await.unwrap()),
        }
    }
    assert!(created >= 1 && busy >= 1, "created {created}, busy {busy}");
    assert_eq!(server.db.count("reports").await, created);
}

#[tokio::test]
async fn retries_of_a_report_in_progress_wait_for_it_instead_of_hitting_the_photo_queue() {
    // One worker and no queue: ten uploads of different reports would mostly get 503.
    let server = TestServer::start_with(|c| {
        c.photos.workers = 1;
        c.photos.queue = 0;
    })
    .await;
    let jpeg = fixtures::encode_jpeg(&fixtures::photo_like_image(2000, 1500), 90);
    let report = report_at("voirie", RENNES.0, RENNES.1);
    let send = || {
        server
            .client
            .post(server.url("/api/v1/reports"))
            .multipart(multipart(&report, &[("p.jpg", jpeg.clone())]))
            .send()
    };
    let answers = futures::future::join_all((0..10).map(|_| send())).await;
    let mut statuses: Vec<u16> = answers
        .iter()
        .map(|r| r.as_ref().unwrap().status().as_u16())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [vec![200; 9], vec![201]].concat());
    assert_eq!(server.db.count("reports").await, 1);
    assert_eq!(server.db.count("photos").await, 1);
}

#[tokio::test]
async fn files_left_by_a_crash_are_removed_by_the_cleanup_job_and_used_files_kept() {
    use guichet_server::photos::{LocalDiskStore, PhotoStore};
    let server = TestServer::start().await;
    let jpeg = fixtures::encode_jpeg(&fixtures::photo_like_image(640, 480), 85);
    let response = post(&server, &[("a.jpg", jpeg)]).await;
    assert_eq!(response.status(), 201);
    // The submission scheduled its own clean-up, ten minutes from now (beside the morning
    // digest every instance plans).
    let (kind, delay): (String, f64) = sqlx::query_as(
        "SELECT kind, extract(epoch FROM run_at - created_at)::float8 FROM outbox_jobs
          WHERE kind <> 'digest.daily'",
    )
    .fetch_one(&server.db.pool)
    .await
    .unwrap();
    assert_eq!(kind, "photos.cleanup");
    assert!((delay - 600.0).abs() < 5.0, "{delay}");
    let used: String = sqlx::query_scalar("SELECT display_key FROM photos")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();

    // A crash between writing files and committing leaves a file nobody refers to.
    let store = LocalDiskStore::new(server.data_dir.join("photos"));
    let orphan = format!("{}.webp", "e".repeat(64));
    store
        .put(&orphan, bytes::Bytes::from_static(b"RIFF....WEBP"))
        .await
        .unwrap();
    let files_before = server.stored_files().len();

    // Make every clean-up due now; the worker of the running server picks them up.
    let payload = serde_json::json!({ "keys": [orphan, used] });
    sqlx::query("INSERT INTO outbox_jobs (kind, payload) VALUES ('photos.cleanup', $1)")
        .bind(payload)
        .execute(&server.db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE outbox_jobs SET run_at = now() WHERE kind = 'photos.cleanup'")
        .execute(&server.db.pool)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let pending: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM outbox_jobs
                  WHERE done_at IS NULL AND kind = 'photos.cleanup'",
        )
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
        if pending == 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "jobs not run");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(store.get(&orphan).await.unwrap(), None, "orphan removed");
    assert!(
        store.get(&used).await.unwrap().is_some(),
        "referenced file kept"
    );
    assert_eq!(server.stored_files().len(), files_before - 1);
    let served = server
        .client
        .get(server.url(&format!("/media/{used}")))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
}

/// Stored bytes are shared: a clean-up job never deletes a file that a later submission has
/// claimed (it may be about to commit a reference to it); that submission's own job decides.
#[tokio::test]
async fn a_file_claimed_again_outlives_an_earlier_cleanup() {
    use guichet_server::photos::{LocalDiskStore, PhotoStore};
    let server = TestServer::start().await;
    let store = LocalDiskStore::new(server.data_dir.join("photos"));
    let key = format!("{}.webp", "d".repeat(64));
    store
        .put(&key, bytes::Bytes::from_static(b"RIFF....WEBP"))
        .await
        .unwrap();
    let job = |delay_secs: i32| {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO outbox_jobs (kind, payload, run_at)
             VALUES ('photos.cleanup', $1, now() + make_interval(secs => $2)) RETURNING id",
        )
        .bind(serde_json::json!({ "keys": [key] }))
        .bind(delay_secs)
        .fetch_one(&server.db.pool)
    };
    // A failed submission's clean-up, due now, and a later claim of the same bytes.
    let earlier = job(0).await.unwrap();
    let later = job(600).await.unwrap();
    let done = |id: i64| {
        let pool = server.db.pool.clone();
        async move {
            let started = std::time::Instant::now();
            loop {
                let done: bool =
                    sqlx::query_scalar("SELECT done_at IS NOT NULL FROM outbox_jobs WHERE id = $1")
                        .bind(id)
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                if done {
                    return;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "job {id} not run"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    done(earlier).await;
    assert!(
        store.get(&key).await.unwrap().is_some(),
        "kept while a later claim may still commit a reference"
    );
    // The later claim's own job finds no reference: the file goes.
    sqlx::query("UPDATE outbox_jobs SET run_at = now() WHERE id = $1")
        .bind(later)
        .execute(&server.db.pool)
        .await
        .unwrap();
    done(later).await;
    assert_eq!(store.get(&key).await.unwrap(), None);
}
