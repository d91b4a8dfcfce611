"""The bad-values corpus as figures: how many invalid inputs, how many refused with a message naming
their key, by chart and by layer (schema or template guard). `make test` prints it."""

from __future__ import annotations

import sys
from collections import Counter

from inference_charts.checks.harness import Harness
from inference_charts.devtools.bad_values import all_bad_values, names_key
from inference_charts.render.cases import Case


def main() -> int:
    harness = Harness()
    corpus = all_bad_values()
    refused: Counter[tuple[str, str]] = Counter()
    total: Counter[tuple[str, str]] = Counter()
    missed = []
    for entry in corpus:
        total[(entry.chart, entry.layer)] += 1
        message = harness.evaluate(Case(chart=entry.chart, values=entry.values(), name=entry.name)).render_error
        if message and names_key(message, entry.key):
            refused[(entry.chart, entry.layer)] += 1
        else:
            missed.append(entry.name)
    for chart, layer in sorted(total):
        print(f"  {chart:<22} {layer:<9} {refused[(chart, layer)]:>3} of {total[(chart, layer)]:>3} refused")
    print(f"bad values: {sum(refused.values())} of {len(corpus)} invalid inputs refused with their key named")
    for name in missed:
        print(f"  NOT REFUSED: {name}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
