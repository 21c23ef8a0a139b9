//! Rate limits: how often one client address, one account or one e-mail address may knock at
//! a door (log in, register, file, read the map…). Each door has a GCRA limiter (`governor`)
//! keyed by who knocks, kept in this instance's memory: several instances each apply the limit,
//! which is fine for floods. What must hold across instances, failed logins, is counted in
//! the database instead (`crate::accounts::LoginGuard`).
//!
//! The limits are settings (`Config::limits`); `GUICHET_RATE_LIMITS=off` turns them all off.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::config::{LimitsConfig, Rate};

/// A door with a limit of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// Agent and citizen logins, password resets by token: per client address.
    Login,
    /// Registrations, verification resends, password-reset requests: per client address.
    AccountMail,
    /// The same, per e-mail address written to (nobody floods someone else's mailbox).
    MailTo,
    /// Reports and requests filed: per client address and per citizen account.
    Filing,
    /// "Me too": per client address.
    Support,
    /// Citizens' messages: per client address and per citizen account.
    Messages,
    /// "Already reported?", the map and the address lookups: per client address.
    Reads,
    /// The agents' API: per agent (a city hall's agents share one address).
    Agent,
    /// Open311 filings: per API key (an integrator's server files for many citizens).
    ApiKey,
}

impl Limit {
    /// Whether a logged-in citizen's calls at this door also count against their account.
    pub fn per_account(self) -> bool {
        matches!(self, Limit::Filing | Limit::Messages)
    }
}

/// Who knocks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// A client address. IPv6 clients are counted per /64, the block one subscriber gets.
    Ip(IpAddr),
    Citizen(i64),
    Agent(i64),
    /// An integrator's API key (its id).
    ApiKey(i64),
    /// An e-mail address, lower-cased.
    Address(String),
}

impl Key {
    pub fn ip(ip: IpAddr) -> Key {
        Key::Ip(subscriber(ip))
    }
}

/// The address as one subscriber: an IPv4 address, or the /64 of an IPv6 one (a subscriber
/// gets a whole /64 and could otherwise take a new address for every try).
pub fn subscriber(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

/// Refused for now: try again after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: Duration,
}

impl Throttled {
    /// Whole seconds to announce in `Retry-After` (at least 1).
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs_f64().ceil().max(1.0) as u64
    }
}

type Keyed = RateLimiter<Key, DefaultKeyedStateStore<Key>, DefaultClock>;

/// Every door's limiter, shared by the handlers of one instance.
#[derive(Debug)]
pub struct Limits {
    enabled: bool,
    clock: DefaultClock,
    doors: Vec<(Limit, Keyed)>,
}

impl Limits {
    pub fn new(config: &LimitsConfig) -> Limits {
        let doors = [
            (Limit::Login, config.login),
            (Limit::AccountMail, config.account_mail),
            (Limit::MailTo, config.mail_to),
            (Limit::Filing, config.filing),
            (Limit::Support, config.support),
            (Limit::Messages, config.messages),
            (Limit::Reads, config.reads),
            (Limit::Agent, config.agent),
            (Limit::ApiKey, config.api_key),
        ]
        .into_iter()
        .map(|(limit, rate)| (limit, RateLimiter::keyed(quota(rate))))
        .collect();
        Limits {
            enabled: config.enabled,
            clock: DefaultClock::default(),
            doors,
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Counts one knock of `key` at `limit`'s door; refused when its allowance is spent.
    pub fn check(&self, limit: Limit, key: &Key) -> Result<(), Throttled> {
        if !self.enabled {
            return Ok(());
        }
        let Some((_, limiter)) = self.doors.iter().find(|(l, _)| *l == limit) else {
            return Ok(());
        };
        limiter.check_key(key).map_err(|not_until| Throttled {
            retry_after: not_until.wait_time_from(self.clock.now()),
        })
    }

    /// Forgets the keys whose allowance is whole again, so that memory follows the recent
    /// callers only. Run periodically.
    pub fn forget_idle(&self) {
        for (_, limiter) in &self.doors {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// `count` calls at once, then one more every `per / count`.
fn quota(rate: Rate) -> Quota {
    let count = NonZeroU32::new(rate.count).unwrap_or(NonZeroU32::MIN);
    let interval = (rate.per / count.get()).max(Duration::from_nanos(1));
    Quota::with_period(interval)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(login: Rate) -> LimitsConfig {
        LimitsConfig {
            login,
            ..LimitsConfig::default()
        }
    }

    #[test]
    fn a_key_gets_its_allowance_then_waits() {
        let limits = Limits::new(&config(Rate::per_minute(3)));
        let a = Key::ip("192.0.2.1".parse().unwrap());
        let b = Key::ip("192.0.2.2".parse().unwrap());
        for _ in 0..3 {
            assert!(limits.check(Limit::Login, &a).is_ok());
        }
        let refused = limits.check(Limit::Login, &a).unwrap_err();
        assert!(
            refused.retry_after <= Duration::from_secs(20),
            "{refused:?}"
        );
        assert!(refused.retry_after_secs() >= 1);
        // Another address, and another door, are not affected.
        assert!(limits.check(Limit::Login, &b).is_ok());
        assert!(limits.check(Limit::Reads, &a).is_ok());
    }

    #[test]
    fn off_means_no_limit() {
        let mut c = config(Rate::per_minute(1));
        c.enabled = false;
        let limits = Limits::new(&c);
        let a = Key::Agent(1);
        for _ in 0..10 {
            assert!(limits.check(Limit::Login, &a).is_ok());
        }
    }

    #[test]
    fn an_ipv6_subscriber_is_one_key() {
        let a = Key::ip("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = Key::ip("2001:db8:1:2:bbbb::2".parse().unwrap());
        let c = Key::ip("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            Key::ip("::ffff:192.0.2.1".parse().unwrap()),
            Key::ip("192.0.2.1".parse().unwrap())
        );
    }
}
