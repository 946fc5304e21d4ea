//! Ledger effects of an event, and the builder `decide` uses to compute them.

use crate::error::DomainError;
use crate::id::{LocationId, Sku};
use crate::ledger::{Account, Balance, JournalEntry, Move, StockLedger, VirtualLocation};
use crate::money::Currency;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// A change of the quantity reserved for an item at a location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReservationChange {
    /// The item.
    pub sku: Sku,
    /// The location.
    pub location: LocationId,
    /// Signed change: positive reserves, negative releases.
    pub quantity: i64,
}

/// What an event does to the two ledgers. Recorded in the event, so replaying the log never
/// re-runs costing rules: the values are facts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Effects {
    /// Stock moves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moves: Vec<Move>,
    /// Reservation changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reservations: Vec<ReservationChange>,
    /// Money postings.
    #[serde(default, skip_serializing_if = "JournalEntry::is_empty")]
    pub journal: JournalEntry,
}

impl Effects {
    /// Whether the effects change nothing.
    pub fn is_empty(&self) -> bool {
        self.moves.is_empty() && self.reservations.is_empty() && self.journal.is_empty()
    }
}

/// Whether stock at this location is owned inventory counted in the inventory account.
pub fn is_valued(location: &LocationId) -> bool {
    VirtualLocation::from_id(location).is_none_or(|virtual_location| virtual_location.is_valued())
}

/// Whether this is a physical location or a valued virtual one, which must never go negative.
fn must_stay_non_negative(location: &LocationId) -> bool {
    is_valued(location)
}

/// Computes effects against a working copy of the balances the command touches, so that a
/// command's later lines see the demand of its earlier lines and kit components (a command
/// whose lines together exceed the stock is refused as a whole).
pub(crate) struct EffectsBuilder<'a> {
    stock: &'a StockLedger,
    working: FxHashMap<(Sku, LocationId), Balance>,
    /// Units this command has asked to reserve so far, per item and location.
    demand: FxHashMap<(Sku, LocationId), i64>,
    effects: Effects,
    base: Currency,
}

impl<'a> EffectsBuilder<'a> {
    pub(crate) fn new(stock: &'a StockLedger, base: Currency) -> Self {
        Self {
            stock,
            working: FxHashMap::default(),
            demand: FxHashMap::default(),
            effects: Effects::default(),
            base,
        }
    }

    /// The working balance of an item at a location.
    pub(crate) fn balance(&mut self, sku: &Sku, location: &LocationId) -> &mut Balance {
        let stock = self.stock;
        self.working
            .entry((sku.clone(), location.clone()))
            .or_insert_with(|| stock.balance(sku, location))
    }

    /// Available quantity (on hand minus reserved) in the working view.
    pub(crate) fn available(&mut self, sku: &Sku, location: &LocationId) -> i64 {
        self.balance(sku, location).available()
    }

    /// Reserves `quantity`, failing if not enough is available.
    pub(crate) fn reserve(
        &mut self,
        sku: &Sku,
        location: &LocationId,
        quantity: i64,
    ) -> Result<(), DomainError> {
        // The error reports everything this command asked for at the location, and what was
        // available there before the command.
        let asked = self
            .demand
            .entry((sku.clone(), location.clone()))
            .or_insert(0);
        *asked = asked.saturating_add(quantity);
        let requested = *asked;
        let balance = self.balance(sku, location);
        if balance.available() < quantity {
            return Err(DomainError::InsufficientStock {
                sku: sku.clone(),
                location: location.clone(),
                requested,
                available: self.stock.balance(sku, location).available().max(0),
            });
        }
        let balance = self.balance(sku, location);
        balance.reserved += quantity;
        self.push_reservation(sku, location, quantity);
        Ok(())
    }

    /// Releases `quantity` previously reserved by the document.
    pub(crate) fn release(&mut self, sku: &Sku, location: &LocationId, quantity: i64) {
        if quantity == 0 {
            return;
        }
        self.balance(sku, location).reserved -= quantity;
        self.push_reservation(sku, location, -quantity);
    }

    fn push_reservation(&mut self, sku: &Sku, location: &LocationId, quantity: i64) {
        self.effects.reservations.push(ReservationChange {
            sku: sku.clone(),
            location: location.clone(),
            quantity,
        });
    }

    /// Moves `quantity` out of a stocked location at its moving-average cost.
    /// With `reserved = true` the units come out of the document's reservation; otherwise they
    /// must be available. Returns the value moved.
    pub(crate) fn move_stock(
        &mut self,
        sku: &Sku,
        from: &LocationId,
        to: &LocationId,
        quantity: i64,
        reserved: bool,
    ) -> Result<i64, DomainError> {
        let balance = self.balance(sku, from);
        let usable = if reserved {
            balance.on_hand
        } else {
            balance.available()
        };
        if must_stay_non_negative(from) && usable < quantity {
            return Err(DomainError::InsufficientStock {
                sku: sku.clone(),
                location: from.clone(),
                requested: quantity,
                available: usable.max(0),
            });
        }
        let value = balance.value_of(quantity);
        if reserved {
            self.release(sku, from, quantity);
        }
        self.record_move(sku, from, to, quantity, value);
        Ok(value)
    }

    /// Moves `quantity` from a virtual source at an explicit value (receipts, returns, gains,
    /// production output).
    pub(crate) fn move_valued(
        &mut self,
        sku: &Sku,
        from: &LocationId,
        to: &LocationId,
        quantity: i64,
        value: i64,
    ) {
        self.record_move(sku, from, to, quantity, value);
    }

    fn record_move(
        &mut self,
        sku: &Sku,
        from: &LocationId,
        to: &LocationId,
        quantity: i64,
        value: i64,
    ) {
        let source = self.balance(sku, from);
        source.on_hand -= quantity;
        source.value_minor -= value;
        let target = self.balance(sku, to);
        target.on_hand += quantity;
        target.value_minor += value;
        self.effects.moves.push(Move {
            sku: sku.clone(),
            from: from.clone(),
            to: to.clone(),
            quantity,
            value_minor: value,
        });
    }

    /// Posts `amount` (base currency) from `credit` to `debit`.
    pub(crate) fn post(&mut self, debit: Account, credit: Account, amount_minor: i64) {
        self.effects
            .journal
            .transfer(debit, credit, amount_minor, self.base);
    }

    /// Posts `amount` in a given currency.
    pub(crate) fn post_in(
        &mut self,
        debit: Account,
        credit: Account,
        amount_minor: i64,
        currency: Currency,
    ) {
        self.effects
            .journal
            .transfer(debit, credit, amount_minor, currency);
    }

    /// The inventory-account change implied by the moves so far: value entering valued
    /// locations minus value leaving them.
    pub(crate) fn inventory_delta(&self) -> i64 {
        self.effects
            .moves
            .iter()
            .map(|movement| {
                let into = i64::from(is_valued(&movement.to));
                let out_of = i64::from(is_valued(&movement.from));
                (into - out_of) * movement.value_minor
            })
            .sum()
    }

    pub(crate) fn finish(self) -> Effects {
        self.effects
    }
}
