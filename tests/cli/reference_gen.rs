//! A seeded generator of valid IAM evaluation cases for the differential test against
//! `@cloud-copilot/iam-simulate` (`tests/cli/reference.rs`).
//!
//! A case is one JSON object holding a request (principal, action, resource and their accounts,
//! a request context in which every key the policies use is either set or known to be absent)
//! and the policies that apply to it: identity policies, a permission boundary, SCP levels, RCP
//! levels and a resource policy. The policies are drawn from a small universe (two accounts, one
//! role and one user, an S3 object, an SQS queue and a DynamoDB table, global condition keys)
//! so that statements often match the request and often almost match it: other actions of the
//! same service, case variants of action names and condition keys, wildcards in actions and
//! resources, `NotAction` / `NotResource`, principals of the other account, `IfExists` and
//! negated operators on absent keys.
//!
//! The randomness is proptest's seeded ChaCha RNG, so the same seed gives the same cases on every
//! machine (`proptest`'s own strategies drive every choice).

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};

pub const ACCOUNT: &str = "111111111111";
pub const OTHER: &str = "222222222222";
const ORG: &str = "o-abc123";

/// The role or user making the request (account [`ACCOUNT`]).
const PRINCIPALS: &[&str] = &[
    "arn:aws:iam::111111111111:role/app",
    "arn:aws:iam::111111111111:user/alice",
];

/// A resource kind: how its ARN is written for an account, and the actions requests use on it.
struct Kind {
    arn: fn(&str) -> String,
    /// Patterns in statements that cover the resource (`{}` = the resource's account).
    covering: &'static [&'static str],
    /// Patterns that almost cover it.
    near: &'static [&'static str],
    actions: &'static [&'static str],
    /// Action patterns of the same service that cover some of `actions`.
    action_patterns: &'static [&'static str],
}

const KINDS: &[Kind] = &[
    Kind {
        arn: |_| "arn:aws:s3:::bucket-a/data/report.txt".to_string(),
        covering: &[
            "arn:aws:s3:::bucket-a/*",
            "arn:aws:s3:::bucket-?/data/*",
            "arn:aws:s3:::*",
        ],
        near: &[
            "arn:aws:s3:::bucket-a",
            "arn:aws:s3:::Bucket-A/*",
            "arn:aws:s3:::bucket-b/*",
        ],
        actions: &["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        action_patterns: &["s3:*", "s3:Get*", "s3:*Object", "s3:Put*", "s3:List*"],
    },
    Kind {
        arn: |a| format!("arn:aws:sqs:us-east-1:{a}:orders"),
        covering: &[
            "arn:aws:sqs:*:{}:*",
            "arn:aws:sqs:us-east-1:{}:order?",
            "arn:aws:sqs:us-east-1:*:orders",
        ],
        near: &[
            "arn:aws:sqs:eu-west-1:{}:orders",
            "arn:aws:sqs:us-east-1:{}:Orders",
            "arn:aws:sqs:us-east-1:{}:orders-dlq",
        ],
        actions: &["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"],
        action_patterns: &["sqs:*", "sqs:Send*", "sqs:*Message", "sqs:Get*"],
    },
    Kind {
        arn: |a| format!("arn:aws:dynamodb:us-east-1:{a}:table/ledger"),
        covering: &[
            "arn:aws:dynamodb:us-east-1:{}:table/*",
            "arn:aws:dynamodb:*:*:table/ledger",
            "arn:aws:dynamodb:us-east-1:{}:*",
        ],
        near: &[
            "arn:aws:dynamodb:us-east-1:{}:table/ledger/index/*",
            "arn:aws:dynamodb:us-east-1:{}:table/Ledger",
            "arn:aws:dynamodb:us-east-2:{}:table/ledger",
        ],
        actions: &["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
        action_patterns: &["dynamodb:*", "dynamodb:Get*", "dynamodb:*Item", "dynamodb:Batch*"],
    },
];

/// Condition keys the generator uses, with the values a request may carry for each.
const CONTEXT: &[(&str, &[&str])] = &[
    ("aws:PrincipalOrgID", &["o-abc123", "o-other99"]),
    ("aws:PrincipalTag/team", &["ops", "OPS", "operations", "dev"]),
    ("aws:SecureTransport", &["true", "false"]),
    ("aws:SourceIp", &["10.1.2.3", "192.0.2.10"]),
    ("aws:RequestedRegion", &["us-east-1", "eu-west-1"]),
];

/// Conditions a statement may carry (operator, key as written, values).
const CONDITIONS: &[(&str, &str, &[&str])] = &[
    ("StringEquals", "aws:PrincipalOrgID", &[ORG]),
    ("StringEquals", "AWS:principalorgid", &[ORG]),
    ("StringNotEquals", "aws:PrincipalOrgID", &[ORG]),
    ("StringEqualsIfExists", "aws:PrincipalOrgID", &[ORG]),
    ("StringNotEqualsIfExists", "aws:PrincipalOrgID", &[ORG]),
    ("StringLike", "aws:PrincipalTag/team", &["op*"]),
    ("StringEqualsIgnoreCase", "aws:PrincipalTag/team", &["OPS"]),
    ("StringEquals", "aws:PrincipalTag/team", &["ops", "dev"]),
    ("StringNotLike", "aws:PrincipalTag/team", &["dev*"]),
    ("Null", "aws:PrincipalTag/team", &["true"]),
    ("Null", "aws:PrincipalTag/team", &["false"]),
    ("Bool", "aws:SecureTransport", &["false"]),
    ("Bool", "aws:SecureTransport", &["true"]),
    ("BoolIfExists", "aws:SecureTransport", &["false"]),
    ("IpAddress", "aws:SourceIp", &["10.0.0.0/8"]),
    ("NotIpAddress", "aws:SourceIp", &["10.0.0.0/8"]),
    ("StringEquals", "aws:RequestedRegion", &["us-east-1", "us-west-2"]),
    ("StringNotEquals", "aws:RequestedRegion", &["us-east-1"]),
    ("ArnLike", "aws:PrincipalArn", &["arn:aws:iam::111111111111:role/*"]),
    ("ArnNotLike", "aws:PrincipalArn", &["arn:aws:iam::*:user/*"]),
    ("StringLike", "aws:PrincipalArn", &["arn:aws:iam::222222222222:*"]),
];

/// The seeded source of every choice.
pub struct Gen {
    runner: TestRunner,
}

impl Gen {
    pub fn new(seed: u8) -> Gen {
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]);
        Gen {
            runner: TestRunner::new_with_rng(Config::default(), rng),
        }
    }

    fn draw<S: Strategy>(&mut self, s: S) -> S::Value {
        s.new_tree(&mut self.runner).expect("strategy").current()
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.upto(0, items.len() - 1)]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.draw(prop::bool::weighted(p))
    }

    fn upto(&mut self, lo: usize, hi: usize) -> usize {
        self.draw(lo..=hi)
    }

    /// `action` with its case changed (action names are case-insensitive in AWS).
    fn recase(&mut self, action: &str) -> String {
        match self.upto(0, 3) {
            0 => action.to_lowercase(),
            1 => action.to_uppercase(),
            _ => action.to_string(),
        }
    }

    fn action_pattern(&mut self, kind: &Kind, action: &str) -> String {
        match self.upto(0, 9) {
            0..=2 => self.recase(action),
            3 => {
                let a = self.pick(kind.actions);
                self.recase(a)
            }
            4..=6 => self.pick(kind.action_patterns).to_string(),
            7 => "*".to_string(),
            _ => {
                let other = &KINDS[self.upto(0, KINDS.len() - 1)];
                self.pick(other.actions).to_string()
            }
        }
    }

    fn resource_pattern(&mut self, kind: &Kind, resource: &str, account: &str) -> String {
        let pattern = match self.upto(0, 9) {
            0..=2 => return resource.to_string(),
            3 | 4 => return "*".to_string(),
            5..=7 => self.pick(kind.covering),
            _ => self.pick(kind.near),
        };
        pattern.replace("{}", account)
    }

    fn condition(&mut self) -> Value {
        let (op, key, values) = self.pick(CONDITIONS);
        json!({ op: { key: values } })
    }

    /// One statement; `principal` is the resource-policy principal element, if any.
    fn statement(&mut self, kind: &Kind, req: &Req, effect: &str, principal: Option<Value>) -> Value {
        let mut st = serde_json::Map::new();
        st.insert("Effect".into(), json!(effect));
        if let Some(p) = principal.clone() {
            st.insert("Principal".into(), p);
        }
        let actions: Vec<String> = (0..self.upto(1, 2))
            .map(|_| self.action_pattern(kind, &req.action))
            .collect();
        // RCPs take neither `NotAction` nor `"*"` as an action
        // (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html).
        let rcp = principal.as_ref().is_some_and(|p| p == "*") && effect == "Deny";
        let actions: Vec<String> = if rcp {
            actions.into_iter().filter(|a| a != "*").collect()
        } else {
            actions
        };
        let actions = if actions.is_empty() {
            vec![req.action.clone()]
        } else {
            actions
        };
        let action_key = if !rcp && self.chance(0.1) {
            "NotAction"
        } else {
            "Action"
        };
        st.insert(action_key.into(), json!(actions));
        let resource = self.resource_pattern(kind, &req.resource, &req.resource_account);
        let resource_key = if self.chance(0.08) { "NotResource" } else { "Resource" };
        st.insert(resource_key.into(), json!(resource));
        if self.chance(0.35) {
            st.insert("Condition".into(), self.condition());
        }
        Value::Object(st)
    }

    fn policy(&mut self, kind: &Kind, req: &Req, deny_chance: f64, principal: bool) -> Value {
        let statements: Vec<Value> = (0..self.upto(1, 3))
            .map(|_| {
                let effect = if self.chance(deny_chance) { "Deny" } else { "Allow" };
                let p = principal.then(|| self.principal_element(req));
                self.statement(kind, req, effect, p)
            })
            .collect();
        json!({ "Version": "2012-10-17", "Statement": statements })
    }

    /// A resource policy's `Principal`: the caller by ARN, its account (root ARN or bare id),
    /// anyone, or a principal that is not the caller.
    fn principal_element(&mut self, req: &Req) -> Value {
        let aws = match self.upto(0, 7) {
            0 | 1 => req.principal.clone(),
            2 => format!("arn:aws:iam::{ACCOUNT}:root"),
            3 => ACCOUNT.to_string(),
            4 => return json!("*"),
            5 => format!("arn:aws:iam::{OTHER}:root"),
            6 => format!("arn:aws:iam::{ACCOUNT}:role/other"),
            _ => return json!({ "AWS": "*" }),
        };
        json!({ "AWS": aws })
    }

    /// An RCP: `Deny` statements with `Principal: "*"` (RCPs allow nothing of their own).
    fn rcp(&mut self, kind: &Kind, req: &Req) -> Value {
        let statements: Vec<Value> = (0..self.upto(1, 2))
            .map(|_| self.statement(kind, req, "Deny", Some(json!("*"))))
            .collect();
        json!({ "Version": "2012-10-17", "Statement": statements })
    }

    /// One generated case.
    pub fn case(&mut self) -> Value {
        let kind = &KINDS[self.upto(0, KINDS.len() - 1)];
        let resource_account = if self.chance(0.35) { OTHER } else { ACCOUNT };
        let req = Req {
            principal: self.pick(PRINCIPALS).to_string(),
            action: self.pick(kind.actions).to_string(),
            resource: (kind.arn)(resource_account),
            resource_account: resource_account.to_string(),
        };
        let mut context = serde_json::Map::new();
        for (key, values) in CONTEXT {
            let v = if self.chance(0.25) {
                Value::Null
            } else {
                json!(self.pick(values))
            };
            context.insert((*key).to_string(), v);
        }
        context.insert("aws:PrincipalArn".into(), json!(req.principal));
        let identity: Vec<Value> = (0..self.upto(0, 2))
            .map(|_| self.policy(kind, &req, 0.25, false))
            .collect();
        let boundary = self.chance(0.3).then(|| self.policy(kind, &req, 0.15, false));
        let scps: Vec<Vec<Value>> = (0..self.upto(0, 2))
            .map(|_| {
                let mut level = Vec::new();
                if self.chance(0.7) {
                    level.push(full_access());
                } else {
                    level.push(self.policy(kind, &req, 0.0, false));
                }
                if self.chance(0.4) {
                    level.push(self.policy(kind, &req, 0.7, false));
                }
                level
            })
            .collect();
        let rcps: Vec<Vec<Value>> = (0..self.upto(0, 1))
            .map(|_| vec![rcp_full_access(), self.rcp(kind, &req)])
            .collect();
        let resource_policy = self.chance(0.55).then(|| self.policy(kind, &req, 0.25, true));
        json!({
            "principal": req.principal,
            "principal_account": ACCOUNT,
            "action": req.action,
            "resource": req.resource,
            "resource_account": req.resource_account,
            "context": context,
            "identity": identity,
            "boundary": boundary,
            "scps": scps,
            "rcps": rcps,
            "resource_policy": resource_policy,
        })
    }
}

/// The request being generated.
struct Req {
    principal: String,
    action: String,
    resource: String,
    resource_account: String,
}

/// `FullAWSAccess`, the SCP AWS attaches by default
/// (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_strategies.html).
pub fn full_access() -> Value {
    json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "*", "Resource": "*" }] })
}

/// `RCPFullAWSAccess`, attached to every root, OU and account and not removable
/// (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html).
pub fn rcp_full_access() -> Value {
    json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*" }] })
}
