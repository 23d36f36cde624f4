using Grpc.Core;

namespace EdgeProfile.Hub.Enrollment;

/// <summary>The authenticated caller of a gRPC call, as set by <see cref="StoreAuthInterceptor"/>.</summary>
internal static class StoreCallContext
{
    public const string StoreHeader = "x-ep-store";
    private const string UserStateKey = "edgeprofile.store";

    public static void SetStoreId(ServerCallContext context, string storeId) => context.UserState[UserStateKey] = storeId;

    /// <summary>The store the call is authenticated as; services must use only this id.</summary>
    public static string StoreId(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.UserState.TryGetValue(UserStateKey, out var value) && value is string storeId
            ? storeId
            : throw new RpcException(new Status(StatusCode.Unauthenticated, "the call was not authenticated as a store"));
    }
}
