//! The first stage of the Olist import: the eight files read into typed rows, every malformed
//! value reported with its file, line and column. Nothing is mapped here.

use super::{InputFile, OlistFiles};
use crate::error::{ImportError, Problem, ProblemKind, Problems};
use crate::table::{Field, Table};
use crate::timestamp::{ColumnReader, DateFormatDetected, detect_day_order};
use flowline_core::id::{CustomerId, LocationId, SalesOrderId, Sku};
use flowline_core::master::Dimensions;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use std::collections::HashMap;

/// The zone of every Olist timestamp: they carry no offset and are Brasília local time.
pub(super) const TIME_ZONE: &str = "America/Sao_Paulo";

/// An order status as Olist writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Status {
    Created,
    Approved,
    Invoiced,
    Processing,
    Shipped,
    Delivered,
    Canceled,
    Unavailable,
}

impl Status {
    const ALL: [Status; 8] = [
        Self::Created,
        Self::Approved,
        Self::Invoiced,
        Self::Processing,
        Self::Shipped,
        Self::Delivered,
        Self::Canceled,
        Self::Unavailable,
    ];

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Approved => "approved",
            Self::Invoiced => "invoiced",
            Self::Processing => "processing",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Canceled => "canceled",
            Self::Unavailable => "unavailable",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

/// A row of the orders file.
#[derive(Debug)]
pub(super) struct OrderRow {
    pub(super) line: u64,
    pub(super) id: SalesOrderId,
    pub(super) customer: CustomerId,
    pub(super) status: Status,
    pub(super) purchased_at: Timestamp,
    pub(super) approved_at: Option<Timestamp>,
    pub(super) carrier_at: Option<Timestamp>,
    pub(super) delivered_at: Option<Timestamp>,
    pub(super) estimated_on: Option<Date>,
}

/// A row of the order items file: one unit of one product sold by one seller.
#[derive(Debug)]
pub(super) struct ItemRow {
    pub(super) order: String,
    pub(super) product: Sku,
    pub(super) seller: String,
    pub(super) location: LocationId,
    pub(super) price_minor: i64,
    pub(super) freight_minor: i64,
}

/// A row of the payments file.
#[derive(Debug)]
pub(super) struct PaymentRow {
    pub(super) line: u64,
    pub(super) order: String,
    pub(super) sequential: i64,
    pub(super) value_minor: i64,
}

/// A row of the reviews file (only what the import counts).
#[derive(Debug)]
pub(super) struct ReviewRow {
    pub(super) order: String,
}

/// Where a customer or seller is.
#[derive(Debug)]
pub(super) struct Place {
    pub(super) zip_prefix: String,
    pub(super) city: String,
    pub(super) state: String,
}

/// A row of the products file.
#[derive(Debug)]
pub(super) struct ProductRow {
    pub(super) category: Option<String>,
    pub(super) weight_g: Option<i64>,
    pub(super) dimensions: Option<Dimensions>,
}

/// Everything read from the eight files.
#[derive(Debug, Default)]
pub(super) struct Parsed {
    pub(super) orders: Vec<OrderRow>,
    pub(super) items: Vec<ItemRow>,
    pub(super) payments: Vec<PaymentRow>,
    pub(super) reviews: Vec<ReviewRow>,
    pub(super) customers: HashMap<String, Place>,
    pub(super) sellers: HashMap<String, Place>,
    pub(super) products: HashMap<String, ProductRow>,
    /// Portuguese category name → English.
    pub(super) categories: HashMap<String, String>,
    pub(super) date_formats: Vec<DateFormatDetected>,
    pub(super) in_gap: u64,
    pub(super) in_fold: u64,
    /// Entirely empty rows skipped, by file.
    pub(super) empty_rows: std::collections::BTreeMap<String, u64>,
    /// Companion files the export lacks.
    pub(super) absent: Vec<String>,
}

/// Reads all eight files; every malformed value of every file is collected before failing.
pub(super) fn parse(files: &OlistFiles<'_>) -> Result<Parsed, ImportError> {
    let mut problems = Problems::default();
    let time_zone = match TimeZone::get(TIME_ZONE) {
        Ok(zone) => zone,
        Err(error) => {
            // The zone database is compiled in (jiff's bundle), so this is a broken build.
            problems.push(Problem {
                file: files.orders.name.to_string(),
                line: None,
                column: None,
                value: Some(TIME_ZONE.to_string()),
                kind: ProblemKind::Timestamp {
                    reason: format!("the time zone database lacks {TIME_ZONE}: {error}"),
                },
            });
            return problems.into_result(Parsed::default());
        }
    };
    let mut parsed = Parsed::default();
    let mut reader = Reader {
        problems: &mut problems,
        time_zone,
        parsed: &mut parsed,
    };
    reader.orders(files);
    reader.items(files);
    reader.payments(files);
    reader.reviews(files);
    reader.customers(files);
    reader.products(files);
    reader.sellers(files);
    reader.categories(files);
    problems.into_result(parsed)
}

/// The value of a field result, or `None` with its problem recorded.
fn take<T>(result: Result<T, Box<Problem>>, problems: &mut Problems) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(problem) => {
            problems.push(*problem);
            None
        }
    }
}

struct Reader<'r> {
    problems: &'r mut Problems,
    time_zone: TimeZone,
    parsed: &'r mut Parsed,
}

impl Reader<'_> {
    /// The file read as a table with `columns`; its entirely empty rows are counted for the
    /// report.
    fn table(&mut self, file: &InputFile<'_>, columns: &[&'static str]) -> Option<Table> {
        if !file.present {
            self.parsed.absent.push(file.name.to_string());
            return None;
        }
        let table = Table::read(file.name, file.bytes, columns, self.problems)?;
        if table.empty_rows > 0 {
            *self
                .parsed
                .empty_rows
                .entry(file.name.to_string())
                .or_default() += table.empty_rows;
        }
        Some(table)
    }

    /// A reader for a timestamp column, its day order decided from all its values.
    fn dates(&mut self, table: &Table, column: &'static str) -> ColumnReader {
        let decision = detect_day_order(
            table.file(),
            column,
            table.column_values(column),
            self.problems,
        );
        ColumnReader::new(table.file(), column, decision, self.time_zone.clone())
    }

    fn finish_dates(&mut self, readers: Vec<ColumnReader>) {
        for reader in readers {
            self.parsed.in_gap += reader.in_gap;
            self.parsed.in_fold += reader.in_fold;
            self.parsed.date_formats.push(reader.finish());
        }
    }

    /// Records a key's line, or a problem if the key was seen before.
    fn unique(
        &mut self,
        seen: &mut HashMap<String, u64>,
        field: &Field<'_>,
        key: &str,
    ) -> Option<()> {
        match seen.get(key) {
            Some(first_line) => {
                self.problems
                    .push(*field.problem(ProblemKind::DuplicateKey {
                        first_line: *first_line,
                    }));
                None
            }
            None => {
                seen.insert(key.to_string(), field.line);
                Some(())
            }
        }
    }

    fn orders(&mut self, files: &OlistFiles<'_>) {
        const COLUMNS: [&str; 8] = [
            "order_id",
            "customer_id",
            "order_status",
            "order_purchase_timestamp",
            "order_approved_at",
            "order_delivered_carrier_date",
            "order_delivered_customer_date",
            "order_estimated_delivery_date",
        ];
        let file = &files.orders;
        let Some(table) = self.table(file, &COLUMNS) else {
            return;
        };
        let mut purchased = self.dates(&table, COLUMNS[3]);
        let mut approved = self.dates(&table, COLUMNS[4]);
        let mut carrier = self.dates(&table, COLUMNS[5]);
        let mut delivered = self.dates(&table, COLUMNS[6]);
        let mut estimated = self.dates(&table, COLUMNS[7]);
        let mut seen = HashMap::new();
        for record in &table.records {
            let field = |column| table.field(record, column);
            let problems = &mut *self.problems;
            let id = take(field("order_id").id(SalesOrderId::parse), problems);
            let customer = take(field("customer_id").id(CustomerId::parse), problems);
            let status_field = field("order_status");
            let status = take(
                status_field.required().and_then(|text| {
                    Status::parse(text).ok_or_else(|| {
                        status_field.problem(ProblemKind::UnknownValue {
                            expected: Status::ALL.map(Status::as_str).join(", "),
                        })
                    })
                }),
                problems,
            );
            let purchased_at = take(
                purchased.required_instant(&field("order_purchase_timestamp")),
                problems,
            );
            let approved_at = take(approved.instant(&field("order_approved_at")), problems);
            let carrier_at = take(
                carrier.instant(&field("order_delivered_carrier_date")),
                problems,
            );
            let delivered_at = take(
                delivered.instant(&field("order_delivered_customer_date")),
                problems,
            );
            let estimated_on = take(
                estimated.date(&field("order_estimated_delivery_date")),
                problems,
            );
            let Some(id) = id else { continue };
            if self
                .unique(&mut seen, &field("order_id"), id.as_str())
                .is_none()
            {
                continue;
            }
            if let (
                Some(customer),
                Some(status),
                Some(purchased_at),
                Some(approved_at),
                Some(carrier_at),
                Some(delivered_at),
                Some(estimated_on),
            ) = (
                customer,
                status,
                purchased_at,
                approved_at,
                carrier_at,
                delivered_at,
                estimated_on,
            ) {
                self.parsed.orders.push(OrderRow {
                    line: record.line,
                    id,
                    customer,
                    status,
                    purchased_at,
                    approved_at,
                    carrier_at,
                    delivered_at,
                    estimated_on,
                });
            }
        }
        self.finish_dates(vec![purchased, approved, carrier, delivered, estimated]);
    }

    fn items(&mut self, files: &OlistFiles<'_>) {
        const COLUMNS: [&str; 7] = [
            "order_id",
            "order_item_id",
            "product_id",
            "seller_id",
            "shipping_limit_date",
            "price",
            "freight_value",
        ];
        let file = &files.items;
        let Some(table) = self.table(file, &COLUMNS) else {
            return;
        };
        let mut limit = self.dates(&table, COLUMNS[4]);
        for record in &table.records {
            let field = |column| table.field(record, column);
            let problems = &mut *self.problems;
            let order = take(field("order_id").required().map(str::to_string), problems);
            let item_number = take(field("order_item_id").whole(), problems);
            let product = take(field("product_id").id(Sku::parse), problems);
            let seller_field = field("seller_id");
            // The seller becomes the fulfillment center `S-<seller_id>`.
            let location = take(
                seller_field.id(|seller| LocationId::parse(&format!("S-{seller}"))),
                problems,
            );
            let shipping_limit = take(limit.instant(&field("shipping_limit_date")), problems);
            let price_minor = take(field("price").amount_minor(), problems);
            let freight_minor = take(field("freight_value").amount_minor(), problems);
            if let (
                Some(order),
                Some(_),
                Some(product),
                Some(location),
                Some(_),
                Some(price_minor),
                Some(freight_minor),
            ) = (
                order,
                item_number,
                product,
                location,
                shipping_limit,
                price_minor,
                freight_minor,
            ) {
                self.parsed.items.push(ItemRow {
                    order,
                    product,
                    seller: seller_field.value.to_string(),
                    location,
                    price_minor,
                    freight_minor,
                });
            }
        }
        self.finish_dates(vec![limit]);
    }

    fn payments(&mut self, files: &OlistFiles<'_>) {
        const COLUMNS: [&str; 5] = [
            "order_id",
            "payment_sequential",
            "payment_type",
            "payment_installments",
            "payment_value",
        ];
        let file = &files.payments;
        let Some(table) = self.table(file, &COLUMNS) else {
            return;
        };
        for record in &table.records {
            let field = |column| table.field(record, column);
            let problems = &mut *self.problems;
            let order = take(field("order_id").required().map(str::to_string), problems);
            let sequential = take(field("payment_sequential").whole(), problems);
            let kind = take(field("payment_type").required().map(|_| ()), problems);
            let installments = take(field("payment_installments").whole(), problems);
            let value_minor = take(field("payment_value").amount_minor(), problems);
            if let (Some(order), Some(sequential), Some(()), Some(_), Some(value_minor)) =
                (order, sequential, kind, installments, value_minor)
            {
                self.parsed.payments.push(PaymentRow {
                    line: record.line,
                    order,
                    sequential,
                    value_minor,
                });
            }
        }
    }

    fn reviews(&mut self, files: &OlistFiles<'_>) {
        const COLUMNS: [&str; 7] = [
            "review_id",
            "order_id",
            "review_score",
            "review_comment_title",
            "review_comment_message",
            "review_creation_date",
            "review_answer_timestamp",
        ];
        let file = &files.reviews;
        let Some(table) = self.table(file, &COLUMNS) else {
            return;
        };
        let mut created = self.dates(&table, COLUMNS[5]);
        let mut answered = self.dates(&table, COLUMNS[6]);
        for record in &table.records {
            let field = |column| table.field(record, column);
            let problems = &mut *self.problems;
            let review = take(field("review_id").required().map(|_| ()), problems);
            let order = take(field("order_id").required().map(str::to_string), problems);
            let score_field = field("review_score");
            let score = take(
                score_field.whole().and_then(|score| {
                    if (1..=5).contains(&score) {
                        Ok(score)
                    } else {
                        Err(score_field.problem(ProblemKind::UnknownValue {
                            expected: "a score from 1 to 5".into(),
                        }))
                    }
                }),
                problems,
            );
            let created_at = take(created.instant(&field("review_creation_date")), problems);
            let answered_at = take(
                answered.instant(&field("review_answer_timestamp")),
                problems,
            );
            if let (Some(()), Some(order), Some(_), Some(_), Some(_)) =
                (review, order, score, created_at, answered_at)
            {
                self.parsed.reviews.push(ReviewRow { order });
            }
        }
        self.finish_dates(vec![created, answered]);
    }

    fn place(
        &mut self,
        file: &InputFile<'_>,
        columns: [&'static str; 4],
    ) -> HashMap<String, Place> {
        let mut places = HashMap::new();
        let Some(table) = self.table(file, &columns) else {
            return places;
        };
        let mut seen = HashMap::new();
        for record in &table.records {
            let field = |column| table.field(record, column);
            let key_field = field(columns[0]);
            let Some(key) = take(key_field.required().map(str::to_string), self.problems) else {
                continue;
            };
            if self.unique(&mut seen, &key_field, &key).is_none() {
                continue;
            }
            places.insert(
                key,
                Place {
                    zip_prefix: field(columns[1]).value.to_string(),
                    city: field(columns[2]).value.to_string(),
                    state: field(columns[3]).value.to_string(),
                },
            );
        }
        places
    }

    fn customers(&mut self, files: &OlistFiles<'_>) {
        self.parsed.customers = self.place(
            &files.customers,
            [
                "customer_id",
                "customer_zip_code_prefix",
                "customer_city",
                "customer_state",
            ],
        );
    }

    fn sellers(&mut self, files: &OlistFiles<'_>) {
        self.parsed.sellers = self.place(
            &files.sellers,
            [
                "seller_id",
                "seller_zip_code_prefix",
                "seller_city",
                "seller_state",
            ],
        );
    }

    fn products(&mut self, files: &OlistFiles<'_>) {
        const COLUMNS: [&str; 6] = [
            "product_id",
            "product_category_name",
            "product_weight_g",
            "product_length_cm",
            "product_height_cm",
            "product_width_cm",
        ];
        let file = &files.products;
        let Some(table) = self.table(file, &COLUMNS) else {
            return;
        };
        let mut seen = HashMap::new();
        for record in &table.records {
            let field = |column| table.field(record, column);
            let problems = &mut *self.problems;
            let key_field = field("product_id");
            let key = take(key_field.required().map(str::to_string), problems);
            let weight_g = take(field("product_weight_g").optional_whole(), problems);
            let length = take(field("product_length_cm").optional_whole(), problems);
            let height = take(field("product_height_cm").optional_whole(), problems);
            let width = take(field("product_width_cm").optional_whole(), problems);
            let (Some(key), Some(weight_g), Some(length), Some(height), Some(width)) =
                (key, weight_g, length, height, width)
            else {
                continue;
            };
            if self.unique(&mut seen, &key_field, &key).is_none() {
                continue;
            }
            // Centimetres to millimetres; the domain wants all three and each positive.
            let dimensions = match (length, width, height) {
                (Some(length), Some(width), Some(height))
                    if length > 0 && width > 0 && height > 0 =>
                {
                    Some(Dimensions {
                        length_mm: length * 10,
                        width_mm: width * 10,
                        height_mm: height * 10,
                    })
                }
                _ => None,
            };
            self.parsed.products.insert(
                key,
                ProductRow {
                    category: field("product_category_name")
                        .optional()
                        .map(str::to_string),
                    weight_g,
                    dimensions,
                },
            );
        }
    }

    fn categories(&mut self, files: &OlistFiles<'_>) {
        const COLUMNS: [&str; 2] = ["product_category_name", "product_category_name_english"];
        let file = &files.category_translation;
        let Some(table) = self.table(file, &COLUMNS) else {
            return;
        };
        let mut seen = HashMap::new();
        for record in &table.records {
            let field = |column| table.field(record, column);
            let key_field = field(COLUMNS[0]);
            let key = take(key_field.required().map(str::to_string), self.problems);
            let english = take(
                field(COLUMNS[1]).required().map(str::to_string),
                self.problems,
            );
            let (Some(key), Some(english)) = (key, english) else {
                continue;
            };
            if self.unique(&mut seen, &key_field, &key).is_none() {
                continue;
            }
            self.parsed.categories.insert(key, english);
        }
    }
}
