//! Admission, before anything is stored: which démarche is filed, through which channel, by
//! whom, and whether its policy lets them. Decided once per filing from one read of the
//! catalogue; the result is passed down and never looked up again.

use guichet_shared::channel::Channel;
use guichet_shared::forms::{FormDefinition, Kind};
use sqlx::PgPool;

use super::PipelineError;
use crate::db::{self, accounts::CitizenRow, catalogue::IntakeDemarche, events::Actor};

/// Who is filing.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A citizen (logged in or not) or an integrator.
    SelfService { citizen: Option<CitizenRow> },
    /// An agent entering a request received by phone, at the desk, by mail or e-mail.
    Agent { agent_id: i64 },
}

/// The door a filing comes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// Any démarche with its whole form (`POST /requests`, an agent's entry).
    Form,
    /// The app's quick incident report (`POST /reports`): a place, a text and photos.
    QuickReport,
}

/// Who files, as the request records it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filer {
    /// The logged-in citizen, if any.
    pub citizen_id: Option<i64>,
    /// The agent who entered it on the citizen's behalf.
    pub entered_by: Option<i64>,
}

impl Filer {
    pub fn actor(self) -> Actor {
        self.entered_by.map_or(Actor::Citizen, Actor::Agent)
    }
}

/// A filing that may go ahead.
#[derive(Debug, Clone)]
pub struct Admitted {
    pub demarche: IntakeDemarche,
    pub form: FormDefinition,
    pub channel: Channel,
    pub filer: Filer,
}

pub async fn admit(
    db: &PgPool,
    code: &str,
    channel: Option<&str>,
    origin: &Origin,
    door: Door,
) -> Result<Admitted, PipelineError> {
    let code = code.trim();
    let field = match door {
        Door::Form => "demarche",
        Door::QuickReport => "category",
    };
    let demarche = db::catalogue::find_for_intake(db, code)
        .await?
        .ok_or_else(|| match door {
            Door::Form => PipelineError::invalid(
                field,
                "unknown-demarche",
                format!("no démarche has the code {code:?}; see GET /api/v1/catalogue"),
            ),
            Door::QuickReport => PipelineError::invalid(
                field,
                "unknown-category",
                format!("no démarche has the code {code:?}; see GET /api/v1/catalogue"),
            ),
        })?;
    if door == Door::QuickReport && !demarche.geolocated {
        return Err(PipelineError::invalid(
            field,
            "not-a-report-category",
            format!("{code:?} is not a geolocated démarche; file it with POST /api/v1/requests"),
        ));
    }
    let channel = match door {
        Door::Form => channel_of(channel, origin)?,
        Door::QuickReport => match origin {
            Origin::SelfService { .. } => Channel::App,
            // An agent's quick report is what a field team saw on site.
            Origin::Agent { .. } => Channel::Field,
        },
    };
    if !channel.offered_by(&demarche.channels) {
        let field = if door == Door::Form { "channel" } else { field };
        return Err(PipelineError::invalid(
            field,
            "channel-not-offered",
            format!(
                "{code} is not offered through {:?} (channels: {:?})",
                channel.as_str(),
                demarche.channels
            ),
        ));
    }
    let filer = match origin {
        Origin::SelfService { citizen } => {
            if demarche.auth == "account" {
                let citizen = citizen.as_ref().ok_or(PipelineError::AccountRequired)?;
                if citizen.email_verified_at.is_none() {
                    return Err(PipelineError::EmailNotVerified);
                }
            }
            Filer {
                // Only an account whose address is verified holds requests: whoever registers
                // an unverified address again (which replaces its password) finds none there.
                citizen_id: citizen
                    .as_ref()
                    .filter(|c| c.email_verified_at.is_some())
                    .map(|c| c.id),
                entered_by: None,
            }
        }
        Origin::Agent { agent_id } => Filer {
            citizen_id: None,
            entered_by: Some(*agent_id),
        },
    };
    let form = super::form::parse(&demarche.code, demarche.form.as_ref())?;
    if door == Door::QuickReport {
        quick_report_suffices(code, &form)?;
    }
    Ok(Admitted {
        demarche,
        form,
        channel,
        filer,
    })
}

/// The channel of a form filing: given by the filer among those of their side.
fn channel_of(given: Option<&str>, origin: &Origin) -> Result<Channel, PipelineError> {
    let given = given.map(str::trim);
    match origin {
        Origin::SelfService { .. } => {
            let given = given.unwrap_or("web");
            match Channel::parse(given) {
                Some(c) if Channel::SELF_SERVICE.contains(&c) => Ok(c),
                Some(_) => Err(PipelineError::invalid(
                    "channel",
                    "channel-reserved-for-agents",
                    format!(
                        "{given:?} requests are entered by agents (POST /api/v1/agent/requests)"
                    ),
                )),
                None => Err(PipelineError::invalid(
                    "channel",
                    "unknown-channel",
                    format!("channel must be one of {:?}", names(&Channel::SELF_SERVICE)),
                )),
            }
        }
        Origin::Agent { .. } => {
            let given = given.ok_or_else(|| {
                PipelineError::invalid(
                    "channel",
                    "required",
                    format!(
                        "say how the request came in: one of {:?}",
                        names(&Channel::AGENT)
                    ),
                )
            })?;
            Channel::parse(given)
                .filter(|c| c.is_agent_entry())
                .ok_or_else(|| {
                    PipelineError::invalid(
                        "channel",
                        "unknown-channel",
                        format!(
                            "an agent enters requests of channel {:?}",
                            names(&Channel::AGENT)
                        ),
                    )
                })
        }
    }
}

fn names(channels: &[Channel]) -> Vec<&'static str> {
    channels.iter().map(|c| c.as_str()).collect()
}

/// The quick report carries a place, a description, photos and a contact: démarches whose
/// form asks for more go through their whole form.
fn quick_report_suffices(code: &str, form: &FormDefinition) -> Result<(), PipelineError> {
    let covered = [
        Kind::GeoPoint,
        Kind::LongText,
        Kind::File,
        Kind::Email,
        Kind::Text,
    ];
    let more: Vec<&str> = form
        .fields
        .iter()
        .filter(|f| f.required && f.when.is_none() && !covered.contains(&f.kind))
        .map(|f| f.id.as_str())
        .collect();
    if more.is_empty() {
        Ok(())
    } else {
        Err(PipelineError::invalid(
            "category",
            "use-requests-endpoint",
            format!(
                "{code:?} needs more than a report carries ({more:?}); file it with POST /api/v1/requests"
            ),
        ))
    }
}
