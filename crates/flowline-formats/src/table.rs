//! CSV files as tables of text with line numbers, every structural problem located.
//!
//! The `csv` crate does the parsing (RFC 4180 quoting, CRLF or LF line ends, no trailing newline
//! needed). Around it this module adds what an importer needs to report errors well: the line
//! where each record starts, the header names for columns, a UTF-8 check per field, a field
//! count check per record, and the one case `csv` accepts silently — a quoted field that is
//! never closed, which would otherwise swallow the rest of the file into one value.

use crate::error::{Problem, ProblemKind, Problems};
use crate::number;

const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

/// One record: its fields and the line it starts on.
#[derive(Debug)]
pub(crate) struct Record {
    /// 1-based line where the record starts (the header is line 1).
    pub(crate) line: u64,
    fields: Vec<String>,
}

/// Where a field's value comes from: a column named in the header, a column by its 1-based
/// position, or a constant for every row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// The column with this header.
    Name(String),
    /// The column at this 1-based position.
    Position(usize),
    /// This value on every row.
    Value(String),
}

/// A field an importer wants, and where it comes from.
#[derive(Debug, Clone)]
pub(crate) struct Wanted {
    /// The importer's name for the field.
    pub(crate) field: &'static str,
    /// Where its value is.
    pub(crate) source: Source,
}

/// One field found: where it is in a record (or its constant), and the name problems give it
/// (the file's own column name).
#[derive(Debug)]
struct Column {
    field: &'static str,
    index: Option<usize>,
    constant: Option<String>,
    shown: String,
}

/// The records of one file with the columns an importer asked for.
#[derive(Debug)]
pub(crate) struct Table {
    file: String,
    /// The fields asked for, and where each is.
    columns: Vec<Column>,
    /// The records that are structurally sound (right field count, valid UTF-8).
    pub(crate) records: Vec<Record>,
    /// Records whose every field is empty or blank, whatever their field count, as a
    /// spreadsheet saves rows it once formatted (`,,,,`): skipped and counted, never an error.
    pub(crate) empty_rows: u64,
}

/// One field of one record, with everything needed to report a problem with it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field<'t> {
    pub(crate) file: &'t str,
    pub(crate) line: u64,
    /// The column as the file names it.
    pub(crate) column: &'t str,
    pub(crate) value: &'t str,
}

impl Table {
    /// Reads `bytes` as CSV with a header line. Every problem goes to `problems`; returns
    /// `None` when the file cannot be read as a table at all (empty, or a needed column is
    /// missing), otherwise the sound records (records with problems are left out).
    pub(crate) fn read(
        file: &str,
        bytes: &[u8],
        needed: &[&'static str],
        problems: &mut Problems,
    ) -> Option<Table> {
        let wanted: Vec<Wanted> = needed
            .iter()
            .map(|name| Wanted {
                field: name,
                source: Source::Name((*name).to_string()),
            })
            .collect();
        Self::read_mapped(file, bytes, b',', &wanted, problems)
    }

    /// [`Table::read`] of a file whose fields are where `wanted` says, its fields separated by
    /// `delimiter`.
    pub(crate) fn read_mapped(
        file: &str,
        bytes: &[u8],
        delimiter: u8,
        wanted: &[Wanted],
        problems: &mut Problems,
    ) -> Option<Table> {
        let bytes = bytes.strip_prefix(BYTE_ORDER_MARK).unwrap_or(bytes);
        let unterminated = unterminated_quote(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(bytes);
        let lines = LineIndex::new(bytes);
        let mut raw: Vec<(u64, csv::ByteRecord)> = Vec::new();
        for result in reader.byte_records() {
            match result {
                Ok(record) => {
                    let offset = record.position().map_or(0, csv::Position::byte);
                    raw.push((lines.line_of_record_at(offset), record));
                }
                // Reading from memory, with flexible field counts and bytes rather than text,
                // `csv` reports no errors; should that change, the problem is still located.
                Err(error) => problems.push(Problem {
                    file: file.to_string(),
                    line: error.position().map(csv::Position::line),
                    column: None,
                    value: None,
                    kind: ProblemKind::Csv {
                        reason: error.to_string(),
                    },
                }),
            }
        }
        let mut records = raw.into_iter();
        let Some((_, header)) = records.next() else {
            problems.push(file_problem(file, ProblemKind::EmptyFile));
            return None;
        };
        let header = decode_header(file, &header, problems)?;
        let mut columns = Vec::with_capacity(wanted.len());
        let mut missing = false;
        for want in wanted {
            let found = match &want.source {
                Source::Name(name) => header.iter().position(|h| h == name).map(|index| Column {
                    field: want.field,
                    index: Some(index),
                    constant: None,
                    shown: name.clone(),
                }),
                Source::Position(position) => position
                    .checked_sub(1)
                    .filter(|index| *index < header.len())
                    .map(|index| Column {
                        field: want.field,
                        index: Some(index),
                        constant: None,
                        shown: header[index].clone(),
                    }),
                Source::Value(value) => Some(Column {
                    field: want.field,
                    index: None,
                    constant: Some(value.clone()),
                    shown: format!("{} (the mapping's constant)", want.field),
                }),
            };
            match found {
                Some(column) => columns.push(column),
                None => {
                    missing = true;
                    let column = match &want.source {
                        Source::Position(position) => {
                            format!("column {position} (the header has {})", header.len())
                        }
                        Source::Name(name) | Source::Value(name) => name.clone(),
                    };
                    problems.push(Problem {
                        file: file.to_string(),
                        line: Some(1),
                        column: Some(column),
                        value: None,
                        kind: ProblemKind::MissingColumn,
                    });
                }
            }
        }
        if let Some(quote) = &unterminated {
            problems.push(Problem {
                file: file.to_string(),
                line: Some(quote.record_line),
                // A quote opened in the header swallowed the header itself: no column to name.
                column: (quote.record_line > 1)
                    .then(|| header.get(quote.field).cloned())
                    .flatten(),
                value: None,
                kind: ProblemKind::UnterminatedQuote,
            });
        }
        if missing {
            return None;
        }
        let mut table = Table {
            file: file.to_string(),
            columns,
            records: Vec::new(),
            empty_rows: 0,
        };
        for (line, record) in records {
            // The record holding a quote that is never closed runs to the end of the file; it
            // was reported above and its field count would only repeat the same problem.
            if unterminated
                .as_ref()
                .is_some_and(|quote| line >= quote.record_line)
            {
                break;
            }
            if record
                .iter()
                .all(|field| field.iter().all(u8::is_ascii_whitespace))
            {
                table.empty_rows += 1;
                continue;
            }
            if record.len() != header.len() {
                problems.push(Problem {
                    file: file.to_string(),
                    line: Some(line),
                    column: None,
                    value: None,
                    kind: ProblemKind::FieldCount {
                        expected: header.len(),
                        found: record.len(),
                    },
                });
                continue;
            }
            let mut fields = Vec::with_capacity(record.len());
            let mut sound = true;
            for (index, bytes) in record.iter().enumerate() {
                match std::str::from_utf8(bytes) {
                    Ok(text) => fields.push(text.to_string()),
                    Err(error) => {
                        sound = false;
                        problems.push(Problem {
                            file: file.to_string(),
                            line: Some(line),
                            column: header.get(index).cloned(),
                            value: Some(String::from_utf8_lossy(bytes).into_owned()),
                            kind: ProblemKind::InvalidUtf8 {
                                reason: error.to_string(),
                            },
                        });
                    }
                }
            }
            if sound {
                table.records.push(Record { line, fields });
            }
        }
        Some(table)
    }

    /// The file's name.
    pub(crate) fn file(&self) -> &str {
        &self.file
    }

    /// A field of a record, by column name. The name must be one of the columns the table
    /// was read with; any other reads as an empty value.
    pub(crate) fn field<'t>(&'t self, record: &'t Record, column: &'static str) -> Field<'t> {
        let found = self.columns.iter().find(|found| found.field == column);
        let value = found
            .and_then(|found| match (&found.constant, found.index) {
                (Some(constant), _) => Some(constant.as_str()),
                (None, Some(index)) => record.fields.get(index).map(String::as_str),
                (None, None) => None,
            })
            .unwrap_or("");
        Field {
            file: &self.file,
            line: record.line,
            column: found.map_or(column, |found| found.shown.as_str()),
            value,
        }
    }

    /// Every value of a column with its line.
    pub(crate) fn column_values<'t>(
        &'t self,
        column: &'static str,
    ) -> impl Iterator<Item = (u64, &'t str)> + 't {
        self.records
            .iter()
            .map(move |record| (record.line, self.field(record, column).value))
    }
}

impl Field<'_> {
    /// A problem located at this field, showing its value. Boxed, because a problem is large
    /// and the happy path should not pay for moving one around in every `Result`.
    pub(crate) fn problem(&self, kind: ProblemKind) -> Box<Problem> {
        Box::new(Problem {
            file: self.file.to_string(),
            line: Some(self.line),
            column: Some(self.column.to_string()),
            value: Some(self.value.to_string()),
            kind,
        })
    }

    /// The value, which must not be empty.
    pub(crate) fn required(&self) -> Result<&str, Box<Problem>> {
        if self.value.is_empty() {
            Err(self.problem(ProblemKind::EmptyValue))
        } else {
            Ok(self.value)
        }
    }

    /// The value, or `None` when empty.
    pub(crate) fn optional(&self) -> Option<&str> {
        (!self.value.is_empty()).then_some(self.value)
    }

    /// A required amount of money in minor units.
    pub(crate) fn amount_minor(&self) -> Result<i64, Box<Problem>> {
        number::parse_amount_minor(self.required()?)
            .map_err(|reason| self.problem(ProblemKind::Money { reason }))
    }

    /// A required whole number.
    pub(crate) fn whole(&self) -> Result<i64, Box<Problem>> {
        number::parse_whole(self.required()?)
            .map_err(|reason| self.problem(ProblemKind::Number { reason }))
    }

    /// An optional whole number.
    pub(crate) fn optional_whole(&self) -> Result<Option<i64>, Box<Problem>> {
        self.optional()
            .map(|text| {
                number::parse_whole(text)
                    .map_err(|reason| self.problem(ProblemKind::Number { reason }))
            })
            .transpose()
    }

    /// A required identifier, validated by `parse` (one of the domain's id constructors).
    pub(crate) fn id<T, E: std::fmt::Display>(
        &self,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, Box<Problem>> {
        parse(self.required()?).map_err(|error| {
            self.problem(ProblemKind::Identifier {
                reason: error.to_string(),
            })
        })
    }
}

/// Line numbers from byte offsets. `csv` counts lines itself, but after a CRLF it places the
/// next record before the LF and so reports one line too few; counting here is exact for LF,
/// CRLF and blank lines alike.
struct LineIndex<'b> {
    bytes: &'b [u8],
    /// Offsets of every `\n`.
    newlines: Vec<usize>,
}

impl<'b> LineIndex<'b> {
    fn new(bytes: &'b [u8]) -> Self {
        let newlines = bytes
            .iter()
            .enumerate()
            .filter(|(_, byte)| **byte == b'\n')
            .map(|(offset, _)| offset)
            .collect();
        Self { bytes, newlines }
    }

    /// The 1-based line of the first byte of the record `csv` says starts at `offset`: line
    /// ends and blank lines before it belong to the previous record.
    fn line_of_record_at(&self, offset: u64) -> u64 {
        let mut start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        while start < self.bytes.len() && matches!(self.bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        let before = self.newlines.partition_point(|newline| *newline < start);
        u64::try_from(before).map_or(u64::MAX, |count| count + 1)
    }
}

fn file_problem(file: &str, kind: ProblemKind) -> Problem {
    Problem {
        file: file.to_string(),
        line: None,
        column: None,
        value: None,
        kind,
    }
}

/// The header's names; `None` (with the problems recorded) if they are not valid UTF-8 or a
/// name repeats, since no column could then be found reliably.
fn decode_header(
    file: &str,
    header: &csv::ByteRecord,
    problems: &mut Problems,
) -> Option<Vec<String>> {
    let mut names: Vec<String> = Vec::with_capacity(header.len());
    let mut sound = true;
    for bytes in header.iter() {
        let name = match std::str::from_utf8(bytes) {
            Ok(name) => name.to_string(),
            Err(error) => {
                sound = false;
                problems.push(Problem {
                    file: file.to_string(),
                    line: Some(1),
                    column: None,
                    value: Some(String::from_utf8_lossy(bytes).into_owned()),
                    kind: ProblemKind::InvalidUtf8 {
                        reason: error.to_string(),
                    },
                });
                // Kept (lossily) so the names stay aligned with the fields.
                String::from_utf8_lossy(bytes).into_owned()
            }
        };
        if let Some(first) = names.iter().position(|existing| *existing == name) {
            sound = false;
            problems.push(Problem {
                file: file.to_string(),
                line: Some(1),
                column: Some(name.clone()),
                value: None,
                kind: ProblemKind::DuplicateColumn {
                    first_field: first + 1,
                },
            });
        }
        names.push(name);
    }
    sound.then_some(names)
}

/// Where a quoted field that is never closed starts.
#[derive(Debug, PartialEq, Eq)]
struct UnterminatedQuote {
    /// Line where its record starts.
    record_line: u64,
    /// 0-based field index within the record.
    field: usize,
}

/// Finds a quoted field that is never closed, by following the quoting rules `csv` applies
/// (a quote opens a field only at its start; `""` inside is an escaped quote; a record ends at
/// a line break outside quotes). `csv` itself reads such a field to the end of the file without
/// complaint.
fn unterminated_quote(bytes: &[u8]) -> Option<UnterminatedQuote> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::FieldStart;
    let mut line: u64 = 1;
    let mut record_line: u64 = 1;
    let mut field: usize = 0;
    let mut opened = UnterminatedQuote {
        record_line: 1,
        field: 0,
    };
    for &byte in bytes {
        match (state, byte) {
            (State::Quoted, b'"') => state = State::QuoteInQuoted,
            (State::Quoted, b'\n') => line += 1,
            (State::Quoted, _) => {}
            (State::FieldStart, b'"') => {
                opened = UnterminatedQuote { record_line, field };
                state = State::Quoted;
            }
            (State::QuoteInQuoted, b'"') => state = State::Quoted,
            (_, b',') => {
                field += 1;
                state = State::FieldStart;
            }
            (_, b'\n') => {
                line += 1;
                // Blank lines are skipped by `csv`; the next record starts on the next line.
                record_line = line;
                field = 0;
                state = State::FieldStart;
            }
            (_, b'\r') => {
                field = 0;
                state = State::FieldStart;
            }
            _ => {
                state = State::Unquoted;
            }
        }
    }
    (state == State::Quoted).then_some(opened)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8], needed: &[&'static str]) -> (Option<Table>, Vec<Problem>) {
        let mut problems = Problems::default();
        let table = Table::read("f.csv", bytes, needed, &mut problems);
        let problems = problems
            .into_error()
            .map(|error| error.problems().to_vec())
            .unwrap_or_default();
        (table, problems)
    }

    fn values(table: &Table, column: &'static str) -> Vec<(u64, String)> {
        table
            .column_values(column)
            .map(|(line, value)| (line, value.to_string()))
            .collect()
    }

    /// Rows a spreadsheet leaves behind, every field empty or blank and whatever their field
    /// count, are skipped and counted, between real rows and after them: here 3 in between
    /// (`,`, `  ,\t` and a lone `,,,` with too many fields) and 100,000 trailing `,` rows. The
    /// real rows keep their own lines (2 and 6), and a short row that is not empty is still a
    /// field-count problem.
    #[test]
    fn entirely_empty_rows_are_skipped_and_counted_however_many() {
        let mut bytes = b"a,b\r\n1,2\r\n,\r\n  ,\t\r\n,,,\r\n3,4\r\n".to_vec();
        for _ in 0..100_000 {
            bytes.extend_from_slice(b",\r\n");
        }
        let (table, problems) = read(&bytes, &["a", "b"]);
        assert!(problems.is_empty(), "{problems:?}");
        let table = table.unwrap();
        assert_eq!(
            values(&table, "a"),
            vec![(2, "1".to_string()), (6, "3".to_string())]
        );
        assert_eq!(table.empty_rows, 3 + 100_000);

        let (_, problems) = read(b"a,b\n1,2\n5\n", &["a", "b"]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, Some(3));
    }

    #[test]
    fn a_bom_crlf_and_no_trailing_newline_read_like_plain_lf() {
        let (table, problems) = read(b"\xEF\xBB\xBFa,b\r\n1,2\r\n3,4", &["a", "b"]);
        assert!(problems.is_empty(), "{problems:?}");
        let table = table.unwrap();
        // Line 1 is the header, so the records are on lines 2 and 3.
        assert_eq!(
            values(&table, "a"),
            vec![(2, "1".to_string()), (3, "3".to_string())]
        );
        assert_eq!(values(&table, "b")[1], (3, "4".to_string()));
    }

    #[test]
    fn a_multi_line_record_is_located_at_the_line_it_starts_on() {
        // The record on line 2 spans lines 2–4; the next one starts on line 5.
        let bytes = b"id,text,score\n1,\"two\nmore\nlines\",5\n2,plain,4\n";
        let (table, problems) = read(bytes, &["id", "text", "score"]);
        assert!(problems.is_empty(), "{problems:?}");
        let table = table.unwrap();
        assert_eq!(
            values(&table, "score"),
            vec![(2, "5".to_string()), (5, "4".to_string())]
        );
        assert_eq!(values(&table, "text")[0].1, "two\nmore\nlines");
    }

    #[test]
    fn a_record_with_the_wrong_number_of_fields_is_named_by_line() {
        let (table, problems) = read(b"a,b\n1,2\n3\n4,5,6\n", &["a"]);
        assert_eq!(table.unwrap().records.len(), 1);
        assert_eq!(problems.len(), 2);
        assert_eq!(
            problems[0].to_string(),
            "f.csv:3: the record has 1 fields but the header has 2"
        );
        assert_eq!(problems[1].line, Some(4));
    }

    #[test]
    fn an_unterminated_quote_names_the_line_and_column_where_it_opens() {
        // The quote opened in the `text` field of line 3 is never closed.
        let bytes = b"id,text\n1,fine\n2,\"never closed\n3,x\n";
        let (_, problems) = read(bytes, &["id", "text"]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            problems[0].to_string(),
            "f.csv:3: column `text`: a quoted field is never closed: the quote runs to the end of the file"
        );
    }

    #[test]
    fn escaped_quotes_are_not_mistaken_for_an_unterminated_one() {
        assert_eq!(unterminated_quote(b"a,\"say \"\"hi\"\"\"\n"), None);
        assert_eq!(unterminated_quote(b"a,b\"c\n"), None);
        assert_eq!(
            unterminated_quote(b"h\n\"x\n"),
            Some(UnterminatedQuote {
                record_line: 2,
                field: 0
            })
        );
    }

    #[test]
    fn invalid_utf8_is_named_by_line_and_column() {
        let (table, problems) = read(b"a,b\n1,caf\xE9\n2,ok\n", &["a", "b"]);
        assert_eq!(table.unwrap().records.len(), 1);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, Some(2));
        assert_eq!(problems[0].column.as_deref(), Some("b"));
        assert!(matches!(problems[0].kind, ProblemKind::InvalidUtf8 { .. }));
    }

    #[test]
    fn missing_and_duplicate_columns_and_empty_files_are_reported() {
        let (table, problems) = read(b"a,b\n1,2\n", &["a", "c"]);
        assert!(table.is_none());
        assert_eq!(
            problems[0].to_string(),
            "f.csv:1: column `c`: the header has no such column, and the importer needs it"
        );
        let (table, problems) = read(b"a,a\n1,2\n", &["a"]);
        assert!(table.is_none());
        assert!(matches!(
            problems[0].kind,
            ProblemKind::DuplicateColumn { first_field: 1 }
        ));
        let (table, problems) = read(b"", &["a"]);
        assert!(table.is_none());
        assert_eq!(problems[0].kind, ProblemKind::EmptyFile);
    }
}
