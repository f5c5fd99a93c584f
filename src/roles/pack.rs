//! Permission statements and their packing into managed policies within IAM's size limit: a
//! statement too large on its own is split by actions (then by resources), never truncated.

use super::{RolesError, compact_len, limits};
use serde_json::{Value, json};

/// One Allow statement, limited to the given regions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stmt {
    pub sid: String,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    pub regions: Vec<String>,
}

impl Stmt {
    pub fn new(sid: String, mut actions: Vec<String>, mut resources: Vec<String>, regions: &[String]) -> Self {
        actions.sort();
        actions.dedup();
        resources.sort();
        resources.dedup();
        Stmt {
            sid,
            actions,
            resources,
            regions: regions.to_vec(),
        }
    }

    pub fn to_value(&self) -> Value {
        json!({
            "Sid": self.sid,
            "Effect": "Allow",
            "Action": self.actions,
            "Resource": self.resources,
            "Condition": {"StringEquals": {"aws:RequestedRegion": self.regions}},
        })
    }

    /// Two halves by actions, or by resources when one action is left; `None` when neither can
    /// be split.
    fn halves(&self) -> Option<(Stmt, Stmt)> {
        let split = |mut a: Stmt, mut b: Stmt| {
            a.sid.push('A');
            b.sid.push('B');
            (a, b)
        };
        if self.actions.len() > 1 {
            let (x, y) = self.actions.split_at(self.actions.len() / 2);
            return Some(split(
                Stmt {
                    actions: x.to_vec(),
                    ..self.clone()
                },
                Stmt {
                    actions: y.to_vec(),
                    ..self.clone()
                },
            ));
        }
        if self.resources.len() > 1 {
            let (x, y) = self.resources.split_at(self.resources.len() / 2);
            return Some(split(
                Stmt {
                    resources: x.to_vec(),
                    ..self.clone()
                },
                Stmt {
                    resources: y.to_vec(),
                    ..self.clone()
                },
            ));
        }
        None
    }
}

/// A policy document holding `statements`.
pub fn document(statements: &[Value]) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// Statements that each fit a managed policy alone.
fn fitting(role: &str, stmt: Stmt, out: &mut Vec<Stmt>) -> Result<(), RolesError> {
    let size = compact_len(&document(&[stmt.to_value()]));
    if size <= limits::MANAGED_POLICY {
        out.push(stmt);
        return Ok(());
    }
    match stmt.halves() {
        Some((a, b)) => {
            fitting(role, a, out)?;
            fitting(role, b, out)
        }
        None => Err(RolesError::StatementTooLarge {
            role: role.to_string(),
            sid: stmt.sid,
            size,
        }),
    }
}

/// Packs statements, in order, into as few managed policy documents as fit (first fit).
pub fn pack(role: &str, stmts: Vec<Stmt>) -> Result<Vec<Value>, RolesError> {
    let policies = pack_all(role, stmts)?;
    if policies.len() > limits::ATTACHED_PER_ROLE {
        return Err(RolesError::TooManyPolicies {
            role: role.to_string(),
            needed: policies.len(),
            max: limits::ATTACHED_PER_ROLE,
        });
    }
    Ok(policies)
}

/// Packs statements like [`pack`] and deals the documents out to as many roles as needed, each
/// with at most [`limits::ATTACHED_PER_ROLE`]: `ceil(documents / 10)` roles.
pub fn pack_roles(role: &str, stmts: Vec<Stmt>) -> Result<Vec<Vec<Value>>, RolesError> {
    let policies = pack_all(role, stmts)?;
    Ok(policies
        .chunks(limits::ATTACHED_PER_ROLE)
        .map(<[Value]>::to_vec)
        .collect())
}

/// First-fit packing with no bound on the number of documents.
fn pack_all(role: &str, stmts: Vec<Stmt>) -> Result<Vec<Value>, RolesError> {
    let mut pieces = Vec::new();
    for s in stmts
        .into_iter()
        .filter(|s| !s.actions.is_empty() && !s.resources.is_empty())
    {
        fitting(role, s, &mut pieces)?;
    }
    // A document's compact length is its empty form plus each statement plus a comma between
    // two statements, so sizes add up without serializing candidates.
    let empty = compact_len(&document(&[]));
    let mut policies: Vec<(Vec<Value>, usize)> = Vec::new();
    for piece in pieces {
        let value = piece.to_value();
        let len = compact_len(&value);
        let slot = policies
            .iter_mut()
            .find(|(p, size)| size + len + usize::from(!p.is_empty()) <= limits::MANAGED_POLICY);
        match slot {
            Some((p, size)) => {
                *size += len + usize::from(!p.is_empty());
                p.push(value);
            }
            None => policies.push((vec![value], empty + len)),
        }
    }
    let policies: Vec<Vec<Value>> = policies.into_iter().map(|(p, _)| p).collect();
    Ok(policies.iter().map(|p| document(p)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big(n: usize) -> Stmt {
        Stmt::new(
            "Big".to_string(),
            (0..n)
                .map(|i| format!("dynamodb:DescribeSomethingLong{i:04}"))
                .collect(),
            vec!["arn:aws:dynamodb:eu-west-1:111111111111:table/t".to_string()],
            &["eu-west-1".to_string()],
        )
    }

    #[test]
    fn large_statements_are_split_never_truncated() {
        let stmt = big(600);
        let policies = pack("r", vec![stmt.clone()]).unwrap();
        assert!(policies.len() > 1);
        let mut seen: Vec<String> = Vec::new();
        for p in &policies {
            assert!(compact_len(p) <= limits::MANAGED_POLICY, "{}", compact_len(p));
            for st in p["Statement"].as_array().unwrap() {
                seen.extend(
                    st["Action"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|a| a.as_str().unwrap().to_string()),
                );
            }
        }
        seen.sort();
        assert_eq!(seen, stmt.actions);
    }

    #[test]
    fn more_than_ten_policies_is_an_error() {
        let err = pack("r", vec![big(3000)]).unwrap_err();
        assert!(matches!(err, RolesError::TooManyPolicies { .. }), "{err}");
    }

    fn pairs(stmts: &[Stmt]) -> std::collections::BTreeSet<(String, String)> {
        stmts
            .iter()
            .flat_map(|s| {
                s.actions
                    .iter()
                    .flat_map(move |a| s.resources.iter().map(move |r| (a.clone(), r.clone())))
            })
            .collect()
    }

    fn packed_pairs(policies: &[Value]) -> std::collections::BTreeSet<(String, String)> {
        let mut out = std::collections::BTreeSet::new();
        for p in policies {
            for st in p["Statement"].as_array().unwrap() {
                for a in st["Action"].as_array().unwrap() {
                    for r in st["Resource"].as_array().unwrap() {
                        out.insert((a.as_str().unwrap().to_string(), r.as_str().unwrap().to_string()));
                    }
                }
            }
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// The packer keeps every action × resource pair, keeps each document within the
        /// managed-policy limit, and uses at most `2 × ⌈content / room⌉ + 1` documents (first
        /// fit leaves at most one document half empty).
        #[test]
        fn packing_preserves_pairs_and_respects_the_size_bound(
            shapes in proptest::collection::vec((1usize..120, 1usize..80, 0usize..40), 1..12)
        ) {
            let stmts: Vec<Stmt> = shapes
                .iter()
                .enumerate()
                .map(|(i, (actions, resources, pad))| {
                    Stmt::new(
                        format!("S{i}"),
                        (0..*actions).map(|a| format!("sqs:Action{a:03}{}", "x".repeat(*pad % 7))).collect(),
                        (0..*resources)
                            .map(|r| format!("arn:aws:sqs:eu-west-1:111111111111:q{i}-{r:03}{}", "y".repeat(*pad)))
                            .collect(),
                        &["eu-west-1".to_string()],
                    )
                })
                .collect();
            let policies = pack_roles("r", stmts.clone()).unwrap().concat();
            proptest::prop_assert_eq!(packed_pairs(&policies), pairs(&stmts));
            let empty = compact_len(&document(&[]));
            let room = limits::MANAGED_POLICY - empty;
            let mut content = 0;
            for p in &policies {
                let len = compact_len(p);
                proptest::prop_assert!(len <= limits::MANAGED_POLICY, "{}", len);
                content += len - empty;
            }
            proptest::prop_assert!(policies.len() <= 2 * content.div_ceil(room) + 1, "{} documents for {} characters", policies.len(), content);
            // Within one role while the bound allows it, else dealt out ten per role.
            let groups = pack_roles("r", stmts).unwrap();
            proptest::prop_assert!(groups.iter().all(|g| g.len() <= limits::ATTACHED_PER_ROLE));
            proptest::prop_assert_eq!(groups.len(), policies.len().div_ceil(limits::ATTACHED_PER_ROLE));
        }
    }

    #[test]
    fn small_statements_share_one_policy() {
        let policies = pack("r", vec![big(3), big(4)]).unwrap();
        assert_eq!(policies.len(), 1);
    }

    /// A one-action statement whose compact JSON is exactly `len` characters long (padded in
    /// its resource name).
    fn stmt_of_len(sid: &str, len: usize) -> Stmt {
        let make = |pad: usize| {
            Stmt::new(
                sid.to_string(),
                vec!["sqs:SendMessage".to_string()],
                vec![format!("arn:aws:sqs:eu-west-1:111111111111:q{}", "x".repeat(pad))],
                &["eu-west-1".to_string()],
            )
        };
        let base = compact_len(&make(0).to_value());
        let s = make(len - base);
        assert_eq!(compact_len(&s.to_value()), len);
        s
    }

    // A managed policy holds at most 6,144 characters, whitespace not counted; the comma
    // between two statements counts like any other character.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-entity-length
    #[test]
    fn near_miss_two_statements_fill_a_policy_to_the_last_character() {
        let room = limits::MANAGED_POLICY - compact_len(&document(&[]));
        // With the comma they need exactly the room: one document of exactly the limit.
        let one = pack("r", vec![stmt_of_len("A", 3000), stmt_of_len("B", room - 3001)]).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(compact_len(&one[0]), limits::MANAGED_POLICY);
        // One character more (the comma) does not fit: two documents, each within the limit.
        let two = pack("r", vec![stmt_of_len("A", 3000), stmt_of_len("B", room - 3000)]).unwrap();
        assert_eq!(two.len(), 2);
        assert!(two.iter().all(|d| compact_len(d) <= limits::MANAGED_POLICY));
    }

    // The same quota with three statements: the running size of a document counts the comma
    // before every statement after the first, not only before the second.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-entity-length
    #[test]
    fn near_miss_three_statements_count_both_commas() {
        let room = limits::MANAGED_POLICY - compact_len(&document(&[]));
        let (a, b) = (2000, 2000);
        // Exactly the room with two commas: one document of exactly the limit.
        let exact = room - a - b - 2;
        let stmts = |c: usize| vec![stmt_of_len("A", a), stmt_of_len("B", b), stmt_of_len("C", c)];
        let one = pack("r", stmts(exact)).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(compact_len(&one[0]), limits::MANAGED_POLICY);
        // One character more: the third statement needs a document of its own.
        let two = pack("r", stmts(exact + 1)).unwrap();
        assert_eq!(two.len(), 2);
        assert!(two.iter().all(|d| compact_len(d) <= limits::MANAGED_POLICY));
    }

    /// A statement of one action and one resource that is too large alone cannot be split any
    /// further: it is an error naming the statement, never a loop or a truncation.
    #[test]
    fn near_miss_an_unsplittable_statement_too_large_is_an_error() {
        let huge = stmt_of_len("Huge", limits::MANAGED_POLICY);
        let err = pack("r", vec![huge]).unwrap_err();
        assert!(
            matches!(&err, RolesError::StatementTooLarge { sid, .. } if sid == "Huge"),
            "{err}"
        );
        // One resource more splits into two statements that fit.
        let mut two = stmt_of_len("Two", 4000);
        two.resources
            .push("arn:aws:sqs:eu-west-1:111111111111:other".to_string());
        assert!(pack("r", vec![two]).is_ok());
    }

    // Ten managed policies may be attached to a role by default; the eleventh is refused.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-entities
    #[test]
    fn near_miss_ten_policies_fit_one_role_eleven_do_not() {
        // Each statement takes more than half a document, so each gets its own.
        let stmts = |n: usize| (0..n).map(|i| stmt_of_len(&format!("S{i}"), 3200)).collect::<Vec<_>>();
        assert_eq!(pack("r", stmts(10)).unwrap().len(), limits::ATTACHED_PER_ROLE);
        let err = pack("r", stmts(11)).unwrap_err();
        assert!(
            matches!(
                err,
                RolesError::TooManyPolicies {
                    needed: 11,
                    max: 10,
                    ..
                }
            ),
            "{err}"
        );
        // pack_roles deals them out instead: ten and one.
        let groups = pack_roles("r", stmts(11)).unwrap();
        assert_eq!(groups.iter().map(Vec::len).collect::<Vec<_>>(), vec![10, 1]);
    }

    /// A statement with no action or no resource grants nothing and is left out (a policy
    /// statement needs both).
    #[test]
    fn quiet_statements_without_actions_or_resources_are_left_out() {
        let none = |actions: Vec<String>, resources: Vec<String>| Stmt::new("X".into(), actions, resources, &[]);
        let policies = pack(
            "r",
            vec![
                none(vec!["sqs:SendMessage".into()], vec![]),
                none(vec![], vec!["arn:aws:sqs:eu-west-1:111111111111:q".into()]),
                big(2),
            ],
        )
        .unwrap();
        assert_eq!(policies.len(), 1);
        let sids: Vec<&str> = policies[0]["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        assert_eq!(sids, vec!["Big"]);
        assert!(pack("r", vec![none(vec![], vec![])]).unwrap().is_empty());
    }
}
