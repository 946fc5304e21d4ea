//! The history checker (RELIABILITY.md, Part 4): what clients saw, held against the tenant's log.
//!
//! A client records every command it sent as an [`Operation`]: the idempotency key, the stream of
//! the document the command creates, the units of each item it asks for, and every attempt's
//! [`Outcome`]: acknowledged (2xx, with the body), rejected (4xx, with its problem code and
//! body), or unknown (no answer: connection refused or reset, timeout, 5xx). An unknown command
//! is retried under its key until it gets an answer. [`check`] then reads the log
//! ([`LogEvent`]s, in `seq` order) and reports, in a [`Report`]:
//!
//! - **lost**: an acknowledged command none of whose events is in the log;
//! - **duplicated**: a command with more events of a type in its stream than its answer listed
//!   (the same effect recorded twice);
//! - **mismatched**: the log holds something else at a `seq` the answer named, the log's event
//!   disagrees with the document the client was shown (its `placed_at` or `at`), or two answers
//!   under one key differ;
//! - **partial**: a command only some of whose events are in the log, or a gap in the log's
//!   `seq` numbers (a group commit is all or nothing, so neither may happen);
//! - **rejected but present**: a rejected command whose stream has events;
//! - **unjustified rejections**: a refusal the model does not explain. The only refusal this
//!   workload can earn is `insufficient_stock`; it is justified when it asked for the units the
//!   client computed, and the availability it reports is one the log passed through (replaying
//!   the log's moves and reservations in order) and is below what was asked;
//! - **unresolved**: a command whose every attempt was unknown;
//! - **oversold**: a point of the log where the units reserved at a location exceed the units
//!   on hand there.
//!
//! Streams no operation claims (master data written before the run) are counted, not judged.
//! The checker knows nothing of the server's code: it reads the log as the API shows it.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// What one attempt at a command came back with.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A 2xx answer: the command is recorded. `body` lists its events as `{seq, stream, type}`
    /// and the document it produced.
    Acknowledged { status: u16, body: Value },
    /// A 4xx answer with a problem `code`: the command is refused and must have left nothing.
    Rejected {
        status: u16,
        code: String,
        body: Value,
    },
    /// No answer that says what happened: connection refused or reset, timeout, 5xx.
    Unknown { reason: String },
}

/// A command as the client sent it, with every attempt's outcome in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// The idempotency key it was sent (and retried) under.
    pub key: String,
    /// The stream of the document it creates, for example `sales_order/SO-1`: every event the
    /// command records is in this stream, and nothing else writes to it.
    pub stream: String,
    /// Units asked for per item (sales orders); empty for commands that ask for none.
    pub demand: BTreeMap<String, i64>,
    /// The attempts' outcomes, the first attempt first.
    pub attempts: Vec<Outcome>,
}

impl Operation {
    /// The outcome that settles the command: the last attempt that got an answer.
    pub fn settled(&self) -> Option<&Outcome> {
        self.attempts
            .iter()
            .rev()
            .find(|outcome| !matches!(outcome, Outcome::Unknown { .. }))
    }

    /// Whether the first attempt was acknowledged.
    pub fn acknowledged_first(&self) -> bool {
        matches!(self.attempts.first(), Some(Outcome::Acknowledged { .. }))
    }

    /// Whether the first attempt was rejected.
    pub fn rejected_first(&self) -> bool {
        matches!(self.attempts.first(), Some(Outcome::Rejected { .. }))
    }

    /// Whether any attempt's outcome was unknown.
    pub fn had_unknown(&self) -> bool {
        self.attempts
            .iter()
            .any(|outcome| matches!(outcome, Outcome::Unknown { .. }))
    }
}

/// One event of the log as `GET /v1/events` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent {
    pub seq: u64,
    pub stream: String,
    pub event_type: String,
    pub payload: Value,
}

impl LogEvent {
    /// An event from one element of the feed's `data`; `None` if a field is missing.
    pub fn from_feed(event: &Value) -> Option<Self> {
        Some(Self {
            seq: event["seq"].as_u64()?,
            stream: event["stream"].as_str()?.to_string(),
            event_type: event["type"].as_str()?.to_string(),
            payload: event["payload"].clone(),
        })
    }
}

/// What the checker found. Each list holds one line per finding, naming the key and what is
/// wrong.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Report {
    pub operations: usize,
    pub events: usize,
    pub unattributed_events: usize,
    pub lost: Vec<String>,
    pub duplicated: Vec<String>,
    pub mismatched: Vec<String>,
    pub partial: Vec<String>,
    pub rejected_but_present: Vec<String>,
    pub unjustified_rejections: Vec<String>,
    pub unresolved: Vec<String>,
    pub oversold: Vec<String>,
}

impl Report {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.findings().all(|(_, list)| list.is_empty())
    }

    fn findings(&self) -> impl Iterator<Item = (&'static str, &Vec<String>)> {
        [
            ("lost", &self.lost),
            ("duplicated", &self.duplicated),
            ("mismatched", &self.mismatched),
            ("partial", &self.partial),
            ("rejected but present", &self.rejected_but_present),
            ("unjustified rejection", &self.unjustified_rejections),
            ("unresolved", &self.unresolved),
            ("oversold", &self.oversold),
        ]
        .into_iter()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} operation(s) against {} event(s) ({} in streams no operation claims)",
            self.operations, self.events, self.unattributed_events
        )?;
        for (name, list) in self.findings() {
            // The first ten of each kind are enough to start from.
            for finding in list.iter().take(10) {
                writeln!(f, "{name}: {finding}")?;
            }
            if list.len() > 10 {
                writeln!(f, "{name}: ... and {} more", list.len() - 10)?;
            }
        }
        Ok(())
    }
}

/// The events an acknowledged answer lists: `(seq, stream, type)`.
fn listed_events(body: &Value) -> Vec<(u64, String, String)> {
    body["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|event| {
            Some((
                event["seq"].as_u64()?,
                event["stream"].as_str()?.to_string(),
                event["type"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// The fields of a logged payload that must equal the same field of the document the client
/// was shown: the instants the command took effect at, which a second decision of the same
/// command would give a different value.
const SHOWN_FIELDS: [&str; 2] = ["placed_at", "at"];

/// Availability levels, on hand and reserved per `(item, location)`, replayed from the log.
#[derive(Default)]
struct Ledger {
    on_hand: BTreeMap<(String, String), i64>,
    reserved: BTreeMap<(String, String), i64>,
    /// Every availability (on hand − reserved) each `(item, location)` passed through,
    /// starting with 0 before its first event.
    levels: BTreeMap<(String, String), BTreeSet<i64>>,
}

impl Ledger {
    fn replay(log: &[&LogEvent], oversold: &mut Vec<String>) -> Self {
        let mut ledger = Self::default();
        for event in log {
            let effects = &event.payload["effects"];
            let mut touched = BTreeSet::new();
            for movement in effects["moves"].as_array().into_iter().flatten() {
                let (Some(sku), Some(quantity)) =
                    (movement["sku"].as_str(), movement["quantity"].as_i64())
                else {
                    continue;
                };
                for (end, sign) in [("from", -1), ("to", 1)] {
                    if let Some(location) = movement[end].as_str() {
                        let at = (sku.to_string(), location.to_string());
                        *ledger.on_hand.entry(at.clone()).or_default() += sign * quantity;
                        touched.insert(at);
                    }
                }
            }
            for change in effects["reservations"].as_array().into_iter().flatten() {
                let (Some(sku), Some(location), Some(quantity)) = (
                    change["sku"].as_str(),
                    change["location"].as_str(),
                    change["quantity"].as_i64(),
                ) else {
                    continue;
                };
                let at = (sku.to_string(), location.to_string());
                *ledger.reserved.entry(at.clone()).or_default() += quantity;
                touched.insert(at);
            }
            for at in touched {
                let on_hand = ledger.on_hand.get(&at).copied().unwrap_or(0);
                let reserved = ledger.reserved.get(&at).copied().unwrap_or(0);
                if reserved > 0 && reserved > on_hand {
                    oversold.push(format!(
                        "seq {}: {} at {}: {reserved} reserved of {on_hand} on hand",
                        event.seq, at.0, at.1
                    ));
                }
                let levels = ledger
                    .levels
                    .entry(at)
                    .or_insert_with(|| BTreeSet::from([0]));
                levels.insert(on_hand - reserved);
            }
        }
        ledger
    }

    /// Why an `insufficient_stock` refusal is not explained by the log, if it is not.
    fn unexplained(&self, operation: &Operation, body: &Value) -> Option<String> {
        let details = &body["details"];
        let (Some(sku), Some(location), Some(requested), Some(available)) = (
            details["sku"].as_str(),
            details["location"].as_str(),
            details["requested"].as_i64(),
            details["available"].as_i64(),
        ) else {
            return Some(format!(
                "details lack sku, location, requested or available: {body}"
            ));
        };
        let asked = operation.demand.get(sku).copied().unwrap_or(0);
        if requested != asked {
            return Some(format!(
                "it reports {requested} {sku} asked for, the client asked {asked}"
            ));
        }
        if available >= requested {
            return Some(format!(
                "{available} {sku} available covers the {requested} asked"
            ));
        }
        let at = (sku.to_string(), location.to_string());
        let passed = self
            .levels
            .get(&at)
            .is_some_and(|levels| levels.contains(&available))
            || available == 0;
        if !passed {
            return Some(format!(
                "{sku} at {location} never stood at {available} available in the log"
            ));
        }
        None
    }
}

/// Holds `history` against `log` (every event of the tenant, in any order) and reports what is
/// wrong.
pub fn check(history: &[Operation], log: &[LogEvent]) -> Report {
    let mut report = Report {
        operations: history.len(),
        events: log.len(),
        ..Report::default()
    };
    let mut log: Vec<&LogEvent> = log.iter().collect();
    log.sort_by_key(|event| event.seq);
    // Sequence numbers run 1, 2, 3, … without gaps or repeats: a torn batch would leave a hole.
    for (index, event) in log.iter().enumerate() {
        let expected = index as u64 + 1;
        if event.seq != expected {
            report.partial.push(format!(
                "the log has seq {} where {expected} belongs",
                event.seq
            ));
            break;
        }
    }
    let by_seq: BTreeMap<u64, &LogEvent> = log.iter().map(|event| (event.seq, *event)).collect();
    let mut by_stream: BTreeMap<&str, Vec<&LogEvent>> = BTreeMap::new();
    for event in &log {
        by_stream
            .entry(event.stream.as_str())
            .or_default()
            .push(event);
    }
    let ledger = Ledger::replay(&log, &mut report.oversold);

    let claimed: BTreeSet<&str> = history.iter().map(|op| op.stream.as_str()).collect();
    report.unattributed_events = log
        .iter()
        .filter(|event| !claimed.contains(event.stream.as_str()))
        .count();

    for operation in history {
        let key = &operation.key;
        let in_log = by_stream
            .get(operation.stream.as_str())
            .cloned()
            .unwrap_or_default();
        // Every answer under one key is the same answer.
        let answers: Vec<&Outcome> = operation
            .attempts
            .iter()
            .filter(|outcome| !matches!(outcome, Outcome::Unknown { .. }))
            .collect();
        if let Some(first) = answers.first()
            && answers.iter().any(|answer| answer != first)
        {
            report
                .mismatched
                .push(format!("{key}: two attempts got different answers"));
        }
        match operation.settled() {
            None => report.unresolved.push(format!(
                "{key}: {} attempt(s), none answered",
                operation.attempts.len()
            )),
            Some(Outcome::Unknown { .. }) => {}
            Some(Outcome::Rejected { code, body, .. }) => {
                if !in_log.is_empty() {
                    report.rejected_but_present.push(format!(
                        "{key}: refused with {code} but {} has {} event(s)",
                        operation.stream,
                        in_log.len()
                    ));
                }
                let unexplained = if code == "insufficient_stock" {
                    ledger.unexplained(operation, body)
                } else {
                    Some(format!("the workload cannot earn {code}: {body}"))
                };
                if let Some(why) = unexplained {
                    report.unjustified_rejections.push(format!("{key}: {why}"));
                }
            }
            Some(Outcome::Acknowledged { body, .. }) => {
                let listed = listed_events(body);
                if listed.is_empty() {
                    report
                        .mismatched
                        .push(format!("{key}: acknowledged with no events listed: {body}"));
                    continue;
                }
                let mut present = 0;
                for (seq, stream, event_type) in &listed {
                    match by_seq.get(seq) {
                        Some(event) if &event.stream == stream && &event.event_type == event_type => {
                            present += 1;
                            for field in SHOWN_FIELDS {
                                let shown = &body["document"][field];
                                let logged = &event.payload[field];
                                if !shown.is_null() && !logged.is_null() && shown != logged {
                                    report.mismatched.push(format!(
                                        "{key}: seq {seq} has {field} {logged}, the client was shown {shown}"
                                    ));
                                }
                            }
                        }
                        Some(event) => report.mismatched.push(format!(
                            "{key}: seq {seq} should be {event_type} in {stream}, the log has {} in {}",
                            event.event_type, event.stream
                        )),
                        None => {}
                    }
                }
                if present == 0 {
                    report.lost.push(format!(
                        "{key}: acknowledged {} event(s), none is in the log",
                        listed.len()
                    ));
                } else if present < listed.len() {
                    report.partial.push(format!(
                        "{key}: {present} of the {} acknowledged event(s) are in the log",
                        listed.len()
                    ));
                }
                // More events of a type in the stream than the answer listed: recorded twice.
                let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
                for (_, _, event_type) in &listed {
                    counts.entry(event_type.as_str()).or_default().0 += 1;
                }
                for event in &in_log {
                    counts.entry(event.event_type.as_str()).or_default().1 += 1;
                }
                for (event_type, (answered, logged)) in counts {
                    if logged > answered {
                        report.duplicated.push(format!(
                            "{key}: {} holds {logged} {event_type} event(s), the answer listed {answered}",
                            operation.stream
                        ));
                    }
                }
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    //! Hand-made histories, each with one thing wrong, and one with nothing wrong: the checker
    //! must name exactly the fault put in.

    use super::*;
    use serde_json::json;

    const PLACED_AT: &str = "2026-12-06T03:00:00.000000001Z";

    fn event(seq: u64, stream: &str, event_type: &str, payload: Value) -> LogEvent {
        LogEvent {
            seq,
            stream: stream.to_string(),
            event_type: event_type.to_string(),
            payload,
        }
    }

    /// Seq 1: 10 MUG found at FC-1 (adjustment ADJ-1). Seqs 2–3: order SO-1 placed and 3 MUG
    /// reserved, so MUG at FC-1 stands at 10 then 7 available.
    fn log() -> Vec<LogEvent> {
        vec![
            event(
                1,
                "adjustment/ADJ-1",
                "StockAdjusted",
                json!({ "at": "2026-12-06T02:59:00Z", "effects": { "moves": [
                    { "from": "adjustment", "to": "FC-1", "sku": "MUG", "quantity": 10 } ] } }),
            ),
            event(
                2,
                "sales_order/SO-1",
                "SalesOrderPlaced",
                json!({ "placed_at": PLACED_AT }),
            ),
            event(
                3,
                "sales_order/SO-1",
                "SalesOrderAllocated",
                json!({ "effects": { "reservations": [
                    { "sku": "MUG", "location": "FC-1", "quantity": 3 } ] } }),
            ),
        ]
    }

    fn acknowledged(events: &[(u64, &str, &str)], document: Value) -> Outcome {
        let events: Vec<Value> = events
            .iter()
            .map(|(seq, stream, event_type)| json!({ "seq": seq, "stream": stream, "type": event_type }))
            .collect();
        Outcome::Acknowledged {
            status: 201,
            body: json!({ "document": document, "events": events }),
        }
    }

    fn adjustment() -> Operation {
        Operation {
            key: "k-adj-1".to_string(),
            stream: "adjustment/ADJ-1".to_string(),
            demand: BTreeMap::new(),
            attempts: vec![acknowledged(
                &[(1, "adjustment/ADJ-1", "StockAdjusted")],
                json!({ "at": "2026-12-06T02:59:00Z" }),
            )],
        }
    }

    fn order(attempts: Vec<Outcome>) -> Operation {
        Operation {
            key: "k-so-1".to_string(),
            stream: "sales_order/SO-1".to_string(),
            demand: BTreeMap::from([("MUG".to_string(), 3)]),
            attempts,
        }
    }

    fn order_acknowledged() -> Outcome {
        acknowledged(
            &[
                (2, "sales_order/SO-1", "SalesOrderPlaced"),
                (3, "sales_order/SO-1", "SalesOrderAllocated"),
            ],
            json!({ "placed_at": PLACED_AT }),
        )
    }

    /// SO-2 asked for 8 MUG and was refused when 7 were available (10 found − 3 for SO-1).
    fn refusal(available: i64) -> Outcome {
        Outcome::Rejected {
            status: 409,
            code: "insufficient_stock".to_string(),
            body: json!({ "code": "insufficient_stock", "details": {
                "sku": "MUG", "location": "FC-1", "requested": 8, "available": available } }),
        }
    }

    fn refused_order(available: i64) -> Operation {
        Operation {
            key: "k-so-2".to_string(),
            stream: "sales_order/SO-2".to_string(),
            demand: BTreeMap::from([("MUG".to_string(), 8)]),
            attempts: vec![refusal(available)],
        }
    }

    fn unknown() -> Outcome {
        Outcome::Unknown {
            reason: "connection reset".to_string(),
        }
    }

    #[test]
    fn a_history_the_log_explains_is_clean() {
        // The adjustment and SO-1 acknowledged and present once each; SO-1's first attempt is
        // unknown and its retry replays the same answer; SO-2 refused at 7 available, a level
        // the log passed through (10 − 3).
        let history = vec![
            adjustment(),
            order(vec![unknown(), order_acknowledged()]),
            refused_order(7),
        ];
        let report = check(&history, &log());
        assert!(report.is_clean(), "{report}");
        assert_eq!((report.operations, report.events), (3, 3));
    }

    #[test]
    fn an_acknowledged_order_missing_from_the_log_is_reported_lost() {
        // The log lost SO-1 (seqs 2 and 3); the adjustment alone remains.
        let history = vec![adjustment(), order(vec![order_acknowledged()])];
        let log = vec![log().remove(0)];
        let report = check(&history, &log);
        assert_eq!(report.lost.len(), 1, "{report}");
        assert!(report.lost[0].starts_with("k-so-1:"), "{report}");
        assert!(report.duplicated.is_empty() && report.partial.is_empty());
    }

    #[test]
    fn an_order_recorded_twice_is_reported_duplicated() {
        // A second SalesOrderPlaced of SO-1 at seq 4, as a retry applied anew would leave.
        let mut log = log();
        log.push(event(
            4,
            "sales_order/SO-1",
            "SalesOrderPlaced",
            json!({ "placed_at": "2026-12-06T03:00:01Z" }),
        ));
        let history = vec![adjustment(), order(vec![order_acknowledged()])];
        let report = check(&history, &log);
        assert_eq!(report.duplicated.len(), 1, "{report}");
        assert!(
            report.duplicated[0].contains("2 SalesOrderPlaced event(s), the answer listed 1"),
            "{report}"
        );
        assert!(report.lost.is_empty() && report.mismatched.is_empty());
    }

    #[test]
    fn an_answer_that_differs_from_the_log_is_reported_mismatched() {
        // The client was shown SO-1 placed one second later than the log records: the log holds
        // another decision of the command than the one acknowledged.
        let shown = acknowledged(
            &[
                (2, "sales_order/SO-1", "SalesOrderPlaced"),
                (3, "sales_order/SO-1", "SalesOrderAllocated"),
            ],
            json!({ "placed_at": "2026-12-06T03:00:01Z" }),
        );
        let report = check(&[adjustment(), order(vec![shown])], &log());
        assert_eq!(report.mismatched.len(), 1, "{report}");
        assert!(report.mismatched[0].contains("placed_at"), "{report}");
        // An answer naming a seq the log gives to another stream.
        let wrong_seq = acknowledged(
            &[
                (1, "sales_order/SO-1", "SalesOrderPlaced"),
                (3, "sales_order/SO-1", "SalesOrderAllocated"),
            ],
            json!({}),
        );
        let report = check(&[adjustment(), order(vec![wrong_seq])], &log());
        assert!(
            report.mismatched.iter().any(|line| line.contains("seq 1")),
            "{report}"
        );
        // Two answers under one key that differ.
        let report = check(
            &[adjustment(), order(vec![order_acknowledged(), refusal(7)])],
            &log(),
        );
        assert!(
            report
                .mismatched
                .iter()
                .any(|line| line.contains("different answers")),
            "{report}"
        );
    }

    #[test]
    fn a_command_with_only_some_of_its_events_is_reported_partial() {
        // SO-1's allocation (seq 3) is missing though its placement (seq 2) is there.
        let mut log = log();
        log.pop();
        let report = check(&[adjustment(), order(vec![order_acknowledged()])], &log);
        assert_eq!(report.partial.len(), 1, "{report}");
        assert!(report.partial[0].contains("1 of the 2"), "{report}");
        assert!(report.lost.is_empty());
        // A hole in the seq numbers: seq 2 gone, 1 and 3 kept.
        let mut log = self::log();
        log.remove(1);
        let report = check(&[adjustment()], &log);
        assert!(
            report
                .partial
                .iter()
                .any(|line| line.contains("seq 3 where 2 belongs")),
            "{report}"
        );
    }

    #[test]
    fn a_refused_order_whose_stream_has_events_is_reported() {
        // SO-1 answered 409 but its events are in the log.
        let refused = Operation {
            attempts: vec![refusal(2)],
            ..order(Vec::new())
        };
        let report = check(&[adjustment(), refused], &log());
        assert_eq!(report.rejected_but_present.len(), 1, "{report}");
    }

    #[test]
    fn a_refusal_the_log_does_not_explain_is_reported() {
        // MUG at FC-1 stood at 0, 10 and 7 available; a refusal claiming 5 did not happen at
        // any point of the log.
        let history = vec![
            adjustment(),
            order(vec![order_acknowledged()]),
            refused_order(5),
        ];
        let report = check(&history, &log());
        assert_eq!(report.unjustified_rejections.len(), 1, "{report}");
        assert!(
            report.unjustified_rejections[0].contains("never stood at 5"),
            "{report}"
        );
        // A refusal with 9 available for a request of 8 refused what fitted.
        let report = check(&[adjustment(), refused_order(9)], &log());
        assert_eq!(report.unjustified_rejections.len(), 1, "{report}");
        // A code this workload cannot earn.
        let mut other = refused_order(7);
        other.attempts = vec![Outcome::Rejected {
            status: 409,
            code: "already_exists".to_string(),
            body: json!({ "code": "already_exists" }),
        }];
        let report = check(&[adjustment(), other], &log());
        assert_eq!(report.unjustified_rejections.len(), 1, "{report}");
    }

    #[test]
    fn an_order_never_answered_is_reported_unresolved() {
        let history = vec![order(vec![unknown(), unknown()])];
        let report = check(&history, &[]);
        assert_eq!(report.unresolved.len(), 1, "{report}");
    }

    #[test]
    fn reservations_beyond_the_stock_on_hand_are_reported_oversold() {
        // 10 MUG found, then 3 and 8 reserved: 11 reserved of 10 on hand at seq 4.
        let mut log = log();
        log.push(event(
            4,
            "sales_order/SO-2",
            "SalesOrderAllocated",
            json!({ "effects": { "reservations": [
                { "sku": "MUG", "location": "FC-1", "quantity": 8 } ] } }),
        ));
        let report = check(&[], &log);
        assert_eq!(
            report.oversold,
            vec!["seq 4: MUG at FC-1: 11 reserved of 10 on hand".to_string()],
            "{report}"
        );
    }
}
