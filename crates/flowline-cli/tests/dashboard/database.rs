//! The database the browser tests run on.

use flowline_core::id::TenantId;
use flowline_sim::Options;
use flowline_sim::scenario::Scenario;
use flowline_store::{Directory, TenantRecord};
use flowline_store_sqlite::{OpenOptions, SqliteBackend, SqliteStore};
use std::path::Path;

/// The tenant of the database, as `flowline demo` names it.
pub const TENANT: &str = "demo";

/// Orders a day at the start of the simulated year: the built-in brand scaled down so a debug
/// build simulates the year in well under a minute.
const ORDERS_PER_DAY: f64 = 20.0;

/// Makes the test database at `path`: a year of the built-in brand through the simulator, the
/// same run as `flowline demo --days 365 --seed 1` at a smaller scale, with the tenant
/// registered as `flowline demo` registers it.
pub fn demo_database(path: &Path) {
    let scenario = Scenario::default_brand().scaled(ORDERS_PER_DAY);
    let options = Options {
        seed: 1,
        days: 365,
        tenant: TenantId::parse(TENANT).unwrap(),
    };
    let started = std::time::Instant::now();
    let log = SqliteBackend::shared(path, OpenOptions::relaxed()).unwrap();
    let summary = flowline_sim::run(&scenario, &log, &options, &mut |_| {}).unwrap();
    assert!(summary.refused.is_empty(), "{:?}", summary.refusal_samples);
    let orders = summary.counts.get("orders_placed").copied().unwrap_or(0);
    eprintln!(
        "simulated {} days, {orders} orders, in {:.1} s",
        summary.days,
        started.elapsed().as_secs_f64()
    );
    assert!(orders > 5_000, "{:?}", summary.counts);
    let mut store = SqliteStore::open(path, &OpenOptions::durable()).unwrap();
    store
        .register_tenant(&TenantRecord {
            tenant: options.tenant,
            name: scenario.brand.name,
            created_at: jiff::Timestamp::now(),
        })
        .unwrap();
}
