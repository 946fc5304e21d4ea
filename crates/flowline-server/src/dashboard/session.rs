//! Signing in to the dashboard: an API key exchanged for a session cookie.
//!
//! The key is checked exactly as the API checks it ([`auth::authenticate`]) and never kept: the
//! session remembers the key's id and tenant, and every request reads the key again, so a
//! revoked key or a changed role takes effect at once. The cookie holds only a random session id
//! (256 bits), is `HttpOnly` (no script can read it), `SameSite=Strict` (no other site's page
//! can send it) and `Secure` when the request came over HTTPS (through a proxy that says so with
//! `X-Forwarded-Proto`). Every form carries the session's CSRF token, compared in constant time;
//! the sign-in form, which has no session yet, carries a token that must equal a cookie set with
//! it (double submit).
//!
//! Sessions live in the store beside the keys ([`flowline_store::Directory`]), by the SHA-256
//! of their id: they outlive a restart, every process sharing a database knows them, and a copy
//! of the database signs no one in. A session lasts [`IDLE`] from its last use; its expiry is
//! written again only when a request finds it [`EXTEND_AFTER`] old, so reading pages does not
//! write on every request.

use crate::App;
use crate::auth::{self, Access, Principal, Role};
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use flowline_store::{SessionRecord, SharedBackend, Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use subtle::ConstantTimeEq as _;

/// The session cookie's name.
pub const COOKIE: &str = "flowline_session";

/// The cookie of the sign-in form's CSRF token.
pub const LOGIN_COOKIE: &str = "flowline_login";

/// How long a session lasts without use.
pub const IDLE: SignedDuration = SignedDuration::from_hours(8);

/// How long after its expiry was last moved a request moves it again.
pub const EXTEND_AFTER: SignedDuration = SignedDuration::from_mins(5);

/// Sessions one key keeps at most; signing in once more closes the one expiring soonest.
const SESSIONS_PER_KEY: usize = 100;

/// A signed-in session, as a request finds it.
#[derive(Debug, Clone)]
struct Session {
    principal: Principal,
    csrf: String,
}

/// The sessions, in the store. Reads go through the server's readers; opening, moving and
/// closing a session go through a handle of their own that may write, opened at first use.
#[derive(Clone)]
pub struct Sessions {
    backend: SharedBackend,
    writer: Arc<Mutex<Option<Box<dyn Store>>>>,
    /// Whether the server's readers read a replica of the sessions' database: a session is
    /// then read where it was written, so that a sign-in is known on the very next request,
    /// however far behind the replica is.
    primary_only: bool,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Sessions")
            .field("backend", &self.backend.describe())
            .finish_non_exhaustive()
    }
}

/// The hex SHA-256 of a session id: what the store keeps.
fn id_hash(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// 32 random bytes as hex.
pub fn token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| ApiError::internal(error.to_string()))?;
    Ok(hex::encode(bytes))
}

/// Whether two tokens are equal, without stopping at the first difference.
pub fn same_token(expected: &str, presented: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

impl Sessions {
    /// The sessions of the log `backend` opens; `primary_only` when the server's readers read
    /// a replica of it.
    pub fn new(backend: SharedBackend, primary_only: bool) -> Self {
        Self {
            backend,
            writer: Arc::new(Mutex::new(None)),
            primary_only,
        }
    }

    /// Runs `change` on the writing handle, on a blocking thread. A handle whose database went
    /// away is dropped, and the next change opens another.
    async fn write<R: Send + 'static>(
        &self,
        change: impl FnOnce(&mut dyn Store) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, ApiError> {
        let sessions = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut writer = sessions
                .writer
                .lock()
                .map_err(|_| ApiError::internal("the session writer panicked"))?;
            if writer.is_none() {
                *writer = Some(
                    sessions
                        .backend
                        .open()
                        .map_err(crate::readers::store_error)?,
                );
            }
            let Some(store) = writer.as_mut() else {
                return Err(ApiError::internal("no session writer"));
            };
            let result = change(store.as_mut());
            if matches!(result, Err(StoreError::Unavailable { .. })) {
                *writer = None;
            }
            result.map_err(crate::readers::store_error)
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// Opens a session for a principal: its id and CSRF token. Expired sessions are purged on
    /// the way, so the table holds what is live.
    pub async fn open(&self, principal: Principal) -> Result<(String, String), ApiError> {
        let id = token()?;
        let csrf = token()?;
        let now = Timestamp::now();
        let record = SessionRecord {
            id_hash: id_hash(&id),
            tenant: principal.tenant,
            key_id: principal.key_id,
            csrf: csrf.clone(),
            created_at: now,
            expires_at: now.saturating_add(IDLE).unwrap_or(now),
        };
        self.write(move |store| {
            store.purge_sessions(now)?;
            store.open_session(&record, SESSIONS_PER_KEY)
        })
        .await?;
        Ok((id, csrf))
    }

    /// The live session with this id and its key's principal, or `None` when the session is
    /// unknown or expired, or its key was revoked. A session found [`EXTEND_AFTER`] after its
    /// expiry was last moved gets [`IDLE`] from now.
    async fn find(&self, app: &App, id: &str) -> Result<Option<Session>, ApiError> {
        let hash = id_hash(id);
        let now = Timestamp::now();
        let lookup = hash.clone();
        let read = move |store: &dyn Store| {
            let Some(session) = store.find_session(&lookup, now)? else {
                return Ok(None);
            };
            let key = store.find_key(&session.key_id)?;
            Ok(Some((session, key)))
        };
        let found = if self.primary_only {
            self.write(move |store| read(store)).await?
        } else {
            app.readers()
                .read_row(move |store| read(store).map_err(crate::readers::store_error))
                .await?
        };
        let Some((session, key)) = found else {
            return Ok(None);
        };
        let key = match key {
            Some(key) if key.revoked_at.is_none() && key.tenant == session.tenant => key,
            _ => {
                self.close(id).await?;
                return Ok(None);
            }
        };
        let role = Role::parse(&key.role).map_err(ApiError::internal)?;
        let renewed = now.saturating_add(IDLE).unwrap_or(now);
        if renewed.duration_since(session.expires_at) >= EXTEND_AFTER {
            self.write(move |store| store.extend_session(&hash, renewed))
                .await?;
        }
        Ok(Some(Session {
            principal: Principal {
                tenant: key.tenant,
                role,
                key_id: key.key_id,
                requests_per_second: key.requests_per_second,
            },
            csrf: session.csrf,
        }))
    }

    /// Ends a session.
    pub async fn close(&self, id: &str) -> Result<(), ApiError> {
        let hash = id_hash(id);
        self.write(move |store| store.close_session(&hash))
            .await
            .map(|_| ())
    }
}

/// A cookie's value from the request's `Cookie` headers (`name=value` pairs split by `;`, as
/// RFC 6265 §5.4 has browsers send them; several headers, as HTTP/2 sends them, are read in
/// turn). The first pair with the name wins, and the value is everything after its first `=`.
///
/// Written here rather than taken from the `cookie` crate: even with its features off, that
/// crate builds `time` and its proc macros for its `Expires` and `Max-Age` types, a second date
/// library beside jiff, for two cookies whose values are hex tokens.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

/// Whether the request reached us over HTTPS (as a proxy in front says).
fn secure(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, path `/`, Secure over HTTPS.
pub fn set_cookie(headers: &HeaderMap, name: &str, value: &str, max_age: Option<u64>) -> String {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(seconds) = max_age {
        cookie.push_str(&format!("; Max-Age={seconds}"));
    }
    if secure(headers) {
        cookie.push_str("; Secure");
    }
    cookie
}

/// The signed-in person a page is shown to: the key's tenant and role, and the session's CSRF
/// token for the forms on the page.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The key's tenant and role, as the API would see them.
    pub principal: Principal,
    /// The session's CSRF token.
    pub csrf: String,
    /// The session id (to sign out).
    pub session: String,
    /// How far behind the primary the pages' data is, when this process serves from a read
    /// replica.
    pub behind: Option<flowline_store::Behind>,
}

impl Viewer {
    /// Whether the role may do this.
    pub fn may(&self, access: Access) -> bool {
        self.principal.role.allows(access)
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.principal.role
    }

    /// Checks a form's CSRF token.
    pub fn check_csrf(&self, presented: Option<&str>) -> bool {
        presented.is_some_and(|token| same_token(&self.csrf, token))
    }
}

/// Why a page could not be shown to the caller: not signed in (go to the sign-in page), or a
/// failure.
#[derive(Debug)]
pub enum NotSignedIn {
    /// To the sign-in page, coming back to `next` after.
    SignIn {
        /// The page asked for.
        next: String,
    },
    /// The session store or the key store failed (503 when it is unavailable for now).
    Failed(ApiError),
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn { next } => {
                let target = format!("/login?next={}", percent_encode(&next));
                Redirect::to(&target).into_response()
            }
            Self::Failed(error) => {
                let mut response = super::page::error_page(&error).into_response();
                *response.status_mut() = error.status();
                if let Some(seconds) = error.retry_after_seconds() {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                }
                response
            }
        }
    }
}

/// Percent-encodes everything but unreserved characters and `/`.
pub fn percent_encode(text: &str) -> String {
    crate::urls::path(text)
}

/// Where to go after signing in: only a path of this site (`/...`, never `//host`).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

impl FromRequestParts<App> for Viewer {
    type Rejection = NotSignedIn;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, NotSignedIn> {
        let next = parts
            .uri
            .path_and_query()
            .map(|path| path.as_str().to_string())
            .unwrap_or_else(|| "/".to_string());
        let sign_in = || NotSignedIn::SignIn { next: next.clone() };
        let id = cookie(&parts.headers, COOKIE).ok_or_else(sign_in)?;
        let session = app
            .dashboard()
            .sessions
            .find(app, &id)
            .await
            .map_err(NotSignedIn::Failed)?
            .ok_or_else(sign_in)?;
        let span = tracing::Span::current();
        span.record("tenant", session.principal.tenant.as_str());
        span.record("key", session.principal.key_id.as_str());
        Ok(Viewer {
            principal: session.principal,
            csrf: session.csrf,
            session: id,
            behind: app.dashboard().behind(app).await,
        })
    }
}

/// Checks a presented key as the API does.
pub async fn authenticate(app: &App, key: String) -> Result<Principal, ApiError> {
    app.readers()
        .read_row(move |store| auth::authenticate(store, key.trim()))
        .await
}

/// A response that sets a cookie.
pub fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/inventory?x=1")), "/inventory?x=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn cookies_are_found_by_name_among_several() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; flowline_session=abc; b=2"),
        );
        assert_eq!(cookie(&headers, COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
        let set = set_cookie(&headers, COOKIE, "abc", None);
        assert_eq!(
            set,
            "flowline_session=abc; Path=/; HttpOnly; SameSite=Strict"
        );
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(set_cookie(&headers, COOKIE, "abc", Some(0)).ends_with("; Max-Age=0; Secure"));
    }

    #[test]
    fn cookies_with_tricky_values_and_neighbours_parse_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static(
                "flowline_session_old=stale;flowline_sessionx=no; theme=a=b==; empty=;bare",
            ),
        );
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("quoted=\"v\"; flowline_session=abc; flowline_session=later"),
        );
        // A longer name that starts with the one asked for is another cookie.
        assert_eq!(cookie(&headers, COOKIE).as_deref(), Some("abc"));
        // The value runs past further `=`; an empty value is a value; quotes are kept.
        assert_eq!(cookie(&headers, "theme").as_deref(), Some("a=b=="));
        assert_eq!(cookie(&headers, "empty").as_deref(), Some(""));
        assert_eq!(cookie(&headers, "quoted").as_deref(), Some("\"v\""));
        // A pair without `=` names no cookie.
        assert_eq!(cookie(&headers, "bare"), None);
        assert_eq!(cookie(&headers, ""), None);
    }

    #[test]
    fn a_cookie_is_cleared_with_the_attributes_it_was_set_with() {
        let headers = HeaderMap::new();
        assert_eq!(
            set_cookie(&headers, LOGIN_COOKIE, "", Some(0)),
            "flowline_login=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        );
    }

    #[test]
    fn tokens_compare_equal_only_when_identical_and_not_empty() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
        assert!(!same_token("", ""));
        assert!(!same_token("", "abc"));
        assert!(!same_token("abc", ""));
    }

    #[test]
    fn tokens_are_256_bits_as_lowercase_hex() {
        let token = token().unwrap();
        assert_eq!(token.len(), 64);
        assert!(
            token
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        );
    }
}
