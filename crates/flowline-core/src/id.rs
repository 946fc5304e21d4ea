//! Identifiers: validated newtypes, parsed once at the edge.
//!
//! Every identifier is a short string of 1 to 64 characters drawn from `A-Z a-z 0-9 . _ - :`,
//! starting with a letter or digit: the characters that survive URLs, CSV files and shell
//! commands unquoted, with no path separator and no dot segment (`.`, `..`), so an id can name
//! a URL path segment or a file without escaping anything. Ids are chosen by
//! the caller, so a retried command names the same document and the same inputs always produce
//! the same events. Storage is inline for up to 24 bytes, so cloning an id does not allocate.

use compact_str::CompactString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The longest identifier accepted, in bytes.
pub const ID_LENGTH_MAX: usize = 64;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The string is empty.
    #[error("{kind} must not be empty")]
    Empty {
        /// Which kind of identifier was being parsed.
        kind: &'static str,
    },
    /// The string is longer than [`ID_LENGTH_MAX`] bytes.
    #[error("{kind} `{value}` is {length} bytes long; the limit is {ID_LENGTH_MAX}")]
    TooLong {
        /// Which kind of identifier was being parsed.
        kind: &'static str,
        /// The first characters of the rejected value.
        value: String,
        /// Its length in bytes.
        length: usize,
    },
    /// The string contains a character outside the allowed set.
    #[error(
        "{kind} `{value}` contains {character:?} at byte {offset}; allowed are letters, digits and . _ - :, starting with a letter or digit"
    )]
    BadCharacter {
        /// Which kind of identifier was being parsed.
        kind: &'static str,
        /// The rejected value.
        value: String,
        /// The first offending character.
        character: char,
        /// Its byte offset.
        offset: usize,
    },
}

fn check(kind: &'static str, value: &str) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if value.len() > ID_LENGTH_MAX {
        let shown: String = value.chars().take(ID_LENGTH_MAX).collect();
        return Err(IdError::TooLong {
            kind,
            value: shown,
            length: value.len(),
        });
    }
    for (offset, character) in value.char_indices() {
        let allowed = character.is_ascii_alphanumeric()
            || (offset > 0 && matches!(character, '.' | '_' | '-' | ':'));
        if !allowed {
            return Err(IdError::BadCharacter {
                kind,
                value: value.to_string(),
                character,
                offset,
            });
        }
    }
    Ok(())
}

/// The characters [`check`] accepts, as a JSON Schema (ECMA-262) pattern.
#[cfg(feature = "schema")]
const ID_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._:-]*$";

/// The schema every identifier shares: what [`check`] accepts, described for an API schema.
/// The limit is in bytes, but every allowed character is one byte, so it is also the limit in
/// characters that JSON Schema's `maxLength` counts.
#[cfg(feature = "schema")]
fn id_schema(kind: &str) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "minLength": 1,
        "maxLength": ID_LENGTH_MAX,
        "pattern": ID_PATTERN,
        "description": format!(
            "An identifier ({kind}): 1 to {ID_LENGTH_MAX} characters drawn from letters, digits and . _ - :, starting with a letter or digit"
        ),
    })
}

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(CompactString);

        impl $name {
            /// The kind of identifier, as used in error messages.
            pub const KIND: &'static str = $kind;

            /// Parses and validates an identifier.
            pub fn parse(value: &str) -> Result<Self, IdError> {
                check($kind, value)?;
                Ok(Self(CompactString::new(value)))
            }

            /// The identifier as a string slice.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(value: &str) -> Result<Self, IdError> {
                Self::parse(value)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&value).map_err(serde::de::Error::custom)
            }
        }

        // Each identifier gets its own named schema, so an API description shows which kind of
        // id a field takes even though they all share one format.
        #[cfg(feature = "schema")]
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn schema_id() -> std::borrow::Cow<'static, str> {
                concat!(module_path!(), "::", stringify!($name)).into()
            }

            fn json_schema(_generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                id_schema($kind)
            }
        }
    };
}

string_id!(
    /// A tenant: one brand or 3PL client whose data is sealed off from every other.
    TenantId,
    "tenant id"
);
string_id!(
    /// A stock keeping unit: the identifier of an item.
    Sku,
    "SKU"
);
string_id!(
    /// A location: a fulfillment center or one of the virtual locations.
    LocationId,
    "location id"
);
string_id!(
    /// A supplier.
    SupplierId,
    "supplier id"
);
string_id!(
    /// A carrier (the company that moves parcels).
    CarrierId,
    "carrier id"
);
string_id!(
    /// A carrier's service (`ground`, `next_day`, ...), unique within its carrier.
    ServiceCode,
    "service code"
);
string_id!(
    /// A sales channel (`web`, `marketplace`, `wholesale`, ...).
    ChannelId,
    "channel id"
);
string_id!(
    /// A customer.
    CustomerId,
    "customer id"
);
string_id!(
    /// A sales order.
    SalesOrderId,
    "sales order id"
);
string_id!(
    /// A purchase order.
    PurchaseOrderId,
    "purchase order id"
);
string_id!(
    /// A work order (kitting, assembly, customization, repair).
    WorkOrderId,
    "work order id"
);
string_id!(
    /// A return authorisation (RMA).
    ReturnId,
    "return id"
);
string_id!(
    /// A transfer of stock between two fulfillment centers.
    TransferId,
    "transfer id"
);
string_id!(
    /// A stock count.
    CountId,
    "count id"
);
string_id!(
    /// A stock adjustment.
    AdjustmentId,
    "adjustment id"
);
string_id!(
    /// A posted supply chain cost.
    CostId,
    "cost id"
);
string_id!(
    /// A fixed asset.
    FixedAssetId,
    "fixed asset id"
);
string_id!(
    /// A shipment (one parcel or consignment handed to a carrier).
    ShipmentId,
    "shipment id"
);
string_id!(
    /// A receipt of goods against a purchase order.
    ReceiptId,
    "receipt id"
);
string_id!(
    /// A supplier's bill.
    BillId,
    "bill id"
);
string_id!(
    /// A payment, made or received.
    PaymentId,
    "payment id"
);
string_id!(
    /// A customer invoice or credit note.
    InvoiceId,
    "invoice id"
);
string_id!(
    /// A reason code (`damaged_in_transit`, `out_of_stock`, `cycle_count`, ...).
    ReasonCode,
    "reason code"
);
string_id!(
    /// A return policy.
    ReturnPolicyId,
    "return policy id"
);
string_id!(
    /// A performance target: what one metric should be, for the whole tenant or one slice.
    TargetId,
    "target id"
);
string_id!(
    /// An improvement initiative: a plan of work expected to move one or more metrics.
    InitiativeId,
    "initiative id"
);
string_id!(
    /// A published demand forecast.
    ForecastId,
    "forecast id"
);
string_id!(
    /// A promotion: a sale or feature planned ahead, with the demand it is expected to bring.
    PromotionId,
    "promotion id"
);
string_id!(
    /// A replenishment proposal: what the planner proposes to order or move.
    ProposalId,
    "proposal id"
);

/// Orders ids as people read them: runs of digits compare by their number, the rest by its
/// characters, so `SO-9` comes before `SO-10` and `A2B` before `A10A`. Ids that
/// differ only in leading zeros (`SO-09`, `SO-9`) fall back to byte order, so the order is total
/// and agrees with equality.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut left, mut right) = (a.as_bytes(), b.as_bytes());
    loop {
        match (left.first(), right.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (left_run, left_rest) = split_run(left, true);
                let (right_run, right_rest) = split_run(right, true);
                let left_number = trim_zeros(left_run);
                let right_number = trim_zeros(right_run);
                // Without leading zeros, a longer run of digits is the larger number; runs of
                // one length compare digit by digit. No run is parsed, so none can overflow.
                let order = left_number
                    .len()
                    .cmp(&right_number.len())
                    .then_with(|| left_number.cmp(right_number));
                if order != Ordering::Equal {
                    return order;
                }
                (left, right) = (left_rest, right_rest);
            }
            (Some(_), Some(_)) => {
                let (left_run, left_rest) = split_run(left, false);
                let (right_run, right_rest) = split_run(right, false);
                let order = left_run.cmp(right_run);
                if order != Ordering::Equal {
                    return order;
                }
                (left, right) = (left_rest, right_rest);
            }
        }
    }
}

/// The leading run of digits (or of non-digits) of `bytes`, and the rest.
fn split_run(bytes: &[u8], digits: bool) -> (&[u8], &[u8]) {
    let end = bytes
        .iter()
        .position(|byte| byte.is_ascii_digit() != digits)
        .unwrap_or(bytes.len());
    bytes.split_at(end)
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let first = digits
        .iter()
        .position(|digit| *digit != b'0')
        .unwrap_or(digits.len());
    &digits[first..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_the_documented_characters() {
        let sku = Sku::parse("TEE-BLK.M_2024:v1").unwrap();
        assert_eq!(sku.as_str(), "TEE-BLK.M_2024:v1");
    }

    #[test]
    fn ids_with_path_separators_or_dot_segments_are_rejected() {
        // `..` and `a/b/x` would name another path when an id becomes a URL segment or a
        // file name; `-rf` would read as a flag on a command line.
        for (value, character, offset) in [
            ("..", '.', 0),
            (".", '.', 0),
            ("a/b/x", '/', 1),
            ("-rf", '-', 0),
            ("a\\b", '\\', 1),
        ] {
            assert_eq!(
                Sku::parse(value),
                Err(IdError::BadCharacter {
                    kind: "SKU",
                    value: value.into(),
                    character,
                    offset
                }),
                "{value}"
            );
        }
    }

    #[test]
    fn empty_ids_are_rejected() {
        assert_eq!(Sku::parse(""), Err(IdError::Empty { kind: "SKU" }));
    }

    #[test]
    fn ids_with_spaces_name_the_character_and_offset() {
        let error = SalesOrderId::parse("SO 1").unwrap_err();
        assert_eq!(
            error,
            IdError::BadCharacter {
                kind: "sales order id",
                value: "SO 1".into(),
                character: ' ',
                offset: 2
            }
        );
    }

    #[test]
    fn ids_longer_than_64_bytes_are_rejected() {
        let long = "x".repeat(65);
        assert!(matches!(
            Sku::parse(&long),
            Err(IdError::TooLong { length: 65, .. })
        ));
        assert!(Sku::parse(&"x".repeat(64)).is_ok());
    }

    #[test]
    fn deserialising_an_invalid_id_fails() {
        let result: Result<Sku, _> = serde_json::from_str("\"a b\"");
        assert!(result.is_err());
    }

    #[test]
    fn ids_sort_as_people_read_them() {
        use std::cmp::Ordering::{Equal, Greater, Less};
        // Digits by number: 9 < 10 < 100; byte order would put "SO-10" and "SO-100" first.
        let mut ids = vec!["SO-100", "SO-10", "SO-9", "PO-2", "SO-1"];
        ids.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(ids, ["PO-2", "SO-1", "SO-9", "SO-10", "SO-100"]);
        // A number longer than any integer type still compares: 10^30 > 9 × 10^29.
        assert_eq!(
            natural_cmp(
                "A-1000000000000000000000000000000",
                "A-900000000000000000000000000000"
            ),
            Greater
        );
        // Text compares by bytes, numbers inside it by value: "A2B" < "A10A" (2 < 10).
        assert_eq!(natural_cmp("A2B", "A10A"), Less);
        // A prefix comes first; equal strings are equal; leading zeros fall back to bytes
        // ("SO-09" < "SO-9" because '0' < '9'), so the order stays total.
        assert_eq!(natural_cmp("SO", "SO-1"), Less);
        assert_eq!(natural_cmp("SO-7", "SO-7"), Equal);
        assert_eq!(natural_cmp("SO-09", "SO-9"), Less);
        assert_eq!(natural_cmp("SO-9", "SO-09"), Greater);
    }
}
