//! The fold as a projection of the log, so the engine's runner restores it from a snapshot and
//! folds only the tail.

use super::{EventTime, Fold};
use flowline_core::Event;
use flowline_core::projection::{Position, Projection};

impl Projection for Fold {
    const NAME: &'static str = "scorecard";
    /// Bump whenever the fold's fields or what they mean change.
    const VERSION: u32 = 6;

    fn apply(&mut self, position: Position, event: &Event) {
        Fold::apply(
            self,
            event,
            EventTime {
                at: position.business_time,
            },
        );
    }

    fn encode(&self) -> Result<Vec<u8>, String> {
        Fold::encode(self).map_err(|error| error.to_string())
    }

    fn decode(bytes: &[u8]) -> Result<Self, String> {
        Fold::decode(bytes).map_err(|error| error.to_string())
    }
}
