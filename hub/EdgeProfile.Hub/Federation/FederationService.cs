using EdgeProfile.Contracts.V1;
using EdgeProfile.Hub.Enrollment;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Federation;

/// <summary>
/// <c>edgeprofile.v1.Federation</c>: participants (stores and partners, authenticated by
/// <see cref="StoreAuthInterceptor"/>) keep a Join stream open for tasks and answer each with Submit.
/// </summary>
internal sealed partial class FederationService(ParticipantDirectory directory, IHostApplicationLifetime lifetime, ILogger<FederationService> logger)
    : EdgeProfile.Contracts.V1.Federation.FederationBase
{
    public override async Task Join(JoinRequest request, IServerStreamWriter<FlTask> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var clientId = StoreCallContext.StoreId(context);
        var connection = directory.Register(clientId);
        LogJoined(logger, clientId, request?.AgentVersion ?? "");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        try
        {
            // Headers at once, so the participant knows it is connected before any task.
            await context.WriteResponseHeadersAsync([]).ConfigureAwait(false);
            await foreach (var task in connection.Tasks.Reader.ReadAllAsync(cts.Token).ConfigureAwait(false))
            {
                await responseStream.WriteAsync(task, cts.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            // The participant went away or the hub is stopping.
        }
        finally
        {
            directory.Unregister(connection);
            LogLeft(logger, clientId);
        }
    }

    public override Task<FlAck> Submit(FlSubmission request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var clientId = StoreCallContext.StoreId(context);
        if (!directory.Submit(clientId, request))
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"task {request.TaskId} is not open (its round closed or it was not sent to {clientId}); the answer is discarded"));
        }
        return Task.FromResult(new FlAck());
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Federation: {ClientId} joined (agent {AgentVersion})")]
    private static partial void LogJoined(ILogger logger, string clientId, string agentVersion);

    [LoggerMessage(Level = LogLevel.Information, Message = "Federation: {ClientId} left")]
    private static partial void LogLeft(ILogger logger, string clientId);
}
