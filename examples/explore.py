# %% [markdown]
# # Exploring the polgar exhibition from Python
#
# A notebook in plain Python (`# %%` cells: VS Code, PyCharm and Jupytext open it as
# one). Run it whole with `python examples/explore.py`; it writes its plot under
# `results/explore/` (or the folder in `SIM_EXPLORE_OUT`).

# %%
import os
from pathlib import Path

import matplotlib

if __name__ == "__main__" or "SIM_EXPLORE_OUT" in os.environ:
    matplotlib.use("Agg")  # run as a script: draw into a file, not a window
import matplotlib.pyplot as plt

import sim

# %% [markdown]
# Judit Polgár plays 24 amateurs: 5 s a move, they take 55 s, 30 moves a game.

# %%
polgar = sim.load("polgar")
result = sim.run(polgar, schedules=["synchronous", "cooperative"], seed=1)
columns = ["schedule", "makespan_s", "makespan_hms", "speedup", "host_utilization"]
print(result.summary[columns].to_string(index=False))

# %% [markdown]
# Where does each game's time go under cooperative? Waiting for Judit, mostly.

# %%
games = result.games[result.games.schedule == "cooperative"]
print(games[["host_s", "wait_s", "wait_for_host_s"]].mean().round(1).to_string())

# %% [markdown]
# How does the exhibition scale with the number of amateurs? Synchronous grows by
# 30 × 60 s = 1 800 s a player; cooperative stays near one game (1 800 s) until Judit
# is never idle, at n = (5 + 55) / 5 = 12, then grows by 30 × 5 s = 150 s a player.

# %%
sweep = sim.sweep(polgar, {"players.amateur.count": range(1, 49)})
knee = sweep.pivot(index="players.amateur.count", columns="schedule", values="makespan_s")
print(knee.loc[[1, 12, 13, 24, 48]].to_string())

# %%
figure, axes = plt.subplots(figsize=(7, 4))
for schedule in ("synchronous", "cooperative"):
    axes.plot(knee.index, knee[schedule] / 3600, marker=".", label=schedule)
axes.axvline(12, color="grey", linestyle=":", label="n = (c + w) / c = 12")
axes.set(xlabel="amateurs", ylabel="makespan (h)", yscale="log", title="polgar: the knee at 12")
axes.legend()
out = Path(os.environ.get("SIM_EXPLORE_OUT", "results/explore"))
out.mkdir(parents=True, exist_ok=True)
figure.savefig(out / "sweep.png", dpi=100)
print(f"wrote {out / 'sweep.png'}")

# %% [markdown]
# A what-if in one line: a second Judit (two hosts) for 48 amateurs.

# %%
doubled = sim.with_values(polgar, {"players.amateur.count": 48, "host.count": 2})
print(
    sim.run(doubled, schedules=["cooperative"])
    .summary[["schedule", "makespan_s"]]
    .to_string(index=False)
)
