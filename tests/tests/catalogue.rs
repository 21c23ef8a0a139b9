#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! `GET /api/v1/catalogue` after `guichet demo`.

use std::collections::HashSet;

use guichet_tests::TestServer;

#[tokio::test]
async fn catalogue_lists_incident_categories_and_every_other_demarche() {
    let server = TestServer::start().await;
    let answer = server.get("/api/v1/catalogue").send().await.expect(200);
    assert!(answer.header("cache-control").unwrap().contains("max-age"));
    let body = answer.json();
    let demarches = body["demarches"].as_array().unwrap();

    let codes: HashSet<&str> = demarches
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), demarches.len(), "codes are unique");
    for d in demarches {
        for key in [
            "code",
            "title",
            "group",
            "group_code",
            "description",
            "auth",
        ] {
            assert!(d[key].is_string(), "{key} of {d}");
        }
        assert!(d["geolocated"].is_boolean());
    }

    let incidents: Vec<_> = demarches
        .iter()
        .filter(|d| d["group"] == "Signalement sur l'espace public")
        .collect();
    for required in [
        "voirie",
        "tags-graffitis",
        "depot-sauvage",
        "eclairage-public",
        "mobilier-urbain",
        "espaces-verts",
        "encombrants-abandonnes",
        "autre-anomalie",
    ] {
        let d = incidents
            .iter()
            .find(|d| d["code"] == required)
            .unwrap_or_else(|| panic!("incident category {required} is missing"));
        assert_eq!(d["geolocated"], true);
        assert_eq!(d["group_code"], "signalement");
        let radius = d["dedup_radius_m"].as_f64().unwrap();
        assert!(radius > 0.0 && radius <= 500.0);
    }
    // The seed lists ~97 démarches besides incident reports.
    assert!(
        demarches.len() - incidents.len() >= 90,
        "{}",
        demarches.len()
    );
    for seed_title in [
        "Demande d'acte de naissance",
        "Demande de contact",
        "Demande d'occupation de la voirie",
    ] {
        assert!(
            demarches
                .iter()
                .any(|d| d["title"].as_str().unwrap().starts_with(seed_title)),
            "{seed_title}"
        );
    }
}
