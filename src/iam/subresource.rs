//! A resource includes its sub-resources: which ARNs an action actually takes when it acts on a
//! resource node, following the catalog's resource types. `s3:PutObject` takes an object ARN, so
//! on the bucket `arn:aws:s3:::B` it takes `arn:aws:s3:::B/*` (a grant on the bare bucket ARN is
//! not an object write); `s3:PutBucketPolicy` takes the bucket ARN itself; DynamoDB's index and
//! stream types sit under the table (`table/T/index/*`, `table/T/stream/*`). A type is under
//! another when its ARN template extends the other's template after a `/` or `:`.

use super::catalog::{Catalog, ResourceType};
use crate::arn::{Arn, glob_match};

/// The ARN (or ARN pattern ending in `*`, standing for every sub-resource) that `action` takes
/// when it acts on the resource `arn` or anything under it, sorted. Empty when the action takes
/// neither the resource nor a sub-resource of it. When the catalog does not know the action, the
/// action names no resource type, or the resource's own type is not recognised, the resource's
/// own ARN is returned (nothing finer is known).
pub fn action_targets(catalog: &Catalog, arn: &str, action: &str) -> Vec<String> {
    let own = || vec![arn.to_string()];
    let (Ok(parsed), Some(info)) = (Arn::parse(arn), catalog.action(action)) else {
        return own();
    };
    if !parsed.service.eq_ignore_ascii_case(info.service()) || info.resource_types().is_empty() {
        return own();
    }
    let Some(service) = catalog.service(info.service()) else {
        return own();
    };
    let Some(own_type) = own_type(service.resource_types(), arn) else {
        return own();
    };
    let mut out: Vec<String> = info
        .resource_types()
        .iter()
        .filter_map(|t| service.resource_type(&t.name))
        .filter_map(|t| extend(arn, &own_type.arn, &t.arn))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The template as a glob: every `${Variable}` becomes `*`.
fn template_glob(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(rest.get(..start).unwrap_or(""));
        out.push('*');
        rest = match rest.get(start..).and_then(|r| r.find('}')) {
            Some(end) => rest.get(start + end + 1..).unwrap_or(""),
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// The resource type `arn` is an instance of: the matching template with the most literal text
/// (a table ARN matches `table/${TableName}`, not `table/${TableName}/index/${IndexName}`).
fn own_type<'c>(types: &'c [ResourceType], arn: &str) -> Option<&'c ResourceType> {
    types
        .iter()
        .filter(|t| glob_match(&template_glob(&t.arn), arn))
        .max_by_key(|t| template_glob(&t.arn).replace('*', "").len())
}

/// `arn` itself when `target` is its own type's template; `arn` extended by the rest of `target`
/// (variables as `*`) when `target` sits under it; otherwise `None`.
fn extend(arn: &str, own: &str, target: &str) -> Option<String> {
    if target == own {
        return Some(arn.to_string());
    }
    let tail = target.strip_prefix(own)?;
    if !(tail.starts_with('/') || tail.starts_with(':')) {
        return None;
    }
    Some(format!("{arn}{}", template_glob(tail)))
}

/// True when `pattern` (a policy's Resource glob) matches some ARN that starts with `prefix`:
/// how a grant is tested against "some sub-resource of R" (`prefix` is the target up to its
/// first `*`).
pub fn matches_some_under(pattern: &str, prefix: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), prefix.as_bytes());
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&pc) if pc == b'?' || t.get(ti) == Some(&pc) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    // The whole prefix was consumed: the rest of the pattern can match whatever follows.
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(arn: &str, action: &str) -> Vec<String> {
        action_targets(Catalog::get().unwrap(), arn, action)
    }

    /// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
    /// (PutObject's resource type is `object`; PutBucketPolicy's is `bucket`)
    #[test]
    fn s3_object_actions_take_objects_under_the_bucket() {
        assert_eq!(
            targets("arn:aws:s3:::docs", "s3:PutObject"),
            vec!["arn:aws:s3:::docs/*"]
        );
        assert_eq!(
            targets("arn:aws:s3:::docs", "s3:PutBucketPolicy"),
            vec!["arn:aws:s3:::docs"]
        );
        // Near miss: an object ARN's own action takes the object itself.
        assert_eq!(
            targets("arn:aws:s3:::docs/invoices/a.pdf", "s3:PutObject"),
            vec!["arn:aws:s3:::docs/invoices/a.pdf"]
        );
        // Quiet: a bucket action on an object takes nothing of it.
        assert!(targets("arn:aws:s3:::docs/invoices/a.pdf", "s3:PutBucketPolicy").is_empty());
    }

    /// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html
    #[test]
    fn dynamodb_index_and_stream_are_under_the_table() {
        let table = "arn:aws:dynamodb:eu-west-1:222222222222:table/orders";
        assert_eq!(targets(table, "dynamodb:PutItem"), vec![table.to_string()]);
        let query = targets(table, "dynamodb:Query");
        assert!(query.contains(&table.to_string()), "{query:?}");
        assert!(query.contains(&format!("{table}/index/*")), "{query:?}");
        assert_eq!(targets(table, "dynamodb:GetRecords"), vec![format!("{table}/stream/*")]);
        // Near miss: another service's action takes nothing finer than the ARN itself.
        assert_eq!(targets(table, "sqs:SendMessage"), vec![table.to_string()]);
    }

    #[test]
    fn grants_match_some_sub_resource() {
        assert!(matches_some_under("arn:aws:s3:::docs/*", "arn:aws:s3:::docs/"));
        assert!(matches_some_under("arn:aws:s3:::docs/invoices/*", "arn:aws:s3:::docs/"));
        assert!(matches_some_under("*", "arn:aws:s3:::docs/"));
        assert!(matches_some_under("arn:aws:s3:::doc*", "arn:aws:s3:::docs/"));
        // Quiet: the bare bucket ARN is not an object.
        assert!(!matches_some_under("arn:aws:s3:::docs", "arn:aws:s3:::docs/"));
        // Near miss: another bucket with the same prefix.
        assert!(!matches_some_under("arn:aws:s3:::docs-archive/*", "arn:aws:s3:::docs/"));
    }

    /// Capabilities on a shared bucket: a write granted on `bucket/*` or `bucket/prefix/*` is a
    /// write to the bucket's objects; a grant on the bare bucket ARN is not an object write.
    /// https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-iam-policies.html
    #[test]
    fn capabilities_on_a_bucket_include_object_writes() {
        use crate::iam::capability::{Target, capabilities};
        use crate::iam::catalog::ActionClass;
        use crate::iam::store::PolicyStore;
        use crate::model::Snapshot;
        use serde_json::json;
        let snapshot = |resource: &str| -> Snapshot {
            serde_json::from_value(json!({
                "schema_version": 1,
                "organization": {"accounts": [{"id": "111111111111", "name": "a"}]},
                "roles": [{"arn": "arn:aws:iam::111111111111:role/writer", "account": "111111111111", "name": "writer",
                           "trust_policy": {"Version": "2012-10-17", "Statement": []},
                           "inline_policies": [{"name": "w", "document": {"Version": "2012-10-17", "Statement": [
                               {"Effect": "Allow", "Action": "s3:PutObject", "Resource": resource}]}}]}]
            }))
            .unwrap()
        };
        let writes = |resource: &str| -> Vec<String> {
            let s = snapshot(resource);
            let store = PolicyStore::new(&s);
            let target = Target::Resource {
                arn: "arn:aws:s3:::docs",
                account: Some("111111111111"),
                region: None,
                tags: None,
                policy: None,
            };
            let caps = capabilities(
                &store,
                Catalog::get().unwrap(),
                None,
                "arn:aws:iam::111111111111:role/writer",
                target,
                &[ActionClass::Write],
            );
            caps.into_iter()
                .map(|c| format!("{} {}", c.action, c.resource))
                .collect()
        };
        // Fires: objects of the bucket, all or under a prefix.
        assert_eq!(writes("arn:aws:s3:::docs/*"), vec!["s3:PutObject arn:aws:s3:::docs/*"]);
        assert_eq!(
            writes("arn:aws:s3:::docs/invoices/*"),
            vec!["s3:PutObject arn:aws:s3:::docs/*"]
        );
        // Quiet: the bare bucket ARN grants no object write.
        assert!(writes("arn:aws:s3:::docs").is_empty());
        // Near miss: another bucket whose name starts the same.
        assert!(writes("arn:aws:s3:::docs-archive/*").is_empty());
    }
}
