//! The database the browser tests run on.

use flowline_engine::year::{self, YearOptions};
use std::path::Path;

/// The tenant of the database.
pub const TENANT: &str = "demo";

/// Makes the test database at `path`: the one place to change when the simulator lands.
///
/// Until `flowline demo --db FILE` exists this is the engine's deterministic year of a small
/// brand (`flowline_engine::year`, 4 orders a day through 2025). When the simulator lands,
/// replace the body with a run of `flowline demo --db <path>` (and `TENANT` with its tenant);
/// nothing else in these tests depends on how the database was made.
pub fn demo_database(path: &Path) {
    let summary = year::write(path, &YearOptions::small()).unwrap();
    assert!(summary.orders > 1000, "{summary:?}");
}
