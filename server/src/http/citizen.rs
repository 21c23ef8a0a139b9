//! The citizen space: accounts (e-mail + password, e-mail verification), sessions, and
//! "my requests" with their public timeline (the filer's view). Filing without an account stays
//! possible for démarches that allow it, with the tracking code instead.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use guichet_shared::api::PublicRequest;
use guichet_shared::phase::{Lang, Phase};
use guichet_shared::timeline::Reader;
use guichet_shared::validation::{FieldError, is_plausible_email};
use guichet_shared::workflow::template;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::auth::{
    AuthCitizen, PasswordChange, SessionView, bad_credentials, bearer_token, new_password_hash,
};
use super::body::lang_of;
use super::extract::{Path, Query};
use super::limit::{self, ClientIp};
use super::{ApiError, body, pages};
use crate::accounts::{Attempt, Realm};
use crate::auth::{self, CITIZEN_SESSION, RESET_VALIDITY, VERIFICATION_VALIDITY};
use crate::db::{self, DbError};
use crate::limits::{Key, Limit};
use crate::notify;
use crate::pipeline::public_view;
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "lea.martin@example.org", "password": "un mot de passe solide", "name": "Léa Martin"}))]
pub struct Register {
    email: String,
    password: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    lang: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CitizenView {
    id: i64,
    email: String,
    name: String,
    lang: String,
    email_verified: bool,
}

impl From<db::accounts::CitizenRow> for CitizenView {
    fn from(c: db::accounts::CitizenRow) -> Self {
        Self {
            id: c.id,
            email: c.email,
            name: c.name,
            lang: c.lang,
            email_verified: c.email_verified_at.is_some(),
        }
    }
}

pub fn check_password(errors: &mut Vec<FieldError>, password: &str) {
    let n = password.chars().count();
    if n < auth::MIN_PASSWORD_CHARS {
        errors.push(FieldError::new(
            "password",
            "too-short",
            format!(
                "a password has at least {} characters",
                auth::MIN_PASSWORD_CHARS
            ),
        ));
    } else if n > auth::MAX_PASSWORD_CHARS {
        errors.push(FieldError::new(
            "password",
            "too-long",
            format!(
                "a password has at most {} characters",
                auth::MAX_PASSWORD_CHARS
            ),
        ));
    }
}

/// Creates an account and e-mails a verification link. An address that already has a
/// verified account gets the same answer (and nothing changes), so addresses cannot be probed.
/// An address whose account was never verified is registered anew: the new password replaces
/// the old one, whose sessions and links end.
#[utoipa::path(
    post,
    path = "/api/v1/citizen/register",
    tag = "compte citoyen",
    summary = "Créer un compte",
    request_body = Register,
    responses(
        (status = 202, description = "A verification link was e-mailed (the same answer for an address already verified)", body = MailSent),
    ),
    security(()),
)]
pub async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: Request,
) -> Result<(StatusCode, Json<MailSent>), ApiError> {
    let b: Register = body::json(req).await?;
    let mut errors = Vec::new();
    let email = b.email.trim().to_lowercase();
    if !is_plausible_email(&email) {
        errors.push(FieldError::new(
            "email",
            "invalid-email",
            "this is not an e-mail address",
        ));
    }
    check_password(&mut errors, &b.password);
    if b.name.chars().count() > 200 {
        errors.push(FieldError::new(
            "name",
            "too-long",
            "a name has at most 200 characters",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let lang = b
        .lang
        .as_deref()
        .map_or_else(|| lang_of(&headers), Lang::parse);
    // Nobody fills someone else's mailbox: a few mails per address, whoever asks.
    limit::check(&state, Limit::MailTo, &Key::Address(email.clone()))?;
    let hash = state
        .hasher
        .hash(b.password)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    let name = b.name.trim();
    let account = match db::accounts::insert_citizen(&mut tx, &email, name, lang.as_str(), &hash)
        .await?
    {
        Some(id) => Some(id),
        // Whoever registered this address before and never confirmed it keeps nothing: no
        // password, no session, no pending link (account pre-hijacking).
        None => {
            db::accounts::reregister_unverified(&mut tx, &email, name, lang.as_str(), &hash).await?
        }
    };
    if let Some(id) = account {
        send_verification(&mut tx, &state, id, &email, lang).await?;
    }
    tx.commit().await.map_err(DbError::from)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(MailSent {
            email,
            detail: "a verification link was sent to this address",
        }),
    ))
}

/// The answer when an e-mail may have been sent: the same whether or not it was, so that
/// nobody learns which addresses have an account.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MailSent {
    email: String,
    detail: &'static str,
}

/// Where a link lands, for a client that is not a browser: what to do instead.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Notice {
    detail: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Verified {
    email_verified: bool,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    token: Option<String>,
}

/// Tokens are 64 hex digits; anything else is not worth a database query.
fn plausible_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `GET /citizen/verify?token=…`, where the e-mail's link lands: it verifies nothing (mail
/// scanners open links too). Browsers get a page whose button confirms with a POST; other
/// clients are told to POST.
#[utoipa::path(
    get,
    path = "/api/v1/citizen/verify",
    tag = "compte citoyen",
    summary = "Où arrive le lien de vérification (ne vérifie rien)",
    params(TokenQuery),
    responses(
        (status = 200, description = "A page whose button confirms (`Accept: text/html`), else where to POST", content((Notice = "application/json"), ("text/html"))),
        (status = 422, description = "An invalid link (the page)", content_type = "text/html"),
    ),
    security(()),
)]
pub async fn verify_page(Query(q): Query<TokenQuery>, headers: HeaderMap) -> Response {
    let token = q.token.unwrap_or_default();
    if pages::wants_html(&headers) {
        let lang = lang_of(&headers);
        if !plausible_token(&token) {
            return invalid_link_page(lang);
        }
        return pages::verify_form(lang, &token);
    }
    Json(Notice {
        detail: "to confirm the address, send the token with POST /api/v1/citizen/verify {\"token\"}",
    })
    .into_response()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    token: String,
}

/// The token of a POST: a JSON body `{"token"}` or a form's `token=…` (the page's button).
async fn token_body(state: &AppState, req: Request) -> Result<(String, bool), ApiError> {
    if pages::is_form(req.headers()) {
        let b: TokenBody = body::form(req, state).await?;
        Ok((b.token, true))
    } else {
        let b: TokenBody = body::json(req).await?;
        Ok((b.token, false))
    }
}

fn invalid_link_page(lang: Lang) -> Response {
    let (title, text) = match lang {
        Lang::Fr => (
            "Lien invalide",
            "Ce lien est inconnu, déjà utilisé ou expiré. Demandez-en un nouveau depuis l'application.",
        ),
        Lang::En => (
            "Invalid link",
            "This link is unknown, already used or expired. Ask for a new one from the app.",
        ),
    };
    pages::message(StatusCode::UNPROCESSABLE_ENTITY, lang, title, text)
}

fn invalid_token(detail: &str) -> ApiError {
    ApiError::field(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-token",
        "Invalid or expired link",
        "token",
        detail,
    )
}

/// `POST /citizen/verify`: confirms the address (once).
#[utoipa::path(
    post,
    path = "/api/v1/citizen/verify",
    tag = "compte citoyen",
    summary = "Vérifier l'adresse électronique",
    request_body(content((TokenBody = "application/json"), (TokenBody = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "Verified (JSON), or a page for the form", content((Verified = "application/json"), ("text/html"))),
        (status = 422, description = "`invalid-token`", content((super::openapi::Problem = "application/problem+json"), ("text/html"))),
    ),
    security(()),
)]
pub async fn verify(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let lang = lang_of(req.headers());
    let (token, from_form) = token_body(&state, req).await?;
    let verified = if plausible_token(&token) {
        db::accounts::use_verification(&state.db, &auth::token_digest(&token)).await?
    } else {
        None
    };
    match (verified, from_form) {
        (Some(_), false) => Ok(Json(Verified {
            email_verified: true,
        })
        .into_response()),
        (Some(_), true) => {
            let (title, text) = match lang {
                Lang::Fr => (
                    "Adresse confirmée",
                    "Votre adresse électronique est confirmée. Vous pouvez revenir à l'application.",
                ),
                Lang::En => (
                    "Address confirmed",
                    "Your e-mail address is confirmed. You can go back to the app.",
                ),
            };
            Ok(pages::message(StatusCode::OK, lang, title, text))
        }
        (None, true) => Ok(invalid_link_page(lang)),
        (None, false) => Err(invalid_token(
            "this verification link is unknown, already used or expired; ask for a new one with POST /api/v1/citizen/verify/resend",
        )),
    }
}

/// A new single-use verification link, e-mailed in the caller's transaction.
async fn send_verification(
    tx: &mut sqlx::PgConnection,
    state: &AppState,
    citizen_id: i64,
    email: &str,
    lang: Lang,
) -> Result<(), DbError> {
    let (token, digest) = auth::new_token();
    let expires = OffsetDateTime::now_utc() + VERIFICATION_VALIDITY;
    db::accounts::insert_verification(tx, citizen_id, &digest, expires).await?;
    notify::verification_email(tx, &state.config.notify, email, lang, &token).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resend {
    email: String,
}

/// A new verification link for an account not verified yet. The answer is the same whether
/// or not the address has such an account.
#[utoipa::path(
    post,
    path = "/api/v1/citizen/verify/resend",
    tag = "compte citoyen",
    summary = "Renvoyer le lien de vérification",
    request_body = Resend,
    responses(
        (status = 202, description = "Sent if the account waits for verification", body = MailSent),
    ),
    security(()),
)]
pub async fn resend(
    State(state): State<AppState>,
    req: Request,
) -> Result<(StatusCode, Json<MailSent>), ApiError> {
    let b: Resend = body::json(req).await?;
    let email = b.email.trim().to_lowercase();
    if !is_plausible_email(&email) {
        return Err(ApiError::validation(vec![FieldError::new(
            "email",
            "invalid-email",
            "this is not an e-mail address",
        )]));
    }
    limit::check(&state, Limit::MailTo, &Key::Address(email.clone()))?;
    if let Some(c) = db::accounts::citizen_by_email(&state.db, &email)
        .await?
        .filter(|c| c.email_verified_at.is_none())
    {
        let mut tx = state.db.begin().await.map_err(DbError::from)?;
        send_verification(&mut tx, &state, c.id, &email, Lang::parse(&c.lang)).await?;
        tx.commit().await.map_err(DbError::from)?;
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(MailSent {
            email,
            detail: "if this address has an account waiting for verification, a new link was sent",
        }),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Forgot {
    email: String,
}

/// `POST /citizen/password/forgot`: e-mails a single-use link to choose a new password. The
/// answer is 202 whether or not the address has an account.
#[utoipa::path(
    post,
    path = "/api/v1/citizen/password/forgot",
    tag = "compte citoyen",
    summary = "Mot de passe oublié",
    request_body = Forgot,
    responses(
        (status = 202, description = "A link was sent if the address has an account", body = MailSent),
    ),
    security(()),
)]
pub async fn forgot(
    State(state): State<AppState>,
    req: Request,
) -> Result<(StatusCode, Json<MailSent>), ApiError> {
    let b: Forgot = body::json(req).await?;
    let email = b.email.trim().to_lowercase();
    if !is_plausible_email(&email) {
        return Err(ApiError::validation(vec![FieldError::new(
            "email",
            "invalid-email",
            "this is not an e-mail address",
        )]));
    }
    limit::check(&state, Limit::MailTo, &Key::Address(email.clone()))?;
    if let Some(c) = db::accounts::citizen_by_email(&state.db, &email).await? {
        let (token, digest) = auth::new_token();
        let expires = OffsetDateTime::now_utc() + RESET_VALIDITY;
        let mut tx = state.db.begin().await.map_err(DbError::from)?;
        db::accounts::insert_password_reset(&mut tx, c.id, &digest, expires).await?;
        notify::password_reset_email(
            &mut tx,
            &state.config.notify,
            &email,
            Lang::parse(&c.lang),
            &token,
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(MailSent {
            email,
            detail: "if this address has an account, a link to choose a new password was sent to it",
        }),
    ))
}

/// `GET /citizen/password/reset?token=…`, where the e-mail's link lands: a page with the form
/// (browsers), or where to POST (other clients). It changes nothing.
#[utoipa::path(
    get,
    path = "/api/v1/citizen/password/reset",
    tag = "compte citoyen",
    summary = "Où arrive le lien de réinitialisation (ne change rien)",
    params(TokenQuery),
    responses(
        (status = 200, description = "A page with the form (`Accept: text/html`), else where to POST", content((Notice = "application/json"), ("text/html"))),
        (status = 422, description = "An invalid link (the page)", content_type = "text/html"),
    ),
    security(()),
)]
pub async fn reset_page(Query(q): Query<TokenQuery>, headers: HeaderMap) -> Response {
    let token = q.token.unwrap_or_default();
    if pages::wants_html(&headers) {
        let lang = lang_of(&headers);
        if !plausible_token(&token) {
            return invalid_link_page(lang);
        }
        return pages::reset_form(lang, &token, auth::MIN_PASSWORD_CHARS);
    }
    Json(Notice {
        detail: "to choose a new password, send POST /api/v1/citizen/password/reset {\"token\", \"password\"}",
    })
    .into_response()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reset {
    token: String,
    password: String,
}

/// `POST /citizen/password/reset` (JSON, or the page's form): sets the new password, once per
/// link; every session of the account ends.
#[utoipa::path(
    post,
    path = "/api/v1/citizen/password/reset",
    tag = "compte citoyen",
    summary = "Choisir un nouveau mot de passe",
    request_body(content((Reset = "application/json"), (Reset = "application/x-www-form-urlencoded"))),
    responses(
        (status = 204, description = "Changed (JSON)"),
        (status = 200, description = "Changed: a page, for the form", content_type = "text/html"),
        (status = 422, description = "`invalid-token`, or a password out of range", content((super::openapi::Problem = "application/problem+json"), ("text/html"))),
    ),
    security(()),
)]
pub async fn reset(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let lang = lang_of(req.headers());
    let from_form = pages::is_form(req.headers());
    let b: Reset = if from_form {
        let b: Reset = body::form(req, &state).await?;
        b
    } else {
        body::json(req).await?
    };
    let mut errors = Vec::new();
    check_password(&mut errors, &b.password);
    if !errors.is_empty() {
        if from_form {
            let (title, text) = match lang {
                Lang::Fr => (
                    "Mot de passe refusé",
                    format!(
                        "Choisissez un mot de passe de {} à {} caractères.",
                        auth::MIN_PASSWORD_CHARS,
                        auth::MAX_PASSWORD_CHARS
                    ),
                ),
                Lang::En => (
                    "Password refused",
                    format!(
                        "Choose a password of {} to {} characters.",
                        auth::MIN_PASSWORD_CHARS,
                        auth::MAX_PASSWORD_CHARS
                    ),
                ),
            };
            return Ok(pages::message(
                StatusCode::UNPROCESSABLE_ENTITY,
                lang,
                title,
                &text,
            ));
        }
        return Err(ApiError::validation(errors));
    }
    let done = if plausible_token(&b.token) {
        let hash = state
            .hasher
            .hash(b.password)
            .await
            .map_err(|e| ApiError::internal(&e))?;
        db::accounts::use_password_reset(&state.db, &auth::token_digest(&b.token), &hash).await?
    } else {
        None
    };
    match (done, from_form) {
        (Some(_), false) => Ok(StatusCode::NO_CONTENT.into_response()),
        (Some(_), true) => {
            let (title, text) = match lang {
                Lang::Fr => (
                    "Mot de passe changé",
                    "Votre nouveau mot de passe est enregistré. Connectez-vous avec lui dans l'application.",
                ),
                Lang::En => (
                    "Password changed",
                    "Your new password is saved. Log in with it in the app.",
                ),
            };
            Ok(pages::message(StatusCode::OK, lang, title, text))
        }
        (None, true) => Ok(invalid_link_page(lang)),
        (None, false) => Err(invalid_token(
            "this link is unknown, already used or expired; ask for a new one with POST /api/v1/citizen/password/forgot",
        )),
    }
}

/// `POST /citizen/password`: a logged-in citizen changes their password; their other sessions
/// end at once.
#[utoipa::path(
    post,
    path = "/api/v1/citizen/password",
    tag = "compte citoyen",
    summary = "Changer son mot de passe",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Fait"),
        (status = 403, description = "`wrong-password`"),
    ),
    security(("citizen_token" = [])),
)]
pub async fn change_password(
    State(state): State<AppState>,
    AuthCitizen(c): AuthCitizen,
    ClientIp(ip): ClientIp,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let keep = bearer_token(req.headers()).map(auth::token_digest);
    let b: PasswordChange = body::json(req).await?;
    let attempt = Attempt::new(Realm::Citizen, &c.email, ip);
    let hash = new_password_hash(&state, &attempt, &c.password_hash, b).await?;
    db::accounts::set_citizen_password(&state.db, c.id, &hash, keep.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = CitizenLogin)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "lea.martin@example.org", "password": "un mot de passe solide"}))]
pub struct Login {
    email: String,
    password: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/citizen/login",
    tag = "compte citoyen",
    summary = "Se connecter",
    request_body = Login,
    responses(
        (status = 200, description = "The session", body = SessionView<CitizenView>),
        (status = 401, description = "`invalid-credentials`"),
    ),
    security(()),
)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    req: Request,
) -> Result<Json<SessionView<CitizenView>>, ApiError> {
    let b: Login = body::json(req).await?;
    let attempt = Attempt::new(Realm::Citizen, &b.email, ip);
    attempt.check(&state).await?;
    let citizen = db::accounts::citizen_by_email(&state.db, &attempt.account).await?;
    let stored = citizen
        .as_ref()
        .map_or(auth::dummy_hash(), |c| c.password_hash.as_str())
        .to_owned();
    let ok = state.hasher.verify(b.password, stored).await;
    let Some(citizen) = citizen.filter(|_| ok) else {
        attempt.failed(&state).await?;
        return Err(bad_credentials());
    };
    attempt.succeeded(&state).await?;
    let (token, digest) = auth::new_token();
    let expires_at = OffsetDateTime::now_utc() + CITIZEN_SESSION;
    db::accounts::create_citizen_session(&state.db, citizen.id, &digest, expires_at).await?;
    Ok(Json(SessionView {
        token,
        expires_at,
        who: citizen.into(),
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/citizen/logout",
    tag = "compte citoyen",
    summary = "Se déconnecter",
    description = "Ends the session of the token sent, if any: 204 either way",
    responses(
        (status = 204, description = "Fait"),
    ),
    security((), ("citizen_token" = [])),
)]
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    if let Some(token) = bearer_token(&headers) {
        db::accounts::delete_session(&state.db, &auth::token_digest(token)).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/api/v1/citizen/me",
    tag = "compte citoyen",
    summary = "Mon compte",
    responses(
        (status = 200, description = "The account", body = CitizenView),
    ),
    security(("citizen_token" = [])),
)]
pub async fn me(AuthCitizen(c): AuthCitizen) -> Json<CitizenView> {
    Json(c.into())
}

/// One of "my requests". No tracking code: the account is the key to them.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MyRequest {
    number: String,
    demarche: String,
    demarche_title: String,
    status_label: String,
    phase: Phase,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

#[utoipa::path(
    get,
    path = "/api/v1/citizen/requests",
    tag = "compte citoyen",
    summary = "Mes demandes",
    responses(
        (status = 200, description = "The account's requests, newest first", body = Vec<MyRequest>),
    ),
    security(("citizen_token" = [])),
)]
pub async fn my_requests(
    State(state): State<AppState>,
    AuthCitizen(c): AuthCitizen,
    headers: HeaderMap,
) -> Result<Json<Vec<MyRequest>>, ApiError> {
    let lang = lang_of(&headers);
    let rows = db::requests::of_citizen(&state.db, c.id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| {
                let phase = r.phase;
                let status_label = template(&r.workflow)
                    .and_then(|t| t.status(&r.status))
                    .map_or_else(|| phase.label(lang), |s| s.label(lang))
                    .to_owned();
                MyRequest {
                    number: r.number,
                    demarche: r.demarche_code,
                    demarche_title: r.demarche_title,
                    status_label,
                    phase,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                }
            })
            .collect(),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/citizen/requests/{number}",
    tag = "compte citoyen",
    summary = "Une de mes demandes",
    params(("number" = String, Path, description = "Le numéro de la demande, `2026-SIG-000123`")),
    responses(
        (status = 200, description = "The filer's view", body = PublicRequest),
        (status = 404, description = "`request-not-found`"),
    ),
    security(("citizen_token" = [])),
)]
pub async fn my_request(
    State(state): State<AppState>,
    AuthCitizen(c): AuthCitizen,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> Result<Json<PublicRequest>, ApiError> {
    let row = db::requests::by_number(&state.db, &number)
        .await?
        .filter(|r| r.citizen_id == Some(c.id))
        .ok_or_else(|| {
            ApiError::not_found("request-not-found", "You have no request with this number.")
        })?;
    let view = public_view::of(&state, row, lang_of(&headers), Reader::Filer).await?;
    Ok(Json(view))
}

#[utoipa::path(
    get,
    path = "/api/v1/citizen/me/data",
    tag = "compte citoyen",
    summary = "Télécharger mes données",
    responses(
        (status = 200, description = "`{exported_at, account, requests: [{request, answers, contact, files}], documents}` (the wallet's documents, each downloadable by its `download_url`), as a download", body = Object),
    ),
    security(("citizen_token" = [])),
)]
/// `GET /citizen/me/data`: everything the account holds, for its holder to download (GDPR,
/// articles 15 and 20): the account, and each request with its answers, the contact given,
/// its files' names and what its page shows.
pub async fn my_data(
    State(state): State<AppState>,
    AuthCitizen(c): AuthCitizen,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = lang_of(&headers);
    let documents: Vec<super::wallet::Document> = db::wallet::list(&state.db, c.id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let mut requests = Vec::new();
    for d in db::accounts::citizen_data(&state.db, c.id).await? {
        let Some(row) = db::requests::by_number(&state.db, &d.number).await? else {
            continue;
        };
        let view = public_view::of(&state, row, lang, Reader::Filer).await?;
        requests.push(serde_json::json!({
            "request": view,
            "answers": d.data,
            "contact": { "name": d.contact_name, "email": d.contact_email, "phone": d.contact_phone },
            "files": d.files,
        }));
    }
    let body = serde_json::json!({
        "exported_at": OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        "account": CitizenView::from(c),
        "requests": requests,
        "documents": documents,
    });
    let date = OffsetDateTime::now_utc().date();
    Ok((
        [
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"mes-donnees-{date}.json\""),
            ),
            (axum::http::header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Json(body),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Closing {
    password: String,
    /// `withdraw` the open requests, or `keep` them, detached from the account.
    open_requests: String,
}

#[utoipa::path(
    delete,
    path = "/api/v1/citizen/me",
    tag = "compte citoyen",
    summary = "Fermer mon compte",
    request_body = Closing,
    responses(
        (status = 200, description = "`{withdrawn, kept}`: what became of the open requests", body = Object),
        (status = 403, description = "`wrong-password`"),
    ),
    security(("citizen_token" = [])),
)]
/// `DELETE /citizen/me`: the account closes, with its password asked again. Its open
/// requests are withdrawn, or kept for the service without the link to the account, the
/// contact or the fields that name the person (`open_requests`); closed ones are kept the
/// same way for the démarche's retention. Answers 200 with what became of them.
pub async fn delete_me(
    State(state): State<AppState>,
    AuthCitizen(c): AuthCitizen,
    ClientIp(ip): ClientIp,
    req: Request,
) -> Result<Json<serde_json::Value>, ApiError> {
    let b: Closing = body::json(req).await?;
    let withdraw = match b.open_requests.as_str() {
        "withdraw" => true,
        "keep" => false,
        _ => {
            return Err(ApiError::validation(vec![FieldError::new(
                "open_requests",
                "not-an-option",
                "`open_requests` is withdraw or keep",
            )]));
        }
    };
    let attempt = Attempt::new(Realm::Citizen, &c.email, ip);
    super::auth::check_password_again(&state, &attempt, &c.password_hash, b.password, "password")
        .await?;
    let closed = crate::accounts::close_citizen(&state, c.id, &c.email, withdraw).await?;
    Ok(Json(serde_json::json!({
        "withdrawn": closed.withdrawn,
        "kept": closed.kept,
    })))
}
