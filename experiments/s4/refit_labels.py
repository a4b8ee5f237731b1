import pickle, pathlib, numpy as np
from vemidi.training.train import read_data_cache
from vemidi.training.dataset import LabelScale
from vemidi.music import tokenizer as tk
train, test, scale = read_data_cache(pathlib.Path("runs/v3/data.pkl"))
more = [e for e in train if int(e.tokens[0]) == tk.MORE_INSTRUMENTS]
new = LabelScale.fit(more)
print("old", scale, "\nnew", new, len(more), "of", len(train))
a_old = np.array([scale.arousal(e.notes_per_beat) for e in more]); a_new = np.array([new.arousal(e.notes_per_beat) for e in more])
print("multi-voice arousal pct old", np.percentile(a_old,[5,25,50,75,95]).round(2), "new", np.percentile(a_new,[5,25,50,75,95]).round(2))
pathlib.Path("runs/v4").mkdir(exist_ok=True)
with open("runs/v4/data.pkl", "wb") as f:
    pickle.dump((train, test, new), f)
