//! Geo math on the WGS84 sphere, through the `geo` crate. Distances are always in metres on
//! the ground, never in Web Mercator units (which shrink by cos(latitude): ~0.67 at Rennes).

use std::f64::consts::PI;

use geo::{Bearing, Destination, Distance, Haversine, Point};

/// Mean Earth radius (GRS80 R1) of `geo`'s [`Haversine`], the one PostGIS' spherical
/// computations use too, in metres.
pub const EARTH_RADIUS_M: f64 = Haversine.radius();

/// Half the circumference: no two points on the sphere are farther apart.
pub const MAX_DISTANCE_M: f64 = PI * EARTH_RADIUS_M;

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

    /// The same position as a `geo` point: x is the longitude, y the latitude.
    pub fn point(self) -> Point {
        Point::new(self.lon, self.lat)
    }
}

impl From<LatLon> for Point {
    fn from(p: LatLon) -> Self {
        p.point()
    }
}

impl From<Point> for LatLon {
    fn from(p: Point) -> Self {
        LatLon::new(p.y(), p.x())
    }
}

/// Great-circle distance in metres ([`Haversine`]).
/// The initial bearing from `a` to `b` on the sphere, in degrees: 0 is north, 90 east.
pub fn bearing_deg(a: LatLon, b: LatLon) -> f64 {
    Haversine.bearing(a.point(), b.point()).rem_euclid(360.0)
}

pub fn distance_m(a: LatLon, b: LatLon) -> f64 {
    // Between nearly antipodal points rounding can push the haversine term past 1, where the
    // arcsine is NaN; `min` returns the other operand for NaN, i.e. the largest distance.
    Haversine.distance(a.point(), b.point()).min(MAX_DISTANCE_M)
}

/// The point reached by walking `distance_m` metres from `from` on the initial `bearing_deg`
/// (0 = north, 90 = east), with its longitude in [-180, 180). Used to place test and demo
/// points at known distances.
pub fn destination(from: LatLon, bearing_deg: f64, distance_m: f64) -> LatLon {
    Haversine
        .destination(from.point(), bearing_deg, distance_m)
        .into()
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
    fn bearing_reads_back_the_direction_walked() {
        for bearing in [0.0, 45.0, 90.0, 200.0, 315.0] {
            let p = destination(RENNES_TOWN_HALL, bearing, 500.0);
            let b = bearing_deg(RENNES_TOWN_HALL, p);
            // Angles: 359.99999 is 0.
            let off = (b - bearing).rem_euclid(360.0);
            assert!(off.min(360.0 - off) < 0.01, "{bearing} → {b}");
            assert!((0.0..360.0).contains(&b), "{b}");
        }
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
    fn destinations_across_the_antimeridian_keep_longitudes_in_range() {
        let east = LatLon::new(10.0, 179.9999);
        let p = destination(east, 90.0, 1_000.0);
        assert!(p.is_valid() && p.lon < -179.99, "{p:?}");
        assert!((distance_m(east, p) - 1_000.0).abs() < 1e-6);
    }

    #[test]
    fn antipodes_are_half_a_circumference_apart() {
        for (a, b) in [
            (LatLon::new(0.0, 0.0), LatLon::new(0.0, 180.0)),
            (LatLon::new(90.0, 0.0), LatLon::new(-90.0, 0.0)),
            (RENNES_TOWN_HALL, LatLon::new(-48.111_339, 178.319_98)),
        ] {
            let d = distance_m(a, b);
            assert!(d.is_finite() && (d - MAX_DISTANCE_M).abs() < 1.0, "{d}");
        }
    }

    #[test]
    fn positions_and_geo_points_convert_both_ways() {
        let p: geo::Point = RENNES_TOWN_HALL.into();
        assert_eq!((p.x(), p.y()), (RENNES_TOWN_HALL.lon, RENNES_TOWN_HALL.lat));
        assert_eq!(LatLon::from(p), RENNES_TOWN_HALL);
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
