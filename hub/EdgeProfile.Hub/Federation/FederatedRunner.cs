using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Core.Features;
using EdgeProfile.Federated;
using EdgeProfile.Federated.Aggregation;
using EdgeProfile.Federated.Compression;
using EdgeProfile.Federated.Jobs;
using EdgeProfile.Federated.Privacy;
using EdgeProfile.Hub.Enrollment;
using EdgeProfile.Hub.Features;
using EdgeProfile.Hub.Models;
using EdgeProfile.Models;
using EdgeProfile.Models.Onnx;
using Google.Protobuf;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Federation;

/// <summary>
/// Drives federated jobs, one task per job: a statistics phase (round 0: every participant sends the sums of its
/// features, from which the hub fixes the global input transform), then rounds: invite a fraction of the connected
/// eligible participants, wait for their updates until the round timeout (participants that go away or fail are
/// dropped; a round with fewer than <see cref="FederatedJobSpec.MinClients"/> updates is retried, then the job fails
/// with the reason), aggregate with the job's strategy (clip, optional Gaussian noise with an RDP accountant that ends
/// the job before its (ε, δ) budget would be exceeded), register the new global model (int8 ONNX) in the model
/// registry, and checkpoint the job with the round in one transaction. A restarted hub resumes each running job from its
/// last completed round. Rounds run on the hub replica that runs this service (one per organisation).
/// </summary>
internal sealed partial class FederatedRunner(
    FederationStore store,
    ParticipantDirectory directory,
    ModelRegistry models,
    DefinitionRegistry definitions,
    StoreRegistry stores,
    TimeProvider time,
    ILogger<FederatedRunner> logger) : BackgroundService
{
    /// <summary>Phases of a task.</summary>
    public const string Stats = "stats", Train = "train";

    /// <summary>How long a job that was running when the hub stopped waits, after the hub starts again, for its
    /// participants to rejoin before its next round.</summary>
    public static readonly TimeSpan ResumeGrace = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0);

    /// <summary>Starts a newly created job without waiting for the next poll.</summary>
    public void Wake() => _wake.Release();

    /// <summary>Stops a job: marks it stopped (false when it had already ended) and cancels its current round.</summary>
    public async Task<bool> StopAsync(string jobId, CancellationToken cancellationToken)
    {
        var stopped = await store.FinishAsync(jobId, JobStates.Stopped, "stopped by an operator", cancellationToken).ConfigureAwait(false);
        if (_running.TryRemove(jobId, out var cts))
        {
            await cts.CancelAsync().ConfigureAwait(false);
        }
        return stopped;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        directory.Straggler += (job, round, client) => _ = CountStragglerAsync(job, round, client);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                foreach (var job in await store.ActiveAsync(stoppingToken).ConfigureAwait(false))
                {
                    if (_running.ContainsKey(job.Id))
                    {
                        continue;
                    }
                    var cts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    _running[job.Id] = cts;
                    _ = Task.Run(() => RunJobAsync(job, cts), CancellationToken.None);
                }
                await _wake.WaitAsync(TimeSpan.FromSeconds(2), stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                LogRunnerError(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(2), time, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    private async Task CountStragglerAsync(string job, int round, string client)
    {
        try
        {
            await store.CountStragglerAsync(job, round, client, CancellationToken.None).ConfigureAwait(false);
            LogStraggler(logger, job, round, client);
        }
        catch (Exception ex)
        {
            LogRunnerError(logger, ex);
        }
    }

    private async Task RunJobAsync(JobCheckpoint job, CancellationTokenSource cts)
    {
        var ct = cts.Token;
        try
        {
            if (job.State == JobStates.Running)
            {
                // Resumed after a hub restart: give the participants a moment to rejoin before inviting anyone.
                await Task.Delay(ResumeGrace, time, ct).ConfigureAwait(false);
            }
            await store.StartAsync(job.Id, ct).ConfigureAwait(false);
            var spec = job.Spec;
            var featureSet = FeatureSubset(spec);
            var (combiner, optimizer) = Strategies.Create(spec.Strategy == "fedprox" ? "fedavg" : spec.Strategy, new StrategyOptions
            {
                ServerLearningRate = spec.ServerLearningRate,
                TrimFraction = spec.TrimFraction,
                ByzantineClients = spec.ByzantineClients,
                ClipNorm = spec.ClipNorm,
            });
            var server = ServerState.Read(job.Optimizer);
            if (server.Optimizer is { Length: > 0 } saved)
            {
                optimizer.LoadState(saved);
            }
            var accountant = server.Rdp is { } rdp ? RdpAccountant.Restore(RdpAccountant.DefaultOrders, rdp, server.RdpRounds) : new RdpAccountant();

            ModelTemplate template;
            float[] global;
            if (job.Template is null || job.Global is null)
            {
                (template, global) = await StatisticsAsync(job.Id, spec, featureSet, optimizer, ct).ConfigureAwait(false);
            }
            else
            {
                template = ModelTemplate.FromJson(job.Template);
                global = job.Global;
            }

            for (var round = job.Round + 1; round <= spec.Rounds; round++)
            {
                global = await RoundAsync(job.Id, spec, featureSet, template, global, round, combiner, optimizer, accountant, ct).ConfigureAwait(false);
            }

            await store.FinishAsync(job.Id, JobStates.Completed, null, ct).ConfigureAwait(false);
            LogCompleted(logger, job.Id, spec.Rounds);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopped by an operator (already marked) or the hub is stopping (the job resumes from its checkpoint).
        }
        catch (JobFailedException ex)
        {
            await store.FinishAsync(job.Id, ex.State, ex.Message, CancellationToken.None).ConfigureAwait(false);
            LogJobEnded(logger, job.Id, ex.State, ex.Message);
        }
        catch (Exception ex)
        {
            LogRunnerError(logger, ex);
            await store.FinishAsync(job.Id, JobStates.Failed, "hub error: " + ex.Message, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _running.TryRemove(new KeyValuePair<string, CancellationTokenSource>(job.Id, cts));
            cts.Dispose();
        }
    }

    /// <summary>The job's feature definitions from the registry; fails the job naming a feature that is missing or not numeric.</summary>
    private FeatureSet FeatureSubset(FederatedJobSpec spec)
    {
        var current = definitions.Current.Set;
        var chosen = new List<FeatureDefinition>();
        foreach (var name in spec.Features)
        {
            var definition = current.Find(name) ?? throw new JobFailedException(JobStates.Failed, $"feature {name} is not in the feature registry");
            if (!definition.IsNumeric())
            {
                throw new JobFailedException(JobStates.Failed, $"feature {name} is not numeric; a model cannot take it");
            }
            chosen.Add(definition);
        }
        return new FeatureSet { Revision = current.Revision, Definitions = chosen };
    }

    private async Task<(ModelTemplate, float[])> StatisticsAsync(string jobId, FederatedJobSpec spec, FeatureSet featureSet, IServerOptimizer optimizer, CancellationToken ct)
    {
        var width = FeatureSums.Width(spec.Features.Count);
        double[] sums;
        IReadOnlyList<ParticipationEntry> participation;
        int answered;
        if (spec.SecureAggregation)
        {
            var secure = await SecureSumAsync(jobId, spec, featureSet, 0, statistics: true, width, null, null, ct).ConfigureAwait(false);
            (sums, participation, answered) = (secure.Sum, secure.Participation, secure.Answers.Count);
        }
        else
        {
            var result = await CollectAsync(jobId, spec, featureSet, 0, Stats, null, null, allClients: true, ct).ConfigureAwait(false);
            sums = new double[width];
            foreach (var (_, submission) in result.Answers)
            {
                var vector = DecodeDoubles(submission);
                if (vector.Length != width)
                {
                    throw new JobFailedException(JobStates.Failed, $"statistics of {width} values expected, got {vector.Length}");
                }
                for (var i = 0; i < width; i++)
                {
                    sums[i] += vector[i];
                }
            }
            (participation, answered) = (result.Participation, result.Answers.Count);
        }
        var rows = (long)Math.Round(sums[0]);
        var template = FeatureStatistics.Template(spec, sums);
        var global = ModelWeightsVector.Flatten(template.Initial(spec.Seed));
        var outcome = new RoundOutcome(0, answered, participation.Count(p => p.Status == ParticipationStatus.Dropped), [], new Dictionary<string, double> { ["rows"] = rows },
            null, null, null, participation);
        await store.CompleteRoundAsync(jobId, outcome, template.ToJson(), global, new ServerState(optimizer.SaveState(), null, 0).ToBytes(), ct).ConfigureAwait(false);
        LogStatistics(logger, jobId, answered, rows);
        return (template, global);
    }

    private async Task<float[]> RoundAsync(string jobId, FederatedJobSpec spec, FeatureSet featureSet, ModelTemplate template, float[] global, int round,
        IUpdateCombiner combiner, IServerOptimizer optimizer, RdpAccountant accountant, CancellationToken ct)
    {
        var population = await PopulationAsync(spec, ct).ConfigureAwait(false);
        var q = Math.Min(1.0, Math.Max(spec.MinClients, Math.Ceiling(spec.Fraction * population)) / Math.Max(1, population));
        if (spec.NoiseMultiplier > 0 && spec.Epsilon is { } budget)
        {
            var next = accountant.PreviewPrivacySpent(spec.Delta, q, spec.NoiseMultiplier);
            if (next.Epsilon > budget)
            {
                var spent = accountant.Rounds == 0 ? 0 : accountant.GetPrivacySpent(spec.Delta).Epsilon;
                throw new JobFailedException(JobStates.Completed, string.Create(CultureInfo.InvariantCulture,
                    $"privacy budget reached: round {round} would bring ε to {next.Epsilon:0.###} > {budget:0.###} (δ = {spec.Delta:g3}); spent ε = {spent:0.###} after {round - 1} rounds"));
            }
        }

        var modelJson = template.ToJson();
        var globalBytes = ByteString.CopyFrom(MemoryMarshal.AsBytes(global.AsSpan()));
        var dp = spec.NoiseMultiplier > 0 && spec.ClipNorm is not null;
        float[] delta;
        List<ParticipationEntry> participation;
        IReadOnlyList<(string Client, FlSubmission Submission)> used;
        IReadOnlyList<string> rejected = [];
        int updates;
        if (spec.SecureAggregation)
        {
            // Participants send [w·Δ, w] (w = their rows, or 1 under DP): the hub learns only Σ w·Δ and Σ w.
            var secure = await SecureSumAsync(jobId, spec, featureSet, round, statistics: false, global.Length + 1, modelJson, globalBytes, ct).ConfigureAwait(false);
            var weight = secure.Sum[global.Length];
            if (!(weight > 0))
            {
                throw new JobFailedException(JobStates.Failed, $"round {round}: the secure sum carries no weight");
            }
            delta = new float[global.Length];
            updates = secure.Answers.Count;
            var noise = dp ? new GaussianNoise() : null;
            var sd = dp ? spec.NoiseMultiplier * spec.ClipNorm!.Value : 0;
            // Under DP each update weighs 1 and the noisy sum is divided by the number invited (fixed before anyone
            // answers, so the mean does not reveal how many did), as DP-FedAvg accounts it.
            var denominator = dp ? secure.Invited : weight;
            for (var i = 0; i < delta.Length; i++)
            {
                delta[i] = (float)((secure.Sum[i] + (noise is null ? 0 : noise.Next() * sd)) / denominator);
            }
            (participation, used) = (secure.Participation.ToList(), secure.Answers);
        }
        else
        {
            var result = await CollectAsync(jobId, spec, featureSet, round, Train, modelJson, globalBytes, allClients: false, ct).ConfigureAwait(false);
            var clientUpdates = new List<ClientUpdate>();
            participation = result.Participation.ToList();
            foreach (var (client, submission) in result.Answers)
            {
                try
                {
                    var values = submission.Encoding == "int8" ? Int8Delta.Decode(submission.Vector.ToByteArray()) : MemoryMarshal.Cast<byte, float>(submission.Vector.Span).ToArray();
                    var update = new ClientUpdate(client, values, dp ? 1 : Math.Max(1, submission.Samples));
                    update.Validate(global.Length);
                    if (spec.ClipNorm is { } clip)
                    {
                        // Participants clip before sending; clipping again bounds what one that did not can do.
                        UpdateClipping.ClipToNorm(update.Delta, clip);
                    }
                    clientUpdates.Add(update);
                }
                catch (Exception ex) when (ex is ArgumentException or InvalidDataException)
                {
                    var i = participation.FindIndex(p => p.Client == client);
                    participation[i] = participation[i] with { Status = ParticipationStatus.Failed, Reason = "unusable update: " + ex.Message };
                }
            }

            if (clientUpdates.Count < spec.MinClients)
            {
                var reason = $"{clientUpdates.Count} usable updates of {result.Invited} invited, fewer than minClients = {spec.MinClients}";
                await store.EndRoundAsync(jobId, result.Outcome(round, [], new Dictionary<string, double>(), null, null, reason) with { Participation = participation, Updates = clientUpdates.Count }, "failed", ct).ConfigureAwait(false);
                throw new JobFailedException(JobStates.Failed, $"round {round}: {reason}");
            }

            // Central DP (DP-FedAvg, McMahan et al. 2018): the clipped updates' sum plus N(0, (σC)²), divided by the
            // number invited; the job spec allows DP only with strategies that average.
            var combined = dp
                ? new GaussianMechanism(spec.ClipNorm!.Value, spec.NoiseMultiplier, result.Invited).Combine(clientUpdates)
                : combiner.Combine(clientUpdates);
            delta = combined.Delta;
            rejected = combined.Rejected;
            foreach (var r in rejected)
            {
                var i = participation.FindIndex(p => p.Client == r);
                if (i >= 0)
                {
                    participation[i] = participation[i] with { Status = ParticipationStatus.Rejected, Reason = $"left out by {combiner.Name}" };
                }
            }
            updates = clientUpdates.Count - rejected.Count;
            var kept = clientUpdates.Select(u => u.ClientId).Except(rejected).ToHashSet(StringComparer.Ordinal);
            used = result.Answers.Where(a => kept.Contains(a.Client)).ToList();
        }

        double? epsilon = null;
        if (dp)
        {
            accountant.Compose(q, spec.NoiseMultiplier);
            epsilon = accountant.GetPrivacySpent(spec.Delta).Epsilon;
        }
        var next2 = optimizer.Apply(global, delta);
        var metrics = WeightedMetrics(used);
        metrics["samples"] = used.Sum(a => (double)a.Submission.Samples);
        string? version = null;
        string? note = null;
        try
        {
            version = await RegisterAsync(jobId, spec, featureSet, template, next2, round, metrics, ct).ConfigureAwait(false);
        }
        catch (ModelRegistryException ex)
        {
            note = "model not registered: " + ex.Message;
        }
        var outcome = new RoundOutcome(round, updates, participation.Count(p => p.Status == ParticipationStatus.Dropped), rejected, metrics, epsilon, version, note, participation);
        await store.CompleteRoundAsync(jobId, outcome, null, next2, new ServerState(optimizer.SaveState(), accountant.Rounds > 0 ? accountant.Rdp.ToArray() : null, accountant.Rounds).ToBytes(), ct).ConfigureAwait(false);
        LogRound(logger, jobId, round, updates, participation.Count, version ?? "-");
        return next2;
    }

    /// <summary>
    /// Sends a phase's task to the chosen participants and gathers their answers until the deadline; retries a round
    /// that got fewer than the minimum, and fails the job after the retries.
    /// </summary>
    private async Task<Collected> CollectAsync(string jobId, FederatedJobSpec spec, FeatureSet featureSet, int round, string phase, string? modelJson, ByteString? global, bool allClients, CancellationToken ct)
    {
        var jobJson = JsonSerializer.Serialize(spec, FederatedJobSpec.Json);
        var featuresJson = featureSet.ToJson();
        for (var attempt = 1; ; attempt++)
        {
            var eligible = Eligible(spec);
            var chosen = allClients ? eligible : Choose(eligible, spec, round, attempt);
            if (chosen.Count < spec.MinClients)
            {
                var waiting = $"{chosen.Count} eligible participants connected, fewer than minClients = {spec.MinClients}";
                if (attempt > spec.RoundRetries + 1)
                {
                    throw new JobFailedException(JobStates.Failed, $"round {round}: {waiting}");
                }
                // Not a failed attempt yet: participants may still be connecting (at start, after a hub restart).
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(spec.RoundTimeoutSeconds, 5)), time, ct).ConfigureAwait(false);
                continue;
            }

            await store.BeginRoundAsync(jobId, round, attempt, chosen.Count, ct).ConfigureAwait(false);
            var deadline = time.GetUtcNow().AddSeconds(spec.RoundTimeoutSeconds);
            var asks = chosen.Select(client => (client, directory.AskAsync(client, new FlTask
            {
                TaskId = $"{jobId}/{round}/{attempt}/{client}",
                JobId = jobId,
                Round = round,
                Phase = phase,
                JobJson = jobJson,
                ModelJson = modelJson ?? "",
                GlobalVector = global ?? ByteString.Empty,
                FeaturesJson = featuresJson,
                DeadlineUnixMs = deadline.ToUnixTimeMilliseconds(),
            }, deadline, time, ct))).ToList();
            await Task.WhenAll(asks.Select(a => a.Item2)).ConfigureAwait(false);
            var answers = new List<(string Client, FlSubmission Submission)>();
            var participation = new List<ParticipationEntry>();
            foreach (var (client, ask) in asks)
            {
                var submission = await ask.ConfigureAwait(false);
                if (submission is null)
                {
                    participation.Add(new ParticipationEntry(round, client, ParticipationStatus.Dropped, 0, new Dictionary<string, double>(), "no answer before the round closed (disconnected or timed out)"));
                }
                else if (!string.IsNullOrEmpty(submission.Error))
                {
                    participation.Add(new ParticipationEntry(round, client, ParticipationStatus.Failed, 0, new Dictionary<string, double>(), submission.Error));
                }
                else
                {
                    answers.Add((client, submission));
                    participation.Add(new ParticipationEntry(round, client, ParticipationStatus.Updated, submission.Samples, new Dictionary<string, double>(submission.Metrics), null));
                }
            }

            var collected = new Collected(chosen.Count, answers, participation);
            if (answers.Count >= spec.MinClients)
            {
                return collected;
            }
            var reason = $"{answers.Count} answers of {chosen.Count} invited, fewer than minClients = {spec.MinClients}";
            var last = attempt > spec.RoundRetries;
            await store.EndRoundAsync(jobId, collected.Outcome(round, [], new Dictionary<string, double>(), null, null, reason + (last ? "" : "; retrying")), last ? "failed" : "retrying", ct).ConfigureAwait(false);
            LogShortRound(logger, jobId, round, attempt, reason);
            if (last)
            {
                throw new JobFailedException(JobStates.Failed, $"round {round}: {reason} after {attempt} attempts");
            }
        }
    }

    private List<string> Eligible(FederatedJobSpec spec) =>
        directory.Connected.Where(c => spec.Clients.Count == 0 || spec.Clients.Contains(c, StringComparer.Ordinal)).ToList();

    private static List<string> Choose(List<string> eligible, FederatedJobSpec spec, int round, int attempt)
    {
        var count = Math.Min(eligible.Count, Math.Max(spec.MinClients, (int)Math.Ceiling(spec.Fraction * eligible.Count)));
        var random = new Random(unchecked((spec.Seed * 1_000_003) + (round * 101) + attempt));
        var shuffled = eligible.ToArray();
        random.Shuffle(shuffled);
        return shuffled.Take(count).Order(StringComparer.Ordinal).ToList();
    }

    private async Task<int> PopulationAsync(FederatedJobSpec spec, CancellationToken ct)
    {
        var enrolled = await stores.ListAsync(ct).ConfigureAwait(false);
        var count = enrolled.Count(s => spec.Clients.Count == 0 || spec.Clients.Contains(s.StoreId, StringComparer.Ordinal));
        return Math.Max(count, Eligible(spec).Count);
    }

    private static Dictionary<string, double> WeightedMetrics(IReadOnlyList<(string Client, FlSubmission Submission)> answers)
    {
        var sums = new Dictionary<string, (double Sum, double Weight)>(StringComparer.Ordinal);
        foreach (var (_, s) in answers)
        {
            var w = Math.Max(1, s.Samples);
            foreach (var (name, value) in s.Metrics)
            {
                if (double.IsFinite(value))
                {
                    var (sum, weight) = sums.GetValueOrDefault(name);
                    sums[name] = (sum + (w * value), weight + w);
                }
            }
        }
        return sums.ToDictionary(kv => kv.Key, kv => kv.Value.Sum / kv.Value.Weight, StringComparer.Ordinal);
    }

    private async Task<string> RegisterAsync(string jobId, FederatedJobSpec spec, FeatureSet featureSet, ModelTemplate template, float[] global, int round, Dictionary<string, double> metrics, CancellationToken ct)
    {
        var version = $"fl-{spec.Name}-{jobId[^6..]}-r{round}";
        var weights = template.ToWeights(global);
        var onnx = OnnxExporter.Export(weights, new ExportOptions
        {
            Int8 = true,
            Description = $"federated job {jobId} ({spec.Name}), round {round}, strategy {spec.Strategy}",
            Metadata = new Dictionary<string, string>
            {
                [EdgeProfile.Models.Serving.ModelArtifact.VersionMetadataKey] = version,
                ["feature_versions"] = JsonSerializer.Serialize(featureSet.Definitions.ToDictionary(d => d.Name, d => d.Version)),
                ["labels"] = JsonSerializer.Serialize(spec.Tasks.Select(t => new { task = t.Name, label = t.Label, target = t.Kind == "regression" ? "log1p" : "identity" })),
                ["metrics"] = JsonSerializer.Serialize(metrics),
                ["federated_job"] = jobId,
                ["federated_round"] = round.ToString(CultureInfo.InvariantCulture),
            },
        });
        await models.RegisterAsync(onnx, $"federated job {spec.Name} ({jobId}), round {round}", "federation", ct).ConfigureAwait(false);
        return version;
    }

    private static double[] DecodeDoubles(FlSubmission submission) => submission.Encoding switch
    {
        "f64" => MemoryMarshal.Cast<byte, double>(submission.Vector.Span).ToArray(),
        _ => MemoryMarshal.Cast<byte, float>(submission.Vector.Span).ToArray().Select(v => (double)v).ToArray(),
    };

    /// <summary>A phase's answers and who did what.</summary>
    private sealed record Collected(int Invited, IReadOnlyList<(string Client, FlSubmission Submission)> Answers, IReadOnlyList<ParticipationEntry> Participation)
    {
        public RoundOutcome Outcome(int round, IReadOnlyList<string> rejected, IReadOnlyDictionary<string, double> metrics, double? epsilon, string? version, string? reason) =>
            new(round, Answers.Count, Participation.Count(p => p.Status == ParticipationStatus.Dropped), rejected, metrics, epsilon, version, reason, Participation);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Federation runner error")]
    private static partial void LogRunnerError(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: feature statistics from {Clients} participants ({Rows} rows)")]
    private static partial void LogStatistics(ILogger logger, string jobId, int clients, long rows);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: round {Round} aggregated {Updates} of {Invited} invited; model {Version}")]
    private static partial void LogRound(ILogger logger, string jobId, int round, int updates, int invited, string version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: round {Round} attempt {Attempt}: secure aggregation over {Invited} participants, threshold {Threshold}, {RingBits}-bit ring, scale {Scale}")]
    private static partial void LogSecureRound(ILogger logger, string jobId, int round, int attempt, int invited, int threshold, int ringBits, double scale);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: round {Round} attempt {Attempt} short: {Reason}")]
    private static partial void LogShortRound(ILogger logger, string jobId, int round, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: late update of round {Round} from {Client} discarded")]
    private static partial void LogStraggler(ILogger logger, string jobId, int round, string client);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: completed {Rounds} rounds")]
    private static partial void LogCompleted(ILogger logger, string jobId, int rounds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: {State}: {Reason}")]
    private static partial void LogJobEnded(ILogger logger, string jobId, string state, string reason);
}

/// <summary>Ends a job with a state and the reason.</summary>
internal sealed class JobFailedException(string state, string message) : Exception(message)
{
    public string State { get; } = state;
}
