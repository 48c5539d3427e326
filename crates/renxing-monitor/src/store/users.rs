//! Users managed by the admins of each level (the command line adds the first ones): the users of
//! a subtree, removing one (its sessions end with it), and a user's own password change.

use serde::Serialize;

use super::backend::Backend;
use super::{Monitor, append_audit, hash_password, verify_password};
use crate::access::{Action, Principal};
use crate::{MonitorError, Result};

/// A user as an admin sees it (never a hash).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserInfo {
    pub name: String,
    pub unit: String,
    pub role: String,
    /// Whether the user can log in with a password (else with the API token only).
    pub has_password: bool,
    pub created_at: String,
}

impl<B: Backend> Monitor<B> {
    /// The users holding a role on `unit` or below it, by unit path and name; `by` must be an
    /// admin over `unit`.
    pub fn users_under(&self, by: &Principal, unit: &str) -> Result<Vec<UserInfo>> {
        self.read(|tx| {
            let u = Self::unit_in(tx, unit)?;
            if !by.allows(Action::Administer, &u.path) {
                return Err(MonitorError::Forbidden(format!(
                    "{} may not list users of {unit}",
                    by.name()
                )));
            }
            tx.query(
                "SELECT s.name, s.unit, s.role, s.password_hash IS NOT NULL, s.created_at
                 FROM users s JOIN units n ON n.code = s.unit
                 WHERE n.path = $1 OR n.path LIKE $2 ORDER BY n.path, s.name",
                &[(&u.path).into(), format!("{}/%", u.path).into()],
            )?
            .iter()
            .map(|r| {
                Ok(UserInfo {
                    name: r[0].text(),
                    unit: r[1].text(),
                    role: r[2].text(),
                    has_password: r[3].as_i64() == Some(1),
                    created_at: r[4].text(),
                })
            })
            .collect()
        })
    }

    /// Remove user `name` and end its sessions; `by` must be an admin over the user's unit and
    /// not the user itself. Its past submissions keep its name.
    pub fn remove_user(&self, by: &Principal, name: &str) -> Result<()> {
        self.write(|tx| {
            let rows = tx.query(
                "SELECT n.path, s.unit, s.role FROM users s JOIN units n ON n.code = s.unit WHERE s.name = $1",
                &[name.into()],
            )?;
            let r = rows
                .first()
                .ok_or_else(|| MonitorError::NotFound(format!("user {name:?}")))?;
            if !by.allows(Action::Administer, &r[0].text()) {
                return Err(MonitorError::Forbidden(format!(
                    "{} may not remove {name:?}",
                    by.name()
                )));
            }
            if by.name() == name {
                return Err(MonitorError::invalid("name", "an admin cannot remove itself"));
            }
            let sessions = tx.exec("DELETE FROM sessions WHERE name = $1", &[name.into()])?;
            tx.exec("DELETE FROM users WHERE name = $1", &[name.into()])?;
            append_audit(
                tx,
                by.name(),
                "remove_user",
                &format!("user {name}"),
                &serde_json::json!({ "unit": r[1].text(), "role": r[2].text(), "sessions_ended": sessions }),
            )
        })
    }

    /// Change the caller's own password (`current` must match when it has one); every session of
    /// the user ends, so other devices log in again. Returns how many sessions ended.
    pub fn change_password(&self, by: &Principal, current: Option<&str>, new: &str) -> Result<u64> {
        let Principal::User { name, .. } = by else {
            return Err(MonitorError::Unauthenticated("log in first".into()));
        };
        let new_hash = hash_password(new)?;
        let stored = self.read(|tx| {
            Ok(tx
                .query("SELECT password_hash FROM users WHERE name = $1", &[name.into()])?
                .first()
                .map(|r| r[0].as_str().map(str::to_string)))
        })?;
        let Some(stored) = stored else {
            return Err(MonitorError::NotFound(format!("user {name:?}")));
        };
        if let Some(h) = &stored
            && !current.is_some_and(|c| verify_password(c, h))
        {
            return Err(MonitorError::Forbidden("the current password is wrong".into()));
        }
        self.write(|tx| {
            // Changed meanwhile by another request: refuse rather than overwrite.
            let now_stored = tx
                .query("SELECT password_hash FROM users WHERE name = $1", &[name.into()])?
                .first()
                .map(|r| r[0].as_str().map(str::to_string));
            if now_stored.as_ref() != Some(&stored) {
                return Err(MonitorError::Conflict(
                    "the password changed meanwhile; try again".into(),
                ));
            }
            tx.exec(
                "UPDATE users SET password_hash = $1 WHERE name = $2",
                &[(&new_hash).into(), name.into()],
            )?;
            let ended = tx.exec("DELETE FROM sessions WHERE name = $1", &[name.into()])?;
            append_audit(
                tx,
                name,
                "change_password",
                &format!("user {name}"),
                &serde_json::json!({ "sessions_ended": ended }),
            )?;
            Ok(ended)
        })
    }
}
