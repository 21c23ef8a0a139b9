//! The forms of the shipped catalogue (`assets/catalogue.json`): all valid, all used, and the
//! rules of a few démarches behave as their pages say.

use serde_json::{Map, Value, json};

use super::test_support::*;
use super::*;

const CATALOGUE: &str = include_str!("../../../assets/catalogue.json");

fn catalogue() -> Value {
    serde_json::from_str(CATALOGUE).unwrap_or_else(|e| panic!("catalogue: {e}"))
}

fn catalogue_form(code: &str) -> FormDefinition {
    let catalogue = catalogue();
    let forms = catalogue["forms"].as_object().cloned().unwrap_or_default();
    let entry = catalogue["demarches"]
        .as_array()
        .and_then(|ds| ds.iter().find(|d| d["code"] == code))
        .unwrap_or_else(|| panic!("no démarche {code}"));
    match resolve_form(&forms, entry) {
        Ok(Some(f)) => f,
        other => panic!("{code}: {other:?}"),
    }
}

#[test]
fn every_form_of_the_catalogue_is_valid_and_used() {
    let catalogue = catalogue();
    let forms = catalogue["forms"].as_object().cloned().unwrap_or_default();
    for (name, definition) in &forms {
        if let Err(e) = parse_definition(definition) {
            panic!("shared form {name}: {e}");
        }
    }
    let demarches = catalogue["demarches"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(demarches.len() > 90);
    let mut with_form = 0;
    let mut specific = Vec::new();
    let mut used = Vec::new();
    for d in &demarches {
        let code = d["code"].as_str().unwrap_or_default();
        let workflow = d["workflow"].as_str().unwrap_or_default();
        assert!(
            ["report", "decision", "delivery", "answer"].contains(&workflow),
            "{code}: workflow {workflow:?}"
        );
        assert!(crate::workflow::template(workflow).is_some(), "{code}");
        // Incidents in public space follow the report template, and nothing else does.
        assert_eq!(d["group"] == "signalement", workflow == "report", "{code}");
        let form = match resolve_form(&forms, d) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        };
        if let Some(form) = form {
            with_form += 1;
            if d["geolocated"] == true {
                assert!(
                    form.fields
                        .iter()
                        .any(|f| f.kind == Kind::GeoPoint && f.required && f.when.is_none()),
                    "{code}: a geolocated démarche asks for a point"
                );
            }
        }
        match &d["form"] {
            Value::String(name) => {
                used.push(name.clone());
                if name != "generic" {
                    specific.push(code.to_owned());
                }
            }
            Value::Object(_) => specific.push(code.to_owned()),
            _ => {}
        }
    }
    assert!(with_form >= 12, "{with_form} démarches have a form");
    for name in forms.keys() {
        assert!(
            used.contains(name),
            "shared form {name} is used by no démarche"
        );
    }
    for code in [
        "voirie",
        "tags-graffitis",
        "depot-sauvage",
        "eclairage-public",
        "mobilier-urbain",
        "espaces-verts",
        "encombrants-abandonnes",
        "proprete",
        "signalisation",
        "autre-anomalie",
        "enlevement-tags",
        "enlevement-encombrants",
        "acte-naissance",
        "acte-mariage",
        "acte-deces",
        "occupation-voirie-demenagement",
        "demande-contact",
        "rendez-vous-passeport-cni",
        "candidature-spontanee",
        "reponse-offre-emploi",
        "location-salles",
        "declaration-chien-dangereux",
        "inscription-listes-electorales",
        "objet-perdu",
    ] {
        assert!(
            specific.iter().any(|c| c == code),
            "{code} has no form of its own"
        );
    }
}

fn check_catalogue(
    code: &str,
    data: Value,
    files: &[FileMeta],
) -> Result<Map<String, Value>, Vec<(String, &'static str)>> {
    validate(&catalogue_form(code), &data, files, TODAY)
        .map_err(|e| e.into_iter().map(|e| (e.field, e.code)).collect())
}

#[test]
fn the_anomaly_form_takes_a_phone_report() {
    let point = json!({"lat": 48.1113, "lon": -1.68, "accuracy_m": 6});
    let photo = file("photos", "image/jpeg", 2 * 1024 * 1024);
    let out = check_catalogue(
        "voirie",
        json!({"location": point, "description": "Nid-de-poule devant le 12",
               "contact_email": "a@rennes.fr"}),
        std::slice::from_ref(&photo),
    );
    assert!(out.is_ok(), "{out:?}");
    assert_eq!(
        check_catalogue("voirie", json!({"description": "?"}), &[]),
        Err(vec![pc("data.location", "required")])
    );
    let six = vec![photo; 6];
    assert_eq!(
        check_catalogue("tags-graffitis", json!({"location": point}), &six),
        Err(vec![pc("files.photos", "too-many-files")])
    );
    assert_eq!(
        check_catalogue(
            "tags-graffitis",
            json!({"location": point}),
            &[file("photos", "image/heic", 10)]
        ),
        Err(vec![pc("files.photos", "file-type-not-allowed")])
    );
}

#[test]
fn the_room_booking_asks_about_alcohol_only_for_festive_events() {
    let mut booking = json!({
        "room": "neighbourhood_hall", "event_date": "2026-04-18",
        "start_time": "18:30", "end_time": "23:59", "event_type": "meeting",
        "attendance": 40, "purpose": "Assemblée générale de l'association",
        "organiser_kind": "association", "organisation_name": "Les Amis du Thabor",
        "contact_phone": "02 99 00 00 00"
    });
    let insurance = [file("insurance_certificate", "application/pdf", 100_000)];
    assert!(check_catalogue("location-salles", booking.clone(), &insurance).is_ok());
    booking["event_type"] = json!("festive");
    booking["event_date"] = json!("2026-03-17");
    booking["start_time"] = json!("18h30");
    assert_eq!(
        check_catalogue("location-salles", booking.clone(), &insurance),
        Err(vec![
            pc("data.event_date", "out-of-range"),
            pc("data.start_time", "invalid-format"),
            pc("data.alcohol_license", "required"),
        ])
    );
}

#[test]
fn the_bulky_pickup_checks_its_items_and_its_date() {
    let data = json!({
        "address": {"text": "12 rue de Saint-Malo", "postcode": "35000", "city": "Rennes"},
        "items": [{"kind": "furniture", "quantity": 11}, {"kind": "bedding", "quantity": 1}],
        "preferred_date": "2026-03-15", "preferred_slot": "morning",
        "last_name": "Martin", "first_name": "Léa", "contact_phone": "0612345678"
    });
    assert_eq!(
        check_catalogue("enlevement-encombrants", data, &[]),
        Err(vec![
            pc("data.items[0].quantity", "out-of-range"),
            pc("data.preferred_date", "out-of-range"),
        ])
    );
}

#[test]
fn the_electoral_roll_needs_16_years_and_asks_eu_citizens_more() {
    let mut data = json!({
        "last_name": "Rossi", "first_names": "Giulia", "sex": "female",
        "birth_date": "2010-03-15", "birth_place": "Torino", "birth_country": "Italie",
        "nationality": "eu", "link_to_commune": "resident", "address": "3 quai Lamartine"
    });
    let docs = [
        file("identity_document", "image/jpeg", 1000),
        file("proof_of_address", "application/pdf", 1000),
    ];
    assert_eq!(
        check_catalogue("inscription-listes-electorales", data.clone(), &docs),
        Err(vec![
            pc("data.birth_date", "out-of-range"),
            pc("data.eu_country", "required"),
            pc("data.eu_elections", "required"),
        ])
    );
    data["birth_date"] = json!("2010-03-14");
    data["nationality"] = json!("french");
    assert!(check_catalogue("inscription-listes-electorales", data, &docs).is_ok());
}

#[test]
fn the_dangerous_dog_declaration_wants_sterilisation_for_category_1() {
    let mut data = json!({
        "owner_last_name": "Durand", "owner_first_name": "Marc", "owner_birth_date": "1980-05-02",
        "owner_address": "5 rue d'Antrain", "contact_phone": "+33 6 12 34 56 78",
        "dog_name": "Rex", "breed_category": "2", "breed": "Rottweiler", "dog_sex": "male",
        "identification_number": "250268712345678", "rabies_vaccination_date": "2025-06-01",
        "behaviour_assessment_date": "2025-07-01"
    });
    let mut docs = vec![
        file("vaccination_certificate", "application/pdf", 1000),
        file("behaviour_assessment", "application/pdf", 1000),
        file("insurance_certificate", "application/pdf", 1000),
        file("aptitude_certificate", "image/png", 1000),
    ];
    assert!(check_catalogue("declaration-chien-dangereux", data.clone(), &docs).is_ok());
    data["breed_category"] = json!("1");
    data["identification_number"] = json!("12345");
    assert_eq!(
        check_catalogue("declaration-chien-dangereux", data.clone(), &docs),
        Err(vec![
            pc("data.identification_number", "invalid-format"),
            pc("files.sterilisation_certificate", "required"),
        ])
    );
    data["identification_number"] = json!("ABC 123");
    docs.push(file("sterilisation_certificate", "application/pdf", 1000));
    assert!(check_catalogue("declaration-chien-dangereux", data, &docs).is_ok());
}

#[test]
fn certificate_requests_ask_for_parents_only_with_filiation() {
    let mut data = json!({
        "copy_type": "extract", "requester_relationship": "self",
        "person_last_name": "Le Goff", "person_first_names": "Yann Marie",
        "birth_date": "1990-07-14", "birth_place": "Rennes", "copies": 2,
        "recipient_name": "Yann Le Goff", "delivery_address": "8 place de Bretagne, 35000 Rennes"
    });
    assert!(check_catalogue("acte-naissance", data.clone(), &[]).is_ok());
    data["copy_type"] = json!("full");
    data["copies"] = json!(6);
    assert_eq!(
        check_catalogue("acte-naissance", data, &[]),
        Err(vec![
            pc("data.parent_1_name", "required"),
            pc("data.copies", "out-of-range")
        ])
    );
    assert_eq!(
        check_catalogue(
            "acte-mariage",
            json!({"copy_type": "extract", "requester_relationship": "spouse",
                   "spouses": [{"last_name": "A", "first_names": "B"}],
                   "marriage_date": "2030-01-01", "marriage_place": "Rennes", "copies": 1,
                   "recipient_name": "B A", "delivery_address": "1 rue X"}),
            &[]
        ),
        Err(vec![
            pc("data.spouses", "too-few-items"),
            pc("data.marriage_date", "out-of-range")
        ])
    );
}

#[test]
fn the_contact_form_asks_for_a_phone_only_for_a_call_back() {
    let mut data = json!({
        "subject": "information", "message": "Quels sont les horaires de la mairie ?",
        "last_name": "Petit", "first_name": "Jean", "contact_email": "jean@exemple.fr",
        "reply_channel": "phone"
    });
    assert_eq!(
        check_catalogue("demande-contact", data.clone(), &[]),
        Err(vec![pc("data.contact_phone", "required")])
    );
    data["reply_channel"] = json!("email");
    assert!(check_catalogue("demande-contact", data, &[]).is_ok());
}
