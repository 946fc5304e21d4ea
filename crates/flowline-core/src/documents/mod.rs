//! Business documents with explicit life cycles. Each module holds one document's commands,
//! events, state, `decide` functions and `apply`.

pub mod purchase_order;
pub mod sales_order;
