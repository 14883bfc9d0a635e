#!/usr/bin/env python3
"""Validates chart values against charts/prescient/values.schema.json the way Helm does: the chart's
values.yaml deep-merged with each override file. Usage: check_values_schema.py CHART GOOD_DIR BAD_DIR.
Good files must validate; bad files must be rejected unless they say '# schema: accepts'."""
import copy, glob, json, os, sys

import jsonschema
import yaml


def merge(base, over):
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def main():
    chart, good_dir, bad_dir = sys.argv[1:4]
    schema = json.load(open(os.path.join(chart, "values.schema.json")))
    defaults = yaml.safe_load(open(os.path.join(chart, "values.yaml")))
    validator = jsonschema.Draft7Validator(schema)
    failures = 0
    cases = [("defaults", None, True)]
    cases += [(f, f, True) for f in sorted(glob.glob(os.path.join(good_dir, "*.yaml")))]
    cases += [(f, f, False) for f in sorted(glob.glob(os.path.join(bad_dir, "*.yaml")))]
    for name, path, good in cases:
        text = open(path).read() if path else ""
        values = merge(defaults, yaml.safe_load(text) if path else {})
        errors = sorted(validator.iter_errors(values), key=lambda e: list(e.path))
        msgs = ["/".join(map(str, e.path)) + ": " + e.message for e in errors]
        if good and errors:
            print(f"schema: FAIL: {name} should validate but: {'; '.join(msgs)}", file=sys.stderr)
            failures += 1
        elif not good and not errors and "# schema: accepts" not in text:
            print(f"schema: FAIL: {name} should be rejected by values.schema.json but validates", file=sys.stderr)
            failures += 1
        else:
            print(f"schema: ok: {name}" + (f" rejected ({'; '.join(msgs)})" if errors else " validates"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
