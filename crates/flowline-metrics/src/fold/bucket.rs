//! What the fold produces per local day and slice: the [`Bucket`] of counters (every field a
//! sum, so buckets add over days and slices), the indices of its ledger balances
//! ([`balance`]), and the [`Series`] kept as distributions beside it.

use super::varint;
use super::{Dimension, Slice};
use crate::period::{Day, Range};
use rustc_hash::FxHashMap;
use serde::de;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// Declares the bucket and what is done with each of its counters alike: [`Bucket::merge`] adds
/// them, `each` reads them in field order and `add_at` adds to one by its place in that order, so packing
/// ([`Bucket::pack`]) and adding cannot forget a field added later.
macro_rules! counters {
    (
        $(#[$outer:meta])*
        pub struct $name:ident {
            $( $(#[$inner:meta])* pub $field:ident: $type:ty, )*
        }
    ) => {
        $(#[$outer])*
        pub struct $name {
            $( $(#[$inner])* pub $field: $type, )*
        }

        impl $name {
            /// Adds another bucket.
            pub fn merge(&mut self, other: &Self) {
                $( Counter::add(&mut self.$field, &other.$field); )*
            }

            /// Every counter in field order.
            fn each(&self, visit: &mut impl FnMut(i128)) {
                $( Counter::each(&self.$field, visit); )*
            }

            /// Counter `index` (in field order); `None` past the last.
            fn get(&self, index: usize) -> Option<i128> {
                let mut index = index;
                $(
                    if index < <$type as Counter>::WIDTH {
                        return Counter::get(&self.$field, index);
                    }
                    index -= <$type as Counter>::WIDTH;
                )*
                let _ = index;
                None
            }

            /// Adds `value` to counter `index` (in field order); `None` if there is no such
            /// counter or the sum is out of its range.
            fn add_at(&mut self, index: usize, value: i128) -> Option<()> {
                let mut index = index;
                $(
                    if index < <$type as Counter>::WIDTH {
                        return Counter::add_at(&mut self.$field, index, value);
                    }
                    index -= <$type as Counter>::WIDTH;
                )*
                let _ = index;
                None
            }
        }
    };
}

/// A counter of a bucket, or an array of them.
trait Counter {
    /// The counters it holds.
    const WIDTH: usize;
    fn add(&mut self, other: &Self);
    fn each(&self, visit: &mut impl FnMut(i128));
    fn get(&self, index: usize) -> Option<i128>;
    fn add_at(&mut self, index: usize, value: i128) -> Option<()>;
}

impl Counter for i64 {
    const WIDTH: usize = 1;

    fn add(&mut self, other: &Self) {
        *self += *other;
    }

    fn each(&self, visit: &mut impl FnMut(i128)) {
        visit(i128::from(*self));
    }

    fn get(&self, _: usize) -> Option<i128> {
        Some(i128::from(*self))
    }

    fn add_at(&mut self, _: usize, value: i128) -> Option<()> {
        *self = self.checked_add(i64::try_from(value).ok()?)?;
        Some(())
    }
}

impl Counter for i128 {
    const WIDTH: usize = 1;

    fn add(&mut self, other: &Self) {
        *self += *other;
    }

    fn each(&self, visit: &mut impl FnMut(i128)) {
        visit(*self);
    }

    fn get(&self, _: usize) -> Option<i128> {
        Some(*self)
    }

    fn add_at(&mut self, _: usize, value: i128) -> Option<()> {
        *self = self.checked_add(value)?;
        Some(())
    }
}

impl<T: Counter, const N: usize> Counter for [T; N] {
    const WIDTH: usize = N * T::WIDTH;

    fn add(&mut self, other: &Self) {
        for (counter, more) in self.iter_mut().zip(other) {
            counter.add(more);
        }
    }

    fn each(&self, visit: &mut impl FnMut(i128)) {
        for counter in self {
            counter.each(visit);
        }
    }

    fn get(&self, index: usize) -> Option<i128> {
        self.as_slice().get(index / T::WIDTH)?.get(index % T::WIDTH)
    }

    fn add_at(&mut self, index: usize, value: i128) -> Option<()> {
        self.get_mut(index / T::WIDTH)?
            .add_at(index % T::WIDTH, value)
    }
}

counters! {
/// Counters of one day and slice. Every field is a sum, so buckets add over days and slices,
/// and a late fact is taken back by adding its contribution with the opposite sign.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bucket {
    /// Orders closed for measurement.
    pub orders_closed: i64,
    /// Of those, out of the population (customer cancellations, excluded reasons).
    pub orders_excluded: i64,
    /// Closed orders in the population (the natural population of RL.2.1, RL.2.3, RL.2.4).
    pub orders_judged: i64,
    /// Of those, with a commitment (the population of RL.1.1 and RL.2.2).
    pub orders_with_commit: i64,
    /// Failures per component over the natural population (on time: over orders with a
    /// commitment).
    pub failures_natural: [i64; 4],
    /// Failures per component over orders with a commitment.
    pub failures_committed: [i64; 4],
    /// Orders with a commitment both on time and in full.
    pub on_time_in_full: i64,
    /// Orders with a commitment by failure signature (index = signature; 0 = perfect).
    pub signatures: [i64; 16],
    /// Orders with a commitment and a delivery (the population of on-time delivery among
    /// delivered orders, which leaves out orders closed by cancellation alone).
    pub delivered_with_commit: i64,
    /// Of those, late or delivered to the wrong place.
    pub delivered_late: i64,
    /// Closed orders with a delivery: the population of the cycle times.
    pub cycle_orders: i64,
    /// Their placement-to-last-delivery times, seconds.
    pub cycle_gross_seconds: i128,
    /// Their times per segment, seconds.
    pub cycle_segment_seconds: [i128; 7],
    /// Orders at their first allocation.
    pub fill_orders: i64,
    /// Of those, allocated complete at once.
    pub fill_orders_complete: i64,
    /// Lines at their order's first allocation.
    pub fill_lines: i64,
    /// Of those, allocated complete at once.
    pub fill_lines_complete: i64,
    /// Units ordered at the first allocation.
    pub fill_units_ordered: i64,
    /// Units allocated by it.
    pub fill_units_allocated: i64,
    /// Orders with a unit backordered at the first allocation.
    pub backordered_orders: i64,
    /// Orders whose first shipment left this day.
    pub orders_shipped: i64,
    /// Units shipped this day.
    pub units_shipped: i64,
    /// Units sold (ordered) this day: the sale cohort.
    pub cohort_units_sold: i64,
    /// Units of this day's sales later authorised for return.
    pub cohort_units_returned: i64,
    /// Units authorised for return this day.
    pub units_returned: i64,
    /// Returns refunded this day after being received.
    pub returns_processed: i64,
    /// Their receipt-to-refund times, seconds.
    pub return_processing_seconds: i128,
    /// Refunds issued before the goods came back (instant refunds), counted apart.
    pub returns_refunded_before_receipt: i64,
    /// Orders whose ship-by deadline fell this day.
    pub ship_deadlines: i64,
    /// Of those, handed to a carrier by the deadline.
    pub ship_on_time: i64,
    /// Purchase orders closed for measurement (received in full, or closed short).
    pub supplier_orders: i64,
    /// Of those, with a supplier commitment.
    pub supplier_orders_with_commit: i64,
    /// Failures per component over the supplier orders (on time: over those with a
    /// commitment).
    pub supplier_failures: [i64; 4],
    /// Supplier orders with a commitment and no failure.
    pub supplier_perfect: i64,
    /// Receipt lines put away.
    pub dock_lines: i64,
    /// Their dock-to-stock times, seconds.
    pub dock_seconds: i128,
    /// Shipments handed to carriers.
    pub shipments: i64,
    /// Of those, with a known distance and factor: the shipments [`Bucket::emissions_mg`]
    /// counts.
    pub emission_shipments: i64,
    /// Of those, left out of the emission figures: no distance (neither end located, or both on
    /// the same centroid) or no factor for the service's mode in the set.
    pub emission_shipments_left_out: i64,
    /// Emissions of the counted shipments, milligrams CO2e (each rounded half to even).
    pub emissions_mg: i128,
    /// Their gross mass × distance, gram-metres (10⁹ per tonne-kilometre).
    pub gram_metres: i128,
    /// Return legs (customer → the center that shipped the order) whose goods arrived, with a
    /// known distance and factor.
    pub return_legs: i64,
    /// Return legs left out of the emission figures, for the same reasons as shipments.
    pub return_legs_left_out: i64,
    /// Emissions of the counted return legs, milligrams CO2e.
    pub return_emissions_mg: i128,
    /// Their mass × distance, gram-metres.
    pub return_gram_metres: i128,
    /// Seconds items were stocked at centers (from an item's first arrival at a center on).
    pub stock_seconds: i128,
    /// Of those, seconds with nothing available (on hand less reserved at or below zero).
    pub stockout_seconds: i128,
    /// Counted item-locations.
    pub counted_lines: i64,
    /// Of those, matching the ledger.
    pub counted_lines_matching: i64,
    /// Value the ledger held for the counted items, at standard cost.
    pub counted_system_value: i128,
    /// Absolute value of the differences found, at standard cost.
    pub counted_difference_value: i128,
    /// Expensed supply chain cost per SCOR process (plan, source, make, deliver, return,
    /// enable), base currency minor units.
    pub cost: [i128; 6],
    /// Revenue earned (invoices less credit notes).
    pub revenue: i128,
    /// Refunds paid.
    pub refunds: i128,
    /// Cost of goods sold, write-downs included.
    pub cost_of_goods_sold: i128,
    /// Material purchases: the value of goods received from suppliers.
    pub purchases: i128,
    /// Net change of the inventory, receivables, payables and supply-chain fixed assets
    /// (net book value) balances this day.
    pub balance_change: [i128; 4],
    /// Σ change × seconds from the change to the end of the day, per balance: with the opening
    /// balance this gives the day's time-weighted integral exactly.
    pub balance_weighted: [i128; 4],
}
}

/// Indices into [`Bucket::balance_change`].
pub mod balance {
    /// Inventory at cost.
    pub const INVENTORY: usize = 0;
    /// Accounts receivable.
    pub const RECEIVABLES: usize = 1;
    /// Accounts payable (owed: positive).
    pub const PAYABLES: usize = 2;
    /// Net book value of supply-chain fixed assets.
    pub const FIXED_ASSETS: usize = 3;
}

impl Bucket {
    /// What a slice's size is counted in when slices are ranked: orders closed and shipped,
    /// purchase orders closed and stock lines counted, the things its figures are about
    /// ([`Pick::size`] names the same counters).
    pub fn size(&self) -> i128 {
        i128::from(self.orders_closed)
            + i128::from(self.orders_shipped)
            + i128::from(self.supplier_orders)
            + i128::from(self.counted_lines)
    }

    /// Whether every counter is zero.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The bucket as the fold keeps a past day's: each counter that is not zero, as the
    /// distance from the previous one in field order and its value, both variable-length.
    /// A bucket of one item's day has a few counters set of its 99, so it packs into tens of
    /// bytes instead of 1,088; equal buckets pack to equal bytes.
    pub(crate) fn pack(&self) -> Box<[u8]> {
        let mut out = Vec::new();
        let (mut index, mut expected) = (0_usize, 0_usize);
        self.each(&mut |value| {
            if value != 0 {
                varint::write_unsigned(&mut out, (index - expected) as u128);
                varint::write_signed(&mut out, value);
                expected = index + 1;
            }
            index += 1;
        });
        out.into_boxed_slice()
    }

    /// The bucket [`Bucket::pack`] packed; `None` if `packed` is not such a packing (it ends
    /// inside a counter, names one past the last, gives a zero, or a value out of its
    /// counter's range).
    pub(crate) fn unpack(packed: &[u8]) -> Option<Self> {
        let mut bucket = Self::default();
        bucket.add_packed(packed)?;
        Some(bucket)
    }

    /// Adds a packed bucket, counter by counter as they are set, without unpacking it; `None`
    /// if `packed` is not a packing or a sum leaves its counter's range (what was added before
    /// stays added).
    fn add_packed(&mut self, packed: &[u8]) -> Option<()> {
        let mut bytes = packed;
        let mut expected = 0_usize;
        while !bytes.is_empty() {
            let distance = usize::try_from(varint::read_unsigned(&mut bytes)?).ok()?;
            let index = expected.checked_add(distance)?;
            let value = varint::read_signed(&mut bytes)?;
            if value == 0 {
                return None;
            }
            self.add_at(index, value)?;
            expected = index + 1;
        }
        Some(())
    }
}

/// The series kept as distributions (for medians and percentiles), tenant-wide only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Series {
    /// RS.1.1, net of dwell.
    CycleTime,
    /// Click-to-door, gross.
    ClickToDoor,
    /// Dock-to-stock.
    DockToStock,
    /// Return receipt to refund.
    ReturnProcessing,
}

/// A day's bucket as the fold keeps it: open while its day may still change often, packed once
/// it is past ([`Buckets::pack_before`]). A late fact for a past day opens its bucket again
/// until the next sweep.
#[derive(Clone)]
enum Kept {
    Open(Box<Bucket>),
    Packed(Box<[u8]>),
}

impl Kept {
    fn bucket(&self) -> Cow<'_, Bucket> {
        match self {
            Self::Open(bucket) => Cow::Borrowed(bucket),
            Self::Packed(packed) => Cow::Owned(Self::unpacked(packed)),
        }
    }

    /// A packing the fold made, or read back and checked ([`PackedRead`]), unpacked.
    fn unpacked(packed: &[u8]) -> Bucket {
        Bucket::unpack(packed).unwrap_or_else(|| unreachable!("only checked packings are kept"))
    }

    fn packed(&self) -> Cow<'_, [u8]> {
        match self {
            Self::Open(bucket) => Cow::Owned(bucket.pack().into_vec()),
            Self::Packed(packed) => Cow::Borrowed(packed),
        }
    }
}

/// A bucket as the fold holds it, opened when asked for.
#[derive(Clone, Copy)]
pub struct Stored<'a>(&'a Kept);

impl<'a> Stored<'a> {
    /// The bucket.
    pub fn bucket(self) -> Cow<'a, Bucket> {
        self.0.bucket()
    }

    /// Adds the bucket to `total`, from the packed bytes as they are when packed.
    pub fn add_to(self, total: &mut Bucket) {
        match self.0 {
            Kept::Open(bucket) => total.merge(bucket),
            Kept::Packed(packed) => {
                let added = total.add_packed(packed);
                debug_assert!(added.is_some(), "only the fold's own packings are kept");
            }
        }
    }

    /// The sum of the counters `pick` names, read without opening a packed bucket: what
    /// ranking every slice by its size needs of each of its days.
    pub fn sum(self, pick: &Pick) -> i128 {
        match self.0 {
            Kept::Open(bucket) => pick.0.iter().filter_map(|&index| bucket.get(index)).sum(),
            Kept::Packed(packed) => {
                let (mut bytes, mut expected, mut sum) = (&packed[..], 0_usize, 0_i128);
                let last = pick.0.iter().max().copied().unwrap_or_default();
                while let Some(index) = varint::read_unsigned(&mut bytes)
                    .and_then(|distance| usize::try_from(distance).ok())
                    .and_then(|distance| expected.checked_add(distance))
                    .filter(|index| *index <= last)
                {
                    if pick.0.contains(&index) {
                        sum += varint::read_signed(&mut bytes).unwrap_or_default();
                    } else if varint::skip(&mut bytes).is_none() {
                        break;
                    }
                    expected = index + 1;
                }
                sum
            }
        }
    }
}

/// Counters of a bucket named by field, for [`Stored::sum`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick(Vec<usize>);

impl Pick {
    /// The counters of [`Bucket::size`].
    pub fn size() -> Self {
        Self::of(&[
            |bucket| &mut bucket.orders_closed,
            |bucket| &mut bucket.orders_shipped,
            |bucket| &mut bucket.supplier_orders,
            |bucket| &mut bucket.counted_lines,
        ])
    }

    /// The counters the functions point to, such as `|bucket| &mut bucket.orders_closed`.
    pub fn of(fields: &[fn(&mut Bucket) -> &mut i64]) -> Self {
        Self(
            fields
                .iter()
                .filter_map(|field| {
                    let mut marked = Bucket::default();
                    *field(&mut marked) = 1;
                    let mut index = 0_usize;
                    let mut found = None;
                    marked.each(&mut |value| {
                        if value != 0 {
                            found = Some(index);
                        }
                        index += 1;
                    });
                    found
                })
                .collect(),
        )
    }
}

/// Every slice's buckets by day: what the fold adds to for each event and the scorecard sums
/// over ranges. A year of a brand holds a bucket for each item on each day it sold, most of
/// them past days with a handful of counters set, so past days are kept packed.
///
/// Equality is of the buckets' counters, not of which are packed; the serde form (sorted
/// slices and days, each bucket packed) is the same for equal buckets whatever was packed.
#[derive(Clone, Default)]
pub(crate) struct Buckets {
    days: FxHashMap<Slice, FxHashMap<Day, Kept>>,
    /// Each slice's size over all its days ([`Bucket::size`]), kept as buckets change, so
    /// ranking every slice reads one figure a slice instead of every bucket. The whole
    /// tenant's is not kept.
    sizes: FxHashMap<Slice, i128>,
}

impl Buckets {
    /// The bucket of a day and slice.
    pub(crate) fn get(&self, day: Day, slice: &Slice) -> Option<Cow<'_, Bucket>> {
        self.days.get(slice)?.get(&day).map(Kept::bucket)
    }

    /// One slice's buckets with their days, in no order, each opened when asked for.
    pub(crate) fn of(&self, slice: &Slice) -> impl Iterator<Item = (Day, Stored<'_>)> {
        self.days
            .get(slice)
            .into_iter()
            .flat_map(|days| days.iter().map(|(day, kept)| (*day, Stored(kept))))
    }

    /// Every bucket with its day and slice, in no order; a packed one is opened only when
    /// asked for ([`Stored::bucket`]), so a caller that picks by day or slice first opens only
    /// those it picks.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Day, &Slice, Stored<'_>)> {
        self.days.iter().flat_map(|(slice, days)| {
            days.iter()
                .map(move |(day, kept)| (*day, slice, Stored(kept)))
        })
    }

    /// Buckets held, over every day and slice.
    pub(crate) fn len(&self) -> usize {
        self.days.values().map(FxHashMap::len).sum()
    }

    /// The whole tenant's bucket of a day, to add to.
    pub(crate) fn whole_mut(&mut self, day: Day) -> &mut Bucket {
        self.open_mut(day, &Slice::All)
    }

    /// Applies `change` to the bucket of a day and slice, and keeps the slice's size.
    pub(crate) fn change(&mut self, day: Day, slice: &Slice, change: impl Fn(&mut Bucket)) {
        let bucket = self.open_mut(day, slice);
        let before = bucket.size();
        change(bucket);
        let grown = bucket.size() - before;
        if grown != 0 && *slice != Slice::All {
            match self.sizes.get_mut(slice) {
                Some(size) => *size += grown,
                None => {
                    self.sizes.insert(slice.clone(), grown);
                }
            }
        }
    }

    /// Every slice but the whole tenant's with its size over all its days and the number of
    /// days it has a bucket for, in no order.
    pub(crate) fn sizes(&self) -> impl Iterator<Item = (&Slice, i128, usize)> {
        self.days
            .iter()
            .filter(|(slice, _)| **slice != Slice::All)
            .map(|(slice, days)| {
                let size = self.sizes.get(slice).copied().unwrap_or_default();
                (slice, size, days.len())
            })
    }

    /// The slices of `dimension` with figures in `range`, largest first by the counters `pick`
    /// names summed over the range (ties by slice), at most `limit` of them. Only the
    /// dimension's buckets are read, and packed ones are not opened.
    pub(crate) fn largest(
        &self,
        range: Range,
        dimension: Dimension,
        pick: &Pick,
        limit: usize,
    ) -> Vec<Slice> {
        let mut ranked: Vec<(&Slice, i128)> = self
            .days
            .iter()
            .filter(|(slice, _)| dimension.owns(slice))
            .filter_map(|(slice, days)| {
                let mut present = false;
                let mut size = 0_i128;
                for (day, kept) in days {
                    if range.contains(*day) {
                        present = true;
                        size += Stored(kept).sum(pick);
                    }
                }
                present.then_some((slice, size))
            })
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        ranked
            .into_iter()
            .take(limit)
            .map(|(slice, _)| slice.clone())
            .collect()
    }

    /// The bucket of a day and slice to add to, created empty or opened if packed.
    fn open_mut(&mut self, day: Day, slice: &Slice) -> &mut Bucket {
        // Looking the slice up before inserting spares a clone of its name on every event.
        if !self.days.contains_key(slice) {
            self.days.insert(slice.clone(), FxHashMap::default());
        }
        let kept = self
            .days
            .get_mut(slice)
            .map(|days| {
                days.entry(day)
                    .or_insert_with(|| Kept::Open(Box::default()))
            })
            .unwrap_or_else(|| unreachable!("the slice was inserted above"));
        if let Kept::Packed(packed) = kept {
            *kept = Kept::Open(Box::new(Kept::unpacked(packed)));
        }
        match kept {
            Kept::Open(bucket) => bucket,
            Kept::Packed(_) => unreachable!("opened above"),
        }
    }

    /// Packs the open buckets of the days before `day`, but for the whole tenant's (a bucket a
    /// day, read by every figure).
    pub(crate) fn pack_before(&mut self, day: Day) {
        for (_, days) in self
            .days
            .iter_mut()
            .filter(|(slice, _)| **slice != Slice::All)
        {
            for (bucket_day, kept) in days.iter_mut() {
                if let Kept::Open(bucket) = kept
                    && *bucket_day < day
                {
                    *kept = Kept::Packed(bucket.pack());
                }
            }
        }
    }

    /// The bytes the packed and open buckets take: (buckets, bytes of counters). An open
    /// bucket counts its whole size.
    pub(crate) fn footprint(&self) -> (usize, usize) {
        self.days
            .values()
            .flat_map(FxHashMap::values)
            .fold((0, 0), |(count, bytes), kept| {
                let size = match kept {
                    Kept::Open(_) => std::mem::size_of::<Bucket>(),
                    Kept::Packed(packed) => packed.len(),
                };
                (count + 1, bytes + size)
            })
    }
}

impl PartialEq for Buckets {
    fn eq(&self, other: &Self) -> bool {
        self.days.len() == other.days.len()
            && self.days.iter().all(|(slice, days)| {
                other.days.get(slice).is_some_and(|others| {
                    days.len() == others.len()
                        && days.iter().all(|(day, kept)| {
                            others
                                .get(day)
                                .is_some_and(|theirs| kept.bucket() == theirs.bucket())
                        })
                })
            })
    }
}

impl fmt::Debug for Buckets {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (count, bytes) = self.footprint();
        formatter
            .debug_struct("Buckets")
            .field("slices", &self.days.len())
            .field("buckets", &count)
            .field("bytes", &bytes)
            .finish()
    }
}

/// One slice's days as written: sorted by day, each bucket packed.
type Written<'a> = (&'a Slice, Vec<(Day, PackedBytes<'a>)>);

/// A packed bucket written as a byte string.
struct PackedBytes<'a>(Cow<'a, [u8]>);

impl Serialize for PackedBytes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        flowline_core::codec::bytes::serialize(&self.0, serializer)
    }
}

/// A packed bucket read back, checked to be one.
struct PackedRead(Box<[u8]>);

impl<'de> Deserialize<'de> for PackedRead {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let packed = flowline_core::codec::bytes::deserialize(deserializer)?;
        if Bucket::unpack(&packed).is_none() {
            return Err(de::Error::custom(
                "a bucket's packed counters are malformed",
            ));
        }
        Ok(Self(packed.into_boxed_slice()))
    }
}

impl Serialize for Buckets {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut slices: Vec<Written<'_>> = self
            .days
            .iter()
            .map(|(slice, days)| {
                let mut days: Vec<(Day, PackedBytes<'_>)> = days
                    .iter()
                    .map(|(day, kept)| (*day, PackedBytes(kept.packed())))
                    .collect();
                days.sort_unstable_by_key(|(day, _)| *day);
                (slice, days)
            })
            .collect();
        slices.sort_unstable_by(|a, b| a.0.cmp(b.0));
        serializer.collect_seq(slices)
    }
}

impl<'de> Deserialize<'de> for Buckets {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let slices: Vec<(Slice, Vec<(Day, PackedRead)>)> = Vec::deserialize(deserializer)?;
        let mut buckets = Self {
            days: slices
                .into_iter()
                .map(|(slice, days)| {
                    // The whole tenant's buckets are kept open, as the fold keeps them.
                    let open = slice == Slice::All;
                    let days = days
                        .into_iter()
                        .map(|(day, PackedRead(packed))| {
                            let kept = if open {
                                Kept::Open(Box::new(Kept::unpacked(&packed)))
                            } else {
                                Kept::Packed(packed)
                            };
                            (day, kept)
                        })
                        .collect();
                    (slice, days)
                })
                .collect(),
            sizes: FxHashMap::default(),
        };
        let size = Pick::size();
        buckets.sizes = buckets
            .days
            .iter()
            .filter(|(slice, _)| **slice != Slice::All)
            .map(|(slice, days)| {
                let total = days.values().map(|kept| Stored(kept).sum(&size)).sum();
                (slice.clone(), total)
            })
            .collect();
        Ok(buckets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The counters in field order, flattened.
    fn counters(bucket: &Bucket) -> Vec<i128> {
        let mut all = Vec::new();
        bucket.each(&mut |value| all.push(value));
        all
    }

    #[test]
    fn every_counter_is_packed_added_and_counted_once() {
        // Counted by hand from the struct: 4 order counts, 4 + 4 failures, on time in full,
        // 16 signatures, 3 delivery and cycle counts, the gross cycle time, 7 segments, 6 fill
        // counts, backordered, 10 shipping and return counts, 2 supplier counts, 4 supplier
        // failures, 12 supplier-perfect, dock and emission counters, 6 stock and count
        // counters, 6 process costs, 4 money flows, 4 + 4 balances: 99.
        assert_eq!(counters(&Bucket::default()).len(), 99);
        let mut numbered = Bucket::default();
        for index in 0..99 {
            numbered.add_at(index, index as i128 + 1).unwrap();
        }
        assert_eq!(numbered.add_at(99, 1), None);
        let expected: Vec<i128> = (1..=99).collect();
        assert_eq!(counters(&numbered), expected);
        let mut doubled = numbered.clone();
        doubled.merge(&numbered);
        let twice: Vec<i128> = (1..=99).map(|value| 2 * value).collect();
        assert_eq!(counters(&doubled), twice);
        assert_eq!(Bucket::unpack(&numbered.pack()), Some(numbered));
    }

    #[test]
    fn a_bucket_packs_to_the_distances_and_values_of_its_counters_set() {
        let bucket = Bucket {
            orders_closed: 3,
            signatures: {
                let mut signatures = [0; 16];
                signatures[5] = 2;
                signatures
            },
            balance_weighted: [0, 0, 0, -100_000_000_000_000_000_000],
            ..Bucket::default()
        };
        let packed = bucket.pack();
        // orders_closed is counter 0: distance 0, zigzag(3) = 6. signatures[5] is counter
        // 4 + 8 + 1 + 5 = 18: distance 18 - 1 = 17, zigzag(2) = 4. balance_weighted[3] is the
        // last, 98: distance 98 - 19 = 79, then zigzag(-10^20) = 2·10^20 - 1, which needs
        // ⌈68/7⌉ = 10 bytes (2·10^20 < 2^68).
        assert_eq!(&packed[..5], &[0x00, 0x06, 0x11, 0x04, 0x4f]);
        assert_eq!(packed.len(), 5 + 10);
        assert_eq!(Bucket::unpack(&packed), Some(bucket));
        assert!(Bucket::default().pack().is_empty());
        assert_eq!(Bucket::unpack(&[]), Some(Bucket::default()));
    }

    #[test]
    fn picked_counters_sum_alike_open_or_packed() {
        let bucket = Bucket {
            orders_closed: 4,
            orders_shipped: 7,
            units_shipped: 30,
            counted_lines: -2,
            ..Bucket::default()
        };
        let pick = Pick::of(&[
            |bucket| &mut bucket.orders_closed,
            |bucket| &mut bucket.counted_lines,
            |bucket| &mut bucket.orders_shipped,
        ]);
        // orders_closed is the first counter; counted_lines is counted by hand from the end:
        // the last 8 are balances, 4 money flows and 6 costs before them, and before those
        // counted_difference_value, counted_system_value, counted_lines_matching and
        // counted_lines: 99 - 8 - 4 - 6 - 4 = 77.
        assert_eq!(pick.0[..2], [0, 77]);
        // 4 - 2 + 7; units_shipped is not picked.
        let open = Kept::Open(Box::new(bucket.clone()));
        let packed = Kept::Packed(bucket.pack());
        assert_eq!(Stored(&open).sum(&pick), 9);
        assert_eq!(Stored(&packed).sum(&pick), 9);
        // Added to a total, packed or open, the bucket adds every counter: twice over, 8
        // orders closed, 14 shipped, 60 units, -4 lines counted.
        let mut total = Bucket::default();
        Stored(&packed).add_to(&mut total);
        Stored(&open).add_to(&mut total);
        assert_eq!(
            total,
            Bucket {
                orders_closed: 8,
                orders_shipped: 14,
                units_shipped: 60,
                counted_lines: -4,
                ..Bucket::default()
            }
        );
    }

    #[test]
    fn a_slices_size_is_kept_as_its_buckets_change() {
        // Every counter numbered 1..=99: size and Pick::size agree on which four count.
        let mut numbered = Bucket::default();
        for index in 0..99 {
            numbered.add_at(index, index as i128 + 1).unwrap();
        }
        let packed = Kept::Packed(numbered.pack());
        assert_eq!(Stored(&packed).sum(&Pick::size()), numbered.size());
        let item = Slice::Sku("MUG-1".to_string());
        let mut buckets = Buckets::default();
        buckets.change(Day(1), &item, |bucket| bucket.orders_closed += 3);
        buckets.change(Day(2), &item, |bucket| bucket.units_shipped += 9);
        buckets.change(Day(2), &item, |bucket| bucket.counted_lines += 2);
        buckets.change(Day(1), &Slice::All, |bucket| bucket.orders_closed += 3);
        buckets.pack_before(Day(2));
        // A late fact takes one order back on the packed day: 3 - 1 + 2 over two days.
        buckets.change(Day(1), &item, |bucket| bucket.orders_closed -= 1);
        let sizes: Vec<(&Slice, i128, usize)> = buckets.sizes().collect();
        assert_eq!(sizes, [(&item, 4, 2)]);
        // Read back from its serde form, the size is counted again from the buckets.
        let read: Buckets =
            flowline_core::codec::decode(&flowline_core::codec::encode(&buckets).unwrap()).unwrap();
        assert_eq!(read.sizes().collect::<Vec<_>>(), sizes);
    }

    #[test]
    fn the_largest_slices_of_a_range_are_ranked_by_the_picked_counters() {
        let sku = |name: &str| Slice::Sku(name.to_string());
        let mut buckets = Buckets::default();
        // In days 10..12: A closes 2 + 1 orders, B closes 3, C closes none but has a bucket
        // (5 units shipped, not picked); D's only figures fall on day 12, outside. A channel's
        // bucket is of another dimension.
        buckets.change(Day(10), &sku("A"), |bucket| bucket.orders_closed += 2);
        buckets.change(Day(11), &sku("A"), |bucket| bucket.orders_closed += 1);
        buckets.change(Day(11), &sku("B"), |bucket| bucket.orders_closed += 3);
        buckets.change(Day(10), &sku("C"), |bucket| bucket.units_shipped += 5);
        buckets.change(Day(12), &sku("D"), |bucket| bucket.orders_closed += 9);
        buckets.change(Day(10), &Slice::Channel("web".to_string()), |bucket| {
            bucket.orders_closed += 7;
        });
        buckets.pack_before(Day(11));
        let range = Range {
            from: Day(10),
            to: Day(12),
        };
        let closed = Pick::of(&[|bucket| &mut bucket.orders_closed]);
        // A and B tie at 3 and are ranked by slice; C follows with 0.
        assert_eq!(
            buckets.largest(range, Dimension::Sku, &closed, 10),
            [sku("A"), sku("B"), sku("C")]
        );
        assert_eq!(
            buckets.largest(range, Dimension::Sku, &closed, 1),
            [sku("A")]
        );
    }

    #[test]
    fn what_is_not_a_packing_is_refused() {
        // Ends inside a value.
        assert_eq!(Bucket::unpack(&[0x00]), None);
        // A zero is never written.
        assert_eq!(Bucket::unpack(&[0x00, 0x00]), None);
        // Counter 99 is one past the last (distance 99 from counter 0).
        assert_eq!(Bucket::unpack(&[99, 0x02]), None);
        assert!(Bucket::unpack(&[98, 0x02]).is_some());
        // orders_closed is an i64: 2^63 (zigzag 2^64) does not fit it.
        let mut too_big = vec![0x00];
        varint::write_signed(&mut too_big, 1_i128 << 63);
        assert_eq!(Bucket::unpack(&too_big), None);
    }

    #[test]
    fn packed_and_open_buckets_are_equal_and_written_alike() {
        let (past, today) = (Day(100), Day(101));
        let slice = Slice::Sku("MUG-1".to_string());
        let mut open = Buckets::default();
        open.change(past, &slice, |bucket| bucket.orders_closed = 2);
        open.change(today, &slice, |bucket| bucket.units_shipped = 5);
        open.change(past, &Slice::All, |bucket| bucket.orders_closed = 2);
        let mut packed = open.clone();
        packed.pack_before(today);
        // The item's past day packs to two bytes (counter 0, zigzag(2) = 4); its today and the
        // whole tenant's past day stay whole.
        let whole = std::mem::size_of::<Bucket>();
        assert_eq!(packed.footprint(), (3, 2 + 2 * whole));
        assert_eq!(open.footprint(), (3, 3 * whole));
        assert_eq!(open, packed);
        let bytes = flowline_core::codec::encode(&packed).unwrap();
        assert_eq!(bytes, flowline_core::codec::encode(&open).unwrap());
        let read: Buckets = flowline_core::codec::decode(&bytes).unwrap();
        assert_eq!(read, open);
        // Read back, the past days of the item are packed and the whole tenant's open.
        assert_eq!(read.footprint(), (3, 2 + 2 + whole));
        // A late fact for the past day opens its bucket again.
        packed.change(past, &slice, |bucket| bucket.orders_closed += 1);
        assert_eq!(packed.get(past, &slice).unwrap().orders_closed, 3);
        assert_ne!(packed, open);
    }
}
