//! Proposals for a batch of requests under a cap on any one supplier's share of the value.

use std::collections::BTreeMap;

use super::{Plan, Proposal, ReplenishError, Request};

/// Relative slack on a supplier's budget, so that sums taken in a different order than the
/// batch total do not push a request that fits exactly over it.
const BUDGET_SLACK: f64 = 1e-12;

/// Proposals for `requests`, in request order, with no supplier given more than
/// `max_supplier_share` (in (0, 1]; 1 = no cap) of the batch's value where the greedy rule of the
/// [module docs](super#a-cap-on-one-suppliers-share) can manage it: requests are taken largest
/// value first, each goes to its best-scored usable offer whose supplier has budget left for it,
/// and, when none has, to the usable offer that leaves its supplier with the least value.
///
/// Each request's own errors are answered in its place and take no part in the cap. The work is
/// one [`propose`](super::propose) per request and, under a cap below 1, one proposal for each
/// further usable offer of each request (at most [`MAX_OFFERS`](super::MAX_OFFERS) per request).
///
/// # Errors
///
/// Each element is the request's [`ReplenishError`], as from [`propose`](super::propose); when
/// `max_supplier_share` is not in (0, 1] (or is NaN) every element is a
/// [`ReplenishError::OutOfRange`] naming `max_supplier_share`.
#[must_use]
pub fn propose_all(
    requests: &[Request],
    max_supplier_share: f64,
) -> Vec<Result<Proposal, ReplenishError>> {
    if !(max_supplier_share > 0.0 && max_supplier_share <= 1.0) {
        return requests
            .iter()
            .map(|_| {
                Err(ReplenishError::OutOfRange {
                    field: "max_supplier_share".into(),
                    value: max_supplier_share,
                    expected: "greater than 0 and at most 1",
                })
            })
            .collect();
    }
    let plans: Vec<Result<Plan<'_>, ReplenishError>> = requests.iter().map(Plan::new).collect();
    let mut proposals: Vec<Result<Proposal, ReplenishError>> = plans
        .iter()
        .map(|plan| match plan {
            Ok(plan) => plan.proposal(plan.best()),
            Err(error) => Err(error.clone()),
        })
        .collect();
    if max_supplier_share >= 1.0 {
        return proposals;
    }

    let values: Vec<Option<f64>> = proposals
        .iter()
        .map(|proposal| proposal.as_ref().ok().map(value))
        .collect();
    let total: f64 = values.iter().flatten().sum();
    let budget = max_supplier_share * total * (1.0 + BUDGET_SLACK);

    let mut order: Vec<usize> = (0..requests.len())
        .filter(|&index| values.get(index).copied().flatten().is_some())
        .collect();
    order.sort_by(|&a, &b| {
        let value_a = values.get(a).copied().flatten().unwrap_or(0.0);
        let value_b = values.get(b).copied().flatten().unwrap_or(0.0);
        value_b.total_cmp(&value_a).then(a.cmp(&b))
    });

    let mut assigned: BTreeMap<String, f64> = BTreeMap::new();
    for index in order {
        let (Some(Ok(plan)), Some(slot)) = (plans.get(index), proposals.get_mut(index)) else {
            continue;
        };
        let Ok(best) = slot.as_ref() else {
            continue;
        };
        // Every usable offer, best first, with the proposal that orders from it. When no offer is
        // usable the best one stays.
        let best_index = plan.best();
        let mut candidates: Vec<Proposal> = Vec::new();
        for &offer in plan.ranking.iter().filter(|&&offer| plan.usable(offer)) {
            if offer == best_index {
                candidates.push(best.clone());
            } else if let Ok(proposal) = plan.proposal(offer) {
                candidates.push(proposal);
            }
        }
        let given = |proposal: &Proposal| {
            assigned.get(&proposal.supplier).copied().unwrap_or(0.0) + value(proposal)
        };
        let fitting = candidates
            .iter()
            .position(|candidate| given(candidate) <= budget);
        // Otherwise the least value assigned after; `min_by` keeps the first (best-scored) of
        // equals.
        let least = || {
            candidates
                .iter()
                .enumerate()
                .min_by(|(_, a), (_, b)| given(a).total_cmp(&given(b)))
                .map(|(position, _)| position)
        };
        let Some(pick) = fitting.or_else(least) else {
            // No usable offer: keep the best, which orders at its own (unusable) terms.
            if let Ok(best) = slot.as_ref() {
                *assigned.entry(best.supplier.clone()).or_insert(0.0) += value(best);
            }
            continue;
        };
        let chosen = candidates.swap_remove(pick);
        *assigned.entry(chosen.supplier.clone()).or_insert(0.0) += value(&chosen);
        *slot = Ok(chosen);
    }
    proposals
}

/// The value of a proposal: its quantity times the chosen offer's unit price.
fn value(proposal: &Proposal) -> f64 {
    let price = proposal
        .alternatives
        .iter()
        .find(|alternative| alternative.chosen)
        .map_or(0.0, |alternative| alternative.unit_price);
    #[allow(
        clippy::cast_precision_loss,
        reason = "quantities are at most 2^53, where the conversion is exact"
    )]
    let quantity = proposal.quantity as f64;
    quantity * price
}
