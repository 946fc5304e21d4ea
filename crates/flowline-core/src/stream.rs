//! The name of a document's stream in the log: its kind and id, written `kind/id`
//! (`sales_order/SO-1`). Every place that writes or reads a stream name goes through
//! [`StreamName`], so the format lives here alone.

use std::fmt;

use crate::error::DocumentKind;

/// A document's stream: `kind/id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StreamName {
    kind: DocumentKind,
    id: String,
}

impl StreamName {
    /// The stream of the document `kind` `id`.
    pub fn new(kind: DocumentKind, id: impl fmt::Display) -> Self {
        Self {
            kind,
            id: id.to_string(),
        }
    }

    /// Reads `kind/id`; `None` if the text has no `/` or names no kind. The id is everything
    /// after the first `/`.
    pub fn parse(text: &str) -> Option<Self> {
        let (kind, id) = text.split_once('/')?;
        Some(Self {
            kind: DocumentKind::parse(kind)?,
            id: id.to_string(),
        })
    }

    /// The document's kind.
    pub fn kind(&self) -> DocumentKind {
        self.kind
    }

    /// The document's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The text every stream name of `kind` starts with (`sales_order/`).
    pub fn prefix(kind: &str) -> String {
        format!("{kind}/")
    }

    /// The smallest text after every stream name of `kind` (`sales_order0`: `0` is the
    /// character after `/`), so `prefix(kind) < name < end(kind)` selects the kind's streams in
    /// an ordered index and no other kind's (`sales_order_line/…` sorts after it).
    pub fn end(kind: &str) -> String {
        format!("{kind}0")
    }

    /// The id of a stream name of `kind`, if it is one.
    pub fn id_in<'n>(kind: &str, name: &'n str) -> Option<&'n str> {
        name.strip_prefix(&Self::prefix(kind))
    }
}

impl fmt::Display for StreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_name_is_its_kind_a_slash_and_its_id() {
        let name = StreamName::new(DocumentKind::SalesOrder, "SO-1");
        assert_eq!(name.to_string(), "sales_order/SO-1");
        assert_eq!(StreamName::parse("sales_order/SO-1"), Some(name));
        // Every kind reads back from its own name.
        for kind in DocumentKind::ALL {
            let text = StreamName::new(kind, "X").to_string();
            assert_eq!(StreamName::parse(&text).map(|name| name.kind()), Some(kind));
        }
        // No slash, or a kind that does not exist, is no stream name.
        assert_eq!(StreamName::parse("sales_order"), None);
        assert_eq!(StreamName::parse("spaceship/X"), None);
        // The range of a kind holds its names and not a longer kind's: "sales_order/…" sorts
        // between "sales_order/" and "sales_order0" ('/' is 0x2F, '0' 0x30); "sales_order_…"
        // ('_' is 0x5F) sorts after it.
        let (low, high) = (
            StreamName::prefix("sales_order"),
            StreamName::end("sales_order"),
        );
        assert!(low.as_str() < "sales_order/SO-1" && "sales_order/SO-1" < high.as_str());
        assert!("sales_order_line/X" > high.as_str());
        assert_eq!(
            StreamName::id_in("sales_order", "sales_order/SO-1"),
            Some("SO-1")
        );
        assert_eq!(StreamName::id_in("sales_order", "item/MUG"), None);
    }
}
