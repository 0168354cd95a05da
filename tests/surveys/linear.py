"""Exact linear algebra for the differencing tests: which figures follow from the figures shown."""

from fractions import Fraction


class RowSpace:
    """The span of the equations seen so far, kept in echelon form over the rationals."""

    def __init__(self):
        self.rows: list[tuple[object, dict]] = []  # (pivot unknown, row with 1 at the pivot)

    def _reduce(self, vector: dict) -> dict:
        vector = {key: Fraction(value) for key, value in vector.items() if value}
        for pivot, row in self.rows:
            factor = vector.get(pivot)
            if factor:
                for key, value in row.items():
                    reduced = vector.get(key, 0) - factor * value
                    if reduced:
                        vector[key] = reduced
                    else:
                        vector.pop(key, None)
        return vector

    def add(self, vector: dict) -> None:
        rest = self._reduce(vector)
        if rest:
            pivot = next(iter(rest))
            scale = rest[pivot]
            self.rows.append((pivot, {key: value / scale for key, value in rest.items()}))

    def determines(self, vector: dict) -> bool:
        """Whether a figure with these coefficients follows from the equations seen."""
        return not self._reduce(vector)
