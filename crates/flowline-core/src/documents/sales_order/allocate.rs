//! Allocation: exploding bundles into stocked components, reserving stock at fulfillment
//! centers (explicitly or automatically, with a shortage policy), and releasing reservations
//! on deallocation, cancellation and amendment.

use super::decide::{line, open_order, workable_order};
use super::*;
use crate::effects::EffectsBuilder;
use crate::error::{DomainError, add, positive};
use crate::id::{LocationId, Sku};
use crate::master::{BomKind, Item};
use crate::state::{Context, State};
use rustc_hash::FxHashMap;

/// Stocked items needed per unit of `sku`: the item itself, or a bundle's components,
/// exploded recursively and merged.
pub(crate) fn components(state: &State, sku: &Sku) -> Vec<(Sku, i64)> {
    explode(&|sku: &Sku| state.items.get(sku), sku)
}

/// The explosion of `sku` into stocked items per unit. Each bundle is exploded once and its
/// result reused wherever it recurs, so the cost is linear in the size of the tree, not in its
/// number of paths (a bundle of two bundles of the same two bundles ... has 2^n paths).
pub(crate) fn explode<'a>(
    lookup: &impl Fn(&Sku) -> Option<&'a Item>,
    sku: &Sku,
) -> Vec<(Sku, i64)> {
    let mut memo: FxHashMap<Sku, Vec<(Sku, i64)>> = FxHashMap::default();
    explode_into(lookup, sku, 0, &mut memo)
}

fn explode_into<'a>(
    lookup: &impl Fn(&Sku) -> Option<&'a Item>,
    sku: &Sku,
    depth: usize,
    memo: &mut FxHashMap<Sku, Vec<(Sku, i64)>>,
) -> Vec<(Sku, i64)> {
    if let Some(known) = memo.get(sku) {
        return known.clone();
    }
    // Bundles accepted today nest at most `BOM_DEPTH_MAX` levels; the bound keeps a log written
    // under older rules from recursing without end.
    let bundle = lookup(sku).and_then(|item| match &item.bom {
        Some(bom) if bom.kind == BomKind::Bundle && depth < 64 => Some(bom),
        _ => None,
    });
    let Some(bom) = bundle else {
        return vec![(sku.clone(), 1)];
    };
    let mut out: Vec<(Sku, i64)> = Vec::new();
    for component in &bom.components {
        for (leaf, per_unit) in explode_into(lookup, &component.sku, depth + 1, memo) {
            let quantity = per_unit.saturating_mul(component.quantity);
            match out.iter_mut().find(|(existing, _)| *existing == leaf) {
                Some((_, total)) => *total = total.saturating_add(quantity),
                None => out.push((leaf, quantity)),
            }
        }
    }
    memo.insert(sku.clone(), out.clone());
    out
}

/// How many whole units of a line fit at a location, given its components.
fn units_available(
    builder: &mut EffectsBuilder<'_>,
    components: &[(Sku, i64)],
    location: &LocationId,
) -> i64 {
    components
        .iter()
        .map(|(sku, per_unit)| builder.available(sku, location).max(0) / per_unit.max(&1))
        .min()
        .unwrap_or(0)
}

fn reserve_units(
    builder: &mut EffectsBuilder<'_>,
    components: &[(Sku, i64)],
    location: &LocationId,
    units: i64,
) -> Result<(), DomainError> {
    for (sku, per_unit) in components {
        builder.reserve(sku, location, per_unit.saturating_mul(units))?;
    }
    Ok(())
}

/// Allocate.
pub(crate) fn allocate(
    state: &State,
    command: &AllocateSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let found = workable_order(state, &command.order, "allocate")?;
    Ok(vec![allocate_for(
        state,
        found,
        command.lines.as_deref(),
        command.shortage,
        ctx,
    )?])
}

pub(super) fn allocate_for(
    state: &State,
    found: &SalesOrder,
    requests: Option<&[AllocationRequest]>,
    shortage: ShortagePolicy,
    ctx: &Context,
) -> Result<SalesOrderEvent, DomainError> {
    let settings = state.settings()?;
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    let mut allocations: Vec<AllocationMade> = Vec::new();
    let mut shortfall: Vec<LineQuantity> = Vec::new();
    match requests {
        Some(requests) => {
            allocate_explicit(
                state,
                found,
                requests,
                &mut builder,
                &mut allocations,
                shortage,
                &mut shortfall,
            )?;
        }
        None => allocate_automatically(
            state,
            found,
            &mut builder,
            &mut allocations,
            shortage,
            &mut shortfall,
        )?,
    }
    if allocations.is_empty() && shortfall.is_empty() {
        // Nothing unallocated, or nothing more available for what is backordered.
        return Err(DomainError::illegal(
            KIND,
            &found.id,
            found.state_name(),
            "allocate",
        ));
    }
    Ok(SalesOrderEvent::Allocated {
        order: found.id.clone(),
        allocations,
        backordered: shortfall,
        at: ctx.at,
        effects: builder.finish(),
    })
}

fn allocate_explicit(
    state: &State,
    found: &SalesOrder,
    requests: &[AllocationRequest],
    builder: &mut EffectsBuilder<'_>,
    allocations: &mut Vec<AllocationMade>,
    shortage: ShortagePolicy,
    shortfall: &mut Vec<LineQuantity>,
) -> Result<(), DomainError> {
    let mut asked: Vec<i64> = vec![0; found.lines.len()];
    for (index, request) in requests.iter().enumerate() {
        let at = |name: &str| format!("lines[{index}].{name}");
        let order_line = line(found, request.line, || at("line"))?;
        positive(|| at("quantity"), request.quantity)?;
        state.fulfillment_center(&request.location, &at("location"))?;
        asked[request.line] = add(asked[request.line], request.quantity, || at("quantity"))?;
        if asked[request.line] > order_line.unallocated() {
            return Err(DomainError::ExceedsOutstanding {
                field: at("quantity"),
                requested: asked[request.line],
                outstanding: order_line.unallocated(),
            });
        }
        let components = components(state, &order_line.line.sku);
        let fits = units_available(builder, &components, &request.location);
        let units = match shortage {
            ShortagePolicy::Reject => request.quantity,
            ShortagePolicy::Backorder => request.quantity.min(fits),
        };
        if units > 0 {
            reserve_units(builder, &components, &request.location, units)?;
            allocations.push(AllocationMade {
                line: request.line,
                location: request.location.clone(),
                quantity: units,
                components,
            });
        }
    }
    if shortage == ShortagePolicy::Backorder {
        for (index, order_line) in found.lines.iter().enumerate() {
            let made: i64 = allocations
                .iter()
                .filter(|a| a.line == index)
                .map(|a| a.quantity)
                .sum();
            let waiting = order_line.unallocated() - made;
            if asked[index] > made && waiting != order_line.backordered {
                shortfall.push(LineQuantity {
                    line: index,
                    quantity: waiting,
                });
            }
        }
    }
    Ok(())
}

/// A line to allocate: index, stocked items per unit, units.
type Wanted = (usize, Vec<(Sku, i64)>, i64);

fn allocate_automatically(
    state: &State,
    found: &SalesOrder,
    builder: &mut EffectsBuilder<'_>,
    allocations: &mut Vec<AllocationMade>,
    shortage: ShortagePolicy,
    shortfall: &mut Vec<LineQuantity>,
) -> Result<(), DomainError> {
    let wanted: Vec<Wanted> = found
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.unallocated() > 0)
        .map(|(index, l)| (index, components(state, &l.line.sku), l.unallocated()))
        .collect();
    // Centers in a fixed order: first those that can fill every line on their own (one parcel),
    // then the rest, each group by id. Ties broken by id keep decisions deterministic.
    let mut centers: Vec<&LocationId> = state.locations.keys().collect();
    centers.sort();
    let fills_all = |builder: &mut EffectsBuilder<'_>, center: &LocationId| {
        let mut probe: Vec<(Sku, i64)> = Vec::new();
        for (_, components, units) in &wanted {
            for (sku, per_unit) in components {
                let need = per_unit.saturating_mul(*units);
                match probe.iter_mut().find(|(s, _)| s == sku) {
                    Some((_, total)) => *total = total.saturating_add(need),
                    None => probe.push((sku.clone(), need)),
                }
            }
        }
        probe
            .iter()
            .all(|(sku, need)| builder.available(sku, center) >= *need)
    };
    let mut ordered: Vec<&LocationId> = Vec::with_capacity(centers.len());
    let (whole, partial): (Vec<&LocationId>, Vec<&LocationId>) = centers
        .into_iter()
        .partition(|center| fills_all(builder, center));
    ordered.extend(whole);
    ordered.extend(partial);
    for (index, components, units) in &wanted {
        let mut remaining = *units;
        for center in &ordered {
            if remaining == 0 {
                break;
            }
            let take = remaining.min(units_available(builder, components, center));
            if take > 0 {
                reserve_units(builder, components, center, take)?;
                allocations.push(AllocationMade {
                    line: *index,
                    location: (*center).clone(),
                    quantity: take,
                    components: components.clone(),
                });
                remaining -= take;
            }
        }
        if remaining > 0 {
            match shortage {
                ShortagePolicy::Reject => {
                    return Err(shortage_error(state, found, components));
                }
                ShortagePolicy::Backorder => {
                    if remaining != found.lines[*index].backordered {
                        shortfall.push(LineQuantity {
                            line: *index,
                            quantity: remaining,
                        });
                    }
                }
            }
        }
    }
    Ok(())
}

/// The error for an allocation that does not fit: the first stocked item of the failing line
/// whose demand over the whole order (every line and bundle component) exceeds what the best
/// center had available before the command.
fn shortage_error(
    state: &State,
    found: &SalesOrder,
    components_of_line: &[(Sku, i64)],
) -> DomainError {
    let mut centers: Vec<&LocationId> = state.locations.keys().collect();
    centers.sort();
    let demand_of = |sku: &Sku| -> i64 {
        found
            .lines
            .iter()
            .filter(|l| l.unallocated() > 0)
            .flat_map(|l| {
                components(state, &l.line.sku)
                    .into_iter()
                    .map(move |c| (c, l.unallocated()))
            })
            .filter(|((component, _), _)| component == sku)
            .map(|((_, per_unit), units)| per_unit.saturating_mul(units))
            .fold(0_i64, i64::saturating_add)
    };
    let best_for = |sku: &Sku| -> Option<(&LocationId, i64)> {
        centers
            .iter()
            .map(|center| (*center, state.stock.balance(sku, center).available().max(0)))
            .max_by_key(|(center, available)| (*available, std::cmp::Reverse(*center)))
    };
    let mut first = None;
    for (sku, _) in components_of_line {
        let requested = demand_of(sku);
        if let Some((center, available)) = best_for(sku) {
            let error = DomainError::InsufficientStock {
                sku: sku.clone(),
                location: center.clone(),
                requested,
                available,
            };
            if available < requested {
                return error;
            }
            first.get_or_insert(error);
        }
    }
    first.unwrap_or_else(|| DomainError::invalid("lines", "no fulfillment center is defined"))
}

/// Deallocate.
pub(crate) fn deallocate(
    state: &State,
    command: &DeallocateSalesOrder,
    ctx: &Context,
) -> Result<Vec<SalesOrderEvent>, DomainError> {
    let settings = state.settings()?;
    let found = open_order(state, &command.order, "deallocate")?;
    let order_line = line(found, command.line, || "line".into())?;
    positive(|| "quantity".into(), command.quantity)?;
    let unpicked: i64 = order_line
        .allocations
        .iter()
        .filter(|a| a.location == command.location)
        .map(|a| a.allocated - a.picked)
        .sum();
    if command.quantity > unpicked {
        return Err(DomainError::ExceedsOutstanding {
            field: "quantity".into(),
            requested: command.quantity,
            outstanding: unpicked,
        });
    }
    let mut builder = EffectsBuilder::new(&state.stock, settings.base_currency);
    release_allocations(
        &mut builder,
        order_line,
        Some(&command.location),
        command.quantity,
    );
    Ok(vec![SalesOrderEvent::Deallocated {
        order: command.order.clone(),
        line: command.line,
        location: command.location.clone(),
        quantity: command.quantity,
        at: ctx.at,
        effects: builder.finish(),
    }])
}

/// Releases `units` of a line's reservations, unpicked units first, in allocation order.
/// Returns per (allocation index, units) what was released, for `apply`.
pub(super) fn release_allocations(
    builder: &mut EffectsBuilder<'_>,
    order_line: &SalesOrderLine,
    only_at: Option<&LocationId>,
    mut units: i64,
) {
    for pass_unpicked_only in [true, false] {
        for allocation in &order_line.allocations {
            if units == 0 {
                return;
            }
            if only_at.is_some_and(|location| *location != allocation.location) {
                continue;
            }
            let releasable = if pass_unpicked_only {
                allocation.allocated - allocation.picked
            } else {
                allocation.picked
            };
            let take = units.min(releasable);
            if take > 0 {
                for (sku, per_unit) in &allocation.components {
                    builder.release(sku, &allocation.location, per_unit * take);
                }
                units -= take;
            }
        }
    }
}
