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
            "title_en",
            "group",
            "group_en",
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

#[tokio::test]
async fn every_demarche_tells_its_privacy_notice_with_its_own_exceptions() {
    let server = TestServer::start().await;
    let contact = server
        .get("/api/v1/catalogue/demande-contact")
        .send()
        .await
        .expect(200)
        .json();
    let notice = &contact["privacy"];
    for key in [
        "controller",
        "legal_basis",
        "retention",
        "recipients",
        "rights",
    ] {
        assert!(notice[key].as_str().is_some_and(|s| !s.is_empty()), "{key}");
        let en = format!("{key}_en");
        assert!(notice[&en].as_str().is_some_and(|s| !s.is_empty()), "{en}");
    }
    assert!(notice["rights"].as_str().unwrap().contains("CNIL"));

    // A job application keeps the catalogue's controller but has its own legal basis.
    let job = server
        .get("/api/v1/catalogue/candidature-spontanee")
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(job["privacy"]["controller"], notice["controller"]);
    assert_ne!(job["privacy"]["legal_basis"], notice["legal_basis"]);
    assert!(
        job["privacy"]["legal_basis"]
            .as_str()
            .unwrap()
            .contains("6.1.b")
    );
}

#[test]
fn a_demarche_notice_replaces_the_keys_it_names_and_holds_texts_only() {
    use guichet_server::catalogue::prepare;
    let entry = |privacy: serde_json::Value| {
        serde_json::json!({
            "code": "essai", "title": "Essai", "title_en": "Trial", "group": "relation-usagers",
            "geolocated": false, "channels": ["web"], "auth": "anonymous", "team": "relations",
            "sla_days": 5, "privacy": privacy,
        })
    };
    let defaults = serde_json::json!({"controller": "Ville", "retention": "5 ans"});
    let defaults = defaults.as_object().unwrap();
    let forms = serde_json::Map::new();

    let (_, def) = prepare(
        &forms,
        defaults,
        &entry(serde_json::json!({"retention": "2 ans"})),
    )
    .unwrap();
    assert_eq!(
        def["privacy"],
        serde_json::json!({"controller": "Ville", "retention": "2 ans"})
    );
    let (_, def) = prepare(&forms, defaults, &entry(serde_json::Value::Null)).unwrap();
    assert_eq!(
        def["privacy"],
        serde_json::json!({"controller": "Ville", "retention": "5 ans"})
    );
    // The admin API gives no defaults: what the entry says is the notice.
    let (_, def) = prepare(
        &forms,
        &serde_json::Map::new(),
        &entry(serde_json::Value::Null),
    )
    .unwrap();
    assert!(def["privacy"].is_null());

    for bad in [
        serde_json::json!("a text"),
        serde_json::json!({"purpose": "other"}),
        serde_json::json!({"retention": 5}),
    ] {
        let errors = prepare(&forms, defaults, &entry(bad.clone())).unwrap_err();
        assert_eq!(errors[0].code, "invalid-privacy", "{bad}");
    }
}
