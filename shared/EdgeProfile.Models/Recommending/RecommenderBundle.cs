using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using EdgeProfile.Semantic.Text;

namespace EdgeProfile.Models.Recommending;

/// <summary>
/// Everything an edge or the hub needs to recommend products, as one immutable, versioned file (a zip):
/// <c>manifest.json</c> (version, item vocabulary with names and interaction counts, metrics), <c>sasrec.onnx</c> (the
/// next-item model, usually int8), <c>item2vec.bin</c> (skip-gram product vectors) and <c>text.bin</c> (sentence
/// embeddings of product names, keyed by SKU — how products without interactions become recommendable). Items
/// <c>1..VocabularySize</c> of <see cref="Items"/> are the sequence models' vocabulary (item id = index + 1); items after
/// them are cold products known from the catalogue only.
/// </summary>
public sealed partial class RecommenderBundle
{
    /// <summary>The bundle format this code writes and reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>Largest bundle accepted (bytes).</summary>
    public const long MaxBytes = 512L << 20;

    private const string ManifestEntry = "manifest.json", SasRecEntry = "sasrec.onnx", Item2VecEntry = "item2vec.bin", TextEntry = "text.bin";

    /// <summary>The version operators publish and roll back (1–64 of letters, digits, '.', '_', '-').</summary>
    public required string Version { get; init; }

    /// <summary>When it was built.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>Every product known: the sequence vocabulary first, then cold products.</summary>
    public required IReadOnlyList<BundleItem> Items { get; init; }

    /// <summary>How many of <see cref="Items"/> (from the start) the sequence models know.</summary>
    public required int VocabularySize { get; init; }

    /// <summary>The SASRec model (ONNX, fp32 or int8), if trained.</summary>
    public byte[]? SasRecOnnx { get; init; }

    /// <summary>The item2vec vectors (<see cref="Semantic.Item2Vec.ItemVectors"/>'s file), if trained.</summary>
    public byte[]? Item2Vec { get; init; }

    /// <summary>Text embeddings of the products' names, keyed by SKU, if computed.</summary>
    public EmbeddingTable? TextVectors { get; init; }

    /// <summary>Offline metrics measured when it was built (e.g. <c>sasrec.hr10</c>).</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    /// <summary>What the bundle was trained from, in words (for operators).</summary>
    public string Source { get; init; } = "";

    /// <summary>Checks a version string; null when valid, else why not.</summary>
    public static string? CheckVersion(string? version) =>
        version is not null && VersionPattern().IsMatch(version)
            ? null
            : $"version '{version}' must be 1-64 characters of letters, digits, '.', '_' or '-'";

    /// <summary>Writes the bundle as a zip.</summary>
    public byte[] ToBytes()
    {
        Validate();
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            var manifest = new Manifest
            {
                Format = FormatVersion,
                Version = Version,
                CreatedAtUnixMs = CreatedAt.ToUnixTimeMilliseconds(),
                VocabularySize = VocabularySize,
                Items = [.. Items.Select(i => new ManifestItem { Sku = i.Sku, Name = i.Name, Interactions = i.Interactions })],
                Metrics = Metrics.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
                Source = Source,
                HasSasRec = SasRecOnnx is not null,
                HasItem2Vec = Item2Vec is not null,
                TextEmbedder = TextVectors?.Name,
                Entries = new Dictionary<string, string>(StringComparer.Ordinal),
            };
            var entries = new List<(string Name, byte[] Bytes)>();
            if (SasRecOnnx is not null)
            {
                entries.Add((SasRecEntry, SasRecOnnx));
            }

            if (Item2Vec is not null)
            {
                entries.Add((Item2VecEntry, Item2Vec));
            }

            if (TextVectors is not null)
            {
                using var text = new MemoryStream();
                TextVectors.Save(text);
                entries.Add((TextEntry, text.ToArray()));
            }

            // Each file's SHA-256 in the manifest: a damaged bundle is refused before anything inside is parsed.
            foreach (var (name, bytes) in entries)
            {
                manifest.Entries[name] = Sha256(bytes);
            }

            Write(zip, ManifestEntry, JsonSerializer.SerializeToUtf8Bytes(manifest, BundleJson.Default.Manifest));
            foreach (var (name, bytes) in entries)
            {
                Write(zip, name, bytes);
            }
        }

        return memory.ToArray();
    }

    /// <summary>Reads a bundle; anything malformed fails with an <see cref="InvalidDataException"/> saying what.</summary>
    public static RecommenderBundle FromBytes(byte[] content)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (content.LongLength > MaxBytes)
        {
            throw new InvalidDataException($"recommender bundle: {content.LongLength} bytes, more than the {MaxBytes} accepted");
        }

        try
        {
            using var zip = new ZipArchive(new MemoryStream(content, writable: false), ZipArchiveMode.Read);
            var manifestBytes = Read(zip, ManifestEntry) ?? throw new InvalidDataException($"recommender bundle: no {ManifestEntry}");
            var manifest = JsonSerializer.Deserialize(manifestBytes, BundleJson.Default.Manifest)
                ?? throw new InvalidDataException($"recommender bundle: empty {ManifestEntry}");
            if (manifest.Format != FormatVersion)
            {
                throw new InvalidDataException($"recommender bundle: format {manifest.Format}, this build reads {FormatVersion}");
            }

            var sasrec = Read(zip, SasRecEntry);
            var item2vec = Read(zip, Item2VecEntry);
            var textBytes = Read(zip, TextEntry);
            if (manifest.HasSasRec != (sasrec is not null) || manifest.HasItem2Vec != (item2vec is not null) || (manifest.TextEmbedder is not null) != (textBytes is not null))
            {
                throw new InvalidDataException("recommender bundle: the manifest and the files present disagree (a damaged bundle?)");
            }

            foreach (var (name, bytes) in new[] { (SasRecEntry, sasrec), (Item2VecEntry, item2vec), (TextEntry, textBytes) })
            {
                if (bytes is not null && (manifest.Entries is null || !manifest.Entries.TryGetValue(name, out var expected) || expected != Sha256(bytes)))
                {
                    throw new InvalidDataException($"recommender bundle: {name} does not match the SHA-256 in the manifest (a damaged bundle)");
                }
            }

            EmbeddingTable? text = null;
            if (textBytes is not null)
            {
                using var stream = new MemoryStream(textBytes, writable: false);
                text = EmbeddingTable.Load(stream);
            }

            var bundle = new RecommenderBundle
            {
                Version = manifest.Version ?? "",
                CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(manifest.CreatedAtUnixMs),
                VocabularySize = manifest.VocabularySize,
                Items = [.. (manifest.Items ?? []).Select(i => new BundleItem(i.Sku ?? "", i.Name, i.Interactions))],
                Metrics = manifest.Metrics ?? new Dictionary<string, double>(StringComparer.Ordinal),
                Source = manifest.Source ?? "",
                SasRecOnnx = sasrec,
                Item2Vec = item2vec,
                TextVectors = text,
            };
            bundle.Validate();
            return bundle;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or NotSupportedException or IOException
            || (ex is InvalidDataException && !ex.Message.StartsWith("recommender bundle", StringComparison.Ordinal)))
        {
            throw new InvalidDataException($"recommender bundle: not a readable bundle ({ex.Message})", ex);
        }
    }

    /// <summary>The SHA-256 of the file, lower-case hex.</summary>
    public static string Sha256(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>Checks the bundle's own consistency (not the models inside; <see cref="Recommender"/> loads those).</summary>
    public void Validate()
    {
        if (CheckVersion(Version) is { } problem)
        {
            throw new InvalidDataException($"recommender bundle: {problem}");
        }

        if (Items is null || Items.Count == 0)
        {
            throw new InvalidDataException("recommender bundle: no items");
        }

        if (VocabularySize < 0 || VocabularySize > Items.Count)
        {
            throw new InvalidDataException($"recommender bundle: vocabulary size {VocabularySize} outside 0..{Items.Count}");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in Items)
        {
            if (string.IsNullOrEmpty(item.Sku) || item.Sku.Length > 512 || !seen.Add(item.Sku))
            {
                throw new InvalidDataException($"recommender bundle: item sku '{item.Sku}' is empty, too long or repeated");
            }

            if (item.Interactions < 0)
            {
                throw new InvalidDataException($"recommender bundle: item {item.Sku} has a negative interaction count");
            }
        }

        if (SasRecOnnx is null && Item2Vec is null && TextVectors is null && Items.All(i => i.Interactions == 0))
        {
            throw new InvalidDataException("recommender bundle: nothing to rank with (no model, no vectors, no interaction counts)");
        }
    }

    private static void Write(ZipArchive zip, string name, byte[] bytes)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.Fastest);
        using var stream = entry.Open();
        stream.Write(bytes);
    }

    private static byte[]? Read(ZipArchive zip, string name)
    {
        var entry = zip.GetEntry(name);
        if (entry is null)
        {
            return null;
        }

        if (entry.Length > MaxBytes)
        {
            throw new InvalidDataException($"recommender bundle: {name} is {entry.Length} bytes uncompressed, more than {MaxBytes}");
        }

        using var stream = entry.Open();
        using var copy = new MemoryStream((int)entry.Length);
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex VersionPattern();

    internal sealed class Manifest
    {
        public int Format { get; set; }

        public string? Version { get; set; }

        public long CreatedAtUnixMs { get; set; }

        public int VocabularySize { get; set; }

        public List<ManifestItem>? Items { get; set; }

        public Dictionary<string, double>? Metrics { get; set; }

        public string? Source { get; set; }

        public bool HasSasRec { get; set; }

        public bool HasItem2Vec { get; set; }

        public string? TextEmbedder { get; set; }

        public Dictionary<string, string>? Entries { get; set; }
    }

    internal sealed class ManifestItem
    {
        public string? Sku { get; set; }

        public string? Name { get; set; }

        public long Interactions { get; set; }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RecommenderBundle.Manifest))]
internal sealed partial class BundleJson : JsonSerializerContext;
