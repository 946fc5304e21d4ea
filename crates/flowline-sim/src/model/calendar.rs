//! The calendar: what the start of the brand's day and of each center's day schedules (the
//! replenishment review, costs, month end, pick waves, cycle counts), and each hour's customer
//! arrivals, drawn from the day's demand rate (trend, weekday, season, peaks, flash sales).

use super::{Action, Model, at_local, local, working};
use jiff::civil::{Date, Weekday};

impl Model<'_> {
    pub(super) fn brand_day(&mut self) {
        let (date, _) = local(self.now, &self.w.zone);
        let zone = self.w.zone.clone();
        let review = at_local(date, i64::from(self.s.replenishment.review_hour), 0, &zone);
        self.schedule(review, Action::Review);
        self.schedule(at_local(date, 23, 30, &zone), Action::DailyCosts);
        if date.day() == 1 && date > self.start {
            self.schedule(at_local(date, 0, 30, &zone), Action::MonthEnd);
        }
    }

    pub(super) fn center_day(&mut self, center: usize) {
        let zone = self.w.centers[center].zone.clone();
        let (date, _) = local(self.now, &zone);
        if self.s.centers[center].opens.is_some_and(|d| d > date) || !working(date) {
            return;
        }
        let waves = &self.s.centers[center].waves;
        let count = waves.len() as u32;
        for (i, hour) in waves.clone().into_iter().enumerate() {
            let left = count - i as u32;
            self.schedule(
                at_local(date, i64::from(hour), 0, &zone),
                Action::Wave { center, left },
            );
        }
        if date.weekday() == Weekday::Monday && self.s.counts.items_per_week > 0 {
            self.schedule(at_local(date, 9, 0, &zone), Action::Count { center });
        }
    }

    /// The day's order rate in a region's local calendar.
    pub(super) fn rate(&self, date: Date) -> (f64, Option<usize>) {
        let demand = &self.s.demand;
        let elapsed = (date - self.start).get_days() as f64;
        let trend = 1.0 + demand.trend_per_year * elapsed / 365.0;
        let weekday = demand.weekly[date.weekday().to_monday_zero_offset() as usize];
        let month = demand.yearly[(date.month() - 1) as usize];
        let mut peak = 1.0;
        for p in &demand.peaks {
            let (from, to) = ((p.from.month(), p.from.day()), (p.to.month(), p.to.day()));
            let today = (date.month(), date.day());
            if from <= today && today <= to {
                peak *= p.multiplier;
            }
        }
        let mut featured = None;
        for (first, last, category) in &self.flash {
            if *first <= date && date <= *last {
                peak *= demand.flash_sales.multiplier;
                featured = Some(*category);
            }
        }
        (
            demand.orders_per_day * trend * weekday * month * peak,
            featured,
        )
    }

    /// What the brand's planner knows ahead of a day's demand for each category's items,
    /// relative to `orders_per_day` and the category's share: the trend, weekday, month and
    /// peak multipliers, and the brand's own flash sales (its promotion calendar), which lift
    /// the order rate and send most lines to the featured category.
    pub(crate) fn known_profiles(&self, date: Date) -> Vec<f64> {
        let base = self.known_profile(date);
        let mut profiles = vec![base; self.s.categories.len()];
        let flash = &self.s.demand.flash_sales;
        for (first, last, featured) in &self.flash {
            if *first <= date && date <= *last {
                let total: f64 = self.s.categories.iter().map(|c| c.share).sum();
                for (category, profile) in profiles.iter_mut().enumerate() {
                    let share = if total > 0.0 {
                        self.s.categories[category].share / total
                    } else {
                        0.0
                    };
                    // A line goes to the featured category with `featured_share`, else by share.
                    let lines = (1.0 - flash.featured_share) * share
                        + if category == *featured {
                            flash.featured_share
                        } else {
                            0.0
                        };
                    if share > 0.0 {
                        *profile *= flash.multiplier * lines / share;
                    }
                }
            }
        }
        profiles
    }

    /// The trend, weekday, month and peak multipliers of a day's order rate.
    pub(crate) fn known_profile(&self, date: Date) -> f64 {
        let demand = &self.s.demand;
        let elapsed = (date - self.start).get_days() as f64;
        let trend = 1.0 + demand.trend_per_year * elapsed / 365.0;
        let weekday = demand.weekly[date.weekday().to_monday_zero_offset() as usize];
        let month = demand.yearly[(date.month() - 1) as usize];
        let today = (date.month(), date.day());
        let peak: f64 = demand
            .peaks
            .iter()
            .filter(|p| {
                (p.from.month(), p.from.day()) <= today && today <= (p.to.month(), p.to.day())
            })
            .map(|p| p.multiplier)
            .product();
        trend * weekday * month * peak
    }

    /// Draws the hour's customer orders in every region.
    pub(super) fn arrivals(&mut self, hour: i64) {
        let total_share: f64 = self.s.regions.iter().map(|r| r.share).sum();
        let hourly_total: f64 = self.s.demand.hourly.iter().sum();
        for region in 0..self.s.regions.len() {
            let (date, local_hour) = local(hour, &self.w.region_zones[region]);
            let (rate, _) = self.rate(date);
            let lambda = rate * self.s.regions[region].share / total_share
                * self.s.demand.hourly[local_hour as usize]
                / hourly_total;
            let n = self.dice.poisson(lambda);
            for _ in 0..n {
                let at = hour + self.dice.between(0, 3599);
                self.schedule(at, Action::Arrival { region });
            }
        }
    }
}
