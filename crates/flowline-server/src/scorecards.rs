//! The scorecard of a tenant, folded from its log: once cold, then kept up to date by folding
//! only the events recorded since (what `flowline metrics` and `GET /v1/scorecard` use).

use flowline_core::Event;
use flowline_core::error::DocumentKind;
use flowline_core::id::TenantId;
use flowline_core::state::MasterEvent;
use flowline_metrics::fold::{EmissionSettings, EventTime, Fold, FoldSettings, Slice};
use flowline_metrics::order::Rules;
use flowline_metrics::period::{Granularity, Range};
use flowline_metrics::scorecard::{Scorecard, scorecard};
use flowline_store::{Store, StoreError};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;
use std::collections::BTreeMap;

/// Events read per page while folding.
const PAGE: usize = 10_000;

/// Why a scorecard could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum ScorecardError {
    /// The log could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An event in the log could not be decoded.
    #[error("event {seq} cannot be decoded: {reason}")]
    Decode {
        /// Its sequence number.
        seq: u64,
        /// Why.
        reason: String,
    },
}

/// The fold's settings for a tenant, from its configuration: `None` if it is not configured.
pub fn settings(
    store: &dyn Store,
    tenant: &TenantId,
    keep_settled_orders: bool,
) -> Result<Option<FoldSettings>, ScorecardError> {
    let stream = format!("{}/settings", DocumentKind::Tenant);
    for stored in store.read_stream(tenant, &stream)? {
        let event = decode(&stored)?;
        if let Event::Master(MasterEvent::TenantConfigured { settings }) = event {
            let reporting =
                TimeZone::get(settings.reporting_time_zone.as_str()).unwrap_or(TimeZone::UTC);
            return Ok(Some(FoldSettings {
                reporting,
                base_currency: settings.base_currency,
                rules: Rules::standard(),
                emissions: EmissionSettings::standard(),
                keep_settled_orders,
            }));
        }
    }
    Ok(None)
}

/// Decodes a stored event.
pub fn decode(stored: &flowline_store::StoredEvent) -> Result<Event, ScorecardError> {
    Event::from_json(&stored.event_type, stored.schema_version, &stored.payload).map_err(|reason| {
        ScorecardError::Decode {
            seq: stored.seq,
            reason,
        }
    })
}

/// How far [`read_events`] went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    /// The head of the log, as it was when the last page was read.
    End,
    /// A page boundary where `stop` asked to stop (the server is shutting down).
    Stopped,
}

/// Reads the tenant's events after `after_seq` page by page, in order, decodes each once and
/// hands it to `visit` with its sequence number and business time. Asks `stop` before each
/// page, so a long read (a cold fold of a large log) ends soon after shutdown begins; what was
/// visited by then is a consistent prefix of the log.
pub fn read_events(
    store: &dyn Store,
    tenant: &TenantId,
    after_seq: u64,
    stop: &dyn Fn() -> bool,
    visit: &mut dyn FnMut(u64, &Event, Timestamp),
) -> Result<Reached, ScorecardError> {
    let mut head = after_seq;
    loop {
        if stop() {
            return Ok(Reached::Stopped);
        }
        let page = store.read_tenant(tenant, head, PAGE)?;
        if page.is_empty() {
            return Ok(Reached::End);
        }
        for stored in &page {
            visit(stored.seq, &decode(stored)?, stored.business_time);
            head = stored.seq;
        }
    }
}

/// Folds the tenant's events after `after_seq` into `fold`; returns the last sequence number
/// folded.
pub fn advance(
    store: &dyn Store,
    tenant: &TenantId,
    fold: &mut Fold,
    after_seq: u64,
) -> Result<u64, ScorecardError> {
    let mut head = after_seq;
    read_events(
        store,
        tenant,
        after_seq,
        &|| false,
        &mut |seq, event, at| {
            fold.apply(event, EventTime { at });
            head = seq;
        },
    )?;
    Ok(head)
}

/// A cold fold of the tenant's whole log, with the last sequence number folded; `None` if the
/// tenant is not configured.
pub fn fold_log(
    store: &dyn Store,
    tenant: &TenantId,
    keep_settled_orders: bool,
) -> Result<Option<(Fold, u64)>, ScorecardError> {
    let Some(settings) = settings(store, tenant, keep_settled_orders)? else {
        return Ok(None);
    };
    let mut fold = Fold::new(settings);
    let head = advance(store, tenant, &mut fold, 0)?;
    Ok(Some((fold, head)))
}

/// The range a request names: `[from, to)` when both are given, else the `period` (month by
/// default) containing `from`, or else [`default_range`].
pub fn range_of(
    fold: &Fold,
    from: Option<jiff::civil::Date>,
    to: Option<jiff::civil::Date>,
    granularity: Granularity,
) -> Range {
    match (from, to) {
        (Some(from), Some(to)) => Range::of_dates(from, to),
        (Some(from), None) => granularity.period_of(from),
        (None, Some(to)) => granularity.period_of(to.yesterday().unwrap_or(to)),
        (None, None) => default_range(fold, granularity),
    }
}

/// The period shown when none is asked for: the latest complete period of `granularity` that
/// the tenant's data reaches into, so a scorecard opens on a whole month rather than the few
/// days of the current one. "Complete" is judged against the data, not the clock: the period
/// holding the latest operational event is complete if that event falls on its last day;
/// otherwise the period before it is shown, if the data reaches back into it. With no earlier
/// data (a tenant younger than one period), the period of the latest event; with no data at all,
/// the period of today.
pub fn default_range(fold: &Fold, granularity: Granularity) -> Range {
    let zone = fold.settings().reporting.clone();
    let day = |at: Timestamp| at.to_zoned(zone.clone()).date();
    let Some((first, last)) = fold.activity() else {
        return granularity.period_of(day(Timestamp::now()));
    };
    let (first, last) = (day(first), day(last));
    let latest = granularity.period_of(last);
    if latest.to.date().yesterday().ok() == Some(last) {
        return latest;
    }
    let before = granularity.before(last);
    if before.to.date() > first {
        before
    } else {
        latest
    }
}

/// What [`default_range`] picked, in words: "the latest complete month of the data
/// (2016-09-04 to 2018-10-17)".
pub fn default_range_meaning(fold: &Fold, granularity: Granularity) -> String {
    let zone = fold.settings().reporting.clone();
    let period = granularity.noun();
    let Some((first, last)) = fold.activity() else {
        return format!("no data yet: the {period} of today");
    };
    let (first, last) = (
        first.to_zoned(zone.clone()).date(),
        last.to_zoned(zone).date(),
    );
    let range = default_range(fold, granularity);
    let which = if range.contains(flowline_metrics::period::Day::of_date(last))
        && range.to.date().yesterday().ok() != Some(last)
    {
        "the latest"
    } else {
        "the latest complete"
    };
    format!("{which} {period} of the data (events from {first} to {last})")
}

/// A scorecard with the slices of one dimension beside it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The tenant.
    pub tenant: String,
    /// The reporting time zone.
    pub reporting_time_zone: String,
    /// The base currency of money figures.
    pub currency: String,
    /// First day (inclusive).
    pub from: String,
    /// Last day (exclusive).
    pub to: String,
    /// The emission factor set used.
    pub emission_factors: String,
    /// The whole tenant's scorecard.
    pub scorecard: Scorecard,
    /// One scorecard per slice of the dimension asked for, largest population first.
    pub slices: Vec<Scorecard>,
    /// The tenant's active targets over the range: met or missed, trend, baseline.
    pub targets: Vec<flowline_metrics::targets::TargetStatus>,
    /// The tenant's improvement initiatives with each metric before and during them.
    pub initiatives: Vec<InitiativeReview>,
}

/// An initiative and the reviews of its metrics.
#[derive(Debug, Clone, Serialize)]
pub struct InitiativeReview {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its status.
    pub status: String,
    /// Who owns it.
    pub owner: String,
    /// What it should achieve.
    pub expected_effect: String,
    /// Each of its metrics before and during it.
    pub reviews: Vec<flowline_metrics::targets::Review>,
}

/// The report of a range: the whole tenant's scorecard, and one per value of `by`.
pub fn report(
    tenant: &TenantId,
    fold: &Fold,
    range: Range,
    by: Option<flowline_metrics::fold::Dimension>,
    as_of: Timestamp,
    slices_max: usize,
) -> Report {
    let whole = scorecard(fold, range, &Slice::All, as_of);
    let mut slices = Vec::new();
    if let Some(dimension) = by {
        let mut populations: BTreeMap<Slice, i64> = BTreeMap::new();
        for (day, slice, bucket) in fold.buckets() {
            if range.contains(day) && dimension.owns(slice) {
                *populations.entry(slice.clone()).or_default() += bucket.orders_closed
                    + bucket.orders_shipped
                    + bucket.supplier_orders
                    + bucket.counted_lines;
            }
        }
        let mut ranked: Vec<(Slice, i64)> = populations.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        slices = ranked
            .into_iter()
            .take(slices_max)
            .map(|(slice, _)| scorecard(fold, range, &slice, as_of))
            .collect();
    }
    let settings = fold.settings();
    Report {
        tenant: tenant.to_string(),
        reporting_time_zone: settings.reporting.iana_name().unwrap_or("UTC").to_string(),
        currency: settings.base_currency.to_string(),
        from: range.from.date().to_string(),
        to: range.to.date().to_string(),
        emission_factors: settings.emissions.label(),
        scorecard: whole,
        slices,
        targets: flowline_metrics::targets::statuses(fold, range, as_of),
        initiatives: fold
            .initiatives()
            .map(|initiative| InitiativeReview {
                id: initiative.id.to_string(),
                name: initiative.name.clone(),
                status: serde_json::to_value(initiative.status)
                    .ok()
                    .and_then(|value| value.as_str().map(String::from))
                    .unwrap_or_default(),
                owner: initiative.owner.clone(),
                expected_effect: initiative.expected_effect.clone(),
                reviews: flowline_metrics::targets::reviews(fold, initiative, as_of),
            })
            .collect(),
    }
}
