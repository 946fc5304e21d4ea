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
    /// One value of one dimension.
    pub fn of(dimension: Dimension, value: String) -> Self {
        Self::from_parts(Some(dimension), value)
    }

    /// Reads `all` or `dimension:value` (`channel:web`, `center:FC-EAST`, `carrier:ups/ground`),
    /// the form [`Slice`]'s `Display` writes. A dimension may be given by any name
    /// [`Dimension::parse`] knows; the value may not be empty.
    pub fn parse(text: &str) -> Result<Self, SliceError> {
        if text == "all" {
            return Ok(Self::All);
        }
        let invalid = || SliceError(text.to_string());
        let (dimension, value) = text.split_once(':').ok_or_else(invalid)?;
        if value.is_empty() {
            return Err(invalid());
        }
        let dimension = Dimension::parse(dimension).ok_or_else(invalid)?;
        Ok(Self::of(dimension, value.to_string()))
    }

    /// The slice's dimension (none for the whole tenant) and value (empty for the whole
    /// tenant).
    pub fn parts(&self) -> (Option<Dimension>, &str) {
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

    /// The dimension's name, as a slice is written (`channel:web`) and as `--by` and `?by=`
    /// take it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Channel => "channel",
            Self::Center => "center",
            Self::CarrierService => "carrier",
            Self::Supplier => "supplier",
            Self::Sku => "sku",
            Self::Category => "category",
            Self::Region => "region",
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

/// Text that is not `all` or `dimension:value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceError(pub String);

impl std::fmt::Display for SliceError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "`{}`: expected all or dimension:value, e.g. channel:web (dimensions: {})",
            self.0,
            Dimension::ALL.map(Dimension::name).join(", ")
        )
    }
}

impl std::error::Error for SliceError {}

impl std::fmt::Display for Slice {
    /// `all`, or `dimension:value`, which [`Slice::parse`] reads back.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.parts() {
            (None, _) => formatter.write_str("all"),
            (Some(dimension), value) => write!(formatter, "{}:{value}", dimension.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slice_reads_back_from_what_it_writes_and_bad_text_is_refused() {
        let cases = [
            ("all", Slice::All),
            ("channel:web", Slice::Channel("web".into())),
            ("center:FC-EAST", Slice::Center("FC-EAST".into())),
            // A carrier service names carrier and service with a slash; a value may hold a colon.
            (
                "carrier:ups/ground",
                Slice::CarrierService("ups/ground".into()),
            ),
            ("sku:MUG:BLUE", Slice::Sku("MUG:BLUE".into())),
            ("region:CA", Slice::Region("CA".into())),
        ];
        for (text, slice) in cases {
            assert_eq!(Slice::parse(text), Ok(slice.clone()), "{text}");
            assert_eq!(slice.to_string(), text);
        }
        // Other names of a dimension are read; the canonical one is written.
        assert_eq!(
            Slice::parse("fc:FC-EAST").map(|slice| slice.to_string()),
            Ok("center:FC-EAST".to_string())
        );
        for bad in ["", "All", "channel", "channel:", "planet:mars", ":web"] {
            let error = Slice::parse(bad).unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains("expected all or dimension:value"),
                "{bad}"
            );
        }
    }
}
