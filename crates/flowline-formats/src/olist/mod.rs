//! The Olist importer: the eight CSV files of Olist's public "Brazilian E-Commerce Public
//! Dataset" in, Flowline commands out.
//!
//! [`import`] takes the files' bytes ([`OlistFiles`]) and returns either an [`ImportError`]
//! listing every malformed value (nothing is imported), or an [`OlistImport`]: the commands to
//! submit, each with its business time, in the order to submit them, and an [`ImportReport`].
//! It works in two stages: `parse` reads every file into typed rows and collects every problem,
//! then `map` turns the rows into commands. The mapping rules, also in `docs/import.md`:
//!
//! - **Tenant.** Base currency BRL, reporting time zone America/Sao_Paulo (the caller
//!   configures the tenant; the commands here assume it).
//! - **Time.** Olist timestamps have no offset: they are Brasília local time, read as civil
//!   times of America/Sao_Paulo, whose daylight saving (2016–2019) jiff applies. A local time
//!   skipped by the spring change is read with the offset before it; one repeated in autumn is
//!   its first occurrence. Every ship-to zone is America/Sao_Paulo too, because the estimated
//!   delivery date is the marketplace's Brasília-time date; it becomes the promise
//!   `ShownAtCheckout` with `deliver_by` that date.
//! - **Money** is parsed from the decimal text exactly into centavos (`58.90` → 5890).
//! - **Items.** One per product of an imported item row (the 32-hex product id is the SKU):
//!   name and category the English category name, else the Portuguese one, else `unknown`;
//!   weight and dimensions from the products file (missing weight: 0); unit cost 0, because
//!   Olist publishes no costs (cost metrics read "no data"); price the first price seen.
//! - **Centers.** One fulfillment center `S-<seller_id>` per seller of an imported item row,
//!   named by the seller's city, region its state, postal code its zip prefix, country BR.
//!   Opening stock: one `AdjustStock` per center, reason `opening_balance`, unit cost 0, with
//!   exactly what the imported orders allocate there, at the earliest purchase time imported.
//! - **Carrier** `olist`, service `standard`, road, transit 0 days (Olist publishes none).
//! - **Orders.** Channel `olist`, customer the `customer_id`, currency BRL, ship-to from the
//!   customers file when the customer is there (city, state as region, zip prefix), else
//!   country BR only. Lines: the item rows grouped by (product, seller, price), quantity the
//!   number of rows; shipping charge the sum of the freight values. An order whose item rows
//!   are not in the file (the items file is a head sorted by order id, so most are not) gets
//!   one placeholder line: `OLIST-UNLISTED`, quantity 1, unit price the sum of its payments,
//!   from center `S-UNLISTED`. That keeps every order's timeline for the reliability and
//!   cycle-time metrics at the price of made-up goods; the report counts them.
//! - **Timeline**, each command at its own business time and only where the timestamps
//!   support it: place at purchase; hold (`payment`) at the same instant; release at approval;
//!   allocate (shortage: reject) at approval; one `ReceivePayment` per payment row at approval,
//!   capped at what is due; pick, pack and ship at the carrier hand-off (one shipment
//!   `<order>-<n>` per center, carrier olist/standard, weight the products' weights); invoice
//!   at the hand-off; deliver (intact) at the delivery time. By status: `delivered` all steps
//!   (skipped if it has no delivery time); `shipped` up to ship and invoice;
//!   `approved`/`invoiced`/`processing` up to allocate; `created` place only; `canceled` what
//!   its timestamps support, then everything unshipped cancelled by the customer with reason
//!   `marketplace_cancelled` (Olist does not say who cancelled); `unavailable` hold, release
//!   and a cancellation by the seller, reason `out_of_stock`, without allocating (the seller
//!   had none). An order shipped in full before it was cancelled is recorded as shipped and
//!   counted. Orders handed to the carrier before approval keep their recorded times.
//! - **Reviews** are read and counted, never mapped: a score is an opinion, not a condition
//!   report.
//!
//! The commands come in this order: items, centers, the carrier, opening stock, then each
//! order's commands together, orders by purchase time then id.

mod map;
mod parse;
mod report;
#[cfg(test)]
mod tests;

pub use report::{ImportReport, SkipReason};

use crate::error::ImportError;
use flowline_core::Command;
use jiff::Timestamp;

/// File name of the orders.
pub const ORDERS: &str = "olist_orders_dataset.csv";
/// File name of the order items.
pub const ITEMS: &str = "olist_order_items_dataset.csv";
/// File name of the payments.
pub const PAYMENTS: &str = "olist_order_payments_dataset.csv";
/// File name of the reviews.
pub const REVIEWS: &str = "olist_order_reviews_dataset.csv";
/// File name of the customers.
pub const CUSTOMERS: &str = "olist_customers_dataset.csv";
/// File name of the products.
pub const PRODUCTS: &str = "olist_products_dataset.csv";
/// File name of the sellers.
pub const SELLERS: &str = "olist_sellers_dataset.csv";
/// File name of the category translation.
pub const CATEGORY_TRANSLATION: &str = "product_category_name_translation.csv";

/// The eight file names, in the fixed order [`OlistFiles::in_order`] gives them (and a content
/// hash should follow).
pub const FILE_NAMES: [&str; 8] = [
    ORDERS,
    ITEMS,
    PAYMENTS,
    REVIEWS,
    CUSTOMERS,
    PRODUCTS,
    SELLERS,
    CATEGORY_TRANSLATION,
];

/// The files an import cannot do without: the orders, their items and their payments.
pub const REQUIRED: [&str; 3] = [ORDERS, ITEMS, PAYMENTS];

/// The companion files a partial export may lack, each with what the import assumes in its
/// place.
pub const OPTIONAL: [(&str, &str); 5] = [
    (REVIEWS, "no reviews are counted"),
    (
        CUSTOMERS,
        "every order ships to country BR, with no city, state or postal code",
    ),
    (
        PRODUCTS,
        "every item is named `unknown` and weighs 0 g (no category, weight or size)",
    ),
    (
        SELLERS,
        "each seller's center is named `seller <id>`, in BR with no city, state or postal code",
    ),
    (
        CATEGORY_TRANSLATION,
        "items are named by their categories' Portuguese names",
    ),
];

/// One input file: its name (used in every message about it) and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct InputFile<'a> {
    /// The file's name.
    pub name: &'a str,
    /// Its content.
    pub bytes: &'a [u8],
    /// Whether the export had the file at all: a companion file a partial export lacks is
    /// absent, and the import says what it assumed in its place.
    pub present: bool,
}

/// The bytes of the eight Olist files.
#[derive(Debug, Clone, Copy)]
pub struct OlistFiles<'a> {
    /// `olist_orders_dataset.csv`.
    pub orders: InputFile<'a>,
    /// `olist_order_items_dataset.csv`.
    pub items: InputFile<'a>,
    /// `olist_order_payments_dataset.csv`.
    pub payments: InputFile<'a>,
    /// `olist_order_reviews_dataset.csv`.
    pub reviews: InputFile<'a>,
    /// `olist_customers_dataset.csv`.
    pub customers: InputFile<'a>,
    /// `olist_products_dataset.csv`.
    pub products: InputFile<'a>,
    /// `olist_sellers_dataset.csv`.
    pub sellers: InputFile<'a>,
    /// `product_category_name_translation.csv`.
    pub category_translation: InputFile<'a>,
}

impl<'a> OlistFiles<'a> {
    /// The files under their standard names, with the bytes `content` gives for each name in
    /// [`FILE_NAMES`].
    pub fn from_contents(content: impl Fn(&'static str) -> &'a [u8]) -> Self {
        Self::from_export(|name| Some(content(name)))
    }

    /// The files of an export that may lack the companion files ([`OPTIONAL`]): `content` gives
    /// `None` for a file the export does not have. A lacking required file ([`REQUIRED`]) reads
    /// as an empty one, which the import reports as malformed.
    pub fn from_export(content: impl Fn(&'static str) -> Option<&'a [u8]>) -> Self {
        let file = |name: &'static str| {
            let bytes = content(name);
            InputFile {
                name,
                bytes: bytes.unwrap_or_default(),
                present: bytes.is_some() || REQUIRED.contains(&name),
            }
        };
        Self {
            orders: file(ORDERS),
            items: file(ITEMS),
            payments: file(PAYMENTS),
            reviews: file(REVIEWS),
            customers: file(CUSTOMERS),
            products: file(PRODUCTS),
            sellers: file(SELLERS),
            category_translation: file(CATEGORY_TRANSLATION),
        }
    }

    /// The eight files in the order of [`FILE_NAMES`].
    pub fn in_order(&self) -> [InputFile<'a>; 8] {
        [
            self.orders,
            self.items,
            self.payments,
            self.reviews,
            self.customers,
            self.products,
            self.sellers,
            self.category_translation,
        ]
    }
}

/// The result of a successful import: the commands to submit, in order, each with its
/// business time, and the report.
#[derive(Debug, Clone)]
pub struct OlistImport {
    /// Commands and their business times, in submission order.
    pub submissions: Vec<(Command, Timestamp)>,
    /// What was imported and skipped.
    pub report: ImportReport,
}

/// Maps the eight Olist files to commands. Malformed input (broken CSV, a missing column,
/// invalid UTF-8, an unparseable timestamp or number, an unknown status) is an [`ImportError`]
/// listing every problem; well-formed rows that cannot be mapped are skipped and counted in the
/// report.
pub fn import(files: &OlistFiles<'_>) -> Result<OlistImport, ImportError> {
    let parsed = parse::parse(files)?;
    map::map(&parsed)
}
