using System.CommandLine;
using EdgeProfile.Cli.HubApi;
using EdgeProfile.Cli.Output;

namespace EdgeProfile.Cli.Commands;

/// <summary><c>profiles get KEY</c>: a customer's global profile from the hub.</summary>
public static class ProfilesCommand
{
    /// <summary>Builds <c>profiles</c> with <c>get</c>.</summary>
    public static Command Create()
    {
        var key = new Argument<string>("KEY")
        {
            Description = "A customer key: loyalty:L-1002, app:u-77, email:a@b.cn (pseudonymised by the hub), phone:..., card:..., or ep:<profile id>",
        };
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON instead of text" };
        var hub = new HubConnectionOptions();
        var get = new Command("get", "Show the global profile: identifiers, per-store features, global features, tags with reasons") { key, json };
        hub.AddTo(get);
        get.SetGuardedAction(async (r, ct) =>
        {
            var customerKey = r.GetValue(key)!.Trim();
            if (!customerKey.Contains(':', StringComparison.Ordinal))
            {
                throw new CliException($"'{customerKey}' is not a customer key: expected kind:value, e.g. loyalty:L-1002 or app:u-77", ExitCodes.Usage);
            }

            using var client = hub.CreateClient(r);
            var found = await client.GetProfileAsync(customerKey, ct).ConfigureAwait(false)
                ?? throw new CliException($"no profile for '{customerKey}' at the hub {client.BaseUrl}");
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(HubRestClient.Indent(found.Json));
            }
            else
            {
                ProfileRenderer.Write(Spectre.Console.AnsiConsole.Console, found.Profile, customerKey);
            }

            return ExitCodes.Ok;
        });

        return new Command("profiles", "Global customer profiles") { get };
    }
}
