//! API keys and roles.
//!
//! A key reads `flk_<key id>_<secret>`: the key id (16 hex digits) is public and finds the key's
//! row; the secret (256 random bits, 64 hex digits) is shown once, when the key is created, and
//! only its SHA-256 hash is stored. Keys travel as `Authorization: Bearer <key>`; a key in a
//! query string is refused, because query strings end up in logs and browser histories.
//!
//! Every operation names the [`Access`] it needs; each [`Role`] allows a fixed set of them.
//! The tenant a request acts for comes from its key and nowhere else.

use crate::error::{ApiError, Code};
use flowline_core::id::TenantId;
use flowline_store::{KeyRecord, Store, StoreError};
use jiff::Timestamp;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Everything, including master data, settings, costs, fixed assets and targets.
    Admin,
    /// Run operations: orders, receipts, work orders, returns, transfers, counts, improvement
    /// initiatives; and read.
    Operator,
    /// Read everything.
    Viewer,
    /// Read only the event feed and inventory positions: for systems that follow Flowline.
    Integration,
}

impl Role {
    /// Every role.
    pub const ALL: [Self; 4] = [Self::Admin, Self::Operator, Self::Viewer, Self::Integration];

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Operator => "operator",
            Self::Viewer => "viewer",
            Self::Integration => "integration",
        }
    }

    /// Parses a role name.
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == name)
            .ok_or_else(|| {
                format!(
                    "`{name}` is not a role; the roles are admin, operator, viewer, integration"
                )
            })
    }

    /// Whether the role allows an access level.
    pub fn allows(self, access: Access) -> bool {
        match access {
            Access::Public | Access::Feed => true,
            Access::Read => matches!(self, Self::Admin | Self::Operator | Self::Viewer),
            Access::Operate => matches!(self, Self::Admin | Self::Operator),
            Access::Administer => self == Self::Admin,
        }
    }
}

/// What an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// No key at all (the OpenAPI document, health, metrics).
    Public,
    /// Any valid key: the event feed and inventory positions.
    Feed,
    /// Reading documents, master data and balances.
    Read,
    /// Changing operational documents.
    Operate,
    /// Changing master data, settings, costs, fixed assets and targets.
    Administer,
}

impl Access {
    /// The name used in the OpenAPI document (`x-flowline-access`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Feed => "feed",
            Self::Read => "read",
            Self::Operate => "operate",
            Self::Administer => "administer",
        }
    }

    /// The roles that may use it.
    pub fn roles(self) -> Vec<Role> {
        Role::ALL
            .into_iter()
            .filter(|role| role.allows(self))
            .collect()
    }
}

/// Who is calling: the tenant and role of a valid, unrevoked key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The tenant every query and command of the request is scoped to.
    pub tenant: TenantId,
    /// The key's role.
    pub role: Role,
    /// The key's public id (never the secret), for the log.
    pub key_id: String,
    /// The key's own rate limit in requests a second, if it has one.
    pub requests_per_second: Option<u32>,
}

impl Principal {
    /// Refuses the request with 403 unless the role allows `access`.
    pub fn require(&self, access: Access) -> Result<(), ApiError> {
        if self.role.allows(access) {
            return Ok(());
        }
        let allowed: Vec<&str> = access.roles().iter().map(|role| role.as_str()).collect();
        Err(ApiError::new(
            Code::Forbidden,
            format!(
                "a key with role `{}` may not do this; it needs one of: {}",
                self.role.as_str(),
                allowed.join(", ")
            ),
            json!({ "role": self.role.as_str(), "allowed_roles": allowed }),
        ))
    }
}

/// A newly issued key: its stored record and the plaintext, to show once.
#[derive(Debug)]
pub struct IssuedKey {
    /// What is stored.
    pub record: KeyRecord,
    /// The key to hand to the user. Never stored, never logged.
    pub plaintext: String,
}

const PREFIX: &str = "flk_";

/// Issues a key for a registered tenant and stores its hash.
pub fn issue_key(
    store: &mut dyn Store,
    tenant: &TenantId,
    role: Role,
    label: &str,
    now: Timestamp,
) -> Result<IssuedKey, IssueError> {
    issue_limited_key(store, tenant, role, label, None, now)
}

/// [`issue_key`] for a key with a rate limit of its own, in requests a second (`None`: the
/// server's default).
pub fn issue_limited_key(
    store: &mut dyn Store,
    tenant: &TenantId,
    role: Role,
    label: &str,
    requests_per_second: Option<u32>,
    now: Timestamp,
) -> Result<IssuedKey, IssueError> {
    let mut id_bytes = [0u8; 8];
    let mut secret_bytes = [0u8; 32];
    getrandom::fill(&mut id_bytes).map_err(|error| IssueError::Random(error.to_string()))?;
    getrandom::fill(&mut secret_bytes).map_err(|error| IssueError::Random(error.to_string()))?;
    let key_id = hex::encode(id_bytes);
    let secret = hex::encode(secret_bytes);
    let record = KeyRecord {
        tenant: tenant.clone(),
        key_id: key_id.clone(),
        role: role.as_str().to_string(),
        label: label.to_string(),
        secret_hash: hash_secret(&secret),
        created_at: now,
        revoked_at: None,
        requests_per_second,
    };
    store.insert_key(&record)?;
    Ok(IssuedKey {
        record,
        plaintext: format!("{PREFIX}{key_id}_{secret}"),
    })
}

/// Why a key could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The operating system gave no random bytes.
    #[error("no randomness available: {0}")]
    Random(String),
    /// The store refused (unknown tenant, for one).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Splits a presented key into its id and secret, or says why it is not a key.
pub fn parse_key(presented: &str) -> Option<(&str, &str)> {
    let rest = presented.strip_prefix(PREFIX)?;
    let (key_id, secret) = rest.split_once('_')?;
    let hex_digits = |text: &str, length: usize| {
        text.len() == length && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    (hex_digits(key_id, 16) && hex_digits(secret, 64)).then_some((key_id, secret))
}

/// Checks a presented key against the store: the principal, or 401 saying why not.
pub fn authenticate(store: &dyn Store, presented: &str) -> Result<Principal, ApiError> {
    let refuse = |why: &str| ApiError::plain(Code::Unauthenticated, why.to_string());
    let Some((key_id, secret)) = parse_key(presented) else {
        return Err(refuse("the API key is not a Flowline key (flk_...)"));
    };
    let record = store
        .find_key(key_id)
        .map_err(crate::readers::store_error)?
        .ok_or_else(|| refuse("the API key is not valid"))?;
    if !same_hash(&record.secret_hash, &hash_secret(secret)) {
        return Err(refuse("the API key is not valid"));
    }
    if record.revoked_at.is_some() {
        return Err(refuse("the API key has been revoked"));
    }
    let role = Role::parse(&record.role).map_err(ApiError::internal)?;
    Ok(Principal {
        tenant: record.tenant,
        role,
        key_id: record.key_id,
        requests_per_second: record.requests_per_second,
    })
}

fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two hashes without stopping at the first difference, so the time taken says
/// nothing about how much of a guess was right.
fn same_hash(stored: &str, computed: &str) -> bool {
    stored.as_bytes().ct_eq(computed.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_allow_exactly_their_access_levels() {
        use Access::*;
        // Rows: admin, operator, viewer, integration; columns: feed, read, operate, administer.
        let expected = [
            [true, true, true, true],
            [true, true, true, false],
            [true, true, false, false],
            [true, false, false, false],
        ];
        for (role, row) in Role::ALL.into_iter().zip(expected) {
            let actual = [Feed, Read, Operate, Administer].map(|access| role.allows(access));
            assert_eq!(actual, row, "{role:?}");
        }
    }

    #[test]
    fn only_well_formed_keys_parse() {
        let id = "0123456789abcdef";
        let secret = "a".repeat(64);
        assert_eq!(
            parse_key(&format!("flk_{id}_{secret}")),
            Some((id, secret.as_str()))
        );
        assert_eq!(parse_key(&format!("flk_{id}_{}", "A".repeat(64))), None);
        assert_eq!(parse_key(&format!("flk_{id}_{}", "a".repeat(63))), None);
        assert_eq!(parse_key(&format!("sk_{id}_{secret}")), None);
        assert_eq!(parse_key(""), None);
    }

    #[test]
    fn the_stored_hash_is_the_sha256_of_the_secret() {
        // SHA-256("abc") is the FIPS 180-2 test vector ba7816bf...f20015ad.
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(same_hash("ab", "ab"));
        assert!(!same_hash("ab", "ac"));
        assert!(!same_hash("ab", "abc"));
    }

    #[test]
    fn issued_ids_and_secrets_are_hex_that_parse_key_accepts() {
        // parse_key accepts lowercase digits only, so the encoding of issued keys must be
        // lowercase: 0xAB is `ab`, never `AB`.
        let key_id = hex::encode([0xab_u8; 8]);
        let secret = hex::encode([0x0f_u8; 32]);
        assert_eq!(key_id, "abababababababab");
        assert_eq!(
            parse_key(&format!("flk_{key_id}_{secret}")),
            Some((key_id.as_str(), secret.as_str()))
        );
    }
}
