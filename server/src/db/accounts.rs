//! Agents, citizens, their sessions and e-mail verifications.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use super::DbError;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgentRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub active: bool,
    pub team_ids: Vec<i64>,
    /// Whether a second factor is enrolled.
    pub totp_enrolled: bool,
}

const AGENT_COLUMNS: &str = "a.id, a.email, a.name, a.role, a.password_hash, a.active, \
     (a.totp_secret IS NOT NULL) AS totp_enrolled, \
     COALESCE(ARRAY(SELECT team_id FROM agent_teams t WHERE t.agent_id = a.id ORDER BY team_id), \
     '{}') AS team_ids";

pub async fn agent_by_email(pool: &PgPool, email: &str) -> Result<Option<AgentRow>, DbError> {
    let sql = format!("SELECT {AGENT_COLUMNS} FROM agents a WHERE a.email = lower($1)");
    Ok(sqlx::query_as(&sql)
        .bind(email)
        .fetch_optional(pool)
        .await?)
}

pub async fn agent_by_id(pool: &PgPool, id: i64) -> Result<Option<AgentRow>, DbError> {
    let sql = format!("SELECT {AGENT_COLUMNS} FROM agents a WHERE a.id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?)
}

/// The active agent holding a live session token (by its digest): not expired, and used
/// within the last `idle_secs`. The call counts as use (a sliding idle time).
pub async fn agent_by_session(
    pool: &PgPool,
    digest: &[u8],
    idle_secs: f64,
) -> Result<Option<AgentRow>, DbError> {
    let sql = format!(
        "WITH s AS (UPDATE sessions SET last_seen_at = now() \
                     WHERE token_sha256 = $1 AND agent_id IS NOT NULL AND expires_at > now() \
                       AND last_seen_at > now() - make_interval(secs => $2) \
                 RETURNING agent_id) \
         SELECT {AGENT_COLUMNS} FROM s JOIN agents a ON a.id = s.agent_id WHERE a.active"
    );
    Ok(sqlx::query_as(&sql)
        .bind(digest)
        .bind(idle_secs)
        .fetch_optional(pool)
        .await?)
}

/// Activates or deactivates an agent; a deactivated agent's sessions end in the same
/// transaction. False when there is no such agent.
pub async fn set_agent_active(pool: &PgPool, agent_id: i64, active: bool) -> Result<bool, DbError> {
    let mut tx = pool.begin().await?;
    let found = sqlx::query("UPDATE agents SET active = $2 WHERE id = $1")
        .bind(agent_id)
        .bind(active)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        > 0;
    if found && !active {
        end_agent_sessions(&mut tx, agent_id, None).await?;
    }
    tx.commit().await?;
    Ok(found)
}

/// Deletes what can no longer be used: expired sessions, agents' sessions idle for longer
/// than `agent_idle_secs`, and verification and reset links that are used or expired.
pub async fn purge_sessions(pool: &PgPool, agent_idle_secs: f64) -> Result<u64, DbError> {
    let sessions = sqlx::query(
        "DELETE FROM sessions WHERE expires_at <= now() \
            OR (agent_id IS NOT NULL AND last_seen_at <= now() - make_interval(secs => $1))",
    )
    .bind(agent_idle_secs)
    .execute(pool)
    .await?
    .rows_affected();
    let verifications = sqlx::query(
        "DELETE FROM email_verifications WHERE used_at IS NOT NULL OR expires_at <= now()",
    )
    .execute(pool)
    .await?
    .rows_affected();
    let resets =
        sqlx::query("DELETE FROM password_resets WHERE used_at IS NOT NULL OR expires_at <= now()")
            .execute(pool)
            .await?
            .rows_affected();
    Ok(sessions + verifications + resets)
}

pub struct NewAgent<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub password_hash: &'a str,
    pub team_codes: &'a [String],
}

/// Creates or updates an agent by e-mail and sets its team memberships to exactly those given.
/// The password is set anew, so their sessions end.
pub async fn upsert_agent(tx: &mut PgConnection, a: &NewAgent<'_>) -> Result<i64, DbError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO agents (email, name, role, password_hash) VALUES (lower($1), $2, $3, $4) \
         ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role, \
         password_hash = EXCLUDED.password_hash \
         RETURNING id",
    )
    .bind(a.email)
    .bind(a.name)
    .bind(a.role)
    .bind(a.password_hash)
    .fetch_one(&mut *tx)
    .await?;
    set_teams(tx, id, a).await?;
    // A password set for them: whoever held their sessions holds them no more.
    end_agent_sessions(tx, id, None).await?;
    Ok(id)
}

/// Creates the agent unless one has this e-mail already, which is left as it is (its
/// password above all). Returns the new agent's id.
pub async fn insert_agent_if_missing(
    tx: &mut PgConnection,
    a: &NewAgent<'_>,
) -> Result<Option<i64>, DbError> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO agents (email, name, role, password_hash) VALUES (lower($1), $2, $3, $4) \
         ON CONFLICT (email) DO NOTHING RETURNING id",
    )
    .bind(a.email)
    .bind(a.name)
    .bind(a.role)
    .bind(a.password_hash)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = id {
        set_teams(tx, id, a).await?;
    }
    Ok(id)
}

async fn set_teams(tx: &mut PgConnection, id: i64, a: &NewAgent<'_>) -> Result<(), DbError> {
    sqlx::query("DELETE FROM agent_teams WHERE agent_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let inserted = sqlx::query(
        "INSERT INTO agent_teams (agent_id, team_id) \
         SELECT $1, id FROM teams WHERE code = ANY($2)",
    )
    .bind(id)
    .bind(a.team_codes)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() as usize != a.team_codes.len() {
        return Err(DbError::Data(format!(
            "agent {}: unknown team among {:?}",
            a.email, a.team_codes
        )));
    }
    Ok(())
}

/// The e-mail and password hash of the active agents among `emails`.
pub async fn active_password_hashes(
    pool: &PgPool,
    emails: &[String],
) -> Result<Vec<(String, String)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT email, password_hash FROM agents WHERE active AND email = ANY($1) ORDER BY email",
    )
    .bind(emails)
    .fetch_all(pool)
    .await?)
}

pub async fn create_agent_session(
    pool: &PgPool,
    agent_id: i64,
    digest: &[u8],
    expires_at: OffsetDateTime,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO sessions (token_sha256, agent_id, expires_at) VALUES ($1, $2, $3)")
        .bind(digest)
        .bind(agent_id)
        .bind(expires_at)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn create_citizen_session(
    pool: &PgPool,
    citizen_id: i64,
    digest: &[u8],
    expires_at: OffsetDateTime,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO sessions (token_sha256, citizen_id, expires_at) VALUES ($1, $2, $3)")
        .bind(digest)
        .bind(citizen_id)
        .bind(expires_at)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn delete_session(pool: &PgPool, digest: &[u8]) -> Result<(), DbError> {
    sqlx::query("DELETE FROM sessions WHERE token_sha256 = $1")
        .bind(digest)
        .execute(pool)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CitizenRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub lang: String,
    pub password_hash: String,
    pub email_verified_at: Option<OffsetDateTime>,
}

const CITIZEN_COLUMNS: &str = "c.id, c.email, c.name, c.lang, c.password_hash, c.email_verified_at";

pub async fn citizen_by_email(pool: &PgPool, email: &str) -> Result<Option<CitizenRow>, DbError> {
    let sql = format!("SELECT {CITIZEN_COLUMNS} FROM citizens c WHERE c.email = lower($1)");
    Ok(sqlx::query_as(&sql)
        .bind(email)
        .fetch_optional(pool)
        .await?)
}

pub async fn citizen_by_session(
    pool: &PgPool,
    digest: &[u8],
) -> Result<Option<CitizenRow>, DbError> {
    let sql = format!(
        "SELECT {CITIZEN_COLUMNS} FROM sessions s JOIN citizens c ON c.id = s.citizen_id \
         WHERE s.token_sha256 = $1 AND s.expires_at > now()"
    );
    Ok(sqlx::query_as(&sql)
        .bind(digest)
        .fetch_optional(pool)
        .await?)
}

/// Inserts a citizen; `None` when the e-mail already has an account.
pub async fn insert_citizen(
    tx: &mut PgConnection,
    email: &str,
    name: &str,
    lang: &str,
    password_hash: &str,
) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO citizens (email, name, lang, password_hash) VALUES (lower($1), $2, $3, $4) \
         ON CONFLICT (email) DO NOTHING RETURNING id",
    )
    .bind(email)
    .bind(name)
    .bind(lang)
    .bind(password_hash)
    .fetch_optional(&mut *tx)
    .await?)
}

/// Registration again of an address whose account was never verified: whoever registered it
/// first proved nothing, so the new registrant's password replaces theirs, and their sessions
/// and pending links end. Returns the account, `None` when the address has no unverified one.
pub async fn reregister_unverified(
    tx: &mut PgConnection,
    email: &str,
    name: &str,
    lang: &str,
    password_hash: &str,
) -> Result<Option<i64>, DbError> {
    let id: Option<i64> = sqlx::query_scalar(
        "UPDATE citizens SET password_hash = $2, name = $3, lang = $4 \
          WHERE email = lower($1) AND email_verified_at IS NULL RETURNING id",
    )
    .bind(email)
    .bind(password_hash)
    .bind(name)
    .bind(lang)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = id {
        end_citizen_sessions(tx, id, None).await?;
        sqlx::query("DELETE FROM email_verifications WHERE citizen_id = $1 AND used_at IS NULL")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM password_resets WHERE citizen_id = $1 AND used_at IS NULL")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(id)
}

/// Ends every session of a citizen but `keep` (the digest of the caller's own token).
pub async fn end_citizen_sessions(
    conn: &mut PgConnection,
    citizen_id: i64,
    keep: Option<&[u8]>,
) -> Result<u64, DbError> {
    Ok(sqlx::query(
        "DELETE FROM sessions WHERE citizen_id = $1 AND token_sha256 IS DISTINCT FROM $2",
    )
    .bind(citizen_id)
    .bind(keep)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// Ends every session of an agent but `keep`.
pub async fn end_agent_sessions(
    conn: &mut PgConnection,
    agent_id: i64,
    keep: Option<&[u8]>,
) -> Result<u64, DbError> {
    Ok(
        sqlx::query(
            "DELETE FROM sessions WHERE agent_id = $1 AND token_sha256 IS DISTINCT FROM $2",
        )
        .bind(agent_id)
        .bind(keep)
        .execute(&mut *conn)
        .await?
        .rows_affected(),
    )
}

/// A citizen's new password; their other sessions end in the same transaction.
pub async fn set_citizen_password(
    pool: &PgPool,
    citizen_id: i64,
    password_hash: &str,
    keep_session: Option<&[u8]>,
) -> Result<(), DbError> {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE citizens SET password_hash = $2 WHERE id = $1")
        .bind(citizen_id)
        .bind(password_hash)
        .execute(&mut *tx)
        .await?;
    end_citizen_sessions(&mut tx, citizen_id, keep_session).await?;
    tx.commit().await?;
    Ok(())
}

/// An agent's new password; their other sessions end in the same transaction.
pub async fn set_agent_password(
    pool: &PgPool,
    agent_id: i64,
    password_hash: &str,
    keep_session: Option<&[u8]>,
) -> Result<(), DbError> {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE agents SET password_hash = $2 WHERE id = $1")
        .bind(agent_id)
        .bind(password_hash)
        .execute(&mut *tx)
        .await?;
    end_agent_sessions(&mut tx, agent_id, keep_session).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn insert_password_reset(
    tx: &mut PgConnection,
    citizen_id: i64,
    digest: &[u8],
    expires_at: OffsetDateTime,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO password_resets (token_sha256, citizen_id, expires_at) VALUES ($1, $2, $3)",
    )
    .bind(digest)
    .bind(citizen_id)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Uses a reset link once: sets the password, ends every session and every other pending
/// link of the account, and counts the address as verified (the link reached its mailbox).
/// Returns the citizen, `None` for an unknown, used or expired link.
pub async fn use_password_reset(
    pool: &PgPool,
    digest: &[u8],
    password_hash: &str,
) -> Result<Option<i64>, DbError> {
    let mut tx = pool.begin().await?;
    let citizen: Option<i64> = sqlx::query_scalar(
        "UPDATE password_resets SET used_at = now() \
         WHERE token_sha256 = $1 AND used_at IS NULL AND expires_at > now() \
         RETURNING citizen_id",
    )
    .bind(digest)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = citizen {
        sqlx::query(
            "UPDATE citizens SET password_hash = $2, \
                    email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1",
        )
        .bind(id)
        .bind(password_hash)
        .execute(&mut *tx)
        .await?;
        end_citizen_sessions(&mut tx, id, None).await?;
        sqlx::query("DELETE FROM password_resets WHERE citizen_id = $1 AND used_at IS NULL")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(citizen)
}

pub async fn insert_verification(
    tx: &mut PgConnection,
    citizen_id: i64,
    digest: &[u8],
    expires_at: OffsetDateTime,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO email_verifications (token_sha256, citizen_id, expires_at) VALUES ($1, $2, $3)",
    )
    .bind(digest)
    .bind(citizen_id)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Uses a verification token once; returns the citizen it verified.
pub async fn use_verification(pool: &PgPool, digest: &[u8]) -> Result<Option<i64>, DbError> {
    let mut tx = pool.begin().await?;
    let citizen: Option<i64> = sqlx::query_scalar(
        "UPDATE email_verifications SET used_at = now() \
         WHERE token_sha256 = $1 AND used_at IS NULL AND expires_at > now() \
         RETURNING citizen_id",
    )
    .bind(digest)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = citizen {
        sqlx::query(
            "UPDATE citizens SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(citizen)
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct AgentSummary {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub active: bool,
    pub teams: Vec<String>,
}

pub async fn list_agents(pool: &PgPool) -> Result<Vec<AgentSummary>, DbError> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.email, a.name, a.role, a.active,
                COALESCE(ARRAY(SELECT t.code FROM agent_teams x JOIN teams t ON t.id = x.team_id
                                WHERE x.agent_id = a.id ORDER BY t.code), '{}') AS teams
           FROM agents a ORDER BY a.email",
    )
    .fetch_all(pool)
    .await?)
}

/// When the failures of `account` from `client` stop blocking it: `None` while fewer than
/// `max` failed within the last `window_secs`, else the moment the `max`-th most recent one
/// leaves the window.
pub async fn login_blocked_until(
    pool: &PgPool,
    realm: &str,
    account: &str,
    client: &str,
    max: i64,
    window_secs: f64,
) -> Result<Option<OffsetDateTime>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT at + make_interval(secs => $5) FROM login_failures \
          WHERE realm = $1 AND account = $2 AND client = $3 \
            AND at > now() - make_interval(secs => $5) \
          ORDER BY at DESC OFFSET $4 - 1 LIMIT 1",
    )
    .bind(realm)
    .bind(account)
    .bind(client)
    .bind(max)
    .bind(window_secs)
    .fetch_optional(pool)
    .await?)
}

pub async fn record_login_failure(
    pool: &PgPool,
    realm: &str,
    account: &str,
    client: &str,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO login_failures (realm, account, client) VALUES ($1, $2, $3)")
        .bind(realm)
        .bind(account)
        .bind(client)
        .execute(pool)
        .await?;
    Ok(())
}

/// A successful login forgets the failures of this account from this client.
pub async fn clear_login_failures(
    pool: &PgPool,
    realm: &str,
    account: &str,
    client: &str,
) -> Result<(), DbError> {
    sqlx::query("DELETE FROM login_failures WHERE realm = $1 AND account = $2 AND client = $3")
        .bind(realm)
        .bind(account)
        .bind(client)
        .execute(pool)
        .await?;
    Ok(())
}

/// Forgets failures older than `window_secs`: they no longer count.
pub async fn purge_login_failures(pool: &PgPool, window_secs: f64) -> Result<u64, DbError> {
    Ok(
        sqlx::query("DELETE FROM login_failures WHERE at < now() - make_interval(secs => $1)")
            .bind(window_secs)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

/// An agent's second factor: the enrolled secret, the one being enrolled, the last step used.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TotpRow {
    pub totp_secret: Option<Vec<u8>>,
    pub totp_pending: Option<Vec<u8>>,
    pub totp_last_step: Option<i64>,
}

pub async fn agent_totp(pool: &PgPool, agent_id: i64) -> Result<Option<TotpRow>, DbError> {
    Ok(
        sqlx::query_as(
            "SELECT totp_secret, totp_pending, totp_last_step FROM agents WHERE id = $1",
        )
        .bind(agent_id)
        .fetch_optional(pool)
        .await?,
    )
}

/// Keeps a new secret until a code confirms it (replacing any earlier unconfirmed one).
pub async fn set_totp_pending(pool: &PgPool, agent_id: i64, secret: &[u8]) -> Result<(), DbError> {
    sqlx::query("UPDATE agents SET totp_pending = $2 WHERE id = $1 AND totp_secret IS NULL")
        .bind(agent_id)
        .bind(secret)
        .execute(pool)
        .await?;
    Ok(())
}

/// The pending secret becomes the agent's second factor; `step` (the code that confirmed it)
/// is used. False when nothing was pending any more.
pub async fn confirm_totp(pool: &PgPool, agent_id: i64, step: i64) -> Result<bool, DbError> {
    Ok(sqlx::query(
        "UPDATE agents SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $2 \
          WHERE id = $1 AND totp_pending IS NOT NULL AND totp_secret IS NULL",
    )
    .bind(agent_id)
    .bind(step)
    .execute(pool)
    .await?
    .rows_affected()
        > 0)
}

/// Uses a time step once: false when it (or a later one) was used already, so that a code
/// seen over someone's shoulder cannot be replayed.
pub async fn use_totp_step(pool: &PgPool, agent_id: i64, step: i64) -> Result<bool, DbError> {
    Ok(sqlx::query(
        "UPDATE agents SET totp_last_step = $2 \
          WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
    )
    .bind(agent_id)
    .bind(step)
    .execute(pool)
    .await?
    .rows_affected()
        > 0)
}

/// Removes an agent's second factor (a lost phone) and ends their sessions. False when there
/// is no such agent.
pub async fn reset_totp(pool: &PgPool, agent_id: i64) -> Result<bool, DbError> {
    let mut tx = pool.begin().await?;
    let found = sqlx::query(
        "UPDATE agents SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL \
          WHERE id = $1",
    )
    .bind(agent_id)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        > 0;
    if found {
        end_agent_sessions(&mut tx, agent_id, None).await?;
    }
    tx.commit().await?;
    Ok(found)
}

/// What an account filed, as its holder downloads it: each request's form answers and the
/// contact given, beside what the public view shows.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CitizenData {
    pub number: String,
    pub data: serde_json::Value,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    /// The names of the files attached.
    pub files: Vec<String>,
}

pub async fn citizen_data(pool: &PgPool, citizen_id: i64) -> Result<Vec<CitizenData>, DbError> {
    Ok(sqlx::query_as(
        "SELECT r.number, r.data, r.contact_name, r.contact_email, r.contact_phone,
                coalesce(array_agg(f.filename ORDER BY f.field_id, f.position)
                           FILTER (WHERE f.id IS NOT NULL), '{}') AS files
           FROM requests r
           LEFT JOIN request_files f ON f.request_id = r.id
          WHERE r.citizen_id = $1
          GROUP BY r.id
          ORDER BY r.created_at DESC",
    )
    .bind(citizen_id)
    .fetch_all(pool)
    .await?)
}

/// The open requests of an account, for its closing.
pub async fn open_requests_of(pool: &PgPool, citizen_id: i64) -> Result<Vec<String>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT number FROM requests
          WHERE citizen_id = $1 AND phase IN ('received', 'in_progress', 'waiting_for_citizen')
          ORDER BY id",
    )
    .bind(citizen_id)
    .fetch_all(pool)
    .await?)
}

/// Form fields that say who someone is, by the ids the catalogue's forms use.
const IDENTITY_FIELDS: &str = "{last_name,first_name,first_names,usual_name,full_name,name,email,contact_email,phone,contact_phone,birth_date,birth_place,recipient_name,person_last_name,person_first_names,other_spouse_name,owner_last_name,owner_first_name,owner_birth_date,keyholder_name,keyholder_phone}";

/// Closes an account: its requests lose the link to it, the contact it gave and the form
/// fields that name the person (the service keeps them, detached, for its own retention),
/// then the account goes with its sessions and links.
pub async fn erase_citizen(tx: &mut PgConnection, citizen_id: i64) -> Result<u64, DbError> {
    let detached = sqlx::query(
        "UPDATE requests SET citizen_id = NULL, contact_name = NULL, contact_email = NULL,
                contact_phone = NULL, data = data - $2::text[]
          WHERE citizen_id = $1",
    )
    .bind(citizen_id)
    .bind(IDENTITY_FIELDS)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query("DELETE FROM citizens WHERE id = $1")
        .bind(citizen_id)
        .execute(&mut *tx)
        .await?;
    Ok(detached)
}
