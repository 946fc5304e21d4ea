//! The engine against a real SQLite file: races for the last units, idempotent retries,
//! restarts, and `check` over what was written.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

use flowline_core::documents::purchase_order::{
    PlacePurchaseOrder, PurchaseLine, ReceiptLine, ReceivePurchaseOrder,
};
use flowline_core::documents::sales_order::{OrderLineInput, PlaceSalesOrder, ShortagePolicy};
use flowline_core::id::{LocationId, Sku, TenantId};
use flowline_core::master::{Address, Bom, BomComponent, BomKind, TimeZoneName};
use flowline_core::money::{Currency, Money};
use flowline_core::snapshot::canonical;
use flowline_core::state::DefineItem;
use flowline_core::{Command, State};
use flowline_engine::workload::{self, Lcg, OrderScript};
use flowline_engine::{
    Answer, AppendFault, AppendFaults, AtomicOutcome, Engine, EngineError, EngineOptions, Outcome,
    Submission,
};
use flowline_store::{EventStore, SharedBackend};
use flowline_store_sqlite::{OpenOptions, SqliteBackend, SqliteStore};
use std::path::Path;
use std::sync::Arc;

/// The durable SQLite log at `path`, as the engine opens it.
fn sqlite(path: &Path) -> SharedBackend {
    SqliteBackend::shared(path, OpenOptions::durable()).unwrap()
}

fn tenant() -> TenantId {
    TenantId::parse("acme").unwrap()
}

fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

fn applied(answer: &Answer) -> bool {
    matches!(answer.outcome, Outcome::Applied { .. })
}

fn submit_all(engine: &Engine, commands: Vec<Command>) {
    for command in commands {
        let answer = engine
            .submit(&tenant(), Submission::new(command.clone()))
            .unwrap();
        assert!(
            applied(&answer),
            "setup command rejected: {command:?} -> {answer:?}"
        );
    }
}

/// Item A with exactly 100 units at FC-EAST, item B with 1,000, and bundle K = 2 A + 1 B.
fn race_setup(engine: &Engine) {
    submit_all(engine, workload::setup(2, 0));
    submit_all(
        engine,
        vec![
            Command::DefineItem(DefineItem {
                sku: Sku::parse("K").unwrap(),
                name: "Bundle".into(),
                unit: "each".into(),
                unit_cost: Money::new(0, usd()),
                price: Money::new(5000, usd()),
                weight_g: 0,
                dimensions: None,
                hs_code: None,
                country_of_origin: None,
                category: None,
                bom: Some(Bom {
                    kind: BomKind::Bundle,
                    components: vec![
                        BomComponent {
                            sku: workload::sku(0),
                            quantity: 2,
                        },
                        BomComponent {
                            sku: workload::sku(1),
                            quantity: 1,
                        },
                    ],
                }),
            }),
            Command::PlacePurchaseOrder(PlacePurchaseOrder {
                purchase_order: "PO-1".parse().unwrap(),
                supplier: "SUP-1".parse().unwrap(),
                location: "FC-EAST".parse().unwrap(),
                currency: usd(),
                exchange_rate: None,
                lines: vec![
                    PurchaseLine {
                        sku: workload::sku(0),
                        quantity: 100,
                        unit_price_minor: 700,
                    },
                    PurchaseLine {
                        sku: workload::sku(1),
                        quantity: 1000,
                        unit_price_minor: 300,
                    },
                ],
                requested_on: None,
            }),
            Command::ReceivePurchaseOrder(ReceivePurchaseOrder {
                purchase_order: "PO-1".parse().unwrap(),
                receipt: "R-1".parse().unwrap(),
                lines: vec![
                    ReceiptLine {
                        line: 0,
                        accepted: 100,
                        rejected: 0,
                        reject_reason: None,
                    },
                    ReceiptLine {
                        line: 1,
                        accepted: 1000,
                        rejected: 0,
                        reject_reason: None,
                    },
                ],
                arrived_at: None,
            }),
        ],
    );
}

fn order(id: &str, sku: &str, quantity: i64, policy: ShortagePolicy) -> Command {
    Command::PlaceSalesOrder(PlaceSalesOrder {
        contact: None,
        order: id.parse().unwrap(),
        channel: "web".parse().unwrap(),
        customer: "C-1".parse().unwrap(),
        ship_to: Address {
            recipient: None,
            lines: vec![],
            city: "Chicago".into(),
            region: "IL".into(),
            postal_code: "60601".into(),
            country: "US".into(),
            time_zone: TimeZoneName::parse("America/Chicago").unwrap(),
            coordinates: None,
        },
        currency: usd(),
        exchange_rate: None,
        lines: vec![OrderLineInput {
            sku: sku.parse().unwrap(),
            quantity,
            unit_price_minor: 2000,
            unit_tax_minor: 0,
        }],
        promise: None,
        service_level: None,
        shipping_charge_minor: 0,
        allocate: Some(policy),
    })
}

fn check_is_clean(path: &Path) {
    let store = SqliteStore::open_read_only(path).unwrap();
    let report = flowline_engine::check::check(&store).unwrap();
    assert!(report.is_clean(), "check found: {:#?}", report.findings);
    assert!(report.events > 0);
}

fn reserved_of_a(state: &State) -> (i64, i64) {
    let balance = state
        .stock
        .balance(&workload::sku(0), &LocationId::parse("FC-EAST").unwrap());
    (balance.on_hand, balance.reserved)
}

/// Sixteen threads race to order item A (100 units) directly or through bundle K (2 A each).
/// Demand: 16 threads × 12 orders × 1–3 units, A-equivalent ≥ 192 > 100. Half the threads
/// backorder shortages, half ask for rejection. Expected: exactly 100 units of A reserved (never
/// more), every rejection reports an availability below what it asked for, and the log checks.
#[test]
fn sixteen_threads_racing_for_100_units_allocate_exactly_100() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("race.db");
    let engine = Arc::new(Engine::open(sqlite(&path), EngineOptions::default()).unwrap());
    race_setup(&engine);
    let outcomes: Vec<(i64, Answer)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|thread| {
                let engine = Arc::clone(&engine);
                scope.spawn(move || {
                    let mut rng = Lcg::new(thread);
                    let policy = if thread % 2 == 0 {
                        ShortagePolicy::Backorder
                    } else {
                        ShortagePolicy::Reject
                    };
                    (0..12)
                        .map(|number| {
                            let quantity = 1 + rng.below(3) as i64;
                            let (sku, per_unit) = if rng.below(3) == 0 {
                                ("K", 2)
                            } else {
                                ("SKU-00000", 1)
                            };
                            let command =
                                order(&format!("SO-{thread}-{number}"), sku, quantity, policy);
                            (
                                quantity * per_unit,
                                engine.submit(&tenant(), Submission::new(command)).unwrap(),
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().unwrap())
            .collect()
    });
    let demand: i64 = outcomes.iter().map(|(units, _)| units).sum();
    assert!(
        demand > 100,
        "the race needs more demand than stock, got {demand}"
    );
    for (units, answer) in &outcomes {
        if let Outcome::Rejected { code, details, .. } = &answer.outcome {
            assert_eq!(code, "insufficient_stock");
            let available = details["available"].as_i64().unwrap();
            assert!(
                available < *units,
                "rejected an order for {units} A while {available} were available"
            );
        }
    }
    // A last order that backorders what does not fit takes any unit the race left (a single
    // unit no bundle could use); after it every unit is reserved, and not one more.
    let sweep = engine
        .submit(
            &tenant(),
            Submission::new(order(
                "SO-SWEEP",
                "SKU-00000",
                100,
                ShortagePolicy::Backorder,
            )),
        )
        .unwrap();
    assert!(applied(&sweep));
    let (on_hand, reserved) = engine
        .query(&tenant(), |state: &State| reserved_of_a(state))
        .unwrap();
    assert_eq!((on_hand, reserved), (100, 100));
    drop(engine);
    check_is_clean(&path);
}

/// The same key and command ten times in a row, then 32 times at once: one set of events, and
/// every answer equal to the first. The same key with another command is refused.
#[test]
fn retries_with_one_idempotency_key_record_one_effect() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("idempotency.db");
    let engine = Arc::new(Engine::open(sqlite(&path), EngineOptions::default()).unwrap());
    race_setup(&engine);
    let submission =
        Submission::new(order("SO-1", "SKU-00000", 3, ShortagePolicy::Reject)).key("key-1");
    let first = engine.submit(&tenant(), submission.clone()).unwrap();
    assert!(applied(&first) && !first.replayed);
    for _ in 0..10 {
        let again = engine.submit(&tenant(), submission.clone()).unwrap();
        assert_eq!(again.outcome, first.outcome);
        assert!(again.replayed);
    }
    let concurrent =
        Submission::new(order("SO-2", "SKU-00000", 2, ShortagePolicy::Reject)).key("key-2");
    let answers: Vec<Answer> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..32)
            .map(|_| {
                let engine = Arc::clone(&engine);
                let concurrent = concurrent.clone();
                scope.spawn(move || engine.submit(&tenant(), concurrent).unwrap())
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .collect()
    });
    assert!(
        answers
            .iter()
            .all(|answer| answer.outcome == answers[0].outcome)
    );
    assert_eq!(answers.iter().filter(|answer| !answer.replayed).count(), 1);
    let reused = engine.submit(
        &tenant(),
        Submission::new(order("SO-3", "SKU-00000", 1, ShortagePolicy::Reject)).key("key-1"),
    );
    assert_eq!(
        reused,
        Err(EngineError::IdempotencyKeyReused {
            key: "key-1".into()
        })
    );
    // 3 + 2 units reserved: each order counted once.
    let (_, reserved) = engine
        .query(&tenant(), |state: &State| reserved_of_a(state))
        .unwrap();
    assert_eq!(reserved, 5);
    drop(engine);
    let store = SqliteStore::open_read_only(&path).unwrap();
    let placed = store
        .read_tenant(&tenant(), 0, 100_000)
        .unwrap()
        .iter()
        .filter(|e| e.event_type == "SalesOrderPlaced")
        .count();
    assert_eq!(placed, 2);
    check_is_clean(&path);
}

/// Faults scripted append by append: the next decisions, then none.
#[derive(Default)]
struct Scripted {
    next: std::sync::Mutex<std::collections::VecDeque<AppendFault>>,
    recoveries: std::sync::atomic::AtomicUsize,
}

impl AppendFaults for Scripted {
    fn before_append(&self, _request: &flowline_store::AppendRequest) -> AppendFault {
        self.next
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(AppendFault::None)
    }

    fn recovered(&self, _tenant: &TenantId) {
        self.recoveries
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The fault seam: an append that commits but loses its acknowledgement is answered
/// "unavailable", and its retry under the same key gets the stored outcome (3 units reserved,
/// not 6); an append that fails before the transaction writes nothing, and its retry applies
/// the order (3 + 2 = 5 reserved). The writer rebuilds its state from the log after each
/// (2 recoveries), and the log holds each order once.
#[test]
fn an_unknown_outcome_is_settled_once_by_a_retry_under_its_key() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("faults.db");
    let faults = Arc::new(Scripted::default());
    let options = EngineOptions {
        faults: Some(faults.clone()),
        ..EngineOptions::default()
    };
    let engine = Engine::open(sqlite(&path), options).unwrap();
    race_setup(&engine);
    let reserved = |engine: &Engine| {
        engine
            .query(&tenant(), |state: &State| reserved_of_a(state).1)
            .unwrap()
    };
    let before = reserved(&engine);
    let lost = Submission::new(order("SO-1", "SKU-00000", 3, ShortagePolicy::Reject)).key("k-1");
    let failed = Submission::new(order("SO-2", "SKU-00000", 2, ShortagePolicy::Reject)).key("k-2");

    faults
        .next
        .lock()
        .unwrap()
        .push_back(AppendFault::LoseAcknowledgement);
    assert!(matches!(
        engine.submit(&tenant(), lost.clone()),
        Err(EngineError::Unavailable(_))
    ));
    let retried = engine.submit(&tenant(), lost).unwrap();
    assert!(applied(&retried) && retried.replayed, "{retried:?}");
    assert_eq!(reserved(&engine) - before, 3);

    faults
        .next
        .lock()
        .unwrap()
        .push_back(AppendFault::FailBefore);
    assert!(matches!(
        engine.submit(&tenant(), failed.clone()),
        Err(EngineError::Unavailable(_))
    ));
    let retried = engine.submit(&tenant(), failed).unwrap();
    assert!(applied(&retried) && !retried.replayed, "{retried:?}");
    assert_eq!(reserved(&engine) - before, 5);
    assert_eq!(
        faults.recoveries.load(std::sync::atomic::Ordering::SeqCst),
        2
    );

    drop(engine);
    let store = SqliteStore::open_read_only(&path).unwrap();
    let placed: Vec<String> = store
        .read_tenant(&tenant(), 0, 100_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.event_type == "SalesOrderPlaced")
        .map(|e| e.stream)
        .collect();
    assert_eq!(placed.len(), 2, "{placed:?}");
    check_is_clean(&path);
}

/// A rejected command's answer is remembered for its key too: after stock arrives, the retry
/// still gets the original rejection (the first response is the response, as with Stripe).
#[test]
fn a_rejection_is_remembered_for_its_key() {
    let directory = tempfile::tempdir().unwrap();
    let engine = Engine::open(
        sqlite(&directory.path().join("rejected.db")),
        EngineOptions::default(),
    )
    .unwrap();
    race_setup(&engine);
    let too_many =
        Submission::new(order("SO-1", "SKU-00000", 101, ShortagePolicy::Reject)).key("k");
    let first = engine.submit(&tenant(), too_many.clone()).unwrap();
    assert!(
        matches!(&first.outcome, Outcome::Rejected { code, .. } if code == "insufficient_stock")
    );
    let retry = engine.submit(&tenant(), too_many).unwrap();
    assert_eq!((retry.outcome, retry.replayed), (first.outcome, true));
}

/// Everything acknowledged before the engine goes away is there after reopening the file, and
/// the rebuilt state is byte-for-byte the state the engine held.
#[test]
fn a_reopened_engine_rebuilds_exactly_the_acknowledged_state() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("restart.db");
    let before = {
        let engine = Engine::open(sqlite(&path), EngineOptions::default()).unwrap();
        submit_all(&engine, workload::setup(20, 1_000));
        let mut rng = Lcg::new(3);
        for number in 0..50 {
            let script = OrderScript::random("SO", number, 20, &mut rng);
            submit_all(&engine, vec![script.place()]);
            submit_all(
                &engine,
                script.fulfil(&LocationId::parse("FC-CENTRAL").unwrap()),
            );
        }
        let snapshot = engine
            .query(&tenant(), |state: &State| canonical(state))
            .unwrap();
        // Dropped without any further call: the writer's queue is empty and nothing is pending.
        snapshot
    };
    let engine = Engine::open(sqlite(&path), EngineOptions::default()).unwrap();
    let after = engine
        .query(&tenant(), |state: &State| canonical(state))
        .unwrap();
    assert_eq!(before, after);
    assert!(after.contains("SO-49"));
    drop(engine);
    check_is_clean(&path);
}

/// `check` reports a stored balance that differs from the log, naming tenant, item, location,
/// expected and actual.
#[test]
fn check_reports_a_tampered_balance_with_expected_and_actual() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("tampered.db");
    {
        let engine = Engine::open(sqlite(&path), EngineOptions::default()).unwrap();
        race_setup(&engine);
    }
    lower_stored_balance(&path);
    let store = SqliteStore::open_read_only(&path).unwrap();
    let report = flowline_engine::check::check(&store).unwrap();
    let text: Vec<String> = report.findings.iter().map(|f| f.to_string()).collect();
    assert_eq!(
        text,
        vec![
            "tenant acme, item SKU-00000, location FC-EAST: expected on hand 100 reserved 0 value 70000, actual on hand 99 reserved 0 value 70000"
        ]
    );
}

/// Lowers one stored balance by a unit, behind the engine's back.
fn lower_stored_balance(path: &Path) {
    let connection = rusqlite::Connection::open(path).unwrap();
    let changed = connection
        .execute("UPDATE balances SET on_hand = on_hand - 1 WHERE item = 'SKU-00000' AND location = 'FC-EAST'", [])
        .unwrap();
    assert_eq!(changed, 1);
}

/// A crash after acknowledgement: the engine is abandoned without shutting down (its writer
/// never drains or closes), and a second engine opens the same file. Every acknowledged command
/// is in the log, and retrying each with its key returns the stored answer and appends nothing.
#[test]
fn nothing_acknowledged_is_lost_when_the_engine_is_abandoned() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("crash.db");
    let engine = Engine::open(sqlite(&path), EngineOptions::default()).unwrap();
    race_setup(&engine);
    let mut acknowledged = Vec::new();
    for number in 0..40 {
        let submission = Submission::new(order(
            &format!("SO-{number}"),
            "SKU-00000",
            1 + number % 3,
            ShortagePolicy::Backorder,
        ))
        .key(format!("order-{number}"));
        let answer = engine.submit(&tenant(), submission.clone()).unwrap();
        acknowledged.push((submission, answer));
    }
    let head_before = SqliteStore::open_read_only(&path)
        .unwrap()
        .tenant_head(&tenant())
        .unwrap();
    std::mem::forget(engine);

    let reopened = Engine::open(sqlite(&path), EngineOptions::default()).unwrap();
    for (submission, answer) in &acknowledged {
        let retry = reopened.submit(&tenant(), submission.clone()).unwrap();
        assert_eq!(retry.outcome, answer.outcome);
        assert!(retry.replayed);
    }
    let orders = reopened
        .query(&tenant(), |state: &State| state.sales_orders.len())
        .unwrap();
    assert_eq!(orders, 40);
    let head_after = SqliteStore::open_read_only(&path)
        .unwrap()
        .tenant_head(&tenant())
        .unwrap();
    assert_eq!(head_after, head_before, "retries appended events");
    drop(reopened);
    check_is_clean(&path);
}

/// Another writer appends to the tenant behind the engine's back (as a stale lease holder
/// would). The engine's next append is fenced by the sequence check: that command is answered
/// "unavailable" and nothing of it is recorded; the writer rebuilds its state from the log,
/// which now holds the other writer's event, and the retry succeeds on the rebuilt state.
#[test]
fn a_fenced_append_fails_the_batch_and_the_writer_rebuilds_from_the_log() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("fenced.db");
    let engine = Engine::open(sqlite(&path), EngineOptions::default()).unwrap();
    race_setup(&engine);

    let mut intruder = SqliteStore::open(&path, &OpenOptions::durable()).unwrap();
    let head = intruder.tenant_head(&tenant()).unwrap();
    let foreign = flowline_core::Event::Master(flowline_core::state::MasterEvent::ItemDefined {
        item: flowline_core::master::Item {
            sku: Sku::parse("FOREIGN").unwrap(),
            name: "Written elsewhere".into(),
            unit: "each".into(),
            unit_cost: Money::new(100, usd()),
            price: Money::new(200, usd()),
            weight_g: 0,
            dimensions: None,
            hs_code: None,
            country_of_origin: None,
            category: None,
            bom: None,
        },
    });
    intruder
        .append(&flowline_store::AppendRequest {
            tenant: tenant(),
            expected_seq: head,
            recorded_at: "2025-01-01T00:00:00Z".parse().unwrap(),
            commands: vec![flowline_store::CommandRecord {
                events: vec![flowline_store::NewEvent {
                    stream: foreign.stream(),
                    event_type: foreign.type_name().into(),
                    schema_version: flowline_core::Event::SCHEMA_VERSION,
                    business_time: "2025-01-01T00:00:00Z".parse().unwrap(),
                    payload: foreign.to_json(),
                }],
                expected: vec![],
                idempotency: None,
            }],
            balances: vec![],
        })
        .unwrap();

    let first = engine.submit(
        &tenant(),
        Submission::new(order("SO-1", "SKU-00000", 2, ShortagePolicy::Reject)),
    );
    assert!(
        matches!(first, Err(EngineError::Unavailable(_))),
        "{first:?}"
    );
    let retry = engine
        .submit(
            &tenant(),
            Submission::new(order("SO-1", "SKU-00000", 2, ShortagePolicy::Reject)),
        )
        .unwrap();
    assert!(applied(&retry), "{retry:?}");
    let (knows_foreign, reserved) = engine
        .query(&tenant(), |state: &State| {
            (
                state.items.contains_key(&Sku::parse("FOREIGN").unwrap()),
                reserved_of_a(state).1,
            )
        })
        .unwrap();
    // The rebuilt state has the other writer's item, and SO-1's 2 units reserved exactly once.
    assert_eq!((knows_foreign, reserved), (true, 2));
    drop(engine);
    check_is_clean(&path);
}

/// A clock fixed at one instant.
struct FixedClock(jiff::Timestamp);

impl flowline_engine::Clock for FixedClock {
    fn now(&self) -> jiff::Timestamp {
        self.0
    }
}

/// Closed orders delivered long before the clock leave memory; a late credit note on one
/// brings it back from its stream and applies; its id cannot be reused; after a restart the
/// rebuilt state holds only open work; and the log checks.
///
/// Orders are delivered on 2025-01-10 (business time given per command) and the clock reads
/// 2025-03-15: with no return policy defined, the horizon is the clock less one day, so every
/// closed order is past it.
#[test]
fn settled_documents_leave_memory_and_come_back_when_named() {
    use flowline_core::documents::sales_order::IssueCreditNote;
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("evict.db");
    let options = || EngineOptions {
        clock: Arc::new(FixedClock("2025-03-15T00:00:00Z".parse().unwrap())),
        eviction_interval_batches: 1,
        ..EngineOptions::default()
    };
    let at: jiff::Timestamp = "2025-01-10T12:00:00Z".parse().unwrap();
    let engine = Engine::open(sqlite(&path), options()).unwrap();
    for command in workload::setup(5, 100) {
        assert!(applied(
            &engine
                .submit(&tenant(), Submission::new(command).at(at))
                .unwrap()
        ));
    }
    let mut rng = Lcg::new(11);
    let mut scripts = Vec::new();
    for number in 0..10 {
        let script = OrderScript::random("SO", number, 5, &mut rng);
        let mut commands = vec![script.place()];
        commands.extend(script.fulfil(&LocationId::parse("FC-CENTRAL").unwrap()));
        for command in commands {
            assert!(applied(
                &engine
                    .submit(&tenant(), Submission::new(command).at(at))
                    .unwrap()
            ));
        }
        scripts.push(script);
    }
    // One more order left open (placed and allocated, not shipped) must stay.
    let open = OrderScript::random("OPEN", 1, 5, &mut rng);
    assert!(applied(
        &engine
            .submit(&tenant(), Submission::new(open.place()).at(at))
            .unwrap()
    ));
    let held = engine.query(&tenant(), |state: &State| {
        let mut ids: Vec<String> = state.sales_orders.keys().map(|id| id.to_string()).collect();
        ids.sort();
        ids
    });
    assert_eq!(held.unwrap(), vec!["OPEN-1".to_string()]);

    // A credit note for 1.00 on the first closed order reloads it from its stream.
    let credit = IssueCreditNote {
        order: scripts[0].order.clone(),
        credit_note: "CN-1".parse().unwrap(),
        amount: Money::new(100, usd()),
        reason: "goodwill".parse().unwrap(),
    };
    let answer = engine
        .submit(&tenant(), Submission::new(Command::IssueCreditNote(credit)))
        .unwrap();
    assert!(applied(&answer), "{answer:?}");
    // Its id is still taken, although the order left memory again.
    let reuse = engine
        .submit(&tenant(), Submission::new(scripts[1].place()))
        .unwrap();
    assert!(
        matches!(&reuse.outcome, Outcome::Rejected { code, .. } if code == "already_exists"),
        "{reuse:?}"
    );
    drop(engine);

    // After a restart only open work is in memory: the open order, and the credited order,
    // which is paid 1.00 more than its invoices now say and so waits for a refund.
    let reopened = Engine::open(sqlite(&path), options()).unwrap();
    let held = reopened.query(&tenant(), |state: &State| {
        let mut ids: Vec<String> = state.sales_orders.keys().map(|id| id.to_string()).collect();
        ids.sort();
        ids
    });
    assert_eq!(
        held.unwrap(),
        vec!["OPEN-1".to_string(), scripts[0].order.to_string()]
    );
    drop(reopened);
    check_is_clean(&path);
}

/// A tenant whose business runs ahead of the clock (a simulated year served on a real clock):
/// closed orders delivered long before its latest business time leave memory, as the writer
/// runs and when it rebuilds from the log, although the clock is earlier than every one of them.
///
/// The clock reads 2025-01-01 and the tenant accepts business times up to a year ahead. Ten
/// orders are delivered on 2025-01-10, then an item is defined on 2025-03-15. The horizon is the
/// later of the clock and the latest business time (2025-03-15) less one day (no return policy),
/// so the ten closed orders are past it and only the open one stays; a horizon from the clock
/// alone (2024-12-31) would keep all eleven.
#[test]
fn closed_orders_leave_memory_by_business_time_when_the_clock_is_behind_it() {
    use flowline_core::master::BusinessTimeWindow;
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ahead.db");
    let options = || EngineOptions {
        clock: Arc::new(FixedClock("2025-01-01T00:00:00Z".parse().unwrap())),
        eviction_interval_batches: 1,
        ..EngineOptions::default()
    };
    let at: jiff::Timestamp = "2025-01-10T12:00:00Z".parse().unwrap();
    let engine = Engine::open(sqlite(&path), options()).unwrap();
    let mut commands = workload::setup(5, 100);
    if let Command::ConfigureTenant(settings) = &mut commands[0] {
        settings.business_time = Some(BusinessTimeWindow {
            future_skew_hours: BusinessTimeWindow::FUTURE_SKEW_HOURS_MAX,
            ..BusinessTimeWindow::default()
        });
    }
    let mut rng = Lcg::new(11);
    for number in 0..10 {
        let script = OrderScript::random("SO", number, 5, &mut rng);
        commands.push(script.place());
        commands.extend(script.fulfil(&LocationId::parse("FC-CENTRAL").unwrap()));
    }
    commands.push(OrderScript::random("OPEN", 1, 5, &mut rng).place());
    let late = workload::setup(6, 100)
        .into_iter()
        .find(
            |command| matches!(command, Command::DefineItem(item) if item.sku == workload::sku(5)),
        )
        .unwrap();
    let late_at: jiff::Timestamp = "2025-03-15T00:00:00Z".parse().unwrap();
    // The configuration at the clock's time: until it is applied, a day ahead is the most.
    let configured_at: jiff::Timestamp = "2025-01-01T00:00:00Z".parse().unwrap();
    let timed = commands
        .into_iter()
        .enumerate()
        .map(|(index, command)| (command, if index == 0 { configured_at } else { at }))
        .chain([(late, late_at)]);
    for (command, at) in timed {
        let answer = engine
            .submit(&tenant(), Submission::new(command).at(at))
            .unwrap();
        assert!(applied(&answer), "{answer:?}");
    }
    let held = |engine: &Engine| {
        let mut ids: Vec<String> = engine
            .query(&tenant(), |state: &State| {
                state.sales_orders.keys().map(|id| id.to_string()).collect()
            })
            .unwrap();
        ids.sort();
        ids
    };
    assert_eq!(held(&engine), vec!["OPEN-1".to_string()]);
    drop(engine);

    // Rebuilt from the log (its snapshot set aside), the state comes to the same.
    std::fs::remove_dir_all(flowline_store_sqlite::snapshot_directory(&path)).unwrap();
    let reopened = Engine::open(sqlite(&path), options()).unwrap();
    assert_eq!(held(&reopened), vec!["OPEN-1".to_string()]);
    drop(reopened);
    check_is_clean(&path);
}

#[test]
fn an_atomic_submission_is_recorded_whole_or_not_at_all_and_once_under_its_key() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("atomic.db");
    let engine = Engine::open(sqlite(&path), EngineOptions::default()).unwrap();
    race_setup(&engine);
    let head = || {
        SqliteStore::open_read_only(&path)
            .unwrap()
            .tenant_head(&tenant())
            .unwrap()
    };
    let before = head();
    let reserved_before = engine.query(&tenant(), reserved_of_a).unwrap();

    // Three orders of 40 A each: the first two fit in the 100 units, the third does not, so the
    // whole submission is refused at index 2 and nothing of the first two remains.
    let orders = |suffix: &str| -> Vec<Submission> {
        (0..3)
            .map(|n| {
                let id = format!("IMP-{suffix}-{n}");
                Submission::new(order(
                    &id,
                    workload::sku(0).as_str(),
                    40,
                    ShortagePolicy::Reject,
                ))
            })
            .collect()
    };
    let refused = engine
        .submit_atomically(&tenant(), orders("X"), Some("import-x".into()))
        .unwrap();
    match refused.outcome {
        AtomicOutcome::Rejected { index, code, .. } => {
            assert_eq!((index, code.as_str()), (2, "insufficient_stock"));
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(head(), before);
    assert_eq!(
        engine.query(&tenant(), reserved_of_a).unwrap(),
        reserved_before
    );
    // The refused order ids are free: nothing of them was kept in memory either.
    assert!(
        engine
            .query(&tenant(), |state| state.sales_orders.is_empty())
            .unwrap()
    );

    // Two orders of 40: both fit; 2 commands × (placed + allocated) = 4 events in one append.
    let two: Vec<Submission> = orders("Y").into_iter().take(2).collect();
    let applied = engine
        .submit_atomically(&tenant(), two.clone(), Some("import-y".into()))
        .unwrap();
    assert_eq!(
        applied.outcome,
        AtomicOutcome::Applied {
            commands: 2,
            events: 4,
            first_seq: before + 1
        }
    );
    assert!(!applied.replayed);
    assert_eq!(head(), before + 4);
    // The same submissions under the same key: the first outcome again, nothing appended.
    let again = engine
        .submit_atomically(&tenant(), two, Some("import-y".into()))
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.outcome, applied.outcome);
    assert_eq!(head(), before + 4);
    // The key with other submissions is refused.
    assert!(matches!(
        engine.submit_atomically(&tenant(), orders("Z"), Some("import-y".into())),
        Err(EngineError::IdempotencyKeyReused { .. })
    ));
    drop(engine);
    check_is_clean(&path);
}

/// A log in memory whose handles, once the gate is shut, wait at opening until it opens again:
/// a writer starting behind it stands for one replaying a long log.
#[derive(Debug)]
struct Gated {
    log: SharedBackend,
    shut: std::sync::Mutex<bool>,
    changed: std::sync::Condvar,
    /// Told each time an opening waits at the shut gate.
    waiting: std::sync::Mutex<std::sync::mpsc::Sender<()>>,
}

impl Gated {
    fn set(&self, shut: bool) {
        *self.shut.lock().unwrap() = shut;
        self.changed.notify_all();
    }
}

impl flowline_store::Backend for Gated {
    fn open(&self) -> Result<Box<dyn flowline_store::Store>, flowline_store::StoreError> {
        let mut shut = self.shut.lock().unwrap();
        if *shut {
            let _ = self.waiting.lock().unwrap().send(());
        }
        while *shut {
            shut = self.changed.wait(shut).unwrap();
        }
        self.log.open()
    }

    fn open_reader(&self) -> Result<Box<dyn flowline_store::Store>, flowline_store::StoreError> {
        self.log.open_reader()
    }

    fn describe(&self) -> String {
        "gated memory".to_string()
    }
}

#[test]
fn a_writer_starting_holds_up_no_other_tenant_and_non_blocking_sends_wait_for_none() {
    let (waiting, waited) = std::sync::mpsc::channel();
    let gated = Arc::new(Gated {
        log: flowline_store_memory::MemoryBackend::shared(),
        shut: std::sync::Mutex::new(false),
        changed: std::sync::Condvar::new(),
        waiting: std::sync::Mutex::new(waiting),
    });
    let backend: SharedBackend = gated.clone();
    let engine = Arc::new(Engine::open(backend, EngineOptions::default()).unwrap());
    let acme = tenant();
    let globex = TenantId::parse("globex").unwrap();
    let setup = workload::setup(1, 0);

    // No writer runs for acme yet: the non-blocking send gives the command back untouched.
    let first = Submission::new(setup[0].clone());
    let given_back = engine.send_if_running(&acme, first.clone()).unwrap();
    assert_eq!(
        format!("{:?}", given_back.err()),
        format!("{:?}", Some(first.clone()))
    );
    // Submitted where it may block, it starts acme's writer and is answered.
    assert!(applied(&engine.submit(&acme, first).unwrap()));

    // globex's writer starts behind the shut gate, as one replaying a long log would.
    gated.set(true);
    let starting = {
        let (engine, globex, command) = (engine.clone(), globex.clone(), setup[0].clone());
        std::thread::spawn(move || engine.submit(&globex, Submission::new(command)))
    };
    waited.recv().unwrap();

    // Meanwhile globex is not running yet, and acme's commands are queued without waiting and
    // answered, awaited by an async task as the server awaits them. Before each tenant's start
    // had a lock of its own, these sends waited for globex's writer to start, and so past the
    // timeout below.
    let (answered, answer) = std::sync::mpsc::channel();
    {
        let (engine, acme, globex) = (engine.clone(), acme.clone(), globex.clone());
        let command = setup[1].clone();
        std::thread::spawn(move || {
            let held = Submission::new(command.clone());
            let given_back = engine.send_if_running(&globex, held.clone()).unwrap();
            assert_eq!(
                format!("{:?}", given_back.err()),
                format!("{:?}", Some(held)),
                "a writer still starting is not running"
            );
            let ticket = engine
                .send_if_running(&acme, Submission::new(command))
                .unwrap()
                .expect("acme's writer is running");
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let _ = answered.send(runtime.block_on(ticket.answer()));
        });
    }
    let answer = answer
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("acme was answered while globex's writer was starting");
    assert!(applied(&answer.unwrap()));

    gated.set(false);
    assert!(applied(&starting.join().unwrap().unwrap()));
}

/// A retry answered from the stored record after a restart gets the document exactly as the
/// first attempt did, byte for byte, not only an equal JSON value.
#[test]
fn a_retry_after_a_restart_gets_the_same_document_text() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("retry.db");
    let submission = Submission::new(order("SO-1", "SKU-00000", 2, ShortagePolicy::Reject))
        .key("k")
        .rendering();
    let first = {
        let engine = Engine::open(sqlite(&path), EngineOptions::default()).unwrap();
        race_setup(&engine);
        engine.submit(&tenant(), submission.clone()).unwrap()
    };
    let Outcome::Applied {
        document: Some(document),
        ..
    } = &first.outcome
    else {
        panic!("the order was not applied with its document: {first:?}");
    };
    let shown = document.to_value();
    assert_eq!(
        (shown["object"].as_str(), shown["id"].as_str()),
        (Some("sales_order"), Some("SO-1"))
    );
    let engine = Engine::open(sqlite(&path), EngineOptions::default()).unwrap();
    let retry = engine.submit(&tenant(), submission).unwrap();
    assert!(retry.replayed);
    assert_eq!(retry.outcome, first.outcome);
}
