//! Hostile and malformed input (RELIABILITY R5), driven by proptest in the normal test suite:
//! - error quality: N valid order rows with one corrupted cell at a random row and column are
//!   rejected, and the error names the file, the line (1-based, counting the header) and the
//!   column;
//! - no panics: arbitrary bytes in place of any one file give an import or an error, never a
//!   crash, and every problem names one of the eight files.
//!
//! Seeded and replayable: the seed comes from `FLOWLINE_SEED` (a fixed default otherwise) and is
//! printed; `FLOWLINE_PROPTEST_CASES` sets the number of cases (128 by default).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

use flowline_formats::olist::{self, FILE_NAMES, OlistFiles};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

const ORDERS_HEADER: &str = "order_id,customer_id,order_status,order_purchase_timestamp,\
order_approved_at,order_delivered_carrier_date,order_delivered_customer_date,\
order_estimated_delivery_date";

/// The header line of each file, enough for an import with no rows.
fn headers() -> Vec<(&'static str, String)> {
    let lines = [
        ORDERS_HEADER,
        "order_id,order_item_id,product_id,seller_id,shipping_limit_date,price,freight_value",
        "order_id,payment_sequential,payment_type,payment_installments,payment_value",
        "review_id,order_id,review_score,review_comment_title,review_comment_message,\
         review_creation_date,review_answer_timestamp",
        "customer_id,customer_unique_id,customer_zip_code_prefix,customer_city,customer_state",
        "product_id,product_category_name,product_name_lenght,product_description_lenght,\
         product_photos_qty,product_weight_g,product_length_cm,product_height_cm,\
         product_width_cm",
        "seller_id,seller_zip_code_prefix,seller_city,seller_state",
        "product_category_name,product_category_name_english",
    ];
    FILE_NAMES
        .iter()
        .zip(lines)
        .map(|(name, line)| (*name, line.to_string()))
        .collect()
}

fn import(contents: &[(&'static str, Vec<u8>)]) -> Result<olist::OlistImport, String> {
    let bytes = |name: &'static str| -> &[u8] {
        contents
            .iter()
            .find(|(file, _)| *file == name)
            .map(|(_, bytes)| bytes.as_slice())
            .unwrap()
    };
    olist::import(&OlistFiles::from_contents(bytes)).map_err(|error| error.to_string())
}

/// The columns a corruption may hit, with a value that is malformed there.
const CORRUPTIONS: [(usize, &str, &str); 6] = [
    (1, "customer_id", "has space"),
    (2, "order_status", "lost"),
    (3, "order_purchase_timestamp", "yesterday"),
    (4, "order_approved_at", "2017-02-30 10:00:00"),
    (5, "order_delivered_carrier_date", "2017-06-03 24:00:00"),
    (7, "order_estimated_delivery_date", "2017-6-20"),
];

fn valid_row(index: usize) -> Vec<String> {
    // Days 1–28 of June 2017, so every generated date exists.
    let day = index % 28 + 1;
    vec![
        format!("o{index}"),
        format!("c{index}"),
        "delivered".into(),
        format!("2017-06-{day:02} 10:00:00"),
        format!("2017-06-{day:02} 10:30:00"),
        format!("2017-06-{day:02} 18:00:00"),
        format!("2017-06-{day:02} 20:00:00"),
        "2017-07-01 00:00:00".into(),
    ]
}

fn seed() -> u64 {
    std::env::var("FLOWLINE_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(20_251_122)
}

fn runner() -> TestRunner {
    let seed = seed();
    let cases = std::env::var("FLOWLINE_PROPTEST_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(128);
    println!("FLOWLINE_SEED={seed} FLOWLINE_PROPTEST_CASES={cases}");
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

#[test]
fn one_corrupted_cell_is_named_by_file_line_and_column_and_nothing_is_imported() {
    let strategy = (1usize..40)
        .prop_flat_map(|rows| (Just(rows), 0..rows, 0..CORRUPTIONS.len(), any::<bool>()));
    let result = runner().run(&strategy, |(rows, corrupted_row, corruption, crlf)| {
        let (column_index, column, bad) = CORRUPTIONS[corruption];
        let mut lines = vec![ORDERS_HEADER.to_string()];
        for index in 0..rows {
            let mut fields = valid_row(index);
            if index == corrupted_row {
                fields[column_index] = bad.to_string();
            }
            lines.push(fields.join(","));
        }
        let separator = if crlf { "\r\n" } else { "\n" };
        let mut contents: Vec<(&'static str, Vec<u8>)> = headers()
            .into_iter()
            .map(|(name, header)| (name, header.into_bytes()))
            .collect();
        contents[0].1 = lines.join(separator).into_bytes();
        let error = import(&contents).expect_err("a corrupted cell must reject the import");
        // The header is line 1, so row r (0-based) is line r + 2.
        let expected = format!(
            "olist_orders_dataset.csv:{}: column `{column}`: value \"{bad}\"",
            corrupted_row + 2
        );
        prop_assert!(error.contains(&expected), "{expected}\n{error}");
        prop_assert!(error.starts_with("the input is malformed (1 problem); nothing was imported"));
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}\nreplay with FLOWLINE_SEED={}", seed());
    }
}

#[test]
fn arbitrary_bytes_in_any_file_never_crash_the_importer() {
    let strategy = (
        0..FILE_NAMES.len(),
        prop::collection::vec(
            prop_oneof![
                // Bytes that matter to CSV and dates, often, and anything else sometimes.
                4 => prop::sample::select(b",\"\r\n/:- T0123456789abc".to_vec()),
                1 => any::<u8>(),
            ],
            0..400,
        ),
        any::<bool>(),
    );
    let result = runner().run(&strategy, |(file, noise, keep_header)| {
        let mut contents: Vec<(&'static str, Vec<u8>)> = headers()
            .into_iter()
            .map(|(name, header)| (name, header.into_bytes()))
            .collect();
        if keep_header {
            contents[file].1.push(b'\n');
            contents[file].1.extend(&noise);
        } else {
            contents[file].1 = noise;
        }
        match import(&contents) {
            Ok(_) => {}
            Err(error) => {
                for line in error.lines().skip(1) {
                    prop_assert!(
                        FILE_NAMES.iter().any(|name| line.starts_with(name))
                            || line.starts_with("... and "),
                        "{line}"
                    );
                }
            }
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}\nreplay with FLOWLINE_SEED={}", seed());
    }
}
