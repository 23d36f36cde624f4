using System.Security.Cryptography;
using System.Text;
using EdgeProfile.Semantic.Text;

namespace EdgeProfile.Bench.Fusion;

/// <summary>
/// The products (StockCodes, ordinal order) with one description each: the most frequent description of the product's
/// lines before the cutoff (ties: ordinal first), or, for a product first sold after the cutoff, of all its lines (used
/// only to put post-cutoff purchases into categories, never as an input).
/// </summary>
internal sealed class Catalogue
{
    private readonly Dictionary<string, int> index;

    private Catalogue(string[] codes, string[] descriptions, bool[] soldBefore)
    {
        Codes = codes;
        Descriptions = descriptions;
        SoldBefore = soldBefore;
        index = codes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
    }

    /// <summary>StockCodes, ordinal order.</summary>
    public IReadOnlyList<string> Codes { get; }

    /// <summary>Description of each product.</summary>
    public IReadOnlyList<string> Descriptions { get; }

    /// <summary>Whether the product has a line before the cutoff.</summary>
    public IReadOnlyList<bool> SoldBefore { get; }

    /// <summary>Number of products.</summary>
    public int Count => Codes.Count;

    /// <summary>Index of <paramref name="code"/>.</summary>
    public int IndexOf(string code) => index[code];

    /// <summary>The catalogue of every product in <paramref name="lines"/>.</summary>
    public static Catalogue Build(IReadOnlyList<RetailLine> lines, DateTime cutoff)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var before = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        var all = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            Count(all, line);
            if (line.At < cutoff)
            {
                Count(before, line);
            }
        }
        var codes = all.Keys.Order(StringComparer.Ordinal).ToArray();
        var descriptions = codes.Select(c => Mode(before.GetValueOrDefault(c) ?? all[c])).ToArray();
        return new Catalogue(codes, descriptions, [.. codes.Select(before.ContainsKey)]);

        static void Count(Dictionary<string, Dictionary<string, int>> counts, RetailLine line)
        {
            if (!counts.TryGetValue(line.StockCode, out var byText))
            {
                counts[line.StockCode] = byText = new Dictionary<string, int>(StringComparer.Ordinal);
            }
            byText[line.Description] = byText.GetValueOrDefault(line.Description) + 1;
        }

        static string Mode(Dictionary<string, int> byText) =>
            byText.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).First().Key;
    }

    /// <summary>
    /// The embedding of every product's description with <paramref name="embedder"/>: the distinct descriptions are
    /// embedded once and cached in <paramref name="cacheDirectory"/> (a file named by the embedder and a SHA-256 of the
    /// descriptions), so a second run reads them back.
    /// </summary>
    public float[][] Embed(ITextEmbedder embedder, string cacheDirectory, out bool fromCache)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentNullException.ThrowIfNull(cacheDirectory);
        var distinct = Descriptions.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(embedder.Name + "\n" + string.Join('\n', distinct))))[..16];
        var path = Path.Combine(cacheDirectory, $"bench-fusion-{embedder.Name}-{embedder.Dimensions}-{hash}.bin");
        float[][]? vectors = null;
        fromCache = false;
        if (File.Exists(path))
        {
            vectors = ReadCache(path, distinct.Length, embedder.Dimensions);
            fromCache = vectors is not null;
        }
        if (vectors is null)
        {
            vectors = embedder.Embed(distinct);
            WriteCache(path, vectors);
        }
        var byText = distinct.Select((d, i) => (d, i)).ToDictionary(p => p.d, p => vectors[p.i], StringComparer.Ordinal);
        return [.. Descriptions.Select(d => byText[d])];
    }

    private static float[][]? ReadCache(string path, int rows, int dimensions)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        if (stream.Length != 8 + ((long)rows * dimensions * 4) || reader.ReadInt32() != rows || reader.ReadInt32() != dimensions)
        {
            return null;
        }
        var result = new float[rows][];
        for (var r = 0; r < rows; r++)
        {
            result[r] = new float[dimensions];
            for (var j = 0; j < dimensions; j++)
            {
                result[r][j] = reader.ReadSingle();
            }
        }
        return result;
    }

    private static void WriteCache(string path, float[][] vectors)
    {
        var temporary = path + "." + Environment.ProcessId + ".tmp";
        using (var stream = File.Create(temporary))
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(vectors.Length);
            writer.Write(vectors.Length == 0 ? 0 : vectors[0].Length);
            foreach (var v in vectors)
            {
                foreach (var x in v)
                {
                    writer.Write(x);
                }
            }
        }
        File.Move(temporary, path, overwrite: true);
    }
}
