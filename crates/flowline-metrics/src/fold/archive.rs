//! Settled orders, packed: what drill-down needs of an order once no late fact can change its
//! verdict, so the fold can let the order's record go and still list it behind a number.
//!
//! An order's record ([`OrderTrack`]) holds its lines, holds, shipments and late facts: a few
//! hundred bytes to a few kilobytes. Once settled, drill-down needs only its id, verdict, cycle
//! time and the names it is sliced by, which pack into about fifty bytes: each name is
//! written once in a table and referred to by number, integers as variable-length integers.
//! Rows are kept per closing day, in the order the fold settled them (each sweep's orders
//! sorted by day and id), so equal histories pack into equal bytes and a range reads only its
//! own days.
//!
//! Orders out of the reliability population (cancelled by the customer, say) are not kept:
//! drill-down never lists them.

use super::varint;
use crate::order::{Judgement, OrderTrack, Segments};
use crate::period::{Day, Range};
use jiff::Timestamp;
use rustc_hash::FxHashMap;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// One order's verdict as drill-down reads it: from an order still in memory or from the
/// archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict<'a> {
    /// The sales order.
    pub order: &'a str,
    /// The local day it closed on.
    pub day: Day,
    /// When it closed.
    pub closed_at: Timestamp,
    /// Whether it had a commitment to judge timeliness against.
    pub has_commit: bool,
    /// The failed components.
    pub signature: u8,
    /// Cycle time from placement to the last delivery, by segment.
    pub cycle: Option<Segments>,
    /// The center, carrier and service of the last delivery.
    pub last_shipment: Option<(&'a str, &'a str, &'a str)>,
    /// The sales channel.
    pub channel: &'a str,
    /// The ship-to region.
    pub region: &'a str,
    /// The items ordered, each once.
    pub skus: Vec<&'a str>,
}

impl<'a> Verdict<'a> {
    /// The verdict of an order held in memory.
    pub fn of(track: &'a OrderTrack, judgement: &'a Judgement) -> Self {
        let mut skus: Vec<&str> = Vec::with_capacity(track.lines.len());
        for line in &track.lines {
            if !skus.contains(&line.sku.as_str()) {
                skus.push(line.sku.as_str());
            }
        }
        Self {
            order: &track.id,
            day: judgement.day,
            closed_at: judgement.closed_at,
            has_commit: judgement.has_commit,
            signature: judgement.signature,
            cycle: judgement.cycle,
            last_shipment: judgement
                .last_shipment
                .as_ref()
                .map(|(center, (carrier, service))| {
                    (center.as_str(), carrier.as_str(), service.as_str())
                }),
            channel: track.channel.as_str(),
            region: &track.region,
            skus,
        }
    }
}

/// Settled orders, packed by closing day.
#[derive(Clone, Default)]
pub struct Archive {
    /// Every name a row refers to, by number.
    names: Vec<String>,
    /// The number of each name (not written: rebuilt from `names` when read).
    numbers: FxHashMap<String, u32>,
    /// Packed rows by closing day.
    days: BTreeMap<Day, Vec<u8>>,
    /// Rows kept.
    rows: u64,
}

impl PartialEq for Archive {
    fn eq(&self, other: &Self) -> bool {
        self.names == other.names && self.days == other.days && self.rows == other.rows
    }
}

impl fmt::Debug for Archive {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Archive")
            .field("rows", &self.rows)
            .field("days", &self.days.len())
            .field("names", &self.names.len())
            .field("bytes", &self.bytes())
            .finish()
    }
}

const HAS_COMMIT: u8 = 1;
const HAS_CYCLE: u8 = 2;
const HAS_SHIPMENT: u8 = 4;

impl Archive {
    /// Orders kept.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Bytes of packed rows.
    pub fn bytes(&self) -> usize {
        self.days.values().map(Vec::len).sum()
    }

    fn number(&mut self, name: &str) -> u64 {
        if let Some(number) = self.numbers.get(name) {
            return u64::from(*number);
        }
        let number = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_string());
        self.numbers.insert(name.to_string(), number);
        u64::from(number)
    }

    /// Keeps a settled order's verdict (one out of the reliability population is dropped).
    pub fn keep(&mut self, track: &OrderTrack, judgement: &Judgement) {
        if judgement.excluded {
            return;
        }
        let verdict = Verdict::of(track, judgement);
        let mut row = Vec::with_capacity(64);
        let numbers: Vec<u64> = [verdict.channel, verdict.region]
            .into_iter()
            .chain(verdict.skus.iter().copied())
            .chain(
                verdict
                    .last_shipment
                    .into_iter()
                    .flat_map(|(center, carrier, service)| [center, carrier, service]),
            )
            .map(|name| self.number(name))
            .collect();
        write_unsigned(&mut row, verdict.order.len() as u64);
        row.extend_from_slice(verdict.order.as_bytes());
        write_signed(&mut row, verdict.closed_at.as_second());
        write_signed(&mut row, i64::from(verdict.closed_at.subsec_nanosecond()));
        let mut flags = 0;
        if verdict.has_commit {
            flags |= HAS_COMMIT;
        }
        if verdict.cycle.is_some() {
            flags |= HAS_CYCLE;
        }
        if verdict.last_shipment.is_some() {
            flags |= HAS_SHIPMENT;
        }
        row.push(flags);
        row.push(verdict.signature);
        for seconds in verdict.cycle.iter().flatten() {
            write_signed(&mut row, *seconds);
        }
        write_unsigned(&mut row, verdict.skus.len() as u64);
        for number in numbers {
            write_unsigned(&mut row, number);
        }
        self.days.entry(judgement.day).or_default().extend(row);
        self.rows += 1;
    }

    /// The verdicts kept for the days of `range`, by day, each day's in the order they were
    /// kept.
    pub fn verdicts(&self, range: Range) -> impl Iterator<Item = Verdict<'_>> {
        self.days
            .range(range.from..range.to.max(range.from))
            .flat_map(move |(day, bytes)| Rows {
                names: &self.names,
                day: *day,
                bytes,
            })
    }
}

/// The rows of one day; a row that does not read back (which the snapshot's checksum rules
/// out) ends the day.
struct Rows<'a> {
    names: &'a [String],
    day: Day,
    bytes: &'a [u8],
}

impl<'a> Iterator for Rows<'a> {
    type Item = Verdict<'a>;

    fn next(&mut self) -> Option<Verdict<'a>> {
        if self.bytes.is_empty() {
            return None;
        }
        let read = self.read();
        if read.is_none() {
            self.bytes = &[];
        }
        read
    }
}

impl<'a> Rows<'a> {
    fn unsigned(&mut self) -> Option<u64> {
        varint::read_unsigned(&mut self.bytes).and_then(|value| u64::try_from(value).ok())
    }

    fn signed(&mut self) -> Option<i64> {
        varint::read_signed(&mut self.bytes).and_then(|value| i64::try_from(value).ok())
    }

    fn byte(&mut self) -> Option<u8> {
        let (&byte, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(byte)
    }

    fn name(&mut self) -> Option<&'a str> {
        let number = usize::try_from(self.unsigned()?).ok()?;
        self.names.get(number).map(String::as_str)
    }

    fn read(&mut self) -> Option<Verdict<'a>> {
        let length = usize::try_from(self.unsigned()?).ok()?;
        if length > self.bytes.len() {
            return None;
        }
        let (order, rest) = self.bytes.split_at(length);
        self.bytes = rest;
        let order = std::str::from_utf8(order).ok()?;
        let seconds = self.signed()?;
        let nanoseconds = i32::try_from(self.signed()?).ok()?;
        let closed_at = Timestamp::new(seconds, nanoseconds).ok()?;
        let flags = self.byte()?;
        let signature = self.byte()?;
        let cycle = if flags & HAS_CYCLE != 0 {
            let mut segments = Segments::default();
            for segment in &mut segments {
                *segment = self.signed()?;
            }
            Some(segments)
        } else {
            None
        };
        let sku_count = usize::try_from(self.unsigned()?).ok()?;
        let channel = self.name()?;
        let region = self.name()?;
        // A row names at least one byte per item: a count beyond that is not a row.
        let mut skus = Vec::with_capacity(sku_count.min(self.bytes.len()));
        for _ in 0..sku_count {
            skus.push(self.name()?);
        }
        let last_shipment = if flags & HAS_SHIPMENT != 0 {
            Some((self.name()?, self.name()?, self.name()?))
        } else {
            None
        };
        Some(Verdict {
            order,
            day: self.day,
            closed_at,
            has_commit: flags & HAS_COMMIT != 0,
            signature,
            cycle,
            last_shipment,
            channel,
            region,
            skus,
        })
    }
}

fn write_unsigned(out: &mut Vec<u8>, value: u64) {
    varint::write_unsigned(out, u128::from(value));
}

fn write_signed(out: &mut Vec<u8>, value: i64) {
    varint::write_signed(out, i128::from(value));
}

/// A day's rows as one byte string.
struct Packed<'a>(&'a [u8]);

impl Serialize for Packed<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        flowline_core::codec::bytes::serialize(self.0, serializer)
    }
}

impl Serialize for Archive {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("Archive", 3)?;
        state.serialize_field("names", &self.names)?;
        let days: Vec<(Day, Packed<'_>)> = self
            .days
            .iter()
            .map(|(day, bytes)| (*day, Packed(bytes)))
            .collect();
        state.serialize_field("days", &days)?;
        state.serialize_field("rows", &self.rows)?;
        state.end()
    }
}

/// A day's rows, as read.
#[derive(Deserialize)]
struct Owned(#[serde(with = "flowline_core::codec::bytes")] Vec<u8>);

#[derive(Deserialize)]
struct Read {
    names: Vec<String>,
    days: Vec<(Day, Owned)>,
    rows: u64,
}

impl<'de> Deserialize<'de> for Archive {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let read = Read::deserialize(deserializer)?;
        let numbers = read
            .names
            .iter()
            .enumerate()
            .map(|(number, name)| (name.clone(), u32::try_from(number).unwrap_or(u32::MAX)))
            .collect();
        Ok(Self {
            names: read.names,
            numbers,
            days: read
                .days
                .into_iter()
                .map(|(day, Owned(bytes))| (day, bytes))
                .collect(),
            rows: read.rows,
        })
    }
}
