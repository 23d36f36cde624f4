using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeProfile.Core.Features;
using EdgeProfile.Edge.Features;
using Spectre.Console;

namespace EdgeProfile.Cli.Commands;

/// <summary><c>features get KEY</c> (an edge's live values) and <c>features training-set</c> (point-in-time sets from an edge's log).</summary>
public static class FeaturesEdgeCommands
{
    /// <summary>Where an edge's local API listens by default.</summary>
    public const string DefaultEdgeUrl = "http://127.0.0.1:8081";

    /// <summary><c>features get KEY [--edge URL] [--as-of TIME] [--json]</c>.</summary>
    public static Command Get()
    {
        var key = new Argument<string>("KEY") { Description = "A customer key, e.g. loyalty:L-1002, app:u-77, email:a@b.cn" };
        var edge = new Option<string>("--edge") { Description = $"The edge's local API [default {DefaultEdgeUrl}]", HelpName = "URL", DefaultValueFactory = _ => DefaultEdgeUrl };
        var asOf = new Option<string?>("--as-of") { Description = "Read the values as of this time (RFC 3339) instead of now", HelpName = "TIME" };
        var json = new Option<bool>("--json") { Description = "Print the edge's JSON" };
        var all = new Option<bool>("--all") { Description = "Also list features with no value (missing)" };
        var get = new Command("get", "Show a customer's feature values at an edge: value, status (fresh/stale/missing), definition version, lineage") { key, edge, asOf, json, all };
        get.SetGuardedAction(async (r, ct) =>
        {
            var baseUrl = r.GetValue(edge)!.TrimEnd('/');
            var url = $"{baseUrl}/api/profiles/{Uri.EscapeDataString(r.GetValue(key)!)}" + (r.GetValue(asOf) is { } t ? "?asOf=" + Uri.EscapeDataString(t) : "");
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            HttpResponseMessage response;
            try
            {
                response = await http.GetAsync(new Uri(url), ct).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                throw new CliException($"cannot reach the edge at {baseUrl}: {ex.Message}", ex);
            }

            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            using var doc = JsonDocument.Parse(body);
            if (!response.IsSuccessStatusCode)
            {
                throw new CliException(doc.RootElement.TryGetProperty("error", out var e) ? e.GetString() ?? body : body);
            }

            if (r.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(doc.RootElement, Indented));
                return ExitCodes.Ok;
            }

            if (Console.IsOutputRedirected)
            {
                // Piped into a file or grep: one row per feature rather than names wrapped at 80 columns.
                AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 200);
            }

            var root = doc.RootElement;
            var set = root.GetProperty("featureSet");
            var table = new Table().Border(TableBorder.Rounded)
                .Title($"{Markup.Escape(root.GetProperty("customerKey").GetString() ?? "")} at {Markup.Escape(root.GetProperty("storeId").GetString() ?? "")} as of {root.GetProperty("asOf").GetDateTimeOffset().ToString("u", CultureInfo.InvariantCulture)} (definitions revision {set.GetProperty("revision").GetInt64()})")
                .AddColumn("Feature").AddColumn("Version").AddColumn("Value").AddColumn("Status").AddColumn("Window")
                .AddColumn(new TableColumn("Events").RightAligned()).AddColumn("Last event");
            foreach (var f in root.GetProperty("features").EnumerateArray())
            {
                var status = f.GetProperty("status").GetString() ?? "";
                if (status == "missing" && !r.GetValue(all))
                {
                    continue;
                }

                var lineage = f.GetProperty("lineage");
                table.AddRow(
                    Markup.Escape(f.GetProperty("name").GetString() ?? ""),
                    "v" + f.GetProperty("version").GetInt32().ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(Render(f.GetProperty("value"))),
                    status switch { "fresh" => "[green]fresh[/]", "stale" => "[yellow]stale[/]", _ => "[grey]missing[/]" },
                    Markup.Escape(f.GetProperty("window").GetString() ?? ""),
                    lineage.GetProperty("events").GetInt64().ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(lineage.GetProperty("lastEventId").ValueKind == JsonValueKind.String ? lineage.GetProperty("lastEventId").GetString()! : "-"));
            }

            AnsiConsole.Write(table);
            foreach (var tag in root.GetProperty("tags").EnumerateArray())
            {
                AnsiConsole.MarkupLine($"[bold]{Markup.Escape(tag.GetProperty("name").GetString() ?? "")}[/]: {Markup.Escape(tag.GetProperty("reason").GetString() ?? "")} / {Markup.Escape(tag.GetProperty("reasonZh").GetString() ?? "")}");
            }

            return ExitCodes.Ok;
        });
        return get;
    }

    /// <summary><c>features training-set --cutoffs FILE --out DIR --data-dir DIR [--store ID]</c>.</summary>
    public static Command TrainingSet()
    {
        var cutoffs = new Option<FileInfo>("--cutoffs") { Description = "CSV of customer,cutoff rows (cutoff RFC 3339 or a date, UTC)", HelpName = "FILE", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Directory for training_set.csv and manifest.json", HelpName = "DIR", Required = true };
        var dataDir = new Option<DirectoryInfo>("--data-dir") { Description = "The edge's data directory (Edge:DataDir) holding edge.db; read-only, the edge may keep running", HelpName = "DIR", Required = true };
        var store = new Option<string?>("--store") { Description = "The edge's store id (default: read from the log)", HelpName = "ID" };
        var definitions = new Option<FileInfo?>("--definitions") { Description = "A feature-set JSON to compute instead of the definitions the edge serves", HelpName = "FILE" };
        var command = new Command("training-set", "Point-in-time-correct training set from an edge's log: features strictly before each cutoff, labels (purchase in 30d, churn in 90d, spend in 90d) strictly after")
        {
            cutoffs, output, dataDir, store, definitions,
        };
        command.SetGuardedAction((r, ct) =>
        {
            var file = r.GetValue(cutoffs)!;
            if (!file.Exists)
            {
                throw new CliException($"--cutoffs {file.FullName} does not exist", ExitCodes.Usage);
            }

            FeatureSet? set = null;
            if (r.GetValue(definitions) is { } defs)
            {
                try
                {
                    set = FeatureSet.Parse(File.ReadAllText(defs.FullName));
                }
                catch (Exception ex) when (ex is FeatureDefinitionException or IOException)
                {
                    throw new CliException($"--definitions {defs.FullName}: {ex.Message}", ExitCodes.Usage);
                }
            }

            IReadOnlyList<(string, DateTimeOffset)> rows;
            try
            {
                rows = TrainingSetBuilder.ReadCutoffs(file.FullName);
            }
            catch (FormatException ex)
            {
                throw new CliException(ex.Message, ExitCodes.Usage);
            }

            TrainingSetResult result;
            try
            {
                result = TrainingSetBuilder.Build(r.GetValue(dataDir)!.FullName, r.GetValue(store) ?? "", rows, LabelSpec.Defaults, r.GetValue(output)!.FullName, set);
            }
            catch (Exception ex) when (ex is FileNotFoundException or InvalidOperationException or Microsoft.Data.Sqlite.SqliteException)
            {
                throw new CliException(ex.Message);
            }

            Console.Out.WriteLine($"{result.Rows} rows × {result.Features} features + {LabelSpec.Defaults.Count} labels written to {result.CsvPath} (manifest {result.ManifestPath}); {result.UnknownCustomers} unknown customers skipped, {result.WithheldRows} rows withheld (training consent withdrawn), {result.CensoredRows} rows whose label horizon runs past the end of the log (label_observed=0)");
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    private static string Render(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Number => v.GetDouble().ToString("0.####", CultureInfo.InvariantCulture),
        JsonValueKind.String => v.GetString() ?? "",
        JsonValueKind.Array => string.Join(", ", v.EnumerateArray().Select(x => $"{x.GetProperty("value").GetString()} {(x.GetProperty("share").GetDouble() * 100).ToString("0", CultureInfo.InvariantCulture)}%")),
        _ => "-",
    };

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
