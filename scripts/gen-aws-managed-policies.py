#!/usr/bin/env python3
"""Regenerate tests/fixtures/aws-managed-policies.json.gz, the corpus of AWS managed policies
that the IAM engine's tests parse and classify.

The corpus comes from the PyPI package `moto`, which bundles every AWS managed policy
(`moto/iam/aws_managed_policies.py`). The script downloads the pinned wheel with pip (no
install), extracts the policy documents, and writes them as compact, key-sorted JSON, gzipped
with a zero timestamp so that regeneration is byte-stable.

    python3 scripts/gen-aws-managed-policies.py [--moto-version 5.2.5]
"""

import argparse
import gzip
import io
import json
import pathlib
import re
import subprocess
import sys
import tempfile
import zipfile

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "aws-managed-policies.json.gz"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moto-version", default="5.2.5")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", f"moto=={args.moto_version}", "-d", tmp],
            check=True,
        )
        wheel = next(pathlib.Path(tmp).glob("moto-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            source = z.read("moto/iam/aws_managed_policies.py").decode("utf-8")
    match = re.search(r'aws_managed_policies_data = """(.*)"""', source, re.S)
    if not match:
        print("error: `aws_managed_policies_data` not found in moto's aws_managed_policies.py", file=sys.stderr)
        return 2
    data = json.loads(match.group(1))
    corpus = {
        "source": f"moto {args.moto_version}",
        "policies": {name: {"path": entry.get("Path", "/"), "document": entry["Document"]} for name, entry in sorted(data.items())},
    }
    text = json.dumps(corpus, sort_keys=True, separators=(",", ":")).encode("utf-8")
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(text)
    OUT.write_bytes(buffer.getvalue())
    print(f"{len(corpus['policies'])} policies from moto {args.moto_version}: {OUT} ({len(buffer.getvalue())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
