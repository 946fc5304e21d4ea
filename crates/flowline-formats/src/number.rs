//! Exact parsing of decimal amounts and whole numbers: digits to integers, never through a
//! floating-point value (0.1 + 0.2 is not 0.3 in binary, and money must add up to the cent).

/// The largest amount accepted, in minor units: 100 billion in a two-decimal currency. Far above
/// any real order, and low enough that the sum of a million of them still fits an `i64`, so
/// totals never overflow.
pub(crate) const AMOUNT_MINOR_MAX: i64 = 10_000_000_000_000;

/// The largest whole number accepted (weights, counts, sequence numbers).
const WHOLE_MAX: i64 = 1_000_000_000_000;

/// Parses a non-negative decimal amount with at most two decimals into minor units:
/// `"58.90"` → 5890, `"58.9"` → 5890, `"58"` → 5800.
pub(crate) fn parse_amount_minor(text: &str) -> Result<i64, String> {
    if text.starts_with('-') {
        return Err("must not be negative".into());
    }
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (text, ""),
    };
    if whole.is_empty() {
        return Err("expected digits before the decimal point, e.g. 58.90".into());
    }
    if text.contains('.') && fraction.is_empty() {
        return Err("expected digits after the decimal point, e.g. 58.90".into());
    }
    if fraction.len() > 2 {
        return Err(format!(
            "has {} decimals; amounts have at most 2 (minor units are cents)",
            fraction.len()
        ));
    }
    let whole_value = digits(whole)?;
    let mut fraction_value = digits_or_zero(fraction)?;
    if fraction.len() == 1 {
        fraction_value *= 10;
    }
    whole_value
        .checked_mul(100)
        .and_then(|minor| minor.checked_add(fraction_value))
        .filter(|minor| *minor <= AMOUNT_MINOR_MAX)
        .ok_or_else(|| format!("is larger than the limit of {}", AMOUNT_MINOR_MAX / 100))
}

/// Parses a non-negative whole number.
pub(crate) fn parse_whole(text: &str) -> Result<i64, String> {
    if text.starts_with('-') {
        return Err("must not be negative".into());
    }
    let value = digits(text)?;
    if value > WHOLE_MAX {
        return Err(format!("is larger than the limit of {WHOLE_MAX}"));
    }
    Ok(value)
}

fn digits_or_zero(text: &str) -> Result<i64, String> {
    if text.is_empty() { Ok(0) } else { digits(text) }
}

/// ASCII digits only: no sign, no spaces, no thousands separators (a `1.234,56` written by a
/// pt-BR spreadsheet must be refused rather than read as 1.234).
fn digits(text: &str) -> Result<i64, String> {
    if text.is_empty() {
        return Err("expected digits".into());
    }
    let mut value: i64 = 0;
    for character in text.chars() {
        let Some(digit) = character.to_digit(10) else {
            return Err(format!("{character:?} is not a digit"));
        };
        value = value
            .checked_mul(10)
            .and_then(|shifted| shifted.checked_add(i64::from(digit)))
            .ok_or_else(|| "is too large".to_string())?;
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_exactly_into_minor_units() {
        // 58.90 BRL is 58 reais and 90 centavos: 58 × 100 + 90 = 5890.
        assert_eq!(parse_amount_minor("58.90"), Ok(5890));
        // One decimal means tenths: 58.9 = 58.90.
        assert_eq!(parse_amount_minor("58.9"), Ok(5890));
        assert_eq!(parse_amount_minor("58"), Ok(5800));
        assert_eq!(parse_amount_minor("0.01"), Ok(1));
        assert_eq!(parse_amount_minor("0"), Ok(0));
        // A value that has no exact binary representation stays exact: 0.29 is not
        // 0.28999999999999998 × 100 = 28 when truncated.
        assert_eq!(parse_amount_minor("0.29"), Ok(29));
        assert_eq!(parse_amount_minor("6735.00"), Ok(673_500));
    }

    #[test]
    fn malformed_amounts_say_why() {
        assert_eq!(
            parse_amount_minor("12,50"),
            Err("',' is not a digit".to_string())
        );
        assert_eq!(
            parse_amount_minor("1.999"),
            Err("has 3 decimals; amounts have at most 2 (minor units are cents)".to_string())
        );
        assert_eq!(
            parse_amount_minor("-3.00"),
            Err("must not be negative".to_string())
        );
        assert!(parse_amount_minor(".5").is_err());
        assert!(parse_amount_minor("5.").is_err());
        assert!(parse_amount_minor("").is_err());
        assert!(parse_amount_minor("1e3").is_err());
        assert!(parse_amount_minor("99999999999999999999").is_err());
        assert!(parse_amount_minor("100000000000.01").is_err());
    }

    #[test]
    fn whole_numbers_refuse_decimals_and_signs() {
        assert_eq!(parse_whole("225"), Ok(225));
        assert_eq!(parse_whole("007"), Ok(7));
        assert!(parse_whole("2.5").is_err());
        assert!(parse_whole("-1").is_err());
        assert!(parse_whole(" 1").is_err());
    }
}
