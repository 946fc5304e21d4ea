//! The ledger invariants. Checked after every event by the property tests and over a whole log
//! by `flowline check`.
