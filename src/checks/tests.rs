//! Registry invariants: ids unique and kebab-case, one file per check named after its id, every
//! check documented, every check tested for firing, staying quiet and a near miss.

use super::*;

#[test]
fn ids_are_unique_kebab_case_and_match_file_names() {
    let ids = known_ids();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len(), "duplicate check ids");
    for check in REGISTRY {
        let id = check.id();
        assert!(
            id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "{id} is not kebab-case"
        );
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/checks")
            .join(format!("{}.rs", id.replace('-', "_")));
        assert!(file.is_file(), "{id} must live in {}", file.display());
        assert!(!check.title().is_empty() && !check.description().is_empty());
    }
    let listed: Vec<&str> = REGISTRY.iter().map(|c| c.id()).collect();
    let mut in_order = listed.clone();
    in_order.sort_unstable();
    assert_eq!(listed, in_order, "REGISTRY must be in id order");
}

#[test]
fn every_check_is_documented() {
    let docs =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/checks.md")).unwrap();
    for id in known_ids() {
        assert!(
            docs.lines().any(
                |l| l.trim_start_matches('#').trim() == format!("`{id}`") || l.trim_start_matches('#').trim() == id
            ),
            "docs/checks.md has no heading for {id}"
        );
    }
}

#[test]
fn apis_map_to_inputs() {
    assert_eq!(Input::of_api("lambda:ListFunctions"), Some(Input::Lambda));
    assert_eq!(Input::of_api("events:ListRules"), Some(Input::EventBridge));
    // The crawler's "not supported yet" gap for EventBridge v2 hides EventBridge facts.
    assert_eq!(Input::of_api("eventsv2:ListEventBuses"), Some(Input::EventBridge));
    assert_eq!(Input::of_api("sts:AssumeRole"), None);
}

/// The names of the `#[test]` functions in `source`.
fn test_names(source: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut lines = source.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line != "#[test]" {
            continue;
        }
        if let Some(name) = lines
            .find(|l| !l.starts_with("#[") && !l.starts_with("//"))
            .and_then(|l| l.strip_prefix("fn "))
            .and_then(|l| l.split('(').next())
        {
            names.push(name);
        }
    }
    names
}

/// The test-name prefixes every check file needs at least one test of.
const KINDS: [&str; 3] = ["fires_", "quiet_", "near_miss_"];

/// The prefixes of [`KINDS`] that no test in `source` starts with.
fn missing_kinds(source: &str) -> Vec<&'static str> {
    let names = test_names(source);
    KINDS
        .into_iter()
        .filter(|k| !names.iter().any(|n| n.starts_with(k)))
        .collect()
}

#[test]
fn every_check_has_fires_quiet_and_near_miss_tests() {
    let mut missing = Vec::new();
    for check in REGISTRY {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/checks")
            .join(format!("{}.rs", check.id().replace('-', "_")));
        let source = std::fs::read_to_string(&file).unwrap();
        for kind in missing_kinds(&source) {
            missing.push(format!("{}: no test named `{kind}*`", file.display()));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn near_miss_a_file_missing_one_kind_is_reported() {
    let all = "#[test]\nfn fires_a() {}\n#[test]\n#[ignore]\nfn quiet_b() {}\n#[test]\nfn near_miss_c() {}\n";
    assert_eq!(missing_kinds(all), Vec::<&str>::new());
    // A helper named like a test, without `#[test]`, does not count.
    let helper = "#[test]\nfn fires_a() {}\nfn quiet_b() {}\n#[test]\nfn near_miss_c() {}\n";
    assert_eq!(missing_kinds(helper), vec!["quiet_"]);
    assert_eq!(missing_kinds(""), KINDS.to_vec());
}
