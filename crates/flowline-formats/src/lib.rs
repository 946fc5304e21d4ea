//! Flowline's importers: the bytes of third-party files in, domain commands out.
//!
//! Nothing here reads files, the clock or the environment: a caller (the `flowline import`
//! command) reads the bytes and hands them over, and submits the commands it gets back. That
//! keeps every importer a pure function of its input, so the same files always give the same
//! commands, and a re-import of the same content can be recognised by its hash.
//!
//! The principal types:
//! - [`olist::import`] maps the eight files of Olist's public Brazilian e-commerce data set
//!   ([`olist::OlistFiles`]) to commands and an [`olist::ImportReport`] that says what was
//!   imported, what was skipped and why.
//! - [`series::read`] reads demand series given as long-format CSV (`series,date,quantity`)
//!   into one run of quantities per series, for the planner's forecasts.
//! - [`promotions::read`] reads promotions given as CSV into the commands that plan them.
//! - [`policies::read`] reads inventory policies given as CSV into the commands that set them.
//! - [`mapped::read`] reads CSV files of any layout, through a mapping file
//!   ([`mapped::mapping`]), into items, centers, suppliers, opening stock, purchase orders or
//!   sales orders.
//! - [`ImportError`] rejects malformed input as a whole and lists every [`Problem`] with its
//!   file, line, column and value, as ripgrep reports every match rather than the first one.
//!
//! The split between the two is the house rule for imports (STYLE §9.4): input that cannot be
//! read (broken CSV, an unparseable timestamp or amount) rejects the whole import, and nothing is
//! appended; well-formed rows that cannot be mapped (an item of an order that is not in the
//! file) are skipped and counted in the report.
#![warn(missing_docs)]

mod error;
pub mod mapped;
mod number;
pub mod olist;
pub mod policies;
pub mod promotions;
pub mod series;
mod table;
mod timestamp;

pub use error::{ImportError, PROBLEMS_SHOWN_MAX, Problem, ProblemKind};
pub use timestamp::{DateFormatDetected, DayOrder, DayOrderDecision};
