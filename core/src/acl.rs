//! Request signing, as RocketMQ's ACL 1.0 computes it (`AclClientRPCHook`,
//! `AclUtils.combineRequestContent`, `AclSigner.calSignature`), so Java and C++ clients and
//! brokers configured with an access key and secret key sign requests we can verify.
//!
//! content   = the values of every extFields entry except `Signature`, in key order, as UTF-8
//!             (so `AccessKey` and `SecurityToken` are covered), followed by the body bytes
//! Signature = Base64(HMAC-SHA1(secretKey, content))
//!
//! Apache's NameServer checks nothing; with `aclEnable=true` ours refuses unsigned or wrongly
//! signed requests that change state (and reads too with `aclProtectReads=true`).

use std::collections::BTreeMap;

use base64::Engine as _;
use hmac::{KeyInit, Mac};

use crate::protocol::codes::AclClass;
use crate::protocol::RemotingCommand;

type HmacSha1 = hmac::Hmac<sha1::Sha1>;

/// The extFields key naming the signer's access key (`SessionCredentials.ACCESS_KEY`).
pub const ACCESS_KEY: &str = "AccessKey";
/// The extFields key carrying the Base64 HMAC-SHA1 signature (`SessionCredentials.SIGNATURE`).
pub const SIGNATURE: &str = "Signature";

/// A secret key; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps a secret key given as text (its UTF-8 bytes are the HMAC key).
    pub fn new(s: &str) -> Self {
        Self(s.as_bytes().to_vec())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Accounts: access key → secret key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accounts(pub BTreeMap<String, Secret>);

impl Accounts {
    /// Parses `accessKey=secretKey` lines (Java `.properties` syntax).
    pub fn from_properties(text: &str) -> Result<Self, String> {
        let mut accounts = BTreeMap::new();
        for (k, v) in crate::config::parse_properties(text)? {
            let (k, v) = (k.trim().to_owned(), v.trim().to_owned());
            if k.is_empty() || v.is_empty() {
                return Err(format!(
                    "account {k:?} has an empty access key or secret key"
                ));
            }
            accounts.insert(k, Secret::new(&v));
        }
        Ok(Self(accounts))
    }
}

/// Why a request was refused (answered 16 NO_PERMISSION; the reason goes in the remark).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthError {
    /// The request has no `AccessKey` extField.
    MissingAccessKey,
    /// The `AccessKey` (given) is not in the accounts.
    UnknownAccessKey(String),
    /// A known access key signed nothing: the request has no `Signature` extField.
    MissingSignature {
        /// The request's `AccessKey`.
        access_key: String,
    },
    /// The `Signature` is not Base64 or does not match the one computed with the account's secret.
    BadSignature {
        /// The request's `AccessKey`.
        access_key: String,
    },
}

impl AuthError {
    /// The access key the request named, if it named one.
    pub fn access_key(&self) -> Option<&str> {
        match self {
            AuthError::MissingAccessKey => None,
            AuthError::UnknownAccessKey(k)
            | AuthError::MissingSignature { access_key: k }
            | AuthError::BadSignature { access_key: k } => Some(k),
        }
    }

    /// A short stable name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            AuthError::MissingAccessKey => "missing_access_key",
            AuthError::UnknownAccessKey(_) => "unknown_access_key",
            AuthError::MissingSignature { .. } => "missing_signature",
            AuthError::BadSignature { .. } => "bad_signature",
        }
    }
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthError::MissingAccessKey => {
                f.write_str("No permission: the request carries no AccessKey")
            }
            AuthError::UnknownAccessKey(k) => write!(f, "No permission: unknown AccessKey {k}"),
            AuthError::MissingSignature { access_key } => {
                write!(
                    f,
                    "No permission: the request from AccessKey {access_key} carries no Signature"
                )
            }
            AuthError::BadSignature { access_key } => {
                write!(f, "No permission: the Signature of the request from AccessKey {access_key} does not match")
            }
        }
    }
}

/// The bytes that are signed.
pub fn content(cmd: &RemotingCommand) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(ext) = &cmd.ext_fields {
        // BTreeMap iterates in key order, as Java's TreeMap does for these ASCII keys.
        for (k, v) in ext {
            if k != SIGNATURE {
                out.extend_from_slice(v.as_bytes());
            }
        }
    }
    if let Some(body) = &cmd.body {
        out.extend_from_slice(body);
    }
    out
}

fn mac(secret: &Secret, cmd: &RemotingCommand) -> HmacSha1 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha1 as KeyInit>::new_from_slice(&secret.0)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(&content(cmd));
    mac
}

/// `AclSigner.calSignature`: what a client with `secret` puts in `Signature`.
pub fn sign(secret: &Secret, cmd: &RemotingCommand) -> String {
    base64::engine::general_purpose::STANDARD.encode(mac(secret, cmd).finalize().into_bytes())
}

/// Verifies a request's signature; the comparison is constant-time.
pub fn verify(accounts: &Accounts, cmd: &RemotingCommand) -> Result<(), AuthError> {
    let access_key = cmd.ext(ACCESS_KEY).ok_or(AuthError::MissingAccessKey)?;
    let secret = accounts
        .0
        .get(access_key)
        .ok_or_else(|| AuthError::UnknownAccessKey(access_key.to_owned()))?;
    let given = cmd
        .ext(SIGNATURE)
        .ok_or_else(|| AuthError::MissingSignature {
            access_key: access_key.to_owned(),
        })?;
    let bad = || AuthError::BadSignature {
        access_key: access_key.to_owned(),
    };
    let given = base64::engine::general_purpose::STANDARD
        .decode(given.trim())
        .map_err(|_| bad())?;
    mac(secret, cmd).verify_slice(&given).map_err(|_| bad())
}

/// Whether `aclEnable` requires `code` to be signed: always for writes and heartbeats, for reads
/// only with `aclProtectReads` (which, being the strict setting, also covers unknown codes).
/// From the one request-code table.
pub fn needs_signature(code: i32, protect_reads: bool) -> bool {
    match crate::protocol::codes::lookup(code).map(|c| c.acl) {
        Some(AclClass::Always) => true,
        Some(AclClass::WhenProtectReads) | None => protect_reads,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts() -> Accounts {
        Accounts::from_properties("rocketmq2=12345678\n").unwrap()
    }

    #[test]
    fn signs_values_in_key_order_then_body() {
        let cmd = RemotingCommand::request(100)
            .with_ext("namespace", "NS")
            .with_ext("key", "k")
            .with_ext(ACCESS_KEY, "rocketmq2")
            .with_body("B");
        // Keys in order: AccessKey, key, namespace.
        assert_eq!(content(&cmd), b"rocketmq2kNSB");
    }

    #[test]
    fn verify_accepts_own_signature_and_refuses_tampering() {
        let a = accounts();
        let mut cmd = RemotingCommand::request(100)
            .with_ext("namespace", "NS")
            .with_ext(ACCESS_KEY, "rocketmq2");
        let sig = sign(&Secret::new("12345678"), &cmd);
        cmd = cmd.with_ext(SIGNATURE, sig);
        assert_eq!(verify(&a, &cmd), Ok(()));
        let tampered = cmd.clone().with_ext("namespace", "OTHER");
        assert!(matches!(
            verify(&a, &tampered),
            Err(AuthError::BadSignature { .. })
        ));
        let unknown = cmd.clone().with_ext(ACCESS_KEY, "who");
        assert_eq!(
            verify(&a, &unknown),
            Err(AuthError::UnknownAccessKey("who".into()))
        );
        assert_eq!(
            verify(&a, &RemotingCommand::request(100)),
            Err(AuthError::MissingAccessKey)
        );
        let garbage = cmd.with_ext(SIGNATURE, "not base64!");
        assert!(matches!(
            verify(&a, &garbage),
            Err(AuthError::BadSignature { .. })
        ));
    }

    #[test]
    fn secrets_are_not_printed() {
        assert!(!format!("{:?}", accounts()).contains("12345678"));
    }
}
