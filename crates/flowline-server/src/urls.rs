//! Percent-encoding of the parts of addresses the server writes (links, `Link` headers,
//! redirects), by the `percent-encoding` crate: everything but RFC 3986's unreserved
//! characters is escaped.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Escaped in a query name or value: all but `A-Z a-z 0-9 - _ . ~`.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Escaped in a path: the same, but `/` separates its segments.
const PATH: &AsciiSet = &COMPONENT.remove(b'/');

/// `text` as a query name or value: `shipped,delivered` as `shipped%2Cdelivered`.
pub fn component(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// `text` as a path, keeping its `/`: `/orders?x` as `/orders%3Fx`.
pub fn path(text: &str) -> String {
    utf8_percent_encode(text, PATH).to_string()
}

/// A query string of `name=value` pairs, each encoded as a [`component`], joined by `&`.
pub fn query<'p>(pairs: impl IntoIterator<Item = (&'p String, &'p String)>) -> String {
    pairs
        .into_iter()
        .map(|(name, value)| format!("{}={}", component(name), component(value)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unreserved_characters_stay_as_they_are() {
        // RFC 3986 §2.3: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~".
        assert_eq!(component("SO-1_a.b~c"), "SO-1_a.b~c");
        // ',' is 0x2C, ' ' 0x20, '&' 0x26, '=' 0x3D, '/' 0x2F; 'é' is C3 A9 in UTF-8.
        assert_eq!(component("a,b c&d=e/é"), "a%2Cb%20c%26d%3De%2F%C3%A9");
        assert_eq!(path("/orders/SO 1"), "/orders/SO%201");
    }
}
