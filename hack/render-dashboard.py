#!/usr/bin/python3
"""Draws the data behind the Grafana dashboard (charts/prescient/files/dashboard.json) as a PNG.

For every panel it runs each target's PromQL through a live Prometheus' HTTP API (query_range over
--start..--end; Grafana's $__rate_interval replaced by --rate-interval) and plots the series in a grid
with the panel titles; table panels are drawn as a table of their last values. No Grafana needed.

  hack/render-dashboard.py --prometheus http://127.0.0.1:9090 --start 1700000000 --end 1700000090 \
      --out docs/dashboard.png

tests/packaging/prometheus_live.sh runs it against its scenario (DASHBOARD_PNG=docs/dashboard.png
refreshes the README's picture). Needs python3-matplotlib (hack/install-deps.sh): run it with
/usr/bin/python3.
"""
import argparse
import json
import math
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def query_range(base, expr, start, end, step):
    url = base + "/api/v1/query_range?" + urllib.parse.urlencode(
        {"query": expr, "start": start, "end": end, "step": step})
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            body = json.load(r)
    except urllib.error.HTTPError as e:
        body = json.load(e)
    except urllib.error.URLError as e:
        sys.exit(f"render-dashboard: cannot reach Prometheus at {base}: {e.reason}")
    if body.get("status") != "success":
        sys.exit(f"render-dashboard: Prometheus refused {expr!r}: {body.get('error')}")
    return body["data"]["result"]


def legend(fmt, metric, expr):
    if fmt:
        return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m.group(1), ""), fmt)
    labels = ",".join(f"{k}={v}" for k, v in sorted(metric.items()) if k != "__name__")
    return labels or expr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prometheus", required=True, help="base URL, e.g. http://127.0.0.1:9090")
    ap.add_argument("--dashboard", default="charts/prescient/files/dashboard.json")
    ap.add_argument("--start", type=float, required=True, help="unix seconds")
    ap.add_argument("--end", type=float, required=True, help="unix seconds")
    ap.add_argument("--step", type=float, default=0, help="seconds between points (default: range/120, at least 1)")
    ap.add_argument("--rate-interval", default="20s", help="what $__rate_interval stands for (default 20s)")
    ap.add_argument("--title", default="Prescient dashboard: live data from tests/packaging/prometheus_live.sh "
                    "(prescient-sim, real prescient-agents)")
    ap.add_argument("--out", required=True, help="PNG file to write")
    a = ap.parse_args()
    if a.end <= a.start:
        sys.exit("render-dashboard: --end must be after --start")
    step = a.step or max(1.0, (a.end - a.start) / 120)
    panels = json.load(open(a.dashboard))["panels"]
    if not panels:
        sys.exit(f"render-dashboard: {a.dashboard} has no panels")

    cols = 3
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, 3.4 * rows), squeeze=False)
    fig.suptitle(a.title, fontsize=13)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    for ax, p in zip(axes.flat, panels):
        ax.set_title(p["title"], fontsize=10)
        unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
        results = []
        for t in p.get("targets", []):
            expr = t["expr"].replace("$__rate_interval", a.rate_interval)
            for s in query_range(a.prometheus, expr, a.start, a.end, step):
                pts = [(float(x) - a.start, float(y)) for x, y in s["values"] if not math.isnan(float(y))]
                if pts:
                    results.append((legend(t.get("legendFormat"), s["metric"], t["expr"]), pts))
        if not results:
            ax.text(0.5, 0.5, "no data in this time range", ha="center", va="center", transform=ax.transAxes,
                    color="gray")
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        if p.get("type") == "table":
            ax.axis("off")
            cells = [[name, f"{pts[-1][1]:g}"] for name, pts in results]
            tab = ax.table(cellText=cells, colLabels=["series", "value"], loc="center", cellLoc="left")
            tab.scale(1, 1.6)
            continue
        for name, pts in results:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, marker="." if len(pts) < 30 else None, linewidth=1.4, label=name)
        ax.set_xlabel("seconds since start", fontsize=8)
        if unit and unit != "none":
            ax.set_ylabel(unit, fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(a.out, dpi=80)
    print(f"render-dashboard: {len(panels)} panels drawn to {a.out}")


if __name__ == "__main__":
    main()
