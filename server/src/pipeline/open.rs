//! Opening a request: the one way a request comes to exist, whatever the path (an incident
//! report, a démarche's form, an agent's entry, a split, an integrator's call). It numbers the
//! request, routes it (démarche × zone → team), stores it with its files and records its
//! `created` event; the caller adds what its path needs (a first report, the acknowledgement)
//! in the same transaction.

use std::collections::HashMap;

use guichet_shared::channel::Channel;
use guichet_shared::phase::{Lang, Phase};
use guichet_shared::timeline::EventKind;
use guichet_shared::workflow::{Template, template};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::admit::{Admitted, Filer};
use crate::codes;
use crate::db::{self, DbError, catalogue::IntakeDemarche, events::Actor};

/// Where a request's position comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocationSource {
    /// The phone's positioning, with its accuracy.
    Gps,
    /// A pin placed on a map.
    Map,
    /// An address the filer gave, with its coordinates.
    Address,
}

impl LocationSource {
    pub fn as_str(self) -> &'static str {
        match self {
            LocationSource::Gps => "gps",
            LocationSource::Map => "map",
            LocationSource::Address => "address",
        }
    }

    /// A report's position: from positioning when it carries an accuracy, else a pin.
    pub fn of_report(accuracy_m: Option<f64>) -> Self {
        if accuracy_m.is_some() {
            LocationSource::Gps
        } else {
            LocationSource::Map
        }
    }
}

/// A request's position and the zone it falls in.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    pub source: LocationSource,
    pub zone_id: Option<i64>,
}

/// The filer's contact as given with the filing (an account's address is read from it).
#[derive(Debug, Clone, Copy, Default)]
pub struct Contact<'a> {
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
}

/// A stored file to attach to a request, under the form field it answers.
#[derive(Debug, Clone)]
pub struct AttachedFile {
    pub key: String,
    pub field: String,
    pub filename: String,
    pub mime: String,
    pub bytes: i32,
}

pub struct Opening<'a> {
    pub demarche: &'a IntakeDemarche,
    pub channel: Channel,
    pub filer: Filer,
    /// Who the `created` event names: the filer, or the agent who split it out.
    pub actor: Actor,
    pub place: Option<Place>,
    pub address: Option<&'a str>,
    pub description: &'a str,
    pub data: &'a serde_json::Value,
    pub contact: Contact<'a>,
    pub lang: Lang,
    /// The idempotency key of a filing that has no report to carry it.
    pub client_id: Option<Uuid>,
    /// The grey-band duplicate decision: the request it may duplicate, and the score.
    pub possible_duplicate_of: Option<(i64, f64)>,
    pub files: &'a [AttachedFile],
    /// More to say in the `created` event (e.g. the request it was split from).
    pub context: Option<(&'static str, serde_json::Value)>,
}

/// The data of a request opened without a form (split out of another).
static NO_DATA: std::sync::LazyLock<serde_json::Value> =
    std::sync::LazyLock::new(|| serde_json::Value::Object(serde_json::Map::new()));

impl<'a> Opening<'a> {
    /// A request of `demarche` through `channel`, with nothing else said yet: callers fill in
    /// what their path knows with struct update syntax.
    pub fn new(demarche: &'a IntakeDemarche, channel: Channel, actor: Actor, lang: Lang) -> Self {
        Self {
            demarche,
            channel,
            filer: Filer::default(),
            actor,
            place: None,
            address: None,
            description: "",
            data: &NO_DATA,
            contact: Contact::default(),
            lang,
            client_id: None,
            possible_duplicate_of: None,
            files: &[],
            context: None,
        }
    }

    /// A filing that passed admission: its démarche, channel and filer.
    pub fn admitted(admitted: &'a Admitted, lang: Lang) -> Self {
        Self {
            filer: admitted.filer,
            ..Self::new(
                &admitted.demarche,
                admitted.channel,
                admitted.filer.actor(),
                lang,
            )
        }
    }
}

/// A request just opened.
#[derive(Debug, Clone)]
pub struct Opened {
    pub id: i64,
    pub number: String,
    /// The filer's code, in clear for the receipt and the acknowledgement only: the request
    /// keeps its digest.
    pub tracking_code: String,
    pub team_id: Option<i64>,
    pub workflow: &'static Template,
}

/// The workflow template a démarche's requests follow.
pub fn workflow_of(demarche: &IntakeDemarche) -> Result<&'static Template, DbError> {
    template(&demarche.workflow).ok_or_else(|| {
        DbError::Data(format!(
            "démarche {} names an unknown workflow {:?}",
            demarche.code, demarche.workflow
        ))
    })
}

pub async fn open(tx: &mut PgConnection, o: &Opening<'_>) -> Result<Opened, DbError> {
    let workflow = workflow_of(o.demarche)?;
    let zone_id = o.place.and_then(|p| p.zone_id);
    let number = db::requests::next_number(tx, &o.demarche.number_prefix).await?;
    let team_id = db::routing::team_for(tx, &o.demarche.code, zone_id).await?;
    let tracking_code = codes::new_code();
    let id = db::requests::insert(
        tx,
        &db::requests::NewRequest {
            number: &number,
            tracking_code_digest: &codes::digest(&tracking_code),
            demarche: &o.demarche.code,
            revision: o.demarche.revision,
            workflow: workflow.code,
            channel: o.channel,
            status: workflow.initial,
            phase: Phase::Received,
            team_id,
            zone_id,
            location: o.place.map(|p| (p.lat, p.lon)),
            accuracy_m: o.place.and_then(|p| p.accuracy_m),
            location_source: o.place.map(|p| p.source.as_str()),
            address: o.address,
            description: o.description,
            data: o.data,
            sla_days: o.demarche.sla_days,
            possible_duplicate_of: o.possible_duplicate_of,
            client_id: o.client_id,
            citizen_id: o.filer.citizen_id,
            entered_by: o.filer.entered_by,
            contact_name: o.contact.name,
            contact_email: o.contact.email,
            contact_phone: o.contact.phone,
            lang: o.lang.as_str(),
        },
    )
    .await?;
    attach_files(tx, id, o.files).await?;
    let mut created = json!({ "channel": o.channel, "team_id": team_id });
    if let Some(agent) = o.filer.entered_by {
        created["entered_by"] = json!(agent);
    }
    if let Some((key, value)) = &o.context {
        created[*key] = value.clone();
    }
    db::events::insert(&mut *tx, id, EventKind::Created, o.actor, &created).await?;
    if let Some((of, score)) = o.possible_duplicate_of {
        let data = json!({ "request_id": of, "score": score });
        db::events::insert(
            &mut *tx,
            id,
            EventKind::PossibleDuplicate,
            Actor::System,
            &data,
        )
        .await?;
    }
    Ok(Opened {
        id,
        number,
        tracking_code,
        team_id,
        workflow,
    })
}

/// Attaches stored files to a request, numbered in order within each field.
pub async fn attach_files(
    tx: &mut PgConnection,
    request_id: i64,
    files: &[AttachedFile],
) -> Result<(), DbError> {
    let mut positions = HashMap::<&str, i16>::new();
    for f in files {
        let position = positions.entry(f.field.as_str()).or_insert(0);
        db::files::insert(
            tx,
            &db::files::NewFile {
                request_id,
                field_id: &f.field,
                position: *position,
                storage_key: &f.key,
                filename: &f.filename,
                mime: &f.mime,
                bytes: f.bytes,
            },
        )
        .await?;
        *position += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_with_an_accuracy_was_positioned_by_the_phone() {
        assert_eq!(LocationSource::of_report(Some(8.0)), LocationSource::Gps);
        assert_eq!(LocationSource::of_report(None), LocationSource::Map);
    }
}
