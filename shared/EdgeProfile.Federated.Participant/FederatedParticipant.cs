using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Core.Features;
using EdgeProfile.Federated.Aggregation;
using EdgeProfile.Federated.Compression;
using EdgeProfile.Federated.Jobs;
using EdgeProfile.Federated.SecureAggregation;
using EdgeProfile.Models;
using EdgeProfile.Training.Federated;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Federated.Participant;

/// <summary>
/// One participant of federated jobs: keeps a Join stream to the hub open (reconnecting with backoff, 1 s doubling to
/// 30 s), and answers each task: "stats" with the sums of the job's features over its local training rows, "train" by
/// training from the global weights on its local rows (TorchSharp, the job's epochs, optimiser, learning rate and FedProx
/// μ), clipping the update to the job's norm, and sending it (float32 or int8). Local rows come from
/// <see cref="IFederatedDataSource"/> and never leave this process; a task this participant cannot do is answered with
/// the reason, so the hub counts it as failed instead of waiting.
/// </summary>
public sealed partial class FederatedParticipant(
    Contracts.V1.Federation.FederationClient hub,
    Metadata headers,
    IFederatedDataSource data,
    ILogger logger,
    TimeProvider time)
{
    private readonly Dictionary<string, FederatedData> _cache = new(StringComparer.Ordinal);
    private readonly List<string> _cacheOrder = [];
    private readonly Dictionary<string, SecureSession> _sessions = new(StringComparer.Ordinal);
    private int _tasks;

    /// <summary>Tasks answered so far.</summary>
    public int TasksAnswered => Volatile.Read(ref _tasks);

    /// <summary>Whether the Join stream is open now.</summary>
    public bool Connected { get; private set; }

    /// <summary>Local training threads (torch intra-op threads).</summary>
    public int Threads { get; init; } = 2;

    /// <summary>
    /// Runs until <paramref name="cancellationToken"/> is cancelled: one loop keeps the Join stream open and queues the
    /// tasks it receives, another does them one at a time and submits the answers. So a participant busy training still
    /// notices at once when the hub goes away and rejoins as soon as it is back; an answer whose round has closed
    /// meanwhile is refused by the hub and dropped here, and a queued task past its deadline is skipped.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var queue = System.Threading.Channels.Channel.CreateUnbounded<FlTask>(new System.Threading.Channels.UnboundedChannelOptions { SingleReader = true });
        var worker = Task.Run(() => WorkAsync(queue.Reader, cancellationToken), CancellationToken.None);
        try
        {
            await ReadAsync(queue.Writer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            queue.Writer.TryComplete();
            try
            {
                await worker.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or RpcException && cancellationToken.IsCancellationRequested)
            {
                // Stopping.
            }
        }
    }

    private async Task ReadAsync(System.Threading.Channels.ChannelWriter<FlTask> queue, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var call = hub.Join(new JoinRequest { AgentVersion = typeof(FederatedParticipant).Assembly.GetName().Version?.ToString() ?? "" }, headers, cancellationToken: cancellationToken);
                await call.ResponseHeadersAsync.ConfigureAwait(false);
                Connected = true;
                delay = TimeSpan.FromSeconds(1);
                LogJoined(logger);
                while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
                {
                    await queue.WriteAsync(call.ResponseStream.Current, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied)
            {
                LogRefused(logger, ex.Status.Detail);
                Connected = false;
                await Task.Delay(TimeSpan.FromSeconds(30), time, cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (RpcException ex)
            {
                LogDisconnected(logger, ex.StatusCode.ToString(), ex.Status.Detail);
            }
            Connected = false;
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromSeconds(Math.Min(30, delay.TotalSeconds * 2));
        }
        Connected = false;
    }

    private async Task WorkAsync(System.Threading.Channels.ChannelReader<FlTask> queue, CancellationToken cancellationToken)
    {
        await foreach (var task in queue.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (task.DeadlineUnixMs > 0 && time.GetUtcNow().ToUnixTimeMilliseconds() > task.DeadlineUnixMs)
            {
                LogLate(logger, task.TaskId, "its deadline passed while it waited");
                continue;
            }
            var submission = Handle(task, cancellationToken);
            try
            {
                await hub.SubmitAsync(submission, headers, cancellationToken: cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _tasks);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
            {
                LogLate(logger, task.TaskId, ex.Status.Detail);
            }
            catch (RpcException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException ex)
            {
                // The hub went away: the round this answered is gone with it (a resumed job asks again).
                LogLate(logger, task.TaskId, $"{ex.StatusCode}: {ex.Status.Detail}");
            }
        }
    }

    /// <summary>Does one task and returns the answer (with the reason when it cannot be done).</summary>
    public FlSubmission Handle(FlTask task, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        var watch = Stopwatch.StartNew();
        LogStarted(logger, task.JobId, task.Round, task.Phase);
        try
        {
            var job = JsonSerializer.Deserialize<FederatedJobSpec>(task.JobJson, FederatedJobSpec.Json)
                ?? throw new FederatedDataException("the task carries no job");
            var definitions = FeatureSet.Parse(task.FeaturesJson);
            var local = Load(task.JobId, job, definitions, cancellationToken);
            var submission = task.Phase switch
            {
                "stats" => Statistics(local, job),
                "train" => Train(task, job, local),
                "secagg_advertise" => SecureAdvertise(task, job, local),
                "secagg_share" => SecureStep(task, (client, payload) => SecAggWire.Write(client.ShareKeys(SecAggWire.Read<SecAggAdvertisement[]>(payload, "roster")).ToArray())),
                "secagg_mask" => SecureStep(task, (client, payload) => client.MaskInput(Session(task).Input, SecAggWire.Read<SecAggEncryptedShare[]>(payload, "shares")).ToBytes()),
                "secagg_unmask" => SecureUnmask(task),
                _ => throw new FederatedDataException($"phase '{task.Phase}' is not supported by this participant"),
            };
            submission.TaskId = task.TaskId;
            submission.Metrics["seconds"] = watch.Elapsed.TotalSeconds;
            LogTask(logger, task.JobId, task.Round, task.Phase, submission.Samples, watch.Elapsed.TotalSeconds);
            return submission;
        }
        catch (Exception ex) when (ex is FederatedDataException or JsonException or InvalidDataException or ArgumentException or FeatureDefinitionException
            or InvalidOperationException or SecAggException or System.Security.Cryptography.CryptographicException)
        {
            LogTaskFailed(logger, task.JobId, task.Round, task.Phase, ex.Message);
            return new FlSubmission { TaskId = task.TaskId, Error = ex.Message };
        }
    }

    private FederatedData Load(string jobId, FederatedJobSpec job, FeatureSet definitions, CancellationToken cancellationToken)
    {
        // Rows are fixed for a job: the statistics and every round see the same rows.
        lock (_cache)
        {
            if (_cache.TryGetValue(jobId, out var cached))
            {
                return cached;
            }
        }
        var loaded = data.LoadAsync(job, definitions, cancellationToken).GetAwaiter().GetResult();
        lock (_cache)
        {
            // Rows of the two most recent jobs stay (jobs may interleave); older ones are let go.
            _cache[jobId] = loaded;
            _cacheOrder.Remove(jobId);
            _cacheOrder.Add(jobId);
            while (_cacheOrder.Count > 2)
            {
                _cache.Remove(_cacheOrder[0]);
                _cacheOrder.RemoveAt(0);
            }
        }
        LogLoaded(logger, jobId, loaded.Description);
        return loaded;
    }

    private static FlSubmission Statistics(FederatedData local, FederatedJobSpec job)
    {
        var s = FeatureSums.Of(local.Train.Features, job.Features.Count);
        return new FlSubmission
        {
            Vector = ByteString.CopyFrom(MemoryMarshal.AsBytes(s.AsSpan())),
            Encoding = "f64",
            Samples = local.Train.Rows,
        };
    }

    private FlSubmission Train(FlTask task, FederatedJobSpec job, FederatedData local)
    {
        var (delta, submission) = LocalUpdate(task, job, local);
        if (job.Compression == "int8")
        {
            submission.Vector = ByteString.CopyFrom(Int8Delta.Encode(delta));
            submission.Encoding = "int8";
        }
        else
        {
            submission.Vector = ByteString.CopyFrom(MemoryMarshal.AsBytes(delta.AsSpan()));
            submission.Encoding = "f32";
        }
        submission.Metrics["bytes"] = submission.Vector.Length;
        return submission;
    }

    /// <summary>Trains from the task's global weights; returns the (clipped) update and a submission with its samples and metrics.</summary>
    private (float[] Delta, FlSubmission Submission) LocalUpdate(FlTask task, FederatedJobSpec job, FederatedData local)
    {
        var template = ModelTemplate.FromJson(task.ModelJson);
        var global = MemoryMarshal.Cast<byte, float>(task.GlobalVector.Span).ToArray();
        var weights = template.ToWeights(global);
        var result = FederatedLocalTrainer.Train(weights, local.Train, new LocalTrainingOptions
        {
            Epochs = job.LocalEpochs,
            BatchSize = job.BatchSize,
            LearningRate = job.LearningRate,
            Optimizer = job.Optimizer == "adam" ? LocalOptimizer.Adam : LocalOptimizer.Sgd,
            ProximalMu = job.Strategy == "fedprox" && job.ProximalMu == 0 ? 0.01 : job.ProximalMu,
            Seed = unchecked((job.Seed * 1_000_003) + task.Round), // the same on every run and machine
            Threads = Threads,
        });
        var delta = result.Delta;
        var submission = new FlSubmission { Samples = result.Samples };
        submission.Metrics["loss"] = result.TrainLoss;
        var norm = UpdateClipping.L2Norm(delta);
        submission.Metrics["update_norm"] = norm;
        if (job.ClipNorm is { } clip)
        {
            UpdateClipping.ClipToNorm(delta, clip);
            submission.Metrics["clipped"] = norm > clip ? 1 : 0;
        }
        if (local.Validation is { Rows: > 0 } validation)
        {
            foreach (var (name, value) in LocalEvaluation.Evaluate(result.Weights, validation, Threads))
            {
                submission.Metrics["val_" + name] = value;
            }
            submission.Metrics["val_rows"] = validation.Rows;
        }
        return (delta, submission);
    }

    /// <summary>
    /// Secure aggregation, step 1: computes this participant's vector (its feature statistics, or its update as
    /// [w·Δ, w] with w its rows, 1 under differential privacy), keeps it with a new key pair for the round, and
    /// advertises the public keys. The vector itself never leaves this participant unmasked.
    /// </summary>
    private FlSubmission SecureAdvertise(FlTask task, FederatedJobSpec job, FederatedData local)
    {
        var opening = SecAggWire.Read<SecAggWire.Opening>(task.Payload.Span, "opening");
        float[] input;
        FlSubmission submission;
        if (opening.Statistics)
        {
            input = [.. FeatureSums.Of(local.Train.Features, job.Features.Count).Select(v => (float)v)];
            submission = new FlSubmission { Samples = local.Train.Rows };
        }
        else
        {
            (var delta, submission) = LocalUpdate(task, job, local);
            var w = job.NoiseMultiplier > 0 ? 1f : submission.Samples;
            input = new float[delta.Length + 1];
            for (var i = 0; i < delta.Length; i++)
            {
                input[i] = w * delta[i];
            }
            input[^1] = w;
        }
        var client = new SecAggClient(opening.Client, input.Length, new SecAggConfig { Threshold = opening.Threshold, Scale = opening.Scale, SessionId = opening.Session, RingBits = opening.RingBits });
        var advertisement = client.AdvertiseKeys();
        lock (_sessions)
        {
            foreach (var stale in _sessions.Keys.Where(k => k.StartsWith(task.JobId + "/", StringComparison.Ordinal)).ToList())
            {
                _sessions[stale].Client.Dispose();
                _sessions.Remove(stale);
            }
            _sessions[opening.Session] = new SecureSession(client, input);
        }
        submission.Payload = ByteString.CopyFrom(SecAggWire.Write(advertisement));
        submission.Encoding = "secagg";
        return submission;
    }

    private FlSubmission SecureStep(FlTask task, Func<SecAggClient, ReadOnlySpan<byte>, byte[]> step) =>
        new() { Payload = ByteString.CopyFrom(step(Session(task).Client, task.Payload.Span)), Encoding = "secagg" };

    private FlSubmission SecureUnmask(FlTask task)
    {
        var session = Session(task);
        var response = session.Client.Unmask(SecAggWire.Read<SecAggUnmaskRequest>(task.Payload.Span, "unmask request"));
        lock (_sessions)
        {
            _sessions.Remove(SessionId(task));
        }
        session.Client.Dispose();
        return new FlSubmission { Payload = ByteString.CopyFrom(SecAggWire.Write(response)), Encoding = "secagg" };
    }

    // Task ids are "{job}/{round}/{attempt}/{phase}/{client}"; the secure session is the first three parts.
    private static string SessionId(FlTask task) => string.Join('/', task.TaskId.Split('/').Take(3));

    private SecureSession Session(FlTask task)
    {
        lock (_sessions)
        {
            return _sessions.TryGetValue(SessionId(task), out var session)
                ? session
                : throw new SecAggException($"no secure-aggregation session {SessionId(task)} here (this participant restarted or missed the key advertisement)");
        }
    }

    /// <summary>One secure round in progress: the round's client (keys, shares) and this participant's vector.</summary>
    private sealed record SecureSession(SecAggClient Client, float[] Input);

    [LoggerMessage(Level = LogLevel.Information, Message = "Federation: joined the hub")]
    private static partial void LogJoined(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Federation: disconnected ({Status}: {Detail}); reconnecting")]
    private static partial void LogDisconnected(ILogger logger, string status, string detail);

    [LoggerMessage(Level = LogLevel.Error, Message = "Federation: the hub refused this participant's credential: {Detail}")]
    private static partial void LogRefused(ILogger logger, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Federation: job {JobId}: {Description}")]
    private static partial void LogLoaded(ILogger logger, string jobId, string description);

    [LoggerMessage(Level = LogLevel.Information, Message = "Federation: job {JobId} round {Round} {Phase}: started")]
    private static partial void LogStarted(ILogger logger, string jobId, int round, string phase);

    [LoggerMessage(Level = LogLevel.Information, Message = "Federation: job {JobId} round {Round} {Phase}: {Samples} rows, {Seconds:0.00} s")]
    private static partial void LogTask(ILogger logger, string jobId, int round, string phase, long samples, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Federation: job {JobId} round {Round} {Phase}: cannot take part: {Reason}")]
    private static partial void LogTaskFailed(ILogger logger, string jobId, int round, string phase, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Federation: answer to {TaskId} came too late: {Detail}")]
    private static partial void LogLate(ILogger logger, string taskId, string detail);
}
