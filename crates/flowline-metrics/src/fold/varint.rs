//! Variable-length integers for the fold's packed forms (settled verdicts, past days'
//! buckets): seven bits a byte, low bits first, the top bit set on every byte but the last;
//! signed values zigzag-mapped first, so small magnitudes of either sign take one byte.

/// Appends an unsigned integer.
pub(super) fn write_unsigned(out: &mut Vec<u8>, mut value: u128) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends a signed integer.
pub(super) fn write_signed(out: &mut Vec<u8>, value: i128) {
    write_unsigned(out, ((value << 1) ^ (value >> 127)) as u128);
}

/// Reads an unsigned integer from the front of `bytes` and moves past it; `None` if the bytes
/// end inside it or it does not fit 128 bits.
pub(super) fn read_unsigned(bytes: &mut &[u8]) -> Option<u128> {
    // Most are one byte: a distance between counters, a small count.
    if let Some((&byte, rest)) = bytes.split_first()
        && byte < 0x80
    {
        *bytes = rest;
        return Some(u128::from(byte));
    }
    let mut value = 0_u128;
    for shift in (0..128).step_by(7) {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        let bits = u128::from(byte & 0x7f);
        if shift == 126 && bits > 0b11 {
            return None;
        }
        value |= bits << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Moves past an integer without reading it; `None` if the bytes end inside it.
pub(super) fn skip(bytes: &mut &[u8]) -> Option<()> {
    let end = bytes.iter().position(|byte| byte & 0x80 == 0)?;
    *bytes = &bytes[end + 1..];
    Some(())
}

/// Reads a signed integer written by [`write_signed`].
pub(super) fn read_signed(bytes: &mut &[u8]) -> Option<i128> {
    let zigzag = read_unsigned(bytes)?;
    Some((zigzag >> 1) as i128 ^ -((zigzag & 1) as i128))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_read_back_at_their_expected_lengths() {
        // Zigzag: 0 → 0, -1 → 1, 1 → 2, -64 → 127 (one byte), 64 → 128 (two bytes).
        let cases: [(i128, usize); 7] = [
            (0, 1),
            (-1, 1),
            (63, 1),
            (-64, 1),
            (64, 2),
            (i128::MAX, 19),
            (i128::MIN, 19),
        ];
        for (value, length) in cases {
            let mut out = Vec::new();
            write_signed(&mut out, value);
            assert_eq!(out.len(), length, "{value}");
            let mut bytes = out.as_slice();
            assert_eq!(read_signed(&mut bytes), Some(value));
            assert!(bytes.is_empty());
        }
        // 300 = 0b10_0101100: 0xac (low seven bits, more to come), then 0x02.
        let mut out = Vec::new();
        write_unsigned(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
    }

    #[test]
    fn skipping_moves_past_one_integer() {
        let mut out = Vec::new();
        write_signed(&mut out, -1_000_000);
        write_unsigned(&mut out, 5);
        let mut bytes = out.as_slice();
        assert_eq!(skip(&mut bytes), Some(()));
        assert_eq!(read_unsigned(&mut bytes), Some(5));
        assert_eq!(skip(&mut [0x80_u8].as_slice()), None);
    }

    #[test]
    fn truncated_or_oversized_integers_are_refused() {
        assert_eq!(read_unsigned(&mut [0x80_u8, 0x80].as_slice()), None);
        assert_eq!(read_unsigned(&mut [].as_slice()), None);
        // Nineteen bytes carry 133 bits; a last byte above 0b11 would need more than 128.
        let mut too_wide = vec![0xff_u8; 18];
        too_wide.push(0x04);
        assert_eq!(read_unsigned(&mut too_wide.as_slice()), None);
        let mut widest = vec![0xff_u8; 18];
        widest.push(0x03);
        assert_eq!(read_unsigned(&mut widest.as_slice()), Some(u128::MAX));
    }
}
