//! Roles per unit, inherited down its subtree only.
//!
//! A user holds one role on one unit. The role applies to that unit and every unit below it,
//! never to its parent or siblings: a county editor cannot read the unpublished data of, or
//! write to, any other county. The public (no role) reads published values only.
//!
//! | action | viewer | editor | reviewer | admin |
//! |---|---|---|---|---|
//! | read unpublished values in the subtree | ✓ | ✓ | ✓ | ✓ |
//! | submit observations, draft and submit plans for units in the subtree | | ✓ | | ✓ |
//! | approve (publish) submissions and plans of units strictly below | | | ✓ | ✓ |
//! | set targets and allocations of units strictly below | | ✓ | ✓ | ✓ |
//! | manage users in the subtree | | | | ✓ |
//!
//! Approval and targets come from the level above: a city reviewer approves its counties'
//! submissions and a city editor allocates the city's targets to them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Editor,
    Reviewer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Viewer, Role::Editor, Role::Reviewer, Role::Admin]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ReadUnpublished,
    Submit,
    Approve,
    SetTarget,
    Administer,
}

/// Who is asking: a user with a role on a unit (by its path), or the public.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Principal {
    Public,
    User {
        name: String,
        role: Role,
        unit: String,
        unit_path: String,
    },
}

impl Principal {
    pub fn name(&self) -> &str {
        match self {
            Principal::Public => "public",
            Principal::User { name, .. } => name,
        }
    }

    /// Whether this principal may do `action` on the unit at `target_path`.
    pub fn allows(&self, action: Action, target_path: &str) -> bool {
        let Principal::User { role, unit_path, .. } = self else {
            return false;
        };
        let within = target_path == unit_path || target_path.starts_with(&format!("{unit_path}/"));
        let below = within && target_path != unit_path;
        match action {
            Action::ReadUnpublished => within,
            Action::Submit => within && matches!(role, Role::Editor | Role::Admin),
            Action::Approve => below && matches!(role, Role::Reviewer | Role::Admin),
            Action::SetTarget => (below && *role >= Role::Editor) || (within && *role == Role::Admin),
            Action::Administer => within && *role == Role::Admin,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, path: &str) -> Principal {
        Principal::User {
            name: "u".into(),
            role,
            unit: path.rsplit('/').next().unwrap().into(),
            unit_path: path.into(),
        }
    }

    #[test]
    fn roles_reach_down_their_subtree_only() {
        let zz = "100000/410000/410100";
        let zhongyuan = "100000/410000/410100/410102";
        let erqi = "100000/410000/410100/410103";
        let county_editor = user(Role::Editor, zhongyuan);
        assert!(county_editor.allows(Action::Submit, zhongyuan));
        assert!(county_editor.allows(Action::Submit, &format!("{zhongyuan}/410102001")));
        assert!(!county_editor.allows(Action::Submit, erqi));
        assert!(!county_editor.allows(Action::ReadUnpublished, erqi));
        assert!(!county_editor.allows(Action::ReadUnpublished, zz));
        assert!(!county_editor.allows(Action::Approve, zhongyuan));
        // A path prefix that is not an ancestor: 4101020 is not below 410102.
        assert!(!county_editor.allows(Action::Submit, "100000/410000/410100/4101020"));
        let city_reviewer = user(Role::Reviewer, zz);
        assert!(city_reviewer.allows(Action::Approve, zhongyuan));
        assert!(!city_reviewer.allows(Action::Approve, zz));
        assert!(!city_reviewer.allows(Action::Submit, zhongyuan));
        assert!(user(Role::Editor, zz).allows(Action::SetTarget, erqi));
        assert!(!user(Role::Editor, zz).allows(Action::SetTarget, zz));
        assert!(user(Role::Admin, zz).allows(Action::SetTarget, zz));
        assert!(!Principal::Public.allows(Action::ReadUnpublished, zz));
    }
}
