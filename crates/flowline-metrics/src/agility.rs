//! Agility (SCOR-METRICS §5): what the chain *could* absorb, from capacity profiles and a risk
//! register rather than from events.
//!
//! Principal pieces:
//! - [`CapacityProfile`]: one resource of one process (a supplier, a kitting cell, a fulfillment
//!   center with its carrier, a returns center) and how far it can flex;
//! - [`upside_flexibility`] (AG.1.1), [`upside_adaptability`] (AG.1.2) and
//!   [`downside_adaptability`] (AG.1.3): the binding constraint over all profiles, returned as an
//!   [`AgilityValue`] that names the profiles that bind;
//! - [`Risk`] and [`value_at_risk`] (AG.1.4): Σ probability × impact, exactly, with the
//!   contributions sorted largest first.
//!
//! Percentages are basis points (1 % = 100) and probabilities parts per million, so every
//! figure is an exact integer ratio (SCOR-METRICS §2.2).

use std::fmt;

use flowline_core::ledger::ScorProcess;
use serde::{Deserialize, Serialize};

use crate::value::{Coverage, MetricValue, Ratio, Unit};

/// Basis points in a whole (100 %).
pub const BASIS_POINTS_PER_WHOLE: i64 = 10_000;

/// Parts per million in a certainty (probability 1).
pub const PARTS_PER_MILLION: i64 = 1_000_000;

/// Seconds in a day: [`Unit::Days`] values are seconds over a count.
const SECONDS_PER_DAY: i128 = 86_400;

/// The SCOR processes whose capacity the agility metrics weigh (SCOR-METRICS §5: "per process
/// (Source, Make, Deliver, Return)"). Plan and Enable have no throughput to flex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapacityProcess {
    /// Suppliers: firm-zone lead times, extra allocation.
    Source,
    /// Kitting, assembly and customization cells.
    Make,
    /// Fulfillment-center labour and carrier allocation.
    Deliver,
    /// Returns centers.
    Return,
}

impl CapacityProcess {
    /// All four, in SCOR order.
    pub const ALL: [Self; 4] = [Self::Source, Self::Make, Self::Deliver, Self::Return];

    /// The SCOR process this is.
    pub fn scor_process(self) -> ScorProcess {
        match self {
            Self::Source => ScorProcess::Source,
            Self::Make => ScorProcess::Make,
            Self::Deliver => ScorProcess::Deliver,
            Self::Return => ScorProcess::Return,
        }
    }

    /// The display name ("Source").
    pub fn name(self) -> &'static str {
        match self {
            Self::Source => "Source",
            Self::Make => "Make",
            Self::Deliver => "Deliver",
            Self::Return => "Return",
        }
    }
}

/// How far one resource of one process can flex (SCOR-METRICS §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityProfile {
    /// The process the resource belongs to.
    pub process: CapacityProcess,
    /// The resource ("main supplier", "kitting cell", "FC labour + carrier").
    pub resource: String,
    /// Days until the resource sustains an unplanned +20 % without significant service or cost
    /// penalty.
    pub days_to_sustain_twenty_percent_increase: i64,
    /// The largest sustainable increase reachable within 30 days, in basis points (35 % =
    /// 3,500). May exceed 10,000 (more than doubling).
    pub increase_within_thirty_days_basis_points: i64,
    /// The largest reduction sustainable at 30 days' notice with no inventory or cost penalty,
    /// in basis points (at most 10,000).
    pub reduction_at_thirty_days_notice_basis_points: i64,
}

/// A profile that sets an agility value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// Its process.
    pub process: CapacityProcess,
    /// Its resource.
    pub resource: String,
}

/// An agility value and the profiles that bind it (several when they tie), in input order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgilityValue {
    /// The value; its population is the number of profiles weighed and its coverage says which
    /// of Source, Make, Deliver and Return had no profile.
    pub value: MetricValue,
    /// The profiles at the maximum (AG.1.1) or minimum (AG.1.2, AG.1.3). Empty for no data.
    pub binding: Vec<Binding>,
}

/// One entry of the risk register (SCOR-METRICS §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Risk {
    /// The risk event ("supplier plant shutdown").
    pub event: String,
    /// The process it strikes; VaR spans all six, key dependencies included.
    pub process: ScorProcess,
    /// Probability the event happens within a year, in parts per million (0.05 = 50,000).
    pub annual_probability_parts_per_million: i64,
    /// Monetised impact if it happens (lost margin, expediting, penalties), in minor units of
    /// the tenant's base currency.
    pub impact_minor: i64,
}

/// One risk's share of the value at risk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskContribution {
    /// The risk event.
    pub event: String,
    /// The process it strikes.
    pub process: ScorProcess,
    /// Probability × impact, in minor units (an exact ratio over one million).
    pub contribution_minor: Ratio,
}

/// AG.1.4 with its contributors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueAtRisk {
    /// Σ probability × impact in minor units; population = risks in the register.
    pub value: MetricValue,
    /// Every risk's contribution, largest first; equal contributions keep register order.
    pub contributors: Vec<RiskContribution>,
}

/// Why agility inputs were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AgilityError {
    /// A profile's days or basis points are negative, or its reduction exceeds 100 %.
    CapacityOutOfRange {
        /// The resource.
        resource: String,
        /// The field at fault.
        field: &'static str,
        /// The value given.
        value: i64,
    },
    /// A risk's probability is outside 0..=1,000,000 parts per million.
    ProbabilityOutOfRange {
        /// The risk event.
        event: String,
        /// The value given.
        parts_per_million: i64,
    },
    /// A risk's impact is negative.
    NegativeImpact {
        /// The risk event.
        event: String,
        /// The value given.
        impact_minor: i64,
    },
    /// The value at risk does not fit in 128 bits.
    Overflow,
}

impl fmt::Display for AgilityError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CapacityOutOfRange {
                resource,
                field,
                value,
            } => write!(
                formatter,
                "capacity profile {resource:?}: {field} = {value} is out of range"
            ),
            Self::ProbabilityOutOfRange {
                event,
                parts_per_million,
            } => write!(
                formatter,
                "risk {event:?}: probability {parts_per_million} ppm is not between 0 and 1,000,000"
            ),
            Self::NegativeImpact {
                event,
                impact_minor,
            } => write!(
                formatter,
                "risk {event:?}: impact {impact_minor} is negative"
            ),
            Self::Overflow => write!(formatter, "value at risk does not fit in 128 bits"),
        }
    }
}

impl std::error::Error for AgilityError {}

/// AG.1.1 Upside Supply Chain Flexibility: the most days any profile needs to sustain +20 % —
/// the slowest process sets the pace. Shown in days; no profiles is no data.
pub fn upside_flexibility(profiles: &[CapacityProfile]) -> Result<AgilityValue, AgilityError> {
    validate_profiles(profiles)?;
    Ok(binding_value(
        "ag.upside_flexibility",
        profiles,
        Extreme::Largest,
        |profile| profile.days_to_sustain_twenty_percent_increase,
        |days| Ratio::new(i128::from(days) * SECONDS_PER_DAY, 1),
        Unit::Days,
    ))
}

/// AG.1.2 Upside Supply Chain Adaptability: the smallest "largest sustainable increase within
/// 30 days" over the profiles. No profiles is no data.
pub fn upside_adaptability(profiles: &[CapacityProfile]) -> Result<AgilityValue, AgilityError> {
    validate_profiles(profiles)?;
    Ok(binding_value(
        "ag.upside_adaptability",
        profiles,
        Extreme::Smallest,
        |profile| profile.increase_within_thirty_days_basis_points,
        basis_points,
        Unit::Percent,
    ))
}

/// AG.1.3 Downside Supply Chain Adaptability: the smallest "largest penalty-free reduction at
/// 30 days' notice" over the profiles — contract terms usually bind. No profiles is no data.
pub fn downside_adaptability(profiles: &[CapacityProfile]) -> Result<AgilityValue, AgilityError> {
    validate_profiles(profiles)?;
    Ok(binding_value(
        "ag.downside_adaptability",
        profiles,
        Extreme::Smallest,
        |profile| profile.reduction_at_thirty_days_notice_basis_points,
        basis_points,
        Unit::Percent,
    ))
}

/// AG.1.4 Overall Value at Risk: Σ annual probability × impact over the register, exact, in
/// minor units, with every contribution sorted largest first. An empty register is no data,
/// not zero risk.
pub fn value_at_risk(risks: &[Risk]) -> Result<ValueAtRisk, AgilityError> {
    let mut contributors = Vec::with_capacity(risks.len());
    let mut total: i128 = 0;
    for risk in risks {
        if !(0..=PARTS_PER_MILLION).contains(&risk.annual_probability_parts_per_million) {
            return Err(AgilityError::ProbabilityOutOfRange {
                event: risk.event.clone(),
                parts_per_million: risk.annual_probability_parts_per_million,
            });
        }
        if risk.impact_minor < 0 {
            return Err(AgilityError::NegativeImpact {
                event: risk.event.clone(),
                impact_minor: risk.impact_minor,
            });
        }
        // Both factors fit in i64, so their product fits in i128; only the sum can overflow.
        let contribution =
            i128::from(risk.annual_probability_parts_per_million) * i128::from(risk.impact_minor);
        total = total
            .checked_add(contribution)
            .ok_or(AgilityError::Overflow)?;
        contributors.push(RiskContribution {
            event: risk.event.clone(),
            process: risk.process,
            contribution_minor: Ratio::new(contribution, i128::from(PARTS_PER_MILLION)),
        });
    }
    // A stable sort keeps register order among equal contributions, so the list is
    // deterministic.
    contributors.sort_by(|left, right| {
        right
            .contribution_minor
            .numerator
            .cmp(&left.contribution_minor.numerator)
    });
    let denominator = if risks.is_empty() {
        0
    } else {
        i128::from(PARTS_PER_MILLION)
    };
    Ok(ValueAtRisk {
        value: MetricValue::new(
            "ag.value_at_risk",
            Ratio::new(total, denominator),
            Unit::Money,
            count(risks.len()),
        ),
        contributors,
    })
}

/// Which end of the profiles binds.
#[derive(Clone, Copy)]
enum Extreme {
    Largest,
    Smallest,
}

fn binding_value(
    id: &str,
    profiles: &[CapacityProfile],
    extreme: Extreme,
    field: impl Fn(&CapacityProfile) -> i64,
    ratio: impl Fn(i64) -> Ratio,
    unit: Unit,
) -> AgilityValue {
    let bound = match extreme {
        Extreme::Largest => profiles.iter().map(&field).max(),
        Extreme::Smallest => profiles.iter().map(&field).min(),
    };
    let Some(bound) = bound else {
        return AgilityValue {
            value: MetricValue::new(id, Ratio::new(0, 0), unit, 0)
                .covering(process_coverage(profiles)),
            binding: Vec::new(),
        };
    };
    let binding = profiles
        .iter()
        .filter(|profile| field(profile) == bound)
        .map(|profile| Binding {
            process: profile.process,
            resource: profile.resource.clone(),
        })
        .collect();
    AgilityValue {
        value: MetricValue::new(id, ratio(bound), unit, count(profiles.len()))
            .covering(process_coverage(profiles)),
        binding,
    }
}

fn basis_points(value: i64) -> Ratio {
    Ratio::new(i128::from(value), i128::from(BASIS_POINTS_PER_WHOLE))
}

/// Which of the four processes have a profile: a chain whose Make cell was never profiled is
/// not known to flex, so the value says so rather than looking complete.
fn process_coverage(profiles: &[CapacityProfile]) -> Coverage {
    let missing: Vec<&str> = CapacityProcess::ALL
        .iter()
        .filter(|process| !profiles.iter().any(|profile| profile.process == **process))
        .map(|process| process.name())
        .collect();
    let candidates = CapacityProcess::ALL.len();
    let note = if missing.is_empty() {
        String::new()
    } else {
        format!("no capacity profile for {}", missing.join(", "))
    };
    Coverage {
        judged: count(candidates - missing.len()),
        candidates: count(candidates),
        note,
    }
}

fn validate_profiles(profiles: &[CapacityProfile]) -> Result<(), AgilityError> {
    for profile in profiles {
        let checks = [
            (
                "days_to_sustain_twenty_percent_increase",
                profile.days_to_sustain_twenty_percent_increase,
                i64::MAX,
            ),
            (
                "increase_within_thirty_days_basis_points",
                profile.increase_within_thirty_days_basis_points,
                i64::MAX,
            ),
            (
                "reduction_at_thirty_days_notice_basis_points",
                profile.reduction_at_thirty_days_notice_basis_points,
                BASIS_POINTS_PER_WHOLE,
            ),
        ];
        for (field, value, largest) in checks {
            if !(0..=largest).contains(&value) {
                return Err(AgilityError::CapacityOutOfRange {
                    resource: profile.resource.clone(),
                    field,
                    value,
                });
            }
        }
    }
    Ok(())
}

/// A slice length as a population count; lengths always fit in u64 on supported targets.
fn count(length: usize) -> u64 {
    u64::try_from(length).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(
        process: CapacityProcess,
        resource: &str,
        days: i64,
        increase_basis_points: i64,
        reduction_basis_points: i64,
    ) -> CapacityProfile {
        CapacityProfile {
            process,
            resource: resource.to_string(),
            days_to_sustain_twenty_percent_increase: days,
            increase_within_thirty_days_basis_points: increase_basis_points,
            reduction_at_thirty_days_notice_basis_points: reduction_basis_points,
        }
    }

    /// The four profiles of worked example A-1 (SCOR-METRICS §5.3).
    fn example_a1_profiles() -> Vec<CapacityProfile> {
        vec![
            profile(CapacityProcess::Source, "main supplier", 14, 3_500, 2_000),
            profile(CapacityProcess::Make, "kitting cell", 3, 5_000, 4_000),
            profile(
                CapacityProcess::Deliver,
                "FC labour + carrier",
                7,
                2_500,
                1_500,
            ),
            profile(CapacityProcess::Return, "returns center", 5, 6_000, 3_000),
        ]
    }

    fn binding_of(value: &AgilityValue) -> Vec<CapacityProcess> {
        value
            .binding
            .iter()
            .map(|binding| binding.process)
            .collect()
    }

    #[test]
    fn worked_example_a1_upside_flexibility_is_set_by_the_slowest_process() {
        // Days to sustain +20 %: Source 14, Make 3, Deliver 7, Return 5.
        // max(14, 3, 7, 5) = 14 days, bound by Source; 14 × 86,400 s = 1,209,600 s.
        let value = upside_flexibility(&example_a1_profiles()).unwrap();
        assert_eq!(value.value.ratio, Ratio::new(1_209_600, 1));
        assert_eq!(value.value.value, Some(14.0));
        assert_eq!(value.value.population, 4);
        assert_eq!(value.value.describe("USD"), "14.00 days (n = 4)");
        assert_eq!(binding_of(&value), vec![CapacityProcess::Source]);
        assert_eq!(value.binding[0].resource, "main supplier");
    }

    #[test]
    fn worked_example_a1_upside_adaptability_is_the_smallest_increase() {
        // Max increase within 30 days: 35 %, 50 %, 25 %, 60 % → min = 25 % (Deliver),
        // 2,500 bp / 10,000.
        let value = upside_adaptability(&example_a1_profiles()).unwrap();
        assert_eq!(value.value.ratio, Ratio::new(2_500, 10_000));
        assert_eq!(value.value.value, Some(25.0));
        assert_eq!(binding_of(&value), vec![CapacityProcess::Deliver]);
    }

    #[test]
    fn worked_example_a1_downside_adaptability_is_bound_by_the_carrier_minimum() {
        // Max penalty-free reduction at 30 days' notice: 20 %, 40 %, 15 %, 30 % → min = 15 %
        // (Deliver: the carrier minimum volume), 1,500 bp / 10,000.
        let value = downside_adaptability(&example_a1_profiles()).unwrap();
        assert_eq!(value.value.ratio, Ratio::new(1_500, 10_000));
        assert_eq!(value.value.value, Some(15.0));
        assert_eq!(value.value.describe("USD"), "15.00 % (1500 of 10000)");
        assert_eq!(binding_of(&value), vec![CapacityProcess::Deliver]);
    }

    #[test]
    fn worked_example_a1_value_at_risk_sums_probability_times_impact() {
        // Supplier plant shutdown: 50,000 ppm × 20,000,000 minor = 1,000,000 minor (10,000.00)
        // Carrier strike:         100,000 ppm ×  5,000,000 minor =   500,000 minor  (5,000.00)
        // FC flood:                10,000 ppm × 50,000,000 minor =   500,000 minor  (5,000.00)
        // Σ = 2,000,000 minor units = 20,000.00; kept as 2,000,000,000,000 / 1,000,000.
        let risks = vec![
            Risk {
                event: "supplier plant shutdown".into(),
                process: ScorProcess::Source,
                annual_probability_parts_per_million: 50_000,
                impact_minor: 20_000_000,
            },
            Risk {
                event: "carrier strike".into(),
                process: ScorProcess::Deliver,
                annual_probability_parts_per_million: 100_000,
                impact_minor: 5_000_000,
            },
            Risk {
                event: "FC flood".into(),
                process: ScorProcess::Deliver,
                annual_probability_parts_per_million: 10_000,
                impact_minor: 50_000_000,
            },
        ];
        let value_at_risk = value_at_risk(&risks).unwrap();
        assert_eq!(
            value_at_risk.value.ratio,
            Ratio::new(2_000_000_000_000, 1_000_000)
        );
        assert!(
            value_at_risk
                .value
                .ratio
                .same_value(Ratio::new(2_000_000, 1))
        );
        assert_eq!(value_at_risk.value.value, Some(2_000_000.0));
        assert_eq!(value_at_risk.value.describe("USD"), "20,000.00 USD (n = 3)");
        // Largest first; the two 5,000.00 contributions keep register order.
        let events: Vec<&str> = value_at_risk
            .contributors
            .iter()
            .map(|contributor| contributor.event.as_str())
            .collect();
        assert_eq!(
            events,
            vec!["supplier plant shutdown", "carrier strike", "FC flood"]
        );
        assert!(
            value_at_risk.contributors[0]
                .contribution_minor
                .same_value(Ratio::new(1_000_000, 1))
        );
    }

    #[test]
    fn empty_inputs_are_no_data() {
        let flexibility = upside_flexibility(&[]).unwrap();
        assert_eq!(flexibility.value.value, None);
        assert!(flexibility.binding.is_empty());
        assert_eq!(flexibility.value.describe("USD"), "no data");
        let value_at_risk = value_at_risk(&[]).unwrap();
        assert_eq!(value_at_risk.value.value, None);
        assert!(value_at_risk.contributors.is_empty());
    }

    #[test]
    fn ties_name_every_binding_profile_and_missing_processes_show_in_coverage() {
        let profiles = vec![
            profile(CapacityProcess::Source, "supplier A", 10, 3_000, 2_000),
            profile(CapacityProcess::Deliver, "FC east", 10, 3_000, 2_000),
        ];
        let value = upside_flexibility(&profiles).unwrap();
        assert_eq!(
            binding_of(&value),
            vec![CapacityProcess::Source, CapacityProcess::Deliver]
        );
        let coverage = value.value.coverage.clone().unwrap();
        assert_eq!((coverage.judged, coverage.candidates), (2, 4));
        assert_eq!(coverage.note, "no capacity profile for Make, Return");
        assert_eq!(
            value.value.describe("USD"),
            "10.00 days (n = 2; no capacity profile for Make, Return)"
        );
    }

    #[test]
    fn out_of_range_inputs_are_refused_with_the_field_at_fault() {
        let profiles = vec![profile(CapacityProcess::Make, "cell", 3, 5_000, 12_000)];
        assert_eq!(
            downside_adaptability(&profiles),
            Err(AgilityError::CapacityOutOfRange {
                resource: "cell".into(),
                field: "reduction_at_thirty_days_notice_basis_points",
                value: 12_000,
            })
        );
        let risks = vec![Risk {
            event: "meteor".into(),
            process: ScorProcess::Plan,
            annual_probability_parts_per_million: 1_000_001,
            impact_minor: 1,
        }];
        assert!(matches!(
            value_at_risk(&risks),
            Err(AgilityError::ProbabilityOutOfRange { .. })
        ));
    }
}
