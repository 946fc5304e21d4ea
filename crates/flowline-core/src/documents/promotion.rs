//! Plan: promotions, the demand a brand makes on purpose.
//!
//! A promotion (a holiday sale, a flash sale, a newsletter feature) is known before it happens:
//! its items (every item when none is named), its channels (every channel when none is named),
//! its first and last day in the tenant's reporting time zone, and — when the planner knows it —
//! the demand it is expected to bring, as a multiplier of ordinary demand in thousandths
//! (`uplift_milli = 2800`: 2.8 times an ordinary day). The planner forecasts ordinary demand
//! with promotion days left out, then multiplies the days a promotion covers by its uplift;
//! a promotion planned without one gets the uplift past promotions achieved. A bundle named in a
//! promotion lifts the stocked components it is made of.
//!
//! Life cycle: planned → cancelled (with a reason). The state keeps every promotion whole:
//! they are few, and the planner reads them all. A promotion whose dates or uplift change is
//! cancelled and planned again under a new id, so the forecasts made from it can still be read
//! against what it said at the time.

use crate::error::{DocumentKind, DomainError};
use crate::id::{ChannelId, PromotionId, Sku};
use crate::state::{Context, State};
use jiff::Timestamp;
use jiff::civil::Date;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

const KIND: DocumentKind = DocumentKind::Promotion;

/// The most items one promotion may name.
pub const PROMOTION_ITEMS_MAX: usize = 5_000;

/// The most channels one promotion may name.
pub const PROMOTION_CHANNELS_MAX: usize = 100;

/// The longest promotion, in days.
pub const PROMOTION_DAYS_MAX: i32 = 366;

/// The largest uplift, in thousandths: a hundred times ordinary demand.
pub const UPLIFT_MILLI_MAX: i64 = 100_000;

/// The longest name or note, in bytes.
pub const PROMOTION_TEXT_MAX: usize = 2_000;

/// Plan a promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PlanPromotion {
    /// New promotion id.
    pub promotion: PromotionId,
    /// What it is called (`Black Friday`).
    pub name: String,
    /// Its first day, in the tenant's reporting time zone.
    pub first_day: Date,
    /// Its last day, inclusive.
    pub last_day: Date,
    /// The items promoted; every item when empty.
    #[serde(default)]
    pub items: Vec<Sku>,
    /// The channels it runs in; every channel when empty.
    #[serde(default)]
    pub channels: Vec<ChannelId>,
    /// Expected demand on its days as a multiple of an ordinary day's, thousandths (1 to
    /// 100,000; 1500 is one and a half times). Absent, the planner uses what past promotions
    /// achieved.
    #[serde(default)]
    pub uplift_milli: Option<i64>,
    /// Note.
    #[serde(default)]
    pub note: Option<String>,
}

/// Cancel a planned promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelPromotion {
    /// The promotion.
    pub promotion: PromotionId,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A promotion's life-cycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum PromotionStatus {
    /// Planned: the planner counts on it.
    Planned,
    /// Cancelled.
    Cancelled,
}

/// A promotion as the state keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Promotion {
    /// Id.
    pub promotion: PromotionId,
    /// Name.
    pub name: String,
    /// First day.
    pub first_day: Date,
    /// Last day, inclusive.
    pub last_day: Date,
    /// Items; every item when empty.
    pub items: Vec<Sku>,
    /// Channels; every channel when empty.
    pub channels: Vec<ChannelId>,
    /// Expected uplift, thousandths.
    pub uplift_milli: Option<i64>,
    /// Note.
    pub note: Option<String>,
    /// Life-cycle state.
    pub status: PromotionStatus,
    /// When it was planned.
    pub planned_at: Timestamp,
    /// When it was cancelled.
    pub cancelled_at: Option<Timestamp>,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
}

impl PromotionStatus {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Cancelled => "cancelled",
        }
    }
}

crate::registry::event_family! {
    /// Promotion events.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    pub enum PromotionEvent {
        /// A promotion was planned.
        "PromotionPlanned" => Planned {
            /// Promotion id.
            promotion: PromotionId,
            /// Name.
            name: String,
            /// First day.
            first_day: Date,
            /// Last day, inclusive.
            last_day: Date,
            /// Items; every item when empty.
            items: Vec<Sku>,
            /// Channels; every channel when empty.
            channels: Vec<ChannelId>,
            /// Expected uplift, thousandths.
            uplift_milli: Option<i64>,
            /// Note.
            note: Option<String>,
            /// When.
            at: Timestamp,
        },
        /// A promotion was cancelled.
        "PromotionCancelled" => Cancelled {
            /// Promotion id.
            promotion: PromotionId,
            /// Why.
            reason: Option<String>,
            /// When.
            at: Timestamp,
        },
    }
}

impl PromotionEvent {
    /// The promotion the event belongs to.
    pub fn promotion(&self) -> &PromotionId {
        match self {
            Self::Planned { promotion, .. } | Self::Cancelled { promotion, .. } => promotion,
        }
    }
}

fn text(field: &str, value: &str) -> Result<(), DomainError> {
    if value.len() > PROMOTION_TEXT_MAX {
        return Err(DomainError::invalid(
            field,
            format!(
                "is {} bytes; the limit is {PROMOTION_TEXT_MAX}",
                value.len()
            ),
        ));
    }
    Ok(())
}

/// Plan.
pub(crate) fn plan(
    state: &State,
    command: &PlanPromotion,
    ctx: &Context,
) -> Result<Vec<PromotionEvent>, DomainError> {
    state.settings()?;
    if state.promotions.contains_key(&command.promotion) {
        return Err(DomainError::AlreadyExists {
            kind: KIND,
            id: command.promotion.to_string(),
        });
    }
    if command.name.trim().is_empty() {
        return Err(DomainError::invalid("name", "must not be empty"));
    }
    text("name", &command.name)?;
    if let Some(note) = &command.note {
        text("note", note)?;
    }
    if command.last_day < command.first_day {
        return Err(DomainError::invalid(
            "last_day",
            format!(
                "{} is before first_day {}",
                command.last_day, command.first_day
            ),
        ));
    }
    let days = command
        .first_day
        .until(command.last_day)
        .map_or(i32::MAX, |span| span.get_days());
    if days >= PROMOTION_DAYS_MAX {
        return Err(DomainError::invalid(
            "last_day",
            format!(
                "the promotion would last {} days; the limit is {PROMOTION_DAYS_MAX}",
                i64::from(days) + 1
            ),
        ));
    }
    if command.items.len() > PROMOTION_ITEMS_MAX {
        return Err(DomainError::invalid(
            "items",
            format!(
                "{} items; the limit is {PROMOTION_ITEMS_MAX}",
                command.items.len()
            ),
        ));
    }
    let mut seen = FxHashSet::default();
    for (index, sku) in command.items.iter().enumerate() {
        let field = format!("items[{index}]");
        state.item(sku, &field)?;
        if !seen.insert(sku) {
            return Err(DomainError::invalid(field, format!("{sku} is named twice")));
        }
    }
    if command.channels.len() > PROMOTION_CHANNELS_MAX {
        return Err(DomainError::invalid(
            "channels",
            format!(
                "{} channels; the limit is {PROMOTION_CHANNELS_MAX}",
                command.channels.len()
            ),
        ));
    }
    let mut seen = FxHashSet::default();
    for (index, channel) in command.channels.iter().enumerate() {
        if !seen.insert(channel) {
            return Err(DomainError::invalid(
                format!("channels[{index}]"),
                format!("{channel} is named twice"),
            ));
        }
    }
    if let Some(uplift) = command.uplift_milli
        && !(1..=UPLIFT_MILLI_MAX).contains(&uplift)
    {
        return Err(DomainError::invalid(
            "uplift_milli",
            format!(
                "must be between 1 and {UPLIFT_MILLI_MAX} (a multiple of ordinary demand in \
                 thousandths: 1500 is one and a half times), is {uplift}"
            ),
        ));
    }
    Ok(vec![PromotionEvent::Planned {
        promotion: command.promotion.clone(),
        name: command.name.clone(),
        first_day: command.first_day,
        last_day: command.last_day,
        items: command.items.clone(),
        channels: command.channels.clone(),
        uplift_milli: command.uplift_milli,
        note: command.note.clone(),
        at: ctx.at,
    }])
}

/// Cancel.
pub(crate) fn cancel(
    state: &State,
    command: &CancelPromotion,
    ctx: &Context,
) -> Result<Vec<PromotionEvent>, DomainError> {
    let status = state
        .promotions
        .get(&command.promotion)
        .ok_or_else(|| DomainError::not_found(KIND, &command.promotion, "promotion"))?
        .status;
    if status != PromotionStatus::Planned {
        return Err(DomainError::IllegalTransition {
            kind: KIND,
            id: command.promotion.to_string(),
            state: status.as_str().to_string(),
            attempted: "cancel",
        });
    }
    if let Some(reason) = &command.reason {
        text("reason", reason)?;
    }
    Ok(vec![PromotionEvent::Cancelled {
        promotion: command.promotion.clone(),
        reason: command.reason.clone(),
        at: ctx.at,
    }])
}

/// Applies a promotion event. Promotions are few (a brand plans tens a year) and the planner
/// reads them all, so the state keeps each one whole.
pub(crate) fn apply(promotions: &mut FxHashMap<PromotionId, Promotion>, event: &PromotionEvent) {
    match event {
        PromotionEvent::Planned {
            promotion,
            name,
            first_day,
            last_day,
            items,
            channels,
            uplift_milli,
            note,
            at,
        } => {
            promotions.insert(
                promotion.clone(),
                Promotion {
                    promotion: promotion.clone(),
                    name: name.clone(),
                    first_day: *first_day,
                    last_day: *last_day,
                    items: items.clone(),
                    channels: channels.clone(),
                    uplift_milli: *uplift_milli,
                    note: note.clone(),
                    status: PromotionStatus::Planned,
                    planned_at: *at,
                    cancelled_at: None,
                    cancel_reason: None,
                },
            );
        }
        PromotionEvent::Cancelled {
            promotion,
            reason,
            at,
        } => {
            if let Some(found) = promotions.get_mut(promotion) {
                found.status = PromotionStatus::Cancelled;
                found.cancelled_at = Some(*at);
                found.cancel_reason = reason.clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::testkit::{id, ok, rejected, tenant};
    use crate::state::Command;

    const T1: &str = "2025-10-01T09:00:00Z";

    fn plan(items: &[&str], first: &str, last: &str, uplift: Option<i64>) -> Command {
        Command::PlanPromotion(PlanPromotion {
            promotion: id("PROMO-1"),
            name: "Black Friday".into(),
            first_day: first.parse().unwrap(),
            last_day: last.parse().unwrap(),
            items: items.iter().map(|sku| id(sku)).collect(),
            channels: vec![],
            uplift_milli: uplift,
            note: None,
        })
    }

    fn cancel() -> Command {
        Command::CancelPromotion(CancelPromotion {
            promotion: id("PROMO-1"),
            reason: Some("moved to December".into()),
        })
    }

    #[test]
    fn a_promotion_is_planned_once_and_cancelled_once() {
        let mut state = tenant();
        let command = plan(&["MUG", "DUO"], "2025-11-28", "2025-12-01", Some(2800));
        let events = ok(&mut state, command.clone(), T1);
        assert_eq!(events.len(), 1);
        assert_eq!(
            state.promotions.get(&id("PROMO-1")).map(|p| p.status),
            Some(PromotionStatus::Planned)
        );
        let again = rejected(&mut state, command, T1);
        assert!(
            matches!(again, DomainError::AlreadyExists { .. }),
            "{again}"
        );
        ok(&mut state, cancel(), T1);
        let cancelled = state.promotions.get(&id("PROMO-1")).unwrap();
        assert_eq!(cancelled.status, PromotionStatus::Cancelled);
        assert_eq!(
            cancelled.cancel_reason.as_deref(),
            Some("moved to December")
        );
        let twice = rejected(&mut state, cancel(), T1);
        assert!(
            matches!(twice, DomainError::IllegalTransition { .. }),
            "{twice}"
        );
    }

    #[test]
    fn bad_promotions_name_their_field() {
        let mut state = tenant();
        let mut unnamed = plan(&[], "2025-11-28", "2025-11-28", None);
        if let Command::PlanPromotion(command) = &mut unnamed {
            command.name = "  ".into();
        }
        let mut twice = plan(&[], "2025-11-28", "2025-11-28", None);
        if let Command::PlanPromotion(command) = &mut twice {
            command.channels = vec![id("web"), id("web")];
        }
        let cases = [
            (unnamed, "name"),
            (plan(&[], "2025-11-28", "2025-11-27", None), "last_day"),
            // 2025-01-01 to 2026-01-02 is 367 days, the last included: one past the limit.
            (plan(&[], "2025-01-01", "2026-01-02", None), "last_day"),
            (
                plan(&["NOPE"], "2025-11-28", "2025-11-28", None),
                "items[0]",
            ),
            (
                plan(&["MUG", "MUG"], "2025-11-28", "2025-11-28", None),
                "items[1]",
            ),
            (twice, "channels[1]"),
            (
                plan(&[], "2025-11-28", "2025-11-28", Some(0)),
                "uplift_milli",
            ),
            (
                plan(&[], "2025-11-28", "2025-11-28", Some(UPLIFT_MILLI_MAX + 1)),
                "uplift_milli",
            ),
        ];
        for (command, field) in cases {
            let error = rejected(&mut state, command, T1);
            let named = match &error {
                DomainError::Invalid { field, .. } | DomainError::NotFound { field, .. } => {
                    field.clone()
                }
                other => panic!("{field}: {other}"),
            };
            assert_eq!(named, field, "{error}");
        }
        // A year to the day (366 days inclusive, 2025-01-01 to 2026-01-01) is accepted.
        ok(&mut state, plan(&[], "2025-01-01", "2026-01-01", None), T1);
        let unknown = rejected(
            &mut state,
            {
                let Command::CancelPromotion(mut command) = cancel() else {
                    unreachable!()
                };
                command.promotion = id("PROMO-9");
                Command::CancelPromotion(command)
            },
            T1,
        );
        assert!(matches!(unknown, DomainError::NotFound { .. }), "{unknown}");
    }
}
