//! Which process writes a tenant, when several share one database: a lease with an expiry and
//! a fencing token ([`Leases`]).
//!
//! A process that wants to write a tenant claims its lease; it holds it until the expiry and
//! renews it by claiming again well before. A process that stops (or is killed, or cut off)
//! stops renewing, and once the lease has expired another may take it, with the token one
//! higher. Every append of a holder carries its token ([`Leases::fence`]); the store refuses
//! one whose token is no longer the lease's ([`crate::StoreError::Fenced`]), so a holder that
//! paused past its expiry cannot write over its successor. (Its append would be refused anyway
//! if the successor had written, by the tenant's sequence; the token refuses it even before.)
//!
//! A single-file or in-memory log has one process writing it: its leases are always held,
//! with token 0, and fence nothing.

use crate::StoreError;
use flowline_core::id::TenantId;
use std::time::Duration;

/// Who claims a tenant's lease, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseClaim {
    /// The claiming process, unique among the processes sharing the log (host, process id and
    /// a random part).
    pub holder: String,
    /// Where the holder serves (`http://10.0.0.5:8080`), for the others to send clients to.
    pub address: String,
    /// How long the lease lasts from this claim.
    pub ttl: Duration,
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseState {
    /// The claimer holds the lease now, with this fencing token.
    Held {
        /// Higher than any earlier holder's.
        token: u64,
    },
    /// Another process holds it.
    Elsewhere {
        /// The holder.
        holder: String,
        /// Where it serves.
        address: String,
        /// How long until its lease expires unless renewed.
        expires_in: Duration,
    },
}

/// Tenants' writer leases.
///
/// The provided methods are a log one process writes: the lease is always held, with token 0,
/// fences nothing, and no other process holds it. A backend several processes share overrides
/// them all.
pub trait Leases {
    /// Takes the tenant's lease for `claim.holder` if it is free, expired or already theirs
    /// (renewing it), or says who holds it.
    fn claim_lease(
        &mut self,
        _tenant: &TenantId,
        _claim: &LeaseClaim,
    ) -> Result<LeaseState, StoreError> {
        Ok(LeaseState::Held { token: 0 })
    }

    /// Gives up the tenant's lease if `holder` holds it, so that another process may take it
    /// at once rather than at its expiry.
    fn release_lease(&mut self, _tenant: &TenantId, _holder: &str) -> Result<(), StoreError> {
        Ok(())
    }

    /// From now on this handle's appends for `tenant` are made under the lease with `token`,
    /// and refused with [`crate::StoreError::Fenced`] once the lease has another token.
    fn fence(&mut self, _tenant: &TenantId, _token: u64) {}

    /// Who holds the tenant's lease now (holder and address), `None` when no process does
    /// (never claimed, released or expired). Read-only handles may ask: a process that only
    /// reads uses it to send commands to the writer.
    fn lease_holder(&self, _tenant: &TenantId) -> Result<Option<(String, String)>, StoreError> {
        Ok(None)
    }
}
