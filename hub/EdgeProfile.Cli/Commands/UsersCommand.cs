using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeProfile.Cli.HubApi;
using Spectre.Console;

namespace EdgeProfile.Cli.Commands;

/// <summary>
/// <c>users add|list|set</c>: the operator web UI's accounts (the first admin is created here, with the operator token),
/// and <c>audit</c>: the hub's log of changes.
/// </summary>
public static class UsersCommand
{
    private static readonly string[] Roles = ["viewer", "operator", "admin", "partner"];

    /// <summary>Builds <c>users</c>.</summary>
    public static Command Create()
    {
        return new Command("users", "Accounts of the operator web UI (roles viewer, operator, admin, partner)") { Add(), List(), Set() };
    }

    /// <summary>Builds <c>audit</c>.</summary>
    public static Command CreateAudit()
    {
        var limit = new Option<int>("--limit") { HelpName = "N", Description = "Newest N entries (1-1000)", DefaultValueFactory = _ => 50 };
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON" };
        var hub = new HubConnectionOptions();
        var command = new Command("audit", "The hub's audit log: every change made through the API, the web UI and the CLI, with who made it") { limit, json };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            var n = r.GetValue(limit);
            if (n is < 1 or > 1000)
            {
                throw new CliException("--limit must be between 1 and 1000", ExitCodes.Usage);
            }

            using var client = hub.CreateClient(r);
            var raw = await client.GetAuditAsync(n, ct).ConfigureAwait(false);
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(HubRestClient.Indent(raw));
                return ExitCodes.Ok;
            }

            using var doc = JsonDocument.Parse(raw);
            var table = new Table().Border(TableBorder.Rounded).AddColumn("#").AddColumn("At (UTC)").AddColumn("Actor").AddColumn("Action").AddColumn("Status");
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                table.AddRow(
                    e.GetProperty("seq").GetInt64().ToString(CultureInfo.InvariantCulture),
                    e.GetProperty("at").GetDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    Markup.Escape(e.GetProperty("actor").GetString() ?? ""),
                    Markup.Escape(e.GetProperty("action").GetString() ?? ""),
                    e.GetProperty("status").GetInt32().ToString(CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Add()
    {
        var name = new Argument<string>("name") { Description = "Sign-in name (letters, digits, . _ - @)" };
        var role = new Option<string>("--role") { Description = "viewer | operator | admin | partner", Required = true };
        role.AcceptOnlyFromAmong(Roles);
        var partner = new Option<string?>("--partner") { HelpName = "CLIENT-ID", Description = "For --role partner: the partner's enrolled client id" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from the first line of standard input (else one is generated and printed once)" };
        var hub = new HubConnectionOptions();
        var command = new Command("add", "Create an account; without --password-stdin a strong password is generated and printed once") { name, role, partner, passwordStdin };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            var generated = !r.GetValue(passwordStdin);
            var password = generated ? Generate() : ReadPassword();
            using var client = hub.CreateClient(r);
            await client.CreateOperatorAsync(r.GetValue(name)!, r.GetValue(role)!, password, r.GetValue(partner), ct).ConfigureAwait(false);
            Console.Out.WriteLine($"Account {r.GetValue(name)} ({r.GetValue(role)}) created at {client.BaseUrl}.");
            if (generated)
            {
                Console.Out.WriteLine($"Password (shown once): {password}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON" };
        var hub = new HubConnectionOptions();
        var command = new Command("list", "List accounts (never their passwords)") { json };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            using var client = hub.CreateClient(r);
            var raw = await client.ListOperatorsAsync(ct).ConfigureAwait(false);
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(HubRestClient.Indent(raw));
                return ExitCodes.Ok;
            }

            using var doc = JsonDocument.Parse(raw);
            var table = new Table().Border(TableBorder.Rounded).AddColumn("Name").AddColumn("Role").AddColumn("Partner").AddColumn("Created").AddColumn("State");
            foreach (var a in doc.RootElement.EnumerateArray())
            {
                table.AddRow(
                    Markup.Escape(a.GetProperty("name").GetString() ?? ""),
                    Markup.Escape(a.GetProperty("role").GetString() ?? ""),
                    Markup.Escape(a.GetProperty("partner").GetString() ?? "-"),
                    a.GetProperty("createdAt").GetDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                    a.GetProperty("disabled").GetBoolean() ? "[red]disabled[/]" : "[green]active[/]");
            }

            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Set()
    {
        var name = new Argument<string>("name") { Description = "The account" };
        var role = new Option<string?>("--role") { Description = "New role: viewer | operator | admin (a partner user stays a partner)" };
        var disable = new Option<bool>("--disable") { Description = "Disable the account (it is signed out at its next request)" };
        var enable = new Option<bool>("--enable") { Description = "Enable the account again" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Set a new password read from standard input" };
        var hub = new HubConnectionOptions();
        var command = new Command("set", "Change an account's role, password or state") { name, role, disable, enable, passwordStdin };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            if (r.GetValue(disable) && r.GetValue(enable))
            {
                throw new CliException("--disable and --enable exclude each other", ExitCodes.Usage);
            }

            bool? disabled = r.GetValue(disable) ? true : r.GetValue(enable) ? false : null;
            var password = r.GetValue(passwordStdin) ? ReadPassword() : null;
            if (r.GetValue(role) is null && disabled is null && password is null)
            {
                throw new CliException("nothing to change: give --role, --disable/--enable or --password-stdin", ExitCodes.Usage);
            }

            using var client = hub.CreateClient(r);
            if (await client.UpdateOperatorAsync(r.GetValue(name)!, r.GetValue(role), password, disabled, ct).ConfigureAwait(false) is null)
            {
                throw new CliException($"no account named '{r.GetValue(name)}' at {client.BaseUrl}", ExitCodes.Failed);
            }

            Console.Out.WriteLine($"Account {r.GetValue(name)} changed.");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string ReadPassword()
    {
        var line = Console.In.ReadLine();
        return string.IsNullOrEmpty(line) ? throw new CliException("--password-stdin: standard input is empty", ExitCodes.Usage) : line.TrimEnd('\r');
    }

    /// <summary>A random 20-character password (about 119 bits) without look-alike characters.</summary>
    public static string Generate()
    {
        const string alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        return RandomNumberGenerator.GetString(alphabet, 20);
    }
}
