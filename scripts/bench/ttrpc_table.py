#!/usr/bin/env python3
"""Turns the BENCH lines of scripts/bench/ttrpc.sh into a markdown table (ratios vs the Go
client -> Go server row of the same shape) and writes it into docs/benchmarks.md's ttRPC
section, between its markers."""
import argparse
import pathlib
import statistics
import sys

START = "<!-- ttrpc-bench:start -->"
END = "<!-- ttrpc-bench:end -->"
NAMES = {"cpp": "C++", "go": "Go"}


def parse(path):
    rows = []
    for line in pathlib.Path(path).read_text().splitlines():
        if not line.startswith("BENCH "):
            continue
        fields = dict(kv.split("=", 1) for kv in line.split()[1:])
        rows.append(fields)
    return rows


def medians(rows):
    """One row per (client, server, conns, callers): the median of each measure over rounds."""
    groups = {}
    for r in rows:
        groups.setdefault((r["client"], r["server"], r["conns"], r["callers"]), []).append(r)
    out = []
    for (client, server, conns, callers), rs in groups.items():
        for r in rs:
            r["client_cpu"] = float(r["client_cpu_us"]) / float(r["calls"])
            r["server_cpu"] = float(r["server_cpu_us"]) / float(r["calls"])
        m = {k: statistics.median(float(r[k]) for r in rs)
             for k in ("rps", "p50_us", "p99_us", "client_cpu", "server_cpu")}
        m.update(client=client, server=server, conns=conns, callers=callers,
                 spread=f"{min(float(r['rps']) for r in rs):,.0f}–{max(float(r['rps']) for r in rs):,.0f}")
        out.append(m)
    return out


def table(rows, title):
    rows = medians(rows)
    base = {(r["conns"], r["callers"]): r for r in rows
            if r["client"] == "go" and r["server"] == "go"}
    order = {("cpp", "cpp"): 0, ("go", "go"): 1, ("cpp", "go"): 2, ("go", "cpp"): 3}
    rows = sorted(rows, key=lambda r: (int(r["conns"]), order[(r["client"], r["server"])]))
    out = [title, "",
           "| client → server | connections × callers | calls/s | vs Go→Go | calls/s range | p50 µs | p99 µs | p99 vs Go→Go | client CPU µs/call | server CPU µs/call |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        b = base.get((r["conns"], r["callers"]))
        rps, p50, p99 = float(r["rps"]), float(r["p50_us"]), float(r["p99_us"])
        ratio = f"{rps / float(b['rps']):.2f}x" if b else "n/a"
        p99_ratio = f"{p99 / float(b['p99_us']):.2f}x" if b else "n/a"
        out.append(f"| {NAMES[r['client']]} → {NAMES[r['server']]} | {r['conns']} × {r['callers']} "
                   f"| {rps:,.0f} | {ratio} | {r['spread']} | {p50:.0f} | {p99:.0f} | {p99_ratio} "
                   f"| {r['client_cpu']:.1f} | {r['server_cpu']:.1f} |")
    return "\n".join(out) + "\n"


def write_doc(doc, body):
    path = pathlib.Path(doc)
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{START}\n{body}{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n## ttRPC\n\n{block}\n"
    path.write_text(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--title", default="")
    ap.add_argument("--doc")
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args()
    rows = parse(args.results)
    if not rows:
        sys.exit("ttrpc_table: no BENCH lines in " + args.results)
    body = table(rows, args.title)
    print(body)
    if args.doc and not args.no_doc:
        write_doc(args.doc, body)
        print("written to " + args.doc)


if __name__ == "__main__":
    main()
