//! The phone desk's search: a caller's requests by number, name, e-mail, phone, address or
//! words of the description, in every phase, among the teams the agent may see. Words go
//! through PostgreSQL's French full-text search (accents folded) on the vectors of requests
//! and of their reports (co-reporters are callers too); numbers and account e-mails are
//! matched exactly.

use sqlx::{PgPool, Postgres, QueryBuilder};

use super::DbError;
use super::queue::{QueueRow, push_rows_of_picked};

#[derive(Debug, Clone)]
pub struct Search {
    /// What the agent typed, or the phone number it reads as, in E.164.
    pub text: String,
    /// The digits of a request number's sequence ("123" → "000123"), when the text is one.
    pub sequence: Option<String>,
    /// `None`: every team (admins).
    pub teams: Option<Vec<i64>>,
    pub limit: i64,
}

/// The matching requests, newest first.
pub async fn search(pool: &PgPool, s: &Search) -> Result<Vec<QueueRow>, DbError> {
    let mut q: QueryBuilder<Postgres> =
        QueryBuilder::new("WITH words AS (SELECT websearch_to_tsquery('french', search_fold(");
    q.push_bind(s.text.clone()).push(
        ")) AS tsq),
         hits AS (
             SELECT r.id FROM requests r, words WHERE r.search @@ words.tsq
             UNION
             SELECT rp.request_id FROM reports rp, words WHERE rp.search @@ words.tsq
             UNION
             SELECT r.id FROM requests r WHERE r.number = upper(",
    );
    q.push_bind(s.text.clone()).push(
        ")
             UNION
             SELECT r.id FROM requests r JOIN citizens c ON c.id = r.citizen_id
              WHERE lower(c.email) = lower(",
    );
    q.push_bind(s.text.clone()).push(")");
    if let Some(seq) = &s.sequence {
        q.push(" UNION SELECT r.id FROM requests r WHERE split_part(r.number, '-', 3) = ")
            .push_bind(seq.clone());
    }
    q.push(
        "),
         picked AS (
             SELECT r.id FROM hits JOIN requests r ON r.id = hits.id WHERE TRUE",
    );
    if let Some(teams) = &s.teams {
        q.push(" AND r.team_id = ANY(")
            .push_bind(teams.clone())
            .push(")");
    }
    q.push(" ORDER BY r.created_at DESC, r.id DESC LIMIT ")
        .push_bind(s.limit)
        .push(")");
    push_rows_of_picked(&mut q, s.limit);
    Ok(q.build_query_as().fetch_all(pool).await?)
}
