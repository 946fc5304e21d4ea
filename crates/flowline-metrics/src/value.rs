//! A metric's value: an exact ratio with the population and coverage behind it.
//!
//! Every figure is kept as an integer numerator and denominator (SCOR-METRICS §2.2) and only
//! turned into a decimal for display, so a value can always be explained ("20 % — 1 of 5") and
//! two computations of it compared exactly. A zero denominator is "no data", never 0 % or 100 %.

use serde::{Deserialize, Serialize};

/// What a value measures, and how its ratio is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A share: numerator / denominator × 100.
    Percent,
    /// A duration: seconds / count, shown in days (÷ 86,400).
    Days,
    /// A duration: seconds / count, shown in hours (÷ 3,600).
    Hours,
    /// Money in minor units of the tenant's base currency: numerator / denominator.
    Money,
    /// A plain ratio (turns, grams per tonne-kilometre, units per order).
    Number,
    /// A mass in grams: numerator / denominator.
    Grams,
}

impl Unit {
    /// How many numerator units make one displayed unit (86,400 seconds make a day).
    pub fn scale(self) -> f64 {
        match self {
            Self::Percent => 0.01,
            Self::Days => 86_400.0,
            Self::Hours => 3_600.0,
            Self::Money | Self::Number | Self::Grams => 1.0,
        }
    }
}

/// An exact ratio. The denominator is never negative; zero means "no data". The terms are kept
/// as counted (2 of 10 stays 2 of 10, so a value can say what it counted).
///
/// In JSON each term is a number when it fits in 64 bits and a decimal string otherwise (a
/// time-weighted average over a year is a product of money and seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ratio {
    /// Numerator.
    #[serde(with = "wide")]
    pub numerator: i128,
    /// Denominator.
    #[serde(with = "wide")]
    pub denominator: i128,
}

/// i128 in JSON: a number when it fits in an i64, else a decimal string.
mod wide {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &i128, serializer: S) -> Result<S::Ok, S::Error> {
        match i64::try_from(*value) {
            Ok(small) => serializer.serialize_i64(small),
            Err(_) => serializer.serialize_str(&value.to_string()),
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Number(i64),
        Text(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i128, D::Error> {
        match Either::deserialize(deserializer)? {
            Either::Number(number) => Ok(i128::from(number)),
            Either::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

impl Ratio {
    /// A ratio; a negative denominator flips both signs so the denominator is never negative.
    pub fn new(numerator: i128, denominator: i128) -> Self {
        if denominator < 0 {
            Self {
                numerator: -numerator,
                denominator: -denominator,
            }
        } else {
            Self {
                numerator,
                denominator,
            }
        }
    }

    /// The quotient, or `None` when the denominator is zero.
    pub fn quotient(self) -> Option<f64> {
        (self.denominator != 0).then(|| self.numerator as f64 / self.denominator as f64)
    }

    /// The value in `unit`: a percentage for [`Unit::Percent`], days for [`Unit::Days`], ...
    pub fn display(self, unit: Unit) -> Option<f64> {
        self.quotient().map(|quotient| quotient / unit.scale())
    }

    /// Whether two ratios are the same number (cross-multiplied, exactly).
    pub fn same_value(self, other: Self) -> bool {
        match (self.denominator, other.denominator) {
            (0, 0) => true,
            (0, _) | (_, 0) => false,
            _ => self.numerator * other.denominator == other.numerator * self.denominator,
        }
    }
}

/// How much of the candidate population could be judged, and why the rest could not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Candidates that could be judged.
    pub judged: u64,
    /// All candidates.
    pub candidates: u64,
    /// Why the others could not be (`"1 order had no promise date"`).
    pub note: String,
}

/// One metric's value for one population.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricValue {
    /// Stable Flowline metric id (`rl.perfect_order`).
    pub id: String,
    /// The exact ratio.
    pub ratio: Ratio,
    /// How to show it.
    pub unit: Unit,
    /// The value shown (`ratio` in `unit`), `None` for "no data".
    pub value: Option<f64>,
    /// Records in the population (orders, shipments, receipt lines, ...).
    pub population: u64,
    /// Coverage, where some candidates cannot be judged.
    pub coverage: Option<Coverage>,
    /// True while late facts (returns, claims) can still change the value.
    pub provisional: bool,
}

impl MetricValue {
    /// A value from its ratio.
    pub fn new(id: &str, ratio: Ratio, unit: Unit, population: u64) -> Self {
        Self {
            id: id.to_string(),
            ratio,
            unit,
            value: ratio.display(unit),
            population,
            coverage: None,
            provisional: false,
        }
    }

    /// With coverage.
    pub fn covering(mut self, coverage: Coverage) -> Self {
        self.coverage = Some(coverage);
        self
    }

    /// Marked provisional or final.
    pub fn provisional(mut self, provisional: bool) -> Self {
        self.provisional = provisional;
        self
    }

    /// "20.00 % (1 of 5; 1 order had no promise date)", "1,234.56 USD (n = 12)", or "no data".
    /// Money is written in `currency`'s own places (`1,500 JPY`); a figure taken from the
    /// ledger's sums rather than over records says so instead of "n = 0".
    pub fn describe(&self, currency: &str) -> String {
        let Some(value) = self.value else {
            return "no data".to_string();
        };
        let shown = match self.unit {
            Unit::Percent => format!("{value:.2} %"),
            Unit::Days => format!("{value:.2} days"),
            Unit::Hours => format!("{value:.2} h"),
            Unit::Money => {
                // Minor units, rounded to a whole one; beyond i128 is no real amount.
                let minor = if value.is_finite() {
                    value.round() as i128
                } else {
                    0
                };
                let places = flowline_core::money::exponent_of(currency);
                format!(
                    "{} {currency}",
                    flowline_core::money::format_minor(minor, places)
                )
            }
            Unit::Number => format!("{value:.2}"),
            Unit::Grams => format!("{value:.2} g"),
        };
        // A figure over records says how many; one taken from the ledger's sums (a share of
        // revenue, a return on assets: terms of 15 digits and more, kept in the JSON) says so.
        let mut detail = match self.unit {
            _ if self.population == 0 => "from ledger totals".to_string(),
            Unit::Percent => format!("{} of {}", self.ratio.numerator, self.ratio.denominator),
            _ => format!("n = {}", self.population),
        };
        if let Some(coverage) = &self.coverage
            && coverage.judged < coverage.candidates
        {
            detail.push_str("; ");
            detail.push_str(&coverage.note);
        }
        let provisional = if self.provisional {
            ", provisional"
        } else {
            ""
        };
        format!("{shown} ({detail}){provisional}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_denominator_is_no_data_not_zero_or_one_hundred_percent() {
        let value = MetricValue::new("rl.perfect_order", Ratio::new(0, 0), Unit::Percent, 0);
        assert_eq!(value.value, None);
        assert_eq!(value.describe("USD"), "no data");
    }

    #[test]
    fn a_value_says_its_numerator_denominator_and_coverage() {
        let value = MetricValue::new("rl.perfect_order", Ratio::new(1, 5), Unit::Percent, 5)
            .covering(Coverage {
                judged: 5,
                candidates: 6,
                note: "1 order had no promise date".into(),
            });
        assert_eq!(
            value.describe("USD"),
            "20.00 % (1 of 5; 1 order had no promise date)"
        );
        // 269,100 seconds over 1 order = 3.11 days (74.75 h).
        let days = MetricValue::new("rs.order_cycle_time", Ratio::new(269_100, 1), Unit::Days, 1);
        assert_eq!(days.describe("USD"), "3.11 days (n = 1)");
        // ¥1,500 over one order is 1,500 JPY: the yen has no minor unit. BD 12.345 (12,345 fils)
        // over 2 orders is BD 6.1725, written 6.173 (rounded half away from zero to the fils).
        let yen = MetricValue::new("co.cost_per_order", Ratio::new(1_500, 1), Unit::Money, 1);
        assert_eq!(yen.describe("JPY"), "1,500 JPY (n = 1)");
        let dinar = MetricValue::new("co.cost_per_order", Ratio::new(12_345, 2), Unit::Money, 2);
        assert_eq!(dinar.describe("BHD"), "6.173 BHD (n = 2)");
        // A total from the ledger has no population to count.
        let total = MetricValue::new("co.total_cost", Ratio::new(123_456, 1), Unit::Money, 0);
        assert_eq!(total.describe("USD"), "1,234.56 USD (from ledger totals)");
        // So does a share computed from ledger sums: -2,662.69 of 837.50 is -317.93 %.
        let share = MetricValue::new(
            "am.return_on_fixed_assets",
            Ratio::new(-266_269, 83_750),
            Unit::Percent,
            0,
        );
        assert_eq!(share.describe("USD"), "-317.93 % (from ledger totals)");
    }

    #[test]
    fn wide_terms_go_to_json_as_strings_and_come_back() {
        let wide = Ratio::new(10_i128.pow(20) + 1, 3);
        let json = serde_json::to_string(&wide).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"numerator":"100000000000000000001","denominator":3}"#
        );
        let back: Ratio = serde_json::from_str(&json).unwrap_or(Ratio::new(0, 0));
        assert_eq!(back, wide);
    }

    #[test]
    fn ratios_compare_exactly() {
        assert!(Ratio::new(2, 4).same_value(Ratio::new(1, 2)));
        assert!(Ratio::new(-1, -2).same_value(Ratio::new(1, 2)));
        assert!(!Ratio::new(1, 3).same_value(Ratio::new(333, 1000)));
        assert!(Ratio::new(0, 0).same_value(Ratio::new(5, 0)));
    }
}
