//! Addresses of the Base Adresse Nationale: the import (a staging table filled by `COPY`, then
//! merged by BAN id), the nearest address of a point, and the address search.

use sqlx::postgres::PgCopyIn;
use sqlx::{PgConnection, PgPool};

use super::DbError;

/// One address as the import stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAddress {
    pub id: String,
    pub number: Option<i32>,
    pub rep: Option<String>,
    pub street: String,
    /// Empty when unknown.
    pub postcode: String,
    pub citycode: String,
    pub city: String,
    /// Empty unless the address lies in a former commune.
    pub old_city: String,
    pub lon: f64,
    pub lat: f64,
}

/// What an import changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Merged {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Addresses of the file's communes that the file no longer has.
    pub removed: u64,
    /// Communes whose addresses the file gave.
    pub communes: u64,
    /// Streets of those communes, as the search sees them.
    pub streets: u64,
}

/// Bytes sent to PostgreSQL at once.
const COPY_CHUNK_BYTES: usize = 1024 * 1024;

/// An import under way within the caller's transaction: an empty staging table (dropped at
/// commit) that a `COPY` fills, one chunk of rows at a time.
pub struct AddressCopy<'c> {
    copy: PgCopyIn<&'c mut PgConnection>,
    buffer: Vec<u8>,
}

impl<'c> AddressCopy<'c> {
    pub async fn begin(conn: &'c mut PgConnection) -> Result<AddressCopy<'c>, DbError> {
        sqlx::query("DROP TABLE IF EXISTS pg_temp.addresses_import")
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "CREATE TEMP TABLE addresses_import (
                 line bigint NOT NULL,
                 id text NOT NULL,
                 number integer,
                 rep text,
                 street text NOT NULL,
                 postcode text NOT NULL,
                 citycode text NOT NULL,
                 city text NOT NULL,
                 old_city text NOT NULL,
                 lon float8 NOT NULL,
                 lat float8 NOT NULL
             ) ON COMMIT DROP",
        )
        .execute(&mut *conn)
        .await?;
        let copy = conn
            .copy_in_raw(
                "COPY addresses_import (line, id, number, rep, street, postcode, citycode, city, \
                 old_city, lon, lat) FROM STDIN",
            )
            .await?;
        Ok(AddressCopy {
            copy,
            buffer: Vec::with_capacity(COPY_CHUNK_BYTES + 4096),
        })
    }

    /// Adds the address read on `line` of the file.
    pub async fn push(&mut self, line: u64, a: &NewAddress) -> Result<(), DbError> {
        push_row(&mut self.buffer, line, a);
        if self.buffer.len() >= COPY_CHUNK_BYTES {
            self.copy.send(std::mem::take(&mut self.buffer)).await?;
        }
        Ok(())
    }

    /// Sends the last rows; the staged rows are then ready for [`finish_import`].
    pub async fn finish(mut self) -> Result<u64, DbError> {
        if !self.buffer.is_empty() {
            self.copy.send(std::mem::take(&mut self.buffer)).await?;
        }
        Ok(self.copy.finish().await?)
    }

    /// Gives up (a malformed line): the transaction is then to be rolled back.
    pub async fn abort(self, why: &str) {
        if let Err(e) = self.copy.abort(why).await {
            tracing::debug!(error = %e, "address copy aborted");
        }
    }
}

/// Appends one row, in `COPY`'s text format.
fn push_row(out: &mut Vec<u8>, line: u64, a: &NewAddress) {
    let number = a.number.map(|n| n.to_string());
    out.extend_from_slice(line.to_string().as_bytes());
    for field in [
        Some(a.id.as_str()),
        number.as_deref(),
        a.rep.as_deref(),
        Some(a.street.as_str()),
        Some(a.postcode.as_str()),
        Some(a.citycode.as_str()),
        Some(a.city.as_str()),
        Some(a.old_city.as_str()),
    ] {
        out.push(b'\t');
        match field {
            None => out.extend_from_slice(b"\\N"),
            Some(text) => push_escaped(out, text),
        }
    }
    out.extend_from_slice(format!("\t{}\t{}\n", a.lon, a.lat).as_bytes());
}

fn push_escaped(out: &mut Vec<u8>, text: &str) {
    for b in text.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

/// Merges the staged rows into `addresses` by BAN id (the last line of an id wins), removes
/// the addresses of the staged communes that the file no longer has, and rebuilds those
/// communes' streets.
pub async fn finish_import(conn: &mut PgConnection) -> Result<Merged, DbError> {
    sqlx::query("CREATE INDEX ON addresses_import (id)")
        .execute(&mut *conn)
        .await?;
    sqlx::query("ANALYZE addresses_import")
        .execute(&mut *conn)
        .await?;
    let communes: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT citycode FROM addresses_import ORDER BY citycode")
            .fetch_all(&mut *conn)
            .await?;
    let (inserted, updated, distinct): (i64, i64, i64) = sqlx::query_as(
        "WITH src AS (
             SELECT DISTINCT ON (id) id, number, rep, street, postcode, citycode, city, old_city,
                    ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography AS location
               FROM addresses_import
              ORDER BY id, line DESC
         ),
         merged AS (
             INSERT INTO addresses AS a
                    (id, number, rep, street, postcode, citycode, city, old_city, location)
             SELECT id, number, rep, street, postcode, citycode, city, old_city, location FROM src
             ON CONFLICT (id) DO UPDATE
                SET number = EXCLUDED.number, rep = EXCLUDED.rep, street = EXCLUDED.street,
                    postcode = EXCLUDED.postcode, citycode = EXCLUDED.citycode,
                    city = EXCLUDED.city, old_city = EXCLUDED.old_city,
                    location = EXCLUDED.location
              WHERE (a.number, a.rep, a.street, a.postcode, a.citycode, a.city, a.old_city,
                     ST_AsEWKB(a.location::geometry))
                    IS DISTINCT FROM
                    (EXCLUDED.number, EXCLUDED.rep, EXCLUDED.street, EXCLUDED.postcode,
                     EXCLUDED.citycode, EXCLUDED.city, EXCLUDED.old_city,
                     ST_AsEWKB(EXCLUDED.location::geometry))
             RETURNING (xmax = 0) AS inserted
         )
         SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
                (SELECT count(*) FROM src)
           FROM merged",
    )
    .fetch_one(&mut *conn)
    .await?;
    let removed = sqlx::query(
        "DELETE FROM addresses a
          WHERE a.citycode = ANY($1)
            AND NOT EXISTS (SELECT 1 FROM addresses_import i WHERE i.id = a.id)",
    )
    .bind(&communes)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query("DELETE FROM address_streets WHERE citycode = ANY($1)")
        .bind(&communes)
        .execute(&mut *conn)
        .await?;
    let streets = sqlx::query(
        "INSERT INTO address_streets
                (citycode, old_city, street, postcode, city, addresses, location)
         SELECT DISTINCT ON (a.citycode, a.old_city, a.street, a.postcode)
                a.citycode, a.old_city, a.street, a.postcode, a.city, s.addresses, a.location
           FROM (SELECT citycode, old_city, street, postcode, count(*)::int AS addresses,
                        ST_Centroid(ST_Collect(location::geometry))::geography AS middle
                   FROM addresses
                  WHERE citycode = ANY($1)
                  GROUP BY citycode, old_city, street, postcode) s
           JOIN addresses a ON (a.citycode, a.old_city, a.street, a.postcode)
                             = (s.citycode, s.old_city, s.street, s.postcode)
          ORDER BY a.citycode, a.old_city, a.street, a.postcode,
                   ST_Distance(a.location, s.middle), a.id",
    )
    .bind(&communes)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(Merged {
        inserted: count(inserted),
        updated: count(updated),
        unchanged: count(distinct - inserted - updated),
        removed,
        communes: communes.len() as u64,
        streets,
    })
}

/// An address or a street, as the geocoding routes give it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Place {
    /// The BAN id of an address; `None` for a street.
    pub id: Option<String>,
    pub number: Option<i32>,
    pub rep: Option<String>,
    pub street: String,
    pub postcode: String,
    pub citycode: String,
    pub city: String,
    pub lat: f64,
    pub lon: f64,
    /// From the point asked about, in metres; `None` without one.
    pub distance_m: Option<f64>,
}

/// The nearest address within `radius_m` metres of the point.
pub async fn nearest(
    pool: &PgPool,
    lat: f64,
    lon: f64,
    radius_m: f64,
) -> Result<Option<Place>, DbError> {
    Ok(sqlx::query_as(
        "WITH p AS (SELECT ST_SetSRID(ST_MakePoint($2, $1), 4326)::geography AS point)
         SELECT a.id, a.number, a.rep, a.street, a.postcode, a.citycode, a.city,
                ST_Y(a.location::geometry) AS lat, ST_X(a.location::geometry) AS lon,
                ST_Distance(a.location, p.point) AS distance_m
           FROM addresses a, p
          WHERE ST_DWithin(a.location, p.point, $3)
          ORDER BY a.location <-> p.point, a.id
          LIMIT 1",
    )
    .bind(lat)
    .bind(lon)
    .bind(radius_m)
    .fetch_optional(pool)
    .await?)
}

/// An address search, as `addresses::SearchQuery` reads what was typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// The words of a street and commune (abbreviations written out).
    pub words: String,
    /// A number in the street, with its repetition index in lower case ("bis", "a").
    pub number: Option<i32>,
    pub rep: Option<String>,
    pub postcode: Option<String>,
    /// `(lat, lon)` to favour: the nearer, the higher.
    pub near: Option<(f64, f64)>,
    pub limit: i64,
}

/// The streets that match the words `$1`, each with its score (see [`search`]) and its
/// distance from the point (`$4` lat, `$5` lon) if one is given; `$3` is the postcode typed.
/// At most 2,000 are scored: a query as vague as "rue" matches thousands of streets equally,
/// and this bounds its cost. The nearness bonus halves every 2 km; its exponent is capped,
/// since PostgreSQL fails on a float that underflows (a point on the other side of the Earth
/// gave 0.5^10000) where the bonus is nil anyway.
macro_rules! matched_streets {
    () => {
        "WITH q AS (
             SELECT CASE WHEN $4::float8 IS NULL THEN NULL
                         ELSE ST_SetSRID(ST_MakePoint($5, $4), 4326)::geography END AS point
         ),
         candidates AS MATERIALIZED (
             SELECT st.* FROM address_streets st
              WHERE search_fold($1) <% st.search
              LIMIT 2000
         ),
         matched AS MATERIALIZED (
             SELECT c.*, ST_Distance(c.location, q.point) AS distance_m,
                    power(word_similarity(search_fold($1), c.search), 3)
                    + CASE WHEN c.postcode = $3 THEN 0.1 ELSE 0 END
                    + CASE WHEN q.point IS NULL THEN 0
                           ELSE 0.15 * power(0.5, LEAST(ST_Distance(c.location, q.point) / 2000, 1000))
                      END
                      AS score
               FROM candidates c, q
         )"
    };
}

/// The best matches: streets when no number was typed, else addresses of the 10 best
/// streets, the number typed first.
///
/// A street scores the cube of the word similarity (pg_trgm) of the words typed to "street
/// commune", so that a close match clearly beats a partial one, plus 0.1 for the postcode
/// typed, plus, with a point, up to 0.15 for nearness (halved every 2 km). An address adds to
/// its street's score 0.25 for the very number and repetition index typed, 0.1 for the number
/// with another index; the other numbers of the street follow, nearest number first.
pub async fn search(pool: &PgPool, s: &Search) -> Result<Vec<Place>, DbError> {
    let (near_lat, near_lon) = s
        .near
        .map_or((None, None), |(lat, lon)| (Some(lat), Some(lon)));
    let rows = if let Some(number) = s.number {
        sqlx::query_as(concat!(
            matched_streets!(),
            ",
             best AS (
                 SELECT * FROM matched ORDER BY score DESC, distance_m, citycode, street
                  LIMIT 10
             )
             SELECT a.id, a.number, a.rep, a.street, a.postcode, a.citycode, a.city,
                    ST_Y(a.location::geometry) AS lat, ST_X(a.location::geometry) AS lon,
                    ST_Distance(a.location, q.point) AS distance_m
               FROM best b
               CROSS JOIN q
               CROSS JOIN LATERAL (
                   SELECT a.*,
                          CASE WHEN a.number = $6 AND lower(coalesce(a.rep, '')) = $7 THEN 0.25
                               WHEN a.number = $6 THEN 0.1
                               ELSE 0 END AS bonus
                     FROM addresses a
                    WHERE (a.citycode, a.street, a.postcode, a.old_city)
                        = (b.citycode, b.street, b.postcode, b.old_city)
                    ORDER BY bonus DESC, abs(a.number - $6), a.number, a.rep NULLS FIRST, a.id
                    LIMIT $2
               ) a
              ORDER BY b.score + a.bonus DESC, abs(a.number - $6), b.distance_m,
                       a.number, a.rep NULLS FIRST, a.id
              LIMIT $2"
        ))
        .bind(&s.words)
        .bind(s.limit)
        .bind(s.postcode.as_deref())
        .bind(near_lat)
        .bind(near_lon)
        .bind(number)
        .bind(s.rep.as_deref().unwrap_or(""))
        .fetch_all(pool)
        .await?
    } else {
        sqlx::query_as(concat!(
            matched_streets!(),
            "
             SELECT NULL::text AS id, NULL::int AS number, NULL::text AS rep, street, postcode,
                    citycode, city, ST_Y(location::geometry) AS lat,
                    ST_X(location::geometry) AS lon, distance_m
               FROM matched
              ORDER BY score DESC, distance_m, citycode, street, postcode
              LIMIT $2"
        ))
        .bind(&s.words)
        .bind(s.limit)
        .bind(s.postcode.as_deref())
        .bind(near_lat)
        .bind(near_lon)
        .fetch_all(pool)
        .await?
    };
    Ok(rows)
}
