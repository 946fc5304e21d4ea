//! What the fold's figures are cut by: a [`Slice`] is the whole tenant or one value of one
//! [`Dimension`] (channel, center, carrier service, supplier, SKU, category, ship-to region).

use serde::{Deserialize, Serialize};

/// A slice of the tenant's figures: the whole, or one value of one dimension.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "dimension", content = "value", rename_all = "snake_case")]
pub enum Slice {
    /// Everything.
    All,
    /// A sales channel.
    Channel(String),
    /// A fulfillment center.
    Center(String),
    /// A carrier and service, `carrier/service`.
    CarrierService(String),
    /// A supplier.
    Supplier(String),
    /// An item.
    Sku(String),
    /// An item category.
    Category(String),
    /// A ship-to region.
    Region(String),
}

impl Slice {
    /// The slice's dimension (none for the whole tenant) and value.
    fn parts(&self) -> (Option<Dimension>, &str) {
        match self {
            Self::All => (None, ""),
            Self::Channel(value) => (Some(Dimension::Channel), value),
            Self::Center(value) => (Some(Dimension::Center), value),
            Self::CarrierService(value) => (Some(Dimension::CarrierService), value),
            Self::Supplier(value) => (Some(Dimension::Supplier), value),
            Self::Sku(value) => (Some(Dimension::Sku), value),
            Self::Category(value) => (Some(Dimension::Category), value),
            Self::Region(value) => (Some(Dimension::Region), value),
        }
    }

    /// The slice of `dimension` (the whole tenant when none) and `value`.
    fn from_parts(dimension: Option<Dimension>, value: String) -> Self {
        match dimension {
            None => Self::All,
            Some(Dimension::Channel) => Self::Channel(value),
            Some(Dimension::Center) => Self::Center(value),
            Some(Dimension::CarrierService) => Self::CarrierService(value),
            Some(Dimension::Supplier) => Self::Supplier(value),
            Some(Dimension::Sku) => Self::Sku(value),
            Some(Dimension::Category) => Self::Category(value),
            Some(Dimension::Region) => Self::Region(value),
        }
    }
}

/// A list of slices in a snapshot, each as a `(dimension, value)` pair: the adjacently tagged
/// form the API shows cannot be read back by position (the whole tenant has no value), and a
/// pair is shorter. Use as `#[serde(with = "crate::fold::slice::pairs")]`.
pub(crate) mod pairs {
    use super::{Dimension, Slice};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        slices: &[Slice],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(slices.iter().map(Slice::parts))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Slice>, D::Error> {
        let pairs: Vec<(Option<Dimension>, String)> = Vec::deserialize(deserializer)?;
        Ok(pairs
            .into_iter()
            .map(|(dimension, value)| Slice::from_parts(dimension, value))
            .collect())
    }
}

/// A dimension to slice by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Sales channel.
    Channel,
    /// Fulfillment center.
    Center,
    /// Carrier and service.
    CarrierService,
    /// Supplier.
    Supplier,
    /// Item.
    Sku,
    /// Item category.
    Category,
    /// Ship-to region.
    Region,
}

impl Dimension {
    /// Every dimension.
    pub const ALL: [Self; 7] = [
        Self::Channel,
        Self::Center,
        Self::CarrierService,
        Self::Supplier,
        Self::Sku,
        Self::Category,
        Self::Region,
    ];

    /// Parses `channel`, `center` (or `fc`), `carrier` (or `carrier_service`), `supplier`,
    /// `sku`, `category`, `region`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "channel" => Some(Self::Channel),
            "center" | "fc" | "fulfillment_center" => Some(Self::Center),
            "carrier" | "carrier_service" => Some(Self::CarrierService),
            "supplier" => Some(Self::Supplier),
            "sku" | "item" => Some(Self::Sku),
            "category" => Some(Self::Category),
            "region" | "ship_to_region" => Some(Self::Region),
            _ => None,
        }
    }

    /// Whether a slice belongs to this dimension.
    pub fn owns(self, slice: &Slice) -> bool {
        matches!(
            (self, slice),
            (Self::Channel, Slice::Channel(_))
                | (Self::Center, Slice::Center(_))
                | (Self::CarrierService, Slice::CarrierService(_))
                | (Self::Supplier, Slice::Supplier(_))
                | (Self::Sku, Slice::Sku(_))
                | (Self::Category, Slice::Category(_))
                | (Self::Region, Slice::Region(_))
        )
    }
}
