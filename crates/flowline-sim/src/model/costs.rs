//! Enable, costs: the day's variable costs accrued by the other processes (carriers, pick and
//! pack, packaging, return handling, kitting, duties) posted by SCOR process, and at month end
//! the scenario's monthly costs, storage fees and depreciation.

use super::{Model, id, minor};
use crate::driver::{SimError, Then};
use crate::scenario::{parse_cost_type, parse_process};
use flowline_core::Command;
use flowline_core::documents::finance::{CostType, PostCost, Settlement};
use flowline_core::ledger::ScorProcess;
use flowline_core::money::Money;

/// Variable costs accumulated through the day, in base minor units (fractions kept).
#[derive(Debug, Default)]
pub(super) struct Accrued {
    pub(super) carrier: Vec<f64>,
    pub(super) pick_pack: Vec<f64>,
    pub(super) packaging: f64,
    pub(super) return_labour: f64,
    pub(super) kitting_labour: f64,
    pub(super) duties: f64,
}

impl Model<'_> {
    pub(crate) fn post_cost(
        &mut self,
        process: ScorProcess,
        cost_type: CostType,
        amount: i64,
        note: &str,
    ) -> Result<(), SimError> {
        if amount <= 0 {
            return Ok(());
        }
        self.next_cost += 1;
        let command = Command::PostCost(PostCost {
            cost: id(&format!("COST-{:06}", self.next_cost))?,
            process,
            cost_type,
            amount: Money::new(amount, self.w.currency),
            settlement: Settlement::Paid,
            reference: None,
            note: Some(note.to_string()),
        });
        self.send(self.now, command, Then::Nothing)
    }

    pub(super) fn daily_costs(&mut self) -> Result<(), SimError> {
        for carrier in 0..self.s.carriers.len() {
            let amount = std::mem::take(&mut self.accrued.carrier[carrier]).round() as i64;
            let note = format!("{} charges", self.s.carriers[carrier].name);
            self.post_cost(ScorProcess::Deliver, CostType::Carrier, amount, &note)?;
        }
        for center in 0..self.w.centers.len() {
            let amount = std::mem::take(&mut self.accrued.pick_pack[center]).round() as i64;
            let note = format!("pick and pack fees, {}", self.s.centers[center].name);
            self.post_cost(ScorProcess::Deliver, CostType::PickPack, amount, &note)?;
        }
        let packaging = std::mem::take(&mut self.accrued.packaging).round() as i64;
        self.post_cost(
            ScorProcess::Deliver,
            CostType::Packaging,
            packaging,
            "packaging",
        )?;
        let returns = std::mem::take(&mut self.accrued.return_labour).round() as i64;
        self.post_cost(
            ScorProcess::Return,
            CostType::Labour,
            returns,
            "return handling",
        )?;
        let kitting = std::mem::take(&mut self.accrued.kitting_labour).round() as i64;
        self.post_cost(
            ScorProcess::Make,
            CostType::Labour,
            kitting,
            "kitting labour",
        )?;
        let duties = std::mem::take(&mut self.accrued.duties).round() as i64;
        self.post_cost(
            ScorProcess::Source,
            CostType::Duties,
            duties,
            "import duties",
        )?;
        Ok(())
    }

    pub(crate) fn accrue_kitting(&mut self, units: i64) {
        self.accrued.kitting_labour +=
            minor(self.s.costs.kitting_labour_per_unit, &self.w) as f64 * units as f64;
    }

    pub(crate) fn accrue_duties(&mut self, amount: f64) {
        self.accrued.duties += amount;
    }

    pub(super) fn month_end(&mut self) -> Result<(), SimError> {
        let s = self.s;
        for cost in &s.costs.monthly {
            let (process, cost_type) = match (
                parse_process(&cost.process),
                parse_cost_type(&cost.cost_type),
            ) {
                (Some(p), Some(t)) => (p, t),
                _ => continue,
            };
            let amount = minor(cost.amount, &self.w);
            self.post_cost(process, cost_type, amount, &cost.name)?;
        }
        for center in 0..self.w.centers.len() {
            let units: i64 = (0..self.w.items.len())
                .map(|item| self.on_hand[self.cell(item, center)].max(0))
                .sum();
            let fee = minor(
                self.s.centers[center].storage_fee_per_unit_month * 100.0,
                &self.w,
            ) as f64
                / 100.0;
            let amount = (units as f64 * fee).round() as i64;
            let note = format!("storage, {}", self.s.centers[center].name);
            self.post_cost(ScorProcess::Deliver, CostType::Storage, amount, &note)?;
        }
        for asset in &s.fixed_assets {
            let command = Command::DepreciateFixedAsset(
                flowline_core::documents::finance::DepreciateFixedAsset {
                    asset: id(&asset.id)?,
                    amount_minor: None,
                },
            );
            self.send(self.now, command, Then::Nothing)?;
        }
        Ok(())
    }
}
