//! The agents' morning digest: who asked for it, and the scheduling of its daily job.

use sqlx::PgPool;

use super::DbError;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Subscriber {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub team_ids: Vec<i64>,
}

/// Active agents who asked for the digest, with their teams.
pub async fn subscribers(pool: &PgPool) -> Result<Vec<Subscriber>, DbError> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.email, a.name, a.role,
                coalesce(array_agg(at.team_id) FILTER (WHERE at.team_id IS NOT NULL), '{}')
                    AS team_ids
           FROM agents a LEFT JOIN agent_teams at ON at.agent_id = a.id
          WHERE a.active AND a.daily_digest
          GROUP BY a.id
          ORDER BY a.id",
    )
    .fetch_all(pool)
    .await?)
}

pub async fn wants_digest(pool: &PgPool, agent_id: i64) -> Result<bool, DbError> {
    Ok(
        sqlx::query_scalar("SELECT daily_digest FROM agents WHERE id = $1")
            .bind(agent_id)
            .fetch_one(pool)
            .await?,
    )
}

pub async fn set_digest(pool: &PgPool, agent_id: i64, on: bool) -> Result<(), DbError> {
    sqlx::query("UPDATE agents SET daily_digest = $2 WHERE id = $1")
        .bind(agent_id)
        .bind(on)
        .execute(pool)
        .await?;
    Ok(())
}

/// Queues the next digest job at `hour` o'clock city time: today's if still to come, else
/// tomorrow's, and never for `done` (the day just sent) or before. One job per day whatever
/// the number of instances: its dedup key is the day.
pub async fn schedule_next(
    pool: &PgPool,
    kind: &str,
    hour: i32,
    done: Option<time::Date>,
) -> Result<(), DbError> {
    sqlx::query(
        "WITH next AS (
             SELECT greatest(CASE WHEN local_now < today_at THEN today_at
                                  ELSE today_at + interval '1 day' END,
                             coalesce($3::date + 1, '-infinity'::date)
                                 + make_interval(hours => $2)) AS at_local
               FROM (SELECT now() AT TIME ZONE 'Europe/Paris' AS local_now,
                            date_trunc('day', now() AT TIME ZONE 'Europe/Paris')
                                + make_interval(hours => $2) AS today_at) t
         )
         INSERT INTO outbox_jobs (kind, payload, run_at, dedup_key, max_attempts)
         SELECT $1, jsonb_build_object('day', to_char(at_local, 'YYYY-MM-DD')),
                at_local AT TIME ZONE 'Europe/Paris',
                $1 || ':' || to_char(at_local, 'YYYY-MM-DD'), 3
           FROM next
         ON CONFLICT (dedup_key) DO NOTHING",
    )
    .bind(kind)
    .bind(hour)
    .bind(done)
    .execute(pool)
    .await?;
    Ok(())
}
