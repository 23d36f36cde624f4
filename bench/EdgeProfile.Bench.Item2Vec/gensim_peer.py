#!/usr/bin/env python3
"""The gensim peer of bench-item2vec: trains gensim's Word2Vec (skip-gram, negative sampling) on the same sequences
and writes its vectors for the C# side to evaluate with the same scorer.

Input: a corpus file, one sequence per line, item ids separated by spaces (ids are the tokens).
Output (--out): little-endian int32 vocabulary size, int32 dimensions, then per item int32 id and float32[dimensions].
Stdout: one JSON line with the training seconds of every repeat and the word counts gensim reports.
Only model.train() is timed (build_vocab, which also initialises the weights, is not)."""
import argparse
import json
import struct
import sys
import time

import numpy as np
from gensim.models import Word2Vec
from gensim.models.word2vec import FAST_VERSION


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--corpus", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--negatives", type=int, default=5)
    p.add_argument("--ns-exponent", type=float, default=0.75)
    p.add_argument("--sample", type=float, default=1e-3)
    p.add_argument("--min-count", type=int, default=1)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--alpha", type=float, default=0.025)
    p.add_argument("--min-alpha", type=float, default=0.0001)
    p.add_argument("--repeats", type=int, default=1)
    a = p.parse_args()

    with open(a.corpus, encoding="ascii") as f:
        sentences = [line.split() for line in f if line.strip()]

    seconds = []
    model = None
    trained = raw = 0
    for _ in range(a.repeats):
        model = Word2Vec(sg=1, hs=0, negative=a.negatives, ns_exponent=a.ns_exponent, window=a.window,
                         vector_size=a.dim, sample=a.sample, min_count=a.min_count, epochs=a.epochs, alpha=a.alpha,
                         min_alpha=a.min_alpha, workers=a.threads, seed=a.seed)
        model.build_vocab(sentences)
        start = time.perf_counter()
        trained, raw = model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
        seconds.append(time.perf_counter() - start)

    wv = model.wv
    with open(a.out, "wb") as f:
        f.write(struct.pack("<ii", len(wv.index_to_key), wv.vector_size))
        for key in wv.index_to_key:
            f.write(struct.pack("<i", int(key)))
            f.write(np.asarray(wv[key], dtype="<f4").tobytes())

    import gensim
    print(json.dumps({"gensim": gensim.__version__, "fast_version": FAST_VERSION, "seconds": seconds,
                      "trained_words": trained, "raw_words": raw, "vocabulary": len(wv.index_to_key),
                      "corpus_count": model.corpus_count, "python": sys.version.split()[0]}))


if __name__ == "__main__":
    main()
