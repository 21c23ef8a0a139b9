//! The dedup decision: does a new report describe an incident that is already reported?
//!
//! This first policy is deliberately simple: the nearest open request of the same démarche
//! within the démarche's radius (metres on the sphere), created within its time window,
//! receives the report as a co-report. The decision runs inside the intake transaction under an
//! advisory lock on the démarche, so concurrent submissions of one incident produce one request.

use sqlx::PgConnection;

use crate::db::{self, DbError, catalogue::IntakeDemarche};

pub const DEFAULT_RADIUS_M: f64 = 50.0;
pub const MAX_RADIUS_M: f64 = 500.0;
pub const DEFAULT_WINDOW_DAYS: i32 = 30;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DedupPolicy {
    pub radius_m: f64,
    pub window_days: i32,
}

impl DedupPolicy {
    pub fn for_demarche(d: &IntakeDemarche) -> Self {
        Self {
            radius_m: d
                .dedup_radius_m
                .unwrap_or(DEFAULT_RADIUS_M)
                .clamp(1.0, MAX_RADIUS_M),
            window_days: d.dedup_window_days.unwrap_or(DEFAULT_WINDOW_DAYS).max(1),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Attach the report to this open request.
    CoReport {
        request_id: i64,
    },
    NewRequest,
}

/// Decides within `tx`; the lock it takes is held until the transaction ends, which must
/// include the insert that follows.
pub async fn decide(
    tx: &mut PgConnection,
    demarche: &str,
    policy: DedupPolicy,
    lat: f64,
    lon: f64,
) -> Result<Decision, DbError> {
    db::intake::lock_dedup_scope(tx, demarche).await?;
    let candidate = db::intake::nearest_open_request(
        tx,
        demarche,
        lat,
        lon,
        policy.radius_m,
        policy.window_days,
    )
    .await?;
    Ok(match candidate {
        Some(c) => Decision::CoReport { request_id: c.id },
        None => Decision::NewRequest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demarche(radius: Option<f64>, window: Option<i32>) -> IntakeDemarche {
        IntakeDemarche {
            code: "voirie".into(),
            revision: 1,
            title: "Voirie".into(),
            geolocated: true,
            dedup_radius_m: radius,
            dedup_window_days: window,
            sla_days: None,
            number_prefix: "SIG".into(),
        }
    }

    #[test]
    fn radius_defaults_to_50_m_and_is_capped_at_500_m() {
        assert_eq!(
            DedupPolicy::for_demarche(&demarche(None, None)).radius_m,
            50.0
        );
        assert_eq!(
            DedupPolicy::for_demarche(&demarche(Some(2000.0), None)).radius_m,
            500.0
        );
        assert_eq!(
            DedupPolicy::for_demarche(&demarche(Some(20.0), Some(7))).window_days,
            7
        );
    }
}
