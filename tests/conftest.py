from __future__ import annotations

import pytest
from inference_charts.checks.harness import Harness, Result
from inference_charts.devtools.matrix import MatrixCase


@pytest.fixture(scope="session")
def harness() -> Harness:
    return Harness()


@pytest.fixture(scope="session")
def evaluated(harness: Harness):
    """Evaluates a matrix case once per session, however many tests look at it."""
    cache: dict[str, Result] = {}

    def evaluate(matrix_case: MatrixCase) -> Result:
        name = matrix_case.case.name
        if name not in cache:
            cache[name] = harness.evaluate(matrix_case.case)
        return cache[name]

    return evaluate


@pytest.fixture(scope="session")
def evaluated_case(harness: Harness):
    """Evaluates a Case once per session (by name), however many tests look at it."""
    cache: dict[str, Result] = {}

    def evaluate(case):
        if case.name not in cache:
            cache[case.name] = harness.evaluate(case)
        return cache[case.name]

    return evaluate
