//! `topoguard export`: the Neptune and Neo4j CSV files checked against their loaders' documented
//! header formats with a CSV parser, and the Neo4j export loaded into a real embedded graph
//! database (Kùzu, from `scripts/requirements-test.txt`) where the openCypher queries of
//! `docs/graph-database.md` must give the same answers as `impact`, `path` and `who-can`.

use crate::support::{external, root, topoguard};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;

const EXAMPLE: &str = "topology/examples/global-org.json";
const PROFILES_EU: &str = "arn:aws:dynamodb:eu-west-1:222222222222:table/customer-profiles";
const RUNNER: &str = "arn:aws:iam::321111111111:role/checkout-migration-runner";
const BUS_EU: &str = "arn:aws:events:eu-west-1:321111111111:event-bus/checkout";
const WORKER_EU: &str = "arn:aws:lambda:eu-west-1:321111111111:function:checkout-payment-worker";

fn export(format: &str, dir: &Path, extra: &[&str]) {
    topoguard()
        .args(["export", "--topology", EXAMPLE, "--format", format, "--out-dir"])
        .arg(dir)
        .args(extra)
        .assert()
        .code(0);
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::ReaderBuilder::new().has_headers(true).from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect();
    for row in &rows {
        assert_eq!(row.len(), header.len(), "{}: {row:?}", path.display());
    }
    (header, rows)
}

/// Neptune Gremlin load format: system columns `~id`, `~label` (vertices), `~id`, `~from`,
/// `~to`, `~label` (edges); property columns `name:Type` with Type one of the documented data
/// types, `[]` for arrays.
/// <https://docs.aws.amazon.com/neptune/latest/userguide/bulk-load-tutorial-format-gremlin.html>
#[test]
fn neptune_csv_follows_the_gremlin_load_format() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("n");
    export("neptune-csv", &out, &[]);
    let types = [
        "Bool", "Boolean", "Byte", "Short", "Int", "Long", "Float", "Double", "String", "Date",
    ];
    let check = |header: &[String], system: &[&str]| {
        assert_eq!(&header[..system.len()], system);
        for col in &header[system.len()..] {
            let (name, ty) = col.split_once(':').unwrap_or_else(|| panic!("untyped column {col}"));
            assert!(!name.is_empty() && types.contains(&ty.trim_end_matches("[]")), "{col}");
        }
    };
    let (h, nodes) = read_csv(&out.join("nodes.csv"));
    check(&h, &["~id", "~label"]);
    let (he, edges) = read_csv(&out.join("edges.csv"));
    check(&he, &["~id", "~from", "~to", "~label"]);
    let ids: BTreeSet<&str> = nodes.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids.len(), nodes.len(), "vertex ids are unique");
    for e in &edges {
        assert!(
            ids.contains(e[1].as_str()) && ids.contains(e[2].as_str()),
            "dangling edge {e:?}"
        );
    }
    let shared = h.iter().position(|c| c == "shared:Bool").unwrap();
    assert!(nodes.iter().all(|r| r[shared] == "true" || r[shared] == "false"));
    let table = nodes.iter().find(|r| r[0].ends_with(PROFILES_EU)).unwrap();
    assert_eq!(table[1], "Node;DynamodbTable");
    // the same snapshot gives the same bytes
    let again = dir.path().join("m");
    export("neptune-csv", &again, &[]);
    assert_eq!(
        std::fs::read(out.join("edges.csv")).unwrap(),
        std::fs::read(again.join("edges.csv")).unwrap()
    );
}

/// neo4j-admin import: nodes need one `:ID` column and may have `:LABEL`; relationships need
/// `:START_ID`, `:END_ID`, `:TYPE`; property columns are `name` or `name:type` with a documented
/// type (`string`, `boolean`, …, `[]` for arrays).
/// <https://neo4j.com/docs/operations-manual/current/tools/neo4j-admin/neo4j-admin-import/>
#[test]
fn neo4j_csv_follows_the_admin_import_header_format() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("n");
    export("neo4j-csv", &out, &[]);
    let types = [
        "int",
        "long",
        "float",
        "double",
        "boolean",
        "byte",
        "short",
        "char",
        "string",
        "point",
        "date",
        "localtime",
        "time",
        "localdatetime",
        "datetime",
        "duration",
    ];
    let field_ok = |col: &str| match col.split_once(':') {
        None => true,
        Some((_, "ID" | "LABEL" | "START_ID" | "END_ID" | "TYPE")) => true,
        Some((_, ty)) => types.contains(&ty.trim_end_matches("[]")),
    };
    let (h, nodes) = read_csv(&out.join("nodes.csv"));
    assert_eq!(h.iter().filter(|c| c.ends_with(":ID")).count(), 1);
    assert!(h.iter().all(|c| field_ok(c)), "{h:?}");
    let (he, rels) = read_csv(&out.join("relationships.csv"));
    assert_eq!(&he[..3], &[":START_ID", ":END_ID", ":TYPE"]);
    assert!(he.iter().all(|c| field_ok(c)), "{he:?}");
    let ids: BTreeSet<&str> = nodes.iter().map(|r| r[0].as_str()).collect();
    assert!(
        rels.iter()
            .all(|r| ids.contains(r[0].as_str()) && ids.contains(r[1].as_str()))
    );
    assert!(
        rels.iter()
            .all(|r| r[2].chars().all(|c| c.is_ascii_uppercase() || c == '_'))
    );
    // a non-empty out dir is refused, nothing written
    let e = topoguard()
        .args(["export", "--topology", EXAMPLE, "--format", "cypher", "--out-dir"])
        .arg(&out)
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&e.get_output().stderr).contains("is not empty"));
}

/// The fenced block after `<!-- NAME -->` in docs/graph-database.md, one statement per `;`.
fn doc_block(doc: &str, name: &str) -> Vec<String> {
    let marker = format!("<!-- {name} -->");
    let start = doc
        .find(&marker)
        .unwrap_or_else(|| panic!("{marker} missing from docs/graph-database.md"));
    let rest = &doc[start..];
    let body = rest.split("```cypher\n").nth(1).unwrap().split("```").next().unwrap();
    body.split(";\n")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

const RUNNER_PY: &str = r#"
import json, sys, kuzu
job = json.load(open(sys.argv[1]))
db = kuzu.Database(job["db"])
c = kuzu.Connection(db)
for stmt in job["load"]:
    c.execute(stmt)
out = {}
for q in job["queries"]:
    r = c.execute(q["text"], q["params"])
    rows = []
    while r.has_next():
        rows.append(r.get_next())
    out[q["name"]] = rows
print(json.dumps(out))
"#;

fn cli_json(args: &[&str]) -> Value {
    let out = topoguard()
        .args(args)
        .args(["--topology", EXAMPLE, "--format", "json"])
        .assert()
        .code(0);
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

#[test]
fn documented_queries_agree_with_the_commands_in_kuzu() {
    let Some(venv) = external("documented_queries_agree_with_the_commands_in_kuzu", &["python"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("neo4j");
    export("neo4j-csv", &out, &["--access", "dynamodb:PutItem"]);
    let doc = std::fs::read_to_string(root().join("docs/graph-database.md")).unwrap();
    let d = out.display().to_string();
    let mut load: Vec<String> = doc_block(&doc, "kuzu:load")
        .into_iter()
        .map(|s| s.replace("$DIR", &d))
        .collect();
    let (_, rels) = read_csv(&out.join("relationships.csv"));
    // every type the documented queries name, present in this export or not
    let mut types: BTreeSet<&str> = rels.iter().map(|r| r[2].as_str()).collect();
    types.extend([
        "CONTAINS",
        "ROUTES",
        "TARGETS",
        "INVOKES",
        "EXECUTES_AS",
        "CAN_ASSUME",
        "USES",
        "GRANTS",
        "MAY_ASSUME",
        "DEPENDS_ON",
        "CAN",
    ]);
    for t in &types {
        load.extend(
            doc_block(&doc, "kuzu:load-rel")
                .into_iter()
                .map(|s| s.replace("$DIR", &d).replace("$T", t)),
        );
    }
    let (path_from, path_to) = (BUS_EU, WORKER_EU);
    let queries = json!([
        {"name": "impact", "text": doc_block(&doc, "query:impact-resources")[0], "params": {"arn": PROFILES_EU}},
        {"name": "apps", "text": doc_block(&doc, "query:impact-applications")[0], "params": {"arn": PROFILES_EU}},
        {"name": "path", "text": doc_block(&doc, "query:path")[0], "params": {"from": path_from, "to": path_to}},
        {"name": "who", "text": doc_block(&doc, "query:who-can")[0], "params": {"arn": PROFILES_EU, "prefix": "dynamodb:PutItem "}},
    ]);
    let job = dir.path().join("job.json");
    std::fs::write(
        &job,
        json!({"db": dir.path().join("db"), "load": load, "queries": queries}).to_string(),
    )
    .unwrap();
    let script = dir.path().join("run.py");
    std::fs::write(&script, RUNNER_PY).unwrap();
    let o = std::process::Command::new(venv.join("bin/python"))
        .arg(&script)
        .arg(&job)
        .output()
        .unwrap();
    assert!(o.status.success(), "kuzu: {}", String::from_utf8_lossy(&o.stderr));
    let got: Value = serde_json::from_slice(&o.stdout).unwrap();
    let firsts = |k: &str| -> BTreeSet<String> {
        got[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[0].as_str().unwrap().to_string())
            .collect()
    };
    // impact
    let impact = cli_json(&["impact", "--resource", PROFILES_EU]);
    let want: BTreeSet<String> = impact["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(firsts("impact"), want);
    let apps: BTreeSet<String> = impact["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    assert_eq!(firsts("apps"), apps);
    // path: the same node sequences
    let path = cli_json(&["path", "--from", path_from, "--to", path_to]);
    let want: BTreeSet<Vec<String>> = path["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let hops = p.as_array().unwrap();
            let mut seq = vec![hops[0]["from"].as_str().unwrap().to_string()];
            seq.extend(hops.iter().map(|h| h["to"].as_str().unwrap().to_string()));
            seq
        })
        .collect();
    let have: BTreeSet<Vec<String>> = got["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r[0].as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        })
        .collect();
    assert!(!want.is_empty());
    assert_eq!(have, want);
    // who-can: the principals of the snapshot (synthetic callers are not nodes)
    let who = cli_json(&["who-can", "--action", "dynamodb:PutItem", "--resource", PROFILES_EU]);
    let want: BTreeSet<String> = who["principals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "role" || p["kind"] == "user")
        .map(|p| p["principal"].as_str().unwrap().to_string())
        .collect();
    assert!(want.contains(RUNNER));
    assert_eq!(firsts("who"), want);
}
