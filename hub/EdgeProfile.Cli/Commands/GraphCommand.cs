using System.CommandLine;
using System.Text.Json;
using EdgeProfile.Cli.HubApi;
using Spectre.Console;

namespace EdgeProfile.Cli.Commands;

/// <summary><c>graph query QUERY</c> and <c>graph import taxonomy|knowledge FILE</c>: the hub's knowledge graph.</summary>
public static class GraphCommand
{
    /// <summary>Builds <c>graph</c>.</summary>
    public static Command Create() => new("graph", "The knowledge graph at the hub: Cypher-like queries, taxonomy and domain-knowledge imports")
    {
        Query(), Import(),
    };

    private static Command Query()
    {
        var query = new Argument<string>("QUERY")
        {
            Description = "e.g. \"MATCH (c:Category)-[:SUBCLASS_OF*]->(:Category {name:'Baby & Toddler'}) RETURN c.name LIMIT 10\" (syntax: shared/EdgeProfile.Knowledge/Graph/README.md)",
        };
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON" };
        var hub = new HubConnectionOptions();
        var command = new Command("query", "Run a graph query at the hub") { query, json };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            using var client = hub.CreateClient(r);
            var body = await client.GraphQueryAsync(r.GetValue(query)!, ct).ConfigureAwait(false);
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(HubRestClient.Indent(body));
                return ExitCodes.Ok;
            }

            using var doc = JsonDocument.Parse(body);
            var columns = doc.RootElement.GetProperty("columns").EnumerateArray().Select(c => c.GetString() ?? "").ToList();
            var table = new Table().Border(TableBorder.Rounded);
            foreach (var c in columns)
            {
                table.AddColumn(Markup.Escape(c));
            }

            foreach (var row in doc.RootElement.GetProperty("rows").EnumerateArray())
            {
                table.AddRow([.. columns.Select(c => Markup.Escape(row.TryGetProperty(c, out var v) && v.ValueKind != JsonValueKind.Null ? v.ToString() : ""))]);
            }

            if (Console.IsOutputRedirected)
            {
                AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 200);
            }

            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"[grey]{doc.RootElement.GetProperty("count").GetInt32()} row(s) in {doc.RootElement.GetProperty("elapsedMs").GetDouble()} ms[/]");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Import()
    {
        var kind = new Argument<string>("KIND") { Description = "taxonomy (Google product taxonomy, 'ID - A > B' lines) or knowledge ('Subject predicate Object' lines)" };
        kind.AcceptOnlyFromAmong("taxonomy", "knowledge");
        var file = new Argument<FileInfo>("FILE") { Description = "The file to import" };
        var hub = new HubConnectionOptions();
        var command = new Command("import", "Import a taxonomy or domain knowledge into the hub's graph") { kind, file };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            var path = r.GetValue(file)!;
            if (!path.Exists)
            {
                throw new CliException($"FILE: '{path.FullName}' does not exist", ExitCodes.Usage);
            }

            using var client = hub.CreateClient(r);
            var body = await client.GraphImportAsync(r.GetValue(kind)!, await File.ReadAllTextAsync(path.FullName, ct).ConfigureAwait(false), ct).ConfigureAwait(false);
            Console.Out.WriteLine(HubRestClient.Indent(body));
            return ExitCodes.Ok;
        });
        return command;
    }
}
