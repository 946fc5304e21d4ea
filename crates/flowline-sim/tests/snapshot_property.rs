//! Property: for random histories (simulated runs of random seeds and lengths) and a snapshot
//! taken at a random event, every projection restored from that snapshot by the engine's
//! runner and fed the rest of the log equals, byte for byte, the projection folded from
//! nothing. The projections are the writer's state and the scorecard fold; the snapshot goes
//! through the store, the envelope and every check start-up makes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic in a test is a failing test

use flowline_core::Event;
use flowline_core::id::TenantId;
use flowline_core::projection::Projection;
use flowline_core::state::MasterEvent;
use flowline_engine::WriterState;
use flowline_engine::projections::{self, Origin, Tracked};
use flowline_metrics::fold::{Fold, FoldSettings};
use flowline_sim::scenario::Scenario;
use flowline_sim::{Options, run};
use flowline_store::Store;
use flowline_store_memory::MemoryBackend;
use proptest::prelude::*;

fn tenant() -> TenantId {
    TenantId::parse("demo").unwrap()
}

/// The fold's settings as the server makes them from the tenant's configuration.
fn settings(store: &dyn Store) -> FoldSettings {
    let stored = store.read_stream(&tenant(), "tenant/settings").unwrap();
    let configured = stored.iter().find_map(|stored| {
        match Event::from_json(&stored.event_type, stored.schema_version, &stored.payload) {
            Ok(Event::Master(MasterEvent::TenantConfigured { settings })) => Some(settings),
            _ => None,
        }
    });
    FoldSettings::of_tenant(&configured.expect("the log configures the tenant"))
}

/// Folds the log up to `cut` from nothing, saves it as a snapshot at `cut`, restores it through
/// the runner and folds the rest; returns that encoding with the encoding of a fold of the
/// whole log from nothing.
fn restored_and_whole<P: Projection>(
    store: &dyn Store,
    cut: u64,
    fresh: impl Fn() -> P,
) -> (Vec<u8>, Vec<u8>) {
    let mut taken = Tracked {
        projection: fresh(),
        head: 0,
    };
    // Up to the cut only: a page size that ends exactly there, then stop.
    while taken.head < cut {
        let page = store
            .read_tenant(
                &tenant(),
                taken.head,
                usize::try_from(cut - taken.head).unwrap().min(10_000),
            )
            .unwrap();
        for stored in &page {
            let event = projections::decode(&tenant(), stored).unwrap();
            taken
                .projection
                .apply(projections::position_of(stored), &event);
            taken.head = stored.seq;
        }
    }
    projections::save(store, &tenant(), &taken.projection, cut).unwrap();
    let (mut restored, origin) =
        projections::restore(store, &tenant(), &fresh, |_| Ok(())).unwrap();
    assert_eq!(origin, Origin::Snapshot { head: cut }, "{}", P::NAME);
    projections::catch_up(store, &tenant(), &mut restored, &|| false, &mut |_| {}).unwrap();
    let mut whole = Tracked {
        projection: fresh(),
        head: 0,
    };
    projections::catch_up(store, &tenant(), &mut whole, &|| false, &mut |_| {}).unwrap();
    assert_eq!(restored.head, whole.head);
    (
        restored.projection.encode().unwrap(),
        whole.projection.encode().unwrap(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn every_projection_restored_at_a_random_event_and_fed_the_rest_equals_a_fold_from_nothing(
        seed in 0_u64..1_000_000,
        days in 3_u32..12,
        orders_per_day in 10.0_f64..40.0,
        cut_per_mille in 1_u64..1_000,
    ) {
        let scenario = Scenario::default_brand().scaled(orders_per_day);
        let backend = MemoryBackend::shared();
        let options = Options { seed, days, tenant: tenant() };
        let summary = run(&scenario, &backend, &options, &mut |_| {}).unwrap();
        prop_assert!(summary.refused.is_empty(), "{:?}", summary.refusal_samples);
        let store = backend.open().unwrap();
        let head = store.tenant_head(&tenant()).unwrap();
        let cut = (head * cut_per_mille / 1_000).max(1);

        let (restored, whole) = restored_and_whole(store.as_ref(), cut, WriterState::default);
        prop_assert!(restored == whole, "the writer's state cut at {cut} of {head} differs");
        let settings = settings(store.as_ref());
        let (restored, whole) =
            restored_and_whole(store.as_ref(), cut, || Fold::new(settings.clone()));
        prop_assert!(restored == whole, "the scorecard fold cut at {cut} of {head} differs");
    }
}
