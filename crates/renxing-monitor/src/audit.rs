//! The append-only audit log and its hash chain.
//!
//! Every change (units loaded, observations submitted, approvals, targets, users, plans) appends
//! one record in the same transaction as the change. Each record's hash is SHA-256 over the
//! previous record's hash and its own fields (each length-prefixed, so no two field lists hash
//! alike); the first record chains from 64 zeros. Editing, deleting or reordering any record
//! breaks the chain from there on, which [`verify`] reports with the first bad sequence number.

use serde::Serialize;
use sha2::{Digest, Sha256};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    pub seq: i64,
    /// UTC, RFC 3339.
    pub at: String,
    pub actor: String,
    pub action: String,
    /// What changed, e.g. `observation 410102/resident_population/2023`.
    pub entity: String,
    /// The change as JSON (new value, old value, source…).
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of a record with these fields after `prev`.
pub fn chain_hash(prev: &str, seq: i64, at: &str, actor: &str, action: &str, entity: &str, detail: &str) -> String {
    let mut h = Sha256::new();
    let seq = seq.to_string();
    for field in [prev, seq.as_str(), at, actor, action, entity, detail] {
        h.update((field.len() as u64).to_le_bytes());
        h.update(field.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    pub ok: bool,
    pub records: usize,
    /// Hash of the last good record.
    pub head: String,
    /// First record that does not verify, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Check records given in sequence order.
pub fn verify(records: impl IntoIterator<Item = Record>) -> Verification {
    let mut prev = GENESIS.to_string();
    let mut n = 0;
    for (expected_seq, r) in (1..).zip(records) {
        let fail = |reason: String| Verification {
            ok: false,
            records: n,
            head: prev.clone(),
            broken_at: Some(r.seq),
            reason: Some(reason),
        };
        if r.seq != expected_seq {
            return fail(format!(
                "sequence {} where {expected_seq} was expected (a record was removed)",
                r.seq
            ));
        }
        if r.prev_hash != prev {
            return fail("its previous hash does not match the record before it".into());
        }
        let h = chain_hash(&r.prev_hash, r.seq, &r.at, &r.actor, &r.action, &r.entity, &r.detail);
        if h != r.hash {
            return fail("its content does not match its hash (the record was edited)".into());
        }
        prev = r.hash;
        n += 1;
    }
    Verification {
        ok: true,
        records: n,
        head: prev,
        broken_at: None,
        reason: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<Record> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let detail = format!("{{\"value\":{seq}}}");
                let hash = chain_hash(&prev, seq, "2026-11-22T00:00:00Z", "admin", "submit", "x", &detail);
                let r = Record {
                    seq,
                    at: "2026-11-22T00:00:00Z".into(),
                    actor: "admin".into(),
                    action: "submit".into(),
                    entity: "x".into(),
                    detail,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                r
            })
            .collect()
    }

    #[test]
    fn edits_removals_and_reorders_are_found() {
        assert!(verify(chain(5)).ok);
        let mut c = chain(5);
        c[2].detail = "{\"value\":999}".into();
        let v = verify(c);
        assert_eq!((v.ok, v.broken_at, v.records), (false, Some(3), 2));
        assert!(v.reason.unwrap().contains("edited"));
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(verify(c).broken_at, Some(3));
        // Re-hashing an edited record still breaks the next link.
        let mut c = chain(5);
        c[2].detail = "{\"value\":999}".into();
        c[2].hash = chain_hash(&c[2].prev_hash, 3, &c[2].at, "admin", "submit", "x", &c[2].detail);
        assert_eq!(verify(c).broken_at, Some(4));
        // Field boundaries matter.
        assert_ne!(
            chain_hash(GENESIS, 1, "a", "bc", "d", "e", "f"),
            chain_hash(GENESIS, 1, "ab", "c", "d", "e", "f")
        );
    }
}
