"""Per-video rows, the results table and the files ``tools/test.py`` writes.

Every mmsmtc metric keeps small per-video statistics in ``results`` and
reduces them in ``compute_metrics``; reducing one video's statistics alone
gives that video's numbers with the metric's own, official maths.
"""
import csv
import json
import math
from pathlib import Path
from typing import Dict, List, Mapping, Sequence

from mmengine.evaluator import BaseMetric, DumpResults

#: Name of the table row holding the official whole-benchmark numbers.
OVERALL_ROW = 'ALL'


def video_scores(metric: BaseMetric, results: Sequence) -> Dict[str, float]:
    """One video's numbers: ``metric.compute_metrics`` on its results alone.

    Returns:
        dict[str, float]: ``'<prefix>/<key>' -> value``; empty for metrics
        that keep nothing per video (``format_only``, ``DumpResults``).

    Raises:
        ValueError: From the metric, when the video cannot be scored on its
            own (e.g. it has no ground-truth object).
    """
    if isinstance(metric, DumpResults) or not results:
        return {}
    scores = metric.compute_metrics(list(results))
    prefix = f'{metric.prefix}/' if metric.prefix else ''
    return {f'{prefix}{key}': float(value) for key, value in scores.items()}


def _columns(rows: Sequence[Mapping]) -> List[str]:
    columns = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    return columns


def fill_missing_scores(rows: Sequence[Mapping]) -> List[dict]:
    """The rows with every column of any row, in the same order; a number
    missing from a row (a video a metric could not score) is NaN."""
    columns = _columns(rows)
    return [{key: row.get(key, math.nan) for key in columns} for row in rows]


def _cell(value) -> str:
    if isinstance(value, float):
        return 'nan' if math.isnan(value) else f'{value:.4f}'
    return str(value)


def format_table(rows: Sequence[Mapping], max_columns: int = 8) -> str:
    """A fixed-width text table of the rows (first ``max_columns`` keys)."""
    columns = _columns(rows)[:max_columns]
    cells = [columns] + [[_cell(row.get(key, '')) for key in columns]
                         for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = ['  '.join(text.ljust(width) for text, width in zip(line, widths))
             for line in cells]
    lines.insert(1, '  '.join('-' * width for width in widths))
    return '\n'.join(lines)


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


def write_test_results(out_dir: Path, metrics: Mapping[str, float],
                       rows: Sequence[Mapping], settings: Mapping) -> dict:
    """Write ``results.json`` and ``per_video.csv`` into ``out_dir``.

    ``per_video.csv`` has one row per video (``video`` then the metric keys)
    and a last row :data:`OVERALL_ROW` with the official numbers over the
    whole benchmark (not the mean of the rows: most benchmarks pool frames
    or objects). ``results.json`` holds ``metrics``, ``per_video`` and
    ``settings`` (NaN written as null).

    Returns:
        dict: ``json`` and ``csv`` paths.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    overall = {'video': OVERALL_ROW, **{k: float(v)
                                        for k, v in metrics.items()}}
    table = list(rows) + [overall]
    csv_path = out_dir / 'per_video.csv'
    with open(csv_path, 'w', newline='') as file:
        writer = csv.DictWriter(file, fieldnames=_columns(table))
        writer.writeheader()
        writer.writerows(table)
    json_path = out_dir / 'results.json'
    summary = dict(metrics=dict(metrics), per_video=list(rows),
                   settings=dict(settings))
    json_path.write_text(
        json.dumps(_json_safe(summary), indent=2, default=str))
    return dict(json=json_path, csv=csv_path)
