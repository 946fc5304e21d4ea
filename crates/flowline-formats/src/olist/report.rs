//! What an Olist import did: counts of what was imported, what was skipped and why, the quirks
//! met, and the date formats detected.

use super::{CUSTOMERS, ITEMS, ORDERS, PAYMENTS, PRODUCTS, REVIEWS, SELLERS};
use crate::timestamp::DateFormatDetected;
use jiff::Timestamp;
use std::collections::BTreeMap;
use std::fmt;

/// Why a well-formed row was not mapped to commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum SkipReason {
    /// A `delivered` order with no `order_delivered_customer_date`: its delivery cannot be
    /// recorded, and recording it as undelivered would contradict its status.
    DeliveredWithoutDeliveryTime,
    /// A `delivered` order with no `order_delivered_carrier_date`: nothing says when it left.
    DeliveredWithoutCarrierTime,
    /// An order delivered before it was handed to the carrier, which the domain refuses.
    DeliveryBeforeCarrier,
    /// An item row whose order is not in the orders file.
    ItemOfAbsentOrder,
    /// An item row of an order that was skipped.
    ItemOfSkippedOrder,
    /// A payment row whose order is not in the orders file.
    PaymentOfAbsentOrder,
    /// A payment row of an order that was skipped.
    PaymentOfSkippedOrder,
    /// A payment row of an order whose payment was never approved (`created`, or cancelled
    /// before approval): the money was not received.
    PaymentOfUnapprovedOrder,
    /// A payment row of 0.00: a payment records money received, and none was.
    ZeroPayment,
    /// A review row whose order is not in the orders file.
    ReviewOfAbsentOrder,
}

impl SkipReason {
    /// The file the skipped rows are in.
    pub fn file(self) -> &'static str {
        match self {
            Self::DeliveredWithoutDeliveryTime
            | Self::DeliveredWithoutCarrierTime
            | Self::DeliveryBeforeCarrier => ORDERS,
            Self::ItemOfAbsentOrder | Self::ItemOfSkippedOrder => ITEMS,
            Self::PaymentOfAbsentOrder
            | Self::PaymentOfSkippedOrder
            | Self::PaymentOfUnapprovedOrder
            | Self::ZeroPayment => PAYMENTS,
            Self::ReviewOfAbsentOrder => REVIEWS,
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::DeliveredWithoutDeliveryTime => "delivered order without a delivery timestamp",
            Self::DeliveredWithoutCarrierTime => "delivered order without a carrier hand-off time",
            Self::DeliveryBeforeCarrier => "delivery timestamp before the carrier hand-off",
            Self::ItemOfAbsentOrder => "item row whose order is absent from the orders file",
            Self::ItemOfSkippedOrder => "item row of a skipped order",
            Self::PaymentOfAbsentOrder => "payment row whose order is absent from the orders file",
            Self::PaymentOfSkippedOrder => "payment row of a skipped order",
            Self::PaymentOfUnapprovedOrder => {
                "payment row of an order whose payment was never approved"
            }
            Self::ZeroPayment => "payment row of 0.00",
            Self::ReviewOfAbsentOrder => "review row whose order is absent from the orders file",
        })
    }
}

/// What an Olist import did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ImportReport {
    /// Orders in the orders file, by Olist status.
    pub orders_by_status: BTreeMap<String, u64>,
    /// Orders imported, by Olist status.
    pub orders_imported_by_status: BTreeMap<String, u64>,
    /// Orders imported.
    pub orders_imported: u64,
    /// Orders imported with the placeholder line, because their item rows are not in the
    /// items file.
    pub orders_with_placeholder_line: u64,
    /// Orders whose ship-to came from the customers file (the others have country BR only).
    pub orders_with_customer_address: u64,
    /// Well-formed rows that could not be mapped, by reason.
    pub rows_skipped: BTreeMap<SkipReason, u64>,
    /// Entirely empty rows (every field blank, as a spreadsheet saves formatted rows) skipped,
    /// by file.
    pub empty_rows_skipped: BTreeMap<String, u64>,
    /// Companion files the export lacks, each with what was assumed in its place.
    pub files_absent: Vec<(String, String)>,
    /// Payments reduced to what was still due on the order.
    pub payments_capped: u64,
    /// The total removed by capping, minor units of BRL.
    pub payments_capped_over_minor: i64,
    /// Imported orders handed to the carrier before their payment was approved (kept with
    /// their recorded times).
    pub carrier_before_approval: u64,
    /// Imported orders handed to the carrier before they were purchased (kept likewise).
    pub carrier_before_purchase: u64,
    /// Orders that went on to the warehouse without an approval time: released from the
    /// payment hold at their purchase time.
    pub released_without_approval: u64,
    /// Cancelled orders that had already shipped in full: recorded as they happened, not
    /// cancelled (nothing was left to cancel).
    pub cancelled_after_shipping_in_full: u64,
    /// Orders whose status implies a step their timestamps do not support (a `shipped` order
    /// with no carrier time): recorded up to the last step that has a time.
    pub timelines_cut_short: u64,
    /// Items defined, including the placeholder.
    pub items_defined: u64,
    /// Of those, products absent from the products file (defined with what is known).
    pub products_not_in_products_file: u64,
    /// Fulfillment centers defined (one per seller, and the placeholder's).
    pub centers_defined: u64,
    /// Of those, sellers absent from the sellers file.
    pub sellers_not_in_sellers_file: u64,
    /// Review rows read (parsed and counted, not mapped).
    pub reviews_read: u64,
    /// Of those, reviews of imported orders.
    pub reviews_of_imported_orders: u64,
    /// The date formats found, per file and column.
    pub date_formats: Vec<DateFormatDetected>,
    /// Timestamps naming a local time skipped by a daylight-saving change.
    pub timestamps_in_gap: u64,
    /// Timestamps naming a local time repeated by a daylight-saving change.
    pub timestamps_in_fold: u64,
    /// Commands generated, by command.
    pub commands_by_kind: BTreeMap<String, u64>,
    /// Commands generated.
    pub commands: u64,
    /// Business time of the master data and opening stock: the earliest purchase imported.
    pub opening_at: Option<Timestamp>,
}

fn statuses(counts: &BTreeMap<String, u64>) -> String {
    let parts: Vec<String> = counts
        .iter()
        .map(|(status, count)| format!("{status} {count}"))
        .collect();
    parts.join(", ")
}

fn amount(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.unsigned_abs();
    format!("{sign}{}.{:02} BRL", minor / 100, minor % 100)
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let in_file: u64 = self.orders_by_status.values().sum();
        writeln!(
            f,
            "orders in {ORDERS}: {in_file} ({})",
            statuses(&self.orders_by_status)
        )?;
        writeln!(
            f,
            "orders imported: {} ({})",
            self.orders_imported,
            statuses(&self.orders_imported_by_status)
        )?;
        writeln!(
            f,
            "  orders without item rows (placeholder line OLIST-UNLISTED from S-UNLISTED): {}",
            self.orders_with_placeholder_line
        )?;
        writeln!(
            f,
            "  ship-to from {CUSTOMERS}: {} (the others: country BR only)",
            self.orders_with_customer_address
        )?;
        writeln!(
            f,
            "  carrier hand-off before payment approval (kept as recorded): {}",
            self.carrier_before_approval
        )?;
        writeln!(
            f,
            "  carrier hand-off before purchase (kept as recorded): {}",
            self.carrier_before_purchase
        )?;
        writeln!(
            f,
            "  released from the payment hold at purchase (no approval time): {}",
            self.released_without_approval
        )?;
        writeln!(
            f,
            "  cancelled after shipping in full (recorded as shipped, not cancelled): {}",
            self.cancelled_after_shipping_in_full
        )?;
        writeln!(
            f,
            "  status beyond what the timestamps support (recorded up to the last timed step): {}",
            self.timelines_cut_short
        )?;
        writeln!(
            f,
            "payments capped at what was due: {} ({} over)",
            self.payments_capped,
            amount(self.payments_capped_over_minor)
        )?;
        for (file, assumed) in &self.files_absent {
            writeln!(f, "{file} absent: {assumed}")?;
        }
        let empty: u64 = self.empty_rows_skipped.values().sum();
        writeln!(f, "entirely empty rows skipped: {empty}")?;
        for (file, count) in &self.empty_rows_skipped {
            writeln!(f, "  {file}: {count}")?;
        }
        let skipped: u64 = self.rows_skipped.values().sum();
        writeln!(f, "rows skipped (well-formed, cannot be mapped): {skipped}")?;
        for (reason, count) in &self.rows_skipped {
            writeln!(f, "  {}: {reason}: {count}", reason.file())?;
        }
        writeln!(
            f,
            "items defined: {} ({} not in {PRODUCTS}; unit cost 0: Olist publishes no costs)",
            self.items_defined, self.products_not_in_products_file
        )?;
        writeln!(
            f,
            "fulfillment centers defined: {} (one per seller; {} not in {SELLERS})",
            self.centers_defined, self.sellers_not_in_sellers_file
        )?;
        writeln!(
            f,
            "reviews read: {} ({} of imported orders; counted, not mapped: a score is an opinion, not a condition report)",
            self.reviews_read, self.reviews_of_imported_orders
        )?;
        writeln!(f, "date formats (civil times in America/Sao_Paulo):")?;
        for detected in &self.date_formats {
            writeln!(f, "  {detected}")?;
        }
        writeln!(
            f,
            "  in a daylight-saving gap (moved past it): {}; in a fold (first occurrence taken): {}",
            self.timestamps_in_gap, self.timestamps_in_fold
        )?;
        if let Some(at) = self.opening_at {
            writeln!(f, "master data and opening stock at: {at}")?;
        }
        write!(f, "commands: {}", self.commands)?;
        if !self.commands_by_kind.is_empty() {
            let parts: Vec<String> = self
                .commands_by_kind
                .iter()
                .map(|(kind, count)| format!("{kind} {count}"))
                .collect();
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}
