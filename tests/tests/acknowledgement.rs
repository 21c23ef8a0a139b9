#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! The acknowledgement in every receipt: received when and by whom, what happens next, the
//! usual delay (the median time to close of the démarche's requests closed in the last 12
//! months, the SLA while there are too few), the code explained, and the status page.

use guichet_tests::api::{agent_token, contact_request, post};
use guichet_tests::{RENNES, TestServer, multipart, report_at};
use serde_json::{Value, json};
use uuid::Uuid;

const OFFICE: &str = "agent.voirie@guichet.example";

async fn report(server: &TestServer, lat: f64, lon: f64) -> Value {
    server
        .post("/api/v1/reports")
        .multipart(multipart(&report_at("voirie", lat, lon), &[]))
        .send()
        .await
        .expect(201)
        .json()
}

#[tokio::test]
async fn a_demarche_receipt_explains_itself_in_the_filers_language() {
    let server = TestServer::start().await;
    let receipt = server
        .post("/api/v1/requests")
        .json(&contact_request(Uuid::new_v4(), "lea@example.org"))
        .send()
        .await
        .expect(201)
        .json();
    let n = receipt["request_number"].as_str().unwrap();
    let code = receipt["tracking_code"].as_str().unwrap();
    let ack = &receipt["acknowledgement"];
    assert!(
        ack["received"].as_str().unwrap().contains("heure de Paris"),
        "{ack}"
    );
    assert_eq!(ack["service"], receipt["service"]);
    assert!(
        ack["next_steps"]
            .as_str()
            .unwrap()
            .starts_with("Votre demande est transmise"),
        "{ack}"
    );
    assert!(ack["code_explained"].as_str().unwrap().contains(code));
    assert_eq!(ack["status_page_url"], server.url(&format!("/suivi/{n}")));
    assert!(
        !ack["status_page_url"].as_str().unwrap().contains(code),
        "never the code in an address"
    );
    // No history yet: the SLA, said as such.
    let delay = &ack["expected_delay"];
    assert_ne!(delay["basis"], "history", "{delay}");
    assert_eq!(delay["closed_requests"], 0);

    let english = server
        .post("/api/v1/requests")
        .header("accept-language", "en-GB,en;q=0.9")
        .json(&contact_request(Uuid::new_v4(), "lea@example.org"))
        .send()
        .await
        .expect(201)
        .json();
    let ack = &english["acknowledgement"];
    assert!(
        ack["next_steps"]
            .as_str()
            .unwrap()
            .starts_with("Your request goes to"),
        "{ack}"
    );
    assert!(ack["received"].as_str().unwrap().contains("Paris time"));
}

#[tokio::test]
async fn the_usual_delay_is_the_median_of_the_last_twelve_months_once_there_are_enough() {
    let server = TestServer::start().await;
    let office = agent_token(&server, OFFICE).await;
    let (lat, lon) = RENNES;
    // Five incidents far enough apart not to be one, closed after 1, 2, 3, 4 and 30 days; and
    // one closed 13 months ago, which no longer counts.
    let mut numbers = Vec::new();
    for i in 0..6 {
        let r = report(&server, lat + 0.003 * f64::from(i), lon).await;
        numbers.push(r["request_number"].as_str().unwrap().to_owned());
    }
    for n in &numbers {
        for status in ["acknowledged", "resolved"] {
            let (s, body) = post(
                &server,
                &format!("/api/v1/agent/requests/{n}/status"),
                Some(&office),
                &json!({ "status": status }),
            )
            .await;
            assert_eq!(s, 204, "{body}");
        }
    }
    let ages = [(1, 0), (2, 0), (3, 0), (4, 0), (30, 0), (1, 13)];
    for (n, (days, months_ago)) in numbers.iter().zip(ages) {
        sqlx::query(
            "UPDATE requests SET closed_at = now() - make_interval(months => $2),
                                 created_at = now() - make_interval(months => $2, days => $3)
              WHERE number = $1",
        )
        .bind(n)
        .bind(months_ago)
        .bind(days)
        .execute(&server.db.pool)
        .await
        .unwrap();
    }
    let receipt = report(&server, lat - 0.01, lon).await;
    let delay = &receipt["acknowledgement"]["expected_delay"];
    assert_eq!(delay["basis"], "history", "{delay}");
    assert_eq!(delay["closed_requests"], 5);
    assert_eq!(delay["days"], 3.0);
    assert!(
        delay["text"]
            .as_str()
            .unwrap()
            .starts_with("environ 3 jours"),
        "{delay}"
    );
}

#[tokio::test]
async fn me_too_says_in_words_that_it_joined_the_existing_report() {
    let server = TestServer::start().await;
    let (lat, lon) = RENNES;
    let first = report(&server, lat, lon).await;
    let n = first["request_number"].as_str().unwrap();
    assert!(
        first["acknowledgement"]["next_steps"]
            .as_str()
            .unwrap()
            .starts_with("Votre demande est transmise")
    );
    let support = server
        .post(&format!("/api/v1/requests/{n}/support"))
        .json(&json!({ "client_id": Uuid::new_v4() }))
        .send()
        .await
        .expect(201)
        .json();
    let ack = &support["acknowledgement"];
    assert!(
        ack["next_steps"]
            .as_str()
            .unwrap()
            .contains(&format!("a rejoint la demande {n}")),
        "{ack}"
    );
    assert!(ack["code_explained"].as_str().unwrap().contains("suivre"));
}
