//! The incremental fold: events in, aggregates per local day and slice out.
//!
//! [`Fold::apply`] takes one event (with its business time) and does a bounded amount of work:
//! it updates the record of the one document the event concerns ([`OrderTrack`] for sales
//! orders, a purchase-order or return record) and adds the event's contribution to the
//! [`Bucket`] of its local day, for the whole tenant and for each slice it belongs to
//! (channel, center, carrier service, supplier, SKU, category, ship-to region). An order's
//! verdict is counted when it closes; a late fact (a return, a claim, a credit note) that
//! changes the verdict within the observation window takes the old verdict out and puts the new
//! one in. Records leave memory once no late fact can change them any more, so memory follows
//! open work and the number of days, not the length of history.
//!
//! The fold is split by sub-fold, each adding its own `impl Fold` block: [`Slice`] and
//! [`Dimension`] name what figures are cut by, [`Bucket`] and [`Series`] hold them, and
//! [`FoldSettings`] and [`EmissionSettings`] say how they are computed. `sales` follows sales
//! orders (and the work orders that make for them) to their verdicts, `purchase` purchase
//! orders to theirs, `returns` returns and their legs, `stock` counts and availability, and
//! `money` the journal and the ledger balances. This file holds the fold itself: its state,
//! the dispatch of an event to its sub-fold, master data, and letting settled records go.

mod archive;
mod bucket;
mod money;
mod projection;
mod purchase;
mod returns;
mod sales;
mod settings;
pub(crate) mod slice;
mod stock;
mod varint;

pub use archive::{Archive, Verdict};
use bucket::Buckets;
pub use bucket::{Bucket, Pick, Series, Stored, balance};
pub use settings::{EmissionSettings, FoldSettings};
pub use slice::{Dimension, Slice, SliceError};

use crate::geo::Place;
use crate::histogram::Histogram;
use crate::history::History;
use crate::order::{Judgement, OrderTrack};
use crate::period::Day;
use flowline_core::Event;
use flowline_core::codec::CodecError;
use flowline_core::master::TransportMode;
use flowline_core::money::{Currency, ExchangeRate};
use flowline_core::state::MasterEvent;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use money::Running;
use purchase::PurchaseTrack;
use returns::ReturnTrack;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use stock::{Availability, Spell};

/// The fold over a tenant's events.
///
/// Its serde form is for snapshots ([`Fold::encode`], which adds the five largest fields as
/// parts of their own): hash maps in sorted key order, so a fold restored from a snapshot and
/// fed the rest of the log encodes exactly as one that folded the whole log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fold {
    settings: FoldSettings,
    // The five largest fields are encoded apart, side by side ([`Fold::encode`]).
    #[serde(skip)]
    buckets: Buckets,
    #[serde(skip)]
    series: FxHashMap<(Day, Series), Histogram>,
    #[serde(skip)]
    orders: FxHashMap<String, OrderTrack>,
    #[serde(skip)]
    counted: FxHashMap<String, Judgement>,
    /// Settled orders' verdicts, after their records have gone, for drill-down.
    #[serde(skip)]
    archive: Archive,
    #[serde(with = "flowline_core::codec::sorted")]
    purchases: FxHashMap<String, PurchaseTrack>,
    #[serde(with = "flowline_core::codec::sorted")]
    returns: FxHashMap<String, ReturnTrack>,
    #[serde(with = "flowline_core::codec::sorted")]
    return_orders: FxHashMap<String, String>,
    /// The recorded rate of each sales order not in the base currency, by order id: its
    /// postings (revenue, receivables, refunds) are converted at it. Kept for the fold's life,
    /// since a refund may come long after the order settled; one entry per foreign order.
    #[serde(with = "flowline_core::codec::sorted")]
    order_rates: FxHashMap<String, (ExchangeRate, Currency)>,
    #[serde(with = "flowline_core::codec::sorted")]
    work_orders: FxHashMap<String, String>,
    #[serde(with = "flowline_core::codec::sorted")]
    categories: FxHashMap<String, String>,
    #[serde(with = "flowline_core::codec::sorted")]
    unit_costs: FxHashMap<String, i64>,
    #[serde(with = "flowline_core::codec::sorted")]
    modes: FxHashMap<(String, String), TransportMode>,
    #[serde(with = "flowline_core::codec::time_zone_map")]
    zones: FxHashMap<String, TimeZone>,
    #[serde(with = "flowline_core::codec::sorted")]
    places: FxHashMap<String, Place>,
    #[serde(with = "flowline_core::codec::sorted")]
    weights: FxHashMap<String, i64>,
    #[serde(with = "flowline_core::codec::sorted")]
    asset_book: FxHashMap<String, (bool, i128)>,
    longest_return_window_days: i64,
    watermark: Option<Timestamp>,
    activity: Option<(Timestamp, Timestamp)>,
    running: Running,
    events: u64,
    events_since_sweep: u64,
    improvement: flowline_core::State,
    #[serde(with = "flowline_core::codec::sorted")]
    availability: FxHashMap<(String, String), Availability>,
    spells: Vec<Spell>,
    #[serde(with = "flowline_core::codec::sorted")]
    return_reasons: FxHashMap<(Day, String), i64>,
    /// What the operational pages show besides the figures.
    history: History,
}

/// What an event carries besides its payload: when it happened in the business.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTime {
    /// Business time.
    pub at: Timestamp,
}

impl Fold {
    /// An empty fold.
    pub fn new(settings: FoldSettings) -> Self {
        Self {
            settings,
            buckets: Buckets::default(),
            series: FxHashMap::default(),
            orders: FxHashMap::default(),
            counted: FxHashMap::default(),
            archive: Archive::default(),
            purchases: FxHashMap::default(),
            returns: FxHashMap::default(),
            return_orders: FxHashMap::default(),
            order_rates: FxHashMap::default(),
            work_orders: FxHashMap::default(),
            categories: FxHashMap::default(),
            unit_costs: FxHashMap::default(),
            modes: FxHashMap::default(),
            zones: FxHashMap::default(),
            places: FxHashMap::default(),
            weights: FxHashMap::default(),
            asset_book: FxHashMap::default(),
            longest_return_window_days: 0,
            watermark: None,
            activity: None,
            running: Running::default(),
            events: 0,
            events_since_sweep: 0,
            improvement: flowline_core::State::default(),
            availability: FxHashMap::default(),
            spells: Vec::new(),
            return_reasons: FxHashMap::default(),
            history: History::default(),
        }
    }

    /// The fold's snapshot: every field in the canonical binary encoding of
    /// [`flowline_core::codec`], so two folds in the same state encode to the same bytes. The
    /// buckets, histograms, order records, verdicts and archive are encoded as parts of their
    /// own, on threads of their own, and joined ([`flowline_core::codec::join`]); a year's
    /// fold is over a hundred megabytes, and restoring it is most of a warm start.
    pub fn encode(&self) -> Result<Vec<u8>, CodecError> {
        use flowline_core::codec::encode;
        use parts::ValuesOut;
        let [rest, buckets, series, orders, counted, archive] = std::thread::scope(|scope| {
            let buckets = scope.spawn(|| encode(&self.buckets));
            let orders = scope.spawn(|| encode(&ValuesOut(&self.orders)));
            let series = scope.spawn(|| encode(&ValuesOut(&self.series)));
            let counted = encode(&ValuesOut(&self.counted));
            let archive = encode(&self.archive);
            let rest = encode(self);
            [
                rest,
                parts::joined(buckets),
                parts::joined(series),
                parts::joined(orders),
                counted,
                archive,
            ]
        });
        Ok(flowline_core::codec::join(&[
            rest?, buckets?, series?, orders?, counted?, archive?,
        ]))
    }

    /// A fold restored from [`Fold::encode`]'s bytes, its parts decoded side by side; folding
    /// the events after the snapshot into it gives the fold of the whole log.
    pub fn decode(bytes: &[u8]) -> Result<Fold, CodecError> {
        use flowline_core::codec::decode;
        use parts::ValuesIn;
        let [rest, buckets, series, orders, counted, archive] =
            flowline_core::codec::split::<6>(bytes)?;
        let (fold, buckets, series, orders, counted, archive) = std::thread::scope(|scope| {
            let buckets = scope.spawn(|| decode::<Buckets>(buckets));
            let orders = scope.spawn(|| decode::<ValuesIn<String, OrderTrack>>(orders));
            let series = scope.spawn(|| decode::<ValuesIn<(Day, Series), Histogram>>(series));
            let counted = decode::<ValuesIn<String, Judgement>>(counted);
            let archive = decode::<Archive>(archive);
            let fold = decode::<Fold>(rest);
            (
                fold,
                parts::joined(buckets),
                parts::joined(series),
                parts::joined(orders),
                counted,
                archive,
            )
        });
        Ok(Fold {
            buckets: buckets?,
            series: series?.0,
            orders: orders?.0,
            counted: counted?.0,
            archive: archive?,
            ..fold?
        })
    }

    /// The settings.
    pub fn settings(&self) -> &FoldSettings {
        &self.settings
    }

    /// Events folded so far.
    pub fn event_count(&self) -> u64 {
        self.events
    }

    /// The latest business time seen.
    pub fn watermark(&self) -> Option<Timestamp> {
        self.watermark
    }

    /// The first and the latest business time of an operational event (a document, stock,
    /// money): what the data covers. Master data and targets are left out, so a tenant
    /// configured today over imported orders of 2018 has activity in 2018.
    pub fn activity(&self) -> Option<(Timestamp, Timestamp)> {
        self.activity
    }

    /// Receipts, work orders, dispositions and recent shipments, as the operational pages show
    /// them.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Every bucket with its day and slice, in no order. A past day's bucket of a slice is
    /// kept packed and opened by [`Stored::bucket`]: pick by day and slice before asking for it.
    pub fn buckets(&self) -> impl Iterator<Item = (Day, &Slice, Stored<'_>)> {
        self.buckets.iter()
    }

    /// The buckets of one slice with their days, in no order, each opened when asked for
    /// ([`Stored::bucket`], or added up by [`Stored::add_to`]).
    pub fn slice_buckets(&self, slice: &Slice) -> impl Iterator<Item = (Day, Stored<'_>)> {
        self.buckets.of(slice)
    }

    /// The bucket of a day and slice.
    pub fn bucket(&self, day: Day, slice: &Slice) -> Option<Cow<'_, Bucket>> {
        self.buckets.get(day, slice)
    }

    /// The distribution of a series on a day.
    pub fn series(&self, day: Day, series: Series) -> Option<&Histogram> {
        self.series.get(&(day, series))
    }

    /// Buckets held, over every day and slice.
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    /// Every slice but the whole tenant's, with its size over all its days
    /// ([`Bucket::size`]) and the number of days it has figures for, in no order: what ranking
    /// slices by how much they hold needs, without reading their buckets.
    pub fn slice_sizes(&self) -> impl Iterator<Item = (&Slice, i128, usize)> {
        self.buckets.sizes()
    }

    /// The slices of `dimension` with figures in `range`, largest first by the counters `pick`
    /// names summed over the range (ties in slice order), at most `limit` of them.
    pub fn largest_slices(
        &self,
        range: crate::period::Range,
        dimension: Dimension,
        pick: &Pick,
        limit: usize,
    ) -> Vec<Slice> {
        self.buckets.largest(range, dimension, pick, limit)
    }

    fn day(&self, at: Timestamp) -> Day {
        Day::of(at, &self.settings.reporting)
    }

    /// Applies `change` to the bucket of `day` for each slice.
    fn add(&mut self, day: Day, slices: &[Slice], change: impl Fn(&mut Bucket)) {
        for slice in slices {
            self.buckets.change(day, slice, &change);
        }
    }

    fn record(&mut self, day: Day, series: Series, seconds: i64, sign: i64) {
        let histogram = self.series.entry((day, series)).or_default();
        histogram.record(seconds, sign);
        if histogram.count() == 0 {
            self.series.remove(&(day, series));
        }
    }

    /// Folds one event.
    pub fn apply(&mut self, event: &Event, time: EventTime) {
        self.events += 1;
        if self.watermark.is_none_or(|seen| time.at > seen) {
            self.watermark = Some(time.at);
        }
        if !matches!(
            event,
            Event::Master(_)
                | Event::Improvement(_)
                | Event::Proposal(_)
                | Event::Forecast(_)
                | Event::Promotion(_)
        ) {
            self.activity = Some(match self.activity {
                None => (time.at, time.at),
                Some((first, last)) => (first.min(time.at), last.max(time.at)),
            });
        }
        self.history.apply(event, time.at);
        if let Some(effects) = event.effects() {
            self.post_journal(event, &effects.journal, time.at);
            self.track_availability(effects, time.at);
        }
        match event {
            Event::Master(master) => self.master(master),
            Event::SalesOrder(sales) => self.sales(sales, time.at),
            Event::PurchaseOrder(purchase) => self.purchase(purchase, time.at),
            Event::WorkOrder(work) => self.work(work),
            Event::Return(returned) => self.returned(returned, time.at),
            Event::Inventory(inventory) => self.inventory(inventory, time.at),
            Event::Finance(finance) => self.finance(finance, time.at),
            // Targets and initiatives are kept as the domain folds them.
            Event::Improvement(_) => {
                flowline_core::retention::apply_document(&mut self.improvement, event);
            }
            // Proposals move nothing; an approved one's purchase order or transfer does.
            Event::Transfer(_) | Event::Proposal(_) | Event::Forecast(_) | Event::Promotion(_) => {}
        }
        // A sweep costs one look at every record in memory, so it runs once per that many events
        // (and at least every 4,096): a constant amount of work per event on average.
        self.events_since_sweep += 1;
        if !self.settings.keep_settled_orders
            && self.events_since_sweep >= (self.orders.len() as u64).max(4096)
        {
            self.forget_settled();
            self.events_since_sweep = 0;
        }
    }

    fn master(&mut self, event: &MasterEvent) {
        match event {
            MasterEvent::ItemDefined { item } => {
                let category = item.category.clone().unwrap_or_default();
                self.categories.insert(item.sku.to_string(), category);
                self.unit_costs
                    .insert(item.sku.to_string(), item.unit_cost.amount_minor);
                self.weights.insert(item.sku.to_string(), item.weight_g);
            }
            MasterEvent::CarrierDefined { carrier } => {
                for service in &carrier.services {
                    self.modes.insert(
                        (carrier.id.to_string(), service.code.to_string()),
                        service.mode,
                    );
                }
            }
            MasterEvent::LocationDefined { location } => {
                if let Ok(zone) = TimeZone::get(location.address.time_zone.as_str()) {
                    self.zones.insert(location.id.to_string(), zone);
                }
                match crate::geo::locate(&location.address) {
                    Some(place) => self.places.insert(location.id.to_string(), place),
                    None => self.places.remove(location.id.as_str()),
                };
            }
            MasterEvent::ReturnPolicySet { policy } => {
                self.longest_return_window_days =
                    self.longest_return_window_days.max(policy.window_days);
            }
            MasterEvent::TenantConfigured { .. }
            | MasterEvent::SupplierDefined { .. }
            | MasterEvent::InventoryPolicySet { .. }
            | MasterEvent::InventoryPolicyCleared { .. } => {}
        }
    }

    /// Lets records go that no late fact can change any more: orders closed before the
    /// observation window and the longest return window (sale cohorts) have passed, settled
    /// purchase orders, refunded returns. Packs the buckets of the days before the latest.
    fn forget_settled(&mut self) {
        let Some(watermark) = self.watermark else {
            return;
        };
        self.buckets.pack_before(self.day(watermark));
        let days = self
            .settings
            .rules
            .observation_window_days
            .max(self.longest_return_window_days)
            .saturating_add(1);
        let Some(horizon) = jiff::SignedDuration::try_from_hours(days.saturating_mul(24))
            .and_then(|span| watermark.checked_sub(span).ok())
        else {
            return;
        };
        let mut settled: Vec<(Judgement, OrderTrack)> = self
            .orders
            .extract_if(|_, track| track.closed_at().is_some_and(|closed| closed < horizon))
            .filter_map(|(id, track)| Some((self.counted.remove(&id)?, track)))
            .collect();
        // The map's order depends on its history; the archive's must not.
        settled.sort_unstable_by(|a, b| (a.0.day, &a.1.id).cmp(&(b.0.day, &b.1.id)));
        for (judgement, track) in &settled {
            self.archive.keep(track, judgement);
        }
        // A purchase order stays while it can still change: units to come, a bill to match,
        // money owed (whose payment must be converted at its rate), or recent activity.
        self.purchases.retain(|_, track| {
            track.counted.is_none()
                || track.billing_mismatch
                || track.paid_minor < track.billed_minor
                || track.last_activity >= horizon
        });
        self.returns.retain(|_, track| !track.refunded);
        let live: rustc_hash::FxHashSet<&String> = self.orders.keys().collect();
        self.return_orders.retain(|_, order| live.contains(order));
        self.work_orders.retain(|_, order| live.contains(order));
    }

    /// The tenant's targets, active and retired, by id.
    pub fn targets(&self) -> impl Iterator<Item = &flowline_core::documents::improvement::Target> {
        self.improvement.targets.values()
    }

    /// The tenant's improvement initiatives, by id.
    pub fn initiatives(
        &self,
    ) -> impl Iterator<Item = &flowline_core::documents::improvement::Initiative> {
        self.improvement.initiatives.values()
    }
}

/// The fold's largest fields as parts of a snapshot of their own ([`Fold::encode`]).
mod parts {
    use super::FxHashMap;
    use flowline_core::codec::positional_values;
    use serde::de::DeserializeOwned;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::hash::Hash;
    use std::thread::ScopedJoinHandle;

    /// What a thread returned; a panic in it goes on in the caller.
    pub(super) fn joined<T>(handle: ScopedJoinHandle<'_, T>) -> T {
        handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    /// Writes a map's entries sorted by key, each value by position.
    pub(super) struct ValuesOut<'a, K, V>(pub &'a FxHashMap<K, V>);

    impl<K: Ord + Serialize, V: Serialize> Serialize for ValuesOut<'_, K, V> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            positional_values::serialize(self.0, serializer)
        }
    }

    /// Reads what [`ValuesOut`] wrote.
    pub(super) struct ValuesIn<K, V>(pub FxHashMap<K, V>);

    impl<'de, K: Deserialize<'de> + Eq + Hash, V: DeserializeOwned> Deserialize<'de>
        for ValuesIn<K, V>
    {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            positional_values::deserialize(deserializer).map(ValuesIn)
        }
    }
}
