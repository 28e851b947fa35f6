"""Tables without pandas: the same bytes pandas writes, and `sim run` never imports it.

A single run is printed and written from plain columns (`sim.results.columns`);
these tests hold those files to the text `DataFrame.to_csv` gives for the same
table, which is what the files were before and what the API still returns.
"""

from __future__ import annotations

import io
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.experiment.replications import block_of, frame, merged, rows_of, summarize, summarize_one
from sim.results import tables
from sim.results.columns import Coded, Columns, Counted, write_csv
from sim.results.tables import SUMMARY_COLUMNS
from sim.scenario.catalog import available

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def _csv(table: Columns) -> str:
    buffer = io.StringIO(newline="")
    write_csv(buffer, table)
    return buffer.getvalue()


def _pandas_csv(frame_: pd.DataFrame) -> str:
    return frame_.to_csv(index=False, lineterminator="\n")


floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=False, width=64),
    st.sampled_from([0.1 + 0.2, 1e16, 1e-7, -0.0, 3655.0, 43200.0, 2.5e-10]),
)
texts = st.text(alphabet=st.sampled_from(list('ab ,"\n\r;é★')), max_size=6)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), rows=st.integers(0, 8))
def test_csv_cells_are_the_text_pandas_writes(data, rows):
    """Floats (NaN too), whole numbers, text that needs quoting, categories and missing
    counts: `write_csv` gives to the byte what `frame().to_csv` gives."""
    names = data.draw(st.lists(texts, min_size=1, max_size=4, unique=True))

    def column(elements):
        return data.draw(st.lists(elements, min_size=rows, max_size=rows))

    table = Columns(
        {
            "f": np.array(column(floats), dtype=float),
            "i": np.array(column(st.integers(-(2**40), 2**40)), dtype=np.int64),
            "t": column(texts),
            "c": Coded(np.array(column(st.integers(-1, len(names) - 1)), dtype=np.int32), names),
            "n": Counted(np.arange(rows, dtype=np.int32), np.array(column(st.booleans()), bool)),
            "k": "constant, quoted",
        },
        rows,
    )
    assert _csv(table) == _pandas_csv(table.frame())


def test_rows_become_the_columns_pandas_infers():
    rows = [
        {"a": 1, "b": 1.5, "c": "x", "d": 2, "e": True},
        {"a": 2, "b": math.nan, "c": "y,z", "d": 2.5, "e": False},
    ]
    table = Columns.of_rows(rows, ["a", "b", "c", "d", "e", "missing"])
    made = pd.DataFrame(rows, columns=["a", "b", "c", "d", "e", "missing"])
    assert table.frame().dtypes.to_dict() == made.dtypes.to_dict()
    assert _csv(table) == _pandas_csv(made)


@pytest.mark.parametrize("name", sorted(available()))
def test_a_single_runs_files_are_what_pandas_made_of_them(name):
    """summary.csv (the statistics of one replication), replications.csv, games.csv and
    the steps table of every shipped scenario, against the pandas path."""
    result = sim.run(name)
    rows = rows_of(result)
    old_summary = summarize(frame(rows), ["schedule"], [result.seed], "players.x=1")
    assert _csv(summarize_one(rows, result.seed, "players.x=1")) == _pandas_csv(old_summary)
    assert _csv(result.games_columns) == _pandas_csv(result.games)
    assert _csv(result.summary_columns) == _pandas_csv(result.summary)
    whole = "".join(
        _csv(chunk) if index == 0 else _csv(chunk).split("\n", 1)[1]
        for index, chunk in enumerate(tables.step_column_chunks(result.traces, rows=97))
    )
    assert whole == _pandas_csv(result.steps)


def test_the_api_tables_keep_their_dtypes():
    """Categories stay categories (sorted schedule names in games, as pandas made them);
    hosts and workers are nullable whole numbers."""
    result = sim.run("crawler")
    games, steps = result.games, result.steps
    assert isinstance(games["schedule"].dtype, pd.CategoricalDtype)
    assert list(games["schedule"].cat.categories) == sorted(games["schedule"].unique())
    assert isinstance(games["group"].dtype, pd.CategoricalDtype)
    assert str(games["worker"].dtype) == "Int32"
    assert isinstance(steps["kind"].dtype, pd.CategoricalDtype)
    assert str(steps["host"].dtype) == "Int32"
    assert steps["host"].isna().any() and not steps["host"].isna().all()


def test_sim_run_prints_and_writes_without_importing_pandas(tmp_path):
    """pandas costs a fifth of a second; a single run needs none of it (with
    replications, the statistics do)."""
    code = (
        "import sys\n"
        "import sim.cli\n"
        "sim.cli._leave = sys.exit  # exit the usual way: the lines below still run\n"
        "from sim.cli import main\n"
        f"sys.argv = ['sim', 'run', 'polgar', '--no-plots', '--out', {str(tmp_path / 'p')!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exit:\n"
        "    assert exit.code in (0, None), exit.code\n"
        "print('pandas' in sys.modules, 'matplotlib' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "False False"
    assert (tmp_path / "p" / "summary.csv").read_text().startswith("schedule,makespan_s,")


@settings(max_examples=200, deadline=None)
@given(data=st.data(), rows=st.integers(0, 8))
def test_a_frame_of_plain_columns_is_written_as_to_csv_writes_it(data, rows):
    """A sweep's tables are DataFrames of whole numbers, floats and text (`Columns.of_frame`):
    `write_csv` gives to the byte what `to_csv` gives, missing text included."""

    def column(elements):
        return data.draw(st.lists(elements, min_size=rows, max_size=rows))

    made = pd.DataFrame(
        {
            "i": np.array(column(st.integers(-(2**40), 2**40)), dtype=np.int64),
            "f": np.array(column(floats), dtype=float),
            "b": np.array(column(st.booleans()), dtype=bool),
            "t": pd.array(column(st.one_of(texts, st.none())), dtype="str"),
            "o": pd.Series(column(st.one_of(texts, st.none())), dtype=object),
        }
    )
    plain = Columns.of_frame(made)
    assert plain is not None
    assert _csv(plain) == _pandas_csv(made)


@pytest.mark.parametrize(
    "made",
    [
        pd.DataFrame({"c": pd.Categorical([1, 2])}),
        pd.DataFrame({"n": pd.array([1, None], dtype="Int32")}),
        pd.DataFrame({"d": pd.to_datetime(["2026-01-01", "2026-01-02"])}),
        pd.DataFrame({"h": np.array([0.1, 0.2], dtype=np.float32)}),
        pd.DataFrame([[1, 2]], columns=["a", "a"]),
    ],
    ids=["categories", "nullable", "dates", "float32", "one-name-twice"],
)
def test_other_frames_are_left_to_to_csv(made):
    """Categories of numbers, nullable numbers, dates, float32 (written by its own
    shortest repr) and repeated names: pandas writes those itself."""
    assert Columns.of_frame(made) is None


# A sweep's batches: each sends its rows back as columns and as CSV text (`block_of`),
# and `merged` puts them end to end where that gives the table and text of all the rows.

cells = st.one_of(st.integers(-(2**40), 2**40), floats, st.booleans(), texts, st.none())
kinds = st.sampled_from(["int", "float", "bool", "text", "any"])
by_kind = {
    "int": st.integers(-(2**40), 2**40),
    "float": floats,
    "bool": st.booleans(),
    "text": texts,
    "any": cells,
}


@settings(max_examples=300, deadline=None)
@given(data=st.data(), blocks=st.integers(0, 4))
def test_blocks_merge_into_the_table_and_the_text_of_their_rows(data, blocks):
    """Whatever the blocks hold (a kind per column and block, mixed kinds, missing cells,
    text with commas, quotes and line breaks, a row short of a column, empty blocks),
    `merged` gives the DataFrame of all their rows, and, when it gives text, the bytes
    `to_csv` writes for that table without `point` and without a header."""
    made, every = [], []
    for point in range(blocks):
        length = data.draw(st.integers(0, 4))
        chosen = {name: data.draw(kinds) for name in ("x", "y", "z")}
        rows = []
        for replication in range(length):
            row = {"point": point, "replication": replication + 1}
            row.update({name: 1.5 for name in SUMMARY_COLUMNS})
            row.update({name: data.draw(by_kind[kind]) for name, kind in chosen.items()})
            if data.draw(st.integers(0, 20)) == 0:
                del row["y"]  # a row without a column the others have
            rows.append(row)
        made.append(block_of(rows, point))
        every += rows
    table, text = merged(made)
    expected = frame(every)
    pd.testing.assert_frame_equal(table, expected, check_exact=True)
    if text is not None:
        assert text == expected.drop(columns="point").to_csv(
            index=False, header=False, lineterminator="\n"
        )


def test_blocks_of_plain_rows_keep_their_text():
    """Summary rows of a real run are whole numbers, floats and text: the fast way."""
    rows = rows_of(sim.run(sim.load("polgar"), schedules=["synchronous", "cooperative"]))
    block = block_of(rows, 0)
    assert block.csv is not None and None not in block.kinds
    table, text = merged([block, block_of(rows, 0)])
    expected = frame(rows + rows)
    pd.testing.assert_frame_equal(table, expected, check_exact=True)
    assert text == expected.drop(columns="point").to_csv(
        index=False, header=False, lineterminator="\n"
    )


def test_a_whole_number_past_int64_is_left_to_pandas():
    rows = [{"point": 0, "replication": 1, "x": 2**70}, {"point": 0, "replication": 2, "x": 1}]
    table, text = merged([block_of(rows, 0)])
    pd.testing.assert_frame_equal(table, frame(rows), check_exact=True)
    assert text is None
