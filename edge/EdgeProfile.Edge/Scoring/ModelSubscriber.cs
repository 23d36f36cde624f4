using EdgeProfile.Edge.Uplink;
using EdgeProfile.Models.Serving;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using V1 = EdgeProfile.Contracts.V1;

namespace EdgeProfile.Edge.Scoring;

/// <summary>
/// Follows the hub's model assignment for this store (<c>ModelDistribution/WatchAssignment</c>): downloads an assigned
/// model, checks its size and SHA-256 against the assignment, deploys it through <see cref="ModelScoring.Deploy"/>
/// (the canary decides; a refused model never serves and the current one keeps serving), saves an accepted one for the
/// next start, and reports the outcome to the hub. An assignment of the model this edge served just before is a
/// rollback, done without a download. When the hub is unreachable it retries with backoff (1 s doubling to 30 s); the
/// last report is kept and sent once the hub answers again. Nothing here stops the agent.
/// </summary>
public sealed partial class ModelSubscriber(
    EdgeIdentity identity,
    IOptions<EdgeOptions> options,
    ModelScoring scoring,
    ModelStore store,
    TimeProvider clock,
    ILogger<ModelSubscriber> logger) : BackgroundService
{
    // What the hub's ModelStatusReport.outcome accepts.
    private const string Deployed = "deployed", Refused = "refused", RolledBack = "rolled_back";

    private readonly Dictionary<string, string> _refused = new(StringComparer.Ordinal); // sha256 → message
    private V1.ModelStatusReport? _unsent;
    private long _lastRevision;

    /// <summary>The last assignment revision received from the hub (0: none yet).</summary>
    public long LastRevision => Interlocked.Read(ref _lastRevision);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (string.IsNullOrWhiteSpace(o.HubUrl) || identity.Credential is null || !o.Models.FromHub)
        {
            return;
        }

        using var hub = new HubClients(o.HubUrl);
        var headers = HubClients.StoreHeaders(o.StoreId, identity.Credential);
        var retry = new RetryDelay(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        var outage = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // From 0 every time: the hub answers with the current assignment at once, and handling it is idempotent.
                using var call = hub.Models.WatchAssignment(new V1.WatchAssignmentRequest { KnownRevision = 0 }, headers, cancellationToken: stoppingToken);
                await call.ResponseHeadersAsync.ConfigureAwait(false);
                retry.Reset();
                outage = false;
                await SendUnsentAsync(hub, headers, stoppingToken).ConfigureAwait(false);
                while (await call.ResponseStream.MoveNext(stoppingToken).ConfigureAwait(false))
                {
                    var assignment = call.ResponseStream.Current;
                    Interlocked.Exchange(ref _lastRevision, assignment.Revision);
                    var report = await HandleAsync(hub, headers, assignment, stoppingToken).ConfigureAwait(false);
                    if (report is not null)
                    {
                        _unsent = report;
                        await SendUnsentAsync(hub, headers, stoppingToken).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied or StatusCode.Unimplemented)
            {
                if (!outage)
                {
                    LogRefusedWatch(logger, o.HubUrl, ex.StatusCode.ToString(), ex.Status.Detail);
                    outage = true;
                }

                retry.Longest();
            }
            catch (Exception ex)
            {
                if (!outage)
                {
                    LogUnavailable(logger, o.HubUrl, ex is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : ex.Message);
                    outage = true;
                }
            }

            if (!await retry.WaitAsync(stoppingToken).ConfigureAwait(false))
            {
                break;
            }
        }
    }

    /// <summary>Carries out one assignment; returns the report for the hub, or null when there is nothing to say.</summary>
    private async Task<V1.ModelStatusReport?> HandleAsync(HubClients hub, Metadata headers, V1.ModelAssignment assignment, CancellationToken cancellationToken)
    {
        var version = assignment.Version;
        if (string.IsNullOrEmpty(version))
        {
            // Nothing assigned to this store: whatever it serves (its configured file) keeps serving.
            return null;
        }

        if (scoring.Version == version)
        {
            return Report(assignment, Deployed, $"model {version} serving");
        }

        if (scoring.Host.Previous?.Version == version)
        {
            var from = scoring.Version;
            scoring.Rollback($"the hub assigned {version} again (revision {assignment.Revision})");
            var previous = scoring.Host.Current!;
            LogRolledBack(logger, from ?? "none", version);
            if (await ContentForSaveAsync(hub, headers, assignment, cancellationToken).ConfigureAwait(false) is { } bytes)
            {
                store.Save(version, assignment.Sha256, assignment.Revision, bytes);
            }

            return Report(assignment, RolledBack, $"model {from} rolled back; model {previous.Version} serves again");
        }

        if (_refused.TryGetValue(assignment.Sha256, out var earlier))
        {
            // Refused before (same file): it would be refused again; the hub already has the reason.
            return Report(assignment, Refused, earlier);
        }

        byte[] content;
        try
        {
            content = await DownloadAsync(hub, headers, version, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return Refuse(assignment, $"model {version} refused: the hub has no such model ({ex.Status.Detail})");
        }
        catch (InvalidDataException ex)
        {
            return Refuse(assignment, $"model {version} refused: the download is corrupted ({ex.Message})");
        }

        var sha = ModelArtifact.Sha256Of(content);
        if (content.LongLength != assignment.Size || sha != assignment.Sha256)
        {
            return Refuse(assignment, $"model {version} refused: the download is corrupted ({content.LongLength} bytes, sha256 {sha[..12]}…; the hub announced {assignment.Size} bytes, sha256 {Short(assignment.Sha256)}…)");
        }

        var result = scoring.Deploy(content, version);
        if (!result.Accepted)
        {
            return Refuse(assignment, result.Message);
        }

        store.Save(version, sha, assignment.Revision, content);
        LogDeployed(logger, version, result.Message);
        return Report(assignment, Deployed, result.Message);
    }

    private async Task<byte[]?> ContentForSaveAsync(HubClients hub, Metadata headers, V1.ModelAssignment assignment, CancellationToken cancellationToken)
    {
        try
        {
            var content = await DownloadAsync(hub, headers, assignment.Version, cancellationToken).ConfigureAwait(false);
            return ModelArtifact.Sha256Of(content) == assignment.Sha256 ? content : null;
        }
        catch (RpcException)
        {
            // The rollback already serves; only the restart copy is missing, and the next assignment fetches it.
            return null;
        }
    }

    private static async Task<byte[]> DownloadAsync(HubClients hub, Metadata headers, string version, CancellationToken cancellationToken)
    {
        using var call = hub.Models.Download(new V1.DownloadModelRequest { Version = version }, headers, cancellationToken: cancellationToken);
        byte[]? content = null;
        long received = 0;
        while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            var chunk = call.ResponseStream.Current;
            if (chunk.Total is < 0 or > int.MaxValue || chunk.Offset != received || chunk.Offset + chunk.Data.Length > chunk.Total)
            {
                throw new InvalidDataException($"model {version}: chunk at {chunk.Offset} does not follow the {received} bytes received (total {chunk.Total})");
            }

            content ??= new byte[chunk.Total];
            chunk.Data.Span.CopyTo(content.AsSpan((int)chunk.Offset));
            received += chunk.Data.Length;
        }

        return content is null ? [] : content.AsSpan(0, (int)received).ToArray();
    }

    private V1.ModelStatusReport Refuse(V1.ModelAssignment assignment, string message)
    {
        _refused[assignment.Sha256] = message;
        LogRefusedModel(logger, assignment.Version, message);
        return Report(assignment, Refused, message);
    }

    private V1.ModelStatusReport Report(V1.ModelAssignment assignment, string outcome, string message) => new()
    {
        Revision = assignment.Revision,
        Version = assignment.Version,
        Outcome = outcome,
        Message = message,
        ServingVersion = scoring.Version ?? "",
        AtUnixMs = clock.GetUtcNow().ToUnixTimeMilliseconds(),
    };

    private async Task SendUnsentAsync(HubClients hub, Metadata headers, CancellationToken cancellationToken)
    {
        if (_unsent is not { } report)
        {
            return;
        }

        await hub.Models.ReportStatusAsync(report, headers, cancellationToken: cancellationToken).ConfigureAwait(false);
        _unsent = null;
    }

    private static string Short(string sha) => sha.Length >= 12 ? sha[..12] : sha;

    [LoggerMessage(Level = LogLevel.Information, Message = "Model from the hub deployed: {Version} ({Message})")]
    private static partial void LogDeployed(ILogger logger, string version, string message);

    [LoggerMessage(Level = LogLevel.Error, Message = "Model {Version} from the hub refused; the current model keeps serving: {Message}")]
    private static partial void LogRefusedModel(ILogger logger, string version, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model rolled back from {From} to {To} as the hub assigned")]
    private static partial void LogRolledBack(ILogger logger, string from, string to);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model assignments from {HubUrl} unavailable ({Error}); the edge keeps its model and retries")]
    private static partial void LogUnavailable(ILogger logger, string hubUrl, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Hub at {HubUrl} refused the model assignment watch ({Status}: {Detail}); retrying every 30 s")]
    private static partial void LogRefusedWatch(ILogger logger, string hubUrl, string status, string detail);
}
