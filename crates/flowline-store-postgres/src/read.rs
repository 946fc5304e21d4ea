//! Reading the log back: [`EventStore`]'s reads and the [`LogIndex`].

use crate::append::last_position;
use crate::connection::Sql as _;
use crate::{PostgresStore, clamp, db_error, stored_u64};
use flowline_core::id::TenantId;
use flowline_core::stream::StreamName;
use flowline_store::{
    AppendOutcome, AppendRequest, BalanceRow, EventStore, IdempotencyLookup, IdempotencyRecord,
    LogIndex, StoreError, StoredEvent, StreamSummary,
};
use jiff::Timestamp;
use postgres::Row;

/// The columns [`decode`] reads, in its order; `e` is `events`, `s` its stream, `t` its tenant.
const EVENT_COLUMNS: &str = "e.position, t.tenant, e.seq, s.name, e.stream_version, \
     e.event_type, e.schema_version, e.business_time, e.recorded_at, e.payload, e.checksum \
     FROM events AS e JOIN streams AS s ON s.id = e.stream_id JOIN tenants AS t ON t.id = e.tenant_id";

/// A row of [`EVENT_COLUMNS`] as an event, its checksum checked.
fn decode(row: &Row) -> Result<StoredEvent, StoreError> {
    let position: i64 = row.get(0);
    let corrupt = |reason: String| StoreError::Corrupt {
        position: u64::try_from(position).unwrap_or(0),
        reason,
    };
    let tenant: String = row.get(1);
    let seq: i64 = row.get(2);
    let stream: String = row.get(3);
    let stream_version: i64 = row.get(4);
    let event_type: String = row.get(5);
    let schema_version: i64 = row.get(6);
    let business_time: i64 = row.get(7);
    let recorded_at: i64 = row.get(8);
    let payload: String = row.get(9);
    let stored_checksum: i32 = row.get(10);
    let schema_version = u32::try_from(schema_version)
        .map_err(|_| corrupt(format!("schema version {schema_version} is out of range")))?;
    let computed = flowline_store::event_checksum(
        &tenant,
        seq,
        &stream,
        stream_version,
        &event_type,
        schema_version,
        business_time,
        &payload,
    );
    if i32::from_le_bytes(computed.to_le_bytes()) != stored_checksum {
        return Err(corrupt(format!(
            "checksum mismatch: stored {stored_checksum:#010x}, computed {computed:#010x}"
        )));
    }
    let time = |micros: i64, what: &str| {
        Timestamp::from_microsecond(micros)
            .map_err(|error| corrupt(format!("{what} {micros}: {error}")))
    };
    Ok(StoredEvent {
        position: stored_u64(position, "position")?,
        tenant: TenantId::parse(&tenant)
            .map_err(|error| corrupt(format!("tenant `{tenant}`: {error}")))?,
        seq: stored_u64(seq, "seq")?,
        stream,
        stream_version: stored_u64(stream_version, "stream version")?,
        event_type,
        schema_version,
        business_time: time(business_time, "business time")?,
        recorded_at: time(recorded_at, "recorded time")?,
        payload,
    })
}

fn decode_all(rows: &[Row]) -> Result<Vec<StoredEvent>, StoreError> {
    rows.iter().map(decode).collect()
}

impl PostgresStore {
    pub(crate) fn head(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        self.with(|client| {
            let row = client
                .query_opt(
                    "SELECT head FROM tenants WHERE tenant = $1",
                    &[&tenant.as_str()],
                )
                .map_err(db_error)?;
            row.map_or(Ok(0), |row| stored_u64(row.get(0), "head"))
        })
    }

    /// The highest position [`EventStore::read_all`] may return now: every event at or below
    /// it is committed or never will be.
    pub fn readable_position(&self) -> Result<u64, StoreError> {
        self.with(|client| {
            let row = client
                .query_one("SELECT readable_position()", &[])
                .map_err(db_error)?;
            stored_u64(row.get(0), "position")
        })
    }

    /// The last position any append has taken, committed or not.
    pub fn last_position(&self) -> Result<u64, StoreError> {
        self.with(last_position)
    }
}

impl EventStore for PostgresStore {
    fn append(&mut self, request: &AppendRequest) -> Result<AppendOutcome, StoreError> {
        self.append_request(request)
    }

    fn read_tenant(
        &self,
        tenant: &TenantId,
        after_seq: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let limit = clamp(limit as u64);
        self.with(|client| {
            let rows = client
                .query(
                    // The tenant's id as a value, so the page is a range of the
                    // (tenant_id, seq) index: joined by name, the planner sorted every event.
                    &format!(
                        "SELECT {EVENT_COLUMNS} \
                         WHERE e.tenant_id = (SELECT id FROM tenants WHERE tenant = $1) \
                         AND e.seq > $2 ORDER BY e.seq LIMIT $3"
                    ),
                    &[&tenant.as_str(), &clamp(after_seq), &limit],
                )
                .map_err(db_error)?;
            decode_all(&rows)
        })
    }

    fn read_all(&self, after_position: u64, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        if self.backend.is_replica() {
            return Err(StoreError::InvalidRequest {
                reason: "every tenant's events in position order are read from the primary: \
                         a replica cannot see which appends are in flight there"
                    .into(),
            });
        }
        // The bound first, in a statement of its own: the read's snapshot must be taken after
        // it, so that everything at or below it that committed is seen.
        let bound = clamp(self.readable_position()?);
        let limit = clamp(limit as u64);
        self.with(|client| {
            let rows = client
                .query(
                    &format!(
                        "SELECT {EVENT_COLUMNS} WHERE e.position > $1 AND e.position <= $2 \
                         ORDER BY e.position LIMIT $3"
                    ),
                    &[&clamp(after_position), &bound, &limit],
                )
                .map_err(db_error)?;
            decode_all(&rows)
        })
    }

    fn read_stream(&self, tenant: &TenantId, stream: &str) -> Result<Vec<StoredEvent>, StoreError> {
        self.read_streams(tenant, &[stream])
    }

    fn read_streams(
        &self,
        tenant: &TenantId,
        streams: &[&str],
    ) -> Result<Vec<StoredEvent>, StoreError> {
        if streams.is_empty() {
            return Ok(Vec::new());
        }
        self.with(|client| {
            // The streams first, by name, then each one's events by its index: driven from
            // the events, the planner would read all of the tenant's to find a few streams.
            let rows = client
                .query(
                    "WITH wanted AS MATERIALIZED ( \
                         SELECT s.id, s.name FROM streams AS s \
                         JOIN tenants AS t ON t.id = s.tenant_id \
                         WHERE t.tenant = $1 AND s.name = ANY($2)) \
                     SELECT e.position, $1::text, e.seq, w.name, e.stream_version, \
                     e.event_type, e.schema_version, e.business_time, e.recorded_at, e.payload, \
                     e.checksum FROM wanted AS w JOIN events AS e ON e.stream_id = w.id \
                     ORDER BY e.stream_id, e.stream_version",
                    &[&tenant.as_str(), &streams],
                )
                .map_err(db_error)?;
            decode_all(&rows)
        })
    }

    fn stream_version(&self, tenant: &TenantId, stream: &str) -> Result<Option<u64>, StoreError> {
        self.with(|client| {
            client
                .query_opt(
                    "SELECT s.version FROM streams AS s JOIN tenants AS t ON t.id = s.tenant_id \
                     WHERE t.tenant = $1 AND s.name = $2",
                    &[&tenant.as_str(), &stream],
                )
                .map_err(db_error)?
                .map(|row| stored_u64(row.get(0), "stream version"))
                .transpose()
        })
    }

    fn tenant_head(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        self.head(tenant)
    }

    fn tenants(&self) -> Result<Vec<TenantId>, StoreError> {
        self.with(|client| {
            client
                .query("SELECT tenant FROM tenants ORDER BY tenant", &[])
                .map_err(db_error)?
                .iter()
                .map(|row| {
                    let name: String = row.get(0);
                    TenantId::parse(&name).map_err(|error| StoreError::Corrupt {
                        position: 0,
                        reason: format!("tenant `{name}`: {error}"),
                    })
                })
                .collect()
        })
    }

    fn idempotency(
        &self,
        tenant: &TenantId,
        key: &str,
        request_hash: &str,
    ) -> Result<IdempotencyLookup, StoreError> {
        self.with(|client| {
            let row = client
                .query_opt(
                    "SELECT i.request_hash, i.response FROM idempotency AS i \
                     JOIN tenants AS t ON t.id = i.tenant_id WHERE t.tenant = $1 AND i.key = $2",
                    &[&tenant.as_str(), &key],
                )
                .map_err(db_error)?;
            let stored: Option<(String, String)> = row.map(|row| (row.get(0), row.get(1)));
            Ok(IdempotencyLookup::of(
                stored
                    .as_ref()
                    .map(|(hash, response)| (hash.as_str(), response.as_str())),
                request_hash,
            ))
        })
    }

    fn balances(&self, tenant: &TenantId) -> Result<Vec<BalanceRow>, StoreError> {
        self.with(|client| {
            Ok(client
                .query(
                    "SELECT b.item, b.location, b.on_hand, b.reserved, b.value_minor \
                     FROM balances AS b JOIN tenants AS t ON t.id = b.tenant_id \
                     WHERE t.tenant = $1 ORDER BY b.item, b.location",
                    &[&tenant.as_str()],
                )
                .map_err(db_error)?
                .iter()
                .map(|row| BalanceRow {
                    item: row.get(0),
                    location: row.get(1),
                    on_hand: row.get(2),
                    reserved: row.get(3),
                    value_minor: row.get(4),
                })
                .collect())
        })
    }

    fn idempotency_records(
        &self,
        tenant: &TenantId,
        after_key: Option<&str>,
        limit: usize,
    ) -> Result<Vec<IdempotencyRecord>, StoreError> {
        let limit = clamp(limit as u64);
        self.with(|client| {
            Ok(client
                .query(
                    "SELECT i.key, i.request_hash, i.response FROM idempotency AS i \
                     JOIN tenants AS t ON t.id = i.tenant_id \
                     WHERE t.tenant = $1 AND ($2::text IS NULL OR i.key > $2) \
                     ORDER BY i.key LIMIT $3",
                    &[&tenant.as_str(), &after_key, &limit],
                )
                .map_err(db_error)?
                .iter()
                .map(|row| IdempotencyRecord {
                    key: row.get(0),
                    request_hash: row.get(1),
                    response: row.get(2),
                })
                .collect())
        })
    }
}

impl LogIndex for PostgresStore {
    fn streams_of_kind(
        &self,
        tenant: &TenantId,
        kind: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let lower = after.map_or_else(|| StreamName::prefix(kind), str::to_string);
        let end = StreamName::end(kind);
        let limit = clamp(limit as u64);
        self.with(|client| {
            Ok(client
                .query(
                    "SELECT s.name FROM streams AS s JOIN tenants AS t ON t.id = s.tenant_id \
                     WHERE t.tenant = $1 AND s.name > $2 AND s.name < $3 \
                     ORDER BY s.name LIMIT $4",
                    &[&tenant.as_str(), &lower, &end, &limit],
                )
                .map_err(db_error)?
                .iter()
                .map(|row| row.get(0))
                .collect())
        })
    }

    fn stream_summaries(
        &self,
        tenant: &TenantId,
        kind: &str,
    ) -> Result<Vec<StreamSummary>, StoreError> {
        let prefix = StreamName::prefix(kind);
        let end = StreamName::end(kind);
        self.with(|client| {
            client
                .query(
                    "SELECT s.name, s.created, s.updated FROM streams AS s \
                     JOIN tenants AS t ON t.id = s.tenant_id \
                     WHERE t.tenant = $1 AND s.name > $2 AND s.name < $3 ORDER BY s.name",
                    &[&tenant.as_str(), &prefix, &end],
                )
                .map_err(db_error)?
                .iter()
                .map(|row| {
                    let name: String = row.get(0);
                    let time = |micros: i64| {
                        Timestamp::from_microsecond(micros).map_err(|error| StoreError::Corrupt {
                            position: 0,
                            reason: format!("stream `{name}`: time {micros}: {error}"),
                        })
                    };
                    Ok(StreamSummary {
                        created: time(row.get(1))?,
                        updated: time(row.get(2))?,
                        id: StreamName::id_in(kind, &name).unwrap_or(&name).to_string(),
                    })
                })
                .collect()
        })
    }

    fn latest_business_time(&self, tenant: &TenantId) -> Result<Option<Timestamp>, StoreError> {
        self.with(|client| {
            let row = client
                .query_opt(
                    "SELECT latest_business_time FROM tenants WHERE tenant = $1",
                    &[&tenant.as_str()],
                )
                .map_err(db_error)?;
            let Some(micros) = row.and_then(|row| row.get::<_, Option<i64>>(0)) else {
                return Ok(None);
            };
            Timestamp::from_microsecond(micros)
                .map(Some)
                .map_err(|error| StoreError::Corrupt {
                    position: 0,
                    reason: format!("tenant `{tenant}`: latest business time {micros}: {error}"),
                })
        })
    }
}
