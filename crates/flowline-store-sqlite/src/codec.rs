//! How event payloads and stored responses are encoded in the SQLite file.
//!
//! A stored value is one byte naming its encoding, then the value:
//!
//! - `0`: the text as it is (UTF-8 JSON).
//! - `n` (1 to 255): a zstd frame without its 4-byte magic number, compressed with dictionary
//!   `n` of the `dictionaries` table. The frame carries its content size but no checksum (events
//!   have their own) and no dictionary id (the first byte names it).
//!
//! Payloads are a few hundred bytes of JSON whose keys, enum values, ids and shapes repeat from
//! event to event. Compressed one by one without a dictionary, they shrink only 1.4 to 2.4
//! times (the ledger benchmark's events from 518 bytes to 212, the metrics benchmark's from 284
//! to 198), because each is too short for a compressor to learn from. A dictionary is what the
//! compressor would have learned: with one of 32 KiB trained on events and responses, the same
//! events are stored in 49 and 38 bytes, and stored responses in 103 bytes instead of 1,154
//! (averages over samples not trained on; `dictionary/README.md` says how they are measured).
//!
//! The dictionary this build writes with is compiled in ([`BUILT_IN`]; how it was trained is in
//! `dictionary/README.md`). Every dictionary a file was written with is kept in the file, so a
//! later build that trains another one still reads what earlier builds wrote.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;
use zstd_safe::{CCtx, CDict, CParameter, DCtx, DDict};

/// The dictionary new values are compressed with.
pub(crate) const BUILT_IN: &[u8] = include_bytes!("../dictionary/payload.dict");

/// zstd's default level: levels 1 and 3 compress these small values equally fast, and 3 a few
/// per cent smaller; 6 took three times as long for 5 % less.
const LEVEL: i32 = 3;

/// The first byte of a value stored as text.
const RAW: u8 = 0;

/// zstd's frame magic number, as it starts every frame.
const MAGIC: [u8; 4] = 0xFD2F_B528_u32.to_le_bytes();

/// A frame that claims to decompress to more than this is taken for damage, not allocated.
const MAX_DECODED: u64 = 1 << 30;

/// The built-in dictionary prepared for compression once per process; `None` if zstd could not
/// allocate it, in which case values are stored as text.
static BUILT_IN_ENCODER: LazyLock<Option<CDict<'static>>> =
    LazyLock::new(|| CDict::try_create(BUILT_IN, LEVEL));

/// Why a stored value could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// It names a dictionary this codec has not loaded.
    UnknownDictionary(u8),
    /// Anything else: the reason.
    Damaged(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownDictionary(id) => write!(f, "names dictionary {id}, which the file lacks"),
            Self::Damaged(reason) => f.write_str(reason),
        }
    }
}

/// The encoder and decoder of one connection, with the dictionaries of its file.
pub(crate) struct Codec {
    /// The compressor and the id its dictionary has in this file; `None`: values are written
    /// as text.
    writer: Option<(u8, CCtx<'static>)>,
    reader: Option<DCtx<'static>>,
    dictionaries: HashMap<u8, DDict<'static>>,
    /// Reused for the value being encoded, or the frame being decoded.
    buffer: Vec<u8>,
}

impl fmt::Debug for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<&u8> = self.dictionaries.keys().collect();
        ids.sort();
        f.debug_struct("Codec")
            .field("writing_with", &self.writer.as_ref().map(|(id, _)| id))
            .field("dictionaries", &ids)
            .finish()
    }
}

impl Codec {
    /// A codec with no dictionaries: it writes text and reads only text.
    pub(crate) fn new() -> Self {
        Self {
            writer: None,
            reader: None,
            dictionaries: HashMap::new(),
            buffer: Vec::new(),
        }
    }

    /// Whether dictionary `id` is loaded.
    pub(crate) fn knows(&self, id: u8) -> bool {
        self.dictionaries.contains_key(&id)
    }

    /// Loads dictionary `id` of the file for reading; if it is the built-in dictionary, new
    /// values are compressed with it. Returns false if zstd could not prepare it.
    pub(crate) fn load(&mut self, id: u8, bytes: &[u8]) -> bool {
        if id == RAW {
            return false;
        }
        let Some(dictionary) = DDict::try_create(bytes) else {
            return false;
        };
        self.dictionaries.insert(id, dictionary);
        if bytes == BUILT_IN
            && let Some(writer) = built_in_compressor()
        {
            self.writer = Some((id, writer));
        }
        true
    }

    /// The stored form of `text`: compressed when that makes it smaller, else the text itself.
    /// The slice lives until the next call.
    pub(crate) fn encode(&mut self, text: &str) -> &[u8] {
        let bytes = text.as_bytes();
        if let Some((id, compressor)) = &mut self.writer {
            self.buffer.clear();
            self.buffer.reserve(zstd_safe::compress_bound(bytes.len()));
            // The frame's magic number is dropped and its last byte overwritten by the id.
            if let Ok(written) = compressor.compress2(&mut self.buffer, bytes)
                && written > MAGIC.len()
                && written - (MAGIC.len() - 1) < bytes.len() + 1
            {
                self.buffer[MAGIC.len() - 1] = *id;
                return &self.buffer[MAGIC.len() - 1..];
            }
        }
        self.buffer.clear();
        self.buffer.push(RAW);
        self.buffer.extend_from_slice(bytes);
        &self.buffer
    }

    /// The text of a stored value.
    pub(crate) fn decode(&mut self, stored: &[u8]) -> Result<String, DecodeError> {
        let Some((&first, rest)) = stored.split_first() else {
            return Err(DecodeError::Damaged("is empty".into()));
        };
        let bytes = if first == RAW {
            rest.to_vec()
        } else {
            let Some(dictionary) = self.dictionaries.get(&first) else {
                return Err(DecodeError::UnknownDictionary(first));
            };
            self.buffer.clear();
            self.buffer.extend_from_slice(&MAGIC);
            self.buffer.extend_from_slice(rest);
            let size = match zstd_safe::get_frame_content_size(&self.buffer) {
                Ok(Some(size)) if size <= MAX_DECODED => size,
                Ok(Some(size)) => {
                    return Err(DecodeError::Damaged(format!(
                        "claims to decompress to {size} bytes"
                    )));
                }
                Ok(None) | Err(_) => {
                    return Err(DecodeError::Damaged("has no readable frame header".into()));
                }
            };
            let capacity = usize::try_from(size)
                .map_err(|_| DecodeError::Damaged(format!("{size} bytes do not fit")))?;
            let mut decoded = Vec::with_capacity(capacity);
            let reader = match &mut self.reader {
                Some(reader) => reader,
                None => self.reader.insert(DCtx::try_create().ok_or_else(|| {
                    DecodeError::Damaged("no memory for a decompression context".into())
                })?),
            };
            let written = reader
                .decompress_using_ddict(&mut decoded, &self.buffer, dictionary)
                .map_err(|code| {
                    DecodeError::Damaged(format!(
                        "does not decompress: {}",
                        zstd_safe::get_error_name(code)
                    ))
                })?;
            if written != capacity {
                return Err(DecodeError::Damaged(format!(
                    "decompressed to {written} bytes, not the {capacity} its header says"
                )));
            }
            decoded
        };
        String::from_utf8(bytes).map_err(|_| DecodeError::Damaged("is not valid UTF-8".into()))
    }
}

/// A compressor using the built-in dictionary, without checksum or dictionary id in its frames.
fn built_in_compressor() -> Option<CCtx<'static>> {
    let dictionary: &'static CDict<'static> = BUILT_IN_ENCODER.as_ref()?;
    let mut compressor = CCtx::try_create()?;
    compressor.ref_cdict(dictionary).ok()?;
    compressor
        .set_parameter(CParameter::ChecksumFlag(false))
        .ok()?;
    compressor
        .set_parameter(CParameter::DictIdFlag(false))
        .ok()?;
    compressor
        .set_parameter(CParameter::ContentSizeFlag(true))
        .ok()?;
    Some(compressor)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail by panicking.
mod tests {
    use super::*;

    const SHIPPED: &str = r#"{"type":"SalesOrderShipped","order":"SO-838","shipment":"SH-838","location":"FC-1","carrier":"UPS","service":"ground","tracking":null,"weight_g":900,"lines":[{"line":0,"quantity":1}],"values_minor":[500],"at":"2025-01-05T00:04:31Z","effects":{"moves":[{"sku":"SKU","from":"FC-1","to":"customer","quantity":1,"value_minor":500}],"reservations":[{"sku":"SKU","location":"FC-1","quantity":-1}],"journal":{"postings":[{"account":{"account":"cost_of_goods_sold"},"amount":{"amount_minor":500,"currency":"USD"}},{"account":{"account":"inventory"},"amount":{"amount_minor":-500,"currency":"USD"}}]}}}"#;

    fn with_built_in(id: u8) -> Codec {
        let mut codec = Codec::new();
        assert!(codec.load(id, BUILT_IN));
        codec
    }

    #[test]
    fn an_event_compresses_with_the_built_in_dictionary_and_decodes_to_the_same_text() {
        let mut codec = with_built_in(1);
        let stored = codec.encode(SHIPPED).to_vec();
        assert_eq!(stored[0], 1);
        // 556 bytes of JSON; the dictionary holds its keys and most of its values.
        assert!(stored.len() < SHIPPED.len() / 4, "{} bytes", stored.len());
        assert_eq!(codec.decode(&stored).unwrap(), SHIPPED);
        // A second codec (another connection) reads it too.
        assert_eq!(with_built_in(1).decode(&stored).unwrap(), SHIPPED);
    }

    #[test]
    fn text_that_compression_would_not_shrink_is_stored_as_it_is() {
        let mut codec = with_built_in(1);
        for text in ["", "{}", "é"] {
            let stored = codec.encode(text).to_vec();
            assert_eq!(stored[0], RAW);
            assert_eq!(&stored[1..], text.as_bytes());
            assert_eq!(codec.decode(&stored).unwrap(), text);
        }
    }

    #[test]
    fn without_a_dictionary_values_are_text_and_compressed_ones_name_what_is_missing() {
        let mut plain = Codec::new();
        let stored = plain.encode(SHIPPED).to_vec();
        assert_eq!(stored[0], RAW);
        assert_eq!(plain.decode(&stored).unwrap(), SHIPPED);
        let compressed = with_built_in(7).encode(SHIPPED).to_vec();
        assert_eq!(
            plain.decode(&compressed),
            Err(DecodeError::UnknownDictionary(7))
        );
    }

    #[test]
    fn damaged_values_are_errors_not_panics() {
        let mut codec = with_built_in(1);
        let stored = codec.encode(SHIPPED).to_vec();
        let mut cases: Vec<Vec<u8>> = vec![
            Vec::new(),
            vec![1],
            vec![1, 0xFF, 0xFF],
            vec![RAW, 0xFF, 0x7B],
            stored[..stored.len() / 2].to_vec(),
        ];
        for index in 1..stored.len() {
            let mut flipped = stored.clone();
            flipped[index] ^= 0x55;
            cases.push(flipped);
        }
        for case in cases {
            // Every damaged frame either fails to decode or decodes to other text (which the
            // event checksum then catches); none panics.
            if let Ok(text) = codec.decode(&case) {
                assert_ne!(text, SHIPPED, "{case:?}");
            }
        }
    }

    #[test]
    fn a_frame_claiming_an_absurd_size_is_refused_before_allocating() {
        let mut codec = with_built_in(1);
        // Frame header: single segment, 8-byte content size of 2^40; nothing after it.
        let mut stored = vec![1, 0xE0];
        stored.extend_from_slice(&(1u64 << 40).to_le_bytes());
        match codec.decode(&stored) {
            Err(DecodeError::Damaged(reason)) => assert!(reason.contains("claims"), "{reason}"),
            other => panic!("expected Damaged, got {other:?}"),
        }
    }
}
