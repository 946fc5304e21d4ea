//! Transport emissions (SCOR-METRICS §8, ISO 14083 / GLEC default-data method).
//!
//! Principal pieces:
//! - [`EmissionFactorSet`]: a named, versioned set of factors of one scope (tank-to-wheel or
//!   well-to-wheel), each an exact integer number of milligrams of CO₂e per tonne-kilometre;
//!   [`DEFRA_2025`] is the UK Government 2025 "Freighting goods" set, built in;
//! - [`TransportLeg`] → [`leg_emissions`]: `E = m [t] × d [km] × EF [g/t·km]`, exactly;
//! - [`shipment_emissions`]: the sum of a shipment's legs and its intensity per tonne-km;
//!   [`shipment_emissions_by_mode`] does the same for a single leg whose factor is chosen from a
//!   carrier service's [`TransportMode`] and the leg's distance band with [`factor_key`];
//! - [`total_emissions`]: a period's total, mean per shipment and intensity over shipments.
//!
//! Every computed figure carries its [`FactorSetLabel`] (name, version, scope) and whether air
//! legs include radiative forcing, and figures of different sets, scopes or radiative-forcing
//! treatments are never added together (§8.3: "never mix them in one total").
//!
//! Exactness: mass is in grams, distance in metres and factors in milligrams per tonne-km, so a
//! leg is `grams × metres × mg/t·km / 10¹²` grams — an exact ratio with denominator 10¹². Nothing
//! is rounded; [`MetricValue::describe`] shows grams to two decimals and
//! [`ShipmentEmissions::total_milligrams_rounded`] gives whole milligrams, half to even, for
//! storage.

use std::borrow::Cow;
use std::fmt;

use flowline_core::master::TransportMode;
use serde::{Deserialize, Serialize};

use crate::value::{MetricValue, Ratio, Unit};

/// Grams × metres × (mg / t·km) per gram of CO₂e: 10⁶ g/t × 10³ m/km × 10³ mg/g.
const EMISSIONS_DENOMINATOR: i128 = 1_000_000_000_000;

/// Grams × metres per tonne-kilometre.
const GRAM_METRES_PER_TONNE_KILOMETRE: i128 = 1_000_000_000;

/// Milligrams per gram: intensity is shown in grams per tonne-km.
const MILLIGRAMS_PER_GRAM: i128 = 1_000;

/// What part of a fuel's life a factor covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmissionScope {
    /// Tank-to-wheel: the vehicle's own (direct) emissions.
    TankToWheel,
    /// Well-to-wheel: tank-to-wheel plus fuel production and distribution (ISO 14083's basis).
    WellToWheel,
}

impl EmissionScope {
    /// The short name used in reports ("TTW", "WTW").
    pub fn short_name(self) -> &'static str {
        match self {
            Self::TankToWheel => "TTW",
            Self::WellToWheel => "WTW",
        }
    }
}

/// Whether a factor includes the radiative forcing of emissions at altitude.
///
/// It belongs to each factor, not to the set, because DESNZ/Defra publish air freight with
/// and without it side by side in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RadiativeForcing {
    /// Not an air factor.
    NotApplicable,
    /// Air, without radiative forcing.
    Excluded,
    /// Air, with radiative forcing (about 1.7 × the CO₂ component).
    Included,
}

/// One factor of a set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmissionFactor {
    /// The mode/vehicle key legs name (see [`factor_keys`]).
    pub key: Cow<'static, str>,
    /// What it covers, as SCOR-METRICS §8.3 names the row of the published table.
    pub description: Cow<'static, str>,
    /// Milligrams of CO₂e per tonne-kilometre (101.63 g = 101,630 mg).
    pub milligrams_per_tonne_kilometre: i64,
    /// Whether it includes radiative forcing.
    pub radiative_forcing: RadiativeForcing,
}

/// A named, versioned set of emission factors of one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmissionFactorSet {
    /// The publisher's name for the set.
    pub name: Cow<'static, str>,
    /// Its version or edition.
    pub version: Cow<'static, str>,
    /// The scope of every factor in it.
    pub scope: EmissionScope,
    /// The factors; keys are unique.
    pub factors: Cow<'static, [EmissionFactor]>,
}

impl EmissionFactorSet {
    /// The factor for `key`, if the set has one.
    pub fn factor(&self, key: &str) -> Option<&EmissionFactor> {
        self.factors.iter().find(|factor| factor.key == key)
    }

    /// The label every figure computed with this set carries.
    pub fn label(&self) -> FactorSetLabel {
        FactorSetLabel {
            name: self.name.to_string(),
            version: self.version.to_string(),
            scope: self.scope,
        }
    }
}

/// Name, version and scope of the factor set behind a figure.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FactorSetLabel {
    /// Set name.
    pub name: String,
    /// Set version.
    pub version: String,
    /// Scope.
    pub scope: EmissionScope,
}

impl fmt::Display for FactorSetLabel {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{} {}, {}",
            self.name,
            self.version,
            self.scope.short_name()
        )
    }
}

/// Keys of the built-in factors, and of the defaults per transport mode.
pub mod factor_keys {
    /// Van, average (up to 3.5 t), diesel.
    pub const VAN_AVERAGE_DIESEL: &str = "van_average_diesel";
    /// Van, average (up to 3.5 t), battery electric.
    pub const VAN_AVERAGE_BATTERY_ELECTRIC: &str = "van_average_battery_electric";
    /// HGV (heavy goods vehicle), rigid, 3.5–7.5 t, diesel, average laden.
    pub const HGV_RIGID_3_5_TO_7_5_TONNES_DIESEL: &str = "hgv_rigid_3_5_to_7_5_tonnes_diesel";
    /// HGV, articulated, over 33 t, diesel, average laden.
    pub const HGV_ARTICULATED_OVER_33_TONNES_DIESEL: &str = "hgv_articulated_over_33_tonnes_diesel";
    /// HGV, all, diesel, average laden.
    pub const HGV_ALL_DIESEL: &str = "hgv_all_diesel";
    /// HGV, all, refrigerated, diesel, average laden.
    pub const HGV_ALL_REFRIGERATED_DIESEL: &str = "hgv_all_refrigerated_diesel";
    /// Freight train.
    pub const RAIL_FREIGHT: &str = "rail_freight";
    /// Container ship, average.
    pub const CONTAINER_SHIP_AVERAGE: &str = "container_ship_average";
    /// General cargo ship, average.
    pub const GENERAL_CARGO_SHIP_AVERAGE: &str = "general_cargo_ship_average";
    /// Air freight, long-haul, without radiative forcing.
    pub const AIR_LONG_HAUL_WITHOUT_RADIATIVE_FORCING: &str =
        "air_long_haul_without_radiative_forcing";
    /// Air freight, long-haul, with radiative forcing.
    pub const AIR_LONG_HAUL_WITH_RADIATIVE_FORCING: &str = "air_long_haul_with_radiative_forcing";
    /// Air freight, short-haul, without radiative forcing.
    pub const AIR_SHORT_HAUL_WITHOUT_RADIATIVE_FORCING: &str =
        "air_short_haul_without_radiative_forcing";
    /// Air freight, short-haul, with radiative forcing.
    pub const AIR_SHORT_HAUL_WITH_RADIATIVE_FORCING: &str = "air_short_haul_with_radiative_forcing";
    /// Air freight, domestic (UK), without radiative forcing.
    pub const AIR_DOMESTIC_WITHOUT_RADIATIVE_FORCING: &str =
        "air_domestic_without_radiative_forcing";
    /// Air freight, domestic (UK), with radiative forcing.
    pub const AIR_DOMESTIC_WITH_RADIATIVE_FORCING: &str = "air_domestic_with_radiative_forcing";
}

const fn factor(
    key: &'static str,
    description: &'static str,
    milligrams_per_tonne_kilometre: i64,
    radiative_forcing: RadiativeForcing,
) -> EmissionFactor {
    EmissionFactor {
        key: Cow::Borrowed(key),
        description: Cow::Borrowed(description),
        milligrams_per_tonne_kilometre,
        radiative_forcing,
    }
}

/// The DESNZ/Defra 2025 "Freighting goods" tonne-km factors (SCOR-METRICS §8.3).
///
/// Defra publishes kg CO₂e per tonne-km to five decimals, i.e. to the 10 mg, so the file's
/// values are exact here. §8.3's table shows them rounded to 0.1 g; where the five-decimal
/// value is known it is used instead:
/// - HGV all diesel 101.63 g and diesel van 631.30 g are the values worked example E-1 uses
///   (§8.4), and long-haul air 531.30 g without and 899.39 g with radiative forcing are the
///   values E-1's 5,313.0 g and 8,993.9 g imply (the table's 899.4 would give 8,994.0 g);
/// - rail 27.79 g, container ship 16.12 g and short-haul air with radiative forcing
///   1,278.35 g are the 2025 file values as quoted (0.02779, 0.01612, 1.27835 kg) in a public
///   compilation of DESNZ 2025 factors, and agree with the table's 27.8, 16.1 and 1,278.4;
/// - the rest are the table's one-decimal values (a multiple of 100 mg here) until checked
///   against the file.
pub const DEFRA_2025_FACTORS: [EmissionFactor; 15] = [
    factor(
        factor_keys::VAN_AVERAGE_DIESEL,
        "Van, average (up to 3.5 t), diesel",
        631_300,
        RadiativeForcing::NotApplicable,
    ),
    factor(
        factor_keys::VAN_AVERAGE_BATTERY_ELECTRIC,
        "Van, average (up to 3.5 t), battery electric",
        219_900,
        RadiativeForcing::NotApplicable,
    ),
    factor(
        factor_keys::HGV_RIGID_3_5_TO_7_5_TONNES_DIESEL,
        "HGV rigid 3.5–7.5 t, diesel, average laden",
        527_600,
        RadiativeForcing::NotApplicable,
    ),
    factor(
        factor_keys::HGV_ARTICULATED_OVER_33_TONNES_DIESEL,
        "HGV articulated over 33 t, diesel, average laden",
        77_000,
        RadiativeForcing::NotApplicable,
    ),
    factor(
        factor_keys::HGV_ALL_DIESEL,
        "HGV all, diesel, average laden",
        101_630,
        RadiativeForcing::NotApplicable,
    ),
    factor(
        factor_keys::HGV_ALL_REFRIGERATED_DIESEL,
        "HGV all, refrigerated, average laden",
        118_900,
        RadiativeForcing::NotApplicable,
    ),
    factor(
        factor_keys::RAIL_FREIGHT,
        "Rail freight",
        27_790,
        RadiativeForcing::NotApplicable,
    ),
    factor(
        factor_keys::CONTAINER_SHIP_AVERAGE,
        "Container ship, average",
        16_120,
        RadiativeForcing::NotApplicable,
    ),
    factor(
        factor_keys::GENERAL_CARGO_SHIP_AVERAGE,
        "General cargo ship, average",
        13_200,
        RadiativeForcing::NotApplicable,
    ),
    factor(
        factor_keys::AIR_LONG_HAUL_WITHOUT_RADIATIVE_FORCING,
        "Air freight, long-haul, without radiative forcing",
        531_300,
        RadiativeForcing::Excluded,
    ),
    factor(
        factor_keys::AIR_LONG_HAUL_WITH_RADIATIVE_FORCING,
        "Air freight, long-haul, with radiative forcing",
        899_390,
        RadiativeForcing::Included,
    ),
    factor(
        factor_keys::AIR_SHORT_HAUL_WITHOUT_RADIATIVE_FORCING,
        "Air freight, short-haul, without radiative forcing",
        755_400,
        RadiativeForcing::Excluded,
    ),
    factor(
        factor_keys::AIR_SHORT_HAUL_WITH_RADIATIVE_FORCING,
        "Air freight, short-haul, with radiative forcing",
        1_278_350,
        RadiativeForcing::Included,
    ),
    factor(
        factor_keys::AIR_DOMESTIC_WITHOUT_RADIATIVE_FORCING,
        "Air freight, domestic (UK), without radiative forcing",
        2_719_300,
        RadiativeForcing::Excluded,
    ),
    factor(
        factor_keys::AIR_DOMESTIC_WITH_RADIATIVE_FORCING,
        "Air freight, domestic (UK), with radiative forcing",
        4_604_000,
        RadiativeForcing::Included,
    ),
];

/// The built-in DESNZ/Defra 2025 set: direct (tank-to-wheel) factors. Add Defra's separate
/// well-to-tank table for an ISO 14083 well-to-wheel figure.
pub const DEFRA_2025: EmissionFactorSet = EmissionFactorSet {
    name: Cow::Borrowed("DESNZ/Defra GHG conversion factors"),
    version: Cow::Borrowed("2025"),
    scope: EmissionScope::TankToWheel,
    factors: Cow::Borrowed(&DEFRA_2025_FACTORS),
};

/// Air legs shorter than this, great-circle, take Defra's domestic factor [Flowline rule].
///
/// Defra bands air freight by route: domestic (within the UK, routes under about 1,000 km),
/// short-haul (to and from the UK, up to 3,700 km) and long-haul (beyond). Flowline applies the
/// bands by distance wherever the flight is, because what the bands measure is the weight of
/// take-off and climb in a flight's fuel, which depends on its length, not its country.
pub const AIR_DOMESTIC_BAND_MAX_METRES: i64 = 1_000_000;

/// Air legs shorter than this, and at least [`AIR_DOMESTIC_BAND_MAX_METRES`], take Defra's
/// short-haul factor; longer ones its long-haul factor (Defra's own 3,700 km boundary).
pub const AIR_SHORT_HAUL_BAND_MAX_METRES: i64 = 3_700_000;

/// The factor a shipment of a carrier service of `mode` over `distance_metres` is computed with
/// when nothing better is known (SCOR-METRICS §8.2: better data first).
///
/// - Road → diesel van, at any distance: Flowline ships parcels, and a parcel's road leg is a
///   van route (§8.3 calls it the "last-mile / parcel van default"); a line-haul HGV leg is only
///   known when the carrier reports the chain, and then it is given as its own leg.
/// - Air → by distance band, without radiative forcing (the conservative headline; the figure
///   with it uses the `_with_radiative_forcing` keys and is shown beside it): domestic under
///   [`AIR_DOMESTIC_BAND_MAX_METRES`], short-haul under [`AIR_SHORT_HAUL_BAND_MAX_METRES`],
///   long-haul beyond. Both shorter bands are dearer per tonne-km than the van (2,719.3 and
///   755.4 g against 631.3 g), so an air parcel within 3,700 km never comes out cheaper than
///   the same parcel by road; only long-haul air (531.3 g) is, over distances no parcel van
///   drives.
/// - Rail → freight train; Sea → container ship, average, at any distance.
pub fn factor_key(mode: TransportMode, distance_metres: i64) -> &'static str {
    match mode {
        TransportMode::Road => factor_keys::VAN_AVERAGE_DIESEL,
        TransportMode::Air if distance_metres < AIR_DOMESTIC_BAND_MAX_METRES => {
            factor_keys::AIR_DOMESTIC_WITHOUT_RADIATIVE_FORCING
        }
        TransportMode::Air if distance_metres < AIR_SHORT_HAUL_BAND_MAX_METRES => {
            factor_keys::AIR_SHORT_HAUL_WITHOUT_RADIATIVE_FORCING
        }
        TransportMode::Air => factor_keys::AIR_LONG_HAUL_WITHOUT_RADIATIVE_FORCING,
        TransportMode::Rail => factor_keys::RAIL_FREIGHT,
        TransportMode::Sea => factor_keys::CONTAINER_SHIP_AVERAGE,
    }
}

/// One transport chain element on one vehicle/mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransportLeg {
    /// The factor key ([`factor_keys`]).
    pub factor_key: String,
    /// Actual gross mass carried, packaging included, in grams.
    pub mass_grams: i64,
    /// Distance in metres (road: shortest feasible; air: great-circle plus the recorded
    /// adjustment; sea: port to port).
    pub distance_metres: i64,
}

/// One leg's emissions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegEmissions {
    /// The factor key used.
    pub factor_key: String,
    /// The factor, milligrams CO₂e per tonne-km.
    pub milligrams_per_tonne_kilometre: i64,
    /// Whether the factor includes radiative forcing.
    pub radiative_forcing: RadiativeForcing,
    /// Mass × distance, gram-metres (10⁹ per tonne-km).
    pub gram_metres: i128,
    /// CO₂e in grams (`env.ghg_per_leg`), an exact ratio over 10¹²; population 1.
    pub emissions: MetricValue,
}

/// A shipment's emissions: the sum of its legs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentEmissions {
    /// The factor set.
    pub factor_set: FactorSetLabel,
    /// Included if any air leg includes radiative forcing, Excluded if any excludes it,
    /// NotApplicable without air legs (a shipment never mixes the two).
    pub radiative_forcing: RadiativeForcing,
    /// The legs, in order.
    pub legs: Vec<LegEmissions>,
    /// CO₂e in grams (`env.ghg_per_shipment`); population = legs. No legs is no data.
    pub total: MetricValue,
    /// Grams CO₂e per tonne-km (`env.ghg_per_tonne_km`): Σ emissions / Σ mass × distance.
    pub intensity: MetricValue,
}

impl ShipmentEmissions {
    /// The total in whole milligrams, half to even; `None` for no data.
    pub fn total_milligrams_rounded(&self) -> Option<i128> {
        let ratio = self.total.ratio;
        round_half_even(ratio.numerator * MILLIGRAMS_PER_GRAM, ratio.denominator)
    }
}

/// Emissions over many shipments computed with one set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmissionsSummary {
    /// The factor set.
    pub factor_set: FactorSetLabel,
    /// As for [`ShipmentEmissions::radiative_forcing`].
    pub radiative_forcing: RadiativeForcing,
    /// Total CO₂e in grams (`env.ghg_emissions`); population = shipments.
    pub total: MetricValue,
    /// Mean grams CO₂e per shipment (`env.ghg_per_shipment`).
    pub per_shipment: MetricValue,
    /// Grams CO₂e per tonne-km over all legs (`env.ghg_per_tonne_km`).
    pub intensity: MetricValue,
}

/// Why emissions could not be computed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmissionsError {
    /// The set has no factor for the leg's key.
    UnknownFactor {
        /// The key.
        key: String,
        /// The set searched.
        factor_set: FactorSetLabel,
    },
    /// A factor is negative.
    NegativeFactor {
        /// The key.
        key: String,
    },
    /// A leg's mass or distance is negative.
    NegativeLeg {
        /// The leg's factor key.
        key: String,
        /// "mass_grams" or "distance_metres".
        field: &'static str,
        /// The value given.
        value: i64,
    },
    /// One total would mix air legs with and without radiative forcing.
    MixedRadiativeForcing,
    /// One total would mix figures of different factor sets, versions or scopes.
    MixedFactorSets {
        /// The first set.
        first: FactorSetLabel,
        /// The other set.
        other: FactorSetLabel,
    },
    /// A figure does not fit in 128 bits.
    Overflow,
}

impl fmt::Display for EmissionsError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownFactor { key, factor_set } => {
                write!(formatter, "no emission factor {key:?} in {factor_set}")
            }
            Self::NegativeFactor { key } => {
                write!(formatter, "emission factor {key:?} is negative")
            }
            Self::NegativeLeg { key, field, value } => {
                write!(formatter, "leg {key:?}: {field} = {value} is negative")
            }
            Self::MixedRadiativeForcing => write!(
                formatter,
                "air legs with and without radiative forcing cannot be added together"
            ),
            Self::MixedFactorSets { first, other } => write!(
                formatter,
                "figures of {first} and {other} cannot be added together"
            ),
            Self::Overflow => write!(formatter, "emissions do not fit in 128 bits"),
        }
    }
}

impl std::error::Error for EmissionsError {}

/// One leg: `E [g] = m [t] × d [km] × EF [g/t·km]`, exactly.
pub fn leg_emissions(
    set: &EmissionFactorSet,
    leg: &TransportLeg,
) -> Result<LegEmissions, EmissionsError> {
    let factor = set
        .factor(&leg.factor_key)
        .ok_or_else(|| EmissionsError::UnknownFactor {
            key: leg.factor_key.clone(),
            factor_set: set.label(),
        })?;
    if factor.milligrams_per_tonne_kilometre < 0 {
        return Err(EmissionsError::NegativeFactor {
            key: leg.factor_key.clone(),
        });
    }
    for (field, value) in [
        ("mass_grams", leg.mass_grams),
        ("distance_metres", leg.distance_metres),
    ] {
        if value < 0 {
            return Err(EmissionsError::NegativeLeg {
                key: leg.factor_key.clone(),
                field,
                value,
            });
        }
    }
    // Two i64 factors always fit in i128; the third may not.
    let gram_metres = i128::from(leg.mass_grams) * i128::from(leg.distance_metres);
    let numerator = gram_metres
        .checked_mul(i128::from(factor.milligrams_per_tonne_kilometre))
        .ok_or(EmissionsError::Overflow)?;
    Ok(LegEmissions {
        factor_key: leg.factor_key.clone(),
        milligrams_per_tonne_kilometre: factor.milligrams_per_tonne_kilometre,
        radiative_forcing: factor.radiative_forcing,
        gram_metres,
        emissions: MetricValue::new(
            "env.ghg_per_leg",
            Ratio::new(numerator, EMISSIONS_DENOMINATOR),
            Unit::Grams,
            1,
        ),
    })
}

/// A shipment's transport chain: the sum of its legs and its intensity per tonne-km.
pub fn shipment_emissions(
    set: &EmissionFactorSet,
    legs: &[TransportLeg],
) -> Result<ShipmentEmissions, EmissionsError> {
    let legs = legs
        .iter()
        .map(|leg| leg_emissions(set, leg))
        .collect::<Result<Vec<_>, _>>()?;
    let radiative_forcing = combined_radiative_forcing(
        legs.iter()
            .map(|leg| leg.radiative_forcing)
            .collect::<Vec<_>>()
            .as_slice(),
    )?;
    let mut emissions: i128 = 0;
    let mut gram_metres: i128 = 0;
    for leg in &legs {
        emissions = emissions
            .checked_add(leg.emissions.ratio.numerator)
            .ok_or(EmissionsError::Overflow)?;
        gram_metres = gram_metres
            .checked_add(leg.gram_metres)
            .ok_or(EmissionsError::Overflow)?;
    }
    let population = count(legs.len());
    let total_denominator = if legs.is_empty() {
        0
    } else {
        EMISSIONS_DENOMINATOR
    };
    Ok(ShipmentEmissions {
        factor_set: set.label(),
        radiative_forcing,
        total: MetricValue::new(
            "env.ghg_per_shipment",
            Ratio::new(emissions, total_denominator),
            Unit::Grams,
            population,
        ),
        intensity: intensity(emissions, gram_metres, population)?,
        legs,
    })
}

/// A shipment sent by one carrier service: one leg of `distance_metres` with the factor of the
/// service's mode and the distance's band ([`factor_key`]).
pub fn shipment_emissions_by_mode(
    set: &EmissionFactorSet,
    mode: TransportMode,
    gross_mass_grams: i64,
    distance_metres: i64,
) -> Result<ShipmentEmissions, EmissionsError> {
    shipment_emissions(
        set,
        &[TransportLeg {
            factor_key: factor_key(mode, distance_metres).to_string(),
            mass_grams: gross_mass_grams,
            distance_metres,
        }],
    )
}

/// A period's emissions over shipments: total, mean per shipment and intensity per tonne-km.
/// Refuses shipments of different factor sets or radiative-forcing treatments. No shipments is
/// no data, labelled with `set`.
pub fn total_emissions(
    set: &EmissionFactorSet,
    shipments: &[ShipmentEmissions],
) -> Result<EmissionsSummary, EmissionsError> {
    let label = set.label();
    let mut emissions: i128 = 0;
    let mut gram_metres: i128 = 0;
    let mut treatments = Vec::with_capacity(shipments.len());
    for shipment in shipments {
        if shipment.factor_set != label {
            return Err(EmissionsError::MixedFactorSets {
                first: label,
                other: shipment.factor_set.clone(),
            });
        }
        treatments.push(shipment.radiative_forcing);
        for leg in &shipment.legs {
            emissions = emissions
                .checked_add(leg.emissions.ratio.numerator)
                .ok_or(EmissionsError::Overflow)?;
            gram_metres = gram_metres
                .checked_add(leg.gram_metres)
                .ok_or(EmissionsError::Overflow)?;
        }
    }
    let radiative_forcing = combined_radiative_forcing(&treatments)?;
    let population = count(shipments.len());
    let shipments_count = i128::from(population);
    let (total_denominator, per_shipment_denominator) = if shipments.is_empty() {
        (0, 0)
    } else {
        (
            EMISSIONS_DENOMINATOR,
            EMISSIONS_DENOMINATOR
                .checked_mul(shipments_count)
                .ok_or(EmissionsError::Overflow)?,
        )
    };
    Ok(EmissionsSummary {
        factor_set: label,
        radiative_forcing,
        total: MetricValue::new(
            "env.ghg_emissions",
            Ratio::new(emissions, total_denominator),
            Unit::Grams,
            population,
        ),
        per_shipment: MetricValue::new(
            "env.ghg_per_shipment",
            Ratio::new(emissions, per_shipment_denominator),
            Unit::Grams,
            population,
        ),
        intensity: intensity(emissions, gram_metres, population)?,
    })
}

/// Grams per tonne-km: (Σ g·m·mg/t·km / 10¹²) / (Σ g·m / 10⁹) = Σ … / (Σ g·m × 10³).
fn intensity(
    emissions: i128,
    gram_metres: i128,
    population: u64,
) -> Result<MetricValue, EmissionsError> {
    let denominator = gram_metres
        .checked_mul(EMISSIONS_DENOMINATOR / GRAM_METRES_PER_TONNE_KILOMETRE)
        .ok_or(EmissionsError::Overflow)?;
    Ok(MetricValue::new(
        "env.ghg_per_tonne_km",
        Ratio::new(emissions, denominator),
        Unit::Number,
        population,
    ))
}

fn combined_radiative_forcing(
    treatments: &[RadiativeForcing],
) -> Result<RadiativeForcing, EmissionsError> {
    let included = treatments.contains(&RadiativeForcing::Included);
    let excluded = treatments.contains(&RadiativeForcing::Excluded);
    match (included, excluded) {
        (true, true) => Err(EmissionsError::MixedRadiativeForcing),
        (true, false) => Ok(RadiativeForcing::Included),
        (false, true) => Ok(RadiativeForcing::Excluded),
        (false, false) => Ok(RadiativeForcing::NotApplicable),
    }
}

/// `numerator / denominator` rounded to the nearest integer, half to even; `None` when the
/// denominator is zero. The denominator is never negative ([`Ratio::new`]).
pub(crate) fn round_half_even(numerator: i128, denominator: i128) -> Option<i128> {
    if denominator <= 0 {
        return None;
    }
    let quotient = numerator.div_euclid(denominator);
    let twice_remainder = numerator.rem_euclid(denominator) * 2;
    let rounded = match twice_remainder.cmp(&denominator) {
        std::cmp::Ordering::Less => quotient,
        std::cmp::Ordering::Greater => quotient + 1,
        std::cmp::Ordering::Equal if quotient % 2 == 0 => quotient,
        std::cmp::Ordering::Equal => quotient + 1,
    };
    Some(rounded)
}

/// A slice length as a population count; lengths always fit in u64 on supported targets.
fn count(length: usize) -> u64 {
    u64::try_from(length).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(key: &str, mass_grams: i64, distance_metres: i64) -> TransportLeg {
        TransportLeg {
            factor_key: key.to_string(),
            mass_grams,
            distance_metres,
        }
    }

    /// A ratio in hundredths (grams to 2 decimals), half to even, as §2.2 displays it.
    fn hundredths(ratio: Ratio) -> i128 {
        round_half_even(ratio.numerator * 100, ratio.denominator).unwrap()
    }

    /// A ratio in tenths, half to even.
    fn tenths(ratio: Ratio) -> i128 {
        round_half_even(ratio.numerator * 10, ratio.denominator).unwrap()
    }

    #[test]
    fn worked_example_e1_parcel_by_hgv_then_van() {
        // A 2.0 kg parcel: 300 km by average HGV (101.63 g/t·km), then 40 km by diesel van
        // (631.30 g/t·km), Defra 2025, TTW.
        // line-haul: 0.002 t × 300 km × 101.63 = 60.978 g
        //   = 2,000 g × 300,000 m × 101,630 mg / 10¹² = 60,978,000,000,000 / 10¹²
        // last mile: 0.002 t × 40 km × 631.30 = 50.504 g
        //   = 2,000 g × 40,000 m × 631,300 mg / 10¹² = 50,504,000,000,000 / 10¹²
        // total: 111.482 g (111,482 mg exactly) → 111.48 g shown
        // intensity: 111.482 g / (0.002 t × 340 km = 0.68 t·km) = 163.944… g/t·km → 163.9
        let shipment = shipment_emissions(
            &DEFRA_2025,
            &[
                leg(factor_keys::HGV_ALL_DIESEL, 2_000, 300_000),
                leg(factor_keys::VAN_AVERAGE_DIESEL, 2_000, 40_000),
            ],
        )
        .unwrap();
        assert_eq!(
            shipment.legs[0].emissions.ratio,
            Ratio::new(60_978_000_000_000, EMISSIONS_DENOMINATOR)
        );
        assert_eq!(hundredths(shipment.legs[0].emissions.ratio), 6_098);
        assert_eq!(
            shipment.legs[1].emissions.ratio,
            Ratio::new(50_504_000_000_000, EMISSIONS_DENOMINATOR)
        );
        assert_eq!(hundredths(shipment.legs[1].emissions.ratio), 5_050);
        assert_eq!(
            shipment.total.ratio,
            Ratio::new(111_482_000_000_000, EMISSIONS_DENOMINATOR)
        );
        assert_eq!(hundredths(shipment.total.ratio), 11_148);
        assert_eq!(shipment.total_milligrams_rounded(), Some(111_482));
        assert_eq!(shipment.total.describe("USD"), "111.48 g (n = 2)");
        // Σ gram-metres = 2,000 × 300,000 + 2,000 × 40,000 = 680,000,000 (0.68 t·km).
        assert_eq!(
            shipment.intensity.ratio,
            Ratio::new(111_482_000_000_000, 680_000_000_000)
        );
        assert_eq!(tenths(shipment.intensity.ratio), 1_639);
        assert_eq!(hundredths(shipment.intensity.ratio), 16_394);
        // Every figure says which set, version and scope made it.
        assert_eq!(
            shipment.factor_set.to_string(),
            "DESNZ/Defra GHG conversion factors 2025, TTW"
        );
        assert_eq!(shipment.radiative_forcing, RadiativeForcing::NotApplicable);
    }

    #[test]
    fn worked_example_e1_parcel_by_long_haul_air_with_and_without_radiative_forcing() {
        // 0.002 t × 5,000 km × 531.30 = 5,313.0 g without radiative forcing
        //   = 2,000 g × 5,000,000 m × 531,300 mg / 10¹² = 5,313,000 mg
        // 0.002 t × 5,000 km × 899.39 = 8,993.9 g with it (8,993,900 mg)
        let without =
            shipment_emissions_by_mode(&DEFRA_2025, TransportMode::Air, 2_000, 5_000_000).unwrap();
        assert_eq!(
            without.total.ratio,
            Ratio::new(5_313_000_000_000_000, EMISSIONS_DENOMINATOR)
        );
        assert_eq!(tenths(without.total.ratio), 53_130);
        assert_eq!(without.total_milligrams_rounded(), Some(5_313_000));
        assert_eq!(without.radiative_forcing, RadiativeForcing::Excluded);

        let with = shipment_emissions(
            &DEFRA_2025,
            &[leg(
                factor_keys::AIR_LONG_HAUL_WITH_RADIATIVE_FORCING,
                2_000,
                5_000_000,
            )],
        )
        .unwrap();
        assert_eq!(
            with.total.ratio,
            Ratio::new(8_993_900_000_000_000, EMISSIONS_DENOMINATOR)
        );
        assert_eq!(tenths(with.total.ratio), 89_939);
        assert_eq!(with.radiative_forcing, RadiativeForcing::Included);

        // The two are never added together.
        assert_eq!(
            total_emissions(&DEFRA_2025, &[without, with]),
            Err(EmissionsError::MixedRadiativeForcing)
        );
    }

    #[test]
    fn every_transport_mode_and_distance_band_has_a_factor_in_the_defra_set() {
        for mode in [
            TransportMode::Road,
            TransportMode::Air,
            TransportMode::Rail,
            TransportMode::Sea,
        ] {
            for distance in [0, 999_999, 1_000_000, 3_699_999, 3_700_000, 20_015_087] {
                assert!(DEFRA_2025.factor(factor_key(mode, distance)).is_some());
            }
        }
        // Road parcels go by van: 1 kg over 10 km × 631.30 = 6.313 g.
        let road =
            shipment_emissions_by_mode(&DEFRA_2025, TransportMode::Road, 1_000, 10_000).unwrap();
        assert_eq!(road.total_milligrams_rounded(), Some(6_313));
    }

    #[test]
    fn air_takes_the_factor_of_its_distance_band() {
        // 2 kg by air over 800 km: domestic band, 0.002 t × 800 km × 2,719.30 g = 4,350.88 g
        //   = 2,000 g × 800,000 m × 2,719,300 mg / 10¹² = 4,350,880 mg.
        let domestic =
            shipment_emissions_by_mode(&DEFRA_2025, TransportMode::Air, 2_000, 800_000).unwrap();
        assert_eq!(domestic.total_milligrams_rounded(), Some(4_350_880));
        // Over 2,000 km: short-haul, 0.002 × 2,000 × 755.40 = 3,021.6 g.
        let short_haul =
            shipment_emissions_by_mode(&DEFRA_2025, TransportMode::Air, 2_000, 2_000_000).unwrap();
        assert_eq!(short_haul.total_milligrams_rounded(), Some(3_021_600));
        // The band edges: 1,000 km is short-haul, 3,700 km long-haul.
        assert_eq!(
            factor_key(TransportMode::Air, 999_999),
            factor_keys::AIR_DOMESTIC_WITHOUT_RADIATIVE_FORCING
        );
        assert_eq!(
            factor_key(TransportMode::Air, 1_000_000),
            factor_keys::AIR_SHORT_HAUL_WITHOUT_RADIATIVE_FORCING
        );
        assert_eq!(
            factor_key(TransportMode::Air, 3_700_000),
            factor_keys::AIR_LONG_HAUL_WITHOUT_RADIATIVE_FORCING
        );
    }

    #[test]
    fn short_haul_air_is_never_cheaper_per_shipment_than_road_for_the_same_mass_and_distance() {
        // Before distance bands every air parcel took the long-haul factor (531.30 g/t·km),
        // below the van's 631.30: a 2 kg parcel flown 500 km came out at 0.002 × 500 × 531.30
        // = 531.3 g against 631.3 g by road. Now it is 0.002 × 500 × 2,719.30 = 2,719.3 g.
        let flown =
            shipment_emissions_by_mode(&DEFRA_2025, TransportMode::Air, 2_000, 500_000).unwrap();
        let driven =
            shipment_emissions_by_mode(&DEFRA_2025, TransportMode::Road, 2_000, 500_000).unwrap();
        assert_eq!(flown.total_milligrams_rounded(), Some(2_719_300));
        assert_eq!(driven.total_milligrams_rounded(), Some(631_300));
        // Every kilometre from 1 to 3,699, for a 1 g and a 30 kg parcel.
        for kilometres in 1..3_700_i64 {
            for grams in [1, 30_000] {
                let metres = kilometres * 1_000;
                let air =
                    shipment_emissions_by_mode(&DEFRA_2025, TransportMode::Air, grams, metres)
                        .unwrap();
                let road =
                    shipment_emissions_by_mode(&DEFRA_2025, TransportMode::Road, grams, metres)
                        .unwrap();
                assert!(
                    air.total.ratio.numerator > road.total.ratio.numerator,
                    "{grams} g over {kilometres} km"
                );
            }
        }
    }

    #[test]
    fn factor_keys_are_unique_and_factors_agree_with_the_table_to_a_tenth_of_a_gram() {
        // §8.3's table, g/t·km to one decimal, in the order of DEFRA_2025_FACTORS.
        let table_tenths = [
            6_313, 2_199, 5_276, 770, 1_016, 1_189, 278, 161, 132, 5_313, 8_994, 7_554, 12_784,
            27_193, 46_040,
        ];
        for (factor, expected) in DEFRA_2025_FACTORS.iter().zip(table_tenths) {
            let shown = round_half_even(i128::from(factor.milligrams_per_tonne_kilometre), 100);
            assert_eq!(shown, Some(expected), "{}", factor.key);
            let same_key = DEFRA_2025_FACTORS
                .iter()
                .filter(|other| other.key == factor.key)
                .count();
            assert_eq!(same_key, 1, "{}", factor.key);
        }
    }

    #[test]
    fn a_period_total_adds_shipments_of_one_set_and_refuses_another() {
        let first =
            shipment_emissions_by_mode(&DEFRA_2025, TransportMode::Road, 2_000, 40_000).unwrap();
        let second =
            shipment_emissions_by_mode(&DEFRA_2025, TransportMode::Rail, 10_000, 100_000).unwrap();
        // 50.504 g + 10 kg × 100 km × 27.79 = 27.79 g → 78.294 g; mean 39.147 g.
        let summary = total_emissions(&DEFRA_2025, &[first.clone(), second]).unwrap();
        assert!(summary.total.ratio.same_value(Ratio::new(78_294, 1_000)));
        assert!(
            summary
                .per_shipment
                .ratio
                .same_value(Ratio::new(39_147, 1_000))
        );
        assert_eq!(summary.total.population, 2);

        let glec = EmissionFactorSet {
            name: Cow::Borrowed("GLEC"),
            version: Cow::Borrowed("3.2"),
            scope: EmissionScope::WellToWheel,
            factors: Cow::Owned(vec![]),
        };
        assert!(matches!(
            total_emissions(&glec, &[first]),
            Err(EmissionsError::MixedFactorSets { .. })
        ));
        assert!(matches!(
            shipment_emissions_by_mode(&glec, TransportMode::Sea, 1, 1),
            Err(EmissionsError::UnknownFactor { .. })
        ));
    }

    #[test]
    fn no_legs_is_no_data_and_negative_inputs_are_refused() {
        let empty = shipment_emissions(&DEFRA_2025, &[]).unwrap();
        assert_eq!(empty.total.value, None);
        assert_eq!(empty.intensity.value, None);
        assert_eq!(empty.total_milligrams_rounded(), None);
        assert_eq!(
            shipment_emissions(&DEFRA_2025, &[leg(factor_keys::RAIL_FREIGHT, -1, 5)]),
            Err(EmissionsError::NegativeLeg {
                key: factor_keys::RAIL_FREIGHT.into(),
                field: "mass_grams",
                value: -1,
            })
        );
    }

    #[test]
    fn rounding_is_half_to_even() {
        assert_eq!(round_half_even(5, 2), Some(2));
        assert_eq!(round_half_even(7, 2), Some(4));
        assert_eq!(round_half_even(-5, 2), Some(-2));
        assert_eq!(round_half_even(11, 4), Some(3));
        assert_eq!(round_half_even(1, 0), None);
    }
}
