//! Running a scenario: the model set up, driven hour by hour to the last simulated day, the
//! engine closed, and the [`Summary`] of what happened, with the hash of the log written.

use super::{Model, Options, Progress, Summary, at_local, local};
use crate::dice::Dice;
use crate::driver::{Driver, SimError};
use crate::faults::Faults;
use crate::scenario::Scenario;
use crate::world::World;
use flowline_core::id::TenantId;
use flowline_store::{EventStore, SharedBackend};
use jiff::civil::Date;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs `scenario` into `log`, calling `progress` after each simulated day.
pub fn run(
    scenario: &Scenario,
    log: &SharedBackend,
    options: &Options,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Summary, SimError> {
    run_with(scenario, log, options, None, progress)
}

/// Runs `scenario` like [`run`] with `faults` injected into the engine's appends: every
/// command carries an idempotency key and is retried with it until answered, and the engine is
/// opened again after each crash. The model's draws do not depend on the faults, so the log is
/// the one [`run`] writes for the same seed; `faults` ends up holding what the client saw.
pub fn run_with_faults(
    scenario: &Scenario,
    log: &SharedBackend,
    options: &Options,
    faults: Arc<Faults>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Summary, SimError> {
    run_with(scenario, log, options, Some(faults), progress)
}

fn run_with(
    scenario: &Scenario,
    log: &SharedBackend,
    options: &Options,
    faults: Option<Arc<Faults>>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Summary, SimError> {
    let started = Instant::now();
    let mut dice = Dice::new(options.seed);
    let world = World::build(scenario, &mut dice)?;
    let start_date = scenario.brand.start;
    let first_hour = at_local(start_date, 0, 0, &world.zone);
    let tenant = options.tenant.clone();
    let driver = match faults {
        None => Driver::open(log.clone(), tenant, first_hour)?,
        Some(faults) => Driver::open_with_faults(log.clone(), tenant, first_hour, faults)?,
    };
    let mut model = Model::new(scenario, world, dice, driver)?;
    model.setup(first_hour - 3600)?;
    model.announce_peaks(first_hour - 3600, options.days)?;
    let end = at_local(
        start_date
            .checked_add(jiff::Span::new().days(i64::from(options.days)))
            .map_err(|e| SimError::Scenario(format!("too many days: {e}")))?,
        0,
        0,
        &model.w.zone,
    );
    let mut hour = first_hour;
    let mut done = 0;
    while hour < end {
        model.run_hour(hour)?;
        hour += 3600;
        let (date, local_hour) = local(hour, &model.w.zone);
        if local_hour == 0 || hour >= end {
            done += 1;
            let yesterday = date.yesterday().unwrap_or(date);
            progress(&Progress {
                day: yesterday,
                done,
                days: options.days,
                orders: u64::from(model.next_order),
                commands: model.d.commands,
            });
        }
    }
    for (then, applied) in model.d.set_clock(end)? {
        model.answer(then, applied);
    }
    model.now = end;
    model.sync()?;
    let mut summary = model.summarise(options, start_date);
    if let Some(watch) = model.capacity.take() {
        summary.capacity_warnings = watch.finish(&model.d)?;
    }
    let tenant = options.tenant.clone();
    model.d.finish()?;
    summary.wall = started.elapsed();
    let hashing = Instant::now();
    let (hash, events) = log_hash(log.open_reader()?.as_ref(), &tenant)?;
    summary.log_hash = hash;
    summary.events = events;
    summary.hash_wall = hashing.elapsed();
    Ok(summary)
}

/// SHA-256 over every event of `tenant` in log order — sequence, stream, stream version, type,
/// schema version, business and recorded times and payload — and the number of events.
pub fn log_hash(store: &dyn EventStore, tenant: &TenantId) -> Result<(String, u64), SimError> {
    let mut hasher = Sha256::new();
    let mut after = 0;
    let mut count = 0u64;
    loop {
        let page = store.read_tenant(tenant, after, 10_000)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for event in &page {
            count += 1;
            hasher.update(event.seq.to_le_bytes());
            hasher.update(event.stream.as_bytes());
            hasher.update([0]);
            hasher.update(event.stream_version.to_le_bytes());
            hasher.update(event.event_type.as_bytes());
            hasher.update([0]);
            hasher.update(event.schema_version.to_le_bytes());
            hasher.update(event.business_time.as_nanosecond().to_le_bytes());
            hasher.update(event.recorded_at.as_nanosecond().to_le_bytes());
            hasher.update(event.payload.as_bytes());
            hasher.update([0]);
        }
    }
    let digest = hasher.finalize();
    Ok((digest.iter().map(|b| format!("{b:02x}")).collect(), count))
}

impl Model<'_> {
    fn summarise(&self, options: &Options, start: Date) -> Summary {
        let mut open = BTreeMap::new();
        for order in self.orders.values() {
            let why = if order.lost {
                "a shipment was lost in transit (carrier exception recorded)"
            } else if order.in_transit > 0 {
                "in transit at the end of the run"
            } else if order.lines.iter().any(|l| !l.packed.is_empty()) {
                "packed, waiting for the carrier at the end of the run"
            } else if order.lines.iter().any(|l| !l.allocated.is_empty()) {
                "allocated, waiting for a pick wave at the end of the run"
            } else if order.lines.iter().any(|l| l.backordered > 0) {
                "backordered at the end of the run"
            } else {
                "other"
            };
            *open.entry(why).or_default() += 1;
        }
        let mut counts = self.counters.clone();
        for (key, value) in &self.supply.counters {
            *counts.entry(key).or_default() += value;
        }
        Summary {
            seed: options.seed,
            days: options.days,
            from: Some(start),
            to: start
                .checked_add(jiff::Span::new().days(i64::from(options.days) - 1))
                .ok(),
            commands: self.d.commands,
            events: 0,
            counts,
            orders_by_day: self.orders_by_day.iter().map(|(d, n)| (*d, *n)).collect(),
            open_orders: open,
            refused: self.d.refused.clone(),
            refusal_samples: self.d.refusal_samples.clone(),
            log_hash: String::new(),
            wall: Duration::ZERO,
            hash_wall: Duration::ZERO,
            cycle_service: self.supply.cycles.service,
            average_inventory_value: self.supply.average_inventory_value()
                / 10f64.powi(self.w.currency.exponent() as i32),
            capacity_warnings: Vec::new(),
        }
    }
}
