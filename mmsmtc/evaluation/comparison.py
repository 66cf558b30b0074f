"""Two runs' numbers side by side: one row per metric, the difference.

Built from the ``metrics`` of ``tools/test.py``'s ``results.json`` files
(fractions, NaN written as null), e.g. an untrained and a trained model.
"""
import json
import math
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

#: Columns of a comparison row after the metric's name.
VALUE_COLUMNS = ('before', 'after', 'difference')


def _value(metrics: Mapping[str, Optional[float]], key: str,
           run: str) -> float:
    if key not in metrics:
        raise KeyError(f'{run} run has no metric {key!r}; it has '
                       f'{sorted(metrics)}')
    value = metrics[key]
    return math.nan if value is None else float(value)


def compare_metrics(before: Mapping[str, Optional[float]],
                    after: Mapping[str, Optional[float]],
                    rows: Sequence[Tuple[str, str]]) -> List[Dict]:
    """One row per metric: ``{'metric', 'key', 'before', 'after',
    'difference'}`` with ``difference = after - before``.

    Args:
        before: The first run's metrics (``key -> value``; None is NaN).
        after: The second run's metrics.
        rows: ``(label, key)`` pairs in table order, e.g.
            ``('unsup J&F', 'davis/J&F-Mean')``.

    Raises:
        KeyError: Naming the run and the key when a metric is missing.
    """
    table = []
    for label, key in rows:
        first = _value(before, key, 'the before')
        second = _value(after, key, 'the after')
        table.append(
            dict(metric=label, key=key, before=first, after=second,
                 difference=second - first))
    return table


def _cell(value: float, scale: float, signed: bool) -> str:
    if math.isnan(value):
        return 'n/a'
    return f'{value * scale:+.1f}' if signed else f'{value * scale:.1f}'


def _cells(row: Mapping, scale: float) -> List[str]:
    return [row['metric']] + [
        _cell(row[column], scale, column == 'difference')
        for column in VALUE_COLUMNS
    ]


def format_comparison(rows: Sequence[Mapping],
                      headers: Tuple[str, str] = ('before', 'after'),
                      markdown: bool = False,
                      scale: float = 100.0) -> str:
    """The rows of :func:`compare_metrics` as a text or markdown table.

    Values are multiplied by ``scale`` (percent by default) and shown with
    one decimal; the difference is signed; NaN is ``n/a``.

    Args:
        rows: Rows of :func:`compare_metrics`.
        headers: Names of the before and after columns.
        markdown: A GitHub markdown table instead of aligned text.
        scale: Factor applied to every value.
    """
    header = ['metric', *headers, 'difference']
    lines = [header] + [_cells(row, scale) for row in rows]
    if markdown:
        rule = ['---'] + ['---:'] * (len(header) - 1)
        return '\n'.join('| ' + ' | '.join(line) + ' |'
                         for line in [lines[0], rule, *lines[1:]])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [
        '  '.join([line[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(line[1:], widths[1:])
        ]) for line in lines
    ]
    text.insert(1, '  '.join('-' * width for width in widths))
    return '\n'.join(text)


def write_comparison(out_dir: Union[str, Path],
                     rows: Sequence[Mapping],
                     headers: Tuple[str, str] = ('before', 'after'),
                     sources: Optional[Mapping[str, str]] = None,
                     stem: str = 'comparison') -> Dict[str, Path]:
    """Write ``<stem>.json`` (raw fractions, NaN as null) and ``<stem>.md``.

    Args:
        out_dir: The folder to write to.
        rows: Rows of :func:`compare_metrics`.
        headers: Names of the before and after columns (the JSON keys of
            each row's values are ``before``/``after`` with these names
            recorded under ``columns``).
        sources: Extra provenance, e.g. the ``results.json`` of each run.
        stem: The file name without suffix.

    Returns:
        dict: ``json`` and ``markdown`` paths.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    safe_rows = [{
        key: (None if isinstance(value, float) and math.isnan(value) else
              value)
        for key, value in row.items()
    } for row in rows]
    json_path = out_dir / f'{stem}.json'
    json_path.write_text(
        json.dumps(
            dict(columns=dict(before=headers[0], after=headers[1]),
                 rows=safe_rows,
                 sources=dict(sources or {})),
            indent=2))
    markdown_path = out_dir / f'{stem}.md'
    markdown_path.write_text(
        format_comparison(rows, headers, markdown=True) + '\n')
    return dict(json=json_path, markdown=markdown_path)
