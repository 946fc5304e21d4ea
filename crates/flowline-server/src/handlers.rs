//! Request handlers: authentication, commands, and the reads of documents, inventory and
//! balances.
//!
//! Every handler takes its tenant from the caller's key ([`Principal`]) and passes it to every
//! engine and store call, so no request can name another tenant's data: a document id that the
//! tenant does not have is simply not found.

use crate::App;
use crate::auth::{self, Access, Principal};
use crate::body;
use crate::error::{ApiError, Code};
use crate::metrics::CommandResult;
use crate::readers::store_error;
use crate::render::{self, Collection};
use crate::routes::{INVENTORY_QUERY, QueryParameter};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, get, on};
use flowline_core::Command;
use flowline_core::ErrorCode;
use flowline_core::id::{LocationId, Sku};
use flowline_core::stream::StreamName;
use flowline_core::{Event, views};
use flowline_engine::{Answer, DocumentJson, Outcome, RecordedEvent, Submission};
use flowline_store::{Store, StoredEvent};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The longest idempotency key accepted, in bytes (Stripe's limit).
const IDEMPOTENCY_KEY_LENGTH_MAX: usize = 255;

/// The largest page.
pub const PAGE_LIMIT_MAX: usize = 1000;

/// The page size when none is asked for.
pub const PAGE_LIMIT_DEFAULT: usize = 100;

/// Query parameter names that carry credentials; a request using one is refused.
const CREDENTIAL_PARAMETERS: &[&str] = &["api_key", "apikey", "key", "token", "access_token"];

impl FromRequestParts<App> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            if parts.headers.contains_key(header::AUTHORIZATION) {
                return Err(ApiError::new(
                    Code::InvalidHeader,
                    "Authorization is given more than once; send exactly one",
                    json!({ "header": "Authorization", "reason": "given more than once" }),
                ));
            }
            return Err(ApiError::plain(
                Code::Unauthenticated,
                "missing `Authorization: Bearer <API key>` header",
            ));
        };
        let text = value.to_str().unwrap_or("");
        let presented = match text.split_once(' ') {
            Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") => key.trim().to_string(),
            _ => {
                return Err(ApiError::plain(
                    Code::Unauthenticated,
                    "the Authorization header must read `Bearer <API key>`",
                ));
            }
        };
        if let Some(refusal) = auth::parse_key(&presented)
            .and_then(|(key_id, _)| app.limiter().spent(key_id, std::time::Instant::now()))
        {
            return Err(rate_limited(refusal).await);
        }
        let principal = app
            .readers()
            .read_row(move |store| auth::authenticate(store, &presented))
            .await?;
        let span = tracing::Span::current();
        span.record("tenant", principal.tenant.as_str());
        span.record("key", principal.key_id.as_str());
        let path = parts.uri.path();
        let cost = if path.starts_with("/v1/scorecard") || path.starts_with("/v1/metrics/") {
            crate::rate::REPORT_COST
        } else {
            1.0
        };
        let admitted = app.limiter().admit_key(
            &principal.tenant,
            &principal.key_id,
            principal.requests_per_second,
            cost,
            std::time::Instant::now(),
        );
        if let Err(refusal) = admitted {
            return Err(rate_limited(refusal).await);
        }
        Ok(principal)
    }
}

/// The answer to a request over its budget, given when `Retry-After` has passed (at most a
/// second from now): a client looping on its refusals sends one a second per connection.
async fn rate_limited(refusal: crate::rate::Refusal) -> ApiError {
    let retry_after = std::time::Duration::from_secs(u64::from(refusal.retry_after_seconds));
    tokio::time::sleep(retry_after.min(std::time::Duration::from_secs(1))).await;
    ApiError::new(
        Code::RateLimited,
        format!(
            "too many requests for this {}; retry in {} s",
            refusal.scope.as_str(),
            refusal.retry_after_seconds
        ),
        json!({ "scope": refusal.scope.as_str(),
            "retry_after_seconds": refusal.retry_after_seconds }),
    )
    .retry_after(refusal.retry_after_seconds)
}

/// Checks a request's query string against what its operation takes: a credential is refused
/// (401) wherever it appears, and an unknown or repeated parameter is refused (400) rather than
/// ignored — a client asking for `?dry_run=true` must not have its command applied for real.
/// Runs before every handler, so no operation can forget it.
pub async fn check_query(
    allowed: &'static [QueryParameter],
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if let Some(query) = request.uri().query() {
        let names = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| pair.split('=').next().unwrap_or("").to_ascii_lowercase());
        let mut credential = false;
        for name in names {
            credential |= CREDENTIAL_PARAMETERS.contains(&name.as_str());
        }
        if credential {
            return ApiError::plain(
                Code::CredentialsInQuery,
                "send the API key in the Authorization header, never in the query string",
            )
            .into_response();
        }
        if let Err(error) = query_params(Query::try_from_uri(request.uri()), allowed) {
            return error.into_response();
        }
    }
    next.run(request).await
}

/// Path parameters by name, or a 400 naming the one that could not be decoded.
fn path_params(
    path: Result<Path<Vec<(String, String)>>, PathRejection>,
) -> Result<BTreeMap<String, String>, ApiError> {
    let Path(pairs) = path.map_err(|rejection| {
        ApiError::new(
            Code::InvalidBody,
            format!("the path could not be read: {rejection}"),
            json!({ "field": "path", "reason": rejection.body_text() }),
        )
    })?;
    Ok(pairs.into_iter().collect())
}

/// A path id that cannot be an id names nothing: 404, like any id the tenant does not have.
fn check_path_id(kind: &str, id: &str) -> Result<(), ApiError> {
    Sku::parse(id)
        .map(|_| ())
        .map_err(|_| ApiError::not_found(kind, id))
}

/// The query parameters, each known to the operation and given once.
pub fn query_params(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    allowed: &[QueryParameter],
) -> Result<BTreeMap<String, String>, ApiError> {
    let Query(pairs) = query.map_err(|rejection| ApiError::query("", rejection.body_text()))?;
    let mut params = BTreeMap::new();
    for (name, value) in pairs {
        if !allowed.iter().any(|parameter| parameter.name == name) {
            let known: Vec<&str> = allowed.iter().map(|parameter| parameter.name).collect();
            let reason = if known.is_empty() {
                "this operation takes no query parameters".to_string()
            } else {
                format!(
                    "unknown parameter; this operation takes {}",
                    known.join(", ")
                )
            };
            return Err(ApiError::query(&name, reason));
        }
        if params.insert(name.clone(), value).is_some() {
            return Err(ApiError::query(&name, "given more than once"));
        }
    }
    Ok(params)
}

/// The `limit` parameter: 1 to [`PAGE_LIMIT_MAX`], default [`PAGE_LIMIT_DEFAULT`].
pub fn page_limit(params: &BTreeMap<String, String>) -> Result<usize, ApiError> {
    let Some(text) = params.get("limit") else {
        return Ok(PAGE_LIMIT_DEFAULT);
    };
    match text.parse::<usize>() {
        Ok(limit) if (1..=PAGE_LIMIT_MAX).contains(&limit) => Ok(limit),
        _ => Err(ApiError::query(
            "limit",
            format!("`{text}` is not a page size from 1 to {PAGE_LIMIT_MAX}"),
        )),
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let invalid = |reason: &str| {
        ApiError::new(
            Code::InvalidHeader,
            format!("Idempotency-Key: {reason}"),
            json!({ "header": "Idempotency-Key", "reason": reason }),
        )
    };
    let mut values = headers.get_all("idempotency-key").iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(invalid("given more than once; send exactly one"));
    }
    let text = value
        .to_str()
        .map_err(|_| invalid("must be visible ASCII"))?;
    if text.is_empty() || text.len() > IDEMPOTENCY_KEY_LENGTH_MAX {
        return Err(invalid("must be 1 to 255 characters"));
    }
    if !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid("must be visible ASCII without spaces"));
    }
    Ok(Some(text.to_string()))
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            Code::PayloadTooLarge,
            format!("the body is larger than {} bytes", body::BODY_LIMIT_BYTES),
            json!({ "limit_bytes": body::BODY_LIMIT_BYTES }),
        );
    }
    ApiError::new(
        Code::InvalidBody,
        format!("the body could not be read: {}", rejection.body_text()),
        json!({ "field": "", "reason": rejection.body_text() }),
    )
}

fn method_filter(method: &Method) -> MethodFilter {
    match *method {
        Method::PUT => MethodFilter::PUT,
        Method::PATCH => MethodFilter::PATCH,
        Method::DELETE => MethodFilter::DELETE,
        Method::GET => MethodFilter::GET,
        _ => MethodFilter::POST,
    }
}

/// The handler of a command operation: authenticate, authorise, parse the body into `C` with
/// the path's ids, submit, answer with the outcome.
pub fn command_handler<C>(
    method: Method,
    id: &'static str,
    path_fields: &'static [(&'static str, &'static str)],
    access: Access,
    status: StatusCode,
    wrap: fn(C) -> Command,
) -> MethodRouter<App>
where
    C: DeserializeOwned + JsonSchema + Send + 'static,
{
    // Actions on a document (POST with ids in the path) name an existing document; a PUT
    // defines the record the path names, so its id is checked as a field of the body instead.
    let acts_on_existing = method == Method::POST;
    let filter = method_filter(&method);
    let handler = move |State(app): State<App>,
                        principal: Principal,
                        path: Result<Path<Vec<(String, String)>>, PathRejection>,
                        headers: HeaderMap,
                        bytes: Result<Bytes, BytesRejection>| async move {
        tracing::Span::current().record("command", id);
        principal.require(access)?;
        let params = path_params(path)?;
        let mut fields = Vec::with_capacity(path_fields.len());
        for (parameter, field) in path_fields {
            let value = params.get(*parameter).cloned().unwrap_or_default();
            if acts_on_existing {
                check_path_id(field, &value)?;
            }
            fields.push((*field, value));
        }
        let key = idempotency_key(&headers)?;
        body::check_media_type(&headers)?;
        let bytes = bytes.map_err(body_rejection)?;
        let parsed = body::command::<C>(&bytes, &fields)?;
        let mut submission = Submission::new(wrap(parsed.command)).rendering();
        if let Some(at) = parsed.occurred_at {
            submission = submission.at(at);
        }
        if let Some(key) = key {
            submission = submission.key(key);
        }
        let answer = app.submit(&principal.tenant, submission).await?;
        // A definition (PUT) that creates its record is a creation: 201, not 200.
        let status = if method == Method::PUT && answer_created(&answer) {
            StatusCode::CREATED
        } else {
            status
        };
        Ok::<Response, ApiError>(command_response(&app, answer, status))
    };
    on(filter, handler)
}

/// The response to a command, a function of its stored outcome alone, so a retry with the same
/// idempotency key gets the same status and the same bytes.
fn command_response(app: &App, answer: Answer, status: StatusCode) -> Response {
    let metrics = app.metrics();
    let mut response = match answer.outcome {
        Outcome::Applied { events, document } => {
            metrics.command(if answer.replayed {
                CommandResult::Replayed
            } else {
                CommandResult::Applied
            });
            let body = Answered {
                document: document.as_ref().map(DocumentJson::raw),
                events: events
                    .iter()
                    .map(|event| AnsweredEvent {
                        seq: event.seq,
                        stream: &event.stream,
                        event_type: &event.event_type,
                    })
                    .collect(),
            };
            let mut response = json_response(status, &body);
            if status == StatusCode::CREATED
                && let Some(location) = answer_location(&events)
                && let Ok(value) = HeaderValue::from_str(&location)
            {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response
        }
        Outcome::Rejected {
            code,
            message,
            details,
        } => {
            metrics.command(if answer.replayed {
                CommandResult::Replayed
            } else {
                CommandResult::Rejected
            });
            ApiError::rejected(&code, message, details).into_response()
        }
    };
    if answer.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// The body of a command's answer: the document it changed, as the engine wrote it, and the
/// events it recorded.
#[derive(Serialize)]
struct Answered<'a> {
    document: Option<&'a serde_json::value::RawValue>,
    events: Vec<AnsweredEvent<'a>>,
}

/// An event in a command's answer.
#[derive(Serialize)]
struct AnsweredEvent<'a> {
    seq: u64,
    stream: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
}

/// Whether a command's first event brought its record into being.
fn answer_created(answer: &Answer) -> bool {
    matches!(&answer.outcome, Outcome::Applied { events, .. }
        if events.first().is_some_and(|event| event.created))
}

/// Where the document a command created or acted on is read: the collection path of its first
/// event's stream (`sales_order/SO-1` is `/v1/sales-orders/SO-1`). Ids are made of
/// `A-Z a-z 0-9 . _ - :`, which need no escaping in a path.
fn answer_location(events: &[RecordedEvent]) -> Option<String> {
    let stream = StreamName::parse(&events.first()?.stream)?;
    let collection = Collection::of_kind(stream.kind())?;
    Some(format!("/v1/{}/{}", collection.segment(), stream.id()))
}

/// A JSON response with a strong `ETag` (a digest of its bytes), or 304 Not Modified with no
/// body when the request's `If-None-Match` names that tag (or is `*`).
pub fn conditional_json_response(request: &HeaderMap, body: &Value) -> Response {
    use sha2::Digest as _;
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let digest = sha2::Sha256::digest(&bytes);
    let tag = hex::encode(&digest[..12]);
    let etag = format!("\"{tag}\"");
    // Weak comparison (RFC 9110 §13.1.2): `W/"x"` matches `"x"`.
    let matches = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|candidate| candidate.trim().trim_start_matches("W/"))
        .any(|candidate| candidate == "*" || candidate == etag);
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = (StatusCode::OK, bytes).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    };
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// A JSON response.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// An event as the API shows it. The global position is left out: it counts every tenant's
/// events, so it would tell one tenant how busy the others are.
pub fn event_json(stored: &StoredEvent) -> Result<Value, ApiError> {
    let payload: Value = serde_json::from_str(&stored.payload).map_err(ApiError::internal)?;
    Ok(json!({
        "seq": stored.seq,
        "stream": stored.stream,
        "stream_version": stored.stream_version,
        "type": stored.event_type,
        "schema_version": stored.schema_version,
        "business_time": stored.business_time.to_string(),
        "recorded_at": stored.recorded_at.to_string(),
        "payload": payload,
    }))
}

fn decode(stored: &StoredEvent) -> Result<Event, ApiError> {
    Event::from_json(&stored.event_type, stored.schema_version, &stored.payload)
        .map_err(ApiError::internal)
}

/// Reads a document from its stream: `None` if the tenant has no such stream.
fn read_document(
    store: &dyn Store,
    tenant: &flowline_core::id::TenantId,
    collection: Collection,
    id: &str,
) -> Result<Option<Value>, ApiError> {
    Ok(read_with_state(store, tenant, collection, id)?.map(|rendered| rendered.document))
}

/// `GET /v1/<collection>`: records filtered, sorted and paged (see [`crate::lists`]).
pub fn list_handler(collection: Collection) -> MethodRouter<App> {
    get(
        move |State(app): State<App>,
              principal: Principal,
              uri: axum::http::Uri,
              query: Result<Query<Vec<(String, String)>>, QueryRejection>| async move {
            principal.require(Access::Read)?;
            let params = query_params(query, crate::lists::parameters(collection))?;
            let page = list_page(&app, principal.tenant.clone(), collection, &params).await?;
            let mut response = json_response(StatusCode::OK, &page.to_json());
            if let Some(next) = &page.next_query {
                let link = format!("<{}?{next}>; rel=\"next\"", uri.path());
                if let Ok(value) = HeaderValue::from_str(&link) {
                    response.headers_mut().insert(header::LINK, value);
                }
            }
            Ok::<Response, ApiError>(response)
        },
    )
}

/// One page of a collection's list for `params` (names already checked): the API's list and
/// the dashboard's tables both read through here, so they agree.
pub async fn list_page(
    app: &App,
    tenant: flowline_core::id::TenantId,
    collection: Collection,
    params: &BTreeMap<String, String>,
) -> Result<crate::lists::Page, ApiError> {
    let limit = page_limit(params)?;
    let list = crate::lists::ListQuery::parse(collection, params, limit)?;
    let reporting = app
        .query(&tenant, |state| {
            state
                .settings
                .as_ref()
                .map(|settings| settings.reporting_time_zone.clone())
        })
        .await?;
    app.readers()
        .read(move |store| {
            let zone = reporting
                .and_then(|name| jiff::tz::TimeZone::get(name.as_str()).ok())
                .unwrap_or(jiff::tz::TimeZone::UTC);
            crate::lists::page(
                store,
                &tenant,
                &list,
                |store, id| read_with_state(store, &tenant, collection, id),
                |now| now.to_zoned(zone.clone()).date(),
            )
        })
        .await
}

fn read_with_state(
    store: &dyn Store,
    tenant: &flowline_core::id::TenantId,
    collection: Collection,
    id: &str,
) -> Result<Option<crate::lists::Rendered>, ApiError> {
    let kind = collection.kind();
    let stored = store
        .read_stream(tenant, &StreamName::new(kind, id).to_string())
        .map_err(store_error)?;
    let (Some(first), Some(latest)) = (stored.first(), stored.last()) else {
        return Ok(None);
    };
    let (created, updated) = (first.business_time, latest.business_time);
    let events = stored.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
    Ok(
        render::with_state(kind, id, &events).map(|(document, state)| crate::lists::Rendered {
            document,
            state,
            created,
            updated,
        }),
    )
}

/// `GET /v1/<collection>/{id}`.
pub fn get_handler(collection: Collection) -> MethodRouter<App> {
    get(
        move |State(app): State<App>,
              principal: Principal,
              headers: HeaderMap,
              path: Result<Path<Vec<(String, String)>>, PathRejection>| async move {
            principal.require(Access::Read)?;
            let params = path_params(path)?;
            let id = params.get("id").cloned().unwrap_or_default();
            let kind = collection.kind().as_str();
            check_path_id(kind, &id)?;
            let tenant = principal.tenant.clone();
            let document = app
                .readers()
                .read(move |store| {
                    read_document(store, &tenant, collection, &id)?
                        .ok_or_else(|| ApiError::not_found(kind, &id))
                })
                .await?;
            Ok::<Response, ApiError>(conditional_json_response(&headers, &document))
        },
    )
}

/// `GET /v1/<collection>/{id}/events`.
pub fn document_events_handler(collection: Collection) -> MethodRouter<App> {
    get(
        move |State(app): State<App>,
              principal: Principal,
              headers: HeaderMap,
              path: Result<Path<Vec<(String, String)>>, PathRejection>| async move {
            principal.require(Access::Read)?;
            let params = path_params(path)?;
            let id = params.get("id").cloned().unwrap_or_default();
            let kind = collection.kind().as_str();
            check_path_id(kind, &id)?;
            let tenant = principal.tenant.clone();
            let events = app
                .readers()
                .read(move |store| {
                    let stored = store
                        .read_stream(
                            &tenant,
                            &StreamName::new(collection.kind(), &id).to_string(),
                        )
                        .map_err(store_error)?;
                    if stored.is_empty() {
                        return Err(ApiError::not_found(kind, &id));
                    }
                    stored.iter().map(event_json).collect::<Result<Vec<_>, _>>()
                })
                .await?;
            let body = json!({ "object": "list", "data": events, "has_more": false });
            Ok::<Response, ApiError>(conditional_json_response(&headers, &body))
        },
    )
}

/// `GET /v1/settings`.
pub fn settings_handler() -> MethodRouter<App> {
    get(|State(app): State<App>, principal: Principal| async move {
        principal.require(Access::Read)?;
        let tenant = principal.tenant.clone();
        let settings = app
            .readers()
            .read(move |store| {
                let stored = store
                    .read_stream(&tenant, "tenant/settings")
                    .map_err(store_error)?;
                let events = stored.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
                render::from_stream(
                    flowline_core::error::DocumentKind::Tenant,
                    "settings",
                    &events,
                )
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::NotFound,
                        "the tenant is not configured yet: PUT /v1/settings",
                        json!({ "kind": "settings", "id": "settings" }),
                    )
                })
            })
            .await?;
        Ok::<Response, ApiError>(json_response(StatusCode::OK, &settings))
    })
}

/// `GET /v1/inventory?item=&location=`: positions computed from the ledger and open documents.
pub fn inventory_handler() -> MethodRouter<App> {
    get(
        |State(app): State<App>,
         principal: Principal,
         query: Result<Query<Vec<(String, String)>>, QueryRejection>| async move {
            principal.require(Access::Feed)?;
            let params = query_params(query, INVENTORY_QUERY)?;
            let item = params
                .get("item")
                .map(|text| {
                    Sku::parse(text).map_err(|error| ApiError::query("item", error.to_string()))
                })
                .transpose()?;
            let location = params
                .get("location")
                .map(|text| {
                    LocationId::parse(text)
                        .map_err(|error| ApiError::query("location", error.to_string()))
                })
                .transpose()?;
            let positions = app
                .query(&principal.tenant, move |state| {
                    views::positions(state, item.as_ref(), location.as_ref())
                })
                .await?;
            let data = serde_json::to_value(positions).map_err(ApiError::internal)?;
            let body = json!({ "object": "list", "data": data, "has_more": false });
            Ok::<Response, ApiError>(json_response(StatusCode::OK, &body))
        },
    )
}

/// `GET /v1/accounts`: every non-zero balance of the money ledger.
pub fn accounts_handler() -> MethodRouter<App> {
    get(|State(app): State<App>, principal: Principal| async move {
        principal.require(Access::Read)?;
        let balances = app
            .query(&principal.tenant, |state| {
                let mut rows: Vec<_> = state
                    .money
                    .iter()
                    .filter(|(_, balance)| **balance != 0)
                    .map(|((account, currency), balance)| (*account, *currency, *balance))
                    .collect();
                rows.sort_by_key(|(account, currency, _)| (*account, currency.to_string()));
                rows
            })
            .await?;
        let mut data = Vec::with_capacity(balances.len());
        for (account, currency, balance) in balances {
            let mut row = serde_json::to_value(account).map_err(ApiError::internal)?;
            if let Value::Object(fields) = &mut row {
                fields.entry("process").or_insert(Value::Null);
                fields.insert("currency".into(), Value::String(currency.to_string()));
                fields.insert("balance_minor".into(), Value::from(balance));
            }
            data.push(row);
        }
        let body = json!({ "object": "list", "data": data, "has_more": false });
        Ok::<Response, ApiError>(json_response(StatusCode::OK, &body))
    })
}

/// `GET /v1/me`.
pub fn me_handler() -> MethodRouter<App> {
    get(|principal: Principal| async move {
        let body = json!({
            "tenant": principal.tenant.as_str(),
            "role": principal.role.as_str(),
            "key_id": principal.key_id,
        });
        json_response(StatusCode::OK, &body)
    })
}

/// `GET /v1/openapi.json`.
pub fn openapi_handler() -> MethodRouter<App> {
    get(|State(app): State<App>| async move {
        let mut response = (StatusCode::OK, app.openapi_bytes()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    })
}

/// `GET /health`: the log can be read.
///
/// A process serving from a read replica adds how far the replica is behind its primary:
/// `{"status":"ok","replica":{"behind_bytes":0,"behind_seconds":0.0}}`.
pub fn health_handler() -> MethodRouter<App> {
    get(|State(app): State<App>| async move {
        app.readers()
            .read(|store| store.tenants().map(|_| ()).map_err(store_error))
            .await?;
        let backend = app.engine().backend().clone();
        let behind = tokio::task::spawn_blocking(move || backend.behind())
            .await
            .map_err(ApiError::internal)?
            .map_err(store_error)?;
        let body = match behind {
            None => json!({ "status": "ok" }),
            Some(behind) => json!({
                "status": "ok",
                "replica": {
                    "behind_bytes": behind.bytes,
                    "behind_seconds": behind.seconds,
                }
            }),
        };
        Ok::<Response, ApiError>(json_response(StatusCode::OK, &body))
    })
}

/// How long a scrape waits for the engine's queue depth.
const QUEUE_DEPTH_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// `GET /metrics`.
pub fn metrics_handler() -> MethodRouter<App> {
    get(|State(app): State<App>| async move {
        // The engine holds its lock while a tenant's writer replays its log (during the
        // warm-up, for one), so the depth is read on a blocking thread and left out of this
        // scrape if it does not come at once, rather than holding the scrape for the replay.
        let engine = app.engine().clone();
        let read = tokio::task::spawn_blocking(move || engine.queue_depth());
        let depth = tokio::time::timeout(QUEUE_DEPTH_WAIT, read)
            .await
            .ok()
            .and_then(Result::ok);
        let text = app.metrics().render(depth);
        let mut response = (StatusCode::OK, text).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        );
        response
    })
}
