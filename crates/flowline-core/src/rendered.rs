//! Documents as the API shows them: the document's recorded state with `object` (its kind) and
//! `state` (its life-cycle state) added. The same rendering serves a read of the document and the
//! outcome of the command that changed it (the engine renders it when a submission asks,
//! [`changed_document`]), so a client sees one shape.

use crate::error::DocumentKind;
use crate::retention;
use crate::stream::StreamName;
use crate::{Command, Event, State};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// Adds `object` (and `state`, for documents with a life cycle) to a serialized record.
fn shaped(record: &impl Serialize, object: &str, state: Option<&str>) -> Option<Value> {
    let mut fields = match serde_json::to_value(record).ok()? {
        Value::Object(fields) => fields,
        _ => return None,
    };
    let mut shaped = Map::new();
    shaped.insert("object".into(), Value::String(object.into()));
    if let Some(state) = state {
        shaped.insert("state".into(), Value::String(state.into()));
    }
    shaped.append(&mut fields);
    Some(Value::Object(shaped))
}

/// The document `kind/id` as it stands in `state`, with its `object` and `id`: every
/// document names itself `id`, whatever its record calls the field (an item's `sku`, an
/// adjustment's `adjustment`, which stay beside it).
pub fn document(state: &State, kind: DocumentKind, id: &str, events: &[Event]) -> Option<Value> {
    let mut document = fields(state, kind, id, events)?;
    if let Value::Object(fields) = &mut document
        && kind != DocumentKind::Tenant
        && !fields.contains_key("id")
    {
        fields.insert("id".into(), Value::String(id.to_string()));
    }
    Some(document)
}

/// [`document`]'s fields as its record has them. Counts and adjustments keep no state beyond
/// their one event, so they are rendered from it (found among `events`).
fn fields(state: &State, kind: DocumentKind, id: &str, events: &[Event]) -> Option<Value> {
    let object = kind.as_str();
    match kind {
        DocumentKind::Tenant => shaped(state.settings.as_ref()?, "settings", None),
        DocumentKind::Item => {
            let sku = id.parse().ok()?;
            let mut item = shaped(state.items.get(&sku)?, object, None)?;
            // The policies set for it by hand ride with the item they are set on.
            if let (Value::Object(fields), Some(policies)) =
                (&mut item, state.inventory_policies.get(&sku))
            {
                fields.insert(
                    "inventory_policies".into(),
                    serde_json::to_value(policies).ok()?,
                );
            }
            Some(item)
        }
        DocumentKind::Location => shaped(state.locations.get(&id.parse().ok()?)?, object, None),
        DocumentKind::Supplier => shaped(state.suppliers.get(&id.parse().ok()?)?, object, None),
        DocumentKind::Carrier => shaped(state.carriers.get(&id.parse().ok()?)?, object, None),
        DocumentKind::ReturnPolicy => {
            shaped(state.return_policies.get(&id.parse().ok()?)?, object, None)
        }
        DocumentKind::SalesOrder => {
            let found = state.sales_orders.get(&id.parse().ok()?)?;
            shaped(found, object, Some(found.state_name()))
        }
        DocumentKind::PurchaseOrder => {
            let found = state.purchase_orders.get(&id.parse().ok()?)?;
            shaped(found, object, Some(found.state_name()))
        }
        DocumentKind::WorkOrder => {
            let found = state.work_orders.get(&id.parse().ok()?)?;
            shaped(found, object, Some(found.state_name()))
        }
        DocumentKind::Return => {
            let found = state.returns.get(&id.parse().ok()?)?;
            shaped(found, object, Some(found.state_name()))
        }
        DocumentKind::Transfer => {
            let found = state.transfers.get(&id.parse().ok()?)?;
            shaped(found, object, Some(found.state_name()))
        }
        DocumentKind::Cost => shaped(state.costs.get(&id.parse().ok()?)?, object, None),
        DocumentKind::FixedAsset => {
            let found = state.fixed_assets.get(&id.parse().ok()?)?;
            shaped(found, object, Some(found.state_name()))
        }
        DocumentKind::Target => {
            let found = state.targets.get(&id.parse().ok()?)?;
            shaped(found, object, Some(found.state_name()))
        }
        DocumentKind::Initiative => {
            let found = state.initiatives.get(&id.parse().ok()?)?;
            shaped(found, object, Some(found.state_name()))
        }
        DocumentKind::Proposal => {
            let found = state.proposals.get(&id.parse().ok()?)?;
            shaped(found, object, Some(found.state_name()))
        }
        DocumentKind::Count | DocumentKind::Adjustment | DocumentKind::Forecast => {
            let stream = format!("{object}/{id}");
            let event = events.iter().find(|event| event.stream() == stream)?;
            let mut rendered = shaped(event, object, Some("recorded"))?;
            if let Value::Object(fields) = &mut rendered {
                fields.remove("type");
                fields.insert("id".into(), Value::String(id.into()));
            }
            Some(rendered)
        }
        DocumentKind::Promotion => {
            let found = state.promotions.get(&id.parse().ok()?)?;
            shaped(found, object, Some(found.status.as_str()))
        }
        _ => None,
    }
}

/// The document a command created or changed: its first stream, or the master record, target
/// or initiative it defines (those are always in memory, so their commands name no stream).
pub fn target(command: &Command) -> Option<(DocumentKind, String)> {
    let master = match command {
        Command::ConfigureTenant(_) => Some((DocumentKind::Tenant, "settings".to_string())),
        Command::DefineItem(c) => Some((DocumentKind::Item, c.sku.to_string())),
        Command::DefineLocation(c) => Some((DocumentKind::Location, c.location.to_string())),
        Command::DefineSupplier(c) => Some((DocumentKind::Supplier, c.supplier.to_string())),
        Command::DefineCarrier(c) => Some((DocumentKind::Carrier, c.carrier.to_string())),
        Command::SetReturnPolicy(c) => Some((DocumentKind::ReturnPolicy, c.policy.to_string())),
        Command::SetInventoryPolicy(c) => Some((DocumentKind::Item, c.sku.to_string())),
        Command::ClearInventoryPolicy(c) => Some((DocumentKind::Item, c.sku.to_string())),
        Command::SetTarget(c) => Some((DocumentKind::Target, c.target.to_string())),
        Command::RetireTarget(c) => Some((DocumentKind::Target, c.target.to_string())),
        Command::CreateInitiative(c) => Some((DocumentKind::Initiative, c.initiative.to_string())),
        Command::UpdateInitiative(c) => Some((DocumentKind::Initiative, c.initiative.to_string())),
        _ => None,
    };
    if master.is_some() {
        return master;
    }
    let stream = command.streams().into_iter().next()?;
    let stream = StreamName::parse(&stream)?;
    // A command's own stream names a document, never the tenant's settings.
    (stream.kind() != DocumentKind::Tenant).then(|| (stream.kind(), stream.id().to_string()))
}

/// The document `command` created or changed, as it stands in `state` right after the command's
/// `events` were applied.
pub fn changed_document(state: &State, command: &Command, events: &[Event]) -> Option<Value> {
    let (kind, id) = target(command)?;
    document(state, kind, &id, events)
}

/// [`changed_document`] as JSON text, written straight from the typed record where it names
/// itself `id` (the documents with a life cycle, which most commands change) instead of building
/// a [`Value`] first: the engine's writer renders every order it places, so this is on its one
/// thread's path. Its fields are those of [`changed_document`]; `object` and `state` come first
/// and the record's fields follow in their declared order.
pub fn changed_document_json(
    state: &State,
    command: &Command,
    events: &[Event],
) -> Option<Box<RawValue>> {
    let (kind, id) = target(command)?;
    fn raw<R: Serialize>(record: &R, object: &str, state: &str) -> Option<Box<RawValue>> {
        serde_json::value::to_raw_value(&Shaped {
            object,
            state,
            record,
        })
        .ok()
    }
    let object = kind.as_str();
    match kind {
        DocumentKind::SalesOrder => {
            let found = state.sales_orders.get(&id.parse().ok()?)?;
            raw(found, object, found.state_name())
        }
        DocumentKind::PurchaseOrder => {
            let found = state.purchase_orders.get(&id.parse().ok()?)?;
            raw(found, object, found.state_name())
        }
        DocumentKind::WorkOrder => {
            let found = state.work_orders.get(&id.parse().ok()?)?;
            raw(found, object, found.state_name())
        }
        DocumentKind::Return => {
            let found = state.returns.get(&id.parse().ok()?)?;
            raw(found, object, found.state_name())
        }
        DocumentKind::Transfer => {
            let found = state.transfers.get(&id.parse().ok()?)?;
            raw(found, object, found.state_name())
        }
        _ => serde_json::value::to_raw_value(&document(state, kind, &id, events)?).ok(),
    }
}

/// A record with its `object` and `state` ahead of its own fields.
#[derive(Serialize)]
struct Shaped<'a, R> {
    object: &'a str,
    state: &'a str,
    #[serde(flatten)]
    record: &'a R,
}

/// Folds a stream's events into a fresh state and renders its document: how a document is read
/// back from the log, whether or not its writer still holds it in memory.
pub fn from_stream(kind: DocumentKind, id: &str, events: &[Event]) -> Option<Value> {
    with_state(kind, id, events).map(|(document, _)| document)
}

/// [`from_stream`], with the state the document was rendered from (for tests on the typed
/// document, such as a sales order's attention).
pub fn with_state(kind: DocumentKind, id: &str, events: &[Event]) -> Option<(Value, State)> {
    let mut state = State::default();
    for event in events {
        retention::apply_document(&mut state, event);
    }
    let document = document(&state, kind, id, events)?;
    Some((document, state))
}
