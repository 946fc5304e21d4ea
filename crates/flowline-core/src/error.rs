//! Domain errors: every rejected command says what was wrong and where, and appends nothing.

use crate::id::{LocationId, Sku};
use crate::money::Currency;
use std::fmt;

/// The kinds of record a command can refer to, for error messages and stream names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// Tenant settings.
    Tenant,
    /// An item (SKU).
    Item,
    /// A location.
    Location,
    /// A supplier.
    Supplier,
    /// A carrier.
    Carrier,
    /// A return policy.
    ReturnPolicy,
    /// A sales order.
    SalesOrder,
    /// A purchase order.
    PurchaseOrder,
    /// A work order.
    WorkOrder,
    /// A return authorisation.
    Return,
    /// A transfer between fulfillment centers.
    Transfer,
    /// A stock count.
    Count,
    /// A stock adjustment.
    Adjustment,
    /// A supply chain cost posting.
    Cost,
    /// A fixed asset.
    FixedAsset,
    /// A shipment within a sales order.
    Shipment,
    /// A receipt within a purchase order.
    Receipt,
    /// A bill within a purchase order.
    Bill,
    /// A payment or refund.
    Payment,
    /// An invoice or credit note.
    Invoice,
    /// A performance target.
    Target,
    /// An improvement initiative.
    Initiative,
    /// A replenishment proposal.
    Proposal,
    /// A published demand forecast.
    Forecast,
    /// A planned promotion.
    Promotion,
}

impl DocumentKind {
    /// Every kind.
    pub const ALL: [Self; 25] = [
        Self::Tenant,
        Self::Item,
        Self::Location,
        Self::Supplier,
        Self::Carrier,
        Self::ReturnPolicy,
        Self::SalesOrder,
        Self::PurchaseOrder,
        Self::WorkOrder,
        Self::Return,
        Self::Transfer,
        Self::Count,
        Self::Adjustment,
        Self::Cost,
        Self::FixedAsset,
        Self::Shipment,
        Self::Receipt,
        Self::Bill,
        Self::Payment,
        Self::Invoice,
        Self::Target,
        Self::Initiative,
        Self::Proposal,
        Self::Forecast,
        Self::Promotion,
    ];

    /// Parses [`DocumentKind::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// The snake_case name used in stream names, error codes and messages.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Tenant => "tenant",
            Self::Item => "item",
            Self::Location => "location",
            Self::Supplier => "supplier",
            Self::Carrier => "carrier",
            Self::ReturnPolicy => "return_policy",
            Self::SalesOrder => "sales_order",
            Self::PurchaseOrder => "purchase_order",
            Self::WorkOrder => "work_order",
            Self::Return => "return",
            Self::Transfer => "transfer",
            Self::Count => "count",
            Self::Adjustment => "adjustment",
            Self::Cost => "cost",
            Self::FixedAsset => "fixed_asset",
            Self::Shipment => "shipment",
            Self::Receipt => "receipt",
            Self::Bill => "bill",
            Self::Payment => "payment",
            Self::Invoice => "invoice",
            Self::Target => "target",
            Self::Initiative => "initiative",
            Self::Proposal => "proposal",
            Self::Forecast => "forecast",
            Self::Promotion => "promotion",
        }
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stable code of a [`DomainError`], one per variant. It travels as its snake_case name
/// ([`ErrorCode::as_str`]; serde uses the same string), is documented in `docs/errors.md`, and
/// is never renamed once published.
///
/// Exhaustive on purpose: whoever adds a code must also decide its HTTP status, and the
/// server's table of codes does not compile until they have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// [`DomainError::TenantNotConfigured`].
    TenantNotConfigured,
    /// [`DomainError::Invalid`].
    InvalidField,
    /// [`DomainError::NonPositiveQuantity`].
    NonPositiveQuantity,
    /// [`DomainError::NotFound`].
    NotFound,
    /// [`DomainError::AlreadyExists`].
    AlreadyExists,
    /// [`DomainError::IllegalTransition`].
    IllegalTransition,
    /// [`DomainError::InsufficientStock`].
    InsufficientStock,
    /// [`DomainError::ExceedsOutstanding`].
    ExceedsOutstanding,
    /// [`DomainError::CurrencyMismatch`].
    CurrencyMismatch,
    /// [`DomainError::BomCycle`].
    BomCycle,
    /// [`DomainError::BusinessTimeOutOfWindow`].
    BusinessTimeOutOfWindow,
    /// [`DomainError::NotAFulfillmentCenter`].
    NotAFulfillmentCenter,
    /// [`DomainError::BelowReserved`].
    BelowReserved,
    /// [`DomainError::Overflow`].
    Overflow,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [Self; 14] = [
        Self::TenantNotConfigured,
        Self::InvalidField,
        Self::NonPositiveQuantity,
        Self::NotFound,
        Self::AlreadyExists,
        Self::IllegalTransition,
        Self::InsufficientStock,
        Self::ExceedsOutstanding,
        Self::CurrencyMismatch,
        Self::BomCycle,
        Self::BusinessTimeOutOfWindow,
        Self::NotAFulfillmentCenter,
        Self::BelowReserved,
        Self::Overflow,
    ];

    /// The code as it travels: snake_case, stable.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TenantNotConfigured => "tenant_not_configured",
            Self::InvalidField => "invalid_field",
            Self::NonPositiveQuantity => "non_positive_quantity",
            Self::NotFound => "not_found",
            Self::AlreadyExists => "already_exists",
            Self::IllegalTransition => "illegal_transition",
            Self::InsufficientStock => "insufficient_stock",
            Self::ExceedsOutstanding => "exceeds_outstanding",
            Self::CurrencyMismatch => "currency_mismatch",
            Self::BomCycle => "bom_cycle",
            Self::BusinessTimeOutOfWindow => "business_time_out_of_window",
            Self::NotAFulfillmentCenter => "not_a_fulfillment_center",
            Self::BelowReserved => "below_reserved",
            Self::Overflow => "overflow",
        }
    }

    /// Parses [`ErrorCode::as_str`] (a code read back from a stored outcome).
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|known| known.as_str() == code)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a command was rejected. Each variant names the record and field involved.
///
/// Serialises as the variant's fields alone (`{"sku": "A", "location": "FC1", ...}`); the
/// variant itself is named by [`DomainError::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum DomainError {
    /// The tenant has not been configured (base currency, reporting time zone) yet.
    #[error("the tenant is not configured: send ConfigureTenant first")]
    TenantNotConfigured,
    /// A field has a value that is not allowed.
    #[error("{field}: {reason}")]
    Invalid {
        /// Path of the field, e.g. `lines[1].quantity`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A quantity is zero or negative where a positive one is required.
    #[error("{field}: quantity must be positive, got {value}")]
    NonPositiveQuantity {
        /// Path of the field.
        field: String,
        /// The rejected value.
        value: i64,
    },
    /// A record the command refers to does not exist.
    #[error("{field}: {kind} `{id}` does not exist")]
    NotFound {
        /// Kind of the missing record.
        kind: DocumentKind,
        /// Its id.
        id: String,
        /// Path of the field that named it.
        field: String,
    },
    /// A record with this id already exists.
    #[error("{kind} `{id}` already exists")]
    AlreadyExists {
        /// Kind of the record.
        kind: DocumentKind,
        /// Its id.
        id: String,
    },
    /// The document's life cycle does not allow this step in its current state.
    #[error("{kind} `{id}` is {state}: cannot {attempted}")]
    IllegalTransition {
        /// Kind of the document.
        kind: DocumentKind,
        /// Its id.
        id: String,
        /// Its current state.
        state: String,
        /// The step that was attempted.
        attempted: &'static str,
    },
    /// Not enough available stock (on hand minus reserved) at a location.
    #[error(
        "insufficient stock of {sku} at {location}: requested {requested}, available {available}"
    )]
    InsufficientStock {
        /// The item.
        sku: Sku,
        /// The location.
        location: LocationId,
        /// Quantity requested by the command (summed over all its lines and kit components).
        requested: i64,
        /// Quantity available.
        available: i64,
    },
    /// The quantity asked for exceeds what is outstanding on the document.
    #[error("{field}: requested {requested} but only {outstanding} is outstanding")]
    ExceedsOutstanding {
        /// Path of the field.
        field: String,
        /// Quantity or amount requested.
        requested: i64,
        /// Quantity or amount outstanding.
        outstanding: i64,
    },
    /// An amount is in the wrong currency.
    #[error("{field}: expected currency {expected}, got {actual}")]
    CurrencyMismatch {
        /// Path of the field.
        field: String,
        /// The currency the document uses.
        expected: Currency,
        /// The currency given.
        actual: Currency,
    },
    /// A bill of materials would contain itself.
    #[error("bill of materials cycle: {}", path.iter().map(Sku::as_str).collect::<Vec<_>>().join(" -> "))]
    BomCycle {
        /// The SKUs along the cycle, first and last equal.
        path: Vec<Sku>,
    },
    /// A business time outside the tenant's window
    /// ([`crate::master::BusinessTimeWindow`]).
    #[error(
        "{field}: {value} is outside the business times this tenant accepts, {earliest} to {latest}"
    )]
    BusinessTimeOutOfWindow {
        /// The field that carried it.
        field: String,
        /// The time given.
        value: jiff::Timestamp,
        /// The earliest time accepted.
        earliest: jiff::Timestamp,
        /// The latest time accepted.
        latest: jiff::Timestamp,
    },
    /// A location of the wrong kind was named (e.g. a virtual location where a fulfillment
    /// center is required).
    #[error("{field}: location `{location}` is not a fulfillment center")]
    NotAFulfillmentCenter {
        /// Path of the field.
        field: String,
        /// The location named.
        location: LocationId,
    },
    /// A count or adjustment would leave less on hand than is reserved for open documents.
    #[error(
        "{sku} at {location}: on hand would become {on_hand} but {reserved} is reserved; deallocate first"
    )]
    BelowReserved {
        /// The item.
        sku: Sku,
        /// The location.
        location: LocationId,
        /// The on-hand quantity the command would leave.
        on_hand: i64,
        /// The quantity reserved.
        reserved: i64,
    },
    /// An amount or quantity is too large to compute with.
    #[error("{field}: value too large")]
    Overflow {
        /// Path of the field.
        field: String,
    },
}

impl DomainError {
    /// The error's stable machine code (used by the API and the CLI).
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::TenantNotConfigured => ErrorCode::TenantNotConfigured,
            Self::Invalid { .. } => ErrorCode::InvalidField,
            Self::NonPositiveQuantity { .. } => ErrorCode::NonPositiveQuantity,
            Self::NotFound { .. } => ErrorCode::NotFound,
            Self::AlreadyExists { .. } => ErrorCode::AlreadyExists,
            Self::IllegalTransition { .. } => ErrorCode::IllegalTransition,
            Self::InsufficientStock { .. } => ErrorCode::InsufficientStock,
            Self::ExceedsOutstanding { .. } => ErrorCode::ExceedsOutstanding,
            Self::CurrencyMismatch { .. } => ErrorCode::CurrencyMismatch,
            Self::BomCycle { .. } => ErrorCode::BomCycle,
            Self::BusinessTimeOutOfWindow { .. } => ErrorCode::BusinessTimeOutOfWindow,
            Self::NotAFulfillmentCenter { .. } => ErrorCode::NotAFulfillmentCenter,
            Self::BelowReserved { .. } => ErrorCode::BelowReserved,
            Self::Overflow { .. } => ErrorCode::Overflow,
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn not_found(
        kind: DocumentKind,
        id: impl fmt::Display,
        field: impl Into<String>,
    ) -> Self {
        Self::NotFound {
            kind,
            id: id.to_string(),
            field: field.into(),
        }
    }

    pub(crate) fn illegal(
        kind: DocumentKind,
        id: impl fmt::Display,
        state: impl fmt::Display,
        attempted: &'static str,
    ) -> Self {
        Self::IllegalTransition {
            kind,
            id: id.to_string(),
            state: state.to_string(),
            attempted,
        }
    }

    pub(crate) fn overflow(field: impl Into<String>) -> Self {
        Self::Overflow {
            field: field.into(),
        }
    }
}

/// Checks that a quantity is positive.
pub(crate) fn positive(field: impl FnOnce() -> String, value: i64) -> Result<i64, DomainError> {
    if value > 0 {
        Ok(value)
    } else {
        Err(DomainError::NonPositiveQuantity {
            field: field(),
            value,
        })
    }
}

/// Checked multiplication that reports the field on overflow.
pub(crate) fn mul(a: i64, b: i64, field: impl FnOnce() -> String) -> Result<i64, DomainError> {
    a.checked_mul(b)
        .ok_or_else(|| DomainError::overflow(field()))
}

/// Checked addition that reports the field on overflow.
pub(crate) fn add(a: i64, b: i64, field: impl FnOnce() -> String) -> Result<i64, DomainError> {
    a.checked_add(b)
        .ok_or_else(|| DomainError::overflow(field()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_travels_as_its_name_through_serde_display_and_parse() {
        for code in ErrorCode::ALL {
            let name = code.as_str();
            assert_eq!(code.to_string(), name);
            assert_eq!(serde_json::to_value(code).ok(), Some(name.into()));
            assert_eq!(
                serde_json::from_value::<ErrorCode>(name.into()).ok(),
                Some(code)
            );
            assert_eq!(ErrorCode::parse(name), Some(code));
        }
        assert_eq!(ErrorCode::parse("NotFound"), None);
        assert_eq!(ErrorCode::parse("route_not_found"), None);
    }

    #[test]
    fn the_codes_are_the_ones_published_before_they_were_typed() {
        // The strings `DomainError::code` returned when it returned strings; a client may match
        // on any of them, so none may change.
        let published = [
            "tenant_not_configured",
            "invalid_field",
            "non_positive_quantity",
            "not_found",
            "already_exists",
            "illegal_transition",
            "insufficient_stock",
            "exceeds_outstanding",
            "currency_mismatch",
            "bom_cycle",
            "business_time_out_of_window",
            "not_a_fulfillment_center",
            "below_reserved",
            "overflow",
        ];
        assert_eq!(ErrorCode::ALL.map(ErrorCode::as_str), published);
    }

    #[test]
    fn each_error_names_its_own_code() {
        let sku = || Sku::parse("A").unwrap();
        let location = || LocationId::parse("FC1").unwrap();
        let cases = [
            (DomainError::TenantNotConfigured, "tenant_not_configured"),
            (DomainError::invalid("f", "r"), "invalid_field"),
            (
                DomainError::NonPositiveQuantity {
                    field: "f".into(),
                    value: 0,
                },
                "non_positive_quantity",
            ),
            (
                DomainError::not_found(DocumentKind::Item, "A", "sku"),
                "not_found",
            ),
            (
                DomainError::AlreadyExists {
                    kind: DocumentKind::Item,
                    id: "A".into(),
                },
                "already_exists",
            ),
            (
                DomainError::illegal(DocumentKind::SalesOrder, "SO-1", "shipped", "cancel"),
                "illegal_transition",
            ),
            (
                DomainError::InsufficientStock {
                    sku: sku(),
                    location: location(),
                    requested: 2,
                    available: 1,
                },
                "insufficient_stock",
            ),
            (
                DomainError::ExceedsOutstanding {
                    field: "f".into(),
                    requested: 2,
                    outstanding: 1,
                },
                "exceeds_outstanding",
            ),
            (
                DomainError::CurrencyMismatch {
                    field: "f".into(),
                    expected: Currency::parse("USD").unwrap(),
                    actual: Currency::parse("EUR").unwrap(),
                },
                "currency_mismatch",
            ),
            (DomainError::BomCycle { path: vec![sku()] }, "bom_cycle"),
            (
                DomainError::BusinessTimeOutOfWindow {
                    field: "occurred_at".into(),
                    value: jiff::Timestamp::UNIX_EPOCH,
                    earliest: jiff::Timestamp::UNIX_EPOCH,
                    latest: jiff::Timestamp::UNIX_EPOCH,
                },
                "business_time_out_of_window",
            ),
            (
                DomainError::NotAFulfillmentCenter {
                    field: "f".into(),
                    location: location(),
                },
                "not_a_fulfillment_center",
            ),
            (
                DomainError::BelowReserved {
                    sku: sku(),
                    location: location(),
                    on_hand: 0,
                    reserved: 1,
                },
                "below_reserved",
            ),
            (DomainError::overflow("f"), "overflow"),
        ];
        // One case per code, so a new variant without a case here fails.
        assert_eq!(cases.len(), ErrorCode::ALL.len());
        for (error, code) in cases {
            assert_eq!(error.code().as_str(), code, "{error:?}");
        }
    }
}
