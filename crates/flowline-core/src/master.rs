//! Master data (the SCOR Enable process): tenant settings, items and bills of materials,
//! locations, suppliers, carriers and return policies.

use crate::error::{DomainError, positive};
use crate::id::{CarrierId, LocationId, ReturnPolicyId, ServiceCode, Sku, SupplierId};
use crate::money::{Currency, Money};
use jiff::Timestamp;
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
    /// The business times commands may carry.
    #[serde(default, skip_serializing_if = "BusinessTimeWindow::is_default")]
    pub business_time: BusinessTimeWindow,
}

/// The business times a tenant accepts: from its start (when its first event was recorded)
/// less a backfill allowance, to a small skew past the present. A time outside it is almost
/// always a mistake (a year typed as 2205, a date parsed in the wrong century), and costs every
/// report that spans it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BusinessTimeWindow {
    /// How far before the tenant's start history may be backfilled, in days (imports of past
    /// orders): 0 to 36,600.
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = 36_600)))]
    pub backfill_days: u32,
    /// How far past the present a command may be dated, in hours: 0 to 8,784.
    #[cfg_attr(feature = "schema", schemars(range(min = 0, max = 8_784)))]
    pub future_skew_hours: u32,
}

impl Default for BusinessTimeWindow {
    fn default() -> Self {
        Self {
            backfill_days: 3_660,
            future_skew_hours: 24,
        }
    }
}

impl BusinessTimeWindow {
    /// The longest backfill allowance accepted: a hundred years.
    pub const BACKFILL_DAYS_MAX: u32 = 36_600;
    /// The longest future skew accepted: a leap year.
    pub const FUTURE_SKEW_HOURS_MAX: u32 = 8_784;

    fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// Refuses allowances past their maxima, naming the field.
    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        if self.backfill_days > Self::BACKFILL_DAYS_MAX {
            return Err(DomainError::invalid(
                format!("{field}.backfill_days"),
                format!("must be at most {}", Self::BACKFILL_DAYS_MAX),
            ));
        }
        if self.future_skew_hours > Self::FUTURE_SKEW_HOURS_MAX {
            return Err(DomainError::invalid(
                format!("{field}.future_skew_hours"),
                format!("must be at most {}", Self::FUTURE_SKEW_HOURS_MAX),
            ));
        }
        Ok(())
    }

    /// The first and last business times accepted for a tenant that started at `start`, now.
    pub fn bounds(&self, start: Timestamp, now: Timestamp) -> (Timestamp, Timestamp) {
        let back = jiff::SignedDuration::from_hours(i64::from(self.backfill_days) * 24);
        let ahead = jiff::SignedDuration::from_hours(i64::from(self.future_skew_hours));
        let earliest = start.min(now).checked_sub(back).unwrap_or(Timestamp::MIN);
        let latest = now.checked_add(ahead).unwrap_or(Timestamp::MAX);
        (earliest, latest)
    }

    /// Refuses a business time outside the window of a tenant that started at `start`.
    pub fn check(
        &self,
        field: &str,
        at: Timestamp,
        start: Timestamp,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let (earliest, latest) = self.bounds(start, now);
        if earliest <= at && at <= latest {
            return Ok(());
        }
        Err(DomainError::BusinessTimeOutOfWindow {
            field: field.to_string(),
            value: at,
            earliest,
            latest,
        })
    }
}

/// A postal address with its time zone (promise dates are judged in the ship-to zone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Who receives the parcel there (any script: `Zoë Müller`, `山田太郎`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
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
    /// Where the address is on the globe, when known (a geocoded ship-to, a center's site):
    /// shipment distances for emissions start and end here. Absent, the region's or the
    /// country's centroid stands in for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinates: Option<Coordinates>,
}

/// A point on the globe (WGS 84), in whole microdegrees: exact integers, so an address keeps
/// its equality and its event hashes stay stable, and a microdegree (about 11 cm) is finer than
/// any address needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Coordinates {
    /// Latitude, millionths of a degree, −90,000,000 (south pole) to 90,000,000 (north pole).
    #[cfg_attr(
        feature = "schema",
        schemars(range(min = -90_000_000, max = 90_000_000))
    )]
    pub latitude_microdegrees: i32,
    /// Longitude, millionths of a degree, −180,000,000 to 180,000,000 (east positive).
    #[cfg_attr(
        feature = "schema",
        schemars(range(min = -180_000_000, max = 180_000_000))
    )]
    pub longitude_microdegrees: i32,
}

impl Coordinates {
    /// The largest latitude, microdegrees.
    pub const LATITUDE_MAX: i32 = 90_000_000;
    /// The largest longitude, microdegrees.
    pub const LONGITUDE_MAX: i32 = 180_000_000;

    /// Refuses a latitude past ±90° or a longitude past ±180°, naming the field.
    pub fn validate(&self, field: &str) -> Result<(), DomainError> {
        if self.latitude_microdegrees.unsigned_abs() > Self::LATITUDE_MAX.unsigned_abs() {
            return Err(DomainError::invalid(
                format!("{field}.latitude_microdegrees"),
                format!(
                    "{} is past ±90° (±{} microdegrees)",
                    self.latitude_microdegrees,
                    Self::LATITUDE_MAX
                ),
            ));
        }
        if self.longitude_microdegrees.unsigned_abs() > Self::LONGITUDE_MAX.unsigned_abs() {
            return Err(DomainError::invalid(
                format!("{field}.longitude_microdegrees"),
                format!(
                    "{} is past ±180° (±{} microdegrees)",
                    self.longitude_microdegrees,
                    Self::LONGITUDE_MAX
                ),
            ));
        }
        Ok(())
    }
}

impl Address {
    pub(crate) fn validate(&self, field: &str) -> Result<(), DomainError> {
        if let Some(recipient) = &self.recipient {
            check_name(&format!("{field}.recipient"), recipient)?;
        }
        if let Some(coordinates) = &self.coordinates {
            coordinates.validate(&format!("{field}.coordinates"))?;
        }
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

/// Longest name, company, e-mail address or telephone number kept for a person, in characters.
const CONTACT_TEXT_MAX: usize = 200;

/// A name as people write it: any script, at most [`CONTACT_TEXT_MAX`] characters, not blank,
/// no control characters (a line break in a name breaks every label printed from it).
fn check_name(field: &str, text: &str) -> Result<(), DomainError> {
    if text.trim().is_empty() {
        return Err(DomainError::invalid(field, "must not be blank"));
    }
    if text.chars().count() > CONTACT_TEXT_MAX {
        return Err(DomainError::invalid(
            field,
            format!("is longer than {CONTACT_TEXT_MAX} characters"),
        ));
    }
    if let Some(control) = text.chars().find(|c| c.is_control()) {
        return Err(DomainError::invalid(
            field,
            format!(
                "contains the control character U+{:04X}",
                u32::from(control)
            ),
        ));
    }
    Ok(())
}

/// How a customer is named and reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// The name to address them by (any script).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Their company, for a business customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// E-mail address (`name@example.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Telephone number, as written (`+1 (555) 010-2000`): digits, spaces and `+ - ( ) .`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl Contact {
    pub(crate) fn validate(&self, field: &str) -> Result<(), DomainError> {
        if let Some(name) = &self.name {
            check_name(&format!("{field}.name"), name)?;
        }
        if let Some(company) = &self.company {
            check_name(&format!("{field}.company"), company)?;
        }
        if let Some(email) = &self.email {
            // One `@` with something before it and a dotted domain after, no spaces: enough to
            // catch a phone number or a name typed in the wrong field, without pretending to
            // know which addresses deliver.
            let shaped = email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
            if !shaped || email.chars().any(char::is_whitespace) || email.len() > 254 {
                return Err(DomainError::invalid(
                    format!("{field}.email"),
                    format!("`{email}` is not an e-mail address (name@example.com)"),
                ));
            }
        }
        if let Some(phone) = &self.phone {
            let digits = phone.chars().filter(char::is_ascii_digit).count();
            let allowed = phone
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')' | '.'));
            if !allowed || !(3..=20).contains(&digits) || phone.len() > 32 {
                return Err(DomainError::invalid(
                    format!("{field}.phone"),
                    format!(
                        "`{phone}` is not a telephone number: 3 to 20 digits, with spaces and \
                         + - ( ) . allowed"
                    ),
                ));
            }
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

/// Stocked items per unit of `sku`: the item itself, or a bundle's components, exploded through
/// nested bundles and merged (what a sales line for it reserves and ships). `lookup` finds an
/// item's master data; an item it does not know counts as stocked.
pub fn stocked_components<'a>(
    lookup: &impl Fn(&Sku) -> Option<&'a Item>,
    sku: &Sku,
) -> Vec<(Sku, i64)> {
    crate::documents::sales_order::allocate::explode(lookup, sku)
}

/// The deepest nesting of bills of materials accepted: a kit of kits of kits, counted from the
/// item being defined down to a stocked component (`parent = 1 LEAF` is 1 level).
pub const BOM_DEPTH_MAX: usize = 12;

/// The most distinct items a bill of materials may reach through its nested components.
pub const BOM_REACH_MAX: usize = 500;

/// Checks a proposed bill of materials for `parent`: positive quantities, known components,
/// no duplicates, no cycle through the existing bills of materials, at most [`BOM_DEPTH_MAX`]
/// levels deep and at most [`BOM_REACH_MAX`] items reached.
///
/// One walk over the items reachable from the components, each visited once, so the check
/// costs time linear in the size of the tree however often its parts are shared (a bundle of
/// two bundles of the same two bundles ... has 2^n paths and 2n items).
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
    let mut walk = BomWalk {
        parent,
        lookup,
        depth: rustc_hash::FxHashMap::default(),
        path: vec![parent.clone()],
    };
    let mut deepest = 0;
    for component in &bom.components {
        deepest = deepest.max(walk.depth_below(&component.sku)?);
    }
    let levels = deepest + 1;
    if levels > BOM_DEPTH_MAX {
        return Err(DomainError::invalid(
            "components",
            format!(
                "the bill of materials nests {levels} levels deep; the limit is {BOM_DEPTH_MAX}"
            ),
        ));
    }
    Ok(())
}

/// A depth-first walk below a proposed bill of materials, remembering each item's depth.
struct BomWalk<'w, 'a, F: Fn(&Sku) -> Option<&'a Item>> {
    parent: &'w Sku,
    lookup: &'w F,
    /// Items already walked, with the levels of bills of materials below them (0: stocked).
    depth: rustc_hash::FxHashMap<Sku, usize>,
    /// The items from the parent to the current one.
    path: Vec<Sku>,
}

impl<'a, F: Fn(&Sku) -> Option<&'a Item>> BomWalk<'_, 'a, F> {
    /// The levels of bills of materials below `current`; an error if `current` leads back to
    /// the parent (a cycle) or the walk goes past the limits.
    fn depth_below(&mut self, current: &Sku) -> Result<usize, DomainError> {
        if let Some(known) = self.depth.get(current) {
            return Ok(*known);
        }
        self.path.push(current.clone());
        if current == self.parent {
            return Err(DomainError::BomCycle {
                path: self.path.clone(),
            });
        }
        // Bills already accepted are acyclic, so the path is bounded by the number of items;
        // these bounds also stop a log written before the limits from costing more.
        if self.path.len() > BOM_DEPTH_MAX + 1 {
            return Err(DomainError::invalid(
                "components",
                format!("the bill of materials nests more than {BOM_DEPTH_MAX} levels deep"),
            ));
        }
        if self.depth.len() >= BOM_REACH_MAX {
            return Err(DomainError::invalid(
                "components",
                format!("the bill of materials reaches more than {BOM_REACH_MAX} items"),
            ));
        }
        let mut below = 0;
        if let Some(Item { bom: Some(bom), .. }) = (self.lookup)(current) {
            for component in &bom.components {
                below = below.max(self.depth_below(&component.sku)? + 1);
            }
        }
        self.path.pop();
        self.depth.insert(current.clone(), below);
        Ok(below)
    }
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
    /// Orders it can pick, pack and ship in a day, when stated (for capacity plans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_orders_per_day: Option<i64>,
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

/// What a planner has set for one item's replenishment, at one center or at every center: the
/// inputs of the policy the replenishment planner computes, each one optional. A figure left
/// out is taken from the item's policy for every center, and then from the planner's own
/// settings, so a center's policy need only say how it differs.
///
/// The policy sets inputs, never the outputs: the safety stock, order-up-to level and order
/// quantity are still computed from them, so every proposal still explains itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct InventoryPolicy {
    /// The item.
    pub sku: Sku,
    /// The fulfillment center it holds at; every center when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<LocationId>,
    /// The service target the safety stock is set for, thousandths (1 to 999; 980 is 98 %).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_level_milli: Option<i64>,
    /// Whether `service_level_milli` is a fill rate (the share of demand met from stock)
    /// rather than a cycle service level (the chance a cycle has no stock-out).
    #[serde(default)]
    pub fill_rate: bool,
    /// Days between planning runs, the review period (1 to 365).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_period_days: Option<i64>,
    /// The fewest units one order line of the item may ask for (the larger of this and the
    /// supplier's applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_order_quantity: Option<i64>,
    /// Units in one case: orders are whole cases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_pack: Option<i64>,
    /// `false`: the planner proposes nothing for it (a discontinued item running down).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replenish: Option<bool>,
    /// Why the policy is what it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl InventoryPolicy {
    /// `self` with every figure it leaves out taken from `wider` (the item's policy for every
    /// center). The location and note stay `self`'s.
    #[must_use]
    pub fn over(&self, wider: &InventoryPolicy) -> InventoryPolicy {
        let (service_level_milli, fill_rate) = match self.service_level_milli {
            Some(level) => (Some(level), self.fill_rate),
            None => (wider.service_level_milli, wider.fill_rate),
        };
        InventoryPolicy {
            sku: self.sku.clone(),
            location: self.location.clone(),
            service_level_milli,
            fill_rate,
            review_period_days: self.review_period_days.or(wider.review_period_days),
            minimum_order_quantity: self.minimum_order_quantity.or(wider.minimum_order_quantity),
            case_pack: self.case_pack.or(wider.case_pack),
            replenish: self.replenish.or(wider.replenish),
            note: self.note.clone(),
        }
    }
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

    /// A diamond of bundles `levels` deep: `A1` and `B1` are each 1 `LEAF-A` + 1 `LEAF-B`, and
    /// `Ak` and `Bk` are each 1 `A(k-1)` + 1 `B(k-1)`. It has 2 + 2 × levels items but 2^levels
    /// paths from the top to a leaf.
    fn diamond(levels: usize) -> HashMap<Sku, Item> {
        let mut items = vec![item("LEAF-A", None), item("LEAF-B", None)];
        for level in 1..=levels {
            let below = |side: &str| {
                if level == 1 {
                    format!("LEAF-{side}")
                } else {
                    format!("{side}{}", level - 1)
                }
            };
            let (a, b) = (below("A"), below("B"));
            for side in ["A", "B"] {
                let mut bundle = item(&format!("{side}{level}"), Some(vec![(&a, 1), (&b, 1)]));
                if let Some(bom) = bundle.bom.as_mut() {
                    bom.kind = BomKind::Bundle;
                }
                items.push(bundle);
            }
        }
        items.into_iter().map(|i| (i.sku.clone(), i)).collect()
    }

    fn top_of(levels: usize) -> Bom {
        Bom {
            kind: BomKind::Bundle,
            components: ["A", "B"]
                .map(|side| BomComponent {
                    sku: sku(&format!("{side}{levels}")),
                    quantity: 1,
                })
                .to_vec(),
        }
    }

    #[test]
    fn a_shared_diamond_of_bundles_is_checked_and_exploded_in_linear_lookups() {
        // TOP = 1 A11 + 1 B11 nests 12 levels (the limit) and has 2^12 = 4,096 paths to a
        // leaf, over 2 + 2 × 11 = 24 items. Walking every path would look items up thousands
        // of times; visiting each item once looks up at most two per item (the components'
        // existence check, then the walk).
        let items = diamond(BOM_DEPTH_MAX - 1);
        let lookups = std::cell::Cell::new(0usize);
        let lookup = |s: &Sku| {
            lookups.set(lookups.get() + 1);
            items.get(s)
        };
        assert_eq!(
            check_bom(&sku("TOP"), &top_of(BOM_DEPTH_MAX - 1), &lookup),
            Ok(())
        );
        assert!(lookups.get() <= 2 * 24, "{} lookups", lookups.get());

        // Exploding A11 once per item: A1 holds 1 of each leaf, and each level doubles it, so
        // A11 holds 2^10 = 1,024 LEAF-A and 1,024 LEAF-B.
        lookups.set(0);
        let exploded = crate::documents::sales_order::explode(&lookup, &sku("A11"));
        assert_eq!(exploded, vec![(sku("LEAF-A"), 1024), (sku("LEAF-B"), 1024)]);
        assert!(lookups.get() <= 2 * 24, "{} lookups", lookups.get());
    }

    #[test]
    fn a_bundle_nested_deeper_than_the_limit_is_refused_with_its_depth() {
        // TOP = 1 A12 + 1 B12 would nest 13 levels; 27 levels (2^27 paths) as well, and it is
        // refused after a walk over its items, not its paths.
        for levels in [BOM_DEPTH_MAX, 26] {
            let items = diamond(levels);
            let lookup = |s: &Sku| items.get(s);
            let error = check_bom(&sku("TOP"), &top_of(levels), &lookup).unwrap_err();
            let DomainError::Invalid { field, reason } = &error else {
                panic!("{error:?}");
            };
            assert_eq!(field, "components");
            assert!(
                reason.contains("levels deep") && reason.contains("12"),
                "{reason}"
            );
        }
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

    fn address_at(latitude_microdegrees: i32, longitude_microdegrees: i32) -> Address {
        Address {
            recipient: None,
            lines: Vec::new(),
            city: String::new(),
            region: String::new(),
            postal_code: String::new(),
            country: "US".into(),
            time_zone: TimeZoneName::parse("UTC").unwrap(),
            coordinates: Some(Coordinates {
                latitude_microdegrees,
                longitude_microdegrees,
            }),
        }
    }

    #[test]
    fn coordinates_past_the_poles_or_the_date_line_are_refused_naming_the_field() {
        // The poles and the date line themselves are places.
        assert!(
            address_at(90_000_000, 180_000_000)
                .validate("ship_to")
                .is_ok()
        );
        assert!(
            address_at(-90_000_000, -180_000_000)
                .validate("ship_to")
                .is_ok()
        );
        let refused = |address: Address| match address.validate("ship_to") {
            Err(DomainError::Invalid { field, .. }) => field,
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert_eq!(
            refused(address_at(90_000_001, 0)),
            "ship_to.coordinates.latitude_microdegrees"
        );
        // i32::MIN has no positive counterpart: the check must not overflow on it.
        assert_eq!(
            refused(address_at(i32::MIN, 0)),
            "ship_to.coordinates.latitude_microdegrees"
        );
        assert_eq!(
            refused(address_at(0, -180_000_001)),
            "ship_to.coordinates.longitude_microdegrees"
        );
    }

    #[test]
    fn an_address_without_coordinates_reads_and_writes_as_before() {
        // An event stored before coordinates existed has no such key; it must read, and write
        // back byte for byte, so its hash does not move.
        let stored = r#"{"lines":[],"city":"Reno","region":"NV","postal_code":"89501","country":"US","time_zone":"America/Los_Angeles"}"#;
        let address: Address = serde_json::from_str(stored).unwrap();
        assert_eq!(address.coordinates, None);
        assert_eq!(serde_json::to_string(&address).unwrap(), stored);
        let placed = r#"{"lines":[],"city":"","region":"","postal_code":"","country":"US","time_zone":"UTC","coordinates":{"latitude_microdegrees":39529600,"longitude_microdegrees":-119813800}}"#;
        let address: Address = serde_json::from_str(placed).unwrap();
        assert_eq!(
            address.coordinates,
            Some(Coordinates {
                latitude_microdegrees: 39_529_600,
                longitude_microdegrees: -119_813_800
            })
        );
        assert_eq!(serde_json::to_string(&address).unwrap(), placed);
    }
}
