//! Zones (communes, districts, sectors): import from GeoJSON and point location.

use sqlx::{PgConnection, PgPool};

use super::DbError;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ZoneRef {
    pub id: i64,
    pub code: String,
    pub name: String,
}

pub struct ZoneInput<'a> {
    pub code: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub population: Option<i32>,
    /// `[lon, lat]` of the town hall, if known.
    pub town_hall: Option<[f64; 2]>,
    /// The GeoJSON geometry (Polygon or MultiPolygon), as text.
    pub geometry_geojson: &'a str,
}

/// Inserts or replaces a zone. Invalid rings are repaired (`ST_MakeValid`) rather than refused:
/// simplified open-data boundaries often self-touch.
pub async fn upsert(tx: &mut PgConnection, z: &ZoneInput<'_>) -> Result<i64, DbError> {
    let (hall_lon, hall_lat) = z
        .town_hall
        .map_or((None, None), |[lon, lat]| (Some(lon), Some(lat)));
    Ok(sqlx::query_scalar(
        "INSERT INTO zones (code, kind, name, population, town_hall, geom)
         VALUES ($1, $2, $3, $4,
                 CASE WHEN $5::float8 IS NULL THEN NULL
                      ELSE ST_SetSRID(ST_MakePoint($5, $6), 4326)::geography END,
                 ST_Multi(ST_CollectionExtract(
                     ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON($7), 4326)), 3)))
         ON CONFLICT (code) DO UPDATE
            SET kind = EXCLUDED.kind, name = EXCLUDED.name, population = EXCLUDED.population,
                town_hall = EXCLUDED.town_hall, geom = EXCLUDED.geom
         RETURNING id",
    )
    .bind(z.code)
    .bind(z.kind)
    .bind(z.name)
    .bind(z.population)
    .bind(hall_lon)
    .bind(hall_lat)
    .bind(z.geometry_geojson)
    .fetch_one(tx)
    .await?)
}

/// The most specific service-area zone containing the point, if the point is in the area.
pub async fn locate(pool: &PgPool, lat: f64, lon: f64) -> Result<Option<ZoneRef>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, code, name
           FROM zones
          WHERE in_service_area
            AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint($2, $1), 4326))
          ORDER BY ST_Area(geom)
          LIMIT 1",
    )
    .bind(lat)
    .bind(lon)
    .fetch_optional(pool)
    .await?)
}

pub async fn count(pool: &PgPool) -> Result<i64, DbError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM zones WHERE in_service_area")
            .fetch_one(pool)
            .await?,
    )
}

pub async fn id_by_code(pool: &PgPool, code: &str) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar("SELECT id FROM zones WHERE code = $1")
        .bind(code)
        .fetch_optional(pool)
        .await?)
}
