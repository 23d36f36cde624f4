using EdgeProfile.Contracts.V1;
using EdgeProfile.Core.Customers;
using EdgeProfile.Hub.Api;
using EdgeProfile.Hub.Storage;
using Grpc.Core;

namespace EdgeProfile.Hub.Profiles;

/// <summary>
/// <c>OperatorProfiles.GetProfile</c>: the global profile over gRPC, the same answer as <c>GET /api/profiles/{key}</c>
/// (operator token checked by <see cref="Enrollment.StoreAuthInterceptor"/>).
/// </summary>
internal sealed class OperatorProfilesService(ProfileReader profiles, HubSecrets secrets) : OperatorProfiles.OperatorProfilesBase
{
    public override async Task<GlobalProfileMessage> GetProfile(GetProfileRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        if (!CustomerKey.TryParse(request.Key?.Trim(), out var key))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"key: '{request.Key}' is not a customer key (kind:value with kind one of {CustomerKey.KindList})"));
        }

        var profile = await profiles.FindAsync(secrets.Pseudonymizer.Canonical(key).ToString(), context.CancellationToken).ConfigureAwait(false)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"no profile for '{request.Key}'"));
        return ToMessage(profile);
    }

    private static GlobalProfileMessage ToMessage(GlobalProfile p)
    {
        var m = new GlobalProfileMessage
        {
            ProfileId = p.ProfileId,
            Visits7D = p.Global.Visits7d,
            Visits30D = p.Global.Visits30d,
            Spend7D = p.Global.Spend7d,
            Spend30D = p.Global.Spend30d,
            LastSeenUnixMs = p.Global.LastSeen?.ToUnixTimeMilliseconds() ?? 0,
            LastCategory = p.Global.LastCategory ?? "",
            AnalyticsConsent = p.Consent.Analytics,
            PersonalisationConsent = p.Consent.Personalisation,
            TrainingConsent = p.Consent.Training,
        };
        m.Identifiers.AddRange(p.Identifiers);
        m.Channels.AddRange(p.Global.Channels);
        m.Reasons.AddRange(p.Reasons);
        m.Tags.AddRange(p.Tags.Select(t => new TaggedReason { Name = t.Name, Reason = t.Reason }));
        foreach (var s in p.Stores)
        {
            var view = new StoreView
            {
                StoreId = s.StoreId,
                CustomerKey = s.CustomerKey,
                Visits7D = s.Visits7d,
                Visits30D = s.Visits30d,
                Spend7D = s.Spend7d,
                Spend30D = s.Spend30d,
                LastSeenUnixMs = s.LastSeen?.ToUnixTimeMilliseconds() ?? 0,
                LastCategory = s.LastCategory ?? "",
                LastChannel = s.LastChannel ?? "",
                EventsTotal = s.EventsTotal,
            };
            view.Tags.AddRange(s.Tags);
            m.Stores.Add(view);
        }

        foreach (var s in p.Scores)
        {
            var score = new StoreScore
            {
                StoreId = s.StoreId,
                Task = s.Task,
                ModelVersion = s.Model,
                ScoredAtUnixMs = s.ScoredAt.ToUnixTimeMilliseconds(),
                MissingFeatures = s.MissingFeatures,
            };
            if (s.Values is { } values)
            {
                score.Values.AddRange(values);
            }
            else if (s.Value is { } value)
            {
                score.Values.Add(value);
            }

            m.Scores.Add(score);
        }

        foreach (var s in p.Searches)
        {
            m.Searches.Add(new StoreSearch
            {
                StoreId = s.StoreId,
                Search = new SearchNote { Text = s.Text, AtUnixMs = s.At.ToUnixTimeMilliseconds(), Channel = s.Channel },
            });
        }

        return m;
    }
}
