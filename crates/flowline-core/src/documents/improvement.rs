//! Enable: performance targets and improvement initiatives (SCOR implementation steps 2 to 5).
//!
//! A [`Target`] says what one metric should be — for the whole tenant or for one slice of it (a
//! channel, a center, a carrier service, ...) — as a value in the metric's display unit times
//! 1,000 and a direction (at least, at most), with an optional baseline period to compare
//! against, a due date, and where a benchmark value came from. Benchmarks are context, not
//! targets, and the good ones are behind memberships, so a tenant enters its own with their
//! source and date. A target is set (created or replaced, like master data) and retired; a
//! retired target stays readable and is reactivated by setting it again.
//!
//! An [`Initiative`] is a plan of work expected to move one or more metrics: planned →
//! in progress → done, or abandoned while open. Its start and end dates are what a review
//! compares before and after.
//!
//! Whether a target is met, its trend, and an initiative's review are computed from events by
//! `flowline-metrics`; this module only keeps the decisions. Both documents are few and
//! long-lived, so they stay in memory like master data and never leave it (see
//! [`crate::retention`]).

use crate::error::{DocumentKind, DomainError};
use crate::id::{CarrierId, ChannelId, IdError, InitiativeId, ReasonCode, ServiceCode, TargetId};
use crate::state::{Context, State};
use jiff::Timestamp;
use jiff::civil::Date;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// The longest metric id accepted, in bytes (every allowed character is one byte).
pub const METRIC_ID_LENGTH_MAX: usize = 64;

/// The dimensions a target can be scoped to: the slicing dimensions of the scorecard
/// (SCOR-METRICS.md §1.3), so a target can be read at every level the dashboard drills to.
pub const SCOPE_DIMENSIONS: [&str; 7] = [
    "channel",
    "center",
    "carrier_service",
    "supplier",
    "sku",
    "category",
    "region",
];

/// Which side of the target value is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum TargetDirection {
    /// The metric must reach the value or more (perfect order rate, fill rate).
    AtLeast,
    /// The metric must stay at the value or less (cycle time, cost per order).
    AtMost,
}

/// The slice a target applies to: one value of one dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TargetScope {
    /// One of `channel`, `center`, `carrier_service`, `supplier`, `sku`, `category`, `region`.
    pub dimension: String,
    /// The value: a channel id, a fulfillment center, `carrier/service` (`UPS/ground`), a
    /// supplier, a SKU, an item category or a ship-to region. Centers, carrier services,
    /// suppliers and SKUs must exist.
    pub value: String,
}

/// Set (create or replace) a target. Setting a retired target reactivates it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SetTarget {
    /// The target id.
    pub target: TargetId,
    /// The Flowline metric id (`rl.perfect_order`, `rs.order_cycle_time`): 1 to 64 characters
    /// drawn from lower-case letters, digits, `.` and `_`.
    pub metric: String,
    /// The slice it applies to; the whole tenant when absent.
    #[serde(default)]
    pub scope: Option<TargetScope>,
    /// The target in the metric's display unit times 1,000: 95 % is 95000, 2.5 days is 2500.
    pub value_milli: i64,
    /// Which side of the value is good.
    pub direction: TargetDirection,
    /// The baseline period `[from, to)` the metric is compared with: `from` before `to`.
    #[serde(default)]
    pub baseline: Option<(Date, Date)>,
    /// When the target should be reached.
    #[serde(default)]
    pub due_on: Option<Date>,
    /// Where a benchmark value came from, with its date (`APQC OSBC 2016, median`).
    #[serde(default)]
    pub source: Option<String>,
    /// Note.
    #[serde(default)]
    pub note: Option<String>,
}

/// Retire a target: it is no longer pursued, but stays readable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RetireTarget {
    /// The target.
    pub target: TargetId,
    /// Why (`superseded`, `reached`, `no_longer_relevant`).
    pub reason: ReasonCode,
}

/// Create an improvement initiative, in status planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateInitiative {
    /// New initiative id.
    pub initiative: InitiativeId,
    /// Name.
    pub name: String,
    /// The metric ids it is expected to move: at least one, each listed once.
    pub metrics: Vec<String>,
    /// Who runs it.
    pub owner: String,
    /// The expected effect, in words (`+3 points of on-time delivery`).
    pub expected_effect: String,
    /// The expected change of the first metric, in its display unit times 1,000.
    #[serde(default)]
    pub expected_change_milli: Option<i64>,
    /// The first day of the initiative: a review compares the metrics before and after it.
    pub starts_on: Date,
    /// The day it ends (or is planned to end), on or after `starts_on`.
    #[serde(default)]
    pub ends_on: Option<Date>,
}

/// Update an initiative: change its status, set its end date, add a note — any of the three.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateInitiative {
    /// The initiative.
    pub initiative: InitiativeId,
    /// The new status: planned → in progress → done; planned or in progress → abandoned.
    #[serde(default)]
    pub status: Option<InitiativeStatus>,
    /// The end date, on or after the start date; unchanged when absent.
    #[serde(default)]
    pub ends_on: Option<Date>,
    /// A progress note.
    #[serde(default)]
    pub note: Option<String>,
}

/// An initiative's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum InitiativeStatus {
    /// Agreed, not started.
    Planned,
    /// Under way.
    InProgress,
    /// Finished.
    Done,
    /// Stopped before it was finished.
    Abandoned,
}

impl InitiativeStatus {
    /// The snake_case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::InProgress => "in_progress",
            Self::Done => "done",
            Self::Abandoned => "abandoned",
        }
    }

    /// Whether the initiative's life cycle has ended: nothing about it changes any more.
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Done | Self::Abandoned)
    }
}

crate::registry::event_family! {
    /// Improvement events.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    pub enum ImprovementEvent {
        /// A target was set (created, replaced or reactivated). Carries the whole target, so the
        /// last `TargetSet` of a stream is the target as it stands.
        "TargetSet" => TargetSet {
            /// Target id.
            target: TargetId,
            /// Metric id.
            metric: String,
            /// The slice; the whole tenant when absent.
            scope: Option<TargetScope>,
            /// Target value, display unit × 1,000.
            value_milli: i64,
            /// Which side is good.
            direction: TargetDirection,
            /// Baseline period `[from, to)`.
            baseline: Option<(Date, Date)>,
            /// Due date.
            due_on: Option<Date>,
            /// Where a benchmark came from.
            source: Option<String>,
            /// Note.
            note: Option<String>,
            /// When.
            at: Timestamp,
        },
        /// A target was retired.
        "TargetRetired" => TargetRetired {
            /// Target id.
            target: TargetId,
            /// Why.
            reason: ReasonCode,
            /// When.
            at: Timestamp,
        },
        /// An initiative was created, planned.
        "InitiativeCreated" => InitiativeCreated {
            /// Initiative id.
            initiative: InitiativeId,
            /// Name.
            name: String,
            /// Metric ids it is expected to move.
            metrics: Vec<String>,
            /// Who runs it.
            owner: String,
            /// Expected effect, in words.
            expected_effect: String,
            /// Expected change of the first metric, display unit × 1,000.
            expected_change_milli: Option<i64>,
            /// First day.
            starts_on: Date,
            /// Last day, if known.
            ends_on: Option<Date>,
            /// When.
            at: Timestamp,
        },
        /// An initiative's status, end date or notes changed.
        "InitiativeUpdated" => InitiativeUpdated {
            /// Initiative id.
            initiative: InitiativeId,
            /// The new status, if it changed.
            status: Option<InitiativeStatus>,
            /// The new end date, if it changed.
            ends_on: Option<Date>,
            /// A progress note.
            note: Option<String>,
            /// When.
            at: Timestamp,
        },
    }
}

impl ImprovementEvent {
    /// The stream the event belongs to: the target or the initiative.
    pub fn stream(&self) -> (DocumentKind, &str) {
        match self {
            Self::TargetSet { target, .. } | Self::TargetRetired { target, .. } => {
                (DocumentKind::Target, target.as_str())
            }
            Self::InitiativeCreated { initiative, .. }
            | Self::InitiativeUpdated { initiative, .. } => {
                (DocumentKind::Initiative, initiative.as_str())
            }
        }
    }
}

/// A target's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Target {
    /// Target id.
    pub id: TargetId,
    /// Metric id.
    pub metric: String,
    /// The slice; the whole tenant when absent.
    pub scope: Option<TargetScope>,
    /// Target value, display unit × 1,000.
    pub value_milli: i64,
    /// Which side is good.
    pub direction: TargetDirection,
    /// Baseline period `[from, to)`.
    pub baseline: Option<(Date, Date)>,
    /// Due date.
    pub due_on: Option<Date>,
    /// Where a benchmark came from.
    pub source: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// When it was first set.
    pub created_at: Timestamp,
    /// When it was last set.
    pub set_at: Timestamp,
    /// When it was retired, while it is.
    pub retired_at: Option<Timestamp>,
    /// Why it was retired, while it is.
    pub retired_reason: Option<ReasonCode>,
}

impl Target {
    /// The life-cycle state: `active` or `retired`.
    pub fn state_name(&self) -> &'static str {
        if self.retired_at.is_some() {
            "retired"
        } else {
            "active"
        }
    }
}

/// A progress note on an initiative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct InitiativeNote {
    /// When it was written.
    pub at: Timestamp,
    /// The note.
    pub note: String,
}

/// An initiative's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Initiative {
    /// Initiative id.
    pub id: InitiativeId,
    /// Name.
    pub name: String,
    /// Metric ids it is expected to move.
    pub metrics: Vec<String>,
    /// Who runs it.
    pub owner: String,
    /// Expected effect, in words.
    pub expected_effect: String,
    /// Expected change of the first metric, display unit × 1,000.
    pub expected_change_milli: Option<i64>,
    /// First day.
    pub starts_on: Date,
    /// Last day, if known.
    pub ends_on: Option<Date>,
    /// Status.
    pub status: InitiativeStatus,
    /// Progress notes, oldest first.
    pub notes: Vec<InitiativeNote>,
    /// When created.
    pub created_at: Timestamp,
    /// When it went in progress.
    pub started_at: Option<Timestamp>,
    /// When it was done or abandoned.
    pub closed_at: Option<Timestamp>,
}

impl Initiative {
    /// The life-cycle state: the status's name.
    pub fn state_name(&self) -> &'static str {
        self.status.as_str()
    }
}

/// Checks a metric id: what `flowline-metrics` names its metrics with. Only the shape is
/// checked here, because the catalogue of metrics lives in that crate and grows on its own.
fn check_metric(field: &str, metric: &str) -> Result<(), DomainError> {
    const EXAMPLE: &str =
        "a metric id is lower-case letters, digits, . and _ (e.g. rl.perfect_order)";
    if metric.is_empty() {
        return Err(DomainError::invalid(
            field,
            format!("must not be empty: {EXAMPLE}"),
        ));
    }
    if metric.len() > METRIC_ID_LENGTH_MAX {
        return Err(DomainError::invalid(
            field,
            format!(
                "`{metric}` is {} bytes long; the limit is {METRIC_ID_LENGTH_MAX}",
                metric.len()
            ),
        ));
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_';
    if let Some((offset, character)) = metric.char_indices().find(|(_, c)| !allowed(*c)) {
        return Err(DomainError::invalid(
            field,
            format!("`{metric}` contains {character:?} at byte {offset}; {EXAMPLE}"),
        ));
    }
    Ok(())
}

/// Checks that a free-text field says something.
fn not_blank(field: &str, value: &str) -> Result<(), DomainError> {
    if value.trim().is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    Ok(())
}

/// Checks `carrier/service` against the carriers. Carrier ids and service codes may themselves
/// contain `/`, so every split is tried; the value is good if one names a carrier's service.
fn check_carrier_service(state: &State, field: &str, value: &str) -> Result<(), DomainError> {
    let mut first_carrier = None;
    for (offset, _) in value.match_indices('/') {
        let (Ok(carrier), Ok(service)) = (
            CarrierId::parse(&value[..offset]),
            ServiceCode::parse(&value[offset + 1..]),
        ) else {
            continue;
        };
        if let Some(found) = state.carriers.get(&carrier) {
            if found.services.iter().any(|s| s.code == service) {
                return Ok(());
            }
            return Err(DomainError::invalid(
                field,
                format!("carrier {carrier} has no service `{service}`"),
            ));
        }
        first_carrier.get_or_insert(carrier);
    }
    match first_carrier {
        Some(carrier) => Err(DomainError::not_found(
            DocumentKind::Carrier,
            carrier,
            field,
        )),
        None => Err(DomainError::invalid(
            field,
            format!("`{value}` is not `carrier/service` (e.g. UPS/ground)"),
        )),
    }
}

/// Parses a scope value as an id, naming the scope's value when it cannot be one.
fn scope_id<T: std::str::FromStr<Err = IdError>>(
    field: &str,
    value: &str,
) -> Result<T, DomainError> {
    value
        .parse()
        .map_err(|error: IdError| DomainError::invalid(field, error.to_string()))
}

/// Checks a scope: a known dimension, and a value that names a record where the dimension is
/// one of the tenant's records (a target on a mistyped center would never be measured).
fn check_scope(state: &State, scope: &TargetScope) -> Result<(), DomainError> {
    const FIELD: &str = "scope.value";
    let value = scope.value.as_str();
    match scope.dimension.as_str() {
        "channel" => {
            scope_id::<ChannelId>(FIELD, value)?;
        }
        "center" => {
            state.fulfillment_center(&scope_id(FIELD, value)?, FIELD)?;
        }
        "carrier_service" => check_carrier_service(state, FIELD, value)?,
        "supplier" => {
            state.supplier(&scope_id(FIELD, value)?, FIELD)?;
        }
        "sku" => {
            state.item(&scope_id(FIELD, value)?, FIELD)?;
        }
        "category" | "region" => not_blank(FIELD, value)?,
        other => {
            return Err(DomainError::invalid(
                "scope.dimension",
                format!(
                    "`{other}` is not a dimension; use one of {}",
                    SCOPE_DIMENSIONS.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn check_ends_on(field: &str, starts_on: Date, ends_on: Option<Date>) -> Result<(), DomainError> {
    match ends_on {
        Some(ends_on) if ends_on < starts_on => Err(DomainError::invalid(
            field,
            format!("{ends_on} is before the start, {starts_on}"),
        )),
        _ => Ok(()),
    }
}

/// Set a target.
pub(crate) fn set_target(
    state: &State,
    command: &SetTarget,
    ctx: &Context,
) -> Result<Vec<ImprovementEvent>, DomainError> {
    state.settings()?;
    check_metric("metric", &command.metric)?;
    if let Some(scope) = &command.scope {
        check_scope(state, scope)?;
    }
    if let Some((from, to)) = command.baseline
        && from >= to
    {
        return Err(DomainError::invalid(
            "baseline",
            format!("the period [{from}, {to}) is empty: the first date must be before the second"),
        ));
    }
    Ok(vec![ImprovementEvent::TargetSet {
        target: command.target.clone(),
        metric: command.metric.clone(),
        scope: command.scope.clone(),
        value_milli: command.value_milli,
        direction: command.direction,
        baseline: command.baseline,
        due_on: command.due_on,
        source: command.source.clone(),
        note: command.note.clone(),
        at: ctx.at,
    }])
}

/// Retire a target.
pub(crate) fn retire_target(
    state: &State,
    command: &RetireTarget,
    ctx: &Context,
) -> Result<Vec<ImprovementEvent>, DomainError> {
    state.settings()?;
    let found = state
        .targets
        .get(&command.target)
        .ok_or_else(|| DomainError::not_found(DocumentKind::Target, &command.target, "target"))?;
    if found.retired_at.is_some() {
        return Err(DomainError::illegal(
            DocumentKind::Target,
            &command.target,
            found.state_name(),
            "retire",
        ));
    }
    Ok(vec![ImprovementEvent::TargetRetired {
        target: command.target.clone(),
        reason: command.reason.clone(),
        at: ctx.at,
    }])
}

/// Create an initiative.
pub(crate) fn create_initiative(
    state: &State,
    command: &CreateInitiative,
    ctx: &Context,
) -> Result<Vec<ImprovementEvent>, DomainError> {
    state.settings()?;
    if state.initiatives.contains_key(&command.initiative) {
        return Err(DomainError::AlreadyExists {
            kind: DocumentKind::Initiative,
            id: command.initiative.to_string(),
        });
    }
    not_blank("name", &command.name)?;
    if command.metrics.is_empty() {
        return Err(DomainError::invalid(
            "metrics",
            "list at least one metric id the initiative is expected to move",
        ));
    }
    for (index, metric) in command.metrics.iter().enumerate() {
        let field = format!("metrics[{index}]");
        check_metric(&field, metric)?;
        if command.metrics[..index].contains(metric) {
            return Err(DomainError::invalid(
                field,
                format!("`{metric}` is listed twice"),
            ));
        }
    }
    not_blank("owner", &command.owner)?;
    not_blank("expected_effect", &command.expected_effect)?;
    check_ends_on("ends_on", command.starts_on, command.ends_on)?;
    Ok(vec![ImprovementEvent::InitiativeCreated {
        initiative: command.initiative.clone(),
        name: command.name.clone(),
        metrics: command.metrics.clone(),
        owner: command.owner.clone(),
        expected_effect: command.expected_effect.clone(),
        expected_change_milli: command.expected_change_milli,
        starts_on: command.starts_on,
        ends_on: command.ends_on,
        at: ctx.at,
    }])
}

/// The step a status change is, for error messages.
fn step(to: InitiativeStatus) -> &'static str {
    match to {
        InitiativeStatus::Planned => "plan",
        InitiativeStatus::InProgress => "start",
        InitiativeStatus::Done => "complete",
        InitiativeStatus::Abandoned => "abandon",
    }
}

/// Update an initiative.
pub(crate) fn update_initiative(
    state: &State,
    command: &UpdateInitiative,
    ctx: &Context,
) -> Result<Vec<ImprovementEvent>, DomainError> {
    use InitiativeStatus as S;
    state.settings()?;
    let id = &command.initiative;
    let found = state
        .initiatives
        .get(id)
        .ok_or_else(|| DomainError::not_found(DocumentKind::Initiative, id, "initiative"))?;
    let attempted = command.status.map_or("update", step);
    // A closed initiative is history: its dates and notes are what its review was based on.
    if found.status.is_closed() {
        return Err(DomainError::illegal(
            DocumentKind::Initiative,
            id,
            found.state_name(),
            attempted,
        ));
    }
    if command.status.is_none() && command.ends_on.is_none() && command.note.is_none() {
        return Err(DomainError::invalid(
            "status",
            "nothing to update: give a status, an ends_on date or a note",
        ));
    }
    if let Some(to) = command.status {
        // Every status given is a step; naming the current one again is not a step.
        let legal = matches!(
            (found.status, to),
            (S::Planned, S::InProgress)
                | (S::InProgress, S::Done)
                | (S::Planned | S::InProgress, S::Abandoned)
        );
        if !legal {
            return Err(DomainError::illegal(
                DocumentKind::Initiative,
                id,
                found.state_name(),
                attempted,
            ));
        }
    }
    check_ends_on("ends_on", found.starts_on, command.ends_on)?;
    if let Some(note) = &command.note {
        not_blank("note", note)?;
    }
    Ok(vec![ImprovementEvent::InitiativeUpdated {
        initiative: id.clone(),
        status: command.status,
        ends_on: command.ends_on,
        note: command.note.clone(),
        at: ctx.at,
    }])
}

/// Applies an improvement event.
pub(crate) fn apply(
    targets: &mut FxHashMap<TargetId, Target>,
    initiatives: &mut FxHashMap<InitiativeId, Initiative>,
    event: &ImprovementEvent,
) {
    match event {
        ImprovementEvent::TargetSet {
            target,
            metric,
            scope,
            value_milli,
            direction,
            baseline,
            due_on,
            source,
            note,
            at,
        } => {
            // Replacing keeps when the target was first set; everything else is the new one.
            let created_at = targets.get(target).map_or(*at, |found| found.created_at);
            targets.insert(
                target.clone(),
                Target {
                    id: target.clone(),
                    metric: metric.clone(),
                    scope: scope.clone(),
                    value_milli: *value_milli,
                    direction: *direction,
                    baseline: *baseline,
                    due_on: *due_on,
                    source: source.clone(),
                    note: note.clone(),
                    created_at,
                    set_at: *at,
                    retired_at: None,
                    retired_reason: None,
                },
            );
        }
        ImprovementEvent::TargetRetired { target, reason, at } => {
            if let Some(found) = targets.get_mut(target) {
                found.retired_at = Some(*at);
                found.retired_reason = Some(reason.clone());
            }
        }
        ImprovementEvent::InitiativeCreated {
            initiative,
            name,
            metrics,
            owner,
            expected_effect,
            expected_change_milli,
            starts_on,
            ends_on,
            at,
        } => {
            initiatives.insert(
                initiative.clone(),
                Initiative {
                    id: initiative.clone(),
                    name: name.clone(),
                    metrics: metrics.clone(),
                    owner: owner.clone(),
                    expected_effect: expected_effect.clone(),
                    expected_change_milli: *expected_change_milli,
                    starts_on: *starts_on,
                    ends_on: *ends_on,
                    status: InitiativeStatus::Planned,
                    notes: Vec::new(),
                    created_at: *at,
                    started_at: None,
                    closed_at: None,
                },
            );
        }
        ImprovementEvent::InitiativeUpdated {
            initiative,
            status,
            ends_on,
            note,
            at,
        } => {
            let Some(found) = initiatives.get_mut(initiative) else {
                return;
            };
            if let Some(status) = status {
                found.status = *status;
                match status {
                    InitiativeStatus::InProgress => found.started_at = Some(*at),
                    InitiativeStatus::Done | InitiativeStatus::Abandoned => {
                        found.closed_at = Some(*at);
                    }
                    InitiativeStatus::Planned => {}
                }
            }
            if let Some(ends_on) = ends_on {
                found.ends_on = Some(*ends_on);
            }
            if let Some(note) = note {
                found.notes.push(InitiativeNote {
                    at: *at,
                    note: note.clone(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::testkit::{T0, id, ok, rejected, tenant};
    use crate::retention::{evict_settled, holds_stream};
    use crate::state::Command;

    const T1: &str = "2025-04-01T09:00:00Z";
    const T2: &str = "2025-05-01T09:00:00Z";

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    fn target(target: &str, metric: &str, value_milli: i64) -> SetTarget {
        SetTarget {
            target: id(target),
            metric: metric.into(),
            scope: None,
            value_milli,
            direction: TargetDirection::AtLeast,
            baseline: None,
            due_on: None,
            source: None,
            note: None,
        }
    }

    fn set(command: SetTarget) -> Command {
        Command::SetTarget(command)
    }

    fn scoped(dimension: &str, value: &str) -> Command {
        set(SetTarget {
            scope: Some(TargetScope {
                dimension: dimension.into(),
                value: value.into(),
            }),
            ..target("T-SCOPED", "rl.perfect_order", 95_000)
        })
    }

    fn retire(target: &str) -> Command {
        Command::RetireTarget(RetireTarget {
            target: id(target),
            reason: id("superseded"),
        })
    }

    fn initiative(initiative: &str, metrics: &[&str]) -> CreateInitiative {
        CreateInitiative {
            initiative: id(initiative),
            name: "Re-slot fast movers".into(),
            metrics: metrics.iter().map(|metric| metric.to_string()).collect(),
            owner: "East warehouse lead".into(),
            expected_effect: "+3 points of on-time delivery".into(),
            expected_change_milli: Some(3000),
            starts_on: date("2025-04-01"),
            ends_on: None,
        }
    }

    fn update(
        initiative: &str,
        status: Option<InitiativeStatus>,
        ends_on: Option<&str>,
        note: Option<&str>,
    ) -> Command {
        Command::UpdateInitiative(UpdateInitiative {
            initiative: id(initiative),
            status,
            ends_on: ends_on.map(date),
            note: note.map(str::to_string),
        })
    }

    fn invalid(field: &str, reason: &str) -> DomainError {
        DomainError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    #[test]
    fn a_target_is_set_then_replaced_keeping_when_it_was_first_set() {
        // On-time delivery at least 95 % (95,000 thousandths), over a January baseline, from an
        // APQC benchmark; then raised to 97.5 % a month later.
        let mut state = tenant();
        let events = ok(
            &mut state,
            set(SetTarget {
                baseline: Some((date("2025-01-01"), date("2025-02-01"))),
                due_on: Some(date("2025-12-31")),
                source: Some("APQC OSBC 2016, median".into()),
                ..target("OTD", "rl.on_time_delivery", 95_000)
            }),
            T0,
        );
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].type_name(), "TargetSet");
        assert_eq!(events[0].stream(), "target/OTD");
        assert_eq!(events[0].effects(), None);
        let first = &state.targets[&id("OTD")];
        assert_eq!(first.value_milli, 95_000);
        assert_eq!(first.state_name(), "active");
        assert_eq!(first.created_at, crate::documents::testkit::ts(T0));

        ok(
            &mut state,
            set(target("OTD", "rl.on_time_delivery", 97_500)),
            T1,
        );
        let replaced = &state.targets[&id("OTD")];
        assert_eq!(replaced.value_milli, 97_500);
        // A replacement is the whole target: the baseline, due date and source it left out are
        // gone.
        assert_eq!(replaced.baseline, None);
        assert_eq!(replaced.source, None);
        assert_eq!(replaced.created_at, crate::documents::testkit::ts(T0));
        assert_eq!(replaced.set_at, crate::documents::testkit::ts(T1));
        assert_eq!(state.targets.len(), 1);
    }

    #[test]
    fn a_retired_target_stays_readable_and_setting_it_again_reactivates_it() {
        let mut state = tenant();
        ok(
            &mut state,
            set(target("C2C", "am.cash_to_cash", 33_200)),
            T0,
        );
        ok(&mut state, retire("C2C"), T1);
        let retired = &state.targets[&id("C2C")];
        assert_eq!(retired.state_name(), "retired");
        assert_eq!(retired.retired_at, Some(crate::documents::testkit::ts(T1)));
        assert_eq!(retired.retired_reason, Some(id("superseded")));
        assert_eq!(retired.value_milli, 33_200);
        assert_eq!(
            rejected(&mut state, retire("C2C"), T1),
            DomainError::illegal(DocumentKind::Target, "C2C", "retired", "retire")
        );
        ok(
            &mut state,
            set(target("C2C", "am.cash_to_cash", 30_000)),
            T2,
        );
        let again = &state.targets[&id("C2C")];
        assert_eq!(again.state_name(), "active");
        assert_eq!(again.retired_at, None);
        assert_eq!(again.retired_reason, None);
        assert_eq!(again.created_at, crate::documents::testkit::ts(T0));
        assert_eq!(
            rejected(&mut state, retire("NOPE"), T1),
            DomainError::not_found(DocumentKind::Target, "NOPE", "target")
        );
    }

    #[test]
    fn metric_ids_are_lower_case_letters_digits_dots_and_underscores() {
        let mut state = tenant();
        let example = "a metric id is lower-case letters, digits, . and _ (e.g. rl.perfect_order)";
        assert_eq!(
            rejected(&mut state, set(target("T", "", 1)), T0),
            invalid("metric", &format!("must not be empty: {example}"))
        );
        // A SCOR code is not a Flowline metric id: the upper-case R at byte 0 is named.
        assert_eq!(
            rejected(&mut state, set(target("T", "RL.1.1", 1)), T0),
            invalid(
                "metric",
                &format!("`RL.1.1` contains 'R' at byte 0; {example}")
            )
        );
        assert_eq!(
            rejected(&mut state, set(target("T", "rl.perfect order", 1)), T0),
            invalid(
                "metric",
                &format!("`rl.perfect order` contains ' ' at byte 10; {example}")
            )
        );
        let long = "m".repeat(65);
        assert_eq!(
            rejected(&mut state, set(target("T", &long, 1)), T0),
            invalid(
                "metric",
                &format!("`{long}` is 65 bytes long; the limit is 64")
            )
        );
        ok(&mut state, set(target("T", &"m".repeat(64), 1)), T0);
        ok(
            &mut state,
            set(target("T", "kpi.dock_to_stock_p90", -2500)),
            T0,
        );
    }

    #[test]
    fn a_scope_names_a_known_dimension_and_a_record_the_tenant_has() {
        let mut state = tenant();
        for (dimension, value) in [
            ("channel", "web"),
            ("center", "FC-EAST"),
            ("carrier_service", "UPS/ground"),
            ("supplier", "ACME"),
            ("sku", "MUG"),
            ("category", "kitchen"),
            ("region", "us-east"),
        ] {
            ok(&mut state, scoped(dimension, value), T0);
            let scope = state.targets[&id("T-SCOPED")].scope.clone().unwrap();
            assert_eq!(
                (scope.dimension.as_str(), scope.value.as_str()),
                (dimension, value)
            );
        }
        assert_eq!(
            rejected(&mut state, scoped("warehouse", "FC-EAST"), T0),
            invalid(
                "scope.dimension",
                "`warehouse` is not a dimension; use one of channel, center, carrier_service, \
                 supplier, sku, category, region"
            )
        );
        assert_eq!(
            rejected(&mut state, scoped("center", "FC-NORTH"), T0),
            DomainError::not_found(DocumentKind::Location, "FC-NORTH", "scope.value")
        );
        assert_eq!(
            rejected(&mut state, scoped("center", "in_transit"), T0),
            DomainError::NotAFulfillmentCenter {
                field: "scope.value".into(),
                location: id("in_transit")
            }
        );
        assert_eq!(
            rejected(&mut state, scoped("supplier", "GLOBEX"), T0),
            DomainError::not_found(DocumentKind::Supplier, "GLOBEX", "scope.value")
        );
        assert_eq!(
            rejected(&mut state, scoped("sku", "CUP"), T0),
            DomainError::not_found(DocumentKind::Item, "CUP", "scope.value")
        );
        assert_eq!(
            rejected(&mut state, scoped("carrier_service", "UPS/air"), T0),
            invalid("scope.value", "carrier UPS has no service `air`")
        );
        assert_eq!(
            rejected(&mut state, scoped("carrier_service", "DHL/ground"), T0),
            DomainError::not_found(DocumentKind::Carrier, "DHL", "scope.value")
        );
        assert_eq!(
            rejected(&mut state, scoped("carrier_service", "UPS"), T0),
            invalid(
                "scope.value",
                "`UPS` is not `carrier/service` (e.g. UPS/ground)"
            )
        );
        assert_eq!(
            rejected(&mut state, scoped("channel", "web shop"), T0),
            invalid(
                "scope.value",
                "channel id `web shop` contains ' ' at byte 3; allowed are letters, digits and \
                 . _ - :, starting with a letter or digit"
            )
        );
        assert_eq!(
            rejected(&mut state, scoped("region", " "), T0),
            invalid("scope.value", "must not be empty")
        );
    }

    #[test]
    fn a_baseline_period_must_start_before_it_ends() {
        let mut state = tenant();
        let with_baseline = |from: &str, to: &str| {
            set(SetTarget {
                baseline: Some((date(from), date(to))),
                direction: TargetDirection::AtMost,
                ..target("CYCLE", "rs.order_cycle_time", 2500)
            })
        };
        assert_eq!(
            rejected(&mut state, with_baseline("2025-02-01", "2025-02-01"), T0),
            invalid(
                "baseline",
                "the period [2025-02-01, 2025-02-01) is empty: the first date must be before \
                 the second"
            )
        );
        assert!(matches!(
            rejected(&mut state, with_baseline("2025-03-01", "2025-02-01"), T0),
            DomainError::Invalid { field, .. } if field == "baseline"
        ));
        // One day, [2025-02-01, 2025-02-02), is the shortest period.
        ok(&mut state, with_baseline("2025-02-01", "2025-02-02"), T0);
        let found = &state.targets[&id("CYCLE")];
        assert_eq!(found.direction, TargetDirection::AtMost);
        assert_eq!(found.value_milli, 2500);
    }

    #[test]
    fn targets_and_initiatives_need_a_configured_tenant() {
        let mut state = State::default();
        assert_eq!(
            rejected(&mut state, set(target("T", "rl.perfect_order", 1)), T0),
            DomainError::TenantNotConfigured
        );
        assert_eq!(
            rejected(
                &mut state,
                Command::CreateInitiative(initiative("I", &["rl.perfect_order"])),
                T0
            ),
            DomainError::TenantNotConfigured
        );
    }

    #[test]
    fn an_initiative_is_planned_started_noted_and_done() {
        let mut state = tenant();
        let events = ok(
            &mut state,
            Command::CreateInitiative(initiative(
                "SLOT",
                &["rl.on_time_delivery", "rs.order_cycle_time"],
            )),
            T0,
        );
        assert_eq!(events[0].type_name(), "InitiativeCreated");
        assert_eq!(events[0].stream(), "initiative/SLOT");
        assert_eq!(state.initiatives[&id("SLOT")].state_name(), "planned");

        ok(
            &mut state,
            update(
                "SLOT",
                Some(InitiativeStatus::InProgress),
                None,
                Some("pilot aisle done"),
            ),
            T1,
        );
        ok(
            &mut state,
            update("SLOT", None, Some("2025-06-30"), None),
            T1,
        );
        ok(
            &mut state,
            update(
                "SLOT",
                Some(InitiativeStatus::Done),
                None,
                Some("all aisles"),
            ),
            T2,
        );
        let found = &state.initiatives[&id("SLOT")];
        assert_eq!(found.state_name(), "done");
        assert_eq!(found.started_at, Some(crate::documents::testkit::ts(T1)));
        assert_eq!(found.closed_at, Some(crate::documents::testkit::ts(T2)));
        assert_eq!(found.ends_on, Some(date("2025-06-30")));
        assert_eq!(
            found.notes,
            vec![
                InitiativeNote {
                    at: crate::documents::testkit::ts(T1),
                    note: "pilot aisle done".into()
                },
                InitiativeNote {
                    at: crate::documents::testkit::ts(T2),
                    note: "all aisles".into()
                },
            ]
        );
        // Done is final: not even a note is added.
        assert_eq!(
            rejected(&mut state, update("SLOT", None, None, Some("late")), T2),
            DomainError::illegal(DocumentKind::Initiative, "SLOT", "done", "update")
        );
        assert_eq!(
            rejected(
                &mut state,
                update("SLOT", Some(InitiativeStatus::Abandoned), None, None),
                T2
            ),
            DomainError::illegal(DocumentKind::Initiative, "SLOT", "done", "abandon")
        );
    }

    #[test]
    fn an_initiative_moves_one_step_forward_or_is_abandoned_while_open() {
        use InitiativeStatus as S;
        let illegal = |state: &str, attempted: &'static str| {
            DomainError::illegal(DocumentKind::Initiative, "PACK", state, attempted)
        };
        let mut state = tenant();
        ok(
            &mut state,
            Command::CreateInitiative(initiative("PACK", &["kpi.order_accuracy"])),
            T0,
        );
        // Planned: done skips the start, planned is where it already is.
        assert_eq!(
            rejected(&mut state, update("PACK", Some(S::Done), None, None), T0),
            illegal("planned", "complete")
        );
        assert_eq!(
            rejected(&mut state, update("PACK", Some(S::Planned), None, None), T0),
            illegal("planned", "plan")
        );
        ok(
            &mut state,
            update("PACK", Some(S::InProgress), None, None),
            T1,
        );
        // In progress: no way back, no second start.
        assert_eq!(
            rejected(&mut state, update("PACK", Some(S::Planned), None, None), T1),
            illegal("in_progress", "plan")
        );
        assert_eq!(
            rejected(
                &mut state,
                update("PACK", Some(S::InProgress), None, None),
                T1
            ),
            illegal("in_progress", "start")
        );
        ok(
            &mut state,
            update("PACK", Some(S::Abandoned), None, None),
            T2,
        );
        assert_eq!(state.initiatives[&id("PACK")].state_name(), "abandoned");
        assert_eq!(
            state.initiatives[&id("PACK")].closed_at,
            Some(crate::documents::testkit::ts(T2))
        );
        assert_eq!(
            rejected(
                &mut state,
                update("PACK", Some(S::InProgress), None, None),
                T2
            ),
            illegal("abandoned", "start")
        );

        // A planned initiative may be abandoned before it starts.
        ok(
            &mut state,
            Command::CreateInitiative(initiative("EARLY", &["kpi.order_accuracy"])),
            T0,
        );
        ok(
            &mut state,
            update("EARLY", Some(S::Abandoned), None, None),
            T1,
        );
        assert_eq!(state.initiatives[&id("EARLY")].started_at, None);
    }

    #[test]
    fn bad_initiatives_and_updates_are_rejected_with_the_field_and_value() {
        let mut state = tenant();
        let create = |change: &dyn Fn(&mut CreateInitiative)| {
            let mut command = initiative("I-1", &["rl.perfect_order", "rs.order_cycle_time"]);
            change(&mut command);
            Command::CreateInitiative(command)
        };
        assert_eq!(
            rejected(&mut state, create(&|c| c.metrics.clear()), T0),
            invalid(
                "metrics",
                "list at least one metric id the initiative is expected to move"
            )
        );
        assert!(matches!(
            rejected(&mut state, create(&|c| c.metrics[1] = "RS.1.1".into()), T0),
            DomainError::Invalid { field, reason }
                if field == "metrics[1]" && reason.starts_with("`RS.1.1` contains 'R' at byte 0")
        ));
        assert_eq!(
            rejected(
                &mut state,
                create(&|c| c.metrics[1] = "rl.perfect_order".into()),
                T0
            ),
            invalid("metrics[1]", "`rl.perfect_order` is listed twice")
        );
        assert_eq!(
            rejected(&mut state, create(&|c| c.name = "  ".into()), T0),
            invalid("name", "must not be empty")
        );
        assert_eq!(
            rejected(&mut state, create(&|c| c.owner = String::new()), T0),
            invalid("owner", "must not be empty")
        );
        assert_eq!(
            rejected(
                &mut state,
                create(&|c| c.expected_effect = String::new()),
                T0
            ),
            invalid("expected_effect", "must not be empty")
        );
        // Starts 2025-04-01: ending the day before is refused, ending the same day is not.
        assert_eq!(
            rejected(
                &mut state,
                create(&|c| c.ends_on = Some(date("2025-03-31"))),
                T0
            ),
            invalid("ends_on", "2025-03-31 is before the start, 2025-04-01")
        );
        ok(
            &mut state,
            create(&|c| c.ends_on = Some(date("2025-04-01"))),
            T0,
        );
        assert_eq!(
            rejected(&mut state, create(&|_| {}), T0),
            DomainError::AlreadyExists {
                kind: DocumentKind::Initiative,
                id: "I-1".into()
            }
        );
        assert_eq!(
            rejected(&mut state, update("I-1", None, None, None), T0),
            invalid(
                "status",
                "nothing to update: give a status, an ends_on date or a note"
            )
        );
        assert_eq!(
            rejected(
                &mut state,
                update("I-1", None, Some("2025-01-31"), None),
                T0
            ),
            invalid("ends_on", "2025-01-31 is before the start, 2025-04-01")
        );
        assert_eq!(
            rejected(&mut state, update("I-1", None, None, Some("")), T0),
            invalid("note", "must not be empty")
        );
        assert_eq!(
            rejected(&mut state, update("I-9", None, None, Some("hello")), T0),
            DomainError::not_found(DocumentKind::Initiative, "I-9", "initiative")
        );
    }

    #[test]
    fn targets_and_initiatives_stay_in_memory_like_master_data() {
        let mut state = tenant();
        let set_command = set(target("OTD", "rl.on_time_delivery", 95_000));
        let create = Command::CreateInitiative(initiative("SLOT", &["rl.on_time_delivery"]));
        let done = update("SLOT", Some(InitiativeStatus::Abandoned), None, None);
        for command in [&set_command, &create, &retire("OTD"), &done] {
            assert_eq!(command.streams(), Vec::<String>::new(), "{command:?}");
        }
        ok(&mut state, set_command, T0);
        ok(&mut state, create, T0);
        ok(&mut state, retire("OTD"), T1);
        ok(&mut state, done, T1);
        // Even retired and abandoned, they are what reviews and scorecards are read against.
        evict_settled(&mut state, jiff::Timestamp::MAX);
        assert_eq!(state.targets.len(), 1);
        assert_eq!(state.initiatives.len(), 1);
        assert!(holds_stream(&state, "target/OTD"));
        assert!(holds_stream(&state, "initiative/SLOT"));
    }
}
