using EdgeProfile.Contracts.V1;
using EdgeProfile.Hub.Storage;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Enrollment;

/// <summary><c>edgeprofile.v1.Enrollment</c>: trades a one-time token for a store credential and the pseudonym key.</summary>
internal sealed class EnrollmentService : Contracts.V1.Enrollment.EnrollmentBase
{
    private readonly StoreRegistry _registry;
    private readonly HubSecrets _secrets;
    private readonly ILogger<EnrollmentService> _logger;

    public EnrollmentService(StoreRegistry registry, HubSecrets secrets, ILogger<EnrollmentService> logger)
    {
        _registry = registry;
        _secrets = secrets;
        _logger = logger;
    }

    public override async Task<EnrollResponse> Enroll(EnrollRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        if (string.IsNullOrWhiteSpace(request.Token))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "token is required (from `edgeprofile enroll create`)"));
        }

        if (!StoreIds.IsValid(request.StoreId))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"store_id '{request.StoreId}' is invalid: {StoreIds.Rule}"));
        }

        var outcome = await _registry.EnrollAsync(request.Token.Trim(), request.StoreId, context.CancellationToken).ConfigureAwait(false);
        var denied = outcome.Status switch
        {
            EnrollStatus.Enrolled => null,
            EnrollStatus.UnknownToken => "unknown enrollment token",
            EnrollStatus.TokenUsed => "enrollment token was already used; create a new one",
            EnrollStatus.TokenCancelled => "enrollment token was cancelled when the store was revoked; create a new one",
            EnrollStatus.TokenExpired => $"enrollment token expired at {outcome.ExpiredAt:O}; create a new one",
            EnrollStatus.WrongStore => $"enrollment token is for store '{outcome.TokenStoreId}', not '{request.StoreId}'",
            _ => "enrollment refused",
        };
        if (denied is not null)
        {
            HubLog.EnrollmentRefused(_logger, request.StoreId, denied);
            throw new RpcException(new Status(StatusCode.PermissionDenied, denied));
        }

        HubLog.StoreEnrolled(_logger, request.StoreId, outcome.Kind!, request.AgentVersion);
        return new EnrollResponse
        {
            StoreId = request.StoreId,
            Kind = outcome.Kind,
            Credential = outcome.Credential,
            PseudonymKey = ByteString.CopyFrom(_secrets.PseudonymKey),
        };
    }
}
