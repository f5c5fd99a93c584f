//! SARIF on the example organization: every result's region points at the JSON object of the
//! snapshot that defines its resource, and the output validates as JSON with stable fingerprints.

use crate::support::topoguard;
use serde_json::Value;

const EXAMPLE: &str = "topology/examples/global-org.json";

fn sarif() -> Value {
    let out = topoguard()
        .args(["check", "--format", "sarif", "--fail-on", "none", "--topology", EXAMPLE])
        .assert()
        .code(0);
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

#[test]
fn example_regions_open_at_the_resource() {
    let doc = sarif();
    let text = std::fs::read_to_string(crate::support::root().join(EXAMPLE)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() > 10);
    let mut spanned = 0;
    for r in results {
        let resource = r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .unwrap();
        let region = &r["locations"][0]["physicalLocation"]["region"];
        let Some(start_line) = region["startColumn"].as_u64().and(region["startLine"].as_u64()) else {
            continue;
        };
        spanned += 1;
        let at = |key: &str| usize::try_from(region[key].as_u64().unwrap()).unwrap();
        // Open the file at the region: the object starts at (startLine, startColumn) with `{`,
        // ends just before (endLine, endColumn) with `}`, and names the resource.
        let first = lines[usize::try_from(start_line).unwrap() - 1];
        assert_eq!(first.chars().nth(at("startColumn") - 1), Some('{'), "{resource}");
        let last = lines[at("endLine") - 1];
        assert_eq!(last.chars().nth(at("endColumn") - 2), Some('}'), "{resource}");
        let object: String = lines[at("startLine") - 1..at("endLine")].join("\n");
        let needle = serde_json::to_string(resource).unwrap();
        assert!(object.contains(&needle), "{resource} not in lines {start_line}..");
        // The byte span is the same object.
        let bytes = &text[at("byteOffset")..at("byteOffset") + at("byteLength")];
        let parsed: Value = serde_json::from_str(bytes).unwrap();
        assert!(parsed["arn"] == resource || parsed["id"] == resource, "{resource}");
    }
    // Most findings concern a resource the snapshot defines.
    assert!(spanned * 2 > results.len(), "{spanned} of {}", results.len());
}

#[test]
fn example_fingerprints_are_unique_per_result() {
    let doc = sarif();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let mut prints: Vec<(&str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap(),
                r["partialFingerprints"]["topoguard/v2"].as_str().unwrap(),
            )
        })
        .collect();
    let total = prints.len();
    prints.sort_unstable();
    prints.dedup();
    assert_eq!(prints.len(), total);
}
