using EdgeProfile.Contracts.V1;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Enrollment;

/// <summary>
/// Authenticates every gRPC call except enrollment: <c>x-ep-store: &lt;storeId&gt;</c> and
/// <c>authorization: Bearer &lt;credential&gt;</c>. Unknown store, wrong credential or revoked store → UNAUTHENTICATED.
/// The operator services (<c>OperatorProfiles</c>) take the operator token instead. Registered globally, so a service
/// added later is protected unless it is listed here as open. A partner's credential (kind <c>partner</c>) opens only
/// federated learning (<c>Federation</c>) and the registry's model files (<c>ModelDistribution/Download</c>): never
/// profiles, stores or other partners (PERMISSION_DENIED).
/// </summary>
internal sealed class StoreAuthInterceptor : Interceptor
{
    private static readonly string OpenServicePrefix = "/" + Contracts.V1.Enrollment.Descriptor.FullName + "/";
    private static readonly string OperatorServicePrefix = "/" + Contracts.V1.OperatorProfiles.Descriptor.FullName + "/";
    private static readonly string[] PartnerMethods =
    [
        "/" + Contracts.V1.Federation.Descriptor.FullName + "/",
        "/" + Contracts.V1.ModelDistribution.Descriptor.FullName + "/Download",
    ];

    private readonly StoreRegistry _registry;
    private readonly Storage.HubSecrets _secrets;
    private readonly ILogger<StoreAuthInterceptor> _logger;

    public StoreAuthInterceptor(StoreRegistry registry, Storage.HubSecrets secrets, ILogger<StoreAuthInterceptor> logger)
    {
        _registry = registry;
        _secrets = secrets;
        _logger = logger;
    }

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        await AuthenticateAsync(context).ConfigureAwait(false);
        return await continuation(request, context).ConfigureAwait(false);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        await AuthenticateAsync(context).ConfigureAwait(false);
        return await continuation(requestStream, context).ConfigureAwait(false);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        await AuthenticateAsync(context).ConfigureAwait(false);
        await continuation(request, responseStream, context).ConfigureAwait(false);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        await AuthenticateAsync(context).ConfigureAwait(false);
        await continuation(requestStream, responseStream, context).ConfigureAwait(false);
    }

    private async Task AuthenticateAsync(ServerCallContext context)
    {
        if (context.Method.StartsWith(OpenServicePrefix, StringComparison.Ordinal))
        {
            return;
        }

        if (context.Method.StartsWith(OperatorServicePrefix, StringComparison.Ordinal))
        {
            var presented = context.RequestHeaders.GetValue("authorization");
            const string scheme = "Bearer ";
            if (presented is null || !presented.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || !_secrets.IsOperatorToken(presented[scheme.Length..].Trim()))
            {
                throw Denied(context, "(operator)", "missing or wrong operator token ('authorization: Bearer <token>'; the hub keeps a generated one in {Hub:DataDir}/operator.token)");
            }

            return;
        }

        var storeId = context.RequestHeaders.GetValue(StoreCallContext.StoreHeader);
        if (string.IsNullOrEmpty(storeId))
        {
            throw Denied(context, "(none)", $"missing '{StoreCallContext.StoreHeader}' metadata naming the store");
        }

        var authorization = context.RequestHeaders.GetValue("authorization");
        const string bearer = "Bearer ";
        if (authorization is null || !authorization.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) || authorization.Length == bearer.Length)
        {
            throw Denied(context, storeId, "missing 'authorization: Bearer <credential>' metadata");
        }

        var credential = authorization[bearer.Length..].Trim();
        var (status, kind) = StoreIds.IsValid(storeId)
            ? await _registry.AuthenticateAsync(storeId, credential, context.CancellationToken).ConfigureAwait(false)
            : (AuthStatus.UnknownStore, "");
        switch (status)
        {
            case AuthStatus.Ok when kind == "partner" && !PartnerMethods.Any(m => context.Method.StartsWith(m, StringComparison.Ordinal)):
                HubLog.StoreAuthFailed(_logger, storeId, context.Method, "a partner may only take part in federated learning");
                throw new RpcException(new Status(StatusCode.PermissionDenied,
                    $"'{storeId}' is a partner: it may take part in federated learning and download models, not call {context.Method}"));
            case AuthStatus.Ok:
                StoreCallContext.SetStoreId(context, storeId);
                return;
            case AuthStatus.UnknownStore:
                throw Denied(context, storeId, $"store '{storeId}' is not enrolled");
            case AuthStatus.Revoked:
                throw Denied(context, storeId, $"store '{storeId}' has been revoked; enroll it again with a new token");
            default:
                throw Denied(context, storeId, $"invalid credential for store '{storeId}'");
        }
    }

    private RpcException Denied(ServerCallContext context, string storeId, string reason)
    {
        HubLog.StoreAuthFailed(_logger, storeId, context.Method, reason);
        return new RpcException(new Status(StatusCode.Unauthenticated, reason));
    }
}
