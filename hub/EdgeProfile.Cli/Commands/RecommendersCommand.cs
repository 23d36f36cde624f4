using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeProfile.Cli.HubApi;
using EdgeProfile.Knowledge;
using EdgeProfile.Models.Recommending;
using EdgeProfile.Semantic.MiniLm;
using EdgeProfile.Training.Recommending;

namespace EdgeProfile.Cli.Commands;

/// <summary>
/// <c>recommenders build|publish|list|rollback|recommend</c>: next-item recommenders. <c>build</c> trains SASRec,
/// item2vec and text embeddings on the hub's product sequences (no customer ids leave the hub) into one bundle file;
/// <c>publish</c> registers it at the hub, which pushes it to every store.
/// </summary>
public static class RecommendersCommand
{
    /// <summary>Builds <c>recommenders</c>.</summary>
    public static Command Create() => new("recommenders", "Next-item recommenders: build a bundle from the hub's sequences, publish it to every store, roll back, ask for recommendations")
    {
        Build(), Publish(), List(), Rollback(), Recommend(),
    };

    private static Command Build()
    {
        var output = new Option<FileInfo>("--out") { Description = "The bundle file to write", HelpName = "FILE", Required = true };
        var version = new Option<string>("--version") { Description = "The bundle's version (letters, digits, . _ -)", HelpName = "VERSION", Required = true };
        var catalogue = new Option<FileInfo?>("--catalogue") { Description = "CSV of products (sku,name with a header): names for text embeddings, and new products nobody has interacted with yet", HelpName = "FILE" };
        var text = new Option<string>("--text") { Description = "Text embedder for product names: hashed, minilm (all-MiniLM-L6-v2, offline) or none", HelpName = "KIND", DefaultValueFactory = _ => "hashed" };
        var epochs = new Option<int>("--epochs") { Description = "SASRec's maximum epochs (early stopping on validation NDCG@10)", HelpName = "N", DefaultValueFactory = _ => 40 };
        var noSasRec = new Option<bool>("--no-sasrec") { Description = "Train item2vec only" };
        var fp32 = new Option<bool>("--fp32") { Description = "Ship SASRec in fp32 (default int8, ≈ 4× smaller)" };
        var seed = new Option<int>("--seed") { Description = "Seed of weights and shuffling", HelpName = "N", DefaultValueFactory = _ => 1 };
        var hub = new HubConnectionOptions();
        var command = new Command("build", "Train a recommender bundle on the hub's product sequences (GET /api/recommenders/sequences)")
        {
            output, version, catalogue, text, epochs, noSasRec, fp32, seed,
        };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            var v = r.GetValue(version)!.Trim();
            if (RecommenderBundle.CheckVersion(v) is { } problem)
            {
                throw new CliException($"--version: {problem}", ExitCodes.Usage);
            }

            var maxEpochs = r.GetValue(epochs);
            if (maxEpochs < 1)
            {
                throw new CliException("--epochs must be at least 1", ExitCodes.Usage);
            }

            var kind = r.GetValue(text)!.Trim().ToLowerInvariant();
            if (kind is not ("hashed" or "minilm" or "none"))
            {
                throw new CliException($"--text: '{kind}' is not one of hashed, minilm, none", ExitCodes.Usage);
            }

            var products = new Dictionary<string, string?>(StringComparer.Ordinal);
            var sequences = new List<IReadOnlyList<string>>();
            using (var client = hub.CreateClient(r))
            {
                using var doc = JsonDocument.Parse(await client.RecommendationSequencesAsync(ct).ConfigureAwait(false));
                foreach (var p in doc.RootElement.GetProperty("products").EnumerateArray())
                {
                    products[p.GetProperty("sku").GetString()!] = p.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
                }

                foreach (var s in doc.RootElement.GetProperty("sequences").EnumerateArray())
                {
                    sequences.Add([.. s.EnumerateArray().Select(x => x.GetString()!)]);
                }
            }

            if (r.GetValue(catalogue) is { } file)
            {
                ReadCatalogue(file, products);
            }

            var embedder = kind == "none" ? null : TextEmbedderFactory.Create(kind);
            var options = new RecommenderBuildOptions
            {
                Version = v,
                TrainSasRec = !r.GetValue(noSasRec),
                Quantize = !r.GetValue(fp32),
                SasRec = new RecommenderBuildOptions { Version = v }.SasRec with { MaxEpochs = maxEpochs, Seed = r.GetValue(seed) },
                Item2Vec = new Semantic.Item2Vec.Item2VecOptions { Seed = r.GetValue(seed) },
            };
            string hubUrl;
            using (var client = hub.CreateClient(r))
            {
                hubUrl = client.BaseUrl.ToString();
            }

            var source = $"{sequences.Count} sequences from the hub at {hubUrl}" + (r.GetValue(catalogue) is { } c ? $", catalogue {c.Name}" : "");
            var bundle = await Task.Run(() => RecommenderBuilder.Build(new RecommenderTrainingData(sequences, products, source), options, embedder,
                line => Console.Out.WriteLine(line)), ct).ConfigureAwait(false);
            (embedder as IDisposable)?.Dispose();
            var bytes = bundle.ToBytes();
            var path = r.GetValue(output)!;
            await File.WriteAllBytesAsync(path.FullName, bytes, ct).ConfigureAwait(false);
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"wrote recommender {bundle.Version} to {path.FullName} ({bytes.Length / 1024.0:F0} KiB, {bundle.Items.Count} products, {bundle.Items.Count - bundle.VocabularySize} cold; sha256 {RecommenderBundle.Sha256(bytes)[..12]}…)")).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Publish()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "A bundle written by `recommenders build`" };
        var description = new Option<string?>("--description") { Description = "What changed, for operators", HelpName = "TEXT" };
        var registerOnly = new Option<bool>("--register-only") { Description = "Register without making it live" };
        var hub = new HubConnectionOptions();
        var command = new Command("publish", "Register the bundle at the hub and make it live on every store") { file, description, registerOnly };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            var path = r.GetValue(file)!;
            if (!path.Exists)
            {
                throw new CliException($"FILE: '{path.FullName}' does not exist", ExitCodes.Usage);
            }

            var bytes = await File.ReadAllBytesAsync(path.FullName, ct).ConfigureAwait(false);
            try
            {
                _ = RecommenderBundle.FromBytes(bytes);
            }
            catch (InvalidDataException ex)
            {
                throw new CliException($"{path.Name}: {ex.Message}");
            }

            using var client = hub.CreateClient(r);
            var publish = !r.GetValue(registerOnly);
            using var doc = JsonDocument.Parse(await client.RegisterRecommenderAsync(bytes, r.GetValue(description), publish, ct).ConfigureAwait(false));
            var version = doc.RootElement.GetProperty("version").GetString();
            await Console.Out.WriteLineAsync(publish
                ? $"Published recommender {version}; stores load it as it arrives"
                : $"Registered recommender {version} (not live: `recommenders publish` without --register-only, or POST /api/recommenders/{version}/publish)").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON" };
        var hub = new HubConnectionOptions();
        var command = new Command("list", "The live recommender and every registered one") { json };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            using var client = hub.CreateClient(r);
            var body = await client.GetRecommendersAsync(ct).ConfigureAwait(false);
            if (r.GetValue(json))
            {
                await Console.Out.WriteLineAsync(HubRestClient.Indent(body)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            using var doc = JsonDocument.Parse(body);
            foreach (var b in doc.RootElement.GetProperty("bundles").EnumerateArray())
            {
                await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{(b.GetProperty("live").GetBoolean() ? "*" : " ")} {b.GetProperty("version").GetString(),-24} {b.GetProperty("size").GetInt64() / 1024.0,8:F0} KiB  {b.GetProperty("createdAt").GetDateTimeOffset().UtcDateTime:yyyy-MM-dd HH:mm}Z  {b.GetProperty("description").GetString()}")).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Rollback()
    {
        var hub = new HubConnectionOptions();
        var command = new Command("rollback", "Make the previously published recommender live again");
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            using var client = hub.CreateClient(r);
            using var doc = JsonDocument.Parse(await client.RollbackRecommenderAsync(ct).ConfigureAwait(false));
            await Console.Out.WriteLineAsync($"Recommender {doc.RootElement.GetProperty("version").GetString()} is live again").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Recommend()
    {
        var key = new Argument<string>("KEY") { Description = "Any key of the customer, e.g. loyalty:L-1001" };
        var k = new Option<int>("--k") { Description = "How many", HelpName = "N", DefaultValueFactory = _ => 10 };
        var lang = new Option<string?>("--lang") { Description = "Reasons in en or zh-CN", HelpName = "LANG" };
        var json = new Option<bool>("--json") { Description = "Print the hub's JSON" };
        var hub = new HubConnectionOptions();
        var command = new Command("recommend", "Next products for a customer across stores, each with its reason") { key, k, lang, json };
        hub.AddTo(command);
        command.SetGuardedAction(async (r, ct) =>
        {
            using var client = hub.CreateClient(r);
            var body = await client.RecommendationsAsync(r.GetValue(key)!, r.GetValue(k), r.GetValue(lang), ct).ConfigureAwait(false)
                ?? throw new CliException($"no recommendations for {r.GetValue(key)}: unknown customer, or no recommender is published");
            if (r.GetValue(json))
            {
                await Console.Out.WriteLineAsync(HubRestClient.Indent(body)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            using var doc = JsonDocument.Parse(body);
            foreach (var x in doc.RootElement.GetProperty("recommendations").EnumerateArray())
            {
                await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{x.GetProperty("rank").GetInt32(),3}. {x.GetProperty("sku").GetString()} {x.GetProperty("name").GetString()} [{x.GetProperty("source").GetString()}] — {x.GetProperty("reason").GetString()}")).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static void ReadCatalogue(FileInfo file, Dictionary<string, string?> products)
    {
        if (!file.Exists)
        {
            throw new CliException($"--catalogue: '{file.FullName}' does not exist", ExitCodes.Usage);
        }

        var lineNumber = 0;
        foreach (var line in File.ReadLines(file.FullName))
        {
            lineNumber++;
            if (lineNumber == 1 || string.IsNullOrWhiteSpace(line))
            {
                continue; // header
            }

            var fields = CsvLine.Split(line);
            if (fields.Length < 2 || string.IsNullOrWhiteSpace(fields[0]))
            {
                throw new CliException($"--catalogue {file.Name}:{lineNumber}: expected sku,name");
            }

            products[fields[0].Trim()] = string.IsNullOrWhiteSpace(fields[1]) ? products.GetValueOrDefault(fields[0].Trim()) : fields[1].Trim();
        }
    }
}
