//! Evaluation tests: the facts the guardrails rely on.

use super::*;
use crate::arn::Arn;
use serde_json::json;

fn policy(v: serde_json::Value) -> Policy {
    Policy::from_value(&v).unwrap()
}

const ROLE: &str = "arn:aws:iam::111111111111:role/responder";
const TABLE: &str = "arn:aws:dynamodb:eu-west-1:999999999999:table/orders";
const OWN_TABLE: &str = "arn:aws:dynamodb:eu-west-1:111111111111:table/own";

fn req<'a>(action: &'a str, resource: &'a str, ctx: &'a RequestContext) -> Request<'a> {
    let resource_account = Arn::parse(resource).ok().and_then(|a| a.account());
    Request {
        principal: ROLE,
        principal_account: "111111111111",
        action,
        resource,
        resource_account,
        context: ctx,
    }
}

fn admin() -> Policy {
    policy(json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
}

fn full_access_scp() -> Policy {
    policy(json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
}

#[test]
fn identity_allow_grants_same_account_with_evidence() {
    let ctx = RequestContext::new();
    let a = admin();
    let set = PolicySet {
        identity: vec![NamedPolicy {
            name: "AdministratorAccess",
            policy: &a,
        }],
        ..Default::default()
    };
    assert_eq!(
        evaluate(&req("dynamodb:PutItem", OWN_TABLE, &ctx), &set),
        Decision::Allowed {
            grants: vec![StatementRef {
                policy: "AdministratorAccess".into(),
                statement: "#0".into()
            }]
        }
    );
    // Cross-account without a resource policy: denied.
    assert_eq!(
        evaluate(&req("dynamodb:PutItem", TABLE, &ctx), &set),
        Decision::Denied(DenyReason::NoAllow)
    );
}

#[test]
fn scp_that_denies_writes_makes_a_role_read_only() {
    let ctx = RequestContext::new();
    let a = admin();
    let full = full_access_scp();
    let deny_writes = policy(
        json!({"Statement": [{"Effect": "Deny", "Action": ["dynamodb:Put*", "dynamodb:Delete*", "dynamodb:Update*"], "Resource": "*"}]}),
    );
    let set = PolicySet {
        identity: vec![NamedPolicy {
            name: "admin",
            policy: &a,
        }],
        // Each level keeps FullAWSAccess, as AWS attaches it by default; a level with only the
        // deny would allow nothing at all.
        scps: vec![
            vec![NamedPolicy {
                name: "FullAWSAccess",
                policy: &full,
            }],
            vec![
                NamedPolicy {
                    name: "FullAWSAccess",
                    policy: &full,
                },
                NamedPolicy {
                    name: "deny-writes",
                    policy: &deny_writes,
                },
            ],
        ],
        ..Default::default()
    };
    assert!(matches!(
        evaluate(&req("dynamodb:PutItem", OWN_TABLE, &ctx), &set),
        Decision::Denied(DenyReason::Explicit(_))
    ));
    assert!(matches!(
        evaluate(&req("dynamodb:GetItem", OWN_TABLE, &ctx), &set),
        Decision::Allowed { .. }
    ));
    let deny_only = PolicySet {
        scps: vec![vec![NamedPolicy {
            name: "deny-writes",
            policy: &deny_writes,
        }]],
        ..set.clone()
    };
    assert_eq!(
        evaluate(&req("dynamodb:GetItem", OWN_TABLE, &ctx), &deny_only),
        Decision::Denied(DenyReason::Scp(0))
    );
    // An OU level whose SCPs allow only reads denies writes implicitly.
    let reads_only = policy(
        json!({"Statement": [{"Effect": "Allow", "Action": ["dynamodb:Get*", "dynamodb:Describe*"], "Resource": "*"}]}),
    );
    let set = PolicySet {
        identity: vec![NamedPolicy {
            name: "admin",
            policy: &a,
        }],
        scps: vec![
            vec![NamedPolicy {
                name: "FullAWSAccess",
                policy: &full,
            }],
            vec![NamedPolicy {
                name: "reads",
                policy: &reads_only,
            }],
        ],
        ..Default::default()
    };
    assert_eq!(
        evaluate(&req("dynamodb:PutItem", OWN_TABLE, &ctx), &set),
        Decision::Denied(DenyReason::Scp(1))
    );
    // Service-linked roles are exempt.
    let exempt = PolicySet {
        scp_exempt: true,
        ..set.clone()
    };
    assert!(matches!(
        evaluate(&req("dynamodb:PutItem", OWN_TABLE, &ctx), &exempt),
        Decision::Allowed { .. }
    ));
}

/// "SCPs don't affect users or roles in the management account", Deny statements included:
/// <https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html>
/// (found by the IAMSpy differential corpus, case `test_can_i[21]`).
#[test]
fn scp_denies_do_not_apply_to_exempt_principals() {
    let ctx = RequestContext::new();
    let a = admin();
    let full = policy(json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}));
    let deny = policy(json!({"Statement": [{"Effect": "Deny", "Action": "dynamodb:PutItem", "Resource": "*"}]}));
    let set = PolicySet {
        identity: vec![NamedPolicy {
            name: "admin",
            policy: &a,
        }],
        scps: vec![vec![
            NamedPolicy {
                name: "FullAWSAccess",
                policy: &full,
            },
            NamedPolicy {
                name: "deny-put",
                policy: &deny,
            },
        ]],
        ..Default::default()
    };
    // A member account's principal: the SCP's Deny wins.
    assert!(matches!(
        evaluate(&req("dynamodb:PutItem", OWN_TABLE, &ctx), &set),
        Decision::Denied(DenyReason::Explicit(_))
    ));
    // The management account (or a service-linked role): no SCP applies, Deny included.
    let exempt = PolicySet {
        scp_exempt: true,
        ..set.clone()
    };
    assert!(matches!(
        evaluate(&req("dynamodb:PutItem", OWN_TABLE, &ctx), &exempt),
        Decision::Allowed { .. }
    ));
    // Near miss: a Deny in the identity policy still applies to an exempt principal.
    let identity_deny = PolicySet {
        identity: vec![
            NamedPolicy {
                name: "admin",
                policy: &a,
            },
            NamedPolicy {
                name: "deny-put",
                policy: &deny,
            },
        ],
        ..exempt.clone()
    };
    assert!(matches!(
        evaluate(&req("dynamodb:PutItem", OWN_TABLE, &ctx), &identity_deny),
        Decision::Denied(DenyReason::Explicit(_))
    ));
}

#[test]
fn permission_boundary_limits_identity_allows() {
    let ctx = RequestContext::new();
    let a = admin();
    let boundary = policy(
        json!({"Statement": [{"Effect": "Allow", "Action": ["dynamodb:Get*", "dynamodb:Describe*"], "Resource": "*"}]}),
    );
    let set = PolicySet {
        identity: vec![NamedPolicy {
            name: "admin",
            policy: &a,
        }],
        boundary: Some(NamedPolicy {
            name: "b",
            policy: &boundary,
        }),
        ..Default::default()
    };
    assert_eq!(
        evaluate(&req("dynamodb:PutItem", OWN_TABLE, &ctx), &set),
        Decision::Denied(DenyReason::Boundary)
    );
    assert!(matches!(
        evaluate(&req("dynamodb:GetItem", OWN_TABLE, &ctx), &set),
        Decision::Allowed { .. }
    ));
}

#[test]
fn not_action_allowing_everything_but_iam_is_write_access() {
    let ctx = RequestContext::new();
    let p = policy(json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}));
    let set = PolicySet {
        identity: vec![NamedPolicy {
            name: "power",
            policy: &p,
        }],
        ..Default::default()
    };
    assert!(matches!(
        evaluate(&req("dynamodb:DeleteTable", OWN_TABLE, &ctx), &set),
        Decision::Allowed { .. }
    ));
    assert!(evaluate(&req("iam:CreateUser", "arn:aws:iam::111111111111:user/x", &ctx), &set).is_denied());
    assert!(
        evaluate(&req("IAM:createuser", "arn:aws:iam::111111111111:user/x", &ctx), &set).is_denied(),
        "actions are case-insensitive"
    );
}

#[test]
fn unknown_condition_key_makes_the_grant_conditional_and_names_it() {
    let ctx = RequestContext::new();
    let p = policy(
        json!({"Statement": [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}),
    );
    let set = PolicySet {
        identity: vec![NamedPolicy {
            name: "mfa",
            policy: &p,
        }],
        ..Default::default()
    };
    match evaluate(&req("dynamodb:PutItem", OWN_TABLE, &ctx), &set) {
        Decision::Conditional { keys, grants } => {
            assert_eq!(keys, vec!["aws:MultiFactorAuthPresent".to_string()]);
            assert_eq!(grants.len(), 1);
        }
        other => panic!("expected conditional, got {other:?}"),
    }
    // A deny on an unknown key does not silently deny: the allow becomes conditional.
    let a = admin();
    let d = policy(
        json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}),
    );
    let set = PolicySet {
        identity: vec![
            NamedPolicy {
                name: "admin",
                policy: &a,
            },
            NamedPolicy { name: "ip", policy: &d },
        ],
        ..Default::default()
    };
    assert!(matches!(
        evaluate(&req("dynamodb:PutItem", OWN_TABLE, &ctx), &set),
        Decision::Conditional { .. }
    ));
}

// A deny outside the corporate range, the common shape of an IP guard, decided from a known
// `aws:SourceIp` (condition.rs has the operator's own cases).
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IPAddress
#[test]
fn fires_a_known_source_ip_outside_the_range_is_denied_and_inside_allowed() {
    let a = admin();
    let d = policy(
        json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}}}]}),
    );
    let set = PolicySet {
        identity: vec![
            NamedPolicy {
                name: "admin",
                policy: &a,
            },
            NamedPolicy { name: "ip", policy: &d },
        ],
        ..Default::default()
    };
    let decide = |addr: &str| {
        let mut ctx = RequestContext::new();
        ctx.set("aws:SourceIp", addr);
        evaluate(&req("dynamodb:PutItem", OWN_TABLE, &ctx), &set)
    };
    assert!(matches!(decide("192.0.2.1"), Decision::Denied(DenyReason::Explicit(_))));
    assert!(matches!(
        decide("2001:db9::1"),
        Decision::Denied(DenyReason::Explicit(_))
    ));
    assert!(matches!(decide("10.255.255.255"), Decision::Allowed { .. }));
    assert!(matches!(decide("2001:db8::1"), Decision::Allowed { .. }));
    // An absent address satisfies a negated operator (as for the string operators), so the deny
    // applies; unknown leaves the allow conditional on the key.
    let mut ctx = RequestContext::new();
    ctx.absent("aws:SourceIp");
    assert!(matches!(
        evaluate(&req("dynamodb:PutItem", OWN_TABLE, &ctx), &set),
        Decision::Denied(DenyReason::Explicit(_))
    ));
    match evaluate(&req("dynamodb:PutItem", OWN_TABLE, &RequestContext::new()), &set) {
        Decision::Conditional { keys, .. } => assert_eq!(keys, vec!["aws:SourceIp".to_string()]),
        other => panic!("expected conditional, got {other:?}"),
    }
}

#[test]
fn known_condition_keys_decide() {
    let mut ctx = RequestContext::new();
    ctx.set("aws:PrincipalOrgID", "o-abc");
    let a = admin();
    let rp = policy(
        json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "dynamodb:*", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}]}),
    );
    let set = PolicySet {
        identity: vec![NamedPolicy {
            name: "admin",
            policy: &a,
        }],
        resource_policy: Some(NamedPolicy {
            name: "table policy",
            policy: &rp,
        }),
        ..Default::default()
    };
    assert!(
        matches!(
            evaluate(&req("dynamodb:PutItem", TABLE, &ctx), &set),
            Decision::Allowed { .. }
        ),
        "cross-account: identity and resource policy both allow"
    );
    ctx.set("aws:PrincipalOrgID", "o-other");
    assert!(evaluate(&req("dynamodb:PutItem", TABLE, &ctx), &set).is_denied());
}

#[test]
fn resource_policy_naming_the_role_grants_same_account_alone() {
    let ctx = RequestContext::new();
    let rp = policy(
        json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "dynamodb:GetItem", "Resource": OWN_TABLE}]}),
    );
    let set = PolicySet {
        resource_policy: Some(NamedPolicy {
            name: "rp",
            policy: &rp,
        }),
        ..Default::default()
    };
    assert!(matches!(
        evaluate(&req("dynamodb:GetItem", OWN_TABLE, &ctx), &set),
        Decision::Allowed { .. }
    ));
    // Naming the account only delegates to identity policies.
    let rp = policy(
        json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "dynamodb:GetItem", "Resource": OWN_TABLE}]}),
    );
    let set = PolicySet {
        resource_policy: Some(NamedPolicy {
            name: "rp",
            policy: &rp,
        }),
        ..Default::default()
    };
    assert!(evaluate(&req("dynamodb:GetItem", OWN_TABLE, &ctx), &set).is_denied());
    // NotResource excludes.
    let p = policy(json!({"Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "NotResource": OWN_TABLE}]}));
    let set = PolicySet {
        identity: vec![NamedPolicy { name: "p", policy: &p }],
        ..Default::default()
    };
    assert!(evaluate(&req("dynamodb:GetItem", OWN_TABLE, &ctx), &set).is_denied());
}

#[test]
fn resource_control_policies_limit_access_to_the_resource_account() {
    let mut ctx = RequestContext::new();
    ctx.set("aws:PrincipalOrgID", "o-abc");
    let a = admin();
    let rp = policy(
        json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "dynamodb:*", "Resource": "*"}]}),
    );
    // RCPs always name `"Principal": "*"`, as AWS's RCPFullAWSAccess does.
    let full = policy(json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}));
    let org_only = policy(
        json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "dynamodb:*", "Resource": "*",
        "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}}}]}),
    );
    let set = PolicySet {
        identity: vec![NamedPolicy {
            name: "admin",
            policy: &a,
        }],
        resource_policy: Some(NamedPolicy {
            name: "table",
            policy: &rp,
        }),
        rcps: vec![vec![
            NamedPolicy {
                name: "RCPFullAWSAccess",
                policy: &full,
            },
            NamedPolicy {
                name: "org-only",
                policy: &org_only,
            },
        ]],
        ..Default::default()
    };
    assert!(
        matches!(
            evaluate(&req("dynamodb:PutItem", TABLE, &ctx), &set),
            Decision::Allowed { .. }
        ),
        "inside the organization"
    );
    ctx.set("aws:PrincipalOrgID", "o-elsewhere");
    assert!(matches!(
        evaluate(&req("dynamodb:PutItem", TABLE, &ctx), &set),
        Decision::Denied(DenyReason::Explicit(_))
    ));
    // An RCP level that allows nothing denies implicitly.
    let none = PolicySet {
        rcps: vec![vec![NamedPolicy {
            name: "org-only",
            policy: &org_only,
        }]],
        ..set.clone()
    };
    ctx.set("aws:PrincipalOrgID", "o-abc");
    assert_eq!(
        evaluate(&req("dynamodb:PutItem", TABLE, &ctx), &none),
        Decision::Denied(DenyReason::Rcp(0))
    );
}

// `${*}`, `${?}` and `${$}` in a Resource are the literal characters, not wildcards or
// variables: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-specialchars
#[test]
fn fires_an_escaped_wildcard_in_a_resource_matches_only_the_literal_name() {
    let ctx = RequestContext::new();
    let p = policy(
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:GetItem",
        "Resource": "arn:aws:dynamodb:eu-west-1:111111111111:table/own${*}${?}${$}"}]}),
    );
    let set = PolicySet {
        identity: vec![NamedPolicy { name: "p", policy: &p }],
        ..Default::default()
    };
    let literal = "arn:aws:dynamodb:eu-west-1:111111111111:table/own*?$";
    assert!(matches!(
        evaluate(&req("dynamodb:GetItem", literal, &ctx), &set),
        Decision::Allowed { .. }
    ));
    // Near miss: what the unescaped `*` and `?` would have matched is not granted.
    let other = "arn:aws:dynamodb:eu-west-1:111111111111:table/ownXYZ$";
    assert_eq!(
        evaluate(&req("dynamodb:GetItem", other, &ctx), &set),
        Decision::Denied(DenyReason::NoAllow)
    );
    assert_eq!(
        evaluate(&req("dynamodb:GetItem", OWN_TABLE, &ctx), &set),
        Decision::Denied(DenyReason::NoAllow)
    );
}

// --- Session policies -------------------------------------------------------------------------
// "The resulting session's permissions are the intersection of the identity-based policies and
// the session policies. ... A resource-based policy can specify the ARN of the user or role as a
// principal. In that case, the permissions from the resource-based policy are added to the role
// or user's identity-based policy before the session is created. The session policy limits the
// total permissions ... A resource-based policy can specify the ARN of the session as a
// principal. In that case, the permissions from the resource-based policy are added after the
// session is created. The resource-based policy permissions are not limited by the session
// policy." <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session>
// and <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>

const SESSION: &str = "arn:aws:sts::111111111111:assumed-role/responder/incident-42";

fn session_req<'a>(action: &'a str, resource: &'a str, ctx: &'a RequestContext) -> Request<'a> {
    Request {
        principal: SESSION,
        ..req(action, resource, ctx)
    }
}

fn get_only() -> Policy {
    policy(json!({"Statement": [{"Sid": "GetOnly", "Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}]}))
}

#[test]
fn fires_a_session_policy_limits_what_the_identity_policies_allow() {
    let ctx = RequestContext::new();
    let (a, s) = (admin(), get_only());
    let set = PolicySet {
        identity: vec![NamedPolicy {
            name: "AdministratorAccess",
            policy: &a,
        }],
        session: vec![NamedPolicy {
            name: "session policy `s.json`",
            policy: &s,
        }],
        ..Default::default()
    };
    assert_eq!(
        evaluate(&session_req("dynamodb:PutItem", OWN_TABLE, &ctx), &set),
        Decision::Denied(DenyReason::Session)
    );
    // the intersection: what both allow is allowed, with the session statement as evidence
    match evaluate(&session_req("dynamodb:GetItem", OWN_TABLE, &ctx), &set) {
        Decision::Allowed { grants } => {
            assert!(grants.iter().any(|g| g.statement == "GetOnly"), "{grants:?}")
        }
        other => panic!("{other:?}"),
    }
    // what the session policy allows but the identity policies do not stays denied
    let none = PolicySet {
        session: vec![NamedPolicy {
            name: "session policy `s.json`",
            policy: &s,
        }],
        ..Default::default()
    };
    assert_eq!(
        evaluate(&session_req("dynamodb:GetItem", OWN_TABLE, &ctx), &none),
        Decision::Denied(DenyReason::NoAllow)
    );
}

#[test]
fn quiet_without_session_policies_the_identity_policies_decide() {
    let ctx = RequestContext::new();
    let a = admin();
    let set = PolicySet {
        identity: vec![NamedPolicy {
            name: "AdministratorAccess",
            policy: &a,
        }],
        ..Default::default()
    };
    assert!(matches!(
        evaluate(&session_req("dynamodb:PutItem", OWN_TABLE, &ctx), &set),
        Decision::Allowed { .. }
    ));
}

#[test]
fn near_miss_an_explicit_deny_in_a_session_policy_is_named() {
    let ctx = RequestContext::new();
    let a = admin();
    let s = policy(json!({"Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "NoWrites", "Effect": "Deny", "Action": "dynamodb:PutItem", "Resource": "*"}
    ]}));
    let set = PolicySet {
        identity: vec![NamedPolicy {
            name: "AdministratorAccess",
            policy: &a,
        }],
        session: vec![NamedPolicy {
            name: "session policy `s.json`",
            policy: &s,
        }],
        ..Default::default()
    };
    assert_eq!(
        evaluate(&session_req("dynamodb:PutItem", OWN_TABLE, &ctx), &set),
        Decision::Denied(DenyReason::Explicit(StatementRef {
            policy: "session policy `s.json`".into(),
            statement: "NoWrites".into()
        }))
    );
    assert!(matches!(
        evaluate(&session_req("dynamodb:DeleteItem", OWN_TABLE, &ctx), &set),
        Decision::Allowed { .. }
    ));
}

/// Within the account, a resource policy naming the session grants past the session policy; one
/// naming the role is limited by it.
#[test]
fn fires_a_resource_policy_naming_the_session_still_grants() {
    let ctx = RequestContext::new();
    let s = get_only();
    let grant = |principal: &str| {
        policy(
            json!({"Statement": [{"Sid": "Grant", "Effect": "Allow", "Principal": {"AWS": principal}, "Action": "dynamodb:PutItem", "Resource": OWN_TABLE}]}),
        )
    };
    let (to_session, to_role) = (grant(SESSION), grant(ROLE));
    let decide = |p: &Policy| -> Decision {
        let set = PolicySet {
            session: vec![NamedPolicy {
                name: "session policy `s.json`",
                policy: &s,
            }],
            resource_policy: Some(NamedPolicy {
                name: "table policy",
                policy: p,
            }),
            ..Default::default()
        };
        evaluate(&session_req("dynamodb:PutItem", OWN_TABLE, &ctx), &set)
    };
    assert!(matches!(decide(&to_session), Decision::Allowed { .. }));
    assert_eq!(decide(&to_role), Decision::Denied(DenyReason::Session));
}

/// Across accounts both sides must allow, and the session policy limits the identity side even
/// when the resource policy names the session.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_evaluation-logic-cross-account.html>
#[test]
fn near_miss_across_accounts_the_session_policy_still_limits_the_identity_side() {
    let ctx = RequestContext::new();
    let (a, s) = (admin(), get_only());
    let grant = policy(
        json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": SESSION}, "Action": "dynamodb:PutItem", "Resource": TABLE}]}),
    );
    let set = PolicySet {
        identity: vec![NamedPolicy {
            name: "AdministratorAccess",
            policy: &a,
        }],
        session: vec![NamedPolicy {
            name: "session policy `s.json`",
            policy: &s,
        }],
        resource_policy: Some(NamedPolicy {
            name: "table policy",
            policy: &grant,
        }),
        ..Default::default()
    };
    assert_eq!(
        evaluate(&session_req("dynamodb:PutItem", TABLE, &ctx), &set),
        Decision::Denied(DenyReason::Session)
    );
}

/// A role's trust policy must allow the assumption even within the account: an identity allow of
/// `sts:AssumeRole` does not stand in for a trust statement whose condition is undecided.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>
#[test]
fn fires_an_undecided_trust_condition_stays_undecided_despite_an_identity_allow() {
    let target = "arn:aws:iam::111111111111:role/mid";
    let trust = policy(
        json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}),
    );
    let a = admin();
    let set = PolicySet {
        identity: vec![NamedPolicy {
            name: "AdministratorAccess",
            policy: &a,
        }],
        resource_policy: Some(NamedPolicy {
            name: "trust policy",
            policy: &trust,
        }),
        ..Default::default()
    };
    let decide = |mfa: Option<&str>| {
        let mut ctx = RequestContext::new();
        if let Some(v) = mfa {
            ctx.set("aws:MultiFactorAuthPresent", v);
        }
        evaluate(&req("sts:AssumeRole", target, &ctx), &set)
    };
    assert!(matches!(decide(None), Decision::Conditional { keys, .. } if keys == ["aws:MultiFactorAuthPresent"]));
    // quiet: with MFA, allowed; near miss: without, denied
    assert!(matches!(decide(Some("true")), Decision::Allowed { .. }));
    assert!(decide(Some("false")).is_denied());
}

/// A conditional decision is no denial: callers list it as access that depends on the keys.
#[test]
fn only_a_denial_is_denied() {
    assert!(!Decision::Allowed { grants: Vec::new() }.is_denied());
    assert!(
        !Decision::Conditional {
            grants: Vec::new(),
            keys: vec!["aws:SourceIp".into()]
        }
        .is_denied()
    );
    assert!(Decision::Denied(DenyReason::NoAllow).is_denied());
}
