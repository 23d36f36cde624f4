using EdgeProfile.Knowledge.Graph;

namespace EdgeProfile.Knowledge.Tests.Graph;

/// <summary>Locates the shared data sets and makes temporary folders for SQLite files.</summary>
internal static class GraphTestData
{
    private static readonly Lazy<string> Dir = new(FindDataDir);

    /// <summary>The <c>shared/data</c> folder: EDGEPROFILE_DATA_DIR, else the first ancestor of the test binaries holding <c>shared/data/google-taxonomy</c>.</summary>
    public static string DataDir => Dir.Value;

    public static string TaxonomyFile => Path.Combine(DataDir, "google-taxonomy", "taxonomy-with-ids.en-US.txt");

    public static string CompleteJourneyProducts => Path.Combine(DataDir, "completejourney", "products.csv");

    private static string FindDataDir()
    {
        var env = Environment.GetEnvironmentVariable("EDGEPROFILE_DATA_DIR");
        if (!string.IsNullOrEmpty(env))
        {
            foreach (var candidate in new[] { env, Path.Combine(env, "data"), Path.Combine(env, "shared", "data") })
            {
                if (Directory.Exists(Path.Combine(candidate, "google-taxonomy")))
                {
                    return candidate;
                }
            }
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(Path.Combine(candidate, "google-taxonomy")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("No shared/data/google-taxonomy above " + AppContext.BaseDirectory + " and EDGEPROFILE_DATA_DIR is not set.");
    }

    /// <summary>The category lines of the taxonomy file, parsed independently of the importer: (id, path).</summary>
    public static IReadOnlyList<(long Id, string Path)> TaxonomyLines() =>
        [.. File.ReadLines(TaxonomyFile)
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l =>
            {
                var dash = l.IndexOf(" - ", StringComparison.Ordinal);
                return (long.Parse(l[..dash], System.Globalization.CultureInfo.InvariantCulture), l[(dash + 3)..]);
            })];

    public static int DepthOf(string path) => path.Split(" > ").Length;
}

/// <summary>A temporary folder, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ep-graph-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The whole Google taxonomy imported once into a SQLite file, shared by the taxonomy and query tests.</summary>
public sealed class TaxonomyFixture : IDisposable
{
    private readonly TempDir _dir = new();

    public TaxonomyFixture()
    {
        Store = TripleStore.Open(_dir.File("taxonomy.db"));
        Result = TaxonomyImporter.Import(Store, GraphTestData.TaxonomyFile);
    }

    public TripleStore Store { get; }

    public TaxonomyImportResult Result { get; }

    public void Dispose()
    {
        Store.Dispose();
        _dir.Dispose();
    }
}
