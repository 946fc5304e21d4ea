//! The money sub-fold: revenue, refunds, cost of goods sold, purchases and supply chain cost
//! from each event's journal entry (converted to the base currency at the document's rate),
//! and the running ledger balances (inventory, receivables, payables, supply-chain fixed
//! assets) with their time-weighted integrals.

use super::{Bucket, Fold, balance};
use flowline_core::Event;
use flowline_core::documents::finance::FinanceEvent;
use flowline_core::documents::purchase_order::PurchaseOrderEvent;
use flowline_core::ledger::{Account, ScorProcess};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The ledger balances that leave the fold's bucket as time-weighted averages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Running {
    pub(super) balances: [i128; 4],
}

impl Fold {
    /// The running balances (inventory, receivables, payables, supply-chain assets) now.
    pub fn balances_now(&self) -> [i128; 4] {
        self.running.balances
    }

    pub(super) fn finance(&mut self, event: &FinanceEvent, at: Timestamp) {
        // The net book value of supply-chain assets, for ROSCFA: acquisition adds the cost,
        // depreciation takes it down, disposal removes what is left.
        let change = match event {
            FinanceEvent::AssetAcquired {
                asset,
                cost_minor,
                supply_chain,
                ..
            } => {
                self.asset_book
                    .insert(asset.to_string(), (*supply_chain, i128::from(*cost_minor)));
                supply_chain.then_some(i128::from(*cost_minor))
            }
            FinanceEvent::AssetDepreciated {
                asset,
                amount_minor,
                ..
            } => match self.asset_book.get_mut(asset.as_str()) {
                Some((supply_chain, book)) => {
                    *book -= i128::from(*amount_minor);
                    supply_chain.then_some(-i128::from(*amount_minor))
                }
                None => None,
            },
            FinanceEvent::AssetDisposed { asset, .. } => self
                .asset_book
                .remove(asset.as_str())
                .and_then(|(supply_chain, book)| supply_chain.then_some(-book)),
            FinanceEvent::CostPosted { .. } => None,
        };
        if let Some(change) = change {
            self.change_balance(balance::FIXED_ASSETS, change, at);
        }
    }

    fn change_balance(&mut self, index: usize, change: i128, at: Timestamp) {
        if change == 0 {
            return;
        }
        let day = self.day(at);
        let end = day.next().start(&self.settings.reporting);
        let seconds = i128::from(end.duration_since(at).as_secs().max(0));
        self.running.balances[index] += change;
        let bucket = self.buckets.whole_mut(day);
        bucket.balance_change[index] += change;
        bucket.balance_weighted[index] += change * seconds;
    }

    /// Money figures from an event's journal entry, in the base currency. A purchase or sales
    /// order in another currency posts in that currency; its postings (and its returns') are
    /// converted at the rate recorded on the order. A posting in a foreign currency with no
    /// recorded rate (a sales order recorded before rates were required) is left out.
    pub(super) fn post_journal(
        &mut self,
        event: &Event,
        journal: &flowline_core::ledger::JournalEntry,
        at: Timestamp,
    ) {
        let base = self.settings.base_currency;
        let document_rate = match event {
            Event::PurchaseOrder(purchase) => self
                .purchases
                .get(purchase.purchase_order().as_str())
                .map(|track| (track.rate, track.currency)),
            Event::SalesOrder(sale) => self.order_rates.get(sale.order().as_str()).copied(),
            Event::Return(returned) => self
                .return_orders
                .get(returned.return_id().as_str())
                .and_then(|order| self.order_rates.get(order))
                .copied(),
            _ => None,
        };
        let receipt = matches!(
            event,
            Event::PurchaseOrder(PurchaseOrderEvent::Received { .. })
        );
        let day = self.day(at);
        let mut money = Bucket::default();
        let mut balances = [0i128; 4];
        for posting in &journal.postings {
            let amount = if posting.amount.currency == base {
                i128::from(posting.amount.amount_minor)
            } else {
                match document_rate {
                    Some((rate, currency)) if currency == posting.amount.currency => rate
                        .convert(posting.amount.amount_minor, currency, base)
                        .map_or(0, i128::from),
                    _ => continue,
                }
            };
            match posting.account {
                Account::Inventory => {
                    balances[balance::INVENTORY] += amount;
                    if receipt {
                        money.purchases += amount;
                    }
                }
                Account::Receivables => balances[balance::RECEIVABLES] += amount,
                Account::Payables => balances[balance::PAYABLES] -= amount,
                Account::Revenue => money.revenue -= amount,
                Account::Refunds => money.refunds += amount,
                Account::CostOfGoodsSold | Account::InventoryWriteOff => {
                    money.cost_of_goods_sold += amount;
                }
                Account::SupplyChainCost(process) => {
                    let index = ScorProcess::ALL
                        .iter()
                        .position(|known| *known == process)
                        .unwrap_or(0);
                    money.cost[index] += amount;
                }
                _ => {}
            }
        }
        if !money.is_empty() {
            self.buckets.whole_mut(day).merge(&money);
        }
        for (index, change) in balances.into_iter().enumerate() {
            self.change_balance(index, change, at);
        }
    }
}
