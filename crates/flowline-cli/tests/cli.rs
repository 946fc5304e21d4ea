//! The `flowline` binary: `check` exit codes and reports; tenants, keys and `serve`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

use flowline_core::id::TenantId;
use flowline_engine::workload;
use flowline_engine::{Engine, EngineOptions, Outcome, Submission};
use flowline_store::Directory;
use flowline_store_sqlite::{OpenOptions, SqliteBackend};
use std::path::Path;
use std::process::{Command, Output};

fn flowline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowline"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A log with one tenant: 3 centers, 2 items, 10 units of each received at each center
/// (2 items × 3 centers × 10 units = 60 units), so balances exist at 3 centers and `supplier`.
fn small_log(path: &Path) {
    let engine = Engine::open(
        SqliteBackend::shared(path, OpenOptions::durable()).unwrap(),
        EngineOptions::default(),
    )
    .unwrap();
    let tenant = TenantId::parse("acme").unwrap();
    for command in workload::setup(2, 10) {
        let answer = engine.submit(&tenant, Submission::new(command)).unwrap();
        assert!(matches!(answer.outcome, Outcome::Applied { .. }));
    }
}

#[test]
fn check_passes_a_clean_log_and_says_what_it_checked() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("clean.db");
    small_log(&path);
    let output = flowline(&["check", "--db", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    // Balances: 2 items × (3 centers + supplier) = 8.
    assert!(
        stdout(&output).ends_with("balance(s): ok\n"),
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output).contains("checked 1 tenant(s)")
            && stdout(&output).contains(", 8 balance(s)"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn check_names_tenant_item_location_expected_and_actual_for_a_tampered_balance() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("tampered.db");
    small_log(&path);
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection
        .execute(
            "UPDATE balances SET reserved = 4 WHERE item = 'SKU-00001' AND location = 'FC-WEST'",
            [],
        )
        .unwrap();
    drop(connection);
    let output = flowline(&["check", "--db", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    // SKU-00001 was bought at 6.00 (500 + 1 × 100 minor units): 10 units are worth 60.00.
    assert!(
        stdout(&output).starts_with(
            "tenant acme, item SKU-00001, location FC-WEST: expected on hand 10 reserved 0 value 6000, actual on hand 10 reserved 4 value 6000\n"
        ),
        "{}",
        stdout(&output)
    );
    assert!(stdout(&output).ends_with(": 1 difference(s)\n"));
}

#[test]
fn check_reports_an_event_whose_bytes_changed_on_disk() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("flipped.db");
    small_log(&path);
    let connection = rusqlite::Connection::open(&path).unwrap();
    // The first item definition; its payload is stored compressed (the first byte names the
    // dictionary, 0 would be text).
    let (position, first_byte): (i64, i64) = connection
        .query_row(
            "SELECT position, unicode(CAST(substr(payload, 1, 1) AS TEXT)) FROM events \
             WHERE type_id = (SELECT id FROM event_types WHERE name = 'ItemDefined') \
             ORDER BY position LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_ne!(first_byte, 0);
    // Overwrite four bytes inside its compressed frame.
    let changed = connection
        .execute(
            "UPDATE events SET payload = \
             CAST(substr(payload, 1, 6) || X'DEADBEEF' || substr(payload, 11) AS BLOB) \
             WHERE position = ?1",
            [position],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(connection);
    let output = flowline(&["check", "--db", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).starts_with(&format!("tenant acme, position {position}: unreadable: ")),
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output).ends_with(": 1 difference(s)\n"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn check_of_a_missing_file_fails_naming_it_and_creates_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("absent.db");
    let output = flowline(&["check", "--db", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("absent.db"));
    assert!(!path.exists());
}

#[test]
fn help_lists_the_commands() {
    let output = flowline(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    for command in ["serve", "tenant", "key", "check", "bench"] {
        assert!(stdout(&output).contains(command), "{}", stdout(&output));
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// One HTTP/1.1 request over a plain socket; the whole response as text.
fn http(address: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn a_created_key_is_printed_once_listed_without_its_secret_and_revocable() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("keys.db");
    let db = db.to_str().unwrap();
    let created = flowline(&[
        "tenant",
        "create",
        "acme",
        "--currency",
        "USD",
        "--time-zone",
        "Europe/Berlin",
        "--db",
        db,
    ]);
    assert_eq!(created.status.code(), Some(0), "{}", stderr(&created));
    // A second registration of the same tenant is refused (exit 2), naming it.
    let again = flowline(&["tenant", "create", "acme", "--db", db]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("acme"), "{}", stderr(&again));
    let bad_role = flowline(&[
        "key", "create", "--tenant", "acme", "--role", "root", "--db", db,
    ]);
    assert_eq!(bad_role.status.code(), Some(2));
    assert!(stderr(&bad_role).contains("root"), "{}", stderr(&bad_role));

    let key = flowline(&[
        "key",
        "create",
        "--tenant",
        "acme",
        "--role",
        "viewer",
        "--label",
        "dashboard",
        "--db",
        db,
    ]);
    assert_eq!(key.status.code(), Some(0), "{}", stderr(&key));
    let plaintext = stdout(&key).trim().to_string();
    // flk_ + 16 hex digits of id + _ + 64 hex digits of secret = 85 characters.
    assert_eq!(plaintext.len(), 85, "{plaintext}");
    assert!(plaintext.starts_with("flk_"));
    let key_id = &plaintext[4..20];
    let secret = &plaintext[21..];

    let listed = flowline(&["key", "list", "--tenant", "acme", "--db", db]);
    let listing = stdout(&listed);
    assert!(
        listing.starts_with(&format!("{key_id}\tviewer\tactive")),
        "{listing}"
    );
    assert!(listing.contains("dashboard"));
    assert!(!listing.contains(secret));
    let bytes = std::fs::read(directory.path().join("keys.db")).unwrap();
    assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));

    let revoked = flowline(&["key", "revoke", "--tenant", "acme", key_id, "--db", db]);
    assert_eq!(revoked.status.code(), Some(0));
    let listed = flowline(&["key", "list", "--tenant", "acme", "--db", db]);
    assert!(
        stdout(&listed).contains("\tviewer\trevoked "),
        "{}",
        stdout(&listed)
    );
    // Another tenant's key id (or an unknown one) is not revoked: exit 1.
    let unknown = flowline(&[
        "key",
        "revoke",
        "--tenant",
        "acme",
        "0123456789abcdef",
        "--db",
        db,
    ]);
    assert_eq!(unknown.status.code(), Some(1));
}

#[test]
fn serve_answers_over_http_and_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("serve.db");
    let db = db.to_str().unwrap();
    assert_eq!(
        flowline(&[
            "tenant",
            "create",
            "acme",
            "--currency",
            "USD",
            "--time-zone",
            "UTC",
            "--db",
            db
        ])
        .status
        .code(),
        Some(0)
    );
    let key = stdout(&flowline(&[
        "key", "create", "--tenant", "acme", "--role", "admin", "--db", db,
    ]))
    .trim()
    .to_string();
    let mut server = Command::new(env!("CARGO_BIN_EXE_flowline"))
        .args(["serve", "--bind", "127.0.0.1:0", "--db", db])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The banner names the address the server bound: "... on http://127.0.0.1:PORT (...".
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(rest) = line.split("on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    let health = http(
        &address,
        "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let me = http(
        &address,
        &format!(
            "GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(me.contains("\"role\":\"admin\""), "{me}");
    assert!(me.contains("\"tenant\":\"acme\""), "{me}");
    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = server.wait().unwrap();
    assert_eq!(exit.code(), Some(0));
    // The rest of the log says it stopped, and never shows the key.
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|line| line.contains("stopped")), "{rest:?}");
    assert!(!rest.iter().any(|line| line.contains(&key[21..])));
}

/// The Olist sample in the team's shared folder, beside the repository; `None` (and a message)
/// when it is absent, so the tests that need it skip on a clone outside the workspace.
fn import_olist_folder() -> Option<std::path::PathBuf> {
    let folder =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/olist");
    if folder.is_dir() {
        Some(folder)
    } else {
        eprintln!(
            "skipping: the Olist sample is not at {} (it lives in the team's shared/ folder)",
            folder.display()
        );
        None
    }
}

/// The tenant's last sequence number, 0 when the log file or the tenant does not exist.
fn import_log_head(db: &Path, tenant: &str) -> i64 {
    if !db.exists() {
        return 0;
    }
    let connection = rusqlite::Connection::open(db).unwrap();
    connection
        .query_row(
            "SELECT COALESCE((SELECT head FROM tenants WHERE tenant = ?1), 0)",
            [tenant],
            |row| row.get(0),
        )
        .unwrap_or(0)
}

fn import_event_count(db: &Path) -> i64 {
    if !db.exists() {
        return 0;
    }
    let connection = rusqlite::Connection::open(db).unwrap();
    connection
        .query_row("SELECT COUNT(*) FROM events", [], |row| row.get(0))
        .unwrap_or(0)
}

#[test]
fn import_of_the_real_olist_folder_twice_appends_once_and_says_already_imported() {
    let Some(folder) = import_olist_folder() else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("olist.db");
    let arguments = [
        "import",
        "olist",
        folder.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ];
    let first = flowline(&arguments);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}{}",
        stdout(&first),
        stderr(&first)
    );
    let printed = stdout(&first);
    assert!(printed.contains("registered tenant olist"), "{printed}");
    assert!(printed.contains("configured tenant olist"), "{printed}");
    assert!(
        printed.contains("orders in olist_orders_dataset.csv: 4071 (canceled 20, delivered 3965, invoiced 10, processing 15, shipped 43, unavailable 18)"),
        "{printed}"
    );
    // The tenant's configuration is event 1, so the import's events start at sequence 2.
    let imported = printed
        .lines()
        .find_map(|line| line.strip_prefix("imported "))
        .unwrap_or_else(|| panic!("{printed}"));
    assert!(imported.ends_with("events (from sequence 2)"), "{imported}");
    let events: i64 = imported.split(' ').next().unwrap().parse().unwrap();
    let head = import_log_head(&db, "olist");
    assert_eq!(head, events + 1);

    let second = flowline(&arguments);
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}{}",
        stdout(&second),
        stderr(&second)
    );
    let printed = stdout(&second);
    assert!(
        printed.contains(&format!(
            "already imported (same content): its {events} events were appended at sequence 2; nothing was appended now"
        )),
        "{printed}"
    );
    assert!(!printed.contains("registered tenant"), "{printed}");
    assert!(!printed.contains("configured tenant"), "{printed}");
    assert_eq!(import_log_head(&db, "olist"), head);
    assert_eq!(import_event_count(&db), head);
    // The log the import wrote passes the same audit as any other.
    let check = flowline(&["check", "--db", db.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
}

/// A partial export, as a user may have one: the real sample without its five companion
/// files, its orders file saved by a spreadsheet with 1,000 entirely empty rows at the end.
/// It imports the same 4,070 orders as the whole sample, says which files were absent and what
/// was assumed, counts the empty rows, and the log passes `flowline check`.
#[test]
fn import_of_a_partial_olist_export_assumes_the_absent_files_and_skips_empty_rows() {
    let Some(folder) = import_olist_folder() else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let partial = directory.path().join("partial");
    std::fs::create_dir(&partial).unwrap();
    for name in [
        "olist_orders_dataset.csv",
        "olist_order_items_dataset.csv",
        "olist_order_payments_dataset.csv",
    ] {
        std::fs::copy(folder.join(name), partial.join(name)).unwrap();
    }
    let orders = partial.join("olist_orders_dataset.csv");
    let mut text = std::fs::read_to_string(&orders).unwrap();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&",,,,,,,\r\n".repeat(1_000));
    std::fs::write(&orders, text).unwrap();
    let db = directory.path().join("partial.db");
    let output = flowline(&[
        "import",
        "olist",
        partial.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    let printed = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{printed}{}",
        stderr(&output)
    );
    assert!(
        printed.contains("orders imported: 4070 (canceled 20, delivered 3964, invoiced 10, processing 15, shipped 43, unavailable 18)"),
        "{printed}"
    );
    for file in [
        "olist_order_reviews_dataset.csv absent: no reviews are counted",
        "olist_customers_dataset.csv absent: every order ships to country BR",
        "olist_products_dataset.csv absent: every item is named `unknown`",
        "olist_sellers_dataset.csv absent: each seller's center is named `seller <id>`",
        "product_category_name_translation.csv absent: items are named by their categories' Portuguese names",
    ] {
        assert!(printed.contains(file), "{file}: {printed}");
    }
    assert!(
        printed.contains("entirely empty rows skipped: 1000\n  olist_orders_dataset.csv: 1000"),
        "{printed}"
    );
    let check = flowline(&["check", "--db", db.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
}

#[test]
fn metrics_without_a_range_after_an_olist_import_shows_the_imported_period() {
    let Some(folder) = import_olist_folder() else {
        return;
    };
    // The latest operational time in the sample, read from the orders file itself: the
    // purchase, approval, hand-over and delivery columns (the estimated delivery date is a
    // promise, not an event). They are São Paulo local times, the tenant's reporting zone.
    // In the shared sample it is a purchase on 2018-09-20, not the last day of September, so
    // the latest complete month of the data is August 2018: 2018-08-01 to 2018-09-01.
    let orders = std::fs::read_to_string(folder.join("olist_orders_dataset.csv")).unwrap();
    let mut lines = orders.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let columns: Vec<usize> = [
        "order_purchase_timestamp",
        "order_approved_at",
        "order_delivered_carrier_date",
        "order_delivered_customer_date",
    ]
    .iter()
    .map(|name| {
        header
            .iter()
            .position(|column| column.trim_matches('"') == *name)
            .unwrap()
    })
    .collect();
    let latest = lines
        .flat_map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            columns
                .iter()
                .map(|column| fields[*column].trim_matches('"').to_string())
                .collect::<Vec<_>>()
        })
        .filter(|value| !value.is_empty())
        .max()
        .unwrap();
    let last: jiff::civil::Date = latest[..10].parse().unwrap();
    let month = last.first_of_month();
    let (from, to) = if last == last.last_of_month() {
        (
            month,
            month.checked_add(jiff::Span::new().months(1)).unwrap(),
        )
    } else {
        (
            month.checked_sub(jiff::Span::new().months(1)).unwrap(),
            month,
        )
    };

    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("olist.db");
    let db = db.to_str().unwrap();
    let imported = flowline(&["import", "olist", folder.to_str().unwrap(), "--db", db]);
    assert_eq!(imported.status.code(), Some(0), "{}", stderr(&imported));
    let metrics = flowline(&["metrics", "--db", db]);
    assert_eq!(metrics.status.code(), Some(0), "{}", stderr(&metrics));
    let printed = stdout(&metrics);
    assert!(
        printed.starts_with(&format!(
            "SCOR scorecard of tenant olist from {from} to {to} (exclusive), America/Sao_Paulo time"
        )),
        "{printed}"
    );
    // It says which period it chose, and the data it chose from.
    assert!(
        stderr(&metrics).contains(&format!(
            "the latest complete month of the data (events from 2016-10-04 to {last})"
        )),
        "{}",
        stderr(&metrics)
    );
    // And the month holds the imported orders: Perfect Order Fulfillment judged some.
    let json = flowline(&["metrics", "--db", db, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["from"], from.to_string());
    assert_eq!(json["to"], to.to_string());
    let perfect = json["scorecard"]["level1"]
        .as_array()
        .unwrap()
        .iter()
        .find(|metric| metric["value"]["id"] == "rl.perfect_order")
        .unwrap();
    let judged = perfect["value"]["population"].as_u64().unwrap_or(0);
    assert!(judged > 0, "{perfect}");
}

#[test]
fn import_of_a_corrupted_olist_copy_exits_1_naming_file_line_and_column_and_appends_nothing() {
    let Some(folder) = import_olist_folder() else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let copy = directory.path().join("olist");
    std::fs::create_dir(&copy).unwrap();
    for entry in std::fs::read_dir(&folder).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    // Line 2 of the orders file is the first order, purchased at 2017-10-02 10:56:33; hour 25
    // does not exist.
    let orders_path = copy.join("olist_orders_dataset.csv");
    let orders = std::fs::read_to_string(&orders_path).unwrap();
    assert!(
        orders
            .lines()
            .nth(1)
            .unwrap()
            .contains(",2017-10-02 10:56:33,")
    );
    std::fs::write(
        &orders_path,
        orders.replacen(",2017-10-02 10:56:33,", ",2017-10-02 25:56:33,", 1),
    )
    .unwrap();
    let db = directory.path().join("olist.db");
    let output = flowline(&[
        "import",
        "olist",
        copy.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let errors = stderr(&output);
    assert!(
        errors.contains(
            "olist_orders_dataset.csv:2: column `order_purchase_timestamp`: value \"2017-10-02 25:56:33\": not a timestamp"
        ),
        "{errors}"
    );
    assert!(errors.contains("nothing was imported"), "{errors}");
    assert_eq!(import_log_head(&db, "olist"), 0);
    assert_eq!(import_event_count(&db), 0);
}

#[test]
fn import_of_a_folder_missing_a_file_exits_2_naming_it() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("olist.db");
    let output = flowline(&[
        "import",
        "olist",
        directory.path().to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("olist_orders_dataset.csv"),
        "{}",
        stderr(&output)
    );
    assert!(!db.exists());
}

/// RELIABILITY.md R3, configuration check. `flowline serve` has no way to run with relaxed
/// durability (it always asks the store for WAL and `synchronous = FULL`), so there is nothing
/// to refuse; what can go wrong is a file whose settings are inherited. `journal_mode` is kept
/// in the file, so the file is first put back in rollback-journal mode (`delete`); `synchronous`
/// is per connection and reads 2 (FULL) only if the server set it.
#[test]
fn serve_reads_back_wal_and_synchronous_full_even_on_a_file_left_in_rollback_journal_mode() {
    use std::io::{BufRead, BufReader};
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("durability.db");
    let db = path.to_str().unwrap();
    assert_eq!(
        flowline(&["tenant", "create", "acme", "--db", db])
            .status
            .code(),
        Some(0)
    );
    let connection = rusqlite::Connection::open(&path).unwrap();
    let mode: String = connection
        .query_row("PRAGMA journal_mode = DELETE", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
    drop(connection);

    let mut server = Command::new(env!("CARGO_BIN_EXE_flowline"))
        .args(["serve", "--bind", "127.0.0.1:0", "--db", db])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let mut durability = None;
    // The durability line comes before the banner naming the address.
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.starts_with("flowline durability of ") {
            durability = Some(line.clone());
        }
        if line.contains("on http://") {
            break;
        }
    }
    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(server.wait().unwrap().code(), Some(0));
    assert_eq!(
        durability.as_deref(),
        Some(
            format!("flowline durability of {db}: journal_mode=wal synchronous=FULL (2)").as_str()
        )
    );
    // WAL stays in the file after the server is gone.
    let connection = rusqlite::Connection::open(&path).unwrap();
    let mode: String = connection
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

/// `flowline` run in `directory` with `FLOWLINE_DB` set to `database`, or unset.
fn flowline_in(directory: &Path, database: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flowline"));
    command.current_dir(directory).args(args);
    match database {
        Some(database) => command.env("FLOWLINE_DB", database),
        None => command.env_remove("FLOWLINE_DB"),
    };
    command.output().unwrap()
}

fn files_in(directory: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn every_subcommand_uses_one_default_database_and_reading_never_creates_one() {
    let directory = tempfile::tempdir().unwrap();
    let here = directory.path();
    // Nothing yet: commands that read, and commands about keys, refuse and leave no file.
    for args in [
        &["check"][..],
        &["metrics"],
        &["tenant", "list"],
        &["key", "list", "--tenant", "acme"],
        &["key", "create", "--tenant", "acme", "--role", "viewer"],
        &[
            "key", "create", "--tenant", "acme", "--role", "viewer", "--db", "typo.db",
        ],
    ] {
        let output = flowline_in(here, None, args);
        assert_ne!(output.status.code(), Some(0), "{args:?}");
        assert!(
            files_in(here).is_empty(),
            "{args:?} left {:?}",
            files_in(here)
        );
    }
    // `tenant create` makes ./flowline.db, and every other subcommand finds it there.
    let created = flowline_in(
        here,
        None,
        &[
            "tenant",
            "create",
            "acme",
            "--currency",
            "EUR",
            "--time-zone",
            "Europe/Paris",
        ],
    );
    assert_eq!(created.status.code(), Some(0), "{}", stderr(&created));
    let key = flowline_in(
        here,
        None,
        &["key", "create", "--tenant", "acme", "--role", "viewer"],
    );
    assert_eq!(key.status.code(), Some(0), "{}", stderr(&key));
    let listed = flowline_in(here, None, &["key", "list", "--tenant", "acme"]);
    assert_eq!(stdout(&listed).lines().count(), 1, "{}", stdout(&listed));
    let check = flowline_in(here, None, &["check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let metrics = flowline_in(here, None, &["metrics"]);
    assert_eq!(metrics.status.code(), Some(0), "{}", stderr(&metrics));
    assert!(
        stdout(&metrics).starts_with("SCOR scorecard of tenant acme"),
        "{}",
        stdout(&metrics)
    );
    assert!(
        files_in(here)
            .iter()
            .all(|name| name.starts_with("flowline.db")),
        "{:?}",
        files_in(here)
    );
    // FLOWLINE_DB names another file for all of them; a reader still creates nothing.
    let elsewhere = flowline_in(here, Some("other.db"), &["check"]);
    assert_eq!(elsewhere.status.code(), Some(2));
    assert!(
        stderr(&elsewhere).contains("other.db"),
        "{}",
        stderr(&elsewhere)
    );
    assert!(!here.join("other.db").exists());
}

#[test]
fn help_names_every_subcommand_with_a_one_line_purpose() {
    let help = flowline(&["--help"]);
    let text = stdout(&help);
    let commands: Vec<&str> = text
        .lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.is_empty())
        .collect();
    let names: Vec<&str> = commands
        .iter()
        .map(|line| line.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "check", "serve", "tenant", "key", "export", "import", "migrate", "metrics", "demo",
            "plan", "simulate", "bench", "help"
        ]
    );
    // One line each, short enough for an 100-column terminal.
    for line in commands {
        assert!(line.len() <= 100, "{line}");
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly_as_sigpipe_would() {
    // 3,000 keys listed are about 250 KB, more than a pipe holds (64 KiB), so the command is
    // still writing when its reader stops after one line.
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("keys.db");
    let mut store = flowline_store_sqlite::SqliteStore::open(
        &db,
        &flowline_store_sqlite::OpenOptions::durable(),
    )
    .unwrap();
    let tenant = TenantId::parse("acme").unwrap();
    store
        .register_tenant(&flowline_store::TenantRecord {
            tenant: tenant.clone(),
            name: "Acme".into(),
            created_at: jiff::Timestamp::now(),
        })
        .unwrap();
    for _ in 0..3_000 {
        flowline_server::auth::issue_key(
            &mut store,
            &tenant,
            flowline_server::auth::Role::Viewer,
            "a label long enough to make each line about eighty bytes",
            jiff::Timestamp::now(),
        )
        .unwrap();
    }
    drop(store);
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowline"))
        .args([
            "key",
            "list",
            "--tenant",
            "acme",
            "--db",
            db.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    // The reader (and the pipe's only read end) is dropped here.
    let output = child.wait_with_output().unwrap();
    assert!(first.contains("viewer"), "{first}");
    assert_eq!(output.status.code(), Some(141));
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_long_command_writing_to_a_pipe_prints_progress_lines_instead_of_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("demo.db");
    // Standard error is a pipe here, not a terminal: no bar can be drawn, so lines are
    // printed; FLOWLINE_PROGRESS_EVERY=0 asks for one per simulated day.
    let output = Command::new(env!("CARGO_BIN_EXE_flowline"))
        .args(["demo", "--days", "3", "--db", db.to_str().unwrap()])
        .env("FLOWLINE_PROGRESS_EVERY", "0")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("simulating: "))
        .collect();
    // Days 1, 2 and 3 as they finish, then the final line (3 of 3 again).
    for day in 1..=3 {
        assert!(
            lines
                .iter()
                .any(|line| line.starts_with(&format!("simulating: {day}/3 days, "))),
            "{stderr}"
        );
    }
    assert!(
        lines.last().unwrap().starts_with("simulating: 3/3 days, "),
        "{stderr}"
    );
    // No terminal control sequences in a log.
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}

/// `flowline plan forecast` continues a repeating week: eight Mondays-to-Sundays of
/// 10, 12, 14, 16, 18, 30, 40 from Monday 5 January 2026 end on Sunday 1 March; the next seven
/// days (2 to 8 March) are the same week again, whichever model is chosen (a pure cycle has no
/// error for any seasonal model to smooth).
#[test]
fn plan_forecast_continues_a_repeating_week_with_dated_rows() {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("weeks.csv");
    let week = [10, 12, 14, 16, 18, 30, 40];
    let start: jiff::civil::Date = "2026-01-05".parse().unwrap();
    let mut text = String::from("series,date,quantity\n");
    for day in 0..56 {
        let date = start.checked_add(jiff::Span::new().days(day)).unwrap();
        text.push_str(&format!("mugs,{date},{}\n", week[day as usize % 7]));
    }
    std::fs::write(&input, text).unwrap();
    let output = flowline(&[
        "plan",
        "forecast",
        "--input",
        input.to_str().unwrap(),
        "--horizon",
        "7",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let printed = stdout(&output);
    let mut lines = printed.lines();
    assert_eq!(lines.next(), Some("series,date,forecast,lo80,hi80,model"));
    let rows: Vec<Vec<String>> = csv::Reader::from_reader(printed.as_bytes())
        .records()
        .map(|record| record.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), 7);
    for (ahead, row) in rows.iter().enumerate() {
        let expected_date = format!("2026-03-0{}", ahead + 2);
        assert_eq!(
            (row[0].as_str(), row[1].as_str()),
            ("mugs", expected_date.as_str())
        );
        let (mean, lower, upper): (f64, f64, f64) = (
            row[2].parse().unwrap(),
            row[3].parse().unwrap(),
            row[4].parse().unwrap(),
        );
        assert!(
            (mean - f64::from(week[ahead])).abs() < 0.5,
            "day {ahead}: {mean} against {}",
            week[ahead]
        );
        assert!(lower <= mean && mean <= upper, "{row:?}");
    }
}

/// A malformed series file is reported value by value with its file, line and column, and no
/// forecast is written.
#[test]
fn plan_forecast_refuses_a_malformed_file_naming_each_line_and_writes_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("bad.csv");
    let written = directory.path().join("out.csv");
    std::fs::write(
        &input,
        "series,date,quantity\na,2026-01-01,3\na,2026-02-30,1\nb,2026-01-01,-2\nc,9026-01-01,1\n",
    )
    .unwrap();
    let output = flowline(&[
        "plan",
        "forecast",
        "--input",
        input.to_str().unwrap(),
        "--horizon",
        "7",
        "--output",
        written.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    let file = input.display().to_string();
    assert!(
        message.contains("malformed (3 problems); nothing was forecast"),
        "{message}"
    );
    assert!(
        message.contains(&format!("{file}:3: column `date`: value \"2026-02-30\"")),
        "{message}"
    );
    assert!(
        message.contains(&format!("{file}:4: column `quantity`: value \"-2\"")),
        "{message}"
    );
    // The file's last date, 9026-01-01 on line 5, would make series `a` run 7,000 years: it
    // is refused as too long, at that line.
    assert!(
        message.contains(&format!("{file}:5: column `date`: value \"9026-01-01\"")),
        "{message}"
    );
    assert!(message.contains("at most 10958 are read"), "{message}");
    assert!(!written.exists());
}

/// `flowline plan policy` for a cycle service level, worked by hand: 100 units a day
/// (σ 20), 4 days' lead time (σ 1 day): lead-time demand has mean 400 and σ √(4·20² + 100²·1²)
/// = √11,600 = 107.7033; z = Φ⁻¹(0.95) = 1.6448536; safety stock 1.6448536 × 107.7033 =
/// 177.1562; reorder point 577.1562. With an order cost of 50 and a holding cost of 2.5 a
/// unit-year, the EOQ is √(2·50·36,500/2.5) = √1,460,000 = 1,208.30, which in cases of 12 is
/// 101 cases, 1,212 units.
#[test]
fn plan_policy_works_out_safety_stock_reorder_point_and_order_quantity() {
    let output = flowline(&[
        "plan",
        "policy",
        "--demand",
        "100",
        "--demand-sd",
        "20",
        "--lead-time",
        "4",
        "--lead-time-sd",
        "1",
        "--service-level",
        "0.95",
        "--order-cost",
        "50",
        "--holding-cost",
        "2.5",
        "--case-pack",
        "12",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let shown: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let number = |pointer: &str| shown.pointer(pointer).and_then(serde_json::Value::as_f64);
    let close = |pointer: &str, expected: f64, tolerance: f64| {
        let found = number(pointer).unwrap_or(f64::NAN);
        assert!(
            (found - expected).abs() < tolerance,
            "{pointer}: {found} against {expected}"
        );
    };
    close("/lead_time_demand/mean", 400.0, 1e-9);
    close("/lead_time_demand/sd", 11_600f64.sqrt(), 1e-9);
    close("/safety/safety_stock", 177.1562, 1e-4);
    close("/safety/reorder_point", 577.1562, 1e-4);
    close("/economic_order_quantity", 1_208.30, 1e-2);
    close("/order/quantity", 1_212.0, 1e-9);
}

/// A fill rate is met on average: the expected shortage per cycle is the unmet share of the
/// cycle's order, (1 − 0.98) × 500 = 10 units. An input out of range is refused naming its
/// option, and a fill rate without an order quantity says what is missing.
#[test]
fn plan_policy_meets_a_fill_rate_and_refuses_bad_inputs_by_their_option() {
    let base = [
        "plan",
        "policy",
        "--demand",
        "100",
        "--demand-sd",
        "20",
        "--lead-time",
        "4",
        "--lead-time-sd",
        "1",
    ];
    let with = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        flowline(&args)
    };
    let output = with(&["--fill-rate", "0.98", "--order-quantity", "500", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let shown: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let shortage = shown
        .pointer("/safety/expected_shortage_per_cycle")
        .and_then(serde_json::Value::as_f64)
        .unwrap();
    assert!((shortage - 10.0).abs() < 1e-6, "{shortage}");

    let refused = with(&["--service-level", "1"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("--service-level 1 is out of range"),
        "{}",
        stderr(&refused)
    );
    let negative = flowline(&[
        "plan",
        "policy",
        "--demand",
        "-3",
        "--lead-time",
        "4",
        "--service-level",
        "0.9",
    ]);
    assert_eq!(negative.status.code(), Some(1));
    assert!(
        stderr(&negative).contains("--demand -3 is out of range"),
        "{}",
        stderr(&negative)
    );
    let missing = with(&["--fill-rate", "0.9"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("--fill-rate needs an order quantity"));
}

/// `flowline plan history` counts the units ordered per day in the tenant's time zone (New
/// York), by item and channel, and `flowline plan forecast --db` forecasts those series:
/// - SO-1 at 2 March 15:00 UTC (10:00 in New York): 2 of SKU-00000 and 1 of SKU-00001 on the 2nd;
/// - SO-2 at 4 March 03:00 UTC, still 3 March (22:00) in New York: 3 of SKU-00000 on the 3rd;
/// - SO-3 at 4 March 16:00 UTC: 4 of SKU-00001 on the 4th.
#[test]
fn plan_history_counts_units_ordered_per_local_day_and_feeds_the_forecast() {
    use flowline_engine::workload::{OrderScript, sku};
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("orders.db");
    {
        let engine = Engine::open(
            SqliteBackend::shared(&path, OpenOptions::durable()).unwrap(),
            EngineOptions::default(),
        )
        .unwrap();
        let tenant = TenantId::parse("acme").unwrap();
        for command in workload::setup(2, 100) {
            let answer = engine.submit(&tenant, Submission::new(command)).unwrap();
            assert!(matches!(answer.outcome, Outcome::Applied { .. }));
        }
        let orders = [
            (
                "SO-1",
                vec![(sku(0), 2), (sku(1), 1)],
                "2026-03-02T15:00:00Z",
            ),
            ("SO-2", vec![(sku(0), 3)], "2026-03-04T03:00:00Z"),
            ("SO-3", vec![(sku(1), 4)], "2026-03-04T16:00:00Z"),
        ];
        for (order, lines, at) in orders {
            let script = OrderScript {
                order: order.parse().unwrap(),
                lines,
                total_minor: 0,
            };
            let submission = Submission::new(script.place()).at(at.parse().unwrap());
            let answer = engine.submit(&tenant, submission).unwrap();
            assert!(
                matches!(answer.outcome, Outcome::Applied { .. }),
                "{answer:?}"
            );
        }
    }
    let db = path.to_str().unwrap();
    let output = flowline(&["plan", "history", "--db", db]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "series,date,quantity\n\
         SKU-00000@web,2026-03-02,2\n\
         SKU-00000@web,2026-03-03,3\n\
         SKU-00001@web,2026-03-02,1\n\
         SKU-00001@web,2026-03-04,4\n"
    );
    // A mistyped tenant is refused, not read as one without demand.
    let ghost = flowline(&["plan", "history", "--db", db, "--tenant", "ghost"]);
    assert_eq!(ghost.status.code(), Some(2));
    assert!(
        stderr(&ghost).contains("holds no tenant `ghost`"),
        "{}",
        stderr(&ghost)
    );
    // The history's last day is the 4th, so both series are forecast for the 5th and 6th.
    let forecast = flowline(&["plan", "forecast", "--db", db, "--horizon", "2"]);
    assert_eq!(forecast.status.code(), Some(0), "{}", stderr(&forecast));
    let dated: Vec<(String, String)> = stdout(&forecast)
        .lines()
        .skip(1)
        .map(|line| {
            let mut fields = line.split(',');
            (
                fields.next().unwrap().to_string(),
                fields.next().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        dated,
        [
            ("SKU-00000@web", "2026-03-05"),
            ("SKU-00000@web", "2026-03-06"),
            ("SKU-00001@web", "2026-03-05"),
            ("SKU-00001@web", "2026-03-06"),
        ]
        .map(|(series, date)| (series.to_string(), date.to_string()))
    );
}

/// `flowline import csv` as a brand moving in from spreadsheets: centers saved with `;` and
/// an empty row, items with decimal commas and a quoted name over two lines, opening stock
/// with its columns in another order. Stock before its center is refused naming the row's
/// line, with nothing appended; each file imports once (a second time appends nothing); the
/// balances are the file's quantities, valued at the items' costs; `flowline check` passes.
#[test]
fn csv_files_of_any_layout_import_through_their_mappings_once_each() {
    let directory = tempfile::tempdir().unwrap();
    let path = |name: &str| directory.path().join(name);
    let write = |name: &str, text: &str| std::fs::write(path(name), text).unwrap();
    let db = path("t.db");
    let db = db.to_str().unwrap();
    write(
        "centers.csv",
        "Lager;Name;Land;Zeitzone\r\nFC-BER;Berlin;de;Europe/Berlin\r\n;;;\r\n",
    );
    write(
        "centers.toml",
        "delimiter = \";\"\n[columns]\nlocation = \"Lager\"\nname = \"Name\"\ncountry = \"Land\"\ntime_zone = 4\n",
    );
    write(
        "items.csv",
        "\u{feff}Artikelnummer;Bezeichnung;Einkaufspreis;Verkaufspreis\r\nMUG-1;\"Becher\r\nblau\";1.234,50;2.000\r\nTEE-2;Tee;0,5;3,99\r\n",
    );
    write(
        "items.toml",
        "delimiter = \";\"\ndecimal = \",\"\nthousands = \".\"\n[columns]\nsku = 1\nname = 2\nunit_cost = 3\nprice = 4\ncurrency = { value = \"EUR\" }\n",
    );
    write(
        "stock.csv",
        "Menge,SKU,Lager\n10,MUG-1,FC-BER\n4,TEE-2,FC-BER\n",
    );
    write(
        "stock.toml",
        "[columns]\nlocation = \"Lager\"\nsku = \"SKU\"\nquantity = \"Menge\"\n",
    );
    let import = |kind: &str, name: &str| {
        flowline(&[
            "import",
            "csv",
            "--kind",
            kind,
            "--map",
            path(&format!("{name}.toml")).to_str().unwrap(),
            path(&format!("{name}.csv")).to_str().unwrap(),
            "--tenant",
            "acme",
            "--db",
            db,
        ])
    };
    let created = flowline(&[
        "tenant",
        "create",
        "acme",
        "--currency",
        "EUR",
        "--time-zone",
        "Europe/Berlin",
        "--db",
        db,
    ]);
    assert_eq!(created.status.code(), Some(0), "{}", stderr(&created));
    let head = import_log_head(std::path::Path::new(db), "acme");

    // Stock first: its center does not exist yet.
    let refused = import("opening-stock", "stock");
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("stock.csv:2: the tenant refused the row's AdjustStock"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(import_log_head(std::path::Path::new(db), "acme"), head);

    for (kind, name, events) in [
        ("locations", "centers", 1),
        ("items", "items", 2),
        ("opening-stock", "stock", 1),
    ] {
        let first = import(kind, name);
        assert_eq!(
            first.status.code(),
            Some(0),
            "{name}: {}{}",
            stdout(&first),
            stderr(&first)
        );
        assert!(
            stdout(&first).contains(&format!("imported {events} events")),
            "{}",
            stdout(&first)
        );
        let again = import(kind, name);
        assert_eq!(again.status.code(), Some(0));
        assert!(
            stdout(&again).contains("already imported (same file and mapping)"),
            "{}",
            stdout(&again)
        );
    }
    assert!(stdout(&import("locations", "centers")).contains("1 entirely empty rows skipped"));
    assert_eq!(import_log_head(std::path::Path::new(db), "acme"), head + 4);

    // Balances from the log's own table: 10 MUG at 1,234.50 EUR and 4 TEE at 0.50 EUR.
    let connection = rusqlite::Connection::open(db).unwrap();
    let mut balances: Vec<(String, i64, i64)> = connection
        .prepare(
            "SELECT item, on_hand, value_minor FROM balances WHERE location = 'FC-BER' ORDER BY item",
        )
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    balances.retain(|(item, _, _)| item == "MUG-1" || item == "TEE-2");
    assert_eq!(
        balances,
        vec![
            ("MUG-1".to_string(), 10, 10 * 123_450),
            ("TEE-2".to_string(), 4, 4 * 50)
        ]
    );
    let check = flowline(&["check", "--db", db]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));

    // A supplier, and a purchase order of two lines from it to the center: accepted.
    write("suppliers.csv", "id;name;days;land\nACME;Acme GmbH;14;de\n");
    write(
        "suppliers.toml",
        "delimiter = \";\"\n[columns]\nsupplier = 1\nname = 2\ncurrency = { value = \"EUR\" }\n\
         lead_time_days = 3\ncountry = 4\n",
    );
    write(
        "po.csv",
        "PO,SKU,Qty,Price\nPO-7,MUG-1,100,4.00\nPO-7,TEE-2,50,1.10\n",
    );
    write(
        "po.toml",
        "[columns]\npurchase_order = \"PO\"\nsupplier = { value = \"ACME\" }\n\
         location = { value = \"FC-BER\" }\ncurrency = { value = \"EUR\" }\nsku = \"SKU\"\n\
         quantity = \"Qty\"\nunit_price = \"Price\"\n",
    );
    for (kind, name) in [("suppliers", "suppliers"), ("purchase-orders", "po")] {
        let imported = import(kind, name);
        assert_eq!(
            imported.status.code(),
            Some(0),
            "{name}: {}{}",
            stdout(&imported),
            stderr(&imported)
        );
        assert!(
            stdout(&imported).contains("imported 1 events"),
            "{}",
            stdout(&imported)
        );
    }

    // Last week's orders as a store exports them, one row per line, month-first dates in
    // Berlin time: placed at those times in business time, the first order's two lines
    // together, and the file imports once.
    let zone = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    let day = jiff::Timestamp::now().to_zoned(zone.clone()).date() - jiff::Span::new().days(2);
    let us_date = format!("{}/{}/{}", day.month(), day.day(), day.year());
    write(
        "orders.csv",
        &format!(
            "Name,Email,Created at,Lineitem sku,Lineitem quantity,Lineitem price\n\
             SO-1,ann,{us_date} 9:30,MUG-1,2,2000.00\nSO-1,,,TEE-2,1,3.99\n\
             SO-2,bob,{us_date} 18:05,TEE-2,1,3.99\n"
        ),
    );
    write(
        "orders.toml",
        "day_order = \"month-first\"\n[columns]\norder = \"Name\"\nplaced_at = \"Created at\"\nchannel = { value = \"web\" }\n\
         customer = \"Email\"\ncurrency = { value = \"EUR\" }\nsku = \"Lineitem sku\"\n\
         quantity = \"Lineitem quantity\"\nunit_price = \"Lineitem price\"\n\
         ship_country = { value = \"DE\" }\nship_time_zone = { value = \"Europe/Berlin\" }\n",
    );
    let orders = import("sales-orders", "orders");
    assert_eq!(
        orders.status.code(),
        Some(0),
        "{}{}",
        stdout(&orders),
        stderr(&orders)
    );
    assert!(
        stdout(&orders).contains("3 rows read"),
        "{}",
        stdout(&orders)
    );
    assert!(
        stdout(&orders).contains("imported 2 events"),
        "{}",
        stdout(&orders)
    );
    assert!(stdout(&import("sales-orders", "orders")).contains("already imported"));
    let placed: Vec<(String, i64)> = connection
        .prepare(
            "SELECT s.name, e.business_time FROM events e JOIN streams s \
             ON s.tenant_id = e.tenant_id AND s.stream_id = e.stream_id \
             WHERE s.name LIKE 'sales_order/%' ORDER BY e.seq",
        )
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let at = |hour: i8, minute: i8| {
        day.at(hour, minute, 0, 0)
            .to_zoned(zone.clone())
            .unwrap()
            .timestamp()
            .as_microsecond()
    };
    assert_eq!(
        placed,
        vec![
            ("sales_order/SO-1".to_string(), at(9, 30)),
            ("sales_order/SO-2".to_string(), at(18, 5)),
        ]
    );

    // Round trip: exported, then imported without mappings into an empty tenant, the items,
    // centers and stock export to the same bytes.
    let export = |what: &str, tenant: &str| {
        let file = path(&format!("{tenant}-{what}.csv"));
        let exported = flowline(&[
            "export",
            what,
            "--tenant",
            tenant,
            "--db",
            db,
            "--output",
            file.to_str().unwrap(),
        ]);
        assert_eq!(exported.status.code(), Some(0), "{}", stderr(&exported));
        file
    };
    let created = flowline(&[
        "tenant",
        "create",
        "beta",
        "--currency",
        "EUR",
        "--time-zone",
        "Europe/Berlin",
        "--db",
        db,
    ]);
    assert_eq!(created.status.code(), Some(0), "{}", stderr(&created));
    for (what, kind) in [
        ("locations", "locations"),
        ("items", "items"),
        ("inventory", "opening-stock"),
    ] {
        let file = export(what, "acme");
        let imported = flowline(&[
            "import",
            "csv",
            "--kind",
            kind,
            file.to_str().unwrap(),
            "--tenant",
            "beta",
            "--db",
            db,
        ]);
        assert_eq!(
            imported.status.code(),
            Some(0),
            "{what}: {}{}",
            stdout(&imported),
            stderr(&imported)
        );
    }
    for what in ["locations", "items", "inventory"] {
        let acme = std::fs::read(export(what, "acme")).unwrap();
        let beta = std::fs::read(export(what, "beta")).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&beta),
            String::from_utf8_lossy(&acme),
            "{what}"
        );
    }
    let inventory = std::fs::read_to_string(path("beta-inventory.csv")).unwrap();
    assert_eq!(
        inventory,
        "location,sku,quantity,unit_cost\nFC-BER,MUG-1,10,1234.50\nFC-BER,TEE-2,4,0.50\n"
    );
    // The same as JSON lines: whole numbers as numbers, amounts as exact decimal strings.
    let jsonl = flowline(&[
        "export",
        "inventory",
        "--tenant",
        "beta",
        "--db",
        db,
        "--format",
        "jsonl",
    ]);
    let rows: Vec<serde_json::Value> = stdout(&jsonl)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(
        rows,
        vec![
            serde_json::json!({"location": "FC-BER", "sku": "MUG-1", "quantity": 10, "unit_cost": "1234.50"}),
            serde_json::json!({"location": "FC-BER", "sku": "TEE-2", "quantity": 4, "unit_cost": "0.50"}),
        ]
    );
    let check = flowline(&["check", "--db", db]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
}
