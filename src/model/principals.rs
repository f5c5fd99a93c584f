//! IAM users and groups (a compatible addition to the snapshot: both lists default to empty and
//! are left out when empty). Real organizations keep users with access keys from before SSO;
//! `GetAccountAuthorizationDetails` returns them with their groups, inline, attached and
//! boundary policies.

use super::{Snapshot, Tags};
use crate::arn::Arn;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

use super::InlinePolicy;

/// An IAM user with every policy that shapes what it can do.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub arn: String,
    pub account: String,
    pub name: String,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub inline_policies: Vec<InlinePolicy>,
    /// ARNs of attached managed policies (their documents are in `managed_policies`).
    #[serde(default)]
    pub attached_policies: Vec<String>,
    /// ARN of the permission boundary policy, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_boundary: Option<String>,
    /// Names of the groups the user belongs to (groups of the same account).
    #[serde(default)]
    pub groups: Vec<String>,
}

/// An IAM group: its policies apply to every member.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub arn: String,
    pub account: String,
    pub name: String,
    #[serde(default)]
    pub inline_policies: Vec<InlinePolicy>,
    /// ARNs of attached managed policies (their documents are in `managed_policies`).
    #[serde(default)]
    pub attached_policies: Vec<String>,
}

type Invalid = (String, String);

/// Checks users and groups: ARN shapes and accounts, unique ARNs, parseable policies, managed
/// policies that resolve, and group memberships that name a group of the user's account.
pub fn validate_principals(s: &Snapshot) -> Result<(), Invalid> {
    let accounts: HashSet<&str> = s.organization.accounts.iter().map(|a| a.id.as_str()).collect();
    let managed: HashSet<&str> = s.managed_policies.iter().map(|p| p.arn.as_str()).collect();
    let mut seen: HashSet<&str> = s.roles.iter().map(|r| r.arn.as_str()).collect();
    let groups: HashSet<(&str, &str)> = s.groups.iter().map(|g| (g.account.as_str(), g.name.as_str())).collect();
    let entities = s
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| {
            (
                format!("users[{i}]"),
                &u.arn,
                &u.account,
                &u.inline_policies,
                &u.attached_policies,
            )
        })
        .chain(s.groups.iter().enumerate().map(|(i, g)| {
            (
                format!("groups[{i}]"),
                &g.arn,
                &g.account,
                &g.inline_policies,
                &g.attached_policies,
            )
        }));
    for (at, arn, account, inline, attached) in entities {
        let parsed = Arn::parse(arn).map_err(|e| (format!("{at}.arn"), e.to_string()))?;
        if !accounts.contains(account.as_str()) {
            return Err((
                format!("{at}.account"),
                format!("account `{account}` is not in `organization.accounts`"),
            ));
        }
        if parsed.account() != Some(account.as_str()) {
            return Err((
                format!("{at}.account"),
                format!("`{account}` differs from the account in ARN `{arn}`"),
            ));
        }
        if !seen.insert(arn.as_str()) {
            return Err((format!("{at}.arn"), format!("duplicate ARN `{arn}`")));
        }
        for (j, p) in inline.iter().enumerate() {
            p.document.policy().map_err(|e| {
                (
                    format!("{at}.inline_policies[{j}].document"),
                    format!("invalid policy document: {e}"),
                )
            })?;
        }
        for (j, a) in attached.iter().enumerate() {
            if !managed.contains(a.as_str()) {
                return Err((
                    format!("{at}.attached_policies[{j}]"),
                    format!("relation to unknown managed policy `{a}`: its document must be in `managed_policies`"),
                ));
            }
        }
    }
    for (i, u) in s.users.iter().enumerate() {
        if let Some(b) = &u.permission_boundary
            && !managed.contains(b.as_str())
        {
            return Err((
                format!("users[{i}].permission_boundary"),
                format!("relation to unknown managed policy `{b}`: its document must be in `managed_policies`"),
            ));
        }
        for (j, g) in u.groups.iter().enumerate() {
            if !groups.contains(&(u.account.as_str(), g.as_str())) {
                return Err((
                    format!("users[{i}].groups[{j}]"),
                    format!("unknown group `{g}` in account `{}`", u.account),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snapshot(user_groups: &[&str], attached: &[&str]) -> Result<Snapshot, serde_json::Error> {
        serde_json::from_value(json!({
            "schema_version": 1,
            "organization": {"accounts": [{"id": "111111111111", "name": "a"}]},
            "managed_policies": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess", "name": "ReadOnlyAccess",
                                  "document": {"Version": "2012-10-17", "Statement": []}}],
            "users": [{"arn": "arn:aws:iam::111111111111:user/deployer", "account": "111111111111", "name": "deployer",
                       "groups": user_groups, "attached_policies": attached}],
            "groups": [{"arn": "arn:aws:iam::111111111111:group/ops", "account": "111111111111", "name": "ops"}]
        }))
    }

    #[test]
    fn users_and_groups_validate() {
        let ok = snapshot(&["ops"], &["arn:aws:iam::aws:policy/ReadOnlyAccess"]).unwrap();
        assert_eq!(validate_principals(&ok), Ok(()));
        let bad_group = snapshot(&["admins"], &[]).unwrap();
        let (at, message) = validate_principals(&bad_group).unwrap_err();
        assert_eq!(at, "users[0].groups[0]");
        assert_eq!(message, "unknown group `admins` in account `111111111111`");
        let bad_policy = snapshot(&[], &["arn:aws:iam::aws:policy/Nope"]).unwrap();
        assert_eq!(
            validate_principals(&bad_policy).unwrap_err().0,
            "users[0].attached_policies[0]"
        );
    }

    #[test]
    fn snapshots_without_users_serialize_as_before() {
        let s: Snapshot =
            serde_json::from_value(json!({"schema_version": 1, "organization": {"accounts": []}})).unwrap();
        let text = serde_json::to_string(&s).unwrap();
        assert!(!text.contains("users") && !text.contains("groups"), "{text}");
    }
}
