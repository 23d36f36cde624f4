using System.Globalization;

namespace EdgeProfile.Semantic.Item2Vec;

/// <summary>
/// Settings of <see cref="Item2VecTrainer"/>: skip-gram with negative sampling (word2vec, Mikolov et al. 2013) over
/// behaviour sequences, where an item plays the part of a word and a customer's sequence the part of a sentence
/// (item2vec, Barkan and Koenigstein 2016). Defaults are gensim 4's Word2Vec defaults (word2vec.c's, but for <see cref="InitialScale"/>), except <see cref="Dimensions"/> (64).
/// </summary>
public sealed record Item2VecOptions
{
    /// <summary>Length of every item vector.</summary>
    public int Dimensions { get; init; } = 64;

    /// <summary>Maximum distance between the centre item and a context item; each centre item draws a reduced window
    /// uniformly in 1..Window (word2vec's dynamic window).</summary>
    public int Window { get; init; } = 5;

    /// <summary>Negative items drawn per (centre, context) pair.</summary>
    public int Negatives { get; init; } = 5;

    /// <summary>Exponent of the unigram distribution negatives are drawn from (count^exponent); 0.75 in word2vec,
    /// 0 = uniform over the vocabulary, 1 = proportional to frequency.</summary>
    public double NegativeExponent { get; init; } = 0.75;

    /// <summary>Down-sampling threshold of frequent items (word2vec's <c>sample</c>): an occurrence of an item of
    /// relative frequency f is kept with probability (sqrt(f / s) + 1) · s / f. 0 turns it off.</summary>
    public double Subsample { get; init; } = 1e-3;

    /// <summary>Passes over the sequences.</summary>
    public int Epochs { get; init; } = 5;

    /// <summary>Learning rate at the start; it falls linearly with the share of tokens processed.</summary>
    public double StartLearningRate { get; init; } = 0.025;

    /// <summary>Learning rate at the end of training (the floor of the linear decay).</summary>
    public double MinLearningRate { get; init; } = 0.0001;

    /// <summary>Items occurring fewer times in the training sequences get no vector and are removed from them.</summary>
    public int MinCount { get; init; } = 1;

    /// <summary>Worker threads (Hogwild: lock-free updates of shared weights); 1 makes training deterministic.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Half-width of the uniform initialisation of the input vectors, in units of 1/Dimensions: each
    /// coordinate starts in [-InitialScale, InitialScale) / Dimensions (output vectors start at zero). gensim 4 uses 1.0
    /// (the default: on the validation holdout of Amazon Beauty it beat word2vec.c's 0.5 under both negative protocols;
    /// see bench/EdgeProfile.Bench.Item2Vec/README.md).</summary>
    public double InitialScale { get; init; } = 1.0;

    /// <summary>Seed of the initial vectors and of every thread's random stream.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        Check(Dimensions is >= 1 and <= 4096, nameof(Dimensions), "between 1 and 4096", Dimensions);
        Check(Window is >= 1 and <= 1000, nameof(Window), "between 1 and 1000", Window);
        Check(Negatives is >= 1 and <= 1000, nameof(Negatives), "between 1 and 1000", Negatives);
        Check(double.IsFinite(NegativeExponent) && NegativeExponent >= 0 && NegativeExponent <= 2, nameof(NegativeExponent), "between 0 and 2", NegativeExponent);
        Check(double.IsFinite(Subsample) && Subsample >= 0 && Subsample < 1, nameof(Subsample), "at least 0 and below 1 (0 = off)", Subsample);
        Check(Epochs is >= 1 and <= 10_000, nameof(Epochs), "between 1 and 10000", Epochs);
        Check(double.IsFinite(StartLearningRate) && StartLearningRate > 0 && StartLearningRate <= 10, nameof(StartLearningRate), "above 0 and at most 10", StartLearningRate);
        Check(double.IsFinite(MinLearningRate) && MinLearningRate >= 0 && MinLearningRate <= StartLearningRate, nameof(MinLearningRate),
            "at least 0 and at most StartLearningRate", MinLearningRate);
        Check(MinCount >= 1, nameof(MinCount), "at least 1", MinCount);
        Check(double.IsFinite(InitialScale) && InitialScale > 0 && InitialScale <= 100, nameof(InitialScale), "above 0 and at most 100", InitialScale);
        Check(Threads is >= 1 and <= 1024, nameof(Threads), "between 1 and 1024", Threads);
    }

    private static void Check(bool ok, string option, string range, object value)
    {
        if (!ok)
        {
            throw new ArgumentOutOfRangeException(option, value,
                string.Create(CultureInfo.InvariantCulture, $"Item2VecOptions.{option} must be {range} (was {value})."));
        }
    }
}
