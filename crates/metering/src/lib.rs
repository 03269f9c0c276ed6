//! pipectl's metering: price sheets, the cost model of a spec, allocation of shared costs to
//! phases, and checks of the figures a spec's source states. Pure: no AWS, no I/O beyond
//! reading a price sheet.

pub mod advise;
pub mod allocate;
pub mod analysis;
pub mod estimate;
pub mod fallback;
pub mod money;
pub mod prices;
pub mod reconcile;
pub mod record;
pub mod schedule;
pub mod spot;
pub mod variant;

pub use allocate::Allocation;
pub use estimate::{Estimate, Options, estimate};
pub use prices::PriceSheet;
