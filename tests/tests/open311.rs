#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Open311 GeoReport v2 conformance: every answer checked against the GeoReport JSON Schemas
//! (`tests/open311-schemas/`), XML answers parsed back, a FixMyStreet-like round trip
//! (form-encoded filing with attributes and a key, the request read back, its updates after
//! an agent moves it), private requests never shown, bad input answered the spec's way, and
//! the `guichet api-key` command.

use guichet_tests::api::agent_token;
use guichet_tests::fixtures::{encode_jpeg, photo_like_image};
use guichet_tests::{RENNES, TestServer, run_cli as guichet};
use serde_json::{Value, json};

const KEY: &str = "0123456789abcdef0123456789abcdef-test-key";

/// A schema of `tests/open311-schemas/` with its `$ref`s to sibling files inlined.
fn schema(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("open311-schemas/{name}"))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut value: Value = serde_json::from_str(&text).unwrap();
    inline(&mut value);
    value
}

fn inline(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref").cloned() {
                *value = schema(&target);
                return;
            }
            map.values_mut().for_each(inline);
        }
        Value::Array(items) => items.iter_mut().for_each(inline),
        _ => {}
    }
}

/// Fails with every violation when `instance` does not conform to the schema `name`.
fn conforms(name: &str, instance: &Value) {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:?}\n{instance:#}");
}

/// Parses an XML answer; returns the root's name and the names of its children.
fn xml_outline(text: &str) -> (String, Vec<String>) {
    let doc = roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let root = doc.root_element();
    let children = root
        .children()
        .filter(|n| n.is_element())
        .map(|n| n.tag_name().name().to_owned())
        .collect();
    (root.tag_name().name().to_owned(), children)
}

/// The text of the first element named `name` in an XML answer.
fn xml_text(text: &str, name: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(text).unwrap();
    doc.descendants()
        .find(|n| n.has_tag_name(name))
        .and_then(|n| n.text())
        .map(str::to_owned)
}

async fn get(server: &TestServer, path: &str) -> (u16, String, String) {
    let r = server.client.get(server.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

async fn get_json(server: &TestServer, path: &str) -> (u16, Value) {
    let (status, ct, text) = get(server, path).await;
    assert!(ct.starts_with("application/json"), "{path}: {ct}");
    (status, serde_json::from_str(&text).unwrap())
}

async fn post_form(server: &TestServer, path: &str, form: &[(&str, String)]) -> (u16, String) {
    let r = server
        .client
        .post(server.url(path))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn with_key(server: &TestServer, name: &str) {
    sqlx::query("INSERT INTO api_keys (name, key_digest) VALUES ($1, $2)")
        .bind(name)
        .bind(guichet_server::auth::token_digest(KEY))
        .execute(&server.db.pool)
        .await
        .unwrap();
}

fn pothole(lat: f64) -> Vec<(&'static str, String)> {
    vec![
        ("api_key", KEY.to_owned()),
        ("jurisdiction_id", "rennesmetropole.fr".to_owned()),
        ("service_code", "voirie".to_owned()),
        ("lat", lat.to_string()),
        ("long", RENNES.1.to_string()),
        ("description", "Nid-de-poule devant le 12".to_owned()),
        ("email", "lea@example.org".to_owned()),
        ("first_name", "Léa".to_owned()),
        ("last_name", "Martin".to_owned()),
        (
            "attribute[observed_at]",
            "2026-12-01T08:30:00+01:00".to_owned(),
        ),
    ]
}

#[tokio::test]
async fn discovery_services_and_definitions_conform_in_json_and_xml() {
    let server = TestServer::start().await;
    let (status, discovery) = get_json(&server, "/open311/v2/discovery.json").await;
    assert_eq!(status, 200);
    conforms("discovery.json", &discovery);
    let (_, ct, xml) = get(&server, "/open311/v2/discovery.xml").await;
    assert!(ct.starts_with("text/xml"), "{ct}");
    assert_eq!(xml_outline(&xml).0, "discovery");

    let (status, services) = get_json(&server, "/open311/v2/services.json").await;
    assert_eq!(status, 200);
    conforms("services.json", &services);
    let codes: Vec<&str> = services
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service_code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"voirie"), "{codes:?}");
    assert!(codes.contains(&"demande-contact"), "{codes:?}");
    // A required repeatable block, or an account, cannot be filed through GeoReport.
    assert!(!codes.contains(&"enlevement-encombrants"), "{codes:?}");
    let voirie = &services[codes.iter().position(|c| *c == "voirie").unwrap()];
    assert_eq!(voirie["metadata"], true);
    let (_, _, xml) = get(&server, "/open311/v2/services.xml").await;
    let (root, children) = xml_outline(&xml);
    assert_eq!(root, "services");
    assert_eq!(children.len(), codes.len());
    assert!(children.iter().all(|c| c == "service"));

    let (status, definition) = get_json(&server, "/open311/v2/services/voirie.json").await;
    assert_eq!(status, 200);
    conforms("service-definition.json", &definition);
    let attributes = definition["attributes"].as_array().unwrap();
    let codes: Vec<&str> = attributes
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    // The place, text, contact and photos are core parameters, not attributes.
    assert_eq!(codes, ["observed_at"], "{definition}");
    assert_eq!(attributes[0]["datatype"], "datetime");

    let (_, lists) = get_json(&server, "/open311/v2/services/demande-documentation.json").await;
    conforms("service-definition.json", &lists);
    let documents = lists["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "documents")
        .unwrap();
    assert_eq!(documents["datatype"], "multivaluelist");
    assert_eq!(documents["required"], true);
    assert_eq!(documents["values"][0]["key"], "newcomers_guide");
    let (_, _, xml) = get(&server, "/open311/v2/services/demande-documentation.xml").await;
    assert_eq!(xml_outline(&xml).0, "service_definition");

    let (status, error) = get_json(&server, "/open311/v2/services/nope.json").await;
    assert_eq!(status, 404);
    conforms("errors.json", &error);
    let (status, _, xml) = get(&server, "/open311/v2/services/nope.xml").await;
    assert_eq!(status, 404);
    assert_eq!(xml_outline(&xml), ("errors".into(), vec!["error".into()]));
    assert_eq!(xml_text(&xml, "code").as_deref(), Some("404"));
}

/// A service in the list GeoReport gives: the one of `code`.
fn service_of<'a>(services: &'a Value, code: &str) -> &'a Value {
    services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_code"] == code)
        .unwrap_or_else(|| panic!("{code} not in {services}"))
}

#[tokio::test]
async fn services_are_described_in_english_when_the_client_asks_for_it() {
    let server = TestServer::start().await;
    let (_, french) = get_json(&server, "/open311/v2/services.json").await;
    let voirie = service_of(&french, "voirie");
    assert_eq!(voirie["service_name"], "Chaussée, trottoir ou nid-de-poule");
    assert!(
        voirie["description"]
            .as_str()
            .unwrap()
            .starts_with("Signaler une dégradation"),
        "{voirie}"
    );
    assert!(
        voirie["keywords"]
            .as_str()
            .unwrap()
            .contains("nid-de-poule")
    );

    let (_, by_locale) = get_json(&server, "/open311/v2/services.json?locale=en").await;
    conforms("services.json", &by_locale);
    let r = server
        .client
        .get(server.url("/open311/v2/services.json"))
        .header("accept-language", "en-GB,en;q=0.8")
        .send()
        .await
        .unwrap();
    let by_header: Value = r.json().await.unwrap();
    for english in [&by_locale, &by_header] {
        let voirie = service_of(english, "voirie");
        assert_eq!(voirie["service_name"], "Road, pavement or pothole");
        assert_eq!(voirie["group"], "Reports about public space");
        assert!(
            voirie["description"]
                .as_str()
                .unwrap()
                .starts_with("Report damage to a road or pavement"),
            "{voirie}"
        );
        let keywords = voirie["keywords"].as_str().unwrap();
        assert!(keywords.split(',').any(|k| k == "pothole"), "{keywords}");
        assert!(!keywords.contains("nid-de-poule"), "{keywords}");
    }
}

#[tokio::test]
async fn a_fixmystreet_like_client_files_reads_and_follows_a_request() {
    let server = TestServer::start().await;
    with_key(&server, "fixmystreet").await;
    let lat = RENNES.0 + 0.002;

    let (status, text) = post_form(&server, "/open311/v2/requests.json", &pothole(lat)).await;
    assert_eq!(status, 201, "{text}");
    let created: Value = serde_json::from_str(&text).unwrap();
    conforms("request-created.json", &created);
    let id = created[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The key's name is recorded for the agents.
    let recorded: String = sqlx::query_scalar(
        "SELECT e.data->>'api_key' FROM events e JOIN requests r ON r.id = e.request_id
          WHERE r.number = $1 AND e.kind = 'note'",
    )
    .bind(&id)
    .fetch_one(&server.db.pool)
    .await
    .unwrap();
    assert_eq!(recorded, "fixmystreet");
    let channel: String = sqlx::query_scalar("SELECT channel FROM requests WHERE number = $1")
        .bind(&id)
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(channel, "api");

    let (status, one) = get_json(&server, &format!("/open311/v2/requests/{id}.json")).await;
    assert_eq!(status, 200, "{one}");
    conforms("requests.json", &one);
    let r = &one[0];
    assert_eq!(r["service_request_id"], id.as_str());
    assert_eq!(r["status"], "open");
    assert_eq!(r["service_code"], "voirie");
    assert!((r["lat"].as_f64().unwrap() - lat).abs() < 1e-6);
    assert!(r["agency_responsible"].is_string(), "{r}");
    assert!(r["expected_datetime"].is_string(), "{r}");
    assert!(!one.to_string().contains("lea@example.org"), "{one}");
    assert!(!one.to_string().contains("Martin"), "{one}");
    let (_, _, xml) = get(&server, &format!("/open311/v2/requests/{id}.xml")).await;
    assert_eq!(
        xml_outline(&xml),
        ("service_requests".into(), vec!["request".into()])
    );
    assert_eq!(xml_text(&xml, "status").as_deref(), Some("open"));

    // The same pothole again: it joins the request already filed.
    let (status, text) = post_form(&server, "/open311/v2/requests.xml", &pothole(lat)).await;
    assert_eq!(status, 201, "{text}");
    assert_eq!(
        xml_text(&text, "service_request_id").as_deref(),
        Some(id.as_str())
    );

    // An agent resolves it; the update is public.
    let voirie = agent_token(&server, "agent.voirie@guichet.example").await;
    for to in ["acknowledged", "resolved"] {
        let r = server
            .client
            .post(server.url(&format!("/api/v1/agent/requests/{id}/status")))
            .bearer_auth(&voirie)
            .json(&json!({ "status": to, "message": "Message au demandeur seulement" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 204, "{to}");
    }
    let (status, updates) = get_json(
        &server,
        "/open311/v2/servicerequestupdates.json?start_date=2020-01-01T00:00:00Z",
    )
    .await;
    assert_eq!(status, 200, "{updates}");
    conforms("request-updates.json", &updates);
    let mine: Vec<&Value> = updates
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["service_request_id"] == id.as_str())
        .collect();
    assert_eq!(mine.len(), 2, "{updates}");
    assert_eq!(mine[1]["status"], "closed");
    assert!(!updates.to_string().contains("seulement"), "{updates}");
    let (_, _, xml) = get(&server, "/open311/v2/servicerequestupdates.xml").await;
    assert_eq!(xml_outline(&xml).0, "service_request_updates");
    // Paged, oldest first: the second page of one holds the second update.
    let (_, second) = get_json(
        &server,
        "/open311/v2/servicerequestupdates.json?start_date=2020-01-01T00:00:00Z&page_size=1&page=2",
    )
    .await;
    assert_eq!(second.as_array().map(Vec::len), Some(1), "{second}");
    assert_eq!(second[0]["update_id"], updates[1]["update_id"]);

    let (_, closed) = get_json(
        &server,
        "/open311/v2/requests.json?status=closed&service_code=voirie,tags-graffitis",
    )
    .await;
    conforms("requests.json", &closed);
    assert_eq!(closed[0]["service_request_id"], id.as_str());
    assert_eq!(closed[0]["status"], "closed");
    let (_, open) = get_json(&server, "/open311/v2/requests.json?status=open").await;
    assert!(!open.to_string().contains(&id), "{open}");
    let near = format!(
        "/open311/v2/requests.json?lat={lat}&long={}&radius=100&page_size=5&page=1",
        RENNES.1
    );
    let (_, near) = get_json(&server, &near).await;
    assert_eq!(near.as_array().unwrap().len(), 1, "{near}");
    let (_, far) = get_json(
        &server,
        &format!(
            "/open311/v2/requests.json?lat={}&long={}&radius=100",
            RENNES.0 - 0.05,
            RENNES.1
        ),
    )
    .await;
    assert_eq!(far, json!([]));
}

#[tokio::test]
async fn photos_come_as_multipart_media_and_are_shown_by_url() {
    let server = TestServer::start().await;
    with_key(&server, "app").await;
    let jpeg = encode_jpeg(&photo_like_image(800, 600), 85);
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in pothole(RENNES.0 - 0.004) {
        form = form.text(k, v);
    }
    form = form.part(
        "media",
        reqwest::multipart::Part::bytes(jpeg)
            .file_name("trou.jpg")
            .mime_str("image/jpeg")
            .unwrap(),
    );
    let r = server
        .client
        .post(server.url("/open311/v2/requests.json"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let created: Value = r.json().await.unwrap();
    let id = created[0]["service_request_id"].as_str().unwrap();
    let (_, one) = get_json(&server, &format!("/open311/v2/requests/{id}.json")).await;
    conforms("requests.json", &one);
    let url = one[0]["media_url"].as_str().expect("a media_url");
    let photo = server.client.get(url).send().await.unwrap();
    assert_eq!(photo.status().as_u16(), 200);
}

#[tokio::test]
async fn a_private_request_is_filed_but_never_shown() {
    let server = TestServer::start().await;
    with_key(&server, "crm").await;
    let form = vec![
        ("api_key", KEY.to_owned()),
        ("service_code", "demande-contact".to_owned()),
        (
            "description",
            "Je souhaite être rappelé au sujet de mon dossier.".to_owned(),
        ),
        ("email", "lea@example.org".to_owned()),
        ("first_name", "Léa".to_owned()),
        ("last_name", "Martin".to_owned()),
        ("phone", "06 12 34 56 78".to_owned()),
        (
            "address_string",
            "12 rue de la Soif, 35000 Rennes".to_owned(),
        ),
        ("attribute[subject]", "information".to_owned()),
        ("attribute[reply_channel]", "email".to_owned()),
    ];
    let (status, text) = post_form(&server, "/open311/v2/requests.json", &form).await;
    assert_eq!(status, 201, "{text}");
    let created: Value = serde_json::from_str(&text).unwrap();
    conforms("request-created.json", &created);
    let id = created[0]["service_request_id"].as_str().unwrap();
    let (status, error) = get_json(&server, &format!("/open311/v2/requests/{id}.json")).await;
    assert_eq!(status, 404);
    conforms("errors.json", &error);
    let (_, list) = get_json(
        &server,
        &format!("/open311/v2/requests.json?service_request_id={id}"),
    )
    .await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn bad_input_gets_the_spec_error_never_a_500() {
    let server = TestServer::start().await;
    with_key(&server, "tester").await;
    for (path, expected) in [
        ("/open311/v2/requests.json?start_date=yesterday", 400),
        ("/open311/v2/requests.json?status=maybe", 400),
        ("/open311/v2/requests.json?page_size=0", 400),
        ("/open311/v2/requests.json?page_size=1001", 400),
        ("/open311/v2/requests.json?lat=48.1", 400),
        (
            "/open311/v2/requests.json?lat=48.1&long=-1.6&radius=-3",
            400,
        ),
        (
            "/open311/v2/requests.json?start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z",
            400,
        ),
        ("/open311/v2/services.json?jurisdiction_id=paris.fr", 404),
        ("/open311/v2/requests/2026-SIG-999999.json", 404),
        ("/open311/v2/servicerequestupdates.json?end_date=%FF", 400),
        ("/open311/v2/servicerequestupdates.json?page_size=1001", 400),
        (
            "/open311/v2/servicerequestupdates.json?start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z",
            400,
        ),
    ] {
        let (status, body) = get_json(&server, path).await;
        assert_eq!(status, expected, "{path}: {body}");
        conforms("errors.json", &body);
    }
    let (status, _, xml) = get(&server, "/open311/v2/requests.xml?status=maybe").await;
    assert_eq!(status, 400);
    assert_eq!(xml_text(&xml, "code").as_deref(), Some("400"));

    let mut no_key = pothole(RENNES.0);
    no_key.remove(0);
    let mut bad_key = pothole(RENNES.0);
    bad_key[0].1 = "not-a-key".to_owned();
    let with = |changes: &[(&'static str, &str)]| {
        let mut form = pothole(RENNES.0);
        for (k, v) in changes {
            form.retain(|(name, _)| name != k);
            if !v.is_empty() {
                form.push((k, (*v).to_owned()));
            }
        }
        form
    };
    for (form, expected) in [
        (no_key, 403),
        (bad_key, 403),
        (with(&[("service_code", "nope")]), 400),
        (with(&[("service_code", "")]), 400),
        (with(&[("lat", ""), ("long", "")]), 400),
        (with(&[("lat", "north")]), 400),
        (with(&[("lat", "60.0")]), 400),
        (with(&[("attribute[colour]", "red")]), 400),
        (with(&[("attribute[observed_at]", "hier")]), 400),
        (with(&[("email", "not an address")]), 400),
        (with(&[("jurisdiction_id", "paris.fr")]), 404),
    ] {
        let (status, text) = post_form(&server, "/open311/v2/requests.json", &form).await;
        assert_eq!(status, expected, "{form:?}: {text}");
        conforms("errors.json", &serde_json::from_str(&text).unwrap());
    }
    let r = server
        .client
        .post(server.url("/open311/v2/requests.xml"))
        .json(&json!({"service_code": "voirie"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let text = r.text().await.unwrap();
    assert_eq!(xml_outline(&text).0, "errors");
}

#[tokio::test]
async fn an_address_string_alone_places_an_incident_through_the_address_base() {
    let server = TestServer::start().await;
    with_key(&server, "tester").await;
    let by_address = |address: &str| {
        let mut form = pothole(RENNES.0);
        form.retain(|(name, _)| *name != "lat" && *name != "long");
        form.push(("address_string", address.to_owned()));
        form
    };

    // "2 place de la Mairie" is in the demo's address sample at 48.111089, -1.680507.
    let form = by_address("2 pl de la Mairie, 35000 Rennes");
    let (status, text) = post_form(&server, "/open311/v2/requests.json", &form).await;
    assert_eq!(status, 201, "{text}");
    let created: Value = serde_json::from_str(&text).unwrap();
    let id = created[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, one) = get_json(&server, &format!("/open311/v2/requests/{id}.json")).await;
    assert_eq!(status, 200, "{one}");
    assert!(
        (one[0]["lat"].as_f64().unwrap() - 48.111089).abs() < 1e-6,
        "{one}"
    );
    assert!(
        (one[0]["long"].as_f64().unwrap() + 1.680507).abs() < 1e-6,
        "{one}"
    );

    // A number the street does not have is not placed at another number.
    for address in [
        "999 place de la Mairie Rennes",
        "rue qui n'existe nulle part",
        "",
    ] {
        let (status, text) =
            post_form(&server, "/open311/v2/requests.json", &by_address(address)).await;
        assert_eq!(status, 400, "{address:?}: {text}");
        let errors: Value = serde_json::from_str(&text).unwrap();
        conforms("errors.json", &errors);
        assert!(
            errors[0]["description"]
                .as_str()
                .unwrap()
                .contains("address_string"),
            "{errors}"
        );
    }
}

#[tokio::test]
async fn filings_are_limited_per_key() {
    let server = TestServer::start_with(|c| {
        c.limits.enabled = true;
        c.limits.api_key = "2/h".parse().unwrap();
    })
    .await;
    with_key(&server, "busy").await;
    for n in 0..2 {
        let (status, text) = post_form(
            &server,
            "/open311/v2/requests.json",
            &pothole(RENNES.0 + 0.01 * f64::from(n)),
        )
        .await;
        assert_eq!(status, 201, "{text}");
    }
    let r = server
        .client
        .post(server.url("/open311/v2/requests.json"))
        .form(&pothole(RENNES.0 - 0.01))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert!(r.headers().get("retry-after").is_some());
    let body: Value = r.json().await.unwrap();
    conforms("errors.json", &body);
}

#[tokio::test]
async fn the_api_key_command_creates_lists_and_revokes_keys() {
    let server = TestServer::start().await;
    let out = guichet(&server.db, &["api-key", "create", "--name", "fixmystreet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let key = stdout.lines().last().unwrap().trim().to_owned();
    assert_eq!(key.len(), 64, "{stdout}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM api_keys WHERE key_digest = $1")
        .bind(guichet_server::auth::token_digest(&key))
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1, "only the digest is kept");
    let again = guichet(&server.db, &["api-key", "create", "--name", "fixmystreet"]);
    assert!(!again.status.success());
    let bad = guichet(&server.db, &["api-key", "create", "--name", "a b"]);
    assert!(!bad.status.success());

    let mut form = pothole(RENNES.0);
    form[0].1 = key.clone();
    let (status, text) = post_form(&server, "/open311/v2/requests.json", &form).await;
    assert_eq!(status, 201, "{text}");

    let list = guichet(&server.db, &["api-key", "list"]);
    let listed = String::from_utf8(list.stdout).unwrap();
    assert!(listed.contains("fixmystreet"), "{listed}");
    assert!(!listed.contains(&key), "{listed}");

    let revoke = guichet(&server.db, &["api-key", "revoke", "fixmystreet"]);
    assert!(revoke.status.success());
    let (status, _) = post_form(&server, "/open311/v2/requests.json", &form).await;
    assert_eq!(status, 403);
    let twice = guichet(&server.db, &["api-key", "revoke", "fixmystreet"]);
    assert!(!twice.status.success());
}
