//! Snapshots of projections: a projection's state with the log position it reflects, sealed in a
//! versioned, checksummed envelope, and the [`Snapshots`] interface that keeps them.
//!
//! A snapshot is a cache, never the truth: whoever restores one checks the envelope
//! ([`Snapshot::open`]), that it belongs to the projection and version asking for it, that the
//! log reaches its position, and that the event at that position is the one it was taken after
//! ([`anchor`]). Any doubt and the projection is rebuilt from the log.
//!
//! The envelope, all integers little-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `FLSNAP01` (the last two bytes are the envelope's own format) |
//! | 2 + n | the software that wrote it (length, UTF-8): `flowline 0.1.0` |
//! | 2 + n | projection name (length, UTF-8) |
//! | 4 | projection version |
//! | 2 + n | tenant id (length, UTF-8) |
//! | 8 | head: the tenant sequence number of the last event the state reflects |
//! | 4 | anchor of that event ([`anchor`]; 0 when head is 0) |
//! | 8 + n | payload (length, bytes): the projection's own encoding |
//! | 4 | CRC-32 of everything before it |

use crate::{StoreError, StoredEvent};
use flowline_core::id::TenantId;

/// The first eight bytes of every snapshot.
pub const MAGIC: &[u8; 8] = b"FLSNAP01";

/// Keeps the latest snapshot of each projection of each tenant.
///
/// Saving replaces the previous snapshot of the same projection atomically: a reader finds the
/// old one or the new one, never a mixture, and a crash while saving leaves the old one.
pub trait Snapshots {
    /// Saves `bytes` (a sealed [`Snapshot`]) as the latest snapshot of `projection`.
    fn save_snapshot(
        &self,
        tenant: &TenantId,
        projection: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError>;

    /// The latest snapshot of `projection` saved for the tenant, if any, as saved.
    fn load_snapshot(
        &self,
        tenant: &TenantId,
        projection: &str,
    ) -> Result<Option<Vec<u8>>, StoreError>;
}

/// A projection's state at a point of a tenant's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The software that took it, with its version (`flowline 0.1.0`): a snapshot taken by
    /// another release is rebuilt, since its projections may fold differently.
    pub build: String,
    /// The projection's name (`writer`, `scorecard`).
    pub projection: String,
    /// The version of the projection's encoding.
    pub version: u32,
    /// The tenant's id.
    pub tenant: String,
    /// The sequence number of the last event the state reflects (0: none).
    pub head: u64,
    /// The [`anchor`] of the event at `head`.
    pub anchor: u32,
    /// The projection's own encoding of its state.
    pub payload: Vec<u8>,
}

/// Why bytes are not a usable snapshot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// The bytes do not start with the magic.
    #[error("not a snapshot (no FLSNAP header)")]
    NotASnapshot,
    /// A snapshot in an envelope format this build does not read.
    #[error("snapshot envelope format {found:?}, this build reads {MAGIC:?}")]
    Format {
        /// The magic found.
        found: String,
    },
    /// The bytes end before the envelope does.
    #[error("truncated: {found} bytes where the snapshot needs at least {needed}")]
    Truncated {
        /// Bytes present.
        found: usize,
        /// Bytes needed.
        needed: usize,
    },
    /// The checksum does not match: some byte changed.
    #[error("checksum mismatch: stored {stored:08x}, computed {computed:08x}")]
    Checksum {
        /// The CRC-32 stored at the end.
        stored: u32,
        /// The CRC-32 of the bytes before it.
        computed: u32,
    },
    /// Bytes after the checksum.
    #[error("{0} unexpected bytes after the checksum")]
    Trailing(usize),
    /// A name that is not UTF-8.
    #[error("the {0} is not UTF-8")]
    Text(&'static str),
    /// Another projection's snapshot, or another version of this one's.
    #[error(
        "a snapshot of {found} version {found_version}, not of {wanted} version {wanted_version}"
    )]
    Foreign {
        /// The projection found.
        found: String,
        /// Its version.
        found_version: u32,
        /// The projection wanted.
        wanted: String,
        /// Its version.
        wanted_version: u32,
    },
    /// A snapshot another release took.
    #[error("taken by {found}, this is {wanted}")]
    OtherBuild {
        /// The build found.
        found: String,
        /// This build.
        wanted: String,
    },
    /// Another tenant's snapshot.
    #[error("a snapshot of tenant {found}, not of {wanted}")]
    OtherTenant {
        /// The tenant found.
        found: String,
        /// The tenant wanted.
        wanted: String,
    },
    /// The snapshot reflects events the log does not have.
    #[error("taken at event {head}, but the log ends at {log_head}")]
    AheadOfLog {
        /// The snapshot's head.
        head: u64,
        /// The log's.
        log_head: u64,
    },
    /// The event at the snapshot's head is not the one it was taken after: another log.
    #[error("the event at {head} is not the one the snapshot was taken after (another log?)")]
    OtherLog {
        /// The snapshot's head.
        head: u64,
    },
    /// The snapshot could not be read at all (its file or row): the log is read instead.
    #[error("the snapshot cannot be read: {0}")]
    Unreadable(String),
    /// The payload could not be decoded by the projection.
    #[error("the payload cannot be decoded: {0}")]
    Payload(String),
}

impl Snapshot {
    /// The envelope's bytes.
    pub fn seal(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.payload.len() + 64);
        out.extend_from_slice(MAGIC);
        put_text(&mut out, &self.build);
        put_text(&mut out, &self.projection);
        out.extend_from_slice(&self.version.to_le_bytes());
        put_text(&mut out, &self.tenant);
        out.extend_from_slice(&self.head.to_le_bytes());
        out.extend_from_slice(&self.anchor.to_le_bytes());
        out.extend_from_slice(&(self.payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&self.payload);
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Reads an envelope, checking its magic, its length and its checksum.
    pub fn open(bytes: &[u8]) -> Result<Self, SnapshotError> {
        Self::open_owned(bytes.to_vec())
    }

    /// [`Snapshot::open`] on bytes it may keep: the payload stays in the buffer that was read
    /// (a scorecard's is tens of megabytes), rather than being copied out of it.
    pub fn open_owned(mut bytes: Vec<u8>) -> Result<Self, SnapshotError> {
        if bytes.len() < MAGIC.len() || !bytes.starts_with(&MAGIC[..6]) {
            return Err(if MAGIC.starts_with(&bytes) {
                SnapshotError::Truncated {
                    found: bytes.len(),
                    needed: MAGIC.len(),
                }
            } else {
                SnapshotError::NotASnapshot
            });
        }
        if &bytes[..MAGIC.len()] != MAGIC {
            return Err(SnapshotError::Format {
                found: String::from_utf8_lossy(&bytes[..MAGIC.len()]).into_owned(),
            });
        }
        let mut reader = Reader {
            bytes: &bytes,
            at: MAGIC.len(),
        };
        let build = reader.text("build")?;
        let projection = reader.text("projection name")?;
        let version = u32::from_le_bytes(reader.array()?);
        let tenant = reader.text("tenant id")?;
        let head = u64::from_le_bytes(reader.array()?);
        let anchor = u32::from_le_bytes(reader.array()?);
        let length = u64::from_le_bytes(reader.array()?);
        let length = usize::try_from(length).unwrap_or(usize::MAX);
        let payload_start = reader.at;
        reader.take(length)?;
        let checked = reader.at;
        let stored = u32::from_le_bytes(reader.array()?);
        let computed = crc32fast::hash(&bytes[..checked]);
        if stored != computed {
            return Err(SnapshotError::Checksum { stored, computed });
        }
        let end = reader.at;
        if end != bytes.len() {
            return Err(SnapshotError::Trailing(bytes.len() - end));
        }
        bytes.truncate(checked);
        bytes.drain(..payload_start);
        Ok(Self {
            build,
            projection,
            version,
            tenant,
            head,
            anchor,
            payload: bytes,
        })
    }

    /// Checks that the snapshot was taken by `build`, of `projection` at `version`, for
    /// `tenant`.
    pub fn check_identity(
        &self,
        build: &str,
        projection: &str,
        version: u32,
        tenant: &TenantId,
    ) -> Result<(), SnapshotError> {
        if self.build != build {
            return Err(SnapshotError::OtherBuild {
                found: self.build.clone(),
                wanted: build.to_owned(),
            });
        }
        if self.projection != projection || self.version != version {
            return Err(SnapshotError::Foreign {
                found: self.projection.clone(),
                found_version: self.version,
                wanted: projection.to_owned(),
                wanted_version: version,
            });
        }
        if self.tenant != tenant.as_str() {
            return Err(SnapshotError::OtherTenant {
                found: self.tenant.clone(),
                wanted: tenant.to_string(),
            });
        }
        Ok(())
    }
}

/// A fingerprint of a stored event: a snapshot records the one of the last event it reflects,
/// so a snapshot left beside a different log (a restored backup, a recreated file) whose
/// numbering happens to reach as far is told apart from a snapshot of this log.
pub fn anchor(event: &StoredEvent) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&event.seq.to_le_bytes());
    hasher.update(event.stream.as_bytes());
    hasher.update(&[0]);
    hasher.update(&event.stream_version.to_le_bytes());
    hasher.update(event.event_type.as_bytes());
    hasher.update(&[0]);
    hasher.update(&event.recorded_at.as_microsecond().to_le_bytes());
    hasher.update(event.payload.as_bytes());
    hasher.finalize()
}

fn put_text(out: &mut Vec<u8>, text: &str) {
    // Names and tenant ids are short; a longer one is cut at a character boundary rather than
    // making sealing fail (it then fails `check_identity`, which rebuilds from the log).
    let mut end = text.len().min(usize::from(u16::MAX));
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let length = u16::try_from(end).unwrap_or(u16::MAX);
    out.extend_from_slice(&length.to_le_bytes());
    out.extend_from_slice(&text.as_bytes()[..end]);
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len());
        let Some(end) = end else {
            return Err(SnapshotError::Truncated {
                found: self.bytes.len(),
                needed: self.at.saturating_add(n),
            });
        };
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn text(&mut self, what: &'static str) -> Result<String, SnapshotError> {
        let length = u16::from_le_bytes(self.array()?);
        let bytes = self.take(usize::from(length))?;
        String::from_utf8(bytes.to_vec()).map_err(|_| SnapshotError::Text(what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(id: &str) -> TenantId {
        TenantId::parse(id).expect("a valid tenant id")
    }

    fn sample() -> Snapshot {
        Snapshot {
            build: "flowline 0.1.0".into(),
            projection: "scorecard".into(),
            version: 3,
            tenant: "acme".into(),
            head: 4_000_000,
            anchor: 0xDEAD_BEEF,
            payload: b"state bytes".to_vec(),
        }
    }

    #[test]
    fn a_sealed_snapshot_opens_to_itself() {
        let snapshot = sample();
        let sealed = snapshot.seal();
        // 8 magic + (2+14) build + (2+9) name + 4 version + (2+4) tenant + 8 head + 4 anchor
        // + (8+11) payload + 4 checksum = 80 bytes.
        assert_eq!(sealed.len(), 80);
        assert_eq!(Snapshot::open(&sealed), Ok(snapshot));
    }

    #[test]
    fn every_single_flipped_byte_is_refused() {
        let sealed = sample().seal();
        for at in 0..sealed.len() {
            let mut damaged = sealed.clone();
            damaged[at] ^= 0x20;
            assert!(
                Snapshot::open(&damaged).is_err(),
                "a flip at byte {at} went unnoticed"
            );
        }
    }

    #[test]
    fn every_truncation_is_refused_as_truncated_or_not_a_snapshot() {
        let sealed = sample().seal();
        for length in 0..sealed.len() {
            let error = Snapshot::open(&sealed[..length]).expect_err("a truncation opened");
            assert!(
                matches!(
                    error,
                    SnapshotError::Truncated { .. } | SnapshotError::NotASnapshot
                ),
                "cut at {length}: {error}"
            );
        }
    }

    #[test]
    fn a_future_envelope_and_a_foreign_projection_are_told_apart() {
        let mut future = sample().seal();
        future[7] = b'2';
        assert!(matches!(
            Snapshot::open(&future),
            Err(SnapshotError::Format { .. })
        ));
        let snapshot = sample();
        let acme = tenant("acme");
        let build = "flowline 0.1.0";
        assert!(
            snapshot
                .check_identity(build, "scorecard", 3, &acme)
                .is_ok()
        );
        assert!(matches!(
            snapshot.check_identity("flowline 0.2.0", "scorecard", 3, &acme),
            Err(SnapshotError::OtherBuild { .. })
        ));
        assert!(matches!(
            snapshot.check_identity(build, "scorecard", 4, &acme),
            Err(SnapshotError::Foreign { .. })
        ));
        assert!(matches!(
            snapshot.check_identity(build, "writer", 3, &acme),
            Err(SnapshotError::Foreign { .. })
        ));
        assert!(matches!(
            snapshot.check_identity(build, "scorecard", 3, &tenant("other")),
            Err(SnapshotError::OtherTenant { .. })
        ));
    }

    #[test]
    fn a_huge_declared_payload_length_is_a_truncation_not_an_allocation() {
        let mut sealed = sample().seal();
        // The payload length sits after magic, name, version, tenant, head and anchor.
        let at = 8 + 2 + 14 + 2 + 9 + 4 + 2 + 4 + 8 + 4;
        sealed[at..at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            Snapshot::open(&sealed),
            Err(SnapshotError::Truncated { .. })
        ));
    }
}
