//! `flowline check`: recompute everything from the log and compare.
//!
//! For every tenant, the events are read in order and decoded (checksums are verified by the
//! store on read); every event's own invariants are checked (balanced entry, sane moves); the
//! balances are folded from the moves alone, without the documents, and compared with the
//! balance projection stored beside the log; and the final state is checked for conservation,
//! non-negative stock, reservations and the inventory-account reconciliation. The writer's
//! latest snapshot is compared with the state folded from nothing to the same event. Nothing is
//! repaired: differences are reported with tenant, item, location, expected and actual.

use crate::WriterState;
use crate::projections::{self, Verdict};
use flowline_core::id::TenantId;
use flowline_core::invariants::{self, Violation};
use flowline_core::ledger::Balance;
use flowline_core::{Event, State, apply};
use flowline_store::{Store, StoreError};
use std::collections::BTreeMap;
use std::fmt;

/// One difference found by the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// An event could not be read or decoded.
    Unreadable {
        /// Tenant.
        tenant: String,
        /// Where.
        position: String,
        /// Why.
        reason: String,
    },
    /// A stored balance differs from the one recomputed from the log.
    BalanceMismatch {
        /// Tenant.
        tenant: String,
        /// Item.
        item: String,
        /// Location.
        location: String,
        /// Recomputed from the log.
        expected: Balance,
        /// Stored.
        actual: Balance,
    },
    /// A projection's snapshot differs from the projection folded from nothing to its event.
    SnapshotDiffers {
        /// Tenant.
        tenant: String,
        /// The projection.
        projection: String,
        /// The event it was taken after.
        head: u64,
    },
    /// An invariant does not hold.
    Invariant {
        /// Tenant.
        tenant: String,
        /// Event sequence number, or the end of the log.
        at_seq: Option<u64>,
        /// The violation.
        violation: Violation,
    },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable {
                tenant,
                position,
                reason,
            } => write!(f, "tenant {tenant}, {position}: unreadable: {reason}"),
            Self::BalanceMismatch {
                tenant,
                item,
                location,
                expected,
                actual,
            } => write!(
                f,
                "tenant {tenant}, item {item}, location {location}: expected on hand {} reserved {} value {}, actual on hand {} reserved {} value {}",
                expected.on_hand,
                expected.reserved,
                expected.value_minor,
                actual.on_hand,
                actual.reserved,
                actual.value_minor
            ),
            Self::SnapshotDiffers {
                tenant,
                projection,
                head,
            } => write!(
                f,
                "tenant {tenant}: the {projection} snapshot taken after event {head} differs from a replay of the log to that event"
            ),
            Self::Invariant {
                tenant,
                at_seq: Some(seq),
                violation,
            } => write!(f, "tenant {tenant}, event {seq}: {violation}"),
            Self::Invariant {
                tenant,
                at_seq: None,
                violation,
            } => write!(f, "tenant {tenant}, end of log: {violation}"),
        }
    }
}

/// The result of a check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Tenants checked.
    pub tenants: usize,
    /// Events read.
    pub events: u64,
    /// Balances compared.
    pub balances: usize,
    /// Each snapshot looked at: tenant, projection and what was found.
    pub snapshots: Vec<(String, String, Verdict)>,
    /// Everything that differed.
    pub findings: Vec<Finding>,
}

impl CheckReport {
    /// Adds another report's counts and findings to this one's.
    fn absorb(&mut self, other: Self) {
        self.tenants += other.tenants;
        self.events += other.events;
        self.balances += other.balances;
        self.snapshots.extend(other.snapshots);
        self.findings.extend(other.findings);
    }

    /// Whether the log passed.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// Records what was found of a tenant's snapshot of `projection`; a snapshot that differs
    /// from the replay is also a finding.
    pub fn record_snapshot(&mut self, tenant: &TenantId, projection: &str, verdict: Verdict) {
        if let Verdict::Differs { head } = verdict {
            self.findings.push(Finding::SnapshotDiffers {
                tenant: tenant.to_string(),
                projection: projection.to_owned(),
                head,
            });
        }
        self.snapshots
            .push((tenant.to_string(), projection.to_owned(), verdict));
    }

    /// Whether every event of the tenant could be read and decoded: only then can its
    /// snapshots be compared with a replay.
    pub fn is_readable(&self, tenant: &TenantId) -> bool {
        !self.findings.iter().any(|finding| {
            matches!(finding, Finding::Unreadable { tenant: name, .. } if name == tenant.as_str())
        })
    }
}

/// Checks every tenant in the store.
pub fn check(store: &dyn Store) -> Result<CheckReport, StoreError> {
    let mut report = CheckReport::default();
    for tenant in store.tenants()? {
        let one = check_one(store, &tenant)?;
        report.absorb(one);
    }
    Ok(report)
}

/// [`check`] of one tenant's log only: what a copy of that tenant (`flowline tenant move`)
/// must pass.
pub fn check_one(store: &dyn Store, tenant: &TenantId) -> Result<CheckReport, StoreError> {
    let mut report = CheckReport {
        tenants: 1,
        ..CheckReport::default()
    };
    check_tenant(store, tenant, &mut report)?;
    if report.is_readable(tenant) {
        check_writer_snapshot(store, tenant, &mut report)?;
    }
    Ok(report)
}

/// Compares the writer's snapshot with a replay to its event. Both leave every settled
/// document out first: the writer lets them go at moments of its own choosing, and they come
/// back from the log when named, so only open work and the ledgers must be equal.
fn check_writer_snapshot(
    store: &dyn Store,
    tenant: &TenantId,
    report: &mut CheckReport,
) -> Result<(), StoreError> {
    let verdict = match projections::verify(store, tenant, WriterState::default, &|writer| {
        flowline_core::retention::evict_settled(&mut writer.state, jiff::Timestamp::MAX);
    }) {
        Ok(verdict) => verdict,
        Err(projections::ProjectionError::Store(error)) => return Err(error),
        // An undecodable event is reported by the log check itself.
        Err(error) => Verdict::Unusable(flowline_store::SnapshotError::Payload(error.to_string())),
    };
    report.record_snapshot(tenant, "writer", verdict);
    Ok(())
}

fn check_tenant(
    store: &dyn Store,
    tenant: &TenantId,
    report: &mut CheckReport,
) -> Result<(), StoreError> {
    let name = tenant.to_string();
    let mut state = State::default();
    // Balances folded from the moves alone, independently of `State`.
    let mut folded: BTreeMap<(String, String), Balance> = BTreeMap::new();
    let mut after = 0;
    loop {
        let page = match store.read_tenant(tenant, after, 10_000) {
            Ok(page) => page,
            Err(StoreError::Corrupt { position, reason }) => {
                report.findings.push(Finding::Unreadable {
                    tenant: name.clone(),
                    position: format!("position {position}"),
                    reason,
                });
                return Ok(());
            }
            Err(other) => return Err(other),
        };
        if page.is_empty() {
            break;
        }
        for stored in &page {
            after = stored.seq;
            report.events += 1;
            let event = match Event::from_json(
                &stored.event_type,
                stored.schema_version,
                &stored.payload,
            ) {
                Ok(event) => event,
                Err(reason) => {
                    report.findings.push(Finding::Unreadable {
                        tenant: name.clone(),
                        position: format!("event {}", stored.seq),
                        reason,
                    });
                    return Ok(());
                }
            };
            for violation in invariants::check_event(&event) {
                report.findings.push(Finding::Invariant {
                    tenant: name.clone(),
                    at_seq: Some(stored.seq),
                    violation,
                });
            }
            if let Some(effects) = event.effects() {
                for movement in &effects.moves {
                    let from = folded
                        .entry((movement.sku.to_string(), movement.from.to_string()))
                        .or_default();
                    from.on_hand -= movement.quantity;
                    from.value_minor -= movement.value_minor;
                    let to = folded
                        .entry((movement.sku.to_string(), movement.to.to_string()))
                        .or_default();
                    to.on_hand += movement.quantity;
                    to.value_minor += movement.value_minor;
                }
                for change in &effects.reservations {
                    folded
                        .entry((change.sku.to_string(), change.location.to_string()))
                        .or_default()
                        .reserved += change.quantity;
                }
            }
            apply(&mut state, &event);
        }
        // The checks need the ledgers and master data, not finished documents: let every
        // settled one go, so checking a long log needs memory for open work only.
        flowline_core::retention::evict_settled(&mut state, jiff::Timestamp::MAX);
    }
    for violation in invariants::check_state(&state) {
        report.findings.push(Finding::Invariant {
            tenant: name.clone(),
            at_seq: None,
            violation,
        });
    }
    let stored: BTreeMap<(String, String), Balance> = store
        .balances(tenant)?
        .into_iter()
        .map(|row| {
            (
                (row.item, row.location),
                Balance {
                    on_hand: row.on_hand,
                    reserved: row.reserved,
                    value_minor: row.value_minor,
                },
            )
        })
        .collect();
    let keys: std::collections::BTreeSet<&(String, String)> =
        folded.keys().chain(stored.keys()).collect();
    for key in keys {
        report.balances += 1;
        let expected = folded.get(key).copied().unwrap_or_default();
        let actual = stored.get(key).copied().unwrap_or_default();
        if expected != actual {
            report.findings.push(Finding::BalanceMismatch {
                tenant: name.clone(),
                item: key.0.clone(),
                location: key.1.clone(),
                expected,
                actual,
            });
        }
    }
    Ok(())
}
