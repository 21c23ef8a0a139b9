#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! The maps' background (`GET /api/v1/map`): a deployment shows OpenStreetMap's tiles with
//! their credit out of the box, another tile server with its own credit when set, none when
//! `GUICHET_MAP_TILES` is empty; the Content-Security-Policy allows exactly that host.

use guichet_server::config::MapTiles;
use guichet_tests::call::Answer;
use guichet_tests::{ServerProcess, TestDb, TestServer};

async fn get(base: &str, path: &str, lang: &str) -> Answer {
    let response = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header("Accept-Language", lang)
        .send()
        .await
        .unwrap();
    Answer::read(path, response).await
}

#[tokio::test]
async fn a_new_deployment_shows_openstreetmap_with_its_credit_in_the_readers_language() {
    let db = TestDb::new().await;
    let server = ServerProcess::start(&db).await;

    let fr = get(&server.base, "/api/v1/map", "fr").await;
    assert_eq!(fr.status(), 200);
    let tiles = &fr.json()["tiles"];
    assert_eq!(
        tiles["url"],
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    );
    assert_eq!(tiles["attribution"], "© les contributeurs d'OpenStreetMap");
    assert_eq!(
        tiles["attribution_url"],
        "https://www.openstreetmap.org/copyright"
    );
    assert_eq!(fr.header("vary"), Some("Accept-Language"));

    let en = get(&server.base, "/api/v1/map", "en-GB,en;q=0.8").await;
    assert_eq!(
        en.json()["tiles"]["attribution"],
        "© OpenStreetMap contributors"
    );

    // The app's page may load those tiles, and nothing else from outside.
    let page = get(&server.base, "/", "fr").await;
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("img-src 'self' data: blob: https://tile.openstreetmap.org;"),
        "{csp}"
    );
}

#[tokio::test]
async fn empty_tiles_setting_means_no_tiles_and_no_outside_host() {
    let db = TestDb::new().await;
    let data = std::env::temp_dir().join(format!("guichet-map-{}", uuid::Uuid::new_v4()));
    let server = ServerProcess::start_in(&db, &data, &[("GUICHET_MAP_TILES", String::new())]).await;
    let answer = get(&server.base, "/api/v1/map", "fr").await;
    assert_eq!(answer.status(), 200);
    assert!(answer.json()["tiles"].is_null(), "{}", answer.text());
    let csp = answer.header("content-security-policy").unwrap();
    assert!(csp.contains("img-src 'self' data: blob:;"), "{csp}");
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test]
async fn a_citys_own_tiles_carry_its_own_credit() {
    let server = TestServer::start_with(|c| {
        c.http.map_tiles = MapTiles::parse(
            "https://{s}.tiles.rennes.example/plan/{z}/{x}/{y}.png",
            Some("© Rennes Métropole, contributeurs d'OpenStreetMap".to_owned()),
        )
        .unwrap();
    })
    .await;
    for lang in ["fr", "en"] {
        let answer = get(&server.base, "/api/v1/map", lang).await;
        let tiles = &answer.json()["tiles"];
        assert_eq!(
            tiles["url"],
            "https://{s}.tiles.rennes.example/plan/{z}/{x}/{y}.png"
        );
        assert_eq!(
            tiles["attribution"],
            "© Rennes Métropole, contributeurs d'OpenStreetMap"
        );
        assert!(tiles["attribution_url"].is_null());
        let csp = answer.header("content-security-policy").unwrap();
        assert!(csp.contains("https://*.tiles.rennes.example;"), "{csp}");
    }
}
