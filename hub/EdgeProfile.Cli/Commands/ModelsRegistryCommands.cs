using System.CommandLine;
using System.Globalization;
using EdgeProfile.Cli.HubApi;
using EdgeProfile.Hub.Models;
using Spectre.Console;

namespace EdgeProfile.Cli.Commands;

/// <summary>
/// The hub's model registry: <c>models register FILE</c>, <c>models list</c>, <c>models export VERSION --out FILE</c>,
/// <c>models deploy VERSION [--stores A,B]</c>, <c>models rollback [--stores A,B]</c> and <c>models status</c>.
/// </summary>
public static class ModelsRegistryCommands
{
    /// <summary>The registry subcommands.</summary>
    public static IEnumerable<Command> Create() => [Register(), List(), Export(), Deploy(), Rollback(), Status()];

    private static Command Register()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The ONNX file (e.g. model.int8.onnx from `models train`)" };
        var description = new Option<string?>("--description") { Description = "What the model is, for operators", HelpName = "TEXT" };
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON instead of text" };
        var hub = new HubConnectionOptions();
        var command = new Command("register", "Register an ONNX model at the hub under the version in its metadata (checked: it loads, scores, and takes registered numeric features)") { file, description, json };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            var path = r.GetValue(file)!;
            if (!path.Exists)
            {
                throw new CliException($"FILE: '{path.FullName}' does not exist", ExitCodes.Usage);
            }

            var content = await File.ReadAllBytesAsync(path.FullName, ct).ConfigureAwait(false);
            using var client = hub.CreateClient(r);
            var (model, created, raw) = await client.RegisterModelAsync(content, r.GetValue(description), ct).ConfigureAwait(false);
            Console.Out.WriteLine(r.GetValue(json)
                ? HubRestClient.Indent(raw)
                : string.Create(CultureInfo.InvariantCulture,
                    $"Model {model.Version} {(created ? "registered" : "was already registered (same file)")}: {model.Size:N0} bytes, {model.Features.Count} features, sha256 {model.Sha256[..12]}…; deploy it with: edgeprofile models deploy {model.Version}"));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON instead of a table" };
        var hub = new HubConnectionOptions();
        var command = new Command("list", "List registered models: version, size, features, metrics, where assigned and serving") { json };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            using var client = hub.CreateClient(r);
            var (models, raw) = await client.ListModelsAsync(ct).ConfigureAwait(false);
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(HubRestClient.Indent(raw));
                return ExitCodes.Ok;
            }

            if (models.Count == 0)
            {
                Console.Out.WriteLine($"No models at {client.BaseUrl} yet (register one with: edgeprofile models register model.int8.onnx)");
                return ExitCodes.Ok;
            }

            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);
            var table = new Table().Border(TableBorder.Rounded)
                .AddColumn(new TableColumn("Version").NoWrap()).AddColumn(new TableColumn("Registered").NoWrap())
                .AddColumn(new TableColumn("Size").RightAligned()).AddColumn(new TableColumn("Features").RightAligned())
                .AddColumn("Quantization").AddColumn("Assigned to").AddColumn("Serving at").AddColumn("Refused by");
            foreach (var m in models)
            {
                table.AddRow(Markup.Escape(m.Version), m.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                    m.Size.ToString("N0", CultureInfo.InvariantCulture), m.Features.Count.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(m.Quantization ?? ""), Markup.Escape(string.Join(", ", m.AssignedTo)), Markup.Escape(string.Join(", ", m.ServingAt)),
                    Markup.Escape(string.Join(", ", m.RefusedBy.Select(x => x.StoreId))));
            }

            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Export()
    {
        var version = new Argument<string>("VERSION") { Description = "A registered version (see `models list`)" };
        var output = new Option<FileInfo>("--out") { Description = "Where to write the ONNX file", HelpName = "FILE", Required = true };
        var hub = new HubConnectionOptions();
        var command = new Command("export", "Download a registered model's ONNX file from the hub") { version, output };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            var v = r.GetValue(version)!.Trim();
            using var client = hub.CreateClient(r);
            var content = await client.ExportModelAsync(v, ct).ConfigureAwait(false)
                ?? throw new CliException($"model {v} is not registered at {client.BaseUrl} (see: edgeprofile models list)", ExitCodes.Failed);
            var path = r.GetValue(output)!.FullName;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, content, ct).ConfigureAwait(false);
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Model {v}: {content.Length:N0} bytes written to {path}"));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Deploy()
    {
        var version = new Argument<string>("VERSION") { Description = "A registered version (see `models list`)" };
        var stores = StoresOption("Stores to deploy to, comma-separated [default: every store, including stores enrolled later]");
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON instead of text" };
        var hub = new HubConnectionOptions();
        var command = new Command("deploy", "Assign a model to stores; each store downloads it, runs its canary and swaps it in (or refuses it and keeps its model)") { version, stores, json };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            using var client = hub.CreateClient(r);
            var (deployment, raw) = await client.DeployModelAsync(r.GetValue(version)!.Trim(), Stores(r.GetValue(stores)), ct).ConfigureAwait(false);
            Console.Out.WriteLine(r.GetValue(json)
                ? HubRestClient.Indent(raw)
                : string.Create(CultureInfo.InvariantCulture,
                    $"Model {deployment.Version} assigned to {(deployment.Stores.Count == 0 ? "every store" : string.Join(", ", deployment.Stores))} (revision {deployment.Revision}); follow it with: edgeprofile models status"));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Rollback()
    {
        var stores = StoresOption("Stores to roll back, comma-separated [default: every store that has an earlier model]");
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON instead of text" };
        var hub = new HubConnectionOptions();
        var command = new Command("rollback", "Undo the latest model deployment of stores: each returns to the model it was assigned before") { stores, json };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            using var client = hub.CreateClient(r);
            var (result, raw) = await client.RollbackModelAsync(Stores(r.GetValue(stores)), ct).ConfigureAwait(false);
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(HubRestClient.Indent(raw));
                return ExitCodes.Ok;
            }

            foreach (var move in result.Moves)
            {
                Console.Out.WriteLine($"{move.StoreId}: {move.From} -> {move.To}");
            }

            if (result.Skipped.Count > 0)
            {
                Console.Out.WriteLine($"skipped (no earlier model): {string.Join(", ", result.Skipped)}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Status()
    {
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON instead of a table" };
        var hub = new HubConnectionOptions();
        var command = new Command("status", "Each store's assigned model, what it serves, and its last report (a refusal says why)") { json };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            using var client = hub.CreateClient(r);
            var (stores, raw) = await client.ModelStatusAsync(ct).ConfigureAwait(false);
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(HubRestClient.Indent(raw));
                return ExitCodes.Ok;
            }

            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);
            var table = new Table().Border(TableBorder.Rounded)
                .AddColumn(new TableColumn("Store").NoWrap()).AddColumn("Assigned").AddColumn("Serving").AddColumn("Last report").AddColumn("Message");
            foreach (var s in stores)
            {
                table.AddRow(Markup.Escape(s.StoreId), Markup.Escape(s.Assigned ?? "-"), Markup.Escape(s.Serving ?? "-"),
                    Markup.Escape(s.Outcome is null ? "-" : $"{s.Outcome} {s.ReportedVersion} at {s.ReportedAt:yyyy-MM-dd HH:mm:ss}"),
                    Markup.Escape(s.Message ?? ""));
            }

            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Option<string?> StoresOption(string description) => new("--stores") { Description = description, HelpName = "IDS" };

    private static string[] Stores(string? value) =>
        string.IsNullOrWhiteSpace(value) ? [] : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
