//! Registry invariants: ids unique and kebab-case, one file per check named after its id, every
//! check documented.

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
