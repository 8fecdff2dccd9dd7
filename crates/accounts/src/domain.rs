//! Rules of accounts as pure functions: the password policy, e-mail normalisation, the last-admin
//! rule and a station's jurisdiction. No I/O; the service loads what they need and applies them.
use ttx_core::{FieldError, FieldErrors, OrgKind, Role};

pub const MIN_PASSWORD: usize = 10;
pub const MAX_PASSWORD: usize = 128;

/// Password policy: 10 to 128 characters, not all the same character.
pub fn check_password(field: &str, p: &str, errs: &mut FieldErrors) {
    let n = p.chars().count();
    if n < MIN_PASSWORD {
        errs.add(
            field,
            "too_short",
            format!("must be at least {MIN_PASSWORD} characters"),
        );
    } else if n > MAX_PASSWORD {
        errs.add(
            field,
            "too_long",
            format!("must be at most {MAX_PASSWORD} characters"),
        );
    } else if p.chars().all(|c| p.starts_with(c)) {
        errs.add(field, "too_weak", "must not repeat a single character");
    }
}

/// E-mail addresses compare trimmed and lower-cased.
pub fn normalize_email(e: &str) -> String {
    e.trim().to_lowercase()
}

/// A member as the last-admin rule sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Membership {
    pub role: Role,
    pub active: bool,
}

impl Membership {
    pub fn is_active_admin(&self) -> bool {
        self.role == Role::OrgAdmin && self.active
    }
}

/// What breaking the last-admin rule looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LastAdmin {
    #[error("the last admin of an organisation cannot be demoted or removed")]
    Demoted,
    #[error("the last admin of an organisation cannot be removed")]
    Removed,
}

/// An organisation keeps at least one active admin: changing `cur` to `role` / `active` (each
/// `None` when unchanged) is refused when `cur` is an active admin, stops being one, and is one of
/// `active_admins` (the organisation's count, `cur` included) that number at most one.
pub fn check_member_change(
    cur: Membership,
    role: Option<Role>,
    active: Option<bool>,
    active_admins: u64,
) -> Result<(), LastAdmin> {
    let after = Membership {
        role: role.unwrap_or(cur.role),
        active: active.unwrap_or(cur.active),
    };
    if cur.is_active_admin() && !after.is_active_admin() && active_admins <= 1 {
        return Err(LastAdmin::Demoted);
    }
    Ok(())
}

/// Removing `cur` from an organisation with `active_admins` active admins.
pub fn check_member_removal(cur: Membership, active_admins: u64) -> Result<(), LastAdmin> {
    if cur.is_active_admin() && active_admins <= 1 {
        return Err(LastAdmin::Removed);
    }
    Ok(())
}

/// A role a member of a `kind` organisation may hold.
pub fn check_role(kind: OrgKind, role: Role) -> Result<(), FieldError> {
    if role.allowed_in(kind) {
        Ok(())
    } else {
        Err(FieldError::new(
            "role",
            "role_not_allowed",
            format!("role {role} is not allowed here"),
        ))
    }
}

/// Only stations have a jurisdiction: giving one (`given`) to another kind is refused.
pub fn check_jurisdiction_given(kind: OrgKind, given: bool) -> Result<(), FieldError> {
    if given && kind != OrgKind::Station {
        return Err(FieldError::new(
            "jurisdiction",
            "not_a_station",
            "only stations have a jurisdiction",
        ));
    }
    Ok(())
}

/// A verified station needs at least one region in its jurisdiction (`regions`, after the
/// change).
pub fn check_station_has_jurisdiction(kind: OrgKind, regions: u64) -> Result<(), FieldError> {
    if kind == OrgKind::Station && regions == 0 {
        return Err(FieldError::new(
            "jurisdiction",
            "required",
            "a station needs at least one region in its jurisdiction",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(p: &str) -> Vec<String> {
        let mut e = FieldErrors::new();
        check_password("password", p, &mut e);
        e.0.into_iter().map(|f| f.code).collect()
    }

    #[test]
    fn password_policy() {
        assert_eq!(pw("short"), ["too_short"]);
        assert_eq!(pw("aaaaaaaaaaaa"), ["too_weak"]);
        assert_eq!(pw(&"ab".repeat(65)), ["too_long"]);
        assert!(pw("correct horse").is_empty());
        assert!(
            pw(&"ab".repeat(64)).is_empty(),
            "128 characters are allowed"
        );
        // characters, not bytes
        assert!(pw("密码密码密码密码密码").is_empty());
        assert_eq!(pw("密码密码密码密码密"), ["too_short"]);
    }

    #[test]
    fn emails_compare_normalised() {
        assert_eq!(normalize_email("  Li.Wei@Example.CN "), "li.wei@example.cn");
    }

    const ADMIN: Membership = Membership {
        role: Role::OrgAdmin,
        active: true,
    };
    const MEMBER: Membership = Membership {
        role: Role::Member,
        active: true,
    };

    #[test]
    fn the_last_admin_stays() {
        assert_eq!(
            check_member_change(ADMIN, Some(Role::Member), None, 1),
            Err(LastAdmin::Demoted)
        );
        assert_eq!(
            check_member_change(ADMIN, None, Some(false), 1),
            Err(LastAdmin::Demoted)
        );
        assert_eq!(check_member_removal(ADMIN, 1), Err(LastAdmin::Removed));
        // with a second admin, or when staying an admin, or for a plain member: allowed
        assert_eq!(
            check_member_change(ADMIN, Some(Role::Member), None, 2),
            Ok(())
        );
        assert_eq!(
            check_member_change(ADMIN, Some(Role::OrgAdmin), Some(true), 1),
            Ok(())
        );
        assert_eq!(check_member_change(MEMBER, None, Some(false), 1), Ok(()));
        assert_eq!(check_member_removal(ADMIN, 2), Ok(()));
        assert_eq!(check_member_removal(MEMBER, 1), Ok(()));
        let inactive = Membership {
            active: false,
            ..ADMIN
        };
        assert_eq!(check_member_removal(inactive, 0), Ok(()));
    }

    #[test]
    fn roles_follow_the_org_kind() {
        assert!(check_role(OrgKind::Station, Role::StationReviewer).is_ok());
        let e = check_role(OrgKind::University, Role::StationReviewer).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("role", "role_not_allowed")
        );
    }

    #[test]
    fn a_station_needs_a_jurisdiction_and_only_a_station_has_one() {
        assert!(check_jurisdiction_given(OrgKind::Station, true).is_ok());
        assert!(check_jurisdiction_given(OrgKind::University, false).is_ok());
        assert_eq!(
            check_jurisdiction_given(OrgKind::University, true)
                .unwrap_err()
                .code,
            "not_a_station"
        );
        assert_eq!(
            check_station_has_jurisdiction(OrgKind::Station, 0)
                .unwrap_err()
                .code,
            "required"
        );
        assert!(check_station_has_jurisdiction(OrgKind::Station, 1).is_ok());
        assert!(check_station_has_jurisdiction(OrgKind::Enterprise, 0).is_ok());
    }
}
