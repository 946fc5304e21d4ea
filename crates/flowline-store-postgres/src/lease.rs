//! Writer leases in the `writer_leases` table (see [`flowline_store::lease`]).

use crate::connection::Sql as _;
use crate::{PostgresStore, clamp, db_error, stored_u64};
use flowline_core::id::TenantId;
use flowline_store::{LeaseClaim, LeaseState, Leases, StoreError};
use std::time::Duration;

impl Leases for PostgresStore {
    fn lease_holder(&self, tenant: &TenantId) -> Result<Option<(String, String)>, StoreError> {
        self.with(|client| {
            Ok(client
                .query_opt(
                    "SELECT holder, address FROM writer_leases \
                     WHERE tenant = $1 AND expires_at >= clock_timestamp()",
                    &[&tenant.as_str()],
                )
                .map_err(db_error)?
                .map(|row| (row.get(0), row.get(1))))
        })
    }

    fn claim_lease(
        &mut self,
        tenant: &TenantId,
        claim: &LeaseClaim,
    ) -> Result<LeaseState, StoreError> {
        self.writable()?;
        let ttl = clamp(u64::try_from(claim.ttl.as_millis()).unwrap_or(u64::MAX));
        self.with(|client| {
            // One statement: a new lease, a renewal by its holder, or a takeover of an expired
            // one (the token one higher); nothing when another holds it unexpired.
            let taken = client
                .query_opt(
                    "INSERT INTO writer_leases AS l (tenant, holder, address, token, expires_at) \
                     VALUES ($1, $2, $3, 1, clock_timestamp() + $4::bigint * interval '1 millisecond') \
                     ON CONFLICT (tenant) DO UPDATE SET \
                         holder = EXCLUDED.holder, address = EXCLUDED.address, \
                         token = CASE WHEN l.holder = EXCLUDED.holder THEN l.token \
                                      ELSE l.token + 1 END, \
                         expires_at = EXCLUDED.expires_at \
                     WHERE l.holder = EXCLUDED.holder OR l.expires_at < clock_timestamp() \
                     RETURNING token",
                    &[&tenant.as_str(), &claim.holder, &claim.address, &ttl],
                )
                .map_err(db_error)?;
            if let Some(row) = taken {
                return Ok(LeaseState::Held {
                    token: stored_u64(row.get(0), "lease token")?,
                });
            }
            let row = client
                .query_opt(
                    "SELECT holder, address, \
                     greatest(0, (extract(epoch FROM expires_at - clock_timestamp()) * 1000))::bigint \
                     FROM writer_leases WHERE tenant = $1",
                    &[&tenant.as_str()],
                )
                .map_err(db_error)?;
            match row {
                Some(row) => Ok(LeaseState::Elsewhere {
                    holder: row.get(0),
                    address: row.get(1),
                    expires_in: Duration::from_millis(stored_u64(row.get(2), "lease expiry")?),
                }),
                // Released between the two statements: free now.
                None => Err(StoreError::Busy),
            }
        })
    }

    fn release_lease(&mut self, tenant: &TenantId, holder: &str) -> Result<(), StoreError> {
        self.writable()?;
        self.with(|client| {
            client
                // Expired, not deleted: the token stays, so the next holder's is higher still.
                .execute(
                    "UPDATE writer_leases SET expires_at = '-infinity' \
                     WHERE tenant = $1 AND holder = $2",
                    &[&tenant.as_str(), &holder],
                )
                .map_err(db_error)
                .map(|_| ())
        })
    }

    fn fence(&mut self, tenant: &TenantId, token: u64) {
        self.fences.insert(tenant.clone(), token);
    }
}

/// Inside an append: refuses it unless the tenant's lease still has `token`. The lease row is
/// share-locked to the commit, so a takeover waits for this append and its new holder reads the
/// log after it.
pub(crate) fn check_fence(
    transaction: &mut crate::connection::Tx<'_>,
    tenant: &TenantId,
    token: u64,
) -> Result<(), StoreError> {
    let row = transaction
        .query_opt(
            "SELECT token, holder FROM writer_leases WHERE tenant = $1 FOR SHARE",
            &[&tenant.as_str()],
        )
        .map_err(db_error)?;
    let (current, holder) = match row {
        Some(row) => (stored_u64(row.get(0), "lease token")?, row.get(1)),
        None => (0, "nobody".to_string()),
    };
    if current == token {
        Ok(())
    } else {
        Err(StoreError::Fenced {
            tenant: tenant.clone(),
            token,
            holder,
        })
    }
}
