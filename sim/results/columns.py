"""A table as named columns, without pandas: what `sim run` prints and writes from.

Importing pandas costs about a fifth of a second, more than playing a scenario of
thousands of steps. The tables of a run are therefore built as plain columns
(numpy arrays, lists, coded categories, counts with empty cells) and become a
DataFrame only when someone asks for one (`Columns.frame`, what the API returns).
Their CSV text is the very text pandas' `to_csv(index=False, lineterminator="\\n")`
writes for that DataFrame: floats by the shortest repr (numpy's and Python's are the
same text, Python's is made in half the time), NaN and missing counts as empty cells,
quoting by the `csv` module's minimal rule. A DataFrame of plain columns is written
the same way (`Columns.of_frame`): a sweep's tables, in two thirds of `to_csv`'s time.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Coded", "Columns", "Counted", "inferred", "kind", "write_csv"]


@dataclass(frozen=True)
class Coded:
    """A categorical column: `codes` into `names`; code -1 is an empty cell."""

    codes: np.ndarray
    names: Sequence[str]

    def __len__(self) -> int:
        return len(self.codes)

    def frame_column(self) -> Any:
        import pandas as pd

        return pd.Categorical.from_codes(self.codes, dtype=pd.CategoricalDtype(list(self.names)))

    def cells(self) -> Sequence[str]:
        names = np.array([*map(str, self.names), ""], dtype=object)
        return names[self.codes].tolist()  # -1 picks the "" appended last


@dataclass(frozen=True)
class Counted:
    """Whole numbers with empty cells where `missing` (pandas' nullable Int32)."""

    values: np.ndarray
    missing: np.ndarray

    def __len__(self) -> int:
        return len(self.values)

    def frame_column(self) -> Any:
        import pandas as pd

        shown = pd.array(self.values, dtype="Int32")
        shown[self.missing] = pd.NA
        return shown

    def cells(self) -> Sequence[str]:
        text = self.values.astype(np.int64).astype(str).astype(object)
        text[self.missing] = ""
        return text.tolist()


@dataclass(frozen=True)
class Columns:
    """Named columns of equal length, in order; a scalar stands for a constant column."""

    data: Mapping[str, Any]
    rows: int

    @classmethod
    def of_rows(cls, rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> Columns:
        """Dict rows (a missing key is NaN, as in `pd.DataFrame(rows, columns=...)`)."""
        return cls({name: inferred([row.get(name, np.nan) for row in rows]) for name in names},
                   len(rows))  # fmt: skip

    @classmethod
    def of_frame(cls, frame: pd.DataFrame) -> Columns | None:
        """`frame`'s columns, where each holds whole numbers, floats (float64), booleans or
        text (NaN for missing): what `write_csv` writes as `frame.to_csv` does; None for
        any other frame (categories, nullable numbers, dates, repeated names)."""
        names = list(frame.columns)
        if len(set(names)) != len(names) or not all(isinstance(n, str) for n in names):
            return None
        data: dict[str, Any] = {}
        for name in names:
            column = frame[name]
            kind = column.dtype.kind
            if isinstance(column.dtype, np.dtype) and (kind in "iub" or column.dtype == float):
                data[name] = column.to_numpy()
                continue
            values = column.tolist()
            if not all(type(value) is str or _missing(value) for value in values):
                return None
            data[name] = values
        return cls(data, len(frame))

    @property
    def names(self) -> list[str]:
        return list(self.data)

    def values(self, name: str) -> list:
        """One column's values as Python objects (what a printed table formats)."""
        column = self.data[name]
        if isinstance(column, Coded | Counted):
            return list(column.cells())
        if isinstance(column, np.ndarray):
            return column.tolist()
        if isinstance(column, list | tuple):
            return list(column)
        return [column] * self.rows

    def records(self) -> list[dict[str, Any]]:
        columns = {name: self.values(name) for name in self.data}
        return [{name: columns[name][i] for name in columns} for i in range(self.rows)]

    def frame(self) -> pd.DataFrame:
        """The DataFrame with these columns and dtypes (categories stay categories)."""
        import pandas as pd

        data = {
            name: column.frame_column() if isinstance(column, Coded | Counted) else column
            for name, column in self.data.items()
        }
        if not self.rows:
            return pd.DataFrame(columns=self.names)
        return pd.DataFrame(data, index=pd.RangeIndex(self.rows), columns=self.names)

    def cells(self) -> Iterator[tuple[str, ...]]:
        """The rows as CSV cells, the text pandas would write."""
        columns = [_cells(column, self.rows) for column in self.data.values()]
        return zip(*columns, strict=True) if columns else iter(())


def write_csv(file: IO[str], table: Columns, header: bool = True) -> None:
    """`table` as CSV into an open text file (opened with `newline=""`)."""
    writer = csv.writer(file, lineterminator="\n")
    if header:
        writer.writerow(table.names)
    writer.writerows(table.cells())


def inferred(values: list) -> Any:
    """A column of Python values as pandas would hold it: numbers in an array, else a list.

    Judged by the values' types, each type once (a column has one or two)."""
    types = set(map(type, values))
    if types and all(issubclass(t, bool | np.bool_) for t in types):
        return np.array(values, dtype=bool)
    if types and all(
        issubclass(t, int | np.integer) and not issubclass(t, bool | np.bool_) for t in types
    ):
        return np.array(values, dtype=np.int64)
    if types and all(
        issubclass(t, int | float | np.integer | np.floating) and not issubclass(t, bool)
        for t in types
    ):
        return np.array(values, dtype=np.float64)
    return values


def kind(column: Any) -> str | None:
    """The one dtype a DataFrame gives a column `inferred` made, whatever rows it is put
    beside that have the same: "i" whole numbers, "f" floats, "b" booleans, "s" text
    with no cell missing; None for anything else (mixed, missing text, no rows)."""
    if isinstance(column, np.ndarray):
        plain = column.dtype in (np.int64, np.float64, np.bool_)
        return column.dtype.kind if plain and len(column) else None
    if isinstance(column, list) and set(map(type, column)) == {str}:
        return "s"
    return None


def _cells(column: Any, rows: int) -> Sequence[str]:
    """One column's CSV cells."""
    if isinstance(column, Coded | Counted):
        return column.cells()
    if isinstance(column, np.ndarray):
        if column.dtype == np.float64:  # Python's repr: numpy's text, in half the time
            return ["" if value != value else repr(value) for value in column.tolist()]
        if column.dtype.kind == "f":
            text = column.astype(str).astype(object)
            text[np.isnan(column)] = ""
            return text.tolist()
        if column.dtype.kind in "iub":
            return list(map(str, column.tolist()))
        return column.astype(str).tolist()
    if isinstance(column, list | tuple):
        if set(map(type, column)) <= {str}:  # text, none missing: as it is
            return column
        return ["" if _missing(value) else str(value) for value in column]
    return [str(column)] * rows


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)
