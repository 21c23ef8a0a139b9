//! The map of an agent's queue: the same filters as the queue, inside a viewport, read from
//! PostGIS (private requests included, for the agent's own teams) rather than from the public
//! index. Far out, requests are grouped on a grid; close up, each is a point.

use sqlx::{PgPool, Postgres, QueryBuilder};

use super::DbError;
use super::queue::{QueueFilter, QueueRow, push_filters, push_rows_of_picked};

#[derive(Debug, Clone, Copy)]
pub struct Viewport {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Group {
    pub count: i64,
    pub lat: f64,
    pub lon: f64,
}

fn push_inside(q: &mut QueryBuilder<'_, Postgres>, f: &QueueFilter, v: Viewport) {
    q.push(" WHERE r.location && ST_MakeEnvelope(")
        .push_bind(v.min_lon)
        .push(", ")
        .push_bind(v.min_lat)
        .push(", ")
        .push_bind(v.max_lon)
        .push(", ")
        .push_bind(v.max_lat)
        .push(", 4326)::geography");
    if let Some(teams) = &f.teams {
        q.push(" AND r.team_id = ANY(")
            .push_bind(teams.clone())
            .push(")");
    }
    push_filters(q, f);
}

/// The requests of the viewport grouped on a grid of `cell` degrees: each group's count and
/// centre.
pub async fn groups(
    pool: &PgPool,
    f: &QueueFilter,
    v: Viewport,
    cell: f64,
) -> Result<Vec<Group>, DbError> {
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT count(*) AS count,
                ST_Y(ST_Centroid(ST_Collect(r.location::geometry))) AS lat,
                ST_X(ST_Centroid(ST_Collect(r.location::geometry))) AS lon
           FROM requests r",
    );
    push_inside(&mut q, f, v);
    q.push(" GROUP BY ST_SnapToGrid(r.location::geometry, ")
        .push_bind(cell)
        .push(")");
    Ok(q.build_query_as().fetch_all(pool).await?)
}

/// The requests of the viewport themselves, newest first, at most `limit`.
pub async fn points(
    pool: &PgPool,
    f: &QueueFilter,
    v: Viewport,
    limit: i64,
) -> Result<Vec<QueueRow>, DbError> {
    let mut q: QueryBuilder<Postgres> =
        QueryBuilder::new("WITH picked AS (SELECT r.id FROM requests r");
    push_inside(&mut q, f, v);
    q.push(" ORDER BY r.created_at DESC, r.id DESC LIMIT ")
        .push_bind(limit)
        .push(")");
    push_rows_of_picked(&mut q, limit);
    Ok(q.build_query_as().fetch_all(pool).await?)
}
