#!/usr/bin/python3
"""xgboost on a retail training set, the peer of the product pipeline in bench/EdgeProfile.Bench.RetailModels.

Reads the SAME training_set.csv + manifest.json that `edgeprofile features training-set` wrote and that
`edgeprofile models train` trains on, and applies the same rules as the pipeline (shared/EdgeProfile.Training/Pipeline):
- rows with label_observed = 1 only;
- features: the columns listed in --features (the C# side writes the exact list it used), else every manifest
  definition whose values are all empty or numeric, newest version per name; an empty value reads as 0;
- tasks: label kind Purchase -> repurchase_<h> (binary), NoPurchase -> churn_<h> (binary), Spend -> ltv_<h>
  (regression on log1p(max(0, spend)));
- time split: test = cutoff >= --split; of the earlier rows, ordered by cutoff (then file order), the latest
  round(15 %) validate (early stopping) and the rest train.
Metrics: test AUC for binary tasks, RMSE on the log1p scale for LTV. Prints one JSON object per task with the metric
for every seed.

Needs Debian's python3-xgboost and python3-sklearn (apt-get install -y python3-xgboost python3-sklearn).
Usage: /usr/bin/python3 bench/models/retail_xgboost.py TRAINING_SET_DIR [--features FILE] [--split 2011-09-01]
       [--seeds 1,2,3] [--threads 2]
"""
import argparse
import csv
import datetime
import json
import math
import os
import sys
import time

import numpy as np
import xgboost as xgb
from sklearn.metrics import mean_squared_error, roc_auc_score

VALIDATION_FRACTION = 0.15


def parse_time(text):
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    t = datetime.datetime.fromisoformat(text)
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    return t


def is_number(text):
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def load(directory, features_file):
    with open(os.path.join(directory, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    with open(os.path.join(directory, "training_set.csv"), encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        column = {name: i for i, name in reversed(list(enumerate(header)))}
        observed = column["label_observed"]
        rows = [r for r in reader if r[observed] == "1"]
    if features_file:
        with open(features_file, encoding="utf-8") as f:
            features = [line.strip() for line in f if line.strip()]
    else:
        definitions = manifest["definitions"]
        features = []
        for d in definitions:
            values = (r[column[d["id"]]] for r in rows)
            if any(v != "" and not is_number(v) for v in values):
                continue
            if any(o["name"] == d["name"] and o["version"] > d["version"] for o in definitions):
                continue
            features.append(d["id"])
    x = np.array([[float(r[column[c]]) if r[column[c]] != "" else 0.0 for c in features] for r in rows], dtype=np.float32)
    cutoffs = [parse_time(r[column["cutoff"]]) for r in rows]
    tasks = []
    for label in manifest["labels"]:
        horizon = "_" + label["horizon"] if label.get("horizon") else ""
        kind = label.get("kind", "")
        raw = np.array([float(r[column[label["name"]]]) for r in rows])
        if kind == "Purchase":
            tasks.append(("repurchase" + horizon, "binary", raw))
        elif kind == "NoPurchase":
            tasks.append(("churn" + horizon, "binary", raw))
        elif kind == "Spend":
            tasks.append(("ltv" + horizon, "regression", np.log1p(np.maximum(0.0, raw))))
        elif np.all((raw == 0) | (raw == 1)):
            tasks.append((label["name"], "binary", raw))
        else:
            tasks.append((label["name"], "regression", np.log1p(np.maximum(0.0, raw))))
    return x, cutoffs, tasks, features


def time_split(cutoffs, split_at):
    test = [i for i, c in enumerate(cutoffs) if c >= split_at]
    before = sorted((i for i, c in enumerate(cutoffs) if c < split_at), key=lambda i: (cutoffs[i], i))
    validation = int(round(len(before) * VALIDATION_FRACTION))  # round half to even, as .NET's Math.Round
    return np.array(before[:len(before) - validation]), np.array(before[len(before) - validation:]), np.array(test)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("training_set")
    parser.add_argument("--features")
    parser.add_argument("--split", default="2011-09-01T00:00:00Z")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    x, cutoffs, tasks, features = load(args.training_set, args.features)
    train, valid, test = time_split(cutoffs, parse_time(args.split))
    seeds = [int(s) for s in args.seeds.split(",")]
    for name, kind, y in tasks:
        values, rounds, seconds = [], [], []
        for seed in seeds:
            common = dict(n_estimators=1000, learning_rate=0.1, max_depth=6, subsample=0.9, colsample_bytree=0.9,
                          n_jobs=args.threads, random_state=seed, early_stopping_rounds=30, tree_method="hist")
            started = time.monotonic()
            if kind == "binary":
                model = xgb.XGBClassifier(eval_metric="logloss", **common)
                model.fit(x[train], y[train], eval_set=[(x[valid], y[valid])], verbose=False)
                values.append(float(roc_auc_score(y[test], model.predict_proba(x[test])[:, 1])))
            else:
                model = xgb.XGBRegressor(eval_metric="rmse", **common)
                model.fit(x[train], y[train], eval_set=[(x[valid], y[valid])], verbose=False)
                values.append(float(math.sqrt(mean_squared_error(y[test], model.predict(x[test])))))
            rounds.append(int(model.best_iteration) + 1)
            seconds.append(round(time.monotonic() - started, 1))
        print(json.dumps({"task": name, "model": "xgboost", "metric": "auc" if kind == "binary" else "rmse_log1p",
                          "seeds": seeds, "values": values, "trees": rounds, "fit_seconds": seconds,
                          "train_rows": len(train), "validation_rows": len(valid), "test_rows": len(test), "features": len(features), "xgboost": xgb.__version__}))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
