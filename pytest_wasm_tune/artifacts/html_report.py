"""report.html: one self-contained page per run (inline SVG charts, no network) from a report.

Headline first (the end-to-end model, every task's default and best, the regression gate and
what warm start saved), then the charts: tuning curves against trials and wall time, default
against tuned, browsers side by side, the final rounds' spread, the model latency; then the
environment. Charts are drawn with matplotlib (imported only here, when a report is written).

    write_html(report, artifacts_dir / "report.html")
"""

from __future__ import annotations

import html
import io
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .convergence import curve
from .model_result import headline
from .report import atomic_write_text

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .5em 0; }
td, th { padding: .2em .7em; border-bottom: 1px solid #eee; text-align: right; }
td:first-child, th:first-child, td.text { text-align: left; }
.headline { font-size: 1.15em; background: #f4f7fb; padding: .7em 1em; border-radius: 6px; }
.bad { color: #b00020; font-weight: bold; } .good { color: #1b7a2b; }
figure.chart { margin: 1em 0; } figure.chart svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: .9em; }
"""


def _esc(value: object) -> str:
    return html.escape(str(value))


def _num(value: float | None, digits: int = 2, suffix: str = "") -> str:
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


def _label(task: Mapping[str, Any]) -> str:
    return f"{task['task']} · {task['browser']}"


class _Charts:
    """matplotlib, lazily: SVG text per figure."""

    def __init__(self) -> None:
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure

        self.Figure = Figure
        self.rc = {"svg.fonttype": "none", "font.size": 9}

    def figure(
        self, width: float, height: float, columns: int = 1, labels: Sequence[str] = ()
    ) -> tuple[Any, Any]:
        """Margins are set, not computed (a layout engine doubles the drawing time); the left
        one fits the longest of `labels` (the y tick labels)."""
        figure = self.Figure(figsize=(width, height))
        left_in = 0.6 + 0.065 * max((len(label) for label in labels), default=0)
        figure.subplots_adjust(
            left=left_in / width,
            right=0.97,
            bottom=0.45 / height,
            top=1 - 0.35 / height,
            wspace=0.25,
        )
        return figure, figure.subplots(1, columns, squeeze=False)[0]

    def svg(self, figure: Any) -> str:
        import matplotlib

        buffer = io.StringIO()
        with matplotlib.rc_context(self.rc):
            figure.savefig(buffer, format="svg")
        text = buffer.getvalue()
        return text[text.index("<svg") :]


def _chart(kind: str, svg: str, points: int, caption: str) -> str:
    return (
        f'<figure class="chart" data-chart="{kind}" data-points="{points}">{svg}'
        f"<figcaption>{_esc(caption)}</figcaption></figure>"
    )


def _gflops_rounds(task: Mapping[str, Any], finalist: Mapping[str, Any]) -> list[float]:
    return [task["flops"] / t / 1e9 for t in finalist.get("times_s") or () if t > 0]


def tuning_curves(charts: _Charts, task: Mapping[str, Any]) -> str | None:
    """Best GFLOPS so far against trials and against wall time (with the cold run of a warm
    start for comparison)."""
    points = curve(task.get("trial_log") or (), task["flops"])
    if not points:
        return None
    figure, (by_trial, by_time) = charts.figure(10.0, 3.4, 2)
    trials = [p.trial for p in points]
    by_trial.scatter(trials, [p.gflops for p in points], s=9, color="#9bb7d4", label="trial")
    by_trial.step(trials, [p.best_gflops for p in points], where="post", label="best so far")
    by_time.step(
        [p.elapsed_s for p in points], [p.best_gflops for p in points], where="post", marker="."
    )
    warm = task.get("warm_start") or {}
    cold = curve((warm.get("cold") or {}).get("trial_log") or (), task["flops"])
    if cold:
        by_trial.step(
            [p.trial for p in cold],
            [p.best_gflops for p in cold],
            where="post",
            linestyle="--",
            color="#888",
            label="cold run (warm start's source)",
        )
        seeds = warm.get("seeds", 0)
        by_trial.axvspan(0.5, seeds + 0.5, color="#fde7b0", alpha=0.5, label=f"{seeds} seeds")
    by_trial.set(xlabel="trial", ylabel="GFLOPS (search-time)")
    by_time.set(xlabel="wall time since the first trial (s)", ylabel="best GFLOPS")
    by_trial.legend(loc="lower right", fontsize=7)
    for axes in (by_trial, by_time):
        axes.grid(alpha=0.3)
    figure.suptitle(_label(task))
    caption = f"{_label(task)}: {len(points)} measured trials of {len(task['trial_log'])}"
    return _chart("curve", charts.svg(figure), len(points), caption)


def final_spread(charts: _Charts, task: Mapping[str, Any]) -> str | None:
    """Box and whiskers of the final rounds of the default, the best and its runners-up."""
    finalists = [f for f in task.get("finalists") or () if f.get("times_s")]
    if not finalists:
        return None
    rounds = [_gflops_rounds(task, f) for f in finalists]
    labels = [f["label"] for f in finalists]
    figure, (axes,) = charts.figure(6.0, 1.0 + 0.4 * len(finalists), labels=labels)
    axes.boxplot(rounds, orientation="horizontal", tick_labels=labels)
    axes.set(xlabel="GFLOPS per final round", title=_label(task))
    axes.grid(alpha=0.3, axis="x")
    count = sum(len(r) for r in rounds)
    caption = f"{_label(task)}: final re-measurement, {len(rounds[0])} interleaved rounds"
    return _chart("spread", charts.svg(figure), count, caption)


def default_vs_tuned(charts: _Charts, tasks: Sequence[Mapping[str, Any]]) -> str | None:
    rows = [t for t in tasks if t.get("default_gflops") or t.get("best_gflops")]
    if not rows:
        return None
    labels = [_label(t) for t in rows]
    figure, (axes,) = charts.figure(7.5, 1.2 + 0.45 * len(rows), labels=labels)
    positions = range(len(rows))
    default = [t.get("default_gflops") or 0.0 for t in rows]
    best = [t.get("best_gflops") or 0.0 for t in rows]
    axes.barh([p + 0.2 for p in positions], default, height=0.4, label="default schedule")
    axes.barh([p - 0.2 for p in positions], best, height=0.4, label="tuned (final best)")
    axes.set_yticks(list(positions), labels)
    axes.invert_yaxis()
    axes.set(xlabel="GFLOPS (final re-measurement, median)")
    axes.legend(fontsize=7)
    axes.grid(alpha=0.3, axis="x")
    caption = "Default against tuned schedule, per task and browser"
    return _chart("default-vs-tuned", charts.svg(figure), 2 * len(rows), caption)


def per_browser(charts: _Charts, tasks: Sequence[Mapping[str, Any]]) -> str | None:
    names = list(dict.fromkeys(str(t["task"]) for t in tasks))
    browsers = list(dict.fromkeys(str(t["browser"]) for t in tasks))
    best = {(str(t["task"]), str(t["browser"])): t.get("best_gflops") or 0.0 for t in tasks}
    if not names:
        return None
    figure, (axes,) = charts.figure(7.5, 1.2 + 0.35 * len(names) * len(browsers), labels=names)
    height = 0.8 / len(browsers)
    for index, browser in enumerate(browsers):
        offsets = [n - 0.4 + height * (index + 0.5) for n in range(len(names))]
        values = [best.get((name, browser), 0.0) for name in names]
        axes.barh(offsets, values, height=height, label=browser)
    axes.set_yticks(list(range(len(names))), names)
    axes.invert_yaxis()
    axes.set(xlabel="best GFLOPS")
    axes.legend(fontsize=7)
    axes.grid(alpha=0.3, axis="x")
    caption = f"Each task in every browser ({', '.join(browsers)})"
    return _chart("per-browser", charts.svg(figure), len(best), caption)


def _model_bars(model: Mapping[str, Any]) -> Iterator[tuple[str, float, float, float]]:
    """(label, median, q1, q3) in milliseconds."""
    for label, key in (("tuned", "tuned_s"), ("untuned", "untuned_s")):
        spread = model.get(key)
        if spread:
            yield label, spread["median"] * 1e3, spread["q1"] * 1e3, spread["q3"] * 1e3
    for name, ms in ((model.get("peers") or {}).get("ms") or {}).items():
        yield (
            f"{name} (make bench)",
            ms["median"],
            ms.get("q1", ms["median"]),
            ms.get("q3", ms["median"]),
        )


def model_latency(charts: _Charts, model: Mapping[str, Any]) -> str:
    bars = list(_model_bars(model))
    figure, (axes,) = charts.figure(7.5, 1.2 + 0.4 * len(bars), labels=[bar[0] for bar in bars])
    medians = [bar[1] for bar in bars]
    errors = [[bar[1] - bar[2] for bar in bars], [bar[3] - bar[1] for bar in bars]]
    axes.barh(range(len(bars)), medians, xerr=errors, capsize=3, color="#4c78a8")
    axes.set_yticks(list(range(len(bars))), [bar[0] for bar in bars])
    axes.invert_yaxis()
    axes.set(xlabel="latency (ms, median with IQR)", title=f"{model['model']} end to end")
    axes.grid(alpha=0.3, axis="x")
    return _chart("model", charts.svg(figure), len(bars), headline(model))


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{_esc(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _tasks_table(tasks: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for t in tasks:
        outcome = t.get("outcome", "passed")
        css = "good" if outcome == "passed" else "bad"
        rows.append(
            (
                _esc(t["task"]),
                _esc(t["browser"]),
                _num(t.get("default_gflops")),
                _num(t.get("best_gflops")),
                _num(t.get("best_iqr_pct"), 1, " %"),
                "default kept" if t.get("default_kept") else _num(t.get("speedup"), 2, "x"),
                t.get("trials", 0),
                t.get("errors", 0),
                f'<span class="{css}">{_esc(outcome)}</span>',
            )
        )
    header = ("task", "browser", "default GFLOPS", "best GFLOPS", "IQR", "speedup", "trials")
    return _table((*header, "errors", "outcome"), rows)


def _comparison(comparison: Mapping[str, Any]) -> str:
    rows = []
    for delta in comparison.get("deltas") or ():
        change = delta.get("change_pct")
        css = "bad" if delta.get("verdict") == "REGRESSED" else ""
        rows.append(
            (
                _esc(delta["task"]),
                _esc(delta["browser"]),
                _num(delta["baseline_s"] and delta["baseline_s"] * 1e3, 3),
                _num(delta["current_s"] and delta["current_s"] * 1e3, 3),
                "-" if change is None else f"{change:+.1f} %",
                f'<span class="{css}">{_esc(delta.get("verdict", ""))}</span>',
            )
        )
    limit = comparison.get("limit_pct")
    gate = f", failing above +{limit:g} % beyond both IQRs" if limit is not None else ""
    title = f"<p>Against run {_esc(comparison.get('baseline', ''))}{_esc(gate)}:</p>"
    header = ("task", "browser", "then ms", "now ms", "change", "verdict")
    return title + _table(header, rows)


def _warm_starts(tasks: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for t in tasks:
        warm = t.get("warm_start")
        if not warm:
            continue
        saved = warm.get("savings") or {}
        rows.append(
            (
                _esc(t["task"]),
                _esc(t["browser"]),
                warm.get("seeds", 0),
                _num(saved.get("target_gflops")),
                saved.get("cold_trials", "-"),
                "never"
                if saved and saved.get("warm_trials") is None
                else saved.get("warm_trials", "-"),
                saved.get("saved", "-") if saved else "-",
            )
        )
    header = ("task", "browser", "seeds", "target GFLOPS", "cold trials", "warm trials", "saved")
    note = (
        "Trials to reach 90 % of the best search-time GFLOPS of the seeds' source run "
        "(cold) against this run (warm, seeds measured here first)."
    )
    return _section("Warm start", note, header, rows)


def _sibling_seeds(tasks: Sequence[Mapping[str, Any]]) -> str:
    rows = [
        (
            _esc(t["task"]),
            _esc(t["browser"]),
            t["siblings"].get("seeds", 0),
            t["siblings"].get("measured", 0),
            _num(t["siblings"].get("best_seed_search_gflops")),
            _num(t.get("best_gflops")),
            _esc(", ".join(t["siblings"].get("sources") or ())),
        )
        for t in tasks
        if t.get("siblings")
    ]
    header = ("task", "browser", "seeds", "measured", "best seed GFLOPS", "final GFLOPS", "from")
    note = (
        "Schedules of sibling tasks replayed on the task and measured in its first batch; "
        "the best seed's figure is search-time, the final one re-measured."
    )
    return _section("Sibling seeds", note, header, rows)


def _section(title: str, note: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A titled table with a note above it; nothing without rows."""
    if not rows:
        return ""
    return f"<h2>{_esc(title)}</h2><p>{_esc(note)}</p>" + _table(header, rows)


def _environment(report: Mapping[str, Any]) -> str:
    env = report.get("environment") or {}
    cpu = env.get("cpu") or {}
    signature = ", ".join(
        f"{name} {cpu[key]}"
        for name, key in (("family", "family"), ("model", "model_number"), ("stepping", "stepping"))
        if cpu.get(key)
    )
    browsers = ", ".join(
        f"{b.get('name')} {b.get('version', '')}".strip() for b in env.get("browsers") or ()
    )
    git = (report.get("run") or {}).get("git") or {}
    rows = [
        ("CPU", f"{cpu.get('model', '?')} ({signature}), {cpu.get('count', '?')} CPUs"),
        ("browsers", browsers or "-"),
        ("TVM", env.get("tvm") or "-"),
        ("emcc", env.get("emcc") or "-"),
        ("Python", env.get("python") or "-"),
        ("platform", env.get("platform") or "-"),
        (
            "tasks' git revision",
            f"{git.get('revision', '-')}{' (dirty)' if git.get('dirty') else ''}",
        ),
    ]
    return _table(("", ""), [(_esc(k), f'<span class="text">{_esc(v)}</span>') for k, v in rows])


def render_html(report: Mapping[str, Any]) -> str:
    """The whole page for one report (report.json or a stored run)."""
    charts = _Charts()
    tasks = list(report.get("tasks") or ())
    models = list(report.get("models") or ())
    run_id = (report.get("run") or {}).get("id", "")
    mode = (report.get("config") or {}).get("mode", "")
    parts = [
        f"<h1>wasm-tune run {_esc(run_id)}</h1>",
        f"<p>{_esc(report.get('created', ''))} · {_esc(mode)} · {len(tasks)} task results</p>",
    ]
    for model in models:
        parts.append(f'<p class="headline">{_esc(headline(model))}</p>')
    if tasks:
        tuned = [t for t in tasks if not t.get("default_kept")]
        best = max(tuned, key=lambda t: t.get("speedup") or 0.0, default={})
        if best.get("speedup"):
            parts.append(
                f'<p class="headline">Largest speedup: {_esc(_label(best))} '
                f"{best['speedup']:.2f}x ({_num(best.get('default_gflops'))} → "
                f"{_num(best.get('best_gflops'))} GFLOPS)</p>"
            )
        parts.append(_tasks_table(tasks))
    if report.get("comparison"):
        parts += ["<h2>Against an earlier run</h2>", _comparison(report["comparison"])]
    parts.append(_warm_starts(tasks))
    parts.append(_sibling_seeds(tasks))
    overview = [default_vs_tuned(charts, tasks), per_browser(charts, tasks)]
    overview += [model_latency(charts, model) for model in models]
    parts += ["<h2>Overview</h2>", *filter(None, overview)]
    for task in tasks:
        section = [tuning_curves(charts, task), final_spread(charts, task)]
        if any(section):
            parts += [f"<h2>{_esc(_label(task))}</h2>", *filter(None, section)]
    parts += ["<h2>Environment</h2>", _environment(report)]
    body = "\n".join(parts)
    title = _esc(f"wasm-tune {run_id}".strip())
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n"
    )


def write_html(report: Mapping[str, Any], path: Path) -> Path:
    return atomic_write_text(path, render_html(report))
