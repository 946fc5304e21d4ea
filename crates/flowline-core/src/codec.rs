//! The binary encoding of in-memory state for snapshots: MessagePack, with structs written as
//! maps of named fields and every hash map and set written in sorted key order, so that two equal
//! values always encode to the same bytes.
//!
//! MessagePack because it describes itself (the state's types use internally and adjacently
//! tagged enums, which a format without type information cannot read back) and because its map
//! keys may be any value: the ledgers are keyed by tuples, which JSON cannot hold as keys.
//!
//! Canonical: a hash map's iteration order depends on its insertion history, so a field of type
//! `FxHashMap` or `FxHashSet` carries `#[serde(with = "crate::codec::sorted")]` (or
//! [`sorted_nested`] for a map of maps), which writes its entries sorted by key. With that,
//! `encode(decode(encode(x))) == encode(x)` byte for byte, and a state rebuilt from its log
//! encodes exactly as one restored from a snapshot and fed the rest of the log.

use crate::money::Currency;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Why a value could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The value could not be written (a time zone without a name or a fixed offset, say).
    #[error("cannot encode the snapshot: {0}")]
    Encode(#[source] rmp_serde::encode::Error),
    /// The bytes are not an encoding of the type asked for: truncated, corrupt, or of another
    /// type or version.
    #[error("cannot decode the snapshot: {0}")]
    Decode(#[source] rmp_serde::decode::Error),
    /// A whole value was read and bytes are left over: the bytes are not one encoding.
    #[error("cannot decode the snapshot: {left} bytes follow the encoded value")]
    TrailingBytes {
        /// How many bytes follow the value.
        left: usize,
    },
    /// The bytes are not [`join`]ed parts of the number expected.
    #[error("cannot decode the snapshot: {0}")]
    Parts(&'static str),
}

/// Joins separately encoded parts into one byte string: the number of parts, then each part's
/// length and bytes (lengths as 8-byte little-endian integers). A value large enough to be
/// slow to encode is encoded in parts on several threads and read back the same way
/// ([`split`] borrows the parts without copying them).
pub fn join(parts: &[Vec<u8>]) -> Vec<u8> {
    let total: usize = parts.iter().map(|part| part.len() + 8).sum();
    let mut joined = Vec::with_capacity(total + 8);
    joined.extend_from_slice(&(parts.len() as u64).to_le_bytes());
    for part in parts {
        joined.extend_from_slice(&(part.len() as u64).to_le_bytes());
        joined.extend_from_slice(part);
    }
    joined
}

/// The parts [`join`] joined, which must be exactly `N`.
pub fn split<const N: usize>(bytes: &[u8]) -> Result<[&[u8]; N], CodecError> {
    fn length(bytes: &mut &[u8]) -> Result<usize, CodecError> {
        let (head, rest) = bytes
            .split_first_chunk::<8>()
            .ok_or(CodecError::Parts("a part's length is cut short"))?;
        *bytes = rest;
        usize::try_from(u64::from_le_bytes(*head))
            .map_err(|_| CodecError::Parts("a part is longer than memory"))
    }
    let mut rest = bytes;
    if length(&mut rest)? != N {
        return Err(CodecError::Parts("not the number of parts expected"));
    }
    let mut parts = [&bytes[..0]; N];
    for part in &mut parts {
        let size = length(&mut rest)?;
        if size > rest.len() {
            return Err(CodecError::Parts("a part is longer than the bytes left"));
        }
        let (head, tail) = rest.split_at(size);
        *part = head;
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(CodecError::TrailingBytes { left: rest.len() });
    }
    Ok(parts)
}

/// Encodes a value as MessagePack with structs as maps of named fields (what internally tagged
/// enums need to read back).
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CodecError> {
    rmp_serde::to_vec_named(value).map_err(CodecError::Encode)
}

/// Decodes a value written by [`encode`]. The bytes must hold exactly one value.
///
/// Currencies are read as recorded ones (see [`Currency::decoding_recorded`]): a snapshot holds
/// what a log once held, and a code a past build accepted must read back as it did.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    // A cursor over the slice rather than `from_read_ref`, so the bytes read can be counted;
    // lengths in the input are checked against what is left before anything is allocated.
    let mut deserializer = rmp_serde::Deserializer::new(std::io::Cursor::new(bytes));
    let value = Currency::decoding_recorded(|| T::deserialize(&mut deserializer))
        .map_err(CodecError::Decode)?;
    let read = usize::try_from(deserializer.position()).unwrap_or(usize::MAX);
    if read < bytes.len() {
        return Err(CodecError::TrailingBytes {
            left: bytes.len() - read,
        });
    }
    Ok(value)
}

/// Writes a hash map or set with its entries in sorted key order and reads it back as usual:
/// `#[serde(with = "crate::codec::sorted")]` on an `FxHashMap` or `FxHashSet` field. Keys must
/// be `Ord`; every key type of the state and the fold is.
pub mod sorted {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::{HashMap, HashSet};

    /// A collection that can write its entries in sorted key order.
    pub trait SortedEntries {
        /// Writes the entries sorted by key: a map as a map, a set as a sequence.
        fn serialize_sorted<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>;
    }

    impl<K: Ord + Serialize, V: Serialize, H> SortedEntries for HashMap<K, V, H> {
        fn serialize_sorted<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut entries: Vec<(&K, &V)> = self.iter().collect();
            // Keys of a map are distinct, so an unstable sort gives the one order there is.
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            serializer.collect_map(entries)
        }
    }

    impl<K: Ord + Serialize, H> SortedEntries for HashSet<K, H> {
        fn serialize_sorted<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut keys: Vec<&K> = self.iter().collect();
            keys.sort_unstable();
            serializer.collect_seq(keys)
        }
    }

    /// A borrowed collection that serializes its entries in sorted key order, for a collection
    /// inside another (see [`super::sorted_nested`]).
    pub struct Sorted<'a, T: ?Sized>(pub &'a T);

    impl<T: SortedEntries + ?Sized> Serialize for Sorted<'_, T> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            self.0.serialize_sorted(serializer)
        }
    }

    /// Writes the entries sorted by key.
    pub fn serialize<T: SortedEntries + ?Sized, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value.serialize_sorted(serializer)
    }

    /// Reads the collection as its own `Deserialize` does: order does not matter to a hash map.
    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<T, D::Error> {
        T::deserialize(deserializer)
    }
}

/// [`sorted`] for a map whose values are hash maps or sets themselves: both levels are written
/// in sorted key order.
pub mod sorted_nested {
    use super::sorted::{Sorted, SortedEntries};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::HashMap;

    /// Writes the outer entries sorted by key, and each inner collection sorted by key.
    pub fn serialize<K: Ord + Serialize, V: SortedEntries, H, S: Serializer>(
        map: &HashMap<K, V, H>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<(&K, Sorted<'_, V>)> = map
            .iter()
            .map(|(key, inner)| (key, Sorted(inner)))
            .collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        serializer.collect_map(entries)
    }

    /// Reads the map as its own `Deserialize` does.
    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<T, D::Error> {
        T::deserialize(deserializer)
    }
}

/// A `jiff` time zone, which has no serde form of its own: written as its IANA name
/// (`Europe/Berlin`, `UTC`) and read back with `TimeZone::get`; a zone without a name that is
/// a fixed offset is written as the offset in seconds east of UTC. Use as
/// `#[serde(with = "flowline_core::codec::time_zone")]`.
pub mod time_zone {
    use jiff::tz::{Offset, TimeZone};
    use serde::de::{self, Visitor};
    use serde::ser::Error as _;
    use serde::{Deserializer, Serializer};
    use std::fmt;

    /// Writes the zone's IANA name, or its offset in seconds if it is a fixed offset.
    pub fn serialize<S: Serializer>(zone: &TimeZone, serializer: S) -> Result<S::Ok, S::Error> {
        if let Some(name) = zone.iana_name() {
            return serializer.serialize_str(name);
        }
        match zone.to_fixed_offset() {
            Ok(offset) => serializer.serialize_i32(offset.seconds()),
            // A POSIX TZ rule: the fold only ever holds named zones, so refuse rather than
            // write something that would read back as another zone.
            Err(_) => Err(S::Error::custom(
                "a time zone with neither an IANA name nor a fixed offset cannot be encoded",
            )),
        }
    }

    /// Reads a zone written by [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<TimeZone, D::Error> {
        deserializer.deserialize_any(ZoneVisitor)
    }

    struct ZoneVisitor;

    impl Visitor<'_> for ZoneVisitor {
        type Value = TimeZone;

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("an IANA time zone name or an offset from UTC in seconds")
        }

        fn visit_str<E: de::Error>(self, name: &str) -> Result<TimeZone, E> {
            TimeZone::get(name).map_err(|error| E::custom(format!("time zone `{name}`: {error}")))
        }

        fn visit_i64<E: de::Error>(self, seconds: i64) -> Result<TimeZone, E> {
            i32::try_from(seconds)
                .ok()
                .and_then(|seconds| Offset::from_seconds(seconds).ok())
                .map(TimeZone::fixed)
                .ok_or_else(|| E::custom(format!("{seconds} s is not an offset from UTC")))
        }

        fn visit_u64<E: de::Error>(self, seconds: u64) -> Result<TimeZone, E> {
            match i64::try_from(seconds) {
                Ok(seconds) => self.visit_i64(seconds),
                Err(_) => Err(E::custom(format!("{seconds} s is not an offset from UTC"))),
            }
        }
    }

    /// A borrowed zone that serializes as [`serialize`] writes it.
    pub struct Written<'a>(pub &'a TimeZone);

    impl serde::Serialize for Written<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serialize(self.0, serializer)
        }
    }

    /// A zone read as [`deserialize`] reads it.
    pub struct Read(pub TimeZone);

    impl<'de> serde::Deserialize<'de> for Read {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserialize(deserializer).map(Read)
        }
    }
}

/// [`time_zone`] for a hash map whose values are time zones, written in sorted key order like
/// [`sorted`]: `#[serde(with = "flowline_core::codec::time_zone_map")]`.
pub mod time_zone_map {
    use super::time_zone::{Read, Written};
    use jiff::tz::TimeZone;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::HashMap;
    use std::hash::{BuildHasher, Hash};

    /// Writes the entries sorted by key, each zone by name or offset.
    pub fn serialize<K: Ord + Serialize, H, S: Serializer>(
        map: &HashMap<K, TimeZone, H>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<(&K, Written<'_>)> =
            map.iter().map(|(key, zone)| (key, Written(zone))).collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        serializer.collect_map(entries)
    }

    /// Reads a map written by [`serialize`].
    pub fn deserialize<'de, K, H, D>(deserializer: D) -> Result<HashMap<K, TimeZone, H>, D::Error>
    where
        K: Deserialize<'de> + Eq + Hash,
        H: BuildHasher + Default,
        D: Deserializer<'de>,
    {
        let read = HashMap::<K, Read, H>::deserialize(deserializer)?;
        Ok(read.into_iter().map(|(key, zone)| (key, zone.0)).collect())
    }
}

/// A byte buffer written as one MessagePack byte string (serde's default for a `Vec<u8>` is a
/// sequence of numbers, one per byte). Use as `#[serde(with = "flowline_core::codec::bytes")]`.
pub mod bytes {
    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};
    use std::fmt;

    /// Writes the bytes as a byte string.
    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(bytes)
    }

    /// Reads a byte string.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        deserializer.deserialize_byte_buf(BytesVisitor)
    }

    struct BytesVisitor;

    impl Visitor<'_> for BytesVisitor {
        type Value = Vec<u8>;

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("a byte string")
        }

        fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Self::Value, E> {
            Ok(bytes.to_vec())
        }

        fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<Self::Value, E> {
            Ok(bytes)
        }
    }
}

/// A value written by position rather than by name: MessagePack with structs as arrays,
/// carried in a byte string. For a plain struct of numbers kept many times over (the fold's
/// buckets, one per day and slice), whose field names would otherwise be most of a snapshot's
/// bytes and of the time to read it. The struct must hold no internally tagged enum (those need
/// names), and adding, removing or reordering its fields changes the encoding, so the
/// projection's version must change with it.
pub mod positional {
    use serde::de::{self, DeserializeOwned, Visitor};
    use serde::ser::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::fmt;
    use std::marker::PhantomData;

    /// Writes the value it borrows by position.
    pub struct Write<'a, T>(pub &'a T);

    impl<T: Serialize> Serialize for Write<'_, T> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let bytes = rmp_serde::to_vec(self.0).map_err(S::Error::custom)?;
            serializer.serialize_bytes(&bytes)
        }
    }

    /// Reads a value written by [`Write`].
    pub struct Read<T>(pub T);

    impl<'de, T: DeserializeOwned> Deserialize<'de> for Read<T> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_bytes(BytesVisitor(PhantomData))
        }
    }

    struct BytesVisitor<T>(PhantomData<T>);

    impl<T: DeserializeOwned> Visitor<'_> for BytesVisitor<T> {
        type Value = Read<T>;

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("a value written by position in a byte string")
        }

        fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Self::Value, E> {
            rmp_serde::from_slice(bytes).map(Read).map_err(E::custom)
        }
    }
}

/// A hash map written in sorted key order with each value by position ([`positional`]): for
/// maps of many records of one plain type (the fold's open orders, its histograms). Use as
/// `#[serde(with = "flowline_core::codec::positional_values")]`.
pub mod positional_values {
    use super::positional::{Read, Write};
    use serde::de::DeserializeOwned;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::HashMap;
    use std::hash::{BuildHasher, Hash};

    /// Writes the entries sorted by key, each value by position.
    pub fn serialize<K: Ord + Serialize, V: Serialize, H, S: Serializer>(
        map: &HashMap<K, V, H>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<(&K, Write<'_, V>)> =
            map.iter().map(|(key, value)| (key, Write(value))).collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        serializer.collect_seq(entries)
    }

    /// Reads entries written by [`serialize`].
    pub fn deserialize<'de, K, V, H, D>(deserializer: D) -> Result<HashMap<K, V, H>, D::Error>
    where
        K: Deserialize<'de> + Eq + Hash,
        V: DeserializeOwned,
        H: BuildHasher + Default,
        D: Deserializer<'de>,
    {
        let entries: Vec<(K, Read<V>)> = Vec::deserialize(deserializer)?;
        Ok(entries
            .into_iter()
            .map(|(key, Read(value))| (key, value))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::{Offset, TimeZone};
    use rustc_hash::{FxHashMap, FxHashSet};
    use serde::Deserialize;

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    struct Holder {
        #[serde(with = "sorted")]
        map: FxHashMap<(String, u32), i64>,
        #[serde(with = "sorted")]
        set: FxHashSet<String>,
        #[serde(with = "sorted_nested")]
        nested: FxHashMap<u32, FxHashMap<String, i64>>,
    }

    /// The same entries, inserted in the order `keys` gives.
    fn holder(keys: impl Iterator<Item = u32>) -> Holder {
        let mut holder = Holder::default();
        for key in keys {
            holder
                .map
                .insert((format!("sku-{key}"), key % 7), i64::from(key));
            holder.set.insert(format!("id-{key}"));
            holder
                .nested
                .entry(key % 5)
                .or_default()
                .insert(format!("day-{key}"), -i64::from(key));
        }
        holder
    }

    #[test]
    fn sorted_maps_encode_alike_whatever_order_they_were_filled_in() {
        let forward = holder(0..500);
        let backward = holder((0..500).rev());
        // A map grown and shrunk back holds the same entries in a larger table.
        let mut churned = holder((0..2_000).rev());
        churned.map.retain(|(_, _), value| *value < 500);
        churned.set.retain(|id| forward.set.contains(id));
        for inner in churned.nested.values_mut() {
            inner.retain(|_, value| *value > -500);
        }
        assert_eq!(forward, backward);
        assert_eq!(forward, churned);
        let bytes = encode(&forward).unwrap();
        assert_eq!(bytes, encode(&backward).unwrap());
        assert_eq!(bytes, encode(&churned).unwrap());
        let decoded: Holder = decode(&bytes).unwrap();
        assert_eq!(decoded, forward);
        assert_eq!(encode(&decoded).unwrap(), bytes);
    }

    #[test]
    fn without_sorting_the_order_of_insertion_shows() {
        // What `sorted` is for: the plain encoding of these maps differs, so the test above
        // could fail.
        #[derive(Serialize)]
        struct Plain<'a> {
            map: &'a FxHashMap<(String, u32), i64>,
        }
        let forward = holder(0..500);
        let churned = {
            let mut churned = holder((0..2_000).rev());
            churned.map.retain(|(_, _), value| *value < 500);
            churned
        };
        assert_eq!(forward.map, churned.map);
        assert_ne!(
            encode(&Plain { map: &forward.map }).unwrap(),
            encode(&Plain { map: &churned.map }).unwrap()
        );
    }

    #[test]
    fn truncated_or_garbage_bytes_are_an_error_not_a_panic() {
        let bytes = encode(&holder(0..50)).unwrap();
        for cut in [0, 1, bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
            let truncated = decode::<Holder>(&bytes[..cut]);
            assert!(
                matches!(truncated, Err(CodecError::Decode(_))),
                "cut at {cut}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(
            decode::<Holder>(&longer),
            Err(CodecError::TrailingBytes { left: 1 })
        ));
        // Deterministic noise, and lengths that promise far more than is there (a map of
        // 2^32 − 1 entries, a string of 2^32 − 1 bytes).
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut noise = Vec::new();
        for _ in 0..4_096 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            noise.push(state.to_le_bytes()[0]);
        }
        let garbage: [&[u8]; 5] = [
            &noise,
            b"not a snapshot",
            &[0xdf, 0xff, 0xff, 0xff, 0xff],
            &[0x81, 0xa3, b'm', b'a', b'p', 0xdb, 0xff, 0xff, 0xff, 0xff],
            &[0xc1],
        ];
        for bytes in garbage {
            assert!(decode::<Holder>(bytes).is_err(), "{bytes:?}");
            assert!(decode::<crate::State>(bytes).is_err(), "{bytes:?}");
        }
        for start in (0..noise.len()).step_by(97) {
            assert!(decode::<Holder>(&noise[start..]).is_err());
        }
    }

    #[test]
    fn a_state_round_trips_with_its_ledgers_byte_for_byte() {
        use crate::documents::testkit::{stock, tenant};
        let mut state = tenant();
        stock(&mut state, "MUG", "FC-EAST", 12, 400);
        stock(&mut state, "LID", "FC-WEST", 30, 150);
        let bytes = encode(&state).unwrap();
        let decoded: crate::State = decode(&bytes).unwrap();
        assert_eq!(decoded, state);
        assert_eq!(
            crate::snapshot::canonical(&decoded),
            crate::snapshot::canonical(&state)
        );
        assert_eq!(encode(&decoded).unwrap(), bytes);
        // The ledgers came back, not only the documents.
        assert!(decoded.stock.iter().count() >= 4);
        assert!(decoded.money.iter().count() >= 2);
        assert_eq!(decoded.adjustments.len(), 2);
    }

    #[test]
    fn joined_parts_split_back_and_damaged_framing_is_an_error() {
        let parts = vec![b"abc".to_vec(), Vec::new(), vec![7; 300]];
        let joined = join(&parts);
        // 8 bytes of count, then 8 of length before each part: 8 + 11 + 8 + 308.
        assert_eq!(joined.len(), 8 + (8 + 3) + 8 + (8 + 300));
        let [a, b, c] = split::<3>(&joined).unwrap();
        assert_eq!((a, b, c), (&b"abc"[..], &[][..], &[7; 300][..]));
        assert!(matches!(split::<2>(&joined), Err(CodecError::Parts(_))));
        for cut in [0, 7, 8, 12, joined.len() - 1] {
            assert!(split::<3>(&joined[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = joined.clone();
        longer.push(1);
        assert!(matches!(
            split::<3>(&longer),
            Err(CodecError::TrailingBytes { left: 1 })
        ));
        // A length that promises more than there is.
        let mut lying = joined;
        lying[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(split::<3>(&lying).is_err());
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Zoned {
        #[serde(with = "time_zone")]
        zone: TimeZone,
        #[serde(with = "time_zone_map")]
        zones: FxHashMap<String, TimeZone>,
    }

    #[test]
    fn time_zones_round_trip_by_name_or_offset() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let east = TimeZone::fixed(Offset::from_seconds(5 * 3600 + 30 * 60).unwrap());
        let west = TimeZone::fixed(Offset::from_seconds(-(3 * 3600 + 1)).unwrap());
        for zone in [berlin.clone(), TimeZone::UTC, east.clone(), west.clone()] {
            let zones: FxHashMap<String, TimeZone> = [
                ("FC-EU".to_string(), berlin.clone()),
                ("FC-IN".to_string(), east.clone()),
                ("FC-X".to_string(), west.clone()),
                ("FC-UTC".to_string(), TimeZone::UTC),
            ]
            .into_iter()
            .collect();
            let original = Zoned { zone, zones };
            let bytes = encode(&original).unwrap();
            let decoded: Zoned = decode(&bytes).unwrap();
            assert_eq!(encode(&decoded).unwrap(), bytes);
            // Zones compare by how they were made (a bundled `UTC` is not `TimeZone::UTC`), so
            // compare what they say: names, and the offset at a few instants.
            for (a, b) in std::iter::once((&original.zone, &decoded.zone)).chain(
                original
                    .zones
                    .iter()
                    .map(|(key, zone)| (zone, &decoded.zones[key])),
            ) {
                assert_eq!(a.iana_name(), b.iana_name());
                for at in ["2025-01-15T12:00:00Z", "2025-07-15T12:00:00Z"] {
                    let at: jiff::Timestamp = at.parse().unwrap();
                    assert_eq!(a.to_offset(at), b.to_offset(at));
                }
            }
        }
        let unknown: Result<Zoned, _> =
            decode(&encode(&serde_json::json!({"zone": "Mars/Olympus", "zones": {}})).unwrap());
        assert!(unknown.is_err());
    }
}
