//! How the fold computes: [`FoldSettings`] (reporting zone, base currency, judgement rules,
//! retention) and [`EmissionSettings`] (the factor set and distances behind the CO2e of
//! shipments and return legs).

use crate::emissions::{EmissionFactorSet, EmissionScope};
use crate::geo::Place;
use crate::order::Rules;
use flowline_core::master::{TenantSettings, TransportMode};
use flowline_core::money::Currency;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// How CO2e of shipments and return legs is estimated (SCOR-METRICS §8.2, default-data
/// method): each leg is `gross mass × distance × factor`, the distance the great-circle distance
/// between the center and the ship-to ([`crate::geo`]: coordinates, else the state's or the
/// country's centroid), the factor that of the carrier service's transport mode and the
/// distance's band ([`crate::emissions::factor_key`]). A leg whose distance or factor is not
/// known is left out and counted as such, never given a made-up length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmissionSettings {
    /// The factor set every figure is computed with; its name, version and scope are reported
    /// with every figure ([`EmissionSettings::label`]).
    pub set: EmissionFactorSet,
    /// Added to the great-circle distance of air legs, per thousand: cargo flights fly on
    /// average 6.3 % further than the great circle (§8.2, Dobruszkes & Peeters 2019), 63 ‰.
    /// Road, rail and sea legs take the great-circle distance as it is (no routing: this
    /// understates road distance).
    pub air_distance_uplift_per_mille: i64,
}

impl EmissionSettings {
    /// The DESNZ/Defra 2025 "Freighting goods" tank-to-wheel set of [`crate::emissions`]
    /// (road parcels by average diesel van; air by distance band without radiative forcing;
    /// rail; average container ship), air distances 6.3 % over the great circle.
    pub fn standard() -> Self {
        Self {
            set: crate::emissions::DEFRA_2025,
            air_distance_uplift_per_mille: 63,
        }
    }

    /// The factor set's name, version and scope, as reports show it
    /// (`DESNZ/Defra GHG conversion factors, 2025, tank-to-wheel`).
    pub fn label(&self) -> String {
        let scope = match self.set.scope {
            EmissionScope::TankToWheel => "tank-to-wheel",
            EmissionScope::WellToWheel => "well-to-wheel",
        };
        format!("{}, {}, {scope}", self.set.name, self.set.version)
    }

    /// One leg of `grams` by `mode` between two places: its emissions in milligrams (rounded
    /// half to even) and its gram-metres; `None` when its distance or its factor is not known
    /// (or, for an absurd mass, the product would not fit).
    ///
    /// `mg = g × m × (mg / t·km) / 10⁹`: grams over 10⁶ are tonnes, metres over 10³ kilometres.
    pub fn leg(
        &self,
        from: Option<&Place>,
        to: Option<&Place>,
        mode: TransportMode,
        grams: i64,
    ) -> Option<(i128, i128)> {
        let great_circle = crate::geo::distance_metres(from, to).ok()?;
        let metres = match mode {
            TransportMode::Air => {
                // Both factors fit in 64 bits, so their product fits in 128.
                let uplifted = i128::from(great_circle)
                    * (1_000 + i128::from(self.air_distance_uplift_per_mille.max(0)));
                crate::emissions::round_half_even(uplifted, 1_000)?
            }
            TransportMode::Road | TransportMode::Rail | TransportMode::Sea => {
                i128::from(great_circle)
            }
        };
        let factor = self
            .set
            .factor(crate::emissions::factor_key(mode, great_circle))?;
        let gram_metres = i128::from(grams.max(0)).checked_mul(metres)?;
        let milligrams = crate::emissions::round_half_even(
            gram_metres.checked_mul(i128::from(factor.milligrams_per_tonne_kilometre))?,
            1_000_000_000,
        )?;
        Some((milligrams, gram_metres))
    }
}

/// The fold's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldSettings {
    /// The tenant's reporting time zone: days are local days of this zone.
    #[serde(with = "flowline_core::codec::time_zone")]
    pub reporting: TimeZone,
    /// The tenant's base currency: money figures are in it.
    pub base_currency: Currency,
    /// Judgement rules.
    pub rules: Rules,
    /// Emission estimation.
    pub emissions: EmissionSettings,
    /// Keep every order's record after it is settled (for tests that look at records): memory
    /// then grows with history. Drill-down does not need it: settled orders' verdicts are
    /// kept packed either way.
    pub keep_settled_orders: bool,
}

impl FoldSettings {
    /// The settings a tenant's configuration gives: its reporting time zone (UTC if the name is
    /// not one this build knows) and base currency, the standard judgement rules and emission
    /// factors, settled orders' records let go. What the server, the CLI and the simulator's
    /// checks all fold with.
    pub fn of_tenant(settings: &TenantSettings) -> Self {
        Self {
            reporting: TimeZone::get(settings.reporting_time_zone.as_str())
                .unwrap_or(TimeZone::UTC),
            base_currency: settings.base_currency,
            rules: Rules::standard(),
            emissions: EmissionSettings::standard(),
            keep_settled_orders: false,
        }
    }
}
