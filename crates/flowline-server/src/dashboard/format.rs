//! Numbers as the dashboard shows them.
//!
//! A value is shown in its unit with two decimals, as `flowline metrics` prints it, and next to
//! it the exact terms it was computed from ("412 of 500", "n = 500"): the page and the JSON of
//! the same range agree to the last digit shown.

use flowline_core::money::{exponent_of, format_minor};
use flowline_metrics::scorecard::metric_info;
use flowline_metrics::value::{MetricValue, Unit};

/// `text` with its first letter in upper case: `sales order` as `Sales order`.
pub fn capitalised(text: &str) -> String {
    let mut characters = text.chars();
    match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    }
}

/// `1234567` as `1,234,567`.
pub fn grouped(number: i128) -> String {
    let digits = number.unsigned_abs().to_string();
    let mut text = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if number < 0 {
        text.push('-');
    }
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    text
}

/// A decimal with two places and grouped thousands: `1234567.891` as `1,234,567.89`.
pub fn decimal(value: f64) -> String {
    decimal_places(value, 2)
}

/// A decimal with `places` places and grouped thousands.
pub fn decimal_places(value: f64, places: u32) -> String {
    let scaled = (value * 10f64.powi(places as i32)).round();
    // Beyond i128 a figure is not a real amount; it is shown at the bound.
    let minor = if scaled.is_finite() {
        scaled as i128
    } else {
        0
    };
    format_minor(minor, places)
}

/// Minor units of `currency` as a decimal amount in its own places: `123456` as `1,234.56` in
/// USD, `123,456` in JPY, `123.456` in BHD.
pub fn money_minor(amount_minor: i128, currency: &str) -> String {
    format_minor(amount_minor, exponent_of(currency))
}

/// Minor units of `currency` in major units: `123456` as `1234.56` in USD, `123456.0` in JPY.
pub fn major(amount_minor: f64, currency: &str) -> f64 {
    amount_minor / 10f64.powi(exponent_of(currency) as i32)
}

/// The unit's label after a number.
pub fn unit_label(unit: Unit, currency: &str) -> String {
    match unit {
        Unit::Percent => "%".into(),
        Unit::Days => "days".into(),
        Unit::Hours => "h".into(),
        Unit::Money => currency.into(),
        Unit::Number => String::new(),
        Unit::Grams => "g CO2e".into(),
    }
}

/// The number a value shows, in its display unit (money in major units of `currency`), or
/// `None`.
pub fn shown(value: &MetricValue, currency: &str) -> Option<f64> {
    let number = value.value?;
    Some(match value.unit {
        Unit::Money => major(number, currency),
        _ => number,
    })
}

/// The value with its unit: `82.40 %`, `3.11 days`, `1,234.56 USD`, `1,500 JPY`, or `no data`.
pub fn value(value: &MetricValue, currency: &str) -> String {
    match shown(value, currency) {
        None => "no data".into(),
        Some(number) => {
            let label = unit_label(value.unit, currency);
            let places = match value.unit {
                Unit::Money => exponent_of(currency),
                _ => 2,
            };
            if label.is_empty() {
                decimal_places(number, places)
            } else {
                format!("{} {label}", decimal_places(number, places))
            }
        }
    }
}

/// The terms behind a value: `412 of 500` for a share, `n = 500` for an average over records,
/// and `from ledger totals` for a figure computed from the money ledger's sums and balances
/// rather than over a population of records.
pub fn terms(value: &MetricValue) -> String {
    match value.unit {
        _ if value.population == 0 && value.value.is_some() => "from ledger totals".to_string(),
        Unit::Percent => format!(
            "{} of {}",
            grouped(value.ratio.numerator),
            grouped(value.ratio.denominator)
        ),
        _ => format!("n = {}", grouped(i128::from(value.population))),
    }
}

/// A metric's display name with its SCOR code: `RL.1.1 Perfect Order Fulfillment`.
pub fn metric_name(id: &str) -> String {
    match metric_info(id) {
        Some(info) if !info.scor_code.is_empty() => format!("{} {}", info.scor_code, info.name),
        Some(info) => info.name.to_string(),
        None => id.to_string(),
    }
}

/// A target value in thousandths of the display unit: `95000` as `95.00`.
pub fn milli(value_milli: i64) -> String {
    decimal(value_milli as f64 / 1000.0)
}

/// A timestamp shortened to the minute: `2025-03-04 13:05 UTC`.
pub fn instant(text: &str) -> String {
    match text.parse::<jiff::Timestamp>() {
        Ok(at) => at.strftime("%Y-%m-%d %H:%M UTC").to_string(),
        Err(_) => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowline_metrics::value::Ratio;

    #[test]
    fn numbers_are_grouped_by_thousands_with_two_decimals() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(-1_234_567), "-1,234,567");
        assert_eq!(decimal(1_234_567.891), "1,234,567.89");
        assert_eq!(decimal(-0.004), "0.00");
        assert_eq!(decimal(-12.5), "-12.50");
        assert_eq!(money_minor(123_456, "USD"), "1,234.56");
        assert_eq!(money_minor(-5, "USD"), "-0.05");
        // The yen has no minor unit and the Bahraini dinar three.
        assert_eq!(money_minor(1_500, "JPY"), "1,500");
        assert_eq!(money_minor(1_500, "BHD"), "1.500");
    }

    #[test]
    fn a_value_shows_its_unit_and_its_terms() {
        // 412 of 500 = 82.4 %.
        let share = MetricValue::new("rl.perfect_order", Ratio::new(412, 500), Unit::Percent, 500);
        assert_eq!(value(&share, "USD"), "82.40 %");
        assert_eq!(terms(&share), "412 of 500");
        // 123,456 minor units = 1,234.56 USD.
        let money = MetricValue::new("co.total_cost", Ratio::new(123_456, 1), Unit::Money, 0);
        assert_eq!(value(&money, "USD"), "1,234.56 USD");
        let none = MetricValue::new("rl.perfect_order", Ratio::new(0, 0), Unit::Percent, 0);
        assert_eq!(value(&none, "USD"), "no data");
    }
}
