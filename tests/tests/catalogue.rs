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
            "description_en",
            "auth",
        ] {
            assert!(d[key].is_string(), "{key} of {d}");
        }
        assert!(
            d["keywords"].is_array() && d["keywords_en"].is_array(),
            "{d}"
        );
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

/// The English interface shows what each démarche is for, and its search finds démarches by
/// English words: every entry of the catalogue has both, and the API serves them as written.
#[tokio::test]
async fn every_demarche_says_what_it_is_for_in_english_and_has_english_keywords() {
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../assets/catalogue.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let entries = file["demarches"].as_array().unwrap();
    assert!(entries.len() >= 100, "{}", entries.len());
    for e in entries {
        let code = &e["code"];
        let en = e["description_en"].as_str().unwrap_or_default().trim();
        assert!(!en.is_empty(), "{code} has no description_en");
        assert_ne!(Some(en), e["description"].as_str(), "{code}: copied French");
        let keywords = e["keywords_en"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        assert!(!keywords.is_empty(), "{code} has no keywords_en");
        assert!(
            keywords
                .iter()
                .all(|k| k.as_str().is_some_and(|k| !k.trim().is_empty())),
            "{code}: {keywords:?}"
        );
    }

    let server = TestServer::start().await;
    let body = server
        .get("/api/v1/catalogue")
        .send()
        .await
        .expect(200)
        .json();
    let served = body["demarches"].as_array().unwrap();
    for e in entries {
        let d = served
            .iter()
            .find(|d| d["code"] == e["code"])
            .unwrap_or_else(|| panic!("{} is not served", e["code"]));
        assert_eq!(d["description_en"], e["description_en"], "{}", e["code"]);
        assert_eq!(d["keywords_en"], e["keywords_en"], "{}", e["code"]);
    }
    let voirie = server
        .get("/api/v1/catalogue/voirie")
        .send()
        .await
        .expect(200)
        .json();
    assert!(
        voirie["description_en"]
            .as_str()
            .unwrap()
            .contains("pothole"),
        "{voirie}"
    );
    assert!(
        voirie["keywords_en"]
            .as_array()
            .unwrap()
            .contains(&"pothole".into())
    );
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

/// A démarche's page gives each of its fields once: a JSON object with a repeated name is
/// read differently by different parsers (RFC 8259, section 4).
#[tokio::test]
async fn a_demarche_detail_names_each_field_once() {
    let server = TestServer::start().await;
    for code in ["voirie", "acte-naissance"] {
        let answer = server
            .get(&format!("/api/v1/catalogue/{code}"))
            .send()
            .await
            .expect(200);
        let text = answer.text();
        // serde_json keeps the last of repeated names, so they are counted in the text; these
        // names appear nowhere else in the answer.
        for key in ["title_en", "sla_days", "submit"] {
            let named = format!("\"{key}\":");
            assert_eq!(text.matches(&named).count(), 1, "{code}: {key} in {text}");
        }
    }
}
