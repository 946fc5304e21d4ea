//! The Olist mapping rules, one small synthetic data set per rule. Every import that succeeds
//! is also replayed through the pure domain (`decide` then `apply`, in order, as the engine
//! does), which proves the domain accepts every command.

use super::*;
use crate::error::ProblemKind;
use crate::timestamp::DayOrderDecision;
use flowline_core::documents::sales_order::{Initiator, PromiseSource};
use flowline_core::id::SalesOrderId;
use flowline_core::master::TimeZoneName;
use flowline_core::money::Currency;
use flowline_core::state::ConfigureTenant;
use flowline_core::{Context, State, apply, decide, invariants};

const ORDERS_HEADER: &str = "order_id,customer_id,order_status,order_purchase_timestamp,\
order_approved_at,order_delivered_carrier_date,order_delivered_customer_date,\
order_estimated_delivery_date";
const ITEMS_HEADER: &str =
    "order_id,order_item_id,product_id,seller_id,shipping_limit_date,price,freight_value";
const PAYMENTS_HEADER: &str =
    "order_id,payment_sequential,payment_type,payment_installments,payment_value";
const REVIEWS_HEADER: &str = "review_id,order_id,review_score,review_comment_title,\
review_comment_message,review_creation_date,review_answer_timestamp";
const CUSTOMERS_HEADER: &str =
    "customer_id,customer_unique_id,customer_zip_code_prefix,customer_city,customer_state";
const PRODUCTS_HEADER: &str = "product_id,product_category_name,product_name_lenght,\
product_description_lenght,product_photos_qty,product_weight_g,product_length_cm,\
product_height_cm,product_width_cm";
const SELLERS_HEADER: &str = "seller_id,seller_zip_code_prefix,seller_city,seller_state";
const TRANSLATION_HEADER: &str = "product_category_name,product_category_name_english";

/// Eight small files as text, each starting with its header.
struct Fixture {
    orders: Vec<String>,
    items: Vec<String>,
    payments: Vec<String>,
    reviews: Vec<String>,
    customers: Vec<String>,
    products: Vec<String>,
    sellers: Vec<String>,
    translation: Vec<String>,
}

impl Fixture {
    /// One product `p1` (beleza_saude, 250 g, 10×20×5 cm) sold by seller `s1` of Campinas,
    /// customer `c1` of São Paulo; no orders yet.
    fn new() -> Self {
        Self {
            orders: vec![ORDERS_HEADER.into()],
            items: vec![ITEMS_HEADER.into()],
            payments: vec![PAYMENTS_HEADER.into()],
            reviews: vec![REVIEWS_HEADER.into()],
            customers: vec![
                CUSTOMERS_HEADER.into(),
                "c1,u1,\"01151\",sao paulo,SP".into(),
            ],
            products: vec![
                PRODUCTS_HEADER.into(),
                "p1,beleza_saude,40,287,1,250,10,5,20".into(),
                "p2,pc_gamer,40,287,1,1000,30,10,30".into(),
                "p3,,,,,,,,".into(),
            ],
            sellers: vec![
                SELLERS_HEADER.into(),
                "s1,\"13023\",campinas,SP".into(),
                "s2,\"20031\",rio de janeiro,RJ".into(),
            ],
            translation: vec![
                TRANSLATION_HEADER.into(),
                "beleza_saude,health_beauty".into(),
            ],
        }
    }

    /// An order row; empty strings are missing timestamps.
    #[allow(clippy::too_many_arguments)]
    fn order(
        mut self,
        id: &str,
        status: &str,
        purchased: &str,
        approved: &str,
        carrier: &str,
        delivered: &str,
        estimated: &str,
    ) -> Self {
        self.orders.push(format!(
            "{id},c1,{status},{purchased},{approved},{carrier},{delivered},{estimated}"
        ));
        self
    }

    fn item(
        mut self,
        order: &str,
        product: &str,
        seller: &str,
        price: &str,
        freight: &str,
    ) -> Self {
        let number = self.items.len();
        self.items.push(format!(
            "{order},{number},{product},{seller},2017-06-10 00:00:00,{price},{freight}"
        ));
        self
    }

    fn payment(mut self, order: &str, value: &str) -> Self {
        let sequential = self.payments.len();
        self.payments
            .push(format!("{order},{sequential},credit_card,1,{value}"));
        self
    }

    fn text(lines: &[String]) -> String {
        lines.join("\n")
    }

    fn contents(&self) -> [(&'static str, String); 8] {
        [
            (ORDERS, Self::text(&self.orders)),
            (ITEMS, Self::text(&self.items)),
            (PAYMENTS, Self::text(&self.payments)),
            (REVIEWS, Self::text(&self.reviews)),
            (CUSTOMERS, Self::text(&self.customers)),
            (PRODUCTS, Self::text(&self.products)),
            (SELLERS, Self::text(&self.sellers)),
            (CATEGORY_TRANSLATION, Self::text(&self.translation)),
        ]
    }

    fn import(&self) -> Result<OlistImport, ImportError> {
        import_contents(
            &self
                .contents()
                .map(|(name, text)| (name, text.into_bytes())),
        )
    }

    /// Imports, expecting success, and proves the domain accepts every command.
    fn accepted(&self) -> OlistImport {
        let import = match self.import() {
            Ok(import) => import,
            Err(error) => panic!("{error}"),
        };
        replay(&import);
        import
    }
}

fn import_contents(contents: &[(&'static str, Vec<u8>)]) -> Result<OlistImport, ImportError> {
    let bytes = |name: &'static str| -> &[u8] {
        contents
            .iter()
            .find(|(file, _)| *file == name)
            .map(|(_, bytes)| bytes.as_slice())
            .unwrap()
    };
    super::import(&OlistFiles::from_contents(bytes))
}

/// Decides and applies every command in order on a state configured as the CLI configures
/// the tenant (BRL, America/Sao_Paulo); panics naming the first rejected command.
fn replay(import: &OlistImport) -> State {
    let mut state = State::default();
    let configure = Command::ConfigureTenant(ConfigureTenant {
        business_time: None,
        base_currency: Currency::parse("BRL").unwrap(),
        reporting_time_zone: TimeZoneName::parse("America/Sao_Paulo").unwrap(),
    });
    let start = Context {
        at: Timestamp::UNIX_EPOCH,
    };
    for event in decide(&state, &configure, &start).unwrap() {
        apply(&mut state, &event);
    }
    for (index, (command, at)) in import.submissions.iter().enumerate() {
        match decide(&state, command, &Context { at: *at }) {
            Ok(events) => {
                for event in &events {
                    apply(&mut state, event);
                }
            }
            Err(error) => panic!("command {index} rejected: {error}\n{command:?}"),
        }
    }
    assert_eq!(invariants::check_state(&state), vec![]);
    state
}

fn instant(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn order_of(command: &Command) -> Option<&SalesOrderId> {
    command.sales_order()
}

/// An order's commands by name, with their business times.
fn steps(import: &OlistImport, order: &str) -> Vec<(&'static str, Timestamp)> {
    import
        .submissions
        .iter()
        .filter(|(command, _)| order_of(command).is_some_and(|id| id.as_str() == order))
        .map(|(command, at)| (command.name(), *at))
        .collect()
}

fn commands_named<'i>(import: &'i OlistImport, name: &str) -> Vec<&'i Command> {
    import
        .submissions
        .iter()
        .filter(|(command, _)| command.name() == name)
        .map(|(command, _)| command)
        .collect()
}

fn error_lines(error: &ImportError) -> Vec<String> {
    error.problems().iter().map(ToString::to_string).collect()
}

// 2017-06-01 is outside Brazilian daylight saving (mid-October to mid-February), so Brasília
// time is UTC−3 and 10:00 local is 13:00 UTC.
const JUNE_1: &str = "2017-06-01 10:00:00";
const JUNE_1_UTC: &str = "2017-06-01T13:00:00Z";
const JUNE_1_APPROVED: &str = "2017-06-01 10:15:00";
const JUNE_1_APPROVED_UTC: &str = "2017-06-01T13:15:00Z";
const JUNE_3: &str = "2017-06-03 16:00:00";
const JUNE_3_UTC: &str = "2017-06-03T19:00:00Z";
const JUNE_8: &str = "2017-06-08 12:00:00";
const JUNE_8_UTC: &str = "2017-06-08T15:00:00Z";
const JUNE_20: &str = "2017-06-20 00:00:00";

#[test]
fn money_is_parsed_exactly_and_item_rows_group_into_lines() {
    // Two units of p1 at 58.90 with 13.29 freight each: one line of quantity 2 at 5890
    // centavos, shipping 2 × 1329 = 2658; due 2 × 5890 + 2658 = 14438 = the payment of 144.38.
    let import = Fixture::new()
        .order(
            "o1",
            "delivered",
            JUNE_1,
            JUNE_1_APPROVED,
            JUNE_3,
            JUNE_8,
            JUNE_20,
        )
        .item("o1", "p1", "s1", "58.90", "13.29")
        .item("o1", "p1", "s1", "58.90", "13.29")
        .payment("o1", "144.38")
        .accepted();
    let Command::PlaceSalesOrder(place) = commands_named(&import, "PlaceSalesOrder")[0] else {
        unreachable!()
    };
    assert_eq!(place.lines.len(), 1);
    assert_eq!(place.lines[0].quantity, 2);
    assert_eq!(place.lines[0].unit_price_minor, 5890);
    assert_eq!(place.shipping_charge_minor, 2658);
    assert_eq!(place.channel.as_str(), "olist");
    assert_eq!(place.customer.as_str(), "c1");
    assert_eq!(place.currency.as_str(), "BRL");
    // Customer c1 is in the customers file: São Paulo, SP, zip prefix 01151 (leading zero kept).
    assert_eq!(place.ship_to.city, "sao paulo");
    assert_eq!(place.ship_to.region, "SP");
    assert_eq!(place.ship_to.postal_code, "01151");
    assert_eq!(place.ship_to.time_zone.as_str(), "America/Sao_Paulo");
    let promise = place.promise.as_ref().unwrap();
    assert_eq!(promise.source, PromiseSource::ShownAtCheckout);
    assert_eq!(promise.deliver_by, Some(jiff::civil::date(2017, 6, 20)));
    let Command::ReceivePayment(payment) = commands_named(&import, "ReceivePayment")[0] else {
        unreachable!()
    };
    assert_eq!(payment.amount.amount_minor, 14438);
    assert_eq!(import.report.payments_capped, 0);
}

#[test]
fn a_delivered_order_goes_through_every_step_at_its_own_time() {
    let import = Fixture::new()
        .order(
            "o1",
            "delivered",
            JUNE_1,
            JUNE_1_APPROVED,
            JUNE_3,
            JUNE_8,
            JUNE_20,
        )
        .item("o1", "p1", "s1", "58.90", "13.29")
        .payment("o1", "72.19")
        .accepted();
    let purchased = instant(JUNE_1_UTC);
    let approved = instant(JUNE_1_APPROVED_UTC);
    let shipped = instant(JUNE_3_UTC);
    let delivered = instant(JUNE_8_UTC);
    assert_eq!(
        steps(&import, "o1"),
        vec![
            ("PlaceSalesOrder", purchased),
            ("HoldSalesOrder", purchased),
            ("ReleaseSalesOrder", approved),
            ("AllocateSalesOrder", approved),
            ("ReceivePayment", approved),
            ("PickSalesOrder", shipped),
            ("PackSalesOrder", shipped),
            ("ShipSalesOrder", shipped),
            ("InvoiceSalesOrder", shipped),
            ("DeliverShipment", delivered),
        ]
    );
    // Master data and opening stock come first, at the earliest purchase: item p1 (English
    // name from the translation, 250 g, 10×5×20 cm → 100×50×200 mm), center S-s1, carrier,
    // then one unit of p1 at S-s1 — exactly what the order allocates.
    let names: Vec<&str> = import
        .submissions
        .iter()
        .take(4)
        .map(|(command, _)| command.name())
        .collect();
    assert_eq!(
        names,
        vec![
            "DefineItem",
            "DefineLocation",
            "DefineCarrier",
            "AdjustStock"
        ]
    );
    assert!(
        import.submissions[..4]
            .iter()
            .all(|(_, at)| *at == purchased)
    );
    let Command::DefineItem(item) = &import.submissions[0].0 else {
        unreachable!()
    };
    assert_eq!(item.name, "health_beauty");
    assert_eq!(item.unit_cost.amount_minor, 0);
    assert_eq!(item.price.amount_minor, 5890);
    assert_eq!(item.weight_g, 250);
    assert_eq!(item.dimensions.map(|d| d.width_mm), Some(200));
    let Command::DefineLocation(center) = &import.submissions[1].0 else {
        unreachable!()
    };
    assert_eq!(center.location.as_str(), "S-s1");
    assert_eq!(center.name, "campinas");
    assert_eq!(center.region, "SP");
    assert_eq!(center.address.postal_code, "13023");
    let Command::AdjustStock(opening) = &import.submissions[3].0 else {
        unreachable!()
    };
    assert_eq!(opening.reason.as_str(), "opening_balance");
    assert_eq!(opening.lines.len(), 1);
    assert_eq!(opening.lines[0].quantity, 1);
    assert_eq!(opening.lines[0].unit_cost_minor, Some(0));
    let Command::ShipSalesOrder(ship) = commands_named(&import, "ShipSalesOrder")[0] else {
        unreachable!()
    };
    assert_eq!(ship.shipment.as_str(), "o1-1");
    assert_eq!(ship.weight_g, 250);
}

#[test]
fn a_broken_csv_names_file_line_and_column_and_imports_nothing() {
    let mut fixture = Fixture::new()
        .order(
            "o1",
            "delivered",
            JUNE_1,
            JUNE_1_APPROVED,
            JUNE_3,
            JUNE_8,
            JUNE_20,
        )
        .item("o1", "p1", "s1", "58.90", "13.29");
    // Line 3 of the items file lacks its freight value; line 2 of the reviews opens a quote
    // in the comment title that is never closed.
    fixture
        .items
        .push("o1,2,p1,s1,2017-06-10 00:00:00,58.90".into());
    fixture
        .reviews
        .push("r1,o1,5,\"never closed,,2017-06-09 00:00:00,2017-06-09 10:00:00".into());
    let error = fixture.import().unwrap_err();
    assert_eq!(
        error_lines(&error),
        vec![
            "olist_order_items_dataset.csv:3: the record has 6 fields but the header has 7"
                .to_string(),
            "olist_order_reviews_dataset.csv:2: column `review_comment_title`: a quoted field is \
             never closed: the quote runs to the end of the file"
                .to_string(),
        ]
    );
    assert!(
        error
            .to_string()
            .starts_with("the input is malformed (2 problems); nothing was imported")
    );
}

#[test]
fn an_unparseable_timestamp_names_file_line_column_and_value_and_every_problem_is_listed() {
    let fixture = Fixture::new()
        .order(
            "o1",
            "delivered",
            JUNE_1,
            JUNE_1_APPROVED,
            JUNE_3,
            JUNE_8,
            JUNE_20,
        )
        .order(
            "o2",
            "delivered",
            "2017-13-01 10:00:00",
            JUNE_1_APPROVED,
            JUNE_3,
            JUNE_8,
            JUNE_20,
        )
        // Quoted, as a pt-BR spreadsheet writes a decimal comma.
        .item("o1", "p1", "s1", "\"58,90\"", "13.29");
    let error = fixture.import().unwrap_err();
    let lines = error_lines(&error);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with(
            "olist_orders_dataset.csv:3: column `order_purchase_timestamp`: value \
             \"2017-13-01 10:00:00\": not a timestamp: "
        ),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("month"), "{}", lines[0]);
    assert_eq!(
        lines[1],
        "olist_order_items_dataset.csv:2: column `price`: value \"58,90\": not an amount of \
         money: ',' is not a digit"
    );
}

#[test]
fn unknown_statuses_and_bad_ids_are_malformed() {
    let mut fixture = Fixture::new().order("o1", "lost", JUNE_1, "", "", "", JUNE_20);
    fixture
        .orders
        .push(format!("o 2,c1,created,{JUNE_1},,,,{JUNE_20}"));
    let error = fixture.import().unwrap_err();
    assert!(matches!(
        error.problems()[0].kind,
        ProblemKind::UnknownValue { .. }
    ));
    assert_eq!(error.problems()[1].line, Some(3));
    assert_eq!(error.problems()[1].column.as_deref(), Some("order_id"));
}

#[test]
fn day_first_and_month_first_columns_are_detected_from_their_values() {
    // Purchases re-saved by a pt-BR spreadsheet: 13/05/2017 can only be day-first, so
    // 3/4/2017 is the 3rd of April. Approvals re-saved by an en-US one: 5/13/2017 can only be
    // month-first. Carrier dates 4/5/2017 decide nothing: day-first, the 4th of May.
    let import = Fixture::new()
        .order(
            "o1",
            "shipped",
            "3/4/2017 9:00",
            "4/3/2017 09:30:00",
            "4/5/2017 11:00",
            "",
            "2017-06-20",
        )
        .order(
            "o2",
            "shipped",
            "13/05/2017 10:00",
            "5/13/2017 10:30:00",
            "12/6/2017 11:00",
            "",
            "2017-06-20",
        )
        .accepted();
    // 3 April 2017 09:00 Brasília (UTC−3, no daylight saving in April) is 12:00 UTC.
    assert_eq!(
        steps(&import, "o1")[0],
        ("PlaceSalesOrder", instant("2017-04-03T12:00:00Z"))
    );
    // Approved 4/3 month-first: 3 April 09:30 → 12:30 UTC.
    assert_eq!(
        steps(&import, "o1")[2],
        ("ReleaseSalesOrder", instant("2017-04-03T12:30:00Z"))
    );
    // Carrier 4/5 day-first by default (12/6 decides nothing either): 4 May 11:00 → 14:00 UTC.
    assert_eq!(
        steps(&import, "o1")[4],
        ("PickSalesOrder", instant("2017-05-04T14:00:00Z"))
    );
    let formats = &import.report.date_formats;
    let purchase = formats
        .iter()
        .find(|f| f.column == "order_purchase_timestamp")
        .unwrap();
    assert_eq!(
        purchase.day_order,
        Some(DayOrderDecision::DayFirst {
            line: 3,
            value: "13/05/2017 10:00".into()
        })
    );
    assert_eq!(purchase.forms, vec!["D/M/YYYY H:MM".to_string()]);
    let approval = formats
        .iter()
        .find(|f| f.column == "order_approved_at")
        .unwrap();
    assert_eq!(
        approval.day_order,
        Some(DayOrderDecision::MonthFirst {
            line: 3,
            value: "5/13/2017 10:30:00".into()
        })
    );
    let carrier = formats
        .iter()
        .find(|f| f.column == "order_delivered_carrier_date")
        .unwrap();
    assert_eq!(carrier.day_order, Some(DayOrderDecision::DayFirstByDefault));
    assert!(import.report.to_string().contains(
        "order_approved_at: M/D/YYYY H:MM:SS (month first: line 3 has 5/13/2017 10:30:00)"
    ));
}

#[test]
fn a_column_with_both_day_orders_is_an_error_naming_an_example_of_each() {
    let error = Fixture::new()
        .order("o1", "created", "13/05/2017 10:00", "", "", "", JUNE_20)
        .order("o2", "created", "05/14/2017 10:00", "", "", "", JUNE_20)
        .import()
        .unwrap_err();
    let lines = error_lines(&error);
    assert_eq!(
        lines[0],
        "olist_orders_dataset.csv:3: column `order_purchase_timestamp`: the column mixes \
         day-first and month-first dates: line 2 has \"13/05/2017 10:00\" (first field above \
         12, so day first) and line 3 has \"05/14/2017 10:00\" (second field above 12, so \
         month first)"
    );
    // Read day-first, 05/14 is month 14: reported too, so one run shows every problem.
    assert_eq!(lines.len(), 2, "{lines:?}");
}

#[test]
fn item_payment_and_review_rows_of_absent_orders_are_skipped_and_counted() {
    let mut fixture = Fixture::new()
        .order(
            "o1",
            "delivered",
            JUNE_1,
            JUNE_1_APPROVED,
            JUNE_3,
            JUNE_8,
            JUNE_20,
        )
        .item("o1", "p1", "s1", "58.90", "13.29")
        .item("gone", "p1", "s1", "10.00", "1.00")
        .payment("gone", "11.00");
    fixture
        .reviews
        .push("r1,gone,5,,,2017-06-09 00:00:00,2017-06-09 10:00:00".into());
    fixture.reviews.push(
        "r2,o1,1,\"ruim\",\"chegou\nquebrado\",2017-06-09 00:00:00,2017-06-09 10:00:00".into(),
    );
    let import = fixture.accepted();
    let skipped = &import.report.rows_skipped;
    assert_eq!(skipped[&SkipReason::ItemOfAbsentOrder], 1);
    assert_eq!(skipped[&SkipReason::PaymentOfAbsentOrder], 1);
    assert_eq!(skipped[&SkipReason::ReviewOfAbsentOrder], 1);
    // The multi-line review is read and counted, and maps to nothing: the delivery stays
    // intact, since a score of 1 is an opinion, not a condition report.
    assert_eq!(import.report.reviews_read, 2);
    assert_eq!(import.report.reviews_of_imported_orders, 1);
    let Command::DeliverShipment(delivery) = commands_named(&import, "DeliverShipment")[0] else {
        unreachable!()
    };
    assert_eq!(
        delivery.condition,
        flowline_core::documents::sales_order::DeliveryCondition::Intact
    );
    // The absent order's product at 10.00 never priced p1: its first price seen is 58.90.
    let Command::DefineItem(item) = commands_named(&import, "DefineItem")[0] else {
        unreachable!()
    };
    assert_eq!(item.price.amount_minor, 5890);
}

#[test]
fn a_delivered_order_without_a_delivery_time_is_skipped_with_its_rows() {
    let import = Fixture::new()
        .order(
            "o1",
            "delivered",
            JUNE_1,
            JUNE_1_APPROVED,
            JUNE_3,
            "",
            JUNE_20,
        )
        .order(
            "o2",
            "delivered",
            JUNE_1,
            JUNE_1_APPROVED,
            JUNE_3,
            JUNE_8,
            JUNE_20,
        )
        .item("o1", "p1", "s1", "58.90", "13.29")
        .payment("o1", "72.19")
        .accepted();
    let report = &import.report;
    assert_eq!(report.orders_by_status["delivered"], 2);
    assert_eq!(report.orders_imported, 1);
    assert_eq!(
        report.rows_skipped[&SkipReason::DeliveredWithoutDeliveryTime],
        1
    );
    assert_eq!(report.rows_skipped[&SkipReason::ItemOfSkippedOrder], 1);
    assert_eq!(report.rows_skipped[&SkipReason::PaymentOfSkippedOrder], 1);
    assert!(steps(&import, "o1").is_empty());
    assert!(
        report
            .to_string()
            .contains("olist_orders_dataset.csv: delivered order without a delivery timestamp: 1")
    );
}

#[test]
fn a_delivery_before_the_carrier_hand_off_is_skipped_and_counted() {
    let import = Fixture::new()
        .order(
            "o1",
            "delivered",
            JUNE_1,
            JUNE_1_APPROVED,
            JUNE_8,
            JUNE_3,
            JUNE_20,
        )
        .accepted();
    assert_eq!(
        import.report.rows_skipped[&SkipReason::DeliveryBeforeCarrier],
        1
    );
    assert_eq!(import.report.orders_imported, 0);
    assert!(import.submissions.is_empty());
}

#[test]
fn cancelled_and_unavailable_orders_are_cancelled_by_customer_and_seller() {
    let import = Fixture::new()
        // Cancelled after approval: allocated, paid, then everything cancelled at the last
        // time known, the approval.
        .order(
            "c-approved",
            "canceled",
            JUNE_1,
            JUNE_1_APPROVED,
            "",
            "",
            JUNE_20,
        )
        .item("c-approved", "p1", "s1", "58.90", "13.29")
        .payment("c-approved", "72.19")
        // Cancelled before approval: held until cancelled; its payment was never received.
        .order("c-unpaid", "canceled", JUNE_1, "", "", "", JUNE_20)
        .payment("c-unpaid", "20.00")
        // Cancelled after it had shipped: nothing left to cancel, so recorded as shipped.
        .order(
            "c-shipped",
            "canceled",
            JUNE_1,
            JUNE_1_APPROVED,
            JUNE_3,
            "",
            JUNE_20,
        )
        .payment("c-shipped", "30.00")
        // Unavailable: the seller had none, so released and cancelled without allocating.
        .order(
            "u1",
            "unavailable",
            JUNE_1,
            JUNE_1_APPROVED,
            "",
            "",
            JUNE_20,
        )
        .payment("u1", "40.00")
        .accepted();
    let approved = instant(JUNE_1_APPROVED_UTC);
    let purchased = instant(JUNE_1_UTC);
    let names = |order| -> Vec<&'static str> {
        steps(&import, order)
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    };
    assert_eq!(
        names("c-approved"),
        vec![
            "PlaceSalesOrder",
            "HoldSalesOrder",
            "ReleaseSalesOrder",
            "AllocateSalesOrder",
            "ReceivePayment",
            "CancelSalesOrder"
        ]
    );
    assert_eq!(
        steps(&import, "c-approved").last(),
        Some(&("CancelSalesOrder", approved))
    );
    assert_eq!(
        names("c-unpaid"),
        vec!["PlaceSalesOrder", "HoldSalesOrder", "CancelSalesOrder"]
    );
    assert_eq!(
        steps(&import, "c-unpaid").last(),
        Some(&("CancelSalesOrder", purchased))
    );
    assert_eq!(
        import.report.rows_skipped[&SkipReason::PaymentOfUnapprovedOrder],
        1
    );
    assert!(!names("c-shipped").contains(&"CancelSalesOrder"));
    assert!(names("c-shipped").contains(&"ShipSalesOrder"));
    assert_eq!(import.report.cancelled_after_shipping_in_full, 1);
    assert_eq!(
        names("u1"),
        vec![
            "PlaceSalesOrder",
            "HoldSalesOrder",
            "ReleaseSalesOrder",
            "ReceivePayment",
            "CancelSalesOrder"
        ]
    );
    let cancellations: Vec<(Initiator, String)> = commands_named(&import, "CancelSalesOrder")
        .into_iter()
        .map(|command| match command {
            Command::CancelSalesOrder(cancel) => (cancel.initiator, cancel.reason.to_string()),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        cancellations,
        vec![
            (Initiator::Customer, "marketplace_cancelled".to_string()),
            (Initiator::Customer, "marketplace_cancelled".to_string()),
            (Initiator::Seller, "out_of_stock".to_string()),
        ]
    );
    let state = replay(&import);
    let state_of = |id: &str| {
        state.sales_orders[&SalesOrderId::parse(id).unwrap()]
            .state_name()
            .to_string()
    };
    assert_eq!(state_of("c-approved"), "cancelled");
    assert_eq!(state_of("c-unpaid"), "cancelled");
    assert_eq!(state_of("u1"), "cancelled");
    assert_eq!(state_of("c-shipped"), "shipped");
}

#[test]
fn a_carrier_hand_off_before_payment_approval_keeps_its_recorded_times() {
    // Handed to the carrier on 3 June, approved only on 8 June (the real quirk of 58 orders):
    // the log order is place, hold, release, allocate, ..., ship, but each step keeps its time.
    let import = Fixture::new()
        .order(
            "o1",
            "delivered",
            JUNE_1,
            JUNE_8,
            JUNE_3,
            "2017-06-10 09:00:00",
            JUNE_20,
        )
        .item("o1", "p1", "s1", "58.90", "13.29")
        .accepted();
    assert_eq!(import.report.carrier_before_approval, 1);
    let timeline = steps(&import, "o1");
    assert_eq!(timeline[2], ("ReleaseSalesOrder", instant(JUNE_8_UTC)));
    assert_eq!(timeline[4], ("PickSalesOrder", instant(JUNE_3_UTC)));
    assert_eq!(timeline[5].0, "PackSalesOrder");
    assert_eq!(timeline[6], ("ShipSalesOrder", instant(JUNE_3_UTC)));
    assert!(timeline[6].1 < timeline[2].1);
    assert!(
        import
            .report
            .to_string()
            .contains("carrier hand-off before payment approval (kept as recorded): 1")
    );
}

#[test]
fn an_order_without_item_rows_gets_the_placeholder_line_priced_at_its_payments() {
    // Payments 50.00 + 22.19 = 72.19 → one OLIST-UNLISTED unit at 7219 from S-UNLISTED.
    let import = Fixture::new()
        .order(
            "o1",
            "delivered",
            JUNE_1,
            JUNE_1_APPROVED,
            JUNE_3,
            JUNE_8,
            JUNE_20,
        )
        .payment("o1", "50.00")
        .payment("o1", "22.19")
        .accepted();
    let Command::PlaceSalesOrder(place) = commands_named(&import, "PlaceSalesOrder")[0] else {
        unreachable!()
    };
    assert_eq!(place.lines.len(), 1);
    assert_eq!(place.lines[0].sku.as_str(), "OLIST-UNLISTED");
    assert_eq!(place.lines[0].unit_price_minor, 7219);
    assert_eq!(place.shipping_charge_minor, 0);
    assert_eq!(import.report.orders_with_placeholder_line, 1);
    let Command::AllocateSalesOrder(allocate) = commands_named(&import, "AllocateSalesOrder")[0]
    else {
        unreachable!()
    };
    let requests = allocate.lines.as_ref().unwrap();
    assert_eq!(requests[0].location.as_str(), "S-UNLISTED");
    assert_eq!(commands_named(&import, "ReceivePayment").len(), 2);
    // The customer's address is unknown without a customers row: country BR only.
    let mut fixture = Fixture::new().order("o2", "created", JUNE_1, "", "", "", "");
    fixture.customers.truncate(1);
    let import = fixture.accepted();
    let Command::PlaceSalesOrder(place) = commands_named(&import, "PlaceSalesOrder")[0] else {
        unreachable!()
    };
    assert_eq!(place.ship_to.country, "BR");
    assert_eq!(place.ship_to.city, "");
    assert_eq!(place.promise, None);
    // A created order is placed and nothing else.
    assert_eq!(steps(&import, "o2").len(), 1);
}

#[test]
fn payments_above_what_is_due_are_capped_and_counted() {
    // Due: 100.00 + 0.00 freight = 10000. Payments 60.00 then 50.00: the second is capped to
    // 10000 − 6000 = 4000, 10.00 over; a third of 5.00 finds nothing due and is dropped
    // (capped by all of its 5.00). Total over: 15.00.
    let import = Fixture::new()
        .order(
            "o1",
            "delivered",
            JUNE_1,
            JUNE_1_APPROVED,
            JUNE_3,
            JUNE_8,
            JUNE_20,
        )
        .item("o1", "p1", "s1", "100.00", "0.00")
        .payment("o1", "60.00")
        .payment("o1", "50.00")
        .payment("o1", "5.00")
        .payment("o1", "0.00")
        .accepted();
    let amounts: Vec<i64> = commands_named(&import, "ReceivePayment")
        .into_iter()
        .map(|command| match command {
            Command::ReceivePayment(payment) => payment.amount.amount_minor,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(amounts, vec![6000, 4000]);
    assert_eq!(import.report.payments_capped, 2);
    assert_eq!(import.report.payments_capped_over_minor, 1500);
    assert_eq!(import.report.rows_skipped[&SkipReason::ZeroPayment], 1);
    assert!(
        import
            .report
            .to_string()
            .contains("payments capped at what was due: 2 (15.00 BRL over)")
    );
}

#[test]
fn items_fall_back_to_the_portuguese_category_or_unknown_and_may_be_absent_from_products() {
    // p2's category pc_gamer has no translation (as in the real file); p3 has no category;
    // p9 is not in the products file at all (weight 0). An order with two sellers ships twice.
    let import = Fixture::new()
        .order(
            "o1",
            "delivered",
            JUNE_1,
            JUNE_1_APPROVED,
            JUNE_3,
            JUNE_8,
            JUNE_20,
        )
        .item("o1", "p2", "s1", "10.00", "1.00")
        .item("o1", "p3", "s2", "20.00", "1.00")
        .item("o1", "p9", "s2", "30.00", "1.00")
        .accepted();
    let names: Vec<(String, String, i64)> = commands_named(&import, "DefineItem")
        .into_iter()
        .map(|command| match command {
            Command::DefineItem(item) => (item.sku.to_string(), item.name.clone(), item.weight_g),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        names,
        vec![
            ("p2".to_string(), "pc_gamer".to_string(), 1000),
            ("p3".to_string(), "unknown".to_string(), 0),
            ("p9".to_string(), "unknown".to_string(), 0),
        ]
    );
    assert_eq!(import.report.products_not_in_products_file, 1);
    let shipments: Vec<(String, String, i64)> = commands_named(&import, "ShipSalesOrder")
        .into_iter()
        .map(|command| match command {
            Command::ShipSalesOrder(ship) => (
                ship.shipment.to_string(),
                ship.location.to_string(),
                ship.weight_g,
            ),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        shipments,
        vec![
            ("o1-1".to_string(), "S-s1".to_string(), 1000),
            ("o1-2".to_string(), "S-s2".to_string(), 0),
        ]
    );
    assert_eq!(commands_named(&import, "DeliverShipment").len(), 2);
}

#[test]
fn a_bom_crlf_and_no_trailing_newline_give_the_same_commands_as_plain_files() {
    let fixture = Fixture::new()
        .order(
            "o1",
            "delivered",
            JUNE_1,
            JUNE_1_APPROVED,
            JUNE_3,
            JUNE_8,
            JUNE_20,
        )
        .item("o1", "p1", "s1", "58.90", "13.29")
        .payment("o1", "72.19");
    let plain = fixture.accepted();
    let windows = fixture.contents().map(|(name, text)| {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(text.replace('\n', "\r\n").into_bytes());
        bytes.extend(b"\r\n");
        (name, bytes)
    });
    let resaved = import_contents(&windows).unwrap();
    assert_eq!(plain.submissions, resaved.submissions);
    assert_eq!(plain.report, resaved.report);
}

#[test]
fn an_empty_or_headless_file_is_malformed() {
    let mut fixture = Fixture::new();
    fixture.sellers.clear();
    fixture.products = vec!["product_id,product_weight_g".into()];
    let error = fixture.import().unwrap_err();
    let lines = error_lines(&error);
    assert_eq!(
        lines[0],
        "olist_products_dataset.csv:1: column `product_category_name`: the header has no such \
         column, and the importer needs it"
    );
    assert!(lines.contains(
        &"olist_sellers_dataset.csv: the file is empty: it has no header line".to_string()
    ));
}

/// Rows a spreadsheet leaves entirely empty are skipped and counted per file, however many:
/// 100,000 trailing `,,,,,,,` rows in the orders file and two blank rows between the item
/// rows change no command, and the report says so.
#[test]
fn entirely_empty_rows_are_skipped_and_counted_per_file() {
    let fixture = Fixture::new()
        .order(
            "o1",
            "delivered",
            JUNE_1,
            JUNE_1_APPROVED,
            JUNE_3,
            JUNE_8,
            JUNE_20,
        )
        .item("o1", "p1", "s1", "58.90", "13.29")
        .payment("o1", "58.90");
    let plain = fixture.accepted();
    let mut padded = fixture;
    padded.items.insert(1, ",,,,,,".into());
    padded.items.insert(1, " , ,,,,,".into());
    padded
        .orders
        .extend(std::iter::repeat_n(",,,,,,,".to_string(), 100_000));
    let import = padded.accepted();
    assert_eq!(import.submissions, plain.submissions);
    assert_eq!(
        import.report.empty_rows_skipped,
        std::collections::BTreeMap::from([(ITEMS.to_string(), 2), (ORDERS.to_string(), 100_000)])
    );
    assert!(plain.report.empty_rows_skipped.is_empty());
    let text = import.report.to_string();
    assert!(
        text.contains("entirely empty rows skipped: 100002"),
        "{text}"
    );
}

/// A partial export without its five companion files imports its orders, and the report names
/// each absent file with what was assumed in its place; what was assumed is what the commands
/// say (the item named `unknown`, weighing 0 g; the center named `seller s1` with no region;
/// the order shipping to BR with no state). Without the orders file, nothing imports.
#[test]
fn companion_files_a_partial_export_lacks_are_assumed_and_reported() {
    let fixture = Fixture::new()
        .order(
            "o1",
            "delivered",
            JUNE_1,
            JUNE_1_APPROVED,
            JUNE_3,
            JUNE_8,
            JUNE_20,
        )
        .item("o1", "p1", "s1", "58.90", "13.29")
        .payment("o1", "72.19");
    let contents: Vec<(&'static str, Vec<u8>)> = fixture
        .contents()
        .into_iter()
        .map(|(name, text)| (name, text.into_bytes()))
        .collect();
    let export = |keep: &[&str]| {
        let kept: Vec<(&'static str, Vec<u8>)> = contents
            .iter()
            .filter(|(name, _)| keep.contains(name))
            .cloned()
            .collect();
        super::import(&OlistFiles::from_export(|name| {
            kept.iter()
                .find(|(file, _)| *file == name)
                .map(|(_, bytes)| bytes.as_slice())
        }))
    };
    let import = export(&[ORDERS, ITEMS, PAYMENTS]).unwrap();
    replay(&import);
    let absent: Vec<&str> = import
        .report
        .files_absent
        .iter()
        .map(|(file, _)| file.as_str())
        .collect();
    assert_eq!(
        absent,
        vec![REVIEWS, CUSTOMERS, PRODUCTS, SELLERS, CATEGORY_TRANSLATION]
    );
    let text = import.report.to_string();
    assert!(
        text.contains(&format!("{PRODUCTS} absent: every item is named `unknown`")),
        "{text}"
    );
    let Command::DefineItem(item) = commands_named(&import, "DefineItem")
        .into_iter()
        .find(|command| matches!(command, Command::DefineItem(item) if item.sku.as_str() == "p1"))
        .unwrap()
    else {
        unreachable!()
    };
    assert_eq!(item.name, "unknown");
    let centers: Vec<String> = commands_named(&import, "DefineLocation")
        .into_iter()
        .filter_map(|command| match command {
            Command::DefineLocation(location) => {
                Some(format!("{}|{}", location.name, location.region))
            }
            _ => None,
        })
        .collect();
    assert!(centers.contains(&"seller s1|".to_string()), "{centers:?}");
    assert_eq!(import.report.orders_with_customer_address, 0);
    assert_eq!(import.report.reviews_read, 0);

    // The whole export reports nothing absent.
    assert!(fixture.accepted().report.files_absent.is_empty());
    // The orders are required.
    assert!(export(&[ITEMS, PAYMENTS, REVIEWS]).is_err());
}
