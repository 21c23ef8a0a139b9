//! Who may read or act on a request without being an agent, from what they hold: a tracking
//! code, a follow token, or the account that filed it (see `crate::codes`).
//!
//! | holds | reads | acts (message, complement, withdraw) |
//! |---|---|---|
//! | the filer's code, or the filing account | the filer's view | yes |
//! | the filer's follow link | the filer's view | no |
//! | a co-reporter's or supporter's code or follow link | the follower's view | no |
//! | the code or link of a request merged into this one | the follower's view | no |
//!
//! Reading follows merges: a code or link that opens nothing on a request merged into another
//! opens the request it was merged into, with whatever it holds there.

use guichet_shared::timeline::Reader;

use crate::codes::{self, Follow, GivenToken, SecretKey};
use crate::db::{self, DbError, requests::RequestRow};

/// What the caller holds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Credentials<'a> {
    pub tracking_code: Option<&'a str>,
    pub follow: Option<&'a str>,
    /// The signed-in citizen account.
    pub citizen_id: Option<i64>,
}

/// What the caller may do with the request they were let into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub reader: Reader,
    pub may_act: bool,
}

const FILER: Grant = Grant {
    reader: Reader::Filer,
    may_act: true,
};
const FILER_READING: Grant = Grant {
    reader: Reader::Filer,
    may_act: false,
};
const FOLLOWER: Grant = Grant {
    reader: Reader::Follower,
    may_act: false,
};

/// A merge chain longer than this is not followed (merges cannot loop, but a bound is cheap).
const MAX_MERGE_HOPS: usize = 16;

/// The request that `number` names, or the one it was merged into, with what the caller may
/// do there; `None` when their credentials open neither (or the number is unknown).
pub async fn to_read(
    db: &sqlx::PgPool,
    key: Option<&SecretKey>,
    number: &str,
    creds: Credentials<'_>,
) -> Result<Option<(RequestRow, Grant)>, DbError> {
    let mut number = number.to_owned();
    for _ in 0..MAX_MERGE_HOPS {
        let Some(row) = db::requests::by_number(db, &number).await? else {
            return Ok(None);
        };
        if let Some(grant) = grant(db, key, &row, creds).await? {
            return Ok(Some((row, grant)));
        }
        match row.merged_into {
            Some(next) => number = next,
            None => return Ok(None),
        }
    }
    Ok(None)
}

/// The request that `number` names if the caller may act on it: its filer's code or account.
pub async fn to_act(
    db: &sqlx::PgPool,
    number: &str,
    creds: Credentials<'_>,
) -> Result<Option<RequestRow>, DbError> {
    let Some(row) = db::requests::by_number(db, number).await? else {
        return Ok(None);
    };
    let by_account = creds
        .citizen_id
        .is_some_and(|id| row.citizen_id == Some(id));
    let by_code = creds
        .tracking_code
        .and_then(codes::digest_of_given)
        .is_some_and(|d| codes::same_digest(&d, &row.tracking_code_digest));
    Ok((by_account || by_code).then_some(row))
}

/// The best of what the credentials give on this very request.
async fn grant(
    db: &sqlx::PgPool,
    key: Option<&SecretKey>,
    row: &RequestRow,
    creds: Credentials<'_>,
) -> Result<Option<Grant>, DbError> {
    if creds
        .citizen_id
        .is_some_and(|id| row.citizen_id == Some(id))
    {
        return Ok(Some(FILER));
    }
    let code = creds.tracking_code.and_then(codes::digest_of_given);
    if code
        .as_deref()
        .is_some_and(|d| codes::same_digest(d, &row.tracking_code_digest))
    {
        return Ok(Some(FILER));
    }
    if let (Some(key), Some(token)) = (key, creds.follow.and_then(GivenToken::parse))
        && let Some(grant) = by_token(db, key, row, &token).await?
    {
        return Ok(Some(grant));
    }
    if let Some(d) = code
        && db::codes::follows(db, row.id, &d).await?
    {
        return Ok(Some(FOLLOWER));
    }
    Ok(None)
}

async fn by_token(
    db: &sqlx::PgPool,
    key: &SecretKey,
    row: &RequestRow,
    token: &GivenToken,
) -> Result<Option<Grant>, DbError> {
    match token.what {
        Follow::Request(id) => {
            let Some(digest) = db::codes::of_request(db, id).await? else {
                return Ok(None);
            };
            if !token.verify(key, Some(&digest)) {
                return Ok(None);
            }
            if id == row.id {
                Ok(Some(FILER_READING))
            } else if db::codes::merged_into(db, id, row.id).await? {
                Ok(Some(FOLLOWER))
            } else {
                Ok(None)
            }
        }
        Follow::Report(id) => {
            let Some(report) = db::codes::of_report(db, id).await? else {
                return Ok(None);
            };
            if !token.verify(key, report.digest.as_deref()) {
                return Ok(None);
            }
            // The filer's report holds the request's code, wherever a merge took it.
            if report
                .digest
                .as_deref()
                .is_some_and(|d| codes::same_digest(d, &row.tracking_code_digest))
            {
                Ok(Some(FILER_READING))
            } else if report.request_id == row.id {
                Ok(Some(FOLLOWER))
            } else {
                Ok(None)
            }
        }
    }
}
