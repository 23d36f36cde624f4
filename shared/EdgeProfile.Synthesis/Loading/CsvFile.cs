using System.IO.Compression;
using System.Text;
using nietras.SeparatedValues;

namespace EdgeProfile.Synthesis.Loading;

/// <summary>A Sep reader over a plain or gzip (<c>.gz</c>) CSV with a header, unescaping quoted fields.</summary>
internal sealed class CsvFile : IDisposable
{
    private readonly FileStream file;
    private readonly TextReader text;

    public CsvFile(string path, char separator)
    {
        Path = path;
        Name = System.IO.Path.GetFileName(path);
        file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        text = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        try
        {
            Reader = Sep.New(separator).Reader(o => o with { Unescape = true, DisableColCountCheck = true }).From(text);
        }
        catch
        {
            text.Dispose();
            throw;
        }

        if (Reader.Header.ColNames.Count == 0 || (Reader.Header.ColNames.Count == 1 && Reader.Header.ColNames[0].Length == 0))
        {
            Dispose();
            throw new SynthesisException($"{Name} is empty: a header line with column names is needed");
        }
    }

    public string Path { get; }

    public string Name { get; }

    public SepReader Reader { get; }

    /// <summary>Share of the (compressed) file read so far, 0-1.</summary>
    public double Fraction => file.Length == 0 ? 1 : Math.Min(1, (double)file.Position / file.Length);

    /// <summary>The index of <paramref name="column"/> (exact, else case-insensitive); the error names the mapping key.</summary>
    public int Column(string key, string column)
    {
        if (Reader.Header.TryIndexOf(column, out var i))
        {
            return i;
        }

        var names = Reader.Header.ColNames;
        for (var j = 0; j < names.Count; j++)
        {
            if (string.Equals(names[j].Trim(), column, StringComparison.OrdinalIgnoreCase))
            {
                return j;
            }
        }

        throw new SynthesisException($"mapping key '{key}': column '{column}' is not in {Name} (its columns: {string.Join(", ", names)})", isConfiguration: true);
    }

    public void Dispose()
    {
        Reader.Dispose();
        text.Dispose();
        file.Dispose();
    }
}
