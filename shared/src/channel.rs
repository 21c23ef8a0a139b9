//! How a request reached the city. Stored as text; parsed here, once, at every edge (the API,
//! the database rows, the queue's filters).

use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The citizen app (PWA or native shell).
    App,
    /// The web portal.
    Web,
    /// An integrator's HTTP call (Open311, the JSON API).
    Api,
    /// Entered by an agent: a phone call, the desk, a letter, an e-mail.
    Phone,
    Desk,
    Mail,
    Email,
    /// Filed by a field agent who saw the problem on site.
    Field,
}

impl Channel {
    pub const ALL: [Channel; 8] = [
        Channel::App,
        Channel::Web,
        Channel::Api,
        Channel::Phone,
        Channel::Desk,
        Channel::Mail,
        Channel::Email,
        Channel::Field,
    ];
    /// Channels a citizen or an integrator files through themselves.
    pub const SELF_SERVICE: [Channel; 3] = [Channel::Web, Channel::App, Channel::Api];
    /// Channels an agent enters on a citizen's behalf.
    pub const AGENT: [Channel; 4] = [Channel::Phone, Channel::Desk, Channel::Mail, Channel::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::App => "app",
            Channel::Web => "web",
            Channel::Api => "api",
            Channel::Phone => "phone",
            Channel::Desk => "desk",
            Channel::Mail => "mail",
            Channel::Email => "email",
            Channel::Field => "field",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn is_agent_entry(self) -> bool {
        Channel::AGENT.contains(&self)
    }

    /// Whether a démarche offering `offered` (as the catalogue lists them) is open through
    /// this channel. The app is the web UI in a shell: what is open on the web is open there.
    /// A field agent reports what they see in public space whatever the démarche's channels.
    pub fn offered_by(self, offered: &[String]) -> bool {
        self == Channel::Field
            || offered.iter().any(|c| c == self.as_str())
            || (self == Channel::App && offered.iter().any(|c| c == "web"))
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Channel {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        Channel::parse(&s).ok_or_else(|| format!("unknown channel {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_channel_reads_back_and_belongs_to_one_side() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::json!(c.as_str())
            );
            // A field report is neither: the agent files what they see themselves.
            if c == Channel::Field {
                assert!(!Channel::SELF_SERVICE.contains(&c) && !c.is_agent_entry());
                continue;
            }
            assert_ne!(
                Channel::SELF_SERVICE.contains(&c),
                c.is_agent_entry(),
                "{c}"
            );
        }
        assert_eq!(Channel::parse("fax"), None);
        assert_eq!(Channel::parse("App"), None);
    }

    #[test]
    fn the_app_is_offered_wherever_the_web_is() {
        let web = vec!["web".to_owned()];
        assert!(Channel::App.offered_by(&web));
        assert!(Channel::Web.offered_by(&web));
        assert!(!Channel::Api.offered_by(&web));
        assert!(!Channel::Web.offered_by(&["app".to_owned()]));
    }
}
