//! Money: integer minor units with an ISO 4217 currency. Never floating point.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// An ISO 4217 currency code with a minor unit: USD, EUR, JPY, BHD, ...
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

/// Why a string is not a currency Flowline can book.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", explain(.0))]
pub struct CurrencyError(pub String);

fn explain(code: &str) -> String {
    let upper = code.to_ascii_uppercase();
    if upper != code && iso(&upper).is_some_and(|currency| currency.exponent().is_some()) {
        return format!("currency `{code}` must be written in upper case: `{upper}`");
    }
    if let Some(currency) = iso(&upper) {
        return format!(
            "currency `{code}` ({}) has no minor unit in ISO 4217: precious metals, special \
             drawing rights and test codes are not money Flowline books",
            currency.name()
        );
    }
    format!("currency `{code}` is not an ISO 4217 currency code (e.g. USD, EUR, JPY)")
}

/// The ISO 4217 entry of a code, from the `iso_currency` crate's table.
fn iso(code: &str) -> Option<iso_currency::Currency> {
    iso_currency::Currency::from_code(code)
}

/// The number of decimal places of a currency's minor unit, by its code: the one place that
/// decides how money is written. ISO 4217's minor unit (2 for USD, 0 for JPY, 3 for BHD); 2 for a
/// code ISO 4217 does not know (only a log recorded before codes were checked has one).
pub fn exponent_of(code: &str) -> u32 {
    iso(code)
        .and_then(|currency| currency.exponent())
        .map_or(2, u32::from)
}

/// Minor units as a decimal with `places` places and thousands grouped: `-123456` with 2 places
/// as `-1,234.56`.
pub fn format_minor(amount_minor: i128, places: u32) -> String {
    let digits = amount_minor.unsigned_abs().to_string();
    let places = places as usize;
    let padded = format!("{digits:0>width$}", width = places + 1);
    let (whole, fraction) = padded.split_at(padded.len() - places);
    let mut text = String::with_capacity(padded.len() + whole.len() / 3 + 2);
    if amount_minor < 0 {
        text.push('-');
    }
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    if places > 0 {
        text.push('.');
        text.push_str(fraction);
    }
    text
}

thread_local! {
    /// Set while recorded events are decoded: see [`Currency::decoding_recorded`].
    static RECORDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl Currency {
    /// Parses an ISO 4217 code that has a minor unit (every currency in use: USD, JPY, BHD;
    /// not XAU or XTS), written in upper case.
    pub fn parse(code: &str) -> Result<Self, CurrencyError> {
        let bytes = code.as_bytes();
        let well_formed = bytes.len() == 3 && bytes.iter().all(u8::is_ascii_uppercase);
        if !well_formed || iso(code).and_then(|currency| currency.exponent()).is_none() {
            return Err(CurrencyError(code.to_string()));
        }
        Ok(Self([bytes[0], bytes[1], bytes[2]]))
    }

    /// Runs `decode` accepting, for the currencies it decodes, any code of three upper-case
    /// letters: what builds before this one accepted. A recorded event or a stored answer is
    /// the past, and a log must always replay; only new input is held to ISO 4217.
    pub fn decoding_recorded<R>(decode: impl FnOnce() -> R) -> R {
        struct Reset(bool);
        impl Drop for Reset {
            fn drop(&mut self) {
                RECORDED.with(|flag| flag.set(self.0));
            }
        }
        let _reset = Reset(RECORDED.with(|flag| flag.replace(true)));
        decode()
    }

    fn parse_recorded(code: &str) -> Result<Self, CurrencyError> {
        let bytes = code.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(CurrencyError(code.to_string()));
        }
        Ok(Self([bytes[0], bytes[1], bytes[2]]))
    }

    /// The code as a string slice.
    pub fn as_str(&self) -> &str {
        // The constructors admit only ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// The number of decimal places of the minor unit (2 for USD, 0 for JPY, 3 for KWD), from
    /// ISO 4217; 2 for a code recorded before codes were checked that ISO 4217 does not know.
    pub fn exponent(&self) -> u32 {
        exponent_of(self.as_str())
    }

    /// Minor units as a decimal in this currency's places, thousands grouped: `123456` USD as
    /// `1,234.56`, JPY as `123,456`, BHD as `123.456`.
    pub fn format_minor(&self, amount_minor: i128) -> String {
        format_minor(amount_minor, self.exponent())
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
        if RECORDED.with(std::cell::Cell::get) {
            return Self::parse_recorded(&code).map_err(serde::de::Error::custom);
        }
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
        // Exactly the codes `Currency::parse` admits: ISO 4217's with a minor unit. Numeric
        // codes are three digits, so trying each lists the whole table.
        let mut codes: Vec<&str> = (0..1000)
            .filter_map(iso_currency::Currency::from_numeric)
            .filter(|currency| currency.exponent().is_some())
            .map(|currency| currency.code())
            .collect();
        codes.sort_unstable();
        codes.dedup();
        schemars::json_schema!({
            "type": "string",
            "enum": codes,
            "description": "ISO 4217 currency code with a minor unit, in upper case",
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
    fn only_iso_4217_codes_with_a_minor_unit_are_currencies() {
        assert!(Currency::parse("USD").is_ok());
        assert!(Currency::parse("US").is_err());
        assert!(Currency::parse("USDX").is_err());
        // Well formed, but assigned to no currency by ISO 4217.
        assert_eq!(
            Currency::parse("XYZ").unwrap_err().to_string(),
            "currency `XYZ` is not an ISO 4217 currency code (e.g. USD, EUR, JPY)"
        );
        // A real code in lower case is refused with the spelling that would pass.
        assert_eq!(
            Currency::parse("usd").unwrap_err().to_string(),
            "currency `usd` must be written in upper case: `USD`"
        );
        // Gold (XAU) and the testing code (XTS) are in ISO 4217 without a minor unit.
        assert!(
            Currency::parse("XAU")
                .unwrap_err()
                .to_string()
                .contains("no minor unit")
        );
        assert!(Currency::parse("XTS").is_err());
        // Serde holds input to the same rule, but a recorded event decodes as before.
        assert!(serde_json::from_str::<Currency>("\"XYZ\"").is_err());
        let recorded = Currency::decoding_recorded(|| serde_json::from_str::<Currency>("\"XYZ\""));
        assert_eq!(recorded.unwrap().as_str(), "XYZ");
        assert!(
            serde_json::from_str::<Currency>("\"XYZ\"").is_err(),
            "the leniency ends"
        );
    }

    #[test]
    fn amounts_are_written_in_the_currencys_own_places() {
        // ¥1,500 is 1,500 minor units (the yen has none smaller); $1,234.56 is 123,456 cents;
        // BD 1.234 is 1,234 fils (a thousandth of a dinar).
        assert_eq!(currency("JPY").format_minor(1_500), "1,500");
        assert_eq!(currency("USD").format_minor(123_456), "1,234.56");
        assert_eq!(currency("USD").format_minor(-5), "-0.05");
        assert_eq!(currency("BHD").format_minor(1_234), "1.234");
        assert_eq!(currency("BHD").format_minor(1_234_567_890), "1,234,567.890");
        assert_eq!(currency("EUR").format_minor(0), "0.00");
        assert_eq!(format_minor(-1_000_000, 0), "-1,000,000");
        assert_eq!(
            format_minor(i128::MIN, 2),
            "-1,701,411,834,604,692,317,316,873,037,158,841,057.28"
        );
    }

    #[test]
    fn exponents_follow_iso_4217() {
        // ISO 4217's minor units: 2 for USD and EUR, 0 for JPY, KRW and CLP, 3 for KWD, BHD
        // and OMR, 4 for the Chilean unit of account CLF.
        for (code, exponent) in [
            ("USD", 2),
            ("EUR", 2),
            ("JPY", 0),
            ("KRW", 0),
            ("CLP", 0),
            ("KWD", 3),
            ("BHD", 3),
            ("OMR", 3),
            ("CLF", 4),
        ] {
            assert_eq!(currency(code).exponent(), exponent, "{code}");
        }
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
