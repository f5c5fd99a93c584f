#!/usr/bin/env python3
"""Convert WithSecureLabs/IAMSpy's integration test cases into topoguard snapshots and expected
decisions under tests/corpus/iamspy/. Run once, by hand; the converted data is committed, not
IAMSpy's code.

    python3 scripts/convert_iamspy.py /path/to/IAMSpy/checkout [--commit SHA]

IAMSpy (Apache-2.0) is at https://github.com/WithSecureLabs/IAMSpy. Its test cases live in
`tests/test_integration.py` as pytest parameter lists (parsed here with `ast`, never executed)
over the input files in `tests/files/`: GetAccountAuthorizationDetails output ("gaads"),
resource policies and SCP trees.

Mapping:
- each distinct combination of input files becomes one snapshot (`snapshots/<name>.json`):
  roles with their trust, inline, attached and boundary policies; the default version of each
  managed policy; resource policies on `other` / `s3-bucket` resources; the SCP tree as units,
  accounts and policies with their targets, the management account taken from the root's ARN;
- `can_i(principal, action, resource[, context, _, strict])` becomes a `can` case; IAMSpy's
  non-strict mode answers "can, if the conditions allow", so a True that depends on a condition
  key the case does not supply is expected as `conditional` (topoguard's third answer); strict
  mode treats unsupplied keys as absent from the request (AWS: a condition on a missing key
  fails, except `...IfExists`), so those keys are passed as known-absent;
- `who_can(action, resource[, ...])` becomes a `who-can` case over the snapshot's roles;
- `who_can_batch_resource(action, [resources])` becomes a `who-can-batch` case of pairs;
- cases whose inputs the snapshot format cannot express (IAM users, groups) are listed under
  `not_converted` with the reason.
"""

import argparse
import ast
import json
import pathlib
import subprocess
import sys

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "corpus" / "iamspy"


def git_show(repo, commit, path):
    return subprocess.run(
        ["git", "-C", str(repo), "show", f"{commit}:{path}"], check=True, capture_output=True, text=True
    ).stdout


def literal(node):
    """ast.literal_eval plus `set([...])` / `set()`."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "set":
        return set(literal(node.args[0])) if node.args else set()
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [literal(e) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Dict):
        return {literal(k): literal(v) for k, v in zip(node.keys, node.values)}
    return ast.literal_eval(node)


def parametrized_tests(source):
    """test function name -> list of (files, inp, out) from its @pytest.mark.parametrize."""
    out = {}
    for fn in ast.parse(source).body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        for dec in fn.decorator_list:
            if isinstance(dec, ast.Call) and getattr(dec.func, "attr", "") == "parametrize":
                out[fn.name] = literal(dec.args[1])
    return out


def condition_keys(doc):
    keys = set()
    for st in doc.get("Statement", []) if isinstance(doc.get("Statement"), list) else [doc.get("Statement", {})]:
        for _op, kv in (st.get("Condition") or {}).items():
            keys.update(kv.keys())
    return keys


def account_of(arn):
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def convert_gaad(gaad, snap, keys):
    for g in gaad.get("GroupDetailList", []):
        snap["groups"].append({
            "arn": g["Arn"],
            "account": account_of(g["Arn"]),
            "name": g["GroupName"],
            "inline_policies": [{"name": p["PolicyName"], "document": p["PolicyDocument"]}
                                for p in g.get("GroupPolicyList", [])],
            "attached_policies": [p["PolicyArn"] for p in g.get("AttachedManagedPolicies", [])],
        })
        for p in g.get("GroupPolicyList", []):
            keys.update(condition_keys(p["PolicyDocument"]))
    for u in gaad.get("UserDetailList", []):
        user = {
            "arn": u["Arn"],
            "account": account_of(u["Arn"]),
            "name": u["UserName"],
            "inline_policies": [{"name": p["PolicyName"], "document": p["PolicyDocument"]}
                                for p in u.get("UserPolicyList", [])],
            "attached_policies": [p["PolicyArn"] for p in u.get("AttachedManagedPolicies", [])],
            "groups": list(u.get("GroupList", [])),
        }
        for p in u.get("UserPolicyList", []):
            keys.update(condition_keys(p["PolicyDocument"]))
        if u.get("PermissionsBoundary"):
            user["permission_boundary"] = u["PermissionsBoundary"]["PermissionsBoundaryArn"]
        snap["users"].append(user)
    for p in gaad.get("Policies", []):
        doc = next(v["Document"] for v in p["PolicyVersionList"] if v["IsDefaultVersion"])
        snap["managed_policies"].append({"arn": p["Arn"], "name": p["PolicyName"], "document": doc})
        keys.update(condition_keys(doc))
    for r in gaad.get("RoleDetailList", []):
        role = {
            "arn": r["Arn"],
            "account": account_of(r["Arn"]),
            "name": r["RoleName"],
            "trust_policy": r["AssumeRolePolicyDocument"],
            "inline_policies": [{"name": p["PolicyName"], "document": p["PolicyDocument"]} for p in r["RolePolicyList"]],
            "attached_policies": [p["PolicyArn"] for p in r["AttachedManagedPolicies"]],
        }
        for p in r["RolePolicyList"]:
            keys.update(condition_keys(p["PolicyDocument"]))
        if r.get("PermissionsBoundary"):
            role["permission_boundary"] = r["PermissionsBoundary"]["PermissionsBoundaryArn"]
        snap["roles"].append(role)


def normalise_principals(policy):
    """IAMSpy's resource policies write `"Principal": "arn:..."`; AWS accepts only `"*"` or an
    object of principal types there (reference_policies_elements_principal.html), so a bare ARN
    string becomes `{"AWS": "arn:..."}` — the meaning IAMSpy gives it."""
    for st in policy.get("Statement", []):
        p = st.get("Principal")
        if isinstance(p, str) and p != "*":
            st["Principal"] = {"AWS": p}
    return policy


def convert_resources(items, snap, keys):
    for item in items:
        normalise_principals(item["Policy"])
        arn = item["Resource"]
        kind = "s3-bucket" if arn.startswith("arn:aws:s3:::") else "other"
        res = {"arn": arn, "kind": kind, "account": item["Account"], "policy": item["Policy"]}
        if kind == "other" and len(arn.split(":")) > 3 and arn.split(":")[3]:
            res["region"] = arn.split(":")[3]
        snap["resources"].append(res)
        keys.update(condition_keys(item["Policy"]))


def convert_scps(tree, snap, keys):
    org = snap["organization"]
    org["management_account"] = account_of(tree["Arn"])
    org["id"] = tree["Arn"].split("/")[1]

    def walk(node, parent):
        if node.get("Type") == "Account":
            org["accounts"].append({"id": node["Id"], "name": node["Name"], "parent": parent})
        else:
            unit = {"id": node["Id"], "name": node["Name"]}
            if parent:
                unit["parent"] = parent
            org["units"].append(unit)
        for p in node.get("Policies", []):
            existing = next((q for q in org["policies"] if q["id"] == p["Id"]), None)
            if existing is None:
                existing = {
                    "id": p["Id"],
                    "arn": p["Arn"],
                    "name": p["Name"],
                    "kind": "SERVICE_CONTROL_POLICY",
                    "document": p["Content"],
                    "targets": [],
                }
                org["policies"].append(existing)
                keys.update(condition_keys(p["Content"]))
            existing["targets"].append(node["Id"])
        for child in node.get("Children", []):
            walk(child, node["Id"])

    walk(tree, None)


class NotConvertible(Exception):
    pass


def snapshot_for(repo, commit, files):
    snap = {
        "schema_version": 1,
        "organization": {"units": [], "accounts": [], "policies": []},
        "roles": [],
        "users": [],
        "groups": [],
        "managed_policies": [],
        "resources": [],
    }
    keys = set()
    base = "tests/files/"
    for g in files.get("gaads", []):
        convert_gaad(json.loads(git_show(repo, commit, base + g)), snap, keys)
    for r in files.get("resources", []):
        convert_resources(json.loads(git_show(repo, commit, base + r)), snap, keys)
    for s in files.get("scps", []):
        convert_scps(json.loads(git_show(repo, commit, base + s)), snap, keys)
    # Every account the inputs name is in the organization (outside any unit when no SCP tree
    # places it).
    known = {a["id"] for a in snap["organization"]["accounts"]}
    named = {r["account"] for k in ("roles", "users", "groups", "resources") for r in snap[k]}
    for acc in sorted(named - known):
        snap["organization"]["accounts"].append({"id": acc, "name": f"account {acc}"})
    for k in ("users", "groups"):
        if not snap[k]:
            del snap[k]
    return snap, keys


def snapshot_name(files):
    parts = [pathlib.Path(f).stem for k in ("gaads", "resources", "scps") for f in files.get(k, [])]
    return "+".join(parts)


def context_of(extra, keys):
    """(given context, keys known absent) of an IAMSpy call's optional arguments."""
    given = dict(kv.split("=", 1) for kv in (extra[0] if len(extra) > 0 else []))
    strict = len(extra) > 2 and extra[2] is True
    absent = sorted(k for k in keys if k.lower() not in {g.lower() for g in given}) if strict else []
    unknown = sorted(k for k in keys if k.lower() not in {g.lower() for g in given}) if not strict else []
    return given, absent, strict, unknown


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("repo", help="an IAMSpy git checkout or bare mirror")
    ap.add_argument("--commit", default="HEAD")
    args = ap.parse_args()
    commit = subprocess.run(
        ["git", "-C", args.repo, "rev-parse", args.commit], check=True, capture_output=True, text=True
    ).stdout.strip()
    tests = parametrized_tests(git_show(args.repo, commit, "tests/test_integration.py"))

    snapshots = {}
    cases = []
    not_converted = []
    for test, kind in (("test_can_i", "can"), ("test_who_can", "who-can"), ("test_who_can_batch_resource", "who-can-batch")):
        for i, (files, inp, out) in enumerate(tests.get(test, [])):
            case_id = f"{test}[{i}]"
            name = snapshot_name(files)
            try:
                if name not in snapshots:
                    snapshots[name] = snapshot_for(args.repo, commit, files)
            except NotConvertible as e:
                not_converted.append({"id": case_id, "inputs": files, "reason": str(e)})
                continue
            snap, keys = snapshots[name]
            case = {"id": case_id, "snapshot": f"snapshots/{name}.json", "kind": kind}
            if kind == "can":
                principal, action, resource, *extra = inp
                given, absent, strict, unknown = context_of(extra, keys)
                expect = "allowed" if out else "denied"
                if out and unknown:
                    expect = "conditional"
                case.update(principal=principal, action=action, resource=resource)
                case.update(context=given, absent=absent, strict=strict, expect=expect, iamspy_expected=out)
            elif kind == "who-can":
                action, resource, *extra = inp
                given, absent, strict, _ = context_of(extra, keys)
                case.update(action=action, resource=resource, context=given, absent=absent, strict=strict)
                case.update(expect_principals=sorted(out))
            else:
                action, resources = inp
                case.update(action=action, resources=resources, context={}, absent=[], strict=False)
                case.update(expect_pairs=sorted([list(p) for p in out]))
            cases.append(case)

    (OUT / "snapshots").mkdir(parents=True, exist_ok=True)
    for name, (snap, _) in sorted(snapshots.items()):
        (OUT / "snapshots" / f"{name}.json").write_text(json.dumps(snap, indent=2, sort_keys=True) + "\n")
    (OUT / "LICENSE").write_text(git_show(args.repo, commit, "LICENSE.md"))
    doc = {
        "source": "https://github.com/WithSecureLabs/IAMSpy",
        "commit": commit,
        "cases": cases,
        "not_converted": not_converted,
    }
    (OUT / "cases.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(f"{len(cases)} cases converted, {len(not_converted)} not converted, {len(snapshots)} snapshots", file=sys.stderr)


if __name__ == "__main__":
    main()
