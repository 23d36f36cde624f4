#!/usr/bin/python3
"""xgboost on UCI Adult, the peer of `edgeprofile models evaluate --dataset adult`.

Two tasks as in the MMoE paper's census setup: income > 50K, and marital status (never married vs not). Features:
every column except the two label columns; categorical columns one-hot encoded with the training file's categories
('?' is a category of its own), numeric columns as they are (trees need no numeric encoding). Split: adult.data is the
training file, adult.test the test file; the early-stopping validation rows of each seed are read from --split (a
JSON object seed -> row indices into adult.data, written by bench/EdgeProfile.Bench.Models so that xgboost and the
networks see exactly the same rows), or, without --split, a seeded 15 % of adult.data drawn here. Three seeds; prints
one JSON object per task with the test AUC mean and standard deviation (and the validation AUC), so the C# evaluation
can show it beside its own models.

Needs Debian's python3-xgboost and python3-sklearn (apt-get install -y python3-xgboost python3-sklearn).
Usage: /usr/bin/python3 bench/models/adult_xgboost.py [DATA_DIR] [--seeds 1,2,3] [--threads 2] [--split FILE]
"""
import argparse
import json
import os
import statistics
import sys

import numpy as np
import xgboost as xgb
from sklearn.metrics import roc_auc_score

NUMERIC = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
CATEGORICAL = ["workclass", "education", "occupation", "relationship", "race", "sex", "native-country"]


def read(path):
    with open(path, encoding="utf-8") as f:
        header = [h.strip() for h in f.readline().split(",")]
        rows = []
        for line in f:
            line = line.strip()
            if not line:
                continue
            values = [v.strip() for v in line.split(",")]
            if len(values) != len(header):
                continue
            rows.append(dict(zip(header, values)))
    return rows


def labels(rows):
    income = np.array([1.0 if r["classification"].rstrip(".") == ">50K" else 0.0 for r in rows])
    never = np.array([1.0 if r["marital-status"] == "Never-married" else 0.0 for r in rows])
    return {"income": income, "never_married": never}


def encode(rows, vocab):
    columns = [np.array([float(r[c]) for r in rows]) for c in NUMERIC]
    for c in CATEGORICAL:
        values = [r[c] for r in rows]
        for category in vocab[c]:
            columns.append(np.array([1.0 if v == category else 0.0 for v in values]))
    return np.column_stack(columns)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data", nargs="?", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "adult"))
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--split", help="JSON object: seed -> validation row indices into adult.data")
    args = parser.parse_args()
    split = None
    if args.split:
        with open(args.split, encoding="utf-8") as f:
            split = {int(k): np.array(v, dtype=np.int64) for k, v in json.load(f).items()}
    train_rows = read(os.path.join(args.data, "adult.data"))
    test_rows = read(os.path.join(args.data, "adult.test"))
    vocab = {c: sorted({r[c] for r in train_rows}) for c in CATEGORICAL}
    x_train, x_test = encode(train_rows, vocab), encode(test_rows, vocab)
    y_train, y_test = labels(train_rows), labels(test_rows)
    seeds = [int(s) for s in args.seeds.split(",")]
    for task in ("income", "never_married"):
        aucs, validation_aucs = [], []
        for seed in seeds:
            if split is not None:
                valid = split[seed]
            else:
                order = np.random.default_rng(seed).permutation(len(train_rows))
                valid = order[:round(len(order) * 0.15)]
            fit = np.setdiff1d(np.arange(len(train_rows)), valid)
            model = xgb.XGBClassifier(n_estimators=2000, learning_rate=0.05, max_depth=6, subsample=0.9,
                                      colsample_bytree=0.9, n_jobs=args.threads, random_state=seed,
                                      early_stopping_rounds=50, eval_metric="auc", tree_method="hist")
            model.fit(x_train[fit], y_train[task][fit], eval_set=[(x_train[valid], y_train[task][valid])], verbose=False)
            aucs.append(roc_auc_score(y_test[task], model.predict_proba(x_test)[:, 1]))
            validation_aucs.append(roc_auc_score(y_train[task][valid], model.predict_proba(x_train[valid])[:, 1]))
        print(json.dumps({"task": task, "model": "xgboost", "seeds": seeds, "auc_mean": statistics.mean(aucs),
                          "auc_std": statistics.stdev(aucs) if len(aucs) > 1 else 0.0,
                          "validation_auc_mean": statistics.mean(validation_aucs),
                          "split": "given" if split is not None else "own", "validation_rows": [len(split[s]) if split is not None else None for s in seeds],
                          "train_rows": len(train_rows), "test_rows": len(test_rows), "features": x_train.shape[1]}))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
