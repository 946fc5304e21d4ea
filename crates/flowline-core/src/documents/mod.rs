//! Business documents with explicit life cycles. Each module holds one document's commands,
//! events, state, `decide` functions and `apply`.

pub mod finance;
pub mod forecast;
pub mod improvement;
pub mod inventory;
pub mod promotion;
pub mod purchase_order;
pub mod replenishment;
pub mod return_auth;
pub mod sales_order;
pub mod transfer;
pub mod work_order;

/// Fixtures and helpers shared by the documents' tests: a configured tenant, and `run`, which
/// decides a command and applies its events the way the engine does.
#[cfg(test)]
pub(crate) mod testkit {
    use crate::error::DomainError;
    use crate::id::LocationId;
    use crate::ledger::{Account, Balance};
    use crate::master::{
        Address, Bom, BomComponent, BomKind, CarrierService, Condition, TimeZoneName, TransportMode,
    };
    use crate::money::{Currency, Money};
    use crate::state::{self, Command, Context, Event, State};
    use jiff::Timestamp;

    pub(crate) fn usd_currency() -> Currency {
        Currency::parse("USD").unwrap()
    }

    pub(crate) fn usd(amount_minor: i64) -> Money {
        Money::new(amount_minor, usd_currency())
    }

    pub(crate) fn id<T: std::str::FromStr>(value: &str) -> T
    where
        T::Err: std::fmt::Debug,
    {
        value.parse().unwrap()
    }

    pub(crate) fn ts(at: &str) -> Timestamp {
        at.parse().unwrap()
    }

    /// Decides `command` at `at` and applies the events. Checks on the way that every event's
    /// journal balances and that it survives the JSON round trip under its type name.
    pub(crate) fn run(
        state: &mut State,
        command: Command,
        at: &str,
    ) -> Result<Vec<Event>, DomainError> {
        let events = state::decide(state, &command, &Context { at: ts(at) })?;
        for event in &events {
            assert_eq!(crate::invariants::check_event(event), vec![], "{event:?}");
            let decoded =
                Event::from_json(event.type_name(), Event::SCHEMA_VERSION, &event.to_json());
            assert_eq!(decoded.as_ref(), Ok(event));
            state::apply(state, event);
        }
        assert_consistent(state);
        Ok(events)
    }

    /// Runs a command that must succeed.
    pub(crate) fn ok(state: &mut State, command: Command, at: &str) -> Vec<Event> {
        match run(state, command, at) {
            Ok(events) => events,
            Err(error) => panic!("rejected: {error}"),
        }
    }

    /// Runs a command that must be rejected; checks the ledgers did not change.
    pub(crate) fn rejected(state: &mut State, command: Command, at: &str) -> DomainError {
        let before = snapshot(state);
        let error = match run(state, command, at) {
            Ok(events) => panic!("accepted: {events:?}"),
            Err(error) => error,
        };
        assert_eq!(
            snapshot(state),
            before,
            "a rejected command changed the ledgers"
        );
        error
    }

    fn snapshot(state: &State) -> String {
        let mut stock: Vec<String> = state.stock.iter().map(|e| format!("{e:?}")).collect();
        stock.sort();
        let mut money: Vec<String> = state.money.iter().map(|e| format!("{e:?}")).collect();
        money.sort();
        format!("{stock:?}{money:?}")
    }

    /// The ledger invariants of [`crate::invariants`] hold for the whole state.
    pub(crate) fn assert_consistent(state: &State) {
        assert_eq!(crate::invariants::check_state(state), vec![]);
    }

    pub(crate) fn money(state: &State, account: Account) -> i64 {
        state.money.balance(account, usd_currency())
    }

    pub(crate) fn balance(state: &State, sku: &str, location: &str) -> Balance {
        state.stock.balance(&id(sku), &id::<LocationId>(location))
    }

    pub(crate) fn address() -> Address {
        Address {
            recipient: None,
            lines: vec!["1 Dock Road".into()],
            city: "Newark".into(),
            region: "NJ".into(),
            postal_code: "07102".into(),
            country: "US".into(),
            time_zone: TimeZoneName::parse("America/New_York").unwrap(),
            coordinates: None,
        }
    }

    fn item(
        sku: &str,
        unit_cost: i64,
        price: i64,
        bom: Option<(BomKind, &[(&str, i64)])>,
    ) -> Command {
        Command::DefineItem(state::DefineItem {
            sku: id(sku),
            name: sku.into(),
            unit: "each".into(),
            unit_cost: usd(unit_cost),
            price: usd(price),
            weight_g: 300,
            dimensions: None,
            hs_code: None,
            country_of_origin: None,
            category: None,
            bom: bom.map(|(kind, components)| Bom {
                kind,
                components: components
                    .iter()
                    .map(|(sku, quantity)| BomComponent {
                        sku: id(sku),
                        quantity: *quantity,
                    })
                    .collect(),
            }),
        })
    }

    pub(crate) const T0: &str = "2025-03-01T09:00:00Z";

    /// A tenant in USD/UTC with two centers (`FC-EAST`, `FC-WEST`), items `MUG` (4.00),
    /// `LID` (1.50), the kit `GIFT` (2 MUG + 1 LID) and the bundle `DUO` (1 MUG + 2 LID),
    /// supplier `ACME`, carrier `UPS` with service `ground`, and return policy `default`
    /// (30 days; new, like new and used are refundable). No stock.
    pub(crate) fn tenant() -> State {
        let mut state = State::default();
        let commands = vec![
            Command::ConfigureTenant(state::ConfigureTenant {
                business_time: None,
                base_currency: usd_currency(),
                reporting_time_zone: TimeZoneName::parse("UTC").unwrap(),
            }),
            Command::DefineLocation(state::DefineLocation {
                capacity_orders_per_day: None,
                location: id("FC-EAST"),
                name: "East".into(),
                region: "us-east".into(),
                address: address(),
            }),
            Command::DefineLocation(state::DefineLocation {
                capacity_orders_per_day: None,
                location: id("FC-WEST"),
                name: "West".into(),
                region: "us-west".into(),
                address: address(),
            }),
            item("MUG", 400, 1200, None),
            item("LID", 150, 500, None),
            item(
                "GIFT",
                950,
                3000,
                Some((BomKind::Kit, &[("MUG", 2), ("LID", 1)])),
            ),
            item(
                "DUO",
                700,
                2000,
                Some((BomKind::Bundle, &[("MUG", 1), ("LID", 2)])),
            ),
            Command::DefineSupplier(state::DefineSupplier {
                supplier: id("ACME"),
                name: "Acme".into(),
                currency: usd_currency(),
                lead_time_days: 14,
                minimum_order_quantity: 1,
                payment_terms_days: 30,
                country: "US".into(),
            }),
            Command::DefineCarrier(state::DefineCarrier {
                carrier: id("UPS"),
                name: "UPS".into(),
                services: vec![CarrierService {
                    code: id("ground"),
                    mode: TransportMode::Road,
                    transit_days: 3,
                }],
            }),
            Command::SetReturnPolicy(state::SetReturnPolicy {
                policy: id("default"),
                window_days: 30,
                refundable_conditions: vec![Condition::New, Condition::LikeNew, Condition::Used],
            }),
        ];
        for command in commands {
            ok(&mut state, command, T0);
        }
        state
    }

    /// Puts opening stock of `quantity` units worth `unit_cost` each at a center.
    pub(crate) fn stock(
        state: &mut State,
        sku: &str,
        location: &str,
        quantity: i64,
        unit_cost: i64,
    ) {
        let adjustment = format!("OPEN-{}", state.adjustments.len() + 1);
        ok(
            state,
            Command::AdjustStock(super::inventory::AdjustStock {
                adjustment: id(&adjustment),
                location: id(location),
                reason: id(super::inventory::OPENING_BALANCE),
                lines: vec![super::inventory::AdjustLineInput {
                    sku: id(sku),
                    quantity,
                    unit_cost_minor: Some(unit_cost),
                }],
            }),
            T0,
        );
    }
}
