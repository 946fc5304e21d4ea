//! The stock sub-fold: cycle counts (inventory record accuracy) and each item's availability
//! at each center over time (stocked and stockout seconds), in day buckets or, for long
//! spells, kept whole.

use super::{Fold, Slice};
use crate::period::Day;
use flowline_core::documents::inventory::InventoryEvent;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Availability spells over more local days than this are kept whole (see
/// [`Fold::accrue_availability`]).
const SPELL_DAYS_IN_BUCKETS: i64 = 3;

/// A spell of one item's availability at one center that lasted several days unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Spell {
    pub(super) sku: String,
    pub(super) center: String,
    pub(super) from: Timestamp,
    pub(super) until: Timestamp,
    pub(super) out: bool,
}

/// The availability of one item at one center since a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Availability {
    pub(super) available: i64,
    pub(super) since: Timestamp,
}

impl Fold {
    /// Availability spells kept whole rather than in day buckets.
    pub fn spells_kept(&self) -> usize {
        self.spells.len()
    }

    /// The stocked and stockout seconds not in any bucket, clipped to `range`: each item's time
    /// at a center since its last change (up to `until`, the moment of asking), and the spells
    /// kept whole.
    pub fn open_availability(
        &self,
        range: crate::period::Range,
        slice: &Slice,
        until: Timestamp,
    ) -> (i128, i128) {
        let zone = &self.settings.reporting;
        let start = range.from.start(zone);
        let end = range.to.start(zone);
        let matches = |sku: &str, center: &str| match slice {
            Slice::All => true,
            Slice::Center(wanted) => wanted == center,
            Slice::Sku(wanted) => wanted == sku,
            _ => false,
        };
        let (mut stocked, mut out) = (0i128, 0i128);
        let mut count = |from: Timestamp, to: Timestamp, is_out: bool| {
            let (from, to) = (from.max(start), to.min(end));
            if from < to {
                let seconds = i128::from(to.duration_since(from).as_secs());
                stocked += seconds;
                if is_out {
                    out += seconds;
                }
            }
        };
        for ((sku, center), state) in &self.availability {
            if matches(sku, center) {
                count(state.since, until, state.available <= 0);
            }
        }
        for spell in &self.spells {
            if matches(&spell.sku, &spell.center) {
                count(spell.from, spell.until, spell.out);
            }
        }
        (stocked, out)
    }

    pub(super) fn inventory(&mut self, event: &InventoryEvent, at: Timestamp) {
        if let InventoryEvent::CountRecorded {
            location, lines, ..
        } = event
        {
            let day = self.day(at);
            for line in lines {
                let sku = line.sku.to_string();
                let unit_cost = i128::from(self.unit_costs.get(&sku).copied().unwrap_or(0));
                let mut slices = vec![Slice::All, Slice::Center(location.to_string())];
                slices.push(Slice::Sku(sku.clone()));
                if let Some(category) = self.categories.get(&sku).filter(|c| !c.is_empty()) {
                    slices.push(Slice::Category(category.clone()));
                }
                let matching = line.system == line.counted;
                let difference = i128::from((line.system - line.counted).abs()) * unit_cost;
                let system = i128::from(line.system.max(0)) * unit_cost;
                self.add(day, &slices, |bucket| {
                    bucket.counted_lines += 1;
                    if matching {
                        bucket.counted_lines_matching += 1;
                    }
                    bucket.counted_system_value += system;
                    bucket.counted_difference_value += difference;
                });
            }
        }
    }

    /// Follows each item's availability at each center: the time it spent at or below zero
    /// (a stockout) and the time it was stocked at all, split over the local days it covers.
    pub(super) fn track_availability(
        &mut self,
        effects: &flowline_core::effects::Effects,
        at: Timestamp,
    ) {
        let mut changes: Vec<((String, String), i64)> = Vec::new();
        let center = |location: &flowline_core::id::LocationId| {
            flowline_core::ledger::VirtualLocation::from_id(location).is_none()
        };
        for movement in &effects.moves {
            if center(&movement.to) {
                changes.push((
                    (movement.sku.to_string(), movement.to.to_string()),
                    movement.quantity,
                ));
            }
            if center(&movement.from) {
                changes.push((
                    (movement.sku.to_string(), movement.from.to_string()),
                    -movement.quantity,
                ));
            }
        }
        for change in &effects.reservations {
            if center(&change.location) {
                changes.push((
                    (change.sku.to_string(), change.location.to_string()),
                    -change.quantity,
                ));
            }
        }
        for (key, delta) in changes {
            let previous = self.availability.get(&key).copied();
            if let Some(previous) = previous {
                self.accrue_availability(&key, previous, at);
            }
            let available = previous.map_or(0, |p| p.available) + delta;
            let since = previous.map_or(at, |p| p.since.max(at));
            self.availability
                .insert(key, Availability { available, since });
        }
    }

    /// Adds the time from `state.since` to `until` to the stocked and stockout seconds of the
    /// days it covers. A spell over at most [`SPELL_DAYS_IN_BUCKETS`] local days goes into their
    /// buckets; a longer one is kept whole as a [`Spell`] and clipped to the range asked for when
    /// a scorecard is computed, so the cost of an event never depends on how far apart in time
    /// it is from the one before (an order dated centuries ahead costs one spell, not a bucket
    /// for every day in between).
    fn accrue_availability(
        &mut self,
        key: &(String, String),
        state: Availability,
        until: Timestamp,
    ) {
        if until <= state.since {
            return;
        }
        let zone = self.settings.reporting.clone();
        let out = state.available <= 0;
        let (first, last) = (Day::of(state.since, &zone), Day::of(until, &zone));
        if i64::from(last.0) - i64::from(first.0) >= SPELL_DAYS_IN_BUCKETS {
            self.spells.push(Spell {
                sku: key.0.clone(),
                center: key.1.clone(),
                from: state.since,
                until,
                out,
            });
            return;
        }
        let slices = [
            Slice::All,
            Slice::Center(key.1.clone()),
            Slice::Sku(key.0.clone()),
        ];
        let mut from = state.since;
        while from < until {
            let day = Day::of(from, &zone);
            let end = day.next().start(&zone).min(until);
            let seconds = i128::from(end.duration_since(from).as_secs().max(0));
            self.add(day, &slices, |bucket| {
                bucket.stock_seconds += seconds;
                if out {
                    bucket.stockout_seconds += seconds;
                }
            });
            if end <= from {
                break;
            }
            from = end;
        }
    }
}
