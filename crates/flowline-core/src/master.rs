//! Master data (the SCOR Enable process): tenant settings, items and bills of materials,
//! locations, suppliers, carriers and return policies.

use crate::error::{DomainError, positive};
use crate::id::{CarrierId, LocationId, ReturnPolicyId, ServiceCode, Sku, SupplierId};
use crate::money::{Currency, Money};
use serde::{Deserialize, Serialize};

/// A validated IANA time zone name (`Europe/Berlin`), checked against the bundled tz database.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZoneName(String);

impl TimeZoneName {
    /// Parses and checks a zone name.
    pub fn parse(name: &str) -> Result<Self, String> {
        jiff::tz::TimeZone::get(name)
            .map(|_| Self(name.to_string()))
            .map_err(|_| format!("`{name}` is not an IANA time zone name (e.g. America/New_York)"))
    }

    /// The zone name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TimeZoneName {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        Self::parse(&name)
    }
}

impl From<TimeZoneName> for String {
    fn from(name: TimeZoneName) -> String {
        name.0
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for TimeZoneName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TimeZoneName".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::TimeZoneName").into()
    }

    fn json_schema(_generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // The set of valid names is the bundled tz database, which no pattern can capture, so
        // the schema says only that it is a non-empty string and which kind of string.
        schemars::json_schema!({
            "type": "string",
            "minLength": 1,
            "description": "IANA time zone name, e.g. America/New_York",
        })
    }
}

/// Settings every tenant must have before other commands are accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TenantSettings {
    /// Currency in which inventory is valued and metrics are reported.
    pub base_currency: Currency,
    /// Time zone for reporting periods.
    pub reporting_time_zone: TimeZoneName,
}

/// A postal address with its time zone (promise dates are judged in the ship-to zone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Street lines.
    #[serde(default)]
    pub lines: Vec<String>,
    /// City.
    #[serde(default)]
    pub city: String,
    /// State, province or region.
    #[serde(default)]
    pub region: String,
    /// Postal code.
    #[serde(default)]
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// IANA time zone of the address.
    pub time_zone: TimeZoneName,
}

impl Address {
    pub(crate) fn validate(&self, field: &str) -> Result<(), DomainError> {
        let country_ok =
            self.country.len() == 2 && self.country.bytes().all(|b| b.is_ascii_uppercase());
        if !country_ok {
            return Err(DomainError::invalid(
                format!("{field}.country"),
                format!(
                    "`{}` is not an ISO 3166-1 alpha-2 code (e.g. US)",
                    self.country
                ),
            ));
        }
        Ok(())
    }
}

/// Physical dimensions in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Dimensions {
    /// Length, mm.
    pub length_mm: i64,
    /// Width, mm.
    pub width_mm: i64,
    /// Height, mm.
    pub height_mm: i64,
}

/// How a bill of materials is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum BomKind {
    /// Made ahead by kitting or assembly work orders and sold from its own stock.
    Kit,
    /// Never stocked: a sales line for it reserves and ships its components.
    Bundle,
}

/// One component of a bill of materials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BomComponent {
    /// The component item (may itself have a bill of materials).
    pub sku: Sku,
    /// Units of the component per unit of the parent.
    pub quantity: i64,
}

/// A bill of materials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Bom {
    /// Kit or bundle.
    pub kind: BomKind,
    /// The components.
    pub components: Vec<BomComponent>,
}

/// An item (SKU) and its master data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Item {
    /// The SKU.
    pub sku: Sku,
    /// Display name.
    pub name: String,
    /// Unit of measure of quantities (`each`, `pack`, ...).
    pub unit: String,
    /// Standard unit cost in the base currency: values stock gains when no average exists.
    pub unit_cost: Money,
    /// List price.
    pub price: Money,
    /// Weight in grams.
    pub weight_g: i64,
    /// Dimensions.
    pub dimensions: Option<Dimensions>,
    /// Harmonized System code for customs.
    pub hs_code: Option<String>,
    /// ISO 3166-1 alpha-2 country of origin.
    pub country_of_origin: Option<String>,
    /// Category for reporting.
    pub category: Option<String>,
    /// Bill of materials, for kits and bundles.
    pub bom: Option<Bom>,
}

impl Item {
    /// Whether the item is a bundle (never stocked).
    pub fn is_bundle(&self) -> bool {
        matches!(
            &self.bom,
            Some(Bom {
                kind: BomKind::Bundle,
                ..
            })
        )
    }
}

/// Checks a proposed bill of materials for `parent`: positive quantities, known components,
/// no duplicates, and no cycle through the existing bills of materials.
pub(crate) fn check_bom<'a>(
    parent: &Sku,
    bom: &Bom,
    lookup: &impl Fn(&Sku) -> Option<&'a Item>,
) -> Result<(), DomainError> {
    if bom.components.is_empty() {
        return Err(DomainError::invalid(
            "components",
            "a bill of materials needs at least one component",
        ));
    }
    for (index, component) in bom.components.iter().enumerate() {
        positive(
            || format!("components[{index}].quantity"),
            component.quantity,
        )?;
        if lookup(&component.sku).is_none() {
            return Err(DomainError::not_found(
                crate::error::DocumentKind::Item,
                &component.sku,
                format!("components[{index}].sku"),
            ));
        }
        if bom.components[..index]
            .iter()
            .any(|other| other.sku == component.sku)
        {
            return Err(DomainError::invalid(
                format!("components[{index}].sku"),
                format!("{} is listed twice; combine the quantities", component.sku),
            ));
        }
    }
    // Depth-first search from each component; reaching `parent` again is a cycle.
    let mut path = vec![parent.clone()];
    for component in &bom.components {
        find_cycle(parent, &component.sku, lookup, &mut path)?;
    }
    Ok(())
}

fn find_cycle<'a>(
    parent: &Sku,
    current: &Sku,
    lookup: &impl Fn(&Sku) -> Option<&'a Item>,
    path: &mut Vec<Sku>,
) -> Result<(), DomainError> {
    path.push(current.clone());
    if current == parent {
        return Err(DomainError::BomCycle { path: path.clone() });
    }
    // Bills of materials already accepted are acyclic, so the depth is bounded by the number
    // of items; the explicit bound guards against a corrupted state all the same.
    if path.len() > 64 {
        return Err(DomainError::invalid(
            "components",
            "bill of materials nested deeper than 64 levels",
        ));
    }
    if let Some(Item { bom: Some(bom), .. }) = lookup(current) {
        for component in &bom.components {
            find_cycle(parent, &component.sku, lookup, path)?;
        }
    }
    path.pop();
    Ok(())
}

/// A physical location: a fulfillment center or warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Location {
    /// The location id.
    pub id: LocationId,
    /// Display name.
    pub name: String,
    /// Region used for placement and reporting (`us-east`).
    pub region: String,
    /// Address and time zone.
    pub address: Address,
}

/// A supplier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Supplier {
    /// The supplier id.
    pub id: SupplierId,
    /// Display name.
    pub name: String,
    /// Currency of its purchase orders and bills.
    pub currency: Currency,
    /// Quoted lead time, days.
    pub lead_time_days: i64,
    /// Minimum order quantity per line.
    pub minimum_order_quantity: i64,
    /// Payment terms, days after the bill.
    pub payment_terms_days: i64,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
}

/// Transport mode of a carrier service, for emission factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum TransportMode {
    /// Road (van, truck).
    Road,
    /// Air freight.
    Air,
    /// Rail freight.
    Rail,
    /// Sea freight.
    Sea,
}

/// A carrier service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CarrierService {
    /// Service code, unique within the carrier.
    pub code: ServiceCode,
    /// Transport mode.
    pub mode: TransportMode,
    /// Published transit time in days.
    pub transit_days: i64,
}

/// A carrier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Carrier {
    /// The carrier id.
    pub id: CarrierId,
    /// Display name.
    pub name: String,
    /// Services offered.
    pub services: Vec<CarrierService>,
}

/// Condition grade of goods (delivered or returned).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Unopened, resellable as new.
    New,
    /// Opened but as new.
    LikeNew,
    /// Used or opened, resellable at a discount.
    Used,
    /// Damaged.
    Damaged,
    /// Faulty.
    Defective,
}

/// A return policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReturnPolicy {
    /// The policy id.
    pub id: ReturnPolicyId,
    /// Days after delivery within which a return may be authorised.
    pub window_days: i64,
    /// Conditions in which a returned item is refundable.
    pub refundable_conditions: Vec<Condition>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    fn item(s: &str, bom: Option<Vec<(&str, i64)>>) -> Item {
        let usd = Currency::parse("USD").unwrap();
        Item {
            sku: sku(s),
            name: s.into(),
            unit: "each".into(),
            unit_cost: Money::new(100, usd),
            price: Money::new(200, usd),
            weight_g: 100,
            dimensions: None,
            hs_code: None,
            country_of_origin: None,
            category: None,
            bom: bom.map(|components| Bom {
                kind: BomKind::Kit,
                components: components
                    .into_iter()
                    .map(|(s, quantity)| BomComponent {
                        sku: sku(s),
                        quantity,
                    })
                    .collect(),
            }),
        }
    }

    #[test]
    fn nested_kits_are_accepted_and_cycles_are_rejected_with_their_path() {
        // GIFT = 1 BOX + 2 MUG; BOX = 1 LID. Redefining LID = 1 GIFT would close the loop
        // LID -> GIFT -> BOX -> LID.
        let items: HashMap<Sku, Item> = [
            item("MUG", None),
            item("LID", None),
            item("BOX", Some(vec![("LID", 1)])),
            item("GIFT", Some(vec![("BOX", 1), ("MUG", 2)])),
        ]
        .into_iter()
        .map(|i| (i.sku.clone(), i))
        .collect();
        let lookup = |s: &Sku| items.get(s);
        let nested = Bom {
            kind: BomKind::Kit,
            components: vec![BomComponent {
                sku: sku("GIFT"),
                quantity: 1,
            }],
        };
        // A new HAMPER = 1 GIFT nests three levels deep and is fine.
        assert_eq!(check_bom(&sku("HAMPER"), &nested, &lookup), Ok(()));
        // MUG = 1 GIFT is a cycle through GIFT's own MUG component.
        assert_eq!(
            check_bom(&sku("MUG"), &nested, &lookup),
            Err(DomainError::BomCycle {
                path: vec![sku("MUG"), sku("GIFT"), sku("MUG")]
            })
        );
        let error = check_bom(&sku("LID"), &nested, &lookup).unwrap_err();
        assert_eq!(
            error,
            DomainError::BomCycle {
                path: vec![sku("LID"), sku("GIFT"), sku("BOX"), sku("LID")]
            }
        );
    }

    #[test]
    fn a_bom_with_a_zero_quantity_or_unknown_component_is_rejected() {
        let items: HashMap<Sku, Item> = [item("MUG", None)]
            .into_iter()
            .map(|i| (i.sku.clone(), i))
            .collect();
        let lookup = |s: &Sku| items.get(s);
        let zero = Bom {
            kind: BomKind::Kit,
            components: vec![BomComponent {
                sku: sku("MUG"),
                quantity: 0,
            }],
        };
        assert!(matches!(
            check_bom(&sku("KIT"), &zero, &lookup),
            Err(DomainError::NonPositiveQuantity { value: 0, .. })
        ));
        let unknown = Bom {
            kind: BomKind::Kit,
            components: vec![BomComponent {
                sku: sku("NOPE"),
                quantity: 1,
            }],
        };
        assert!(matches!(
            check_bom(&sku("KIT"), &unknown, &lookup),
            Err(DomainError::NotFound { .. })
        ));
        let empty = Bom {
            kind: BomKind::Bundle,
            components: vec![],
        };
        assert!(matches!(
            check_bom(&sku("KIT"), &empty, &lookup),
            Err(DomainError::Invalid { .. })
        ));
    }

    #[test]
    fn time_zone_names_are_checked_against_the_bundled_database() {
        assert!(TimeZoneName::parse("America/New_York").is_ok());
        assert!(TimeZoneName::parse("Mars/Olympus").is_err());
    }
}
