//! Projections: what is folded from a tenant's events in log order and kept in memory to answer
//! questions: the writer's state, the scorecard, and whatever comes next (demand history,
//! webhook cursors, exports).
//!
//! A projection applies each event once, in sequence order, and can be encoded with the
//! position it reflects, so start-up restores it from a snapshot and folds only the tail of the
//! log instead of the whole of it. The engine's runner does the reading, the restoring and the
//! saving; a projection only says how to apply an event and how to encode itself.

use crate::Event;
use jiff::Timestamp;

/// Where an event sits in its tenant's log and when it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The tenant sequence number: 1, 2, 3, … without gaps.
    pub seq: u64,
    /// When it happened in the business's world.
    pub business_time: Timestamp,
    /// When it was recorded.
    pub recorded_at: Timestamp,
}

/// State folded from a tenant's events, in order.
///
/// Two promises make snapshots safe. Applying events `1..=n` to a new projection gives the same
/// state as restoring an encoding taken after `p` and applying `p+1..=n`, for every `p`. And
/// [`Projection::VERSION`] changes whenever the encoding or the meaning of the state does, so a
/// snapshot from another version is rebuilt from the log rather than misread.
pub trait Projection: Sized {
    /// The name its snapshots are kept under: lowercase letters, digits and `_`.
    const NAME: &'static str;
    /// The version of its encoding and meaning.
    const VERSION: u32;

    /// Applies the event at `position`.
    fn apply(&mut self, position: Position, event: &Event);

    /// The state's encoding, for a snapshot.
    fn encode(&self) -> Result<Vec<u8>, String>;

    /// A state from its [`Projection::encode`]d form.
    fn decode(bytes: &[u8]) -> Result<Self, String>;
}
