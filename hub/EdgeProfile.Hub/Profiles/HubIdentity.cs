using EdgeProfile.Core.Identity;
using EdgeProfile.Hub.Storage;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Hub.Profiles;

/// <summary>
/// The hub's <see cref="IdentityPolicy"/>, compiled on first use from <c>Hub:Identity</c> (validated at start) with the
/// organisation's pseudonymisation key, so that blocked raw emails, phones and cards match their pseudonyms.
/// </summary>
internal sealed class HubIdentity(IOptions<HubOptions> options, HubSecrets secrets)
{
    private IdentityPolicy? _policy;

    /// <summary>The compiled rules.</summary>
    public IdentityPolicy Policy => _policy ??= new IdentityPolicy(options.Value.Identity, secrets.Pseudonymizer.Hash, "Hub:Identity");
}
