//! The lists of `GET /v1/<collection>`: filters, sorts and cursors.
//!
//! A list request names filters (each collection's own, from [`filters`], and the time filters
//! every collection has), one sort (`id`, `created` or `updated`, `-` for descending) and a
//! page size; each page after the first is asked for with the opaque `cursor` of the one
//! before, also given in a `Link: <…>; rel="next"` header.
//!
//! Work per page is bounded, whatever the filters: the keys a list sorts by come from the
//! store, the ids from one index range and, only when the list sorts or filters by time, the
//! first and latest business times from its stream summaries (an index step per document of
//! the collection); at most [`SCAN_BUDGET`] documents are read per page to test the filters that
//! need the document. A page that reaches the budget before it is full ends early with
//! `has_more` and a cursor, so a filter that matches rarely costs several short pages, never one
//! unbounded request. Ids sort naturally (`SO-9` before `SO-10`).
//!
//! "Now", for the `attention` filter, is the business time of the tenant's latest event, as on
//! the dashboard: a simulated or imported log runs on its own clock.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flowline_core::documents::sales_order::Attention;
use flowline_core::id::{TenantId, natural_cmp};
use flowline_core::state::State;
use flowline_core::stream::StreamName;
use flowline_store::{Store, StreamSummary};
use jiff::Timestamp;
use jiff::civil::Date;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::readers::store_error;
use crate::render::Collection;
use crate::routes::{QueryParameter, QueryType};
use crate::urls;

/// The most documents read to test filters for one page.
pub const SCAN_BUDGET: usize = 2_000;

/// The most comma-separated values one filter takes.
pub const VALUES_MAX: usize = 100;

/// What a list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    /// The id, naturally.
    Id,
    /// The first event's business time (a sales order's placing), then the id.
    Created,
    /// The latest event's business time, then the id.
    Updated,
}

/// A sort: its key and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sort {
    key: SortKey,
    descending: bool,
}

const SORTS: [&str; 6] = ["id", "-id", "created", "-created", "updated", "-updated"];

impl Sort {
    fn parse(text: &str) -> Result<Self, ApiError> {
        let (descending, name) = match text.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, text),
        };
        let key = match name {
            "id" => SortKey::Id,
            "created" => SortKey::Created,
            "updated" => SortKey::Updated,
            _ => {
                return Err(ApiError::query(
                    "sort",
                    format!("`{text}` is not a sort; use one of {}", SORTS.join(", ")),
                ));
            }
        };
        Ok(Self { key, descending })
    }

    fn name(self) -> String {
        let key = match self.key {
            SortKey::Id => "id",
            SortKey::Created => "created",
            SortKey::Updated => "updated",
        };
        if self.descending {
            format!("-{key}")
        } else {
            key.to_string()
        }
    }

    /// The time a summary sorts by (none for the id sort).
    fn time(self, summary: &StreamSummary) -> Option<i64> {
        match self.key {
            SortKey::Id => None,
            SortKey::Created => Some(summary.created.as_microsecond()),
            SortKey::Updated => Some(summary.updated.as_microsecond()),
        }
    }

    /// Compares two positions `(time, id)` in this sort's order.
    fn compare(self, a: (Option<i64>, &str), b: (Option<i64>, &str)) -> Ordering {
        let order = a.0.cmp(&b.0).then_with(|| natural_cmp(a.1, b.1));
        if self.descending {
            order.reverse()
        } else {
            order
        }
    }
}

/// Where the next page starts: after this position of this sort. Encoded as URL-safe base64 of
/// `v1 <sort> <time or -> <id>` so that clients treat it as opaque.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    sort: Sort,
    time: Option<i64>,
    id: String,
}

impl Cursor {
    fn encode(&self) -> String {
        let time = self
            .time
            .map_or_else(|| "-".to_string(), |time| time.to_string());
        URL_SAFE_NO_PAD.encode(format!("v1 {} {time} {}", self.sort.name(), self.id))
    }

    fn decode(text: &str) -> Result<Self, ApiError> {
        let refused = || {
            ApiError::query(
                "cursor",
                "not a cursor this API gave out; pass the `next_cursor` of the previous page \
                 unchanged, or leave it out to start from the first page",
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| refused())?;
        let text = String::from_utf8(bytes).map_err(|_| refused())?;
        let mut parts = text.splitn(4, ' ');
        let (Some("v1"), Some(sort), Some(time), Some(id)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(refused());
        };
        let sort = Sort::parse(sort).map_err(|_| refused())?;
        let time = match (sort.key, time) {
            (SortKey::Id, "-") => None,
            (SortKey::Id, _) => return Err(refused()),
            (_, time) => Some(time.parse::<i64>().map_err(|_| refused())?),
        };
        if id.is_empty() {
            return Err(refused());
        }
        Ok(Self {
            sort,
            time,
            id: id.to_string(),
        })
    }
}

/// How a filter tests a record.
#[derive(Debug, Clone, Copy)]
enum Test {
    /// The value (or any of several, comma-separated) equals a string found at one of these
    /// paths of the document's JSON (`*` steps into every element of an array).
    Equals(&'static [&'static str]),
    /// The first event's business time is at or after the instant.
    CreatedFrom,
    /// The first event's business time is before the instant.
    CreatedBefore,
    /// The latest event's business time is at or after the instant.
    UpdatedFrom,
    /// The latest event's business time is before the instant.
    UpdatedBefore,
    /// The date at this path is on or after the date.
    DateFrom(&'static str),
    /// The date at this path is before the date.
    DateBefore(&'static str),
    /// A sales order needs attention for one of these reasons.
    Attention,
}

/// A filter a collection's list takes.
#[derive(Debug, Clone, Copy)]
pub struct Filter {
    /// The query parameter.
    pub name: &'static str,
    /// What it selects, for the OpenAPI document.
    pub description: &'static str,
    test: Test,
}

const fn equals(
    name: &'static str,
    description: &'static str,
    paths: &'static [&'static str],
) -> Filter {
    Filter {
        name,
        description,
        test: Test::Equals(paths),
    }
}

const STATUS: Filter = equals(
    "status",
    "Only records in this life-cycle state (`state`); several, comma-separated, for any of them.",
    &["state"],
);

/// The time filters every collection takes.
const TIMES: [Filter; 4] = [
    Filter {
        name: "created_from",
        description: "Only records created at or after this instant (RFC 3339, or a date for its \
                      start in UTC): the business time of the first event, a sales order's \
                      placing.",
        test: Test::CreatedFrom,
    },
    Filter {
        name: "created_before",
        description: "Only records created before this instant (RFC 3339, or a date for its \
                      start in UTC).",
        test: Test::CreatedBefore,
    },
    Filter {
        name: "updated_from",
        description: "Only records whose latest event is at or after this instant (RFC 3339, or \
                      a date for its start in UTC).",
        test: Test::UpdatedFrom,
    },
    Filter {
        name: "updated_before",
        description: "Only records whose latest event is before this instant (RFC 3339, or a \
                      date for its start in UTC).",
        test: Test::UpdatedBefore,
    },
];

const SALES_ORDERS: &[Filter] = &[
    STATUS,
    equals(
        "channel",
        "Only orders of this sales channel.",
        &["channel"],
    ),
    equals("customer", "Only orders of this customer.", &["customer"]),
    equals("currency", "Only orders in this currency.", &["currency"]),
    equals(
        "sku",
        "Only orders with a line of this item.",
        &["lines.*.line.sku"],
    ),
    equals(
        "center",
        "Only orders allocated at or shipped from this fulfillment center.",
        &["lines.*.allocations.*.location", "shipments.*.location"],
    ),
    Filter {
        name: "attention",
        description: "Only open orders that need attention for this reason: `lost_in_transit`, \
                      `late`, `stuck` or `at_risk` (several, comma-separated), as of the \
                      tenant's latest event.",
        test: Test::Attention,
    },
];

const PURCHASE_ORDERS: &[Filter] = &[
    STATUS,
    equals("supplier", "Only orders to this supplier.", &["supplier"]),
    equals(
        "center",
        "Only orders delivered to this center.",
        &["location"],
    ),
    equals("currency", "Only orders in this currency.", &["currency"]),
    equals(
        "sku",
        "Only orders with a line of this item.",
        &["lines.*.line.sku"],
    ),
    Filter {
        name: "expected_from",
        description: "Only orders the supplier committed to deliver on or after this date \
                      (`committed_on`).",
        test: Test::DateFrom("committed_on"),
    },
    Filter {
        name: "expected_before",
        description: "Only orders the supplier committed to deliver before this date.",
        test: Test::DateBefore("committed_on"),
    },
];

const WORK_ORDERS: &[Filter] = &[
    STATUS,
    equals(
        "kind",
        "Only work orders of this kind (`kitting`, …).",
        &["kind"],
    ),
    equals("item", "Only work orders making this item.", &["item"]),
    equals("center", "Only work orders at this center.", &["location"]),
];

const RETURNS: &[Filter] = &[
    STATUS,
    equals(
        "reason",
        "Only returns with a line of this reason.",
        &["lines.*.line.reason"],
    ),
    equals("order", "Only returns of this sales order.", &["order"]),
    equals("policy", "Only returns under this policy.", &["policy"]),
    equals(
        "sku",
        "Only returns with a line of this item.",
        &["lines.*.line.sku"],
    ),
];

const TRANSFERS: &[Filter] = &[
    equals(
        "status",
        "Only transfers in this state (`status`).",
        &["status"],
    ),
    equals("from", "Only transfers from this center.", &["from"]),
    equals("to", "Only transfers to this center.", &["to"]),
    equals(
        "sku",
        "Only transfers with a line of this item.",
        &["lines.*.sku"],
    ),
];

const ITEMS: &[Filter] = &[equals(
    "category",
    "Only items of this category.",
    &["category"],
)];

const LOCATIONS: &[Filter] = &[
    equals("region", "Only centers of this region.", &["region"]),
    equals(
        "country",
        "Only centers in this country.",
        &["address.country"],
    ),
];

const SUPPLIERS: &[Filter] = &[
    equals(
        "currency",
        "Only suppliers billing in this currency.",
        &["currency"],
    ),
    equals("country", "Only suppliers in this country.", &["country"]),
];

const CARRIERS: &[Filter] = &[equals(
    "mode",
    "Only carriers with a service of this mode (`road`, `air`, …).",
    &["services.*.mode"],
)];

const COUNTS: &[Filter] = &[equals("sku", "Only counts of this item.", &["lines.*.sku"])];

const ADJUSTMENTS: &[Filter] = &[equals(
    "sku",
    "Only adjustments moving this item.",
    &["moves.*.sku"],
)];

const COSTS: &[Filter] = &[
    equals("process", "Only costs of this SCOR process.", &["process"]),
    equals("cost_type", "Only costs of this type.", &["cost_type"]),
    equals(
        "settlement",
        "Only costs settled this way.",
        &["settlement"],
    ),
    equals(
        "currency",
        "Only costs in this currency.",
        &["amount.currency"],
    ),
];

const FIXED_ASSETS: &[Filter] = &[
    STATUS,
    equals("process", "Only assets of this SCOR process.", &["process"]),
];

const TARGETS: &[Filter] = &[
    STATUS,
    equals("metric", "Only targets on this metric.", &["metric"]),
];

const INITIATIVES: &[Filter] = &[
    STATUS,
    equals(
        "metric",
        "Only initiatives aimed at this metric.",
        &["metrics.*"],
    ),
];

const PROPOSALS: &[Filter] = &[
    STATUS,
    equals("location", "Only proposals for this center.", &["location"]),
    equals(
        "supplier",
        "Only proposals from this supplier.",
        &["source.supplier"],
    ),
];

const PROMOTIONS: &[Filter] = &[
    STATUS,
    equals(
        "sku",
        "Only promotions naming this item (promotions of every item are not included).",
        &["items.*"],
    ),
];

/// A collection's own filters (the time filters come on top).
pub fn filters(collection: Collection) -> &'static [Filter] {
    match collection {
        Collection::SalesOrders => SALES_ORDERS,
        Collection::PurchaseOrders => PURCHASE_ORDERS,
        Collection::WorkOrders => WORK_ORDERS,
        Collection::Returns => RETURNS,
        Collection::Transfers => TRANSFERS,
        Collection::Items => ITEMS,
        Collection::Locations => LOCATIONS,
        Collection::Suppliers => SUPPLIERS,
        Collection::Carriers => CARRIERS,
        Collection::ReturnPolicies => &[],
        Collection::Counts => COUNTS,
        Collection::Adjustments => ADJUSTMENTS,
        Collection::Costs => COSTS,
        Collection::FixedAssets => FIXED_ASSETS,
        Collection::Targets => TARGETS,
        Collection::Initiatives => INITIATIVES,
        Collection::Proposals => PROPOSALS,
        Collection::Forecasts => &[],
        Collection::Promotions => PROMOTIONS,
    }
}

/// Every query parameter of a collection's list, in the order the OpenAPI document shows them.
pub fn parameters(collection: Collection) -> &'static [QueryParameter] {
    static PARAMETERS: LazyLock<Vec<Vec<QueryParameter>>> = LazyLock::new(|| {
        Collection::ALL
            .into_iter()
            .map(|collection| {
                let mut parameters = vec![
                    QueryParameter {
                        name: "limit",
                        description: "Records per page: 1 to 1000, default 100.",
                        json_type: crate::routes::PAGE_SIZE,
                    },
                    QueryParameter {
                        name: "sort",
                        description: "`id` (natural order: SO-9 before SO-10), `created` or \
                                      `updated` (business time, then id); `-` before it for \
                                      descending. Default `id`.",
                        json_type: QueryType::OneOf(&SORTS),
                    },
                    QueryParameter {
                        name: "cursor",
                        description: "The `next_cursor` of the previous page (also in its \
                                      `Link` header), unchanged, with the same sort.",
                        json_type: QueryType::String,
                    },
                    QueryParameter {
                        name: "after",
                        description: "Records after this id, in id order (the `next_after` of \
                                      the previous page); `cursor` does the same for any sort.",
                        json_type: QueryType::String,
                    },
                ];
                for filter in filters(collection).iter().chain(TIMES.iter()) {
                    parameters.push(QueryParameter {
                        name: filter.name,
                        description: filter.description,
                        json_type: QueryType::String,
                    });
                }
                parameters
            })
            .collect()
    });
    let index = Collection::ALL
        .iter()
        .position(|known| *known == collection)
        .unwrap_or(0);
    PARAMETERS.get(index).map_or(&[], Vec::as_slice)
}

/// A filter with its parsed value.
#[derive(Debug, Clone)]
enum Condition {
    Equals(&'static [&'static str], Vec<String>),
    CreatedFrom(Timestamp),
    CreatedBefore(Timestamp),
    UpdatedFrom(Timestamp),
    UpdatedBefore(Timestamp),
    DateFrom(&'static str, Date),
    DateBefore(&'static str, Date),
    Attention(Vec<Attention>),
}

impl Condition {
    fn parse(filter: &Filter, value: &str) -> Result<Self, ApiError> {
        let name = filter.name;
        if value.is_empty() {
            return Err(ApiError::query(
                name,
                "is empty; give a value or leave the filter out",
            ));
        }
        let instant = || parse_instant(name, value);
        let date = || {
            value
                .parse::<Date>()
                .map_err(|_| ApiError::query(name, format!("`{value}` is not a date (YYYY-MM-DD)")))
        };
        Ok(match filter.test {
            Test::Equals(paths) => {
                let values: Vec<String> = value.split(',').map(str::to_string).collect();
                // Each value is compared with every document a page reads: a bounded list
                // keeps a page's work bounded whatever the query's length.
                if values.len() > VALUES_MAX {
                    return Err(ApiError::query(
                        name,
                        format!(
                            "{} values; a filter takes at most {VALUES_MAX}",
                            values.len()
                        ),
                    ));
                }
                Self::Equals(paths, values)
            }
            Test::CreatedFrom => Self::CreatedFrom(instant()?),
            Test::CreatedBefore => Self::CreatedBefore(instant()?),
            Test::UpdatedFrom => Self::UpdatedFrom(instant()?),
            Test::UpdatedBefore => Self::UpdatedBefore(instant()?),
            Test::DateFrom(path) => Self::DateFrom(path, date()?),
            Test::DateBefore(path) => Self::DateBefore(path, date()?),
            Test::Attention => {
                let mut kinds = Vec::new();
                for part in value.split(',') {
                    if kinds.len() == VALUES_MAX {
                        return Err(ApiError::query(
                            name,
                            format!("a filter takes at most {VALUES_MAX} values"),
                        ));
                    }
                    let kind = Attention::parse(part).ok_or_else(|| {
                        let known: Vec<&str> = Attention::ALL.iter().map(|k| k.name()).collect();
                        ApiError::query(
                            name,
                            format!("`{part}` is not a reason; use {}", known.join(", ")),
                        )
                    })?;
                    kinds.push(kind);
                }
                Self::Attention(kinds)
            }
        })
    }

    fn needs_document(&self) -> bool {
        !matches!(
            self,
            Self::CreatedFrom(_)
                | Self::CreatedBefore(_)
                | Self::UpdatedFrom(_)
                | Self::UpdatedBefore(_)
        )
    }

    /// Whether the summary passes (conditions on the document pass here).
    fn passes_summary(&self, summary: &StreamSummary) -> bool {
        match self {
            Self::CreatedFrom(at) => summary.created >= *at,
            Self::CreatedBefore(at) => summary.created < *at,
            Self::UpdatedFrom(at) => summary.updated >= *at,
            Self::UpdatedBefore(at) => summary.updated < *at,
            _ => true,
        }
    }

    /// Whether the document passes (conditions on the summary pass here).
    fn passes_document(&self, document: &Value, state: &State, id: &str, now: Now) -> bool {
        match self {
            Self::Equals(paths, values) => paths.iter().any(|path| {
                let mut found = Vec::new();
                collect(document, path, &mut found);
                found
                    .iter()
                    .any(|leaf| values.iter().any(|value| leaf_equals(leaf, value)))
            }),
            Self::DateFrom(path, from) => date_at(document, path).is_some_and(|date| date >= *from),
            Self::DateBefore(path, before) => {
                date_at(document, path).is_some_and(|date| date < *before)
            }
            Self::Attention(kinds) => {
                let Some((now, today)) = now else {
                    return false;
                };
                id.parse()
                    .ok()
                    .and_then(|id| state.sales_orders.get(&id))
                    .and_then(|order| order.attention(now, today))
                    .is_some_and(|kind| kinds.contains(&kind))
            }
            _ => true,
        }
    }
}

/// The tenant's "now" and its date in the reporting time zone, if it has any event.
type Now = Option<(Timestamp, Date)>;

fn parse_instant(name: &str, value: &str) -> Result<Timestamp, ApiError> {
    if let Ok(instant) = value.parse::<Timestamp>() {
        return Ok(instant);
    }
    value
        .parse::<Date>()
        .ok()
        .and_then(|date| date.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|zoned| zoned.timestamp())
        .ok_or_else(|| {
            ApiError::query(
                name,
                format!("`{value}` is not an instant (RFC 3339, 2025-03-01T00:00:00Z) or a date"),
            )
        })
}

/// Every value at `path` (dot-separated, `*` for each element of an array).
fn collect<'v>(value: &'v Value, path: &str, found: &mut Vec<&'v Value>) {
    let (step, rest) = match path.split_once('.') {
        Some((step, rest)) => (step, Some(rest)),
        None => (path, None),
    };
    let next: Vec<&Value> = if step == "*" {
        value
            .as_array()
            .map(|items| items.iter().collect())
            .unwrap_or_default()
    } else {
        value.get(step).into_iter().collect()
    };
    for item in next {
        match rest {
            Some(rest) => collect(item, rest, found),
            None => found.push(item),
        }
    }
}

fn leaf_equals(leaf: &Value, wanted: &str) -> bool {
    match leaf {
        Value::String(text) => text == wanted,
        Value::Number(number) => number.to_string() == wanted,
        Value::Bool(flag) => flag.to_string() == wanted,
        _ => false,
    }
}

fn date_at(document: &Value, path: &str) -> Option<Date> {
    document.get(path)?.as_str()?.parse().ok()
}

/// A parsed list request.
#[derive(Debug, Clone)]
pub struct ListQuery {
    collection: Collection,
    limit: usize,
    sort: Sort,
    cursor: Option<Cursor>,
    conditions: Vec<Condition>,
    /// The parameters as given, but the cursor: the next page's link repeats them.
    echo: Vec<(String, String)>,
}

impl ListQuery {
    /// Parses the query parameters of a list request (already checked to be known names).
    pub fn parse(
        collection: Collection,
        params: &BTreeMap<String, String>,
        limit: usize,
    ) -> Result<Self, ApiError> {
        let sort = match params.get("sort") {
            Some(text) => Sort::parse(text)?,
            None => Sort {
                key: SortKey::Id,
                descending: false,
            },
        };
        let cursor = match (params.get("cursor"), params.get("after")) {
            (Some(_), Some(_)) => {
                return Err(ApiError::query(
                    "after",
                    "give `cursor` or `after`, not both",
                ));
            }
            (Some(text), None) => {
                let cursor = Cursor::decode(text)?;
                if cursor.sort != sort {
                    return Err(ApiError::query(
                        "cursor",
                        format!(
                            "this cursor continues a list sorted by `{}`, not `{}`; ask with \
                             sort={} or start again without a cursor",
                            cursor.sort.name(),
                            sort.name(),
                            cursor.sort.name()
                        ),
                    ));
                }
                Some(cursor)
            }
            (None, Some(id)) => {
                if sort.key != SortKey::Id {
                    return Err(ApiError::query(
                        "after",
                        "`after` continues a list in id order; use `cursor` with other sorts",
                    ));
                }
                Some(Cursor {
                    sort,
                    time: None,
                    id: id.clone(),
                })
            }
            (None, None) => None,
        };
        let mut conditions = Vec::new();
        for filter in filters(collection).iter().chain(TIMES.iter()) {
            if let Some(value) = params.get(filter.name) {
                conditions.push(Condition::parse(filter, value)?);
            }
        }
        let echo = params
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "cursor" | "after"))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        Ok(Self {
            collection,
            limit,
            sort,
            cursor,
            conditions,
            echo,
        })
    }

    /// Whether the list needs the tenant's "now".
    fn needs_now(&self) -> bool {
        self.conditions
            .iter()
            .any(|condition| matches!(condition, Condition::Attention(_)))
    }
}

/// One page of a list.
#[derive(Debug)]
pub struct Page {
    /// The records.
    pub data: Vec<Value>,
    /// Each record's first and latest business times, the `created` and `updated` it sorts by.
    pub times: Vec<(Timestamp, Timestamp)>,
    /// The cursor of the next page, if there is one.
    pub next_cursor: Option<String>,
    /// The last id of this page when the list is in id order (the older `next_after`).
    pub next_after: Option<String>,
    /// The query string of the next page, for the `Link` header.
    pub next_query: Option<String>,
}

impl Page {
    /// The page as the API answers it.
    pub fn to_json(&self) -> Value {
        json!({
            "object": "list",
            "data": self.data,
            "has_more": self.next_cursor.is_some(),
            "next_after": self.next_after,
            "next_cursor": self.next_cursor,
        })
    }
}

/// A document read for a list: its JSON, the state it was folded into, and the business times
/// of its first and latest events.
pub struct Rendered {
    /// The document as the API shows it.
    pub document: Value,
    /// The state it was rendered from.
    pub state: State,
    /// Its first event's business time.
    pub created: Timestamp,
    /// Its latest event's business time.
    pub updated: Timestamp,
}

/// Reads one page of `query` for `tenant`.
pub fn page(
    store: &dyn Store,
    tenant: &TenantId,
    query: &ListQuery,
    render: impl Fn(&dyn Store, &str) -> Result<Option<Rendered>, ApiError>,
    reporting: impl Fn(Timestamp) -> Date,
) -> Result<Page, ApiError> {
    let kind = query.collection.kind().as_str();
    let sort = query.sort;
    // The id sort without time filters needs the ids alone (one index range); the times of
    // every document are read only when the list sorts or filters by them.
    let needs_times = sort.key != SortKey::Id
        || query
            .conditions
            .iter()
            .any(|condition| !condition.needs_document());
    let mut summaries = if needs_times {
        store.stream_summaries(tenant, kind).map_err(store_error)?
    } else {
        store
            .streams_of_kind(tenant, kind, None, usize::MAX)
            .map_err(store_error)?
            .into_iter()
            .map(|name| StreamSummary {
                id: StreamName::id_in(kind, &name).unwrap_or(&name).to_string(),
                created: Timestamp::UNIX_EPOCH,
                updated: Timestamp::UNIX_EPOCH,
            })
            .collect()
    };
    summaries.retain(|summary| {
        query
            .conditions
            .iter()
            .all(|condition| condition.passes_summary(summary))
    });
    summaries.sort_by(|a, b| sort.compare((sort.time(a), &a.id), (sort.time(b), &b.id)));
    let start = match &query.cursor {
        None => 0,
        Some(cursor) => summaries.partition_point(|summary| {
            sort.compare((sort.time(summary), &summary.id), (cursor.time, &cursor.id))
                != Ordering::Greater
        }),
    };
    let now: Now = if query.needs_now() {
        store
            .latest_business_time(tenant)
            .map_err(store_error)?
            .map(|now| (now, reporting(now)))
    } else {
        None
    };
    let document_tests = query.conditions.iter().any(Condition::needs_document);
    let mut data = Vec::new();
    let mut times = Vec::new();
    let mut last: Option<&StreamSummary> = None;
    let mut more = false;
    for (scanned, summary) in summaries[start.min(summaries.len())..].iter().enumerate() {
        if data.len() == query.limit || (document_tests && scanned == SCAN_BUDGET) {
            more = true;
            break;
        }
        last = Some(summary);
        let Some(rendered) = render(store, &summary.id)? else {
            continue;
        };
        let passes = query.conditions.iter().all(|condition| {
            condition.passes_document(&rendered.document, &rendered.state, &summary.id, now)
        });
        if passes {
            data.push(rendered.document);
            times.push((rendered.created, rendered.updated));
        }
    }
    let next = last.filter(|_| more).map(|summary| Cursor {
        sort,
        time: sort.time(summary),
        id: summary.id.clone(),
    });
    let next_cursor = next.as_ref().map(Cursor::encode);
    let next_query = next_cursor.as_ref().map(|cursor| {
        let mut pairs = query.echo.clone();
        pairs.push(("cursor".to_string(), cursor.clone()));
        urls::query(pairs.iter().map(|(name, value)| (name, value)))
    });
    Ok(Page {
        data,
        times,
        next_after: next
            .as_ref()
            .filter(|_| sort.key == SortKey::Id && !sort.descending)
            .map(|cursor| cursor.id.clone()),
        next_cursor,
        next_query,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_anything_else_is_refused_naming_the_cursor() {
        let cursor = Cursor {
            sort: Sort::parse("-created").unwrap(),
            time: Some(1_740_000_000_000_000),
            id: "SO 1".into(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        for bad in ["", "!!", "djE", &URL_SAFE_NO_PAD.encode("v1 id 12 SO-1")] {
            let error = Cursor::decode(bad).unwrap_err();
            assert!(format!("{error:?}").contains("cursor"), "{bad}: {error:?}");
        }
    }

    #[test]
    fn paths_reach_into_arrays() {
        // Two lines of a sales order, the second allocated at FC-2.
        let document = json!({ "lines": [
            { "line": { "sku": "MUG" }, "allocations": [] },
            { "line": { "sku": "LID" }, "allocations": [{ "location": "FC-2" }] }
        ]});
        let mut found = Vec::new();
        collect(&document, "lines.*.allocations.*.location", &mut found);
        assert_eq!(found, [&json!("FC-2")]);
        found.clear();
        collect(&document, "lines.*.line.sku", &mut found);
        assert_eq!(found, [&json!("MUG"), &json!("LID")]);
    }
}
