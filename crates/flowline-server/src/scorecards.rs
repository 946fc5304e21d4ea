//! The scorecard of a tenant, folded from its log: restored from its latest snapshot (or folded
//! cold when there is none), then kept up to date by folding only the events recorded since
//! (what `flowline metrics` and `GET /v1/scorecard` use). The fold is a projection run by the
//! engine's runner ([`flowline_engine::projections`]).

use flowline_core::Event;
use flowline_core::error::DocumentKind;
use flowline_core::id::TenantId;
use flowline_core::state::MasterEvent;
use flowline_engine::projections::{self, Origin, ProjectionError, Tracked};
use flowline_metrics::fold::{Fold, FoldSettings, Pick, Slice};
use flowline_metrics::period::{Day, Granularity, Range};
use flowline_metrics::scorecard::{Scorecard, scorecard};
use flowline_store::{Store, StoreError};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

/// Why a scorecard could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum ScorecardError {
    /// The log could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The log could not be folded or the snapshot not saved.
    #[error(transparent)]
    Projection(#[from] ProjectionError),
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
            return Ok(Some(FoldSettings {
                keep_settled_orders,
                ..FoldSettings::of_tenant(&settings)
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

pub use flowline_engine::projections::Reached;

/// Folded events after which the scorecard fold is snapshotted again, so a restart folds at
/// most about this many.
pub const SNAPSHOT_EVERY_EVENTS: u64 = 100_000;

/// A tenant's scorecard fold, the last event folded into it, and the head of the latest
/// snapshot saved or restored.
#[derive(Debug)]
pub struct ScorecardFold {
    /// The fold and its head.
    pub tracked: Tracked<Fold>,
    /// The head of the latest snapshot, 0 if none.
    pub snapshot_head: u64,
}

impl ScorecardFold {
    /// The fold restored from the tenant's latest good snapshot taken with `settings`, or a new
    /// one; with where it came from. Nothing is folded yet.
    pub fn restore(
        store: &dyn Store,
        tenant: &TenantId,
        settings: FoldSettings,
    ) -> Result<(Self, Origin), ScorecardError> {
        let wanted = settings.clone();
        let (tracked, origin) = projections::restore(
            store,
            tenant,
            || Fold::new(settings),
            |fold| {
                if fold.settings() == &wanted {
                    Ok(())
                } else {
                    Err("taken with other settings".to_owned())
                }
            },
        )?;
        let snapshot_head = tracked.head;
        Ok((
            Self {
                tracked,
                snapshot_head,
            },
            origin,
        ))
    }

    /// Folds the events recorded since; returns how many and how far it got.
    pub fn catch_up(
        &mut self,
        store: &dyn Store,
        tenant: &TenantId,
        stop: &dyn Fn() -> bool,
    ) -> Result<(u64, Reached), ScorecardError> {
        let before = self.tracked.head;
        let reached = projections::catch_up(store, tenant, &mut self.tracked, stop, &mut |_| {})?;
        Ok((self.tracked.head - before, reached))
    }

    /// Saves a snapshot if at least `events` were folded since the last one; returns its size
    /// when one was saved.
    pub fn snapshot_if_due(
        &mut self,
        store: &dyn Store,
        tenant: &TenantId,
        events: u64,
    ) -> Result<Option<usize>, ScorecardError> {
        if self.tracked.head.saturating_sub(self.snapshot_head) < events.max(1) {
            return Ok(None);
        }
        let bytes = projections::save(store, tenant, &self.tracked.projection, self.tracked.head)?;
        self.snapshot_head = self.tracked.head;
        Ok(Some(bytes))
    }
}

/// The tenant's scorecard fold up to the head of its log, with its head: restored from the
/// latest good snapshot when there is one and the tail folded onto it, or folded from the whole
/// log (and then snapshotted, when that was many events). `None` if the tenant is not
/// configured. `keep_settled_orders` folds keep every order for drilling to documents; they are
/// never snapshotted.
pub fn fold_log(
    store: &dyn Store,
    tenant: &TenantId,
    keep_settled_orders: bool,
) -> Result<Option<(Fold, u64)>, ScorecardError> {
    let Some(settings) = settings(store, tenant, keep_settled_orders)? else {
        return Ok(None);
    };
    if keep_settled_orders {
        return fold_from_nothing(store, tenant, settings).map(Some);
    }
    let (mut fold, origin) = ScorecardFold::restore(store, tenant, settings)?;
    if let Origin::Ignored(reason) = &origin {
        tracing::warn!(%tenant, %reason, "the scorecard snapshot was ignored: folding the whole log");
    }
    fold.catch_up(store, tenant, &|| false)?;
    if let Err(error) = fold.snapshot_if_due(store, tenant, SNAPSHOT_EVERY_EVENTS) {
        // A cache that could not be written: the next run folds the log again.
        tracing::warn!(%tenant, %error, "cannot save a scorecard snapshot");
    }
    Ok(Some((fold.tracked.projection, fold.tracked.head)))
}

/// The tenant's scorecard fold built from its whole log, ignoring any snapshot (what a cold
/// benchmark measures). `None` if the tenant is not configured.
pub fn fold_log_cold(
    store: &dyn Store,
    tenant: &TenantId,
    keep_settled_orders: bool,
) -> Result<Option<(Fold, u64)>, ScorecardError> {
    let Some(settings) = settings(store, tenant, keep_settled_orders)? else {
        return Ok(None);
    };
    fold_from_nothing(store, tenant, settings).map(Some)
}

/// Checks the tenant's scorecard snapshot against its log: the fold restored from it must equal,
/// byte for byte, the fold of the log from nothing to the event it was taken after. `None` if
/// the tenant is not configured.
pub fn verify_snapshot(
    store: &dyn Store,
    tenant: &TenantId,
) -> Result<Option<projections::Verdict>, ScorecardError> {
    let Some(settings) = settings(store, tenant, false)? else {
        return Ok(None);
    };
    Ok(Some(projections::verify(
        store,
        tenant,
        || Fold::new(settings),
        &|_| {},
    )?))
}

fn fold_from_nothing(
    store: &dyn Store,
    tenant: &TenantId,
    settings: FoldSettings,
) -> Result<(Fold, u64), ScorecardError> {
    let mut tracked = Tracked {
        projection: Fold::new(settings),
        head: 0,
    };
    projections::catch_up(store, tenant, &mut tracked, &|| false, &mut |_| {})?;
    Ok((tracked.projection, tracked.head))
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
/// the tenant's data covers, so a scorecard opens on a whole month rather than the few days of
/// the current one. "Complete" is judged against the data, not the clock: the period holding
/// the latest operational event is complete if that event falls on its last day; otherwise the
/// period before it is shown, if the data covers at least half of its days. A tenant younger
/// than that (one set up on the last evening of a month and busy since) opens on the period of
/// its latest event, where its data is, not on a period it only touches; with no data at all,
/// the period of today.
pub fn default_range(fold: &Fold, granularity: Granularity) -> Range {
    let zone = fold.settings().reporting.clone();
    let day = |at: Timestamp| at.to_zoned(zone.clone()).date();
    let Some((first, last)) = fold.activity() else {
        return granularity.period_of(day(Timestamp::now()));
    };
    period_of_data(day(first), day(last), granularity)
}

/// [`default_range`] for data from the local day `first` to the local day `last`.
fn period_of_data(first: Date, last: Date, granularity: Granularity) -> Range {
    let latest = granularity.period_of(last);
    if latest.to.date().yesterday().ok() == Some(last) {
        return latest;
    }
    let before = granularity.before(last);
    let covered = before.to.0 - before.from.0.max(Day::of_date(first).0);
    if covered * 2 >= before.to.0 - before.from.0 {
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
    let which =
        if range.contains(Day::of_date(last)) && range.to.date().yesterday().ok() != Some(last) {
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
    /// Plan: the published forecasts' accuracy over the range, with the worst items; none
    /// until a forecast has been scored (filled by whoever holds the demand history).
    pub plan: Option<flowline_metrics::accuracy::Report>,
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
        slices = fold
            .largest_slices(range, dimension, &Pick::size(), slices_max)
            .into_iter()
            .map(|slice| scorecard(fold, range, &slice, as_of))
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
        plan: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    fn month(first: &str, last: &str) -> (String, String) {
        let range = period_of_data(date(first), date(last), Granularity::Month);
        (range.from.date().to_string(), range.to.date().to_string())
    }

    #[test]
    fn the_default_period_is_the_latest_one_the_data_covers_at_least_half_of() {
        let january = ("2025-01-01".to_string(), "2025-02-01".to_string());
        let december = ("2024-12-01".to_string(), "2025-01-01".to_string());
        // Set up on the evening of 2024-12-31 and busy to 2025-01-20: December is touched on
        // 1 of its 31 days, so January, where the data is.
        assert_eq!(month("2024-12-31", "2025-01-20"), january);
        // From 2024-12-16: 16 of 31 days, at least half, so December, the latest complete.
        assert_eq!(month("2024-12-16", "2025-01-20"), december);
        // From 2024-12-17: 15 of 31, less than half.
        assert_eq!(month("2024-12-17", "2025-01-20"), january);
        // Data to the last day of January: January is complete.
        assert_eq!(month("2024-12-31", "2025-01-31"), january);
        // Years of data ending mid-month: the month before.
        assert_eq!(month("2016-10-04", "2018-09-20").0, "2018-08-01");
    }
}
