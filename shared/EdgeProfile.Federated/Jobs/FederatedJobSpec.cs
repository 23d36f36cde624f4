using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeProfile.Federated.Jobs;

/// <summary>
/// A federated training job as the operator creates it (<c>POST /api/fl/jobs</c>, <c>edgeprofile fl jobs create</c>)
/// and as every participant receives it with each task: the model to train, the data each client builds locally, the
/// local training, the server strategy, the round schedule, and the privacy settings. JSON in camelCase.
/// </summary>
public sealed record FederatedJobSpec
{
    /// <summary>Longest accepted name.</summary>
    public const int MaxNameLength = 100;

    /// <summary>Operator's name for the job (also the prefix of the model versions it registers).</summary>
    public string Name { get; init; } = "";

    /// <summary>Feature names (numeric definitions every participant computes or maps).</summary>
    public IReadOnlyList<string> Features { get; init; } = [];

    /// <summary>Heads: name, kind (binary | regression) and the label column each participant computes.</summary>
    public IReadOnlyList<FederatedTask> Tasks { get; init; } = [];

    /// <summary>MMoE shape: experts, expert hidden widths, tower hidden widths (1 expert, no layers = logistic regression).</summary>
    public int Experts { get; init; } = 2;

    public IReadOnlyList<int> ExpertHidden { get; init; } = [16];

    public IReadOnlyList<int> TowerHidden { get; init; } = [8];

    /// <summary>Server strategy: fedavg, fedprox, fedadam, fedyogi, median, trimmed-mean, krum, multi-krum.</summary>
    public string Strategy { get; init; } = "fedavg";

    /// <summary>Server learning rate (fedadam/fedyogi; fedavg's step is 1).</summary>
    public double? ServerLearningRate { get; init; }

    /// <summary>Fraction trimmed from each end per coordinate (trimmed-mean).</summary>
    public double TrimFraction { get; init; } = 0.2;

    /// <summary>Clients assumed Byzantine (krum, multi-krum).</summary>
    public int ByzantineClients { get; init; } = 1;

    /// <summary>Rounds to run.</summary>
    public int Rounds { get; init; } = 3;

    /// <summary>Fraction of the eligible connected clients invited to each round (at least <see cref="MinClients"/>).</summary>
    public double Fraction { get; init; } = 1.0;

    /// <summary>Fewest updates a round may aggregate; below it the round is retried, then the job fails with the reason.</summary>
    public int MinClients { get; init; } = 2;

    /// <summary>How long a round waits for updates; later updates are discarded and counted as stragglers.</summary>
    public int RoundTimeoutSeconds { get; init; } = 120;

    /// <summary>Retries of a round that got fewer than <see cref="MinClients"/> updates before the job fails.</summary>
    public int RoundRetries { get; init; } = 2;

    /// <summary>Local training: epochs, batch size, learning rate, optimiser (sgd | adam), FedProx μ (0 = none).</summary>
    public int LocalEpochs { get; init; } = 1;

    public int BatchSize { get; init; } = 64;

    public double LearningRate { get; init; } = 0.01;

    public string Optimizer { get; init; } = "adam";

    public double ProximalMu { get; init; }

    /// <summary>L2 bound each client clips its update to before sending or masking (null: no clipping unless DP needs it).</summary>
    public double? ClipNorm { get; init; }

    /// <summary>Local data: how many cutoffs back from the newest usable one, their spacing, and the fraction of each
    /// client's newest cutoffs kept for its local validation metrics.</summary>
    public int Cutoffs { get; init; } = 4;

    public int CutoffStepDays { get; init; } = 14;

    /// <summary>Secure aggregation (the hub learns only the sum of the updates).</summary>
    public bool SecureAggregation { get; init; }

    /// <summary>Differential privacy: Gaussian noise multiplier σ (0: none), and the (ε, δ) budget that stops the job.</summary>
    public double NoiseMultiplier { get; init; }

    public double? Epsilon { get; init; }

    public double Delta { get; init; } = 1e-5;

    /// <summary>Update encoding on the wire: f32 or int8 (quantised deltas; ignored under secure aggregation).</summary>
    public string Compression { get; init; } = "f32";

    /// <summary>Clients that may take part (store or partner ids); empty: every enrolled store and partner.</summary>
    public IReadOnlyList<string> Clients { get; init; } = [];

    /// <summary>Seed for client selection and model initialisation.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Serialiser options shared by the hub, the CLI and participants.</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Every problem with the spec, each naming its field (empty when valid).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Name) || Name.Length > MaxNameLength || !Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            problems.Add($"name: required, 1-{MaxNameLength} letters, digits, '-', '_' or '.'");
        }
        if (Features.Count == 0)
        {
            problems.Add("features: at least one feature");
        }
        else if (Features.Distinct(StringComparer.Ordinal).Count() != Features.Count)
        {
            problems.Add("features: listed twice: " + string.Join(", ", Features.GroupBy(f => f, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key)));
        }
        if (Tasks.Count == 0)
        {
            problems.Add("tasks: at least one task");
        }
        foreach (var task in Tasks)
        {
            if (string.IsNullOrWhiteSpace(task.Name) || string.IsNullOrWhiteSpace(task.Label))
            {
                problems.Add("tasks: every task needs a name and a label");
            }
            if (task.Kind is not ("binary" or "regression"))
            {
                problems.Add($"tasks.{task.Name}.kind: '{task.Kind}' is not binary or regression");
            }
        }
        if (Experts < 1)
        {
            problems.Add("experts: at least 1");
        }
        if (ExpertHidden.Any(w => w < 1) || TowerHidden.Any(w => w < 1))
        {
            problems.Add("expertHidden/towerHidden: widths must be positive");
        }
        if (!StrategyNames.Contains(Strategy))
        {
            problems.Add($"strategy: '{Strategy}' is not one of {string.Join(", ", StrategyNames)}");
        }
        Check(problems, Rounds is >= 1 and <= 10_000, "rounds: 1-10000");
        Check(problems, Fraction is > 0 and <= 1, "fraction: in (0, 1]");
        Check(problems, MinClients >= 1, "minClients: at least 1");
        Check(problems, RoundTimeoutSeconds is >= 1 and <= 86_400, "roundTimeoutSeconds: 1-86400");
        Check(problems, RoundRetries is >= 0 and <= 100, "roundRetries: 0-100");
        Check(problems, LocalEpochs is >= 1 and <= 1000, "localEpochs: 1-1000");
        Check(problems, BatchSize is >= 1 and <= 65_536, "batchSize: 1-65536");
        Check(problems, LearningRate is > 0 and < 10, "learningRate: in (0, 10)");
        Check(problems, Optimizer is "sgd" or "adam", "optimizer: sgd or adam");
        Check(problems, ProximalMu >= 0, "proximalMu: not negative");
        Check(problems, ClipNorm is null or > 0, "clipNorm: positive");
        Check(problems, Cutoffs is >= 1 and <= 100, "cutoffs: 1-100");
        Check(problems, CutoffStepDays is >= 1 and <= 365, "cutoffStepDays: 1-365");
        Check(problems, NoiseMultiplier >= 0, "noiseMultiplier: not negative");
        Check(problems, NoiseMultiplier == 0 || ClipNorm is not null, "clipNorm: required when noiseMultiplier > 0 (noise is calibrated to it)");
        Check(problems, Epsilon is null or > 0, "epsilon: positive");
        Check(problems, Epsilon is null || NoiseMultiplier > 0, "epsilon: a privacy budget needs noiseMultiplier > 0");
        Check(problems, Delta is > 0 and < 1, "delta: in (0, 1)");
        Check(problems, Compression is "f32" or "int8", "compression: f32 or int8");
        Check(problems, !SecureAggregation || Strategy is "fedavg" or "fedprox" or "fedadam" or "fedyogi",
            $"strategy: '{Strategy}' needs each client's update, which secure aggregation hides; use fedavg, fedprox, fedadam or fedyogi (clients clip before masking)");
        Check(problems, NoiseMultiplier == 0 || Strategy is "fedavg" or "fedprox" or "fedadam" or "fedyogi",
            $"strategy: '{Strategy}' with noiseMultiplier > 0: differential privacy is accounted for an average of clipped updates; use fedavg, fedprox, fedadam or fedyogi");
        Check(problems, !SecureAggregation || MinClients >= 3, "minClients: secure aggregation needs at least 3");
        return problems;
    }

    /// <summary>Valid <see cref="Strategy"/> names.</summary>
    public static IReadOnlyList<string> StrategyNames { get; } = ["fedavg", "fedprox", "fedadam", "fedyogi", "median", "trimmed-mean", "krum", "multi-krum"];

    private static void Check(List<string> problems, bool ok, string problem)
    {
        if (!ok)
        {
            problems.Add(problem);
        }
    }
}

/// <summary>One head of a federated model: <paramref name="Name"/>, <paramref name="Kind"/> (binary | regression) and the
/// label column participants compute (e.g. <c>churn_next_90d</c>, <c>purchase_next_30d</c>, <c>spend_next_90d</c>).</summary>
public sealed record FederatedTask(string Name, string Kind, string Label);
