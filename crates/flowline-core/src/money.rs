//! Money: integer minor units with an ISO 4217 currency. Never floating point.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// An ISO 4217 currency code: three upper-case ASCII letters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

/// Why a string is not a currency code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("currency `{0}` is not an ISO 4217 code (three upper-case letters, e.g. USD)")]
pub struct CurrencyError(pub String);

/// Currencies whose minor unit is not 1/100 (ISO 4217 exponent 0 or 3).
/// Every other well-formed code is treated as having two decimals.
const EXPONENTS: &[(&str, u32)] = &[
    ("BHD", 3),
    ("BIF", 0),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("IQD", 3),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("PYG", 0),
    ("RWF", 0),
    ("TND", 3),
    ("UGX", 0),
    ("UYI", 0),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
];

impl Currency {
    /// Parses a three-letter upper-case code.
    pub fn parse(code: &str) -> Result<Self, CurrencyError> {
        let bytes = code.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(CurrencyError(code.to_string()));
        }
        Ok(Self([bytes[0], bytes[1], bytes[2]]))
    }

    /// The code as a string slice.
    pub fn as_str(&self) -> &str {
        // The constructor admits only ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// The number of decimal places of the minor unit (2 for USD, 0 for JPY, 3 for KWD).
    pub fn exponent(&self) -> u32 {
        EXPONENTS
            .iter()
            .find(|(code, _)| *code == self.as_str())
            .map_or(2, |(_, exponent)| *exponent)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&code).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Currency {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Currency".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::Currency").into()
    }

    fn json_schema(_generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // The pattern admits exactly what `Currency::parse` admits: three ASCII upper-case
        // letters. Whether the code is actually assigned by ISO 4217 is not checked by either.
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[A-Z]{3}$",
            "description": "ISO 4217 currency code",
        })
    }
}

/// An amount of money: integer minor units (cents, pence, yen) of one currency.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Money {
    /// The amount in minor units; negative for credits or refunds where a sign is meaningful.
    pub amount_minor: i64,
    /// The currency of the amount.
    pub currency: Currency,
}

impl Money {
    /// An amount in minor units.
    pub fn new(amount_minor: i64, currency: Currency) -> Self {
        Self {
            amount_minor,
            currency,
        }
    }

    /// Zero in the given currency.
    pub fn zero(currency: Currency) -> Self {
        Self {
            amount_minor: 0,
            currency,
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exponent = self.currency.exponent();
        if exponent == 0 {
            return write!(f, "{} {}", self.amount_minor, self.currency);
        }
        let scale = 10_i128.pow(exponent);
        let amount = i128::from(self.amount_minor);
        let sign = if amount < 0 { "-" } else { "" };
        let whole = amount.abs() / scale;
        let fraction = amount.abs() % scale;
        write!(
            f,
            "{sign}{whole}.{fraction:0width$} {}",
            self.currency,
            width = exponent as usize
        )
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A conversion rate from a foreign currency into the tenant's base currency, as a decimal with
/// six places: `rate_micro = 1_084_200` means 1 unit of the foreign currency is worth 1.0842
/// units of the base currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ExchangeRate {
    /// The rate times one million.
    pub rate_micro: i64,
}

impl ExchangeRate {
    /// The identity rate (1.0).
    pub const ONE: Self = Self {
        rate_micro: 1_000_000,
    };

    /// Converts `amount` (in `from` minor units) into minor units of `to`, rounding half away
    /// from zero. Returns `None` on overflow.
    ///
    /// Worked example: 100.00 EUR at 1.0842 into USD is 10_000 × 1_084_200 / 10^6 = 10_842
    /// minor units = 108.42 USD; 1,000 JPY at 0.0067 into USD is 1_000 × 6_700 × 10^2 / 10^6
    /// = 670 minor units = 6.70 USD.
    pub fn convert(&self, amount_minor: i64, from: Currency, to: Currency) -> Option<i64> {
        let numerator = i128::from(amount_minor)
            .checked_mul(i128::from(self.rate_micro))?
            .checked_mul(10_i128.checked_pow(to.exponent())?)?;
        let denominator = 1_000_000_i128.checked_mul(10_i128.checked_pow(from.exponent())?)?;
        i64::try_from(divide_rounding(numerator, denominator)).ok()
    }
}

/// Integer division rounding half away from zero. `denominator` must be positive.
pub(crate) fn divide_rounding(numerator: i128, denominator: i128) -> i128 {
    debug_assert!(denominator > 0);
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    if remainder.abs() * 2 >= denominator {
        quotient + numerator.signum()
    } else {
        quotient
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn currency(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    #[test]
    fn currency_codes_must_be_three_upper_case_letters() {
        assert!(Currency::parse("USD").is_ok());
        assert!(Currency::parse("usd").is_err());
        assert!(Currency::parse("US").is_err());
        assert!(Currency::parse("USDX").is_err());
    }

    #[test]
    fn exponents_follow_iso_4217() {
        assert_eq!(currency("USD").exponent(), 2);
        assert_eq!(currency("JPY").exponent(), 0);
        assert_eq!(currency("KWD").exponent(), 3);
    }

    #[test]
    fn money_displays_with_the_currency_exponent() {
        assert_eq!(
            Money::new(123_456, currency("USD")).to_string(),
            "1234.56 USD"
        );
        assert_eq!(Money::new(-5, currency("EUR")).to_string(), "-0.05 EUR");
        assert_eq!(Money::new(1500, currency("JPY")).to_string(), "1500 JPY");
        assert_eq!(Money::new(1_234, currency("KWD")).to_string(), "1.234 KWD");
    }

    #[test]
    fn conversion_rounds_half_away_from_zero_across_exponents() {
        let rate = ExchangeRate {
            rate_micro: 1_084_200,
        };
        assert_eq!(
            rate.convert(10_000, currency("EUR"), currency("USD")),
            Some(10_842)
        );
        let yen = ExchangeRate { rate_micro: 6_700 };
        assert_eq!(
            yen.convert(1_000, currency("JPY"), currency("USD")),
            Some(670)
        );
        // 0.05 EUR at 1.5 = 0.075 -> 0.08 (half away from zero); -0.075 -> -0.08.
        let rate = ExchangeRate {
            rate_micro: 1_500_000,
        };
        assert_eq!(rate.convert(5, currency("EUR"), currency("USD")), Some(8));
        assert_eq!(rate.convert(-5, currency("EUR"), currency("USD")), Some(-8));
    }

    #[test]
    fn conversion_overflow_is_reported_not_wrapped() {
        let rate = ExchangeRate {
            rate_micro: i64::MAX,
        };
        assert_eq!(
            rate.convert(i64::MAX, currency("USD"), currency("USD")),
            None
        );
    }
}
