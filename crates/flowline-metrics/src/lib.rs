//! The SCOR scorecard, computed from Flowline's events.
//!
//! Pure: the crate takes events and plain data and returns values; it reads no clock, no file
//! and no database (checked in CI with flowline-core).
//!
//! Principal pieces:
//! - [`value`]: [`value::MetricValue`], an exact ratio with its population, coverage and
//!   provisional flag;
//! - [`fold`]: [`fold::Fold`], the incremental fold of events into counters per local day
//!   ([`period`]) and slice ([`fold::Slice`]: the whole tenant, a channel, a center, ...), with
//!   the record of each open sales order ([`order::OrderTrack`]) and its verdict when it closes
//!   ([`order::Judgement`]: failure signature and cycle-time segments);
//! - [`scorecard`]: the counters of a range and slice turned into Level-1 metrics, the Level-2
//!   metrics that explain them on the same population, and operational KPIs;
//! - [`drill`]: from a figure to the orders behind it, sorted by impact;
//! - [`targets`]: targets against a range (met, missed, trend, baseline) and reviews of an
//!   improvement initiative before and during it;
//! - [`geo`]: where shipments start and end (coordinates, region and country centroids) and
//!   the great-circle distance between them;
//! - [`histogram`]: distributions for medians and percentiles in bounded memory;
//! - [`emissions`]: emission factor sets and the CO₂e of transport legs;
//! - [`forecast`]: forecast accuracy (MAPE, WAPE, bias), computed from forecasts and actuals
//!   rather than folded from events, for planning;
//! - [`accuracy`]: published forecasts measured against the demand that followed.
//! - [`replenishment`]: replenishment proposals from the state and the demand history.
//! - [`demand`]: [`demand::DemandHistory`], the units ordered per day by stocked item and
//!   channel, bundles as their components: what the planner forecasts from.
//!
//! Agility (SCOR-METRICS §5) is not computed: it is measured from capacity profiles and a risk
//! register, which the event log does not hold.

#![warn(missing_docs)]

pub mod accuracy;
pub mod capacity;
pub mod demand;
pub mod drill;
pub mod emissions;
pub mod fold;
pub mod forecast;
pub mod geo;
pub mod histogram;
pub mod history;
pub mod network;
pub mod order;
pub mod period;
pub mod replenishment;
pub mod scorecard;
pub mod targets;
pub mod value;
