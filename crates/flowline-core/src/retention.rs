//! Keeping a writer's memory proportional to open work, not to the length of history.
//!
//! Every document's state is a fold of its own stream: the events that change a sales order are
//! on `sales_order/<id>`, including the units authorised for return (recorded beside the
//! return's own events). So a document whose life cycle has ended can leave memory, and whoever
//! needs it again — a late credit note, a retry naming an old id — reloads it by folding its
//! stream with [`apply_document`], which leaves the ledgers alone (their balances never leave
//! memory).
//!
//! - [`Command::streams`] names the document streams a command reads or creates;
//! - [`related_streams`] names the streams a loaded document needs besides its own (a return
//!   needs its sales order);
//! - [`evict_settled`] removes the documents that no open work needs.

use crate::documents::purchase_order::PurchaseOrderStatus;
use crate::documents::replenishment::ProposalStatus;
use crate::documents::return_auth::Disposition;
use crate::documents::transfer::TransferStatus;
use crate::documents::work_order::WorkOrderStatus;
use crate::error::DocumentKind;
use crate::state::{Command, Event, State, apply_document_only};
use crate::stream::StreamName;
use jiff::Timestamp;
use rustc_hash::FxHashSet;

/// Folds an event into its document, without touching the ledgers. Used to reload a document
/// from its stream.
pub fn apply_document(state: &mut State, event: &Event) {
    apply_document_only(state, event);
}

fn stream(kind: DocumentKind, id: &impl std::fmt::Display) -> String {
    StreamName::new(kind, id).to_string()
}

impl Command {
    /// The document streams this command reads or creates (master data, targets and
    /// initiatives are always in memory and are not listed).
    pub fn streams(&self) -> Vec<String> {
        use DocumentKind as K;
        match self {
            Self::ConfigureTenant(_)
            | Self::DefineItem(_)
            | Self::DefineLocation(_)
            | Self::DefineSupplier(_)
            | Self::DefineCarrier(_)
            | Self::SetReturnPolicy(_)
            | Self::SetInventoryPolicy(_)
            | Self::ClearInventoryPolicy(_) => Vec::new(),
            // Few and small, and read by every scorecard: kept like master data.
            Self::SetTarget(_)
            | Self::RetireTarget(_)
            | Self::CreateInitiative(_)
            | Self::UpdateInitiative(_) => Vec::new(),
            Self::PlaceSalesOrder(c) => vec![stream(K::SalesOrder, &c.order)],
            Self::AllocateSalesOrder(c) => vec![stream(K::SalesOrder, &c.order)],
            Self::DeallocateSalesOrder(c) => vec![stream(K::SalesOrder, &c.order)],
            Self::HoldSalesOrder(c) => vec![stream(K::SalesOrder, &c.order)],
            Self::ReleaseSalesOrder(c) => vec![stream(K::SalesOrder, &c.order)],
            Self::PickSalesOrder(c) => vec![stream(K::SalesOrder, &c.order)],
            Self::PackSalesOrder(c) => vec![stream(K::SalesOrder, &c.order)],
            Self::ShipSalesOrder(c) => vec![stream(K::SalesOrder, &c.order)],
            Self::DeliverShipment(c) => vec![stream(K::SalesOrder, &c.order)],
            Self::RecordCarrierException(c) => vec![stream(K::SalesOrder, &c.order)],
            Self::InvoiceSalesOrder(c) => vec![stream(K::SalesOrder, &c.order)],
            Self::IssueCreditNote(c) => vec![stream(K::SalesOrder, &c.order)],
            Self::ReceivePayment(c) => vec![stream(K::SalesOrder, &c.order)],
            Self::RefundPayment(c) => vec![stream(K::SalesOrder, &c.order)],
            Self::CancelSalesOrder(c) => vec![stream(K::SalesOrder, &c.order)],
            Self::AmendSalesOrder(c) => vec![stream(K::SalesOrder, &c.order)],
            Self::PlacePurchaseOrder(c) => vec![stream(K::PurchaseOrder, &c.purchase_order)],
            Self::ConfirmPurchaseOrder(c) => vec![stream(K::PurchaseOrder, &c.purchase_order)],
            Self::ReceivePurchaseOrder(c) => vec![stream(K::PurchaseOrder, &c.purchase_order)],
            Self::BillPurchaseOrder(c) => vec![stream(K::PurchaseOrder, &c.purchase_order)],
            Self::PayPurchaseOrder(c) => vec![stream(K::PurchaseOrder, &c.purchase_order)],
            Self::CancelPurchaseOrder(c) => vec![stream(K::PurchaseOrder, &c.purchase_order)],
            Self::ClosePurchaseOrder(c) => vec![stream(K::PurchaseOrder, &c.purchase_order)],
            Self::CreateWorkOrder(c) => {
                let mut streams = vec![stream(K::WorkOrder, &c.work_order)];
                if let Some(order) = &c.for_order {
                    streams.push(stream(K::SalesOrder, order));
                }
                streams
            }
            Self::StartWorkOrder(c) => vec![stream(K::WorkOrder, &c.work_order)],
            Self::CompleteWorkOrder(c) => vec![stream(K::WorkOrder, &c.work_order)],
            Self::CancelWorkOrder(c) => vec![stream(K::WorkOrder, &c.work_order)],
            Self::AuthoriseReturn(c) => vec![
                stream(K::Return, &c.return_id),
                stream(K::SalesOrder, &c.order),
            ],
            Self::IssueReturnLabel(c) => vec![stream(K::Return, &c.return_id)],
            Self::ReceiveReturn(c) => vec![stream(K::Return, &c.return_id)],
            Self::InspectReturn(c) => vec![stream(K::Return, &c.return_id)],
            Self::DisposeReturn(c) => {
                let mut streams = vec![stream(K::Return, &c.return_id)];
                for line in &c.lines {
                    if let Disposition::Repair { work_order, .. } = &line.disposition {
                        streams.push(stream(K::WorkOrder, work_order));
                    }
                }
                streams
            }
            Self::RefundReturn(c) => vec![stream(K::Return, &c.return_id)],
            Self::CloseReturn(c) => vec![stream(K::Return, &c.return_id)],
            Self::CreateTransfer(c) => vec![stream(K::Transfer, &c.transfer)],
            Self::ShipTransfer(c) => vec![stream(K::Transfer, &c.transfer)],
            Self::ReceiveTransfer(c) => vec![stream(K::Transfer, &c.transfer)],
            Self::CloseTransfer(c) => vec![stream(K::Transfer, &c.transfer)],
            Self::CancelTransfer(c) => vec![stream(K::Transfer, &c.transfer)],
            Self::RecordCount(c) => vec![stream(K::Count, &c.count)],
            Self::AdjustStock(c) => vec![stream(K::Adjustment, &c.adjustment)],
            Self::PostCost(c) => vec![stream(K::Cost, &c.cost)],
            Self::AcquireFixedAsset(c) => vec![stream(K::FixedAsset, &c.asset)],
            Self::DepreciateFixedAsset(c) => vec![stream(K::FixedAsset, &c.asset)],
            Self::DisposeFixedAsset(c) => vec![stream(K::FixedAsset, &c.asset)],
            Self::ProposeReplenishment(c) => vec![stream(K::Proposal, &c.proposal)],
            // The document an approval creates is a purchase order or a transfer, depending on
            // the proposal: both are named, so whichever already exists is found.
            Self::ApproveProposal(c) => {
                let created = crate::documents::replenishment::created_document_id(c);
                vec![
                    stream(K::Proposal, &c.proposal),
                    stream(K::PurchaseOrder, &created),
                    stream(K::Transfer, &created),
                ]
            }
            Self::RejectProposal(c) => vec![stream(K::Proposal, &c.proposal)],
            Self::PublishForecast(c) => vec![stream(K::Forecast, &c.forecast)],
            Self::PlanPromotion(c) => vec![stream(K::Promotion, &c.promotion)],
            Self::CancelPromotion(c) => vec![stream(K::Promotion, &c.promotion)],
        }
    }
}

/// Whether `map` holds the record of `id`. Ids were validated when the stream was named; an
/// unparseable one is simply not held.
fn has<K: std::str::FromStr + std::hash::Hash + Eq, V>(
    map: &rustc_hash::FxHashMap<K, V>,
    id: &str,
) -> bool {
    id.parse::<K>().is_ok_and(|key| map.contains_key(&key))
}

/// [`has`] for the records kept as a set of ids.
fn in_set<K: std::str::FromStr + std::hash::Hash + Eq>(set: &FxHashSet<K>, id: &str) -> bool {
    id.parse::<K>().is_ok_and(|key| set.contains(&key))
}

/// Whether the record a stream is the history of exists in `state`: master data, the
/// settings, targets and initiatives by their maps, documents as [`holds_stream`] finds them
/// (a document that left memory is brought back before a command about it is decided). Read
/// before a command's events are applied, it tells a definition that creates from one that
/// replaces.
pub fn has_record(state: &State, name: &str) -> bool {
    use DocumentKind as K;
    let Some(stream) = StreamName::parse(name) else {
        return holds_stream(state, name);
    };
    let id = stream.id();
    match stream.kind() {
        K::Tenant => state.settings.is_some(),
        K::Item => has(&state.items, id),
        K::Location => has(&state.locations, id),
        K::Supplier => has(&state.suppliers, id),
        K::Carrier => has(&state.carriers, id),
        K::ReturnPolicy => has(&state.return_policies, id),
        K::Target => has(&state.targets, id),
        K::Initiative => has(&state.initiatives, id),
        _ => holds_stream(state, name),
    }
}

/// Whether the document of a stream is in memory. Streams of master data, targets and
/// initiatives always are.
pub fn holds_stream(state: &State, name: &str) -> bool {
    use DocumentKind as K;
    let Some(stream) = StreamName::parse(name) else {
        // Not `kind/id` at all: nothing holds it. A kind this build does not know has no
        // document to load, so it counts as held, as every record never evicted does.
        return name.contains('/');
    };
    let id = stream.id();
    match stream.kind() {
        K::SalesOrder => has(&state.sales_orders, id),
        K::PurchaseOrder => has(&state.purchase_orders, id),
        K::WorkOrder => has(&state.work_orders, id),
        K::Return => has(&state.returns, id),
        K::Transfer => has(&state.transfers, id),
        K::Count => in_set(&state.counts, id),
        K::Adjustment => in_set(&state.adjustments, id),
        K::Cost => has(&state.costs, id),
        K::FixedAsset => has(&state.fixed_assets, id),
        K::Proposal => has(&state.proposals, id),
        K::Forecast => in_set(&state.forecasts, id),
        K::Promotion => has(&state.promotions, id),
        // Never evicted, so held whether or not the id names one yet: a command that names a
        // missing one is refused by `decide`, not sent to the log to look for it. Master data
        // and settings are never evicted either.
        _ => true,
    }
}

/// Streams a document in memory needs besides its own: a return needs its sales order.
pub fn related_streams(state: &State, name: &str) -> Vec<String> {
    let Some(returned) =
        StreamName::parse(name).filter(|parsed| parsed.kind() == DocumentKind::Return)
    else {
        return Vec::new();
    };
    returned
        .id()
        .parse()
        .ok()
        .and_then(|id| state.returns.get(&id))
        .map(|found| vec![stream(DocumentKind::SalesOrder, &found.order)])
        .unwrap_or_default()
}

/// Removes from memory every document whose life cycle has ended and that no open work needs:
/// closed or cancelled sales orders whose last delivery is before `return_horizon` (so no return
/// can still be authorised) and that no open return refers to; settled purchase orders; finished
/// work orders, returns and transfers; disposed fixed assets; decided proposals; posted costs, counts and
/// adjustments; published forecasts. Targets and initiatives stay, even retired or closed, like master data.
/// Returns how many documents left memory.
pub fn evict_settled(state: &mut State, return_horizon: Timestamp) -> usize {
    let before = document_count(state);
    let open_returns: FxHashSet<_> = state
        .returns
        .values()
        .filter(|r| !return_settled(r))
        .map(|r| r.order.clone())
        .collect();
    state.returns.retain(|_, r| !return_settled(r));
    state.sales_orders.retain(|id, order| {
        let last_delivery = order.shipments.iter().filter_map(|s| s.delivered_at).max();
        let past_returns = last_delivery.is_none_or(|at| at < return_horizon);
        !(order.is_terminal() && past_returns && !open_returns.contains(id))
    });
    state.purchase_orders.retain(|_, po| {
        let settled = match po.status {
            PurchaseOrderStatus::Cancelled => true,
            PurchaseOrderStatus::Closed
            | PurchaseOrderStatus::Placed
            | PurchaseOrderStatus::Confirmed => {
                let done_receiving =
                    po.status == PurchaseOrderStatus::Closed || po.fully_received();
                done_receiving
                    && po.lines.iter().all(|l| l.billed == l.accepted)
                    && po.paid_minor == po.billed_minor
            }
        };
        !settled
    });
    state.work_orders.retain(|_, wo| {
        !matches!(
            wo.status,
            WorkOrderStatus::Completed | WorkOrderStatus::Cancelled
        )
    });
    state.transfers.retain(|_, t| {
        let finished = matches!(t.status, TransferStatus::Closed | TransferStatus::Cancelled)
            || t.state_name() == "received";
        !finished
    });
    state
        .fixed_assets
        .retain(|_, asset| asset.disposed_at.is_none());
    state
        .proposals
        .retain(|_, proposal| proposal.status == ProposalStatus::Proposed);
    state.costs.clear();
    state.counts.clear();
    state.adjustments.clear();
    state.forecasts.clear();
    before - document_count(state)
}

fn return_settled(found: &crate::documents::return_auth::Return) -> bool {
    found.closed || found.state_name() == "refunded"
}

/// Documents held in memory.
pub fn document_count(state: &State) -> usize {
    state.sales_orders.len()
        + state.purchase_orders.len()
        + state.work_orders.len()
        + state.returns.len()
        + state.transfers.len()
        + state.fixed_assets.len()
        + state.proposals.len()
        + state.forecasts.len()
        + state.costs.len()
        + state.counts.len()
        + state.adjustments.len()
}
