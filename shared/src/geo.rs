//! Geo math on the WGS84 sphere. Distances are always in metres on the ground, never in
//! Web Mercator units (which shrink by cos(latitude): ~0.67 at Rennes).

/// Mean Earth radius used by PostGIS' spherical computations, in metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A WGS84 position in decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

impl LatLon {
    pub fn new(lat: f64, lon: f64) -> Self {
        Self { lat, lon }
    }

    /// True when both coordinates are finite and within their ranges.
    pub fn is_valid(&self) -> bool {
        self.lat.is_finite()
            && self.lon.is_finite()
            && (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon)
    }
}

/// Great-circle distance in metres (haversine formula).
pub fn distance_m(a: LatLon, b: LatLon) -> f64 {
    let (phi1, phi2) = (a.lat.to_radians(), b.lat.to_radians());
    let dphi = (b.lat - a.lat).to_radians();
    let dlambda = (b.lon - a.lon).to_radians();
    let h = (dphi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (dlambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// The point reached by walking `distance_m` metres from `from` on the initial `bearing_deg`
/// (0 = north, 90 = east). Used to place test and demo points at known distances.
pub fn destination(from: LatLon, bearing_deg: f64, distance_m: f64) -> LatLon {
    let delta = distance_m / EARTH_RADIUS_M;
    let theta = bearing_deg.to_radians();
    let phi1 = from.lat.to_radians();
    let lambda1 = from.lon.to_radians();
    let phi2 = (phi1.sin() * delta.cos() + phi1.cos() * delta.sin() * theta.cos()).asin();
    let lambda2 = lambda1
        + (theta.sin() * delta.sin() * phi1.cos()).atan2(delta.cos() - phi1.sin() * phi2.sin());
    LatLon::new(phi2.to_degrees(), lambda2.to_degrees())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RENNES_TOWN_HALL: LatLon = LatLon {
        lat: 48.111_339,
        lon: -1.680_020,
    };

    #[test]
    fn one_degree_of_latitude_is_about_111_km() {
        let d = distance_m(LatLon::new(48.0, -1.68), LatLon::new(49.0, -1.68));
        assert!((d - 111_195.0).abs() < 50.0, "{d}");
    }

    #[test]
    fn a_degree_of_longitude_shrinks_with_latitude() {
        // At Rennes (48.1° N) one degree of longitude is ~74.3 km, not 111 km.
        let d = distance_m(LatLon::new(48.11, -1.0), LatLon::new(48.11, -2.0));
        assert!((d - 74_290.0).abs() < 200.0, "{d}");
    }

    #[test]
    fn destination_and_distance_agree() {
        for bearing in [0.0, 45.0, 90.0, 200.0, 315.0] {
            for metres in [1.0, 50.0, 300.0, 10_000.0] {
                let p = destination(RENNES_TOWN_HALL, bearing, metres);
                let back = distance_m(RENNES_TOWN_HALL, p);
                assert!(
                    (back - metres).abs() < 1e-6 * metres.max(1.0) + 1e-6,
                    "{bearing} {metres} {back}"
                );
            }
        }
    }

    #[test]
    fn validity_rejects_nan_and_out_of_range() {
        assert!(RENNES_TOWN_HALL.is_valid());
        assert!(!LatLon::new(f64::NAN, 0.0).is_valid());
        assert!(!LatLon::new(0.0, f64::INFINITY).is_valid());
        assert!(!LatLon::new(90.5, 0.0).is_valid());
        assert!(!LatLon::new(0.0, -180.01).is_valid());
        assert!(LatLon::new(-90.0, 180.0).is_valid());
    }
}
