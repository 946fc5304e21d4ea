//! [`EventStore::append`](flowline_store::EventStore::append) on PostgreSQL: one transaction
//! that locks the tenant's row, checks everything, then writes with a statement per table.

use crate::connection::Sql as _;
use crate::{PostgresStore, db_error, stored_u64, to_i64};
use flowline_store::{AppendOutcome, AppendRequest, IdempotencyLookup, StoreError};
use std::collections::HashMap;

/// A stream's state as the append goes: its id if stored, its version, the business times of
/// its first and latest events.
struct Stream {
    id: Option<i64>,
    version: Option<u64>,
    created: Option<i64>,
    updated: Option<i64>,
    /// Whether this append adds to it.
    touched: bool,
}

impl PostgresStore {
    /// The body of [`flowline_store::EventStore::append`].
    pub(crate) fn append_request(
        &self,
        request: &AppendRequest,
    ) -> Result<AppendOutcome, StoreError> {
        self.writable()?;
        if request.commands.is_empty() && request.balances.is_empty() {
            let head = self.head(&request.tenant)?;
            let last = self.with(last_position)?;
            return Ok(AppendOutcome::empty(head, last));
        }
        let fence = self.fences.get(&request.tenant).copied();
        self.with(|client| {
            let mut transaction = client.transaction().map_err(db_error)?;
            let outcome = append(&mut transaction, request, fence)?;
            transaction.commit().map_err(db_error)?;
            if outcome.last_seq >= outcome.first_seq {
                // The append is durable whatever becomes of its notice: a notice is only a
                // wake-up (see `notify.rs`), so its failure is not the append's.
                let _ = crate::notify::send(client, &request.tenant, outcome.last_seq);
            }
            Ok(outcome)
        })
    }
}

/// The sequence's last position taken, 0 before any.
pub(crate) fn last_position(client: &mut impl crate::connection::Sql) -> Result<u64, StoreError> {
    let row = client
        .query_one(
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM positions",
            &[],
        )
        .map_err(db_error)?;
    stored_u64(row.get(0), "position")
}

fn append(
    transaction: &mut crate::connection::Tx<'_>,
    request: &AppendRequest,
    fence: Option<u64>,
) -> Result<AppendOutcome, StoreError> {
    let tenant = &request.tenant;
    if let Some(token) = fence {
        crate::lease::check_fence(transaction, tenant, token)?;
    }
    let (tenant_id, head) = lock_tenant(transaction, tenant.as_str())?;
    if head != request.expected_seq {
        return Err(StoreError::SeqConflict {
            tenant: tenant.clone(),
            expected: request.expected_seq,
            actual: head,
        });
    }

    // Every key the request carries, as stored: (request hash, response).
    let keys: Vec<&str> = request
        .commands
        .iter()
        .filter_map(|command| command.idempotency.as_ref())
        .map(|record| record.key.as_str())
        .collect();
    let mut known_keys: HashMap<String, (String, String)> = HashMap::new();
    if !keys.is_empty() {
        for row in transaction
            .query(
                "SELECT key, request_hash, response FROM idempotency \
                 WHERE tenant_id = $1 AND key = ANY($2)",
                &[&tenant_id, &keys],
            )
            .map_err(db_error)?
        {
            known_keys.insert(row.get(0), (row.get(1), row.get(2)));
        }
    }

    // Every stream the request names, as stored.
    let mut names: Vec<&str> = request
        .commands
        .iter()
        .flat_map(|command| {
            command
                .expected
                .iter()
                .map(|(stream, _)| stream.as_str())
                .chain(command.events.iter().map(|event| event.stream.as_str()))
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut streams: HashMap<String, Stream> = HashMap::new();
    if !names.is_empty() {
        for row in transaction
            .query(
                "SELECT name, id, version, created, updated FROM streams \
                 WHERE tenant_id = $1 AND name = ANY($2)",
                &[&tenant_id, &names],
            )
            .map_err(db_error)?
        {
            streams.insert(
                row.get(0),
                Stream {
                    id: Some(row.get(1)),
                    version: Some(stored_u64(row.get(2), "stream version")?),
                    created: Some(row.get(3)),
                    updated: Some(row.get(4)),
                    touched: false,
                },
            );
        }
    }

    // Check every command in order, as of the commands before it, and number its events.
    let mut new_keys: Vec<(&str, &str, &str)> = Vec::new();
    // (stream, version, index into the request's events) per event.
    let mut numbered: Vec<(&str, u64)> = Vec::new();
    let mut new_streams: Vec<&str> = Vec::new();
    for command in &request.commands {
        if let Some(record) = &command.idempotency {
            let earlier = new_keys
                .iter()
                .find(|(key, _, _)| *key == record.key)
                .map(|(_, hash, response)| (*hash, *response))
                .or_else(|| {
                    known_keys
                        .get(&record.key)
                        .map(|(hash, response)| (hash.as_str(), response.as_str()))
                });
            IdempotencyLookup::of(earlier, &record.request_hash).refuse(tenant, &record.key)?;
        }
        for (name, expected) in &command.expected {
            let actual = streams.get(name.as_str()).and_then(|stream| stream.version);
            if !expected.is_met_by(actual) {
                return Err(StoreError::StreamVersionConflict {
                    tenant: tenant.clone(),
                    stream: name.clone(),
                    expected: expected.to_string(),
                    actual,
                });
            }
        }
        for event in &command.events {
            let business_time = event.business_time.as_microsecond();
            let stream = streams.entry(event.stream.clone()).or_insert_with(|| {
                new_streams.push(&event.stream);
                Stream {
                    id: None,
                    version: None,
                    created: None,
                    updated: None,
                    touched: false,
                }
            });
            let version = next(stream.version.unwrap_or(0), "stream version")?;
            stream.version = Some(version);
            stream.created.get_or_insert(business_time);
            stream.updated = Some(business_time);
            stream.touched = true;
            numbered.push((&event.stream, version));
        }
        if let Some(record) = &command.idempotency {
            new_keys.push((&record.key, &record.request_hash, &record.response));
        }
    }

    // Everything holds: write.
    if !new_streams.is_empty() {
        let mut versions = Vec::with_capacity(new_streams.len());
        let mut created = Vec::with_capacity(new_streams.len());
        let mut updated = Vec::with_capacity(new_streams.len());
        for name in &new_streams {
            let stream = &streams[*name];
            versions.push(to_i64(stream.version.unwrap_or(0), "stream version")?);
            created.push(stream.created.unwrap_or(0));
            updated.push(stream.updated.unwrap_or(0));
        }
        for row in transaction
            .query(
                "INSERT INTO streams (tenant_id, name, version, created, updated) \
                 SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[]) \
                 RETURNING name, id",
                &[&tenant_id, &new_streams, &versions, &created, &updated],
            )
            .map_err(db_error)?
        {
            let name: String = row.get(0);
            if let Some(stream) = streams.get_mut(&name) {
                stream.id = Some(row.get(1));
            }
        }
    }
    let mut changed_ids = Vec::new();
    let mut changed_versions = Vec::new();
    let mut changed_updated = Vec::new();
    for (name, stream) in &streams {
        if stream.touched && !new_streams.contains(&name.as_str()) {
            changed_ids.push(stream.id.unwrap_or(0));
            changed_versions.push(to_i64(stream.version.unwrap_or(0), "stream version")?);
            changed_updated.push(stream.updated.unwrap_or(0));
        }
    }
    if !changed_ids.is_empty() {
        transaction
            .execute(
                "UPDATE streams AS s SET version = u.version, updated = u.updated \
                 FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u (id, version, updated) \
                 WHERE s.id = u.id",
                &[&changed_ids, &changed_versions, &changed_updated],
            )
            .map_err(db_error)?;
    }

    let count = numbered.len();
    let mut positions: Vec<i64> = Vec::new();
    let recorded_at = request.recorded_at.as_microsecond();
    let mut seq = head;
    let mut latest_business_time = None;
    if count > 0 {
        let count_i32 = i32::try_from(count).map_err(|_| StoreError::InvalidRequest {
            reason: format!("{count} events in one request"),
        })?;
        positions = transaction
            .query("SELECT * FROM take_positions($1)", &[&count_i32])
            .map_err(db_error)?
            .iter()
            .map(|row| row.get(0))
            .collect();
        positions.sort_unstable();
        let mut seqs = Vec::with_capacity(count);
        let mut stream_ids = Vec::with_capacity(count);
        let mut versions = Vec::with_capacity(count);
        let mut types = Vec::with_capacity(count);
        let mut schema_versions = Vec::with_capacity(count);
        let mut business_times = Vec::with_capacity(count);
        let mut payloads = Vec::with_capacity(count);
        let mut checksums = Vec::with_capacity(count);
        let events = request.commands.iter().flat_map(|command| &command.events);
        for (event, (stream, version)) in events.zip(&numbered) {
            seq = next(seq, "seq")?;
            let seq_i64 = to_i64(seq, "seq")?;
            let version_i64 = to_i64(*version, "stream version")?;
            let business_time = event.business_time.as_microsecond();
            let checksum = flowline_store::event_checksum(
                tenant.as_str(),
                seq_i64,
                stream,
                version_i64,
                &event.event_type,
                event.schema_version,
                business_time,
                &event.payload,
            );
            seqs.push(seq_i64);
            stream_ids.push(streams[*stream].id.unwrap_or(0));
            versions.push(version_i64);
            types.push(event.event_type.as_str());
            schema_versions.push(i64::from(event.schema_version));
            business_times.push(business_time);
            payloads.push(event.payload.as_str());
            checksums.push(i32::from_le_bytes(checksum.to_le_bytes()));
            latest_business_time = Some(business_time);
        }
        transaction
            .execute(
                "INSERT INTO events (position, tenant_id, seq, stream_id, stream_version, \
                 event_type, schema_version, business_time, recorded_at, payload, checksum) \
                 SELECT u.position, $1, u.seq, u.stream_id, u.stream_version, u.event_type, \
                 u.schema_version, u.business_time, $2, u.payload, u.checksum \
                 FROM unnest($3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], \
                 $7::text[], $8::bigint[], $9::bigint[], $10::text[], $11::integer[]) \
                 AS u (position, seq, stream_id, stream_version, event_type, schema_version, \
                 business_time, payload, checksum)",
                &[
                    &tenant_id,
                    &recorded_at,
                    &positions,
                    &seqs,
                    &stream_ids,
                    &versions,
                    &types,
                    &schema_versions,
                    &business_times,
                    &payloads,
                    &checksums,
                ],
            )
            .map_err(db_error)?;
    }

    if !new_keys.is_empty() {
        let keys: Vec<&str> = new_keys.iter().map(|(key, _, _)| *key).collect();
        let hashes: Vec<&str> = new_keys.iter().map(|(_, hash, _)| *hash).collect();
        let responses: Vec<&str> = new_keys.iter().map(|(_, _, response)| *response).collect();
        transaction
            .execute(
                "INSERT INTO idempotency (tenant_id, key, request_hash, response, recorded_at) \
                 SELECT $1, u.key, u.hash, u.response, $2 \
                 FROM unnest($3::text[], $4::text[], $5::text[]) AS u (key, hash, response)",
                &[&tenant_id, &recorded_at, &keys, &hashes, &responses],
            )
            .map_err(db_error)?;
    }

    if !request.balances.is_empty() {
        // The last row for an (item, location) wins, as if each were upserted in turn.
        let mut last: HashMap<(&str, &str), usize> = HashMap::new();
        for (index, row) in request.balances.iter().enumerate() {
            last.insert((row.item.as_str(), row.location.as_str()), index);
        }
        let mut indexes: Vec<usize> = last.into_values().collect();
        indexes.sort_unstable();
        let rows: Vec<_> = indexes
            .iter()
            .map(|&index| &request.balances[index])
            .collect();
        let items: Vec<&str> = rows.iter().map(|row| row.item.as_str()).collect();
        let locations: Vec<&str> = rows.iter().map(|row| row.location.as_str()).collect();
        let on_hand: Vec<i64> = rows.iter().map(|row| row.on_hand).collect();
        let reserved: Vec<i64> = rows.iter().map(|row| row.reserved).collect();
        let values: Vec<i64> = rows.iter().map(|row| row.value_minor).collect();
        transaction
            .execute(
                "INSERT INTO balances (tenant_id, item, location, on_hand, reserved, value_minor) \
                 SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], \
                 $6::bigint[]) \
                 ON CONFLICT (tenant_id, item, location) DO UPDATE SET \
                 on_hand = EXCLUDED.on_hand, reserved = EXCLUDED.reserved, \
                 value_minor = EXCLUDED.value_minor",
                &[&tenant_id, &items, &locations, &on_hand, &reserved, &values],
            )
            .map_err(db_error)?;
    }

    if count == 0 {
        let last = last_position(transaction)?;
        return Ok(AppendOutcome::empty(head, last));
    }
    transaction
        .execute(
            "UPDATE tenants SET head = $2, latest_business_time = $3 WHERE id = $1",
            &[&tenant_id, &to_i64(seq, "seq")?, &latest_business_time],
        )
        .map_err(db_error)?;
    let first = positions.first().copied().unwrap_or(0);
    let last = positions.last().copied().unwrap_or(0);
    Ok(AppendOutcome {
        first_seq: head + 1,
        last_seq: seq,
        first_position: stored_u64(first, "position")?,
        last_position: stored_u64(last, "position")?,
    })
}

/// Locks the tenant's row for the rest of the transaction, adding it if the tenant has none;
/// returns its id and head.
fn lock_tenant(
    transaction: &mut crate::connection::Tx<'_>,
    tenant: &str,
) -> Result<(i32, u64), StoreError> {
    const LOCK: &str = "SELECT id, head FROM tenants WHERE tenant = $1 FOR UPDATE";
    if let Some(row) = transaction.query_opt(LOCK, &[&tenant]).map_err(db_error)? {
        return Ok((row.get(0), stored_u64(row.get(1), "head")?));
    }
    let inserted = transaction
        .query_opt(
            "INSERT INTO tenants (tenant) VALUES ($1) ON CONFLICT (tenant) DO NOTHING \
             RETURNING id",
            &[&tenant],
        )
        .map_err(db_error)?;
    if let Some(row) = inserted {
        return Ok((row.get(0), 0));
    }
    // Another transaction added it first; it has committed, so its row can be locked.
    let row = transaction.query_one(LOCK, &[&tenant]).map_err(db_error)?;
    Ok((row.get(0), stored_u64(row.get(1), "head")?))
}

fn next(value: u64, what: &str) -> Result<u64, StoreError> {
    value
        .checked_add(1)
        .filter(|next| i64::try_from(*next).is_ok())
        .ok_or_else(|| StoreError::InvalidRequest {
            reason: format!("{what} space exhausted"),
        })
}
