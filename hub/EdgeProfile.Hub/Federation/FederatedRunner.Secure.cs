using System.Text.Json;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Core.Features;
using EdgeProfile.Federated.Jobs;
using EdgeProfile.Federated.SecureAggregation;
using Google.Protobuf;

namespace EdgeProfile.Hub.Federation;

/// <summary>
/// Secure aggregation of a phase (the statistics or a round's updates), Bonawitz et al. 2017: four exchanges with the
/// invited participants — advertise keys (participants train or compute their statistics first), share keys (encrypted
/// to each other, routed by the hub which cannot read them), masked input, unmask (shares that remove the survivors'
/// self masks and the dropped participants' pairwise masks). The hub only ever adds masked vectors into a running sum
/// (<see cref="SecAggServer"/>): it never holds a participant's vector in the clear, nor logs one.
/// </summary>
internal sealed partial class FederatedRunner
{
    /// <summary>Phases of secure aggregation.</summary>
    public const string Advertise = "secagg_advertise", Share = "secagg_share", Mask = "secagg_mask", Unmask = "secagg_unmask";

    /// <summary>The sum of the participants' vectors (length <paramref name="length"/>), their phase-1 answers (samples,
    /// metrics) and who did what; retried like a plain round when fewer than the minimum are left.</summary>
    private async Task<SecureSum> SecureSumAsync(string jobId, FederatedJobSpec spec, FeatureSet featureSet, int round, bool statistics, int length,
        string? modelJson, ByteString? global, CancellationToken ct)
    {
        var jobJson = JsonSerializer.Serialize(spec, FederatedJobSpec.Json);
        var featuresJson = featureSet.ToJson();
        for (var attempt = 1; ; attempt++)
        {
            var eligible = Eligible(spec);
            var chosen = statistics ? eligible : Choose(eligible, spec, round, attempt);
            if (chosen.Count < Math.Max(spec.MinClients, 3))
            {
                if (attempt > spec.RoundRetries + 1)
                {
                    throw new JobFailedException(JobStates.Failed, $"round {round}: {chosen.Count} eligible participants connected, fewer than the {Math.Max(spec.MinClients, 3)} secure aggregation needs");
                }
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(spec.RoundTimeoutSeconds, 5)), time, ct).ConfigureAwait(false);
                continue;
            }

            await store.BeginRoundAsync(jobId, round, attempt, chosen.Count, ct).ConfigureAwait(false);
            var deadline = time.GetUtcNow().AddSeconds(spec.RoundTimeoutSeconds);
            var session = $"{jobId}/{round}/{attempt}";
            // DP rounds send clipped updates of weight 1, which fit the 32-bit ring (half the bytes and unmasking work);
            // weighted updates and statistics are unbounded and keep the 64-bit ring.
            var (ringBits, scale) = statistics ? (64, SecAggWire.StatisticsScale)
                : spec.NoiseMultiplier > 0 && spec.ClipNorm is { } clip ? SecAggWire.ForClippedUpdates(chosen.Count, clip)
                : (64, SecAggWire.UpdateScale);
            var config = new SecAggConfig
            {
                Threshold = SecAggWire.ThresholdFor(chosen.Count),
                Scale = scale,
                RingBits = ringBits,
                SessionId = session,
            };
            LogSecureRound(logger, jobId, round, attempt, chosen.Count, config.Threshold, config.RingBits, config.Scale);
            var server = new SecAggServer(config, chosen, length);
            var status = chosen.ToDictionary(c => c, _ => (Status: ParticipationStatus.Dropped, Reason: "no answer to the key advertisement"), StringComparer.Ordinal);
            var first = new Dictionary<string, FlSubmission>(StringComparer.Ordinal);
            string? failure = null;
            try
            {
                // 1. Advertise keys (participants first train, or compute their statistics).
                foreach (var (client, answer) in await AskAllAsync(chosen, client => NewTask(jobId, round, attempt, Advertise, client, jobJson, featuresJson, modelJson, global, deadline,
                    SecAggWire.Write(new SecAggWire.Opening(session, config.Threshold, config.Scale, client, statistics, config.RingBits))), deadline, ct).ConfigureAwait(false))
                {
                    if (answer is { Error: { Length: > 0 } error })
                    {
                        status[client] = (ParticipationStatus.Failed, error);
                    }
                    else if (answer is not null)
                    {
                        server.AddAdvertisement(SecAggWire.Read<SecAggAdvertisement>(answer.Payload.Span, "advertisement"));
                        first[client] = answer;
                        status[client] = (ParticipationStatus.Dropped, "no answer to the key sharing");
                    }
                }
                var roster = server.CloseAdvertisements();

                // 2. Share keys: each participant's encrypted shares for every other, routed unread.
                var rosterBytes = SecAggWire.Write(roster);
                foreach (var (client, answer) in await AskAllAsync(roster.Select(a => a.ClientId).ToList(), client => NewTask(jobId, round, attempt, Share, client, jobJson, featuresJson, null, null, deadline, rosterBytes), deadline, ct).ConfigureAwait(false))
                {
                    if (answer is { Error.Length: 0 })
                    {
                        server.AddShares(client, SecAggWire.Read<SecAggEncryptedShare[]>(answer.Payload.Span, "shares"));
                        status[client] = (ParticipationStatus.Dropped, "no masked input (dropped after sharing keys; its masks were removed with the others' shares)");
                    }
                }
                var shares = server.CloseShares();

                // 3. Masked inputs, added into the running sum as they arrive.
                foreach (var (client, answer) in await AskAllAsync(shares.Keys.ToList(), client => NewTask(jobId, round, attempt, Mask, client, jobJson, featuresJson, null, null, deadline,
                    SecAggWire.Write(shares[client])), deadline, ct).ConfigureAwait(false))
                {
                    if (answer is { Error.Length: 0 })
                    {
                        try
                        {
                            server.AddMaskedInput(SecAggMaskedInput.FromBytes(client, answer.Payload.Span));
                            status[client] = (ParticipationStatus.Updated, null!);
                        }
                        catch (SecAggException ex)
                        {
                            // A malformed masked input (for example the wrong ring) is refused before it touches the
                            // sum: this participant counts as dropped, its masks are removed with the others' shares.
                            status[client] = (ParticipationStatus.Rejected, "masked input refused: " + ex.Message);
                        }
                    }
                }
                var request = server.CloseMaskedInputs();

                // 4. Unmask: the survivors reveal the shares that remove the masks.
                var requestBytes = SecAggWire.Write(request);
                foreach (var (_, answer) in await AskAllAsync(request.Survivors, client => NewTask(jobId, round, attempt, Unmask, client, jobJson, featuresJson, null, null, deadline, requestBytes), deadline, ct).ConfigureAwait(false))
                {
                    if (answer is { Error.Length: 0 })
                    {
                        server.AddUnmaskResponse(SecAggWire.Read<SecAggUnmaskResponse>(answer.Payload.Span, "unmask response"));
                    }
                }
                var result = server.ComputeSum();
                var participation = chosen.Select(c => new ParticipationEntry(round, c, status[c].Status,
                    status[c].Status == ParticipationStatus.Updated && first.TryGetValue(c, out var s) ? s.Samples : 0,
                    first.TryGetValue(c, out var m) ? new Dictionary<string, double>(m.Metrics) : new Dictionary<string, double>(),
                    status[c].Status == ParticipationStatus.Updated ? null : status[c].Reason)).ToList();
                var contributors = result.Contributors.ToHashSet(StringComparer.Ordinal);
                var answers = first.Where(kv => contributors.Contains(kv.Key)).Select(kv => (kv.Key, kv.Value)).ToList();
                if (contributors.Count >= spec.MinClients)
                {
                    return new SecureSum(result.Sum, answers, participation, chosen.Count);
                }
                failure = $"{contributors.Count} participants in the secure sum of {chosen.Count} invited, fewer than minClients = {spec.MinClients}";
            }
            catch (SecAggException ex)
            {
                failure = "secure aggregation: " + ex.Message;
            }

            var last = attempt > spec.RoundRetries;
            var entries = chosen.Select(c => new ParticipationEntry(round, c, status[c].Status, 0, new Dictionary<string, double>(), status[c].Reason)).ToList();
            await store.EndRoundAsync(jobId, new RoundOutcome(round, 0, entries.Count(e => e.Status == ParticipationStatus.Dropped), [], new Dictionary<string, double>(), null, null,
                failure + (last ? "" : "; retrying"), entries), last ? "failed" : "retrying", ct).ConfigureAwait(false);
            LogShortRound(logger, jobId, round, attempt, failure!);
            if (last)
            {
                throw new JobFailedException(JobStates.Failed, $"round {round}: {failure} after {attempt} attempts");
            }
        }
    }

    private async Task<List<(string Client, FlSubmission? Answer)>> AskAllAsync(IReadOnlyList<string> clients, Func<string, FlTask> task, DateTimeOffset deadline, CancellationToken ct)
    {
        var asks = clients.Select(c => (c, directory.AskAsync(c, task(c), deadline, time, ct))).ToList();
        await Task.WhenAll(asks.Select(a => a.Item2)).ConfigureAwait(false);
        var answers = new List<(string, FlSubmission?)>();
        foreach (var (client, ask) in asks)
        {
            answers.Add((client, await ask.ConfigureAwait(false)));
        }
        return answers;
    }

    private static FlTask NewTask(string jobId, int round, int attempt, string phase, string client, string jobJson, string featuresJson, string? modelJson, ByteString? global,
        DateTimeOffset deadline, byte[] payload) => new()
        {
            TaskId = $"{jobId}/{round}/{attempt}/{phase}/{client}",
            JobId = jobId,
            Round = round,
            Phase = phase,
            JobJson = jobJson,
            FeaturesJson = featuresJson,
            ModelJson = modelJson ?? "",
            GlobalVector = global ?? ByteString.Empty,
            Payload = ByteString.CopyFrom(payload),
            DeadlineUnixMs = deadline.ToUnixTimeMilliseconds(),
        };

    /// <summary>A secure phase's result: the sum of the contributors' vectors, their first answers, who did what.</summary>
    private sealed record SecureSum(double[] Sum, IReadOnlyList<(string Client, FlSubmission Submission)> Answers, IReadOnlyList<ParticipationEntry> Participation, int Invited);
}
