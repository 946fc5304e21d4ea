//! Deliver: the sales order, from placement to payment.
//!
//! Life cycle: placed → (held ⇄ released) → allocated per fulfillment center (partially, with
//! backorders) → picked → packed → shipped (several shipments, several centers) → delivered →
//! invoiced → paid, which closes the order. Customers and sellers may cancel what has not
//! shipped, with a reason; customers may amend lines, address and promise. Quantities are kept
//! per line and per fulfillment center, so every step checks exactly what is outstanding.
//!
//! The module is split by seam: `command` holds what may be asked, `event` what is recorded,
//! `state` what the events leave, `decide` and `allocate` turn a command into events, and
//! `apply` folds an event into the order. Everything public is re-exported here, so callers
//! name `sales_order::X` whatever file `X` lives in.

pub(crate) mod allocate;
mod apply;
mod command;
mod decide;
mod event;
mod state;

pub use command::*;
pub use event::*;
pub use state::*;

#[cfg(test)]
pub(crate) use allocate::explode;
pub(crate) use allocate::{allocate, components, deallocate};
pub(crate) use apply::apply;
pub(crate) use decide::{
    amend, cancel, carrier_exception, credit_note, deliver, hold, invoice, pack, pick, place,
    receive_payment, refund_payment, release, ship,
};

use crate::error::DocumentKind;

const KIND: DocumentKind = DocumentKind::SalesOrder;
