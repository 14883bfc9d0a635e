#!/usr/bin/env python3
"""Checks a rendered chart (render-chart output) against the repository:
  - every document parses and has apiVersion, kind, metadata.name (and a namespace when namespaced);
  - rendered CRDs equal crds/*.yaml (apart from the chart's resource-policy annotation);
  - the policy ConfigMap only uses keys of operator/config/policy.yaml;
  - the operator container's flags all exist in `prescient-operator --help` (when --help-file is given),
    and the container is hardened (non-root, read-only root fs, no privilege escalation, drop ALL);
  - with --rules-out, the PrometheusRule's spec is written there as a rule file for promtool.
Usage: check_rendered.py RENDERED.yaml REPO_ROOT [--help-file F] [--rules-out F]"""
import argparse, glob, os, re, sys

import yaml

CLUSTER_SCOPED = {"CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "Namespace", "PriorityClass"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rendered")
    ap.add_argument("root")
    ap.add_argument("--help-file")
    ap.add_argument("--rules-out")
    a = ap.parse_args()
    errors = []
    docs = [d for d in yaml.safe_load_all(open(a.rendered)) if d is not None]
    if not docs:
        errors.append("no objects rendered")
    for d in docs:
        where = f"{d.get('kind')}/{(d.get('metadata') or {}).get('name')}"
        for f in ("apiVersion", "kind", "metadata"):
            if f not in d:
                errors.append(f"{where}: no {f}")
        md = d.get("metadata") or {}
        if not md.get("name"):
            errors.append(f"{where}: no metadata.name")
        if d.get("kind") not in CLUSTER_SCOPED and not md.get("namespace"):
            errors.append(f"{where}: namespaced object without metadata.namespace")

    crds = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "CustomResourceDefinition"}
    if crds:
        for path in sorted(glob.glob(os.path.join(a.root, "crds", "*.yaml"))):
            src = yaml.safe_load(open(path))
            got = crds.get(src["metadata"]["name"])
            if got is None:
                errors.append(f"CRD {src['metadata']['name']} ({path}) not rendered")
                continue
            got = dict(got, metadata={k: v for k, v in got["metadata"].items() if k != "annotations"})
            if got != src:
                errors.append(f"rendered CRD {src['metadata']['name']} differs from {path}")

    policy_keys = set((yaml.safe_load(open(os.path.join(a.root, "operator/config/policy.yaml"))) or {}).keys())
    for d in docs:
        if d.get("kind") == "ConfigMap" and "policy.yaml" in (d.get("data") or {}):
            p = yaml.safe_load(d["data"]["policy.yaml"]) or {}
            for k in sorted(set(p) - policy_keys):
                errors.append(f"ConfigMap {d['metadata']['name']}: policy key {k!r} is not in operator/config/policy.yaml")

    import json
    for d in docs:
        if d.get("kind") == "ConfigMap":
            for k, v in (d.get("data") or {}).items():
                if k.endswith(".json"):
                    try:
                        json.loads(v)
                    except ValueError as e:
                        errors.append(f"ConfigMap {d['metadata']['name']}: {k} is not valid JSON: {e}")

    help_flags = None
    if a.help_file:
        help_flags = set(re.findall(r"--([a-z][a-z0-9-]*)", open(a.help_file).read()))
    for d in docs:
        if d.get("kind") != "Deployment":
            continue
        spec = d["spec"]["template"]["spec"]
        for c in spec.get("initContainers", []) + spec["containers"]:
            sc = c.get("securityContext") or {}
            want = {"runAsNonRoot": True, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False}
            for k, v in want.items():
                if sc.get(k) != v:
                    errors.append(f"Deployment container {c['name']}: securityContext.{k} is not {v}")
            if (sc.get("capabilities") or {}).get("drop") != ["ALL"]:
                errors.append(f"Deployment container {c['name']}: capabilities.drop is not [ALL]")
        op = next((c for c in spec["containers"] if c["name"] == "operator"), None)
        if op is None:
            errors.append("Deployment has no container named operator")
            continue
        for arg in op.get("args", []):
            m = re.match(r"--([a-z][a-z0-9-]*)", arg)
            if not m:
                errors.append(f"operator arg {arg!r} is not a --flag")
            elif help_flags is not None and m.group(1) not in help_flags:
                errors.append(f"operator arg {arg!r}: prescient-operator --help has no --{m.group(1)}")
        probes = {(op.get(p) or {}).get("httpGet", {}).get("path") for p in ("livenessProbe", "readinessProbe")}
        if probes != {"/healthz", "/readyz"}:
            errors.append(f"operator probes are {sorted(map(str, probes))}, want /healthz and /readyz")

    if a.rules_out:
        rules = [d for d in docs if d.get("kind") == "PrometheusRule"]
        if rules:
            yaml.safe_dump(rules[0]["spec"], open(a.rules_out, "w"), sort_keys=False)
        elif os.path.exists(a.rules_out):
            os.remove(a.rules_out)

    for e in errors:
        print(f"rendered {a.rendered}: FAIL: {e}", file=sys.stderr)
    if not errors:
        print(f"rendered {a.rendered}: ok: {len(docs)} objects")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
