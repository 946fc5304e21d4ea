//! CSV files of any layout, read into master data and opening stock through a mapping file.
//!
//! A mapping (TOML) says where each field of the kind is in the file and how the file writes
//! numbers:
//!
//! ```toml
//! delimiter = ";"        # one character; "," when absent
//! decimal = ","          # the decimal separator; "." when absent
//! thousands = "."        # a thousands separator to drop; none when absent
//! time_zone = "Europe/Berlin"   # dates' zone; the tenant's reporting zone when absent
//! day_order = "month-first"     # 3/4/2024 is March 4; decided from the values when absent
//!
//! [columns]
//! sku = "Artikelnummer"              # the column with this header
//! name = 2                           # the column at this position (1 is the first)
//! currency = { value = "EUR" }       # the same value on every row
//! ```
//!
//! The fields of each [`Kind`] are listed by [`Kind::fields`]; a required field must be
//! mapped, an unknown one is refused. Without a mapping file ([`native`]), a file is read as
//! `flowline export` writes it: each field under its own name. The whole file is read before anything is returned:
//! every malformed value is reported with its file, line and column (the file's own column
//! name), and rows a spreadsheet leaves entirely empty are skipped and counted. Whether the
//! items and centers named exist, and the like, is for the commands to decide.

use crate::error::{ImportError, Problem, ProblemKind, Problems};
use crate::number;
use crate::table::{Field, Source, Table, Wanted};
use crate::timestamp::{ColumnReader, DayOrder, DayOrderDecision, detect_day_order};
use flowline_core::Command;
use flowline_core::documents::inventory::{AdjustLineInput, AdjustStock};
use flowline_core::documents::purchase_order::{PlacePurchaseOrder, PurchaseLine};
use flowline_core::documents::sales_order::{OrderLineInput, PlaceSalesOrder};
use flowline_core::id::{
    AdjustmentId, ChannelId, CustomerId, LocationId, PurchaseOrderId, ReasonCode, SalesOrderId,
    Sku, SupplierId,
};
use flowline_core::master::{Address, TimeZoneName};
use flowline_core::money::{Currency, Money};
use flowline_core::state::{DefineItem, DefineLocation, DefineSupplier};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::collections::BTreeMap;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Items: one `DefineItem` per row.
    Items,
    /// Fulfillment centers: one `DefineLocation` per row.
    Locations,
    /// Opening stock: rows of (center, SKU, quantity, unit cost), one `AdjustStock` with
    /// reason `opening_balance` per center.
    OpeningStock,
    /// Sales orders, one row per line (order-level fields from an order's first row): one
    /// `PlaceSalesOrder` per order, at its `placed_at` in business time.
    SalesOrders,
    /// Suppliers: one `DefineSupplier` per row.
    Suppliers,
    /// Purchase orders, one row per line: one `PlacePurchaseOrder` per order, at its
    /// `placed_at` when the file has one.
    PurchaseOrders,
}

impl Kind {
    /// Every kind, by its command-line name.
    pub const ALL: [(&'static str, Kind); 6] = [
        ("items", Kind::Items),
        ("locations", Kind::Locations),
        ("suppliers", Kind::Suppliers),
        ("opening-stock", Kind::OpeningStock),
        ("purchase-orders", Kind::PurchaseOrders),
        ("sales-orders", Kind::SalesOrders),
    ];

    /// The kind named `name` (`items`, `locations`, `opening-stock`).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, kind)| *kind)
    }

    /// Its fields, each with whether it is required.
    pub fn fields(self) -> &'static [(&'static str, bool)] {
        match self {
            Kind::Items => &[
                ("sku", true),
                ("name", true),
                ("currency", true),
                ("unit_cost", true),
                ("price", true),
                ("unit", false),
                ("weight_g", false),
                ("category", false),
                ("hs_code", false),
                ("country_of_origin", false),
            ],
            Kind::Locations => &[
                ("location", true),
                ("name", true),
                ("country", true),
                ("time_zone", true),
                ("region", false),
                ("city", false),
                ("state", false),
                ("postal_code", false),
                ("address_line", false),
                ("capacity_orders_per_day", false),
            ],
            Kind::OpeningStock => &[
                ("location", true),
                ("sku", true),
                ("quantity", true),
                ("unit_cost", false),
            ],
            Kind::SalesOrders => &[
                ("order", true),
                ("placed_at", true),
                ("channel", true),
                ("customer", true),
                ("currency", true),
                ("sku", true),
                ("quantity", true),
                ("unit_price", true),
                ("ship_country", true),
                ("ship_time_zone", true),
                ("unit_tax", false),
                ("shipping_charge", false),
                ("ship_city", false),
                ("ship_state", false),
                ("ship_postal_code", false),
            ],
            Kind::Suppliers => &[
                ("supplier", true),
                ("name", true),
                ("currency", true),
                ("lead_time_days", true),
                ("country", true),
                ("minimum_order_quantity", false),
                ("payment_terms_days", false),
            ],
            Kind::PurchaseOrders => &[
                ("purchase_order", true),
                ("supplier", true),
                ("location", true),
                ("currency", true),
                ("sku", true),
                ("quantity", true),
                ("unit_price", true),
                ("placed_at", false),
                ("requested_on", false),
            ],
        }
    }
}

/// Where a kind's fields are in a file, and how it writes numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    delimiter: u8,
    decimal: char,
    thousands: Option<char>,
    time_zone: Option<String>,
    day_order: Option<DayOrder>,
    columns: BTreeMap<String, Source>,
}

impl Mapping {
    /// The time zone the file's dates and times are civil times of, when the mapping names
    /// one (`time_zone = "Europe/Berlin"`).
    pub fn time_zone(&self) -> Option<&str> {
        self.time_zone.as_deref()
    }
}

/// Reads a mapping file (`text`, the contents of `file`) for `kind`.
///
/// # Errors
///
/// Every problem of the mapping: TOML that does not parse (with its line), a separator that
/// is not one character, a field the kind does not have, a required field not mapped, a
/// column given as something other than a name, a position or `{ value = "…" }`.
pub fn mapping(file: &str, text: &str, kind: Kind) -> Result<Mapping, ImportError> {
    let mut problems = Problems::default();
    let problem = |line: Option<u64>, column: Option<&str>, reason: String| Problem {
        file: file.to_string(),
        line,
        column: column.map(str::to_string),
        value: None,
        kind: ProblemKind::Mapping { reason },
    };
    let table: toml::Table = match toml::from_str(text) {
        Ok(table) => table,
        Err(error) => {
            let line = error
                .span()
                .map(|span| text[..span.start.min(text.len())].matches('\n').count() as u64 + 1);
            problems.push(problem(line, None, error.message().to_string()));
            return problems.into_result(Mapping::default());
        }
    };
    let mut mapping = Mapping::default();
    let character = |key: &str, problems: &mut Problems| -> Option<char> {
        let value = table.get(key)?;
        let mut characters = value.as_str().unwrap_or_default().chars();
        match (characters.next(), characters.next()) {
            (Some(character), None) if character.is_ascii() && character != '"' => Some(character),
            _ => {
                problems.push(problem(
                    None,
                    Some(key),
                    format!("`{key}` is one ASCII character other than `\"`, such as \";\""),
                ));
                None
            }
        }
    };
    if let Some(delimiter) = character("delimiter", &mut problems) {
        mapping.delimiter = delimiter as u8;
    }
    if let Some(decimal) = character("decimal", &mut problems) {
        mapping.decimal = decimal;
    }
    mapping.thousands = character("thousands", &mut problems);
    if let Some(zone) = table.get("time_zone") {
        match zone.as_str().map(jiff::tz::TimeZone::get) {
            Some(Ok(_)) => mapping.time_zone = zone.as_str().map(str::to_string),
            _ => problems.push(problem(
                None,
                Some("time_zone"),
                "an IANA time zone, such as \"Europe/Berlin\"".into(),
            )),
        }
    }
    if let Some(order) = table.get("day_order") {
        match order.as_str() {
            Some("day-first") => mapping.day_order = Some(DayOrder::DayFirst),
            Some("month-first") => mapping.day_order = Some(DayOrder::MonthFirst),
            _ => problems.push(problem(
                None,
                Some("day_order"),
                "\"month-first\" (3/14/2024) or \"day-first\" (14/3/2024)".into(),
            )),
        }
    }
    const SETTINGS: [&str; 6] = [
        "delimiter",
        "decimal",
        "thousands",
        "time_zone",
        "day_order",
        "columns",
    ];
    for key in table.keys() {
        if !SETTINGS.contains(&key.as_str()) {
            problems.push(problem(
                None,
                Some(key),
                format!("unknown setting: a mapping has {}", SETTINGS.join(", ")),
            ));
        }
    }
    let fields = kind.fields();
    let columns = table.get("columns").and_then(toml::Value::as_table);
    for (name, value) in columns.into_iter().flatten() {
        if !fields.iter().any(|(field, _)| field == name) {
            let known: Vec<&str> = fields.iter().map(|(field, _)| *field).collect();
            problems.push(problem(
                None,
                Some(name),
                format!(
                    "this kind has no such field; its fields are {}",
                    known.join(", ")
                ),
            ));
            continue;
        }
        let source = match value {
            toml::Value::String(header) => Some(Source::Name(header.clone())),
            toml::Value::Integer(position) => usize::try_from(*position)
                .ok()
                .filter(|position| *position >= 1)
                .map(Source::Position),
            toml::Value::Table(constant) => match constant.get("value") {
                Some(toml::Value::String(value)) if constant.len() == 1 => {
                    Some(Source::Value(value.clone()))
                }
                _ => None,
            },
            _ => None,
        };
        match source {
            Some(source) => {
                mapping.columns.insert(name.clone(), source);
            }
            None => problems.push(problem(
                None,
                Some(name),
                "give a header name (\"SKU\"), a position from 1 (3) or a constant \
                 ({ value = \"EUR\" })"
                    .into(),
            )),
        }
    }
    for (field, required) in fields {
        if *required && !mapping.columns.contains_key(*field) {
            problems.push(problem(
                None,
                Some(field),
                "required, and not mapped in [columns]".into(),
            ));
        }
    }
    problems.into_result(mapping)
}

/// The mapping of a file written as `flowline export` writes the kind: `,` between fields,
/// `.` before decimals, and each of the kind's fields under its own name, those the header
/// has.
pub fn native(kind: Kind, bytes: &[u8]) -> Mapping {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let header: Vec<String> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .next()
        .and_then(Result::ok)
        .map(|record| record.iter().map(str::to_string).collect())
        .unwrap_or_default();
    let columns = kind
        .fields()
        .iter()
        .filter(|(field, required)| *required || header.iter().any(|name| name == field))
        .map(|(field, _)| ((*field).to_string(), Source::Name((*field).to_string())))
        .collect();
    Mapping {
        columns,
        ..Mapping::default()
    }
}

impl Default for Mapping {
    fn default() -> Self {
        Self {
            delimiter: b',',
            decimal: '.',
            thousands: None,
            time_zone: None,
            day_order: None,
            columns: BTreeMap::new(),
        }
    }
}

/// One command of a mapped file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The line of the row it came from (of an order's or a center's first row).
    pub line: u64,
    /// The command.
    pub command: Command,
    /// When it takes effect in business time, when the file says (an order's `placed_at`).
    pub at: Option<Timestamp>,
}

/// What a mapped file gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedImport {
    /// The commands in the order they are to be submitted: by business time when they have
    /// one, then by line.
    pub commands: Vec<Row>,
    /// Rows read.
    pub rows: u64,
    /// Rows a spreadsheet left entirely empty, skipped.
    pub empty_rows: u64,
}

/// Reads `bytes` (the contents of `file`) as `kind` through `mapping`. `tag` names the
/// opening-stock adjustments it makes (`OPEN-<tag>-<center>`), so that two different files
/// make two different adjustments; dates and times are civil times of the mapping's
/// `time_zone`, or of `default_zone` (the tenant's reporting zone) when it names none.
///
/// # Errors
///
/// Every malformed value, located; nothing is returned then.
pub fn read(
    kind: Kind,
    mapping: &Mapping,
    file: &str,
    bytes: &[u8],
    tag: &str,
    default_zone: &str,
) -> Result<MappedImport, ImportError> {
    let mut problems = Problems::default();
    let wanted: Vec<Wanted> = kind
        .fields()
        .iter()
        .filter_map(|(field, _)| {
            mapping.columns.get(*field).map(|source| Wanted {
                field,
                source: source.clone(),
            })
        })
        .collect();
    let Some(table) = Table::read_mapped(file, bytes, mapping.delimiter, &wanted, &mut problems)
    else {
        if let Some(hint) = delimiter_hint(bytes, mapping.delimiter) {
            problems.push(Problem {
                file: file.to_string(),
                line: Some(1),
                column: None,
                value: None,
                kind: ProblemKind::Mapping { reason: hint },
            });
        }
        return problems.into_result(MappedImport::empty());
    };
    let reader = Reader { mapping };
    if matches!(kind, Kind::SalesOrders | Kind::PurchaseOrders) {
        let zone_name = mapping.time_zone.as_deref().unwrap_or(default_zone);
        let commands = match TimeZone::get(zone_name) {
            Ok(zone) if kind == Kind::SalesOrders => reader.orders(&table, zone, &mut problems),
            Ok(zone) => reader.purchase_orders(&table, zone, &mut problems),
            Err(error) => {
                problems.push(Problem {
                    file: file.to_string(),
                    line: None,
                    column: Some("time_zone".into()),
                    value: Some(zone_name.to_string()),
                    kind: ProblemKind::Mapping {
                        reason: error.to_string(),
                    },
                });
                Vec::new()
            }
        };
        return problems.into_result(MappedImport {
            commands,
            rows: table.records.len() as u64,
            empty_rows: table.empty_rows,
        });
    }
    let mut commands = Vec::new();
    let mut stock: BTreeMap<String, (u64, LocationId, Vec<AdjustLineInput>)> = BTreeMap::new();
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    for record in &table.records {
        let field = |name: &'static str| table.field(record, name);
        let row = match kind {
            Kind::Items => reader.item(&field).map(|item| {
                let key = item.sku.to_string();
                (key, Some(Command::DefineItem(item)), None)
            }),
            Kind::Locations => reader.location(&field).map(|location| {
                let key = location.location.to_string();
                (key, Some(Command::DefineLocation(location)), None)
            }),
            Kind::Suppliers => reader.supplier(&field).map(|supplier| {
                let key = supplier.supplier.to_string();
                (key, Some(Command::DefineSupplier(supplier)), None)
            }),
            Kind::OpeningStock | Kind::SalesOrders | Kind::PurchaseOrders => {
                reader.stock_line(&field).map(|(location, line)| {
                    let key = format!("{location} {}", line.sku);
                    (key, None, Some((location, line)))
                })
            }
        };
        match row {
            Err(problem) => problems.push(*problem),
            Ok((key, command, line)) => {
                if let Some(first_line) = seen.insert(key, record.line) {
                    let column = match kind {
                        Kind::Items
                        | Kind::OpeningStock
                        | Kind::SalesOrders
                        | Kind::PurchaseOrders => "sku",
                        Kind::Locations => "location",
                        Kind::Suppliers => "supplier",
                    };
                    problems.push(*field(column).problem(ProblemKind::DuplicateKey { first_line }));
                    continue;
                }
                if let Some(command) = command {
                    commands.push(Row {
                        line: record.line,
                        command,
                        at: None,
                    });
                }
                if let Some((location, line)) = line {
                    stock
                        .entry(location.to_string())
                        .or_insert_with(|| (record.line, location, Vec::new()))
                        .2
                        .push(line);
                }
            }
        }
    }
    for (name, (line, location, lines)) in stock {
        let id = format!("OPEN-{tag}-{name}");
        match AdjustmentId::parse(&id) {
            Ok(adjustment) => commands.push(Row {
                line,
                command: Command::AdjustStock(AdjustStock {
                    adjustment,
                    location,
                    reason: ReasonCode::parse("opening_balance")
                        .unwrap_or_else(|_| unreachable!("a fixed, valid reason code")),
                    lines,
                }),
                at: None,
            }),
            Err(error) => problems.push(Problem {
                file: file.to_string(),
                line: Some(line),
                column: Some("location".into()),
                value: Some(name),
                kind: ProblemKind::Identifier {
                    reason: format!("the adjustment id `{id}` it makes: {error}"),
                },
            }),
        }
    }
    commands.sort_by_key(|row| row.line);
    let rows = table.records.len() as u64;
    problems.into_result(MappedImport {
        commands,
        rows,
        empty_rows: table.empty_rows,
    })
}

/// When the header holds no `delimiter` but another common separator, what to set.
fn delimiter_hint(bytes: &[u8], delimiter: u8) -> Option<String> {
    let header = bytes.split(|byte| *byte == b'\n').next()?;
    if header.contains(&delimiter) {
        return None;
    }
    let found = [b';', b',', b'\t', b'|']
        .into_iter()
        .find(|candidate| header.contains(candidate))?;
    let shown = if found == b'\t' {
        "\\t".to_string()
    } else {
        char::from(found).to_string()
    };
    Some(format!(
        "the header has no `{}` between its columns but has `{shown}`: set delimiter = \"{shown}\" \
         in the mapping",
        char::from(delimiter).escape_default()
    ))
}

impl MappedImport {
    fn empty() -> Self {
        Self {
            commands: Vec::new(),
            rows: 0,
            empty_rows: 0,
        }
    }
}

/// A document of several rows: its head, its lines, the line it starts on and its business
/// time.
struct Group<H, L> {
    line: u64,
    head: H,
    lines: Vec<L>,
    at: Option<Timestamp>,
}

impl<H, L> Group<H, L> {
    /// The groups' commands, each made by `command` from its head and lines.
    fn rows(groups: Vec<Self>, command: impl Fn(H, Vec<L>) -> Command) -> Vec<Row> {
        groups
            .into_iter()
            .map(|group| Row {
                line: group.line,
                command: command(group.head, group.lines),
                at: group.at,
            })
            .collect()
    }
}

struct Reader<'m> {
    mapping: &'m Mapping,
}

type Read<T> = Result<T, Box<Problem>>;

impl Reader<'_> {
    /// A number as the file writes it, in the form `number` reads: thousands separators
    /// dropped, the decimal separator made a point.
    fn plain(&self, text: &str) -> String {
        text.trim()
            .chars()
            .filter(|character| Some(*character) != self.mapping.thousands)
            .map(|character| {
                if character == self.mapping.decimal {
                    '.'
                } else {
                    character
                }
            })
            .collect()
    }

    fn amount(&self, field: &Field<'_>) -> Read<i64> {
        number::parse_amount_minor(&self.plain(field.required()?))
            .map_err(|reason| field.problem(ProblemKind::Money { reason }))
    }

    fn optional_amount(&self, field: &Field<'_>) -> Read<Option<i64>> {
        field
            .optional()
            .map(|text| {
                number::parse_amount_minor(&self.plain(text))
                    .map_err(|reason| field.problem(ProblemKind::Money { reason }))
            })
            .transpose()
    }

    fn whole(&self, field: &Field<'_>, optional: bool) -> Read<Option<i64>> {
        let text = if optional {
            match field.optional() {
                Some(text) => text,
                None => return Ok(None),
            }
        } else {
            field.required()?
        };
        number::parse_whole(&self.plain(text))
            .map(Some)
            .map_err(|reason| field.problem(ProblemKind::Number { reason }))
    }

    fn text(field: &Field<'_>) -> Option<String> {
        field.optional().map(|text| text.trim().to_string())
    }

    fn item<'f>(&self, field: &impl Fn(&'static str) -> Field<'f>) -> Read<DefineItem> {
        let currency_field = field("currency");
        let currency = Currency::parse(currency_field.required()?.trim()).map_err(|error| {
            currency_field.problem(ProblemKind::Identifier {
                reason: error.to_string(),
            })
        })?;
        let sku = field("sku").id(|text| Sku::parse(text.trim()))?;
        let name = field("name").required()?.trim().to_string();
        let unit_cost = self.amount(&field("unit_cost"))?;
        let price = self.amount(&field("price"))?;
        let weight_g = self.whole(&field("weight_g"), true)?.unwrap_or(0);
        Ok(DefineItem {
            sku,
            name,
            unit: Self::text(&field("unit")).unwrap_or_else(|| "each".to_string()),
            unit_cost: Money {
                amount_minor: unit_cost,
                currency,
            },
            price: Money {
                amount_minor: price,
                currency,
            },
            weight_g,
            dimensions: None,
            hs_code: Self::text(&field("hs_code")),
            country_of_origin: Self::text(&field("country_of_origin")),
            category: Self::text(&field("category")),
            bom: None,
        })
    }

    fn location<'f>(&self, field: &impl Fn(&'static str) -> Field<'f>) -> Read<DefineLocation> {
        let location = field("location").id(|text| LocationId::parse(text.trim()))?;
        let name = field("name").required()?.trim().to_string();
        let country = field("country").required()?.trim().to_ascii_uppercase();
        let time_zone = field("time_zone").id(|text| TimeZoneName::parse(text.trim()))?;
        let capacity = self.whole(&field("capacity_orders_per_day"), true)?;
        Ok(DefineLocation {
            location,
            name,
            region: Self::text(&field("region")).unwrap_or_default(),
            address: Address {
                recipient: None,
                lines: Self::text(&field("address_line")).into_iter().collect(),
                city: Self::text(&field("city")).unwrap_or_default(),
                region: Self::text(&field("state")).unwrap_or_default(),
                postal_code: Self::text(&field("postal_code")).unwrap_or_default(),
                country,
                time_zone,
                coordinates: None,
            },
            capacity_orders_per_day: capacity,
        })
    }

    /// The documents of a file with one row per line: one per value of the `key` column, in
    /// the order they first appear, each with its lines in file order; the head is read from a
    /// document's first row (with its business time from the `time` column when that is
    /// mapped), the line from every row. Sorted by business time, then line.
    fn grouped<'t, H, L>(
        &self,
        table: &'t Table,
        zone: TimeZone,
        (key, time): (&'static str, &'static str),
        problems: &mut Problems,
        head: impl Fn(&dyn Fn(&'static str) -> Field<'t>) -> Read<H>,
        line: impl Fn(&dyn Fn(&'static str) -> Field<'t>) -> Read<L>,
    ) -> Vec<Group<H, L>> {
        let timed = self.mapping.columns.contains_key(time);
        let decision = match self.mapping.day_order {
            Some(order) => Some(DayOrderDecision::Declared(order)),
            None if timed => {
                detect_day_order(table.file(), time, table.column_values(time), problems)
            }
            None => None,
        };
        let mut dates = ColumnReader::new(table.file(), time, decision, zone);
        let mut groups: Vec<Group<H, L>> = Vec::new();
        let mut index_of: BTreeMap<String, usize> = BTreeMap::new();
        for record in &table.records {
            let field = |name: &'static str| table.field(record, name);
            let read = (|| {
                let id = field(key).required()?.trim().to_string();
                let read_line = line(&field)?;
                if let Some(index) = index_of.get(&id) {
                    return Ok((id, read_line, Some(*index), None));
                }
                let at = if timed {
                    Some(dates.required_instant(&field(time))?)
                } else {
                    None
                };
                Ok::<_, Box<Problem>>((id, read_line, None, Some((head(&field)?, at))))
            })();
            match read {
                Err(problem) => problems.push(*problem),
                Ok((_, read_line, Some(index), _)) => groups[index].lines.push(read_line),
                Ok((id, read_line, None, Some((head, at)))) => {
                    index_of.insert(id, groups.len());
                    groups.push(Group {
                        line: record.line,
                        head,
                        lines: vec![read_line],
                        at,
                    });
                }
                Ok(_) => {}
            }
        }
        groups.sort_by_key(|group| (group.at, group.line));
        groups
    }

    /// Every sales order of the file.
    fn orders(&self, table: &Table, zone: TimeZone, problems: &mut Problems) -> Vec<Row> {
        let groups = self.grouped(
            table,
            zone,
            ("order", "placed_at"),
            problems,
            |field| self.order_head(&field),
            |field| self.order_line(&field),
        );
        Group::rows(groups, |mut place, lines| {
            place.lines = lines;
            Command::PlaceSalesOrder(place)
        })
    }

    /// Every purchase order of the file.
    fn purchase_orders(&self, table: &Table, zone: TimeZone, problems: &mut Problems) -> Vec<Row> {
        let groups = self.grouped(
            table,
            zone,
            ("purchase_order", "placed_at"),
            problems,
            |field| self.purchase_head(&field),
            |field| {
                let sku = field("sku").id(|text| Sku::parse(text.trim()))?;
                Ok(PurchaseLine {
                    sku,
                    quantity: self.positive(&field("quantity"), "a purchase order line")?,
                    unit_price_minor: self.amount(&field("unit_price"))?,
                })
            },
        );
        Group::rows(groups, |mut place, lines| {
            place.lines = lines;
            Command::PlacePurchaseOrder(place)
        })
    }

    /// A purchase order's fields but its lines, from its first row.
    fn purchase_head<'f>(
        &self,
        field: &impl Fn(&'static str) -> Field<'f>,
    ) -> Read<PlacePurchaseOrder> {
        let requested_field = field("requested_on");
        let requested_on = match requested_field.optional() {
            None => None,
            Some(text) => Some(
                crate::timestamp::parse_civil(
                    text.trim(),
                    self.mapping.day_order.unwrap_or(DayOrder::DayFirst),
                )
                .map(|(civil, _)| civil.date())
                .map_err(|reason| requested_field.problem(ProblemKind::Timestamp { reason }))?,
            ),
        };
        Ok(PlacePurchaseOrder {
            purchase_order: field("purchase_order")
                .id(|text| PurchaseOrderId::parse(text.trim()))?,
            supplier: field("supplier").id(|text| SupplierId::parse(text.trim()))?,
            location: field("location").id(|text| LocationId::parse(text.trim()))?,
            currency: Self::currency(&field("currency"))?,
            exchange_rate: None,
            lines: Vec::new(),
            requested_on,
        })
    }

    fn currency(field: &Field<'_>) -> Read<Currency> {
        Currency::parse(field.required()?.trim()).map_err(|error| {
            field.problem(ProblemKind::Identifier {
                reason: error.to_string(),
            })
        })
    }

    /// A required whole number above 0, for `what`.
    fn positive(&self, field: &Field<'_>, what: &str) -> Read<i64> {
        let quantity = self.whole(field, false)?.unwrap_or(0);
        if quantity <= 0 {
            return Err(field.problem(ProblemKind::Quantity {
                reason: format!("{what} is a positive number of units"),
            }));
        }
        Ok(quantity)
    }

    fn supplier<'f>(&self, field: &impl Fn(&'static str) -> Field<'f>) -> Read<DefineSupplier> {
        Ok(DefineSupplier {
            supplier: field("supplier").id(|text| SupplierId::parse(text.trim()))?,
            name: field("name").required()?.trim().to_string(),
            currency: Self::currency(&field("currency"))?,
            lead_time_days: self.whole(&field("lead_time_days"), false)?.unwrap_or(0),
            minimum_order_quantity: self
                .whole(&field("minimum_order_quantity"), true)?
                .unwrap_or(1),
            payment_terms_days: self.whole(&field("payment_terms_days"), true)?.unwrap_or(0),
            country: field("country").required()?.trim().to_ascii_uppercase(),
        })
    }

    /// An order's fields but its lines, from its first row.
    fn order_head<'f>(&self, field: &impl Fn(&'static str) -> Field<'f>) -> Read<PlaceSalesOrder> {
        let currency = Self::currency(&field("currency"))?;
        Ok(PlaceSalesOrder {
            order: field("order").id(|text| SalesOrderId::parse(text.trim()))?,
            channel: field("channel").id(|text| ChannelId::parse(text.trim()))?,
            customer: field("customer").id(|text| CustomerId::parse(text.trim()))?,
            contact: None,
            ship_to: Address {
                recipient: None,
                lines: Vec::new(),
                city: Self::text(&field("ship_city")).unwrap_or_default(),
                region: Self::text(&field("ship_state")).unwrap_or_default(),
                postal_code: Self::text(&field("ship_postal_code")).unwrap_or_default(),
                country: field("ship_country")
                    .required()?
                    .trim()
                    .to_ascii_uppercase(),
                time_zone: field("ship_time_zone").id(|text| TimeZoneName::parse(text.trim()))?,
                coordinates: None,
            },
            currency,
            exchange_rate: None,
            lines: Vec::new(),
            promise: None,
            service_level: None,
            shipping_charge_minor: self
                .optional_amount(&field("shipping_charge"))?
                .unwrap_or(0),
            allocate: None,
        })
    }

    /// One row's order line.
    fn order_line<'f>(&self, field: &impl Fn(&'static str) -> Field<'f>) -> Read<OrderLineInput> {
        let sku = field("sku").id(|text| Sku::parse(text.trim()))?;
        let quantity = self.positive(&field("quantity"), "an order line")?;
        Ok(OrderLineInput {
            sku,
            quantity,
            unit_price_minor: self.amount(&field("unit_price"))?,
            unit_tax_minor: self.optional_amount(&field("unit_tax"))?.unwrap_or(0),
        })
    }

    fn stock_line<'f>(
        &self,
        field: &impl Fn(&'static str) -> Field<'f>,
    ) -> Read<(LocationId, AdjustLineInput)> {
        let location = field("location").id(|text| LocationId::parse(text.trim()))?;
        let sku = field("sku").id(|text| Sku::parse(text.trim()))?;
        let quantity_field = field("quantity");
        let quantity = self.whole(&quantity_field, false)?.unwrap_or(0);
        if quantity <= 0 {
            return Err(quantity_field.problem(ProblemKind::Quantity {
                reason: "an opening balance is a positive number of units".into(),
            }));
        }
        let unit_cost_minor = self.optional_amount(&field("unit_cost"))?;
        Ok((
            location,
            AdjustLineInput {
                sku,
                quantity,
                unit_cost_minor,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ITEMS_MAPPING: &str = r#"
delimiter = ";"
decimal = ","
thousands = "."

[columns]
sku = "Artikelnummer"
name = 2
unit_cost = "Einkaufspreis"
price = "Verkaufspreis"
currency = { value = "EUR" }
weight_g = "Gewicht (g)"
"#;

    fn items_mapping() -> Mapping {
        mapping("items.toml", ITEMS_MAPPING, Kind::Items).unwrap()
    }

    fn items(commands: &[Row]) -> Vec<(u64, &DefineItem)> {
        commands
            .iter()
            .filter_map(|row| match &row.command {
                Command::DefineItem(item) => Some((row.line, item)),
                _ => None,
            })
            .collect()
    }

    fn located(error: &ImportError) -> Vec<(Option<u64>, Option<String>)> {
        error
            .problems()
            .iter()
            .map(|problem| (problem.line, problem.column.clone()))
            .collect()
    }

    /// A file as a German spreadsheet saves it: a byte-order mark, CRLF, `;` between fields,
    /// decimal commas and thousands points, a quoted name over two lines, and empty rows
    /// between and after the real ones. "1.234,50" is 123,450 cents; "0,5" is 50.
    #[test]
    fn a_spreadsheets_file_reads_through_its_mapping() {
        let bytes = "\u{feff}Artikelnummer;Bezeichnung;Einkaufspreis;Verkaufspreis;Gewicht (g)\r\n\
                     MUG-1;\"Becher\r\nblau\";1.234,50;2.000;350\r\n\
                     ;;;;\r\n\
                     TEE-2;Tee;0,5;3,99;\r\n\
                     ;;;;\r\n;;;;\r\n";
        let taken = read(
            Kind::Items,
            &items_mapping(),
            "items.csv",
            bytes.as_bytes(),
            "t",
            "UTC",
        )
        .unwrap();
        assert_eq!(taken.rows, 2);
        assert_eq!(taken.empty_rows, 3);
        let items = items(&taken.commands);
        // The multi-line record starts on line 2; TEE-2 is on line 5 (the empty row is 4).
        assert_eq!(items[0].0, 2);
        assert_eq!(items[1].0, 5);
        assert_eq!(items[0].1.sku.as_str(), "MUG-1");
        assert_eq!(items[0].1.name, "Becher\r\nblau");
        assert_eq!(items[0].1.unit_cost.amount_minor, 123_450);
        assert_eq!(items[0].1.price.amount_minor, 200_000);
        assert_eq!(items[0].1.unit_cost.currency.as_str(), "EUR");
        assert_eq!(items[0].1.weight_g, 350);
        assert_eq!(items[1].1.unit_cost.amount_minor, 50);
        assert_eq!(items[1].1.price.amount_minor, 399);
        assert_eq!(items[1].1.weight_g, 0);
        assert_eq!(items[1].1.unit, "each");
    }

    /// Every malformed value is reported, each at its line and under the file's own column
    /// name, and nothing is returned.
    #[test]
    fn every_bad_value_is_named_by_line_and_the_files_column() {
        let bytes = "Artikelnummer;Bezeichnung;Einkaufspreis;Verkaufspreis;Gewicht (g)\n\
                     MUG 1;Becher;1,00;2,00;1\n\
                     TEE-2;;1,00;2,00;1\n\
                     KEKS-3;Keks;zwei;2,00;x\n\
                     MUG 1;Becher;1,00;2,00;1\n";
        let error = read(
            Kind::Items,
            &items_mapping(),
            "items.csv",
            bytes.as_bytes(),
            "t",
            "UTC",
        )
        .unwrap_err();
        assert_eq!(
            located(&error),
            vec![
                (Some(2), Some("Artikelnummer".into())),
                (Some(3), Some("Bezeichnung".into())),
                (Some(4), Some("Einkaufspreis".into())),
                (Some(5), Some("Artikelnummer".into())),
            ]
        );
        assert!(
            error
                .to_string()
                .contains("items.csv:4: column `Einkaufspreis`")
        );
    }

    /// The mapping's own problems, all of them: an unknown field, a column given as neither a
    /// name, a position nor a constant, a two-character delimiter, an unknown setting, and the
    /// required fields left unmapped. A mapping that is not TOML says on which line.
    #[test]
    fn a_mappings_problems_are_all_reported() {
        let text = r#"
delimiter = ";;"
colour = "red"
[columns]
sku = "SKU"
name = 0
flavour = "Taste"
"#;
        let error = mapping("m.toml", text, Kind::Items).unwrap_err();
        let columns: Vec<String> = error
            .problems()
            .iter()
            .filter_map(|problem| problem.column.clone())
            .collect();
        assert_eq!(
            columns,
            vec![
                "delimiter",
                "colour",
                "flavour",
                "name",
                "name",
                "currency",
                "unit_cost",
                "price"
            ]
        );
        let error = mapping("m.toml", "[columns]\nsku = \n", Kind::Items).unwrap_err();
        assert_eq!(error.problems()[0].line, Some(2), "{error}");
    }

    /// A file separated by `;` read with the default `,`: its columns are missing, and the
    /// last problem says which delimiter to set.
    #[test]
    fn a_file_with_another_delimiter_is_told_which_to_set() {
        let mapping = mapping(
            "stock.toml",
            "[columns]\nlocation = \"Lager\"\nsku = \"SKU\"\nquantity = \"Menge\"\n",
            Kind::OpeningStock,
        )
        .unwrap();
        let error = read(
            Kind::OpeningStock,
            &mapping,
            "stock.csv",
            b"Lager;SKU;Menge\nFC-1;MUG;1\n",
            "t",
            "UTC",
        )
        .unwrap_err();
        let last = error.problems().last().unwrap().to_string();
        assert!(last.contains("set delimiter = \";\""), "{last}");
        assert_eq!(error.total(), 4);
    }

    /// Opening stock: one `opening_balance` adjustment per center, its lines in file order,
    /// named by the tag; a center and SKU twice is refused; a quantity of 0 is refused.
    #[test]
    fn opening_stock_makes_one_adjustment_per_center() {
        let mapping = mapping(
            "stock.toml",
            "[columns]\nlocation = \"Lager\"\nsku = 1\nquantity = \"Menge\"\nunit_cost = \"Wert\"\n",
            Kind::OpeningStock,
        )
        .unwrap();
        let bytes = "SKU,Lager,Menge,Wert\nMUG-1,FC-B,10,4.00\nMUG-1,FC-A,5,\nTEE-2,FC-B,7,1.5\n";
        let taken = read(
            Kind::OpeningStock,
            &mapping,
            "stock.csv",
            bytes.as_bytes(),
            "abc",
            "UTC",
        )
        .unwrap();
        type Lines = Vec<(String, i64, Option<i64>)>;
        let adjustments: Vec<(u64, String, String, Lines)> = taken
            .commands
            .iter()
            .map(|row| match &row.command {
                Command::AdjustStock(adjust) => (
                    row.line,
                    adjust.adjustment.to_string(),
                    adjust.location.to_string(),
                    adjust
                        .lines
                        .iter()
                        .map(|l| (l.sku.to_string(), l.quantity, l.unit_cost_minor))
                        .collect(),
                ),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            adjustments,
            vec![
                (
                    2,
                    "OPEN-abc-FC-B".to_string(),
                    "FC-B".to_string(),
                    vec![
                        ("MUG-1".to_string(), 10, Some(400)),
                        ("TEE-2".to_string(), 7, Some(150))
                    ]
                ),
                (
                    3,
                    "OPEN-abc-FC-A".to_string(),
                    "FC-A".to_string(),
                    vec![("MUG-1".to_string(), 5, None)]
                ),
            ]
        );
        let bad = "SKU,Lager,Menge,Wert\nMUG-1,FC-B,10,\nMUG-1,FC-B,3,\nTEE-2,FC-B,0,\n";
        let error = read(
            Kind::OpeningStock,
            &mapping,
            "stock.csv",
            bad.as_bytes(),
            "abc",
            "UTC",
        )
        .unwrap_err();
        assert_eq!(
            located(&error),
            vec![
                (Some(3), Some("SKU".into())),
                (Some(4), Some("Menge".into()))
            ]
        );
    }

    /// Corruption, many seeds: files of 1 to 40 valid item rows, one cell made invalid for its
    /// column at a row and column chosen by the seed. Every file is refused whole, with one
    /// problem at exactly that line and column. (A deterministic generator: Knuth's MMIX
    /// constants.)
    #[test]
    fn one_corrupted_cell_is_found_at_its_line_and_column_in_every_file() {
        let mapping = items_mapping();
        let headers = [
            "Artikelnummer",
            "Bezeichnung",
            "Einkaufspreis",
            "Verkaufspreis",
            "Gewicht (g)",
        ];
        let corrupt = ["BAD SKU!", "", "1,2,3", "zwei", "-"];
        let mut state: u64 = 1;
        let mut next = |bound: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % bound
        };
        for seed in 0..500 {
            let rows = 1 + next(40) as usize;
            let bad_row = next(rows as u64) as usize;
            let bad_column = next(5) as usize;
            let mut text = headers.join(";");
            text.push('\n');
            for row in 0..rows {
                let mut cells = [
                    format!("SKU-{row}"),
                    format!("Artikel {row}"),
                    format!("{},{:02}", row, seed % 100),
                    format!("{}.{:03},00", 1 + row, row),
                    format!("{}", 100 + row),
                ];
                if row == bad_row {
                    cells[bad_column] = corrupt[bad_column].to_string();
                }
                text.push_str(&cells.join(";"));
                text.push('\n');
            }
            let error = read(
                Kind::Items,
                &mapping,
                "items.csv",
                text.as_bytes(),
                "t",
                "UTC",
            )
            .expect_err("a corrupted file must be refused");
            assert_eq!(
                located(&error),
                vec![(
                    Some(bad_row as u64 + 2),
                    Some(headers[bad_column].to_string())
                )],
                "seed {seed}: {error}"
            );
        }
    }

    /// Sales orders, one row per line: two orders as a US store exports them (month-first
    /// dates, civil times of the mapping's zone), their lines grouped by order id, the
    /// order-level fields from each order's first row, submitted in the order they were placed.
    /// 3/14/2024 9:30 in New York is 13:30 UTC (daylight time since March 10: UTC-4);
    /// 3/2/2024 18:05 is 23:05 UTC (standard time: UTC-5).
    #[test]
    fn sales_orders_group_their_lines_and_are_placed_in_time_order() {
        let mapping = mapping(
            "orders.toml",
            r#"
time_zone = "America/New_York"
[columns]
order = "Name"
placed_at = "Created at"
channel = { value = "web" }
customer = "Email"
currency = "Currency"
sku = "Lineitem sku"
quantity = "Lineitem quantity"
unit_price = "Lineitem price"
shipping_charge = "Shipping"
ship_country = "Shipping Country"
ship_time_zone = { value = "America/New_York" }
"#,
            Kind::SalesOrders,
        )
        .unwrap();
        let bytes = "Name,Email,Created at,Currency,Lineitem sku,Lineitem quantity,Lineitem price,Shipping,Shipping Country\n\
                     SO-1001,ann,3/14/2024 9:30,USD,MUG-1,2,12.00,5.00,us\n\
                     SO-1001,,,,TEE-2,1,3.50,,\n\
                     SO-1000,bob,3/2/2024 18:05,USD,MUG-1,1,12.00,,US\n";
        let taken = read(
            Kind::SalesOrders,
            &mapping,
            "orders.csv",
            bytes.as_bytes(),
            "t",
            "UTC",
        )
        .unwrap();
        type Placed = (u64, String, String, String, Vec<(String, i64, i64)>, i64);
        let placed: Vec<Placed> = taken
            .commands
            .iter()
            .map(|row| match &row.command {
                Command::PlaceSalesOrder(place) => (
                    row.line,
                    row.at.unwrap().to_string(),
                    place.order.to_string(),
                    place.ship_to.country.clone(),
                    place
                        .lines
                        .iter()
                        .map(|line| (line.sku.to_string(), line.quantity, line.unit_price_minor))
                        .collect(),
                    place.shipping_charge_minor,
                ),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            placed,
            vec![
                (
                    4,
                    "2024-03-02T23:05:00Z".to_string(),
                    "SO-1000".to_string(),
                    "US".to_string(),
                    vec![("MUG-1".to_string(), 1, 1200)],
                    0
                ),
                (
                    2,
                    "2024-03-14T13:30:00Z".to_string(),
                    "SO-1001".to_string(),
                    "US".to_string(),
                    vec![
                        ("MUG-1".to_string(), 2, 1200),
                        ("TEE-2".to_string(), 1, 350)
                    ],
                    500
                ),
            ]
        );
    }

    /// Dotted dates are day first: 14.03.2024 is the 14th of March; with no zone in the
    /// mapping, the default zone (Europe/Berlin here, UTC+1 in March) applies, so midnight is
    /// 23:00 UTC the day before. A date that is no date is named by line and column.
    #[test]
    fn dotted_dates_are_day_first_in_the_default_zone() {
        let mapping = mapping(
            "orders.toml",
            "[columns]\norder = 1\nplaced_at = 2\nchannel = { value = \"shop\" }\ncustomer = 3\n\
             currency = { value = \"EUR\" }\nsku = 4\nquantity = 5\nunit_price = 6\n\
             ship_country = { value = \"DE\" }\nship_time_zone = { value = \"Europe/Berlin\" }\n",
            Kind::SalesOrders,
        )
        .unwrap();
        let good = "Nr,Datum,Kunde,SKU,Menge,Preis\nA-1,14.03.2024,k1,MUG-1,1,9.99\n";
        let taken = read(
            Kind::SalesOrders,
            &mapping,
            "o.csv",
            good.as_bytes(),
            "t",
            "Europe/Berlin",
        )
        .unwrap();
        assert_eq!(
            taken.commands[0].at.unwrap().to_string(),
            "2024-03-13T23:00:00Z"
        );
        let bad = "Nr,Datum,Kunde,SKU,Menge,Preis\nA-1,31.02.2024,k1,MUG-1,1,9.99\n";
        let error = read(
            Kind::SalesOrders,
            &mapping,
            "o.csv",
            bad.as_bytes(),
            "t",
            "Europe/Berlin",
        )
        .unwrap_err();
        assert_eq!(located(&error), vec![(Some(2), Some("Datum".into()))]);
    }

    /// Suppliers, one per row, with their defaults (a minimum order of 1, payment at 0 days);
    /// purchase orders, one row per line, grouped by id with the head from the first row, a
    /// requested date read day first unless the mapping says otherwise (04.03.2025 is March
    /// 4), and no business time when the file has none.
    #[test]
    fn suppliers_and_purchase_orders_read_through_their_mappings() {
        let suppliers = mapping(
            "s.toml",
            "[columns]\nsupplier = 1\nname = 2\ncurrency = { value = \"EUR\" }\nlead_time_days = 3\ncountry = 4\n",
            Kind::Suppliers,
        )
        .unwrap();
        let taken = read(
            Kind::Suppliers,
            &suppliers,
            "s.csv",
            b"id,name,days,land\nACME,Acme GmbH,14,de\n",
            "t",
            "UTC",
        )
        .unwrap();
        let Command::DefineSupplier(supplier) = &taken.commands[0].command else {
            panic!("{:?}", taken.commands)
        };
        assert_eq!(
            (
                supplier.supplier.as_str(),
                supplier.lead_time_days,
                supplier.minimum_order_quantity,
                supplier.payment_terms_days,
                supplier.country.as_str()
            ),
            ("ACME", 14, 1, 0, "DE")
        );

        let orders = mapping(
            "po.toml",
            "[columns]\npurchase_order = \"PO\"\nsupplier = { value = \"ACME\" }\n\
             location = { value = \"FC-1\" }\ncurrency = { value = \"EUR\" }\nsku = \"SKU\"\n\
             quantity = \"Qty\"\nunit_price = \"Price\"\nrequested_on = \"Wanted\"\n",
            Kind::PurchaseOrders,
        )
        .unwrap();
        let bytes =
            "PO,SKU,Qty,Price,Wanted\nPO-7,MUG-1,100,4.00,04.03.2025\nPO-7,TEE-2,50,1.10,\n";
        let taken = read(
            Kind::PurchaseOrders,
            &orders,
            "po.csv",
            bytes.as_bytes(),
            "t",
            "UTC",
        )
        .unwrap();
        assert_eq!(taken.commands.len(), 1);
        assert_eq!(taken.commands[0].at, None);
        let Command::PlacePurchaseOrder(place) = &taken.commands[0].command else {
            panic!("{:?}", taken.commands)
        };
        let lines: Vec<(String, i64, i64)> = place
            .lines
            .iter()
            .map(|line| (line.sku.to_string(), line.quantity, line.unit_price_minor))
            .collect();
        assert_eq!(
            lines,
            vec![
                ("MUG-1".to_string(), 100, 400),
                ("TEE-2".to_string(), 50, 110)
            ]
        );
        assert_eq!(
            place.requested_on.map(|date| date.to_string()),
            Some("2025-03-04".to_string())
        );
    }
}
