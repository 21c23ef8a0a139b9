//! The dedup decision as a pure function: given a new report and the open requests found near
//! it, is it a co-report of one of them, a possible duplicate for an agent to check, or a new
//! request?
//!
//! The server finds the candidates (PostGIS, inside the intake transaction and its locks) and
//! hands them here; keeping the scoring free of I/O lets it be tested exhaustively and shared
//! with tools that replay past decisions.

use serde::{Deserialize, Serialize};

use crate::phash;

pub const DEFAULT_RADIUS_M: f64 = 50.0;
pub const MAX_RADIUS_M: f64 = 500.0;
/// Below a metre the radius is smaller than any GPS error: dedup would never trigger.
pub const MIN_RADIUS_M: f64 = 1.0;
pub const DEFAULT_WINDOW_DAYS: i32 = 30;
pub const DEFAULT_MAX_ACCURACY_WIDENING_M: f64 = 50.0;
/// Near-identical photos let a candidate match this many search radii away: two citizens
/// photographing the same fallen tree from both sides of a boulevard stand 30–40 m apart.
pub const PHOTO_REACH_FACTOR: f64 = 1.5;
/// Place score at the edge of the démarche's own radius (below the auto-merge threshold).
const EDGE_PLACE: f64 = 0.7;
/// At most this many differing bits: the same scene, re-framed or re-exposed.
pub const NEAR_IDENTICAL_MAX_HAMMING: u32 = 10;
/// At least this many differing bits: as far apart as two unrelated pictures (32 of 64 bits is
/// what chance gives).
pub const DIFFERENT_MIN_HAMMING: u32 = 32;

/// Score of a candidate of a different démarche in the same dedup group ("nid-de-poule" vs
/// "chaussée dégradée"): citizens often pick the neighbouring category, but the match is weaker
/// evidence than the same one, so alone it never reaches the default auto-merge threshold.
const GROUP_MATCH: f64 = 0.7;
/// Age factor at the end of the window: old requests stay eligible but need more evidence.
const AGE_FACTOR_AT_WINDOW_END: f64 = 0.6;
/// Share of the remaining gap to 1 that near-identical photos close.
const NEAR_IDENTICAL_BOOST: f64 = 0.6;
/// Factor applied when the photos clearly show different things: enough to turn a sure match
/// into one an agent checks, not to rule it out, since dHash does not survive a change of
/// viewpoint.
const DIFFERENT_PHOTO_FACTOR: f64 = 0.6;

/// A démarche's dedup settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DedupPolicy {
    /// Base search radius in metres on the sphere, in [`MIN_RADIUS_M`, `MAX_RADIUS_M`].
    pub radius_m: f64,
    /// Requests created more than this many days ago are not candidates (at least 1).
    pub window_days: i32,
    /// Dedup group of the démarche: candidates of another démarche of the same group qualify.
    pub group: Option<String>,
    /// Upper bound of the widening of the radius by the reported GPS accuracy.
    pub max_accuracy_widening_m: f64,
}

impl DedupPolicy {
    /// A policy from a démarche's optional settings; missing or unusable values get defaults.
    pub fn new(radius_m: Option<f64>, window_days: Option<i32>, group: Option<String>) -> Self {
        Self {
            radius_m: clamp_radius(radius_m.unwrap_or(DEFAULT_RADIUS_M)),
            window_days: window_days.unwrap_or(DEFAULT_WINDOW_DAYS).max(1),
            group: group.filter(|g| !g.trim().is_empty()),
            max_accuracy_widening_m: DEFAULT_MAX_ACCURACY_WIDENING_M,
        }
    }

    /// The radius of the candidate search for a report with this GPS accuracy, in metres on
    /// the sphere (what PostGIS' `ST_DWithin` on `geography` takes).
    ///
    /// A fix accurate to 80 m may be 80 m off, so the incident can lie outside the base radius;
    /// the widening is bounded because a very poor fix is no evidence of anything and an
    /// unbounded disc would merge half a district. Non-finite or negative accuracies are ignored.
    /// The result never exceeds `MAX_RADIUS_M + max_accuracy_widening_m`.
    ///
    /// Candidates up to [`PHOTO_REACH_FACTOR`] times this radius can still match when the
    /// report has photos: see [`DedupPolicy::fetch_radius_m`].
    pub fn search_radius_m(&self, accuracy_m: Option<f64>) -> f64 {
        let bound = finite_non_negative(self.max_accuracy_widening_m);
        let widening = accuracy_m.map_or(0.0, finite_non_negative).min(bound);
        clamp_radius(self.radius_m) + widening
    }

    /// The radius within which candidates must be fetched (and locked) so that [`decide`] sees
    /// every request that could match: wider when the report has photos, since near-identical
    /// photos extend the reach.
    pub fn fetch_radius_m(&self, accuracy_m: Option<f64>, has_photos: bool) -> f64 {
        let radius = self.search_radius_m(accuracy_m);
        if has_photos {
            radius * PHOTO_REACH_FACTOR
        } else {
            radius
        }
    }
}

impl Default for DedupPolicy {
    fn default() -> Self {
        Self::new(None, None, None)
    }
}

fn clamp_radius(radius_m: f64) -> f64 {
    if radius_m.is_finite() {
        radius_m.clamp(MIN_RADIUS_M, MAX_RADIUS_M)
    } else {
        DEFAULT_RADIUS_M
    }
}

fn finite_non_negative(x: f64) -> f64 {
    if x.is_finite() { x.max(0.0) } else { 0.0 }
}

/// Score thresholds of the decision; configuration, not policy per démarche.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// From this score the report is attached to the candidate without human review. A wrong
    /// merge hides an incident, so this is set where the evidence is strong.
    pub auto_merge: f64,
    /// From this score (and below `auto_merge`) a new request is created, flagged as a possible
    /// duplicate for agents to merge or dismiss.
    pub review: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            auto_merge: 0.75,
            review: 0.45,
        }
    }
}

/// What dedup needs to know about an incoming report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewReport {
    pub demarche: String,
    /// Dedup group of the report's démarche; when `None`, the policy's group applies.
    pub group: Option<String>,
    /// Reported GPS accuracy in metres, if any.
    pub accuracy_m: Option<f64>,
    /// [`phash::dhash`] of each photo.
    pub photo_hashes: Vec<u64>,
}

/// An existing request found near the new report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub request_id: i64,
    pub demarche: String,
    pub group: Option<String>,
    /// Distance to the new report, in metres on the sphere.
    pub distance_m: f64,
    /// Age of the request (since its creation), in days.
    pub age_days: f64,
    pub open: bool,
    /// [`phash::dhash`] of each of its photos.
    pub photo_hashes: Vec<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Attach the report to this request.
    CoReport {
        request_id: i64,
        score: f64,
    },
    /// Create a new request, flagged as a possible duplicate of this one.
    PossibleDuplicate {
        request_id: i64,
        score: f64,
    },
    NewRequest,
}

/// How the photos of both sides compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PhotoMatch {
    NearIdentical,
    /// No photos on one side, or hashes neither close nor far: no evidence either way.
    Neutral,
    Different,
}

fn photo_match(a: &[u64], b: &[u64]) -> PhotoMatch {
    // The best pair counts: one shared close-up is evidence even if the other photos differ.
    let best = a
        .iter()
        .flat_map(|&x| b.iter().map(move |&y| phash::hamming(x, y)))
        .min();
    match best {
        Some(d) if d <= NEAR_IDENTICAL_MAX_HAMMING => PhotoMatch::NearIdentical,
        Some(d) if d >= DIFFERENT_MIN_HAMMING => PhotoMatch::Different,
        _ => PhotoMatch::Neutral,
    }
}

fn non_blank(g: Option<&str>) -> Option<&str> {
    g.filter(|g| !g.trim().is_empty())
}

/// How likely `c` is the incident `new` reports, in [0, 1].
pub fn score(policy: &DedupPolicy, new: &NewReport, c: &Candidate) -> f64 {
    // Garbage in (NaN from a broken query) must not become a merge.
    if !c.open || !c.distance_m.is_finite() || !c.age_days.is_finite() {
        return 0.0;
    }
    let window = f64::from(policy.window_days.max(1));
    // Clock skew can make a request look created in the future: treat it as brand new.
    let age = c.age_days.max(0.0);
    if age > window {
        return 0.0;
    }

    let category = if new.demarche == c.demarche {
        1.0
    } else {
        let group = non_blank(new.group.as_deref()).or(non_blank(policy.group.as_deref()));
        match (group, non_blank(c.group.as_deref())) {
            (Some(a), Some(b)) if a == b => GROUP_MATCH,
            // Different kinds of problem at the same spot (a pothole under a broken
            // streetlight) are distinct incidents, however close.
            _ => return 0.0,
        }
    };

    let photos = photo_match(&new.photo_hashes, &c.photo_hashes);
    let radius = policy.search_radius_m(new.accuracy_m);
    let reach = match photos {
        PhotoMatch::NearIdentical => radius * PHOTO_REACH_FACTOR,
        _ => radius,
    };
    let distance = c.distance_m.max(0.0);
    if distance >= reach {
        return 0.0;
    }
    // Within the démarche's own radius a report is very likely the same incident: GPS noise
    // dominates, so the score falls gently (quadratically) from 1 to EDGE_PLACE. Beyond it, in
    // the margin granted by a poor GPS fix or by matching photos, confidence falls faster, to
    // 0 at the reach: such matches land in the review band rather than merging on their own.
    let base_radius = policy.radius_m.min(reach);
    let place = if distance <= base_radius {
        1.0 - (1.0 - EDGE_PLACE) * (distance / base_radius).powi(2)
    } else {
        let x = (distance - base_radius) / (reach - base_radius);
        EDGE_PLACE * (1.0 - x * x)
    };

    // Mild: an open request a few weeks old is still the same pothole, but the older it is the
    // likelier a new report is a new occurrence nearby.
    let recency = 1.0 - (1.0 - AGE_FACTOR_AT_WINDOW_END) * (age / window);

    let base = place * category * recency;
    let s = match photos {
        // Strong but not absolute: a boost proportional to the remaining doubt keeps the score
        // below 1 and still ordered by place, category and age.
        PhotoMatch::NearIdentical => base + (1.0 - base) * NEAR_IDENTICAL_BOOST,
        PhotoMatch::Neutral => base,
        PhotoMatch::Different => base * DIFFERENT_PHOTO_FACTOR,
    };
    s.clamp(0.0, 1.0)
}

/// The decision for `new` among the candidates found near it.
pub fn decide(
    policy: &DedupPolicy,
    thresholds: &Thresholds,
    new: &NewReport,
    candidates: &[Candidate],
) -> Outcome {
    let mut best: Option<(&Candidate, f64)> = None;
    for c in candidates {
        let s = score(policy, new, c);
        let better = match best {
            None => true,
            // Equal scores: the nearest is the likeliest, and agents find it first on the map.
            Some((b, bs)) => s > bs || (s == bs && c.distance_m < b.distance_m),
        };
        if better {
            best = Some((c, s));
        }
    }
    match best {
        // A zero score means "excluded", never "a weak match", even with a zero threshold.
        Some((c, s)) if s > 0.0 && s >= thresholds.auto_merge => Outcome::CoReport {
            request_id: c.request_id,
            score: s,
        },
        Some((c, s)) if s > 0.0 && s >= thresholds.review => Outcome::PossibleDuplicate {
            request_id: c.request_id,
            score: s,
        },
        _ => Outcome::NewRequest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHOTO: u64 = 0x0f0f_3c3c_a5a5_ff00;

    fn report(demarche: &str) -> NewReport {
        NewReport {
            demarche: demarche.into(),
            group: None,
            accuracy_m: None,
            photo_hashes: vec![],
        }
    }

    fn candidate(id: i64, demarche: &str, distance_m: f64) -> Candidate {
        Candidate {
            request_id: id,
            demarche: demarche.into(),
            group: None,
            distance_m,
            age_days: 0.5,
            open: true,
            photo_hashes: vec![],
        }
    }

    fn decide_one(new: &NewReport, c: Candidate) -> Outcome {
        decide(&DedupPolicy::default(), &Thresholds::default(), new, &[c])
    }

    fn is_review(o: Outcome) -> bool {
        matches!(o, Outcome::PossibleDuplicate { request_id: 1, .. })
    }

    #[test]
    fn no_candidates_means_a_new_request() {
        let o = decide(
            &DedupPolicy::default(),
            &Thresholds::default(),
            &report("voirie"),
            &[],
        );
        assert_eq!(o, Outcome::NewRequest);
    }

    #[test]
    fn same_place_same_category_recent_is_a_co_report() {
        let o = decide_one(&report("voirie"), candidate(1, "voirie", 3.0));
        assert!(
            matches!(o, Outcome::CoReport { request_id: 1, score } if score > 0.95),
            "{o:?}"
        );
    }

    #[test]
    fn near_identical_photos_reach_across_the_street() {
        let mut new = report("voirie");
        new.photo_hashes = vec![0, PHOTO ^ 0b111];
        let mut c = candidate(1, "voirie", 60.0);
        c.photo_hashes = vec![PHOTO];
        let o = decide_one(&new, c.clone());
        assert!(
            matches!(
                o,
                Outcome::PossibleDuplicate { .. } | Outcome::CoReport { .. }
            ),
            "{o:?}"
        );
        // Without the photos 60 m is outside the 50 m radius.
        c.photo_hashes.clear();
        assert_eq!(decide_one(&new, c.clone()), Outcome::NewRequest);
        // The reach is extended, not unbounded.
        c.photo_hashes = vec![PHOTO];
        c.distance_m = 76.0;
        assert_eq!(decide_one(&new, c), Outcome::NewRequest);
    }

    #[test]
    fn another_category_at_the_same_place_is_a_new_request() {
        let c = candidate(1, "eclairage", 0.0);
        assert_eq!(score(&DedupPolicy::default(), &report("voirie"), &c), 0.0);
        assert_eq!(decide_one(&report("voirie"), c), Outcome::NewRequest);
    }

    #[test]
    fn same_group_other_demarche_needs_review_unless_photos_agree() {
        let mut new = report("nid-de-poule");
        new.group = Some("chaussee".into());
        let mut c = candidate(1, "chaussee-degradee", 0.0);
        c.group = Some("chaussee".into());
        assert!(is_review(decide_one(&new, c.clone())));

        // The group may come from the policy instead of the report.
        let policy = DedupPolicy::new(None, None, Some("chaussee".into()));
        let s = score(&policy, &report("nid-de-poule"), &c);
        assert!((s - GROUP_MATCH).abs() < 0.01, "{s}");

        new.photo_hashes = vec![PHOTO];
        c.photo_hashes = vec![PHOTO];
        assert!(matches!(decide_one(&new, c), Outcome::CoReport { .. }));
    }

    #[test]
    fn poor_accuracy_widens_the_search_into_the_review_band() {
        let mut new = report("voirie");
        new.accuracy_m = Some(80.0);
        let o = decide_one(&new, candidate(1, "voirie", 70.0));
        assert!(is_review(o), "{o:?}");
        new.accuracy_m = None;
        assert_eq!(
            decide_one(&new, candidate(1, "voirie", 70.0)),
            Outcome::NewRequest
        );
    }

    #[test]
    fn closed_or_old_requests_are_not_candidates() {
        let new = report("voirie");
        let mut closed = candidate(1, "voirie", 0.0);
        closed.open = false;
        assert_eq!(decide_one(&new, closed.clone()), Outcome::NewRequest);
        closed.age_days = 400.0;
        assert_eq!(decide_one(&new, closed), Outcome::NewRequest);

        let mut old = candidate(1, "voirie", 0.0);
        old.age_days = 30.5;
        assert_eq!(decide_one(&new, old.clone()), Outcome::NewRequest);
        // Still eligible at the end of the window, with less confidence.
        old.age_days = 29.9;
        assert!(is_review(decide_one(&new, old)));
    }

    #[test]
    fn clearly_different_photos_lower_the_score() {
        let mut new = report("voirie");
        new.photo_hashes = vec![PHOTO];
        let mut c = candidate(1, "voirie", 0.0);
        c.photo_hashes = vec![!PHOTO];
        assert!(is_review(decide_one(&new, c.clone())));
        // Hashes neither close nor far are no evidence either way.
        c.photo_hashes = vec![PHOTO ^ 0xffff_f000];
        let neutral = score(&DedupPolicy::default(), &new, &c);
        c.photo_hashes.clear();
        assert_eq!(neutral, score(&DedupPolicy::default(), &new, &c));
    }

    #[test]
    fn broken_inputs_never_merge() {
        let new = report("voirie");
        for (d, age) in [(f64::NAN, 0.0), (0.0, f64::NAN), (f64::INFINITY, 0.0)] {
            let mut c = candidate(1, "voirie", d);
            c.age_days = age;
            assert_eq!(score(&DedupPolicy::default(), &new, &c), 0.0);
        }
        let mut future = candidate(1, "voirie", 0.0);
        future.age_days = -0.01;
        assert_eq!(score(&DedupPolicy::default(), &new, &future), 1.0);
    }

    #[test]
    fn the_best_candidate_wins() {
        let mut closed = candidate(10, "voirie", 0.0);
        closed.open = false;
        let candidates = [
            candidate(11, "voirie", 40.0),
            closed,
            candidate(12, "eclairage", 0.0),
            candidate(13, "voirie", 8.0),
            candidate(14, "voirie", 20.0),
        ];
        let o = decide(
            &DedupPolicy::default(),
            &Thresholds::default(),
            &report("voirie"),
            &candidates,
        );
        assert!(
            matches!(o, Outcome::CoReport { request_id: 13, .. }),
            "{o:?}"
        );
    }

    #[test]
    fn ties_go_to_the_nearest() {
        // Sub-millimetre apart: both score exactly 1.
        let mut a = candidate(1, "voirie", 1e-7);
        let mut b = candidate(2, "voirie", 0.0);
        (a.age_days, b.age_days) = (0.0, 0.0);
        let policy = DedupPolicy::default();
        assert_eq!(score(&policy, &report("voirie"), &a), 1.0);
        for pair in [[a.clone(), b.clone()], [b, a]] {
            let o = decide(&policy, &Thresholds::default(), &report("voirie"), &pair);
            assert!(
                matches!(o, Outcome::CoReport { request_id: 2, .. }),
                "{o:?}"
            );
        }
    }

    #[test]
    fn radius_is_defaulted_and_capped() {
        assert_eq!(
            DedupPolicy::new(None, None, None).radius_m,
            DEFAULT_RADIUS_M
        );
        assert_eq!(
            DedupPolicy::new(Some(2000.0), None, None).radius_m,
            MAX_RADIUS_M
        );
        assert_eq!(DedupPolicy::new(Some(0.1), None, None).radius_m, 1.0);
        assert_eq!(DedupPolicy::new(Some(f64::NAN), None, None).radius_m, 50.0);
        assert_eq!(DedupPolicy::new(Some(20.0), Some(7), None).window_days, 7);
        assert_eq!(DedupPolicy::new(None, Some(0), None).window_days, 1);
        assert_eq!(DedupPolicy::new(None, None, None).window_days, 30);
        assert_eq!(DedupPolicy::new(None, None, Some(" ".into())).group, None);
    }

    #[test]
    fn widening_is_bounded() {
        let p = DedupPolicy::new(Some(2000.0), None, None);
        assert_eq!(p.search_radius_m(None), 500.0);
        assert_eq!(p.search_radius_m(Some(20.0)), 520.0);
        assert_eq!(p.search_radius_m(Some(1e9)), 550.0);
        assert_eq!(p.search_radius_m(Some(f64::NAN)), 500.0);
        assert_eq!(p.search_radius_m(Some(f64::INFINITY)), 500.0);
        assert_eq!(p.search_radius_m(Some(-30.0)), 500.0);
        // A policy deserialised with out-of-range values is bounded all the same.
        let raw = DedupPolicy {
            radius_m: 1e7,
            window_days: 30,
            group: None,
            max_accuracy_widening_m: f64::INFINITY,
        };
        assert_eq!(raw.search_radius_m(Some(100.0)), 500.0);
        assert_eq!(p.fetch_radius_m(None, true), 750.0);
        assert_eq!(p.fetch_radius_m(None, false), 500.0);
    }

    #[test]
    fn score_is_bounded_and_never_rises_with_distance() {
        let policy = DedupPolicy::default();
        let hashes = [vec![], vec![PHOTO], vec![!PHOTO], vec![PHOTO ^ 0xffff_f000]];
        for accuracy in [None, Some(10.0), Some(80.0)] {
            for (mine, theirs) in hashes
                .iter()
                .flat_map(|a| hashes.iter().map(move |b| (a, b)))
            {
                for (demarche, group, age) in [("voirie", None, 0.0), ("trou", Some("g"), 20.0)] {
                    let new = NewReport {
                        demarche: "voirie".into(),
                        group: Some("g".into()),
                        accuracy_m: accuracy,
                        photo_hashes: mine.clone(),
                    };
                    let mut c = candidate(1, demarche, 0.0);
                    c.group = group.map(Into::into);
                    c.age_days = age;
                    c.photo_hashes = theirs.clone();
                    let mut previous = f64::INFINITY;
                    for step in 0..=2000 {
                        c.distance_m = f64::from(step) * 0.1;
                        let s = score(&policy, &new, &c);
                        assert!((0.0..=1.0).contains(&s), "{s} at {}", c.distance_m);
                        assert!(s <= previous, "rises at {} m: {s}", c.distance_m);
                        previous = s;
                    }
                    assert_eq!(previous, 0.0);
                }
            }
        }
    }

    #[test]
    fn outcome_serialises_with_a_tag() {
        let json = serde_json::to_value(Outcome::CoReport {
            request_id: 4,
            score: 0.9,
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"outcome": "co_report", "request_id": 4, "score": 0.9})
        );
    }
}
