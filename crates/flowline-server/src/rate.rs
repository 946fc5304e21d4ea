//! Rate limits per API key and per tenant: token buckets, refilled continuously.
//!
//! Every authenticated request takes one token from its key's bucket and one from its tenant's;
//! when either is empty the request is refused with 429 `rate_limited` and a `Retry-After` that
//! says when a token will be there, and neither bucket is charged. One key's flood therefore
//! costs its tenant its own budget and no one else's, and a tenant with many keys still has one
//! ceiling. A key may carry a rate of its own (`flowline key limit`), which replaces the server's
//! per-key default for that key, up or down; the tenant's ceiling still applies. A scorecard, whose work grows with its range and slices, costs
//! [`REPORT_COST`] tokens. Buckets live in memory, one per key and tenant that has made a request.
//!
//! A refusal is answered once its `Retry-After` has passed (at most a second later), not at once:
//! a client that floods over a few connections then spends its time waiting instead of making
//! the server parse and refuse tens of thousands of requests a second, which would cost every
//! other tenant the CPU.

use flowline_core::id::TenantId;
use rustc_hash::FxHashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Tokens a scorecard or metric report costs: a key within its default budget may ask for 5 a
/// second, so a crowd of report loops cannot take the cores from other tenants' orders.
pub const REPORT_COST: f64 = 20.0;

/// A sustained rate with a burst allowance; a rate of 0 means no limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests per second, sustained.
    pub per_second: f64,
    /// Requests that may come at once after a quiet spell.
    pub burst: f64,
}

impl Rate {
    /// No limit.
    pub const UNLIMITED: Self = Self {
        per_second: 0.0,
        burst: 0.0,
    };

    /// `per_second` sustained, with a burst of twice that.
    pub fn per_second(per_second: f64) -> Self {
        Self {
            per_second,
            burst: (2.0 * per_second).max(1.0),
        }
    }

    fn unlimited(self) -> bool {
        self.per_second <= 0.0
    }
}

/// The limits of a server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimits {
    /// Per API key.
    pub per_key: Rate,
    /// Per tenant, over all its keys.
    pub per_tenant: Rate,
}

impl Default for RateLimits {
    /// 100 requests a second per key and 200 per tenant, each with a burst of twice that.
    fn default() -> Self {
        Self {
            per_key: Rate::per_second(100.0),
            per_tenant: Rate::per_second(200.0),
        }
    }
}

impl RateLimits {
    /// No limits at all.
    pub const UNLIMITED: Self = Self {
        per_key: Rate::UNLIMITED,
        per_tenant: Rate::UNLIMITED,
    };
}

/// Which budget ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The key's.
    Key,
    /// The tenant's.
    Tenant,
}

impl Scope {
    /// Its name in problem details.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Key => "key",
            Self::Tenant => "tenant",
        }
    }
}

/// A refusal: which budget, and when to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// The budget that ran out.
    pub scope: Scope,
    /// How long until a token is there, rounded up to whole seconds (at least 1).
    pub retry_after_seconds: u32,
    /// How long until a token is there.
    pub wait: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
    /// The rate it was last charged at: a key's own, or the default.
    rate: Rate,
}

impl Bucket {
    /// The bucket refilled up to `now` at `rate`.
    fn refilled(self, rate: Rate, now: Instant) -> Self {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        Self {
            tokens: (self.tokens + elapsed * rate.per_second).min(rate.burst),
            at: now,
            rate,
        }
    }

    /// How long until `cost` tokens are there.
    fn wait(self, rate: Rate, cost: f64) -> Duration {
        Duration::from_secs_f64(((cost - self.tokens) / rate.per_second).max(0.0))
    }
}

/// The buckets of a server.
#[derive(Debug)]
pub struct Limiter {
    limits: RateLimits,
    buckets: Mutex<Buckets>,
}

#[derive(Debug, Default)]
struct Buckets {
    keys: FxHashMap<String, Bucket>,
    tenants: FxHashMap<TenantId, Bucket>,
}

impl Limiter {
    /// Buckets for `limits`, all full.
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            buckets: Mutex::new(Buckets::default()),
        }
    }

    /// The limits.
    pub fn limits(&self) -> RateLimits {
        self.limits
    }

    /// Whether `key`'s budget is spent at `now`, without taking a token: a request that would be
    /// refused anyway is refused before its key is looked up and checked, so a flood of them
    /// costs a map lookup each. Only a key's own bucket is consulted (the tenant is not known
    /// before the key is checked), and nothing is charged, so a caller that merely knows a
    /// key's public id cannot spend its budget.
    /// The rate is the one the key was last charged at, so a key with a rate of its own is
    /// judged by it.
    pub fn spent(&self, key: &str, now: Instant) -> Option<Refusal> {
        let buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let last = buckets.keys.get(key)?;
        let rate = last.rate;
        if rate.unlimited() {
            return None;
        }
        let bucket = last.refilled(rate, now);
        (bucket.tokens < 1.0).then(|| Refusal {
            scope: Scope::Key,
            retry_after_seconds: whole_seconds(bucket.wait(rate, 1.0)),
            wait: bucket.wait(rate, 1.0),
        })
    }

    /// Takes a token for a request of `key` (of `tenant`) at `now`, or says which budget is
    /// empty and for how long.
    pub fn admit(&self, tenant: &TenantId, key: &str, now: Instant) -> Result<(), Refusal> {
        self.admit_costing(tenant, key, 1.0, now)
    }

    /// [`Limiter::admit`] for a request that costs `cost` tokens (a heavy report costs more than
    /// an order); never more than a bucket's burst, so every request can pass eventually.
    pub fn admit_costing(
        &self,
        tenant: &TenantId,
        key: &str,
        cost: f64,
        now: Instant,
    ) -> Result<(), Refusal> {
        self.admit_key(tenant, key, None, cost, now)
    }

    /// [`Limiter::admit_costing`] for a key with a rate of its own (`own_rate`, in requests a
    /// second, with a burst of twice that), which replaces the server's per-key default.
    pub fn admit_key(
        &self,
        tenant: &TenantId,
        key: &str,
        own_rate: Option<u32>,
        cost: f64,
        now: Instant,
    ) -> Result<(), Refusal> {
        let per_key = own_rate.map_or(self.limits.per_key, |rate| {
            Rate::per_second(f64::from(rate))
        });
        let per_tenant = self.limits.per_tenant;
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let full = |rate: Rate| Bucket {
            tokens: rate.burst,
            at: now,
            rate,
        };
        let key_bucket = (!per_key.unlimited()).then(|| {
            buckets
                .keys
                .get(key)
                .copied()
                .unwrap_or(full(per_key))
                .refilled(per_key, now)
        });
        let tenant_bucket = (!per_tenant.unlimited()).then(|| {
            buckets
                .tenants
                .get(tenant)
                .copied()
                .unwrap_or(full(per_tenant))
                .refilled(per_tenant, now)
        });
        let refuse = |scope: Scope, wait: Duration| Refusal {
            scope,
            retry_after_seconds: whole_seconds(wait),
            wait,
        };
        let (key_cost, tenant_cost) = (cost.min(per_key.burst), cost.min(per_tenant.burst));
        if let Some(bucket) = key_bucket.filter(|bucket| bucket.tokens < key_cost) {
            buckets.keys.insert(key.to_string(), bucket);
            return Err(refuse(Scope::Key, bucket.wait(per_key, key_cost)));
        }
        if let Some(bucket) = tenant_bucket.filter(|bucket| bucket.tokens < tenant_cost) {
            buckets.tenants.insert(tenant.clone(), bucket);
            return Err(refuse(Scope::Tenant, bucket.wait(per_tenant, tenant_cost)));
        }
        if let Some(mut bucket) = key_bucket {
            bucket.tokens -= key_cost;
            buckets.keys.insert(key.to_string(), bucket);
        }
        if let Some(mut bucket) = tenant_bucket {
            bucket.tokens -= tenant_cost;
            buckets.tenants.insert(tenant.clone(), bucket);
        }
        Ok(())
    }
}

/// A wait rounded up to whole seconds, at least 1: what `Retry-After` can say.
fn whole_seconds(wait: Duration) -> u32 {
    u32::try_from(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
        .unwrap_or(u32::MAX)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(name: &str) -> TenantId {
        TenantId::parse(name).unwrap()
    }

    #[test]
    fn a_key_gets_its_burst_then_one_request_per_refill_interval() {
        // 10 a second with a burst of 20: from full, 20 requests pass at one instant and the
        // 21st waits 1/10 s, rounded up to 1 s. 250 ms later 2.5 tokens have come back: two
        // more pass, the third is refused.
        let limiter = Limiter::new(RateLimits {
            per_key: Rate::per_second(10.0),
            per_tenant: Rate::UNLIMITED,
        });
        let start = Instant::now();
        let a = tenant("a");
        for _ in 0..20 {
            assert_eq!(limiter.admit(&a, "k1", start), Ok(()));
        }
        let refused = limiter.admit(&a, "k1", start).unwrap_err();
        assert_eq!(refused.scope, Scope::Key);
        assert_eq!(refused.retry_after_seconds, 1);
        assert_eq!(refused.wait, Duration::from_millis(100));
        let later = start + Duration::from_millis(250);
        assert_eq!(limiter.admit(&a, "k1", later), Ok(()));
        assert_eq!(limiter.admit(&a, "k1", later), Ok(()));
        assert!(limiter.admit(&a, "k1", later).is_err());
        // Another key of the same tenant has its own bucket.
        assert_eq!(limiter.admit(&a, "k2", later), Ok(()));
    }

    #[test]
    fn a_tenant_budget_caps_all_its_keys_and_spares_other_tenants() {
        // Tenant budget 5 a second, burst 10; keys unlimited. Ten requests over five keys use
        // it up; the eleventh, from a sixth key, is refused for the tenant; tenant b is served.
        let limiter = Limiter::new(RateLimits {
            per_key: Rate::UNLIMITED,
            per_tenant: Rate::per_second(5.0),
        });
        let now = Instant::now();
        let (a, b) = (tenant("a"), tenant("b"));
        for index in 0..10 {
            assert_eq!(limiter.admit(&a, &format!("k{}", index % 5), now), Ok(()));
        }
        let refused = limiter.admit(&a, "k9", now).unwrap_err();
        assert_eq!(refused.scope, Scope::Tenant);
        assert_eq!(limiter.admit(&b, "kb", now), Ok(()));
    }

    #[test]
    fn a_refused_request_charges_neither_budget() {
        // Key budget 1 a second (burst 2), tenant budget 100: two pass, then refusals by the
        // key must not drain the tenant, whose other key still has its full burst of 2.
        let limiter = Limiter::new(RateLimits {
            per_key: Rate::per_second(1.0),
            per_tenant: Rate::per_second(100.0),
        });
        let now = Instant::now();
        let a = tenant("a");
        assert!(limiter.admit(&a, "k1", now).is_ok());
        assert!(limiter.admit(&a, "k1", now).is_ok());
        for _ in 0..1000 {
            assert_eq!(limiter.admit(&a, "k1", now).unwrap_err().scope, Scope::Key);
        }
        assert!(limiter.admit(&a, "k2", now).is_ok());
        assert!(limiter.admit(&a, "k2", now).is_ok());
    }

    #[test]
    fn a_heavy_request_costs_its_weight_and_waits_for_it() {
        // Key budget 10 a second, burst 20. A request costing 15 passes from full (5 left);
        // a second is refused until 10 more tokens come back: 1 s. A cost above the burst (50)
        // is charged as the burst, so it passes from a full bucket rather than never.
        let limiter = Limiter::new(RateLimits {
            per_key: Rate::per_second(10.0),
            per_tenant: Rate::UNLIMITED,
        });
        let now = Instant::now();
        let a = tenant("a");
        assert!(limiter.admit_costing(&a, "k1", 15.0, now).is_ok());
        let refused = limiter.admit_costing(&a, "k1", 15.0, now).unwrap_err();
        assert_eq!(refused.wait, Duration::from_secs(1));
        assert!(limiter.admit(&a, "k1", now).is_ok(), "4 of 5 tokens left");
        assert!(limiter.admit_costing(&a, "k2", 50.0, now).is_ok());
        assert!(limiter.admit(&a, "k2", now).is_err());
    }

    #[test]
    fn a_spent_key_is_known_without_charging_it() {
        // Key budget 1 a second, burst 2. Before any request and after one, the key is not
        // spent; after two it is, for 1 s; asking does not take a token, so after 1 s exactly
        // one request passes.
        let limiter = Limiter::new(RateLimits {
            per_key: Rate::per_second(1.0),
            per_tenant: Rate::UNLIMITED,
        });
        let now = Instant::now();
        let a = tenant("a");
        assert_eq!(limiter.spent("k1", now), None);
        assert!(limiter.admit(&a, "k1", now).is_ok());
        assert_eq!(limiter.spent("k1", now), None);
        assert!(limiter.admit(&a, "k1", now).is_ok());
        for _ in 0..100 {
            assert_eq!(
                limiter.spent("k1", now).map(|r| r.retry_after_seconds),
                Some(1)
            );
        }
        let later = now + Duration::from_secs(1);
        assert_eq!(limiter.spent("k1", later), None);
        assert!(limiter.admit(&a, "k1", later).is_ok());
        assert!(limiter.admit(&a, "k1", later).is_err());
    }

    #[test]
    fn a_key_with_a_rate_of_its_own_is_held_to_it_and_others_to_the_default() {
        // Default 10 a second (burst 20). Key `slow` has its own 2 a second (burst 4): four pass
        // at one instant, the fifth waits 1/2 s; `spent` judges it by its own rate too. Key
        // `fast` has 100 a second (burst 200): 200 pass where the default would stop at 20.
        // Key `plain` gets the default's 20.
        let limiter = Limiter::new(RateLimits {
            per_key: Rate::per_second(10.0),
            per_tenant: Rate::UNLIMITED,
        });
        let now = Instant::now();
        let a = tenant("a");
        for _ in 0..4 {
            assert_eq!(limiter.admit_key(&a, "slow", Some(2), 1.0, now), Ok(()));
        }
        let refused = limiter
            .admit_key(&a, "slow", Some(2), 1.0, now)
            .unwrap_err();
        assert_eq!(refused.wait, Duration::from_millis(500));
        assert_eq!(
            limiter.spent("slow", now).map(|refusal| refusal.wait),
            Some(Duration::from_millis(500))
        );
        let passed = |key: &str, rate: Option<u32>, at: Instant| {
            (0..1_000)
                .take_while(|_| limiter.admit_key(&a, key, rate, 1.0, at).is_ok())
                .count()
        };
        assert_eq!(passed("fast", Some(100), now), 200);
        assert_eq!(passed("plain", None, now), 20);
        // Half a second on, `slow` has one token back at 2 a second; if its rate is raised to
        // 10 meanwhile, the half second refilled 5.
        let later = now + Duration::from_millis(500);
        assert_eq!(passed("slow", Some(10), later), 5);
        assert_eq!(
            limiter.spent("slow", later).map(|refusal| refusal.wait),
            Some(Duration::from_millis(100))
        );
    }
}
