//! The SCOR Plan process: what to buy, make, place and staff next.
//!
//! Pure functions over plain numbers, like `flowline-core` and `flowline-metrics`: no I/O, no
//! clock, no randomness. Demand history comes in as series of daily or weekly quantities; what
//! comes out (forecasts with their intervals and the model that made them, inventory policies
//! with their terms) is recorded and shown by the engine, the server and the command line.
//!
//! - [`forecast`]: seasonal naive, exponential smoothing (simple, Holt, damped, Holt-Winters)
//!   chosen by information criterion, Croston / SBA / TSB for intermittent demand, the choice
//!   per series by rolling-origin backtest, prediction intervals, accuracy (WAPE, MASE, bias).
//! - [`policy`]: safety stock for a cycle service level or a fill rate, reorder points and order
//!   quantities (EOQ with MOQ and case packs), (s, S), base stock, newsvendor.
//! - [`replenish`]: replenishment proposals that explain themselves, term by term, with the
//!   supplier chosen by expected cost per unit and a cap on one supplier's share.
//! - [`placement`]: the stock each center should hold, by a linear program, with the transfers.
//! - [`capacity`]: weeks whose forecast orders exceed a center's capacity, flagged ahead.
//! - [`distribution`]: the normal and Poisson distributions the policies rest on.

#![warn(missing_docs)]

pub mod capacity;
pub mod distribution;
pub mod forecast;
pub mod placement;
pub mod policy;
pub mod replenish;
