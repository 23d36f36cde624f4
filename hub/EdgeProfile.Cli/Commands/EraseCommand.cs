using System.CommandLine;
using System.Globalization;
using EdgeProfile.Cli.HubApi;
using EdgeProfile.Hub.Api;
using Spectre.Console;

namespace EdgeProfile.Cli.Commands;

/// <summary>
/// <c>erase KEY [--wait SECONDS]</c>: erase a customer everywhere (hub now, each store as it confirms), and
/// <c>erasures show ID</c>: which systems have confirmed.
/// </summary>
public static class EraseCommand
{
    /// <summary>Builds <c>erase</c>.</summary>
    public static Command Erase()
    {
        var key = new Argument<string>("KEY") { Description = "Any key of the customer: loyalty:L-1002, app:u-77, email:a@b.cn (pseudonymised by the hub), device:..., or ep:<profile id>" };
        var wait = new Option<int>("--wait") { Description = "Seconds to wait for every store to confirm (0: do not wait)", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON instead of text" };
        var hub = new HubConnectionOptions();
        var erase = new Command("erase", "Erase a customer from the hub and every store (log, features, profiles, outbox) and refuse their identifiers from now on") { key, wait, json };
        hub.AddTo(erase);
        erase.SetGuardedAction(async (r, ct) =>
        {
            var customerKey = r.GetValue(key)!.Trim();
            if (!customerKey.Contains(':', StringComparison.Ordinal))
            {
                throw new CliException($"'{customerKey}' is not a customer key: expected kind:value, e.g. loyalty:L-1002", ExitCodes.Usage);
            }

            using var client = hub.CreateClient(r);
            var (status, raw) = await client.EraseAsync(customerKey, ct).ConfigureAwait(false)
                ?? throw new CliException($"no customer '{customerKey}' at the hub {client.BaseUrl}");
            var deadline = DateTimeOffset.UtcNow.AddSeconds(Math.Max(0, r.GetValue(wait)));
            while (status.CompletedAt is null && DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(500, ct).ConfigureAwait(false);
                (status, raw) = (await client.GetErasureAsync(status.RequestId, ct).ConfigureAwait(false))!.Value;
            }

            if (r.GetValue(json))
            {
                Console.Out.WriteLine(HubRestClient.Indent(raw));
            }
            else
            {
                Write(status);
            }

            return status.CompletedAt is null && r.GetValue(wait) > 0 ? ExitCodes.Failed : ExitCodes.Ok;
        });
        return erase;
    }

    /// <summary>Builds <c>erasures</c> with <c>show</c>.</summary>
    public static Command Erasures()
    {
        var id = new Argument<string>("ID") { Description = "The erasure request id printed by: edgeprofile erase KEY" };
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON instead of text" };
        var hub = new HubConnectionOptions();
        var show = new Command("show", "Show an erasure request: when, how many identifiers, which systems confirmed") { id, json };
        hub.AddTo(show);
        show.SetGuardedAction(async (r, ct) =>
        {
            using var client = hub.CreateClient(r);
            var found = await client.GetErasureAsync(r.GetValue(id)!.Trim(), ct).ConfigureAwait(false)
                ?? throw new CliException($"no erasure request '{r.GetValue(id)}' at the hub {client.BaseUrl}");
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(HubRestClient.Indent(found.Json));
            }
            else
            {
                Write(found.Status);
            }

            return ExitCodes.Ok;
        });
        return new Command("erasures", "Erasure requests and their confirmations") { show };
    }

    private static void Write(ErasureStatus status)
    {
        var confirmed = status.Confirmations.Count(c => c.System != "hub");
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"Erasure {status.RequestId}: {status.Identifiers} identifier(s), requested {status.RequestedAt:u}; {confirmed} of {status.Stores} store(s) confirmed{(status.CompletedAt is { } done ? $", complete {done:u}" : "; the others erase when they next reach the hub")}")));
        foreach (var c in status.Confirmations)
        {
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"  {c.System,-20} {c.ConfirmedAt:u}")));
        }
    }
}
