"""Log-log plots of time per operation against N, one PNG per workload (matplotlib, Agg)."""

from pathlib import Path


def series_name(record: dict) -> str:
    """The line a record belongs to: its engine and the runtime it ran in."""
    return f"{record['engine']} ({record['runtime']})"


def plot_workload(workload: str, records: list[dict], path: Path) -> None:
    """Write ``path``: µs/op against N for every engine and runtime in ``records``.

    A hollow marker is a run that stopped at its time budget: its µs/op is the mean over
    the operations it finished.
    """
    from matplotlib.figure import Figure  # only the report needs matplotlib

    series: dict[str, list[dict]] = {}
    for r in sorted(records, key=lambda r: r["size"]):
        if r["us_per_op"] is not None:
            series.setdefault(series_name(r), []).append(r)
    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    axes = figure.subplots()
    for name, points in series.items():
        style = "--" if points[0]["engine"] == "baseline" else "-"
        (line,) = axes.plot([p["size"] for p in points], [p["us_per_op"] for p in points],
                            style, marker="o", label=name)
        unfinished = [p for p in points if not p["complete"]]
        axes.plot([p["size"] for p in unfinished], [p["us_per_op"] for p in unfinished],
                  "o", markerfacecolor="white", color=line.get_color())
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("N (columns)")
    axes.set_ylabel("µs per operation")
    axes.set_title(workload)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, metadata={"Software": None})
